"""Strategies for order events, subscriber-list events and members.

The order strategies draw order numbers from a small pool by default so that generated event
sequences keep meeting the same orders (pass ``numbers=`` for another pool).  Names are mostly
valid and from a small pool (so renames to the same and to other names both happen), sometimes
invalid (``E303``); channels are mostly ``EMMA`` (otherwise ``E305``).

>>> from hypothesis import given, settings
>>> @settings(max_examples=20)
... @given(order_events())
... def check(event):
...     assert event.order_key[1] in ("A1", "A2", "A3")
>>> check()
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import attrs
from hypothesis import strategies as st

from .._lists import (
    CreateList,
    DeleteList,
    FillList,
    FreezeList,
    ListEvent,
    Member,
    ReplaceList,
)
from .._messages import Message
from .._orders import (
    ControlFileFailed,
    ControlFileReceived,
    DataDelivered,
    DeliveryFailed,
    DeliveryVerified,
    KmmEvent,
    ListCreated,
    ListUpdated,
    MailingLinked,
    MailingSent,
    ManifestAnnounced,
    OrderClosed,
    OrderEvent,
    ParkedReleased,
    RekuEvent,
)
from ._types import invalid_order_names, mailing_ids

__all__ = [
    "aware_datetimes",
    "control_file_events",
    "data_deliveries",
    "failed_control_file_events",
    "kmm_events",
    "list_events",
    "list_members",
    "list_names",
    "order_events",
    "parked_releases",
    "reku_events",
    "sha256s",
]

_START = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
_OFFSETS = (timezone.utc, timezone(timedelta(hours=1)), timezone(timedelta(hours=2)))
_NUMBERS = ("A1", "A2", "A3")
_BAD_NAMES = ("Runde Geburtstage", "Gebührenfrei", "Aktion/2026", "x" * 65)
_NAMES = ("Runde_Geburtstage", "Neukunden.2026", "Herbst-Aktion", "Newsletter_UPDATE")


def aware_datetimes(
    start: datetime = _START, span: timedelta = timedelta(days=4)
) -> st.SearchStrategy[datetime]:
    """Timezone-aware times from *start* to *start* + *span* (whole minutes, mixed offsets),
    so that ``W301``'s 36 hours fall on both sides."""
    minutes = int(span.total_seconds() // 60)
    return st.builds(
        lambda m, tz: (start + timedelta(minutes=m)).astimezone(tz),
        st.integers(0, minutes),
        st.sampled_from(_OFFSETS),
    )


def sha256s() -> st.SearchStrategy[str]:
    """SHA-256 digests in lower-case hex."""
    return st.text("0123456789abcdef", min_size=64, max_size=64)


def _numbers(numbers: st.SearchStrategy[str] | None) -> st.SearchStrategy[str]:
    return numbers if numbers is not None else st.sampled_from(_NUMBERS)


def _file_names(kind: str, ext: str) -> st.SearchStrategy[str]:
    return st.integers(1, 9999).map(lambda seq: f"37050198_{kind}_0_20261122093000_{seq:04d}.{ext}")


def list_names() -> st.SearchStrategy[str]:
    """Valid order / list names from a small pool (one with the default update marker)."""
    return st.sampled_from(_NAMES)


def _names() -> st.SearchStrategy[str]:
    """Mostly valid names (eight in ten), else invalid ones (E303).  The weights are drawn
    explicitly: ``one_of`` with a branch repeated counts it once."""
    choice = {
        "valid": list_names(),
        "known bad": st.sampled_from(_BAD_NAMES),
        "invalid": invalid_order_names(),
    }
    return st.sampled_from(["valid"] * 8 + ["known bad", "invalid"]).flatmap(choice.__getitem__)


def _errors() -> st.SearchStrategy[tuple[Message, ...]]:
    return st.lists(
        st.sampled_from(
            [
                Message("E105", detail="DTD"),
                Message("E106", field="aktion"),
                Message("E102", detail="SHA-256 differs"),
                Message("E302"),
            ]
        ),
        min_size=1,
        max_size=2,
    ).map(tuple)


def _kmm_builders(
    n: st.SearchStrategy[str], at: st.SearchStrategy[datetime], sha: st.SearchStrategy[str | None]
) -> dict[type[KmmEvent], st.SearchStrategy[KmmEvent]]:
    """One strategy per KMM event class (in the order :func:`kmm_events` mixes them)."""
    return {
        ManifestAnnounced: st.builds(
            ManifestAnnounced,
            order_number=n,
            at=at,
            name=_names(),
            created=aware_datetimes(span=timedelta(days=1)),
            file_name=_file_names("LIEF", "xml"),
            sha256=sha,
            forward=st.sampled_from([True, True, True, False]),
        ),
        DeliveryVerified: st.builds(
            DeliveryVerified, order_number=n, at=at, file_name=_file_names("KMM", "csv"), sha256=sha
        ),
        DeliveryFailed: st.builds(
            DeliveryFailed,
            order_number=n,
            at=at,
            file_name=_file_names("KMM", "csv"),
            sha256=sha,
            messages=_errors(),
        ),
        ListCreated: st.builds(ListCreated, order_number=n, at=at),
        ListUpdated: st.builds(ListUpdated, order_number=n, at=at),
        MailingLinked: st.builds(MailingLinked, order_number=n, at=at, mailing_id=mailing_ids()),
        MailingSent: st.builds(MailingSent, order_number=n, at=at),
        OrderClosed: st.builds(OrderClosed, order_number=n, at=at),
    }


def _kmm_event(
    cls: type[KmmEvent], numbers: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[KmmEvent]:
    """Events of the one KMM event class *cls*, drawn as :func:`kmm_events` draws them."""
    return _kmm_builders(_numbers(numbers), aware_datetimes(), st.none() | sha256s())[cls]


def kmm_events(numbers: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[KmmEvent]:
    """Any event of the KMM order machine."""
    n, at = _numbers(numbers), aware_datetimes()
    sha = st.none() | sha256s()
    return st.one_of(*_kmm_builders(n, at, sha).values())


def _kinds() -> st.SearchStrategy[str]:
    return st.sampled_from(["REKU", "IAM"])


def control_file_events(
    numbers: st.SearchStrategy[str] | None = None, *, valid: bool | None = None
) -> st.SearchStrategy[ControlFileReceived]:
    """Control files as read, any action.  ``valid=True``: correct ones only (a valid name,
    channel ``EMMA``); ``valid=False``: failing ones only (``E303`` and/or ``E305``); by default
    mostly correct ones."""
    channels = st.sampled_from(["EMMA"] * 5 + ["POST", "emma"])
    names = _names()
    if valid is True:
        channels, names = st.just("EMMA"), list_names()
    elif valid is False:
        bad_names = st.sampled_from(_BAD_NAMES) | invalid_order_names()
        bad = st.tuples(bad_names, channels) | st.tuples(
            list_names(), st.sampled_from(["POST", "emma", ""])
        )
        return st.builds(
            lambda c, nc: attrs.evolve(c, name=nc[0], channel=nc[1]),
            control_file_events(numbers, valid=True),
            bad,
        )
    return st.builds(
        ControlFileReceived,
        order_number=_numbers(numbers),
        order_kind=_kinds(),
        at=aware_datetimes(),
        action=st.sampled_from(["neu", "neu", "aenderung", "aenderung", "loeschung"]),
        name=names,
        channel=channels,
        file_name=_file_names("VREKU", "xml"),
        sha256=st.none() | sha256s(),
        valid_from=st.none() | st.dates(date(2026, 1, 1), date(2027, 12, 31)),
        valid_to=st.none() | st.dates(date(2026, 1, 1), date(2028, 12, 31)),
        rhythm=st.none() | st.sampled_from(["taeglich", "woechentlich", "monatlich"]),
        occasion=st.none() | st.just("MCAG002"),
    )


def failed_control_file_events(
    numbers: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[ControlFileFailed]:
    """Control files refused before they could be read (``E105``, ``E106`` …)."""
    return st.builds(
        ControlFileFailed,
        order_number=_numbers(numbers),
        order_kind=_kinds(),
        at=aware_datetimes(),
        file_name=_file_names("VREKU", "xml"),
        sha256=st.none() | sha256s(),
        messages=_errors(),
    )


def data_deliveries(
    numbers: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[DataDelivered]:
    """ReKu / IAM data deliveries."""
    return st.builds(
        DataDelivered,
        order_number=_numbers(numbers),
        order_kind=_kinds(),
        at=aware_datetimes(),
        file_name=_file_names("REKU", "csv"),
        sha256=st.none() | sha256s(),
    )


def parked_releases(
    numbers: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[ParkedReleased]:
    """Releases of parked deliveries."""
    return st.builds(
        ParkedReleased, order_number=_numbers(numbers), order_kind=_kinds(), at=aware_datetimes()
    )


def reku_events(numbers: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[RekuEvent]:
    """Any event of the ReKu / IAM order machine."""
    return st.one_of(
        control_file_events(numbers),
        failed_control_file_events(numbers),
        data_deliveries(numbers),
        data_deliveries(numbers),
        parked_releases(numbers),
    )


def order_events(numbers: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[OrderEvent]:
    """Any order event, KMM or ReKu / IAM."""
    return st.one_of(kmm_events(numbers), reku_events(numbers))


def list_members(max_customer: int = 50) -> st.SearchStrategy[Member]:
    """Members with customer numbers from a small range (so re-deliveries happen)."""
    return st.builds(
        Member,
        st.integers(0, max_customer),
        st.fixed_dictionaries({"EMAIL": st.sampled_from(["a@example.de", "b@example.de"])}),
    )


def _list_builders(
    name: st.SearchStrategy[str], at: st.SearchStrategy[datetime]
) -> dict[type[ListEvent], st.SearchStrategy[ListEvent]]:
    """One strategy per subscriber-list event class (in the order :func:`list_events` mixes
    them)."""
    members = st.lists(list_members(), max_size=5).map(tuple)
    return {
        CreateList: st.builds(CreateList, name=name, at=at, continuous=st.booleans()),
        FillList: st.builds(FillList, name=name, at=at, members=members),
        ReplaceList: st.builds(ReplaceList, name=name, at=at, members=members),
        FreezeList: st.builds(FreezeList, name=name, at=at),
        DeleteList: st.builds(DeleteList, name=name, at=at),
    }


def _list_event(
    cls: type[ListEvent], names: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[ListEvent]:
    """Events of the one subscriber-list event class *cls*, drawn as :func:`list_events` does."""
    return _list_builders(names if names is not None else list_names(), aware_datetimes())[cls]


def list_events(names: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[ListEvent]:
    """Any subscriber-list event."""
    name = names if names is not None else list_names()
    return st.one_of(*_list_builders(name, aware_datetimes()).values())
