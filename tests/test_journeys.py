"""Customer journeys: every transition of :data:`JOURNEY` and :data:`JOURNEY_SUBSCRIBER`
(allowed and refused), the rules of BEHAVIOUR.md ("Campaigns and journeys"), the templates of
``customer_journeys.csv`` (the packaged copy of /work/shared/domain/customer_journeys.csv),
and stateful properties: no step sent twice or to a subscriber who left, ``due`` the same
whether asked once or in many small steps, re-delivery never restarts, versions are pinned."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import event as statistic
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from emma_osplus import (
    Blz,
    CustomerNumber,
    EmailAddress,
    EventId,
    InvalidValueError,
    MailingId,
    OccasionCode,
    OrderNumber,
    Selection,
    default_registry,
)
from emma_osplus._events import HardBounce, Opened, Unsubscribed, Withheld
from emma_osplus._journeys import (
    JOURNEY,
    JOURNEY_SUBSCRIBER,
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
    JourneyVersion,
    LeaveReason,
    Left,
    PlanEdited,
    PlanRevised,
    StepSent,
    journey_templates,
)
from emma_osplus._machine import TransitionRefused, mermaid
from emma_osplus.testing._campaigns import journey_plans, journey_runs, leave_reasons

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
PLAN = JourneyPlan.fixed(["M-WELCOME", "M-APP"], every=7)
PLAN2 = JourneyPlan.fixed(["M-WELCOME-2", "M-APP-2", "M-CARD-2"], every=3, first=1)


def at(days: float = 0) -> datetime:
    return T0 + timedelta(days=days)


def started(plan: JourneyPlan = PLAN) -> JourneyRun:
    return JourneyRun("Neukunde Privatgirokonto", plan).apply(JourneyStarted(at=T0))


def enter(customer: int, days: float = 0, address: str | None = None) -> Entered:
    return Entered(customer, address or f"kunde{customer}@example.de", at=at(days))


# -- the tables ---------------------------------------------------------------------------------


def test_journey_table_is_the_documented_one() -> None:
    assert dict(JOURNEY.transitions) == {
        ("draft", "edit"): "draft",
        ("draft", "start"): "running",
        ("draft", "end"): "ended",
        ("running", "revise"): "running",
        ("running", "enter"): "running",
        ("running", "send"): "running",
        ("running", "leave"): "running",
        ("running", "pause"): "paused",
        ("running", "end"): "ended",
        ("paused", "revise"): "paused",
        ("paused", "enter"): "paused",
        ("paused", "send"): "paused",
        ("paused", "leave"): "paused",
        ("paused", "resume"): "running",
        ("paused", "end"): "ended",
    }
    assert (JOURNEY.initial, JOURNEY.final) == ("draft", frozenset({"ended"}))


def test_subscriber_table_is_the_documented_one() -> None:
    assert dict(JOURNEY_SUBSCRIBER.transitions) == {
        ("new", "enter"): "active",
        ("new", "leave"): "left",
        ("active", "send"): "active",
        ("active", "send_last"): "completed",
        ("active", "leave"): "left",
    }
    assert JOURNEY_SUBSCRIBER.initial == "new"
    assert JOURNEY_SUBSCRIBER.final == frozenset({"completed", "left"})


@pytest.mark.parametrize("table", [JOURNEY, JOURNEY_SUBSCRIBER])
def test_diagrams_are_generated_from_the_tables(table: object) -> None:
    from emma_osplus._machine import TransitionTable

    assert isinstance(table, TransitionTable)
    diagram = mermaid(table).splitlines()
    for (state, kind), target in table.transitions.items():
        assert f"    {state} --> {target} : {kind}" in diagram
    for state in table.final:
        assert f"    {state} --> [*]" in diagram


# -- JOURNEY: every transition ------------------------------------------------------------------


def journey_in(state: str) -> JourneyRun:
    """A journey in *state*; once started, customer 1 is active with nothing sent."""
    draft = JourneyRun("Neukunde Privatgirokonto", PLAN)
    if state == "draft":
        return draft
    run = draft.apply_all([JourneyStarted(at=T0), enter(1)])
    paths: dict[str, list[JourneyEvent]] = {
        "running": [],
        "paused": [JourneyPaused(at=at(1))],
        "ended": [JourneyEnded(at=at(1))],
    }
    return run.apply_all(paths[state])


JOURNEY_EVENT: dict[str, Callable[[], JourneyEvent]] = {
    "edit": lambda: PlanEdited(PLAN2, at=at(2)),
    "start": lambda: JourneyStarted(at=at(2)),
    "end": lambda: JourneyEnded(at=at(2)),
    "revise": lambda: PlanRevised(PLAN2, at=at(2)),
    "enter": lambda: enter(2, 2),
    "send": lambda: StepSent(1, 1, at=at(2)),
    "leave": lambda: Left(1, "unsubscribed", at=at(2)),
    "pause": lambda: JourneyPaused(at=at(2)),
    "resume": lambda: JourneyResumed(at=at(2)),
}


def test_every_journey_kind_has_a_case() -> None:
    assert set(JOURNEY_EVENT) == set(JOURNEY.events)
    assert all(JOURNEY_EVENT[k]().kind == k for k in JOURNEY_EVENT)


@pytest.mark.parametrize("state", JOURNEY.states)
@pytest.mark.parametrize("kind", sorted(JOURNEY_EVENT))
def test_every_journey_transition(state: str, kind: str) -> None:
    run = journey_in(state)
    assert run.state == state
    target = JOURNEY.transitions.get((state, kind))
    if target is None:
        with pytest.raises(TransitionRefused) as info:
            run.step(JOURNEY_EVENT[kind]())
        assert (info.value.machine, info.value.state, info.value.event) == ("journey", state, kind)
        return
    update = run.step(JOURNEY_EVENT[kind]())
    assert update.applied
    assert update.run.state == target
    if kind == "revise":
        assert update.version == 2
        assert update.run.plan == PLAN2
    if kind == "start":
        assert update.version == 1
        assert update.run.versions == (JourneyVersion(1, PLAN, at(2)),)


@pytest.mark.parametrize(
    ("state", "kind", "reason"),
    [
        ("running", "edit", "cannot be changed in place"),
        ("paused", "edit", "cannot be changed in place"),
        ("draft", "revise", "change its plan in place with PlanEdited"),
        ("draft", "enter", "the journey has not started"),
        ("draft", "send", "the journey has not started"),
        ("draft", "leave", "the journey has not started"),
        ("ended", "enter", "the journey has ended"),
        ("ended", "revise", "the journey has ended"),
    ],
)
def test_journey_refusals_name_the_rule(state: str, kind: str, reason: str) -> None:
    with pytest.raises(TransitionRefused, match=reason):
        journey_in(state).step(JOURNEY_EVENT[kind]())


@pytest.mark.parametrize(
    ("plan", "reason", "field"),
    [
        (JourneyPlan(), "the journey has no steps", "steps"),
        (
            JourneyPlan([JourneyStep("M-1"), JourneyStep(None, 7), JourneyStep(None, 7)]),
            "step 2 has no mailing; step 3 has no mailing",
            "MAILING_ID",
        ),
    ],
)
def test_incomplete_plans_cannot_start_or_become_a_version(
    plan: JourneyPlan, reason: str, field: str
) -> None:
    for run, event in [
        (JourneyRun("J", plan), JourneyStarted(at=T0)),
        (started(), PlanRevised(plan, at=at(1))),
    ]:
        with pytest.raises(TransitionRefused) as info:
            run.step(event)
        assert info.value.reason == reason
        assert info.value.code == "E208"
        assert info.value.message is not None
        assert info.value.message.field == field


def test_a_draft_plan_is_edited_in_place() -> None:
    run = JourneyRun("J").apply(PlanEdited(PLAN, at=T0))
    assert (run.plan, run.versions) == (PLAN, ())
    assert run.apply(JourneyStarted(at=at(1))).versions == (JourneyVersion(1, PLAN, at(1)),)


def test_a_draft_may_be_discarded() -> None:
    run = JourneyRun("J").apply(JourneyEnded(at=T0))
    assert (run.state, run.versions) == ("ended", ())
    assert run.due(at(100)) == []


# -- JOURNEY_SUBSCRIBER: every transition -------------------------------------------------------

SUBSCRIBER_SETUP: dict[str, list[JourneyEvent]] = {
    "new": [],
    "active": [enter(1)],
    "completed": [enter(1), StepSent(1, 1, at=at()), StepSent(1, 2, at=at(7))],
    "left": [enter(1), Left(1, "hard_bounce", at=at(1))],
}

SUBSCRIBER_EVENT: dict[str, Callable[[], JourneyEvent]] = {
    "enter": lambda: enter(1, 9),
    "leave": lambda: Left(1, "withheld", at=at(9)),
    "send": lambda: StepSent(1, 1, at=at(9)),
    "send_last": lambda: StepSent(1, 2, at=at(9)),
}


def subscriber_in(state: str, kind: str) -> JourneyRun:
    run = started().apply_all(SUBSCRIBER_SETUP[state])
    if state == "active" and kind == "send_last":
        run = run.apply(StepSent(1, 1, at=at()))  # the last step is the only one left
    return run


def test_every_subscriber_kind_has_a_case() -> None:
    assert set(SUBSCRIBER_EVENT) == set(JOURNEY_SUBSCRIBER.events)
    assert set(SUBSCRIBER_SETUP) == set(JOURNEY_SUBSCRIBER.states)


@pytest.mark.parametrize("state", JOURNEY_SUBSCRIBER.states)
@pytest.mark.parametrize("kind", sorted(SUBSCRIBER_EVENT))
def test_every_subscriber_transition(state: str, kind: str) -> None:
    run = subscriber_in(state, kind)
    before = run.subscriber(1)
    assert (before.state if before else "new") == state
    target = JOURNEY_SUBSCRIBER.transitions.get((state, kind))
    event = SUBSCRIBER_EVENT[kind]()
    if target is not None:
        update = run.step(event)
        assert (update.kind, update.applied) == (kind, True)
        after = update.run.subscriber(1)
        assert after is not None
        assert after.state == target
        return
    if kind in ("enter", "leave"):  # reported, not applied
        update = run.step(event)
        assert not update.applied
        assert update.reason
        assert update.run == run
        assert update.redelivered == (kind == "enter")
    else:  # a send that must not happen raises
        with pytest.raises(TransitionRefused) as info:
            run.step(event)
        assert info.value.machine == "journey-subscriber"


@pytest.mark.parametrize(
    ("setup", "event", "reason"),
    [
        ([], StepSent(1, 1, at=at()), "customer 0000000001 is not in the journey"),
        (
            [enter(1), StepSent(1, 1, at=at())],
            StepSent(1, 1, at=at(1)),
            "step 1 was already sent at 2026-12-01T08:00:00+00:00; no step is sent twice",
        ),
        ([enter(1)], StepSent(1, 3, at=at()), "version 1 has 2 steps, no step 3"),
        (
            [enter(1), Left(1, "unsubscribed", at=at(1))],
            StepSent(1, 1, at=at(2)),
            "left the journey (unsubscribed); nothing is sent to them",
        ),
        (
            SUBSCRIBER_SETUP["completed"],
            StepSent(1, 1, at=at(20)),
            "has completed the journey; every step was sent",
        ),
    ],
)
def test_send_refusals(setup: list[JourneyEvent], event: StepSent, reason: str) -> None:
    with pytest.raises(TransitionRefused) as info:
        started().apply_all(setup).step(event)
    assert reason in info.value.reason


# -- due ----------------------------------------------------------------------------------------


def test_due_follows_the_fixed_schedule() -> None:
    run = started(PLAN2).apply_all([enter(1), enter(2, 0.5)])
    assert run.due(at(0.9)) == []
    assert run.due(at(1)) == [DueSend(CustomerNumber(1), 1, MailingId("M-WELCOME-2"), at(1))]
    assert [(int(d.customer), d.step, d.due_at) for d in run.due(at(7.5))] == [
        (1, 1, at(1)),
        (2, 1, at(1.5)),
        (1, 2, at(4)),
        (2, 2, at(4.5)),
        (1, 3, at(7)),
        (2, 3, at(7.5)),
    ]
    assert run.schedule(2)[-1].due_at == at(7.5)


def test_due_does_not_depend_on_when_earlier_steps_were_sent() -> None:
    run = started().apply_all([enter(1), StepSent(1, 1, at=at(5))])
    assert [(d.step, d.due_at) for d in run.due(at(7))] == [(2, at(7))]


def test_due_keeps_the_entry_time_zone() -> None:
    plus_one = timezone(timedelta(hours=1))
    run = started().apply(
        Entered(1, "a@example.de", at=datetime(2026, 12, 1, 23, 30, tzinfo=plus_one))
    )
    (second,) = [d for d in run.schedule(1) if d.step == 2]
    assert second.due_at == datetime(2026, 12, 8, 23, 30, tzinfo=plus_one)
    assert second.version == 1
    assert second.address_key == "a@example.de"


def test_nothing_is_due_unless_running_and_a_pause_keeps_the_backlog() -> None:
    run = started().apply_all([enter(1), JourneyPaused(at=at(1)), enter(2, 2)])
    assert run.due(at(30)) == []
    resumed = run.apply(JourneyResumed(at=at(10)))
    assert [(int(d.customer), d.step) for d in resumed.due(at(10))] == [
        (1, 1),
        (2, 1),
        (1, 2),
        (2, 2),
    ]
    assert resumed.apply(JourneyEnded(at=at(11))).due(at(30)) == []


def test_due_needs_an_aware_time() -> None:
    with pytest.raises(InvalidValueError) as info:
        started().due(datetime(2026, 12, 1))
    assert info.value.code == "E205"


def test_recorded_sends_are_not_due_again() -> None:
    run = started().apply(enter(1))
    for send in run.due(at(7)):
        run = run.apply(send.as_sent(at(7)))
    assert run.due(at(100)) == []
    subscriber = run.subscriber(1)
    assert subscriber is not None
    assert (subscriber.state, subscriber.sent) == ("completed", ((1, at(7)), (2, at(7))))


# -- leaving, re-delivery -----------------------------------------------------------------------


@pytest.mark.parametrize("reason", list(LeaveReason))
def test_a_subscriber_who_left_gets_nothing_and_never_returns(reason: LeaveReason) -> None:
    run = started().apply_all([enter(1), enter(2), Left(1, reason, at=at(1))])
    assert {int(d.customer) for d in run.due(at(100))} == {2}
    update = run.step(enter(1, 50))
    assert update.redelivered
    assert update.run == run
    assert f"left the journey ({reason.value}" in (update.reason or "")
    assert run.schedule(1) == []


def test_a_leave_before_the_delivery_keeps_the_customer_out() -> None:
    """Files arrive out of order: an unsubscribe processed before the delivery still counts."""
    run = started().apply(Left(7, "unsubscribed", at=at(1)))
    subscriber = run.subscriber(7)
    assert subscriber == JourneySubscriber(
        CustomerNumber(7), "left", left_at=at(1), left_reason=LeaveReason.UNSUBSCRIBED
    )
    update = run.step(enter(7, 2))
    assert not update.applied
    assert update.run.due(at(100)) == []


@pytest.mark.parametrize("state", ["active", "completed"])
def test_a_re_delivery_is_reported_not_applied(state: str) -> None:
    run = started().apply_all(SUBSCRIBER_SETUP[state])
    update = run.step(enter(1, 30, address="neu@example.de"))
    assert update.redelivered
    assert update.run == run
    subscriber = update.run.subscriber(1)
    assert subscriber is not None
    assert (subscriber.entered_at, subscriber.address_key) == (T0, "kunde1@example.de")
    expected = "already in the journey" if state == "active" else "has completed the journey"
    assert expected in (update.reason or "")
    assert "does not restart it" in (update.reason or "")


def test_a_repeated_leave_is_reported_and_keeps_the_first() -> None:
    run = started().apply_all([enter(1), Left(1, "hard_bounce", at=at(1))])
    update = run.step(Left(1, "unsubscribed", at=at(2)))
    assert not update.applied
    assert "already left the journey (hard_bounce" in (update.reason or "")
    assert not update.redelivered
    subscriber = update.run.subscriber(1)
    assert subscriber is not None
    assert subscriber.left_reason is LeaveReason.HARD_BOUNCE


def _response(cls: type, **extra: object) -> object:
    return cls(
        event_id=EventId("evt-1"),
        blz=Blz("37050198"),
        order=OrderNumber("R2026042"),
        order_kind="REKU",
        mailing=MailingId("M-WELCOME"),
        customer=CustomerNumber(4711),
        email=EmailAddress("anna@example.de"),
        at=at(3),
        **extra,
    )


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (_response(Unsubscribed, source="LINK"), LeaveReason.UNSUBSCRIBED),
        (_response(HardBounce, status="5.1.1", diagnostic="user unknown"), LeaveReason.HARD_BOUNCE),
        (_response(Withheld, reason="SPERRLISTE"), LeaveReason.WITHHELD),
    ],
)
def test_leave_from_a_response(response: object, reason: LeaveReason) -> None:
    left = Left.from_response(response)  # type: ignore[arg-type]
    assert left == Left(4711, reason, at=at(3))


def test_other_responses_do_not_make_anyone_leave() -> None:
    with pytest.raises(ValueError, match="'opened' response"):
        Left.from_response(_response(Opened))  # type: ignore[arg-type]


# -- versions -----------------------------------------------------------------------------------


def test_a_revision_is_a_version_for_new_entrants_only() -> None:
    run = started().apply_all([enter(1), enter(2), StepSent(1, 1, at=at())])
    update = run.step(PlanRevised(PLAN2, at=at(2)))
    assert update.version == 2
    run = update.run.apply(enter(3, 2))
    assert [v.number for v in run.versions] == [1, 2]
    assert run.current_version == JourneyVersion(2, PLAN2, at(2))
    assert run.version(1).plan == PLAN
    assert (run.entrants(1), run.entrants(2)) == (
        (CustomerNumber(1), CustomerNumber(2)),
        (CustomerNumber(3),),
    )
    assert run.version_of(1) == run.version(1)
    assert run.version_of(3) == run.version(2)
    assert run.version_of(99) is None
    due = {(int(d.customer), d.step): str(d.mailing) for d in run.due(at(100))}
    assert due == {
        (1, 2): "M-APP",
        (2, 1): "M-WELCOME",
        (2, 2): "M-APP",
        (3, 1): "M-WELCOME-2",
        (3, 2): "M-APP-2",
        (3, 3): "M-CARD-2",
    }
    with pytest.raises(KeyError):
        run.version(3)


# -- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: JourneyStep("M-1", -1), "E209"),
        (lambda: JourneyStep("M 1", 1), "E209"),
        (lambda: JourneyStep("M-1", True), "E209"),
        (lambda: JourneyPlan(["M-1"]), "E209"),  # type: ignore[list-item]
        (lambda: StepSent(1, 0, at=T0), "E209"),
        (lambda: Entered(1, "not an address", at=T0), "E201"),
        (lambda: Entered("12345678901", "a@example.de", at=T0), "E202"),
        (lambda: Left(1, "bored", at=T0), "E207"),
        (lambda: JourneyStarted(at=datetime(2026, 12, 1)), "E205"),
        (lambda: JourneyRun(" "), "E208"),
        (lambda: JourneyRun.from_template("Unbekannt"), "E207"),
    ],
)
def test_values_are_checked(build: Callable[[], object], code: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        build()
    assert info.value.code == code


def test_address_keys_are_matching_keys() -> None:
    a = Entered(1, "Anna.Schmidt@Bücher.DE", at=T0)
    b = Entered(1, EmailAddress("anna.schmidt@xn--bcher-kva.de"), at=T0)
    assert a.address_key == b.address_key == "anna.schmidt@xn--bcher-kva.de"
    run = started().apply_all([a, Entered(2, "anna.schmidt@bücher.de", at=T0)])
    assert run.customers_with("ANNA.SCHMIDT@BÜCHER.DE") == (CustomerNumber(1), CustomerNumber(2))


def test_entered_from_a_delivered_row() -> None:
    event = Entered.from_row({"KUNDENNUMMER": "4711", "EMAIL": "Anna@Example.DE"}, at=T0)
    assert event == Entered(4711, "anna@example.de", at=T0)


@pytest.mark.parametrize(
    "build",
    [
        lambda: JourneyRun("J", PLAN, state="running"),
        lambda: JourneyRun("J", PLAN, versions=[JourneyVersion(1, PLAN, T0)]),
        lambda: JourneyRun("J", PLAN, state="running", versions=[JourneyVersion(2, PLAN, T0)]),
        lambda: JourneyRun("J", PLAN2, state="running", versions=[JourneyVersion(1, PLAN, T0)]),
        lambda: JourneyRun(
            "J",
            PLAN,
            state="running",
            versions=[JourneyVersion(1, PLAN, T0)],
            subscribers={CustomerNumber(1): JourneySubscriber(CustomerNumber(2), "active", 1)},
        ),
        lambda: JourneyRun(
            "J",
            PLAN,
            state="running",
            versions=[JourneyVersion(1, PLAN, T0)],
            subscribers={CustomerNumber(1): JourneySubscriber(CustomerNumber(1), "active", 2)},
        ),
        lambda: JourneyRun("J", state="sleeping"),
    ],
)
def test_inconsistent_runs_are_refused(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011  (each case has its own message)
        build()


def test_an_incomplete_version_is_refused() -> None:
    bad = JourneyPlan([JourneyStep(None)])
    with pytest.raises(InvalidValueError) as info:
        JourneyRun("J", bad, state="running", versions=[JourneyVersion(1, bad, T0)])
    assert info.value.code == "E208"


# -- display ------------------------------------------------------------------------------------


def test_repr_never_shows_an_address() -> None:
    run = started().apply_all([enter(1, address="anna.schmidt@example.de")])
    texts = [
        repr(run),
        repr(run.subscriber(1)),
        repr(run.due(at(1))),
        repr(enter(1, address="anna.schmidt@example.de")),
        run._repr_html_(),
    ]
    assert all("anna.schmidt" not in text for text in texts)
    assert "a***@example.de" in repr(run.subscriber(1))


def test_display() -> None:
    run = started().apply_all(
        [enter(1), enter(2), enter(3), Left(2, "withheld", at=at(1)), PlanRevised(PLAN2, at=at(1))]
    )
    assert repr(run) == (
        "<JourneyRun 'Neukunde Privatgirokonto' running: version 2, 3 steps, "
        "3 subscribers (2 active, 1 left)>"
    )
    assert repr(PLAN2) == "JourneyPlan(day 1: M-WELCOME-2, day 4: M-APP-2, day 7: M-CARD-2)"
    assert repr(JourneyPlan()) == "JourneyPlan(no steps)"
    assert "<td>M-CARD-2</td>" in run._repr_html_()
    assert "<td>M-APP</td>" in PLAN._repr_html_()
    assert (
        repr(StepSent(1, 2, at=T0)) == "StepSent('0000000001', 2, at='2026-12-01T08:00:00+00:00')"
    )
    assert repr(Left(1, "withheld", at=T0)) == (
        "Left('0000000001', 'withheld', at='2026-12-01T08:00:00+00:00')"
    )
    assert run.counts() == {"active": 2, "left": 1}


def test_plan_as_campaign() -> None:
    campaign = PLAN2.to_campaign("Onboarding", "Neukunden")
    assert [b.kind for b in campaign.blocks] == [
        "start",
        "wait",
        "send",
        "wait",
        "send",
        "wait",
        "send",
    ]
    assert campaign.mailings == PLAN2.mailings
    assert campaign.can_activate
    assert not JourneyPlan([JourneyStep(None)]).to_campaign("X", "L").can_activate


# -- templates ----------------------------------------------------------------------------------


def test_every_catalogue_journey_is_a_template() -> None:
    """The packaged customer_journeys.csv (/work/shared/domain/customer_journeys.csv)."""
    templates = journey_templates()
    catalogue = default_registry().journeys
    assert [t.name for t in templates] == [j.name for j in catalogue]
    assert len(templates) == 7
    for template, journey in zip(templates, catalogue, strict=True):
        assert (template.state, template.plan, template.selection) == (
            "draft",
            JourneyPlan(),
            journey.selection,
        )
        assert template.occasions == journey.occasions
        assert template.note == journey.note


def test_a_template_needs_a_plan_and_suggests_mailings() -> None:
    run = JourneyRun.from_template("Neukunde Wertpapier")
    assert (run.selection, run.occasions) == (
        Selection.REKU,
        (OccasionCode("AD010"), OccasionCode("AD011")),
    )
    with pytest.raises(TransitionRefused, match="the journey has no steps"):
        run.apply(JourneyStarted(at=T0))
    assert run.suggested_mailings() == ()  # the catalogue links no mailing to AD010/AD011
    suggestions = JourneyRun.from_template("Neukunde Privatgirokonto").suggested_mailings()
    assert [(m.provider, m.title) for m in suggestions] == [
        ("S-Com", "Neues Girokonto"),
        ("LBS", "Neues Girokonto"),
    ]
    assert all(OccasionCode("AC120") in m.occasions for m in suggestions)
    assert JourneyRun.from_template("OBV").suggested_mailings() == ()
    ready = JourneyRun.from_template(default_registry().journeys[0], PLAN)
    assert ready.apply(JourneyStarted(at=T0)).state == "running"


# -- properties ---------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    plan=journey_plans(max_steps=4, max_interval=10),
    entries=st.lists(st.integers(0, 40 * 24), min_size=1, max_size=6),
    asks=st.lists(st.integers(0, 60 * 24), max_size=12),
)
def test_due_once_or_in_many_steps_gives_the_same_sends(
    plan: JourneyPlan, entries: list[int], asks: list[int]
) -> None:
    """Asking ``due`` at many times and recording the sends each time sends exactly what one
    late ask gives, and afterwards nothing is due."""
    run = started(plan).apply_all(
        Entered(n, f"kunde{n}@example.de", at=T0 + timedelta(hours=h))
        for n, h in enumerate(entries)
    )
    late = T0 + timedelta(days=60)
    fine = run
    sent: list[DueSend] = []
    for hours in [*sorted(asks), 60 * 24]:
        now = T0 + timedelta(hours=hours)
        batch = fine.due(now)
        assert all(d.due_at <= now for d in batch)
        sent += batch
        fine = fine.apply_all(d.as_sent(now) for d in batch)
    assert sorted(sent, key=lambda d: (d.due_at, d.customer, d.step)) == run.due(late)
    assert len(set(sent)) == len(sent)
    assert fine.due(late) == []


@settings(max_examples=60, deadline=None)
@given(run=journey_runs(), events=st.data())
def test_apply_one_by_one_equals_apply_all(run: JourneyRun, events: st.DataObject) -> None:
    customers = st.integers(1, 4)
    history = events.draw(
        st.lists(
            st.one_of(
                st.builds(lambda c, h: enter(c, h / 24), customers, st.integers(0, 500)),
                st.builds(lambda c, r: Left(c, r, at=T0), customers, leave_reasons()),
                st.builds(lambda c, s: StepSent(c, s, at=T0), customers, st.integers(1, 5)),
            ),
            max_size=15,
        )
    )
    one_by_one = run
    accepted = []
    for event in history:
        try:
            one_by_one = one_by_one.apply(event)
        except TransitionRefused:
            continue
        accepted.append(event)
    batch = run.apply_all(accepted)
    assert batch == one_by_one
    assert list(batch.subscribers.items()) == list(one_by_one.subscribers.items())
    # a step checks only what it changed; the whole run must still pass every check
    rebuilt = attrs.evolve(one_by_one, subscribers=dict(one_by_one.subscribers))
    assert rebuilt == one_by_one


def test_a_step_shares_the_subscribers_it_does_not_change() -> None:
    """Recording one send in a journey of 5 000 subscribers copies none of the others: the
    new run's subscribers are the old run's plus the one changed (and the old run stays)."""
    run = started().apply_all(enter(n, 0) for n in range(1, 5001))
    before = run.subscriber(7)
    after = run.apply(StepSent(7, 1, at=T0))
    assert after.subscribers._base is run.subscribers._base  # type: ignore[attr-defined]
    assert after.subscriber(7).sent == ((1, T0),)  # type: ignore[union-attr]
    assert run.subscriber(7) == before
    assert [c for c, s in after.subscribers.items() if s != run.subscribers[c]] == [
        CustomerNumber(7)
    ]


class JourneyMachine(RuleBasedStateMachine):
    """Two copies of one journey see the same entries, leaves, revisions and pauses.  The
    *fine* copy asks ``due`` at every tick and records the sends; the *coarse* copy asks only
    when told to and right before anything that stops sends (a leave, a pause), and then the
    fine copy asks too.  Checked: no
    step is sent twice or to someone who left; a re-delivery never restarts; every subscriber
    keeps the version they entered with; whenever the coarse copy catches up it has sent
    exactly what the fine copy sent; the history replays."""

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.fine = self.coarse = started()
        self.start = self.fine
        self.history: list[JourneyEvent] = []
        self.fine_sent: set[tuple[int, int]] = set()
        self.fine_log: list[DueSend] = []
        self.coarse_log: list[DueSend] = []
        self.left: dict[int, datetime] = {}
        self.version_at_entry: dict[int, int] = {}

    @initialize(run=journey_runs(journey_plans(max_steps=4, max_interval=5)))
    def begin(self, run: JourneyRun) -> None:
        self.fine = self.coarse = self.start = run

    def _both(self, event: JourneyEvent) -> None:
        self.fine = self.fine.apply(event)
        self.coarse = self.coarse.apply(event)
        self.history.append(event)

    def _catch_up(self) -> None:
        self._ask_fine()
        batch = self.coarse.due(self.now)
        self.coarse_log += batch
        self.coarse = self.coarse.apply_all(d.as_sent(self.now) for d in batch)
        if len(batch) > 1:
            statistic("coarse copy caught up several sends at once")
        assert sorted(self.coarse_log, key=_key) == sorted(self.fine_log, key=_key)

    delivered = Bundle("delivered")

    @rule(target=delivered, customer=st.integers(1, 8))
    def deliver(self, customer: int) -> int:
        event = Entered(customer, f"kunde{customer}@example.de", at=self.now)
        known = self.fine.subscriber(customer)
        update = self.fine.step(event)
        if known is None:
            assert update.applied
            assert update.version == len(self.fine.versions)
            self.version_at_entry[customer] = len(self.fine.versions)
        else:
            statistic(f"re-delivery of a {known.state} subscriber")
            assert update.redelivered
            assert update.run == self.fine  # never restarted
        self._both(event)
        return customer

    @rule(customer=delivered, reason=leave_reasons())
    def leave(self, customer: int, reason: LeaveReason) -> None:
        self._leave(customer, reason)

    @rule(customer=st.integers(7, 8), reason=leave_reasons())
    def leave_maybe_before_delivery(self, customer: int, reason: LeaveReason) -> None:
        self._leave(customer, reason)

    def _leave(self, customer: int, reason: LeaveReason) -> None:
        self._catch_up()
        self._both(Left(customer, reason, at=self.now))
        self.left.setdefault(customer, self.now)

    @rule(hours=st.integers(1, 24 * 6))
    def tick(self, hours: int) -> None:
        self.now += timedelta(hours=hours)
        self._ask_fine()

    def _ask_fine(self) -> None:
        batch = self.fine.due(self.now)
        for send in batch:
            key = (int(send.customer), send.step)
            assert key not in self.fine_sent, "a step due twice"
            assert int(send.customer) not in self.left, "a send for someone who left"
            self.fine_sent.add(key)
            version = self.fine.version(self.version_at_entry[int(send.customer)])
            assert send.mailing == version.plan.steps[send.step - 1].mailing
        if batch:
            statistic("fine copy sent something")
        self.fine_log += batch
        for send in batch:
            event = send.as_sent(self.now)
            self.fine = self.fine.apply(event)
            self.history.append(event)

    @rule()
    def catch_up(self) -> None:
        self._catch_up()

    @rule(plan=journey_plans(max_steps=4, max_interval=5))
    def revise(self, plan: JourneyPlan) -> None:
        self._both(PlanRevised(plan, at=self.now))

    @rule()
    def pause_or_resume(self) -> None:
        if self.fine.state == "running":
            self._catch_up()
            self._both(JourneyPaused(at=self.now))
        else:
            self._both(JourneyResumed(at=self.now))

    @rule(customer=st.integers(1, 8), step=st.integers(1, 4))
    def send_again_or_after_leaving(self, customer: int, step: int) -> None:
        """Recording a send that was already made, or for someone who left, is refused."""
        subscriber = self.fine.subscriber(customer)
        if (customer, step) in self.fine_sent or customer in self.left:
            with pytest.raises(TransitionRefused):
                self.fine.apply(StepSent(customer, step, at=self.now))
        elif subscriber is None:
            with pytest.raises(TransitionRefused, match="is not in the journey"):
                self.fine.apply(StepSent(customer, step, at=self.now))

    @invariant()
    def versions_are_pinned(self) -> None:
        for customer, version in self.version_at_entry.items():
            subscriber = self.fine.subscriber(customer)
            assert subscriber is not None
            assert subscriber.version == version

    @invariant()
    def left_is_for_good(self) -> None:
        for customer in self.left:
            subscriber = self.fine.subscriber(customer)
            assert subscriber is not None
            assert subscriber.state in ("left", "completed")
            assert self.fine.schedule(customer) == []

    @invariant()
    def history_replays(self) -> None:
        assert self.start.apply_all(self.history) == self.fine


def _key(send: DueSend) -> tuple[datetime, CustomerNumber, int]:
    return (send.due_at, send.customer, send.step)


TestJourneyMachine = JourneyMachine.TestCase
TestJourneyMachine.settings = settings(max_examples=80, stateful_step_count=50, deadline=None)
