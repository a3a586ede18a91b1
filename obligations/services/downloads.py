"""Files prepared in the background: the PDFs of the audit pack and of the checklist, which
WeasyPrint takes seconds to minutes to lay out (bench/README.md: a 2,000-item audit pack about
40 s), longer than a web request may take. A request is checked at once (the same rules as the
spreadsheet downloads), then a Celery task makes the file; the person polls and downloads it."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from types import SimpleNamespace

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import auditpack
from ..errors import ServiceError
from ..exports import checklist_pdf
from ..filters import ChecklistFilter
from ..models import ChecklistItem, Download, Organization
from .checklist import organization_today

logger = logging.getLogger(__name__)

DOWNLOAD_DAYS = 7  # how long a prepared file is kept


def download_request(
    organization: Organization, *, user, kind: str, lang: str, as_of: dt.date | None = None, query: str = ""
) -> Download:
    """Ask for a file; it is made once the request is committed. ``query``: the checklist's
    filters, search and order as in its address (``status=open&q=备案``)."""
    if kind not in Download.Kind.values:
        raise ServiceError("kind", _("Choose the audit pack or the checklist."))
    if lang not in ("zh", "en"):
        raise ServiceError("lang", _("Choose Chinese or English."))
    params: dict = {"lang": lang}
    if kind == Download.Kind.AUDIT_PACK:
        as_of = as_of or organization_today(organization)
        auditpack.check_date(organization, as_of)
        params["as_of"] = as_of.isoformat()
    else:
        checklist_items(organization, user, query)  # a bad filter is refused now, not in the task
        params["query"] = query
    download = Download.objects.create(organization=organization, requested_by=user, kind=kind, params=params)
    from ..tasks import prepare_download  # tasks import the services

    transaction.on_commit(lambda: prepare_download.delay(download.pk))
    return download


def checklist_items(organization: Organization, user, query: str):
    """The checklist's items as its list shows them for ``query``, for the export."""
    request = SimpleNamespace(user=user, organization=organization, organization_today=organization_today(organization))
    items = ChecklistItem.objects.filter(organization=organization).select_related(
        "obligation__instrument", "obligation__provision", "obligation__phase", "event", "assignee", "completed_by"
    )
    filterset = ChecklistFilter(QueryDict(query), queryset=items, request=request)
    if not filterset.is_valid():
        raise ServiceError(
            errors={"query": [f"{name}: {' '.join(messages)}" for name, messages in filterset.errors.items()]}
        )
    return filterset.qs.annotate(evidence_count=Count("evidence"))


def download_prepare(download_id: int) -> None:
    """Make the file of a pending download; a failure is recorded on it (and logged)."""
    download = (
        Download.objects.select_related("organization", "requested_by")
        .filter(pk=download_id, status=Download.Status.PENDING)
        .first()
    )
    if download is None:  # made already (a task run twice), or deleted
        return
    try:
        content, name = _make(download)
    except Exception as error:  # whatever went wrong, the person must be told
        logger.exception("download %s failed", download.pk)
        Download.objects.filter(pk=download.pk).update(
            status=Download.Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000], finished_at=timezone.now()
        )
        return
    download.file.save(name, ContentFile(content), save=False)
    download.filename, download.size = name, len(content)
    download.status, download.finished_at = Download.Status.READY, timezone.now()
    download.save()


def _make(download: Download) -> tuple[bytes, str]:
    organization, params = download.organization, download.params
    lang, slug = params["lang"], organization.slug
    if download.kind == Download.Kind.AUDIT_PACK:
        as_of = dt.date.fromisoformat(params["as_of"])
        pack = auditpack.build(organization, as_of=as_of, lang=lang)
        return auditpack.pack_pdf(pack), f"audit-pack-{slug}-{as_of.isoformat()}-{lang}.pdf"
    items = checklist_items(organization, download.requested_by, params.get("query", ""))
    zone = zoneinfo.ZoneInfo(organization.timezone)
    content = checklist_pdf(
        items, lambda path: settings.SITE_URL + path, lang=lang, zone=zone, organization=organization
    )
    return content, f"checklist-{slug}-{lang}.pdf"


def downloads_expire(now: dt.datetime | None = None) -> int:
    """Delete the downloads older than DOWNLOAD_DAYS, with their files."""
    old = Download.objects.filter(created_at__lt=(now or timezone.now()) - dt.timedelta(days=DOWNLOAD_DAYS))
    for download in old.exclude(file=""):
        download.file.delete(save=False)
    return old.delete()[0]
