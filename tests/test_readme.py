"""Every command in the README runs as written (from the repository root), without an error."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [line.strip() for b in blocks for line in b.splitlines() if line.strip().startswith("eralpha ")]


def readme_python() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_readme_has_examples():
    assert len(readme_commands()) >= 10 and len(readme_python()) >= 4


@pytest.mark.slow
@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_runs(command, tmp_path):
    args = shlex.split(command)[1:]
    r = subprocess.run([sys.executable, "-m", "eralpha", *args], cwd=ROOT, capture_output=True, text=True,
                       env={**__import__("os").environ, "ERALPHA_RUNS": str(tmp_path / "runs")})
    assert r.returncode == 0, f"{command}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(readme_python())))
def test_readme_python_runs(index, monkeypatch):
    monkeypatch.chdir(ROOT)
    exec(compile(readme_python()[index], f"README python block {index}", "exec"), {})


def test_no_merge_conflict_markers_in_tracked_text():
    """A merge left `<<<<<<< HEAD` blocks in benchmarks/README.md once; no tracked text file may keep them."""
    files = subprocess.run(["git", "ls-files", "*.md", "*.py", "*.yaml", "*.toml", "*.txt"], cwd=ROOT,
                           capture_output=True, text=True).stdout.split()
    if not files:
        pytest.skip("not a git checkout")
    marker = re.compile(r"^(<{7} |>{7} |={7}$)", re.M)
    bad = [f for f in files if (ROOT / f).is_file() and marker.search((ROOT / f).read_text(errors="replace"))]
    assert not bad, f"merge-conflict markers in {bad}"


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_relative_links_in_the_docs_resolve():
    """Every relative link in README.md and docs/*.md names an existing file, and its #anchor an existing heading (the
    trial guide links into its measurement log by anchor; a renamed heading must not leave a dead link)."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    anchors = {p.resolve(): {_anchor(h) for h in re.findall(r"^#+ (.+)$", p.read_text(), flags=re.M)} for p in pages}
    dead = []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page.resolve()
            if not dest.exists():
                dead.append(f"{page.name}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors.get(dest, set()):
                dead.append(f"{page.name}: {target} (no such heading)")
    assert not dead, "dead links:\n" + "\n".join(dead)


def test_trial_yaml_shown_in_the_docs_is_a_valid_scenario():
    """The trial YAML that docs/trials.md shows a user parses as written (names, units, published rows)."""
    import yaml

    from eralpha.trials import parse_trial_scenario

    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "trials.md").read_text(), flags=re.S)]
    trials = [b for b in blocks if isinstance(b, dict) and b.get("kind") == "trial"]
    assert trials
    for b in trials:
        assert parse_trial_scenario(b, file="docs/trials.md").arms
