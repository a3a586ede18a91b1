"""Duties, opportunities and goals apart. The checklist holds what the organization must or
must not do; support and encouragement it may take up are listed apart, never reminded and
never overdue; a goal the region sets itself reaches no organization's lists."""

import datetime as dt

import pytest
import time_machine

from obligations.models import ChecklistItem, Reminder
from regulations.models import Obligation
from tests.factories import SHANGHAI_APP

from .conftest import url

pytestmark = pytest.mark.django_db


@pytest.fixture
def shanghai(alice, make_organization):
    """Alice's app company, an enterprise too: Shanghai's plans offer enterprises support."""
    return make_organization(
        alice, "Shanghai", profile={**SHANGHAI_APP, "roles": [*SHANGHAI_APP["roles"], "enterprise"]}
    )


def listed(client, organization, **params) -> list[dict]:
    response = client.get(url(organization, "checklist/"), {"page_size": 200, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_the_checklist_holds_duties_and_opportunities_are_listed_apart(shanghai, as_alice):
    items = ChecklistItem.objects.filter(organization=shanghai, superseded_at__isnull=True)
    duties = items.filter(track="duty")
    assert set(duties.values_list("obligation__kind", flat=True)) <= {"duty", "prohibition", "authority_duty"}
    opportunities = items.filter(obligation__kind="incentive")
    assert duties.exists() and opportunities.exists()
    assert {r["id"] for r in listed(as_alice, shanghai)} == set(duties.values_list("pk", flat=True))
    assert {r["track"] for r in listed(as_alice, shanghai)} == {"duty"}
    offered = listed(as_alice, shanghai, track="opportunity")
    assert {r["id"] for r in offered} == set(opportunities.values_list("pk", flat=True))
    assert as_alice.get(url(shanghai, "checklist/"), {"track": "wish"}).status_code == 400


def test_opportunities_are_never_reminded_nor_overdue(shanghai):
    opportunity = ChecklistItem.objects.filter(organization=shanghai, track="opportunity").first()
    assert opportunity is not None and not opportunity.is_actionable
    assert not Reminder.objects.filter(item__organization=shanghai, item__track="opportunity").exists()
    assert not ChecklistItem.objects.filter(organization=shanghai).actionable().filter(track="opportunity").exists()


def test_goals_reach_no_organization(shanghai):
    assert not ChecklistItem.objects.filter(organization=shanghai, obligation__kind="target").exists()


def test_an_obligation_becoming_a_goal_sets_its_items_aside_in_words(shanghai, as_alice):
    item = ChecklistItem.objects.filter(organization=shanghai, track="duty", obligation__kind="duty").first()
    Obligation.objects.filter(pk=item.obligation_id).update(kind="target")
    from regulations import selectors

    selectors._rulebook_cache.clear()  # the kind is read from the rulebook, built per catalogue version
    assert as_alice.post(url(shanghai, "checklist/sync/")).status_code == 200
    item.refresh_from_db()
    assert item.superseded_reason == {"code": "not_for_organizations"}
    detail = as_alice.get(url(shanghai, f"checklist/{item.pk}/"), HTTP_ACCEPT_LANGUAGE="zh-CN").json()
    assert detail["superseded_reason"] == "该条文为本地区或政府设定目标，并非组织必须履行的事项。"


def test_the_opportunities_page_lists_them_without_a_done_button(shanghai, alice, client):
    client.force_login(alice)
    page = client.get(f"/organizations/{shanghai.pk}/opportunities/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    opportunity = ChecklistItem.objects.filter(organization=shanghai, track="opportunity").first()
    assert f"/checklist/{opportunity.pk}/" in page.content.decode()
    assert "data-status" not in page.content.decode()
    checklist = client.get(f"/organizations/{shanghai.pk}/checklist/?page_size=200").content.decode()
    assert f'id="item-{opportunity.pk}"' not in checklist


def test_a_prohibition_is_confirmed_once_a_year_not_done_once(shanghai, alice, as_alice, client, time_machine):
    from .conftest import at, patch_item

    prohibition = ChecklistItem.objects.filter(
        organization=shanghai, obligation__kind="prohibition", superseded_at__isnull=True
    ).first()
    assert prohibition is not None
    assert (prohibition.occurrence, prohibition.due_date) == ("", None)
    assert prohibition.due_basis["pending"] == "awaiting_confirmation"
    time_machine.move_to(at(2026, 4, 3), tick=False)
    assert patch_item(as_alice, prohibition, {"status": "done"}).status_code == 200

    # A year after the confirmation: 3 April 2027 is a Saturday and Monday the 5th is Qingming,
    # a statutory holiday, so Tuesday the 6th.
    nxt = ChecklistItem.objects.get(organization=shanghai, obligation=prohibition.obligation, occurrence="2027-04-06")
    detail = as_alice.get(url(shanghai, f"checklist/{nxt.pk}/"), HTTP_ACCEPT_LANGUAGE="en").json()
    assert detail["due_explanation"][:2] == [
        "A prohibition holds at all times; the tracker asks for a confirmation a year after each one "
        "(its review cycle, not a date from the text).",
        "Last confirmed on 2026-04-03.",
    ]
    client.force_login(alice)
    page = client.get(f"/organizations/{shanghai.pk}/checklist/", HTTP_ACCEPT_LANGUAGE="en")
    assert f"Confirm compliance: {nxt.obligation.reference_in('en')}" in page.content.decode()


def test_an_authoritys_decision_is_what_to_expect_after_filing(shanghai, as_alice, alice, client):
    from .conftest import report_event

    report_event(as_alice, shanghai, "filing_submitted", "2025-01-20")

    expected = ChecklistItem.objects.get(
        organization=shanghai, obligation__key="regulator-filing-decision", superseded_at__isnull=True
    )
    # 20 working days from the submission, over the Spring Festival and its make-up days.
    assert (expected.track, expected.due_date) == ("expectation", dt.date(2025, 2, 21))
    assert not expected.is_actionable and not Reminder.objects.filter(item=expected).exists()
    assert expected.pk not in {r["id"] for r in listed(as_alice, shanghai)}
    assert [r["id"] for r in listed(as_alice, shanghai, track="expectation")] == [expected.pk]
    reasons = as_alice.get(url(shanghai, f"checklist/{expected.pk}/"), HTTP_ACCEPT_LANGUAGE="en").json()["reasons"]
    assert "The authority acts for the organization as App operator: its date is what to expect." in [
        r["text"] for r in reasons
    ]
    client.force_login(alice)
    with time_machine.travel(dt.datetime(2025, 2, 1, 10, tzinfo=dt.UTC), tick=False):
        page = client.get(f"/organizations/{shanghai.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Expected from the authorities" in page and "counted from your report of 2025-01-20" in page
