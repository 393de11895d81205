"""The consent ledger: every consent, unsubscribe, objection and hard bounce, and the decision
whether a customer may be mailed at an address.

A :class:`ConsentEvent` records one change of consent for one customer and one address (its
matching key, see :attr:`~emma_osplus._email.EmailAddress.matching_key`), with its own time,
its source and its evidence.  A :class:`ConsentLedger` holds events and nothing else: it is an
**immutable, append-only value** (``append`` returns a new ledger; there is no way to remove or
change an event), events are identified by their full content (the same event twice is
stored once), and every answer depends only on the *set* of events, never on the order in
which they arrived.

**Decision rules** (BEHAVIOUR.md, "Consent and suppression"), applied by
:meth:`ConsentLedger.may_send` to the events whose time is at or before the moment asked
about:

1. The latest event by its own time decides.
2. At equal times the more restrictive wins: objection > unsubscribe > hard bounce > consent.
3. A consent lifts an earlier unsubscribe, objection *or hard bounce* only if it is later
   **and** carries evidence (a ``NACHWEIS`` with at least one non-blank character).  A consent
   without evidence after a restriction changes nothing; the restriction still decides.

The rules run over two streams and the stricter answer wins:

* the **customer stream**: the customer's consents, unsubscribes and objections under any
  address (a person who unsubscribed is unsubscribed, whatever address a selection carries);
* the **address stream**: every event on the address's matching key under any customer number
  (an address unsubscribed or hard-bounced under another customer number stays suppressed).

Hard bounces describe a mailbox, not a person: they count in the address stream only, so a
customer whose old address bounced may be mailed at a new one.  When consent is required
(:attr:`ConsentPolicy.require_consent`, on by default) the customer stream must end in a
consent; a consent given by another customer for the same address does not count.

>>> import datetime as dt
>>> from emma_osplus._consent import ConsentEvent, ConsentKind, ConsentLedger, ConsentSource
>>> t = lambda day: dt.datetime(2026, 11, day, 12, 0, tzinfo=dt.timezone.utc)
>>> ledger = ConsentLedger().extend([
...     ConsentEvent("4711", "Anna@Example.de", ConsentKind.CONSENT, t(1), ConsentSource.WEBFORMULAR, "DOI 2026-11-01"),
...     ConsentEvent("4711", "anna@example.de", ConsentKind.UNSUBSCRIBE, t(5), ConsentSource.ESP_LINK),
... ])
>>> ledger.may_send("4711", "anna@example.de", at=t(3))
Decision(allowed=True, reason=<DecisionReason.CONSENT: 'EINWILLIGUNG'>, deciding_event=ConsentEvent(customer='0000004711', email='A***@example.de', kind='EINWILLIGUNG', at='2026-11-01T12:00:00+00:00', source='WEBFORMULAR', evidence='DOI 2026-11-01'))
>>> d = ledger.may_send("4711", "ANNA@example.de", at=t(6))
>>> d.allowed, d.reason.value, d.deciding_event.kind.value
(False, 'SPERRLISTE', 'ABMELDUNG')
"""

from __future__ import annotations

import datetime as dt
import enum
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from ._converters import DATETIME_OFFSET
from ._email import EmailAddress
from ._errors import InvalidValueError, error_for
from ._events import HardBounce, ResponseEvent, Unsubscribed
from ._messages import Message, mask_addresses
from ._records import Mode, Record, Rejected
from ._types import CustomerNumber

__all__ = [
    "EVIDENCE_MAX",
    "RESPONSE_MAPPING",
    "ConsentEvent",
    "ConsentKind",
    "ConsentLedger",
    "ConsentPolicy",
    "ConsentSource",
    "Decision",
    "DecisionReason",
    "ImportReport",
    "RejectedChange",
    "consent_event_from_response",
    "consent_events_from_responses",
    "decide",
    "event_from_change",
    "export_cons",
    "has_evidence",
    "import_cons",
]

#: The longest evidence (``NACHWEIS``) a consent event may carry, in characters.
EVIDENCE_MAX = 500


class ConsentKind(enum.Enum):
    """What a consent event records; the values are the ``STATUS`` words of a ``CONS`` file."""

    CONSENT = "EINWILLIGUNG"
    UNSUBSCRIBE = "ABMELDUNG"
    OBJECTION = "WIDERSPRUCH"
    HARD_BOUNCE = "HARTBOUNCE"

    @property
    def restrictiveness(self) -> int:
        """The rank at equal times: objection 3 > unsubscribe 2 > hard bounce 1 > consent 0."""
        return _RANK[self]

    @property
    def is_restriction(self) -> bool:
        """True for unsubscribe, objection and hard bounce."""
        return self is not ConsentKind.CONSENT


_RANK = {
    ConsentKind.CONSENT: 0,
    ConsentKind.HARD_BOUNCE: 1,
    ConsentKind.UNSUBSCRIBE: 2,
    ConsentKind.OBJECTION: 3,
}


class ConsentSource(enum.Enum):
    """Where a consent event came from (the ``QUELLE`` column of a ``CONS`` file)."""

    ESP_LINK = "ESP_LINK"
    ESP_LISTUNSUB = "ESP_LISTUNSUB"
    ESP_BESCHWERDE = "ESP_BESCHWERDE"
    FILIALE = "FILIALE"
    TELEFON = "TELEFON"
    BRIEF = "BRIEF"
    WEBFORMULAR = "WEBFORMULAR"
    OSPLUS = "OSPLUS"


def _refuse(code: str, field: str, raw: object, detail: str) -> InvalidValueError:
    text = raw if isinstance(raw, str) else repr(raw)
    return InvalidValueError(Message(code, field=field, raw=text, detail=detail))


def _from_code_table(cls: type[enum.Enum], field: str, value: object) -> Any:
    if isinstance(value, cls):
        return value
    if isinstance(value, enum.Enum):
        value = value.value
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in cls)
        raise _refuse("E207", field, value, f"allowed: {allowed}") from None


def _kind(value: object) -> ConsentKind:
    kind: ConsentKind = _from_code_table(ConsentKind, "STATUS", value)
    return kind


def _source(value: object) -> ConsentSource:
    source: ConsentSource = _from_code_table(ConsentSource, "QUELLE", value)
    return source


def _customer(value: object) -> CustomerNumber:
    if isinstance(value, CustomerNumber):
        return value
    try:
        return CustomerNumber(value)
    except InvalidValueError as exc:
        raise InvalidValueError(attrs.evolve(exc.message, field="KUNDENNUMMER")) from None


def _email(value: object) -> EmailAddress:
    if isinstance(value, EmailAddress):
        return value
    if not isinstance(value, str):
        value = str(value)
    return EmailAddress(value)


def _check_at(instance: object, attribute: object, value: Any) -> None:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise _refuse("E205", "ZEITPUNKT", value, "expected an aware datetime (with an offset)")


def _check_evidence(instance: object, attribute: object, value: Any) -> None:
    if not isinstance(value, str):
        raise _refuse("E209", "NACHWEIS", value, "expected text")
    if len(value) > EVIDENCE_MAX:
        raise _refuse(
            "E206", "NACHWEIS", value, f"{len(value)} characters, at most {EVIDENCE_MAX} allowed"
        )


def has_evidence(evidence: str) -> bool:
    """True when *evidence* has at least one non-blank character (what rule 3 asks for).

    >>> has_evidence("DOI-Bestätigung 2026-11-01 10:02"), has_evidence("  ")
    (True, False)
    """
    return bool(evidence.strip())


@attrs.frozen(repr=False, cache_hash=True)
class ConsentEvent:
    """One change of consent: who (``customer``), which address (``email``, with its
    ``address_key``), what (``kind``), when (``at``, an aware datetime: the event's own time),
    where from (``source``) and with what evidence (``evidence``, at most 500 characters,
    may be empty).

    Arguments are converted where that is unambiguous: a customer number as text or ``int``,
    an address as text, kind and source as their ``CONS`` words.  Refused values raise
    :class:`~emma_osplus.InvalidValueError` naming the ``CONS`` column (E202, E201, E207,
    E205, E206).  ``address_key`` is derived from ``email`` and not an argument.  Two events
    are the same event when every field is equal (times compare as instants).  ``repr`` masks
    the address.

    >>> import datetime as dt
    >>> e = ConsentEvent(4711, "Anna@Bücher.de", "WIDERSPRUCH", dt.datetime(2026, 11, 5, tzinfo=dt.timezone.utc), "BRIEF", "Brief vom 04.11.2026")
    >>> e.customer, e.address_key, e.kind
    (CustomerNumber('0000004711'), 'anna@xn--bcher-kva.de', <ConsentKind.OBJECTION: 'WIDERSPRUCH'>)
    >>> ConsentEvent(4711, "anna@example.de", "ABMELDUNG", dt.datetime(2026, 11, 5), "BRIEF")
    Traceback (most recent call last):
    ...
    emma_osplus._errors.InvalidValueError: E205, field ZEITPUNKT: ... (expected an aware datetime (with an offset))
    """

    customer: CustomerNumber = attrs.field(converter=_customer)
    email: EmailAddress = attrs.field(converter=_email)
    kind: ConsentKind = attrs.field(converter=_kind)
    at: dt.datetime = attrs.field(validator=_check_at)
    source: ConsentSource = attrs.field(converter=_source)
    evidence: str = attrs.field(default="", validator=_check_evidence)
    address_key: str = attrs.field(init=False)
    _sort_key: tuple[Any, ...] = attrs.field(init=False, eq=False, repr=False)

    @address_key.default
    def _address_key(self) -> str:
        return self.email.matching_key

    @_sort_key.default
    def _make_sort_key(self) -> tuple[Any, ...]:
        # Defaults are computed before validators run: check what the key needs first.
        _check_at(self, None, self.at)
        _check_evidence(self, None, self.evidence)
        return (
            self.at.astimezone(dt.timezone.utc),
            _RANK[self.kind],
            has_evidence(self.evidence),
            self.customer.value,
            self.address_key,
            str(self.email),
            self.source.value,
            self.evidence,
        )

    @property
    def has_evidence(self) -> bool:
        """True when the evidence has at least one non-blank character."""
        return has_evidence(self.evidence)

    @property
    def sort_key(self) -> tuple[Any, ...]:
        """The canonical order of events: time (as an instant), then restrictiveness (the
        more restrictive later, so that it wins a tie), then the content (only to make the
        order total and every answer reproducible)."""
        return self._sort_key

    def __repr__(self) -> str:
        return (
            f"ConsentEvent(customer={self.customer.value!r}, "
            f"email={mask_addresses(str(self.email))!r}, kind={self.kind.value!r}, "
            f"at={self.at.isoformat()!r}, source={self.source.value!r}, "
            f"evidence={mask_addresses(self.evidence)!r})"
        )


@attrs.frozen
class ConsentPolicy:
    """How the ledger answers when nothing restricts a customer.

    ``require_consent`` (default ``True``): a customer may be mailed only when their own
    events end in a consent; without one the answer is
    :attr:`DecisionReason.NO_CONSENT` (``ZH`` ``KEINE_EINWILLIGUNG``).  BRIEF.md makes the ESP
    "the last line of defence: if someone uploads the wrong list, it must refuse to send to
    addresses without consent", so the safe setting is the default.  Set it to ``False`` only
    where the ledger is not seeded with consents (OSPlus selected on its own consent flag and
    the ledger only holds restrictions); then "no event" means "may be mailed".
    """

    require_consent: bool = True


class DecisionReason(enum.Enum):
    """Why :meth:`ConsentLedger.may_send` answered as it did.  The refusals carry the ``ZH``
    reason word of FORMATS.md as their value."""

    #: Allowed: the customer's events end in a consent.
    CONSENT = "EINWILLIGUNG"
    #: Allowed: nothing restricts the customer or the address, and consent is not required.
    UNRESTRICTED = "KEINE_SPERRE"
    #: Refused: an unsubscribe or objection decides (``ZH`` ``SPERRLISTE``).
    BLOCKED = "SPERRLISTE"
    #: Refused: a hard bounce on the address decides (``ZH`` ``HARTBOUNCE``).
    HARD_BOUNCE = "HARTBOUNCE"
    #: Refused: consent is required and the customer has none (``ZH`` ``KEINE_EINWILLIGUNG``).
    NO_CONSENT = "KEINE_EINWILLIGUNG"

    @property
    def allowed(self) -> bool:
        """True for the two reasons that allow a send."""
        return self in (DecisionReason.CONSENT, DecisionReason.UNRESTRICTED)

    @property
    def withheld_reason(self) -> str | None:
        """The ``ZH`` reason word for a refusal, ``None`` when the send is allowed."""
        return None if self.allowed else self.value


@attrs.frozen
class Decision:
    """The answer of :meth:`ConsentLedger.may_send`: whether the send is allowed, why, and the
    event that decided (``None`` when no event decided: nothing is known about the customer,
    or consent is missing)."""

    allowed: bool
    reason: DecisionReason
    deciding_event: ConsentEvent | None


def _fold(events: Iterable[ConsentEvent]) -> ConsentEvent | None:
    """The event that decides a stream: *events* must be in canonical order
    (:attr:`ConsentEvent.sort_key`).  ``None`` when the stream is empty."""
    deciding: ConsentEvent | None = None
    for event in events:
        if (
            event.kind is ConsentKind.CONSENT
            and deciding is not None
            and deciding.kind.is_restriction
            and not event.has_evidence
        ):
            continue  # rule 3: a consent without evidence does not lift a restriction
        deciding = event
    return deciding


def decide(
    customer_events: Iterable[ConsentEvent],
    address_events: Iterable[ConsentEvent],
    *,
    policy: ConsentPolicy = ConsentPolicy(),
) -> Decision:
    """The decision for a customer stream and an address stream (any order, duplicates
    allowed; the caller has already left out events after the moment asked about and the
    customer's hard bounces on other addresses).  :meth:`ConsentLedger.may_send` is the usual
    entry point; this function is the rule itself.

    >>> import datetime as dt
    >>> t = lambda h: dt.datetime(2026, 11, 1, h, tzinfo=dt.timezone.utc)
    >>> unsub = ConsentEvent(1, "a@x.de", "ABMELDUNG", t(9), "ESP_LINK")
    >>> bare = ConsentEvent(1, "a@x.de", "EINWILLIGUNG", t(10), "OSPLUS")
    >>> proven = ConsentEvent(1, "a@x.de", "EINWILLIGUNG", t(10), "WEBFORMULAR", "DOI 10:00")
    >>> decide([unsub, bare], [unsub, bare]).reason
    <DecisionReason.BLOCKED: 'SPERRLISTE'>
    >>> decide([unsub, proven], [unsub, proven]).reason
    <DecisionReason.CONSENT: 'EINWILLIGUNG'>
    """
    by_customer = _fold(_canonical(customer_events))
    by_address = _fold(_canonical(address_events))
    restrictions = [e for e in (by_customer, by_address) if e is not None and e.kind.is_restriction]
    if restrictions:
        # Both streams restrict: report the more restrictive, then the later, event.
        worst = max(restrictions, key=_worst_first)
        reason = (
            DecisionReason.HARD_BOUNCE
            if worst.kind is ConsentKind.HARD_BOUNCE
            else DecisionReason.BLOCKED
        )
        return Decision(False, reason, worst)
    if by_customer is not None:  # a consent of the customer's own
        return Decision(True, DecisionReason.CONSENT, by_customer)
    if policy.require_consent:
        return Decision(False, DecisionReason.NO_CONSENT, None)
    return Decision(True, DecisionReason.UNRESTRICTED, by_address)


def _sort_key(event: ConsentEvent) -> tuple[Any, ...]:
    return event._sort_key


def _canonical(events: Iterable[ConsentEvent]) -> list[ConsentEvent]:
    """*events* without duplicates, in canonical order."""
    unique = events if isinstance(events, list) and len(events) < 2 else set(events)
    return sorted(unique, key=_sort_key)


def _worst_first(event: ConsentEvent) -> tuple[Any, ...]:
    return (_RANK[event.kind], event.sort_key)


class _Log:
    """The shared, growing store behind ledger snapshots (private; never exposed).

    A ledger is a prefix of a log: ``(log, size)``.  Appending to the newest snapshot pushes
    onto the log (amortised O(1)); appending to an older snapshot copies its prefix into a new
    log, so no snapshot ever sees an event it was not given.
    """

    __slots__ = ("by_address", "by_customer", "events", "position")

    def __init__(self) -> None:
        self.events: list[ConsentEvent] = []
        self.position: dict[ConsentEvent, int] = {}
        self.by_customer: dict[CustomerNumber, list[int]] = {}
        self.by_address: dict[str, list[int]] = {}

    def push(self, event: ConsentEvent) -> None:
        index = len(self.events)
        self.events.append(event)
        self.position[event] = index
        self.by_customer.setdefault(event.customer, []).append(index)
        self.by_address.setdefault(event.address_key, []).append(index)


@attrs.frozen(init=False, eq=False, repr=False)
class ConsentLedger:
    """The consent ledger: an immutable, append-only set of :class:`ConsentEvent` objects.

    ``append`` and ``extend`` return a new ledger and leave the old one as it was; no method
    removes or changes an event.  Appending an event the ledger already holds returns the
    ledger itself (the same event twice changes nothing).  Two ledgers are equal when they
    hold the same events, whatever the order they were appended in; iteration, ``history``
    and every decision use the canonical order (:attr:`ConsentEvent.sort_key`).

    Appending to the newest ledger costs amortised O(1) (the ledgers share one growing log);
    appending to an older ledger copies it first.  Reading a ledger from several threads is
    safe; appending to the same ledger from several threads needs a lock.

    >>> import datetime as dt
    >>> e = ConsentEvent(4711, "anna@example.de", "ABMELDUNG", dt.datetime(2026, 11, 5, tzinfo=dt.timezone.utc), "TELEFON", "Anruf 05.11., Frau Meier")
    >>> empty = ConsentLedger()
    >>> one = empty.append(e)
    >>> len(empty), len(one), one.append(e) is one, e in one
    (0, 1, True, True)
    """

    _log: _Log
    _size: int

    def __init__(self, events: Iterable[ConsentEvent] = ()) -> None:
        log = _Log()
        for event in events:
            if not isinstance(event, ConsentEvent):
                raise TypeError(f"expected ConsentEvent, got {type(event).__name__}")
            if event not in log.position:
                log.push(event)
        self.__attrs_init__(log, len(log.events))

    @classmethod
    def _snapshot(cls, log: _Log, size: int) -> ConsentLedger:
        ledger = cls.__new__(cls)
        ledger.__attrs_init__(log, size)
        return ledger

    # -- the set -------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._size

    def __contains__(self, event: object) -> bool:
        if not isinstance(event, ConsentEvent):
            return False
        index = self._log.position.get(event)
        return index is not None and index < self._size

    def __iter__(self) -> Iterator[ConsentEvent]:
        """The events in canonical order."""
        return iter(sorted(self._log.events[: self._size], key=_sort_key))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConsentLedger):
            return NotImplemented
        if len(self) != len(other):
            return False
        return all(event in other for event in self._log.events[: self._size])

    def __hash__(self) -> int:
        return hash(frozenset(self._log.events[: self._size]))

    def __repr__(self) -> str:
        return f"ConsentLedger(<{self._size} events>)"

    # -- appending -----------------------------------------------------------------------

    def append(self, event: ConsentEvent) -> ConsentLedger:
        """A ledger with *event* added (this ledger itself if it already holds it)."""
        if not isinstance(event, ConsentEvent):
            raise TypeError(f"expected ConsentEvent, got {type(event).__name__}")
        if event in self:
            return self
        log, size = self._log, self._size
        if size == len(log.events):
            log.push(event)
            return self._snapshot(log, size + 1)
        if log.events[size] == event:  # the same append was made before: share it
            return self._snapshot(log, size + 1)
        fork = _Log()
        for old in log.events[:size]:
            fork.push(old)
        fork.push(event)
        return self._snapshot(fork, size + 1)

    def extend(self, events: Iterable[ConsentEvent]) -> ConsentLedger:
        """A ledger with every event of *events* added (duplicates have no effect)."""
        ledger = self
        for event in events:
            ledger = ledger.append(event)
        return ledger

    def since(self, earlier: ConsentLedger) -> tuple[ConsentEvent, ...]:
        """The events of this ledger that *earlier* does not hold, in canonical order (what
        to export after a previous export of *earlier*)."""
        return tuple(sorted((e for e in self._raw() if e not in earlier), key=_sort_key))

    # -- queries -------------------------------------------------------------------------

    def _raw(self) -> list[ConsentEvent]:
        return self._log.events[: self._size]

    def _select(self, index: Mapping[Any, list[int]], key: object) -> list[ConsentEvent]:
        positions = index.get(key)
        if not positions:
            return []
        events = self._log.events
        return [events[i] for i in positions[: bisect_left(positions, self._size)]]

    def history(self, customer: CustomerNumber | str | int) -> tuple[ConsentEvent, ...]:
        """Every event recorded under *customer* (any address), in canonical order: who
        (``customer``, ``email``), when (``at``), from where (``source``), with what evidence
        (``evidence``)."""
        events = self._select(self._log.by_customer, _customer(customer))
        return tuple(sorted(events, key=_sort_key))

    def address_history(self, address: EmailAddress | str) -> tuple[ConsentEvent, ...]:
        """Every event recorded on the matching key of *address* (any customer), in
        canonical order."""
        events = self._select(self._log.by_address, _email(address).matching_key)
        return tuple(sorted(events, key=_sort_key))

    def may_send(
        self,
        customer: CustomerNumber | str | int,
        address: EmailAddress | str,
        at: dt.datetime,
        *,
        policy: ConsentPolicy = ConsentPolicy(),
    ) -> Decision:
        """Whether *customer* may be mailed at *address* at the moment *at*, by the rules of
        the module documentation; only events with a time at or before *at* count.

        Raises :class:`~emma_osplus.InvalidValueError` for an invalid customer number
        (E202), address (E201) or time (E205).
        """
        return self.may_send_key(
            _customer(customer), _email(address).matching_key, at, policy=policy
        )

    def may_send_key(
        self,
        customer: CustomerNumber,
        address_key: str,
        at: dt.datetime,
        *,
        policy: ConsentPolicy = ConsentPolicy(),
    ) -> Decision:
        """:meth:`may_send` for an address given by its matching key (already computed)."""
        _check_at(None, None, at)
        customer_events = [
            e
            for e in self._select(self._log.by_customer, customer)
            if e.at <= at and e.kind is not ConsentKind.HARD_BOUNCE
        ]
        address_events = [e for e in self._select(self._log.by_address, address_key) if e.at <= at]
        return decide(customer_events, address_events, policy=policy)


# -- from response events -------------------------------------------------------------------

#: How an unsubscribe reported by EMMA (``AB`` with its ``DETAIL`` source) becomes a consent
#: event.  A complaint (``BESCHWERDE``: the recipient pressed "report spam") is an
#: **objection**: it is the strongest "no" a recipient can give.  ``PROFIL`` (EMMA's
#: preference page, reached through the link in a mailing) counts as ``ESP_LINK``;
#: ``MANUELL`` (entered in EMMA by institute staff, on a request that reached the institute)
#: counts as ``FILIALE``.  The evidence of every derived event names the original ``RESP``
#: code and detail, so nothing of the original is lost.
RESPONSE_MAPPING: Mapping[str, tuple[ConsentKind, ConsentSource]] = {
    "LINK": (ConsentKind.UNSUBSCRIBE, ConsentSource.ESP_LINK),
    "LISTUNSUB": (ConsentKind.UNSUBSCRIBE, ConsentSource.ESP_LISTUNSUB),
    "PROFIL": (ConsentKind.UNSUBSCRIBE, ConsentSource.ESP_LINK),
    "BESCHWERDE": (ConsentKind.OBJECTION, ConsentSource.ESP_BESCHWERDE),
    "MANUELL": (ConsentKind.UNSUBSCRIBE, ConsentSource.FILIALE),
}

_DIAGNOSTIC_MAX = 300


def _response_evidence(event: ResponseEvent, detail: str) -> str:
    if len(detail) > _DIAGNOSTIC_MAX:
        detail = detail[:_DIAGNOSTIC_MAX] + " [gekürzt]"
    head = f"EMMA {event.CODE} {detail}" if detail else f"EMMA {event.CODE}"
    return (
        f"{head}; Ereignis {event.event_id}; BLZ {event.blz}; "
        f"Auftrag {event.order} ({event.order_kind}); Mailing {event.mailing}"
    )


def consent_event_from_response(
    event: ResponseEvent,
    *,
    mapping: Mapping[str, tuple[ConsentKind, ConsentSource]] = RESPONSE_MAPPING,
) -> ConsentEvent | None:
    """The consent event for one response event: an unsubscribe (``AB``) by *mapping*, a hard
    bounce (``HB``) as :attr:`ConsentKind.HARD_BOUNCE` with source ``ESP_LINK``; ``None`` for
    every other response (sent, opened, clicked, soft bounce, withheld)."""
    if isinstance(event, Unsubscribed):
        kind, source = mapping[event.source]
        evidence = _response_evidence(event, event.source)
    elif isinstance(event, HardBounce):
        kind, source = ConsentKind.HARD_BOUNCE, ConsentSource.ESP_LINK
        evidence = _response_evidence(event, f"{event.status} {event.diagnostic}".strip())
    else:
        return None
    return ConsentEvent(event.customer, event.email, kind, event.at, source, evidence)


def consent_events_from_responses(
    events: Iterable[ResponseEvent],
    *,
    mapping: Mapping[str, tuple[ConsentKind, ConsentSource]] = RESPONSE_MAPPING,
) -> Iterator[ConsentEvent]:
    """The consent events for the unsubscribes and hard bounces among *events* (a generator;
    other responses are skipped).  See :data:`RESPONSE_MAPPING` for unsubscribe sources.

    A hard bounce's source is ``ESP_LINK``: the ``CONS`` source table has no entry for a
    bounce, and ``ESP_LINK`` is the one that names EMMA's delivery; the bounce's status code
    and diagnostic are in the evidence.  The diagnostic is kept in full up to 300 characters
    (the ``RESP`` field holds 40), a longer one is cut and marked ``[gekürzt]``.

    >>> import datetime as dt
    >>> from emma_osplus import Blz, EventId, MailingId, OrderNumber
    >>> from emma_osplus._events import Unsubscribed
    >>> ab = Unsubscribed(event_id=EventId("evt-7"), blz=Blz("37050198"), order=OrderNumber("K2026001"),
    ...     order_kind="KMM", mailing=MailingId("M-2026-11"), customer=CustomerNumber(4711),
    ...     email=EmailAddress("anna@example.de"), at=dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.timezone.utc),
    ...     source="BESCHWERDE")
    >>> [event] = consent_events_from_responses([ab])
    >>> event.kind, event.source
    (<ConsentKind.OBJECTION: 'WIDERSPRUCH'>, <ConsentSource.ESP_BESCHWERDE: 'ESP_BESCHWERDE'>)
    >>> event.evidence
    'EMMA AB BESCHWERDE; Ereignis evt-7; BLZ 37050198; Auftrag K2026001 (KMM); Mailing M-2026-11'
    """
    for event in events:
        converted = consent_event_from_response(event, mapping=mapping)
        if converted is not None:
            yield converted


# -- CONS sync ------------------------------------------------------------------------------

# The ``CONS`` columns, in file order, and the ConsentEvent field each one fills.
_CONS_FIELDS: tuple[tuple[str, str], ...] = (
    ("KUNDENNUMMER", "customer"),
    ("EMAIL", "email"),
    ("STATUS", "kind"),
    ("ZEITPUNKT", "at"),
    ("QUELLE", "source"),
    ("NACHWEIS", "evidence"),
)
# The attribute names of a ConsentChange (_cons.py), in the same order.
_CHANGE_ATTRIBUTES = ("customer", "email", "status", "time", "source", "evidence")


def _from_columns(values: Mapping[str, Any]) -> ConsentEvent:
    upper = {str(k).strip().upper(): v for k, v in values.items()}
    args: dict[str, Any] = {}
    for column, field in _CONS_FIELDS:
        value = upper.get(column)
        if value is None or (value == "" and column != "NACHWEIS"):
            raise InvalidValueError(
                Message("E208", field=column, raw="", detail="required value missing")
            )
        if column == "ZEITPUNKT" and isinstance(value, str):
            try:
                value = DATETIME_OFFSET.parse(value)
            except InvalidValueError as exc:
                raise InvalidValueError(attrs.evolve(exc.message, field=column)) from None
        args[field] = value
    return ConsentEvent(**args)


def event_from_change(change: object) -> ConsentEvent:
    """The :class:`ConsentEvent` of one ``CONS`` row.

    *change* is a ``ConsentChange`` (any object with the attributes ``customer``, ``email``,
    ``status``, ``time``, ``source`` and ``evidence``), a :class:`~emma_osplus.Record` of a
    ``CONS`` file (its ``typed`` values where present, else its text ``values``), a mapping of
    ``CONS`` column to value, or a :class:`ConsentEvent` (returned as it is).  Raises
    :class:`~emma_osplus.InvalidValueError` naming the column (E208 for a missing value).

    >>> event_from_change({"KUNDENNUMMER": "4711", "EMAIL": "anna@example.de", "STATUS": "ABMELDUNG",
    ...     "ZEITPUNKT": "2026-11-03T10:15:00+01:00", "QUELLE": "TELEFON", "NACHWEIS": ""}).at.isoformat()
    '2026-11-03T10:15:00+01:00'
    """
    if isinstance(change, ConsentEvent):
        return change
    if isinstance(change, Record):
        values: dict[str, Any] = dict(change.values)
        values.update({k: v for k, v in change.typed.items() if v is not None})
        return _from_columns(values)
    if isinstance(change, Mapping):
        return _from_columns(change)
    if all(hasattr(change, name) for name in _CHANGE_ATTRIBUTES):
        customer, email, status, time, source, evidence = (
            getattr(change, name) for name in _CHANGE_ATTRIBUTES
        )
        return ConsentEvent(customer, email, status, time, source, evidence or "")
    raise TypeError(f"not a consent change: {type(change).__name__}")


@attrs.frozen(repr=False)
class RejectedChange:
    """A ``CONS`` row that could not become a consent event (lenient import): its position
    in the input (0-based), the row as given and the message that says why.  ``repr`` masks
    addresses."""

    index: int
    row: object
    message: Message

    def __repr__(self) -> str:
        return (
            f"RejectedChange(index={self.index}, row={mask_addresses(repr(self.row))}, "
            f"message={self.message!r})"
        )


@attrs.frozen
class ImportReport:
    """What :func:`import_cons` did: ``new`` events added to the ledger, ``duplicates``
    already there (or repeated in the input), ``rejected`` rows (lenient mode only)."""

    new: int
    duplicates: int
    rejected: tuple[RejectedChange, ...] = ()

    @property
    def total(self) -> int:
        """Every input row: new + duplicates + rejected."""
        return self.new + self.duplicates + len(self.rejected)


def import_cons(
    ledger: ConsentLedger,
    changes: Iterable[object],
    *,
    mode: Mode = Mode.STRICT,
) -> tuple[ConsentLedger, ImportReport]:
    """Add the rows of a ``CONS`` file to *ledger*: the new ledger and a report.

    Idempotent: importing the same rows again adds nothing (every row is then a duplicate).
    *changes* are what :func:`event_from_change` accepts, and also
    :class:`~emma_osplus.Rejected` items of a lenient reader.  In :attr:`~emma_osplus.Mode.STRICT`
    mode the first bad row raises (:func:`~emma_osplus.error_for` of its message, a
    :class:`~emma_osplus.RecordError`) and the given ledger is unchanged; in lenient mode bad
    rows are reported in :attr:`ImportReport.rejected` and the good ones imported.  A message
    names the row by its ``line``: a record's line, else the row's 1-based position in
    *changes*.

    >>> rows = [{"KUNDENNUMMER": "4711", "EMAIL": "anna@example.de", "STATUS": "WIDERSPRUCH",
    ...          "ZEITPUNKT": "2026-11-03T10:15:00+01:00", "QUELLE": "BRIEF", "NACHWEIS": "Brief vom 02.11."}]
    >>> ledger, report = import_cons(ConsentLedger(), rows)
    >>> report
    ImportReport(new=1, duplicates=0, rejected=())
    >>> ledger, report = import_cons(ledger, rows)
    >>> report, len(ledger)
    (ImportReport(new=0, duplicates=1, rejected=()), 1)
    """
    result = ledger
    new = duplicates = 0
    rejected: list[RejectedChange] = []
    for index, change in enumerate(changes):
        if isinstance(change, Rejected):
            message = change.messages[0]
        else:
            try:
                event = event_from_change(change)
            except InvalidValueError as exc:
                message = exc.message
            else:
                grown = result.append(event)
                if grown is result:
                    duplicates += 1
                else:
                    new += 1
                result = grown
                continue
        if message.line is None:
            line = change.line if isinstance(change, Record) else index + 1
            message = attrs.evolve(message, line=line)
        if mode is Mode.STRICT:
            raise error_for(message)
        rejected.append(RejectedChange(index, change, message))
    return result, ImportReport(new, duplicates, tuple(rejected))


def export_cons(
    ledger: ConsentLedger,
    since: dt.datetime | ConsentLedger | None = None,
) -> list[Any]:
    """The ledger's events as ``CONS`` rows (``ConsentChange`` objects of ``_cons.py``, in
    canonical order); ``write_cons`` turns them into the file's bytes.

    *since* selects what to export: ``None`` every event; a ledger (the one exported last
    time) the events it does not hold — the safe choice for a nightly sync, because it also
    catches events that arrived late with an old time; a datetime the events whose own time
    is at or after it (an event at exactly *since* is exported again; importing is idempotent,
    so that is harmless).
    """
    from ._cons import ConsentChange  # noqa: PLC0415 - _cons imports this module

    if since is None:
        events: Iterable[ConsentEvent] = ledger
    elif isinstance(since, ConsentLedger):
        events = ledger.since(since)
    else:
        _check_at(None, None, since)
        events = (e for e in ledger if e.at >= since)
    return [ConsentChange(e.customer, e.email, e.kind, e.at, e.source, e.evidence) for e in events]
