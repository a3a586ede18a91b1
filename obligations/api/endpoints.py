"""Webhooks and chat robots of an organization, and the log of what was delivered to them.
Admins only: an endpoint sends the organization's checklist out of the service."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import StrictFieldsMixin

from ..access import ADMINS
from ..models import Delivery, Endpoint
from ..services import outbound
from .base import OrganizationViewSet, scoped


class EndpointSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Endpoint.Event.choices),
        required=False,
        allow_empty=False,
        help_text="The events it receives; by default all of them.",
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="A DingTalk robot's or Feishu bot's signing secret (加签), if it has one. A webhook's secret "
        "is made by the service and shown once.",
    )
    has_secret = serializers.SerializerMethodField()

    class Meta:
        model = Endpoint
        fields = [
            "id", "kind", "name", "url", "events", "language", "enabled", "secret", "has_secret",
            "failing_since", "disabled_at", "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "failing_since", "disabled_at", "created_at"]
        extra_kwargs = {
            "kind": {"help_text": "webhook (signed JSON), wecom, dingtalk or feishu (a chat group's robot)."},
            "language": {"help_text": "The language of a robot's messages and of a webhook's texts' first choice."},
            "enabled": {"help_text": "Turn on again after the service turned it off for failing; clears the failures."},
        }

    def get_has_secret(self, endpoint: Endpoint) -> bool:
        return bool(endpoint.secret)


class EndpointCreatedSerializer(EndpointSerializer):
    signing_secret = serializers.SerializerMethodField(
        help_text="A webhook's secret for checking signatures (whsec_...), shown only now; null for a robot."
    )

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "signing_secret"]

    def get_signing_secret(self, endpoint: Endpoint) -> str | None:
        return endpoint.secret if endpoint.kind == Endpoint.Kind.WEBHOOK else None


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.SerializerMethodField(help_text="The webhook-id header: the same on every retry.")
    type = serializers.ChoiceField(source="event.type", choices=Endpoint.Event.choices, read_only=True)
    payload = serializers.JSONField(source="event.payload", read_only=True)
    created_at = serializers.DateTimeField(source="event.created_at", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id", "event_id", "type", "status", "attempts", "next_attempt_at", "last_attempt_at",
            "response_status", "last_error", "delivered_at", "created_at", "payload",
        ]  # fmt: skip
        read_only_fields = fields

    def get_event_id(self, delivery: Delivery) -> str:
        return f"msg_{delivery.event.uid.hex}"


class EndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrganizationViewSet,
):
    """Where the organization's events go besides email: webhooks (signed, Standard Webhooks)
    and chat group robots (WeCom, DingTalk, Feishu). Admins only."""

    serializer_class = EndpointSerializer
    read_roles = ADMINS
    write_roles = ADMINS
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]  # PATCH changes, no PUT

    def get_queryset(self):
        return scoped(self, Endpoint.objects.all())

    @extend_schema(responses={201: EndpointCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = outbound.endpoint_create(self.organization, actor=request.user, **serializer.validated_data)
        return Response(EndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        outbound.endpoint_delete(instance, actor=self.request.user)

    def perform_update(self, serializer):
        serializer.instance = outbound.endpoint_update(
            serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    @extend_schema(
        request=None, responses=EndpointCreatedSerializer, operation_id="organizations_endpoints_rotate_secret"
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, organization_id, pk):
        """A new signing secret for a webhook (shown once); the old one stops at once."""
        endpoint = outbound.endpoint_rotate_secret(self.get_object(), actor=request.user)
        return Response(EndpointCreatedSerializer(endpoint).data)

    @extend_schema(responses=DeliverySerializer(many=True), filters=False)
    @action(detail=True)
    def deliveries(self, request, organization_id, pk):
        """What was sent to the endpoint, newest first: each event's attempts, answer and error."""
        endpoint = self.get_object()
        page = self.paginate_queryset(endpoint.deliveries.select_related("event").order_by("-id"))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)
