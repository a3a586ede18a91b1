"""schemathesis against the running service, as an outside client sees it: gunicorn with the
production configuration on PostgreSQL and Redis, every phase (the schema's examples, the
coverage phase's boundary and invalid values, random fuzzing, and stateful sequences that
follow the links between operations), authenticated as the admin of an organization with
data. Zero server errors and zero answers outside the published schema are allowed. Bounded
by a time budget and a fixed seed."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import World, record, service_environment, start_web, stop_processes

BUDGET_SECONDS = 120
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_live_service_passes_every_schemathesis_phase(postgres, redis_url, world: World, tmp_path):
    # Rate limits would turn the run into 429s; they have tests of their own.
    env = service_environment(redis_url, tmp_path, THROTTLE_ANON="1000000/min", THROTTLE_USER="1000000/min")
    web, base = start_web(env, tmp_path / "web.log")
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run", f"{base}/api/schema/?format=json",
        "--phases", "examples,coverage,fuzzing,stateful", "--checks", ",".join(CHECKS),
        "--max-examples", "10", "--max-time", str(BUDGET_SECONDS), "--seed", "20261206",
        "--header", f"Authorization: Bearer {world.secret}", "--request-timeout", "30",
        "--warnings", "off", "--no-color",
    ]  # fmt: skip
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=BUDGET_SECONDS + 240, check=False)
    finally:
        stop_processes(web)
    output = run.stdout + run.stderr
    generated = re.search(r"(\d+) generated", output)
    phases = re.findall(r"^\s*(Examples|Coverage|Fuzzing|Stateful)\b.*$", output, re.MULTILINE)
    summary = " ".join(line.strip() for line in re.findall(r"^.*(?:passed|failed|skipped).*$", output, re.M)[:6])
    record(
        f"schemathesis live ({', '.join(phases) or 'phases'}): {generated.group(1) if generated else '?'} cases, "
        f"exit {run.returncode}; {summary}"
    )
    web_log = (tmp_path / "web.log").read_text(errors="replace")
    assert run.returncode == 0, output[-6000:] + "\n--- web log ---\n" + web_log[-6000:]
    assert "Internal Server Error" not in web_log, web_log[-3000:]
