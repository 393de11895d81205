"""`emma_osplus.testing` has a strategy for every public type: `st.from_type(T)` draws valid
instances of every public type of `emma_osplus` (every subclass of a base among them), and the
few types without one are services, each named with what to do instead."""

from __future__ import annotations

import enum
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

import emma_osplus
from emma_osplus.testing import FOR_TYPES, NOT_GENERATED, strategy_for

PUBLIC = {
    name: value
    for name in emma_osplus.__all__
    if isinstance(value := getattr(emma_osplus, name), type)
    and not issubclass(value, BaseException)
}


def test_every_public_type_has_a_strategy_or_a_reason() -> None:
    types = set(PUBLIC.values())
    missing = sorted(n for n, t in PUBLIC.items() if t not in FOR_TYPES and t not in NOT_GENERATED)
    assert missing == []
    assert set(FOR_TYPES) & set(NOT_GENERATED) == set()
    assert set(NOT_GENERATED) <= types  # no stale reasons
    assert all(NOT_GENERATED.values())


def _name(tp: object) -> str:
    return str(getattr(tp, "__name__", tp))


def _subclasses(tp: type) -> set[type]:
    found: set[type] = set()
    direct: list[type] = tp.__subclasses__()
    for sub in direct:
        found |= {sub} | _subclasses(sub)
    return found


@pytest.mark.parametrize("tp", sorted(FOR_TYPES, key=_name), ids=_name)
def test_from_type_draws_instances(tp: type) -> None:
    concrete = not _subclasses(tp) or issubclass(tp, enum.Enum)

    @settings(
        max_examples=8,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.from_type(tp), strategy_for(tp))
    def check(value: Any, again: Any) -> None:
        for drawn in (value, again):
            assert isinstance(drawn, tp)
            if concrete:
                assert type(drawn) is tp
            repr(drawn)  # every value shows itself

    check()


BASES = [
    t
    for t in sorted(FOR_TYPES, key=_name)
    if not issubclass(t, enum.Enum) and _subclasses(t) & set(PUBLIC.values())
]


@pytest.mark.parametrize("base", BASES, ids=_name)
def test_a_base_draws_each_of_its_public_subclasses(base: type) -> None:
    for sub in _subclasses(base) & set(PUBLIC.values()):
        found = find(
            st.from_type(base),
            lambda value, sub=sub: isinstance(value, sub),  # type: ignore[misc]
            settings=settings(
                max_examples=2000, database=None, deadline=None, phases=[Phase.generate]
            ),
        )
        assert isinstance(found, sub)


@pytest.mark.parametrize("tp", list(NOT_GENERATED), ids=_name)
def test_a_type_without_strategy_says_why(tp: type) -> None:
    with pytest.raises(TypeError, match=f"no strategy for .*: {NOT_GENERATED[tp][:20]}"):
        strategy_for(tp)
