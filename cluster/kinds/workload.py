"""What the workload kinds share: pod templates, label selectors and Go-worded field errors.

ReplicationController, ReplicaSet, DaemonSet, Job and CronJob all carry a pod template and a
selector that must pick the template's pods. The rules here are the API server's
(pkg/apis/core/validation ValidatePodTemplateSpec, pkg/apis/apps/validation,
pkg/apis/batch/validation); each kind module decides which apply to it and in what order.
"""

from cluster import selectors
from cluster.errors import FieldError
from cluster.kinds import validation as v
from cluster.kinds.pod import default_pod_spec, validate_pod_spec

# apimachinery/pkg/api/validation: FieldImmutableErrorMsg and IsNegativeErrorMsg.
IMMUTABLE = "field is immutable"
NEGATIVE = "must be greater than or equal to 0"
MISMATCH = "`selector` does not match template `labels`"


# --- values as the API server prints them ----------------------------------------------------

class GoValue:
    """A field error's value as Go's %#v prints it (`map[string]string{"app":"kubia"}`).

    errors.format_value shows repr() of a non-primitive value, so this carries the Go text.
    """

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text

    def __eq__(self, other):
        return isinstance(other, GoValue) and other.text == self.text

    def __hash__(self):
        return hash(self.text)


def go_quote(text):
    # Looked up when called: cluster.selectors imports cluster.kinds, which imports this.
    return selectors.go_quote(text)


def _string_map(d):
    if d is None:
        return "map[string]string(nil)"
    return "map[string]string{" + ", ".join(
        f"{go_quote(str(k))}:{go_quote(str(d[k]))}" for k in sorted(d)) + "}"


def _string_slice(values):
    if values is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(go_quote(str(x)) for x in values) + "}"


def go_labels(labels):
    """A label map (template.Labels) as field.Invalid shows it."""
    return GoValue(_string_map(labels))


def go_selector(selector):
    """A *metav1.LabelSelector as field.Invalid shows it: dereferenced, then %#v."""
    if selector is None:
        return None  # a nil pointer prints as null
    expressions = selector.get("matchExpressions")
    if expressions is None:
        shown = "[]v1.LabelSelectorRequirement(nil)"
    else:
        shown = "[]v1.LabelSelectorRequirement{" + ", ".join(
            "v1.LabelSelectorRequirement{Key:%s, Operator:%s, Values:%s}" % (
                go_quote(str(e.get("key", ""))), go_quote(str(e.get("operator", ""))),
                _string_slice(e.get("values"))) for e in expressions) + "}"
    return GoValue(f"v1.LabelSelector{{MatchLabels:{_string_map(selector.get('matchLabels'))}, "
                   f"MatchExpressions:{shown}}}")


def go_int_or_string(value):
    """An intstr.IntOrString (a struct, no Stringer on the value) as %#v prints it."""
    if isinstance(value, str):
        return GoValue(f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(value)}}}")
    return GoValue(f"intstr.IntOrString{{Type:0, IntVal:{value}, StrVal:\"\"}}")


# The API server prints a changed pod template as the whole internal struct, hundreds of
# fields long; kubelab shows its head and says in a hint what may change instead.
GO_TEMPLATE = GoValue("core.PodTemplateSpec{...}")


# --- small rules -------------------------------------------------------------------------------

def creating(obj):
    """True while an object is being created. The store stamps metadata.generation only after
    a create is validated, and keeps the stored one on every update: so an object without it
    is new. (Kind.validate runs on both; the update-only rules live in validate_update.)"""
    return "generation" not in (obj.get("metadata") or {})


def nonnegative(spec, key, path):
    """ValidateNonnegativeField for an optional integer field of `spec`."""
    value = spec.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [FieldError.invalid(f"{path}.{key}", value, NEGATIVE)]
    return []


def immutable(new, old, path, shown=None):
    """ValidateImmutableField: `path: Invalid value: <new>: field is immutable`."""
    if new == old:
        return []
    return [FieldError.invalid(path, new if shown is None else shown, IMMUTABLE)]


# --- pod templates -----------------------------------------------------------------------------

def template_labels(template):
    """The template's labels: None when absent (Go's nil map), {} when written empty."""
    return ((template or {}).get("metadata") or {}).get("labels")


def default_template(template):
    """Defaulting recurses into a template's PodSpec (SetDefaults_PodSpec and the container
    defaults), never into what only a Pod gets (service links, priority, tolerations)."""
    if isinstance(template, dict):
        default_pod_spec(template.setdefault("spec", {}))


def validate_template(template, path):
    """ValidatePodTemplateSpec (pkg/apis/core/validation): note the labels' path is
    `<path>.labels`, not `<path>.metadata.labels`, as Kubernetes words it."""
    meta = template.get("metadata") or {}
    errors = v.labels(f"{path}.labels", meta.get("labels"))
    errors += v.annotations(f"{path}.annotations", meta.get("annotations"))
    errors += validate_pod_spec(template.get("spec") or {}, f"{path}.spec")
    return errors


def only_restart_policy(template, path, allowed=("Always",)):
    """Controllers that keep pods running accept only restartPolicy Always (NotSupported)."""
    policy = (template.get("spec") or {}).get("restartPolicy")
    if policy not in allowed:
        return [FieldError.not_supported(f"{path}.spec.restartPolicy", policy, allowed)]
    return []


# --- label selectors ---------------------------------------------------------------------------

def selector_of(label_selector):
    """metav1.LabelSelectorAsSelector: a Selector, or None when the selector cannot be built."""
    try:
        return selectors.from_label_selector(label_selector)
    except selectors.SelectorError:
        return None


def validate_label_selector(label_selector, path, empty_word, required=True):
    """A LabelSelector as the apps kinds check it (ValidateReplicaSetSpec and friends):
    Required when absent, each requirement valid, and not empty, in Kubernetes' words
    ("empty selector is invalid for deployment" is what ReplicaSets say too)."""
    if label_selector is None:
        return [FieldError.required(path)] if required else []
    errors = selectors.validate_label_selector(label_selector, path)
    if not label_selector.get("matchLabels") and not label_selector.get("matchExpressions"):
        errors.append(FieldError.invalid(path, go_selector(label_selector),
                                         f"empty selector is invalid for {empty_word}"))
    return errors


def selector_matches_template(selector, labels, path, written):
    """The template's pods must be selected by their controller's selector. `written` is the
    selector as the manifest gave it (None when absent), for kubelab's hint."""
    if selector is None or selector.matches(labels or {}):
        return []
    return [FieldError.invalid(f"{path}.metadata.labels", go_labels(labels), MISMATCH,
                               _mismatch_hint(written, labels))]


def set_default(mapping, key, value):
    """Fill `key` when absent or null, as a Go defaulter fills a nil pointer."""
    if mapping.get(key) is None:
        mapping[key] = value
    return mapping[key]


def _mismatch_hint(written, labels):
    """kubelab's teaching sentence under a selector/template mismatch."""
    if written is None:
        return ("spec.selector is missing, so it selects nothing: write one that picks the "
                "template's labels, e.g. selector: {matchLabels: {app: ...}}")
    shown = selectors.to_string(written) if "matchLabels" in written or \
        "matchExpressions" in written else selectors.format_labels(written)
    if not labels:
        return (f"the template's pods would carry no labels, so the selector ({shown}) could "
                "never find them: add its labels under spec.template.metadata.labels")
    return (f"the selector ({shown}) must pick the pods this template makes, and "
            f"{selectors.format_labels(labels)} does not satisfy it")


# --- old apiVersions ---------------------------------------------------------------------------

def deprecation_warning(api_version, kind, deprecated, removed, current):
    """The API server's warning for a deprecated version (apiserver endpoints/deprecation,
    with the lifecycle each old type declares in k8s.io/api)."""
    return (f"{api_version} {kind} is deprecated in v{deprecated}+, unavailable in "
            f"v{removed}+; use {current} {kind}")


def default_selector_from_template(obj):
    """extensions/v1beta1's defaulting (pkg/apis/extensions/v1beta1/defaults.go): a missing
    selector and missing object labels come from the template's labels. apps/v1 requires a
    selector instead, so this runs only for manifests written in the old version."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    labels = template_labels(spec.get("template"))
    if labels is None:
        return
    if spec.get("selector") is None:
        spec["selector"] = {"matchLabels": dict(labels)}
    meta = obj.setdefault("metadata", {})
    if isinstance(meta, dict) and not meta.get("labels"):
        meta["labels"] = dict(labels)
