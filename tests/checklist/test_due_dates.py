"""Due dates that move: a newly recorded holiday schedule re-dates items (history, ETag, iCal
SEQUENCE), and a catalogue update supersedes items of removed obligations, previewed first."""

import datetime as dt
import functools
import io
import shutil

import pytest
from django.core.management import call_command

from obligations.models import ChecklistItem, ItemHistory
from regulations.catalog.validation import CATALOG_DIR
from regulations.management.commands import load_catalog
from regulations.models import CatalogVersion, HolidaySchedule, Obligation
from regulations.services import catalog_load
from tests.factories import SHANGHAI_APP

from .conftest import (
    FILING,
    MANAGEMENT,
    at,
    create_feed,
    current_etag,
    feed_events,
    history_actions,
    item_for,
    patch_item,
    report_event,
)

pytestmark = pytest.mark.django_db

# 2027 is not in the bundled holiday data: Monday to Friday is assumed until an operator
# records the State Council's schedule.
SCHEDULE_2027 = {
    "year": 2027,
    "holidays": [
        {"date": "2027-01-01", "name": "New Year"},
        {"date": "2027-01-04", "name": "Extra"},
        {"date": "2027-01-05", "name": "Extra"},
    ],
    "makeup_workdays": [],
    "source": "Test notice",
}


@pytest.fixture
def launched_late_2026(make_user, make_organization, client_for, time_machine):
    """A Shanghai app launched on Monday 21 December 2026: its filing is due 10 working days
    later, in January 2027."""
    time_machine.move_to(at(2026, 12, 22), tick=False)
    admin = make_user("late-admin")
    organization = make_organization(admin, "Late", profile=SHANGHAI_APP)
    client = client_for(admin)
    event_id = report_event(client, organization, "service_launched", "2026-12-21")
    item = item_for(organization, FILING, f"event:{event_id}")
    return organization, client, item


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_estimated_due_date_before_the_schedule_is_known(launched_late_2026):
    organization, client, item = launched_late_2026
    # 22-25, 28-31 December are 8 working days; 1 January 2027 is New Year's Day by law and
    # the weekend follows; 4 and 5 January are the 9th and 10th working days.
    assert item.due_date == dt.date(2027, 1, 5)
    assert item.due_basis["estimated"] is True
    assert item.due_basis["steps"][-1] == {"code": "estimated", "years": [2027]}
    detail = client.get(f"/api/v1/organizations/{organization.pk}/checklist/{item.pk}/").json()
    assert detail["due_estimated"] is True
    assert detail["due_explanation"][-1].startswith(
        "No published holiday schedule covers 2027 yet: weekends and the statutory holidays were counted"
    )
    chinese = client.get(
        f"/api/v1/organizations/{organization.pk}/checklist/{item.pk}/", HTTP_ACCEPT_LANGUAGE="zh-CN"
    ).json()
    assert chinese["due_explanation"][-1].startswith("2027年的放假安排尚未公布：暂将周末和法定节假日计为休息日")


def test_recorded_holidays_move_the_due_date_once(launched_late_2026):
    organization, client, item = launched_late_2026
    feed = create_feed(client, organization)
    uid = next(u for u, e in feed_events(feed["url"]).items() if u.startswith(f"checklist-item-{item.pk}@"))
    before = feed_events(feed["url"])[uid]
    assert before["SEQUENCE"] == 0
    assert before.decoded("DTSTART") == dt.date(2027, 1, 5)
    etag = current_etag(client, item)
    history = ItemHistory.objects.filter(item__organization=organization).count()

    HolidaySchedule.objects.create(**SCHEDULE_2027)

    output = run("recompute_due_dates", "--dry-run")
    assert f"item {item.pk} would move from 2027-01-05 to 2027-01-07" in output
    moved_before = ChecklistItem.objects.get(pk=item.pk)
    assert (moved_before.due_date, moved_before.due_sequence, moved_before.version) == (
        item.due_date,
        item.due_sequence,
        item.version,
    )
    assert ItemHistory.objects.filter(item__organization=organization).count() == history

    output = run("recompute_due_dates")
    assert f"item {item.pk} moved from " in output
    assert "1 due date(s) moved" in output

    item.refresh_from_db()
    # 1, 4 and 5 January are rest days now: 6 and 7 January are the 9th and 10th working days.
    assert item.due_date == dt.date(2027, 1, 7)
    assert item.due_sequence == 1
    assert item.due_basis["estimated"] is False
    assert history_actions(item)[-1] == "redated"
    entry = item.history.get(action="redated")
    assert entry.changes["due_date"] == {"from": "2027-01-05", "to": "2027-01-07"}
    assert entry.actor is None
    assert entry.context["cause"] == {"code": "calendar"}
    assert entry.context["steps"] == item.due_basis["steps"]
    assert ItemHistory.objects.filter(item__organization=organization).count() == history + 1
    assert current_etag(client, item) != etag
    assert patch_item(client, item, {"status": "in_progress"}, etag=etag).status_code == 412

    after = feed_events(feed["url"])[uid]
    assert after["SEQUENCE"] == 1
    assert after.decoded("DTSTART") == dt.date(2027, 1, 7)

    # Recomputing again finds nothing to move.
    assert "0 due date(s) moved" in run("recompute_due_dates")
    item.refresh_from_db()
    assert item.due_sequence == 1


def test_recompute_reports_the_old_and_the_new_date(launched_late_2026):
    item = launched_late_2026[2]
    HolidaySchedule.objects.create(**SCHEDULE_2027)

    output = run("recompute_due_dates")

    assert f"item {item.pk} moved from 2027-01-05 to 2027-01-07" in output


@pytest.fixture
def catalogue_copy(tmp_path):
    root = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def remove_obligation(root, code: str, key: str) -> None:
    """Drop one obligation's entry (from its '- id:' line to the next one) from the list."""
    path = root / "instruments" / f"{code}.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index(f"\n- id: {key}\n") + 1
    end = text.index("\n- id: ", start) + 1
    path.write_text(text[:start] + text[end:], encoding="utf-8")


def test_catalogue_plan_shows_the_superseded_item_then_the_load_supersedes_it(shanghai, as_alice, catalogue_copy):
    item = item_for(shanghai, MANAGEMENT)
    assert patch_item(as_alice, item, {"status": "done"}).status_code == 200
    history = history_actions(item)
    code, key = MANAGEMENT.split(":")
    remove_obligation(catalogue_copy, code, key)
    versions = CatalogVersion.objects.count()
    items = list(ChecklistItem.objects.filter(organization=shanghai).order_by("pk").values())

    result = catalog_load(root=catalogue_copy, dry_run=True)

    assert result.unchanged is False
    assert result.changes["obligation_keys"]["retired"] == [MANAGEMENT]
    plan = next(p for p in result.reports if p.organization.pk == shanghai.pk)
    assert plan.summary()["superseded"] == 1
    assert plan.details()["superseded"] == [
        {"item": item.pk, "obligation": item.obligation_id, "reason": "The obligation was removed from the catalogue."}
    ]
    # Nothing was written.
    assert CatalogVersion.objects.count() == versions
    assert Obligation.objects.get(pk=item.obligation_id).retired is False
    assert list(ChecklistItem.objects.filter(organization=shanghai).order_by("pk").values()) == items
    assert history_actions(item) == history

    result = catalog_load(root=catalogue_copy)

    assert CatalogVersion.objects.count() == versions + 1
    assert Obligation.objects.get(pk=item.obligation_id).retired is True
    item.refresh_from_db()
    assert item.superseded_at is not None
    assert item.superseded_reason == {"code": "removed"}
    assert item.status == "done"
    assert history_actions(item) == [*history, "superseded"]
    assert item.history.get(action="superseded").context["cause"] == {"code": "catalogue"}
    # The rest of the checklist is untouched.
    assert ChecklistItem.objects.filter(organization=shanghai, superseded_at__isnull=False).count() == 1


def test_load_catalog_plan_command_lists_the_item_and_writes_nothing(shanghai, catalogue_copy, monkeypatch):
    item = item_for(shanghai, MANAGEMENT)
    code, key = MANAGEMENT.split(":")
    remove_obligation(catalogue_copy, code, key)
    # The command always reads the bundled folder; point it at the modified copy.
    monkeypatch.setattr(load_catalog, "catalog_load", functools.partial(catalog_load, root=catalogue_copy))
    versions = CatalogVersion.objects.count()

    output = run("load_catalog", "--plan")

    assert "Would load the catalogue" in output
    assert f"obligations retired: {MANAGEMENT}" in output
    assert f"checklist of {shanghai} would change: added 0, superseded 1," in output
    assert f"superseded: {{'item': {item.pk}, 'obligation': {item.obligation_id}," in output
    assert CatalogVersion.objects.count() == versions
    item.refresh_from_db()
    assert item.superseded_at is None
    assert Obligation.objects.get(pk=item.obligation_id).retired is False


def test_plan_endpoint_previews_the_move_without_making_it(launched_late_2026):
    organization, client, item = launched_late_2026
    HolidaySchedule.objects.create(**SCHEDULE_2027)

    response = client.get(f"/api/v1/organizations/{organization.pk}/checklist/plan/")

    assert response.status_code == 200
    plan = response.json()
    assert plan["redated"] == [
        {"item": item.pk, "obligation": item.obligation_id, "from": "2027-01-05", "to": "2027-01-07"}
    ]
    assert (plan["added"], plan["superseded"]) == ([], [])
    item.refresh_from_db()
    assert (item.due_date, item.due_sequence) == (dt.date(2027, 1, 5), 0)

    summary = client.post(f"/api/v1/organizations/{organization.pk}/checklist/sync/").json()

    assert summary["redated"] == 1
    item.refresh_from_db()
    assert (item.due_date, item.due_sequence) == (dt.date(2027, 1, 7), 1)


def test_reminders_follow_a_due_date_moved_by_a_recorded_schedule(launched_late_2026):
    from obligations.services import reminders

    organization, _client, item = launched_late_2026

    def due_on(day: dt.date) -> set:
        sends = reminders.due_reminders([organization.pk], at(day.year, day.month, day.day))
        return {(s.point.kind, s.point.offset) for s in sends if s.item.pk == item.pk}

    assert due_on(dt.date(2027, 1, 5)) == {("due", 0)}
    HolidaySchedule.objects.create(**SCHEDULE_2027)
    run("recompute_due_dates")
    # Nothing to re-plan: the next pass reads the new date (now 7 January).
    assert due_on(dt.date(2027, 1, 5)) == {("before", -7)}
    assert due_on(dt.date(2027, 1, 7)) == {("due", 0)}


HANGZHOU_OPERATOR = {
    "roles": ["authorized_operator", "enterprise"],
    "registered_in": "CN-ZJ-HZ",
    "operates_in": ["CN-ZJ-HZ"],
    "data_sourced_in": ["CN-ZJ-HZ"],
}
SEMIANNUAL_REPORT = "hz-public-data-authorized-operation-2023:semiannual-security-report"


def test_a_report_series_starts_at_the_authorization_and_then_follows_each_report(
    make_user, make_organization, client_for, time_machine
):
    from .conftest import at, item_for, patch_item, report_event

    time_machine.move_to(at(2025, 4, 1), tick=False)
    admin = make_user("hz-admin")
    organization = make_organization(admin, "Hangzhou", profile=HANGZHOU_OPERATOR)
    client = client_for(admin)
    waiting = item_for(organization, SEMIANNUAL_REPORT, "")
    assert (waiting.due_date, waiting.due_basis["pending"]) == (None, "needs_event:authorization_granted")

    report_event(client, organization, "authorization_granted", "2025-03-14")

    first = item_for(organization, SEMIANNUAL_REPORT, "2025-09-15")  # 14 September is a Sunday
    assert first.due_basis["steps"][0] == {"code": "event", "event": "authorization_granted", "date": "2025-03-14"}
    waiting.refresh_from_db()
    assert waiting.superseded_reason == {"code": "series_dated"}
    # Reported on 3 April 2026: the next period ends on 3 October, in the National Day holiday.
    time_machine.move_to(at(2026, 4, 3), tick=False)
    assert patch_item(client, first, {"status": "done"}).status_code == 200
    second = item_for(organization, SEMIANNUAL_REPORT, "2026-10-08")
    assert second.due_basis["steps"][0]["code"] == "last_fulfilment"


BEIJING_ENTERPRISE = {
    "roles": ["enterprise"],
    "registered_in": "CN-BJ",
    "operates_in": ["CN-BJ"],
    "data_sourced_in": [],
    "sectors": [],
    "features": [],
}
NEWS_REPOSTING = "cn-deep-synthesis-2022:art6-news-reposting-provider"


def amend_obligation(root, ref: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` within one obligation's entry."""
    code, key = ref.split(":")
    path = root / "instruments" / f"{code}.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index(f"\n- id: {key}\n")
    end = text.index("\n- id: ", start + 1)
    assert old in text[start:end]
    path.write_text(text[:start] + text[start:end].replace(old, new) + text[end:], encoding="utf-8")


def checklist_state(organization) -> list:
    return [
        (i["id"], i["version"], i["updated_at"], i["superseded_at"])
        for i in ChecklistItem.objects.filter(organization=organization).order_by("pk").values()
    ]


def test_a_catalogue_change_resyncs_only_the_checklists_it_can_change(
    shanghai, alice, make_organization, catalogue_copy
):
    beijing = make_organization(alice, "Beijing", profile=BEIJING_ENTERPRISE)
    before = {o.pk: checklist_state(o) for o in (shanghai, beijing)}
    assert not ChecklistItem.objects.filter(organization=shanghai, obligation__key="art6-news-reposting-provider")

    # Words only (the summary): no rule changes, no checklist is synced.
    amend_obligation(catalogue_copy, NEWS_REPOSTING, "summary_en: ", "summary_en: Amended. ")
    result = catalog_load(root=catalogue_copy)
    assert result.changes["obligation_keys"]["updated"] == [NEWS_REPOSTING]
    assert result.reports == []
    assert {o.pk: checklist_state(o) for o in (shanghai, beijing)} == before

    # The condition goes: the duty now applies to the Shanghai provider, which gets the item;
    # the Beijing enterprise, not a provider and without items of it, is not synced at all.
    amend_obligation(catalogue_copy, NEWS_REPOSTING, "  conditions: {fact: sectors, includes: news}\n", "")
    result = catalog_load(root=catalogue_copy)
    assert [plan.organization.pk for plan in result.reports] == [shanghai.pk]
    assert result.reports[0].counts()["added"] == 1
    item = item_for(shanghai, NEWS_REPOSTING)
    assert history_actions(item) == ["created"]
    assert item.history.get().context["cause"] == {"code": "catalogue"}
    assert checklist_state(beijing) == before[beijing.pk]

    # The condition comes back: the organization with the item is synced and the item set aside.
    amend_obligation(
        catalogue_copy, NEWS_REPOSTING, "  deadline:", "  conditions: {fact: sectors, includes: news}\n  deadline:"
    )
    result = catalog_load(root=catalogue_copy)
    assert [plan.organization.pk for plan in result.reports] == [shanghai.pk]
    item.refresh_from_db()
    assert item.superseded_at is not None and item.superseded_reason["code"] == "not_applicable"
    assert checklist_state(beijing) == before[beijing.pk]
