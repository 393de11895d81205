"""Delivery manifests (LIEF): round trips, canonical bytes, the rules XSD cannot express and
the rules with their own codes (E303, E204, E108)."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import attrs
import pytest
from hypothesis import given, settings

from emma_osplus import (
    FileNameError,
    InvalidValueError,
    Message,
    Mode,
    OccasionCode,
    ProcessError,
    RecordError,
    SchemaError,
)
from emma_osplus._manifest import (
    Manifest,
    ManifestFile,
    ManifestOptions,
    manifest_from_document,
    manifest_to_document,
    read_manifest,
    write_manifest,
)
from emma_osplus._xml import load_schema, parse_xml
from emma_osplus.testing._xml import manifests

CET = dt.timezone(dt.timedelta(hours=1))
SHA = "0e89ffd80fde0231e4629caac0e0b0942b25930210206d0ed9301ab73be13c49"
SUBSCRIBERS = ManifestFile(
    "37050198_REKU_R1_20261122093000_0001.csv", "abonnenten", 10, SHA, saetze=2
)
PICTURE = ManifestFile("berater.jpg", "beraterbild", 5, SHA)
OPTIONS = ManifestOptions(weiterleitung_sfp=True, beraterbilder=True, faksimiles=False)


def make(**changes: Any) -> Manifest:
    values: dict[str, Any] = {
        "blz": "37050198",
        "nummer": "R1",
        "art": "REKU",
        "bezeichnung": "Runde_Geburtstage",
        "erstellt": dt.datetime(2026, 11, 22, 9, 30, tzinfo=CET),
        "anlass": "MCAG002",
        "options": OPTIONS,
        "files": [SUBSCRIBERS, PICTURE],
    }
    values.update(changes)
    return Manifest(**values)


@settings(max_examples=60, deadline=None)
@given(manifests())
def test_write_read_identity(manifest: Manifest) -> None:
    """write -> read gives the same object; the bytes are canonical (stable) and valid."""
    data = write_manifest(manifest)
    result = read_manifest(data, occasions=OccasionCode)
    assert result.value == manifest
    assert result.ok
    assert write_manifest(result.value) == data
    assert load_schema("lieferschein").validate(parse_xml(data))
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert data.endswith(b"</lieferschein>\n")
    assert b"\r" not in data


@settings(max_examples=40, deadline=None)
@given(manifests())
def test_json_view_round_trip(manifest: Manifest) -> None:
    """The document survives JSON and gives the same object and the same bytes."""
    document = json.loads(json.dumps(manifest_to_document(manifest)))
    assert manifest_from_document(document, occasions=OccasionCode) == manifest
    assert read_manifest(write_manifest(manifest), occasions=OccasionCode).document == document


def test_properties() -> None:
    m = make(files=[PICTURE, SUBSCRIBERS])
    assert m.subscriber_file is SUBSCRIBERS
    assert m.pictures == (PICTURE,)
    assert isinstance(m.files, tuple)
    assert str(m.blz) == "37050198"


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"anlass": None}, "E106", "lieferschein/auftrag"),
        ({"art": "KMM"}, "E106", "lieferschein/auftrag/anlass"),
        ({"art": "IAM"}, "E106", "lieferschein/auftrag/anlass"),
        ({"files": [PICTURE]}, "E106", "lieferschein/dateien"),
        ({"files": [SUBSCRIBERS, SUBSCRIBERS]}, "E106", "lieferschein/dateien"),
        ({"files": [SUBSCRIBERS, PICTURE, PICTURE]}, "E106", "lieferschein/dateien/datei/@name"),
        ({"art": "KMX"}, "E207", "lieferschein/auftrag/@art"),
        ({"bezeichnung": "Runde Geburtstage"}, "E303", "order_name"),
        ({"anlass": "Geburtstag"}, "E204", "ANLASS"),
        ({"erstellt": dt.datetime(2026, 11, 22)}, "E205", "lieferschein/auftrag/@erstellt"),
        (
            {"erstellt": dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(seconds=30)))},
            "E205",
            "lieferschein/auftrag/@erstellt",
        ),
        (
            {"erstellt": dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=15)))},
            "E205",
            "lieferschein/auftrag/@erstellt",
        ),
        ({"blz": "07050198"}, "E209", "blz"),
        ({"nummer": "r1"}, "E209", "order_number"),
    ],
)
def test_constructor_rules(changes: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        make(**changes)
    assert (info.value.code, info.value.message.field) == (code, field)


@pytest.mark.parametrize(
    ("args", "code", "field"),
    [
        (("a/b.jpg", "beraterbild", 1, SHA), "E108", "lieferschein/dateien/datei/@name"),
        (("..", "beraterbild", 1, SHA), "E108", "lieferschein/dateien/datei/@name"),
        # names no transport fetches (check_safe_name): refused at once, not missing later
        *(
            ((name, "beraterbild", 1, SHA), "E108", "lieferschein/dateien/datei/@name")
            for name in ("C:x.jpg", "x.jpg ", " ", "CON.jpg", "a<b.jpg", "x\u202egpj.exe")
        ),
        (("a.jpg", "bild", 1, SHA), "E207", "lieferschein/dateien/datei/@rolle"),
        (("a.jpg", "beraterbild", -1, SHA), "E209", "lieferschein/dateien/datei/@bytes"),
        (("a.jpg", "beraterbild", True, SHA), "E209", "lieferschein/dateien/datei/@bytes"),
        (("a.jpg", "beraterbild", 1, SHA.upper()), "E209", "lieferschein/dateien/datei/@sha256"),
        (("a.jpg", "beraterbild", 1, SHA, 3), "E106", "lieferschein/dateien/datei/@saetze"),
        (
            ("a.jpg", "faksimile", 1, SHA, None, "utf-8"),
            "E106",
            "lieferschein/dateien/datei/@encoding",
        ),
        (("a.csv", "abonnenten", 1, SHA), "E106", "lieferschein/dateien/datei/@saetze"),
        (
            ("a.csv", "abonnenten", 1, SHA, 1, "latin-1"),
            "E207",
            "lieferschein/dateien/datei/@encoding",
        ),
    ],
)
def test_file_rules(args: tuple[Any, ...], code: str, field: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        ManifestFile(*args)
    assert (info.value.code, info.value.message.field) == (code, field)


def test_options_must_be_bools() -> None:
    with pytest.raises(InvalidValueError) as info:
        ManifestOptions(weiterleitung_sfp="true", beraterbilder=True, faksimiles=False)  # type: ignore[arg-type]
    assert info.value.message.field == "lieferschein/optionen/@weiterleitungSfp"


def _xml(bezeichnung: str = "Runde_Geburtstage", code: str = "MCAG002") -> bytes:
    m = make()
    data = write_manifest(m).decode()
    data = data.replace('bezeichnung="Runde_Geburtstage"', f'bezeichnung="{bezeichnung}"')
    return data.replace('code="MCAG002"', f'code="{code}"').encode()


def test_order_name_is_e303_with_a_suggestion() -> None:
    data = _xml(bezeichnung="Runde Geburtstage Ü70")
    with pytest.raises(ProcessError) as info:
        read_manifest(data)
    message = info.value.message
    assert (message.code, message.line, message.field) == (
        "E303",
        4,
        "lieferschein/auftrag/@bezeichnung",
    )
    assert message.raw == "Runde Geburtstage Ü70"
    assert "suggested: 'Runde_Geburtstage_Ue70'" in (message.detail or "")


def test_occasion_resolver_is_injectable() -> None:
    seen: list[str] = []

    def only_ag002(text: str) -> OccasionCode:
        seen.append(text)
        if text != "MCAG002":
            raise InvalidValueError(Message("E204", raw=text, detail="not ours"))
        return OccasionCode(text)

    assert read_manifest(_xml(), occasions=only_ag002).ok
    result = read_manifest(_xml(code="MCAG003"), occasions=only_ag002, mode=Mode.LENIENT)
    assert [(m.code, m.line, m.field, m.detail) for m in result.messages] == [
        ("E204", 5, "lieferschein/auftrag/anlass/@code", "not ours")
    ]
    assert seen == ["MCAG002", "MCAG003"]
    with pytest.raises(TypeError, match="must return an OccasionCode"):
        read_manifest(_xml(), occasions=lambda text: text)  # type: ignore[arg-type,return-value]


def test_default_resolver_is_the_registry() -> None:
    assert read_manifest(_xml(code="ag002")).value == make()  # short, any case: canonical
    with pytest.raises(RecordError) as info:
        read_manifest(_xml(code="MCAG02"))
    assert info.value.code == "E204"
    assert "MCAG002" in (info.value.message.detail or "")


def test_lenient_collects_every_rule_and_keeps_the_document() -> None:
    data = _xml(bezeichnung="Größe 1", code="MCZZ999").replace(b'art="REKU"', b'art="KMM"')
    result = read_manifest(data, mode=Mode.LENIENT)
    assert result.value is None
    assert not result.ok
    assert [m.code for m in result.messages] == ["E303", "E204", "E106"]
    assert result.document is not None
    assert result.document["auftrag"]["bezeichnung"] == "Größe 1"  # as read, nothing replaced


def test_strict_raises_the_first_with_all() -> None:
    data = _xml(bezeichnung="Größe 1", code="MCZZ999")
    with pytest.raises(ProcessError) as info:
        read_manifest(data)
    assert [m.code for m in info.value.messages] == ["E303", "E204"]


def test_schema_error_lines() -> None:
    data = write_manifest(make()).replace(b'bytes="10"', b'bytes="zehn"')
    with pytest.raises(RecordError) as info:  # a wrong number: E209, as the writer says
        read_manifest(data)
    assert (info.value.code, info.value.message.line, info.value.message.field) == (
        "E209",
        9,
        "lieferschein/dateien/datei/@bytes",
    )


def test_file_objects_and_size_limit() -> None:
    data = write_manifest(make())
    assert read_manifest(io.BytesIO(data)).value == make()
    result = read_manifest(io.BytesIO(data), max_bytes=100, mode=Mode.LENIENT)
    assert [m.code for m in result.messages] == ["E105"]


def test_from_document_refuses_bad_documents() -> None:
    document = manifest_to_document(make())
    with pytest.raises(SchemaError) as info:
        manifest_from_document({**document, "extra": {}})
    assert info.value.message.field == "lieferschein/extra"
    del document["auftrag"]["nummer"]
    with pytest.raises(SchemaError) as info:
        manifest_from_document(document)
    assert info.value.message.field == "lieferschein/auftrag"
    assert "nummer" in (info.value.message.detail or "")


def test_file_name_with_a_path_is_e108() -> None:
    data = write_manifest(make()).replace(b'name="berater.jpg"', b'name="../berater.jpg"')
    with pytest.raises(FileNameError) as info:
        read_manifest(data)
    assert (info.value.message.line, info.value.message.field) == (
        10,
        "lieferschein/dateien/datei[2]/@name",
    )


@pytest.mark.parametrize("name", ["C:x.jpg", "berater.jpg ", "CON.jpg", "x\u202egpj.exe"])
def test_a_file_no_transport_can_fetch_is_e108_when_read(name: str) -> None:
    """A manifest listing a name that check_safe_name refuses could never be delivered
    complete; reading it says so at once (E108 at the name), in both modes."""
    data = write_manifest(make()).replace(
        b'name="berater.jpg"', b'name="' + name.encode("utf-8") + b'"'
    )
    result = read_manifest(data, mode=Mode.LENIENT)
    assert [(m.code, m.field, m.line) for m in result.messages] == [
        ("E108", "lieferschein/dateien/datei[2]/@name", 10)
    ]
    with pytest.raises(FileNameError):
        read_manifest(data)


def test_evolve_keeps_the_rules() -> None:
    with pytest.raises(InvalidValueError):
        attrs.evolve(make(), anlass=None)
