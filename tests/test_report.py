"""The self-contained HTML report, the shared plot style and the progress bar."""

from __future__ import annotations

import base64
import re

import pandas as pd

from eralpha.report import MAX_TABLE_ROWS, figure_to_png, format_value, new_figure, progress, render_report

SCORECARD = [
    {"id": "pfs-elaine1", "quantity": "median PFS (months)", "source": "ELAINE 1", "target": 5.6,
     "simulated": 5.83, "tolerance": 0.25, "kind": "prediction", "passed": True},
    {"id": "ki-wt", "quantity": "Ki ERα WT (nM)", "source": "seed 001", "target": 0.64, "simulated": 1.9,
     "tolerance": 0.2, "kind": "calibration", "passed": False},
]  # fmt: skip


def _figure():
    fig, ax = new_figure()
    ax.plot([0, 1], [0, 1])
    return fig


def test_figures_are_embedded_as_png():
    png = figure_to_png(_figure())
    page = render_report("Run", figures={"from-figure": _figure(), "from-bytes": png}, captions={"from-bytes": "Bytes"})
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(embedded) == 2
    assert all(base64.b64decode(e).startswith(b"\x89PNG") for e in embedded)
    assert "<figcaption>Bytes</figcaption>" in page
    assert "http" not in page.split("<body>")[1]  # nothing to fetch


def test_scorecard_is_coloured_and_says_calibration_or_prediction():
    page = render_report("Run", scorecard=SCORECARD)
    assert '<tr class="pass">' in page and '<tr class="fail">' in page
    assert "PASS" in page and "FAIL" in page
    assert "calibration: 0/1 passed" in page and "prediction: 1/1 passed" in page
    assert "1/2 checks passed" in page


def test_tables_use_four_significant_figures_and_long_ones_are_cut():
    table = pd.DataFrame({"dose_nM": [1.23456789] * (MAX_TABLE_ROWS + 10), "arm": ["lasofoxifene"] * (MAX_TABLE_ROWS + 10)})
    page = render_report("Run", tables={"doses": table})
    assert "1.235" in page and "1.23456" not in page
    assert page.count("<tr><td>") == MAX_TABLE_ROWS
    assert f"first {MAX_TABLE_ROWS} of {MAX_TABLE_ROWS + 10} rows" in page


def test_notes_and_manifest_are_shown_and_escaped():
    page = render_report("A <b>run</b>", notes=["x < y & <script>alert(1)</script>"], manifest={"seed": 123})
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert '"seed": 123' in page and page.index("Manifest") > page.index("Notes")
    assert "<title>A &lt;b&gt;run&lt;/b&gt;</title>" in page


def test_format_value():
    assert format_value(0.000123456) == "0.0001235"
    assert format_value(123456.0) == "1.235e+05"
    assert format_value(7) == "7"
    assert format_value(float("nan")) == "" and format_value(None) == ""
    assert format_value(True) == "yes" and format_value("Y537S") == "Y537S"


def test_new_figure_gives_a_grid_of_axes():
    fig, axes = new_figure(2, 3)
    assert axes.shape == (2, 3)
    assert tuple(fig.get_size_inches()) == (4.8 * 3, 3.4 * 2)


def test_progress_is_silent_off_a_terminal_and_when_quiet(monkeypatch, capsys):
    assert list(progress(range(5), description="simulating")) == [0, 1, 2, 3, 4]
    monkeypatch.setenv("ERALPHA_QUIET", "1")
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    assert list(progress(iter([1, 2]), total=2)) == [1, 2]
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
