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
  a schedule recorded by an operator takes precedence, and failing that the statutory
  holidays of the national holiday rules are counted and the result is marked estimated
  (see "Years without a published schedule" below).
Fixed dates written in the text (2024年12月31日前) are not periods and are never moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
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
    # In a year with no published schedule: a weekday that schedules have made a day off around
    # a festival. Counting before an event treats it as a rest day, so the date is never later
    # than the schedule, once published, will give.
    maybe_rest: bool = False


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
        return _estimated_day(d)
    if working:
        return Day(d, True, False, "makeup" if weekend else "workday")
    if name:
        return Day(d, False, False, "holiday", str(name))
    return Day(d, False, False, "weekend" if weekend else "holiday")


# --- Years without a published schedule ----------------------------------------------------
#
# The State Council publishes each year's schedule late in the year before. For a year it has
# not published, the national holiday rules (全国年节及纪念日放假办法, as revised with effect from
# 2025) still fix the statutory days off: New Year's Day; the Spring Festival's eve and its first
# three days; Qingming; 1 and 2 May; the Dragon Boat and Mid-Autumn festivals; 1 to 3 October.
# The lunar and solar-term dates come from the ``holidays`` package. Weekends and these days are
# rest days, and the result stays marked estimated. What the schedule adds (bridge days, moved
# weekends) is not known yet: a weekday that past schedules gave off around a festival is a
# "maybe" rest day, counted as rest only when counting before an event (see Day.maybe_rest).

HOLIDAY_LAW_SINCE = 2025
FESTIVALS = {
    "spring": "Chinese New Year (Spring Festival)",
    "qingming": "Tomb-Sweeping Day",
    "dragon_boat": "Dragon Boat Festival",
    "mid_autumn": "Mid-Autumn Festival",
}


@lru_cache(maxsize=64)
def _festivals(year: int) -> dict[str, dt.date]:
    """The festivals' dates in ``year``; none beyond the years the package's lunar tables cover
    (2100), where only the solar-date holidays are known."""
    import holidays  # 50 ms to import: only processes that estimate a year pay for it

    found = holidays.China(years=year, language="en_US")
    dates = {
        key: [d for d, name in found.items() if label in name and "observed" not in name]
        for key, label in FESTIVALS.items()
    }
    return {key: min(days) for key, days in dates.items() if days}


def _days(start: dt.date, first: int, last: int) -> list[dt.date]:
    return [start + dt.timedelta(days=k) for k in range(first, last + 1)]


@lru_cache(maxsize=64)
def statutory_days(year: int) -> dict[dt.date, str]:
    """The days off the national holiday rules fix in ``year``, with their names."""
    f = _festivals(year)
    named = [
        ([dt.date(year, 1, 1)], "New Year's Day"),
        (_days(f["spring"], -1, 2) if "spring" in f else [], "Spring Festival"),
        ([f["qingming"]] if "qingming" in f else [], "Tomb-sweeping Day"),
        (_days(dt.date(year, 5, 1), 0, 1), "Labour Day"),
        ([f["dragon_boat"]] if "dragon_boat" in f else [], "Dragon Boat Festival"),
        ([f["mid_autumn"]] if "mid_autumn" in f else [], "Mid-autumn Festival"),
        (_days(dt.date(year, 10, 1), 0, 2), "National Day"),
    ]
    return {d: name for dates, name in named for d in dates}


@lru_cache(maxsize=64)
def maybe_rest_days(year: int) -> frozenset[dt.date]:
    """Every weekday the schedules of 2008-2026 gave off around the festivals, as windows: the
    Spring Festival from three days before to its seventh day, 29 April to 5 May, 29 September
    to 8 October, and two days either side of each one-day festival (a Tuesday festival makes
    the Monday a bridge day; a Saturday one gives the Monday off). Checked against every
    published year in tests/regulations/test_deadlines_edges.py."""
    f = _festivals(year)
    out = set(statutory_days(year)) | set(_days(f["spring"], -3, 7) if "spring" in f else [])
    out |= set(_days(dt.date(year, 5, 1), -2, 4)) | set(_days(dt.date(year, 10, 1), -2, 7))
    for day in (dt.date(year, 1, 1), f.get("qingming"), f.get("dragon_boat"), f.get("mid_autumn")):
        out |= set(_days(day, -2, 2)) if day else set()
    return frozenset(out)


def _estimated_day(d: dt.date) -> Day:
    weekend = d.weekday() >= 5
    if d.year < HOLIDAY_LAW_SINCE:  # before the bundled data: Monday to Friday
        return Day(d, not weekend, True, "weekend" if weekend else "workday")
    name = statutory_days(d.year).get(d, "")
    if name:
        return Day(d, False, True, "holiday", name)
    if weekend:
        return Day(d, False, True, "weekend")
    maybe = d in maybe_rest_days(d.year) or d in maybe_rest_days(d.year + 1)  # late December
    return Day(d, True, True, "workday", "possible day off" if maybe else "", maybe_rest=maybe)


DEFAULT_CALENDAR = WorkCalendar()


@dataclass
class DueDate:
    due_date: dt.date
    estimated: bool = False
    # How the date was found, as data ({"code": ..., params}); ``lines`` puts it into words.
    steps: list[dict] = field(default_factory=list)
    skipped_rest_days: list[dt.date] = field(default_factory=list)
    makeup_days_counted: list[dt.date] = field(default_factory=list)
    opens: dt.date | None = None  # first day of a window, when the rule is a window

    def lines(self, lang: str = "en", event_name: Callable[[str], str] | None = None) -> list[str]:
        return explain_steps(self.steps, lang, event_name)


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
    steps: list[dict] = [{"code": "start", "date": start.isoformat()}]

    def working(info: Day) -> bool:
        return info.working and not (direction is Direction.BEFORE and info.maybe_rest)

    if unit is Unit.WORKING_DAYS:
        d, counted = start, 0
        while counted < amount:
            d += step
            info = trace.day(d)
            if working(info):
                counted += 1
                if info.kind == "makeup":
                    trace.makeup.append(d)
            else:
                trace.skipped.append(info)
        steps.append(
            {
                "code": "counted",
                "amount": amount,
                "unit": unit.value,
                "direction": direction.value,
                "date": d.isoformat(),
            }
        )
    else:
        if unit is Unit.CALENDAR_DAYS:
            delta = relativedelta(days=amount)
        elif unit is Unit.MONTHS:
            delta = relativedelta(months=amount)
        else:
            delta = relativedelta(years=amount)
        nominal = start + delta if direction is Direction.AFTER else start - delta
        steps.append(
            {
                "code": "counted",
                "amount": amount,
                "unit": unit.value,
                "direction": direction.value,
                "date": nominal.isoformat(),
            }
        )
        if unit in (Unit.MONTHS, Unit.YEARS) and nominal.day != start.day:
            steps.append({"code": "month_end", "year": nominal.year, "month": nominal.month, "day": start.day})
        d = nominal
        while not working(info := trace.day(d)):
            trace.skipped.append(info)
            d += step
        if d != nominal:
            steps.append({"code": "rest_day_moved", "direction": direction.value, "date": d.isoformat()})

    if trace.skipped:
        steps.append({"code": "rest_days", "runs": _runs(trace.skipped)})
    if trace.makeup:
        steps.append({"code": "makeup_days", "dates": [m.isoformat() for m in sorted(trace.makeup)]})
    if trace.estimated_years:
        steps.append({"code": "estimated", "years": sorted(trace.estimated_years)})
    return DueDate(
        due_date=d,
        estimated=bool(trace.estimated_years),
        steps=steps,
        skipped_rest_days=sorted(x.date for x in trace.skipped),
        makeup_days_counted=sorted(trace.makeup),
    )


def _runs(days: Iterable[Day]) -> list[dict]:
    """Consecutive rest days as ranges with their holiday names (none for a plain weekend)."""
    runs: list[list[Day]] = []
    for day in sorted(days, key=lambda x: x.date):
        if runs and day.date - runs[-1][-1].date == ONE_DAY:
            runs[-1].append(day)
        else:
            runs.append([day])
    return [
        {
            "from": run[0].date.isoformat(),
            "to": run[-1].date.isoformat(),
            "names": sorted({d.name for d in run if d.name}),
        }
        for run in runs
    ]


# --- The steps in words -------------------------------------------------------------------------

# chinesecalendar names its holidays in English; an operator may record either language.
HOLIDAY_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
    "possible day off": "可能的调休放假日",
}
WEEKDAYS = (
    ("星期一", "Monday"),
    ("星期二", "Tuesday"),
    ("星期三", "Wednesday"),
    ("星期四", "Thursday"),
    ("星期五", "Friday"),
    ("星期六", "Saturday"),
    ("星期日", "Sunday"),
)
UNITS = {
    "calendar_days": ("{n}日", "{n} calendar days"),
    "working_days": ("{n}个工作日", "{n} working days"),
    "months": ("{n}个月", "{n} months"),
    "years": ("{n}年", "{n} years"),
}
FREQUENCIES = {"YEARLY": ("年", "year"), "MONTHLY": ("个月", "month"), "WEEKLY": ("周", "week"), "DAILY": ("日", "day")}
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _weekday(iso: str, zh: bool) -> str:
    return WEEKDAYS[dt.date.fromisoformat(iso).weekday()][0 if zh else 1]


def weekday_name(day: dt.date, lang: str) -> str:
    """星期四 / Thursday."""
    return WEEKDAYS[day.weekday()][0 if lang == "zh" else 1]


def _run_text(run: Mapping, zh: bool) -> str:
    names = [HOLIDAY_ZH.get(n, n) if zh else n for n in run["names"]]
    label = ("、" if zh else ", ").join(names) or ("周末" if zh else "weekend")
    span = run["from"] if run["from"] == run["to"] else f"{run['from']}{'至' if zh else ' to '}{run['to']}"
    return f"{span}（{label}）" if zh else f"{span} ({label})"


def schedule_text(text: str, lang: str) -> str:
    """A recurrence rule in words: FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1 is 每3个月，于当月最后一日
    / every 3 months, on the month's last day."""
    zh = lang == "zh"
    parts = dict(p.split("=", 1) for p in text.split(";") if "=" in p)
    unit_zh, unit_en = FREQUENCIES.get(parts.get("FREQ", ""), ("期", "period"))
    interval = int(parts.get("INTERVAL", "1"))
    if zh:
        out = f"每{interval if interval > 1 else ''}{unit_zh}"
    else:
        out = f"every {interval} {unit_en}s" if interval > 1 else f"every {unit_en}"
    month, day = parts.get("BYMONTH"), parts.get("BYMONTHDAY")
    if month:
        month_name = f"{month}月" if zh else MONTHS_EN[int(month) - 1]
        if day == "-1":
            return f"{out}{month_name}最后一日" if zh else f"{out} on the last day of {month_name}"
        if day:
            return f"{out}{month_name}{day}日" if zh else f"{out} on {day} {month_name}"
        return f"{out}{month_name}" if zh else f"{out} in {month_name}"
    if day == "-1":
        return f"{out}，于当月最后一日" if zh else f"{out}, on the month's last day"
    if day:
        return f"{out}，于当月{day}日" if zh else f"{out}, on day {day} of the month"
    return out


# Steps whose sentence is a template of the step's own fields ({date}, {start}, {words}...),
# with {schedule} (a recurrence in words) and {name} (an event's name) added.
STEP_TEMPLATES = {
    "start": (
        "{date}为起算日，当日不计入（民法典第二百零一条）。",
        "{date} is the start day and is not counted (Civil Code art. 201).",
    ),
    "fixed": ("文本规定的日期：{date}。", "Fixed date {date} as the text gives it."),
    "window": ("办理期间为{start}至{end}。", "Window from {start} to {end}."),
    "event": ("“{name}”的日期为{date}。", "“{name}” on {date}."),
    "period": ("周期为{schedule}。", "The schedule is {schedule}."),
    "next_period": (
        "周期为{schedule}；取{after}当日或之后的下一期。",
        "The schedule is {schedule}; this is the next period on or after {after}.",
    ),
    "period_end": ("周期为{schedule}；本期于{date}届满。", "The schedule is {schedule}; this period ends on {date}."),
    "last_fulfilment": ("上一期于{date}完成。", "The last period was fulfilled on {date}."),
    "last_confirmed": ("上次于{date}确认遵守。", "Last confirmed on {date}."),
    "confirmation_cycle": (
        "禁止性规定始终有效；本系统在每次确认遵守后一年再请您确认（这是本系统的复核周期，并非文本规定的期限）。",
        "A prohibition holds at all times; the tracker asks for a confirmation a year after each one "
        "(its review cycle, not a date from the text).",
    ),
    "on_event_day": (
        "文本要求“{words}”，按事件当日{date}计（解读：文本未规定期间）。",
        "The text says “{words}”: due on the day of the event, {date} (a reading: the text sets no period).",
    ),
    "before_event_day": (
        "文本要求“{words}”，须在事件之前办理，即不晚于{date}（解读）。",
        "The text says “{words}”: before the event, so by {date} (a reading of the text).",
    ),
}


def step_text(step: Mapping, lang: str, event_name: Callable[[str], str] | None = None) -> str:
    """One step of a due-date computation as a sentence in ``lang`` ("zh" or "en")."""
    zh = lang == "zh"
    code = step["code"]
    if code in STEP_TEMPLATES:
        values = dict(step)
        if "rrule" in step:
            values["schedule"] = schedule_text(step["rrule"], lang)
        if "event" in step:
            values["name"] = event_name(step["event"]) if event_name else step["event"]
        return STEP_TEMPLATES[code][0 if zh else 1].format(**values)
    if code == "counted":
        amount = UNITS[step["unit"]][0 if zh else 1].format(n=step["amount"])
        after = step["direction"] == "after"
        if zh:
            return f"{'向后' if after else '向前'}计算{amount}，为{step['date']}。"
        if step["unit"] == "working_days":
            return f"Counting {amount} {'after' if after else 'before'} it ends on {step['date']}."
        return f"{amount} {'after' if after else 'before'} it is {step['date']}."
    if code == "keep_until":
        amount = UNITS[step["unit"]][0 if zh else 1].format(n=step["amount"])
        if zh:
            return f"自该日起保存不少于{amount}，即至少保存至{step['date']}。"
        return f"Kept for at least {amount} from then: until {step['date']} at the earliest."
    if code == "month_end":
        if zh:
            return (
                f"{step['year']}年{step['month']}月没有{step['day']}日，"
                "以该月最后一日为期间的最后一日（民法典第二百零二条）。"
            )
        return (
            f"{step['year']}-{step['month']:02d} has no day {step['day']}; "
            "the period ends on the month's last day (Civil Code art. 202)."
        )
    if code == "rest_day_moved":
        if step["direction"] == "after":
            if zh:
                return f"该日为休息日，期间顺延至其后的第一个工作日{step['date']}（民法典第二百零三条）。"
            return f"That is a rest day; the period ends on the next working day, {step['date']} (art. 203)."
        if zh:
            return f"该日为休息日；须在事件之前办理，因此提前至{step['date']}。"
        return f"That is a rest day; acting before the event means moving earlier, to {step['date']}."
    if code == "rest_days":
        runs = [_run_text(run, zh) for run in step["runs"]]
        return f"跳过的休息日：{'；'.join(runs)}。" if zh else f"Rest days skipped: {'; '.join(runs)}."
    if code == "makeup_days":
        days = [f"{d}（{_weekday(d, zh)}）" if zh else f"{d} ({_weekday(d, zh)})" for d in step["dates"]]
        return f"计入的调休工作日：{'、'.join(days)}。" if zh else f"Make-up working days counted: {', '.join(days)}."
    if code == "estimated":
        years = ("、" if zh else ", ").join(map(str, step["years"]))
        if min(step["years"]) < HOLIDAY_LAW_SINCE:
            if zh:
                return f"{years}年的放假安排不在数据之内，暂按周一至周五为工作日计算，该日期为估计值。"
            return f"No holiday schedule covers {years}: Monday to Friday were assumed, so the date is an estimate."
        if zh:
            return (
                f"{years}年的放假安排尚未公布：暂将周末和法定节假日计为休息日"
                "（在事件之前办理的，往年在节日前后放假的日子也计为休息日），该日期为估计值。"
            )
        return (
            f"No published holiday schedule covers {years} yet: weekends and the statutory holidays were counted as "
            "rest days (and, counting before an event, the days around them past schedules gave off), so the date "
            "is an estimate."
        )
    raise ValueError(f"unknown step {code!r}")


def explain_steps(steps: Iterable[Mapping], lang: str, event_name: Callable[[str], str] | None = None) -> list[str]:
    return [step_text(step, lang, event_name) for step in steps]


# --- Catalogue deadline rules -------------------------------------------------------------


# Deadline kinds that can give a date; rule_due gives every other kind (ongoing, qualitative)
# the same undated outcome whatever the events and the date.
DATED_KINDS = frozenset({"fixed", "window", "after_event", "before_event", "recurring"})


def may_have_a_date(rule: Mapping) -> bool:
    """Whether a rule can give a date for some events and day: the dated kinds, and timing
    words tied to an event that fix a day (立即 after an incident)."""
    words = rule.get("text_zh")
    if "keep" in rule:  # a retention period gives a keep-until date once its event is known
        return True
    return rule["kind"] in DATED_KINDS or (bool(rule.get("event")) and (words in ON_THE_DAY or words in BEFORE))


@dataclass
class RuleOutcome:
    """What a catalogue deadline rule gives for one organization: a due date, or why not."""

    due: DueDate | None
    reason: str = ""  # when due is None: "qualitative", "ongoing", "needs_event:<key>", "no_more"
    interpretation: str = ""
    # For a retention period: the earliest day the records may go. Never a due date: nothing
    # is to be done by then, and nothing is reminded.
    keep: DueDate | None = None


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
        return RuleOutcome(DueDate(d, steps=[{"code": "fixed", "date": d.isoformat()}]), interpretation=note)
    if kind == "window":
        start, end = dt.date.fromisoformat(rule["start"]), dt.date.fromisoformat(rule["end"])
        return RuleOutcome(
            DueDate(end, opens=start, steps=[{"code": "window", "start": start.isoformat(), "end": end.isoformat()}]),
            interpretation=note,
        )
    if kind in ("after_event", "before_event"):
        event_date = events.get(rule["event"])
        if event_date is None:
            return RuleOutcome(None, f"needs_event:{rule['event']}", note)
        direction = Direction.AFTER if kind == "after_event" else Direction.BEFORE
        due = compute(event_date, rule["amount"], rule["unit"], direction, calendar)
        due.steps.insert(0, {"code": "event", "event": rule["event"], "date": event_date.isoformat()})
        return RuleOutcome(due, interpretation=note)
    if kind == "recurring":
        if rule["anchor"] == "schedule":
            return _scheduled(rule, as_of or dt.date.today(), note)
        return _series(rule, events, anchor_date, calendar, note)
    if kind == "qualitative" and rule.get("event") in events:
        return _qualitative(rule, events[rule["event"]], note)
    if "keep" in rule and rule["keep"]["event"] in events:
        return RuleOutcome(None, kind, note, keep=keep_until(rule["keep"], events[rule["keep"]["event"]]))
    return RuleOutcome(None, kind, note)


def keep_until(keep: Mapping, event_date: dt.date) -> DueDate:
    """The end of a retention period (保存不少于二十年): the period's last day, counted like any
    period (the event's day not counted), but not moved off a rest day: art. 203 gives more
    time to act, and keeping records a day longer is what any reading of the text allows."""
    unit = Unit(keep["unit"])
    amount = keep["amount"]
    delta = {
        Unit.CALENDAR_DAYS: relativedelta(days=amount),
        Unit.MONTHS: relativedelta(months=amount),
        Unit.YEARS: relativedelta(years=amount),
    }[unit]
    end = event_date + delta
    steps = [
        {"code": "event", "event": keep["event"], "date": event_date.isoformat()},
        {"code": "keep_until", "amount": amount, "unit": unit.value, "date": end.isoformat()},
    ]
    return DueDate(end, steps=steps)


# Timing words that fix a day relative to the event they follow (marked as an interpretation:
# the text gives no period). 立即 and 第一时间 ("at once") after an incident and 在申报时 ("when
# applying") fall on the event's day; the "before" words fall on the day before the event,
# which the organization reports as planned (先备案后开展业务: filed before the launch).
ON_THE_DAY = frozenset({"立即", "第一时间", "在申报时"})
BEFORE = frozenset(
    {
        "在科技活动开展前",
        "在开展科技活动前",
        "立项前",
        "先履行备案手续后再开展业务",
        "培训通过后方可开通授权运营平台使用权限",
        "通过考核后方可开通运营域相关权限",
        "开发上线",
    }
)


def _qualitative(rule: Mapping, event_date: dt.date, note: str) -> RuleOutcome:
    words = rule["text_zh"]
    steps = [{"code": "event", "event": rule["event"], "date": event_date.isoformat()}]
    if words in ON_THE_DAY:
        steps.append({"code": "on_event_day", "words": words, "date": event_date.isoformat()})
        return RuleOutcome(DueDate(event_date, steps=steps), interpretation=note)
    if words in BEFORE:
        day_before = event_date - ONE_DAY
        steps.append({"code": "before_event_day", "words": words, "date": day_before.isoformat()})
        return RuleOutcome(DueDate(day_before, steps=steps), interpretation=note)
    return RuleOutcome(None, "qualitative", note)  # 及时, 定期: no day, though the event is known


def _scheduled(rule: Mapping, after: dt.date, note: str) -> RuleOutcome:
    """A series on the calendar (每年12月31日前): the dates the text fixes, never moved."""
    start = dt.date.fromisoformat(rule["dtstart"]) if rule.get("dtstart") else None
    upcoming = next(iter(occurrences(rule, start=start, after=after, count=1)), None)
    if upcoming is None:
        return RuleOutcome(None, "no_more", note)
    steps = [{"code": "next_period", "rrule": rule["rrule"], "after": after.isoformat()}]
    return RuleOutcome(DueDate(upcoming, steps=steps), interpretation=note)


def _series(
    rule: Mapping, events: Mapping[str, dt.date], anchor_date: dt.date | None, calendar: WorkCalendar, note: str
) -> RuleOutcome:
    """A series that runs from the organization's own dates: one period after the last
    fulfilment (its completion or its evidence date) or, before the first, after the event
    that started the series (an authorization granted). Each due date is a period's end, so
    one falling on a rest day runs to the next working day (Civil Code art. 203)."""
    if anchor_date is not None:
        code = "last_confirmed" if rule.get("confirmation") else "last_fulfilment"
        base, first = anchor_date, {"code": code, "date": anchor_date.isoformat()}
    elif rule.get("event") in events:
        base = events[rule["event"]]
        first = {"code": "event", "event": rule["event"], "date": base.isoformat()}
    elif rule.get("event"):
        return RuleOutcome(None, f"needs_event:{rule['event']}", note)
    else:
        return RuleOutcome(
            None, "awaiting_confirmation" if rule.get("confirmation") else "awaiting_first_completion", note
        )
    end = next(iter(occurrences(rule, start=base, after=base + ONE_DAY, count=1)), None)
    if end is None:
        return RuleOutcome(None, "no_more", note)
    trace, d = _Trace(calendar), end
    while not (info := trace.day(d)).working:
        trace.skipped.append(info)
        d += ONE_DAY
    steps = [first, {"code": "period_end", "rrule": rule["rrule"], "date": end.isoformat()}]
    if rule.get("confirmation"):
        steps.insert(0, {"code": "confirmation_cycle"})
    if d != end:
        steps += [
            {"code": "rest_day_moved", "direction": "after", "date": d.isoformat()},
            {"code": "rest_days", "runs": _runs(trace.skipped)},
        ]
    if trace.estimated_years:
        steps.append({"code": "estimated", "years": sorted(trace.estimated_years)})
    due = DueDate(
        d, estimated=bool(trace.estimated_years), steps=steps, skipped_rest_days=[x.date for x in trace.skipped]
    )
    return RuleOutcome(due, interpretation=note)


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
