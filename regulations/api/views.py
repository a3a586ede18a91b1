"""Read-only catalogue API: public law, so no account is needed."""

import json

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from config.api import language

from .. import selectors
from ..catalog.validation import SCHEMA_PATH
from ..changelog import changelogs
from ..models import CatalogVersion, EventType, Fact, Jurisdiction, Phase, Role
from . import filters, serializers


class CatalogViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # No catalogue key holds a NUL character, and PostgreSQL refuses to compare text that
        # does (a DataError, which would be answered as a database outage).
        if any("\x00" in str(value) for value in kwargs.values()):
            raise NotFound()


class InstrumentViewSet(CatalogViewSet):
    lookup_field = "code"
    filterset_class = filters.InstrumentFilter

    def get_queryset(self):
        if self.action == "list":
            return selectors.instrument_list().select_related("jurisdiction")
        return selectors.instrument_detail()

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.InstrumentListSerializer
        return serializers.InstrumentDetailSerializer

    @extend_schema(responses=serializers.ProvisionSerializer(many=True))
    @action(detail=True, filterset_class=None, pagination_class=None)
    def provisions(self, request, code=None):
        instrument = get_object_or_404(selectors.instrument_list(), code=code)
        provisions = self.filter_queryset(instrument.provisions.all())
        return Response(serializers.ProvisionSerializer(provisions, many=True).data)

    @extend_schema(responses=serializers.ObligationSerializer(many=True))
    @action(detail=True, filterset_class=None, pagination_class=None)
    def obligations(self, request, code=None):
        instrument = get_object_or_404(selectors.instrument_list(), code=code)
        obligations = self.filter_queryset(selectors.obligation_list().filter(instrument=instrument))
        return Response(serializers.ObligationSerializer(obligations, many=True).data)


class ObligationViewSet(CatalogViewSet):
    serializer_class = serializers.ObligationSerializer
    filterset_class = filters.ObligationFilter

    def get_queryset(self):
        return selectors.obligation_list()

    def get_object(self):
        code, _, key = self.kwargs["pk"].partition(":")
        return get_object_or_404(self.filter_queryset(self.get_queryset()), instrument__code=code, key=key)


class RoleViewSet(CatalogViewSet):
    queryset = Role.objects.all()
    serializer_class = serializers.RoleSerializer
    lookup_field = "key"
    pagination_class = None


class JurisdictionViewSet(CatalogViewSet):
    queryset = Jurisdiction.objects.all()
    serializer_class = serializers.JurisdictionSerializer
    lookup_field = "code"
    pagination_class = None


class FactViewSet(CatalogViewSet):
    """Every fact a rule may ask about: the organization's answers (profile) and, as type
    ``event_date``, the dated events it reports (/organizations/{id}/events/)."""

    queryset = Fact.objects.all()
    serializer_class = serializers.FactSerializer
    lookup_field = "key"
    pagination_class = None

    def get_serializer_context(self):
        places = list(Jurisdiction.objects.values("code", "parent_id", "name_zh", "name_en"))
        places = [{"key": p.pop("code"), "parent": p.pop("parent_id"), **p} for p in places]
        return {**super().get_serializer_context(), "jurisdictions": places}

    def list(self, request, *args, **kwargs):
        facts = list(self.get_serializer(self.filter_queryset(self.get_queryset()), many=True).data)
        events = [
            {
                "key": event.key,
                "type": "event_date",
                "values": [],
                "unit": "",
                "question_zh": f"{event.name_zh}的日期？",
                "question_en": f"When: {event.name_en.lower()}?",
                "description_zh": "作为事件报告，起算相关期限。",
                "description_en": "Reported as a dated event; starts the deadlines that run from it.",
            }
            for event in EventType.objects.all()
        ]
        return Response(facts + events)


class EventTypeViewSet(CatalogViewSet):
    queryset = EventType.objects.all()
    serializer_class = serializers.EventTypeSerializer
    lookup_field = "key"
    pagination_class = None


class PhaseViewSet(CatalogViewSet):
    queryset = Phase.objects.filter(instrument__isnull=True)
    serializer_class = serializers.PhaseSerializer
    lookup_field = "key"
    pagination_class = None


@extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="JSON Schema of a catalogue instrument file")
@api_view(["GET"])
@permission_classes([AllowAny])
def catalog_schema(request):
    return JsonResponse(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


@extend_schema(responses={200: serializers.CatalogVersionSerializer}, summary="The catalogue version loaded now")
@api_view(["GET"])
@permission_classes([AllowAny])
def catalog_version(request):
    version = selectors.catalog_version_latest()
    if version is None:
        return Response({"detail": "No catalogue has been loaded."}, status=404)
    return Response(serializers.CatalogVersionSerializer(version).data)


class CatalogVersionHistoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The catalogue's changelog, newest version first: the instruments and obligations each
    load added, amended (with what changed: the quoted text, the deadline, the conditions...)
    and retired, named in the request's language."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    serializer_class = serializers.CatalogChangelogSerializer

    def get_queryset(self):
        return CatalogVersion.objects.order_by("-loaded_at", "-id")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # the project paginates every list
        logs = changelogs(list(page), language(request))
        rows = [
            {
                "content_hash": version.content_hash,
                "loaded_at": version.loaded_at,
                "size": {
                    "instruments": version.instruments,
                    "provisions": version.provisions,
                    "obligations": version.obligations,
                },
                **log,
            }
            for version, log in zip(page, logs, strict=True)
        ]
        return self.get_paginated_response(serializers.CatalogChangelogSerializer(rows, many=True).data)
