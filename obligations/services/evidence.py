"""Evidence on checklist items: a note, a link or a file, checked here for every caller (the
API, the pages, the admin): the file's size, its type by content (not only by name), a file
name safe to show and to send back in Content-Disposition, and the row's own field rules."""

import codecs
import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from ..errors import ServiceError, validated
from ..models import ChecklistItem, Evidence, ItemHistory
from .checklist import checklist_sync

# Extension -> the leading bytes a genuine file of that type starts with (None: UTF-8 text).
SIGNATURES: dict[str, tuple[str, bytes | None]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
    ".zip": ("application/zip", b"PK\x03\x04"),
    ".txt": ("text/plain; charset=utf-8", None),
    ".csv": ("text/csv; charset=utf-8", None),
}


class UploadRejected(ValueError):
    pass


@dataclass
class CheckedUpload:
    file: UploadedFile
    safe_name: str
    content_type: str
    size: int
    sha256: str


def safe_filename(name: str) -> str:
    """The last path component, without control characters or characters that mean something
    to shells or headers; Chinese and other letters are kept."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/")
    name = PurePosixPath(name).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'[<>:"/|?*;\x00]', "_", name).strip(" .")
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 150 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:150]
    return name or "evidence"


def check_upload(upload: UploadedFile) -> CheckedUpload:
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise UploadRejected(f"The file is {upload.size} bytes; the limit is {limit} bytes.")
    name = safe_filename(upload.name or "")
    extension = PurePosixPath(name.lower()).suffix
    if extension not in SIGNATURES:
        allowed = ", ".join(sorted(SIGNATURES))
        raise UploadRejected(f"Files of type '{extension or 'none'}' are not accepted; allowed: {allowed}.")
    content_type, signature = SIGNATURES[extension]
    digest, head, size = hashlib.sha256(), b"", 0
    # Incremental: a character split between two chunks is still one valid character.
    text = codecs.getincrementaldecoder("utf-8")() if signature is None else None
    try:
        for chunk in upload.chunks():
            if not head:
                head = chunk[:16]
            digest.update(chunk)
            size += len(chunk)
            if text:
                text.decode(chunk)
        if text:
            text.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UploadRejected(f"A {extension} file must be UTF-8 text.") from None
    if signature is not None and not head.startswith(signature):
        raise UploadRejected(f"The content is not a {extension} file.")
    upload.seek(0)
    return CheckedUpload(upload, name, content_type, size, digest.hexdigest())


@transaction.atomic
def evidence_add(
    item: ChecklistItem,
    *,
    actor,
    evidence_date: dt.date,
    note: str = "",
    url: str = "",
    file=None,
    valid_until: dt.date | None = None,
) -> Evidence:
    """Attach evidence to an item and record it in the item's history. ``file`` is an uploaded
    file as Django receives it; it is checked before anything is written."""
    if not (note.strip() or url.strip() or file):
        raise ServiceError("note", "Give a note, a link or a file.")
    try:
        upload = check_upload(file) if file else None
    except UploadRejected as error:
        raise ServiceError("file", str(error)) from None
    evidence = Evidence(
        item=item, note=note, url=url.strip(), evidence_date=evidence_date, valid_until=valid_until, uploaded_by=actor
    )
    validated(evidence, exclude=["file"])
    if upload is not None:
        evidence.filename, evidence.content_type = upload.safe_name, upload.content_type
        evidence.size, evidence.sha256 = upload.size, upload.sha256
        evidence.file.save(upload.safe_name, upload.file, save=False)
    # Evidence on a done item starts, moves or ends its renewal when it expires, or when it
    # replaces evidence that did; other evidence leaves the checklist as it is.
    renewing = item.status == ChecklistItem.Status.DONE and (
        valid_until is not None or item.evidence.filter(valid_until__isnull=False).exists()
    )
    evidence.save()
    _record(evidence, actor)
    if renewing:
        checklist_sync(item.organization, cause={"code": "renewal"})
    return evidence


@transaction.atomic
def evidence_share(evidence: Evidence, items: list[ChecklistItem], *, actor) -> list[Evidence]:
    """Attach one piece of evidence to more items of its organization (a filing receipt that
    meets the same act's duties in several instruments): each gets its own record of it, the
    same file, dates and SHA-256, and a history entry. ``items`` must be current, not the
    evidence's own, and not hold it already."""
    if not items:
        raise ServiceError("items", _("Choose at least one item."))
    for item in items:
        if item.organization_id != evidence.item.organization_id:
            raise ServiceError("items", _("No such item."))
        if item.superseded_at is not None:
            raise ServiceError("items", _("An item that was set aside cannot take evidence."))
        if item.pk == evidence.item_id or _holds(item, evidence):
            raise ServiceError("items", _("An item already holds this evidence."))
    copies = []
    for item in items:
        copy = Evidence(
            item=item,
            note=evidence.note,
            url=evidence.url,
            file=evidence.file.name,  # the same stored file: evidence is never edited or deleted
            filename=evidence.filename,
            content_type=evidence.content_type,
            size=evidence.size,
            sha256=evidence.sha256,
            evidence_date=evidence.evidence_date,
            valid_until=evidence.valid_until,
            uploaded_by=actor,
        )
        copy.save()
        _record(copy, actor)
        copies.append(copy)
    if any(item.status == ChecklistItem.Status.DONE for item in items) and evidence.valid_until:
        checklist_sync(evidence.item.organization, cause={"code": "renewal"})
    return copies


def _record(evidence: Evidence, actor) -> None:
    """The item's history entry for evidence added to it: what the person gave, in their words
    (the file's name, the link, or the note itself)."""
    label = evidence.filename or evidence.url or evidence.note
    ItemHistory.objects.create(item=evidence.item, actor=actor, action=ItemHistory.Action.EVIDENCE_ADDED, note=label)


def _holds(item: ChecklistItem, evidence: Evidence) -> bool:
    same = Evidence.objects.filter(item=item, evidence_date=evidence.evidence_date, sha256=evidence.sha256)
    return same.filter(file=evidence.file.name, url=evidence.url, note=evidence.note).exists()
