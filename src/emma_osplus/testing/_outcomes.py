"""Strategies for what the machines produce: recipient states and response books, contradictions
and escalations, feedback states and their items, selection-guard and suppression results,
consent decisions and import reports, acknowledgements and bounce classifications, and the
settings and policies that steer them.

States and results are made the way a user gets them: generated events and inputs go through
the public API (events are folded into a :class:`~emma_osplus.ResponseBook`, feedback is
received by a :class:`~emma_osplus.FeedbackState`, rows are screened against a
:class:`~emma_osplus.ConsentLedger` …), never by calling the constructors with values the
machines could not give.  Plain values and settings (keys, event references, policies, bounce
rules) are drawn field by field.  The inputs come from small pools, so that the outcomes meet:
the same customer held back by several items, the same address soft-bouncing across
mailings, rows that collide with the ledger's events.

:data:`FOR_TYPES` maps every type covered here (and the event and consent types of the
neighbouring modules) to a zero-argument function that returns its strategy.

>>> from hypothesis import given, settings
>>> @settings(max_examples=10)
... @given(response_books(), feedback_states())
... def check(book, state):
...     assert all(key in book for key in book)
...     assert all(item.id == key for key, item in state.items.items())
>>> check()
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Callable
from functools import cache, partial
from typing import Any, TypeVar

from hypothesis import strategies as st

from .._acks import AckResult, AckStatus, acknowledge
from .._bounces import RULES, UNKNOWN, BounceClass, BounceRule, Classification, classify
from .._cons import ConsentChange
from .._consent import (
    ConsentEvent,
    ConsentKind,
    ConsentLedger,
    ConsentPolicy,
    ConsentSource,
    Decision,
    DecisionReason,
    ImportReport,
    RejectedChange,
    export_cons,
    import_cons,
)
from .._email import EmailAddress
from .._errors import MessageError, RecordError, error_for
from .._events import (
    EVENT_TYPES,
    ORDER_KINDS,
    RESP_FIELDS,
    Bounce,
    Clicked,
    HardBounce,
    Opened,
    RecipientKey,
    ResponseEvent,
    Sent,
    SoftBounce,
    Unsubscribed,
    Withheld,
)
from .._feedback import (
    DEFAULT_OVERDUE_AFTER,
    AgedItem,
    FeedbackState,
    GuardResult,
    HeldBack,
    InstituteSettings,
    ItemStatus,
    PendingItem,
    check_selection,
)
from .._messages import CATALOGUE, Message, MessageLevel
from .._records import Mode, Notice, Record, Rejected
from .._responses import (
    DEFAULT_SOFT_BOUNCE_POLICY,
    Contradiction,
    Engagement,
    Escalation,
    EventRef,
    RecipientState,
    ResponseBook,
    SoftBouncePolicy,
    fold,
    fold_rows,
    fold_values,
)
from .._suppression import (
    Row,
    SuppressionResult,
    ToSend,
    WithheldReason,
    WithheldRow,
    screen,
    suppress,
)
from .._types import Blz, CustomerNumber, EventId, MailingId, OrderNumber
from ._consent import consent_events, consent_ledgers, consent_times, pool_addresses, pool_customers
from ._events import _DETAILS, email_addresses_for_events, event_histories, response_events
from ._types import blzs, customer_numbers, event_ids, mailing_ids, messages, order_numbers

__all__ = [
    "FOR_TYPES",
    "ack_results",
    "aged_items",
    "bounce_rules",
    "bounces",
    "classifications",
    "consent_policies",
    "contradictions",
    "decisions",
    "escalations",
    "event_refs",
    "feedback_states",
    "guard_results",
    "held_backs",
    "import_reports",
    "institute_settings",
    "pending_items",
    "recipient_keys",
    "recipient_states",
    "rejected_changes",
    "response_books",
    "soft_bounce_policies",
    "suppression_results",
    "to_sends",
    "withheld_rows",
]

_UTC = dt.timezone.utc
# Response events of the histories: within 120 days from here (as event_histories draws them).
_EPOCH = dt.datetime(2026, 1, 1, tzinfo=_UTC)
_HISTORY_DAYS = 120
# Consent events of the pools lie between 08:00 and 13:00 on this day (consent_times); feedback
# is received, selections checked and rows screened from here on.
_CONSENT_DAY = dt.datetime(2026, 11, 1, 8, 0, tzinfo=_UTC)
_AFTER_POOL = _CONSENT_DAY + dt.timedelta(hours=6)

_E = TypeVar("_E", bound=ResponseEvent)
_DELIVERING: tuple[type[ResponseEvent], ...] = (Sent, Opened, Clicked, HardBounce, SoftBounce)
_PEOPLE = ("Frau Meier", "Herr Öztürk", "M. Schulz (Filiale 17)")


@cache
def _response_times(days: int = _HISTORY_DAYS) -> st.SearchStrategy[dt.datetime]:
    return st.integers(0, days * 86400).map(lambda s: _EPOCH + dt.timedelta(seconds=s))


# Small pools for the events built here (cheaper to draw than response_events, and they meet).
_BLZS = (Blz("37050198"), Blz("50050201"))
_ORDERS = (OrderNumber("K2026001"), OrderNumber("R2026017"))
_MAILINGS = (MailingId("M-2026-11"), MailingId("M-2026-12"), MailingId("M-2027-01"))
_PICKS = st.integers(0, 2519)  # one draw picks order kind and detail (2520: see _events.py)


def _event(
    cls: type[_E],
    event_id: str,
    pick: int,
    *,
    blz: Blz,
    order: OrderNumber,
    mailing: MailingId,
    customer: CustomerNumber,
    email: EmailAddress,
    at: dt.datetime,
) -> _E:
    """An event of *cls*; *pick* chooses the order kind and the detail (link, source,
    reason, status and diagnostic) from the pools of :mod:`._events`."""
    details = _DETAILS[cls]
    return cls(
        event_id=EventId(event_id),
        blz=blz,
        order=order,
        order_kind=ORDER_KINDS[pick % len(ORDER_KINDS)],
        mailing=mailing,
        customer=customer,
        email=email,
        at=at,
        **details[pick // len(ORDER_KINDS) % len(details)],
    )


# -- plain values and settings ----------------------------------------------------------------


def recipient_keys() -> st.SearchStrategy[RecipientKey]:
    """Any key of the recipient state machine: institute, order, mailing and customer.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(recipient_keys())
    ... def check(key):
    ...     assert RecipientKey.from_texts(key.texts) == key
    >>> check()
    """
    return st.builds(RecipientKey, blzs(), order_numbers(), mailing_ids(), customer_numbers())


def event_refs() -> st.SearchStrategy[EventRef]:
    """References to a delivering event (sent, opened, clicked or a bounce): a time in UTC
    (whole seconds), an event id and the event's ``RESP`` code, as
    :attr:`RecipientState.first_delivery <emma_osplus.RecipientState.first_delivery>` holds.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(event_refs())
    ... def check(ref):
    ...     assert ref.code in ("VS", "OE", "KL", "HB", "SB") and ref.order_key[0] == ref.at
    >>> check()
    """
    return st.builds(
        EventRef,
        at=_response_times(),
        event_id=event_ids(),
        code=st.sampled_from([cls.CODE for cls in _DELIVERING]),
    )


@st.composite
def _soft_bounce_policies(draw: st.DrawFn, max_days: int) -> SoftBouncePolicy:
    threshold = draw(st.integers(1, 6))
    if threshold == 1:
        min_span = dt.timedelta(0)
    else:
        min_span = dt.timedelta(
            days=draw(st.integers(0, max_days // 4)), hours=draw(st.integers(0, 23))
        )
    window = min_span + dt.timedelta(
        days=draw(st.integers(0, max_days)), hours=draw(st.integers(0, 23))
    )
    return SoftBouncePolicy(threshold, window, min_span, draw(st.booleans()))


def soft_bounce_policies(*, max_days: int = 120) -> st.SearchStrategy[SoftBouncePolicy]:
    """Valid soft-bounce policies: the default now and then, otherwise a threshold of 1 to 6
    bounces, a minimum span of up to a quarter of *max_days* (none for a threshold of 1) and a
    window up to *max_days* longer than the span; reset on engagement or not.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(soft_bounce_policies())
    ... def check(policy):
    ...     assert policy.threshold >= 1 and policy.window >= policy.min_span
    >>> check()
    """
    return st.one_of(st.just(DEFAULT_SOFT_BOUNCE_POLICY), _soft_bounce_policies(max_days))


def institute_settings() -> st.SearchStrategy[InstituteSettings]:
    """Institute parameters for feedback processing: either switch on or off, the default
    overdue limit or one of an hour to two weeks.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(institute_settings())
    ... def check(settings_):
    ...     assert settings_.overdue_after > dt.timedelta(0)
    >>> check()
    """
    return st.builds(
        InstituteSettings,
        auto_unsubscribe=st.booleans(),
        auto_hard_bounce=st.booleans(),
        overdue_after=st.one_of(
            st.just(DEFAULT_OVERDUE_AFTER),
            st.integers(1, 14 * 24).map(lambda hours: dt.timedelta(hours=hours)),
        ),
    )


def consent_policies() -> st.SearchStrategy[ConsentPolicy]:
    """Consent policies: consent required (the default) or not.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5)
    ... @given(consent_policies())
    ... def check(policy):
    ...     assert policy.require_consent in (True, False)
    >>> check()
    """
    return st.builds(ConsentPolicy, require_consent=st.booleans())


_RULE_WORDS = ("mailbox gone", "konto gelöscht", "quota", "out of office", "über limit", "x-y")


def bounce_rules() -> st.SearchStrategy[BounceRule]:
    """Rows of a classification table: mostly those of the library's table (and its fallback
    rule), sometimes a new rule that looks for a literal text, a status or reply code prefix.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(bounce_rules())
    ... def check(rule):
    ...     assert rule.field in ("text", "status", "reply") and rule.name
    >>> check()
    """
    library = st.sampled_from((*RULES, UNKNOWN))

    def new(kind: str, bounce_class: BounceClass, number: int, word: str) -> BounceRule:
        if kind == "text":
            pattern = re.escape(word)
        elif kind == "status":
            pattern = rf"{'45'[number % 2]}\.{number % 8}\."
        else:
            pattern = str(550 + number % 5)
        return BounceRule(
            f"custom-{kind}-{number}", bounce_class, kind, pattern, f"custom {kind} rule {number}"
        )

    custom = st.builds(
        new,
        st.sampled_from(("text", "status", "reply")),
        st.sampled_from(BounceClass),
        st.integers(0, 99),
        st.sampled_from(_RULE_WORDS),
    )
    return st.one_of(library, library, library, custom)


# -- response events ------------------------------------------------------------------------


def bounces() -> st.SearchStrategy[Bounce]:
    """Hard and soft bounces (:func:`response_events` of either class; nothing is filtered).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(bounces())
    ... def check(bounce):
    ...     assert bounce.CODE in ("HB", "SB") and bounce.to_values()["STATUSCODE"] == bounce.status
    >>> check()
    """
    return st.one_of(response_events(HardBounce), response_events(SoftBounce))


# -- the recipient state machine --------------------------------------------------------------


def _writable(events: list[ResponseEvent]) -> bool:
    try:
        for event in events:
            event.to_values()
    except RecordError:  # a fraction of a second, or a DETAIL over 40 characters
        return False
    return True


@st.composite
def _books(draw: st.DrawFn, events: st.SearchStrategy[list[ResponseEvent]]) -> ResponseBook:
    history = draw(events)
    ways = ["fold", "chunks"]
    if _writable(history):
        ways += ["values", "rows"]
    way = draw(st.sampled_from(ways))
    if way == "fold":
        return fold(history)
    if way == "chunks":
        cut = draw(st.integers(0, len(history)))
        book = ResponseBook()
        book.update(history[:cut])
        return fold(history[cut:], book)
    built: ResponseBook | None = None
    for blz, group in itertools.groupby(history, key=lambda e: e.blz):
        records = [event.to_values() for event in group]
        if way == "values":
            built = fold_values(records, blz=blz, book=built)
        else:
            rows = [tuple(record[name] for name in RESP_FIELDS) for record in records]
            built = fold_rows(rows, blz=blz, book=built)
    return ResponseBook() if built is None else built


def response_books(
    *,
    events: st.SearchStrategy[list[ResponseEvent]] | None = None,
    max_size: int = 12,
) -> st.SearchStrategy[ResponseBook]:
    """Books folded from a list of *events* (default: :func:`event_histories` of up to
    *max_size* events), by :func:`~emma_osplus.fold`, in two steps, or — where every event
    is writable to ``RESP`` — from the records' texts by ``fold_values`` or ``fold_rows``
    (all four give equal books).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(response_books())
    ... def check(book):
    ...     assert [key for key, _ in book.items()] == list(book)
    >>> check()
    """
    return _books(events if events is not None else event_histories(max_size=max_size))


@st.composite
def _recipient_states(draw: st.DrawFn, max_events: int) -> RecipientState:
    history = draw(event_histories(min_size=1, max_size=max_events))
    event = draw(st.sampled_from(history))
    return fold(history).get(event.key)


def recipient_states(*, max_events: int = 6) -> st.SearchStrategy[RecipientState]:
    """The state of one recipient in a book folded from up to *max_events* events (the
    recipient of one of them; the initial state where its events are only unsubscribes).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(recipient_states())
    ... def check(state):
    ...     assert (state.status == "contradiction") == (state.contradiction is not None)
    >>> check()
    """
    return _recipient_states(max_events)


@st.composite
def _like(
    draw: st.DrawFn, template: ResponseEvent, cls: type[ResponseEvent], event_id: str
) -> ResponseEvent:
    """An event of *cls* for the recipient of *template* (same key, the address or a spelling
    of it), with the given id and its own time."""
    address = template.email
    return _event(
        cls,
        event_id,
        draw(_PICKS),
        blz=template.blz,
        order=template.order,
        mailing=template.mailing,
        customer=template.customer,
        email=draw(st.sampled_from([address, EmailAddress(str(address).upper())])),
        at=draw(_response_times()),
    )


@st.composite
def _contradictions(draw: st.DrawFn, max_events: int) -> Contradiction:
    history = draw(event_histories(max_size=max_events))
    template = draw(st.sampled_from(history) if history else response_events())
    withheld = draw(_like(template, Withheld, "zh-1"))
    delivered = draw(_like(template, draw(st.sampled_from(_DELIVERING)), "dl-1"))
    events = draw(st.permutations([*history, withheld, delivered]))
    found = fold(events).contradictions()
    return draw(st.sampled_from(found))


def contradictions(*, max_events: int = 6) -> st.SearchStrategy[Contradiction]:
    """Contradictions reported by a book: a history of up to *max_events* events in which at
    least one recipient is reported both withheld and delivered.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(contradictions())
    ... def check(c):
    ...     assert c.withheld.key == c.key and c.event_ids[0] == c.withheld.event_id
    >>> check()
    """
    return _contradictions(max_events)


@st.composite
def _escalations(draw: st.DrawFn, policy: SoftBouncePolicy | None) -> Escalation:
    chosen = policy if policy is not None else draw(soft_bounce_policies())
    address = draw(email_addresses_for_events())
    spellings = [address, EmailAddress(str(address).upper())]
    count = chosen.threshold + draw(st.integers(0, 2))
    low = math.ceil(chosen.min_span.total_seconds())
    high = math.floor(chosen.window.total_seconds())
    span = dt.timedelta(seconds=draw(st.integers(low, high))) if low <= high else chosen.window
    offsets = [dt.timedelta(0)]
    if count > 1:
        middle = st.integers(0, int(span.total_seconds())).map(lambda s: dt.timedelta(seconds=s))
        offsets += [span, *draw(st.lists(middle, min_size=count - 2, max_size=count - 2))]
    start = _EPOCH + dt.timedelta(seconds=draw(st.integers(0, 60 * 86400)))
    customers = draw(st.lists(customer_numbers(), min_size=1, max_size=2, unique=True))
    events: list[ResponseEvent] = []
    for number, offset in enumerate(offsets):
        blz, order, mailing, customer, email = draw(
            st.tuples(
                st.sampled_from(_BLZS),
                st.sampled_from(_ORDERS),
                st.sampled_from(_MAILINGS),
                st.sampled_from(customers),
                st.sampled_from(spellings),
            )
        )
        events.append(
            _event(
                SoftBounce,
                f"sb-{number}",
                draw(_PICKS),
                blz=blz,
                order=order,
                mailing=mailing,
                customer=customer,
                email=email,
                at=start + offset,
            )
        )
    # Opens and clicks of the address before the first or after the last bounce reset nothing.
    outside = st.one_of(
        st.integers(1, 86400).map(lambda s: start - dt.timedelta(seconds=s)),
        st.integers(1, 86400).map(lambda s: start + span + dt.timedelta(seconds=s)),
    )
    for number in range(draw(st.integers(0, 2))):
        events.append(
            _event(
                draw(st.sampled_from((Opened, Clicked))),
                f"en-{number}",
                draw(_PICKS),
                blz=draw(st.sampled_from(_BLZS)),
                order=draw(st.sampled_from(_ORDERS)),
                mailing=draw(st.sampled_from(_MAILINGS)),
                customer=draw(st.sampled_from(customers)),
                email=draw(st.sampled_from(spellings)),
                at=draw(outside),
            )
        )
    found = fold(draw(st.permutations(events))).escalation(address, chosen)
    assert found is not None, "the run reaches the policy by construction"
    return found


def escalations(*, policy: SoftBouncePolicy | None = None) -> st.SearchStrategy[Escalation]:
    """Escalations of an address under *policy* (default: any of
    :func:`soft_bounce_policies`): the address's soft bounces, across mailings, institutes,
    customers and spellings of the address, reach the policy; opens and clicks of the address
    lie outside the run.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(escalations(policy=SoftBouncePolicy()))
    ... def check(e):
    ...     assert len(e.bounces) >= 5 and e.bounces[-1].at - e.bounces[0].at >= dt.timedelta(days=15)
    >>> check()
    """
    return _escalations(policy)


# -- feedback processing ----------------------------------------------------------------------


@cache
def _pools() -> tuple[st.SearchStrategy[Any], ...]:
    """The consent pools (customers, addresses, times, ledgers), each strategy made once."""
    return (
        pool_customers(),
        pool_addresses(),
        consent_times(),
        consent_times(hours=8),
        consent_ledgers(max_size=8),
        consent_events(),
    )


@st.composite
def _pool_responses(
    draw: st.DrawFn, classes: tuple[type[ResponseEvent], ...], event_id: str | None = None
) -> ResponseEvent:
    """A response event on the consent pools: the same customers, addresses and times."""
    return _event(
        draw(st.sampled_from(classes)),
        event_id if event_id is not None else f"r{draw(st.integers(0, 10**6))}",
        draw(_PICKS),
        blz=draw(st.sampled_from(_BLZS)),
        order=draw(st.sampled_from(_ORDERS)),
        mailing=draw(st.sampled_from(_MAILINGS)),
        customer=draw(_pools()[0]),
        email=EmailAddress(draw(_pools()[1])),
        at=draw(_pools()[2]),
    )


@cache
def _restrictions() -> st.SearchStrategy[ResponseEvent | ConsentEvent]:
    """Feedback that always makes an item: unsubscribes, hard bounces, restrictions."""
    return st.one_of(
        _pool_responses((Unsubscribed, HardBounce)),
        consent_events(
            kinds=st.sampled_from(
                [ConsentKind.UNSUBSCRIBE, ConsentKind.OBJECTION, ConsentKind.HARD_BOUNCE]
            )
        ),
    )


@cache
def _feedback() -> st.SearchStrategy[ResponseEvent | ConsentEvent]:
    """Anything a RESP file or a CONS import brings (most of it makes an item)."""
    return st.one_of(
        _restrictions(),
        _restrictions(),
        _pool_responses(tuple(EVENT_TYPES.values())),
        consent_events(),
    )


@cache
def _batches() -> st.SearchStrategy[list[ResponseEvent | ConsentEvent]]:
    return st.lists(_feedback(), min_size=1, max_size=4)


@st.composite
def _feedback_run(
    draw: st.DrawFn,
    settings: InstituteSettings,
    max_steps: int,
    min_items: int,
) -> tuple[FeedbackState, dt.datetime]:
    """A state after receiving and completing, and the clock after the last step."""
    state = FeedbackState(settings)
    clock = _AFTER_POOL
    seen: list[ResponseEvent | ConsentEvent] = []
    for _ in range(draw(st.integers(0, max_steps))):
        clock += dt.timedelta(hours=draw(st.integers(0, 30)), minutes=draw(st.integers(0, 59)))
        pending = sorted(i.id for i in state.items.values() if i.status is ItemStatus.PENDING)
        completing = draw(st.booleans())
        if pending and completing:
            person = draw(st.sampled_from(_PEOPLE))
            state = state.complete(draw(st.sampled_from(pending)), by=person, at=clock)
            continue
        batch = draw(_batches())
        if seen:  # the same feedback again (a file read twice) has no further effect
            batch += draw(st.lists(st.sampled_from(seen), max_size=2))
        state = state.receive(batch, at=clock)
        seen += batch
    while len(state.items) < min_items:
        clock += dt.timedelta(hours=draw(st.integers(0, 30)))
        state = state.receive([draw(_restrictions())], at=clock)
    return state, clock


def feedback_states(
    *, settings: InstituteSettings | None = None, max_steps: int = 4
) -> st.SearchStrategy[FeedbackState]:
    """States after up to *max_steps* steps from ``FeedbackState(settings)`` (default: any
    of :func:`institute_settings`): each step receives a batch of feedback (unsubscribes, hard
    bounces and other responses, consent events; now and then something received before) or
    a person completes a pending item.  Feedback is on the small consent pools.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(feedback_states())
    ... def check(state):
    ...     assert all(i.done_at is None for i in state.items.values() if i.status.value == "pending")
    >>> check()
    """
    chosen = st.just(settings) if settings is not None else institute_settings()
    return chosen.flatmap(lambda s: _feedback_run(s, max_steps, 0).map(lambda run: run[0]))


@st.composite
def _pending_items(
    draw: st.DrawFn, settings: InstituteSettings | None, max_steps: int
) -> PendingItem:
    chosen = settings if settings is not None else draw(institute_settings())
    state, _ = draw(_feedback_run(chosen, max_steps, 1))
    return draw(st.sampled_from(sorted(state.items.values(), key=lambda i: i.id)))


def pending_items(
    *, settings: InstituteSettings | None = None, max_steps: int = 3
) -> st.SearchStrategy[PendingItem]:
    """One item of a :func:`feedback_states` state that has at least one: pending, completed
    or processed, from a response or a consent event.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(pending_items())
    ... def check(item):
    ...     assert item.consent_event.kind is item.kind and item.since <= item.received_at
    >>> check()
    """
    return _pending_items(settings, max_steps)


@st.composite
def _aged_items(draw: st.DrawFn, settings: InstituteSettings | None, max_steps: int) -> AgedItem:
    if settings is None:
        manual = draw(st.sampled_from([(False, False), (True, False), (False, True)]))
        limit = draw(institute_settings()).overdue_after
        settings = InstituteSettings(*manual, overdue_after=limit)
    elif settings.auto_unsubscribe and settings.auto_hard_bounce:
        raise ValueError("with both settings on, every item is processed at once: none pends")
    state, clock = draw(_feedback_run(settings, max_steps, 0))
    if not any(i.status is ItemStatus.PENDING for i in state.items.values()):
        cls = Unsubscribed if not settings.auto_unsubscribe else HardBounce
        number = next(n for n in itertools.count() if f"R-aged-{n}" not in state.items)
        fresh = draw(_pool_responses((cls,), f"aged-{number}"))
        state = state.receive([fresh], at=clock)
    at = clock + dt.timedelta(hours=draw(st.integers(0, 5 * 24)))
    return draw(st.sampled_from(state.pending(at)))


def aged_items(
    *, settings: InstituteSettings | None = None, max_steps: int = 3
) -> st.SearchStrategy[AgedItem]:
    """A pending item with its age, as :meth:`FeedbackState.pending
    <emma_osplus.FeedbackState.pending>` lists it at a moment up to five days after the last
    step (overdue or not).  *settings* must leave at least one kind to a person (the default
    draws such settings).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(aged_items())
    ... def check(aged):
    ...     assert aged.item.status.value == "pending" and aged.age >= dt.timedelta(0)
    >>> check()
    """
    return _aged_items(settings, max_steps)


# -- selections, suppression and decisions ----------------------------------------------------

_FRESH_CUSTOMERS = (4714, 4715)
_PROOFS = ("DOI bestätigt 2026-10-01 10:02", "Formular 17, Filiale Neumarkt")
_FRESH_ADDRESSES = ("neu@example.de", "Carla.Neu@Example.org")
_BROKEN_ROWS: tuple[dict[str, str], ...] = (
    {"KUNDENNUMMER": "47x1", "EMAIL": "anna@example.de"},
    {"KUNDENNUMMER": "4711", "EMAIL": "anna.example.de"},
    {"KUNDENNUMMER": "", "EMAIL": "anna@example.de"},
    {"KUNDENNUMMER": "12345678901", "EMAIL": "bernd.mueller@sparkasse.de"},
    {"EMAIL": "info@bücher.de"},
    {"KUNDENNUMMER": "4712"},
)


@cache
def _customer_texts() -> st.SearchStrategy[str]:
    numbers = st.one_of(pool_customers().map(int), st.sampled_from(_FRESH_CUSTOMERS))
    return numbers.flatmap(lambda n: st.sampled_from([str(n), f"{n:010d}"]))


@cache
def _address_texts() -> st.SearchStrategy[str]:
    return st.one_of(pool_addresses(), pool_addresses(), st.sampled_from(_FRESH_ADDRESSES))


def _as_row(values: dict[str, str], record: bool, line: int) -> Row:
    if not record:
        return values
    return Record(line=line, values=values, raw=";".join(values.values()))


@cache
def _rows(min_size: int = 0) -> st.SearchStrategy[list[Row]]:
    """Up to six subscriber rows on the pools (mappings, some of them records), one in six
    broken."""
    good = st.builds(
        lambda customer, email: {"KUNDENNUMMER": customer, "EMAIL": email},
        _customer_texts(),
        _address_texts(),
    )
    values = st.one_of(*[good] * 5, st.sampled_from(_BROKEN_ROWS))
    entries = st.lists(st.tuples(values, st.booleans()), min_size=min_size, max_size=6)
    return entries.map(
        lambda items: [_as_row(dict(v), rec, line) for line, (v, rec) in enumerate(items, 2)]
    )


def _selection_moment(clock: dt.datetime) -> st.SearchStrategy[dt.datetime]:
    return st.integers(-12, 48).map(lambda hours: clock + dt.timedelta(hours=hours))


@st.composite
def _guard(
    draw: st.DrawFn, ledger: bool | None, min_items: int, anchor: bool
) -> tuple[GuardResult, list[Row], FeedbackState]:
    state, clock = draw(_feedback_run(draw(institute_settings()), 3, min_items))
    rows = draw(_rows(min_size=1))
    if anchor:  # a row that is held back whatever the ledger says (see held_backs)
        item = draw(st.sampled_from(sorted(state.items.values(), key=lambda i: i.id)))
        held = {"KUNDENNUMMER": str(item.customer), "EMAIL": str(item.source.email)}
        rows.insert(draw(st.integers(0, len(rows))), held)
    use_ledger = draw(st.booleans()) if ledger is None else ledger
    if use_ledger:
        book = draw(_pools()[4])
        at = draw(_selection_moment(clock))
        return check_selection(rows, state, ledger=book, at=at), rows, state
    return check_selection(rows, state), rows, state


def guard_results(*, ledger: bool | None = None) -> st.SearchStrategy[GuardResult]:
    """Results of :func:`~emma_osplus.check_selection` for up to six subscriber rows (on the
    pools, some broken, some as records) against a :func:`feedback_states` state, with a
    consent ledger and a moment (*ledger* ``True``), without (``False``) or either (``None``).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(guard_results())
    ... def check(result):
    ...     assert all(h.items or h.reason.startswith("cannot be checked") for h in result.held_back)
    >>> check()
    """
    return _guard(ledger, 0, False).map(lambda run: run[0])


@st.composite
def _held_backs(draw: st.DrawFn, ledger: bool | None) -> HeldBack:
    result, rows, state = draw(_guard(ledger, 1, True))
    if not result.held_back:  # the ledger lifted every item: ask without it
        result = check_selection(rows, state)
    return draw(st.sampled_from(result.held_back))


def held_backs(*, ledger: bool | None = None) -> st.SearchStrategy[HeldBack]:
    """One row held back by :func:`~emma_osplus.check_selection` (see :func:`guard_results`):
    for a pending, completed or processed item of its customer or address, or because it
    cannot be checked.  One row of the selection always matches an item (should a ledger lift
    every item, the selection is checked again without the ledger).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(held_backs())
    ... def check(held):
    ...     assert all(item.id in held.reason for item in held.items)
    >>> check()
    """
    return _held_backs(ledger)


@st.composite
def _screening(
    draw: st.DrawFn, policy: ConsentPolicy | None, anchor: str
) -> tuple[list[Row], ConsentLedger, dt.datetime, ConsentPolicy]:
    """Rows, ledger, moment and policy for screening.  *anchor*: ``"send"`` adds a row that
    is sent (a new customer with a proven consent at a new address); ``"withhold"`` adds a
    row that is withheld (a broken row, or a second row for that new address)."""
    ledger = draw(_pools()[4])
    at = draw(_pools()[3])
    chosen = policy if policy is not None else draw(consent_policies())
    rows = draw(_rows())
    if anchor:
        customer = CustomerNumber(draw(st.integers(5000, 5009)))
        local = draw(st.sampled_from(["neu", "kunde", "z.weber"]))
        email = f"{local}@neukunde.example"
        consent = ConsentEvent(
            customer,
            email,
            ConsentKind.CONSENT,
            _CONSENT_DAY - dt.timedelta(days=draw(st.integers(1, 60))),
            draw(st.sampled_from(ConsentSource)),
            draw(st.sampled_from(_PROOFS)),
        )
        ledger = ledger.append(consent)
        extra: list[Row] = [{"KUNDENNUMMER": str(customer), "EMAIL": email}]
        if anchor == "withhold":
            if draw(st.booleans()):
                extra = [dict(draw(st.sampled_from(_BROKEN_ROWS)))]
            else:
                extra.append({"KUNDENNUMMER": str(customer), "EMAIL": email.upper()})
        position = draw(st.integers(0, len(rows)))
        rows[position:position] = extra
    return rows, ledger, at, chosen


def suppression_results(
    *, policy: ConsentPolicy | None = None
) -> st.SearchStrategy[SuppressionResult]:
    """Results of :func:`~emma_osplus.suppress`: up to six subscriber rows on the consent pools
    (some broken, some records) against a :func:`consent_ledgers` ledger at a moment among its
    events, under *policy* (default: either).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(suppression_results())
    ... def check(result):
    ...     assert sum(result.counts.values()) == len(result.to_send) + len(result.withheld)
    >>> check()
    """
    return _screening(policy, "").map(
        lambda args: suppress(args[0], args[1], at=args[2], policy=args[3])
    )


@st.composite
def _verdicts(
    draw: st.DrawFn, policy: ConsentPolicy | None, anchor: str
) -> list[ToSend | WithheldRow]:
    rows, ledger, at, chosen = draw(_screening(policy, anchor))
    return list(screen(rows, ledger, at=at, policy=chosen))


def to_sends(*, policy: ConsentPolicy | None = None) -> st.SearchStrategy[ToSend]:
    """One row that :func:`~emma_osplus.screen` lets through (see :func:`suppression_results`;
    a new customer with a proven consent makes sure there is one).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(to_sends())
    ... def check(verdict):
    ...     assert verdict.decision.allowed
    >>> check()
    """
    return _verdicts(policy, "send").flatmap(
        lambda verdicts: st.sampled_from([v for v in verdicts if isinstance(v, ToSend)])
    )


def withheld_rows(*, policy: ConsentPolicy | None = None) -> st.SearchStrategy[WithheldRow]:
    """One row that :func:`~emma_osplus.screen` withholds, for any reason (see
    :func:`suppression_results`; a broken or duplicate row makes sure there is one).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(withheld_rows())
    ... def check(row):
    ...     assert (row.message is not None) == (row.reason.value == "UNGUELTIG")
    >>> check()
    """
    return _verdicts(policy, "withhold").flatmap(
        lambda verdicts: st.sampled_from([v for v in verdicts if isinstance(v, WithheldRow)])
    )


def decisions(*, policy: ConsentPolicy | None = None) -> st.SearchStrategy[Decision]:
    """Answers of :meth:`ConsentLedger.may_send <emma_osplus.ConsentLedger.may_send>` for a
    customer and an address of the pools (or new ones) against a :func:`consent_ledgers`
    ledger at a moment among its events, under *policy* (default: either).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(decisions())
    ... def check(decision):
    ...     assert decision.allowed is decision.reason.allowed
    >>> check()
    """
    return st.builds(
        lambda ledger, customer, address, at, chosen: ledger.may_send(
            customer, address, at, policy=chosen
        ),
        _pools()[4],
        _customer_texts(),
        _address_texts(),
        _pools()[3],
        st.just(policy) if policy is not None else consent_policies(),
    )


# -- CONS imports -----------------------------------------------------------------------------

# One bad value per column, and rows without a required column.
_BAD_VALUES: tuple[tuple[str, str | None], ...] = (
    ("KUNDENNUMMER", "47x1"),
    ("KUNDENNUMMER", None),
    ("EMAIL", "anna.example.de"),
    ("EMAIL", ""),
    ("STATUS", "VIELLEICHT"),
    ("ZEITPUNKT", "2026-11-03T10:15:00"),
    ("ZEITPUNKT", "2026-13-03T10:15:00+01:00"),
    ("QUELLE", "FAX"),
    ("NACHWEIS", "x" * 501),
)


def _cons_change(event: ConsentEvent) -> ConsentChange:
    change: ConsentChange = export_cons(ConsentLedger([event]))[0]
    return change


def _cons_row(event: ConsentEvent) -> dict[str, str]:
    return _cons_change(event).to_row()


@cache
def _good_changes() -> st.SearchStrategy[object]:
    """A consent change as the import takes it: an event, a ``ConsentChange`` or a row."""
    events = consent_events()
    return st.one_of(
        events,
        events.map(_cons_change),
        events.map(_cons_row),
    )


@st.composite
def _bad_changes(draw: st.DrawFn) -> object:
    row = _cons_row(draw(_pools()[5]))
    column, value = draw(st.sampled_from(_BAD_VALUES))
    if value is None:
        del row[column]
    else:
        row[column] = value
    if draw(st.booleans()):
        return row
    line = draw(st.integers(2, 50))
    code = draw(st.sampled_from(["E201", "E202", "E205", "E207", "E104"]))
    return Rejected(line=line, raw=";".join(row.values()), messages=(Message(code, line=line),))


_BAD_CHANGES = _bad_changes()


@st.composite
def _imports(draw: st.DrawFn, mode: Mode | None, bad: bool) -> tuple[ConsentLedger, ImportReport]:
    chosen = mode if mode is not None else draw(st.sampled_from(Mode))
    ledger = draw(_pools()[4])
    known = list(ledger)
    again = st.sampled_from(known).map(_cons_row) if known else _good_changes()
    kinds = [_good_changes(), _good_changes(), again]
    if chosen is Mode.LENIENT:
        kinds.append(_BAD_CHANGES)
    changes = draw(st.lists(st.one_of(kinds), max_size=6))
    if bad:
        changes.insert(draw(st.integers(0, len(changes))), draw(_BAD_CHANGES))
    return import_cons(ledger, changes, mode=chosen)


def import_reports(*, mode: Mode | None = None) -> st.SearchStrategy[ImportReport]:
    """Reports of :func:`~emma_osplus.import_cons` for up to six ``CONS`` changes (events,
    ``ConsentChange`` objects, rows; some already in the ledger) into a :func:`consent_ledgers`
    ledger, in *mode* (default: either); lenient imports also get broken rows and rejected
    records.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(import_reports())
    ... def check(report):
    ...     assert report.total == report.new + report.duplicates + len(report.rejected)
    >>> check()
    """
    return _imports(mode, False).map(lambda run: run[1])


def rejected_changes() -> st.SearchStrategy[RejectedChange]:
    """One change a lenient :func:`~emma_osplus.import_cons` rejected: a row with a bad or
    missing value, or a record its reader rejected.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(rejected_changes())
    ... def check(rejected):
    ...     assert rejected.message.line is not None and rejected.message.is_error
    >>> check()
    """
    return _imports(Mode.LENIENT, True).flatmap(lambda run: st.sampled_from(run[1].rejected))


# -- acknowledgements and bounce classification -----------------------------------------------

_WARNINGS = sorted(c for c, d in CATALOGUE.items() if d.level is MessageLevel.WARNING)
_RECORD_ERRORS = sorted(c for c, d in CATALOGUE.items() if d.level is MessageLevel.RECORD)
_FIELDS = ("KUNDENNUMMER", "EMAIL", "ANLASS", None)


@cache
def _records() -> st.SearchStrategy[Record]:
    def build(line: int, customer: CustomerNumber, codes: list[str]) -> Record:
        values = {"KUNDENNUMMER": str(customer), "EMAIL": "anna@example.de"}
        warnings = tuple(Message(code, line=line) for code in codes)
        return Record(line=line, values=values, raw=";".join(values.values()), messages=warnings)

    return st.builds(
        build,
        st.integers(2, 10**5),
        customer_numbers(),
        st.lists(st.sampled_from(_WARNINGS), max_size=1),
    )


@cache
def _rejected_records() -> st.SearchStrategy[Rejected]:
    def build(line: int, codes: list[str], field: str | None) -> Rejected:
        found = tuple(Message(code, line=line, field=field) for code in codes)
        return Rejected(line=line, raw="4711;kaputt", messages=found)

    return st.builds(
        build,
        st.integers(2, 10**5),
        st.lists(st.sampled_from(_RECORD_ERRORS), min_size=1, max_size=2),
        st.sampled_from(_FIELDS),
    )


@cache
def _loose() -> st.SearchStrategy[Notice | Message | MessageError]:
    """Messages that belong to no record: notices, messages, exceptions carrying one."""
    return st.one_of(messages().map(Notice), messages(), messages().map(error_for))


@st.composite
def _ack_results(draw: st.DrawFn) -> AckResult:
    blz = draw(st.none() | blzs())
    kind = draw(st.sampled_from(["KMM", "REKU", "CONS", "LIEF"]))
    ext = "xml" if kind == "LIEF" else "csv"
    name = f"{blz or '37050198'}_{kind}_0_20261122093000_{draw(st.integers(1, 9999)):04d}.{ext}"
    sha256 = draw(st.none() | st.text("0123456789abcdef", min_size=64, max_size=64))
    if draw(st.integers(0, 4)) == 0:  # the caller counted while streaming: only messages
        saetze = draw(st.integers(0, 10**6))
        refused = draw(st.integers(0, saetze) | st.just(0))
        loose = draw(st.lists(_loose(), max_size=3))
        return acknowledge(name, sha256, loose, blz=blz, saetze=saetze, abgelehnt=refused)
    items: list[Record | Rejected | Notice | Message | MessageError] = []
    items += draw(st.lists(_records(), max_size=5))
    items += draw(st.lists(_rejected_records(), max_size=3))
    if draw(st.integers(0, 2)) == 0:
        items += draw(st.lists(_loose(), min_size=1, max_size=2))
    return acknowledge(name, sha256, draw(st.permutations(items)), blz=blz)


def ack_results() -> st.SearchStrategy[AckResult]:
    """Results of :func:`~emma_osplus.acknowledge` for a processed file: records (some with
    warnings), rejected records and now and then loose messages (notices, messages,
    exceptions), or counts with messages only; every status occurs.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(ack_results())
    ... def check(result):
    ...     assert result.saetze == result.uebernommen + result.abgelehnt
    >>> check()
    """
    return _ack_results()


_REPLIES = ("", "550 ", "550-", "551 ", "552 ", "553 ", "554 ", "421 ", "450 ", "452 ")
_STATUSES = ("5.1.1", "5.1.2", "5.1.8", "5.2.1", "5.2.2", "5.3.4", "5.4.1", "5.7.1", "4.2.2")
_STATUSES_MORE = ("4.7.0", "5.0.0", "4.0.0", "5.5.0", "5.1.10", "5.7.606")
_PHRASES = (
    "The email account that you tried to reach does not exist.",
    "Recipient address rejected: User unknown",
    "mailbox unavailable",
    "mailbox full",
    "Mailbox quota exceeded",
    "The email account that you tried to reach is disabled.",
    "Greylisted, see http://postgrey.example/",
    "try again later",
    "Connection timed out",
    "rate limited due to IP reputation",
    "this message has been blocked",
    "Relay access denied",
    "Message size exceeds fixed limit",
    "Benutzer unbekannt",
    "Postfach voll",
    "Kein Postfach mit dieser Adresse vorhanden",
    "Feedback-Type: abuse",
    "recipient marked the message as spam",
    "Beschwerde",
    "User not local",
    "Administrative prohibition",
    "Zustellung fehlgeschlagen",
    "",
)


@cache
def _diagnostics() -> st.SearchStrategy[str]:
    codes = st.sampled_from(("", *_STATUSES, *_STATUSES_MORE)).map(lambda s: f"{s} " if s else "")
    noise = st.text(alphabet="abcdefghijklmnopqrstuvwxyz .:-", max_size=20)
    return st.builds(
        lambda host, reply, code, phrase, tail: f"{host}{reply}{code}{phrase}{tail}",
        st.sampled_from(("", "host mx.example.de[192.0.2.10] said: ")),
        st.sampled_from(_REPLIES),
        codes,
        st.sampled_from(_PHRASES),
        st.one_of(st.just(""), noise),
    )


def classifications() -> st.SearchStrategy[Classification]:
    """Verdicts of :func:`~emma_osplus.classify` for diagnostics built like real ones (an
    optional host and reply code, an optional enhanced status code, a phrase of the table's
    kinds, some noise) and a status given with the bounce or not (or malformed); every class
    occurs.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(classifications())
    ... def check(verdict):
    ...     assert verdict.bounce_class is verdict.rule.bounce_class
    >>> check()
    """
    status = st.one_of(
        st.none(), st.sampled_from(_STATUSES), st.sampled_from(_STATUSES_MORE), st.just("5.1")
    )
    return st.builds(classify, _diagnostics(), status)


# -- every type ---------------------------------------------------------------------------------

#: Every type this module covers, and the event and consent types of the neighbouring modules,
#: mapped to a zero-argument function that returns a strategy for it (enums: any member; base
#: classes: one of the strategies of their subclasses, each building its class directly).
FOR_TYPES: dict[type, Callable[[], st.SearchStrategy[Any]]] = {
    AckResult: ack_results,
    AckStatus: partial(st.sampled_from, AckStatus),
    AgedItem: aged_items,
    Bounce: bounces,
    BounceClass: partial(st.sampled_from, BounceClass),
    BounceRule: bounce_rules,
    Classification: classifications,
    ConsentPolicy: consent_policies,
    Contradiction: contradictions,
    Decision: decisions,
    DecisionReason: partial(st.sampled_from, DecisionReason),
    Engagement: partial(st.sampled_from, Engagement),
    Escalation: escalations,
    EventRef: event_refs,
    FeedbackState: feedback_states,
    GuardResult: guard_results,
    HeldBack: held_backs,
    ImportReport: import_reports,
    InstituteSettings: institute_settings,
    ItemStatus: partial(st.sampled_from, ItemStatus),
    PendingItem: pending_items,
    RecipientKey: recipient_keys,
    RecipientState: recipient_states,
    RejectedChange: rejected_changes,
    ResponseBook: response_books,
    ResponseEvent: lambda: st.one_of(*(response_events(cls) for cls in EVENT_TYPES.values())),
    SoftBouncePolicy: soft_bounce_policies,
    SuppressionResult: suppression_results,
    ToSend: to_sends,
    WithheldReason: partial(st.sampled_from, WithheldReason),
    WithheldRow: withheld_rows,
    Sent: partial(response_events, Sent),
    Opened: partial(response_events, Opened),
    Clicked: partial(response_events, Clicked),
    Unsubscribed: partial(response_events, Unsubscribed),
    HardBounce: partial(response_events, HardBounce),
    SoftBounce: partial(response_events, SoftBounce),
    Withheld: partial(response_events, Withheld),
    ConsentEvent: consent_events,
    ConsentLedger: consent_ledgers,
}
