"""What the reading engines yield, whatever the family (CSV, fixed-width, XML).

A reader is an iterator of :data:`Item` objects.  Good records come as :class:`Record`, bad
ones as :class:`Rejected` (whole, with the raw text and every message), and file-level or
summary problems as :class:`Notice`.  In :attr:`Mode.STRICT` the first error raises instead
(see :func:`emma_osplus.error_for`); warnings never raise.  Nothing is dropped in either mode.

>>> from emma_osplus import Mode, Record
>>> Record(line=2, values={"KUNDENNUMMER": "0000004711"}, raw="4711").values["KUNDENNUMMER"]
'0000004711'
>>> Mode("lenient")
<Mode.LENIENT: 'lenient'>
"""

from __future__ import annotations

import enum
import itertools
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeAlias

import attrs

from ._messages import Message, mask_addresses

__all__ = ["Item", "Mode", "Notice", "Record", "Rejected"]


class Mode(enum.Enum):
    """Strict readers raise on the first error; lenient readers report and go on."""

    STRICT = "strict"
    LENIENT = "lenient"


def _masked_repr(cls_name: str, line: int, raw: str, extra: str) -> str:
    return f"{cls_name}(line={line!r}, raw={mask_addresses(raw)!r}{extra})"


@attrs.frozen(repr=False)
class Record:
    """A good record.

    ``line`` is the physical line where it starts (CSV; header = 1) or its record number
    (fixed-width; header = 1).  ``values`` maps field names to canonical text (CSV: every
    column of the header, in header order; fixed-width: the record type's fields with padding
    removed).  ``typed`` maps field names to converted values (domain types) where the layout
    has a converter.  ``record_type`` names the fixed-width record type (``None`` for CSV).
    ``messages`` holds warnings about the record (e.g. W201); never errors.
    """

    line: int
    values: Mapping[str, str]
    raw: str
    typed: Mapping[str, Any] = attrs.field(factory=dict)
    record_type: str | None = None
    messages: tuple[Message, ...] = ()

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={mask_addresses(v)!r}" for k, v in self.values.items())
        return _masked_repr("Record", self.line, self.raw, f", values={{{fields}}}")


@attrs.frozen(repr=False)
class Rejected:
    """A bad record, handed back whole: raw text, position and every message about it."""

    line: int
    raw: str
    messages: tuple[Message, ...]
    record_type: str | None = None

    def __repr__(self) -> str:
        codes = ", ".join(m.code for m in self.messages)
        return _masked_repr("Rejected", self.line, self.raw, f", codes=[{codes}]")


@attrs.frozen
class Notice:
    """A file-level or summary message that belongs to no single record (e.g. E104, W201)."""

    message: Message


Item: TypeAlias = Record | Rejected | Notice


# --------------------------------------------------------------------------------------------
# What the engines use to build records fast (private)


class _Parser(Protocol):
    def parse(self, text: str) -> Any: ...


class _LazyTyped(Mapping[str, Any]):
    """``Record.typed`` of a record read on a fast path: the converters' values, made on first
    access from the canonical text in ``values`` (which was checked while reading, so parsing
    cannot fail: ``converter.parse`` of canonical text gives the value the reader's check
    found).  An empty text is ``None``.  Equal to the ``dict`` of the same items.

    >>> from emma_osplus.converters import DATE
    >>> typed = _LazyTyped({"D": "01.02.2026", "X": ""}, {"D": DATE, "X": DATE})
    >>> typed["D"], typed["X"], len(typed), typed == {"D": typed["D"], "X": None}
    (datetime.date(2026, 2, 1), None, 2, True)
    """

    __slots__ = ("_cache", "_converters", "_values")

    def __init__(
        self,
        values: Mapping[str, str],
        converters: Mapping[str, _Parser],
        cache: dict[str, Any] | None = None,
    ) -> None:
        self._values = values
        self._converters = converters
        self._cache = cache

    def __getitem__(self, key: str) -> Any:
        try:
            cache = self._cache
        except AttributeError:  # made by _make_records: no cache yet
            cache = None
        if cache is None:
            cache = self._cache = {}
        elif key in cache:
            return cache[key]
        converter = self._converters[key]
        text = self._values[key]
        if text == "":
            value = None
        else:
            parse = getattr(converter, "_parse_canonical", None)
            value = converter.parse(text) if parse is None else parse(text)
        cache[key] = value
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._converters

    def __iter__(self) -> Iterator[str]:
        return iter(self._converters)

    def __len__(self) -> int:
        return len(self._converters)

    def __repr__(self) -> str:
        return repr(dict(self))


#: Beyond this many columns a row's dict is made by ``dict(zip(names, row))``.
_BUILDER_LIMIT = 256


def _dict_builder(names: Sequence[str]) -> Callable[..., dict[str, str]]:
    """A function of ``len(names)`` positional texts that returns the dict of *names* to
    them: ``dict(zip(names, texts))``, made about twice as fast by one generated expression
    (the keys as constants, the dict built at its final size; for ``itertools.starmap`` over
    the rows of a batch).  The names appear in the generated source only as ``repr`` of
    strings, so a header cannot inject code.

    >>> build = _dict_builder(["A", "B'", "A"])
    >>> build("1", "2", "3") == dict(zip(["A", "B'", "A"], ["1", "2", "3"]))
    True
    """
    count = len(names)
    if count > _BUILDER_LIMIT or not all(type(name) is str for name in names):
        keys = tuple(names)
        return lambda *texts: dict(zip(keys, texts))  # noqa: B905 - the caller's lengths
    params = ", ".join(f"v{j}" for j in range(count))
    items = ", ".join(f"{name!r}: v{j}" for j, name in enumerate(names))
    builder: Callable[..., dict[str, str]] = eval(f"lambda {params}: {{{items}}}", {})
    return builder


_new = object.__new__
_slot = Record.__dict__
_set_line: Callable[[Record, int], None] = _slot["line"].__set__
_set_values: Callable[[Record, Mapping[str, str]], None] = _slot["values"].__set__
_set_raw: Callable[[Record, str], None] = _slot["raw"].__set__
_set_typed: Callable[[Record, Mapping[str, Any]], None] = _slot["typed"].__set__
_set_record_type: Callable[[Record, str | None], None] = _slot["record_type"].__set__
_set_messages: Callable[[Record, tuple[Message, ...]], None] = _slot["messages"].__set__


def _make_record(  # noqa: PLR0917 - the constructor's positional order
    line: int,
    values: Mapping[str, str],
    raw: str,
    typed: Mapping[str, Any],
    record_type: str | None = None,
    messages: tuple[Message, ...] = (),
) -> Record:
    """``Record(line, values, raw, typed, record_type, messages)`` without the generated
    ``__init__`` (which sets the slots one ``object.__setattr__`` call at a time): the same
    object, for the readers' hot loops.

    >>> _make_record(2, {"A": "1"}, "1", {}) == Record(2, {"A": "1"}, "1", {})
    True
    """
    record = _new(Record)
    _set_line(record, line)
    _set_values(record, values)
    _set_raw(record, raw)
    _set_typed(record, typed)
    _set_record_type(record, record_type)
    _set_messages(record, messages)
    return record


_repeat = itertools.repeat
_set_typed_values: Callable[[_LazyTyped, Mapping[str, str]], None] = _LazyTyped.__dict__[
    "_values"
].__set__
_set_typed_converters: Callable[[_LazyTyped, Mapping[str, _Parser]], None] = _LazyTyped.__dict__[
    "_converters"
].__set__


def _make_records(
    lines: Sequence[int],
    values: Sequence[Mapping[str, str]],
    raws: Sequence[str],
    converters: Mapping[str, _Parser],
    record_type: str | None = None,
) -> list[Record]:
    """Good records without messages, typed lazily by *converters* (:class:`_LazyTyped`):
    what ``[_make_record(*r, _LazyTyped(r[1], converters), record_type) for r in zip(lines,
    values, raws)]`` gives, built slot by slot over the whole batch (no Python call per
    record).

    >>> [r] = _make_records([2], [{"A": "1"}], ["1"], {})
    >>> r == Record(2, {"A": "1"}, "1", {}), r.typed == {}
    (True, True)
    """
    count = len(lines)
    consume: Callable[[Iterator[Any]], None] = deque(maxlen=0).extend
    typed = list(map(_new, _repeat(_LazyTyped, count)))
    consume(map(_set_typed_values, typed, values))
    consume(map(_set_typed_converters, typed, _repeat(converters, count)))
    records = list(map(_new, _repeat(Record, count)))
    consume(map(_set_line, records, lines))
    consume(map(_set_values, records, values))
    consume(map(_set_raw, records, raws))
    consume(map(_set_typed, records, typed))
    consume(map(_set_record_type, records, _repeat(record_type, count)))
    consume(map(_set_messages, records, _repeat((), count)))
    return records
