"""Sphinx directive ``message-catalogue``: the message-code table, generated from
:data:`emma_osplus.CATALOGUE` at build time (never copied by hand)."""

from __future__ import annotations

from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from emma_osplus import CATALOGUE


def catalogue_rst() -> list[str]:
    """The catalogue as an RST list-table."""
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 8 10 41 41",
        "",
        "   * - code",
        "     - level",
        "     - German",
        "     - English",
    ]
    for code, definition in CATALOGUE.items():
        lines += [
            f"   * - ``{code}``",
            f"     - {definition.level.value}",
            f"     - {definition.text_de}",
            f"     - {definition.text_en}",
        ]
    return lines


class MessageCatalogue(SphinxDirective):
    """Render the message catalogue."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        container = nodes.section()
        container.document = self.state.document
        self.state.nested_parse(StringList(catalogue_rst(), source="CATALOGUE"), 0, container)
        return list(container.children)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("message-catalogue", MessageCatalogue)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
