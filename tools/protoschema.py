"""Derive cluster/api/protobuf_messages.py, the field table kubelab's protobuf decoder
(cluster/api/protobuf.py) reads, from Kubernetes' API sources.

    python tools/protoschema.py --kubernetes ~/src/kubernetes \
        > cluster/api/protobuf_messages.py
    python tools/protoschema.py --api ~/src/api --apimachinery ~/src/apimachinery \
        > cluster/api/protobuf_messages.py

`--kubernetes` is a kubernetes/kubernetes checkout (its staging/src/k8s.io/api and
.../apimachinery); `--api` and `--apimachinery` are checkouts of k8s.io/api and
k8s.io/apimachinery themselves. The committed table was made from tag v0.32.9 of both
(Kubernetes 1.32, the version kubectl speaks):

    mkdir -p /tmp/k8s/api /tmp/k8s/apimachinery
    git -C ~/src/api archive v0.32.9 | tar -x -C /tmp/k8s/api
    git -C ~/src/apimachinery archive v0.32.9 | tar -x -C /tmp/k8s/apimachinery
    python tools/protoschema.py --api /tmp/k8s/api --apimachinery /tmp/k8s/apimachinery \
        > cluster/api/protobuf_messages.py

Two sources are joined, message by message and field number (gogo-protobuf names each
message after its Go struct): generated.proto gives each field's number, protobuf type, and
whether it is repeated or a map; the Go struct tags in the package's .go files give its
JSON name, `omitempty`, `inline`, and whether the Go field is a pointer. Those decide how
a decoded value reads as JSON: a pointer's zero is kept (`replicas: 0`), a non-pointer
omitempty zero is dropped.

Only facts are written out (numbers, names, types, flags), for the messages reachable from the
kinds kubelab serves (ROOTS). Messages whose JSON form is custom (Time, IntOrString, Quantity,
...) are left to the decoder, which knows each by name (cluster.api.protobuf.SPECIAL).
"""

import argparse
import re
import sys
from pathlib import Path

META = "k8s.io.apimachinery.pkg.apis.meta.v1"

# apiVersion -> (k8s.io/api package directory, the kinds whose bodies kubelab takes).
ROOTS = {
    "v1": ("core/v1", ["Pod", "Node", "Namespace", "Event", "Service", "Endpoints",
                       "ReplicationController"]),
    "apps/v1": ("apps/v1", ["ReplicaSet", "DaemonSet"]),
    "apps/v1beta2": ("apps/v1beta2", ["ReplicaSet", "DaemonSet"]),
    "extensions/v1beta1": ("extensions/v1beta1", ["ReplicaSet", "DaemonSet", "Ingress"]),
    "batch/v1": ("batch/v1", ["Job", "CronJob"]),
    "batch/v1beta1": ("batch/v1beta1", ["CronJob"]),
    "networking.k8s.io/v1": ("networking/v1", ["Ingress"]),
    "networking.k8s.io/v1beta1": ("networking/v1beta1", ["Ingress"]),
    "discovery.k8s.io/v1": ("discovery/v1", ["EndpointSlice"]),
    "policy/v1": ("policy/v1", ["Eviction"]),
    "policy/v1beta1": ("policy/v1beta1", ["Eviction"]),
    "autoscaling/v1": ("autoscaling/v1", ["Scale"]),
}
# Kinds of meta/v1 a body may be in whatever the apiVersion says (clients register them in
# every group version).
META_ROOTS = ["DeleteOptions"]

# Messages whose JSON form is not their fields: the decoder reads these itself.
SPECIAL = {
    f"{META}.Time", f"{META}.MicroTime", f"{META}.Duration", f"{META}.FieldsV1",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
    "k8s.io.apimachinery.pkg.api.resource.Quantity",
    "k8s.io.apimachinery.pkg.runtime.RawExtension",
}

APIMACHINERY_PACKAGES = ["pkg/apis/meta/v1", "pkg/util/intstr", "pkg/api/resource",
                         "pkg/runtime"]

PROTO_FIELD = re.compile(
    r"^\s*(?:(optional|repeated|required)\s+([\w.]+)|map<\s*(\w+)\s*,\s*([\w.]+)\s*>)"
    r"\s+(\w+)\s*=\s*(\d+)\s*;")
GO_FIELD = re.compile(r"^\s*(?:(\w+)\s+)?([^\s`]+)\s+`([^`]*)`")
TAG = re.compile(r'(\w+):"([^"]*)"')


def parse_proto(path):
    """{message full name: [(proto name, number, type, label)]}; types made full names."""
    package, messages, current = "", {}, None
    for line in path.read_text().splitlines():
        line = line.split("//")[0]
        if m := re.match(r"^\s*package\s+([\w.]+)\s*;", line):
            package = m.group(1)
        elif m := re.match(r"^message\s+(\w+)\s*{", line):
            current = messages.setdefault(f"{package}.{m.group(1)}", [])
        elif re.match(r"^}", line):
            current = None
        elif current is not None and (m := PROTO_FIELD.match(line)):
            label, ftype, key, value, name, number = m.groups()
            if key:
                current.append((name, int(number), (key, _full(value, package)), "map"))
            else:
                current.append((name, int(number), _full(ftype, package), label))
    return package, messages


SCALARS = {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "sint32",
           "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64", "double", "float"}


def _full(ftype, package):
    if ftype in SCALARS:
        return ftype
    return ftype.lstrip(".") if ftype.startswith(".") else f"{package}.{ftype}"


def parse_go_structs(directory):
    """{struct name: {protobuf field number: (json name, omitempty, inline, pointer, order)}}."""
    structs = {}
    for path in sorted(directory.glob("*.go")):
        if path.name.endswith("_test.go"):
            continue
        current, depth = None, 0
        for line in path.read_text().splitlines():
            code = line.split("//")[0]
            if current is None:
                if m := re.match(r"^type\s+(\w+)\s+struct\s*{", code):
                    current = structs.setdefault(m.group(1), {})
                    depth = code.count("{") - code.count("}")
                    if depth <= 0:               # `type Patch struct{}`
                        current = None
                continue
            depth += code.count("{") - code.count("}")
            if depth <= 0:
                current = None
                continue
            m = GO_FIELD.match(line)
            if depth != 1 or not m:
                continue
            _name, gotype, tags = m.groups()
            tags = dict(TAG.findall(tags))
            proto = tags.get("protobuf", "")
            if not proto or proto == "-":
                continue
            number = int(proto.split(",")[1])
            json_parts = tags.get("json", "").split(",")
            current[number] = (json_parts[0], "omitempty" in json_parts[1:],
                                   "inline" in json_parts[1:], gotype.startswith("*"),
                                   len(current))
    return structs


def load(api_dir, apimachinery_dir):
    """Every message of the packages ROOTS and apimachinery name, with its Go field facts."""
    directories = [api_dir / p for p, _kinds in ROOTS.values()]
    directories += [apimachinery_dir / p for p in APIMACHINERY_PACKAGES]
    messages, go_fields, packages = {}, {}, {}
    for directory in dict.fromkeys(directories):
        package, found = parse_proto(directory / "generated.proto")
        packages[directory] = package
        structs = parse_go_structs(directory)
        for full, fields in found.items():
            messages[full] = fields
            go_fields[full] = structs.get(full.rsplit(".", 1)[1], {})
    roots = {api_version: (packages[api_dir / p], kinds)
             for api_version, (p, kinds) in ROOTS.items()}
    return messages, go_fields, roots


FLAGS = (("r", "repeated"), ("m", "map"))


def table(messages, go_fields, roots):
    """{message: ((number, json name, type, flags), ...)} in Go field order, for the messages
    reachable from the roots. flags: r repeated, m map (type is the value's), o omitempty,
    p Go pointer, i inline (its fields are the parent's in JSON)."""
    wanted = [f"{package}.{kind}" for package, kinds in roots.values() for kind in kinds]
    wanted += [f"{META}.{kind}" for kind in META_ROOTS]
    out = {}
    while wanted:
        name = wanted.pop()
        if name in out or name in SPECIAL:
            continue
        if name not in messages:
            raise SystemExit(f"message {name} is not in the sources read")
        rows = []
        for proto_name, number, ftype, label in messages[name]:
            go = go_fields[name].get(number)
            if go is None:
                raise SystemExit(f"{name}.{proto_name}: no Go field with protobuf number {number}")
            json_name, omitempty, inline, pointer, order = go
            flags = ("r" if label == "repeated" else "") + ("m" if label == "map" else "") + \
                    ("o" if omitempty else "") + ("p" if pointer else "") + ("i" if inline else "")
            if label == "map":
                key, ftype = ftype
                if key != "string":
                    raise SystemExit(f"{name}.{proto_name}: map keys of {key}")
            rows.append((order, (number, json_name, ftype, flags)))
            if ftype not in SCALARS:
                wanted.append(ftype)
        out[name] = tuple(row for _order, row in sorted(rows))
    return dict(sorted(out.items()))


HEADER = '''"""Kubernetes 1.32's protobuf messages as kubelab's decoder reads them: derived by
tools/protoschema.py from k8s.io/api and k8s.io/apimachinery v0.32.9 (do not edit by hand).

MESSAGES: {message: ((field number, JSON name, type, flags), ...)} in Go field order; type is
a protobuf scalar or a message's full name (a map's value type for a map); flags: r repeated,
m map (string keys), o omitempty, p a Go pointer, i inline (its fields are the parent's).
PACKAGES: apiVersion -> the protobuf package of its kinds.
"""

'''


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubernetes", type=Path, help="a kubernetes/kubernetes checkout")
    parser.add_argument("--api", type=Path, help="a k8s.io/api checkout")
    parser.add_argument("--apimachinery", type=Path, help="a k8s.io/apimachinery checkout")
    args = parser.parse_args(argv)
    if args.kubernetes:
        staging = args.kubernetes / "staging" / "src" / "k8s.io"
        args.api = args.api or staging / "api"
        args.apimachinery = args.apimachinery or staging / "apimachinery"
    if not (args.api and args.apimachinery):
        parser.error("give --kubernetes, or both --api and --apimachinery")
    messages, go_fields, roots = load(args.api, args.apimachinery)
    packages = {api_version: package for api_version, (package, _kinds) in roots.items()}
    sys.stdout.write(HEADER + render(packages, table(messages, go_fields, roots)))


def render(packages, messages):
    """The table as a Python module body: one line per field, diff-friendly."""
    lines = ["PACKAGES = {"]
    lines += [f"    {api_version!r}: {package!r}," for api_version, package in packages.items()]
    lines += ["}", "", f"META = {META!r}", "", "MESSAGES = {"]
    for name, fields in messages.items():
        lines.append(f"    {name!r}: (")
        lines += [f"        {field!r}," for field in fields]
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"

if __name__ == "__main__":
    main()
