"""The domain's refusals, in one place. Services raise them; the API's exception handler
(config.api.exception_handler) and the web pages (obligations.web.forms.show_errors) turn them
into a 400 naming the field, a 412 for a stale version, or a 409 for a real conflict. Anything
else that escapes a service is a programming error: a logged 500."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


class DomainError(Exception):
    """Base of every refusal a service may raise on purpose."""


class ServiceError(DomainError):
    """A rule of the domain refused the input; ``errors`` maps each field to what is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.errors: dict[str, list[str]] = {field: [message]}

    @property
    def field(self) -> str:
        return next(iter(self.errors))

    @property
    def message(self) -> str:
        return self.errors[self.field][0]

    @classmethod
    def from_validation(cls, error: ValidationError) -> ServiceError:
        """Django's model validation, with ``__all__`` renamed to the API's ``non_field_errors``."""
        messages = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
        refusal = cls.__new__(cls)
        DomainError.__init__(refusal, "; ".join(m for ms in messages.values() for m in ms))
        refusal.errors = {
            ("non_field_errors" if field == NON_FIELD_ERRORS else field): list(ms) for field, ms in messages.items()
        }
        return refusal


class StaleVersion(DomainError):
    """The object changed since the client read it (If-Match, or the form's hidden version)."""


class Conflict(DomainError):
    """The change collides with data that exists (two writers racing for one unique value)."""


def validated(instance, *, exclude: list[str] | None = None):
    """``full_clean`` (field validators, choices, lengths, unique constraints) as a ServiceError,
    so that every service checks a row the same way before it writes it."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        raise ServiceError.from_validation(error) from None
    return instance
