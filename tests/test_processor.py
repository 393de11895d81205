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
from hypothesis import given, settings
from hypothesis import strategies as st

from emma_osplus import MemoryStore, MemoryTransport, Record, TransportError
from emma_osplus._consent import ConsentEvent, ConsentPolicy
from emma_osplus._control import ControlFile, write_control
from emma_osplus._email import EmailAddress
from emma_osplus._errors import ProcessError
from emma_osplus._events import HardBounce, Opened, ResponseEvent, Sent, Unsubscribed
from emma_osplus._feedback import InstituteSettings
from emma_osplus._orders import KmmOrder
from emma_osplus._processor import (
    DeliveryOrder,
    EmmaProcessor,
    OsplusProcessor,
    RunReport,
    counter_ids,
)
from emma_osplus._quit import read_acknowledgement
from emma_osplus._resp import RespHeader, read_resp
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
