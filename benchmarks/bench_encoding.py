"""Encoding detection speed against a plain ``bytes.decode("cp1252")``.

Run ``python benchmarks/bench_encoding.py [--mb N] [--quick]``.  The input is about N MB
(default 50) of German CSV text in four variants: pure ASCII, windows-1252 (umlauts, ``€``,
``„“``), UTF-8, and windows-1252 whose only non-ASCII byte is the very last one (the
detector must look at everything).  For each, ``detect_encoding`` (the whole input) and the
streaming :class:`~emma_osplus._encoding.EncodingDetector` fed 1 MiB chunks are compared with
the baseline, a plain ``data.decode("cp1252")`` of the same bytes; the ratio is baseline time
/ detection time (above 1: detection is cheaper than one decode).
"""

from __future__ import annotations

import argparse
import time

LINE = "0000004711;anna.schmidt@example.de;Frau;Dr.;Anna;Schmidt;01.02.1980;Neumarkt\r\n"
GERMAN = "0000004712;joerg@example.de;Herr;;Jörg;Weiß;„Groß“ – 5 €;Straße am Bäckerweg\r\n"


def inputs(mb: float) -> dict[str, bytes]:
    """The four inputs of about *mb* megabytes."""
    n = int(mb * 1e6 / (len(LINE) + len(GERMAN)))
    ascii_text = LINE * (2 * n)
    german = (LINE + GERMAN) * n
    return {
        "ascii": ascii_text.encode("ascii"),
        "windows-1252": german.encode("cp1252"),
        "utf-8": german.encode("utf-8"),
        "late byte": ascii_text.encode("ascii") + "ü".encode("cp1252"),
    }


def _best(fn: object, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    from emma_osplus._encoding import EncodingDetector, detect_encoding

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2 MB, one run")
    args, _ = parser.parse_known_args(argv)
    mb, repeat = (2.0, 1) if args.quick else (args.mb, args.repeat)

    def streaming(data: bytes) -> None:
        detector = EncodingDetector()
        view = memoryview(data)
        for start in range(0, len(view), 1 << 20):
            detector.feed(view[start : start + (1 << 20)])
        detector.close()

    print(f"{'input':14s} {'MB':>6s} {'detected':>14s} {'decode MB/s':>12s} "
          f"{'detect MB/s':>12s} {'ratio':>6s} {'stream MB/s':>12s} {'ratio':>6s}")  # fmt: skip
    for name, data in inputs(mb).items():
        size = len(data) / 1e6
        result = detect_encoding(data)
        base = _best(lambda data=data: data.decode("cp1252"), repeat)
        whole = _best(lambda data=data: detect_encoding(data), repeat)
        stream = _best(lambda data=data: streaming(data), repeat)
        print(
            f"{name:14s} {size:6.1f} {result.name:>14s} {size / base:12.0f} "
            f"{size / whole:12.0f} {base / whole:6.2f} {size / stream:12.0f} {base / stream:6.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
