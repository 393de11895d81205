"""The readers' fast paths give exactly what their exact paths give.

The CSV reader (:mod:`emma_osplus._csv`) checks records column by column over a batch and
builds the good ones without further checks; the fixed-width reader
(:mod:`emma_osplus._fixed`) reads runs of detail records column by column.  Both fall back to
the exact path, record by record, for anything in doubt.  ``fast=False`` reads through the
exact path only, so a fast reading and an exact one of the same bytes must give equal items
(records with their values, typed values, warnings; rejected records with every message;
notices), the same exception in strict mode after the same items, and the same header.

The property tests draw valid and damaged files (bad values of every column, non-canonical
spellings, duplicates, broken quoting, wrong field counts, blank lines, mixed line ends,
characters ``str.splitlines`` cuts at, tabs in padding) and read them with batch and piece
sizes small enough that records cross every boundary.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import emma_osplus._csv as csv_engine
import emma_osplus._fixed as fixed_engine
from emma_osplus import Mode, Record, Rejected
from emma_osplus._converters import (
    DATE,
    TIMESTAMP_UTC,
    CodeTable,
    ColumnCheck,
    Integer,
    Pattern,
    Text,
    ValueType,
    _is_field_local,
    bulk_check,
    fast_pattern,
)
from emma_osplus._csv import Column, CsvLayout, read_csv
from emma_osplus._email import _BULK_ITEM, EMAIL, FAST_PATTERN, EmailAddress, _bulk_valid
from emma_osplus._errors import MessageError
from emma_osplus._fixed import _OTHER_BREAKS, _OTHER_SPACE, read_fixed
from emma_osplus._records import (
    _BUILDER_LIMIT,
    _dict_builder,
    _LazyTyped,
    _make_record,
    _make_records,
)
from emma_osplus._resp import RESP_LAYOUT, ResponseRecord, write_resp
from emma_osplus._subscribers import subscriber_layout
from emma_osplus._types import (
    Blz,
    CustomerNumber,
    EventId,
    MailingId,
    OccasionCode,
    OrderName,
    OrderNumber,
)
from emma_osplus.testing import email_address_texts, invalid_email_addresses
from emma_osplus.testing._csv import alphabet, csv_layouts, subscriber_rows

SLOW = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# --------------------------------------------------------------------------- helpers


def outcome(reader: Iterator[Any]) -> tuple[list[Any], tuple[type, Any] | None]:
    """Every item a reader gives, and the exception it ends with (type and message)."""
    items: list[Any] = []
    try:
        for item in reader:
            items.append(item)
    except MessageError as exc:
        return items, (type(exc), exc.message)
    return items, None


def both_csv(data: bytes, layout: CsvLayout, **kw: Any) -> None:
    """Fast and exact readings agree, lenient and strict."""
    for mode in (Mode.LENIENT, Mode.STRICT):
        fast = read_csv(data, layout, mode=mode, **kw)
        exact = read_csv(data, layout, mode=mode, fast=False, **kw)
        assert outcome(fast) == outcome(exact)
        assert (fast.columns, fast.encoding) == (exact.columns, exact.encoding)


def both_fixed(data: bytes, **kw: Any) -> None:
    for mode in (Mode.LENIENT, Mode.STRICT):
        fast = read_fixed(data, RESP_LAYOUT, mode=mode, **kw)
        exact = read_fixed(data, RESP_LAYOUT, mode=mode, fast=False, **kw)
        assert outcome(fast) == outcome(exact)
        assert (fast.header, fast.trailer, fast.records) == (
            exact.header,
            exact.trailer,
            exact.records,
        )


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 3 records and pieces of 64 characters: records cross every boundary."""
    monkeypatch.setattr(csv_engine, "_BATCH", 3)
    monkeypatch.setattr(csv_engine, "_PIECE", 64)


LINE_ENDS = st.sampled_from(["\r\n", "\r\n", "\r\n", "\n", "\r"])


def quoted(text: str, quote: str) -> str:
    return quote + text.replace(quote, quote * 2) + quote


def cell(text: str, sep: str, quote: str, how: str) -> str:
    """*text* as one CSV cell: plain (quoted where needed), quoted, or with broken quoting."""
    special = any(c in text for c in (sep, quote, "\r", "\n"))
    if how == "quoted" or (special and how == "plain"):
        return quoted(text, quote)
    if how.startswith("broken"):
        return [quote + text, quoted(text, quote) + "x", text + quote, quote][int(how[-1])]
    return text


def file_text(
    draw: st.DrawFn, header: list[str], rows: list[list[str]], sep: str, quote: str
) -> str:
    lines = [sep.join(quoted(h, quote) if sep in h or quote in h else h for h in header)]
    for row in rows:
        if draw(st.integers(0, 12)) == 0:
            lines.append("")  # a blank line
        if draw(st.integers(0, 15)) == 0:  # a record with a field too many or too few
            row = [*row, "x"] if draw(st.booleans()) else row[:-1]  # noqa: PLW2901
        hows = [draw(st.sampled_from(["plain", "plain", "quoted"])) for _ in row]
        if hows and draw(st.integers(0, 12)) == 0:  # broken quoting in one cell
            hows[draw(st.integers(0, len(hows) - 1))] = f"broken{draw(st.integers(0, 3))}"
        lines.append(sep.join(cell(c, sep, quote, how) for c, how in zip(row, hows, strict=True)))
    ends = [draw(LINE_ENDS) for _ in lines]
    text = "".join(line + end for line, end in zip(lines, ends, strict=True))
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no line end after the last record
    return text


# --------------------------------------------------------------------------- generic layouts

_ODD = "\x0b\x0c\x1c\x85\u2028\t\x00" if sys.version_info >= (3, 11) else "\x0b\x0c\x1c\x85\u2028\t"


@st.composite
def generic_files(draw: st.DrawFn) -> tuple[CsvLayout, bytes, str]:
    layout = draw(csv_layouts(max_columns=4))
    encoding = draw(st.sampled_from(["utf-8", "windows-1252", "iso-8859-15"]))
    chars = alphabet(encoding)
    odd = "".join(c for c in _ODD if c in chars or encoding == "utf-8")
    text = st.text(
        st.one_of(
            st.sampled_from("aäZ0 ;,|\t\"'\r\n=" + odd),
            st.sampled_from(chars[:200]),
        ),
        max_size=6,
    )
    good = {
        "DATE": st.dates(dt.date(1, 1, 1)).map(DATE.format),
        "CODE": st.sampled_from(["JA", "NEIN"]),
    }

    def value(column: Column | None) -> st.SearchStrategy[str]:
        if column is None or column.converter is None:
            return text
        if column.converter is DATE:
            return st.one_of(good["DATE"], st.sampled_from(["", "29.02.2001", "1.1.2000"]), text)
        if isinstance(column.converter, CodeTable):
            return st.one_of(good["CODE"], st.sampled_from(["", "ja", "JA "]), text)
        return st.one_of(text, st.text("abc", min_size=10, max_size=14))

    known = [c for c in layout.columns if c.required or draw(st.booleans())] or [layout.columns[0]]
    header = [draw(st.sampled_from([c.name, c.name.lower(), f" {c.name}"])) for c in known]
    if layout.allow_unknown and draw(st.booleans()):
        header.append("Frei")
    by_position = [layout.column(name) for name in header]
    rows = draw(st.lists(st.tuples(*[value(c) for c in by_position]).map(list), max_size=12))
    body = file_text(draw, header, rows, layout.separator, layout.quote)
    data = body.encode(encoding, "replace")
    return layout, data, encoding


@settings(SLOW, max_examples=250)
@given(generic_files(), st.sampled_from([7, 64, 1 << 16]), st.booleans())
def test_generic_files_fast_and_exact_agree(
    case: tuple[CsvLayout, bytes, str], chunk_size: int, declare: bool
) -> None:
    layout, data, encoding = case
    both_csv(data, layout, chunk_size=chunk_size, encoding=encoding if declare else None)


# --------------------------------------------------------------------------- subscriber lists

BAD_VALUES: dict[str, list[str]] = {
    "KUNDENNUMMER": ["", "12345678901", "47 11", "４７１１", "4711"],
    "EMAIL": ["", "anna@@example.de", "Anna@Example.DE", "a..b@x.de", "a@x.123", "a@xn--x.de"],
    "ANREDE": ["herr", "Fräulein", "Herr "],
    "GEBURTSDATUM": ["1980-02-01", "31.04.1980", "29.02.1980", "29.02.1981", "01.01.0000"],
    "BERATER_NR": ["123456789", "12a", "٣"],
    "BERATER_EMAIL": ["berater(at)sparkasse.de", "B@X.DE", "b@bücher.de"],
    "BERATERBILD": ["bilder/a.jpg", "..", "."],
    "FAKSIMILE": [".", "a:b.png"],
    "ANLASS": ["", "MCZZ999", "XYZ", "ag002", "MCAG002"],
    "ANLASS_DATUM": ["1.1.2026", "32.01.2026"],
}


@st.composite
def subscriber_files(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["KMM", "REKU", "IAM"]))
    layout = subscriber_layout(kind)
    names = [c.name for c in layout.columns]
    header = [
        n
        for n in names
        if n in ("KUNDENNUMMER", "EMAIL")
        or (n == "ANLASS" and kind == "REKU")
        or draw(st.booleans())
    ]
    if draw(st.booleans()):
        header.append("Lieblingsfiliale")
    header = draw(st.permutations(header))
    count = draw(st.integers(0, 14))
    rows: list[list[str]] = []
    for _ in range(count):
        row = draw(subscriber_rows(kind, header, canonical=draw(st.booleans())))
        cells_ = [row[n] for n in header]
        checked = [i for i, name in enumerate(header) if name in BAD_VALUES]
        if checked and draw(st.integers(0, 3)) == 0:  # a bad (or odd) value in one column
            i = draw(st.sampled_from(checked))
            cells_[i] = draw(st.sampled_from(BAD_VALUES[header[i]]))
        if rows and draw(st.integers(0, 2)) == 0:  # the customer or address of an earlier one
            earlier = draw(st.sampled_from(rows))
            name = draw(st.sampled_from(["KUNDENNUMMER", "EMAIL"]))
            value = earlier[header.index(name)]
            if name == "KUNDENNUMMER" and value.isdigit() and draw(st.booleans()):
                value = value.lstrip("0") or "0"
            if name == "EMAIL" and draw(st.booleans()):
                value = value.upper()
            cells_[header.index(name)] = value
        rows.append(cells_)
    return kind, file_text(draw, header, rows, ";", '"').encode("windows-1252", "replace")


@settings(SLOW, max_examples=40)
@given(subscriber_files(), st.sampled_from([5, 64, 1 << 16]))
def test_subscriber_lists_fast_and_exact_agree(case: tuple[str, bytes], chunk_size: int) -> None:
    kind, data = case
    both_csv(data, subscriber_layout(kind), chunk_size=chunk_size, encoding="windows-1252")


def test_subscriber_batch_with_all_kinds_of_trouble() -> None:
    """One example of every case the batch checks hand to the exact path, in one file."""
    data = (
        "KUNDENNUMMER;EMAIL;ANREDE;GEBURTSDATUM;NOTIZ\r\n"
        "1;a@example.de;Frau;01.02.1980;x\r\n"
        "0000000002;B@Example.DE;;;\r\n"  # non-canonical address: canonicalised
        "3;c@example.de;Frl;;\r\n"  # E207
        "1;d@example.de;;;\r\n"  # E203
        "5;b@example.de;;;\r\n"  # W201 (same as line 3)
        '6;"e@example.de";Herr;"29.02.2000";"mehr\r\nzeilig"\r\n'
        "\r\n"
        "7;f@example.de;;;;zu viel\r\n"  # E104
        "9;h@bücher.de;;;\r\n"
        "10;H@BÜCHER.DE;;;\r\n"  # W201 by matching key
        '8;"g@example.de;;;\r\n11;x@example.de;;;\r\n'  # broken quoting, to the end
    ).encode("cp1252")
    for size in (1, 2, 3, 64):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(csv_engine, "_BATCH", size)
            both_csv(data, subscriber_layout("KMM"))
    items = list(read_csv(data, subscriber_layout("KMM"), mode=Mode.LENIENT))
    assert all(isinstance(i, (Record, Rejected)) for i in items)
    assert [(type(i).__name__, i.line, [m.code for m in i.messages]) for i in items] == [  # type: ignore[union-attr]
        ("Record", 2, []),
        ("Record", 3, []),
        ("Rejected", 4, ["E207"]),
        ("Rejected", 5, ["E203"]),
        ("Record", 6, ["W201"]),
        ("Record", 7, []),
        ("Rejected", 10, ["E104"]),
        ("Record", 11, []),
        ("Record", 12, ["W201"]),
        ("Rejected", 13, ["E104"]),
    ]
    second = items[1]
    assert isinstance(second, Record)
    assert second.values["EMAIL"] == "B@example.de"
    assert isinstance(second.typed["KUNDENNUMMER"], CustomerNumber)


def test_big_batches_of_good_records_take_the_bulk_path() -> None:
    """Thousands of valid records (the bulk checks stop remembering unique columns on the way)
    give what the exact path gives, typed values included."""
    lines = ["KUNDENNUMMER;EMAIL;ANREDE;GEBURTSDATUM;BERATER_NR;Notiz"]
    for i in range(3000):
        lines.append(
            f"{i + 1:010d};kunde.{i}@example.de;{['Herr', 'Frau', ''][i % 3]};"
            f"{1 + i % 28:02d}.{1 + i % 12:02d}.{1950 + i % 50};{i % 7};"
            + ('"a;b"' if i % 5 == 0 else "frei")
        )
    data = ("\r\n".join(lines) + "\r\n").encode("cp1252")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csv_engine, "_BATCH", 64)
        patch.setattr(csv_engine, "_PIECE", 8192)
        both_csv(data, subscriber_layout("KMM"))
        records = list(read_csv(data, subscriber_layout("KMM")).records())
    assert len(records) == 3000
    assert records[5].typed == {
        "KUNDENNUMMER": CustomerNumber(6),
        "EMAIL": EmailAddress("kunde.5@example.de"),
        "ANREDE": None,
        "GEBURTSDATUM": dt.date(1955, 6, 6),
        "BERATER_NR": "5",
    }
    assert records[4].typed["ANREDE"] == "Frau"


# --------------------------------------------------------------------------- fixed width


def _resp_details() -> st.SearchStrategy[list[ResponseRecord]]:
    from emma_osplus.testing._fixed import response_records

    return st.lists(response_records(), min_size=2, max_size=30)


DAMAGE = [
    (2, "00000047a1"),  # E202
    (12, "k2026001"),  # E209
    (36, "XX"),  # E207
    (38, "20261131080512"),  # E205
    (72, "Anna@Example.DE"),  # valid, not canonical
    (72, "anna@@example.de"),  # E201
    (72, "a@b.de\t"),  # a tab before the padding
    (326, "5.1.1"),  # E209 (unless a bounce)
    (336, "NEWSLETTER"),  # E207 (unless KL, HB, SB)
    (376, " " * 25),  # E208
    (1, "X"),  # E107
]


@settings(SLOW, max_examples=60)
@given(
    details=_resp_details(),
    damage=st.lists(st.tuples(st.integers(0, 40), st.sampled_from(DAMAGE)), max_size=4),
    chunk_size=st.sampled_from([403, 4096, 1 << 18]),
    cut=st.booleans(),
)
def test_resp_fast_and_exact_agree(
    details: list[ResponseRecord],
    damage: list[tuple[int, tuple[int, str]]],
    chunk_size: int,
    cut: bool,
) -> None:
    data = write_resp("37050198", dt.datetime(2026, 11, 22, tzinfo=dt.timezone.utc), 1, details)
    lines = data.split(b"\r\n")[:-1]
    for index, (start, text) in damage:
        i = 1 + index % len(details)
        raw = text.encode("cp1252")
        lines[i] = lines[i][: start - 1] + raw + lines[i][start - 1 + len(raw) :]
    if cut and len(lines) > 3:
        lines[2] = lines[2][:399]  # a record one character short
    both_fixed(b"\r\n".join(lines) + b"\r\n", chunk_size=chunk_size)


def test_resp_long_runs_and_a_bad_record_in_the_middle() -> None:
    kinds = [
        {"REAKTION": "VS"},
        {"REAKTION": "KL", "DETAIL": "cta-1"},
        {"REAKTION": "HB", "STATUSCODE": "5.1.1", "DETAIL": "550 Empfänger unbekannt"},
        {"REAKTION": "AB", "DETAIL": "LINK"},
    ]
    details = [
        ResponseRecord.from_values(
            {
                "KUNDENNUMMER": f"{i + 1:010d}",
                "AUFTRAGSNUMMER": "K2026001",
                "AUFTRAGSART": "KMM",
                "ZEITPUNKT": f"202611{1 + i % 28:02d}080512",
                "MAILING_ID": "M-2026-11",
                "EMAIL": f"kunde.{i}@example.de",
                "EREIGNIS_ID": f"e{i}",
                **kinds[i % 4],
            }
        )
        for i in range(300)
    ]
    data = write_resp("37050198", dt.datetime(2026, 11, 22, tzinfo=dt.timezone.utc), 1, details)
    both_fixed(data)
    lines = data.split(b"\r\n")
    lines[150] = lines[150][:1] + b"00000047a1" + lines[150][11:]
    both_fixed(b"\r\n".join(lines))
    items = list(read_fixed(b"\r\n".join(lines), RESP_LAYOUT, mode=Mode.LENIENT))
    assert [i.line for i in items if isinstance(i, Rejected)] == [151]


# --------------------------------------------------------------------------- the pieces


CONVERTERS: list[Any] = [
    DATE,
    TIMESTAMP_UTC,
    CodeTable(("Herr", "Frau", "a.b")),
    Integer(6),
    Text(5),
    Text(),
    Pattern("[0-9]{1,8}"),
    ValueType(CustomerNumber),
    ValueType(OrderNumber),
    ValueType(MailingId),
    ValueType(EventId),
    ValueType(Blz),
    ValueType(OccasionCode),
    ValueType(OrderName),
    EMAIL,
]


_LOOKAROUND = re.compile(r"\(\?[=!][^()]*(?:\([^()]*\)[^()]*)*\)")


def matching(pattern: str) -> st.SearchStrategy[str]:
    """Texts drawn from *pattern* without its lookarounds (a superset), some of which match."""
    return st.from_regex(re.compile(_LOOKAROUND.sub("", pattern)), fullmatch=True)


@pytest.mark.parametrize("converter", CONVERTERS, ids=repr)
def test_fast_patterns_match_only_valid_canonical_text(converter: Any) -> None:
    pattern = fast_pattern(converter)
    assert pattern is not None
    compiled = re.compile(pattern)
    hits: list[str] = []

    @settings(SLOW, max_examples=80)
    @given(st.one_of(matching(pattern), email_address_texts(), st.text(max_size=12)))
    def check(text: str) -> None:
        if compiled.fullmatch(text) is None:
            return
        hits.append(text)
        assert text
        assert converter.canonical(text) == text
        # what a lazily typed record gives for it, made without checking again
        fast, checked = converter._parse_canonical(text), converter.parse(text)
        assert (type(fast), fast) == (type(checked), checked)
        assert str(fast) == str(checked)

    check()
    assert hits, "the pattern never matched: the test is vacuous"


@settings(SLOW, max_examples=300)
@given(
    st.one_of(
        st.from_regex(re.compile(_BULK_ITEM), fullmatch=True),
        email_address_texts(),
        invalid_email_addresses(),
        matching(FAST_PATTERN),
    )
)
def test_email_bulk_check_accepts_only_valid_canonical_addresses(text: str) -> None:
    if _bulk_valid([text]) and text:
        assert str(EmailAddress(text)) == text
    if re.fullmatch(FAST_PATTERN, text):
        assert str(EmailAddress(text)) == text


def test_email_bulk_check_on_batches() -> None:
    good = ["anna@example.de", "b.c+d@mail.sparkasse-x.de", ""]
    assert _bulk_valid(good)
    for bad in ("A@Example.de", "a@x.123", "a" * 65 + "@x.de", "a@xn--bcher-kva.dE", "a@-x.de"):
        assert not _bulk_valid([*good, bad]), bad
    assert not _bulk_valid(["a@b.de\x00c@d.de"])
    # internationalised domains and A-labels: valid and canonical as written
    idn = ["a@bücher.de", "b@xn--bcher-kva.de", "c@straße.example"]
    assert _bulk_valid([*good, *idn])
    for bad in ("a@Bücher.de", "a@bücher..de", "a@bü cher.de", "a@xn--zz.de", "a@bücher.123"):
        assert not _bulk_valid([*good, *idn, bad]), bad


@settings(SLOW, max_examples=300)
@given(
    local=st.text(st.sampled_from("abc.+"), min_size=1, max_size=70),
    labels=st.lists(
        st.sampled_from(["bücher", "straße", "xn--bcher-kva", "x", "Ü", "a" * 40, "ü" * 20]),
        min_size=1,
        max_size=6,
    ),
    tld=st.sampled_from(["de", "example", "123", "DE"]),
)
def test_email_bulk_check_with_international_domains(
    local: str, labels: list[str], tld: str
) -> None:
    """Near every limit (local part 64, address 254 octets as written and as A-labels), the
    bulk check accepts a batch only when the reference accepts each address as written."""
    texts = [f"{local}@{'.'.join([*labels, tld])}", "anna@example.de"]
    if _bulk_valid(texts):
        for text in texts:
            assert str(EmailAddress(text)) == text
    elif all(_canonical_or_none(text) == text for text in texts):
        pytest.fail(f"valid and canonical, but not accepted: {texts}")


def _canonical_or_none(text: str) -> str | None:
    try:
        return str(EmailAddress(text))
    except ValueError:
        return None


def _expected(converter: Any, required: bool, texts: list[str]) -> Any:
    bad: set[str] = set()
    canon: dict[str, str] = {}
    for text in texts:
        if not text:
            if required:
                bad.add(text)
            continue
        try:
            canonical = converter.canonical(text)
        except Exception:
            bad.add(text)
            continue
        if canonical != text:
            canon[text] = canonical
    return (bad, canon) if bad or canon else None


@pytest.mark.parametrize("converter", CONVERTERS, ids=repr)
@settings(SLOW, max_examples=40)
@given(data=st.data(), required=st.booleans())
def test_column_check_is_the_converter_in_bulk(
    converter: Any, required: bool, data: st.DataObject
) -> None:
    pattern = fast_pattern(converter)
    assert pattern is not None
    texts = st.one_of(matching(pattern), st.text("aZ09.-@ :\x00", max_size=8), st.just(""))
    check = ColumnCheck(converter, required, pattern)
    for _ in range(3):  # the same check over several batches (what it remembers matters)
        batch = data.draw(st.lists(texts, max_size=12))
        assert check.check(batch) == _expected(converter, required, batch)


def test_column_check_stops_remembering_unique_texts() -> None:
    check = ColumnCheck(ValueType(CustomerNumber), True, "[0-9]{10}")
    for start in range(0, 2000, 100):
        assert check.check([f"{n:010d}" for n in range(start, start + 100)]) is None
    assert not check._caching
    assert check.check(["0000000001", "1"]) == (set(), {"1": "0000000001"})


@pytest.mark.parametrize(
    ("regex", "local"),
    [
        ("[0-9]{1,8}", True),
        ("[A-Z]+|[a-z]+", True),
        ("[^/]+", True),
        ("[]a]+", True),
        ("(?:ab)+", True),
        ("a$", False),
        ("^a", False),
        ("a\\Z", False),
        ("\\bword", False),
        ("(?!x)[a-z]+", False),
        ("(?<=a)b", False),
        ("(a)\\1", False),
        ("(a)", False),
        ("(?i)a", False),
        ("[", False),
    ],
)
def test_only_field_local_patterns_are_used_as_they_are(regex: str, local: bool) -> None:
    assert _is_field_local(regex) is local


def test_bulk_check_prefers_the_converters_own() -> None:
    check = bulk_check(EMAIL, required=True)
    assert check is not None
    assert check(["a@b.de"])
    assert not check(["a@b.de", ""])
    assert bulk_check(Pattern("(?!x)[a-z]")) is None


@given(
    data=st.binary(max_size=40),
    encoding=st.sampled_from(["windows-1252", "iso-8859-15", "latin-1", "utf-8", "cp850"]),
)
def test_white_space_other_than_spaces_is_found_in_every_encoding(
    data: bytes, encoding: str
) -> None:
    """Looking only for the characters an encoding can hold finds every one it decodes to."""
    text = data.decode(encoding, errors="replace")
    expected = not any(c in text for c in _OTHER_SPACE)
    assert fixed_engine._padded_with_spaces_only(text, encoding) == expected


def test_other_white_space_and_line_breaks_are_complete() -> None:
    spaces = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert spaces - set(" \r\n") == set(_OTHER_SPACE)
    breaks = {chr(c) for c in range(0x3000) if len(f"a{chr(c)}b".splitlines()) == 2}
    assert breaks - {"\r", "\n"} <= set(_OTHER_BREAKS) | {"\u2028", "\u2029"}
    assert set(_OTHER_BREAKS) == set(csv_engine._OTHER_BREAKS)


def test_lazy_typed_values_equal_the_eager_ones() -> None:
    values = {"D": "01.02.2026", "E": "", "K": "0000004711"}
    converters = {"D": DATE, "E": DATE, "K": ValueType(CustomerNumber)}
    typed = _LazyTyped(values, converters)
    eager = {"D": dt.date(2026, 2, 1), "E": None, "K": CustomerNumber(4711)}
    assert typed == eager
    assert dict(typed) == eager
    assert list(typed) == ["D", "E", "K"]
    assert "D" in typed
    assert "X" not in typed
    assert typed["K"] is typed["K"]
    assert repr(typed) == repr(eager)


def test_records_built_fast_equal_the_constructed_ones() -> None:
    values = [{"A": "1"}, {"A": "2"}]
    records = _make_records([2, 3], values, ["1", "2"], {"A": Integer(3)}, "R")
    assert records == [
        Record(2, {"A": "1"}, "1", {"A": 1}, "R"),
        Record(3, {"A": "2"}, "2", {"A": 2}, "R"),
    ]
    one = _make_record(4, {"A": "x"}, "x", {}, None, ())
    assert one == Record(4, {"A": "x"}, "x")
    assert repr(one) == repr(Record(4, {"A": "x"}, "x"))


@given(
    names=st.lists(st.text(max_size=6), max_size=12),
    extra=st.integers(0, 3),
)
def test_generated_dict_builder_is_dict_of_zip(names: list[str], extra: int) -> None:
    """Any header (quotes, backslashes, braces, non-ASCII, duplicates, empty names) gives the
    dict ``dict(zip(...))`` gives, in the same order; the names are data, never code."""
    names = [*names, *names[:extra]]  # duplicates: the last value wins, as in dict(zip(...))
    values = [f"v{i}" for i in range(len(names))]
    built = _dict_builder(names)(*values)
    expected = dict(zip(names, values, strict=True))
    assert built == expected
    assert list(built.items()) == list(expected.items())


def test_dict_builder_of_a_hostile_header_and_a_very_wide_one() -> None:
    hostile = ["A", "'}); __import__('os').system('false') #", '"""', "\\", "{x}"]
    assert _dict_builder(hostile)(*"12345") == dict(zip(hostile, "12345", strict=True))
    wide = [f"C{i}" for i in range(_BUILDER_LIMIT + 1)]
    texts = [str(i) for i in range(len(wide))]
    assert _dict_builder(wide)(*texts) == dict(zip(wide, texts, strict=True))
    assert _dict_builder([])() == {}


@settings(max_examples=300)
@given(
    lines=st.lists(
        st.tuples(
            st.text(st.sampled_from('ab;"'), max_size=9), st.sampled_from(["\r\n", "\n", "\r"])
        ),
        max_size=20,
    ),
    cuts=st.lists(st.integers(0, 20), max_size=4),
    size=st.integers(1, 24),
    carries=st.lists(st.integers(0, 3), max_size=4),
)
def test_source_hands_out_each_character_once(
    lines: list[tuple[str, str]], cuts: list[int], size: int, carries: list[int]
) -> None:
    """_Source cuts decoded pieces (each ending at a line end) into pieces of about _PIECE
    characters at line ends, carried text in front, and loses or repeats nothing."""
    whole = [text + end for text, end in lines]
    points = sorted({min(c, len(whole)) for c in cuts} | {0, len(whole)})
    given_pieces = ["".join(whole[a:b]) for a, b in itertools.pairwise(points)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csv_engine, "_PIECE", size)
        source = csv_engine._Source(iter([p for p in given_pieces if p]))
        out: list[str] = []
        carried = iter(carries)
        while True:
            before = len(source.carry)
            piece = source.next()
            if piece is None:
                break
            assert piece[-1] in "\r\n"
            # what follows the carried text is at most this long, unless it has no line end
            # early enough to cut at
            fresh, most = piece[before:], max(size - before, 2)
            assert len(fresh) <= most or not any(c in fresh[: most - 1] for c in "\r\n")
            keep = next(carried, 0)
            if keep and source.more():  # the reader carries the start of a record over
                lines_of = piece.splitlines(True)
                keep = min(keep, len(lines_of))
                source.carry = "".join(lines_of[-keep:])
                piece = "".join(lines_of[:-keep])
            out.append(piece)
    assert "".join(out) == "".join(whole)


def test_source_reads_pushed_back_text_first() -> None:
    source = csv_engine._Source(iter(["c\r\nd\r\n"]))
    assert source.next() == "c\r\nd\r\n"
    source.push_back("b\r\n")
    assert source.next() == "b\r\n"
    assert source.next() is None
    assert not source.more()


@pytest.mark.parametrize("size", [1, 2, 5])
def test_header_and_records_across_tiny_pieces(size: int) -> None:
    layout = CsvLayout("T", (Column("ID", required=True), Column("D", converter=DATE)))
    data = b'\r\n"I\r\nD";D\r\n1;01.01.2000\r\n"2\r\n";02.01.2000\r\n\r\n3;x\r\n'
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csv_engine, "_PIECE", size)
        both_csv(data, CsvLayout("T", (Column("ID"), Column("D", converter=DATE))))
        both_csv(data, layout)


def test_decoding_error_inside_a_multi_line_record() -> None:
    layout = CsvLayout("T", (Column("ID"), Column("X")))
    data = b'ID;X\r\n1;a\r\n2;"b\r\nc\xff\r\n"\r\n'
    both_csv(data, layout, encoding="utf-8")
    both_csv(data, layout, encoding="utf-8", chunk_size=3)
    items, error = outcome(read_csv(data, layout, encoding="utf-8"))
    assert [i.line for i in items] == [2]
    assert error is not None
    assert error[1].code == "E101"


def test_columnar_runs_in_fixed_width_need_fixed_width_zero_padding() -> None:
    plans = fixed_engine._columnar_plans(RESP_LAYOUT)
    assert set(plans) == {"R"}
    assert fixed_engine._pattern_width("[0-9]{10}") == (10, 10)
    assert fixed_engine._pattern_width("[1-9][0-9]{0,5}|0") == (1, 6)


@settings(SLOW)
@given(st.lists(st.integers(0, 3), max_size=30))
def test_run_stops(kinds: list[int]) -> None:
    plans = fixed_engine._columnar_plans(RESP_LAYOUT)
    lines: list[Any] = [
        ["R" + "x" * 399, "R" + "x" * 10, "A" + "x" * 399, "R" + "y" * 399][k] for k in kinds
    ]
    stops = fixed_engine._run_stops(lines, plans, slice(0, 1), 400)
    assert stops == [i for i, k in enumerate(kinds) if k in (1, 2)] + [len(kinds)]


def test_width_repeats_are_shared() -> None:
    assert fixed_engine._widths[3] is fixed_engine._widths[3]
    assert list(itertools.islice(fixed_engine._widths[3], 2)) == [3, 3]
