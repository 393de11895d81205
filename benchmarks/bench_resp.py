"""Reading a responses file (RESP): records/s of the library's full reader against a plain
baseline measured in the same run.

* **baseline** (``baselines.slicing``, as in ``bench_throughput.py``): decode the bytes
  (windows-1252) line by line as they stream, slice every field of every record into a tuple
  -- what any hand-written reader does at the very least, with no checks.
* **read_resp**: the library's reader in strict mode: every record's length, type, every field
  by its rule (customer number, order number, code tables, UTC timestamp, mailing id, email
  address, status code, event id), the cross-field rules of DETAIL and STATUSCODE, padding
  removed, one ``Record`` per line with ``values`` and ``typed``, the trailer's count and
  control sum.  ``typed`` values are converted on first access.
* **read_resp + typed**: the same, and every typed value of every record accessed (domain
  objects: ``CustomerNumber``, ``datetime``, ``EmailAddress`` …).

Usage: ``python benchmarks/bench_resp.py [--records N] [--repeat R] [--quick]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import time
from collections.abc import Callable

from baselines import slicing

from emma_osplus._resp import ResponseRecord, read_resp, write_resp

UTC = dt.timezone.utc
_CODES = ("VS", "VS", "VS", "OE", "OE", "KL", "AB", "HB", "SB", "ZH")


def _templates() -> list[ResponseRecord]:
    """One realistic record per code (sent and opened most often, as in real files)."""
    out = []
    for i, code in enumerate(_CODES):
        status, detail = "", ""
        if code == "KL":
            detail = "herbst-angebot-cta"
        elif code == "AB":
            detail = "LISTUNSUB"
        elif code == "ZH":
            detail = "SPERRLISTE"
        elif code in ("HB", "SB"):
            status = "5.1.1" if code == "HB" else "4.2.2"
            detail = "550 5.1.1 Empfänger unbekannt" if code == "HB" else "452 Postfach voll"
        out.append(
            ResponseRecord(
                customer_number=1000 + i,
                order_number="K2026001",
                order_kind="KMM",
                reaction=code,
                occurred=dt.datetime(2026, 11, 20, 8, 5, 12, tzinfo=UTC),
                mailing_id="M-2026-11",
                email=f"vorname.nachname{i}@sparkasse-musterstadt.de",
                event_id=f"evt-{i:012d}",
                status_code=status,
                detail=detail,
            )
        )
    return out


def make_file(records: int) -> bytes:
    """A valid RESP file of *records* details: the templates with varied customer numbers,
    times, addresses and event ids (built by slicing one written file, then checked)."""
    sample = write_resp("37050198", dt.datetime(2026, 11, 22, tzinfo=UTC), 1, _templates())
    header, *details, _trailer, _ = sample.split(b"\r\n")
    lines = [header]
    total = 0
    for i in range(records):
        t = details[i % len(details)]
        customer = 10_000 + i * 7919 % 9_000_000
        total += customer
        stamp = b"202611%02d%02d%02d%02d" % (1 + i % 28, i % 24, i % 60, (i * 7) % 60)
        email = (b"kunde.%d@sparkasse-musterstadt.de" % i).ljust(254)
        lines.append(
            t[:1]
            + b"%010d" % customer
            + t[11:37]
            + stamp
            + t[51:71]
            + email
            + t[325:375]
            + (b"evt-%012d" % i).ljust(25)
        )
    lines.append((b"E37050198%010d%017d" % (records, total)).ljust(400))
    data = b"\r\n".join(lines) + b"\r\n"
    assert sum(1 for _ in read_resp(data)) == records + 2  # valid, or this raises
    return data


def ours(data: bytes) -> int:
    """The full strict reader."""
    n = 0
    for _ in read_resp(data):
        n += 1
    return n


def ours_typed(data: bytes) -> int:
    """The full strict reader, every typed value of every record accessed."""
    n = 0
    for item in read_resp(data):
        typed = item.typed  # type: ignore[union-attr]
        for key in typed:
            typed[key]
        n += 1
    return n


def _rates(funcs: list[Callable[[bytes], int]], data: bytes, repeat: int) -> list[float]:
    """Records per second of each function: the best CPU time (``time.process_time``) of
    *repeat* runs, the functions run in turns (on a shared machine a slow spell then hits all
    alike, and time spent waiting for the CPU is not counted)."""
    best = [float("inf")] * len(funcs)
    counts = [0] * len(funcs)
    for _ in range(repeat):
        for i, func in enumerate(funcs):
            gc.collect()
            start = time.process_time()
            counts[i] = func(data)
            best[i] = min(best[i], time.process_time() - start)
    return [count / seconds for count, seconds in zip(counts, best, strict=True)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="10 000 records, 3 repeats")
    args = parser.parse_args(argv)
    records, repeat = (10_000, 3) if args.quick else (args.records, args.repeat)
    data = make_file(records)
    base, full, typed = _rates([slicing, ours, ours_typed], data, repeat)
    print(f"RESP read, {records} records ({len(data) / 1e6:.1f} MB), best of {repeat}")
    print(f"  baseline (streamed lines, sliced): {base:12,.0f} records/s")
    print(f"  read_resp (checked, strict):       {full:12,.0f} records/s  ratio {full / base:.2f}")
    print(
        f"  read_resp + every typed value:     {typed:12,.0f} records/s  ratio {typed / base:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
