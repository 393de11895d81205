"""``emma-osplus run`` and ``emma-osplus demo``."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from emma_osplus import DirectoryTransport, MemoryStore
from emma_osplus._cli import main
from emma_osplus._cli_run import TerminalProgress, default_state
from emma_osplus._events import Sent
from emma_osplus._processor import DeliveryOrder, OsplusProcessor
from emma_osplus._resp import write_resp

BLZ = "37050198"
T = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def _registered(monkeypatch: pytest.MonkeyPatch) -> None:
    from emma_osplus import _cli

    if "emma_osplus._cli_run" not in _cli.SUBCOMMANDS:
        monkeypatch.setattr(_cli, "SUBCOMMANDS", (*_cli.SUBCOMMANDS, "emma_osplus._cli_run"))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(*argv: str, stderr: io.StringIO | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
    status = main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "emma" / "inbox", tmp_path / "osplus" / "inbox"


def osplus_writer(folders: tuple[Path, Path]) -> OsplusProcessor:
    emma_in, osplus_in = folders
    return OsplusProcessor(DirectoryTransport(osplus_in, emma_in), MemoryStore(), clock=lambda: T)


def rows(count: int, filler: str = "") -> list[dict[str, str]]:
    return [
        {"KUNDENNUMMER": str(c), "EMAIL": f"kunde{c}@example.de", "NOTIZ": filler}
        for c in range(1, count + 1)
    ]


def emma_run(
    folders: tuple[Path, Path], *more: str, stderr: io.StringIO | None = None
) -> tuple[int, str, str]:
    emma_in, osplus_in = folders
    return run(
        "run", "--side", "emma", "--inbox", str(emma_in), "--outbox", str(osplus_in),
        "--no-require-consent", *more, stderr=stderr,
    )  # fmt: skip


def osplus_run(folders: tuple[Path, Path], *more: str) -> tuple[int, str, str]:
    emma_in, osplus_in = folders
    return run(
        "run", "--side", "osplus", "--inbox", str(osplus_in), "--outbox", str(emma_in), *more
    )


def test_run_both_sides_with_the_default_state_file(folders: tuple[Path, Path]) -> None:
    emma_in, osplus_in = folders
    delivery = osplus_writer(folders).deliver(
        DeliveryOrder(blz=BLZ, number="K1", kind="KMM", name="Herbst_Aktion_2026"), rows(3)
    )
    status, out, err = emma_run(folders)
    assert (status, err) == (0, "")
    assert "emma: 1 processed, 0 quarantined" in out
    assert "KMM K1 Herbst_Aktion_2026: 3 rows, 3 on the list (created)" in out
    state = emma_in.parent / "emma-osplus-state.db"
    assert f"state: {state}" in out
    assert state.exists()
    assert sorted(p.name for p in (emma_in / "archive").iterdir()) == sorted(delivery.files)
    [quit_file] = osplus_in.glob("*_QUIT_*")
    status, out, _ = osplus_run(folders, "--json")
    assert status == 0
    data = json.loads(out)
    assert data["counts"]["processed"] == 1
    assert data["files"][0]["name"] == quit_file.name
    assert data["state"] == str(osplus_in.parent / "emma-osplus-state.db")
    # a second pass finds nothing to do
    status, out, _ = emma_run(folders)
    assert (status, out.splitlines()[0]) == (
        0,
        "emma: 0 processed, 0 quarantined, 0 waiting, 0 held, 0 duplicate, 0 failed",
    )


def test_quarantine_gives_exit_status_1(folders: tuple[Path, Path]) -> None:
    emma_in, osplus_in = folders
    emma_in.mkdir(parents=True)
    (emma_in / "37050198_LIEF_K1_20261122093000_0001.xml").write_bytes(b"<lieferschein")
    status, out, _ = emma_run(folders, "--json")
    assert status == 1
    data = json.loads(out)
    assert data["counts"]["quarantined"] == 1
    assert data["files"][0]["messages"][0]["code"] == "E105"
    assert (emma_in / "quarantine" / "37050198_LIEF_K1_20261122093000_0001.xml").exists()
    assert len(list(osplus_in.glob("*_QUIT_*"))) == 1


@pytest.mark.parametrize(
    ("bad", "shown"),
    [
        ("37050198_KMM_K1_20261122093000_0001.csv ", "'37050198_KMM_K1_20261122093000_0001.csv '"),
        ("37050198_KMM_K1:ads", "37050198_KMM_K1:ads"),  # an alternate data stream on Windows
        ("CON.csv", "CON.csv"),
        ("37050198_\x1b[2J.csv", "'37050198_\\x1b[2J.csv'"),  # a terminal escape
    ],
)
def test_a_file_with_an_unsafe_name_does_not_stop_the_run(
    folders: tuple[Path, Path], bad: str, shown: str
) -> None:
    """No transport opens or moves a file under an unsafe name: it stays in the inbox and is
    reported (escaped) as failed in every run, and every other file is still handled."""
    emma_in, _ = folders
    emma_in.mkdir(parents=True)
    (emma_in / bad).write_bytes(b"whatever")
    (emma_in / "37050198_LIEF_K1_20261122093000_0001.xml").write_bytes(b"<lieferschein")
    for _ in range(2):
        status, out, err = emma_run(folders)
        assert (status, err) == (1, "")
        assert f"  failed       {shown}  unsafe name" in out
        assert "\x1b" not in out
    assert (emma_in / "quarantine" / "37050198_LIEF_K1_20261122093000_0001.xml").exists()
    assert (emma_in / bad).read_bytes() == b"whatever"
    status, out, _ = emma_run(folders, "--json")
    [failed] = [f for f in json.loads(out)["files"] if f["outcome"] == "failed"]
    assert (failed["name"], failed["messages"][0]["code"]) == (bad, "E108")


def _resp(sequence: int) -> bytes:
    from emma_osplus._email import EmailAddress
    from emma_osplus._types import Blz, CustomerNumber, EventId, MailingId, OrderNumber

    sent = Sent(
        event_id=EventId(f"ev{sequence}"),
        blz=Blz(BLZ),
        order=OrderNumber("K1"),
        order_kind="KMM",
        mailing=MailingId("M1"),
        customer=CustomerNumber(sequence),
        email=EmailAddress(f"kunde{sequence}@example.de"),
        at=T,
    )
    return write_resp(BLZ, T, sequence, [sent.to_values()])


def test_resp_gap_exit_status_and_release(folders: tuple[Path, Path]) -> None:
    emma_in, osplus_in = folders
    osplus_in.mkdir(parents=True)
    (osplus_in / "37050198_RESP_0_20261122093000_0001.txt").write_bytes(_resp(1))
    (osplus_in / "37050198_RESP_0_20261122093100_0003.txt").write_bytes(_resp(3))
    status, out, _ = osplus_run(folders)
    assert status == 1
    assert "1 processed" in out
    assert "1 held" in out
    assert "E109" in out
    status, out, err = run(
        "run",
        "--side",
        "emma",
        "--inbox",
        str(emma_in),
        "--outbox",
        str(osplus_in),
        "--release-gap",
        BLZ,
    )
    assert status == 2
    assert "--release-gap is for the OSPlus side" in err
    status, out, err = osplus_run(folders, "--release-gap", BLZ)
    assert status == 0
    assert err == f"released RESP gap of {BLZ}: 2\n"
    assert "1 processed" in out


def test_progress_on_a_terminal_only(folders: tuple[Path, Path]) -> None:
    writer = osplus_writer(folders)
    big = rows(600, filler="Ä" * 2000)  # about 1.2 MB: above the progress threshold
    writer.deliver(DeliveryOrder(blz=BLZ, number="K1", kind="KMM", name="Gross"), big)
    terminal = Terminal()
    status, _, err = emma_run(folders, stderr=terminal)
    assert status == 0
    assert "37050198_KMM_K1_20261122093000_0001.csv: 100.0 % of 1.2 MB\n" in err
    assert "\r" in err
    writer.deliver(DeliveryOrder(blz=BLZ, number="K2", kind="KMM", name="Gross2"), big)
    status, _out, err = emma_run(folders)  # not a terminal
    assert (status, err) == (0, "")


def test_progress_line_is_throttled() -> None:
    stream = io.StringIO()
    progress = TerminalProgress(stream, interval=3600)
    for done in range(0, 101, 10):
        progress("a.csv", done, 100)
    progress("b.csv", 5, 10)
    progress.close()
    lines = stream.getvalue()
    assert lines.count("a.csv") == 2  # the first update and the finish
    assert lines.endswith("b.csv:  50.0 % of 0.0 MB\n")


def test_wrong_calls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, _ = run("run", "--side", "emma", "--inbox", str(tmp_path))
    assert status == 2
    assert "--outbox" in capsys.readouterr().err  # argparse writes to sys.stderr
    folder = tmp_path / "state-is-a-folder"
    folder.mkdir()
    status, _, err = run(
        "run", "--side", "osplus", "--inbox", str(tmp_path / "in"), "--outbox", str(tmp_path / "out"),
        "--state", str(folder),
    )  # fmt: skip
    assert status == 2
    assert "cannot open the state store" in err


def test_default_state_is_beside_the_inbox(tmp_path: Path) -> None:
    assert (
        default_state(tmp_path / "a" / "inbox")
        == (tmp_path / "a" / "emma-osplus-state.db").resolve()
    )


def test_demo_command(tmp_path: Path) -> None:
    status, out, err = run("demo", "--dir", str(tmp_path / "demo"), "--customers", "300")
    assert (status, err) == (0, "")
    assert "Step 1  The institute" in out
    assert "pending" in out
    assert "held back" in out
    assert (tmp_path / "demo" / "emma-state.db").exists()
    status, _, err = run("demo", "--customers", "5")
    assert status == 2


def test_missing_file_after(folders: tuple[Path, Path]) -> None:
    from emma_osplus import SQLiteStore

    emma_in, osplus_in = folders
    delivery = osplus_writer(folders).deliver(
        DeliveryOrder(blz=BLZ, number="K1", kind="KMM", name="Herbst_Aktion_2026"), rows(2)
    )
    csv_name, lief = delivery.files
    (emma_in / csv_name).unlink()
    status, out, _ = emma_run(folders, "--missing-file-after", "1.5")
    assert status == 0
    assert "waits for 1 of 1 listed files" in out
    assert "refused with E103 from" in out
    # the manifest was first seen two hours ago (as if the pass had run then)
    store = SQLiteStore(emma_in.parent / "emma-osplus-state.db")
    entry = store.get("emma.first_seen", lief)
    seen = dt.datetime.fromisoformat(entry["at"])
    with store.transaction():
        store.put(
            "emma.first_seen", lief, {**entry, "at": (seen - dt.timedelta(hours=2)).isoformat()}
        )
    store.close()
    status, out, _ = emma_run(folders)  # the default limit (6 h): still waiting
    assert (status, "1 waiting" in out) == (0, True)
    status, out, _ = emma_run(folders, "--missing-file-after", "1.5", "--json")
    assert status == 1
    data = json.loads(out)
    assert data["counts"]["quarantined"] == 1
    assert [m["code"] for m in data["files"][0]["messages"]] == ["E103"]
    assert [p.name for p in (emma_in / "quarantine").iterdir()] == [lief]
    assert len(list(osplus_in.glob("*_QUIT_*"))) == 1


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_missing_file_after_must_be_positive_hours(
    folders: tuple[Path, Path], value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, _ = emma_run(folders, "--missing-file-after", value)
    assert status == 2
    assert "a positive number of hours" in capsys.readouterr().err


def test_missing_file_after_is_for_the_emma_side(folders: tuple[Path, Path]) -> None:
    status, _, err = osplus_run(folders, "--missing-file-after", "2")
    assert status == 2
    assert "--missing-file-after is for the EMMA side" in err
