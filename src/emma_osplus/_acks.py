"""Acknowledgements: every processed file yields one result with its status and every message.

:func:`acknowledge` is a pure builder.  It takes what processing a file produced (the
:data:`~emma_osplus.Item` objects of a reader, loose :class:`~emma_osplus.Message` objects such as
an order step's ``W301``, and refusals or errors that carry a message) and counts as it goes,
keeping only the messages, so acknowledging a large file needs no more memory than its messages.
The :class:`AckResult` holds the fields of the ``QUIT`` file of FORMATS.md
(:meth:`AckResult.to_quit_fields`).

The status:

* a file-level (``E1xx``) or process (``E3xx``) error means the file as a whole was not taken
  over: ``uebernommen`` is 0 and ``abgelehnt`` is every record;
* ``ok`` when no record was rejected and no message is an error (warnings alone keep ``ok``;
  an empty, header-only file is ``ok``);
* ``fehler`` otherwise when nothing was taken over (a file-level error, or every record
  rejected);
* ``teilweise`` otherwise (some records rejected, or a record-level error reported).

This is the rule of :func:`emma_osplus._quit.acknowledgement_status`, so the result always
makes a valid ``QUIT``.

``saetze == uebernommen + abgelehnt`` always holds.

>>> from emma_osplus import Message, Record, Rejected
>>> items = [
...     Record(line=2, values={"KUNDENNUMMER": "0000004711"}, raw="4711;a@example.de"),
...     Rejected(line=3, raw="42;kaputt", messages=(Message("E201", line=3, field="EMAIL"),)),
... ]
>>> result = acknowledge("37050198_KMM_K2026001_20261122093000_0001.csv", "ab" * 32, items)
>>> result.status, result.saetze, result.uebernommen, result.abgelehnt
(<AckStatus.PARTIAL: 'teilweise'>, 2, 1, 1)
>>> result.to_quit_fields()["meldung"]
[{'code': 'E201', 'stufe': 'fehler', 'zeile': 3, 'feld': 'EMAIL', 'text': 'Ungültige E-Mail-Adresse'}]
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Any, TypeAlias

import attrs

from ._errors import MessageError
from ._machine import TransitionRefused
from ._messages import Message, MessageLevel, mask_addresses
from ._records import Notice, Record, Rejected
from ._types import Blz

__all__ = ["AckResult", "AckStatus", "acknowledge"]

_SHA256 = re.compile(r"[0-9a-f]{64}")


class AckStatus(enum.Enum):
    """The ``status`` of a ``QUIT`` file's ``ergebnis``."""

    OK = "ok"
    PARTIAL = "teilweise"
    ERROR = "fehler"


def _sha256(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.lower()
    if not _SHA256.fullmatch(text):
        raise ValueError(f"not a SHA-256 in hex: {value!r}")
    return text


def _blz(value: str | Blz | None) -> Blz | None:
    if value is None or isinstance(value, Blz):
        return value
    return Blz(value)


def _messages(value: Iterable[Message]) -> tuple[Message, ...]:
    return tuple(value)


def _count(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative: {value}")


def _is_file_error(message: Message) -> bool:
    return message.is_error and message.definition.level in (
        MessageLevel.FILE,
        MessageLevel.PROCESS,
    )


@attrs.frozen
class AckResult:
    """The acknowledgement of one processed file: the fields of FORMATS.md's ``QUIT``.

    ``file_name``/``sha256`` are the ``bezug``; ``status``, ``saetze`` (records read),
    ``uebernommen`` (taken over) and ``abgelehnt`` (rejected) the ``ergebnis``; ``messages``
    every ``meldung``; ``blz`` the ``institut``.  Build it with :func:`acknowledge`.
    """

    file_name: str
    sha256: str | None = attrs.field(converter=_sha256)
    status: AckStatus = attrs.field(converter=AckStatus)
    saetze: int = attrs.field(validator=_count)
    uebernommen: int = attrs.field(validator=_count)
    abgelehnt: int = attrs.field(validator=_count)
    messages: tuple[Message, ...] = attrs.field(default=(), converter=_messages)
    blz: Blz | None = attrs.field(default=None, converter=_blz)

    def __attrs_post_init__(self) -> None:
        if self.saetze != self.uebernommen + self.abgelehnt:
            raise ValueError(
                f"saetze ({self.saetze}) must be uebernommen ({self.uebernommen}) "
                f"+ abgelehnt ({self.abgelehnt})"
            )

    @property
    def errors(self) -> tuple[Message, ...]:
        """The error messages."""
        return tuple(m for m in self.messages if m.is_error)

    @property
    def warnings(self) -> tuple[Message, ...]:
        """The warning messages."""
        return tuple(m for m in self.messages if not m.is_error)

    def to_quit_fields(self) -> dict[str, Any]:
        """The ``QUIT`` fields, named as in FORMATS.md::

            {"blz": ..., "bezug": {"datei", "sha256"},
             "ergebnis": {"status", "saetze", "uebernommen", "abgelehnt"},
             "meldung": [{"code", "stufe", "zeile", "feld", "text"}, ...]}

        ``zeile``/``feld`` are ``None`` where a message has none; ``text`` is the message's text
        followed by its detail in parentheses, email addresses masked.
        """
        return {
            "blz": None if self.blz is None else str(self.blz),
            "bezug": {"datei": self.file_name, "sha256": self.sha256},
            "ergebnis": {
                "status": self.status.value,
                "saetze": self.saetze,
                "uebernommen": self.uebernommen,
                "abgelehnt": self.abgelehnt,
            },
            "meldung": [
                {
                    "code": m.code,
                    "stufe": m.severity.german,
                    "zeile": m.line,
                    "feld": m.field,
                    "text": mask_addresses(m.text + (f" ({m.detail})" if m.detail else "")),
                }
                for m in self.messages
            ],
        }


Acknowledgeable: TypeAlias = Record | Rejected | Notice | Message | MessageError | TransitionRefused


def acknowledge(
    file_name: str,
    sha256: str | None,
    items: Iterable[Acknowledgeable],
    *,
    blz: str | Blz | None = None,
    saetze: int | None = None,
    abgelehnt: int | None = None,
) -> AckResult:
    """The :class:`AckResult` of a processed file.

    *items* are what processing produced, in any mix: :class:`~emma_osplus.Record` (counted as
    taken over, its warnings kept), :class:`~emma_osplus.Rejected` (counted as rejected, its
    messages kept), :class:`~emma_osplus.Notice` and :class:`~emma_osplus.Message` (kept),
    and exceptions carrying messages (:class:`~emma_osplus.MessageError`, a
    :class:`~emma_osplus._machine.TransitionRefused` with a code).  *items* is consumed once.

    ``saetze`` and ``abgelehnt`` give the counts when *items* holds only messages (e.g. the
    caller counted while streaming); they replace what was counted.

    >>> from emma_osplus import Message
    >>> acknowledge("vreku.xml", None, [Message("E305", field="vertriebsweg")]).status
    <AckStatus.ERROR: 'fehler'>
    >>> acknowledge("leer.csv", None, []).status
    <AckStatus.OK: 'ok'>
    """
    taken = rejected = 0
    messages: list[Message] = []
    for item in items:
        if isinstance(item, Record):
            taken += 1
            messages.extend(item.messages)
        elif isinstance(item, Rejected):
            rejected += 1
            messages.extend(item.messages)
        elif isinstance(item, Notice):
            messages.append(item.message)
        elif isinstance(item, Message):
            messages.append(item)
        elif isinstance(item, MessageError):
            messages.extend(item.messages)
        elif isinstance(item, TransitionRefused):
            if item.message is None:
                raise ValueError(f"a refusal without a message code cannot be acknowledged: {item}")
            messages.append(item.message)
        else:
            raise TypeError(f"cannot acknowledge {type(item).__name__}")
    total = taken + rejected if saetze is None else saetze
    refused = rejected if abgelehnt is None else abgelehnt
    if refused > total:
        raise ValueError(f"abgelehnt ({refused}) exceeds saetze ({total})")
    if any(_is_file_error(m) for m in messages):
        refused = total  # the file as a whole was not taken over
    if refused == 0 and not any(m.is_error for m in messages):
        status = AckStatus.OK
    elif refused == total:
        status = AckStatus.ERROR
    else:
        status = AckStatus.PARTIAL
    return AckResult(
        file_name=file_name,
        sha256=sha256,
        status=status,
        saetze=total,
        uebernommen=total - refused,
        abgelehnt=refused,
        messages=messages,
        blz=blz,
    )
