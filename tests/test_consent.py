"""The consent ledger: the decision rules of BEHAVIOUR.md ("Consent and suppression") as a
table, their independence of arrival order and duplicates (checked against an independently
written oracle), the append-only ledger, response mapping and the CONS sync."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emma_osplus import (
    Blz,
    CustomerNumber,
    EventId,
    InvalidValueError,
    MailingId,
    Mode,
    OrderNumber,
    Record,
    RecordError,
    Rejected,
)
from emma_osplus._consent import (
    RESPONSE_MAPPING,
    ConsentEvent,
    ConsentKind,
    ConsentLedger,
    ConsentPolicy,
    ConsentSource,
    DecisionReason,
    consent_events_from_responses,
    decide,
    event_from_change,
    import_cons,
)
from emma_osplus._email import EmailAddress
from emma_osplus._events import Clicked, HardBounce, Opened, SoftBounce, Unsubscribed
from emma_osplus._messages import Message
from emma_osplus.testing._consent import (
    consent_events,
    consent_ledgers,
    consent_times,
    pool_addresses,
    pool_customers,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def t(hour: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hour)


C, U, W, H = "EINWILLIGUNG", "ABMELDUNG", "WIDERSPRUCH", "HARTBOUNCE"
A, B = "anna@example.de", "bernd@example.de"
PROOF = "DOI bestätigt"


def ev(kind: str, hour: int, evidence: str = "", customer: int = 1, email: str = A) -> ConsentEvent:
    return ConsentEvent(customer, email, kind, t(hour), "FILIALE", evidence)


# -- the rules as a table ------------------------------------------------------------------
# (id, events, query (customer, address, hour), require_consent, expected reason, index of
# the deciding event in `events` or None)
RULES: list[tuple[str, list[ConsentEvent], tuple[int, str, int], bool, str, int | None]] = [
    ("nothing, consent required", [], (1, A, 5), True, "KEINE_EINWILLIGUNG", None),
    ("nothing, consent not required", [], (1, A, 5), False, "KEINE_SPERRE", None),
    ("consent alone", [ev(C, 1)], (1, A, 5), True, "EINWILLIGUNG", 0),
    ("consent without evidence alone counts", [ev(C, 1, "")], (1, A, 5), True, "EINWILLIGUNG", 0),
    ("unsubscribe alone", [ev(U, 1)], (1, A, 5), True, "SPERRLISTE", 0),
    ("unsubscribe alone, consent not required", [ev(U, 1)], (1, A, 5), False, "SPERRLISTE", 0),
    ("later unsubscribe decides", [ev(C, 1, PROOF), ev(U, 2)], (1, A, 5), True, "SPERRLISTE", 1),
    ("later consent with evidence lifts unsubscribe", [ev(U, 1), ev(C, 2, PROOF)], (1, A, 5), True, "EINWILLIGUNG", 1),
    ("later consent without evidence does not lift", [ev(U, 1), ev(C, 2)], (1, A, 5), True, "SPERRLISTE", 0),
    ("blank evidence is no evidence", [ev(U, 1), ev(C, 2, "   ")], (1, A, 5), True, "SPERRLISTE", 0),
    ("consent at the same time as unsubscribe loses", [ev(U, 2), ev(C, 2, PROOF)], (1, A, 5), True, "SPERRLISTE", 0),
    ("later consent with evidence lifts objection", [ev(W, 1), ev(C, 2, PROOF)], (1, A, 5), True, "EINWILLIGUNG", 1),
    ("later consent without evidence keeps objection", [ev(W, 1), ev(C, 3)], (1, A, 5), True, "SPERRLISTE", 0),
    ("equal times: objection beats unsubscribe", [ev(U, 2), ev(W, 2)], (1, A, 5), True, "SPERRLISTE", 1),
    ("equal times: unsubscribe beats hard bounce", [ev(H, 2), ev(U, 2)], (1, A, 5), True, "SPERRLISTE", 1),
    ("equal times: hard bounce beats consent", [ev(C, 2, PROOF), ev(H, 2)], (1, A, 5), True, "HARTBOUNCE", 1),
    ("equal times: objection beats consent", [ev(C, 2, PROOF), ev(W, 2)], (1, A, 5), True, "SPERRLISTE", 1),
    ("later unsubscribe after objection decides", [ev(W, 1), ev(U, 2)], (1, A, 5), True, "SPERRLISTE", 1),
    ("hard bounce", [ev(C, 1, PROOF), ev(H, 2)], (1, A, 5), True, "HARTBOUNCE", 1),
    ("consent without evidence does not lift hard bounce", [ev(H, 1), ev(C, 2)], (1, A, 5), True, "HARTBOUNCE", 0),
    ("consent with evidence lifts hard bounce", [ev(H, 1), ev(C, 2, PROOF)], (1, A, 5), True, "EINWILLIGUNG", 1),
    ("re-unsubscribe after lifting", [ev(U, 1), ev(C, 2, PROOF), ev(U, 3)], (1, A, 5), True, "SPERRLISTE", 2),
    ("events after the moment do not count", [ev(C, 1, PROOF), ev(U, 3)], (1, A, 2), True, "EINWILLIGUNG", 0),
    ("an event at the moment counts", [ev(C, 1, PROOF), ev(U, 3)], (1, A, 3), True, "SPERRLISTE", 1),
    ("address unsubscribed under another customer", [ev(C, 1, PROOF, customer=2), ev(U, 2)], (2, A, 5), True, "SPERRLISTE", 1),
    ("customer unsubscribed under another address", [ev(C, 1, PROOF, email=B), ev(U, 2)], (1, B, 5), True, "SPERRLISTE", 1),
    ("hard bounce on another address does not block", [ev(C, 1, PROOF, email=B), ev(H, 2)], (1, B, 5), True, "EINWILLIGUNG", 0),
    ("hard bounce of the address under another customer", [ev(C, 1, PROOF, customer=2), ev(H, 2)], (2, A, 5), True, "HARTBOUNCE", 1),
    ("another customer's consent is not this customer's", [ev(C, 1, PROOF, customer=2)], (1, A, 5), True, "KEINE_EINWILLIGUNG", None),
    ("another customer's consent, not required", [ev(C, 1, PROOF, customer=2)], (1, A, 5), False, "KEINE_SPERRE", 0),
    ("matching key: case and IDNA", [ev(C, 1, PROOF, email="Anna@Bücher.de"), ev(U, 2, email="ANNA@xn--bcher-kva.de")], (1, "anna@BÜCHER.de", 5), True, "SPERRLISTE", 1),
    ("other customer's later proven consent does not lift mine", [ev(C, 0, PROOF), ev(U, 1), ev(C, 2, PROOF, customer=2)], (1, A, 5), True, "SPERRLISTE", 1),
    ("other customer's later proven consent lifts the address for them", [ev(U, 1), ev(C, 2, PROOF, customer=2)], (2, A, 5), True, "EINWILLIGUNG", 1),
    ("both streams restrict: unsubscribe reported before hard bounce", [ev(C, 0, PROOF, email=B), ev(U, 1, email=B), ev(H, 2, customer=2)], (1, A, 5), True, "SPERRLISTE", 1),
    ("proven consent for a new address lifts the customer, not the old address", [ev(U, 1, email=B), ev(C, 2, PROOF)], (1, B, 5), True, "SPERRLISTE", 0),
    ("proven consent for a new address allows the new address", [ev(U, 1, email=B), ev(C, 2, PROOF)], (1, A, 5), True, "EINWILLIGUNG", 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("events", "query", "require", "reason", "deciding"),
    [pytest.param(*case[1:], id=case[0]) for case in RULES],
)
def test_decision_rules(
    events: list[ConsentEvent],
    query: tuple[int, str, int],
    require: bool,
    reason: str,
    deciding: int | None,
) -> None:
    customer, address, hour = query
    policy = ConsentPolicy(require_consent=require)
    for order in (events, events[::-1]):
        decision = ConsentLedger(order).may_send(customer, address, t(hour), policy=policy)
        assert decision.reason.value == reason
        assert decision.allowed is DecisionReason(reason).allowed
        assert decision.deciding_event == (None if deciding is None else events[deciding])


def test_default_policy_requires_consent() -> None:
    assert ConsentPolicy().require_consent is True
    assert ConsentLedger().may_send(1, A, t(0)).reason is DecisionReason.NO_CONSENT


def test_withheld_reason_words() -> None:
    assert {r.withheld_reason for r in DecisionReason} == {
        None,
        "SPERRLISTE",
        "HARTBOUNCE",
        "KEINE_EINWILLIGUNG",
    }


# -- order independence, checked against an oracle -------------------------------------------


def _blocked(stream: list[ConsentEvent], at: dt.datetime) -> bool:
    """The rules restated: a stream is blocked when some restriction at or before *at* is
    followed by no strictly later consent with evidence (at or before *at*)."""
    past = [e for e in stream if e.at <= at]
    return any(
        not any(c.kind is ConsentKind.CONSENT and c.evidence.strip() and r.at < c.at for c in past)
        for r in past
        if r.kind is not ConsentKind.CONSENT
    )


def oracle_allowed(
    events: list[ConsentEvent], customer: CustomerNumber, key: str, at: dt.datetime, require: bool
) -> bool:
    mine = [e for e in events if e.customer == customer and e.kind is not ConsentKind.HARD_BOUNCE]
    address = [e for e in events if e.address_key == key]
    if _blocked(mine, at) or _blocked(address, at):
        return False
    return not require or any(e.kind is ConsentKind.CONSENT and e.at <= at for e in mine)


@settings(max_examples=300, deadline=None)
@given(
    events=st.lists(consent_events(), max_size=12),
    customer=pool_customers(),
    address=pool_addresses(),
    at=consent_times(hours=7),
    require=st.booleans(),
    seed=st.randoms(use_true_random=False),
)
def test_decision_independent_of_order_and_duplicates(
    *,
    events: list[ConsentEvent],
    customer: CustomerNumber,
    address: str,
    at: dt.datetime,
    require: bool,
    seed: random.Random,
) -> None:
    policy = ConsentPolicy(require_consent=require)
    reference = ConsentLedger(events).may_send(customer, address, at, policy=policy)
    shuffled = events * 2
    seed.shuffle(shuffled)
    other = ConsentLedger().extend(shuffled)
    assert other == ConsentLedger(events)
    assert other.may_send(customer, address, at, policy=policy) == reference
    key = EmailAddress(address).matching_key
    assert reference.allowed is oracle_allowed(events, customer, key, at, require)
    if reference.deciding_event is not None:
        assert reference.deciding_event in events
        assert reference.deciding_event.at <= at


@settings(max_examples=50, deadline=None)
@given(events=st.lists(consent_events(), max_size=6))
def test_every_permutation_gives_the_same_decisions(events: list[ConsentEvent]) -> None:
    queries = [
        (c, a, t(h))
        for c in (4711, 4712)
        for a in ("anna@example.de", "info@bücher.de")
        for h in (2, 6)
    ]
    expected = [ConsentLedger(events).may_send(*q) for q in queries]
    for permutation in itertools.islice(itertools.permutations(events), 120):
        ledger = ConsentLedger(permutation)
        assert [ledger.may_send(*q) for q in queries] == expected


def test_decide_ignores_duplicates_in_streams() -> None:
    unsub, proof = ev(U, 1), ev(C, 2, PROOF)
    assert decide([unsub, proof, unsub], [proof, unsub, proof]) == decide(
        [unsub, proof], [unsub, proof]
    )


# -- the ledger as a value -------------------------------------------------------------------


def test_append_returns_new_ledger_and_keeps_the_old_one() -> None:
    empty = ConsentLedger()
    one = empty.append(ev(U, 1))
    two = one.append(ev(C, 2, PROOF))
    assert (len(empty), len(one), len(two)) == (0, 1, 2)
    assert ev(C, 2, PROOF) not in one
    assert one.may_send(1, A, t(5)).reason is DecisionReason.BLOCKED
    assert two.may_send(1, A, t(5)).reason is DecisionReason.CONSENT


def test_same_event_twice_changes_nothing() -> None:
    one = ConsentLedger().append(ev(U, 1))
    assert one.append(ev(U, 1)) is one
    assert ConsentLedger([ev(U, 1), ev(U, 1)]) == one


def test_events_differing_in_any_field_are_different() -> None:
    base = ev(U, 1, "x")
    variants = [
        attrs.evolve(base, customer=CustomerNumber(2)),
        attrs.evolve(base, email=EmailAddress(B)),
        attrs.evolve(base, kind=ConsentKind.OBJECTION),
        attrs.evolve(base, at=t(2)),
        attrs.evolve(base, source=ConsentSource.BRIEF),
        attrs.evolve(base, evidence="y"),
    ]
    assert len(ConsentLedger([base, *variants])) == 7


def test_same_instant_in_another_offset_is_the_same_event() -> None:
    utc = ev(U, 1)
    cet = attrs.evolve(utc, at=utc.at.astimezone(dt.timezone(dt.timedelta(hours=1))))
    assert ConsentLedger([utc, cet]) == ConsentLedger([utc])


def test_appending_to_an_older_ledger_forks() -> None:
    base = ConsentLedger([ev(C, 0, PROOF)])
    left = base.append(ev(U, 1))
    right = base.append(ev(W, 2))
    again = base.append(ev(U, 1))
    assert ev(W, 2) not in left
    assert ev(U, 1) not in right
    assert again == left
    assert len(base) == 1
    assert right.may_send(1, A, t(5)).deciding_event == ev(W, 2)
    assert left.may_send(1, A, t(5)).deciding_event == ev(U, 1)


@given(ledger=consent_ledgers(), extra=st.lists(consent_events(), max_size=5))
def test_ledger_only_grows(ledger: ConsentLedger, extra: list[ConsentEvent]) -> None:
    grown = ledger.extend(extra)
    assert all(e in grown for e in ledger)
    assert all(e in grown for e in extra)
    assert len(grown) == len(set(ledger) | set(extra))
    assert set(grown.since(ledger)) == set(extra) - set(ledger)


@given(ledger=consent_ledgers())
def test_iteration_and_history_are_in_time_order(ledger: ConsentLedger) -> None:
    events = list(ledger)
    assert [e.sort_key for e in events] == sorted(e.sort_key for e in events)
    for customer in {e.customer for e in events}:
        history = ledger.history(customer)
        assert set(history) == {e for e in events if e.customer == customer}
        assert [e.at for e in history] == sorted(e.at for e in history)


def test_history_answers_who_when_where_with_what() -> None:
    ledger = ConsentLedger(
        [
            ConsentEvent(1, A, C, t(0), "WEBFORMULAR", "DOI 08:00"),
            ConsentEvent(1, A, U, t(3), "ESP_LINK", "EMMA AB LINK"),
            ConsentEvent(2, A, W, t(2), "BRIEF", "Brief vom 31.10."),
            ConsentEvent(1, B, W, t(1), "TELEFON", "Anruf, Frau Meier"),
        ]
    )
    assert [
        (str(e.email), e.kind.value, e.source.value, e.evidence) for e in ledger.history(1)
    ] == [
        (A, C, "WEBFORMULAR", "DOI 08:00"),
        (B, W, "TELEFON", "Anruf, Frau Meier"),
        (A, U, "ESP_LINK", "EMMA AB LINK"),
    ]
    assert [e.customer.value for e in ledger.address_history("ANNA@example.de")] == [
        "0000000001",
        "0000000002",
        "0000000001",
    ]
    assert ledger.history(3) == ()


def test_ledger_refuses_what_is_not_an_event() -> None:
    with pytest.raises(TypeError):
        ConsentLedger().append({"KUNDENNUMMER": "1"})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ConsentLedger(["x"])  # type: ignore[list-item]


def test_may_send_refuses_a_naive_time() -> None:
    with pytest.raises(InvalidValueError) as info:
        ConsentLedger().may_send(1, A, dt.datetime(2026, 11, 1))
    assert info.value.code == "E205"


# -- the event ---------------------------------------------------------------------------------

INVALID_EVENTS: list[tuple[dict[str, Any], str, str]] = [
    ({"customer": "12345678901"}, "E202", "KUNDENNUMMER"),
    ({"customer": "47a1"}, "E202", "KUNDENNUMMER"),
    ({"email": "anna@@example.de"}, "E201", "EMAIL"),
    ({"email": ""}, "E208", "EMAIL"),
    ({"kind": "OPT_IN"}, "E207", "STATUS"),
    ({"source": "EMAIL"}, "E207", "QUELLE"),
    ({"at": dt.datetime(2026, 11, 1)}, "E205", "ZEITPUNKT"),
    ({"at": "2026-11-01T08:00:00+00:00"}, "E205", "ZEITPUNKT"),
    ({"evidence": "x" * 501}, "E206", "NACHWEIS"),
    ({"evidence": None}, "E209", "NACHWEIS"),
]


@pytest.mark.parametrize(("change", "code", "field"), INVALID_EVENTS)
def test_invalid_event_is_refused_with_code_and_column(
    change: dict[str, Any], code: str, field: str
) -> None:
    args: dict[str, Any] = {
        "customer": 1,
        "email": A,
        "kind": U,
        "at": t(0),
        "source": "BRIEF",
        "evidence": "",
    }
    args.update(change)
    with pytest.raises(InvalidValueError) as info:
        ConsentEvent(**args)
    assert (info.value.code, info.value.message.field) == (code, field)


def test_evidence_of_500_characters_is_kept() -> None:
    assert len(ev(U, 0, "x" * 500).evidence) == 500


def test_repr_masks_the_address() -> None:
    event = ConsentEvent(
        1, "anna.schmidt@example.de", W, t(0), "BRIEF", "Brief von anna.schmidt@example.de"
    )
    assert "anna.schmidt" not in repr(event)
    assert "a***@example.de" in repr(event)


def test_kind_and_source_words_are_the_cons_words() -> None:
    assert [k.value for k in ConsentKind] == [C, U, W, H]
    assert [k.restrictiveness for k in ConsentKind] == [0, 2, 3, 1]
    assert [s.value for s in ConsentSource] == [
        "ESP_LINK",
        "ESP_LISTUNSUB",
        "ESP_BESCHWERDE",
        "FILIALE",
        "TELEFON",
        "BRIEF",
        "WEBFORMULAR",
        "OSPLUS",
    ]


# -- from response events ----------------------------------------------------------------------


def _response(cls: type, **extra: Any) -> Any:
    return cls(
        event_id=EventId("evt-1"),
        blz=Blz("37050198"),
        order=OrderNumber("K2026001"),
        order_kind="KMM",
        mailing=MailingId("M-1"),
        customer=CustomerNumber(4711),
        email=EmailAddress("Anna@Example.de"),
        at=t(1),
        **extra,
    )


@pytest.mark.parametrize(
    ("source", "kind", "consent_source"),
    [
        ("LINK", "ABMELDUNG", "ESP_LINK"),
        ("LISTUNSUB", "ABMELDUNG", "ESP_LISTUNSUB"),
        ("PROFIL", "ABMELDUNG", "ESP_LINK"),
        ("BESCHWERDE", "WIDERSPRUCH", "ESP_BESCHWERDE"),
        ("MANUELL", "ABMELDUNG", "FILIALE"),
    ],
)
def test_unsubscribe_response_mapping(source: str, kind: str, consent_source: str) -> None:
    [event] = consent_events_from_responses([_response(Unsubscribed, source=source)])
    assert (event.kind.value, event.source.value) == (kind, consent_source)
    assert (event.customer, event.address_key, event.at) == (
        CustomerNumber(4711),
        "anna@example.de",
        t(1),
    )
    assert event.evidence.startswith(f"EMMA AB {source}; Ereignis evt-1;")


def test_mapping_covers_every_unsubscribe_source() -> None:
    from emma_osplus._events import UNSUBSCRIBE_SOURCES

    assert set(RESPONSE_MAPPING) == set(UNSUBSCRIBE_SOURCES)


def test_hard_bounce_response_and_others_skipped() -> None:
    events = [
        _response(Opened),
        _response(Clicked, link="L1"),
        _response(SoftBounce, status="4.2.2", diagnostic="mailbox full"),
        _response(HardBounce, status="5.1.1", diagnostic="550 5.1.1 user unknown"),
    ]
    [event] = consent_events_from_responses(events)
    assert event.kind is ConsentKind.HARD_BOUNCE
    assert event.evidence.startswith("EMMA HB 5.1.1 550 5.1.1 user unknown; Ereignis evt-1")


def test_long_diagnostic_is_cut_visibly_and_fits() -> None:
    bounce = _response(HardBounce, status="5.0.0", diagnostic="x" * 600)
    [event] = consent_events_from_responses([bounce])
    assert "[gekürzt]" in event.evidence
    assert len(event.evidence) <= 500


# -- CONS import -------------------------------------------------------------------------------


def cons_row(kind: str = U, hour: int = 1, evidence: str = "", **over: str) -> dict[str, str]:
    row = {
        "KUNDENNUMMER": "4711",
        "EMAIL": A,
        "STATUS": kind,
        "ZEITPUNKT": t(hour).astimezone(dt.timezone(dt.timedelta(hours=1))).isoformat(),
        "QUELLE": "TELEFON",
        "NACHWEIS": evidence,
    }
    row.update(over)
    return row


def test_import_is_idempotent_and_reports_counts() -> None:
    rows = [cons_row(C, 0, PROOF), cons_row(U, 1), cons_row(U, 1)]
    ledger, report = import_cons(ConsentLedger(), rows)
    assert (report.new, report.duplicates, report.rejected, report.total) == (2, 1, (), 3)
    again, report = import_cons(ledger, rows)
    assert again is ledger
    assert (report.new, report.duplicates) == (0, 3)


def test_import_accepts_records_events_and_change_objects() -> None:
    record = Record(line=2, values=cons_row(W, 2), raw="…")

    @attrs.frozen
    class Change:
        customer: str
        email: str
        status: str
        time: dt.datetime
        source: str
        evidence: str

    change = Change("4711", A, "EINWILLIGUNG", t(3), "WEBFORMULAR", PROOF)
    ledger, report = import_cons(ConsentLedger(), [record, ev(U, 1, customer=4711), change])
    assert report.new == 3
    assert ledger.may_send(4711, A, t(5)).reason is DecisionReason.CONSENT
    assert ledger.may_send(4711, A, t(2)).deciding_event == event_from_change(record)


BAD_ROWS = [
    (cons_row(KUNDENNUMMER="x1"), "E202", "KUNDENNUMMER"),
    (cons_row(EMAIL="kein-at"), "E201", "EMAIL"),
    (cons_row(STATUS="OPTOUT"), "E207", "STATUS"),
    (cons_row(ZEITPUNKT="03.11.2026"), "E205", "ZEITPUNKT"),
    (cons_row(ZEITPUNKT="2026-11-03T10:00:00"), "E205", "ZEITPUNKT"),
    (cons_row(QUELLE=""), "E208", "QUELLE"),
    (cons_row(NACHWEIS="n" * 501), "E206", "NACHWEIS"),
    ({k: v for k, v in cons_row().items() if k != "EMAIL"}, "E208", "EMAIL"),
]


@pytest.mark.parametrize(("row", "code", "field"), BAD_ROWS)
def test_bad_rows_strict_raise_lenient_report(row: dict[str, str], code: str, field: str) -> None:
    good = cons_row(C, 0, PROOF)
    with pytest.raises(RecordError) as info:
        import_cons(ConsentLedger(), [good, row])
    assert (info.value.message.code, info.value.message.field, info.value.message.line) == (
        code,
        field,
        2,
    )
    ledger, report = import_cons(ConsentLedger(), [good, row], mode=Mode.LENIENT)
    assert (report.new, report.duplicates) == (1, 0)
    [rejected] = report.rejected
    assert (rejected.index, rejected.row, rejected.message.code) == (1, row, code)
    assert "anna@example.de" not in repr(report)
    assert len(ledger) == 1


def test_rejected_items_of_a_lenient_reader_are_reported() -> None:
    bad = Rejected(
        line=5, raw="4711;x;ABMELDUNG", messages=(Message("E201", line=5, field="EMAIL"),)
    )
    _, report = import_cons(ConsentLedger(), [bad], mode=Mode.LENIENT)
    assert report.rejected[0].message.line == 5
    with pytest.raises(RecordError):
        import_cons(ConsentLedger(), [bad])


def test_import_refuses_what_is_not_a_change() -> None:
    with pytest.raises(TypeError):
        import_cons(ConsentLedger(), [42])


@settings(max_examples=100, deadline=None)
@given(ledger=consent_ledgers(), events=st.lists(consent_events(), max_size=10))
def test_importing_twice_changes_nothing(ledger: ConsentLedger, events: list[ConsentEvent]) -> None:
    once, first = import_cons(ledger, events)
    twice, second = import_cons(once, events)
    assert twice == once
    assert second.new == 0
    assert second.duplicates == len(events)
    assert first.new == len(set(events) - set(ledger))


# -- CONS export and the file round trip -------------------------------------------------------


def test_export_writes_a_cons_file_that_imports_back() -> None:
    from emma_osplus._cons import ConsentChange, read_cons, write_cons
    from emma_osplus._consent import export_cons

    ledger = ConsentLedger(
        [
            ConsentEvent(4711, "Anna@Example.de", U, t(2), "ESP_LINK", "=HYPERLINK(...) evt-1"),
            ConsentEvent(4711, "anna@example.de", C, t(1), "WEBFORMULAR", PROOF),
            ConsentEvent(4712, "info@bücher.de", W, t(3), "BRIEF", ""),
        ]
    )
    changes = export_cons(ledger)
    assert all(isinstance(c, ConsentChange) for c in changes)
    assert [c.status.value for c in changes] == [C, U, W]  # canonical (time) order
    data = write_cons(changes)
    assert b"'=HYPERLINK" in data  # the formula is escaped in the file
    imported, report = import_cons(ConsentLedger(), read_cons(data))
    assert imported == ledger
    assert report.new == 3
    _, again = import_cons(imported, read_cons(data))
    assert (again.new, again.duplicates) == (0, 3)


def test_export_since_a_ledger_or_a_time() -> None:
    from emma_osplus._consent import export_cons

    first = ConsentLedger([ev(C, 5, PROOF)])
    late = ev(U, 1)  # arrives after the first export, with an earlier time
    now = first.append(late).append(ev(W, 6))
    assert [c.status.value for c in export_cons(now, since=first)] == [U, W]
    assert [c.status.value for c in export_cons(now, since=t(5))] == [C, W]
    assert [c.status.value for c in export_cons(now, since=t(6))] == [W]
    assert len(export_cons(now)) == 3
    with pytest.raises(InvalidValueError):
        export_cons(now, since=dt.datetime(2026, 11, 1))


@settings(max_examples=50, deadline=None)
@given(ledger=consent_ledgers())
def test_cons_file_round_trip(ledger: ConsentLedger) -> None:
    from emma_osplus._cons import read_cons, write_cons
    from emma_osplus._consent import export_cons

    data = write_cons(export_cons(ledger))
    imported, report = import_cons(ConsentLedger(), read_cons(data))
    assert imported == ledger
    assert report.new == len(ledger)
    assert write_cons(export_cons(imported)) == data
