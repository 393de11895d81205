"""A strategy for every public type: :data:`FOR_TYPES`, :func:`strategy_for` and the types
registered with hypothesis, so that ``st.from_type(T)`` works for every public type of
:mod:`emma_osplus` once :mod:`emma_osplus.testing` is imported.

The few public types with no strategy are services, not values — readers, transports, stores,
processors, protocols — and :data:`NOT_GENERATED` says for each what to do instead.

>>> from hypothesis import given, settings, strategies as st
>>> from emma_osplus import KmmOrder, RecipientState
>>> @settings(max_examples=10, deadline=None)
... @given(st.from_type(KmmOrder), strategy_for(RecipientState))
... def check(order, state):
...     assert order.order_number is not None and state.engagement is not None
>>> check()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from types import MappingProxyType
from typing import Any, TypeVar

from hypothesis import strategies as st

from .._cons import ConsentChange
from .._consent import ConsentKind, ConsentSource
from .._control import ControlFile
from .._csv import Column, CsvLayout, CsvReader, RecordCheck
from .._demo import DemoResult
from .._display import ParsedFile, PendingView
from .._email import EmailAddress
from .._encoding import DetectedEncoding, EncodingDetector, EncodingGuess
from .._filenames import FileKind, FileName
from .._fixed import (
    Check,
    CountCheck,
    Field,
    FixedLayout,
    FixedReader,
    MatchHeader,
    RecordType,
    SumCheck,
    SupportsRead,
    Tally,
)
from .._fsspec_transport import FsspecTransport
from .._jsonview import CsvKind, FixedKind, JsonView, JsonViewStream, Profile, XmlKind
from .._manifest import Manifest, ManifestFile, ManifestOptions
from .._messages import Message, MessageDefinition, MessageLevel, Severity
from .._processor import EmmaProcessor, OsplusProcessor
from .._quit import Acknowledgement
from .._records import Mode, Notice, Record, Rejected
from .._registry import (
    Journey,
    Journeys,
    Mailing,
    Mailings,
    Occasion,
    Occasions,
    Registry,
    Selection,
    UnresolvedCode,
)
from .._resp import RESP_LAYOUT, RespHeader, ResponseRecord, RespTrailer
from .._store import MemoryStore, SQLiteStore, Store
from .._subscribers import OccasionConverter
from .._transport import DirectoryTransport, MemoryTransport, Transport
from .._types import Blz, CustomerNumber, EventId, MailingId, OccasionCode, OrderName, OrderNumber
from .._verify import DeliveryVerification
from .._xml import ElementSpec, XmlLayout, XmlResult
from . import _readings as r
from ._csv import consent_changes, csv_layouts
from ._email import email_addresses
from ._filenames import file_names
from ._fixed import fixed_layouts, response_records
from ._outcomes import FOR_TYPES as _OUTCOMES
from ._registry import occasions, registries
from ._types import (
    blzs,
    customer_numbers,
    event_ids,
    mailing_ids,
    messages,
    occasion_codes,
    order_names,
    order_numbers,
)
from ._workflow import FOR_TYPES as _WORKFLOW
from ._xml import acknowledgements, control_files, manifests

__all__ = ["FOR_TYPES", "NOT_GENERATED", "register_strategies", "strategy_for"]

T = TypeVar("T")
_Factory = Callable[[], st.SearchStrategy[Any]]


def _enum(cls: type[Any]) -> _Factory:
    return partial(st.sampled_from, cls)


def _part(whole: _Factory, parts: Callable[[Any], Any]) -> _Factory:
    """A strategy for the parts of the values *whole* draws (columns of layouts, …)."""
    return lambda: (
        whole().map(lambda value: tuple(parts(value))).filter(bool).flatmap(st.sampled_from)
    )


def _fields(layout: FixedLayout) -> list[Field]:
    return [f for t in layout.record_types for f in t.fields]


def _checks(kind: type[Any]) -> _Factory:
    shipped = [c for c in RESP_LAYOUT.checks if isinstance(c, kind)]

    def of(layout: FixedLayout) -> list[Any]:
        return [c for c in layout.checks if isinstance(c, kind)] + shipped

    return _part(fixed_layouts, of)


_CORE: dict[type, _Factory] = {
    # values of the interface
    Blz: blzs,
    CustomerNumber: customer_numbers,
    EmailAddress: email_addresses,
    EventId: event_ids,
    MailingId: mailing_ids,
    Message: messages,
    OccasionCode: occasion_codes,
    OrderName: order_names,
    OrderNumber: order_numbers,
    FileName: file_names,
    # files and their parts
    Acknowledgement: acknowledgements,
    ConsentChange: consent_changes,
    ControlFile: control_files,
    Manifest: manifests,
    ManifestFile: _part(manifests, lambda m: m.files),
    ManifestOptions: _part(manifests, lambda m: [m.options]),
    ResponseRecord: response_records,
    # layouts
    CsvLayout: csv_layouts,
    Column: _part(csv_layouts, lambda layout: layout.columns),
    FixedLayout: fixed_layouts,
    RecordType: _part(fixed_layouts, lambda layout: layout.record_types),
    Field: _part(fixed_layouts, _fields),
    CountCheck: _checks(CountCheck),
    SumCheck: _checks(SumCheck),
    # the registry
    Occasion: occasions,
    Registry: registries,
    Mailing: _part(registries, lambda registry: registry.mailings),
    Journey: _part(registries, lambda registry: registry.journeys),
    Occasions: r.occasion_tables,
    Mailings: r.mailing_tables,
    Journeys: r.journey_tables,
    UnresolvedCode: r.unresolved_codes,
    OccasionConverter: r.occasion_converters,
    # reading
    Record: r.records,
    Rejected: r.rejected_records,
    Notice: r.notices,
    DetectedEncoding: r.detected_encodings,
    EncodingGuess: r.encoding_guesses,
    MessageDefinition: r.message_definitions,
    FileKind: r.file_kinds,
    Profile: r.profiles,
    CsvKind: partial(r.kind_codecs, "csv"),
    FixedKind: partial(r.kind_codecs, "fixed"),
    XmlKind: partial(r.kind_codecs, "xml"),
    JsonView: r.json_views,
    ParsedFile: r.parsed_files,
    PendingView: r.pending_views,
    RespHeader: r.resp_headers,
    RespTrailer: r.resp_trailers,
    MatchHeader: r.match_headers,
    XmlLayout: r.xml_layouts,
    ElementSpec: r.element_specs,
    XmlResult: r.xml_results,
    DeliveryVerification: r.delivery_verifications,
    # enums
    ConsentKind: _enum(ConsentKind),
    ConsentSource: _enum(ConsentSource),
    MessageLevel: _enum(MessageLevel),
    Mode: _enum(Mode),
    Selection: _enum(Selection),
    Severity: _enum(Severity),
}

#: Every public type with a strategy: type → a function of no arguments that returns it.
FOR_TYPES: Mapping[type, _Factory] = MappingProxyType({**_CORE, **_OUTCOMES, **_WORKFLOW})

_READER = "a reader of a source: read a generated file, e.g. read_csv(data, layout)"
_SERVICE = "a service over a transport and a store, not a value: build one in the test"

#: The public types no strategy generates, and why (each a service or a protocol).
NOT_GENERATED: Mapping[type, str] = MappingProxyType(
    {
        CsvReader: _READER,
        FixedReader: _READER,
        JsonViewStream: _READER,
        EncodingDetector: "a stateful detector: feed it generated bytes",
        Transport: "a service: test your own with testing.TransportContract",
        MemoryTransport: "a service: MemoryTransport() or MemoryTransport.pair()",
        DirectoryTransport: "a service over folders: DirectoryTransport(tmp_path / 'in', …)",
        FsspecTransport: "a service over an fsspec file system",
        Store: "a service: MemoryStore() or SQLiteStore(path)",
        MemoryStore: "a service: MemoryStore()",
        SQLiteStore: "a service: SQLiteStore(path)",
        EmmaProcessor: _SERVICE,
        DemoResult: "what run_demo reports after writing its folders: run it",
        OsplusProcessor: _SERVICE,
        Check: "a protocol: see CountCheck, SumCheck, MatchHeader",
        RecordCheck: "a protocol for CSV record checks",
        SupportsRead: "a protocol for file objects",
        Tally: "a protocol: the running state of a Check",
    }
)


def strategy_for(tp: type[T]) -> st.SearchStrategy[T]:
    """The strategy of the public type *tp* (as ``st.from_type(tp)`` after importing
    :mod:`emma_osplus.testing`).  A type without one raises :class:`TypeError` saying why.

    >>> strategy_for(int)
    Traceback (most recent call last):
    ...
    TypeError: no strategy for <class 'int'>: not a public type of emma_osplus
    """
    factory = FOR_TYPES.get(tp)
    if factory is None:
        why = NOT_GENERATED.get(tp, "not a public type of emma_osplus")
        raise TypeError(f"no strategy for {tp!r}: {why}")
    strategy: st.SearchStrategy[T] = factory()
    return strategy


def register_strategies() -> None:
    """Register every strategy of :data:`FOR_TYPES` with hypothesis (done on importing
    :mod:`emma_osplus.testing`), so that ``st.from_type`` and ``st.builds`` find them."""
    for tp, factory in FOR_TYPES.items():
        st.register_type_strategy(tp, partial(_deferred, factory))


def _deferred(factory: _Factory, _tp: type) -> st.SearchStrategy[Any]:
    # a function of the type (not a strategy): hypothesis asks that of generic types; the
    # strategy is made on first use, so importing emma_osplus.testing stays cheap
    return st.deferred(lambda: factory())  # noqa: PLW0108 - deferred wants a function
