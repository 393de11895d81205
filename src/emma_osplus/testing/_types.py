"""Strategies for the core value types and messages."""

from __future__ import annotations

from hypothesis import strategies as st

from .._messages import CATALOGUE, Message
from .._types import Blz, CustomerNumber, EventId, MailingId, OccasionCode, OrderName, OrderNumber

__all__ = [
    "blzs",
    "customer_numbers",
    "event_ids",
    "invalid_blzs",
    "invalid_customer_numbers",
    "invalid_order_names",
    "mailing_ids",
    "messages",
    "occasion_codes",
    "order_names",
    "order_numbers",
]

_DIGITS = "0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = _UPPER.lower()


def blzs() -> st.SearchStrategy[Blz]:
    """Valid bank codes."""
    return st.builds(
        lambda first, rest: Blz(first + rest),
        st.sampled_from("12345678"),
        st.text(_DIGITS, min_size=7, max_size=7),
    )


def invalid_blzs() -> st.SearchStrategy[str]:
    """Text that is not a bank code (wrong length, leading 0 or 9, non-digits)."""
    return st.one_of(
        st.text(_DIGITS, min_size=1, max_size=12).filter(lambda s: len(s) != 8),
        st.builds(
            lambda f, r: f + r, st.sampled_from("09"), st.text(_DIGITS, min_size=7, max_size=7)
        ),
        st.text(min_size=8, max_size=8).filter(lambda s: not (s.isascii() and s.isdigit())),
    )


def customer_numbers() -> st.SearchStrategy[CustomerNumber]:
    """Valid customer numbers (0 to 9 999 999 999)."""
    return st.integers(0, 10**10 - 1).map(CustomerNumber)


def invalid_customer_numbers() -> st.SearchStrategy[str]:
    """Text that is not a customer number: empty, too long, or with non-digits."""
    return st.one_of(
        st.text(_DIGITS, min_size=11, max_size=14),
        st.text(min_size=1, max_size=10).filter(lambda s: not (s.isascii() and s.isdigit())),
    )


def order_numbers() -> st.SearchStrategy[OrderNumber]:
    """Valid order numbers."""
    return st.text(_UPPER + _DIGITS, min_size=1, max_size=20).map(OrderNumber)


def order_names() -> st.SearchStrategy[OrderName]:
    """Valid order names."""
    return st.text(_UPPER + _LOWER + _DIGITS + "_.-", min_size=1, max_size=64).map(OrderName)


def invalid_order_names() -> st.SearchStrategy[str]:
    """Non-empty names that break the rule (umlauts, spaces, other characters, > 64)."""
    allowed = set(_UPPER + _LOWER + _DIGITS + "_.-")
    return st.one_of(
        st.text(min_size=1, max_size=70).filter(lambda s: any(c not in allowed for c in s)),
        st.text(_LOWER, min_size=65, max_size=80),
    )


def occasion_codes() -> st.SearchStrategy[OccasionCode]:
    """Syntactically valid occasion codes (not necessarily in the registry)."""
    return st.builds(
        lambda a, d: OccasionCode(a + d),
        st.text(_UPPER, min_size=2, max_size=2),
        st.text(_DIGITS, min_size=3, max_size=3),
    )


def mailing_ids() -> st.SearchStrategy[MailingId]:
    """Valid mailing ids."""
    return st.text(_UPPER + _LOWER + _DIGITS + "_.-", min_size=1, max_size=20).map(MailingId)


def event_ids() -> st.SearchStrategy[EventId]:
    """Valid event ids."""
    return st.text(_UPPER + _LOWER + _DIGITS + "_-", min_size=1, max_size=25).map(EventId)


def messages() -> st.SearchStrategy[Message]:
    """Messages with any catalogue code and optional position, field and raw text."""
    return st.builds(
        Message,
        code=st.sampled_from(sorted(CATALOGUE)),
        line=st.none() | st.integers(1, 10**6),
        field=st.none() | st.sampled_from(["KUNDENNUMMER", "EMAIL", "ANLASS"]),
        raw=st.none() | st.text(max_size=50),
    )
