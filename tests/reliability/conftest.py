"""Helpers for the reliability and security tests: an organization with data to aim requests at,
bearer-token clients, throwaway Redis servers that a test may kill, rate limits turned on, and
the figures (cases fuzzed, concurrent attempts, fault outcomes) printed at the end of the run."""

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from obligations import services
from obligations.models import ApiToken, ChecklistItem, Evidence, Invitation, Membership, Organization
from obligations.services import calendar

# A Lingang company running a face-swap app: its checklist has items with and without due dates.
SHANGHAI_APP = {
    "roles": ["app_operator", "deep_synthesis_provider"],
    "registered_in": "CN-SH-LG",
    "operates_in": ["CN-SH"],
    "data_sourced_in": [],
    "features": ["biometric_editing", "public_opinion_attributes"],
    "sectors": [],
}
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PASSWORD = "correct-horse-battery-9"

# --- Figures ---------------------------------------------------------------------------------

FIGURES: list[str] = []


def record(line: str) -> None:
    """A figure worth reading after the run (cases fuzzed, concurrent attempts...)."""
    FIGURES.append(line)


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


# --- People and data -------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def org_url(organization, rest: str = "") -> str:
    return f"/api/v1/organizations/{organization.pk}/{rest}"


def item_url(item, rest: str = "") -> str:
    return f"/api/v1/organizations/{item.organization_id}/checklist/{item.pk}/{rest}"


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@dataclass
class World:
    """An organization with something behind every route: a profile and its checklist, an
    event, evidence with a file, a comment, a second member, an invitation, a calendar feed
    and two API tokens of its admin (``secret`` authenticates; ``spare_token`` may be revoked)."""

    organization: Organization
    admin: object
    secret: str
    spare_token: ApiToken
    viewer: Membership
    item: ChecklistItem
    event_id: int
    evidence: Evidence
    invitation: Invitation
    feed_id: int

    @property
    def api(self) -> APIClient:
        return bearer(self.secret)


def make_user(username: str, **extra):
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **extra
    )


def build_world(slug: str = "lingang") -> World:
    admin = make_user(f"{slug}-admin")
    organization = services.organization_create(user=admin, name=slug.title(), slug=slug, timezone_name="Asia/Shanghai")
    _, secret = services.token_create(user=admin, name="fuzzer")
    spare, _ = services.token_create(user=admin, name="spare")
    viewer = Membership.objects.create(
        organization=organization, user=make_user(f"{slug}-viewer"), role=Membership.Role.VIEWER
    )
    api = bearer(secret)
    response = api.patch(org_url(organization, "profile/"), {"answers": SHANGHAI_APP}, format="json")
    assert response.status_code == 200, response.content
    response = api.post(org_url(organization, "events/"), {"type": "service_launched", "date": "2025-01-20"})
    assert response.status_code == 201, response.content
    event_id = response.json()["id"]
    item = ChecklistItem.objects.filter(organization=organization, superseded_at__isnull=True).order_by("id").first()
    response = api.post(
        item_url(item, "evidence/"),
        {"evidence_date": "2025-03-01", "file": SimpleUploadedFile("receipt.pdf", PDF)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert api.post(item_url(item, "comments/"), {"text": "first"}, format="json").status_code == 201
    invitation, _ = services.invitation_create(
        organization=organization, email="new@example.com", role="officer", invited_by=admin
    )
    feed, _ = calendar.feed_create(organization=organization, created_by=admin, name="All", member=None)
    return World(
        organization=organization,
        admin=admin,
        secret=secret,
        spare_token=spare,
        viewer=viewer,
        item=item,
        event_id=event_id,
        evidence=Evidence.objects.get(item=item),
        invitation=invitation,
        feed_id=feed.pk,
    )


@pytest.fixture
def world(db) -> World:
    return build_world()


# --- Rate limits -----------------------------------------------------------------------------


@pytest.fixture
def rates(settings):
    """Turn on the named rate limits (e.g. ``rates(anon="3/min")``) with counters in a private
    in-memory cache, empty at the start, so that no other test's requests count."""

    def turn_on(**scopes: str) -> None:
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"rates-{time.time()}"}
        }
        caches["default"].clear()
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**current, **scopes}}

    return turn_on


# --- Throwaway servers -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@dataclass
class RedisServer:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def throwaway_redis(tmp_path: Path):
    """A Redis server of this test's own, on a free port, that the test may kill; never the
    shared one."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = RedisServer(process, port)
    try:
        wait_for_port(port)
        yield server
    finally:
        server.stop()
