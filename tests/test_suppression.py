"""Suppression: the ledger applied to a subscriber list partitions it into rows to send and
withheld rows (with their ZH reason), nothing dropped; a stateful test interleaves deliveries,
responses, CONS imports and manual entries and checks after every step that no suppressed
address is in a send set."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from emma_osplus import Blz, CustomerNumber, EventId, MailingId, OrderNumber, Record
from emma_osplus._cons import ConsentChange, read_cons, write_cons
from emma_osplus._consent import (
    ConsentEvent,
    ConsentKind,
    ConsentLedger,
    ConsentPolicy,
    consent_events_from_responses,
    import_cons,
)
from emma_osplus._email import EmailAddress
from emma_osplus._events import HardBounce, Opened, Unsubscribed, Withheld
from emma_osplus._suppression import (
    SuppressionResult,
    ToSend,
    WithheldReason,
    WithheldRow,
    read_row,
    screen,
    suppress,
    withheld_responses,
)
from emma_osplus.testing._consent import consent_events, consent_ledgers, pool_addresses

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
PROOF = "Formular 17"


def t(hour: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hour)


def row(customer: object, email: object, **extra: str) -> dict[str, Any]:
    return {"KUNDENNUMMER": customer, "EMAIL": email, **extra}


LEDGER = ConsentLedger(
    [
        ConsentEvent(1, "a@x.de", "EINWILLIGUNG", t(0), "FILIALE", PROOF),
        ConsentEvent(2, "b@x.de", "EINWILLIGUNG", t(0), "FILIALE", PROOF),
        ConsentEvent(2, "b@x.de", "ABMELDUNG", t(1), "ESP_LINK"),
        ConsentEvent(3, "c@x.de", "EINWILLIGUNG", t(0), "FILIALE", PROOF),
        ConsentEvent(3, "c@x.de", "HARTBOUNCE", t(2), "ESP_LINK", "5.1.1"),
        ConsentEvent(4, "d@x.de", "EINWILLIGUNG", t(0), "FILIALE", PROOF),
        ConsentEvent(4, "d@x.de", "WIDERSPRUCH", t(2), "ESP_BESCHWERDE"),
        ConsentEvent(5, "e@x.de", "EINWILLIGUNG", t(0), "FILIALE", PROOF),
        ConsentEvent(6, "a@x.de", "EINWILLIGUNG", t(0), "FILIALE", PROOF),
    ]
)

# (id, rows, expected per row: None = sent, else the ZH reason)
CASES: list[tuple[str, list[dict[str, Any]], list[str | None]]] = [
    ("consent", [row(1, "a@x.de")], [None]),
    ("unsubscribed", [row(2, "b@x.de")], ["SPERRLISTE"]),
    ("objected", [row(4, "d@x.de")], ["SPERRLISTE"]),
    ("hard bounce", [row(3, "c@x.de")], ["HARTBOUNCE"]),
    ("no consent", [row(9, "z@x.de")], ["KEINE_EINWILLIGUNG"]),
    ("unsubscribed address under another customer", [row(5, "B@X.DE")], ["SPERRLISTE"]),
    ("unsubscribed customer with a new address", [row(2, "new@x.de")], ["SPERRLISTE"]),
    ("bounced address under another customer", [row(5, "c@x.de")], ["HARTBOUNCE"]),
    ("same address twice: the first is sent", [row(1, "a@x.de"), row(6, "A@x.de")], [None, "DUPLIKAT"]),
    ("same address three times", [row(1, "a@x.de"), row(6, "a@x.de"), row(1, "a@X.de")], [None, "DUPLIKAT", "DUPLIKAT"]),
    ("a withheld first row does not count as the send", [row(9, "a@x.de"), row(1, "a@x.de")], ["KEINE_EINWILLIGUNG", None]),
    ("duplicate of a suppressed address keeps its own reason", [row(2, "b@x.de"), row(5, "b@x.de")], ["SPERRLISTE", "SPERRLISTE"]),
    ("invalid address", [row(1, "a@@x.de")], ["UNGUELTIG"]),
    ("invalid customer number", [row("12345678901", "a@x.de")], ["UNGUELTIG"]),
    ("missing address", [{"KUNDENNUMMER": "1"}], ["UNGUELTIG"]),
    ("empty customer number", [row("", "a@x.de")], ["UNGUELTIG"]),
    ("mixed", [row(1, "a@x.de"), row(2, "b@x.de"), row(5, "e@x.de"), row(9, "q@x.de")], [None, "SPERRLISTE", None, "KEINE_EINWILLIGUNG"]),
]  # fmt: skip


@pytest.mark.parametrize(("rows", "expected"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_suppression_table(rows: list[dict[str, Any]], expected: list[str | None]) -> None:
    verdicts = list(screen(rows, LEDGER, at=t(5)))
    assert [None if isinstance(v, ToSend) else v.reason.value for v in verdicts] == expected
    result = suppress(rows, LEDGER, at=t(5))
    assert result.to_send == [r for r, e in zip(rows, expected, strict=True) if e is None]
    assert [w.index for w in result.withheld] == [i for i, e in enumerate(expected) if e]


def test_deciding_event_and_message_are_carried() -> None:
    result = suppress([row(2, "b@x.de"), row(1, "bad"), row(9, "z@x.de")], LEDGER, at=t(5))
    blocked, invalid, no_consent = result.withheld
    assert blocked.deciding_event == ConsentEvent(2, "b@x.de", "ABMELDUNG", t(1), "ESP_LINK")
    assert blocked.decision is not None
    assert not blocked.decision.allowed
    assert invalid.message is not None
    assert invalid.message.code == "E201"
    assert (invalid.reportable, no_consent.reportable) == (False, True)
    assert no_consent.deciding_event is None
    assert result.counts == {"send": 0, "SPERRLISTE": 1, "UNGUELTIG": 1, "KEINE_EINWILLIGUNG": 1}


def test_policy_without_consent_requirement() -> None:
    rows = [row(9, "z@x.de"), row(2, "b@x.de")]
    result = suppress(rows, LEDGER, at=t(5), policy=ConsentPolicy(require_consent=False))
    assert result.to_send == [rows[0]]
    assert [w.reason for w in result.withheld] == [WithheldReason.SPERRLISTE]


def test_moment_of_delivery_decides() -> None:
    assert suppress([row(2, "b@x.de")], LEDGER, at=t(0)).to_send == [row(2, "b@x.de")]


def test_records_are_supported_with_and_without_typed_values() -> None:
    plain = Record(line=2, values={"KUNDENNUMMER": "0000000001", "EMAIL": "a@x.de"}, raw="…")
    typed = Record(
        line=3,
        values={"KUNDENNUMMER": "0000000002", "EMAIL": "b@x.de"},
        raw="…",
        typed={"KUNDENNUMMER": CustomerNumber(2), "EMAIL": EmailAddress("b@x.de")},
    )
    result = suppress([plain, typed], LEDGER, at=t(5))
    assert result.to_send == [plain]
    assert result.withheld[0].row is typed
    assert "b@x.de" not in repr(result.withheld[0])


def test_read_row_finds_columns_case_insensitively_and_refuses_other_types() -> None:
    assert read_row({" email ": "a@x.de", "Kundennummer": 7})[0] == CustomerNumber(7)
    with pytest.raises(TypeError):
        read_row(["1", "a@x.de"])  # type: ignore[arg-type]


def test_screen_is_lazy() -> None:
    endless = (row(n, f"u{n}@x.de") for n in itertools.count(1))
    first = list(itertools.islice(screen(endless, LEDGER, at=t(5)), 3))
    assert [v.index for v in first] == [0, 1, 2]


def test_withheld_responses() -> None:
    rows = [row(1, "a@x.de"), row(2, "b@x.de"), row(1, "oops"), row(6, "a@x.de"), row(3, "c@x.de")]
    ids = (f"zh-{n}" for n in itertools.count(1))
    events = list(
        withheld_responses(
            screen(rows, LEDGER, at=t(5)),
            blz=Blz("37050198"),
            order=OrderNumber("K2026001"),
            order_kind="KMM",
            mailing=MailingId("M-1"),
            at=t(5),
            event_ids=ids,
        )
    )
    assert all(isinstance(e, Withheld) for e in events)
    assert [(str(e.event_id), e.customer.value, e.reason) for e in events] == [
        ("zh-1", "0000000002", "SPERRLISTE"),
        ("zh-2", "0000000006", "DUPLIKAT"),
        ("zh-3", "0000000003", "HARTBOUNCE"),
    ]
    assert events[0].to_values()["DETAIL"] == "SPERRLISTE"
    assert all(e.at == t(5) and e.order == OrderNumber("K2026001") for e in events)


def test_withheld_responses_from_a_result_accept_event_ids() -> None:
    result = suppress([row(9, "z@x.de")], LEDGER, at=t(5))
    [event] = withheld_responses(
        result.withheld,
        blz=Blz("37050198"),
        order=OrderNumber("R1"),
        order_kind="REKU",
        mailing=MailingId("M-2"),
        at=t(5),
        event_ids=[EventId("evt-x")],
    )
    assert event.event_id == EventId("evt-x")


# -- every row ends up in exactly one place --------------------------------------------------

_ROW_CUSTOMERS = st.sampled_from(["4711", "4712", "4713", "0000004711", "x", ""])
_ROW_ADDRESSES = st.one_of(pool_addresses(), st.sampled_from(["kaputt@", "neu@example.de"]))


@settings(max_examples=200, deadline=None)
@given(
    ledger=consent_ledgers(),
    rows=st.lists(st.builds(row, _ROW_CUSTOMERS, _ROW_ADDRESSES), max_size=15),
    require=st.booleans(),
)
def test_suppression_partitions_the_rows(
    ledger: ConsentLedger, rows: list[dict[str, Any]], require: bool
) -> None:
    policy = ConsentPolicy(require_consent=require)
    verdicts = list(screen(rows, ledger, at=t(7), policy=policy))
    assert [v.index for v in verdicts] == list(range(len(rows)))
    assert all(v.row is rows[v.index] for v in verdicts)
    result = suppress(rows, ledger, at=t(7), policy=policy)
    assert len(result.to_send) + len(result.withheld) == len(rows)
    sent = [v for v in verdicts if isinstance(v, ToSend)]
    assert [v.row for v in sent] == result.to_send
    keys = [v.email.matching_key for v in sent]
    assert len(keys) == len(set(keys)), "an address is sent twice"
    for verdict in sent:
        assert ledger.may_send(verdict.customer, verdict.email, t(7), policy=policy).allowed
    for w in result.withheld:
        if w.reason is WithheldReason.DUPLIKAT:
            assert w.email is not None
            assert w.email.matching_key in keys[: w.index + 1]
        elif w.reason is not WithheldReason.UNGUELTIG:
            assert w.customer is not None
            assert w.email is not None
            decision = ledger.may_send(w.customer, w.email, t(7), policy=policy)
            assert decision.reason.withheld_reason == w.reason.value
            assert decision.deciding_event == w.deciding_event


# -- stateful: deliveries, responses, imports and manual entries interleaved -----------------

CUSTOMERS = [CustomerNumber(n) for n in (4711, 4712, 4713, 4714)]
ADDRESSES = [
    "anna@example.de",
    "ANNA@Example.de",
    "bernd@example.de",
    "carla@example.de",
    "info@bücher.de",
]


def _restricted(stream: list[ConsentEvent], at: dt.datetime) -> bool:
    past = [e for e in stream if e.at <= at]
    return any(
        not any(c.kind is ConsentKind.CONSENT and c.has_evidence and r.at < c.at for c in past)
        for r in past
        if r.kind.is_restriction
    )


def suppressed_by_model(
    events: set[ConsentEvent], customer: CustomerNumber, key: str, at: dt.datetime
) -> bool:
    """Unsubscribed, objected or hard-bounced (the model; independent of the ledger)."""
    own = [e for e in events if e.customer == customer and e.kind is not ConsentKind.HARD_BOUNCE]
    on_address = [e for e in events if e.address_key == key]
    return _restricted(own, at) or _restricted(on_address, at)


def _ids() -> Iterator[str]:
    return (f"evt-{n}" for n in itertools.count(1))


class Interleaving(RuleBasedStateMachine):
    """Deliveries, EMMA responses, CONS imports (through the file: written, read, imported
    twice) and manual entries in any order; files may arrive late (events timed before the
    last delivery)."""

    def __init__(self) -> None:
        super().__init__()
        self.ledger = ConsentLedger()
        self.events: set[ConsentEvent] = set()
        self.now = T0
        self.ids = _ids()
        self.last: tuple[list[dict[str, Any]], dt.datetime, SuppressionResult] | None = None
        self.require = True

    def _record(self, events: list[ConsentEvent]) -> None:
        self.events.update(events)

    def _when(self, back: int) -> dt.datetime:
        return self.now - dt.timedelta(hours=back)

    @rule(hours=st.integers(0, 6))
    def tick(self, hours: int) -> None:
        self.now += dt.timedelta(hours=hours)

    @rule(require=st.booleans())
    def policy(self, require: bool) -> None:
        self.require = require

    @rule(
        rows=st.lists(st.tuples(st.sampled_from(CUSTOMERS), st.sampled_from(ADDRESSES)), max_size=8)
    )
    def deliver(self, rows: list[tuple[CustomerNumber, str]]) -> None:
        data = [row(c.value, a) for c, a in rows]
        policy = ConsentPolicy(require_consent=self.require)
        result = suppress(data, self.ledger, at=self.now, policy=policy)
        assert len(result.to_send) + len(result.withheld) == len(data)
        self.last = (data, self.now, result)

    @rule(
        customer=st.sampled_from(CUSTOMERS),
        address=st.sampled_from(ADDRESSES),
        source=st.sampled_from(["LINK", "LISTUNSUB", "PROFIL", "BESCHWERDE", "MANUELL"]),
        bounce=st.booleans(),
        back=st.integers(0, 12),
    )
    def response(
        self, customer: CustomerNumber, address: str, source: str, bounce: bool, back: int
    ) -> None:
        common: dict[str, Any] = {
            "event_id": EventId(next(self.ids)),
            "blz": Blz("37050198"),
            "order": OrderNumber("K1"),
            "order_kind": "KMM",
            "mailing": MailingId("M-1"),
            "customer": customer,
            "email": EmailAddress(address),
            "at": self._when(back).replace(microsecond=0),
        }
        opened = Opened(**{**common, "event_id": EventId(next(self.ids))})
        restriction = (
            HardBounce(**common, status="5.1.1", diagnostic="user unknown")
            if bounce
            else Unsubscribed(**common, source=source)
        )
        responses = [opened, restriction]
        events = list(consent_events_from_responses(responses))
        self.ledger = self.ledger.extend(events)
        self._record(events)

    @rule(
        events=st.lists(
            consent_events(
                customers=st.sampled_from(CUSTOMERS), addresses=st.sampled_from(ADDRESSES)
            ),
            max_size=4,
        ),
        back=st.integers(0, 12),
    )
    def cons_import(self, events: list[ConsentEvent], back: int) -> None:
        shifted = [
            ConsentEvent(e.customer, e.email, e.kind, self._when(back), e.source, e.evidence)
            for e in events
        ]
        data = write_cons(
            ConsentChange(e.customer, e.email, e.kind, e.at, e.source, e.evidence) for e in shifted
        )
        self.ledger, report = import_cons(self.ledger, read_cons(data))
        again, second = import_cons(self.ledger, read_cons(data))
        assert again is self.ledger
        assert second.new == 0
        self._record(shifted)
        assert report.total == len(shifted)

    @rule(
        customer=st.sampled_from(CUSTOMERS),
        address=st.sampled_from(ADDRESSES),
        kind=st.sampled_from(ConsentKind),
        source=st.sampled_from(["FILIALE", "TELEFON", "BRIEF", "WEBFORMULAR", "OSPLUS"]),
        evidence=st.sampled_from(["", "Unterschrift auf Formular 12"]),
        back=st.integers(0, 12),
    )
    def manual_entry(
        self,
        *,
        customer: CustomerNumber,
        address: str,
        kind: ConsentKind,
        source: str,
        evidence: str,
        back: int,
    ) -> None:
        event = ConsentEvent(customer, address, kind, self._when(back), source, evidence)
        self.ledger = self.ledger.append(event)
        self._record([event])

    @invariant()
    def ledger_holds_exactly_what_arrived(self) -> None:
        assert set(self.ledger) == self.events

    @precondition(lambda self: self.last is not None)
    @invariant()
    def no_suppressed_address_in_a_send_set(self) -> None:
        assert self.last is not None
        rows, _, _ = self.last
        # The last delivery, screened again against everything known now.
        policy = ConsentPolicy(require_consent=self.require)
        result = suppress(rows, self.ledger, at=self.now, policy=policy)
        assert len(result.to_send) + len(result.withheld) == len(rows)
        for sent in result.to_send:
            customer, email = read_row(sent)
            assert not suppressed_by_model(self.events, customer, email.matching_key, self.now)
        for withheld in result.withheld:
            assert isinstance(withheld, WithheldRow)
            if withheld.reason in (WithheldReason.SPERRLISTE, WithheldReason.HARTBOUNCE):
                assert withheld.customer is not None
                assert withheld.email is not None
                assert suppressed_by_model(
                    self.events, withheld.customer, withheld.email.matching_key, self.now
                )


TestInterleaving = Interleaving.TestCase
TestInterleaving.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)


def test_reprs_do_not_show_addresses() -> None:
    result = suppress([row(1, "a.long.name@x.de"), row(9, "other.name@x.de")], LEDGER, at=t(5))
    assert "long.name" not in repr(result)
    assert "other.name" not in repr(result)
    assert repr(result) == "SuppressionResult(counts={'send': 1, 'KEINE_EINWILLIGUNG': 1})"
