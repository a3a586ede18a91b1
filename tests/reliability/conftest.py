"""Helpers for the reliability and security tests: an organization with data to aim requests at
(and a bearer-token client for it), throwaway Redis servers that a test may kill, rate limits
turned on, and the figures (cases fuzzed, concurrent attempts, fault outcomes) printed at the
end of the run. The people come from tests/factories.py."""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from obligations import services
from obligations.models import (
    ApiToken,
    ChecklistChange,
    ChecklistItem,
    Download,
    Evidence,
    Invitation,
    Membership,
    Organization,
)
from obligations.services import calendar, outbound
from tests.factories import SHANGHAI_APP, MembershipFactory, OrganizationFactory, UserFactory, api_client

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

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
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def org_url(organization, rest: str = "") -> str:
    return f"/api/v1/organizations/{organization.pk}/{rest}"


def item_url(item, rest: str = "") -> str:
    return f"/api/v1/organizations/{item.organization_id}/checklist/{item.pk}/{rest}"


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
    change_id: int  # the checklist change the event made
    download_id: int  # a PDF the admin asked for, ready
    endpoint_id: int  # a webhook (to a public address written as a number)

    @property
    def api(self) -> APIClient:
        """A new client that authenticates with the admin's token."""
        return api_client(token=self.secret)


def _ready_download(organization, admin) -> Download:
    download = Download(organization=organization, requested_by=admin, kind="checklist", status="ready")
    download.file.save("checklist.pdf", ContentFile(PDF), save=False)
    download.filename, download.size = "checklist.pdf", len(PDF)
    download.save()
    return download


def build_world(slug: str = "lingang") -> World:
    admin = UserFactory(username=f"{slug}-admin")
    organization = OrganizationFactory.create(admin=admin, name=slug.title(), slug=slug)
    _, secret = services.token_create(user=admin, name="fuzzer")
    spare, _ = services.token_create(user=admin, name="spare")
    viewer = MembershipFactory.create(
        organization=organization, user=UserFactory(username=f"{slug}-viewer"), role=Membership.Role.VIEWER
    )
    api = api_client(token=secret)
    response = api.patch(org_url(organization, "profile/"), {"answers": SHANGHAI_APP}, format="json")
    assert response.status_code == 200, response.content
    response = api.post(org_url(organization, "events/"), {"type": "service_launched", "date": "2025-01-20"})
    assert response.status_code == 201, response.content
    event_id = response.json()["id"]
    item = ChecklistItem.objects.filter(organization=organization, superseded_at__isnull=True).order_by("id").first()
    assert item is not None  # the SHANGHAI_APP profile just answered gives the checklist items
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
        change_id=ChecklistChange.objects.filter(organization=organization).latest("at", "id").pk,
        download_id=_ready_download(organization, admin).pk,
        # Told only of new catalogues, which the fuzzers never load: nothing is posted anywhere.
        endpoint_id=outbound.endpoint_create(
            organization, actor=admin, kind="webhook", url="https://93.184.215.14/hook", events=["catalogue.changed"]
        ).pk,
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
    cwd: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def launch(cls, port: int, cwd: Path) -> "RedisServer":
        command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(port)
        return cls(process, port, cwd)

    def start(self) -> None:
        """Start again on the same port, after ``stop``."""
        self.process = self.launch(self.port, self.cwd).process

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def throwaway_redis(tmp_path: Path):
    """A Redis server of this test's own, on a free port, that the test may kill and start
    again; never the shared one."""
    server = RedisServer.launch(free_port(), tmp_path)
    try:
        yield server
    finally:
        server.stop()


# --- The service as separate processes --------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def service_environment(redis_url: str, tmp_path: Path, **extra: str) -> dict:
    """The environment of a web or worker process working on this test's database, which a
    transactional test has committed."""
    db = settings.DATABASES["default"]
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "STATIC_ROOT": str(tmp_path / "static"),
        "DEBUG": "false",
        **extra,
    }


def start_process(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def start_web(env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    """gunicorn with the production configuration, one worker; returns it and its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--config", "python:config.gunicorn",
               "--bind", f"127.0.0.1:{port}", "--workers", "1"]  # fmt: skip
    process = start_process(command, env, log)
    wait_for_port(port, timeout=60)
    return process, f"http://127.0.0.1:{port}"


def stop_processes(*processes: subprocess.Popen) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
