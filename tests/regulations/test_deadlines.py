import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regulations.deadlines import WorkCalendar, YearSchedule, compute, occurrences, rule_due

D = dt.date


@pytest.mark.parametrize(
    ("start", "amount", "unit", "direction", "due"),
    [
        # The checks DOMAIN.md gives, and the issue's.
        (D(2023, 9, 20), 20, "working_days", "after", D(2023, 10, 24)),
        (D(2025, 1, 20), 10, "working_days", "after", D(2025, 2, 8)),  # a make-up Saturday
        (D(2024, 8, 31), 6, "months", "after", D(2025, 2, 28)),
        (D(2024, 9, 21), 10, "calendar_days", "after", D(2024, 10, 8)),  # 10-01..10-07 rest
        # Months and years: corresponding day, else the month's last day.
        (D(2024, 1, 31), 1, "months", "after", D(2024, 2, 29)),
        (D(2023, 1, 31), 1, "months", "after", D(2023, 2, 28)),
        (D(2024, 2, 29), 1, "years", "after", D(2025, 2, 28)),
        (D(2023, 3, 15), 1, "years", "after", D(2024, 3, 15)),
        # A period ending on a weekend moves to Monday.
        (D(2024, 3, 1), 8, "calendar_days", "after", D(2024, 3, 11)),
        # Ending on a make-up working day is not extended: it is a working day.
        (D(2024, 10, 2), 10, "calendar_days", "after", D(2024, 10, 12)),
        # Before an event: rest days move earlier, never later.
        (D(2024, 10, 31), 1, "months", "before", D(2024, 9, 30)),
        (D(2025, 1, 5), 3, "months", "before", D(2024, 9, 30)),  # 10-05 back through Golden Week
        (D(2023, 10, 9), 2, "working_days", "before", D(2023, 10, 7)),  # 10-08 and 10-07 are make-up days
        (D(2025, 5, 31), 3, "months", "before", D(2025, 2, 28)),
        (D(2024, 6, 3), 0, "calendar_days", "after", D(2024, 6, 3)),
    ],
)
def test_compute_table(start, amount, unit, direction, due):
    result = compute(start, amount, unit, direction)
    assert result.due_date == due
    assert result.estimated is False


def test_compute_explains_rest_days_and_makeup_days():
    result = compute(D(2025, 1, 20), 10, "working_days")
    assert result.skipped_rest_days == [
        D(2025, 1, 25), D(2025, 1, 28), D(2025, 1, 29), D(2025, 1, 30), D(2025, 1, 31),
        D(2025, 2, 1), D(2025, 2, 2), D(2025, 2, 3), D(2025, 2, 4),
    ]  # fmt: skip
    assert result.makeup_days_counted == [D(2025, 1, 26), D(2025, 2, 8)]
    assert "2025-01-28 to 2025-02-04 (Spring Festival)" in result.lines()[2]


def test_compute_beyond_published_years_is_estimated_from_the_statutory_holidays():
    result = compute(D(2026, 12, 28), 5, "working_days")
    # 12-29, 12-30, 12-31 (2026 data), then New Year's Day and the weekend, then 01-04 and 01-05.
    assert result.due_date == D(2027, 1, 5)
    assert result.estimated is True
    assert "2027" in result.lines()[-1]


def test_recorded_schedule_takes_precedence_over_fallback():
    schedule = YearSchedule(
        year=2027,
        holidays={D(2027, 1, 1): "New Year's Day"},
        makeup_workdays=frozenset({D(2027, 1, 2)}),
    )
    calendar = WorkCalendar({2027: schedule})
    result = compute(D(2026, 12, 30), 2, "working_days", calendar=calendar)
    assert result.due_date == D(2027, 1, 2)  # 12-31, then 01-01 holiday, 01-02 make-up Saturday
    assert result.estimated is False
    assert result.makeup_days_counted == [D(2027, 1, 2)]


def test_compute_rejects_negative_amounts():
    with pytest.raises(ValueError):
        compute(D(2024, 1, 1), -1, "calendar_days")


def test_rule_due_after_event_needs_the_event():
    rule = {"kind": "after_event", "event": "service_launched", "amount": 10, "unit": "working_days"}
    assert rule_due(rule).reason == "needs_event:service_launched"
    outcome = rule_due(rule, events={"service_launched": D(2023, 9, 20)})
    assert outcome.due.due_date == D(2023, 10, 10)  # 10-07 and 10-08 are make-up days
    assert outcome.due.lines()[0] == "“service_launched” on 2023-09-20."


def test_rule_due_window_fixed_and_qualitative():
    window = rule_due({"kind": "window", "start": "2023-09-01", "end": "2024-03-31"}).due
    assert (window.opens, window.due_date) == (D(2023, 9, 1), D(2024, 3, 31))
    # A fixed date from the text is not a period: a Sunday stays a Sunday.
    assert rule_due({"kind": "fixed", "date": "2023-12-31"}).due.due_date == D(2023, 12, 31)
    assert rule_due({"kind": "qualitative", "text_zh": "及时"}).reason == "qualitative"
    assert rule_due({"kind": "ongoing"}).due is None


def test_recurring_quarter_ends_and_anchor_on_completion():
    quarterly = {
        "kind": "recurring",
        "rrule": "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1",
        "anchor": "schedule",
        "dtstart": "2024-03-31",
    }
    assert occurrences(quarterly, start=D(2024, 3, 31), after=D(2024, 4, 1), count=3) == [
        D(2024, 6, 30), D(2024, 9, 30), D(2024, 12, 31),
    ]  # fmt: skip
    yearly = {"kind": "recurring", "rrule": "FREQ=YEARLY", "anchor": "last_completion"}
    # A year after the last completion is Saturday 10 May 2025: the period runs to Monday (art. 203).
    assert rule_due(yearly, anchor_date=D(2024, 5, 10), as_of=D(2024, 6, 1)).due.due_date == D(2025, 5, 12)


dates = st.dates(min_value=D(2004, 1, 1), max_value=D(2026, 11, 30))


@settings(max_examples=300, deadline=None)
@given(start=dates, amount=st.integers(min_value=1, max_value=60))
def test_working_day_results_are_working_days_after_start(start, amount):
    result = compute(start, amount, "working_days")
    assert WorkCalendar().is_working(result.due_date)
    assert result.due_date > start


@settings(max_examples=200, deadline=None)
@given(
    start=dates,
    amount=st.integers(min_value=1, max_value=40),
    unit=st.sampled_from(["working_days", "calendar_days", "months"]),
)
def test_periods_are_monotone_in_amount(start, amount, unit):
    assert compute(start, amount, unit).due_date <= compute(start, amount + 1, unit).due_date


@settings(max_examples=200, deadline=None)
@given(
    start=dates,
    amount=st.integers(min_value=1, max_value=24),
    unit=st.sampled_from(["working_days", "calendar_days", "months", "years"]),
)
def test_before_event_is_never_after_the_nominal_date_and_is_a_working_day(start, amount, unit):
    result = compute(start, amount, unit, "before")
    assert result.due_date < start
    assert WorkCalendar().is_working(result.due_date)


@pytest.mark.parametrize(
    "event, amount, unit, keep",
    [
        # 保存期限不得少于20年: the period's last day is the corresponding day, even a Sunday.
        (D(2025, 3, 15), 20, "years", D(2045, 3, 15)),
        (D(2024, 2, 29), 20, "years", D(2044, 2, 29)),
        (D(2023, 2, 28), 1, "years", D(2024, 2, 28)),
        # 留存…不少于6个月 after an operator exits on a month's last day: art. 202's month end.
        (D(2026, 8, 31), 6, "months", D(2027, 2, 28)),
        (D(2026, 9, 30), 6, "months", D(2027, 3, 30)),
        (D(2026, 9, 28), 180, "calendar_days", D(2027, 3, 27)),
    ],
)
def test_retention_gives_a_keep_until_date_and_never_a_due_date(event, amount, unit, keep):
    rule = {"kind": "ongoing", "keep": {"amount": amount, "unit": unit, "event": "transaction_completed"}}
    assert rule_due(rule).keep is None  # the event not reported: nothing to count from
    outcome = rule_due(rule, events={"transaction_completed": event})
    assert outcome.due is None and outcome.reason == "ongoing"
    assert outcome.keep.due_date == keep
    assert outcome.keep.steps[-1] == {"code": "keep_until", "amount": amount, "unit": unit, "date": keep.isoformat()}


def test_keep_until_in_words_in_both_languages():
    rule = {"kind": "ongoing", "keep": {"amount": 20, "unit": "years", "event": "transaction_completed"}}
    keep = rule_due(rule, events={"transaction_completed": D(2025, 3, 15)}).keep
    names = {"transaction_completed": ("交易完成", "Transaction completed")}
    assert keep.lines("zh", lambda key: names[key][0]) == [
        "“交易完成”的日期为2025-03-15。",
        "自该日起保存不少于20年，即至少保存至2045-03-15。",
    ]
    assert keep.lines("en", lambda key: names[key][1])[1] == (
        "Kept for at least 20 years from then: until 2045-03-15 at the earliest."
    )
