"""Suppression: applying the consent ledger to an incoming subscriber list.

Every row of a delivery ends up in exactly one of two places: the rows to send, or the
withheld rows, each with its ``ZH`` reason and the event that decided.  Nothing is dropped.

Reasons, checked in this order for each row:

``UNGUELTIG``
    the row has no valid customer number (``KUNDENNUMMER``) or address (``EMAIL``); the row
    carries the :class:`~emma_osplus.Message` (E202, E201, E208) that says why.
``SPERRLISTE`` / ``HARTBOUNCE`` / ``KEINE_EINWILLIGUNG``
    the ledger refuses the send (:meth:`~emma_osplus._consent.ConsentLedger.may_send`).
``DUPLIKAT``
    an earlier row of the same delivery with the same address (matching key) is already
    being sent: the first row that may be sent is sent, every later one is withheld.  A row
    withheld for another reason does not count as the address's send.

Rows are :class:`~emma_osplus.Record` objects (their ``values``; ``typed`` values are used
where the reader already converted them) or plain mappings; both need ``KUNDENNUMMER`` and
``EMAIL`` (found case-insensitively in a mapping).  :func:`screen` is a generator that yields
one verdict per row in input order: its memory holds only the set of addresses already sent.
:func:`suppress` collects the verdicts; :func:`withheld_responses` turns the withheld rows into
``ZH`` response events (:class:`~emma_osplus._events.Withheld`).

>>> import datetime as dt
>>> from emma_osplus._consent import ConsentEvent, ConsentLedger
>>> now = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)
>>> ledger = ConsentLedger([
...     ConsentEvent(1, "a@x.de", "EINWILLIGUNG", now - dt.timedelta(days=90), "FILIALE", "Formular 17"),
...     ConsentEvent(2, "b@x.de", "EINWILLIGUNG", now - dt.timedelta(days=90), "FILIALE", "Formular 18"),
...     ConsentEvent(2, "b@x.de", "ABMELDUNG", now - dt.timedelta(days=2), "ESP_LINK"),
... ])
>>> rows = [
...     {"KUNDENNUMMER": "1", "EMAIL": "a@x.de"},
...     {"KUNDENNUMMER": "2", "EMAIL": "b@x.de"},
...     {"KUNDENNUMMER": "3", "EMAIL": "c@x.de"},
...     {"KUNDENNUMMER": "1", "EMAIL": "A@X.DE"},
... ]
>>> result = suppress(rows, ledger, at=now)
>>> [row["KUNDENNUMMER"] for row in result.to_send]
['1']
>>> [(w.index, w.reason.value) for w in result.withheld]
[(1, 'SPERRLISTE'), (2, 'KEINE_EINWILLIGUNG'), (3, 'DUPLIKAT')]
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeAlias

import attrs

from ._consent import ConsentEvent, ConsentLedger, ConsentPolicy, Decision, DecisionReason
from ._email import EmailAddress
from ._errors import InvalidValueError
from ._events import Withheld
from ._messages import Message, mask_addresses
from ._records import Record
from ._types import Blz, CustomerNumber, EventId, MailingId, OrderNumber

__all__ = [
    "Row",
    "Screened",
    "SuppressionResult",
    "ToSend",
    "WithheldReason",
    "WithheldRow",
    "read_customer",
    "read_email",
    "read_row",
    "screen",
    "suppress",
    "withheld_responses",
]

#: A subscriber row: a :class:`~emma_osplus.Record` or a mapping of column to text.
Row: TypeAlias = Record | Mapping[str, Any]

CUSTOMER_COLUMN = "KUNDENNUMMER"
EMAIL_COLUMN = "EMAIL"


class WithheldReason(enum.Enum):
    """Why a row is withheld: the ``ZH`` reason words of FORMATS.md."""

    SPERRLISTE = "SPERRLISTE"
    KEINE_EINWILLIGUNG = "KEINE_EINWILLIGUNG"
    HARTBOUNCE = "HARTBOUNCE"
    DUPLIKAT = "DUPLIKAT"
    UNGUELTIG = "UNGUELTIG"


_BY_DECISION = {
    DecisionReason.BLOCKED: WithheldReason.SPERRLISTE,
    DecisionReason.HARD_BOUNCE: WithheldReason.HARTBOUNCE,
    DecisionReason.NO_CONSENT: WithheldReason.KEINE_EINWILLIGUNG,
}


def _masked_row(row: Row) -> str:
    values = row.values if isinstance(row, Record) else row
    return mask_addresses(", ".join(f"{k}={v}" for k, v in values.items()))


@attrs.frozen(repr=False)
class ToSend:
    """A row that may be sent: its position in the input (0-based), the row, the customer,
    the address and the ledger's decision."""

    index: int
    row: Row
    customer: CustomerNumber
    email: EmailAddress
    decision: Decision

    def __repr__(self) -> str:
        return f"ToSend(index={self.index}, row={{{_masked_row(self.row)}}})"


@attrs.frozen(repr=False)
class WithheldRow:
    """A row that is withheld: its position in the input (0-based), the row, the reason and
    the event that decided (``None`` for ``KEINE_EINWILLIGUNG``, ``DUPLIKAT`` and
    ``UNGUELTIG``).  ``customer`` and ``email`` are ``None`` where the row has no valid
    value; ``message`` says why (``UNGUELTIG`` only); ``decision`` is the ledger's answer
    (``None`` for ``UNGUELTIG``)."""

    index: int
    row: Row
    reason: WithheldReason
    deciding_event: ConsentEvent | None = None
    customer: CustomerNumber | None = None
    email: EmailAddress | None = None
    message: Message | None = None
    decision: Decision | None = None

    @property
    def reportable(self) -> bool:
        """True when a ``ZH`` response can be written for the row (it has a valid customer
        number and address; a ``RESP`` record needs both)."""
        return self.customer is not None and self.email is not None

    def __repr__(self) -> str:
        return (
            f"WithheldRow(index={self.index}, reason={self.reason.value!r}, "
            f"row={{{_masked_row(self.row)}}})"
        )


#: One verdict of :func:`screen`.
Screened: TypeAlias = ToSend | WithheldRow


def _lookup(values: Mapping[str, Any], column: str) -> Any:
    if column in values:
        return values[column]
    for key, value in values.items():
        if str(key).strip().upper() == column:
            return value
    return None


def _values(row: Row) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    if isinstance(row, Record):
        return row.typed, row.values
    if isinstance(row, Mapping):
        return {}, row
    raise TypeError(f"expected a Record or a mapping, got {type(row).__name__}")


def read_customer(row: Row) -> CustomerNumber:
    """The customer number (``KUNDENNUMMER``) of a subscriber row; raises
    :class:`~emma_osplus.InvalidValueError` (E208 missing, E202 invalid)."""
    typed, values = _values(row)
    customer = typed.get(CUSTOMER_COLUMN)
    if isinstance(customer, CustomerNumber):
        return customer
    raw = _lookup(values, CUSTOMER_COLUMN)
    if raw is None or raw == "":
        raise InvalidValueError(
            Message("E208", field=CUSTOMER_COLUMN, raw="", detail="no customer number")
        )
    if isinstance(raw, CustomerNumber):
        return raw
    try:
        return CustomerNumber(raw)
    except InvalidValueError as exc:
        raise InvalidValueError(attrs.evolve(exc.message, field=CUSTOMER_COLUMN)) from None


def read_email(row: Row) -> EmailAddress:
    """The address (``EMAIL``) of a subscriber row; raises
    :class:`~emma_osplus.InvalidValueError` (E208 missing, E201 invalid)."""
    typed, values = _values(row)
    email = typed.get(EMAIL_COLUMN)
    if isinstance(email, EmailAddress):
        return email
    raw = _lookup(values, EMAIL_COLUMN)
    if raw is None or raw == "":
        raise InvalidValueError(Message("E208", field=EMAIL_COLUMN, raw="", detail="no address"))
    return raw if isinstance(raw, EmailAddress) else EmailAddress(str(raw))


def read_row(row: Row) -> tuple[CustomerNumber, EmailAddress]:
    """The customer number and address of a subscriber row (:func:`read_customer`,
    :func:`read_email`).

    >>> read_row({"kundennummer": "4711", "Email": "Anna@Example.DE"})
    (CustomerNumber('0000004711'), EmailAddress('A***@example.de'))
    """
    return read_customer(row), read_email(row)


def screen(
    rows: Iterable[Row],
    ledger: ConsentLedger,
    *,
    at: dt.datetime,
    policy: ConsentPolicy = ConsentPolicy(),  # noqa: B008 - frozen value
) -> Iterator[Screened]:
    """One verdict per row, in input order (a generator): :class:`ToSend` or
    :class:`WithheldRow`.  *at* is the moment of the delivery (events after it do not count);
    *policy* says whether consent is required."""
    sent_keys: set[str] = set()
    for index, row in enumerate(rows):
        try:
            customer, email = read_row(row)
        except InvalidValueError as exc:
            yield WithheldRow(index, row, WithheldReason.UNGUELTIG, message=exc.message)
            continue
        key = email.matching_key
        decision = ledger.may_send_key(customer, key, at, policy=policy)
        if not decision.allowed:
            reason = _BY_DECISION[decision.reason]
            yield WithheldRow(
                index, row, reason, decision.deciding_event, customer, email, decision=decision
            )
        elif key in sent_keys:
            yield WithheldRow(
                index, row, WithheldReason.DUPLIKAT, None, customer, email, decision=decision
            )
        else:
            sent_keys.add(key)
            yield ToSend(index, row, customer, email, decision)


@attrs.frozen(repr=False)
class SuppressionResult:
    """The rows to send (as given, in input order) and the withheld rows (with reason and
    deciding event, in input order).  ``len(to_send) + len(withheld)`` is the number of
    input rows."""

    to_send: list[Row]
    withheld: list[WithheldRow]

    def __repr__(self) -> str:
        return f"SuppressionResult(counts={self.counts!r})"

    @property
    def counts(self) -> dict[str, int]:
        """Rows per outcome: ``send`` and every ``ZH`` reason that occurred."""
        counts = {"send": len(self.to_send)}
        for row in self.withheld:
            counts[row.reason.value] = counts.get(row.reason.value, 0) + 1
        return counts


def suppress(
    rows: Iterable[Row],
    ledger: ConsentLedger,
    *,
    at: dt.datetime,
    policy: ConsentPolicy = ConsentPolicy(),  # noqa: B008 - frozen value
) -> SuppressionResult:
    """:func:`screen` collected into a :class:`SuppressionResult`."""
    to_send: list[Row] = []
    withheld: list[WithheldRow] = []
    for verdict in screen(rows, ledger, at=at, policy=policy):
        if isinstance(verdict, ToSend):
            to_send.append(verdict.row)
        else:
            withheld.append(verdict)
    return SuppressionResult(to_send, withheld)


def withheld_responses(
    verdicts: Iterable[Screened],
    *,
    blz: Blz,
    order: OrderNumber,
    order_kind: str,
    mailing: MailingId,
    at: dt.datetime,
    event_ids: Iterable[EventId | str],
) -> Iterator[Withheld]:
    """A ``ZH`` response (:class:`~emma_osplus._events.Withheld`) for every withheld row among
    *verdicts* (the output of :func:`screen`, or :attr:`SuppressionResult.withheld`); rows to
    send are skipped.  A generator: ids are drawn from *event_ids* one per response.

    A row withheld as ``UNGUELTIG`` because its customer number or address is invalid cannot
    be written as a ``RESP`` record (both fields must be valid there): it yields no response.
    It stays in the withheld rows with its message, for the delivery's acknowledgement
    (``QUIT``); rows read by the library's readers never get here, they are rejected on
    reading.

    >>> import datetime as dt, itertools
    >>> from emma_osplus import Blz, MailingId, OrderNumber
    >>> from emma_osplus._consent import ConsentLedger, ConsentPolicy
    >>> now = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)
    >>> rows = [{"KUNDENNUMMER": "7", "EMAIL": "z@x.de"}]
    >>> verdicts = screen(rows, ConsentLedger(), at=now)
    >>> ids = (f"zh-{n:04d}" for n in itertools.count(1))
    >>> [zh] = withheld_responses(verdicts, blz=Blz("37050198"), order=OrderNumber("K2026001"),
    ...     order_kind="KMM", mailing=MailingId("M-1"), at=now, event_ids=ids)
    >>> zh.to_values()["REAKTION"], zh.reason, str(zh.event_id), str(zh.customer)
    ('ZH', 'KEINE_EINWILLIGUNG', 'zh-0001', '0000000007')
    """
    ids = iter(event_ids)
    for verdict in verdicts:
        if not isinstance(verdict, WithheldRow) or verdict.customer is None:
            continue
        if verdict.email is None:
            continue
        event_id = next(ids)
        yield Withheld(
            event_id=event_id if isinstance(event_id, EventId) else EventId(event_id),
            blz=blz,
            order=order,
            order_kind=order_kind,
            mailing=mailing,
            customer=verdict.customer,
            email=verdict.email,
            at=at,
            reason=verdict.reason.value,
        )
