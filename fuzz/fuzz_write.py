"""Fuzz the writers through the JSON view (atheris, coverage-guided).

An input is a JSON text.  The writer must refuse a view only with a
:class:`~emma_osplus._jsonview.JsonViewError` or a :class:`~emma_osplus.MessageError`, and
what it writes must read back under the view's kind without an error and write the same bytes
again.  (This found a ``VIAM`` view holding a ``vreku`` control file being written.)

Run ``nox -s fuzz -- write [libFuzzer options]`` or, with atheris installed,
``python fuzz/fuzz_write.py CORPUS_DIR -max_len=20000``; an empty or missing corpus folder is
seeded from the golden views.  Most mutations of a JSON text are not JSON;
``tests/test_jsonview.py`` has a property test that changes values of the golden views instead.
"""

from __future__ import annotations

import io
import json

import atheris

with atheris.instrument_imports():
    from _seeds import fuzz

    from emma_osplus import MessageError
    from emma_osplus._jsonview import REFERENCE_1, JsonViewError


def one_input(data: bytes) -> None:
    try:
        view = json.loads(data)
    except ValueError:
        return
    try:
        written = REFERENCE_1.from_json_view(view)
    except (JsonViewError, MessageError):
        return
    kind = view["kind"]
    stream = REFERENCE_1.iter_json_view(io.BytesIO(written), kind=kind)
    stream.write_json(io.StringIO())
    assert not stream.errors, (kind, written[:300])
    again = REFERENCE_1.from_json_view(REFERENCE_1.to_json_view(written, kind=kind))
    assert again == written, (kind, written[:300], again[:300])


if __name__ == "__main__":
    fuzz(one_input, views=True)
