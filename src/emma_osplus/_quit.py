"""Acknowledgements (``QUIT``) of a processed file, in both directions.

An acknowledgement names the file (``bezug``: name and SHA-256), counts its records
(``ergebnis``: read, accepted, refused, and the status) and lists the messages
(``meldung``: code, level as ``stufe`` ``fehler``/``warnung``, optional line ``zeile`` and
field ``feld``, the text as element text).  :meth:`Acknowledgement.from_messages` computes the
status: ``ok`` without refused records and without errors, ``fehler`` when nothing was
accepted, ``teilweise`` otherwise.

:func:`read_acknowledgement` validates against ``schemas/quittung.xsd`` (E106) and checks
in code that ``uebernommen + abgelehnt = saetze``, that the status agrees with the counts and
messages, that each ``stufe`` agrees with its code and that each code is in the catalogue
(E106), and that ``bezug/@datei`` is a plain file name (E108).

>>> from emma_osplus import Message
>>> ack = Acknowledgement.from_messages(
...     "37050198", "37050198_KMM_K2026001_20261122093000_0001.csv", "0" * 64,
...     saetze=1000, uebernommen=997, abgelehnt=3,
...     messages=[Message("E201", line=17, field="EMAIL", raw="4711;anna@@example.de")],
... )
>>> ack.status
'teilweise'
>>> print(write_acknowledgement(ack).decode(), end="")  # doctest: +NORMALIZE_WHITESPACE
<?xml version="1.0" encoding="UTF-8"?>
<quittung xmlns="urn:emma-osplus:quittung:1" version="1">
  <institut blz="37050198"/>
  <bezug datei="37050198_KMM_K2026001_20261122093000_0001.csv"
         sha256="0000000000000000000000000000000000000000000000000000000000000000"/>
  <ergebnis status="teilweise" saetze="1000" uebernommen="997" abgelehnt="3"/>
  <meldung code="E201" stufe="fehler" zeile="17" feld="EMAIL">Ungültige E-Mail-Adresse</meldung>
</quittung>
>>> read_acknowledgement(write_acknowledgement(ack)).value == ack
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

import attrs

from ._errors import InvalidValueError
from ._messages import CATALOGUE, Message, Severity
from ._records import Mode
from ._types import Blz
from ._xml import (
    DEFAULT_MAX_BYTES,
    Document,
    DocumentBuilder,
    ElementSpec,
    XmlDocument,
    XmlLayout,
    XmlResult,
    check_count,
    check_file_name,
    check_one_of,
    check_sha256,
    check_xml_text,
    finish,
    load_document,
    parse_count,
    write_document,
)

__all__ = [
    "QUIT_LAYOUT",
    "QUIT_NAMESPACE",
    "Acknowledgement",
    "acknowledgement_from_document",
    "acknowledgement_status",
    "acknowledgement_to_document",
    "read_acknowledgement",
    "write_acknowledgement",
]

#: The acknowledgement's XML namespace.
QUIT_NAMESPACE = "urn:emma-osplus:quittung:1"

#: ``ergebnis/@status``: all accepted, partly accepted, refused.
STATUS: tuple[str, ...] = ("ok", "teilweise", "fehler")

_ROOT = "quittung"
_ERGEBNIS = f"{_ROOT}/ergebnis"
_MELDUNG = f"{_ROOT}/meldung"
_STUFE = {"fehler": Severity.ERROR, "warnung": Severity.WARNING}

#: Elements and attributes in canonical order (the order of the FORMATS.md example).
QUIT_LAYOUT = XmlLayout(
    root=ElementSpec(
        _ROOT,
        attributes=("version",),
        children=(
            ElementSpec("institut", attributes=("blz",)),
            ElementSpec("bezug", attributes=("datei", "sha256")),
            ElementSpec("ergebnis", attributes=("status", "saetze", "uebernommen", "abgelehnt")),
            ElementSpec(
                "meldung", attributes=("code", "stufe", "zeile", "feld"), text=True, repeat=True
            ),
        ),
    ),
    namespace=QUIT_NAMESPACE,
    schema="quittung",
)


def acknowledgement_status(uebernommen: int, abgelehnt: int, messages: Iterable[Message]) -> str:
    """``ok`` when nothing was refused and no message is an error, ``fehler`` when nothing
    was accepted, else ``teilweise``.

    >>> acknowledgement_status(10, 0, []), acknowledgement_status(0, 0, [Message("E105")])
    ('ok', 'fehler')
    >>> acknowledgement_status(9, 0, [Message("W201")]), acknowledgement_status(9, 1, [])
    ('ok', 'teilweise')
    """
    if abgelehnt == 0 and not any(m.is_error for m in messages):
        return "ok"
    return "fehler" if uebernommen == 0 else "teilweise"


def _rule(field: str, detail: str) -> Message:
    return Message("E106", field=field, detail=detail)


def _ack_rules(
    status: str, saetze: int, uebernommen: int, abgelehnt: int, messages: Sequence[Message]
) -> list[Message]:
    problems = []
    if uebernommen + abgelehnt != saetze:
        problems.append(
            _rule(
                _ERGEBNIS,
                f"uebernommen {uebernommen} + abgelehnt {abgelehnt} is not saetze {saetze}",
            )
        )
    expected = acknowledgement_status(uebernommen, abgelehnt, messages)
    if status != expected:
        problems.append(
            _rule(f"{_ERGEBNIS}/@status", f"status must be {expected!r}, not {status!r}")
        )
    return problems


def _normalise(message: Message) -> Message:
    if not isinstance(message, Message):
        raise TypeError(f"expected a Message, got {type(message).__name__}")
    if message.raw is None and message.detail is None:
        return message
    text = message.text if message.detail is None else f"{message.text} ({message.detail})"
    return Message(message.code, line=message.line, field=message.field, text=text)


def _to_messages(value: Iterable[Message]) -> tuple[Message, ...]:
    return tuple(_normalise(m) for m in value)


def _check_messages(instance: object, _: object, value: tuple[Message, ...]) -> None:
    for m in value:
        if m.line is not None:
            check_count(m.line, f"{_MELDUNG}/@zeile", minimum=1)
        if m.field is not None:
            if m.field == "":
                raise InvalidValueError(
                    Message("E208", field=f"{_MELDUNG}/@feld", raw="", detail="empty field name")
                )
            check_xml_text(m.field, f"{_MELDUNG}/@feld")
        check_xml_text(m.text, f"{_MELDUNG}/#text")


def _to_blz(value: Blz | str) -> Blz:
    return value if isinstance(value, Blz) else Blz(value)


def _check_datei(instance: object, _: object, value: Any) -> None:
    check_file_name(value, f"{_ROOT}/bezug/@datei")


def _check_sha(instance: object, _: object, value: Any) -> None:
    check_sha256(value, f"{_ROOT}/bezug/@sha256")


def _check_status(instance: object, _: object, value: Any) -> None:
    check_one_of(value, STATUS, f"{_ERGEBNIS}/@status")


def _check_count(instance: object, attribute: attrs.Attribute[int], value: Any) -> None:
    check_count(value, f"{_ERGEBNIS}/@{attribute.name}")


@attrs.frozen(kw_only=True)
class Acknowledgement:
    """An acknowledgement (*Quittung*) of a processed file.

    ``messages`` keep code, line, field and text (level follows from the code): a message's
    ``detail`` is appended to its text in parentheses and its ``raw`` record is not carried
    (an acknowledgement travels to the other system and must not copy customer data).
    The counts must add up (``uebernommen + abgelehnt == saetze``) and ``status`` must be
    :func:`acknowledgement_status` of them; :meth:`from_messages` computes it.
    """

    blz: Blz = attrs.field(converter=_to_blz)
    datei: str = attrs.field(validator=_check_datei)
    sha256: str = attrs.field(validator=_check_sha)
    status: str = attrs.field(validator=_check_status)
    saetze: int = attrs.field(validator=_check_count)
    uebernommen: int = attrs.field(validator=_check_count)
    abgelehnt: int = attrs.field(validator=_check_count)
    messages: tuple[Message, ...] = attrs.field(
        default=(), converter=_to_messages, validator=_check_messages
    )

    def __attrs_post_init__(self) -> None:
        problems = _ack_rules(
            self.status, self.saetze, self.uebernommen, self.abgelehnt, self.messages
        )
        if problems:
            raise InvalidValueError(*problems)

    @classmethod
    def from_messages(
        cls,
        blz: Blz | str,
        datei: str,
        sha256: str,
        *,
        saetze: int,
        uebernommen: int,
        abgelehnt: int,
        messages: Iterable[Message] = (),
    ) -> Acknowledgement:
        """The acknowledgement of a processed file, its status computed."""
        kept = _to_messages(messages)
        return cls(
            blz=blz,
            datei=datei,
            sha256=sha256,
            status=acknowledgement_status(uebernommen, abgelehnt, kept),
            saetze=saetze,
            uebernommen=uebernommen,
            abgelehnt=abgelehnt,
            messages=kept,
        )


def acknowledgement_to_document(ack: Acknowledgement) -> Document:
    """The JSON view's ``document`` of *ack* (every value canonical text)."""
    meldungen = []
    for m in ack.messages:
        entry: Document = {"code": m.code, "stufe": m.severity.german}
        if m.line is not None:
            entry["zeile"] = str(m.line)
        if m.field is not None:
            entry["feld"] = m.field
        entry["#text"] = m.text
        meldungen.append(entry)
    return {
        "version": "1",
        "institut": {"blz": str(ack.blz)},
        "bezug": {"datei": ack.datei, "sha256": ack.sha256},
        "ergebnis": {
            "status": ack.status,
            "saetze": str(ack.saetze),
            "uebernommen": str(ack.uebernommen),
            "abgelehnt": str(ack.abgelehnt),
        },
        "meldung": meldungen,
    }


def _message(entry: Mapping[str, str], at: str, b: DocumentBuilder) -> Message | None:
    code = entry["code"]
    if code not in CATALOGUE:
        b.messages.append(
            b.place(_rule(f"{at}/@code", f"unknown message code {code!r}"), None, code)
        )
        return None
    expected = CATALOGUE[code].severity
    if _STUFE[entry["stufe"]] is not expected:
        detail = f"stufe of {code} must be {expected.german!r}"
        b.messages.append(b.place(_rule(f"{at}/@stufe", detail), None, entry["stufe"]))
        return None
    line = b.convert(parse_count, entry["zeile"], f"{at}/@zeile") if "zeile" in entry else None
    return Message(code, line=line, field=entry.get("feld"), text=entry["#text"])


def _build(parsed: XmlDocument) -> tuple[Acknowledgement | None, list[Message]]:
    doc = parsed.document
    b = DocumentBuilder(parsed)
    blz = b.convert(Blz, doc["institut"]["blz"], f"{_ROOT}/institut/@blz")
    datei: str = doc["bezug"]["datei"]
    b.convert(lambda v: check_file_name(v, ""), datei, f"{_ROOT}/bezug/@datei")
    ergebnis: Mapping[str, str] = doc["ergebnis"]
    saetze = b.convert(parse_count, ergebnis["saetze"], f"{_ERGEBNIS}/@saetze")
    uebernommen = b.convert(parse_count, ergebnis["uebernommen"], f"{_ERGEBNIS}/@uebernommen")
    abgelehnt = b.convert(parse_count, ergebnis["abgelehnt"], f"{_ERGEBNIS}/@abgelehnt")
    messages = [_message(e, f"{_MELDUNG}[{i}]", b) for i, e in enumerate(doc["meldung"], 1)]
    if (
        saetze is None
        or uebernommen is None
        or abgelehnt is None
        or any(m is None for m in messages)
    ):
        return None, b.messages
    kept = [m for m in messages if m is not None]
    b.messages.extend(
        b.place(m, m.field, None)
        for m in _ack_rules(ergebnis["status"], saetze, uebernommen, abgelehnt, kept)
    )
    if b.messages or blz is None:
        return None, b.messages
    ack = b.build(
        lambda: Acknowledgement(
            blz=blz,
            datei=datei,
            sha256=doc["bezug"]["sha256"],
            status=ergebnis["status"],
            saetze=saetze,
            uebernommen=uebernommen,
            abgelehnt=abgelehnt,
            messages=kept,
        )
    )
    return ack, b.messages


def read_acknowledgement(
    source: bytes | IO[bytes],
    *,
    mode: Mode = Mode.STRICT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> XmlResult[Acknowledgement]:
    """Read an acknowledgement from bytes or a binary file object.

    Strict mode raises the first problem (E101, E105, E106, E108) carrying all messages of
    its step; lenient mode returns an :class:`~emma_osplus._xml.XmlResult` whose ``value`` is
    ``None`` when there is an error.  The acknowledgement's own ``meldung`` entries are data
    (``value.messages``), not problems of the file.
    """
    parsed, problems = load_document(source, QUIT_LAYOUT, mode=mode, max_bytes=max_bytes)
    if parsed is None:
        return XmlResult(None, problems)
    ack, messages = _build(parsed)
    return finish(ack, messages, parsed.document, mode, acknowledgement_to_document)


def write_acknowledgement(ack: Acknowledgement) -> bytes:
    """The canonical bytes of *ack*."""
    return write_document(acknowledgement_to_document(ack), QUIT_LAYOUT)


def acknowledgement_from_document(document: Mapping[str, Any]) -> Acknowledgement:
    """The acknowledgement of a JSON-view *document*: rendered canonically and read strictly,
    so it passes exactly the checks a file does."""
    result = read_acknowledgement(write_document(document, QUIT_LAYOUT))
    assert result.value is not None  # strict mode raised otherwise
    return result.value
