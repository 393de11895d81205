"""Strategies for the CSV kinds: generic layouts and tables, subscriber lists (``KMM``,
``REKU``, ``IAM``) and consent changes (``CONS``), as values and as file bytes.

Every value drawn can be written in the encoding asked for, and every table is valid (no
customer number twice, required values present), so ``write`` then ``read`` must give it
back.  Text fields use the whole repertoire of the encoding: separators, quotes, CR and LF,
C1 controls, ``€``, umlauts and (for UTF-8) every Unicode character but surrogates.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from .._cons import ConsentChange, write_cons
from .._consent import EVIDENCE_MAX, ConsentKind, ConsentSource
from .._converters import DATE, CodeTable, Text
from .._csv import Column, CsvLayout
from .._email import EmailAddress
from .._encoding import ENCODINGS, normalise_encoding
from .._errors import FileNameError
from .._filenames import check_safe_name
from .._subscribers import ANREDE_CODES, SUBSCRIBER_KINDS, subscriber_layout, write_subscriber_list
from ._email import email_address_texts
from ._registry import known_occasion_codes
from ._types import customer_numbers

__all__ = [
    "alphabet",
    "cons_files",
    "consent_changes",
    "csv_layouts",
    "csv_tables",
    "encodable_text",
    "subscriber_list_files",
    "subscriber_lists",
    "subscriber_rows",
]

# The C csv module of Python 3.10 refuses NUL characters; 3.11 and later read them.
_NUL_OK = sys.version_info >= (3, 11)


@functools.cache
def alphabet(encoding: str) -> str:
    """Every character *encoding* (one of the interface's four) can write, as one string
    (for UTF-8: the Basic Multilingual Plane without surrogates; :func:`encodable_text` adds
    the other planes).

    >>> len(alphabet("windows-1252")), "€" in alphabet("iso-8859-15"), "€" in alphabet("iso-8859-1")
    (251, True, False)
    """
    name = normalise_encoding(encoding)
    if name == "utf-8":
        chars = "".join(chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF)
    else:
        chars = "".join(
            ch for ch in (bytes([b]).decode(ENCODINGS[name], "ignore") for b in range(256)) if ch
        )
    return chars if _NUL_OK else chars.replace("\x00", "")


def encodable_text(
    encoding: str, *, min_size: int = 0, max_size: int = 20
) -> st.SearchStrategy[str]:
    """Text *encoding* can write, biased towards what breaks CSV files: the separator ``;``,
    quotes, CR, LF, tab, a leading ``=``/``'``, blanks and, where the encoding has them,
    ``€``, umlauts, ``„“`` and ``–``."""
    name = normalise_encoding(encoding)
    chars = "" if name == "utf-8" else alphabet(name)
    tricky = [
        c for c in ";\"'\r\n\t =+-@€äöüÄÖÜß„“–\x85\xa0\ufeff" if c in chars or name == "utf-8"
    ]
    if name == "utf-8":
        everything: st.SearchStrategy[str] = st.characters(codec="utf-8")
        if not _NUL_OK:
            everything = everything.filter(lambda c: c != "\x00")
    else:
        everything = st.sampled_from(chars)
    return st.text(
        st.one_of(st.sampled_from(tricky), everything), min_size=min_size, max_size=max_size
    )


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(ENCODINGS[encoding])
    except UnicodeEncodeError:
        return False
    return True


# --------------------------------------------------------------------------- generic layouts

_NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789"
_CONVERTERS: tuple[Any, ...] = (None, None, DATE, CodeTable(("JA", "NEIN")), Text(12))


@st.composite
def csv_layouts(draw: st.DrawFn, max_columns: int = 6) -> CsvLayout:
    """Layouts of 1 to *max_columns* known columns with random separators, quotes, default
    encodings, BOM, formula escaping and converters (free text, dates, a code table, text of
    at most 12 characters); some columns required, unknown columns allowed or not."""
    names = draw(
        st.lists(
            st.text(_NAME_CHARS, min_size=1, max_size=8).filter(lambda s: s[0].isalpha()),
            min_size=1,
            max_size=max_columns,
            unique=True,
        )
    )
    columns = tuple(
        Column(name, draw(st.booleans()), draw(st.sampled_from(_CONVERTERS))) for name in names
    )
    separator = draw(st.sampled_from(";,|\t"))
    return CsvLayout(
        kind=draw(st.sampled_from(["TEST", "DEMO"])),
        columns=columns,
        separator=separator,
        quote=draw(st.sampled_from(['"', "'"])),
        encoding=draw(st.sampled_from(sorted(ENCODINGS))),
        bom=draw(st.booleans()),
        allow_unknown=draw(st.booleans()),
        require_all=draw(st.booleans()),
        formula_escape=draw(st.booleans()),
    )


def _value_for(column: Column, encoding: str) -> st.SearchStrategy[str]:
    converter = column.converter
    if converter is DATE:
        value: st.SearchStrategy[str] = st.dates(dt.date(1, 1, 1)).map(DATE.format)
    elif isinstance(converter, CodeTable):
        value = st.sampled_from(converter.codes)
    elif isinstance(converter, Text) and converter.max_length is not None:
        value = encodable_text(encoding, max_size=converter.max_length)
    else:
        value = encodable_text(encoding)
    if column.required:
        return value.filter(bool)
    return st.one_of(st.just(""), value)


@st.composite
def csv_tables(
    draw: st.DrawFn, layout: CsvLayout, encoding: str | None = None, max_rows: int = 8
) -> tuple[tuple[str, ...], list[dict[str, str]]]:
    """``(columns, rows)`` valid for *layout* in *encoding* (default: the layout's): the
    header (known columns in any order, required ones always, unknown ones where allowed,
    with names as written) and rows of canonical text."""
    name = normalise_encoding(encoding or layout.encoding)
    known = [c for c in layout.columns if c.required or layout.require_all or draw(st.booleans())]
    unknown: list[str] = []
    if layout.allow_unknown:
        unknown = draw(
            st.lists(
                encodable_text(name, max_size=10).filter(lambda s: layout.column(s) is None),
                max_size=3,
                unique=True,
            )
        )
    if not known and not unknown:
        known = [layout.columns[0]]
    order = draw(st.permutations([c.name for c in known] + unknown))
    by_name = {c.name: c for c in known}
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    n: _value_for(by_name[n], name) if n in by_name else encodable_text(name)
                    for n in order
                }
            ),
            max_size=max_rows,
        )
    )
    return tuple(order), rows


# --------------------------------------------------------------------------- subscriber lists

_FILE_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


def _file_names() -> st.SearchStrategy[str]:
    return st.builds(
        lambda stem, ext: f"{stem}.{ext}",
        st.text(_FILE_CHARS, min_size=1, max_size=20),
        st.sampled_from(["jpg", "png", "gif", "JPG"]),
    ).filter(_is_safe_name)  # not a Windows device name such as CON.jpg


def _is_safe_name(name: str) -> bool:
    try:
        check_safe_name(name)
    except FileNameError:
        return False
    return True


def _emails(encoding: str, canonical: bool) -> st.SearchStrategy[str]:
    texts = email_address_texts().filter(lambda t: _encodable(t, encoding))
    return texts.map(lambda t: str(EmailAddress(t))) if canonical else texts


def _customer_texts(canonical: bool) -> st.SearchStrategy[str]:
    if canonical:
        return customer_numbers().map(str)
    return customer_numbers().flatmap(lambda c: st.sampled_from([str(c), str(int(c))]))


def _dates() -> st.SearchStrategy[str]:
    return st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)).map(DATE.format)


def _occasions(canonical: bool) -> st.SearchStrategy[str]:
    codes = known_occasion_codes()
    if canonical:
        from .._subscribers import default_occasion_resolver  # noqa: PLC0415

        return codes.map(lambda t: default_occasion_resolver(t).long)
    return codes


def _optional(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.just(""), strategy)


def _subscriber_values(
    kind: str, encoding: str, canonical: bool, file_names: Sequence[str] | None
) -> dict[str, st.SearchStrategy[str]]:
    text = encodable_text(encoding, max_size=15)
    files = _file_names() if file_names is None else st.sampled_from(list(file_names) or [""])
    return {
        "KUNDENNUMMER": _customer_texts(canonical),
        "EMAIL": _emails(encoding, canonical),
        "ANREDE": st.sampled_from(("", *ANREDE_CODES)),
        "TITEL": text,
        "VORNAME": text,
        "NACHNAME": text,
        "GEBURTSDATUM": _optional(_dates()),
        "BERATER_NR": _optional(st.text("0123456789", min_size=1, max_size=8)),
        "BERATER_NAME": text,
        "BERATER_TELEFON": _optional(st.text("0123456789 /-+", min_size=1, max_size=15)),
        "BERATER_EMAIL": _optional(_emails(encoding, canonical)),
        "BERATERBILD": _optional(files),
        "FAKSIMILE": _optional(files),
        "ANLASS": _occasions(canonical) if kind == "REKU" else _optional(_occasions(canonical)),
        "ANLASS_DATUM": _optional(_dates()),
    }


def subscriber_rows(
    kind: str,
    columns: Sequence[str] | None = None,
    *,
    encoding: str = "windows-1252",
    canonical: bool = True,
    file_names: Sequence[str] | None = None,
) -> st.SearchStrategy[dict[str, str]]:
    """One valid row of a subscriber list of *kind*: column → text, for *columns* (default:
    every known column).  Unknown columns get free text.  With ``canonical=False`` values
    come in any accepted spelling (short customer numbers, upper-case domains, short occasion
    codes), which a reader turns into the canonical form.  *file_names* limits what
    ``BERATERBILD`` and ``FAKSIMILE`` may name (``()``: always empty); by default any valid file
    name."""
    if kind not in SUBSCRIBER_KINDS:
        raise ValueError(f"not a subscriber-list kind: {kind!r}")
    name = normalise_encoding(encoding)
    values = _subscriber_values(kind, name, canonical, file_names)
    layout = subscriber_layout(kind)
    wanted = [c.name for c in layout.columns] if columns is None else list(columns)
    return st.fixed_dictionaries(
        {
            col: values[known.name] if (known := layout.column(col)) else encodable_text(name)
            for col in wanted
        }
    )


@st.composite
def subscriber_lists(
    draw: st.DrawFn,
    kind: str,
    *,
    encoding: str = "windows-1252",
    canonical: bool = True,
    max_rows: int = 10,
    file_names: Sequence[str] | None = None,
) -> tuple[tuple[str, ...], list[dict[str, str]]]:
    """``(columns, rows)`` of a valid subscriber list of *kind*: the required columns, some
    optional and some unknown ones (personalisation fields) in any order, rows with distinct
    customer numbers (addresses may repeat: that is only the warning W201).  *file_names* as
    for :func:`subscriber_rows`."""
    name = normalise_encoding(encoding)
    layout = subscriber_layout(kind)
    known = [
        c.name for c in layout.columns if c.required or draw(st.booleans(), label=f"has {c.name}")
    ]
    unknown = draw(
        st.lists(
            encodable_text(name, max_size=12).filter(lambda s: layout.column(s) is None),
            max_size=3,
            unique=True,
        ),
        label="unknown columns",
    )
    columns = tuple(draw(st.permutations(known + unknown)))
    rows = draw(
        st.lists(
            subscriber_rows(
                kind, columns, encoding=name, canonical=canonical, file_names=file_names
            ),
            max_size=max_rows,
            unique_by=lambda row: int(row["KUNDENNUMMER"]),
        )
    )
    return columns, rows


def subscriber_list_files(
    kind: str,
    *,
    encoding: str = "windows-1252",
    max_rows: int = 10,
    file_names: Sequence[str] | None = None,
) -> st.SearchStrategy[bytes]:
    """The canonical bytes of valid subscriber lists of *kind* in *encoding* (*file_names* as
    for :func:`subscriber_rows`)."""
    tables = subscriber_lists(kind, encoding=encoding, max_rows=max_rows, file_names=file_names)
    return tables.map(
        lambda table: write_subscriber_list(kind, table[0], table[1], encoding=encoding)
    )


# --------------------------------------------------------------------------- consent changes


def _times() -> st.SearchStrategy[dt.datetime]:
    offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
    return st.datetimes(
        min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=offsets
    )


def _evidence() -> st.SearchStrategy[str]:
    formula = st.builds(
        lambda start, rest: start + rest,
        st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", "''", "'="]),
        encodable_text("utf-8", max_size=40),
    )
    return st.one_of(
        st.just(""),
        encodable_text("utf-8", max_size=60),
        formula,
        st.text(max_size=EVIDENCE_MAX, min_size=EVIDENCE_MAX - 3).filter(
            lambda s: _encodable(s, "utf-8")
        ),
    )


def consent_changes() -> st.SearchStrategy[ConsentChange]:
    """Valid :class:`~emma_osplus._cons.ConsentChange` values: any status and source, times
    with any whole-minute offset, evidence with formula starts, quotes, line breaks and up to
    500 characters."""
    return st.builds(
        ConsentChange,
        customer_numbers(),
        email_address_texts(),
        st.sampled_from(list(ConsentKind)),
        _times(),
        st.sampled_from(list(ConsentSource)),
        _evidence(),
    )


def cons_files(max_rows: int = 10) -> st.SearchStrategy[bytes]:
    """The canonical bytes of ``CONS`` files (UTF-8 with BOM)."""
    return st.lists(consent_changes(), max_size=max_rows).map(write_cons)
