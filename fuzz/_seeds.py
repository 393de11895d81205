"""Seed corpora for the fuzzers, made from the golden files in ``tests/golden/files``, and
the fuzzers' common start."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

import atheris

from emma_osplus import MessageError
from emma_osplus._filenames import parse_file_name
from emma_osplus._jsonview import REFERENCE_1

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden" / "files"
#: The kinds, in the order whose index the first byte of a ``fuzz_read`` input selects.
KINDS = sorted(REFERENCE_1.kinds)


def write_seeds(folder: Path, *, views: bool) -> int:
    """Fill *folder* with seeds: each golden file behind its kind's index byte, or (*views*)
    each golden JSON view; returns how many were written."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(GOLDEN.iterdir()):
        if views != (path.suffix == ".json"):
            continue
        if views:
            data = path.read_bytes()
        else:
            try:
                kind = parse_file_name(path.name).kind
            except MessageError:  # not named like an interface file
                continue
            data = bytes([KINDS.index(kind)]) + path.read_bytes()
        (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
        count += 1
    return count


def fuzz(one_input: Callable[[bytes], None], *, views: bool) -> None:
    """Run *one_input* under libFuzzer with the command line's options; an empty or missing
    corpus folder (the first argument that is not an option) is seeded first."""
    corpus = [Path(a) for a in sys.argv[1:] if not a.startswith("-")]
    if corpus and not (corpus[0].exists() and any(corpus[0].iterdir())):
        write_seeds(corpus[0], views=views)
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
