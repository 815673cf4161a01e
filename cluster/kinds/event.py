"""Event (v1): every controller decision, in Kubernetes' own event shape."""

from cluster import printing
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

    # kubectl get events: printEvent's columns (LAST SEEN first; NAME only with -o wide).
    columns = (
        printing.Column("Last Seen", description=("CoreV1Event", "lastTimestamp")),
        printing.Column("Type", description=("CoreV1Event", "type")),
        printing.Column("Reason", description=("CoreV1Event", "reason")),
        printing.Column("Object", description="The object that this event is about."),
        printing.Column("Subobject", description=("V1ObjectReference", "fieldPath"), priority=1),
        printing.Column("Source", description="The component reporting this event. Should be a "
                                              "short machine understandable string.", priority=1),
        printing.Column("Message", description=("CoreV1Event", "message")),
        printing.Column("First Seen", description=("CoreV1Event", "firstTimestamp"), priority=1),
        printing.Column("Count", description=("CoreV1Event", "count"), priority=1),
        printing.Column("Name", description=("V1ObjectMeta", "name"), priority=1, format="name"),
    )

    def printer_row(self, obj, now):
        first = (printing.since(obj["firstTimestamp"], now) if obj.get("firstTimestamp")
                 else printing.since(obj.get("eventTime"), now))
        last = printing.since(obj["lastTimestamp"], now) if obj.get("lastTimestamp") else first
        count = obj.get("count") or 1       # singleton events of the new API carry no count
        series = obj.get("series")
        if isinstance(series, dict):
            last = printing.since(series.get("lastObservedTime"), now)
            count = series.get("count") or 0
        involved = obj.get("involvedObject") or {}
        target = str(involved.get("kind") or "").lower()
        if involved.get("name"):
            target = f"{target}/{involved['name']}"
        source = obj.get("source") or {}
        component = source.get("component") or obj.get("reportingComponent") or ""
        instance = source.get("host") or obj.get("reportingInstance") or ""
        return [last, obj.get("type", ""), obj.get("reason", ""), target,
                involved.get("fieldPath", ""),
                f"{component}, {instance}" if instance else component,
                str(obj.get("message") or "").strip(), first, count,
                obj["metadata"].get("name", "")]

    def index(self, obj):
        # Index the involved object's uid, so a pod's events are one indexed query away.
        return {"owner_uid": (obj.get("involvedObject") or {}).get("uid", "")}
