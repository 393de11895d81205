"""The generic fixed-width engine: layouts validated as data, write → read identity for
arbitrary layouts and records, structure and decoding errors in strict and lenient mode,
writer refusals, line ends and chunking."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emma_osplus import (
    DecodingError,
    Mode,
    Notice,
    Record,
    RecordError,
    Rejected,
    StructureError,
)
from emma_osplus._converters import Integer, Pattern
from emma_osplus._fixed import (
    CountCheck,
    Field,
    FixedLayout,
    MatchHeader,
    RecordType,
    SumCheck,
    filler,
    iter_fixed,
    read_fixed,
    write_fixed,
)
from emma_osplus.testing._fixed import FixedContent, fixed_layouts, fixed_records

# A small layout used by the example-based tests: records of 20 characters.
HEADER = RecordType(
    "K",
    "header",
    (
        Field("TYP", 1, 1, constant="K"),
        Field("INST", 2, 4, required=True),
        Field("VERSION", 6, 2, constant="01"),
        filler(8, 13),
    ),
    role="header",
)
DETAIL = RecordType(
    "D",
    "detail",
    (
        Field("TYP", 1, 1, constant="D"),
        Field("NAME", 2, 10, required=True),
        Field("CODE", 12, 3, converter=Pattern("[A-Z]{1,3}", code="E207")),
        Field("MENGE", 15, 6, align="right", pad="0", converter=Integer(6), required=True),
    ),
    role="detail",
)
TRAILER = RecordType(
    "S",
    "trailer",
    (
        Field("TYP", 1, 1, constant="S"),
        Field("INST", 2, 4, required=True),
        Field("ANZAHL", 6, 5, align="right", pad="0", converter=Integer(5), required=True),
        Field("SUMME", 11, 10, align="right", pad="0", converter=Integer(10), required=True),
    ),
    role="trailer",
)
LAYOUT = FixedLayout(
    "DEMO",
    20,
    "windows-1252",
    (HEADER, DETAIL, TRAILER),
    checks=(MatchHeader("INST"), CountCheck("ANZAHL"), SumCheck("SUMME", of="MENGE")),
)
DETAILS = [
    {"NAME": "Äpfel", "CODE": "KG", "MENGE": "12"},
    {"NAME": "Birnen", "CODE": "", "MENGE": "7"},
    {"NAME": "Müsli €", "CODE": "ST", "MENGE": "0"},
]
GOOD = write_fixed(LAYOUT, {"INST": "SK01"}, DETAILS)
GOOD_LINES = GOOD.split(b"\r\n")[:-1]


def _items(data: Any, **kw: Any) -> list[Any]:
    return list(read_fixed(data, LAYOUT, mode=Mode.LENIENT, **kw))


def _records(items: list[Any]) -> list[Record]:
    assert all(isinstance(i, Record) for i in items), items
    return items


def _codes(items: list[Any]) -> list[tuple[str, int | None, str | None]]:
    out = []
    for item in items:
        if isinstance(item, Rejected):
            out += [(m.code, m.line, m.field) for m in item.messages]
        elif isinstance(item, Notice):
            out.append((item.message.code, item.message.line, item.message.field))
    return out


def _join(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\r\n" for line in lines)


# -- the example layout ----------------------------------------------------------------------


def test_good_file_bytes_and_values() -> None:
    assert GOOD_LINES == [
        b"KSK0101             ",
        b"D\xc4pfel     KG 000012",
        b"DBirnen       000007",
        b"DM\xfcsli \x80   ST 000000",
        b"SSK01000030000000019",
    ]
    reader = read_fixed(GOOD, LAYOUT)
    items = _records(list(reader))
    assert [i.line for i in items] == [1, 2, 3, 4, 5]
    assert [i.record_type for i in items] == ["K", "D", "D", "D", "S"]
    assert items[1].values == {"TYP": "D", "NAME": "Äpfel", "CODE": "KG", "MENGE": "12"}
    assert items[1].typed["MENGE"] == 12
    assert items[2].typed["CODE"] is None  # empty optional field
    assert reader.header is items[0]
    assert reader.trailer is items[4]
    assert reader.trailer.values == {"TYP": "S", "INST": "SK01", "ANZAHL": "3", "SUMME": "19"}
    assert reader.records == 5


def test_typed_mapping_behaves_like_a_mapping() -> None:
    record = next(i for i in read_fixed(GOOD, LAYOUT) if isinstance(i, Record) and i.line == 2)
    assert set(record.typed) == {"CODE", "MENGE"}
    assert "MENGE" in record.typed
    assert "NAME" not in record.typed
    assert len(record.typed) == 2
    assert dict(record.typed) == {"CODE": "KG", "MENGE": 12}
    with pytest.raises(KeyError):
        record.typed["NAME"]


@pytest.mark.parametrize("ending", [b"\r\n", b"\n", b"\r"])
def test_line_ends_crlf_lf_cr(ending: bytes) -> None:
    data = b"".join(line + ending for line in GOOD_LINES)
    assert [i.values for i in _items(data)] == [i.values for i in _items(GOOD)]


def test_mixed_line_ends_and_missing_final_line_end() -> None:
    data = GOOD_LINES[0] + b"\r" + GOOD_LINES[1] + b"\n" + b"\r\n".join(GOOD_LINES[2:])
    assert [i.values for i in _items(data)] == [i.values for i in _items(GOOD)]


@given(st.lists(st.integers(1, len(GOOD) - 1), unique=True, max_size=12))
def test_chunks_cut_anywhere_give_the_same_items(cuts: list[int]) -> None:
    for data in (GOOD, GOOD.replace(b"\r\n", b"\r")):
        bounds = [0, *sorted(cuts), len(data)]
        chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
        assert _items(iter(chunks)) == _items(data)


def test_file_object_and_small_chunk_size() -> None:
    assert _items(io.BytesIO(GOOD), chunk_size=7) == _items(GOOD)


def test_text_source_is_refused() -> None:
    with pytest.raises(TypeError):
        list(read_fixed(GOOD.decode("cp1252"), LAYOUT))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        list(read_fixed(io.StringIO("x"), LAYOUT))  # type: ignore[arg-type]


# -- structure errors ------------------------------------------------------------------------

STRUCTURE_CASES: list[tuple[str, list[Any], list[Any]]] = [
    # (name, lines, expected (code, line, field) in order)
    ("wrong length", [0, b"D" + b"x" * 10, 1, 2, 3, 4], [("E104", 2, None), ("E104", 6, "ANZAHL")]),
    ("too long", [0, 1, GOOD_LINES[2] + b" ", 3, 4], [("E104", 3, None)]),
    ("unknown type", [0, 1, b"X" * 20, 2, 3, 4], [("E107", 3, "TYP")]),
    ("trailer missing", [0, 1, 2, 3], [("E104", None, None)]),
    ("detail dropped", [0, 1, 3, 4], [("E104", 4, "ANZAHL"), ("E104", 4, "SUMME")]),
    ("header missing", [1, 2, 3, 4], [("E104", 1, "TYP")]),
    ("header not first", [1, 0, 2, 3, 4], [("E104", 1, "TYP"), ("E104", 2, None)]),
    ("second header", [0, 0, 1, 2, 3, 4], [("E104", 2, None)]),
    ("record after trailer", [0, 1, 2, 3, 4, 1], [("E104", 6, None)]),
    ("second trailer", [0, 1, 2, 3, 4, 4], [("E104", 6, None)]),
    ("blank line at the end", [0, 1, 2, 3, 4, b""], [("E104", 6, None)]),
    ("empty file", [], [("E104", None, None), ("E104", None, None)]),
    ("only header", [0], [("E104", None, None)]),
    ("trailer institute differs", [0, 1, 2, 3, b"SSK02000030000000019"], [("E104", 5, "INST")]),
    ("filler not blank", [b"KSK0101     x       ", 1, 2, 3, 4], [("E104", 1, "FILLER")]),
    ("version", [b"KSK0102             ", 1, 2, 3, 4], [("E207", 1, "VERSION")]),
    ("required empty", [0, b"D          KG 000012", 2, 3, 4], [("E208", 2, "NAME")]),
    ("converter code", [0, b"D\xc4pfel     kg 000012", 2, 3, 4], [("E207", 2, "CODE")]),
    ("number", [0, b"D\xc4pfel     KG 0000x2", 2, 3, 4], [("E209", 2, "MENGE")]),
    ("number blank", [0, b"D\xc4pfel     KG       ", 2, 3, 4], [("E208", 2, "MENGE")]),
    (
        "two errors",
        [0, b"D          kg 000012", 2, 3, 4],
        [("E208", 2, "NAME"), ("E207", 2, "CODE")],
    ),
]


def _build(spec: list[Any]) -> bytes:
    return _join([GOOD_LINES[x] if isinstance(x, int) else x for x in spec])


@pytest.mark.parametrize(
    ("name", "spec", "expected"), STRUCTURE_CASES, ids=[c[0] for c in STRUCTURE_CASES]
)
def test_structure_errors(name: str, spec: list[Any], expected: list[Any]) -> None:
    data = _build(spec)
    items = _items(data)
    assert _codes(items) == expected
    # nothing is lost: every physical record comes back, good or rejected
    records = [i for i in items if not isinstance(i, Notice)]
    assert len(records) == len(spec)
    for item, line in zip(records, data.split(b"\r\n"), strict=False):
        assert item.raw == line.decode("cp1252")
    # strict mode raises the first of them, with the same position and field
    code, line, field = expected[0]
    with pytest.raises((StructureError, RecordError)) as info:
        list(read_fixed(data, LAYOUT))
    assert (info.value.code, info.value.message.line, info.value.message.field) == (
        code,
        line,
        field,
    )


def test_rejected_details_count_but_do_not_break_the_sum() -> None:
    """A rejected detail is still a detail: the count holds, the sum cannot be verified, and
    only the record's own error is reported."""
    data = _build([0, b"D\xc4pfel     KG 0000x2", 2, 3, 4])
    assert _codes(_items(data)) == [("E209", 2, "MENGE")]


def test_undecodable_bytes_are_e101_never_replaced() -> None:
    bad = GOOD_LINES[2][:3] + b"\x81" + GOOD_LINES[2][4:]
    data = _join([GOOD_LINES[0], GOOD_LINES[1], bad, *GOOD_LINES[3:]])
    items = _items(data)
    assert _codes(items) == [("E101", 3, None)]
    rejected = items[2]
    assert isinstance(rejected, Rejected)
    assert "\\x81" in rejected.raw
    assert "81" in (rejected.messages[0].detail or "")
    with pytest.raises(DecodingError) as info:
        list(read_fixed(data, LAYOUT))
    assert info.value.message.line == 3
    # the same across every chunk boundary
    for cut in range(1, len(data)):
        assert _codes(_items(iter([data[:cut], data[cut:]]))) == [("E101", 3, None)]


def test_encoding_override() -> None:
    data = GOOD.decode("cp1252").encode("utf-8")
    assert [i.values for i in _items(data, encoding="utf-8")] == [i.values for i in _items(GOOD)]
    assert _codes(_items(data))[0][0] == "E104"  # read as windows-1252: wrong lengths


def test_fast_path_and_slow_path_agree_on_damaged_files() -> None:
    for _name, spec, _ in STRUCTURE_CASES:
        data = _build(spec)
        assert _items(data, fast=False) == _items(data)


def test_separator_character_in_a_record_takes_the_slow_path() -> None:
    data = write_fixed(LAYOUT, {"INST": "SK01"}, [{"NAME": "a\x00b", "MENGE": "1"}])
    assert [i.values.get("NAME") for i in _items(data)] == [None, "a\x00b", None]


# -- writer ----------------------------------------------------------------------------------

WRITE_REFUSALS: list[tuple[list[dict[str, Any]], str, int, str]] = [
    # (details, code, record number, field)
    ([{"NAME": "Zwetschgenkuchen", "MENGE": "1"}], "E206", 2, "NAME"),
    ([{"NAME": "Ω-Äpfel", "MENGE": "1"}], "E206", 2, "NAME"),
    ([{"NAME": "Äpfel ", "MENGE": "1"}], "E206", 2, "NAME"),
    ([{"NAME": "a\r\nb", "MENGE": "1"}], "E206", 2, "NAME"),
    ([{"NAME": "ok", "MENGE": "1"}, {"NAME": "", "MENGE": "1"}], "E208", 3, "NAME"),
    ([{"NAME": "ok"}], "E208", 2, "MENGE"),
    ([{"NAME": "ok", "MENGE": "1234567"}], "E209", 2, "MENGE"),
    ([{"NAME": "ok", "MENGE": -1}], "E209", 2, "MENGE"),
    ([{"NAME": "ok", "MENGE": "1", "CODE": "kg"}], "E207", 2, "CODE"),
    ([{"NAME": "ok", "MENGE": "1", "TYP": "X"}], "E207", 2, "TYP"),
    ([{"NAME": "ok", "MENGE": "1", "GEWICHT": "3"}], "E206", 2, "GEWICHT"),
    ([{"NAME": 42, "MENGE": "1"}], "E209", 2, "NAME"),
]


@pytest.mark.parametrize(("details", "code", "line", "field"), WRITE_REFUSALS)
def test_writer_refuses_with_record_number_and_field(
    details: list[dict[str, Any]], code: str, line: int, field: str
) -> None:
    with pytest.raises(RecordError) as info:
        write_fixed(LAYOUT, {"INST": "SK01"}, details)
    assert (info.value.code, info.value.message.line, info.value.message.field) == (
        code,
        line,
        field,
    )


def test_writer_header_and_trailer_refusals() -> None:
    with pytest.raises(RecordError) as info:
        write_fixed(LAYOUT, {"INST": "SK0001"}, [])
    assert (info.value.code, info.value.message.line, info.value.message.field) == (
        "E206",
        1,
        "INST",
    )
    with pytest.raises(StructureError) as err:
        write_fixed(LAYOUT, {"INST": "SK01"}, DETAILS, {"ANZAHL": "4"})
    assert (err.value.code, err.value.message.line, err.value.message.field) == (
        "E104",
        5,
        "ANZAHL",
    )
    # given trailer values that agree are fine; typed values are formatted
    assert write_fixed(LAYOUT, {"INST": "SK01"}, DETAILS, {"ANZAHL": 3, "SUMME": "19"}) == GOOD


def test_writer_takes_typed_values_and_canonicalises() -> None:
    details: list[dict[str, Any]] = [
        {"NAME": "Äpfel", "CODE": "KG", "MENGE": 12},
        {"NAME": "Birnen", "MENGE": "007"},
    ]
    data = write_fixed(LAYOUT, {"INST": "SK01"}, details)
    values = [i.values["MENGE"] for i in _items(data) if i.record_type == "D"]
    assert values == ["12", "7"]


def test_iter_fixed_yields_chunks_that_make_the_file() -> None:
    details = DETAILS * 5
    chunks = list(iter_fixed(LAYOUT, {"INST": "SK01"}, details, records_per_chunk=4))
    assert len(chunks) == 5
    assert b"".join(chunks) == write_fixed(LAYOUT, {"INST": "SK01"}, details)


def test_writer_consumes_details_lazily() -> None:
    seen = []

    def details() -> Iterator[dict[str, str]]:
        for i in range(10):
            seen.append(i)
            yield {"NAME": f"n{i}", "MENGE": str(i)}

    chunks = iter_fixed(LAYOUT, {"INST": "SK01"}, details(), records_per_chunk=3)
    next(chunks)
    assert len(seen) == 2  # header + two details make the first chunk of three records


# -- layouts are validated -------------------------------------------------------------------


def _detail(*fields: Field) -> RecordType:
    return RecordType("D", "d", (Field("TYP", 1, 1, constant="D"), *fields))


LAYOUT_ERRORS = [
    ("gap", lambda: _detail(Field("A", 3, 2))),
    ("overlap", lambda: _detail(Field("A", 2, 3), Field("B", 3, 2))),
    ("duplicate name", lambda: _detail(Field("A", 2, 1), Field("A", 3, 1))),
    ("zero length", lambda: Field("A", 1, 0)),
    ("left zero pad", lambda: Field("A", 1, 3, pad="0")),
    ("bad align", lambda: Field("A", 1, 3, align="centre")),  # type: ignore[arg-type]
    ("bad pad", lambda: Field("A", 1, 3, pad="_")),  # type: ignore[arg-type]
    ("constant too long", lambda: Field("A", 1, 2, constant="ABC")),
    ("constant with padding", lambda: Field("A", 1, 3, constant="A ")),
    ("filler with converter", lambda: Field("A", 1, 3, filler=True, converter=Integer(3))),
    ("bad pattern", lambda: Field("A", 1, 3, pattern="(")),
    ("no name", lambda: Field("", 1, 3)),
    ("bad role", lambda: RecordType("D", "d", (Field("TYP", 1, 1, constant="D"),), role="x")),  # type: ignore[arg-type]
    (
        "short type",
        lambda: FixedLayout("X", 20, "cp1252", (HEADER, _detail(Field("A", 2, 5)), TRAILER)),
    ),
    (
        "no type field",
        lambda: FixedLayout(
            "X", 20, "cp1252", (HEADER, RecordType("D", "d", (Field("A", 1, 20),)), TRAILER)
        ),
    ),
    (
        "type field mismatch",
        lambda: FixedLayout(
            "X",
            20,
            "cp1252",
            (
                HEADER,
                RecordType("D", "d", (Field("T", 1, 1, constant="Q"), filler(2, 19))),
                TRAILER,
            ),
        ),
    ),
    (
        "two headers",
        lambda: FixedLayout(
            "X",
            20,
            "cp1252",
            (
                HEADER,
                DETAIL,
                TRAILER,
                RecordType(
                    "H", "h", (Field("T", 1, 1, constant="H"), filler(2, 19)), role="header"
                ),
            ),
        ),
    ),
    ("no detail", lambda: FixedLayout("X", 20, "cp1252", (HEADER, TRAILER))),
    ("duplicate code", lambda: FixedLayout("X", 20, "cp1252", (HEADER, DETAIL, DETAIL, TRAILER))),
    (
        "codes of two lengths",
        lambda: FixedLayout(
            "X",
            20,
            "cp1252",
            (
                HEADER,
                RecordType("DD", "d", (Field("T", 1, 2, constant="DD"), filler(3, 18))),
                TRAILER,
            ),
        ),
    ),
    ("not ascii-compatible", lambda: FixedLayout("X", 20, "utf-16", (HEADER, DETAIL, TRAILER))),
    ("unknown encoding", lambda: FixedLayout("X", 20, "no-such-codec", (HEADER, DETAIL, TRAILER))),
    ("zero record length", lambda: FixedLayout("X", 0, "cp1252", (HEADER, DETAIL, TRAILER))),
]


@pytest.mark.parametrize(("name", "make"), LAYOUT_ERRORS, ids=[c[0] for c in LAYOUT_ERRORS])
def test_invalid_layouts_are_refused_when_made(name: str, make: Any) -> None:
    with pytest.raises((ValueError, LookupError)):
        make()


def test_layout_accessors() -> None:
    assert LAYOUT.header is HEADER
    assert LAYOUT.trailer is TRAILER
    assert LAYOUT.details == (DETAIL,)
    assert LAYOUT.record_type("D") is DETAIL
    assert LAYOUT.type_slice == slice(0, 1)
    assert DETAIL.field("MENGE").end == 20
    assert [f.name for f in HEADER.value_fields] == ["TYP", "INST", "VERSION"]
    with pytest.raises(KeyError):
        HEADER.field("FILLER")


# -- properties over arbitrary layouts --------------------------------------------------------


@st.composite
def layouts_with_content(draw: st.DrawFn) -> tuple[FixedLayout, FixedContent]:
    layout = draw(fixed_layouts())
    return layout, draw(fixed_records(layout))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts_with_content())
def test_write_read_identity_for_any_layout(case: tuple[FixedLayout, FixedContent]) -> None:
    layout, (header, details, trailer) = case
    data = write_fixed(layout, header, details, trailer)
    assert all(
        len(line) == layout.record_length
        for line in data.decode(layout.encoding).split("\r\n")[:-1]
    )
    reader = read_fixed(data, layout)
    items = _records(list(reader))
    assert reader.header is not None
    assert reader.trailer is not None
    assert reader.header.values == header
    assert [i.values for i in items[1:-1]] == details
    assert dict(reader.trailer.values, **trailer) == reader.trailer.values
    assert reader.trailer.values["COUNT"] == str(len(details))
    # the slow path gives the same, and reading canonical bytes then writing gives the bytes
    assert list(read_fixed(data, layout, fast=False)) == items
    again = write_fixed(
        layout, reader.header.values, [i.values for i in items[1:-1]], reader.trailer.values
    )
    assert again == data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts_with_content(), st.data())
def test_any_damage_is_reported_and_nothing_is_lost(
    case: tuple[FixedLayout, FixedContent], data: st.DataObject
) -> None:
    """Flip one character of a valid file: lenient reading still hands back every record
    (good or rejected) in order, and fast and slow paths agree."""
    layout, (header, details, trailer) = case
    text = write_fixed(layout, header, details, trailer).decode(layout.encoding)
    where = data.draw(st.integers(0, len(text) - 1))
    char = data.draw(st.sampled_from("A0 \x00Z9é\r"))
    damaged = (text[:where] + char + text[where + 1 :]).encode(layout.encoding)
    items = list(read_fixed(damaged, layout, mode=Mode.LENIENT))
    assert items == list(read_fixed(damaged, layout, mode=Mode.LENIENT, fast=False))
    raws = [i.raw for i in items if not isinstance(i, Notice)]
    lines = damaged.decode(layout.encoding).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    assert raws == lines
