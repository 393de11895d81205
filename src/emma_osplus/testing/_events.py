"""Strategies for response events and histories of them.

:func:`response_events` draws single events (of one class or any), every one writable to a
``RESP`` record (whole seconds, ``DETAIL`` within 40 characters).  :func:`event_histories`
draws lists of events over a small pool of recipients, addresses and times, so that keys,
addresses and event ids collide the way real files make them collide: the same event twice,
several responses for one recipient, soft bounces of one address across mailings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar, overload

from hypothesis import strategies as st

from .._email import EmailAddress
from .._events import (
    EVENT_TYPES,
    ORDER_KINDS,
    UNSUBSCRIBE_SOURCES,
    WITHHELD_REASONS,
    Bounce,
    Clicked,
    ResponseEvent,
    Unsubscribed,
    Withheld,
)
from .._types import Blz, CustomerNumber, EventId, MailingId, OrderNumber
from ._types import blzs, customer_numbers, event_ids, mailing_ids, order_numbers

__all__ = ["email_addresses_for_events", "event_histories", "response_events"]

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

#: Enhanced status codes and diagnostics that real bounces carry.
_BOUNCE_SAMPLES: tuple[tuple[str, str], ...] = (
    ("5.1.1", "550 5.1.1 user unknown"),
    ("5.1.1", "550 5.1.1 Recipient address rejected"),
    ("5.2.1", "550 5.2.1 mailbox disabled"),
    ("5.7.1", "554 5.7.1 blocked by policy"),
    ("4.2.2", "452 4.2.2 mailbox full"),
    ("4.7.0", "421 4.7.0 try again later"),
    ("5.2.2", "552 5.2.2 Postfach voll"),
    ("5.0.0", "Empfaenger unbekannt"),
    ("4.0.0", ""),
)


def email_addresses_for_events() -> st.SearchStrategy[EmailAddress]:
    """Plain ASCII addresses, now and then with upper case in the local part or an
    internationalised domain (the matching key must unify them)."""
    local = st.text(_LOWER + "0123456789", min_size=1, max_size=12)
    domain = st.sampled_from(["example.de", "gmx.de", "t-online.de", "bücher.de", "web.de"])
    return st.builds(
        lambda loc, upper, dom: EmailAddress(f"{loc.upper() if upper else loc}@{dom}"),
        local,
        st.booleans(),
        domain,
    )


def _times(days: int = 365) -> st.SearchStrategy[dt.datetime]:
    return st.integers(0, days * 86400).map(lambda s: _EPOCH + dt.timedelta(seconds=s))


def _extra(cls: type[ResponseEvent]) -> st.SearchStrategy[dict[str, Any]]:
    if issubclass(cls, Bounce):
        return st.sampled_from(_BOUNCE_SAMPLES).map(lambda p: {"status": p[0], "diagnostic": p[1]})
    if cls is Clicked:
        link = st.text(_LOWER + "0123456789-_/.", min_size=1, max_size=40).filter(
            lambda s: s.strip(" ") == s
        )
        return link.map(lambda link: {"link": link})
    if cls is Unsubscribed:
        return st.sampled_from(UNSUBSCRIBE_SOURCES).map(lambda s: {"source": s})
    if cls is Withheld:
        return st.sampled_from(WITHHELD_REASONS).map(lambda r: {"reason": r})
    return st.just({})


_E = TypeVar("_E", bound=ResponseEvent)


@overload
def response_events(
    cls: type[_E],
    *,
    event_id: st.SearchStrategy[EventId] | None = None,
    blz: st.SearchStrategy[Blz] | None = None,
    order: st.SearchStrategy[OrderNumber] | None = None,
    mailing: st.SearchStrategy[MailingId] | None = None,
    customer: st.SearchStrategy[CustomerNumber] | None = None,
    email: st.SearchStrategy[EmailAddress] | None = None,
    at: st.SearchStrategy[dt.datetime] | None = None,
) -> st.SearchStrategy[_E]: ...


@overload
def response_events(
    cls: None = None,
    *,
    event_id: st.SearchStrategy[EventId] | None = None,
    blz: st.SearchStrategy[Blz] | None = None,
    order: st.SearchStrategy[OrderNumber] | None = None,
    mailing: st.SearchStrategy[MailingId] | None = None,
    customer: st.SearchStrategy[CustomerNumber] | None = None,
    email: st.SearchStrategy[EmailAddress] | None = None,
    at: st.SearchStrategy[dt.datetime] | None = None,
) -> st.SearchStrategy[ResponseEvent]: ...


def response_events(
    cls: type[ResponseEvent] | None = None,
    *,
    event_id: st.SearchStrategy[EventId] | None = None,
    blz: st.SearchStrategy[Blz] | None = None,
    order: st.SearchStrategy[OrderNumber] | None = None,
    mailing: st.SearchStrategy[MailingId] | None = None,
    customer: st.SearchStrategy[CustomerNumber] | None = None,
    email: st.SearchStrategy[EmailAddress] | None = None,
    at: st.SearchStrategy[dt.datetime] | None = None,
) -> st.SearchStrategy[ResponseEvent]:
    """Events of class *cls* (any class when ``None``); every field can be given its own
    strategy, the defaults draw any valid value.  Every event converts to a ``RESP`` record.

    With a concrete *cls* the strategy builds events of that class directly (nothing is
    filtered) and is typed as such: ``response_events(HardBounce)`` is a
    ``SearchStrategy[HardBounce]``."""
    classes = [cls] if cls is not None else list(EVENT_TYPES.values())

    def build(kind: type[ResponseEvent]) -> st.SearchStrategy[ResponseEvent]:
        return st.builds(
            lambda extra, **fields: kind(**fields, **extra),
            _extra(kind),
            event_id=event_ids() if event_id is None else event_id,
            blz=blzs() if blz is None else blz,
            order=order_numbers() if order is None else order,
            order_kind=st.sampled_from(ORDER_KINDS),
            mailing=mailing_ids() if mailing is None else mailing,
            customer=customer_numbers() if customer is None else customer,
            email=email_addresses_for_events() if email is None else email,
            at=_times() if at is None else at,
        )

    return st.sampled_from(classes).flatmap(build)


_LINKS = ("lnk-1", "lnk-2", "https://spk.example/x", "a" * 40)
_DETAILS: dict[type[ResponseEvent], tuple[dict[str, str], ...]] = {
    cls: (
        tuple({"status": st_, "diagnostic": d} for st_, d in _BOUNCE_SAMPLES)
        if issubclass(cls, Bounce)
        else tuple({"link": link} for link in _LINKS)
        if cls is Clicked
        else tuple({"source": s} for s in UNSUBSCRIBE_SOURCES)
        if cls is Unsubscribed
        else tuple({"reason": r} for r in WITHHELD_REASONS)
        if cls is Withheld
        else ({},)
    )
    for cls in EVENT_TYPES.values()
}
# One draw per event: indices into the pools (taken modulo their sizes; 2520 is a multiple
# of every size up to 10), the detail and the seconds.
_PICK = st.tuples(*(st.integers(0, 2519) for _ in range(8)), st.integers(0, 10**9))


@st.composite
def event_histories(
    draw: st.DrawFn,
    *,
    min_size: int = 0,
    max_size: int = 25,
    classes: tuple[type[ResponseEvent], ...] | None = None,
    days: int = 120,
) -> list[ResponseEvent]:
    """A list of events over a small pool: one or two institutes, orders, mailings and
    customers, two or three addresses (with case variants of the same mailbox), times within
    *days* days.  Event ids are unique per distinct event; some events are repeated (the same
    event id twice).  The list is in arbitrary order."""
    blz_pool = draw(st.lists(blzs(), min_size=1, max_size=2, unique=True))
    orders = draw(st.lists(order_numbers(), min_size=1, max_size=2, unique=True))
    mailings = draw(st.lists(mailing_ids(), min_size=1, max_size=3, unique=True))
    customers = draw(st.lists(customer_numbers(), min_size=1, max_size=3, unique=True))
    addresses = draw(st.lists(email_addresses_for_events(), min_size=1, max_size=3))
    addresses += [EmailAddress(str(a).upper()) for a in addresses[:1]]
    kinds = list(classes) if classes is not None else list(EVENT_TYPES.values())
    size = draw(st.integers(min_size, max_size))
    events: list[ResponseEvent] = []
    for number in range(size):
        k, b, o, m, c, e, kind_of_order, detail, seconds = draw(_PICK)
        cls = kinds[k % len(kinds)]
        details = _DETAILS[cls]
        events.append(
            cls(
                event_id=EventId(f"e{number}"),
                blz=blz_pool[b % len(blz_pool)],
                order=orders[o % len(orders)],
                order_kind=ORDER_KINDS[kind_of_order % len(ORDER_KINDS)],
                mailing=mailings[m % len(mailings)],
                customer=customers[c % len(customers)],
                email=addresses[e % len(addresses)],
                at=_EPOCH + dt.timedelta(seconds=seconds % (days * 86400)),
                **details[detail % len(details)],
            )
        )
    if events:
        repeats = draw(st.lists(st.sampled_from(events), max_size=len(events)))
        events.extend(repeats)
    return draw(st.permutations(events))
