"""Running the organization from the pages: members and roles, invitations (sent, accepted with
or without an account, revoked), the reminder policy, and each person's API tokens; through the
same services and permissions as the API."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, TestCase

from obligations import services
from obligations.models import ApiToken, AuditEvent, Invitation, Membership, ReminderPolicy
from obligations.services import reminders

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(django_user_model):
    ada = django_user_model.objects.create_user("ada", "ada@example.com", "pw-ada-123")
    vic = django_user_model.objects.create_user("vic", "vic@example.com", "pw-vic-123")
    organization = services.organization_create(user=ada, name="Acme", slug="acme")
    Membership.objects.create(organization=organization, user=vic, role=Membership.Role.VIEWER)
    organization.ada, organization.vic = ada, vic
    return organization


def signed_in(user=None, lang="zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    if user:
        client.force_login(user)
    return client


def members_url(organization) -> str:
    return f"/organizations/{organization.pk}/members/"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def invite(client, organization, email: str, role: str = "officer") -> str:
    """Invite ``email``; the link from the email that went out."""
    with TestCase.captureOnCommitCallbacks(execute=True):  # the email goes out once the invitation is committed
        response = client.post(
            members_url(organization), {"action": "invite", "email": email, "role": role}, follow=True
        )
    assert response.status_code == 200
    links = re.findall(r"http\S+/invitations/accept/\?code=\S+", str(mail.outbox[-1].body))
    assert len(set(links)) == 1 and len(links) == 2  # in Chinese, then in English
    link = links[0]
    return link.removeprefix("http://127.0.0.1:8000")


def test_an_invited_person_without_an_account_joins_with_the_emailed_link(acme):
    admin = signed_in(acme.ada)
    link = invite(admin, acme, "Lin@Example.com", "officer")
    assert mail.outbox[-1].to == ["Lin@Example.com"]
    page = admin.get(members_url(acme)).content.decode()
    assert "Lin@Example.com" in page and "等待接受" in page

    visitor = signed_in()
    form = visitor.get(link).content.decode()
    assert 'name="username"' in form and re.search(r'name="code"[^>]*value="inv_', form)
    code = link.split("code=")[1]
    refused = visitor.post(link, {"code": code, "username": "lin", "password": "lin", "password_again": "lin"})
    assert refused.status_code == 200 and "password" in refused.context["form"].errors  # too short, too common
    assert not get_user_model().objects.filter(username="lin").exists()
    mismatch = {"code": code, "username": "lin", "password": "a-long-pass-phrase", "password_again": "another"}
    assert "password_again" in visitor.post(link, mismatch).context["form"].errors

    good = {**mismatch, "password_again": "a-long-pass-phrase"}
    response = visitor.post(link, good, follow=True)
    assert response.redirect_chain[-1][0] == f"/organizations/{acme.pk}/"
    lin = get_user_model().objects.get(username="lin")
    assert lin.email.casefold() == "lin@example.com" and lin.check_password("a-long-pass-phrase")
    assert Membership.objects.get(organization=acme, user=lin).role == "officer"
    assert "Acme" in " ".join(messages_of(response))
    # The code is spent: a second account cannot be made with it.
    again = signed_in().post(link, {**good, "username": "lin2"})
    assert again.context["form"].non_field_errors() and not get_user_model().objects.filter(username="lin2").exists()
    assert "已接受" in admin.get(members_url(acme)).content.decode()


def test_a_signed_in_person_joins_only_with_the_invited_address(acme, django_user_model):
    link = invite(signed_in(acme.ada), acme, "bo@example.com", "viewer")
    code = link.split("code=")[1]
    eve = django_user_model.objects.create_user("eve", "eve@example.com", "pw-eve-123")
    refused = signed_in(eve).post("/invitations/accept/", {"code": code})
    assert "另一个邮箱" in " ".join(refused.context["form"].non_field_errors())
    assert not Membership.objects.filter(organization=acme, user=eve).exists()
    bo = django_user_model.objects.create_user("bo", "BO@example.com", "pw-bo-123")
    response = signed_in(bo).post("/invitations/accept/", {"code": code})
    assert response.status_code == 302 and Membership.objects.get(organization=acme, user=bo).role == "viewer"


def test_revoked_invitations_cannot_be_used(acme):
    admin = signed_in(acme.ada)
    link = invite(admin, acme, "lin@example.com")
    invitation = Invitation.objects.get(email="lin@example.com")
    admin.post(members_url(acme), {"action": "revoke", "invitation": invitation.pk})
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    body = {"code": link.split("code=")[1], "username": "lin", "password": "a-long-pass-phrase"}
    response = signed_in().post(link, {**body, "password_again": body["password"]})
    assert response.status_code == 200 and "撤销" in " ".join(response.context["form"].non_field_errors())


def test_admins_change_roles_and_remove_members_but_keep_an_admin(acme):
    admin = signed_in(acme.ada)
    vic = Membership.objects.get(organization=acme, user=acme.vic)
    admin.post(members_url(acme), {"action": "role", "member": vic.pk, "role": "officer"})
    vic.refresh_from_db()
    assert vic.role == "officer"
    assert AuditEvent.objects.filter(organization=acme, action="member_role_changed").exists()

    ada = Membership.objects.get(organization=acme, user=acme.ada)
    response = admin.post(members_url(acme), {"action": "role", "member": ada.pk, "role": "viewer"}, follow=True)
    assert "至少需要一名管理员" in " ".join(messages_of(response))
    ada.refresh_from_db()
    assert ada.role == "admin"

    admin.post(members_url(acme), {"action": "remove", "member": vic.pk})
    assert not Membership.objects.filter(pk=vic.pk).exists()


def test_a_member_of_another_organization_cannot_be_changed_through_ones_own_page(acme, django_user_model):
    mallory = django_user_model.objects.create_user("mallory", "m@example.com", "pw-mallory-123")
    own = services.organization_create(user=mallory, name="Mallory Inc", slug="mallory")
    vic = Membership.objects.get(organization=acme, user=acme.vic)
    invitation, _secret = services.invitation_create(
        organization=acme, email="x@example.com", role="officer", invited_by=acme.ada
    )
    client = signed_in(mallory)
    for body in (
        {"action": "role", "member": vic.pk, "role": "admin"},
        {"action": "remove", "member": vic.pk},
        {"action": "revoke", "invitation": invitation.pk},
    ):
        assert client.post(members_url(own), body).status_code == 404
    vic.refresh_from_db()
    invitation.refresh_from_db()
    assert vic.role == "viewer" and invitation.status == "pending"


def test_the_reminder_policy_is_checked_by_the_same_rules_as_the_api(acme):
    admin = signed_in(acme.ada)
    good = {
        "action": "policy",
        "days_before": "7，30、0, 7",
        "overdue_every_days": "3",
        "overdue_slow_after_days": "20",
        "overdue_slow_every_days": "10",
        "escalate_after_days": "5",
    }
    admin.post(members_url(acme), good)
    policy = ReminderPolicy.objects.get(organization=acme)
    assert (policy.days_before, policy.escalate_after_days) == ([30, 7, 0], 5)

    for field, value in (("days_before", "30, soon"), ("days_before", "400"), ("escalate_after_days", "0")):
        response = admin.post(members_url(acme), {**good, field: value})
        assert response.status_code == 200 and field in response.context["policy_form"].errors, (field, value)
    policy.refresh_from_db()
    assert (policy.days_before, policy.escalate_after_days) == ([30, 7, 0], 5)
    # The API refuses the same way, with the model's rule.
    assert reminders.policy_for(acme).escalate_after_days == 5


def test_viewers_see_members_and_policy_without_forms(acme):
    page = signed_in(acme.vic).get(members_url(acme)).content.decode()
    assert "ada" in page and "vic" in page and 'id="policy"' in page
    assert 'name="action"' not in page.split("</header>")[1]  # no form to change anything
    assert signed_in(acme.vic).post(members_url(acme), {"action": "remove", "member": 1}).status_code == 403


def test_tokens_are_created_shown_once_and_revoked_from_the_page(acme, django_user_model):
    client = signed_in(acme.ada)
    response = client.post("/account/tokens/", {"action": "create", "name": "报表脚本"}, follow=True)
    [secret] = re.findall(r"cot_\S+", " ".join(messages_of(response)))
    assert secret not in client.get("/account/tokens/").content.decode()  # shown once
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/me/").status_code == 200
    token = ApiToken.objects.get(user=acme.ada)
    other = signed_in(django_user_model.objects.create_user("otto", "o@example.com", "pw-otto-123"))
    assert other.post("/account/tokens/", {"action": "revoke", "token": token.pk}).status_code == 404
    client.post("/account/tokens/", {"action": "revoke", "token": token.pk})
    assert api.get("/api/v1/me/").status_code == 401
    assert signed_in().get("/account/tokens/").status_code == 302  # sign in first
