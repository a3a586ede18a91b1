import copy
import os
import shutil

import pytest

from obligations.models import Membership
from tests.factories import SHANGHAI_APP, MembershipFactory, OrganizationFactory, UserFactory, api_client

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
def pdf_tools() -> None:
    """PDF tests need Pango (for WeasyPrint) and poppler's pdftotext, pdffonts and pdftoppm:
    skipped locally without them, a failure in CI."""
    missing = [tool for tool in ("pdftotext", "pdffonts", "pdftoppm") if not shutil.which(tool)]
    try:
        import weasyprint  # noqa: F401  # loads Pango
    except OSError:
        missing.append("Pango")
    if missing:
        message = f"PDF tests need {', '.join(missing)} (apt-get install libpangoft2-1.0-0 poppler-utils)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


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
    yield
    # Live servers answer in threads of their own, which close their database connections when
    # the browser's socket closes: one still closing as the run ends would keep PostgreSQL from
    # dropping the test database. End such sessions first.
    with django_db_blocker.unblock():
        for connection in connections.all():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )


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


@pytest.fixture(autouse=True)
def _tasks_run_in_process(request):
    """Tasks queued with ``delay`` (the invitation email, for one) run at once in the test
    process, so that none is left in a shared broker for a later test's worker to pick up.
    Tests of real worker processes (marked ``real_broker``) send theirs with ``send_task``."""
    from config.celery import app

    eager = request.node.get_closest_marker("real_broker") is None
    app.conf.task_always_eager = app.conf.task_eager_propagates = eager
    yield
    app.conf.task_always_eager = app.conf.task_eager_propagates = False


# --- The cast ----------------------------------------------------------------------------------
# The people, organizations and API clients tests share, made with tests/factories.py: alice,
# the admin of her organization acme, and helpers for everyone else. A package's conftest adds
# only what is its own.


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing with the production hasher takes a fifth of a second per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db):
    """``make_user("bob")``: a new user, bob@example.com, whose password is ``password_for("bob")``."""

    def make(username: str, **extra):
        return UserFactory(username=username, **extra)

    return make


@pytest.fixture
def make_organization(db):
    """``make_organization(admin, "Acme Shanghai")``: a new organization (slug acme-shanghai)
    with ``admin`` as its creator and first admin, as the API creates it; ``profile=answers``
    answers its questionnaire, which syncs its checklist."""

    def make(admin, name: str, **extra):
        return OrganizationFactory(admin=admin, name=name, **extra)

    return make


@pytest.fixture
def add_member(db):
    def add(organization, user, role: str = Membership.Role.OFFICER) -> Membership:
        return MembershipFactory.create(organization=organization, user=user, role=role)

    return add


@pytest.fixture
def client_for():
    """``client_for(user)``: a new API client signed in as ``user`` (None: anonymous). Each call
    is independent of the ``api`` fixture, so one test can act as several people."""
    return api_client


@pytest.fixture
def bearer_client():
    """``bearer_client(secret)``: a new API client that authenticates only with
    ``Authorization: Bearer <secret>``."""

    def make(secret: str):
        return api_client(token=secret)

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def acme(alice, make_organization):
    """Alice's organization; she is its only admin (and member). Its profile is unanswered."""
    return make_organization(alice, "Acme Shanghai")


@pytest.fixture
def as_alice(alice):
    return api_client(alice)


@pytest.fixture
def shanghai_app_profile() -> dict:
    """The answers of a Lingang company running a face-swap app (``SHANGHAI_APP``), a copy the
    test may change."""
    return copy.deepcopy(SHANGHAI_APP)
