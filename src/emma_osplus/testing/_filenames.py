"""Strategies for interface file names and for names that must never be used as files."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from .._filenames import _WINDOWS_DEVICES as _DEVICES
from .._filenames import FILE_KINDS, FileName
from ._types import blzs, order_numbers

__all__ = ["file_names", "safe_names", "unsafe_names"]

_UTC = dt.timezone.utc


def file_names() -> st.SearchStrategy[FileName]:
    """Valid :class:`~emma_osplus._filenames.FileName` values: every kind, order numbers and
    ``0`` as ref, whole-second UTC times from 1900 to 9998, sequence numbers 0–9999."""
    created = st.datetimes(
        min_value=dt.datetime(1900, 1, 1),
        max_value=dt.datetime(9998, 12, 31),
        timezones=st.sampled_from(
            [_UTC, dt.timezone(dt.timedelta(hours=1)), dt.timezone(dt.timedelta(hours=-5))]
        ),
    ).map(lambda d: d.replace(microsecond=0))
    return st.builds(
        FileName,
        blz=blzs(),
        kind=st.sampled_from(sorted(FILE_KINDS)),
        ref=st.just("0") | order_numbers().map(str),
        created=created,
        seq=st.integers(0, 9999),
    )


_PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-äöüÄÖÜß"


def safe_names() -> st.SearchStrategy[str]:
    """Plain names such as a subscriber list gives advisor pictures (``berater_0042.jpg``)."""
    return st.builds(
        lambda stem, inner, ext: f"{stem}{inner}.{ext}",
        st.text(_PLAIN, min_size=1, max_size=30),
        st.just("") | st.text(_PLAIN, min_size=1, max_size=10).map(lambda s: " " + s),
        st.sampled_from(["jpg", "jpeg", "png", "gif", "JPG"]),
    ).filter(lambda name: name.split(".")[0].split(" ")[0].upper() not in _DEVICES)


_UNSAFE_FRAGMENTS = [
    "/",
    "\\",
    "..",
    "\x00",
    "\n",
    "\r",
    "\t",
    "\x1b",
    "\x7f",
    "\u202e",  # right-to-left override: "gpj.exe" shown as "exe.jpg"
    "\u200b",  # zero-width space
    "\ufeff",  # byte-order mark
    ":",
    "<",
    ">",
    '"',
    "|",
    "?",
    "*",
    "\u00a0",  # no-break space
    "\u2028",  # line separator
    "\uff0f",  # fullwidth solidus: "/" in its compatibility form
    "\u2025",  # two dot leader: ".." in its compatibility form
    "\uff1a",  # fullwidth colon
]

_UNSAFE_WHOLE = [
    "",
    ".",
    "..",
    ".htaccess",
    ".ssh",
    "/etc/passwd",
    "\\\\server\\share\\x.jpg",
    "C:evil.jpg",
    "c:\\windows\\x.jpg",
    "../x.jpg",
    "..\\x.jpg",
    "x.jpg.",
    "x.jpg ",
    " x.jpg",
    "CON",
    "con.jpg",
    "NUL.png",
    "COM1.gif",
    "lpt9.jpg",
    "AUX .jpg",
    "x.jpg:Zone.Identifier",
    "a" * 252 + ".jpg",
    "ä" * 126 + ".jpg",
]


def unsafe_names() -> st.SearchStrategy[str]:
    """Names that could escape a directory or misbehave on some platform: path separators,
    ``..``, control and format characters, drive letters, leading dots, Windows device names
    and forbidden characters, trailing dots and spaces, over-long names, and look-alikes whose
    compatibility form is one of these."""
    inserted = st.builds(
        lambda name, fragment, at: (
            name[: at % (len(name) + 1)] + fragment + name[at % (len(name) + 1) :]
        ),
        safe_names(),
        st.sampled_from(_UNSAFE_FRAGMENTS),
        st.integers(0, 50),
    )
    return st.one_of(st.sampled_from(_UNSAFE_WHOLE), inserted)
