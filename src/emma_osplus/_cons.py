"""Consent changes (``CONS``): the nightly file from EMMA to OSPlus, also imported by hand.

UTF-8 with BOM (read with or without; bytes that are not UTF-8 are E101, the encoding is never
guessed), semicolon-separated, the header
``KUNDENNUMMER;EMAIL;STATUS;ZEITPUNKT;QUELLE;NACHWEIS`` (every column, no others; any order is
read, the canonical order is written).  ``STATUS`` and ``QUELLE`` are code tables (E207),
``ZEITPUNKT`` an ISO 8601 timestamp with offset (E205), ``NACHWEIS`` free text of at most 500
characters (E206); ``NACHWEIS`` may be empty, every other value is required (E208).

The files are opened in spreadsheets, so every field that starts with ``=``, ``+``, ``-``,
``@``, tab, CR or ``'`` is written with one extra leading ``'`` (:func:`escape_formula`), and
the reader removes exactly one leading ``'`` from every field (:func:`unescape_formula`).  The
round trip is lossless and no formula runs.  ``Record.values`` hold the values themselves
(unescaped); writing escapes them again.

>>> import datetime as dt
>>> change = ConsentChange("4711", "anna@example.de", "WIDERSPRUCH",
...                        dt.datetime(2026, 11, 3, 10, 15, tzinfo=dt.timezone(dt.timedelta(hours=1))),
...                        "BRIEF", "=Brief vom 02.11.")
>>> data = write_cons([change])
>>> data
b"\\xef\\xbb\\xbfKUNDENNUMMER;EMAIL;STATUS;ZEITPUNKT;QUELLE;NACHWEIS\\r\\n0000004711;anna@example.de;WIDERSPRUCH;2026-11-03T10:15:00+01:00;BRIEF;'=Brief vom 02.11.\\r\\n"
>>> [record] = read_cons(data)
>>> record.values["NACHWEIS"]
'=Brief vom 02.11.'
>>> ConsentChange.from_record(record) == change
True
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, TypeVar

import attrs

from ._consent import EVIDENCE_MAX, ConsentKind, ConsentSource
from ._converters import DATETIME_OFFSET, Text, ValueType
from ._csv import Column, CsvLayout, CsvReader, escape_formula, iter_csv, read_csv, unescape_formula
from ._email import EMAIL, EmailAddress
from ._encoding import Source
from ._errors import InvalidValueError
from ._messages import Message, mask_addresses
from ._records import Mode, Record
from ._types import CustomerNumber

__all__ = [
    "CONS",
    "CONS_COLUMNS",
    "ConsentChange",
    "EnumCodes",
    "escape_formula",
    "iter_cons",
    "read_cons",
    "unescape_formula",
    "write_cons",
]

E = TypeVar("E", bound=enum.Enum)


@attrs.frozen
class EnumCodes:
    """Layout converter for a code table whose codes are the values of an :class:`enum.Enum`:
    the member in, its value out; E207 for anything else (matching is exact).

    >>> EnumCodes(ConsentKind).parse("ABMELDUNG")
    <ConsentKind.UNSUBSCRIBE: 'ABMELDUNG'>
    >>> EnumCodes(ConsentKind).canonical("abmeldung")
    Traceback (most recent call last):
    ...
    emma_osplus._errors.InvalidValueError: E207: ... (allowed: EINWILLIGUNG, ABMELDUNG, WIDERSPRUCH, HARTBOUNCE)
    """

    enum: type[enum.Enum]

    def parse(self, text: str) -> Any:
        try:
            return self.enum(text)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in self.enum)
            raise InvalidValueError(
                Message("E207", raw=text, detail=f"allowed: {allowed}")
            ) from None

    def format(self, value: Any) -> str:
        return str(self.parse(value.value if isinstance(value, enum.Enum) else value).value)

    def canonical(self, text: str) -> str:
        return self.format(self.parse(text))


#: The columns of a ``CONS`` file, in canonical order.
CONS_COLUMNS: Final = (
    Column("KUNDENNUMMER", True, ValueType(CustomerNumber), "customer number, canonical 10 digits"),
    Column("EMAIL", True, EMAIL, "email address"),
    Column("STATUS", True, EnumCodes(ConsentKind), "EINWILLIGUNG, ABMELDUNG, WIDERSPRUCH, HARTBOUNCE"),
    Column("ZEITPUNKT", True, DATETIME_OFFSET, "ISO 8601 timestamp with offset"),
    Column("QUELLE", True, EnumCodes(ConsentSource), "source of the change"),
    Column("NACHWEIS", False, Text(EVIDENCE_MAX), "evidence, at most 500 characters"),
)  # fmt: skip

#: The ``CONS`` layout.
CONS: Final = CsvLayout(
    kind="CONS",
    columns=CONS_COLUMNS,
    encoding="utf-8",
    bom=True,
    allow_unknown=False,
    require_all=True,
    formula_escape=True,
    fixed_encoding=True,
)

_NAMES: Final = tuple(c.name for c in CONS_COLUMNS)


def _enum_value(cls: type[E], field: str, value: object) -> E:
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in cls)
        raise InvalidValueError(
            Message("E207", field=field, raw=str(value), detail=f"allowed: {allowed}")
        ) from None


def _status(value: object) -> ConsentKind:
    return _enum_value(ConsentKind, "STATUS", value)


def _source(value: object) -> ConsentSource:
    return _enum_value(ConsentSource, "QUELLE", value)


def _time(value: object) -> dt.datetime:
    """Text is parsed as an ISO 8601 timestamp with offset; a datetime stays (and is checked)."""
    if isinstance(value, str):
        try:
            parsed: dt.datetime = DATETIME_OFFSET.parse(value)
        except InvalidValueError as exc:
            raise InvalidValueError(attrs.evolve(exc.message, field="ZEITPUNKT")) from None
        return parsed
    return value  # type: ignore[return-value]  # the validator refuses what is not a datetime


def _customer(value: object) -> CustomerNumber:
    return value if isinstance(value, CustomerNumber) else CustomerNumber(value)


def _email(value: object) -> EmailAddress:
    return value if isinstance(value, EmailAddress) else EmailAddress(value)


def _check_time(instance: object, attribute: attrs.Attribute[dt.datetime], value: object) -> None:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise InvalidValueError(
            Message("E205", field="ZEITPUNKT", raw=repr(value), detail="expected an aware datetime")
        )


def _check_evidence(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"evidence must be text, got {type(value).__name__}")
    if len(value) > EVIDENCE_MAX:
        raise InvalidValueError(
            Message(
                "E206",
                field="NACHWEIS",
                raw=value,
                detail=f"{len(value)} characters, at most {EVIDENCE_MAX} allowed",
            )
        )


@attrs.frozen(repr=False)
class ConsentChange:
    """One row of a ``CONS`` file: ``customer``, ``email``, ``status``
    (:class:`~emma_osplus._consent.ConsentKind`), ``time`` (aware datetime, its offset kept),
    ``source`` (:class:`~emma_osplus._consent.ConsentSource`) and ``evidence`` (at most 500
    characters, may be empty).  Text arguments are converted (E202, E201, E207, E205, E206
    as :class:`~emma_osplus.InvalidValueError`); ``repr`` masks the address.

    >>> c = ConsentChange(4711, "Anna@Example.DE", "ABMELDUNG", "2026-11-03T10:15:00Z", "ESP_LINK")
    >>> c
    ConsentChange(customer='0000004711', email='A***@example.de', status='ABMELDUNG', time='2026-11-03T10:15:00+00:00', source='ESP_LINK', evidence='')
    >>> c.to_row()["ZEITPUNKT"]
    '2026-11-03T10:15:00+00:00'
    """

    customer: CustomerNumber = attrs.field(converter=_customer)
    email: EmailAddress = attrs.field(converter=_email)
    status: ConsentKind = attrs.field(converter=_status)
    time: dt.datetime = attrs.field(converter=_time, validator=_check_time)
    source: ConsentSource = attrs.field(converter=_source)
    evidence: str = attrs.field(default="", validator=_check_evidence)

    @classmethod
    def from_record(cls, record: Record) -> ConsentChange:
        """The change a :class:`~emma_osplus.Record` of a ``CONS`` file holds."""
        return cls.from_row(
            {**record.values, **{k: v for k, v in record.typed.items() if v is not None}}
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ConsentChange:
        """The change of a mapping column → value (text or typed); E208 for a missing value."""
        missing = [n for n in _NAMES[:-1] if row.get(n) in (None, "")]
        if missing:
            raise InvalidValueError(Message("E208", field=missing[0], detail="empty value"))
        return cls(
            row["KUNDENNUMMER"],
            row["EMAIL"],
            row["STATUS"],
            row["ZEITPUNKT"],
            row["QUELLE"],
            row.get("NACHWEIS") or "",
        )

    def to_row(self) -> dict[str, str]:
        """The canonical text of each column (values unescaped: the writer escapes)."""
        return {
            "KUNDENNUMMER": str(self.customer),
            "EMAIL": str(self.email),
            "STATUS": self.status.value,
            "ZEITPUNKT": DATETIME_OFFSET.format(self.time),
            "QUELLE": self.source.value,
            "NACHWEIS": self.evidence,
        }

    def __repr__(self) -> str:
        return (
            f"ConsentChange(customer={self.customer.value!r}, "
            f"email={mask_addresses(str(self.email))!r}, status={self.status.value!r}, "
            f"time={self.time.isoformat()!r}, source={self.source.value!r}, "
            f"evidence={mask_addresses(self.evidence)!r})"
        )


def read_cons(
    source: Source,
    *,
    mode: Mode | str = Mode.STRICT,
    encoding: str | None = None,
) -> CsvReader:
    """Read a ``CONS`` file from *source* (``bytes``, a binary file object or an iterable of
    ``bytes`` chunks): a :class:`~emma_osplus._csv.CsvReader` of items whose records turn into
    :class:`ConsentChange` with :meth:`ConsentChange.from_record`."""
    return read_csv(source, CONS, mode=mode, encoding=encoding)


def _row(change: ConsentChange | Mapping[str, Any]) -> Mapping[str, Any]:
    return change.to_row() if isinstance(change, ConsentChange) else change


def iter_cons(
    changes: Iterable[ConsentChange | Mapping[str, Any]],
    *,
    encoding: str = "utf-8",
) -> Iterator[bytes]:
    """The canonical ``CONS`` file of *changes* in chunks of bytes."""
    return iter_csv(CONS, _NAMES, map(_row, changes), encoding=encoding)


def write_cons(
    changes: Iterable[ConsentChange | Mapping[str, Any]],
    *,
    encoding: str = "utf-8",
) -> bytes:
    """The canonical ``CONS`` file of *changes* (:class:`ConsentChange` objects or mappings
    column → value): UTF-8 with BOM, formula-escaped, CRLF."""
    return b"".join(iter_cons(changes, encoding=encoding))
