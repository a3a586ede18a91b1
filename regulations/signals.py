"""What the catalogue tells the rest of the project, so that ``regulations`` never imports the
apps that depend on it. Receivers return a list of reports; each report has ``counts()`` (a
dict of counts) and ``details()`` (the changes one by one), and reads as a sentence with str().

``catalog_changed`` is sent inside the transaction that loaded a new catalogue, so that what
depends on it changes with it or not at all; with ``dry_run`` that transaction is then rolled
back, and the reports say what would have changed. ``calendar_changed`` is sent when operators
ask for due dates to be recomputed after recording holiday schedules."""

from typing import Any, cast

from django.dispatch import Signal

catalog_changed = Signal()  # keyword arguments: dry_run (bool), cause (dict: {"code": ...})
calendar_changed = Signal()  # keyword arguments: dry_run (bool), cause (dict: {"code": ...})


def reports(signal: Signal, *, dry_run: bool, cause: dict) -> list:
    """Send ``signal`` and gather every receiver's reports."""
    # django-stubs types each response as ``str | None``; receivers of these signals return lists.
    responses = signal.send(sender=None, dry_run=dry_run, cause=cause)
    return [report for _receiver, found in responses for report in cast("list[Any]", found)]
