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
