"""The lessons pages: the list with this learner's progress, and a lesson beside its board."""

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cluster.api import auth
from dashboard.views import board_context
from lessons import catalog, progress, words


def _lesson(slug):
    lessons = catalog.load()
    lesson = lessons.get(slug)
    if lesson is None:
        raise Http404(f"no lesson named {slug!r}")
    return lessons, lesson


LANGUAGE_KEY = "lesson_language"


def language_of(request, offered):
    """The learner's language among `offered`: ?lang= (kept in the session), else the first
    of the browser's Accept-Language that is offered, else English."""
    chosen = request.GET.get("lang")
    if chosen in offered:
        request.session[LANGUAGE_KEY] = chosen
        return chosen
    kept = request.session.get(LANGUAGE_KEY)
    if kept in offered:
        return kept
    for code in accepted_languages(request.headers.get("Accept-Language", "")):
        for candidate in (code, code.split("-")[0]):
            if candidate in offered:
                return candidate
    return "en"


def accepted_languages(header):
    """Accept-Language's language codes, lowercase, most wanted first ("ko-KR,ko;q=0.9,en;q=0.8"
    -> ko-kr, ko, en); a q of 0 means "not this one"."""
    wanted = []
    for i, part in enumerate(header[:1000].split(",")):
        code, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if code and code != "*" and quality > 0:
            wanted.append((-quality, i, code.strip().lower()))
    return [code for _q, _i, code in sorted(wanted)]


@require_GET
def index(request):
    lessons = catalog.load()
    runs = progress.runs_of(progress.learner_of(request))
    rows = []
    for lesson in lessons.lessons:
        run = runs.get(lesson.slug)
        rows.append({"lesson": lesson, "run": run,
                     "done": progress.steps_done(run, lesson) if run else 0,
                     "total": len(lesson.steps)})
    offered = sorted({code for lesson in lessons.lessons for code in lesson.languages})
    return render(request, "lessons/index.html", {"rows": rows, "broken": lessons.broken,
                                                  "language": language_of(request, offered)})


@require_GET
def lesson(request, slug):
    lessons, lesson = _lesson(slug)
    run = progress.runs_of(progress.learner_of(request)).get(slug)
    language = language_of(request, lesson.languages)
    if run is None or run.cluster is None:
        return render(request, "lessons/start.html", {"lesson": lesson, "language": language})
    state = progress.advance(run, lesson)
    # The lesson's board calls its cluster's API with this session, as /clusters/{c}/ grants.
    auth.grant_board_session(request.session, run.cluster.name)
    following = next((other for other in lessons.lessons if other.order > lesson.order), None)
    manifests_url = request.build_absolute_uri(reverse("lesson", args=[slug])) + "manifests"
    steps = [{"step": step, "command": step.command.replace("{manifests}", manifests_url),
              # The manifests a step applies get a button of their own in it.
              "applies": [lesson.manifest(a["apply"]) for a in step.do if "apply" in a], **flags}
             for step, flags in zip(lesson.steps, state["steps"])]
    return render(request, "lessons/lesson.html", {
        **board_context(run.cluster), "lesson": lesson, "state": state, "steps": steps,
        "next_lesson": following, "manifests_url": manifests_url, "language": language,
        "words": words.script_words(language),
    })


@require_POST
def start(request, slug):
    _lessons, lesson = _lesson(slug)
    progress.start(progress.learner_of(request), lesson)
    return redirect("lesson", slug=slug)


@require_POST
def reset(request, slug):
    _lessons, lesson = _lesson(slug)
    learner = progress.learner_of(request)
    run = progress.runs_of(learner).get(slug)
    if run is None:
        progress.start(learner, lesson)
    else:
        progress.reset(run, lesson)
    return redirect("lesson", slug=slug)


@require_GET
def progress_view(request, slug):
    _lessons, lesson = _lesson(slug)
    run = progress.runs_of(progress.learner_of(request)).get(slug)
    if run is None:
        return JsonResponse({"lesson": slug, "started": False}, status=404)
    return JsonResponse(progress.advance(run, lesson))


@require_GET
def manifest(request, slug, manifest):
    """A lesson's manifest as a file, so `kubectl apply -f <this URL>` works."""
    _lessons, lesson = _lesson(slug)
    found = lesson.manifest(manifest)
    if found is None:
        raise Http404(f"lesson {slug!r} has no manifest {manifest!r}")
    return HttpResponse(found.text, content_type="application/yaml; charset=utf-8")
