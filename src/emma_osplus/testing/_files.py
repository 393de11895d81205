"""Whole files of every kind, named by the grammar: for round trips through the JSON view, the
``inspect`` command and anything else that takes an interface file.

:func:`interface_files` draws an :class:`InterfaceFile` — a name that follows the file-name
grammar (so the kind comes from the name), the canonical bytes of a valid file of that kind,
and the encoding it was written in — composed from the kind-specific strategies
(:func:`~emma_osplus.testing.subscriber_list_files`,
:func:`~emma_osplus.testing.cons_files`, :func:`~emma_osplus.testing.resp_files`,
:func:`~emma_osplus.testing.manifests`, :func:`~emma_osplus.testing.control_files`,
:func:`~emma_osplus.testing.acknowledgements`).  Occasion codes in ``REKU`` lists, manifests
and control files are registered ones, so the files pass the packaged registry.

>>> from hypothesis import given, settings
>>> from emma_osplus._jsonview import from_json_view, to_json_view
>>> @settings(max_examples=5, deadline=None)
... @given(interface_files("KMM", "RESP"))
... def test_round_trip(file):
...     view = to_json_view(file.data, name=file.name, encoding=file.encoding)
...     assert from_json_view(view) == file.data
>>> test_round_trip()
"""

from __future__ import annotations

import datetime as dt
import functools

import attrs
from hypothesis import strategies as st

from .._control import write_control
from .._filenames import FILE_KINDS, FileName, parse_file_name
from .._manifest import write_manifest
from .._quit import write_acknowledgement
from .._types import OccasionCode
from ._csv import cons_files, subscriber_list_files
from ._fixed import resp_files
from ._types import blzs, order_numbers
from ._xml import acknowledgements, control_files, manifests

__all__ = [
    "InterfaceFile",
    "interface_file_names",
    "interface_files",
    "registered_occasion_codes",
]

_UTC = dt.timezone.utc
#: The encodings a subscriber list may come in (the manifest declares which).
_LIST_ENCODINGS = ("windows-1252", "utf-8", "iso-8859-15", "iso-8859-1")


@attrs.frozen
class InterfaceFile:
    """A generated file: ``name`` (following the grammar), ``data`` (canonical bytes) and
    ``encoding`` (what it was written in, as a manifest would declare it).

    >>> InterfaceFile("37050198_CONS_0_20261123020000_0001.csv", b"", "utf-8").kind
    'CONS'
    """

    name: str
    data: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")
    encoding: str

    @property
    def kind(self) -> str:
        """The kind the name spells."""
        return parse_file_name(self.name).kind


def interface_file_names(kind: str) -> st.SearchStrategy[str]:
    """Names of files of *kind* that follow the grammar (any institute, order number or
    ``0``, time and sequence number)."""
    if kind not in FILE_KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    created = st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2099, 12, 31),
        timezones=st.just(_UTC),
    ).map(lambda d: d.replace(microsecond=0))
    return st.builds(
        lambda blz, ref, when, seq: str(FileName(blz, kind, ref, when, seq)),
        blzs(),
        st.just("0") | order_numbers().map(str),
        created,
        st.integers(0, 9999),
    )


@functools.cache
def _registered() -> tuple[OccasionCode, ...]:
    from .._registry import default_registry  # noqa: PLC0415 - loaded on first use only

    return tuple(o.code for o in default_registry().occasions)


def registered_occasion_codes() -> st.SearchStrategy[OccasionCode]:
    """Occasion codes of the packaged registry, canonical (long) form."""
    return st.deferred(lambda: st.sampled_from(_registered()))


def _content(kind: str, max_records: int) -> st.SearchStrategy[tuple[bytes, str]]:
    if kind in ("KMM", "REKU", "IAM"):
        return st.sampled_from(_LIST_ENCODINGS).flatmap(
            lambda enc: subscriber_list_files(kind, encoding=enc, max_rows=max_records).map(
                lambda data: (data, enc)
            )
        )
    if kind == "CONS":
        return cons_files(max_rows=max_records).map(lambda data: (data, "utf-8"))
    if kind == "RESP":
        return resp_files(max_records=max_records).map(lambda data: (data, "windows-1252"))
    if kind == "LIEF":
        return st.builds(
            lambda m, code: write_manifest(
                attrs.evolve(m, anlass=code) if m.anlass is not None else m
            ),
            manifests(),
            registered_occasion_codes(),
        ).map(lambda data: (data, "utf-8"))
    if kind in ("VREKU", "VIAM"):
        typ = kind.lower()
        return st.builds(
            lambda c, code: write_control(
                attrs.evolve(c, anlass=code) if c.anlass is not None else c
            ),
            control_files().filter(lambda c: c.typ == typ),
            registered_occasion_codes(),
        ).map(lambda data: (data, "utf-8"))
    if kind == "QUIT":
        return acknowledgements().map(lambda a: (write_acknowledgement(a), "utf-8"))
    raise ValueError(f"unknown kind {kind!r}")


def interface_files(*kinds: str, max_records: int = 5) -> st.SearchStrategy[InterfaceFile]:
    """Valid canonical files of the given *kinds* (default: every kind), each with a name of
    its kind and the encoding it was written in; CSV and ``RESP`` files have up to
    *max_records* records.  Subscriber lists come in all four encodings: read them with
    ``encoding=file.encoding`` (as the manifest would declare it) for an exact round trip."""
    chosen = kinds or tuple(FILE_KINDS)
    for kind in chosen:
        if kind not in FILE_KINDS:
            raise ValueError(f"unknown kind {kind!r}")
    return st.sampled_from(chosen).flatmap(
        lambda kind: st.builds(
            lambda name, content: InterfaceFile(name, content[0], content[1]),
            interface_file_names(kind),
            _content(kind, max_records),
        )
    )
