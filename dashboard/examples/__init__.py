"""The Apply YAML form's Examples menu: manifests a learner reading the seed will paste.

First the seed's own manifests, byte for byte as its notes write them (copied from
/work/shared/seed/000_3812b945b6df1cdf.txt; the seed line range is in each entry), mistakes
included: the tab before `startingDeadlineSecond`, `targetPort: 8080#`, the two snippets
that are not whole manifests. They are teaching material, so they are never tidied; kubelab
explains what is wrong when they are applied. Then a few manifests from Kubernetes in Action
(github.com/luksa/kubernetes-in-action) that the seed talks about without writing them out:
pods, a DaemonSet, the RC with a correctly placed readiness probe.

The files live beside this module and are read from here: the app never reads ../shared.
"""

from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent

SEED = "seed"
BOOK = "book"
GROUPS = {
    SEED: "The seed's notes, as written (mistakes included)",
    BOOK: "Kubernetes in Action (the notes describe these without the YAML)",
}


@dataclass(frozen=True)
class Example:
    slug: str      # the file's name without .yaml
    title: str
    source: str    # SEED or BOOK
    where: str     # seed lines, or the book's file
    note: str      # what applying it shows

    @property
    def text(self):
        return (HERE / f"{self.slug}.yaml").read_text(encoding="utf-8")


CATALOG = (
    Example("seed-liveness-probe", "Liveness probe snippet", SEED, "section 3, lines 46-50",
            "Only the livenessProbe block, not a whole manifest: applying it shows what every "
            "manifest needs. The book's kubia-liveness pod wraps it."),
    Example("seed-kubia-rc", "ReplicationController kubia", SEED, "section 4, lines 60-77",
            "Three pods of luksa/kubia. Open the Workloads tab to watch them and scale them."),
    Example("seed-kubia-rs", "ReplicaSet kubia (matchExpressions)", SEED,
            "section 5, lines 84-103",
            "Written for apps/v1beta2, removed in 1.16: kubelab converts it to apps/v1 and "
            "says so in a warning."),
    Example("seed-batch-job", "Job batch-job", SEED, "section 7, lines 119-132",
            "One pod of luksa/batch-job: two minutes of work, then Completed."),
    Example("seed-cronjob", "CronJob batch-job-every-fifteen-minutes", SEED,
            "section 7, lines 135-152",
            "As the notes wrote it: a tab before startingDeadlineSecond, whose name also lacks "
            "its final s. Apply it to read what is wrong, fix both, and apply again."),
    Example("seed-kubia-service", "Service kubia", SEED, "section 8, lines 159-169",
            "targetPort: 8080# ... has no space before the #, so YAML reads the comment as "
            "part of the port. Apply it to read what Kubernetes says, then add the space."),
    Example("seed-kubia-ingress", "Ingress kubia", SEED, "section 9, lines 175-187",
            "The old extensions/v1beta1 form (serviceName, servicePort), removed from real "
            "clusters in 1.22: apply it to see what the current form is."),
    Example("seed-readiness-probe", "Readiness probe snippet", SEED,
            "section 10, lines 197-208",
            "Part of a pod spec, with readinessProbe indented under the port item: apply it to "
            "see where it belongs. The book's RC below has it in place."),
    Example("book-kubia-manual", "Pod kubia-manual", BOOK, "Chapter03/kubia-manual.yaml",
            "One pod, made by hand: no controller replaces it when it is deleted."),
    Example("book-kubia-manual-with-labels", "Pod kubia-manual-v2 with labels", BOOK,
            "Chapter03/kubia-manual-with-labels.yaml",
            "Labels creation_method=manual and env=prod: try the selectors above the board."),
    Example("book-kubia-liveness", "Pod kubia-liveness (the seed's liveness probe)", BOOK,
            "Chapter04/kubia-liveness-probe-initial-delay.yaml",
            "luksa/kubia-unhealthy fails after five requests: the probe restarts it."),
    Example("book-ssd-monitor-daemonset", "DaemonSet ssd-monitor", BOOK,
            "Chapter04/ssd-monitor-daemonset.yaml",
            "Runs only on nodes labelled disk=ssd: label a node (open it, Labels) and its pod "
            "appears."),
    Example("book-kubia-rc-readinessprobe", "ReplicationController kubia with a readiness probe",
            BOOK, "Chapter05/kubia-rc-readinessprobe.yaml",
            "Pods turn ready only once /var/ready exists: run touch /var/ready in one. Applied "
            "over the seed's RC, only new pods get the probe."),
)


@cache
def all_examples():
    """Every example as a dict (slug, title, source, group, where, note, text), in menu order."""
    return [{**asdict(e), "group": GROUPS[e.source], "text": e.text} for e in CATALOG]
