"""The corpus (Tests/lint-corpus): good inputs pass, each bad one gives exactly its golden text
output and the exit code that follows from it, and every rule has a bad input."""
import json
import os
import re

import pytest

from vigiltest.lint import CORPUS, run_lint

BAD = os.path.join(CORPUS, "bad")
CASES = sorted({name.rsplit(".", 1)[0] if not os.path.isdir(os.path.join(BAD, name)) else name
                for name in os.listdir(BAD) if not name.endswith((".expected", ".md"))})
LINE = re.compile(r"^(\S+):(\d+):(\d+): (error|warning|info) (\S+) (.+); fix: (.+)$")


def input_path(case):
    for suffix in ("", ".yaml", ".Dockerfile"):
        if os.path.exists(os.path.join(BAD, case + suffix)):
            return "bad/" + case + suffix
    raise AssertionError(f"no input for {case}")


def test_good_inputs_have_no_finding():
    code, out, err = run_lint("good/")
    assert (code, err) == (0, ""), out + err
    assert re.fullmatch(r"vigil-lint: \d+ objects, no findings\n", out), out


def test_good_inputs_one_by_one():
    for root, _, files in os.walk(os.path.join(CORPUS, "good")):
        for name in files:
            if name.endswith((".yaml", ".json")) and "image" not in root:
                path = os.path.relpath(os.path.join(root, name), CORPUS)
                code, out, _ = run_lint(path)
                assert code == 0 and out.endswith("no findings\n"), out


@pytest.mark.parametrize("case", CASES)
def test_golden(case):
    """`vigil-lint bad/CASE` prints exactly bad/CASE.expected."""
    code, out, err = run_lint(input_path(case))
    expected_path = os.path.join(BAD, case + ".expected")
    if os.environ.get("VIGIL_LINT_UPDATE_GOLDEN"):
        with open(expected_path, "w") as f:
            f.write(out)
    with open(expected_path) as f:
        expected = f.read()
    assert out == expected
    assert err == ""
    lines = expected.splitlines()
    assert lines and all(LINE.match(line) for line in lines[:-1]), lines
    severe = any(LINE.match(line).group(4) in ("error", "warning") for line in lines[:-1])
    assert code == (1 if severe else 0)


def test_every_rule_has_a_bad_input():
    code, out, _ = run_lint("rules", "--format", "json")
    assert code == 0
    rules = {rule["id"] for rule in json.loads(out)["rules"]}
    found = set()
    for case in CASES:
        with open(os.path.join(BAD, case + ".expected")) as f:
            found |= {m.group(5) for m in map(LINE.match, f) if m}
    assert rules <= found, sorted(rules - found)
    assert found <= rules, sorted(found - rules)


def test_fail_on_and_ignore():
    assert run_lint("bad/vigil-env-unchecked.yaml")[0] == 0  # info only
    assert run_lint("--fail-on", "info", "bad/vigil-env-unchecked.yaml")[0] == 1
    assert run_lint("--fail-on", "error", "bad/replicas-below-two.yaml")[0] == 0
    code, out, _ = run_lint("--ignore", "replicas-below-two", "bad/replicas-below-two.yaml")
    assert (code, out) == (0, "vigil-lint: 2 objects, no findings\n")
    code, _, err = run_lint("--ignore", "replicas-below-2", "bad/replicas-below-two.yaml")
    assert code == 2 and "did you mean replicas-below-two?" in err


def test_json_output_of_the_whole_corpus():
    code, out, _ = run_lint("--format", "json", "bad/")
    assert code == 1
    document = json.loads(out)
    assert document["version"] == 1 and document["objects"] > 40
    keys = {"rule", "severity", "file", "line", "column", "kind", "namespace", "name", "container", "field",
            "message", "fix"}
    for finding in document["findings"]:
        assert set(finding) == keys
        assert finding["severity"] in ("error", "warning", "info")
        assert finding["line"] >= 1 and finding["column"] >= 1
        assert os.path.exists(os.path.join(CORPUS, finding["file"]))
