"""File names of the interface: ``{blz}_{kind}_{ref}_{created}_{seq}.{ext}`` (FORMATS.md,
"File names"), and the safety check for every other file name a delivery brings.

:func:`parse_file_name` turns a name into a :class:`FileName`; ``str()`` of a
:class:`FileName` builds the name again.  Anything off the grammar — and anything that could
escape a directory — is refused with :class:`~emma_osplus.FileNameError` (code ``E108``) and a
detail that says what is wrong.

>>> import datetime as dt
>>> from emma_osplus._filenames import FileName, parse_file_name
>>> name = parse_file_name("37050198_KMM_K2026001_20261122093000_0001.csv")
>>> name.kind, name.ref, name.seq, name.ext
('KMM', 'K2026001', 1, 'csv')
>>> name.created
datetime.datetime(2026, 11, 22, 9, 30, tzinfo=datetime.timezone.utc)
>>> str(FileName("37050198", "QUIT", "0", dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.timezone.utc), 7))
'37050198_QUIT_0_20261122100000_0007.xml'
>>> parse_file_name("37050198_KMM_K2026001_20261122093000_0001.xml")
Traceback (most recent call last):
...
emma_osplus._errors.FileNameError: E108: Dateiname entspricht nicht der Namenskonvention (kind KMM has the extension 'csv', not 'xml')
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType

import attrs

from ._errors import FileNameError
from ._messages import Message
from ._types import Blz, OrderNumber

__all__ = [
    "FILE_KINDS",
    "FileKind",
    "FileName",
    "check_safe_name",
    "kind_of",
    "parse_file_name",
]

_UTC = dt.timezone.utc


@attrs.frozen
class FileKind:
    """One row of the kind table: the code in the name, its extension, the direction
    (``osplus_to_emma``, ``emma_to_osplus`` or ``both``) and what the file holds."""

    code: str
    ext: str
    direction: str
    content: str


_O2E, _E2O = "osplus_to_emma", "emma_to_osplus"

#: The kinds of FORMATS.md, by code (in the order of the table there).
FILE_KINDS: Mapping[str, FileKind] = MappingProxyType(
    {
        row.code: row
        for row in (
            FileKind("LIEF", "xml", _O2E, "delivery manifest"),
            FileKind("KMM", "csv", _O2E, "subscriber list of a delivery"),
            FileKind("REKU", "csv", _O2E, "subscriber list of a delivery"),
            FileKind("IAM", "csv", _O2E, "subscriber list of a delivery"),
            FileKind("VREKU", "xml", _O2E, "control file of a ReKu order"),
            FileKind("VIAM", "xml", _O2E, "control file of an IAM order"),
            FileKind("RESP", "txt", _E2O, "responses"),
            FileKind("QUIT", "xml", "both", "acknowledgement of a processed file"),
            FileKind("CONS", "csv", _E2O, "consent changes"),
        )
    }
)


def _refuse(raw: object, detail: str) -> FileNameError:
    text = raw if isinstance(raw, str) else repr(raw)
    return FileNameError(Message("E108", raw=text, detail=detail))


# --- safe names ---------------------------------------------------------------------------------

#: Longest name most file systems store (255 octets in UTF-8).
MAX_NAME_OCTETS = 255
_WINDOWS_FORBIDDEN = frozenset('<>:"|?*')
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{p}{n}" for p in ("COM", "LPT") for n in [*"0123456789", "¹", "²", "³"]]
)


def _unsafe_reason(name: str) -> str | None:
    for ch in name:
        if ch in "/\\":
            return f"path separator {ch!r}"
        category = unicodedata.category(ch)
        if category[0] == "C":
            return f"control or format character U+{ord(ch):04X}"
        if ch != " " and (category[0] == "Z" or ch.isspace()):
            return f"whitespace other than a plain space: U+{ord(ch):04X}"
        if ch == ":":
            return "':' (drive letter or alternate data stream)"
        if ch in _WINDOWS_FORBIDDEN:
            return f"character {ch!r} not allowed in file names on Windows"
    if name in (".", ".."):
        return f"{name!r} is a directory reference"
    if name.startswith("."):
        return "leading dot (hidden file or relative path)"
    if ".." in name:
        return "'..'"
    if name[0] == " " or name[-1] in " .":
        return "leading or trailing space, or trailing dot (Windows drops them)"
    if name.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
        return "a Windows device name"
    return None


def check_safe_name(name: str) -> str:
    """*name* itself when it is a plain file name that stays in its directory on every
    platform; :class:`~emma_osplus.FileNameError` (E108) otherwise.

    Used for the names a subscriber list gives to advisor pictures and facsimiles, and by the
    transports for every name they are handed.  Refused: the empty name, more than 255 octets
    (UTF-8), path separators (``/``, ``\\``), ``.`` and ``..``, any ``..``, a leading dot,
    control and format characters (NUL, CR, LF, bidi overrides …), whitespace other than an
    inner plain space, ``:`` (drive letters ``C:``, alternate data streams), the other
    characters Windows forbids (``<>"|?*``), leading spaces, trailing spaces or dots, Windows
    device names (``CON``, ``NUL.jpg``, ``COM1`` …) — and names whose NFKC compatibility form
    breaks one of these rules (``／`` FULLWIDTH SOLIDUS, ``‥`` TWO DOT LEADER).

    >>> check_safe_name("berater_0042.jpg")
    'berater_0042.jpg'
    >>> check_safe_name("../../etc/passwd")
    Traceback (most recent call last):
    ...
    emma_osplus._errors.FileNameError: E108: ... (path separator '/')
    """
    if not isinstance(name, str):
        raise _refuse(name, f"expected text, got {type(name).__name__}")
    if not name:
        raise _refuse(name, "empty name")
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_NAME_OCTETS:
        raise _refuse(name, f"{size} octets, at most {MAX_NAME_OCTETS} allowed")
    reason = _unsafe_reason(name)
    if reason is None:
        folded = unicodedata.normalize("NFKC", name)
        if folded != name:
            reason = _unsafe_reason(folded)
            if reason is not None:
                reason = f"{reason} in its compatibility form {folded!r}"
    if reason is not None:
        raise _refuse(name, reason)
    return name


# --- the grammar --------------------------------------------------------------------------------

_REF_RE = re.compile(r"[A-Z0-9]{1,20}")
_STAMP_RE = re.compile(r"[0-9]{14}")
_SEQ_RE = re.compile(r"[0-9]{4}")
_KIND_LIST = ", ".join(FILE_KINDS)


def _to_blz(value: object) -> object:
    if isinstance(value, str) and Blz._RE.fullmatch(value):
        return Blz(value)
    return value  # the validator refuses it


def _to_ref(value: object) -> object:
    return str(value) if isinstance(value, OrderNumber) else value


def _to_utc(value: object) -> object:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        try:
            return value.astimezone(_UTC)
        except OverflowError:
            return value  # the validator refuses it
    return value


def _stamp(value: dt.datetime) -> str:
    return f"{value.year:04d}{value:%m%d%H%M%S}"


@attrs.frozen(order=True)
class FileName:
    """A file name of the interface, ``{blz}_{kind}_{ref}_{created}_{seq}.{ext}``.

    - ``blz``: the institute (a :class:`~emma_osplus.Blz`; a string of 8 digits is converted),
    - ``kind``: a code of :data:`FILE_KINDS` (``LIEF``, ``KMM``, ``REKU``, ``IAM``, ``VREKU``,
      ``VIAM``, ``RESP``, ``QUIT``, ``CONS``), exactly in upper case,
    - ``ref``: the order number (``[A-Z0-9]{1,20}``; an :class:`~emma_osplus.OrderNumber` is
      converted) or ``0`` where there is none,
    - ``created``: an aware :class:`~datetime.datetime`, kept in UTC, whole seconds (a name has
      no room for fractions: pass ``when.replace(microsecond=0)``),
    - ``seq``: the sequence number per institute and kind, 0 to 9999 (written with 4 digits).

    The extension follows from the kind (:attr:`ext`).  Invalid parts raise
    :class:`~emma_osplus.FileNameError` (E108).

    >>> import datetime as dt
    >>> created = dt.datetime(2026, 11, 22, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    >>> str(FileName("37050198", "RESP", "0", created, 42))
    '37050198_RESP_0_20261122093000_0042.txt'
    >>> FileName("37050198", "RESP", "0", created.replace(second=1, microsecond=5), 42)
    Traceback (most recent call last):
    ...
    emma_osplus._errors.FileNameError: E108: ... (created has fractions of a second: ...)
    """

    blz: Blz = attrs.field(converter=_to_blz)
    kind: str = attrs.field()
    ref: str = attrs.field(converter=_to_ref)
    created: dt.datetime = attrs.field(converter=_to_utc)
    seq: int = attrs.field()

    @blz.validator
    def _check_blz(self, _: object, value: object) -> None:
        if not isinstance(value, Blz):
            raise _refuse(value, "blz: 8 digits, the first 1-8")

    @kind.validator
    def _check_kind(self, _: object, value: object) -> None:
        if not isinstance(value, str) or value not in FILE_KINDS:
            raise _refuse(value, f"unknown kind {value!r} (known: {_KIND_LIST})")

    @ref.validator
    def _check_ref(self, _: object, value: object) -> None:
        if not isinstance(value, str) or not _REF_RE.fullmatch(value):
            raise _refuse(
                value, f"ref {value!r} is neither an order number ([A-Z0-9]{{1,20}}) nor 0"
            )

    @created.validator
    def _check_created(self, _: object, value: object) -> None:
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise _refuse(value, "created must be an aware datetime (it is written in UTC)")
        if value.utcoffset() != dt.timedelta(0):
            raise _refuse(value, "created is out of range in UTC")
        if value.microsecond:
            raise _refuse(
                value,
                f"created has fractions of a second: {value.isoformat()} "
                "(a file name holds whole seconds)",
            )

    @seq.validator
    def _check_seq(self, _: object, value: object) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 9999:
            raise _refuse(value, f"seq {value!r} is not a number from 0 to 9999")

    @property
    def ext(self) -> str:
        """The extension the kind prescribes (``xml``, ``csv`` or ``txt``)."""
        return FILE_KINDS[self.kind].ext

    @property
    def file_kind(self) -> FileKind:
        """The row of the kind table."""
        return FILE_KINDS[self.kind]

    @property
    def order_number(self) -> OrderNumber | None:
        """``ref`` as an :class:`~emma_osplus.OrderNumber`; ``None`` when it is ``0``."""
        return None if self.ref == "0" else OrderNumber(self.ref)

    def __str__(self) -> str:
        return f"{self.blz}_{self.kind}_{self.ref}_{_stamp(self.created)}_{self.seq:04d}.{self.ext}"


def parse_file_name(text: str) -> FileName:
    """The :class:`FileName` that *text* spells; :class:`~emma_osplus.FileNameError` (E108)
    when *text* is not exactly ``{blz}_{kind}_{ref}_{YYYYMMDDHHMMSS}_{NNNN}.{ext}`` with the
    extension of its kind (lower case), or is not a safe name (:func:`check_safe_name`).
    ``str(parse_file_name(text)) == text`` for every name it accepts.

    >>> parse_file_name("37050198_CONS_0_20261123020000_0123.csv").order_number is None
    True
    >>> parse_file_name("37050198_KMM_K2026001_20261122093000_01.csv")
    Traceback (most recent call last):
    ...
    emma_osplus._errors.FileNameError: E108: ... (seq '01' is not 4 digits)
    """
    check_safe_name(text)
    stem, dot, ext = text.partition(".")
    if not dot:
        raise _refuse(text, "no extension")
    if "." in ext:
        raise _refuse(text, f"more than one '.' (extension {ext!r})")
    parts = stem.split("_")
    if len(parts) != 5:
        raise _refuse(
            text, f"{len(parts)} parts separated by '_', expected 5 (blz_kind_ref_created_seq)"
        )
    blz, kind, ref, created, seq = parts
    if not Blz._RE.fullmatch(blz):
        raise _refuse(text, f"blz {blz!r}: 8 digits, the first 1-8")
    file_kind = FILE_KINDS.get(kind)
    if file_kind is None:
        raise _refuse(text, f"unknown kind {kind!r} (known: {_KIND_LIST})")
    if ext != file_kind.ext:
        raise _refuse(text, f"kind {kind} has the extension {file_kind.ext!r}, not {ext!r}")
    if not _REF_RE.fullmatch(ref):
        raise _refuse(text, f"ref {ref!r} is neither an order number ([A-Z0-9]{{1,20}}) nor 0")
    if not _STAMP_RE.fullmatch(created):
        raise _refuse(text, f"created {created!r} is not YYYYMMDDHHMMSS")
    try:
        stamp = dt.datetime(
            int(created[0:4]),
            int(created[4:6]),
            int(created[6:8]),
            int(created[8:10]),
            int(created[10:12]),
            int(created[12:14]),
            tzinfo=_UTC,
        )
    except ValueError as exc:
        raise _refuse(text, f"created {created!r} is not a valid date and time: {exc}") from None
    if not _SEQ_RE.fullmatch(seq):
        raise _refuse(text, f"seq {seq!r} is not 4 digits")
    return FileName(Blz(blz), kind, ref, stamp, int(seq))


def kind_of(name: str) -> str:
    """The kind code of the interface file *name* (E108 when it is not one).

    >>> kind_of("37050198_VREKU_R2026042_20261122093000_0002.xml")
    'VREKU'
    """
    return parse_file_name(name).kind
