"""Strategies for what reading produces: records, rejected records and notices, detected
encodings, JSON views, summaries, XML results, whole deliveries and their verification, and the
descriptive objects of the engines (message definitions, file kinds, kind codecs, profiles).

Results are made the way a user gets them — by reading, verifying or summarising generated
files through the public functions — never by filling in fields at random, so every drawn value
is one the library can really produce.

>>> from hypothesis import given, settings
>>> from emma_osplus import verify_delivery
>>> @settings(max_examples=5, deadline=None)
... @given(deliveries())
... def check(delivery):
...     assert verify_delivery(delivery.manifest, delivery.files).ok
>>> check()
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from hypothesis import strategies as st

from .._control import CONTROL_LAYOUT, read_control, write_control
from .._display import ParsedFile, PendingView, pending_view, summarize_file
from .._encoding import (
    BOM_UTF8,
    DetectedEncoding,
    EncodingGuess,
    detect_encoding,
    guess_foreign_encoding,
)
from .._errors import MessageError
from .._filenames import FILE_KINDS, FileKind, FileName
from .._fixed import MatchHeader
from .._jsonview import CsvKind, FixedKind, JsonView, Profile, XmlKind, reference_profile
from .._manifest import (
    MANIFEST_LAYOUT,
    Manifest,
    ManifestFile,
    ManifestOptions,
    read_manifest,
    write_manifest,
)
from .._messages import CATALOGUE, MessageDefinition
from .._quit import QUIT_LAYOUT, read_acknowledgement, write_acknowledgement
from .._records import Mode, Notice, Record, Rejected
from .._registry import Journeys, Mailings, Occasions, UnresolvedCode, default_registry
from .._resp import RESP_LAYOUT, RespHeader, RespTrailer, read_resp
from .._subscribers import OccasionConverter, read_subscriber_list, write_subscriber_list
from .._types import OccasionCode
from .._verify import DeliveryVerification, verify_delivery
from .._xml import ElementSpec, XmlLayout, XmlResult
from ._csv import encodable_text, subscriber_lists
from ._files import InterfaceFile, interface_files
from ._fixed import resp_files
from ._outcomes import feedback_states
from ._registry import registries
from ._types import blzs, order_names, order_numbers
from ._xml import acknowledgements, control_files, manifests, xml_timestamps

__all__ = [
    "Delivery",
    "deliveries",
    "delivery_verifications",
    "detected_encodings",
    "element_specs",
    "encoding_guesses",
    "file_kinds",
    "journey_tables",
    "json_views",
    "kind_codecs",
    "mailing_tables",
    "match_headers",
    "message_definitions",
    "notices",
    "occasion_converters",
    "occasion_tables",
    "parsed_files",
    "pending_views",
    "profiles",
    "records",
    "rejected_records",
    "resp_headers",
    "resp_trailers",
    "unresolved_codes",
    "xml_layouts",
    "xml_results",
]

_UTC = dt.timezone.utc
_LIST_KINDS = ("KMM", "REKU", "IAM")
_ENCODINGS = ("windows-1252", "utf-8", "iso-8859-15", "iso-8859-1")


# ------------------------------------------------------------------------- reading a file


def records(*kinds: str) -> st.SearchStrategy[Record]:
    """Good records as the readers yield them, from valid files of *kinds* (default: the
    subscriber lists and ``RESP``).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(records("KMM"))
    ... def check(record):
    ...     assert record.values["KUNDENNUMMER"].isdigit() and record.line >= 2
    >>> check()
    """
    chosen = _kinds(kinds, (*_LIST_KINDS, "RESP"))

    @st.composite
    def draw_record(draw: st.DrawFn) -> Record:
        kind = draw(st.sampled_from(chosen))
        if kind == "RESP":
            data = draw(resp_files(max_records=4).filter(lambda d: d.count(b"\n") > 2))
            items = list(read_resp(data, mode=Mode.LENIENT))
        else:
            encoding = draw(st.sampled_from(_ENCODINGS))
            columns, rows = draw(_nonempty_lists(kind, encoding))
            data = write_subscriber_list(kind, columns, rows, encoding=encoding)
            items = list(read_subscriber_list(data, kind, mode=Mode.LENIENT, encoding=encoding))
        good = [item for item in items if isinstance(item, Record)]
        return draw(st.sampled_from(good))

    return draw_record()


def _kinds(kinds: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    """*kinds*, or all *allowed* ones; a kind not allowed is refused at once."""
    wrong = [kind for kind in kinds if kind not in allowed]
    if wrong:
        raise ValueError(f"kinds {wrong!r}: choose from {', '.join(allowed)}")
    return kinds or allowed


def _nonempty_lists(
    kind: str, encoding: str
) -> st.SearchStrategy[tuple[tuple[str, ...], list[dict[str, str]]]]:
    return subscriber_lists(kind, encoding=encoding, max_rows=4).filter(lambda t: bool(t[1]))


#: How a valid subscriber-list row is damaged, each a rule FORMATS.md gives a code for.
_ROW_DAMAGE: Mapping[str, Callable[[dict[str, str]], dict[str, str]]] = {
    "E201": lambda row: {**row, "EMAIL": "anna.example.de"},
    "E202": lambda row: {**row, "KUNDENNUMMER": "12a"},
    "E208": lambda row: {**row, "EMAIL": ""},
}


def rejected_records(*kinds: str) -> st.SearchStrategy[Rejected]:
    """Bad records handed back whole by lenient reading: a row of a subscriber list of
    *kinds* (default: all three) with an invalid address (E201), customer number (E202), a
    missing address (E208), a customer number given twice (E203) or the wrong number of fields
    (E104).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(rejected_records())
    ... def check(rejected):
    ...     assert rejected.messages and rejected.line >= 2
    >>> check()
    """
    chosen = _kinds(kinds, _LIST_KINDS)

    @st.composite
    def draw_rejected(draw: st.DrawFn) -> Rejected:
        kind = draw(st.sampled_from(chosen))
        columns, rows = draw(_nonempty_lists(kind, "utf-8"))
        data = write_subscriber_list(kind, columns, rows, encoding="utf-8")
        damage = draw(st.sampled_from(["E104", "E203", *_ROW_DAMAGE]))
        if damage == "E104":
            data += b";" * len(columns) + b"\r\n"  # one field too many
        elif damage == "E203":
            data += data.split(b"\r\n")[1] + b"\r\n"  # the first row again
        else:
            bad = _ROW_DAMAGE[damage](draw(st.sampled_from(rows)))
            data += _row_bytes(columns, bad)
        items = read_subscriber_list(data, kind, mode=Mode.LENIENT, encoding="utf-8")
        return draw(st.sampled_from([item for item in items if isinstance(item, Rejected)]))

    return draw_rejected()


def _row_bytes(columns: tuple[str, ...], row: Mapping[str, str]) -> bytes:
    def field(value: str) -> str:
        if any(c in value for c in ';"\r\n'):
            return '"' + value.replace('"', '""') + '"'
        return value

    return (";".join(field(row.get(c, "")) for c in columns) + "\r\n").encode("utf-8")


def notices() -> st.SearchStrategy[Notice]:
    """File-level messages of a lenient reading: a ``RESP`` file whose trailer is missing or
    counts wrong (E104), a subscriber list without a required column (E107) or with no
    header at all (E104).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(notices())
    ... def check(notice):
    ...     assert notice.message.code in ("E104", "E107")
    >>> check()
    """

    @st.composite
    def draw_notice(draw: st.DrawFn) -> Notice:
        damage = draw(st.sampled_from(["no trailer", "count", "column", "empty"]))
        items: list[Any]
        if damage in ("no trailer", "count"):
            data = draw(resp_files(max_records=3))
            lines = data.split(b"\r\n")
            if damage == "count" and len(lines) > 3:
                lines.insert(1, lines[1])  # one detail more than the trailer counts
            else:
                del lines[-2]  # the trailer
            items = list(read_resp(b"\r\n".join(lines), mode=Mode.LENIENT))
        else:
            kind = draw(st.sampled_from(_LIST_KINDS))
            text = "EMAIL;VORNAME\r\nanna@example.de;Anna\r\n" if damage == "column" else ""
            items = list(read_subscriber_list(text.encode(), kind, mode=Mode.LENIENT))
        return draw(st.sampled_from([item for item in items if isinstance(item, Notice)]))

    return draw_notice()


# ------------------------------------------------------------------------------ encodings


def detected_encodings() -> st.SearchStrategy[DetectedEncoding]:
    """What :func:`~emma_osplus.detect_encoding` answers for text of the interface's
    encodings: with a BOM, declared, detected from its bytes, or plain ASCII (``default``).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(detected_encodings())
    ... def check(found):
    ...     assert found.source in ("declared", "bom", "utf-8", "detected", "default")
    >>> check()
    """

    @st.composite
    def draw_detected(draw: st.DrawFn) -> DetectedEncoding:
        name = draw(st.sampled_from(_ENCODINGS))
        text = draw(encodable_text(name, max_size=30))
        data = text.encode(name)
        how = draw(st.sampled_from(["declared", "bom", "detected"]))
        if how == "declared":
            return detect_encoding(data, name)
        if how == "bom":
            return detect_encoding(BOM_UTF8 + text.encode("utf-8"))
        try:
            return detect_encoding(data)
        except MessageError:  # bytes windows-1252 leaves undefined: declared, as a manifest would
            return detect_encoding(data, name)

    return draw_detected()


_FOREIGN = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp437", "koi8-r", "shift_jis", "big5")


def encoding_guesses() -> st.SearchStrategy[EncodingGuess]:
    """chardet's guesses (:func:`~emma_osplus.guess_foreign_encoding`) for text written in an
    encoding the interface does not read.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(encoding_guesses())
    ... def check(guess):
    ...     assert 0.0 <= guess.confidence <= 1.0 and guess.describe()
    >>> check()
    """
    sentence = "Grüße aus München: Привет, 你好, こんにちは — ¿Qué tal? "

    @st.composite
    def draw_guess(draw: st.DrawFn) -> EncodingGuess:
        codec = draw(st.sampled_from(_FOREIGN))
        repeat = draw(st.integers(1, 4))
        data = (sentence * repeat).encode(codec, errors="ignore")
        guess = guess_foreign_encoding(data)
        if guess is None:  # chardet had nothing to say: a NUL makes it a hint all the same
            guess = guess_foreign_encoding(b"\x00" + "Grüße".encode("utf-16-le"))
        assert guess is not None
        return guess

    return draw_guess()


# ---------------------------------------------------------------- catalogue and profiles


def message_definitions() -> st.SearchStrategy[MessageDefinition]:
    """Rows of the message catalogue (every code of FORMATS.md).

    >>> from hypothesis import find
    >>> find(message_definitions(), lambda _: True).code[0] in "EW"
    True
    """
    return st.sampled_from(list(CATALOGUE.values()))


def file_kinds() -> st.SearchStrategy[FileKind]:
    """Rows of the file-kind table of the file-name grammar.

    >>> from hypothesis import find
    >>> find(file_kinds(), lambda _: True).ext in ("csv", "txt", "xml")
    True
    """
    return st.sampled_from(list(FILE_KINDS.values()))


def profiles() -> st.SearchStrategy[Profile]:
    """Reference profile 1, with the packaged registry or checking occasion codes by syntax
    only (:func:`~emma_osplus.reference_profile`).

    >>> from hypothesis import find
    >>> find(profiles(), lambda _: True).name
    'reference-1'
    """
    return st.sampled_from([reference_profile(), reference_profile(occasions=OccasionCode)])


def kind_codecs(*families: str) -> st.SearchStrategy[CsvKind | FixedKind | XmlKind]:
    """The kinds of reference profile 1 (``CsvKind``, ``FixedKind``, ``XmlKind``), of the
    given *families* (``csv``, ``fixed``, ``xml``; default: all).

    >>> from hypothesis import find
    >>> find(kind_codecs("fixed"), lambda _: True).kind
    'RESP'
    """
    kinds = [k for k in reference_profile().kinds.values() if not families or k.family in families]
    if not kinds:
        raise ValueError(f"no kind of the families {families!r}")
    return st.sampled_from(kinds)


def json_views(*kinds: str) -> st.SearchStrategy[JsonView]:
    """JSON views (as :class:`~emma_osplus.JsonView` objects) of valid files of *kinds*
    (default: every kind).

    >>> from hypothesis import given, settings
    >>> from emma_osplus import from_json_view, reference_profile
    >>> @settings(max_examples=5, deadline=None)
    ... @given(json_views("KMM", "QUIT"))
    ... def check(view):
    ...     assert not view.errors and from_json_view(view)
    >>> check()
    """
    profile = reference_profile()

    def view(file: InterfaceFile) -> JsonView:
        from .._jsonview import to_json_view  # noqa: PLC0415

        return profile.structure(to_json_view(file.data, name=file.name, encoding=file.encoding))

    return interface_files(*kinds).map(view)


def parsed_files(*kinds: str) -> st.SearchStrategy[ParsedFile]:
    """Summaries (:func:`~emma_osplus.summarize_file`) of valid files of *kinds* (default:
    every kind).

    >>> from hypothesis import find
    >>> find(parsed_files("RESP"), lambda _: True).kind
    'RESP'
    """
    return interface_files(*kinds).map(
        lambda file: summarize_file(file.data, name=file.name, encoding=file.encoding)
    )


def pending_views() -> st.SearchStrategy[PendingView]:
    """The pending work items of generated feedback states with their ages
    (:func:`~emma_osplus.pending_view`), at a moment up to ten days after the last step.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(pending_views())
    ... def check(view):
    ...     assert view.overdue <= len(view.items)
    >>> check()
    """

    @st.composite
    def draw_view(draw: st.DrawFn) -> PendingView:
        state = draw(feedback_states())
        times = [i.received_at for i in state.items.values()] or [
            dt.datetime(2026, 11, 20, tzinfo=_UTC)
        ]
        at = max(times) + draw(st.timedeltas(dt.timedelta(0), dt.timedelta(days=10)))
        return pending_view(state, at, show_addresses=draw(st.booleans()))

    return draw_view()


# ------------------------------------------------------------------------------ registry


def occasion_tables() -> st.SearchStrategy[Occasions]:
    """The occasions of generated registries (a table of :class:`~emma_osplus.Occasion`)."""
    return registries().map(lambda registry: registry.occasions)


def mailing_tables() -> st.SearchStrategy[Mailings]:
    """The mailings of generated registries (a table of :class:`~emma_osplus.Mailing`)."""
    return registries().map(lambda registry: registry.mailings)


def journey_tables() -> st.SearchStrategy[Journeys]:
    """The journeys of generated registries (a table of :class:`~emma_osplus.Journey`)."""
    return registries().map(lambda registry: registry.journeys)


def unresolved_codes() -> st.SearchStrategy[UnresolvedCode]:
    """Parts of a code text that name no registered occasion, as the packaged registry's
    :meth:`~emma_osplus.Registry.resolve_codes` reports them: typing errors of registered codes
    (``AG0O2``) and codes of no family.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(unresolved_codes())
    ... def check(code):
    ...     assert code.message.code == "E204"
    >>> check()
    """
    registry = default_registry()
    shorts = [o.code.short for o in registry.occasions]
    typo = st.builds(
        lambda code, i, c: code[:i] + c + code[i + 1 :],
        st.sampled_from(shorts),
        st.integers(2, 4),
        st.sampled_from("OIl"),
    )
    unknown = st.sampled_from(["ZZ999", "QQ001", "XY", "AG", "MC", "12345"])

    @st.composite
    def draw_unresolved(draw: st.DrawFn) -> UnresolvedCode:
        text = draw(st.one_of(typo, unknown))
        _, unresolved = registry.resolve_codes(text)
        return unresolved[0]

    return draw_unresolved()


def occasion_converters() -> st.SearchStrategy[OccasionConverter]:
    """``ANLASS`` converters: by syntax only, or resolving against a registry.

    >>> from hypothesis import find
    >>> find(occasion_converters(), lambda _: True).canonical("AG002")
    'MCAG002'
    """
    resolvers: list[Any] = [None, OccasionCode, default_registry().canonical]
    return st.sampled_from(resolvers).map(OccasionConverter)


# ----------------------------------------------------------------------------------- RESP


def resp_headers() -> st.SearchStrategy[RespHeader]:
    """``RESP`` header records: institute, creation time (UTC, whole seconds) and sequence.

    >>> from hypothesis import find
    >>> find(resp_headers(), lambda _: True).version
    '01'
    """
    created = st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2099, 12, 31),
        timezones=st.just(_UTC),
    ).map(lambda t: t.replace(microsecond=0))
    return st.builds(RespHeader, blzs(), created, st.integers(1, 9999))


def resp_trailers() -> st.SearchStrategy[RespTrailer]:
    """``RESP`` trailer records: institute, number of details and control sum, as a reader
    finds them in generated files.

    >>> from hypothesis import find
    >>> find(resp_trailers(), lambda _: True).count >= 0
    True
    """

    def trailer(data: bytes) -> RespTrailer:
        reader = read_resp(data)
        for _ in reader:
            pass
        assert reader.trailer is not None
        return RespTrailer.from_record(reader.trailer)

    return resp_files(max_records=5).map(trailer)


def match_headers() -> st.SearchStrategy[MatchHeader]:
    """Trailer checks that a trailer field repeats a header field, from the ``RESP`` layout
    and made up (field names of capitals and ``_``).

    >>> from hypothesis import find
    >>> find(match_headers(), lambda _: True).start() is not None
    True
    """
    shipped = [c for c in RESP_LAYOUT.checks if isinstance(c, MatchHeader)]
    names = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ_", min_size=1, max_size=12)
    made = st.builds(MatchHeader, names, st.none() | names)
    return st.one_of(st.sampled_from(shipped), made) if shipped else made


# ------------------------------------------------------------------------------------ XML

_LAYOUTS = (MANIFEST_LAYOUT, CONTROL_LAYOUT, QUIT_LAYOUT)


def xml_layouts() -> st.SearchStrategy[XmlLayout]:
    """The layouts of the XML kinds (manifest, control file, acknowledgement).

    >>> from hypothesis import find
    >>> find(xml_layouts(), lambda _: True).root.tag in ("lieferschein", "steuerung", "quittung")
    True
    """
    return st.sampled_from(_LAYOUTS)


def _subtrees(spec: ElementSpec) -> list[ElementSpec]:
    return [spec, *(s for child in spec.children for s in _subtrees(child))]


def element_specs() -> st.SearchStrategy[ElementSpec]:
    """Elements of the XML layouts, the roots and every element below them.

    >>> from hypothesis import find
    >>> find(element_specs(), lambda _: True).tag != ""
    True
    """
    return st.sampled_from([s for layout in _LAYOUTS for s in _subtrees(layout.root)])


def xml_results() -> st.SearchStrategy[XmlResult[Any]]:
    """What the XML readers return (lenient) for generated manifests, control files and
    acknowledgements: valid, or with a value, a structure or the well-formedness broken.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(xml_results())
    ... def check(result):
    ...     assert result.ok == (result.value is not None and not result.messages)
    >>> check()
    """
    kinds: list[tuple[st.SearchStrategy[Any], Callable[[Any], bytes], Callable[..., Any]]] = [
        (manifests(), write_manifest, read_manifest),
        (control_files(), write_control, read_control),
        (acknowledgements(), write_acknowledgement, read_acknowledgement),
    ]

    @st.composite
    def draw_result(draw: st.DrawFn) -> XmlResult[Any]:
        values, write, read = draw(st.sampled_from(kinds))
        data = write(draw(values))
        damage = draw(st.sampled_from(["none", "none", "value", "element", "truncated", "dtd"]))
        if damage == "value":
            data = data.replace(b'blz="', b'blz="X', 1)
        elif damage == "element":
            close = data.rindex(b"</")
            data = data[:close] + b"<fremd/>" + data[close:]
        elif damage == "truncated":
            data = data[: draw(st.integers(0, len(data) - 1))]
        elif damage == "dtd":
            data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e "e">]>', 1)
        result: XmlResult[Any] = read(data, mode=Mode.LENIENT)
        return result

    return draw_result()


# ----------------------------------------------------------------------------- deliveries


@attrs.frozen
class Delivery:
    """A generated delivery: its ``manifest`` and the ``files`` it names (name → bytes), as
    :func:`~emma_osplus.verify_delivery` takes them."""

    manifest: Manifest
    files: Mapping[str, bytes] = attrs.field(repr=lambda files: f"<{len(files)} files>")


_PICTURES = {
    "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "png": b"\x89PNG\r\n\x1a\n",
    "gif": b"GIF89a",
}


def _entry(name: str, rolle: str, data: bytes, **more: Any) -> ManifestFile:
    return ManifestFile(name, rolle, len(data), hashlib.sha256(data).hexdigest(), **more)


def deliveries(*kinds: str, damaged: bool = False) -> st.SearchStrategy[Delivery]:
    """Whole deliveries of subscriber lists of *kinds* (default: all three): a manifest whose
    sizes, digests and row count match the list it names, and the advisor pictures and
    facsimiles the rows name.  With *damaged*, one thing is wrong in each: a file missing
    (E103), changed (E102), a picture that is no image (E306) or the row count (E104).

    >>> from hypothesis import given, settings
    >>> from emma_osplus import verify_delivery
    >>> @settings(max_examples=5, deadline=None)
    ... @given(deliveries(damaged=True))
    ... def check(delivery):
    ...     assert not verify_delivery(delivery.manifest, delivery.files).ok
    >>> check()
    """
    chosen = _kinds(kinds, _LIST_KINDS)

    @st.composite
    def draw_delivery(draw: st.DrawFn) -> Delivery:
        kind = draw(st.sampled_from(chosen))
        encoding = draw(st.sampled_from(_ENCODINGS))
        pictures = ("berater_0001.jpg", "berater_0002.png", "faks_0001.gif")
        columns, rows = draw(
            subscriber_lists(kind, encoding=encoding, max_rows=4, file_names=pictures)
        )
        for row in rows:  # advisor pictures in BERATERBILD, facsimiles in FAKSIMILE
            if row.get("BERATERBILD", "").startswith("faks"):
                row["BERATERBILD"] = "berater_0001.jpg"
            if row.get("FAKSIMILE", "").startswith("berater"):
                row["FAKSIMILE"] = "faks_0001.gif"
        data = write_subscriber_list(kind, columns, rows, encoding=encoding)
        blz = draw(blzs())
        number = draw(order_numbers())
        created = draw(xml_timestamps()).replace(microsecond=0)
        name = str(FileName(blz, kind, str(number), created, draw(st.integers(1, 9999))))
        anlass = None
        if kind == "REKU":
            codes = {r["ANLASS"] for r in rows if r.get("ANLASS")}
            anlass = OccasionCode(sorted(codes)[0]) if codes else OccasionCode("MCAG002")
        files: dict[str, bytes] = {name: data}
        entries = [_entry(name, "abonnenten", data, saetze=len(rows), encoding=encoding)]
        named = {r[c] for r in rows for c in ("BERATERBILD", "FAKSIMILE") if r.get(c)}
        for picture in sorted(named):
            body = _PICTURES[picture.rsplit(".", 1)[1]] + draw(st.binary(max_size=20))
            rolle = "faksimile" if picture.startswith("faks") else "beraterbild"
            files[picture] = body
            entries.append(_entry(picture, rolle, body))
        saetze = len(rows)
        if damaged:
            damage = draw(st.sampled_from(["E103", "E102", "E104", *(["E306"] if named else [])]))
            if damage == "E103":
                del files[draw(st.sampled_from(sorted(files)))]
            elif damage == "E102":
                victim = draw(st.sampled_from(sorted(files)))
                files[victim] = files[victim] + b"\x00"
            elif damage == "E104":
                saetze += draw(st.integers(1, 3))
                entries[0] = attrs.evolve(entries[0], saetze=saetze)
            else:
                victim = draw(st.sampled_from(sorted(named)))
                files[victim] = b"not an image"
                entries = [
                    _entry(victim, e.rolle, files[victim]) if e.name == victim else e
                    for e in entries
                ]
        manifest = Manifest(
            blz=str(blz),
            nummer=str(number),
            art=kind,
            bezeichnung=str(draw(order_names())),
            erstellt=created,
            anlass=anlass,
            options=ManifestOptions(
                weiterleitung_sfp=draw(st.booleans()), beraterbilder=True, faksimiles=True
            ),
            files=entries,
        )
        return Delivery(manifest, files)

    return draw_delivery()


def delivery_verifications(*kinds: str) -> st.SearchStrategy[DeliveryVerification]:
    """What :func:`~emma_osplus.verify_delivery` answers for generated deliveries of *kinds*,
    complete ones and damaged ones alike.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, deadline=None)
    ... @given(delivery_verifications())
    ... def check(result):
    ...     assert result.ok == (not result.errors)
    >>> check()
    """
    return st.one_of(deliveries(*kinds), deliveries(*kinds, damaged=True)).map(
        lambda d: verify_delivery(d.manifest, d.files)
    )
