"""`vigil manifest` (the agent) against `vigil-lint` and the Kubernetes schema: what it prints
for an environment validates with kubernetes-validate --strict and lints with no finding."""
import os
import subprocess

import pytest

from vigiltest.env import base_env
from vigiltest.lint import run_lint
from vigiltest.paths import VIGIL
from vigiltest.ports import free_port

ENVIRONMENTS = {
    "defaults": {},
    "checks": {"VIGIL_CHECK_APP": "http://127.0.0.1:8080/healthz", "VIGIL_CHECK_APP_PROBES": "startup,live,ready",
               "VIGIL_CHECK_DB": "tcp://127.0.0.1:5432", "VIGIL_MIN_READY": "10s"},
    "long drain": {"VIGIL_DRAIN_DELAY": "45s", "VIGIL_STOP_TIMEOUT": "1m30s"},
    "drain ports": {"VIGIL_DRAIN_PORTS": "8080,8443", "VIGIL_DRAIN_TIMEOUT": "50s"},
    "other port": {"VIGIL_LISTEN": ":9090", "VIGIL_CHECK_Q": "exec:sh -c 'test -s \"/run/q w\"' # x"},
}


def manifest(env, *extra):
    if not os.access(VIGIL, os.X_OK):
        pytest.fail(f"no vigil binary at {VIGIL} (set VIGIL_BIN or run scripts/build-static.sh)")
    result = subprocess.run([VIGIL, "manifest", "--name", "shop-web", "--image", "registry.example.com/web:1.4", *extra],
                            env=base_env(**env), capture_output=True, text=True, timeout=10)
    return result.returncode, result.stdout, result.stderr


def kubernetes_validate(path):
    return subprocess.run(["kubernetes-validate", "-k", "1.33.0", "--strict", str(path)], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_manifest_fits_the_schema_and_lints_clean(tmp_path, name):
    code, out, err = manifest(ENVIRONMENTS[name], "--port", "8080", "--replicas", "3")
    assert (code, err) == (0, ""), err
    path = tmp_path / "manifest.yaml"
    path.write_text(out)
    valid = kubernetes_validate(path)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert valid.stdout.count("passed") == 3, valid.stdout
    assert run_lint(str(path)) == (0, "vigil-lint: 3 objects, no findings\n", "")
    assert run_lint("-", stdin=out)[0] == 0
    for key, value in ENVIRONMENTS[name].items():
        assert f"- name: {key}\n" in out


def test_through_the_entrypoint_as_docker_run_does(tmp_path):
    """`docker run --rm IMAGE vigil manifest …` with ENTRYPOINT [vigil, --]: vigil supervises
    `vigil manifest`, whose output is the same."""
    env = {"VIGIL_LISTEN": f":{free_port()}", "VIGIL_DRAIN_DELAY": "3s", "VIGIL_LOG_LEVEL": "error"}
    direct = manifest(env)
    supervised = subprocess.run([VIGIL, "--", VIGIL, "manifest", "--name", "shop-web", "--image",
                                 "registry.example.com/web:1.4"], env=base_env(**env), capture_output=True, text=True,
                                timeout=30)
    assert supervised.returncode == 0, supervised.stderr
    assert supervised.stdout == direct[1]


@pytest.mark.parametrize("env, args, message", [
    ({"VIGIL_LISTEN": "off"}, [], "VIGIL_LISTEN is off"),
    ({"VIGIL_LISTEN": "127.0.0.1:7979"}, [], "is loopback"),
    ({}, ["--port", "7979"], "vigil's own port"),
    ({"VIGIL_DRIAN_DELAY": "5s"}, [], "did you mean VIGIL_DRAIN_DELAY?"),
])
def test_refusals(env, args, message):
    code, out, err = manifest(env, *args)
    assert code == 2 and out == "" and message in err


def test_usage_errors():
    for args in (["--name", "Web!"], ["--image", "x"], ["--name", "web", "--image", "x", "--replicas", "many"]):
        result = subprocess.run([VIGIL, "manifest", *args], env=base_env(), capture_output=True, text=True, timeout=10)
        assert result.returncode == 2 and "vigil manifest" in result.stderr, result.stderr


def test_secrets_stay_out_of_the_manifest():
    code, out, _ = manifest({"VIGIL_ADMIN": "token", "VIGIL_ADMIN_TOKEN": "s3cret-value"})
    assert code == 0 and "s3cret-value" not in out and "secretKeyRef" in out
    code, lint_out, _ = run_lint("-", stdin=out)
    assert code == 0 and "vigil-env-unchecked" in lint_out
