"""The baselines the benchmarks race our readers against: what a plain program does with the
same bytes, streaming them as our readers do.

Both read through :class:`io.TextIOWrapper` (what ``open(path, encoding=..., newline="")``
gives), so neither decodes the whole file into one string.  That matters for the figures:
decoding 200–400 MB at once makes the operating system hand the process a gigabyte of fresh
pages, and the time spent on that varied from 1 to 4.5 seconds between runs of the same
program, far more than the differences being measured.

>>> csv_reader(b"A;B\\r\\n1;2\\r\\n"), slicing(b"")
(2, 0)
"""

from __future__ import annotations

import csv
import io

from emma_osplus._resp import RESP_LAYOUT

#: The (start, stop) slices of every field of each RESP record type, by the type's letter.
_SLICES = {
    record_type.code: tuple((f.start - 1, f.stop) for f in record_type.fields)
    for record_type in RESP_LAYOUT.record_types
}


def csv_reader(data: bytes) -> int:
    """The rows (header included) of a plain ``csv.reader`` over *data* (windows-1252,
    ``;``): lists of strings."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding="cp1252", newline="")
    n = 0
    for _row in csv.reader(text, delimiter=";"):
        n += 1
    return n


def slicing(data: bytes) -> int:
    """The records of a ``RESP`` file *data*: each line decoded, every field of its record
    type sliced into a tuple."""
    slices = _SLICES
    n = 0
    for line in io.TextIOWrapper(io.BytesIO(data), encoding="cp1252", newline=""):
        fields = tuple(line[a:b] for a, b in slices[line[0]])
        n += len(fields) > 0
    return n
