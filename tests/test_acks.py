"""Acknowledgements: the status rule, the counts, and the QUIT fields of FORMATS.md."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emma_osplus import Blz, Message, Notice, ProcessError, Record, Rejected, error_for
from emma_osplus._acks import AckResult, AckStatus, acknowledge
from emma_osplus._lists import ListRegistry
from emma_osplus._machine import TransitionRefused
from emma_osplus._messages import mask_addresses
from emma_osplus._orders import DataDelivered, OrderBook, RekuOrder
from emma_osplus.testing import messages

FILE = "37050198_KMM_K2026001_20261122093000_0001.csv"
SHA = "ab" * 32


def ok(line: int, *warnings: Message) -> Record:
    return Record(
        line=line, values={"KUNDENNUMMER": f"{line:010d}"}, raw=str(line), messages=warnings
    )


def bad(line: int, code: str = "E201") -> Rejected:
    return Rejected(
        line=line, raw=f"{line};kaputt", messages=(Message(code, line=line, field="EMAIL"),)
    )


STATUS_CASES = [
    # (items, status, saetze, uebernommen, abgelehnt)
    ([], "ok", 0, 0, 0),  # a header-only file is a valid empty list
    ([ok(2), ok(3)], "ok", 2, 2, 0),
    ([ok(2, Message("W201", line=2))], "ok", 1, 1, 0),  # warnings alone keep ok
    ([ok(2), Notice(Message("W301"))], "ok", 1, 1, 0),
    ([ok(2), bad(3)], "teilweise", 2, 1, 1),
    ([ok(2), bad(3), bad(4, "E203")], "teilweise", 3, 1, 2),
    ([bad(2), bad(3)], "fehler", 2, 0, 2),  # nothing usable
    ([ok(2), Notice(Message("E104", detail="trailer missing"))], "fehler", 1, 0, 1),
    ([Message("E105")], "fehler", 0, 0, 0),
    ([ok(2), ok(3), Message("E301")], "fehler", 2, 0, 2),  # a parked delivery: not taken over
    ([ok(2), Message("E201", line=9)], "teilweise", 1, 1, 0),  # a loose record error
    ([Message("E201", line=9)], "fehler", 0, 0, 0),  # ... and nothing taken over
]


@pytest.mark.parametrize(("items", "status", "saetze", "uebernommen", "abgelehnt"), STATUS_CASES)
def test_status_rule(
    items: list[Record | Rejected | Notice | Message],
    status: str,
    saetze: int,
    uebernommen: int,
    abgelehnt: int,
) -> None:
    result = acknowledge(FILE, SHA, items)
    assert (result.status.value, result.saetze, result.uebernommen, result.abgelehnt) == (
        status,
        saetze,
        uebernommen,
        abgelehnt,
    )


def test_messages_are_kept_in_order() -> None:
    items: list[Record | Rejected | Notice] = [
        ok(2, Message("W201", line=2)),
        bad(3),
        Notice(Message("W301")),
        bad(4, "E203"),
    ]
    result = acknowledge(FILE, SHA, items)
    assert [m.code for m in result.messages] == ["W201", "E201", "W301", "E203"]
    assert [m.code for m in result.errors] == ["E201", "E203"]
    assert [m.code for m in result.warnings] == ["W201", "W301"]


def test_quit_fields_are_exactly_those_of_the_specification() -> None:
    result = acknowledge(
        FILE,
        SHA.upper(),
        [ok(2), bad(17), Message("W302", detail="140 Listen, Kontakt anna@example.de")],
        blz="37050198",
    )
    fields = result.to_quit_fields()
    assert fields == {
        "blz": "37050198",
        "bezug": {"datei": FILE, "sha256": SHA},
        "ergebnis": {"status": "teilweise", "saetze": 2, "uebernommen": 1, "abgelehnt": 1},
        "meldung": [
            {
                "code": "E201",
                "stufe": "fehler",
                "zeile": 17,
                "feld": "EMAIL",
                "text": "Ungültige E-Mail-Adresse",
            },
            {
                "code": "W302",
                "stufe": "warnung",
                "zeile": None,
                "feld": None,
                "text": "135 oder mehr Abonnentenlisten (90 % der Höchstzahl) "
                "(140 Listen, Kontakt a***@example.de)",
            },
        ],
    }
    assert result.blz == Blz("37050198")


def test_refusals_and_errors_are_acknowledged_with_their_code() -> None:
    at = datetime(2026, 12, 1, tzinfo=timezone.utc)
    book = OrderBook().apply(
        DataDelivered(order_number="R1", order_kind="REKU", at=at, file_name="r.csv")
    )
    order = book.get("REKU", "R1")
    assert isinstance(order, RekuOrder)
    parked = order.parked[0].message
    with pytest.raises(TransitionRefused) as refusal:
        ListRegistry().create("Runde Geburtstage", at=at)
    result = acknowledge("r.csv", None, [refusal.value, error_for(Message("E304")), parked, ok(2)])
    assert [m.code for m in result.messages] == ["E303", "E304", "E301"]
    assert result.status is AckStatus.ERROR
    assert isinstance(error_for(Message("E304")), ProcessError)


def test_a_refusal_without_a_code_cannot_be_acknowledged() -> None:
    with pytest.raises(ValueError, match="without a message code"):
        acknowledge(FILE, SHA, [TransitionRefused("m", "s", "e")])
    with pytest.raises(TypeError, match="cannot acknowledge"):
        acknowledge(FILE, SHA, ["E201"])  # type: ignore[list-item]


def test_counts_given_by_the_caller() -> None:
    """A caller that streamed the file passes the counts and only the messages."""
    result = acknowledge(FILE, SHA, [Message("E201", line=5)], saetze=1000, abgelehnt=3)
    assert (result.status, result.uebernommen) == (AckStatus.PARTIAL, 997)
    result = acknowledge(FILE, SHA, [Message("E102")], saetze=1000)
    assert (result.status, result.uebernommen, result.abgelehnt) == (AckStatus.ERROR, 0, 1000)
    with pytest.raises(ValueError, match="exceeds"):
        acknowledge(FILE, SHA, [], saetze=1, abgelehnt=2)


def test_the_items_are_consumed_once_as_a_stream() -> None:
    def stream() -> object:
        for line in range(2, 10_002):
            yield ok(line) if line % 1000 else bad(line)

    result = acknowledge(FILE, SHA, stream())  # type: ignore[arg-type]
    assert (result.saetze, result.uebernommen, result.abgelehnt) == (10_000, 9_990, 10)
    assert len(result.messages) == 10


def test_ack_result_checks_its_fields() -> None:
    with pytest.raises(ValueError, match="saetze"):
        AckResult(FILE, SHA, "ok", 3, 1, 1)
    with pytest.raises(ValueError, match="negative"):
        AckResult(FILE, SHA, "ok", -1, -1, 0)
    with pytest.raises(ValueError, match="SHA-256"):
        AckResult(FILE, "xyz", "ok", 0, 0, 0)
    with pytest.raises(ValueError, match="partial"):
        AckResult(FILE, SHA, "partial", 0, 0, 0)
    assert AckResult(FILE, None, "teilweise", 2, 1, 1).status is AckStatus.PARTIAL


ITEMS = st.one_of(
    st.integers(2, 10**6).map(ok),
    st.integers(2, 10**6).map(bad),
    messages().map(Notice),
    messages(),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ITEMS, max_size=20))
def test_status_and_counts_follow_the_rule(
    items: list[Record | Rejected | Notice | Message],
) -> None:
    result = acknowledge(FILE, SHA, items)
    records = [i for i in items if isinstance(i, Record | Rejected)]
    rejected = sum(isinstance(i, Rejected) for i in items)
    every = [m for i in items for m in _messages_of(i)]
    assert list(result.messages) == every
    assert result.saetze == len(records) == result.uebernommen + result.abgelehnt
    file_error = any(m.is_error and m.code[1] in "13" for m in every)
    any_error = any(m.is_error for m in every)
    taken = 0 if file_error else len(records) - rejected
    assert result.uebernommen == taken
    if not rejected and not any_error:
        assert result.status is AckStatus.OK
    elif taken == 0:
        assert result.status is AckStatus.ERROR
    else:
        assert result.status is AckStatus.PARTIAL
        assert result.abgelehnt == rejected
    fields = result.to_quit_fields()
    assert set(fields) == {"blz", "bezug", "ergebnis", "meldung"}
    assert all(
        set(m) == {"code", "stufe", "zeile", "feld", "text"}
        and mask_addresses(m["text"]) == m["text"]
        for m in fields["meldung"]
    )


def _messages_of(item: Record | Rejected | Notice | Message) -> tuple[Message, ...]:
    if isinstance(item, Message):
        return (item,)
    if isinstance(item, Notice):
        return (item.message,)
    return item.messages


@settings(max_examples=100, deadline=None)
@given(st.lists(ITEMS, max_size=12))
def test_results_make_a_valid_quit(items: list[Record | Rejected | Notice | Message]) -> None:
    """The status agrees with the QUIT writer's rule (``_quit.acknowledgement_status``)."""
    quit_module = pytest.importorskip("emma_osplus._quit")
    result = acknowledge(FILE, SHA, items, blz="37050198")
    assert result.sha256 is not None
    ack = quit_module.Acknowledgement.from_messages(
        "37050198",
        result.file_name,
        result.sha256,
        saetze=result.saetze,
        uebernommen=result.uebernommen,
        abgelehnt=result.abgelehnt,
        messages=result.messages,
    )
    assert ack.status == result.status.value
