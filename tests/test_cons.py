"""Consent changes (FORMATS.md, "Consent changes (CONS)"): layout, formula escaping, round
trips and the ``ConsentChange`` record type."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emma_osplus import (
    DecodingError,
    InvalidValueError,
    Mode,
    Notice,
    Record,
    RecordError,
    Rejected,
    StructureError,
)
from emma_osplus._cons import (
    CONS,
    ConsentChange,
    escape_formula,
    iter_cons,
    read_cons,
    unescape_formula,
    write_cons,
)
from emma_osplus._consent import ConsentKind, ConsentLedger, ConsentSource, import_cons
from emma_osplus._jsonview import REFERENCE_1, JsonViewError
from emma_osplus.testing._csv import cons_files, consent_changes

HEADER = b"KUNDENNUMMER;EMAIL;STATUS;ZEITPUNKT;QUELLE;NACHWEIS\r\n"
BOM = b"\xef\xbb\xbf"
CET = dt.timezone(dt.timedelta(hours=1))
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")


# --------------------------------------------------------------------------- formula escaping


@given(st.text())
def test_unescape_inverts_escape(text: str) -> None:
    escaped = escape_formula(text)
    assert unescape_formula(escaped) == text
    assert escaped == text or escaped == "'" + text
    # nothing a spreadsheet would run: the escaped text starts with a formula character
    # only when it starts with the quote that makes it text
    assert not escaped.startswith(TRIGGERS[:-1])


@given(st.text(st.sampled_from("'=+-@\t\r x"), max_size=6))
def test_quotes_upon_quotes(text: str) -> None:
    """Text that already starts with quotes (or is only quotes) survives exactly."""
    assert unescape_formula(escape_formula(text)) == text
    assert escape_formula(text).startswith("'") == text.startswith(TRIGGERS)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("=SUMME(A1)", "'=SUMME(A1)"),
        ("+49 911", "'+49 911"),
        ("-5", "'-5"),
        ("@user", "'@user"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'", "''"),
        ("''x", "'''x"),
        ("", ""),
        ("a=b", "a=b"),
        (" =x", " =x"),
    ],
)
def test_escape_table(text: str, escaped: str) -> None:
    assert escape_formula(text) == escaped
    assert unescape_formula(escaped) == text


# --------------------------------------------------------------------------- round trips


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(consent_changes(), max_size=6))
def test_write_then_read_gives_the_changes_back(changes: list[ConsentChange]) -> None:
    data = write_cons(changes)
    assert data.startswith(BOM + HEADER)
    got = [ConsentChange.from_record(r) for r in read_cons(data).records()]
    assert got == changes
    for change, back in zip(changes, got, strict=True):
        assert back.time.utcoffset() == change.time.utcoffset()
    assert b"".join(iter_cons(changes)) == data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cons_files(max_rows=6), st.booleans())
def test_canonical_file_is_a_fixed_point(data: bytes, with_bom: bool) -> None:
    """Read (with or without its BOM) and written again: the same bytes."""
    source = data if with_bom else data[len(BOM) :]
    reader = read_cons(source, encoding=None if with_bom else "utf-8")
    records = [r.values for r in reader.records()]
    assert reader.encoding is not None
    assert write_cons(records, encoding=reader.encoding.name) == data


def test_no_formula_survives_in_the_file() -> None:
    change = ConsentChange(
        "4711", "-info@example.de", "ABMELDUNG", "2026-11-23T08:15:00+01:00", "ESP_LINK",
        '=HYPERLINK("http://x.example/";"klick")',
    )  # fmt: skip
    data = write_cons([change])
    line = data.split(b"\r\n")[1]
    assert line == (
        b"0000004711;'-info@example.de;ABMELDUNG;2026-11-23T08:15:00+01:00;ESP_LINK;"
        b'"\'=HYPERLINK(""http://x.example/"";""klick"")"'
    )
    [record] = read_cons(data).records()
    assert record.values["EMAIL"] == "-info@example.de"
    assert ConsentChange.from_record(record) == change


# --------------------------------------------------------------------------- reading


def test_read_with_and_without_bom() -> None:
    row = b"4711;a@example.de;EINWILLIGUNG;2026-11-23T08:15:00+01:00;WEBFORMULAR;DOI \xc3\xbcber Formular\r\n"
    for data in (BOM + HEADER + row, HEADER + row):
        [record] = read_cons(data).records()
        assert record.values["NACHWEIS"] == "DOI über Formular"
        assert record.values["KUNDENNUMMER"] == "0000004711"
        assert record.typed["STATUS"] is ConsentKind.CONSENT
        assert record.typed["QUELLE"] is ConsentSource.WEBFORMULAR
        assert record.typed["ZEITPUNKT"] == dt.datetime(2026, 11, 23, 8, 15, tzinfo=CET)


def test_the_encoding_is_utf8_never_guessed() -> None:
    """CONS is UTF-8 (FORMATS.md): with or without its BOM, never detected; a windows-1252
    byte is E101 with its line and offset, whatever the rest of the file looks like."""
    row = "4711;a@example.de;ABMELDUNG;2026-11-23T08:15:00+01:00;BRIEF;Frau Müller\r\n"
    for data, source in ((BOM + HEADER + row.encode(), "bom"), (HEADER + row.encode(), "declared")):
        reader = read_cons(data)
        assert [r.values["NACHWEIS"] for r in reader.records()] == ["Frau Müller"]
        assert reader.encoding is not None
        assert (reader.encoding.name, reader.encoding.source) == ("utf-8", source)
    ansi = HEADER + row.encode("cp1252")
    [notice] = read_cons(ansi, mode=Mode.LENIENT)
    assert isinstance(notice, Notice)
    assert (notice.message.code, notice.message.line) == ("E101", 2)
    assert "0xfc" in (notice.message.detail or "")
    with pytest.raises(DecodingError):
        list(read_cons(ansi))
    with pytest.raises(DecodingError):
        list(read_cons(("\ufeff" + HEADER.decode() + row).encode("utf-16")))
    # a caller who knows better declares the encoding (a file re-saved by a spreadsheet)
    [record] = read_cons(ansi, encoding="windows-1252").records()
    assert record.values["NACHWEIS"] == "Frau Müller"


def test_written_only_in_utf8() -> None:
    change = ConsentChange(
        "4711", "a@example.de", "ABMELDUNG", dt.datetime(2026, 11, 23, tzinfo=CET), "BRIEF", ""
    )
    assert write_cons([change], encoding="UTF-8").startswith(BOM)
    with pytest.raises(ValueError, match="CONS files are utf-8, not windows-1252"):
        write_cons([change], encoding="windows-1252")
    view = REFERENCE_1.to_json_view(write_cons([change]), kind="CONS")
    view["encoding"]["name"] = "windows-1252"
    with pytest.raises(JsonViewError, match=r"\$\.encoding\.name"):
        REFERENCE_1.from_json_view(view)


@pytest.mark.parametrize(
    ("row", "code", "field"),
    [
        (b"4711;a@example.de;abmeldung;2026-11-23T08:15:00+01:00;BRIEF;", "E207", "STATUS"),
        (b"4711;a@example.de;ABMELDUNG;2026-11-23T08:15:00+01:00;KUNDENPORTAL;", "E207", "QUELLE"),
        (b"4711;a@example.de;ABMELDUNG;2026-11-23T08:15:00;BRIEF;", "E205", "ZEITPUNKT"),
        (b"4711;a@example.de;ABMELDUNG;23.11.2026;BRIEF;", "E205", "ZEITPUNKT"),
        (
            b"4711;a@example.de;ABMELDUNG;2026-11-23T08:15:00+01:00;BRIEF;" + b"x" * 501,
            "E206",
            "NACHWEIS",
        ),
        (b"4711;a@example.de;ABMELDUNG;2026-11-23T08:15:00+01:00;;", "E208", "QUELLE"),
        (b";a@example.de;ABMELDUNG;2026-11-23T08:15:00+01:00;BRIEF;", "E208", "KUNDENNUMMER"),
        (b"4711;a@;ABMELDUNG;2026-11-23T08:15:00+01:00;BRIEF;", "E201", "EMAIL"),
        (b"4711;a@example.de;ABMELDUNG;2026-11-23T08:15:00+01:00;BRIEF", "E104", None),
    ],
)
def test_bad_rows(row: bytes, code: str, field: str | None) -> None:
    data = BOM + HEADER + row + b"\r\n"
    [item] = read_cons(data, mode=Mode.LENIENT)
    assert isinstance(item, Rejected)
    assert [(m.code, m.field, m.line) for m in item.messages] == [(code, field, 2)]
    with pytest.raises((RecordError, StructureError)) as info:
        list(read_cons(data))
    assert info.value.message == item.messages[0]


def test_evidence_of_exactly_500_characters_is_fine() -> None:
    row = b"4711;a@example.de;ABMELDUNG;2026-11-23T08:15:00+01:00;BRIEF;" + "ä".encode() * 500
    [record] = read_cons(HEADER + row).records()
    assert len(record.values["NACHWEIS"]) == 500


@pytest.mark.parametrize(
    "header",
    [
        b"KUNDENNUMMER;EMAIL;STATUS;ZEITPUNKT;QUELLE\r\n",  # NACHWEIS missing
        b"KUNDENNUMMER;EMAIL;STATUS;ZEITPUNKT;QUELLE;NACHWEIS;FILIALE\r\n",  # unknown column
    ],
)
def test_the_header_is_fixed(header: bytes) -> None:
    with pytest.raises(StructureError, match="E107"):
        list(read_cons(header))
    [notice] = read_cons(header, mode=Mode.LENIENT)
    assert isinstance(notice, Notice)


def test_header_in_another_order_or_case_is_read() -> None:
    data = b"nachweis;quelle;zeitpunkt;status;email;kundennummer\r\n'=1;BRIEF;2026-11-23T08:15:00Z;ABMELDUNG;a@example.de;4711\r\n"
    reader = read_cons(data)
    [record] = list(reader.records())
    assert reader.columns == ("NACHWEIS", "QUELLE", "ZEITPUNKT", "STATUS", "EMAIL", "KUNDENNUMMER")
    change = ConsentChange.from_record(record)
    assert change.evidence == "=1"
    assert write_cons([change]).endswith(
        b"0000004711;a@example.de;ABMELDUNG;2026-11-23T08:15:00+00:00;BRIEF;'=1\r\n"
    )


def test_spreadsheet_apostrophe_before_a_number_is_removed() -> None:
    """Spreadsheet users keep leading zeros with a ``'``; the reader removes exactly one."""
    data = HEADER + b"'0000004711;a@example.de;ABMELDUNG;2026-11-23T08:15:00+01:00;BRIEF;''x\r\n"
    [record] = read_cons(data).records()
    assert record.values["KUNDENNUMMER"] == "0000004711"
    assert record.values["NACHWEIS"] == "'x"


# --------------------------------------------------------------------------- the record type


def test_consent_change_converts_and_validates() -> None:
    change = ConsentChange(
        4711, "Anna@Example.DE", "HARTBOUNCE", "2026-11-23T02:00:00Z", "ESP_LINK"
    )
    assert change.customer.value == "0000004711"
    assert str(change.email) == "Anna@example.de"
    assert change.status is ConsentKind.HARD_BOUNCE
    assert change.time == dt.datetime(2026, 11, 23, 2, tzinfo=dt.timezone.utc)
    assert change.evidence == ""
    assert "A***@example.de" in repr(change)
    assert "Anna@" not in repr(change)
    with pytest.raises(InvalidValueError) as info:
        ConsentChange(4711, "a@example.de", "GELOESCHT", "2026-11-23T02:00:00Z", "ESP_LINK")
    assert (info.value.code, info.value.message.field) == ("E207", "STATUS")
    with pytest.raises(InvalidValueError) as info:
        ConsentChange(4711, "a@example.de", "ABMELDUNG", dt.datetime(2026, 11, 23), "ESP_LINK")
    assert (info.value.code, info.value.message.field) == ("E205", "ZEITPUNKT")
    with pytest.raises(InvalidValueError) as info:
        ConsentChange(4711, "a@example.de", "ABMELDUNG", "2026-11-23T02:00:00Z", "BRIEF", "x" * 501)
    assert (info.value.code, info.value.message.field) == ("E206", "NACHWEIS")
    with pytest.raises(InvalidValueError, match="E208"):
        ConsentChange.from_row(
            {
                "KUNDENNUMMER": "1",
                "EMAIL": "a@example.de",
                "STATUS": "",
                "ZEITPUNKT": "x",
                "QUELLE": "BRIEF",
            }
        )


@settings(max_examples=50, deadline=None)
@given(consent_changes())
def test_row_conversion_round_trip(change: ConsentChange) -> None:
    assert ConsentChange.from_row(change.to_row()) == change


def test_write_accepts_rows_and_refuses_bad_ones() -> None:
    row = {"KUNDENNUMMER": "4711", "EMAIL": "a@example.de", "STATUS": "ABMELDUNG",
           "ZEITPUNKT": "2026-11-23T08:15:00+01:00", "QUELLE": "BRIEF", "NACHWEIS": ""}  # fmt: skip
    assert (
        write_cons([row])
        == BOM + HEADER + b"0000004711;a@example.de;ABMELDUNG;2026-11-23T08:15:00+01:00;BRIEF;\r\n"
    )
    with pytest.raises(RecordError) as info:
        write_cons([row, {**row, "STATUS": "Abmeldung"}])
    assert (info.value.code, info.value.message.field, info.value.message.line) == (
        "E207",
        "STATUS",
        3,
    )


def test_layout_is_data() -> None:
    assert [c.name for c in CONS.columns] == [
        "KUNDENNUMMER",
        "EMAIL",
        "STATUS",
        "ZEITPUNKT",
        "QUELLE",
        "NACHWEIS",
    ]
    assert (CONS.encoding, CONS.bom, CONS.allow_unknown, CONS.require_all, CONS.formula_escape) == (
        "utf-8", True, False, True, True,
    )  # fmt: skip
    assert [c.name for c in CONS.columns if not c.required] == ["NACHWEIS"]


def test_records_feed_the_consent_ledger() -> None:
    """What ``read_cons`` yields is what ``import_cons`` of the consent ledger takes."""
    changes = [
        ConsentChange(
            4711, "a@example.de", "EINWILLIGUNG", "2026-11-01T10:00:00+01:00", "WEBFORMULAR", "DOI"
        ),
        ConsentChange(4711, "a@example.de", "ABMELDUNG", "2026-11-05T10:00:00+01:00", "ESP_LINK"),
    ]
    items = list(read_cons(write_cons(changes)))
    assert all(isinstance(i, Record) for i in items)
    ledger, report = import_cons(ConsentLedger(), items)
    assert report.new == 2
    assert not ledger.may_send(
        "4711", "a@example.de", at=dt.datetime(2026, 11, 6, tzinfo=CET)
    ).allowed
