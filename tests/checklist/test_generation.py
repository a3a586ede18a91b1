"""What the checklist holds for a profile: one item per obligation that applies or needs
review, one per reported event for event deadlines, one per period for recurring duties."""

import datetime as dt

import pytest

from obligations.models import ChecklistItem, ItemHistory
from obligations.services.checklist import HORIZON, LOOKBACK, checklist_plan
from obligations.wording import cause_text

from .conftest import (
    EXISTING_APP,
    FILING,
    NANCHANG_SOE,
    at,
    history_actions,
    item_for,
    item_url,
    refs,
    report_event,
    url,
)

pytestmark = pytest.mark.django_db

QUARTERLY = "nc-chief-data-officer-plan-2023:quarterly-meeting-soe"


def live(organization):
    return ChecklistItem.objects.filter(organization=organization, superseded_at__isnull=True)


def test_one_item_per_obligation_that_applies_or_needs_review(shanghai, as_alice):
    answer = as_alice.get(url(shanghai, "applicability/")).json()
    applies = sorted(o["obligation"] for o in answer["applies"])
    review = sorted(o["obligation"] for o in answer["needs_review"])
    assert applies and review
    # None of these is recurring, so each is exactly one item (event duties: one placeholder).
    kinds = {o["deadline"]["kind"] for o in answer["applies"] + answer["needs_review"]}
    assert "recurring" not in kinds

    items = list(live(shanghai).select_related("obligation__instrument"))
    assert len(items) == len(applies) + len(review)
    assert refs(items) == sorted(applies + review)
    assert {i.occurrence for i in items} == {""}
    assert refs(i for i in items if i.applicability == "needs_review") == review
    assert refs(i for i in items if i.applicability == "applies") == applies

    # The checklist lists the duties; the decision an APP filing awaits is an expectation.
    listed = as_alice.get(url(shanghai, "checklist/"), {"page_size": 200}).json()
    assert listed["count"] == len([i for i in items if i.track == "duty"])
    assert {i.obligation.key for i in items if i.track == "expectation"} == {"regulator-filing-decision"}

    plan = checklist_plan(shanghai)  # in step: nothing left to do
    assert plan.summary() | {"as_of": None} == {
        "organization": shanghai.pk,
        "as_of": None,
        "added": 0,
        "superseded": 0,
        "restored": 0,
        "redated": 0,
        "reclassified": 0,
    }


def test_needs_review_items_say_what_they_wait_for(shanghai, as_alice):
    response = as_alice.get(url(shanghai, "checklist/"), {"applicability": "needs_review"})
    results = response.json()["results"]
    assert results
    for entry in results:
        assert entry["applicability"] == "needs_review"
        assert entry["waiting_for"], entry["obligation"]
        assert all(set(w) == {"kind", "key"} for w in entry["waiting_for"])
    existing = next(r for r in results if r["obligation"] == EXISTING_APP)
    assert existing["waiting_for"] == [{"kind": "event", "key": "service_launched"}]
    assert all(not i.waiting_for for i in live(shanghai).filter(applicability="applies"))


def test_reporting_the_launch_creates_the_filing_item_and_supersedes_the_placeholder(shanghai, as_alice):
    placeholder = item_for(shanghai, FILING, "")
    assert placeholder.due_date is None
    assert placeholder.due_basis["pending"] == "needs_event:service_launched"

    event_id = report_event(as_alice, shanghai, "service_launched", "2025-01-20")

    item = item_for(shanghai, FILING, f"event:{event_id}")
    assert item.event_id == event_id
    assert item.superseded_at is None
    # 10 working days: the Spring Festival (28 Jan to 4 Feb) is skipped and the make-up working
    # days 26 Jan (Sunday) and 8 Feb (Saturday) count.
    assert item.due_date == dt.date(2025, 2, 8)
    assert item.due_basis["start"] == "2025-01-20"
    assert history_actions(item) == ["created"]

    placeholder.refresh_from_db()
    assert placeholder.superseded_at is not None
    assert placeholder.superseded_reason == {"code": "event_tracked"}
    assert history_actions(placeholder) == ["created", "superseded"]
    # The placeholder is kept (not deleted) and only one live item remains for the obligation.
    assert live(shanghai).filter(obligation=item.obligation).count() == 1
    # Launched after 2023-08-08: the obligation for APPs already running then no longer applies.
    existing = item_for(shanghai, EXISTING_APP)
    assert existing.superseded_at is not None
    assert existing.superseded_reason["code"] == "not_applicable"


def test_item_detail_explains_the_obligation_and_the_due_date(shanghai, as_alice):
    event_id = report_event(as_alice, shanghai, "service_launched", "2025-01-20")
    item = item_for(shanghai, FILING, f"event:{event_id}")

    response = as_alice.get(item_url(item))

    assert response.status_code == 200
    data = response.json()
    assert data["obligation"] == FILING
    assert data["occurrence"] == f"event:{event_id}"
    assert data["due_date"] == "2025-02-08"
    assert "深度合成服务提供者" in data["quote_zh"]
    assert data["quote_zh"] == item.obligation.quote_zh
    assert data["provision_text"] == item.obligation.provision.text
    assert data["provision_text"].startswith("第十九条")
    tests = {r["test"]: r for r in data["reasons"]}
    assert set(tests) == {"status", "jurisdiction", "roles", "conditions"}
    assert all(r["result"] is True for r in data["reasons"])
    # Reasons are put into words in the reader's language, from the vocabulary's names.
    assert tests["jurisdiction"]["text"] == (
        "Registered in Lingang Special Area of the Shanghai FTZ, which is within People's Republic of China."
    )
    in_chinese = {
        r["test"]: r["text"] for r in as_alice.get(item_url(item), HTTP_ACCEPT_LANGUAGE="zh").json()["reasons"]
    }
    assert in_chinese["roles"] == "组织承担深度合成服务提供者角色。"
    assert "registered_in" not in " ".join(in_chinese.values()) + tests["conditions"]["text"]
    basis = data["due_basis"]
    assert basis["rule"]["kind"] == "after_event"
    assert basis["estimated"] is False
    assert data["due_explanation"] == [
        "“Service launched” on 2025-01-20.",
        "2025-01-20 is the start day and is not counted (Civil Code art. 201).",
        "Counting 10 working days after it ends on 2025-02-08.",
        "Rest days skipped: 2025-01-25 (weekend); 2025-01-28 to 2025-02-04 (Spring Festival).",
        "Make-up working days counted: 2025-01-26 (Sunday), 2025-02-08 (Saturday).",
    ]
    chinese = as_alice.get(item_url(item), HTTP_ACCEPT_LANGUAGE="zh").json()["due_explanation"]
    assert chinese == [
        "“服务上线”的日期为2025-01-20。",
        "2025-01-20为起算日，当日不计入（民法典第二百零一条）。",
        "向后计算10个工作日，为2025-02-08。",
        "跳过的休息日：2025-01-25（周末）；2025-01-28至2025-02-04（春节）。",
        "计入的调休工作日：2025-01-26（星期日）、2025-02-08（星期六）。",
    ]
    assert response["ETag"] == f'"{item.pk}-{item.version}"'


def test_recurring_schedule_gives_one_item_per_period_within_the_window(
    make_user, make_organization, client_for, time_machine
):
    time_machine.move_to(at(2025, 6, 15), tick=False)
    admin = make_user("nanchang-admin")
    organization = make_organization(admin, "Nanchang", profile=NANCHANG_SOE)

    periods = ChecklistItem.objects.filter(organization=organization, obligation__key="quarterly-meeting-soe").order_by(
        "due_date"
    )
    today = dt.date(2025, 6, 15)
    expected = [dt.date(2025, 6, 30), dt.date(2025, 9, 30), dt.date(2025, 12, 31), dt.date(2026, 3, 31)]
    assert [p.due_date for p in periods] == expected
    assert all(today - LOOKBACK <= p.due_date <= today + HORIZON for p in periods)
    assert [p.occurrence for p in periods] == [d.isoformat() for d in expected]
    assert all(p.applicability == "applies" for p in periods)
    assert periods[0].due_basis["steps"] == [{"code": "period", "rrule": "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1"}]

    # Two months later the window has moved: one more period, the past one stays as it was.
    time_machine.move_to(at(2025, 8, 20), tick=False)
    summary = client_for(admin).post(url(organization, "checklist/sync/")).json()
    assert summary["added"] == 1
    assert summary["superseded"] == 0
    dates = [p.due_date for p in periods.all()]
    assert dates == [*expected, dt.date(2026, 6, 30)]
    assert not periods.filter(superseded_at__isnull=False).exists()


def test_the_daily_job_rolls_a_quiet_organizations_series_forward(make_user, make_organization, time_machine):
    """Nobody touches the organization for a year: the daily beat job still gives it next
    year's quarterly meetings (and so their reminders), and running it twice adds nothing."""
    from obligations import tasks

    time_machine.move_to(at(2025, 6, 15), tick=False)
    organization = make_organization(make_user("quiet-admin"), "Quiet", profile=NANCHANG_SOE)
    periods = ChecklistItem.objects.filter(organization=organization, obligation__key="quarterly-meeting-soe")
    assert max(p.due_date for p in periods) == dt.date(2026, 3, 31)
    time_machine.move_to(at(2026, 6, 16), tick=False)
    result = tasks.roll_forward()
    assert result["organizations"] >= 1 and result["added"] >= 4
    assert max(p.due_date for p in periods.all()) == dt.date(2027, 3, 31)  # a year ahead
    assert tasks.roll_forward()["added"] == 0
    created = ItemHistory.objects.filter(item__in=periods, action="created").latest("at")
    assert created.context["cause"] == {"code": "daily"}
    assert "每日更新" in cause_text(created.context["cause"], lang="zh")
