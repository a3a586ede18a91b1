from django.core.management.base import BaseCommand, CommandError

from regulations.catalog.validation import CatalogInvalid
from regulations.services import catalog_load


class Command(BaseCommand):
    help = "Check and load the bundled regulation catalogue (atomic; unchanged files change nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Check and report the changes, write nothing.")

    def handle(self, *args, dry_run, **options):
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
        counts = {k: v for k, v in result.changes.items() if k != "obligation_keys"}
        verb = "Would load" if dry_run else "Loaded"
        self.stdout.write(self.style.SUCCESS(f"{verb} the catalogue: {counts}"))
        for what, keys in result.changes.get("obligation_keys", {}).items():
            if keys and (dry_run or what != "created"):
                self.stdout.write(f"  obligations {what}: {', '.join(keys)}")
