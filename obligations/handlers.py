"""Receivers of the catalogue's signals (regulations.signals): checklists follow the catalogue
and the holiday calendar. Connected in ObligationsConfig.ready."""

from django.dispatch import receiver

from regulations.models import CatalogVersion
from regulations.signals import calendar_changed, catalog_changed

from .services import outbound
from .services.checklist import checklist_resync, checklist_sync_all


@receiver(catalog_changed, dispatch_uid="obligations.resync_after_catalog")
def resync_after_catalogue(sender, *, dry_run: bool, cause: dict, obligations=None, **kwargs):
    return checklist_resync(obligations, cause=cause, dry_run=dry_run)


@receiver(catalog_changed, dispatch_uid="obligations.tell_endpoints_of_catalogue")
def tell_endpoints_of_catalogue(sender, *, dry_run: bool, **kwargs) -> list:
    if not dry_run:
        outbound.catalogue_changed(CatalogVersion.objects.order_by("-loaded_at", "-id").first())
    return []  # nothing to report: the endpoints are told after the load


@receiver(calendar_changed, dispatch_uid="obligations.resync_after_calendar")
def resync_after_calendar(sender, *, dry_run: bool, cause: dict, **kwargs):
    return checklist_sync_all(cause=cause, dry_run=dry_run)
