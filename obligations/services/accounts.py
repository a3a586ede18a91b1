"""Writes for organizations, their members, API tokens, invitations and reminder settings.
Each service validates what it writes (obligations.errors.validated), so the API, the web
pages, the admin and commands cannot disagree about what is allowed."""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.links import absolute

from ..errors import ServiceError, validated
from ..models import ApiToken, AuditEvent, CalendarFeed, Invitation, Membership, Organization
from . import reminders

TOKEN_PREFIX = "cot_"  # noqa: S105 (a marker that makes leaked tokens recognizable, not a secret)
INVITATION_PREFIX = "inv_"
INVITATION_LIFETIME = dt.timedelta(days=14)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str) -> tuple[str, str]:
    secret = prefix + secrets.token_urlsafe(32)
    return secret, digest(secret)


# --- Organizations and members -------------------------------------------------------------


def audit(action: str, *, actor, organization: Organization | None = None, subject="", changes=None) -> None:
    """Record a change of access in the append-only audit trail (AuditEvent)."""
    AuditEvent.objects.create(
        organization=organization,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        subject=str(subject)[:254],
        changes=changes or {},
    )


def _change(old, new) -> dict:
    return {"from": old, "to": new}


def organization_create(*, user, name: str, slug: str, timezone_name: str = "Asia/Shanghai") -> Organization:
    """A new organization, with its creator as its first admin."""
    organization = validated(Organization(name=name.strip(), slug=slug.strip(), timezone=timezone_name))
    try:
        with transaction.atomic():
            organization.save()
            Membership.objects.create(organization=organization, user=user, role=Membership.Role.ADMIN)
            audit(AuditEvent.Action.ORGANIZATION_CREATED, actor=user, organization=organization, subject=organization)
            audit(
                AuditEvent.Action.MEMBER_ADDED,
                actor=user,
                organization=organization,
                subject=user,
                changes={"role": _change(None, Membership.Role.ADMIN)},
            )
    except IntegrityError:  # another request took the slug since it was checked
        raise ServiceError("slug", "An organization with this slug already exists.") from None
    return organization


@transaction.atomic
def organization_update(organization: Organization, *, actor=None, **fields) -> Organization:
    """Change an organization's name, slug or time zone (the API lets admins do it)."""
    before = {name: getattr(organization, name) for name in fields}
    for name, value in fields.items():
        setattr(organization, name, value.strip() if name == "name" else value)
    validated(organization)
    organization.save(update_fields=list(fields))
    changes = {k: _change(v, getattr(organization, k)) for k, v in before.items() if v != getattr(organization, k)}
    if changes:
        audit(AuditEvent.Action.ORGANIZATION_CHANGED, actor=actor, organization=organization, changes=changes)
    return organization


def _keep_an_admin(membership: Membership) -> None:
    others = Membership.objects.filter(organization=membership.organization_id, role=Membership.Role.ADMIN)
    if membership.role == Membership.Role.ADMIN and not others.exclude(pk=membership.pk).exists():
        raise ServiceError("role", _("An organization needs at least one admin."))


def _valid_role(role: str) -> None:
    if role not in Membership.Role.values:
        raise ServiceError("role", f"Choose one of {', '.join(Membership.Role.values)}.")


@transaction.atomic
def membership_change_role(membership: Membership, role: str, *, actor=None) -> Membership:
    Organization.objects.select_for_update().get(pk=membership.organization_id)  # serialize admin changes
    _valid_role(role)
    if role != Membership.Role.ADMIN:
        _keep_an_admin(membership)
    if role == membership.role:
        return membership
    audit(
        AuditEvent.Action.MEMBER_ROLE_CHANGED,
        actor=actor,
        organization=membership.organization,
        subject=membership.user,
        changes={"role": _change(membership.role, role)},
    )
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(membership: Membership, *, actor=None) -> None:
    Organization.objects.select_for_update().get(pk=membership.organization_id)
    _keep_an_admin(membership)
    membership.delete()
    audit(
        AuditEvent.Action.MEMBER_REMOVED,
        actor=actor,
        organization=membership.organization,
        subject=membership.user,
        changes={"role": _change(membership.role, None)},
    )
    CalendarFeed.objects.filter(organization=membership.organization_id, created_by=membership.user_id).update(
        revoked_at=timezone.now()
    )


# --- API tokens ----------------------------------------------------------------------------


def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token and its secret, which is returned once and never stored."""
    secret, token_digest = new_secret(TOKEN_PREFIX)
    token = ApiToken(user=user, name=name, prefix=secret[:12], digest=token_digest)
    validated(token)
    with transaction.atomic():
        token.save()
        audit(AuditEvent.Action.TOKEN_CREATED, actor=user, subject=f"{user}: {token}")
    return token, secret


@transaction.atomic
def token_revoke(token: ApiToken, *, actor=None) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit(AuditEvent.Action.TOKEN_REVOKED, actor=actor, subject=f"{token.user}: {token}")


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


@transaction.atomic
def invitation_create(*, organization: Organization, email: str, role: str, invited_by) -> tuple[Invitation, str]:
    """An invitation and its code, which is returned once; the email goes out from a task once
    the invitation is committed, so a rolled-back invitation is never mailed."""
    from ..tasks import send_invitation  # tasks import the services

    secret, invitation_digest = new_secret(INVITATION_PREFIX)
    invitation = Invitation(
        organization=organization,
        email=email.strip(),
        role=role,
        digest=invitation_digest,
        invited_by=invited_by,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    validated(invitation)
    invitation.save()
    audit(
        AuditEvent.Action.INVITATION_CREATED,
        actor=invited_by,
        organization=organization,
        subject=invitation.email,
        changes={"role": _change(None, role)},
    )
    transaction.on_commit(lambda: send_invitation.delay(invitation.pk, secret))
    return invitation, secret


def invitation_email_send(*, invitation_id: int, secret: str) -> bool:
    """Mail an invitation's code, in Chinese and then English (the invitee has no language
    preference yet). Nothing is sent for an invitation revoked or accepted since."""
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(pk=invitation_id, digest=digest(secret), accepted_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if invitation is None:
        return False
    context = {
        "invitation": invitation,
        "secret": secret,
        "accept_url": absolute("invitation-accept"),
        "join_url": absolute("web-invitation"),
    }
    subjects, bodies = [], []
    for language in ("zh", "en"):
        with translation.override(language):
            context["role"] = Membership.Role(invitation.role).label
            subjects.append(render_to_string("obligations/email/invitation_subject.txt", context).strip())
            bodies.append(render_to_string("obligations/email/invitation.txt", context).strip())
    send_mail(
        subject=" / ".join(subjects),
        message="\n\n----\n\n".join(bodies) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )
    return True


@transaction.atomic
def invitation_revoke(invitation: Invitation, *, actor=None) -> None:
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit(
            AuditEvent.Action.INVITATION_REVOKED,
            actor=actor,
            organization=invitation.organization,
            subject=invitation.email,
        )


def _open_invitation(secret: str) -> Invitation:
    """The invitation a code opens, locked, if it can still be accepted."""
    invitation = (
        Invitation.objects.select_for_update().select_related("organization").filter(digest=digest(secret)).first()
    )
    if invitation is None or invitation.revoked_at is not None:
        raise ServiceError("token", _("No such invitation, or it was revoked."))
    if invitation.accepted_at is not None:
        raise ServiceError("token", _("This invitation has already been accepted."))
    if invitation.expires_at < timezone.now():
        raise ServiceError("token", _("This invitation has expired; ask for a new one."))
    return invitation


@transaction.atomic
def invitation_accept(*, secret: str, user) -> Membership:
    """Join with an invitation's code. The code alone is not enough: it must be presented by a
    user whose email address is the invited one (compared without regard to case), so that a
    forwarded or leaked code lets nobody else in."""
    invitation = _open_invitation(secret)
    if (user.email or "").strip().casefold() != invitation.email.strip().casefold():
        raise ServiceError(
            "token", _("This invitation was sent to another email address; sign in as that address to accept it.")
        )
    if Membership.objects.filter(organization=invitation.organization_id, user=user).exists():
        raise ServiceError("token", _("You are already a member of this organization."))
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    membership = Membership.objects.create(organization=invitation.organization, user=user, role=invitation.role)
    audit(
        AuditEvent.Action.INVITATION_ACCEPTED,
        actor=user,
        organization=invitation.organization,
        subject=invitation.email,
        changes={"role": _change(None, invitation.role)},
    )
    return membership


@transaction.atomic
def account_create_with_invitation(*, secret: str, username: str, password: str) -> Membership:
    """A person without an account joins with an invitation: an account for the invited email
    address (the code is the proof that it is theirs), then the invitation accepted."""
    invitation = _open_invitation(secret)
    User = get_user_model()
    if User.objects.filter(email__iexact=invitation.email.strip()).exists():
        raise ServiceError("username", _("An account with the invited email address exists already: sign in to join."))
    user = User(username=username, email=invitation.email.strip())
    validated(user, exclude=["password"])
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ServiceError(errors={"password": list(error.messages)}) from None
    user.set_password(password)
    user.save()
    return invitation_accept(secret=secret, user=user)


# --- Reminder settings ---------------------------------------------------------------------


@transaction.atomic
def reminder_preferences_update(membership: Membership, **fields) -> Membership:
    for name, value in fields.items():
        setattr(membership, name, value)
    validated(membership, exclude=["organization", "user"])
    membership.save(update_fields=list(fields))
    return membership


@transaction.atomic
def reminder_policy_update(organization: Organization, *, actor=None, **fields):
    """Change the organization's reminder policy; the days before are kept latest first, once each."""
    policy = reminders.policy_for(organization)
    if isinstance(fields.get("days_before"), list) and all(isinstance(d, int) for d in fields["days_before"]):
        fields["days_before"] = sorted(set(fields["days_before"]), reverse=True)
    changes = {k: _change(getattr(policy, k), v) for k, v in fields.items() if getattr(policy, k) != v}
    for name, value in fields.items():
        setattr(policy, name, value)
    validated(policy, exclude=["organization"])
    policy.save()
    if changes:
        audit(AuditEvent.Action.REMINDER_POLICY_CHANGED, actor=actor, organization=organization, changes=changes)
    return policy
