// What the Services tab shows of a Service, its Endpoints and the Ingress rules that point at
// it, derived from the objects alone. Pure: no DOM here.

// "80:8080/TCP", with ",30080" style nodePort kept apart: what `kubectl get svc` prints in PORT(S)
// is "80:30080/TCP" for a NodePort; the card shows port -> targetPort and the nodePort as words.
export function portText(port) {
  const target = port.targetPort ?? port.port;
  return `${port.port}:${target}/${port.protocol || "TCP"}`;
}

export function selectorText(selector) {
  const entries = Object.entries(selector || {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(",") : "";
}

// Every address of an Endpoints object, ready first, with the pod it stands for.
export function endpointAddresses(endpoints) {
  const out = [];
  for (const subset of endpoints?.subsets || []) {
    const ports = (subset.ports || []).map((p) => p.port).join(",");
    for (const [list, ready] of [[subset.addresses, true], [subset.notReadyAddresses, false]]) {
      for (const a of list || []) {
        const ref = a.targetRef || {};
        out.push({ ip: a.ip, ready, ports, node: a.nodeName || "", pod: ref.kind === "Pod" ? ref.name : "",
          podUid: ref.kind === "Pod" ? ref.uid || "" : "", namespace: ref.namespace || "" });
      }
    }
  }
  out.sort((x, y) => Number(y.ready) - Number(x.ready) || (x.pod < y.pod ? -1 : x.pod > y.pod ? 1 : 0));
  return out;
}

// The backend of an ingress path, in networking.k8s.io/v1 form or the old extensions/v1beta1
// form (serviceName, servicePort) the seed writes: {service, port} or null.
function backendRef(backend) {
  if (!backend) return null;
  if (backend.service) {
    const p = backend.service.port || {};
    return { service: backend.service.name, port: p.number ?? p.name ?? "" };
  }
  if (backend.serviceName) return { service: backend.serviceName, port: backend.servicePort ?? "" };
  return null;
}

// Each rule of every Ingress in `namespace` that sends traffic to Service `name`:
// [{ingress, host, path, port}]; a default backend reads as host "*" path "(default)".
export function ingressRoutes(ingresses, namespace, name) {
  const routes = [];
  for (const ing of ingresses) {
    if ((ing.metadata?.namespace || "") !== namespace) continue;
    const ingName = ing.metadata?.name || "";
    const spec = ing.spec || {};
    const fallback = backendRef(spec.defaultBackend || spec.backend);
    if (fallback?.service === name) {
      routes.push({ ingress: ingName, host: "*", path: "(default backend)", port: fallback.port });
    }
    for (const rule of spec.rules || []) {
      for (const p of rule.http?.paths || []) {
        const ref = backendRef(p.backend);
        if (ref?.service !== name) continue;
        routes.push({ ingress: ingName, host: rule.host || "*", path: p.path || "/", port: ref.port });
      }
    }
  }
  return routes;
}

// A Service's card contents.
export function serviceView(svc, endpoints, ingresses) {
  const spec = svc.spec || {};
  const meta = svc.metadata || {};
  const addresses = endpointAddresses(endpoints);
  return {
    namespace: meta.namespace || "",
    name: meta.name || "",
    uid: meta.uid || "",
    type: spec.type || "ClusterIP",
    clusterIP: spec.clusterIP || "",
    ports: (spec.ports || []).map((p) => ({ name: p.name || "", text: portText(p), nodePort: p.nodePort || null,
      port: p.port })),
    selector: selectorText(spec.selector),
    hasSelector: Boolean(spec.selector && Object.keys(spec.selector).length),
    addresses,
    ready: addresses.filter((a) => a.ready).length,
    routes: ingressRoutes(ingresses, meta.namespace || "", meta.name || ""),
  };
}
