"""Converters: the declarative part of a layout that turns field text into values and back.

A converter has ``parse(text) -> value`` (raising :class:`~emma_osplus.InvalidValueError` with
the right message code) and ``format(value) -> str`` (the canonical text).  The engines call
``canonical(text) == format(parse(text))`` for every field they read, so a reader yields
canonical text and a writer writes it.  Empty text is handled by the engines (required or not)
and never reaches a converter.

>>> from emma_osplus.converters import DATE, CodeTable, ValueType
>>> from emma_osplus import CustomerNumber
>>> DATE.canonical("1.2.2026")
Traceback (most recent call last):
...
emma_osplus._errors.InvalidValueError: E205: Ungültiges Datum oder ungültige Uhrzeit (expected DD.MM.YYYY)
>>> DATE.canonical("01.02.2026")
'01.02.2026'
>>> ValueType(CustomerNumber).canonical("4711")
'0000004711'
>>> CodeTable(("Herr", "Frau")).canonical("Fraulein")
Traceback (most recent call last):
...
emma_osplus._errors.InvalidValueError: E207: Wert nicht in der Codetabelle des Feldes (allowed: Herr, Frau)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import attrs

from ._errors import InvalidValueError
from ._messages import Message

__all__ = [
    "DATE",
    "DATETIME_OFFSET",
    "TEXT",
    "TIMESTAMP_UTC",
    "CodeTable",
    "Converter",
    "Date",
    "DateTimeOffset",
    "Integer",
    "Pattern",
    "Text",
    "TimestampUtc",
    "ValueType",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Converter(Protocol):
    """What a layout field needs: text to value, value to canonical text."""

    def parse(self, text: str) -> Any:
        """The value for *text*; raises :class:`InvalidValueError` with a message code."""

    def format(self, value: Any) -> str:
        """The canonical text of *value*."""

    def canonical(self, text: str) -> str:
        """``format(parse(text))``."""


def _refuse(code: str, text: str, detail: str) -> InvalidValueError:
    return InvalidValueError(Message(code, raw=text, detail=detail))


class _Base:
    def parse(self, text: str) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def format(self, value: Any) -> str:
        return str(value)

    def canonical(self, text: str) -> str:
        return self.format(self.parse(text))


@attrs.frozen
class Text(_Base):
    """Free text, optionally limited to *max_length* characters (E206 beyond)."""

    max_length: int | None = None

    def parse(self, text: str) -> str:
        if self.max_length is not None and len(text) > self.max_length:
            raise _refuse("E206", text, f"at most {self.max_length} characters")
        return text


@attrs.frozen
class Pattern(_Base):
    """Text that must match *regex* in full (*code* when it does not, E209 by default)."""

    regex: str
    code: str = "E209"
    description: str = ""
    _compiled: re.Pattern[str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_compiled", re.compile(self.regex))

    def parse(self, text: str) -> str:
        if not self._compiled.fullmatch(text):
            raise _refuse(self.code, text, self.description or f"expected {self.regex}")
        return text


@attrs.frozen
class CodeTable(_Base):
    """One of a fixed set of codes (E207 otherwise); matching is exact."""

    codes: tuple[str, ...]

    def parse(self, text: str) -> str:
        if text not in self.codes:
            raise _refuse("E207", text, "allowed: " + ", ".join(self.codes))
        return text


@attrs.frozen
class Integer(_Base):
    """A non-negative decimal integer of at most *max_digits* digits (code E209 otherwise)."""

    max_digits: int
    code: str = "E209"

    def parse(self, text: str) -> int:
        if not (text.isascii() and text.isdigit() and len(text) <= self.max_digits):
            raise _refuse(self.code, text, f"expected 1 to {self.max_digits} digits")
        return int(text)

    def format(self, value: Any) -> str:
        return str(int(value))


@attrs.frozen
class ValueType(_Base, Generic[T]):
    """A domain type constructed from text, such as ``CustomerNumber`` or ``EmailAddress``."""

    type: Callable[[str], T]

    def parse(self, text: str) -> T:
        try:
            return self.type(text)
        except InvalidValueError as exc:
            raise InvalidValueError(attrs.evolve(exc.message, field=None, raw=text)) from None


_DATE_RE = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{4}")


@attrs.frozen
class Date(_Base):
    """A calendar date ``DD.MM.YYYY`` (E205 otherwise)."""

    def parse(self, text: str) -> dt.date:
        if _DATE_RE.fullmatch(text):
            try:
                return dt.datetime.strptime(text, "%d.%m.%Y").date()
            except ValueError:
                pass
        raise _refuse("E205", text, "expected DD.MM.YYYY")

    def format(self, value: Any) -> str:
        if not isinstance(value, dt.date):
            raise TypeError(f"expected a date, got {type(value).__name__}")
        return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


_STAMP_RE = re.compile(r"[0-9]{14}")


@attrs.frozen
class TimestampUtc(_Base):
    """A UTC timestamp ``YYYYMMDDHHMMSS`` (fixed-width records, file names); E205 otherwise.

    Parses to an aware :class:`datetime.datetime` in UTC; formats any aware datetime in UTC.
    """

    def parse(self, text: str) -> dt.datetime:
        if _STAMP_RE.fullmatch(text):
            try:
                naive = dt.datetime.strptime(text, "%Y%m%d%H%M%S")
            except ValueError:
                pass
            else:
                return naive.replace(tzinfo=dt.timezone.utc)
        raise _refuse("E205", text, "expected YYYYMMDDHHMMSS (UTC)")

    def format(self, value: Any) -> str:
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise TypeError("expected an aware datetime")
        utc = value.astimezone(dt.timezone.utc)
        return f"{utc.year:04d}{utc:%m%d%H%M%S}"


_ISO_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?"
    r"(?:(Z)|([+-])([0-9]{2}):([0-9]{2}))"
)


@attrs.frozen
class DateTimeOffset(_Base):
    """An ISO 8601 / ``xs:dateTime`` timestamp with an offset (``Z`` or ``±HH:MM``); E205
    otherwise.  The offset is kept; ``Z`` is written as ``+00:00``."""

    def parse(self, text: str) -> dt.datetime:
        # Parsed from the groups, not with fromisoformat: Python 3.10 accepts only 3 or 6
        # fraction digits there.
        match = _ISO_RE.fullmatch(text)
        if match:
            year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
            micro = int((match.group(7) or "0").ljust(6, "0"))
            offset = dt.timedelta(0)
            if not match.group(8):
                offset = dt.timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
                if match.group(9) == "-":
                    offset = -offset
            try:
                tz = dt.timezone(offset)
                return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
            except ValueError:
                pass
        raise _refuse("E205", text, "expected YYYY-MM-DDThh:mm:ss with offset")

    def format(self, value: Any) -> str:
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise TypeError("expected an aware datetime")
        return value.isoformat()


TEXT = Text()
DATE = Date()
TIMESTAMP_UTC = TimestampUtc()
DATETIME_OFFSET = DateTimeOffset()
