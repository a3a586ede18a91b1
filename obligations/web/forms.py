"""Forms of the web pages. They shape the HTML input; the rules themselves live in the models'
field declarations and the services, which the API, the admin and commands call too. A
service's refusal is shown on the form by ``show_errors``."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..errors import DomainError, ServiceError
from ..models import ChecklistItem, Endpoint, Membership, Organization
from ..services.checklist import UNCHANGED


def show_errors(form: forms.Form, error: DomainError) -> None:
    """A service's refusal on the form: on the field it names, or above the form."""
    if isinstance(error, ServiceError):
        for field, messages in error.errors.items():
            form.add_error(field if field in form.fields else None, messages)
    else:  # StaleVersion
        form.add_error(None, _("Someone changed this since you opened it; reload and try again."))


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["name", "slug"]
        labels = {"name": _("Name"), "slug": _("Short name (letters, digits, hyphens)")}
        help_texts = {"slug": ""}


class ItemForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("Status"), choices=ChecklistItem.Status.choices)
    assignee = forms.TypedChoiceField(label=_("Assignee"), coerce=int, empty_value=None, required=False)
    justification = forms.CharField(
        label=_("Why it does not apply"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    note = forms.CharField(label=_("Note for the history"), required=False, max_length=5000)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", _("Nobody"))] + [(m.user_id, m.user.username) for m in members]


class BulkForm(forms.Form):
    """One change to the items selected on the checklist page (``items``: "id:version" each, the
    version the page showed)."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Unchanged")), *ChecklistItem.Status.choices]
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    justification = forms.CharField(label=_("Why they do not apply"), required=False, max_length=5000)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.people = {str(m.user_id): m.user for m in members}
        choices = [(key, user.username) for key, user in self.people.items()]
        self.fields["assignee"].choices = [("", _("Unchanged")), ("none", _("Nobody")), *choices]

    def clean_assignee(self):
        """The member chosen (a user), None for nobody, or UNCHANGED."""
        value = self.cleaned_data["assignee"]
        return UNCHANGED if not value else None if value == "none" else self.people[value]

    def clean(self):
        data = super().clean()
        versions = {}
        for value in self.data.getlist("items"):
            pk, _colon, version = value.partition(":")
            if not (pk.isdigit() and version.isdigit()):
                raise forms.ValidationError(_("The selection is not valid; reload the page."))
            versions[int(pk)] = int(version)
        if not versions:
            raise forms.ValidationError(_("Choose at least one item."))
        if not (data.get("status") or data.get("assignee") is not UNCHANGED or data.get("justification")):
            raise forms.ValidationError(_("Choose what to change: a status, an assignee or a justification."))
        if data.get("status") == ChecklistItem.Status.NOT_APPLICABLE and not data.get("justification", "").strip():
            self.add_error("justification", _("Say why the items do not apply."))
        data["versions"] = versions
        return data


class AuditPackForm(forms.Form):
    as_of = forms.DateField(
        label=_("As of"),
        help_text=_("The checklist as it stood at the end of this day, and what applied on it."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    lang = forms.ChoiceField(label=_("Language"), choices=Membership.Language.choices)
    file = forms.ChoiceField(
        label=_("File"),
        choices=[("pdf", _("PDF, to read and print")), ("xlsx", _("Excel workbook, to sort and filter"))],
        widget=forms.RadioSelect,
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=pgettext_lazy("membership", "Role"), choices=Membership.Role.choices)


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(
        label=pgettext_lazy("membership", "Role"), choices=Membership.Role.choices, initial=Membership.Role.OFFICER
    )


class ReminderPolicyForm(forms.Form):
    """The policy's numbers; their limits are the model's, checked by the service."""

    days_before = forms.CharField(
        label=_("Remind this many days before the due date"),
        help_text=_("Separated by commas; 0 is the due date itself, e.g. 30, 7, 1, 0."),
        required=False,
        max_length=100,
    )
    overdue_every_days = forms.IntegerField(label=_("Then, once overdue, every this many days (0: never)"))
    overdue_slow_after_days = forms.IntegerField(label=_("After this many days overdue"))
    overdue_slow_every_days = forms.IntegerField(label=_("only every this many days"))
    escalate_after_days = forms.IntegerField(label=_("Tell the admins after this many days overdue"))

    def clean_days_before(self):
        words = [
            w for w in self.cleaned_data["days_before"].replace("，", ",").replace("、", ",").split(",") if w.strip()
        ]
        if not all(w.strip().isdigit() for w in words):
            raise forms.ValidationError(_("Give whole numbers of days, e.g. 30, 7, 1, 0."))
        return [int(w) for w in words]


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What it is for, e.g. the reporting script."))


class JoinForm(forms.Form):
    code = forms.CharField(label=_("Invitation code"), max_length=200)


class NewAccountForm(JoinForm):
    username = forms.CharField(label=_("User name"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password_again = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)

    def clean(self):
        data = super().clean()
        if data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Comment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class EvidenceForm(forms.Form):
    evidence_date = forms.DateField(
        label=_("Date the evidence shows"),
        initial=dt.date.today,
        # <input type=date> takes ISO dates only, whatever the page's language formats dates as.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        help_text=_("For a licence, a certificate or an assessment that expires: a renewal falls due on this day."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=5000)
    url = forms.URLField(label=_("Link"), required=False, max_length=1000, assume_scheme="https")
    file = forms.FileField(label=_("File"), required=False)


class PreferencesForm(forms.ModelForm):
    reminder_hour = forms.IntegerField(label=_("Local hour to send"), min_value=0, max_value=23)
    # An address typed without its scheme is read as https (as Django 6 will).
    reminder_chat_url = forms.URLField(
        label=_("Robot's webhook address"), required=False, max_length=500, assume_scheme="https"
    )

    class Meta:
        model = Membership
        fields = list(Membership.REMINDER_PREFERENCES)
        labels = {
            "reminders_enabled": _("Send me deadline reminders"),
            "reminder_language": _("Language"),
            "reminder_delivery": _("Delivery"),
            "reminder_timezone": _("Time zone"),
            "reminder_weekday": _("Weekday for overdue reminders"),
            "reminder_channel": _("Send reminders by"),
            "reminder_chat_secret": _("Robot's signing secret (加签), if it has one"),
        }
        # The member's own robot secret, on their own page: shown so that saving keeps it.
        widgets = {"reminder_chat_secret": forms.PasswordInput(render_value=True)}


class FeedForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    language = forms.ChoiceField(label=_("Language"), choices=Membership.Language.choices)
    mine_only = forms.BooleanField(label=_("Only items assigned to me"), required=False)


class EndpointForm(forms.ModelForm):
    url = forms.URLField(
        label=_("Address"),
        max_length=500,
        assume_scheme="https",
        help_text=_("The robot's webhook address from the group's settings, or your system's https address."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=Endpoint.Event.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=list(Endpoint.Event.values),
    )

    class Meta:
        model = Endpoint
        fields = ["kind", "name", "url", "events", "language", "secret"]
        labels = {
            "kind": _("Kind"),
            "name": _("Name"),
            "language": _("Language"),
            "secret": _("Robot's signing secret (加签), if it has one"),
        }
        help_texts = {
            "secret": _("A webhook's secret is made here and shown once."),
        }
        widgets = {"secret": forms.PasswordInput}
