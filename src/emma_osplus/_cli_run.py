"""``emma-osplus run`` and ``emma-osplus demo``: the library's main job on the command line.

``emma-osplus run --side emma|osplus --inbox DIR --outbox DIR [--state FILE] [--json]`` makes
one processing pass over a :class:`~emma_osplus.DirectoryTransport` (archive and quarantine
default to ``archive/`` and ``quarantine/`` inside the inbox) with the
:class:`~emma_osplus.SQLiteStore` state file (default: ``emma-osplus-state.db`` in the
inbox's parent folder; both sides keep their data apart in one file, but give each side its
own file when they run on different machines).  It prints a readable report, or JSON with
``--json``; on a terminal it shows the progress of large files on standard error.  Exit status:
0 when every file was processed or is waiting, 1 when a file was quarantined, held after a
sequence gap (E109) or failed, 2 for a wrong call or when the folders or the state file cannot
be used.

``emma-osplus demo [--dir DIR]`` runs :func:`emma_osplus._demo.run_demo`: a synthetic
institute and a full round trip, with no set-up at all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any, TextIO

from ._errors import EmmaOsplusError
from ._feedback import InstituteSettings

__all__ = ["TerminalProgress", "default_state", "demo_command", "register", "run_command"]

#: The state file's name when ``--state`` is not given.
DEFAULT_STATE_NAME = "emma-osplus-state.db"


def default_state(inbox: Path) -> Path:
    """The default state file: ``emma-osplus-state.db`` beside the inbox folder.

    >>> default_state(Path("/data/emma/inbox")).as_posix()
    '/data/emma/emma-osplus-state.db'
    """
    return inbox.resolve().parent / DEFAULT_STATE_NAME


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``run`` and ``demo`` subcommands."""
    run = subparsers.add_parser(
        "run",
        help="one processing pass over an inbox and an outbox folder",
        description=(
            "Process every file waiting in INBOX once, exactly once: acknowledgements and "
            "other outputs go to OUTBOX, processed files to the archive, bad ones to "
            "quarantine (with a QUIT). State lives in an SQLite file."
        ),
    )
    run.add_argument("--side", choices=("emma", "osplus"), required=True, help="which side runs")
    run.add_argument("--inbox", type=Path, required=True, metavar="DIR", help="files to process")
    run.add_argument("--outbox", type=Path, required=True, metavar="DIR", help="files to send")
    run.add_argument("--archive", type=Path, metavar="DIR", help="default: INBOX/archive")
    run.add_argument("--quarantine", type=Path, metavar="DIR", help="default: INBOX/quarantine")
    run.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help=f"the SQLite state file (default: {DEFAULT_STATE_NAME} beside INBOX)",
    )
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    run.add_argument(
        "--no-require-consent",
        action="store_true",
        help="EMMA side: a row without a recorded consent is sent unless something restricts it "
        "(use only where OSPlus selects on its own consent flag)",
    )
    run.add_argument(
        "--missing-file-after",
        type=_hours,
        metavar="HOURS",
        help="EMMA side: refuse a delivery (E103) whose manifest still lists a missing file "
        "this many hours after it was first seen (default: 6)",
    )
    run.add_argument(
        "--auto-unsubscribe",
        action="store_true",
        help="OSPlus side: process unsubscribes and objections at once (Aut. Verarb. Abmeld.)",
    )
    run.add_argument(
        "--auto-hard-bounce",
        action="store_true",
        help="OSPlus side: process hard bounces at once (Aut. Verarb. H.-Bounces)",
    )
    run.add_argument(
        "--release-gap",
        action="append",
        default=[],
        metavar="BLZ",
        help="OSPlus side: stop waiting for missing RESP files of BLZ before the pass (E109)",
    )
    run.set_defaults(func=run_command)

    demo = subparsers.add_parser(
        "demo",
        help="a synthetic institute and a full round trip through folders",
        description=(
            "Create a synthetic Sparkasse with a few thousand customers and run both sides of "
            "the interface through folders: consent, a ReKu control file and delivery, a KMM "
            "delivery with advisor pictures, sends, responses, feedback processing and the "
            "next selection's guard."
        ),
    )
    demo.add_argument(
        "--dir",
        type=Path,
        metavar="DIR",
        help="keep the folders here (default: a temporary folder)",
    )
    demo.add_argument("--customers", type=int, default=3000, help=argparse.SUPPRESS)
    demo.add_argument("--seed", type=int, default=2026, help=argparse.SUPPRESS)
    demo.set_defaults(func=demo_command)


def _hours(text: str) -> float:
    """A positive number of hours (``--missing-file-after``).

    >>> _hours("6"), _hours("0.5")
    (6.0, 0.5)
    >>> _hours("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: a positive number of hours, not '0'
    """
    try:
        hours = float(text)
    except ValueError:
        hours = float("nan")
    if not hours > 0 or hours == float("inf"):
        raise argparse.ArgumentTypeError(f"a positive number of hours, not {text!r}")
    return hours


class TerminalProgress:
    """The progress of large files on a terminal: one line, rewritten, at most ten times a
    second; finished with a line break."""

    def __init__(self, stream: TextIO, *, interval: float = 0.1) -> None:
        self.stream = stream
        self.interval = interval
        self._last = 0.0
        self._name: str | None = None

    def __call__(self, name: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = done >= total
        if name != self._name:
            self.close()
            self._name = name
        elif not finished and now - self._last < self.interval:
            return
        self._last = now
        share = 100 * done / total if total else 100.0
        self.stream.write(f"\r{name}: {share:5.1f} % of {total / 1_000_000:.1f} MB")
        self.stream.flush()
        if finished:
            self.stream.write("\n")
            self.stream.flush()
            self._name = None

    def close(self) -> None:
        if self._name is not None:
            self.stream.write("\n")
            self.stream.flush()
            self._name = None


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if isatty is not None else False


def run_command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """The ``run`` subcommand."""
    from ._consent import ConsentPolicy  # noqa: PLC0415 - keep the CLI's start fast
    from ._processor import EmmaProcessor, OsplusProcessor, RunReport  # noqa: PLC0415
    from ._store import SQLiteStore  # noqa: PLC0415
    from ._transport import DirectoryTransport  # noqa: PLC0415

    side: str = args.side
    if args.release_gap and side != "osplus":
        stderr.write("emma-osplus run: --release-gap is for the OSPlus side\n")
        return 2
    if args.missing_file_after is not None and side != "emma":
        stderr.write("emma-osplus run: --missing-file-after is for the EMMA side\n")
        return 2
    state = args.state if args.state is not None else default_state(args.inbox)
    progress = TerminalProgress(stderr) if _is_terminal(stderr) else None
    try:
        transport = DirectoryTransport(
            args.inbox, args.outbox, archive=args.archive, quarantine=args.quarantine
        )
        store = SQLiteStore(state)
    except EmmaOsplusError as exc:
        stderr.write(f"emma-osplus run: {exc}\n")
        return 2
    try:
        processor: Any
        if side == "emma":
            policy = ConsentPolicy(require_consent=not args.no_require_consent)
            missing: dict[str, Any] = {}
            if args.missing_file_after is not None:
                missing["missing_file_after"] = dt.timedelta(hours=args.missing_file_after)
            processor = EmmaProcessor(
                transport, store, consent_policy=policy, progress=progress, **missing
            )
        else:
            settings = InstituteSettings(
                auto_unsubscribe=args.auto_unsubscribe, auto_hard_bounce=args.auto_hard_bounce
            )
            processor = OsplusProcessor(transport, store, settings=settings, progress=progress)
            for blz in args.release_gap:
                released = processor.release_gap(blz)
                numbers = ", ".join(map(str, released)) or "nothing held"
                stderr.write(f"released RESP gap of {blz}: {numbers}\n")
        report: RunReport = processor.run_once()
    except EmmaOsplusError as exc:
        stderr.write(f"emma-osplus run: {exc}\n")
        return 2
    finally:
        if progress is not None:
            progress.close()
        store.close()
        transport.close()
    if args.json:
        data = {**report.to_json(), "state": str(state)}
        stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        stdout.write(report.describe() + "\n")
        stdout.write(f"state: {state}\n")
    trouble = ("quarantined", "held", "failed")
    return 1 if any(f.outcome in trouble for f in report.files) else 0


def demo_command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """The ``demo`` subcommand."""
    from ._demo import run_demo  # noqa: PLC0415 - keep the CLI's start fast

    if args.customers < 100:
        stderr.write("emma-osplus demo: --customers must be at least 100\n")
        return 2
    run_demo(args.dir, out=stdout, customers=args.customers, seed=args.seed)
    return 0
