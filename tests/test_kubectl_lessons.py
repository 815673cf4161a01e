"""A lesson done with real kubectl: the learner starts the Pods lesson in the browser's session,
then applies its manifests by URL (`kubectl apply -f http://.../manifests/x.yaml`, as the step's
command says) and deletes with kubectl; each step ticks off by itself on the lesson's progress."""

import pytest

from tests.kubectl import Kubectl
from tests.live import Learner, until


@pytest.fixture(scope="module")
def learner(live_kubelab):
    person = Learner(live_kubelab)
    person.get("/lessons/pods/")
    assert person.post("/lessons/pods/start")[0] == 200    # redirected to the lesson's board
    return person


def done(learner, step_id):
    return learner.step("pods", step_id)["done"]


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
