"""What the checklist's own records say, in the reader's language. A sync keeps why it ran, why
an item was set aside and how a date was found as structure (a code and its parameters); these
functions put them into words when they are read, so an entry written while one reader used
Chinese reads in English to the next, and the reverse. Pages, the API, emails, calendar feeds
and the CSV all read them here."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from regulations import selectors
from regulations.deadlines import explain_steps
from regulations.explain import Labels, reason_text

from .models import ChecklistItem, ItemHistory


def django_language(lang: str) -> str:
    return "zh-hans" if lang == "zh" else "en"


def in_language(function):
    """Run ``function(..., lang)`` with Django's translations switched to ``lang``."""

    @functools.wraps(function)
    def wrapper(*args, lang: str, **kwargs):
        with translation.override(django_language(lang)):
            return function(*args, lang=lang, **kwargs)

    return wrapper


# Every function here takes ``labels`` (the vocabulary's names, regulations.selectors.labels):
# a page, a response or a file looks them up once and passes them to each row; looking them up
# costs a query, so a row that did it itself would cost one more query per row.


def _event(key: str, lang: str, labels: Labels | None) -> str:
    return (labels or selectors.labels()).name("event", key, lang)


@in_language
def cause_text(cause: Mapping[str, Any] | str, *, lang: str, labels: Labels | None = None) -> str:
    """Why a sync ran: ``{"code": "profile", "version": 4}`` -> 保存组织画像第4版后更新了清单。"""
    if isinstance(cause, str):  # entries written before causes were kept as structure
        return cause
    code = cause.get("code")
    if code == "profile":
        return _("Checklist updated after profile version %(version)s was saved.") % cause
    if code in ("event_reported", "event_deleted"):
        values = {"event": _event(cause["event"], lang, labels), "date": cause["date"]}
        if code == "event_reported":
            return _("Checklist updated after “%(event)s” on %(date)s was reported.") % values
        return _("Checklist updated after the report of “%(event)s” on %(date)s was deleted.") % values
    if code == "catalogue":
        return _("Checklist updated after the catalogue of rules changed.")
    if code == "calendar":
        return _("Due dates recomputed after the holiday schedule changed.")
    if code == "renewal":
        return _("Checklist updated after evidence that expires was added or its duty changed status.")
    if code == "requested":
        return _("Checklist updated at %(user)s’s request.") % {"user": cause["by"]}
    if code == "next_period":
        return _("Checklist updated after a period of a recurring duty changed status.")
    if code == "daily":
        return _("Checklist brought up to date by the daily update (next periods of recurring duties).")
    return _("Checklist updated.")


@in_language
def change_summary(counts: Mapping[str, int], *, lang: str) -> str:
    """What a sync changed, counted: 新增 3 项，1 项不再适用，2 项到期日变更。"""
    words = {
        "added": lambda n: ngettext("%(n)s new item", "%(n)s new items", n),
        "superseded": lambda n: ngettext("%(n)s no longer applies", "%(n)s no longer apply", n),
        "restored": lambda n: ngettext("%(n)s applies again", "%(n)s apply again", n),
        "redated": lambda n: ngettext("%(n)s due date moved", "%(n)s due dates moved", n),
        "reclassified": lambda n: ngettext("%(n)s changed applicability", "%(n)s changed applicability", n),
    }
    parts = [words[key](n) % {"n": n} for key, n in counts.items() if n and key in words]
    return _("%(parts)s.") % {"parts": _(", ").join(parts)} if parts else ""


@in_language
def superseded_text(why: Mapping[str, Any] | str, obligation, *, lang: str, labels: Labels | None = None) -> str:
    """Why an item of ``obligation`` was set aside (``item.superseded_reason``), in words."""
    if not why:
        return ""
    if isinstance(why, str):  # written before reasons were kept as structure
        return why
    code = why.get("code")
    if code == "not_applicable":
        reason = why.get("reason")
        if not reason:
            return _("No longer applies: %(reason)s") % {"reason": _("see the reasons.")}
        # The obligation's condition is read only for a reason about it (lists defer the column).
        conditions = obligation.conditions if reason.get("code") == "condition" else None
        text = reason_text(reason, lang, labels or selectors.labels(), conditions)
        return _("No longer applies: %(reason)s") % {"reason": text}
    return str(SUPERSEDED.get(str(code), _("Set aside by a checklist update.")))


SUPERSEDED = {
    "removed": gettext_lazy("The obligation was removed from the catalogue."),
    "event_deleted": gettext_lazy("The event it ran from was deleted."),
    "event_tracked": gettext_lazy("The event was reported; the duty is tracked per event from now on."),
    "schedule_changed": gettext_lazy("The period is no longer part of the obligation’s schedule."),
    "series_dated": gettext_lazy("The series is dated from the event that started it: see its current period."),
    "not_for_organizations": gettext_lazy(
        "The text sets a goal for the region or its government, not something the organization must do."
    ),
    "renewal_not_needed": gettext_lazy(
        "No renewal is needed now: the duty it renews was reopened, or its evidence no longer expires."
    ),
}


def due_lines(basis: Mapping[str, Any], lang: str, labels: Labels | None = None) -> list[str]:
    """How a due date was computed, step by step, in ``lang``."""
    steps = basis.get("steps") or []
    if steps and steps[0].get("code") == "valid_until":  # a renewal (services.checklist._renewals)
        return [
            _("Renewal: the evidence of %(shown)s is valid until %(date)s; renew it by then.")
            % {"shown": steps[0]["evidence_date"], "date": steps[0]["date"]}
        ]
    if basis.get("steps"):
        return explain_steps(basis["steps"], lang, lambda key: _event(key, lang, labels))
    return list(basis.get("explanation", []))  # items dated before the steps were kept


def keep_lines(basis: Mapping[str, Any], lang: str, labels: Labels | None = None) -> list[str]:
    """How a keep-until date (the end of a retention period) was found, in ``lang``."""
    return explain_steps((basis or {}).get("keep_steps", []), lang, lambda key: _event(key, lang, labels))


PENDING = {
    "ongoing": gettext_lazy("a standing duty"),
    "qualitative": gettext_lazy("the text gives the timing in words only"),
    "no_more": gettext_lazy("no further periods"),
    "awaiting_first_completion": gettext_lazy("due now, then again one period after each completion"),
    "awaiting_confirmation": gettext_lazy("confirm now that you keep to it, then once a year"),
}


@in_language
def pending_text(basis: Mapping[str, Any], *, lang: str, labels: Labels | None = None) -> str:
    """Why an item has no date yet, in words (the basis keeps a code such as ``needs_event:…``)."""
    pending = (basis or {}).get("pending") or ""
    if pending.startswith("needs_event:"):
        return _("dated once “%(event)s” is reported") % {"event": _event(pending.split(":", 1)[1], lang, labels)}
    return str(PENDING.get(pending, ""))


def due_basis_text(basis: Mapping[str, Any], lang: str, labels: Labels | None = None) -> str:
    """The due date's basis in one paragraph: how it was counted, or why there is no date."""
    lines = due_lines(basis, lang, labels)
    if lines:
        return " ".join(lines)
    timing = (basis.get("rule") or {}).get("text_zh", "")
    pending = pending_text(basis, lang=lang, labels=labels)
    return "；".join(filter(None, [timing, pending])) if lang == "zh" else "; ".join(filter(None, [timing, pending]))


# --- History ----------------------------------------------------------------------------------

FIELD_NAMES = {
    "status": gettext_lazy("status"),
    "assignee": gettext_lazy("assignee"),
    "justification": gettext_lazy("reason it does not apply"),
    "due_date": gettext_lazy("due date"),
    "opens": gettext_lazy("window opening"),
    "applicability": gettext_lazy("applicability"),
    "waiting_for": gettext_lazy("open questions"),
    "track": gettext_lazy("list"),
}
ACTIONS = {
    "updated": gettext_lazy("%(actor)s updated the item."),
    "redated": gettext_lazy("%(actor)s moved the due date."),
    "superseded": gettext_lazy("%(actor)s set the item aside."),
    "restored": gettext_lazy("%(actor)s restored the item: it applies again."),
    "commented": gettext_lazy("%(actor)s commented."),
    "evidence_added": gettext_lazy("%(actor)s added evidence."),
}


def _value(field: str, value, people: Mapping[int, str], lang: str, labels: Labels | None) -> str:
    if value in (None, "", []):
        return _("none")
    if field == "status":
        return str(ChecklistItem.Status(value).label)
    if field == "assignee":
        return people.get(value, _("a former member"))
    if field == "applicability":
        return str(ChecklistItem.Applicability(value).label)
    if field == "track":
        return str(ChecklistItem.Track(value).label)
    if field == "waiting_for":
        names = labels or selectors.labels()
        return ("、" if lang == "zh" else ", ").join(names.name(m["kind"], m["key"], lang) for m in value)
    return str(value)


@in_language
def history_text(
    entry: ItemHistory, people: Mapping[int, str], *, lang: str, labels: Labels | None = None, with_cause: bool = True
) -> str:
    """One history entry as sentences: 王芳将状态从“待办”改为“已完成”。 followed, for a change the
    system made, by why it was made (and how a moved date was counted or why the item was set
    aside). ``people``: user id -> name, for assignees kept by id."""
    actor = entry.actor.username if entry.actor else _("The system")
    changes = [
        _("%(field)s from “%(old)s” to “%(new)s”")
        % {
            "field": FIELD_NAMES.get(field, field),
            "old": _value(field, change.get("from"), people, lang, labels),
            "new": _value(field, change.get("to"), people, lang, labels),
        }
        for field, change in entry.changes.items()
        if change.get("from") != change.get("to")
    ]
    if entry.action == "created":
        due = entry.changes.get("due_date", {}).get("to")
        if due:
            sentence = _("%(actor)s added the item, due %(due)s.") % {"actor": actor, "due": due}
        else:
            sentence = _("%(actor)s added the item.") % {"actor": actor}
    elif entry.action in ("updated", "redated") and changes:
        sentence = _("%(actor)s changed %(changes)s.") % {"actor": actor, "changes": _("; ").join(changes)}
    else:
        sentence = str(ACTIONS.get(entry.action, ACTIONS["updated"])) % {"actor": actor}
    context = entry.context or {}
    parts = [sentence]
    if "cause" in context and with_cause:  # a list of one sync's entries says its cause once
        parts.append(cause_text(context["cause"], lang=lang, labels=labels))
    if "superseded" in context:
        parts.append(superseded_text(context["superseded"], entry.item.obligation, lang=lang, labels=labels))
    if "steps" in context:
        parts.extend(due_lines(context, lang, labels))
    return " ".join(part for part in parts if part)


@in_language
def change_entries(change, people: Mapping[int, str], *, lang: str, labels: Labels | None = None) -> list[dict]:
    """The items a checklist change touched (its history entries, prefetched), each with what
    happened to it and why; its cause is said once, by ``cause_text``."""
    return [
        {
            "item": entry.item_id,
            "title": entry.item.obligation.title_in(lang),
            "action": entry.action,
            "text": history_text(entry, people, lang=lang, labels=labels, with_cause=False),
        }
        for entry in change.entries.all()
    ]


@in_language
def period_text(item: ChecklistItem, *, lang: str, labels: Labels | None = None) -> str:
    """Which occurrence of the duty an item is: the event it runs from, a recurring period's
    date, a renewal of expiring evidence, or nothing for the duty's only item."""
    if item.event_id and item.event:
        name = _event(item.event.type_id, lang, labels)
        return f"{name}（{item.event.date:%Y-%m-%d}）" if lang == "zh" else f"{name} ({item.event.date:%Y-%m-%d})"
    if item.occurrence.startswith("renewal:"):
        return _("Renewal")
    return item.occurrence if item.occurrence[:1].isdigit() else ""
