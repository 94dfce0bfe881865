"""URL converters for every URL conf, HTTP and websocket alike (registered in ``CmsConfig.ready``).

What a converter refuses is a 404 (or a refused handshake), never a server error. Django's ``int``
lets through numbers no database column holds (past 2**63 - 1 SQLite raises ``OverflowError`` and
PostgreSQL a ``DataError``), and ``str`` lets through NUL bytes, which PostgreSQL refuses in text.
"""

from __future__ import annotations

#: The largest id a 64-bit primary key holds.
MAX_ID = 2**63 - 1


class IdConverter:
    """``<id:pk>``: a database id, a whole number from 1 to ``MAX_ID``."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValueError("not a database id")  # Django reads this as "no match"
        return number

    def to_url(self, value: int | str) -> str:
        return str(int(value))


class CodeConverter:
    """``<code:code>``: a short code of letters and digits (a live session's join code); the view
    looks it up and normalises its case."""

    regex = "[A-Za-z0-9]{1,12}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return str(value)


CONVERTERS = {"id": IdConverter, "code": CodeConverter}
