"""Webhooks against a real HTTP receiver on 127.0.0.1: signed as Standard Webhooks specifies
(checked with the reference library and by hand), delivered once per event and endpoint,
retried with the same id on the schedule, turned off after failing too long, and never posted
to private addresses unless the deployment allows them."""

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import socket

import pytest
import urllib3
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from obligations.models import AuditEvent, ChecklistChange, ChecklistItem, Delivery, Endpoint, OutboundEvent
from obligations.services import outbound, reminders
from obligations.services.profile import profile_update
from regulations import signals
from regulations.models import CatalogVersion
from tests.factories import SHANGHAI_APP, OrganizationFactory, UserFactory, api_client
from tests.metrics import scrape

from .conftest import DUE, at


def endpoints_url(organization, rest: str = "") -> str:
    return f"/api/v1/organizations/{organization.pk}/endpoints/{rest}"


def create_endpoint(client, organization, **body) -> dict:
    response = client.post(endpoints_url(organization), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def expected_signature(secret: str, headers: dict, body: bytes) -> str:
    """The signature computed from the specification, independently of the service's code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


@pytest.fixture
def hook(team, receiver):
    admin = api_client(team["admin"])
    created = create_endpoint(admin, team["organization"], kind="webhook", url=f"{receiver.url}/hook")
    return {"client": admin, **created}


def test_webhook_tells_an_item_change_signed_as_standard_webhooks_specify(team, make_item, receiver, hook):
    item = make_item()
    client = hook["client"]
    etag = client.get(f"/api/v1/organizations/{item.organization_id}/checklist/{item.pk}/")["ETag"]
    response = client.patch(
        f"/api/v1/organizations/{item.organization_id}/checklist/{item.pk}/",
        {"status": "done"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200, response.content
    assert hook["signing_secret"].startswith("whsec_")
    assert outbound.deliver() == {"delivered": 1, "retry": 0, "failed": 0}

    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/hook"
    assert headers["content-type"] == "application/json"
    assert headers["webhook-signature"] == expected_signature(hook["signing_secret"], headers, body)
    payload = Webhook(hook["signing_secret"]).verify(body, headers)  # the reference implementation agrees
    event = OutboundEvent.objects.get()
    assert headers["webhook-id"] == f"msg_{event.uid.hex}"
    assert payload["type"] == "item.changed"
    data = payload["data"]
    assert data["organization"] == {"id": team["organization"].pk, "name": "Acme"}
    assert data["item"]["id"] == item.pk
    assert data["item"]["status"] == "done"
    assert data["changes"]["status"] == {"from": "open", "to": "done"}
    assert data["by"] == "admin"
    assert "“待办”改为“已完成”" in data["text"]["zh"]
    assert "from “Open” to “Done”" in data["text"]["en"]
    assert data["item"]["url"].endswith(f"/organizations/{item.organization_id}/checklist/{item.pk}/")

    # Told once: another turn sends nothing.
    assert outbound.deliver() == {"delivered": 0, "retry": 0, "failed": 0}
    assert len(receiver.requests) == 1


def test_webhook_is_retried_with_the_same_id_on_the_schedule(team, make_item, receiver, hook, client):
    receiver.answers = [(500, "busy"), (503, "still busy")]
    item = make_item()
    now = at(DUE - dt.timedelta(days=7), hour=10)
    before = scrape(client)
    reminders.dispatch(now=now)
    assert Delivery.objects.get().event.type == "item.due_soon"
    assert scrape(client)("delivery_pending", channel="webhook") == 1
    outbound.deliver(now=now)
    outbound.deliver(now=now + dt.timedelta(seconds=59))  # not yet: the first retry is a minute later
    assert len(receiver.requests) == 1
    outbound.deliver(now=now + dt.timedelta(minutes=1))
    assert len(receiver.requests) == 2
    outbound.deliver(now=now + dt.timedelta(minutes=5))  # the second retry waits five more minutes
    assert len(receiver.requests) == 2
    assert outbound.deliver(now=now + dt.timedelta(minutes=6)) == {"delivered": 1, "retry": 0, "failed": 0}
    after = scrape(client)  # what operators see
    for outcome, count in (("retry", 2), ("delivered", 1)):
        key = {"channel": "webhook", "outcome": outcome}
        assert after("deliveries_total", **key) - before("deliveries_total", **key) == count
    assert after("delivery_pending", channel="webhook") == 0

    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1
    for request in receiver.requests:  # each attempt signed anew, at the clock's time (within 5 minutes)
        assert request["headers"]["webhook-signature"] == expected_signature(
            hook["signing_secret"], request["headers"], request["body"]
        )
        Webhook(hook["signing_secret"]).verify(request["body"], request["headers"])
    payload = receiver.json()
    assert payload["type"] == "item.due_soon"
    assert payload["data"]["item"]["due_date"] == DUE.isoformat()
    assert payload["data"]["item"]["days_left"] == 7
    assert payload["data"]["item"]["text"]["zh"].endswith(f"({DUE.isoformat()}, 还剩 7 天)")

    log = hook["client"].get(endpoints_url(team["organization"], f"{hook['id']}/deliveries/")).json()["results"]
    assert [(d["type"], d["status"], d["attempts"], d["response_status"]) for d in log] == [
        ("item.due_soon", "delivered", 3, 200)
    ]
    assert log[0]["event_id"] == ids.pop()
    assert item.pk == payload["data"]["item"]["id"]


def test_due_events_come_once_per_point_and_due_date(team, make_item, receiver, hook):
    item = make_item()
    day = DUE - dt.timedelta(days=7)
    # Before the organization's hour it is still the day before: the 30-days point has come, the
    # 7-days one not yet.
    reminders.dispatch(now=at(day, hour=8))
    assert list(OutboundEvent.objects.values_list("key", flat=True)) == [f"item.due_soon:{item.pk}:{DUE}:30"]
    reminders.dispatch(now=at(day, hour=10))
    reminders.dispatch(now=at(day, hour=16))
    reminders.dispatch(now=at(day + dt.timedelta(days=1), hour=10))
    reminders.dispatch(now=at(DUE - dt.timedelta(days=1), hour=10))
    reminders.dispatch(now=at(DUE + dt.timedelta(days=1), hour=10))
    reminders.dispatch(now=at(DUE + dt.timedelta(days=9), hour=10))
    assert list(OutboundEvent.objects.order_by("id").values_list("key", flat=True)) == [
        f"item.due_soon:{item.pk}:{DUE}:30",
        f"item.due_soon:{item.pk}:{DUE}:7",
        f"item.due_soon:{item.pk}:{DUE}:1",
        f"item.overdue:{item.pk}:{DUE}:0",
    ]
    # A new due date is a new fact.
    ChecklistItem.objects.filter(pk=item.pk).update(due_date=DUE + dt.timedelta(days=30))
    reminders.dispatch(now=at(DUE + dt.timedelta(days=9), hour=10))
    assert OutboundEvent.objects.count() == 5
    assert OutboundEvent.objects.latest("id").key == f"item.due_soon:{item.pk}:{DUE + dt.timedelta(days=30)}:30"


def test_an_endpoint_failing_too_long_is_turned_off_and_resumes_when_turned_on(
    team, make_item, receiver, hook, settings
):
    settings.OUTBOUND_DISABLE_AFTER = dt.timedelta(minutes=30)
    receiver.check = lambda request: (500, "down")
    make_item()
    now = at(DUE - dt.timedelta(days=7), hour=10)
    reminders.dispatch(now=now)
    for minutes in (0, 1, 6, 36, 60):
        outbound.deliver(now=now + dt.timedelta(minutes=minutes))
    # Attempts at 0, 1, 6 and 36 minutes; at 36 it had failed for 36 minutes and was turned off.
    assert len(receiver.requests) == 4
    client = hook["client"]
    shown = client.get(endpoints_url(team["organization"], f"{hook['id']}/")).json()
    assert shown["enabled"] is False
    assert shown["disabled_at"] is not None
    assert shown["failing_since"] is not None
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 4, 500)
    assert delivery.last_error == "HTTP 500: down"

    receiver.check = None
    response = client.patch(endpoints_url(team["organization"], f"{hook['id']}/"), {"enabled": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["failing_since"] is None
    assert outbound.deliver(now=now + dt.timedelta(hours=3)) == {"delivered": 1, "retry": 0, "failed": 0}
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1


def test_a_delivery_fails_for_good_after_eight_attempts(team, make_item, receiver, hook, settings):
    settings.OUTBOUND_DISABLE_AFTER = dt.timedelta(days=30)
    receiver.check = lambda request: (410, "gone")
    make_item()
    now = at(DUE - dt.timedelta(days=7), hour=10)
    reminders.dispatch(now=now)
    moment = now
    outcomes = []
    for wait in [dt.timedelta(0), *outbound.RETRY]:
        moment += wait
        outcomes.append(outbound.deliver(now=moment))
    assert [o["retry"] for o in outcomes] == [1] * 7 + [0]
    assert outcomes[-1]["failed"] == 1
    assert len(receiver.requests) == outbound.MAX_ATTEMPTS == 8
    assert Delivery.objects.get().status == "failed"
    outbound.deliver(now=moment + dt.timedelta(days=2))
    assert len(receiver.requests) == 8


def test_checklist_and_catalogue_changes_are_told(team, receiver, hook):
    organization = team["organization"]
    # Answering the questionnaire syncs the checklist: one change, told once.
    profile_update(organization=organization, answers=SHANGHAI_APP, unset=[], replace=True, changed_by=team["admin"])
    change = ChecklistChange.objects.get(organization=organization)
    version = CatalogVersion.objects.order_by("-loaded_at", "-id").first()
    signals.reports(signals.catalog_changed, dry_run=False, cause={"code": "catalogue"}, obligations=frozenset())
    outbound.deliver()

    told = {json.loads(r["body"])["type"]: json.loads(r["body"])["data"] for r in receiver.requests}
    assert sorted(told) == ["catalogue.changed", "checklist.changed"]
    assert told["checklist.changed"]["change"] == change.pk
    assert told["checklist.changed"]["counts"] == change.counts
    assert told["checklist.changed"]["text"]["zh"].startswith(f"新增 {change.counts['added']} 项")
    assert "profile version 1" in told["checklist.changed"]["text"]["en"]
    assert told["checklist.changed"]["url"].endswith(f"/organizations/{organization.pk}/changes/")
    assert told["catalogue.changed"]["version"] == version.content_hash
    assert told["catalogue.changed"]["counts"]["obligation"] == version.changes["obligation"]  # rows by kind
    assert "法规目录" in told["catalogue.changed"]["text"]["zh"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com/hook", "https://"),
        ("https://127.0.0.1/hook", "private, loopback or link-local"),
        ("https://localhost:8443/hook", "private, loopback or link-local"),
        ("https://169.254.169.254/latest/meta-data/", "private, loopback or link-local"),
        ("https://10.1.2.3/hook", "private, loopback or link-local"),
        ("https://[::1]/hook", "private, loopback or link-local"),
        ("https://[::ffff:127.0.0.1]/hook", "private, loopback or link-local"),
        ("https://user:pass@example.com/hook", "user name and password"),
        ("https://no-such-host.invalid/hook", "cannot be found"),
    ],
)
def test_private_and_unsafe_destinations_are_refused(team, url, reason):
    assert settings.OUTBOUND_ALLOW_PRIVATE is False
    client = api_client(team["admin"])
    response = client.post(endpoints_url(team["organization"]), {"kind": "webhook", "url": url}, format="json")
    assert response.status_code == 400, response.content
    assert reason in " ".join(response.json()["url"])
    assert not Endpoint.objects.exists()


def test_a_destination_allowed_once_is_checked_again_at_delivery(team, make_item, receiver, hook, settings):
    make_item()
    now = at(DUE - dt.timedelta(days=7), hour=10)
    reminders.dispatch(now=now)
    settings.OUTBOUND_ALLOW_PRIVATE = False  # the deployment changed its mind
    assert outbound.deliver(now=now) == {"delivered": 0, "retry": 1, "failed": 0}
    assert receiver.requests == []
    assert Delivery.objects.get().last_error.startswith("Refused: ")


def test_endpoints_are_for_admins_of_their_organization(team, receiver, hook):
    organization = team["organization"]
    officer = api_client(team["officer"])
    assert officer.get(endpoints_url(organization)).status_code == 403
    assert officer.post(endpoints_url(organization), {"url": f"{receiver.url}/x"}, format="json").status_code == 403
    stranger = UserFactory(username="stranger")
    OrganizationFactory(admin=stranger, name="Other", slug="other")
    outsider = api_client(stranger)
    assert outsider.get(endpoints_url(organization)).status_code == 404
    assert outsider.get(endpoints_url(organization, f"{hook['id']}/deliveries/")).status_code == 404
    listed = hook["client"].get(endpoints_url(organization)).json()["results"]
    assert [e["id"] for e in listed] == [hook["id"]]
    assert "secret" not in listed[0] and "signing_secret" not in listed[0]
    assert listed[0]["has_secret"] is True


def test_endpoint_input_errors_name_the_field(team, receiver):
    client = api_client(team["admin"])
    organization = team["organization"]
    response = client.post(
        endpoints_url(organization),
        {"kind": "webhook", "url": f"{receiver.url}/x", "events": ["item.gone"]},
        format="json",
    )
    assert response.status_code == 400
    assert "events" in response.json()
    response = client.post(endpoints_url(organization), {"kind": "fax", "url": f"{receiver.url}/x"}, format="json")
    assert response.status_code == 400
    assert "kind" in response.json()
    created = create_endpoint(client, organization, kind="wecom", url=f"{receiver.url}/x")
    assert created["signing_secret"] is None
    response = client.patch(endpoints_url(organization, f"{created['id']}/"), {"kind": "webhook"}, format="json")
    assert response.status_code == 400
    assert "kind" in response.json()
    assert Endpoint.objects.get().kind == "wecom"


def test_rotating_the_secret_signs_with_the_new_one(team, make_item, receiver, hook):
    client = hook["client"]
    rotated = client.post(endpoints_url(team["organization"], f"{hook['id']}/rotate-secret/")).json()
    assert rotated["signing_secret"] != hook["signing_secret"]
    make_item()
    reminders.dispatch(now=at(DUE - dt.timedelta(days=7), hour=10))
    outbound.deliver(now=at(DUE - dt.timedelta(days=7), hour=10))
    [request] = receiver.requests
    assert request["headers"]["webhook-signature"] == expected_signature(
        rotated["signing_secret"], request["headers"], request["body"]
    )


def test_other_organizations_events_do_not_reach_an_endpoint(team, make_item, receiver, hook):
    other_admin = UserFactory(username="other-admin")
    other = OrganizationFactory(admin=other_admin, name="Other", slug="other")
    make_item(organization=other)
    reminders.dispatch(now=at(DUE - dt.timedelta(days=7), hour=10))
    outbound.deliver(now=at(DUE - dt.timedelta(days=7), hour=10))
    assert receiver.requests == []


def test_the_endpoints_page_adds_refuses_and_shows_once(team, receiver, settings, client):
    organization = team["organization"]
    page = f"/organizations/{organization.pk}/endpoints/"
    client.force_login(team["admin"])
    settings.OUTBOUND_ALLOW_PRIVATE = False
    refused = client.post(
        page, {"action": "create", "kind": "webhook", "url": "https://127.0.0.1/hook", "events": ["item.overdue"],
               "language": "en"},
    )  # fmt: skip
    assert refused.status_code == 200
    assert "private, loopback or link-local" in refused.context["form"].errors["url"][0]
    assert not Endpoint.objects.exists()

    settings.OUTBOUND_ALLOW_PRIVATE = True
    body = {"action": "create", "kind": "webhook", "url": f"{receiver.url}/hook", "events": ["item.overdue"],
            "language": "en"}  # fmt: skip
    added = client.post(page, body, follow=True)
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["item.overdue"]
    assert endpoint.secret in added.content.decode()  # shown once, in the message
    again = client.get(page).content.decode()
    assert endpoint.secret not in again
    client.post(page, {"action": "off", "endpoint": endpoint.pk})
    endpoint.refresh_from_db()
    assert endpoint.enabled is False

    client.force_login(team["officer"])
    assert client.get(page).status_code == 403


def test_the_access_log_keeps_who_pointed_endpoints_where(team, receiver, hook):
    organization = team["organization"]
    client = hook["client"]
    client.patch(endpoints_url(organization, f"{hook['id']}/"), {"events": ["item.overdue"]}, format="json")
    client.post(endpoints_url(organization, f"{hook['id']}/rotate-secret/"))
    client.delete(endpoints_url(organization, f"{hook['id']}/"))
    log = AuditEvent.objects.filter(organization=organization, action__startswith="endpoint").order_by("id")
    assert [(e.action, e.actor.username) for e in log] == [
        ("endpoint_added", "admin"),
        ("endpoint_changed", "admin"),
        ("endpoint_changed", "admin"),
        ("endpoint_removed", "admin"),
    ]
    assert log[0].changes == {"url": {"from": None, "to": f"{receiver.url}/hook"}}
    assert [str(v) for v in log[1].readable_changes()[0]] == [
        "; ".join(str(label) for label in Endpoint.Event.labels),
        str(Endpoint.Event.ITEM_OVERDUE.label),
    ]
    assert log[2].changes == {"secret": {"from": None, "to": "new"}}
    assert not Endpoint.objects.exists()


def test_https_posts_connect_to_the_checked_address_with_the_host_name_for_tls(settings, tmp_path):
    """The connection goes to the address that was resolved and checked, while TLS still names
    the host (SNI) and checks its certificate: a certificate the system does not trust is refused."""
    import datetime
    import ssl
    import threading

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from obligations.http import post

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    names: list[str | None] = []
    context.sni_callback = lambda sock, server_name, ctx: names.append(server_name)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        connection, _ = listener.accept()
        with contextlib.suppress(ssl.SSLError, OSError):
            context.wrap_socket(connection, server_side=True).close()
        connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    settings.OUTBOUND_ALLOW_PRIVATE = True
    with pytest.raises(urllib3.exceptions.SSLError, match="certificate verify failed"):
        post(f"https://localhost:{port}/hook", b"{}", {"Content-Type": "application/json"})
    thread.join(timeout=5)
    listener.close()
    assert names == ["localhost"]  # TLS named the host, though the connection went to 127.0.0.1


def test_a_bulk_change_starts_one_delivery_task(team, make_item, receiver, hook, django_capture_on_commit_callbacks):
    items = [make_item() for _ in range(3)]
    body = {"items": [{"id": i.pk, "version": i.version} for i in items], "status": "done"}
    with django_capture_on_commit_callbacks() as callbacks:
        response = hook["client"].post(
            f"/api/v1/organizations/{team['organization'].pk}/checklist/bulk/", body, format="json"
        )
    assert response.status_code == 200, response.content
    assert OutboundEvent.objects.filter(type="item.changed").count() == 3
    assert [c for c in callbacks if c is outbound._kick] == [outbound._kick]
