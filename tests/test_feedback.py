"""Feedback processing on the OSPlus side (BEHAVIOUR.md): institute settings decide between
automatic processing and pending work items, pending items age and become overdue, and the
selection guard holds back every customer with a pending or processed item."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emma_osplus import Blz, CustomerNumber, EventId, MailingId, OrderNumber, Record
from emma_osplus._consent import ConsentEvent, ConsentKind, ConsentLedger
from emma_osplus._email import EmailAddress
from emma_osplus._events import Clicked, HardBounce, Opened, Sent, SoftBounce, Unsubscribed
from emma_osplus._feedback import (
    DEFAULT_OVERDUE_AFTER,
    PENDING_ITEM,
    FeedbackState,
    InstituteSettings,
    ItemStatus,
    check_selection,
    item_id,
)
from emma_osplus._machine import TransitionRefused
from emma_osplus._suppression import read_row
from emma_osplus.testing._consent import consent_events

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def t(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def response(
    cls: type,
    customer: int = 4711,
    email: str = "anna@example.de",
    n: int = 1,
    hours: float = 0,
    **extra: Any,
) -> Any:
    return cls(
        event_id=EventId(f"evt-{n}"),
        blz=Blz("37050198"),
        order=OrderNumber("K2026001"),
        order_kind="KMM",
        mailing=MailingId("M-1"),
        customer=CustomerNumber(customer),
        email=EmailAddress(email),
        at=t(hours),
        **extra,
    )


def unsub(
    customer: int = 4711,
    email: str = "anna@example.de",
    n: int = 1,
    source: str = "LINK",
    hours: float = 0,
) -> Any:
    return response(Unsubscribed, customer, email, n, hours, source=source)


def bounce(
    customer: int = 4711, email: str = "anna@example.de", n: int = 2, hours: float = 0
) -> Any:
    return response(
        HardBounce, customer, email, n, hours, status="5.1.1", diagnostic="user unknown"
    )


def test_both_settings_are_off_by_default() -> None:
    s = InstituteSettings()
    assert (s.auto_unsubscribe, s.auto_hard_bounce) == (False, False)
    assert s.overdue_after == DEFAULT_OVERDUE_AFTER == dt.timedelta(days=2)


@pytest.mark.parametrize("limit", [dt.timedelta(0), dt.timedelta(hours=-1), 3])
def test_overdue_limit_must_be_positive(limit: Any) -> None:
    with pytest.raises(ValueError, match="overdue_after"):
        InstituteSettings(overdue_after=limit)


# (auto_unsubscribe, auto_hard_bounce, event, expected status)
SETTINGS_TABLE = [
    (False, False, unsub(), "pending"),
    (True, False, unsub(), "processed"),
    (False, True, unsub(), "pending"),
    (True, True, unsub(), "processed"),
    (False, False, bounce(), "pending"),
    (True, False, bounce(), "pending"),
    (False, True, bounce(), "processed"),
    (True, True, bounce(), "processed"),
    (False, False, unsub(source="BESCHWERDE"), "pending"),
    (True, False, unsub(source="BESCHWERDE"), "processed"),
    (False, True, unsub(source="BESCHWERDE"), "pending"),
    (False, False, ConsentEvent(1, "a@x.de", "WIDERSPRUCH", t(0), "BRIEF"), "pending"),
    (True, False, ConsentEvent(1, "a@x.de", "WIDERSPRUCH", t(0), "BRIEF"), "processed"),
    (False, True, ConsentEvent(1, "a@x.de", "HARTBOUNCE", t(0), "ESP_LINK"), "processed"),
    (True, False, ConsentEvent(1, "a@x.de", "HARTBOUNCE", t(0), "ESP_LINK"), "pending"),
]


@pytest.mark.parametrize(("auto_unsub", "auto_bounce", "event", "status"), SETTINGS_TABLE)
def test_settings_decide_between_automatic_and_manual(
    auto_unsub: bool, auto_bounce: bool, event: Any, status: str
) -> None:
    state = FeedbackState(
        InstituteSettings(auto_unsubscribe=auto_unsub, auto_hard_bounce=auto_bounce)
    )
    state = state.receive([event], at=t(1))
    [item] = state.items.values()
    assert item.status.value == status
    assert item.id == item_id(event)
    assert item.received_at == t(1)
    assert item.source is event
    if status == "processed":
        assert (item.done_by, item.done_at) == (None, t(1))
        assert state.pending(at=t(2)) == ()
        assert state.consent_events() == (item.consent_event,)
    else:
        assert (item.done_by, item.done_at) == (None, None)
        assert [a.item for a in state.pending(at=t(2))] == [item]
        assert state.consent_events() == ()


def test_item_kind_follows_the_response() -> None:
    state = FeedbackState().receive(
        [unsub(n=1), unsub(n=2, source="BESCHWERDE"), bounce(n=3)], at=t(1)
    )
    assert [i.kind for i in state.items.values()] == [
        ConsentKind.UNSUBSCRIBE,
        ConsentKind.OBJECTION,
        ConsentKind.HARD_BOUNCE,
    ]


def test_other_responses_and_consents_are_ignored() -> None:
    state = FeedbackState()
    events = [
        response(Sent, n=1),
        response(Opened, n=2),
        response(Clicked, n=3, link="L1"),
        response(SoftBounce, n=4, status="4.2.2", diagnostic="full"),
        ConsentEvent(1, "a@x.de", "EINWILLIGUNG", t(0), "WEBFORMULAR", "DOI"),
    ]
    assert state.receive(events, at=t(1)) is state


def test_receiving_the_same_event_twice_has_one_effect() -> None:
    once = FeedbackState().receive([unsub(), unsub()], at=t(1))
    assert len(once.items) == 1
    assert once.receive([unsub()], at=t(5)) is once
    completed = once.complete(item_id(unsub()), by="m.mueller", at=t(2))
    assert completed.receive([unsub()], at=t(3)) is completed


@settings(max_examples=100, deadline=None)
@given(events=st.lists(consent_events(), max_size=10), seed=st.randoms(use_true_random=False))
def test_receiving_is_independent_of_order_and_duplicates(
    events: list[ConsentEvent], seed: random.Random
) -> None:
    reference = FeedbackState().receive(events, at=t(10))
    shuffled = events * 2
    seed.shuffle(shuffled)
    assert FeedbackState().receive(shuffled, at=t(10)).items == reference.items
    assert len(reference.items) == len({e for e in events if e.kind.is_restriction})


@settings(max_examples=60, deadline=None)
@given(
    batches=st.lists(st.lists(consent_events(), max_size=6), max_size=12),
    picks=st.lists(st.integers(min_value=0), max_size=12),
)
def test_steps_share_items_but_never_change_an_earlier_state(
    batches: list[list[ConsentEvent]], picks: list[int]
) -> None:
    # receive and complete copy only what they change (the items are a FrozenMap): every
    # earlier state still holds exactly its own items, and the last one equals a state built
    # from a plain dict of its items
    state = FeedbackState()
    history = [(state, dict(state.items))]
    for n, events in enumerate(batches):
        state = state.receive(events, at=t(10 + n))
        pending = [i for i, item in state.items.items() if item.status is ItemStatus.PENDING]
        if n < len(picks) and pending:
            state = state.complete(pending[picks[n] % len(pending)], by="m.mueller", at=t(30))
        history.append((state, dict(state.items)))
    for earlier, items in history:
        assert dict(earlier.items) == items
        assert list(earlier.items) == list(items)  # the order items arrived in
    assert FeedbackState(state.settings, dict(state.items)) == state
    with pytest.raises(TypeError):
        state.items["x"] = next(iter(state.items.values()), None)  # type: ignore[index]


def test_complete_records_who_and_when() -> None:
    state = FeedbackState().receive([unsub()], at=t(1))
    done = state.complete("R-evt-1", by="m.mueller", at=t(3))
    item = done.items["R-evt-1"]
    assert (item.status, item.done_by, item.done_at) == (ItemStatus.COMPLETED, "m.mueller", t(3))
    assert state.items["R-evt-1"].status is ItemStatus.PENDING  # the old state is unchanged
    assert done.pending(at=t(4)) == ()


def test_complete_refusals() -> None:
    state = FeedbackState().receive([unsub()], at=t(1))
    done = state.complete("R-evt-1", by="m.mueller", at=t(3))
    with pytest.raises(TransitionRefused) as info:
        done.complete("R-evt-1", by="m.mueller", at=t(4))
    assert (info.value.state, info.value.event) == ("completed", "complete")
    auto = FeedbackState(InstituteSettings(auto_unsubscribe=True)).receive([unsub()], at=t(1))
    with pytest.raises(TransitionRefused):
        auto.complete("R-evt-1", by="m.mueller", at=t(4))
    with pytest.raises(KeyError):
        state.complete("R-evt-9", by="m.mueller", at=t(4))
    with pytest.raises(ValueError, match="name of the person"):
        state.complete("R-evt-1", by="  ", at=t(4))
    with pytest.raises(ValueError, match="E205"):
        state.complete("R-evt-1", by="m.mueller", at=dt.datetime(2026, 11, 3))


def test_pending_items_age_and_become_overdue() -> None:
    settings_ = InstituteSettings(overdue_after=dt.timedelta(hours=48))
    state = FeedbackState(settings_).receive([unsub(n=1, hours=0)], at=t(1))
    state = state.receive([bounce(n=2, hours=10)], at=t(11))
    aged = state.pending(at=t(48))
    assert [(a.item.id, a.age, a.overdue) for a in aged] == [
        ("R-evt-1", dt.timedelta(hours=48), False),
        ("R-evt-2", dt.timedelta(hours=38), False),
    ]
    assert state.overdue(at=t(48)) == ()
    assert [a.item.id for a in state.overdue(at=t(48.5))] == ["R-evt-1"]
    assert [a.item.id for a in state.overdue(at=t(60))] == ["R-evt-1", "R-evt-2"]


def test_age_counts_from_the_event_not_from_a_late_file() -> None:
    late = FeedbackState().receive([unsub(hours=0)], at=t(24 * 5))
    [aged] = late.overdue(at=t(24 * 5))
    assert aged.age == dt.timedelta(days=5)
    assert aged.item.received_at == t(24 * 5)


def test_the_item_table() -> None:
    assert PENDING_ITEM.initial == "received"
    assert set(PENDING_ITEM.states) == {"received", "pending", "processed", "completed"}
    assert {s.value for s in ItemStatus} == set(PENDING_ITEM.states) - {"received"}
    assert PENDING_ITEM.allowed("pending") == ("complete",)
    assert PENDING_ITEM.allowed("processed") == ()


# -- the selection guard ---------------------------------------------------------------------


def sel(customer: int, email: str) -> dict[str, str]:
    return {"KUNDENNUMMER": str(customer), "EMAIL": email}


def test_worked_example_manual_unsubscribe_guards_the_next_selection() -> None:
    state = FeedbackState().receive([unsub(4711, "anna@example.de")], at=t(1))
    selection = [sel(4711, "anna.neu@example.de"), sel(4712, "bernd@example.de")]
    result = check_selection(selection, state)
    assert result.deliver == [selection[1]]
    [held] = result.held_back
    assert (held.index, held.customer, [i.id for i in held.items]) == (
        0,
        CustomerNumber(4711),
        ["R-evt-1"],
    )
    assert held.reason == "ABMELDUNG pending since 2026-11-02T09:00:00+00:00 (item R-evt-1)"
    assert result.customers == (CustomerNumber(4711),)


GUARD_CASES = [
    ("unsubscribe holds the customer under a new address", [unsub(4711, "a@x.de")], sel(4711, "b@x.de"), True),
    ("unsubscribe holds the address under another customer", [unsub(4711, "a@x.de")], sel(4712, "A@X.de"), True),
    ("objection holds the customer", [unsub(4711, "a@x.de", source="BESCHWERDE")], sel(4711, "c@x.de"), True),
    ("hard bounce holds the address", [bounce(4711, "a@x.de")], sel(4712, "a@x.de"), True),
    ("hard bounce does not hold the customer's new address", [bounce(4711, "a@x.de")], sel(4711, "b@x.de"), False),
    ("unrelated customer and address", [unsub(4711, "a@x.de")], sel(4712, "b@x.de"), False),
]  # fmt: skip


@pytest.mark.parametrize("auto", [False, True], ids=["pending", "processed"])
@pytest.mark.parametrize(
    ("events", "selected", "held"), [pytest.param(*c[1:], id=c[0]) for c in GUARD_CASES]
)
def test_guard_matches_pending_and_processed_items(
    events: list[Any], selected: dict[str, str], held: bool, auto: bool
) -> None:
    settings_ = InstituteSettings(auto_unsubscribe=auto, auto_hard_bounce=auto)
    state = FeedbackState(settings_).receive(events, at=t(1))
    result = check_selection([selected], state)
    assert (len(result.held_back), len(result.deliver)) == ((1, 0) if held else (0, 1))


def test_completed_items_still_hold_back_and_say_who() -> None:
    state = FeedbackState().receive([unsub()], at=t(1)).complete("R-evt-1", by="m.mueller", at=t(2))
    [held] = check_selection([sel(4711, "anna@example.de")], state).held_back
    assert (
        held.reason
        == "ABMELDUNG completed by m.mueller at 2026-11-02T11:00:00+00:00 (item R-evt-1)"
    )
    auto = FeedbackState(InstituteSettings(auto_unsubscribe=True)).receive([unsub()], at=t(1))
    [held] = check_selection([sel(4711, "anna@example.de")], auto).held_back
    assert (
        held.reason
        == "ABMELDUNG processed automatically at 2026-11-02T10:00:00+00:00 (item R-evt-1)"
    )


def test_every_item_of_a_row_is_named() -> None:
    state = FeedbackState().receive(
        [unsub(4711, "a@x.de", n=1), bounce(4799, "b@x.de", n=2)], at=t(1)
    )
    [held] = check_selection([sel(4711, "b@x.de")], state).held_back
    assert [i.id for i in held.items] == ["R-evt-1", "R-evt-2"]
    assert "R-evt-1" in held.reason
    assert "R-evt-2" in held.reason


def test_later_proven_consent_releases_processed_but_not_pending_items() -> None:
    proof = ConsentEvent(
        4711, "anna@example.de", "EINWILLIGUNG", t(30), "WEBFORMULAR", "DOI 2026-11-03"
    )
    bare = ConsentEvent(4711, "anna@example.de", "EINWILLIGUNG", t(30), "OSPLUS")
    ledger = ConsentLedger([*_from([unsub()]), proof])
    row = sel(4711, "anna@example.de")
    pending = FeedbackState().receive([unsub()], at=t(1))
    done = pending.complete("R-evt-1", by="m.mueller", at=t(2))
    assert check_selection([row], done, ledger=ledger, at=t(31)).deliver == [row]
    assert check_selection([row], done, ledger=ledger, at=t(29)).deliver == []
    assert check_selection([row], pending, ledger=ledger, at=t(31)).deliver == []
    unproven = ConsentLedger([*_from([unsub()]), bare])
    assert check_selection([row], done, ledger=unproven, at=t(31)).deliver == []
    with pytest.raises(ValueError, match="both"):
        check_selection([row], done, ledger=ledger)


def _from(events: list[Any]) -> list[ConsentEvent]:
    from emma_osplus._consent import consent_events_from_responses

    return list(consent_events_from_responses(events))


def test_rows_that_cannot_be_checked_are_held_back() -> None:
    state = FeedbackState()
    rows = [sel(4711, "kaputt"), {"EMAIL": "a@x.de"}, sel(4712, "b@x.de")]
    result = check_selection(rows, state)
    assert result.deliver == [rows[2]]
    assert [(h.index, h.customer) for h in result.held_back] == [
        (0, CustomerNumber(4711)),
        (1, None),
    ]
    assert result.held_back[0].reason.startswith("cannot be checked: E201")


def test_guard_accepts_records() -> None:
    state = FeedbackState().receive([unsub()], at=t(1))
    record = Record(
        line=2, values={"KUNDENNUMMER": "0000004711", "EMAIL": "anna@example.de"}, raw="…"
    )
    assert check_selection([record], state).held_back[0].row is record


@settings(max_examples=100, deadline=None)
@given(
    events=st.lists(consent_events(), max_size=8),
    rows=st.lists(
        st.builds(
            sel,
            st.sampled_from([4711, 4712, 4713, 4799]),
            st.sampled_from(["anna@example.de", "info@bücher.de", "x@y.de"]),
        ),
        max_size=10,
    ),
    auto=st.booleans(),
)
def test_guard_partitions_and_holds_every_affected_customer(
    events: list[ConsentEvent], rows: list[dict[str, str]], auto: bool
) -> None:
    settings_ = InstituteSettings(auto_unsubscribe=auto, auto_hard_bounce=not auto)
    state = FeedbackState(settings_).receive(events, at=t(100))
    result = check_selection(rows, state)
    assert len(result.deliver) + len(result.held_back) == len(rows)
    restrictions = [e for e in events if e.kind.is_restriction]
    for delivered in result.deliver:
        customer, email = read_row(delivered)
        key = email.matching_key
        assert not any(e.address_key == key for e in restrictions)
        assert not any(
            e.customer == customer and e.kind is not ConsentKind.HARD_BOUNCE for e in restrictions
        )
    for h in result.held_back:
        assert h.items
        assert all(i.id in state.items for i in h.items)


def test_events_differing_only_in_spelling_are_two_items() -> None:
    lower = ConsentEvent(4711, "anna@example.de", "ABMELDUNG", t(0), "ESP_LINK")
    upper = ConsentEvent(4711, "Anna@example.de", "ABMELDUNG", t(0), "ESP_LINK")
    assert item_id(lower) != item_id(upper)
    assert len(FeedbackState().receive([lower, upper], at=t(1)).items) == 2


def test_guard_repr_does_not_show_addresses() -> None:
    state = FeedbackState().receive([unsub(4711, "anna.schmidt@example.de")], at=t(1))
    result = check_selection(
        [sel(4711, "anna.schmidt@example.de"), sel(4712, "bernd.x@example.de")], state
    )
    assert "anna.schmidt" not in repr(result)
    assert "bernd.x" not in repr(result)
    assert "anna.schmidt" not in repr(state)
