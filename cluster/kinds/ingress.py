"""Ingress (networking.k8s.io/v1): HTTP routes by host and path to Services.

Kubernetes 1.32:
- validation: pkg/apis/networking/validation/validation.go (ValidateIngressCreate,
  ValidateIngressSpec, validateIngressRules, validateHTTPIngressPath, validateIngressBackend,
  validateIngressTLS); v1 has no Ingress defaulting (pkg/apis/networking/v1/defaults.go);
- create and update: pkg/registry/networking/ingress/strategy.go (status reset,
  metadata.generation);
- old versions: extensions/v1beta1 and networking.k8s.io/v1beta1 (both removed in 1.22) are
  converted as pkg/apis/networking/v1beta1/conversion.go converts them (backend ->
  defaultBackend, serviceName/servicePort -> service.name/port.number or port.name), after the
  old versions' own defaulting (pathType ImplementationSpecific,
  pkg/apis/networking/v1beta1/defaults.go).
"""

import re

from cluster import printing
from cluster.errors import FieldError
from cluster.kinds import Kind, register
from cluster.kinds import service as svc
from cluster.kinds import validation as v
from cluster.kinds import workload as w

PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")   # sorted, as NotSupported lists
INVALID_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
INVALID_SUFFIXES = ("/..", "/.")
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
WILDCARD_SUBDOMAIN = r"\*\." + v.DNS1123_SUBDOMAIN
WILDCARD_ERROR = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
    "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
    "alphanumeric character (e.g. '*.example.com', regex used for validation is "
    f"'{WILDCARD_SUBDOMAIN}')")


@register
class Ingress(Kind):
    kind = "Ingress"
    group, version = "networking.k8s.io", "v1"
    plural, singular = "ingresses", "ingress"
    short_names = ("ing",)
    model = "V1Ingress"
    has_generation = True
    deprecated_versions = {
        "extensions/v1beta1": w.deprecation_warning("extensions/v1beta1", "Ingress", "1.14",
                                                    "1.22", "networking.k8s.io/v1"),
        "networking.k8s.io/v1beta1": w.deprecation_warning(
            "networking.k8s.io/v1beta1", "Ingress", "1.19", "1.22", "networking.k8s.io/v1"),
    }

    def convert(self, obj, api_version):
        spec = obj.get("spec")
        if isinstance(spec, dict):
            convert_v1beta1_spec(spec)
        return super().convert(obj, api_version)

    def convert_out(self, obj, api_version):
        spec = obj.get("spec")
        if isinstance(spec, dict):
            convert_v1_spec_to_v1beta1(spec)
        return super().convert_out(obj, api_version)

    def prepare_create(self, obj, ctx):
        # No ingress controller runs in kubelab: the address stays empty.
        obj["status"] = {"loadBalancer": {}}

    def validate(self, obj, ctx):
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        errors = validate_ingress_spec(spec, "spec")
        if w.creating(obj):
            # ValidateIngressCreate only: the old annotation and the field must agree.
            annotation = svc._dict(obj["metadata"].get("annotations")).get(
                INGRESS_CLASS_ANNOTATION)
            class_name = spec.get("ingressClassName")
            if annotation is not None and class_name is not None and annotation != class_name:
                errors.append(FieldError.invalid(
                    f"annotations.{INGRESS_CLASS_ANNOTATION}", annotation,
                    "must match `ingressClassName` when both are specified"))
        return errors

    # kubectl get ing: printIngress's columns.
    columns = (
        printing.NAME,
        printing.Column("Class", description="The name of the IngressClass resource that should "
                                             "be used for additional configuration"),
        printing.Column("Hosts", description="Hosts that incoming requests are matched against "
                                             "before the ingress rule"),
        printing.Column("Address", description="Address is a list containing ingress points for "
                                               "the load-balancer"),
        printing.Column("Ports", description="Ports of TLS configurations that open"),
        printing.AGE,
    )

    def printer_row(self, obj, now):
        spec, status = svc._dict(obj.get("spec")), svc._dict(obj.get("status"))
        ingress = svc._list(svc._dict(status.get("loadBalancer")).get("ingress"))
        address = sorted({svc._dict(i).get("ip") or svc._dict(i).get("hostname")
                          for i in ingress} - {None, ""})
        return [obj["metadata"].get("name", ""), spec.get("ingressClassName") or printing.NONE,
                printed_hosts(svc._list(spec.get("rules"))), ",".join(address),
                "80, 443" if svc._list(spec.get("tls")) else "80", printing.age(obj, now)]


def printed_hosts(rules, limit=3):
    """formatHosts: the rules' hosts, the first three shown, "*" when no rule names one."""
    hosts, more = [], False
    for rule in rules:
        if len(hosts) == limit:
            more = True
        host = svc._dict(rule).get("host")
        if not more and host:
            hosts.append(host)
    if not hosts:
        return "*"
    text = ",".join(hosts)
    return f"{text} + {len(rules) - limit} more..." if more else text


# --- old versions ------------------------------------------------------------------------------

def convert_v1beta1_backend(backend):
    """Convert_v1beta1_IngressBackend_To_networking_IngressBackend."""
    if not isinstance(backend, dict):
        return backend
    backend = dict(backend)
    name = backend.pop("serviceName", None)
    port = backend.pop("servicePort", None)
    if name or port not in (None, 0):
        service = {"name": name or ""}
        if isinstance(port, str):
            service["port"] = {"name": port} if port else {}
        else:
            service["port"] = {"number": port} if port else {}
        backend["service"] = service
    return backend


def convert_v1beta1_spec(spec):
    """The v1beta1 spec as v1 has it, with the old versions' pathType default applied."""
    if "backend" in spec:
        spec["defaultBackend"] = convert_v1beta1_backend(spec.pop("backend"))
    for rule in svc._list(spec.get("rules")):
        http = svc._dict(svc._dict(rule).get("http"))
        for path in svc._list(http.get("paths")):
            if not isinstance(path, dict):
                continue
            if path.get("pathType") is None:
                path["pathType"] = "ImplementationSpecific"
            if "backend" in path:
                path["backend"] = convert_v1beta1_backend(path["backend"])


def convert_v1_backend_to_v1beta1(backend):
    """Convert_networking_IngressBackend_To_v1beta1_IngressBackend."""
    if not isinstance(backend, dict) or "service" not in backend:
        return backend
    backend = dict(backend)
    service = svc._dict(backend.pop("service"))
    backend["serviceName"] = service.get("name", "")
    port = svc._dict(service.get("port"))
    backend["servicePort"] = port["name"] if port.get("name") else port.get("number", 0)
    return backend


def convert_v1_spec_to_v1beta1(spec):
    """The v1 spec as v1beta1 clients read it: serviceName/servicePort, `backend`."""
    if "defaultBackend" in spec:
        spec["backend"] = convert_v1_backend_to_v1beta1(spec.pop("defaultBackend"))
    for rule in svc._list(spec.get("rules")):
        http = svc._dict(svc._dict(rule).get("http"))
        for path in svc._list(http.get("paths")):
            if isinstance(path, dict) and "backend" in path:
                path["backend"] = convert_v1_backend_to_v1beta1(path["backend"])


# --- validation --------------------------------------------------------------------------------

def _go_rules(rules):
    if rules is None:
        return w.GoValue("[]networking.IngressRule(nil)")
    return w.GoValue("[]networking.IngressRule{}")


def is_ip(text):
    return svc.parse_ip(text) is not None


def wildcard_subdomain(value):
    """IsWildcardDNS1123Subdomain."""
    problems = []
    if len(value) > 253:
        problems.append(v.max_len(253))
    if not re.fullmatch(WILDCARD_SUBDOMAIN, value):
        problems.append(WILDCARD_ERROR)
    return problems


def validate_ingress_spec(spec, path):
    """ValidateIngressSpec."""
    errors = []
    rules = spec.get("rules")
    default_backend = spec.get("defaultBackend")
    if not svc._list(rules) and default_backend is None:
        errors.append(FieldError.invalid(
            path, _go_rules(rules), "either `defaultBackend` or `rules` must be specified",
            hint="an Ingress needs rules (host and paths) or a defaultBackend for everything"))
    if default_backend is not None:
        errors += validate_backend(svc._dict(default_backend), f"{path}.defaultBackend")
    for i, rule in enumerate(svc._list(rules)):
        errors += _rule_errors(svc._dict(rule), f"{path}.rules[{i}]")
    for i, tls in enumerate(svc._list(spec.get("tls"))):
        tls = svc._dict(tls)
        for j, host in enumerate(svc._list(tls.get("hosts"))):
            host_path = f"{path}.tls[{i}].hosts[{j}]"
            problems = wildcard_subdomain(host) if "*" in host else v.dns1123_subdomain(host)
            errors += v.each(host_path, host, problems)
        secret = tls.get("secretName")
        if secret:
            errors += v.each(f"{path}.tls[{i}].secretName", secret, v.dns1123_subdomain(secret))
    class_name = spec.get("ingressClassName")
    if class_name is not None:
        errors += v.each(f"{path}.ingressClassName", class_name,
                         v.dns1123_subdomain(class_name))
    return errors


def _rule_errors(rule, path):
    """validateIngressRules for one rule: the host, then its HTTP paths."""
    errors = []
    host = rule.get("host") or ""
    if host:
        if is_ip(host):
            errors.append(FieldError.invalid(
                f"{path}.host", host, "must be a DNS name, not an IP address",
                hint="an Ingress routes by the Host header: write a name, or leave host out "
                     "to match every request"))
        if "*" in host:
            errors += v.each(f"{path}.host", host, wildcard_subdomain(host),
                             "a wildcard stands for exactly one label at the front, as in "
                             "*.example.com")
        else:
            errors += v.each(f"{path}.host", host, v.dns1123_subdomain(host))
    http = rule.get("http")
    if http is not None:
        paths = svc._list(svc._dict(http).get("paths"))
        if not paths:
            errors.append(FieldError.required(f"{path}.http.paths"))
        for i, http_path in enumerate(paths):
            errors += _path_errors(svc._dict(http_path), f"{path}.http.paths[{i}]")
    return errors


def _path_errors(http_path, path):
    """validateHTTPIngressPath."""
    path_type = http_path.get("pathType")
    if path_type is None:
        return [FieldError(f"{path}.pathType", "FieldValueRequired", "pathType must be specified",
                           hint="networking.k8s.io/v1 requires it: Prefix (the path and "
                                "everything under it), Exact, or ImplementationSpecific")]
    errors = []
    value = http_path.get("path") or ""
    if path_type in ("Exact", "Prefix"):
        if not value.startswith("/"):
            errors.append(FieldError.invalid(f"{path}.path", value, "must be an absolute path"))
        if value:
            for sequence in INVALID_SEQUENCES:
                if sequence in value:
                    errors.append(FieldError.invalid(f"{path}.path", value,
                                                     f"must not contain '{sequence}'"))
            for suffix in INVALID_SUFFIXES:
                if value.endswith(suffix):
                    errors.append(FieldError.invalid(f"{path}.path", value,
                                                     f"cannot end with '{suffix}'"))
    elif path_type == "ImplementationSpecific":
        if value and not value.startswith("/"):
            errors.append(FieldError.invalid(f"{path}.path", value, "must be an absolute path"))
    else:
        errors.append(FieldError.not_supported(f"{path}.pathType", path_type, PATH_TYPES))
    errors += validate_backend(svc._dict(http_path.get("backend")), f"{path}.backend")
    return errors


def validate_backend(backend, path):
    """validateIngressBackend: a service (name and port name or number) or a resource."""
    resource, service = backend.get("resource"), backend.get("service")
    if resource is not None and service is not None:
        return [FieldError.invalid(path, "", "cannot set both resource and service backends")]
    if resource is not None:
        return _resource_errors(svc._dict(resource), f"{path}.resource")
    if service is None:
        return [FieldError.invalid(path, "", "resource or service backend is required")]
    service = svc._dict(service)
    errors = []
    name = service.get("name") or ""
    if not name:
        errors.append(FieldError.required(f"{path}.service.name"))
    else:
        errors += v.each(f"{path}.service.name", name, svc.dns1035_label(name))
    port = svc._dict(service.get("port"))
    port_name, number = port.get("name") or "", svc._int(port.get("number"))
    if port_name and number:
        errors.append(FieldError.invalid(path, "", "cannot set both port name & port number"))
    elif port_name:
        errors += v.each(f"{path}.service.port.name", port_name, svc.port_name(port_name))
    elif number:
        errors += v.each(f"{path}.service.port.number", number, svc.port_number(number))
    else:
        errors.append(FieldError(path, "FieldValueRequired", "port name or number is required",
                                 hint="write service.port.number (the Service's port, such as "
                                      "80) or service.port.name"))
    return errors


def _path_segment(value):
    """IsValidPathSegmentName."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in "/%" if c in value]


def _resource_errors(resource, path):
    """validateIngressTypedLocalObjectReference."""
    errors = []
    group = resource.get("apiGroup")
    if group is not None:
        errors += v.each(f"{path}.apiGroup", group, v.dns1123_subdomain(group))
    for key in ("kind", "name"):
        value = resource.get(key) or ""
        if not value:
            errors.append(FieldError.required(f"{path}.{key}"))
        else:
            errors += v.each(f"{path}.{key}", value, _path_segment(value))
    return errors
