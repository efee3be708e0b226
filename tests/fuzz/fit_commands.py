"""Every ``eralpha fit`` command run on the shipped example data (README and docs commands), with
what a sane exit-0 result of each must satisfy.

``nonneg`` lists the columns a command reads as amounts that cannot be negative (doses, times, sizes,
raw counts): a negative or infinite value put there must not give exit 0. ``check`` returns what is
wrong with an exit-0 JSON result (empty list = sane).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .oracle import is_finite_number

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"


@dataclass(frozen=True)
class FitCommand:
    name: str
    files: dict[str, str]  # role -> example file name; the first role is the positional FILE
    args: Callable[[dict[str, str]], list[str]]  # paths by role -> argv after 'eralpha fit NAME'
    numeric: tuple[str, ...]  # numeric columns the command reads
    nonneg: tuple[str, ...]  # ... of which these cannot be negative
    check: Callable[[dict], list[str]]
    text: tuple[str, ...] = ()  # label columns the command reads (groups, roles, ids)
    keep: int | None = None  # fuzz only the first `keep` ids (column 0) of each arm (column 1), for speed

    def cut(self, table):
        if self.keep is None:
            return table
        arms = {}
        for r in table.rows:  # the first `keep` patients of every arm, so the comparison survives
            arms.setdefault(r[1], [])
            if r[0] not in arms[r[1]] and len(arms[r[1]]) < self.keep:
                arms[r[1]].append(r[0])
        kept = {i for v in arms.values() for i in v}
        table.rows = [r for r in table.rows if r[0] in kept]
        return table

    @property
    def used(self) -> set[str]:
        return set(self.numeric) | set(self.text)


def _finite(rows, keys, what, when=lambda r: True, positive=()) -> list[str]:
    out = []
    for i, r in enumerate(rows):
        if not when(r):
            continue
        for k in keys:
            v = r.get(k)
            if not is_finite_number(v):
                out.append(f"{what}[{i}].{k} = {v!r} (not a finite number)")
            elif k in positive and v <= 0:
                out.append(f"{what}[{i}].{k} = {v!r} (must be > 0)")
    return out


def _converged(r) -> bool:
    return r.get("status") == "converged"


def _unexplained(rows, what) -> list[str]:
    return [f"{what}[{i}] has status {r.get('status')!r} but no reason" for i, r in enumerate(rows)
            if r.get("status") not in ("converged", None) and not r.get("reason")]


def _nonempty(rows, what) -> list[str]:
    return [] if rows else [f"{what} is empty"]


_P_KEY = re.compile(r"^(p|p_.*|.*_p|.*_p_.*|logrank_p)$")


def probabilities(obj, path="") -> list[str]:
    """Every p-value, fraction and rate in [0, 1] (or null), anywhere in the result."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            where = f"{path}.{k}" if path else k
            if _P_KEY.match(k) and v is not None and not (is_finite_number(v) and 0 <= v <= 1):
                out.append(f"{where} = {v!r} is not a probability")
            out += probabilities(v, where)
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:200]):
            out += probabilities(v, f"{path}[{i}]")
    return out


def _dose_response(js) -> list[str]:
    curves = js.get("curves") or {}
    out = _nonempty(list(curves), "curves")
    for g, c in curves.items():
        if c["status"] == "converged":
            out += _finite([c["estimates"]], list(c["estimates"]), f"curve {g} estimates")
            if "e" in c["estimates"] and is_finite_number(c["estimates"]["e"]) and c["estimates"]["e"] <= 0:
                out.append(f"curve {g}: ED50 e = {c['estimates']['e']} <= 0")
            if c["df"] and c["df"] > 0:
                out += _finite([c["std_errors"]], list(c["std_errors"]), f"curve {g} std_errors")
        elif not c.get("reason"):
            out.append(f"curve {g} has status {c['status']!r} but no reason")
    return out


def _western(js) -> list[str]:
    s = js["summary"]
    return (_nonempty(s, "summary") + _unexplained(s, "summary")
            + _finite(s, ["DC50", "Dmax_pct"], "summary", _converged, positive=("DC50",))
            + _finite(js["replicates"], ["mean"], "replicates"))


def _inhibition(js) -> list[str]:
    s = js["summary"]
    return (_nonempty(s, "summary") + _unexplained(s, "summary")
            + _finite(s, ["IC50", "Ki"], "summary", _converged, positive=("IC50", "Ki"))
            + _finite(js["replicates"], ["mean"], "replicates"))


def _aromatase(js) -> list[str]:
    out = _inhibition(js)
    b, v = js.get("blank_dpm"), js.get("vehicle_dpm")
    if not (is_finite_number(b) and is_finite_number(v) and v > b):
        out.append(f"vehicle dpm {v!r} is not above blank dpm {b!r}: no activity to inhibit")
    return out


def _plate(js) -> list[str]:
    s = js["summary"]
    return (_nonempty(s, "summary") + _unexplained(s, "summary")
            + _finite(s, ["IC50"], "summary", _converged, positive=("IC50",))
            + _finite(js["replicates"], ["mean"], "replicates"))


def _synergy(js) -> list[str]:
    b = js["blocks"]
    return _nonempty(b, "blocks") + _finite(b, ["synergy_score", "max_delta", "min_delta"], "blocks")


def _xenograft(js) -> list[str]:
    s = js["summary"]
    out = _nonempty(s, "summary") + _finite(s, ["growth_rate"], "summary")
    out += [f"summary[{i}] has n_animals {r.get('n_animals')!r}" for i, r in enumerate(s) if not r.get("n_animals")]
    return out


def _survival(js) -> list[str]:
    s = js["summary"]
    out = _nonempty(s, "summary") + _finite([js["logrank"]], ["chi2", "p"], "logrank")
    if all((r.get("events") or 0) >= 1 for r in s) and len(s) >= 2:
        out += _finite(js["cox"], ["hazard_ratio"], "cox", positive=("hazard_ratio",))
    return out


def _tumour_weight(js) -> list[str]:
    s = js["summary"]
    return _nonempty(s, "summary") + _finite(s, ["mean"], "summary", lambda r: (r.get("n") or 0) > 0)


def _metastasis(js) -> list[str]:
    s = js["summary"]
    return _nonempty(s, "summary") + _finite(s, ["mean_log10"], "summary", lambda r: (r.get("n") or 0) > 0)


def _recist(js) -> list[str]:
    r = js["rates"]
    return _nonempty(r, "rates") + _nonempty(js["patients"], "patients") + _finite(r, ["ORR", "CBR"], "rates")


COMMANDS = {c.name: c for c in [
    FitCommand("dose-response", {"file": "dose_response_viability.csv"},
               lambda p: [p["file"], "--dose", "conc_nM", "--response", "viability_pct", "--group", "compound"],
               ("conc_nM", "viability_pct"), ("conc_nM",), _dose_response, ("compound",)),
    FitCommand("western", {"file": "western_degradation.csv"}, lambda p: [p["file"]],
               ("dose", "time", "target", "loading", "background"), ("dose", "time", "target", "loading"), _western, ("blot", "lane", "compound", "replicate")),
    FitCommand("aromatase", {"file": "aromatase_inhibition.csv"},
               lambda p: [p["file"], "--substrate", "50 nM", "--km", "40 nM"],
               ("concentration", "dpm"), ("concentration", "dpm"), _aromatase, ("role", "compound")),
    FitCommand("binding", {"file": "binding_competition.csv"},
               lambda p: [p["file"], "--radioligand", "1 nM", "--kd", "0.26 nM"],
               ("concentration", "total", "nonspecific"), ("concentration", "total", "nonspecific"), _inhibition, ("compound",)),
    FitCommand("plate", {"layout": "plate_layout.csv", "readout": "plate_readout.csv", "time_zero": "plate_time_zero.csv"},
               lambda p: [p["layout"], p["readout"], "--time-zero", p["time_zero"]],
               ("concentration", "signal", *map(str, range(1, 13))), ("concentration",), _plate, ("well", "role", "compound")),
    FitCommand("synergy", {"file": "synergy_example.csv"},
               lambda p: [p["file"], "--response", "viability", "--model", "bliss"],
               ("conc1", "conc2", "response"), ("conc1", "conc2"), _synergy, ("block_id", "drug1", "drug2")),
    FitCommand("xenograft", {"file": "xenograft_growth.csv"},
               lambda p: [p["file"], "--group", "group", "--time", "day", "--animal", "animal",
                          "--length", "length_mm", "--width", "width_mm", "--control", "vehicle"],
               ("day", "length_mm", "width_mm"), ("length_mm", "width_mm"), _xenograft, ("animal", "group")),
    FitCommand("survival", {"file": "survival_trial.csv"},
               lambda p: [p["file"], "--time", "pfs_months", "--event", "progressed", "--arm", "arm",
                          "--reference", "fulvestrant"],
               ("pfs_months", "progressed"), ("pfs_months",), _survival, ("arm",)),
    FitCommand("tumour-weight", {"file": "xenograft_terminal.csv"},
               lambda p: [p["file"], "--weight", "tumour_weight_mg", "--control", "vehicle"],
               ("tumour_weight_mg",), ("tumour_weight_mg",), _tumour_weight, ("group",)),
    FitCommand("metastasis", {"file": "xenograft_metastasis.csv"},
               lambda p: [p["file"], "--organs", "lung,liver,bone,brain", "--control", "vehicle", "--threshold", "1e4"],
               ("lung", "liver", "bone", "brain"), ("lung", "liver", "bone", "brain"), _metastasis, ("animal", "group")),
    FitCommand("recist", {"file": "recist_lesions.csv"},
               lambda p: [p["file"], "--diameter", "diameter_mm", "--node", "node", "--status", "status",
                          "--arm", "arm", "--reference", "fulvestrant"],
               ("day", "diameter_mm", "node"), ("diameter_mm",), _recist, ("patient", "lesion", "type", "status", "arm"),
               keep=8),
]}
