"""The simulation: deterministic response events through the real state machines, and the
funnel report they give (issue 8, "Prototyping")."""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emma_osplus import InvalidValueError, Mode, Record
from emma_osplus._campaigns import Campaign, SendBlock, StartBlock, WaitBlock
from emma_osplus._consent import ConsentEvent, ConsentLedger, ConsentPolicy
from emma_osplus._events import Clicked, Opened, Sent, Unsubscribed, Withheld
from emma_osplus._journeys import JourneyPlan, JourneyRun, JourneyStep
from emma_osplus._resp import read_resp
from emma_osplus._responses import SoftBouncePolicy, fold, fold_values
from emma_osplus._simulation import (
    DEFAULT_START,
    SYNTHETIC_COLUMNS,
    Assumptions,
    FunnelReport,
    Rates,
    SimulationResult,
    plan_of,
    simulate,
    synthetic_subscribers,
)
from emma_osplus._subscribers import read_subscriber_list, write_subscriber_list
from emma_osplus.testing._simulation import (
    assumptions,
    rates,
    simulation_plans,
    subscriber_lists,
)

PLAN = JourneyPlan.fixed(["M-WELCOME", "M-APP", "M-CARD"], every=7)
PEOPLE = synthetic_subscribers(120, seed=3)
NONE = Assumptions(open=0, click=0, unsubscribe=0, soft_bounce=0, hard_bounce=0, withheld=0)


def run(people: list[Any] | None = None, plan: Any = PLAN, **kwargs: Any) -> SimulationResult:
    rates_ = kwargs.pop("rates", Assumptions(open=0.4, click=0.3, unsubscribe=0.05))
    return simulate(PEOPLE if people is None else people, plan, rates_, **kwargs)


# -- determinism ---------------------------------------------------------------------------------


def test_same_seed_gives_identical_events_and_report() -> None:
    first, second = run(seed=11), run(seed=11)
    assert first.events == second.events
    assert first.report == second.report
    assert first.run == second.run
    assert first == second
    assert [e.event_id for e in first.events] == [e.event_id for e in second.events]


def test_another_seed_gives_other_events() -> None:
    assert run(seed=1).events != run(seed=2).events


def test_text_seeds_work_too() -> None:
    assert run(seed="Herbst").events == run(seed="Herbst").events


def test_changing_one_rate_keeps_the_other_draws() -> None:
    """Common random numbers: with the click rate raised, exactly the same mails are opened."""
    low = run(rates=Assumptions(open=0.4, click=0.1, unsubscribe=0, hard_bounce=0, soft_bounce=0))
    high = run(rates=Assumptions(open=0.4, click=0.6, unsubscribe=0, hard_bounce=0, soft_bounce=0))
    opened = {(e.customer, e.mailing) for e in low.events if isinstance(e, Opened)}
    assert opened == {(e.customer, e.mailing) for e in high.events if isinstance(e, Opened)}
    clicks_low = {(e.customer, e.mailing) for e in low.events if isinstance(e, Clicked)}
    clicks_high = {(e.customer, e.mailing) for e in high.events if isinstance(e, Clicked)}
    assert clicks_low < clicks_high


# -- the report goes through the real machines ---------------------------------------------------


def test_book_is_the_fold_of_the_events() -> None:
    result = run(seed=5, rates=Assumptions(soft_bounce=0.2, hard_bounce=0.05, unsubscribe=0.05))
    assert fold(result.events) == result.book


def test_events_are_in_time_order_and_writable_to_resp() -> None:
    result = run(seed=5, rates=Assumptions(soft_bounce=0.1, hard_bounce=0.05, withheld=0.05))
    times = [e.at for e in result.events]
    assert times == sorted(times)
    data = result.to_resp(sequence=7)
    items = list(read_resp(data, mode=Mode.STRICT))
    details = [r.values for r in items if isinstance(r, Record) and r.record_type == "R"]
    assert len(details) == len(result.events)
    values = [{k: v for k, v in d.items() if k != "SATZART"} for d in details]
    assert fold_values(values, blz=result.blz) == result.book


def test_report_counts_match_the_events() -> None:
    result = run(seed=9, rates=Assumptions(open=0.5, click=0.5, unsubscribe=0.05, withheld=0.02))
    for step in result.report:
        mine = [e for e in result.events if str(e.mailing) == step.mailing]
        assert step.sent == sum(isinstance(e, Sent) for e in mine)
        assert step.opened == sum(isinstance(e, Opened) for e in mine)
        assert step.clicked == sum(isinstance(e, Clicked) for e in mine)
        assert step.withheld == sum(isinstance(e, Withheld) for e in mine)
        assert step.unsubscribed == sum(isinstance(e, Unsubscribed) for e in mine)


def test_records_are_plain_dicts() -> None:
    records = run(seed=1).records()
    assert [r["step"] for r in records] == [1, 2, 3]
    assert [r["mailing"] for r in records] == ["M-WELCOME", "M-APP", "M-CARD"]
    assert all(type(v) in (int, str) for r in records for v in r.values())
    assert set(records[0]) == {
        "step", "day", "mailing", "sent", "opened", "clicked", "unsubscribed", "hard_bounced",
        "soft_bounced", "withheld", "left", "still_in_journey",
    }  # fmt: skip


# -- extreme rates: table-driven -----------------------------------------------------------------


def _everyone(**rates_: Any) -> Assumptions:
    return Assumptions(**{"open": 0, "click": 0, "unsubscribe": 0, "soft_bounce": 0,
                             "hard_bounce": 0, "withheld": 0, **rates_})  # fmt: skip


#: rates → sent, opened, clicked and left per step, and how many completed (20 subscribers).
EXTREMES: dict[str, tuple[Assumptions, tuple[list[int], list[int], list[int], list[int], int]]] = {
    "nothing": (_everyone(), ([20, 20, 20], [0, 0, 0], [0, 0, 0], [0, 0, 0], 20)),
    "everyone-clicks": (
        _everyone(open=1, click=1),
        ([20, 20, 20], [20, 20, 20], [20, 20, 20], [0, 0, 0], 20),
    ),
    "everyone-unsubscribes": (
        _everyone(open=1, unsubscribe=1),
        ([20, 0, 0], [20, 0, 0], [0, 0, 0], [20, 0, 0], 0),
    ),
    "everyone-hard-bounces": (
        _everyone(open=1, click=1, hard_bounce=1),
        ([20, 0, 0], [0, 0, 0], [0, 0, 0], [20, 0, 0], 0),
    ),
    "everything-withheld": (
        _everyone(open=1, click=1, withheld=1),
        ([0, 0, 0], [0, 0, 0], [0, 0, 0], [20, 0, 0], 0),
    ),
    "unsubscribe-at-step-2": (
        _everyone(per_step={2: {"unsubscribe": 1.0}}),
        ([20, 20, 0], [0, 0, 0], [0, 0, 0], [0, 20, 0], 0),
    ),
}


@pytest.mark.parametrize(("rates_", "expected"), EXTREMES.values(), ids=EXTREMES.keys())
def test_extreme_rates(
    rates_: Assumptions, expected: tuple[list[int], list[int], list[int], list[int], int]
) -> None:
    sent, opened, clicked, left, completed = expected
    report = simulate(synthetic_subscribers(20, seed=8), PLAN, rates_).report
    assert [s.sent for s in report] == sent
    assert [s.opened for s in report] == opened
    assert [s.clicked for s in report] == clicked
    assert [s.left for s in report] == left
    assert report.completed == completed
    assert report.entered == 20


def test_unsubscribe_after_the_last_step_does_not_change_the_journey() -> None:
    rates_ = Assumptions(open=1, click=0, unsubscribe=0, per_step={3: {"unsubscribe": 1.0}})
    result = simulate(synthetic_subscribers(10, seed=2), PLAN, rates_)
    assert result.report.step(3).unsubscribed == 10
    assert result.report.completed == 10
    assert result.leavers() == {}


def test_soft_bounces_escalate_through_the_policy() -> None:
    plan = JourneyPlan.fixed(["M-1", "M-2", "M-3", "M-4"], every=1)
    policy = SoftBouncePolicy(threshold=2, window=dt.timedelta(days=30), min_span=dt.timedelta(0))
    rates_ = Assumptions(open=0, click=0, unsubscribe=0, hard_bounce=0, soft_bounce=1)
    result = simulate(synthetic_subscribers(5, seed=4), plan, rates_, soft_bounce_policy=policy)
    assert [s.sent for s in result.report] == [5, 5, 0, 0]
    assert [s.soft_bounced for s in result.report] == [5, 5, 0, 0]
    assert [s.left for s in result.report] == [0, 5, 0, 0]
    assert result.leavers() == {"hard_bounce": 5}
    assert len(result.escalations) == 5
    assert all(result.book.escalated(e.address, policy) for e in result.escalations)


def test_default_policy_needs_spread_out_soft_bounces() -> None:
    plan = JourneyPlan.fixed(["M-1", "M-2", "M-3", "M-4", "M-5", "M-6"], every=1)
    rates_ = Assumptions(open=0, click=0, unsubscribe=0, hard_bounce=0, soft_bounce=1)
    result = simulate(synthetic_subscribers(3, seed=4), plan, rates_)
    assert result.escalations == ()  # 6 bounces within 5 days: one outage, not a dead address
    assert result.report.completed == 3


# -- targets -------------------------------------------------------------------------------------


def test_a_campaign_is_simulated_by_its_send_blocks() -> None:
    campaign = Campaign(
        "Herbst",
        [StartBlock("Herbst_2026"), SendBlock("M-1"), WaitBlock(3), WaitBlock(2), SendBlock("M-2")],
    )
    assert plan_of(campaign) == JourneyPlan([JourneyStep("M-1", 0), JourneyStep("M-2", 5)])
    result = simulate(synthetic_subscribers(10, seed=1), campaign, NONE)
    assert result.name == "Herbst"
    assert [s.day for s in result.report] == [0, 5]
    sends = sorted({e.at for e in result.events if str(e.mailing) == "M-2"})
    assert sends == [DEFAULT_START + dt.timedelta(days=5)]


@pytest.mark.parametrize(
    "target",
    [
        Campaign("Leer", [StartBlock(), SendBlock("M-1")]),
        Campaign("Ohne", [StartBlock("Liste"), SendBlock()]),
        JourneyPlan([JourneyStep("M-1", 0), JourneyStep(None, 3)]),
        JourneyPlan(),
    ],
)
def test_incomplete_targets_are_refused_like_activation(target: Any) -> None:
    with pytest.raises(InvalidValueError) as caught:
        simulate(PEOPLE, target, NONE)
    assert caught.value.code == "E208"


def test_one_mailing_in_two_steps_is_refused() -> None:
    with pytest.raises(ValueError, match="both send M-1"):
        simulate(PEOPLE, JourneyPlan.fixed(["M-1", "M-1"], every=3), NONE)


def test_overrides_for_steps_the_plan_lacks_are_refused() -> None:
    with pytest.raises(ValueError, match="per_step names step 4"):
        simulate(PEOPLE, PLAN, Assumptions(per_step={4: {"open": 0.1}}))


def test_a_reku_journey_template_gives_reku_events() -> None:
    journey = JourneyRun.from_template("Neukunde Privatgirokonto", PLAN)
    result = simulate(synthetic_subscribers(5, seed=1, occasion="AC120"), journey, NONE)
    assert {e.order_kind for e in result.events} == {"REKU"}
    assert result.name == "Neukunde Privatgirokonto"
    assert result.run.selection is not None


def test_wrong_target_type() -> None:
    with pytest.raises(TypeError, match="Campaign, JourneyPlan or JourneyRun"):
        simulate(PEOPLE, ["M-1"], NONE)  # type: ignore[arg-type]


# -- input rows ----------------------------------------------------------------------------------


def test_bad_rows_are_skipped_with_their_message_never_dropped() -> None:
    rows: list[Mapping[str, str]] = [
        {"KUNDENNUMMER": "1", "EMAIL": "anna@example.de"},
        {"KUNDENNUMMER": "2", "EMAIL": "kein-at-zeichen"},
        {"KUNDENNUMMER": "", "EMAIL": "b@example.de"},
        {"KUNDENNUMMER": "1", "EMAIL": "c@example.de"},
        {"KUNDENNUMMER": "3", "EMAIL": "d@example.de"},
    ]
    result = simulate(rows, PLAN, NONE)
    assert [(s.index, s.message.code) for s in result.skipped] == [
        (1, "E201"),
        (2, "E208"),
        (3, "E203"),
    ]
    assert result.report.entered == 2
    assert "a***@example.de" not in repr(result.skipped)


def test_records_from_a_reader_work_as_rows() -> None:
    data = write_subscriber_list("KMM", SYNTHETIC_COLUMNS, synthetic_subscribers(15, seed=6))
    records = list(read_subscriber_list(data, "KMM"))
    assert run(records, seed=4).events == run(synthetic_subscribers(15, seed=6), seed=4).events


def test_consent_screening_withholds_at_step_one() -> None:
    at = DEFAULT_START - dt.timedelta(days=10)
    ledger = ConsentLedger([ConsentEvent(1, "a@x.de", "ABMELDUNG", at, "ESP_LINK")])
    rows = [
        {"KUNDENNUMMER": "1", "EMAIL": "a@x.de"},
        {"KUNDENNUMMER": "2", "EMAIL": "b@x.de"},
        {"KUNDENNUMMER": "3", "EMAIL": "B@X.DE"},
    ]
    result = simulate(rows, PLAN, NONE, ledger=ledger, consent_policy=ConsentPolicy(False))
    withheld = {str(e.customer): e.reason for e in result.events if isinstance(e, Withheld)}
    assert withheld == {"0000000001": "SPERRLISTE", "0000000003": "DUPLIKAT"}
    first = result.report.step(1)
    assert (first.sent, first.withheld, first.left, first.still_in_journey) == (1, 2, 2, 1)
    assert result.leavers() == {"withheld": 2}


def test_consent_required_without_consents_withholds_everyone() -> None:
    result = simulate(PEOPLE[:5], PLAN, NONE, ledger=ConsentLedger())
    assert {e.reason for e in result.events if isinstance(e, Withheld)} == {"KEINE_EINWILLIGUNG"}
    assert [s.sent for s in result.report] == [0, 0, 0]


def test_entries_spread_over_days() -> None:
    result = run(seed=3, entry_spread_days=6, rates=NONE)
    entries = {s.entered_at for s in result.run.subscribers.values() if s.entered_at is not None}
    assert min(entries) == DEFAULT_START
    assert max(entries) <= DEFAULT_START + dt.timedelta(days=6)
    assert len(entries) > 1
    for event in result.events:
        sub = result.run.subscriber(event.customer)
        assert sub is not None
        assert sub.entered_at is not None
        step = [str(m) for m in PLAN.mailings].index(str(event.mailing))
        assert event.at == sub.entered_at + dt.timedelta(days=PLAN.offsets[step])


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"start": dt.datetime(2026, 1, 1)}, InvalidValueError),
        ({"entry_spread_days": -1}, ValueError),
        ({"entry_spread_days": 1.5}, TypeError),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        simulate(PEOPLE, PLAN, NONE, **kwargs)


# -- assumptions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"open": 1.5}, ValueError, "open must be from 0 to 1"),
        ({"click": -0.1}, ValueError, "click must be from 0 to 1"),
        ({"open": "0.3"}, TypeError, "open must be a number"),
        ({"open": True}, TypeError, "open must be a number"),
        ({"hard_bounce": 0.6, "soft_bounce": 0.6}, ValueError, "at most 1"),
        ({"per_step": {0: {"open": 0.1}}}, ValueError, "numbered from 1"),
        ({"per_step": {1: {"opened": 0.1}}}, ValueError, "unknown rate 'opened'"),
        ({"per_step": {1: {"hard_bounce": 0.9}}, "soft_bounce": 0.2}, ValueError, "at most 1"),
        ({"open_within": dt.timedelta(0)}, ValueError, "at least a minute"),
    ],
)
def test_assumptions_refuse(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Assumptions(**kwargs)


def test_per_step_overrides() -> None:
    a = Assumptions(open=0.2, per_step={2: Rates(open=0.9, click=0.0)})
    assert a.for_step(1) == Rates(open=0.2)
    assert a.for_step(2).open == 0.9
    assert a.for_step(2).click == 0.0


@settings(max_examples=50, deadline=None)
@given(rates())
def test_rates_strategy_gives_valid_rates(value: Rates) -> None:
    assert value.hard_bounce + value.soft_bounce <= 1.0 + 1e-12


# -- properties ----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    plan=simulation_plans(min_steps=3, max_steps=4, max_interval=4),
    people=subscriber_lists(max_size=25),
    rates_=assumptions(steps=3),
    seed=st.integers(0, 1000),
    spread=st.integers(0, 3),
)
def test_simulation_invariants(
    plan: JourneyPlan, people: list[dict[str, str]], rates_: Assumptions, seed: int, spread: int
) -> None:
    policy = SoftBouncePolicy(threshold=2, window=dt.timedelta(days=20), min_span=dt.timedelta(0))
    result = simulate(
        people, plan, rates_, seed=seed, entry_spread_days=spread, soft_bounce_policy=policy
    )
    report = result.report
    # the funnel is monotonic
    for step in report:
        assert step.clicked <= step.opened <= step.sent
        assert step.bounced <= step.sent
        assert step.unsubscribed <= step.delivered
    # leavers add up: what each step loses is what the next one misses
    assert report.entered == len(people) == report.steps[0].reached
    for before, after in itertools.pairwise(report.steps):
        assert before.still_in_journey == before.reached - before.left
        assert after.reached == before.still_in_journey
    assert report.steps[-1].still_in_journey == report.completed
    assert sum(s.left for s in report) == report.left == sum(result.leavers().values())
    assert report.left + report.completed == report.entered
    # nobody hears from a subscriber after they left, and no step is sent to them
    for subscriber in result.run.subscribers.values():
        if subscriber.state != "left":
            continue
        assert subscriber.left_at is not None
        mine = [e for e in result.events if e.customer == subscriber.customer]
        assert all(e.at <= subscriber.left_at for e in mine)
    # the book is the fold of the events, in any order
    assert fold(reversed(result.events)) == result.book
    # and the same seed gives the same again
    again = simulate(
        people, plan, rates_, seed=seed, entry_spread_days=spread, soft_bounce_policy=policy
    )
    assert again.events == result.events
    assert again.report == result.report


# -- exports -------------------------------------------------------------------------------------


def test_to_dataframe() -> None:
    pandas = pytest.importorskip("pandas")
    result = run(seed=2)
    frame = result.to_dataframe()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.index) == [1, 2, 3]
    assert frame.loc[2, "sent"] == result.report.step(2).sent
    events = result.events_dataframe()
    assert len(events) == len(result.events)
    assert not events["email"].str.contains("@gmx.de").all() or all(
        "***@" in e for e in events["email"]
    )


def test_to_dataframe_without_pandas_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def fake(name: str, package: str | None = None) -> Any:
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", fake)
    report: FunnelReport = run(seed=2).report
    with pytest.raises(ImportError, match=r"pip install 'emma-osplus\[pandas\]'"):
        report.to_dataframe()


def test_event_records_mask_addresses_unless_asked() -> None:
    result = run(seed=2)
    masked = result.event_records()
    shown = result.event_records(show_addresses=True)
    assert all("***@" in r["email"] for r in masked)
    assert {r["email"] for r in shown} <= {p["EMAIL"] for p in PEOPLE}
    assert {r["step"] for r in masked} == {1, 2, 3}


# -- synthetic subscribers -----------------------------------------------------------------------


def test_synthetic_subscribers_are_deterministic_unique_and_german() -> None:
    rows = synthetic_subscribers(400, seed=9)
    assert rows == synthetic_subscribers(400, seed=9)
    assert rows != synthetic_subscribers(400, seed=10)
    assert len({r["KUNDENNUMMER"] for r in rows}) == 400
    assert len({r["EMAIL"].lower() for r in rows}) == 400
    text = "".join(r["VORNAME"] + r["NACHNAME"] + r["STRASSE"] + r["ORT"] for r in rows)
    assert {"ä", "ö", "ü", "ß"} <= set(text)
    assert {r["ANREDE"] for r in rows} <= {"Frau", "Herr", "Divers"}
    assert all(list(r) == list(SYNTHETIC_COLUMNS) for r in rows)


def test_synthetic_subscribers_make_a_valid_reku_file() -> None:
    rows = synthetic_subscribers(300, seed=5, occasion="AG002")
    columns = [*SYNTHETIC_COLUMNS, "ANLASS", "ANLASS_DATUM"]
    data = write_subscriber_list("REKU", columns, rows)
    reader = read_subscriber_list(data, "REKU", mode=Mode.STRICT)
    records = list(reader)
    assert len(records) == 300
    assert all(not r.messages for r in records if hasattr(r, "messages"))
    assert {r["ANLASS"] for r in rows} == {"MCAG002"}
    assert reader.encoding is not None
    assert reader.encoding.name == "windows-1252"


@pytest.mark.parametrize("n", [-1, 1.5, True])
def test_synthetic_subscribers_refuse_bad_sizes(n: Any) -> None:
    with pytest.raises(ValueError, match="whole number"):
        synthetic_subscribers(n)


def test_empty_list() -> None:
    result = simulate([], PLAN, NONE)
    assert result.events == ()
    assert [s.sent for s in result.report] == [0, 0, 0]
    assert result.report.entered == 0
