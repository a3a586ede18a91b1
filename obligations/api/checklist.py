"""The checklist API: items, their history, comments and evidence, the CSV export and the
re-sync. Item updates are conditional: send the item's ETag as If-Match."""

import zoneinfo
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from config.api import (
    PagedByKeys,
    PreconditionFailed,
    PreconditionRequired,
    StrictFieldsMixin,
    StrictFilterBackend,
    language,
)
from regulations.selectors import labels as catalog_labels
from regulations.selectors import obligation_roles

from .. import selectors
from ..access import EVERYONE
from ..exports import CSV, PDF, XLSX, checklist_csv, checklist_xlsx
from ..filters import ChecklistFilter
from ..models import ChecklistChange, ChecklistItem, Download, Evidence, ItemHistory, Membership
from ..selectors import member_names
from ..services import checklist
from ..services.downloads import download_request
from ..services.evidence import SIGNATURES, evidence_add, evidence_share
from ..wording import cause_text, change_entries, change_summary, due_lines, history_text, keep_lines, superseded_text
from .applicability import PenaltySerializer, penalty_data
from .base import OrganizationViewSet, scoped

# --- Serializers ---------------------------------------------------------------------------


class PersonSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username"]
        read_only_fields = fields


class ReasonTextSerializer(serializers.Serializer):
    test = serializers.CharField(help_text="status, jurisdiction, roles or conditions")
    result = serializers.BooleanField(allow_null=True, help_text="null: not known yet")
    text = serializers.CharField(help_text="The reason in the request's language.")
    facts = serializers.DictField(help_text="The answers the test read.")


class ChecklistItemSerializer(serializers.ModelSerializer):
    obligation = serializers.SerializerMethodField(help_text="instrument-code:obligation-key")
    instrument = serializers.CharField(source="obligation.instrument.code")
    title = serializers.SerializerMethodField(
        help_text="The item's name in the reader's language: short title, provision, summary."
    )
    instrument_title = serializers.SerializerMethodField()
    provision = serializers.CharField(source="obligation.provision.label")
    kind = serializers.CharField(source="obligation.kind")
    modality = serializers.CharField(source="obligation.modality")
    phase = serializers.CharField(source="obligation.phase.key")
    roles = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    assignee = PersonSerializer(read_only=True, allow_null=True)
    completed_by = PersonSerializer(read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField()
    due_estimated = serializers.SerializerMethodField()
    superseded_reason = serializers.SerializerMethodField(
        help_text="Why the item was set aside, in the reader's language; empty while it applies."
    )

    class Meta:
        model = ChecklistItem
        fields = [
            "id",
            "title",
            "obligation",
            "instrument",
            "instrument_title",
            "provision",
            "kind",
            "modality",
            "phase",
            "roles",
            "summary",
            "occurrence",
            "event",
            "applicability",
            "track",
            "waiting_for",
            "status",
            "assignee",
            "due_date",
            "opens",
            "due_estimated",
            "overdue",
            "completed_by",
            "completed_at",
            "superseded_at",
            "superseded_reason",
            "version",
            "updated_at",
        ]
        read_only_fields = fields

    def _lang(self) -> str:
        return self.context.get("lang", "en")

    def _labels(self):
        """The vocabulary's names, looked up once per response (see get_serializer_context)."""
        return self.context.get("labels")

    def get_obligation(self, item) -> str:
        return f"{item.obligation.instrument.code}:{item.obligation.key}"

    def get_instrument_title(self, item) -> str:
        instrument = item.obligation.instrument
        return instrument.title_zh if self._lang() == "zh" else instrument.title_en

    def get_roles(self, item) -> list[str]:
        return self.context["roles"].get(item.obligation_id, [])

    def get_title(self, item) -> str:
        return item.obligation.title_in(self._lang())

    def get_interpretation(self, item) -> str:
        return item.obligation.interpretation_in(self._lang())

    @extend_schema_field(ReasonTextSerializer(many=True))
    def get_reasons(self, item) -> list[dict]:
        return checklist.reasons_in(item, self._lang(), self._labels())

    def get_summary(self, item) -> str:
        return item.obligation.summary_in(self._lang())

    def get_overdue(self, item) -> bool:
        return item.is_overdue(self.context["today"])

    def get_due_estimated(self, item) -> bool:
        return bool(item.due_basis.get("estimated"))

    def get_superseded_reason(self, item) -> str:
        return superseded_text(item.superseded_reason, item.obligation, lang=self._lang(), labels=self._labels())


class ChecklistItemListSerializer(ChecklistItemSerializer):
    """The list's rows: the fields above, written directly. DRF reads them field by field, which
    took a third of a page's time; tests hold both ways to the same output."""

    def to_representation(self, item):
        obligation, when = item.obligation, self.fields["updated_at"].to_representation  # DRF's datetime format
        return {
            "id": item.pk,
            "title": self.get_title(item),
            "obligation": self.get_obligation(item),
            "instrument": obligation.instrument.code,
            "instrument_title": self.get_instrument_title(item),
            "provision": obligation.provision.label,
            "kind": obligation.kind,
            "modality": obligation.modality,
            "phase": obligation.phase.key,
            "roles": self.get_roles(item),
            "summary": self.get_summary(item),
            "occurrence": item.occurrence,
            "event": item.event_id,
            "applicability": item.applicability,
            "track": item.track,
            "waiting_for": item.waiting_for,
            "status": item.status,
            "assignee": _person(item.assignee),
            "due_date": item.due_date.isoformat() if item.due_date else None,
            "opens": item.opens.isoformat() if item.opens else None,
            "due_estimated": self.get_due_estimated(item),
            "overdue": self.get_overdue(item),
            "completed_by": _person(item.completed_by),
            "completed_at": when(item.completed_at) if item.completed_at else None,
            "superseded_at": when(item.superseded_at) if item.superseded_at else None,
            "superseded_reason": self.get_superseded_reason(item),
            "version": item.version,
            "updated_at": when(item.updated_at),
        }


def _person(user) -> dict | None:
    return {"id": user.pk, "username": user.username} if user else None


class EvidenceSerializer(serializers.ModelSerializer):
    uploaded_by = PersonSerializer(read_only=True, allow_null=True)
    url = serializers.CharField(read_only=True, help_text="The link; empty for a note or a file.")
    download = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = [
            "id",
            "note",
            "url",
            "filename",
            "content_type",
            "size",
            "sha256",
            "evidence_date",
            "valid_until",
            "uploaded_by",
            "uploaded_at",
            "download",
        ]
        read_only_fields = fields

    def get_download(self, evidence) -> str | None:
        if not evidence.file:
            return None
        return reverse("evidence-download", args=[evidence.item.organization_id, evidence.pk])


class LinkedItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ChecklistItem.Status.choices)
    due_date = serializers.DateField(allow_null=True)


class LinkedDutySerializer(serializers.Serializer):
    obligation = serializers.CharField(help_text="instrument-code:key")
    title = serializers.CharField()
    items = LinkedItemSerializer(many=True, help_text="The organization's current items of it.")


class SameActSerializer(serializers.Serializer):
    act = serializers.CharField(help_text="The act, in the reader's language.")
    description = serializers.CharField()
    duties = LinkedDutySerializer(many=True)


class ChecklistItemDetailSerializer(ChecklistItemSerializer):
    quote_zh = serializers.CharField(source="obligation.quote_zh")
    provision_text = serializers.CharField(source="obligation.provision.text")
    interpretation = serializers.SerializerMethodField(help_text="How the text was read, in the reader's language.")
    reasons = serializers.SerializerMethodField()
    due_explanation = serializers.SerializerMethodField(
        help_text="How the due date was computed, step by step, in the reader's language."
    )
    keep_until = serializers.SerializerMethodField(
        help_text="For a retention duty: the earliest day the records may go (never a due date)."
    )
    keep_explanation = serializers.SerializerMethodField(help_text="How the keep-until date was counted.")
    penalty = serializers.SerializerMethodField(help_text="The provision that sanctions a breach, when there is one.")
    evidence = EvidenceSerializer(many=True)
    same_act = serializers.SerializerMethodField(
        help_text="When other obligations ask for the same act (the algorithm filing of two instruments): the act "
        "and those duties with this organization's items of them; null otherwise."
    )

    class Meta(ChecklistItemSerializer.Meta):
        fields = [
            *ChecklistItemSerializer.Meta.fields,
            "quote_zh",
            "provision_text",
            "interpretation",
            "reasons",
            "due_explanation",
            "due_basis",
            "keep_until",
            "keep_explanation",
            "penalty",
            "justification",
            "evidence",
            "same_act",
        ]
        read_only_fields = fields

    @extend_schema_field(SameActSerializer(allow_null=True))
    def get_same_act(self, item) -> dict | None:
        act, lang = item.obligation.act, self._lang()
        if act is None:
            return None
        return {
            "act": act.name_in(lang),
            "description": act.description_zh if lang == "zh" else act.description_en,
            "duties": [
                {
                    "obligation": f"{duty.obligation.instrument.code}:{duty.obligation.key}",
                    "title": duty.obligation.title_in(lang),
                    "items": [{"id": i.pk, "status": i.status, "due_date": i.due_date} for i in duty.items],
                }
                for duty in selectors.linked_duties(item)
            ],
        }

    def get_due_explanation(self, item) -> list[str]:
        return due_lines(item.due_basis, self._lang(), self._labels())

    def get_keep_until(self, item) -> str | None:
        return (item.due_basis or {}).get("keep_until")

    def get_keep_explanation(self, item) -> list[str]:
        return keep_lines(item.due_basis, self._lang(), self._labels())

    @extend_schema_field(PenaltySerializer(allow_null=True))
    def get_penalty(self, item) -> dict | None:
        penalty = item.obligation.penalty_provision
        return penalty_data(penalty.label, penalty.text, self._lang()) if penalty else None


class ChecklistItemUpdateSerializer(StrictFieldsMixin, serializers.Serializer):
    status = serializers.ChoiceField(choices=ChecklistItem.Status.choices, required=False)
    assignee = serializers.IntegerField(
        allow_null=True, required=False, min_value=1, max_value=2**31 - 1, help_text="A member's user id, or null."
    )
    justification = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, help_text="Kept in the history.")

    def validate_assignee(self, value):
        if value is None:
            return None
        membership = Membership.objects.filter(organization=self.context["organization"], user_id=value).first()
        if membership is None:
            raise serializers.ValidationError("Not a member of this organization.")
        return membership.user


class ItemVersionSerializer(StrictFieldsMixin, serializers.Serializer):
    id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text="The version the client read.")


class ChecklistBulkSerializer(ChecklistItemUpdateSerializer):
    items = ItemVersionSerializer(many=True, help_text=f"The items to change, at most {checklist.BULK_MAX}.")

    def validate_items(self, value):
        ids = [entry["id"] for entry in value]
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError("An item is listed twice.")
        return value

    def validate(self, attrs):
        if not {"status", "assignee", "justification"} & set(attrs):
            raise serializers.ValidationError({"status": ["Say what to change: status, assignee or justification."]})
        return attrs


class HistorySerializer(serializers.ModelSerializer):
    actor = PersonSerializer(read_only=True, allow_null=True, help_text="null for changes made by the system (sync).")
    text = serializers.SerializerMethodField(
        help_text="The entry as sentences in the reader's language: who changed what, and for the system's changes why."
    )

    class Meta:
        model = ItemHistory
        fields = ["id", "at", "actor", "action", "text", "changes", "context", "note"]
        read_only_fields = fields

    def get_text(self, entry) -> str:
        return history_text(entry, self.context["people"], lang=self.context["lang"], labels=self.context["labels"])


class CommentSerializer(StrictFieldsMixin, serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class EvidenceShareSerializer(StrictFieldsMixin, serializers.Serializer):
    items = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=50, help_text="The items' ids."
    )


class EvidenceCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    evidence_date = serializers.DateField(help_text="The date the evidence shows, not the upload date.")
    valid_until = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Its last valid day (a licence, a certificate): once the item is done, a renewal falls due then.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    url = serializers.URLField(required=False, allow_blank=True, max_length=1000)
    file = serializers.FileField(required=False, allow_empty_file=False)


# --- Filters -------------------------------------------------------------------------------


# --- Views ---------------------------------------------------------------------------------


def etag(item: ChecklistItem) -> str:
    return f'"{item.pk}-{item.version}"'


def _expected_version(request, item: ChecklistItem) -> int:
    """The version the client last read, from If-Match (RFC 9110: a list of ETags, weak or
    strong, or ``*`` for whatever is current)."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired
    tags = [tag.removeprefix("W/") for tag in parse_etags(header)]
    if "*" not in tags and etag(item) not in tags:
        raise PreconditionFailed
    return item.version


# What a list row reads of the catalogue (``ChecklistItemListSerializer``; a condition a
# superseded item's reason names is read on demand).
LIST_CATALOGUE_COLUMNS = [
    *(f.name for f in ChecklistItem._meta.concrete_fields if f.name not in ("reasons", "justification")),
    *(
        f"obligation__{name}"
        for name in ("key", "kind", "modality", "summary_en", "summary_zh", "instrument", "provision", "phase")
    ),
    *(
        f"obligation__instrument__{name}"
        for name in ("code", "title_zh", "title_en", "short_title_zh", "short_title_en")
    ),
    "obligation__provision__label",
    "obligation__phase__key",
]


# PDFs take seconds to minutes to lay out: they are made in the background (downloads/).
PDF_IN_BACKGROUND = "A PDF is made in the background: POST downloads/ with kind %(kind)s, then fetch it when ready."
EXPORTS = {"csv": (checklist_csv, CSV), "xlsx": (checklist_xlsx, XLSX)}


def _listed():
    return ChecklistItem.objects.select_related(
        "obligation__instrument", "obligation__provision", "obligation__phase"
    ).only(*LIST_CATALOGUE_COLUMNS)


class ChecklistViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganizationViewSet):
    """The organization's checklist. Items come from the obligations that apply (and those
    that need review, waiting for answers); nothing here creates or deletes them."""

    filterset_class = ChecklistFilter
    filter_backends = [StrictFilterBackend]  # the filter set orders too (obligations.filters.ORDERINGS)
    pagination_class = PagedByKeys
    http_method_names = ["get", "patch", "post", "head", "options"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.today = request.organization_today = checklist.organization_today(self.organization)

    def filter_queryset(self, queryset):
        # The list's filters (superseded items hidden by default) do not apply to one item:
        # a superseded item stays readable at its URL.
        return super().filter_queryset(queryset) if self.action in ("list", "export") else queryset

    def get_queryset(self):
        if self.action == "list":
            # The page with its catalogue rows in one query: obligations, instruments, provisions
            # and phases are small tables, joined for the columns a row shows (an instrument's
            # source text alone averages 4 KB). People are not joined (that made PostgreSQL hash
            # every user): ``list`` reads the page's in one query. Roles come from the
            # catalogue's cache (one version check): with authentication, membership and the
            # count, a page costs six queries.
            queryset = _listed()
        elif self.action == "export":
            queryset = ChecklistItem.objects.select_related(
                "obligation__instrument",
                "obligation__provision",
                "obligation__phase",
                "event",
                "assignee",
                "completed_by",
            ).defer("obligation__instrument__source_text", "obligation__provision__text")
        else:
            queryset = ChecklistItem.objects.select_related(
                "obligation__instrument",
                "obligation__provision",
                "obligation__penalty_provision",
                "obligation__phase",
                "obligation__act",
                "assignee",
                "completed_by",
            ).prefetch_related("evidence__uploaded_by")
        return scoped(self, queryset)

    @property
    def extra_query_params(self) -> tuple[str, ...]:
        return ("lang", "file") if self.action == "export" else ()

    def get_serializer_class(self):
        if self.action in ("retrieve", "partial_update"):
            return ChecklistItemDetailSerializer
        return ChecklistItemListSerializer if self.action == "list" else ChecklistItemSerializer

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "lang": language(self.request),
            "today": getattr(self, "today", None),
            # The vocabulary's names and the obligations' roles for every row, looked up once
            # (per catalogue version and process) and only if a row needs them.
            "labels": SimpleLazyObject(catalog_labels),
            "roles": SimpleLazyObject(obligation_roles),
        }

    @extend_schema(responses=ChecklistItemSerializer(many=True))
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None  # the view always paginates
        return self.get_paginated_response(self._rows(page))

    def _rows(self, items: Sequence[ChecklistItem]) -> Any:  # DRF's ReturnList (its stubs say ReturnDict)
        """Items as the list writes them, their people read in one query."""
        people = (
            get_user_model()
            .objects.only("id", "username")
            .in_bulk(({i.assignee_id for i in items} | {i.completed_by_id for i in items}) - {None})
        )
        for item in items:
            item.assignee, item.completed_by = people.get(item.assignee_id), people.get(item.completed_by_id)
        return ChecklistItemListSerializer(items, many=True, context=self.get_serializer_context()).data

    def retrieve(self, request, *args, **kwargs):
        item = self.get_object()
        return Response(self.get_serializer(item).data, headers={"ETag": etag(item)})

    @extend_schema(
        request=ChecklistItemUpdateSerializer,
        responses={
            200: ChecklistItemDetailSerializer,
            412: OpenApiResponse(description="Stale If-Match: the item changed since it was read."),
            428: OpenApiResponse(description="No If-Match header."),
        },
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)],
    )
    def partial_update(self, request, *args, **kwargs):
        item = self.get_object()
        expected = _expected_version(request, item)
        payload = ChecklistItemUpdateSerializer(data=request.data, context={"organization": self.organization})
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        item = checklist.item_update(
            item,
            actor=request.user,
            expected_version=expected,
            status=data.get("status"),
            assignee=data.get("assignee", checklist.UNCHANGED),
            justification=data.get("justification"),
            note=data.get("note", ""),
        )
        item = self.get_queryset().get(pk=item.pk)
        return Response(self.get_serializer(item).data, headers={"ETag": etag(item)})

    @extend_schema(responses=HistorySerializer(many=True), filters=False)
    @action(detail=True, filterset_class=None, filter_backends=[], pagination_class=None)
    def history(self, request, organization_id, pk):
        item = self.get_object()
        entries = item.history.select_related("actor", "item__obligation")
        return Response(HistorySerializer(entries, many=True, context=self._history_context()).data)

    def _history_context(self) -> dict:
        return {
            "lang": language(self.request),
            "people": member_names(self.organization),
            "labels": SimpleLazyObject(catalog_labels),
        }

    @extend_schema(request=CommentSerializer, responses={201: HistorySerializer}, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None, filter_backends=[])
    def comments(self, request, organization_id, pk):
        item = self.get_object()
        payload = CommentSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        entry = checklist.item_comment(item, actor=request.user, text=payload.validated_data["text"])
        return Response(HistorySerializer(entry, context=self._history_context()).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        responses=EvidenceSerializer(many=True),
        filters=False,
        request=None,
    )
    @extend_schema(methods=["POST"], request=EvidenceCreateSerializer, responses={201: EvidenceSerializer})
    @action(
        detail=True,
        methods=["get", "post"],
        filterset_class=None,
        filter_backends=[],
        pagination_class=None,
        parser_classes=[MultiPartParser],
    )
    def evidence(self, request, organization_id, pk):
        item = self.get_object()
        if request.method == "GET":
            return Response(EvidenceSerializer(item.evidence.select_related("uploaded_by", "item"), many=True).data)
        payload = EvidenceCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        evidence = evidence_add(
            item,
            actor=request.user,
            evidence_date=data["evidence_date"],
            note=data.get("note", ""),
            url=data.get("url", ""),
            file=data.get("file"),
            valid_until=data.get("valid_until"),
        )
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, XLSX): OpenApiTypes.BINARY,
        },
        parameters=[
            OpenApiParameter(
                "lang",
                str,
                enum=["zh", "en"],
                description="The file's language; by default the request's (Accept-Language).",
            ),
            OpenApiParameter(
                "file",
                str,
                enum=[*EXPORTS],
                description="csv (the default) or xlsx; a PDF is made in the background "
                "(POST downloads/ with kind checklist).",
            ),
        ],
    )
    @action(detail=False, pagination_class=None)
    def export(self, request, organization_id):
        """The checklist for auditors, as CSV (UTF-8 with BOM, so spreadsheet programs read the
        Chinese text), an Excel workbook or a PDF (fewer columns), in Chinese or English; the
        list's filters and order apply. Each row of the CSV and the workbook links to the item's page."""
        lang = request.query_params.get("lang") or language(request)
        if lang not in ("zh", "en"):
            raise serializers.ValidationError({"lang": ["Either zh or en."]})
        kind = request.query_params.get("file") or "csv"
        if kind == "pdf":
            raise serializers.ValidationError({"file": [PDF_IN_BACKGROUND % {"kind": "checklist"}]})
        if kind not in EXPORTS:
            raise serializers.ValidationError({"file": ["Either csv or xlsx."]})
        items = self.filter_queryset(self.get_queryset()).annotate(evidence_count=Count("evidence"))
        zone = zoneinfo.ZoneInfo(self.organization.timezone)
        write, content_type = EXPORTS[kind]
        response = HttpResponse(
            write(items, request.build_absolute_uri, lang=lang, zone=zone), content_type=content_type
        )
        response["Content-Disposition"] = f'attachment; filename="checklist-{self.organization.slug}-{lang}.{kind}"'
        return response

    @extend_schema(
        request=ChecklistBulkSerializer,
        responses={200: ChecklistItemSerializer(many=True)},
        filters=False,
        operation_id="organizations_checklist_bulk_update",
    )
    @action(detail=False, methods=["post"], filterset_class=None, filter_backends=[], pagination_class=None)
    def bulk(self, request, organization_id):
        """The same change to several items (status, assignee, justification), all of them or
        none: each item is checked against the version listed for it and gets its own history
        entry. Answers with the changed items."""
        payload = ChecklistBulkSerializer(data=request.data, context={"organization": self.organization})
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        updated = checklist.items_update(
            self.organization,
            actor=request.user,
            versions={entry["id"]: entry["version"] for entry in data["items"]},
            status=data.get("status"),
            assignee=data.get("assignee", checklist.UNCHANGED),
            justification=data.get("justification"),
            note=data.get("note", ""),
        )
        rows = scoped(self, _listed()).filter(pk__in=[item.pk for item in updated]).order_by("pk")
        return Response(self._rows(list(rows)))

    @extend_schema(
        request=None, responses={200: OpenApiTypes.OBJECT}, filters=False, operation_id="organizations_checklist_sync"
    )
    @action(detail=False, methods=["post"], filterset_class=None, filter_backends=[], pagination_class=None)
    def sync(self, request, organization_id):
        """Re-synchronize now (it also happens on every profile and event change)."""
        plan = checklist.checklist_sync(self.organization, cause={"code": "requested", "by": request.user.username})
        return Response(plan.summary())

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, filters=False)
    @action(detail=False, filterset_class=None, filter_backends=[], pagination_class=None)
    def plan(self, request, organization_id):
        """What a sync would change, without changing anything."""
        plan = checklist.checklist_plan(self.organization)
        return Response({**plan.summary(), **plan.details(language(request))})


class ChangeItemSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text="The checklist item's id.")
    title = serializers.CharField()
    action = serializers.ChoiceField(choices=ItemHistory.Action.choices)
    text = serializers.CharField(help_text="What happened to it and why, in the request's language.")


class ChecklistChangeSerializer(serializers.ModelSerializer):
    cause = serializers.SerializerMethodField(help_text="Why the checklist changed, in words.")
    summary = serializers.SerializerMethodField(help_text="What changed, counted, in words.")
    items = serializers.SerializerMethodField()

    class Meta:
        model = ChecklistChange
        fields = ["id", "at", "cause", "summary", "counts", "items"]
        read_only_fields = fields

    def get_cause(self, change) -> str:
        return (
            cause_text(change.cause, lang=self.context["lang"], labels=self.context["labels"]) if change.cause else ""
        )

    def get_summary(self, change) -> str:
        return change_summary(change.counts, lang=self.context["lang"])

    @extend_schema_field(ChangeItemSerializer(many=True))
    def get_items(self, change) -> list[dict]:
        return change_entries(change, self.context["people"], lang=self.context["lang"], labels=self.context["labels"])


class ChecklistChangeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganizationViewSet):
    """What changed in the checklist, newest first: each sync that added items, set them aside,
    restored them, moved their due dates or changed their applicability (after a catalogue
    load, a profile change, an event, a new holiday schedule), with why in words."""

    serializer_class = ChecklistChangeSerializer

    def get_queryset(self):
        return (
            selectors.checklist_changes(self.organization)
            if not getattr(self, "swagger_fake_view", False)
            else ChecklistChange.objects.none()
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context.update(lang=language(self.request), labels=catalog_labels(), people=member_names(self.organization))
        return context


class EvidenceViewSet(mixins.RetrieveModelMixin, OrganizationViewSet):
    """Evidence of this organization's items; files are downloaded by members only."""

    serializer_class = EvidenceSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Evidence.objects.none()
        return Evidence.objects.filter(item__organization=self.organization).select_related("uploaded_by", "item")

    @extend_schema(
        request=EvidenceShareSerializer,
        responses={201: EvidenceSerializer(many=True)},
        operation_id="organizations_evidence_share",
    )
    @action(detail=True, methods=["post"])
    def share(self, request, organization_id, pk):
        """Attach this evidence to more of the organization's items as well (a filing receipt
        that meets the same act's duties in several instruments): each item gets its own record
        of it, with the same file, dates and SHA-256, and a history entry."""
        evidence = self.get_object()
        payload = EvidenceShareSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        wanted = payload.validated_data["items"]
        items = list(ChecklistItem.objects.filter(organization=self.organization, pk__in=wanted))
        if len(items) != len(set(wanted)):
            raise serializers.ValidationError({"items": ["No such item."]})
        copies = evidence_share(evidence, items, actor=request.user)
        return Response(EvidenceSerializer(copies, many=True).data, status=status.HTTP_201_CREATED)

    # The file is sent with the type its content was checked against.
    @extend_schema(responses={(200, kind.split(";")[0]): OpenApiTypes.BINARY for kind, _ in SIGNATURES.values()})
    @action(detail=True)
    def download(self, request, organization_id, pk):
        evidence = get_object_or_404(self.get_queryset().filter(file__gt=""), pk=pk)
        response = FileResponse(
            evidence.file.open("rb"), as_attachment=True, filename=evidence.filename, content_type=evidence.content_type
        )
        # Never let a browser render an uploaded file inline as HTML.
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


# --- Files made in the background -----------------------------------------------------------


class DownloadSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    file = serializers.SerializerMethodField(help_text="Where to fetch the file once it is ready; null before.")

    class Meta:
        model = Download
        fields = [
            "id",
            "kind",
            "params",
            "status",
            "status_label",
            "filename",
            "size",
            "created_at",
            "finished_at",
            "file",
        ]
        read_only_fields = fields

    def get_file(self, download) -> str | None:
        if download.status != Download.Status.READY:
            return None
        return reverse("download-file", args=[download.organization_id, download.pk])


class DownloadRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=Download.Kind.choices)
    lang = serializers.ChoiceField(
        choices=Membership.Language.choices, required=False, help_text="The file's language; by default the request's."
    )
    as_of = serializers.DateField(
        required=False, help_text="For the audit pack: the day it describes; by default today."
    )
    query = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="For the checklist: its filters, search and order as in the list's query (status=open&q=备案).",
    )


class DownloadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganizationViewSet):
    """PDFs made in the background: the audit pack and the checklist, which take seconds to
    minutes to lay out. POST asks for one (202); its ``status`` turns ``ready`` (or ``failed``)
    and ``file`` fetches it. Each person sees their own, kept for seven days. Any member may
    ask, viewers too: these are files to read."""

    serializer_class = DownloadSerializer
    write_roles = EVERYONE

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Download.objects.none()
        return Download.objects.filter(organization=self.organization, requested_by=self.request.user)

    @extend_schema(request=DownloadRequestSerializer, responses={202: DownloadSerializer})
    def create(self, request, organization_id):
        payload = DownloadRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        download = download_request(
            self.organization,
            user=request.user,
            kind=data["kind"],
            lang=data.get("lang") or language(request),
            as_of=data.get("as_of"),
            query=data.get("query", ""),
        )
        url = reverse("download-detail", args=[self.organization.pk, download.pk])
        return Response(DownloadSerializer(download).data, status=status.HTTP_202_ACCEPTED, headers={"Location": url})

    @extend_schema(responses={(200, PDF): OpenApiTypes.BINARY, 409: OpenApiResponse(description="Not ready yet.")})
    @action(detail=True, url_path="file")
    def file(self, request, organization_id, pk):
        download = self.get_object()
        if download.status != Download.Status.READY:
            return Response({"detail": "The file is not ready."}, status=status.HTTP_409_CONFLICT)
        return FileResponse(download.file.open("rb"), as_attachment=True, filename=download.filename, content_type=PDF)
