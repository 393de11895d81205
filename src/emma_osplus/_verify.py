"""Delivery verification: does a delivery hold exactly what its manifest (``LIEF``) lists?

A delivery is processed only when its manifest is there and every file it lists matches its
size and SHA-256 (FORMATS.md, "Delivery manifest").  :func:`verify_delivery` takes the
manifest (a :class:`~emma_osplus._manifest.Manifest` or its bytes) and a way to read the
files it names — a mapping name → bytes, or a callable name → bytes or binary file object —
and does no I/O of its own.  It returns a :class:`DeliveryVerification`: ``ok``, the
``messages``, the ``manifest``, the files that matched, and the subscriber list's row counts.

===========  ====================================================================================
code         when
===========  ====================================================================================
E102         a file's size or SHA-256 differs from the manifest
E103         a file the manifest lists is not in the delivery
E104         the subscriber list has another number of rows than ``saetze``
E108         the subscriber list's name is off the grammar or of another kind than ``art``;
             the manifest's own name (``manifest_name``) is not a ``LIEF`` name
E306         an advisor picture or facsimile is missing (besides E103) or is not a JPEG, PNG
             or GIF by its magic bytes; a row names a picture (``BERATERBILD``) or facsimile
             (``FAKSIMILE``) that the manifest does not list in that role
===========  ====================================================================================

File-level problems of the subscriber list itself (E101, E104, E107) are reported too, with
the file's name in the detail; problems of single rows are not delivery problems (the rows are
counted in ``rejected``; read the list for them).

>>> import hashlib, datetime as dt
>>> from emma_osplus._manifest import Manifest, ManifestFile, ManifestOptions
>>> csv = b"KUNDENNUMMER;EMAIL;BERATERBILD\\r\\n4711;anna@example.de;berater_0042.jpg\\r\\n"
>>> jpeg = b"\\xff\\xd8\\xff\\xe0" + bytes(60)
>>> def entry(name, rolle, data, **more):
...     return ManifestFile(name, rolle, len(data), hashlib.sha256(data).hexdigest(), **more)
>>> manifest = Manifest(
...     blz="37050198", nummer="K2026001", art="KMM", bezeichnung="Herbst_Aktion_2026",
...     erstellt=dt.datetime(2026, 11, 20, 8, tzinfo=dt.timezone.utc),
...     options=ManifestOptions(weiterleitung_sfp=False, beraterbilder=True, faksimiles=False),
...     files=[entry("37050198_KMM_K2026001_20261122093000_0001.csv", "abonnenten", csv, saetze=1),
...            entry("berater_0042.jpg", "beraterbild", jpeg)])
>>> delivery = {"37050198_KMM_K2026001_20261122093000_0001.csv": csv, "berater_0042.jpg": jpeg}
>>> result = verify_delivery(manifest, delivery)
>>> result.ok, result.rows, [f.name for f in result.files]
(True, 1, ['37050198_KMM_K2026001_20261122093000_0001.csv', 'berater_0042.jpg'])
>>> result = verify_delivery(manifest, {**delivery, "berater_0042.jpg": b"<svg/>"})
>>> for m in result.messages:
...     print(m.describe())
E102, field lieferschein/dateien/datei/@bytes: Größe oder SHA-256 weicht vom Lieferschein ab (berater_0042.jpg: 6 bytes, the manifest says 64; the SHA-256 differs)
E306, field lieferschein/dateien/datei/@name: Beraterbild oder Faksimile fehlt oder ist kein Bild (berater_0042.jpg: not a JPEG, PNG or GIF (it starts with 3c 73 76 67 2f 3e))
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

import attrs

from ._errors import FileNameError, TransportError, error_for
from ._filenames import parse_file_name
from ._manifest import Manifest, ManifestFile, read_manifest
from ._messages import Message
from ._records import Mode, Notice, Record, Rejected
from ._xml import OccasionResolver

__all__ = [
    "IMAGE_SIGNATURES",
    "DeliveryVerification",
    "image_type",
    "verify_delivery",
]

#: What ``read`` may return for a name: the bytes, a binary file object, or ``None`` (missing).
Content = bytes | bytearray | memoryview | IO[bytes] | None
#: How :func:`verify_delivery` reads a file: a mapping or a callable (``KeyError``,
#: ``FileNotFoundError`` or ``None`` mean "not in the delivery").
Reader = Mapping[str, Any] | Callable[[str], Content]

#: Magic bytes of the picture formats a delivery may carry.
IMAGE_SIGNATURES: Mapping[str, tuple[bytes, ...]] = {
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "gif": (b"GIF87a", b"GIF89a"),
}
_HEAD = max(len(s) for sigs in IMAGE_SIGNATURES.values() for s in sigs)
_CHUNK = 1 << 20

_DATEI = "lieferschein/dateien/datei"
_PICTURE_COLUMNS = {"BERATERBILD": "beraterbild", "FAKSIMILE": "faksimile"}


def image_type(head: bytes) -> str | None:
    """``jpeg``, ``png`` or ``gif`` when *head* (the first bytes of a file) starts with that
    format's magic bytes, else ``None``.

    >>> image_type(b"GIF89a\\x01\\x00"), image_type(b"\\x89PNG\\r\\n\\x1a\\n"), image_type(b"BM")
    ('gif', 'png', None)
    """
    for name, signatures in IMAGE_SIGNATURES.items():
        if head.startswith(signatures):
            return name
    return None


@attrs.frozen
class DeliveryVerification:
    """The outcome of :func:`verify_delivery`.

    ``manifest`` is ``None`` when the manifest itself could not be read (its messages say
    why); ``files`` are the manifest's files that are there with the right size and SHA-256;
    ``rows`` and ``rejected`` count the subscriber list's data rows and the rows it would
    reject (``None`` when the list could not be read).  ``ok`` is true when no message is an
    error.
    """

    manifest: Manifest | None
    messages: tuple[Message, ...] = ()
    files: tuple[ManifestFile, ...] = ()
    rows: int | None = None
    rejected: int | None = None

    @property
    def ok(self) -> bool:
        """True when the manifest was read and no message is an error."""
        return self.manifest is not None and not any(m.is_error for m in self.messages)

    @property
    def errors(self) -> tuple[Message, ...]:
        """The messages that are errors."""
        return tuple(m for m in self.messages if m.is_error)

    def raise_for_errors(self) -> None:
        """Raise the exception of the first error (carrying every error), if there is one."""
        errors = self.errors
        if errors:
            raise error_for(*errors)


class _Digest:
    """Size, SHA-256 and the first bytes of a stream, fed chunk by chunk."""

    __slots__ = ("head", "sha", "size")

    def __init__(self) -> None:
        self.sha = hashlib.sha256()
        self.size = 0
        self.head = b""

    def feed(self, chunk: bytes) -> None:
        self.sha.update(chunk)
        self.size += len(chunk)
        if len(self.head) < _HEAD:
            self.head = (self.head + chunk[:_HEAD])[:_HEAD]


def _digest_chunks(stream: IO[bytes], digest: _Digest, size: int) -> Iterator[bytes]:
    while True:
        chunk = stream.read(size)
        if not chunk:
            return
        digest.feed(chunk)
        yield chunk


def _fetch(read: Reader, name: str) -> Content:
    if isinstance(read, Mapping):
        found: Content = read.get(name)
        return found
    try:
        return read(name)
    except (KeyError, FileNotFoundError):
        return None
    except TransportError as exc:  # a transport's "not there" (its cause says so)
        if isinstance(exc.__cause__, (KeyError, FileNotFoundError)):
            return None
        raise


def _message(code: str, name: str, field: str, detail: str, **more: Any) -> Message:
    return Message(code, field=field, raw=more.pop("raw", name), detail=f"{name}: {detail}", **more)


class _Verifier:
    def __init__(
        self,
        manifest: Manifest,
        read: Reader,
        occasions: OccasionResolver | None,
        chunk_size: int,
    ) -> None:
        self.manifest = manifest
        self.read = read
        self.occasions = occasions
        self.chunk_size = chunk_size
        self.messages: list[Message] = []
        self.matched: list[ManifestFile] = []
        self.rows: int | None = None
        self.rejected: int | None = None
        # picture names the rows use: (column, name) -> [first line, raw row, number of rows]
        self.named: dict[tuple[str, str], list[Any]] = {}

    def run(self) -> None:
        for entry in self.manifest.files:
            content = _fetch(self.read, entry.name)
            if content is None:
                self.missing(entry)
                continue
            try:
                digest = self.examine(entry, content)
            finally:
                close = getattr(content, "close", None)
                if close is not None and not isinstance(content, (bytes, bytearray, memoryview)):
                    close()
            self.compare(entry, digest)
        self.check_named_pictures()

    def missing(self, entry: ManifestFile) -> None:
        self.messages.append(
            _message("E103", entry.name, f"{_DATEI}/@name", "listed in the manifest, not delivered")
        )
        if entry.is_picture:
            self.messages.append(
                _message("E306", entry.name, f"{_DATEI}/@name", f"the {entry.rolle} is missing")
            )

    def examine(self, entry: ManifestFile, content: Content) -> _Digest:
        digest = _Digest()
        if isinstance(content, (bytes, bytearray, memoryview)):
            data = bytes(content)
            digest.feed(data)
            if entry.is_subscriber_list:
                self.subscriber_list(entry, data)
            return digest
        assert content is not None
        chunks = _digest_chunks(content, digest, self.chunk_size)
        if entry.is_subscriber_list:
            self.subscriber_list(entry, chunks)
        for _ in chunks:  # the rest, when reading stopped early (or for a picture: all)
            pass
        return digest

    def compare(self, entry: ManifestFile, digest: _Digest) -> None:
        size_ok = digest.size == entry.bytes
        sha_ok = digest.sha.hexdigest() == entry.sha256
        if not size_ok or not sha_ok:
            parts = []
            if not size_ok:
                parts.append(f"{digest.size} bytes, the manifest says {entry.bytes}")
            if not sha_ok:
                parts.append("the SHA-256 differs")
            field = f"{_DATEI}/@bytes" if not size_ok else f"{_DATEI}/@sha256"
            self.messages.append(_message("E102", entry.name, field, "; ".join(parts)))
        if entry.is_picture and image_type(digest.head) is None:
            shown = digest.head.hex(" ") if digest.head else "nothing: the file is empty"
            self.messages.append(
                _message(
                    "E306",
                    entry.name,
                    f"{_DATEI}/@name",
                    f"not a JPEG, PNG or GIF (it starts with {shown})",
                )
            )
        if size_ok and sha_ok:
            self.matched.append(entry)

    def subscriber_list(self, entry: ManifestFile, source: Any) -> None:
        from ._subscribers import read_subscriber_list  # noqa: PLC0415 - only when needed

        art = self.manifest.art
        try:
            kind = parse_file_name(entry.name).kind
        except FileNameError as exc:
            self.messages.append(
                _message("E108", entry.name, f"{_DATEI}/@name", exc.message.detail or "")
            )
        else:
            if kind != art:
                self.messages.append(
                    _message(
                        "E108",
                        entry.name,
                        f"{_DATEI}/@name",
                        f"a {kind} file in a delivery of art {art}",
                    )
                )
        reader = read_subscriber_list(
            source,
            art,
            mode=Mode.LENIENT,
            encoding=entry.encoding,
            resolve_occasion=self.occasions,
        )
        rows = rejected = 0
        broken = False
        named = self.named
        for item in reader:
            if isinstance(item, Record):
                rows += 1
                values = item.values
                for column in _PICTURE_COLUMNS:
                    picture = values.get(column)
                    if picture:
                        seen = named.get((column, picture))
                        if seen is None:
                            named[(column, picture)] = [item.line, item.raw, 1]
                        else:
                            seen[2] += 1
            elif isinstance(item, Rejected):
                rows += 1
                rejected += 1
            elif isinstance(item, Notice):
                broken = True
                m = item.message
                self.messages.append(
                    attrs.evolve(m, detail=f"{entry.name}: {m.detail}" if m.detail else entry.name)
                )
        if broken:
            return
        self.rows, self.rejected = rows, rejected
        if entry.saetze is not None and rows != entry.saetze:
            self.messages.append(
                _message(
                    "E104",
                    entry.name,
                    f"{_DATEI}/@saetze",
                    f"{rows} rows, the manifest says {entry.saetze}",
                )
            )

    def check_named_pictures(self) -> None:
        listed = {f.name: f for f in self.manifest.files}
        for (column, name), (line, raw, count) in self.named.items():
            entry = listed.get(name)
            rolle = _PICTURE_COLUMNS[column]
            if entry is not None and entry.rolle == rolle:
                continue
            where = "is not in the manifest" if entry is None else f"is listed as {entry.rolle}"
            rows = f"named in {count} rows" if count > 1 else "named in 1 row"
            self.messages.append(
                Message(
                    "E306",
                    line=line,
                    field=column,
                    raw=raw,
                    detail=f"{name!r} {where}, not as {rolle} ({rows}, first here)",
                )
            )


def verify_delivery(
    manifest: Manifest | bytes | IO[bytes],
    read: Reader,
    *,
    manifest_name: str | None = None,
    occasions: OccasionResolver | None = None,
    chunk_size: int = _CHUNK,
) -> DeliveryVerification:
    """Check a delivery against its *manifest* (see the module documentation for the codes).

    *manifest* is a :class:`~emma_osplus._manifest.Manifest` or the manifest file (bytes or
    a binary file object, read leniently: its own problems end the verification).  *read*
    gives a listed file by name: a mapping name → bytes, or a callable returning bytes or a
    binary file object (read in chunks of *chunk_size* and closed; the subscriber list is
    hashed and parsed in the same pass), with ``None``, :class:`KeyError` or
    :class:`FileNotFoundError` for a file that is not there.  *manifest_name* is checked
    against the file-name grammar (a ``LIEF`` name).  *occasions* resolves the ``ANLASS`` of a
    ``REKU`` list (default: the packaged registry).
    """
    messages: list[Message] = []
    if manifest_name is not None:
        try:
            kind = parse_file_name(manifest_name).kind
        except FileNameError as exc:
            messages.append(exc.message)
        else:
            if kind != "LIEF":
                messages.append(
                    Message("E108", raw=manifest_name, detail=f"a {kind} name, not a LIEF name")
                )
    if not isinstance(manifest, Manifest):
        result = read_manifest(manifest, mode=Mode.LENIENT, occasions=occasions)
        if result.value is None or not result.ok:
            return DeliveryVerification(None, (*messages, *result.messages))
        messages.extend(result.messages)
        manifest = result.value
    verifier = _Verifier(manifest, read, occasions, chunk_size)
    verifier.messages = messages
    verifier.run()
    return DeliveryVerification(
        manifest,
        tuple(verifier.messages),
        tuple(verifier.matched),
        verifier.rows,
        verifier.rejected,
    )
