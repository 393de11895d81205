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
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

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

    def _fast_pattern(self) -> str | None:
        """See :func:`fast_pattern`."""
        return None

    def _bulk_check(self) -> Callable[[Sequence[str]], bool] | None:
        """See :func:`bulk_check`."""
        return None

    def _parse_canonical(self, text: str) -> Any:
        """``parse(text)`` for *text* known to be valid and canonical (it was checked while
        reading): the same value, possibly without checking again."""
        return self.parse(text)


@attrs.frozen
class Text(_Base):
    """Free text, optionally limited to *max_length* characters (E206 beyond)."""

    max_length: int | None = None

    def parse(self, text: str) -> str:
        if self.max_length is not None and len(text) > self.max_length:
            raise _refuse("E206", text, f"at most {self.max_length} characters")
        return text

    def _fast_pattern(self) -> str | None:
        if self.max_length is None:
            return "[^\\x00]+"
        return f"[^\\x00]{{1,{self.max_length}}}" if self.max_length > 0 else None


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

    def _fast_pattern(self) -> str | None:
        return self.regex if _is_field_local(self.regex) else None


@attrs.frozen
class CodeTable(_Base):
    """One of a fixed set of codes (E207 otherwise); matching is exact."""

    codes: tuple[str, ...]

    def parse(self, text: str) -> str:
        if text not in self.codes:
            raise _refuse("E207", text, "allowed: " + ", ".join(self.codes))
        return text

    def _fast_pattern(self) -> str | None:
        codes = [re.escape(code) for code in self.codes if code]
        return "|".join(codes) if codes else None


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

    def _fast_pattern(self) -> str | None:
        if self.max_digits < 1:
            return None
        return f"0|[1-9][0-9]{{0,{self.max_digits - 1}}}"


@attrs.frozen
class ValueType(_Base, Generic[T]):
    """A domain type constructed from text, such as ``CustomerNumber`` or ``EmailAddress``."""

    type: Callable[[str], T]

    def parse(self, text: str) -> T:
        try:
            return self.type(text)
        except InvalidValueError as exc:
            raise InvalidValueError(attrs.evolve(exc.message, field=None, raw=text)) from None

    def _fast_pattern(self) -> str | None:
        pattern = getattr(self.type, "_FAST_PATTERN", None)
        return pattern if isinstance(pattern, str) else None

    def _bulk_check(self) -> Callable[[Sequence[str]], bool] | None:
        check = getattr(self.type, "_bulk_valid", None)
        return check if callable(check) else None

    def _parse_canonical(self, text: str) -> T:
        trusted = getattr(self.type, "_trusted", None)
        return trusted(text) if trusted is not None else self.parse(text)


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
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            # a datetime's time would be lost without a word: refused, not cut
            raise TypeError(f"expected a date, got {type(value).__name__}")
        return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"

    def _fast_pattern(self) -> str | None:
        return DATE_PATTERN

    def _parse_canonical(self, text: str) -> dt.date:
        if len(text) == 10:  # DD.MM.YYYY, checked: without strptime
            return dt.date(int(text[6:]), int(text[3:5]), int(text[:2]))
        return self.parse(text)


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

    def _fast_pattern(self) -> str | None:
        return TIMESTAMP_PATTERN


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


# --------------------------------------------------------------------------------------------
# Fast paths: patterns for valid canonical text, and checking a column of texts in bulk

# Day and month that exist in every year (29 February takes the exact path), a year 0001-9999.
_DAY_MONTH = (
    "(?:(?:0[1-9]|1[0-9]|2[0-8])\\.(?:0[1-9]|1[0-2])"
    "|(?:29|30)\\.(?:0[13-9]|1[0-2])|31\\.(?:0[13578]|1[02]))"
)
_YEAR = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
#: Fast pattern of :class:`Date`: ``DD.MM.YYYY`` dates that exist in every year.
DATE_PATTERN = f"{_DAY_MONTH}\\.{_YEAR}"
#: Fast pattern of :class:`TimestampUtc`: ``YYYYMMDDHHMMSS`` of dates that exist in every year.
TIMESTAMP_PATTERN = (
    "[1-9][0-9]{3}"
    "(?:(?:0[1-9]|1[0-2])(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])(?:29|30)|(?:0[13578]|1[02])31)"
    "(?:[01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]"
)


def fast_pattern(converter: object) -> str | None:
    """The regular expression of *converter*'s fast path, or ``None`` when it has none.

    Every text the pattern matches in full is a valid value of the converter **in its
    canonical form** (``converter.canonical(text) == text``) and is not empty; text it does
    not match is checked by the converter as usual, so a pattern changes how fast a reader
    is, never what it accepts.  The readers check a whole column of a batch of records with
    one match over the texts joined by ``"\\x00"`` (a batch with a text that holds ``"\\x00"``
    is checked text by text), so a pattern is *field-local*: no anchors, groups or
    back-references, and lookaheads that cannot pass a ``"\\x00"``.

    >>> fast_pattern(CodeTable(("Herr", "Frau"))), fast_pattern(Integer(3))
    ('Herr|Frau', '0|[1-9][0-9]{0,2}')
    >>> fast_pattern(Pattern("[0-9]{1,8}")), fast_pattern(Pattern("(?!x)[a-z]+")) is None
    ('[0-9]{1,8}', True)
    """
    method = getattr(converter, "_fast_pattern", None)
    if method is None:
        return None
    pattern = method()
    return pattern if isinstance(pattern, str) and pattern else None


_UNSAFE_ESCAPES = frozenset("AZzbBgG0123456789")


def _is_field_local(regex: str) -> bool:
    """*regex* (a :class:`Pattern`'s) can be used as a fast pattern as it is: no anchors, no
    lookaround or other ``(?`` construct but ``(?:``, no back-references, no groups."""
    i, size, in_class = 0, len(regex), False
    while i < size:
        c = regex[i]
        if c == "\\":
            if not in_class and regex[i + 1 : i + 2] in _UNSAFE_ESCAPES:
                return False
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            i += 1
            if regex[i : i + 1] == "^":
                i += 1
            if regex[i : i + 1] == "]":
                i += 1  # a "]" first in a class is literal
            continue
        elif c in "^$" or (
            c == "(" and regex[i + 1 : i + 2] == "?" and regex[i + 2 : i + 3] != ":"
        ):
            return False
        i += 1
    try:
        return re.compile(f"(?:{regex})").groups == 0
    except re.error:
        return False


#: Joins the texts of a column for the bulk check (a text that holds it is checked alone).
_JOIN = "\x00"
#: What a converter made of a text: canonical text (the text itself when refused), value,
#: and the refusal (``None`` when valid).
Hit: TypeAlias = "tuple[str, Any, Message | None]"
_EMPTY = Message("E208", detail="empty value")
#: At most this many texts are remembered per column (a cache that is full is emptied).
_CACHE_LIMIT = 1024
#: A column whose texts hardly repeat over this many rows stops remembering them.
_ADAPT_EVERY = 128


def bulk_matcher(pattern: str, required: bool, flags: int = 0) -> Callable[[str], Any]:
    """``fullmatch`` of a regex for texts matching *pattern* joined by ``"\\x00"``; empty
    texts match unless *required*.

    >>> match = bulk_matcher("[0-9]{2}", required=False)
    >>> bool(match("12\\x00\\x0034")), bool(match("12\\x003"))
    (True, False)
    """
    item = f"(?!\\x00|\\Z)(?:{pattern})" if required else f"(?:{pattern})?"
    return re.compile(f"{item}(?:\\x00{item})*", flags).fullmatch


def bulk_check(
    converter: object, pattern: str | None = None, required: bool = False, flags: int = 0
) -> Callable[[Sequence[str]], bool] | None:
    """A check of many texts at once for a column of *converter*: ``True`` when every text is
    valid and canonical (empty texts only where not *required*), ``False`` when that is not
    certain (then check them one by one); ``None`` when there is none.

    The converter's own (a domain type's ``_bulk_valid``, such as email addresses') where it
    has one, else one regex match of *pattern* (default: :func:`fast_pattern`) over the texts
    joined by ``"\\x00"``.

    >>> check = bulk_check(Integer(3))
    >>> check(["1", "", "120"]), check(["1", "012"])
    (True, False)
    """
    method = getattr(converter, "_bulk_check", None)
    own: Callable[[Sequence[str]], bool] | None = method() if method is not None else None
    if own is not None:
        if not required:
            return own

        def non_empty(texts: Sequence[str]) -> bool:
            return "" not in texts and own(texts)

        return non_empty
    pattern = pattern or fast_pattern(converter)
    if pattern is None:
        return None
    matcher = bulk_matcher(pattern, required, flags)
    join = _JOIN.join

    def by_pattern(texts: Sequence[str]) -> bool:
        joined = join(texts)
        return joined.count(_JOIN) == len(texts) - 1 and matcher(joined) is not None

    return by_pattern


def _convert(converter: Converter, text: str) -> Hit:
    """*text* through *converter*: (canonical text, value, None) or (text, None, refusal)."""
    if type(converter) is ValueType:
        # the common case, without two layers of calls: the domain type's constructor checks,
        # str() gives the canonical text (what ValueType.parse and .format do)
        try:
            value = converter.type(text)
        except InvalidValueError as exc:
            return text, None, exc.message
        return str(value), value, None
    try:
        value = converter.parse(text)
    except InvalidValueError as exc:
        return text, None, exc.message
    return converter.format(value), value, None


class ColumnCheck:
    """The readers' bulk check of one column (a converter, whether the column is required, an
    optional fast pattern; see :func:`bulk_check`): :meth:`check` a batch of texts at once,
    :meth:`lookup` one.

    Real files repeat most values (salutations, dates, advisors): the texts found valid and
    canonical are remembered (bounded), so a batch costs two set operations.  A column whose
    texts hardly repeat (customer numbers, addresses) stops remembering after a sample and is
    checked in bulk (:func:`bulk_check`, typically one regex match per batch).  Whatever the
    path, the answer is the converter's.

    >>> from emma_osplus import CustomerNumber
    >>> check = ColumnCheck(ValueType(CustomerNumber), required=True, pattern="[0-9]{10}")
    >>> check.check(("0000004711", "0000004712")) is None
    True
    >>> bad, canon = check.check(("0000004711", "4711", "12x", ""))
    >>> sorted(bad), canon
    (['', '12x'], {'4711': '0000004711'})
    >>> check.lookup("12x")[2].code
    'E202'
    """

    __slots__ = (
        "_bulk",
        "_cache",
        "_caching",
        "_good",
        "_misses",
        "_recent",
        "_seen",
        "converter",
        "required",
    )

    def __init__(
        self, converter: Converter, required: bool, pattern: str | None = None, flags: int = 0
    ) -> None:
        self.converter = converter
        self.required = required
        self._bulk = bulk_check(converter, pattern, required, flags)
        self._caching = True
        self._cache: dict[str, Hit] = {}
        self._good: set[str] = set() if required else {""}
        self._recent: dict[str, Hit] = {}
        self._seen = 0
        self._misses = 0

    def check(self, texts: Sequence[str]) -> tuple[set[str], dict[str, str]] | None:
        """``None`` when every text is valid and canonical (or empty in an optional column);
        else the refused texts (empty ones included where required) and the canonical text
        of each valid text that is not canonical."""
        todo: Sequence[str] | set[str]
        if self._caching:
            self._seen += len(texts)
            if self._good.issuperset(texts):
                return None
            todo = set(texts).difference(self._good)
            self._misses += len(todo)
            if self._seen >= _ADAPT_EVERY:
                if self._misses * 2 > self._seen:
                    self._caching = False  # hardly repeats: stop remembering
                    self._cache.clear()
                    self._good = set() if self.required else {""}
                self._seen = self._misses = 0
        else:
            todo = texts
        bulk = self._bulk
        if bulk is not None and bulk(todo if isinstance(todo, Sequence) else tuple(todo)):
            if self._caching:
                self._remember(todo)
            return None
        return self._one_by_one(texts)

    def _remember(self, texts: set[str] | Sequence[str]) -> None:
        good = self._good
        if len(good) + len(texts) > _CACHE_LIMIT:
            good.clear()
            if not self.required:
                good.add("")
        good.update(texts)

    def _one_by_one(self, texts: Sequence[str]) -> tuple[set[str], dict[str, str]] | None:
        bad: set[str] = set()
        canon: dict[str, str] = {}
        good = self._good
        self._recent.clear()
        fresh: list[str] = []
        for text in dict.fromkeys(texts):  # first-occurrence order: the converter's calls too
            if text in good:
                continue
            canonical, _, refused = self.lookup(text)
            if refused is not None:
                bad.add(text)
            elif canonical != text:
                canon[text] = canonical
            else:
                fresh.append(text)
        if fresh and self._caching:
            self._remember(fresh)
        return (bad, canon) if bad or canon else None

    def lookup(self, text: str) -> Hit:
        """What the converter makes of *text* (remembered for the current batch, and longer
        while the column repeats); the empty text is ``("", None, E208 or None)``."""
        hit = self._recent.get(text)
        if hit is None:
            hit = self._cache.get(text)
            if hit is None:
                if not text:
                    hit = ("", None, _EMPTY if self.required else None)
                else:
                    hit = _convert(self.converter, text)
                if self._caching:
                    if len(self._cache) >= _CACHE_LIMIT:
                        self._cache.clear()
                    self._cache[text] = hit
            self._recent[text] = hit
        return hit


TEXT = Text()
DATE = Date()
TIMESTAMP_UTC = TimestampUtc()
DATETIME_OFFSET = DateTimeOffset()
