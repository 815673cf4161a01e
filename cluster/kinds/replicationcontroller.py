"""ReplicationController (v1): a replica count, a plain map selector and a pod template.

Defaulting: pkg/apis/core/v1/defaults.go (SetDefaults_ReplicationController); validation:
pkg/apis/core/validation (ValidateReplicationControllerSpec, ValidatePodTemplateSpecForRC);
create: pkg/registry/core/replicationcontroller/strategy.go.
"""

from cluster import printing, selectors
from cluster.errors import FieldError
from cluster.kinds import Kind, owner_controller_uid, register
from cluster.kinds import workload as w


@register
class ReplicationController(Kind):
    kind = "ReplicationController"
    plural, singular = "replicationcontrollers", "replicationcontroller"
    short_names = ("rc",)
    categories = ("all",)
    model = "V1ReplicationController"
    discovery_subresources = ("status", "scale")
    # DefaultGarbageCollectionPolicy: Orphan, as before server-side garbage collection.
    default_propagation = "Orphan"
    has_generation = True

    def default(self, obj, ctx):
        spec = obj.setdefault("spec", {})
        template = spec.get("template")
        labels = w.template_labels(template)
        # The template's labels stand in for a missing selector and missing object labels
        # (a nil map does not; an empty one does).
        if labels is not None:
            if not spec.get("selector"):
                spec["selector"] = dict(labels)
            if not obj["metadata"].get("labels"):
                obj["metadata"]["labels"] = dict(labels)
        w.set_default(spec, "replicas", 1)
        # The template is a pointer here: absent, nothing is defaulted in it.
        w.default_template(template)

    def prepare_create(self, obj, ctx):
        # Status is reset on create; `replicas` has no omitempty, so an empty status shows it.
        obj["status"] = {"replicas": 0}

    def validate(self, obj, ctx):
        spec = obj.get("spec") or {}
        selector = spec.get("selector") or {}
        errors = w.nonnegative(spec, "minReadySeconds", "spec")
        if not selector:
            errors.append(FieldError.required("spec.selector"))
        errors += w.nonnegative(spec, "replicas", "spec")
        template = spec.get("template")
        if template is None:
            return errors + [FieldError.required("spec.template")]
        if selector:
            errors += w.selector_matches_template(
                selectors.from_map(selector), w.template_labels(template), "spec.template",
                selector)
        errors += w.validate_template(template, "spec.template")
        errors += w.only_restart_policy(template, "spec.template")
        deadline = (template.get("spec") or {}).get("activeDeadlineSeconds")
        if deadline is not None:
            errors.append(FieldError.invalid("spec.template.spec.activeDeadlineSeconds",
                                             deadline, "must not be specified"))
        return errors

    # kubectl get rc: printReplicationController's columns (a plain map selector).
    columns = (
        printing.NAME,
        printing.Column("Desired", "integer", ("V1ReplicationControllerSpec", "replicas")),
        printing.Column("Current", "integer", ("V1ReplicationControllerStatus", "replicas")),
        printing.Column("Ready", "integer", ("V1ReplicationControllerStatus", "readyReplicas")),
        printing.AGE, printing.CONTAINERS, printing.IMAGES,
        printing.Column("Selector", description=("V1ReplicationControllerSpec", "selector"),
                        priority=1),
    )

    def printer_row(self, obj, now):
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        return [obj["metadata"].get("name", ""), printing.integer(spec.get("replicas")),
                printing.integer(status.get("replicas")),
                printing.integer(status.get("readyReplicas")), printing.age(obj, now),
                *printing.template_cells(spec.get("template"),
                                         printing.format_labels(spec.get("selector")))]

    def index(self, obj):
        return {"owner_uid": owner_controller_uid(obj)}
