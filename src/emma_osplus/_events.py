"""Response events: what EMMA reports back about one recipient of one mailing.

Every response is a frozen attrs object under one base, :class:`ResponseEvent` (h11's
``_events.py`` is the model): :class:`Sent`, :class:`Opened`, :class:`Clicked`,
:class:`Unsubscribed`, :class:`HardBounce`, :class:`SoftBounce` and :class:`Withheld`.  Each
class carries its ``RESP`` response code (``CODE``) and its event kind (``KIND``, the name the
state machines use).

An event converts to the detail record of a ``RESP`` file (:meth:`ResponseEvent.to_values`: the
detail field names without ``SATZART``, values with padding removed, as the JSON view shows
them) and back (:func:`event_from_values`; the institute comes from the file header).  Both
directions are lossless: ``event_from_values(e.to_values(), blz=e.blz) == e``.

>>> import datetime as dt
>>> from emma_osplus import Blz, CustomerNumber, EventId, MailingId, OrderNumber
>>> from emma_osplus._email import EmailAddress
>>> from emma_osplus._events import HardBounce, event_from_values
>>> bounce = HardBounce(
...     event_id=EventId("evt-0001"),
...     blz=Blz("37050198"),
...     order=OrderNumber("K2026001"),
...     order_kind="KMM",
...     mailing=MailingId("M-2026-11"),
...     customer=CustomerNumber("4711"),
...     email=EmailAddress("anna.schmidt@example.de"),
...     at=dt.datetime(2026, 11, 3, 9, 15, tzinfo=dt.timezone.utc),
...     status="5.1.1",
...     diagnostic="550 5.1.1 user unknown",
... )
>>> values = bounce.to_values()
>>> values["REAKTION"], values["ZEITPUNKT"], values["KUNDENNUMMER"], values["DETAIL"]
('HB', '20261103091500', '0000004711', '550 5.1.1 user unknown')
>>> event_from_values(values, blz=Blz("37050198")) == bounce
True

``DETAIL`` holds 40 characters.  An event may carry a longer diagnostic, but
:meth:`~ResponseEvent.to_values` refuses it (E206) instead of cutting it; cutting is an explicit
step:

>>> long = attrs.evolve(bounce, diagnostic="550-5.1.1 The email account that you tried to reach does not exist.")
>>> long.to_values()
Traceback (most recent call last):
...
emma_osplus._errors.RecordError: E206, field DETAIL: ... (67 characters, the field holds 40)
>>> long.with_truncated_diagnostic().to_values()["DETAIL"]
'550-5.1.1 The email account that you tri'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

import attrs

from ._converters import TIMESTAMP_UTC
from ._email import EmailAddress
from ._errors import InvalidValueError, RecordError
from ._messages import Message, mask_addresses
from ._resp import ORDER_KINDS, UNSUBSCRIBE_SOURCES, WITHHELD_REASONS
from ._types import Blz, CustomerNumber, EventId, MailingId, OrderNumber

__all__ = [
    "BOUNCE_STATUS_RE",
    "DETAIL_WIDTH",
    "EVENT_TYPES",
    "ORDER_KINDS",
    "RESP_FIELDS",
    "STATUS_WIDTH",
    "UNSUBSCRIBE_SOURCES",
    "WITHHELD_REASONS",
    "Bounce",
    "Clicked",
    "HardBounce",
    "Opened",
    "RecipientKey",
    "ResponseEvent",
    "Sent",
    "SoftBounce",
    "Unsubscribed",
    "Withheld",
    "event_from_values",
]

#: The detail field names of a ``RESP`` record without ``SATZART``, in record order.
RESP_FIELDS: tuple[str, ...] = (
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

#: Width of ``DETAIL`` and ``STATUSCODE`` in a ``RESP`` detail record.
DETAIL_WIDTH = 40
STATUS_WIDTH = 10

#: An RFC 3463 enhanced status code: class 2, 4 or 5, subject and detail of 1 to 3 digits.
BOUNCE_STATUS_RE = re.compile(r"[245]\.[0-9]{1,3}\.[0-9]{1,3}")


def _refuse(code: str, field: str, raw: object, detail: str) -> InvalidValueError:
    text = raw if isinstance(raw, str) else repr(raw)
    return InvalidValueError(Message(code, field=field, raw=text, detail=detail))


def _utc(value: object) -> object:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc)
    return value  # the validator refuses it


def _check_at(instance: object, attribute: attrs.Attribute[dt.datetime], value: object) -> None:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise _refuse("E205", "ZEITPUNKT", value, "expected an aware datetime")


def _code_table(field: str, codes: tuple[str, ...]) -> Any:
    def check(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
        if value not in codes:
            raise _refuse("E207", field, value, "allowed: " + ", ".join(codes))

    return check


def _instance_of(field: str, cls: type) -> Any:
    def check(instance: object, attribute: attrs.Attribute[object], value: object) -> None:
        if not isinstance(value, cls):
            raise _refuse("E209", field, value, f"expected {cls.__name__}")

    return check


def _single_line(field: str, *, required: bool) -> Any:
    """Text kept as given but refused if a fixed-width record could not give it back: control
    characters (CR, LF, tab …) or leading/trailing spaces (padding would eat them)."""

    def check(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
        if not isinstance(value, str):
            raise _refuse("E209", field, value, "expected text")
        if required and value == "":
            raise _refuse("E208", field, value, "empty value")
        if value != value.strip(" "):
            raise _refuse("E209", field, value, "leading or trailing spaces")
        if any(not ch.isprintable() for ch in value):
            raise _refuse("E209", field, value, "control characters")

    return check


def _clean_diagnostic(value: object) -> object:
    """A diagnostic on one line: whitespace runs (multi-line SMTP replies, tabs) become one
    space, none at either end.  This is the diagnostic's canonical form."""
    if isinstance(value, str):
        return " ".join(value.split())
    return value


def _check_status(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise _refuse("E209", "STATUSCODE", value, "expected text")
    if value == "":  # FORMATS.md: bounces carry their RFC 3463 code (the RESP writer needs it)
        raise _refuse("E208", "STATUSCODE", value, "a bounce needs its RFC 3463 code")
    if not BOUNCE_STATUS_RE.fullmatch(value):
        raise _refuse("E209", "STATUSCODE", value, "expected an RFC 3463 code such as 5.1.1")


@attrs.frozen(order=True)
class RecipientKey:
    """The key of the recipient state machine: institute, order number, mailing id and
    customer number (BEHAVIOUR.md, *Recipient responses*).

    >>> from emma_osplus import Blz, CustomerNumber, MailingId, OrderNumber
    >>> RecipientKey(Blz("37050198"), OrderNumber("K1"), MailingId("M1"), CustomerNumber(7)).texts
    ('37050198', 'K1', 'M1', '0000000007')
    """

    blz: Blz
    order: OrderNumber
    mailing: MailingId
    customer: CustomerNumber

    @property
    def texts(self) -> tuple[str, str, str, str]:
        """The four values as canonical text (how a RESP file writes them)."""
        return (str(self.blz), str(self.order), str(self.mailing), str(self.customer))

    @classmethod
    def from_texts(cls, texts: tuple[str, str, str, str]) -> RecipientKey:
        """The key for four canonical texts (the inverse of :attr:`texts`)."""
        blz, order, mailing, customer = texts
        return cls(Blz(blz), OrderNumber(order), MailingId(mailing), CustomerNumber(customer))


@attrs.frozen(repr=False)
class ResponseEvent:
    """One response about one recipient (customer and address) of one mailing.

    ``at`` is an aware datetime; it is kept in UTC (another offset is converted, the instant is
    the same).  The recipient key of the state machine is :attr:`key`:
    institute, order number, mailing id and customer number.  ``repr`` masks the address.
    """

    #: The ``REAKTION`` code in a ``RESP`` record.
    CODE: ClassVar[str] = ""
    #: The event kind used by the state machines (``sent``, ``opened`` …).
    KIND: ClassVar[str] = ""

    event_id: EventId = attrs.field(validator=_instance_of("EREIGNIS_ID", EventId))
    blz: Blz = attrs.field(validator=_instance_of("BLZ", Blz))
    order: OrderNumber = attrs.field(validator=_instance_of("AUFTRAGSNUMMER", OrderNumber))
    order_kind: str = attrs.field(validator=_code_table("AUFTRAGSART", ORDER_KINDS))
    mailing: MailingId = attrs.field(validator=_instance_of("MAILING_ID", MailingId))
    customer: CustomerNumber = attrs.field(validator=_instance_of("KUNDENNUMMER", CustomerNumber))
    email: EmailAddress = attrs.field(validator=_instance_of("EMAIL", EmailAddress))
    at: dt.datetime = attrs.field(converter=_utc, validator=_check_at)

    def __attrs_pre_init__(self) -> None:
        if not self.CODE:
            raise TypeError(f"{type(self).__name__} is abstract; use one of its subclasses")

    @property
    def key(self) -> RecipientKey:
        """The recipient key: institute, order number, mailing id, customer number."""
        return RecipientKey(self.blz, self.order, self.mailing, self.customer)

    def _status_and_detail(self) -> tuple[str, str]:
        return "", ""

    def to_values(self) -> dict[str, str]:
        """The ``RESP`` detail record as field name → text (no ``SATZART``, no padding).

        Raises :class:`~emma_osplus.RecordError` (E206) when ``DETAIL`` would be longer than 40
        characters, and (E205) when ``at`` has a fraction of a second (``RESP`` timestamps have
        whole seconds); nothing is cut.
        """
        status, detail = self._status_and_detail()
        for field, text, width in (
            ("STATUSCODE", status, STATUS_WIDTH),
            ("DETAIL", detail, DETAIL_WIDTH),
        ):
            if len(text) > width:
                raise RecordError(
                    Message(
                        "E206",
                        field=field,
                        raw=text,
                        detail=f"{len(text)} characters, the field holds {width}",
                    )
                )
        if self.at.microsecond:
            raise RecordError(
                Message(
                    "E205",
                    field="ZEITPUNKT",
                    raw=self.at.isoformat(),
                    detail="RESP timestamps have whole seconds",
                )
            )
        return {
            "KUNDENNUMMER": str(self.customer),
            "AUFTRAGSNUMMER": str(self.order),
            "AUFTRAGSART": self.order_kind,
            "REAKTION": self.CODE,
            "ZEITPUNKT": TIMESTAMP_UTC.format(self.at),
            "MAILING_ID": str(self.mailing),
            "EMAIL": str(self.email),
            "STATUSCODE": status,
            "DETAIL": detail,
            "EREIGNIS_ID": str(self.event_id),
        }

    def _extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(event_id={str(self.event_id)!r}, blz={str(self.blz)!r}, "
            f"order={str(self.order)!r}, order_kind={self.order_kind!r}, "
            f"mailing={str(self.mailing)!r}, customer={str(self.customer)!r}, "
            f"email={mask_addresses(str(self.email))!r}, at={self.at.isoformat()!r}"
            f"{self._extra_repr()})"
        )


@attrs.frozen(repr=False)
class Sent(ResponseEvent):
    """``VS``: the mail was sent to the recipient."""

    CODE: ClassVar[str] = "VS"
    KIND: ClassVar[str] = "sent"


@attrs.frozen(repr=False)
class Opened(ResponseEvent):
    """``OE``: the recipient opened the mail (implies it was sent)."""

    CODE: ClassVar[str] = "OE"
    KIND: ClassVar[str] = "opened"


@attrs.frozen(repr=False)
class Clicked(ResponseEvent):
    """``KL``: the recipient clicked the link ``link`` (implies opened and sent).

    ``link`` is the link id of the ``DETAIL`` field: non-empty, one line, no spaces at either
    end; more than 40 characters are refused when written (E206).
    """

    CODE: ClassVar[str] = "KL"
    KIND: ClassVar[str] = "clicked"

    link: str = attrs.field(kw_only=True, validator=_single_line("DETAIL", required=True))

    def _status_and_detail(self) -> tuple[str, str]:
        return "", self.link

    def _extra_repr(self) -> str:
        return f", link={self.link!r}"


@attrs.frozen(repr=False)
class Unsubscribed(ResponseEvent):
    """``AB``: the recipient unsubscribed; ``source`` is ``LINK``, ``LISTUNSUB`` (one-click
    header), ``PROFIL``, ``BESCHWERDE`` (complaint) or ``MANUELL``."""

    CODE: ClassVar[str] = "AB"
    KIND: ClassVar[str] = "unsubscribed"

    source: str = attrs.field(kw_only=True, validator=_code_table("DETAIL", UNSUBSCRIBE_SOURCES))

    def _status_and_detail(self) -> tuple[str, str]:
        return "", self.source

    def _extra_repr(self) -> str:
        return f", source={self.source!r}"


_B = TypeVar("_B", bound="Bounce")


@attrs.frozen(repr=False)
class Bounce(ResponseEvent):
    """Shared shape of :class:`HardBounce` and :class:`SoftBounce`.

    ``status`` is the RFC 3463 enhanced status code (``5.1.1``), required as in ``RESP``
    (a server that gave none is reported with the undefined-status code ``5.0.0``/``4.0.0``).  ``diagnostic`` is the server's text on one line (whitespace runs,
    including the line breaks of multi-line replies, become one space); it may be longer than
    the 40 characters of ``DETAIL`` but is then refused when written (E206), see
    :meth:`with_truncated_diagnostic`.
    """

    status: str = attrs.field(kw_only=True, validator=_check_status)
    diagnostic: str = attrs.field(
        kw_only=True,
        converter=_clean_diagnostic,
        validator=_single_line("DETAIL", required=False),
    )

    def _status_and_detail(self) -> tuple[str, str]:
        return self.status, self.diagnostic

    def with_truncated_diagnostic(self: _B, width: int = DETAIL_WIDTH) -> _B:
        """A copy whose diagnostic is cut to *width* characters (trailing spaces removed), so
        that it fits ``DETAIL``.  Cutting is lossy; call it only where that is intended."""
        return attrs.evolve(self, diagnostic=self.diagnostic[:width].rstrip(" "))

    def _extra_repr(self) -> str:
        return f", status={self.status!r}, diagnostic={mask_addresses(self.diagnostic)!r}"


@attrs.frozen(repr=False)
class HardBounce(Bounce):
    """``HB``: the mail bounced permanently; delivery for this mailing has ended."""

    CODE: ClassVar[str] = "HB"
    KIND: ClassVar[str] = "hard_bounce"


@attrs.frozen(repr=False)
class SoftBounce(Bounce):
    """``SB``: the mail bounced temporarily (counts towards soft-bounce escalation)."""

    CODE: ClassVar[str] = "SB"
    KIND: ClassVar[str] = "soft_bounce"


@attrs.frozen(repr=False)
class Withheld(ResponseEvent):
    """``ZH``: the mail was never sent; ``reason`` is ``SPERRLISTE``, ``KEINE_EINWILLIGUNG``,
    ``UNGUELTIG``, ``DUPLIKAT`` or ``HARTBOUNCE``."""

    CODE: ClassVar[str] = "ZH"
    KIND: ClassVar[str] = "withheld"

    reason: str = attrs.field(kw_only=True, validator=_code_table("DETAIL", WITHHELD_REASONS))

    def _status_and_detail(self) -> tuple[str, str]:
        return "", self.reason

    def _extra_repr(self) -> str:
        return f", reason={self.reason!r}"


#: Every event class by its ``RESP`` code (``VS`` → :class:`Sent` …), in the table's order.
EVENT_TYPES: Mapping[str, type[ResponseEvent]] = {
    cls.CODE: cls for cls in (Sent, Opened, Clicked, Unsubscribed, HardBounce, SoftBounce, Withheld)
}

_DETAIL_ARG: dict[str, str] = {
    "KL": "link",
    "AB": "source",
    "ZH": "reason",
    "HB": "diagnostic",
    "SB": "diagnostic",
}


def _parse(field: str, build: Any, text: str) -> Any:
    try:
        return build(text)
    except InvalidValueError as exc:
        raise InvalidValueError(attrs.evolve(exc.message, field=field, raw=text)) from None


def event_from_values(values: Mapping[str, str], *, blz: Blz) -> ResponseEvent:
    """The event of a ``RESP`` detail record given as field name → text (as
    :meth:`ResponseEvent.to_values` returns and the JSON view shows); *blz* comes from the
    file header.

    ``SATZART`` may be present (it must be ``R``).  ``STATUSCODE`` and ``DETAIL`` may be absent
    where they are empty.  A bad value raises :class:`~emma_osplus.InvalidValueError` whose
    message names the field: E208 missing, E207 unknown code, E205 bad time, E201 bad address,
    E202 bad customer number, E209 otherwise (also for an unknown field, or a ``STATUSCODE`` or
    ``DETAIL`` on a code that has none).
    """
    unknown = sorted(set(values) - set(RESP_FIELDS) - {"SATZART"})
    if unknown:
        raise _refuse("E209", unknown[0], values[unknown[0]], "not a RESP detail field")
    if values.get("SATZART", "R") != "R":
        raise _refuse("E209", "SATZART", values["SATZART"], "a detail record has SATZART R")

    def get(field: str, *, optional: bool = False) -> str:
        text = values.get(field)
        if text is None or text == "":
            if optional:
                return ""
            raise _refuse("E208", field, "" if text is None else text, "required value missing")
        return text

    code = get("REAKTION")
    cls = EVENT_TYPES.get(code)
    if cls is None:
        raise _refuse("E207", "REAKTION", code, "allowed: " + ", ".join(EVENT_TYPES))
    status = get("STATUSCODE", optional=True)
    detail = get("DETAIL", optional=True)
    extra: dict[str, str] = {}
    if issubclass(cls, Bounce):
        extra = {"status": status, "diagnostic": detail}
    else:
        if status:
            raise _refuse("E209", "STATUSCODE", status, f"only bounces have one, not {code}")
        arg = _DETAIL_ARG.get(code)
        if arg is None:
            if detail:
                raise _refuse("E207", "DETAIL", detail, f"must be empty for {code}")
        else:
            extra = {arg: get("DETAIL")}
    return cls(
        event_id=_parse("EREIGNIS_ID", EventId, get("EREIGNIS_ID")),
        blz=blz,
        order=_parse("AUFTRAGSNUMMER", OrderNumber, get("AUFTRAGSNUMMER")),
        order_kind=get("AUFTRAGSART"),
        mailing=_parse("MAILING_ID", MailingId, get("MAILING_ID")),
        customer=_parse("KUNDENNUMMER", CustomerNumber, get("KUNDENNUMMER")),
        email=_parse("EMAIL", EmailAddress, get("EMAIL")),
        at=_parse("ZEITPUNKT", TIMESTAMP_UTC.parse, get("ZEITPUNKT")),
        **extra,
    )


# -- private helpers shared with the folding code (_responses.py) -----------------------------
#
# A *row* is a detail record as a tuple of texts in RESP_FIELDS order, like ``to_values()`` but
# never refused: ZEITPUNKT may carry a fraction of a second (``YYYYMMDDHHMMSS.ffffff``) and
# DETAIL may be longer than 40 characters.  Rows of events sort by time as text.


def _stamp(at: dt.datetime) -> str:
    """``YYYYMMDDHHMMSS`` in UTC, ``.ffffff`` appended when there is a fraction; sorts as time."""
    text = TIMESTAMP_UTC.format(at)
    return f"{text}.{at.microsecond:06d}" if at.microsecond else text


def _parse_stamp(text: str) -> dt.datetime:
    """The inverse of :func:`_stamp`."""
    micro = int(text[15:21]) if len(text) > 14 else 0
    return dt.datetime(
        int(text[0:4]),
        int(text[4:6]),
        int(text[6:8]),
        int(text[8:10]),
        int(text[10:12]),
        int(text[12:14]),
        micro,
        tzinfo=dt.timezone.utc,
    )


def _row(event: ResponseEvent) -> tuple[str, ...]:
    """The event as a row (see above)."""
    status, detail = event._status_and_detail()
    return (
        str(event.customer),
        str(event.order),
        event.order_kind,
        event.CODE,
        _stamp(event.at),
        str(event.mailing),
        str(event.email),
        status,
        detail,
        str(event.event_id),
    )


def _event_from_row(row: tuple[str, ...], blz: str) -> ResponseEvent:
    """The event of a row of canonical texts (the inverse of :func:`_row`)."""
    customer, order, order_kind, code, stamp, mailing, email, status, detail, event_id = row
    cls = EVENT_TYPES[code]
    extra: dict[str, str] = {}
    if issubclass(cls, Bounce):
        extra = {"status": status, "diagnostic": detail}
    elif code in _DETAIL_ARG:
        extra = {_DETAIL_ARG[code]: detail}
    return cls(
        event_id=EventId(event_id),
        blz=Blz(blz),
        order=OrderNumber(order),
        order_kind=order_kind,
        mailing=MailingId(mailing),
        customer=CustomerNumber(customer),
        email=EmailAddress(email),
        at=_parse_stamp(stamp),
        **extra,
    )
