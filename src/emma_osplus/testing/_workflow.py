"""Strategies for the machines' states and results, the journey events, and what the
processors and the simulation produce.

Machine states and results are made the way a user gets them: by applying generated events
to the public machines (:class:`~emma_osplus.OrderBook`, :class:`~emma_osplus.ListRegistry`,
:class:`~emma_osplus.JourneyRun`), by running an :class:`~emma_osplus.OsplusProcessor` and an
:class:`~emma_osplus.EmmaProcessor` over a connected pair of memory transports, and by
:func:`~emma_osplus.simulate`.  The histories are *guided*: most events are of a kind the
machine accepts in its current state, so deep states (closed orders, parked and released
deliveries, completed journeys) come up often; refused events are skipped, as a caller
would skip them.  Plain values and settings (:class:`~emma_osplus.UpdateMarker`,
:class:`~emma_osplus.DeliveryOrder`, :class:`~emma_osplus.Recipient`) are drawn field by
field.

:data:`FOR_TYPES` maps every public type of the workflow to a function that returns its
strategy (a base class: a mix of its subclasses).

>>> from hypothesis import given, settings
>>> @settings(max_examples=10, deadline=None)
... @given(order_books(), list_registries())
... def check(book, registry):
...     assert all(order.key in book.orders for order in book)
...     assert len(registry) <= registry.limit
>>> check()
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from hypothesis import strategies as st

from .._campaigns import (
    Block,
    BlockAdded,
    BlockRemoved,
    BlockReplaced,
    Campaign,
    CampaignActivated,
    CampaignEnded,
    CampaignEvent,
    CampaignPaused,
    CampaignResumed,
    ListSelected,
    MailingSelected,
    SendBlock,
    StartBlock,
    WaitBlock,
)
from .._consent import ConsentPolicy
from .._control import ControlFile
from .._email import EmailAddress
from .._errors import ProcessError, TransportError
from .._events import (
    UNSUBSCRIBE_SOURCES,
    HardBounce,
    Opened,
    ResponseEvent,
    Sent,
    SoftBounce,
    Unsubscribed,
)
from .._feedback import InstituteSettings
from .._journeys import (
    DueSend,
    Entered,
    JourneyEnded,
    JourneyEvent,
    JourneyPaused,
    JourneyPlan,
    JourneyResumed,
    JourneyRun,
    JourneyStarted,
    JourneyStep,
    JourneySubscriber,
    JourneyUpdate,
    JourneyVersion,
    LeaveReason,
    Left,
    PlanEdited,
    PlanRevised,
    StepSent,
)
from .._lists import (
    CreateList,
    DeleteList,
    FillList,
    FreezeList,
    ListChange,
    ListEvent,
    ListRegistry,
    MarkerPosition,
    Member,
    ReplaceList,
    SubscriberList,
    UpdateMarker,
)
from .._machine import TransitionRefused
from .._orders import (
    KMM_ORDER,
    REKU_ORDER,
    AcceptedDelivery,
    ControlFileFailed,
    ControlFileReceived,
    DataDelivered,
    DeliveryFailed,
    DeliveryVerified,
    KmmEvent,
    KmmOrder,
    ListCreated,
    ListUpdated,
    MailingLinked,
    MailingSent,
    ManifestAnnounced,
    OrderBook,
    OrderClosed,
    OrderEvent,
    OrderStep,
    Outcome,
    ParkedDelivery,
    ParkedReleased,
    RekuEvent,
    RekuOrder,
)
from .._processor import (
    DeliveryOrder,
    DeliveryResult,
    EmmaProcessor,
    FileOutcome,
    MailingSend,
    OsplusProcessor,
    Recipient,
    RecordResult,
    RunReport,
    counter_ids,
)
from .._simulation import (
    Assumptions,
    FunnelReport,
    FunnelStep,
    Rates,
    SimulationResult,
    SkippedRow,
    simulate,
)
from .._store import MemoryStore
from .._transport import MemoryTransport
from .._types import Blz, CustomerNumber, EventId, MailingId, OrderNumber
from ._campaigns import (
    _campaign_event,
    address_keys,
    campaigns,
    journey_plans,
    journey_runs,
    journey_steps,
    leave_reasons,
    send_blocks,
    start_blocks,
    wait_blocks,
)
from ._email import email_addresses
from ._files import registered_occasion_codes
from ._orders import (
    _kmm_event,
    _list_event,
    control_file_events,
    data_deliveries,
    failed_control_file_events,
    list_events,
    list_members,
    list_names,
    parked_releases,
)
from ._simulation import assumptions, rates, simulation_plans
from ._simulation import subscriber_lists as simulation_subscriber_lists
from ._types import blzs, customer_numbers, order_names, order_numbers

__all__ = [
    "FOR_TYPES",
    "accepted_deliveries",
    "blocks",
    "delivery_orders",
    "delivery_results",
    "due_sends",
    "file_outcomes",
    "funnel_reports",
    "funnel_steps",
    "journey_events",
    "journey_subscribers",
    "journey_updates",
    "journey_versions",
    "kmm_orders",
    "list_changes",
    "list_registries",
    "mailing_sends",
    "marker_positions",
    "order_books",
    "order_steps",
    "outcomes",
    "parked_deliveries",
    "recipients",
    "record_results",
    "registry_lists",
    "reku_orders",
    "run_reports",
    "simulation_results",
    "skipped_rows",
    "update_markers",
]

_UTC = dt.timezone.utc

# -- orders ---------------------------------------------------------------------------------------

#: A day after the creation times the order strategies draw, so that deliveries fall on both
#: sides of W301's 36 hours.
_ORDER_T0 = dt.datetime(2026, 11, 21, 8, 0, tzinfo=_UTC)
_ORDER_NUMBERS = ("A1", "A2", "A3")
_ORDER_KINDS = ("KMM", "REKU", "IAM")
_KMM_BY_KIND: dict[str, type[KmmEvent]] = {
    "manifest": ManifestAnnounced,
    "delivered": DeliveryVerified,
    "delivery_failed": DeliveryFailed,
    "list_created": ListCreated,
    "list_updated": ListUpdated,
    "mailing_linked": MailingLinked,
    "sent": MailingSent,
    "closed": OrderClosed,
}
_ACTION_OF = {"control_new": "neu", "control_change": "aenderung", "control_delete": "loeschung"}

Key = tuple[str, str]


def _later(draw: st.DrawFn, at: dt.datetime, max_minutes: int) -> dt.datetime:
    return at + dt.timedelta(minutes=draw(st.integers(0, max_minutes)))


@functools.cache
def _order_event_strategy(key: Key, kind: str, valid: bool) -> st.SearchStrategy[OrderEvent]:
    """Events of *kind* (of the order's table) for the order *key*; with *valid*, ones the
    machine accepts whenever the table allows the kind.  (Cached: histories draw many.)"""
    order_kind, number = key
    numbers = st.just(number)
    if order_kind == "KMM":
        kmm = _kmm_event(_KMM_BY_KIND[kind], numbers)
        if valid and kind == "manifest":
            return st.builds(
                lambda event, name: attrs.evolve(event, name=name, forward=True),
                kmm,
                list_names(),
            )
        return kmm
    reku: st.SearchStrategy[RekuEvent]
    if kind in _ACTION_OF:
        action = _ACTION_OF[kind]
        reku = control_file_events(numbers, valid=True if valid else None).map(
            lambda event: attrs.evolve(event, action=action)
        )
    elif kind == "control_failed":
        reku = control_file_events(numbers, valid=False) | failed_control_file_events(numbers)
    elif kind == "delivery":
        reku = data_deliveries(numbers)
    else:
        reku = parked_releases(numbers)
    return reku.map(lambda event: attrs.evolve(event, order_kind=order_kind))


def _order_event(draw: st.DrawFn, key: Key, kind: str, at: dt.datetime, valid: bool) -> OrderEvent:
    """An event of *kind* for the order *key* at *at* (see :func:`_order_event_strategy`)."""
    return attrs.evolve(draw(_order_event_strategy(key, kind, valid)), at=at)


def _table_kinds(key: Key) -> tuple[str, ...]:
    return (KMM_ORDER if key[0] == "KMM" else REKU_ORDER).events


def _allowed(book: OrderBook, key: Key) -> tuple[str, ...]:
    table = KMM_ORDER if key[0] == "KMM" else REKU_ORDER
    order = book.get(*key)
    return table.allowed(table.initial if order is None else order.state)


def _order_history(
    draw: st.DrawFn, keys: Sequence[Key], max_events: int
) -> tuple[OrderBook, list[OrderStep[OrderBook, Any]], dt.datetime]:
    """A book after a guided history over the orders *keys*: most events are of a kind the
    order's state allows, mostly with values the rules accept (bad names, channels and
    ``weiterleitungSfp`` too); refused events are skipped.  The book, the accepted steps and the time of the last event."""
    book, steps, at = OrderBook(), [], _ORDER_T0
    for _ in range(draw(st.integers(0, max_events))):
        key = draw(st.sampled_from(keys))
        at = _later(draw, at, 12 * 60)
        allowed = _allowed(book, key)
        guided = bool(allowed) and draw(st.integers(0, 9)) > 0
        kind = draw(st.sampled_from(allowed if guided else _table_kinds(key)))
        try:
            valid = draw(st.integers(0, 4)) > 0  # mostly values the rules accept
            step = book.step(_order_event(draw, key, kind, at, valid=valid))
        except TransitionRefused:
            continue
        book = step.state
        steps.append(step)
    return book, steps, at


def _all_keys() -> list[Key]:
    return [(kind, number) for kind in _ORDER_KINDS for number in _ORDER_NUMBERS]


@st.composite
def _order_books(draw: st.DrawFn, max_events: int) -> OrderBook:
    return _order_history(draw, _all_keys(), max_events)[0]


def order_books(*, max_events: int = 12) -> st.SearchStrategy[OrderBook]:
    """Order books after guided histories of up to *max_events* events over KMM, ReKu and
    IAM orders ``A1`` … ``A3`` (refused events skipped).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(order_books())
    ... def check(book):
    ...     assert all(isinstance(o, (KmmOrder, RekuOrder)) for o in book)
    >>> check()
    """
    return _order_books(max_events)


@st.composite
def _kmm_orders(draw: st.DrawFn, max_events: int) -> KmmOrder:
    book, _, _ = _order_history(draw, [("KMM", "A1")], max_events)
    found = book.get("KMM", "A1")
    return found if isinstance(found, KmmOrder) else KmmOrder(order_number="A1")


def kmm_orders(*, max_events: int = 10) -> st.SearchStrategy[KmmOrder]:
    """KMM orders after guided histories of up to *max_events* events (every state from
    ``unknown`` to ``closed``; late deliveries flagged ``W301``).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(kmm_orders())
    ... def check(order):
    ...     assert order.state in KMM_ORDER.states
    ...     assert (order.name is None) == (order.state == "unknown")
    >>> check()
    """
    return _kmm_orders(max_events)


@st.composite
def _reku_history(draw: st.DrawFn, max_events: int) -> tuple[RekuOrder, dt.datetime]:
    kind = draw(st.sampled_from(("REKU", "IAM")))
    book, _, at = _order_history(draw, [(kind, "A1")], max_events)
    found = book.get(kind, "A1")
    order = found if isinstance(found, RekuOrder) else RekuOrder(order_kind=kind, order_number="A1")
    return order, at


def reku_orders(*, max_events: int = 10) -> st.SearchStrategy[RekuOrder]:
    """ReKu and IAM orders after guided histories of up to *max_events* events (active,
    failed, blocked and deleted orders, with parked, released and accepted deliveries).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(reku_orders())
    ... def check(order):
    ...     assert all(a.list_name in (order.name, *order.frozen_lists) for a in order.accepted)
    >>> check()
    """
    return _reku_history(max_events).map(lambda found: found[0])


@st.composite
def _order_steps(draw: st.DrawFn, max_events: int) -> OrderStep[OrderBook, Any]:
    book, _, at = _order_history(draw, _all_keys(), max_events)
    open_keys = [k for k in _all_keys() if _allowed(book, k)] or [("KMM", "A9")]
    key = draw(st.sampled_from(open_keys))
    kind = draw(st.sampled_from(_allowed(book, key)))
    return book.step(_order_event(draw, key, kind, _later(draw, at, 12 * 60), valid=True))


def order_steps(*, max_events: int = 10) -> st.SearchStrategy[OrderStep[OrderBook, Any]]:
    """Accepted steps of an :class:`~emma_osplus.OrderBook` (``state`` the new book,
    ``order`` the order), after a guided history of up to *max_events* events: every
    outcome, with warnings, parked-delivery errors, list effects and released deliveries.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(order_steps())
    ... def check(step):
    ...     assert step.state.get(*step.event.order_key) == step.order
    >>> check()
    """
    return _order_steps(max_events)


def outcomes() -> st.SearchStrategy[Outcome]:
    """Every :class:`~emma_osplus.Outcome` of an order step.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5)
    ... @given(outcomes())
    ... def check(outcome):
    ...     assert Outcome(outcome.value) is outcome
    >>> check()
    """
    return st.sampled_from(Outcome)


def _failing_control(draw: st.DrawFn, order: RekuOrder, at: dt.datetime) -> RekuEvent:
    event = draw(control_file_events(st.just("A1"), valid=False) | failed_control_file_events())
    return attrs.evolve(event, order_number="A1", order_kind=order.order_kind, at=at)


def _delivery(draw: st.DrawFn, order: RekuOrder, at: dt.datetime) -> DataDelivered:
    event = draw(data_deliveries(st.just("A1")))
    return attrs.evolve(event, order_kind=order.order_kind, at=at)


@st.composite
def _parked_deliveries(draw: st.DrawFn, max_events: int) -> ParkedDelivery:
    order, at = draw(_reku_history(max_events))
    if order.state == "deleted":
        order = RekuOrder(order_kind=order.order_kind, order_number="A1")
    if order.state == "active":  # a failing control file blocks deliveries
        at = _later(draw, at, 60)
        order = order.apply(_failing_control(draw, order, at))
    order = order.apply(_delivery(draw, order, _later(draw, at, 60)))
    return draw(st.sampled_from(order.parked))


def parked_deliveries(*, max_events: int = 8) -> st.SearchStrategy[ParkedDelivery]:
    """Deliveries an order parked (``E301``): before any control file, after failed ones, or
    while a failed control file blocks the order.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(parked_deliveries())
    ... def check(parked):
    ...     assert parked.message.code == "E301"
    >>> check()
    """
    return _parked_deliveries(max_events)


@st.composite
def _accepted_deliveries(draw: st.DrawFn, max_events: int) -> AcceptedDelivery:
    order, at = draw(_reku_history(max_events))
    if order.state == "deleted":
        order = RekuOrder(order_kind=order.order_kind, order_number="A1")
    if order.state != "active":  # a correct control file makes it active
        at = _later(draw, at, 60)
        control = draw(control_file_events(st.just("A1"), valid=True))
        order = order.apply(attrs.evolve(control, order_kind=order.order_kind, action="neu", at=at))
    at = _later(draw, at, 60)
    if bool(order.parked) and draw(st.booleans()):
        order = order.apply(ParkedReleased(order_number="A1", order_kind=order.order_kind, at=at))
    else:
        order = order.apply(_delivery(draw, order, at))
    return draw(st.sampled_from(order.accepted))


def accepted_deliveries(*, max_events: int = 8) -> st.SearchStrategy[AcceptedDelivery]:
    """Deliveries an order accepted, directly or released after being parked.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(accepted_deliveries())
    ... def check(accepted):
    ...     assert accepted.accepted_at >= accepted.delivery.at
    >>> check()
    """
    return _accepted_deliveries(max_events)


# -- subscriber lists -----------------------------------------------------------------------------

_MARKER_TEXTS = ("_UPDATE", "UPD-", "_upd", ".neu", "-AKT")


def marker_positions() -> st.SearchStrategy[MarkerPosition]:
    """Every :class:`~emma_osplus.MarkerPosition`.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5)
    ... @given(marker_positions())
    ... def check(position):
    ...     assert UpdateMarker("_UPD", position).position is position
    >>> check()
    """
    return st.sampled_from(MarkerPosition)


def update_markers() -> st.SearchStrategy[UpdateMarker]:
    """Update markers: the default, agreed texts from a small pool or any short text the
    order-name rule allows, at every position.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(update_markers())
    ... def check(marker):
    ...     assert marker.matches("Liste" + marker.text + "Liste") or (
    ...         marker.position is not MarkerPosition.ANYWHERE)
    >>> check()
    """
    texts = st.sampled_from(_MARKER_TEXTS) | order_names().map(str).filter(lambda t: len(t) <= 8)
    return st.just(UpdateMarker()) | st.builds(UpdateMarker, texts, marker_positions())


def _marked_name(marker: UpdateMarker) -> str:
    if marker.position is MarkerPosition.PREFIX:
        return f"{marker.text}Liste"
    if marker.position is MarkerPosition.SUFFIX:
        return f"Liste{marker.text}"
    return f"Liste{marker.text}2026"


@st.composite
def _list_history(
    draw: st.DrawFn, max_events: int
) -> tuple[ListRegistry, list[ListChange], dt.datetime]:
    """A registry after up to *max_events* list events and deliveries over a small pool of
    names (refused ones skipped); sometimes a small account, so that ``W302`` and ``E302``
    come up."""
    marker = draw(st.just(UpdateMarker()) | update_markers())
    limit = draw(st.sampled_from((150, 150, 150, 2, 3, 5)))
    registry = ListRegistry(marker=marker, limit=limit, warn_at=max(1, limit * 9 // 10))
    names = list_names() | st.just(_marked_name(marker))
    events, members = list_events(names), st.lists(list_members(), max_size=4)
    at = dt.datetime(2026, 11, 22, 9, 30, tzinfo=_UTC)
    changes: list[ListChange] = []
    for _ in range(draw(st.integers(0, max_events))):
        at = _later(draw, at, 24 * 60)
        try:
            if draw(st.booleans()):
                event = attrs.evolve(draw(events), at=at)
                change = registry.step(event)
            else:
                change = registry.deliver(
                    draw(names),
                    at=at,
                    members=draw(members),
                    continuous=draw(st.booleans()),
                )
        except TransitionRefused:
            continue
        registry = change.registry
        changes.append(change)
    return registry, changes, at


def list_registries(*, max_events: int = 10) -> st.SearchStrategy[ListRegistry]:
    """Registries after up to *max_events* list events and deliveries (refused ones
    skipped), with the default or another update marker and, now and then, an account of
    only a few lists.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(list_registries())
    ... def check(registry):
    ...     assert all(registry.state_of(name) in ("open", "frozen") for name in registry)
    >>> check()
    """
    return _list_history(max_events).map(lambda found: found[0])


@st.composite
def _list_changes(draw: st.DrawFn, max_events: int) -> ListChange:
    registry, changes, at = draw(_list_history(max_events))
    at = _later(draw, at, 60)
    if bool(changes) and draw(st.booleans()):
        return draw(st.sampled_from(changes))
    if len(registry) < registry.limit:
        fresh = next(f"Liste_{n}" for n in range(len(registry) + 1) if f"Liste_{n}" not in registry)
        return registry.deliver(fresh, at=at, members=draw(st.lists(list_members(), max_size=4)))
    return registry.delete(draw(st.sampled_from(sorted(registry))), at=at)


def list_changes(*, max_events: int = 10) -> st.SearchStrategy[ListChange]:
    """Changes of accepted steps and deliveries of a registry (members added, removed and
    updated, ``W302`` near the limit).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(list_changes())
    ... def check(change):
    ...     assert not set(change.added) & set(change.removed)
    >>> check()
    """
    return _list_changes(max_events)


@st.composite
def _registry_lists(draw: st.DrawFn, max_events: int) -> SubscriberList:
    registry, _, at = draw(_list_history(max_events))
    if not registry.lists:
        members = draw(st.lists(list_members(), max_size=4))
        registry = registry.deliver(draw(list_names()), at=at, members=members).registry
    return registry[draw(st.sampled_from(sorted(registry)))]


def registry_lists(*, max_events: int = 10) -> st.SearchStrategy[SubscriberList]:
    """The :class:`~emma_osplus.SubscriberList` values of generated registries (open and
    frozen, one-off and continuous).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(registry_lists())
    ... def check(lst):
    ...     assert all(m.customer == c for c, m in lst.members.items())
    >>> check()
    """
    return _registry_lists(max_events)


# -- journeys -------------------------------------------------------------------------------------

_JOURNEY_T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=_UTC)
_JOURNEY_OFFSETS = (_UTC, dt.timezone(dt.timedelta(hours=1)), dt.timezone(dt.timedelta(hours=-5)))


def _journey_times() -> st.SearchStrategy[dt.datetime]:
    return st.builds(
        lambda minutes, tz: (_JOURNEY_T0 + dt.timedelta(minutes=minutes)).astimezone(tz),
        st.integers(0, 60 * 24 * 60),
        st.sampled_from(_JOURNEY_OFFSETS),
    )


def _journey_customers() -> st.SearchStrategy[CustomerNumber]:
    return st.integers(1, 6).map(CustomerNumber)


def _journey_event_builders() -> dict[type[JourneyEvent], st.SearchStrategy[JourneyEvent]]:
    at = _journey_times()
    customers = _journey_customers()
    plans = journey_plans() | journey_plans(complete=False, min_steps=0)
    return {
        PlanEdited: st.builds(PlanEdited, plans, at=at),
        JourneyStarted: st.builds(JourneyStarted, at=at),
        PlanRevised: st.builds(PlanRevised, plans, at=at),
        JourneyPaused: st.builds(JourneyPaused, at=at),
        JourneyResumed: st.builds(JourneyResumed, at=at),
        JourneyEnded: st.builds(JourneyEnded, at=at),
        Entered: st.builds(Entered, customers, address_keys(), at=at),
        StepSent: st.builds(StepSent, customers, st.integers(1, 5), at=at),
        Left: st.builds(Left, customers, leave_reasons(), at=at),
    }


def _journey_event(cls: type[JourneyEvent]) -> st.SearchStrategy[JourneyEvent]:
    return _journey_event_builders()[cls]


def journey_events() -> st.SearchStrategy[JourneyEvent]:
    """Journey events of every kind with valid values (customers from a small pool, plans
    complete or not; the machine may still refuse them).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(journey_events())
    ... def check(event):
    ...     assert event.at.utcoffset() is not None
    >>> check()
    """
    return st.one_of(*_journey_event_builders().values())


@st.composite
def _journey_history(
    draw: st.DrawFn, max_events: int
) -> tuple[JourneyRun, list[JourneyUpdate], dt.datetime]:
    """A started journey after a guided history: entries, the sends that are due, leaves,
    revisions, pauses (refused events skipped); never ended."""
    plans = journey_plans(max_steps=3, max_interval=5)
    name = draw(st.sampled_from(("Neukunde Privatgirokonto", "Junge Erwachsene", "OBV")))
    at = _JOURNEY_T0
    run = JourneyRun(name, draw(journey_plans(complete=False, min_steps=0)))
    if not run.plan.complete or draw(st.booleans()):
        run = run.apply(PlanEdited(draw(plans), at=at))
    updates = [run.step(JourneyStarted(at=at))]
    run = updates[0].run
    for _ in range(draw(st.integers(0, max_events))):
        at = _later(draw, at, 3 * 24 * 60)
        action = draw(
            st.sampled_from(("enter", "send", "send", "send", "leave", "revise", "pause"))
        )
        event: JourneyEvent
        if action == "enter":
            event = Entered(draw(_journey_customers()), draw(address_keys()), at=at)
        elif action == "send":
            due = run.due(at)
            if due:
                event = draw(st.sampled_from(due)).as_sent(at)
            else:
                event = StepSent(draw(_journey_customers()), draw(st.integers(1, 3)), at=at)
        elif action == "leave":
            event = Left(draw(_journey_customers()), draw(leave_reasons()), at=at)
        elif action == "revise":
            event = PlanRevised(draw(plans), at=at)
        else:
            event = JourneyPaused(at=at) if run.state == "running" else JourneyResumed(at=at)
        try:
            update = run.step(event)
        except TransitionRefused:
            continue
        run = update.run
        updates.append(update)
    return run, updates, at


@st.composite
def _journey_updates(draw: st.DrawFn, max_events: int) -> JourneyUpdate:
    run, updates, at = draw(_journey_history(max_events))
    if draw(st.booleans()):
        return draw(st.sampled_from(updates))
    at = _later(draw, at, 24 * 60)
    due = run.due(at)
    choices: list[st.SearchStrategy[JourneyEvent]] = [
        st.builds(Entered, _journey_customers(), address_keys(), at=st.just(at)),
        st.builds(Left, _journey_customers(), leave_reasons(), at=st.just(at)),
        st.builds(PlanRevised, journey_plans(max_steps=3), at=st.just(at)),
        st.just(JourneyEnded(at=at)),
        st.just(JourneyPaused(at=at) if run.state == "running" else JourneyResumed(at=at)),
    ]
    if due:
        choices.append(st.sampled_from(due).map(lambda d: d.as_sent(at)))
    return run.step(draw(st.one_of(choices)))


def journey_updates(*, max_events: int = 10) -> st.SearchStrategy[JourneyUpdate]:
    """Updates of accepted journey events (applied ones and reported re-deliveries and
    repeated leaves), after a guided history of up to *max_events* events.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(journey_updates())
    ... def check(update):
    ...     assert update.applied or update.reason
    >>> check()
    """
    return _journey_updates(max_events)


@st.composite
def _journey_subscribers(draw: st.DrawFn, max_events: int) -> JourneySubscriber:
    run, _, at = draw(_journey_history(max_events))
    if not run.subscribers:
        run = run.apply(Entered(draw(_journey_customers()), draw(address_keys()), at=at))
    return draw(st.sampled_from(sorted(run.subscribers.values(), key=lambda s: s.customer.value)))


def journey_subscribers(*, max_events: int = 12) -> st.SearchStrategy[JourneySubscriber]:
    """Subscribers of generated journeys: active, completed and left (some before they ever
    entered).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(journey_subscribers())
    ... def check(subscriber):
    ...     assert (subscriber.left_reason is None) == (subscriber.state != "left")
    >>> check()
    """
    return _journey_subscribers(max_events)


@st.composite
def _due_sends(draw: st.DrawFn, max_events: int) -> DueSend:
    run, _, at = draw(_journey_history(max_events))
    if run.state == "paused":
        run = run.apply(JourneyResumed(at=at))
    customer = CustomerNumber(draw(st.integers(100, 199)))  # not in the history's pool
    run = run.apply(Entered(customer, draw(address_keys()), at=at))
    plan = run.plan
    late = at + dt.timedelta(days=plan.offsets[-1], minutes=draw(st.integers(0, 3 * 24 * 60)))
    return draw(st.sampled_from(run.due(late)))


def due_sends(*, max_events: int = 10) -> st.SearchStrategy[DueSend]:
    """Sends a running journey says are due (:meth:`~emma_osplus.JourneyRun.due`).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(due_sends())
    ... def check(send):
    ...     assert send.step >= 1 and send.version >= 1
    >>> check()
    """
    return _due_sends(max_events)


@st.composite
def _journey_versions(draw: st.DrawFn, max_events: int) -> JourneyVersion:
    run, _, _ = draw(_journey_history(max_events))
    return draw(st.sampled_from(run.versions))


def journey_versions(*, max_events: int = 10) -> st.SearchStrategy[JourneyVersion]:
    """Versions of generated journeys (version 1 from the start, later ones from
    revisions).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(journey_versions())
    ... def check(version):
    ...     assert version.plan.complete and version.number >= 1
    >>> check()
    """
    return _journey_versions(max_events)


# -- campaigns ------------------------------------------------------------------------------------


def blocks() -> st.SearchStrategy[Block]:
    """Blocks of every kind: start, wait and send (with and without a list or mailing).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(blocks())
    ... def check(block):
    ...     assert block.kind in ("start", "wait", "send")
    >>> check()
    """
    return st.one_of(start_blocks(), wait_blocks(), send_blocks())


# -- simulation -----------------------------------------------------------------------------------

_BAD_ROWS: tuple[dict[str, str], ...] = (
    {"KUNDENNUMMER": "12ab", "EMAIL": "kunde@example.de"},
    {"KUNDENNUMMER": "4711", "EMAIL": "kein-at-zeichen"},
    {"KUNDENNUMMER": "4712"},
    {"EMAIL": "ohne.nummer@example.de"},
    {"KUNDENNUMMER": "", "EMAIL": "leer@example.de"},
)


@st.composite
def _simulation_results(
    draw: st.DrawFn, max_subscribers: int, max_steps: int, min_skipped: int
) -> SimulationResult:
    plan = draw(simulation_plans(max_steps=max_steps, max_interval=5))
    rows: list[dict[str, str]] = draw(simulation_subscriber_lists(max_size=max_subscribers))
    bad = draw(st.lists(st.sampled_from(_BAD_ROWS), min_size=min_skipped, max_size=2))
    if bool(rows) and draw(st.booleans()):  # a customer number given twice
        bad.append({**rows[0], "EMAIL": "zweite.adresse@example.de"})
    for row in bad:
        rows.insert(draw(st.integers(0, len(rows))), dict(row))
    targets: list[JourneyPlan | Campaign | JourneyRun] = [
        plan,
        plan.to_campaign("Willkommen", "Neukunden_2026"),
        JourneyRun("OBV", plan),
    ]
    target = draw(st.sampled_from(targets))
    return simulate(
        rows,
        target,
        draw(assumptions(steps=len(plan.steps))),
        seed=draw(st.integers(0, 2**16)),
        entry_spread_days=draw(st.integers(0, 3)),
    )


def simulation_results(
    *, max_subscribers: int = 8, max_steps: int = 3
) -> st.SearchStrategy[SimulationResult]:
    """Results of :func:`~emma_osplus.simulate` for up to *max_subscribers* synthetic
    subscribers (with a few broken rows now and then), plans of up to *max_steps* steps (as
    a plan, a campaign or a journey) and generated assumptions.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, deadline=None)
    ... @given(simulation_results())
    ... def check(result):
    ...     assert len(result.report) == len(result.plan.steps)
    >>> check()
    """
    return _simulation_results(max_subscribers, max_steps, 0)


def funnel_reports(
    *, max_subscribers: int = 8, max_steps: int = 3
) -> st.SearchStrategy[FunnelReport]:
    """The funnel reports of :func:`simulation_results`.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, deadline=None)
    ... @given(funnel_reports())
    ... def check(report):
    ...     assert report.left + report.completed <= report.entered
    >>> check()
    """
    return simulation_results(max_subscribers=max_subscribers, max_steps=max_steps).map(
        lambda result: result.report
    )


def funnel_steps(*, max_subscribers: int = 8, max_steps: int = 3) -> st.SearchStrategy[FunnelStep]:
    """The steps of :func:`funnel_reports`.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, deadline=None)
    ... @given(funnel_steps())
    ... def check(step):
    ...     assert step.clicked <= step.opened <= step.sent
    >>> check()
    """
    return funnel_reports(max_subscribers=max_subscribers, max_steps=max_steps).flatmap(
        lambda report: st.sampled_from(report.steps)
    )


def skipped_rows(*, max_subscribers: int = 5) -> st.SearchStrategy[SkippedRow]:
    """Rows a simulation could not take part (invalid or missing customer number or
    address, a customer number given twice), with their message.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, deadline=None)
    ... @given(skipped_rows())
    ... def check(skipped):
    ...     assert skipped.message.is_error
    >>> check()
    """
    return _simulation_results(max_subscribers, 2, 1).flatmap(
        lambda result: st.sampled_from(result.skipped)
    )


# -- the processors -------------------------------------------------------------------------------

_BLZ = "37050198"
_EXCHANGE_T0 = dt.datetime(2026, 11, 22, 9, 30, tzinfo=_UTC)
_KMM_NAMES = ("Herbst_Aktion_2026", "Newsletter_UPDATE")
_REKU_NAMES = ("Runde_Geburtstage", "Runde_Geburtstage_2027")
_OCCASION = "MCAG002"


class _Clock:
    def __init__(self) -> None:
        self.now = _EXCHANGE_T0

    def __call__(self) -> dt.datetime:
        return self.now


class _FlakyTransport(MemoryTransport):
    """A memory transport whose backend fails for the files named in ``failing``."""

    failing: set[str]

    def open(self, name: str) -> Any:
        if name in getattr(self, "failing", ()):
            raise TransportError(f"connection reset while reading {name!r}")
        return super().open(name)


def delivery_orders() -> st.SearchStrategy[DeliveryOrder]:
    """Valid :class:`~emma_osplus.DeliveryOrder` values: any institute, order number and
    name, every kind (``REKU`` with a registered occasion), with and without ``erstellt``,
    mostly forwarded to EMMA.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(delivery_orders())
    ... def check(order):
    ...     assert order.kind != "REKU" or order.occasion is not None
    >>> check()
    """

    def build(kind: str) -> st.SearchStrategy[DeliveryOrder]:
        occasion = registered_occasion_codes()
        return st.builds(
            DeliveryOrder,
            blz=blzs(),
            number=order_numbers(),
            kind=st.just(kind),
            name=order_names(),
            created=st.none()
            | st.builds(
                lambda m: _EXCHANGE_T0 - dt.timedelta(minutes=m), st.integers(0, 3 * 24 * 60)
            ),
            occasion=occasion if kind == "REKU" else st.none() | occasion,
            forward=st.sampled_from((True, True, True, False)),
        )

    return st.sampled_from(("KMM", "REKU", "IAM")).flatmap(build)


def recipients() -> st.SearchStrategy[Recipient]:
    """Recipients of a mailing: customer, address and the row they came in (its
    ``KUNDENNUMMER`` and ``EMAIL`` agree with them).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(recipients())
    ... def check(recipient):
    ...     assert recipient.values["EMAIL"] == str(recipient.email)
    >>> check()
    """
    extra = st.fixed_dictionaries({}, optional={"VORNAME": st.sampled_from(("Jürgen", "Anna"))})
    return st.builds(
        lambda customer, email, more: Recipient(
            customer, email, {"KUNDENNUMMER": str(customer), "EMAIL": str(email), **more}
        ),
        customer_numbers(),
        email_addresses(),
        extra,
    )


@attrs.define
class _Exchange:
    """What a generated exchange between the two processors produced."""

    emma_reports: list[RunReport] = attrs.field(factory=list)
    osplus_reports: list[RunReport] = attrs.field(factory=list)
    deliveries: list[DeliveryResult] = attrs.field(factory=list)
    sends: list[MailingSend] = attrs.field(factory=list)
    records: list[RecordResult] = attrs.field(factory=list)

    @property
    def files(self) -> list[FileOutcome]:
        return [f for r in (*self.emma_reports, *self.osplus_reports) for f in r.files]


def _rows(draw: st.DrawFn, reku: bool) -> list[dict[str, str]]:
    customers = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3, unique=True))
    extra = {"ANLASS": _OCCASION} if reku else {}
    return [
        {"KUNDENNUMMER": str(c), "EMAIL": f"kunde{c}@example.de", "VORNAME": "Jürgen", **extra}
        for c in customers
    ]


def _control(draw: st.DrawFn, now: dt.datetime) -> ControlFile:
    return ControlFile(
        typ="vreku",
        blz=_BLZ,
        nummer="R1",
        aktion=draw(st.sampled_from(("neu", "neu", "aenderung", "loeschung"))),
        bezeichnung=draw(st.sampled_from(_REKU_NAMES)),
        rhythmus="monatlich",
        gueltig_ab=dt.date(2026, 12, 1),
        anlass=_OCCASION,
        erstellt=now,
    )


def _responses(draw: st.DrawFn, first_id: int, now: dt.datetime) -> list[ResponseEvent]:
    found: list[ResponseEvent] = []
    for number in range(draw(st.integers(1, 4))):
        customer = draw(st.integers(1, 6))
        order_kind, order = draw(st.sampled_from((("KMM", "K1"), ("KMM", "K2"), ("REKU", "R1"))))
        event_id = first_id + number if number == 0 or draw(st.integers(0, 4)) else first_id
        fields: dict[str, Any] = {
            "event_id": EventId(f"ev{event_id}"),
            "blz": Blz(_BLZ),
            "order": OrderNumber(order),
            "order_kind": order_kind,
            "mailing": MailingId("M-1"),
            "customer": CustomerNumber(customer),
            "email": EmailAddress(f"kunde{customer}@example.de"),
            "at": now - dt.timedelta(minutes=draw(st.integers(1, 600))),
        }
        kind = draw(st.sampled_from(("sent", "opened", "unsub", "hard", "soft")))
        if kind == "sent":
            found.append(Sent(**fields))
        elif kind == "opened":
            found.append(Opened(**fields))
        elif kind == "unsub":
            found.append(Unsubscribed(**fields, source=draw(st.sampled_from(UNSUBSCRIBE_SOURCES))))
        elif kind == "hard":
            found.append(HardBounce(**fields, status="5.1.1", diagnostic="550 5.1.1 user unknown"))
        else:
            found.append(SoftBounce(**fields, status="4.2.2", diagnostic="452 4.2.2 mailbox full"))
    return found


def _osplus_action(
    draw: st.DrawFn, action: str, osplus: OsplusProcessor, side: _FlakyTransport, ex: _Exchange
) -> None:
    """One thing OSPlus (or the line between the two sides) does before EMMA runs."""
    now = osplus.clock()
    if action == "kmm":
        order = DeliveryOrder(
            blz=_BLZ,
            number=draw(st.sampled_from(("K1", "K1", "K2"))),
            kind="KMM",
            name=draw(st.sampled_from(_KMM_NAMES)),
            created=now - dt.timedelta(hours=draw(st.sampled_from((1, 40)))),
            forward=draw(st.sampled_from((True, True, True, False))),
        )
        ex.deliveries.append(osplus.deliver(order, _rows(draw, reku=False)))
    elif action == "reku":
        order = DeliveryOrder(
            blz=_BLZ, number="R1", kind="REKU", name=draw(st.sampled_from(_REKU_NAMES)),
            occasion=_OCCASION,
        )  # fmt: skip
        ex.deliveries.append(osplus.deliver(order, _rows(draw, reku=True)))
    elif action == "control":
        osplus.send_control(_control(draw, now))
    elif action == "junk":
        name, data = draw(
            st.sampled_from(
                (
                    (f"{_BLZ}_NOPE.csv", b"x"),
                    (f"{_BLZ}_LIEF_K3_20261122093000_0001.xml", b"<lieferung>"),
                    (f"{_BLZ}_VREKU_R1_20261122093000_0009.xml", b"\xff\xfe"),
                    (f"{_BLZ}_KMM_K4_20261122093000_0001.csv", b"KUNDENNUMMER;EMAIL\r\n"),
                )
            )
        )
        side.deliver(name, data)
    elif action == "again" and side.archived:  # OSPlus sends everything again
        for name, data in side.archived.items():
            side.deliver(name, data)
    elif action == "lose" and side.inbox:  # a file of a delivery does not arrive
        del side.inbox[draw(st.sampled_from(sorted(side.inbox)))]
    elif action == "corrupt" and side.inbox:
        name = draw(st.sampled_from(sorted(side.inbox)))
        side.inbox[name] = side.inbox[name] + b"\r\n"
    elif action == "flaky" and side.inbox:
        side.failing.add(draw(st.sampled_from(sorted(side.inbox))))


_OSPLUS_ACTIONS = ("kmm", "kmm", "reku", "control", "junk", "again", "lose", "corrupt", "flaky")


@st.composite
def _exchanges(draw: st.DrawFn) -> _Exchange:
    """A clean KMM delivery that EMMA lists and sends, then one or two rounds: OSPlus
    delivers (and the line loses, corrupts or repeats files), EMMA runs, sends a mailing and
    records responses, OSPlus runs."""
    clock = _Clock()
    osplus_side, emma_side = _FlakyTransport.pair()
    assert isinstance(emma_side, _FlakyTransport)
    emma_side.failing = set()
    osplus = OsplusProcessor(
        osplus_side,
        MemoryStore(),
        clock=clock,
        settings=InstituteSettings(
            auto_unsubscribe=draw(st.booleans()), auto_hard_bounce=draw(st.booleans())
        ),
    )
    emma = EmmaProcessor(
        emma_side,
        MemoryStore(),
        clock=clock,
        ids=counter_ids("ZH"),
        consent_policy=ConsentPolicy(require_consent=draw(st.sampled_from((False, False, True)))),
        missing_file_after=dt.timedelta(hours=6),
    )
    ex = _Exchange()
    # a clean start: a KMM order delivered, listed and sent
    first = DeliveryOrder(blz=_BLZ, number="K1", kind="KMM", name=draw(st.sampled_from(_KMM_NAMES)))
    ex.deliveries.append(osplus.deliver(first, _rows(draw, reku=False)))
    ex.emma_reports.append(emma.run_once())
    ex.sends.append(emma.send_mailing(_BLZ, "KMM", "K1", "M-K1"))
    next_id = 1
    for _ in range(draw(st.integers(1, 2))):
        for action in draw(st.lists(st.sampled_from(_OSPLUS_ACTIONS), max_size=3)):
            _osplus_action(draw, action, osplus, emma_side, ex)
        clock.now += dt.timedelta(minutes=5)
        ex.emma_reports.append(emma.run_once())
        if draw(st.booleans()):
            kind, number = draw(st.sampled_from((("KMM", "K1"), ("KMM", "K2"), ("REKU", "R1"))))
            with contextlib.suppress(ProcessError):  # no order with a list, or sent already
                ex.sends.append(emma.send_mailing(_BLZ, kind, number, f"M-{number}"))
        if not ex.records or draw(st.booleans()):
            events = _responses(draw, next_id, clock.now)
            next_id += len(events)
            ex.records.append(emma.record_responses(events))
        if draw(st.integers(0, 3)) == 0:  # another RESP, and the one before it is lost: E109
            events = _responses(draw, next_id, clock.now)
            next_id += len(events)
            ex.records.append(emma.record_responses(events))
            resp = [n for n in sorted(osplus_side.inbox) if "_RESP_" in n]
            if len(resp) >= 2:
                del osplus_side.inbox[resp[-2]]
        clock.now += dt.timedelta(hours=draw(st.sampled_from((1, 1, 7, 30))))
        ex.osplus_reports.append(osplus.run_once())
    return ex


def run_reports(*, side: str | None = None) -> st.SearchStrategy[RunReport]:
    """Reports of :meth:`~emma_osplus.EmmaProcessor.run_once` (``side="emma"``) and
    :meth:`~emma_osplus.OsplusProcessor.run_once` (``side="osplus"``; default: either) in a
    generated exchange of KMM and ReKu deliveries, control files, responses and broken,
    lost, repeated or unreadable files: every outcome comes up.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, deadline=None)
    ... @given(run_reports())
    ... def check(report):
    ...     assert sum(report.counts.values()) == len(report.files)
    >>> check()
    """
    if side not in (None, "emma", "osplus"):
        raise ValueError(f"side must be 'emma', 'osplus' or None, not {side!r}")

    def pick(ex: _Exchange) -> st.SearchStrategy[RunReport]:
        emma, osplus = ex.emma_reports, ex.osplus_reports
        found = emma if side == "emma" else osplus if side == "osplus" else emma + osplus
        return st.sampled_from(found)

    return _exchanges().flatmap(pick)


def file_outcomes() -> st.SearchStrategy[FileOutcome]:
    """The :class:`~emma_osplus.FileOutcome` values of :func:`run_reports`.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, deadline=None)
    ... @given(file_outcomes())
    ... def check(outcome):
    ...     assert outcome.outcome != "processed" or outcome.kind is not None
    >>> check()
    """
    return _exchanges().flatmap(lambda ex: st.sampled_from(ex.files))


def delivery_results() -> st.SearchStrategy[DeliveryResult]:
    """What :meth:`~emma_osplus.OsplusProcessor.deliver` returned in a generated exchange
    (customers with pending feedback held back).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, deadline=None)
    ... @given(delivery_results())
    ... def check(result):
    ...     assert result.files[-1].split("_")[1] == "LIEF"
    >>> check()
    """
    return _exchanges().flatmap(lambda ex: st.sampled_from(ex.deliveries))


def mailing_sends() -> st.SearchStrategy[MailingSend]:
    """What :meth:`~emma_osplus.EmmaProcessor.send_mailing` decided in a generated exchange
    (recipients, and rows withheld for missing or withdrawn consent).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, deadline=None)
    ... @given(mailing_sends())
    ... def check(send):
    ...     assert not {r.customer for r in send.recipients} & {w.customer for w in send.withheld}
    >>> check()
    """
    return _exchanges().flatmap(lambda ex: st.sampled_from(ex.sends))


def record_results() -> st.SearchStrategy[RecordResult]:
    """What :meth:`~emma_osplus.EmmaProcessor.record_responses` did in a generated exchange
    (new and repeated events, consent changes).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, deadline=None)
    ... @given(record_results())
    ... def check(result):
    ...     assert result.new + result.duplicates >= 1
    >>> check()
    """
    return _exchanges().flatmap(lambda ex: st.sampled_from(ex.records))


# -- every type -----------------------------------------------------------------------------------


_KMM_EVENT_TYPES: tuple[type[KmmEvent], ...] = (
    ManifestAnnounced,
    DeliveryVerified,
    DeliveryFailed,
    ListCreated,
    ListUpdated,
    MailingLinked,
    MailingSent,
    OrderClosed,
)
_REKU_EVENT_TYPES: tuple[type[RekuEvent], ...] = (
    ControlFileReceived,
    ControlFileFailed,
    DataDelivered,
    ParkedReleased,
)
_LIST_EVENT_TYPES: tuple[type[ListEvent], ...] = (
    CreateList,
    FillList,
    ReplaceList,
    FreezeList,
    DeleteList,
)
_CAMPAIGN_EVENT_TYPES: tuple[type[CampaignEvent], ...] = (
    ListSelected,
    BlockAdded,
    BlockRemoved,
    BlockReplaced,
    MailingSelected,
    CampaignActivated,
    CampaignPaused,
    CampaignResumed,
    CampaignEnded,
)
_JOURNEY_EVENT_TYPES: tuple[type[JourneyEvent], ...] = (
    PlanEdited,
    JourneyStarted,
    PlanRevised,
    JourneyPaused,
    JourneyResumed,
    JourneyEnded,
    Entered,
    StepSent,
    Left,
)


def _mix(*types: type[Any]) -> Callable[[], st.SearchStrategy[Any]]:
    """A base class's strategy: its concrete subclasses, equally often."""
    return lambda: st.one_of(*(FOR_TYPES[t]() for t in types))


#: Every public type of the workflow → a function that returns a strategy for it (a base
#: class: its concrete subclasses, equally often, which the public mixes such as
#: :func:`~emma_osplus.testing.order_events` do not promise; an enum: its members).
FOR_TYPES: dict[type, Callable[[], st.SearchStrategy[Any]]] = {
    # orders
    OrderEvent: _mix(*_KMM_EVENT_TYPES, *_REKU_EVENT_TYPES),
    KmmEvent: _mix(*_KMM_EVENT_TYPES),
    **{cls: functools.partial(_kmm_event, cls) for cls in _KMM_EVENT_TYPES},
    RekuEvent: _mix(*_REKU_EVENT_TYPES),
    ControlFileReceived: control_file_events,
    ControlFileFailed: failed_control_file_events,
    DataDelivered: data_deliveries,
    ParkedReleased: parked_releases,
    KmmOrder: kmm_orders,
    RekuOrder: reku_orders,
    OrderBook: order_books,
    OrderStep: order_steps,
    Outcome: outcomes,
    ParkedDelivery: parked_deliveries,
    AcceptedDelivery: accepted_deliveries,
    # subscriber lists
    ListEvent: _mix(*_LIST_EVENT_TYPES),
    **{cls: functools.partial(_list_event, cls) for cls in _LIST_EVENT_TYPES},
    Member: list_members,
    MarkerPosition: marker_positions,
    UpdateMarker: update_markers,
    ListRegistry: list_registries,
    ListChange: list_changes,
    SubscriberList: registry_lists,
    # campaigns
    Block: blocks,
    StartBlock: start_blocks,
    WaitBlock: wait_blocks,
    SendBlock: send_blocks,
    Campaign: campaigns,
    CampaignEvent: _mix(*_CAMPAIGN_EVENT_TYPES),
    **{cls: functools.partial(_campaign_event, cls) for cls in _CAMPAIGN_EVENT_TYPES},
    # journeys
    JourneyStep: journey_steps,
    JourneyPlan: journey_plans,
    JourneyRun: journey_runs,
    JourneyVersion: journey_versions,
    JourneySubscriber: journey_subscribers,
    JourneyUpdate: journey_updates,
    DueSend: due_sends,
    LeaveReason: leave_reasons,
    JourneyEvent: _mix(*_JOURNEY_EVENT_TYPES),
    **{cls: functools.partial(_journey_event, cls) for cls in _JOURNEY_EVENT_TYPES},
    # simulation
    Rates: rates,
    Assumptions: assumptions,
    SimulationResult: simulation_results,
    FunnelReport: funnel_reports,
    FunnelStep: funnel_steps,
    SkippedRow: skipped_rows,
    # processors
    DeliveryOrder: delivery_orders,
    DeliveryResult: delivery_results,
    Recipient: recipients,
    MailingSend: mailing_sends,
    RecordResult: record_results,
    RunReport: run_reports,
    FileOutcome: file_outcomes,
}
