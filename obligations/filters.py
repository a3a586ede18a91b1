"""Filters of the organization's lists: the checklist's (one FilterSet for the API list, the CSV
export and the web page) and the reminders'. A filter that names an object offers only the
organization's own (``request.organization``, set by obligations.api.base): another
organization's id is as unknown as an id that does not exist."""

import django_filters
from rest_framework.exceptions import ValidationError

from .models import ChecklistItem, Reminder


class StrictBooleanFilter(django_filters.ChoiceFilter):
    """``true`` or ``false``; anything else is a 400 rather than being ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=[("true", "true"), ("false", "false")], **kwargs)


class ChecklistFilter(django_filters.FilterSet):
    # distinct=False: one item has one status, and DISTINCT over every column is slow.
    status = django_filters.MultipleChoiceFilter(choices=ChecklistItem.Status.choices, distinct=False)
    applicability = django_filters.ChoiceFilter(choices=ChecklistItem.Applicability.choices)
    phase = django_filters.CharFilter(field_name="obligation__phase__key")
    instrument = django_filters.CharFilter(field_name="obligation__instrument__code")
    role = django_filters.CharFilter(method="filter_role")
    kind = django_filters.CharFilter(field_name="obligation__kind")
    assignee = django_filters.CharFilter(method="filter_assignee", help_text="A user id, 'me' or 'none'.")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    overdue = StrictBooleanFilter(method="filter_overdue")
    superseded = StrictBooleanFilter(
        method="filter_superseded", help_text="Superseded items are hidden unless this is true."
    )
    track = django_filters.ChoiceFilter(
        choices=ChecklistItem.Track.choices,
        help_text="duty (the default): what the organization must or must not do; opportunity: support and "
        "encouragement it may take up, never reminded.",
    )

    class Meta:
        model = ChecklistItem
        fields: list[str] = []

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
        return queryset


def _organization_items(request):
    if request is None or not hasattr(request, "organization"):
        return ChecklistItem.objects.none()
    return ChecklistItem.objects.filter(organization=request.organization)


class ReminderFilter(django_filters.FilterSet):
    item = django_filters.ModelChoiceFilter(queryset=_organization_items)

    class Meta:
        model = Reminder
        fields = ["status", "kind", "item"]
