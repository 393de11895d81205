"""Layout converters: parse/format round trips and refusals with their codes."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emma_osplus import CustomerNumber, InvalidValueError
from emma_osplus.converters import (
    DATE,
    DATETIME_OFFSET,
    TEXT,
    TIMESTAMP_UTC,
    CodeTable,
    Integer,
    Pattern,
    Text,
    ValueType,
)

aware = st.datetimes(
    min_value=dt.datetime(1000, 1, 1),
    max_value=dt.datetime(9999, 12, 31),
    timezones=st.sampled_from(
        [dt.timezone.utc, dt.timezone(dt.timedelta(hours=1)), dt.timezone(dt.timedelta(hours=-5))]
    ),
)


@given(st.dates(min_value=dt.date(1, 1, 1)))
def test_date_round_trip(value: dt.date) -> None:
    assert DATE.parse(DATE.format(value)) == value


@given(aware.map(lambda d: d.replace(microsecond=0)))
def test_timestamp_utc_round_trip(value: dt.datetime) -> None:
    text = TIMESTAMP_UTC.format(value)
    assert len(text) == 14
    assert TIMESTAMP_UTC.parse(text) == value
    assert TIMESTAMP_UTC.canonical(text) == text


@given(aware)
def test_datetime_offset_round_trip(value: dt.datetime) -> None:
    text = DATETIME_OFFSET.format(value)
    parsed = DATETIME_OFFSET.parse(text)
    assert parsed == value
    assert parsed.utcoffset() == value.utcoffset()
    assert DATETIME_OFFSET.canonical(text) == text


def test_datetime_offset_z() -> None:
    assert DATETIME_OFFSET.canonical("2026-11-22T09:30:00Z") == "2026-11-22T09:30:00+00:00"


@pytest.mark.parametrize(
    ("converter", "text", "code"),
    [
        (DATE, "31.02.2026", "E205"),
        (DATE, "2026-02-01", "E205"),
        (DATE, "1.2.2026", "E205"),
        (TIMESTAMP_UTC, "20261322000000", "E205"),
        (TIMESTAMP_UTC, "2026112209300", "E205"),
        (DATETIME_OFFSET, "2026-11-22T09:30:00", "E205"),
        (DATETIME_OFFSET, "2026-11-22T25:30:00+01:00", "E205"),
        (DATETIME_OFFSET, "22.11.2026", "E205"),
        (CodeTable(("Herr", "Frau")), "herr", "E207"),
        (Pattern(r"[0-9]{1,8}"), "123456789", "E209"),
        (Pattern(r"[A-Z]+", code="E207"), "abc", "E207"),
        (Integer(3), "1000", "E209"),
        (Integer(3), "-1", "E209"),
        (Text(max_length=3), "abcd", "E206"),
        (ValueType(CustomerNumber), "12345678901", "E202"),
    ],
)
def test_refusals(converter: object, text: str, code: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        converter.canonical(text)  # type: ignore[attr-defined]
    assert info.value.code == code
    assert info.value.message.raw == text


def test_value_type_clears_the_types_own_field_name() -> None:
    with pytest.raises(InvalidValueError) as info:
        ValueType(CustomerNumber).parse("x")
    assert info.value.message.field is None  # the engine sets the layout's field name


def test_text_is_identity() -> None:
    assert TEXT.canonical(" a ;\r\n ") == " a ;\r\n "


def test_integer_canonical_form() -> None:
    assert Integer(10).canonical("0007") == "7"


def test_format_refuses_wrong_types() -> None:
    with pytest.raises(TypeError):
        DATE.format("01.01.2026")
    with pytest.raises(TypeError):
        TIMESTAMP_UTC.format(dt.datetime(2026, 1, 1))  # naive
    with pytest.raises(TypeError):
        DATETIME_OFFSET.format(dt.datetime(2026, 1, 1))
