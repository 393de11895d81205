"""Control files of ReKu and IAM orders (``VREKU``, ``VIAM``): sent before the first delivery.

:func:`read_control` parses with the hardened engine (:mod:`emma_osplus._xml`), validates
against ``schemas/steuerung.xsd`` (E106) and checks the rules that XSD 1.0 cannot express or
that have a code of their own: ``anlass`` required for ``typ="vreku"`` and optional for
``viam``, ``massnahme`` required for ``viam`` and absent for ``vreku``, ``gueltigBis`` not
before ``gueltigAb`` (E106), the order name (E303 with a suggested safe spelling), the
channel ``EMMA`` (E305) and the occasion in the registry (E204).  :func:`write_control`
writes the canonical form.

>>> import datetime as dt
>>> c = ControlFile(
...     typ="vreku", blz="37050198", nummer="R2026042", aktion="neu",
...     bezeichnung="Runde_Geburtstage", rhythmus="monatlich",
...     gueltig_ab=dt.date(2026, 12, 1), gueltig_bis=dt.date(2027, 12, 31), anlass="MCAG002",
...     erstellt=dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
... )
>>> print(write_control(c).decode(), end="")  # doctest: +NORMALIZE_WHITESPACE
<?xml version="1.0" encoding="UTF-8"?>
<steuerung xmlns="urn:emma-osplus:steuerung:1" version="1" typ="vreku">
  <institut blz="37050198"/>
  <auftrag nummer="R2026042" aktion="neu" bezeichnung="Runde_Geburtstage" rhythmus="monatlich"
           vertriebsweg="EMMA" gueltigAb="2026-12-01" gueltigBis="2027-12-31">
    <anlass code="MCAG002"/>
  </auftrag>
  <erstellt>2026-11-22T09:30:00+01:00</erstellt>
</steuerung>
>>> c.kind
'VREKU'
>>> read_control(write_control(c)).value == c
True
>>> attrs.evolve(c, vertriebsweg="POST")
Traceback (most recent call last):
...
emma_osplus._errors.InvalidValueError: E305, field steuerung/auftrag/@vertriebsweg: Vertriebsweg ist nicht EMMA (the channel must be EMMA)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import IO, Any

import attrs

from ._errors import InvalidValueError
from ._messages import Message
from ._records import Mode
from ._types import Blz, OccasionCode, OrderName, OrderNumber
from ._xml import (
    DEFAULT_MAX_BYTES,
    Document,
    DocumentBuilder,
    ElementSpec,
    OccasionResolver,
    XmlDocument,
    XmlLayout,
    XmlResult,
    check_one_of,
    check_timestamp,
    finish,
    format_date,
    format_timestamp,
    load_document,
    occasion_converter,
    parse_date,
    parse_timestamp,
    write_document,
)

__all__ = [
    "CONTROL_LAYOUT",
    "CONTROL_NAMESPACE",
    "ControlFile",
    "control_from_document",
    "control_to_document",
    "read_control",
    "write_control",
]

#: The control file's XML namespace.
CONTROL_NAMESPACE = "urn:emma-osplus:steuerung:1"

#: ``typ``: ReKu or IAM control file.
TYPEN: tuple[str, ...] = ("vreku", "viam")
#: ``aktion``: new order, change, deletion.
AKTIONEN: tuple[str, ...] = ("neu", "aenderung", "loeschung")
#: ``rhythmus``: the execution rhythm.
RHYTHMEN: tuple[str, ...] = ("taeglich", "woechentlich", "monatlich", "quartalsweise")
#: The only channel this interface serves.
CHANNEL = "EMMA"

_ROOT = "steuerung"
_AUFTRAG = f"{_ROOT}/auftrag"
_MASSNAHME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")

#: Elements and attributes in canonical order (the order of the FORMATS.md example).
CONTROL_LAYOUT = XmlLayout(
    root=ElementSpec(
        _ROOT,
        attributes=("version", "typ"),
        children=(
            ElementSpec("institut", attributes=("blz",)),
            ElementSpec(
                "auftrag",
                attributes=(
                    "nummer",
                    "aktion",
                    "bezeichnung",
                    "rhythmus",
                    "vertriebsweg",
                    "gueltigAb",
                    "gueltigBis",
                ),
                children=(
                    ElementSpec("anlass", attributes=("code",)),
                    ElementSpec("massnahme", attributes=("id",)),
                ),
            ),
            ElementSpec("erstellt", text=True),
        ),
    ),
    namespace=CONTROL_NAMESPACE,
    schema="steuerung",
)


def _rule(field: str, detail: str) -> Message:
    return Message("E106", field=field, detail=detail)


def _control_rules(
    typ: str, has_anlass: bool, has_massnahme: bool, ab: dt.date | None, bis: dt.date | None
) -> list[Message]:
    problems = []
    if typ == "vreku":
        if not has_anlass:
            problems.append(_rule(_AUFTRAG, 'anlass is required for typ="vreku"'))
        if has_massnahme:
            problems.append(
                _rule(f"{_AUFTRAG}/massnahme", 'massnahme is not allowed for typ="vreku"')
            )
    elif typ == "viam" and not has_massnahme:
        problems.append(_rule(_AUFTRAG, 'massnahme is required for typ="viam"'))
    if ab is not None and bis is not None and bis < ab:
        problems.append(
            _rule(f"{_AUFTRAG}/@gueltigBis", f"gueltigBis {bis} is before gueltigAb {ab}")
        )
    return problems


def check_channel(value: object) -> str:
    """*value* when it is ``EMMA``; else :class:`~emma_osplus.InvalidValueError` (E305)."""
    if value != CHANNEL:
        raise InvalidValueError(
            Message(
                "E305",
                field=f"{_AUFTRAG}/@vertriebsweg",
                raw=str(value),
                detail="the channel must be EMMA",
            )
        )
    return CHANNEL


def check_massnahme(value: object) -> str:
    """*value* when it is a measure id ``[A-Za-z0-9_.-]{1,64}``; else E209."""
    if not isinstance(value, str) or not _MASSNAHME_RE.fullmatch(value):
        raise InvalidValueError(
            Message(
                "E209",
                field=f"{_AUFTRAG}/massnahme/@id",
                raw=str(value),
                detail="expected 1 to 64 of A-Z, a-z, 0-9, '_', '.', '-'",
            )
        )
    return value


def _to_blz(value: Blz | str) -> Blz:
    return value if isinstance(value, Blz) else Blz(value)


def _to_order_number(value: OrderNumber | str) -> OrderNumber:
    return value if isinstance(value, OrderNumber) else OrderNumber(value)


def _to_order_name(value: OrderName | str) -> OrderName:
    return value if isinstance(value, OrderName) else OrderName(value)


def _to_occasion(value: OccasionCode | str | None) -> OccasionCode | None:
    return value if value is None or isinstance(value, OccasionCode) else OccasionCode(value)


def _one_of(codes: tuple[str, ...], field: str) -> Any:
    def check(instance: object, _: object, value: Any) -> None:
        check_one_of(value, codes, field)

    return check


def _check_channel(instance: object, _: object, value: Any) -> None:
    check_channel(value)


def _check_massnahme(instance: object, _: object, value: Any) -> None:
    if value is not None:
        check_massnahme(value)


def _check_date(field: str, optional: bool) -> Any:
    def check(instance: object, _: object, value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise InvalidValueError(
                Message("E205", field=field, raw=repr(value), detail="expected a date")
            )

    return check


def _check_erstellt(instance: object, _: object, value: Any) -> None:
    check_timestamp(value, f"{_ROOT}/erstellt")


@attrs.frozen(kw_only=True)
class ControlFile:
    """A control file (*Steuerungsdatei*) of a ReKu (``typ="vreku"``) or IAM (``"viam"``) order.

    ``anlass`` is required for vreku and optional for viam; ``massnahme`` (the IAM measure
    id) is required for viam and absent for vreku; ``vertriebsweg`` must be ``EMMA`` (E305);
    ``gueltig_bis`` is optional and not before ``gueltig_ab``.  Whether the occasion is
    registered is checked by :func:`read_control`, not here.
    """

    typ: str = attrs.field(validator=_one_of(TYPEN, f"{_ROOT}/@typ"))
    blz: Blz = attrs.field(converter=_to_blz)
    nummer: OrderNumber = attrs.field(converter=_to_order_number)
    aktion: str = attrs.field(validator=_one_of(AKTIONEN, f"{_AUFTRAG}/@aktion"))
    bezeichnung: OrderName = attrs.field(converter=_to_order_name)
    rhythmus: str = attrs.field(validator=_one_of(RHYTHMEN, f"{_AUFTRAG}/@rhythmus"))
    vertriebsweg: str = attrs.field(default=CHANNEL, validator=_check_channel)
    gueltig_ab: dt.date = attrs.field(validator=_check_date(f"{_AUFTRAG}/@gueltigAb", False))
    gueltig_bis: dt.date | None = attrs.field(
        default=None, validator=_check_date(f"{_AUFTRAG}/@gueltigBis", True)
    )
    anlass: OccasionCode | None = attrs.field(default=None, converter=_to_occasion)
    massnahme: str | None = attrs.field(default=None, validator=_check_massnahme)
    erstellt: dt.datetime = attrs.field(validator=_check_erstellt)

    def __attrs_post_init__(self) -> None:
        problems = _control_rules(
            self.typ,
            self.anlass is not None,
            self.massnahme is not None,
            self.gueltig_ab,
            self.gueltig_bis,
        )
        if problems:
            raise InvalidValueError(*problems)

    @property
    def kind(self) -> str:
        """The file-name kind: ``VREKU`` or ``VIAM``."""
        return self.typ.upper()


def control_to_document(control: ControlFile) -> Document:
    """The JSON view's ``document`` of *control* (every value canonical text)."""
    auftrag: Document = {
        "nummer": str(control.nummer),
        "aktion": control.aktion,
        "bezeichnung": str(control.bezeichnung),
        "rhythmus": control.rhythmus,
        "vertriebsweg": control.vertriebsweg,
        "gueltigAb": format_date(control.gueltig_ab),
    }
    if control.gueltig_bis is not None:
        auftrag["gueltigBis"] = format_date(control.gueltig_bis)
    if control.anlass is not None:
        auftrag["anlass"] = {"code": control.anlass.long}
    if control.massnahme is not None:
        auftrag["massnahme"] = {"id": control.massnahme}
    return {
        "version": "1",
        "typ": control.typ,
        "institut": {"blz": str(control.blz)},
        "auftrag": auftrag,
        "erstellt": {"#text": format_timestamp(control.erstellt)},
    }


def _build(
    parsed: XmlDocument, occasions: OccasionResolver | None
) -> tuple[ControlFile | None, list[Message]]:
    doc = parsed.document
    b = DocumentBuilder(parsed)
    auftrag: Mapping[str, Any] = doc["auftrag"]
    typ: str = doc["typ"]
    blz = b.convert(Blz, doc["institut"]["blz"], f"{_ROOT}/institut/@blz")
    nummer = b.convert(OrderNumber, auftrag["nummer"], f"{_AUFTRAG}/@nummer")
    bezeichnung = b.convert(OrderName, auftrag["bezeichnung"], f"{_AUFTRAG}/@bezeichnung")
    vertriebsweg = b.convert(check_channel, auftrag["vertriebsweg"], f"{_AUFTRAG}/@vertriebsweg")
    ab = b.convert(parse_date, auftrag["gueltigAb"], f"{_AUFTRAG}/@gueltigAb")
    bis = (
        b.convert(parse_date, auftrag["gueltigBis"], f"{_AUFTRAG}/@gueltigBis")
        if "gueltigBis" in auftrag
        else None
    )
    anlass = None
    if "anlass" in auftrag:
        convert = occasion_converter(occasions)
        anlass = b.convert(convert, auftrag["anlass"]["code"], f"{_AUFTRAG}/anlass/@code")
    massnahme = None
    if "massnahme" in auftrag:
        massnahme = b.convert(
            check_massnahme, auftrag["massnahme"]["id"], f"{_AUFTRAG}/massnahme/@id"
        )
    erstellt = b.convert(parse_timestamp, doc["erstellt"]["#text"], f"{_ROOT}/erstellt")
    b.messages.extend(
        b.place(m, m.field, None)
        for m in _control_rules(typ, "anlass" in auftrag, "massnahme" in auftrag, ab, bis)
    )
    if (
        b.messages
        or blz is None
        or nummer is None
        or bezeichnung is None
        or vertriebsweg is None
        or ab is None
        or erstellt is None
    ):
        return None, b.messages
    control = b.build(
        lambda: ControlFile(
            typ=typ,
            blz=blz,
            nummer=nummer,
            aktion=auftrag["aktion"],
            bezeichnung=bezeichnung,
            rhythmus=auftrag["rhythmus"],
            vertriebsweg=vertriebsweg,
            gueltig_ab=ab,
            gueltig_bis=bis,
            anlass=anlass,
            massnahme=massnahme,
            erstellt=erstellt,
        )
    )
    return control, b.messages


def read_control(
    source: bytes | IO[bytes],
    *,
    mode: Mode = Mode.STRICT,
    occasions: OccasionResolver | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> XmlResult[ControlFile]:
    """Read a control file (vreku or viam) from bytes or a binary file object.

    *occasions* resolves ``anlass/@code`` (default: the packaged registry; E204 when unknown).
    Strict mode raises the first problem (E101, E105, E106, E204, E303, E305 …) carrying all
    messages of its step; lenient mode returns an :class:`~emma_osplus._xml.XmlResult` whose
    ``value`` is ``None`` when there is an error.
    """
    parsed, problems = load_document(source, CONTROL_LAYOUT, mode=mode, max_bytes=max_bytes)
    if parsed is None:
        return XmlResult(None, problems)
    control, messages = _build(parsed, occasions)
    return finish(control, messages, parsed.document, mode, control_to_document)


def write_control(control: ControlFile) -> bytes:
    """The canonical bytes of *control*."""
    return write_document(control_to_document(control), CONTROL_LAYOUT)


def control_from_document(
    document: Mapping[str, Any], *, occasions: OccasionResolver | None = None
) -> ControlFile:
    """The control file of a JSON-view *document*: rendered canonically and read strictly,
    so it passes exactly the checks a file does."""
    result = read_control(write_document(document, CONTROL_LAYOUT), occasions=occasions)
    assert result.value is not None  # strict mode raised otherwise
    return result.value
