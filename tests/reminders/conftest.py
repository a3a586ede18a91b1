"""Organizations with checklist items for the reminder tests, and a real SMTP server."""

import asyncio
import datetime as dt
import http.server
import json
import socket
import threading
import zoneinfo
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from django.core.cache import cache

from obligations.models import Membership
from obligations.services import reminders
from tests.factories import ChecklistItemFactory, MembershipFactory, OrganizationFactory, UserFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DUE = dt.date(2027, 3, 15)


def at(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def no_earlier_pass():
    """Each test starts with no reminder pass on record (the mark lives in the shared cache)."""
    cache.delete_many([reminders.LAST_RUN_KEY, reminders.OUTAGE_KEY])
    yield
    cache.delete_many([reminders.LAST_RUN_KEY, reminders.OUTAGE_KEY])


@pytest.fixture
def team(db):
    """An organization with an admin, an officer and a viewer, all with email addresses."""
    admin, officer, viewer = (UserFactory(username=name) for name in ("admin", "officer", "viewer"))
    organization = OrganizationFactory(admin=admin, name="Acme", slug="acme")
    MembershipFactory(organization=organization, user=officer, role=Membership.Role.OFFICER)
    MembershipFactory(organization=organization, user=viewer, role=Membership.Role.VIEWER)
    return {"organization": organization, "admin": admin, "officer": officer, "viewer": viewer}


@pytest.fixture
def make_item(team):
    """An open item of the team's organization (for an obligation it has no item for yet) due
    on ``due``. Nothing is planned: each pass works out what is due."""

    def make(due=DUE, assignee=None, organization=None):
        return ChecklistItemFactory(organization=organization or team["organization"], due_date=due, assignee=assignee)

    return make


class Recorder:
    """An SMTP handler that keeps what it accepted. ``refuse`` answers 451 to that many
    messages first; ``hold`` (an Event) stalls every transaction at RCPT until it is set."""

    def __init__(self):
        self.messages = []
        self.refuse = 0
        self.refused = 0
        self.hold: threading.Event | None = None
        self.holding = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.hold is not None:
            self.holding.set()
            while not self.hold.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.refuse:
            self.refused += 1
            return "451 4.3.0 Try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def message_ids(self):
        return [m["Message-ID"] for m in self.messages]


@pytest.fixture
def smtp(settings):
    recorder = Recorder()
    with socket.socket() as probe:  # a free port; the controller checks readiness by connecting
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    recorder.port = settings.EMAIL_PORT
    yield recorder
    if recorder.hold is not None:
        recorder.hold.set()
    controller.stop()


class Receiver:
    """A real HTTP server on 127.0.0.1 standing in for an organization's webhook receiver or a
    chat vendor: it keeps each request (path with query, headers, body) and answers with the
    next of ``answers`` ((status, body)), or with ``check``'s answer when one is set, else 200."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, str]] = []
        self.check = None  # request -> (status, body): a vendor's own checks of format and signature
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                receiver.requests.append(request)
                if receiver.answers:
                    status, text = receiver.answers.pop(0)
                elif receiver.check:
                    status, text = receiver.check(request)
                else:
                    status, text = 200, "{}"
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def json(self, index: int = -1) -> dict:
        return json.loads(self.requests[index]["body"])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    """A receiver on 127.0.0.1, with private addresses allowed as a deployment inside its own
    network would (the rule itself has tests that turn it off)."""
    settings.OUTBOUND_ALLOW_PRIVATE = True
    server = Receiver()
    yield server
    server.close()
