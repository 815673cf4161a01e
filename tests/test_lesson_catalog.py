"""Lesson files: a teacher's file loads, and a broken one is refused with its file, line and
field while the other lessons still load (lessons/catalog.py)."""

import textwrap

import pytest
from django.core import checks as system_checks

from lessons import catalog

GOOD = textwrap.dedent("""\
    title: Pods again
    seed_section: 1
    summary: One pod.
    explanation: |
      A pod is the **unit** the cluster runs.
    cluster: {nodes: 2, speed: 10}
    manifests:
      - id: kubia
        title: Pod kubia
        yaml: |
          apiVersion: v1
          kind: Pod
          metadata: {name: kubia}
          spec: {containers: [{name: kubia, image: luksa/kubia}]}
    steps:
      - id: run
        title: Run it
        text: Apply it.
        hint: Press Apply.
        command: kubectl apply -f {manifests}/kubia.yaml
        check:
          exists: {kind: Pod, name: kubia, where: {status.phase: Running}}
        do:
          - apply: kubia
        within: 30
    """)


@pytest.fixture
def teacher_dir(tmp_path, settings):
    settings.LESSON_DIRS = [str(tmp_path)]
    return tmp_path


def _broken(teacher_dir, name, text):
    (teacher_dir / name).write_text(text)
    loaded = catalog.load()
    assert len(loaded.lessons) >= 1          # the shipped lessons still load
    refused = [e for e in loaded.broken if e.path.name == name]
    assert len(refused) == 1, [str(e) for e in loaded.broken]
    return refused[0]


def test_a_teachers_lesson_file_loads_beside_the_shipped_ones(teacher_dir):
    (teacher_dir / "50-pods-again.yaml").write_text(GOOD)
    lesson = catalog.load().get("pods-again")
    assert (lesson.title, lesson.nodes, lesson.speed, lesson.order) == ("Pods again", 2, 10, 50)
    assert lesson.manifest("kubia").text.startswith("apiVersion: v1\n")
    assert [s.id for s in lesson.steps] == ["run"]


@pytest.mark.parametrize("change,line,where,words", [
    (("seed_section: 1", "seed_section: eleven"), 2, "seed_section", "1 to 10"),
    (("speed: 10", "speed: 7"), 6, "cluster.speed", "1, 2, 5, 10, 50, 100"),
    (("    title: Run it\n", "    title: Run it\n    colour: red\n"), 18, "steps[0].colour",
     "unknown field"),
    (("exists: {kind: Pod,", "exists: {kind: Pud,"), 22, "steps[0].check.exists.kind",
     "no kind named 'Pud'"),
    (("status.phase: Running", "status.phase: {above: 1}"), 22,
     "steps[0].check.exists.where.status.phase", "unknown test 'above'"),
    (("- apply: kubia", "- apply: kubiaa"), 24, "steps[0].do[0].apply", "no manifest has the id"),
    (("      - apply: kubia\n", ""), 23, "steps[0].do", "list what performs the step"),
    (("exists: {kind: Pod, name: kubia,", "exists: {kind: Pod, selector: 'env in (a', name: kubia,"),
     22, "steps[0].check.exists.selector", "expected"),
])
def test_a_broken_lesson_is_refused_naming_its_line_and_field(teacher_dir, change, line, where,
                                                              words):
    old, new = change
    assert old in GOOD
    error = _broken(teacher_dir, "50-pods-again.yaml", GOOD.replace(old, new, 1))
    assert (error.line, error.where) == (line, where), str(error)
    assert words in error.message
    assert str(error).startswith(f"50-pods-again.yaml line {line}: {where}: ")


def test_yaml_that_does_not_parse_is_refused_with_its_line(teacher_dir):
    error = _broken(teacher_dir, "50-pods-again.yaml", GOOD.replace("title: Pods again",
                                                                   "title: [Pods again", 1))
    assert error.line is not None and "50-pods-again.yaml line" in str(error)


def test_a_duplicate_key_is_refused(teacher_dir):
    error = _broken(teacher_dir, "50-pods-again.yaml", GOOD + "title: Twice\n")
    assert error.where == "title" and "appears twice" in error.message


def test_a_file_must_be_named_for_its_place(teacher_dir):
    error = _broken(teacher_dir, "Pods Again.yaml", GOOD)
    assert "NN-slug.yaml" in error.message


def test_two_lessons_with_one_name_are_refused(teacher_dir):
    (teacher_dir / "50-pods.yaml").write_text(GOOD)
    loaded = catalog.load()
    assert sum(lesson.slug == "pods" for lesson in loaded.lessons) == 1
    assert any("also named 'pods'" in str(e) for e in loaded.broken)


def test_manage_py_check_names_a_broken_lesson(teacher_dir):
    (teacher_dir / "50-pods-again.yaml").write_text(GOOD.replace("speed: 10", "speed: 7"))
    errors = [e for e in system_checks.run_checks() if e.id == "lessons.W001"]
    assert len(errors) == 1 and "cluster.speed" in errors[0].msg


def test_text_may_come_in_several_languages_with_english_first(teacher_dir):
    translated = GOOD.replace("title: Pods again", "title: {en: Pods again, ko: 파드 다시}", 1)
    translated = translated.replace("    hint: Press Apply.", "    hint: {en: Press Apply., ko: 적용을 누르세요.}")
    (teacher_dir / "50-pods-again.yaml").write_text(translated)
    lesson = catalog.load().get("pods-again")
    assert lesson.languages == ("en", "ko")
    assert lesson.title == "Pods again" and lesson.title.in_language("ko") == "파드 다시"
    assert lesson.steps[0].hint.in_language("ko") == "적용을 누르세요."
    assert lesson.summary.in_language("ko") == "One pod."          # untranslated: English


def test_a_translation_without_english_is_refused(teacher_dir):
    error = _broken(teacher_dir, "50-pods-again.yaml",
                    GOOD.replace("title: Pods again", "title: {ko: 파드 다시}", 1))
    assert (error.where, error.line) == ("title", 1) and "English (en)" in error.message
