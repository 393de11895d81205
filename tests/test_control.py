"""Control files (VREKU, VIAM): round trips, canonical bytes, the typ-dependent rules, E303
(with suggestion), E305 and E204."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings

from emma_osplus import (
    InvalidValueError,
    Message,
    Mode,
    OccasionCode,
    ProcessError,
    RecordError,
    SchemaError,
)
from emma_osplus._control import (
    ControlFile,
    control_from_document,
    control_to_document,
    read_control,
    write_control,
)
from emma_osplus._xml import load_schema, parse_xml
from emma_osplus.testing._xml import control_files

CET = dt.timezone(dt.timedelta(hours=1))


def make(**changes: Any) -> ControlFile:
    values: dict[str, Any] = {
        "typ": "vreku",
        "blz": "37050198",
        "nummer": "R2026042",
        "aktion": "neu",
        "bezeichnung": "Runde_Geburtstage",
        "rhythmus": "monatlich",
        "gueltig_ab": dt.date(2026, 12, 1),
        "gueltig_bis": dt.date(2027, 12, 31),
        "anlass": "MCAG002",
        "erstellt": dt.datetime(2026, 11, 22, 9, 30, tzinfo=CET),
    }
    values.update(changes)
    return ControlFile(**values)


@settings(max_examples=60, deadline=None)
@given(control_files())
def test_write_read_identity(control: ControlFile) -> None:
    """write -> read gives the same object; the bytes are canonical (stable) and valid."""
    data = write_control(control)
    result = read_control(data, occasions=OccasionCode)
    assert result.value == control
    assert write_control(result.value) == data
    assert load_schema("steuerung").validate(parse_xml(data))
    assert data.endswith(b"</steuerung>\n")


@settings(max_examples=40, deadline=None)
@given(control_files())
def test_json_view_round_trip(control: ControlFile) -> None:
    document = json.loads(json.dumps(control_to_document(control)))
    assert control_from_document(document, occasions=OccasionCode) == control
    assert read_control(write_control(control), occasions=OccasionCode).document == document


def test_defaults_and_kind() -> None:
    c = make()
    assert (c.vertriebsweg, c.kind, make(typ="viam", massnahme="X1").kind) == (
        "EMMA",
        "VREKU",
        "VIAM",
    )
    assert make(gueltig_bis=None).gueltig_bis is None
    assert make(gueltig_bis=dt.date(2026, 12, 1)).gueltig_bis == dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"anlass": None}, "E106", "steuerung/auftrag"),
        ({"massnahme": "IAM4711"}, "E106", "steuerung/auftrag/massnahme"),
        ({"typ": "viam"}, "E106", "steuerung/auftrag"),
        ({"gueltig_bis": dt.date(2026, 11, 30)}, "E106", "steuerung/auftrag/@gueltigBis"),
        ({"vertriebsweg": "POST"}, "E305", "steuerung/auftrag/@vertriebsweg"),
        ({"vertriebsweg": "emma"}, "E305", "steuerung/auftrag/@vertriebsweg"),
        ({"bezeichnung": "Runde Geburtstage"}, "E303", "order_name"),
        ({"typ": "vkmm"}, "E207", "steuerung/@typ"),
        ({"aktion": "neuanlage"}, "E207", "steuerung/auftrag/@aktion"),
        ({"rhythmus": "jaehrlich"}, "E207", "steuerung/auftrag/@rhythmus"),
        ({"typ": "viam", "massnahme": "IAM 1"}, "E209", "steuerung/auftrag/massnahme/@id"),
        ({"gueltig_ab": dt.datetime(2026, 12, 1)}, "E205", "steuerung/auftrag/@gueltigAb"),
        ({"gueltig_bis": "2027-12-31"}, "E205", "steuerung/auftrag/@gueltigBis"),
        ({"erstellt": dt.datetime(2026, 11, 22)}, "E205", "steuerung/erstellt"),
    ],
)
def test_constructor_rules(changes: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        make(**changes)
    assert (info.value.code, info.value.message.field) == (code, field)


def test_viam_anlass_is_optional() -> None:
    for anlass in (None, "MCAG002"):
        c = make(typ="viam", massnahme="IAM4711", anlass=anlass)
        assert read_control(write_control(c)).value == c


def _replace(old: bytes, new: bytes, control: ControlFile | None = None) -> bytes:
    data = write_control(control or make())
    assert old in data
    return data.replace(old, new)


def test_channel_is_e305() -> None:
    with pytest.raises(ProcessError) as info:
        read_control(_replace(b'vertriebsweg="EMMA"', b'vertriebsweg="Filiale"'))
    message = info.value.message
    assert (message.code, message.line, message.field, message.raw) == (
        "E305",
        4,
        "steuerung/auftrag/@vertriebsweg",
        "Filiale",
    )


def test_order_name_is_e303_with_a_suggestion() -> None:
    data = _replace(
        b'bezeichnung="Runde_Geburtstage"', b'bezeichnung="R\xc3\xbcckkehr aus Elternzeit"'
    )
    result = read_control(data, mode=Mode.LENIENT)
    [message] = result.messages
    assert (message.code, message.line, message.field) == (
        "E303",
        4,
        "steuerung/auftrag/@bezeichnung",
    )
    assert "suggested: 'Rueckkehr_aus_Elternzeit'" in (message.detail or "")


def test_occasion_resolver_is_injectable() -> None:
    def nothing_known(text: str) -> OccasionCode:
        raise InvalidValueError(Message("E204", raw=text, detail="registry empty"))

    result = read_control(write_control(make()), occasions=nothing_known, mode=Mode.LENIENT)
    assert [(m.code, m.line, m.field) for m in result.messages] == [
        ("E204", 5, "steuerung/auftrag/anlass/@code")
    ]


def test_schema_violations_have_lines() -> None:
    data = _replace(
        b"<erstellt>2026-11-22T09:30:00+01:00</erstellt>", b"<erstellt>gestern</erstellt>"
    )
    data = data.replace(b'rhythmus="monatlich"', b'rhythmus="jaehrlich"')
    result = read_control(data, mode=Mode.LENIENT)
    assert [(m.code, m.line, m.field) for m in result.messages] == [
        ("E207", 4, "steuerung/auftrag/@rhythmus"),  # a code table
        ("E205", 7, "steuerung/erstellt"),  # a time
    ]
    assert result.document is None
    with pytest.raises(RecordError):
        read_control(data)
    result = read_control(data.replace(b' rhythmus="jaehrlich"', b""), mode=Mode.LENIENT)
    assert (result.messages[0].code, result.messages[0].field) == ("E106", "steuerung/auftrag")
    with pytest.raises(SchemaError):
        read_control(data.replace(b' rhythmus="jaehrlich"', b""))


def test_the_kind_readers_do_not_mix() -> None:
    with pytest.raises(SchemaError) as info:
        read_control(b'<quittung xmlns="urn:emma-osplus:quittung:1" version="1"/>')
    assert "validation root" in (info.value.message.detail or "")


def test_from_document_checks_the_rules() -> None:
    document = control_to_document(make())
    document["auftrag"]["vertriebsweg"] = "POST"
    with pytest.raises(ProcessError) as info:
        control_from_document(document)
    assert info.value.code == "E305"
    document["auftrag"]["vertriebsweg"] = "EMMA"
    document["erstellt"] = "2026-11-22T09:30:00+01:00"  # must be {"#text": ...}
    with pytest.raises(SchemaError) as schema_info:
        control_from_document(document)
    assert schema_info.value.message.field == "steuerung/erstellt"


@pytest.mark.parametrize(
    ("name", "attribute", "old", "new"),
    [
        ("typ", "typ", "vreku", "vkmm"),
        ("aktion", "aktion", "neu", "neuanlage"),
        ("rhythmus", "rhythmus", "monatlich", "jaehrlich"),
        ("gueltig_ab", "gueltigAb", "2026-12-01", "01.12.2026"),
        ("blz", "blz", "37050198", "07050198"),
        ("nummer", "nummer", "R2026042", "r2026042"),
    ],
)
def test_reading_and_building_give_one_code(name: str, attribute: str, old: str, new: str) -> None:
    """A wrong value has the same code whether a file is read or a ``ControlFile`` built."""
    with pytest.raises(InvalidValueError) as built:
        make(**{name: new})
    data = _replace(f'{attribute}="{old}"'.encode(), f'{attribute}="{new}"'.encode())
    [read] = read_control(data, mode=Mode.LENIENT).messages
    assert read.code == built.value.code
    assert str(read.field).endswith(f"@{attribute}")
