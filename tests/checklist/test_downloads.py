"""PDFs made in the background: asked for (checked at once), made by a task, fetched by the
person who asked, a failure recorded and said, old files deleted."""

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from obligations import exports
from obligations.models import Download
from obligations.services import downloads

from .conftest import MANAGEMENT, item_for, patch_item, url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def ask(client, organization, capture, **body):
    with capture(execute=True):  # the task runs once the request commits
        return client.post(url(organization, "downloads/"), body, format="json")


def test_the_checklist_pdf_holds_the_items_the_query_selects(
    shanghai, as_alice, pdf_tools, tmp_path, django_capture_on_commit_callbacks
):
    done = item_for(shanghai, MANAGEMENT)
    patch_item(as_alice, done, {"status": "done"})
    asked = ask(
        as_alice, shanghai, django_capture_on_commit_callbacks, kind="checklist", lang="en", query="status=done"
    )
    assert asked.status_code == 202, asked.content
    ready = as_alice.get(asked["Location"]).json()
    assert ready["status"] == "ready" and ready["filename"] == "checklist-shanghai-en.pdf"
    path = tmp_path / "checklist.pdf"
    path.write_bytes(b"".join(as_alice.get(ready["file"]).streaming_content))
    text = subprocess.run(["pdftotext", path, "-"], capture_output=True, check=True, text=True).stdout
    flat = " ".join(text.split())
    assert done.obligation.reference_in("en") in flat and "Items 1" in flat


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "audit_pack", "as_of": "2001-01-01"}, "as_of"),
        ({"kind": "checklist", "query": "status=someday"}, "query"),
        ({"kind": "letter"}, "kind"),
        ({"kind": "checklist", "lang": "fr"}, "lang"),
    ],
)
def test_a_bad_request_is_named_and_makes_nothing(shanghai, as_alice, body, field):
    response = as_alice.post(url(shanghai, "downloads/"), body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not Download.objects.exists()


def test_each_person_sees_only_their_own(shanghai, as_alice, make_user, add_member, client_for):
    download = Download.objects.create(
        organization=shanghai, requested_by=shanghai.memberships.first().user, kind="checklist"
    )
    viewer = make_user("vera")
    add_member(shanghai, viewer, "viewer")
    other = client_for(viewer)
    assert other.get(url(shanghai, f"downloads/{download.pk}/")).status_code == 404
    assert other.get(url(shanghai, "downloads/")).json()["results"] == []
    assert other.post(url(shanghai, "downloads/"), {"kind": "checklist"}, format="json").status_code == 202
    assert as_alice.get(url(shanghai, f"downloads/{download.pk}/file/")).status_code == 409  # not ready


def test_a_failure_is_recorded_and_said_on_the_page(
    shanghai, alice, as_alice, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exports, "pdf_document", broken)
    monkeypatch.setattr("obligations.services.downloads.checklist_pdf", broken)
    asked = ask(as_alice, shanghai, django_capture_on_commit_callbacks, kind="checklist")
    download = Download.objects.get(pk=asked.json()["id"])
    assert download.status == "failed" and "disk full" in download.error
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(alice)
    page = client.get(f"/organizations/{shanghai.pk}/downloads/").content.decode()
    assert "未能生成" in page and "disk full" not in page


def test_the_pages_ask_for_pdfs_and_the_list_refreshes_while_one_is_made(shanghai, alice):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(alice)
    base = f"/organizations/{shanghai.pk}/"
    checklist = client.get(base + "checklist/", {"status": "open"}).content.decode()
    assert re.search(r'<form method="post" action="/organizations/\d+/downloads/"', checklist)
    response = client.post(base + "downloads/", {"query": "status=open"})  # not run: still being made
    assert response.status_code == 302
    page = client.get(base + "downloads/").content.decode()
    assert 'hx-trigger="every 3s"' in page and "正在生成" in page
    assert Download.objects.get().params == {"lang": "zh", "query": "status=open"}
    today = timezone.localdate().isoformat()
    response = client.get(base + "audit-pack/", {"as_of": today, "lang": "en", "file": "pdf"})
    assert response.status_code == 302 and response["Location"].endswith("/downloads/")
    assert Download.objects.filter(kind="audit_pack", params={"lang": "en", "as_of": today}).exists()


def test_downloads_are_deleted_after_a_week_with_their_files(
    shanghai, as_alice, django_capture_on_commit_callbacks, pdf_tools
):
    ask(as_alice, shanghai, django_capture_on_commit_callbacks, kind="checklist", query="status=done")
    download = Download.objects.get()
    path = download.file.path
    assert downloads.downloads_expire(timezone.now() + dt.timedelta(days=6)) == 0
    assert downloads.downloads_expire(timezone.now() + dt.timedelta(days=8)) == 1
    assert not Download.objects.exists() and not Path(path).exists()
