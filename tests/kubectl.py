"""Real kubectl (/usr/bin/kubectl) against a live kubelab: a kubeconfig per cluster and a
`run` that returns what the learner would see.

Each Kubectl gets its own HOME, so kubectl's discovery cache (6 hours, keyed by host:port)
never carries one test run's API over to another. /usr/bin/kubectl is the Cloud SDK
dispatcher: it asks /version first and runs the bundled kubectl of the server's minor version.

The kubeconfig is the one a learner gets: `manage.py kubeconfig --cluster <c>` run against
the live server's database, so kubectl talks HTTPS to the server's TLS port, verifies it with
kubelab's CA and sends the cluster's bearer token, as it would to a real cluster.
"""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.tools import require_tool

KUBECTL = "/usr/bin/kubectl"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self):
        return self.returncode == 0


class Kubectl:
    def __init__(self, server, cluster, home: Path, namespace="default"):
        self.binary = require_tool(KUBECTL, "the kubectl tests run the real kubectl")
        self.server, self.cluster, self.home = server, cluster, Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = self.home / "kubeconfig"
        self.kubeconfig.write_text(yaml.safe_dump(self.config(namespace)))

    def config(self, namespace):
        """The kubeconfig kubectl reads: `manage.py kubeconfig` for this cluster (HTTPS, CA,
        token), its context's namespace set to `namespace`."""
        return yaml.safe_load(self.server.manage("kubeconfig", "--cluster", self.cluster,
                                                 "--namespace", namespace))

    def run(self, *args, input=None, timeout=60, env=None):
        environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home),
                   "KUBECONFIG": str(self.kubeconfig), "LANG": "C.UTF-8", **(env or {})}
        done = subprocess.run([self.binary, *args], input=input, capture_output=True,
                              text=True, timeout=timeout, env=environ)
        return Result(done.returncode, done.stdout, done.stderr)

    def __call__(self, *args, **kwargs):
        """Run and insist on success: the output, or an AssertionError showing stderr."""
        result = self.run(*args, **kwargs)
        assert result.ok, f"kubectl {' '.join(args)} exited {result.returncode}:\n" \
                          f"{result.stderr}{result.stdout}"
        return result.stdout
