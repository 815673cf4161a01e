"""EndpointSlice (discovery.k8s.io/v1): a share of a Service's endpoints, up to 100 a slice.

The EndpointSlice controller writes them for Services with a selector (cluster.controllers.
endpointslice); kube-proxy and `kubectl describe service` read them. Kubernetes 1.32:
- defaulting: pkg/apis/discovery/v1/defaults.go (SetDefaults_EndpointPort: a port's name
  defaults to "" and its protocol to TCP, so every port of a stored slice has both); empty
  `endpoints` and `ports` read back as null, as from a 1.32 API server;
- strategy: pkg/registry/discovery/endpointslice/strategy.go (generation 1 on create, +1 when
  anything but metadata, or the labels, change; dropTopologyOnV1: a v1 write clears each
  endpoint's deprecatedTopology, on update only when the endpoints changed);
- validation: pkg/apis/discovery/validation/validation.go (ValidateEndpointSlice,
  validateAddressType, validateEndpoints, validateHints, validatePorts; the addressType may
  not change on update).
EndpointSlices have no status and no short name.
"""

from cluster import printing
from cluster.errors import FieldError
from cluster.kinds import Kind, owner_controller_uid, register
from cluster.kinds import service as svc
from cluster.kinds import validation as v
from cluster.kinds import workload as w

ADDRESS_TYPES = ("FQDN", "IPv4", "IPv6")    # supportedAddressTypes, as sets.List sorts them
MAX_ADDRESSES = 100                         # maxAddresses
MAX_ENDPOINTS = 1000                        # maxEndpoints
MAX_PORTS = 20000                           # maxPorts
MAX_TOPOLOGY_LABELS = 16                    # maxTopologyLabels
MAX_ZONE_HINTS = 8                          # maxZoneHints
ZONE_LABEL = "topology.kubernetes.io/zone"  # v1.LabelTopologyZone


@register
class EndpointSlice(Kind):
    kind = "EndpointSlice"
    group = "discovery.k8s.io"
    plural, singular = "endpointslices", "endpointslice"
    model = "V1EndpointSlice"
    has_status = False
    has_generation = True

    def default(self, obj, ctx):
        # Go leaves empty lists nil and prints nil as null (the fields have no omitempty): an
        # EndpointSlice without endpoints reads back `endpoints: null` from a 1.32 API server.
        for field in ("endpoints", "ports"):
            if obj.get(field) == []:
                obj[field] = None
            obj.setdefault(field, None)
        for port in svc._list(obj.get("ports")):
            if isinstance(port, dict):
                if port.get("name") is None:
                    port["name"] = ""
                if port.get("protocol") is None:
                    port["protocol"] = "TCP"

    def prepare_create(self, obj, ctx):
        _drop_topology(obj)

    def prepare_update(self, old, new, ctx):
        if svc._list(old.get("endpoints")) != svc._list(new.get("endpoints")):
            _drop_topology(new)
        if _content(old) != _content(new) or \
                old["metadata"].get("labels") != new["metadata"].get("labels"):
            new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1

    def validate(self, obj, ctx):
        address_type = obj.get("addressType")
        errors = []
        if not address_type:
            errors.append(FieldError.required("addressType"))
        elif address_type not in ADDRESS_TYPES:
            errors.append(FieldError.not_supported("addressType", address_type, ADDRESS_TYPES))
        errors += _endpoints_errors(svc._list(obj.get("endpoints")), address_type)
        errors += _ports_errors(svc._list(obj.get("ports")))
        return errors

    def validate_update(self, old, new, ctx):
        return w.immutable(new.get("addressType"), old.get("addressType"), "addressType")

    def index(self, obj):
        # The Service that owns it, for the garbage collector.
        return {"owner_uid": owner_controller_uid(obj)}

    # kubectl get endpointslices: printEndpointSlice's columns.
    columns = (printing.NAME,
               printing.Column("AddressType", description=("V1EndpointSlice", "addressType")),
               printing.Column("Ports", description=("V1EndpointSlice", "ports")),
               printing.Column("Endpoints", description=("V1EndpointSlice", "endpoints")),
               printing.AGE)

    def printer_row(self, obj, now):
        return [obj["metadata"].get("name", ""), str(obj.get("addressType") or ""),
                printed_ports(obj), printed_endpoints(obj), printing.age(obj, now)]


def _content(obj):
    return {k: value for k, value in obj.items() if k != "metadata"}


def _drop_topology(obj):
    """dropTopologyOnV1: silently clear each endpoint's deprecatedTopology."""
    for endpoint in svc._list(obj.get("endpoints")):
        if isinstance(endpoint, dict):
            endpoint.pop("deprecatedTopology", None)


# --- the cells kubectl prints ------------------------------------------------------------------

def _more_list(shown, count, limit=3):
    """listWithMoreString: the first three, "+ N more...", "<unset>" when there are none."""
    text = ",".join(shown)
    if count > limit:
        return f"{text} + {count - limit} more..."
    return text or "<unset>"


def printed_ports(obj, limit=3):
    """formatDiscoveryPorts: each port's number, or its name when it has none, else "*"."""
    ports = [svc._dict(p) for p in svc._list(obj.get("ports"))]
    shown = []
    for port in ports[:limit]:
        if port.get("port") is not None:
            shown.append(str(port["port"]))
        elif port.get("name") is not None:
            shown.append(str(port["name"]))
        else:
            shown.append("*")
    return _more_list(shown, len(ports), limit)


def printed_endpoints(obj, limit=3):
    """formatDiscoveryEndpoints: every endpoint's addresses, ready or not."""
    addresses = [str(address) for endpoint in svc._list(obj.get("endpoints"))
                 for address in svc._list(svc._dict(endpoint).get("addresses"))]
    return _more_list(addresses[:limit], len(addresses), limit)


# --- validation --------------------------------------------------------------------------------

def too_many(path, count, limit):
    """field.TooMany: "Too many: 101: must have at most 100 items"."""
    return FieldError(path, "FieldValueTooMany", f"must have at most {limit} items", count, True)


def _endpoints_errors(endpoints, address_type):
    """validateEndpoints."""
    if len(endpoints) > MAX_ENDPOINTS:
        return [too_many("endpoints", len(endpoints), MAX_ENDPOINTS)]
    errors = []
    for i, endpoint in enumerate(endpoints):
        endpoint, path = svc._dict(endpoint), f"endpoints[{i}]"
        addresses = svc._list(endpoint.get("addresses"))
        if not addresses:
            errors.append(FieldError.required(f"{path}.addresses",
                                              "must contain at least 1 address"))
        elif len(addresses) > MAX_ADDRESSES:
            errors.append(too_many(f"{path}.addresses", len(addresses), MAX_ADDRESSES))
        for j, address in enumerate(addresses):
            errors += _address_errors(svc._str(address), address_type,
                                      f"{path}.addresses[{j}]")
        node_name = endpoint.get("nodeName")
        if node_name is not None:
            errors += v.each(f"{path}.nodeName", node_name,
                             v.dns1123_subdomain(svc._str(node_name)))
        topology = svc._dict(endpoint.get("deprecatedTopology"))
        if len(topology) > MAX_TOPOLOGY_LABELS:
            errors.append(too_many(f"{path}.deprecatedTopology", len(topology),
                                   MAX_TOPOLOGY_LABELS))
        errors += v.labels(f"{path}.deprecatedTopology", topology)
        hostname = endpoint.get("hostname")
        if hostname is not None:
            errors += v.each(f"{path}.hostname", hostname, v.dns1123_label(svc._str(hostname)))
        hints = endpoint.get("hints")
        if hints is not None:
            errors += _hints_errors(svc._dict(hints), f"{path}.hints")
    return errors


def _address_errors(address, address_type, path):
    """An address of a known type: IPv4 and IPv6 addresses of that family that are not special
    (ValidateEndpointIP); FQDNs (IsFullyQualifiedDomainName). Other types go unchecked."""
    if address_type in ("IPv4", "IPv6"):
        ip = svc.parse_ip(address)
        family = svc.family_of(address) if ip is not None else None
        errors = []
        if family != address_type:
            errors.append(FieldError.invalid(path, address,
                                             f"must be a valid {address_type} address"))
        return errors + svc.non_special_ip(path, address)
    if address_type == "FQDN":
        return fqdn_errors(path, address)
    return []


def fqdn_errors(path, name):
    """IsFullyQualifiedDomainName: a subdomain of at least two labels (a final dot allowed)."""
    if not name:
        return [FieldError.required(path)]
    name = name[:-1] if name.endswith(".") else name
    problems = v.dns1123_subdomain(name)
    if problems:
        return [FieldError.invalid(path, name, ",".join(problems))]
    labels = name.split(".")
    if len(labels) < 2:
        return [FieldError.invalid(path, name, "should be a domain with at least two segments "
                                               "separated by dots")]
    for label in labels:
        problems = v.dns1123_label(label)
        if problems:
            return [FieldError.invalid(path, label, ",".join(problems))]
    return []


def _hints_errors(hints, path):
    """validateHints: at most 8 zones, each a label value, none twice."""
    zones = svc._list(hints.get("forZones"))
    if len(zones) > MAX_ZONE_HINTS:
        return [too_many(f"{path}.forZones", len(zones), MAX_ZONE_HINTS)]
    errors, seen = [], set()
    for i, zone in enumerate(zones):
        name = svc._str(svc._dict(zone).get("name"))
        zone_path = f"{path}.forZones[{i}].name"
        if name in seen:
            errors.append(FieldError.duplicate(zone_path, name))
        seen.add(name)
        errors += v.each(zone_path, name, v.label_value(name))
    return errors


def _ports_errors(ports):
    """validatePorts: names are DNS labels and unique ("" once), a supported protocol, an
    appProtocol that is a qualified name."""
    if len(ports) > MAX_PORTS:
        return [too_many("ports", len(ports), MAX_PORTS)]
    errors, names = [], set()
    for i, port in enumerate(ports):
        port, path = svc._dict(port), f"ports[{i}]"
        name = svc._str(port.get("name"))
        if name:
            errors += v.each(f"{path}.name", name, v.dns1123_label(name))
        if name in names:
            errors.append(FieldError.duplicate(f"{path}.name", name))
        names.add(name)
        protocol = port.get("protocol")
        if protocol is None:
            errors.append(FieldError.required(f"{path}.protocol"))
        elif protocol not in svc.PROTOCOLS:
            errors.append(FieldError.not_supported(f"{path}.protocol", protocol, svc.PROTOCOLS))
        app_protocol = port.get("appProtocol")
        if app_protocol is not None:
            errors += v.each(f"{path}.appProtocol", app_protocol,
                             v.qualified_name(svc._str(app_protocol)))
    return errors
