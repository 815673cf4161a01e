"""The lessons, read from their files: one YAML file per lesson, so a teacher adds one without
touching Python.

A file `NN-slug.yaml` in `lessons/content/` (or a directory of `settings.LESSON_DIRS`) holds:

    title, summary, seed_section (1-10), explanation      text; `code` and **bold** render
    cluster: {nodes: 3, speed: 1}                          the fresh cluster the lesson runs in
    manifests: [{id, title, example | yaml, setup, mistake: {error, explain, fixed}}]
    steps: [{id, title, text, hint, command, check, do, within}]

Text a learner reads (titles, summary, explanation, a step's text and hint, a mistake's
explanation) is English, or a map of language code to text with `en` among them
(`{en: ..., ko: ...}`): the page shows the learner's language where the lesson has it.

`example` names one of the board's examples (dashboard/examples) so the seed's manifests are
written once. A `mistake` manifest is one the learner applies to see kubelab refuse it: `error`
is a piece of the message kubelab gives, `fixed` the manifest that corrects it. A step's `check`
is a lessons.checks predicate; `do` is what performs the step (the tests run it through the
API, so every lesson proves its own steps can be done); `within` is how many simulated seconds
the check may take to turn true after that.

A broken file is refused as a whole with its file, line and field (`LessonFileError`); the
other lessons still load, and `manage.py check` lists the broken ones.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from cluster import manifests
from dashboard import examples
from lessons import checks

CONTENT = Path(__file__).resolve().parent / "content"
FILE_NAME = re.compile(r"^(\d+)-([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.yaml$")
SPEEDS = (1, 2, 5, 10, 50, 100)
MAX_NODES = 10
ACTIONS = {
    "apply": "a manifest id of this lesson",
    "delete": "a selection (kind, name or selector)",
    "label": "a selection and labels (a value of null removes the label)",
    "patch": "a selection and a merge patch",
    "scale": "a selection and replicas",
    "exec": "a selection, an optional container and a command",
    "power": "a node name and on or off",
    "add_node": "a node name and optional labels",
}


LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


class Prose(str):
    """Text a learner reads: the English text itself, with its translations by language code."""

    def __new__(cls, english, translations=None):
        prose = super().__new__(cls, english)
        prose.translations = dict(translations or {})
        return prose

    def in_language(self, code):
        return self.translations.get(code, str(self))


class LessonFileError(ValueError):
    def __init__(self, path, line, where, message):
        self.path, self.line, self.where, self.message = path, line, where, message
        at = f"{path.name}" + (f" line {line}" if line else "")
        super().__init__(f"{at}: {where + ': ' if where else ''}{message}")


@dataclass(frozen=True)
class Mistake:
    error: str
    explain: str
    fixed: str


@dataclass(frozen=True)
class Manifest:
    id: str
    title: str
    text: str
    setup: bool = False
    mistake: Mistake | None = None


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    text: str
    hint: str
    command: str
    check: checks.Check
    do: tuple
    within: int


@dataclass(frozen=True)
class Lesson:
    slug: str
    order: int
    title: str
    summary: str
    seed_section: int
    explanation: str
    nodes: int
    speed: int
    manifests: tuple
    steps: tuple
    path: Path = field(compare=False)
    languages: tuple = ("en",)      # English, then the languages some of its text is in

    def manifest(self, manifest_id):
        return next((m for m in self.manifests if m.id == manifest_id), None)

    def step(self, step_id):
        return next((s for s in self.steps if s.id == step_id), None)


@dataclass
class Catalog:
    lessons: list
    broken: list          # LessonFileError

    def get(self, slug):
        return next((lesson for lesson in self.lessons if lesson.slug == slug), None)


def directories():
    return [CONTENT, *(Path(d) for d in getattr(settings, "LESSON_DIRS", ()))]


# The last catalog read, and the files (path, modification time, size) it was read from.
_read = (None, None)


def load():
    """Every lesson file: read again only when one was added, removed or changed, so a
    teacher's edit shows on the next page while a lesson page's frequent progress checks
    do not parse ten files each time."""
    global _read
    files = sorted((p for d in directories() if d.is_dir() for p in d.glob("*.yaml")),
                   key=lambda p: p.name)
    signature = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    if _read[0] != signature:
        _read = (signature, _load(files))
    return _read[1]


def _load(files):
    lessons, broken = [], []
    for path in files:
        try:
            lessons.append(read(path))
        except LessonFileError as exc:
            broken.append(exc)
    slugs = set()
    for lesson in list(lessons):
        if lesson.slug in slugs:
            lessons.remove(lesson)
            broken.append(LessonFileError(lesson.path, None, "", f"another lesson file is also "
                                          f"named {lesson.slug!r}: rename one"))
        slugs.add(lesson.slug)
    return Catalog(sorted(lessons, key=lambda lesson: (lesson.order, lesson.slug)), broken)


def read(path):
    name = FILE_NAME.match(path.name)
    if not name:
        raise LessonFileError(path, None, "", "a lesson file is named NN-slug.yaml (01-pods.yaml): "
                              "a number for its place, then lowercase letters, digits and dashes")
    try:
        doc = manifests.read_yaml(path.read_bytes())
    except manifests.ManifestError as exc:
        raise LessonFileError(path, exc.line, "", str(exc).split(": ", 1)[-1]) from None
    if doc.errors:
        error = doc.errors[0]
        raise LessonFileError(path, error.line, error.field, error.hint or error.detail)
    try:
        return _Reader(doc).lesson(path, int(name.group(1)), name.group(2))
    except _Wrong as exc:
        raise LessonFileError(path, doc.line_of(exc.where), exc.where, exc.message) from None


class _Wrong(Exception):
    def __init__(self, where, message):
        self.where, self.message = where, message


def _text(value, where, required=True):
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _Wrong(where, "must be some text" if value is None else "must be text")
    return value.strip()


def _prose(value, where, languages):
    """English text, or {en: ..., ko: ...}; the languages seen are added to `languages`."""
    if not isinstance(value, dict):
        return Prose(_text(value, where))
    for code in value:
        if not isinstance(code, str) or not LANGUAGE_CODE.match(code):
            raise _Wrong(f"{where}.{code}", "a translation's key is a language code: en, ko, ...")
    if "en" not in value:
        raise _Wrong(where, "the text in English (en) is required beside its translations")
    texts = {code: _text(text, f"{where}.{code}") for code, text in value.items()}
    languages.update(texts)
    return Prose(texts.pop("en"), texts)


def _slug(value, where):
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", value):
        raise _Wrong(where, "must be lowercase letters, digits and dashes")
    return value


def _known(mapping, where, allowed):
    if not isinstance(mapping, dict):
        raise _Wrong(where, "must be a map")
    for key in mapping:
        if key not in allowed:
            raise _Wrong(f"{where}.{key}" if where else key,
                         "unknown field; expected one of " + ", ".join(sorted(allowed)))


class _Reader:
    TOP = {"title", "summary", "seed_section", "explanation", "cluster", "manifests", "steps"}
    MANIFEST = {"id", "title", "example", "yaml", "setup", "mistake"}
    STEP = {"id", "title", "text", "hint", "command", "check", "do", "within"}

    def __init__(self, doc):
        self.doc = doc
        self.languages = {"en"}

    def prose(self, value, where):
        return _prose(value, where, self.languages)

    def lesson(self, path, order, slug):
        obj = self.doc.obj
        _known(obj, "", self.TOP)
        section = obj.get("seed_section")
        if not isinstance(section, int) or not 1 <= section <= 10:
            raise _Wrong("seed_section", "must be the seed's section number, 1 to 10")
        cluster = obj.get("cluster") or {}
        _known(cluster, "cluster", {"nodes", "speed"})
        nodes, speed = cluster.get("nodes", 3), cluster.get("speed", 1)
        if not isinstance(nodes, int) or not 1 <= nodes <= MAX_NODES:
            raise _Wrong("cluster.nodes", f"must be a number of nodes from 1 to {MAX_NODES}")
        if speed not in SPEEDS:
            raise _Wrong("cluster.speed", "must be one of the board's speeds: "
                         + ", ".join(map(str, SPEEDS)))
        manifest_list = self._list(obj.get("manifests") or [], "manifests")
        found = tuple(self.manifest(m, f"manifests[{i}]") for i, m in enumerate(manifest_list))
        ids = [m.id for m in found]
        for i, m in enumerate(found):
            if ids.index(m.id) != i:
                raise _Wrong(f"manifests[{i}].id", f"{m.id!r} is used twice")
            if m.mistake and m.mistake.fixed not in ids:
                raise _Wrong(f"manifests[{i}].mistake.fixed", f"no manifest has the id "
                             f"{m.mistake.fixed!r}")
        step_list = self._list(obj.get("steps"), "steps")
        if not step_list:
            raise _Wrong("steps", "a lesson needs at least one step")
        steps = tuple(self.step(s, f"steps[{i}]", ids) for i, s in enumerate(step_list))
        step_ids = [s.id for s in steps]
        for i, s in enumerate(steps):
            if step_ids.index(s.id) != i:
                raise _Wrong(f"steps[{i}].id", f"{s.id!r} is used twice")
        return Lesson(slug, order, self.prose(obj.get("title"), "title"),
                      self.prose(obj.get("summary"), "summary"), section,
                      self.prose(obj.get("explanation"), "explanation"), nodes, speed, found,
                      steps, path, ("en", *sorted(self.languages - {"en"})))

    def _list(self, value, where):
        if not isinstance(value, list):
            raise _Wrong(where, "must be a list")
        return value

    def manifest(self, spec, where):
        _known(spec, where, self.MANIFEST)
        manifest_id = _slug(spec.get("id"), f"{where}.id")
        if ("example" in spec) == ("yaml" in spec):
            raise _Wrong(where, "give the manifest as example (one of the board's examples) or "
                         "as yaml, one of the two")
        if "example" in spec:
            example = next((e for e in examples.CATALOG if e.slug == spec["example"]), None)
            if example is None:
                raise _Wrong(f"{where}.example", "no example is named " + repr(spec["example"])
                             + "; the examples are " + ", ".join(e.slug for e in examples.CATALOG))
            text = example.text
        else:
            text = _text(spec["yaml"], f"{where}.yaml") + "\n"
        mistake = spec.get("mistake")
        if mistake is not None:
            _known(mistake, f"{where}.mistake", {"error", "explain", "fixed"})
            mistake = Mistake(_text(mistake.get("error"), f"{where}.mistake.error"),
                              self.prose(mistake.get("explain"), f"{where}.mistake.explain"),
                              _slug(mistake.get("fixed"), f"{where}.mistake.fixed"))
        setup = spec.get("setup", False)
        if not isinstance(setup, bool):
            raise _Wrong(f"{where}.setup", "must be true or false")
        if setup and mistake:
            raise _Wrong(f"{where}.setup", "a mistake cannot be applied when the lesson starts")
        return Manifest(manifest_id, self.prose(spec.get("title"), f"{where}.title"), text, setup,
                        mistake)

    def step(self, spec, where, manifest_ids):
        _known(spec, where, self.STEP)
        try:
            check = checks.compile_check(spec.get("check"), "check")
        except checks.CheckError as exc:
            raise _Wrong(f"{where}.{exc.path}", exc.message) from None
        actions = spec.get("do")
        if not isinstance(actions, list) or not actions:
            raise _Wrong(f"{where}.do", "list what performs the step (the tests run it): one or "
                         "more of " + "; ".join(f"{k}: {v}" for k, v in ACTIONS.items()))
        for i, action in enumerate(actions):
            self.action(action, f"{where}.do[{i}]", manifest_ids)
        within = spec.get("within", 300)
        if not isinstance(within, int) or within < 1:
            raise _Wrong(f"{where}.within", "must be a number of simulated seconds")
        return Step(_slug(spec.get("id"), f"{where}.id"),
                    self.prose(spec.get("title"), f"{where}.title"),
                    self.prose(spec.get("text"), f"{where}.text"),
                    self.prose(spec.get("hint"), f"{where}.hint"),
                    _text(spec.get("command"), f"{where}.command", required=False), check,
                    tuple(actions), within)

    def action(self, action, where, manifest_ids):
        if not isinstance(action, dict) or len(action) != 1:
            raise _Wrong(where, "an action is a map with one of " + ", ".join(ACTIONS))
        (verb, arg), = action.items()
        if verb not in ACTIONS:
            raise _Wrong(where, f"unknown action {verb!r}; the actions are " + ", ".join(ACTIONS))
        if verb == "apply" and arg not in manifest_ids:
            raise _Wrong(f"{where}.apply", f"no manifest has the id {arg!r}")
        if verb in ("delete", "label", "patch", "scale", "exec") and not (
                isinstance(arg, dict) and isinstance(arg.get("kind"), str)):
            raise _Wrong(f"{where}.{verb}", f"must be {ACTIONS[verb]}")
        if verb in ("power", "add_node") and not (isinstance(arg, dict)
                                                   and isinstance(arg.get("node"), str)):
            raise _Wrong(f"{where}.{verb}", f"must be {ACTIONS[verb]} (node: node-2)")
