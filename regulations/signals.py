"""What the catalogue tells the rest of the project, so that ``regulations`` never imports the
apps that depend on it. Receivers return a list of reports; each report has ``counts()`` (a
dict of counts) and ``details()`` (the changes one by one), and reads as a sentence with str().

``catalog_changed`` is sent once a new catalogue is committed, with the ids of the obligations
whose evaluation may have changed (None: any may have), so that what depends on it follows
without holding the catalogue's transaction; with ``dry_run`` it is sent inside that transaction
before it is rolled back, and the reports say what would have changed. ``calendar_changed`` is
sent when operators ask for due dates to be recomputed after recording holiday schedules."""

from typing import Any, cast

from django.dispatch import Signal

# keyword arguments: dry_run (bool), cause (dict: {"code": ...}), obligations (frozenset of ids or None)
catalog_changed = Signal()
calendar_changed = Signal()  # keyword arguments: dry_run (bool), cause (dict: {"code": ...})


def reports(signal: Signal, *, dry_run: bool, cause: dict, **kwargs: Any) -> list:
    """Send ``signal`` and gather every receiver's reports."""
    # django-stubs types each response as ``str | None``; receivers of these signals return lists.
    responses = signal.send(sender=None, dry_run=dry_run, cause=cause, **kwargs)
    return [report for _receiver, found in responses for report in cast("list[Any]", found)]
