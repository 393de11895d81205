"""Strategies for the fixed-width engine and the responses file (``RESP``).

:func:`fixed_layouts` builds arbitrary valid layouts (header, one to three detail types,
trailer with a record count and often a control sum; left- and right-aligned text, zero-padded
numbers, constants, fillers; windows-1252 or UTF-8); :func:`fixed_records` the content of a
file for one of them, with any character of windows-1252 (CR and LF aside) in text fields and
values of every length up to the field's width.  :func:`response_records` and
:func:`resp_files` do the same for ``RESP``.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from hypothesis import strategies as st

from .._converters import Integer, Text
from .._fixed import CountCheck, Field, FixedLayout, RecordType, SumCheck, filler
from .._resp import (
    ORDER_KINDS,
    UNSUBSCRIBE_SOURCES,
    WITHHELD_REASONS,
    ResponseRecord,
    write_resp,
)
from ._email import email_addresses
from ._types import blzs, customer_numbers, event_ids, mailing_ids, order_numbers

__all__ = [
    "FixedContent",
    "fixed_layouts",
    "fixed_records",
    "resp_files",
    "response_records",
]

#: Every character windows-1252 defines, except CR and LF (which end records).
CP1252_CHARACTERS = "".join(
    bytes([b]).decode("cp1252") for b in range(256) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
).translate({13: None, 10: None})

#: ``(header values, detail values, trailer values)`` for :func:`~emma_osplus._fixed.write_fixed`.
FixedContent = tuple[dict[str, str], list[dict[str, str]], dict[str, str]]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@st.composite
def _fields(draw: st.DrawFn, prefix: str, numbers: bool = True) -> list[Field]:
    """1 to 5 fields after the type field (names ``{prefix}1`` …), positions filled in later."""
    out: list[Field] = []
    for i in range(draw(st.integers(1, 5))):
        name = f"{prefix}{i + 1}"
        width = draw(st.integers(1, 12))
        required = draw(st.booleans())
        kind = draw(st.sampled_from(["left", "right", "number", "constant", "filler", "checked"]))
        if kind == "number" and not numbers:
            kind = "left"
        if kind == "left":
            out.append(Field(name, 0 + 1, width, required=required))
        elif kind == "right":
            out.append(Field(name, 1, width, align="right", required=required))
        elif kind == "checked":  # a converter without a pattern: this type reads on the slow path
            out.append(Field(name, 1, width, converter=Text(max_length=width), required=required))
        elif kind == "number":
            pattern = draw(st.sampled_from([None, f"[1-9][0-9]{{0,{width - 1}}}|0"]))
            out.append(
                Field(
                    name,
                    1,
                    width,
                    align="right",
                    pad="0",
                    converter=Integer(width),
                    required=required,
                    pattern=pattern,
                )
            )
        elif kind == "constant":
            constant = draw(st.text(_LETTERS + "0123456789", min_size=1, max_size=width))
            out.append(Field(name, 1, len(constant), constant=constant))
        else:
            out.append(filler(1, width))
    return out


def _place(code: str, fields: list[Field], length: int) -> tuple[Field, ...]:
    """The type field, then *fields* at consecutive positions, then a filler up to *length*."""
    placed = [Field("TYP", 1, len(code), constant=code)]
    position = 1 + len(code)
    for f in fields:
        placed.append(
            Field(
                f.name,
                position,
                f.length,
                align=f.align,
                pad=f.pad,
                converter=f.converter,
                required=f.required,
                constant=f.constant,
                pattern=f.pattern,
                filler=f.filler,
            )
        )
        position += f.length
    if position <= length:
        placed.append(filler(position, length - position + 1, name="REST"))
    return tuple(placed)


@st.composite
def fixed_layouts(draw: st.DrawFn) -> FixedLayout:
    """Valid layouts of every shape the engine supports."""
    codes = draw(st.lists(st.sampled_from(_LETTERS), min_size=3, max_size=5, unique=True))
    header_code, trailer_code, *detail_codes = codes
    header = draw(_fields("H", numbers=True))
    details = [draw(_fields(f"{code}_")) for code in detail_codes]
    # the trailer: a count, often a sum of the first detail type's first number, more fields
    count = Field("COUNT", 1, draw(st.integers(3, 6)), align="right", pad="0", converter=Integer(6))
    trailer = [count]
    checks: list[Any] = [CountCheck("COUNT")]
    numbers = [
        f for f in details[0] if f.converter is not None and isinstance(f.converter, Integer)
    ]
    with_sum = draw(st.booleans())
    if numbers and with_sum:
        trailer.append(
            Field("SUM", 1, 8, align="right", pad="0", converter=Integer(8), required=True)
        )
        checks.append(SumCheck("SUM", of=numbers[0].name, modulo=10**8))
    trailer += draw(_fields("T"))
    length = 1 + max(sum(f.length for f in fs) for fs in [header, trailer, *details])
    length += draw(st.integers(0, 3))
    types = [
        RecordType(header_code, "header", _place(header_code, header, length), role="header"),
        *(
            RecordType(code, f"detail {code}", _place(code, fs, length), role="detail")
            for code, fs in zip(detail_codes, details, strict=True)
        ),
        RecordType(trailer_code, "trailer", _place(trailer_code, trailer, length), role="trailer"),
    ]
    encoding = draw(st.sampled_from(["windows-1252", "windows-1252", "utf-8"]))
    return FixedLayout("TEST", length, encoding, tuple(types), checks=tuple(checks))


def _value(field: Field) -> st.SearchStrategy[str]:
    """A valid canonical value for *field* (the reader gives exactly this text back)."""
    if field.constant is not None:
        return st.just(field.constant)
    if isinstance(field.converter, Integer):
        number = st.integers(0, 10**field.length - 1).map(str)
        return number if field.required else st.one_of(st.just(""), number)
    text = st.text(CP1252_CHARACTERS, min_size=1 if field.required else 0, max_size=field.length)
    if field.align == "left":
        return text.filter(lambda s: not s.endswith(" ") and not (field.required and s == ""))
    return text.filter(lambda s: not s.startswith(" ") and not (field.required and s == ""))


def _values(
    rtype: RecordType, skip: frozenset[str] = frozenset()
) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(
        {f.name: _value(f) for f in rtype.fields if not f.filler and f.name not in skip}
    )


@st.composite
def fixed_records(draw: st.DrawFn, layout: FixedLayout, max_details: int = 8) -> FixedContent:
    """The content of a valid file of *layout*: header values, details (each with its type
    field, so several detail types can mix), trailer values without the fields the layout's
    checks compute (``COUNT``, ``SUM``).  Every value is canonical, constants included, so a
    reader gives exactly these values back."""
    header = draw(_values(layout.header))
    details = draw(
        st.lists(
            st.sampled_from(layout.details).flatmap(_values),
            max_size=max_details,
        )
    )
    trailer = draw(_values(layout.trailer, frozenset({"COUNT", "SUM"})))
    return header, details, trailer


_UTC = dt.timezone.utc
_DIAGNOSTIC = st.text(CP1252_CHARACTERS.replace("\x00", ""), max_size=40).map(
    lambda s: s.rstrip(" ")
)


def _times() -> st.SearchStrategy[dt.datetime]:
    return st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2099, 12, 31),
        timezones=st.just(_UTC),
    ).map(lambda d: d.replace(microsecond=0))


def _encodable(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _status_and_detail(reaction: str) -> st.SearchStrategy[tuple[str, str]]:
    if reaction in ("VS", "OE"):
        return st.just(("", ""))
    if reaction == "AB":
        return st.sampled_from(UNSUBSCRIBE_SOURCES).map(lambda d: ("", d))
    if reaction == "ZH":
        return st.sampled_from(WITHHELD_REASONS).map(lambda d: ("", d))
    if reaction == "KL":
        return _DIAGNOSTIC.filter(bool).map(lambda d: ("", d))
    status = st.builds(
        lambda c, a, b: f"{c}.{a}.{b}",
        st.sampled_from("245"),
        st.integers(0, 999),
        st.integers(0, 999),
    )
    return st.tuples(status, _DIAGNOSTIC)


@functools.cache
def _record_parts() -> dict[str, st.SearchStrategy[Any]]:
    """The strategies a response record is drawn from, made once (validating strategies is
    costly, drawing from them is not)."""
    return {
        "customer_number": customer_numbers(),
        "order_number": order_numbers(),
        "order_kind": st.sampled_from(ORDER_KINDS),
        "occurred": _times(),
        "mailing_id": mailing_ids(),
        "email": email_addresses().filter(lambda e: _encodable(str(e))),
        "event_id": event_ids(),
        **{code: _status_and_detail(code) for code in ("VS", "OE", "KL", "AB", "HB", "SB", "ZH")},
    }


@st.composite
def _response_records(draw: st.DrawFn) -> ResponseRecord:
    parts = _record_parts()
    reaction = draw(st.sampled_from(["VS", "OE", "KL", "AB", "HB", "SB", "ZH"]))
    status, detail = draw(parts[reaction])
    return ResponseRecord(
        customer_number=draw(parts["customer_number"]),
        order_number=draw(parts["order_number"]),
        order_kind=draw(parts["order_kind"]),
        reaction=reaction,
        occurred=draw(parts["occurred"]),
        mailing_id=draw(parts["mailing_id"]),
        email=draw(parts["email"]),
        event_id=draw(parts["event_id"]),
        status_code=status,
        detail=detail,
    )


def response_records() -> st.SearchStrategy[ResponseRecord]:
    """Valid :class:`~emma_osplus._resp.ResponseRecord` values for every response code, with
    addresses from :func:`~emma_osplus.testing.email_addresses` (windows-1252 ones) and any
    windows-1252 text in ``DETAIL`` where the code allows text."""
    return _response_records()


def resp_files(max_records: int = 10) -> st.SearchStrategy[bytes]:
    """Canonical responses files (bytes) with up to *max_records* details."""
    return st.builds(
        write_resp,
        blzs(),
        _times(),
        st.integers(0, 999_999),
        st.lists(response_records(), max_size=max_records),
    )
