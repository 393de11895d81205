"""Instructions per row: our readers against their baselines, counted by valgrind.

Wall-clock rates on a shared machine swing by ±20 % from one minute to the next; the number of
machine instructions a reading executes hardly moves, so small changes to the readers can be
compared reliably.  (It is a proxy: it does not see cache misses or memory traffic, and the
CPU-time ratios of ``bench_throughput.py`` stay the figures the targets are about.)

Run ``python benchmarks/bench_instructions.py [--rows N] [kmm|resp ...]`` with valgrind
installed (``apt-get install valgrind``; about a minute per kind at the default 20 000 rows).
For each kind, a fresh interpreter is run under ``valgrind --tool=cachegrind`` three times on
the same generated file (``generate.py``): doing nothing with it, reading it with the
baseline (``csv.reader``; plain slicing for ``RESP``), and reading it with our reader.  The
differences, divided by the number of rows, are printed with their ratio.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_CHILD = """
import sys
sys.path.insert(0, {here!r})
import baselines, generate
kind, what, rows = {kind!r}, {what!r}, {rows}
if kind == "kmm":
    from emma_osplus._subscribers import read_subscriber_list
    data = b"".join(generate.subscriber_list(rows))
    small = b"".join(generate.subscriber_list(100))
    for _ in read_subscriber_list(small, "KMM"):  # imports and caches warm in every run
        pass
    if what == "baseline":
        baselines.csv_reader(data)
    elif what == "ours":
        for _ in read_subscriber_list(data, "KMM"):
            pass
else:
    from bench_resp import ours
    data = b"".join(generate.responses(rows))
    ours(b"".join(generate.responses(100)))
    if what == "baseline":
        baselines.slicing(data)
    elif what == "ours":
        ours(data)
"""


def count(kind: str, what: str, rows: int) -> int:
    """The instructions a fresh interpreter executes for *what* (see the module docs)."""
    code = _CHILD.format(here=str(HERE), kind=kind, what=what, rows=rows)
    done = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{done.stderr}")
    return int(found.group(1).replace(",", ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kinds", nargs="*", help="kmm, resp (default: both)")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="2 000 rows")
    args, _ = parser.parse_known_args(argv)
    kinds = args.kinds or ["kmm", "resp"]
    if not set(kinds) <= {"kmm", "resp"}:
        parser.error(f"kinds are kmm and resp, not {', '.join(kinds)}")
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: nothing to count")
        return 0
    rows = 2_000 if args.quick else args.rows
    for kind in kinds:
        idle, base, ours = (count(kind, what, rows) for what in ("idle", "baseline", "ours"))
        per_base, per_ours = (base - idle) / rows, (ours - idle) / rows
        print(
            f"{kind}: {rows:,} rows  baseline {per_base:,.0f} instructions/row  "
            f"ours {per_ours:,.0f}  ratio {per_base / per_ours:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
