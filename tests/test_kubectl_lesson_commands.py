"""Every lesson step's `command`, run as written with real kubectl, ticks its step off.

The lesson page shows each step's "command that does it" (lessons/content/*.yaml, with
`{manifests}` standing for the lesson's manifests URL). Here a learner starts each lesson, and
each step's command runs in `bash -c` with KUBECONFIG set to that lesson cluster's kubeconfig;
then the step must tick off on /lessons/<slug>/progress, as the learner sees it.

A command is kubectl parts joined by ` && `, run in order; each must exit 0. A part that ends in
a watch (`-w`) never exits: it runs in the background while the step's effect shows, and must
still be running (it printed, and did not fail) when it is stopped.

The lesson cluster's clock runs faster than the lesson's own speed so simulated waits (a 30 s
grace period, a 5-minute eviction, a 2-minute batch job) take wall seconds. The CronJob step
is not sped past x20: its startingDeadlineSeconds is 15, and a reconciler tick of more than
that would skip the run (lesson 07's explanation), so the clock is paused and stepped to just
before the next scheduled run instead of waiting out up to 15 simulated minutes.
"""

import datetime as dt
import json
import os
import re
import shlex
import subprocess

import pytest

from cluster import cron
from lessons import catalog
from tests.kubectl import Kubectl
from tests.live import Learner, api, set_clock, until

LESSONS = catalog.load()

# Simulated seconds per wall second while a lesson's commands run. x20 keeps every probe and
# grace period visible for at least a poll or two; the RC lesson's node power-off needs 40 s to
# NotReady plus 300 s to eviction, so it runs at the clock's top speed. The liveness lesson's
# probe uses kubia-unhealthy's five good answers by itself within a simulated minute: at x5
# that is 11 wall seconds for the learner's curl to come first, as it would at x1.
SPEED = 20
SPEEDS = {"replicationcontroller": 100, "liveness-probes": 5}

WATCH = re.compile(r"(^|\s)(-w|--watch)(\s|$)")
# A watch must print (its first listing) within this many wall seconds and keep running.
WATCH_LISTS_WITHIN = 10
# kubectl's stderr lines a learner is meant to see (not failures).
EXPECTED_STDERR = re.compile(r"^(No resources found|Warning: )")


class Shell:
    """bash with the learner's environment: kubectl on PATH, KUBECONFIG of the lesson cluster."""

    def __init__(self, kubectl):
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(kubectl.home),
                    "KUBECONFIG": str(kubectl.kubeconfig), "LANG": "C.UTF-8"}
        self.home = kubectl.home

    def run(self, part):
        done = subprocess.run(["bash", "-c", part], env=self.env, capture_output=True,
                              text=True, timeout=60)
        return done.returncode, done.stdout, done.stderr

    def start(self, part, name):
        out = open(self.home / f"{name}.out", "w+")
        err = open(self.home / f"{name}.err", "w+")
        process = subprocess.Popen(["bash", "-c", part], env=self.env, stdout=out, stderr=err,
                                   text=True, start_new_session=True)
        return Watch(part, process, out, err)


class Watch:
    def __init__(self, part, process, out, err):
        self.part, self.process, self.out, self.err = part, process, out, err

    def output(self):
        """(stdout, stderr) so far."""
        return tuple(_read(f) for f in (self.out, self.err))

    def listed(self):
        """It printed its first listing (or that there is nothing yet), or it exited (which
        the caller then reports)."""
        stdout, stderr = self.output()
        return self.process.poll() is not None or stdout.strip() or \
            "No resources found" in stderr

    def stop(self):
        """Stop it as the learner's Ctrl-C does; (still running until now, stdout, stderr)."""
        running = self.process.poll() is None
        if running:
            os.killpg(self.process.pid, 2)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        stdout, stderr = self.output()
        self.out.close()
        self.err.close()
        return running, stdout, stderr


def _read(file):
    file.flush()
    file.seek(0)
    return file.read()


def parts_of(command):
    """The command's kubectl invocations, in order; a watch may only be the last."""
    parts = [p.strip() for p in command.split(" && ")]
    for i, part in enumerate(parts):
        words = shlex.split(part, comments=True)
        assert words and words[0] == "kubectl", f"not a kubectl command: {part!r} in {command!r}"
        assert not WATCH.search(part) or i == len(parts) - 1, \
            f"a watch never exits, so nothing after it runs: {command!r}"
    return parts


def unexpected_stderr(stderr):
    return [line for line in stderr.splitlines() if line.strip()
            and not EXPECTED_STDERR.match(line)]


def clock_now(server, cluster):
    status, body = api(server, "GET", f"/clusters/{cluster}/apis/kubelab.io/v1/clocks/cluster")
    assert status == 200, body
    return dt.datetime.strptime(body["status"]["now"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=dt.timezone.utc)


def step_to_next_run(server, session, cluster, namespace, name):
    """Pause the clock, step it to 10 s before the CronJob's next scheduled run, resume: the
    run then fires within a tick or two, inside its 15 s startingDeadlineSeconds."""
    set_clock(server, cluster, paused=True)
    # A tick already under way when the pause landed may still move the clock by one tick
    # (0.1 s at x20: 2 simulated seconds), which the 10 s margin absorbs.
    now = clock_now(server, cluster)
    status, cronjob = api(server, "GET",
                          f"/clusters/{cluster}/apis/batch/v1/namespaces/{namespace}/cronjobs/{name}")
    assert status == 200, cronjob
    due = cron.parse(cronjob["spec"]["schedule"]).next(now)
    seconds = (due - now).total_seconds() - 10
    if seconds > 0:
        status, body = session.post(f"/clusters/{cluster}/clock/step", seconds=seconds)
        assert status == 200 and json.loads(body)["ok"], body
        until("the clock to take its step", lambda: clock_now(server, cluster) >= due -
              dt.timedelta(seconds=11))
    set_clock(server, cluster, paused=False)


# Steps whose wait is sped past by stepping the clock (see the module's docstring).
BEFORE_WAITING = {
    ("job-and-cronjob", "run-cronjob"):
        lambda server, session, cluster: step_to_next_run(
            server, session, cluster, "default", "batch-job-every-fifteen-minutes"),
}


@pytest.mark.parametrize("slug", [lesson.slug for lesson in LESSONS.lessons])
def test_each_step_command_as_written_ticks_the_step_off(slug, live_kubelab, tmp_path):
    lesson = LESSONS.get(slug)
    session = Learner(live_kubelab)
    session.get(f"/lessons/{slug}/")
    assert session.post(f"/lessons/{slug}/start")[0] == 200
    cluster = session.progress(slug)["cluster"]
    speed = SPEEDS.get(slug, SPEED)
    set_clock(live_kubelab, cluster, speed=speed)
    shell = Shell(Kubectl(live_kubelab, cluster, tmp_path))
    manifests = f"{live_kubelab.url}/lessons/{slug}/manifests"
    try:
        for number, step in enumerate(lesson.steps):
            command = step.command.replace("{manifests}", manifests)
            state = session.step(slug, step.id)
            assert state["current"] and not state["done"], f"{step.id} ticked off before {command!r}"

            def ticked_off():
                hook = BEFORE_WAITING.get((slug, step.id))
                if hook:
                    hook(live_kubelab, session, cluster)
                until(f"step {step.id} to tick off after {command!r}",
                      lambda: session.step(slug, step.id)["done"],
                      seconds=15 + 3 * step.within / speed)

            run_command(shell, f"{number}-{step.id}", command, then=ticked_off)
        assert session.progress(slug)["finished"]
    finally:
        # The learner leaves: its cluster's clock stops, so the lessons after this one do not
        # share the reconciler with it.
        set_clock(live_kubelab, cluster, paused=True)


def run_command(shell, name, command, then):
    """Run the command's parts in order, each to success; a watch at the end keeps running
    while `then()` waits for the step, and must still be running when it is stopped."""
    watch = None
    try:
        for part in parts_of(command):
            if WATCH.search(part):
                watch = shell.start(part, name)
                until(f"{part!r} to list", watch.listed, WATCH_LISTS_WITHIN)
                continue
            code, stdout, stderr = shell.run(part)
            print(f"$ {part}\n{stdout}{stderr}")
            assert code == 0, f"{name}: {part!r} exited {code}:\n{stderr}{stdout}"
            assert not unexpected_stderr(stderr), f"{name}: {part!r} said:\n{stderr}"
        then()
    finally:
        if watch:
            running, stdout, stderr = watch.stop()
            print(f"$ {watch.part}   (stopped)\n{stdout}{stderr}")
    if watch:
        assert running, f"{name}: {watch.part!r} exited {watch.process.returncode}:\n" \
                        f"{stderr}{stdout}"
        assert stdout.strip(), f"{name}: {watch.part!r} printed nothing:\n{stderr}"
        assert not unexpected_stderr(stderr), f"{name}: {watch.part!r} said:\n{stderr}"
