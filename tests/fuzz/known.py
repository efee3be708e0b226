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


# Emptied once the fixes of issue 12 item 1 were merged: every fuzz case is checked now. A defect found
# later and fixed elsewhere can be parked here the same way, with the issue item that owns it.
KNOWN_DEFECTS: list[KnownDefect] = []


def known_defect(what: str, log: list, outcome) -> KnownDefect | None:
    for d in KNOWN_DEFECTS:
        if d.applies(what, log, outcome):
            return d
    return None
