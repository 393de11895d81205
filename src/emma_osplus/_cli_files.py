"""The ``inspect`` and ``write`` subcommands: interface files and their JSON view.

``emma-osplus inspect PATH [--kind KIND] [--encoding NAME] [--json] [--messages N]`` reads a
file of any kind and prints a summary for support staff — kind, encoding and how it was
found, counts of good and rejected records, errors and warnings, the first messages with line
and field (email addresses masked) — or, with ``--json``, its JSON view
(:mod:`emma_osplus._jsonview`).  The kind comes from the file name unless ``--kind`` is given;
``--encoding`` declares the encoding (used strictly, as a manifest's would be).

``emma-osplus write JSON_PATH [-o OUT]`` turns a JSON view (``-``: standard input) into the
canonical file, written to *OUT* or to standard output.

Exit status (FORMATS.md): 0 without errors (warnings allowed), 1 with errors, 2 when the file
could not be read at all or the call was wrong — a missing path, a directory, a name off the
grammar without ``--kind`` (E108), an unknown encoding name, text that is not a JSON view.  A
broken or hostile file never ends in a traceback.

>>> import argparse, io, os, tempfile
>>> parser = argparse.ArgumentParser(prog="emma-osplus")
>>> register(parser.add_subparsers())
>>> folder = tempfile.mkdtemp()
>>> path = os.path.join(folder, "37050198_IAM_I2026007_20261122093000_0003.csv")
>>> with open(path, "wb") as f:
...     _ = f.write(b"KUNDENNUMMER;EMAIL\\r\\n4711;anna.schmidt@example.de\\r\\n12x;b@example.de\\r\\n")
>>> out = io.StringIO()
>>> args = parser.parse_args(["inspect", path])
>>> args.func(args, out, io.StringIO())
1
>>> print(out.getvalue(), end="")
file      37050198_IAM_I2026007_20261122093000_0003.csv
kind      IAM (subscriber list of a delivery), profile reference-1
encoding  utf-8 (found as utf-8, confidence 1.0)
header    2 columns: KUNDENNUMMER, EMAIL
records   1 good, 1 rejected
messages  1 error, 0 warnings
  E202, line 3, field KUNDENNUMMER: Ungültige Kundennummer ('12x': ...)
result    errors (exit status 1)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any, BinaryIO, TextIO

from ._encoding import EncodingGuess, guess_foreign_encoding, normalise_encoding
from ._errors import FileNameError, MessageError
from ._filenames import FILE_KINDS
from ._jsonview import REFERENCE_1, JsonViewError, JsonViewStream, Profile, dumps, loads
from ._messages import Message, mask_addresses

__all__ = ["register", "run_inspect", "run_write"]

_PROFILE: Profile = REFERENCE_1


def register(subparsers: Any) -> None:
    """Add ``inspect`` and ``write`` to the ``emma-osplus`` command line."""
    inspect = subparsers.add_parser(
        "inspect",
        help="read an interface file and summarise it, or print its JSON view",
        description=(
            "Read an interface file of any kind and print a summary (kind, encoding, counts, "
            "the first messages) or, with --json, its JSON view.  Exit status: 0 without "
            "errors, 1 with errors, 2 when the file could not be read at all or the call "
            "was wrong."
        ),
    )
    inspect.add_argument("path", metavar="PATH", help="the file")
    inspect.add_argument(
        "--kind",
        choices=sorted(_PROFILE.kinds),
        help="the kind of the file (default: from its name)",
    )
    inspect.add_argument(
        "--encoding",
        metavar="NAME",
        help="declare the encoding (used strictly; default: detect it)",
    )
    inspect.add_argument("--json", action="store_true", help="print the JSON view")
    inspect.add_argument(
        "--messages",
        type=int,
        default=10,
        metavar="N",
        help="how many messages the summary lists (default: 10)",
    )
    inspect.set_defaults(func=run_inspect)

    write = subparsers.add_parser(
        "write",
        help="write the canonical file of a JSON view",
        description=(
            "Serialise a JSON view (as 'inspect --json' prints it) to the canonical bytes of "
            "its file.  Exit status: 0 when written, 1 when the data break a rule of the "
            "format, 2 when the input is not a JSON view or cannot be read or written."
        ),
    )
    write.add_argument("json_path", metavar="JSON_PATH", help="the JSON view ('-': standard input)")
    write.add_argument(
        "-o", "--output", metavar="OUT", help="where to write the file (default: standard output)"
    )
    write.set_defaults(func=run_write)


def _say(stream: TextIO, text: str) -> None:
    stream.write(mask_addresses(text) + "\n")


def _fail(stderr: TextIO, text: str) -> int:
    _say(stderr, f"emma-osplus: {text}")
    return 2


def _failure_view(message: Message) -> dict[str, Any]:
    """What ``inspect --json`` prints when the kind of a file cannot be known: the view's
    keys, ``kind`` null and the message saying why."""
    return {
        "kind": None,
        "profile": _PROFILE.name,
        "encoding": None,
        "header": None,
        "records": [],
        "trailer": None,
        "document": None,
        "messages": [_PROFILE.converter.unstructure(message)],
    }


# --------------------------------------------------------------------------------------------
# inspect


def run_inspect(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``emma-osplus inspect``; returns the exit status."""
    path: str = args.path
    encoding: str | None = args.encoding
    if encoding is not None:
        try:
            encoding = normalise_encoding(encoding)
        except MessageError as exc:
            return _fail(stderr, f"--encoding: {exc.message.describe()}")
    if args.messages < 0:
        return _fail(stderr, "--messages: give a number of 0 or more")
    if os.path.isdir(path):
        return _fail(stderr, f"{path}: is a directory, not a file")
    name = os.path.basename(path)
    try:
        kind = _PROFILE.kind_for(args.kind, name)
    except FileNameError as exc:
        if args.json:
            stdout.write(dumps(_failure_view(exc.message)))
        _say(stderr, f"emma-osplus: {name}: {exc.message.describe()}")
        _say(stderr, "emma-osplus: the kind cannot be told from this name: give it with --kind")
        return 2
    try:
        stream_file = open(path, "rb")  # noqa: SIM115 - closed below, after streaming
    except OSError as exc:
        return _fail(stderr, f"{path}: cannot read it: {exc.strerror or exc}")
    with stream_file:
        try:
            stream = _PROFILE.iter_json_view(stream_file, kind=kind, encoding=encoding)
            if args.json:
                stream.write_json(stdout)
                return 1 if stream.errors else 0
            return _summary(stream, name, args.messages, stdout, _hinter(stream_file))
        except MessageError as exc:  # only a wrong call can get here (e.g. --encoding on XML)
            return _fail(stderr, f"{name}: {exc.message.describe()}")
        except BrokenPipeError:
            raise  # the reader of our output went away (`| head`): see _cli.main
        except OSError as exc:
            return _fail(stderr, f"{path}: cannot read it: {exc.strerror or exc}")
        except Exception as exc:  # a bug, not the file's fault: report it without a traceback
            return _fail(
                stderr,
                f"{name}: internal error while reading ({type(exc).__name__}: {exc}); "
                "please report it",
            )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _hinter(stream_file: BinaryIO) -> Callable[[str | None], EncodingGuess | None]:
    """chardet's guess for the file (read again from its start), given the encoding used."""

    def hint(used: str | None) -> EncodingGuess | None:
        try:
            stream_file.seek(0)
        except OSError:  # a pipe: what was read is gone, and no hint is worth failing for
            return None
        return guess_foreign_encoding(stream_file, used)

    return hint


#: The codes after which ``inspect`` asks chardet what the bytes might be: undecodable
#: bytes, and required columns or record types missing (what a file in UTF-16 without a
#: byte-order mark, read as UTF-8 or windows-1252, looks like).
_HINT_CODES = frozenset({"E101", "E107"})


def _summary(
    stream: JsonViewStream,
    name: str,
    limit: int,
    out: TextIO,
    hint: Callable[[str | None], EncodingGuess | None] | None = None,
) -> int:
    shown: list[Message] = []
    suspicious = False
    for event in stream:
        if isinstance(event, Message):
            suspicious = suspicious or event.code in _HINT_CODES
            if len(shown) < limit:
                shown.append(event)
    kind = stream.kind
    family = _PROFILE.codec(kind).family
    content = FILE_KINDS[kind].content if kind in FILE_KINDS else kind
    _say(out, f"file      {name}")
    _say(out, f"kind      {kind} ({content}), profile {_PROFILE.name}")
    enc = stream.encoding
    if enc is None:
        _say(out, "encoding  unknown (the bytes could not be decoded)")
    else:
        _say(out, f"encoding  {enc.name} (found as {enc.source}, confidence {enc.confidence})")
    if hint is not None and (suspicious or enc is None):
        guess = hint(None if enc is None else enc.name)
        if guess is not None:
            _say(out, f"hint      {guess.describe()}")
    header = stream.header
    if family == "csv":
        if header is None:
            _say(out, "header    not readable")
        else:
            columns = header.get("columns", [])
            _say(out, f"header    {_plural(len(columns), 'column')}: {', '.join(columns)}")
    elif family == "fixed":
        if header is None:
            _say(out, "header    missing or rejected")
        else:
            _say(out, "header    " + ", ".join(f"{k} {v}" for k, v in header.items()))
    if family == "xml":
        _say(out, "document  " + ("read" if stream.document is not None else "not usable"))
    else:
        _say(out, f"records   {stream.records} good, {stream.rejected} rejected")
    if family == "fixed":
        trailer = stream.trailer
        if trailer is None:
            _say(out, "trailer   missing or rejected")
        else:
            _say(out, "trailer   " + ", ".join(f"{k} {v}" for k, v in trailer.items()))
    total = stream.errors + stream.warnings
    _say(out, f"messages  {_plural(stream.errors, 'error')}, {_plural(stream.warnings, 'warning')}")
    for message in shown:
        _say(out, f"  {message.describe()}")
    if total > len(shown):
        _say(out, f"  ... and {total - len(shown)} more (all of them: --json)")
    status = 1 if stream.errors else 0
    verdict = "errors" if status else ("warnings only" if stream.warnings else "no problems")
    _say(out, f"result    {verdict} (exit status {status})")
    return status


# --------------------------------------------------------------------------------------------
# write


def _read_input(path: str) -> bytes:
    if path == "-":
        stdin = sys.stdin
        buffer = getattr(stdin, "buffer", None)
        if buffer is not None:
            data: bytes = buffer.read()
            return data
        return stdin.read().encode("utf-8")
    with open(path, "rb") as f:
        return f.read()


def run_write(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``emma-osplus write``; returns the exit status."""
    source: str = args.json_path
    where = "standard input" if source == "-" else source
    if source != "-" and os.path.isdir(source):
        return _fail(stderr, f"{source}: is a directory, not a file")
    try:
        text = _read_input(source)
    except OSError as exc:
        return _fail(stderr, f"{where}: cannot read it: {exc.strerror or exc}")
    try:
        data = _PROFILE.from_json_view(loads(text))
    except JsonViewError as exc:
        _say(stderr, f"emma-osplus: {where}: {exc.summary}")
        for problem in exc.problems:
            _say(stderr, f"  {problem}")
        return 2
    except MessageError as exc:
        _say(stderr, f"emma-osplus: {where}: the view's data break the format's rules:")
        for message in exc.messages:
            _say(stderr, f"  {message.describe()}")
        return 1
    except Exception as exc:  # a bug, not the input's fault: report it without a traceback
        return _fail(
            stderr, f"{where}: internal error ({type(exc).__name__}: {exc}); please report it"
        )
    if args.output is None:
        buffer = getattr(stdout, "buffer", None)
        if buffer is None:
            return _fail(stderr, "standard output takes no bytes here: use -o OUT")
        stdout.flush()
        buffer.write(data)
        buffer.flush()
        return 0
    if os.path.isdir(args.output):
        return _fail(stderr, f"{args.output}: is a directory, not a file")
    try:
        with open(args.output, "wb") as f:
            f.write(data)
    except OSError as exc:
        return _fail(stderr, f"{args.output}: cannot write it: {exc.strerror or exc}")
    return 0
