"""The message catalogue, Message and the exception hierarchy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import emma_osplus
from emma_osplus import (
    CATALOGUE,
    DecodingError,
    EmmaOsplusError,
    FileError,
    InvalidValueError,
    Message,
    MessageError,
    MessageLevel,
    ProcessError,
    RecordError,
    Severity,
    StructureError,
    error_for,
)
from emma_osplus._errors import first_error
from emma_osplus._messages import mask_addresses
from emma_osplus.testing import email_address_texts, messages

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "FORMATS.md"


def test_catalogue_matches_the_specification() -> None:
    """Every code of FORMATS.md's table is in the catalogue with the same level."""
    if not SPEC.exists():
        pytest.skip("shared/spec/FORMATS.md is not beside the checkout")
    rows = re.findall(r"^\| ([EW][0-9]{3}) \| (\w+) \|", SPEC.read_text("utf-8"), re.MULTILINE)
    assert len(rows) >= 26
    for code, level in rows:
        assert CATALOGUE[code].level is MessageLevel(level)
    # the only additions are E209, E307 and E308, documented in docs/decisions.md
    assert set(CATALOGUE) - {code for code, _ in rows} == {"E209", "E307", "E308"}


def test_every_definition_has_both_texts() -> None:
    for code, definition in CATALOGUE.items():
        assert definition.code == code
        assert definition.text_de
        assert definition.text_en
        expected = Severity.WARNING if code.startswith("W") else Severity.ERROR
        assert definition.severity is expected


def test_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown message code"):
        Message("E999")


def test_message_defaults_to_german_text() -> None:
    assert Message("E203").text == "Kundennummer doppelt in der Datei"
    assert Message("E203", text="eigener Text").text == "eigener Text"
    assert Severity.ERROR.german == "fehler"
    assert Severity.WARNING.german == "warnung"


def test_repr_masks_addresses() -> None:
    m = Message("E201", line=3, field="EMAIL", raw="4711;anna.schmidt@example.de", detail="x@y.de")
    text = repr(m)
    assert "anna.schmidt@example.de" not in text
    assert "a***@example.de" in text
    assert "x@y.de" not in text
    assert m.raw == "4711;anna.schmidt@example.de"  # the data itself stays whole


def test_describe() -> None:
    m = Message("W201", line=9, field="EMAIL", detail="customers 1, 2 share b@example.de")
    assert m.describe() == (
        "W201, line 9, field EMAIL: Eine Adresse für mehrere Kunden "
        "(customers 1, 2 share b***@example.de)"
    )
    assert not m.is_error


def test_mask_addresses_leaves_other_text() -> None:
    assert mask_addresses("no address here; 4711") == "no address here; 4711"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # the path of an XML attribute, a message's field as describe() writes it, is not
        # an address
        ("field steuerung/@typ: text", "field steuerung/@typ: text"),
        ("field lieferschein/auftrag/@bezeichnung", "field lieferschein/auftrag/@bezeichnung"),
        ("E106, field dateien/datei[2]/@sha256: x", "E106, field dateien/datei[2]/@sha256: x"),
        ("field optionen/@weiterleitungSfp", "field optionen/@weiterleitungSfp"),
        # addresses are masked, also next to such a path and when malformed
        ("field auftrag/@nummer anna@example.de", "field auftrag/@nummer a***@example.de"),
        ("anna/@example.de", "a***@example.de"),
        ("anna/@x.de/@y", "a***@x.de/@y"),
        ("anna.schmidt@typ", "a***@typ"),
        # one that looks like a path but stands where no field is named
        ("1;anna/@localhost", "1;a***@localhost"),
        ("field EMAIL: anna/@localhost", "field EMAIL: a***@localhost"),
        ("optionen/@weiterleitungSfp", "o***@weiterleitungSfp"),
    ],
)
def test_mask_addresses_keeps_xml_attribute_paths(text: str, masked: str) -> None:
    assert mask_addresses(text) == masked


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("E101", DecodingError),
        ("E104", StructureError),
        ("E107", StructureError),
        ("E108", emma_osplus.FileNameError),
        ("E109", emma_osplus.SequenceGapError),
        ("E102", emma_osplus.IntegrityError),
        ("E103", emma_osplus.IntegrityError),
        ("E105", emma_osplus.XmlSecurityError),
        ("E106", emma_osplus.SchemaError),
        ("E201", RecordError),
        ("E209", RecordError),
        ("E301", ProcessError),
        ("W201", MessageError),
    ],
)
def test_error_for_maps_codes(code: str, cls: type[MessageError]) -> None:
    err = error_for(Message(code))
    assert type(err) is cls
    assert isinstance(err, EmmaOsplusError)
    assert err.code == code


@given(messages())
def test_every_message_has_an_error(message: Message) -> None:
    err = error_for(message)
    assert err.message is message
    assert isinstance(err, MessageError)
    if message.code.startswith("E1"):
        assert isinstance(err, FileError)


def test_invalid_value_error_is_value_error() -> None:
    assert issubclass(InvalidValueError, ValueError)
    assert issubclass(InvalidValueError, MessageError)


def test_first_error_skips_warnings() -> None:
    w, e = Message("W201"), Message("E203")
    assert first_error([w, e]) is e
    assert first_error([w]) is None


def test_public_all_is_sorted_and_complete() -> None:
    names = emma_osplus.__all__

    def isort_style(name: str) -> tuple[int, str]:
        if name.isupper():
            return (0, name)
        return (1, name) if name[0].isupper() else (2, name)

    assert list(names) == sorted(names, key=isort_style)
    for name in names:
        assert hasattr(emma_osplus, name)


@settings(max_examples=300)
@given(email_address_texts(), st.sampled_from(["{}", "'{}'", "EMAIL {}: x", "<{}>", "({})"]))
def test_every_valid_address_is_masked_whole(address: str, frame: str) -> None:
    """Whatever a valid address holds (an apostrophe: o'connor@…), only its first character
    (after any leading apostrophes, which cannot be told from quotes) and its domain are
    left, in any frame a message puts it in."""
    local, domain = address.rsplit("@", 1)
    shown = len(local) - len(local.lstrip("'")) + 1
    masked = mask_addresses(frame.format(address))
    assert masked == frame.format(f"{local[:shown]}***@{domain}")
