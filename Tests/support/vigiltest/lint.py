"""vigil-lint, the gitops gate: the binary under test, running it, and generated input streams.

VIGIL_LINT_BIN picks another build; the default is the release build scripts/test.sh makes
(`swift build -c release --product vigil-lint`)."""
import os
import subprocess

from .env import base_env
from .paths import ROOT

LINT = os.path.abspath(os.environ.get("VIGIL_LINT_BIN") or os.path.join(ROOT, ".build", "release", "vigil-lint"))
CORPUS = os.path.join(ROOT, "Tests", "lint-corpus")


def run_lint(*args, stdin=None, cwd=CORPUS, timeout=60):
    """(exit code, stdout, stderr) of `vigil-lint ARGS` in CWD; STDIN is bytes or text."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    result = subprocess.run([LINT, *args], input=data if data is not None else b"", cwd=cwd, env=base_env(),
                            capture_output=True, timeout=timeout)
    return result.returncode, result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: team-{team}
spec:
  replicas: 3
  selector:
    matchLabels: {{app: app-{i}}}
  strategy:
    rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata:
      labels: {{app: app-{i}}}
    spec:
      terminationGracePeriodSeconds: 35
      containers:
        - name: app
          image: registry.example.com/app-{i}:1.{i}
          ports:
            - {{name: http, containerPort: {port}}}
            - {{name: vigil, containerPort: 7979}}
          env:
            - {{name: VIGIL_CHECK_APP, value: "http://127.0.0.1:{port}/healthz"}}
            - {{name: VIGIL_CHECK_APP_PROBES, value: "startup,live,ready"}}
            - {{name: VIGIL_DRAIN_DELAY, value: "{drain}s"}}
            - {{name: VIGIL_STOP_TIMEOUT, value: "20s"}}
          startupProbe: {{httpGet: {{path: /startupz, port: vigil}}, periodSeconds: 2, failureThreshold: 60}}
          readinessProbe: {{httpGet: {{path: /readyz, port: vigil}}, periodSeconds: 2, failureThreshold: 1}}
          livenessProbe: {{httpGet: {{path: /livez, port: vigil}}}}
"""
SERVICE = """apiVersion: v1
kind: Service
metadata: {{name: app-{i}, namespace: team-{team}}}
spec:
  selector: {{app: app-{i}}}
  ports: [{{name: http, port: 80, targetPort: http}}]
"""
BUDGET = """apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: app-{i}, namespace: team-{team}}}
spec:
  maxUnavailable: 1
  selector: {{matchLabels: {{app: app-{i}}}}}
"""
CONFIG = """apiVersion: v1
kind: ConfigMap
metadata: {{name: app-{i}-settings, namespace: team-{team}}}
data:
  settings.yaml: |
{body}"""


def stream(objects=5000, size=10 * 1024 * 1024):
    """A `helm template`-like stream of OBJECTS objects and about SIZE bytes: a Deployment under
    vigil, its Service, its PodDisruptionBudget and a ConfigMap of settings for each app, every
    app with its own port and drain. It lints clean."""
    apps = objects // 4
    fixed = sum(len(t.format(i=0, team=0, port=8000, drain=5, body="")) + 4 for t in (DEPLOYMENT, SERVICE, BUDGET, CONFIG))
    line = "    key_{n:04d}: " + "v" * 40 + "\n"
    lines = max(1, (size // apps - fixed) // len(line.format(n=0)))
    docs = []
    for i in range(apps):
        values = dict(i=i, team=i % 50, port=8000 + i % 1000, drain=5 + i % 6)
        body = "".join(line.format(n=n) for n in range(lines))
        docs += [DEPLOYMENT.format(**values), SERVICE.format(**values), BUDGET.format(**values),
                 CONFIG.format(body=body, **values)]
    return "---\n" + "---\n".join(docs)
