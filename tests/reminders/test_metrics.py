"""A reminder pass against a real SMTP server, read back from /metrics as Prometheus reads it.

Counters belong to the test process and grow from test to test, so single-process tests
compare a scrape after the pass with one before it."""

import datetime as dt
import json

import pytest
import time_machine

from config.celery import app as celery_app
from obligations.models import ReminderDigest
from obligations.services import reminders
from tests.metrics import scrape

from .conftest import DUE, at
from .test_worker import dispatch, start_worker

pytestmark = pytest.mark.django_db

WEEK_BEFORE = at(DUE - dt.timedelta(days=7))
LAG_COUNTERS = ("reminder_lag_seconds_count", "reminder_lag_seconds_sum")


def grown(before, after, *names, **labels) -> list[float]:
    return [after(name, **labels) - before(name, **labels) for name in names]


def test_a_pass_is_counted_from_due_to_accepted(team, make_item, smtp, client):
    make_item(assignee=team["officer"])
    make_item(assignee=team["officer"])
    before = scrape(client)
    three_minutes_late = WEEK_BEFORE + dt.timedelta(minutes=3)
    assert reminders.dispatch(now=three_minutes_late) == {
        "reminders": 2, "sent": 1, "dropped": 0, "retry": 0, "failed": 0
    }  # fmt: skip
    after = scrape(client)
    assert grown(before, after, "reminders_queued_total", "reminders_late_total", "reminders_sent_total") == [2, 0, 2]
    assert grown(before, after, "deliveries_total", channel="email", outcome="delivered") == [1]
    assert grown(before, after, "delivery_duration_seconds_count", channel="email") == [1]
    # Both reminders fell due at the officer's hour, 09:00 in Shanghai, and went at 09:03.
    assert grown(before, after, *LAG_COUNTERS) == [2, 360]
    assert grown(before, after, "reminder_lag_seconds_bucket", le="60.0") == [0]
    assert grown(before, after, "reminder_lag_seconds_bucket", le="300.0") == [2]
    assert after("delivery_pending", channel="email") == 0
    assert after("delivery_failed", channel="email") == 0
    assert after("reminder_last_pass_timestamp_seconds") == three_minutes_late.timestamp()
    assert after("metrics_source_up", source="database") == 1


def test_refusals_count_as_retries_then_failures_and_the_wait_shows(team, make_item, smtp, client):
    make_item(assignee=team["officer"])
    smtp.refuse = 2
    before = scrape(client)
    assert reminders.dispatch(now=WEEK_BEFORE)["retry"] == 1
    digest = ReminderDigest.objects.get()
    assert digest.next_attempt_at == WEEK_BEFORE + dt.timedelta(minutes=1)
    # Ten minutes on, the digest has waited nine past its retry time.
    with time_machine.travel(WEEK_BEFORE + dt.timedelta(minutes=10), tick=False):
        waiting = scrape(client)
    assert waiting("delivery_pending", channel="email") == 1
    assert waiting("delivery_delay_seconds", channel="email") == 540
    ReminderDigest.objects.update(attempts=reminders.MAX_ATTEMPTS - 1)
    assert reminders.dispatch(now=WEEK_BEFORE + dt.timedelta(minutes=10))["failed"] == 1
    after = scrape(client)
    assert grown(before, after, "deliveries_total", channel="email", outcome="retry") == [1]
    assert grown(before, after, "deliveries_total", channel="email", outcome="failed") == [1]
    assert grown(before, after, "delivery_duration_seconds_count", channel="email") == [2]
    assert grown(before, after, "reminders_sent_total", *LAG_COUNTERS) == [0, 0, 0]
    assert (after("delivery_pending", channel="email"), after("delivery_failed", channel="email")) == (0, 1)


def test_a_reminder_missed_in_downtime_counts_late_with_its_lag(team, make_item, smtp, client):
    make_item(assignee=team["officer"])
    reminders.dispatch(now=at(DUE - dt.timedelta(days=30)))
    before = scrape(client)
    assert reminders.dispatch(now=WEEK_BEFORE + dt.timedelta(days=1))["sent"] == 1  # no pass for a day
    after = scrape(client)
    assert grown(before, after, "reminders_queued_total", "reminders_late_total", "reminders_sent_total") == [1, 1, 1]
    assert grown(before, after, *LAG_COUNTERS) == [1, 86400]
    assert grown(before, after, "reminder_lag_seconds_bucket", le="43200.0") == [0]
    assert grown(before, after, "reminder_lag_seconds_bucket", le="86400.0") == [1]


def test_a_finished_item_drops_its_digest(team, make_item, smtp, client):
    from django.db import transaction

    item = make_item(assignee=team["officer"])
    with transaction.atomic():
        reminders.assemble([team["organization"].pk], now=WEEK_BEFORE)
    item.status = "done"
    item.save(update_fields=["status"])
    before = scrape(client)
    assert reminders.deliver_pending(now=WEEK_BEFORE)["dropped"] == 1
    after = scrape(client)
    assert grown(before, after, "deliveries_total", channel="email", outcome="dropped") == [1]
    assert grown(before, after, "delivery_duration_seconds_count", channel="email") == [0]


def test_queue_length_is_read_from_the_broker(client, monkeypatch):
    queue = "metrics-test"
    monkeypatch.setitem(celery_app.conf, "task_default_queue", queue)
    with celery_app.connection_for_write() as connection:
        # Straight into the queue (the default exchange), so no binding outlives the test.
        producer = connection.Producer()
        for number in range(3):
            producer.publish({"number": number}, routing_key=queue)
        try:
            assert scrape(client)("celery_queue_length", queue=queue) == 3
        finally:
            connection.default_channel.queue_purge(queue)
    assert scrape(client)("celery_queue_length", queue=queue) == 0


@pytest.mark.services
@pytest.mark.real_broker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_process_pass_shows_on_the_web_metrics_and_logs_json(
    postgres, redis_url, team, make_item, smtp, client, tmp_path, monkeypatch
):
    """The worker and the web process share a multiprocess folder, as on one host; the worker
    logs JSON lines with LOG_FORMAT=json."""
    monkeypatch.setitem(celery_app.conf, "broker_url", redis_url)
    monkeypatch.setitem(celery_app.conf, "result_backend", redis_url)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("LOG_FORMAT", "json")
    make_item(assignee=team["officer"])
    make_item(assignee=team["officer"])
    worker = start_worker(redis_url, smtp.port, "metrics")
    try:
        result = dispatch(celery_app, (WEEK_BEFORE + dt.timedelta(minutes=3)).isoformat())
        assert result.get(timeout=90)["sent"] == 1
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
    # Only this folder's values: the worker's, not the test process's own counters.
    scraped = scrape(client)
    assert scraped("reminders_queued_total") == 2
    assert scraped("reminders_sent_total") == 2
    assert scraped("deliveries_total", channel="email", outcome="delivered") == 1
    assert (scraped("reminder_lag_seconds_count"), scraped("reminder_lag_seconds_sum")) == (2, 360)
    assert scraped("delivery_pending", channel="email") == 0
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    # Celery's own records too: the worker logs through the project's LOGGING, not its own.
    assert {"celery.app.trace", "celery.worker.strategy"} <= {entry["name"] for entry in logged}
    sent = [entry for entry in logged if entry["name"] == "obligations.services.reminders"]
    assert [(entry["levelname"], entry["message"][:16]) for entry in sent] == [("INFO", "reminder digest ")]
    assert "Traceback" not in output, output
