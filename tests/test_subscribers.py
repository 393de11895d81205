"""Subscriber lists KMM, REKU, IAM (FORMATS.md, "Subscriber list")."""

from __future__ import annotations

import csv
import gc
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import emma_osplus
from emma_osplus import (
    CustomerNumber,
    InvalidValueError,
    Message,
    Mode,
    Notice,
    OccasionCode,
    Record,
    RecordError,
    Rejected,
    StructureError,
)
from emma_osplus._csv import read_csv
from emma_osplus._email import EmailAddress
from emma_osplus._subscribers import (
    KMM,
    LAYOUTS,
    REKU,
    SUBSCRIBER_COLUMNS,
    OccasionConverter,
    _SharedAddresses,
    read_subscriber_list,
    subscriber_layout,
    write_subscriber_list,
)
from emma_osplus.testing._csv import subscriber_list_files, subscriber_lists
from emma_osplus.testing._email import email_addresses

#: The packaged copy of the domain's catalogue (test_registry checks it is byte for byte the
#: one in ../shared/domain), so that these tests do not depend on that folder being there.
OCCASIONS = Path(emma_osplus.__file__).parent / "data" / "reku_occasions.csv"


def csv_resolver() -> Any:
    """An occasion resolver built from the catalogue file itself (reku_occasions.csv), not
    from the registry the library builds from it."""
    with OCCASIONS.open(encoding="utf-8", newline="") as handle:
        known = {row["code"] for row in csv.DictReader(handle, delimiter=";")}

    def resolve(text: str) -> OccasionCode:
        code = OccasionCode(text)
        if code.long not in known:
            raise InvalidValueError(
                Message("E204", field="ANLASS", raw=text, detail="not in the catalogue")
            )
        return code

    return resolve


def lenient(data: bytes, kind: str = "KMM", **kw: Any) -> list[Any]:
    return list(read_subscriber_list(data, kind, mode=Mode.LENIENT, **kw))


def codes(item: Any) -> list[str]:
    return [m.code for m in item.messages]


# --------------------------------------------------------------------------- round trips

ENCODING_NAMES = ["windows-1252", "utf-8", "iso-8859-15", "iso-8859-1"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    kind=st.sampled_from(["KMM", "REKU", "IAM"]),
    encoding=st.sampled_from(ENCODING_NAMES),
)
def test_write_then_read_is_identity(data: st.DataObject, kind: str, encoding: str) -> None:
    columns, rows = data.draw(subscriber_lists(kind, encoding=encoding, max_rows=6))
    written = write_subscriber_list(kind, columns, rows, encoding=encoding)
    reader = read_subscriber_list(written, kind, encoding=encoding)
    got = list(reader.records())
    assert reader.columns == columns
    assert all(isinstance(r, Record) for r in got)
    assert [dict(r.values) for r in got] == rows
    assert all(r.messages == () or codes(r) == ["W201"] for r in got)
    for record in got:
        assert isinstance(record.typed["KUNDENNUMMER"], CustomerNumber)
        assert isinstance(record.typed["EMAIL"], EmailAddress)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(["KMM", "REKU", "IAM"]))
def test_any_accepted_spelling_becomes_canonical(data: st.DataObject, kind: str) -> None:
    """Short customer numbers, upper-case domains and short or lower-case occasion codes are
    read as their canonical forms; the canonical file is a fixed point."""
    columns, rows = data.draw(subscriber_lists(kind, canonical=False, max_rows=6))
    written = write_subscriber_list(kind, columns, rows)
    got = [r.values for r in read_subscriber_list(written, kind, encoding="windows-1252").records()]
    for row, values in zip(rows, got, strict=True):
        assert values["KUNDENNUMMER"] == row["KUNDENNUMMER"].zfill(10)
        assert values["EMAIL"] == str(EmailAddress(row["EMAIL"]))
        if "ANLASS" in values and row["ANLASS"]:
            assert values["ANLASS"] == OccasionCode(row["ANLASS"]).long
    assert write_subscriber_list(kind, columns, got) == written


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    kind=st.sampled_from(["KMM", "REKU", "IAM"]),
    encoding=st.sampled_from(["windows-1252", "utf-8"]),
)
def test_canonical_file_read_and_written_again_is_identical(
    data: st.DataObject, kind: str, encoding: str
) -> None:
    written = data.draw(subscriber_list_files(kind, encoding=encoding, max_rows=6))
    reader = read_subscriber_list(written, kind)  # encoding detected
    records = [r.values for r in reader.records()]
    assert reader.columns is not None
    assert reader.encoding is not None
    again = write_subscriber_list(kind, reader.columns, records, encoding=reader.encoding.name)
    assert again == written


# --------------------------------------------------------------------------- layouts as data


def test_layouts_are_the_column_table() -> None:
    names = [c.name for c in SUBSCRIBER_COLUMNS]
    assert names == [
        "KUNDENNUMMER", "EMAIL", "ANREDE", "TITEL", "VORNAME", "NACHNAME", "GEBURTSDATUM",
        "BERATER_NR", "BERATER_NAME", "BERATER_TELEFON", "BERATER_EMAIL", "BERATERBILD",
        "FAKSIMILE", "ANLASS", "ANLASS_DATUM",
    ]  # fmt: skip
    required = {
        kind: [c.name for c in layout.columns if c.required] for kind, layout in LAYOUTS.items()
    }
    assert required == {
        "KMM": ["KUNDENNUMMER", "EMAIL"],
        "REKU": ["KUNDENNUMMER", "EMAIL", "ANLASS"],
        "IAM": ["KUNDENNUMMER", "EMAIL"],
    }
    assert all(layout.encoding == "windows-1252" and not layout.bom for layout in LAYOUTS.values())
    with pytest.raises(ValueError, match="not a subscriber-list kind"):
        subscriber_layout("CONS")


# --------------------------------------------------------------------------- field rules


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("KUNDENNUMMER", "12345678901", "E202"),
        ("KUNDENNUMMER", "47 11", "E202"),
        ("KUNDENNUMMER", "", "E208"),
        ("EMAIL", "anna@@example.de", "E201"),
        ("EMAIL", "anna@example", "E201"),
        ("EMAIL", "", "E208"),
        ("ANREDE", "herr", "E207"),
        ("ANREDE", "Fräulein", "E207"),
        ("GEBURTSDATUM", "1980-02-01", "E205"),
        ("GEBURTSDATUM", "31.04.1980", "E205"),
        ("ANLASS_DATUM", "1.1.2026", "E205"),
        ("BERATER_NR", "123456789", "E209"),
        ("BERATER_NR", "12a", "E209"),
        ("BERATER_EMAIL", "berater(at)sparkasse.de", "E201"),
        ("BERATERBILD", "bilder/berater.jpg", "E209"),
        ("FAKSIMILE", "..", "E209"),
        # names no transport would take (check_safe_name), not only paths
        ("BERATERBILD", "CON.jpg", "E209"),
        ("BERATERBILD", ".berater.jpg", "E209"),
        ("FAKSIMILE", "faks<1>.png", "E209"),
        ("FAKSIMILE", "faks.png ", "E209"),
        ("FAKSIMILE", "a..b.png", "E209"),
        ("ANLASS", "MCZZ999", "E204"),
        ("ANLASS", "XYZ", "E204"),
    ],
)
def test_each_field_rule(field: str, value: str, code: str) -> None:
    columns = ["KUNDENNUMMER", "EMAIL"] + (
        [field] if field not in ("KUNDENNUMMER", "EMAIL") else []
    )
    row = {"KUNDENNUMMER": "4711", "EMAIL": "anna@example.de", field: value}
    line = ";".join(row[c] for c in columns)
    data = (";".join(columns) + "\r\n" + line + "\r\n").encode("cp1252")
    [item] = lenient(data, "KMM", resolve_occasion=csv_resolver())
    assert isinstance(item, Rejected)
    assert [(m.code, m.field, m.line) for m in item.messages] == [(code, field, 2)]
    assert item.raw == line
    with pytest.raises(RecordError) as info:
        list(read_subscriber_list(data, "KMM", resolve_occasion=csv_resolver()))
    assert info.value.message == item.messages[0]


@pytest.mark.parametrize("name", ["berater_0042.jpg", "a.jpg", "Bild Müller.png", "faks-7.GIF"])
def test_picture_names_a_transport_takes_are_kept(name: str) -> None:
    data = f"KUNDENNUMMER;EMAIL;BERATERBILD\r\n1;a@example.de;{name}\r\n".encode("cp1252")
    for fast in (True, False):
        [record] = read_csv(data, KMM, fast=fast).records()
        assert record.values["BERATERBILD"] == name


def test_occasion_canonical_and_required_for_reku_only() -> None:
    data = (
        "KUNDENNUMMER;EMAIL;ANLASS\r\n"
        "1;a@example.de;ag002\r\n"
        "2;b@example.de;MCAC110\r\n"
        "3;c@example.de;\r\n"
    ).encode("cp1252")
    for resolver in (None, csv_resolver()):
        reku = lenient(data, "REKU", resolve_occasion=resolver)
        assert [type(i).__name__ for i in reku] == ["Record", "Record", "Rejected"]
        assert reku[0].values["ANLASS"] == "MCAG002"
        assert reku[0].typed["ANLASS"] == OccasionCode("MCAG002")
        assert [(m.code, m.field) for m in reku[2].messages] == [("E208", "ANLASS")]
        kmm = lenient(data, "KMM", resolve_occasion=resolver)
        assert [type(i).__name__ for i in kmm] == ["Record", "Record", "Record"]
        assert kmm[2].typed["ANLASS"] is None
    with pytest.raises(StructureError, match="required column missing: ANLASS"):
        list(read_subscriber_list(b"KUNDENNUMMER;EMAIL\r\n", "REKU"))


def test_injected_resolver_is_used() -> None:
    calls: list[str] = []

    def only_ag002(text: str) -> OccasionCode:
        calls.append(text)
        code = OccasionCode(text)
        if code.long != "MCAG002":
            raise InvalidValueError(Message("E204", raw=text, detail="not in this test registry"))
        return code

    data = b"KUNDENNUMMER;EMAIL;ANLASS\r\n1;a@example.de;AG002\r\n2;b@example.de;MCAC110\r\n"
    found = lenient(data, "REKU", resolve_occasion=only_ag002)
    assert [type(i).__name__ for i in found] == ["Record", "Rejected"]
    assert calls == ["AG002", "MCAC110"]
    assert OccasionConverter(only_ag002).canonical("ag002") == "MCAG002"


# --------------------------------------------------------------------------- file rules


def test_customer_number_twice_rejects_the_second_and_names_the_first() -> None:
    data = (
        b"KUNDENNUMMER;EMAIL\r\n"
        b"4711;a@example.de\r\n"
        b"4712;b@example.de\r\n"
        b"0000004711;c@example.de\r\n"  # same number, other spelling
        b"4712;d@@example.de\r\n"  # twice, and a bad address: both messages
        b"4711;e@example.de\r\n"
    )
    found = lenient(data)
    assert [type(i).__name__ for i in found] == [
        "Record",
        "Record",
        "Rejected",
        "Rejected",
        "Rejected",
    ]
    assert [(m.code, m.line, m.field) for m in found[2].messages] == [("E203", 4, "KUNDENNUMMER")]
    assert "first at line 2" in (found[2].messages[0].detail or "")
    assert codes(found[3]) == ["E201", "E203"]
    assert "first at line 3" in (found[3].messages[1].detail or "")
    assert "first at line 2" in (found[4].messages[0].detail or "")
    with pytest.raises(RecordError) as info:
        list(read_subscriber_list(data, "KMM"))
    assert (info.value.code, info.value.message.line) == ("E203", 4)


def test_a_rejected_record_still_claims_its_customer_number() -> None:
    data = b"KUNDENNUMMER;EMAIL;ANREDE\r\n4711;a@example.de;Herrn\r\n4711;b@example.de;Herr\r\n"
    found = lenient(data)
    assert [codes(i) for i in found] == [["E207"], ["E203"]]


def test_one_address_for_several_customers_is_only_a_warning() -> None:
    data = (
        "KUNDENNUMMER;EMAIL\r\n"
        "1;info@bücher.de\r\n"
        "2;INFO@xn--bcher-kva.de\r\n"  # the same mailbox by its matching key
        "3;Info@Bücher.DE\r\n"
        "4;other@bücher.de\r\n"
        "5;bad address\r\n"
        "6;info@bücher.de\r\n"
    ).encode("cp1252")
    found = lenient(data)
    assert [type(i).__name__ for i in found] == [
        "Record",
        "Record",
        "Record",
        "Record",
        "Rejected",
        "Record",
    ]
    warned = [
        (i.line, [(m.code, m.field, m.line) for m in i.messages])
        for i in found
        if isinstance(i, Record)
    ]
    assert warned == [
        (2, []),
        (3, [("W201", "EMAIL", 3)]),
        (4, [("W201", "EMAIL", 4)]),
        (5, []),
        (7, [("W201", "EMAIL", 7)]),
    ]
    assert all(
        "same address as line 2" in (m.detail or "")
        for i in found
        if isinstance(i, Record)
        for m in i.messages
    )
    # strict mode does not raise for warnings
    with pytest.raises(RecordError, match="E201"):
        list(read_subscriber_list(data, "KMM"))
    strict = list(read_subscriber_list(data.replace(b"5;bad address\r\n", b""), "KMM").records())
    assert sum(len(r.messages) for r in strict) == 3


def test_header_only_is_a_valid_empty_list() -> None:
    for kind in ("KMM", "IAM"):
        reader = read_subscriber_list(b"KUNDENNUMMER;EMAIL\r\n", kind)
        assert list(reader) == []
        assert reader.columns == ("KUNDENNUMMER", "EMAIL")
    assert list(read_subscriber_list(b"KUNDENNUMMER;EMAIL;ANLASS", "REKU")) == []


def test_missing_required_column_is_e107() -> None:
    with pytest.raises(StructureError) as info:
        list(read_subscriber_list(b"KUNDENNUMMER;VORNAME\r\n4711;Anna\r\n", "KMM"))
    assert (info.value.code, info.value.message.line) == ("E107", 1)
    [notice] = lenient(b"KUNDENNUMMER;VORNAME\r\n4711;Anna\r\n")
    assert isinstance(notice, Notice)
    assert notice.message.code == "E107"


def test_personalisation_columns_are_kept_in_order_and_written_back() -> None:
    data = (
        "Lieblingsfiliale;KUNDENNUMMER;Bonus-Punkte;EMAIL; Sprache \r\n"
        "Neumarkt;0000004711;120;anna@example.de;de\r\n"
    ).encode("cp1252")
    reader = read_subscriber_list(data, "KMM")
    [record] = list(reader.records())
    assert reader.columns == (
        "Lieblingsfiliale",
        "KUNDENNUMMER",
        "Bonus-Punkte",
        "EMAIL",
        " Sprache ",
    )
    assert list(record.values) == list(reader.columns)
    assert write_subscriber_list("KMM", reader.columns, [record.values]) == data


def test_declared_encoding_is_used_strictly() -> None:
    data = "KUNDENNUMMER;EMAIL;NACHNAME\r\n4711;a@example.de;Müller\r\n".encode("cp1252")
    with pytest.raises(Exception, match="E101, line 2"):
        list(read_subscriber_list(data, "KMM", encoding="utf-8"))
    [record] = list(read_subscriber_list(data, "KMM", encoding="iso-8859-1").records())
    assert record.values["NACHNAME"] == "Müller"


# --------------------------------------------------------------------------- writing


def test_writer_refuses_what_a_reader_would_reject() -> None:
    with pytest.raises(RecordError) as info:
        write_subscriber_list(
            "KMM",
            ["KUNDENNUMMER", "EMAIL"],
            [["4711", "a@example.de"], ["0004711", "b@example.de"]],
        )
    assert (info.value.code, info.value.message.line) == ("E203", 3)
    with pytest.raises(RecordError) as info:
        write_subscriber_list(
            "KMM", ["KUNDENNUMMER", "EMAIL", "NACHNAME"], [["1", "a@example.de", "Dvořák"]]
        )
    assert (info.value.code, info.value.message.field, info.value.message.line) == (
        "E206",
        "NACHNAME",
        2,
    )
    assert "U+0159" in (info.value.message.detail or "")
    with pytest.raises(StructureError, match="E107"):
        write_subscriber_list("REKU", ["KUNDENNUMMER", "EMAIL"], [])
    with pytest.raises(RecordError, match="E204"):
        write_subscriber_list(
            "REKU", ["KUNDENNUMMER", "EMAIL", "ANLASS"], [["1", "a@example.de", "MCZZ999"]]
        )
    # the same address twice is allowed (only a warning when read)
    ok = write_subscriber_list(
        "KMM", ["KUNDENNUMMER", "EMAIL"], [["1", "a@example.de"], ["2", "A@example.de"]]
    )
    assert ok == b"KUNDENNUMMER;EMAIL\r\n0000000001;a@example.de\r\n0000000002;A@example.de\r\n"


def test_writer_takes_typed_values() -> None:
    import datetime as dt

    data = write_subscriber_list(
        "REKU",
        ["KUNDENNUMMER", "EMAIL", "ANLASS", "ANLASS_DATUM"],
        [
            [
                CustomerNumber(4711),
                EmailAddress("a@Example.de"),
                OccasionCode("ag002"),
                dt.date(2026, 12, 1),
            ]
        ],
    )
    assert (
        data
        == b"KUNDENNUMMER;EMAIL;ANLASS;ANLASS_DATUM\r\n0000004711;a@example.de;MCAG002;01.12.2026\r\n"
    )
    assert write_subscriber_list(
        "KMM", ["KUNDENNUMMER", "EMAIL"], [[4711, "a@example.de"]]
    ).endswith(b"0000004711;a@example.de\r\n")


# --------------------------------------------------------------------------- memory


def test_state_that_grows_is_only_the_duplicate_index(tmp_path: Path) -> None:
    """Reading streams; what grows with the file is the index behind E203 and W201 (one
    entry per customer and per address), far less than the records themselves."""

    def peak(rows: int) -> tuple[int, int]:
        path = tmp_path / f"{rows}.csv"
        with path.open("wb") as out:
            out.write(b"KUNDENNUMMER;EMAIL;VORNAME;NACHNAME;NOTIZ\r\n")
            for n in range(rows):
                out.write(
                    f"{n:010d};kunde.{n}@example.de;Anna;Müller;{'x' * 100}\r\n".encode("cp1252")
                )
        gc.collect()
        tracemalloc.start()
        try:
            with path.open("rb") as stream:
                assert sum(1 for _ in read_subscriber_list(stream, "KMM")) == rows
            return tracemalloc.get_traced_memory()[1], path.stat().st_size
        finally:
            tracemalloc.stop()

    small, _ = peak(1_000)
    big, size = peak(8_000)
    assert small < 3_000_000, small
    assert (big - small) / 7_000 < 400, (small, big)  # about 300 bytes per customer
    assert size > 1_000_000


def test_layout_constants() -> None:
    assert KMM.kind == "KMM"
    assert REKU.column("anlass") is not None


def _w201_first_line(rule: Any, address: str) -> int | None:
    messages = rule(10**6, {"EMAIL": address}, {"EMAIL": EmailAddress(address)}, [])
    if not messages:
        return None
    [message] = messages
    assert message.code == "W201"
    return int(message.detail.rpartition(" ")[2])


@given(st.lists(email_addresses(), min_size=1, max_size=40))
def test_shared_address_batches_key_every_address_by_its_matching_key(
    addresses: list[EmailAddress],
) -> None:
    """The batch path of W201 keys each address as ``matching_key`` does (ASCII case folded,
    internationalised domains as A-labels), whatever mix of cases and domains the batch has."""
    texts = [str(a) for a in addresses]
    keys = [a.matching_key for a in addresses]
    rule = _SharedAddresses()
    lines = list(range(2, 2 + len(texts)))
    claimed = rule.batch(lines, {"EMAIL": texts})
    assert claimed == (len(set(keys)) == len(keys))
    if claimed:
        for address, line in zip(addresses, lines, strict=True):
            again = address.local.upper() + "@" + address.domain
            assert _w201_first_line(rule, str(EmailAddress(again))) == line


def test_shared_address_batch_with_upper_case_and_an_international_domain() -> None:
    rule = _SharedAddresses()
    texts = ["Anna@example.de", "max@bücher.example", "zoe@example.de"]
    assert rule.batch([2, 3, 4], {"EMAIL": texts})
    assert _w201_first_line(rule, "anna@example.de") == 2
    assert _w201_first_line(rule, "MAX@bücher.example") == 3
    assert _w201_first_line(rule, "max@xn--bcher-kva.example") == 3
    assert _w201_first_line(rule, "Zoe@example.de") == 4
    assert _w201_first_line(rule, "other@example.de") is None


def _without_line_ends(text: str) -> str:
    return text.replace("\r", "").replace("\n", "")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["KMM", "REKU", "IAM"]).flatmap(
        lambda kind: st.tuples(st.just(kind), subscriber_list_files(kind, max_rows=6))
    ),
    st.lists(
        st.tuples(st.integers(0, 10**6), st.sampled_from(['"', ";", "\r", "\n", "\r\n", "x", "é", "€", "\x00", ""])),
        min_size=1,
        max_size=4,
    ),
    st.booleans(),
)  # fmt: skip
def test_damaged_list_nothing_is_lost(
    case: tuple[str, bytes], damage: list[tuple[int, str]], replace: bool
) -> None:
    """Insert (or overwrite with) quotes, separators, line ends and other characters at a
    few places of a valid list: in lenient mode every character of the file but the line ends
    comes back, in order, in the header or in the raw text of a record or rejected record."""
    kind, data = case
    text = data.decode("windows-1252")
    for place, char in damage:
        where = place % (len(text) + 1)
        text = text[:where] + char + text[where + int(replace) :]
    damaged = text.encode("windows-1252")
    reader = read_subscriber_list(damaged, kind, mode=Mode.LENIENT, encoding="windows-1252")
    items = list(reader)
    if not any(isinstance(i, (Record, Rejected)) for i in items) and any(
        isinstance(i, Notice) and i.message.code in ("E104", "E107") for i in items
    ):
        event("the header is unusable: the file is refused as a whole")
        return
    raws = [i.raw for i in items if isinstance(i, (Record, Rejected))]
    joined = _without_line_ends("".join(raws))
    whole = _without_line_ends(text)
    assert whole.endswith(joined)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first_line = next(line for line in lines if line)
    if '"' not in first_line:  # the header is the first line (blank lines skipped)
        assert whole[: len(whole) - len(joined)] == first_line
