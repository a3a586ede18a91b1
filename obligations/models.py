"""What an organization must do and has done."""

import datetime as dt
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .validators import date_in_range, endpoint_events, iana_timezone, outbound_url, reminder_days, visible_text


class Organization(models.Model):
    name = models.CharField(max_length=200, validators=[visible_text])
    slug = models.SlugField(max_length=80, unique=True, help_text="Letters, digits, hyphens and underscores.")
    timezone = models.CharField(max_length=64, default="Asia/Shanghai", validators=[iana_timezone])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


WEEKDAYS = (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday"))


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        OFFICER = "officer", _("Officer")
        VIEWER = "viewer", _("Viewer")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")

    class Language(models.TextChoices):
        ZH = "zh", "中文"
        EN = "en", "English"

    class Delivery(models.TextChoices):
        IMMEDIATE = "immediate", _("As soon as a reminder is due (at most once a day per item)")
        DAILY = "daily", _("One digest a day")

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.OFFICER)
    created_at = models.DateTimeField(auto_now_add=True)
    # Reminder preferences: per membership, since one person may work for several organizations.
    reminders_enabled = models.BooleanField(default=True, help_text="Escalations are sent regardless.")
    reminder_language = models.CharField(max_length=2, choices=Language.choices, default=Language.ZH)
    reminder_delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.DAILY)
    reminder_hour = models.PositiveSmallIntegerField(default=9, help_text="Local hour (0-23) reminders go out.")
    reminder_timezone = models.CharField(max_length=64, default="Asia/Shanghai", validators=[iana_timezone])
    reminder_weekday = models.PositiveSmallIntegerField(
        default=0,
        choices=[(n, name) for n, name in enumerate(WEEKDAYS)],
        help_text="Overdue reminders fall on this weekday, so that one email gathers them.",
    )

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        WECOM = "wecom", _("WeCom group robot")
        DINGTALK = "dingtalk", _("DingTalk custom robot")
        FEISHU = "feishu", _("Feishu custom bot")

    # A member may have their digests posted to a chat robot instead of emailed: the same
    # digest, once, through the same ledger (services/reminders.py).
    reminder_channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    reminder_chat_url = models.URLField(max_length=500, blank=True, validators=[outbound_url])
    reminder_chat_secret = models.CharField(
        max_length=200, blank=True, help_text="The robot's signing secret (DingTalk, Feishu), if it has one."
    )

    # What each member sets for themselves, on the preferences page and in the API alike.
    REMINDER_PREFERENCES = (
        "reminders_enabled",
        "reminder_language",
        "reminder_delivery",
        "reminder_hour",
        "reminder_timezone",
        "reminder_weekday",
        "reminder_channel",
        "reminder_chat_url",
        "reminder_chat_secret",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique"),
            models.CheckConstraint(condition=Q(reminder_hour__lte=23), name="membership_reminder_hour_valid"),
            models.CheckConstraint(condition=Q(reminder_weekday__lte=6), name="membership_reminder_weekday_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    def clean(self) -> None:
        if self.reminder_channel != self.Channel.EMAIL and not self.reminder_chat_url:
            raise ValidationError({"reminder_chat_url": _("Give the robot's webhook address to send reminders there.")})


class ReminderPolicy(models.Model):
    """When an organization's people are reminded of due dates."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="reminder_policy")
    days_before = models.JSONField(
        default=list, validators=[reminder_days], help_text="Days before the due date; 0 is the day itself."
    )
    overdue_every_days = models.PositiveSmallIntegerField(
        default=7, validators=[MaxValueValidator(365)], help_text="Overdue reminders this often at first (0: none)."
    )
    overdue_slow_after_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(3650)],
        help_text="Days overdue after which overdue reminders slow down.",
    )
    overdue_slow_every_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="How often overdue reminders come once they slow down.",
    )
    escalate_after_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Days overdue before admins are told.",
    )

    DEFAULT_DAYS_BEFORE = (30, 7, 1, 0)

    def __str__(self) -> str:
        return f"reminder policy of {self.organization}"


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 digest is stored: the token is shown once, at
    creation. Tokens are 256-bit random strings, so a fast digest is enough (no key stretching
    needed, unlike passwords) and lets each request be checked with one indexed lookup."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, validators=[visible_text])
    prefix = models.CharField(max_length=12, help_text="The token's first characters, to recognize it.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


INVITATION_STATUSES = [("pending", "pending"), ("accepted", "accepted"), ("revoked", "revoked"), ("expired", "expired")]
INVITATION_STATUS_NAMES = {
    "pending": _("waiting to be accepted"),
    "accepted": _("accepted"),
    "revoked": _("revoked"),
    "expired": _("expired"),
}


class Invitation(models.Model):
    """An invitation to join an organization, accepted by presenting its secret token while
    signed in. Like API tokens, only the digest is stored."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Membership.Role.choices, default=Membership.Role.OFFICER)
    digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"

    @property
    def status_name(self) -> str:
        return str(INVITATION_STATUS_NAMES[self.status])


class ProfileVersion(models.Model):
    """The organization's answers to the fact vocabulary. Append-only: every change is a new
    version recording who made it and what changed; the latest version is the profile. A fact
    that is absent from ``answers`` is unknown, never false."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="profile_versions")
    number = models.PositiveIntegerField()
    answers = models.JSONField(default=dict)
    changes = models.JSONField(default=dict, help_text='{"fact": {"from": old, "to": new}}; null means unknown.')
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["organization", "number"], name="profile_version_unique")]

    def __str__(self) -> str:
        return f"{self.organization} profile v{self.number}"


class OrganizationEvent(models.Model):
    """A dated event the organization reports (a service launched, a request received); events
    start the deadlines of obligations that run from them."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="events")
    type = models.ForeignKey("regulations.EventType", to_field="key", on_delete=models.PROTECT, related_name="+")
    date = models.DateField(validators=[date_in_range])
    subject = models.CharField(max_length=200, blank=True, help_text="What it concerns, e.g. the app's name.")
    note = models.TextField(blank=True, max_length=5000)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization_id", "-date", "-id"]
        indexes = [models.Index(fields=["organization", "type", "date"])]

    def __str__(self) -> str:
        return f"{self.type_id} on {self.date}"


class ChecklistItemQuerySet(models.QuerySet):
    """What an item is, decided once: the checklist, reminders, the dashboard, the filters and
    the templates all ask these (templates through ``ChecklistItem.is_overdue``)."""

    def current(self):
        return self.filter(superseded_at__isnull=True)

    @staticmethod
    def actionable_q() -> Q:
        """Current items someone must still act on. Items that need review are not: the duty
        may not apply at all, and the questionnaire asks instead."""
        return Q(
            superseded_at__isnull=True,
            status__in=ChecklistItem.OPEN_STATUSES,
            applicability=ChecklistItem.Applicability.APPLIES,
            track=ChecklistItem.Track.DUTY,
        )

    def actionable(self):
        return self.filter(self.actionable_q())

    def duties(self):
        return self.filter(track=ChecklistItem.Track.DUTY)

    def opportunities(self):
        return self.filter(track=ChecklistItem.Track.OPPORTUNITY)

    def overdue(self, today: dt.date):
        return self.actionable().filter(due_date__lt=today)


class ChecklistItem(models.Model):
    """One thing an organization must do: an obligation, once, per period of a recurring duty,
    or per reported event. Items are never deleted: when an obligation stops applying the item
    is superseded, keeping its history and evidence."""

    class Track(models.TextChoices):
        # What the organization must or must not do: worked through, reminded, overdue.
        DUTY = "duty", _("Duty")
        # What it may take up (support, subsidies, encouragement): listed with how to apply,
        # never reminded and never overdue.
        OPPORTUNITY = "opportunity", _("Opportunity")
        # An authority's act the organization waits for (the filing decision after it filed):
        # its date is what to expect, never the organization's own duty.
        EXPECTATION = "expectation", _("Expected from the authorities")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        NOT_APPLICABLE = "not_applicable", _("Not applicable")

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    class Applicability(models.TextChoices):
        APPLIES = "applies", _("applies")
        NEEDS_REVIEW = "needs_review", _("needs review")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="checklist_items")
    obligation = models.ForeignKey("regulations.Obligation", on_delete=models.PROTECT, related_name="+")
    # "" for a one-off duty, the period's due date for a recurring one, "event:<id>" per event.
    occurrence = models.CharField(max_length=40, blank=True)
    event = models.ForeignKey(
        OrganizationEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="checklist_items"
    )
    applicability = models.CharField(max_length=20, choices=Applicability.choices)
    track = models.CharField(max_length=12, choices=Track.choices, default=Track.DUTY)
    waiting_for = models.JSONField(default=list, blank=True, help_text="Answers a needs-review item waits for.")
    reasons = models.JSONField(default=list, blank=True, help_text="Why it applies, as last evaluated.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    opens = models.DateField(null=True, blank=True, help_text="Start of a window, when the rule has one.")
    due_basis = models.JSONField(
        default=dict, blank=True, help_text="How the due date was computed: rule, start, steps, estimated, pending."
    )
    due_sequence = models.PositiveIntegerField(default=0, help_text="Raised each time the due date moves (iCal).")
    justification = models.TextField(blank=True, max_length=5000)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_reason = models.JSONField(
        default=dict, blank=True, help_text='Why it was set aside, as structure: {"code": "removed"}; see wording.py.'
    )
    version = models.PositiveIntegerField(default=1, help_text="Raised on every change; the ETag.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ChecklistItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "obligation", "occurrence"], name="checklist_item_unique"),
            models.CheckConstraint(
                condition=~Q(status="not_applicable") | ~Q(justification=""),
                name="checklist_item_not_applicable_justified",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "track", "superseded_at", "due_date"]),
            models.Index(fields=["organization", "status"]),
            # The checklist's default order, for its current items: a page's keys are read from
            # this index alone (bench/README.md, checklist list).
            models.Index(
                fields=["organization", "track", "due_date", "id"],
                condition=Q(superseded_at__isnull=True),
                name="checklist_item_current_by_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.obligation_id}{'@' + self.occurrence if self.occurrence else ''}"

    @property
    def is_actionable(self) -> bool:
        """The row-level twin of ``ChecklistItemQuerySet.actionable``."""
        return (
            self.superseded_at is None
            and self.status in self.OPEN_STATUSES
            and self.applicability == self.Applicability.APPLIES
            and self.track == self.Track.DUTY
        )

    def is_overdue(self, today: dt.date) -> bool:
        return bool(self.is_actionable and self.due_date and self.due_date < today)


class ChecklistChange(models.Model):
    """One sync that changed an organization's checklist: why it ran (``cause``, as in the
    history) and how many items it added, set aside, restored, re-dated or reclassified. The
    history entries it wrote point at it, so a change lists its items with their reasons."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="checklist_changes")
    at = models.DateTimeField(auto_now_add=True)
    cause = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, help_text='{"added": 3, "superseded": 1, "redated": 2, ...}')

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organization", "-at", "-id"], name="change_by_organization")]

    def __str__(self) -> str:
        return f"checklist change of {self.organization_id} at {self.at:%Y-%m-%d %H:%M}"


class ItemHistory(models.Model):
    """Append-only record of every change to an item: who (null for the system), when, what
    changed from and to. Nothing updates or deletes these rows."""

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")
        REDATED = "redated", _("due date moved")
        SUPERSEDED = "superseded", _("superseded")
        RESTORED = "restored", _("restored")
        COMMENTED = "commented", _("commented")
        EVIDENCE_ADDED = "evidence_added", _("evidence added")

    item = models.ForeignKey(ChecklistItem, on_delete=models.CASCADE, related_name="history")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    changes = models.JSONField(default=dict, blank=True, help_text='{"field": {"from": old, "to": new}}')
    note = models.TextField(blank=True, help_text="What the person wrote; the system writes none.")
    context = models.JSONField(
        default=dict,
        blank=True,
        help_text="For changes the system made: the cause, why the item was set aside, how a date was counted.",
    )
    change = models.ForeignKey(
        ChecklistChange,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="entries",
        help_text="The sync that wrote it.",
    )

    class Meta:
        ordering = ["item_id", "at", "id"]
        verbose_name_plural = "item history"

    def __str__(self) -> str:
        return f"{self.action} {self.item_id} at {self.at:%Y-%m-%d %H:%M}"


def evidence_path(evidence: "Evidence", filename: str) -> str:
    # A random name on disk: the uploader's file name is kept only as data, never as a path.
    return f"evidence/{evidence.item.organization_id}/{uuid.uuid4().hex}"


class Evidence(models.Model):
    """Proof that an item was done: a note, a link or a file. Kept for audits, never edited."""

    item = models.ForeignKey(ChecklistItem, on_delete=models.CASCADE, related_name="evidence")
    note = models.TextField(blank=True, max_length=5000)
    url = models.URLField(blank=True, max_length=1000)
    file = models.FileField(upload_to=evidence_path, blank=True, max_length=200)
    filename = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    evidence_date = models.DateField(
        validators=[date_in_range], help_text="The date the evidence shows (e.g. a filing receipt's date)."
    )
    valid_until = models.DateField(
        null=True,
        blank=True,
        validators=[date_in_range],
        help_text="The last day it is valid (a licence, a certificate, an assessment): a renewal falls due then.",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item_id", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.filename or self.url or f"note {self.pk}"

    def clean(self) -> None:
        if self.valid_until and self.evidence_date and self.valid_until < self.evidence_date:
            message = _("It cannot end before the date the evidence shows (%(date)s).")
            raise ValidationError(
                {"valid_until": ValidationError(message, params={"date": self.evidence_date.isoformat()})}
            )


class CalendarFeed(models.Model):
    """A secret iCalendar URL: the organization's whole checklist, or one member's items."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="calendar_feeds")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Only this member's assigned items; empty for the whole organization.",
    )
    name = models.CharField(max_length=100, validators=[visible_text])
    language = models.CharField(
        max_length=2,
        choices=Membership.Language.choices,
        default=Membership.Language.ZH,
        help_text="The language of the events' titles and texts.",
    )
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class ReminderDigest(models.Model):
    """One email: a digest of one or more reminders for one recipient. Its Message-ID is fixed
    when it is assembled, so a retry re-sends the same message rather than a new one."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        DROPPED = "dropped"  # every item was finished before it went out
        FAILED = "failed"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="reminder_digests")
    message_id = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True, help_text="A worker is sending it until then.")
    last_error = models.TextField(blank=True)
    subject = models.CharField(max_length=300, blank=True)
    # The pass's moment (not the wall clock): one digest a day is counted from it.
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["organization", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.message_id


class Reminder(models.Model):
    """A reminder taken for sending: one item, one recipient, one due date, one point in the
    policy. The ledger that makes each reminder go out once; nothing is stored in advance
    (reminders are worked out at each pass, see services/reminders.py)."""

    class Kind(models.TextChoices):
        BEFORE = "before", "Before the due date"
        DUE = "due", "On the due date"
        OVERDUE = "overdue", "Overdue"
        ESCALATION = "escalation", "Escalation to admins"

    class Status(models.TextChoices):
        QUEUED = "queued"  # in a digest waiting to be sent
        SENT = "sent"
        DROPPED = "dropped"  # the item was finished, or the recipient left, before it went out

    # No single-column indexes: the unique key starts with item, the (organization, due date)
    # index, which a pass reads the ledger by, with organization.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="reminders", db_index=False)
    item = models.ForeignKey(ChecklistItem, on_delete=models.CASCADE, related_name="reminders", db_index=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    offset_days = models.IntegerField(help_text="Days from the due date: -30 before, 0 on the day, 7 overdue.")
    due_date = models.DateField()
    send_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    digest = models.ForeignKey(
        ReminderDigest, null=True, blank=True, on_delete=models.SET_NULL, related_name="reminders"
    )
    late = models.BooleanField(default=False, help_text="Sent after its time, e.g. after downtime.")
    sent_at = models.DateTimeField(null=True, blank=True)
    # The pass's moment (not the wall clock): one email per item and day is counted from it.
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["send_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "kind", "offset_days", "due_date", "recipient"], name="reminder_unique"
            ),
        ]
        indexes = [models.Index(fields=["organization", "due_date"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.offset_days:+d}d for item {self.item_id} to {self.recipient_id}"


class AuditEvent(models.Model):
    """Append-only record of changes to who may do what: memberships, invitations, API tokens
    and the reminder policy, with who made the change, when, and what it changed from and to.
    Written by the services in the transaction of the change; nothing updates or deletes it."""

    class Action(models.TextChoices):
        ORGANIZATION_CREATED = "organization_created", _("organization created")
        ORGANIZATION_CHANGED = "organization_changed", _("organization changed")
        MEMBER_ADDED = "member_added", _("member added")
        MEMBER_REMOVED = "member_removed", _("member removed")
        MEMBER_ROLE_CHANGED = "member_role_changed", _("member's role changed")
        INVITATION_CREATED = "invitation_created", _("invitation sent")
        INVITATION_ACCEPTED = "invitation_accepted", _("invitation accepted")
        INVITATION_REVOKED = "invitation_revoked", _("invitation revoked")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")
        REMINDER_POLICY_CHANGED = "reminder_policy_changed", _("reminder policy changed")
        ENDPOINT_ADDED = "endpoint_added", _("webhook or chat robot added")
        ENDPOINT_CHANGED = "endpoint_changed", _("webhook or chat robot changed")
        ENDPOINT_REMOVED = "endpoint_removed", _("webhook or chat robot removed")

    # Null for personal API tokens, which belong to a user rather than an organization.
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=30, choices=Action.choices)
    subject = models.CharField(max_length=254, blank=True, help_text="Whom or what it concerns: a user, an address.")
    changes = models.JSONField(default=dict, blank=True, help_text='{"field": {"from": old, "to": new}}')

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organization", "-at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.subject} at {self.at:%Y-%m-%d %H:%M}"

    def readable_changes(self) -> list[tuple[object, object]]:
        """(from, to) per changed field, in words rather than keys (roles, events, languages)."""

        def readable(field: str, value):
            if field == "role" and value in Membership.Role.values:
                return Membership.Role(value).label
            if field == "language" and value in Membership.Language.values:
                return Membership.Language(value).label
            if field == "events" and isinstance(value, list):
                return _("; ").join(str(Endpoint.Event(e).label) for e in value if e in Endpoint.Event.values)
            if field == "enabled" and isinstance(value, bool):
                return _("on") if value else _("off")
            if field == "secret" and value:
                return _("a new signing secret")
            return value

        return [(readable(f, c["from"]), readable(f, c["to"])) for f, c in self.changes.items()]


class ChangeNotice(models.Model):
    """A checklist change told to one person in one reminder digest: the ledger that tells each
    change once per person (a digest that is dropped gives its changes back to the next)."""

    change = models.ForeignKey(ChecklistChange, on_delete=models.CASCADE, related_name="notices")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    digest = models.ForeignKey(ReminderDigest, on_delete=models.CASCADE, related_name="notices")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["change", "recipient"], name="change_told_once")]

    def __str__(self) -> str:
        return f"change {self.change_id} told to {self.recipient_id}"


def download_path(download: "Download", filename: str) -> str:
    return f"downloads/{download.organization_id}/{uuid.uuid4().hex}"


class Download(models.Model):
    """A file prepared in the background for the person who asked (a PDF takes seconds to
    minutes to lay out: a 2,000-item audit pack about 40 s, longer than a web request may
    take). Kept for DOWNLOAD_DAYS, then deleted with its file."""

    class Kind(models.TextChoices):
        AUDIT_PACK = "audit_pack", _("Audit pack")
        CHECKLIST = "checklist", _("Checklist")

    class Status(models.TextChoices):
        PENDING = "pending", _("being prepared")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="downloads")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    params = models.JSONField(default=dict, help_text='{"lang": "zh", "as_of": "2026-12-06", "query": "status=open"}')
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(upload_to=download_path, blank=True, max_length=200)
    filename = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "requested_by", "-created_at"], name="download_by_person")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.organization_id} ({self.status})"


class Endpoint(models.Model):
    """Where an organization's events go, besides email: a signed webhook of its own systems or
    a chat group robot (WeCom, DingTalk, Feishu) that receives them as one message per batch.
    Set up by admins; turned off by itself after failing for OUTBOUND_DISABLE_AFTER."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", _("Webhook")
        WECOM = "wecom", _("WeCom group robot")
        DINGTALK = "dingtalk", _("DingTalk custom robot")
        FEISHU = "feishu", _("Feishu custom bot")

    class Event(models.TextChoices):
        ITEM_DUE_SOON = "item.due_soon", _("a duty falls due soon")
        ITEM_OVERDUE = "item.overdue", _("a duty is overdue")
        ITEM_CHANGED = "item.changed", _("a duty's status, assignee or justification changed")
        CHECKLIST_CHANGED = "checklist.changed", _("the checklist changed")
        CATALOGUE_CHANGED = "catalogue.changed", _("the catalogue of rules changed")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="endpoints")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.WEBHOOK)
    name = models.CharField(max_length=100, blank=True, validators=[visible_text])
    url = models.URLField(max_length=500, validators=[outbound_url])
    # A webhook's signing secret (whsec_..., made here and shown once); a DingTalk robot's or a
    # Feishu bot's signing secret (SEC..., given by the admin; empty if the robot has none).
    secret = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, validators=[endpoint_events])
    language = models.CharField(max_length=2, choices=Membership.Language.choices, default=Membership.Language.ZH)
    enabled = models.BooleanField(default=True)
    failing_since = models.DateTimeField(null=True, blank=True, help_text="First failure since the last success.")
    disabled_at = models.DateTimeField(null=True, blank=True, help_text="Turned off after failing too long.")
    lease_until = models.DateTimeField(null=True, blank=True, help_text="A worker is delivering to it until then.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} endpoint {self.name or self.pk} of {self.organization_id}"

    def display_name(self) -> str:
        """Its name, or the kind and host of its address when it has none."""
        return self.name or f"{self.get_kind_display()} · {urlsplit(self.url).hostname or ''}"

    def event_labels(self) -> list[str]:
        return [str(self.Event(e).label) for e in self.events if e in self.Event.values]


class OutboundEvent(models.Model):
    """Something an organization's endpoints are told of, written in the transaction of what
    happened (an outbox), so that nothing committed goes untold and nothing rolled back is told.
    ``key`` makes an event of the same fact (an item's 7-days-before point for one due date)
    one row, however many passes see it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="outbound_events")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=30, choices=Endpoint.Event.choices)
    key = models.CharField(max_length=200)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="outbound_event_once")]

    def __str__(self) -> str:
        return f"{self.type} {self.uid}"


class Delivery(models.Model):
    """One event to one endpoint: the ledger of outbound deliveries. Delivered at least once;
    a retry carries the same event id, so a receiver can drop what it has seen."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OutboundEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"event {self.event_id} to endpoint {self.endpoint_id} ({self.status})"
