"""Strategies for prototyping simulations: response rates, assumptions (with per-step
overrides), journey plans whose steps send distinct mailings, and synthetic subscriber lists.

>>> from hypothesis import given, settings
>>> from emma_osplus._simulation import simulate
>>> @settings(max_examples=5, deadline=None)
... @given(simulation_plans(min_steps=2, max_steps=2), subscriber_lists(max_size=5), assumptions(steps=2))
... def check(plan, people, rates):
...     report = simulate(people, plan, rates).report
...     assert all(s.clicked <= s.opened <= s.sent for s in report)
>>> check()
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from .._journeys import JourneyPlan, JourneyStep
from .._simulation import RATE_FIELDS, Assumptions, Rates, synthetic_subscribers

__all__ = [
    "assumptions",
    "rate_overrides",
    "rates",
    "simulation_plans",
    "subscriber_lists",
]

_MAILINGS = ("M-WELCOME", "M-APP", "M-CARD", "M-DEPOT", "M-LOAN", "M-INSURE", "M-SURVEY")


def _probabilities(extreme: bool) -> st.SearchStrategy[float]:
    """Probabilities; with *extreme*, 0 and 1 come up often (they decide every draw)."""
    plain = st.floats(0.0, 1.0, allow_nan=False)
    if not extreme:
        return plain
    return st.one_of(st.sampled_from((0.0, 1.0)), plain)


@st.composite
def _rates(draw: st.DrawFn, extreme: bool) -> Rates:
    values = {name: draw(_probabilities(extreme)) for name in RATE_FIELDS}
    # the bounces share the mails sent: scale the soft bounces into what the hard ones leave
    values["soft_bounce"] = values["soft_bounce"] * (1.0 - values["hard_bounce"])
    return Rates(**values)


def rates(*, extreme: bool = True) -> st.SearchStrategy[Rates]:
    """:class:`~emma_osplus._simulation.Rates` (every rate from 0 to 1, the bounces together
    at most 1); with *extreme* (the default) rates of exactly 0 and 1 are frequent."""
    return _rates(extreme)


def rate_overrides(*, extreme: bool = True) -> st.SearchStrategy[dict[str, float]]:
    """A per-step override: some of the rates of :data:`~emma_osplus._simulation.RATE_FIELDS`
    (never both bounce rates, so that the step's rates stay valid whatever the base)."""
    names = st.lists(st.sampled_from(RATE_FIELDS), unique=True, max_size=3).filter(
        lambda found: not {"hard_bounce", "soft_bounce"} <= set(found)
    )
    return names.flatmap(
        lambda found: st.fixed_dictionaries({n: _probabilities(extreme) for n in found})
    )


@st.composite
def _assumptions(draw: st.DrawFn, steps: int, extreme: bool) -> Assumptions:
    base: dict[str, Any] = dict(draw(rates(extreme=extreme)).as_dict())
    overrides: dict[int, dict[str, float]] = {}
    for step in draw(st.lists(st.integers(1, steps), unique=True, max_size=steps)):
        override = draw(rate_overrides(extreme=extreme))
        merged = {**base, **override}
        if merged["hard_bounce"] + merged["soft_bounce"] > 1.0:
            override.pop("hard_bounce", None)
            override.pop("soft_bounce", None)
        overrides[step] = override
    return Assumptions(**{**base, "per_step": overrides})


def assumptions(steps: int = 3, *, extreme: bool = True) -> st.SearchStrategy[Assumptions]:
    """:class:`~emma_osplus._simulation.Assumptions` with overrides for some of the steps
    1 … *steps*: valid for plans of at least *steps* steps (a simulation refuses overrides
    for steps its plan does not have)."""
    return _assumptions(steps, extreme)


def simulation_plans(
    *, min_steps: int = 1, max_steps: int = 4, max_interval: int = 10
) -> st.SearchStrategy[JourneyPlan]:
    """Complete :class:`~emma_osplus._journeys.JourneyPlan` values whose steps send distinct
    mailings (as :func:`~emma_osplus._simulation.simulate` needs), with intervals from 0 (two
    sends on one day) to *max_interval* days."""
    mailings = st.lists(
        st.sampled_from(_MAILINGS), min_size=min_steps, max_size=max_steps, unique=True
    )
    return mailings.flatmap(
        lambda found: st.lists(
            st.integers(0, max_interval), min_size=len(found), max_size=len(found)
        ).map(lambda days: JourneyPlan(JourneyStep(m, d) for m, d in zip(found, days, strict=True)))
    )


def subscriber_lists(
    *, min_size: int = 0, max_size: int = 30
) -> st.SearchStrategy[list[dict[str, str]]]:
    """Synthetic subscriber lists (:func:`~emma_osplus._simulation.synthetic_subscribers`) of
    *min_size* to *max_size* rows."""
    return st.builds(
        synthetic_subscribers, st.integers(min_size, max_size), st.integers(0, 2**32 - 1)
    )
