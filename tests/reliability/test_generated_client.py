"""A client generated from the live schema works: openapi-python-client writes a Python package
from /api/schema/ of the running service (gunicorn with the production configuration on
PostgreSQL and Redis), and generated_client_flow.py drives it through a compliance officer's
first steps. A schema that generators misread (two media types for one body, clashing
operation ids) fails here, not in a customer's build."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from obligations.models import ChecklistItem, Membership, Organization

from .conftest import World, service_environment, start_web, stop_processes

FLOW = Path(__file__).with_name("generated_client_flow.py")
GENERATOR_CONFIG = {
    # The generated code is run, not read: no formatting with ruff afterwards.
    "post_hooks": [],
    # Files (the audit pack's workbook, PDFs) are bytes to a client; the generator reads bytes as
    # application/octet-stream only and would leave these responses out with a warning. Any
    # other warning fails the test.
    "content_type_overrides": {
        "application/pdf": "application/octet-stream",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "application/octet-stream",
    },
}
CSV_HEADER = [
    "Item", "Instrument", "Provision", "Obligation", "Quoted text", "Period", "Phase", "Kind", "Applicability",
    "Why it applies", "Status", "Due date", "How the due date was set", "Assignee", "Completed by", "Completed at",
    "Reason it does not apply", "Evidence", "Why it was set aside", "Link",
]  # fmt: skip


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_client_generated_from_the_live_schema_runs_the_officers_flow(postgres, redis_url, world: World, tmp_path):
    env = service_environment(redis_url, tmp_path)
    web, base = start_web(env, tmp_path / "web.log")
    try:
        (tmp_path / "generator.json").write_text(json.dumps(GENERATOR_CONFIG))
        generate = [
            str(Path(sys.executable).with_name("openapi-python-client")), "generate",
            "--url", f"{base}/api/schema/?format=json", "--config", str(tmp_path / "generator.json"),
            "--meta", "none", "--output-path", str(tmp_path / "cot_client"), "--fail-on-warning",
        ]  # fmt: skip
        generated = subprocess.run(generate, capture_output=True, text=True, timeout=120, check=False)
        assert generated.returncode == 0, generated.stdout + generated.stderr
        flow = subprocess.run(
            [sys.executable, str(FLOW), base, world.secret],
            env={**os.environ, "PYTHONPATH": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        stop_processes(web)
    web_log = (tmp_path / "web.log").read_text(errors="replace")
    assert flow.returncode == 0, flow.stdout + flow.stderr + "\n--- web log ---\n" + web_log[-6000:]
    seen = json.loads(flow.stdout)

    assert seen["statuses"] == {
        "create organization": 201,
        "patch profile": 200,
        "report event": 201,
        "list checklist": 200,
        "read item": 200,
        "patch item": 200,
        "patch item, stale ETag": 412,
        "download CSV": 200,
    }
    organization = Organization.objects.get(slug="generated-client")
    assert (seen["organization"], organization.name) == (organization.pk, "Generated Client Ltd")
    assert Membership.objects.get(organization=organization).user == world.admin
    assert seen["profile version"] == 1
    listed = ChecklistItem.objects.filter(organization=organization, superseded_at__isnull=True).duties()
    assert seen["listed"] == listed.count() > 0
    item = ChecklistItem.objects.get(pk=seen["item"], organization=organization)
    assert (item.status, item.completed_by) == ("done", world.admin)
    assert (seen["item status"], seen["new ETag"]) == ("done", True)
    assert seen["CSV type"] == "text/csv; charset=utf-8"
    assert seen["CSV header"] == CSV_HEADER
    assert sorted(seen["CSV rows"]) == sorted(str(pk) for pk in listed.values_list("pk", flat=True))
    row = dict(zip(CSV_HEADER, seen["CSV rows"][str(item.pk)], strict=True))
    assert (row["Item"], row["Status"], row["Completed by"]) == (
        item.obligation.title_in("en"),
        "Done",
        "lingang-admin",
    )
    assert "Internal Server Error" not in web_log, web_log[-3000:]
