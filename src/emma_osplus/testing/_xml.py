"""Strategies for the XML document kinds: manifests, control files, acknowledgements.

Text values mix umlauts, the XML-special characters ``<&>"'`` and tab, LF and CR with any
other character XML 1.0 can carry, so a round trip exercises every escape.

Occasion codes are only syntactically valid (:func:`~emma_osplus.testing.occasion_codes`):
read generated documents back with ``occasions=OccasionCode`` (a syntax-only resolver) or
draw from the registry yourself.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from .._control import AKTIONEN, RHYTHMEN, ControlFile
from .._manifest import ARTEN, ENCODINGS, Manifest, ManifestFile, ManifestOptions
from .._messages import CATALOGUE, Message
from .._quit import Acknowledgement
from .._types import OccasionCode
from ._csv import _is_safe_name
from ._types import blzs, occasion_codes, order_names, order_numbers

__all__ = [
    "acknowledgements",
    "control_files",
    "file_names",
    "manifests",
    "sha256_digests",
    "xml_texts",
    "xml_timestamps",
]

_SPECIAL = "äöüÄÖÜß<&>\"' \t\n\r–€"
# Every character XML 1.0 allows (tab, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-).
_XML_CHARS = st.characters(
    codec="utf-8",
    exclude_categories=["Cs"],
    exclude_characters="\ufffe\uffff",
).filter(lambda c: c in "\t\n\r" or c >= " ")


def xml_texts(*, min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    """Text XML 1.0 can carry, rich in umlauts, ``<&>"'``, tab, LF and CR."""
    return st.text(
        st.one_of(st.sampled_from(_SPECIAL), _XML_CHARS), min_size=min_size, max_size=max_size
    )


def file_names() -> st.SearchStrategy[str]:
    """Plain file names (no path separator, no control character, not ``.``/``..``) with
    umlauts, spaces and XML-special characters."""
    plain = st.one_of(
        st.sampled_from("äöüß<&>\"' -_.()€"),
        _XML_CHARS.filter(lambda c: c not in "/\\\t\n\r" and c != "\x7f"),
    )
    return st.text(plain, min_size=1, max_size=60).filter(lambda s: s not in (".", ".."))


def sha256_digests() -> st.SearchStrategy[str]:
    """64 lowercase hex digits."""
    return st.text("0123456789abcdef", min_size=64, max_size=64)


def xml_timestamps() -> st.SearchStrategy[dt.datetime]:
    """Aware datetimes (1900–2100) with an offset of whole minutes within ±14:00."""
    offsets = st.integers(-14 * 60, 14 * 60).map(
        lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
    )
    return st.datetimes(
        min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 12, 31), timezones=offsets
    )


_COUNTS = st.integers(0, 10**9)


#: What a delivered file's name may hold: umlauts, XML's "&" and "'", spaces inside.
_DELIVERED_CHARS = "abcxyzABCXYZ019äöüÄÖÜß&'-_.()€ "


def _delivered_names() -> st.SearchStrategy[str]:
    """Names a manifest may list: what :func:`~emma_osplus.check_safe_name` accepts (a
    transport can fetch the file), still rich in umlauts and XML-special characters."""
    return st.builds(
        lambda stem, ext: f"{stem}.{ext}",
        st.text(_DELIVERED_CHARS, min_size=1, max_size=40),
        st.sampled_from(["csv", "jpg", "png", "gif", "txt"]),
    ).filter(_is_safe_name)


@st.composite
def _manifest_files(draw: st.DrawFn) -> tuple[ManifestFile, ...]:
    names = draw(st.lists(_delivered_names(), min_size=1, max_size=4, unique=True))
    subscriber = ManifestFile(
        names[0],
        "abonnenten",
        draw(_COUNTS),
        draw(sha256_digests()),
        saetze=draw(_COUNTS),
        encoding=draw(st.none() | st.sampled_from(ENCODINGS)),
    )
    pictures = [
        ManifestFile(
            name,
            draw(st.sampled_from(("beraterbild", "faksimile"))),
            draw(_COUNTS),
            draw(sha256_digests()),
        )
        for name in names[1:]
    ]
    position = draw(st.integers(0, len(pictures)))
    pictures.insert(position, subscriber)
    return tuple(pictures)


@st.composite
def _manifests(draw: st.DrawFn) -> Manifest:
    art = draw(st.sampled_from(ARTEN))
    return Manifest(
        blz=draw(blzs()),
        nummer=draw(order_numbers()),
        art=art,
        bezeichnung=draw(order_names()),
        erstellt=draw(xml_timestamps()),
        anlass=draw(occasion_codes()) if art == "REKU" else None,
        options=ManifestOptions(
            weiterleitung_sfp=draw(st.booleans()),
            beraterbilder=draw(st.booleans()),
            faksimiles=draw(st.booleans()),
        ),
        files=draw(_manifest_files()),
    )


def manifests() -> st.SearchStrategy[Manifest]:
    """Valid delivery manifests of every ``art`` (occasions syntactically valid only)."""
    return _manifests()


_MASSNAHMEN = st.text(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-", min_size=1, max_size=64
)


@st.composite
def _control_files(draw: st.DrawFn) -> ControlFile:
    typ = draw(st.sampled_from(("vreku", "viam")))
    ab = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
    bis = draw(st.none() | st.dates(min_value=ab, max_value=dt.date(2100, 12, 31)))
    anlass: OccasionCode | None
    if typ == "vreku":
        anlass = draw(occasion_codes())
        massnahme = None
    else:
        anlass = draw(st.none() | occasion_codes())
        massnahme = draw(_MASSNAHMEN)
    return ControlFile(
        typ=typ,
        blz=draw(blzs()),
        nummer=draw(order_numbers()),
        aktion=draw(st.sampled_from(AKTIONEN)),
        bezeichnung=draw(order_names()),
        rhythmus=draw(st.sampled_from(RHYTHMEN)),
        gueltig_ab=ab,
        gueltig_bis=bis,
        anlass=anlass,
        massnahme=massnahme,
        erstellt=draw(xml_timestamps()),
    )


def control_files() -> st.SearchStrategy[ControlFile]:
    """Valid control files, vreku and viam (occasions syntactically valid only)."""
    return _control_files()


def _quit_messages() -> st.SearchStrategy[Message]:
    return st.builds(
        Message,
        code=st.sampled_from(sorted(CATALOGUE)),
        line=st.none() | st.integers(1, 10**6),
        field=st.none() | xml_texts(min_size=1, max_size=20),
        text=xml_texts(),
    )


@st.composite
def _acknowledgements(draw: st.DrawFn) -> Acknowledgement:
    saetze = draw(_COUNTS)
    abgelehnt = draw(st.integers(0, saetze))
    return Acknowledgement.from_messages(
        draw(blzs()),
        draw(file_names()),
        draw(sha256_digests()),
        saetze=saetze,
        uebernommen=saetze - abgelehnt,
        abgelehnt=abgelehnt,
        messages=draw(st.lists(_quit_messages(), max_size=5)),
    )


def acknowledgements() -> st.SearchStrategy[Acknowledgement]:
    """Valid acknowledgements (status computed by ``from_messages``)."""
    return _acknowledgements()
