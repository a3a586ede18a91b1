"""Redis lost and restored under a real gunicorn and a real Celery worker: while Redis is away
the API keeps answering (health reports the broker as failing; rate limits let requests
through), and once it is back the worker reconnects by itself and runs the next task."""

import os
import sys
import time
from pathlib import Path

import pytest
import requests
from celery import Celery

from obligations import services

from .conftest import record, service_environment, start_process, start_web, stop_processes

ROOT = Path(__file__).resolve().parents[2]


def _ping(redis_url: str, timeout: float) -> str:
    """Run the ping task on the worker, from a client of its own: this test's client side is
    not what is under test, and Celery's result consumer does not outlive a lost Redis."""
    client = Celery("probe", broker=redis_url, backend=redis_url, set_as_current=False)
    try:
        return client.send_task("config.tasks.ping", retry=True).get(timeout=timeout)
    finally:
        client.close()


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_redis_lost_and_restored_under_gunicorn_and_a_worker(postgres, throwaway_redis, tmp_path, django_user_model):
    admin = django_user_model.objects.create_user("ada", "ada@example.com", "pw-ada-123")
    organization = services.organization_create(user=admin, name="Acme", slug="acme")
    _token, secret = services.token_create(user=admin, name="probe")
    env = service_environment(throwaway_redis.url, tmp_path)
    web, base = start_web(env, tmp_path / "web.log")
    worker = start_process(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "-n", f"outage-{os.getpid()}@%h"],
        env, tmp_path / "worker.log",
    )  # fmt: skip
    try:
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {secret}"
        assert _ping(throwaway_redis.url, timeout=60) == "pong"

        throwaway_redis.stop()
        started = time.monotonic()
        answers = {
            "catalogue": api.get(f"{base}/api/v1/instruments/", timeout=30).status_code,
            "profile PATCH": api.patch(
                f"{base}/api/v1/organizations/{organization.pk}/profile/",
                json={"answers": {"employees": 12}},
                timeout=30,
            ).status_code,
        }
        health = api.get(f"{base}/api/v1/health/", timeout=30).json()
        while_down = time.monotonic() - started
        assert answers == {"catalogue": 200, "profile PATCH": 200}
        assert (health["status"], health["failing"]) == ("degraded", ["broker"])

        throwaway_redis.start()
        assert _ping(throwaway_redis.url, timeout=90) == "pong"  # the worker reconnected on its own
        assert api.get(f"{base}/api/v1/health/", timeout=30).json()["status"] in (
            "ok",
            "degraded",
        )  # the heartbeat may lag
        record(f"fault redis lost under gunicorn + worker: {answers}, health degraded, {while_down:.1f} s; worker back")
    finally:
        stop_processes(web, worker)
    worker_log = (tmp_path / "worker.log").read_text(errors="replace")
    web_log = (tmp_path / "web.log").read_text(errors="replace")
    # Tracebacks of the logged warning "rate limit not applied: cache unavailable" are expected;
    # a server error is not.
    assert "Internal Server Error" not in web_log, web_log[-3000:]
    assert "Connected to redis" in worker_log, worker_log[-3000:]
