"""The audit pack: the statement of applicability and the checklist as they stood on a date,
with the evidence and each item's history, as an Excel workbook or a PDF in either language."""

import hashlib
import io
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from obligations.models import ChecklistItem
from regulations.applicability import Outcome, RuledOut, evaluate
from regulations.selectors import rulebook
from tests.factories import SHANGHAI_APP
from tests.plain import problems, vocabulary

from .conftest import FILING, MANAGEMENT, at, item_for, item_url, patch_item, report_event, url

pytestmark = pytest.mark.django_db

RECEIPT = "备案回执 2025.csv"
RECEIPT_CONTENT = "编号,事项\n1,深度合成服务算法备案\n".encode()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def history(time_machine, alice, as_alice, make_organization, make_user, add_member):
    """A Shanghai app company added on 10 January 2025; it launched on 20 January (reported that
    day), and on 1 February Bob took the filing, Alice marked it done with the receipt."""
    time_machine.move_to(at(2025, 1, 10), tick=False)
    shanghai = make_organization(alice, "Shanghai", profile=SHANGHAI_APP)
    time_machine.move_to(at(2025, 1, 20), tick=False)
    launch = report_event(as_alice, shanghai, "service_launched", "2025-01-20")
    time_machine.move_to(at(2025, 2, 1), tick=False)
    bob = make_user("bob")
    add_member(shanghai, bob)
    filing = item_for(shanghai, FILING, f"event:{launch}")
    assert patch_item(as_alice, filing, {"assignee": bob.pk}).status_code == 200
    receipt = {"evidence_date": "2025-01-28", "file": SimpleUploadedFile(RECEIPT, RECEIPT_CONTENT)}
    assert as_alice.post(item_url(filing, "evidence/"), receipt, format="multipart").status_code == 201
    assert patch_item(as_alice, filing, {"status": "done"}).status_code == 200
    time_machine.move_to(at(2025, 2, 10), tick=False)
    shanghai.filing = filing
    return shanghai


def pack(client, organization, **params):
    response = client.get(url(organization, "audit-pack/"), {"file": "xlsx", **params})
    assert response.status_code == 200, response.content
    return response


def sheets(response) -> dict[str, list[list[str]]]:
    book = load_workbook(io.BytesIO(response.content))
    return {
        sheet.title: [["" if c.value is None else str(c.value) for c in row] for row in sheet.iter_rows()]
        for sheet in book.worksheets
    }


def records(table: list[list[str]]) -> list[dict]:
    header, *rows = table
    return [dict(zip(header, row, strict=True)) for row in rows]


def summary(book) -> dict[str, str]:
    """The first sheet: what the pack is of, its versions and its content hash."""
    return dict(next(iter(book.values())))


def test_the_checklist_is_shown_as_it_stood_at_the_end_of_the_day(as_alice, history):
    before = sheets(pack(as_alice, history, as_of="2025-01-15", lang="en"))
    launched = sheets(pack(as_alice, history, as_of="2025-01-25", lang="en"))
    done = sheets(pack(as_alice, history, as_of="2025-02-01", lang="en"))
    filing = history.filing.obligation.title_in("en")

    def row(book):
        return [r for r in records(book["Checklist"]) if r["Item"] == filing]

    # Before the launch the filing applied undated, waiting for the launch; the launch set it
    # aside for the filing counted from the launch.
    [waiting] = row(before)
    assert (waiting["Period"], waiting["Due date"], waiting["Status"]) == ("", "", "Open")
    [open_] = row(launched)
    assert open_["Period"] == "Service launched (2025-01-20)" and open_["Applicability"] == "Applies"
    assert (open_["Status"], open_["Assignee"], open_["Completed by"], open_["Evidence"]) == ("Open", "", "", "0")
    # 10 working days after 20 January: 春节 (28 January to 4 February) skipped, the make-up
    # working days (Sunday 26 January, Saturday 8 February) counted.
    assert open_["Due date"] == "2025-02-08"
    assert "2025-01-20" in open_["History"] and "bob" not in open_["History"]
    [closed] = row(done)
    assert (closed["Status"], closed["Assignee"], closed["Completed by"]) == ("Done", "bob", "alice")
    assert closed["Completed at"].startswith("2025-02-01") and closed["Evidence"] == "1"
    assert "Done" in closed["History"]
    [proof] = records(done["Evidence"])
    assert proof["Item"] == filing and proof["File, link or note"] == RECEIPT
    assert proof["SHA-256"] == hashlib.sha256(RECEIPT_CONTENT).hexdigest()
    assert proof["Date the evidence shows"] == "2025-01-28" and proof["Added by"] == "alice"
    assert records(launched["Evidence"]) == []
    # Each day's pack states something else, and says so in its hash.
    hashes = {summary(b)["Content hash (SHA-256)"] for b in (before, launched, done)}
    assert len(hashes) == 3


def test_the_statement_lists_every_obligation_of_the_instruments_that_concern_the_organization(as_alice, history):
    book = sheets(pack(as_alice, history, as_of="2025-02-01", lang="en"))
    launched = {"service_launched": [at(2025, 1, 20).date()]}
    result = evaluate(rulebook(), SHANGHAI_APP, launched, as_of=at(2025, 2, 1).date())
    in_scope = [e for e in result.decided if not e.preview]
    statement = records(book["Statement of applicability"])
    assert len(statement) == len(in_scope) > 0
    outcomes = {
        "Applies": Outcome.APPLIES,
        "Needs review": Outcome.NEEDS_REVIEW,
        "Does not apply": Outcome.DOES_NOT_APPLY,
    }
    assert {Outcome.APPLIES, Outcome.DOES_NOT_APPLY} <= {outcomes[r["Applicability"]] for r in statement}
    assert all(r["Why"] for r in statement)  # every verdict says why, in words
    management = item_for(history, MANAGEMENT).obligation
    [row] = [r for r in statement if r["Obligation"] == management.summary_in("en")]
    assert (row["Applicability"], row["Checklist status"]) == ("Applies", "Open")
    waiting = [r for r in statement if r["Applicability"] == "Needs review"]
    assert all("Waiting for answers" in r["Why"] or "not settled" in r["Why"] for r in waiting)
    others = records(book["Instruments that do not concern"])  # a sheet name has 31 characters at most
    assert len(others) == sum(1 for p in result.parts if isinstance(p, RuledOut) and not p.preview) > 0
    assert all(r["Why not"] for r in others)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_workbook_is_in_the_readers_words(as_alice, history, lang):
    response = pack(as_alice, history, as_of="2025-02-01", lang=lang)
    assert response["Content-Disposition"] == f'attachment; filename="audit-pack-shanghai-2025-02-01-{lang}.xlsx"'
    book = sheets(response)
    if lang == "zh":
        assert list(book) == ["审计材料包", "适用性声明", "不涉及本组织的文件", "清单", "证明材料"]
        assert summary(book)["组织"] == "Shanghai" and summary(book)["截至日期"] == "2025-02-01"
    else:  # sheet names are cut at 31 characters
        assert list(book) == [
            "Audit pack",
            "Statement of applicability",
            "Instruments that do not concern",
            "Checklist",
            "Evidence",
        ]
    text = "\n".join(cell for table in book.values() for row in table for cell in row)
    assert problems(text, lang, vocabulary(), ("Shanghai", "alice", "bob", RECEIPT)) == []


def test_both_languages_and_both_files_state_the_same_content(as_alice, history):
    zh, en = (summary(sheets(pack(as_alice, history, as_of="2025-02-01", lang=lang))) for lang in ("zh", "en"))
    assert zh["内容摘要（SHA-256）"] == en["Content hash (SHA-256)"]
    assert len(en["Content hash (SHA-256)"]) == 64


def test_the_pdf_is_made_in_the_background_with_the_chinese_text_in_a_chinese_font(
    as_alice, history, tmp_path, pdf_tools, django_capture_on_commit_callbacks
):
    from PIL import Image

    with django_capture_on_commit_callbacks(execute=True):  # the task runs once the request commits
        asked = as_alice.post(url(history, "downloads/"), {"kind": "audit_pack", "lang": "zh", "as_of": "2025-02-01"})
    assert asked.status_code == 202 and asked["Location"].endswith(f"/downloads/{asked.json()['id']}/")
    ready = as_alice.get(asked["Location"]).json()
    assert ready["status"] == "ready" and ready["filename"] == "audit-pack-shanghai-2025-02-01-zh.pdf"
    response = as_alice.get(ready["file"])
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "pack.pdf"
    path.write_bytes(b"".join(response.streaming_content))
    assert path.stat().st_size == ready["size"]
    text = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, check=True, text=True).stdout
    hash_ = summary(sheets(pack(as_alice, history, as_of="2025-02-01", lang="en")))["Content hash (SHA-256)"]
    for words in ("审计材料包", "适用性声明", "Shanghai", "2025-02-01", hash_, "深度合成", RECEIPT):
        assert words in text, words
    fonts = subprocess.run(["pdffonts", path], capture_output=True, check=True, text=True).stdout
    assert "WenQuanYi" in fonts or "Noto" in fonts  # a CJK font, embedded
    # Page 1 rendered: the title's five characters are drawn as five different shapes (a font
    # without them draws the same empty box five times).
    subprocess.run(["pdftoppm", "-r", "100", "-f", "1", "-l", "1", "-png", path, tmp_path / "page"], check=True)
    [png] = tmp_path.glob("page*.png")
    page = Image.open(png).convert("L")
    title = page.crop((0, 0, page.width // 3, page.height // 10))
    ink = [sum(1 for y in range(title.height) if title.getpixel((x, y)) < 128) for x in range(title.width)]
    glyphs, run = [], 0
    for count in [*ink, 0]:
        if count:
            run += count
        elif run:
            glyphs, run = [*glyphs, run], 0
    assert len(glyphs) >= 5 and len(set(glyphs)) >= 4, glyphs


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"as_of": "2025-01-09"}, "as_of"),  # before the organization was added
        ({"as_of": "2025-02-11"}, "as_of"),  # after today
        ({"as_of": "2025-02-30"}, "as_of"),
        ({"lang": "fr"}, "lang"),
        ({"file": "docx"}, "file"),
        ({"file": "pdf"}, "file"),  # made in the background: the answer says how
    ],
)
def test_bad_choices_are_named(as_alice, history, params, field):
    response = as_alice.get(url(history, "audit-pack/"), {"file": "xlsx", **params})
    assert response.status_code == 400 and field in response.json(), response.content


def test_viewers_may_download_it_and_other_organizations_may_not(history, make_user, add_member, client_for):
    viewer, stranger = make_user("vera"), make_user("sam")
    add_member(history, viewer, "viewer")
    assert client_for(viewer).get(url(history, "audit-pack/"), {"file": "xlsx"}).status_code == 200
    assert client_for(stranger).get(url(history, "audit-pack/"), {"file": "xlsx"}).status_code == 404


def test_the_pack_costs_the_same_number_of_queries_whatever_its_size(as_alice, history, django_assert_max_num_queries):
    item = ChecklistItem.objects.filter(organization=history, superseded_at__isnull=True).order_by("id").first()
    for n in range(5):
        assert patch_item(as_alice, item, {"status": "in_progress" if n % 2 else "open"}).status_code == 200
    with django_assert_max_num_queries(16):
        pack(as_alice, history, as_of="2025-02-10", lang="zh")
