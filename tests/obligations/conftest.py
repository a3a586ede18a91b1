"""Setup shared by the obligations API tests: users, organizations and their members, and API
clients signed in as someone."""

import pytest
from django.contrib.auth import get_user_model
from django.utils.text import slugify
from rest_framework.test import APIClient

from obligations import services
from obligations.models import Membership


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing with the production hasher takes a fifth of a second per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db):
    def make(username: str, **extra):
        return get_user_model().objects.create_user(
            username=username, email=f"{username}@example.com", password=f"pw-{username}-123", **extra
        )

    return make


@pytest.fixture
def make_organization(db):
    """An organization with ``admin`` as its creator and first admin, as the API creates it."""

    def make(admin, name: str):
        return services.organization_create(user=admin, name=name, slug=slugify(name), timezone_name="Asia/Shanghai")

    return make


@pytest.fixture
def add_member(db):
    def add(organization, user, role: str) -> Membership:
        return Membership.objects.create(organization=organization, user=user, role=role)

    return add


@pytest.fixture
def client_for():
    """A new API client signed in as ``user`` (None: anonymous). Each call is independent of
    the ``api`` fixture, so one test can act as several people."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def bearer_client():
    """A new API client that authenticates only with ``Authorization: Bearer <secret>``."""

    def make(secret: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def acme(alice, make_organization):
    """Alice's organization; she is its only admin."""
    return make_organization(alice, "Acme Shanghai")


@pytest.fixture
def as_alice(client_for, alice):
    return client_for(alice)


@pytest.fixture
def shanghai_app_profile() -> dict:
    """A company registered in the Lingang Special Area of Shanghai that runs an app with
    face-swap features: it operates the app and provides deep synthesis (art. 23 of the Deep
    Synthesis Provisions), and its service has public-opinion attributes."""
    return {
        "roles": ["app_operator", "deep_synthesis_provider"],
        "registered_in": "CN-SH-LG",
        "operates_in": ["CN-SH"],
        "data_sourced_in": [],
        "sectors": [],
        "features": ["biometric_editing", "public_opinion_attributes"],
    }
