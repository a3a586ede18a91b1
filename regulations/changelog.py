"""The catalogue's changelog: what each load added, amended and retired, in the reader's words.
A version keeps the keys of the instruments and obligations it touched and, for amended ones,
the fields that changed (regulations.services); they are named here from the catalogue as it is
now, so an obligation retired since is still named."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .models import CatalogVersion, Instrument, Obligation

# What a changed field is to a reader; fields missing here (an order, a flag) say nothing.
FIELD_NAMES = {
    "quote_zh": _("quoted text"),
    "summary_en": _("summary"),
    "summary_zh": _("summary"),
    "conditions": _("conditions"),
    "deadline": _("deadline"),
    "deadline_kind": _("deadline"),
    "actor_zh": _("addressee"),
    "modality": _("modality"),
    "kind": _("kind"),
    "phase_id": _("phase"),
    "provision_id": _("provision"),
    "penalty_provision_id": _("penalty provision"),
    "interpretation": _("interpretation"),
    "interpretation_zh": _("interpretation"),
    "external_facts": _("facts the profile does not hold"),
    "open_question": _("open question"),
    "open_question_zh": _("open question"),
    "awaited_by": _("who waits for it"),
    "roles": _("addressees (roles)"),
    "act_id": _("the same act as other obligations"),
    "retired": _("in the catalogue again"),
    "title_zh": _("title"),
    "title_en": _("title"),
    "short_title_zh": _("title"),
    "short_title_en": _("title"),
    "issuer_zh": _("issuer"),
    "issuer_en": _("issuer"),
    "document_number": _("document number"),
    "jurisdiction_id": _("jurisdiction"),
    "place_basis": _("places that bring an organization under it"),
    "nature": _("nature"),
    "nature_zh": _("nature"),
    "status": _("status"),
    "promulgated": _("dates"),
    "published": _("dates"),
    "effective": _("dates"),
    "expires": _("dates"),
    "validity_note": _("validity note"),
    "source_kind": _("source"),
    "source_origin": _("source"),
    "source_notes": _("source"),
    "source_text": _("source text"),
}
GROUPS = (("added", "created"), ("amended", "updated"), ("retired", "retired"))


def _named(fields: list[str]) -> list[str]:
    names: list[str] = []
    for name in (str(FIELD_NAMES[f]) for f in fields if f in FIELD_NAMES):
        if name not in names:
            names.append(name)
    return names


def changelogs(versions: list[CatalogVersion], lang: str) -> list[dict]:
    """Each version's changes, the instruments and obligations named in ``lang`` (two queries
    for any number of versions)."""
    instrument_codes, refs = set(), set()
    for version in versions:
        for keys in version.changes.get("instrument_keys", {}).values():
            instrument_codes.update(keys)
        for keys in version.changes.get("obligation_keys", {}).values():
            refs.update(keys)
    instrument_codes |= {ref.split(":", 1)[0] for ref in refs}
    instruments = {i.code: i for i in Instrument.objects.filter(code__in=instrument_codes)}
    obligations = {
        f"{o.instrument.code}:{o.key}": o
        for o in Obligation.objects.filter(instrument__code__in=instrument_codes).select_related(
            "instrument", "provision"
        )
        if f"{o.instrument.code}:{o.key}" in refs
    }
    out = []
    for version in versions:
        changes, fields = version.changes, version.changes.get("changed_fields", {})
        entry: dict = {"instruments": {}, "obligations": {}}
        for group, kind in GROUPS:
            entry["instruments"][group] = [
                {
                    "instrument": code,
                    "title": instruments[code].title_zh if lang == "zh" else instruments[code].title_en,
                    "changed": _named(fields.get(code, [])) if group == "amended" else [],
                }
                for code in changes.get("instrument_keys", {}).get(kind, [])
                if code in instruments
            ]
            entry["obligations"][group] = [
                {
                    "obligation": ref,
                    "title": obligations[ref].title_in(lang),
                    "changed": _named(fields.get(ref, [])) if group == "amended" else [],
                }
                for ref in changes.get("obligation_keys", {}).get(kind, [])
                if ref in obligations
            ]
        out.append(entry)
    return out
