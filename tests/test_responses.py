"""The recipient state machine (BEHAVIOUR.md, *Recipient responses*): folding is order- and
duplicate-independent, engagement only rises, withheld-and-sent is a reported contradiction,
soft bounces escalate per address by the events' own times, and the fast fold on record texts
gives the same book as the fold through the transition table."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emma_osplus import Blz, CustomerNumber, EventId, InvalidValueError, MailingId, OrderNumber
from emma_osplus._email import EmailAddress
from emma_osplus._events import (
    Clicked,
    HardBounce,
    Opened,
    ResponseEvent,
    Sent,
    SoftBounce,
    Unsubscribed,
    Withheld,
    _row,
)
from emma_osplus._machine import TransitionRefused, mermaid
from emma_osplus._responses import (
    RECIPIENT,
    Engagement,
    RecipientState,
    ResponseBook,
    SoftBouncePolicy,
    _status,
    apply,
    fold,
    fold_rows,
    fold_values,
)
from emma_osplus.testing._events import event_histories

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
BLZ = Blz("37050198")

# The lattice of delivery states, as the order "a <= b".
CHAIN = ["new", "sent", "opened", "clicked", "bounced", "contradiction"]
KINDS = ["sent", "opened", "clicked", "soft_bounce", "hard_bounce", "withheld"]


def leq(a: str, b: str) -> bool:
    if a in (b, "new") or b == "contradiction":
        return True
    if "withheld" in (a, b):
        return False
    return CHAIN.index(a) <= CHAIN.index(b)


def join(a: str, b: str) -> str:
    uppers = [s for s in RECIPIENT.states if leq(a, s) and leq(b, s)]
    least = [s for s in uppers if all(leq(s, t) for t in uppers)]
    assert len(least) == 1
    return least[0]


KIND_ELEMENT = {
    "sent": "sent",
    "opened": "opened",
    "clicked": "clicked",
    "soft_bounce": "sent",
    "hard_bounce": "bounced",
    "withheld": "withheld",
}


def event(cls: type[ResponseEvent], number: int, at: dt.datetime, **extra: Any) -> ResponseEvent:
    fields: dict[str, Any] = {
        "event_id": EventId(f"e{number}"),
        "blz": BLZ,
        "order": OrderNumber("K1"),
        "order_kind": "KMM",
        "mailing": MailingId(extra.pop("mailing", "M1")),
        "customer": CustomerNumber(extra.pop("customer", 4711)),
        "email": EmailAddress(extra.pop("email", "anna@example.de")),
        "at": at,
    }
    if cls in (HardBounce, SoftBounce):
        extra.setdefault("status", "4.2.2" if cls is SoftBounce else "5.1.1")
        extra.setdefault("diagnostic", "mailbox full" if cls is SoftBounce else "user unknown")
    if cls is Withheld:
        extra.setdefault("reason", "SPERRLISTE")
    if cls is Clicked:
        extra.setdefault("link", "L1")
    if cls is Unsubscribed:
        extra.setdefault("source", "LINK")
    return cls(**fields, **extra)


def fast(events: list[ResponseEvent], book: ResponseBook | None = None) -> ResponseBook:
    """The fast fold on the events' record texts, one call per institute (as files come)."""
    by_blz: dict[str, list[dict[str, str]]] = defaultdict(list)
    for e in events:
        by_blz[str(e.blz)].append(e.to_values())
    result = ResponseBook() if book is None else book
    for blz, records in by_blz.items():
        result = fold_values(records, blz=blz, book=result)
    return result


# -- the transition table ---------------------------------------------------------------


def test_the_table_is_the_join_of_the_lattice() -> None:
    assert set(RECIPIENT.states) == {*CHAIN, "withheld"}
    assert set(RECIPIENT.events) == set(KINDS)
    for state in RECIPIENT.states:
        assert RECIPIENT.allowed(state) == tuple(sorted(KINDS)), state
        for kind in KINDS:
            assert RECIPIENT.next(state, kind) == join(state, KIND_ELEMENT[kind]), (state, kind)


def test_the_table_commutes_and_is_idempotent() -> None:
    for state, a, b in itertools.product(RECIPIENT.states, KINDS, KINDS):
        after_a = RECIPIENT.next(state, a)
        assert RECIPIENT.next(after_a, a) == after_a
        assert RECIPIENT.next(after_a, b) == RECIPIENT.next(RECIPIENT.next(state, b), a)
        assert leq(state, after_a)


def test_status_of_a_lattice_element_matches_the_table() -> None:
    """The fast path computes the status from (engagement, bounced, withheld)."""
    for level, bounced, withheld in itertools.product(range(4), (False, True), (False, True)):
        if bounced and level == 0:
            continue  # a bounce implies sent
        kinds = ["withheld"] if withheld else []
        kinds += ["hard_bounce"] if bounced else []
        kinds += [["sent", "sent", "opened", "clicked"][level]] if level else []
        state = "new"
        for kind in kinds:
            state = RECIPIENT.next(state, kind)
        assert _status(level, bounced, withheld) == state


def test_unknown_state_is_refused_by_the_table() -> None:
    with pytest.raises(TransitionRefused):
        RECIPIENT.next("lost", "sent")


def test_diagram_lists_every_transition() -> None:
    diagram = mermaid(RECIPIENT)
    assert diagram.count(" --> ") == len(RECIPIENT.transitions) + 1
    assert "withheld --> contradiction : sent" in diagram


# -- the machine on single recipients -----------------------------------------------------


def test_click_implies_open_implies_sent() -> None:
    state = apply(RecipientState(), event(Clicked, 1, T0))
    assert (state.status, state.engagement) == ("clicked", Engagement.CLICKED)
    assert state.first_delivery is not None
    assert str(state.first_delivery.event_id) == "e1"


def test_hard_bounce_ends_delivery_and_later_opens_do_not_revive_it() -> None:
    book = fold([event(HardBounce, 1, T0), event(Opened, 2, T0 + dt.timedelta(hours=1))])
    state = book.get(event(Sent, 0, T0).key)
    assert state.status == "bounced"
    assert state.delivery_ended
    assert state.engagement == Engagement.OPENED


def test_withheld_then_sent_is_a_contradiction_with_both_ids() -> None:
    withheld = event(Withheld, 1, T0, reason="KEINE_EINWILLIGUNG")
    sent = event(Sent, 2, T0 + dt.timedelta(minutes=5))
    for order in ([withheld, sent], [sent, withheld]):
        book = fold(order)
        state = book[sent.key]
        assert state.status == "contradiction"
        assert state.contradiction == (EventId("e1"), EventId("e2"))
        [found] = book.contradictions()
        assert found.key == sent.key
        assert found.event_ids == (EventId("e1"), EventId("e2"))
        assert found.withheld == withheld


def test_withheld_alone_is_no_contradiction() -> None:
    book = fold([event(Withheld, 1, T0)])
    assert book[event(Sent, 0, T0).key].status == "withheld"
    assert book.contradictions() == []


def test_the_same_event_twice_has_one_effect() -> None:
    bounce = event(SoftBounce, 1, T0)
    once, twice = fold([bounce]), fold([bounce, bounce])
    assert once == twice
    assert len(twice.soft_bounces("anna@example.de")) == 1


def test_unsubscribes_are_kept_once_and_do_not_change_delivery() -> None:
    unsub = event(Unsubscribed, 1, T0, source="BESCHWERDE")
    book = fold([unsub, event(Sent, 2, T0), unsub])
    assert book.unsubscribes() == [unsub]
    assert book[unsub.key].status == "sent"
    assert apply(RecipientState(), unsub) == RecipientState()


def test_earliest_events_are_kept_with_ties_decided_by_id() -> None:
    late = event(HardBounce, 2, T0 + dt.timedelta(days=1))
    early_b = event(HardBounce, 9, T0, diagnostic="b")
    early_a = event(HardBounce, 3, T0, diagnostic="a")
    for order in itertools.permutations([late, early_b, early_a]):
        book = fold(order)
        assert book[late.key].hard_bounce == early_a
        assert book.hard_bounces() == [early_a]


def test_fold_does_not_change_the_book_it_starts_from() -> None:
    first = fold([event(Sent, 1, T0)])
    snapshot = first.copy()
    second = fold([event(Clicked, 2, T0)], first)
    assert first == snapshot
    assert second != first
    assert second[event(Sent, 0, T0).key].status == "clicked"


def test_book_reading() -> None:
    sent = event(Sent, 1, T0)
    other = event(Sent, 2, T0, customer=4712)
    book = fold([other, sent])
    assert len(book) == 2
    assert list(book) == [sent.key, other.key]
    assert sent.key in book
    assert "x" not in book
    assert [k for k, _ in book.items()] == [sent.key, other.key]
    assert book.get(event(Sent, 3, T0, customer=1).key) == RecipientState()
    assert "2 recipients" in repr(book)
    assert book != "book"


def test_unknown_response_code_is_refused_by_the_fast_fold() -> None:
    record = event(Sent, 1, T0).to_values()
    record["REAKTION"] = "XX"
    with pytest.raises(InvalidValueError) as info:
        fold_values([record], blz=BLZ)
    assert info.value.message.code == "E207"


# -- properties over histories ------------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(history=event_histories(), data=st.data())
def test_any_permutation_and_duplication_folds_to_the_same_state(
    history: list[ResponseEvent], data: st.DataObject
) -> None:
    again = data.draw(st.permutations(history))
    again += data.draw(st.lists(st.sampled_from(history), max_size=5)) if history else []
    split = data.draw(st.integers(0, len(again)))
    book = fold(history)
    assert fold(again) == book
    assert fold(again[split:], fold(again[:split])) == book  # file by file
    policy = SoftBouncePolicy(threshold=2, window=dt.timedelta(days=60), min_span=dt.timedelta(0))
    assert fold(again).escalations(policy) == book.escalations(policy)


@settings(max_examples=120, deadline=None)
@given(history=event_histories())
def test_fast_fold_equals_table_fold(history: list[ResponseEvent]) -> None:
    book = fold(history)
    quick = fast(history)
    assert quick == book
    assert list(quick.items()) == list(book.items())
    assert quick.contradictions() == book.contradictions()
    assert quick.unsubscribes() == book.unsubscribes()
    assert quick.hard_bounces() == book.hard_bounces()
    policy = SoftBouncePolicy(
        threshold=2, window=dt.timedelta(days=30), min_span=dt.timedelta(days=1)
    )
    assert quick.escalations(policy) == book.escalations(policy)


@settings(max_examples=40, deadline=None)
@given(history=event_histories(), data=st.data())
def test_fast_and_table_folds_mix(history: list[ResponseEvent], data: st.DataObject) -> None:
    split = data.draw(st.integers(0, len(history)))
    mixed = fold(history[split:], fast(history[:split]))
    assert mixed == fold(history)
    assert fast(history[split:], fold(history[:split])) == fold(history)


@settings(max_examples=60, deadline=None)
@given(history=event_histories())
def test_engagement_and_status_only_rise(history: list[ResponseEvent]) -> None:
    states: dict[Any, RecipientState] = {}
    for e in history:
        before = states.get(e.key, RecipientState())
        after = apply(before, e)
        assert after.engagement >= before.engagement
        assert leq(before.status, after.status)
        states[e.key] = after
    book = fold(history)
    for key, state in states.items():
        assert book.get(key) == state


@settings(max_examples=60, deadline=None)
@given(
    history=event_histories(classes=(Sent, Opened, Clicked, SoftBounce, HardBounce)), data=st.data()
)
def test_withheld_and_delivered_is_a_contradiction_in_any_order(
    history: list[ResponseEvent], data: st.DataObject
) -> None:
    if not history:
        return
    delivered = data.draw(st.sampled_from(history))
    withheld = Withheld(
        event_id=EventId("w1"),
        blz=delivered.blz,
        order=delivered.order,
        order_kind=delivered.order_kind,
        mailing=delivered.mailing,
        customer=delivered.customer,
        email=delivered.email,
        at=data.draw(st.sampled_from([delivered.at, T0, T0 + dt.timedelta(days=400)])),
        reason="SPERRLISTE",
    )
    events = data.draw(st.permutations([*history, withheld]))
    book = fold(events)
    state = book[delivered.key]
    assert state.status == "contradiction"
    assert state.contradiction is not None
    assert state.contradiction[0] == EventId("w1")
    same_key = [e for e in history if e.key == delivered.key]
    first = min(same_key, key=lambda e: (e.at, str(e.event_id), e.CODE))
    assert state.contradiction[1] == first.event_id
    assert [c.key for c in book.contradictions()] == [delivered.key]


# -- soft-bounce escalation ---------------------------------------------------------------


def bounces(days: list[float], **extra: Any) -> list[ResponseEvent]:
    return [
        event(SoftBounce, n, T0 + dt.timedelta(days=d), mailing=f"M{n}", **extra)
        for n, d in enumerate(days)
    ]


ESCALATION_CASES = [
    ("5 within 90 days spanning 20", [0, 5, 10, 15, 20], [], True),
    ("4 are not enough", [0, 10, 20, 30], [], False),
    ("5 in one day: one outage", [0, 0.1, 0.2, 0.3, 0.4], [], False),
    ("5 spread over 100 days", [0, 25, 50, 75, 100], [], False),
    ("an open in between resets", [0, 5, 10, 15, 20], [12], False),
    ("an open before counts not", [10, 15, 20, 25, 30], [5], True),
    ("an open after counts not", [0, 5, 10, 15, 20], [21], True),
    ("a reset, then 5 more", [0, 1, 2, 3, 4, 10, 20, 30, 40, 50], [5], True),
    ("an open at the same second as a bounce counts before it", [0, 5, 10, 15, 20], [0], True),
    ("... and so resets a run through it", [0, 5, 10, 15, 20], [5], False),
]


@pytest.mark.parametrize(
    ("days", "opens", "expected"),
    [c[1:] for c in ESCALATION_CASES],
    ids=[c[0] for c in ESCALATION_CASES],
)
def test_default_escalation(days: list[float], opens: list[float], expected: bool) -> None:
    history = bounces(days) + [
        event(Opened, 100 + n, T0 + dt.timedelta(days=d), mailing="X") for n, d in enumerate(opens)
    ]
    for order in (history, history[::-1]):
        book = fold(order)
        assert book.escalated("anna@example.de") is expected
        assert book.escalated(EmailAddress("Anna@EXAMPLE.de")) is expected
        assert fast(order).escalated("anna@example.de") is expected


def test_escalation_names_the_run_and_its_time() -> None:
    history = bounces([0, 16, 17, 18, 19, 20, 200])
    book = fold(history)
    [found] = book.escalations()
    assert found.address == "anna@example.de"
    assert found.at == T0 + dt.timedelta(days=19)  # 5th bounce: span 19 days >= 15
    assert [str(b.event_id) for b in found.bounces] == ["e0", "e1", "e2", "e3", "e4"]
    assert found.recipients == ((BLZ, EmailAddress("anna@example.de"), CustomerNumber(4711)),)


def test_without_reset_an_open_does_not_break_the_run() -> None:
    history = [*bounces([0, 5, 10, 15, 20]), event(Opened, 99, T0 + dt.timedelta(days=12))]
    book = fold(history)
    assert not book.escalated("anna@example.de")
    assert book.escalated("anna@example.de", SoftBouncePolicy(reset_on_engagement=False))


def test_escalation_counts_per_address_across_customers_and_case() -> None:
    history = bounces([0, 5, 10], email="Anna@example.de") + [
        event(
            SoftBounce,
            10 + n,
            T0 + dt.timedelta(days=d),
            mailing=f"N{n}",
            customer=9,
            email="ANNA@Example.DE",
        )
        for n, d in enumerate([15, 20])
    ]
    book = fold(history)
    found = book.escalation("anna@example.de")
    assert found is not None
    assert {str(r[2]) for r in found.recipients} == {"0000004711", "0000000009"}
    assert book.escalation("other@example.de") is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 0},
        {"min_span": dt.timedelta(days=-1)},
        {"window": dt.timedelta(days=1), "min_span": dt.timedelta(days=2)},
        {"threshold": 1},
    ],
)
def test_bad_policies_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        SoftBouncePolicy(**kwargs)


def brute_force_escalated(
    stamps: list[dt.datetime], opens: list[dt.datetime], policy: SoftBouncePolicy
) -> bool:
    times = sorted(stamps)
    for i, j in itertools.combinations_with_replacement(range(len(times)), 2):
        span = times[j] - times[i]
        if j - i + 1 < policy.threshold or not (policy.min_span <= span <= policy.window):
            continue
        if policy.reset_on_engagement and any(times[i] < o <= times[j] for o in opens):
            continue
        return True
    return False


@settings(max_examples=150, deadline=None)
@given(
    bounce_days=st.lists(st.integers(0, 120), max_size=12),
    open_days=st.lists(st.integers(0, 120), max_size=4),
    threshold=st.integers(1, 5),
    window=st.integers(0, 60),
    min_span=st.integers(0, 20),
    reset=st.booleans(),
    data=st.data(),
)
def test_escalation_matches_a_brute_force_model_in_any_order(
    *,
    bounce_days: list[int],
    open_days: list[int],
    threshold: int,
    window: int,
    min_span: int,
    reset: bool,
    data: st.DataObject,
) -> None:
    if threshold == 1:
        min_span = 0
    policy = SoftBouncePolicy(
        threshold=threshold,
        window=dt.timedelta(days=max(window, min_span)),
        min_span=dt.timedelta(days=min_span),
        reset_on_engagement=reset,
    )
    history = bounces([float(d) for d in bounce_days]) + [
        event(Clicked, 100 + n, T0 + dt.timedelta(days=d), mailing="X")
        for n, d in enumerate(open_days)
    ]
    expected = brute_force_escalated(
        [T0 + dt.timedelta(days=d) for d in bounce_days],
        [T0 + dt.timedelta(days=d) for d in open_days],
        policy,
    )
    shuffled = data.draw(st.permutations(history))
    assert fold(shuffled).escalated("anna@example.de", policy) is expected
    assert fast(shuffled).escalated("anna@example.de", policy) is expected


def test_sub_second_times_are_kept_in_order() -> None:
    a = event(Sent, 2, T0 + dt.timedelta(microseconds=5))
    b = event(Opened, 1, T0 + dt.timedelta(microseconds=700))
    book = fold([b, a])
    state = book[a.key]
    assert state.first_delivery is not None
    assert state.first_delivery.at == a.at
    assert _row(a)[4] == "20260105080000.000005"


# -- the benchmark runs ---------------------------------------------------------------------


def test_benchmark_smoke(
    capsys: pytest.CaptureFixture[str], load_benchmark: Callable[[str], ModuleType]
) -> None:
    module = load_benchmark("bench_fold")
    assert module.main(["--events", "3000"]) == 0
    out = capsys.readouterr().out
    assert "records/s" in out
    assert "ratio" in out
    rows = module.generate(3000)
    assert len(rows) == 3000
    assert fold_rows(rows, blz=BLZ) == fold_rows(reversed(rows), blz=BLZ)
