"""Reading a container's log as `kubectl logs` gets it from the kubelet.

`read(cluster, pod, container, previous, tail, timestamps, since)` answers the text or raises
the API server's BadRequest when there is nothing to read yet (or any more).
"""

import datetime as dt

from cluster.errors import BadRequest
from cluster.models import Container, ContainerLog


def choose_container(pod, container):
    names = [c["name"] for c in pod["spec"]["containers"]]
    if container:
        if container not in names:
            raise BadRequest(f'container {container} is not valid for pod '
                             f'{pod["metadata"]["name"]}')
        return container
    if len(names) == 1:
        return names[0]
    raise BadRequest(f'a container name must be specified for pod {pod["metadata"]["name"]}, '
                     f'choose one of: [{" ".join(names)}]')


def read(pod, container=None, previous=False, tail=None, timestamps=False, since=None,
         until_id=None):
    """The log text (lines ending in newlines). `since`: a datetime, lines at or after it.
    `until_id`: only lines up to that ContainerLog id (where `logs -f` goes on from)."""
    name = choose_container(pod, container)
    pod_name = pod["metadata"]["name"]
    row = Container.objects.filter(pod_uid=pod["metadata"]["uid"], name=name).first()
    if row is None or row.state in (Container.CREATING, Container.WAITING) and not previous:
        reason = "ContainerCreating"
        if row is not None and row.state == Container.WAITING:
            reason = row.data.get("waitingReason", "ContainerCreating")
        raise BadRequest(f'container "{name}" in pod "{pod_name}" is waiting to start: {reason}')
    instance = row.restart_count
    if previous:
        if instance == 0:
            raise BadRequest(f'previous terminated container "{name}" in pod "{pod_name}" '
                             "not found")
        instance -= 1
    lines = ContainerLog.objects.filter(pod_uid=pod["metadata"]["uid"], container=name,
                                        instance=instance)
    if since is not None:
        lines = lines.filter(at__gte=since)
    if until_id is not None:
        lines = lines.filter(id__lte=until_id)
    lines = lines.order_by("id")
    if tail is not None:
        lines = list(lines.reverse()[:tail])[::-1] if tail > 0 else []
    out = []
    for line in lines:
        if timestamps:
            out.append(f"{rfc3339nano(line.at)} {line.line}\n")
        else:
            out.append(line.line + "\n")
    return "".join(out)


def follow_position(pod, container=None, previous=False):
    """(container name, instance, id of its last line so far or 0): where `kubectl logs -f`
    continues from. Read it before the text (read(until_id=...)) so no line is lost or sent
    twice while the container writes."""
    name = choose_container(pod, container)
    row = Container.objects.filter(pod_uid=pod["metadata"]["uid"], name=name).first()
    instance = row.restart_count if row is not None else 0
    if previous and instance:
        instance -= 1
    last = (ContainerLog.objects.filter(pod_uid=pod["metadata"]["uid"], container=name,
                                        instance=instance)
            .order_by("-id").values_list("id", flat=True).first())
    return name, instance, last or 0


def rfc3339nano(moment):
    moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond * 1000:09d}Z"
