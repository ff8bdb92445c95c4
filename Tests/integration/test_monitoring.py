"""Issue 14: examples/monitoring works. promtool checks and unit-tests the alert rules, the
PrometheusRule in podmonitor.yaml holds the same rules, and a real Prometheus (Debian's package)
scrapes a running vigil in both formats: OpenMetrics (what it asks for) and the 0.0.4 text format
(through a proxy that drops its Accept header), with the series queried back through its HTTP API.
"""
import http.server
import json
import os
import shutil
import subprocess
import threading
import urllib.parse
import urllib.request

import pytest
import yaml

from vigiltest.paths import ROOT
from vigiltest.ports import free_port, wait_port
from vigiltest.vigil import Vigil
from vigiltest.waiting import wait_until

EXAMPLES = os.path.join(ROOT, "examples", "monitoring")
pytestmark = pytest.mark.skipif(not shutil.which("prometheus") or not shutil.which("promtool"),
                                reason="needs Debian's prometheus package (scripts/test.sh installs it)")


def test_promtool_checks_and_unit_tests_the_rules():
    for args in (["check", "rules", "vigil-rules.yml"], ["test", "rules", "vigil-rules.test.yml"]):
        result = subprocess.run(["promtool", *args], cwd=EXAMPLES, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_scrape_configuration_keeps_annotated_pods_on_their_port():
    """Debian's Prometheus is built without Kubernetes discovery, so promtool cannot load it: the
    relabelling is checked here, the way Prometheus applies it (an anchored RE2 match)."""
    import re
    with open(os.path.join(EXAMPLES, "prometheus.yml")) as f:
        job = yaml.safe_load(f)["scrape_configs"][0]
    keep, address = job["relabel_configs"][0], job["relabel_configs"][1]
    assert keep["source_labels"] == ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]
    assert keep["action"] == "keep" and keep["regex"] == "true"
    replacement = address["replacement"].replace("$1", r"\1").replace("$2", r"\2")
    for source, wanted in [("10.1.2.3:8080;7979", "10.1.2.3:7979"), ("10.1.2.3;7979", "10.1.2.3:7979")]:
        assert re.sub(f"^(?:{address['regex']})$", replacement, source) == wanted


def test_the_podmonitors_rules_are_the_rule_file():
    with open(os.path.join(EXAMPLES, "podmonitor.yaml")) as f:
        monitor, rule = list(yaml.safe_load_all(f))
    assert monitor["kind"] == "PodMonitor" and monitor["spec"]["podMetricsEndpoints"][0]["port"] == "probes"
    with open(os.path.join(EXAMPLES, "vigil-rules.yml")) as f:
        assert rule["spec"]["groups"] == yaml.safe_load(f)["groups"]


class RecordingProxy:
    """Forwards GET /metrics to vigil, with or without the scraper's Accept header, and records
    the Content-Type vigil answered with."""

    def __init__(self, upstream, keep_accept):
        self.types = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                headers = {"Accept": self.headers["Accept"]} if keep_accept and self.headers["Accept"] else {}
                with urllib.request.urlopen(urllib.request.Request(upstream + self.path, headers=headers)) as r:
                    body, kind = r.read(), r.headers["Content-Type"]
                proxy.types.append(kind)
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def ready(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def query(port, promql):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)["data"]["result"]


def test_a_real_prometheus_scrapes_vigil_in_both_formats(tmp_path):
    v = Vigil(["sleep", "600"], env={"VIGIL_VERSION": "green-7", "VIGIL_CHECK_DB": "tcp://127.0.0.1:1"})
    direct = text = prometheus = None
    try:
        v.wait_listening()
        direct = RecordingProxy(v.url(""), keep_accept=True)
        text = RecordingProxy(v.url(""), keep_accept=False)
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                  "rule_files": [os.path.join(EXAMPLES, "vigil-rules.yml")],
                  "scrape_configs": [
                      {"job_name": "openmetrics", "static_configs": [{"targets": [f"127.0.0.1:{direct.port}"]}]},
                      {"job_name": "text", "static_configs": [{"targets": [f"127.0.0.1:{text.port}"]}]}]}
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        log = open(tmp_path / "prometheus.log", "wb")
        prometheus = subprocess.Popen(
            ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
        wait_port(port, prometheus, timeout=30, what="prometheus")
        wait_until(lambda: ready(port), timeout=30, what="prometheus ready")
        for job in ("openmetrics", "text"):
            info = wait_until(lambda: query(port, f'vigil_build_info{{job="{job}"}}'), timeout=30, what=job)
            assert info[0]["metric"]["app_version"] == "green-7" and info[0]["value"][1] == "1"
            assert query(port, f'up{{job="{job}"}}')[0]["value"][1] == "1"
            check = query(port, f'vigil_check_up{{job="{job}",check="db"}}')
            assert check and check[0]["value"][1] == "0"
            assert query(port, f'vigil_check_runs_total{{job="{job}",check="db"}}'), "counters keep _total"
            assert query(port, f'process_start_time_seconds{{job="{job}"}}')
        assert direct.types and all(t.startswith("application/openmetrics-text; version=1.0.0") for t in direct.types)
        assert text.types and all(t.startswith("text/plain; version=0.0.4") for t in text.types)
    finally:
        for thing in (direct, text):
            if thing:
                thing.close()
        if prometheus:
            prometheus.terminate()
            prometheus.wait(timeout=10)
        v.stop()
