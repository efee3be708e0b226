"""The command line reads well: progress on stderr, plain untruncated tables when piped, a validate
summary, --version, one name per option, and a manifest that times the whole run."""

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCEN = ROOT / "src" / "eralpha" / "scenarios"
BOX = re.compile("[│┃┏┡└─━]")


def eralpha(*args, quiet=False, timeout=900):
    """Run the CLI as a user would with stdout and stderr piped (so: no TTY, plain-text progress)."""
    env = {k: v for k, v in os.environ.items() if k != "ERALPHA_QUIET"}
    if quiet:
        env["ERALPHA_QUIET"] = "1"
    return subprocess.run([sys.executable, "-m", "eralpha", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout)


def data_lines(text: str) -> list[str]:
    """The bare table of piped output: without the '# ' commentary and blank lines."""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


# -- the progress helper ----------------------------------------------------------------------------


def test_progress_prints_one_line_per_stage_on_stderr_when_not_a_terminal(capsys, monkeypatch):
    from eralpha.report import Progress

    monkeypatch.delenv("ERALPHA_QUIET", raising=False)
    with Progress("study", total=2) as p:
        for arm in ("vehicle", "fulvestrant"):
            p.stage(arm)
            with Progress("replicates", total=3) as inner:  # nested: indented under the outer stage
                inner.stage("batch")
                inner.advance(3)
            p.advance()
    out, err = capsys.readouterr()
    assert out == ""  # stdout stays for results
    lines = err.splitlines()
    assert re.search(r"study \[1/2\] vehicle …$", lines[0]) and re.search(r"study \[2/2\] fulvestrant …$", lines[2])
    assert re.search(r"\]   replicates \[1/3\] batch …$", lines[1])  # indented two spaces
    assert lines[-1].endswith("study: done in " + lines[-1].split("done in ")[1]) and len(lines) == 5
    assert all(re.match(r"\[\s*\d+\.\d s\] ", line) for line in lines)  # each line says when


def test_progress_heartbeat_and_quiet(capsys, monkeypatch):
    from eralpha.report import Progress, _progress

    monkeypatch.delenv("ERALPHA_QUIET", raising=False)
    monkeypatch.setattr(_progress, "HEARTBEAT_S", 0.2)
    with Progress("long", total=3) as p:
        p.stage("one stage")
        with Progress("inner") as q:
            q.stage("a batched simulation")
            time.sleep(0.9)  # no advance: the timer speaks for the innermost running stage
        p.advance()
    err = capsys.readouterr().err
    beats = [line for line in err.splitlines() if "still running" in line]
    assert 2 <= len(beats) <= 5 and all("  inner a batched simulation … still running (" in b for b in beats)
    assert err.splitlines()[-1].endswith("long: done in " + err.splitlines()[-1].split("done in ")[1])
    time.sleep(0.5)
    assert capsys.readouterr().err == ""  # the timer stopped with the task
    monkeypatch.setenv("ERALPHA_QUIET", "1")
    with Progress("long", total=3) as p:
        p.stage("silent")
        p.advance()
    assert capsys.readouterr() == ("", "")


def test_progress_bar_mode_keeps_stdout_clean(capsys):
    from eralpha.report import Progress, progress

    with Progress("bar", total=2, mode="bar") as p:
        p.stage("a")
        with Progress("nested", total=1) as q:  # shares the parent's bar display
            q.advance()
        p.advance(2)
    assert list(progress([1, 2, 3], description="items")) == [1, 2, 3]
    assert capsys.readouterr().out == ""


# -- piped output -----------------------------------------------------------------------------------


def test_piped_tables_are_tsv_untruncated_and_unwrapped():
    r = eralpha("kb", "list", "--kind", "compounds")
    assert r.returncode == 0, r.stderr
    assert not BOX.search(r.stdout) and "…" not in r.stdout
    rows = data_lines(r.stdout)
    assert rows[0].split("\t") == ["kind", "name", "detail", "values"]
    assert all(len(line.split("\t")) == 4 for line in rows)  # one line per row: nothing wrapped at 80 columns
    assert any(len(line) > 80 for line in rows)
    listed = json.loads(eralpha("kb", "list", "--kind", "compounds", "--format", "json").stdout)
    assert [line.split("\t")[1] for line in rows[1:]] == [row["name"] for row in listed]  # whole names


def test_format_csv_and_an_explicit_table_when_piped():
    r = eralpha("pk", "scorecard", "--format", "csv")
    assert r.returncode == 0, r.stderr
    table = list(csv.DictReader(io.StringIO("\n".join(data_lines(r.stdout)))))
    assert table and set(table[0]) == {"id", "target", "simulated", "tolerance", "kind", "passed"}
    assert all(row["passed"] in ("True", "False") for row in table)
    boxed = eralpha("kb", "list", "--kind", "targets", "-f", "table")  # asked for: a rich table even in a pipe
    assert boxed.returncode == 0 and BOX.search(boxed.stdout)


def test_machine_cells_keep_rows_on_one_line(capsys):
    from eralpha.cli import _app

    _app.reset_output()
    _app._chosen["style"] = "tsv"
    try:
        _app.print_frame(pd.DataFrame({"name": ["a\tb", "c\nd"], "x": [0.1 + 0.2, float("nan")]}), title="t")
        _app.print_frame(pd.DataFrame({"y": [1]}))
    finally:
        _app.reset_output()
    assert capsys.readouterr().out == "# t\nname\tx\na b\t0.3\nc d\tNaN\n\ny\n1\n"


def test_terminal_tables_fold_long_names_instead_of_cutting_them(capsys):
    from eralpha.cli import _app

    name = "growth_rate_per_day_in_the_long_term_oestrogen_deprived_arm"
    _app._chosen["style"] = "table"
    width = _app.console.width
    _app.console.width = 30
    try:
        with _app.console.capture() as captured:
            _app.print_frame(pd.DataFrame({"metric": [name]}))
    finally:
        _app.console.width = width
        _app.reset_output()
    text = captured.get()
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 30
    assert name in re.sub(r"[^A-Za-z_]", "", text.replace("metric", ""))


# -- validate ---------------------------------------------------------------------------------------


def _fake_card(monkeypatch):
    """A scorecard with one failing prediction, so the output layout is tested without simulations."""
    import eralpha.validate as validate
    from eralpha.validate import Scorecard
    from eralpha.validate._scorecard import normalise_rows

    rows = [
        {"id": f"row.{i}", "quantity": "a very long quantity name that a box table would have cut short " * 2,
         "source": "seed 001, Table 1", "target": "1", "simulated": 1.0, "tolerance": "±10%",
         "kind": "calibration" if i < 3 else "prediction", "passed": i != 4, "scenario": "fake"}
        for i in range(6)
    ]
    card = Scorecard(normalise_rows(pd.DataFrame(rows)), [], {"fake": 0.1})
    monkeypatch.setattr(validate, "collect_scorecard", lambda **kw: card)
    monkeypatch.setattr(validate, "job_names", lambda: ["fake"])


def _invoke(*args):
    from typer.testing import CliRunner

    import eralpha.cli as cli

    cli._register_commands()
    return CliRunner().invoke(cli.app, list(args))


def test_validate_prints_the_summary_first_then_only_the_failing_rows(monkeypatch):
    _fake_card(monkeypatch)
    r = _invoke("validate", "--no-report")
    assert r.exit_code == 0, r.output
    head = r.output.splitlines()[:3]
    assert head == ["# eralpha scorecard: 6 rows — 5 passed, 1 failed",
                    "#   calibration: 3 rows, 3 passed, 0 failed",
                    "#   prediction: 3 rows, 2 passed, 1 failed"]
    rows = data_lines(r.output)
    assert rows[0].split("\t") == ["id", "quantity", "target", "simulated", "tolerance", "kind", "passed", "source"]
    assert [line.split("\t")[0] for line in rows[1:]] == ["row.4"]
    assert "a very long quantity name that a box table would have cut short " * 2 in r.output

    everything = _invoke("validate", "--no-report", "--all")
    assert [line.split("\t")[0] for line in data_lines(everything.output)[1:]] == [f"row.{i}" for i in range(6)]
    as_json = _invoke("validate", "--no-report", "--format", "json")
    assert len(json.loads(as_json.output)) == 6  # JSON keeps every row, as scripts expect
    assert _invoke("validate", "--no-report", "--strict").exit_code == 1


def test_validate_only_that_matches_nothing_exits_2_naming_the_filters():
    r = eralpha("validate", "--only", "nomatch", "--no-report", quiet=True)
    assert r.returncode == 2 and r.stdout == ""
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "'nomatch'" in r.stderr and "invitro_hormone_dependence" in r.stderr and "xenograft-replicate-studies" in r.stderr


def test_validate_piped_shows_summary_first_and_progress_on_stderr(tmp_path):
    r = eralpha("validate", "--only", "hormone", "--runs-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[:3]
    n = int(re.match(r"# eralpha scorecard: (\d+) rows — (\d+) passed, (\d+) failed", first[0]).group(1))
    calibration = int(re.match(r"#   calibration: (\d+) rows", first[1]).group(1))
    prediction = int(re.match(r"#   prediction: (\d+) rows", first[2]).group(1))
    assert n == calibration + prediction > 0
    assert re.search(r"validate \[1/1\] invitro_hormone_dependence …", r.stderr)
    assert re.search(r"report: .*report\.html", r.stdout)
    manifest = json.loads(next(tmp_path.glob("*/manifest.json")).read_text())
    assert manifest["scorecard"]["n_passed"] + manifest["scorecard"]["n_failed"] == n


# -- run, pk simulate, translate ----------------------------------------------------------------------


def test_run_says_how_many_rows_more_and_where_and_times_the_whole_run(tmp_path):
    r = eralpha("run", str(SCEN / "invitro_hormone_dependence.yaml"), "--runs-dir", str(tmp_path), "--rows", "2")
    assert r.returncode == 0, r.stderr
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    full = pd.read_csv(folder / "tables" / "metrics.csv")
    assert len(full) > 2
    assert f"# metrics: first 2 of {len(full)} rows" in r.stdout
    assert f"{len(full) - 2} more rows of metrics: {folder / 'tables' / 'metrics.csv'}" in r.stdout
    assert len(data_lines(r.stdout)) == 1 + 2
    assert re.search(r"run invitro_hormone_dependence\.yaml \[1/2\] simulating", r.stderr)
    assert re.search(r"run invitro_hormone_dependence\.yaml \[2/2\] writing the run folder", r.stderr)

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["duration_s"] > manifest["writing_s"] > 0  # the simulation is inside duration_s
    assert isinstance(manifest["engine_threads"], int) and manifest["engine_threads"] >= 1
    assert {"numpy", "scipy", "numba"} <= set(manifest["versions"]) and manifest["python"] and manifest["eralpha_version"]

    shown = eralpha("runs", "show", folder.name, "--runs-dir", str(tmp_path))
    assert shown.returncode == 0 and re.search(r"^engine_threads\t\d+$", shown.stdout, flags=re.M)


def test_run_writer_started_is_checked(tmp_path):
    from eralpha.errors import InputError
    from eralpha.store import RunWriter

    with pytest.raises(InputError, match="started"):
        RunWriter(root=tmp_path, started="yesterday")


def test_pk_simulate_and_translate_report_progress_and_print_plain_results():
    pk = eralpha("pk", "simulate", str(SCEN / "pk_fulvestrant_human.yaml"))
    assert pk.returncode == 0, pk.stderr
    assert re.search(r"pk simulate pk_fulvestrant_human\.yaml .*subject\(s\) …", pk.stderr)
    assert data_lines(pk.stdout)[0].split("\t") == ["metric", "median", "p5", "p95"]
    tr = eralpha("translate", "lasofoxifene", "10 mg/kg sc q24h 5/2", "--days", "14")
    assert tr.returncode == 0, tr.stderr
    assert re.search(r"translate lasofoxifene matching exposure over 14 days", tr.stderr)
    assert tr.stdout.startswith("lasofoxifene: mouse 10 mg/kg") and "→ human" in tr.stdout


# -- version and option names -------------------------------------------------------------------------


def test_version_names_the_package_and_the_commit():
    import eralpha  # the package (this test runs the CLI itself)

    for args in (["--version"], ["version"]):
        r = subprocess.run([sys.executable, "-m", "eralpha", *args], capture_output=True, text=True, cwd=ROOT)
        assert r.returncode == 0, r.stderr
        first = r.stdout.splitlines()[0]
        assert first.startswith(f"eralpha {eralpha.__version__}")
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        if head.returncode == 0:
            assert f"(git {head.stdout.strip()[:12]})" in first
    assert "numba" in r.stdout and "numpy" in r.stdout and "scipy" in r.stdout  # `eralpha version` lists libraries


def test_runs_dir_is_the_one_name_and_root_a_hidden_alias(tmp_path):
    for name in ("--runs-dir", "--root"):
        r = eralpha("runs", "list", name, str(tmp_path), quiet=True)
        assert r.returncode == 0 and str(tmp_path) in r.stdout
    helped = eralpha("runs", "list", "--help", quiet=True)
    assert "--runs-dir" in helped.stdout and "--root" not in helped.stdout
    both = eralpha("runs", "list", "--runs-dir", str(tmp_path), "--root", str(tmp_path / "other"), quiet=True)
    assert both.returncode == 2 and "--runs-dir" in both.stderr and "Traceback" not in both.stderr


def test_progress_bar_in_a_worker_thread_joins_the_bar_on_screen(capsys):
    import threading

    from eralpha.report import Progress, _progress

    with Progress("main", total=1, mode="bar") as p:
        seen = {}

        def work():
            with Progress("worker", total=1, mode="bar") as q:  # no context parent here: another thread
                seen["same"] = q._bar is p._bar
                q.advance()

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        p.advance()
    assert seen["same"] and _progress._shown["bar"] is None
    assert capsys.readouterr().out == ""
