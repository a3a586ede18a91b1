"""Personal API tokens, organizations, members and invitations."""

import datetime as dt
import hashlib

import pytest
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.test import APIClient

from obligations.models import ApiToken, Invitation, Membership, Organization

pytestmark = pytest.mark.django_db


def create_token(client, name="ci") -> dict:
    response = client.post("/api/v1/tokens/", {"name": name}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


# --- Tokens --------------------------------------------------------------------------------


def test_created_token_is_shown_once_then_only_its_prefix(as_alice):
    created = create_token(as_alice, "laptop")
    secret = created["token"]
    assert secret.startswith("cot_") and len(secret) > 40
    assert created["prefix"] == secret[:12]

    listed = as_alice.get("/api/v1/tokens/").json()["results"]
    assert [(t["id"], t["name"], t["prefix"]) for t in listed] == [(created["id"], "laptop", secret[:12])]
    detail = as_alice.get(f"/api/v1/tokens/{created['id']}/").json()
    for shown in [*listed, detail]:
        assert "token" not in shown
        assert secret not in str(shown)


def test_only_a_digest_of_the_token_is_stored(as_alice):
    secret = create_token(as_alice)["token"]
    row = ApiToken.objects.get()
    assert row.digest == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(getattr(row, f.attname)) for f in ApiToken._meta.concrete_fields]
    assert not any(secret in value for value in stored)


def test_bearer_token_authenticates_and_records_its_use(as_alice, bearer_client):
    created = create_token(as_alice)
    assert ApiToken.objects.get(pk=created["id"]).last_used_at is None

    response = bearer_client(created["token"]).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    used = ApiToken.objects.get(pk=created["id"]).last_used_at
    assert used is not None and timezone.now() - used < dt.timedelta(minutes=1)
    assert as_alice.get(f"/api/v1/tokens/{created['id']}/").json()["last_used_at"] is not None


def test_session_sign_in_works_too(alice):
    client = APIClient()
    assert client.login(request=HttpRequest(), username="alice", password="pw-alice-123")
    assert client.get("/api/v1/me/").json()["username"] == "alice"


def test_revoked_token_answers_401(as_alice, bearer_client):
    created = create_token(as_alice)
    client = bearer_client(created["token"])
    assert client.get("/api/v1/me/").status_code == 200

    assert as_alice.delete(f"/api/v1/tokens/{created['id']}/").status_code == 204
    assert ApiToken.objects.get(pk=created["id"]).revoked_at is not None
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    # Revoked, not deleted: it is still listed, with the time it was revoked.
    assert as_alice.get(f"/api/v1/tokens/{created['id']}/").json()["revoked_at"] is not None


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer two parts", "Bearer cot_not-a-token-that-exists", "Bearer " + "x" * 500],
    ids=["no-token", "too-many-parts", "unknown-token", "long-garbage"],
)
def test_malformed_or_unknown_bearer_header_answers_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/me/").status_code == 401


def test_token_of_a_deactivated_user_answers_401(alice, as_alice, bearer_client):
    secret = create_token(as_alice)["token"]
    alice.is_active = False
    alice.save()
    assert bearer_client(secret).get("/api/v1/me/").status_code == 401


def test_token_creation_rejects_unknown_fields(as_alice):
    response = as_alice.post("/api/v1/tokens/", {"name": "ci", "user": 99}, format="json")
    assert response.status_code == 400
    assert "user" in response.json()
    assert not ApiToken.objects.exists()


def test_anonymous_cannot_list_or_create_tokens():
    client = APIClient()
    assert client.get("/api/v1/tokens/").status_code == 401
    assert client.post("/api/v1/tokens/", {"name": "x"}, format="json").status_code == 401
    assert not ApiToken.objects.exists()


# --- Organizations -------------------------------------------------------------------------


def test_creating_an_organization_makes_me_its_admin(as_alice, alice):
    response = as_alice.post("/api/v1/organizations/", {"name": "Acme", "slug": "acme"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["role"] == "admin" and body["timezone"] == "Asia/Shanghai"
    assert Membership.objects.get(organization=body["id"]).user == alice
    assert Membership.objects.get(organization=body["id"]).role == "admin"
    me = as_alice.get("/api/v1/me/").json()
    assert me["organizations"] == [{"id": body["id"], "name": "Acme", "role": "admin"}]


def test_organization_list_shows_only_mine_once_with_my_role(
    acme, alice, make_user, make_organization, add_member, client_for
):
    bob = make_user("bob")
    make_organization(bob, "Bob's Other Org")
    add_member(acme, bob, "viewer")
    add_member(acme, make_user("carol"), "officer")

    listed = client_for(bob).get("/api/v1/organizations/").json()["results"]
    assert sorted((o["name"], o["role"]) for o in listed) == [("Acme Shanghai", "viewer"), ("Bob's Other Org", "admin")]
    listed = client_for(alice).get("/api/v1/organizations/").json()["results"]
    assert [(o["name"], o["role"]) for o in listed] == [("Acme Shanghai", "admin")]


def test_organization_slug_must_be_unique(acme, as_alice):
    response = as_alice.post("/api/v1/organizations/", {"name": "Copy", "slug": acme.slug}, format="json")
    assert response.status_code == 400
    assert "slug" in response.json()
    assert Organization.objects.count() == 1


def test_admin_renames_and_rejects_unknown_time_zone(acme, as_alice):
    url = f"/api/v1/organizations/{acme.pk}/"
    assert as_alice.patch(url, {"name": "Acme Lingang"}, format="json").json()["name"] == "Acme Lingang"
    response = as_alice.patch(url, {"timezone": "Mars/Olympus"}, format="json")
    assert response.status_code == 400
    assert "timezone" in response.json()
    acme.refresh_from_db()
    assert (acme.name, acme.timezone) == ("Acme Lingang", "Asia/Shanghai")


def test_officer_cannot_rename_the_organization(acme, make_user, add_member, client_for):
    officer = make_user("olga")
    add_member(acme, officer, "officer")
    response = client_for(officer).patch(f"/api/v1/organizations/{acme.pk}/", {"name": "Mine"}, format="json")
    assert response.status_code == 403
    acme.refresh_from_db()
    assert acme.name == "Acme Shanghai"


# --- Members -------------------------------------------------------------------------------


def members_url(organization, membership=None) -> str:
    url = f"/api/v1/organizations/{organization.pk}/members/"
    return f"{url}{membership.pk}/" if membership else url


def test_admin_changes_a_members_role(acme, as_alice, make_user, add_member):
    bob = add_member(acme, make_user("bob"), "viewer")
    response = as_alice.patch(members_url(acme, bob), {"role": "officer"}, format="json")
    assert response.status_code == 200
    assert response.json()["role"] == "officer"
    bob.refresh_from_db()
    assert bob.role == "officer"
    listed = as_alice.get(members_url(acme)).json()["results"]
    assert [(m["user"]["username"], m["role"]) for m in listed] == [("alice", "admin"), ("bob", "officer")]


def test_last_admin_can_be_neither_demoted_nor_removed(acme, alice, as_alice):
    own = Membership.objects.get(organization=acme, user=alice)
    response = as_alice.patch(members_url(acme, own), {"role": "officer"}, format="json")
    assert response.status_code == 400
    assert "role" in response.json()
    response = as_alice.delete(members_url(acme, own))
    assert response.status_code == 400
    assert "role" in response.json()
    own.refresh_from_db()
    assert own.role == "admin"


def test_an_admin_may_step_down_once_there_is_another(acme, alice, as_alice, make_user, add_member):
    add_member(acme, make_user("bob"), "admin")
    own = Membership.objects.get(organization=acme, user=alice)
    assert as_alice.patch(members_url(acme, own), {"role": "viewer"}, format="json").status_code == 200
    own.refresh_from_db()
    assert own.role == "viewer"


def test_admin_removes_a_member(acme, as_alice, make_user, add_member):
    bob = add_member(acme, make_user("bob"), "officer")
    assert as_alice.delete(members_url(acme, bob)).status_code == 204
    assert not Membership.objects.filter(pk=bob.pk).exists()


def test_role_must_be_one_of_the_roles(acme, as_alice, make_user, add_member):
    bob = add_member(acme, make_user("bob"), "viewer")
    response = as_alice.patch(members_url(acme, bob), {"role": "owner"}, format="json")
    assert response.status_code == 400
    assert "role" in response.json()
    bob.refresh_from_db()
    assert bob.role == "viewer"


def test_patch_without_a_role_is_not_a_server_error(acme, alice):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(alice)
    own = Membership.objects.get(organization=acme, user=alice)
    response = client.patch(members_url(acme, own), {}, format="json")
    assert (response.status_code, list(response.json())) == (400, ["role"])


def test_officer_cannot_change_roles_or_remove_members(acme, make_user, add_member, client_for):
    officer = make_user("olga")
    add_member(acme, officer, "officer")
    bob = add_member(acme, make_user("bob"), "viewer")
    client = client_for(officer)
    assert client.get(members_url(acme)).status_code == 200
    assert client.patch(members_url(acme, bob), {"role": "admin"}, format="json").status_code == 403
    assert client.delete(members_url(acme, bob)).status_code == 403
    bob.refresh_from_db()
    assert bob.role == "viewer"


# --- Invitations ---------------------------------------------------------------------------


@pytest.fixture
def invite(acme, as_alice, django_capture_on_commit_callbacks):
    """Alice invites someone to Acme; returns the API's answer, with the token."""

    def make(email="bob@example.com", role="officer") -> dict:
        with django_capture_on_commit_callbacks(execute=True):
            response = as_alice.post(
                f"/api/v1/organizations/{acme.pk}/invitations/", {"email": email, "role": role}, format="json"
            )
        assert response.status_code == 201, response.json()
        return response.json()

    return make


def accept(client, token):
    return client.post("/api/v1/invitations/accept/", {"token": token}, format="json")


def test_invitation_is_created_with_a_token_and_mailed(acme, as_alice, invite, mailoutbox):
    created = invite("bob@example.com", "viewer")
    assert created["token"].startswith("inv_")
    assert (created["email"], created["role"], created["status"], created["invited_by"]) == (
        "bob@example.com",
        "viewer",
        "pending",
        "alice",
    )
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["bob@example.com"]
    assert acme.name in mail.subject
    assert created["token"] in mail.body

    # Shown once: the listing and the detail do not repeat it, and the row keeps a digest.
    listed = as_alice.get(f"/api/v1/organizations/{acme.pk}/invitations/").json()["results"]
    detail = as_alice.get(f"/api/v1/organizations/{acme.pk}/invitations/{created['id']}/").json()
    assert [i["id"] for i in listed] == [created["id"]]
    assert created["token"] not in str(listed) + str(detail)
    assert Invitation.objects.get().digest == hashlib.sha256(created["token"].encode()).hexdigest()


def test_invalid_invitation_is_neither_stored_nor_mailed(
    acme, as_alice, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_alice.post(
            f"/api/v1/organizations/{acme.pk}/invitations/", {"email": "not-an-email", "role": "viewer"}, format="json"
        )
    assert response.status_code == 400
    assert "email" in response.json()
    assert mailoutbox == []
    assert not Invitation.objects.exists()


def test_invitation_accepted_by_another_signed_in_user(acme, invite, make_user, client_for):
    token = invite("bob@example.com", "viewer")["token"]
    bob = make_user("bob")

    response = accept(client_for(bob), token)
    assert response.status_code == 201
    body = response.json()
    assert (body["organization"], body["role"], body["user"]["username"]) == (acme.pk, "viewer", "bob")
    assert Membership.objects.get(organization=acme, user=bob).role == "viewer"
    invitation = Invitation.objects.get()
    assert invitation.accepted_by == bob and invitation.accepted_at is not None

    # Used up: neither bob again nor anyone else can use it.
    response = accept(client_for(bob), token)
    assert response.status_code == 400
    assert "token" in response.json()
    response = accept(client_for(make_user("carol")), token)
    assert response.status_code == 400
    assert "token" in response.json()
    assert Membership.objects.filter(organization=acme).count() == 2


def test_expired_invitation_is_refused(acme, invite, make_user, client_for):
    token = invite()["token"]
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = accept(client_for(make_user("bob")), token)
    assert response.status_code == 400
    assert "token" in response.json()
    assert Membership.objects.filter(organization=acme).count() == 1


def test_revoked_invitation_is_refused(acme, as_alice, invite, make_user, client_for):
    created = invite()
    assert as_alice.delete(f"/api/v1/organizations/{acme.pk}/invitations/{created['id']}/").status_code == 204
    detail = as_alice.get(f"/api/v1/organizations/{acme.pk}/invitations/{created['id']}/").json()
    assert detail["status"] == "revoked"

    response = accept(client_for(make_user("bob")), created["token"])
    assert response.status_code == 400
    assert "token" in response.json()
    assert Membership.objects.filter(organization=acme).count() == 1


def test_unknown_invitation_token_is_refused(acme, make_user, client_for):
    response = accept(client_for(make_user("bob")), "inv_made-up")
    assert response.status_code == 400
    assert "token" in response.json()


def test_a_member_cannot_accept_an_invitation_to_their_own_organization(acme, alice, invite, client_for):
    response = accept(client_for(alice), invite()["token"])
    assert response.status_code == 400
    assert "token" in response.json()
    assert Invitation.objects.get().accepted_at is None


def test_anonymous_cannot_accept(acme, invite):
    assert accept(APIClient(), invite()["token"]).status_code == 401
    assert Invitation.objects.get().accepted_at is None


def test_invitations_are_for_admins_only(acme, invite, make_user, add_member, client_for):
    created = invite()
    officer = make_user("olga")
    add_member(acme, officer, "officer")
    client = client_for(officer)
    url = f"/api/v1/organizations/{acme.pk}/invitations/"
    assert client.get(url).status_code == 403
    assert client.get(f"{url}{created['id']}/").status_code == 403
    assert client.post(url, {"email": "eve@example.com", "role": "admin"}, format="json").status_code == 403
    assert client.delete(f"{url}{created['id']}/").status_code == 403
    assert Invitation.objects.count() == 1
    assert Invitation.objects.get().revoked_at is None
