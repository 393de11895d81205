"""Strategies for consent events and ledgers.

The defaults draw from small pools (a few customers, a few addresses written in different
case, a few instants written with different offsets) so that generated events collide: the
same customer under several addresses, the same address under several customers, and equal
times — exactly the cases the decision rules are about.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from .._consent import ConsentEvent, ConsentKind, ConsentLedger, ConsentSource
from .._types import CustomerNumber

__all__ = ["consent_events", "consent_ledgers", "consent_times", "pool_addresses", "pool_customers"]

_BASE = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.timezone.utc)
_OFFSETS = (dt.timedelta(0), dt.timedelta(hours=1), dt.timedelta(hours=2), dt.timedelta(hours=-5))
_ADDRESSES = (
    ("anna@example.de", "Anna@Example.DE", "ANNA@example.de"),
    ("bernd.mueller@sparkasse.de", "Bernd.Mueller@Sparkasse.de"),
    ("info@bücher.de", "Info@xn--bcher-kva.de"),
)
_EVIDENCE = ("", " ", "DOI bestätigt 2026-11-01 10:02", "Formular 17, Filiale Neumarkt")


def pool_customers() -> st.SearchStrategy[CustomerNumber]:
    """One of three customer numbers."""
    return st.sampled_from([CustomerNumber(n) for n in (4711, 4712, 4713)])


def pool_addresses() -> st.SearchStrategy[str]:
    """One of three mailboxes, each in one of the spellings that share its matching key."""
    return st.sampled_from(_ADDRESSES).flatmap(st.sampled_from)


def consent_times(hours: int = 6) -> st.SearchStrategy[dt.datetime]:
    """One of *hours* instants an hour apart, written with one of several offsets (the same
    instant in different offsets is the same time)."""
    return st.builds(
        lambda h, offset: (_BASE + dt.timedelta(hours=h)).astimezone(dt.timezone(offset)),
        st.integers(0, hours - 1),
        st.sampled_from(_OFFSETS),
    )


def consent_events(
    *,
    customers: st.SearchStrategy[CustomerNumber] | None = None,
    addresses: st.SearchStrategy[str] | None = None,
    times: st.SearchStrategy[dt.datetime] | None = None,
    kinds: st.SearchStrategy[ConsentKind] | None = None,
) -> st.SearchStrategy[ConsentEvent]:
    """Valid consent events; by default from the small pools above, any kind and source, and
    evidence that is empty, blank or present."""
    return st.builds(
        ConsentEvent,
        customer=customers if customers is not None else pool_customers(),
        email=addresses if addresses is not None else pool_addresses(),
        kind=kinds if kinds is not None else st.sampled_from(ConsentKind),
        at=times if times is not None else consent_times(),
        source=st.sampled_from(ConsentSource),
        evidence=st.sampled_from(_EVIDENCE),
    )


def consent_ledgers(
    events: st.SearchStrategy[ConsentEvent] | None = None, *, max_size: int = 20
) -> st.SearchStrategy[ConsentLedger]:
    """Ledgers of up to *max_size* events (default: :func:`consent_events`)."""
    return st.lists(events if events is not None else consent_events(), max_size=max_size).map(
        ConsentLedger
    )
