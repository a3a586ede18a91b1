"""Errors the domain services raise for the API and the web pages to show."""


class ServiceError(Exception):
    """A rule of the domain refused the change; ``field`` names what to correct."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message
