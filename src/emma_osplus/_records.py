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
from collections.abc import Mapping
from typing import Any, TypeAlias

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
