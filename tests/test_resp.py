"""The responses file (RESP): the layout exactly as FORMATS.md tabulates it, write → read
identity, canonical bytes, refusals per code with record number and field, truncation,
golden files, sequence gaps and streaming memory."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emma_osplus import (
    Blz,
    CustomerNumber,
    InvalidValueError,
    MessageError,
    Mode,
    Notice,
    Record,
    RecordError,
    Rejected,
    StructureError,
)
from emma_osplus._email import EmailAddress
from emma_osplus._fixed import Field, read_fixed
from emma_osplus._resp import (
    DETAIL_FIELDS,
    RESP_LAYOUT,
    RespHeader,
    ResponseRecord,
    RespTrailer,
    check_sequence,
    iter_resp,
    read_resp,
    write_resp,
)
from emma_osplus.testing import email_address_texts, invalid_email_addresses
from emma_osplus.testing._fixed import CP1252_CHARACTERS, resp_files, response_records

UTC = dt.timezone.utc
CREATED = dt.datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
GOLDEN = Path(__file__).parent / "golden" / "resp"


def _record(**changes: Any) -> ResponseRecord:
    base: dict[str, Any] = {
        "customer_number": "4711",
        "order_number": "K2026001",
        "order_kind": "KMM",
        "reaction": "VS",
        "occurred": dt.datetime(2026, 11, 20, 8, 5, 12, tzinfo=UTC),
        "mailing_id": "M-2026-11",
        "email": "anna.schmidt@example.de",
        "event_id": "evt-000001",
    }
    base.update(changes)
    return ResponseRecord(**base)


RECORDS = [
    _record(),
    _record(reaction="OE", event_id="evt-000002"),
    _record(reaction="KL", detail="cta-1", event_id="evt-000003"),
    _record(reaction="AB", detail="LINK", event_id="evt-000004", customer_number="81234"),
    _record(reaction="HB", status_code="5.1.1", detail="550 Empfänger unbekannt", event_id="e5"),
    _record(reaction="SB", status_code="4.2.2", detail="", event_id="e6"),
    _record(reaction="ZH", detail="KEINE_EINWILLIGUNG", event_id="e7", customer_number=9999999999),
]
TOTAL = 4711 * 5 + 81234 + 9999999999
GOOD = write_resp("37050198", CREATED, 42, RECORDS)
LINES = GOOD.split(b"\r\n")[:-1]


def _lenient(data: bytes) -> list[Any]:
    return list(read_resp(data, mode=Mode.LENIENT))


def _messages(items: list[Any]) -> list[tuple[str, int | None, str | None]]:
    out: list[tuple[str, int | None, str | None]] = []
    for item in items:
        if isinstance(item, Rejected):
            out += [(m.code, m.line, m.field) for m in item.messages]
        elif isinstance(item, Notice):
            out.append((item.message.code, item.message.line, item.message.field))
    return out


def _put(line: bytes, start: int, text: str) -> bytes:
    raw = text.encode("cp1252")
    return line[: start - 1] + raw + line[start - 1 + len(raw) :]


def _join(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\r\n" for line in lines)


# -- the layout is the table -----------------------------------------------------------------

TABLES: dict[str, list[tuple[str | None, int, int]]] = {
    "A": [("SATZART", 1, 1), ("BLZ", 2, 8), ("ERSTELLT", 10, 14), ("DATEINUMMER", 24, 6),
          ("VERSION", 30, 2), (None, 32, 369)],
    "R": [("SATZART", 1, 1), ("KUNDENNUMMER", 2, 10), ("AUFTRAGSNUMMER", 12, 20),
          ("AUFTRAGSART", 32, 4), ("REAKTION", 36, 2), ("ZEITPUNKT", 38, 14),
          ("MAILING_ID", 52, 20), ("EMAIL", 72, 254), ("STATUSCODE", 326, 10),
          ("DETAIL", 336, 40), ("EREIGNIS_ID", 376, 25)],
    "E": [("SATZART", 1, 1), ("BLZ", 2, 8), ("ANZAHL", 10, 10), ("KONTROLLSUMME", 20, 17),
          (None, 37, 364)],
}  # fmt: skip


@pytest.mark.parametrize("code", ["A", "R", "E"])
def test_layout_matches_the_specification_tables(code: str) -> None:
    rtype = RESP_LAYOUT.record_type(code)
    got = [(None if f.filler else f.name, f.start, f.length) for f in rtype.fields]
    assert got == TABLES[code]
    assert rtype.fields[0].constant == code
    assert RESP_LAYOUT.record_length == 400
    assert RESP_LAYOUT.encoding == "windows-1252"
    assert [f.name for f in rtype.value_fields][1:] == [
        name for name, _, _ in TABLES[code][1:] if name is not None
    ]
    assert tuple(f.name for f in RESP_LAYOUT.record_type("R").value_fields)[1:] == DETAIL_FIELDS


def test_numeric_fields_are_right_aligned_zero_padded_others_left_spaces() -> None:
    numeric = {"KUNDENNUMMER", "DATEINUMMER", "ANZAHL", "KONTROLLSUMME"}
    for rtype in RESP_LAYOUT.record_types:
        for f in rtype.value_fields:
            expected = ("right", "0") if f.name in numeric else ("left", " ")
            assert (f.align, f.pad) == expected, f.name


# -- the fast path never accepts more than the converters -------------------------------------

_LOOKAROUND = re.compile(r"\(\?[=!][^()]*(?:\([^()]*\)[^()]*)*\)")


def _candidates(field: Field) -> st.SearchStrategy[str]:
    assert field.pattern is not None
    plain = _LOOKAROUND.sub("", field.pattern)  # a superset to draw from
    strategies = [
        st.from_regex(plain, fullmatch=True),
        st.text(CP1252_CHARACTERS, max_size=field.length),
    ]
    if field.name == "EMAIL":
        # generated valid addresses are mostly not canonical (capitals, IDN), so 200 draws
        # could miss the pattern altogether: canonical ones too, so that it is always tried
        canonical = st.sampled_from(["anna@example.de", "j.mueller-2@mail.sparkasse.de"])
        strategies += [canonical, email_address_texts(), invalid_email_addresses()]
    return st.one_of(strategies)


FAST_FIELDS = [
    (rtype.code, f) for rtype in RESP_LAYOUT.record_types for f in rtype.fields if f.pattern
]


@pytest.mark.parametrize(
    ("code", "field"), FAST_FIELDS, ids=[f"{c}.{f.name}" for c, f in FAST_FIELDS]
)
def test_fast_patterns_accept_only_valid_canonical_values(code: str, field: Field) -> None:
    assert field.pattern is not None
    assert field.converter is not None
    pattern = re.compile(field.pattern)
    converter = field.converter
    hits: list[str] = []

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_candidates(field))
    def check(text: str) -> None:
        if len(text) > field.length or pattern.fullmatch(text) is None:
            return  # (a longer text cannot be in the field)
        hits.append(text)
        assert converter.canonical(text) == text
        assert text
        assert text.strip(" ") == text
        if field.pad == "0":
            assert field.strip(field.pad_text(text)) in (text, text.lstrip("0") or "0")

    check()
    assert hits, "the pattern never matched: the test is vacuous"


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text("0123456789", min_size=14, max_size=14),
        st.datetimes().map(lambda d: f"{d.year:04d}{d:%m%d%H%M%S}"),
        st.text(max_size=16),
    )
)
def test_resp_timestamp_converter_is_timestamp_utc(text: str) -> None:
    """The layout's positional timestamp parser accepts and refuses exactly what
    ``TIMESTAMP_UTC`` (strptime) does, with the same values."""
    from emma_osplus._converters import TIMESTAMP_UTC

    converter = RESP_LAYOUT.record_type("R").field("ZEITPUNKT").converter
    assert converter is not None
    try:
        expected = TIMESTAMP_UTC.parse(text)
    except InvalidValueError as exc:
        with pytest.raises(InvalidValueError) as info:
            converter.parse(text)
        assert info.value.code == exc.code == "E205"
    else:
        assert converter.parse(text) == expected
        assert converter.canonical(text) == TIMESTAMP_UTC.canonical(text)


# -- write and read --------------------------------------------------------------------------


def test_canonical_file_bytes() -> None:
    assert len(LINES) == 9
    assert all(len(line) == 400 for line in LINES)
    assert GOOD.endswith(b"\r\n")
    assert LINES[0].rstrip(b" ") == b"A370501982026112209300000004201"
    assert LINES[5][:51] == b"R0000004711K2026001            KMM HB20261120080512"
    assert LINES[5][325:375].rstrip(b" ") == b"5.1.1     550 Empf\xe4nger unbekannt"
    assert LINES[8].rstrip(b" ") == b"E37050198" + b"0000000007" + b"%017d" % TOTAL


def test_read_good_file_typed() -> None:
    reader = read_resp(GOOD)
    items = list(reader)
    assert all(isinstance(i, Record) for i in items)
    details = [i for i in items if isinstance(i, Record) and i.record_type == "R"]
    assert [ResponseRecord.from_record(r) for r in details] == RECORDS
    first = details[0]
    assert first.line == 2
    assert first.typed["KUNDENNUMMER"] == CustomerNumber("4711")
    assert first.typed["ZEITPUNKT"] == dt.datetime(2026, 11, 20, 8, 5, 12, tzinfo=UTC)
    assert isinstance(first.typed["EMAIL"], EmailAddress)
    assert first.typed["STATUSCODE"] is None
    assert reader.header is not None
    assert reader.trailer is not None
    header = RespHeader.from_record(reader.header)
    assert header == RespHeader(Blz("37050198"), CREATED, 42)
    assert reader.header.typed["DATEINUMMER"] == 42
    trailer = RespTrailer.from_record(reader.trailer)
    assert trailer == RespTrailer("37050198", 7, TOTAL)


def test_record_values_are_the_json_view_shape() -> None:
    details = [i for i in read_resp(GOOD) if isinstance(i, Record) and i.record_type == "R"]
    for record, expected in zip(details, RECORDS, strict=True):
        assert {k: v for k, v in record.values.items() if k != "SATZART"} == expected.to_values()
        assert list(expected.to_values()) == list(DETAIL_FIELDS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(response_records(), max_size=12),
    st.integers(0, 999_999),
    st.sampled_from(["37050198", "10050000", "86055592"]),
)
def test_write_read_identity(records: list[ResponseRecord], sequence: int, blz: str) -> None:
    data = write_resp(blz, CREATED, sequence, records)
    reader = read_resp(data)
    details = [
        ResponseRecord.from_record(r)
        for r in reader
        if isinstance(r, Record) and r.record_type == "R"
    ]
    assert details == records
    assert reader.header is not None
    assert RespHeader.from_record(reader.header) == RespHeader(blz, CREATED, sequence)
    assert reader.trailer is not None
    trailer = RespTrailer.from_record(reader.trailer)
    assert trailer.count == len(records)
    assert trailer.checksum == sum(int(r.customer_number) for r in records) % 10**17
    assert b"".join(iter_resp(blz, CREATED, sequence, records)) == data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(resp_files())
def test_reading_canonical_and_writing_again_gives_the_same_bytes(data: bytes) -> None:
    reader = read_resp(data)
    items = list(reader)
    assert reader.header is not None
    header = RespHeader.from_record(reader.header)
    details = [i.values for i in items if isinstance(i, Record) and i.record_type == "R"]
    again = write_resp(header.blz, header.created, header.sequence, details)
    assert again == data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(resp_files(max_records=4))
def test_fast_and_slow_path_agree(data: bytes) -> None:
    from emma_osplus._fixed import read_fixed

    assert list(read_fixed(data, RESP_LAYOUT, fast=False)) == list(read_resp(data))


# -- refusals per code -----------------------------------------------------------------------

# (line index, 1-based position, new text, code, field)
READ_REFUSALS = [
    (1, 2, "00000047a1", "E202", "KUNDENNUMMER"),
    (1, 2, "          ", "E208", "KUNDENNUMMER"),
    (1, 12, "k2026001", "E209", "AUFTRAGSNUMMER"),
    (1, 32, "XMM ", "E207", "AUFTRAGSART"),
    (1, 32, "kmm ", "E207", "AUFTRAGSART"),
    (1, 36, "XX", "E207", "REAKTION"),
    (1, 38, "20261131080512", "E205", "ZEITPUNKT"),
    (1, 38, "2026113108051 ", "E205", "ZEITPUNKT"),
    (1, 52, "M 2026", "E209", "MAILING_ID"),
    (1, 72, "anna.schmidt@@example.de", "E201", "EMAIL"),
    (1, 72, " " * 254, "E208", "EMAIL"),
    (1, 326, "5.1.1", "E209", "STATUSCODE"),
    (1, 336, "NACHRICHT", "E207", "DETAIL"),
    (2, 336, "LINK", "E207", "DETAIL"),
    (3, 336, " " * 40, "E207", "DETAIL"),
    (4, 336, "NEWSLETTER", "E207", "DETAIL"),
    (5, 326, " " * 10, "E208", "STATUSCODE"),
    (5, 326, "550       ", "E209", "STATUSCODE"),
    (5, 326, "9.1.1     ", "E209", "STATUSCODE"),
    (7, 336, "GESPERRT" + " " * 32, "E207", "DETAIL"),
    (1, 376, "evt 1", "E209", "EREIGNIS_ID"),
    (1, 376, " " * 25, "E208", "EREIGNIS_ID"),
    (0, 2, "07050198", "E209", "BLZ"),
    (0, 10, "20261122250000", "E205", "ERSTELLT"),
    (0, 24, "00004x", "E209", "DATEINUMMER"),
    (0, 30, "02", "E207", "VERSION"),
    (0, 200, "x", "E104", "FILLER"),
    (8, 2, "3705019x", "E209", "BLZ"),
    (8, 10, "000000000x", "E209", "ANZAHL"),
    (8, 300, "x", "E104", "FILLER"),
]


@pytest.mark.parametrize(("index", "start", "text", "code", "field"), READ_REFUSALS)
def test_read_refusals_name_record_and_field(
    index: int, start: int, text: str, code: str, field: str
) -> None:
    lines = list(LINES)
    lines[index] = _put(lines[index], start, text)
    data = _join(lines)
    items = _lenient(data)
    bad = [i for i in items if isinstance(i, Rejected)]
    assert len(bad) == 1
    assert bad[0].line == index + 1
    assert bad[0].raw == lines[index].decode("cp1252")
    assert (bad[0].messages[0].code, bad[0].messages[0].field) == (code, field)
    assert bad[0].messages[0].raw == bad[0].raw
    with pytest.raises(MessageError) as info:
        list(read_resp(data))
    assert (info.value.code, info.value.message.line, info.value.message.field) == (
        code,
        index + 1,
        field,
    )


def test_every_problem_of_a_record_is_reported() -> None:
    line = _put(_put(LINES[1], 2, "00000047a1"), 72, "kein-at-zeichen.de")
    items = _lenient(_join([LINES[0], line, *LINES[2:]]))
    assert _messages(items) == [("E202", 2, "KUNDENNUMMER"), ("E201", 2, "EMAIL")]


def test_cross_field_rules_report_both_fields() -> None:
    line = _put(_put(LINES[1], 326, "5.1.1"), 336, "LINK")
    assert _messages(_lenient(_join([LINES[0], line, *LINES[2:]]))) == [
        ("E207", 2, "DETAIL"),
        ("E209", 2, "STATUSCODE"),
    ]


# -- truncation and structure ----------------------------------------------------------------


def test_dropped_trailer_is_e104() -> None:
    data = _join(LINES[:-1])
    assert _messages(_lenient(data)) == [("E104", None, None)]
    with pytest.raises(StructureError, match="trailer missing"):
        list(read_resp(data))


def test_dropped_detail_is_e104_count_and_sum() -> None:
    data = _join([*LINES[:3], *LINES[4:]])
    assert _messages(_lenient(data)) == [("E104", 8, "ANZAHL"), ("E104", 8, "KONTROLLSUMME")]
    with pytest.raises(StructureError) as info:
        list(read_resp(data))
    assert info.value.message.field == "ANZAHL"
    assert len(info.value.messages) == 2


def test_dropped_detail_with_same_customer_number_still_breaks_the_count() -> None:
    data = _join([LINES[0], LINES[1], *LINES[3:]])  # two details of customer 4711 left
    assert _messages(_lenient(data))[0] == ("E104", 8, "ANZAHL")


def test_wrong_sum_alone_is_e104() -> None:
    trailer = _put(LINES[8], 20, f"{TOTAL + 1:017d}")
    data = _join([*LINES[:8], trailer])
    assert _messages(_lenient(data)) == [("E104", 9, "KONTROLLSUMME")]


def test_control_sum_is_modulo_10_17() -> None:
    records = [_record(customer_number=9999999999, event_id=f"e{i}") for i in range(20)]
    data = write_resp("37050198", CREATED, 1, records)
    trailer = data.split(b"\r\n")[-2]
    assert trailer[19:36] == str(20 * 9999999999).zfill(17).encode()
    reader = read_resp(data)
    list(reader)
    assert reader.trailer is not None
    assert reader.trailer.values["KONTROLLSUMME"] == str(20 * 9999999999)


# -- the typed records -----------------------------------------------------------------------

RECORD_REFUSALS = [
    ({"customer_number": "12345678901"}, "E202", "KUNDENNUMMER"),
    ({"order_number": "k1"}, "E209", "AUFTRAGSNUMMER"),
    ({"order_kind": "ABC"}, "E207", "AUFTRAGSART"),
    ({"reaction": "XX"}, "E207", "REAKTION"),
    ({"occurred": dt.datetime(2026, 1, 1)}, "E205", "ZEITPUNKT"),
    ({"occurred": dt.datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=UTC)}, "E205", "ZEITPUNKT"),
    ({"mailing_id": "M 1"}, "E209", "MAILING_ID"),
    ({"email": "anna@@example.de"}, "E201", "EMAIL"),
    ({"email": "anna@example.de", "reaction": "HB", "detail": "x"}, "E208", "STATUSCODE"),
    ({"status_code": "5.1.1"}, "E209", "STATUSCODE"),
    ({"detail": "hallo"}, "E207", "DETAIL"),
    ({"reaction": "HB", "status_code": "5.1.1", "detail": "x" * 41}, "E206", "DETAIL"),
    ({"reaction": "HB", "status_code": "5.1.1", "detail": "Ω"}, "E206", "DETAIL"),
    ({"reaction": "HB", "status_code": "5.1.1", "detail": "Fehler "}, "E206", "DETAIL"),
    ({"event_id": "evt#1"}, "E209", "EREIGNIS_ID"),
    ({"email": "jörg@example.de"}, "E201", "EMAIL"),
    ({"email": "anna@日本.jp"}, "E206", "EMAIL"),
]


@pytest.mark.parametrize(("changes", "code", "field"), RECORD_REFUSALS)
def test_response_record_refusals(changes: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        _record(**changes)
    assert (info.value.code, info.value.message.field) == (code, field)


def test_from_values_round_trip_and_refusals() -> None:
    for record in RECORDS:
        values = record.to_values()
        assert ResponseRecord.from_values(values) == record
        assert ResponseRecord.from_values({"SATZART": "R", **values}) == record
    values = RECORDS[0].to_values()
    del values["STATUSCODE"], values["DETAIL"]
    assert ResponseRecord.from_values(values) == RECORDS[0]
    for bad, code, field in [
        ({"SATZART": "A"}, "E207", "SATZART"),
        ({"FARBE": "rot"}, "E209", "FARBE"),
        ({"EMAIL": ""}, "E208", "EMAIL"),
        ({"KUNDENNUMMER": "x"}, "E202", "KUNDENNUMMER"),
    ]:
        with pytest.raises(InvalidValueError) as info:
            ResponseRecord.from_values({**RECORDS[0].to_values(), **bad})
        assert (info.value.code, info.value.message.field) == (code, field)
    missing = RECORDS[0].to_values()
    del missing["EREIGNIS_ID"]
    with pytest.raises(InvalidValueError) as info:
        ResponseRecord.from_values(missing)
    assert (info.value.code, info.value.message.field) == ("E208", "EREIGNIS_ID")


def test_repr_masks_the_address() -> None:
    assert "anna.schmidt" not in repr(RECORDS[0])
    assert "a***@example.de" in repr(RECORDS[0])


def test_header_and_trailer_types() -> None:
    header = RespHeader(
        "37050198", dt.datetime(2026, 11, 22, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))), 7
    )
    assert header.created == CREATED
    assert header.to_values()["ERSTELLT"] == "20261122093000"
    assert (
        RespHeader.from_values(
            {"BLZ": "37050198", "ERSTELLT": "20261122093000", "DATEINUMMER": "7"}
        )
        == header
    )
    trailer = RespTrailer("37050198", 3, 12)
    assert RespTrailer.from_values(trailer.to_values()) == trailer
    makers: list[tuple[Callable[[], object], str, str]] = [
        (lambda: RespHeader("07050198", CREATED, 1), "E209", "BLZ"),
        (lambda: RespHeader("37050198", CREATED, 1_000_000), "E209", "DATEINUMMER"),
        (lambda: RespHeader("37050198", CREATED, 1, version="02"), "E207", "VERSION"),
        (
            lambda: RespHeader.from_values({"BLZ": "37050198", "DATEINUMMER": "1"}),
            "E208",
            "ERSTELLT",
        ),
        (lambda: RespTrailer("37050198", -1, 0), "E209", "ANZAHL"),
        (lambda: RespTrailer("37050198", 1, 10**17), "E209", "KONTROLLSUMME"),
        (lambda: RespTrailer("37050198", "1", 1), "E209", "ANZAHL"),  # type: ignore[arg-type]
        (lambda: RespHeader("37050198", CREATED, "7"), "E209", "DATEINUMMER"),  # type: ignore[arg-type]
        (lambda: RespTrailer.from_values({"SATZART": "A"}), "E207", "SATZART"),
    ]
    for make, code, field in makers:
        with pytest.raises(InvalidValueError) as info:
            make()
        assert (info.value.code, info.value.message.field) == (code, field)


def test_write_resp_refusals_name_the_record() -> None:
    values = RECORDS[0].to_values()
    with pytest.raises(RecordError) as info:
        write_resp("37050198", CREATED, 1, [RECORDS[0], {**values, "DETAIL": "x" * 41}])
    assert (info.value.code, info.value.message.line, info.value.message.field) == (
        "E206",
        3,
        "DETAIL",
    )
    with pytest.raises(RecordError) as info:
        write_resp("37050198", CREATED, 1, [{**values, "REAKTION": "OE", "DETAIL": "LINK"}])
    assert (info.value.code, info.value.message.line, info.value.message.field) == (
        "E207",
        2,
        "DETAIL",
    )
    with pytest.raises(RecordError) as info:
        write_resp("07050198", CREATED, 1, [])
    assert (info.value.code, info.value.message.line, info.value.message.field) == (
        "E209",
        1,
        "BLZ",
    )


# -- sequence numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "current", "missing"),
    [
        (None, 1, None),
        (None, 7, None),
        (1, 2, None),
        (5, 5, None),
        (5, 3, None),
        (1, 3, 1),
        (41, 44, 2),
    ],
)
def test_check_sequence(previous: int | None, current: int, missing: int | None) -> None:
    message = check_sequence(previous, current)
    if missing is None:
        assert message is None
    else:
        assert message is not None
        assert (message.code, message.field) == ("E109", "DATEINUMMER")
        assert f"{missing} file(s) missing" in (message.detail or "")


def _header_of(data: bytes) -> RespHeader:
    reader = read_resp(data)
    list(reader)
    assert reader.header is not None
    return RespHeader.from_record(reader.header)


def test_sequence_from_two_files() -> None:
    first = _header_of(write_resp("37050198", CREATED, 41, []))
    second = _header_of(write_resp("37050198", CREATED, 43, []))
    message = check_sequence(first.sequence, second.sequence)
    assert message is not None
    assert message.code == "E109"


# -- golden files ----------------------------------------------------------------------------

GOLDEN_CASES = sorted(p.stem for p in GOLDEN.glob("*.txt"))


def test_golden_folder_is_complete() -> None:
    assert len(GOLDEN_CASES) >= 10
    assert {p.stem for p in GOLDEN.glob("*.json")} == set(GOLDEN_CASES)


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden(case: str) -> None:
    """Each ``<case>.txt`` beside ``<case>.json``: header, good records (JSON view shape),
    trailer and every message (code, record number, field) of a lenient read; strict reading
    raises the first message; canonical files are written back byte for byte."""
    data = (GOLDEN / f"{case}.txt").read_bytes()
    expected = json.loads((GOLDEN / f"{case}.json").read_text(encoding="utf-8"))
    reader = read_resp(data, mode=Mode.LENIENT)
    items = list(reader)
    good = [i for i in items if isinstance(i, Record)]
    records = [
        {k: v for k, v in i.values.items() if k != "SATZART"} for i in good if i.record_type == "R"
    ]
    assert (None if reader.header is None else dict(reader.header.values)) == expected["header"]
    assert records == expected["records"]
    assert (None if reader.trailer is None else dict(reader.trailer.values)) == expected["trailer"]
    messages = [{"code": c, "line": n, "field": f} for c, n, f in _messages(items)]
    assert messages == expected["messages"]
    if expected["messages"]:
        with pytest.raises(MessageError) as info:
            list(read_resp(data))
        first = expected["messages"][0]
        assert (info.value.code, info.value.message.line) == (first["code"], first["line"])
    else:
        assert list(read_resp(data)) == good
    if expected["header"] is not None:
        header = RespHeader.from_values(expected["header"])
        written = write_resp(header.blz, header.created, header.sequence, expected["records"])
        assert (written == data) is expected["canonical"]


# -- streaming -------------------------------------------------------------------------------


def _big_file(path: Path, records: int) -> int:
    """A valid file of *records* hard bounces (varied customer numbers and event ids), built
    from one written detail by slicing (the writer is not under test here)."""
    header, template, _ = write_resp("37050198", CREATED, 1, [RECORDS[4]]).split(b"\r\n", 2)
    with path.open("wb") as out:
        out.write(header + b"\r\n")
        for start in range(0, records, 1000):
            out.write(
                b"".join(
                    template[:1]
                    + b"%010d" % i
                    + template[11:375]
                    + (b"evt-%d" % i).ljust(25)
                    + b"\r\n"
                    for i in range(start, min(start + 1000, records))
                )
            )
        total = records * (records - 1) // 2
        out.write((b"E37050198%010d%017d" % (records, total)).ljust(400) + b"\r\n")
    return path.stat().st_size


def _peak(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        with path.open("rb") as source:
            reader = read_resp(source, chunk_size=16_384)
            count = sum(1 for _ in reader)
            assert reader.trailer is not None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak


def test_streaming_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    """Read through a file object, the reader holds one chunk and one record at a time: the
    peak is a fraction of the file and does not grow when the file doubles."""
    small, large = tmp_path / "small.txt", tmp_path / "large.txt"
    _big_file(small, 1_000)
    size = _big_file(large, 2_000)
    count_small, peak_small = _peak(small)
    count_large, peak_large = _peak(large)
    assert (count_small, count_large) == (1_002, 2_002)
    assert peak_large < size / 4, (peak_large, size)
    assert peak_large < peak_small * 1.25 + 16_384, (peak_small, peak_large)


def test_reader_accepts_file_objects_and_chunk_iterables() -> None:
    assert list(read_resp(io.BytesIO(GOOD))) == list(read_resp(GOOD))
    assert list(read_resp(iter([GOOD[:1000], GOOD[1000:]]))) == list(read_resp(GOOD))


# -- the benchmark runs ----------------------------------------------------------------------


def test_benchmark_smoke(
    capsys: pytest.CaptureFixture[str], load_benchmark: Callable[[str], ModuleType]
) -> None:
    module = load_benchmark("bench_resp")
    assert module.main(["--records", "300", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "ratio" in out


def test_attrs_evolve_revalidates() -> None:
    with pytest.raises(InvalidValueError):
        attrs.evolve(RECORDS[0], reaction="AB")


def test_instruction_benchmark_without_valgrind(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    load_benchmark: Callable[[str], ModuleType],
) -> None:
    module = load_benchmark("bench_instructions")
    monkeypatch.setattr(module.shutil, "which", lambda name: None)
    assert module.main(["--quick"]) == 0
    assert "valgrind is not installed" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_instruction_benchmark_counts_more_for_more_work(
    load_benchmark: Callable[[str], ModuleType],
) -> None:
    module = load_benchmark("bench_instructions")
    idle = module.count("resp", "idle", 20)
    ours = module.count("resp", "ours", 20)
    assert 0 < idle < ours


# -- a layout's own trailer check sees every detail once, in file order ----------------------


@attrs.define
class _OrderTally:
    seen: list[str | None]

    def update(self, batch: Sequence[Mapping[str, str | None] | None]) -> None:
        self.seen.extend(None if values is None else values["EREIGNIS_ID"] for values in batch)

    def verify(self, header: Mapping[str, str] | None, trailer: Mapping[str, str]) -> None:
        return None

    def fill(self, header: Mapping[str, str], trailer: dict[str, Any]) -> None:
        pass


@attrs.frozen
class _OrderCheck:
    seen: list[str | None]

    def start(self) -> _OrderTally:
        return _OrderTally(self.seen)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 9), max_size=700),
    st.sampled_from([1 << 10, 1 << 14, 1 << 18]),
    st.booleans(),
)
def test_a_custom_check_sees_every_detail_once_in_file_order(
    kinds: list[int], chunk_size: int, fast: bool
) -> None:
    """Runs of good details (read column by column) and damaged ones (one character short:
    ``None``) reach a layout's own check exactly once each, in the order of the file, whatever
    the chunking and the path."""
    seen: list[str | None] = []
    layout = attrs.evolve(RESP_LAYOUT, checks=(*RESP_LAYOUT.checks, _OrderCheck(seen)))
    events = [f"evt-{i:06d}" for i in range(len(kinds))]
    records = [attrs.evolve(RECORDS[i % 3], event_id=e) for i, e in enumerate(events)]
    lines = write_resp("37050198", CREATED, 1, records).split(b"\r\n")
    expected: list[str | None] = []
    for i, kind in enumerate(kinds):
        if kind == 0:  # one in ten: a detail whose fields cannot be told apart
            lines[i + 1] = lines[i + 1][:-1]
            expected.append(None)
        else:
            expected.append(events[i])
    data = b"\r\n".join(lines)
    items = list(read_fixed(data, layout, mode=Mode.LENIENT, chunk_size=chunk_size, fast=fast))
    assert len(items) == len(kinds) + 2
    assert seen == expected
