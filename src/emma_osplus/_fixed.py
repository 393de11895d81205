"""The generic fixed-width engine: layouts as data, one streaming reader, one writer.

A :class:`FixedLayout` declares a family of fixed-width files (the RESP responses file is one):
its record length and encoding, its record types (one header, one trailer, one or more detail
types, told apart by a type field such as ``SATZART``) and their :class:`Field` objects, and the
:class:`Check` objects that tie the trailer to the details (record count, control sum).  The
engine knows nothing about any particular file kind.

>>> from emma_osplus._converters import Integer
>>> layout = FixedLayout(
...     kind="DEMO",
...     record_length=12,
...     encoding="windows-1252",
...     record_types=(
...         RecordType("K", "header", (Field("TYP", 1, 1, constant="K"), filler(2, 11)),
...                    role="header"),
...         RecordType("D", "detail", (Field("TYP", 1, 1, constant="D"),
...                                    Field("NAME", 2, 8, required=True),
...                                    Field("MENGE", 10, 3, align="right", pad="0",
...                                          converter=Integer(3))), role="detail"),
...         RecordType("S", "trailer", (Field("TYP", 1, 1, constant="S"),
...                                     Field("ANZAHL", 2, 4, align="right", pad="0",
...                                           converter=Integer(4)),
...                                     Field("SUMME", 6, 7, align="right", pad="0",
...                                           converter=Integer(7))), role="trailer"),
...     ),
...     checks=(CountCheck("ANZAHL"), SumCheck("SUMME", of="MENGE")),
... )
>>> data = write_fixed(layout, {}, [{"NAME": "Äpfel", "MENGE": "12"}, {"NAME": "Birnen", "MENGE": 7}])
>>> data.decode("windows-1252").splitlines()
['K           ', 'DÄpfel   012', 'DBirnen   007', 'S00020000019']
>>> reader = read_fixed(data, layout)
>>> [(item.line, item.values["NAME"], item.typed["MENGE"]) for item in reader
...  if isinstance(item, Record) and item.record_type == "D"]
[(2, 'Äpfel', 12), (3, 'Birnen', 7)]
>>> reader.trailer.values
{'TYP': 'S', 'ANZAHL': '2', 'SUMME': '19'}

A damaged file raises in strict mode (the default) and is reported item by item in lenient
mode; nothing is dropped:

>>> damaged = data.replace(b"S0002", b"S0003")
>>> list(read_fixed(damaged, layout))
Traceback (most recent call last):
...
emma_osplus._errors.StructureError: E104, line 4, field ANZAHL: Dateistruktur beschädigt (the trailer counts 3 detail records, the file has 2)
>>> [type(item).__name__ for item in read_fixed(damaged, layout, mode=Mode.LENIENT)]
['Record', 'Record', 'Record', 'Record', 'Notice']
"""

from __future__ import annotations

import codecs
import functools
import itertools
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, Protocol, TypeAlias, cast

import attrs

from ._converters import ColumnCheck, Converter
from ._errors import InvalidValueError, MessageError, error_for
from ._messages import Message
from ._records import (
    Item,
    Mode,
    Notice,
    Record,
    Rejected,
    _dict_builder,
    _LazyTyped,
    _make_records,
)

__all__ = [
    "Check",
    "CountCheck",
    "Field",
    "FixedLayout",
    "FixedReader",
    "MatchHeader",
    "RecordType",
    "Rule",
    "Source",
    "SumCheck",
    "SupportsRead",
    "Tallied",
    "Tally",
    "filler",
    "iter_fixed",
    "read_fixed",
    "rule_reads",
    "write_fixed",
]

Align = Literal["left", "right"]
Pad = Literal[" ", "0"]
Role = Literal["header", "detail", "trailer"]


class SupportsRead(Protocol):
    """A binary file object: ``read(n)`` gives at most *n* bytes, ``b""`` at the end."""

    def read(self, size: int, /) -> bytes: ...


#: What the reader accepts: the whole file as bytes, a binary file object (anything with
#: ``read(n)``), or an iterable of bytes chunks (cut anywhere, even inside a record).
Source: TypeAlias = bytes | bytearray | memoryview | SupportsRead | Iterable[bytes]

#: A cross-field rule of a record type: gets the record's values (canonical text, padding
#: removed) once every field on its own is valid, returns a message (code, field, detail) or
#: ``None``.  The engine adds the record number and the raw record.
Rule = Callable[[Mapping[str, str]], Message | None]

#: What a check's tally sees of one detail record: its values, ``None`` for a refused field.
Tallied = Mapping[str, str | None]

_SEP = "\x00"  # joins a record's field texts for the one-regex fast path (never inside a record)
_CHUNK = 1 << 18
#: At most this many records are read column by column at a time.  A run allocates about
#: three objects per record that count towards the garbage collector's threshold (the
#: record, its lazy typed mapping, its values dict): 600 stay below the default threshold of
#: 700, and as the run's records (and the tallies' hold on their values) are released before
#: the next run is made, a caller that drops records as it reads them seldom wakes the
#: collector (9 collections per 100 000 RESP records instead of 280; 3 % fewer instructions).
_RUN = 200


# --------------------------------------------------------------------------------------------
# Layout declarations


def _check_align(instance: Field, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ("left", "right"):
        raise ValueError(f"field {instance.name}: align must be 'left' or 'right', not {value!r}")


def _check_pad(instance: Field, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in (" ", "0"):
        raise ValueError(f"field {instance.name}: pad must be ' ' or '0', not {value!r}")


@attrs.frozen
class Field:
    """One field of a record type: position (1-based, as in the specification's tables),
    length, alignment and padding, and what its text means.

    * ``align="left"`` fields are padded on the right with spaces (alphanumeric fields);
      ``align="right"`` fields on the left with ``pad`` (numeric fields: ``pad="0"``).
      Reading removes the padding; a field of nothing but spaces is empty.
    * ``converter`` checks the text and turns it into a value (``Record.typed``); reading yields
      its canonical text, writing writes it.  Without a converter the field is free text.
    * ``required`` fields must not be empty (E208).
    * ``constant`` fields always hold that text (the type field, a version); another value is
      E207.  :func:`filler` makes a field that must hold nothing but spaces and is not reported.
    * ``pattern`` is an optional regular expression for the reader's fast path.  Every text it
      matches in full must be a valid canonical value of the converter (and must neither start
      nor end with padding); text it does not match goes through the converter as usual, so a
      pattern never changes what is accepted, only how fast.

    >>> Field("BLZ", 2, 8).stop, Field("BLZ", 2, 8).end
    (9, 9)
    """

    name: str
    start: int
    length: int
    align: Align = attrs.field(default="left", validator=_check_align)
    pad: Pad = attrs.field(default=" ", validator=_check_pad)
    converter: Converter | None = attrs.field(default=None, eq=False)
    required: bool = False
    constant: str | None = None
    pattern: str | None = None
    filler: bool = False

    def __attrs_post_init__(self) -> None:
        if not self.name:
            raise ValueError("a field needs a name")
        if self.start < 1 or self.length < 1:
            raise ValueError(f"field {self.name}: start and length must be positive")
        if self.align == "left" and self.pad != " ":
            raise ValueError(f"field {self.name}: left-aligned fields are padded with spaces")
        if self.filler and (
            self.converter is not None or self.constant is not None or self.pattern is not None
        ):
            raise ValueError(f"filler {self.name}: no converter, constant or pattern")
        if self.constant is not None:
            if not self.constant or len(self.constant) > self.length:
                raise ValueError(f"field {self.name}: constant must have 1 to {self.length} chars")
            if self.strip(self.pad_text(self.constant)) != self.constant:
                raise ValueError(f"field {self.name}: constant {self.constant!r} clashes with pad")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"field {self.name}: bad pattern: {exc}") from None

    @property
    def stop(self) -> int:
        """End of the field as a 0-based exclusive index (``line[start - 1:stop]``)."""
        return self.start - 1 + self.length

    @property
    def end(self) -> int:
        """Last position of the field, 1-based and inclusive (as in the tables)."""
        return self.start + self.length - 1

    def strip(self, text: str) -> str:
        """The field's value in *text* (exactly ``length`` characters): padding removed.

        >>> Field("N", 1, 6, align="right", pad="0").strip("000042")
        '42'
        >>> Field("N", 1, 6, align="right", pad="0").strip("000000")
        '0'
        >>> Field("N", 1, 6, align="right", pad="0").strip("      ")
        ''
        """
        if self.align == "left":
            return text.rstrip(" ")
        if self.pad == "0":
            if not text.strip(" "):
                return ""
            return text.lstrip("0") or "0"
        return text.lstrip(" ")

    def pad_text(self, value: str) -> str:
        """*value* padded to the field's length (an empty value is all spaces); no check."""
        if not value:
            return " " * self.length
        fill = self.length - len(value)
        if self.align == "left":
            return value + " " * fill
        return self.pad * fill + value


def filler(start: int, length: int, name: str = "FILLER") -> Field:
    """A field that holds nothing but spaces and is not reported in a record's values.

    >>> filler(32, 369).end
    400
    """
    return Field(name, start, length, filler=True)


def _fields(value: Iterable[Field]) -> tuple[Field, ...]:
    return tuple(value)


def _rules(value: Iterable[Rule]) -> tuple[Rule, ...]:
    return tuple(value)


def _check_role(instance: RecordType, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ("header", "detail", "trailer"):
        raise ValueError(f"record type {instance.code!r}: unknown role {value!r}")


@attrs.frozen
class RecordType:
    """A record type: its type code (the value of the type field, e.g. ``SATZART``), a name,
    its fields in order, its role, and cross-field :data:`Rule` callables."""

    code: str
    name: str
    fields: tuple[Field, ...] = attrs.field(converter=_fields)
    role: Role = attrs.field(default="detail", validator=_check_role)
    rules: tuple[Rule, ...] = attrs.field(default=(), converter=_rules, eq=False)

    def __attrs_post_init__(self) -> None:
        if not self.code:
            raise ValueError("a record type needs a code")
        position = 1
        names: set[str] = set()
        for field in self.fields:
            if field.start != position:
                gap = "overlaps" if field.start < position else "leaves a gap before"
                raise ValueError(
                    f"record type {self.code!r}: field {field.name} at {field.start} {gap} "
                    f"position {position} (fields must be contiguous, in order; use filler())"
                )
            position = field.end + 1
            if not field.filler:
                if field.name in names:
                    raise ValueError(f"record type {self.code!r}: field {field.name} twice")
                names.add(field.name)

    @property
    def length(self) -> int:
        """Total length of the fields."""
        return sum(f.length for f in self.fields)

    @property
    def value_fields(self) -> tuple[Field, ...]:
        """The fields reported in a record's values (every field but fillers)."""
        return tuple(f for f in self.fields if not f.filler)

    def field(self, name: str) -> Field:
        """The field called *name* (``KeyError`` if there is none)."""
        for f in self.fields:
            if f.name == name and not f.filler:
                return f
        raise KeyError(name)


class Tally(Protocol):
    """The running state of one :class:`Check` over one file."""

    def update(self, batch: Sequence[Tallied | None]) -> None:
        """Account for a batch of detail records: their values (canonical text; ``None`` for a
        field that was refused), or ``None`` for a detail record whose fields could not be told
        apart (wrong length, undecodable)."""

    def verify(
        self, header: Mapping[str, str] | None, trailer: Mapping[str, str]
    ) -> Message | None:
        """After the last detail: the message (E104) if the trailer disagrees, else ``None``."""

    def fill(self, header: Mapping[str, str], trailer: dict[str, Any]) -> None:
        """Writing: set the trailer values this check computes, where the caller gave none."""


class Check(Protocol):
    """A layout's check of its trailer against the details (and the header): data, not engine
    code.  :class:`CountCheck`, :class:`SumCheck` and :class:`MatchHeader` cover the usual
    cases; any object with ``start() -> Tally`` will do."""

    def start(self) -> Tally:
        """A fresh tally for one file."""


def _feed(tallies: Sequence[Tally], batch: list[Tallied | None]) -> None:
    """Every tally takes *batch* (records in file order), which is then emptied."""
    for tally in tallies:
        tally.update(batch)
    batch.clear()


def _as_int(text: str | None) -> int | None:
    if text is None or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


@attrs.define
class _CountTally:
    field: str
    count: int = 0

    def update(self, batch: Sequence[Tallied | None]) -> None:
        self.count += len(batch)

    def verify(
        self, header: Mapping[str, str] | None, trailer: Mapping[str, str]
    ) -> Message | None:
        stated = _as_int(trailer.get(self.field))
        if stated == self.count:
            return None
        return Message(
            "E104",
            field=self.field,
            detail=f"the trailer counts {trailer.get(self.field)} detail records, the file has {self.count}",
        )

    def fill(self, header: Mapping[str, str], trailer: dict[str, Any]) -> None:
        trailer.setdefault(self.field, str(self.count))


@attrs.frozen
class CountCheck:
    """The trailer field *field* holds the number of detail records.

    >>> tally = CountCheck("ANZAHL").start()
    >>> tally.update([{}, {}, None])
    >>> tally.verify(None, {"ANZAHL": "3"}) is None, tally.verify(None, {"ANZAHL": "2"}).code
    (True, 'E104')
    """

    field: str

    def start(self) -> Tally:
        return _CountTally(self.field)


@attrs.define
class _SumTally:
    field: str
    of: str
    modulo: int | None
    total: int = 0
    unknown: int = 0

    def update(self, batch: Sequence[Tallied | None]) -> None:
        of = self.of
        texts: list[str | None] | None
        try:
            texts = list(map(operator.itemgetter(of), batch))  # type: ignore[arg-type]
        except (TypeError, KeyError):
            texts = None  # a None (wrong length) or a missing field: go one by one
        if texts is not None and all(texts):
            strings = cast("list[str]", texts)
            joined = "".join(strings)
            if joined.isascii() and joined.isdigit():
                self.total += sum(map(int, strings))
                return
        for values in batch:
            text = None if values is None else values.get(of, "")
            if text == "":
                continue
            number = _as_int(text)
            if number is None:
                self.unknown += 1
            else:
                self.total += number

    def _value(self) -> int:
        return self.total if self.modulo is None else self.total % self.modulo

    def verify(
        self, header: Mapping[str, str] | None, trailer: Mapping[str, str]
    ) -> Message | None:
        if self.unknown:  # some details were rejected already: the sum cannot be verified
            return None
        stated = _as_int(trailer.get(self.field))
        if stated == self._value():
            return None
        return Message(
            "E104",
            field=self.field,
            detail=f"the trailer's sum of {self.of} is {trailer.get(self.field)}, the details add up to {self._value()}",
        )

    def fill(self, header: Mapping[str, str], trailer: dict[str, Any]) -> None:
        trailer.setdefault(self.field, str(self._value()))


@attrs.frozen
class SumCheck:
    """The trailer field *field* holds the sum of the detail field *of* (modulo *modulo*).

    Details rejected for another reason (an invalid number, a wrong length) make the sum
    unverifiable; their own messages already report the damage.

    >>> tally = SumCheck("SUMME", of="KUNDENNUMMER", modulo=1000).start()
    >>> tally.update([{"KUNDENNUMMER": "0000000999"}, {"KUNDENNUMMER": "0000000002"}])
    >>> tally.verify(None, {"SUMME": "1"}) is None
    True
    """

    field: str
    of: str
    modulo: int | None = None

    def start(self) -> Tally:
        return _SumTally(self.field, self.of, self.modulo)


@attrs.define
class _MatchTally:
    field: str
    header_field: str

    def update(self, batch: Sequence[Tallied | None]) -> None:
        pass

    def verify(
        self, header: Mapping[str, str] | None, trailer: Mapping[str, str]
    ) -> Message | None:
        if header is None or header.get(self.header_field) == trailer.get(self.field):
            return None
        return Message(
            "E104",
            field=self.field,
            detail=f"trailer {self.field} {trailer.get(self.field)!r} differs from the header's {header.get(self.header_field)!r}",
        )

    def fill(self, header: Mapping[str, str], trailer: dict[str, Any]) -> None:
        if self.header_field in header:
            trailer.setdefault(self.field, header[self.header_field])


@attrs.frozen
class MatchHeader:
    """The trailer field *field* repeats the header field *header_field* (default: same name)."""

    field: str
    header_field: str | None = None

    def start(self) -> Tally:
        return _MatchTally(self.field, self.header_field or self.field)


def _record_types(value: Iterable[RecordType]) -> tuple[RecordType, ...]:
    return tuple(value)


def _checks(value: Iterable[Check]) -> tuple[Check, ...]:
    return tuple(value)


@attrs.frozen
class FixedLayout:
    """A fixed-width file family: record length (characters, without the line end), encoding,
    record types and checks.  Validated when made: every record type's fields cover the record
    exactly, each type has its type field (at ``type_start``, a constant equal to its code),
    and there is one header type, one trailer type and at least one detail type.

    The encoding must be ASCII-compatible (CR and LF are single bytes), as every single-byte
    Western encoding and UTF-8 are.
    """

    kind: str
    record_length: int
    encoding: str
    record_types: tuple[RecordType, ...] = attrs.field(converter=_record_types)
    checks: tuple[Check, ...] = attrs.field(default=(), converter=_checks, eq=False)
    type_start: int = 1
    _compiled: dict[str, _TypeInfo] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if self.record_length < 1:
            raise ValueError("record_length must be positive")
        codecs.lookup(self.encoding)
        if "\r\n".encode(self.encoding) != b"\r\n" or "0 ".encode(self.encoding) != b"0 ":
            raise ValueError(f"encoding {self.encoding!r} is not ASCII-compatible")
        codes = [t.code for t in self.record_types]
        if len(set(codes)) != len(codes):
            raise ValueError("record type codes must be unique")
        if len({len(c) for c in codes}) != 1:
            raise ValueError("record type codes must all have the same length")
        roles = [t.role for t in self.record_types]
        if roles.count("header") != 1 or roles.count("trailer") != 1 or "detail" not in roles:
            raise ValueError("a layout has one header type, one trailer type, 1+ detail types")
        for rtype in self.record_types:
            if rtype.length != self.record_length:
                raise ValueError(
                    f"record type {rtype.code!r}: fields cover {rtype.length} characters, "
                    f"the record has {self.record_length} (use filler())"
                )
            type_field = next((f for f in rtype.fields if f.start == self.type_start), None)
            if type_field is None or type_field.constant != rtype.code:
                raise ValueError(
                    f"record type {rtype.code!r}: needs a type field at {self.type_start} "
                    f"with constant {rtype.code!r}"
                )
            if type_field.length != len(rtype.code):
                raise ValueError(f"record type {rtype.code!r}: type field length != code length")
            for f in rtype.fields:
                if f.constant is not None:
                    f.constant.encode(self.encoding)
        object.__setattr__(self, "_compiled", {t.code: _TypeInfo(t) for t in self.record_types})

    @property
    def header(self) -> RecordType:
        """The header record type."""
        return next(t for t in self.record_types if t.role == "header")

    @property
    def trailer(self) -> RecordType:
        """The trailer record type."""
        return next(t for t in self.record_types if t.role == "trailer")

    @property
    def details(self) -> tuple[RecordType, ...]:
        """The detail record types."""
        return tuple(t for t in self.record_types if t.role == "detail")

    def record_type(self, code: str) -> RecordType:
        """The record type with *code* (``KeyError`` if there is none)."""
        return self._compiled[code].rtype

    @property
    def type_slice(self) -> slice:
        """Where the type code sits in a record (0-based slice)."""
        start = self.type_start - 1
        return slice(start, start + len(self.record_types[0].code))


# --------------------------------------------------------------------------------------------
# Compiled form of a record type (what the hot loop uses)


def _fast_part(field: Field, group: str) -> str | None:
    """The regex for one field's text (its exact width is known from slicing), or None when
    the field has a converter but no pattern (then the record type has no fast path)."""
    if field.filler:
        return " " * field.length
    if field.constant is not None:
        return _constant_regex(field, group, field.constant)
    if field.pattern is not None:
        content = f"(?:{field.pattern})"
    elif field.converter is None:
        # free text: anything but the separator, neither starting nor ending with padding
        edge = "[^\\x00 ]" if field.pad == " " else "[^\\x000]"
        content = f"(?:[^\\x00]*{edge})" if field.align == "left" else f"(?:{edge}[^\\x00]*)"
    else:
        return None
    if field.align == "right" and field.pad == "0":
        # an empty (all spaces) right-aligned zero-padded field takes the slow path
        return f"0*(?P<{group}>{content})"
    optional = "" if field.required else "?"
    if field.align == "left":
        return f"(?P<{group}>{content}{optional}) *"
    return f" *(?P<{group}>{content}{optional})"


def _constant_regex(field: Field, group: str, constant: str) -> str:
    fill = re.escape(field.pad * (field.length - len(constant)))
    body = f"(?P<{group}>{re.escape(constant)})"
    return body + fill if field.align == "left" else fill + body


@attrs.frozen
class _TypeInfo:
    rtype: RecordType
    role: str = attrs.field(init=False)
    names: tuple[str, ...] = attrs.field(init=False)
    slices: tuple[tuple[Field, slice], ...] = attrs.field(init=False)
    converters: dict[str, Converter] = attrs.field(init=False)
    rules: tuple[Rule, ...] = attrs.field(init=False)
    fast: Callable[[str], re.Match[str] | None] | None = attrs.field(init=False)
    getter: Callable[[str], tuple[str, ...]] = attrs.field(init=False)
    values_of: Callable[[re.Match[str]], dict[str, str]] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        rtype = self.rtype
        setattr_ = object.__setattr__
        setattr_(self, "role", rtype.role)
        setattr_(self, "names", tuple(f.name for f in rtype.value_fields))
        setattr_(self, "slices", tuple((f, slice(f.start - 1, f.stop)) for f in rtype.fields))
        setattr_(
            self,
            "converters",
            {
                f.name: f.converter
                for f in rtype.value_fields
                if f.converter is not None and f.constant is None
            },
        )
        setattr_(self, "rules", rtype.rules)
        setattr_(self, "getter", _getter([s for _, s in self.slices]))
        names = self.names
        if all(name.isidentifier() for name in names):
            groups = list(names)  # the match's groupdict() is the values (fastest)
            setattr_(self, "values_of", re.Match.groupdict)
        else:
            groups = [f"_fxd{i}" for i in range(len(names))]
            setattr_(self, "values_of", _values_by_zip(names, groups))
        parts: list[str] = []
        index = 0
        for field in rtype.fields:
            part = _fast_part(field, groups[index] if not field.filler else "")
            if part is None:
                setattr_(self, "fast", None)
                return
            index += not field.filler
            parts.append(part)
        setattr_(self, "fast", re.compile("\\x00".join(parts), re.DOTALL).fullmatch)


def _getter(slices: list[slice]) -> Callable[[str], tuple[str, ...]]:
    if len(slices) == 1:
        only = slices[0]
        return lambda line: (line[only],)
    return operator.itemgetter(*slices)


def _values_by_zip(
    names: tuple[str, ...], groups: list[str]
) -> Callable[[re.Match[str]], dict[str, str]]:
    if len(groups) == 1:
        name, only = names[0], groups[0]
        return lambda m: {name: m.group(only)}
    return lambda m: dict(zip(names, m.group(*groups), strict=True))


@functools.lru_cache(maxsize=256)
def _fullmatcher(pattern: str) -> Callable[[str], re.Match[str] | None]:
    return re.compile(pattern, re.DOTALL).fullmatch


#: role, fast match, field getter, values of a match, rules, converters, code, type info
_Hot: TypeAlias = tuple[
    str,
    Callable[[str], "re.Match[str] | None"] | None,
    Callable[[str], tuple[str, ...]],
    Callable[["re.Match[str]"], dict[str, str]],
    tuple[Rule, ...],
    Mapping[str, Converter],
    str,
    "_TypeInfo | None",
]


# --------------------------------------------------------------------------------------------
# The columnar fast path: a run of detail records of one type, checked field by field over
# all records at once (ColumnCheck), rules once per distinct combination of the fields they
# read, records built without further checks.  Any doubt sends the run through the per-record
# path, which gives every message.


def rule_reads(*names: str) -> Callable[[Rule], Rule]:
    """Declare the fields a :data:`Rule` reads (the reader then checks it once per distinct
    combination of their values in a run of records instead of once per record).

    >>> @rule_reads("A")
    ... def a_not_x(values):
    ...     return None
    >>> a_not_x.reads
    ('A',)
    """

    def declare(rule: Rule) -> Rule:
        rule.reads = names  # type: ignore[attr-defined]
        return rule

    return declare


def _pattern_width(pattern: str) -> tuple[int, int] | None:
    """The least and greatest length of the texts *pattern* matches (``None``: unknown)."""
    parser: Any = getattr(re, "_parser", None)
    if parser is None:  # Python 3.10
        import sre_parse as parser  # noqa: PLC0415

    try:
        low, high = parser.parse(pattern).getwidth()
    except Exception:  # a private module: any surprise means "unknown"
        return None
    return int(low), int(high)


class _ColumnarPlan:
    """How to read a run of one detail record type column by column (one per reading)."""

    __slots__ = ("build", "code", "converters", "fields", "getters", "names", "rules")

    def __init__(self, info: _TypeInfo) -> None:
        self.code = info.rtype.code
        self.getters = [operator.itemgetter(where) for _, where in info.slices]
        self.names = info.names
        self.build = _dict_builder(info.names)  # a record's dict from its values
        self.converters = info.converters
        self.rules = info.rules
        #: per slice: (kind, field, padded constant or check)
        self.fields: list[tuple[str, Field, Any]] = []
        for field in info.rtype.fields:
            if field.filler:
                self.fields.append(("filler", field, " " * field.length))
            elif field.constant is not None:
                self.fields.append(("constant", field, field.pad_text(field.constant)))
            elif field.align == "right" and field.pad == "0":
                # the text as it is: only with a pattern of the field's exact width (its
                # match is then what the per-record fast path takes)
                if field.pattern is None or field.converter is None:
                    raise ValueError("no columnar path")
                if _pattern_width(field.pattern) != (field.length, field.length):
                    raise ValueError("no columnar path")
                self.fields.append(("as-is", field, self._check(field)))
            elif field.converter is None:
                self.fields.append(("text", field, None))
            else:
                self.fields.append(("checked", field, self._check(field)))

    @staticmethod
    def _check(field: Field) -> ColumnCheck:
        assert field.converter is not None
        return ColumnCheck(field.converter, field.required, field.pattern, re.DOTALL)

    def read(
        self, run: list[str], first: int, spaces_only: bool = False
    ) -> tuple[list[dict[str, str]], list[Record]] | None:
        """The values and records of *run* (records *first*, *first* + 1 ...), or ``None``
        when a record of it needs the per-record path.  *spaces_only*: the records have no
        white space but spaces (see :func:`_padded_with_spaces_only`)."""
        size = len(run)
        columns: list[Sequence[str]] = []
        space = _SPACES
        for (kind, field, how), get in zip(self.fields, self.getters, strict=True):
            if spaces_only and kind in ("checked", "text"):
                # padding removed while slicing (str.strip() is str.strip(" ") here)
                strip = str.rstrip if field.align == "left" else str.lstrip
                values: Sequence[str] = list(map(strip, map(get, run)))
                if kind == "checked":
                    checked = _canonical_column(how, values)
                    if checked is None:
                        return None
                    values = checked
                elif field.required and "" in values:
                    return None
                columns.append(values)
                continue
            texts = list(map(get, run))
            if kind == "filler":
                if texts.count(how) != size:
                    return None
                continue
            if kind == "constant":
                if texts.count(how) != size:
                    return None
                columns.append(itertools.repeat(field.constant, size))  # type: ignore[arg-type]
                continue
            if kind == "as-is":
                values = texts
            elif field.align == "left":
                # str.rstrip() (any white space) is many times faster than rstrip(" ") on long
                # padding; it is the same when what it took was spaces only
                values = list(map(str.rstrip, texts))
                if not spaces_only and list(map(str.ljust, values, _widths[field.length])) != texts:
                    values = list(map(str.rstrip, texts, space))
            else:
                values = list(map(str.lstrip, texts))
                if not spaces_only and list(map(str.rjust, values, _widths[field.length])) != texts:
                    values = list(map(str.lstrip, texts, space))
            if kind == "text":
                if field.required and "" in values:
                    return None
            else:
                checked = _canonical_column(how, values)
                if checked is None:
                    return None
                values = checked
            columns.append(values)
        rows = list(map(self.build, *columns))  # the values of each record, column by column
        for rule in self.rules:
            reads = getattr(rule, "reads", None)
            if reads is None:
                if any(map(rule, rows)):
                    return None
                continue
            by_name = dict(zip(self.names, columns, strict=True))
            for combination in set(zip(*(by_name[name] for name in reads), strict=True)):
                if rule(dict(zip(reads, combination, strict=True))) is not None:
                    return None
        numbers = range(first, first + size)
        return rows, _make_records(numbers, rows, run, self.converters, self.code)


def _canonical_column(check: ColumnCheck, values: Sequence[str]) -> Sequence[str] | None:
    """*values* in canonical form when *check* accepts them all, else ``None``."""
    found = check.check(values)
    if found is None:
        return values
    bad, canon = found
    if bad:
        return None
    return list(map(canon.get, values, values))


_SPACES = itertools.repeat(" ")


class _Widths(dict[int, "itertools.repeat[int]"]):
    def __missing__(self, width: int) -> itertools.repeat[int]:
        self[width] = widths = itertools.repeat(width)
        return widths


_widths = _Widths()


def _columnar_plans(layout: FixedLayout) -> dict[str, _ColumnarPlan]:
    plans: dict[str, _ColumnarPlan] = {}
    for code, info in layout._compiled.items():
        if info.role != "detail":
            continue
        try:
            plans[code] = _ColumnarPlan(info)
        except ValueError:
            continue
    return plans


def _run_stops(
    lines: list[str] | list[str | _Undecodable],
    plans: Mapping[str, _ColumnarPlan],
    type_slice: slice,
    length: int,
) -> list[int]:
    """The indices of *lines* that are no plain record of a type with a columnar plan (where
    runs stop), and ``len(lines)`` last; every index when some line could not be decoded."""
    count = len(lines)
    if not all(map(str.__instancecheck__, lines)):
        return [*range(count), count]
    texts = cast("list[str]", lines)
    codes = list(map(operator.itemgetter(type_slice), texts))
    if len(plans) == 1 and set(codes) <= plans.keys() and set(map(len, texts)) == {length}:
        return [count]  # one run of details (the usual block)
    if len(plans) == 1:
        [code] = plans
        other = map(operator.ne, codes, itertools.repeat(code))
    else:
        other = map(operator.not_, map(plans.__contains__, codes))
    wrong = map(operator.ne, map(len, texts), itertools.repeat(length))
    stops = list(itertools.compress(range(count), map(operator.or_, other, wrong)))
    stops.append(count)
    # a run of one type only: stop where the type changes
    if len(plans) > 1:
        changes = [i for i in range(1, count) if codes[i] != codes[i - 1]]
        stops = sorted({*stops, *changes})
    return stops


# --------------------------------------------------------------------------------------------
# Reading


def _chunks(source: Source, size: int) -> Iterator[bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source)
        for start in range(0, len(view), size):
            yield bytes(view[start : start + size])
        return
    if isinstance(source, str):
        raise TypeError("read_fixed reads bytes, not text: encode it or open the file in binary")
    read = getattr(source, "read", None)
    if read is not None:
        while True:
            chunk = read(size)
            if not chunk:
                return
            if isinstance(chunk, str):
                raise TypeError("the file object must be opened in binary mode")
            yield bytes(chunk)
    else:
        for chunk in source:  # type: ignore[union-attr]
            if isinstance(chunk, str):
                raise TypeError("chunks must be bytes, not text")
            if chunk:
                yield bytes(chunk)


def _blocks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Cut the byte stream into blocks of whole lines (the last block may lack a line end).
    A CR at the very end of a block is held back, for an LF may follow in the next chunk."""
    rest = b""
    for chunk in chunks:
        buf = rest + chunk if rest else chunk
        cut = max(buf.rfind(b"\n"), buf.rfind(b"\r"))
        if cut == len(buf) - 1 and buf[cut] == 13:
            cut = max(buf.rfind(b"\n", 0, cut), buf.rfind(b"\r", 0, cut))
        if cut < 0:
            rest = buf
            continue
        yield buf[: cut + 1]
        rest = buf[cut + 1 :]
    if rest:
        yield rest


#: Characters ``str.splitlines`` cuts at besides CR and LF.
_OTHER_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
#: White space (``str.isspace``) other than the space, CR and LF.
_OTHER_SPACE = (
    "\t\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _split_text(text: str) -> list[str]:
    """The lines of *text* (CRLF, LF or CR); after a last line end, an empty line."""
    if any(map(text.__contains__, _OTHER_BREAKS)):
        if "\r" in text:
            text = text.replace("\r\n", "\n")
            if "\r" in text:
                text = text.replace("\r", "\n")
        return text.split("\n")
    lines = text.splitlines()
    if text[-1:] in ("\r", "\n"):
        lines.append("")
    return lines


@functools.lru_cache(maxsize=16)
def _other_space_in(encoding: str) -> tuple[str, ...]:
    """The characters of :data:`_OTHER_SPACE` that *encoding* can encode: the only ones text
    decoded with it can hold (windows-1252: eight of 29), so no time goes on looking for the
    others (looking for some of them in a long text is slow).

    >>> _other_space_in("windows-1252")
    ('\\t', '\\x0b', '\\x0c', '\\x1c', '\\x1d', '\\x1e', '\\x1f', '\\xa0')
    """
    return tuple(c for c in _OTHER_SPACE if c.encode(encoding, errors="ignore"))


def _padded_with_spaces_only(text: str, encoding: str) -> bool:
    """Whether *text* (decoded with *encoding*) has no white space but spaces (and line ends):
    then ``str.strip()`` of its fields removes exactly what ``strip(" ")`` would."""
    return not any(map(text.__contains__, _other_space_in(encoding)))


@attrs.frozen
class _Undecodable:
    data: bytes
    error: UnicodeDecodeError


def _split_bytes(data: bytes) -> list[bytes]:
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data.split(b"\n")


def _decode_block(block: bytes, encoding: str) -> tuple[list[str] | list[str | _Undecodable], bool]:
    """The lines of *block* (undecodable ones as :class:`_Undecodable`) and whether they are
    all text padded with spaces only (:func:`_padded_with_spaces_only`)."""
    try:
        text = block.decode(encoding)
    except UnicodeDecodeError:
        pass
    else:
        return _split_text(text), _padded_with_spaces_only(text, encoding)
    lines: list[str | _Undecodable] = []
    for raw in _split_bytes(block):
        try:
            lines.append(raw.decode(encoding))
        except UnicodeDecodeError as exc:
            lines.append(_Undecodable(raw, exc))
    return lines, False


class FixedReader:
    """The reader :func:`read_fixed` returns: an iterator of :data:`~emma_osplus.Item`.

    It yields every record in file order (header, details, trailer) as
    :class:`~emma_osplus.Record` (``record_type`` set, ``line`` = record number, header = 1)
    or :class:`~emma_osplus.Rejected`, and file-level problems as :class:`~emma_osplus.Notice`.
    ``header`` and ``trailer`` hold the header and trailer records once they have been read
    (``None`` before, or when missing or rejected); ``records`` counts the records read.
    """

    def __init__(
        self,
        source: Source,
        layout: FixedLayout,
        *,
        mode: Mode = Mode.STRICT,
        encoding: str | None = None,
        chunk_size: int = _CHUNK,
        fast: bool = True,
    ) -> None:
        self.layout = layout
        self.mode = Mode(mode)
        self.encoding = encoding or layout.encoding
        codecs.lookup(self.encoding)
        self.header: Record | None = None
        self.trailer: Record | None = None
        self.records = 0
        self._chunk_size = chunk_size
        self._items = self._run(_chunks(source, chunk_size), fast)

    def __iter__(self) -> Iterator[Item]:
        return self._items

    def __next__(self) -> Item:
        return next(self._items)

    # The hot loop.  Everything per record is inlined; the slow path is a method.
    def _run(self, chunks: Iterator[bytes], fast_enabled: bool) -> Iterator[Item]:
        layout = self.layout
        strict = self.mode is Mode.STRICT
        reclen = layout.record_length
        tslice = layout.type_slice
        by_code = layout._compiled
        # the fast-path pieces of each record type, unpacked once per record
        hot: dict[str, _Hot] = {
            code: (info.role, info.fast if fast_enabled else None, info.getter, info.values_of,
                   info.rules, info.converters, code, info)
            for code, info in by_code.items()
        }  # fmt: skip
        missing: _Hot = (
            "",
            None,
            _getter([slice(0), slice(0)]),
            re.Match.groupdict,
            (),
            {},
            "",
            None,
        )
        encoding = self.encoding
        tallies = [check.start() for check in layout.checks]
        pending: list[Tallied | None] = []
        sep = _SEP
        n = 0
        phase = 0  # 0 before the first record, 1 in the body, 2 after the trailer
        first_was_header = False
        columnar = _columnar_plans(layout) if fast_enabled else {}
        # records read column by column at a time: their values take some times the space of
        # their text, so at most about half a chunk's worth
        most = max(8, min(self._chunk_size // (2 * reclen), _RUN))
        for block in _blocks(chunks):
            lines, spaces_only = _decode_block(block, encoding)
            if lines and lines[-1] == "":
                lines.pop()  # the block ended with a line end
            count = len(lines)
            stops = _run_stops(lines, columnar, tslice, reclen) if columnar else [count]
            stop = 0  # index into stops
            k = 0
            while k < count:
                if columnar and phase == 1 and n > 0:
                    while stops[stop] < k:
                        stop += 1
                    end = min(stops[stop], k + most)
                    if end - k > 1:  # a run of detail records of one type: column by column
                        run = lines[k:end]
                        plan = columnar[run[0][tslice]]  # type: ignore[index]
                        done = plan.read(run, n + 1, spaces_only)  # type: ignore[arg-type]
                        if done is not None:
                            run_values, records = done
                            if pending:  # the tallies see the records in file order
                                _feed(tallies, pending)
                            _feed(tallies, run_values)  # type: ignore[arg-type]
                            n += end - k
                            k = end
                            del done, run_values, run
                            yield from records
                            del records  # gone before the next run's are made (see _RUN)
                            continue
                line = lines[k]
                k += 1
                n += 1
                if line.__class__ is not str:  # undecodable: E101, its type told if possible
                    assert isinstance(line, _Undecodable)
                    info = by_code.get(_text_of(line, encoding)[tslice])
                    if n == 1:
                        first_was_header = info is not None and info.role == "header"
                        if not first_was_header:
                            yield self._header_missing(line)
                            phase = 1
                    if phase == 2:
                        yield self._reject(n, line, [_after_trailer(n, line, encoding)], info)
                        continue
                    if info is not None and info.role == "detail":
                        pending.append(None)
                    elif info is not None and info.role == "trailer":
                        phase = 2
                    yield self._reject(n, line, [_decode_message(n, line, encoding)], info)
                    continue
                assert isinstance(line, str)
                role, fast, getter, values_of, rules, converters, code, info = hot.get(
                    line[tslice], missing
                )
                if n == 1:
                    first_was_header = info is not None and info.role == "header"
                    if not first_was_header:
                        yield self._header_missing(line)
                        phase = 1
                if phase == 2:
                    yield self._reject(n, line, [_after_trailer(n, line, encoding)], info)
                    continue
                if len(line) != reclen:
                    message = _structure(
                        n, line, f"the record has {len(line)} characters, not {reclen}"
                    )
                    if info is not None and info.role == "detail":
                        pending.append(None)
                    elif info is not None and info.role == "trailer":
                        phase = 2
                    yield self._reject(n, line, [message], info)
                    continue
                if info is None:
                    message = Message(
                        "E107",
                        line=n,
                        field=layout.header.fields[0].name,
                        raw=line,
                        detail=f"unknown record type {line[tslice]!r}",
                    )
                    yield self._reject(n, line, [message], None)
                    continue
                if role == "detail":
                    if fast is not None and sep not in line:
                        m = fast(sep.join(getter(line)))
                        if m is not None:
                            values = values_of(m)
                            problems: list[Message] | None = None
                            for rule in rules:
                                problem = rule(values)
                                if problem is not None:
                                    if problems is None:
                                        problems = []
                                    problems.append(attrs.evolve(problem, line=n, raw=line))
                            pending.append(values)
                            if problems is None:
                                yield Record(
                                    n,
                                    values,
                                    line,
                                    _LazyTyped(values, converters),
                                    code,
                                )
                            else:
                                yield self._reject(n, line, problems, info)
                            continue
                    tallied, item = self._slow(n, line, info)
                    pending.append(tallied)
                    yield item
                    continue
                if role == "header":
                    if n != 1:
                        why = "a second header" if first_was_header else "the header is not first"
                        yield self._reject(n, line, [_structure(n, line, why)], info)
                        continue
                    phase = 1
                    _, item = self._slow(n, line, info)
                    if isinstance(item, Record):
                        self.header = item
                    yield item
                    continue
                # trailer
                phase = 2
                _, item = self._slow(n, line, info)
                if isinstance(item, Record):
                    self.trailer = item
                    _feed(tallies, pending)
                    problems = []
                    header_values = self.header.values if self.header is not None else None
                    for tally in tallies:
                        problem = tally.verify(header_values, item.values)
                        if problem is not None:
                            problems.append(attrs.evolve(problem, line=n, raw=line))
                    if problems and strict:
                        raise error_for(*problems)
                    yield item
                    for problem in problems:
                        yield Notice(problem)
                    continue
                yield item
            if pending:
                _feed(tallies, pending)
            self.records = n
        self.records = n
        if n == 0:
            message = Message("E104", detail="the file is empty: header missing")
            if strict:
                raise error_for(message)
            yield Notice(message)
        if phase != 2:
            message = Message("E104", detail=f"trailer missing after record {n}")
            if strict:
                raise error_for(message)
            yield Notice(message)

    def _header_missing(self, line: str | _Undecodable) -> Notice:
        text = _text_of(line, self.encoding)
        header = self.layout.header
        message = Message(
            "E104",
            line=1,
            field=header.fields[0].name,
            raw=text,
            detail=f"header missing: the first record's type is {text[self.layout.type_slice]!r}",
        )
        if self.mode is Mode.STRICT:
            raise error_for(message)
        return Notice(message)

    def _reject(
        self,
        n: int,
        line: str | _Undecodable,
        messages: list[Message],
        info: _TypeInfo | None,
    ) -> Rejected:
        if self.mode is Mode.STRICT:
            raise error_for(*messages)
        code = info.rtype.code if info is not None else None
        return Rejected(n, _text_of(line, self.encoding), tuple(messages), code)

    def _slow(self, n: int, line: str, info: _TypeInfo) -> tuple[Tallied, Item]:
        """Field by field, with every message; the values for the checks either way (refused
        fields as ``None``)."""
        values: dict[str, str] = {}
        refused: list[str] = []
        cache: dict[str, Any] = {}
        problems: list[Message] = []
        for field, where in info.slices:
            text = line[where]
            if field.filler:
                if text.strip(" "):
                    problems.append(
                        Message(
                            "E104",
                            line=n,
                            field=field.name,
                            raw=line,
                            detail=f"positions {field.start}-{field.end} must be spaces",
                        )
                    )
                continue
            value = field.strip(text)
            values[field.name] = value
            if field.constant is not None:
                if value != field.constant:
                    problems.append(
                        Message(
                            "E207",
                            line=n,
                            field=field.name,
                            raw=line,
                            detail=f"expected {field.constant!r}, found {value!r}",
                        )
                    )
                continue
            if value == "":
                if field.required:
                    refused.append(field.name)
                    problems.append(
                        Message("E208", line=n, field=field.name, raw=line, detail="empty")
                    )
                continue
            converter = field.converter
            if converter is None:
                continue
            try:
                parsed = converter.parse(value)
                canonical = converter.format(parsed)
            except InvalidValueError as exc:
                refused.append(field.name)
                problems.append(_field_message(exc.message, n, field.name, line, value))
                continue
            values[field.name] = canonical
            cache[field.name] = parsed
        if not problems:
            for rule in info.rules:
                problem = rule(values)
                if problem is not None:
                    problems.append(attrs.evolve(problem, line=n, raw=line))
        if problems:
            tallied: dict[str, str | None] = dict(values)
            for name in refused:
                tallied[name] = None
            return tallied, self._reject(n, line, problems, info)
        typed = _LazyTyped(values, info.converters, cache)
        return values, Record(n, values, line, typed, info.rtype.code)


def _text_of(line: str | _Undecodable, encoding: str) -> str:
    if isinstance(line, _Undecodable):
        return line.data.decode(encoding, "backslashreplace")
    return line


def _decode_message(n: int, line: _Undecodable, encoding: str) -> Message:
    exc = line.error
    bad = line.data[exc.start : exc.end]
    return Message(
        "E101",
        line=n,
        raw=_text_of(line, encoding),
        detail=f"byte(s) {bad.hex(' ')} at column {exc.start + 1} not defined in {encoding}",
    )


def _after_trailer(n: int, line: str | _Undecodable, encoding: str) -> Message:
    return Message(
        "E104", line=n, raw=_text_of(line, encoding), detail="a record after the trailer"
    )


def _structure(n: int, line: str, detail: str) -> Message:
    return Message("E104", line=n, raw=line, detail=detail)


def _field_message(message: Message, n: int, field: str, line: str, value: str) -> Message:
    detail = f"{value!r}: {message.detail}" if message.detail else repr(value)
    return attrs.evolve(message, line=n, field=field, raw=line, detail=detail)


def read_fixed(
    source: Source,
    layout: FixedLayout,
    *,
    mode: Mode = Mode.STRICT,
    encoding: str | None = None,
    chunk_size: int = _CHUNK,
    fast: bool = True,
) -> FixedReader:
    """Read a fixed-width file of *layout* from *source*, streaming.

    *source* is the file as bytes, a binary file object, or an iterable of bytes chunks; the
    reader holds one chunk (``chunk_size`` bytes) and one record at a time, so memory does not
    grow with the file.  Line ends may be CRLF, LF or CR.  *encoding* overrides the layout's.

    Checks: every record exactly ``record_length`` characters (E104), known record types
    (E107), the header first and once, the trailer last and once (E104), every field by its
    converter (E2xx with the field's name), required fields (E208), the record types' rules,
    the layout's checks on the trailer (E104), and decoding (E101: never replaced).  In strict
    mode the first error raises (:func:`~emma_osplus.error_for`); in lenient mode bad records
    come back whole as :class:`~emma_osplus.Rejected` and failed trailer checks as
    :class:`~emma_osplus.Notice`.

    Runs of detail records of one type are read column by column (every field of every record
    checked at once, :class:`~emma_osplus._converters.ColumnCheck`; rules declared with
    :func:`rule_reads` once per distinct combination of the fields they read); a single
    record is matched by one regex over its fields.  Anything in doubt goes through the exact
    path, field by field, which gives every message.  ``fast=False`` turns both fast paths off
    (for tests: the result is the same).
    """
    return FixedReader(
        source, layout, mode=mode, encoding=encoding, chunk_size=chunk_size, fast=fast
    )


# --------------------------------------------------------------------------------------------
# Writing


def _raise(code: str, n: int, field: str | None, raw: str | None, detail: str) -> MessageError:
    return error_for(Message(code, line=n, field=field, raw=raw, detail=detail))


def _field_text(field: Field, value: Any, n: int) -> str:
    """The canonical text of *value* for *field* (checked), not yet padded."""
    if field.constant is not None:
        if value is not None and value != field.constant:
            raise _raise("E207", n, field.name, str(value), f"expected {field.constant!r}")
        return field.constant
    if value is None or value == "":
        text = ""
    elif (
        field.pattern is not None
        and isinstance(value, str)
        and _fullmatcher(field.pattern)(value) is not None
    ):
        text = value  # valid and canonical by the pattern's contract
    elif field.converter is not None:
        converter = field.converter
        try:
            if isinstance(value, str):
                text = converter.canonical(value)
            else:
                text = converter.canonical(converter.format(value))
        except InvalidValueError as exc:
            message = exc.message
            raise error_for(
                attrs.evolve(message, line=n, field=field.name, raw=str(value))
            ) from None
        except (TypeError, ValueError) as exc:
            raise _raise("E209", n, field.name, repr(value), str(exc)) from None
    elif isinstance(value, str):
        text = value
    else:
        raise _raise(
            "E209", n, field.name, repr(value), f"expected text, got {type(value).__name__}"
        )
    if text == "":
        if field.required:
            raise _raise("E208", n, field.name, "", "empty")
        return ""
    if len(text) > field.length:
        raise _raise(
            "E206", n, field.name, text, f"{len(text)} characters, the field has {field.length}"
        )
    if "\r" in text or "\n" in text:
        raise _raise("E206", n, field.name, text, "a line end cannot be written in a record")
    edge = text[-1] if field.align == "left" else text[0]
    if edge in (field.pad, " "):
        back: str | None = field.strip(field.pad_text(text))
        if field.converter is not None and back:
            try:
                back = field.converter.canonical(back)
            except InvalidValueError:
                back = None
        if back != text:
            side = "trailing" if field.align == "left" else "leading"
            raise _raise(
                "E206", n, field.name, text, f"{side} {field.pad!r} would be read as padding"
            )
    return text


def _format_record(
    rtype: RecordType, values: Mapping[str, Any], n: int, encoding: str
) -> tuple[str, dict[str, str]]:
    known = {f.name for f in rtype.fields if not f.filler}
    for key in values:
        if key not in known:
            raise _raise("E206", n, key, None, f"record type {rtype.code!r} has no field {key}")
    parts: list[str] = []
    canonical: dict[str, str] = {}
    for field in rtype.fields:
        if field.filler:
            parts.append(" " * field.length)
            continue
        text = _field_text(field, values.get(field.name), n)
        canonical[field.name] = text
        parts.append(field.pad_text(text))
    for rule in rtype.rules:
        problem = rule(canonical)
        if problem is not None:
            raise error_for(attrs.evolve(problem, line=n))
    line = "".join(parts)
    try:
        line.encode(encoding)
    except UnicodeEncodeError as exc:
        field = next(f for f in rtype.fields if f.start - 1 <= exc.start < f.stop)
        raise _raise(
            "E206",
            n,
            field.name,
            canonical.get(field.name),
            f"{line[exc.start]!r} is not encodable in {encoding}",
        ) from None
    return line, canonical


def _detail_type(layout: FixedLayout, values: Mapping[str, Any], n: int) -> RecordType:
    details = layout.details
    if len(details) == 1:
        return details[0]
    type_name = next(f.name for f in details[0].fields if f.start == layout.type_start)
    code = values.get(type_name)
    for rtype in details:
        if rtype.code == code:
            return rtype
    raise _raise("E107", n, type_name, None if code is None else str(code), "which detail type?")


def iter_fixed(
    layout: FixedLayout,
    header_values: Mapping[str, Any],
    details: Iterable[Mapping[str, Any]],
    trailer_values: Mapping[str, Any] | None = None,
    *,
    encoding: str | None = None,
    records_per_chunk: int = 1000,
) -> Iterator[bytes]:
    """Write a fixed-width file of *layout* as chunks of bytes (CRLF after every record).

    Values may be canonical text or typed values (formatted by the field's converter);
    constant fields and fillers fill themselves.  With several detail types each detail names
    its type in the type field.  Trailer values the checks compute (count, sum, fields repeated
    from the header) are filled in where *trailer_values* does not give them; given ones must
    agree (E104).  A value that is too long for its field, not encodable, or would not read back
    unchanged is E206 naming the record number and field; converters' and rules' refusals keep
    their codes.  Nothing is truncated or replaced.
    """
    encoding = encoding or layout.encoding
    tallies = [check.start() for check in layout.checks]
    header_line, header_canonical = _format_record(layout.header, header_values, 1, encoding)
    out = [header_line]
    n = 1
    batch: list[Tallied | None] = []
    for values in details:
        n += 1
        line, canonical = _format_record(_detail_type(layout, values, n), values, n, encoding)
        out.append(line)
        batch.append(canonical)
        if len(out) >= records_per_chunk:
            _feed(tallies, batch)
            yield ("\r\n".join(out) + "\r\n").encode(encoding)
            out = []
    _feed(tallies, batch)
    n += 1
    trailer: dict[str, Any] = dict(trailer_values or {})
    for tally in tallies:
        tally.fill(header_canonical, trailer)
    line, canonical = _format_record(layout.trailer, trailer, n, encoding)
    for tally in tallies:
        problem = tally.verify(header_canonical, canonical)
        if problem is not None:
            raise error_for(attrs.evolve(problem, line=n, raw=line))
    out.append(line)
    yield ("\r\n".join(out) + "\r\n").encode(encoding)


def write_fixed(
    layout: FixedLayout,
    header_values: Mapping[str, Any],
    details: Iterable[Mapping[str, Any]],
    trailer_values: Mapping[str, Any] | None = None,
    *,
    encoding: str | None = None,
) -> bytes:
    """The whole file :func:`iter_fixed` writes, as one bytes object."""
    return b"".join(iter_fixed(layout, header_values, details, trailer_values, encoding=encoding))
