"""The lesson pages: the list with each learner's progress, starting a lesson in a fresh cluster
beside its board, progress as JSON, manifests as files, and reset (lessons/views.py)."""

import json

import yaml
from django.test import Client

from cluster import engine
from cluster.models import ApiObject, Cluster
from lessons.models import LessonRun


def _start(client, slug="pods"):
    response = client.post(f"/lessons/{slug}/start")
    assert response.status_code == 302 and response["Location"] == f"/lessons/{slug}/"
    return LessonRun.objects.get(lesson=slug)


def test_the_list_shows_every_lesson_and_this_learners_progress(db, client):
    page = client.get("/lessons/").content.decode()
    assert page.count('class="lesson-card') == 10
    assert "not started" in page
    run = _start(client)
    run.done = {"run-pod": {"rv": 1, "at": "2026-01-01T00:00:00Z"}}
    run.save()
    page = client.get("/lessons/").content.decode()
    assert "1 of 3 steps" in page
    assert "1 of 3 steps" not in Client().get("/lessons/").content.decode()  # another learner


def test_a_lesson_starts_in_a_fresh_cluster_of_its_own(db, client):
    page = client.get("/lessons/pods/").content.decode()
    assert 'id="lesson-start"' in page and Cluster.objects.count() == 0   # GET makes nothing
    run = _start(client)
    assert run.cluster.name.startswith("pods-")
    assert ApiObject.objects.filter(cluster=run.cluster, kind="Node").count() == 3
    page = client.get("/lessons/pods/").content.decode()
    assert 'id="lesson-panel"' in page and 'id="board-root"' in page     # beside its board
    assert f'data-cluster="{run.cluster.name}"' in page
    assert "kubectl apply -f http://testserver/lessons/pods/manifests/kubia-manual.yaml" in page
    _start(client)
    assert Cluster.objects.count() == 1                     # starting again keeps the run


def test_progress_ticks_as_the_learner_works(db, client):
    run = _start(client)
    state = client.get("/lessons/pods/progress").json()
    assert (state["done"], state["total"], state["steps"][0]["current"]) == (0, 3, True)
    manifest = client.get("/lessons/pods/manifests/kubia-manual.yaml")
    assert manifest["Content-Type"].startswith("application/yaml")
    response = client.post(f"/clusters/{run.cluster.name}/apply",
                           {"manifest": manifest.content.decode()})
    assert response.json()["ok"]
    for _ in range(10):
        engine.tick(run.cluster, 1)
    state = client.get("/lessons/pods/progress").json()
    assert state["steps"][0]["done"] and state["steps"][1]["current"]


def test_manifests_are_served_as_the_lesson_writes_them(db, client):
    text = client.get("/lessons/replicationcontroller/manifests/kubia-rc.yaml").content.decode()
    assert yaml.safe_load(text)["kind"] == "ReplicationController"
    assert "# RC의 manifest 정의" in text                  # the seed's own text, comments kept
    assert client.get("/lessons/pods/manifests/nope.yaml").status_code == 404
    assert client.get("/lessons/nope/").status_code == 404


def test_reset_gives_a_clean_cluster_and_no_progress(db, client):
    run = _start(client)
    client.post(f"/clusters/{run.cluster.name}/apply",
                {"manifest": client.get("/lessons/pods/manifests/kubia-manual.yaml")
                 .content.decode()})
    for _ in range(10):
        engine.tick(run.cluster, 1)
    assert client.get("/lessons/pods/progress").json()["done"] == 1
    assert client.post("/lessons/pods/reset").status_code == 302
    assert not ApiObject.objects.filter(cluster=run.cluster, kind="Pod").exists()
    assert client.get("/lessons/pods/progress").json()["done"] == 0


def test_progress_of_a_lesson_not_started_is_404(db, client):
    assert client.get("/lessons/pods/progress").status_code == 404


def test_the_lessons_board_may_call_its_clusters_api_without_local_mode(db, client, settings):
    settings.API_ANONYMOUS_LOOPBACK = False
    run = _start(client)
    pods = f"/clusters/{run.cluster.name}/api/v1/namespaces/default/pods"
    assert client.get(pods).status_code == 401
    client.get("/lessons/pods/")
    assert client.get(pods, HTTP_SEC_FETCH_SITE="same-origin").status_code == 200
    assert Client().get(pods, HTTP_SEC_FETCH_SITE="same-origin").status_code == 401


def test_the_admin_lists_every_learners_runs(db, client, admin_client):
    _start(client)
    page = admin_client.get("/admin/lessons/lessonrun/").content.decode()
    assert "session:" in page and "pods" in page


def test_the_learners_language_is_chosen_from_the_browser_then_kept(db, client, settings,
                                                                   tmp_path):
    settings.LESSON_DIRS = [str(tmp_path)]
    (tmp_path / "50-hello.yaml").write_text(
        "title: {en: Hello, ko: 안녕}\nseed_section: 1\nsummary: s\nexplanation: {en: Hi, ko: 반가워요}\n"
        "steps:\n- {id: a, title: A, text: T, hint: H, check: {exists: {kind: Pod}},"
        " do: [{delete: {kind: Pod}}]}\n")
    page = client.get("/lessons/hello/", HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9,en;q=0.8")
    assert "안녕" in page.content.decode() and 'lang="ko"' in page.content.decode()
    page = client.get("/lessons/hello/?lang=en", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "<h1 id=\"lesson-title\">Hello</h1>" in page
    page = client.get("/lessons/hello/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "Hello" in page and "반가워요" not in page              # the choice is kept
    assert "Hi" in Client().get("/lessons/hello/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()


def test_lesson_text_renders_paragraphs_lists_code_and_bold_and_escapes_the_rest():
    from lessons.templatetags.lesson_text import lesson_text

    html = lesson_text("A **pod** <script>\nruns.\n\n- one `-l app`\n- two\n  lines\n\nEnd")
    assert html == ("<p>A <strong>pod</strong> &lt;script&gt; runs.</p>"
                    "<ul><li>one <code>-l app</code></li><li>two lines</li></ul><p>End</p>")


def test_lesson_clusters_stay_out_of_the_home_list_and_the_switcher(db, client):
    from cluster import bootstrap

    bootstrap.create_cluster("mine", 1)
    run = _start(client)
    home = client.get("/").content.decode()
    assert "mine" in home and run.cluster.name not in home
    board = client.get("/clusters/mine/").content.decode()
    assert run.cluster.name not in board
    lesson = client.get("/lessons/pods/").content.decode()
    assert f'<option value="/clusters/{run.cluster.name}/" selected>' in lesson


def test_progress_counts_only_the_steps_the_lesson_still_has(db, client):
    run = _start(client)
    run.done = {"run-pod": {"rv": 1, "at": "2026-01-01T00:00:00Z"},
                "a-step-the-teacher-removed": {"rv": 2, "at": "2026-01-01T00:00:01Z"}}
    run.save()
    assert client.get("/lessons/pods/progress").json()["done"] == 1
    assert "1 of 3 steps" in client.get("/lessons/").content.decode()


def test_the_pages_own_words_follow_the_learners_language(db, client):
    korean = {"HTTP_ACCEPT_LANGUAGE": "ko"}
    assert "레슨 시작" in client.get("/lessons/pods/", **korean).content.decode()
    _start(client)
    page = client.get("/lessons/pods/", **korean).content.decode()
    assert '<h2 id="lesson-steps-title">단계</h2>' in page and "힌트" in page
    assert ">0/3</span> 단계" in page
    words = json.loads(page.split('<script id="lesson-words" type="application/json">')[1]
                       .split("</script>")[0])
    assert words["{done} of {total}"] == "{done}/{total}"
    page = client.get("/lessons/pods/?lang=en").content.decode()
    assert '<h2 id="lesson-steps-title">Steps</h2>' in page and "0 of 3" in page
    assert ">Apply Pod kubia-manual" in page          # buttons named in hints stay as written
