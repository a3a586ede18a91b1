from django.core.management.base import BaseCommand, CommandError

from regulations.catalog.validation import CatalogInvalid
from regulations.services import KEY_LISTS, catalog_load


class Command(BaseCommand):
    help = (
        "Check and load the bundled regulation catalogue in one transaction, then re-sync the checklists the "
        "change can reach, one organization at a time (unchanged files change nothing)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Check and report the changes, write nothing.")
        parser.add_argument(
            "--plan",
            action="store_true",
            help="Write nothing; show per organization which checklist items would be added, superseded or re-dated.",
        )

    def handle(self, *args, dry_run, plan, **options):
        dry_run = dry_run or plan
        try:
            result = catalog_load(dry_run=dry_run)
        except CatalogInvalid as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"{len(exc.errors)} problem(s) in the catalogue; the database keeps the previous catalogue."
            ) from None
        if result.unchanged:
            self.stdout.write(f"Catalogue unchanged (version {result.version.content_hash[:12]}); nothing written.")
            return
        counts = {k: v for k, v in result.changes.items() if k not in KEY_LISTS}
        verb = "Would load" if dry_run else "Loaded"
        self.stdout.write(self.style.SUCCESS(f"{verb} the catalogue: {counts}"))
        for what, keys in result.changes.get("obligation_keys", {}).items():
            if keys and (dry_run or what != "created"):
                self.stdout.write(f"  obligations {what}: {', '.join(keys)}")
        verb = "would change" if dry_run else "changed"
        for report in result.reports:
            counts = ", ".join(f"{k} {v}" for k, v in report.counts().items())
            self.stdout.write(f"  {report} {verb}: {counts}")
            if plan:
                for what, entries in report.details().items():
                    for entry in entries:
                        self.stdout.write(f"    {what}: {entry}")
