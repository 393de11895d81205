"""The processor over MemoryTransport and MemoryStore: every path of both sides.

Each test sets up OSPlus and EMMA as two processors over a connected pair of memory transports
(what one side publishes waits in the other's inbox) with a clock the test moves by hand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import pytest
from hypothesis import event as hypothesis_event
from hypothesis import given, settings
from hypothesis import strategies as st

from emma_osplus import (
    InvalidValueError,
    MemoryStore,
    MemoryTransport,
    OccasionCode,
    Record,
    TransportError,
)
from emma_osplus._consent import ConsentEvent, ConsentKind, ConsentPolicy
from emma_osplus._control import ControlFile, write_control
from emma_osplus._email import EmailAddress
from emma_osplus._errors import ProcessError
from emma_osplus._events import HardBounce, Opened, ResponseEvent, Sent, SoftBounce, Unsubscribed
from emma_osplus._feedback import InstituteSettings
from emma_osplus._manifest import read_manifest
from emma_osplus._orders import KmmOrder
from emma_osplus._processor import (
    DeliveryOrder,
    EmmaProcessor,
    OsplusProcessor,
    RunReport,
    counter_ids,
)
from emma_osplus._quit import read_acknowledgement
from emma_osplus._resp import RespHeader, read_resp, write_resp
from emma_osplus._responses import DEFAULT_SOFT_BOUNCE_POLICY, SoftBouncePolicy
from emma_osplus._types import Blz, CustomerNumber, EventId, MailingId, OrderNumber

BLZ = "37050198"
T0 = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.timezone.utc)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20) + b"\xff\xd9"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@attrs.define
class World:
    clock: Clock
    osplus_side: MemoryTransport
    emma_side: MemoryTransport
    osplus: OsplusProcessor
    emma: EmmaProcessor

    def emma_outbox(self, kind: str) -> dict[str, bytes]:
        return {n: d for n, d in self.emma_side.outbox.items() if f"_{kind}_" in n}

    def osplus_outbox(self, kind: str) -> dict[str, bytes]:
        return {n: d for n, d in self.osplus_side.outbox.items() if f"_{kind}_" in n}


def make_world(
    *,
    settings: InstituteSettings = InstituteSettings(),  # noqa: B008
    require_consent: bool = False,
    list_limit: int = 150,
) -> World:
    clock = Clock()
    osplus_side, emma_side = MemoryTransport.pair()
    osplus = OsplusProcessor(osplus_side, MemoryStore(), clock=clock, settings=settings)
    emma = EmmaProcessor(
        emma_side,
        MemoryStore(),
        clock=clock,
        ids=counter_ids("ZH"),
        consent_policy=ConsentPolicy(require_consent=require_consent),
        list_limit=list_limit,
    )
    return World(clock, osplus_side, emma_side, osplus, emma)


@pytest.fixture
def world() -> World:
    return make_world()


def rows(*customers: int) -> list[dict[str, str]]:
    return [
        {"KUNDENNUMMER": str(c), "EMAIL": f"kunde{c}@example.de", "VORNAME": "Jürgen"}
        for c in customers
    ]


def kmm(number: str = "K2026001", name: str = "Herbst_Aktion_2026", **more: Any) -> DeliveryOrder:
    return DeliveryOrder(blz=BLZ, number=number, kind="KMM", name=name, **more)


def quit_of(data: bytes) -> Any:
    return read_acknowledgement(data).value


def only(report: RunReport, outcome: str) -> list[str]:
    return [f.name for f in report.by_outcome(outcome)]


def event(cls: type[ResponseEvent], number: int, customer: int, **extra: Any) -> ResponseEvent:
    return cls(
        event_id=EventId(f"ev{number}"),
        blz=Blz(BLZ),
        order=OrderNumber("K2026001"),
        order_kind="KMM",
        mailing=MailingId("M1"),
        customer=CustomerNumber(customer),
        email=EmailAddress(f"kunde{customer}@example.de"),
        at=T0 + dt.timedelta(hours=number),
        **extra,
    )


# -- the EMMA side: deliveries ------------------------------------------------------------------


def test_happy_kmm_delivery_round_trip(world: World) -> None:
    result = world.osplus.deliver(kmm(), rows(1, 2, 3), pictures={"berater_0042.jpg": JPEG})
    # subscriber list first, the picture, the manifest last
    assert [n.split("_")[1] if n[0].isdigit() else n for n in result.files] == [
        "KMM",
        "berater_0042.jpg",
        "LIEF",
    ]
    assert list(world.emma_side.inbox) == list(result.files)
    report = world.emma.run_once()
    assert report.counts["processed"] == 1
    assert report.ok
    assert sorted(world.emma_side.archived) == sorted(result.files)
    assert world.emma_side.inbox == {}
    members = world.emma.list_members(BLZ, "Herbst_Aktion_2026")
    assert sorted(members) == ["0000000001", "0000000002", "0000000003"]
    assert members["0000000001"]["VORNAME"] == "Jürgen"
    order = world.emma.order(BLZ, "KMM", "K2026001")
    assert order is not None
    assert order.state == "listed"
    [(quit_name, data)] = world.emma_outbox("QUIT").items()
    ack = quit_of(data)
    assert (ack.status, ack.saetze, ack.uebernommen, ack.datei) == ("ok", 3, 3, result.files[0])
    assert ack.sha256 == hashlib.sha256(world.emma_side.archived[result.files[0]]).hexdigest()
    back = world.osplus.run_once()
    assert only(back, "processed") == [quit_name]
    status = world.osplus.delivery_status(BLZ, result.files[0])
    assert status is not None
    assert status["rows"] == 3
    assert status["ack"]["status"] == "ok"


def test_files_without_their_manifest_wait(world: World) -> None:
    result = world.osplus.deliver(kmm(), rows(1, 2), pictures={"berater_0042.jpg": JPEG})
    csv_name, picture, lief = result.files
    manifest = world.emma_side.inbox.pop(lief)
    report = world.emma.run_once()
    assert only(report, "waiting") == sorted([csv_name, picture])
    assert all("no manifest" in f.detail for f in report.files)
    assert world.emma.order(BLZ, "KMM", "K2026001") is None
    assert world.emma_side.outbox == {}
    # the manifest is there, a listed file is not: the delivery waits, nothing is quarantined
    world.emma_side.inbox[lief] = manifest
    data = world.emma_side.inbox.pop(picture)
    report = world.emma.run_once()
    assert report.counts == {**report.counts, "waiting": 2, "processed": 0, "quarantined": 0}
    [waiting_lief] = [f for f in report.files if f.name == lief]
    assert "waits for 1 of 2 listed files: berater_0042.jpg" in waiting_lief.detail
    world.emma_side.inbox[picture] = data
    report = world.emma.run_once()
    assert only(report, "processed") == [lief]
    assert world.emma_side.inbox == {}


def test_verification_failure_quarantines_with_quit_and_the_run_goes_on(world: World) -> None:
    bad = world.osplus.deliver(kmm(), rows(1, 2))
    good = world.osplus.deliver(kmm("K2026002", "Winter_Aktion_2026"), rows(3))
    csv_name = bad.files[0]
    world.emma_side.inbox[csv_name] = world.emma_side.inbox[csv_name].replace(b"kunde2", b"kunde9")
    report = world.emma.run_once()
    assert only(report, "quarantined") == [bad.files[1]]
    assert only(report, "processed") == [good.files[1]]
    assert sorted(world.emma_side.quarantined) == sorted(bad.files)
    [quarantined] = report.by_outcome("quarantined")
    assert [m.code for m in quarantined.messages] == ["E102"]
    acks = [quit_of(d) for d in world.emma_outbox("QUIT").values()]
    by_file = {a.datei: a for a in acks}
    assert by_file[csv_name].status == "fehler"
    assert by_file[csv_name].abgelehnt == 2
    assert [m.code for m in by_file[csv_name].messages] == ["E102"]
    assert by_file[good.files[0]].status == "ok"
    # the failed KMM order keeps waiting for a correct delivery
    order = world.emma.order(BLZ, "KMM", "K2026001")
    assert isinstance(order, KmmOrder)
    assert order.state == "announced"
    assert [m.code for m in order.failures] == ["E102"]


def test_picture_that_is_not_an_image_is_e306(world: World) -> None:
    selection = [{**r, "BERATERBILD": "berater_0042.jpg"} for r in rows(1)]
    result = world.osplus.deliver(kmm(), selection, pictures={"berater_0042.jpg": b"<svg/>"})
    report = world.emma.run_once()
    assert only(report, "quarantined") == [result.files[-1]]
    assert "E306" in [m.code for m in report.files[0].messages]


def test_a_file_processed_before_has_no_second_effect(world: World) -> None:
    result = world.osplus.deliver(kmm(), rows(1, 2))
    copies = {n: world.emma_side.inbox[n] for n in result.files}
    world.emma.run_once()
    before = world.emma.store.dump()
    outbox = dict(world.emma_side.outbox)
    for name, data in copies.items():
        world.emma_side.deliver(name, data)
    report = world.emma.run_once()
    assert only(report, "duplicate") == [result.files[1]]
    assert world.emma.store.dump() == before
    assert world.emma_side.outbox == outbox
    assert world.emma_side.inbox == {}


def test_bad_names_and_wrong_direction_are_quarantined(world: World) -> None:
    world.emma_side.deliver("37050198_KMM_K1_2026112209300_0001.csv", b"x")
    world.emma_side.deliver("37050198_RESP_0_20261122093000_0001.txt", b"y")
    world.emma_side.deliver("notes.txt", b"a picture, maybe")
    report = world.emma.run_once()
    assert sorted(only(report, "quarantined")) == [
        "37050198_KMM_K1_2026112209300_0001.csv",
        "37050198_RESP_0_20261122093000_0001.txt",
    ]
    assert only(report, "waiting") == ["notes.txt"]
    codes = {f.name: [m.code for m in f.messages] for f in report.by_outcome("quarantined")}
    assert set(map(tuple, codes.values())) == {("E108",)}
    assert {quit_of(d).status for d in world.emma_outbox("QUIT").values()} == {"fehler"}


def test_unreadable_manifest_is_quarantined(world: World) -> None:
    world.emma_side.deliver("37050198_LIEF_K1_20261122093000_0001.xml", b"<lieferschein")
    report = world.emma.run_once()
    [bad] = report.by_outcome("quarantined")
    assert [m.code for m in bad.messages] == ["E105"]
    [ack] = [quit_of(d) for d in world.emma_outbox("QUIT").values()]
    assert ack.datei == "37050198_LIEF_K1_20261122093000_0001.xml"


def test_late_delivery_is_flagged_w301(world: World) -> None:
    world.osplus.deliver(kmm(created=T0 - dt.timedelta(hours=40)), rows(1))
    report = world.emma.run_once()
    assert [m.code for m in report.files[0].messages] == ["W301"]
    [ack] = [quit_of(d) for d in world.emma_outbox("QUIT").values()]
    assert ack.status == "ok"
    assert [m.code for m in ack.messages] == ["W301"]


def test_list_limit_refuses_the_delivery_e302() -> None:
    world = make_world(list_limit=1)
    world.osplus.deliver(kmm(), rows(1))
    world.osplus.deliver(kmm("K2026002", "Winter_Aktion_2026"), rows(2))
    report = world.emma.run_once()
    assert len(only(report, "processed")) == 1
    [refused] = report.by_outcome("quarantined")
    assert [m.code for m in refused.messages] == ["E302"]
    assert len(world.emma.lists(BLZ)) == 1


def test_update_marker_replaces_the_list(world: World) -> None:
    world.osplus.deliver(kmm("K1", "Newsletter_UPDATE"), rows(1, 2))
    world.emma.run_once()
    world.osplus.deliver(kmm("K2", "Newsletter_UPDATE"), rows(2, 3))
    report = world.emma.run_once()
    assert "updated: +1 -1" in report.files[0].detail
    assert sorted(world.emma.list_members(BLZ, "Newsletter_UPDATE")) == [
        "0000000002",
        "0000000003",
    ]


# -- the EMMA side: ReKu control files ----------------------------------------------------------


def control(action: str = "neu", name: str = "Runde_Geburtstage") -> ControlFile:
    return ControlFile(
        typ="vreku",
        blz=BLZ,
        nummer="R2026042",
        aktion=action,
        bezeichnung=name,
        rhythmus="monatlich",
        gueltig_ab=dt.date(2026, 12, 1),
        anlass="MCAG002",
        erstellt=T0,
    )


def reku_rows(*customers: int) -> list[dict[str, str]]:
    return [{**r, "ANLASS": "MCAG002"} for r in rows(*customers)]


def reku() -> DeliveryOrder:
    return DeliveryOrder(
        blz=BLZ, number="R2026042", kind="REKU", name="Runde_Geburtstage", occasion="MCAG002"
    )


def test_reku_control_file_then_delivery(world: World) -> None:
    world.osplus.send_control(control())
    world.clock.advance(minutes=5)
    world.osplus.deliver(reku(), reku_rows(1, 2))
    report = world.emma.run_once()
    assert [f.kind for f in report.files] == ["VREKU", "LIEF"]
    assert "list Runde_Geburtstage create" in report.files[0].detail
    assert sorted(world.emma.list_members(BLZ, "Runde_Geburtstage")) == [
        "0000000001",
        "0000000002",
    ]
    # the next delivery fills the same list
    world.clock.advance(days=30)
    world.osplus.deliver(reku(), reku_rows(2, 3))
    world.emma.run_once()
    assert len(world.emma.list_members(BLZ, "Runde_Geburtstage")) == 3


def test_reku_delivery_before_control_file_is_parked_then_released(world: World) -> None:
    delivery = world.osplus.deliver(reku(), reku_rows(1, 2))
    report = world.emma.run_once()
    assert [m.code for m in report.files[0].messages] == ["E301"]
    assert "parked" in report.files[0].detail
    [first] = [quit_of(d) for d in world.emma_outbox("QUIT").values()]
    assert (first.status, first.datei) == ("fehler", delivery.files[0])
    world.emma_side.outbox.clear()
    world.clock.advance(minutes=5)
    world.osplus.send_control(control())
    report = world.emma.run_once()
    assert "1 parked delivery released" in report.files[0].detail
    acks = {quit_of(d).datei: quit_of(d) for d in world.emma_outbox("QUIT").values()}
    assert acks[delivery.files[0]].status == "ok"
    assert len(world.emma.list_members(BLZ, "Runde_Geburtstage")) == 2


def test_failed_control_file_blocks_deliveries(world: World) -> None:
    name = world.osplus.send_control(control())
    world.osplus_side.outbox[name] = world.osplus_side.outbox[name].replace(
        b"Runde_Geburtstage", b"Runde Geburtstage"
    )
    report = world.emma.run_once()
    [failed] = report.by_outcome("quarantined")
    assert [m.code for m in failed.messages] == ["E303"]
    assert world.emma.order(BLZ, "REKU", "R2026042").state == "failed"  # type: ignore[union-attr]
    world.clock.advance(minutes=5)
    world.osplus.deliver(reku(), reku_rows(1))
    report = world.emma.run_once()
    assert [m.code for m in report.files[0].messages] == ["E301"]


def test_control_file_channel_not_emma_is_e305(world: World) -> None:
    data = write_control(control()).replace(b'vertriebsweg="EMMA"', b'vertriebsweg="POST"')
    world.emma_side.deliver("37050198_VREKU_R2026042_20261122093000_0001.xml", data)
    report = world.emma.run_once()
    assert [m.code for m in report.by_outcome("quarantined")[0].messages] == ["E305"]


# -- suppression and sending --------------------------------------------------------------------


def test_suppression_withholds_and_the_send_reports_zh() -> None:
    world = make_world(require_consent=True)
    consents = [
        ConsentEvent(
            c,
            f"kunde{c}@example.de",
            "EINWILLIGUNG",
            T0 - dt.timedelta(days=90),
            "WEBFORMULAR",
            "DOI",
        )
        for c in (1, 2, 3, 5)
    ]
    objection = ConsentEvent(
        2, "kunde2@example.de", "WIDERSPRUCH", T0 - dt.timedelta(days=1), "BRIEF", "Brief"
    )
    assert world.osplus.export_consent(BLZ, [*consents, objection]) is not None
    shared = {"KUNDENNUMMER": "5", "EMAIL": "KUNDE1@example.de", "VORNAME": "Jörg"}
    world.osplus.deliver(kmm(), [*rows(1, 2, 3, 4), shared])  # 4: no consent; 5: 1's address
    report = world.emma.run_once()
    assert report.files[0].kind == "CONS"
    detail = report.files[1].detail
    assert "5 rows, 2 on the list (created), 3 withheld" in detail
    assert "(DUPLIKAT 1, KEINE_EINWILLIGUNG 1, SPERRLISTE 1)" in detail
    assert [m.code for m in report.files[1].messages] == ["W201"]
    assert sorted(world.emma.list_members(BLZ, "Herbst_Aktion_2026")) == [
        "0000000001",
        "0000000003",
    ]
    mailing = world.emma.send_mailing(BLZ, "KMM", "K2026001", "M1")
    assert sorted(str(r.customer) for r in mailing.recipients) == ["0000000001", "0000000003"]
    assert sorted((str(w.customer), w.reason) for w in mailing.withheld) == [
        ("0000000002", "SPERRLISTE"),
        ("0000000004", "KEINE_EINWILLIGUNG"),
        ("0000000005", "DUPLIKAT"),
    ]
    [resp] = [n for n in mailing.files if "_RESP_" in n]
    codes = [
        r.values["REAKTION"]
        for r in read_resp(world.emma_side.outbox[resp])
        if isinstance(r, Record) and r.record_type == "R"
    ]
    assert codes == ["ZH", "ZH", "ZH"]
    assert world.emma.order(BLZ, "KMM", "K2026001").state == "sent"  # type: ignore[union-attr]
    with pytest.raises(ProcessError):
        world.emma.send_mailing(BLZ, "KMM", "K2026001", "M2")


def test_recorded_unsubscribe_suppresses_the_next_delivery(world: World) -> None:
    world.osplus.deliver(kmm(), rows(1, 2))
    world.emma.run_once()
    recorded = world.emma.record_responses(
        [event(Sent, 1, 1), event(Unsubscribed, 2, 1, source="LINK")]
    )
    assert recorded.new == 2
    assert recorded.consent_changes == 1
    assert [n.split("_")[1] for n in recorded.files] == ["RESP", "CONS"]
    again = world.emma.record_responses([event(Sent, 1, 1)])
    assert (again.new, again.duplicates, again.files) == (0, 1, ())
    world.clock.advance(days=1)
    world.osplus.deliver(kmm("K2026002", "Winter_Aktion_2026"), rows(1, 2))
    report = world.emma.run_once()
    assert "SPERRLISTE 1" in report.files[0].detail


# -- the OSPlus side: responses, gaps, feedback -------------------------------------------------


def three_resp_files(world: World) -> list[str]:
    names: list[str] = []
    for number in range(1, 4):
        result = world.emma.record_responses([event(Opened, number, number)])
        names.extend(n for n in result.files if "_RESP_" in n)
        world.clock.advance(minutes=1)
    return names


def resp_sequence(data: bytes) -> int:
    header = next(iter(read_resp(data)))
    assert isinstance(header, Record)
    return RespHeader.from_record(header).sequence


def test_resp_gap_is_held_until_the_missing_file_arrives(world: World) -> None:
    first, second, third = three_resp_files(world)
    assert [resp_sequence(world.osplus_side.inbox[n]) for n in (first, second, third)] == [1, 2, 3]
    missing = world.osplus_side.inbox.pop(second)
    report = world.osplus.run_once()
    assert only(report, "processed") == [first]
    [held] = report.by_outcome("held")
    assert held.name == third
    assert [m.code for m in held.messages] == ["E109"]
    assert third in world.osplus_side.inbox
    report = world.osplus.run_once()  # still held
    assert only(report, "held") == [third]
    world.osplus_side.deliver(second, missing)
    report = world.osplus.run_once()
    assert only(report, "processed") == [second, third]
    assert world.osplus_side.inbox == {}


def test_resp_gap_released_explicitly_and_the_late_file_still_counts(world: World) -> None:
    _first, second, third = three_resp_files(world)
    missing = world.osplus_side.inbox.pop(second)
    world.osplus.run_once()
    assert world.osplus.release_gap(BLZ) == (2,)
    assert world.osplus.release_gap(BLZ) == ()
    report = world.osplus.run_once()
    assert only(report, "processed") == [third]
    world.osplus_side.deliver(second, missing)
    report = world.osplus.run_once()
    assert only(report, "processed") == [second]
    assert "O 1" not in report.files[0].detail
    assert "OE 1" in report.files[0].detail
    assert "000002" in dict(world.osplus.store.items("osplus.gaps.37050198"))


def test_damaged_resp_is_quarantined_with_quit(world: World) -> None:
    [resp] = list(world.emma.record_responses([event(Sent, 1, 1)]).files)
    data = world.osplus_side.inbox[resp]
    world.osplus_side.inbox[resp] = data[:-404] + data[-2:]  # the trailer is gone
    report = world.osplus.run_once()
    [bad] = report.by_outcome("quarantined")
    assert "E104" in [m.code for m in bad.messages]
    [ack] = [quit_of(d) for d in world.osplus_outbox("QUIT").values()]
    assert (ack.status, ack.datei) == ("fehler", resp)
    # nothing of it was applied
    assert list(world.osplus.store.items("osplus.responses.37050198")) == []


def test_feedback_pending_item_and_selection_guard() -> None:
    world = make_world(settings=InstituteSettings(auto_hard_bounce=True))
    world.emma.record_responses(
        [
            event(Sent, 1, 1),
            event(Unsubscribed, 2, 1, source="LISTUNSUB"),
            event(HardBounce, 3, 2, status="5.1.1", diagnostic="550 5.1.1 user unknown"),
        ]
    )
    report = world.osplus.run_once()
    processed = report.by_outcome("processed")
    assert [f.kind for f in processed] == ["RESP", "CONS"]
    assert "2 feedback items" in processed[0].detail
    world.clock.advance(days=3)
    [pending] = world.osplus.pending_items(BLZ)
    assert str(pending.item.customer) == "0000000001"
    assert pending.overdue
    assert pending.age == dt.timedelta(days=3)  # from the receipt, earlier than the event
    statuses = sorted(i.status.value for i in world.osplus.feedback(BLZ).items.values())
    assert statuses == ["pending", "processed"]
    # the bounce was processed at once: it is in the OSPlus ledger; the unsubscribe is not yet
    assert [e.kind.value for e in world.osplus.consent_history(BLZ, 2)] == ["HARTBOUNCE"]
    assert world.osplus.consent_history(BLZ, 1) == ()
    # the next selection holds both back
    result = world.osplus.deliver(kmm("K2026002", "Winter_Aktion_2026"), rows(1, 2, 3))
    assert result.delivered == 1
    assert [str(h.customer) for h in result.held_back] == ["0000000001", "0000000002"]
    assert "ABMELDUNG pending" in result.held_back[0].reason
    item = world.osplus.complete_item(BLZ, pending.item.id, by="Frau Meier")
    assert item.done_by == "Frau Meier"
    assert world.osplus.pending_items(BLZ) == ()
    assert [e.kind.value for e in world.osplus.consent_history(BLZ, 1)] == ["ABMELDUNG"]


def test_unsubscribe_in_resp_and_cons_is_one_item(world: World) -> None:
    world.emma.record_responses([event(Unsubscribed, 2, 1, source="LINK")])
    world.osplus.run_once()
    assert len(world.osplus.feedback(BLZ).items) == 1


@pytest.mark.parametrize("unsubscribe_first", [True, False])
def test_an_unsubscribe_under_a_reused_event_id_is_not_lost(unsubscribe_first: bool) -> None:
    """FORMATS.md makes the event id unique per event.  When a sender reuses one for another
    event, the first keeps the id, but the other still takes effect: an unsubscribe reaches
    both ledgers whichever came first, and neither is counted as a mere repeat."""
    world = make_world()
    sent = event(Sent, 1, 1)
    unsubscribed = attrs.evolve(event(Unsubscribed, 2, 1, source="LINK"), event_id=sent.event_id)
    batches = [[unsubscribed], [sent]] if unsubscribe_first else [[sent], [unsubscribed]]
    results = [world.emma.record_responses(batch) for batch in batches]
    assert [(r.new, r.duplicates, r.conflicts) for r in results] == [(1, 0, 0), (0, 0, 1)]
    assert [e.kind.value for e in world.emma.consent_history(BLZ, 1)] == ["ABMELDUNG"]
    # arriving again, it is reported again and changes nothing
    again = world.emma.record_responses([batches[1][0]])
    assert (again.conflicts, again.consent_changes, again.files) == (1, 0, ())
    world.osplus.run_once()
    assert len(world.osplus.feedback(BLZ).items) == 1  # from the RESP or the CONS file
    # the OSPlus side, given both under one id in RESP files, makes the same item either way
    osplus_items = []
    for order in ([sent, unsubscribed], [unsubscribed, sent]):
        fresh = make_world()
        for seq, one in enumerate(order, start=1):
            name = f"{BLZ}_RESP_0_2026112210000{seq}_000{seq}.txt"
            fresh.osplus_side.deliver(name, write_resp(BLZ, T0, seq, [one.to_values()]))
        [*done] = fresh.osplus.run_once().by_outcome("processed")
        assert "under a known event id with other content" in done[-1].detail
        osplus_items.append([i.kind for i in fresh.osplus.feedback(BLZ).items.values()])
    assert osplus_items[0] == osplus_items[1]
    assert len(osplus_items[0]) == 1


def test_events_seen_before_have_one_effect_and_bad_details_are_counted(world: World) -> None:
    """A RESP file that repeats events of an earlier one (EMMA resending after a crash, under
    the next sequence number) changes nothing for them; a detail the reader rejects is
    counted, acknowledged and applied to nobody."""
    world.emma.record_responses([event(Sent, 1, 1), event(Unsubscribed, 2, 1, source="LINK")])
    first = world.osplus.run_once()
    assert "1 feedback item" in first.by_outcome("processed")[0].detail
    before = len(world.osplus.feedback(BLZ).items)
    again = [event(Sent, 1, 1), event(Unsubscribed, 2, 1, source="LINK"), event(Opened, 3, 1)]
    data = write_resp(BLZ, T0, 2, [e.to_values() for e in again])
    lines = data.split(b"\r\n")
    damaged = lines[3][:31] + b"XXX " + lines[3][35:]  # the opening's AUFTRAGSART
    data = b"\r\n".join([*lines[:3], damaged, *lines[4:]])
    name = f"{BLZ}_RESP_0_20261122100000_0002.txt"
    world.osplus_side.deliver(name, data)
    [done] = world.osplus.run_once().by_outcome("processed")
    assert done.name == name
    assert "RESP 2: 3 responses (none new), 2 known, 1 rejected; 0 feedback items" in done.detail
    assert [(m.code, m.line) for m in done.messages] == [("E207", 4)]
    assert len(world.osplus.feedback(BLZ).items) == before  # the unsubscribe counted once
    acks = [quit_of(d) for d in world.osplus_outbox("QUIT").values()]
    [ack] = [a for a in acks if a.datei == name]
    assert (ack.status, ack.saetze, ack.abgelehnt) == ("teilweise", 3, 1)


def test_consent_changes_entered_at_emma_reach_osplus() -> None:
    """``record_consent``: an objection from EMMA's preference centre reaches OSPlus as CONS and
    holds the customer back; a later consent without evidence does not lift it, one with
    evidence does, on both sides."""
    world = make_world(settings=InstituteSettings(auto_unsubscribe=True))

    def change(kind: str, days: int, evidence: str) -> ConsentEvent:
        at = T0 + dt.timedelta(days=days)
        return ConsentEvent(1, "kunde1@example.de", kind, at, "WEBFORMULAR", evidence)

    objection = change("WIDERSPRUCH", 0, "Widerspruch im Profil")
    recorded = world.emma.record_consent(BLZ, [objection])
    assert (len(recorded.files), recorded.consent_changes) == (1, 1)
    assert world.emma.record_consent(BLZ, [objection]).files == ()  # known: no second file
    [done] = world.osplus.run_once().by_outcome("processed")
    assert done.detail.startswith("CONS: 1 row, 1 new")
    assert [e.kind.value for e in world.osplus.consent_history(BLZ, 1)] == ["WIDERSPRUCH"]

    def held(number: str) -> list[str]:
        world.clock.advance(days=1)
        result = world.osplus.deliver(kmm(number, f"Aktion_{number}"), rows(1, 2))
        [delivered] = [f for f in world.emma.run_once().files if f.kind == "LIEF"]
        assert "0 withheld" in delivered.detail  # what OSPlus lets through, EMMA mails too
        return [str(h.customer) for h in result.held_back]

    assert held("K1") == ["0000000001"]
    world.emma.record_consent(BLZ, [change("EINWILLIGUNG", 2, "")])  # no evidence
    world.osplus.run_once()
    assert held("K2") == ["0000000001"]
    world.emma.record_consent(BLZ, [change("EINWILLIGUNG", 3, "Einwilligung schriftlich")])
    world.osplus.run_once()
    assert held("K3") == []
    kinds = ["WIDERSPRUCH", "EINWILLIGUNG", "EINWILLIGUNG"]
    assert [e.kind.value for e in world.osplus.consent_history(BLZ, 1)] == kinds
    assert [e.kind.value for e in world.emma.consent_history(BLZ, 1)] == kinds


# -- crash recovery and failures ----------------------------------------------------------------


class FlakyTransport(MemoryTransport):
    """Fails the first *failures* publishes."""

    def __init__(self, failures: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.failures = failures

    def publish(self, name: str, data: Any) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise TransportError("disk full")
        super().publish(name, data)


def test_pending_outputs_are_published_by_the_next_run() -> None:
    clean = make_world()
    clean.osplus.deliver(kmm(), rows(1, 2))
    clean.emma.run_once()
    clock = Clock()
    inbox = dict(clean.emma_side.archived)
    emma_side = FlakyTransport(1, inbox=inbox)
    emma = EmmaProcessor(
        emma_side, MemoryStore(), clock=clock, consent_policy=ConsentPolicy(require_consent=False)
    )
    report = emma.run_once()
    assert [f.outcome for f in report.files] == ["failed"]
    assert emma_side.outbox == {}
    assert list(emma.store.items("emma.outbox"))  # committed, waiting to be published
    report = emma.run_once()
    assert report.published == tuple(clean.emma_side.outbox)
    assert [f.outcome for f in report.files] == []
    assert emma_side.outbox == clean.emma_side.outbox
    assert emma.store.dump() == clean.emma.store.dump()


# -- reports ------------------------------------------------------------------------------------


def test_report_json_and_text_mask_addresses(world: World) -> None:
    world.emma_side.deliver("37050198_LIEF_K1_20261122093000_0001.xml", b"<x>anna@example.de</x>")
    report = world.emma.run_once()
    data = report.to_json()
    assert data["counts"]["quarantined"] == 1
    assert data["files"][0]["messages"][0]["code"] in ("E105", "E106")
    text = report.describe()
    assert "anna@example.de" not in text
    assert "anna@example.de" not in repr(data)


# -- exactly once, whatever the order -----------------------------------------------------------


def _responses(world: World, batches: int) -> list[tuple[str, bytes]]:
    files: list[tuple[str, bytes]] = []
    for number in range(1, batches + 1):
        events = [
            event(Sent, number, number),
            event(Opened, number + 100, number),
            event(Unsubscribed, number + 200, number, source="LINK"),
        ]
        result = world.emma.record_responses(events)
        files.extend((n, world.osplus_side.inbox.pop(n)) for n in result.files)
        world.clock.advance(minutes=1)
    return files


def _feedback_view(world: World) -> Mapping[str, Any]:
    dump = world.osplus.store.dump()
    keep = ("osplus.responses.", "osplus.recipients.", "osplus.feedback.", "osplus.consent.")
    return {
        ns: {
            k: {f: v for f, v in val.items() if f != "received_at"}
            if isinstance(val, dict)
            else val
            for k, val in values.items()
        }
        for ns, values in dump.items()
        if ns.startswith(keep)
    }


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_arrival_order_and_repeats_do_not_change_the_outcome(data: st.DataObject) -> None:
    """Files arrive in any order, in several runs, some twice: once the gaps are filled the
    stored responses, recipient states, feedback items and ledger are those of the in-order
    run."""
    reference = make_world()
    files = _responses(reference, 4)
    for name, content in files:
        reference.osplus_side.deliver(name, content)
    reference.osplus.run_once()
    shuffled = make_world()
    assert _responses(shuffled, 4) == files
    order = data.draw(st.permutations(files))
    repeats = data.draw(st.lists(st.sampled_from(files), max_size=3))
    arrivals: Iterator[tuple[str, bytes]] = iter([*order, *repeats])
    for batch in data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=5)):
        for name, content in [x for _, x in zip(range(batch), arrivals, strict=False)]:
            shuffled.osplus_side.deliver(name, content)
        shuffled.osplus.run_once()
    for name, content in arrivals:
        shuffled.osplus_side.deliver(name, content)
    shuffled.osplus.run_once()
    shuffled.osplus.run_once()
    assert _feedback_view(shuffled) == _feedback_view(reference)


def test_renamed_order_gets_a_new_list_and_deletion_ends_it(world: World) -> None:
    world.osplus.send_control(control())
    world.clock.advance(minutes=1)
    world.osplus.deliver(reku(), reku_rows(1))
    world.emma.run_once()
    world.clock.advance(days=1)
    world.osplus.send_control(control("aenderung", "Runde_Geburtstage_2027"))
    report = world.emma.run_once()
    assert (
        "list Runde_Geburtstage_2027 create, list Runde_Geburtstage freeze"
        in report.files[0].detail
    )
    lists = world.emma.lists(BLZ)
    assert (lists["Runde_Geburtstage"].state, lists["Runde_Geburtstage_2027"].state) == (
        "frozen",
        "open",
    )
    assert len(world.emma.list_members(BLZ, "Runde_Geburtstage")) == 1  # kept when frozen
    world.clock.advance(days=1)
    world.osplus.send_control(control("loeschung", "Runde_Geburtstage_2027"))
    world.emma.run_once()
    world.clock.advance(days=1)
    world.osplus.deliver(reku(), reku_rows(2))
    report = world.emma.run_once()
    [refused] = report.by_outcome("quarantined")
    assert [m.code for m in refused.messages] == ["E304"]


def test_bad_quit_is_quarantined_without_an_acknowledgement(world: World) -> None:
    world.osplus_side.deliver("37050198_QUIT_0_20261122093000_0001.xml", b"<quittung/>")
    report = world.osplus.run_once()
    assert only(report, "quarantined") == ["37050198_QUIT_0_20261122093000_0001.xml"]
    assert world.osplus_side.outbox == {}  # a QUIT is never acknowledged


class VanishingTransport(MemoryTransport):
    """Cannot open one file (a network share that hiccups)."""

    def open(self, name: str) -> Any:
        if "_RESP_" in name:
            raise TransportError("connection reset")
        return super().open(name)


def test_transport_failure_leaves_the_file_for_the_next_run() -> None:
    world = make_world()
    [resp] = world.emma.record_responses([event(Sent, 1, 1)]).files
    side = VanishingTransport(inbox=dict(world.osplus_side.inbox))
    osplus = OsplusProcessor(side, MemoryStore(), clock=world.clock)
    report = osplus.run_once()
    assert [(f.name, f.outcome) for f in report.files] == [(resp, "failed")]
    assert resp in side.inbox
    assert side.quarantined == {}


# -- E103: a listed file that never arrives -----------------------------------------------------


def test_missing_file_is_refused_e103_after_the_limit(world: World) -> None:
    result = world.osplus.deliver(kmm(), rows(1, 2), pictures={"berater_0042.jpg": JPEG})
    csv_name, picture, lief = result.files
    late = world.emma_side.inbox.pop(picture)
    report = world.emma.run_once()
    [waiting] = [f for f in report.files if f.name == lief]
    assert waiting.outcome == "waiting"
    assert "since 2026-11-22T09:30:00+00:00" in waiting.detail
    assert "refused with E103 from 2026-11-22T15:30:00+00:00" in waiting.detail
    world.clock.advance(hours=5, minutes=59, seconds=59)
    report = world.emma.run_once()
    assert report.counts["waiting"] == 2
    assert world.emma_side.outbox == {}
    world.clock.advance(seconds=1)  # six hours after the manifest was first seen
    report = world.emma.run_once()
    [refused] = report.by_outcome("quarantined")
    assert refused.name == lief
    assert [(m.code, m.raw) for m in refused.messages] == [("E103", picture)]
    assert "berater_0042.jpg (beraterbild)" in (refused.messages[0].detail or "")
    assert "has not arrived 6 h after the manifest was first seen" in (
        refused.messages[0].detail or ""
    )
    assert f"quarantined with the files that arrived ({csv_name})" in refused.detail
    # the manifest and the file that arrived are in quarantine, nothing is left waiting
    assert sorted(world.emma_side.quarantined) == sorted([csv_name, lief])
    assert world.emma_side.inbox == {}
    [ack] = [quit_of(d) for d in world.emma_outbox("QUIT").values()]
    assert (ack.status, ack.datei, ack.saetze, ack.uebernommen) == ("fehler", csv_name, 2, 0)
    assert ack.sha256 == hashlib.sha256(world.emma_side.quarantined[csv_name]).hexdigest()
    assert [m.code for m in ack.messages] == ["E103"]
    assert picture in ack.messages[0].text
    assert refused.outputs == tuple(world.emma_outbox("QUIT"))
    # the order keeps waiting for a correct delivery, the E103 clock is gone
    order = world.emma.order(BLZ, "KMM", "K2026001")
    assert isinstance(order, KmmOrder)
    assert (order.state, [m.code for m in order.failures]) == ("announced", ["E103"])
    assert list(world.emma.store.items("emma.first_seen")) == []
    # OSPlus learns what happened from the QUIT
    world.osplus.run_once()
    status = world.osplus.delivery_status(BLZ, csv_name)
    assert status is not None
    assert (status["ack"]["status"], status["ack"]["codes"]) == ("fehler", ["E103"])
    # the file arriving after the refusal waits, it is not taken over silently
    world.emma_side.deliver(picture, late)
    report = world.emma.run_once()
    assert [(f.name, f.outcome) for f in report.files] == [(picture, "waiting")]
    # a new delivery of the order (new names) is taken
    world.clock.advance(hours=1)
    again = world.osplus.deliver(kmm(), rows(1, 2), pictures={"berater_0043.jpg": JPEG})
    report = world.emma.run_once()
    assert only(report, "processed") == [again.files[-1]]


def test_e103_clock_counts_from_first_seen_and_survives_a_restart(world: World) -> None:
    # created 30 hours before it reaches EMMA: the clock starts when EMMA first sees it
    result = world.osplus.deliver(kmm(created=T0 - dt.timedelta(hours=30)), rows(1))
    csv_name, lief = result.files
    world.emma_side.inbox.pop(csv_name)
    assert world.emma.run_once().counts["waiting"] == 1
    assert dict(world.emma.store.items("emma.first_seen"))[lief]["at"] == T0.isoformat()
    world.clock.advance(hours=4)
    restarted = EmmaProcessor(
        world.emma_side,
        world.emma.store,
        clock=world.clock,
        consent_policy=ConsentPolicy(require_consent=False),
    )
    assert restarted.run_once().counts["waiting"] == 1
    world.clock.advance(hours=2)
    report = restarted.run_once()
    [refused] = report.by_outcome("quarantined")
    assert [(m.code, m.raw) for m in refused.messages] == [("E103", csv_name)]
    assert "none" in refused.detail.rsplit("(", 1)[1]
    assert sorted(world.emma_side.quarantined) == [lief]
    [ack] = [quit_of(d) for d in world.emma_outbox("QUIT").values()]
    # the QUIT names the missing subscriber list with the checksum the manifest declared
    assert (ack.datei, ack.status) == (csv_name, "fehler")
    manifest = read_manifest(world.emma_side.quarantined[lief]).value
    assert manifest is not None
    assert ack.sha256 == manifest.subscriber_file.sha256


def test_reku_delivery_missing_a_file_is_refused_too(world: World) -> None:
    world.osplus.send_control(control())
    world.emma.run_once()
    world.clock.advance(minutes=5)
    result = world.osplus.deliver(reku(), reku_rows(1), pictures={"berater_0042.jpg": JPEG})
    world.emma_side.inbox.pop(result.files[1])
    world.emma.run_once()
    world.clock.advance(hours=6)
    report = world.emma.run_once()
    [refused] = report.by_outcome("quarantined")
    assert [m.code for m in refused.messages] == ["E103"]
    assert world.emma.list_members(BLZ, "Runde_Geburtstage") == {}


def test_missing_file_limit_is_a_setting() -> None:
    world = make_world()
    waits = EmmaProcessor(
        world.emma_side, MemoryStore(), clock=world.clock, missing_file_after=None
    )
    result = world.osplus.deliver(kmm(), rows(1), pictures={"berater_0042.jpg": JPEG})
    world.emma_side.inbox.pop(result.files[1])
    waits.run_once()
    world.clock.advance(days=400)
    report = waits.run_once()
    assert report.counts["waiting"] == 2
    assert "refused with" not in report.files[0].detail
    quick = EmmaProcessor(
        world.emma_side,
        MemoryStore(),
        clock=world.clock,
        missing_file_after=dt.timedelta(minutes=5),
    )
    quick.run_once()
    world.clock.advance(minutes=5)
    assert quick.run_once().counts["quarantined"] == 1
    for bad in (dt.timedelta(0), dt.timedelta(hours=-1)):
        with pytest.raises(ValueError, match="missing_file_after"):
            EmmaProcessor(world.emma_side, MemoryStore(), missing_file_after=bad)


def test_e103_clock_restarts_for_a_replaced_manifest_and_is_forgotten_when_it_goes(
    world: World,
) -> None:
    result = world.osplus.deliver(kmm(), rows(1), pictures={"berater_0042.jpg": JPEG})
    csv_name, picture, lief = result.files
    world.emma_side.inbox.pop(picture)
    world.emma.run_once()
    world.clock.advance(hours=5)
    # the same name, other bytes (OSPlus wrote it again): the clock starts again
    world.emma_side.inbox[lief] = world.emma_side.inbox[lief].replace(b"\n", b"\r\n", 1)
    world.emma.run_once()
    assert (
        dict(world.emma.store.items("emma.first_seen"))[lief]["at"]
        == (T0 + dt.timedelta(hours=5)).isoformat()
    )
    world.clock.advance(hours=2)
    assert world.emma.run_once().counts["quarantined"] == 0
    # a manifest taken away (by an operator) is forgotten
    world.emma_side.inbox.pop(lief)
    world.emma.run_once()
    assert list(world.emma.store.items("emma.first_seen")) == []
    assert csv_name in world.emma_side.inbox


# -- E304: a second manifest for a delivered KMM order ------------------------------------------


def test_second_manifest_for_a_delivered_kmm_order_is_e304_saying_so(world: World) -> None:
    world.osplus.deliver(kmm(), rows(1, 2))
    world.emma.run_once()
    before = world.emma.order(BLZ, "KMM", "K2026001")
    world.emma_side.outbox.clear()
    world.clock.advance(hours=2)
    again = world.osplus.deliver(kmm(), rows(3))
    report = world.emma.run_once()
    [refused] = report.by_outcome("quarantined")
    [message] = refused.messages
    assert (message.code, message.field, message.raw) == ("E304", "order_number", "K2026001")
    assert message.detail == (
        "KMM order K2026001 already delivered on 2026-11-22T09:30:00+00:00 "
        "(37050198_KMM_K2026001_20261122093000_0001.csv; the order is now listed): a KMM order "
        f"is delivered once, so the manifest {again.files[1]} is refused; deliver under a new "
        "order number"
    )
    assert refused.detail.startswith("KMM K2026001 Herbst_Aktion_2026 refused: KMM order")
    [ack] = [quit_of(d) for d in world.emma_outbox("QUIT").values()]
    assert (ack.datei, ack.status, ack.saetze) == (again.files[0], "fehler", 1)
    assert ack.sha256 == hashlib.sha256(world.emma_side.quarantined[again.files[0]]).hexdigest()
    assert "already delivered on" in ack.messages[0].text
    assert world.emma.order(BLZ, "KMM", "K2026001") == before
    assert sorted(world.emma.list_members(BLZ, "Herbst_Aktion_2026")) == [
        "0000000001",
        "0000000002",
    ]


def test_re_sent_manifest_before_delivery_is_still_accepted(world: World) -> None:
    bad = world.osplus.deliver(kmm(), rows(1, 2))
    world.emma_side.inbox[bad.files[0]] = world.emma_side.inbox[bad.files[0]].replace(
        b"kunde2", b"kunde9"
    )
    world.emma.run_once()
    world.clock.advance(hours=1)
    good = world.osplus.deliver(kmm(), rows(1, 2))
    report = world.emma.run_once()
    assert only(report, "processed") == [good.files[1]]


# -- soft-bounce escalation ---------------------------------------------------------------------

SOFT = {"status": "4.2.2", "diagnostic": "452 4.2.2 Mailbox full"}


def bounce(number: int, customer: int, day: float, address: str | None = None) -> SoftBounce:
    return SoftBounce(
        event_id=EventId(f"sb{customer}-{number}"),
        blz=Blz(BLZ),
        order=OrderNumber("K2026001"),
        order_kind="KMM",
        mailing=MailingId(f"M{number}"),
        customer=CustomerNumber(customer),
        email=EmailAddress(address or f"kunde{customer}@example.de"),
        at=T0 - dt.timedelta(days=60) + dt.timedelta(days=day),
        **SOFT,
    )


def opened(number: int, customer: int, day: float) -> Opened:
    return Opened(
        event_id=EventId(f"oe{customer}-{number}"),
        blz=Blz(BLZ),
        order=OrderNumber("K2026001"),
        order_kind="KMM",
        mailing=MailingId(f"M{number}"),
        customer=CustomerNumber(customer),
        email=EmailAddress(f"kunde{customer}@example.de"),
        at=T0 - dt.timedelta(days=60) + dt.timedelta(days=day),
    )


def hard_bounces(world: World, customer: int) -> list[ConsentEvent]:
    return [
        e for e in world.emma.consent_history(BLZ, customer) if e.kind is ConsentKind.HARD_BOUNCE
    ]


def test_soft_bounces_escalate_to_a_hard_bounce() -> None:
    world = make_world(settings=InstituteSettings(auto_hard_bounce=True))
    world.osplus.deliver(kmm(), rows(1, 2))
    world.emma.run_once()
    # five soft bounces, four days apart, reported one by one and out of order
    results = [world.emma.record_responses([bounce(n, 1, 4 * n)]) for n in (3, 0, 4, 1)]
    assert [r.escalations for r in results] == [0, 0, 0, 0]
    assert hard_bounces(world, 1) == []
    last = world.emma.record_responses([bounce(2, 1, 8)])
    assert (last.escalations, last.consent_changes) == (1, 1)
    [event] = hard_bounces(world, 1)
    assert event.at == T0 - dt.timedelta(days=60) + dt.timedelta(days=16)
    assert str(event.email) == "kunde1@example.de"
    assert event.source.value == "ESP_LINK"
    assert event.evidence == (
        "EMMA SB-Eskalation: 5 Softbounces 2026-09-23..2026-10-09, zuletzt 4.2.2; "
        "Regel: 5 in 90 Tage, mind. 15 Tage, Reset bei Öffnen/Klick; BLZ 37050198; "
        "Ereignisse sb1-0, sb1-1, sb1-2, sb1-3, sb1-4"
    )
    # the CONS file carries it to OSPlus, where it is a hard bounce like any other
    [cons] = [n for n in last.files if "_CONS_" in n]
    assert b";HARTBOUNCE;" in world.osplus_side.inbox[cons]
    world.osplus.run_once()
    assert [e.kind.value for e in world.osplus.consent_history(BLZ, 1)] == ["HARTBOUNCE"]
    assert world.osplus.consent_history(BLZ, 1)[0].evidence == event.evidence
    # EMMA withholds the address from then on: in the next send and the next delivery
    mailing = world.emma.send_mailing(BLZ, "KMM", "K2026001", "M9")
    assert [str(r.customer) for r in mailing.recipients] == ["0000000002"]
    assert [(str(w.customer), w.reason) for w in mailing.withheld] == [("0000000001", "HARTBOUNCE")]
    world.osplus.run_once()
    again = world.osplus.deliver(kmm("K2026002", "Winter_Aktion_2026"), rows(1, 2))
    assert [str(h.customer) for h in again.held_back] == ["0000000001"]  # OSPlus guards too


def test_escalation_happens_once(world: World) -> None:
    five = [bounce(n, 1, 4 * n) for n in range(5)]
    assert world.emma.record_responses(five).escalations == 1
    before = world.emma.store.dump()
    # the same events again, and later bounces: no second ledger event
    again = world.emma.record_responses(five)
    assert (again.new, again.files) == (0, ())
    assert world.emma.store.dump() == before
    more = world.emma.record_responses([bounce(n, 1, 4 * n) for n in range(5, 9)])
    assert (more.escalations, more.consent_changes) == (0, 0)
    # an earlier run of bounces arriving late does not add one either
    early = world.emma.record_responses([bounce(n, 1, -40 + 4 * n) for n in range(10, 15)])
    assert (early.escalations, early.consent_changes) == (0, 0)
    assert len(hard_bounces(world, 1)) == 1


def test_an_open_between_the_bounces_resets_the_count(world: World) -> None:
    world.emma.record_responses([opened(1, 1, 9)])
    result = world.emma.record_responses([bounce(n, 1, 4 * n) for n in range(5)])
    assert result.escalations == 0
    assert hard_bounces(world, 1) == []
    # other addresses and institutes are counted apart
    result = world.emma.record_responses(
        [bounce(n, 2, 4 * n, address=f"other{n}@example.de") for n in range(5)]
    )
    assert result.escalations == 0


def test_soft_bounce_policy_is_a_setting() -> None:
    world = make_world()
    strict = EmmaProcessor(
        world.emma_side,
        MemoryStore(),
        clock=world.clock,
        soft_bounce_policy=SoftBouncePolicy(threshold=2, min_span=dt.timedelta(0)),
    )
    result = strict.record_responses([bounce(0, 1, 0), bounce(1, 1, 1)])
    assert result.escalations == 1
    [event] = [e for e in strict.consent_history(BLZ, 1) if e.kind is ConsentKind.HARD_BOUNCE]
    assert "Regel: 2 in 90 Tage, mind. 0 Tage, Reset bei Öffnen/Klick" in event.evidence
    default = EmmaProcessor(world.emma_side, MemoryStore(), clock=world.clock)
    assert default.soft_bounce_policy == DEFAULT_SOFT_BOUNCE_POLICY
    assert default.record_responses([bounce(0, 1, 0), bounce(1, 1, 1)]).escalations == 0


def test_a_shared_address_escalates_for_every_customer_on_it(world: World) -> None:
    events = [bounce(n, 1 + n % 2, 4 * n, address="familie@example.de") for n in range(5)]
    assert world.emma.record_responses(events).escalations == 1
    assert len(hard_bounces(world, 1)) == len(hard_bounces(world, 2)) == 1
    assert hard_bounces(world, 1)[0].evidence == hard_bounces(world, 2)[0].evidence


def _escalation_world(batches: list[list[ResponseEvent]]) -> World:
    world = make_world()
    for batch in batches:
        world.emma.record_responses(batch)
    return world


def _escalated(world: World) -> dict[str, Any]:
    return dict(world.emma.store.items("emma.escalations.37050198"))


def _ledger(world: World) -> set[tuple[str, str, str, str]]:
    return {
        (str(e.customer), e.kind.value, e.at.isoformat(), e.evidence)
        for customer in (1, 2, 3)
        for e in world.emma.consent_history(BLZ, customer)
    }


_gaps = st.lists(st.integers(1, 12), min_size=2, max_size=5)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_escalation_does_not_depend_on_arrival_order(data: st.DataObject) -> None:
    """Soft bounces of three addresses (up to the threshold each), arriving in any order, in
    any batches, some twice: the ledger's hard bounces are those of one in-order call (the
    opens that reset a count were reported first)."""
    events: list[ResponseEvent] = []
    for customer in (1, 2, 3):
        day = 0
        for number, gap in enumerate(data.draw(_gaps)):
            day += gap
            events.append(bounce(number, customer, day))
    opens: list[ResponseEvent] = [
        opened(1, c, d)
        for c, d in data.draw(
            st.lists(st.tuples(st.integers(1, 3), st.integers(0, 60)), max_size=2)
        )
    ]
    reference = _escalation_world([opens + events])
    order = data.draw(st.permutations(events))
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=4))
    arrivals = [*order, *repeats]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(arrivals)), max_size=4)))
    batches = [opens] + [
        arrivals[a:b] for a, b in zip([0, *cuts], [*cuts, len(arrivals)], strict=True)
    ]
    shuffled = _escalation_world(batches)
    hypothesis_event(f"{len(_escalated(reference))} addresses escalated")
    assert _ledger(shuffled) == _ledger(reference)
    assert _escalated(shuffled) == _escalated(reference)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_arrival_order_never_suppresses_less(data: st.DataObject) -> None:
    """Any number of soft bounces and opens in any order: every address the in-order call
    escalates is escalated (an escalation already recorded stands, so a late open can only
    keep more addresses suppressed, never fewer), each with one ledger event."""
    events: list[ResponseEvent] = []
    for customer in (1, 2):
        days = data.draw(st.lists(st.integers(0, 80), min_size=3, max_size=8, unique=True))
        events.extend(bounce(n, customer, d) for n, d in enumerate(sorted(days)))
        events.extend(
            opened(n, customer, d)
            for n, d in enumerate(data.draw(st.lists(st.integers(0, 80), max_size=2)))
        )
    reference = _escalation_world([sorted(events, key=lambda e: e.at)])
    order = data.draw(st.permutations(events))
    size = data.draw(st.integers(1, 4))
    shuffled = _escalation_world([order[i : i + size] for i in range(0, len(order), size)])
    hypothesis_event(
        f"{len(_escalated(reference))} escalated, "
        f"{len(_escalated(shuffled)) - len(_escalated(reference))} more when shuffled"
    )
    assert set(_escalated(shuffled)) >= set(_escalated(reference))
    for customer in (1, 2):
        assert len(hard_bounces(shuffled, customer)) == (
            f"kunde{customer}@example.de" in _escalated(shuffled)
        )


def test_escalation_evidence_fits_its_column(world: World) -> None:
    emma = EmmaProcessor(
        world.emma_side,
        MemoryStore(),
        clock=world.clock,
        soft_bounce_policy=SoftBouncePolicy(threshold=25, min_span=dt.timedelta(0)),
    )
    events = [
        attrs.evolve(bounce(n, 1, n), event_id=EventId(f"soft-bounce-{n:013d}")) for n in range(25)
    ]
    assert emma.record_responses(events).escalations == 1
    [event] = emma.consent_history(BLZ, 1)
    assert len(event.evidence) <= 500
    assert event.evidence.startswith("EMMA SB-Eskalation: 25 Softbounces ")
    shown = event.evidence.count("soft-bounce-")
    assert 10 < shown < 25
    assert event.evidence.endswith(f", soft-bounce-{shown - 1:013d} … und {25 - shown} weitere")


def test_a_file_delivered_again_under_its_name_after_a_crash_is_processed() -> None:
    """A crash between a file's stored transaction and its move to the archive leaves the
    move pending.  If the partner meanwhile delivers a new file under the same name, the
    restart must not archive that one unread: here it carries an objection."""

    class Crash(BaseException):
        pass

    class CrashOnArchive(MemoryTransport):
        armed = True

        def archive(self, name: str) -> None:
            if self.armed:
                raise Crash(name)
            super().archive(name)

    name = f"{BLZ}_CONS_0_20261122083000_0001.csv"
    head = "\ufeffKUNDENNUMMER;EMAIL;STATUS;ZEITPUNKT;QUELLE;NACHWEIS\r\n"
    consent = "4711;anna@example.de;EINWILLIGUNG;2026-11-01T10:00:00+00:00;WEBFORMULAR;DOI 1\r\n"
    objection = "4711;anna@example.de;WIDERSPRUCH;2026-11-21T10:00:00+00:00;FILIALE;Filiale\r\n"
    transport, store = CrashOnArchive(), MemoryStore()
    transport.deliver(name, (head + consent).encode())
    with pytest.raises(Crash):
        EmmaProcessor(transport, store, clock=Clock()).run_once()
    transport.deliver(name, (head + consent + objection).encode())
    transport.armed = False
    emma = EmmaProcessor(transport, store, clock=Clock())
    assert only(emma.run_once(), "processed") == [name]
    kinds = [e.kind.value for e in emma.consent_history(BLZ, 4711)]
    assert kinds == ["EINWILLIGUNG", "WIDERSPRUCH"]
    assert transport.inbox == {}


def test_a_pending_move_of_an_unchanged_file_is_made_at_the_next_start() -> None:
    """The counterpart: the file the crashed run processed is still there, unchanged; the
    restart archives it and does not process it again."""

    class CrashOnArchive(MemoryTransport):
        armed = True

        def archive(self, name: str) -> None:
            if self.armed:
                raise KeyboardInterrupt
            super().archive(name)

    name = f"{BLZ}_CONS_0_20261122083000_0001.csv"
    data = (
        "\ufeffKUNDENNUMMER;EMAIL;STATUS;ZEITPUNKT;QUELLE;NACHWEIS\r\n"
        "4711;anna@example.de;WIDERSPRUCH;2026-11-21T10:00:00+00:00;FILIALE;Filiale\r\n"
    ).encode()
    transport, store = CrashOnArchive(), MemoryStore()
    transport.deliver(name, data)
    with pytest.raises(KeyboardInterrupt):
        EmmaProcessor(transport, store, clock=Clock()).run_once()
    transport.armed = False
    emma = EmmaProcessor(transport, store, clock=Clock())
    report = emma.run_once()
    assert report.files == ()
    assert transport.archived == {name: data}
    assert [e.kind.value for e in emma.consent_history(BLZ, 4711)] == ["WIDERSPRUCH"]


def test_a_reku_delivery_order_names_its_occasion() -> None:
    """The manifest of a REKU delivery needs its occasion: refused when the order is made, not
    halfway through writing the delivery."""
    with pytest.raises(InvalidValueError) as caught:
        DeliveryOrder(blz=BLZ, number="R2026042", kind="REKU", name="Runde_Geburtstage")
    assert (caught.value.code, caught.value.message.field) == ("E208", "occasion")
    assert reku().occasion == OccasionCode("MCAG002")


@pytest.mark.parametrize("ahead", [dt.timedelta(minutes=5), dt.timedelta(days=2)])
def test_an_unsubscribe_received_counts_though_its_time_is_ahead_of_the_clock(
    ahead: dt.timedelta,
) -> None:
    """Clocks drift: an unsubscribe EMMA already recorded, stamped a little after EMMA's own
    clock, still withholds the next delivery and send (it was ignored as "in the future")."""
    world = make_world()
    unsubscribe = attrs.evolve(event(Unsubscribed, 1, 1, source="LINK"), at=T0 + ahead)
    world.emma.record_responses([unsubscribe])
    world.osplus.deliver(kmm(), rows(1, 2))
    report = world.emma.run_once()
    [delivery] = report.by_outcome("processed")
    assert "2 rows, 1 on the list (created), 1 withheld (SPERRLISTE 1)" in delivery.detail
    mailing = world.emma.send_mailing(BLZ, "KMM", "K2026001", "M1")
    assert [str(r.customer) for r in mailing.recipients] == ["0000000002"]
