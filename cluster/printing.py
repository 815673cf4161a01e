"""What `kubectl get` prints, cell by cell: the formatting Kubernetes 1.32's server-side
printers share (pkg/printers/internalversion/printers.go, apimachinery's duration package).

Each kind module declares its `columns` (Column) and builds its cells in `printer_row(obj,
now)` with these helpers; cluster.api.tables wraps the cells in a meta.k8s.io Table. Times are
read against `now`, the cluster's simulated clock, never the wall clock.
"""

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

NONE = "<none>"
UNKNOWN = "<unknown>"


@dataclass(frozen=True)
class Column:
    """One TableColumnDefinition. `description` is text, or a (client model, field path) pair
    whose API documentation is looked up once, when a Table first needs it."""

    name: str
    type: str = "string"
    description: object = ""
    priority: int = 0
    format: str = ""

    def definition(self):
        return {"name": self.name, "type": self.type, "format": self.format,
                "description": _description(self.description), "priority": self.priority}


@lru_cache(maxsize=None)
def _description(source):
    if isinstance(source, str):
        return source
    from cluster import schema  # the client models load on first use only
    try:
        return schema.describe(*source)[1]
    except (KeyError, AttributeError, TypeError):
        return ""


# Columns most kinds share, with the API documentation the real printers quote.
NAME = Column("Name", description=("V1ObjectMeta", "name"), format="name")
AGE = Column("Age", description=("V1ObjectMeta", "creationTimestamp"))
CONTAINERS = Column("Containers", description="Names of each container in the template.",
                    priority=1)
IMAGES = Column("Images", description="Images referenced by each container in the template.",
                priority=1)
NAME_AGE = (NAME, AGE)


# ---------------------------------------------------------------------------------------------
# Time


def parse_time(text):
    """A metav1.Time string ("2026-01-01T12:00:00Z") as an aware datetime; None when unset."""
    if not text or not isinstance(text, str):
        return None
    return _parse_time(text)


@lru_cache(maxsize=8192)
def _parse_time(text):
    # Cached: the pods of one rollout share their timestamps to the second.
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def human_duration(delta):
    """duration.HumanDuration: "45s", "5m30s", "25m", "3h10m", "2d4h", "300d", "2y30d"."""
    seconds_f = delta.total_seconds()
    seconds = int(seconds_f)           # Go truncates toward zero
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"                    # up to 2 s of clock skew reads as "now"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if rest == 0 else f"{years}y{rest}d"
    return f"{hours // 24 // 365}y"


def since(timestamp, now):
    """translateTimestampSince: how long ago `timestamp` (a string) was; "<unknown>" unset."""
    moment = parse_time(timestamp)
    if moment is None:
        return UNKNOWN
    return human_duration(now - moment)


def age(obj, now):
    return since((obj.get("metadata") or {}).get("creationTimestamp"), now)


# ---------------------------------------------------------------------------------------------
# Labels, selectors, containers


def format_labels(labels):
    """labels.FormatLabels: "app=kubia,env=prod" sorted by key, "<none>" when empty."""
    if not labels:
        return NONE
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def format_label_selector(label_selector):
    """metav1.FormatLabelSelector: the canonical selector string, "<none>" when it says
    nothing (absent or empty), "<error>" when it cannot be built."""
    # Imported here: the kind modules import this module, and selectors imports theirs.
    from cluster import selectors
    try:
        text = str(selectors.from_label_selector(label_selector))
    except selectors.SelectorError:
        return "<error>"
    return text or NONE


def container_cells(containers):
    """layoutContainerCells: (names, images), each comma-joined in the spec's order."""
    containers = [c for c in containers or [] if isinstance(c, dict)]
    return (",".join(str(c.get("name", "")) for c in containers),
            ",".join(str(c.get("image", "")) for c in containers))


def template_cells(template, selector_text):
    """The wide CONTAINERS, IMAGES and SELECTOR cells of a workload's pod template."""
    spec = ((template or {}).get("spec") or {})
    return [*container_cells(spec.get("containers")), selector_text]


def bool_ptr(value):
    """printBoolPtr: "True"/"False", "<unset>" for a nil pointer."""
    if value is None:
        return "<unset>"
    return "True" if value else "False"


def integer(value):
    """An int64 cell (DESIRED, CURRENT, ...): an absent count is 0, as Go's zero value."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def more_list(items, total, limit=3):
    """"a,b,c + 2 more..." as the printers shorten long lists."""
    text = ",".join(items)
    if total > limit:
        return f"{text} + {total - limit} more..."
    return text
