"""Feedback processing on the OSPlus side: unsubscribes and hard bounces reported by EMMA.

OSPlus processes them **automatically** or leaves them to a person, as the two institute
parameters say (*Aut. Verarb. Abmeld.*, *Aut. Verarb. H.-Bounces*), both off unless set
(:class:`InstituteSettings`).  Every unsubscribe, objection and hard bounce that arrives
becomes a :class:`PendingItem`: processed at once where its setting is on, otherwise pending
until a person completes it (who and when are recorded).  Pending items are listed with their
age, and the ones older than the limit are overdue.  Before a new selection is delivered,
:func:`check_selection` holds back every customer with a pending or processed item and names
the item.

The state is a frozen value (:class:`FeedbackState`); every step returns a new state and
time comes in as an argument.  The life of an item is the transition table
:data:`PENDING_ITEM`::

    received --automatic--> processed
    received --manual-----> pending --complete--> completed

>>> import datetime as dt
>>> from emma_osplus._consent import ConsentEvent
>>> t = lambda day, h=9: dt.datetime(2026, 11, day, h, tzinfo=dt.timezone.utc)
>>> unsub = ConsentEvent(4711, "anna@example.de", "ABMELDUNG", t(3), "ESP_LINK", "EMMA AB LINK")
>>> state = FeedbackState().receive([unsub], at=t(4))
>>> [(a.item.status.value, a.age, a.overdue) for a in state.pending(at=t(6))]
[('pending', datetime.timedelta(days=3), True)]
>>> result = check_selection([{"KUNDENNUMMER": "4711", "EMAIL": "anna@example.de"}], state)
>>> len(result.deliver), result.held_back[0].reason
(0, 'ABMELDUNG pending since 2026-11-03T09:00:00+00:00 (item C-...)')
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Iterable, Mapping
from typing import TypeAlias

import attrs

from ._consent import (
    RESPONSE_MAPPING,
    ConsentEvent,
    ConsentKind,
    ConsentLedger,
    ConsentPolicy,
    consent_event_from_response,
)
from ._errors import InvalidValueError
from ._events import HardBounce, ResponseEvent, Unsubscribed
from ._frozenmap import FrozenMap
from ._machine import TransitionTable
from ._messages import Message
from ._suppression import Row, read_customer, read_email
from ._types import CustomerNumber

__all__ = [
    "DEFAULT_OVERDUE_AFTER",
    "PENDING_ITEM",
    "AgedItem",
    "FeedbackState",
    "GuardResult",
    "HeldBack",
    "InstituteSettings",
    "ItemStatus",
    "PendingItem",
    "check_selection",
    "item_id",
]

#: The default overdue limit: two days.  See :class:`InstituteSettings`.
DEFAULT_OVERDUE_AFTER = dt.timedelta(days=2)

#: The life of a feedback item.  ``received`` is where every item starts; the item is stored
#: in the state it reaches at once (``processed`` or ``pending``).
PENDING_ITEM = TransitionTable(
    name="pending_item",
    initial="received",
    transitions={
        ("received", "automatic"): "processed",
        ("received", "manual"): "pending",
        ("pending", "complete"): "completed",
    },
    final=frozenset({"processed", "completed"}),
)


class ItemStatus(enum.Enum):
    """Where an item is in :data:`PENDING_ITEM`."""

    PENDING = "pending"
    COMPLETED = "completed"
    PROCESSED = "processed"


def _positive(instance: object, attribute: object, value: object) -> None:
    if not isinstance(value, dt.timedelta) or value <= dt.timedelta(0):
        raise ValueError(f"overdue_after must be a positive timedelta, got {value!r}")


@attrs.frozen
class InstituteSettings:
    """The institute parameters for feedback processing.

    ``auto_unsubscribe`` (*Aut. Verarb. Abmeld.*): unsubscribes **and objections** (a
    complaint is an objection) are processed at once.  ``auto_hard_bounce`` (*Aut. Verarb.
    H.-Bounces*): hard bounces are processed at once.  Both are off unless set, as
    BEHAVIOUR.md says.

    ``overdue_after``: a pending item older than this is overdue.  The default is two days
    (:data:`DEFAULT_OVERDUE_AFTER`): an unsubscribe must stop direct marketing without delay
    (GDPR Art. 21(3)), and ReKu orders deliver as often as daily, so an item should be done by
    the next working day; two days give that day and some slack, and an item that arrives on
    a Friday is flagged by Monday morning.  The selection guard holds the customer back in the
    meantime, so "overdue" is about the core system lagging, not about a mail going out.
    """

    auto_unsubscribe: bool = False
    auto_hard_bounce: bool = False
    overdue_after: dt.timedelta = attrs.field(default=DEFAULT_OVERDUE_AFTER, validator=_positive)

    def automatic(self, kind: ConsentKind) -> bool:
        """Whether an item of *kind* is processed at once."""
        if kind is ConsentKind.HARD_BOUNCE:
            return self.auto_hard_bounce
        return self.auto_unsubscribe


#: What :meth:`FeedbackState.receive` accepts: response events (``AB``, ``HB``; others are
#: ignored) and consent events (unsubscribe, objection, hard bounce; consents are ignored).
Feedback: TypeAlias = ResponseEvent | ConsentEvent


def item_id(event: Feedback) -> str:
    """The id of the item for *event*: ``R-`` and the event id for a response (event ids are
    unique per event), ``C-`` and a digest of the content for a consent event.  The same
    event always gives the same id, so receiving it twice has one effect.

    >>> import datetime as dt
    >>> e = ConsentEvent(1, "a@x.de", "ABMELDUNG", dt.datetime(2026, 11, 3, tzinfo=dt.timezone.utc), "BRIEF")
    >>> item_id(e) == item_id(ConsentEvent(1, "a@x.de", "ABMELDUNG", dt.datetime(2026, 11, 3, tzinfo=dt.timezone.utc), "BRIEF"))
    True
    """
    if isinstance(event, ResponseEvent):
        return f"R-{event.event_id}"
    parts = (
        event.customer.value,
        str(event.email),
        event.kind.value,
        event.at.astimezone(dt.timezone.utc).isoformat(),
        event.source.value,
        event.evidence,
    )
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"C-{digest[:20]}"


@attrs.frozen
class PendingItem:
    """A work item for one incoming unsubscribe, objection or hard bounce.

    ``received_at`` is when OSPlus received it; ``source`` is the event it came from
    (``occurred_at`` its own time).  ``status`` says where it is in :data:`PENDING_ITEM`;
    ``done_by`` and ``done_at`` record who completed it and when (``done_by`` is ``None`` for
    automatic processing, ``done_at`` is then the time of receipt).
    """

    id: str
    customer: CustomerNumber
    address_key: str = attrs.field(repr=False)
    kind: ConsentKind
    received_at: dt.datetime
    source: Feedback = attrs.field(repr=False)
    status: ItemStatus
    done_by: str | None = None
    done_at: dt.datetime | None = None

    @property
    def occurred_at(self) -> dt.datetime:
        """The time of the source event (when the recipient acted, or the mail bounced)."""
        return self.source.at

    @property
    def since(self) -> dt.datetime:
        """Where the item's age counts from: the event's own time (the delay a person has
        runs from the unsubscribe, not from the file's arrival), or the receipt if that is
        earlier."""
        return min(self.occurred_at, self.received_at)

    def age(self, at: dt.datetime) -> dt.timedelta:
        """How old the item is at *at*."""
        return at - self.since

    @property
    def consent_event(self) -> ConsentEvent:
        """The item as a consent event (what processing records in the ledger)."""
        if isinstance(self.source, ConsentEvent):
            return self.source
        event = consent_event_from_response(self.source)
        if event is None:  # pragma: no cover - items are only made from AB and HB
            raise ValueError(f"item {self.id} has no consent event")
        return event


@attrs.frozen
class AgedItem:
    """A pending item with its age at the moment asked about, and whether it is overdue."""

    item: PendingItem
    age: dt.timedelta
    overdue: bool


def _as_item(event: Feedback, settings: InstituteSettings, at: dt.datetime) -> PendingItem | None:
    if isinstance(event, Unsubscribed):
        kind = RESPONSE_MAPPING[event.source][0]
        customer, key = event.customer, event.email.matching_key
    elif isinstance(event, HardBounce):
        kind = ConsentKind.HARD_BOUNCE
        customer, key = event.customer, event.email.matching_key
    elif isinstance(event, ConsentEvent) and event.kind.is_restriction:
        kind, customer, key = event.kind, event.customer, event.address_key
    else:
        return None
    if settings.automatic(kind):
        status = ItemStatus(PENDING_ITEM.next("received", "automatic"))
        return PendingItem(item_id(event), customer, key, kind, at, event, status, None, at)
    status = ItemStatus(PENDING_ITEM.next("received", "manual"))
    return PendingItem(item_id(event), customer, key, kind, at, event, status)


def _check_at(at: object) -> None:
    if not isinstance(at, dt.datetime) or at.utcoffset() is None:
        raise InvalidValueError(
            Message("E205", raw=repr(at), detail="expected an aware datetime (with an offset)")
        )


def _freeze(items: Mapping[str, PendingItem]) -> Mapping[str, PendingItem]:
    # a FrozenMap: receive and complete share the items they do not change (O(sqrt n) a step)
    return items if isinstance(items, FrozenMap) else FrozenMap(items)


def _items(state: FeedbackState) -> FrozenMap[str, PendingItem]:
    items = state.items
    assert isinstance(items, FrozenMap)  # the converter made it one
    return items


@attrs.frozen
class FeedbackState:
    """The feedback work of one institute: its settings and every item by id.

    A frozen value: :meth:`receive` and :meth:`complete` return a new state.

    >>> import datetime as dt
    >>> from emma_osplus._consent import ConsentEvent
    >>> t = dt.datetime(2026, 11, 3, 9, tzinfo=dt.timezone.utc)
    >>> bounce = ConsentEvent(4711, "anna@example.de", "HARTBOUNCE", t, "ESP_LINK", "5.1.1")
    >>> auto = FeedbackState(InstituteSettings(auto_hard_bounce=True)).receive([bounce], at=t)
    >>> [item.status.value for item in auto.items.values()], auto.pending(at=t)
    (['processed'], ())
    """

    settings: InstituteSettings = InstituteSettings()
    items: Mapping[str, PendingItem] = attrs.field(factory=dict, converter=_freeze)

    def receive(self, events: Iterable[Feedback], *, at: dt.datetime) -> FeedbackState:
        """The state after receiving *events* at *at* (e.g. the responses of a ``RESP``
        file): an item for every unsubscribe, objection and hard bounce, processed at once
        where the setting is on, pending otherwise.  Other events are ignored; an event
        received before (same item id) has no further effect."""
        _check_at(at)
        added: dict[str, PendingItem] = {}
        for event in events:
            item = _as_item(event, self.settings, at)
            if item is not None and item.id not in self.items and item.id not in added:
                added[item.id] = item
        if not added:
            return self
        return attrs.evolve(self, items=_items(self).updated(added))

    def complete(self, item_id: str, *, by: str, at: dt.datetime) -> FeedbackState:
        """The state after a person (*by*) completed the pending item *item_id* at *at*.

        Raises :class:`KeyError` for an unknown id and
        :class:`~emma_osplus._machine.TransitionRefused` for an item that is not pending.
        """
        _check_at(at)
        if not by.strip():
            raise ValueError("completing an item needs the name of the person (by)")
        item = self.items[item_id]
        status = ItemStatus(PENDING_ITEM.next(item.status.value, "complete"))
        done = attrs.evolve(item, status=status, done_by=by, done_at=at)
        return attrs.evolve(self, items=_items(self).updated({item_id: done}))

    def pending(self, at: dt.datetime) -> tuple[AgedItem, ...]:
        """Every pending item with its age at *at*, the oldest first."""
        _check_at(at)
        limit = self.settings.overdue_after
        aged = [
            AgedItem(item, item.age(at), item.age(at) > limit)
            for item in self.items.values()
            if item.status is ItemStatus.PENDING
        ]
        return tuple(sorted(aged, key=lambda a: (a.item.since, a.item.id)))

    def overdue(self, at: dt.datetime) -> tuple[AgedItem, ...]:
        """The pending items older than ``settings.overdue_after`` at *at*, the oldest first."""
        return tuple(a for a in self.pending(at) if a.overdue)

    def consent_events(self) -> tuple[ConsentEvent, ...]:
        """The consent events of every processed and completed item (for the ledger, or a
        ``CONS`` export), in canonical order."""
        done = (i.consent_event for i in self.items.values() if i.status is not ItemStatus.PENDING)
        return tuple(ConsentLedger(done))


@attrs.frozen(repr=False)
class HeldBack:
    """A row of a selection that is held back: its position (0-based), the row, the customer
    (``None`` if the row has no valid customer number), the items that hold it back (empty
    when the row could not be checked) and a reason that names them."""

    index: int
    row: Row
    customer: CustomerNumber | None
    items: tuple[PendingItem, ...]
    reason: str

    def __repr__(self) -> str:
        customer = None if self.customer is None else self.customer.value
        return f"HeldBack(index={self.index}, customer={customer!r}, reason={self.reason!r})"


@attrs.frozen(repr=False)
class GuardResult:
    """The rows to deliver and the rows held back, both in input order; every input row is in
    exactly one of them."""

    deliver: list[Row]
    held_back: list[HeldBack]

    def __repr__(self) -> str:
        return f"GuardResult(deliver=<{len(self.deliver)} rows>, held_back={self.held_back!r})"

    @property
    def customers(self) -> tuple[CustomerNumber, ...]:
        """The customers held back, each once, in order of first appearance."""
        seen = dict.fromkeys(h.customer for h in self.held_back if h.customer is not None)
        return tuple(seen)


def _describe(item: PendingItem) -> str:
    if item.status is ItemStatus.PENDING:
        state = f"pending since {item.occurred_at.isoformat()}"
    elif item.status is ItemStatus.COMPLETED:
        state = f"completed by {item.done_by} at {item.done_at.isoformat() if item.done_at else ''}"
    else:
        state = f"processed automatically at {item.done_at.isoformat() if item.done_at else ''}"
    return f"{item.kind.value} {state} (item {item.id})"


def _lifted(
    item: PendingItem,
    *,
    customer: CustomerNumber,
    key: str,
    ledger: ConsentLedger,
    at: dt.datetime,
    policy: ConsentPolicy,
) -> bool:
    if item.status is ItemStatus.PENDING:
        return False
    decision = ledger.may_send_key(customer, key, at, policy=policy)
    event = decision.deciding_event
    return (
        decision.allowed
        and event is not None
        and event.kind is ConsentKind.CONSENT
        and event.has_evidence
        and event.at > item.occurred_at
    )


def check_selection(
    rows: Iterable[Row],
    state: FeedbackState,
    *,
    ledger: ConsentLedger | None = None,
    at: dt.datetime | None = None,
    policy: ConsentPolicy = ConsentPolicy(),  # noqa: B008 - frozen value
) -> GuardResult:
    """Check a new selection against the pending and processed items before it is delivered.

    A row is held back when its customer has a pending, completed or processed unsubscribe
    or objection (under any address), or its address (matching key) has any item under any
    customer number (hard bounces count for the address only).  A row whose customer number
    or address cannot be read is held back too (it cannot be checked); the reason carries
    the message.

    A processed or completed item is history, not a life sentence: given the consent
    *ledger* and the moment *at*, an item is released when the ledger allows the send and a
    consent **with evidence** later than the item's event decides.  A pending item always
    holds the row back: a person must look at it first.
    """
    if (ledger is None) != (at is None):
        raise ValueError("give both ledger and at, or neither")
    by_customer: dict[CustomerNumber, list[PendingItem]] = {}
    by_address: dict[str, list[PendingItem]] = {}
    for item in sorted(state.items.values(), key=lambda i: (i.since, i.id)):
        by_address.setdefault(item.address_key, []).append(item)
        if item.kind is not ConsentKind.HARD_BOUNCE:
            by_customer.setdefault(item.customer, []).append(item)
    deliver: list[Row] = []
    held_back: list[HeldBack] = []
    for index, row in enumerate(rows):
        customer: CustomerNumber | None = None
        try:
            customer = read_customer(row)
            email = read_email(row)
        except InvalidValueError as exc:
            reason = f"cannot be checked: {exc.message.describe()}"
            held_back.append(HeldBack(index, row, customer, (), reason))
            continue
        key = email.matching_key
        items = dict.fromkeys([*by_customer.get(customer, ()), *by_address.get(key, ())])
        if ledger is not None and at is not None:
            items = {
                i: None
                for i in items
                if not _lifted(i, customer=customer, key=key, ledger=ledger, at=at, policy=policy)
            }
        if items:
            found = tuple(items)
            reason = "; ".join(_describe(i) for i in found)
            held_back.append(HeldBack(index, row, customer, found, reason))
        else:
            deliver.append(row)
    return GuardResult(deliver, held_back)
