"""DaemonSet (apps/v1): one pod on every node that fits, no replica count.

Defaulting: pkg/apis/apps/v1/defaults.go (SetDefaults_DaemonSet); validation:
pkg/apis/apps/validation (ValidateDaemonSetSpec, ValidateDaemonSetUpdateStrategy,
ValidateRollingUpdateDaemonSet); create and update: pkg/registry/apps/daemonset/strategy.go.
"""

import re

from cluster import printing
from cluster.errors import FieldError
from cluster.kinds import Kind, owner_controller_uid, register
from cluster.kinds import workload as w

STRATEGIES = ("RollingUpdate", "OnDelete")
# apimachinery/pkg/util/validation IsValidPercent, worded by its RegexError.
PERCENT = re.compile(r"[0-9]+%")
PERCENT_ERROR = ("a valid percent string must be a numeric string followed by an ending '%' "
                 "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")


TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"


@register
class DaemonSet(Kind):
    kind = "DaemonSet"
    group, version = "apps", "v1"
    plural, singular = "daemonsets", "daemonset"
    short_names = ("ds",)
    categories = ("all",)
    model = "V1DaemonSet"
    has_generation = True
    deprecated_versions = {
        "apps/v1beta2": w.deprecation_warning("apps/v1beta2", "DaemonSet", "1.9", "1.16",
                                              "apps/v1"),
        "extensions/v1beta1": w.deprecation_warning("extensions/v1beta1", "DaemonSet", "1.8",
                                                    "1.16", "apps/v1"),
    }

    def convert(self, obj, api_version):
        if api_version == "extensions/v1beta1":
            # That version defaulted the selector and replaced pods only when deleted.
            w.default_selector_from_template(obj)
            spec = obj.get("spec")
            if isinstance(spec, dict):
                strategy = w.set_default(spec, "updateStrategy", {})
                if isinstance(strategy, dict) and not strategy.get("type"):
                    strategy["type"] = "OnDelete"
        return super().convert(obj, api_version)

    def default(self, obj, ctx):
        spec = obj.setdefault("spec", {})
        strategy = w.set_default(spec, "updateStrategy", {})
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
        if strategy["type"] == "RollingUpdate":
            rolling = w.set_default(strategy, "rollingUpdate", {})
            w.set_default(rolling, "maxUnavailable", 1)
            w.set_default(rolling, "maxSurge", 0)
        w.set_default(spec, "revisionHistoryLimit", 10)
        w.default_template(w.set_default(spec, "template", {}))

    def prepare_create(self, obj, ctx):
        # These four counters have no omitempty: an empty status shows them as 0.
        obj["status"] = {"currentNumberScheduled": 0, "numberMisscheduled": 0,
                         "desiredNumberScheduled": 0, "numberReady": 0}
        # The internal spec.templateGeneration, which apps/v1 carries as this annotation
        # (apps/v1 conversion.go); the controller labels its pods with it.
        obj["metadata"].setdefault("annotations", {})[TEMPLATE_GENERATION] = "1"

    def prepare_update(self, old, new, ctx):
        """The template generation counts template changes (the daemonset strategy's
        PrepareForUpdate); a client cannot set it."""
        generation = int(((old["metadata"].get("annotations") or {})
                          .get(TEMPLATE_GENERATION)) or 1)
        if (old.get("spec") or {}).get("template") != (new.get("spec") or {}).get("template"):
            generation += 1
        new["metadata"].setdefault("annotations", {})[TEMPLATE_GENERATION] = str(generation)

    def validate(self, obj, ctx):
        spec = obj.get("spec") or {}
        written = spec.get("selector")
        template = spec.get("template") or {}
        # No "Required" here: a missing selector selects nothing, so the template mismatches.
        errors = w.validate_label_selector(written, "spec.selector", "daemonset",
                                           required=False)
        errors += w.selector_matches_template(w.selector_of(written),
                                              w.template_labels(template), "spec.template",
                                              written)
        errors += w.validate_template(template, "spec.template")
        errors += w.only_restart_policy(template, "spec.template")
        if (template.get("spec") or {}).get("activeDeadlineSeconds") is not None:
            errors.append(FieldError.forbidden("spec.template.spec.activeDeadlineSeconds",
                                               "activeDeadlineSeconds in DaemonSet is not "
                                               "Supported"))
        errors += w.nonnegative(spec, "minReadySeconds", "spec")
        errors += _validate_strategy(spec.get("updateStrategy") or {}, "spec.updateStrategy")
        errors += w.nonnegative(spec, "revisionHistoryLimit", "spec")
        return errors

    def validate_update(self, old, new, ctx):
        written = (new.get("spec") or {}).get("selector")
        return w.immutable(written, (old.get("spec") or {}).get("selector"), "spec.selector",
                           w.go_selector(written))

    # kubectl get ds: printDaemonSet's columns.
    columns = (
        printing.NAME,
        printing.Column("Desired", "integer", ("V1DaemonSetStatus", "desiredNumberScheduled")),
        printing.Column("Current", "integer", ("V1DaemonSetStatus", "currentNumberScheduled")),
        printing.Column("Ready", "integer", ("V1DaemonSetStatus", "numberReady")),
        printing.Column("Up-to-date", "integer", ("V1DaemonSetStatus", "updatedNumberScheduled")),
        printing.Column("Available", "integer", ("V1DaemonSetStatus", "numberAvailable")),
        printing.Column("Node Selector", description=("V1PodSpec", "nodeSelector")),
        printing.AGE, printing.CONTAINERS, printing.IMAGES,
        printing.Column("Selector", priority=1, description=(
            "A label query over pods that are managed by the daemon set. Must match in order to "
            "be controlled. If empty, defaulted to labels on Pod template. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors")),
    )

    def printer_row(self, obj, now):
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        template = spec.get("template") or {}
        counts = ("desiredNumberScheduled", "currentNumberScheduled", "numberReady",
                  "updatedNumberScheduled", "numberAvailable")
        return [obj["metadata"].get("name", ""),
                *(printing.integer(status.get(count)) for count in counts),
                printing.format_labels((template.get("spec") or {}).get("nodeSelector")),
                printing.age(obj, now),
                *printing.template_cells(template,
                                         printing.format_label_selector(spec.get("selector")))]

    def index(self, obj):
        return {"owner_uid": owner_controller_uid(obj)}


def _validate_strategy(strategy, path):
    kind = strategy.get("type")
    if kind == "OnDelete":
        return []
    if kind != "RollingUpdate":
        # The value is the whole strategy struct; Go prints a set pointer as its address.
        rolling = "nil" if strategy.get("rollingUpdate") is None else "0xc000000000"
        shown = w.GoValue(f"apps.DaemonSetUpdateStrategy{{Type:{w.go_quote(str(kind or ''))}, "
                          f"RollingUpdate:(*apps.RollingUpdateDaemonSet)({rolling})}}")
        return [FieldError.not_supported(path, shown, STRATEGIES)]
    rolling = strategy.get("rollingUpdate")
    if rolling is None:
        return [FieldError.required(f"{path}.rollingUpdate")]
    return _validate_rolling_update(rolling, f"{path}.rollingUpdate")


def _validate_rolling_update(rolling, path):
    """Each bound an int or a percent of at most 100%; exactly one of them non-zero."""
    errors = []
    for key in ("maxUnavailable", "maxSurge"):
        errors += _int_or_percent(rolling.get(key, 0), f"{path}.{key}")
    for key in ("maxUnavailable", "maxSurge"):
        percent = _percent(rolling.get(key, 0))
        if percent is not None and percent > 100:
            errors.append(FieldError.invalid(f"{path}.{key}", w.go_int_or_string(rolling[key]),
                                             "must not be greater than 100%"))
    unavailable = _amount(rolling.get("maxUnavailable", 0)) != 0
    surge = _amount(rolling.get("maxSurge", 0)) != 0
    if unavailable and surge:
        errors.append(FieldError.invalid(f"{path}.maxSurge",
                                         w.go_int_or_string(rolling["maxSurge"]),
                                         "may not be set when maxUnavailable is non-zero"))
    elif not unavailable and not surge:
        errors.append(FieldError.required(f"{path}.maxUnavailable",
                                          "cannot be 0 when maxSurge is 0"))
    return errors


def _int_or_percent(value, path):
    """ValidatePositiveIntOrPercent (pkg/apis/apps/validation)."""
    if isinstance(value, str):
        if not PERCENT.fullmatch(value):
            return [FieldError.invalid(path, w.go_int_or_string(value), PERCENT_ERROR)]
        return []
    return [FieldError.invalid(path, value, w.NEGATIVE)] if value < 0 else []


def _percent(value):
    return int(value[:-1]) if isinstance(value, str) and PERCENT.fullmatch(value) else None


def _amount(value):
    """getIntOrPercentValue: a percent's number, an int, or what strconv.Atoi makes of text."""
    if isinstance(value, str):
        percent = _percent(value)
        if percent is not None:
            return percent
        return int(value) if re.fullmatch(r"[+-]?[0-9]+", value) else 0
    return value
