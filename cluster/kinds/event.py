"""Event (v1): every controller decision, in Kubernetes' own event shape."""

from cluster.errors import FieldError
from cluster.kinds import Kind, register

TYPES = ("Normal", "Warning")


@register
class Event(Kind):
    kind = "Event"
    plural, singular = "events", "event"
    short_names = ("ev",)
    model = "CoreV1Event"
    has_status = False

    def validate(self, obj, ctx):
        errors = []
        involved = obj.get("involvedObject") or {}
        if not involved.get("kind") and not involved.get("name"):
            errors.append(FieldError.required("involvedObject"))
        if obj.get("type") and obj["type"] not in TYPES:
            errors.append(FieldError.not_supported("type", obj["type"], TYPES))
        if not obj.get("reason"):
            errors.append(FieldError.required("reason"))
        return errors

    def index(self, obj):
        # Index the involved object's uid, so a pod's events are one indexed query away.
        return {"owner_uid": (obj.get("involvedObject") or {}).get("uid", "")}
