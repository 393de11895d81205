"""Notebook display: the objects people look at show themselves as tables, in text (``repr``)
and in HTML (``_repr_html_``, which Jupyter uses).

* :class:`ParsedFile` — a summary of a read file: kind, encoding, counts, the first rows and
  the messages.  :func:`summarize_file` builds it while streaming the file (memory does not
  grow with its size); :meth:`ParsedFile.from_view` builds it from a JSON view and
  :meth:`ParsedFile.from_reader` from a reader's items.
* :class:`PendingView` — the pending manual work items of the feedback processing with their
  age, the overdue ones marked (:func:`pending_view`).
* :func:`text_table` and :func:`html_table` — the shared renderers; every cell is escaped in
  HTML, so a value such as ``<script>`` is shown, never run.  The funnel report of the
  simulation (:class:`~emma_osplus._simulation.FunnelReport`) uses them too.

**Addresses are masked** (``a***@example.de``, as in every ``repr`` of the library) unless
asked for with ``show_addresses=True`` (or :meth:`ParsedFile.with_addresses`).

>>> data = ("KUNDENNUMMER;EMAIL;VORNAME\\r\\n"
...         "4711;anna.schmidt@example.de;Anna\\r\\n"
...         "4712;kein-at-zeichen;<b>Jörg</b>\\r\\n").encode("cp1252")
>>> parsed = summarize_file(data, kind="KMM")
>>> parsed
KMM file, windows-1252 (default, confidence 0.9): 1 record, 1 rejected, 1 error, 0 warnings
KUNDENNUMMER  EMAIL            VORNAME
0000004711    a***@example.de  Anna
E201, line 3, field EMAIL: Ungültige E-Mail-Adresse (...)
>>> "&lt;b&gt;J" in parsed._repr_html_(), "<b>J" in parsed._repr_html_()
(True, False)
>>> parsed.with_addresses().first_rows_text()
'KUNDENNUMMER  EMAIL                    VORNAME\\n0000004711    anna.schmidt@example.de  Anna'
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._messages import Message, mask_addresses
from ._records import Item, Mode, Notice, Record, Rejected

if TYPE_CHECKING:
    from ._encoding import DetectedEncoding
    from ._feedback import AgedItem, FeedbackState
    from ._jsonview import JsonView, JsonViewStream, Profile, Source

__all__ = [
    "ParsedFile",
    "PendingView",
    "html_table",
    "mask",
    "pending_view",
    "summarize_file",
    "text_table",
]

#: How many rows and messages a summary keeps by default.
FIRST_ROWS = 5
MAX_MESSAGES = 20


def mask(text: str, show_addresses: bool = False) -> str:
    """*text* with its email addresses masked, unless *show_addresses*.

    >>> mask("an anna@example.de"), mask("an anna@example.de", show_addresses=True)
    ('an a***@example.de', 'an anna@example.de')
    """
    return text if show_addresses else mask_addresses(text)


def text_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, no trailing blanks.

    >>> print(text_table(("step", "sent"), [("1", "100"), ("2", "97")]))
    step  sent
    1     100
    2     97
    """
    table = [tuple(headers), *(tuple(row) for row in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    )


def html_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    caption: str | None = None,
    *,
    numeric: Iterable[int] = (),
) -> str:
    """An HTML table; every header, cell and the caption are escaped.  Columns whose indexes
    are in *numeric* are right-aligned.

    >>> html_table(("name",), [("<script>alert(1)</script>",)], "a & b")
    '<table><caption>a &amp; b</caption><thead><tr><th>name</th></tr></thead><tbody><tr><td>&lt;script&gt;alert(1)&lt;/script&gt;</td></tr></tbody></table>'
    """
    right = frozenset(numeric)

    def cell(tag: str, index: int, text: str) -> str:
        style = ' style="text-align:right"' if index in right else ""
        return f"<{tag}{style}>{html.escape(text)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    top = "" if caption is None else f"<caption>{html.escape(caption)}</caption>"
    return f"<table>{top}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# ---------------------------------------------------------------------------------------------
# A parsed file
# ---------------------------------------------------------------------------------------------


def _freeze_messages(value: Iterable[Message]) -> tuple[Message, ...]:
    return tuple(value)


def _freeze_rows(value: Iterable[Mapping[str, str]]) -> tuple[Mapping[str, str], ...]:
    return tuple(dict(row) for row in value)


@attrs.frozen(repr=False)
class ParsedFile:
    """What a reader found in a file, for people: kind, profile, encoding, header columns,
    counts (good ``records``, ``rejected`` records — ``None`` when built from a JSON view,
    which does not tell a rejected record from a file-level message — ``errors`` and
    ``warnings``), the first
    rows (canonical values), the first messages, and for ``RESP`` the header and trailer, for
    XML kinds the document.  ``messages`` holds at most the first few messages
    (``omitted_messages`` says how many more there were).

    Addresses are masked in ``repr`` and HTML unless ``show_addresses`` is true
    (:meth:`with_addresses`).  The values themselves are kept as read.
    """

    kind: str
    encoding: DetectedEncoding | None = None
    columns: tuple[str, ...] | None = None
    records: int = 0
    rejected: int | None = 0
    errors: int = 0
    warnings: int = 0
    first_rows: tuple[Mapping[str, str], ...] = attrs.field(default=(), converter=_freeze_rows)
    messages: tuple[Message, ...] = attrs.field(default=(), converter=_freeze_messages)
    omitted_messages: int = 0
    profile: str | None = None
    header: Mapping[str, Any] | None = None
    trailer: Mapping[str, Any] | None = None
    document: Mapping[str, Any] | None = None
    show_addresses: bool = False

    # -- building ------------------------------------------------------------------------

    @classmethod
    def from_stream(
        cls, stream: JsonViewStream, *, rows: int = FIRST_ROWS, max_messages: int = MAX_MESSAGES
    ) -> ParsedFile:
        """Read a :class:`~emma_osplus._jsonview.JsonViewStream` to its end, keeping the first
        *rows* records and the first *max_messages* messages (memory stays bounded)."""
        first: list[Mapping[str, str]] = []
        messages: list[Message] = []
        omitted = 0
        for event in stream:
            if isinstance(event, Message):
                if len(messages) < max_messages:
                    messages.append(event)
                else:
                    omitted += 1
            elif len(first) < rows:
                first.append(event)
        header = stream.header
        columns = None
        if header is not None and isinstance(header.get("columns"), list):
            columns, header = tuple(header["columns"]), None
        return cls(
            kind=stream.kind,
            encoding=stream.encoding,
            columns=columns,
            records=stream.records,
            rejected=stream.rejected,
            errors=stream.errors,
            warnings=stream.warnings,
            first_rows=first,
            messages=messages,
            omitted_messages=omitted,
            profile=stream.profile.name,
            header=header,
            trailer=stream.trailer,
            document=stream.document,
        )

    @classmethod
    def from_view(
        cls,
        view: Mapping[str, Any] | JsonView,
        *,
        rows: int = FIRST_ROWS,
        max_messages: int = MAX_MESSAGES,
    ) -> ParsedFile:
        """The summary of a JSON view (the dict :func:`~emma_osplus._jsonview.to_json_view`
        returns, or a :class:`~emma_osplus._jsonview.JsonView`)."""
        from ._jsonview import REFERENCE_1, JsonView  # noqa: PLC0415 - heavy, only when used

        if not isinstance(view, JsonView):
            view = REFERENCE_1.structure(view)
        header = view.header
        columns = None
        if header is not None and isinstance(header.get("columns"), list):
            columns, header = tuple(header["columns"]), None
        errors = [m for m in view.messages if m.is_error]
        return cls(
            kind=view.kind,
            encoding=view.encoding,
            columns=columns,
            records=len(view.records),
            rejected=None,
            errors=len(errors),
            warnings=len(view.messages) - len(errors),
            first_rows=view.records[:rows],
            messages=view.messages[:max_messages],
            omitted_messages=max(0, len(view.messages) - max_messages),
            profile=view.profile,
            header=header,
            trailer=view.trailer,
            document=view.document,
        )

    @classmethod
    def from_reader(
        cls,
        items: Iterable[Item],
        *,
        kind: str | None = None,
        rows: int = FIRST_ROWS,
        max_messages: int = MAX_MESSAGES,
    ) -> ParsedFile:
        """Read the items of a reader (e.g. :func:`~emma_osplus._subscribers.read_subscriber_list`
        in lenient mode) to the end.  ``kind``, ``encoding`` and ``columns`` are taken from the
        reader where it has them (``layout.kind``, ``encoding``, ``columns``).

        >>> from emma_osplus._subscribers import read_subscriber_list
        >>> reader = read_subscriber_list(b"KUNDENNUMMER;EMAIL\\r\\n1;a@b.de\\r\\n1;c@d.de\\r\\n",
        ...                               "IAM", mode="lenient")
        >>> ParsedFile.from_reader(reader)
        IAM file, utf-8 (utf-8, confidence 1.0): 1 record, 1 rejected, 1 error, 0 warnings
        KUNDENNUMMER  EMAIL
        0000000001    a***@b.de
        E203, line 3, field KUNDENNUMMER: Kundennummer doppelt in der Datei (0000000001 first at line 2)
        """
        first: list[Mapping[str, str]] = []
        messages: list[Message] = []
        counts = {"records": 0, "rejected": 0, "errors": 0, "warnings": 0, "omitted": 0}

        def note(message: Message) -> None:
            counts["errors" if message.is_error else "warnings"] += 1
            if len(messages) < max_messages:
                messages.append(message)
            else:
                counts["omitted"] += 1

        for item in items:
            if isinstance(item, Record):
                counts["records"] += 1
                if len(first) < rows:
                    first.append(item.values)
                for message in item.messages:
                    note(message)
            elif isinstance(item, Rejected):
                counts["rejected"] += 1
                for message in item.messages:
                    note(
                        message if message.raw is not None else attrs.evolve(message, raw=item.raw)
                    )
            elif isinstance(item, Notice):
                note(item.message)
        layout = getattr(items, "layout", None)
        found_kind = kind or getattr(layout, "kind", None) or "?"
        columns = getattr(items, "columns", None)
        return cls(
            kind=found_kind,
            encoding=getattr(items, "encoding", None),
            columns=None if columns is None else tuple(columns),
            records=counts["records"],
            rejected=counts["rejected"],
            errors=counts["errors"],
            warnings=counts["warnings"],
            first_rows=first,
            messages=messages,
            omitted_messages=counts["omitted"],
        )

    def with_addresses(self, show: bool = True) -> ParsedFile:
        """A copy that shows (or masks again) the full addresses."""
        return attrs.evolve(self, show_addresses=show)

    # -- reading -------------------------------------------------------------------------

    @property
    def ok(self) -> bool:
        """True when the file has no errors (warnings allowed)."""
        return self.errors == 0

    def _columns(self) -> tuple[str, ...]:
        if self.columns is not None:
            return self.columns
        seen: dict[str, None] = {}
        for row in self.first_rows:
            seen.update(dict.fromkeys(row))
        return tuple(seen)

    def row_cells(self) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        """Headers and the first rows as text cells (addresses masked unless shown)."""
        columns = self._columns()
        cells = [
            tuple(mask(str(row.get(c, "")), self.show_addresses) for c in columns)
            for row in self.first_rows
        ]
        return columns, cells

    def first_rows_text(self) -> str:
        """The first rows as a text table."""
        columns, cells = self.row_cells()
        return text_table(columns, cells) if columns else ""

    def summary(self) -> str:
        """One line: kind, encoding and counts."""
        encoding = "encoding unknown"
        if self.encoding is not None:
            encoding = (
                f"{self.encoding.name} ({self.encoding.source}, "
                f"confidence {self.encoding.confidence:.1f})"
            )
        parts = [_plural(self.records, "record")]
        if self.rejected is not None:
            parts.append(f"{self.rejected} rejected")
        parts += [_plural(self.errors, "error"), _plural(self.warnings, "warning")]
        counts = ", ".join(parts)
        return f"{self.kind} file, {encoding}: {counts}"

    def _message_line(self, message: Message) -> str:
        if self.show_addresses:
            tail = f" ({message.detail})" if message.detail else ""
            parts = [message.code]
            if message.line is not None:
                parts.append(f"line {message.line}")
            if message.field is not None:
                parts.append(f"field {message.field}")
            return f"{', '.join(parts)}: {message.text}{tail}"
        return message.describe()

    def _extra_parts(self) -> list[tuple[str, str]]:
        parts = []
        for label, value in (
            ("header", self.header),
            ("trailer", self.trailer),
            ("document", self.document),
        ):
            if value is not None:
                text = json.dumps(value, ensure_ascii=False, sort_keys=False)
                parts.append((label, mask(text, self.show_addresses)))
        return parts

    def __repr__(self) -> str:
        lines = [self.summary()]
        lines.extend(f"{label}: {text}" for label, text in self._extra_parts())
        table = self.first_rows_text()
        if table:
            lines.append(table)
        if self.records > len(self.first_rows) and self.first_rows:
            lines.append(f"… {self.records - len(self.first_rows)} more records")
        lines.extend(self._message_line(m) for m in self.messages)
        if self.omitted_messages:
            lines.append(f"… {_plural(self.omitted_messages, 'more message')}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        out = [f"<p><strong>{html.escape(self.summary())}</strong></p>"]
        for label, text in self._extra_parts():
            out.append(f"<p>{html.escape(label)}: <code>{html.escape(text)}</code></p>")
        columns, cells = self.row_cells()
        if columns and cells:
            more = self.records - len(cells)
            caption = f"first {_plural(len(cells), 'record')}" + (
                f" of {self.records}" if more > 0 else ""
            )
            out.append(html_table(columns, cells, caption))
        if self.messages:
            show = self.show_addresses
            rows: list[tuple[str, ...]] = [
                (
                    m.code,
                    m.severity.value,
                    "" if m.line is None else str(m.line),
                    m.field or "",  # a column name or an element path, never an address
                    mask(m.text + (f" ({m.detail})" if m.detail else ""), show),
                    mask(m.raw or "", show),
                )
                for m in self.messages
            ]
            caption = _plural(self.errors + self.warnings, "message")
            if self.omitted_messages:
                caption += f" (first {len(self.messages)} shown)"
            out.append(
                html_table(("code", "level", "line", "field", "message", "raw"), rows, caption)
            )
        return "".join(out)


def summarize_file(
    data: Source,
    *,
    kind: str | None = None,
    name: str | None = None,
    encoding: str | None = None,
    mode: Mode | str = Mode.LENIENT,
    rows: int = FIRST_ROWS,
    max_messages: int = MAX_MESSAGES,
    profile: Profile | None = None,
) -> ParsedFile:
    """Read the file in *data* (bytes, a binary file object or chunks) as its JSON view does
    — the kind from *kind* or the file *name*, *encoding* if declared — and summarise it as a
    :class:`ParsedFile`.  Streams: only the first *rows* records and *max_messages* messages
    are kept, whatever the size of the file."""
    from ._jsonview import iter_json_view  # noqa: PLC0415 - heavy, only when used

    stream = iter_json_view(
        data, kind=kind, name=name, encoding=encoding, mode=Mode(mode), profile=profile
    )
    return ParsedFile.from_stream(stream, rows=rows, max_messages=max_messages)


# ---------------------------------------------------------------------------------------------
# Pending work items
# ---------------------------------------------------------------------------------------------


def _age(age: dt.timedelta) -> str:
    hours = int(age.total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if days else f"{hours} h"


@attrs.frozen(repr=False)
class PendingView:
    """The pending manual work items (unsubscribes, objections, hard bounces that OSPlus does
    not process automatically) with their age at ``at``, the oldest first; overdue ones are
    marked.  Addresses are masked unless ``show_addresses``.

    >>> import datetime as dt
    >>> from emma_osplus._consent import ConsentEvent
    >>> from emma_osplus._feedback import FeedbackState
    >>> t = dt.datetime(2026, 11, 3, 9, tzinfo=dt.timezone.utc)
    >>> unsub = ConsentEvent(4711, "anna@example.de", "ABMELDUNG", t, "ESP_LINK", "EMMA AB LINK")
    >>> state = FeedbackState().receive([unsub], at=t)
    >>> pending_view(state, at=t + dt.timedelta(days=3, hours=2))
    item                    kind       customer    address          since                      age     overdue
    C-...  ABMELDUNG  0000004711  a***@example.de  2026-11-03T09:00:00+00:00  3 d 2 h  yes
    (1 pending item, 1 overdue)
    """

    items: tuple[AgedItem, ...]
    at: dt.datetime
    show_addresses: bool = False

    HEADERS = ("item", "kind", "customer", "address", "since", "age", "overdue")

    @property
    def overdue(self) -> int:
        """How many items are overdue."""
        return sum(1 for a in self.items if a.overdue)

    def rows(self) -> list[tuple[str, ...]]:
        """One row of text per item (columns :attr:`HEADERS`)."""
        return [
            (
                a.item.id,
                a.item.kind.value,
                str(a.item.customer),
                mask(a.item.address_key, self.show_addresses),
                a.item.since.isoformat(),
                _age(a.age),
                "yes" if a.overdue else "",
            )
            for a in self.items
        ]

    def _caption(self) -> str:
        return f"{_plural(len(self.items), 'pending item')}, {self.overdue} overdue"

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        if not self.items:
            return "(no pending items)"
        return f"{text_table(self.HEADERS, self.rows())}\n({self._caption()})"

    def _repr_html_(self) -> str:
        rows = self.rows()
        body = "".join(
            ("<tr style='font-weight:bold'>" if row[-1] else "<tr>")
            + "".join(f"<td>{html.escape(cell)}</td>" for cell in row)
            + "</tr>"
            for row in rows
        )
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.HEADERS)
        caption = html.escape(f"{self._caption()} at {self.at.isoformat()}")
        return (
            f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )


def pending_view(
    state: FeedbackState, at: dt.datetime, *, show_addresses: bool = False
) -> PendingView:
    """The pending items of *state* with their age at *at* (see
    :meth:`~emma_osplus._feedback.FeedbackState.pending`) as a :class:`PendingView`."""
    return PendingView(state.pending(at), at, show_addresses)
