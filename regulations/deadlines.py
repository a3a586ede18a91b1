"""Due dates under the PRC Civil Code and the State Council's holiday schedule. Pure: no Django.

Conventions (Civil Code arts. 200-204):
- The start day is not counted; counting begins the next day (art. 201).
- A period in months or years ends on the corresponding day of the last month, or on that
  month's last day when it has no corresponding day (art. 202).
- When the last day of a period is a rest day, the period ends on the first working day after
  it (art. 203). A date counted *before* an event (renew three months before expiry) moves
  earlier instead, so acting on it is never late.
- Working days follow the State Council's schedule, make-up working days (调休) included.
  The ``chinesecalendar`` package carries the published years; for a year it does not carry,
  a schedule recorded by an operator takes precedence, and failing that Monday to Friday is
  assumed and the result is marked estimated.
Fixed dates written in the text (2024年12月31日前) are not periods and are never moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

import chinese_calendar
from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr

ONE_DAY = dt.timedelta(days=1)
# Dates the service accepts anywhere: far enough for any legal period, near enough that date
# arithmetic cannot overflow.
MIN_DATE, MAX_DATE = dt.date(1950, 1, 1), dt.date(2200, 12, 31)


class Unit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"
    MONTHS = "months"
    YEARS = "years"


class Direction(StrEnum):
    AFTER = "after"
    BEFORE = "before"


@dataclass(frozen=True)
class Day:
    date: dt.date
    working: bool
    estimated: bool
    # "workday", "weekend", "holiday" (statutory, with its name) or "makeup" (调休 workday)
    kind: str
    name: str = ""


@dataclass(frozen=True)
class YearSchedule:
    """A year's schedule as an operator recorded it from the State Council's notice: the rest
    days beyond weekends and the weekend days that are make-up working days."""

    year: int
    holidays: Mapping[dt.date, str]
    makeup_workdays: frozenset[dt.date]


@dataclass(frozen=True)
class WorkCalendar:
    schedules: Mapping[int, YearSchedule] = field(default_factory=dict)

    def day(self, d: dt.date) -> Day:
        schedule = self.schedules.get(d.year)
        if schedule is not None:
            return _day_from_schedule(d, schedule)
        return _package_day(d)

    def is_working(self, d: dt.date) -> bool:
        return self.day(d).working


def _day_from_schedule(d: dt.date, schedule: YearSchedule) -> Day:
    if d in schedule.makeup_workdays:
        return Day(d, True, False, "makeup")
    if d in schedule.holidays:
        return Day(d, False, False, "holiday", schedule.holidays[d])
    if d.weekday() >= 5:
        return Day(d, False, False, "weekend")
    return Day(d, True, False, "workday")


@lru_cache(maxsize=8192)
def _package_day(d: dt.date) -> Day:
    weekend = d.weekday() >= 5
    try:
        working = chinese_calendar.is_workday(d)
        _, name = chinese_calendar.get_holiday_detail(d)
    except NotImplementedError:
        # No published schedule for this year: assume Monday to Friday, and say so.
        return Day(d, not weekend, True, "weekend" if weekend else "workday")
    if working:
        return Day(d, True, False, "makeup" if weekend else "workday")
    if name:
        return Day(d, False, False, "holiday", str(name))
    return Day(d, False, False, "weekend" if weekend else "holiday")


DEFAULT_CALENDAR = WorkCalendar()


@dataclass
class DueDate:
    due_date: dt.date
    estimated: bool = False
    explanation: list[str] = field(default_factory=list)
    skipped_rest_days: list[dt.date] = field(default_factory=list)
    makeup_days_counted: list[dt.date] = field(default_factory=list)
    opens: dt.date | None = None  # first day of a window, when the rule is a window


class _Trace:
    """Collects what the computation looked at, for the explanation and the estimate flag."""

    def __init__(self, calendar: WorkCalendar):
        self.calendar = calendar
        self.estimated_years: set[int] = set()
        self.skipped: list[Day] = []
        self.makeup: list[dt.date] = []

    def day(self, d: dt.date) -> Day:
        info = self.calendar.day(d)
        if info.estimated:
            self.estimated_years.add(d.year)
        return info


def compute(
    start: dt.date,
    amount: int,
    unit: Unit | str,
    direction: Direction | str = Direction.AFTER,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> DueDate:
    """The last day of a period of ``amount`` ``unit`` after (or before) ``start``."""
    unit, direction = Unit(unit), Direction(direction)
    if amount < 0:
        raise ValueError("amount must not be negative")
    step = ONE_DAY if direction is Direction.AFTER else -ONE_DAY
    trace = _Trace(calendar)
    word = "after" if direction is Direction.AFTER else "before"
    lines = [f"{start.isoformat()} is the start day and is not counted (Civil Code art. 201)."]

    if unit is Unit.WORKING_DAYS:
        d, counted = start, 0
        while counted < amount:
            d += step
            info = trace.day(d)
            if info.working:
                counted += 1
                if info.kind == "makeup":
                    trace.makeup.append(d)
            else:
                trace.skipped.append(info)
        lines.append(f"Counting {amount} working days {word} it ends on {d.isoformat()}.")
    else:
        if unit is Unit.CALENDAR_DAYS:
            delta = relativedelta(days=amount)
        elif unit is Unit.MONTHS:
            delta = relativedelta(months=amount)
        else:
            delta = relativedelta(years=amount)
        nominal = start + delta if direction is Direction.AFTER else start - delta
        lines.append(f"{amount} {unit.value.replace('_', ' ')} {word} it is {nominal.isoformat()}.")
        if unit in (Unit.MONTHS, Unit.YEARS) and nominal.day != start.day:
            lines.append(
                f"{nominal:%Y-%m} has no day {start.day}; "
                "the period ends on the month's last day (Civil Code art. 202)."
            )
        d = nominal
        while not (info := trace.day(d)).working:
            trace.skipped.append(info)
            d += step
        if d != nominal:
            if direction is Direction.AFTER:
                lines.append(
                    f"That is a rest day; the period ends on the next working day, {d.isoformat()} (art. 203)."
                )
            else:
                lines.append(f"That is a rest day; acting before the event means moving earlier, to {d.isoformat()}.")

    result = DueDate(
        due_date=d,
        estimated=bool(trace.estimated_years),
        skipped_rest_days=sorted(x.date for x in trace.skipped),
        makeup_days_counted=sorted(trace.makeup),
    )
    if trace.skipped:
        lines.append("Rest days skipped: " + _describe_days(trace.skipped) + ".")
    if trace.makeup:
        lines.append(
            "Make-up working days counted: "
            + ", ".join(f"{m.isoformat()} ({m:%A})" for m in sorted(trace.makeup))
            + "."
        )
    if trace.estimated_years:
        lines.append(
            "No published holiday schedule covers "
            + ", ".join(map(str, sorted(trace.estimated_years)))
            + ": Monday to Friday were assumed, so the date is an estimate."
        )
    result.explanation = lines
    return result


def _describe_days(days: Iterable[Day]) -> str:
    """Group consecutive rest days into ranges: '2024-10-01 to 2024-10-07 (National Day)'."""
    out: list[str] = []
    run: list[Day] = []
    for day in sorted(days, key=lambda x: x.date):
        if run and day.date - run[-1].date == ONE_DAY:
            run.append(day)
            continue
        if run:
            out.append(_describe_run(run))
        run = [day]
    if run:
        out.append(_describe_run(run))
    return "; ".join(out)


def _describe_run(run: list[Day]) -> str:
    names = sorted({d.name for d in run if d.name})
    label = ", ".join(names) if names else "weekend"
    span = run[0].date.isoformat() if len(run) == 1 else f"{run[0].date.isoformat()} to {run[-1].date.isoformat()}"
    return f"{span} ({label})"


# --- Catalogue deadline rules -------------------------------------------------------------


# Deadline kinds that can give a date; rule_due gives every other kind (ongoing, qualitative)
# the same undated outcome whatever the events and the date.
DATED_KINDS = frozenset({"fixed", "window", "after_event", "before_event", "recurring"})


@dataclass
class RuleOutcome:
    """What a catalogue deadline rule gives for one organization: a due date, or why not."""

    due: DueDate | None
    reason: str = ""  # when due is None: "qualitative", "ongoing", "needs_event:<key>", "no_more"
    interpretation: str = ""


def rule_due(
    rule: Mapping,
    *,
    events: Mapping[str, dt.date] | None = None,
    as_of: dt.date | None = None,
    anchor_date: dt.date | None = None,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> RuleOutcome:
    """Apply a catalogue deadline rule (see regulations/catalog/schema.json).

    ``events`` are the organization's reported event dates; ``as_of`` picks the next
    occurrence of a recurring rule; ``anchor_date`` is the last completion or evidence date
    for recurring rules anchored on them.
    """
    events = events or {}
    kind = rule["kind"]
    note = rule.get("interpretation", "")
    if kind == "fixed":
        d = dt.date.fromisoformat(rule["date"])
        return RuleOutcome(
            DueDate(d, explanation=[f"Fixed date {d.isoformat()} as the text gives it."]), interpretation=note
        )
    if kind == "window":
        start, end = dt.date.fromisoformat(rule["start"]), dt.date.fromisoformat(rule["end"])
        return RuleOutcome(
            DueDate(end, opens=start, explanation=[f"Window from {start.isoformat()} to {end.isoformat()}."]),
            interpretation=note,
        )
    if kind in ("after_event", "before_event"):
        event_date = events.get(rule["event"])
        if event_date is None:
            return RuleOutcome(None, f"needs_event:{rule['event']}", note)
        direction = Direction.AFTER if kind == "after_event" else Direction.BEFORE
        due = compute(event_date, rule["amount"], rule["unit"], direction, calendar)
        due.explanation.insert(0, f"Event '{rule['event']}' on {event_date.isoformat()}.")
        return RuleOutcome(due, interpretation=note)
    if kind == "recurring":
        anchor = rule["anchor"]
        if anchor == "schedule":
            base = dt.date.fromisoformat(rule["dtstart"]) if rule.get("dtstart") else None
        else:
            base = anchor_date
        after = as_of or dt.date.today()
        upcoming = next(iter(occurrences(rule, start=base, after=after, count=1)), None)
        if upcoming is None:
            return RuleOutcome(None, "no_more", note)
        return RuleOutcome(
            DueDate(upcoming, explanation=[f"Next occurrence of {rule['rrule']} on or after {after.isoformat()}."]),
            interpretation=note,
        )
    return RuleOutcome(None, kind, note)


def occurrences(
    rule: Mapping, *, start: dt.date | None, after: dt.date, until: dt.date | None = None, count: int | None = None
) -> list[dt.date]:
    """Occurrences of a recurring rule on or after ``after`` (and up to ``until``)."""
    first = start or dt.date(after.year, 1, 1)
    return list(_occurrences(rule["rrule"], rule.get("until"), first, after, until, count))


@lru_cache(maxsize=4096)
def _occurrences(
    text: str, limit: str | None, start: dt.date, after: dt.date, until: dt.date | None, count: int | None
) -> tuple[dt.date, ...]:
    """Cached: every profile evaluated on the same day asks for the same occurrences, and
    dateutil walks the rule from its start each time."""
    rr = rrulestr(text, dtstart=dt.datetime.combine(start, dt.time()))
    last = min(filter(None, [until, dt.date.fromisoformat(limit) if limit else None]), default=None)
    out = []
    for occ in rr.xafter(dt.datetime.combine(after, dt.time()), count=count, inc=True):
        day = occ.date()
        if last and day > last:
            break
        out.append(day)
        if count is None and len(out) >= 1000:  # a rolling horizon never needs more
            break
    return tuple(out)
