"""Writes for organizations, their members, tokens, invitations, profiles and events."""

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from regulations.deadlines import Direction, Unit, compute
from regulations.selectors import work_calendar

from . import reminders
from .checklist import checklist_sync
from .errors import ServiceError
from .models import ApiToken, CalendarFeed, Invitation, Membership, Organization, OrganizationEvent, ProfileVersion
from .selectors import profile_current

TOKEN_PREFIX = "cot_"  # noqa: S105 (a marker that makes leaked tokens recognizable, not a secret)
INVITATION_PREFIX = "inv_"
INVITATION_LIFETIME = dt.timedelta(days=14)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str) -> tuple[str, str]:
    secret = prefix + secrets.token_urlsafe(32)
    return secret, digest(secret)


# --- Organizations and members -------------------------------------------------------------


@transaction.atomic
def organization_create(*, user, name: str, slug: str, timezone_name: str) -> Organization:
    """A new organization, with its creator as its first admin."""
    organization = Organization.objects.create(name=name, slug=slug, timezone=timezone_name)
    Membership.objects.create(organization=organization, user=user, role=Membership.Role.ADMIN)
    return organization


def _keep_an_admin(membership: Membership) -> None:
    others = Membership.objects.filter(organization=membership.organization_id, role=Membership.Role.ADMIN)
    if membership.role == Membership.Role.ADMIN and not others.exclude(pk=membership.pk).exists():
        raise ServiceError("role", "An organization needs at least one admin.")


@transaction.atomic
def membership_change_role(membership: Membership, role: str) -> Membership:
    Organization.objects.select_for_update().get(pk=membership.organization_id)  # serialize admin changes
    if role != Membership.Role.ADMIN:
        _keep_an_admin(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    reminders.replan_organization(membership.organization)  # who is reminded follows the roles
    return membership


@transaction.atomic
def membership_remove(membership: Membership) -> None:
    Organization.objects.select_for_update().get(pk=membership.organization_id)
    _keep_an_admin(membership)
    membership.delete()
    CalendarFeed.objects.filter(organization=membership.organization_id, created_by=membership.user_id).update(
        revoked_at=timezone.now()
    )
    reminders.replan_organization(membership.organization)


# --- API tokens ----------------------------------------------------------------------------


def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token and its secret, which is returned once and never stored."""
    secret, token_digest = new_secret(TOKEN_PREFIX)
    token = ApiToken.objects.create(user=user, name=name, prefix=secret[:12], digest=token_digest)
    return token, secret


def token_revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def token_user(secret: str):
    """The active user a token belongs to, or None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Record use at most hourly: a write per request would make every read a write.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(hours=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- Invitations ---------------------------------------------------------------------------


@transaction.atomic  # the email goes out on commit
def invitation_create(*, organization: Organization, email: str, role: str, invited_by) -> tuple[Invitation, str]:
    secret, invitation_digest = new_secret(INVITATION_PREFIX)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        digest=invitation_digest,
        invited_by=invited_by,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    transaction.on_commit(lambda: _send_invitation(invitation, secret))
    return invitation, secret


def _send_invitation(invitation: Invitation, secret: str) -> None:
    send_mail(
        subject=f"Invitation to {invitation.organization.name}",
        message=(
            f"You have been invited to join {invitation.organization.name} as {invitation.role}.\n\n"
            f"Sign in and accept with this code (valid until {invitation.expires_at:%Y-%m-%d}):\n\n{secret}\n\n"
            'API: POST /api/v1/invitations/accept/ with {"token": "<code>"}.\n'
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )


def invitation_revoke(invitation: Invitation) -> None:
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])


@transaction.atomic
def invitation_accept(*, secret: str, user) -> Membership:
    invitation = Invitation.objects.select_for_update().filter(digest=digest(secret)).first()
    if invitation is None or invitation.revoked_at is not None:
        raise ServiceError("token", "No such invitation, or it was revoked.")
    if invitation.accepted_at is not None:
        raise ServiceError("token", "This invitation has already been accepted.")
    if invitation.expires_at < timezone.now():
        raise ServiceError("token", "This invitation has expired; ask for a new one.")
    if Membership.objects.filter(organization=invitation.organization_id, user=user).exists():
        raise ServiceError("token", "You are already a member of this organization.")
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    membership = Membership.objects.create(organization=invitation.organization, user=user, role=invitation.role)
    reminders.replan_organization(invitation.organization)
    return membership


# --- Profile and events --------------------------------------------------------------------


@transaction.atomic
def profile_update(
    *, organization: Organization, answers: dict[str, Any], unset: list[str], replace: bool, changed_by
) -> ProfileVersion:
    """Record new answers (already validated against the vocabulary). ``unset`` facts become
    unknown; with ``replace`` every fact not given becomes unknown. No change, no version."""
    Organization.objects.select_for_update().get(pk=organization.pk)  # one writer at a time
    current = profile_current(organization)
    updated = dict(answers) if replace else {**current.answers, **answers}
    for key in unset:
        updated.pop(key, None)
    changes = {
        key: {"from": current.answers.get(key), "to": updated.get(key)}
        for key in sorted(set(current.answers) | set(updated))
        if current.answers.get(key) != updated.get(key)
    }
    if not changes:
        return current
    version = ProfileVersion.objects.create(
        organization=organization, number=current.number + 1, answers=updated, changes=changes, changed_by=changed_by
    )
    checklist_sync(organization, cause=f"profile version {version.number}")
    return version


@transaction.atomic
def event_report(*, organization: Organization, reported_by, **fields) -> OrganizationEvent:
    event = OrganizationEvent.objects.create(organization=organization, reported_by=reported_by, **fields)
    checklist_sync(organization, cause=f"event {event.type_id} on {event.date} reported")
    return event


@transaction.atomic
def event_delete(event: OrganizationEvent) -> None:
    """A mistaken report: its items are superseded (kept, with their history), not deleted."""
    organization, label = event.organization, f"{event.type_id} on {event.date}"
    event.delete()
    checklist_sync(organization, cause=f"event {label} deleted")


# --- Reminder settings ---------------------------------------------------------------------


@transaction.atomic
def reminder_preferences_update(membership: Membership, **fields) -> Membership:
    for name, value in fields.items():
        setattr(membership, name, value)
    membership.save(update_fields=list(fields))
    reminders.replan_organization(membership.organization)
    return membership


@transaction.atomic
def reminder_policy_update(organization: Organization, **fields):
    policy = reminders.policy_for(organization)
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.save()
    reminders.replan_organization(organization)
    return policy


# --- Demo ----------------------------------------------------------------------------------


@transaction.atomic
def demo_setup(*, username: str, password: str, organization_name: str) -> tuple[Organization, bool]:
    """Create (or reset the password of) the demo user and its organization. Returns the
    organization and whether the user was created. The demo user is a superuser so that it can
    sign in to the admin on a local machine; it is never created outside `make run`."""
    User = get_user_model()
    organization, _ = Organization.objects.get_or_create(slug="demo", defaults={"name": organization_name})
    user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
    user.set_password(password)
    user.is_staff = user.is_superuser = True
    user.save()
    Membership.objects.get_or_create(organization=organization, user=user, defaults={"role": Membership.Role.ADMIN})
    if profile_current(organization).number == 0:
        profile_update(organization=organization, answers=DEMO_PROFILE, unset=[], replace=True, changed_by=user)
        event_report(
            organization=organization,
            reported_by=user,
            type_id="service_launched",
            date=_demo_launch_date(timezone.localdate()),
            subject="Demo face-swap app",
        )
    return organization, created


def _demo_launch_date(today: dt.date) -> dt.date:
    """A launch date whose 10-working-day filing deadline falls tomorrow or in a week, so that
    the demo has a reminder to send today (the policy reminds 1 and 7 days before)."""
    calendar = work_calendar()
    candidates = [today - dt.timedelta(days=n) for n in range(1, 40)]
    for target in (today + dt.timedelta(days=1), today + dt.timedelta(days=7)):
        for launch in candidates:
            if compute(launch, 10, Unit.WORKING_DAYS, Direction.AFTER, calendar).due_date == target:
                return launch
    return today - dt.timedelta(days=3)


# A Lingang company running a face-swap APP: deep synthesis, APP filing and Shanghai rules.
DEMO_PROFILE = {
    "roles": ["app_operator", "deep_synthesis_provider", "enterprise"],
    "registered_in": "CN-SH-LG",
    "operates_in": ["CN-SH"],
    "data_sourced_in": [],
    "features": ["biometric_editing", "public_opinion_attributes"],
    "sectors": [],
}
