import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from obligations.models import Reminder
from obligations.services import reminders


class Command(BaseCommand):
    help = "One reminder pass by hand: assemble due reminders into digests and send them."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="Act as if it were this time (ISO 8601, e.g. 2027-01-05T09:00+08:00).")
        parser.add_argument("--dry-run", action="store_true", help="List what is due, send and change nothing.")

    def handle(self, *args, now, dry_run, **options):
        moment = timezone.now()
        if now:
            try:
                moment = dt.datetime.fromisoformat(now)
            except ValueError:
                raise CommandError(f"--now: '{now}' is not an ISO 8601 date and time.") from None
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        if dry_run:
            due = Reminder.objects.filter(status=Reminder.Status.PLANNED, send_at__lte=moment).select_related(
                "recipient", "item__obligation__instrument"
            )
            for r in due.order_by("recipient_id", "send_at"):
                obligation = r.item.obligation
                self.stdout.write(
                    f"{r.recipient.email or r.recipient.username}: {r.kind} {r.offset_days:+d}d "
                    f"{obligation.instrument.code}:{obligation.key} due {r.due_date}"
                )
            self.stdout.write(f"{due.count()} reminder(s) due at {moment.isoformat()}; nothing sent (dry run).")
            return
        totals = reminders.dispatch(now=moment)
        self.stdout.write(self.style.SUCCESS(f"Reminder pass at {moment.isoformat()}: {totals}"))
