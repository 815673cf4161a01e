// A lesson beside its board: one-click manifests, copy buttons, and steps that tick off as the
// server's checks see them done. The server decides (GET progress runs the checks); this asks
// again whenever the board's live store hears of a change, and every few seconds besides.

import { appliedReport, errorReport } from "./apply.js";
import { postForm } from "./http.js";
import { dialogConfirm } from "./nodeactions.js";

const panel = document.getElementById("lesson-panel");
const progressUrl = panel.dataset.progressUrl;
const applyUrl = panel.dataset.applyUrl;
// The page's own words in the learner's language (lessons/words.py), keyed by their English.
const words = JSON.parse(document.getElementById("lesson-words").textContent);
const say = (text, values = {}) =>
  (words[text] || text).replace(/\{(\w+)\}/g, (_, name) => values[name] ?? `{${name}}`);
const FALLBACK_MS = 4000;
const SETTLE_MS = 250;

function renderProgress(state) {
  if (!state?.steps) return;
  for (const step of state.steps) {
    const li = panel.querySelector(`[data-step="${CSS.escape(step.id)}"]`);
    if (!li) continue;
    const wasDone = li.classList.contains("is-done");
    li.classList.toggle("is-done", step.done);
    li.classList.toggle("is-current", step.current);
    if (step.current) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
    li.querySelector(".step-state").textContent =
      say(step.done ? "done: " : step.current ? "current: " : "to do: ");
    if (step.done && !wasDone) {
      li.classList.add("just-done");
      setTimeout(() => li.classList.remove("just-done"), 1500);
    }
  }
  // Once the learner is under way the explanation folds away, leaving room for the steps.
  const explanation = panel.querySelector(".lesson-explanation");
  if (state.done > 0 && Number(document.getElementById("lesson-meter").value) === 0) {
    explanation.open = false;
  }
  document.getElementById("lesson-meter").value = state.done;
  document.getElementById("lesson-count").textContent =
    say("{done} of {total}", { done: state.done, total: state.total });
  document.getElementById("lesson-finished").hidden = !state.finished;
}

let inFlight = false;
let again = false;
async function refresh() {
  if (inFlight) { again = true; return; }
  inFlight = true;
  try {
    const response = await fetch(progressUrl, { credentials: "same-origin",
      headers: { Accept: "application/json" } });
    if (response.ok) renderProgress(await response.json());
  } catch {
    // The board shows the connection state; the next change or the fallback asks again.
  } finally {
    inFlight = false;
    if (again) { again = false; setTimeout(refresh, SETTLE_MS); }
  }
}

let settle = 0;
document.addEventListener("kubelab:changed", () => {
  clearTimeout(settle);
  settle = setTimeout(refresh, SETTLE_MS);
});
setInterval(refresh, FALLBACK_MS);

async function applyManifest(id, button) {
  const text = document.getElementById(`manifest-${id}`).textContent;
  // The outcome shows beside the button pressed (a step's, a manifest's or a fix's).
  const where = `[data-outcome="${CSS.escape(id)}"]`;
  const outcome = button.parentElement.closest("li, .mistake-explained")?.querySelector(where)
    || panel.querySelector(where);
  const explain = panel.querySelector(`[data-explain="${CSS.escape(id)}"]`);
  button.disabled = true;
  try {
    const { response, body } = await postForm(applyUrl, { manifest: text, namespace: "default" });
    if (body?.ok) outcome.replaceChildren(...appliedReport(body.applied || []));
    else if (body?.errors) outcome.replaceChildren(...errorReport(body.errors, response.status));
    else outcome.textContent = `the server answered ${response.status}`;
    if (explain) explain.hidden = Boolean(body?.ok);
  } catch (err) {
    outcome.textContent = err.message;
  } finally {
    button.disabled = false;
  }
  refresh();
}

panel.addEventListener("click", async (event) => {
  const apply = event.target.closest("[data-apply]");
  if (apply) {
    applyManifest(apply.dataset.apply, apply);
    return;
  }
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const text = document.getElementById(copy.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
      copy.textContent = "Copied";
    } catch {
      // No clipboard (an insecure origin): select the text so Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(document.getElementById(copy.dataset.copy));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      copy.textContent = "Selected";
    }
    setTimeout(() => { copy.textContent = "Copy"; }, 1500);
  }
});

const confirmReset = dialogConfirm(document.getElementById("confirm-dialog"));
const resetForm = document.getElementById("lesson-reset-form");
resetForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const yes = await confirmReset({ title: say("Reset the lesson?"), ok: say("Reset"),
    text: say("Everything in this lesson's cluster is deleted, its nodes come back fresh, and the steps start again.") });
  if (yes) resetForm.submit();
});
