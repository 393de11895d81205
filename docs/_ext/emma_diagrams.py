"""Sphinx directive ``state-diagram``: a machine's diagram generated from its transition table.

Usage in a page (MyST)::

    ```{state-diagram} emma_osplus._orders:KMM_ORDER
    ```

The argument names a :class:`emma_osplus._machine.TransitionTable` as ``module:attribute``.
The directive renders the Mermaid diagram (``sphinxcontrib.mermaid``) followed by the table of
transitions, both generated at build time and never copied by hand.
"""

from __future__ import annotations

import importlib
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Parser as RstParser
from docutils.utils import new_document
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from emma_osplus._machine import TransitionTable, mermaid


def _load(target: str) -> TransitionTable:
    module_name, _, attribute = target.partition(":")
    table = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(table, TransitionTable):
        raise TypeError(f"{target} is not a TransitionTable")
    return table


def transitions_rst(table: TransitionTable) -> list[str]:
    """The transitions as an RST list-table."""
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - state",
        "     - event",
        "     - next state",
    ]
    for (state, event), target in table.transitions.items():
        lines += [f"   * - ``{state}``", f"     - ``{event}``", f"     - ``{target}``"]
    return lines


class StateDiagram(SphinxDirective):
    """Render a transition table as a diagram and a table."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        table = _load(self.arguments[0])
        rst = [".. mermaid::", "", *("   " + line for line in mermaid(table).splitlines()), ""]
        # The generated text is RST; parse it as such even on Markdown (MyST) pages.
        document = new_document(self.arguments[0], self.state.document.settings)
        RstParser().parse("\n".join([*rst, *transitions_rst(table)]), document)
        return list(document.children)


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinxcontrib.mermaid")
    app.add_directive("state-diagram", StateDiagram)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
