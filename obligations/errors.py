"""The domain's refusals, in one place. Services raise them; the API's exception handler
(config.api.exception_handler) and the web pages (obligations.web.forms.show_errors) turn them
into a 400 naming the field or a 412 for a stale version; a unique value taken by a racing
writer (IntegrityError) is a 409. Anything else that escapes a service is a programming error:
a logged 500."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


class DomainError(Exception):
    """Base of every refusal a service may raise on purpose."""


class ServiceError(DomainError):
    """A rule of the domain refused the input; ``errors`` maps each field to what is wrong."""

    def __init__(self, field: str = "", message: str = "", *, errors: dict[str, list[str]] | None = None):
        self.errors: dict[str, list[str]] = errors or {field: [message]}
        super().__init__("; ".join(m for ms in self.errors.values() for m in ms))

    @property
    def field(self) -> str:
        return next(iter(self.errors))

    @property
    def message(self) -> str:
        return self.errors[self.field][0]

    @classmethod
    def from_validation(cls, error: ValidationError) -> ServiceError:
        """Django's model validation, with ``__all__`` named as the API names it, ``non_field_errors``."""
        messages = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
        return cls(errors={("non_field_errors" if f == NON_FIELD_ERRORS else f): list(m) for f, m in messages.items()})


class StaleVersion(DomainError):
    """The object changed since the client read it (If-Match, or the form's hidden version)."""


def validated(instance, *, exclude: list[str] | None = None):
    """``full_clean`` (field validators, choices, lengths, unique constraints) as a ServiceError,
    so that every service checks a row the same way before it writes it."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        raise ServiceError.from_validation(error) from None
    return instance
