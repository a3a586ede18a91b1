from django.core.management.base import BaseCommand

from obligations.services.checklist import checklist_sync_all


class Command(BaseCommand):
    help = (
        "Recompute every stored due date, e.g. after recording a year's holiday schedule. Each moved "
        "date is written to the item's history and to the log."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Show what would move, write nothing.")

    def handle(self, *args, dry_run, **options):
        plans = checklist_sync_all(cause={"code": "calendar"}, dry_run=dry_run)
        verb = "would move" if dry_run else "moved"
        for plan in plans:
            for item, wanted, old in plan.redated:
                new = wanted.due.due_date if wanted.due else None
                self.stdout.write(f"{plan.organization}: item {item.pk} {verb} from {old} to {new}")
        total = sum(len(p.redated) for p in plans)
        self.stdout.write(self.style.SUCCESS(f"{total} due date(s) {verb} across {len(plans)} organization(s)."))
