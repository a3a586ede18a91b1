from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from regulations.catalog import drafting
from regulations.catalog.validation import CATALOG_DIR, CatalogInvalid, read_catalog


class Command(BaseCommand):
    help = (
        "Draft a catalogue entry from a source text: provisions, the duty sentences as proposed obligations "
        "(role, modality, kind, deadline), marked 'review: unreviewed' so that the loader refuses it until a "
        "curator has checked it. With --measure, draft every bundled instrument and compare with the catalogue."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", nargs="?", help="The source text file (UTF-8).")
        parser.add_argument("--code", help="The instrument's code, e.g. cn-example-measures-2027.")
        parser.add_argument("--out", help="Write the draft here instead of to standard output.")
        parser.add_argument("--measure", action="store_true", help="Score the drafter on the bundled instruments.")

    def handle(self, *args, source, code, out, measure, **options):
        if not measure:  # the arguments first: a mistake is named before the catalogue is read
            if not source or not code:
                raise CommandError("Give the source file and --code (or --measure).")
            if problem := drafting.code_problem(code):
                raise CommandError(f"--code: {problem}")
            try:
                text = Path(source).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"source: cannot read {source}: {error}") from None
        try:
            catalog = read_catalog(CATALOG_DIR)
        except CatalogInvalid as error:
            raise CommandError(f"The bundled catalogue has problems:\n{error}") from None
        if measure:
            self.stdout.write(drafting.score_table(drafting.measure(catalog)))
            return
        draft = drafting.draft_yaml(text, code, catalog.vocabulary.roles)
        if out:
            Path(out).write_text(draft, encoding="utf-8")
            self.stdout.write(f"Draft written to {out}; review it before it can be loaded.")
        else:
            self.stdout.write(draft, ending="")
