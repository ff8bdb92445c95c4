"""The project's own YAML lints clean: examples/, the YAML blocks of README.md and docs/*.md
(each file's blocks together, as `kubectl apply` of the page would see them), and the
Dockerfile template. docs/gitops.md lists every rule."""
import glob
import os
import re

import pytest

from vigiltest.lint import run_lint
from vigiltest.paths import ROOT

DOCS = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))) + [os.path.join(ROOT, "README.md")]
# A block that starts with this comment shows a broken manifest on purpose.
BROKEN = "# deliberately broken"


def yaml_blocks(path):
    with open(path) as f:
        return re.findall(r"^```yaml\n(.*?)^```", f.read(), re.S | re.M)


def test_examples_lint_clean():
    code, out, err = run_lint(os.path.join(ROOT, "examples"), cwd=ROOT)
    assert (code, err) == (0, ""), out
    assert out.endswith("no findings\n") and not out.startswith("vigil-lint: 0 objects"), out


def test_the_dockerfile_template_lints_clean():
    assert run_lint("--dockerfile", "Dockerfile.template", cwd=ROOT) == (0, "vigil-lint: 1 object, no findings\n", "")


@pytest.mark.parametrize("doc", DOCS, ids=os.path.basename)
def test_doc_yaml_lints_clean(doc):
    blocks = [b for b in yaml_blocks(doc) if not b.startswith(BROKEN)]
    code, out, err = run_lint("-", stdin="---\n".join(blocks))
    assert (code, err) == (0, ""), f"{os.path.relpath(doc, ROOT)}:\n{out}"


def test_broken_doc_examples_show_what_the_doc_says():
    """gitops.md's side-by-side manifest: vigil-lint finds what the page's table says it finds."""
    doc = os.path.join(ROOT, "docs", "gitops.md")
    broken = [b for b in yaml_blocks(doc) if b.startswith(BROKEN)]
    assert len(broken) == 1
    _, out, _ = run_lint("-", stdin=broken[0])
    found = {line.split(" ")[2] for line in out.splitlines()[:-1]}
    with open(doc) as f:
        text = f.read()
    table = text[text.index("## The same manifest"):]
    claimed = set(re.findall(r"`([a-z]+(?:-[a-z0-9]+)+)`", table.split("\n## ")[0])) & found
    assert found and found == claimed, (sorted(found), sorted(claimed))


def test_gitops_lists_every_rule():
    code, markdown, _ = run_lint("rules", "--format", "markdown")
    assert code == 0
    with open(os.path.join(ROOT, "docs", "gitops.md")) as f:
        doc = f.read()
    assert markdown in doc, "docs/gitops.md must carry `vigil-lint rules --format markdown` unchanged"


def test_readme_shows_how_to_run_it():
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    assert "swift build -c release --product vigil-lint" in readme and "vigil-lint" in readme
