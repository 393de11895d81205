"""The demo: runs with no set-up, exits 0, tells each step, leaves the files of a round trip."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import sys
from pathlib import Path

from emma_osplus import SQLiteStore
from emma_osplus._demo import make_institute, png_pixel, run_demo
from emma_osplus._manifest import read_manifest
from emma_osplus._quit import read_acknowledgement

AT = dt.datetime(2026, 11, 20, 7, tzinfo=dt.timezone.utc)


def test_full_demo_round_trip(tmp_path: Path) -> None:
    out = io.StringIO()
    result = run_demo(tmp_path, out=out, customers=1200)  # the command's default is 3000
    text = out.getvalue()
    for line in (
        "emma-osplus demo: Sparkasse KölnBonn (BLZ 37050198), 1200 synthetic customers",
        "OSPlus sends its consent records to EMMA (CONS: time, source, evidence)",
        "control file (neu, monthly): → 37050198_VREKU_R2026042_",
        "OSPlus delivers KMM order K2026001 'Herbst_Aktion_2026' with advisor pictures",
        "list Runde_Geburtstage: ",
        "ZH SPERRLISTE: customer",
        "ZH KEINE_EINWILLIGUNG: customer",
        "institute parameters: Aut. Verarb. H.-Bounces = on, Aut. Verarb. Abmeld. = OFF",
        "hard bounces processed automatically",
        "OVERDUE",
        "ABMELDUNG pending since",
        "HARTBOUNCE processed automatically",
    ):
        assert line in text, line
    # no full address anywhere in the output
    assert re.findall(r"[\w.+-]+@[\w-]", text.replace("***@", "")) == []
    assert result.customers == 1200
    assert result.withheld == 2  # the objection and the customer without consent
    assert result.pending > 0
    assert result.held_back >= result.pending
    assert result.responses > result.recipients  # opens and clicks besides the sends
    # the round trip's files: nothing waits, nothing was quarantined
    names = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert not [n for n in names if "quarantine/" in n]
    assert not [n for n in names if n.count("/") == 1 and n.startswith(("to_emma/", "to_osplus/"))]
    archived = [n.rsplit("/", 1)[1].split("_")[1] for n in names if "/archive/3705" in n]
    for kind in ("CONS", "VREKU", "LIEF", "KMM", "REKU", "RESP", "QUIT"):
        assert kind in archived, kind
    assert any(n.endswith("berater_4711.png") for n in names)
    # a delivered manifest names its pictures, which are valid images
    lief = next(p for p in (tmp_path / "to_emma" / "archive").glob("*_LIEF_K2026001_*"))
    manifest = read_manifest(lief.read_bytes()).value
    assert manifest is not None
    assert {f.rolle for f in manifest.files} == {"abonnenten", "beraterbild"}
    # every QUIT is ok
    for quit_file in tmp_path.rglob("*_QUIT_*"):
        ack = read_acknowledgement(quit_file.read_bytes()).value
        assert ack is not None
        assert ack.status == "ok", quit_file.name
    store = SQLiteStore(tmp_path / "osplus-state.db")
    try:
        assert any(ns.startswith("osplus.feedback.") for ns in store.namespaces())
    finally:
        store.close()


def test_institute_is_deterministic_and_realistic() -> None:
    first = make_institute(500, 7, at=AT)
    again = make_institute(500, 7, at=AT)
    other = make_institute(500, 8, at=AT)
    assert first == again
    assert first.customers != other.customers
    numbers = [c["KUNDENNUMMER"] for c in first.customers]
    emails = [c["EMAIL"] for c in first.customers]
    assert len(set(numbers)) == len(set(emails)) == 500
    assert any(ch in "äöüßÄÖÜ" for c in first.customers for ch in c["VORNAME"] + c["NACHNAME"])
    for row in first.customers:  # every row fits the default encoding of a subscriber list
        "".join(row.values()).encode("cp1252")
    consenting = {e.customer.value for e in first.consent if e.kind.value == "EINWILLIGUNG"}
    assert first.no_consent.zfill(10) not in consenting
    assert all(e.has_evidence for e in first.consent)


def test_png_pixel_is_a_valid_png() -> None:
    import struct
    import zlib

    data = png_pixel(10, 20, 30)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    length = struct.unpack(">I", data[8:12])[0]
    assert data[12:16] == b"IHDR"
    assert struct.unpack(">I", data[16 + length : 20 + length])[0] == zlib.crc32(
        data[12 : 16 + length]
    )
    assert data.endswith(b"IEND\xaeB`\x82")


def test_demo_command_without_setup_exits_0(tmp_path: Path) -> None:
    """What the README's main-job command runs (smaller, to keep the suite fast)."""
    script = (
        "import sys; from emma_osplus import _cli\n"
        "if 'emma_osplus._cli_run' not in _cli.SUBCOMMANDS:\n"
        "    _cli.SUBCOMMANDS += ('emma_osplus._cli_run',)\n"
        "sys.exit(_cli.main(['demo', '--customers', '400']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "(temporary; use --dir to keep the files)" in done.stdout
    assert "Summary" in done.stdout
    assert list(tmp_path.iterdir()) == []  # nothing left behind
