"""URL converters. Database ids are positive numbers of at most 18 digits (a signed 64-bit
key): a URL naming any other id cannot match, so it answers 404 (JSON under /api/) instead of
reaching the database with a number it cannot store."""

ID_PATTERN = "[0-9]{1,18}"


class IdConverter:
    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
