"""Endpoints (v1): the addresses and ports behind a Service, ready and not ready.

The endpoints controller writes one per Service with a selector (same name); a Service without
a selector gets its Endpoints from the user. Kubernetes 1.32:
- defaulting: pkg/apis/core/v1/defaults.go (SetDefaults_Endpoints: port protocol TCP);
- validation: pkg/apis/core/validation/validation.go (ValidateEndpoints,
  validateEndpointSubsets, validateEndpointAddress, ValidateNonSpecialIP,
  validateEndpointPort), the same on create and update.
Endpoints have no status and no generation.
"""

from cluster import printing
from cluster.errors import FieldError
from cluster.kinds import Kind, register
from cluster.kinds import service as svc
from cluster.kinds import validation as v


@register
class Endpoints(Kind):
    kind = "Endpoints"
    plural = singular = "endpoints"
    short_names = ("ep",)
    model = "V1Endpoints"
    has_status = False

    def default(self, obj, ctx):
        for subset in svc._list(obj.get("subsets")):
            for port in svc._list(svc._dict(subset).get("ports")):
                if isinstance(port, dict) and not port.get("protocol"):
                    port["protocol"] = "TCP"

    def validate(self, obj, ctx):
        errors = []
        for i, subset in enumerate(svc._list(obj.get("subsets"))):
            errors += _subset_errors(svc._dict(subset), f"subsets[{i}]")
        return errors

    # kubectl get ep: printEndpoints's columns.
    columns = (printing.NAME,
               printing.Column("Endpoints", description=("V1Endpoints", "subsets")),
               printing.AGE)

    def printer_row(self, obj, now):
        return [obj["metadata"].get("name", ""), printed_endpoints(obj), printing.age(obj, now)]


def printed_endpoints(obj, limit=3):
    """formatEndpoints: the ready addresses as ip:port, each address once per port, the
    first three shown ("10.244.1.5:8080,... + 3 more..."); "<none>" with no subsets."""
    subsets = [svc._dict(s) for s in svc._list(obj.get("subsets"))]
    if not subsets:
        return printing.NONE
    shown, total = [], 0
    for subset in subsets:
        ips = [str(svc._dict(a).get("ip", "")) for a in svc._list(subset.get("addresses"))]
        ports = [svc._dict(p).get("port") for p in svc._list(subset.get("ports"))]
        # A headless service's subset may have no ports: its addresses alone.
        for port in ports or [None]:
            total += len(ips)
            for ip in ips:
                if len(shown) < limit:
                    shown.append(ip if port is None else _host_port(ip, port))
    return printing.more_list(shown, total, limit)


def _host_port(ip, port):
    """net.JoinHostPort: an IPv6 address goes in brackets."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _subset_errors(subset, path):
    """validateEndpointSubsets: each subset has addresses; a headless Service's may have no
    ports."""
    addresses = svc._list(subset.get("addresses"))
    not_ready = svc._list(subset.get("notReadyAddresses"))
    ports = svc._list(subset.get("ports"))
    errors = []
    if not addresses and not not_ready:
        errors.append(FieldError.required(path, "must specify `addresses` or "
                                                "`notReadyAddresses`"))
    for i, address in enumerate(addresses):
        errors += _address_errors(svc._dict(address), f"{path}.addresses[{i}]")
    for i, address in enumerate(not_ready):
        errors += _address_errors(svc._dict(address), f"{path}.notReadyAddresses[{i}]")
    for i, port in enumerate(ports):
        errors += _port_errors(svc._dict(port), f"{path}.ports[{i}]", len(ports) > 1)
    return errors


def _address_errors(address, path):
    """validateEndpointAddress: a valid IP that is not special, a DNS label hostname, a
    subdomain nodeName. An IP that does not parse is reported twice, as Kubernetes does."""
    ip = address.get("ip") if isinstance(address.get("ip"), str) else ""
    errors = svc.valid_ip(f"{path}.ip", ip)
    hostname = address.get("hostname")
    if hostname:
        errors += v.each(f"{path}.hostname", hostname, v.dns1123_label(hostname))
    node_name = address.get("nodeName")
    if node_name is not None:
        errors += v.each(f"{path}.nodeName", node_name, v.dns1123_subdomain(node_name))
    errors += svc.non_special_ip(f"{path}.ip", ip)
    return errors


def _port_errors(port, path, require_name):
    """validateEndpointPort: names are DNS labels (required when there are several)."""
    errors = []
    name = port.get("name") or ""
    if require_name and not name:
        errors.append(FieldError.required(f"{path}.name"))
    elif name:
        errors += v.each(f"{path}.name", name, v.dns1123_label(name))
    errors += v.each(f"{path}.port", svc._int(port.get("port")), svc.port_number(port.get("port")))
    protocol = port.get("protocol")
    if not protocol:
        errors.append(FieldError.required(f"{path}.protocol"))
    elif protocol not in svc.PROTOCOLS:
        errors.append(FieldError.not_supported(f"{path}.protocol", protocol, svc.PROTOCOLS))
    app_protocol = port.get("appProtocol")
    if app_protocol is not None:
        errors += v.each(f"{path}.appProtocol", app_protocol, v.qualified_name(app_protocol))
    return errors
