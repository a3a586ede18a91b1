"""Reminders through real Celery worker processes, Redis, PostgreSQL and an SMTP server."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from obligations.models import Reminder, ReminderDigest
from obligations.services import reminders

from .conftest import DUE, at

ROOT = Path(__file__).resolve().parents[2]
WEEK_BEFORE = at(DUE - dt.timedelta(days=7))


# A queue of this test process's own: a task another run left in the broker's default queue
# (a killed run's pass, say) would otherwise reach these workers first.
QUEUE = f"reminder-tests-{os.getpid()}"


def dispatch(app, now: str):
    return app.send_task("obligations.tasks.dispatch_reminders", kwargs={"now": now}, queue=QUEUE)


def start_worker(redis_url: str, smtp_port: int, name: str) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REDIS_URL": redis_url,
        # The worker works on the test database, which the transactional test has committed.
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "-n", f"{name}-{os.getpid()}@%h", "-Q", QUEUE],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


@pytest.fixture
def celery_app(redis_url):
    from config.celery import app

    app.conf.broker_url = redis_url
    app.conf.result_backend = redis_url
    return app


@pytest.mark.services
@pytest.mark.real_broker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_send_neither_loses_nor_duplicates_the_digest(
    postgres, redis_url, celery_app, team, make_item, smtp
):
    import threading

    make_item(assignee=team["officer"])
    smtp.hold = threading.Event()  # the SMTP server stalls before it accepts anything
    first = start_worker(redis_url, smtp.port, "first")
    try:
        dispatch(celery_app, WEEK_BEFORE.isoformat())
        assert smtp.holding.wait(timeout=90), "the worker never reached the SMTP server"
        first.kill()  # SIGKILL in the middle of the SMTP conversation
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    smtp.hold.set()
    digest = ReminderDigest.objects.get()
    assert digest.status == ReminderDigest.Status.PENDING and digest.lease_until is not None
    assert smtp.messages == []

    second = start_worker(redis_url, smtp.port, "second")
    try:
        # While the dead worker's lease runs, nobody sends the digest...
        result = dispatch(celery_app, WEEK_BEFORE.isoformat())
        assert result.get(timeout=90)["sent"] == 0
        # ...and once it has expired, the restarted worker sends it, once.
        later = (WEEK_BEFORE + reminders.LEASE + dt.timedelta(seconds=1)).isoformat()
        result = dispatch(celery_app, later)
        assert result.get(timeout=90)["sent"] == 1
        result = dispatch(celery_app, later)
        assert result.get(timeout=90)["sent"] == 0
    finally:
        second.terminate()
        output = second.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in output, output
    assert [m["To"] for m in smtp.messages] == ["officer@example.com"]
    assert smtp.message_ids() == [digest.message_id]
    assert Reminder.objects.get(kind="before", offset_days=-7, recipient=team["officer"]).status == "sent"
