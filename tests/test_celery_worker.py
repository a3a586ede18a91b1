"""A real Celery worker process against the real Redis broker."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.services
@pytest.mark.real_broker
def test_worker_process_runs_a_task_and_returns_its_result(redis_url):
    env = {**os.environ, "REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
         "--loglevel=WARNING", "--without-gossip", "--without-mingle", "-n", f"test-{os.getpid()}@%h",
         "--queues", f"ping-{os.getpid()}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        from config.celery import app

        app.conf.broker_url = redis_url
        app.conf.result_backend = redis_url
        result = app.send_task("config.tasks.ping", queue=f"ping-{os.getpid()}")
        assert result.get(timeout=60) == "pong"
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in output, output
