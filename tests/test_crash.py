"""Exactly once under SIGKILL: kill the processor at many points, re-run it, compare.

A child process (this file run as a script) processes a batch of files on both sides over
DirectoryTransport and SQLiteStore with a fixed clock and id generator: the EMMA side takes
consent, a ReKu control file and delivery, a KMM delivery with an advisor picture, a damaged
delivery, a delivery still missing a file (refused with E103 by a second pass seven hours
later) and a badly named file; it sends the KMM mailing and records responses (five soft
bounces of one address escalate to a hard bounce); the OSPlus side takes the QUITs, RESP and
CONS files back.  Every step is safe to repeat, so the child is simply started again until it
finishes.

The parent kills the child with SIGKILL

* deterministically, through the hook ``EMMA_CRASH_AT=N``: the child counts every store write
  (``put``/``delete``) and every transport operation (``publish``/``archive``/``quarantine``),
  before and after each, and kills itself at the N-th count, so every phase is hit: inside a
  file's transaction, after the commit before the outputs are published, between publishing
  and moving the inputs, while finishing a crashed run;
* at random moments (random delays).

After each scenario the final stores (``store.dump()`` of both SQLite files) and every file in
every folder (outboxes, archives, quarantines, inboxes) are identical to an uninterrupted run.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

BLZ = "37050198"
T = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.timezone.utc)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(40) + b"\xff\xd9"


# -- the child ----------------------------------------------------------------------------------


def child(workdir: Path) -> int:
    """Process the batch in *workdir* (idempotent; killed and started again by the parent)."""
    from emma_osplus import DirectoryTransport, SQLiteStore
    from emma_osplus._consent import ConsentPolicy
    from emma_osplus._events import HardBounce, Opened, Sent, SoftBounce, Unsubscribed
    from emma_osplus._feedback import InstituteSettings
    from emma_osplus._orders import KmmOrder
    from emma_osplus._processor import EmmaProcessor, OsplusProcessor, counter_ids
    from emma_osplus._types import Blz, EventId, MailingId, OrderNumber

    crash_at = int(os.environ.get("EMMA_CRASH_AT", "0"))
    ticks = 0

    def tick() -> None:
        nonlocal ticks
        ticks += 1
        if ticks == crash_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def counted(cls: type[Any], *methods: str) -> type[Any]:
        def wrap(name: str) -> Any:
            original = getattr(cls, name)

            def method(self: Any, *args: Any, **kwargs: Any) -> Any:
                tick()
                result = original(self, *args, **kwargs)
                tick()
                return result

            return method

        return type(f"Counted{cls.__name__}", (cls,), {m: wrap(m) for m in methods})

    store_cls = counted(SQLiteStore, "put", "delete")
    transport_cls = counted(DirectoryTransport, "publish", "archive", "quarantine")

    def clock() -> dt.datetime:
        return T

    emma = EmmaProcessor(
        transport_cls(workdir / "to_emma", workdir / "to_osplus", fsync=False),
        store_cls(workdir / "emma.db"),
        clock=clock,
        ids=counter_ids("ZH"),
        consent_policy=ConsentPolicy(require_consent=True),
    )
    emma.run_once()
    # seven hours later: the delivery still missing its subscriber list is refused (E103)
    late = EmmaProcessor(
        emma.transport,
        emma.store,
        clock=lambda: T + dt.timedelta(hours=7),
        ids=counter_ids("ZH"),
        consent_policy=ConsentPolicy(require_consent=True),
    )
    late.run_once()
    order = emma.order(BLZ, "KMM", "K1")
    if isinstance(order, KmmOrder) and order.state == "listed":
        emma.send_mailing(BLZ, "KMM", "K1", "M1")
    from emma_osplus._email import EmailAddress
    from emma_osplus._types import CustomerNumber

    def make(cls: type[Any], customer: int, n: int, at: Any = None, **extra: Any) -> Any:
        return cls(
            event_id=EventId(f"EV{n:04d}"),
            blz=Blz(BLZ),
            order=OrderNumber("K1"),
            order_kind="KMM",
            mailing=MailingId("M1"),
            customer=CustomerNumber(customer),
            email=EmailAddress(f"kunde{customer}@example.de"),
            at=at or T + dt.timedelta(minutes=n),
            **extra,
        )

    events = []
    for number in range(1, 21):
        events.append(make(Sent, number, number))
        if number % 3 == 0:
            events.append(make(Opened, number, 100 + number))
        if number in (4, 8):
            events.append(make(Unsubscribed, number, 200 + number, source="LINK"))
        if number == 9:
            bounce = {"status": "5.1.1", "diagnostic": "550 5.1.1 user unknown"}
            events.append(make(HardBounce, number, 300 + number, **bounce))
    # five soft bounces of customer 2, four days apart: escalated to a hard bounce
    full = {"status": "4.2.2", "diagnostic": "452 4.2.2 Mailbox full"}
    for n in range(5):
        events.append(make(SoftBounce, 2, 500 + n, T - dt.timedelta(days=20 - 4 * n), **full))
    emma.record_responses(events)
    osplus = OsplusProcessor(
        transport_cls(workdir / "to_osplus", workdir / "to_emma", fsync=False),
        store_cls(workdir / "osplus.db"),
        clock=clock,
        settings=InstituteSettings(auto_hard_bounce=True),
    )
    osplus.run_once()
    emma.run_once()  # the QUITs of the RESP and CONS files
    emma.store.close()
    osplus.store.close()
    (workdir / "ops.txt").write_text(str(ticks))
    return 0


# -- the parent ---------------------------------------------------------------------------------


def make_batch(target: Path) -> None:
    """The files OSPlus hands to EMMA (written by the library's own OSPlus side)."""
    from emma_osplus import DirectoryTransport, MemoryStore
    from emma_osplus._consent import ConsentEvent
    from emma_osplus._control import ControlFile
    from emma_osplus._processor import DeliveryOrder, OsplusProcessor

    osplus = OsplusProcessor(
        DirectoryTransport(target.parent / "unused", target, fsync=False),
        MemoryStore(),
        clock=lambda: T - dt.timedelta(hours=1),
    )
    consent = [
        ConsentEvent(
            c,
            f"kunde{c}@example.de",
            "EINWILLIGUNG",
            T - dt.timedelta(days=60),
            "WEBFORMULAR",
            f"DOI {c}",
        )
        for c in range(1, 31)
        if c != 7
    ]
    objection = ConsentEvent(
        5,
        "kunde5@example.de",
        "WIDERSPRUCH",
        T - dt.timedelta(days=2),
        "FILIALE",
        "Filiale Neumarkt",
    )
    osplus.export_consent(BLZ, [*consent, objection])
    osplus.send_control(
        ControlFile(
            typ="vreku",
            blz=BLZ,
            nummer="R1",
            aktion="neu",
            bezeichnung="Runde_Geburtstage",
            rhythmus="monatlich",
            gueltig_ab=dt.date(2026, 12, 1),
            anlass="MCAG002",
            erstellt=T - dt.timedelta(hours=1),
        )
    )

    def rows(numbers: range, **more: str) -> list[dict[str, str]]:
        return [
            {"KUNDENNUMMER": str(c), "EMAIL": f"kunde{c}@example.de", "VORNAME": "Jörg", **more}
            for c in numbers
        ]

    osplus.deliver(
        DeliveryOrder(
            blz=BLZ, number="R1", kind="REKU", name="Runde_Geburtstage", occasion="MCAG002"
        ),
        rows(range(1, 11), ANLASS="MCAG002"),
    )
    osplus.deliver(
        DeliveryOrder(blz=BLZ, number="K1", kind="KMM", name="Herbst_Aktion_2026"),
        rows(range(1, 31), BERATERBILD="berater_1.jpg"),
        pictures={"berater_1.jpg": JPEG},
    )
    damaged = osplus.deliver(
        DeliveryOrder(blz=BLZ, number="K2", kind="KMM", name="Winter_Aktion_2026"),
        rows(range(40, 45)),
    )
    path = target / damaged.files[0]
    path.write_bytes(path.read_bytes().replace(b"kunde41", b"kunde99"))
    incomplete = osplus.deliver(
        DeliveryOrder(blz=BLZ, number="K3", kind="KMM", name="Fruehjahr_2027"), rows(range(50, 52))
    )
    (target / incomplete.files[0]).unlink()
    (target / "37050198_KMM_K9_2026_0001.csv").write_bytes(b"KUNDENNUMMER;EMAIL\r\n")


def _run(workdir: Path, *, crash_at: int = 0, kill_after: float | None = None) -> int:
    env = {**os.environ, "EMMA_CRASH_AT": str(crash_at)}
    process = subprocess.Popen(
        [sys.executable, __file__, str(workdir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if kill_after is not None:
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
    _, err = process.communicate(timeout=120)
    if process.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"the child failed ({process.returncode}):\n{err.decode()}")
    return process.returncode


def _finish(workdir: Path) -> None:
    for _ in range(5):
        if _run(workdir) == 0:
            return
    raise AssertionError("the child did not finish")  # pragma: no cover


def _snapshot(workdir: Path) -> dict[str, Any]:
    from emma_osplus import SQLiteStore

    files = {}
    for path in sorted(workdir.rglob("*")):
        relative = path.relative_to(workdir).as_posix()
        if (
            path.is_file()
            and not path.name.startswith(".")
            and ".db" not in path.name
            and path.name != "ops.txt"
        ):
            files[relative] = path.read_bytes()
    stores = {}
    for name in ("emma.db", "osplus.db"):
        store = SQLiteStore(workdir / name)
        stores[name] = store.dump()
        store.close()
    return {"files": files, "stores": stores}


def _fresh(template: Path, workdir: Path) -> Path:
    shutil.copytree(template, workdir / "to_emma")
    return workdir


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_sigkill_at_any_point_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    template = tmp_path / "template"
    make_batch(template)
    baseline = _fresh(template, tmp_path / "baseline")
    started = time.monotonic()
    assert _run(baseline) == 0
    duration = time.monotonic() - started
    expected = _snapshot(baseline)
    # the batch does what it should: something of every kind
    names = list(expected["files"])
    assert any(n.startswith("to_emma/quarantine/") for n in names)
    assert any("_RESP_" in n for n in names)
    # the delivery missing its subscriber list was refused with E103 seven hours later
    [k3] = [n for n in names if "_K3_" in n and n.startswith("to_emma/")]
    assert k3.startswith("to_emma/quarantine/")
    assert "_LIEF_K3_" in k3
    [k3_quit] = [n for n in names if "_QUIT_K3_" in n]
    assert b'code="E103"' in expected["files"][k3_quit]
    # the soft bounces of customer 2 reached OSPlus as a hard bounce
    assert any(
        b";HARTBOUNCE;" in data and b"SB-Eskalation" in data
        for n, data in expected["files"].items()
        if "_CONS_" in n and n.startswith("to_osplus/")
    )
    total = int((baseline / "ops.txt").read_text())
    assert total > 100

    rng = random.Random(20261122)
    points = sorted({*rng.sample(range(3, total - 1), 20), 1, 2, total - 1, total})
    # 24 kill points in 6 scenarios of 4 kills each, early and late ones mixed (a re-run counts
    # from zero again, so a later point of a scenario hits another phase of the re-run)
    scenarios: list[list[int]] = [points[i::6] for i in range(6)]
    kills = 0
    for number, scenario in enumerate(scenarios):
        workdir = _fresh(template, tmp_path / f"hook{number}")
        for crash_at in scenario:
            kills += _run(workdir, crash_at=crash_at) == -signal.SIGKILL
        _finish(workdir)
        assert _snapshot(workdir) == expected, f"kill points {scenario}"
    assert kills >= len(points) // 2  # most kill points were reached (not just finished runs)
    # kills at random moments
    for number in range(3):
        workdir = _fresh(template, tmp_path / f"timer{number}")
        for _ in range(2):
            _run(workdir, kill_after=rng.uniform(0.2, max(0.3, duration)))
        _finish(workdir)
        assert _snapshot(workdir) == expected, f"random kills, scenario {number}"


if __name__ == "__main__":
    sys.exit(child(Path(sys.argv[1])))
