"""The recipient state machine: folding response events into a state that does not depend on
the order in which they arrive.

BEHAVIOUR.md, *Recipient responses*: the key is institute, order number, mailing id and
customer number (:class:`~emma_osplus._events.RecipientKey`).  Engagement only rises
(sent < opened < clicked; a click implies an open implies sent), a hard bounce ends delivery
for the mailing, a withheld mail was never sent (a response that says otherwise is a
*contradiction*, reported and kept, not applied silently), the same event twice has one
effect, and the state after a set of events is the same whatever order they arrive in.

**The state is a join-semilattice.**  A :class:`RecipientState` is the join (least upper bound)
of the facts its events contribute: the highest engagement, the earliest delivering event, the
earliest withheld event, the earliest hard bounce ("earliest" by time, then event id, then the
record's text, so ties are decided too).  Joins are commutative, associative and idempotent,
hence any permutation and any duplication of the same events give the same state.  Its
``status`` is the join in the small lattice of delivery states that :data:`RECIPIENT` (the one
transition table) lists::

    new < sent < opened < clicked < bounced < contradiction
    new < withheld < contradiction

The table's ``next(status, kind)`` is ``status ⊔ kind``; an unsubscribe does not change the
delivery state (it is kept in the :class:`ResponseBook` for the consent ledger).

>>> import datetime as dt
>>> from emma_osplus import Blz, CustomerNumber, EventId, MailingId, OrderNumber
>>> from emma_osplus._email import EmailAddress
>>> from emma_osplus._events import Clicked, Sent, Withheld
>>> from emma_osplus._responses import fold
>>> def event(cls, number, day, **extra):
...     return cls(
...         event_id=EventId(f"e{number}"), blz=Blz("37050198"), order=OrderNumber("K1"),
...         order_kind="KMM", mailing=MailingId("M1"), customer=CustomerNumber(4711),
...         email=EmailAddress("anna@example.de"),
...         at=dt.datetime(2026, 3, day, tzinfo=dt.timezone.utc), **extra)
>>> click, sent = event(Clicked, 2, 5, link="L1"), event(Sent, 1, 4)
>>> book = fold([click, sent, click])          # late, twice, out of order
>>> state = book[sent.key]
>>> state.status, state.engagement.name, str(state.first_delivery.event_id)
('clicked', 'CLICKED', 'e1')
>>> book = fold([event(Withheld, 3, 3, reason="SPERRLISTE"), sent])
>>> book[sent.key].status, book[sent.key].contradiction
('contradiction', (EventId('e3'), EventId('e1')))

Folding millions of records goes through :func:`fold_values` (or :func:`fold_rows`), which
works on the texts of ``RESP`` detail records without building event objects and gives the
same :class:`ResponseBook`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import enum
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeAlias, TypeVar

import attrs

from ._email import EmailAddress, matching_key
from ._errors import InvalidValueError
from ._events import (
    RESP_FIELDS,
    Clicked,
    HardBounce,
    Opened,
    RecipientKey,
    ResponseEvent,
    SoftBounce,
    Unsubscribed,
    Withheld,
    _event_from_row,
    _parse_stamp,
    _row,
    _stamp,
)
from ._machine import TransitionTable
from ._messages import Message
from ._types import Blz, CustomerNumber, EventId

__all__ = [
    "DEFAULT_SOFT_BOUNCE_POLICY",
    "RECIPIENT",
    "Contradiction",
    "Engagement",
    "Escalation",
    "EventRef",
    "RecipientState",
    "ResponseBook",
    "SoftBouncePolicy",
    "apply",
    "fold",
    "fold_rows",
    "fold_values",
]


class Engagement(enum.IntEnum):
    """How far a recipient got with a mailing; only ever rises."""

    NONE = 0
    SENT = 1
    OPENED = 2
    CLICKED = 3


#: The recipient state machine: the lattice of delivery states, one row per
#: ``(state, event kind)``; the next state is the join of both (see the module docstring).
RECIPIENT = TransitionTable(
    name="recipient",
    initial="new",
    transitions={
        ("new", "sent"): "sent",
        ("new", "opened"): "opened",
        ("new", "clicked"): "clicked",
        ("new", "soft_bounce"): "sent",
        ("new", "hard_bounce"): "bounced",
        ("new", "withheld"): "withheld",
        ("sent", "sent"): "sent",
        ("sent", "opened"): "opened",
        ("sent", "clicked"): "clicked",
        ("sent", "soft_bounce"): "sent",
        ("sent", "hard_bounce"): "bounced",
        ("sent", "withheld"): "contradiction",
        ("opened", "sent"): "opened",
        ("opened", "opened"): "opened",
        ("opened", "clicked"): "clicked",
        ("opened", "soft_bounce"): "opened",
        ("opened", "hard_bounce"): "bounced",
        ("opened", "withheld"): "contradiction",
        ("clicked", "sent"): "clicked",
        ("clicked", "opened"): "clicked",
        ("clicked", "clicked"): "clicked",
        ("clicked", "soft_bounce"): "clicked",
        ("clicked", "hard_bounce"): "bounced",
        ("clicked", "withheld"): "contradiction",
        ("bounced", "sent"): "bounced",
        ("bounced", "opened"): "bounced",
        ("bounced", "clicked"): "bounced",
        ("bounced", "soft_bounce"): "bounced",
        ("bounced", "hard_bounce"): "bounced",
        ("bounced", "withheld"): "contradiction",
        ("withheld", "sent"): "contradiction",
        ("withheld", "opened"): "contradiction",
        ("withheld", "clicked"): "contradiction",
        ("withheld", "soft_bounce"): "contradiction",
        ("withheld", "hard_bounce"): "contradiction",
        ("withheld", "withheld"): "withheld",
        ("contradiction", "sent"): "contradiction",
        ("contradiction", "opened"): "contradiction",
        ("contradiction", "clicked"): "contradiction",
        ("contradiction", "soft_bounce"): "contradiction",
        ("contradiction", "hard_bounce"): "contradiction",
        ("contradiction", "withheld"): "contradiction",
    },
)

# Engagement an event kind implies (a bounce implies the mail was sent).
_LEVEL: Mapping[str, Engagement] = {
    "sent": Engagement.SENT,
    "opened": Engagement.OPENED,
    "clicked": Engagement.CLICKED,
    "soft_bounce": Engagement.SENT,
    "hard_bounce": Engagement.SENT,
}
_BY_LEVEL = ("new", "sent", "opened", "clicked")


def _status(level: int, bounced: bool, withheld: bool) -> str:
    """The delivery state of the lattice element (the fast path's view of the table)."""
    if withheld:
        return "contradiction" if level else "withheld"
    if bounced:
        return "bounced"
    return _BY_LEVEL[level]


@attrs.frozen
class EventRef:
    """A reference to one event: its time, id and ``RESP`` code."""

    at: dt.datetime
    event_id: EventId
    code: str

    @property
    def order_key(self) -> tuple[dt.datetime, str, str]:
        """Sort key: time, event id, code."""
        return (self.at, str(self.event_id), self.code)


def _event_key(event: ResponseEvent) -> tuple[dt.datetime, str, tuple[str, ...]]:
    return (event.at, str(event.event_id), _row(event))


_E = TypeVar("_E", bound=ResponseEvent)


def _earliest(current: _E | None, event: _E) -> _E:
    if current is None or _event_key(event) < _event_key(current):
        return event
    return current


@attrs.frozen
class RecipientState:
    """The state of one recipient of one mailing: an element of the join-semilattice.

    ``status`` is the delivery state of :data:`RECIPIENT`; ``engagement`` the highest level
    reached (a bounce counts as sent); ``first_delivery`` the earliest event that implies the
    mail was sent (sent, opened, clicked or a bounce); ``withheld`` and ``hard_bounce`` the
    earliest such events.  The initial state is ``RecipientState()``.
    """

    status: str = "new"
    engagement: Engagement = Engagement.NONE
    first_delivery: EventRef | None = None
    withheld: Withheld | None = None
    hard_bounce: HardBounce | None = None

    @property
    def contradiction(self) -> tuple[EventId, EventId] | None:
        """``(withheld event id, delivering event id)`` when the mail is reported both
        withheld and sent, else ``None``."""
        if self.withheld is None or self.first_delivery is None:
            return None
        return (self.withheld.event_id, self.first_delivery.event_id)

    @property
    def delivery_ended(self) -> bool:
        """True after a hard bounce: this mailing reaches the recipient no more."""
        return self.hard_bounce is not None


def apply(state: RecipientState, event: ResponseEvent) -> RecipientState:
    """The state after *event* (pure; the status comes from :data:`RECIPIENT`).

    An :class:`~emma_osplus._events.Unsubscribed` leaves the delivery state as it is (the
    :class:`ResponseBook` keeps unsubscribes for the consent ledger).

    >>> RecipientState().status
    'new'
    """
    if isinstance(event, Unsubscribed):
        return state
    status = RECIPIENT.next(state.status, event.KIND)
    if isinstance(event, Withheld):
        return attrs.evolve(state, status=status, withheld=_earliest(state.withheld, event))
    ref = EventRef(event.at, event.event_id, event.CODE)
    first = state.first_delivery
    if first is None or ref.order_key < first.order_key:
        first = ref
    hard = state.hard_bounce
    if isinstance(event, HardBounce):
        hard = _earliest(hard, event)
    return RecipientState(
        status=status,
        engagement=max(state.engagement, _LEVEL[event.KIND]),
        first_delivery=first,
        withheld=state.withheld,
        hard_bounce=hard,
    )


@attrs.frozen
class SoftBouncePolicy:
    """When soft bounces of one address (its matching key), across mailings, make it count as
    hard-bounced.

    The address escalates when at least ``threshold`` soft bounces lie within ``window`` of
    each other (first to last), span at least ``min_span`` (so that one outage of a receiving
    server, however many mails it bounces, is not enough), and — with
    ``reset_on_engagement`` — no open or click of the address falls between the first and the
    last of them (an engagement at the same second as a bounce counts as before it).  The
    decision uses the events' own times, never their arrival order.

    Defaults: **5 soft bounces within 90 days, spanning at least 15 days, reset by an open or
    click** (the user guide explains the choice against Brevo, Salesforce Marketing Cloud,
    Mailchimp and listmonk).

    >>> SoftBouncePolicy()
    SoftBouncePolicy(threshold=5, window=datetime.timedelta(days=90), min_span=datetime.timedelta(days=15), reset_on_engagement=True)
    >>> SoftBouncePolicy(threshold=0)
    Traceback (most recent call last):
    ...
    ValueError: threshold must be at least 1, not 0
    """

    threshold: int = 5
    window: dt.timedelta = dt.timedelta(days=90)
    min_span: dt.timedelta = dt.timedelta(days=15)
    reset_on_engagement: bool = True

    def __attrs_post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError(f"threshold must be at least 1, not {self.threshold}")
        if self.min_span < dt.timedelta(0):
            raise ValueError("min_span must not be negative")
        if self.window < self.min_span:
            raise ValueError("window must not be shorter than min_span")
        if self.threshold == 1 and self.min_span:
            raise ValueError("one bounce spans no time: use min_span=0 with threshold=1")


#: The default policy (5 within 90 days, spanning at least 15 days, reset on engagement).
DEFAULT_SOFT_BOUNCE_POLICY = SoftBouncePolicy()


@attrs.frozen
class Contradiction:
    """A recipient reported both withheld and sent: the withheld event and the earliest event
    that says the mail went out."""

    key: RecipientKey
    withheld: Withheld
    delivered: EventRef

    @property
    def event_ids(self) -> tuple[EventId, EventId]:
        """``(withheld event id, delivering event id)``."""
        return (self.withheld.event_id, self.delivered.event_id)


@attrs.frozen
class Escalation:
    """An address whose soft bounces reached the policy: treat it like a hard bounce.

    ``address`` is the matching key, ``at`` the time of the bounce that reached the threshold
    (and span), ``bounces`` the run of soft bounces that did (in time order).
    """

    address: str
    at: dt.datetime
    bounces: tuple[SoftBounce, ...]

    @property
    def recipients(self) -> tuple[tuple[Blz, EmailAddress, CustomerNumber], ...]:
        """``(institute, address as written, customer number)`` of every bounce, distinct,
        in time order of their first bounce."""
        seen: dict[tuple[Blz, EmailAddress, CustomerNumber], None] = {}
        for bounce in self.bounces:
            seen.setdefault((bounce.blz, bounce.email, bounce.customer), None)
        return tuple(seen)


_Key: TypeAlias = tuple[str, str, str, str]
# The fast path's per-key state: (level, first stamp, first id, first code, withheld row,
# hard-bounce row); None where there is none.
_Compact: TypeAlias = tuple[
    int,
    "str | None",
    "str | None",
    "str | None",
    "tuple[str, ...] | None",
    "tuple[str, ...] | None",
]
_Row: TypeAlias = tuple[str, ...]

_FAST_KIND: Mapping[str, int] = {"VS": 1, "OE": 2, "KL": 3, "HB": 4, "SB": 5, "ZH": 6, "AB": 7}
_EMPTY: _Compact = (0, None, None, None, None, None)


def _address_key(address: EmailAddress | str) -> str:
    if isinstance(address, EmailAddress):
        return address.matching_key
    return matching_key(address)


def _text_key(email: str) -> str:
    """Matching key of a canonical address text (the domain is already lower case)."""
    return email.lower() if email.isascii() else matching_key(email)


def _row_order(row: _Row) -> tuple[str, str, _Row]:
    return (row[4], row[9], row)


def _compact(state: RecipientState) -> _Compact:
    first = state.first_delivery
    return (
        int(state.engagement),
        None if first is None else _stamp(first.at),
        None if first is None else str(first.event_id),
        None if first is None else first.code,
        None if state.withheld is None else _row(state.withheld),
        None if state.hard_bounce is None else _row(state.hard_bounce),
    )


def _public(compact: _Compact, blz: str) -> RecipientState:
    level, stamp, event_id, code, withheld, hard = compact
    first = None
    if stamp is not None and event_id is not None and code is not None:
        first = EventRef(_parse_stamp(stamp), EventId(event_id), code)
    return RecipientState(
        status=_status(level, hard is not None, withheld is not None),
        engagement=Engagement(level),
        first_delivery=first,
        withheld=None if withheld is None else _as(Withheld, _event_from_row(withheld, blz)),
        hard_bounce=None if hard is None else _as(HardBounce, _event_from_row(hard, blz)),
    )


def _as(cls: type[_E], event: ResponseEvent) -> _E:
    if not isinstance(event, cls):  # pragma: no cover - rows are stored by their code
        raise TypeError(f"expected {cls.__name__}, got {type(event).__name__}")
    return event


def _unknown_code(row: Sequence[str]) -> InvalidValueError:
    return InvalidValueError(
        Message(
            "E207", field="REAKTION", raw=str(row[3]), detail="allowed: " + ", ".join(_FAST_KIND)
        )
    )


class ResponseBook:
    """The folded responses: a :class:`RecipientState` per :class:`RecipientKey`, plus what
    the consent side needs — unsubscribes, hard bounces, soft-bounce escalations — and the
    contradictions to report.

    Built by :func:`fold`, :func:`fold_values` or :func:`fold_rows` (which return a new book)
    or updated in place with :meth:`update`, :meth:`update_values` and :meth:`update_rows`.
    Two books are equal when they hold the same states and facts, however they were built.
    """

    __slots__ = ("_engaged_at", "_engaged_by", "_index", "_soft", "_states", "_unsubscribes")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self) -> None:
        self._states: dict[_Key, _Compact] = {}
        self._unsubscribes: set[tuple[str, _Row]] = set()
        self._soft: dict[str, set[tuple[str, str, str, _Row]]] = {}
        # Opens and clicks, as a log of (address as written, time) in two parallel lists:
        # appending is cheap, and only addresses with soft bounces ever need the times, so the
        # index by matching key is built when an escalation is asked for (see _engagements).
        self._engaged_by: list[str] = []
        self._engaged_at: list[str] = []
        self._index: dict[str, list[str]] | None = None

    # -- building ------------------------------------------------------------------------

    def copy(self) -> ResponseBook:
        """An independent copy (states are immutable and shared)."""
        other = ResponseBook()
        other._states = dict(self._states)
        other._unsubscribes = set(self._unsubscribes)
        other._soft = {k: set(v) for k, v in self._soft.items()}
        other._engaged_by = list(self._engaged_by)
        other._engaged_at = list(self._engaged_at)
        return other

    def update(self, events: Iterable[ResponseEvent]) -> None:
        """Fold *events* into this book (in place), each through :func:`apply` and so through
        the transition table :data:`RECIPIENT`."""
        states = self._states
        self._index = None
        for event in events:
            blz = str(event.blz)
            if isinstance(event, Unsubscribed):
                self._unsubscribes.add((blz, _row(event)))
                continue
            key = (blz, str(event.order), str(event.mailing), str(event.customer))
            current = states.get(key)
            state = RecipientState() if current is None else _public(current, blz)
            states[key] = _compact(apply(state, event))
            if isinstance(event, SoftBounce):
                entry = (_stamp(event.at), str(event.event_id), blz, _row(event))
                self._soft.setdefault(event.email.matching_key, set()).add(entry)
            elif isinstance(event, (Opened, Clicked)):
                self._engaged_by.append(str(event.email))
                self._engaged_at.append(_stamp(event.at))

    def update_values(self, values: Iterable[Mapping[str, str]], *, blz: Blz | str) -> None:
        """Fold ``RESP`` detail records given as field name → text (see :func:`fold_values`)."""
        self.update_rows(map(operator.itemgetter(*RESP_FIELDS), values), blz=blz)

    def update_rows(self, rows: Iterable[Sequence[str]], *, blz: Blz | str) -> None:
        """Fold ``RESP`` detail records given as tuples of texts in
        :data:`~emma_osplus._events.RESP_FIELDS` order (see :func:`fold_rows`).

        The same lattice joins as :func:`apply`, written out on texts for speed (the test
        suite checks that both give equal books for any events).
        """
        institute = str(blz)
        states = self._states
        get = states.get
        engaged_by = self._engaged_by.append
        engaged_at = self._engaged_at.append
        self._index = None
        kinds = _FAST_KIND
        rare = self._update_rare
        for row in rows:
            customer, order, _, code, stamp, mailing, email, _, _, event_id = row
            try:
                kind = kinds[code]  # (a subscript is faster than .get on the hot path)
            except KeyError:
                kind = 8
            if kind > 3:
                rare(row, kind, institute)
                continue
            key = (institute, order, mailing, customer)
            current = get(key)
            if current is None:
                states[key] = (kind, stamp, event_id, code, None, None)
            else:
                level, first_stamp, first_id, first_code, withheld, hard = current
                if first_stamp is not None and (
                    stamp > first_stamp
                    or (stamp == first_stamp and (event_id, code) >= (first_id, first_code))
                ):
                    if kind > level:
                        states[key] = (kind, first_stamp, first_id, first_code, withheld, hard)
                else:
                    top = kind if kind > level else level
                    states[key] = (top, stamp, event_id, code, withheld, hard)
            if kind != 1:
                engaged_by(email)
                engaged_at(stamp)

    def _update_rare(self, row: Sequence[str], kind: int, institute: str) -> None:
        """Bounces, withheld and unsubscribes (a few per cent of the records)."""
        if kind == 8:
            raise _unknown_code(row)
        record = tuple(row)
        if kind == 7:
            self._unsubscribes.add((institute, record))
            return
        customer, order, _, code, stamp, mailing, email, _, _, event_id = record
        key = (institute, order, mailing, customer)
        current = self._states.get(key, _EMPTY)
        level, first_stamp, first_id, first_code, withheld, hard = current
        if kind == 6:
            if withheld is None or _row_order(record) < _row_order(withheld):
                withheld = record
        else:
            if first_stamp is None or (stamp, event_id, code) < (first_stamp, first_id, first_code):
                first_stamp, first_id, first_code = stamp, event_id, code
            level = max(level, 1)
            if kind == 4:
                if hard is None or _row_order(record) < _row_order(hard):
                    hard = record
            else:
                entry = (stamp, event_id, institute, record)
                self._soft.setdefault(_text_key(email), set()).add(entry)
        self._states[key] = (level, first_stamp, first_id, first_code, withheld, hard)

    # -- reading -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._states)

    def __iter__(self) -> Iterator[RecipientKey]:
        for key in sorted(self._states):
            yield RecipientKey.from_texts(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, RecipientKey) and key.texts in self._states

    def _state(self, texts: _Key) -> RecipientState:
        return _public(self._states[texts], texts[0])

    def __getitem__(self, key: RecipientKey) -> RecipientState:
        return self._state(key.texts)

    def get(self, key: RecipientKey) -> RecipientState:
        """The state of *key*; the initial state when the book has no event for it."""
        texts = key.texts
        return self._state(texts) if texts in self._states else RecipientState()

    def items(self) -> Iterator[tuple[RecipientKey, RecipientState]]:
        """Every key with its state, sorted by key."""
        for key in sorted(self._states):
            yield RecipientKey.from_texts(key), self._state(key)

    def contradictions(self) -> list[Contradiction]:
        """Every recipient reported both withheld and sent, sorted by key."""
        out = []
        for key in sorted(self._states):
            state = self._states[key]
            if state[4] is not None and state[1] is not None:
                public = self._state(key)
                assert public.withheld is not None
                assert public.first_delivery is not None
                out.append(
                    Contradiction(
                        RecipientKey.from_texts(key), public.withheld, public.first_delivery
                    )
                )
        return out

    def hard_bounces(self) -> list[HardBounce]:
        """The earliest hard bounce of every recipient that has one, by time and event id."""
        found = [s.hard_bounce for _, s in self.items() if s.hard_bounce is not None]
        return sorted(found, key=_event_key)

    def unsubscribes(self) -> list[Unsubscribed]:
        """Every unsubscribe, once, by time and event id (for the consent ledger)."""
        ordered = sorted(self._unsubscribes, key=lambda item: (_row_order(item[1]), item[0]))
        return [_as(Unsubscribed, _event_from_row(row, blz)) for blz, row in ordered]

    def soft_bounces(self, address: EmailAddress | str) -> list[SoftBounce]:
        """The soft bounces of *address* (any mailing), once each, in time order."""
        entries = sorted(self._soft.get(_address_key(address), ()))
        return [_as(SoftBounce, _event_from_row(row, blz)) for _, _, blz, row in entries]

    def escalation(
        self, address: EmailAddress | str, policy: SoftBouncePolicy = DEFAULT_SOFT_BOUNCE_POLICY
    ) -> Escalation | None:
        """The escalation of *address* under *policy*, or ``None``."""
        return self._escalation(_address_key(address), policy)

    def escalated(
        self, address: EmailAddress | str, policy: SoftBouncePolicy = DEFAULT_SOFT_BOUNCE_POLICY
    ) -> bool:
        """True when the soft bounces of *address* reached *policy*: treat it like a hard
        bounce."""
        return self.escalation(address, policy) is not None

    def escalations(
        self, policy: SoftBouncePolicy = DEFAULT_SOFT_BOUNCE_POLICY
    ) -> list[Escalation]:
        """Every escalated address, sorted by matching key."""
        out = []
        for address in sorted(self._soft):
            found = self._escalation(address, policy)
            if found is not None:
                out.append(found)
        return out

    def _engagements(self, *, every: bool = False) -> dict[str, list[str]]:
        """Matching key → sorted distinct times of opens and clicks, for the addresses that
        have soft bounces (*every*: for all).  Built from the log when asked, kept until the
        next update."""
        if every or self._index is None:
            wanted = self._soft
            index: dict[str, set[str]] = {}
            keys: dict[str, str] = {}  # address as written → matching key
            for email, stamp in zip(self._engaged_by, self._engaged_at, strict=True):
                key = keys.get(email)
                if key is None:
                    key = keys[email] = _text_key(email)
                if every or key in wanted:
                    index.setdefault(key, set()).add(stamp)
            result = {key: sorted(stamps) for key, stamps in index.items()}
            if every:
                return result
            self._index = result
        return self._index

    def _escalation(self, address: str, policy: SoftBouncePolicy) -> Escalation | None:
        entries = sorted(self._soft.get(address, ()))
        if len(entries) < policy.threshold:
            return None
        resets = self._engagements().get(address, []) if policy.reset_on_engagement else []
        segments: dict[int, list[tuple[str, str, str, _Row]]] = {}
        for entry in entries:
            segments.setdefault(bisect.bisect_right(resets, entry[0]), []).append(entry)
        for segment_id in sorted(segments):
            run = segments[segment_id]
            times = [_parse_stamp(entry[0]) for entry in run]
            best: tuple[dt.datetime, int, int] | None = None
            for i in range(len(run) - policy.threshold + 1):
                j = max(
                    i + policy.threshold - 1, bisect.bisect_left(times, times[i] + policy.min_span)
                )
                if (
                    j < len(run)
                    and times[j] - times[i] <= policy.window
                    and (best is None or times[j] < best[0])
                ):
                    best = (times[j], i, j)
            if best is not None:
                at, i, j = best
                bounces = tuple(
                    _as(SoftBounce, _event_from_row(row, blz)) for _, _, blz, row in run[i : j + 1]
                )
                return Escalation(address, at, bounces)
        return None

    # -- comparing -----------------------------------------------------------------------

    def _normal(self) -> tuple[Any, ...]:
        return (
            self._states,
            self._unsubscribes,
            self._soft,
            self._engagements(every=True),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResponseBook):
            return NotImplemented
        return self._normal() == other._normal()

    def __repr__(self) -> str:
        return (
            f"<ResponseBook: {len(self._states)} recipients, "
            f"{len(self._unsubscribes)} unsubscribes, {len(self._soft)} soft-bounced addresses>"
        )


def fold(events: Iterable[ResponseEvent], book: ResponseBook | None = None) -> ResponseBook:
    """A new book: *book* (or an empty one) with *events* folded in through :func:`apply`.
    *book* itself is not changed."""
    result = ResponseBook() if book is None else book.copy()
    result.update(events)
    return result


def fold_values(
    values: Iterable[Mapping[str, str]], *, blz: Blz | str, book: ResponseBook | None = None
) -> ResponseBook:
    """Like :func:`fold` for ``RESP`` detail records given as field name → text, as the RESP
    reader yields them (every field of :data:`~emma_osplus._events.RESP_FIELDS` present, values
    canonical); *blz* comes from the file header.  No event objects are built, so this is the
    way to fold millions of records.  Values are not validated again (only an unknown
    ``REAKTION`` is refused, E207): feed it what the reader accepted.
    """
    result = ResponseBook() if book is None else book.copy()
    result.update_values(values, blz=blz)
    return result


def fold_rows(
    rows: Iterable[Sequence[str]], *, blz: Blz | str, book: ResponseBook | None = None
) -> ResponseBook:
    """Like :func:`fold_values` for tuples of texts in
    :data:`~emma_osplus._events.RESP_FIELDS` order (the fastest input)."""
    result = ResponseBook() if book is None else book.copy()
    result.update_rows(rows, blz=blz)
    return result
