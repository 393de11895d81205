"""Fuzz every reader through the JSON view (atheris, coverage-guided).

An input is one byte that picks the kind (``KINDS``) and the file's bytes.  The reader must
never raise anything but a :class:`~emma_osplus.MessageError`; when the file reads without an
error, writing its view and reading and writing that again must give the same bytes.

Run ``nox -s fuzz -- read [libFuzzer options]`` or, with atheris installed,
``python fuzz/fuzz_read.py CORPUS_DIR -max_len=4096``; an empty or missing corpus folder is
seeded from the golden files.
"""

from __future__ import annotations

import io

import atheris

with atheris.instrument_imports():
    from _seeds import KINDS, fuzz

    from emma_osplus import MessageError
    from emma_osplus._jsonview import REFERENCE_1


def one_input(data: bytes) -> None:
    if not data:
        return
    kind = KINDS[data[0] % len(KINDS)]
    body = data[1:]
    try:
        stream = REFERENCE_1.iter_json_view(io.BytesIO(body), kind=kind)
        stream.write_json(io.StringIO())
    except MessageError:
        return
    if stream.errors:
        return
    written = REFERENCE_1.from_json_view(REFERENCE_1.to_json_view(body, kind=kind))
    again = REFERENCE_1.from_json_view(REFERENCE_1.to_json_view(written, kind=kind))
    assert again == written, (kind, written[:300], again[:300])


if __name__ == "__main__":
    fuzz(one_input, views=False)
