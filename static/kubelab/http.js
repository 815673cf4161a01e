// HTTP to the server: form posts carry Django's CSRF token; the Kubernetes-style API is
// csrf-exempt and answers objects or a metav1.Status.

export function csrfToken() {
  const cookie = document.cookie.split(";").map((c) => c.trim())
    .find((c) => c.startsWith("csrftoken="));
  if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
}

export class RequestError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

async function readBody(response) {
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }
  return null;
}

// The sentence to show for a failed request: a Status message if the server sent one.
function failure(response, body) {
  const message = body?.message || (response.status === 404 ? "not found"
    : response.status === 403 ? "forbidden (is the page stale? reload it)"
      : response.statusText || "request failed");
  return new RequestError(`${response.status}: ${message}`, response.status, body);
}

async function send(url, init) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", ...init });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new RequestError(`the server did not answer (${err.message})`, 0, null);
  }
  const body = await readBody(response);
  return { response, body };
}

export async function postForm(url, data) {
  const form = data instanceof FormData ? data : new FormData();
  if (!(data instanceof FormData)) {
    for (const [k, v] of Object.entries(data || {})) form.append(k, v);
  }
  return send(url, { method: "POST", body: form, headers: { "X-CSRFToken": csrfToken() } });
}

export async function mergePatch(url, patch) {
  const { response, body } = await send(url, {
    method: "PATCH",
    headers: { "Content-Type": "application/merge-patch+json", Accept: "application/json" },
    body: JSON.stringify(patch),
  });
  if (!response.ok) throw failure(response, body);
  return body;
}

export async function deleteObject(url) {
  const { response, body } = await send(url, {
    method: "DELETE",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: "{}",
  });
  if (!response.ok) throw failure(response, body);
  return body;
}

export async function getJSON(url, signal) {
  const { response, body } = await send(url, { headers: { Accept: "application/json" }, signal });
  if (!response.ok) throw failure(response, body);
  return body;
}

// Plain text (a container's log); a refusal is a Status whose message is thrown.
export async function getText(url, signal) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new RequestError(`the server did not answer (${err.message})`, 0, null);
  }
  if (response.ok) return response.text();
  throw failure(response, await readBody(response));
}

export async function postJSON(url, body) {
  const { response, body: answer } = await send(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw failure(response, answer);
  return answer;
}

export { failure };
