"""What changed for the organization: each sync that changed its checklist is kept with its
cause and counts, and listed in the API and on a page with its items and why, in words."""

import pytest
from django.test import Client

from obligations.models import ChecklistChange
from obligations.services import checklist
from tests.plain import problems, vocabulary

from .conftest import FILING, item_for, report_event, url

pytestmark = pytest.mark.django_db


def changes(client, organization, **headers) -> list[dict]:
    response = client.get(url(organization, "changes/"), **headers)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_reported_event_is_one_change_with_its_items_and_reasons(shanghai, as_alice):
    before = ChecklistChange.objects.filter(organization=shanghai).count()
    launch = report_event(as_alice, shanghai, "service_launched", "2025-01-20")

    assert ChecklistChange.objects.filter(organization=shanghai).count() == before + 1
    [latest, *_older] = changes(as_alice, shanghai, HTTP_ACCEPT_LANGUAGE="en")
    counts = latest["counts"]
    assert counts["added"] >= 1 and counts["superseded"] >= 1
    assert latest["cause"] == "Checklist updated after “Service launched” on 2025-01-20 was reported."
    assert f"{counts['added']} new item" in latest["summary"] and "no longer appl" in latest["summary"]
    filing = item_for(shanghai, FILING, f"event:{launch}")
    [entry] = [e for e in latest["items"] if e["item"] == filing.pk]
    assert entry["action"] == "created" and entry["title"] == filing.obligation.title_in("en")
    assert "added the item, due 2025-02-08" in entry["text"]
    assert "reported" not in entry["text"]  # the cause is said once, for the whole change
    assert len(latest["items"]) == sum(counts.values())


def test_changes_read_in_chinese_without_keys(shanghai, as_alice):
    report_event(as_alice, shanghai, "service_launched", "2025-01-20")
    [latest, *_older] = changes(as_alice, shanghai, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert latest["summary"].startswith(f"新增 {latest['counts']['added']} 项")
    text = "\n".join([latest["cause"], latest["summary"], *(e["title"] + e["text"] for e in latest["items"])])
    assert problems(text, "zh", vocabulary(), ("alice",)) == []


def test_a_sync_that_changes_nothing_is_not_a_change(shanghai):
    before = ChecklistChange.objects.filter(organization=shanghai).count()
    checklist.checklist_sync(shanghai, cause={"code": "requested", "by": "alice"})
    assert ChecklistChange.objects.filter(organization=shanghai).count() == before


def test_the_list_costs_the_same_queries_for_more_changes(shanghai, as_alice, django_assert_max_num_queries):
    for date in ("2025-01-20", "2025-03-03"):
        report_event(as_alice, shanghai, "service_launched", date)
    with django_assert_max_num_queries(9):
        assert len(changes(as_alice, shanghai)) >= 3


def test_the_changes_page_lists_them_with_links_to_the_items(shanghai, alice, as_alice):
    launch = report_event(as_alice, shanghai, "service_launched", "2025-01-20")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(alice)
    page = client.get(f"/organizations/{shanghai.pk}/changes/").content.decode()
    filing = item_for(shanghai, FILING, f"event:{launch}")
    assert f'href="/organizations/{shanghai.pk}/checklist/{filing.pk}/"' in page
    assert "报告“服务上线”（2025-01-20）后更新了清单。" in page
    assert "新增" in page
