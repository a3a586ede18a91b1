"""Dependencies failing while the API serves. Redis (cache and broker) stopping must not stop
the API: it answers, rate limits let requests through, and health says "degraded". PostgreSQL
unreachable: every API answer is a 503 in JSON that says so, without a stack trace. (SMTP
refusing mail is covered in tests/reminders/test_dispatch.py.)"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.test import Client

from config.celery import app as celery_app
from tests.factories import SHANGHAI_APP, password_for

from .conftest import free_port, org_url, record

ROOT = Path(__file__).resolve().parents[2]


# --- Redis stopped -------------------------------------------------------------------------


@pytest.fixture
def own_redis(settings, monkeypatch, throwaway_redis):
    """Cache and broker in a Redis server of the test's own (setting CACHES resets Django's
    per-thread cache connections, as override_settings does)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": throwaway_redis.url}
    }
    monkeypatch.setattr(celery_app.conf, "broker_url", throwaway_redis.url)
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "anon": "2/min", "user": "1000/min"},
    }
    return throwaway_redis


def test_api_keeps_serving_when_redis_stops(world, own_redis):
    api, anonymous = world.api, Client()
    deadline_request = {"start": "2025-01-20", "amount": 10, "unit": "working_days"}
    # While Redis is up, health is ok and the rate limits count in it.
    health = api.get("/api/v1/health/")
    assert (health.status_code, health.json()["status"]) == (200, "ok"), health.json()
    assert api.get(org_url(world.organization, "checklist/")).status_code == 200
    assert redis.Redis.from_url(own_redis.url).keys("*throttle_user*")

    own_redis.stop()
    outcomes = {}
    started = time.monotonic()

    response = api.get(org_url(world.organization, "checklist/"))
    outcomes["checklist list"] = response.status_code
    assert response.status_code == 200 and response.json()["count"] > 0

    change = {"answers": {"sectors": ["education"]}}
    response = api.patch(org_url(world.organization, "profile/"), change, format="json")
    outcomes["profile PATCH"] = response.status_code
    assert response.status_code == 200, response.content
    assert response.json()["answers"] == {**SHANGHAI_APP, "sectors": ["education"]}

    response = api.get(org_url(world.organization, "applicability/"))
    outcomes["applicability"] = response.status_code
    assert response.status_code == 200 and response.json()["counts"]["applies"] > 0

    # Rate limits cannot count without Redis: requests are let through, not refused or failed.
    computed = [anonymous.post("/api/v1/deadlines/compute", deadline_request, content_type="application/json")]
    computed += [anonymous.post("/api/v1/deadlines/compute", deadline_request, content_type="application/json")]
    computed += [anonymous.post("/api/v1/deadlines/compute", deadline_request, content_type="application/json")]
    outcomes["anonymous over the rate limit"] = [r.status_code for r in computed]
    assert [r.status_code for r in computed] == [200, 200, 200]

    # Sign-in failures are counted in the database (django-axes): without Redis, sign-in still works.
    credentials = {"username": world.admin.username, "password": password_for(world.admin.username)}
    response = Client().post("/accounts/login/", credentials)
    outcomes["sign-in"] = response.status_code
    assert response.status_code == 302

    health = api.get("/api/v1/health/")
    outcomes["health"] = (health.status_code, health.json()["status"], health.json()["failing"])
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["failing"] == ["broker"]
    assert health.json()["checks"]["database"]["ok"] is True
    assert health.json()["checks"]["scheduler"] == {"last_heartbeat": None}
    elapsed = time.monotonic() - started
    assert elapsed < 30, f"answers took {elapsed:.1f} s without Redis"
    record(f"fault redis stopped: {outcomes} in {elapsed:.1f} s")


# --- PostgreSQL unreachable ----------------------------------------------------------------

# Run in a fresh process whose DATABASE_URL names a port nothing listens on.
UNREACHABLE_SCRIPT = """
import json, sys
import django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
bearer = {"HTTP_AUTHORIZATION": "Bearer cot_whatever"}
requests = {
    "catalogue list": ("get", "/api/v1/instruments/", {}),
    "catalogue item": ("get", "/api/v1/obligations/cn-deep-synthesis-2022:art7-management-systems/", {}),
    "deadline compute": ("post", "/api/v1/deadlines/compute", {"data": {"start": "2025-01-20", "amount": 10,
                         "unit": "working_days"}, "content_type": "application/json"}),
    "me (bearer token)": ("get", "/api/v1/me/", bearer),
    "checklist (bearer token)": ("get", "/api/v1/organizations/1/checklist/", bearer),
    "profile PATCH (session)": ("patch", "/api/v1/organizations/1/profile/", {"data": {"answers": {}},
                                "content_type": "application/json"}),
    "health": ("get", "/api/v1/health/", {}),
}
client.cookies["sessionid"] = "x" * 32
out = {}
for name, (method, path, kwargs) in requests.items():
    response = getattr(client, method)(path, **kwargs)
    out[name] = {"status": response.status_code, "type": response.get("Content-Type", ""),
                 "body": response.content.decode("utf-8", "replace")}
print(json.dumps(out))
"""


def test_api_answers_503_when_postgresql_is_unreachable(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/tracker",
        "CONN_MAX_AGE": "0",
        "LOG_LEVEL": "CRITICAL",
    }
    result = subprocess.run(
        [sys.executable, "-c", UNREACHABLE_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    record("fault postgresql unreachable: " + ", ".join(f"{name} {a['status']}" for name, a in answers.items()))

    health = answers.pop("health")
    assert health["status"] == 503
    body = json.loads(health["body"])
    assert body["status"] == "unavailable"
    assert "database" in body["failing"] and body["checks"]["database"]["ok"] is False
    for name, answer in answers.items():
        assert answer["status"] == 503, (name, answer)
        assert answer["type"].startswith("application/json"), (name, answer)
        body = json.loads(answer["body"])
        assert body["code"] == "database_unavailable", (name, body)
        assert "database is unavailable" in body["detail"], (name, body)
        for leak in ("Traceback", "psycopg", "OperationalError", 'File "', "127.0.0.1"):
            assert leak not in answer["body"], (name, leak)
