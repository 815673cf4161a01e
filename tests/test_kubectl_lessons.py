"""A lesson done with real kubectl: the learner starts the Pods lesson in the browser's session,
then applies its manifests by URL (`kubectl apply -f http://.../manifests/x.yaml`, as the step's
command says) and deletes with kubectl; each step ticks off by itself on the lesson's progress."""

import http.cookiejar
import json
import urllib.parse
import urllib.request

import pytest

from tests.kubectl import Kubectl
from tests.live import until


class Learner:
    """A browser session: cookies, and the CSRF token a form post carries."""

    def __init__(self, server):
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path):
        with self.opener.open(self.server.url + path, timeout=10) as response:
            return response.read().decode()

    def post(self, path):
        token = next(c.value for c in self.jar if c.name == "csrftoken")
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(self.server.url + path, data=data,
                                         headers={"Referer": self.server.url + path})
        with self.opener.open(request, timeout=30) as response:
            return response.status

    def progress(self, slug):
        return json.loads(self.get(f"/lessons/{slug}/progress"))


@pytest.fixture(scope="module")
def learner(live_kubelab):
    person = Learner(live_kubelab)
    person.get("/lessons/pods/")
    assert person.post("/lessons/pods/start") == 200       # redirected to the lesson's board
    return person


def done(learner, step_id):
    state = learner.progress("pods")
    return next(s for s in state["steps"] if s["id"] == step_id)["done"]


def test_the_pods_lesson_done_with_kubectl(live_kubelab, learner, tmp_path):
    cluster = learner.progress("pods")["cluster"]
    kubectl = Kubectl(live_kubelab, cluster, tmp_path)
    manifests = f"{live_kubelab.url}/lessons/pods/manifests"
    assert not done(learner, "run-pod")

    out = kubectl("apply", "-f", f"{manifests}/kubia-manual.yaml")
    assert out.strip() == "pod/kubia-manual created"
    until("step run-pod to tick off", lambda: done(learner, "run-pod"))

    kubectl("apply", "-f", f"{manifests}/kubia-manual-2.yaml")
    until("step second-pod to tick off", lambda: done(learner, "second-pod"))

    assert kubectl("delete", "pod", "kubia-manual", "--grace-period=1").strip() == \
        'pod "kubia-manual" deleted'
    until("step delete-pod to tick off", lambda: done(learner, "delete-pod"))
    assert learner.progress("pods")["finished"]
