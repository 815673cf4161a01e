// The page's choices in its address, so a reload (or a shared link) keeps them:
// ?ns=<namespace>&l=<selector>&key=<label key>#<view>.

const PARAMS = ["ns", "l", "key"];

export function readState() {
  const params = new URLSearchParams(location.search);
  const state = { view: location.hash.slice(1) };
  for (const name of PARAMS) state[name] = params.get(name) || "";
  return state;
}

// Merge `changes` ({ns?, l?, key?, view?}) into the address; empty values are left out.
export function writeState(changes) {
  const state = { ...readState(), ...changes };
  const params = new URLSearchParams();
  for (const name of PARAMS) if (state[name]) params.set(name, state[name]);
  const query = params.toString();
  const url = `${location.pathname}${query ? `?${query}` : ""}${state.view ? `#${state.view}` : ""}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) {
    history.replaceState(null, "", url);
  }
}
