"""Run records: all-or-nothing folders, manifests, the DuckDB catalogue and its recovery, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from eralpha.errors import EralphaError, InputError, UnknownNameError
from eralpha.report import new_figure
from eralpha.store import CATALOGUE_NAME, COLUMNS, Catalogue, RunWriter, default_runs_root, scenario_hash
from eralpha.store import _catalogue

SPEC = {"experiment": "binding", "compound": "imlunestrant", "doses_nM": [0.1, 1.0, 10.0], "seed": 123}
SCORECARD = [
    {"id": "ki-wt", "quantity": "Ki ERα WT (nM)", "source": "seed 001", "target": 0.64, "simulated": 0.66,
     "tolerance": 0.2, "kind": "calibration", "passed": True},
    {"id": "ki-y537s", "quantity": "Ki ERα Y537S (nM)", "source": "seed 001", "target": 2.8, "simulated": 4.1,
     "tolerance": 0.2, "kind": "prediction", "passed": False},
]  # fmt: skip


def _write_run(root, name="binding-imlunestrant", seed=123, spec=SPEC, scorecard=True):
    with RunWriter(root=root, name=name, kind="binding", scenario=spec, seed=seed) as run:
        run.add_table("curves", pd.DataFrame({"dose_nM": [0.1, 1.0, 10.0], "bound": [0.13, 0.61, 0.94]}))
        fig, ax = new_figure()
        ax.plot([0.1, 1.0, 10.0], [0.13, 0.61, 0.94])
        run.add_figure("curves", fig, caption="Fraction bound")
        run.add_summary({"ic50_nM": 0.63})
        run.add_summary({"hill": 1.0})
        if scorecard:
            run.add_scorecard(SCORECARD)
        run.add_note("A competitive binding assay.")
    return run


def _visible(root):
    return sorted(p.name for p in root.iterdir() if not p.name.startswith("."))


def test_scenario_hash_ignores_key_order():
    reordered = {"seed": 123, "doses_nM": [0.1, 1.0, 10.0], "compound": "imlunestrant", "experiment": "binding"}
    assert scenario_hash(SPEC) == scenario_hash(reordered)
    assert scenario_hash(SPEC) != scenario_hash({**SPEC, "compound": "elacestrant"})
    assert len(scenario_hash(SPEC)) == 64


def test_run_folder_holds_everything_and_the_manifest_records_provenance(tmp_path):
    run = _write_run(tmp_path)
    folder = run.path
    assert folder.is_dir() and folder.parent == tmp_path.absolute()
    assert run.run_id.endswith("-binding-imlunestrant-" + scenario_hash(SPEC)[:6])
    for relative in ("manifest.json", "summary.json", "report.html", "scenario.json", "tables/curves.parquet",
                     "tables/curves.csv", "tables/scorecard.parquet", "tables/scorecard.csv", "figures/curves.png"):  # fmt: skip
        assert (folder / relative).is_file(), relative
    manifest = json.loads((folder / "manifest.json").read_text())
    for field in ("eralpha_version", "git_commit", "scenario_sha256", "scenario_path", "seed", "started",
                  "finished", "duration_s", "platform", "python", "versions", "files"):  # fmt: skip
        assert field in manifest, field
    assert manifest["seed"] == 123
    assert manifest["scenario_sha256"] == scenario_hash(SPEC)
    assert manifest["started"].endswith("Z") and manifest["finished"] >= manifest["started"]
    assert set(manifest["versions"]) == {"numpy", "scipy", "pandas", "numba"}
    assert manifest["scorecard"]["n_passed"] == 1 and manifest["scorecard"]["n_failed"] == 1
    assert json.loads((folder / "summary.json").read_text()) == {"hill": 1.0, "ic50_nM": 0.63}
    assert pd.read_parquet(folder / "tables/curves.parquet")["bound"].tolist() == [0.13, 0.61, 0.94]
    assert (folder / "figures/curves.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("interruption", [RuntimeError("solver blew up"), KeyboardInterrupt()])
def test_an_interrupted_run_leaves_no_folder_and_no_catalogue_row(tmp_path, interruption):
    _write_run(tmp_path)  # one finished run, so the catalogue exists
    before = Catalogue(tmp_path).list()
    with pytest.raises(type(interruption)):
        with RunWriter(root=tmp_path, name="doomed", scenario={"x": 1}, seed=1) as run:
            run.add_table("partial", pd.DataFrame({"a": [1]}))
            raise interruption
    assert not run.path.exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []
    after = Catalogue(tmp_path).list()
    pd.testing.assert_frame_equal(before, after)


def test_abandoned_temporary_folders_are_ignored_and_then_cleaned(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    leftover = tmp_path / ".tmp-20260101T000000Z-killed-abcdef"
    (leftover / "tables").mkdir(parents=True)
    import socket

    (leftover / ".owner.json").write_text(json.dumps({"pid": dead_pid, "host": socket.gethostname(), "created": 0}))
    assert Catalogue(tmp_path).list().empty
    _write_run(tmp_path)
    assert not leftover.exists()


def test_catalogue_lists_and_shows_runs(tmp_path):
    first = _write_run(tmp_path, name="binding-imlunestrant")
    second = _write_run(tmp_path, name="degradation-elacestrant", seed=7, scorecard=False)
    listing = Catalogue(tmp_path).list()
    assert list(listing.columns) == list(COLUMNS)
    assert listing["run_id"].tolist() == sorted([first.run_id, second.run_id])
    row = listing.set_index("run_id").loc[second.run_id]
    assert row["seed"] == 7 and row["n_figures"] == 1 and pd.isna(row["n_passed"])

    shown = Catalogue(tmp_path).show(first.run_id)
    assert shown["manifest"]["seed"] == 123
    assert shown["summary"]["ic50_nM"] == 0.63
    assert "report.html" in shown["files"] and "tables/curves.csv" in shown["files"]


def test_show_accepts_a_unique_prefix_and_suggests_on_typos(tmp_path):
    run = _write_run(tmp_path)
    catalogue = Catalogue(tmp_path)
    assert catalogue.show(run.run_id[:20])["run_id"] == run.run_id
    typo = run.run_id[:-1] + "z"
    with pytest.raises(UnknownNameError) as info:
        catalogue.show(typo)
    assert run.run_id in info.value.suggestions
    _write_run(tmp_path, name="binding-imlunestrant", seed=5)
    with pytest.raises(InputError, match="matches 2 runs"):
        catalogue.show(run.run_id[:8])


def test_two_runs_in_the_same_second_get_distinct_ids(tmp_path):
    ids = {_write_run(tmp_path, scorecard=False).run_id for _ in range(3)}
    assert len(ids) == 3
    assert len(Catalogue(tmp_path).list()) == 3


def test_catalogue_is_rebuilt_from_manifests(tmp_path):
    run = _write_run(tmp_path)
    (tmp_path / CATALOGUE_NAME).unlink()
    listing = Catalogue(tmp_path).list()
    assert listing["run_id"].tolist() == [run.run_id]
    assert listing["n_passed"].iloc[0] == 1
    assert (tmp_path / CATALOGUE_NAME).is_file()

    # A run folder without a row (e.g. its registration lost a race) is still listed.
    import duckdb

    with duckdb.connect(str(tmp_path / CATALOGUE_NAME)) as connection:
        connection.execute("DELETE FROM runs")
    assert Catalogue(tmp_path).list()["run_id"].tolist() == [run.run_id]

    # A damaged index is set aside, not trusted.
    (tmp_path / CATALOGUE_NAME).write_bytes(b"this is not a database")
    assert Catalogue(tmp_path).list()["run_id"].tolist() == [run.run_id]


def test_a_locked_catalogue_never_loses_a_run(tmp_path, monkeypatch):
    """Another process holds the DuckDB lock: the run is still published and listed from its manifest."""
    _write_run(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(20)",
         str(tmp_path / CATALOGUE_NAME)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ready"
        monkeypatch.setattr(_catalogue, "_LOCK_WAIT_S", 0.2)
        second = _write_run(tmp_path, seed=9)
        assert second.path.is_dir()
        assert second.run_id in Catalogue(tmp_path).list()["run_id"].tolist()
    finally:
        holder.kill()
        holder.wait()
    assert len(Catalogue(tmp_path).list()) == 2


def test_find_completed_lets_a_rerun_skip(tmp_path):
    assert RunWriter.find_completed(tmp_path, scenario_hash(SPEC), 123) is None
    run = _write_run(tmp_path)
    reordered = dict(reversed(list(SPEC.items())))
    assert RunWriter.find_completed(tmp_path, scenario_hash(reordered), 123) == run.path
    assert RunWriter.find_completed(tmp_path, scenario_hash(SPEC), 124) is None


def test_a_missing_seed_is_drawn_and_recorded(tmp_path):
    with RunWriter(root=tmp_path, name="free", scenario={}) as run:
        drawn = run.seed
    assert isinstance(drawn, int)
    assert json.loads((run.path / "manifest.json").read_text())["seed"] == drawn


def test_scenario_source_file_is_kept(tmp_path):
    source = tmp_path / "scenario.yaml"
    source.write_text("experiment: binding\n")
    with RunWriter(root=tmp_path / "runs", name="s", scenario={"experiment": "binding"}, scenario_path=source, seed=1) as run:
        pass
    assert (run.path / "scenario-source.yaml").read_text() == "experiment: binding\n"
    assert json.loads((run.path / "manifest.json").read_text())["scenario_path"] == str(source.absolute())


@pytest.mark.parametrize(
    "action",
    [
        lambda run: run.add_table("../escape", pd.DataFrame({"a": [1]})),
        lambda run: run.add_table("scorecard", pd.DataFrame({"a": [1]})),
        lambda run: run.add_table("ok", [1, 2, 3]),
        lambda run: run.add_scorecard([{"id": "x"}]),
        lambda run: run.add_scorecard([{**SCORECARD[0], "kind": "validation"}]),
        lambda run: run.add_summary([1, 2]),
        lambda run: run.add_file("../outside.txt", "x"),
    ],
)
def test_bad_input_is_a_clear_error_and_publishes_nothing(tmp_path, action):
    with pytest.raises(InputError):
        with RunWriter(root=tmp_path, name="bad", seed=1) as run:
            action(run)
    assert _visible(tmp_path) == []


def test_constructor_and_misuse_errors(tmp_path):
    with pytest.raises(InputError, match="seed"):
        RunWriter(root=tmp_path, name="x", seed=-1)
    with pytest.raises(InputError, match="name"):
        RunWriter(root=tmp_path, name="  ")
    with pytest.raises(EralphaError, match="with"):
        RunWriter(root=tmp_path, name="x").add_note("outside the block")


def test_default_runs_root_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ERALPHA_RUNS", str(tmp_path / "elsewhere"))
    assert default_runs_root() == tmp_path / "elsewhere"
    monkeypatch.delenv("ERALPHA_RUNS")
    monkeypatch.chdir(tmp_path)
    assert default_runs_root() == tmp_path / "eralpha-runs"


# -- the command line ------------------------------------------------------------------------------


def test_cli_lists_and_shows_runs(tmp_path):
    from typer.testing import CliRunner

    import eralpha.cli as cli

    cli._register_commands()
    run = _write_run(tmp_path)
    runner = CliRunner()

    listed = runner.invoke(cli.app, ["runs", "list", "--root", str(tmp_path), "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)[0]["run_id"] == run.run_id

    table = runner.invoke(cli.app, ["runs", "list", "--root", str(tmp_path)], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and run.run_id in table.output

    shown = runner.invoke(cli.app, ["runs", "show", run.run_id[:18], "--root", str(tmp_path), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["manifest"]["seed"] == 123

    text = runner.invoke(cli.app, ["runs", "show", run.run_id, "--root", str(tmp_path)], env={"COLUMNS": "200"})
    assert text.exit_code == 0 and "ic50_nM" in text.output


def test_cli_unknown_run_is_a_one_line_error(tmp_path, capsys):
    import eralpha.cli as cli

    _write_run(tmp_path)
    with pytest.raises(SystemExit) as info:
        cli.main(["runs", "show", "no-such-run", "--root", str(tmp_path)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown run 'no-such-run'" in err and "Traceback" not in err
