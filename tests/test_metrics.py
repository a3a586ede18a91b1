"""/metrics, its access rule and request counts; multiprocess mode; JSON logs; Sentry reports.
The reminder counts are in tests/reminders/test_metrics.py."""

import gzip
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import brotli
import pytest
import sentry_sdk

from tests.metrics import scrape

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.django_db


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """``code`` in a new process with Django set up, and these environment variables."""
    return subprocess.run(
        [sys.executable, "-c", f"import django\ndjango.setup()\n{code}"],
        cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip


def test_metrics_answer_a_scraper_on_this_host_only_without_a_token(client):
    assert client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 403
    # A proxy on this host relays requests from anywhere.
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 403
    assert client.post("/metrics").status_code == 405


def test_metrics_with_a_token_answer_that_bearer_only(client, settings):
    settings.METRICS_TOKEN = "s3cret-scraper-token"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="s3cret-scraper-token").status_code == 403
    answer = client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer s3cret-scraper-token")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/plain; version=1.0.0; charset=utf-8"
    assert "no-cache" in answer["Cache-Control"] and "Set-Cookie" not in answer


def test_requests_are_counted_by_route_never_by_path(client, api, alice, acme):
    api.force_authenticate(alice)
    before = scrape(client)
    assert api.get(f"/api/v1/organizations/{acme.pk}/").status_code == 200
    assert api.get("/api/v1/organizations/987654/").status_code == 404
    assert client.get("/no/such/page/12345/").status_code == 404
    after = scrape(client)

    def grown(**labels) -> float:
        return after("http_requests_total", **labels) - before("http_requests_total", **labels)

    detail = {"method": "GET", "route": "organization-detail"}
    assert (grown(**detail, status="2xx"), grown(**detail, status="4xx")) == (1, 1)
    assert grown(method="GET", route="unmatched", status="4xx") == 1
    count = "http_request_duration_seconds_count"
    assert after(count, **detail) - before(count, **detail) == 2
    assert not [labels for name, labels in after if name == "http_requests_total" and "987654" in str(labels)]


def test_processes_sharing_a_multiprocess_folder_are_summed(client, tmp_path, monkeypatch):
    count = "from config import metrics\nmetrics.delivery('webhook', 'retry', 0.2)"
    for _ in range(2):
        run_python(count, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    scraped = scrape(client)
    assert scraped("deliveries_total", channel="webhook", outcome="retry") == 2
    assert scraped("delivery_duration_seconds_count", channel="webhook") == 2
    assert scraped("delivery_duration_seconds_sum", channel="webhook") == pytest.approx(0.4)


def test_ended_gunicorn_and_celery_processes_leave_no_live_gauges(tmp_path, monkeypatch):
    from celery.signals import worker_process_shutdown

    from config import gunicorn

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for pid in (101, 102):
        (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
        (tmp_path / f"counter_{pid}.db").write_bytes(b"")
    gunicorn.child_exit(None, type("Worker", (), {"pid": 101}))
    worker_process_shutdown.send(sender=None, pid=102, exitcode=0)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["counter_101.db", "counter_102.db"]


def test_delivery_refuses_an_unknown_channel_or_outcome():
    from config import metrics

    with pytest.raises(ValueError, match="unknown delivery channel or outcome: 'slack', 'delivered'"):
        metrics.delivery("slack", "delivered")


def test_json_logs_are_one_object_a_line():
    code = (
        "import logging\n"
        "log = logging.getLogger('obligations.services.reminders')\n"
        "log.warning('digest %s refused', 'm-1', extra={'attempt': 2})\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError:\n    log.exception('pass failed')\n"
    )
    lines = run_python(code, LOG_FORMAT="json").stderr.splitlines()
    refused, failed = (json.loads(line) for line in lines)
    assert set(refused) == {"asctime", "levelname", "name", "message", "attempt"}
    assert (refused["levelname"], refused["name"], refused["message"], refused["attempt"]) == (
        "WARNING", "obligations.services.reminders", "digest m-1 refused", 2
    )  # fmt: skip
    assert (failed["message"], failed["exc_info"].splitlines()[-1]) == (
        "pass failed", "ZeroDivisionError: division by zero"
    )  # fmt: skip


def test_an_unknown_log_format_stops_the_start():
    with pytest.raises(subprocess.CalledProcessError) as failure:
        run_python("", LOG_FORMAT="xml")
    assert "LOG_FORMAT must be plain or json." in failure.value.stderr


def test_sentry_is_off_without_a_dsn(settings):
    assert settings.SENTRY_DSN == ""
    assert sentry_sdk.get_client().is_active() is False


class Ingest(http.server.BaseHTTPRequestHandler):
    """Sentry's ingest endpoint, keeping the envelopes it receives."""

    envelopes: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        body = brotli.decompress(body) if encoding == "br" else gzip.decompress(body) if encoding == "gzip" else body
        self.envelopes.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format, *args):
        pass


def test_an_error_logged_with_a_dsn_reaches_sentry():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ingest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        code = (
            "import logging, sentry_sdk\n"
            "logging.getLogger('obligations.services.reminders').error('reminder pass failed')\n"
            "sentry_sdk.flush(timeout=10)\n"
        )
        dsn = f"http://publickey@127.0.0.1:{server.server_address[1]}/1"
        run_python(code, SENTRY_DSN=dsn, SENTRY_ENVIRONMENT="staging")
    finally:
        server.shutdown()
        server.server_close()
    events = [
        json.loads(line)
        for envelope in Ingest.envelopes
        for line in envelope.splitlines()
        if line.startswith(b"{") and b'"logentry"' in line
    ]
    assert [(e["logentry"]["message"], e["environment"], e["level"]) for e in events] == [
        ("reminder pass failed", "staging", "error")
    ]
