"""iCalendar feeds of due dates, at secret URLs that calendar programs subscribe to.

Each item is one all-day event with a stable UID, so a moved due date updates the event
(SEQUENCE is the item's due_sequence) and a superseded item is sent as CANCELLED rather than
silently vanishing from subscribers' calendars."""

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from ..errors import validated
from ..models import CalendarFeed, ChecklistItem, Membership, Organization
from ..wording import django_language
from .accounts import digest, new_secret

FEED_PREFIX = "cal_"


def feed_create(
    *, organization: Organization, created_by, name: str, member=None, language: str | None = None
) -> tuple[CalendarFeed, str]:
    """A secret feed address, returned once. Its events are in ``language``; by default the
    creator's reminder language in this organization."""
    if language is None:
        membership = Membership.objects.filter(organization=organization, user=created_by).first()
        language = membership.reminder_language if membership else Membership.Language.ZH
    secret, feed_digest = new_secret(FEED_PREFIX)
    feed = CalendarFeed(
        organization=organization,
        member=member,
        name=name.strip(),
        language=language,
        prefix=secret[:12],
        digest=feed_digest,
        created_by=created_by,
    )
    validated(feed)
    feed.save()
    return feed, secret


@transaction.atomic
def feed_revoke(feed: CalendarFeed) -> None:
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])


def feed_for_secret(secret: str) -> CalendarFeed | None:
    # The feed dies with its creator's membership: a former member's URL shows nothing.
    return (
        CalendarFeed.objects.select_related("organization")
        .filter(
            digest=digest(secret),
            revoked_at__isnull=True,
            organization__memberships__user=F("created_by"),
        )
        .first()
    )


def feed_items(feed: CalendarFeed):
    items = (
        ChecklistItem.objects.duties()
        .filter(organization=feed.organization, due_date__isnull=False)
        .select_related("obligation__instrument", "obligation__provision")
    )
    if feed.member_id:
        items = items.filter(assignee_id=feed.member_id)
    return items.order_by("due_date", "id")


def render_feed(feed: CalendarFeed, *, base_url: str, host: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Compliance obligation tracker//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{feed.organization.name}: {feed.name}")
    calendar.add("x-wr-timezone", feed.organization.timezone)
    stamp = timezone.now()
    lang = feed.language
    with translation.override(django_language(lang)):
        status_labels = {value: str(label) for value, label in ChecklistItem.Status.choices}
        status_word = _("Status")
    for item in feed_items(feed):
        obligation = item.obligation
        event = Event()
        event.add("uid", f"checklist-item-{item.pk}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.due_date)
        event.add("dtend", item.due_date + dt.timedelta(days=1))
        event.add("sequence", item.due_sequence)
        event.add("last-modified", item.updated_at)
        done = "✓ " if item.status == ChecklistItem.Status.DONE else ""
        event.add("summary", f"{done}{obligation.title_in(lang)}")
        link = base_url + reverse("web-item", args=[feed.organization_id, item.pk])  # the page, not the JSON
        status = f"{status_word}{'：' if lang == 'zh' else ': '}{status_labels[item.status]}"
        event.add("description", f"{obligation.quote_zh}\n\n{obligation.summary_in(lang)}\n\n{status}\n{link}")
        event.add("url", link)
        event.add("status", "CANCELLED" if item.superseded_at else "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()
