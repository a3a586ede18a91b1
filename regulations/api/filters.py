import django_filters
from django.db.models import Q
from rest_framework.exceptions import ValidationError

from ..models import Instrument, Obligation
from ..selectors import jurisdiction_with_ancestors


class JurisdictionFilter(django_filters.CharFilter):
    """``?jurisdiction=CN-SH-LG`` means every rule that binds there: Lingang's, Shanghai's and
    national ones."""

    def __init__(self, *args, path: str = "jurisdiction", **kwargs):
        self.path = path
        super().__init__(*args, method=self.filter_ancestors, **kwargs)

    def filter_ancestors(self, queryset, name, value):
        chain = jurisdiction_with_ancestors(value)
        if not chain:
            raise ValidationError({name: [f"Unknown jurisdiction '{value}'."]})
        return queryset.filter(**{f"{self.path}__in": chain})


class InstrumentFilter(django_filters.FilterSet):
    jurisdiction = JurisdictionFilter(
        help_text="A jurisdiction code; instruments of that jurisdiction and of every one above it."
    )
    status = django_filters.MultipleChoiceFilter(choices=Instrument.Status.choices)
    nature = django_filters.MultipleChoiceFilter(choices=Instrument.Nature.choices)
    issuer = django_filters.CharFilter(method="filter_issuer", help_text="Part of the issuer's name, zh or en.")
    q = django_filters.CharFilter(method="filter_text", help_text="Text search in titles, issuer and source text.")
    ordering = django_filters.OrderingFilter(fields=["code", "effective", "promulgated", "jurisdiction"])

    class Meta:
        model = Instrument
        fields = ["jurisdiction", "status", "nature"]

    def filter_issuer(self, queryset, name, value):
        return queryset.filter(Q(issuer_zh__icontains=value) | Q(issuer_en__icontains=value))

    def filter_text(self, queryset, name, value):
        return queryset.filter(
            Q(title_zh__icontains=value)
            | Q(title_en__icontains=value)
            | Q(short_title_en__icontains=value)
            | Q(issuer_zh__icontains=value)
            | Q(code__icontains=value)
            | Q(source_text__icontains=value)
        )


class ObligationFilter(django_filters.FilterSet):
    role = django_filters.CharFilter(field_name="roles__key", distinct=True)
    kind = django_filters.MultipleChoiceFilter(choices=Obligation.Kind.choices)
    modality = django_filters.MultipleChoiceFilter(choices=Obligation.Modality.choices)
    phase = django_filters.CharFilter(field_name="phase__key")
    deadline_kind = django_filters.MultipleChoiceFilter(choices=Obligation.DeadlineKind.choices)
    instrument = django_filters.CharFilter(field_name="instrument__code")
    jurisdiction = JurisdictionFilter(path="instrument__jurisdiction")
    status = django_filters.MultipleChoiceFilter(field_name="instrument__status", choices=Instrument.Status.choices)
    ordering = django_filters.OrderingFilter(fields=[("instrument__code", "instrument"), "kind", "modality"])

    class Meta:
        model = Obligation
        fields = ["role", "kind", "modality", "phase", "deadline_kind", "instrument", "jurisdiction", "status"]
