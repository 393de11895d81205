"""Core value types: valid values round-trip through their string form, invalid ones are
refused with the right message code."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emma_osplus import (
    Blz,
    CustomerNumber,
    EventId,
    InvalidValueError,
    MailingId,
    OccasionCode,
    OrderName,
    OrderNumber,
    suggest_order_name,
)
from emma_osplus.testing import (
    blzs,
    customer_numbers,
    event_ids,
    invalid_blzs,
    invalid_customer_numbers,
    invalid_order_names,
    mailing_ids,
    occasion_codes,
    order_names,
    order_numbers,
)

ROUND_TRIPS = [
    (Blz, blzs()),
    (CustomerNumber, customer_numbers()),
    (OrderNumber, order_numbers()),
    (OrderName, order_names()),
    (OccasionCode, occasion_codes()),
    (MailingId, mailing_ids()),
    (EventId, event_ids()),
]


@pytest.mark.parametrize(("cls", "strategy"), ROUND_TRIPS, ids=lambda x: getattr(x, "__name__", ""))
def test_round_trip_through_string_form(cls: type, strategy: st.SearchStrategy[object]) -> None:
    @given(strategy)
    def check(value: object) -> None:
        assert cls(str(value)) == value
        assert str(value) in repr(value)
        assert hash(cls(str(value))) == hash(value)

    check()


def _code_of(cls: type, text: object) -> str:
    with pytest.raises(InvalidValueError) as info:
        cls(text)
    assert isinstance(info.value, ValueError)
    return info.value.code


@given(invalid_blzs())
def test_invalid_blz_refused(text: str) -> None:
    assert _code_of(Blz, text) in {"E209", "E208"}


@given(invalid_customer_numbers())
def test_invalid_customer_number_is_e202(text: str) -> None:
    assert _code_of(CustomerNumber, text) == "E202"


@given(invalid_order_names())
def test_invalid_order_name_is_e303(text: str) -> None:
    assert _code_of(OrderName, text) == "E303"


@pytest.mark.parametrize(
    ("cls", "text", "code"),
    [
        (Blz, "", "E208"),
        (Blz, "3705019", "E209"),
        (Blz, "97050198", "E209"),
        (Blz, "3705019A", "E209"),
        (Blz, "３７０５０１９８", "E209"),  # full-width digits are not digits here
        (CustomerNumber, "", "E208"),
        (CustomerNumber, "12345678901", "E202"),
        (CustomerNumber, "-1", "E202"),
        (CustomerNumber, " 4711", "E202"),
        (CustomerNumber, "٤٧١١", "E202"),  # Arabic-Indic digits
        (CustomerNumber, -1, "E202"),
        (CustomerNumber, 10**10, "E202"),
        (CustomerNumber, 4.0, "E202"),
        (OrderNumber, "k2026", "E209"),
        (OrderNumber, "A" * 21, "E209"),
        (OrderName, "Runde Geburtstage", "E303"),
        (OrderName, "Gebühren", "E303"),
        (OrderName, "a" * 65, "E303"),
        (OrderName, "", "E208"),
        (OccasionCode, "MCAG02", "E204"),
        (OccasionCode, "AUO30", "E204"),
        (OccasionCode, "XXAG002", "E204"),
        (OccasionCode, "", "E208"),
        (MailingId, "a b", "E209"),
        (MailingId, "x" * 21, "E209"),
        (EventId, "evt.1", "E209"),
        (EventId, "e" * 26, "E209"),
        (Blz, 37050198, "E209"),
    ],
)
def test_refusals_carry_the_code(cls: type, text: object, code: str) -> None:
    assert _code_of(cls, text) == code


def test_refusal_message_has_field_and_raw() -> None:
    with pytest.raises(InvalidValueError) as info:
        CustomerNumber("47x1")
    message = info.value.message
    assert (message.field, message.raw, message.code) == ("KUNDENNUMMER", "47x1", "E202")


def test_customer_number_canonical_form() -> None:
    assert str(CustomerNumber("4711")) == "0000004711"
    assert str(CustomerNumber(0)) == "0000000000"
    assert str(CustomerNumber("9999999999")) == "9999999999"
    assert int(CustomerNumber("0000004711")) == 4711
    assert CustomerNumber("1") < CustomerNumber("2")


def test_blz_sparkasse_digit() -> None:
    assert Blz("37050198").is_sparkasse
    assert not Blz("10020000").is_sparkasse


@pytest.mark.parametrize(
    ("text", "long", "short", "family"),
    [
        ("MCAG002", "MCAG002", "AG002", "AG"),
        ("AG002", "MCAG002", "AG002", "AG"),
        ("  ak007 ", "MCAK007", "AK007", "AK"),
        ("mcau030", "MCAU030", "AU030", "AU"),
    ],
)
def test_occasion_code_forms(text: str, long: str, short: str, family: str) -> None:
    code = OccasionCode(text)
    assert (code.long, code.short, code.family, str(code)) == (long, short, family, long)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Runde Geburtstage", "Runde_Geburtstage"),
        ("Übersee Ärger Öl", "Uebersee_Aerger_Oel"),
        ("größer", "groesser"),
        ("Straße", "Strasse"),
        ("  a   b  ", "a_b"),
        ("Herbst-Aktion 2026 (neu!)", "Herbst-Aktion_2026_neu"),
        ("é€$", "E303"),
        ("x" * 70, "x" * 64),
    ],
)
def test_suggest_order_name(text: str, expected: str) -> None:
    if expected == "E303":
        with pytest.raises(InvalidValueError) as info:
            suggest_order_name(text)
        assert info.value.code == "E303"
    else:
        assert suggest_order_name(text) == expected


@given(st.text(max_size=100))
def test_suggestions_are_always_valid_order_names(text: str) -> None:
    try:
        suggestion = suggest_order_name(text)
    except InvalidValueError as exc:
        assert exc.code == "E303"
    else:
        assert str(OrderName(suggestion)) == suggestion


def test_order_name_error_suggests_a_safe_name() -> None:
    with pytest.raises(InvalidValueError) as info:
        OrderName("Runde Geburtstage Ü60")
    assert info.value.message.detail is not None
    assert "'Runde_Geburtstage_Ue60'" in info.value.message.detail


def test_types_are_frozen() -> None:
    import attrs

    blz = Blz("37050198")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        blz.value = "10020000"  # type: ignore[misc]
