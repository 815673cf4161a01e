"""ReplicaSet (apps/v1): the ReplicationController with set-based selectors.

Defaulting: pkg/apis/apps/v1/defaults.go (SetDefaults_ReplicaSet); validation:
pkg/apis/apps/validation (ValidateReplicaSetSpec, ValidatePodTemplateSpecForReplicaSet);
create and update: pkg/registry/apps/replicaset/strategy.go.
"""

from cluster import printing
from cluster.errors import FieldError
from cluster.kinds import Kind, owner_controller_uid, register
from cluster.kinds import workload as w


@register
class ReplicaSet(Kind):
    kind = "ReplicaSet"
    group, version = "apps", "v1"
    plural, singular = "replicasets", "replicaset"
    short_names = ("rs",)
    categories = ("all",)
    model = "V1ReplicaSet"
    discovery_subresources = ("status", "scale")
    has_generation = True
    deprecated_versions = {
        "apps/v1beta2": w.deprecation_warning("apps/v1beta2", "ReplicaSet", "1.9", "1.16",
                                              "apps/v1"),
        "extensions/v1beta1": w.deprecation_warning("extensions/v1beta1", "ReplicaSet", "1.8",
                                                    "1.16", "apps/v1"),
    }

    def convert(self, obj, api_version):
        # apps/v1beta2 reads as apps/v1 does; extensions/v1beta1 defaulted the selector.
        if api_version == "extensions/v1beta1":
            w.default_selector_from_template(obj)
        return super().convert(obj, api_version)

    def default(self, obj, ctx):
        spec = obj.setdefault("spec", {})
        w.set_default(spec, "replicas", 1)
        # The template is a struct, not a pointer: its PodSpec is defaulted even when absent.
        w.default_template(w.set_default(spec, "template", {}))

    def prepare_create(self, obj, ctx):
        obj["status"] = {"replicas": 0}

    def validate(self, obj, ctx):
        spec = obj.get("spec") or {}
        written = spec.get("selector")
        errors = w.nonnegative(spec, "replicas", "spec")
        errors += w.nonnegative(spec, "minReadySeconds", "spec")
        errors += w.validate_label_selector(written, "spec.selector", "deployment")
        selector = w.selector_of(written)
        if selector is None:
            return errors + [FieldError.invalid("spec.selector", w.go_selector(written),
                                                "invalid label selector")]
        template = spec.get("template") or {}
        # An empty selector selects everything, so nothing is checked against the template.
        if not selector.empty:
            errors += w.selector_matches_template(selector, w.template_labels(template),
                                                  "spec.template", written)
        errors += w.validate_template(template, "spec.template")
        errors += w.only_restart_policy(template, "spec.template")
        if (template.get("spec") or {}).get("activeDeadlineSeconds") is not None:
            errors.append(FieldError.forbidden("spec.template.spec.activeDeadlineSeconds",
                                               "activeDeadlineSeconds in ReplicaSet is not "
                                               "Supported"))
        return errors

    def validate_update(self, old, new, ctx):
        # The strategy refuses a changed selector in every version but extensions/v1beta1,
        # which 1.32 no longer serves.
        written = (new.get("spec") or {}).get("selector")
        return w.immutable(written, (old.get("spec") or {}).get("selector"), "spec.selector",
                           w.go_selector(written))

    # kubectl get rs: printReplicaSet's columns (a LabelSelector, printed canonically).
    columns = (
        printing.NAME,
        printing.Column("Desired", "integer", ("V1ReplicaSetSpec", "replicas")),
        printing.Column("Current", "integer", ("V1ReplicaSetStatus", "replicas")),
        printing.Column("Ready", "integer", ("V1ReplicaSetStatus", "readyReplicas")),
        printing.AGE, printing.CONTAINERS, printing.IMAGES,
        printing.Column("Selector", priority=1, description=(
            "Selector is a label query over pods that should match the replica count. If the "
            "selector is empty, it is defaulted to the labels present on the pod template. Label "
            "keys and values that must match in order to be controlled by this replica set. More "
            "info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors")),
    )

    def printer_row(self, obj, now):
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        return [obj["metadata"].get("name", ""), printing.integer(spec.get("replicas")),
                printing.integer(status.get("replicas")),
                printing.integer(status.get("readyReplicas")), printing.age(obj, now),
                *printing.template_cells(spec.get("template"),
                                         printing.format_label_selector(spec.get("selector")))]

    def index(self, obj):
        return {"owner_uid": owner_controller_uid(obj)}
