"""File names (FORMATS.md, "File names"): building and parsing are inverse, every kind has its
extension, anything off the grammar or able to escape a directory is refused with E108."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emma_osplus import Blz, FileNameError, OrderNumber
from emma_osplus._filenames import (
    FILE_KINDS,
    FileName,
    check_safe_name,
    kind_of,
    parse_file_name,
)
from emma_osplus.testing._filenames import file_names, safe_names, unsafe_names

UTC = dt.timezone.utc
WHEN = dt.datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
SETTINGS = settings(max_examples=300, deadline=None)


def _refusal(func: object, *args: object) -> FileNameError:
    with pytest.raises(FileNameError) as info:
        func(*args)  # type: ignore[operator]
    assert info.value.code == "E108"
    return info.value


@SETTINGS
@given(file_names())
def test_build_then_parse_gives_the_same_name(name: FileName) -> None:
    text = str(name)
    parsed = parse_file_name(text)
    assert parsed == name
    assert str(parsed) == text
    assert kind_of(text) == name.kind
    assert check_safe_name(text) == text
    assert text.endswith("." + FILE_KINDS[name.kind].ext)
    assert parsed.created.tzinfo is UTC


@SETTINGS
@given(
    st.sampled_from(sorted(FILE_KINDS)),
    st.from_regex(r"[1-8][0-9]{7}", fullmatch=True),
    st.from_regex(r"[A-Z0-9]{1,20}", fullmatch=True),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.datetimes(min_value=dt.datetime(1000, 1, 1)).map(lambda d: d.replace(microsecond=0)),
)
def test_parse_then_build_gives_the_same_text(
    kind: str, blz: str, ref: str, seq: str, created: dt.datetime
) -> None:
    text = f"{blz}_{kind}_{ref}_{created:%Y%m%d%H%M%S}_{seq}.{FILE_KINDS[kind].ext}"
    assert str(parse_file_name(text)) == text


@SETTINGS
@given(unsafe_names())
def test_every_unsafe_name_is_refused(name: str) -> None:
    _refusal(check_safe_name, name)
    _refusal(parse_file_name, name)


@SETTINGS
@given(file_names(), unsafe_names().filter(bool))
def test_unsafe_text_inside_a_grammar_name_is_refused(name: FileName, bad: str) -> None:
    text = str(name)
    for mixed in (bad + text, text + bad, text.replace("_", "_" + bad + "_", 1)):
        _refusal(parse_file_name, mixed)


@SETTINGS
@given(safe_names())
def test_safe_names_are_kept_as_given(name: str) -> None:
    assert check_safe_name(name) == name


@pytest.mark.parametrize(
    ("kind", "ext"),
    [
        ("LIEF", "xml"),
        ("KMM", "csv"),
        ("REKU", "csv"),
        ("IAM", "csv"),
        ("VREKU", "xml"),
        ("VIAM", "xml"),
        ("RESP", "txt"),
        ("QUIT", "xml"),
        ("CONS", "csv"),
    ],
)
def test_kind_table(kind: str, ext: str) -> None:
    name = FileName("37050198", kind, "0", WHEN, 1)
    assert name.ext == ext
    assert str(name) == f"37050198_{kind}_0_20261122093000_0001.{ext}"
    for other in {"xml", "csv", "txt"} - {ext}:
        err = _refusal(parse_file_name, f"37050198_{kind}_0_20261122093000_0001.{other}")
        assert f"has the extension {ext!r}" in (err.message.detail or "")


def test_spec_example_and_parts() -> None:
    name = parse_file_name("37050198_KMM_K2026001_20261122093000_0001.csv")
    assert name == FileName(Blz("37050198"), "KMM", "K2026001", WHEN, 1)
    assert name.order_number == OrderNumber("K2026001")
    assert name.file_kind.direction == "osplus_to_emma"
    assert parse_file_name("37050198_QUIT_0_20261122093000_0001.xml").order_number is None


BAD_NAMES = [
    ("37050198_KMM_K2026001_20261122093000_0001.xml", "has the extension 'csv'"),
    ("37050198_KMM_K2026001_20261122093000_0001.CSV", "has the extension 'csv'"),
    ("37050198_KMM_K2026001_20261122093000_0001", "no extension"),
    ("37050198_KMM_K2026001_20261122093000_0001.csv.gz", "more than one '.'"),
    ("37050198_KMM_K2026001_20261122093000_001.csv", "seq '001' is not 4 digits"),
    ("37050198_KMM_K2026001_20261122093000_00001.csv", "is not 4 digits"),
    ("37050198_KMM_K2026001_20261122093000_000A.csv", "is not 4 digits"),
    ("37050198_KMM_K2026001_20261332093000_0001.csv", "not a valid date"),
    ("37050198_KMM_K2026001_20260230093000_0001.csv", "not a valid date"),
    ("37050198_KMM_K2026001_20261122246000_0001.csv", "not a valid date"),
    ("37050198_KMM_K2026001_2026112209300_0001.csv", "is not YYYYMMDDHHMMSS"),
    ("37050198_KMM_K2026001_20261122093000_0001_X.csv", "6 parts"),
    ("37050198_KMM_20261122093000_0001.csv", "4 parts"),
    ("37050198_KMM__20261122093000_0001.csv", "ref ''"),
    ("37050198_KMM_k2026001_20261122093000_0001.csv", "ref 'k2026001'"),
    ("37050198_KMM_K20260010000000000000X_20261122093000_0001.csv", "ref"),
    ("37050198_kmm_K2026001_20261122093000_0001.csv", "unknown kind 'kmm'"),
    ("37050198_XYZ_K2026001_20261122093000_0001.csv", "unknown kind"),
    ("07050198_KMM_K2026001_20261122093000_0001.csv", "blz '07050198'"),
    ("3705019_KMM_K2026001_20261122093000_0001.csv", "blz"),
    ("../37050198_KMM_K2026001_20261122093000_0001.csv", "path separator"),
    ("in/37050198_KMM_K2026001_20261122093000_0001.csv", "path separator"),
    ("C:37050198_KMM_K2026001_20261122093000_0001.csv", "':'"),
    (".37050198_KMM_K2026001_20261122093000_0001.csv", "leading dot"),
    ("37050198_KMM_K2026001_20261122093000_0001..csv", "'..'"),
    ("37050198_KMM_K2026001_20261122093000_0001.csv\x00.jpg", "control"),
    ("37050198_KMM_K2026001_20261122093000_0001.csv ", "trailing"),
    ("", "empty name"),
]


@pytest.mark.parametrize(("text", "detail"), BAD_NAMES)
def test_bad_names(text: str, detail: str) -> None:
    err = _refusal(parse_file_name, text)
    assert detail in (err.message.detail or "")
    assert err.message.raw == text
    _refusal(kind_of, text)


SAFE = ["berater_0042.jpg", "faks_0042.png", "Bild Müller.jpg", "a.b.c.jpg", "CONSOLE.jpg", "x"]
UNSAFE = [
    ("a/b.jpg", "path separator '/'"),
    ("a\\b.jpg", "path separator"),
    ("..", "directory reference"),
    (".", "directory reference"),
    ("a..jpg", "'..'"),
    (".hidden.jpg", "leading dot"),
    ("C:x.jpg", "drive letter"),
    ("x\u202egpj.exe", "U+202E"),
    ("x\u00a0y.jpg", "whitespace other than a plain space"),
    ("x\uff0fy.jpg", "path separator '/' in its compatibility form"),
    ("x\u2025jpg", "'..' in its compatibility form"),
    ("NUL.jpg", "Windows device name"),
    ("com1", "Windows device name"),
    ("x.jpg.", "trailing dot"),
    ("x?.jpg", "not allowed in file names on Windows"),
    ("\ud800.jpg", "U+D800"),
    ("a" * 256, "256 octets"),
]


@pytest.mark.parametrize("name", SAFE)
def test_safe_table(name: str) -> None:
    assert check_safe_name(name) == name


@pytest.mark.parametrize(("name", "detail"), UNSAFE)
def test_unsafe_table(name: str, detail: str) -> None:
    assert detail in (_refusal(check_safe_name, name).message.detail or "")


def test_non_text_name_is_refused() -> None:
    assert "expected text" in (_refusal(check_safe_name, b"x.jpg").message.detail or "")


@pytest.mark.parametrize(
    ("kwargs", "detail"),
    [
        ({"blz": "0705019"}, "blz"),
        ({"kind": "kmm"}, "unknown kind"),
        ({"ref": "K-1"}, "ref 'K-1'"),
        ({"ref": ""}, "ref ''"),
        ({"created": WHEN.replace(tzinfo=None)}, "aware datetime"),
        ({"created": WHEN.replace(microsecond=1)}, "fractions of a second"),
        ({"created": "20261122093000"}, "aware datetime"),
        ({"seq": 10000}, "seq 10000"),
        ({"seq": -1}, "seq -1"),
        ({"seq": "0001"}, "seq '0001'"),
        ({"seq": True}, "seq True"),
    ],
)
def test_constructor_refuses_bad_parts(kwargs: dict[str, object], detail: str) -> None:
    parts: dict[str, object] = {
        "blz": "37050198",
        "kind": "KMM",
        "ref": "K2026001",
        "created": WHEN,
        "seq": 1,
    }
    parts.update(kwargs)
    err = _refusal(lambda: FileName(**parts))  # type: ignore[arg-type]
    assert detail in (err.message.detail or "")


def test_constructor_converts_to_utc_and_accepts_typed_parts() -> None:
    local = dt.datetime(2026, 11, 22, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    name = FileName(Blz("37050198"), "KMM", OrderNumber("K2026001"), local, 1)
    assert name.created == WHEN
    assert name.created.tzinfo is UTC
    assert name.ref == "K2026001"
    assert str(name) == "37050198_KMM_K2026001_20261122093000_0001.csv"


def test_early_years_keep_four_digits() -> None:
    name = FileName("37050198", "RESP", "0", dt.datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), 0)
    assert str(name) == "37050198_RESP_0_09990102030405_0000.txt"
    assert parse_file_name(str(name)) == name
