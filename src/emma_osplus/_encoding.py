"""Encoding detection and strict decoding for the interface's text files.

FORMATS.md fixes the order of the rules:

1. a **declared** encoding (from the manifest) is used strictly; its name is normalised to one
   of ``utf-8``, ``windows-1252``, ``iso-8859-15`` or ``iso-8859-1`` (anything else is E101);
2. else a **BOM** decides (a UTF-8 BOM means UTF-8 and is reported in ``bom`` so that readers
   strip it; a UTF-16 or UTF-32 BOM names an encoding the interface does not use: E101);
3. else bytes that decode as **strict UTF-8** are UTF-8;
4. else a **statistical** choice among windows-1252, ISO-8859-15 and ISO-8859-1;
5. else windows-1252 (the **default**).

The result is a :class:`DetectedEncoding`: its ``name``, how it was found (``source``: one of
``declared``, ``bom``, ``utf-8``, ``detected``, ``default``) and how sure (``confidence``).

>>> detect_encoding("Grüße".encode("utf-8"))
DetectedEncoding(name='utf-8', source='utf-8', confidence=0.99, bom=b'')
>>> detect_encoding("„Zinsen“ – 5 €".encode("cp1252"))
DetectedEncoding(name='windows-1252', source='detected', confidence=0.95, bom=b'')
>>> detect_encoding("Preis: 10 €".encode("iso-8859-15")).name
'iso-8859-15'
>>> detect_encoding("Straße".encode("cp1252"))
DetectedEncoding(name='windows-1252', source='default', confidence=0.9, bom=b'')
>>> detect_encoding(b"\\xef\\xbb\\xbfKUNDENNUMMER")
DetectedEncoding(name='utf-8', source='bom', confidence=1.0, bom=b'\\xef\\xbb\\xbf')
>>> detect_encoding(b"abc", declared="Latin-9")
DetectedEncoding(name='iso-8859-15', source='declared', confidence=1.0, bom=b'')

**The statistical step.**  ISO-8859-1 and windows-1252 decode every byte from ``0xA0`` to
``0xFF`` to the same character, and ISO-8859-15 differs from them in eight bytes only
(``0xA4 0xA6 0xA8 0xB4 0xB8 0xBC 0xBD 0xBE``: ``€ Š š Ž ž Œ œ Ÿ`` instead of
``¤ ¦ ¨ ´ ¸ ¼ ½ ¾``).  Bytes ``0x80``–``0x9F`` are C1 control characters in both ISO encodings
and never real text there, while windows-1252 has ``€ „ “ ” – — …`` there: one of them decides
for windows-1252.  Otherwise the eight differing bytes are weighed by their neighbours:

* ``0xA4`` next to a digit (directly or across one space: ``10 €``, ``€5``) is a euro sign:
  evidence for ISO-8859-15;
* ``0xA6 0xA8 0xB8 0xBC 0xBD 0xBE`` next to a letter are letters (``Š š ž Œ œ Ÿ``): evidence for
  ISO-8859-15 (a broken bar, diaeresis, cedilla or fraction inside a word is not text);
  ``0xBC 0xBD 0xBE`` after a digit are fractions (``1½``): evidence for windows-1252;
* ``0xB4`` after a letter is the acute accent typed as an apostrophe (``geht´s``, common in
  German text): evidence for windows-1252; at the start of a word it is ``Ž``: ISO-8859-15.

The encoding with more evidence wins; ``confidence`` is ``(w + 1) / (w + l + 2)`` for ``w``
pieces of evidence for the winner and ``l`` against (at most 0.99).  A decision by C1 bytes has
confidence 0.95.  Without evidence either way windows-1252 is chosen as the ``default``:
confidence 0.9 when no differing byte occurs (all three candidates give the same text), 0.5
when some do.  ISO-8859-1 is never *detected*: wherever it decodes to real text, windows-1252
decodes to the same text, and windows-1252 can also encode ``€`` when the file is written
back.  Pure ASCII is reported as ``utf-8`` with confidence 1.0 (every candidate agrees).

**Whole input, cheaply.**  The detector looks at every byte, so a file whose only non-ASCII
byte is far in is judged right, but it does so with C-level operations: ``bytes.isascii``,
a strict incremental UTF-8 decode, ``re`` searches over bytes, and a context look only at the
rare differing bytes.  ``benchmarks/bench_encoding.py`` compares it with a plain
``bytes.decode("cp1252")``.

**Streaming.**  :class:`EncodingDetector` is fed chunks (``feed``) and answers at ``close``.
:func:`decode_source` detects on a stream and then replays it, decoded: bytes in memory are
sliced; a seekable binary file is read once to detect, rewound and read again; any other file
object or iterable of chunks is spooled to a :class:`tempfile.SpooledTemporaryFile` (in memory up
to ``spool_limit`` bytes, on disk beyond) while it is detected.  With a declared encoding
nothing is spooled.  Either way memory does not grow with the file.

>>> enc, texts = decode_source([b"KUNDENNUMMER;EMAIL\\r\\n", b"4711;b\\xfcro@x.de\\r\\n"])
>>> enc.name, "".join(texts)
('windows-1252', 'KUNDENNUMMER;EMAIL\\r\\n4711;büro@x.de\\r\\n')

**Undecodable bytes** raise :class:`~emma_osplus.DecodingError` (E101) with the byte offset
and line; nothing is replaced:

>>> detect_encoding(b"ok\\r\\nno \\xff here", declared="utf-8")
Traceback (most recent call last):
...
emma_osplus._errors.DecodingError: E101, line 2: Datei nicht dekodierbar (byte 0xff at offset 7 is not valid utf-8)
"""

from __future__ import annotations

import codecs
import itertools
import re
import tempfile
from collections.abc import Iterable, Iterator
from typing import BinaryIO, Final, Literal, TypeAlias

import attrs

from ._errors import DecodingError
from ._messages import Message

__all__ = [
    "BOM_UTF8",
    "ENCODINGS",
    "GUESS_SAMPLE",
    "DetectedEncoding",
    "EncodingDetector",
    "EncodingGuess",
    "decode",
    "decode_source",
    "detect_encoding",
    "guess_foreign_encoding",
    "iter_decode",
    "normalise_encoding",
]

#: The four encodings of the interface, by their names in the JSON view → Python codec.
ENCODINGS: Final = {
    "utf-8": "utf-8",
    "windows-1252": "cp1252",
    "iso-8859-15": "iso8859-15",
    "iso-8859-1": "latin-1",
}
_BY_CODEC: Final = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "cp1252": "windows-1252",
    "iso8859-15": "iso-8859-15",
    "iso8859-1": "iso-8859-1",
    "latin-1": "iso-8859-1",
}
_ALIASES: Final = {"latin-9": "iso8859-15", "latin9": "iso8859-15", "l9": "iso8859-15"}
_SOURCES: Final = ("declared", "bom", "utf-8", "detected", "default")

BOM_UTF8: Final = codecs.BOM_UTF8
_FOREIGN_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "UTF-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)

EncodingSource: TypeAlias = Literal["declared", "bom", "utf-8", "detected", "default"]
Source: TypeAlias = "bytes | bytearray | memoryview | BinaryIO | Iterable[bytes]"

#: Default size of the chunks read from a file object and of the decoded text pieces.
CHUNK_SIZE: Final = 1 << 20
#: Default spool size kept in memory before a spooled stream moves to a temporary file.
SPOOL_LIMIT: Final = 8 << 20

_C1_BYTES = bytes(range(0x80, 0xA0))
_DIFFERING_BYTES = b"\xa4\xa6\xa8\xb4\xb8\xbc\xbd\xbe"
_UNDEFINED_BYTES = b"\x81\x8d\x8f\x90\x9d"  # not assigned in windows-1252
_COMMON = bytes(b for b in range(256) if b not in _C1_BYTES and b not in _DIFFERING_BYTES)
_NOT_C1 = bytes(b for b in range(256) if b not in _C1_BYTES)
_NOT_UNDEFINED = bytes(b for b in range(256) if b not in _UNDEFINED_BYTES)
_UNDEFINED = [bytes((b,)) for b in _UNDEFINED_BYTES]
_DIFFERING = re.compile(rb"[\xa4\xa6\xa8\xb4\xb8\xbc\xbd\xbe]")
_LETTER_LIKE_15 = frozenset(b"\xa6\xa8\xb8\xbc\xbd\xbe")
_FRACTIONS = frozenset(b"\xbc\xbd\xbe")
_DIGITS = frozenset(b"0123456789")
_LETTERS = frozenset(
    bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B)) + bytes(b for b in range(0xC0, 0x100) if b not in (0xD7, 0xF7))
)  # fmt: skip


def normalise_encoding(name: str) -> str:
    """The interface's name for an encoding *name* (any alias Python knows), or E101.

    >>> normalise_encoding("CP1252"), normalise_encoding("latin_1"), normalise_encoding("UTF8")
    ('windows-1252', 'iso-8859-1', 'utf-8')
    >>> normalise_encoding("ebcdic-cp-de")
    Traceback (most recent call last):
    ...
    emma_osplus._errors.DecodingError: E101: Datei nicht dekodierbar (encoding 'ebcdic-cp-de' is not one of utf-8, windows-1252, iso-8859-15, iso-8859-1)
    """
    key = name.strip().lower().replace("_", "-")
    try:
        codec = codecs.lookup(_ALIASES.get(key, key)).name
    except LookupError:
        codec = ""
    found = _BY_CODEC.get(codec)
    if found is None:
        raise DecodingError(
            Message("E101", detail=f"encoding {name!r} is not one of {', '.join(ENCODINGS)}")
        )
    return found


def _check_name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ENCODINGS:
        raise ValueError(f"unknown encoding name {value!r}")


def _check_source(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in _SOURCES:
        raise ValueError(f"unknown encoding source {value!r}")


@attrs.frozen
class DetectedEncoding:
    """What a reader decoded a file with, how it was found and how sure.

    ``name`` is one of ``utf-8``, ``windows-1252``, ``iso-8859-15``, ``iso-8859-1``;
    ``source`` one of ``declared``, ``bom``, ``utf-8``, ``detected``, ``default``;
    ``confidence`` from 0 to 1; ``bom`` the byte-order mark found at the start (to be skipped
    by readers), else ``b""``.

    >>> enc = DetectedEncoding("windows-1252", "declared", 1.0)
    >>> enc.codec, enc.as_json()
    ('cp1252', {'name': 'windows-1252', 'source': 'declared', 'confidence': 1.0})
    """

    name: str = attrs.field(validator=_check_name)
    source: str = attrs.field(validator=_check_source)
    confidence: float
    bom: bytes = b""

    @property
    def codec(self) -> str:
        """The Python codec name (``cp1252`` for ``windows-1252``)."""
        return ENCODINGS[self.name]

    def as_json(self) -> dict[str, object]:
        """The ``encoding`` object of the JSON view."""
        return {"name": self.name, "source": self.source, "confidence": self.confidence}


class _LineCounter:
    """Counts line ends (CRLF, LF or CR) over a stream of byte chunks, for error positions."""

    __slots__ = ("lines", "pending_cr")

    def __init__(self) -> None:
        self.lines = 0  # completed line ends so far
        self.pending_cr = False  # the previous chunk ended with CR

    @staticmethod
    def count(data: bytes | memoryview, pending_cr: bool = False) -> int:
        data = bytes(data)
        n = data.count(b"\n")
        cr = data.count(b"\r")
        if cr:
            n += cr - data.count(b"\r\n")
        if pending_cr and data[:1] == b"\n":
            n -= 1  # the CR of the previous chunk and this LF are one line end
        return n

    def line_at(self, chunk: bytes, pos: int) -> int:
        """The 1-based line of byte *pos* in *chunk* (the chunk being fed next)."""
        return self.lines + self.count(chunk[:pos], self.pending_cr) + 1

    def feed(self, chunk: bytes) -> None:
        if chunk:
            self.lines += self.count(chunk, self.pending_cr)
            self.pending_cr = chunk[-1:] == b"\r"


def _undecodable(name: str, offset: int, line: int | None, byte: int) -> DecodingError:
    return DecodingError(
        Message(
            "E101",
            line=line,
            detail=f"byte 0x{byte:02x} at offset {offset} is not valid {name}",
        )
    )


class EncodingDetector:
    """Detects the encoding of a byte stream fed in chunks; memory stays constant.

    ``feed(chunk)`` any number of times, then ``close()`` for the :class:`DetectedEncoding`.
    ``close`` raises :class:`~emma_osplus.DecodingError` (E101) when the chosen encoding cannot
    decode what was fed; the detector keeps no data, so that message names the byte offset
    (also in :attr:`error_offset`) but no line — :func:`detect_encoding` and
    :func:`decode_source`, which still have the bytes, add the line.
    :func:`detect_encoding` is the one-shot form.

    >>> det = EncodingDetector()
    >>> for chunk in (b"Name;Ort\\r\\n", b"J\\xfcrgen;M\\xfcnchen\\r\\n"):
    ...     det.feed(chunk)
    >>> det.close().name
    'windows-1252'
    """

    def __init__(self, declared: str | None = None) -> None:
        self._declared = None if declared is None else normalise_encoding(declared)
        self._head = b""  # the first bytes, until the BOM question is settled
        self._head_done = False
        self._bom = b""
        self._foreign_bom: str | None = None
        self._offset = 0  # bytes fed so far (after the head is settled)
        self._ascii = True
        self._utf8 = codecs.getincrementaldecoder("utf-8")("strict")
        self._utf8_pending = 0
        self._utf8_error: tuple[int, int] | None = None  # offset and value of the first bad byte
        self._c1 = 0  # number of C1 bytes (0x80-0x9F) seen, counted in the first chunk with any
        self._cp1252_error: tuple[int, int] | None = None
        self._evidence_15 = 0
        self._evidence_1252 = 0
        self._differing = 0
        self._ctx = b"\n\n"  # two judged bytes before ``_tail`` (the start counts as line ends)
        self._tail = b""  # the last bytes seen, not judged yet
        self._closed = False
        #: The offset of the byte that made :meth:`close` raise E101 (``None`` before).
        self.error_offset: int | None = None

    # -- feeding -------------------------------------------------------------------------
    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        """Examine the next *chunk* of the stream."""
        if self._closed:
            raise ValueError("feed() after close()")
        data = bytes(chunk)
        if not self._head_done:
            self._head += data
            if len(self._head) < 4:
                return
            data = self._settle_head()
        self._scan(data)

    def _settle_head(self) -> bytes:
        head, self._head, self._head_done = self._head, b"", True
        if head.startswith(BOM_UTF8):
            if self._declared in (None, "utf-8"):
                self._bom = BOM_UTF8
                self._offset = len(BOM_UTF8)
                return head[len(BOM_UTF8) :]
        elif self._declared is None:
            for bom, family in _FOREIGN_BOMS:
                if head.startswith(bom):
                    self._foreign_bom = family
                    break
        return head

    def _scan(self, data: bytes) -> None:
        if not data:
            return
        if data.isascii():
            if self._utf8_pending and self._utf8_error is None:
                self._scan_utf8(data)
            if self._declared is None:
                self._shift(data)
            self._offset += len(data)
            return
        self._ascii = False
        if self._utf8_error is None:
            self._scan_utf8(data)
        if self._declared == "windows-1252" or (self._c1 and self._declared is None):
            # the C1 question is settled: only an undefined byte still matters
            if self._cp1252_error is None:
                self._find_undefined(data)
            if self._declared is None:
                self._shift(data)
        elif self._declared is None:
            # One C-level pass keeps only the bytes that matter: C1 and the eight differing ones.
            rare = data.translate(None, _COMMON)
            if rare:
                self._rare(data, rare)
            else:
                self._shift(data)
        self._offset += len(data)

    def _find_undefined(self, data: bytes) -> None:
        """Note the first byte windows-1252 does not assign (five searches for one byte, far
        quicker than a pass that looks at every byte)."""
        found = [p for p in map(data.find, _UNDEFINED) if p >= 0]
        if found:
            pos = min(found)
            self._cp1252_error = (self._offset + pos, data[pos])

    def _rare(self, data: bytes, rare: bytes) -> None:
        if self._cp1252_error is None and rare.translate(None, _NOT_UNDEFINED):
            self._find_undefined(data)
        if self._c1 == 0:
            self._c1 = len(rare.translate(None, _NOT_C1))
        if self._c1 == 0:
            self._weigh(data)
        else:
            self._shift(data)

    def _scan_utf8(self, data: bytes) -> None:
        try:
            self._utf8.decode(data)
        except UnicodeDecodeError as exc:
            # exc.start counts from the bytes kept back from the previous chunk
            self._utf8_error = (
                self._offset - self._utf8_pending + exc.start,
                exc.object[exc.start],
            )
            return
        self._utf8_pending = len(self._utf8.getstate()[0])

    def _shift(self, data: bytes) -> None:
        """Move the context window over a chunk without differing bytes (or when C1 bytes
        have decided already)."""
        if self._c1 == 0 and self._tail.translate(None, _COMMON):
            self._weigh(data[:2])  # the waiting bytes get their right-hand context
            data = data[2:]
            if not data:
                return
        buf = self._ctx + self._tail + data[-4:]
        self._tail = buf[-2:]
        self._ctx = (b"\n\n" + buf[:-2])[-2:]

    def _weigh(self, data: bytes) -> None:
        """Collect evidence for ISO-8859-15 vs windows-1252/ISO-8859-1 (see module docs).

        Every byte is judged once, when two bytes on either side are known: the last two
        bytes of a chunk wait (``_tail``) for the next chunk or ``close``.
        """
        buf = self._ctx + self._tail + data
        for match in _DIFFERING.finditer(buf, 2, len(buf) - 2):
            self._judge(buf, match.start())
        self._tail = buf[-2:]
        self._ctx = (b"\n\n" + buf[:-2])[-2:]

    def _judge(self, buf: bytes, i: int) -> None:
        self._differing += 1
        byte, before, before2, after, after2 = (
            buf[i],
            buf[i - 1],
            buf[i - 2],
            buf[i + 1],
            buf[i + 2],
        )
        if byte == 0xA4:
            if (
                before in _DIGITS
                or after in _DIGITS
                or (before == 0x20 and before2 in _DIGITS)
                or (after == 0x20 and after2 in _DIGITS)
            ):
                self._evidence_15 += 1
        elif byte == 0xB4:
            if before in _LETTERS:
                self._evidence_1252 += 1
            elif after in _LETTERS:
                self._evidence_15 += 1
        elif byte in _FRACTIONS and before in _DIGITS:
            self._evidence_1252 += 1
        elif byte in _LETTER_LIKE_15 and (before in _LETTERS or after in _LETTERS):
            self._evidence_15 += 1

    # -- the answer ----------------------------------------------------------------------
    def close(self) -> DetectedEncoding:
        """The encoding of everything fed; E101 when that encoding cannot decode it."""
        if not self._closed:
            self._closed = True
            if not self._head_done:
                self._scan(self._settle_head())
            if self._utf8_error is None and self._utf8_pending:
                try:
                    self._utf8.decode(b"", final=True)
                except UnicodeDecodeError as exc:
                    self._utf8_error = (self._offset - self._utf8_pending, exc.object[exc.start])
            if self._declared is None and self._c1 == 0:
                self._weigh(b"\n\n")  # judge the last two bytes (their right side is the end)
        return self._result()

    def _fail(self, name: str, failure: tuple[int, int]) -> DecodingError:
        self.error_offset = failure[0]
        return _undecodable(name, failure[0], None, failure[1])

    def _result(self) -> DetectedEncoding:
        if self._declared is not None:
            if self._declared == "utf-8" and self._utf8_error is not None:
                raise self._fail("utf-8", self._utf8_error)
            if self._declared == "windows-1252" and self._cp1252_error is not None:
                raise self._fail("windows-1252", self._cp1252_error)
            return DetectedEncoding(self._declared, "declared", 1.0, self._bom)
        if self._bom:
            if self._utf8_error is not None:
                raise self._fail("utf-8", self._utf8_error)
            return DetectedEncoding("utf-8", "bom", 1.0, self._bom)
        if self._foreign_bom is not None:
            raise DecodingError(
                Message(
                    "E101",
                    line=1,
                    detail=f"the byte-order mark says {self._foreign_bom}, which the interface does not use",
                )
            )
        if self._ascii:
            return DetectedEncoding("utf-8", "utf-8", 1.0)
        if self._utf8_error is None:
            return DetectedEncoding("utf-8", "utf-8", 0.99)
        if self._c1:
            if self._cp1252_error is not None:
                raise self._fail("windows-1252", self._cp1252_error)
            return DetectedEncoding("windows-1252", "detected", 0.95)
        win, lose = self._evidence_15, self._evidence_1252
        if win > lose:
            return DetectedEncoding("iso-8859-15", "detected", _confidence(win, lose))
        if lose > win:
            return DetectedEncoding("windows-1252", "detected", _confidence(lose, win))
        return DetectedEncoding("windows-1252", "default", 0.5 if self._differing else 0.9)


def _confidence(win: int, lose: int) -> float:
    return round(min(0.99, (win + 1) / (win + lose + 2)), 2)


def detect_encoding(
    data: bytes | bytearray | memoryview, declared: str | None = None
) -> DetectedEncoding:
    """The encoding of *data* by the rules of FORMATS.md (see the module documentation).

    The whole input is examined; E101 (:class:`~emma_osplus.DecodingError`, with byte offset
    and line) when the declared or chosen encoding cannot decode it.

    >>> detect_encoding(b"x" * 100_000 + "ö".encode("cp1252")).name
    'windows-1252'
    """
    raw = data if isinstance(data, (bytes, bytearray)) else bytes(data)
    view = memoryview(raw).cast("B")
    skip_utf8 = False
    if declared is None and not _starts_with_bom(view):
        if raw.isascii():
            return DetectedEncoding("utf-8", "utf-8", 1.0)
        # Strict UTF-8 first: most non-UTF-8 files fail at their first non-ASCII byte, and a
        # UTF-8 file then needs no look at single bytes at all.
        if _valid_utf8(view):
            return DetectedEncoding("utf-8", "utf-8", 0.99)
        skip_utf8 = True
    detector = EncodingDetector(declared)
    if skip_utf8:
        detector._utf8_error = (-1, 0)  # known above; the detector need not decode again
    try:
        for start in range(0, len(view), CHUNK_SIZE):
            detector.feed(view[start : start + CHUNK_SIZE])
        return detector.close()
    except DecodingError as exc:
        raise _with_line(exc, detector, _chunks_of_bytes(view, CHUNK_SIZE)) from None


def _starts_with_bom(view: memoryview) -> bool:
    head = bytes(view[:4])
    return head.startswith(BOM_UTF8) or any(head.startswith(bom) for bom, _ in _FOREIGN_BOMS)


def _valid_utf8(view: memoryview) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        for start in range(0, len(view), CHUNK_SIZE):
            decoder.decode(view[start : start + CHUNK_SIZE])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _with_line(
    exc: DecodingError, detector: EncodingDetector, chunks: Iterable[bytes]
) -> DecodingError:
    """*exc* with the line of the detector's bad byte, counted in *chunks* (the same bytes)."""
    offset = detector.error_offset
    if offset is None or exc.message.line is not None:
        return exc
    return DecodingError(attrs.evolve(exc.message, line=_line_of(chunks, offset)))


def _line_of(chunks: Iterable[bytes], offset: int) -> int:
    """The 1-based line of the byte at *offset* of the stream *chunks*."""
    lines = _LineCounter()
    seen = 0
    for chunk in chunks:
        if seen + len(chunk) > offset:
            return lines.line_at(chunk, offset - seen)
        lines.feed(chunk)
        seen += len(chunk)
    return lines.lines + 1


def _strip_bom(chunks: Iterable[bytes], bom: bytes) -> Iterator[bytes]:
    """*chunks* without the leading *bom* (which detection found there)."""
    if not bom:
        yield from chunks
        return
    head = b""
    it = iter(chunks)
    for chunk in it:
        head += chunk
        if len(head) >= len(bom):
            break
    if head.startswith(bom):
        head = head[len(bom) :]
    if head:
        yield head
    yield from it


def iter_decode(
    chunks: Iterable[bytes], encoding: DetectedEncoding, *, count_lines: bool = True
) -> Iterator[str]:
    """Decode byte *chunks* strictly with *encoding* (skipping its BOM): text pieces.

    E101 with byte offset and line at the first undecodable byte; nothing is replaced.
    (``count_lines=False`` saves counting line ends where the bytes are known to decode; an
    error then has no line.)

    >>> enc = DetectedEncoding("utf-8", "declared", 1.0)
    >>> list(iter_decode([b"a\\xc3", b"\\xa4b"], enc))
    ['a', 'äb']
    >>> list(iter_decode([b"ab\\ncd\\xc3"], enc))
    Traceback (most recent call last):
    ...
    emma_osplus._errors.DecodingError: E101, line 2: Datei nicht dekodierbar (byte 0xc3 at offset 5 is not valid utf-8)
    """
    decoder = codecs.getincrementaldecoder(encoding.codec)("strict")
    lines = _LineCounter()
    offset = len(encoding.bom)
    pending = b""
    for chunk in _strip_bom(chunks, encoding.bom):
        if not chunk:
            continue
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            error = _decode_error(
                encoding,
                exc=exc,
                pending=pending,
                chunk=chunk,
                offset=offset,
                lines=lines,
                count_lines=count_lines,
            )
            # the text before the bad byte is good: hand it on, whatever the chunking
            good = bytes(exc.object[: exc.start]).decode(encoding.codec)
            if good:
                yield good
            raise error from None
        if text:
            yield text
        if count_lines:
            lines.feed(chunk)
        offset += len(chunk)
        pending = decoder.getstate()[0] if encoding.name == "utf-8" else b""
    try:
        text = decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _decode_error(
            encoding,
            exc=exc,
            pending=pending,
            chunk=b"",
            offset=offset,
            lines=lines,
            count_lines=count_lines,
        ) from None
    if text:
        yield text


def _decode_error(
    encoding: DetectedEncoding,
    *,
    exc: UnicodeDecodeError,
    pending: bytes,
    chunk: bytes,
    offset: int,
    lines: _LineCounter,
    count_lines: bool,
) -> DecodingError:
    absolute = offset - len(pending) + exc.start
    pos = absolute - offset
    line: int | None = lines.line_at(chunk, pos) if pos >= 0 else lines.lines + 1
    if not count_lines:
        line = None
    return _undecodable(encoding.name, absolute, line, exc.object[exc.start])


def decode(data: bytes, encoding: DetectedEncoding) -> str:
    """*data* decoded strictly with *encoding*, its BOM skipped; E101 on undecodable bytes.

    >>> decode(b"\\xef\\xbb\\xbfK\\xc3\\xb6ln", detect_encoding(b"\\xef\\xbb\\xbfK\\xc3\\xb6ln"))
    'Köln'
    """
    return "".join(iter_decode([bytes(data)], encoding))


def _chunks_of_file(stream: BinaryIO, size: int) -> Iterator[bytes]:
    while True:
        chunk = stream.read(size)
        if not chunk:
            return
        yield chunk


def _chunks_of_bytes(data: bytes | bytearray | memoryview, size: int) -> Iterator[bytes]:
    view = memoryview(data).cast("B")
    for start in range(0, len(view), size):
        yield bytes(view[start : start + size])


def _is_seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def source_chunks(source: Source, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The bytes of *source* (bytes, a binary file object or an iterable of chunks) in chunks."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _chunks_of_bytes(source, chunk_size)
    if hasattr(source, "read"):
        return _chunks_of_file(source, chunk_size)  # type: ignore[arg-type]
    return (bytes(chunk) for chunk in source)


def decode_source(
    source: Source,
    declared: str | None = None,
    *,
    chunk_size: int = CHUNK_SIZE,
    spool_limit: int = SPOOL_LIMIT,
) -> tuple[DetectedEncoding, Iterator[str]]:
    """Detect the encoding of *source* and return it with an iterator of decoded text pieces.

    *source* is ``bytes``, a binary file object or an iterable of ``bytes`` chunks.  With a
    *declared* encoding the stream is decoded as it is read (E101 where an undecodable byte
    is reached).  Without, the whole stream is examined first — bytes in memory directly, a
    seekable file by reading it and seeking back to where it was, anything else by spooling
    it to a temporary file (in memory up to *spool_limit* bytes) — and E101 is raised here,
    before any text is returned.  The BOM is never part of the text.
    """
    if declared is not None:
        name = normalise_encoding(declared)
        chunks = source_chunks(source, chunk_size)
        first = b""
        for chunk in chunks:
            first += chunk
            if len(first) >= len(BOM_UTF8):
                break
        bom = BOM_UTF8 if name == "utf-8" and first.startswith(BOM_UTF8) else b""
        encoding = DetectedEncoding(name, "declared", 1.0, bom)
        return encoding, iter_decode(itertools.chain((first,), chunks), encoding)
    if isinstance(source, (bytes, bytearray, memoryview)):
        encoding = detect_encoding(source)
        return encoding, iter_decode(
            _chunks_of_bytes(source, chunk_size), encoding, count_lines=False
        )
    detector = EncodingDetector()
    if hasattr(source, "read") and _is_seekable(source):  # type: ignore[arg-type]
        stream: BinaryIO = source  # type: ignore[assignment]
        start = stream.tell()
        try:
            for chunk in _chunks_of_file(stream, chunk_size):
                detector.feed(chunk)
            encoding = detector.close()
        except DecodingError as exc:
            stream.seek(start)
            raise _with_line(exc, detector, _chunks_of_file(stream, chunk_size)) from None
        stream.seek(start)
        return encoding, iter_decode(
            _chunks_of_file(stream, chunk_size), encoding, count_lines=False
        )
    spool = tempfile.SpooledTemporaryFile(max_size=spool_limit)  # noqa: SIM115 - closed by _replay
    try:
        for chunk in source_chunks(source, chunk_size):
            detector.feed(chunk)
            spool.write(chunk)
        encoding = detector.close()
    except DecodingError as exc:
        spool.seek(0)
        with spool:
            raise _with_line(exc, detector, _chunks_of_file(spool, chunk_size)) from None  # type: ignore[arg-type]
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return encoding, iter_decode(_replay(spool, chunk_size), encoding, count_lines=False)


def _replay(spool: tempfile.SpooledTemporaryFile[bytes], size: int) -> Iterator[bytes]:
    with spool:
        while True:
            chunk = spool.read(size)
            if not chunk:
                return
            yield chunk


# --------------------------------------------------------------------------------------------
# A hint for bytes in an encoding the interface does not use

#: How many bytes chardet is shown for :func:`guess_foreign_encoding`.
GUESS_SAMPLE: Final = 64 << 10
_NOT_PLAIN = re.compile(rb"[\x00\x80-\xff]")


@attrs.frozen
class EncodingGuess:
    """:func:`guess_foreign_encoding`'s answer: chardet's ``name`` for the bytes and its
    ``confidence`` (0–1; low for single-byte code pages even when right: read it as a hint),
    ``interface_name`` when that is one of the interface's four encodings, and whether the
    bytes hold ``nul`` bytes (UTF-16 or UTF-32 without a byte-order mark)."""

    name: str
    confidence: float
    interface_name: str | None = None
    nul: bool = False

    def describe(self) -> str:
        """One line for support staff.

        >>> EncodingGuess("utf-16-le", 0.95, nul=True).describe()
        'the bytes look like utf-16-le to chardet (confidence 0.95), which the interface does not use; they hold NUL bytes'
        """
        if self.interface_name is not None:
            what = f"{self.interface_name}, one of the interface's encodings"
        else:
            what = "which the interface does not use"
        nul = "; they hold NUL bytes" if self.nul else ""
        return (
            f"the bytes look like {self.name} to chardet (confidence {self.confidence:.2f}), "
            f"{what}{nul}"
        )


def _first_sample(chunks: Iterable[bytes], size: int) -> bytes:
    """*size* bytes of *chunks* from the first NUL or non-ASCII byte (a little before it, for
    context); empty when there is none."""
    sample = b""
    tail = b""
    for chunk in chunks:
        if sample:
            sample += chunk[: size - len(sample)]
        else:
            found = _NOT_PLAIN.search(chunk)
            if found is None:
                tail = (tail + chunk[-256:])[-256:]  # not a copy of the whole chunk
                continue
            start = found.start()
            sample = (tail + chunk)[max(0, len(tail) + start - 256) :][:size]
        if len(sample) >= size:
            break
    return sample


def _decodes(sample: bytes, codec: str) -> bool:
    """Whether *sample* decodes with *codec*, but for a character cut by the sample's end."""
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        decoder.decode(sample)
    except UnicodeDecodeError:
        return False
    return True


def guess_foreign_encoding(
    source: Source, used: str | None = None, *, sample_size: int = GUESS_SAMPLE
) -> EncodingGuess | None:
    """chardet's guess at the encoding of bytes that do not look like the interface's text:
    a hint for support staff when a file could not be decoded (E101) or reads as garbage.
    Never used to read anything: the interface reads its four encodings only.

    The sample is *sample_size* bytes from the first NUL or non-ASCII byte of *source* (bytes,
    a binary file object or an iterable of chunks; a file is read from where it is, up to
    that sample).  ``None`` when there is no such byte, when the sample decodes with the
    encoding *used* (an interface name; ``None``: nothing could decode the file) and holds no
    NUL byte, or when chardet has no guess or guesses *used* itself.

    >>> guess_foreign_encoding("Name;Ort\\r\\nJörg;Köln\\r\\n".encode("utf-16-le"), "utf-8").name
    'utf-16-le'
    >>> guess_foreign_encoding("Jörg".encode("cp1252"), "windows-1252") is None
    True
    >>> guess_foreign_encoding(b"plain ASCII") is None
    True
    """
    import chardet  # noqa: PLC0415 - only for this hint, not on any reading path

    sample = _first_sample(source_chunks(source), sample_size)
    if not sample:
        return None
    nul = b"\x00" in sample
    used = None if used is None else normalise_encoding(used)
    if used is not None and not nul and _decodes(sample, ENCODINGS[used]):
        return None
    found = chardet.detect(sample)
    name = found.get("encoding")
    if not name:
        return None
    try:
        interface = normalise_encoding(name)
    except DecodingError:
        interface = None
    if interface is not None and interface == used:
        return None
    return EncodingGuess(str(name), float(found.get("confidence") or 0.0), interface, nul)
