"""Known defects the fuzzing harness hits, each fixed on another branch (issue 12, item 1).

A fuzz case that breaks the property and matches one of these signatures is recorded, not failed;
a test that recorded any ends as xfail (never as a failure), naming the defects. Once the fixes are
merged, delete the entry (or the whole list): the harness then checks those inputs too.

A signature is a predicate on (what was fuzzed, the mutations' log, the outcome).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownDefect:
    id: str
    item: str  # where issue 12 lists it
    applies: Callable[[str, list, object], bool]  # (command or scenario kind, mutation log, outcome)


def _ops(log) -> set[str]:
    return {entry[0] for entry in log}


def _problems(outcome) -> str:
    return " ".join(outcome.problems) + " " + outcome.exc


KNOWN_DEFECTS: list[KnownDefect] = [
    # --- CSVs for `eralpha fit` ---------------------------------------------------------------
    KnownDefect("csv-duplicated-header", "issue 12 item 1: a CSV with a duplicated header silently uses the first column",
                lambda what, log, out: out.kind == "ok" and "duplicated column" in _problems(out)),
    KnownDefect("fit-western-tiny-or-nan", "issue 12 item 1: fit western on an all-NaN or one-row file returns empty/NaN, exit 0",
                lambda what, log, out: what == "western" and out.kind == "ok" and "summary is empty" in _problems(out)),
    KnownDefect("fit-synergy-tiny", "issue 12 item 1: fit synergy on one row (a 1x1 block) returns empty/NaN, exit 0",
                lambda what, log, out: what == "synergy" and out.kind == "ok" and "synergy_score = None" in _problems(out)),
    KnownDefect("dose-response-profile-ci", "issue 12 item 1: dose-response profile CI crash (brentq signs) on S.alba",
                lambda what, log, out: what == "dose-response" and out.kind == "traceback"
                and "must have different signs" in out.exc),
    # --- scenarios ------------------------------------------------------------------------------
    KnownDefect("pk-negative-dose", "issue 12 item 1: a negative dose in a PK scenario gives negative concentrations",
                lambda what, log, out: what == "pk" and "negative dose" in _problems(out)),
    KnownDefect("xenograft-negative-dose", "issue 12 item 1: a negative xenograft dose surfaces only as a solver error",
                lambda what, log, out: what == "xenograft" and "negative dose" in _problems(out)),
    KnownDefect("seed-not-integer", "issue 12 item 1: `seed: eleven` gives a ValueError traceback in cli/_run.py",
                lambda what, log, out: out.kind == "traceback" and "cli/_run.py" in out.where and "(run)" in out.where
                and out.exc.split(":")[0] in ("ValueError", "TypeError", "OverflowError")),
    KnownDefect("huge-batch", "issue 12 items 1 and 3: huge subjects / duration are not refused (resource guards)",
                lambda what, log, out: "resource" in _problems(out) or out.exc.startswith("MemoryError")
                or "Maximum allowed size exceeded" in out.exc),
    KnownDefect("invitro-no-cell-lines", "issue 12 item 1: a scenario without cell_lines silently defaults to MCF7",
                lambda what, log, out: "cell_lines defaulted" in _problems(out)),
    KnownDefect("mcf7-synonym", "issue 12 item 1: the synonym MCF-7 is accepted but its expectations match no rows",
                lambda what, log, out: "expectation names" in _problems(out)),
]


def known_defect(what: str, log: list, outcome) -> KnownDefect | None:
    for d in KNOWN_DEFECTS:
        if d.applies(what, log, outcome):
            return d
    return None
