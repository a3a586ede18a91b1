from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from obligations.models import Organization
from obligations.services import reminders


class Command(BaseCommand):
    help = "One reminder pass by hand: work out the due reminders, put them into digests and send them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", help="Act as if it were this time (ISO 8601 with its offset, e.g. 2027-01-05T09:00+08:00)."
        )
        parser.add_argument("--dry-run", action="store_true", help="List what is due; send and change nothing.")

    def handle(self, *args, now, dry_run, **options):
        try:
            moment = reminders.aware(now, "--now")
        except ValueError as error:
            raise CommandError(str(error)) from None
        if dry_run:
            with transaction.atomic():
                due = reminders.due_reminders(list(Organization.objects.values_list("pk", flat=True)), moment)
            for send in due:
                user = send.member.membership.user
                item = send.item
                self.stdout.write(
                    f"{user.email}: {send.point.kind} {send.point.offset:+d}d, item {item.pk} due {item.due_date}"
                )
            self.stdout.write(f"{len(due)} reminder(s) due at {moment.isoformat()}; nothing sent (dry run).")
            return
        totals = reminders.dispatch(now=moment)
        self.stdout.write(self.style.SUCCESS(f"Reminder pass at {moment.isoformat()}: {totals}"))
