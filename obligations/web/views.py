"""Web pages for compliance officers. They call the same services and selectors as the API;
what a page adds is only the HTML. Organization pages go through ``member_page``, which finds
the organization through obligations.access, as the API does: another organization answers
404, and a POST from a role that may not write answers 403."""

import datetime as dt
import functools
import zoneinfo
from collections import Counter
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from config.api import language
from regulations import selectors as catalog
from regulations.applicability import members, validate_answers
from regulations.models import Fact, Instrument, Obligation, Provision

from .. import access, auditpack, charts, selectors, services
from ..errors import DomainError, ServiceError, StaleVersion
from ..filters import DEFAULT_ORDERING, ChecklistFilter
from ..models import (
    ApiToken,
    AuditEvent,
    CalendarFeed,
    ChecklistItem,
    Delivery,
    Download,
    Endpoint,
    Evidence,
    Invitation,
    Membership,
)
from ..selectors import member_names
from ..services import calendar, checklist, downloads, outbound, reminders
from ..services.evidence import evidence_add, evidence_share
from ..sso import sign_in_options
from ..wording import cause_text, change_entries, change_summary, due_lines, keep_lines, superseded_text
from . import forms

GET_OR_POST = require_http_methods(["GET", "HEAD", "POST"])


def member_page(view=None, *, post_roles=access.WRITERS, view_roles=access.EVERYONE):
    """The organization from the URL, through the visitor's membership; seeing the page needs
    one of ``view_roles``, a POST one of ``post_roles``."""

    def decorate(view):
        @login_required
        @functools.wraps(view)
        def wrapper(request, organization_id, *args, **kwargs):
            membership = access.membership_for(request.user, organization_id)
            access.require(membership, post_roles if request.method == "POST" else view_roles)
            request.membership, request.organization = membership, membership.organization
            request.organization_today = checklist.organization_today(membership.organization)
            with timezone.override(zoneinfo.ZoneInfo(membership.organization.timezone)):
                return view(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view else decorate


def _page(request, template, context):
    memberships = (
        Membership.objects.filter(user=request.user).select_related("organization").order_by("organization__name")
        if request.user.is_authenticated  # the invitation page is open to people without an account
        else Membership.objects.none()
    )
    membership = getattr(request, "membership", None)
    return render(
        request,
        template,
        {
            "memberships": memberships,
            "organization": getattr(request, "organization", None),
            "membership": membership,
            "can_write": membership is not None and access.may(membership, access.WRITERS),
            "can_manage": membership is not None and access.may(membership, access.ADMINS),
            "today": getattr(request, "organization_today", None),
            "lang": language(request),
            # The vocabulary's names, for rows that name answers; no query unless a row needs it.
            "vocabulary_labels": SimpleLazyObject(catalog.labels),
            **context,
        },
    )


class SignInView(LoginView):
    """Django's sign-in; failed attempts are limited by django-axes (see settings). It offers
    single sign-on when configured, and hides the password form when passwords are off (no
    backend would check one then)."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **sign_in_options()}


@login_required
def home(request):
    first = Membership.objects.filter(user=request.user).order_by("organization__name").first()
    if first:
        return redirect("web-dashboard", organization_id=first.organization_id)
    return redirect("web-organizations")


@login_required
def organizations(request):
    """The organization switcher, and a form to create one."""
    form = forms.OrganizationForm()
    if request.method == "POST":
        form = forms.OrganizationForm(request.POST)
        if form.is_valid():
            try:
                organization = services.organization_create(user=request.user, **form.cleaned_data)
            except DomainError as error:
                forms.show_errors(form, error)
            else:
                return redirect("web-profile", organization_id=organization.pk)
    return _page(request, "web/organizations.html", {"form": form})


# --- Dashboard -----------------------------------------------------------------------------


def _items(request):
    """The organization's current duties: what the dashboard counts."""
    return ChecklistItem.objects.filter(organization=request.organization).current().duties()


@member_page
@require_safe
def dashboard(request):
    items = _items(request)
    today, lang = request.organization_today, language(request)
    late = items.overdue(today)
    upcoming = items.actionable().filter(due_date__gte=today, due_date__lte=today + dt.timedelta(days=30))
    related = ("obligation__instrument", "obligation__provision")
    context = {
        "by_status": dict(items.values_list("status").annotate(n=Count("id")).order_by()),
        "by_phase": charts.progress(items, "obligation__phase__key", (f"obligation__phase__name_{lang}",)),
        "by_instrument": charts.progress(
            items,
            "obligation__instrument__code",
            (f"obligation__instrument__short_title_{lang}", f"obligation__instrument__title_{lang}"),
        ),
        "legend": [(status.value, status.label) for status in charts.STATUSES],
        "overdue": late.select_related(*related).order_by("due_date")[:20],
        "overdue_count": late.count(),
        "upcoming": upcoming.select_related(*related).order_by("due_date")[:20],
        "recent": items.filter(status=ChecklistItem.Status.DONE)
        .select_related(*related, "completed_by")
        .order_by("-completed_at")[:10],
        "waiting": items.filter(applicability=ChecklistItem.Applicability.NEEDS_REVIEW).count(),
        # The authorities' acts it waits for, dated from the step it took (a filing submitted).
        "expected": ChecklistItem.objects.filter(
            organization=request.organization, track=ChecklistItem.Track.EXPECTATION, due_date__gte=today
        )
        .current()
        .select_related(*related, "event")
        .order_by("due_date")[:20],
        "total": items.count(),
    }
    due, done = charts.due_by_week(items, today), charts.done_by_week(items, today, timezone.get_current_timezone())
    context.update(
        due_weeks=due,
        done_weeks=done,
        due_highest=max(w.count for w in due),
        done_highest=max(w.count for w in done),
    )
    return _page(request, "web/dashboard.html", context)


# --- Checklist -----------------------------------------------------------------------------


def _item_queryset(request):
    return (
        ChecklistItem.objects.filter(organization=request.organization)
        .select_related("obligation__instrument", "obligation__provision", "obligation__phase", "assignee")
        .order_by("due_date", "id")
    )


@member_page
@require_safe
def checklist_page(request):
    params = request.GET.copy()
    params.pop("page", None)
    filterset = ChecklistFilter(params, queryset=_item_queryset(request), request=request)
    items = filterset.qs if filterset.is_valid() else _item_queryset(request).none()
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    lang = language(request)
    obligations = ChecklistItem.objects.filter(organization=request.organization).values("obligation")
    # Filter choices carry keys as values and names as labels: a person never picks a key.
    phases = {
        key: zh if lang == "zh" else en
        for key, zh, en in Obligation.objects.filter(pk__in=obligations).values_list(
            "phase__key", "phase__name_zh", "phase__name_en"
        )
    }
    instruments = Instrument.objects.filter(obligations__in=obligations).distinct()
    context = {
        "page": page,
        "filterset": filterset,
        "query": filterset.data.urlencode(),  # without the form's empty choices
        "statuses": ChecklistItem.Status.choices,
        "phases": sorted(phases.items(), key=lambda kv: kv[1]),
        "instruments": [(i.code, i.short_title_in(lang)) for i in instruments.order_by("code")],
        "kinds": [(k, label) for k, label in Obligation.Kind.choices if Obligation.TRACKS.get(k) == "duty"],
        "sorts": _sort_links(filterset.data),
        "bulk_form": forms.BulkForm(members=_members(request.organization)),
    }
    return _page(request, "web/checklist.html", context)


@member_page
@require_POST
def checklist_bulk(request):
    """The checklist page's selection: one change to every selected item, all or none."""
    form = forms.BulkForm(request.POST, members=_members(request.organization))
    back = reverse("web-checklist", args=[request.organization.pk])
    query = QueryDict(request.POST.get("query", "")).urlencode()  # the page's filters, back as they were
    if form.is_valid():
        data = form.cleaned_data
        try:
            updated = checklist.items_update(
                request.organization,
                actor=request.user,
                versions=data["versions"],
                status=data["status"] or None,
                assignee=data["assignee"],
                justification=data["justification"] or None,
            )
        except ServiceError as error:
            messages.error(request, BULK_REFUSALS.get(error.field, BULK_REFUSALS["items"]))
        else:
            count = len(updated)
            changed = ngettext("%(count)d item changed.", "%(count)d items changed.", count)
            messages.success(request, changed % {"count": count})
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else None
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return redirect(f"{back}?{query}" if query else back)


# What the page says when the service refuses a selection (its own messages name item ids).
BULK_REFUSALS = {
    "items": gettext_lazy(
        "Nothing was changed: some selected items changed or left the checklist since the page was opened. "
        "Reload and try again."
    ),
    "status": gettext_lazy("Nothing was changed: some selected items are set aside and can no longer change."),
    "justification": gettext_lazy("Nothing was changed: say why the items do not apply."),
    "assignee": gettext_lazy("Nothing was changed: the assignee is not a member who can work on items."),
}


def _sort_links(params) -> dict[str, dict[str, str]]:
    """The column headers' links: a column sorts ascending, then descending; the filters stay."""
    current = params.get("ordering") or DEFAULT_ORDERING
    links = {}
    for key in ("instrument", "phase", "due_date", "status", "assignee"):
        state = "ascending" if current == key else "descending" if current == f"-{key}" else "none"
        query = params.copy()
        query["ordering"] = f"-{key}" if state == "ascending" else key
        links[key] = {"url": f"?{query.urlencode()}", "state": state}
    return links


@member_page
@require_safe
def opportunities_page(request):
    """Support, subsidies and encouragement the organization may take up: apart from the
    checklist, with how to apply and by when, and which answers would settle the uncertain ones."""
    items = _item_queryset(request).current().opportunities().exclude(status=ChecklistItem.Status.NOT_APPLICABLE)
    context = {
        "open": items.filter(applicability=ChecklistItem.Applicability.APPLIES),
        "maybe": items.filter(applicability=ChecklistItem.Applicability.NEEDS_REVIEW),
    }
    return _page(request, "web/opportunities.html", context)


def _members(organization):
    return (
        Membership.objects.filter(organization=organization).exclude(role=Membership.Role.VIEWER).select_related("user")
    )


def _update(request, item, form) -> ChecklistItem | None:
    data = form.cleaned_data
    try:
        return checklist.item_update(
            item,
            actor=request.user,
            expected_version=data["version"],
            status=data["status"],
            assignee=_members(request.organization).get(user_id=data["assignee"]).user
            if data.get("assignee")
            else None,
            justification=data.get("justification", ""),
            note=data.get("note", ""),
        )
    except StaleVersion:
        form.add_error(None, _("Someone changed this item since you opened it. It is shown again as it is now."))
    except DomainError as error:
        forms.show_errors(form, error)
    except Membership.DoesNotExist:
        form.add_error("assignee", _("Not a member who can work on items."))
    return None


@member_page
@require_POST
def item_quick_status(request, item_id):
    """htmx: a row's "done" / "start" button; answers with the row."""
    item = get_object_or_404(_item_queryset(request), pk=item_id)
    form = forms.ItemForm(
        {
            "version": request.POST.get("version"),
            "status": request.POST.get("status"),
            "assignee": item.assignee_id or "",
            "justification": item.justification,
            "note": request.POST.get("note", ""),
        },
        members=_members(request.organization),
    )
    error = None
    if form.is_valid() and _update(request, item, form):
        item = _item_queryset(request).get(pk=item.pk)
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
        item = _item_queryset(request).get(pk=item.pk)
    return _page(request, "web/_item_row.html", {"item": item, "row_error": error})


@member_page
@GET_OR_POST
def item_page(request, item_id):
    item = get_object_or_404(
        _item_queryset(request)
        .select_related("obligation__penalty_provision", "obligation__act")
        .prefetch_related("evidence__uploaded_by", "history__actor", "obligation__roles"),
        pk=item_id,
    )
    members = _members(request.organization)
    initial = {
        "version": item.version,
        "status": item.status,
        "assignee": item.assignee_id or "",
        "justification": item.justification,
    }
    item_form = forms.ItemForm(initial=initial, members=members)
    comment_form, evidence_form = forms.CommentForm(), forms.EvidenceForm()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "update":
            item_form = forms.ItemForm(request.POST, members=members)
            if item_form.is_valid() and _update(request, item, item_form):
                messages.success(request, _("Saved."))
                return redirect("web-item", organization_id=request.organization.pk, item_id=item.pk)
            if item_form.non_field_errors():  # stale: show the item as it is now, keep the message
                item.refresh_from_db()
                errors = item_form.non_field_errors()
                item_form = forms.ItemForm(initial={**initial, "version": item.version}, members=members)
                item_form.add_error(None, errors)
        elif action == "comment":
            comment_form = forms.CommentForm(request.POST)
            if comment_form.is_valid():
                try:
                    checklist.item_comment(item, actor=request.user, text=comment_form.cleaned_data["text"])
                except DomainError as error:
                    forms.show_errors(comment_form, error)
                else:
                    return redirect("web-item", organization_id=request.organization.pk, item_id=item.pk)
        elif action == "share":
            evidence = get_object_or_404(Evidence, pk=request.POST.get("evidence"), item=item)
            wanted = {int(pk) for pk in request.POST.getlist("items") if pk.isdigit()}
            others = list(ChecklistItem.objects.filter(organization=request.organization, pk__in=wanted))
            try:
                if len(others) != len(wanted):
                    raise ServiceError("items", _("No such item."))
                evidence_share(evidence, others, actor=request.user)
            except DomainError as error:
                messages.error(request, error.message if isinstance(error, ServiceError) else str(error))
            else:
                messages.success(request, _("The evidence is attached to the chosen items too."))
            return redirect("web-item", organization_id=request.organization.pk, item_id=item.pk)
        elif action == "evidence":
            evidence_form = forms.EvidenceForm(request.POST, request.FILES)
            if evidence_form.is_valid():
                try:
                    evidence_add(item, actor=request.user, **evidence_form.cleaned_data)
                except DomainError as error:
                    forms.show_errors(evidence_form, error)
                else:
                    messages.success(request, _("Evidence added."))
                    return redirect("web-item", organization_id=request.organization.pk, item_id=item.pk)
    lang = language(request)
    names = catalog.labels()
    context = {
        "item": item,
        "reasons": checklist.reasons_in(item, lang, names),
        "item_form": item_form,
        "comment_form": comment_form,
        "evidence_form": evidence_form,
        "history": item.history.select_related("actor", "item__obligation"),
        "due_explanation": due_lines(item.due_basis, lang, names),
        "keep_explanation": keep_lines(item.due_basis, lang, names),
        "superseded_reason": superseded_text(item.superseded_reason, item.obligation, lang=lang, labels=names),
        "vocabulary_labels": names,
        "linked": selectors.linked_duties(item),
        # Assignees are kept in the history by id; the page names them.
        "people": member_names(request.organization),
    }
    return _page(request, "web/item.html", context)


# --- Questionnaire -------------------------------------------------------------------------


# The units number facts are counted in, as the page names them (the vocabulary keeps a code).
UNIT_NAMES = {"persons": gettext_lazy("persons"), "CNY": gettext_lazy("yuan (CNY)")}


def _answers_from_post(post, facts) -> dict:
    answers: dict[str, Any] = {}
    for fact in facts:
        if post.get(f"unknown-{fact.key}"):
            answers[fact.key] = None
            continue
        if fact.type in ("set", "jurisdiction_set"):
            ticked = post.getlist(fact.key)
            answers[fact.key] = {"includes": ticked} if post.get(f"partial-{fact.key}") else ticked
        elif fact.type == "boolean":
            value = post.get(fact.key)
            answers[fact.key] = {"true": True, "false": False}.get(value)
        elif fact.type == "number":
            raw = post.get(fact.key, "").strip()
            try:
                answers[fact.key] = float(raw) if "." in raw else int(raw) if raw else None
            except ValueError:
                answers[fact.key] = raw  # validate_answers names the error
        else:
            answers[fact.key] = post.get(fact.key) or None
    return answers


@member_page
@GET_OR_POST
def profile_page(request):
    organization = request.organization
    errors: dict[str, list[str]] = {}
    submitted = None
    if request.method == "POST":
        submitted = _answers_from_post(request.POST, Fact.objects.all())
        clean, errors = validate_answers(catalog.rulebook(), submitted)
        if not errors:
            services.profile_update(
                organization=organization,
                answers=clean,
                unset=[k for k, v in submitted.items() if v is None],
                replace=True,
                changed_by=request.user,
            )
            messages.success(request, _("Profile saved; the checklist has been updated."))
            return redirect("web-profile", organization_id=organization.pk)
    found = selectors.questionnaire(organization, lang=language(request), as_of=request.organization_today)
    questions = []
    for question in found.questions:
        if question.kind != "fact":
            continue
        value = submitted[question.key] if submitted is not None else question.answer
        questions.append(
            {
                **vars(question),
                "value": value,
                "selected": set(members(value)[0]) if isinstance(value, list | dict | str) else {value},
                "partial": isinstance(value, dict),
                "unit": UNIT_NAMES.get(question.unit, question.unit),
                "unknown": value is None,
                "errors": errors.get(question.key, []),
            }
        )
    questions.sort(key=lambda q: not q["unknown"])  # unanswered first, most decisive first
    context = {
        "questions": questions,
        "profile": found.profile,
        "counts": found.result.counts(),
        "has_errors": bool(errors),
    }
    return _page(request, "web/profile.html", context)


# --- Preferences and calendar feeds --------------------------------------------------------


@member_page(post_roles=access.EVERYONE)
@GET_OR_POST
def preferences_page(request):
    membership = request.membership
    form = forms.PreferencesForm(instance=membership)
    feed_form = forms.FeedForm(initial={"language": membership.reminder_language})
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "preferences":
            form = forms.PreferencesForm(request.POST, instance=Membership.objects.get(pk=membership.pk))
            if form.is_valid():
                try:
                    services.reminder_preferences_update(
                        membership, **{name: form.cleaned_data[name] for name in form.Meta.fields}
                    )
                except DomainError as error:
                    forms.show_errors(form, error)
                else:
                    messages.success(request, _("Preferences saved."))
                    return redirect("web-preferences", organization_id=request.organization.pk)
        elif action == "feed":
            feed_form = forms.FeedForm(request.POST)
            if feed_form.is_valid():
                try:
                    _feed, secret = calendar.feed_create(
                        organization=request.organization,
                        created_by=request.user,
                        name=feed_form.cleaned_data["name"],
                        member=request.user if feed_form.cleaned_data["mine_only"] else None,
                        language=feed_form.cleaned_data["language"],
                    )
                except DomainError as error:
                    forms.show_errors(feed_form, error)
                else:
                    url = request.build_absolute_uri(reverse("calendar-feed", args=[secret]))
                    message = _("Subscribe to this address; it is shown only now: %(url)s") % {"url": url}
                    messages.success(request, message)
                    return redirect("web-preferences", organization_id=request.organization.pk)
        elif action == "revoke":
            feed = get_object_or_404(
                CalendarFeed, pk=request.POST.get("feed"), organization=request.organization, created_by=request.user
            )
            calendar.feed_revoke(feed)
            messages.success(request, _("Calendar address revoked."))
            return redirect("web-preferences", organization_id=request.organization.pk)
    feeds = CalendarFeed.objects.filter(organization=request.organization, created_by=request.user)
    return _page(request, "web/preferences.html", {"form": form, "feed_form": feed_form, "feeds": feeds})


@member_page
@require_safe
def changes_page(request):
    """What changed in the checklist, newest first, each change with its items and why."""
    page = Paginator(selectors.checklist_changes(request.organization), 20).get_page(request.GET.get("page"))
    lang, labels, people = language(request), catalog.labels(), member_names(request.organization)
    changes = [
        {
            "at": change.at,
            "summary": change_summary(change.counts, lang=lang),
            "cause": cause_text(change.cause, lang=lang, labels=labels) if change.cause else "",
            "entries": change_entries(change, people, lang=lang, labels=labels),
        }
        for change in page.object_list
    ]
    return _page(request, "web/changes.html", {"page": page, "changes": changes})


@member_page
@require_safe
def audit_pack_page(request):
    """The audit pack's choices (a date, a language, a file); with them, the file itself."""
    initial = {"as_of": request.organization_today, "lang": language(request), "file": "pdf"}
    form = forms.AuditPackForm(request.GET if "file" in request.GET else None, initial=initial)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["file"] != "pdf":
                return auditpack.download(request.organization, as_of=data["as_of"], lang=data["lang"])
            downloads.download_request(
                request.organization, user=request.user, kind="audit_pack", lang=data["lang"], as_of=data["as_of"]
            )
        except DomainError as error:
            forms.show_errors(form, error)
        else:
            return redirect("web-downloads", organization_id=request.organization.pk)
    return _page(request, "web/audit_pack.html", {"form": form})


@member_page(post_roles=access.EVERYONE)
@GET_OR_POST
def downloads_page(request):
    """The PDFs this person asked for, made in the background; a POST asks for the checklist's
    with the checklist page's filters. While one is being made the list refreshes itself."""
    if request.method == "POST":
        try:
            downloads.download_request(
                request.organization,
                user=request.user,
                kind="checklist",
                lang=language(request),
                query=QueryDict(request.POST.get("query", "")).urlencode(),
            )
        except DomainError as error:
            messages.error(request, error.message if isinstance(error, ServiceError) else str(error))
        return redirect("web-downloads", organization_id=request.organization.pk)
    mine = Download.objects.filter(organization=request.organization, requested_by=request.user)[:50]
    context = {"downloads": mine, "pending": any(d.status == Download.Status.PENDING for d in mine)}
    template = "web/_downloads.html" if request.htmx else "web/downloads.html"
    return _page(request, template, context)


# --- The organization: members, invitations, reminder policy; the person's API tokens --------

POLICY_NUMBERS = ("overdue_every_days", "overdue_slow_after_days", "overdue_slow_every_days", "escalate_after_days")


@member_page(post_roles=access.ADMINS)
@GET_OR_POST
def members_page(request):
    """Who belongs to the organization; admins change roles, remove members, invite people and
    set the reminder policy, through the services the API uses."""
    organization = request.organization
    policy = reminders.policy_for(organization)
    invite_form = forms.InvitationForm()
    policy_form = forms.ReminderPolicyForm(
        initial={
            "days_before": ", ".join(map(str, policy.days_before)),
            **{f: getattr(policy, f) for f in POLICY_NUMBERS},
        }
    )
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "invite":
            invite_form = forms.InvitationForm(request.POST)
        elif action == "policy":
            policy_form = forms.ReminderPolicyForm(request.POST)
        try:
            done = _members_action(request, action, invite_form, policy_form)
        except DomainError as error:
            form = {"invite": invite_form, "policy": policy_form}.get(action)
            if form is None:  # a role change or a removal: the refusal above the list
                messages.error(request, error.message if isinstance(error, ServiceError) else str(error))
                done = True
            else:
                forms.show_errors(form, error)
                done = False
        if done and not Membership.objects.filter(organization=organization, user=request.user).exists():
            return redirect("home")  # they removed themselves
        if done:
            return redirect("web-members", organization_id=organization.pk)
    context = {
        "members": Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__username"),
        "roles": Membership.Role.choices,
        "invitations": Invitation.objects.filter(organization=organization).select_related("invited_by")[:100],
        "invite_form": invite_form,
        "policy": policy,
        "policy_form": policy_form,
    }
    return _page(request, "web/members.html", context)


def _members_action(request, action, invite_form, policy_form) -> bool:
    """One POST of the members page; True when it succeeded (the page redirects)."""
    organization = request.organization
    if action in ("role", "remove"):
        member = get_object_or_404(
            Membership.objects.select_related("user"), pk=request.POST.get("member"), organization=organization
        )
        if action == "remove":
            services.membership_remove(member, actor=request.user)
            messages.success(request, _("%(name)s is no longer a member.") % {"name": member.user.username})
            return True
        role = forms.RoleForm(request.POST)
        if role.is_valid():
            services.membership_change_role(member, role.cleaned_data["role"], actor=request.user)
            label = Membership.Role(role.cleaned_data["role"]).label
            messages.success(request, _("%(name)s is now %(role)s.") % {"name": member.user.username, "role": label})
        return True
    if action == "revoke":
        invitation = get_object_or_404(Invitation, pk=request.POST.get("invitation"), organization=organization)
        services.invitation_revoke(invitation, actor=request.user)
        messages.success(request, _("The invitation to %(email)s was revoked.") % {"email": invitation.email})
        return True
    if action == "invite":
        if not invite_form.is_valid():
            return False
        invitation, secret = services.invitation_create(
            organization=organization, invited_by=request.user, **invite_form.cleaned_data
        )
        link = request.build_absolute_uri(reverse("web-invitation")) + "?code=" + secret
        messages.success(
            request,
            _("An invitation was emailed to %(email)s. To pass it on yourself, the link, shown only now: %(link)s")
            % {"email": invitation.email, "link": link},
        )
        return True
    if action == "policy":
        if not policy_form.is_valid():
            return False
        services.reminder_policy_update(organization, actor=request.user, **policy_form.cleaned_data)
        messages.success(request, _("Reminder policy saved."))
        return True
    return False


@login_required
@GET_OR_POST
def tokens_page(request):
    """The signed-in person's API tokens: create one (its secret shown once), revoke one."""
    form = forms.TokenForm()
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            token = get_object_or_404(ApiToken, pk=request.POST.get("token"), user=request.user)
            services.token_revoke(token, actor=request.user)
            messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
            return redirect("web-tokens")
        form = forms.TokenForm(request.POST)
        if form.is_valid():
            try:
                token, secret = services.token_create(user=request.user, name=form.cleaned_data["name"])
            except DomainError as error:
                forms.show_errors(form, error)
            else:
                message = _("Your new token “%(name)s”, shown only now: %(secret)s") % {
                    "name": token.name,
                    "secret": secret,
                }
                messages.success(request, message)
                return redirect("web-tokens")
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at")
    return _page(request, "web/tokens.html", {"form": form, "tokens": tokens})


@GET_OR_POST
def invitation_page(request):
    """Join with an invitation: signed in, with its code; without an account, by choosing a user
    name and a password for the invited address."""
    initial = {"code": request.GET.get("code", "")}
    signed_in = request.user.is_authenticated
    form_class = forms.JoinForm if signed_in else forms.NewAccountForm
    form = form_class(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if signed_in:
                membership = services.invitation_accept(secret=data["code"].strip(), user=request.user)
            else:
                membership = services.account_create_with_invitation(
                    secret=data["code"].strip(), username=data["username"], password=data["password"]
                )
                # A backend this deployment keeps, or the session would not outlive this request.
                backend = (
                    "django.contrib.auth.backends.ModelBackend"
                    if settings.PASSWORD_SIGN_IN
                    else "obligations.sso.MemberBackend"
                )
                login(request, membership.user, backend=backend)
        except DomainError as error:
            forms.show_errors(form, error)
        else:
            messages.success(request, _("You joined %(name)s.") % {"name": membership.organization.name})
            return redirect("web-dashboard", organization_id=membership.organization_id)
    return _page(request, "web/invitation.html", {"form": form, "signed_in": signed_in})


@member_page(view_roles=access.ADMINS, post_roles=access.ADMINS)
def endpoints_page(request):
    """The organization's webhooks and chat robots (admins): add one, turn it off or on, make a
    webhook a new secret, remove one; and what was delivered to them lately."""
    organization = request.organization
    form = forms.EndpointForm()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            form = forms.EndpointForm(request.POST)
            if form.is_valid():
                try:
                    endpoint = outbound.endpoint_create(organization, actor=request.user, **form.cleaned_data)
                except DomainError as error:
                    forms.show_errors(form, error)
                else:
                    _secret_shown_once(request, endpoint)
                    return redirect("web-endpoints", organization_id=organization.pk)
        else:
            endpoint = get_object_or_404(Endpoint, pk=request.POST.get("endpoint"), organization=organization)
            if action == "delete":
                outbound.endpoint_delete(endpoint, actor=request.user)
                messages.success(request, _("“%(name)s” was removed.") % {"name": endpoint.display_name()})
            elif action == "rotate":
                _secret_shown_once(request, outbound.endpoint_rotate_secret(endpoint, actor=request.user))
            elif action in ("on", "off"):
                outbound.endpoint_update(endpoint, actor=request.user, enabled=action == "on")
            return redirect("web-endpoints", organization_id=organization.pk)
    endpoints = list(Endpoint.objects.filter(organization=organization))
    deliveries = (
        Delivery.objects.filter(endpoint__organization=organization)
        .select_related("event", "endpoint")
        .order_by("-id")[:50]
    )
    return _page(request, "web/endpoints.html", {"form": form, "endpoints": endpoints, "deliveries": deliveries})


def _secret_shown_once(request, endpoint: Endpoint) -> None:
    if endpoint.kind == Endpoint.Kind.WEBHOOK:
        message = _("The signing secret of “%(name)s”, shown only now: %(secret)s")
        messages.success(request, message % {"name": endpoint.display_name(), "secret": endpoint.secret})
    else:
        messages.success(request, _("“%(name)s” was added.") % {"name": endpoint.display_name()})


@member_page(view_roles=access.ADMINS)
@require_safe
def audit_page(request):
    events = AuditEvent.objects.filter(organization=request.organization).select_related("actor")
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return _page(request, "web/audit.html", {"page": page})


# --- Catalogue -----------------------------------------------------------------------------


def catalog_page(request):
    """Instruments by jurisdiction and status; public, like the catalogue API."""
    status = request.GET.get("status", "")
    instruments = catalog.instrument_list().select_related("jurisdiction").annotate(n=Count("obligations"))
    if status in Instrument.Status.values:
        instruments = instruments.filter(status=status)
    groups: dict = {}
    for instrument in instruments.order_by("jurisdiction_id", "code"):
        groups.setdefault(instrument.jurisdiction, []).append(instrument)
    context = {"groups": groups, "status": status, "statuses": Instrument.Status.choices}
    if request.user.is_authenticated:
        return _page(request, "web/catalog.html", context)
    return render(request, "web/catalog.html", {**context, "lang": language(request)})


def instrument_page(request, code):
    instrument = get_object_or_404(
        catalog.instrument_list()
        .defer(None)
        .select_related("jurisdiction")
        .prefetch_related(
            Prefetch("provisions", queryset=Provision.objects.order_by("order")),
            Prefetch("obligations", queryset=catalog.obligation_list(), to_attr="active_obligations"),
        ),
        code=code,
    )
    by_role: dict = {}
    for obligation in instrument.active_obligations:
        for role in obligation.roles.all():
            by_role.setdefault(role, []).append(obligation)
    kinds = Counter(o.kind for o in instrument.active_obligations)
    context = {"instrument": instrument, "by_role": sorted(by_role.items(), key=lambda kv: kv[0].key), "kinds": kinds}
    if request.user.is_authenticated:
        return _page(request, "web/instrument.html", context)
    return render(request, "web/instrument.html", {**context, "lang": language(request)})
