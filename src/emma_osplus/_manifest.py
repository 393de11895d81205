"""The delivery manifest (``LIEF``): what a delivery holds, written last.

:func:`read_manifest` parses with the hardened engine (:mod:`emma_osplus._xml`), validates
against ``schemas/lieferschein.xsd`` (E106) and checks the rules that XSD 1.0 cannot express
or that have a code of their own: ``anlass`` required exactly when ``art="REKU"`` (E106),
exactly one file with ``rolle="abonnenten"`` (E106), ``saetze`` (required) and ``encoding``
(optional) only on that file (E106), the order name (E303, with a suggested safe spelling),
the occasion in the registry (E204) and plain file names (E108).  :func:`write_manifest`
writes the canonical form; :func:`manifest_to_document` and :func:`manifest_from_document`
give and take the JSON view's ``document``.

>>> import datetime as dt
>>> m = Manifest(
...     blz="37050198", nummer="K2026001", art="KMM", bezeichnung="Herbst_Aktion_2026",
...     erstellt=dt.datetime(2026, 11, 20, 8, tzinfo=dt.timezone(dt.timedelta(hours=1))),
...     options=ManifestOptions(weiterleitung_sfp=True, beraterbilder=False, faksimiles=False),
...     files=[ManifestFile("37050198_KMM_K2026001_20261122093000_0001.csv", "abonnenten",
...                         1234, "ab" * 32, saetze=1000, encoding="windows-1252")],
... )
>>> print(write_manifest(m).decode(), end="")  # doctest: +NORMALIZE_WHITESPACE
<?xml version="1.0" encoding="UTF-8"?>
<lieferschein xmlns="urn:emma-osplus:lieferschein:1" version="1">
  <institut blz="37050198"/>
  <auftrag nummer="K2026001" art="KMM" bezeichnung="Herbst_Aktion_2026" erstellt="2026-11-20T08:00:00+01:00"/>
  <optionen weiterleitungSfp="true" beraterbilder="false" faksimiles="false"/>
  <dateien>
    <datei name="37050198_KMM_K2026001_20261122093000_0001.csv" rolle="abonnenten" bytes="1234"
           sha256="abababababababababababababababababababababababababababababababab" saetze="1000" encoding="windows-1252"/>
  </dateien>
</lieferschein>
>>> read_manifest(write_manifest(m)).value == m
True
>>> m.subscriber_file.saetze
1000
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from typing import IO, Any

import attrs

from ._errors import FileNameError, InvalidValueError
from ._filenames import check_safe_name
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
    check_count,
    check_file_name,
    check_one_of,
    check_sha256,
    check_timestamp,
    finish,
    format_boolean,
    format_timestamp,
    load_document,
    occasion_converter,
    parse_boolean,
    parse_count,
    parse_timestamp,
    write_document,
)

__all__ = [
    "MANIFEST_LAYOUT",
    "MANIFEST_NAMESPACE",
    "Manifest",
    "ManifestFile",
    "ManifestOptions",
    "manifest_from_document",
    "manifest_to_document",
    "read_manifest",
    "write_manifest",
]

#: The manifest's XML namespace.
MANIFEST_NAMESPACE = "urn:emma-osplus:lieferschein:1"

#: Order kinds (``auftrag/@art``).
ARTEN: tuple[str, ...] = ("KMM", "REKU", "IAM")
#: File roles (``datei/@rolle``).
ROLLEN: tuple[str, ...] = ("abonnenten", "beraterbild", "faksimile")
#: Encodings a manifest may declare for the subscriber list.
ENCODINGS: tuple[str, ...] = ("utf-8", "windows-1252", "iso-8859-15", "iso-8859-1")

_ROOT = "lieferschein"
_AUFTRAG = f"{_ROOT}/auftrag"
_DATEIEN = f"{_ROOT}/dateien"
_DATEI = f"{_DATEIEN}/datei"

#: Elements and attributes in canonical order (the order of the FORMATS.md example).
MANIFEST_LAYOUT = XmlLayout(
    root=ElementSpec(
        _ROOT,
        attributes=("version",),
        children=(
            ElementSpec("institut", attributes=("blz",)),
            ElementSpec(
                "auftrag",
                attributes=("nummer", "art", "bezeichnung", "erstellt"),
                children=(ElementSpec("anlass", attributes=("code",)),),
            ),
            ElementSpec("optionen", attributes=("weiterleitungSfp", "beraterbilder", "faksimiles")),
            ElementSpec(
                "dateien",
                children=(
                    ElementSpec(
                        "datei",
                        attributes=("name", "rolle", "bytes", "sha256", "saetze", "encoding"),
                        repeat=True,
                    ),
                ),
            ),
        ),
    ),
    namespace=MANIFEST_NAMESPACE,
    schema="lieferschein",
)


def _rule(field: str, detail: str) -> Message:
    return Message("E106", field=field, detail=detail)


def _file_rules(rolle: str, saetze: int | None, encoding: str | None, at: str) -> list[Message]:
    problems = []
    if rolle == "abonnenten":
        if saetze is None:
            problems.append(_rule(f"{at}/@saetze", "the subscriber list needs saetze"))
    else:
        if saetze is not None:
            problems.append(_rule(f"{at}/@saetze", "saetze only on the subscriber list"))
        if encoding is not None:
            problems.append(_rule(f"{at}/@encoding", "encoding only on the subscriber list"))
    return problems


def _manifest_rules(
    art: str, has_anlass: bool, roles: Iterable[str], names: Iterable[str]
) -> list[Message]:
    problems = []
    if art == "REKU" and not has_anlass:
        problems.append(_rule(_AUFTRAG, 'anlass is required for art="REKU"'))
    if art != "REKU" and has_anlass:
        problems.append(
            _rule(f"{_AUFTRAG}/anlass", f'anlass is only allowed for art="REKU", not {art!r}')
        )
    subscribers = sum(1 for role in roles if role == "abonnenten")
    if subscribers != 1:
        problems.append(
            _rule(
                _DATEIEN, f'exactly one datei with rolle="abonnenten" required, found {subscribers}'
            )
        )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(_rule(f"{_DATEI}/@name", f"file name {name!r} listed twice"))
        seen.add(name)
    return problems


def _check_delivered_name(value: Any, field: str) -> None:
    """E108 unless *value* names a file a transport can fetch: a plain file name
    (:func:`~emma_osplus._xml.check_file_name`) that :func:`~emma_osplus.check_safe_name`
    accepts too (no ``:``, ``<``, device name, trailing space or dot, format character …).  A
    manifest naming any other file could never be delivered: it is refused at once."""
    check_file_name(value, field)
    try:
        check_safe_name(value)
    except FileNameError as exc:
        raise InvalidValueError(attrs.evolve(exc.message, field=field or None)) from None


def _check_name(instance: ManifestFile, _: object, value: Any) -> None:
    _check_delivered_name(value, f"{_DATEI}/@name")


def _check_rolle(instance: ManifestFile, _: object, value: Any) -> None:
    check_one_of(value, ROLLEN, f"{_DATEI}/@rolle")


def _check_bytes(instance: ManifestFile, _: object, value: Any) -> None:
    check_count(value, f"{_DATEI}/@bytes")


def _check_sha(instance: ManifestFile, _: object, value: Any) -> None:
    check_sha256(value, f"{_DATEI}/@sha256")


def _check_saetze(instance: ManifestFile, _: object, value: Any) -> None:
    if value is not None:
        check_count(value, f"{_DATEI}/@saetze")


def _check_encoding(instance: ManifestFile, _: object, value: Any) -> None:
    if value is not None:
        check_one_of(value, ENCODINGS, f"{_DATEI}/@encoding")


@attrs.frozen
class ManifestFile:
    """One ``datei`` of a manifest: name, role, size in bytes, SHA-256 (lowercase hex) and,
    for the subscriber list only, its record count and (optionally) its encoding.

    >>> ManifestFile("berater_0042.jpg", "beraterbild", 5120, "0" * 64).is_picture
    True
    >>> ManifestFile("../etc/passwd", "beraterbild", 1, "0" * 64)
    Traceback (most recent call last):
    ...
    emma_osplus._errors.InvalidValueError: E108, field lieferschein/dateien/datei/@name: ... (a plain file name: no path, no control character)
    """

    name: str = attrs.field(validator=_check_name)
    rolle: str = attrs.field(validator=_check_rolle)
    bytes: int = attrs.field(validator=_check_bytes)
    sha256: str = attrs.field(validator=_check_sha)
    saetze: int | None = attrs.field(default=None, validator=_check_saetze)
    encoding: str | None = attrs.field(default=None, validator=_check_encoding)

    def __attrs_post_init__(self) -> None:
        problems = _file_rules(self.rolle, self.saetze, self.encoding, _DATEI)
        if problems:
            raise InvalidValueError(*problems)

    @property
    def is_subscriber_list(self) -> bool:
        """True for ``rolle="abonnenten"``."""
        return self.rolle == "abonnenten"

    @property
    def is_picture(self) -> bool:
        """True for advisor pictures and facsimiles."""
        return self.rolle in ("beraterbild", "faksimile")


_OPTION_NAMES = {
    "weiterleitung_sfp": "weiterleitungSfp",
    "beraterbilder": "beraterbilder",
    "faksimiles": "faksimiles",
}


def _check_bool(instance: object, attribute: attrs.Attribute[bool], value: Any) -> None:
    if not isinstance(value, bool):
        name = _OPTION_NAMES[attribute.name]
        raise InvalidValueError(
            Message(
                "E209", field=f"{_ROOT}/optionen/@{name}", raw=repr(value), detail="expected a bool"
            )
        )


@attrs.frozen(kw_only=True)
class ManifestOptions:
    """The ``optionen`` of a manifest: forward to the portal operator (*Weiterleitung an
    SFP*), advisor pictures, facsimiles."""

    weiterleitung_sfp: bool = attrs.field(validator=_check_bool)
    beraterbilder: bool = attrs.field(validator=_check_bool)
    faksimiles: bool = attrs.field(validator=_check_bool)


def _to_blz(value: Blz | str) -> Blz:
    return value if isinstance(value, Blz) else Blz(value)


def _to_order_number(value: OrderNumber | str) -> OrderNumber:
    return value if isinstance(value, OrderNumber) else OrderNumber(value)


def _to_order_name(value: OrderName | str) -> OrderName:
    return value if isinstance(value, OrderName) else OrderName(value)


def _to_occasion(value: OccasionCode | str | None) -> OccasionCode | None:
    return value if value is None or isinstance(value, OccasionCode) else OccasionCode(value)


def _to_files(value: Iterable[ManifestFile]) -> tuple[ManifestFile, ...]:
    return tuple(value)


def _check_art(instance: Manifest, _: object, value: Any) -> None:
    check_one_of(value, ARTEN, f"{_AUFTRAG}/@art")


def _check_erstellt(instance: Manifest, _: object, value: Any) -> None:
    check_timestamp(value, f"{_AUFTRAG}/@erstellt")


@attrs.frozen(kw_only=True)
class Manifest:
    """A delivery manifest (*Lieferschein*).

    ``anlass`` is required exactly for ``art="REKU"``; ``files`` holds exactly one
    subscriber list (``rolle="abonnenten"``) and names are unique.  Text arguments are
    converted to the value types (``Blz``, ``OrderNumber``, ``OrderName``, ``OccasionCode``).
    Whether the occasion is registered is checked by :func:`read_manifest`, not here.
    """

    blz: Blz = attrs.field(converter=_to_blz)
    nummer: OrderNumber = attrs.field(converter=_to_order_number)
    art: str = attrs.field(validator=_check_art)
    bezeichnung: OrderName = attrs.field(converter=_to_order_name)
    erstellt: dt.datetime = attrs.field(validator=_check_erstellt)
    anlass: OccasionCode | None = attrs.field(default=None, converter=_to_occasion)
    options: ManifestOptions
    files: tuple[ManifestFile, ...] = attrs.field(converter=_to_files)

    def __attrs_post_init__(self) -> None:
        problems = _manifest_rules(
            self.art,
            self.anlass is not None,
            (f.rolle for f in self.files),
            (f.name for f in self.files),
        )
        if problems:
            raise InvalidValueError(*problems)

    @property
    def subscriber_file(self) -> ManifestFile:
        """The one file with ``rolle="abonnenten"``."""
        return next(f for f in self.files if f.is_subscriber_list)

    @property
    def pictures(self) -> tuple[ManifestFile, ...]:
        """The advisor pictures and facsimiles, in manifest order."""
        return tuple(f for f in self.files if f.is_picture)


def manifest_to_document(manifest: Manifest) -> Document:
    """The JSON view's ``document`` of *manifest* (every value canonical text)."""
    auftrag: Document = {
        "nummer": str(manifest.nummer),
        "art": manifest.art,
        "bezeichnung": str(manifest.bezeichnung),
        "erstellt": format_timestamp(manifest.erstellt),
    }
    if manifest.anlass is not None:
        auftrag["anlass"] = {"code": manifest.anlass.long}
    files = []
    for f in manifest.files:
        entry: Document = {
            "name": f.name,
            "rolle": f.rolle,
            "bytes": str(f.bytes),
            "sha256": f.sha256,
        }
        if f.saetze is not None:
            entry["saetze"] = str(f.saetze)
        if f.encoding is not None:
            entry["encoding"] = f.encoding
        files.append(entry)
    return {
        "version": "1",
        "institut": {"blz": str(manifest.blz)},
        "auftrag": auftrag,
        "optionen": {
            "weiterleitungSfp": format_boolean(manifest.options.weiterleitung_sfp),
            "beraterbilder": format_boolean(manifest.options.beraterbilder),
            "faksimiles": format_boolean(manifest.options.faksimiles),
        },
        "dateien": {"datei": files},
    }


def _build(
    parsed: XmlDocument, occasions: OccasionResolver | None
) -> tuple[Manifest | None, list[Message]]:
    doc = parsed.document
    b = DocumentBuilder(parsed)
    auftrag: Mapping[str, Any] = doc["auftrag"]
    optionen: Mapping[str, str] = doc["optionen"]
    blz = b.convert(Blz, doc["institut"]["blz"], f"{_ROOT}/institut/@blz")
    nummer = b.convert(OrderNumber, auftrag["nummer"], f"{_AUFTRAG}/@nummer")
    art: str = auftrag["art"]
    bezeichnung = b.convert(OrderName, auftrag["bezeichnung"], f"{_AUFTRAG}/@bezeichnung")
    erstellt = b.convert(parse_timestamp, auftrag["erstellt"], f"{_AUFTRAG}/@erstellt")
    anlass = None
    if "anlass" in auftrag:
        code = auftrag["anlass"]["code"]
        anlass = b.convert(occasion_converter(occasions), code, f"{_AUFTRAG}/anlass/@code")
    options = b.build(
        lambda: ManifestOptions(
            weiterleitung_sfp=parse_boolean(optionen["weiterleitungSfp"]),
            beraterbilder=parse_boolean(optionen["beraterbilder"]),
            faksimiles=parse_boolean(optionen["faksimiles"]),
        )
    )
    files: list[ManifestFile | None] = []
    entries: list[Mapping[str, str]] = doc["dateien"]["datei"]
    for index, entry in enumerate(entries, 1):
        at = f"{_DATEI}[{index}]"
        before = len(b.messages)
        size = b.convert(parse_count, entry["bytes"], f"{at}/@bytes")
        saetze = (
            b.convert(parse_count, entry["saetze"], f"{at}/@saetze") if "saetze" in entry else None
        )
        b.convert(lambda v: _check_delivered_name(v, ""), entry["name"], f"{at}/@name")
        b.messages.extend(
            b.place(m, m.field, None)
            for m in _file_rules(entry["rolle"], saetze, entry.get("encoding"), at)
        )
        if len(b.messages) > before or size is None:
            files.append(None)
            continue
        files.append(
            b.build(
                functools.partial(
                    ManifestFile,
                    entry["name"],
                    entry["rolle"],
                    size,
                    entry["sha256"],
                    saetze,
                    entry.get("encoding"),
                )
            )
        )
    b.messages.extend(
        b.place(m, m.field, None)
        for m in _manifest_rules(
            art, "anlass" in auftrag, (e["rolle"] for e in entries), (e["name"] for e in entries)
        )
    )
    if b.messages or blz is None or nummer is None or bezeichnung is None or erstellt is None:
        return None, b.messages
    if options is None or any(f is None for f in files):  # pragma: no cover - messages above
        return None, b.messages
    manifest = b.build(
        lambda: Manifest(
            blz=blz,
            nummer=nummer,
            art=art,
            bezeichnung=bezeichnung,
            erstellt=erstellt,
            anlass=anlass,
            options=options,
            files=[f for f in files if f is not None],
        )
    )
    return manifest, b.messages


def read_manifest(
    source: bytes | IO[bytes],
    *,
    mode: Mode = Mode.STRICT,
    occasions: OccasionResolver | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> XmlResult[Manifest]:
    """Read a manifest from bytes or a binary file object.

    *occasions* resolves ``anlass/@code`` (default: the packaged registry; E204 when unknown).
    Strict mode raises the first problem (E101, E105, E106, E108, E204, E303 …) carrying all
    messages of its step; lenient mode returns an :class:`~emma_osplus._xml.XmlResult` whose
    ``value`` is ``None`` when there is an error.
    """
    parsed, problems = load_document(source, MANIFEST_LAYOUT, mode=mode, max_bytes=max_bytes)
    if parsed is None:
        return XmlResult(None, problems)
    manifest, messages = _build(parsed, occasions)
    return finish(manifest, messages, parsed.document, mode, manifest_to_document)


def write_manifest(manifest: Manifest) -> bytes:
    """The canonical bytes of *manifest*."""
    return write_document(manifest_to_document(manifest), MANIFEST_LAYOUT)


def manifest_from_document(
    document: Mapping[str, Any], *, occasions: OccasionResolver | None = None
) -> Manifest:
    """The manifest of a JSON-view *document*: rendered canonically and read strictly, so
    it passes exactly the checks a file does (line numbers refer to the canonical rendering).
    """
    result = read_manifest(write_document(document, MANIFEST_LAYOUT), occasions=occasions)
    assert result.value is not None  # strict mode raised otherwise
    return result.value
