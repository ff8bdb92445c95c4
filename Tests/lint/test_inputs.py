"""What vigil-lint reads: stdin, directories, Dockerfiles among the paths; and what it must
survive: invalid YAML, binary files, empty streams, huge and hostile streams. Each ends in exit 2
with the file (and line) named, or in a result; never in a crash."""
import os
import signal

import pytest

from vigiltest.lint import CORPUS, run_lint, stream

GOOD = os.path.join(CORPUS, "good", "deployment.yaml")


def read(path):
    with open(path) as f:
        return f.read()


def test_stdin_is_a_file_named_dash():
    code, out, _ = run_lint("-", stdin=read(os.path.join(CORPUS, "bad", "liveness-on-readyz.yaml")))
    assert code == 1 and out.startswith("-:37:23: error liveness-on-readyz Deployment web, container app: ")


@pytest.mark.parametrize("text", ["", "\n", "---\n", "# only a comment\n", "---\n---\n...\n"])
def test_an_empty_stream_is_a_result(text):
    assert run_lint("-", stdin=text) == (0, "vigil-lint: 0 objects, no findings\n", "")


@pytest.mark.parametrize("text, line", [
    ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [x\n", 5),
    ("kind: Pod\nmetadata:\n  name: x\n   bad: indent\n", 4),
    ("a: 1\na: 2\n", 1),
    ("kind: Pod\n\tmetadata: {}\n", 2),
    ("key: \"unterminated\n", 2),
    ("*undefined\n", 1),
])
def test_invalid_yaml_names_the_file_and_line(tmp_path, text, line):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    code, out, err = run_lint(str(path))
    assert code == 2, (out, err)
    assert err.startswith(f"vigil-lint: {path}:{line}:"), err
    assert "invalid YAML" in err
    assert out.endswith("1 input could not be read\n")


def test_other_files_are_still_linted_when_one_is_broken(tmp_path):
    (tmp_path / "broken.yaml").write_text("a: [b\n")
    code, out, err = run_lint(str(tmp_path), os.path.join(CORPUS, "bad", "replicas-below-two.yaml"))
    assert code == 2 and "broken.yaml" in err
    assert "replicas-below-two" in out


@pytest.mark.parametrize("content, message", [
    (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 64, "a binary file (NUL bytes), not YAML"),
    (b"kind: Pod\nmetadata: {name: \xff\xfe}\n", "not UTF-8 text"),
    (bytes(range(1, 256)) * 100, "not UTF-8 text"),
])
def test_binary_files(tmp_path, content, message):
    path = tmp_path / "blob.yaml"
    path.write_bytes(content)
    code, _, err = run_lint(str(path))
    assert code == 2 and err == f"vigil-lint: {path}: {message}\n"
    assert run_lint("-", stdin=content)[0] == 2


def test_missing_and_unreadable_paths(tmp_path):
    code, _, err = run_lint(str(tmp_path / "nope.yaml"))
    assert code == 2 and "nope.yaml: no such file or directory" in err
    assert run_lint()[0] == 2
    assert run_lint("--format", "yaml", GOOD)[0] == 2


def test_directories_recurse_skip_hidden_and_find_dockerfiles(tmp_path):
    (tmp_path / "k8s" / "nested").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    bad = read(os.path.join(CORPUS, "bad", "replicas-below-two.yaml"))
    (tmp_path / "k8s" / "nested" / "app.yml").write_text(bad)
    (tmp_path / ".git" / "hidden.yaml").write_text(bad)
    (tmp_path / "k8s" / "notes.txt").write_text(bad)
    (tmp_path / "Containerfile").write_text("FROM x\nCOPY vigil /vigil\nENTRYPOINT /vigil -- app\n")
    code, out, _ = run_lint(str(tmp_path))
    assert code == 1
    files = {line.split(":")[0] for line in out.splitlines()[:-1]}
    assert files == {f"{tmp_path}/k8s/nested/app.yml", f"{tmp_path}/Containerfile"}, out
    assert "shell-wraps-vigil" in out


def test_the_large_stream(tmp_path):
    """10 MB, 5,000 objects: a result, quickly (the benchmark row measures the time)."""
    path = tmp_path / "stream.yaml"
    path.write_text(stream(objects=5000, size=10 * 1024 * 1024))
    assert 9.5e6 < path.stat().st_size < 11.5e6
    code, out, err = run_lint("--format", "json", str(path), timeout=120)
    assert (code, err) == (0, "")
    assert '"objects":3750' in out  # ConfigMaps are read and skipped: not objects vigil-lint knows


def test_hostile_streams_end_in_exit_2_not_a_crash():
    nesting = "[" * 200_000
    code, _, err = run_lint("-", stdin=nesting)
    assert code == 2 and "nested deeper than 1000 levels" in err
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 10))
    code, _, err = run_lint("-", stdin=bomb)
    assert code == 2 and "expands to more than" in err
    block = "".join(" " * depth + f"k{depth}:\n" for depth in range(3000)) + " " * 3000 + "v\n"
    code, _, err = run_lint("-", stdin=block)
    assert code in (0, 2) and code != -signal.SIGSEGV, err
    long_line = "kind: ConfigMap\ndata:\n  x: " + "y" * 5_000_000 + "\n"
    assert run_lint("-", stdin=long_line)[0] == 0
