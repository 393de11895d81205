"""Acknowledgements (QUIT): round trips, canonical bytes, status computation, message mapping
(stufe, zeile, feld, text) and the consistency rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings

from emma_osplus import InvalidValueError, Message, Mode, SchemaError, Severity
from emma_osplus._quit import (
    Acknowledgement,
    acknowledgement_from_document,
    acknowledgement_status,
    acknowledgement_to_document,
    read_acknowledgement,
    write_acknowledgement,
)
from emma_osplus._xml import load_schema, parse_xml
from emma_osplus.testing._xml import acknowledgements

SHA = "8577da2ea54085708b3b851bc50315a36bb740ba5135e747cfb12457b5d3060f"
FILE = "37050198_KMM_K2026001_20261122093000_0001.csv"


@settings(max_examples=80, deadline=None)
@given(acknowledgements())
def test_write_read_identity(ack: Acknowledgement) -> None:
    """write -> read gives the same object (messages with umlauts, <&>"', LF, CR included);
    the bytes are canonical (stable) and valid."""
    data = write_acknowledgement(ack)
    result = read_acknowledgement(data)
    assert result.value == ack
    assert write_acknowledgement(result.value) == data
    assert load_schema("quittung").validate(parse_xml(data))
    assert data.count(b"\n") == 6 + len(ack.messages)


@settings(max_examples=40, deadline=None)
@given(acknowledgements())
def test_json_view_round_trip(ack: Acknowledgement) -> None:
    document = json.loads(json.dumps(acknowledgement_to_document(ack)))
    assert acknowledgement_from_document(document) == ack


@pytest.mark.parametrize(
    ("uebernommen", "abgelehnt", "codes", "status"),
    [
        (10, 0, [], "ok"),
        (10, 0, ["W201", "W301"], "ok"),
        (9, 1, [], "teilweise"),
        (9, 1, ["E201"], "teilweise"),
        (10, 0, ["E104"], "teilweise"),
        (0, 10, ["E201"], "fehler"),
        (0, 0, ["E105"], "fehler"),
        (0, 0, [], "ok"),
    ],
)
def test_status(uebernommen: int, abgelehnt: int, codes: list[str], status: str) -> None:
    messages = [Message(code) for code in codes]
    assert acknowledgement_status(uebernommen, abgelehnt, messages) == status
    ack = Acknowledgement.from_messages(
        "37050198",
        FILE,
        SHA,
        saetze=uebernommen + abgelehnt,
        uebernommen=uebernommen,
        abgelehnt=abgelehnt,
        messages=messages,
    )
    assert ack.status == status


def test_messages_keep_code_line_field_text() -> None:
    """stufe follows the code's level, zeile is the line, feld the field, the text is the
    element text; detail is appended, raw (customer data) is not carried."""
    ack = Acknowledgement.from_messages(
        "37050198",
        FILE,
        SHA,
        saetze=3,
        uebernommen=2,
        abgelehnt=1,
        messages=[
            Message("E201", line=17, field="EMAIL", raw="4711;anna@@example.de", detail="two @"),
            Message("W201", line=3, text="gleiche Adresse"),
        ],
    )
    assert ack.messages == (
        Message("E201", line=17, field="EMAIL", text="Ungültige E-Mail-Adresse (two @)"),
        Message("W201", line=3, text="gleiche Adresse"),
    )
    data = write_acknowledgement(ack).decode()
    assert (
        '<meldung code="E201" stufe="fehler" zeile="17" feld="EMAIL">Ungültige E-Mail-Adresse (two @)</meldung>'
        in data
    )
    assert '<meldung code="W201" stufe="warnung" zeile="3">gleiche Adresse</meldung>' in data
    assert "anna" not in data
    [error, warning] = read_acknowledgement(data.encode()).value.messages  # type: ignore[union-attr]
    assert (error.severity, warning.severity) == (Severity.ERROR, Severity.WARNING)
    assert (warning.field, warning.raw, warning.detail) == (None, None, None)


def make(**changes: Any) -> Acknowledgement:
    values: dict[str, Any] = {
        "blz": "37050198",
        "datei": FILE,
        "sha256": SHA,
        "status": "teilweise",
        "saetze": 1000,
        "uebernommen": 997,
        "abgelehnt": 3,
        "messages": [Message("E201", line=17, field="EMAIL")],
    }
    values.update(changes)
    return Acknowledgement(**values)


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"status": "ok"}, "E106", "quittung/ergebnis/@status"),
        ({"status": "fehler"}, "E106", "quittung/ergebnis/@status"),
        ({"status": "gut"}, "E207", "quittung/ergebnis/@status"),
        ({"saetze": 999}, "E106", "quittung/ergebnis"),
        ({"abgelehnt": -3}, "E209", "quittung/ergebnis/@abgelehnt"),
        ({"datei": "../x.csv"}, "E108", "quittung/bezug/@datei"),
        ({"sha256": "x"}, "E209", "quittung/bezug/@sha256"),
        ({"messages": [Message("E201", line=0)]}, "E209", "quittung/meldung/@zeile"),
        ({"messages": [Message("E201", field="")]}, "E208", "quittung/meldung/@feld"),
        ({"messages": [Message("E201", text="a\x00")]}, "E206", "quittung/meldung/#text"),
        ({"messages": [Message("E201", field="\x1b")]}, "E206", "quittung/meldung/@feld"),
    ],
)
def test_constructor_rules(changes: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        make(**changes)
    assert (info.value.code, info.value.message.field) == (code, field)


def test_messages_must_be_messages() -> None:
    with pytest.raises(TypeError):
        make(messages=["E201"])


def _xml(
    meldung: str, ergebnis: str = 'status="teilweise" saetze="1000" uebernommen="997" abgelehnt="3"'
) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<quittung xmlns="urn:emma-osplus:quittung:1" version="1">\n'
        '  <institut blz="37050198"/>\n'
        f'  <bezug datei="{FILE}" sha256="{SHA}"/>\n'
        f"  <ergebnis {ergebnis}/>\n"
        f"{meldung}"
        "</quittung>\n"
    ).encode()


def test_reader_checks_stufe_and_code() -> None:
    data = _xml(
        '  <meldung code="E201" stufe="warnung">x</meldung>\n'
        '  <meldung code="E000" stufe="fehler">y</meldung>\n'
    )
    result = read_acknowledgement(data, mode=Mode.LENIENT)
    assert [(m.code, m.line, m.field, m.raw) for m in result.messages] == [
        ("E106", 6, "quittung/meldung[1]/@stufe", "warnung"),
        ("E106", 7, "quittung/meldung[2]/@code", "E000"),
    ]
    with pytest.raises(SchemaError):
        read_acknowledgement(data)


def test_reader_checks_counts_and_status() -> None:
    meldung = '  <meldung code="E201" stufe="fehler" zeile="17" feld="EMAIL">x</meldung>\n'
    assert read_acknowledgement(_xml(meldung)).ok
    result = read_acknowledgement(
        _xml(meldung, 'status="ok" saetze="1000" uebernommen="997" abgelehnt="2"'),
        mode=Mode.LENIENT,
    )
    assert [(m.code, m.line, m.field) for m in result.messages] == [
        ("E106", 5, "quittung/ergebnis"),
        ("E106", 5, "quittung/ergebnis/@status"),
    ]


def test_meldung_text_is_kept_exactly() -> None:
    data = _xml(
        '  <meldung code="W201" stufe="warnung">  zwei  Leerzeichen  </meldung>\n',
        'status="ok" saetze="1" uebernommen="1" abgelehnt="0"',
    )
    [message] = read_acknowledgement(data).value.messages  # type: ignore[union-attr]
    assert message.text == "  zwei  Leerzeichen  "
    assert message.line is None
