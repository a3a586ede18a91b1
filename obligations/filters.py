"""Filters of the organization's lists: the checklist's (one FilterSet for the API list, the CSV
export and the web page) and the reminders'. A filter that names an object offers only the
organization's own (``request.organization``, set by obligations.api.base): another
organization's id is as unknown as an id that does not exist."""

import django_filters
from django.core.exceptions import ValidationError as FormError
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from regulations.models import Obligation

from .models import ChecklistItem, Reminder


class StrictBooleanFilter(django_filters.ChoiceFilter):
    """``true`` or ``false``; anything else is a 400 rather than being ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=[("true", "true"), ("false", "false")], **kwargs)


# Where the search looks: what a reader sees of an item, in both languages.
SEARCHED = (
    "summary_zh",
    "summary_en",
    "quote_zh",
    "provision__label",
    "instrument__title_zh",
    "instrument__title_en",
    "instrument__short_title_zh",
    "instrument__short_title_en",
)


# The orders a reader can choose, by name (``-name`` reverses); ties go by id. Items without a
# date or an assignee come last either way, in PostgreSQL as in SQLite.
ORDERINGS = {
    "due_date": "due_date",
    "status": "status",
    "instrument": "obligation__instrument__code",
    "phase": "obligation__phase_id",  # the vocabulary's lifecycle order: before launch, at launch, ...
    "assignee": "assignee__username",
    "updated_at": "updated_at",
    "id": "id",
}
DEFAULT_ORDERING = "due_date"


def _ordering_terms(value: str) -> list[str]:
    return [term.strip() for term in value.split(",") if term.strip()]


def validate_ordering(value: str) -> None:
    unknown = [term.lstrip("-") for term in _ordering_terms(value) if term.lstrip("-") not in ORDERINGS]
    if unknown:
        # The choices are in the API's documentation; a page's own links never make a bad one.
        # The names go in as params: the message is formatted once more when shown, and a "%" in
        # what was typed must not be read as a placeholder.
        raise FormError(_("The list cannot be ordered by “%(names)s”."), params={"names": ", ".join(unknown)})


def ordered(queryset, value: str):
    terms = [
        F(ORDERINGS[t.lstrip("-")]).desc(nulls_last=True) if t.startswith("-") else F(ORDERINGS[t]).asc(nulls_last=True)
        for t in _ordering_terms(value or DEFAULT_ORDERING)
    ]
    return queryset.order_by(*terms, "id")


class ChecklistFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_text",
        max_length=200,
        label=_("Search"),
        help_text="Words of the item's summary (Chinese or English), quote, provision or instrument title; every "
        "word must appear, in any case. Chinese needs no spaces: 备案 finds 算法备案.",
    )
    # distinct=False: one item has one status, and DISTINCT over every column is slow.
    status = django_filters.MultipleChoiceFilter(
        choices=ChecklistItem.Status.choices, distinct=False, label=_("Status")
    )
    applicability = django_filters.ChoiceFilter(choices=ChecklistItem.Applicability.choices, label=_("Applicability"))
    phase = django_filters.CharFilter(field_name="obligation__phase__key", label=_("Phase"))
    instrument = django_filters.CharFilter(field_name="obligation__instrument__code", label=_("Instrument"))
    role = django_filters.CharFilter(method="filter_role", label=_("Role"))
    kind = django_filters.CharFilter(field_name="obligation__kind", label=_("Kind"))
    assignee = django_filters.CharFilter(
        method="filter_assignee", label=_("Assignee"), help_text="A user id, 'me' or 'none'."
    )
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte", label=_("Due before"))
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte", label=_("Due after"))
    overdue = StrictBooleanFilter(method="filter_overdue", label=_("Overdue"))
    superseded = StrictBooleanFilter(
        method="filter_superseded", label=_("Set aside"), help_text="Superseded items are hidden unless this is true."
    )
    track = django_filters.ChoiceFilter(
        choices=ChecklistItem.Track.choices,
        label=_("Track"),
        help_text="duty (the default): what the organization must or must not do; opportunity: support and "
        "encouragement it may take up, never reminded.",
    )

    ordering = django_filters.CharFilter(
        method="filter_ordering",
        max_length=200,
        validators=[validate_ordering],
        label=_("Order"),
        help_text="Comma-separated, '-' to reverse: due_date (the default), status, instrument, phase, assignee, "
        "updated_at, id. Items without a date or an assignee come last.",
    )

    def __init__(self, data=None, *args, **kwargs):
        # An empty value means "any": what a form's empty choice sends (status=&phase=), in the
        # page's filter form as in a client's query built from one.
        if data is not None:
            data = data.copy()
            for key in list(data):
                values = [value for value in data.getlist(key) if value != ""]
                if values:
                    data.setlist(key, values)
                else:
                    del data[key]
        super().__init__(data, *args, **kwargs)

    class Meta:
        model = ChecklistItem
        fields: list[str] = []

    def filter_ordering(self, queryset, name, value):
        return queryset  # applied last, in qs, so that the default order holds too

    def filter_text(self, queryset, name, value):
        # A substring match: Chinese is written without spaces between words, so a run of
        # characters is looked for as it is, the same in PostgreSQL and SQLite. The search runs
        # over the catalogue's obligations (1,365 rows), not over every organization's items.
        for word in value.split():
            found = Q()
            for field in SEARCHED:
                found |= Q(**{f"{field}__icontains": word})
            queryset = queryset.filter(obligation__in=Obligation.objects.filter(found).values("pk"))
        return queryset

    def filter_role(self, queryset, name, value):
        return queryset.filter(obligation__roles__key=value)  # role keys are unique: no duplicates

    def filter_assignee(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assignee=self.request.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if not value.isdigit():
            raise ValidationError({"assignee": ["A user id, 'me' or 'none'."]})
        return queryset.filter(assignee_id=int(value))

    def filter_overdue(self, queryset, name, value):
        # The organization's today, set on the request by the API view or the web page.
        late = ChecklistItem.objects.overdue(self.request.organization_today).values("pk")
        return queryset.filter(pk__in=late) if value == "true" else queryset.exclude(pk__in=late)

    def filter_superseded(self, queryset, name, value):
        return queryset.filter(superseded_at__isnull=value != "true")

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("superseded"):
            queryset = queryset.current()
        if not self.form.cleaned_data.get("track"):
            queryset = queryset.duties()
        return ordered(queryset, self.form.cleaned_data.get("ordering", ""))


def _organization_items(request):
    if request is None or not hasattr(request, "organization"):
        return ChecklistItem.objects.none()
    return ChecklistItem.objects.filter(organization=request.organization)


class ReminderFilter(django_filters.FilterSet):
    item = django_filters.ModelChoiceFilter(queryset=_organization_items)

    class Meta:
        model = Reminder
        fields = ["status", "kind", "item"]
