"""Re-synchronizing after profile and event changes never loses work: items are superseded and
restored, never deleted, and keep their status, evidence and history."""

import pytest

from obligations.models import ChecklistItem, Evidence, ItemHistory
from obligations.services.checklist import checklist_sync
from tests.factories import SHANGHAI_APP

from .conftest import (
    EXISTING_APP,
    FILING,
    MANAGEMENT,
    history_actions,
    item_for,
    item_url,
    patch_item,
    report_event,
    set_profile,
    url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def done_item(shanghai, as_alice):
    """The deep-synthesis management-systems item, done, with a note as evidence and a comment."""
    item = item_for(shanghai, MANAGEMENT)
    assert patch_item(as_alice, item, {"status": "done"}).status_code == 200
    evidence = {"evidence_date": "2025-03-01", "note": "Policy adopted by the board."}
    response = as_alice.post(item_url(item, "evidence/"), evidence, format="multipart")
    assert response.status_code == 201, response.content
    assert as_alice.post(item_url(item, "comments/"), {"text": "Reviewed."}, format="json").status_code == 201
    item.refresh_from_db()
    return item


def listed_ids(client, organization, **params) -> set[int]:
    response = client.get(url(organization, "checklist/"), {"page_size": 200, **params})
    assert response.status_code == 200, response.content
    return {r["id"] for r in response.json()["results"]}


def test_item_whose_obligation_stops_applying_is_superseded_with_its_work(shanghai, alice, as_alice, done_item):
    before = history_actions(done_item)
    assert before == ["created", "updated", "evidence_added", "commented"]

    set_profile(shanghai, alice, {"roles": ["app_operator"]})

    item = ChecklistItem.objects.get(pk=done_item.pk)  # still there
    assert item.superseded_at is not None
    assert item.status == "done"
    assert item.completed_by == alice
    # Kept as structure, read in words in either language.
    assert item.superseded_reason == {
        "code": "not_applicable",
        "reason": {"code": "role_no_match", "params": {"roles": "deep_synthesis_provider"}},
    }
    assert Evidence.objects.filter(item=item).count() == 1
    assert history_actions(item) == [*before, "superseded"]
    entry = item.history.get(action="superseded")
    assert entry.actor is None
    assert entry.context["cause"] == {"code": "profile", "version": 2}
    assert entry.note == ""
    assert item.version == done_item.version + 1

    assert item.pk not in listed_ids(as_alice, shanghai)
    assert item.pk in listed_ids(as_alice, shanghai, superseded="true")
    assert item.pk not in listed_ids(as_alice, shanghai, superseded="false")
    listed = as_alice.get(url(shanghai, "checklist/"), {"superseded": "true", "page_size": 200}).json()["results"]
    entry = next(r for r in listed if r["id"] == item.pk)
    assert entry["superseded_reason"] == (
        "No longer applies: Addressed to Deep synthesis service provider, which the organization does not play."
    )
    assert entry["status"] == "done"
    assert [e["note"] for e in as_alice.get(item_url(item, "evidence/")).json()] == ["Policy adopted by the board."]
    last = as_alice.get(item_url(item, "history/")).json()[-1]
    assert last["action"] == "superseded"
    assert last["text"] == (
        "The system set the item aside. Checklist updated after profile version 2 was saved. "
        + entry["superseded_reason"]
    )
    chinese = as_alice.get(item_url(item, "history/"), HTTP_ACCEPT_LANGUAGE="zh-CN").json()[-1]["text"]
    assert chinese.startswith("系统") and "深度合成服务提供者" in chinese and "不再适用" in chinese


def test_superseded_item_detail_is_still_readable(shanghai, alice, as_alice, done_item):
    set_profile(shanghai, alice, {"roles": ["app_operator"]})

    response = as_alice.get(item_url(done_item))

    assert response.status_code == 200
    detail = response.json()
    assert detail["superseded_reason"].startswith("No longer applies")
    assert detail["status"] == "done"
    assert len(detail["evidence"]) == 1


def test_restoring_the_role_restores_the_item_with_its_evidence(shanghai, alice, as_alice, done_item):
    set_profile(shanghai, alice, {"roles": ["app_operator"]})
    set_profile(shanghai, alice, {"roles": SHANGHAI_APP["roles"]})

    item = ChecklistItem.objects.get(pk=done_item.pk)
    assert item.superseded_at is None
    assert item.superseded_reason == {}
    assert item.status == "done"
    assert history_actions(item)[-2:] == ["superseded", "restored"]
    assert ChecklistItem.objects.filter(organization=shanghai, obligation=item.obligation).count() == 1
    assert item.pk in listed_ids(as_alice, shanghai)
    evidence = as_alice.get(item_url(item, "evidence/")).json()
    assert [e["note"] for e in evidence] == ["Policy adopted by the board."]


def test_nothing_is_deleted_when_a_role_is_removed(shanghai, alice):
    before = ChecklistItem.objects.filter(organization=shanghai).count()
    history = ItemHistory.objects.filter(item__organization=shanghai).count()

    set_profile(shanghai, alice, {"roles": ["app_operator"]})

    assert ChecklistItem.objects.filter(organization=shanghai).count() == before
    superseded = ChecklistItem.objects.filter(organization=shanghai, superseded_at__isnull=False)
    assert superseded.exists()
    assert all(i.superseded_reason for i in superseded)
    assert not superseded.filter(obligation__roles__key="app_operator").exists()
    assert ItemHistory.objects.filter(item__organization=shanghai).count() == history + superseded.count()


def test_unknown_answer_turns_an_item_to_needs_review_with_history(shanghai, alice):
    item = item_for(shanghai, FILING)
    assert item.applicability == "applies"

    set_profile(shanghai, alice, {"features": None})  # unknown, not false

    item.refresh_from_db()
    assert item.superseded_at is None
    assert item.applicability == "needs_review"
    assert item.waiting_for == [{"kind": "fact", "key": "features"}]
    entry = item.history.get(action="updated")
    assert entry.changes["applicability"] == {"from": "applies", "to": "needs_review"}


def test_deleting_an_event_supersedes_its_items_and_brings_back_the_placeholder(shanghai, as_alice):
    event_id = report_event(as_alice, shanghai, "service_launched", "2025-01-20")
    item = item_for(shanghai, FILING, f"event:{event_id}")
    assert patch_item(as_alice, item, {"status": "in_progress"}).status_code == 200

    assert as_alice.delete(url(shanghai, f"events/{event_id}/")).status_code == 204

    item.refresh_from_db()
    assert item.superseded_at is not None
    assert item.superseded_reason == {"code": "event_deleted"}
    detail = as_alice.get(item_url(item), HTTP_ACCEPT_LANGUAGE="zh-CN").json()
    assert detail["superseded_reason"] == "其所依据的事件报告已被删除。"
    assert item.status == "in_progress"
    assert item.event_id is None
    assert history_actions(item)[-1] == "superseded"
    others = ChecklistItem.objects.filter(organization=shanghai, occurrence=f"event:{event_id}")
    assert others.count() > 1  # every duty that ran from the launch
    assert not others.filter(superseded_at__isnull=True).exists()
    placeholder = item_for(shanghai, FILING, "")
    assert placeholder.superseded_at is None
    assert history_actions(placeholder) == ["created", "superseded", "restored"]
    assert item_for(shanghai, EXISTING_APP).superseded_at is None  # needs review again


def test_syncing_twice_changes_nothing_the_second_time(shanghai, alice, as_alice, done_item):
    report_event(as_alice, shanghai, "service_launched", "2025-01-20")
    set_profile(shanghai, alice, {"roles": ["app_operator"]})
    checklist_sync(shanghai, cause="first")

    rows = list(ChecklistItem.objects.filter(organization=shanghai).order_by("pk").values())
    history = ItemHistory.objects.filter(item__organization=shanghai).count()

    response = as_alice.post(url(shanghai, "checklist/sync/"))

    assert response.status_code == 200
    summary = response.json()
    assert {k: summary[k] for k in ("added", "superseded", "restored", "redated", "reclassified")} == dict.fromkeys(
        ("added", "superseded", "restored", "redated", "reclassified"), 0
    )
    assert ItemHistory.objects.filter(item__organization=shanghai).count() == history
    assert list(ChecklistItem.objects.filter(organization=shanghai).order_by("pk").values()) == rows
