"""The dashboard's charts, worked out here and drawn by the template as SVG: progress by
instrument and by phase, what falls due in the next 90 days by week, and how many duties were
done at the end of each recent week, read from the items' history. No chart library and no
script: shapes are rectangles sized in percent, and every label is HTML text, so that the
charts stay legible on a phone and a screen reader reads the numbers."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count

from .models import ChecklistItem, ItemHistory

# The order segments are stacked in, from left: what is settled, then what is left.
STATUSES = [
    ChecklistItem.Status.DONE,
    ChecklistItem.Status.NOT_APPLICABLE,
    ChecklistItem.Status.IN_PROGRESS,
    ChecklistItem.Status.OPEN,
]
WEEKS_AHEAD = 13  # 90 days and a little more, in whole weeks
WEEKS_BACK = 12


@dataclass
class Segment:
    status: str
    label: str
    count: int
    x: float = 0.0  # percent of the bar
    width: float = 0.0


@dataclass
class Bar:
    label: str
    total: int
    segments: list[Segment] = field(default_factory=list)
    key: str = ""  # the filter value the bar links to

    @property
    def done(self) -> int:
        return sum(s.count for s in self.segments if s.status == ChecklistItem.Status.DONE)


def progress(items, group: str, names: tuple[str, ...]) -> list[Bar]:
    """Bars of ``items`` grouped by ``group`` (a field path), each split by status and named by
    the first of the ``names`` fields that is filled in; the largest group first."""
    rows = items.values(group, *names, "status").annotate(n=Count("id")).order_by()
    bars: dict[str, Bar] = {}
    for row in rows:
        label = next((row[name] for name in names if row[name]), row[group])
        bar = bars.setdefault(row[group], Bar(label=label, total=0, key=row[group]))
        bar.total += row["n"]
        bar.segments.append(Segment(row["status"], str(ChecklistItem.Status(row["status"]).label), row["n"]))
    longest = max((b.total for b in bars.values()), default=1)
    for bar in bars.values():  # each bar as long as its total, relative to the longest
        bar.segments.sort(key=lambda s: STATUSES.index(ChecklistItem.Status(s.status)))
        x = 0.0
        for segment in bar.segments:
            segment.x, segment.width = x, 100 * segment.count / longest
            x += segment.width
    return sorted(bars.values(), key=lambda b: (-b.total, b.label))


@dataclass
class Week:
    start: dt.date
    count: int
    height: float = 0.0  # percent of the highest week
    x: float = 0.0  # where its column starts, in percent of the chart
    width: float = 0.0

    @property
    def y(self) -> float:  # SVG counts down from the top
        return 100 - self.height

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)


def _scaled(weeks: list[Week]) -> list[Week]:
    highest = max((w.count for w in weeks), default=0) or 1
    column = 100 / len(weeks)
    for n, week in enumerate(weeks):
        week.height = 100 * week.count / highest
        week.x, week.width = n * column + column * 0.1, column * 0.8
    return weeks


def due_by_week(items, today: dt.date) -> list[Week]:
    """Duties still to do that fall due in each of the next weeks, the first starting today."""
    last = today + dt.timedelta(days=7 * WEEKS_AHEAD - 1)
    dates = items.actionable().filter(due_date__gte=today, due_date__lte=last).values_list("due_date", flat=True)
    counted = Counter((date - today).days // 7 for date in dates)
    return _scaled([Week(today + dt.timedelta(days=7 * n), counted[n]) for n in range(WEEKS_AHEAD)])


def done_by_week(items, today: dt.date, zone: dt.tzinfo) -> list[Week]:
    """How many of the duties were done at the end of each of the last weeks (this week last),
    from the history's status changes: each change to done adds one, each change away from
    done takes one away, so the last week ends at today's count."""
    first = today - dt.timedelta(days=7 * (WEEKS_BACK - 1) + today.weekday())  # a Monday
    changes = (
        ItemHistory.objects.filter(item__in=items, changes__has_key="status").order_by().values_list("at", "changes")
    )
    before, per_week = 0, defaultdict[int, int](int)
    for at, change in changes:
        step = (change["status"].get("to") == "done") - (change["status"].get("from") == "done")
        week = (at.astimezone(zone).date() - first).days // 7
        if week < 0:
            before += step
        else:
            per_week[week] += step
    weeks, running = [], before
    for n in range(WEEKS_BACK):
        running += per_week[n]
        weeks.append(Week(first + dt.timedelta(days=7 * n), running))
    return _scaled(weeks)
