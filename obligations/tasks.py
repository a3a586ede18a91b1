"""Celery tasks: each takes ids, loads fresh state and calls one service; safe to run twice."""

import datetime as dt

from celery import shared_task
from django.conf import settings

from .services import accounts, reminders


@shared_task(acks_late=True)
def dispatch_reminders(now: str | None = None) -> dict[str, int]:
    """One pass over due reminders. Beat starts several at once (settings.REMINDER_WORKERS) so
    that the workers share a large backlog: each takes rows the others have not. ``now`` (ISO
    8601) replays a pass as of another time, as ``send_due_reminders --now`` does."""
    moment = dt.datetime.fromisoformat(now) if now else None
    return reminders.dispatch(now=moment, chunk=settings.REMINDER_CHUNK)


@shared_task
def start_reminder_dispatch() -> int:
    for _ in range(settings.REMINDER_WORKERS):
        dispatch_reminders.delay()
    return settings.REMINDER_WORKERS


# SMTP refusals and outages are retried with backoff; the code is only in the task's arguments
# (the database keeps a digest), so the email cannot be re-sent once the task is gone.
@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=60, retry_backoff_max=3600, max_retries=8)
def send_invitation(invitation_id: int, secret: str) -> bool:
    return accounts.invitation_email_send(invitation_id=invitation_id, secret=secret)
