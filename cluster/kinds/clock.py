"""Clock (kubelab.io/v1, cluster-scoped, one per cluster named "cluster").

Not stored as an ApiObject: it is the cluster's SimClock row seen as an object, so the board,
the API and kubectl can pause it and change its speed.
"""

from cluster import printing, schema
from cluster.errors import FieldError
from cluster.kinds import Kind, register

NAME = "cluster"
MAX_SPEED = 100

schema.register_model("KubelabV1Clock", {
    "apiVersion": "str", "kind": "str", "metadata": "V1ObjectMeta",
    "spec": ("KubelabV1ClockSpec", "What the learner sets: pause and speed."),
    "status": ("KubelabV1ClockStatus", "What the reconciler reports."),
})
schema.register_model("KubelabV1ClockSpec", {
    "paused": ("bool", "While true, simulated time stands still (the board can still step it)."),
    "speed": ("int", f"Simulated seconds per wall second, 1 to {MAX_SPEED}."),
})
schema.register_model("KubelabV1ClockStatus", {
    "now": ("datetime", "The cluster's simulated time."),
})


@register
class Clock(Kind):
    kind = "Clock"
    group = "kubelab.io"
    plural, singular = "clocks", "clock"
    namespaced = False
    model = "KubelabV1Clock"
    verbs = ("get", "list", "patch", "update")

    def validate(self, obj, ctx):
        errors = []
        spec = obj.get("spec") or {}
        speed = spec.get("speed", 1)
        if isinstance(speed, bool) or not isinstance(speed, int) or not 1 <= speed <= MAX_SPEED:
            errors.append(FieldError.invalid("spec.speed", speed,
                                             f"must be between 1 and {MAX_SPEED}, inclusive"))
        if not isinstance(spec.get("paused", False), bool):
            errors.append(FieldError.invalid("spec.paused", spec.get("paused"),
                                             "must be true or false"))
        if obj.get("metadata", {}).get("name", NAME) != NAME:
            errors.append(FieldError.invalid("metadata.name", obj["metadata"]["name"],
                                             f'the clock is always named "{NAME}"'))
        return errors

    # kubectl get clock: what a learner wants at a glance (kubelab's own columns, in the
    # manner of a CRD's additionalPrinterColumns); no AGE, as the clock is the cluster's time.
    columns = (
        printing.NAME,
        printing.Column("Time", description="The cluster's simulated time."),
        printing.Column("Speed", "integer", f"Simulated seconds per wall second, 1 to "
                                            f"{MAX_SPEED}."),
        printing.Column("Paused", "boolean", "While true, simulated time stands still."),
    )

    def printer_row(self, obj, now):
        spec = obj.get("spec") or {}
        return [obj["metadata"].get("name", ""), (obj.get("status") or {}).get("now", ""),
                spec.get("speed", 1), bool(spec.get("paused", False))]

    def to_object(self, cluster, clock):
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": {
                "name": NAME,
                "uid": f"00000000-0000-4000-8000-{cluster.pk:012d}",
                "resourceVersion": str(clock.resource_version),
                "creationTimestamp": cluster.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "spec": {"paused": clock.paused, "speed": clock.speed},
            "status": {"now": clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")},
        }
