import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_service(variable: str, what: str) -> str:
    """Tests that need a real service run when its URL is set. Locally they are skipped with a
    reason; in CI a missing service is a failure, so a green run always exercised them."""
    value = os.environ.get(variable, "")
    if not value:
        message = f"{what} tests need {variable}"
        if IN_CI:
            pytest.fail(message + " (required in CI)")
        pytest.skip(message)
    return value


@pytest.fixture
def redis_url() -> str:
    return require_service("REDIS_URL", "Redis")


@pytest.fixture
def postgres(settings) -> None:
    require_service("DATABASE_URL", "PostgreSQL")
    assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the bundled catalogue once per test session: most tests read it. It is also
    recorded as the state that transactional tests marked ``serialized_rollback=True`` start
    from, since they empty every table when they end."""
    from django.db import connections

    from regulations.services import catalog_load

    with django_db_blocker.unblock():
        catalog_load()
        for connection in connections.all():
            connection._test_serialized_contents = connection.creation.serialize_db_to_string()


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests run without DEBUG but never run collectstatic, so the manifest storage used in
    production would have no manifest to read."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """Rate limits count across tests in a shared cache; they are off unless a test turns them
    on (tests/test_security.py)."""
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": dict.fromkeys(rates)}


@pytest.fixture(scope="session", autouse=True)
def _tasks_run_in_process():
    """Tasks queued with ``delay`` (the invitation email, for one) run at once in the test
    process; the tests of real worker processes send theirs with ``send_task``."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False
