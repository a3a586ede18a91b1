from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import StrictFieldsMixin
from regulations.api.deadlines import within_bounds
from regulations.applicability import validate_answers
from regulations.models import EventType

from ..models import (
    INVITATION_STATUSES,
    ApiToken,
    AuditEvent,
    CalendarFeed,
    Invitation,
    Membership,
    Organization,
    OrganizationEvent,
    ProfileVersion,
    Reminder,
    ReminderPolicy,
)


class UserSerializer(serializers.ModelSerializer):
    # null, not "", for a user without an address: "" is no email address, and the schema says
    # what the field holds.
    email = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email"]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "email", "nullable": True})
    def get_email(self, user) -> str | None:
        return user.email or None


class OrganizationSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="Your role in this organization.")

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "timezone", "created_at", "role"]
        read_only_fields = ["id", "created_at", "role"]

    def get_role(self, organization) -> str:
        return getattr(organization, "my_role", "")


class MembershipSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    user = UserSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "created_at"]
        read_only_fields = ["id", "user", "created_at"]


class InvitationSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    invited_by = serializers.CharField(source="invited_by.username", read_only=True, default=None, allow_null=True)
    # The model's default, here too: without it a request that leaves the role out reached the
    # service without one (a 500).
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.OFFICER)
    status = serializers.ChoiceField(choices=INVITATION_STATUSES, read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "invited_by", "created_at", "expires_at", "accepted_at", "status"]
        read_only_fields = ["id", "invited_by", "created_at", "expires_at", "accepted_at", "status"]


class InvitationCreatedSerializer(InvitationSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once; also sent to the email address.")

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "token"]


class InvitationAcceptSerializer(StrictFieldsMixin, serializers.Serializer):
    token = serializers.CharField(max_length=200)


class ApiTokenSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text="Shown once: store it now. Send as 'Authorization: Bearer'."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


class ProfileSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="number", read_only=True)
    # null for version 0: nothing answered yet, so nothing was ever saved.
    created_at = serializers.DateTimeField(read_only=True, allow_null=True)
    changed_by = serializers.CharField(source="changed_by.username", read_only=True, default=None, allow_null=True)
    unanswered = serializers.SerializerMethodField(help_text="Facts with no answer yet: unknown, not false.")

    class Meta:
        model = ProfileVersion
        fields = ["version", "answers", "changes", "changed_by", "created_at", "unanswered"]
        read_only_fields = fields

    def get_unanswered(self, version) -> list[str]:
        return [key for key in self.context["book"].facts if key not in version.answers]


class ProfileUpdateSerializer(StrictFieldsMixin, serializers.Serializer):
    answers = serializers.DictField(help_text="Answers keyed by fact (see /api/v1/facts/); null makes a fact unknown.")

    def validate_answers(self, value):
        clean, errors = validate_answers(self.context["book"], value)
        if errors:
            raise serializers.ValidationError(errors)
        self.unset = [key for key, answer in value.items() if answer is None]
        return clean


class EventTypeField(serializers.SlugRelatedField):
    """An event type by key. A NUL character is refused before the lookup: PostgreSQL cannot
    compare text holding one (a DataError, which would be answered as a database outage)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            raise serializers.ValidationError("Null characters are not allowed.")
        return super().to_internal_value(data)


class OrganizationEventSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    type = EventTypeField(slug_field="key", queryset=EventType.objects.all())
    reported_by = serializers.CharField(source="reported_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = OrganizationEvent
        fields = ["id", "type", "date", "subject", "note", "reported_by", "created_at"]
        read_only_fields = ["id", "reported_by", "created_at"]

    def validate_date(self, value):
        return within_bounds(value)


class QuestionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["fact", "event"])
    key = serializers.CharField()
    question = serializers.CharField()
    type = serializers.CharField(help_text="The fact's type, or event_date for an event to report.")
    values = serializers.ListField(child=serializers.DictField(), help_text="Allowed values, for set and enum facts.")
    decides = serializers.IntegerField(help_text="How many needs-review obligations the answer would settle.")
    obligations = serializers.ListField(child=serializers.CharField())


class QuestionsSerializer(serializers.Serializer):
    profile_version = serializers.IntegerField()
    questions = QuestionSerializer(many=True)


class CalendarFeedSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    mine_only = serializers.BooleanField(
        write_only=True, default=False, help_text="Only the items assigned to you, instead of the whole checklist."
    )
    member = serializers.CharField(source="member.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = CalendarFeed
        fields = ["id", "name", "language", "mine_only", "member", "prefix", "created_at", "revoked_at"]
        read_only_fields = ["id", "member", "prefix", "created_at", "revoked_at"]
        extra_kwargs = {"language": {"required": False, "help_text": "zh or en; by default your reminder language."}}


class CalendarFeedCreatedSerializer(CalendarFeedSerializer):
    url = serializers.CharField(read_only=True, help_text="The secret feed URL; shown once.")

    class Meta(CalendarFeedSerializer.Meta):
        fields = [*CalendarFeedSerializer.Meta.fields, "url"]


class ReminderPreferencesSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    reminder_hour = serializers.IntegerField(min_value=0, max_value=23)

    class Meta:
        model = Membership
        fields = list(Membership.REMINDER_PREFERENCES)
        extra_kwargs = {
            "reminder_channel": {"help_text": "email, or a chat robot: wecom, dingtalk or feishu."},
            "reminder_chat_url": {"help_text": "The robot's webhook address (with reminder_channel a robot)."},
            "reminder_chat_secret": {"write_only": True},
        }


class ReminderPolicySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    days_before = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=365), max_length=10, help_text="0 is the due date itself."
    )
    overdue_every_days = serializers.IntegerField(
        min_value=0, max_value=365, help_text="Overdue reminders this often at first; 0: no overdue reminders."
    )
    overdue_slow_after_days = serializers.IntegerField(
        min_value=0, max_value=3650, help_text="Days overdue after which they come less often."
    )
    overdue_slow_every_days = serializers.IntegerField(
        min_value=1, max_value=365, help_text="How often they come after that."
    )
    escalate_after_days = serializers.IntegerField(min_value=1, max_value=365)

    class Meta:
        model = ReminderPolicy
        fields = [
            "days_before",
            "overdue_every_days",
            "overdue_slow_after_days",
            "overdue_slow_every_days",
            "escalate_after_days",
        ]

    def validate_days_before(self, value):
        return sorted(set(value), reverse=True)


class ReminderSerializer(serializers.ModelSerializer):
    recipient = serializers.CharField(source="recipient.username")
    obligation = serializers.SerializerMethodField()
    digest = serializers.CharField(source="digest.message_id", default=None, allow_null=True)

    class Meta:
        model = Reminder
        fields = [
            "id",
            "item",
            "obligation",
            "recipient",
            "kind",
            "offset_days",
            "due_date",
            "send_at",
            "status",
            "late",
            "sent_at",
            "digest",
        ]
        read_only_fields = fields

    def get_obligation(self, reminder) -> str:
        obligation = reminder.item.obligation
        return f"{obligation.instrument.code}:{obligation.key}"


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True, default=None, allow_null=True)
    action_label = serializers.CharField(source="get_action_display", read_only=True)

    class Meta:
        model = AuditEvent
        fields = ["id", "at", "actor", "action", "action_label", "subject", "changes"]
        read_only_fields = fields
