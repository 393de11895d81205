"""Response events: every event converts to a RESP detail record and back without loss, and
every bad record value is refused with the message code of FORMATS.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emma_osplus import Blz, CustomerNumber, EventId, InvalidValueError, MailingId, OrderNumber
from emma_osplus._email import EmailAddress
from emma_osplus._errors import RecordError
from emma_osplus._events import (
    EVENT_TYPES,
    RESP_FIELDS,
    Bounce,
    Clicked,
    HardBounce,
    Opened,
    RecipientKey,
    ResponseEvent,
    Sent,
    SoftBounce,
    Unsubscribed,
    Withheld,
    event_from_values,
)
from emma_osplus.testing._events import response_events

BLZ = Blz("37050198")
UTC = dt.timezone.utc


def common(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "event_id": EventId("evt-1"),
        "blz": BLZ,
        "order": OrderNumber("K2026001"),
        "order_kind": "KMM",
        "mailing": MailingId("M-2026-11"),
        "customer": CustomerNumber(4711),
        "email": EmailAddress("anna.schmidt@example.de"),
        "at": dt.datetime(2026, 11, 3, 9, 15, 7, tzinfo=UTC),
    }
    fields.update(changes)
    return fields


def values(**changes: str) -> dict[str, str]:
    row = {
        "KUNDENNUMMER": "0000004711",
        "AUFTRAGSNUMMER": "K2026001",
        "AUFTRAGSART": "KMM",
        "REAKTION": "VS",
        "ZEITPUNKT": "20261103091507",
        "MAILING_ID": "M-2026-11",
        "EMAIL": "anna.schmidt@example.de",
        "STATUSCODE": "",
        "DETAIL": "",
        "EREIGNIS_ID": "evt-1",
    }
    row.update(changes)
    return row


def test_codes_and_kinds_follow_the_resp_table() -> None:
    """FORMATS.md, Responses: VS OE KL AB HB SB ZH, each with its own class."""
    assert {code: cls.__name__ for code, cls in EVENT_TYPES.items()} == {
        "VS": "Sent",
        "OE": "Opened",
        "KL": "Clicked",
        "AB": "Unsubscribed",
        "HB": "HardBounce",
        "SB": "SoftBounce",
        "ZH": "Withheld",
    }
    assert len({cls.KIND for cls in EVENT_TYPES.values()}) == 7


@settings(max_examples=150)
@given(response_events())
def test_event_to_values_and_back_is_lossless(event: ResponseEvent) -> None:
    record = event.to_values()
    assert tuple(record) == RESP_FIELDS
    assert record["REAKTION"] == event.CODE
    back = event_from_values(record, blz=event.blz)
    assert back == event
    assert type(back) is type(event)
    assert back.to_values() == record


@pytest.mark.parametrize("cls", list(EVENT_TYPES.values()), ids=lambda c: c.__name__)
@settings(max_examples=20)
@given(data=st.data())
def test_every_class_round_trips(cls: type[ResponseEvent], data: st.DataObject) -> None:
    event = data.draw(response_events(cls))
    assert isinstance(event, cls)
    assert event_from_values(event.to_values(), blz=event.blz) == event


EXAMPLES = [
    (values(), Sent(**common())),
    (values(REAKTION="OE"), Opened(**common())),
    (values(REAKTION="KL", DETAIL="lnk-042"), Clicked(**common(), link="lnk-042")),
    (values(REAKTION="AB", DETAIL="LISTUNSUB"), Unsubscribed(**common(), source="LISTUNSUB")),
    (
        values(REAKTION="HB", STATUSCODE="5.1.1", DETAIL="550 5.1.1 user unknown"),
        HardBounce(**common(), status="5.1.1", diagnostic="550 5.1.1 user unknown"),
    ),
    (
        values(REAKTION="SB", STATUSCODE="4.2.2", DETAIL="452 4.2.2 Mailbox full"),
        SoftBounce(**common(), status="4.2.2", diagnostic="452 4.2.2 Mailbox full"),
    ),
    (
        values(REAKTION="SB", STATUSCODE="4.0.0"),
        SoftBounce(**common(), status="4.0.0", diagnostic=""),
    ),
    (values(REAKTION="ZH", DETAIL="SPERRLISTE"), Withheld(**common(), reason="SPERRLISTE")),
]


@pytest.mark.parametrize(("record", "event"), EXAMPLES, ids=[e.CODE for _, e in EXAMPLES])
def test_examples_both_ways(record: dict[str, str], event: ResponseEvent) -> None:
    assert event_from_values(record, blz=BLZ) == event
    assert event.to_values() == record


def test_satzart_may_be_present_and_empty_fields_may_be_absent() -> None:
    record = values()
    del record["STATUSCODE"], record["DETAIL"]
    assert event_from_values({"SATZART": "R", **record}, blz=BLZ) == Sent(**common())


REFUSALS = [
    ("missing field", values(EREIGNIS_ID=""), "E208", "EREIGNIS_ID"),
    ("unknown code", values(REAKTION="XX"), "E207", "REAKTION"),
    ("bad order kind", values(AUFTRAGSART="ABC"), "E207", "AUFTRAGSART"),
    ("bad address", values(EMAIL="anna..schmidt@example.de"), "E201", "EMAIL"),
    ("bad customer", values(KUNDENNUMMER="47x1"), "E202", "KUNDENNUMMER"),
    ("bad time", values(ZEITPUNKT="20261131091507"), "E205", "ZEITPUNKT"),
    ("bad event id", values(EREIGNIS_ID="evt 1"), "E209", "EREIGNIS_ID"),
    ("bad mailing id", values(MAILING_ID="M/1"), "E209", "MAILING_ID"),
    ("status on sent", values(STATUSCODE="5.1.1"), "E209", "STATUSCODE"),
    ("detail on sent", values(DETAIL="x"), "E207", "DETAIL"),
    ("detail on opened", values(REAKTION="OE", DETAIL="x"), "E207", "DETAIL"),
    ("click without link", values(REAKTION="KL"), "E208", "DETAIL"),
    ("bad source", values(REAKTION="AB", DETAIL="TELEFON"), "E207", "DETAIL"),
    ("bad reason", values(REAKTION="ZH", DETAIL="SONSTIGES"), "E207", "DETAIL"),
    ("bad status", values(REAKTION="HB", STATUSCODE="550"), "E209", "STATUSCODE"),
    ("status of class 3", values(REAKTION="SB", STATUSCODE="3.1.1"), "E209", "STATUSCODE"),
    ("unknown field", {**values(), "FOO": "1"}, "E209", "FOO"),
    ("header record", {**values(), "SATZART": "A"}, "E209", "SATZART"),
]


@pytest.mark.parametrize(
    ("record", "code", "field"),
    [r[1:] for r in REFUSALS],
    ids=[r[0] for r in REFUSALS],
)
def test_bad_values_are_refused_with_their_code(
    record: dict[str, str], code: str, field: str
) -> None:
    with pytest.raises(InvalidValueError) as info:
        event_from_values(record, blz=BLZ)
    assert info.value.message.code == code
    assert info.value.message.field == field


def test_long_diagnostic_is_kept_but_not_written() -> None:
    """DETAIL has 40 characters: to_values refuses (E206) instead of cutting."""
    text = "550-5.1.1 The email account that you tried to reach does not exist. Please try"
    bounce = HardBounce(**common(), status="5.1.1", diagnostic=text)
    assert bounce.diagnostic == text
    with pytest.raises(RecordError) as info:
        bounce.to_values()
    assert (info.value.message.code, info.value.message.field) == ("E206", "DETAIL")
    cut = bounce.with_truncated_diagnostic()
    assert cut.diagnostic == text[:40].rstrip()
    assert cut.to_values()["DETAIL"] == cut.diagnostic
    assert len(cut.to_values()["DETAIL"]) <= 40


def test_truncation_drops_the_trailing_space_so_the_record_round_trips() -> None:
    text = "x" * 39 + " yyyy"
    cut = SoftBounce(**common(), status="4.2.2", diagnostic=text).with_truncated_diagnostic()
    assert cut.diagnostic == "x" * 39
    assert event_from_values(cut.to_values(), blz=BLZ) == cut


def test_long_link_is_refused_when_written() -> None:
    click = Clicked(**common(), link="l" * 41)
    with pytest.raises(RecordError) as info:
        click.to_values()
    assert info.value.message.code == "E206"


def test_multi_line_diagnostic_is_put_on_one_line() -> None:
    bounce = SoftBounce(
        **common(), status="4.2.2", diagnostic="452-4.2.2 The email\r\n452 4.2.2 over quota "
    )
    assert bounce.diagnostic == "452-4.2.2 The email 452 4.2.2 over quota"


@pytest.mark.parametrize("link", [" lnk", "lnk ", "", "l\tn", "l\x00"])
def test_links_that_a_record_could_not_give_back_are_refused(link: str) -> None:
    with pytest.raises(InvalidValueError):
        Clicked(**common(), link=link)


def test_time_is_kept_in_utc_and_must_be_aware() -> None:
    berlin = dt.timezone(dt.timedelta(hours=1))
    event = Sent(**common(at=dt.datetime(2026, 11, 3, 10, 15, 7, tzinfo=berlin)))
    assert event == Sent(**common())
    assert event.at.tzinfo is UTC
    with pytest.raises(InvalidValueError) as info:
        Sent(**common(at=dt.datetime(2026, 11, 3, 9, 15, 7)))
    assert info.value.message.code == "E205"


def test_fractions_of_a_second_are_refused_when_written() -> None:
    event = Sent(**common(at=dt.datetime(2026, 11, 3, 9, 15, 7, 500, tzinfo=UTC)))
    with pytest.raises(RecordError) as info:
        event.to_values()
    assert info.value.message.code == "E205"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("customer", "4711", "E209"),
        ("email", "anna@example.de", "E209"),
        ("order_kind", "KMX", "E207"),
        ("at", "20261103091507", "E205"),
    ],
)
def test_fields_need_their_types(field: str, value: object, code: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        Sent(**common(**{field: value}))
    assert info.value.message.code == code


def test_base_classes_are_abstract() -> None:
    with pytest.raises(TypeError):
        ResponseEvent(**common())
    with pytest.raises(TypeError):
        Bounce(**common(), status="5.0.0", diagnostic="")


def test_repr_masks_the_address() -> None:
    event = HardBounce(
        **common(), status="5.1.1", diagnostic="550 <anna.schmidt@example.de>: user unknown"
    )
    text = repr(event)
    assert "anna.schmidt" not in text
    assert "a***@example.de" in text


def test_key_and_values_are_frozen() -> None:
    event = Sent(**common())
    assert event.key == RecipientKey(BLZ, event.order, event.mailing, event.customer)
    assert RecipientKey.from_texts(event.key.texts) == event.key
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.at = dt.datetime.now(UTC)  # type: ignore[misc]
