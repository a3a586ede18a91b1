"""Obligations that ask for the same act (the algorithm filing of the Deep Synthesis Provisions
art. 19 and of the Algorithm Recommendation Provisions art. 24): each item names the others
with the organization's items of them, and one piece of evidence is attached to several."""

import hashlib
import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from obligations.models import ChecklistItem, Evidence
from regulations.catalog.validation import CATALOG_DIR, CatalogInvalid, read_catalog
from tests.factories import SHANGHAI_APP

from .conftest import FILING, item_for, item_url, report_event, url

pytestmark = pytest.mark.django_db

ALGORITHM_FILING = "cn-algorithm-recommendation-2021:art24-filing"
RECEIPT = b"%PDF-1.4 algorithm filing receipt"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def both(alice, as_alice, make_organization):
    """A Lingang company that recommends content by algorithm and offers deep synthesis, with
    public-opinion attributes, launched on 20 January 2025: both filings apply."""
    roles = [*SHANGHAI_APP["roles"], "algorithm_recommendation_provider"]
    organization = make_organization(alice, "Both", profile={**SHANGHAI_APP, "roles": roles})
    launch = report_event(as_alice, organization, "service_launched", "2025-01-20")
    organization.deep = item_for(organization, FILING, f"event:{launch}")
    organization.algorithm = item_for(organization, ALGORITHM_FILING, f"event:{launch}")
    return organization


def test_each_item_names_the_duties_that_ask_for_the_same_act(both, as_alice):
    detail = as_alice.get(item_url(both.deep), HTTP_ACCEPT_LANGUAGE="en").json()
    same = detail["same_act"]
    assert same["act"] == "Algorithm filing" and "art. 24" in same["description"]
    duties = {d["obligation"]: d for d in same["duties"]}
    assert set(duties) == {ALGORITHM_FILING, "cn-deep-synthesis-2022:art19-filing-file-supporter"}
    assert [i["id"] for i in duties[ALGORITHM_FILING]["items"]] == [both.algorithm.pk]
    assert duties["cn-deep-synthesis-2022:art19-filing-file-supporter"]["items"] == []  # not a supporter
    back = as_alice.get(item_url(both.algorithm), HTTP_ACCEPT_LANGUAGE="zh-hans").json()["same_act"]
    assert back["act"] == "算法备案" and FILING in {d["obligation"] for d in back["duties"]}
    other = ChecklistItem.objects.filter(organization=both, obligation__act__isnull=True).first()
    assert as_alice.get(item_url(other)).json()["same_act"] is None


def test_one_receipt_is_attached_to_both_filings(both, as_alice, make_user, make_organization):
    upload = {"evidence_date": "2025-01-28", "file": SimpleUploadedFile("算法备案回执.pdf", RECEIPT)}
    evidence = as_alice.post(item_url(both.deep, "evidence/"), upload, format="multipart").json()
    share = url(both, f"evidence/{evidence['id']}/share/")

    response = as_alice.post(share, {"items": [both.algorithm.pk]}, format="json")

    assert response.status_code == 201, response.content
    [copy] = response.json()
    assert copy["sha256"] == hashlib.sha256(RECEIPT).hexdigest() and copy["filename"] == "算法备案回执.pdf"
    assert copy["evidence_date"] == "2025-01-28"
    download = as_alice.get(url(both, f"evidence/{copy['id']}/download/"))
    assert b"".join(download.streaming_content) == RECEIPT
    assert both.algorithm.history.filter(action="evidence_added").count() == 1
    # Not twice, not to another organization's item, not to nothing.
    again = as_alice.post(share, {"items": [both.algorithm.pk]}, format="json")
    assert again.status_code == 400 and "items" in again.json()
    stranger = make_organization(make_user("sam"), "Other", profile=SHANGHAI_APP)
    foreign = ChecklistItem.objects.filter(organization=stranger).first()
    refused = as_alice.post(share, {"items": [foreign.pk]}, format="json")
    assert refused.status_code == 400 and not Evidence.objects.filter(item=foreign).exists()
    assert as_alice.post(share, {"items": []}, format="json").status_code == 400


def test_the_item_page_shows_the_linked_duties_and_shares_evidence(both, alice, as_alice):
    upload = {"evidence_date": "2025-01-28", "note": "备案编号 网信算备 310000000000001"}
    evidence = as_alice.post(item_url(both.deep, "evidence/"), upload, format="multipart").json()
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(alice)
    page_url = f"/organizations/{both.pk}/checklist/{both.deep.pk}/"
    page = client.get(page_url).content.decode()
    assert "其他文件中的同一行为" in page and "算法备案" in page
    assert f'href="/organizations/{both.pk}/checklist/{both.algorithm.pk}/"' in page
    response = client.post(page_url, {"action": "share", "evidence": evidence["id"], "items": [both.algorithm.pk]})
    assert response.status_code == 302
    assert Evidence.objects.get(item=both.algorithm).note == upload["note"]


def test_an_act_must_name_obligations_that_exist(tmp_path):
    root = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    acts = root / "vocabulary" / "acts.yaml"
    text = acts.read_text(encoding="utf-8").replace(f"- {ALGORITHM_FILING}\n", "- cn-nowhere:art1\n")
    acts.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogInvalid) as excinfo:
        read_catalog(root)
    assert [e.message for e in excinfo.value.errors] == ["no obligation cn-nowhere:art1"]
