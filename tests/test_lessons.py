"""Every lesson, done as a learner does it: each step's check is false until the step is done,
and true within the simulated time the lesson allows after it (lessons/content/*.yaml)."""

import pytest

from cluster import apply, engine, store
from cluster.models import ApiObject
from lessons import catalog, progress
from tests.lessonsteps import StepPerformer

LESSONS = catalog.load()
LEARNER = "test:learner"
# Simulated seconds a learner waits before doing a step: nothing may tick off by itself.
IDLE = 20


def _step_state(state, step_id):
    return next(s for s in state["steps"] if s["id"] == step_id)


def test_every_lesson_file_loads():
    assert not LESSONS.broken, [str(e) for e in LESSONS.broken]
    assert [lesson.seed_section for lesson in LESSONS.lessons] == list(range(1, 11))


@pytest.mark.parametrize("slug", [lesson.slug for lesson in LESSONS.lessons])
def test_each_step_ticks_off_only_once_it_is_done(slug, db, client):
    lesson = LESSONS.get(slug)
    run = progress.start(LEARNER, lesson)
    cluster = run.cluster
    performer = StepPerformer(client, cluster, lesson)
    for step in lesson.steps:
        engine.tick(cluster, 0)
        for _ in range(IDLE):
            engine.tick(cluster, 1)
        state = progress.advance(run, lesson)
        assert _step_state(state, step.id) == {"id": step.id, "done": False, "current": True,
                                               "at": None}, f"{step.id} ticked off undone"
        for action in step.do:
            performer.perform(action)
        for _ in range(step.within):
            if _step_state(progress.advance(run, lesson), step.id)["done"]:
                break
            engine.tick(cluster, 1)
        assert _step_state(progress.advance(run, lesson), step.id)["done"], (
            f"{step.id}: not done {step.within} s after {step.do}")
    state = progress.advance(run, lesson)
    assert state["finished"] and state["done"] == state["total"]


MISTAKES = [(lesson.slug, m.id) for lesson in LESSONS.lessons for m in lesson.manifests
            if m.mistake]


@pytest.mark.parametrize("slug,manifest_id", MISTAKES)
def test_a_mistake_is_refused_with_the_error_the_lesson_shows_and_its_fix_applies(
        slug, manifest_id, cluster):
    lesson = LESSONS.get(slug)
    mistake = lesson.manifest(manifest_id)
    before = ApiObject.objects.filter(cluster=cluster).count()
    report = apply.apply_text(cluster, mistake.text).as_dict()
    assert not report["ok"]
    messages = " ".join(f"{e['message']} {e.get('hint') or ''}" for e in report["errors"])
    assert mistake.mistake.error in messages
    assert ApiObject.objects.filter(cluster=cluster).count() == before   # nothing half-applied
    fixed = apply.apply_text(cluster, lesson.manifest(mistake.mistake.fixed).text)
    assert fixed.ok, fixed.as_dict()


def test_the_seed_mistakes_are_all_taught():
    taught = {m.id for lesson in LESSONS.lessons for m in lesson.manifests if m.mistake}
    texts = {m.text for lesson in LESSONS.lessons for m in lesson.manifests if m.mistake}
    assert len(taught) >= 3
    assert any("startingDeadlineSecond:" in t for t in texts)
    assert any("8080#" in t for t in texts)
    assert any("readinessProbe" in t for t in texts)


def test_a_lesson_cluster_starts_fresh_with_its_speed_and_setup(db):
    lesson = max(LESSONS.lessons, key=lambda lesson: (lesson.speed, lesson.slug))
    run = progress.start(LEARNER, lesson)
    assert run.cluster.clock.speed == lesson.speed
    nodes = ApiObject.objects.filter(cluster=run.cluster, kind="Node").count()
    assert nodes == lesson.nodes
    assert progress.start(LEARNER, lesson).cluster == run.cluster     # the same run again
    other = progress.start("test:someone-else", lesson)
    assert other.cluster != run.cluster


def test_reset_empties_the_cluster_and_the_progress(db, client):
    lesson = LESSONS.get("pods")
    run = progress.start(LEARNER, lesson)
    performer = StepPerformer(client, run.cluster, lesson)
    for action in lesson.steps[0].do:
        performer.perform(action)
    for _ in range(lesson.steps[0].within):
        engine.tick(run.cluster, 1)
    assert progress.advance(run, lesson)["done"] >= 1
    progress.reset(run, lesson)
    state = progress.advance(run, lesson)
    assert state["done"] == 0
    assert not ApiObject.objects.filter(cluster=run.cluster, kind="Pod").exists()
    assert store.current_rv(run.cluster) >= run.since
