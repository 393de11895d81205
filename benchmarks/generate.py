"""Realistic interface files of any size, for benchmarks and load tests.

``python benchmarks/generate.py kmm --rows 1000000 -o kmm.csv`` writes a subscriber list of
15 columns (the known ones and a personalisation field) in windows-1252: umlauts in names and
streets, ``€`` and ``„“`` in the free field, some quoted fields (a ``;`` or ``"`` inside),
salutations, dates, advisors with pictures, distinct customer numbers and addresses.
``python benchmarks/generate.py resp --records 1000000 -o resp.txt`` writes a responses file
with every response code, bounces with RFC 3463 codes, and a correct trailer.

Both are generated as a stream of chunks (:func:`subscriber_list` and :func:`responses`), so
files of any size take no more memory than one chunk; the content is deterministic.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

HEADER = (
    "KUNDENNUMMER;EMAIL;ANREDE;TITEL;VORNAME;NACHNAME;GEBURTSDATUM;BERATER_NR;BERATER_NAME;"
    "BERATER_TELEFON;BERATER_EMAIL;BERATERBILD;FAKSIMILE;ANLASS_DATUM;LIEBLINGSFILIALE\r\n"
)
_FIRST = ("Anna", "Jörg", "Bärbel", "Zoë", "Björn", "Günther", "Renée", "Max", "Ömer", "Jürgen")
_LOCAL = (
    "anna",
    "joerg",
    "baerbel",
    "zoe",
    "bjoern",
    "guenther",
    "renee",
    "max",
    "oemer",
    "juergen",
)
_LAST = ("Schmidt", "Weiß", "Groß", "Öztürk", "Bäcker", "Hoffmann", "Krüger", "Meier", "Müller")
_LAST_ASCII = (
    "schmidt",
    "weiss",
    "gross",
    "oeztuerk",
    "baecker",
    "hoffmann",
    "krueger",
    "meier",
    "mueller",
)
_SALUTATION = ("Frau", "Herr", "Divers", "Firma", "")
_TITLE = ("", "", "", "Dr.", "", "Prof. Dr.", "", "")
_BRANCH = (
    "Neumarkt",
    "Altstadt",
    "Hauptstelle",
    '"Am Markt; Süd"',
    "",
    '"Filiale ""Bahnhof"""',
    "Zinsaktion 2,5 € Bonus",
    "„Straße am Bäckerweg“",
)
_DOMAINS = ("example.de", "sparkasse-musterstadt.de", "mail.example.com")


def _domain(i: int) -> str:
    """One address in 50 has an internationalised domain."""
    return "bücher.example" if i % 50 == 49 else _DOMAINS[i % 3]


def subscriber_list(rows: int, *, chunk_rows: int = 10_000) -> Iterator[bytes]:
    """A ``KMM`` subscriber list of *rows* records, windows-1252 with CRLF, in chunks."""
    yield HEADER.encode("cp1252")
    batch: list[str] = []
    for i in range(rows):
        advisor = i % 40
        batch.append(
            f"{1_000_000 + i:010d};{_LOCAL[i % 10]}.{_LAST_ASCII[i % 9]}"
            f".{i}@{_domain(i)};{_SALUTATION[i % 5]};{_TITLE[i % 8]};{_FIRST[i % 10]};"
            f"{_LAST[(i // 10) % 9]};{1 + i % 28:02d}.{1 + i % 12:02d}.{1940 + i % 60};"
            f"{advisor + 100};Berater {_LAST[advisor % 9]};0911 {123400 + advisor};"
            f"berater{advisor}@sparkasse-musterstadt.de;berater_{advisor:04d}.jpg;"
            f"faks_{advisor:04d}.png;{1 + i % 28:02d}.11.2026;{_BRANCH[i % 8]}\r\n"
        )
        if len(batch) >= chunk_rows:
            yield "".join(batch).encode("cp1252")
            batch.clear()
    if batch:
        yield "".join(batch).encode("cp1252")


_REACTIONS = (
    ("VS", "", ""),
    ("OE", "", ""),
    ("OE", "", ""),
    ("KL", "", "link-17"),
    ("AB", "", "LISTUNSUB"),
    ("HB", "5.1.1", "550 5.1.1 user unknown"),
    ("SB", "4.2.2", "452 4.2.2 mailbox full – später"),
    ("ZH", "", "SPERRLISTE"),
)


def responses(
    records: int, *, blz: str = "37050198", chunk_records: int = 10_000
) -> Iterator[bytes]:
    """A ``RESP`` file of *records* detail records (400 characters + CRLF each), in chunks."""
    yield (f"A{blz}20261122093000{1:06d}01".ljust(400) + "\r\n").encode("cp1252")
    total = 0
    batch: list[str] = []
    for i in range(records):
        customer = 1_000_000 + i % 500_000
        total += customer
        code, status, detail = _REACTIONS[i % len(_REACTIONS)]
        email = f"{_LOCAL[i % 10]}.{i % 500_000}@{_domain(i)}"
        batch.append(
            f"R{customer:010d}{'K2026001':<20}{'KMM':<4}{code}"
            f"2026112{1 + i % 9}{i % 24:02d}{i % 60:02d}{(i * 7) % 60:02d}{'M-2026-11':<20}"
            f"{email:<254}{status:<10}{detail:<40}{f'evt-{i:012d}':<25}\r\n"
        )
        if len(batch) >= chunk_records:
            yield "".join(batch).encode("cp1252")
            batch.clear()
    if batch:
        yield "".join(batch).encode("cp1252")
    count, checksum = records, total % 10**17
    yield (f"E{blz}{count:010d}{checksum:017d}".ljust(400) + "\r\n").encode("cp1252")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["kmm", "resp"])
    parser.add_argument("--rows", "--records", type=int, default=1_000_000, dest="rows")
    parser.add_argument("-o", "--output", default="-", help="file to write ('-': stdout)")
    args = parser.parse_args(argv)
    chunks = subscriber_list(args.rows) if args.what == "kmm" else responses(args.rows)
    if args.output == "-":
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        return 0
    with open(args.output, "wb") as f:
        for chunk in chunks:
            f.write(chunk)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
