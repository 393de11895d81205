"""Strategies for campaigns and customer journeys: blocks, campaigns, campaign events, journey
steps and plans, started journeys, leave reasons and address keys.

Mailing ids and list names come from small pools by default so that generated edits keep
meeting the same values; pass ``complete=True`` for values that pass the activation rules,
``complete=False`` for values that break at least one.

>>> from hypothesis import given, settings
>>> @settings(max_examples=20)
... @given(campaigns(complete=True), journey_plans())
... def check(campaign, plan):
...     assert campaign.can_activate and plan.complete
>>> check()
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

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
from .._journeys import (
    JourneyPlan,
    JourneyRun,
    JourneyStarted,
    JourneyStep,
    LeaveReason,
)
from .._types import MailingId, OrderName

__all__ = [
    "address_keys",
    "campaign_blocks",
    "campaign_events",
    "campaigns",
    "journey_plans",
    "journey_runs",
    "journey_steps",
    "leave_reasons",
    "send_blocks",
    "start_blocks",
    "wait_blocks",
]

_START = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
_OFFSETS = (timezone.utc, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5)))
_MAILINGS = ("M-WELCOME", "M-APP", "M-CARD", "M-DEPOT", "M-SURVEY")
_LISTS = ("Neukunden_2026", "Runde_Geburtstage", "OBV.2026-12")


def _times(start: datetime = _START, days: int = 60) -> st.SearchStrategy[datetime]:
    """Aware times from *start* over *days* days (whole minutes, mixed offsets)."""
    return st.builds(
        lambda minutes, tz: (start + timedelta(minutes=minutes)).astimezone(tz),
        st.integers(0, days * 24 * 60),
        st.sampled_from(_OFFSETS),
    )


def _mailings() -> st.SearchStrategy[MailingId]:
    return st.sampled_from(_MAILINGS).map(MailingId)


def _lists() -> st.SearchStrategy[OrderName]:
    return st.sampled_from(_LISTS).map(OrderName)


def start_blocks(complete: bool | None = None) -> st.SearchStrategy[StartBlock]:
    """Start blocks: with a list (``complete=True``), without (``False``) or either."""
    with_list = _lists().map(StartBlock)
    if complete is None:
        return st.one_of(with_list, st.just(StartBlock()))
    return with_list if complete else st.just(StartBlock())


def wait_blocks(max_days: int = 60) -> st.SearchStrategy[WaitBlock]:
    """Wait blocks of 0 to *max_days* days."""
    return st.integers(0, max_days).map(WaitBlock)


def send_blocks(complete: bool | None = None) -> st.SearchStrategy[SendBlock]:
    """Send blocks: with a mailing (``complete=True``), without (``False``) or either."""
    with_mailing = _mailings().map(SendBlock)
    if complete is None:
        return st.one_of(with_mailing, st.just(SendBlock()))
    return with_mailing if complete else st.just(SendBlock())


def campaign_blocks(complete: bool | None = None) -> st.SearchStrategy[Block]:
    """Wait or send blocks (the blocks after the start block)."""
    return st.one_of(wait_blocks(), send_blocks(complete))


@st.composite
def _campaign(
    draw: st.DrawFn, complete: bool | None, max_blocks: int, names: st.SearchStrategy[str]
) -> Campaign:
    name = draw(names)
    if complete is None:
        start = draw(start_blocks())
        rest = draw(st.lists(campaign_blocks(), max_size=max_blocks - 1))
        return Campaign(name, [start, *rest])
    if complete:
        rest = draw(st.lists(campaign_blocks(complete=True), max_size=max_blocks - 2))
        at = draw(st.integers(0, len(rest)))
        rest.insert(at, draw(send_blocks(complete=True)))
        return Campaign(name, [draw(start_blocks(complete=True)), *rest])
    # incomplete: no list, or a send block without a mailing, or no send block at all
    flaw = draw(st.sampled_from(("list", "mailing", "no_send")))
    if flaw == "no_send":
        rest = draw(st.lists(wait_blocks(), max_size=max_blocks - 1))
        return Campaign(name, [draw(start_blocks()), *rest])
    rest = draw(st.lists(campaign_blocks(), max_size=max_blocks - 2))
    if flaw == "list":
        rest.append(draw(send_blocks(complete=True)))
        return Campaign(name, [StartBlock(), *rest])
    rest.insert(draw(st.integers(0, len(rest))), SendBlock())
    return Campaign(name, [draw(start_blocks()), *rest])


def campaigns(
    complete: bool | None = None,
    *,
    max_blocks: int = 8,
    names: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[Campaign]:
    """Draft campaigns of 1 to *max_blocks* blocks.  ``complete=True``: they can be activated
    (a list and at least one send block, every one with a mailing); ``False``: they cannot."""
    if max_blocks < 2:
        raise ValueError("a campaign strategy needs room for a start and a send block")
    if names is None:
        names = st.sampled_from(("Willkommen", "Herbst"))
    return _campaign(complete, max_blocks, names)


def _campaign_event_builders(
    max_position: int, times: st.SearchStrategy[datetime] | None
) -> dict[type[CampaignEvent], st.SearchStrategy[CampaignEvent]]:
    """One strategy per campaign event class (in the order :func:`campaign_events` mixes
    them)."""
    at = _times() if times is None else times
    positions = st.integers(1, max_position)
    blocks = st.one_of(start_blocks(complete=True), campaign_blocks())
    return {
        ListSelected: st.builds(ListSelected, _lists(), at=at),
        BlockAdded: st.builds(BlockAdded, blocks, st.none() | positions, at=at),
        BlockRemoved: st.builds(BlockRemoved, positions, at=at),
        BlockReplaced: st.builds(BlockReplaced, positions, blocks, at=at),
        MailingSelected: st.builds(MailingSelected, positions, _mailings(), at=at),
        CampaignActivated: st.builds(CampaignActivated, at=at),
        CampaignPaused: st.builds(CampaignPaused, at=at),
        CampaignResumed: st.builds(CampaignResumed, at=at),
        CampaignEnded: st.builds(CampaignEnded, at=at),
    }


def _campaign_event(
    cls: type[CampaignEvent],
    *,
    max_position: int = 8,
    times: st.SearchStrategy[datetime] | None = None,
) -> st.SearchStrategy[CampaignEvent]:
    """Events of the one campaign event class *cls*, drawn as :func:`campaign_events` does."""
    return _campaign_event_builders(max_position, times)[cls]


def campaign_events(
    *, max_position: int = 8, times: st.SearchStrategy[datetime] | None = None
) -> st.SearchStrategy[CampaignEvent]:
    """Campaign events of every kind with valid values (the machine may still refuse them:
    positions up to *max_position* may not exist, a block may not fit where it goes)."""
    return st.one_of(*_campaign_event_builders(max_position, times).values())


def journey_steps(complete: bool = True, max_interval: int = 30) -> st.SearchStrategy[JourneyStep]:
    """Journey steps with a mailing (or, ``complete=False``, maybe without) and an interval of
    0 to *max_interval* days."""
    mailings = _mailings() if complete else st.none() | _mailings()
    return st.builds(JourneyStep, mailings, st.integers(0, max_interval))


def journey_plans(
    complete: bool = True, *, min_steps: int = 1, max_steps: int = 5, max_interval: int = 30
) -> st.SearchStrategy[JourneyPlan]:
    """Journey plans of *min_steps* to *max_steps* steps (``complete=False`` allows steps
    without a mailing and, with ``min_steps=0``, no steps)."""
    return st.lists(
        journey_steps(complete, max_interval), min_size=min_steps, max_size=max_steps
    ).map(JourneyPlan)


def journey_runs(
    plans: st.SearchStrategy[JourneyPlan] | None = None,
    *,
    started: datetime = _START,
) -> st.SearchStrategy[JourneyRun]:
    """Journeys started at *started* with a complete plan and no subscribers yet."""
    return st.builds(
        lambda name, plan: JourneyRun(name, plan).apply(JourneyStarted(at=started)),
        st.sampled_from(("Neukunde Privatgirokonto", "Junge Erwachsene", "OBV")),
        journey_plans() if plans is None else plans,
    )


def leave_reasons() -> st.SearchStrategy[LeaveReason]:
    """Every reason to leave a journey."""
    return st.sampled_from(LeaveReason)


def address_keys() -> st.SearchStrategy[str]:
    """Matching keys of simple addresses (``kunde7@example.de``)."""
    return st.builds(
        lambda n, domain: f"kunde{n}@{domain}",
        st.integers(0, 999),
        st.sampled_from(("example.de", "sparkasse.example", "xn--bcher-kva.de")),
    )
