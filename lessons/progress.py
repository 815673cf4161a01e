"""A learner going through a lesson: its fresh cluster, and steps that tick off by themselves.

Steps are taken in order. Only the current step (the first not done) is checked; when its check
holds it is done, the next one begins at the cluster's current resourceVersion, and is checked
at once (a step whose state is already there ticks off in the same pass, as when three pods are
Running by the time the learner looks). What the learner did through the board, kubectl or the
API all lands in the store, so the check sees it whichever way it came.
"""

import secrets

from django.db import transaction
from django.utils import timezone

from cluster import apply, bootstrap, kinds, store
from lessons.models import LessonRun

MERGE_PATCH = "application/merge-patch+json"


def learner_of(request):
    """Who is learning: the signed-in user, or else this browser's session (made if new)."""
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    if not request.session.session_key:
        request.session.save()
    return f"session:{request.session.session_key}"


def runs_of(learner):
    return {run.lesson: run for run in LessonRun.objects.filter(learner=learner)
            .select_related("cluster")}


def start(learner, lesson):
    """The learner's run of the lesson, with a cluster made for it on first start (or again,
    should its cluster have been deleted)."""
    with transaction.atomic():
        run, _created = LessonRun.objects.select_for_update().get_or_create(
            learner=learner, lesson=lesson.slug)
        if run.cluster is None:
            run.cluster = _new_cluster(lesson)
            _begin(run)
    return run


def reset(run, lesson):
    """Start over: the cluster back to its first state, every step to do again."""
    with transaction.atomic():
        if run.cluster is None:
            run.cluster = _new_cluster(lesson)
        else:
            bootstrap.reset_cluster(run.cluster)
            _prepare(run.cluster, lesson)
        _begin(run)
    return run


def _new_cluster(lesson):
    name = f"{lesson.slug[:48]}-{secrets.token_hex(3)}"
    cluster = bootstrap.create_cluster(name, lesson.nodes)
    _prepare(cluster, lesson)
    return cluster


def _prepare(cluster, lesson):
    """The clock speed the lesson wants, and the manifests it starts from."""
    if lesson.speed != 1:
        store.patch(cluster, kinds.get("Clock", "kubelab.io"), "", "cluster",
                    {"spec": {"speed": lesson.speed}}, MERGE_PATCH)
    for manifest in lesson.manifests:
        if manifest.setup:
            report = apply.apply_text(cluster, manifest.text)
            if not report.ok:
                raise ValueError(f"lesson {lesson.slug}: setup manifest {manifest.id} does not "
                                 f"apply: {report.as_dict()['errors']}")


def _begin(run):
    run.done, run.finished = {}, None
    run.since = store.current_rv(run.cluster)
    run.save()


def advance(run, lesson):
    """Check the current step (and the ones after it, while they hold); returns the state
    the lesson page shows."""
    run = LessonRun.objects.select_related("cluster").get(pk=run.pk)
    current = next((step for step in lesson.steps if step.id not in run.done), None)
    if run.cluster is None or current is None or not current.check.holds(run.cluster,
                                                                          run.since):
        # Most checks find nothing new: they read without taking the write lock, which
        # SQLite's immediate transactions would take from the reconciler.
        return state(run, lesson)
    with transaction.atomic():
        run = LessonRun.objects.select_for_update().select_related("cluster").get(pk=run.pk)
        cluster = run.cluster
        changed = False
        if cluster is not None:
            for step in lesson.steps:
                if step.id in run.done:
                    continue
                if not step.check.holds(cluster, run.since):
                    break
                rv = store.current_rv(cluster)
                run.done[step.id] = {"rv": rv, "at": store.timestamp(store.now_of(cluster))}
                run.since = rv
                changed = True
            if changed and steps_done(run, lesson) == len(lesson.steps) and run.finished is None:
                run.finished = timezone.now()
            if changed:
                run.save()
    return state(run, lesson)


def steps_done(run, lesson):
    """How many of the lesson's steps the learner has done (a teacher may have edited the
    lesson since: steps no longer in it do not count)."""
    return sum(step.id in run.done for step in lesson.steps)


def state(run, lesson):
    current = next((s.id for s in lesson.steps if s.id not in run.done), None)
    return {
        "lesson": lesson.slug,
        "cluster": run.cluster.name if run.cluster else None,
        "steps": [{"id": s.id, "done": s.id in run.done, "current": s.id == current,
                   "at": run.done.get(s.id, {}).get("at")} for s in lesson.steps],
        "done": steps_done(run, lesson),
        "total": len(lesson.steps),
        "finished": run.finished is not None,
    }
