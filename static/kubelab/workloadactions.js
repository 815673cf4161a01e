// What a learner can do to a controller from the Workloads tab, each what kubectl does:
// scale (`kubectl scale rc kubia --replicas=4`: a merge patch of spec.replicas) and delete
// (`kubectl delete rc kubia --cascade=background|foreground|orphan`). Both go through the
// board's CSRF-protected form posts; a refusal throws with the API server's own message. The
// outcome shows when the change arrives on the websocket.

import { postForm } from "./http.js";
import { qualifiedKind, resourceOf, shortKind } from "./workloads.js";

function workloadUrl(apiBase, kind, namespace, name, action) {
  const enc = encodeURIComponent;
  return `${apiBase}/workloads/${resourceOf(kind)}/${enc(namespace)}/${enc(name)}/${action}`;
}

async function post(url, data) {
  const { response, body } = await postForm(url, data);
  if (!response.ok) {
    const message = body?.message
      || (response.status === 403 ? "forbidden (is the page stale? reload it)" : `${response.status} ${response.statusText}`);
    throw new Error(message);
  }
  return body;
}

// `kubectl delete rc kubia --cascade=orphan`, for the dialog and the menu hints.
export function deleteCommand(kind, name, cascade) {
  return `kubectl delete ${shortKind(kind)} ${name} --cascade=${cascade}`;
}

export function scaleCommand(kind, name, replicas) {
  return `kubectl scale ${shortKind(kind)} ${name} --replicas=${replicas}`;
}

// What a controller's deletion cascades to, in words for the dialog.
function dependents(kind) {
  if (kind === "CronJob") return "its jobs and their pods";
  return "its pods";
}

export class WorkloadActions {
  constructor({ apiBase, notify, dialog }) {
    this.apiBase = apiBase;
    this.notify = notify;
    this.dialog = dialog;
  }

  // Resolves to the server's answer; throws Error(<the API's message>) on a refusal.
  async scale(kind, namespace, name, replicas) {
    const answer = await post(workloadUrl(this.apiBase, kind, namespace, name, "scale"),
      { replicas: String(replicas) });
    this.notify(`${answer.message} to ${answer.replicas} replica${answer.replicas === 1 ? "" : "s"}`);
    return answer;
  }

  // Asks which cascade (background preselected, as kubectl's default), then deletes.
  async delete(kind, namespace, name) {
    const cascade = await this.askCascade(kind, namespace, name);
    if (!cascade) return null;
    try {
      const answer = await post(workloadUrl(this.apiBase, kind, namespace, name, "delete"), { cascade });
      this.notify(`${answer.message} (--cascade=${cascade})`);
      return answer;
    } catch (err) {
      this.notify(`Could not delete ${qualifiedKind(kind)} ${name}: ${err.message}`, "error");
      return null;
    }
  }

  askCascade(kind, namespace, name) {
    const dialog = this.dialog;
    const title = dialog.querySelector("#delete-title");
    const command = dialog.querySelector("#delete-cmd");
    const radios = [...dialog.querySelectorAll("input[name=cascade]")];
    const words = dependents(kind);
    title.textContent = `Delete ${qualifiedKind(kind)} ${name}${namespace && namespace !== "default" ? ` in ${namespace}` : ""}?`;
    dialog.querySelector("#delete-dependents").textContent = words;
    for (const span of dialog.querySelectorAll("[data-dependents]")) span.textContent = words;
    for (const radio of radios) radio.checked = radio.value === "background";
    const show = () => {
      const chosen = radios.find((r) => r.checked)?.value || "background";
      command.textContent = deleteCommand(kind, name, chosen);
    };
    show();
    const form = dialog.querySelector("form");
    form.addEventListener("change", show);
    return new Promise((resolve) => {
      dialog.returnValue = "";
      dialog.addEventListener("close", () => {
        form.removeEventListener("change", show);
        const chosen = radios.find((r) => r.checked)?.value || "background";
        resolve(dialog.returnValue === "ok" ? chosen : null);
      }, { once: true });
      dialog.showModal();
    });
  }
}
