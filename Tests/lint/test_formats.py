"""The machine formats: SARIF 2.1.0 as GitHub code scanning reads it (structure and required
fields, checked here against the specification's rules), JUnit XML read back with junitparser."""
import json
import os
import re

from junitparser import Error, Failure, JUnitXml

from vigiltest.lint import CORPUS, run_lint

LEVELS = {"none", "note", "warning", "error"}


def sarif(*paths):
    code, out, err = run_lint("--format", "sarif", *paths)
    return code, json.loads(out), err


def check_location(location):
    physical = location["physicalLocation"]
    uri = physical["artifactLocation"]["uri"]
    assert isinstance(uri, str) and uri and not uri.startswith("/") and " " not in uri, uri
    region = physical["region"]
    assert isinstance(region["startLine"], int) and region["startLine"] >= 1
    assert isinstance(region.get("startColumn", 1), int) and region.get("startColumn", 1) >= 1
    return uri, region


def test_sarif_structure():
    code, log, _ = sarif("bad/")
    assert code == 1
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    assert isinstance(log["runs"], list) and len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "vigil-lint" and re.fullmatch(r"\d+\.\d+\.\d+", driver["semanticVersion"])
    rules = driver["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids)), "rule ids must be unique"
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in LEVELS
        assert re.fullmatch(r"[A-Z][A-Za-z]+", rule["name"])
        assert all(isinstance(tag, str) for tag in rule["properties"]["tags"])
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["invocations"][0]["executionSuccessful"] is True
    results = run["results"]
    assert len(results) >= 30
    for result in results:
        assert result["ruleId"] == rules[result["ruleIndex"]]["id"]
        assert result["level"] in LEVELS and result["level"] != "none"
        assert result["level"] == rules[result["ruleIndex"]]["defaultConfiguration"]["level"]
        assert isinstance(result["message"]["text"], str) and result["message"]["text"]
        assert len(result["locations"]) == 1
        uri, _ = check_location(result["locations"][0])
        assert os.path.exists(os.path.join(CORPUS, uri)), uri
        assert all(isinstance(v, str) for v in result["partialFingerprints"].values())
    fingerprints = [json.dumps(r["partialFingerprints"]) + str(r["locations"]) for r in results]
    assert len(fingerprints) == len(set(fingerprints))


def test_sarif_names_unreadable_inputs(tmp_path):
    broken = tmp_path / "broken file.yaml"
    broken.write_text("a: [b\n")
    code, log, err = sarif(str(broken))
    assert code == 2 and "invalid YAML" in err
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notification = invocation["toolExecutionNotifications"][0]
    assert notification["level"] == "error" and "invalid YAML" in notification["message"]["text"]
    assert log["runs"][0]["results"] == []


def test_sarif_uris_are_encoded(tmp_path):
    odd = tmp_path / "dir with space"
    odd.mkdir()
    with open(os.path.join(CORPUS, "bad", "replicas-below-two.yaml")) as f:
        (odd / "a&b.yaml").write_text(f.read())
    _, log, _ = sarif(str(odd / "a&b.yaml"))
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.endswith("dir%20with%20space/a%26b.yaml")


def test_junit_reads_back():
    code, out, _ = run_lint("--format", "junit", "good/", "bad/")
    assert code == 1
    xml = JUnitXml.fromstring(out)
    _, text, _ = run_lint("--format", "json", "good/", "bad/")
    document = json.loads(text)
    suites = list(xml)
    assert {f["file"] for f in document["findings"]} <= {suite.name for suite in suites}
    assert all(os.path.exists(os.path.join(CORPUS, suite.name)) for suite in suites)
    cases = [case for suite in suites for case in suite]
    assert len(cases) == document["objects"]
    failing = [case for case in cases if any(isinstance(r, Failure) for r in case.result)]
    severe = {(f["file"], f["kind"], f["namespace"], f["name"]) for f in document["findings"]
              if f["severity"] in ("error", "warning")}
    assert len(failing) == len(severe)
    assert xml.tests == len(cases) and xml.failures == len(failing) and xml.errors == 0
    for suite in suites:
        assert suite.tests == len(list(suite))
        assert suite.failures == sum(1 for case in suite if case in failing)
    for case in failing:
        failure = next(r for r in case.result if isinstance(r, Failure))
        assert failure.type in ("error", "warning") and failure.message and failure.text


def test_junit_reports_unreadable_inputs_as_errors(tmp_path):
    binary = tmp_path / "image.yaml"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    code, out, _ = run_lint("--format", "junit", str(binary), "good/deployment.yaml")
    assert code == 2
    xml = JUnitXml.fromstring(out)
    errors = [r for suite in xml for case in suite for r in case.result if isinstance(r, Error)]
    assert len(errors) == 1 and "binary" in errors[0].message
    assert xml.errors == 1
