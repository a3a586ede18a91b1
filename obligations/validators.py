"""Field rules the models declare, so that model validation (``full_clean`` in the services),
DRF's model serializers, the admin's forms and the web forms all apply the same ones."""

import datetime as dt
import functools
import unicodedata
import zoneinfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from regulations.deadlines import MAX_DATE, MIN_DATE

# Control, format (zero-width, bidirectional overrides), private-use and surrogate characters,
# and line or paragraph separators: invisible in a name, or able to make one look like another.
_INVISIBLE = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}


def visible_text(value: str) -> None:
    """A name a person can read: no control or invisible characters, and not only spaces."""
    bad = sorted({f"U+{ord(ch):04X}" for ch in value if unicodedata.category(ch) in _INVISIBLE})
    if bad:
        raise ValidationError(
            _("Remove the control or invisible characters (%(chars)s)."),
            code="invisible",
            params={"chars": ", ".join(bad[:5])},
        )
    if not value.strip():
        raise ValidationError(_("Give a name with visible characters."), code="blank")


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def iana_timezone(value: str) -> None:
    # Looked up in the list of known zones, never opened as a file: ZoneInfo() would read the
    # file system with whatever the client sent (a 300-character name is an OSError).
    if value not in _time_zones():
        raise ValidationError(
            _("'%(value)s' is not an IANA time zone, e.g. Asia/Shanghai."),
            code="timezone",
            params={"value": value[:100]},
        )


def date_in_range(value: dt.date) -> None:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValidationError(
            _("Must be between %(min)s and %(max)s."),
            code="date_range",
            params={"min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()},
        )


def reminder_days(value) -> None:
    """Days before a due date to remind on: at most ten whole numbers from 0 (the day itself) to 365."""
    if not isinstance(value, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in value):
        raise ValidationError(_("Give whole numbers of days, e.g. 30, 7, 1, 0."), code="days")
    if len(value) > 10:
        raise ValidationError(_("Give at most 10 days."), code="days_count")
    if any(not 0 <= d <= 365 for d in value):
        raise ValidationError(_("Each day must be from 0 (the due date) to 365."), code="days_range")


def outbound_url(value: str) -> None:
    """An address the service may post to (see obligations.http: public hosts only, https)."""
    from .http import Refused, resolve  # the validator runs rarely; the module needs settings

    try:
        resolve(value)
    except Refused as refusal:
        raise ValidationError(str(refusal), code="outbound_url") from None


def endpoint_events(value) -> None:
    """The events an endpoint receives: one or more of the known ones, each once."""
    from .models import Endpoint

    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("Choose at least one event."), code="events")
    unknown = sorted(set(value) - set(Endpoint.Event.values))
    if unknown:
        raise ValidationError(
            _("Unknown events: %(events)s. Known: %(known)s."),
            code="events",
            params={"events": ", ".join(unknown[:5]), "known": ", ".join(Endpoint.Event.values)},
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("Name each event once."), code="events")
