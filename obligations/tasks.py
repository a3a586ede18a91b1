"""Celery tasks: each takes ids, loads fresh state and calls one service; safe to run twice."""

from celery import shared_task
from django.conf import settings

from .services import accounts, checklist, downloads, outbound, reminders


@shared_task(acks_late=True)
def dispatch_reminders(now: str | None = None) -> dict[str, int]:
    """One pass over due reminders. Beat starts several at once (settings.REMINDER_WORKERS) so
    that the workers share a large backlog: each takes organizations the others have not.
    ``now`` (ISO 8601 with its UTC offset) replays a pass as of another time, as
    ``send_due_reminders --now`` does."""
    return reminders.dispatch(now=reminders.aware(now), chunk=settings.REMINDER_CHUNK)


@shared_task
def start_reminder_dispatch() -> int:
    for _ in range(settings.REMINDER_WORKERS):
        dispatch_reminders.delay()
    return settings.REMINDER_WORKERS


@shared_task(acks_late=True)
def roll_forward() -> dict[str, int]:
    """The daily sync of every checklist: recurring duties get their next periods and dates
    that depend on the day are worked out again, whether or not anyone touched the
    organization. Syncing twice changes nothing the first did not."""
    plans = checklist.checklist_sync_all(cause={"code": "daily"})
    return {"organizations": len(plans), "added": sum(p.summary()["added"] for p in plans)}


# SMTP refusals and outages are retried with backoff; the code is only in the task's arguments
# (the database keeps a digest), so the email cannot be re-sent once the task is gone.
@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=60, retry_backoff_max=3600, max_retries=8)
def send_invitation(invitation_id: int, secret: str) -> bool:
    return accounts.invitation_email_send(invitation_id=invitation_id, secret=secret)


@shared_task(acks_late=True)
def prepare_download(download_id: int) -> None:
    """Make a requested file (a PDF); running twice makes it once."""
    downloads.download_prepare(download_id)


@shared_task
def expire_downloads() -> int:
    return downloads.downloads_expire()


@shared_task(acks_late=True)
def deliver_outbound() -> dict[str, int]:
    """Deliver the webhook and chat events whose time has come; started after each event is
    recorded and every minute by beat (for retries)."""
    return outbound.deliver()
