"""Test helpers for users of emma_osplus: hypothesis strategies for every public type and
file kind, and reusable contract tests.  Needs ``hypothesis`` (``pip install
emma-osplus[test]``).
"""

from __future__ import annotations

from ._types import (
    blzs,
    customer_numbers,
    event_ids,
    invalid_blzs,
    invalid_customer_numbers,
    invalid_order_names,
    mailing_ids,
    messages,
    occasion_codes,
    order_names,
    order_numbers,
)

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
