"""The JSON view: one documented JSON form for every file kind (FORMATS.md, "The JSON view").

``emma-osplus inspect FILE --json`` prints it and ``emma-osplus write`` turns it back into the
file.  A view is a JSON object with the keys ``kind``, ``profile``, ``encoding``, ``header``,
``records``, ``trailer``, ``document`` and ``messages``:

* CSV kinds (``KMM``, ``REKU``, ``IAM``, ``CONS``): ``header.columns`` in file order, every good
  record as an object column → canonical text (``""`` for an empty field);
* ``RESP``: ``header`` and ``trailer`` map their field names to values, records map the detail
  field names (without ``SATZART``) to values with the padding removed;
* XML kinds (``LIEF``, ``VREKU``, ``VIAM``, ``QUIT``): ``records`` is empty and ``document``
  mirrors the XML (attributes, child elements, ``"#text"``);
* ``messages``: every problem in file order, as ``code``, ``level`` (``error`` or
  ``warning``), ``line``, ``field``, ``message`` and ``raw`` (a rejected record whole).

>>> data = ("KUNDENNUMMER;EMAIL;Vorname;Lieblingsfiliale\\r\\n"
...         "4711;anna@example.de;Anna;Neumarkt\\r\\n"
...         "4712;kein-at-zeichen;Jörg;\\r\\n").encode("cp1252")
>>> view = to_json_view(data, name="37050198_KMM_K2026001_20261122093000_0001.csv")
>>> view["kind"], view["encoding"], view["header"]
('KMM', {'name': 'windows-1252', 'source': 'default', 'confidence': 0.9}, {'columns': ['KUNDENNUMMER', 'EMAIL', 'VORNAME', 'Lieblingsfiliale']})
>>> view["records"]
[{'KUNDENNUMMER': '0000004711', 'EMAIL': 'anna@example.de', 'VORNAME': 'Anna', 'Lieblingsfiliale': 'Neumarkt'}]
>>> [(m["code"], m["level"], m["line"], m["field"], m["raw"]) for m in view["messages"]]
[('E201', 'error', 3, 'EMAIL', '4712;kein-at-zeichen;Jörg;')]

Writing a view gives the canonical file; for a canonical file that is the file itself:

>>> from_json_view(view)
b'KUNDENNUMMER;EMAIL;VORNAME;Lieblingsfiliale\\r\\n0000004711;anna@example.de;Anna;Neumarkt\\r\\n'
>>> canonical = from_json_view(view)
>>> from_json_view(to_json_view(canonical, kind="KMM")) == canonical
True

**Profiles.**  Everything kind-specific sits in a :class:`Profile`: its name (the view's
``profile``), the table kind → :class:`CsvKind` / :class:`FixedKind` / :class:`XmlKind` (which
reader and writer, as layout data over the three engines) and its own ``cattrs`` converter,
which turns a view into a :class:`JsonView` and back and refuses anything that is not one (a
number where text belongs, an unknown key, a message code that does not exist).  There is no
global converter: :data:`REFERENCE_1` is reference profile 1 with the packaged occasion
registry; :func:`reference_profile` builds it with another registry.

**Streaming.**  :func:`iter_json_view` reads a file record by record
(:class:`JsonViewStream`): it yields each record's values and each message as they come and
keeps counts, and :meth:`JsonViewStream.write_json` writes the JSON text of the view without
holding the records (messages wait in a temporary file), so ``inspect`` of a file with a
million rows needs no more memory than one of a thousand.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, Protocol, TextIO

import attrs
import cattrs
from cattrs.v import format_exception

from ._control import ControlFile, control_from_document, read_control, write_control
from ._csv import CsvLayout, iter_csv, read_csv
from ._encoding import DetectedEncoding, normalise_encoding
from ._errors import EmmaOsplusError, MessageError, error_for
from ._filenames import FILE_KINDS, parse_file_name
from ._fixed import FixedLayout, iter_fixed, read_fixed
from ._manifest import manifest_from_document, read_manifest, write_manifest
from ._messages import CATALOGUE, Message
from ._quit import acknowledgement_from_document, read_acknowledgement, write_acknowledgement
from ._records import Item, Mode, Notice, Record, Rejected
from ._xml import OccasionResolver, XmlResult

__all__ = [
    "REFERENCE_1",
    "CsvKind",
    "FixedKind",
    "JsonView",
    "JsonViewError",
    "JsonViewStream",
    "KindCodec",
    "Profile",
    "XmlKind",
    "dumps",
    "from_json_view",
    "iter_file_bytes",
    "iter_json_view",
    "loads",
    "message_from_json",
    "message_to_json",
    "reference_profile",
    "to_json_view",
]

#: What readers take: the whole file as bytes, a binary file object, or chunks of bytes.
Source = bytes | bytearray | memoryview | IO[bytes] | Iterable[bytes]

#: What a :class:`JsonViewStream` yields: a good record's values, or a message.
ViewEvent = dict[str, str] | Message


class JsonViewError(EmmaOsplusError, ValueError):
    """A JSON text or object that is not a JSON view of its profile (or not JSON at all).

    ``problems`` lists each problem with its place (``$.records[3]['EMAIL']``).  Problems in
    the *data* of a well-formed view (a bad email, a customer number twice) are not this error
    but the :class:`~emma_osplus.MessageError` of their message code.
    """

    def __init__(self, summary: str, problems: Sequence[str] = ()) -> None:
        self.summary = summary
        self.problems: tuple[str, ...] = tuple(problems)
        text = summary if not problems else summary + ": " + "; ".join(problems)
        super().__init__(text)


# ---------------------------------------------------------------------------------------------
# Messages and encodings in JSON
# ---------------------------------------------------------------------------------------------


def _message_text(message: Message) -> str:
    return f"{message.text} ({message.detail})" if message.detail else message.text


def message_to_json(message: Message) -> dict[str, Any]:
    """A message as the view writes it: code, level, line, field, message, raw.

    >>> message_to_json(Message("W201", line=3, field="EMAIL", detail="same address as line 2"))
    {'code': 'W201', 'level': 'warning', 'line': 3, 'field': 'EMAIL', 'message': 'Eine Adresse für mehrere Kunden (same address as line 2)', 'raw': None}
    """
    return {
        "code": message.code,
        "level": message.severity.value,
        "line": message.line,
        "field": message.field,
        "message": _message_text(message),
        "raw": message.raw,
    }


class _Refusal(ValueError):
    """A structuring problem whose own text is the explanation."""


@attrs.frozen
class _MessageJson:
    code: str
    level: str | None = None
    line: int | None = None
    field: str | None = None
    message: str | None = None
    raw: str | None = None


@attrs.frozen
class _EncodingJson:
    name: str
    source: str
    confidence: float


def _to_message(value: _MessageJson) -> Message:
    definition = CATALOGUE.get(value.code)
    if definition is None:
        raise _Refusal(f"unknown message code {value.code!r}")
    if value.level is not None and value.level != definition.severity.value:
        raise _Refusal(
            f"level {value.level!r} does not match code {value.code} ({definition.severity.value})"
        )
    if value.line is not None and value.line < 1:
        raise _Refusal(f"line {value.line} is not a positive number")
    if value.message is None:
        return Message(value.code, line=value.line, field=value.field, raw=value.raw)
    return Message(
        value.code, line=value.line, field=value.field, raw=value.raw, text=value.message
    )


def message_from_json(value: Mapping[str, Any], *, profile: Profile | None = None) -> Message:
    """The :class:`~emma_osplus.Message` of a view's message object (the inverse of
    :func:`message_to_json`, with ``message`` as the text); :class:`JsonViewError` otherwise.

    >>> message_from_json({"code": "E201", "line": 3, "field": "EMAIL", "message": "kaputt"})
    Message(code='E201', line=3, field='EMAIL', raw=None, text='kaputt', detail=None)
    """
    message: Message = (profile or REFERENCE_1).structure_part(value, Message)
    return message


def _to_encoding(value: _EncodingJson) -> DetectedEncoding:
    try:
        name = normalise_encoding(value.name)
    except MessageError:
        raise _Refusal(f"encoding {value.name!r} is not one of the interface's") from None
    if name != value.name:
        raise _Refusal(f"encoding name {value.name!r}: write it as {name!r}")
    if value.source not in ("declared", "bom", "utf-8", "detected", "default"):
        raise _Refusal(f"encoding source {value.source!r} is not one of the known ones")
    if not 0 <= value.confidence <= 1:
        raise _Refusal(f"confidence {value.confidence} is not between 0 and 1")
    return DetectedEncoding(name, value.source, float(value.confidence))


def _strict_str(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise _Refusal(f"expected text, got {_json_type(value)}")
    return value


def _strict_int(value: object, _: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Refusal(f"expected an integer, got {_json_type(value)}")
    return value


def _strict_float(value: object, _: object) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise _Refusal(f"expected a number, got {_json_type(value)}")
    return float(value)


def _json_type(value: object) -> str:
    names = {str: "text", bool: "true/false", int: "a number", float: "a number"}
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return names.get(type(value), type(value).__name__)


def _format_problem(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, _Refusal):
        return str(exc)
    return format_exception(exc, type_)


def make_converter() -> cattrs.Converter:
    """A new converter for the JSON view (one per :class:`Profile`): strict JSON types (no
    number where text belongs), no unknown keys, messages and encodings checked."""
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(float, _strict_float)
    converter.register_unstructure_hook(DetectedEncoding, lambda e: e.as_json())
    converter.register_structure_hook(
        DetectedEncoding, lambda v, _: _to_encoding(converter.structure(v, _EncodingJson))
    )
    converter.register_unstructure_hook(Message, message_to_json)
    converter.register_structure_hook(
        Message, lambda v, _: _to_message(converter.structure(v, _MessageJson))
    )
    return converter


# ---------------------------------------------------------------------------------------------
# The view
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class JsonView:
    """A JSON view as an object (:meth:`Profile.structure` / :meth:`Profile.unstructure`).

    ``header`` is ``{"columns": [...]}`` for CSV kinds, the header's values for ``RESP`` and
    ``None`` for XML kinds; ``trailer`` the trailer's values (``RESP`` only); ``document`` the
    XML document (XML kinds only); ``encoding`` ``None`` when the bytes could not be decoded.
    """

    kind: str
    profile: str
    encoding: DetectedEncoding | None = None
    header: dict[str, Any] | None = None
    records: list[dict[str, str]] = attrs.field(factory=list)
    trailer: dict[str, str] | None = None
    document: dict[str, Any] | None = None
    messages: list[Message] = attrs.field(factory=list)

    @property
    def errors(self) -> list[Message]:
        """The messages that are errors."""
        return [m for m in self.messages if m.is_error]


# ---------------------------------------------------------------------------------------------
# Kinds: how each family reads and writes
# ---------------------------------------------------------------------------------------------


class Reading(Protocol):
    """One reading of a file by a :class:`KindCodec` (used by :class:`JsonViewStream`).

    ``start()`` reads as far as needed to know ``encoding``, ``header`` and ``document``;
    ``items()`` then yields the records (a :class:`~emma_osplus.Record` whose ``values`` are
    the view's record), rejected records and notices; ``trailer`` is known at the end.
    """

    encoding: DetectedEncoding | None
    header: dict[str, Any] | None
    trailer: dict[str, str] | None
    document: dict[str, Any] | None

    def start(self) -> None:
        """Read the head of the file."""

    def items(self) -> Iterator[Item]:
        """The records and problems, in file order."""


class KindCodec(Protocol):
    """A kind of a profile: reads a file into the parts of a view and writes a view back."""

    @property
    def kind(self) -> str:
        """The kind code (``KMM``, ``RESP``, ``LIEF`` …)."""

    @property
    def family(self) -> str:
        """``csv``, ``fixed`` or ``xml``."""

    def open(self, source: Source, *, encoding: str | None, mode: Mode) -> Reading:
        """A reading of *source* (*encoding* declared, or ``None`` to detect)."""

    def write(self, view: JsonView) -> Iterator[bytes]:
        """The canonical bytes of *view*, in chunks."""


def _refuse_parts(view: JsonView, **present: bool) -> None:
    wrong = [name for name, there in present.items() if there]
    if wrong:
        raise JsonViewError(
            f"a {view.kind} view has no {', '.join(wrong)}",
            [f"$.{name}: must be {'[]' if name == 'records' else 'null'}" for name in wrong],
        )


class _CsvReading:
    def __init__(self, codec: CsvKind, source: Source, encoding: str | None, mode: Mode) -> None:
        self.reader = read_csv(source, codec.layout, mode=mode, encoding=encoding)
        self.encoding: DetectedEncoding | None = None
        self.header: dict[str, Any] | None = None
        self.trailer: dict[str, str] | None = None
        self.document: dict[str, Any] | None = None

    def start(self) -> None:
        columns = self.reader.read_header()
        self.encoding = self.reader.encoding
        if columns is not None:
            self.header = {"columns": list(columns)}

    def items(self) -> Iterator[Item]:
        return iter(self.reader)


@attrs.frozen
class CsvKind:
    """A CSV kind: its :class:`~emma_osplus._csv.CsvLayout`.  When ``canonical_order`` is set,
    :meth:`write` writes the layout's columns in layout order (``CONS``), else the view's
    ``header.columns`` in their order (subscriber lists keep the file's order)."""

    kind: str
    layout: CsvLayout
    canonical_order: bool = False
    family: str = "csv"

    def open(self, source: Source, *, encoding: str | None, mode: Mode) -> Reading:
        """Read *source* with the generic CSV engine."""
        return _CsvReading(self, source, encoding, mode)

    def write(self, view: JsonView) -> Iterator[bytes]:
        """The canonical CSV file of *view* (``encoding.name``; the layout's without one)."""
        _refuse_parts(view, trailer=view.trailer is not None, document=view.document is not None)
        header = view.header
        if header is None:
            raise JsonViewError(f"a {view.kind} view needs its header", ["$.header: missing"])
        columns = header.get("columns")
        extra = sorted(set(header) - {"columns"})
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns) or extra:
            raise JsonViewError(
                f'a {view.kind} view\'s header is {{"columns": [text, ...]}}',
                [
                    f"$.header: {_json_type(columns)} as columns"
                    + (f", extra keys {extra}" if extra else "")
                ],
            )
        if self.canonical_order:
            given = {known.name for c in columns if (known := self.layout.column(c))}
            wanted = [c.name for c in self.layout.columns]
            if given == set(wanted) and len(columns) == len(wanted):
                columns = wanted
        encoding = view.encoding.name if view.encoding is not None else None
        layout = self.layout
        if layout.fixed_encoding and encoding not in (None, layout.encoding):
            raise JsonViewError(
                f"{view.kind} files are {layout.encoding}",
                [f"$.encoding.name: {encoding!r}, not {layout.encoding!r}"],
            )
        return iter_csv(layout, columns, view.records, encoding=encoding)


class _FixedReading:
    def __init__(self, codec: FixedKind, source: Source, encoding: str | None, mode: Mode) -> None:
        layout = codec.layout
        name = normalise_encoding(encoding or layout.encoding)
        detected = DetectedEncoding(name, "declared", 1.0)
        self.encoding: DetectedEncoding | None = detected
        self.header: dict[str, Any] | None = None
        self.trailer: dict[str, str] | None = None
        self.document: dict[str, Any] | None = None
        self._reader = read_fixed(source, layout, mode=mode, encoding=detected.codec)
        self._items = iter(self._reader)
        self._first: Item | None = None
        self._header_code = layout.header.code
        self._trailer_code = layout.trailer.code
        self._type_field = codec.type_field if len(layout.details) == 1 else None

    def start(self) -> None:
        first = next(self._items, None)
        if isinstance(first, Record) and first.record_type == self._header_code:
            self.header = dict(first.values)
        else:
            self._first = first

    def items(self) -> Iterator[Item]:
        header, trailer, drop = self._header_code, self._trailer_code, self._type_field
        items: Iterable[Item] = self._items
        if self._first is not None:
            items = _chain_one(self._first, self._items)
        for item in items:
            if item.__class__ is Record:
                record: Record = item
                code = record.record_type
                if code == trailer:
                    self.trailer = dict(record.values)
                    continue
                if code == header:  # pragma: no cover - the engine rejects a second header
                    continue
                if drop is not None:
                    values = dict(record.values)
                    values.pop(drop, None)
                    record = attrs.evolve(record, values=values)
                yield record
            else:
                yield item


def _chain_one(first: Item, rest: Iterator[Item]) -> Iterator[Item]:
    yield first
    yield from rest


@attrs.frozen
class FixedKind:
    """A fixed-width kind: its :class:`~emma_osplus._fixed.FixedLayout`.  Records in the view
    leave out the record-type field (``type_field``) when the layout has one detail type."""

    kind: str
    layout: FixedLayout
    type_field: str = "SATZART"
    family: str = "fixed"

    def open(self, source: Source, *, encoding: str | None, mode: Mode) -> Reading:
        """Read *source* with the generic fixed-width engine (the layout's encoding unless
        one is declared)."""
        return _FixedReading(self, source, encoding, mode)

    def write(self, view: JsonView) -> Iterator[bytes]:
        """The canonical file of *view*; a trailer in the view must agree with the records
        (E104), a missing one (``null``) is computed."""
        _refuse_parts(view, document=view.document is not None)
        if view.header is None:
            raise JsonViewError(f"a {view.kind} view needs its header", ["$.header: missing"])
        fixed = normalise_encoding(self.layout.encoding)
        if view.encoding is not None and view.encoding.name != fixed:
            raise JsonViewError(
                f"{view.kind} files are {fixed}",
                [f"$.encoding.name: {view.encoding.name!r}, not {fixed!r}"],
            )
        return iter_fixed(self.layout, view.header, view.records, view.trailer)


class _XmlReading:
    def __init__(self, codec: XmlKind, source: Source, encoding: str | None, mode: Mode) -> None:
        if encoding is not None and normalise_encoding(encoding) != "utf-8":
            raise error_for(Message("E101", detail=f"{codec.kind} files are UTF-8, not {encoding}"))
        self.codec = codec
        self.source = source
        self.mode = mode
        self.encoding: DetectedEncoding | None = DetectedEncoding("utf-8", "declared", 1.0)
        self.header: dict[str, Any] | None = None
        self.trailer: dict[str, str] | None = None
        self.document: dict[str, Any] | None = None
        self._messages: list[Message] = []

    def start(self) -> None:
        source = self.source
        if not isinstance(source, (bytes, bytearray, memoryview)) and not hasattr(source, "read"):
            source = b"".join(source)
        result = self.codec.read(source, self.mode)
        messages = list(result.messages)
        if result.value is not None and self.codec.check is not None:
            extra = list(self.codec.check(result.value))
            if extra and self.mode is Mode.STRICT:
                raise error_for(*extra)
            messages.extend(extra)
        self.document = result.document
        self._messages = messages

    def items(self) -> Iterator[Item]:
        return (Notice(m) for m in self._messages)


@attrs.frozen
class XmlKind:
    """An XML kind: ``read(source, mode)`` gives an :class:`~emma_osplus._xml.XmlResult`
    (value, messages, document), ``write(document)`` the canonical bytes of a document (after
    every check a file gets), ``check(value)`` optional further messages (e.g. a control
    file whose ``typ`` is not the kind of its name)."""

    kind: str
    read: Callable[[Any, Mode], XmlResult[Any]]
    write_document: Callable[[Mapping[str, Any]], bytes]
    check: Callable[[Any], Sequence[Message]] | None = None
    family: str = "xml"

    def open(self, source: Source, *, encoding: str | None, mode: Mode) -> Reading:
        """Read *source* with the hardened XML engine (UTF-8 only)."""
        return _XmlReading(self, source, encoding, mode)

    def write(self, view: JsonView) -> Iterator[bytes]:
        """The canonical document of *view* (the view's ``document`` checked as a file)."""
        _refuse_parts(
            view,
            header=view.header is not None,
            records=bool(view.records),
            trailer=view.trailer is not None,
        )
        if view.document is None:
            raise JsonViewError(f"a {view.kind} view needs its document", ["$.document: missing"])
        if view.encoding is not None and view.encoding.name != "utf-8":
            raise JsonViewError(
                f"{view.kind} files are UTF-8", [f"$.encoding.name: {view.encoding.name!r}"]
            )
        data = self.write_document(view.document)
        if self.check is not None:
            # the file must pass the checks it gets when read under this kind (a VIAM view
            # must not write a vreku control file): what was written is read back and checked
            value = self.read(data, Mode.LENIENT).value
            problems = list(self.check(value)) if value is not None else []
            if problems:
                raise error_for(*problems)
        yield data


# ---------------------------------------------------------------------------------------------
# Profiles
# ---------------------------------------------------------------------------------------------


def _check_kinds(instance: Profile, _: object, value: Mapping[str, KindCodec]) -> None:
    for code, codec in value.items():
        if codec.kind != code:
            raise ValueError(f"kind table: {code!r} maps to a codec for {codec.kind!r}")


@attrs.frozen
class Profile:
    """An interface profile: its ``name`` (the view's ``profile``), the table of its kinds and
    its own ``cattrs`` converter for the view.

    >>> REFERENCE_1.name, sorted(REFERENCE_1.kinds)
    ('reference-1', ['CONS', 'IAM', 'KMM', 'LIEF', 'QUIT', 'REKU', 'RESP', 'VIAM', 'VREKU'])
    >>> REFERENCE_1.structure({"kind": "KMM", "profile": "reference-1", "records": [{"EMAIL": 4711}]})
    Traceback (most recent call last):
    ...
    emma_osplus._jsonview.JsonViewError: not a JSON view of profile reference-1: expected text, got a number @ $.records[0]['EMAIL']
    """

    name: str
    kinds: Mapping[str, KindCodec] = attrs.field(validator=_check_kinds)
    converter: cattrs.Converter = attrs.field(factory=make_converter, eq=False, repr=False)

    def codec(self, kind: str) -> KindCodec:
        """The codec of *kind*; :class:`ValueError` for a kind the profile does not have."""
        try:
            return self.kinds[kind]
        except (KeyError, TypeError):
            known = ", ".join(self.kinds)
            raise ValueError(f"profile {self.name} has no kind {kind!r} (known: {known})") from None

    def structure(self, view: Mapping[str, Any]) -> JsonView:
        """The :class:`JsonView` of a JSON object; :class:`JsonViewError` listing every
        problem when it is not a view of this profile."""
        result: JsonView = self.structure_part(view, JsonView)
        if result.profile != self.name:
            raise JsonViewError(
                f"not a JSON view of profile {self.name}",
                [f"$.profile: {result.profile!r}"],
            )
        if result.kind not in self.kinds:
            raise JsonViewError(
                f"not a JSON view of profile {self.name}",
                [f"$.kind: {result.kind!r} (known: {', '.join(self.kinds)})"],
            )
        return result

    def structure_part(self, value: Any, type_: Any) -> Any:
        """*value* structured as *type_* by this profile's converter (JsonViewError)."""
        if not isinstance(value, Mapping):
            raise JsonViewError(
                f"not a JSON view of profile {self.name}",
                [f"$: expected an object, got {_json_type(value)}"],
            )
        try:
            return self.converter.structure(value, type_)
        except (cattrs.BaseValidationError, _Refusal) as exc:
            if isinstance(exc, _Refusal):
                problems = [f"{exc} @ $"]
            else:
                problems = cattrs.transform_error(exc, "$", _format_problem)
            raise JsonViewError(f"not a JSON view of profile {self.name}", problems) from None

    def unstructure(self, view: JsonView) -> dict[str, Any]:
        """The JSON object of *view* (plain dicts, lists, text, numbers and ``None``)."""
        result: dict[str, Any] = self.converter.unstructure(view)
        return result

    def kind_for(self, kind: str | None, name: str | None) -> str:
        """*kind* when given (checked), else the kind the file *name* spells (E108 raised as
        :class:`~emma_osplus.FileNameError` when the name is off the grammar)."""
        if kind is None:
            if name is None:
                raise ValueError("give the kind or the file name")
            kind = parse_file_name(name).kind
        self.codec(kind)
        return kind

    def iter_json_view(
        self,
        data: Source,
        *,
        kind: str | None = None,
        name: str | None = None,
        encoding: str | None = None,
        mode: Mode = Mode.LENIENT,
    ) -> JsonViewStream:
        """The streaming view of a file (see :func:`iter_json_view`)."""
        kind = self.kind_for(kind, name)
        return JsonViewStream(self, kind, data, encoding=encoding, mode=Mode(mode))

    def to_json_view(
        self,
        data: Source,
        *,
        kind: str | None = None,
        name: str | None = None,
        encoding: str | None = None,
        mode: Mode = Mode.LENIENT,
    ) -> dict[str, Any]:
        """The JSON view of a file (see :func:`to_json_view`)."""
        stream = self.iter_json_view(data, kind=kind, name=name, encoding=encoding, mode=mode)
        return self.unstructure(stream.to_view())

    def iter_file_bytes(self, view: Mapping[str, Any] | JsonView) -> Iterator[bytes]:
        """The canonical file of a view, in chunks (see :func:`from_json_view`)."""
        structured = view if isinstance(view, JsonView) else self.structure(view)
        return self.codec(structured.kind).write(structured)

    def from_json_view(self, view: Mapping[str, Any] | JsonView) -> bytes:
        """The canonical file of a view (see :func:`from_json_view`)."""
        return b"".join(self.iter_file_bytes(view))


def _control_check(kind: str) -> Callable[[Any], Sequence[Message]]:
    def check(control: Any) -> Sequence[Message]:
        if isinstance(control, ControlFile) and control.kind != kind:
            return (
                Message(
                    "E106",
                    field="steuerung/@typ",
                    raw=control.typ,
                    detail=f"typ {control.typ!r} is a {control.kind} control file, the kind is {kind}",
                ),
            )
        return ()

    return check


def reference_profile(*, occasions: OccasionResolver | None = None) -> Profile:
    """Reference profile 1 (FORMATS.md) with its own converter; *occasions* resolves occasion
    codes (``ANLASS``, ``anlass/@code``: text → canonical :class:`~emma_osplus.OccasionCode`,
    E204 when unknown), by default the packaged registry.

    >>> from emma_osplus import OccasionCode
    >>> syntax_only = reference_profile(occasions=OccasionCode)
    >>> syntax_only.name, syntax_only.converter is REFERENCE_1.converter
    ('reference-1', False)
    """
    from ._cons import CONS  # noqa: PLC0415 - the format modules load with the profile
    from ._resp import RESP_LAYOUT  # noqa: PLC0415
    from ._subscribers import SUBSCRIBER_KINDS, subscriber_layout  # noqa: PLC0415

    kinds: dict[str, KindCodec] = {}
    kinds["LIEF"] = XmlKind(
        "LIEF",
        lambda source, mode: read_manifest(source, mode=mode, occasions=occasions),
        lambda document: write_manifest(manifest_from_document(document, occasions=occasions)),
    )
    for kind in SUBSCRIBER_KINDS:
        kinds[kind] = CsvKind(kind, subscriber_layout(kind, occasions))
    for kind in ("VREKU", "VIAM"):
        kinds[kind] = XmlKind(
            kind,
            lambda source, mode: read_control(source, mode=mode, occasions=occasions),
            lambda document: write_control(control_from_document(document, occasions=occasions)),
            _control_check(kind),
        )
    kinds["RESP"] = FixedKind("RESP", RESP_LAYOUT)
    kinds["QUIT"] = XmlKind(
        "QUIT",
        lambda source, mode: read_acknowledgement(source, mode=mode),
        lambda document: write_acknowledgement(acknowledgement_from_document(document)),
    )
    kinds["CONS"] = CsvKind("CONS", CONS, canonical_order=True)
    assert set(kinds) == set(FILE_KINDS)
    return Profile("reference-1", kinds)


# ---------------------------------------------------------------------------------------------
# Streaming
# ---------------------------------------------------------------------------------------------


class JsonViewStream:
    """A file read record by record into the parts of its JSON view.

    Iterating yields each good record's values (a ``dict``) and each message
    (:class:`~emma_osplus.Message`, the rejected record's raw text in ``raw``) in file order.
    ``encoding``, ``header`` and ``document`` are set once :meth:`start` has run (iteration
    starts it), ``trailer`` at the end; ``records``, ``rejected``, ``errors`` and ``warnings``
    count what was yielded so far.

    >>> stream = iter_json_view(b"KUNDENNUMMER;EMAIL\\r\\n1;a@b.de\\r\\n1;c@d.de\\r\\n", kind="IAM")
    >>> [type(event).__name__ for event in stream]
    ['dict', 'Message']
    >>> stream.records, stream.rejected, stream.errors, stream.warnings
    (1, 1, 1, 0)
    """

    def __init__(
        self,
        profile: Profile,
        kind: str,
        data: Source,
        *,
        encoding: str | None = None,
        mode: Mode = Mode.LENIENT,
    ) -> None:
        self.profile = profile
        self.kind = kind
        self.mode = mode
        self.records = 0
        self.rejected = 0
        self.errors = 0
        self.warnings = 0
        self._reading = profile.codec(kind).open(data, encoding=encoding, mode=mode)
        self._started = False
        self._events: Iterator[ViewEvent] | None = None

    @property
    def encoding(self) -> DetectedEncoding | None:
        """How the bytes were decoded (``None`` when they could not be)."""
        return self._reading.encoding

    @property
    def header(self) -> dict[str, Any] | None:
        """The view's ``header``."""
        return self._reading.header

    @property
    def trailer(self) -> dict[str, str] | None:
        """The view's ``trailer`` (known once the stream is exhausted)."""
        return self._reading.trailer

    @property
    def document(self) -> dict[str, Any] | None:
        """The view's ``document`` (XML kinds)."""
        return self._reading.document

    def start(self) -> JsonViewStream:
        """Read the head of the file (encoding, header, the XML document); returns self."""
        if not self._started:
            self._started = True
            try:
                self._reading.start()
            except MessageError as exc:
                if self.mode is Mode.STRICT:
                    raise
                self._pending = exc.messages
        return self

    _pending: tuple[Message, ...] = ()

    def __iter__(self) -> Iterator[ViewEvent]:
        if self._events is None:
            self._events = self._run()
        return self._events

    def __next__(self) -> ViewEvent:
        return next(iter(self))

    def _message(self, message: Message) -> Message:
        if message.is_error:
            self.errors += 1
        else:
            self.warnings += 1
        return message

    def _run(self) -> Iterator[ViewEvent]:
        self.start()
        if self._pending:
            for m in self._pending:
                yield self._message(m)
            return
        for item in self._reading.items():
            if isinstance(item, Record):
                self.records += 1
                yield item.values  # type: ignore[misc]
                for m in item.messages:
                    yield self._message(m)
            elif isinstance(item, Rejected):
                self.rejected += 1
                for m in item.messages:
                    yield self._message(m if m.raw is not None else attrs.evolve(m, raw=item.raw))
            else:
                yield self._message(item.message)

    def to_view(self) -> JsonView:
        """Read everything into a :class:`JsonView`."""
        records: list[dict[str, str]] = []
        messages: list[Message] = []
        for event in self:
            if isinstance(event, Message):
                messages.append(event)
            else:
                records.append(dict(event))
        return JsonView(
            kind=self.kind,
            profile=self.profile.name,
            encoding=self.encoding,
            header=self.header,
            records=records,
            trailer=self.trailer,
            document=self.document,
            messages=messages,
        )

    def write_json(self, out: TextIO, *, spool_limit: int = 1 << 20) -> None:
        """Write the view as :func:`dumps` would, record by record; messages wait in a
        temporary file (in memory up to *spool_limit* characters)."""
        self.start()
        convert = self.profile.converter.unstructure
        write = out.write
        write("{\n")
        write(f'  "kind": {_dump(self.kind, 2)},\n')
        write(f'  "profile": {_dump(self.profile.name, 2)},\n')
        write(f'  "encoding": {_dump(convert(self.encoding), 2)},\n')
        write(f'  "header": {_dump(self.header, 2)},\n')
        write('  "records": [')
        first_record = True
        with tempfile.SpooledTemporaryFile(
            max_size=spool_limit, mode="w+", encoding="utf-8", newline=""
        ) as spool:
            first_message = True
            for event in self:
                if isinstance(event, Message):
                    spool.write(
                        ("\n    " if first_message else ",\n    ")
                        + _dump(message_to_json(event), 4)
                    )
                    first_message = False
                else:
                    write(("\n    " if first_record else ",\n    ") + _dump(event, 4))
                    first_record = False
            write("]" if first_record else "\n  ]")
            write(",\n")
            write(f'  "trailer": {_dump(self.trailer, 2)},\n')
            write(f'  "document": {_dump(self.document, 2)},\n')
            write('  "messages": [')
            spool.seek(0)
            while True:
                chunk = spool.read(1 << 16)
                if not chunk:
                    break
                write(chunk)
            write("]" if first_message else "\n  ]")
        write("\n}\n")


_encode_text = json.encoder.encode_basestring  # the C encoder where there is one


def _dump(value: Any, indent: int) -> str:
    """*value* as :func:`dumps` writes it when nested *indent* spaces deep.

    A record (an object of text) is written directly: ``json.dumps`` with ``indent`` runs the
    pure-Python encoder, too slow for a million records.
    """
    if value.__class__ is dict and value and all(v.__class__ is str for v in value.values()):
        pad = "\n" + " " * (indent + 2)
        body = ("," + pad).join(f"{_encode_text(k)}: {_encode_text(v)}" for k, v in value.items())
        return "{" + pad + body + "\n" + " " * indent + "}"
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return text.replace("\n", "\n" + " " * indent) if "\n" in text else text


# ---------------------------------------------------------------------------------------------
# The functions of reference profile 1, and JSON text
# ---------------------------------------------------------------------------------------------

#: Reference profile 1 with the packaged occasion registry.
REFERENCE_1: Profile = reference_profile()


def iter_json_view(
    data: Source,
    *,
    kind: str | None = None,
    name: str | None = None,
    encoding: str | None = None,
    mode: Mode = Mode.LENIENT,
    profile: Profile | None = None,
) -> JsonViewStream:
    """A :class:`JsonViewStream` over *data* (bytes, a binary file object or chunks): the
    records and messages of the file one by one, for files too large to hold."""
    return (profile or REFERENCE_1).iter_json_view(
        data, kind=kind, name=name, encoding=encoding, mode=mode
    )


def to_json_view(
    data: Source,
    *,
    kind: str | None = None,
    name: str | None = None,
    encoding: str | None = None,
    mode: Mode = Mode.LENIENT,
    profile: Profile | None = None,
) -> dict[str, Any]:
    """The JSON view of the file in *data* (bytes, a binary file object or chunks).

    The kind comes from *kind* or else from the file *name* (E108,
    :class:`~emma_osplus.FileNameError`, when the name is off the grammar).  *encoding* is the
    declared encoding (used strictly); without it the encoding is detected where the format
    allows.  In lenient *mode* (the default) every problem is a message of the view; in strict
    mode the first error raises.
    """
    return (profile or REFERENCE_1).to_json_view(
        data, kind=kind, name=name, encoding=encoding, mode=mode
    )


def iter_file_bytes(
    view: Mapping[str, Any] | JsonView, *, profile: Profile | None = None
) -> Iterator[bytes]:
    """The canonical file of *view* in chunks (see :func:`from_json_view`)."""
    return (profile or REFERENCE_1).iter_file_bytes(view)


def from_json_view(view: Mapping[str, Any] | JsonView, *, profile: Profile | None = None) -> bytes:
    """The canonical bytes of the file a JSON *view* describes.

    The view must be one of the profile (:class:`JsonViewError` otherwise, naming every
    problem); its data are checked as a writer checks them (a bad value raises the
    :class:`~emma_osplus.MessageError` of its code, naming record and field).  ``messages`` are
    not written.  For a canonical file, ``from_json_view(to_json_view(data)) == data``.
    """
    return (profile or REFERENCE_1).from_json_view(view)


def dumps(view: Mapping[str, Any] | JsonView, *, profile: Profile | None = None) -> str:
    """The stable JSON text of a view: keys in view order, non-ASCII as is, two-space
    indentation, a final newline.

    >>> print(dumps({"kind": "KMM", "records": [{"EMAIL": "jörg@example.de"}]}), end="")
    {
      "kind": "KMM",
      "records": [
        {
          "EMAIL": "jörg@example.de"
        }
      ]
    }
    """
    if isinstance(view, JsonView):
        view = (profile or REFERENCE_1).unstructure(view)
    return json.dumps(view, ensure_ascii=False, indent=2) + "\n"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise JsonViewError("not valid JSON for a view", [f"key {key!r} twice in one object"])
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise JsonViewError("not valid JSON for a view", [f"{name} is not a JSON value"])


def loads(text: str | bytes) -> dict[str, Any]:
    """The JSON object in *text* (UTF-8 bytes, a BOM allowed, or text); refuses what is not
    strict JSON (``NaN``, a key twice in one object) and anything but an object
    (:class:`JsonViewError`).

    >>> loads('{"kind": "KMM", "kind": "IAM"}')
    Traceback (most recent call last):
    ...
    emma_osplus._jsonview.JsonViewError: not valid JSON for a view: key 'kind' twice in one object
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise JsonViewError("not valid JSON for a view", [f"not UTF-8: {exc}"]) from None
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise JsonViewError(
            "not valid JSON", [f"{exc.msg} at line {exc.lineno}, column {exc.colno}"]
        ) from None
    except RecursionError:
        raise JsonViewError("not valid JSON for a view", ["nested too deeply"]) from None
    if not isinstance(value, dict):
        raise JsonViewError("not a JSON view", [f"$: expected an object, got {_json_type(value)}"])
    return value
