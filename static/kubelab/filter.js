// Which pods the page shows (the namespace filter) and which it highlights (the selector box).
// Pure: no DOM here. The server parses selector text (with Kubernetes' own errors); the page
// matches the requirements it answers with, as `labels.Requirement.Matches` does.

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

// strconv.ParseInt(s, 10, 64): an optional sign and decimal digits, within int64; else null.
export function parseInt64(text) {
  if (typeof text !== "string" || !/^[+-]?\d+$/.test(text)) return null;
  const n = BigInt(text);
  return n < INT64_MIN || n > INT64_MAX ? null : n;
}

// One requirement -> a predicate over a labels object.
function requirement({ key, operator, values }) {
  const set = new Set(values || []);
  const has = (labels) => Object.prototype.hasOwnProperty.call(labels, key);
  switch (operator) {
    case "in":
    case "=":
    case "==":
      return (labels) => has(labels) && set.has(labels[key]);
    // `!=` and `notin` also match objects without the key, as in Kubernetes.
    case "notin":
    case "!=":
      return (labels) => !has(labels) || !set.has(labels[key]);
    case "exists":
      return has;
    case "!":
      return (labels) => !has(labels);
    case "gt":
    case "lt": {
      const bound = values?.length === 1 ? parseInt64(values[0]) : null;
      if (bound === null) return () => false;
      return (labels) => {
        if (!has(labels)) return false;
        const value = parseInt64(labels[key]);
        if (value === null) return false;
        return operator === "gt" ? value > bound : value < bound;
      };
    }
    default:
      return () => false; // an operator this page does not know selects nothing, loudly below
  }
}

// Requirements (as the server's /selector answers them) -> one predicate; all are ANDed and
// an empty list matches everything.
export function compileSelector(requirements) {
  const known = new Set(["in", "notin", "=", "==", "!=", "exists", "!", "gt", "lt"]);
  for (const r of requirements) {
    if (!known.has(r.operator)) console.warn(`kubelab: unknown selector operator ${r.operator}`);
  }
  const tests = requirements.map(requirement);
  return (labels) => {
    const ls = labels || {};
    for (const test of tests) if (!test(ls)) return false;
    return true;
  };
}

export class PodFilter {
  constructor() {
    this.namespace = ""; // "" shows every namespace
    this.predicate = null; // null: the selector box is empty (or invalid), nothing highlighted
    this.text = "";
  }

  get selecting() {
    return this.predicate !== null;
  }

  shows(namespace) {
    return !this.namespace || namespace === this.namespace;
  }

  matches(labels) {
    return this.predicate !== null && this.predicate(labels || {});
  }

  // What a chip shows: matching pods in the namespaces shown (a hidden chip is never lit).
  highlights(namespace, labels) {
    return this.shows(namespace) && this.matches(labels);
  }

  // {shown, matched} over every pod the board holds.
  count(pods) {
    let shown = 0;
    let matched = 0;
    for (const pod of pods) {
      if (!this.shows(pod.metadata?.namespace || "")) continue;
      shown += 1;
      if (this.matches(pod.metadata?.labels)) matched += 1;
    }
    return { shown, matched };
  }
}
