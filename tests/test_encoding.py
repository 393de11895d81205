"""Encoding detection and strict decoding (FORMATS.md, "Common rules", Encodings)."""

from __future__ import annotations

import codecs
import io
import itertools
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emma_osplus import DecodingError, Message
from emma_osplus._encoding import (
    BOM_UTF8,
    DetectedEncoding,
    EncodingDetector,
    EncodingGuess,
    _first_sample,
    decode,
    decode_source,
    detect_encoding,
    guess_foreign_encoding,
    iter_decode,
    normalise_encoding,
)

# German text per encoding: what each can write (ISO-8859-1 has no €, „, “, –; ISO-8859-15
# has € but not the quotes and the dash).
FULL = "Grüße aus Köln: „Zinsen“ – 5 € für Straße, ÄÖÜ äöü ß"
LATIN9 = "Grüße aus Köln: Zinsen 5 € für Straße, ÄÖÜ äöü ß"
LATIN1 = "Grüße aus Köln: Zinsen für Straße, ÄÖÜ äöü ß"

# (encoding the file is written in, text, detected name, source)
DETECTION_CASES = [
    ("utf-8", FULL, "utf-8", "utf-8"),
    ("windows-1252", FULL, "windows-1252", "detected"),
    ("iso-8859-15", LATIN9, "iso-8859-15", "detected"),
    # ISO-8859-1 text decodes identically with windows-1252, which is chosen by default.
    ("iso-8859-1", LATIN1, "windows-1252", "default"),
    ("windows-1252", LATIN1, "windows-1252", "default"),
]
CODECS = {
    "utf-8": "utf-8",
    "windows-1252": "cp1252",
    "iso-8859-15": "iso8859-15",
    "iso-8859-1": "latin-1",
}


def csv_text(text: str, newline: str) -> str:
    return newline.join(["KUNDENNUMMER;EMAIL;NOTIZ", f"4711;anna@example.de;{text}", ""])


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
@pytest.mark.parametrize(("written", "text", "name", "source"), DETECTION_CASES)
def test_german_text_in_every_encoding(
    written: str, text: str, name: str, source: str, newline: str
) -> None:
    content = csv_text(text, newline)
    data = content.encode(CODECS[written])
    found = detect_encoding(data)
    assert (found.name, found.source, found.bom) == (name, source, b"")
    assert decode(data, found) == content
    assert 0.5 <= found.confidence <= 1.0


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_utf8_bom_decides_and_is_stripped(newline: str) -> None:
    content = csv_text(FULL, newline)
    data = BOM_UTF8 + content.encode("utf-8")
    found = detect_encoding(data)
    assert found == DetectedEncoding("utf-8", "bom", 1.0, BOM_UTF8)
    assert decode(data, found) == content
    enc, texts = decode_source(io.BytesIO(data))
    assert enc == found
    assert "".join(texts) == content


def test_bom_then_windows_1252_bytes_is_e101() -> None:
    data = BOM_UTF8 + "KUNDENNUMMER\r\nMüller\r\n".encode("cp1252")
    with pytest.raises(DecodingError) as info:
        detect_encoding(data)
    assert info.value.code == "E101"
    assert info.value.message.line == 2
    assert "offset 18" in (info.value.message.detail or "")


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00"])
def test_utf16_and_utf32_boms_are_refused(bom: bytes) -> None:
    with pytest.raises(DecodingError, match="E101"):
        detect_encoding(bom + "KUNDENNUMMER".encode("utf-16-le"))


def test_pure_ascii_is_utf8_with_full_confidence() -> None:
    assert detect_encoding(b"KUNDENNUMMER;EMAIL\r\n") == DetectedEncoding("utf-8", "utf-8", 1.0)
    assert detect_encoding(b"") == DetectedEncoding("utf-8", "utf-8", 1.0)


@pytest.mark.parametrize(
    ("encoding", "char", "name"),
    [
        ("cp1252", "ü", "windows-1252"),
        ("cp1252", "€", "windows-1252"),
        ("utf-8", "ü", "utf-8"),
        ("iso8859-15", "5 €", "iso-8859-15"),
    ],
)
def test_single_non_ascii_byte_far_in(encoding: str, char: str, name: str) -> None:
    """The only non-ASCII character is 3 MB in: the whole input is examined."""
    data = b"4711;anna@example.de;x\r\n" * 120_000 + f"4712;b@example.de;{char}\r\n".encode(
        encoding
    )
    assert detect_encoding(data).name == name
    enc, texts = decode_source(iter([data[i : i + 65536] for i in range(0, len(data), 65536)]))
    assert enc.name == name
    assert "".join(texts).endswith(f";{char}\r\n")


def test_far_in_invalid_byte_with_declared_utf8_names_offset_and_line() -> None:
    head = b"KUNDENNUMMER;EMAIL\r\n" + b"4711;a@example.de\r\n" * 100_000
    data = head + b"4712;\xfc@example.de\r\n"
    with pytest.raises(DecodingError) as info:
        detect_encoding(data, declared="UTF-8")
    message = info.value.message
    assert message.line == 100_002
    assert f"offset {len(head) + 5}" in (message.detail or "")
    # the streaming decoder reports the same position
    with pytest.raises(DecodingError) as info2:
        list(
            iter_decode(
                [data[i : i + 4096] for i in range(0, len(data), 4096)],
                detect_encoding(b"", "utf-8"),
            )
        )
    assert info2.value.message.line == message.line
    assert info2.value.message.detail == message.detail


@pytest.mark.parametrize(
    ("data", "name", "source"),
    [
        (b"Preis 10 \xa4;x", "iso-8859-15", "detected"),  # € after a number
        (b"Preis \xa45,00", "iso-8859-15", "detected"),  # € before a number
        (b"Geb\xfchr 3\xa4", "iso-8859-15", "detected"),
        (b"Du\xa8an Ko\xa8ice", "iso-8859-15", "detected"),  # š in a name
        (b"\xb4aneta", "iso-8859-15", "detected"),  # Ž starting a word
        (b"c\xbdur", "iso-8859-15", "detected"),  # œ inside a word
        (b"geht\xb4s gut", "windows-1252", "detected"),  # ´ typed as an apostrophe
        (b"1\xbd Liter", "windows-1252", "detected"),  # a fraction after a digit
        (b"Stra\xdfe", "windows-1252", "default"),  # no differing byte at all
        (b"x \xa4 y", "windows-1252", "default"),  # a differing byte without evidence
        (b"\x84Zitat\x93 \x96 10 \x80", "windows-1252", "detected"),  # C1 bytes decide
        (b"\x80 10 \xa4", "windows-1252", "detected"),  # C1 wins over ISO-8859-15 evidence
    ],
)
def test_statistical_choice(data: bytes, name: str, source: str) -> None:
    found = detect_encoding(data)
    assert (found.name, found.source) == (name, source)


def test_confidence_grows_with_evidence() -> None:
    one = detect_encoding(b"10 \xa4")
    many = detect_encoding(b"10 \xa4; 20 \xa4; 30 \xa4; 40 \xa4; 50 \xa4; 60 \xa4")
    assert one.name == many.name == "iso-8859-15"
    assert one.confidence < many.confidence <= 0.99
    # conflicting evidence lowers it
    mixed = detect_encoding(b"10 \xa4; 20 \xa4; geht\xb4s")
    assert mixed.name == "iso-8859-15"
    assert mixed.confidence < detect_encoding(b"10 \xa4; 20 \xa4").confidence


def test_undefined_windows_1252_byte_is_e101_with_line() -> None:
    """0x81 is unassigned in windows-1252 and a C1 control in the ISO sets: no candidate fits."""
    data = "A;B\r\nJörg;„x“\r\n".encode("cp1252") + b"M\x81ller;y\r\n"
    with pytest.raises(DecodingError) as info:
        detect_encoding(data)
    assert info.value.message.line == 3
    assert "0x81" in (info.value.message.detail or "")
    for source in (io.BytesIO(data), iter([data[:7], data[7:]]), _Unseekable(data)):
        with pytest.raises(DecodingError) as info2:
            decode_source(source)
        assert info2.value.message == info.value.message


@settings(max_examples=200, deadline=None)
@given(
    # only bytes that cannot start a UTF-8 sequence: the answer is windows-1252 or E101
    text=st.text(st.sampled_from("ab;\r\n€„“"), max_size=40),
    bad=st.lists(
        st.tuples(st.integers(0, 60), st.sampled_from(b"\x81\x8d\x8f\x90\x9d")),
        min_size=1,
        max_size=3,
    ),
    size=st.integers(1, 16),
    declared=st.sampled_from([None, "windows-1252"]),
)
def test_the_first_undefined_windows_1252_byte_is_named(
    text: str, bad: list[tuple[int, int]], size: int, declared: str | None
) -> None:
    """Whichever chunk it is in, and whether C1 bytes came in an earlier chunk or not."""
    data = bytearray(text.encode("cp1252"))
    for where, byte in sorted(bad, reverse=True):
        data.insert(min(where, len(data)), byte)
    first = min(i for i, byte in enumerate(data) if byte in b"\x81\x8d\x8f\x90\x9d")
    detector = EncodingDetector(declared)
    for start in range(0, len(data), size):
        detector.feed(bytes(data[start : start + size]))
    with pytest.raises(DecodingError) as info:
        detector.close()
    assert detector.error_offset == first
    assert f"byte 0x{data[first]:02x} at offset {first} " in (info.value.message.detail or "")


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("utf8", "utf-8"),
        ("UTF-8", "utf-8"),
        ("utf-8-sig", "utf-8"),
        ("cp1252", "windows-1252"),
        ("Windows-1252", "windows-1252"),
        ("latin1", "iso-8859-1"),
        ("ISO-8859-1", "iso-8859-1"),
        ("iso8859_15", "iso-8859-15"),
        ("latin-9", "iso-8859-15"),
        (" ISO-8859-15 ", "iso-8859-15"),
    ],
)
def test_declared_names_are_normalised(alias: str, name: str) -> None:
    assert normalise_encoding(alias) == name
    assert detect_encoding(b"abc", declared=alias) == DetectedEncoding(name, "declared", 1.0)


@pytest.mark.parametrize("alias", ["ascii", "utf-16", "cp850", "ebcdic-cp-de", "nonsense", ""])
def test_other_declared_names_are_e101(alias: str) -> None:
    with pytest.raises(DecodingError, match="E101"):
        detect_encoding(b"abc", declared=alias)


def test_declared_encoding_is_used_strictly() -> None:
    data = "„Zinsen“ 5 €".encode("cp1252")
    # declared ISO-8859-1: C1 controls, but decodable — used as declared
    found = detect_encoding(data, declared="iso-8859-1")
    assert decode(data, found) == data.decode("latin-1")
    # declared windows-1252 with a UTF-8 BOM: the BOM is text, not stripped
    bom_data = BOM_UTF8 + b"abc"
    assert decode(bom_data, detect_encoding(bom_data, "windows-1252")) == "ï»¿abc"
    # declared UTF-8 with a BOM: stripped
    assert detect_encoding(bom_data, "utf-8").bom == BOM_UTF8
    assert decode(bom_data, detect_encoding(bom_data, "utf-8")) == "abc"
    with pytest.raises(DecodingError):
        detect_encoding(data, declared="utf-8")


class _Unseekable(io.RawIOBase):
    """A pipe-like binary stream: readable, not seekable."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = self._inner.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _sources(data: bytes, size: int) -> Iterator[object]:
    yield data
    yield io.BytesIO(data)
    yield io.BufferedReader(_Unseekable(data))  # type: ignore[type-var]
    yield (data[i : i + size] for i in range(0, len(data), size))


def _writable(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        (text, codec)
        for text in (FULL, LATIN9, "plain ascii\r\n", "Straße;x\r\n" * 50, "Preis 10 €\n" * 3)
        for codec in ("utf-8", "cp1252", "iso8859-15")
        if _writable(text, codec)
    ],
)
def test_every_kind_of_source_gives_the_same_result(text: str, codec: str) -> None:
    data = text.encode(codec)
    expected = detect_encoding(data)
    for source in _sources(data, 7):
        enc, texts = decode_source(source, chunk_size=5, spool_limit=16)  # type: ignore[arg-type]
        assert enc == expected
        assert "".join(texts) == decode(data, expected)


def test_seekable_source_is_rewound_to_where_it_was() -> None:
    stream = io.BytesIO(b"HEADER-NOT-OURS|" + "Müller".encode("cp1252"))
    stream.seek(16)
    enc, texts = decode_source(stream)
    assert enc.name == "windows-1252"
    assert "".join(texts) == "Müller"


def test_declared_source_is_not_read_ahead() -> None:
    """With a declared encoding the chunks are decoded as they come (nothing is spooled)."""
    pulled: list[int] = []

    def chunks() -> Iterator[bytes]:
        for i in range(1000):
            pulled.append(i)
            yield b"line;%d\r\n" % i

    enc, texts = decode_source(chunks(), "windows-1252")
    assert enc.source == "declared"
    first = next(texts)
    assert first.startswith("line;0")
    assert len(pulled) < 10


@settings(max_examples=200, deadline=None)
@given(
    data=st.one_of(
        st.binary(max_size=64),
        st.text(max_size=30).map(lambda t: t.encode("utf-8")),
        st.text(st.sampled_from("ab 0123\r\n;äöüß€„“–šžŒœŸ½¼´"), max_size=30).map(
            lambda t: t.encode("cp1252")
        ),
        st.text(st.sampled_from("ab 01\r\n;äöü€ŠšŽžŒœŸ"), max_size=30).map(
            lambda t: t.encode("iso8859-15")
        ),
    ),
    cuts=st.lists(st.integers(0, 64), max_size=6),
    declared=st.sampled_from([None, None, "utf-8", "windows-1252", "iso-8859-15"]),
)
def test_chunking_never_changes_the_answer(
    data: bytes, cuts: list[int], declared: str | None
) -> None:
    """The streaming detector gives exactly what the one-shot one gives, errors included,
    wherever the chunk boundaries fall (inside a BOM, a UTF-8 sequence or a CRLF)."""
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    chunks = [data[a:b] for a, b in itertools.pairwise(points)]

    def outcome(run: object) -> object:
        try:
            return run()  # type: ignore[operator]
        except DecodingError as exc:
            return exc.message

    def streamed() -> tuple[DetectedEncoding, str]:
        enc, texts = decode_source(iter(chunks), declared)
        return enc, "".join(texts)

    def whole() -> tuple[DetectedEncoding, str]:
        enc = detect_encoding(data, declared)
        return enc, decode(data, enc)

    assert outcome(streamed) == outcome(whole)
    detector = EncodingDetector(declared)
    for chunk in chunks:
        detector.feed(chunk)
    expected = outcome(lambda: detect_encoding(data, declared))
    got = outcome(detector.close)
    if isinstance(expected, DetectedEncoding):
        assert got == expected
    else:  # the detector alone knows the offset, not the line
        assert isinstance(got, Message)
        assert isinstance(expected, Message)
        assert got.detail == expected.detail


@settings(max_examples=100, deadline=None)
@given(
    lines=st.lists(st.text(st.sampled_from("ab;ä"), max_size=8), min_size=1, max_size=8),
    newline=st.sampled_from(["\r\n", "\n", "\r"]),
    where=st.integers(0, 100),
    size=st.integers(1, 9),
)
def test_e101_position_is_exact(lines: list[str], newline: str, where: int, size: int) -> None:
    """An invalid byte put anywhere: offset and line are those of the byte, in every source."""
    head_lines = lines[: where % (len(lines) + 1)]
    head = "".join(line + newline for line in head_lines).encode("utf-8")
    data = head + b"\xff" + newline.join(lines).encode("utf-8")
    with pytest.raises(DecodingError) as info:
        detect_encoding(data, declared="utf-8")
    assert info.value.message.line == len(head_lines) + 1
    assert f"offset {len(head)} " in (info.value.message.detail or "")
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    _, texts = decode_source(iter(chunks), "utf-8")
    with pytest.raises(DecodingError) as info2:
        "".join(texts)
    assert info2.value.message == info.value.message


def test_as_json() -> None:
    enc = detect_encoding("„x“".encode("cp1252"))
    assert enc.as_json() == {"name": "windows-1252", "source": "detected", "confidence": 0.95}


def test_detected_encoding_validates_its_fields() -> None:
    with pytest.raises(ValueError, match="encoding name"):
        DetectedEncoding("cp1252", "declared", 1.0)
    with pytest.raises(ValueError, match="source"):
        DetectedEncoding("utf-8", "guessed", 1.0)


def test_benchmark_runs(load_benchmark: Callable[[str], ModuleType]) -> None:
    module = load_benchmark("bench_encoding")
    assert module.main(["--mb", "0.2", "--repeat", "1"]) == 0


# --------------------------------------------------------------------------- foreign encodings

SUBSCRIBERS = "KUNDENNUMMER;EMAIL;NACHNAME;VORNAME\r\n" + "".join(
    f"{4711 + i};kunde{i}@example.de;Müller-Lüdenscheidt;Jörg\r\n" for i in range(40)
)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("used", [None, "utf-8", "windows-1252"])
def test_utf16_and_utf32_without_bom_are_named(codec: str, used: str | None) -> None:
    """Without a BOM these read as UTF-8 or windows-1252 garbage (E107 for the header); the
    hint names them, whatever encoding was used."""
    guess = guess_foreign_encoding(SUBSCRIBERS.encode(codec), used)
    assert guess is not None
    assert codecs.lookup(guess.name).name == codecs.lookup(codec).name
    assert guess == EncodingGuess(guess.name, guess.confidence, None, nul=True)
    assert guess.confidence >= 0.9


@pytest.mark.parametrize("codec", ["cp850", "cp437"])
def test_a_dos_code_page_is_recognised_as_one(codec: str) -> None:
    """``0x81`` (ü in the DOS code pages) is undecodable in windows-1252 (E101); chardet's
    guess is a code page in which the bytes read as the German text they are."""
    data = SUBSCRIBERS.encode(codec)
    with pytest.raises(DecodingError):
        detect_encoding(data)
    guess = guess_foreign_encoding(data)
    assert guess is not None
    assert guess.interface_name is None
    assert not guess.nul
    assert data.decode(guess.name) == SUBSCRIBERS


def test_declared_utf8_of_windows_1252_bytes_gets_a_hint() -> None:
    guess = guess_foreign_encoding(SUBSCRIBERS.encode("cp1252"), "utf-8")
    assert guess is not None
    assert guess.name.lower() != "utf-8"
    assert "utf-8" not in guess.describe()


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(st.characters(codec="cp1252", exclude_characters="\x00")), cut=st.integers(1, 50)
)
def test_no_hint_for_what_the_interface_reads(text: str, cut: int) -> None:
    """Whatever the detector decodes, with the encoding it found, gets no hint: the hint is
    for foreign bytes only (and never costs a reading anything)."""
    for codec in ("utf-8", "cp1252"):
        data = text.encode(codec)
        try:
            found = detect_encoding(data)
        except DecodingError:  # e.g. "þÿ" in windows-1252 is a UTF-16 byte-order mark
            continue
        chunks = [data[i : i + cut] for i in range(0, len(data), cut)]
        assert guess_foreign_encoding(chunks, found.name) is None


@settings(max_examples=200, deadline=None)
@given(
    head=st.binary().map(lambda b: bytes(c & 0x7F or 0x20 for c in b)),
    rest=st.binary(min_size=1),
    size=st.integers(1, 300),
    cut=st.integers(1, 40),
)
def test_the_sample_starts_near_the_first_foreign_byte(
    head: bytes, rest: bytes, size: int, cut: int
) -> None:
    """The sample is the data from at most 256 bytes before the first NUL or non-ASCII byte,
    *size* bytes long (or to the end), whatever the chunks."""
    rest = b"\x80" + rest  # the first foreign byte is at len(head)
    data = head + rest
    chunks = [data[i : i + cut] for i in range(0, len(data), cut)]
    start = max(0, len(head) - 256)
    assert _first_sample(chunks, size) == data[start:][:size]
    assert _first_sample([head] if head else [], size) == b""


def test_the_sample_is_taken_where_the_foreign_bytes_are() -> None:
    """A DOS file whose first umlaut is a megabyte in is still recognised, from a stream."""
    data = b"4711;kunde@example.de;Meier\r\n" * 40_000 + SUBSCRIBERS.encode("cp850")
    guess = guess_foreign_encoding(io.BytesIO(data))
    assert guess is not None
    assert data.decode(guess.name).endswith(SUBSCRIBERS)
