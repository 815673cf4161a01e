"""Service (v1): one stable virtual IP and port in front of the pods a selector picks.

Kubernetes 1.32, worded as its API server words it:
- defaulting: pkg/apis/core/v1/defaults.go (SetDefaults_Service);
- validation: pkg/apis/core/validation/validation.go (ValidateService, validateServicePort,
  ValidateServiceClusterIPsRelatedFields, validateServiceExternalTrafficPolicy,
  validateServiceInternalTrafficFieldsValue, ValidateServiceUpdate and its
  validateUpgradeDowngrade* helpers);
- allocation: pkg/registry/core/service/storage (rest.go: normalizeClusterIPs,
  patchAllocatedValues, beginCreate/beginUpdate; alloc.go: initIPFamilyFields,
  allocClusterIPs, initNodePorts, updateNodePorts, allocHealthCheckNodePort), with the bitmap
  allocators of ipallocator and portallocator (random pick in the upper band of the range,
  the lower band kept for addresses and ports asked for by hand);
- update: pkg/registry/core/service/strategy.go (dropTypeDependentFields).

kubelab is a single-stack IPv4 cluster with the kubeadm defaults: service CIDR 10.96.0.0/12
and node ports 30000-32767. With no cloud provider, a LoadBalancer's external IP stays
pending: status.loadBalancer is {}.

The helpers for IPs, port names and Go-printed values are shared with Endpoints and Ingress.
"""

import ipaddress
import random
import re

from django.db.models import Q

from cluster import printing
from cluster.errors import ApiError, FieldError, Invalid
from cluster.kinds import Kind, register
from cluster.kinds import validation as v
from cluster.kinds import workload as w
from cluster.selectors import go_quote

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
NODE_PORT_MIN, NODE_PORT_MAX = 30000, 32767
DEFAULT_AFFINITY_TIMEOUT = 10800          # v1.DefaultClientIPServiceAffinitySeconds (3 h)
MAX_AFFINITY_TIMEOUT = 86400              # core.MaxClientIPServiceAffinitySeconds (24 h)

CLUSTER_IP, NODE_PORT, LOAD_BALANCER, EXTERNAL_NAME = (
    "ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
# sets.List(...) of the Go sets: sorted, as NotSupported prints them.
SERVICE_TYPES = (CLUSTER_IP, EXTERNAL_NAME, LOAD_BALANCER, NODE_PORT)
AFFINITIES = ("ClientIP", "None")
PROTOCOLS = ("SCTP", "TCP", "UDP")
TRAFFIC_POLICIES = ("Cluster", "Local")
IP_FAMILIES = ("IPv4", "IPv6")
IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
SINGLE_STACK, REQUIRE_DUAL_STACK = "SingleStack", "RequireDualStack"
NONE = "None"                             # core.ClusterIPNone: a headless service

TOPOLOGY_HINTS = "service.kubernetes.io/topology-aware-hints"
TOPOLOGY_MODE = "service.kubernetes.io/topology-mode"
SOURCE_RANGES = "service.beta.kubernetes.io/load-balancer-source-ranges"

DNS1035_LABEL = r"[a-z]([-a-z0-9]*[a-z0-9])?"
DNS1035_ERROR = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
    "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    f"'abc-123', regex used for validation is '{DNS1035_LABEL}')")
PORT_RANGE = "must be between 1 and 65535, inclusive"
IP_INVALID = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
CIDR_INVALID = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
IMMUTABLE = "may not change once set"


# --- values as Go prints them ------------------------------------------------------------------

def go_strings(values):
    """A []string as %#v prints it."""
    if values is None:
        return w.GoValue("[]string(nil)")
    return w.GoValue("[]string{" + ", ".join(go_quote(str(x)) for x in values) + "}")


def go_families(values):
    if values is None:
        return w.GoValue("[]core.IPFamily(nil)")
    return w.GoValue("[]core.IPFamily{" + ", ".join(go_quote(str(x)) for x in values) + "}")


def _go_int_or_string(value):
    if isinstance(value, str):
        return f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(value)}}}"
    return f"intstr.IntOrString{{Type:0, IntVal:{value or 0}, StrVal:\"\"}}"


def go_service_port(protocol, port):
    """The core.ServicePort{Protocol, Port} key ValidateService reports as a duplicate."""
    return w.GoValue(
        f"core.ServicePort{{Name:\"\", Protocol:{go_quote(str(protocol or ''))}, "
        f"AppProtocol:(*string)(nil), Port:{_int(port)}, TargetPort:{_go_int_or_string(0)}, "
        f"NodePort:0}}")


# --- small validators (k8s.io/apimachinery/pkg/util/validation) --------------------------------

def _int(value):
    """An integer field as Go holds it: absent (or null) is 0; YAML's 80.0 is 80."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) else 0


def port_number(value):
    """IsValidPortNum."""
    return [] if 1 <= _int(value) <= 65535 else [PORT_RANGE]


def port_name(name):
    """IsValidPortName (an IANA_SVC_NAME), in its order; Go counts bytes, not characters."""
    problems = []
    if len(name.encode("utf-8")) > 15:
        problems.append(v.max_len(15))
    if not re.fullmatch(r"[-a-z0-9]+", name):
        problems.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search(r"[a-z]", name):
        problems.append("must contain at least one letter (a-z)")
    if "--" in name:
        problems.append("must not contain consecutive hyphens")
    if name.startswith("-") or name.endswith("-"):
        problems.append("must not begin or end with a hyphen")
    return problems


def dns1035_label(value):
    """IsDNS1035Label: Service names (ValidateServiceName), and Ingress backends' service names."""
    problems = []
    if len(value) > 63:
        problems.append(v.max_len(63))
    if not re.fullmatch(DNS1035_LABEL, value):
        problems.append(DNS1035_ERROR)
    return problems


def port_or_name(value, path):
    """ValidatePortNumOrName: a number 1-65535, or a port name. A quoted number is a name."""
    if isinstance(value, str):
        hint = ""
        if value.strip().isdigit():
            hint = (f'"{value}" is in quotes, so it is read as the name of a container port; '
                    f"to give the port number write {value.strip()} without quotes")
        return v.each(path, value, port_name(value), hint)
    return v.each(path, _int(value), port_number(value))


def parse_ip(text):
    """netutils.ParseIPSloppy: an IPv4 or IPv6 address, IPv4 parts may have leading zeros.
    None when `text` is not an IP."""
    if not isinstance(text, str) or not text or "%" in text:
        return None
    if ":" not in text:
        parts = text.split(".")
        if len(parts) != 4 or not all(p.isdigit() and p.isascii() and int(p) <= 255
                                      for p in parts):
            return None
        return ipaddress.IPv4Address(".".join(str(int(p)) for p in parts))
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        return None


def _as_v4(ip):
    """Go keeps IPv4-mapped IPv6 (::ffff:a.b.c.d) as the IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def family_of(text):
    ip = parse_ip(text)
    return "IPv6" if ip is not None and _as_v4(ip).version == 6 else "IPv4"


def valid_ip(path, value):
    """IsValidIP."""
    return [] if parse_ip(value) is not None else [FieldError.invalid(path, value, IP_INVALID)]


def non_special_ip(path, value):
    """ValidateNonSpecialIP: Endpoints and external IPs may not be unspecified, loopback or
    link-local."""
    ip = parse_ip(value)
    if ip is None:
        return [FieldError.invalid(path, value, "must be a valid IP address")]
    ip = _as_v4(ip)
    errors = []
    if ip.is_unspecified:
        errors.append(FieldError.invalid(path, value, f"may not be unspecified ({value})"))
    if ip.is_loopback:
        errors.append(FieldError.invalid(
            path, value, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
    if ip in ipaddress.ip_network("169.254.0.0/16") or ip in ipaddress.ip_network("fe80::/10"):
        errors.append(FieldError.invalid(
            path, value, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
    if ip in ipaddress.ip_network("224.0.0.0/24") or (
            ip.version == 6 and ip.packed[0] == 0xFF and ip.packed[1] & 0x0F == 0x02):
        errors.append(FieldError.invalid(
            path, value,
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
    return errors


def valid_cidr(path, value):
    """IsValidCIDR."""
    ok = isinstance(value, str) and "/" in value
    if ok:
        address, _, bits = value.partition("/")
        ip = parse_ip(address)
        ok = ip is not None and bits.isdigit() and int(bits) <= ip.max_prefixlen
    return [] if ok else [FieldError.invalid(path, value, CIDR_INVALID)]


def _str(value):
    return value if isinstance(value, str) else ""


def _list(value):
    return value if isinstance(value, list) else []


def _dict(value):
    return value if isinstance(value, dict) else {}


# --- the kind ----------------------------------------------------------------------------------

@register
class Service(Kind):
    kind = "Service"
    plural, singular = "services", "service"
    short_names = ("svc",)
    categories = ("all",)
    model = "V1Service"
    discovery_subresources = ("status", "proxy")

    def default(self, obj, ctx):
        spec = _spec(obj)
        set_defaults(spec)
        if "creationTimestamp" not in obj["metadata"]:
            # beginCreate: a client that wrote only clusterIP gets clusterIPs from it.
            normalize_cluster_ips(spec, None)

    def prepare_create(self, obj, ctx):
        # PrepareForCreate resets status; no cloud provider ever fills it in here.
        obj["status"] = {"loadBalancer": {}}

    def validate(self, obj, ctx):
        creating = "creationTimestamp" not in obj["metadata"]
        return validate_service(obj, creating)

    def prepare_update(self, old, new, ctx):
        # The store calls this inside its locked transaction, before validation: the place
        # of beginUpdate (keep what was allocated, allocate what a type change needs) and
        # PrepareForUpdate (status kept by the store; fields the old type alone used dropped).
        self.allocate(new, ctx, old=old)

    def validate_update(self, old, new, ctx):
        return validate_service_update(old, new)

    # kubectl get svc: printService's columns.
    columns = (
        printing.NAME,
        printing.Column("Type", description=("V1ServiceSpec", "type")),
        printing.Column("Cluster-IP", description=("V1ServiceSpec", "clusterIP")),
        printing.Column("External-IP", description=("V1ServiceSpec", "externalIPs")),
        printing.Column("Port(s)", description=("V1ServiceSpec", "ports")),
        printing.AGE,
        printing.Column("Selector", description=("V1ServiceSpec", "selector"), priority=1),
    )

    def printer_row(self, obj, now):
        spec = _dict(obj.get("spec"))
        ports = []
        for port in _list(spec.get("ports")):
            port = _dict(port)
            node_port = f":{port['nodePort']}" if port.get("nodePort") else ""
            ports.append(f"{port.get('port', 0)}{node_port}/{port.get('protocol', '')}")
        cluster_ips = _list(spec.get("clusterIPs"))
        return [obj["metadata"].get("name", ""), spec.get("type", ""),
                cluster_ips[0] if cluster_ips else printing.NONE, printed_external_ip(obj),
                ",".join(ports) or printing.NONE, printing.age(obj, now),
                printing.format_labels(spec.get("selector"))]

    def allocate(self, obj, ctx, old=None):
        """beginCreate/beginUpdate: clusterIPs and nodePorts, unique in the cluster."""
        spec = _spec(obj)
        name = obj["metadata"].get("name", "")
        old_spec = _dict((old or {}).get("spec")) if old is not None else None
        if old_spec is not None:
            patch_allocated_values(spec, old_spec)
            normalize_cluster_ips(spec, old_spec)
            drop_type_dependent_fields(spec, old_spec)
        errors = init_ip_families(spec, old_spec)
        if errors:
            raise Invalid(self.kind, name, errors)
        pool = _Pool(ctx.cluster, obj["metadata"].get("uid"))
        if old_spec is None or (old_spec.get("type") == EXTERNAL_NAME
                                and spec.get("type") != EXTERNAL_NAME):
            errors = allocate_cluster_ips(spec, pool)
        if not errors and spec.get("type") in (NODE_PORT, LOAD_BALANCER):
            errors = (init_node_ports(spec, pool) if old_spec is None
                      else update_node_ports(spec, old_spec, pool))
        if errors:
            raise Invalid(self.kind, name, errors)
        allocate_health_check_node_port(spec, old_spec, pool)


def printed_external_ip(obj):
    """EXTERNAL-IP as getServiceExternalIP words it for the server's (wide) Table: the
    externalIPs; for a LoadBalancer its ingress IPs or hostnames first, "<pending>" while it
    has none; an ExternalName's name."""
    spec = _dict(obj.get("spec"))
    external_ips = [str(ip) for ip in _list(spec.get("externalIPs"))]
    kind = spec.get("type")
    if kind in (CLUSTER_IP, NODE_PORT):
        return ",".join(external_ips) or printing.NONE
    if kind == LOAD_BALANCER:
        ingress = _list(_dict(_dict(obj.get("status")).get("loadBalancer")).get("ingress"))
        balancers = sorted({_dict(i).get("ip") or _dict(i).get("hostname") for i in ingress}
                           - {None, ""})
        return ",".join(balancers + external_ips) or "<pending>"
    if kind == EXTERNAL_NAME:
        return spec.get("externalName", "")
    return printing.UNKNOWN


def _spec(obj):
    if not isinstance(obj.get("spec"), dict):
        obj["spec"] = {}
    return obj["spec"]


# --- defaulting --------------------------------------------------------------------------------

def externally_accessible(spec):
    """apiservice.ExternallyAccessible."""
    kind = spec.get("type")
    return kind in (LOAD_BALANCER, NODE_PORT) or (kind == CLUSTER_IP
                                                  and bool(spec.get("externalIPs")))


def needs_health_check(spec):
    """apiservice.NeedsHealthCheck: a LoadBalancer that keeps traffic on the local node."""
    return spec.get("type") == LOAD_BALANCER and spec.get("externalTrafficPolicy") == "Local"


def set_defaults(spec):
    """SetDefaults_Service. An empty string counts as unset, as for Go's string fields."""
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        client_ip = _dict(_dict(spec.get("sessionAffinityConfig")).get("clientIP"))
        if client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {
                "clientIP": {"timeoutSeconds": DEFAULT_AFFINITY_TIMEOUT}}
    if not spec.get("type"):
        spec["type"] = CLUSTER_IP
    for port in _list(spec.get("ports")):
        if not isinstance(port, dict):
            continue
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = _int(port.get("port"))
    if externally_accessible(spec) and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if spec.get("internalTrafficPolicy") is None and spec["type"] in (NODE_PORT, LOAD_BALANCER,
                                                                       CLUSTER_IP):
        spec["internalTrafficPolicy"] = "Cluster"
    if spec["type"] == LOAD_BALANCER and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True
    for key in ("selector", "ports"):
        if spec.get(key) in ({}, []):
            spec.pop(key)         # an empty map or list is omitted when stored and read back


# --- validation --------------------------------------------------------------------------------

def is_headless(spec):
    """isHeadlessService: clusterIPs is exactly ["None"]."""
    return _list(spec.get("clusterIPs")) == [NONE]


def validate_service(obj, creating=False):
    """ValidateService, in its order (metadata is the store's, plus the DNS-1035 name)."""
    meta, spec = obj["metadata"], _spec(obj)
    errors = []
    name = meta.get("name") or ""
    # ValidateServiceName is NameIsDNS1035Label. The store has already checked the name as a
    # subdomain; only a name that passed that check is checked again, so that one mistake
    # reads as one error.
    if name and not v.dns1123_subdomain(name):
        errors += v.each("metadata.name", name, dns1035_label(name),
                         "a Service name becomes a DNS label (<name>.<namespace>.svc): no "
                         "dots, and it starts with a letter")
    annotations = _dict(meta.get("annotations"))
    if TOPOLOGY_MODE in annotations and TOPOLOGY_HINTS in annotations \
            and annotations[TOPOLOGY_MODE] != annotations[TOPOLOGY_HINTS]:
        errors.append(FieldError.invalid(f"metadata.annotations[{TOPOLOGY_MODE}]",
                                         annotations[TOPOLOGY_MODE],
                                         f"must match annotations[{TOPOLOGY_HINTS}] when both "
                                         "are specified"))
    kind = spec.get("type")
    ports = _list(spec.get("ports"))
    cluster_ips = _list(spec.get("clusterIPs"))
    headless = is_headless(spec)
    if not ports and not headless and kind != EXTERNAL_NAME:
        errors.append(FieldError.required("spec.ports"))
    if kind in (LOAD_BALANCER, NODE_PORT) and headless:
        errors.append(FieldError.invalid("spec.clusterIPs[0]", cluster_ips[0],
                                         f"may not be set to 'None' for {kind} services"))
    elif kind == EXTERNAL_NAME:
        for key in ("clusterIPs", "ipFamilies"):
            if spec.get(key):
                errors.append(FieldError.forbidden(f"spec.{key}",
                                                   "may not be set for ExternalName services"))
        if spec.get("ipFamilyPolicy") is not None:
            errors.append(FieldError.forbidden("spec.ipFamilyPolicy",
                                               "may not be set for ExternalName services"))
        cname = _str(spec.get("externalName"))
        cname = cname[:-1] if cname.endswith(".") else cname
        if cname:
            errors += v.each("spec.externalName", cname, v.dns1123_subdomain(cname))
        else:
            errors.append(FieldError.required("spec.externalName"))
    names = set()
    for i, port in enumerate(ports):
        errors += _validate_port(_dict(port), f"spec.ports[{i}]", len(ports) > 1, names)
    if spec.get("selector") is not None:
        errors += v.labels("spec.selector", spec.get("selector"))
    errors += _affinity_errors(spec)
    errors += cluster_ips_related_errors(spec)
    for i, ip in enumerate(_list(spec.get("externalIPs"))):
        path = f"spec.externalIPs[{i}]"
        errors += valid_ip(path, ip) or non_special_ip(path, ip)
    if not kind:
        errors.append(FieldError.required("spec.type"))
    elif kind not in SERVICE_TYPES:
        errors.append(FieldError.not_supported("spec.type", kind, SERVICE_TYPES))
    if kind == CLUSTER_IP:
        for i, port in enumerate(ports):
            if _int(_dict(port).get("nodePort")):
                errors.append(FieldError.forbidden(
                    f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'"))
    seen_node_ports, seen_ports = set(), set()
    for i, port in enumerate(ports):
        port = _dict(port)
        node_port = _int(port.get("nodePort"))
        if node_port:
            key = (port.get("protocol"), node_port)
            if key in seen_node_ports:
                errors.append(FieldError.duplicate(f"spec.ports[{i}].nodePort", node_port))
            seen_node_ports.add(key)
    for i, port in enumerate(ports):
        port = _dict(port)
        key = (port.get("protocol"), _int(port.get("port")))
        if key in seen_ports:
            errors.append(FieldError.duplicate(
                f"spec.ports[{i}]", go_service_port(*key),
                hint=f"two ports of this Service use {key[1]}/{key[0]}: each port and protocol "
                     "pair may appear once"))
        seen_ports.add(key)
    errors += _load_balancer_errors(spec, annotations)
    errors += _external_traffic_errors(spec, creating)
    policy = spec.get("internalTrafficPolicy")
    if policy is None and kind in (NODE_PORT, LOAD_BALANCER, CLUSTER_IP):
        errors.append(FieldError.required("spec.internalTrafficPolicy"))
    if policy is not None and policy not in TRAFFIC_POLICIES:
        errors.append(FieldError.not_supported("spec.internalTrafficPolicy", policy,
                                               TRAFFIC_POLICIES))
    distribution = spec.get("trafficDistribution")
    if distribution is not None and distribution != "PreferClose":
        errors.append(FieldError.not_supported("spec.trafficDistribution", distribution,
                                               ("PreferClose",)))
    return errors


def _validate_port(port, path, require_name, names):
    """validateServicePort."""
    errors = []
    name = _str(port.get("name"))
    if require_name and not name:
        errors.append(FieldError(f"{path}.name", "FieldValueRequired",
                                 hint="a Service with more than one port must name each of "
                                      "them (the names tell the ports apart in Endpoints)"))
    elif name:
        errors += v.each(f"{path}.name", name, v.dns1123_label(name))
        if name in names:
            errors.append(FieldError.duplicate(f"{path}.name", name))
        names.add(name)
    errors += v.each(f"{path}.port", _int(port.get("port")), port_number(port.get("port")))
    protocol = port.get("protocol")
    if not protocol:
        errors.append(FieldError.required(f"{path}.protocol"))
    elif protocol not in PROTOCOLS:
        errors.append(FieldError.not_supported(f"{path}.protocol", protocol, PROTOCOLS))
    errors += port_or_name(port.get("targetPort"), f"{path}.targetPort")
    app_protocol = port.get("appProtocol")
    if app_protocol is not None:
        errors += v.each(f"{path}.appProtocol", app_protocol, v.qualified_name(app_protocol))
    return errors


def _affinity_errors(spec):
    affinity = spec.get("sessionAffinity")
    config = spec.get("sessionAffinityConfig")
    path = "spec.sessionAffinityConfig"
    if not affinity:
        return [FieldError.required("spec.sessionAffinity")]
    if affinity not in AFFINITIES:
        return [FieldError.not_supported("spec.sessionAffinity", affinity, AFFINITIES)]
    if affinity == "None":
        if config is not None:
            return [FieldError.forbidden(path, "must not be set when session affinity is None")]
        return []
    # validateClientIPAffinityConfig
    why = "when session affinity type is ClientIP"
    if config is None:
        return [FieldError.required(path, why)]
    client_ip = _dict(config).get("clientIP")
    if client_ip is None:
        return [FieldError.required(f"{path}.clientIP", why)]
    timeout = _dict(client_ip).get("timeoutSeconds")
    if timeout is None:
        return [FieldError.required(f"{path}.clientIP.timeoutSeconds", why)]
    if not 0 < _int(timeout) <= MAX_AFFINITY_TIMEOUT:
        return [FieldError.invalid(
            f"{path}.clientIP.timeoutSeconds", _int(timeout),
            f"must be greater than 0 and less than {MAX_AFFINITY_TIMEOUT}",
            hint="the ClientIP affinity lasts between 1 second and 86400 seconds (a day); "
                 "leave it out for the default of 10800 (3 hours)")]
    return []


def cluster_ips_related_errors(spec):
    """ValidateServiceClusterIPsRelatedFields (not for ExternalName, checked before)."""
    if spec.get("type") == EXTERNAL_NAME:
        return []
    errors = []
    cluster_ip = _str(spec.get("clusterIP"))
    cluster_ips = spec.get("clusterIPs")
    ips = _list(cluster_ips)
    if cluster_ip:
        if not ips:
            errors.append(FieldError.required("spec.clusterIPs"))
        elif ips[0] != cluster_ip:
            errors.append(FieldError.invalid("spec.clusterIPs", go_strings(ips),
                                             "first value must match `clusterIP`"))
    elif ips:
        errors.append(FieldError.invalid("spec.clusterIPs", go_strings(ips),
                                         "must be empty when `clusterIP` is not specified"))
    seen = set()
    for i, family in enumerate(_list(spec.get("ipFamilies"))):
        if family not in IP_FAMILIES:
            errors.append(FieldError.not_supported(f"spec.ipFamilies[{i}]", family, IP_FAMILIES))
        if family in seen:
            errors.append(FieldError.duplicate(f"spec.ipFamilies[{i}]", family))
        seen.add(family)
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in IP_FAMILY_POLICIES:
        errors.append(FieldError.not_supported("spec.ipFamilyPolicy", policy,
                                               IP_FAMILY_POLICIES))
    invalid_ips = False
    for i, ip in enumerate(ips):
        if i == 0 and ip == NONE:
            if len(ips) > 1:
                invalid_ips = True
                errors.append(FieldError.invalid("spec.clusterIPs", go_strings(ips),
                                                 "'None' must be the first and only value"))
            continue
        problems = valid_ip(f"spec.clusterIPs[{i}]", ip)
        invalid_ips = invalid_ips or bool(problems)
        errors += problems
    if len(ips) > 2:
        errors.append(FieldError.invalid("spec.clusterIPs", go_strings(ips),
                                         "may only hold up to 2 values"))
    if invalid_ips:
        return errors
    if len(ips) > 1 and len({family_of(ip) for ip in ips}) != len(ips):
        errors.append(FieldError.invalid("spec.clusterIPs", go_strings(ips),
                                         "may specify no more than one IP for each IP family"))
    families = _list(spec.get("ipFamilies"))
    if not is_headless(spec) and ips and families:
        for i, ip in enumerate(ips[:len(families)]):
            if families[i] == "IPv4" and family_of(ip) == "IPv6":
                errors.append(FieldError.invalid(
                    f"spec.clusterIPs[{i}]", ip,
                    f"expected an IPv4 value as indicated by `ipFamilies[{i}]`"))
            if families[i] == "IPv6" and family_of(ip) != "IPv6":
                errors.append(FieldError.invalid(
                    f"spec.clusterIPs[{i}]", ip,
                    f"expected an IPv6 value as indicated by `ipFamilies[{i}]`"))
    return errors


def _load_balancer_errors(spec, annotations):
    errors = []
    load_balancer = spec.get("type") == LOAD_BALANCER
    only_lb = "may only be used when `type` is 'LoadBalancer'"
    ranges = _list(spec.get("loadBalancerSourceRanges"))
    if ranges:
        # The API server names this field with a capital L.
        if not load_balancer:
            errors.append(FieldError.forbidden("spec.LoadBalancerSourceRanges", only_lb))
        for i, value in enumerate(ranges):
            errors += valid_cidr(f"spec.LoadBalancerSourceRanges[{i}]", _str(value).strip())
    elif SOURCE_RANGES in annotations:
        path = f"metadata.annotations[{SOURCE_RANGES}]"
        if not load_balancer:
            errors.append(FieldError.forbidden(path, only_lb))
        value = _str(annotations[SOURCE_RANGES]).strip()
        for cidr in value.split(",") if value else []:
            errors += valid_cidr(path, cidr.strip())
    if spec.get("allocateLoadBalancerNodePorts") is not None and not load_balancer:
        errors.append(FieldError.forbidden("spec.allocateLoadBalancerNodePorts", only_lb))
    if load_balancer and spec.get("allocateLoadBalancerNodePorts") is None:
        errors.append(FieldError.required("allocateLoadBalancerNodePorts"))
    lb_class = spec.get("loadBalancerClass")
    if lb_class is not None:
        if load_balancer:
            errors += v.each("spec.loadBalancerClass", lb_class, v.qualified_name(lb_class))
        else:
            errors.append(FieldError.forbidden("spec.loadBalancerClass", only_lb))
    return errors


def _external_traffic_errors(spec, creating):
    """validateServiceExternalTrafficPolicy."""
    errors = []
    policy = spec.get("externalTrafficPolicy") or ""
    if not externally_accessible(spec):
        if policy:
            errors.append(FieldError.invalid("spec.externalTrafficPolicy", policy,
                                             "may only be set for externally-accessible "
                                             "services"))
    elif not policy:
        errors.append(FieldError.required("spec.externalTrafficPolicy"))
    elif policy not in TRAFFIC_POLICIES:
        errors.append(FieldError.not_supported("spec.externalTrafficPolicy", policy,
                                               TRAFFIC_POLICIES))
    health = _int(spec.get("healthCheckNodePort"))
    if not needs_health_check(spec):
        if health:
            errors.append(FieldError.invalid(
                "spec.healthCheckNodePort", health,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is "
                "'Local'"))
    elif not health:
        # The API server allocates before it validates; kubelab allocates after a create is
        # validated, so an unset port is not an error yet then.
        if not creating:
            errors.append(FieldError.required("spec.healthCheckNodePort"))
    else:
        errors += v.each("spec.healthCheckNodePort", health, port_number(health))
    return errors


def validate_service_update(old, new):
    """ValidateServiceUpdate's own rules (ValidateService itself runs as validate)."""
    spec, old_spec = _spec(new), _dict(old.get("spec"))
    errors = _upgrade_downgrade_cluster_ips(old_spec, spec)
    errors += _upgrade_downgrade_families(old_spec, spec)
    if old_spec.get("type") == LOAD_BALANCER and spec.get("type") == LOAD_BALANCER \
            and old_spec.get("loadBalancerClass") != spec.get("loadBalancerClass"):
        errors.append(FieldError.invalid("spec.loadBalancerClass",
                                         spec.get("loadBalancerClass"), IMMUTABLE))
    if needs_health_check(old_spec) and needs_health_check(spec) \
            and _int(old_spec.get("healthCheckNodePort")) != _int(
                spec.get("healthCheckNodePort")):
        errors.append(FieldError.forbidden("spec.healthCheckNodePort", "field is immutable"))
    return errors


_IP_HINT = ("a Service keeps its cluster IP for its whole life: delete the Service and create "
            "it again to get another")


def _upgrade_downgrade_cluster_ips(old_spec, spec):
    """validateUpgradeDowngradeClusterIPs."""
    if EXTERNAL_NAME in (spec.get("type"), old_spec.get("type")):
        return []
    if is_headless(old_spec) and is_headless(spec):
        return []
    old_ips, ips = _list(old_spec.get("clusterIPs")), _list(spec.get("clusterIPs"))
    shown = go_strings(spec.get("clusterIPs"))
    errors = []
    if len(old_ips) == len(ips):
        for i, ip in enumerate(old_ips):
            if ip != ips[i]:
                errors.append(FieldError.invalid(f"spec.clusterIPs[{i}]", shown, IMMUTABLE,
                                                 _IP_HINT))
    elif len(old_ips) > len(ips):
        if not ips:
            errors.append(FieldError.invalid("spec.clusterIPs[0]", shown,
                                             "primary clusterIP can not be unset"))
        if old_ips and ips and ips[0] != old_ips[0]:
            errors.append(FieldError.invalid("spec.clusterIPs[0]", shown, IMMUTABLE, _IP_HINT))
        if len(ips) == 1 and spec.get("ipFamilyPolicy") != SINGLE_STACK:
            errors.append(FieldError.invalid(
                "spec.ipFamilyPolicy", spec.get("ipFamilyPolicy"),
                "must be set to 'SingleStack' when releasing the secondary clusterIP"))
    elif old_ips and ips[0] != old_ips[0]:
        errors.append(FieldError.invalid("spec.clusterIPs[0]", shown, IMMUTABLE, _IP_HINT))
    return errors


def _upgrade_downgrade_families(old_spec, spec):
    """validateUpgradeDowngradeIPFamilies (its values are as Go gives them)."""
    if EXTERNAL_NAME in (spec.get("type"), old_spec.get("type")):
        return []
    if is_headless(old_spec) or is_headless(spec):
        return []
    old_families, families = _list(old_spec.get("ipFamilies")), _list(spec.get("ipFamilies"))
    errors = []
    if len(old_families) == len(families):
        for i, family in enumerate(old_families):
            if family != families[i]:
                errors.append(FieldError.invalid("spec.ipFamilies[0]",
                                                 go_families(spec.get("ipFamilies")), IMMUTABLE))
    elif len(old_families) > len(families):
        if not _list(spec.get("clusterIPs")):
            errors.append(FieldError.invalid("spec.ipFamilies[0]",
                                             go_families(spec.get("ipFamilies")),
                                             "primary ipFamily can not be unset"))
        if families and families[0] != old_families[0]:
            errors.append(FieldError.invalid("spec.ipFamilies[0]",
                                             go_strings(spec.get("clusterIPs")), IMMUTABLE))
        if len(families) == 1 and spec.get("ipFamilyPolicy") != SINGLE_STACK:
            errors.append(FieldError.invalid(
                "spec.ipFamilyPolicy", spec.get("ipFamilyPolicy"),
                "must be set to 'SingleStack' when releasing the secondary ipFamily"))
    elif old_families and families and families[0] != old_families[0]:
        errors.append(FieldError.invalid("spec.ipFamilies[0]",
                                         go_strings(spec.get("clusterIPs")), IMMUTABLE))
    return errors


# --- create and update: what the REST storage does before validation ---------------------------

def normalize_cluster_ips(spec, old_spec):
    """normalizeClusterIPs: keep clusterIP and clusterIPs in step."""
    if old_spec is None:
        if spec.get("clusterIP") and not spec.get("clusterIPs"):
            spec["clusterIPs"] = [spec["clusterIP"]]
        return
    old_ip, new_ip = _str(old_spec.get("clusterIP")), _str(spec.get("clusterIP"))
    if old_spec.get("clusterIPs") and not spec.get("clusterIPs") and old_ip == new_ip:
        spec["clusterIPs"] = list(old_spec["clusterIPs"])
    if old_ip != new_ip:
        same = _list(old_spec.get("clusterIPs")) == _list(spec.get("clusterIPs"))
        if old_ip and not new_ip:
            if same:
                spec.pop("clusterIPs", None)
        elif same:
            spec["clusterIPs"] = [new_ip]


def _needs_cluster_ip(spec):
    return spec.get("type") != EXTERNAL_NAME


def _needs_node_port(spec):
    return spec.get("type") in (NODE_PORT, LOAD_BALANCER)


def patch_allocated_values(spec, old_spec):
    """patchAllocatedValues: an update that leaves out what was allocated keeps it, so the
    same manifest can be sent again."""
    if _needs_cluster_ip(old_spec) and _needs_cluster_ip(spec):
        if not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
        if not spec.get("clusterIPs") and old_spec.get("clusterIPs"):
            spec["clusterIPs"] = list(old_spec["clusterIPs"])
    if _needs_node_port(old_spec) and _needs_node_port(spec):
        ports = [_dict(p) for p in _list(spec.get("ports"))]
        old_ports = [_dict(p) for p in _list(old_spec.get("ports"))]
        used = ({_int(p.get("nodePort")) for p in old_ports} & {_int(p.get("nodePort"))
                                                                  for p in ports}) - {0}
        by_name = {_str(p.get("name")): _int(p.get("nodePort")) for p in old_ports}
        for port in ports:
            if not _int(port.get("nodePort")):
                previous = by_name.get(_str(port.get("name")), 0)
                if previous and previous not in used:
                    port["nodePort"] = previous
    if needs_health_check(old_spec) and needs_health_check(spec) \
            and not _int(spec.get("healthCheckNodePort")):
        spec["healthCheckNodePort"] = old_spec.get("healthCheckNodePort")


def drop_type_dependent_fields(spec, old_spec):
    """dropTypeDependentFields: a type change clears what only the old type used, when the
    update left those values as they were (they are released with it)."""
    if _needs_cluster_ip(old_spec) and not _needs_cluster_ip(spec):
        if _str(old_spec.get("clusterIP")) == _str(spec.get("clusterIP")) and \
                _list(old_spec.get("clusterIPs")) == _list(spec.get("clusterIPs")):
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        if old_spec.get("ipFamilies") == spec.get("ipFamilies"):
            spec.pop("ipFamilies", None)
        if old_spec.get("ipFamilyPolicy") == spec.get("ipFamilyPolicy"):
            spec.pop("ipFamilyPolicy", None)
    if _needs_node_port(old_spec) and not _needs_node_port(spec):
        old_ports = {_int(_dict(p).get("nodePort")) for p in _list(old_spec.get("ports"))}
        new_ports = {_int(_dict(p).get("nodePort")) for p in _list(spec.get("ports"))}
        if (new_ports - {0}) <= (old_ports - {0}):
            for port in _list(spec.get("ports")):
                if isinstance(port, dict):
                    port.pop("nodePort", None)
    if needs_health_check(old_spec) and not needs_health_check(spec) and \
            _int(old_spec.get("healthCheckNodePort")) == _int(spec.get("healthCheckNodePort")):
        spec.pop("healthCheckNodePort", None)
    if old_spec.get("type") == LOAD_BALANCER and spec.get("type") != LOAD_BALANCER:
        if spec.get("allocateLoadBalancerNodePorts") is not None and \
                old_spec.get("allocateLoadBalancerNodePorts") == spec.get(
                    "allocateLoadBalancerNodePorts"):
            spec.pop("allocateLoadBalancerNodePorts")
        if old_spec.get("loadBalancerClass") == spec.get("loadBalancerClass"):
            spec.pop("loadBalancerClass", None)
    if _needs_node_port(old_spec) and not _needs_node_port(spec) and \
            old_spec.get("externalTrafficPolicy") == spec.get("externalTrafficPolicy"):
        spec.pop("externalTrafficPolicy", None)


def _reduced(spec, old_spec, key):
    values = _list(spec.get(key))
    return bool(values) and len(values) < len(_list(old_spec.get(key)))


def init_ip_families(spec, old_spec):
    """initIPFamilyFields, on a cluster that serves IPv4 only: the errors, if any."""
    if spec.get("type") == EXTERNAL_NAME:
        return []
    if spec.get("ipFamilyPolicy") is None:
        if old_spec is not None and old_spec.get("ipFamilyPolicy") is not None:
            spec["ipFamilyPolicy"] = old_spec["ipFamilyPolicy"]
        elif spec.get("clusterIP") == NONE and not spec.get("selector"):
            spec["ipFamilyPolicy"] = REQUIRE_DUAL_STACK      # headless + selectorless
        else:
            spec["ipFamilyPolicy"] = SINGLE_STACK
    errors = cluster_ips_related_errors(spec)
    if errors:
        return errors
    policy = spec["ipFamilyPolicy"]
    if old_spec is not None:
        if policy == SINGLE_STACK:
            if _list(old_spec.get("clusterIPs")) == _list(spec.get("clusterIPs")) \
                    and len(_list(spec.get("clusterIPs"))) > 1:
                spec["clusterIPs"] = spec["clusterIPs"][:1]
            if old_spec.get("ipFamilies") == spec.get("ipFamilies") \
                    and len(_list(spec.get("ipFamilies"))) > 1:
                spec["ipFamilies"] = spec["ipFamilies"][:1]
        else:
            if _reduced(spec, old_spec, "clusterIPs"):
                errors.append(FieldError.invalid(
                    "spec.ipFamilyPolicy", policy,
                    "must be 'SingleStack' to release the secondary cluster IP"))
            if _reduced(spec, old_spec, "ipFamilies"):
                errors.append(FieldError.invalid(
                    "spec.ipFamilyPolicy", policy,
                    "must be 'SingleStack' to release the secondary IP family"))
    cluster_ips = _list(spec.get("clusterIPs"))
    families = list(_list(spec.get("ipFamilies")))
    if policy == SINGLE_STACK:
        if len(cluster_ips) == 2:
            errors.append(FieldError.invalid(
                "spec.ipFamilyPolicy", policy, "must be 'RequireDualStack' or 'PreferDualStack' "
                "when multiple cluster IPs are specified"))
        if len(families) == 2:
            errors.append(FieldError.invalid(
                "spec.ipFamilyPolicy", policy, "must be 'RequireDualStack' or 'PreferDualStack' "
                "when multiple IP families are specified"))
    for i, ip in enumerate(cluster_ips):
        if ip == NONE:
            break
        family = family_of(ip)
        if i >= len(families):
            if family != "IPv4":
                errors.append(FieldError.invalid(
                    f"spec.clusterIPs[{i}]", go_strings(cluster_ips),
                    f"{family} is not configured on this cluster",
                    hint=f"kubelab's services get IPv4 addresses from {SERVICE_CIDR}"))
            else:
                families.append(family)
    if errors:
        return errors
    if spec.get("clusterIP") == NONE and not spec.get("selector"):
        # Headless and selectorless: the endpoints may be of either family.
        families = families or ["IPv4"]
        if len(families) < 2 and policy != SINGLE_STACK:
            families.append("IPv6" if families[0] == "IPv4" else "IPv4")
        spec["ipFamilies"] = families
        return []
    if policy == REQUIRE_DUAL_STACK:
        errors.append(FieldError.invalid("spec.ipFamilyPolicy", policy,
                                         "this cluster is not configured for dual-stack "
                                         "services"))
    for i, family in enumerate(families):
        if family != "IPv4":
            errors.append(FieldError.invalid(f"spec.ipFamilies[{i}]", family,
                                             "not configured on this cluster"))
    if errors:
        return errors
    spec["ipFamilies"] = families or ["IPv4"]
    return []


class _Pool:
    """The cluster's taken cluster IPs and node ports (every other Service's), as the
    bitmap allocators would hold them, plus what this operation has taken."""

    def __init__(self, cluster, own_uid):
        from cluster.models import ApiObject

        self.ips, self.ports = set(), set()
        rows = ApiObject.objects.filter(cluster=cluster, kind="Service", group="")
        if own_uid:
            rows = rows.filter(~Q(uid=own_uid))
        for body in rows.values_list("body", flat=True):
            spec = _dict(body.get("spec"))
            for ip in _list(spec.get("clusterIPs")) or [spec.get("clusterIP")]:
                parsed = parse_ip(ip)
                if parsed is not None:
                    self.ips.add(_as_v4(parsed))
            for port in _list(spec.get("ports")):
                if _int(_dict(port).get("nodePort")):
                    self.ports.add(_int(port["nodePort"]))
            if _int(spec.get("healthCheckNodePort")):
                self.ports.add(_int(spec["healthCheckNodePort"]))

    # ipallocator: the range's first and last address (network, broadcast) are never given.
    _ip_base = int(SERVICE_CIDR.network_address) + 1
    _ip_size = SERVICE_CIDR.num_addresses - 2
    _ip_offset = min(max(16, SERVICE_CIDR.num_addresses // 16), 256)
    _port_size = NODE_PORT_MAX - NODE_PORT_MIN + 1
    _port_offset = min(max(16, _port_size // 32), 128)

    def allocate_ip(self, text):
        """Allocate a requested IP: the error text, or None."""
        ip = _as_v4(parse_ip(text))
        if ip is None or ip not in SERVICE_CIDR or \
                not 0 <= int(ip) - self._ip_base < self._ip_size:
            return (f"the provided IP ({ip}) is not in the valid range. The range of valid IPs "
                    f"is {SERVICE_CIDR}")
        if ip in self.ips:
            return "provided IP is already allocated"
        self.ips.add(ip)
        return None

    def next_ip(self):
        taken = {int(ip) - self._ip_base for ip in self.ips if ip in SERVICE_CIDR}
        index = _pick(self._ip_size, self._ip_offset, taken)
        if index is None:
            raise ApiError("Internal error occurred: failed to allocate a serviceIP: range is "
                           "full")
        ip = ipaddress.IPv4Address(self._ip_base + index)
        self.ips.add(ip)
        return str(ip)

    def allocate_port(self, port):
        if not NODE_PORT_MIN <= port <= NODE_PORT_MAX:
            return ("provided port is not in the valid range. The range of valid ports is "
                    f"{NODE_PORT_MIN}-{NODE_PORT_MAX}")
        if port in self.ports:
            return "provided port is already allocated"
        self.ports.add(port)
        return None

    def next_port(self, what="a nodePort"):
        taken = {p - NODE_PORT_MIN for p in self.ports}
        index = _pick(self._port_size, self._port_offset, taken)
        if index is None:
            raise ApiError(f"Internal error occurred: failed to allocate {what}: range is full")
        self.ports.add(NODE_PORT_MIN + index)
        return NODE_PORT_MIN + index


def _pick(size, offset, taken):
    """randomScanStrategyWithOffset: a random free index in the upper band [offset, size),
    scanning on from a random start; then the lower band [0, offset)."""
    for low, high in ((offset, size), (0, offset)):
        width = high - low
        if width <= 0:
            continue
        start = random.randrange(width)
        for i in range(width):
            at = low + (start + i) % width
            if at not in taken:
                return at
    return None


def allocate_cluster_ips(spec, pool):
    """allocClusterIPs: the requested address, or a free one; none for ExternalName and
    headless services."""
    if spec.get("type") == EXTERNAL_NAME:
        return []
    ips = list(_list(spec.get("clusterIPs")))
    if ips and ips[0] == NONE:
        return []
    families = _list(spec.get("ipFamilies")) or ["IPv4"]
    while len(ips) < len(families):
        ips.append("")
    for i in range(len(families)):
        if ips[i] == "":
            ips[i] = pool.next_ip()
        else:
            problem = pool.allocate_ip(ips[i])
            if problem:
                hint = ("another Service has this cluster IP: leave clusterIP out and one is "
                        "given" if "already" in problem else
                        f"a Service's cluster IP comes from {SERVICE_CIDR} (10.96.0.1 to "
                        "10.111.255.254): leave clusterIP out and one is given")
                return [FieldError.invalid("spec.clusterIPs", go_strings(ips),
                                           f"failed to allocate IP {ips[i]}: {problem}", hint)]
    spec["clusterIPs"] = ips
    spec["clusterIP"] = ips[0]
    return []


def _should_allocate_node_ports(spec):
    if spec.get("type") == NODE_PORT:
        return True
    return spec.get("type") == LOAD_BALANCER and spec.get("allocateLoadBalancerNodePorts") \
        is not False


def _node_port_error(path, port, problem):
    hint = (f"node ports come from {NODE_PORT_MIN}-{NODE_PORT_MAX}: leave nodePort out and "
            "one is given" if "range" in problem else
            "another Service already listens on this node port: pick another, or leave "
            "nodePort out and one is given")
    return [FieldError.invalid(path, port, problem, hint)]


def init_node_ports(spec, pool):
    """initNodePorts (create): ports with the same port number share one node port."""
    ports = [p for p in _list(spec.get("ports")) if isinstance(p, dict)]
    by_port = {}
    for i, port in enumerate(ports):
        node_port = _int(port.get("nodePort"))
        if not node_port and not _should_allocate_node_ports(spec):
            continue
        number = _int(port.get("port"))
        allocated = by_port.get(number, 0)
        if not allocated:
            requested = next((_int(p.get("nodePort")) for p in ports
                              if _int(p.get("port")) == number and _int(p.get("nodePort"))), 0)
            if requested:
                problem = pool.allocate_port(requested)
                if problem:
                    return _node_port_error(f"spec.ports[{i}].nodePort", requested, problem)
                port["nodePort"] = requested
            else:
                port["nodePort"] = pool.next_port()
            by_port[number] = port["nodePort"]
        elif node_port != allocated:
            if not node_port:
                port["nodePort"] = allocated
            else:
                problem = pool.allocate_port(node_port)
                if problem:
                    return _node_port_error(f"spec.ports[{i}].nodePort", node_port, problem)
    return []


def update_node_ports(spec, old_spec, pool):
    """updateNodePorts: keep the old ones, allocate the new ones."""
    old_numbers = {_int(_dict(p).get("nodePort")) for p in _list(old_spec.get("ports"))} - {0}
    allocated = set()
    for i, port in enumerate(_list(spec.get("ports"))):
        if not isinstance(port, dict):
            continue
        node_port = _int(port.get("nodePort"))
        if not node_port and not _should_allocate_node_ports(spec):
            continue
        if node_port:
            if node_port not in old_numbers and node_port not in allocated:
                problem = pool.allocate_port(node_port)
                if problem:
                    return _node_port_error(f"spec.ports[{i}].nodePort", node_port, problem)
                allocated.add(node_port)
        else:
            port["nodePort"] = pool.next_port()
    return []


def allocate_health_check_node_port(spec, old_spec, pool):
    """allocHealthCheckNodePort / updateHealthCheckNodePort: a LoadBalancer with
    externalTrafficPolicy Local gets a node port for the load balancer's health checks."""
    if not needs_health_check(spec):
        return
    if old_spec is not None and needs_health_check(old_spec):
        return        # kept (a change is refused by validation)
    requested = _int(spec.get("healthCheckNodePort"))
    if requested:
        problem = pool.allocate_port(requested)
        if problem:
            raise ApiError(f"Internal error occurred: failed to allocate requested HealthCheck "
                           f"NodePort {requested}: {problem}")
    else:
        spec["healthCheckNodePort"] = pool.next_port("a HealthCheck NodePort")
