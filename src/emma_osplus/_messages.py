"""The message-code catalogue of FORMATS.md as data, and the :class:`Message` every problem becomes.

Codes are stable: new ones may be added, none is renumbered.  The catalogue keeps the level
column of the specification (``file``, ``record``, ``process``, ``warning``); a message's
*severity* (``error`` or ``warning``) follows from it.

>>> from emma_osplus import Message
>>> m = Message("E201", line=17, field="EMAIL", raw="0000004711;anna@@example.de")
>>> m.severity.value, m.text
('error', 'Ungültige E-Mail-Adresse')
>>> m.definition.text_en
'invalid email address'
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from types import MappingProxyType

import attrs

__all__ = [
    "CATALOGUE",
    "Message",
    "MessageDefinition",
    "MessageLevel",
    "Severity",
    "mask_addresses",
]


class MessageLevel(enum.Enum):
    """Where a problem sits: the ``level`` column of the catalogue."""

    FILE = "file"
    RECORD = "record"
    PROCESS = "process"
    WARNING = "warning"


class Severity(enum.Enum):
    """Whether a message is an error or a warning (JSON view ``level``; QUIT ``stufe``)."""

    ERROR = "error"
    WARNING = "warning"

    @property
    def german(self) -> str:
        """The QUIT file's spelling: ``fehler`` or ``warnung``."""
        return "fehler" if self is Severity.ERROR else "warnung"


@attrs.frozen
class MessageDefinition:
    """One row of the catalogue."""

    code: str
    level: MessageLevel
    text_de: str
    text_en: str

    @property
    def severity(self) -> Severity:
        """``warning`` for the W-codes, ``error`` for everything else."""
        return Severity.WARNING if self.level is MessageLevel.WARNING else Severity.ERROR


_F, _R, _P, _W = MessageLevel.FILE, MessageLevel.RECORD, MessageLevel.PROCESS, MessageLevel.WARNING

_ROWS: tuple[tuple[str, MessageLevel, str, str], ...] = (
    ("E101", _F, "Datei nicht dekodierbar", "bytes not decodable in the declared or detected encoding"),
    ("E102", _F, "Größe oder SHA-256 weicht vom Lieferschein ab", "size or SHA-256 differs from the manifest"),
    ("E103", _F, "Im Lieferschein genannte Datei fehlt", "a file listed in the manifest is missing"),
    ("E104", _F, "Dateistruktur beschädigt", "structure broken: record of wrong length, header or trailer missing, count or sum wrong"),
    ("E105", _F, "XML nicht wohlgeformt oder mit DTD, Entität oder externem Verweis", "XML not well-formed, or it has a DTD, entity or external reference"),
    ("E106", _F, "XML verletzt das Schema", "XML violates the schema"),
    ("E107", _F, "Pflichtspalte oder Satzart fehlt oder Satzart unbekannt", "required column or record type missing, unknown record type"),
    ("E108", _F, "Dateiname entspricht nicht der Namenskonvention", "file name does not follow the grammar"),
    ("E109", _F, "Lücke in der Dateinummernfolge", "sequence number gap"),
    ("E201", _R, "Ungültige E-Mail-Adresse", "invalid email address"),
    ("E202", _R, "Ungültige Kundennummer", "invalid customer number"),
    ("E203", _R, "Kundennummer doppelt in der Datei", "customer number twice in the file"),
    ("E204", _R, "Unbekannter Anlass", "unknown occasion code"),
    ("E205", _R, "Ungültiges Datum oder ungültige Uhrzeit", "invalid date or time"),
    ("E206", _R, "Wert zu lang für das Feld oder in der Kodierung der Datei nicht darstellbar", "value too long for its field, or not encodable in the file's encoding"),
    ("E207", _R, "Wert nicht in der Codetabelle des Feldes", "value not in the field's code table"),
    ("E208", _R, "Pflichtwert fehlt", "required value missing"),
    ("E209", _R, "Wert entspricht nicht dem Format des Feldes", "value does not match the field's format"),
    ("E301", _P, "Keine korrekt verarbeitete Steuerungsdatei für diesen Auftrag", "no correctly processed control file for this order"),
    ("E302", _P, "Höchstzahl an Abonnentenlisten (150) erreicht", "subscriber-list limit (150) reached"),
    ("E303", _P, "Auftragsname mit Umlauten, Leerzeichen oder unzulässigen Zeichen", "order name with umlauts, spaces or other characters outside the rule"),
    ("E304", _P, "Auftrag unbekannt oder gelöscht", "order unknown or deleted"),
    ("E305", _P, "Vertriebsweg ist nicht EMMA", "channel is not EMMA"),
    ("E306", _P, "Beraterbild oder Faksimile fehlt oder ist kein Bild", "advisor picture or facsimile missing or not an image"),
    ("E307", _P, "Abonnentenliste vergeben, unbekannt oder eingefroren", "subscriber list name taken, list unknown or frozen"),
    ("E308", _P, "Ereignis passt nicht zum Stand des Auftrags", "event out of sequence for the order's state"),
    ("W201", _W, "Eine Adresse für mehrere Kunden", "one address for several customers"),
    ("W301", _W, "Lieferung mehr als 36 Stunden nach dem Auftrag", "delivery more than 36 hours after the order"),
    ("W302", _W, "135 oder mehr Abonnentenlisten (90 % der Höchstzahl)", "135 or more subscriber lists (90 % of the limit)"),
)  # fmt: skip

#: Every message code, by code.  ``E209`` (a value that breaks its field's pattern where no more
#: specific code exists), ``E307`` (subscriber list name taken, list unknown or frozen) and
#: ``E308`` (an event out of an order's sequence) are this library's additions to the
#: specification's catalogue.
CATALOGUE: Mapping[str, MessageDefinition] = MappingProxyType(
    {code: MessageDefinition(code, level, de, en) for code, level, de, en in _ROWS}
)

# The domain part may hold further "@" so that malformed addresses are masked too.  The local
# part may hold "'" (o'connor@…), so a quote before it is taken in and kept (see _masked).
_ADDRESS = re.compile(r"([^\s;,<>\"@()\[\]]{1,64})@([^\s;,<>\"'()\[\]]+)")
# The path of an XML attribute in a message's field ("steuerung/auftrag/@aktion"): a step
# "/@" and a plain attribute name, perhaps followed by the ":" that ends the field in a line.
_ATTRIBUTE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*:?")
# ... where a message is described: "field " and the path up to that step (Message.describe)
_FIELD_BEFORE = re.compile(r"\bfield [\w.\[\]/-]*\Z")


def _masked(match: re.Match[str]) -> str:
    local, domain = match.group(1), match.group(2)
    if local[-1] == "/" and _ATTRIBUTE.fullmatch(domain):
        start = match.start()
        if _FIELD_BEFORE.search(match.string, max(0, start - 200), start):
            return match.group(0)  # a message's field, the path of an attribute
    quotes = len(local) - len(local.lstrip("'"))  # quotes around a value ('anna@x.de')
    return f"{local[: quotes + 1]}***@{domain}"


def mask_addresses(text: str) -> str:
    """Mask every email address in *text*: keep the first character and the domain.  The
    field of a message described by :meth:`Message.describe` (``field auftrag/@nummer``, the
    path of an XML attribute) is not an address.

    >>> mask_addresses("Kunde anna.schmidt@example.de; b@x.de")
    'Kunde a***@example.de; b***@x.de'
    >>> mask_addresses("(anna@x.de)")
    '(a***@x.de)'
    >>> mask_addresses("EMAIL 'kevin.o'connor@example.de' twice")
    "EMAIL 'k***@example.de' twice"
    >>> mask_addresses("anna.schmidt@@example.de")
    'a***@@example.de'
    >>> mask_addresses("E106, field steuerung/auftrag/@aktion: anna/@localhost")
    'E106, field steuerung/auftrag/@aktion: a***@localhost'
    """
    return _ADDRESS.sub(_masked, text)


def _check_code(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in CATALOGUE:
        raise ValueError(f"unknown message code {value!r}")


@attrs.frozen(repr=False)
class Message:
    """One problem: its code, where it is (line or record number, field) and the raw input.

    ``line`` is the physical line where a CSV record starts (header = 1) or the record number
    of a fixed-width file (header = 1); ``None`` for file-level problems without a position.
    ``text`` defaults to the catalogue's German text; ``detail`` says more, in English.
    """

    code: str = attrs.field(validator=_check_code)
    line: int | None = None
    field: str | None = None
    raw: str | None = None
    text: str = attrs.field()
    detail: str | None = None

    @text.default
    def _default_text(self) -> str:
        definition = CATALOGUE.get(self.code)
        return definition.text_de if definition is not None else ""

    @property
    def definition(self) -> MessageDefinition:
        """The catalogue entry for this message's code."""
        return CATALOGUE[self.code]

    @property
    def severity(self) -> Severity:
        """``error`` or ``warning``."""
        return CATALOGUE[self.code].severity

    @property
    def is_error(self) -> bool:
        """True for errors, False for warnings."""
        return self.severity is Severity.ERROR

    def describe(self) -> str:
        """One line for people: code, position, field, text and detail (addresses masked)."""
        parts = [self.code]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.field is not None:
            parts.append(f"field {self.field}")
        head = ", ".join(parts)
        tail = f" ({mask_addresses(self.detail)})" if self.detail else ""
        return f"{head}: {self.text}{tail}"

    def __repr__(self) -> str:
        raw = None if self.raw is None else mask_addresses(self.raw)
        detail = None if self.detail is None else mask_addresses(self.detail)
        return (
            f"Message(code={self.code!r}, line={self.line!r}, field={self.field!r}, "
            f"raw={raw!r}, text={self.text!r}, detail={detail!r})"
        )
