"""The dashboard's charts: progress by group and status, duties falling due by week, and duties
done at the end of each week read back from the history."""

import datetime as dt
import re

import pytest
from django.test import Client

from obligations import charts
from obligations.models import ChecklistItem
from tests.factories import SHANGHAI_APP

from .conftest import SHANGHAI, at, patch_item, report_event

pytestmark = pytest.mark.django_db


def duties(organization):
    return ChecklistItem.objects.filter(organization=organization).current().duties()


def test_done_by_week_follows_the_history_and_ends_at_todays_count(time_machine, alice, as_alice, make_organization):
    time_machine.move_to(at(2025, 3, 3), tick=False)  # a Monday
    shanghai = make_organization(alice, "Shanghai", profile=SHANGHAI_APP)
    first, second = duties(shanghai).filter(applicability="applies")[:2]
    time_machine.move_to(at(2025, 3, 11), tick=False)  # week 2
    assert patch_item(as_alice, first, {"status": "done"}).status_code == 200
    time_machine.move_to(at(2025, 3, 25), tick=False)  # week 4
    assert patch_item(as_alice, second, {"status": "done"}).status_code == 200
    time_machine.move_to(at(2025, 4, 2), tick=False)  # week 5: the first is reopened
    assert patch_item(as_alice, first, {"status": "in_progress"}).status_code == 200
    time_machine.move_to(at(2025, 4, 9), tick=False)  # week 6, today

    weeks = charts.done_by_week(duties(shanghai), dt.date(2025, 4, 9), SHANGHAI)

    assert len(weeks) == charts.WEEKS_BACK and weeks[-1].start == dt.date(2025, 4, 7)
    assert all(w.start.weekday() == 0 and w.end - w.start == dt.timedelta(days=6) for w in weeks)
    counts = {w.start: w.count for w in weeks}
    assert [counts[dt.date(2025, 3, d)] for d in (3, 10, 17, 24, 31)] == [0, 1, 1, 2, 1]
    assert weeks[-1].count == duties(shanghai).filter(status="done").count() == 1
    assert max(w.height for w in weeks) == 100 and weeks[0].height == 0


def test_due_by_week_counts_the_duties_still_to_do_in_each_of_the_next_weeks(
    time_machine, alice, as_alice, make_organization
):
    time_machine.move_to(at(2025, 1, 10), tick=False)
    shanghai = make_organization(alice, "Shanghai", profile=SHANGHAI_APP)
    report_event(as_alice, shanghai, "service_launched", "2025-01-10")
    today = dt.date(2025, 1, 10)

    weeks = charts.due_by_week(duties(shanghai), today)

    assert len(weeks) == charts.WEEKS_AHEAD and weeks[0].start == today
    for week in weeks:
        due = duties(shanghai).actionable().filter(due_date__gte=week.start, due_date__lte=week.end)
        assert week.count == due.count()
    assert sum(w.count for w in weeks) > 0


def test_progress_bars_split_each_group_by_status(alice, as_alice, make_organization):
    shanghai = make_organization(alice, "Shanghai", profile=SHANGHAI_APP)
    item = duties(shanghai).filter(applicability="applies").first()
    assert patch_item(as_alice, item, {"status": "done"}).status_code == 200

    bars = charts.progress(duties(shanghai), "obligation__phase__key", ("obligation__phase__name_zh",))

    for bar in bars:
        phase = duties(shanghai).filter(obligation__phase__key=bar.key)
        assert bar.total == phase.count() == sum(s.count for s in bar.segments)
        assert [s.status for s in bar.segments] == [s for s in charts.STATUSES if phase.filter(status=s).exists()]
    assert bars[0].total == max(b.total for b in bars)
    assert sum(s.width for s in bars[0].segments) == pytest.approx(100)  # the longest fills the width
    assert sum(b.done for b in bars) == 1
    assert all(re.search(r"[\u4e00-\u9fff]", b.label) for b in bars)  # the phase's name, not its key


def test_dashboard_draws_the_charts_in_the_readers_language(alice, make_organization):
    shanghai = make_organization(alice, "Shanghai", profile=SHANGHAI_APP)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(alice)
    page = client.get(f"/organizations/{shanghai.pk}/").content.decode()
    for chart in ("chart-phase", "chart-instrument", "chart-due", "chart-done"):
        assert f'id="{chart}"' in page
    assert "按阶段的进度" in page and "未来 90 天内到期的事项（按周）" in page
    assert page.count('<rect class="seg-open"') >= 2
