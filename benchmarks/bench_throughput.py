"""Throughput and peak memory of the readers, against baselines measured in the same run.

Run ``python benchmarks/bench_throughput.py [--rows N] [--resp-records N] [--memory-rows S L]
[--repeat R] [--quick]``.  In one run it prints:

1. **Subscriber lists**: our typed and validated ``read_subscriber_list`` (encoding detected,
   and declared) on a generated 15-column ``KMM`` file of N rows (default 1 000 000; see
   ``generate.py``) as a ratio to a plain ``csv.reader`` over the same bytes (decoded as they
   stream, ``newline=''``, lists of strings; see ``baselines.py``), and to
   ``pandas.read_csv(dtype=str)`` where pandas is installed.  Ratio = baseline time / our
   time (1.0: as fast; target >= 0.5 against ``csv.reader``).  Two references follow, to
   show where the time goes: ``csv.reader`` making the objects our reader yields (a dict and
   a ``Record`` per row) and checking nothing, and our reader with the E203/W201 index kept
   all in memory.
2. **Responses**: ``read_resp`` on a ``RESP`` file of N detail records as a ratio to plain
   slicing (the lines decoded as they stream, every field of every record sliced into a
   tuple); target >= 0.5.
3. **Peak memory** (the high-water mark ``VmHWM`` of a fresh process that only reads a file
   from disk, record by record) for S and L rows (default 100 000 and 1 000 000): the
   subscriber-list reader with its file rules (E203 customer twice, W201 shared address:
   they must remember every customer and address), the CSV engine alone (same layout
   without those rules), the responses reader and ``inspect --json`` of the subscriber list;
   target: L within +20 % of S.

Times are the best CPU time of ``--repeat`` rounds (default 1), the contenders of 1. and 2.
run in turns within a round, so that a slow spell on a shared machine hits them alike.
"""

from __future__ import annotations

import argparse
import csv
import functools
import gc
import importlib.util
import io
import itertools
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent


def _load(name: str) -> ModuleType:
    """The module ``benchmarks/NAME.py`` (the benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"emma_osplus_bench_{name}", HERE / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_generate = _load("generate")
_baselines = _load("baselines")
subscriber_list: Callable[[int], Iterable[bytes]] = _generate.subscriber_list
responses: Callable[[int], Iterable[bytes]] = _generate.responses
csv_reader: Callable[[bytes], int] = _baselines.csv_reader
slicing: Callable[[bytes], int] = _baselines.slicing


def _race(contenders: Mapping[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """The best CPU time (``time.process_time``) of each function over *repeat* rounds, the
    functions run in turns within a round: on a shared machine a slow spell then hits all of
    them alike, and time spent waiting for the CPU is not counted."""
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(repeat):
        for name, fn in contenders.items():
            gc.collect()
            start = time.process_time()
            fn()
            best[name] = min(best[name], time.process_time() - start)
    return best


def machine() -> str:
    """A one-line description of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}"
    )


# ------------------------------------------------------------------------ subscriber lists


def bench_lists(rows: int, repeat: int) -> dict[str, float]:
    from emma_osplus import Record
    from emma_osplus._subscribers import read_subscriber_list

    data = b"".join(subscriber_list(rows))
    counts: list[int] = []

    def baseline() -> None:
        counts.append(csv_reader(data) - 1)  # the header is no record

    def ours(encoding: str | None) -> Callable[[], None]:
        def run() -> None:
            n = 0
            for item in read_subscriber_list(data, "KMM", encoding=encoding):
                n += item.__class__ is Record
            counts.append(n)

        return run

    contenders: dict[str, Callable[[], None]] = {
        "csv.reader": baseline,
        "ours (detected)": ours(None),
        "ours (declared)": ours("windows-1252"),
        REFERENCE_FLOOR: _floor(data, counts),
        REFERENCE_IN_MEMORY: _in_memory(data, counts),
    }
    try:
        import pandas as pd  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        pass
    else:

        def with_pandas() -> None:
            frame = pd.read_csv(
                io.BytesIO(data), sep=";", dtype=str, encoding="cp1252", keep_default_na=False
            )
            counts.append(len(frame))

        contenders["pandas.read_csv(dtype=str)"] = with_pandas
    results = _race(contenders, repeat)
    assert set(counts) == {rows}, set(counts)
    references = {name: results.pop(name) for name in (REFERENCE_FLOOR, REFERENCE_IN_MEMORY)}
    print(f"subscriber list: {rows:,} rows x 15 columns, {len(data) / 1e6:.0f} MB windows-1252")
    base = results["csv.reader"]
    for name, seconds in results.items():
        ratio = base / seconds
        print(
            f"  {name:28} {seconds:7.2f} s {rows / seconds:12,.0f} rows/s  ratio to csv.reader {ratio:.2f}"
        )
    print("  for reference (not our reader as shipped):")
    for name, seconds in references.items():
        print(f"  {name:46} {seconds:7.2f} s  ratio to csv.reader {base / seconds:.2f}")
    for name in ("ours (detected)", "ours (declared)"):
        if "pandas.read_csv(dtype=str)" in results:
            ratio = results["pandas.read_csv(dtype=str)"] / results[name]
            print(f"  {name} / pandas.read_csv(dtype=str): {ratio:.2f}")
    return results


#: csv.reader making the objects our reader yields, and nothing else: what the record model
#: costs with csv.reader's parsing (our reader splits most lines with str.split, faster).
REFERENCE_FLOOR = "csv.reader + a dict and a Record per row, no checks"
#: Our reader with the E203/W201 index kept in memory however large the file (memory grows
#: with the file): what the bounded-memory index costs beyond 100 000 rows.
REFERENCE_IN_MEMORY = "ours (declared), E203/W201 index all in memory"


def _floor(data: bytes, counts: list[int]) -> Callable[[], None]:
    from emma_osplus import Record
    from emma_osplus._records import _dict_builder, _make_records

    def run() -> None:
        text = io.TextIOWrapper(io.BytesIO(data), encoding="cp1252", newline="")
        rows = csv.reader(text, delimiter=";")
        build = _dict_builder(next(rows))
        n = 0
        while True:
            batch = list(itertools.islice(rows, 512))
            if not batch:
                break
            lines = range(n + 2, n + 2 + len(batch))
            maps = list(itertools.starmap(build, batch))
            for record in _make_records(lines, maps, [""] * len(batch), {}):
                n += record.__class__ is Record
        counts.append(n)

    return run


def _in_memory(data: bytes, counts: list[int]) -> Callable[[], None]:
    import attrs

    from emma_osplus import Record
    from emma_osplus._csv import read_csv
    from emma_osplus._subscribers import KMM, _SharedAddresses, _UniqueCustomers

    unbounded = 1 << 40
    layout = attrs.evolve(
        KMM,
        checks=(
            functools.partial(_UniqueCustomers, unbounded),
            functools.partial(_SharedAddresses, unbounded),
        ),
    )

    def run() -> None:
        n = 0
        for item in read_csv(data, layout, encoding="windows-1252"):
            n += item.__class__ is Record
        counts.append(n)

    return run


# ------------------------------------------------------------------------ responses


def bench_resp(records: int, repeat: int) -> dict[str, float]:
    from emma_osplus._resp import read_resp

    data = b"".join(responses(records))
    counts: list[int] = []

    def baseline() -> None:
        counts.append(slicing(data))

    def ours() -> None:
        n = 0
        for _item in read_resp(data):
            n += 1
        counts.append(n)

    results = _race({"plain slicing": baseline, "read_resp": ours}, repeat)
    assert set(counts) == {records + 2}, set(counts)
    print(f"responses: {records:,} detail records, {len(data) / 1e6:.0f} MB")
    base = results["plain slicing"]
    for name, seconds in results.items():
        print(
            f"  {name:28} {seconds:7.2f} s {records / seconds:12,.0f} records/s  "
            f"ratio to slicing {base / seconds:.2f}"
        )
    return results


# ------------------------------------------------------------------------ memory

_CASES = ("baseline", "kmm", "kmm-engine", "resp", "kmm-json")


def _child(case: str, path: str) -> int:
    """Read *path* record by record and print the peak resident size in KiB."""
    import resource

    import attrs

    from emma_osplus._csv import read_csv
    from emma_osplus._jsonview import iter_json_view
    from emma_osplus._resp import read_resp
    from emma_osplus._subscribers import KMM, read_subscriber_list

    with open(path, "rb") as f:
        items: Iterable[object] = ()
        if case == "kmm":
            items = read_subscriber_list(f, "KMM", encoding="windows-1252")
        elif case == "kmm-engine":
            items = read_csv(f, attrs.evolve(KMM, checks=()), encoding="windows-1252")
        elif case == "resp":
            items = read_resp(f)
        elif case == "kmm-json":
            with open(os.devnull, "w", encoding="utf-8") as sink:
                iter_json_view(f, kind="KMM", encoding="windows-1252").write_json(sink)
        for _ in items:
            pass
    print(_high_water_kib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    return 0


def _high_water_kib(fallback: int) -> int:
    """The peak resident size of this process in KiB: ``VmHWM`` where Linux has it
    (``ru_maxrss`` keeps the parent's peak across ``fork``/``exec``), else *fallback*."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return fallback


def _peak(case: str, path: Path) -> int:
    done = subprocess.run(
        [sys.executable, __file__, "--child", case, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1])


def bench_memory(small: int, large: int) -> dict[str, tuple[int, int]]:
    if sys.platform == "win32":  # pragma: no cover
        print("peak memory: needs the resource module (not on Windows)")
        return {}
    results: dict[str, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as folder:
        paths: dict[tuple[str, int], Path] = {}
        for rows in (small, large):
            for what, make in (("kmm", subscriber_list), ("resp", responses)):
                path = Path(folder) / f"{what}_{rows}"
                with path.open("wb") as f:
                    for chunk in make(rows):
                        f.write(chunk)
                paths[(what, rows)] = path
        print(
            f"peak memory (VmHWM of a process that reads the file from disk), {small:,} vs {large:,} rows:"
        )
        for case in _CASES:
            source = "resp" if case == "resp" else "kmm"
            a = _peak(case, paths[(source, small)])
            b = _peak(case, paths[(source, large)])
            results[case] = (a, b)
            growth = (b - a) / a * 100
            verdict = (
                ""
                if case == "baseline"
                else ("  within +20 %" if growth <= 20 else "  MORE than +20 %")
            )
            print(
                f"  {case:12} {a / 1024:8.1f} MiB -> {b / 1024:8.1f} MiB  ({growth:+6.1f} %){verdict}"
            )
    return results


def main(argv: list[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["--child"]:
        return _child(args_list[1], args_list[2])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--resp-records", type=int, default=1_000_000)
    parser.add_argument("--memory-rows", type=int, nargs=2, default=(100_000, 1_000_000))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-memory", action="store_true", help="no memory measurement")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="100 000 rows and records, 10 000 vs 100 000 for memory",
    )
    args, _ = parser.parse_known_args(args_list)
    if args.quick:
        args.rows, args.resp_records, args.memory_rows = 100_000, 100_000, (10_000, 100_000)
    print(f"machine: {machine()}")
    bench_lists(args.rows, args.repeat)
    bench_resp(args.resp_records, args.repeat)
    if not args.skip_memory:
        bench_memory(*args.memory_rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
