"""Evidence: notes, links and files, checked by size, type and content, stored under random
names and sent back only to members, as attachments."""

import hashlib
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from obligations.models import Evidence, Membership
from obligations.services.evidence import UploadRejected, check_upload, safe_filename

from .conftest import MANAGEMENT, history_actions, item_for, item_url, url

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def item(shanghai):
    return item_for(shanghai, MANAGEMENT)


def upload(client, item, name: str, content: bytes, **fields):
    data = {"evidence_date": "2025-03-01", **fields, "file": SimpleUploadedFile(name, content)}
    return client.post(item_url(item, "evidence/"), data, format="multipart")


def raw_upload(client, item, disposition: str, content: bytes):
    """A hand-written multipart body, so that the file name reaches the server exactly as a
    hostile client would send it (the test client would strip directories from it)."""
    boundary = uuid.uuid4().hex
    body = b"\r\n".join(
        [
            f"--{boundary}".encode(),
            b'Content-Disposition: form-data; name="evidence_date"',
            b"",
            b"2025-03-01",
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="file"; {disposition}'.encode(),
            b"Content-Type: application/octet-stream",
            b"",
            content,
            f"--{boundary}--".encode(),
            b"",
        ]
    )
    return client.post(item_url(item, "evidence/"), body, content_type=f"multipart/form-data; boundary={boundary}")


def download(client, evidence_json):
    return client.get(evidence_json["download"])


# --- Accepted evidence ---------------------------------------------------------------------


def test_pdf_is_stored_under_a_random_name_and_downloaded_as_an_attachment(as_alice, item, media):
    response = upload(as_alice, item, "备案回执.pdf", PDF, note="Filing receipt")

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["filename"] == "备案回执.pdf"
    assert data["content_type"] == "application/pdf"
    assert data["size"] == len(PDF)
    assert data["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert data["evidence_date"] == "2025-03-01"
    assert data["download"] == url(item.organization, f"evidence/{data['id']}/download/")
    stored = Path(Evidence.objects.get(pk=data["id"]).file.path)
    assert stored.is_relative_to(Path(media) / "evidence" / str(item.organization_id))
    assert "备案" not in stored.name
    assert stored.read_bytes() == PDF
    assert history_actions(item)[-1] == "evidence_added"

    response = download(as_alice, data)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''" + quote("备案回执.pdf") in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_note_only_and_link_only_evidence(as_alice, item):
    note = as_alice.post(
        item_url(item, "evidence/"), {"evidence_date": "2025-03-01", "note": "Board minutes 3/2025"}, format="multipart"
    )
    link = as_alice.post(
        item_url(item, "evidence/"),
        {"evidence_date": "2025-03-02", "url": "https://example.com/filing/123"},
        format="multipart",
    )

    assert note.status_code == 201, note.content
    assert link.status_code == 201, link.content
    assert (note.json()["note"], note.json()["download"], note.json()["filename"]) == ("Board minutes 3/2025", None, "")
    assert (link.json()["url"], link.json()["download"]) == ("https://example.com/filing/123", None)
    listed = as_alice.get(item_url(item, "evidence/")).json()
    assert [e["id"] for e in listed] == [note.json()["id"], link.json()["id"]]
    history = item.history.filter(action="evidence_added").order_by("id")
    assert [h.note for h in history] == ["Board minutes 3/2025", "https://example.com/filing/123"]
    # Evidence without a file has nothing to download.
    evidence_id = note.json()["id"]
    assert as_alice.get(url(item.organization, f"evidence/{evidence_id}/download/")).status_code == 404


@pytest.mark.parametrize(
    "data",
    [{"evidence_date": "2025-03-01"}, {"evidence_date": "2025-03-01", "note": "", "url": ""}],
)
def test_empty_evidence_is_refused(as_alice, item, data):
    response = as_alice.post(item_url(item, "evidence/"), data, format="multipart")

    assert response.status_code == 400
    assert "note" in response.json()
    assert not Evidence.objects.filter(item=item).exists()


def test_evidence_date_is_required_and_links_must_be_urls(as_alice, item):
    response = as_alice.post(item_url(item, "evidence/"), {"note": "x"}, format="multipart")
    assert response.status_code == 400
    assert "evidence_date" in response.json()
    link = {"evidence_date": "2025-03-01", "url": "javascript:alert(1)"}
    response = as_alice.post(item_url(item, "evidence/"), link, format="multipart")
    assert response.status_code == 400
    assert "url" in response.json()
    assert not Evidence.objects.filter(item=item).exists()


# --- Refused files -------------------------------------------------------------------------


def test_file_over_the_limit_is_refused(as_alice, item, settings):
    settings.EVIDENCE_MAX_BYTES = 64
    assert upload(as_alice, item, "ok.txt", b"x" * 64).status_code == 201

    response = upload(as_alice, item, "big.txt", b"x" * 65)

    assert response.status_code == 400
    assert "file" in response.json()
    assert "limit" in response.json()["file"][0]
    assert Evidence.objects.filter(item=item).count() == 1


@pytest.mark.parametrize("name", ["setup.exe", "page.html", "page.HTM", "image.svg", "noextension", "script.js"])
def test_forbidden_types_are_refused(as_alice, item, name):
    response = upload(as_alice, item, name, b"MZ\x90\x00" if name.endswith(".exe") else HTML)

    assert response.status_code == 400
    assert "file" in response.json()
    assert not Evidence.objects.filter(item=item).exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("receipt.pdf", HTML),
        ("receipt.pdf", PNG),
        ("photo.png", PDF),
        ("photo.jpg", HTML),
        ("report.docx", PDF),
        ("notes.txt", b"\xff\xfe\x00n\x00o\x00t\x00 \x00u\x00t\x00f\x008" * 4),
        ("empty.pdf", b""),
    ],
)
def test_content_that_does_not_match_the_extension_is_refused(as_alice, item, name, content):
    response = upload(as_alice, item, name, content)

    assert response.status_code == 400
    assert "file" in response.json()
    assert not Evidence.objects.filter(item=item).exists()


def test_large_chinese_csv_is_accepted(as_alice, item):
    rows = "".join(f"{n},深度合成服务算法备案及变更手续,已完成\n" for n in range(60000))
    content = ("编号,事项,状态\n" + rows).encode("utf-8")
    assert 2_621_440 < len(content) < 10 * 1024 * 1024  # streamed to a temporary file, under the limit
    boundaries = range(65536, len(content), 65536)
    assert any(0x80 <= content[b] < 0xC0 for b in boundaries)  # some chunk starts inside a character

    response = upload(as_alice, item, "台账.csv", content)

    assert response.status_code == 201, response.content


def test_text_file_ending_in_invalid_utf8_is_refused(as_alice, item):
    response = upload(as_alice, item, "notes.txt", b"plain text\xff")

    assert response.status_code == 400


# --- Hostile file names --------------------------------------------------------------------


def assert_safe(name: str) -> None:
    assert name
    assert "/" not in name and "\\" not in name
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in name)
    assert '"' not in name and ";" not in name
    assert name not in {".", ".."}
    assert len(name) <= 150


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('filename="../../etc/passwd.txt"', "passwd.txt"),
        ('filename="..\\..\\windows\\win.ini.txt"', "win.ini.txt"),
        ("filename*=UTF-8''..%2F..%2Fetc%2Fpasswd.txt", "passwd.txt"),
        ("filename*=UTF-8''line%0D%0AX-Injected%3A%201.txt", None),
        ('filename="say \\"hi\\"; rm -rf.txt"', None),
        ("filename*=UTF-8''%E2%80%AEtxt.exe.txt", None),  # right-to-left override
        ('filename="' + "a" * 300 + '.txt"', None),
    ],
)
def test_hostile_file_names_are_stored_safely(as_alice, item, media, disposition, expected):
    response = raw_upload(as_alice, item, disposition, b"harmless text")

    assert response.status_code == 201, response.content
    data = response.json()
    assert_safe(data["filename"])
    assert data["filename"].endswith(".txt")
    if expected:
        assert data["filename"] == expected
    evidence = Evidence.objects.get(pk=data["id"])
    assert Path(evidence.file.path).is_relative_to(Path(media) / "evidence")
    assert data["filename"] not in evidence.file.name

    response = download(as_alice, data)

    assert response.status_code == 200
    disposition_header = response["Content-Disposition"]
    assert disposition_header.startswith("attachment;")
    assert "\r" not in disposition_header and "\n" not in disposition_header
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"harmless text"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\x\\report.pdf", "report.pdf"),
        ("a\nb\r\tc.txt", "abc.txt"),
        ('quote"d;name.txt', "quote_d_name.txt"),
        ("\u202etxt.exe", "txt.exe"),
        ("..", "evidence"),
        ("", "evidence"),
        ("   .  ", "evidence"),
        ("报告.pdf", "报告.pdf"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_keeps_the_extension_of_long_names():
    name = safe_filename("x" * 400 + ".pdf")
    assert len(name) == 150
    assert name.endswith(".pdf")


def test_check_upload_reports_what_it_checked():
    checked = check_upload(SimpleUploadedFile("../a.png", PNG))
    assert (checked.safe_name, checked.content_type, checked.size) == ("a.png", "image/png", len(PNG))
    assert checked.sha256 == hashlib.sha256(PNG).hexdigest()
    assert checked.file.read() == PNG  # rewound for storage
    with pytest.raises(UploadRejected):
        check_upload(SimpleUploadedFile("a.png", PDF))


# --- Who may download ----------------------------------------------------------------------


def test_other_organizations_members_get_404(as_alice, item, make_user, make_organization, client_for):
    data = upload(as_alice, item, "receipt.pdf", PDF).json()
    other_admin = make_user("other-admin")
    other = make_organization(other_admin, "Other")
    as_other = client_for(other_admin)

    assert as_other.get(data["download"]).status_code == 404  # not a member of that organization
    own_url = url(other, f"evidence/{data['id']}/download/")
    assert as_other.get(own_url).status_code == 404  # through their own organization
    assert as_other.get(url(other, f"evidence/{data['id']}/")).status_code == 404


def test_viewer_may_download_but_not_add(as_alice, item, make_user, add_member, client_for):
    data = upload(as_alice, item, "receipt.pdf", PDF).json()
    viewer = make_user("viewer")
    add_member(item.organization, viewer, Membership.Role.VIEWER)
    as_viewer = client_for(viewer)

    assert download(as_viewer, data).status_code == 200
    assert upload(as_viewer, item, "more.pdf", PDF).status_code == 403
    assert Evidence.objects.filter(item=item).count() == 1
