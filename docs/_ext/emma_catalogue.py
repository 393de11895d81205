"""Sphinx directive ``reku-catalogue``: the ReKu occasion catalogue as tables, generated from
the packaged registry data at build time (never copied by hand).

Usage (MyST)::

    ```{reku-catalogue} occasions
    ```

The argument picks the table: ``occasions`` (default; every occasion with its mailings and
journeys), ``mailings`` (every partner mailing with the occasions it serves) or ``journeys``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from emma_osplus._registry import Registry, UnresolvedCode, default_registry
from emma_osplus._types import OccasionCode

#: A cell: plain text, or a list of codes shown as literals.
Cell = str | list[str]


def _codes(codes: Sequence[OccasionCode], unresolved: Sequence[UnresolvedCode]) -> Cell:
    shown = [c.short for c in codes]
    shown += [f"{u.text} (unresolved: {u.detail})" for u in unresolved]
    return shown


def occasion_rows(registry: Registry) -> tuple[list[str], list[list[Cell]]]:
    """Every occasion with the mailings that serve it and the journeys that use it."""
    rows: list[list[Cell]] = []
    for o in registry.occasions:
        mailings = "; ".join(f"{m.provider}: {m.title}" for m in registry.mailings_for(o.code))
        journeys = ", ".join(j.name for j in registry.journeys_for(o.code))
        rows.append([[o.code.long], [o.short_code], o.title, mailings, journeys])
    return ["code", "short", "title", "mailings", "journeys"], rows


def mailing_rows(registry: Registry) -> tuple[list[str], list[list[Cell]]]:
    """Every mailing with its provider, the occasions it serves and its note."""
    rows: list[list[Cell]] = [
        [m.provider, m.title, _codes(m.occasions, m.unresolved), m.note] for m in registry.mailings
    ]
    return ["provider", "mailing", "occasions", "note"], rows


def journey_rows(registry: Registry) -> tuple[list[str], list[list[Cell]]]:
    """Every customer journey with its selection path."""
    rows: list[list[Cell]] = [
        [j.name, j.selection.value, _codes(j.occasions, j.unresolved), j.note]
        for j in registry.journeys
    ]
    return ["journey", "selection", "occasions", "note"], rows


PARTS = {"occasions": occasion_rows, "mailings": mailing_rows, "journeys": journey_rows}


def _entry(cell: Cell) -> nodes.entry:
    entry = nodes.entry()
    paragraph = nodes.paragraph()
    if isinstance(cell, str):
        paragraph += nodes.Text(cell)
    else:
        for i, code in enumerate(cell):
            if i:
                paragraph += nodes.Text(" ")
            paragraph += nodes.literal(text=code)
    entry += paragraph
    return entry


def table(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> nodes.table:
    """A docutils table node (built directly, so no title needs RST escaping)."""
    result = nodes.table(classes=["reku-catalogue"])
    group = nodes.tgroup(cols=len(headers))
    result += group
    for _ in headers:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    head_row = nodes.row()
    for h in headers:
        head_row += _entry(h)
    head += head_row
    group += head
    body = nodes.tbody()
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            row += _entry(cell)
        body += row
    group += body
    return result


class RekuCatalogue(SphinxDirective):
    """Render one table of the packaged ReKu catalogue."""

    has_content = False
    optional_arguments = 1
    option_spec: ClassVar[dict[str, Any]] = {"class": directives.class_option}

    def run(self) -> list[nodes.Node]:
        part = self.arguments[0] if self.arguments else "occasions"
        if part not in PARTS:
            raise self.error(
                f"reku-catalogue: unknown table {part!r}; use one of {', '.join(PARTS)}"
            )
        headers, rows = PARTS[part](default_registry())
        node = table(headers, rows)
        node["classes"] += self.options.get("class", [])
        return [node]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("reku-catalogue", RekuCatalogue)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
