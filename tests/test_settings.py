import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("mode", ["passwords", "single sign-on only"])
def test_check_deploy_is_clean_with_production_variables(mode):
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update(
        HTTPS="true",
        DEBUG="false",
        SECRET_KEY="x" * 30 + "-production-secret-key-value-0123456789",
        ALLOWED_HOSTS="tracker.example.com",
    )
    if mode == "single sign-on only":
        env.update(PASSWORD_SIGN_IN="false", **SINGLE_SIGN_ON)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    env.update(HTTPS="true", DEBUG="false", ALLOWED_HOSTS="tracker.example.com")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set in the environment" in result.stderr


def test_the_outbound_hour_must_be_an_hour():
    env = {**os.environ, "OUTBOUND_HOUR": "24"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "OUTBOUND_HOUR must be an hour from 0 to 23." in result.stderr


def test_every_beat_entry_expires_before_it_runs_again():
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        schedule = entry["schedule"]
        if isinstance(schedule, crontab):  # the daily jobs: one minute of one hour
            assert len(schedule.hour) == len(schedule.minute) == 1, name
            period = 24 * 3600
        else:
            period = schedule.total_seconds()
        assert 0 < entry["options"]["expires"] < period, name


def test_celery_is_configured_for_safe_redelivery():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_SERIALIZER == "json" and settings.CELERY_ACCEPT_CONTENT == ["json"]
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT


@pytest.mark.django_db
def test_gunicorn_workers_build_the_answer_caches_then_freeze_the_loaded_app():
    import gc

    from config import gunicorn
    from obligations.api import applicability
    from regulations import selectors

    assert "--config python:config.gunicorn" in (ROOT / "Procfile").read_text()
    applicability._static_cache.clear()
    threshold = gc.get_threshold()
    try:
        gunicorn.post_worker_init(worker=None)
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == 50_000
        # What every answer reads was built before the freeze: no request builds it.
        book = selectors.rulebook()
        assert {(book.version, "zh"), (book.version, "en")} <= set(applicability._static_cache)
        assert len(applicability._static_cache[book.version, "zh"]) == len(book.rules)
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_a_worker_starts_without_the_answer_caches_when_the_database_is_not_ready(monkeypatch, caplog):
    from django.db import OperationalError

    from obligations.api import applicability
    from regulations import selectors

    def unreachable():
        raise OperationalError("connection refused")

    monkeypatch.setattr(selectors, "rulebook", unreachable)
    applicability._static_cache.clear()
    applicability.warm()  # the first request builds them instead
    assert applicability._static_cache == {}
    assert "database is not ready" in caplog.text


# --- Sign-in: passwords and single sign-on ---------------------------------------------------

SINGLE_SIGN_ON = {
    "OIDC_RP_CLIENT_ID": "tracker",
    "OIDC_RP_CLIENT_SECRET": "secret",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://id.example.com/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": "https://id.example.com/token",
    "OIDC_OP_USER_ENDPOINT": "https://id.example.com/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": "https://id.example.com/jwks",
}


def settings_with(expression: str, **variables: str) -> subprocess.CompletedProcess:
    """``expression`` of the settings read from the environment with only these sign-in variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OIDC_") and k != "PASSWORD_SIGN_IN"}
    env.update(variables)
    command = [sys.executable, "-c", f"from config import settings; print({expression})"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("variables", "backends"),
    [
        ({}, ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]),
        (SINGLE_SIGN_ON, ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend",
                          "obligations.sso.MemberBackend"]),
        ({**SINGLE_SIGN_ON, "PASSWORD_SIGN_IN": "false"},
         ["axes.backends.AxesStandaloneBackend", "obligations.sso.MemberBackend"]),
    ],
    ids=["passwords", "passwords and single sign-on", "single sign-on only"],
)  # fmt: skip
def test_sign_in_backends_follow_the_environment(variables, backends):
    result = settings_with("settings.AUTHENTICATION_BACKENDS", **variables)
    assert result.stdout.strip() == repr(backends), result.stderr


@pytest.mark.parametrize(
    ("variables", "error"),
    [
        ({"PASSWORD_SIGN_IN": "false"},
         "PASSWORD_SIGN_IN=false needs single sign-on (OIDC_RP_CLIENT_ID): nobody could sign in."),
        ({"OIDC_RP_CLIENT_ID": "tracker"}, "Set the OIDC_RP_CLIENT_SECRET environment variable"),
        ({**SINGLE_SIGN_ON, "OIDC_OP_JWKS_ENDPOINT": ""}, "Set the OIDC_OP_JWKS_ENDPOINT environment variable"),
    ],
    ids=["no way in", "no client secret", "no provider keys for RS256"],
)  # fmt: skip
def test_sign_in_settings_refuse_to_start_half_set(variables, error):
    variables = {k: v for k, v in variables.items() if v}  # "" stands for unset
    result = settings_with("settings.AUTHENTICATION_BACKENDS", **variables)
    assert result.returncode == 1
    assert f"ImproperlyConfigured: {error}" in result.stderr


def test_tokens_signed_with_the_client_secret_need_no_provider_keys():
    variables = {k: v for k, v in SINGLE_SIGN_ON.items() if k != "OIDC_OP_JWKS_ENDPOINT"}
    result = settings_with("settings.OIDC_OP_JWKS_ENDPOINT", OIDC_RP_SIGN_ALGO="HS256", **variables)
    assert result.stdout.strip() == "None", result.stderr
