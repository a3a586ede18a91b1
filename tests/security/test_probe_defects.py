"""One test per defect an independent probe found against a running server (issue "Security
and robustness"), each written the way the probe tried it."""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from obligations import services
from obligations.models import AuditEvent, ChecklistItem, Invitation, Membership, Organization
from regulations.models import Obligation

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-9"
DEADLINE = {"start": "2023-09-20", "amount": 20, "unit": "working_days", "direction": "after"}


@pytest.fixture
def people(django_user_model):
    def make(name: str, email: str | None = None):
        return django_user_model.objects.create_user(name, f"{name}@example.com" if email is None else email, PASSWORD)

    return make


@pytest.fixture
def acme(people):
    admin = people("ada")
    organization = services.organization_create(user=admin, name="Acme", slug="acme")
    organization.admin = admin
    return organization


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def rates(settings):
    """Rate limits on, counting in a private cache."""

    def turn_on(**scopes: str) -> None:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "probe"}}
        caches["default"].clear()
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**current, **scopes}}

    return turn_on


# --- 1. One sign-in limit for every way in --------------------------------------------------


@pytest.mark.parametrize(
    ("fail_at", "then_at"),
    [("/accounts/login/", "/api/auth/login/"), ("/api/auth/login/", "/accounts/login/")],
)
def test_sign_in_lockout_is_shared_by_every_sign_in_route(people, fail_at, then_at):
    user = people("officer")
    wrong = {"username": "officer", "password": "not-the-password"}
    answers = [Client().post(fail_at, wrong).status_code for _ in range(10)]
    assert answers == [200] * 9 + [429]

    locked = Client().post(then_at, {"username": "officer", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in locked.wsgi_request.session
    assert Client().post("/admin/login/", {}).status_code == 302  # the admin signs in on the same page
    assert user.is_active


# --- 2. The client address comes from a proxy only when one is trusted --------------------------


def test_forged_forwarded_for_does_not_escape_the_rate_limit(rates):
    rates(anon="3/min")
    statuses = [
        APIClient().post("/api/v1/deadlines/compute", DEADLINE, format="json", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
        for n in range(6)
    ]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429, 429, 429]


def test_behind_a_proxy_the_limit_counts_the_address_the_proxy_saw(rates, settings):
    rates(anon="3/min")
    settings.BEHIND_PROXY, settings.PROXY_COUNT = True, 1

    def ask(forwarded: str):
        return APIClient().post(
            "/api/v1/deadlines/compute", DEADLINE, format="json", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
        )

    # The client writes anything on the left; the proxy appends the address it saw.
    attacker = [ask(f"198.18.0.{n}, 203.0.113.9").status_code for n in range(5)]
    assert attacker == [200, 200, 200, 429, 429]
    assert ask("203.0.113.10").status_code == 200  # another client behind the same proxy


def test_behind_a_proxy_the_sign_in_lockout_keys_on_the_real_client(people, settings):
    settings.BEHIND_PROXY, settings.PROXY_COUNT = True, 1
    people("officer")
    wrong = {"username": "officer", "password": "nope"}
    for n in range(10):
        Client().post("/accounts/login/", wrong, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.9")
    right = {"username": "officer", "password": PASSWORD}
    attacker = Client().post("/accounts/login/", right, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert attacker.status_code == 429
    # Ten wrong passwords from one attacker do not lock the user out from everywhere.
    user = Client().post("/accounts/login/", right, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert user.status_code == 302


# --- 4. Ids that cannot exist ------------------------------------------------------------------


def _object_routes():
    from tests.obligations.test_isolation import ROUTES

    return [r for r in ROUTES if r.object_kwargs] + [None]


@pytest.mark.parametrize("route", _object_routes(), ids=lambda r: r.name if r else "token-detail")
@pytest.mark.parametrize("bad", ["null", "-1", "1.5", "9" * 30, "%00"])
def test_an_id_that_cannot_exist_is_a_json_404(route, bad, acme):
    if route is None:
        url = reverse("token-detail", kwargs={"pk": 987654321})
    else:
        url = reverse(route.name, kwargs={"organization_id": acme.pk, route.object_kwargs[0]: 987654321})
    response = as_user(acme.admin).get(url.replace("987654321", bad))
    assert response.status_code == 404, (url, response.status_code)
    assert response["Content-Type"].startswith("application/json")


# --- 5. Filters offer only the organization's own objects -------------------------------------


def test_reminder_filter_answers_alike_for_another_organizations_item_and_a_missing_one(acme, people):
    other = services.organization_create(user=people("mallory"), name="Other", slug="other")
    theirs = ChecklistItem.objects.create(
        organization=other, obligation=Obligation.objects.first(), applicability="applies"
    )
    client = as_user(acme.admin)
    foreign = client.get(f"/api/v1/organizations/{acme.pk}/reminders/", {"item": theirs.pk})
    missing = client.get(f"/api/v1/organizations/{acme.pk}/reminders/", {"item": 987654321})
    assert (foreign.status_code, missing.status_code) == (400, 400)
    assert "item" in foreign.json() and foreign.json().keys() == missing.json().keys()


# --- 6 and 7. Invitations ----------------------------------------------------------------------


def test_expired_invitation_is_listed_as_expired(acme):
    invitation, _secret = services.invitation_create(
        organization=acme, email="bob@example.com", role="officer", invited_by=acme.admin
    )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    listed = as_user(acme.admin).get(f"/api/v1/organizations/{acme.pk}/invitations/").json()["results"]
    assert [i["status"] for i in listed] == ["expired"]


def test_invitation_code_works_only_for_the_invited_address(acme, people):
    _invitation, secret = services.invitation_create(
        organization=acme, email="Bob.Smith@Example.com", role="officer", invited_by=acme.admin
    )
    eve = people("eve")
    refused = as_user(eve).post("/api/v1/invitations/accept/", {"token": secret}, format="json")
    assert refused.status_code == 400 and "token" in refused.json()
    assert not Membership.objects.filter(user=eve).exists()

    bob = people("bob", email="bob.smith@example.COM")  # the same address, cased otherwise
    accepted = as_user(bob).post("/api/v1/invitations/accept/", {"token": secret}, format="json")
    assert accepted.status_code == 201
    assert Membership.objects.get(user=bob).role == "officer"


# --- 8. Answers inside the published schema ----------------------------------------------------


def test_a_user_without_an_email_address_has_null_not_an_empty_string(people):
    nobody = people("nomail", email="")
    assert as_user(nobody).get("/api/v1/me/").json()["email"] is None


def test_an_over_long_url_is_a_documented_json_414():
    response = APIClient().get("/api/v1/instruments/?" + "q=" + "x" * 5000)
    assert response.status_code == 414
    assert response.json()["code"] == "uri_too_long"
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    assert "414" in schema["paths"]["/api/v1/instruments/"]["get"]["responses"]


# --- 9. Smaller ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["\u200b", "Deadlines \u202eslian", "\x00", "line\nbreak"])
def test_invisible_or_control_characters_are_refused_in_names(acme, name):
    client = as_user(acme.admin)
    token = client.post("/api/v1/tokens/", {"name": name}, format="json")
    feed = client.post(f"/api/v1/organizations/{acme.pk}/calendar-feeds/", {"name": name}, format="json")
    renamed = client.patch(f"/api/v1/organizations/{acme.pk}/", {"name": name}, format="json")
    assert [r.status_code for r in (token, feed, renamed)] == [400, 400, 400]
    assert "name" in token.json() and "name" in feed.json() and "name" in renamed.json()
    assert Organization.objects.get().name == "Acme"


@pytest.mark.parametrize(("day", "ok"), [("1949-12-31", False), ("1950-01-01", True), ("9999-12-31", False)])
def test_evidence_dates_share_the_service_wide_bounds(acme, day, ok):
    item = ChecklistItem.objects.create(
        organization=acme, obligation=Obligation.objects.first(), applicability="applies"
    )
    url = f"/api/v1/organizations/{acme.pk}/checklist/{item.pk}/evidence/"
    response = as_user(acme.admin).post(url, {"evidence_date": day, "note": "receipt"}, format="multipart")
    assert response.status_code == (201 if ok else 400)
    if not ok:
        assert "evidence_date" in response.json()
    assert item.evidence.count() == (1 if ok else 0)


def test_html_pages_send_a_content_security_policy(acme):
    client = Client()
    client.force_login(acme.admin)
    policy = client.get(f"/organizations/{acme.pk}/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


@pytest.mark.parametrize(
    ("header", "status"),
    [("*", 200), ('"0-0", W/"{etag}"', 200), ('"0-0", "{etag}0"', 412), ('W/"{etag}"', 200)],
)
def test_if_match_star_and_etag_lists_follow_rfc_9110(acme, header, status):
    item = ChecklistItem.objects.create(
        organization=acme, obligation=Obligation.objects.first(), applicability="applies"
    )
    etag = f"{item.pk}-{item.version}"
    response = as_user(acme.admin).patch(
        f"/api/v1/organizations/{acme.pk}/checklist/{item.pk}/",
        {"status": "in_progress"},
        format="json",
        HTTP_IF_MATCH=header.replace("{etag}", etag),
    )
    assert response.status_code == status, response.content
    item.refresh_from_db()
    assert item.status == ("in_progress" if status == 200 else "open")


# --- 10. Operations traps ----------------------------------------------------------------------


def _settings_value(name: str, **env) -> str:
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps(str(settings.{name})))"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_filemail_url_as_the_readme_writes_it_names_an_absolute_folder(tmp_path):
    assert _settings_value("EMAIL_FILE_PATH", EMAIL_URL=f"filemail://{tmp_path}/mail") == f"{tmp_path}/mail"
    assert _settings_value("EMAIL_FILE_PATH", EMAIL_URL="filemail://var/mail") == str(ROOT / "var" / "mail")


def test_the_production_web_server_collects_static_files_before_it_serves(tmp_path, settings):
    from config import gunicorn

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    gunicorn.on_starting(None)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    assert "web/site.css" in manifest["paths"]


# --- The audit trail -----------------------------------------------------------------------


def test_access_changes_are_recorded_append_only_and_shown_to_admins(acme, people):
    admin = as_user(acme.admin)
    base = f"/api/v1/organizations/{acme.pk}/"
    bob = people("bob")
    created = admin.post(f"{base}invitations/", {"email": "bob@example.com", "role": "viewer"}, format="json").json()
    as_user(bob).post("/api/v1/invitations/accept/", {"token": created["token"]}, format="json")
    member = Membership.objects.get(organization=acme, user=bob)
    admin.patch(f"{base}members/{member.pk}/", {"role": "officer"}, format="json")
    admin.patch(f"{base}reminder-policy/", {"days_before": [5, 0]}, format="json")
    second = admin.post(f"{base}invitations/", {"email": "carol@example.com", "role": "admin"}, format="json").json()
    admin.delete(f"{base}invitations/{second['id']}/")
    admin.delete(f"{base}members/{member.pk}/")

    events = admin.get(f"{base}audit/").json()["results"]
    assert [(e["action"], e["actor"], e["subject"]) for e in reversed(events)] == [
        ("organization_created", "ada", "Acme"),
        ("member_added", "ada", "ada"),
        ("invitation_created", "ada", "bob@example.com"),
        ("invitation_accepted", "bob", "bob@example.com"),
        ("member_role_changed", "ada", "bob"),
        ("reminder_policy_changed", "ada", ""),
        ("invitation_created", "ada", "carol@example.com"),
        ("invitation_revoked", "ada", "carol@example.com"),
        ("member_removed", "ada", "bob"),
    ]
    assert events[4]["changes"] == {"role": {"from": "viewer", "to": "officer"}}
    assert events[3]["changes"] == {"days_before": {"from": [30, 7, 1, 0], "to": [5, 0]}}

    officer = people("otto")
    Membership.objects.create(organization=acme, user=officer, role="officer")
    assert as_user(officer).get(f"{base}audit/").status_code == 403
    browser = Client()
    browser.force_login(acme.admin)
    page = browser.get(f"/organizations/{acme.pk}/audit/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Viewer → Officer" in page.content.decode()


def test_tokens_created_and_revoked_are_recorded(acme):
    client = as_user(acme.admin)
    token = client.post("/api/v1/tokens/", {"name": "CI"}, format="json").json()
    client.delete(f"/api/v1/tokens/{token['id']}/")
    recorded = AuditEvent.objects.filter(organization=None).order_by("id")
    assert [(e.action, e.actor, e.subject) for e in recorded] == [
        ("token_created", acme.admin, f"ada: CI ({token['prefix']}…)"),
        ("token_revoked", acme.admin, f"ada: CI ({token['prefix']}…)"),
    ]
