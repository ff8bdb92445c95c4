"""The Kubernetes example and the template's example settings are real: the manifest in
docs/kubernetes.md is examples/kubernetes/deployment.yaml, its probes, grace period and rollout
fit vigil's settings, and every VIGIL_* value in them passes `vigil config --check`."""
import os
import re
import subprocess

import pytest
import yaml  # PyYAML: scripts/test.sh installs it

from vigiltest.images import TEMPLATE
from vigiltest.paths import ROOT, VIGIL

MANIFEST = os.path.join(ROOT, "examples", "kubernetes", "deployment.yaml")
KUBERNETES_DOC = os.path.join(ROOT, "docs", "kubernetes.md")


def seconds(text):
    match = re.fullmatch(r"(\d+)s", text)
    assert match, f"write durations as whole seconds in the example: {text}"
    return int(match.group(1))


def vigil_config_check(env):
    if not os.access(VIGIL, os.X_OK):
        pytest.fail(f"no vigil binary at {VIGIL}")
    return subprocess.run([VIGIL, "config", "--check"], env={"PATH": "/usr/bin:/bin", **env},
                          capture_output=True, text=True, timeout=10)


@pytest.fixture(scope="module")
def manifest():
    with open(MANIFEST) as f:
        documents = [d for d in yaml.safe_load_all(f) if d]
    kinds = {d["kind"]: d for d in documents}
    assert set(kinds) == {"Deployment", "Service"}
    return kinds


def container(manifest):
    containers = manifest["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def test_the_doc_shows_the_example_file():
    with open(MANIFEST) as f:
        example = f.read()
    with open(KUBERNETES_DOC) as f:
        doc = f.read()
    assert f"```yaml\n{example}```" in doc, "docs/kubernetes.md must embed examples/kubernetes/deployment.yaml unchanged"


def test_probes_go_to_vigil(manifest):
    c = container(manifest)
    assert "command" not in c, "a command: would replace the image's ENTRYPOINT and bypass vigil"
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports["vigil"] == 7979
    for probe, path in (("startupProbe", "/startupz"), ("readinessProbe", "/readyz"), ("livenessProbe", "/livez")):
        get = c[probe]["httpGet"]
        assert get["path"] == path and ports.get(get["port"], get["port"]) == 7979, (probe, get)
    startup = c["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60, "startupProbe should allow a slow start"
    assert c["livenessProbe"]["periodSeconds"] * c["livenessProbe"]["failureThreshold"] >= 20


def test_grace_period_covers_drain_and_stop(manifest):
    env = {e["name"]: e["value"] for e in container(manifest)["env"]}
    grace = manifest["Deployment"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= seconds(env["VIGIL_DRAIN_DELAY"]) + seconds(env["VIGIL_STOP_TIMEOUT"]) + 5


def test_rolling_update_keeps_capacity(manifest):
    strategy = manifest["Deployment"]["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}


def test_service_selects_the_pods_and_not_the_probe_port(manifest):
    labels = manifest["Deployment"]["spec"]["template"]["metadata"]["labels"]
    service = manifest["Service"]["spec"]
    assert service["selector"].items() <= labels.items()
    assert manifest["Deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert all(p.get("targetPort") not in (7979, "vigil") for p in service["ports"])


def test_liveness_depends_on_the_app_only(manifest):
    env = {e["name"]: e["value"] for e in container(manifest)["env"]}
    live = [name for name, value in env.items() if name.endswith("_PROBES") and "live" in value.split(",")]
    assert live == ["VIGIL_CHECK_APP_PROBES"], live
    assert env["VIGIL_CHECK_APP"].startswith(("http://127.0.0.1:", "tcp://127.0.0.1:"))


def test_manifest_settings_are_valid(manifest):
    env = {e["name"]: e["value"] for e in container(manifest)["env"]}
    result = vigil_config_check(env)
    assert result.returncode == 0, result.stderr
    assert "configuration ok" in result.stdout
    assert "warning" not in result.stderr, result.stderr


def test_template_example_settings_are_valid():
    with open(TEMPLATE) as f:
        text = f.read()
    env = dict(re.findall(r'^ENV (VIGIL_[A-Z_]+)="([^"]*)"', text, re.M))
    env.update(re.findall(r'^\s+(VIGIL_[A-Z_]+)="([^"]*)"', text, re.M))
    env.update(re.findall(r'^#\s+(?:ENV )?(VIGIL_[A-Z_]+)="([^"]*)"', text, re.M))
    assert {"VIGIL_LISTEN", "VIGIL_DRAIN_DELAY", "VIGIL_STOP_TIMEOUT", "VIGIL_CHECK_APP"} <= set(env), env
    result = vigil_config_check(env)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr, result.stderr
