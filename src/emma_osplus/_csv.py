"""The generic CSV engine: declarative layouts, a streaming reader and a canonical writer.

A :class:`CsvLayout` describes one CSV kind as data — its columns (:class:`Column`: name,
required, converter), separator, quote, default encoding, whether the canonical file has a
BOM, whether unknown columns are allowed — and the engine does the rest for every kind.

>>> from emma_osplus.converters import ValueType, CodeTable
>>> from emma_osplus import CustomerNumber, Mode
>>> layout = CsvLayout(
...     kind="DEMO",
...     columns=(
...         Column("KUNDENNUMMER", required=True, converter=ValueType(CustomerNumber)),
...         Column("ANREDE", converter=CodeTable(("Herr", "Frau"))),
...     ),
... )
>>> data = b'kundennummer;Anrede;Notiz\\r\\n4711;Frau;"mehr;zeilig\\r\\nx"\\r\\n12x;Herr;\\r\\n'
>>> reader = read_csv(data, layout, mode=Mode.LENIENT)
>>> for item in reader:
...     print(item)
Record(line=2, raw='4711;Frau;"mehr;zeilig\\r\\nx"', values={KUNDENNUMMER='0000004711', ANREDE='Frau', Notiz='mehr;zeilig\\r\\nx'})
Rejected(line=4, raw='12x;Herr;', codes=[E202])
>>> reader.columns, reader.encoding.name
(('KUNDENNUMMER', 'ANREDE', 'Notiz'), 'utf-8')
>>> write_csv(layout, reader.columns, [{"KUNDENNUMMER": "4711", "ANREDE": "Herr", "Notiz": 'a "b" c'}])
b'KUNDENNUMMER;ANREDE;Notiz\\r\\n0000004711;Herr;"a ""b"" c"\\r\\n'

**Reading.**  :func:`read_csv` takes ``bytes``, a binary file object or an iterable of
``bytes`` chunks and returns a :class:`CsvReader`, an iterator of
:data:`~emma_osplus.Item`: :class:`~emma_osplus.Record` for good records,
:class:`~emma_osplus.Rejected` for bad ones (lenient mode) and
:class:`~emma_osplus.Notice` for file-level problems (lenient mode; reading stops there).  In
strict mode the first error raises (:func:`~emma_osplus.error_for`).  The encoding is detected
as :mod:`emma_osplus._encoding` describes unless one is declared.  Header names are matched
case-insensitively after trimming; known columns get their upper-case names, unknown ones are
kept as written (in file order).  A missing required column is E107, a column named twice
E104, a file without a header E104.  Each record's ``line`` is the physical line where it
starts (header = 1; quoted fields may span lines; CRLF, LF or CR).  A record with the wrong
number of fields or broken quoting is E104 (rejected whole, raw text kept), an empty required
value E208, and converters give their own codes (E201, E202, E205, E207 …).  Empty lines carry
no record and are skipped.  ``values`` maps every column to canonical text, ``typed`` every
column that has a converter to its value (``None`` when empty).

**Speed.**  A line without the quote character is split on the separator (which is what the
standard library's C :mod:`csv` reader gives for it); the others go through that reader.  The
records of a piece of the file (a few kilobytes) are then checked column by column: texts
already found valid are remembered per column (bounded; a column whose texts hardly repeat
stops remembering), the others are matched in one go against the converter's fast pattern
(:func:`emma_osplus._converters.bulk_check`); the file rules check the batch at once where
they can (``batch``, see :class:`RecordCheck`).  Records of a batch that passes are built
without further checks, their ``typed`` values made on first access.  Anything in doubt —
a value the fast check does not accept, a rule with something to say, broken quoting — sends
the records concerned through the exact path, field by field, which gives every message, so
the result is the same (``fast=False`` reads everything through the exact path).  Memory does
not grow with the file.

**Writing.**  :func:`write_csv` returns the canonical bytes, :func:`iter_csv` yields them in
chunks.  A field is quoted only when it holds the separator, the quote, CR or LF (quotes are
doubled); lines end with CRLF; known columns are written under their upper-case names and
every value in its canonical form.  A bad value raises with the converter's code, a value the
encoding cannot represent E206 — both naming the record (its line in the output) and the field.
"""

from __future__ import annotations

import csv
import io
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, Protocol

import attrs

from ._converters import ColumnCheck, Converter, _convert, fast_pattern
from ._encoding import (
    DetectedEncoding,
    Source,
    decode_source,
    normalise_encoding,
)
from ._errors import MessageError, error_for
from ._messages import Message
from ._records import (
    Item,
    Mode,
    Notice,
    Record,
    Rejected,
    _dict_builder,
    _LazyTyped,
    _make_record,
    _make_records,
)

__all__ = [
    "FIELD_LIMIT",
    "Column",
    "CsvLayout",
    "CsvReader",
    "RecordCheck",
    "escape_formula",
    "iter_csv",
    "read_csv",
    "unescape_formula",
    "write_csv",
]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def escape_formula(text: str) -> str:
    """*text* with one extra leading ``'`` when it starts with ``= + - @``, tab, CR or ``'``
    (so that a spreadsheet shows it as text and runs no formula).

    >>> escape_formula("=SUMME(A1:A9)"), escape_formula("'zitiert"), escape_formula("Filiale")
    ("'=SUMME(A1:A9)", "''zitiert", 'Filiale')
    """
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def unescape_formula(text: str) -> str:
    """*text* without one leading ``'``: the exact inverse of :func:`escape_formula`.

    >>> unescape_formula("'=SUMME(A1:A9)"), unescape_formula("''zitiert")
    ('=SUMME(A1:A9)', "'zitiert")
    """
    return text[1:] if text.startswith("'") else text


class RecordCheck(Protocol):
    """A rule over a whole file (e.g. "no customer number twice"), one instance per reading.

    Called for every record whose fields were split (after the converters) with its line,
    ``values`` (canonical text; the raw text where a converter refused it), ``typed`` and the
    error messages found so far; returns further messages (errors reject the record, warnings
    are attached to it).

    A rule may also have a ``batch(lines, columns) -> bool`` method, which the reader's fast
    path calls for a batch of records that are all valid so far: ``lines`` are their lines,
    ``columns`` maps every column name to the records' canonical texts in order.  It returns
    ``True`` when it has accounted for every record and has nothing to say about any of them,
    and ``False``, without changing its state, otherwise (the records are then checked one by
    one).
    """

    def __call__(
        self,
        line: int,
        values: Mapping[str, str],
        typed: Mapping[str, Any],
        errors: Sequence[Message],
    ) -> Sequence[Message]:
        """The messages this rule adds for the record."""


def _check_name(instance: Column, attribute: attrs.Attribute[str], value: str) -> None:
    if not value or value != value.strip() or value != value.upper():
        raise ValueError(f"a known column name must be trimmed upper case: {value!r}")


@attrs.frozen
class Column:
    """One known column of a layout: its upper-case ``name``; ``required`` (the column must
    be in the header and its value must not be empty); the ``converter`` that checks the
    value and gives its canonical text and typed value (``None``: free text).

    ``pattern`` is an optional regular expression for the reader's fast path (by default the
    converter's, see :func:`emma_osplus._converters.fast_pattern`): every text it matches in
    full must be a valid, canonical, non-empty value of the converter; text it does not match
    goes through the converter as usual, so a pattern never changes what is accepted.
    """

    name: str = attrs.field(validator=_check_name)
    required: bool = False
    converter: Converter | None = None
    description: str = ""
    pattern: str | None = None


def _check_columns(instance: CsvLayout, attribute: object, value: tuple[Column, ...]) -> None:
    names = [c.name for c in value]
    if len(set(names)) != len(names):
        raise ValueError(f"column named twice in layout {instance.kind}")


def _check_char(instance: CsvLayout, attribute: attrs.Attribute[str], value: str) -> None:
    if len(value) != 1 or value in "\r\n":
        raise ValueError(f"{attribute.name} must be one character other than CR or LF")


@attrs.frozen
class CsvLayout:
    """A CSV kind as data.

    ``kind``: the name (``KMM``, ``CONS`` …); ``columns``: the known :class:`Column` objects in
    canonical order; ``separator`` and ``quote``; ``encoding``: the default for writing;
    ``bom``: the canonical file starts with a BOM (UTF-8 only); ``allow_unknown``: columns the
    layout does not know are kept (else E107); ``require_all``: every known column must be in
    the header (else only the required ones); ``formula_escape``: fields are written through
    :func:`escape_formula` and read through :func:`unescape_formula`; ``checks``: factories of
    :class:`RecordCheck` rules over the whole file, run in order; ``fixed_encoding``: the
    format has this one encoding (``CONS``: UTF-8), so a file is read in it strictly, with or
    without its BOM, never detected (E101 where a byte does not decode), and written in no
    other.
    """

    kind: str
    columns: tuple[Column, ...] = attrs.field(validator=_check_columns)
    separator: str = attrs.field(default=";", validator=_check_char)
    quote: str = attrs.field(default='"', validator=_check_char)
    encoding: str = attrs.field(default="windows-1252", converter=normalise_encoding)
    bom: bool = False
    allow_unknown: bool = True
    require_all: bool = False
    formula_escape: bool = False
    checks: tuple[Callable[[], RecordCheck], ...] = ()
    fixed_encoding: bool = False
    _by_name: Mapping[str, Column] = attrs.field(init=False, repr=False, eq=False)
    _by_fold: Mapping[str, Column] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if self.separator == self.quote:
            raise ValueError("separator and quote must differ")
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})
        object.__setattr__(self, "_by_fold", {c.name.casefold(): c for c in self.columns})

    def column(self, name: str) -> Column | None:
        """The known column that header name *name* means: trimmed, compared without regard
        to case by Unicode's rules (case folding, so ``EMAıL`` with a dotless i is not
        ``EMAIL``, which ``str.upper`` would make of it).

        >>> layout = CsvLayout("X", (Column("EMAIL"),))
        >>> layout.column(" eMail ").name, layout.column("EMA\u0131L")
        ('EMAIL', None)
        """
        return self._by_fold.get(name.strip().casefold())

    def header(self, names: Sequence[str], *, line: int | None = 1) -> tuple[str, ...]:
        """*names* as the canonical header: known columns by their upper-case names, unknown
        ones as written; :class:`~emma_osplus.StructureError` for a missing required column
        or an unknown one where none is allowed (E107) and a column named twice (E104).

        >>> KMM_LIKE = CsvLayout("X", (Column("EMAIL", required=True),))
        >>> KMM_LIKE.header([" email ", "Filiale"])
        ('EMAIL', 'Filiale')
        >>> KMM_LIKE.header(["Filiale"])
        Traceback (most recent call last):
        ...
        emma_osplus._errors.StructureError: E107, line 1: ... (required column missing: EMAIL)
        """
        problem = self._header_problem(names, line)
        if problem is not None:
            raise error_for(problem)
        return tuple(self._canonical_names(names))

    def _canonical_names(self, names: Sequence[str]) -> list[str]:
        out = []
        for name in names:
            column = self.column(name)
            out.append(name if column is None else column.name)
        return out

    def _header_problem(self, names: Sequence[str], line: int | None) -> Message | None:
        canonical = self._canonical_names(names)
        raw = self.separator.join(names)
        if not names:
            return Message("E104", line=line, raw=raw, detail="no columns")
        seen: set[str] = set()
        twice = [n for n in canonical if n in seen or seen.add(n)]  # type: ignore[func-returns-value]
        if twice:
            return Message(
                "E104",
                line=line,
                raw=raw,
                detail=f"column named twice: {', '.join(n if n.strip() else repr(n) for n in twice)}",
            )
        wanted = self.columns if self.require_all else [c for c in self.columns if c.required]
        missing = [c.name for c in wanted if c.name not in seen]
        if missing:
            return Message(
                "E107", line=line, raw=raw, detail=f"required column missing: {', '.join(missing)}"
            )
        if not self.allow_unknown:
            unknown = [n for n in canonical if n not in self._by_name]
            if unknown:
                return Message(
                    "E107", line=line, raw=raw, detail=f"unknown column: {', '.join(unknown)}"
                )
        return None


# --------------------------------------------------------------------------- reading

#: Bytes read (and text decoded) at a time by the reader: small enough that the buffers of one
#: chunk (bytes, text, the line splitter's copy) stay well under a megabyte.
READ_CHUNK_SIZE = 1 << 16


def _pieces(texts: Iterable[str]) -> Iterator[str]:
    """Decoded text re-cut so that every piece ends at a line end (never inside CRLF)."""
    held: list[str] = []
    for text in texts:
        cut = max(text.rfind("\n"), text.rfind("\r", 0, len(text) - 1)) + 1
        if cut == 0:
            held.append(text)
            continue
        if held:
            held.append(text[:cut])
            yield "".join(held)
            held.clear()
        else:
            yield text[:cut]
        if cut < len(text):
            held.append(text[cut:])
    if held:
        yield "".join(held)


def _checked_length(row: list[str], raw: str, used: int) -> tuple[list[str], str, int, str | None]:
    """What :meth:`CsvReader._parse` gives for a record read: an error when a field is over
    :data:`FIELD_LIMIT` (the csv module's limit may have been raised by other code)."""
    if len(raw) > FIELD_LIMIT:
        index = _too_long(row)
        if index is not None:
            return [], raw, used, _field_too_long(index)
    return row, raw, used, None


def _strip_line_end(text: str) -> str:
    if text.endswith("\n"):
        return text[:-2] if text.endswith("\r\n") else text[:-1]
    if text.endswith("\r"):
        return text[:-1]
    return text


class _FileProblem(Exception):
    def __init__(self, message: Message) -> None:
        super().__init__(message.code)
        self.message = message


#: The most characters one field may hold (as written, quotes aside): the csv module's own
#: limit (``csv.field_size_limit()``), which also keeps a field with a lost closing quote from
#: swallowing the rest of the file.  A longer value is E206, on reading and on writing.
FIELD_LIMIT: Final = 131_072
_FIELD_TOO_LONG = "field larger than field limit"


def _too_long(row: Sequence[str]) -> int | None:
    """The index of the first field of *row* longer than :data:`FIELD_LIMIT`, or ``None``."""
    for i, field in enumerate(row):
        if len(field) > FIELD_LIMIT:
            return i
    return None


def _field_too_long(index: int) -> str:
    """The error :meth:`CsvReader._parse` gives for field *index* over the limit."""
    return f"{_FIELD_TOO_LONG} ({FIELD_LIMIT}): field {index + 1}"


def _long_field(raw: str, separator: str, quote: str) -> int:
    """The index of the first field of the record *raw* that runs over :data:`FIELD_LIMIT`
    (counting as the csv module does: quotes aside, a doubled quote once)."""
    index = length = 0
    quoted = False
    previous = ""
    for char in raw:
        if char == quote:
            quoted = not quoted
            if quoted and previous == quote:
                length += 1  # a doubled quote inside a quoted field
        elif char == separator and not quoted:
            index, length = index + 1, 0
        else:
            length += 1
        if length > FIELD_LIMIT:
            return index
        previous = char
    return index


def _csv_problem(
    line: int,
    raw: str,
    error: str,
    columns: Sequence[str] | None = None,
    dialect: tuple[str, str] = (";", '"'),
) -> Message:
    """The message for the csv module's *error* on the record at *line*: a field over the
    limit is E206 (naming its column where known), anything else broken quoting (E104)."""
    if error.startswith(_FIELD_TOO_LONG):
        field = None
        number = error.rpartition(": field ")[2]
        index = int(number) - 1 if number.isdigit() else _long_field(raw, *dialect)
        if columns is not None and index < len(columns):
            field = columns[index]
        detail = f"a field longer than {FIELD_LIMIT} characters"
        return Message("E206", line=line, field=field, raw=raw, detail=detail)
    return Message("E104", line=line, raw=raw, detail=f"broken quoting: {error}")


#: Before Python 3.11 the csv module refuses a NUL character ("line contains NUL").
_NUL_IS_AN_ERROR = sys.version_info < (3, 11)
#: At most this many records are checked together (a batch never spans two pieces).
_BATCH = 512
#: At most this many characters are split into lines at a time (a few hundred records: the
#: per-batch work of the column checks is spread over many rows, and the memory a piece
#: takes with its lines, fields and records stays around a megabyte).
_PIECE = 1 << 15


#: Characters ``str.splitlines`` cuts at that are no line ends for the csv module.
_OTHER_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
_CR_LF = itertools.repeat("\r\n")


def _physical_lines(text: str) -> list[str]:
    """The physical lines of *text* with their line ends (CRLF, LF or CR), as the csv module
    sees them."""
    if any(map(text.__contains__, _OTHER_BREAKS)):
        return io.StringIO(text, newline="").readlines()
    return text.splitlines(True)


class _Source:
    """The decoded text in pieces of at most about ``_PIECE`` characters that end at a line
    end, with text carried over to the next piece (a record that goes on in it).

    A long decoded text is handed out piece by piece from a position in it, so no character
    is copied more than once (slicing off "the rest" each time would copy a text of *n*
    pieces *n* / 2 times).
    """

    __slots__ = ("_pieces", "_pos", "_text", "carry", "ended")

    def __init__(self, pieces: Iterator[str]) -> None:
        self._pieces = pieces
        self.carry = ""  # the start of a record that goes on in the next piece
        self._text = ""  # whole lines to read before the next piece: from _pos on
        self._pos = 0
        self.ended = False

    def push_back(self, text: str) -> None:
        """Read *text* (whole lines) next, before what is left."""
        self._text = text + self._text[self._pos :]
        self._pos = 0

    def next(self) -> str | None:
        """The next piece (with the text carried over in front), ``None`` at the end."""
        text, pos = self._text, self._pos
        if pos >= len(text):
            got = next(self._pieces, None)
            if got is None:
                self.ended = True
                last, self.carry = self.carry, ""
                return last or None
            text, pos = self._text, self._pos = got, 0
        carry = self.carry
        self.carry = ""
        size = len(text) - pos
        if len(carry) + size > _PIECE:  # at most this much at a time (the rest next) ...
            end = pos + max(_PIECE - len(carry), 2)  # ... but more than what was carried over
            cut = max(text.rfind("\n", pos, end), text.rfind("\r", pos, end - 1)) + 1
            if cut > pos:
                self._pos = cut
                return carry + text[pos:cut]
        self._text, self._pos = "", 0
        piece = text if pos == 0 else text[pos:]
        return carry + piece if carry else piece

    def more(self) -> bool:
        """Whether more text may follow (a record cut at the end of a piece goes on)."""
        return not self.ended


class _Plan:
    """What the fast path needs to know about the columns of one reading."""

    __slots__ = (
        "batches",
        "build",
        "checked",
        "checks",
        "columns",
        "converters",
        "ncols",
        "required_text",
    )

    def __init__(self, layout: CsvLayout, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self.ncols = len(columns)
        #: a row's dict from its fields (``build(*row)``)
        self.build = _dict_builder(columns)
        self.checked: list[tuple[int, str, ColumnCheck]] = []
        self.required_text: list[int] = []
        self.converters: dict[str, Converter] = {}
        for index, name in enumerate(columns):
            column = layout._by_name.get(name)
            if column is None:
                continue
            if column.converter is not None:
                pattern = column.pattern or fast_pattern(column.converter)
                check = ColumnCheck(column.converter, column.required, pattern)
                self.checked.append((index, name, check))
                self.converters[name] = column.converter
            elif column.required:
                self.required_text.append(index)
        self.checks: list[RecordCheck] = [factory() for factory in layout.checks]
        self.batches: list[Callable[[list[int], Mapping[str, Sequence[str]]], bool] | None] = [
            getattr(check, "batch", None) for check in self.checks
        ]


class CsvReader(Iterator[Item]):
    """The iterator :func:`read_csv` returns.

    ``encoding`` (:class:`~emma_osplus._encoding.DetectedEncoding`) and ``columns`` (the
    header in file order, canonical names) are ``None`` until the header has been read —
    by the first ``next()`` or by :meth:`read_header`.
    """

    def __init__(
        self,
        source: Source,
        layout: CsvLayout,
        *,
        mode: Mode | str = Mode.STRICT,
        encoding: str | None = None,
        chunk_size: int = READ_CHUNK_SIZE,
        fast: bool = True,
    ) -> None:
        self.layout = layout
        self.mode = Mode(mode)
        self.encoding: DetectedEncoding | None = None
        self.columns: tuple[str, ...] | None = None
        self._source = source
        self._declared = encoding
        self._chunk_size = chunk_size
        self._fast = fast
        self._items: Iterator[Item] | None = None
        self._buf: list[str] = []  # the physical lines of the record being read
        self._header_line = 1
        self._broken: MessageError | None = None  # the decoder's error (fast path)
        self._feed: list[str] = []  # the line the one-line parser reads next (fast path)
        self._dialect: dict[str, Any] = {
            "delimiter": layout.separator,
            "quotechar": layout.quote,
            "doublequote": True,
            "skipinitialspace": False,
            "strict": True,
        }
        self._one_line = csv.reader(iter(self._feed.pop, None), **self._dialect)

    def __iter__(self) -> Iterator[Item]:
        # The items themselves: a ``for`` loop then runs without this class in between.
        if self._items is None:
            self._items = self._start()
        return self._items

    def __next__(self) -> Item:
        if self._items is None:
            self._items = self._start()
        return next(self._items)

    def records(self) -> Iterator[Record]:
        """The records, typed as :class:`~emma_osplus.Record`: what a strict reading yields.

        A rejected record or a notice (lenient mode) raises as strict mode would, so nothing
        is skipped unseen.
        """
        for item in self:
            if isinstance(item, Record):
                yield item
            elif isinstance(item, Rejected):
                raise error_for(*item.messages)
            else:
                raise error_for(item.message)

    def read_header(self) -> tuple[str, ...] | None:
        """Read the header now (if not yet) and return ``columns`` (``None`` in lenient mode
        when the file could not be read; the :class:`~emma_osplus.Notice` follows)."""
        if self._items is None:
            self._items = self._start()
        return self.columns

    def __enter__(self) -> CsvReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading and release the source's temporary spool, if any (also on leaving a
        ``with`` block)."""
        items, self._items = self._items, iter(())
        close = getattr(items, "close", None)
        if close is not None:
            close()

    def _fail(self, message: Message) -> Iterator[Item]:
        if self.mode is Mode.STRICT:
            raise error_for(message)
        return iter((Notice(message),))

    def _lines(self, texts: Iterable[str]) -> Iterator[str]:
        append = self._buf.append
        for piece in _pieces(texts):
            for line in io.StringIO(piece, newline=""):
                append(line)
                yield line

    def _start(self) -> Iterator[Item]:
        fixed = self._declared is None and self.layout.fixed_encoding
        declared = self.layout.encoding if fixed else self._declared
        try:
            self.encoding, texts = decode_source(
                self._source, declared, chunk_size=self._chunk_size
            )
        except MessageError as exc:
            return self._fail(exc.message)
        if fixed and self.encoding.bom:  # declared by the format; its BOM was there too
            self.encoding = attrs.evolve(self.encoding, source="bom")
        if self._fast:
            return self._start_fast(texts)
        lines = self._lines(texts)
        layout = self.layout
        reader = csv.reader(
            lines,
            delimiter=layout.separator,
            quotechar=layout.quote,
            doublequote=True,
            skipinitialspace=False,
            strict=True,
        )
        return self._after_header(
            lambda: (self._read_header(reader), 0), lambda n: self._records(reader)
        )

    def _after_header(
        self,
        read: Callable[[], tuple[list[str], int]],
        records: Callable[[int], Iterator[Item]],
    ) -> Iterator[Item]:
        """Read the header (*read*: its names and the lines it took), check it and go on with
        *records*; a problem with it ends the reading (strict: raises)."""
        try:
            names, n = read()
        except (MessageError, _FileProblem) as exc:
            return self._fail(exc.message)
        problem = self.layout._header_problem(names, self._header_line)
        if problem is not None:
            return self._fail(problem)
        self.columns = tuple(self.layout._canonical_names(names))
        return records(n)

    # ------------------------------------------------------------------ the fast path
    #
    # Physical lines come from ``str.splitlines`` of each decoded piece (a piece ends at a line
    # end), an empty string marking the end of a piece.  A line without the quote character is
    # split on the separator (exactly what the csv module gives for it); a line with one goes
    # through the csv module, with the lines that follow where a quoted field goes on.  The
    # records of a piece are then checked column by column (ColumnCheck: sets of known-good
    # texts, one regex match per column for texts that hardly repeat) and by the layout's
    # rules in bulk; the records that pass are built without further checks, and the others
    # go through the exact path, one by one and in order, which gives every message.

    def _guard(self, pieces: Iterator[str]) -> Iterator[str]:
        """*pieces*, ending quietly at a decoding error (kept in ``_broken``)."""
        try:
            yield from pieces
        except MessageError as exc:
            self._broken = exc

    def _start_fast(self, texts: Iterator[str]) -> Iterator[Item]:
        source = _Source(self._guard(_pieces(texts)))
        return self._after_header(
            lambda: self._read_header_fast(source), lambda n: self._records_fast(source, n)
        )

    def _read_header_fast(self, source: _Source) -> tuple[list[str], int]:
        n = 0
        while True:
            piece = source.next()
            if piece is None:
                if self._broken is not None:
                    raise self._broken
                raise _FileProblem(Message("E104", detail="no header (empty file)"))
            lines = _physical_lines(piece)
            for i, line in enumerate(lines):
                if line in ("\r\n", "\n", "\r"):
                    continue  # a blank line
                got = self._parse(lines, i, source)
                if got is None:  # the header goes on in the next piece
                    n += i
                    break
                row, raw, used, error = got
                start = n + i + 1
                if error is not None:
                    if self._broken is not None:
                        raise self._broken
                    raise _FileProblem(
                        Message("E104", line=start, raw=raw, detail=f"header: {error}")
                    )
                self._header_line = start
                source.push_back("".join(lines[i + used :]))
                if self.layout.formula_escape:
                    row = [unescape_formula(f) for f in row]
                return row, start + used - 1
            else:
                n += len(lines)

    def _parse(
        self, lines: list[str], i: int, source: _Source
    ) -> tuple[list[str], str, int, str | None] | None:
        """The record that starts at ``lines[i]`` through the csv module: its fields, raw text,
        number of physical lines and the csv module's error (fields empty then); ``None`` when
        it goes on after *lines*: then ``source.carry`` holds its text."""
        line = lines[i]
        self._feed.append(line)
        try:
            row: list[str] = next(self._one_line)
            return _checked_length(row, _strip_line_end(line), 1)
        except IndexError:  # a quoted field goes on: again, with the lines that follow
            pass
        except csv.Error as exc:
            self._feed.clear()
            return [], _strip_line_end(line), 1, str(exc)
        reader = csv.reader(itertools.islice(lines, i, None), **self._dialect)
        try:
            row = next(reader, [])
        except csv.Error as exc:
            used = reader.line_num
            if i + used >= len(lines) and source.more():
                source.carry = "".join(lines[i:])  # perhaps cut at the end of the piece
                return None
            return [], _strip_line_end("".join(lines[i : i + used])), used, str(exc)
        used = reader.line_num
        return _checked_length(row, _strip_line_end("".join(lines[i : i + used])), used)

    def _parse_all(self, lines: list[str]) -> list[list[str]] | None:
        """The records of *lines* through the csv module when each line is one record (a
        quoted field that goes on, broken quoting, a line that may hold a field over the
        limit: ``None``, read them one by one)."""
        if max(map(len, lines), default=0) > FIELD_LIMIT:
            return None
        reader = csv.reader(lines, **self._dialect)
        try:
            rows = list(reader)
        except csv.Error:
            return None
        if len(rows) != len(lines) or reader.line_num != len(lines):
            return None
        return rows

    def _records_fast(self, source: _Source, n: int) -> Iterator[Item]:
        layout = self.layout
        columns = self.columns
        assert columns is not None
        plan = _Plan(layout, columns)
        sep = layout.separator
        quote = layout.quote
        unescape = layout.formula_escape
        seps = itertools.repeat(sep)
        quotes = itertools.repeat(quote)
        while True:
            piece = source.next()
            if piece is None:
                break
            # the physical lines without their line ends (the raw text of one-line records),
            # unless a break str.splitlines knows is in the piece (see _physical_lines)
            plain = not any(map(piece.__contains__, _OTHER_BREAKS))
            lines = piece.splitlines() if plain else _physical_lines(piece)
            count = len(lines)
            special = list(itertools.compress(range(count), map(str.__contains__, lines, quotes)))
            if _NUL_IS_AN_ERROR:
                special = [i for i, line in enumerate(lines) if quote in line or "\x00" in line]
            if max(map(len, lines), default=0) > FIELD_LIMIT:  # fields over the limit: E206
                special = sorted(
                    {*special, *(i for i, x in enumerate(lines) if len(x) > FIELD_LIMIT)}
                )
            parsed: dict[int, list[str]] = {}  # records read by the csv module
            texts: dict[int, str] = {}  # and their raw text
            drop: set[int] = set()  # lines that are no record of their own
            broken: dict[int, Message] = {}
            if special:  # usually each of these lines is a record: read them all at once
                quick = self._parse_all([lines[i] for i in special])
                if quick is not None:
                    parsed = dict(zip(special, quick, strict=True))
                    drop.update(i for i, row in parsed.items() if not row)
                    special = []
                elif plain:  # a record of several lines: read them with their line ends
                    plain = False
                    lines = _physical_lines(piece)
            del piece
            for i in special:
                if i in drop:
                    continue  # inside a record that began on an earlier line
                got = self._parse(lines, i, source)
                if got is None:  # the record goes on in the next piece: read it there
                    del lines[i:]
                    count = i
                    break
                row, raw, used, error = got
                if error is not None:
                    if self._broken is not None and i + used >= count:
                        del lines[i:]  # the decoder failed inside the record: see the notice
                        count = i
                        break
                    broken[i] = _csv_problem(n + i + 1, raw, error, columns, (sep, quote))
                    row = []
                elif not row:
                    drop.add(i)
                parsed[i] = row
                texts[i] = raw
                if used > 1:
                    drop.update(range(i + 1, i + used))
            raws = lines if plain else list(map(str.rstrip, lines, _CR_LF))
            del lines
            for i, raw in texts.items():
                raws[i] = raw
            starts = list(range(n + 1, n + 1 + count))
            n += count
            if "" in raws:  # blank lines: no records
                drop.update(i for i, raw in enumerate(raws) if not raw and i not in parsed)
            if drop:
                keep = [i for i in range(count) if i not in drop]
                starts = [starts[i] for i in keep]
                raws = [raws[i] for i in keep]
                if parsed:
                    where = {i: k for k, i in enumerate(keep)}
                    parsed = {where[i]: row for i, row in parsed.items() if i in where}
                    broken = {where[i]: m for i, m in broken.items()}
            for k in range(0, len(raws), _BATCH):
                some = raws[k : k + _BATCH]
                rows = list(map(str.split, some, seps))
                for i, row in parsed.items():
                    if k <= i < k + _BATCH:
                        rows[i - k] = row
                if unescape:
                    rows = [[f[1:] if f[:1] == "'" else f for f in row] for row in rows]
                yield from self._batch(
                    plan,
                    starts[k : k + _BATCH],
                    some,
                    rows,
                    {i - k: m for i, m in broken.items() if k <= i < k + _BATCH},
                )
        if self._broken is not None:
            if self.mode is Mode.STRICT:
                raise self._broken
            yield Notice(self._broken.message)

    def _batch(
        self,
        plan: _Plan,
        starts: list[int],
        raws: list[str],
        rows: list[list[str]],
        broken: dict[int, Message],
    ) -> Iterable[Item]:
        """The items of a batch: a list when every record is good and nothing is to be said
        (the usual case), else a generator that goes record by record."""
        ncols = plan.ncols
        columns = plan.columns
        if not broken and set(map(len, rows)) == {ncols}:
            index: list[int] | None = None
            cols = list(zip(*rows))  # noqa: B905 - equal lengths (strict is slower)
            exact: set[int] = set()
        else:
            index = [i for i, row in enumerate(rows) if len(row) == ncols and i not in broken]
            cols = list(zip(*[rows[i] for i in index], strict=True)) or [()] * ncols
            exact = set(range(len(rows))).difference(index)
        remaps: list[tuple[int, str, dict[str, str]]] = []
        for j, name, column_check in plan.checked:
            col = cols[j]
            found = column_check.check(col)
            if found is None:
                continue
            bad, canon = found
            if bad:
                hits = [k for k, text in enumerate(col) if text in bad]
                exact.update(hits if index is None else [index[k] for k in hits])
            if canon:
                remaps.append((j, name, canon))
        for j in plan.required_text:
            col = cols[j]
            if "" in col:
                hits = [k for k, text in enumerate(col) if not text]
                exact.update(hits if index is None else [index[k] for k in hits])
        converters = plan.converters
        checks = plan.checks
        if not exact:
            by_name = dict(zip(columns, cols, strict=True))
            for j, name, canon in remaps:
                by_name[name] = tuple(map(canon.get, cols[j], cols[j]))
            for k, batch in enumerate(plan.batches):
                if batch is None or not batch(starts, by_name):
                    checks = checks[k:]
                    break
            else:
                checks = []
            if not checks and not remaps:  # the hot path: every record good, nothing to say
                maps = list(itertools.starmap(plan.build, rows))
                return _make_records(starts, maps, raws, converters)
        return self._one_by_one(plan, starts, raws, rows, broken, exact, remaps, checks)

    def _one_by_one(  # noqa: PLR0917
        self,
        plan: _Plan,
        starts: list[int],
        raws: list[str],
        rows: list[list[str]],
        broken: dict[int, Message],
        exact: set[int],
        remaps: list[tuple[int, str, dict[str, str]]],
        checks: list[RecordCheck],
    ) -> Iterator[Item]:
        """The records of a batch in order: the *exact* ones through :meth:`_exact`, the
        others built at once (values as *remaps* say) and checked by the rules *checks*."""
        build = plan.build
        converters = plan.converters
        strict = self.mode is Mode.STRICT
        for i, (start, row, raw) in enumerate(zip(starts, rows, raws, strict=True)):
            if i in exact:
                yield self._exact(plan, start, raw, row, broken.get(i))
                continue
            values = build(*row)  # the row has as many fields as the header
            for j, name, canon in remaps:
                canonical = canon.get(row[j])
                if canonical is not None:
                    values[name] = canonical
            typed = _LazyTyped(values, converters)
            if not checks:
                yield _make_record(start, values, raw, typed)
                continue
            errors: list[Message] = []
            warnings = _run_checks(checks, start, raw, values, typed, errors)
            if errors:
                if strict:
                    raise error_for(*errors)
                yield Rejected(start, raw, (*errors, *warnings))
                continue
            yield _make_record(start, values, raw, typed, None, tuple(warnings))

    def _exact(
        self, plan: _Plan, start: int, raw: str, row: list[str], problem: Message | None
    ) -> Item:
        """One record with every message (what the exact reader gives for it)."""
        strict = self.mode is Mode.STRICT
        if problem is None and len(row) != plan.ncols:
            problem = Message(
                "E104",
                line=start,
                raw=raw,
                detail=f"{len(row)} fields, the header has {plan.ncols}",
            )
        if problem is not None:
            if strict:
                raise error_for(problem)
            return Rejected(start, raw, (problem,))
        values = dict(zip(plan.columns, row, strict=True))
        typed: dict[str, Any] = {}
        refusals: list[tuple[str, str, Message]] = []
        for j, name, column_check in plan.checked:
            text = row[j]
            canonical, value, refused = column_check.lookup(text)
            if refused is None:
                typed[name] = value
                if canonical != text:
                    values[name] = canonical
            else:
                refusals.append((name, text, refused))
        for j in plan.required_text:
            if not row[j]:
                refusals.append((plan.columns[j], "", _EMPTY))
        errors = [
            Message(m.code, line=start, field=name, raw=raw, detail=_detail(text, m))
            for name, text, m in refusals
        ]
        warnings = _run_checks(plan.checks, start, raw, values, typed, errors)
        if errors:
            if strict:
                raise error_for(*errors)
            return Rejected(start, raw, (*errors, *warnings))
        return Record(start, values, raw, typed, None, tuple(warnings))

    # ------------------------------------------------------------------ the exact path

    def _read_header(self, reader: Any) -> list[str]:
        buf = self._buf
        while True:
            try:
                row: list[str] = next(reader)
            except StopIteration:
                raise _FileProblem(Message("E104", detail="no header (empty file)")) from None
            except csv.Error as exc:
                raw = _strip_line_end("".join(buf))
                line = reader.line_num - len(buf) + 1
                raise _FileProblem(
                    Message("E104", line=line, raw=raw, detail=f"header: {exc}")
                ) from None
            if row:
                self._header_line = reader.line_num - len(buf) + 1
                buf.clear()
                if self.layout.formula_escape:
                    row = [unescape_formula(f) for f in row]
                return row
            buf.clear()

    def _records(self, reader: Any) -> Iterator[Item]:
        layout = self.layout
        columns = self.columns
        assert columns is not None
        ncols = len(columns)
        strict = self.mode is Mode.STRICT
        unescape = layout.formula_escape
        converters: list[_FieldConverter] = []
        required_text: list[tuple[int, str]] = []
        for index, name in enumerate(columns):
            column = layout._by_name.get(name)
            if column is None:
                continue
            if column.converter is not None:
                converters.append(_FieldConverter(index, name, column.converter, column.required))
            elif column.required:
                required_text.append((index, name))
        plan = [c.plan() for c in converters]
        checks = [factory() for factory in layout.checks]
        buf = self._buf
        clear = buf.clear
        join = "".join
        line = reader.line_num
        count = 0
        while True:
            start = line + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                line = reader.line_num
                raw = _strip_line_end(join(buf))
                clear()
                message = _csv_problem(
                    start, raw, str(exc), columns, (layout.separator, layout.quote)
                )
                if strict:
                    raise error_for(message) from None
                yield Rejected(start, raw, (message,))
                continue
            except MessageError as exc:  # E101 from the decoder, in the middle of the file
                if strict:
                    raise
                yield Notice(exc.message)
                return
            line = reader.line_num
            if not row:
                clear()
                continue
            raw = join(buf)
            clear()
            if raw[-1:] in "\r\n":
                raw = _strip_line_end(raw)
            if len(raw) > FIELD_LIMIT and (too_long := _too_long(row)) is not None:
                message = _csv_problem(start, raw, _field_too_long(too_long), columns)
                if strict:
                    raise error_for(message)
                yield Rejected(start, raw, (message,))
                continue
            if len(row) != ncols:
                message = Message(
                    "E104",
                    line=start,
                    raw=raw,
                    detail=f"{len(row)} fields, the header has {ncols}",
                )
                if strict:
                    raise error_for(message)
                yield Rejected(start, raw, (message,))
                continue
            if unescape:
                row = [f[1:] if f[:1] == "'" else f for f in row]
            values = dict(zip(columns, row, strict=True))
            typed: dict[str, Any] = {}
            refusals: list[tuple[str, str, Message]] | None = None
            for index, name, get, miss in plan:
                text = row[index]
                hit = get(text)
                if hit is None:
                    hit = miss(text)
                canonical, value, refused = hit
                if refused is None:
                    typed[name] = value
                    if canonical != text:
                        values[name] = canonical
                else:
                    if refusals is None:
                        refusals = []
                    refusals.append((name, text, refused))
            for index, name in required_text:
                if not row[index]:
                    if refusals is None:
                        refusals = []
                    refusals.append((name, "", _EMPTY))
            errors = (
                None
                if refusals is None
                else [
                    Message(m.code, line=start, field=name, raw=raw, detail=_detail(text, m))
                    for name, text, m in refusals
                ]
            )
            warnings: list[Message] = []
            if checks:
                found: list[Message] = [] if errors is None else errors
                warnings = _run_checks(checks, start, raw, values, typed, found)
                errors = found or None
            count += 1
            if count == _ADAPT_EVERY:
                count = 0
                plan = [c.adapt() for c in converters]
            if errors:
                if strict:
                    raise error_for(*errors)
                yield Rejected(start, raw, (*errors, *warnings))
                continue
            yield Record(start, values, raw, typed, None, tuple(warnings) if warnings else ())


_EMPTY = Message("E208", detail="empty value")
_CACHE_LIMIT = 4096
_ADAPT_EVERY = 4096
_NOTHING: dict[str, Any] = {}

Hit = tuple[str, Any, "Message | None"]


class _FieldConverter:
    """One converter column of a reading: its converter with a bounded cache of results.

    Real files repeat most values (salutations, dates, advisors), so results are cached per
    column; a column whose values hardly repeat (customer numbers, addresses) stops caching
    after a sample of rows, so that it pays nothing for the cache.
    """

    __slots__ = ("cache", "caching", "converter", "index", "misses", "name", "required")

    def __init__(self, index: int, name: str, converter: Converter, required: bool) -> None:
        self.index = index
        self.name = name
        self.converter = converter
        self.required = required
        self.caching = True
        self.misses = 0
        self.cache: dict[str, Hit] = {}
        self._seed()

    def _seed(self) -> None:
        self.cache[""] = ("", None, _EMPTY if self.required else None)

    def plan(self) -> tuple[int, str, Callable[[str], Hit | None], Callable[[str], Hit]]:
        get = self.cache.get if self.caching else _NOTHING.get
        return self.index, self.name, get, self.miss

    def miss(self, text: str) -> Hit:
        if not text:
            return "", None, _EMPTY if self.required else None
        hit = _convert(self.converter, text)
        if self.caching:
            self.misses += 1
            if len(self.cache) >= _CACHE_LIMIT:
                self.cache.clear()
                self._seed()
            self.cache[text] = hit
        return hit

    def adapt(self) -> tuple[int, str, Callable[[str], Hit | None], Callable[[str], Hit]]:
        """Called every few thousand rows: stop caching when most lookups missed."""
        if self.caching and self.misses * 2 > _ADAPT_EVERY:
            self.caching = False
            self.cache.clear()
        self.misses = 0
        return self.plan()


def _run_checks(  # noqa: PLR0917
    checks: Sequence[RecordCheck],
    start: int,
    raw: str,
    values: Mapping[str, str],
    typed: Mapping[str, Any],
    errors: list[Message],
) -> list[Message]:
    """Run the file rules *checks* on one record: their errors are added to *errors*, their
    warnings returned; a message without line or raw text gets the record's."""
    warnings: list[Message] = []
    for check in checks:
        for said in check(start, values, typed, errors):
            m = said if said.line and said.raw else attrs.evolve(said, line=start, raw=raw)
            (errors if m.is_error else warnings).append(m)
    return warnings


def _detail(text: str, refused: Message) -> str:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return f"{shown!r}: {refused.detail}" if refused.detail else repr(shown)


def read_csv(
    source: Source,
    layout: CsvLayout,
    *,
    mode: Mode | str = Mode.STRICT,
    encoding: str | None = None,
    chunk_size: int = READ_CHUNK_SIZE,
    fast: bool = True,
) -> CsvReader:
    """Read a CSV file of *layout* from *source* (``bytes``, a binary file object or an
    iterable of ``bytes`` chunks): a :class:`CsvReader` of items.

    *encoding* is the declared encoding (used strictly); without it the encoding is detected.
    Reading is lazy: nothing is read before the first item is asked for.  ``fast=False`` reads
    every record through the exact path, field by field (for tests: the result is the same).
    """
    return CsvReader(source, layout, mode=mode, encoding=encoding, chunk_size=chunk_size, fast=fast)


# --------------------------------------------------------------------------- writing


#: Text that, at the very start of a file, would be taken for a byte-order mark: U+FEFF (the
#: UTF-8 BOM) and the windows-1252 / ISO-8859 spellings of the UTF-8 and UTF-16 BOM bytes.
_BOM_LOOKALIKES = ("\ufeff", "ï»¿", "ÿþ", "þÿ", "\x00\x00þÿ")


def _count_line_ends(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


class _Writer:
    def __init__(self, layout: CsvLayout, columns: Sequence[str], encoding: str | None) -> None:
        self.layout = layout
        self.encoding = normalise_encoding(encoding or layout.encoding)
        if layout.fixed_encoding and self.encoding != layout.encoding:
            raise ValueError(
                f"{layout.kind} files are {layout.encoding}, not {self.encoding}"
                " (the format has one encoding)"
            )
        self.codec = DetectedEncoding(self.encoding, "declared", 1.0).codec
        given = [str(c) for c in columns]
        problem = layout._header_problem(given, 1)
        if problem is not None:
            raise error_for(problem)
        self.columns = tuple(layout._canonical_names(given))
        self.index = {name: i for i, name in enumerate(self.columns)}
        for name, canonical in zip(given, self.columns, strict=True):
            self.index.setdefault(name, self.index[canonical])
        sep, quote = layout.separator, layout.quote
        self.sep = sep
        self.quote = quote
        self.doubled = quote + quote
        self.specials = (sep, quote, "\r", "\n")
        self.keyset = set(self.columns)
        self.plan: list[tuple[int, str, Converter | None, bool, dict[str, Hit]]] = []
        for i, name in enumerate(self.columns):
            column = layout._by_name.get(name)
            if column is not None and (column.converter is not None or column.required):
                self.plan.append((i, name, column.converter, column.required, {}))
        self.checks = [factory() for factory in layout.checks]
        self.line = 1

    def field(self, text: str) -> str:
        if self.layout.formula_escape:
            text = escape_formula(text)
        for ch in self.specials:
            if ch in text:
                return self.quote + text.replace(self.quote, self.doubled) + self.quote
        return text

    def encode(self, text: str, what: Callable[[], tuple[int, str, str]]) -> bytes:
        try:
            return text.encode(self.codec)
        except UnicodeEncodeError:
            line, field, value = what()
            bad = next(ch for ch in value if not _encodable(ch, self.codec))
            raise error_for(
                Message(
                    "E206",
                    line=line,
                    field=field,
                    raw=value,
                    detail=f"{bad!r} (U+{ord(bad):04X}) cannot be written in {self.encoding}",
                )
            ) from None

    def header(self) -> bytes:
        for name in self.columns:
            if len(escape_formula(name) if self.layout.formula_escape else name) > FIELD_LIMIT:
                detail = f"a column name of {len(name)} characters, a field holds at most "
                raise error_for(Message("E206", line=1, raw=name, detail=f"{detail}{FIELD_LIMIT}"))
        fields = [self.field(n) for n in self.columns]
        if fields and fields[0].startswith(_BOM_LOOKALIKES):
            # Unquoted, these would read as a byte-order mark: quoting keeps them text.
            fields[0] = self.quote + fields[0].replace(self.quote, self.doubled) + self.quote
        text = self.sep.join(fields)
        if len(self.columns) == 1 and not text:
            text = self.quote * 2
        text += "\r\n"

        def culprit() -> tuple[int, str, str]:
            for name in self.columns:
                if not _encodable(name, self.codec):
                    return 1, name, name
            raise AssertionError("unreachable")  # pragma: no cover

        out = self.encode(text, culprit)
        if self.layout.bom and self.encoding == "utf-8":
            out = b"\xef\xbb\xbf" + out
        self.line += 1 + _count_line_ends(text[:-2])
        return out

    def row(self, number: int, row: Mapping[str, Any] | Sequence[Any]) -> tuple[str, list[str]]:
        """The text of one record (with its CRLF) and its fields; raises for a bad value."""
        line = self.line
        ncols = len(self.columns)
        if isinstance(row, Mapping):
            if row.keys() == self.keyset:  # the usual case: keyed by the canonical names
                cells: list[Any] = list(map(row.__getitem__, self.columns))
            else:
                cells = self._cells(number, line, row)
        else:
            cells = list(row)
            if len(cells) != ncols:
                raise error_for(
                    Message(
                        "E104",
                        line=line,
                        detail=f"record {number}: {len(cells)} fields, the header has {ncols}",
                    )
                )
        typed: dict[str, Any] = {}
        for i, name, converter, required, cache in self.plan:
            value = cells[i]
            if value is None or value == "":
                if required:
                    raise error_for(
                        Message(
                            "E208",
                            line=line,
                            field=name,
                            detail=f"record {number}: empty value",
                        )
                    )
                cells[i] = ""
                continue
            if converter is None:
                continue
            if isinstance(value, str):
                text = value
            else:
                try:
                    text = converter.format(value)
                except (TypeError, ValueError) as exc:  # a value of the wrong type
                    raise _wrong_type(number, line, name, value, str(exc)) from None
            hit = cache.get(text)
            if hit is None:
                hit = _convert(converter, text)
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                cache[text] = hit
            canonical, typed[name], refused = hit
            if refused is not None:
                raise error_for(
                    Message(
                        refused.code,
                        line=line,
                        field=name,
                        raw=text,
                        detail=f"record {number}: {_detail(text, refused)}",
                    )
                )
            cells[i] = canonical
        if set(map(type, cells)) != _ONLY_TEXT:
            cells = self._texts(number, line, cells)
        out: list[str] = cells
        for check in self.checks:
            for m in check(line, dict(zip(self.columns, out, strict=True)), typed, ()):
                if m.is_error:
                    detail = f"record {number}: {m.detail}" if m.detail else f"record {number}"
                    raise error_for(attrs.evolve(m, line=line, detail=detail))
        joined = self.sep.join(out)
        if len(joined) > FIELD_LIMIT:
            self._check_lengths(number, line, out)
        if (
            joined.count(self.sep) != ncols - 1
            or self.quote in joined
            or "\r" in joined
            or "\n" in joined
            or (self.layout.formula_escape and any(f.startswith(_FORMULA_STARTS) for f in out))
        ):
            joined = self.sep.join([self.field(f) for f in out])
            self.line += _count_line_ends(joined)
        elif ncols == 1 and not joined:
            joined = self.quote * 2  # an empty line would be no record at all
        self.line += 1
        return joined + "\r\n", out

    def _check_lengths(self, number: int, line: int, fields: list[str]) -> None:
        """E206 for a field longer than :data:`FIELD_LIMIT` as written (a reader would refuse
        it)."""
        escape = self.layout.formula_escape
        for name, text in zip(self.columns, fields, strict=True):
            written = escape_formula(text) if escape else text
            if len(written) > FIELD_LIMIT:
                raise error_for(
                    Message(
                        "E206",
                        line=line,
                        field=name,
                        raw=text,
                        detail=f"record {number}: {len(written)} characters, a field holds "
                        f"at most {FIELD_LIMIT}",
                    )
                )

    def _cells(self, number: int, line: int, row: Mapping[str, Any]) -> list[Any]:
        """The values of a mapping row in header order (keys as given or canonical)."""
        cells: list[Any] = [None] * len(self.columns)
        for key, value in row.items():
            i = self.index.get(key)
            if i is None:
                raise error_for(
                    Message(
                        "E104",
                        line=line,
                        field=str(key),
                        detail=f"record {number}: field {key!r} is not in the header",
                    )
                )
            cells[i] = value
        return cells

    def _texts(self, number: int, line: int, cells: list[Any]) -> list[str]:
        """*cells* of free-text columns as text: ``None`` is empty, anything else refused."""
        out: list[str] = []
        for name, value in zip(self.columns, cells, strict=True):
            if value is not None and not isinstance(value, str):
                detail = f"expected text, got {type(value).__name__}"
                raise _wrong_type(number, line, name, value, detail)
            out.append(value or "")
        return out


_ONLY_TEXT = {str}


def _wrong_type(number: int, line: int, name: str, value: object, detail: str) -> MessageError:
    """E209 for a value the writer cannot take as it is (as the fixed-width writer says)."""
    return error_for(
        Message("E209", line=line, field=name, raw=repr(value), detail=f"record {number}: {detail}")
    )


def _encodable(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def iter_csv(
    layout: CsvLayout,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any] | Sequence[Any]],
    *,
    encoding: str | None = None,
    batch: int = 2000,
) -> Iterator[bytes]:
    """The canonical file of *layout* with header *columns* and *rows*, in chunks of bytes.

    A row is a mapping (column → value; header names as given or canonical; missing columns
    are empty) or a sequence in header order.  A value is text (checked and canonicalised by
    the column's converter), a typed value (formatted by the converter) or ``None`` (empty).
    *encoding* defaults to the layout's; the BOM is written where the layout has one and the
    encoding is UTF-8.  Errors raise :class:`~emma_osplus.RecordError` (or
    :class:`~emma_osplus.StructureError` for the header) naming the record's line in the output
    and the field: E206 for a character the encoding lacks, the converter's code for a bad
    value, E208 for an empty required value, E104 for a field not in the header.
    """
    writer = _Writer(layout, columns, encoding)
    yield writer.header()
    pending: list[tuple[int, list[str]]] = []
    texts: list[str] = []
    for number, row in enumerate(rows, 1):
        line = writer.line
        text, fields = writer.row(number, row)
        pending.append((line, fields))
        texts.append(text)
        if len(texts) >= batch:
            yield _flush(writer, pending, texts)
    if texts:
        yield _flush(writer, pending, texts)


def _flush(writer: _Writer, pending: list[tuple[int, list[str]]], texts: list[str]) -> bytes:
    def culprit() -> tuple[int, str, str]:
        for line, fields in pending:
            for name, value in zip(writer.columns, fields, strict=True):
                if not _encodable(value, writer.codec):
                    return line, name, value
        raise AssertionError("unreachable")  # pragma: no cover

    out = writer.encode("".join(texts), culprit)
    pending.clear()
    texts.clear()
    return out


def write_csv(
    layout: CsvLayout,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any] | Sequence[Any]],
    *,
    encoding: str | None = None,
) -> bytes:
    """The canonical file as ``bytes`` (see :func:`iter_csv`)."""
    return b"".join(iter_csv(layout, columns, rows, encoding=encoding))
