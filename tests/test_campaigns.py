"""Campaigns: every transition of :data:`CAMPAIGN` (allowed and refused), the activation rules
of BEHAVIOUR.md / BRIEF.md ("the subscriber list is not selected in the campaign's first block,
or no mailing is selected in a send block: such a campaign must not be activatable"), the
block edits, the values, the display, and stateful properties."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from emma_osplus import InvalidValueError, MailingId, OrderName
from emma_osplus._campaigns import (
    CAMPAIGN,
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
    structure_problem,
)
from emma_osplus._machine import TransitionRefused, mermaid
from emma_osplus.testing._campaigns import campaign_events, campaigns

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=1)))


def at(hours: float = 1) -> datetime:
    return T0 + timedelta(hours=hours)


COMPLETE = (StartBlock("Neukunden_2026"), WaitBlock(2), SendBlock("M-WELCOME"))


def in_state(state: str) -> Campaign:
    """A complete three-block campaign in *state*, reached through the machine."""
    paths: dict[str, list[CampaignEvent]] = {
        "draft": [],
        "active": [CampaignActivated(at=at(1))],
        "paused": [CampaignActivated(at=at(1)), CampaignPaused(at=at(2))],
        "ended": [CampaignActivated(at=at(1)), CampaignEnded(at=at(2))],
    }
    return Campaign("Willkommen", COMPLETE).apply_all(paths[state])


# -- the table ----------------------------------------------------------------------------------


def test_table_is_the_documented_one() -> None:
    """draft → active ↔ paused → ended; a draft may be discarded (ended); edits in draft, and
    in paused only the mailing of a send block."""
    assert dict(CAMPAIGN.transitions) == {
        ("draft", "select_list"): "draft",
        ("draft", "add_block"): "draft",
        ("draft", "remove_block"): "draft",
        ("draft", "replace_block"): "draft",
        ("draft", "select_mailing"): "draft",
        ("draft", "activate"): "active",
        ("draft", "end"): "ended",
        ("active", "pause"): "paused",
        ("active", "end"): "ended",
        ("paused", "select_mailing"): "paused",
        ("paused", "resume"): "active",
        ("paused", "end"): "ended",
    }
    assert CAMPAIGN.initial == "draft"
    assert CAMPAIGN.final == frozenset({"ended"})
    assert set(CAMPAIGN.states) == {"draft", "active", "paused", "ended"}


EVENT: dict[str, Callable[[], CampaignEvent]] = {
    "select_list": lambda: ListSelected("Bestandskunden", at=at(5)),
    "add_block": lambda: BlockAdded(SendBlock("M-APP"), at=at(5)),
    "remove_block": lambda: BlockRemoved(2, at=at(5)),
    "replace_block": lambda: BlockReplaced(2, WaitBlock(7), at=at(5)),
    "select_mailing": lambda: MailingSelected(3, "M-APP", at=at(5)),
    "activate": lambda: CampaignActivated(at=at(5)),
    "pause": lambda: CampaignPaused(at=at(5)),
    "resume": lambda: CampaignResumed(at=at(5)),
    "end": lambda: CampaignEnded(at=at(5)),
}


def test_every_event_kind_has_a_case() -> None:
    assert set(EVENT) == set(CAMPAIGN.events)
    assert all(EVENT[k]().kind == k for k in EVENT)


@pytest.mark.parametrize("state", CAMPAIGN.states)
@pytest.mark.parametrize("kind", sorted(EVENT))
def test_every_transition(state: str, kind: str) -> None:
    """Each (state, event kind): the table's next state, or a refusal naming state and kind."""
    campaign = in_state(state)
    assert campaign.state == state
    target = CAMPAIGN.transitions.get((state, kind))
    if target is None:
        with pytest.raises(TransitionRefused) as info:
            campaign.apply(EVENT[kind]())
        assert (info.value.machine, info.value.state, info.value.event) == (
            "campaign",
            state,
            kind,
        )
        assert info.value.code is None
    else:
        after = campaign.apply(EVENT[kind]())
        assert after.state == target
        assert after.name == campaign.name
        assert after.since == (at(5) if target != state else campaign.since)


EXPECTED_BLOCKS = {
    "select_list": (StartBlock("Bestandskunden"), WaitBlock(2), SendBlock("M-WELCOME")),
    "add_block": (*COMPLETE, SendBlock("M-APP")),
    "remove_block": (StartBlock("Neukunden_2026"), SendBlock("M-WELCOME")),
    "replace_block": (StartBlock("Neukunden_2026"), WaitBlock(7), SendBlock("M-WELCOME")),
    "select_mailing": (StartBlock("Neukunden_2026"), WaitBlock(2), SendBlock("M-APP")),
}


@pytest.mark.parametrize(("kind", "blocks"), EXPECTED_BLOCKS.items())
def test_edits_in_a_draft(kind: str, blocks: tuple[object, ...]) -> None:
    assert in_state("draft").apply(EVENT[kind]()).blocks == blocks


@pytest.mark.parametrize("kind", sorted(EXPECTED_BLOCKS))
def test_edits_outside_a_draft_name_the_rule(kind: str) -> None:
    """Active campaigns take no edit; paused ones only a mailing; ended ones nothing."""
    for state in ("active", "paused"):
        if (state, kind) in CAMPAIGN.transitions:
            continue
        with pytest.raises(TransitionRefused, match="blocks can be changed only in a draft"):
            in_state(state).apply(EVENT[kind]())
    with pytest.raises(TransitionRefused, match="the campaign has ended"):
        in_state("ended").apply(EVENT[kind]())


def test_paused_campaign_swaps_a_mailing_and_resumes() -> None:
    paused = in_state("paused")
    swapped = paused.apply(MailingSelected(3, "M-APP", at=at(3)))
    assert (swapped.state, swapped.mailings, swapped.since) == (
        "paused",
        (MailingId("M-APP"),),
        paused.since,
    )
    resumed = swapped.apply(CampaignResumed(at=at(4)))
    assert (resumed.state, resumed.since) == ("active", at(4))


# -- activation rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("blocks", "reason", "fields"),
    [
        (
            [StartBlock(), SendBlock("M-1")],
            "block 1 (start) has no subscriber list",
            ["list_name"],
        ),
        (
            [StartBlock("L"), WaitBlock(1), SendBlock()],
            "block 3 (send) has no mailing",
            ["MAILING_ID"],
        ),
        ([StartBlock("L"), WaitBlock(1)], "the campaign has no send block", ["blocks"]),
        ([StartBlock("L")], "the campaign has no send block", ["blocks"]),
        (
            [StartBlock(), SendBlock(), WaitBlock(2), SendBlock("M-1"), SendBlock()],
            "block 1 (start) has no subscriber list; block 2 (send) has no mailing; "
            "block 5 (send) has no mailing",
            ["list_name", "MAILING_ID", "MAILING_ID"],
        ),
    ],
)
def test_activation_refused_names_the_blocks(
    blocks: list[object], reason: str, fields: list[str]
) -> None:
    campaign = Campaign("Herbst", blocks)  # type: ignore[arg-type]
    assert not campaign.can_activate
    assert [m.field for m in campaign.problems] == fields
    assert [m.code for m in campaign.problems] == ["E208"] * len(fields)
    with pytest.raises(TransitionRefused) as info:
        campaign.apply(CampaignActivated(at=at()))
    assert info.value.reason == reason
    assert info.value.code == "E208"
    assert info.value.message == campaign.problems[0]
    assert str(info.value) == f"E208: campaign: {reason}"


def test_complete_campaign_activates() -> None:
    campaign = Campaign("Herbst", [StartBlock("L"), SendBlock("M-1"), WaitBlock(0)])
    assert campaign.problems == ()
    assert campaign.apply(CampaignActivated(at=at())).state == "active"


@pytest.mark.parametrize("state", ["active", "paused"])
def test_a_live_campaign_cannot_be_built_incomplete(state: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        Campaign("Herbst", [StartBlock(), SendBlock("M-1")], state=state)
    assert info.value.code == "E208"
    assert Campaign("Herbst", COMPLETE, state=state).state == state


# -- structure of the blocks --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (BlockAdded(StartBlock("L"), at=T0), "a campaign has one start block, block 1"),
        (BlockAdded(WaitBlock(1), position=1, at=T0), "positions 2 to 4, not 1"),
        (BlockAdded(WaitBlock(1), position=5, at=T0), "positions 2 to 4, not 5"),
        (BlockRemoved(1, at=T0), "block 1 (start) cannot be removed"),
        (BlockRemoved(4, at=T0), "no block 4; there are 3"),
        (BlockReplaced(1, WaitBlock(1), at=T0), "block 1 can only be replaced by a start block"),
        (BlockReplaced(2, StartBlock("L"), at=T0), "block 2 (wait) cannot become a start block"),
        (BlockReplaced(9, WaitBlock(1), at=T0), "no block 9; there are 3"),
        (MailingSelected(2, "M-1", at=T0), "block 2 (wait) is not a send block"),
        (MailingSelected(1, "M-1", at=T0), "block 1 (start) is not a send block"),
        (MailingSelected(7, "M-1", at=T0), "no block 7; there are 3"),
    ],
)
def test_structure_refusals(event: CampaignEvent, reason: str) -> None:
    with pytest.raises(TransitionRefused) as info:
        in_state("draft").apply(event)
    assert reason in info.value.reason
    assert info.value.code == "E209"


def test_block_added_at_a_position() -> None:
    campaign = in_state("draft").apply(BlockAdded(SendBlock("M-0"), position=2, at=at()))
    assert campaign.blocks[1] == SendBlock("M-0")
    assert campaign.blocks[2:] == COMPLETE[1:]
    appended = campaign.apply(BlockAdded(WaitBlock(1), position=5, at=at()))
    assert appended.blocks[-1] == WaitBlock(1)


@pytest.mark.parametrize(
    ("blocks", "problem"),
    [
        ([], "a campaign needs its start block"),
        ([WaitBlock(1)], "block 1 (wait) must be the start block"),
        ([StartBlock(), StartBlock()], "block 2 (start): a campaign has one start block"),
    ],
)
def test_campaign_structure_is_checked_when_built(blocks: list[object], problem: str) -> None:
    assert structure_problem(blocks) is not None  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError) as info:
        Campaign("Herbst", blocks)  # type: ignore[arg-type]
    assert info.value.code == "E209"
    assert problem in (info.value.message.detail or "")


# -- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: WaitBlock(-1), "E209"),
        (lambda: WaitBlock(True), "E209"),
        (lambda: WaitBlock(1.5), "E209"),  # type: ignore[arg-type]
        (lambda: StartBlock("Runde Geburtstage"), "E303"),
        (lambda: SendBlock("M 1"), "E209"),
        (lambda: ListSelected(None, at=T0), "E208"),
        (lambda: MailingSelected(3, None, at=T0), "E208"),
        (lambda: BlockRemoved(0, at=T0), "E209"),
        (lambda: BlockAdded("wait", at=T0), "E209"),  # type: ignore[arg-type]
        (lambda: CampaignActivated(at=datetime(2026, 12, 1)), "E205"),
        (lambda: Campaign(""), "E208"),
        (lambda: Campaign("Herbst", state="active"), "E208"),
    ],
)
def test_values_are_checked(build: Callable[[], object], code: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        build()
    assert info.value.code == code


def test_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown campaign state"):
        Campaign("Herbst", state="running")


def test_bad_list_name_suggests_a_safe_one() -> None:
    with pytest.raises(InvalidValueError, match="suggested: 'Runde_Geburtstage'"):
        ListSelected("Runde Geburtstage", at=T0)


def test_queries() -> None:
    campaign = Campaign(
        "Herbst", [StartBlock("L"), SendBlock("M-1"), WaitBlock(1), SendBlock(), SendBlock("M-2")]
    )
    assert campaign.list_name == OrderName("L")
    assert campaign.mailings == (MailingId("M-1"), MailingId("M-2"))
    assert campaign.block(3) == WaitBlock(1)
    with pytest.raises(IndexError):
        campaign.block(0)
    with pytest.raises(IndexError):
        campaign.block(6)


# -- display ------------------------------------------------------------------------------------


def test_repr_shows_the_blocks() -> None:
    campaign = Campaign(
        "Herbst", [StartBlock(), *[WaitBlock(1)] * 9, SendBlock("M-1"), SendBlock()]
    )
    assert repr(campaign).splitlines() == [
        "Campaign 'Herbst' (draft)",
        "   1  start  (no subscriber list)",
        *[f"   {i}  wait   1 day" for i in range(2, 10)],
        "  10  wait   1 day",
        "  11  send   mailing M-1",
        "  12  send   (no mailing)",
    ]
    assert repr(StartBlock("L")) == "StartBlock('L')"
    assert repr([WaitBlock(2), SendBlock("M"), SendBlock()]) == (
        "[WaitBlock(2), SendBlock('M'), SendBlock()]"
    )


def test_html_shows_blocks_and_problems() -> None:
    draft = Campaign("<Herbst>", [StartBlock(), SendBlock("M-1")])
    page = draft._repr_html_()
    assert "&lt;Herbst&gt;" in page
    assert "<td>start</td><td>(no subscriber list)</td>" in page
    assert "<td>send</td><td>mailing M-1</td>" in page
    assert "block 1 (start) has no subscriber list" in page
    assert "<li>" not in in_state("active")._repr_html_()


def test_diagram_is_generated_from_the_table() -> None:
    diagram = mermaid(CAMPAIGN).splitlines()
    assert diagram[:2] == ["stateDiagram-v2", "    [*] --> draft"]
    for (state, kind), target in CAMPAIGN.transitions.items():
        assert f"    {state} --> {target} : {kind}" in diagram
    assert "    ended --> [*]" in diagram


# -- properties ---------------------------------------------------------------------------------


def _fold(campaign: Campaign, events: list[CampaignEvent]) -> tuple[Campaign, list[CampaignEvent]]:
    accepted = []
    for event in events:
        try:
            campaign = campaign.apply(event)
        except TransitionRefused:
            continue
        accepted.append(event)
    return campaign, accepted


@settings(max_examples=150, deadline=None)
@given(campaigns(), st.lists(campaign_events(), max_size=25))
def test_replaying_the_accepted_events_gives_the_same_campaign(
    start: Campaign, events: list[CampaignEvent]
) -> None:
    end, accepted = _fold(start, events)
    assert start.apply_all(accepted) == end


@settings(max_examples=100, deadline=None)
@given(campaigns(complete=True), campaigns(complete=False))
def test_activation_follows_the_problems(good: Campaign, bad: Campaign) -> None:
    assert good.apply(CampaignActivated(at=T0)).state == "active"
    with pytest.raises(TransitionRefused) as info:
        bad.apply(CampaignActivated(at=T0))
    assert info.value.reason == "; ".join(m.detail or "" for m in bad.problems)


class CampaignMachine(RuleBasedStateMachine):
    """Random edits and state changes: the structure always holds, a live campaign always
    passes the activation rules, only drafts change their blocks (a paused campaign only a
    mailing), a refusal of a kind the table allows names its rule (E208/E209), and the
    accepted history replays to the same campaign."""

    def __init__(self) -> None:
        super().__init__()
        self.start = Campaign("Herbst")
        self.campaign = self.start
        self.accepted: list[CampaignEvent] = []

    @initialize(campaign=campaigns())
    def begin(self, campaign: Campaign) -> None:
        self.start = self.campaign = campaign

    @rule(event=campaign_events())
    def apply(self, event: CampaignEvent) -> None:
        before = self.campaign
        try:
            after = before.apply(event)
        except TransitionRefused as refused:
            # the table's "not here" has no code; a guard of an allowed kind names its rule
            if (before.state, event.kind) not in CAMPAIGN.transitions:
                assert refused.code is None
            elif event.kind in ("activate", "resume"):
                assert refused.code == "E208"
            else:
                assert refused.code == "E209"
            return
        assert after.state == CAMPAIGN.next(before.state, event.kind)
        if before.state != "draft" and event.kind != "select_mailing":
            assert after.blocks == before.blocks  # only drafts change blocks
        if before.state == "paused":
            assert len(after.blocks) == len(before.blocks)
            assert [b.kind for b in after.blocks] == [b.kind for b in before.blocks]
        self.campaign = after
        self.accepted.append(event)

    @invariant()
    def structure_holds(self) -> None:
        assert structure_problem(self.campaign.blocks) is None

    @invariant()
    def live_campaigns_pass_the_rules(self) -> None:
        if self.campaign.state in ("active", "paused"):
            assert self.campaign.problems == ()

    @invariant()
    def history_replays(self) -> None:
        assert self.start.apply_all(self.accepted) == self.campaign


TestCampaignMachine = CampaignMachine.TestCase
TestCampaignMachine.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)


def test_events_are_values() -> None:
    a, b = ListSelected("L", at=T0), ListSelected("L", at=T0)
    assert a == b
    assert hash(a) == hash(b)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        a.at = at()  # type: ignore[misc]
