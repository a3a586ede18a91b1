from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import api_view, throttle_classes
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from config.api import language
from config.converters import ID_PATTERN
from config.throttles import InvitationThrottle
from regulations import selectors as catalog

from .. import auditpack, selectors, services
from ..access import ADMINS, EVERYONE
from ..exports import XLSX
from ..filters import ReminderFilter
from ..models import (
    ApiToken,
    AuditEvent,
    CalendarFeed,
    Invitation,
    Membership,
    Organization,
    OrganizationEvent,
    ProfileVersion,
    Reminder,
)
from ..services import calendar, checklist, reminders
from . import applicability, serializers
from .base import OrganizationAPIView, OrganizationViewSet, scoped
from .checklist import PDF_IN_BACKGROUND


class ShownOnceCreateMixin(mixins.CreateModelMixin):
    """Creation that hands out a secret once (an API token, an invitation code, a calendar
    address): ``issue`` creates the object from the validated input with the secret attached,
    and ``created_serializer_class`` shows it; afterwards only a digest is kept."""

    created_serializer_class: type[drf_serializers.Serializer]

    def issue(self, data):
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = self.issue(serializer.validated_data)
        return Response(self.created_serializer_class(created).data, status=status.HTTP_201_CREATED)


class OrganizationsViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """The organizations you belong to; creating one makes you its admin."""

    serializer_class = serializers.OrganizationSerializer

    def get_queryset(self):
        return Organization.objects.filter(memberships__user=self.request.user.pk).annotate(
            my_role=F("memberships__role")
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.organization_create(
            user=self.request.user,
            name=data["name"],
            slug=data["slug"],
            timezone_name=data.get("timezone", "Asia/Shanghai"),
        )
        serializer.instance.my_role = Membership.Role.ADMIN


class OrganizationDetailView(OrganizationAPIView):
    """One organization; admins may rename it or change its time zone."""

    write_roles = ADMINS

    def _data(self):
        self.organization.my_role = self.membership.role
        return serializers.OrganizationSerializer(self.organization).data

    @extend_schema(responses=serializers.OrganizationSerializer)
    def get(self, request, organization_id):
        return Response(self._data())

    @extend_schema(request=serializers.OrganizationSerializer, responses=serializers.OrganizationSerializer)
    def patch(self, request, organization_id):
        serializer = serializers.OrganizationSerializer(self.organization, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.organization_update(self.organization, actor=request.user, **serializer.validated_data)
        return Response(self._data())


class MemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrganizationViewSet,
):
    """Members and their roles; admins change roles and remove members."""

    serializer_class = serializers.MembershipSerializer
    write_roles = ADMINS
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return scoped(self, Membership.objects.select_related("user").order_by("created_at", "id"))

    def perform_update(self, serializer):
        if "role" not in serializer.validated_data:
            raise ValidationError({"role": ["This field is required."]})
        services.membership_change_role(serializer.instance, serializer.validated_data["role"], actor=self.request.user)

    def perform_destroy(self, instance):
        services.membership_remove(instance, actor=self.request.user)


@extend_schema_view(create=extend_schema(responses={201: serializers.InvitationCreatedSerializer}))
class InvitationViewSet(
    mixins.ListModelMixin,
    ShownOnceCreateMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    OrganizationViewSet,
):
    """Admins invite people by email; the token is shown once and mailed. Deleting revokes."""

    serializer_class = serializers.InvitationSerializer
    write_roles = read_roles = ADMINS

    def get_queryset(self):
        return scoped(self, Invitation.objects.select_related("invited_by"))

    created_serializer_class = serializers.InvitationCreatedSerializer

    def issue(self, data):
        invitation, invitation.token = services.invitation_create(
            organization=self.organization, invited_by=self.request.user, **data
        )
        return invitation

    def perform_destroy(self, instance):
        services.invitation_revoke(instance, actor=self.request.user)


@extend_schema(
    request=serializers.InvitationAcceptSerializer,
    responses={201: serializers.MembershipSerializer},
    operation_id="invitations_accept",
)
@api_view(["POST"])
@throttle_classes([InvitationThrottle])
def invitation_accept(request):
    payload = serializers.InvitationAcceptSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    membership = services.invitation_accept(secret=payload.validated_data["token"], user=request.user)
    data = serializers.MembershipSerializer(membership).data
    return Response({**data, "organization": membership.organization_id}, status=status.HTTP_201_CREATED)


@extend_schema_view(create=extend_schema(responses={201: serializers.ApiTokenCreatedSerializer}))
class ApiTokenViewSet(
    mixins.ListModelMixin,
    ShownOnceCreateMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your personal API tokens. The secret is shown once, at creation; deleting revokes."""

    serializer_class = serializers.ApiTokenSerializer
    throttle_scope = "tokens"
    lookup_value_regex = ID_PATTERN

    def get_throttles(self):
        # Only creating tokens is limited; listing and revoking are not.
        return super().get_throttles() if self.action == "create" else []

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user.pk)

    created_serializer_class = serializers.ApiTokenCreatedSerializer

    def issue(self, data):
        token, token.token = services.token_create(user=self.request.user, name=data["name"])
        return token

    def perform_destroy(self, instance):
        services.token_revoke(instance, actor=self.request.user)


class ProfileView(OrganizationAPIView):
    """The organization's answers to the fact vocabulary. PATCH merges (null makes a fact
    unknown), PUT replaces; each change that changes something is a new version."""

    def _data(self, version, status_code=200):
        context = {"book": catalog.rulebook()}
        return Response(serializers.ProfileSerializer(version, context=context).data, status=status_code)

    @extend_schema(responses=serializers.ProfileSerializer)
    def get(self, request, organization_id):
        return self._data(selectors.profile_current(self.organization))

    def _update(self, request, replace: bool):
        payload = serializers.ProfileUpdateSerializer(data=request.data, context={"book": catalog.rulebook()})
        payload.is_valid(raise_exception=True)
        version = services.profile_update(
            organization=self.organization,
            answers=payload.validated_data["answers"],
            unset=payload.unset,
            replace=replace,
            changed_by=request.user,
        )
        return self._data(version)

    @extend_schema(request=serializers.ProfileUpdateSerializer, responses=serializers.ProfileSerializer)
    def patch(self, request, organization_id):
        return self._update(request, replace=False)

    @extend_schema(request=serializers.ProfileUpdateSerializer, responses=serializers.ProfileSerializer)
    def put(self, request, organization_id):
        return self._update(request, replace=True)


class ProfileVersionViewSet(mixins.ListModelMixin, OrganizationViewSet):
    """Every version of the profile, newest first: who changed which answers, when."""

    serializer_class = serializers.ProfileSerializer

    def get_queryset(self):
        return scoped(self, ProfileVersion.objects.select_related("changed_by").order_by("-number"))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "book": catalog.rulebook()}


class EventViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    OrganizationViewSet,
):
    """Dated events the organization reports; they start the deadlines that run from them."""

    serializer_class = serializers.OrganizationEventSerializer
    filterset_fields = ["type"]

    def get_queryset(self):
        return scoped(self, OrganizationEvent.objects.select_related("reported_by"))

    def perform_create(self, serializer):
        serializer.instance = services.event_report(
            organization=self.organization, reported_by=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.event_delete(instance)


def _organization_result(view, request):
    options = applicability.ApplicabilityOptionsSerializer(data=request.query_params)
    options.is_valid(raise_exception=True)
    profile = selectors.profile_current(view.organization)
    return profile, selectors.organization_event_dates(view.organization), options.validated_data


class OrganizationApplicabilityView(OrganizationAPIView):
    """The stored profile and events, evaluated against the whole catalogue."""

    @extend_schema(
        parameters=[applicability.ApplicabilityOptionsSerializer],
        responses=applicability.ApplicabilityResponseSerializer,
    )
    def get(self, request, organization_id):
        profile, events, options = _organization_result(self, request)
        data = applicability.run(request, answers=profile.answers, events=events, options=options)
        return Response({**data, "profile_version": profile.number})


class AuditPackQuerySerializer(drf_serializers.Serializer):
    as_of = drf_serializers.DateField(
        required=False, help_text="The day the pack describes (the organization's time zone); by default today."
    )
    lang = drf_serializers.ChoiceField(
        Membership.Language.choices,
        required=False,
        help_text="The file's language; by default the request's (Accept-Language).",
    )
    file = drf_serializers.ChoiceField(
        ["xlsx", "pdf"],
        default="xlsx",
        help_text="An Excel workbook; a PDF is made in the background (POST downloads/ with kind audit_pack).",
    )

    def validate_file(self, value):
        if value == "pdf":
            raise drf_serializers.ValidationError(PDF_IN_BACKGROUND % {"kind": "audit_pack"})
        return value


class AuditPackView(OrganizationAPIView):
    """For auditors, one file: the statement of applicability on a date (every obligation of
    the instruments that concern the organization, applies, does not apply or needs review, and
    why), the checklist as it stood at the end of that day with each item's history, and the
    evidence with its SHA-256; with the catalogue version and a hash of the content."""

    throttle_scope = "audit_packs"

    @extend_schema(
        parameters=[AuditPackQuerySerializer],
        responses={(200, XLSX): OpenApiTypes.BINARY},
    )
    def get(self, request, organization_id):
        query = AuditPackQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        return auditpack.download(
            self.organization,
            as_of=data.get("as_of") or checklist.organization_today(self.organization),
            lang=data.get("lang") or language(request),
        )


class QuestionsView(OrganizationAPIView):
    """Unanswered facts and unreported event dates that would change the result, most
    decisive first: how many needs-review obligations each would settle."""

    @extend_schema(parameters=[applicability.ApplicabilityOptionsSerializer], responses=serializers.QuestionsSerializer)
    def get(self, request, organization_id):
        options = applicability.ApplicabilityOptionsSerializer(data=request.query_params)
        options.is_valid(raise_exception=True)
        as_of = options.validated_data.get("as_of") or timezone.localdate()
        found = selectors.questionnaire(self.organization, lang=language(request), as_of=as_of)
        questions = [
            {
                "kind": q.kind,
                "key": q.key,
                "question": q.question,
                "type": q.type,
                "values": q.values,
                "decides": q.decides,
                "obligations": q.obligations,
            }
            for q in found.decisive
        ]
        return Response({"profile_version": found.profile.number, "questions": questions})


@extend_schema(responses={200: serializers.UserSerializer})
@api_view(["GET"])
def me(request):
    """Who you are and the organizations you belong to."""
    memberships = Membership.objects.filter(user=request.user).select_related("organization")
    return Response(
        {
            **serializers.UserSerializer(request.user).data,
            "organizations": [
                {"id": m.organization_id, "name": m.organization.name, "role": m.role} for m in memberships
            ],
        }
    )


@extend_schema_view(create=extend_schema(responses={201: serializers.CalendarFeedCreatedSerializer}))
class CalendarFeedViewSet(
    mixins.ListModelMixin,
    ShownOnceCreateMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    OrganizationViewSet,
):
    """Secret iCalendar feed URLs: the whole checklist, or your assigned items. Any member may
    create feeds (viewers too: a feed only reads). Deleting revokes; you see your own feeds,
    admins see all."""

    serializer_class = serializers.CalendarFeedSerializer
    write_roles = EVERYONE

    def get_queryset(self):
        feeds = scoped(self, CalendarFeed.objects.select_related("member"))
        if getattr(self, "membership", None) and self.membership.role != Membership.Role.ADMIN:
            feeds = feeds.filter(created_by=self.request.user)
        return feeds

    created_serializer_class = serializers.CalendarFeedCreatedSerializer

    def issue(self, data):
        feed, secret = calendar.feed_create(
            organization=self.organization,
            created_by=self.request.user,
            name=data["name"],
            member=self.request.user if data["mine_only"] else None,
            language=data.get("language"),
        )
        feed.url = self.request.build_absolute_uri(reverse("calendar-feed", args=[secret]))
        return feed

    def perform_destroy(self, instance):
        calendar.feed_revoke(instance)


class ReminderViewSet(mixins.ListModelMixin, OrganizationViewSet):
    """The ledger of reminders taken for sending: queued, sent or dropped. Admins see everyone's,
    others their own. (Nothing is planned ahead: each pass works out what is due.)"""

    serializer_class = serializers.ReminderSerializer
    filterset_class = ReminderFilter

    def get_queryset(self):
        queryset = scoped(
            self,
            Reminder.objects.select_related("recipient", "digest", "item__obligation__instrument").order_by(
                "send_at", "id"
            ),
        )
        if getattr(self, "membership", None) and self.membership.role != Membership.Role.ADMIN:
            queryset = queryset.filter(recipient=self.request.user)
        return queryset


class AuditEventViewSet(mixins.ListModelMixin, OrganizationViewSet):
    """Who changed access, and when: members added, removed or re-roled, invitations sent,
    accepted and revoked, the reminder policy changed. Admins only; newest first."""

    serializer_class = serializers.AuditEventSerializer
    read_roles = write_roles = ADMINS

    def get_queryset(self):
        return scoped(self, AuditEvent.objects.select_related("actor"))


class ReminderPreferencesView(OrganizationAPIView):
    """Your reminder preferences in this organization (any member, viewers too)."""

    write_roles = EVERYONE

    @extend_schema(responses=serializers.ReminderPreferencesSerializer)
    def get(self, request, organization_id):
        return Response(serializers.ReminderPreferencesSerializer(self.membership).data)

    @extend_schema(
        request=serializers.ReminderPreferencesSerializer, responses=serializers.ReminderPreferencesSerializer
    )
    def patch(self, request, organization_id):
        payload = serializers.ReminderPreferencesSerializer(self.membership, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        membership = services.reminder_preferences_update(self.membership, **payload.validated_data)
        return Response(serializers.ReminderPreferencesSerializer(membership).data)


class ReminderPolicyView(OrganizationAPIView):
    """When the organization's people are reminded; admins change it."""

    write_roles = ADMINS

    @extend_schema(responses=serializers.ReminderPolicySerializer)
    def get(self, request, organization_id):
        return Response(serializers.ReminderPolicySerializer(reminders.policy_for(self.organization)).data)

    @extend_schema(request=serializers.ReminderPolicySerializer, responses=serializers.ReminderPolicySerializer)
    def patch(self, request, organization_id):
        payload = serializers.ReminderPolicySerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        policy = services.reminder_policy_update(self.organization, actor=request.user, **payload.validated_data)
        return Response(serializers.ReminderPolicySerializer(policy).data)
