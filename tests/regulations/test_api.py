import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import jsonschema
import pytest
from django.core.management import call_command
from referencing import Registry, Resource

from regulations.catalog.validation import CATALOG_DIR
from regulations.models import Instrument, Obligation

pytestmark = pytest.mark.django_db


def test_instruments_list_is_public_and_paginated(api):
    response = api.get("/api/v1/instruments/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == Instrument.objects.filter(retired=False).count()
    first = body["results"][0]
    assert set(first) >= {"code", "title_zh", "title_en", "status", "jurisdiction", "effective", "expires"}


def test_jurisdiction_filter_includes_ancestors(api):
    codes = {
        i["jurisdiction"] for i in api.get("/api/v1/instruments/?jurisdiction=CN-SH-LG&page_size=200").json()["results"]
    }
    assert "CN" in codes and codes <= {"CN", "CN-SH", "CN-SH-LG"}
    pudong = {i["code"] for i in api.get("/api/v1/instruments/?jurisdiction=CN-SH-PD&page_size=200").json()["results"]}
    assert not any(Instrument.objects.get(code=c).jurisdiction_id == "CN-SH-LG" for c in pudong)


def test_unknown_filter_and_unknown_jurisdiction_are_400(api):
    response = api.get("/api/v1/instruments/?jurisdication=CN")
    assert response.status_code == 400
    assert response.json() == {"jurisdication": ["Unknown query parameter."]}
    response = api.get("/api/v1/instruments/?jurisdiction=CN-XX")
    assert response.status_code == 400
    assert "jurisdiction" in response.json()
    assert api.get("/api/v1/obligations/?kind=obligatory").status_code == 400


def test_status_and_text_filters(api):
    drafts = api.get("/api/v1/instruments/?status=draft_for_comment&page_size=200").json()["results"]
    assert drafts and all(i["status"] == "draft_for_comment" for i in drafts)
    found = api.get("/api/v1/instruments/?q=深度合成").json()["results"]
    assert "cn-deep-synthesis-2022" in {i["code"] for i in found}


def test_instrument_detail_provisions_and_obligations(api):
    detail = api.get("/api/v1/instruments/cn-deep-synthesis-2022/").json()
    assert detail["status"] == "in_force" and detail["effective"] == "2023-01-10"
    assert (
        len(detail["obligations"])
        == Obligation.objects.filter(instrument__code="cn-deep-synthesis-2022", retired=False).count()
    )
    provisions = api.get("/api/v1/instruments/cn-deep-synthesis-2022/provisions/").json()
    art19 = next(p for p in provisions if p["label"] == "第十九条")
    assert art19["text"].startswith("第十九条 具有舆论属性或者社会动员能力的深度合成服务提供者")
    obligations = api.get("/api/v1/instruments/cn-deep-synthesis-2022/obligations/").json()
    assert {o["ref"] for o in obligations} >= {"第十九条", "第十七条"}
    assert api.get("/api/v1/instruments/no-such-thing/").status_code == 404


def test_obligation_filters(api, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        body = api.get("/api/v1/obligations/?role=app_operator&kind=duty&page_size=200").json()
    assert body["count"] > 0
    assert all("app_operator" in o["roles"] and o["kind"] == "duty" for o in body["results"])
    after_event = api.get("/api/v1/obligations/?deadline_kind=after_event&instrument=cn-deep-synthesis-2022").json()
    assert all(o["deadline"]["kind"] == "after_event" for o in after_event["results"])
    one = body["results"][0]
    detail = api.get(f"/api/v1/obligations/{one['instrument']}:{one['id']}/")
    assert detail.status_code == 200 and detail.json()["quote_zh"] == one["quote_zh"]


def test_list_query_count_is_constant(api, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        api.get("/api/v1/obligations/?page_size=10")
    with django_assert_max_num_queries(6):
        api.get("/api/v1/obligations/?page_size=200")


def test_vocabulary_endpoints(api):
    roles = {r["key"] for r in api.get("/api/v1/roles/").json()}
    assert {"deep_synthesis_provider", "app_operator"} <= roles
    facts = {f["key"]: f for f in api.get("/api/v1/facts/").json()}
    assert facts["features"]["type"] == "set"
    assert "biometric_editing" in {v["key"] for v in facts["features"]["values"]}
    assert "app_operator" in {v["key"] for v in facts["roles"]["values"]}  # the roles, as values
    assert {"key": "CN-SH-LG", "parent": "CN-SH"}.items() <= next(
        v for v in facts["registered_in"]["values"] if v["key"] == "CN-SH-LG"
    ).items()
    assert facts["service_launched"]["type"] == "event_date"  # events are facts rules ask about too
    lg = api.get("/api/v1/jurisdictions/CN-SH-LG/").json()
    assert lg["parent"] == "CN-SH"
    schema = api.get("/api/v1/catalog/schema/").json()
    assert schema["title"] == "Catalogue instrument file"


def test_export_catalog_validates_against_the_export_schema():
    out = StringIO()
    call_command("export_catalog", stdout=out)
    data = json.loads(out.getvalue())
    file_schema = json.loads((CATALOG_DIR / "schema.json").read_text(encoding="utf-8"))
    export_schema = json.loads((CATALOG_DIR / "export.schema.json").read_text(encoding="utf-8"))
    registry = Registry().with_resource("catalog-instrument.schema.json", Resource.from_contents(file_schema))
    registry = registry.with_resource(file_schema["$id"], Resource.from_contents(file_schema))
    jsonschema.Draft202012Validator(export_schema, registry=registry).validate(data)
    assert len(data) == Instrument.objects.filter(retired=False).count()
    deep = next(i for i in data if i["code"] == "cn-deep-synthesis-2022")
    assert {"ref", "roles", "actor_zh", "quote_zh", "modality", "kind", "phase", "deadline", "conditions"} <= set(
        deep["obligations"][0]
    )


def test_openapi_schema_is_valid_and_has_no_warnings():
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null"],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
