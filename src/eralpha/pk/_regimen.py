"""Dosing regimens as small immutable objects: a sorted tuple of dose events.

Clinical language counts days from 1 ("day 1" is time 0 h); inside, every time is in hours.
Doses keep their unit: an absolute amount (``"500 mg"``) or an amount per body weight
(``"5 mg/kg"``), resolved to mg with the subject's body weight when a simulation runs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any, Iterable, Literal

import pint

from ..errors import InputError
from ..resources import check_memory
from ..units import parse_quantity

__all__ = ["Dose", "DoseEvent", "Regimen", "ROUTES", "parse_dose", "check_group_size"]

Route = Literal["oral", "sc", "im", "iv"]
ROUTES: tuple[str, ...] = ("oral", "sc", "im", "iv")
_ROUTE_SYNONYMS = {"po": "oral", "oral": "oral", "gavage": "oral", "sc": "sc", "sq": "sc", "s.c.": "sc",
                   "subcutaneous": "sc", "im": "im", "intramuscular": "im", "iv": "iv", "intravenous": "iv"}
HOURS_PER_DAY = 24.0
# a DoseEvent with its Dose and list slot (what a batched simulation keeps per event is checked there)
_BYTES_PER_DOSE_EVENT = 200.0


@dataclass(frozen=True)
class Dose:
    """An amount in mg, either absolute or per kg of body weight."""

    amount: float
    per_kg: bool = False

    def mg(self, body_weight_kg: float) -> float:
        return self.amount * body_weight_kg if self.per_kg else self.amount

    def scaled(self, factor: float) -> "Dose":
        return Dose(self.amount * factor, self.per_kg)

    def __str__(self) -> str:
        return f"{self.amount:g} mg/kg" if self.per_kg else f"{self.amount:g} mg"


def parse_dose(value: Any, *, field: str | None = None, file: str | None = None) -> Dose:
    """``"500 mg"`` or ``"5 mg/kg"`` (any mass or mass-per-mass unit) → :class:`Dose`."""
    if isinstance(value, Dose):
        return value
    # pint sees mg/kg as dimensionless, so the per-body-weight form is split off first
    per_kg = re.fullmatch(r"\s*(.+?)\s*/\s*kg\s*", str(value)) if isinstance(value, str) else None
    q = parse_quantity(per_kg.group(1) if per_kg else value, field=field, file=file)
    try:
        amount = float(q.to("mg").magnitude)
    except pint.DimensionalityError:
        raise InputError(
            f"'{value}' is not a dose: it has dimension {q.dimensionality}",
            file=file, field=field, value=value,
            valid="a mass ('500 mg', '10 ug') or a mass per body weight ('5 mg/kg')",
        ) from None
    if not (math.isfinite(amount) and amount >= 0):
        raise InputError(f"the dose '{value}' is {'negative' if amount < 0 else 'not a finite number'}",
                         file=file, field=field, value=value,
                         valid="a dose >= 0, e.g. '500 mg' or '5 mg/kg' (0 for a vehicle)")
    return Dose(amount, per_kg=bool(per_kg))


def parse_route(value: Any, *, field: str | None = None, file: str | None = None) -> str:
    route = _ROUTE_SYNONYMS.get(str(value).strip().lower())
    if route is None:
        raise InputError(f"unknown route '{value}'", file=file, field=field, value=value, valid=", ".join(ROUTES))
    return route


def _hours(value: Any, *, field: str | None = None, file: str | None = None) -> float:
    from ..units import to_internal

    return to_internal(value, "hour", field=field, file=file)


def check_group_size(n: Any, *, field: str | None = "subjects", file: str | None = None) -> int:
    """A group (of mice, of virtual patients) needs at least two members for any spread or statistic."""
    if isinstance(n, bool) or not isinstance(n, int) and not (isinstance(n, float) and n.is_integer()):
        raise InputError(f"group size {n!r} is not a whole number", file=file, field=field, value=n,
                         valid="an integer >= 2")
    if int(n) < 2:
        raise InputError(f"group size {n} is too small to estimate variability", file=file, field=field,
                         value=n, valid="an integer >= 2 (seed 000 uses 6-10 mice per group)")
    return int(n)


@dataclass(frozen=True)
class DoseEvent:
    """One administration: time (h), dose, route, and infusion duration (h; 0 = bolus)."""

    time: float
    dose: Dose
    route: str
    duration: float = 0.0


@dataclass(frozen=True)
class Regimen:
    """A dosing schedule: dose events sorted by time. Combine with ``+``; modify with the methods below."""

    events: tuple[DoseEvent, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", tuple(sorted(self.events, key=lambda e: e.time)))
        for e in self.events:
            if e.time < 0:
                raise InputError("a dose is given before time 0", field="regimen", value=e.time,
                                 valid="dose times >= 0 h (day 1 is time 0)")

    # ---------------------------------------------------------------- constructors
    @classmethod
    def repeated(cls, dose: Any, route: str = "oral", *, every: Any = "24 h", count: int | None = None,
                 start: Any = "0 h", until: Any | None = None, days_on: int | None = None,
                 days_off: int = 0) -> "Regimen":
        """Doses every ``every``, ``count`` times or until ``until`` (exclusive); optional on/off cycles.

        ``days_on=21, days_off=7`` gives palbociclib's 3-weeks-on/1-off; ``days_on=5, days_off=2`` gives
        the mouse '5 days a week' schedule.
        """
        d, r = parse_dose(dose, field="dose"), parse_route(route, field="route")
        tau, t0 = _hours(every, field="every"), _hours(start, field="start")
        if tau <= 0:
            raise InputError("the dosing interval must be positive", field="every", value=every, valid="e.g. '24 h'")
        if count is None and until is None:
            raise InputError("give either 'count' or 'until'", field="count", valid="count=28 or until='28 d'")
        end = _hours(until, field="until") if until is not None else float("inf")
        if count is None and not math.isfinite(end):
            raise InputError("the regimen's end must be finite", field="until", value=until, valid="e.g. '28 d'")
        n_max = count if count is not None else int((end - t0) / tau + 1e-9) + 1
        # each dose is an event every simulation steps through: refuse absurd counts before building them
        check_memory(n_max * _BYTES_PER_DOSE_EVENT, f"a regimen of {n_max:.3g} doses (every {tau:g} h)",
                     field="until" if count is None else "count", value=until if count is None else count)
        cycle_h = (days_on + days_off) * HOURS_PER_DAY if days_on else None
        times: list[float] = []
        k = 0
        while len(times) < n_max:
            t = t0 + k * tau
            k += 1
            if t >= end - 1e-9:
                break
            if cycle_h is not None and ((t - t0) % cycle_h) >= days_on * HOURS_PER_DAY - 1e-9:
                continue  # an off day; 'count' counts doses actually given
            times.append(t)
            if count is not None and len(times) >= count:
                break
        return cls(tuple(DoseEvent(t, d, r) for t in times))

    @classmethod
    def daily(cls, dose: Any, route: str = "oral", *, days: int, times_per_day: int = 1, start_day: int = 1,
              days_on: int | None = None, days_off: int = 0) -> "Regimen":
        """Once (or ``times_per_day``) daily for ``days`` calendar days."""
        tau = HOURS_PER_DAY / times_per_day
        t0 = (start_day - 1) * HOURS_PER_DAY
        return cls.repeated(dose, route, every=f"{tau} h", start=f"{t0} h", until=f"{t0 + days * HOURS_PER_DAY} h",
                            days_on=days_on, days_off=days_off)

    @classmethod
    def weekly(cls, dose: Any, route: str, *, weeks: int, start_day: int = 1) -> "Regimen":
        return cls.repeated(dose, route, every="168 h", count=weeks, start=f"{(start_day - 1) * 24} h")

    @classmethod
    def on_days(cls, dose: Any, route: str, days: Iterable[int]) -> "Regimen":
        """Doses on the listed (1-based) days, e.g. fulvestrant's loading doses on days 1, 15 and 29."""
        d, r = parse_dose(dose, field="dose"), parse_route(route, field="route")
        return cls(tuple(DoseEvent((int(day) - 1) * HOURS_PER_DAY, d, r) for day in days))

    @classmethod
    def loading_then_every(cls, dose: Any, route: str, *, loading_days: Iterable[int], every_days: int,
                           until_day: int) -> "Regimen":
        """Loading doses, then one dose every ``every_days`` days after the last loading dose until ``until_day``."""
        loading = sorted(int(x) for x in loading_days)
        maintenance = range(loading[-1] + every_days, until_day + 1, every_days)
        return cls.on_days(dose, route, [*loading, *maintenance])

    @classmethod
    def parse(cls, text: str, *, until_day: int | None = None, field: str | None = None,
              file: str | None = None) -> "Regimen":
        """Read a regimen written the way a label or protocol does. Phases are separated by ';'.

        Examples: ``"2.5 mg oral q24h"``, ``"150 mg oral q12h"``, ``"125 mg oral q24h 21/7"``,
        ``"5 mg/kg sc q24h 5/2"``, ``"500 mg im on days 1, 15, 29 then q28d"``,
        ``"5 mg oral on day 1; 1 mg oral q24h from day 2 to day 14"``. Open-ended phases run to
        ``until_day`` (required then).
        """
        phases = [p.strip() for p in str(text).split(";") if p.strip()]
        if not phases:
            raise InputError("the regimen is empty", file=file, field=field, value=text, valid=_PARSE_HELP)
        out = cls()
        for phase in phases:
            out = out + _parse_phase(phase, until_day, field=field, file=file, whole=text)
        return out

    # ---------------------------------------------------------------- combination and modification
    def __add__(self, other: "Regimen") -> "Regimen":
        return Regimen(self.events + other.events)

    def shifted(self, hours: float) -> "Regimen":
        return Regimen(tuple(replace(e, time=e.time + hours) for e in self.events))

    def hold(self, from_day: float, to_day: float) -> "Regimen":
        """Skip the doses due on days ``from_day`` .. ``to_day`` inclusive (a dose hold)."""
        lo, hi = (from_day - 1) * HOURS_PER_DAY, to_day * HOURS_PER_DAY
        return Regimen(tuple(e for e in self.events if not (lo - 1e-9 <= e.time < hi - 1e-9)))

    def reduce(self, new_dose: Any, from_day: float) -> "Regimen":
        """From ``from_day`` on, give ``new_dose`` instead (a dose reduction)."""
        d = parse_dose(new_dose, field="dose")
        t0 = (from_day - 1) * HOURS_PER_DAY
        return Regimen(tuple(replace(e, dose=d) if e.time >= t0 - 1e-9 else e for e in self.events))

    def stop(self, after_day: float) -> "Regimen":
        """Drop doses after day ``after_day`` (washout follows)."""
        end = after_day * HOURS_PER_DAY
        return Regimen(tuple(e for e in self.events if e.time < end - 1e-9))

    # ---------------------------------------------------------------- queries
    @property
    def routes(self) -> tuple[str, ...]:
        return tuple(sorted({e.route for e in self.events}))

    @property
    def last_dose_time(self) -> float:
        return self.events[-1].time if self.events else 0.0

    def dosing_interval(self) -> float | None:
        """The interval between the last two doses (h), or None with fewer than two doses."""
        if len(self.events) < 2:
            return None
        return self.events[-1].time - self.events[-2].time

    def check_within(self, end_h: float, *, file: str | None = None, field: str | None = "regimen") -> None:
        """A regimen whose first dose falls after the end of the study is a mistake."""
        if not self.events:
            raise InputError("the regimen has no doses", file=file, field=field, valid="at least one dose")
        if self.events[0].time >= end_h:
            raise InputError(
                f"the regimen starts at {self.events[0].time / 24 + 1:g} (day) but the study ends at "
                f"{end_h:g} h (day {end_h / 24:g})", file=file, field=field, value=self.events[0].time,
                valid="a first dose before the end of the study (shorten the start or lengthen 'duration')")

    def __len__(self) -> int:
        return len(self.events)


_PARSE_HELP = ("'<dose> <route> q<N>h|q<N>d|qd|bid|weekly [<on>/<off>] [from day A] [to day B]' or "
               "'<dose> <route> on days 1, 15, 29 [then q28d]', phases joined by ';'")
_PHASE = re.compile(r"^\s*(?P<dose>[0-9.eE+-]+\s*[a-zA-Zµμ/]+)\s+(?P<route>\S+)\s+(?P<rest>.*)$")


def _interval_hours(token: str) -> float | None:
    token = token.lower()
    named = {"qd": 24.0, "daily": 24.0, "od": 24.0, "bid": 12.0, "tid": 8.0, "weekly": 168.0, "qw": 168.0}
    if token in named:
        return named[token]
    m = re.fullmatch(r"q(\d+(?:\.\d+)?)(h|d|w)", token)
    if m:
        return float(m.group(1)) * {"h": 1.0, "d": 24.0, "w": 168.0}[m.group(2)]
    return None


def _parse_phase(phase: str, until_day: int | None, *, field: str | None, file: str | None, whole: str) -> Regimen:
    def fail(why: str) -> InputError:
        return InputError(f"cannot read regimen '{whole}': {why}", file=file, field=field, value=whole,
                          valid=_PARSE_HELP)

    m = _PHASE.match(phase)
    if not m:
        raise fail(f"phase '{phase}' does not start with '<dose> <route>'")
    dose, route = parse_dose(m.group("dose"), field=field, file=file), parse_route(m.group("route"), field=field, file=file)
    rest = m.group("rest").lower().replace(",", " ")
    days_m = re.match(r"on days?\s+((?:\d+\s*)+)(?:then\s+(\S+))?", rest)
    if days_m:
        days = [int(x) for x in days_m.group(1).split()]
        reg = Regimen.on_days(dose, route, days)
        if days_m.group(2):
            tau = _interval_hours(days_m.group(2))
            if tau is None:
                raise fail(f"unknown interval '{days_m.group(2)}'")
            if until_day is None:
                raise fail("an open-ended 'then' phase needs the study duration")
            start = (days[-1] - 1) * HOURS_PER_DAY + tau
            reg = reg + Regimen.repeated(dose, route, every=f"{tau} h", start=f"{start} h",
                                         until=f"{until_day * HOURS_PER_DAY} h")
        return reg
    tokens = rest.split()
    if not tokens or (tau := _interval_hours(tokens[0])) is None:
        raise fail(f"expected an interval such as q24h, qd, bid or weekly, got '{tokens[0] if tokens else ''}'")
    onoff = re.search(r"(\d+)\s*/\s*(\d+)", rest)
    start_m, end_m = re.search(r"from day (\d+)", rest), re.search(r"to day (\d+)", rest)
    start_day = int(start_m.group(1)) if start_m else 1
    if end_m:
        last_day = int(end_m.group(1))
    elif until_day is not None:
        last_day = until_day
    else:
        raise fail("an open-ended phase needs 'to day N' or the study duration")
    return Regimen.repeated(dose, route, every=f"{tau} h", start=f"{(start_day - 1) * HOURS_PER_DAY} h",
                            until=f"{last_day * HOURS_PER_DAY} h",
                            days_on=int(onoff.group(1)) if onoff else None,
                            days_off=int(onoff.group(2)) if onoff else 0)
