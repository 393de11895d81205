"""The responses file (``RESP``, EMMA → OSPlus): its layout as data over the fixed-width engine,
typed header, trailer and detail records, and the sequence-gap check.

Every record is 400 characters of windows-1252 followed by CRLF: a header ``A`` (institute,
creation time, file sequence number, version ``01``), one detail ``R`` per response, and a
trailer ``E`` with the number of details and the sum of their customer numbers modulo 10^17.

>>> import datetime as dt
>>> created = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.timezone.utc)
>>> opened = ResponseRecord(
...     customer_number="4711", order_number="K2026001", order_kind="KMM", reaction="OE",
...     occurred=dt.datetime(2026, 11, 21, 18, 2, 11, tzinfo=dt.timezone.utc),
...     mailing_id="M-2026-11", email="anna.schmidt@example.de", event_id="evt-000001")
>>> data = write_resp("37050198", created, 42, [opened])
>>> lines = data.split(b"\\r\\n")
>>> len(lines[0]), lines[0][:31], lines[2][:36]
(400, b'A370501982026112209300000004201', b'E37050198000000000100000000000004711')
>>> reader = read_resp(data)
>>> [ResponseRecord.from_record(r) == opened for r in reader if r.record_type == "R"]
[True]
>>> RespHeader.from_record(reader.header).sequence, RespTrailer.from_record(reader.trailer).count
(42, 1)
>>> check_sequence(41, 42) is None, check_sequence(41, 44).code
(True, 'E109')
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

from ._converters import TIMESTAMP_UTC, CodeTable, Integer, Pattern, TimestampUtc, ValueType
from ._email import EMAIL, EmailAddress
from ._errors import InvalidValueError, MessageError
from ._fixed import (
    CountCheck,
    Field,
    FixedLayout,
    FixedReader,
    MatchHeader,
    RecordType,
    Source,
    SumCheck,
    _format_record,
    filler,
    iter_fixed,
    read_fixed,
    rule_reads,
)
from ._messages import Message, mask_addresses
from ._records import Mode, Record
from ._types import Blz, CustomerNumber, EventId, MailingId, OrderNumber

__all__ = [
    "BOUNCE_CODES",
    "DETAIL_FIELDS",
    "ORDER_KINDS",
    "RESPONSE_CODES",
    "RESP_LAYOUT",
    "UNSUBSCRIBE_SOURCES",
    "WITHHELD_REASONS",
    "RespHeader",
    "RespTrailer",
    "ResponseRecord",
    "check_sequence",
    "iter_resp",
    "read_resp",
    "write_resp",
]

#: Order kinds (``AUFTRAGSART``).
ORDER_KINDS: tuple[str, ...] = ("KMM", "REKU", "IAM")
#: Response codes (``REAKTION``) in the order of the specification's table.
RESPONSE_CODES: tuple[str, ...] = ("VS", "OE", "KL", "AB", "HB", "SB", "ZH")
#: The bounce codes: they carry an RFC 3463 status code and a diagnostic text.
BOUNCE_CODES: frozenset[str] = frozenset({"HB", "SB"})
#: Sources of an unsubscribe (``DETAIL`` of ``AB``).
UNSUBSCRIBE_SOURCES: tuple[str, ...] = ("LINK", "LISTUNSUB", "PROFIL", "BESCHWERDE", "MANUELL")
#: Reasons for a withheld mail (``DETAIL`` of ``ZH``).
WITHHELD_REASONS: tuple[str, ...] = (
    "SPERRLISTE",
    "KEINE_EINWILLIGUNG",
    "UNGUELTIG",
    "DUPLIKAT",
    "HARTBOUNCE",
)
#: The detail field names without ``SATZART``, in record order (the JSON view's record keys).
DETAIL_FIELDS: tuple[str, ...] = (
    "KUNDENNUMMER",
    "AUFTRAGSNUMMER",
    "AUFTRAGSART",
    "REAKTION",
    "ZEITPUNKT",
    "MAILING_ID",
    "EMAIL",
    "STATUSCODE",
    "DETAIL",
    "EREIGNIS_ID",
)

# Fast-path patterns (see Field.pattern): each matches only valid canonical values; anything
# else goes through the converter.  tests/test_resp.py checks every one against its converter.
_TIMESTAMP = (
    "[1-9][0-9]{3}"
    "(?:(?:0[1-9]|1[0-2])(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])(?:29|30)|(?:0[13578]|1[02])31)"
    "(?:[01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]"
)
_ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = "(?!xn--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = (
    f"(?=[^@\\x00]{{1,64}}@){_ATEXT}+(?:\\.{_ATEXT}+)*"
    f"@(?:{_LABEL}\\.)+(?![0-9]+(?:\\x00|\\Z| )){_LABEL}"
)
_STATUS = "[245]\\.[0-9]{1,3}\\.[0-9]{1,3}"

_STAMP = re.compile("[0-9]{14}")


@attrs.frozen
class _Timestamp(TimestampUtc):
    """``YYYYMMDDHHMMSS`` in UTC, as :data:`~emma_osplus.converters.TIMESTAMP_UTC`, parsed by
    position instead of ``strptime`` (the same values, several times faster)."""

    def parse(self, text: str) -> dt.datetime:
        if _STAMP.fullmatch(text):
            try:
                return dt.datetime(
                    int(text[0:4]),
                    int(text[4:6]),
                    int(text[6:8]),
                    int(text[8:10]),
                    int(text[10:12]),
                    int(text[12:14]),
                    tzinfo=dt.timezone.utc,
                )
            except ValueError:
                pass
        return super().parse(text)  # refuses with E205


_TIMESTAMP_UTC = _Timestamp()
_BLZ = ValueType(Blz)
_INT6 = Integer(6)
_INT10 = Integer(10)
_INT17 = Integer(17)
_STATUS_CONVERTER = Pattern(_STATUS, description="an RFC 3463 code such as 5.1.1")


@rule_reads("REAKTION", "DETAIL")
def _detail_rule(values: Mapping[str, str]) -> Message | None:
    """DETAIL by REAKTION: VS/OE spaces, AB a source, ZH a reason, KL a link id, HB/SB the
    start of the diagnostic text (may be empty) -- E207 otherwise."""
    code = values["REAKTION"]
    detail = values["DETAIL"]
    if code in _BOUNCES or (detail in _DETAIL_ALLOWED[code] if code in _DETAIL_ALLOWED else detail):
        return None
    if code in _DETAIL_ALLOWED:
        allowed = _DETAIL_ALLOWED[code]
        expected = "spaces" if allowed == {""} else "one of " + ", ".join(sorted(allowed))
    else:
        expected = "a link id"
    return Message("E207", field="DETAIL", detail=f"{detail!r} for {code}: expected {expected}")


@rule_reads("REAKTION", "STATUSCODE")
def _status_rule(values: Mapping[str, str]) -> Message | None:
    """STATUSCODE by REAKTION: an RFC 3463 code for HB/SB (E208 when missing), spaces for the
    other codes (E209)."""
    code = values["REAKTION"]
    status = values["STATUSCODE"]
    if (status != "") is (code in _BOUNCES):
        return None
    if status == "":
        return Message("E208", field="STATUSCODE", detail=f"a bounce ({code}) needs its code")
    return Message("E209", field="STATUSCODE", detail=f"{status!r}: spaces for {code}")


_BOUNCES = BOUNCE_CODES
_DETAIL_ALLOWED: dict[str, frozenset[str]] = {
    "VS": frozenset({""}),
    "OE": frozenset({""}),
    "AB": frozenset(UNSUBSCRIBE_SOURCES),
    "ZH": frozenset(WITHHELD_REASONS),
}

_HEADER = RecordType(
    "A",
    "header",
    (
        Field("SATZART", 1, 1, constant="A"),
        Field("BLZ", 2, 8, converter=_BLZ, required=True, pattern="[1-8][0-9]{7}"),
        Field("ERSTELLT", 10, 14, converter=_TIMESTAMP_UTC, required=True, pattern=_TIMESTAMP),
        Field(
            "DATEINUMMER",
            24,
            6,
            align="right",
            pad="0",
            converter=_INT6,
            required=True,
            pattern="[1-9][0-9]{0,5}|0",
        ),
        Field("VERSION", 30, 2, constant="01"),
        filler(32, 369),
    ),
    role="header",
)

_DETAIL = RecordType(
    "R",
    "response",
    (
        Field("SATZART", 1, 1, constant="R"),
        Field(
            "KUNDENNUMMER",
            2,
            10,
            align="right",
            pad="0",
            converter=ValueType(CustomerNumber),
            required=True,
            pattern="[0-9]{10}",
        ),
        Field(
            "AUFTRAGSNUMMER",
            12,
            20,
            converter=ValueType(OrderNumber),
            required=True,
            pattern="[A-Z0-9]{1,20}",
        ),
        Field(
            "AUFTRAGSART",
            32,
            4,
            converter=CodeTable(ORDER_KINDS),
            required=True,
            pattern="|".join(ORDER_KINDS),
        ),
        Field(
            "REAKTION",
            36,
            2,
            converter=CodeTable(RESPONSE_CODES),
            required=True,
            pattern="|".join(RESPONSE_CODES),
        ),
        Field("ZEITPUNKT", 38, 14, converter=_TIMESTAMP_UTC, required=True, pattern=_TIMESTAMP),
        Field(
            "MAILING_ID",
            52,
            20,
            converter=ValueType(MailingId),
            required=True,
            pattern="[A-Za-z0-9_.-]{1,20}",
        ),
        Field("EMAIL", 72, 254, converter=EMAIL, required=True, pattern=_EMAIL),
        Field("STATUSCODE", 326, 10, converter=_STATUS_CONVERTER, pattern=_STATUS),
        Field("DETAIL", 336, 40),
        Field(
            "EREIGNIS_ID",
            376,
            25,
            converter=ValueType(EventId),
            required=True,
            pattern="[A-Za-z0-9_-]{1,25}",
        ),
    ),
    role="detail",
    rules=(_detail_rule, _status_rule),
)

_TRAILER = RecordType(
    "E",
    "trailer",
    (
        Field("SATZART", 1, 1, constant="E"),
        Field("BLZ", 2, 8, converter=_BLZ, required=True, pattern="[1-8][0-9]{7}"),
        Field("ANZAHL", 10, 10, align="right", pad="0", converter=_INT10, required=True),
        Field("KONTROLLSUMME", 20, 17, align="right", pad="0", converter=_INT17, required=True),
        filler(37, 364),
    ),
    role="trailer",
)

#: The RESP layout of reference profile 1 (FORMATS.md, *Responses*).
RESP_LAYOUT = FixedLayout(
    kind="RESP",
    record_length=400,
    encoding="windows-1252",
    record_types=(_HEADER, _DETAIL, _TRAILER),
    checks=(
        MatchHeader("BLZ"),
        CountCheck("ANZAHL"),
        SumCheck("KONTROLLSUMME", of="KUNDENNUMMER", modulo=10**17),
    ),
)


# --------------------------------------------------------------------------------------------
# Typed records


def _refuse(code: str, field: str, raw: object, detail: str) -> InvalidValueError:
    text = raw if isinstance(raw, str) else repr(raw)
    return InvalidValueError(Message(code, field=field, raw=text, detail=detail))


def _build(build: Callable[[Any], Any], field: str, value: Any) -> Any:
    """*build(value)* for text (and int for customer numbers); the field named in errors."""
    if isinstance(value, str) or (isinstance(value, int) and build is CustomerNumber):
        try:
            return build(value)
        except InvalidValueError as exc:
            raise InvalidValueError(attrs.evolve(exc.message, field=field)) from None
    return value


def _to_customer(value: Any) -> Any:
    return _build(CustomerNumber, "KUNDENNUMMER", value)


def _to_order(value: Any) -> Any:
    return _build(OrderNumber, "AUFTRAGSNUMMER", value)


def _to_mailing(value: Any) -> Any:
    return _build(MailingId, "MAILING_ID", value)


def _to_event(value: Any) -> Any:
    return _build(EventId, "EREIGNIS_ID", value)


def _to_blz(value: Any) -> Any:
    return _build(Blz, "BLZ", value)


def _email_value(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return EMAIL.parse(value)
        except InvalidValueError as exc:
            raise InvalidValueError(attrs.evolve(exc.message, field="EMAIL", raw=value)) from None
    return value


def _utc(field: str) -> Any:
    def check(instance: object, attribute: attrs.Attribute[dt.datetime], value: object) -> None:
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise _refuse("E205", field, value, "expected an aware datetime")
        if value.microsecond:
            raise _refuse("E205", field, value.isoformat(), "whole seconds only")

    return check


def _as_utc(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc)
    return value


def _is(cls: type, field: str) -> Any:
    def check(instance: object, attribute: attrs.Attribute[object], value: object) -> None:
        if not isinstance(value, cls):
            raise _refuse("E209", field, value, f"expected {cls.__name__}")

    return check


def _check_by_layout(rtype: RecordType, values: Mapping[str, Any]) -> None:
    """Every field and rule of *rtype*, as the writer checks them; InvalidValueError."""
    try:
        _format_record(rtype, values, 0, RESP_LAYOUT.encoding)
    except MessageError as exc:
        raise InvalidValueError(attrs.evolve(exc.message, line=None)) from None


def _parse_field(rtype: RecordType, name: str, text: str) -> Any:
    converter = rtype.field(name).converter
    assert converter is not None
    try:
        return converter.parse(text)
    except InvalidValueError as exc:
        raise InvalidValueError(attrs.evolve(exc.message, field=name, raw=text)) from None


def _texts(values: Mapping[str, Any], satzart: str, fields: Iterable[str]) -> dict[str, str]:
    """Check the keys of a values mapping (SATZART optional, nothing unknown)."""
    known = set(fields)
    for key, value in values.items():
        if key == "SATZART":
            if value != satzart:
                raise _refuse("E207", "SATZART", value, f"expected {satzart!r}")
        elif key not in known:
            raise _refuse("E209", key, value, "no such field")
    return {key: value for key, value in values.items() if key != "SATZART"}


@attrs.frozen(repr=False)
class ResponseRecord:
    """One detail record (``R``) of a responses file, typed and validated: every field as the
    layout checks it, DETAIL and STATUSCODE by response code, and that it fits its record
    (E206).  Text is accepted where a value type is expected and converted.

    :meth:`to_values` gives the detail field names without ``SATZART`` and canonical text with
    padding removed (the JSON view's record); :meth:`from_values` is its inverse.

    >>> import datetime as dt
    >>> r = ResponseRecord(customer_number="4711", order_number="K2026001", order_kind="KMM",
    ...     reaction="AB", occurred=dt.datetime(2026, 11, 21, 18, 2, tzinfo=dt.timezone.utc),
    ...     mailing_id="M-2026-11", email="Anna.Schmidt@Example.DE", event_id="evt-2",
    ...     detail="LISTUNSUB")
    >>> r.to_values()["EMAIL"], r.to_values()["ZEITPUNKT"]
    ('Anna.Schmidt@example.de', '20261121180200')
    >>> ResponseRecord.from_values(r.to_values()) == r
    True
    >>> r
    ResponseRecord(customer_number='0000004711', order_number='K2026001', ..., email='A***@example.de', ...)
    >>> attrs.evolve(r, detail="NEWSLETTER")
    Traceback (most recent call last):
    ...
    emma_osplus._errors.InvalidValueError: E207, field DETAIL: ... ('NEWSLETTER' for AB: expected one of BESCHWERDE, LINK, LISTUNSUB, MANUELL, PROFIL)
    """

    customer_number: CustomerNumber = attrs.field(
        converter=_to_customer,
        validator=_is(CustomerNumber, "KUNDENNUMMER"),
    )
    order_number: OrderNumber = attrs.field(
        converter=_to_order,
        validator=_is(OrderNumber, "AUFTRAGSNUMMER"),
    )
    order_kind: str
    reaction: str
    occurred: dt.datetime = attrs.field(converter=_as_utc, validator=_utc("ZEITPUNKT"))
    mailing_id: MailingId = attrs.field(
        converter=_to_mailing, validator=_is(MailingId, "MAILING_ID")
    )
    email: EmailAddress = attrs.field(converter=_email_value, validator=_is(EmailAddress, "EMAIL"))
    event_id: EventId = attrs.field(converter=_to_event, validator=_is(EventId, "EREIGNIS_ID"))
    status_code: str = ""
    detail: str = ""

    def __attrs_post_init__(self) -> None:
        _check_by_layout(_DETAIL, self.to_values())

    def to_values(self) -> dict[str, str]:
        """The detail field names (no ``SATZART``) → canonical text without padding."""
        return {
            "KUNDENNUMMER": str(self.customer_number),
            "AUFTRAGSNUMMER": str(self.order_number),
            "AUFTRAGSART": self.order_kind,
            "REAKTION": self.reaction,
            "ZEITPUNKT": TIMESTAMP_UTC.format(self.occurred),
            "MAILING_ID": str(self.mailing_id),
            "EMAIL": str(self.email),
            "STATUSCODE": self.status_code,
            "DETAIL": self.detail,
            "EREIGNIS_ID": str(self.event_id),
        }

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> ResponseRecord:
        """The record of *values* (as :meth:`to_values` gives them; ``SATZART`` may be there,
        ``STATUSCODE`` and ``DETAIL`` may be missing when empty).  Raises
        :class:`~emma_osplus.InvalidValueError` naming the field (E208 for a missing one)."""
        texts = _texts(values, "R", DETAIL_FIELDS)
        _check_by_layout(_DETAIL, texts)
        return cls(
            customer_number=_parse_field(_DETAIL, "KUNDENNUMMER", texts["KUNDENNUMMER"]),
            order_number=_parse_field(_DETAIL, "AUFTRAGSNUMMER", texts["AUFTRAGSNUMMER"]),
            order_kind=texts["AUFTRAGSART"],
            reaction=texts["REAKTION"],
            occurred=_parse_field(_DETAIL, "ZEITPUNKT", texts["ZEITPUNKT"]),
            mailing_id=_parse_field(_DETAIL, "MAILING_ID", texts["MAILING_ID"]),
            email=_parse_field(_DETAIL, "EMAIL", texts["EMAIL"]),
            event_id=_parse_field(_DETAIL, "EREIGNIS_ID", texts["EREIGNIS_ID"]),
            status_code=texts.get("STATUSCODE", ""),
            detail=texts.get("DETAIL", ""),
        )

    @classmethod
    def from_record(cls, record: Record) -> ResponseRecord:
        """The record of a detail :class:`~emma_osplus.Record` read by :func:`read_resp`."""
        return cls.from_values(record.values)

    def __repr__(self) -> str:
        return (
            f"ResponseRecord(customer_number={str(self.customer_number)!r}, "
            f"order_number={str(self.order_number)!r}, order_kind={self.order_kind!r}, "
            f"reaction={self.reaction!r}, occurred={self.occurred.isoformat()!r}, "
            f"mailing_id={str(self.mailing_id)!r}, "
            f"email={mask_addresses(str(self.email))!r}, event_id={str(self.event_id)!r}, "
            f"status_code={self.status_code!r}, detail={mask_addresses(self.detail)!r})"
        )


@attrs.frozen
class RespHeader:
    """The header record (``A``): institute, creation time (UTC), file sequence number
    (``DATEINUMMER``, +1 per file and institute: see :func:`check_sequence`) and version.

    >>> h = RespHeader("37050198", dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.timezone.utc), 7)
    >>> h.to_values()
    {'SATZART': 'A', 'BLZ': '37050198', 'ERSTELLT': '20261122093000', 'DATEINUMMER': '7', 'VERSION': '01'}
    >>> RespHeader.from_values(h.to_values()) == h
    True
    """

    blz: Blz = attrs.field(converter=_to_blz, validator=_is(Blz, "BLZ"))
    created: dt.datetime = attrs.field(converter=_as_utc, validator=_utc("ERSTELLT"))
    sequence: int = attrs.field(validator=_is(int, "DATEINUMMER"))
    version: str = "01"

    def __attrs_post_init__(self) -> None:
        _check_by_layout(_HEADER, self.to_values())

    def to_values(self) -> dict[str, str]:
        """The header's field names (with ``SATZART``) → canonical text (the JSON view)."""
        return {
            "SATZART": "A",
            "BLZ": str(self.blz),
            "ERSTELLT": TIMESTAMP_UTC.format(self.created),
            "DATEINUMMER": str(self.sequence),
            "VERSION": self.version,
        }

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> RespHeader:
        """The header of *values* (``SATZART`` and ``VERSION`` may be missing)."""
        texts = _texts(values, "A", ("BLZ", "ERSTELLT", "DATEINUMMER", "VERSION"))
        texts.setdefault("VERSION", "01")
        _check_by_layout(_HEADER, texts)
        return cls(
            blz=texts["BLZ"],
            created=_parse_field(_HEADER, "ERSTELLT", texts["ERSTELLT"]),
            sequence=_parse_field(_HEADER, "DATEINUMMER", texts["DATEINUMMER"]),
            version=texts["VERSION"],
        )

    @classmethod
    def from_record(cls, record: Record) -> RespHeader:
        """The header of the header :class:`~emma_osplus.Record` (``reader.header``)."""
        return cls.from_values(record.values)


@attrs.frozen
class RespTrailer:
    """The trailer record (``E``): institute, number of details, control sum (the sum of the
    details' customer numbers modulo 10^17)."""

    blz: Blz = attrs.field(converter=_to_blz, validator=_is(Blz, "BLZ"))
    count: int = attrs.field(validator=_is(int, "ANZAHL"))
    checksum: int = attrs.field(validator=_is(int, "KONTROLLSUMME"))

    def __attrs_post_init__(self) -> None:
        _check_by_layout(_TRAILER, self.to_values())

    def to_values(self) -> dict[str, str]:
        """The trailer's field names (with ``SATZART``) → canonical text (the JSON view)."""
        return {
            "SATZART": "E",
            "BLZ": str(self.blz),
            "ANZAHL": str(self.count),
            "KONTROLLSUMME": str(self.checksum),
        }

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> RespTrailer:
        """The trailer of *values* (``SATZART`` may be missing)."""
        texts = _texts(values, "E", ("BLZ", "ANZAHL", "KONTROLLSUMME"))
        _check_by_layout(_TRAILER, texts)
        return cls(
            blz=texts["BLZ"],
            count=_parse_field(_TRAILER, "ANZAHL", texts["ANZAHL"]),
            checksum=_parse_field(_TRAILER, "KONTROLLSUMME", texts["KONTROLLSUMME"]),
        )

    @classmethod
    def from_record(cls, record: Record) -> RespTrailer:
        """The trailer of the trailer :class:`~emma_osplus.Record` (``reader.trailer``)."""
        return cls.from_values(record.values)


# --------------------------------------------------------------------------------------------
# Reading, writing, sequence numbers


def read_resp(
    source: Source, *, mode: Mode = Mode.STRICT, chunk_size: int = 1 << 18
) -> FixedReader:
    """Read a responses file (bytes, binary file object or chunks), streaming *chunk_size*
    bytes at a time; see :func:`~emma_osplus._fixed.read_fixed`.  Detail records have
    ``record_type == "R"``; ``reader.header`` / ``reader.trailer`` give header and trailer
    once read."""
    return read_fixed(source, RESP_LAYOUT, mode=mode, chunk_size=chunk_size)


def _detail_values(detail: ResponseRecord | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(detail, ResponseRecord):
        return detail.to_values()
    return detail


def iter_resp(
    blz: Blz | str,
    created: dt.datetime | str,
    sequence: int,
    details: Iterable[ResponseRecord | Mapping[str, Any]],
) -> Iterator[bytes]:
    """Write a responses file as chunks of bytes; the trailer (institute, count, control sum)
    is computed.  *details* are :class:`ResponseRecord` objects or value mappings."""
    header = {"BLZ": str(blz), "ERSTELLT": created, "DATEINUMMER": sequence}
    return iter_fixed(RESP_LAYOUT, header, (_detail_values(d) for d in details))


def write_resp(
    blz: Blz | str,
    created: dt.datetime | str,
    sequence: int,
    details: Iterable[ResponseRecord | Mapping[str, Any]],
) -> bytes:
    """The whole responses file :func:`iter_resp` writes, as bytes (canonical: CRLF,
    windows-1252).  Values that do not fit are refused with the record number and field."""
    return b"".join(iter_resp(blz, created, sequence, details))


def check_sequence(previous: int | None, current: int) -> Message | None:
    """E109 when *current* skips numbers after *previous* (a file is missing), else ``None``.

    The first file (``previous is None``), the next number, a repeated number and a lower one
    (a file that arrives late or twice) are not gaps; the processor's event ids make repeats
    harmless.

    >>> check_sequence(None, 1) is None, check_sequence(6, 7) is None, check_sequence(7, 7) is None
    (True, True, True)
    >>> check_sequence(7, 10).detail
    'expected file 8, got 10: 2 file(s) missing'
    """
    if previous is None or current <= previous + 1:
        return None
    missing = current - previous - 1
    return Message(
        "E109",
        field="DATEINUMMER",
        raw=str(current),
        detail=f"expected file {previous + 1}, got {current}: {missing} file(s) missing",
    )
