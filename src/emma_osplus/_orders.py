"""Orders of the delivery direction (OSPlus → EMMA): KMM orders and ReKu / IAM orders.

Each kind of order is one pure machine with one transition table:

* :data:`KMM_ORDER`: a KMM order is announced by its delivery manifest, **delivered** when every
  file is verified, then its subscriber list is created or updated in EMMA, a mailing is linked,
  the mailing is sent and the order is closed.  A delivery more than 36 hours after the order's
  creation (``erstellt`` of the manifest) is flagged ``W301``.
* :data:`REKU_ORDER`: a ReKu or IAM order is registered by a correct control file ``neu``, which
  also creates its subscriber list.  Data deliveries are accepted only while a correctly
  processed control file is in force; otherwise the delivery is **parked** with ``E301`` (kept in
  the order, never lost) and can be released once a correct control file has arrived.  A failed
  control file (bad name ``E303``, channel ``E305``, or refused upstream, e.g. ``E106``) blocks
  deliveries until a correct one arrives.  ``aenderung`` with a new name starts a new list and
  freezes the old one; ``loeschung`` ends the order (later events ``E304``).

Events are frozen attrs values holding plain data (order number, name, channel, action, times,
file name and SHA-256), one base class per machine (:class:`KmmEvent`, :class:`RekuEvent`); the
time comes in on the event.  A machine maps ``(state, event)`` to a new state inside an
:class:`OrderStep`, or raises :class:`~emma_osplus._machine.TransitionRefused` carrying the
message code of the rule and changes nothing.  Replaying a history of events gives the same
state.  :class:`OrderBook` holds every order of an institute by kind and number.

A step's ``effects`` are :mod:`subscriber-list events <emma_osplus._lists>` (create, freeze)
for the :class:`~emma_osplus._lists.ListRegistry`; for an accepted delivery ``list_name`` says
which list its members go to.

>>> from datetime import datetime, timezone
>>> t = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)
>>> book = OrderBook()
>>> step = book.step(DataDelivered(order_number="R2026042", order_kind="REKU", at=t,
...                                file_name="37050198_REKU_R2026042_20261201060000_0001.csv"))
>>> step.outcome, step.order.state, [m.code for m in step.messages]
(<Outcome.PARKED: 'parked'>, 'unknown', ['E301'])
>>> step = step.state.step(ControlFileReceived(order_number="R2026042", order_kind="REKU", at=t,
...     action="neu", name="Runde_Geburtstage", file_name="37050198_VREKU_R2026042_20261201060500_0001.xml"))
>>> step.order.state, [type(e).__name__ for e in step.effects], len(step.order.parked)
('active', ['CreateList'], 1)
>>> step = step.state.step(ParkedReleased(order_number="R2026042", order_kind="REKU", at=t))
>>> [d.file_name for d in step.released], step.list_name, step.order.parked
(['37050198_REKU_R2026042_20261201060000_0001.csv'], 'Runde_Geburtstage', ())
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Generic, TypeAlias, TypeVar

import attrs

from ._errors import InvalidValueError
from ._lists import CreateList, FreezeList, ListEvent, check_aware
from ._machine import TransitionRefused, TransitionTable
from ._messages import Message
from ._types import MailingId, OrderName, OrderNumber

if TYPE_CHECKING:
    from ._control import ControlFile
    from ._manifest import Manifest

__all__ = [
    "CHANNEL",
    "KMM_ORDER",
    "LATENCY_LIMIT",
    "REKU_ORDER",
    "AcceptedDelivery",
    "ControlFileFailed",
    "ControlFileReceived",
    "DataDelivered",
    "DeliveryFailed",
    "DeliveryVerified",
    "KmmEvent",
    "KmmOrder",
    "ListCreated",
    "ListUpdated",
    "MailingLinked",
    "MailingSent",
    "ManifestAnnounced",
    "Order",
    "OrderBook",
    "OrderClosed",
    "OrderEvent",
    "OrderStep",
    "Outcome",
    "ParkedDelivery",
    "ParkedReleased",
    "RekuEvent",
    "RekuOrder",
]

#: A KMM delivery later than this after the order's creation is flagged ``W301``.
LATENCY_LIMIT = timedelta(hours=36)
#: The only channel (``vertriebsweg``) the interface serves.
CHANNEL = "EMMA"

#: The KMM order: manifest → delivered (verified) → list created/updated → mailing linked → sent
#: → closed.  A failed verification (``E102``/``E103``) or a re-sent manifest keeps the order
#: ``announced`` until a verified delivery arrives.
KMM_ORDER = TransitionTable(
    name="kmm-order",
    initial="unknown",
    transitions={
        ("unknown", "manifest"): "announced",
        ("announced", "manifest"): "announced",
        ("announced", "delivery_failed"): "announced",
        ("announced", "delivered"): "delivered",
        ("delivered", "list_created"): "listed",
        ("delivered", "list_updated"): "listed",
        ("listed", "mailing_linked"): "linked",
        ("linked", "sent"): "sent",
        ("sent", "closed"): "closed",
    },
    final=frozenset({"closed"}),
)

#: The ReKu / IAM order.  ``unknown``: no control file yet; ``failed``: the control files so far
#: failed; ``active``: a correct control file is in force; ``blocked``: registered, but the latest
#: control file failed; ``deleted``: ended by ``loeschung``.  A ``delivery`` is accepted in
#: ``active`` and parked (``E301``) in ``unknown``, ``failed`` and ``blocked``; ``release``
#: accepts the parked deliveries.
REKU_ORDER = TransitionTable(
    name="reku-order",
    initial="unknown",
    transitions={
        ("unknown", "control_new"): "active",
        ("unknown", "control_failed"): "failed",
        ("unknown", "delivery"): "unknown",
        ("failed", "control_new"): "active",
        ("failed", "control_change"): "active",
        ("failed", "control_delete"): "deleted",
        ("failed", "control_failed"): "failed",
        ("failed", "delivery"): "failed",
        ("active", "control_new"): "active",
        ("active", "control_change"): "active",
        ("active", "control_delete"): "deleted",
        ("active", "control_failed"): "blocked",
        ("active", "delivery"): "active",
        ("active", "release"): "active",
        ("blocked", "control_new"): "active",
        ("blocked", "control_change"): "active",
        ("blocked", "control_delete"): "deleted",
        ("blocked", "control_failed"): "blocked",
        ("blocked", "delivery"): "blocked",
    },
    final=frozenset({"deleted"}),
)

# The code of the rule behind a refusal that the table alone decides: (state, event kind) or
# (state, "*").  Refusals not listed are events out of the order's sequence: E308.
_KMM_REFUSALS: Mapping[tuple[str, str], str] = {
    ("unknown", "*"): "E304",
    ("closed", "*"): "E304",
}
_REKU_REFUSALS: Mapping[tuple[str, str], str] = {
    ("unknown", "control_change"): "E304",
    ("unknown", "control_delete"): "E304",
    ("unknown", "release"): "E301",
    ("failed", "release"): "E301",
    ("blocked", "release"): "E301",
    ("deleted", "*"): "E304",
}

_SHA256 = re.compile(r"[0-9a-f]{64}")


def _order_number(value: str | OrderNumber) -> OrderNumber:
    return value if isinstance(value, OrderNumber) else OrderNumber(value)


def _sha256(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.lower()
    if not _SHA256.fullmatch(text):
        raise ValueError(f"not a SHA-256 in hex: {value!r}")
    return text


def _order_kind(value: str) -> str:
    kind = {"VREKU": "REKU", "VIAM": "IAM"}.get(value.upper(), value.upper())
    if kind not in ("REKU", "IAM"):
        raise ValueError(f"order kind must be REKU or IAM, not {value!r}")
    return kind


def _mailing(value: str | MailingId) -> MailingId:
    return value if isinstance(value, MailingId) else MailingId(value)


def _messages(value: Iterable[Message]) -> tuple[Message, ...]:
    return tuple(value)


def _errors(
    instance: object, attribute: attrs.Attribute[tuple[Message, ...]], value: tuple[Message, ...]
) -> None:
    if not any(m.is_error for m in value):
        raise ValueError(f"{attribute.name} must hold at least one error message")


# -- events -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class OrderEvent:
    """Base of every order event: the order number and the time ``at`` (timezone-aware)."""

    KIND: ClassVar[str] = ""

    order_number: OrderNumber = attrs.field(converter=_order_number)
    at: datetime = attrs.field(validator=check_aware)

    @property
    def kind(self) -> str:
        """The event kind in the order's transition table."""
        return self.KIND

    @property
    def order_key(self) -> tuple[str, str]:
        """``(order kind, order number)``: how :class:`OrderBook` finds the order."""
        raise NotImplementedError


@attrs.frozen(kw_only=True)
class KmmEvent(OrderEvent):
    """Base of the events of :data:`KMM_ORDER`."""

    @property
    def order_key(self) -> tuple[str, str]:
        return ("KMM", str(self.order_number))


@attrs.frozen(kw_only=True)
class ManifestAnnounced(KmmEvent):
    """The delivery manifest (``LIEF``, ``art="KMM"``) announced the order.

    ``name`` is the order's ``bezeichnung`` (the list's name; ``E303`` if it breaks the rule),
    ``created`` its ``erstellt``, ``forward`` the option ``weiterleitungSfp`` (``False`` means the
    order is not for EMMA: ``E305``), ``file_name``/``sha256`` the manifest's own file.
    """

    KIND: ClassVar[str] = "manifest"
    name: str
    created: datetime = attrs.field(validator=check_aware)
    file_name: str
    sha256: str | None = attrs.field(default=None, converter=_sha256)
    forward: bool = True

    @classmethod
    def from_manifest(
        cls, manifest: Manifest, *, at: datetime, file_name: str, sha256: str | None = None
    ) -> ManifestAnnounced:
        """The event for a :class:`~emma_osplus._manifest.Manifest` with ``art="KMM"`` read
        from *file_name* at *at*."""
        if manifest.art != "KMM":
            raise ValueError(f"not a KMM manifest: art={manifest.art!r}")
        return cls(
            order_number=manifest.nummer,
            at=at,
            name=str(manifest.bezeichnung),
            created=manifest.erstellt,
            file_name=file_name,
            sha256=sha256,
            forward=manifest.options.weiterleitung_sfp,
        )


@attrs.frozen(kw_only=True)
class DeliveryVerified(KmmEvent):
    """Every file of the manifest is there with its size and SHA-256; ``file_name``/``sha256``
    name the subscriber list (``rolle="abonnenten"``)."""

    KIND: ClassVar[str] = "delivered"
    file_name: str
    sha256: str | None = attrs.field(default=None, converter=_sha256)

    @classmethod
    def from_manifest(cls, manifest: Manifest, *, at: datetime) -> DeliveryVerified:
        """The event for a KMM manifest whose files were all verified at *at* (names the
        subscriber list)."""
        if manifest.art != "KMM":
            raise ValueError(f"not a KMM manifest: art={manifest.art!r}")
        subscribers = manifest.subscriber_file
        return cls(
            order_number=manifest.nummer,
            at=at,
            file_name=subscribers.name,
            sha256=subscribers.sha256,
        )


@attrs.frozen(kw_only=True)
class DeliveryFailed(KmmEvent):
    """The delivery could not be verified (``E102``, ``E103``, ``E306`` …); the order waits for
    a correct one.  ``messages`` holds at least one error."""

    KIND: ClassVar[str] = "delivery_failed"
    file_name: str
    sha256: str | None = attrs.field(default=None, converter=_sha256)
    messages: tuple[Message, ...] = attrs.field(converter=_messages, validator=_errors)


@attrs.frozen(kw_only=True)
class ListCreated(KmmEvent):
    """The order's subscriber list was created in EMMA."""

    KIND: ClassVar[str] = "list_created"


@attrs.frozen(kw_only=True)
class ListUpdated(KmmEvent):
    """The existing list of the order's name was updated (the name carries the update marker)."""

    KIND: ClassVar[str] = "list_updated"


@attrs.frozen(kw_only=True)
class MailingLinked(KmmEvent):
    """A person linked list and mailing in EMMA."""

    KIND: ClassVar[str] = "mailing_linked"
    mailing_id: MailingId = attrs.field(converter=_mailing)


@attrs.frozen(kw_only=True)
class MailingSent(KmmEvent):
    """The mailing was sent to the list."""

    KIND: ClassVar[str] = "sent"


@attrs.frozen(kw_only=True)
class OrderClosed(KmmEvent):
    """The order is finished."""

    KIND: ClassVar[str] = "closed"


@attrs.frozen(kw_only=True)
class RekuEvent(OrderEvent):
    """Base of the events of :data:`REKU_ORDER`; ``order_kind`` is ``REKU`` or ``IAM`` (the
    control file types ``vreku``/``viam`` are accepted too)."""

    order_kind: str = attrs.field(converter=_order_kind)

    @property
    def order_key(self) -> tuple[str, str]:
        return (self.order_kind, str(self.order_number))


_ACTIONS = {"neu": "control_new", "aenderung": "control_change", "loeschung": "control_delete"}


@attrs.frozen(kw_only=True)
class ControlFileReceived(RekuEvent):
    """A control file (``VREKU``/``VIAM``) that was read: its ``aktion``, ``bezeichnung``,
    ``vertriebsweg``, ``gueltigAb``/``gueltigBis``, ``rhythmus``, ``anlass`` and ``massnahme``.

    A name outside ``[A-Za-z0-9_.-]{1,64}`` (``E303``, with a suggested safe name) or a channel
    other than ``EMMA`` (``E305``) makes it a failed control file (:attr:`problems`).
    """

    action: str = attrs.field(validator=attrs.validators.in_(tuple(_ACTIONS)))
    name: str
    channel: str = CHANNEL
    file_name: str
    sha256: str | None = attrs.field(default=None, converter=_sha256)
    valid_from: date | None = None
    valid_to: date | None = None
    rhythm: str | None = None
    occasion: str | None = None
    measure: str | None = None

    @classmethod
    def from_control_file(
        cls,
        control: ControlFile,
        *,
        file_name: str,
        sha256: str | None = None,
        at: datetime | None = None,
    ) -> ControlFileReceived:
        """The event for a :class:`~emma_osplus._control.ControlFile` read from *file_name*;
        ``at`` defaults to the file's ``erstellt``.  (A control file whose reading failed, e.g.
        with ``E303``, ``E305`` or ``E106``, becomes :class:`ControlFileFailed` instead.)"""
        return cls(
            order_number=control.nummer,
            order_kind=control.typ,
            at=control.erstellt if at is None else at,
            action=control.aktion,
            name=str(control.bezeichnung),
            channel=control.vertriebsweg,
            file_name=file_name,
            sha256=sha256,
            valid_from=control.gueltig_ab,
            valid_to=control.gueltig_bis,
            rhythm=control.rhythmus,
            occasion=None if control.anlass is None else str(control.anlass),
            measure=control.massnahme,
        )

    @property
    def problems(self) -> tuple[Message, ...]:
        """The errors that make this control file fail (``E303``, ``E305``); empty if none."""
        found: list[Message] = []
        try:
            OrderName(self.name)
        except InvalidValueError as exc:
            found.append(attrs.evolve(exc.message, field="bezeichnung"))
        if self.channel != CHANNEL:
            found.append(
                Message(
                    "E305",
                    field="vertriebsweg",
                    raw=self.channel,
                    detail=f"order {self.order_number} goes to {self.channel!r}, not {CHANNEL}",
                )
            )
        return tuple(found)

    @property
    def kind(self) -> str:
        return "control_failed" if self.problems else _ACTIONS[self.action]


@attrs.frozen(kw_only=True)
class ControlFileFailed(RekuEvent):
    """A control file for this order that was refused before it could be read as one (e.g.
    ``E105``, ``E106``), or whose registration failed later (e.g. ``E302`` from the list
    registry).  ``messages`` holds at least one error."""

    KIND: ClassVar[str] = "control_failed"
    file_name: str
    sha256: str | None = attrs.field(default=None, converter=_sha256)
    messages: tuple[Message, ...] = attrs.field(converter=_messages, validator=_errors)

    @classmethod
    def from_received(cls, event: ControlFileReceived, *messages: Message) -> ControlFileFailed:
        """The failure of a control file that was read, e.g. when its list could not be made."""
        return cls(
            order_number=event.order_number,
            order_kind=event.order_kind,
            at=event.at,
            file_name=event.file_name,
            sha256=event.sha256,
            messages=messages or event.problems,
        )


@attrs.frozen(kw_only=True)
class DataDelivered(RekuEvent):
    """A data delivery (``REKU`` or ``IAM.w`` file) for the order, verified against its
    manifest."""

    KIND: ClassVar[str] = "delivery"
    file_name: str
    sha256: str | None = attrs.field(default=None, converter=_sha256)

    @classmethod
    def from_manifest(cls, manifest: Manifest, *, at: datetime) -> DataDelivered:
        """The event for a verified ``REKU``/``IAM`` delivery (names the subscriber list)."""
        subscribers = manifest.subscriber_file
        return cls(
            order_number=manifest.nummer,
            order_kind=manifest.art,
            at=at,
            file_name=subscribers.name,
            sha256=subscribers.sha256,
        )


@attrs.frozen(kw_only=True)
class ParkedReleased(RekuEvent):
    """Accept the parked deliveries now that a correct control file is in force."""

    KIND: ClassVar[str] = "release"


# -- results ------------------------------------------------------------------------------------


class Outcome(enum.Enum):
    """What an accepted step did with its event (a refused step raises instead)."""

    #: the event took effect (a delivery: its members go to ``list_name``)
    ACCEPTED = "accepted"
    #: a delivery kept in the order with ``E301`` until a correct control file is in force
    PARKED = "parked"
    #: a control file failed (its errors are the step's messages); deliveries are blocked
    FAILED = "failed"


@attrs.frozen
class ParkedDelivery:
    """A delivery kept in its order because no correct control file was in force."""

    delivery: DataDelivered
    message: Message


@attrs.frozen
class AcceptedDelivery:
    """A delivery accepted into the list ``list_name`` at ``accepted_at`` (``released`` when it
    was parked first)."""

    delivery: DataDelivered
    list_name: str
    accepted_at: datetime
    released: bool = False


S_co = TypeVar("S_co", covariant=True)
O_co = TypeVar("O_co", covariant=True)


@attrs.frozen
class OrderStep(Generic[S_co, O_co]):
    """The result of one accepted event.

    ``state`` is the new value of what was stepped (the order, or the :class:`OrderBook`);
    ``order`` the order after the event; ``kind`` the event kind of the table; ``messages`` the
    warnings (``W301``) or the errors of a parked delivery (``E301``) or failed control file;
    ``effects`` the list events this step implies; ``list_name`` the list an accepted delivery
    fills; ``released`` the deliveries accepted by a release.
    """

    state: S_co
    order: O_co
    event: OrderEvent
    kind: str
    outcome: Outcome = Outcome.ACCEPTED
    messages: tuple[Message, ...] = ()
    effects: tuple[ListEvent, ...] = ()
    list_name: str | None = None
    released: tuple[DataDelivered, ...] = ()


def _refusal(
    table: TransitionTable,
    codes: Mapping[tuple[str, str], str],
    *,
    state: str,
    kind: str,
    number: OrderNumber,
    detail: str,
) -> TransitionRefused:
    code = codes.get((state, kind)) or codes.get((state, "*")) or "E308"
    message = Message(code, field="order_number", raw=str(number), detail=detail)
    return TransitionRefused(table.name, state, kind, detail, message)


def _wrong_order(
    table: TransitionTable, state: str, event: OrderEvent, key: tuple[str, str]
) -> TransitionRefused:
    detail = f"event for {' '.join(event.order_key)} applied to {' '.join(key)}"
    message = Message("E304", field="order_number", raw=str(event.order_number), detail=detail)
    return TransitionRefused(table.name, state, event.kind, detail, message)


# -- the KMM order ------------------------------------------------------------------------------


@attrs.frozen
class KmmOrder:
    """The state of one KMM order (start with ``KmmOrder(order_number="…")``).

    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone(timedelta(hours=1)))
    >>> order = KmmOrder(order_number="K2026001").apply(ManifestAnnounced(
    ...     order_number="K2026001", at=t0 + timedelta(hours=40), name="Herbst_Aktion_2026",
    ...     created=t0, file_name="37050198_LIEF_K2026001_20261122000000_0001.xml"))
    >>> step = order.step(DeliveryVerified(order_number="K2026001", at=t0 + timedelta(hours=40),
    ...     file_name="37050198_KMM_K2026001_20261122000000_0001.csv"))
    >>> step.order.state, step.list_name, [m.code for m in step.messages]
    ('delivered', 'Herbst_Aktion_2026', ['W301'])
    >>> step.order.apply(MailingSent(order_number="K2026001", at=t0))
    Traceback (most recent call last):
    ...
    emma_osplus._machine.TransitionRefused: E308: kmm-order: event 'sent' is not allowed in state 'delivered'
    """

    order_number: OrderNumber = attrs.field(converter=_order_number)
    state: str = KMM_ORDER.initial
    name: str | None = None
    created: datetime | None = None
    announced_at: datetime | None = None
    manifest_file: str | None = None
    manifest_sha256: str | None = None
    delivered_at: datetime | None = None
    delivery_file: str | None = None
    delivery_sha256: str | None = None
    late: bool = False
    failures: tuple[Message, ...] = ()
    list_action: str | None = None
    listed_at: datetime | None = None
    mailing_id: MailingId | None = None
    linked_at: datetime | None = None
    sent_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        """``("KMM", order number)``."""
        return ("KMM", str(self.order_number))

    @property
    def list_name(self) -> str | None:
        """The subscriber list's name: the order's name."""
        return self.name

    def step(self, event: KmmEvent) -> OrderStep[KmmOrder, KmmOrder]:
        """Apply *event*: an :class:`OrderStep`, or :class:`TransitionRefused` (no change)."""
        state, kind = self.state, event.kind
        if event.order_key != self.key:
            raise _wrong_order(KMM_ORDER, state, event, self.key)
        if (state, kind) not in KMM_ORDER.transitions:
            if state == "unknown":
                detail = f"no manifest announced KMM order {self.order_number}"
            elif state == "closed":
                detail = f"KMM order {self.order_number} is closed"
            else:
                detail = f"event {kind!r} is not allowed in state {state!r}"
            raise _refusal(
                KMM_ORDER,
                _KMM_REFUSALS,
                state=state,
                kind=kind,
                number=self.order_number,
                detail=detail,
            )
        target = KMM_ORDER.next(state, kind)
        at = event.at
        if isinstance(event, ManifestAnnounced):
            self._check_manifest(event)
            new = attrs.evolve(
                self,
                state=target,
                name=event.name,
                created=event.created,
                announced_at=at,
                manifest_file=event.file_name,
                manifest_sha256=event.sha256,
            )
            return OrderStep(new, new, event, kind)
        if isinstance(event, DeliveryFailed):
            new = attrs.evolve(self, failures=self.failures + event.messages)
            return OrderStep(new, new, event, kind, messages=event.messages)
        if isinstance(event, DeliveryVerified):
            messages: tuple[Message, ...] = ()
            assert self.created is not None  # set by the manifest
            delay = at - self.created
            if delay > LATENCY_LIMIT:
                hours = delay.total_seconds() / 3600
                messages = (
                    Message(
                        "W301",
                        field="erstellt",
                        raw=self.created.isoformat(),
                        detail=f"KMM order {self.order_number} delivered {hours:.1f} h after "
                        f"it was created (limit {LATENCY_LIMIT.total_seconds() / 3600:.0f} h)",
                    ),
                )
            new = attrs.evolve(
                self,
                state=target,
                delivered_at=at,
                delivery_file=event.file_name,
                delivery_sha256=event.sha256,
                late=bool(messages),
            )
            return OrderStep(new, new, event, kind, messages=messages, list_name=self.name)
        if isinstance(event, ListCreated | ListUpdated):
            action = "created" if isinstance(event, ListCreated) else "updated"
            new = attrs.evolve(self, state=target, list_action=action, listed_at=at)
        elif isinstance(event, MailingLinked):
            new = attrs.evolve(self, state=target, mailing_id=event.mailing_id, linked_at=at)
        elif isinstance(event, MailingSent):
            new = attrs.evolve(self, state=target, sent_at=at)
        elif isinstance(event, OrderClosed):
            new = attrs.evolve(self, state=target, closed_at=at)
        else:
            raise TypeError(f"not a KMM order event: {event!r}")
        return OrderStep(new, new, event, kind)

    def apply(self, event: KmmEvent) -> KmmOrder:
        """The order after *event* (raises :class:`TransitionRefused` if refused)."""
        return self.step(event).state

    def apply_all(self, events: Iterable[KmmEvent]) -> KmmOrder:
        """The order after every event in turn (all or nothing)."""
        order = self
        for event in events:
            order = order.apply(event)
        return order

    def _check_manifest(self, event: ManifestAnnounced) -> None:
        try:
            OrderName(event.name)
        except InvalidValueError as exc:
            message = attrs.evolve(exc.message, field="bezeichnung")
            raise TransitionRefused(
                KMM_ORDER.name, self.state, event.kind, f"order name {event.name!r}", message
            ) from None
        if not event.forward:
            detail = f"KMM order {self.order_number} is not forwarded to EMMA (weiterleitungSfp)"
            message = Message("E305", field="weiterleitungSfp", raw="false", detail=detail)
            raise TransitionRefused(KMM_ORDER.name, self.state, event.kind, detail, message)


# -- the ReKu / IAM order -----------------------------------------------------------------------


@attrs.frozen
class RekuOrder:
    """The state of one ReKu or IAM order (start with
    ``RekuOrder(order_kind="REKU", order_number="…")``).

    ``name`` is the order's current name and its list's name; ``frozen_lists`` the lists of
    earlier names; ``accepted`` every delivery accepted, ``parked`` those waiting for a correct
    control file; ``failure`` the errors of the latest control file if it failed.

    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 12, 1, tzinfo=timezone.utc)
    >>> order = RekuOrder(order_kind="REKU", order_number="R2026042")
    >>> step = order.step(ControlFileReceived(order_number="R2026042", order_kind="REKU", at=t,
    ...     action="neu", name="Runde Geburtstage", file_name="vreku.xml"))
    >>> step.outcome, step.order.state, step.messages[0].code, step.messages[0].detail
    (<Outcome.FAILED: 'failed'>, 'failed', 'E303', "not allowed: ' '; suggested: 'Runde_Geburtstage'")
    """

    order_kind: str = attrs.field(converter=_order_kind)
    order_number: OrderNumber = attrs.field(converter=_order_number)
    state: str = REKU_ORDER.initial
    name: str | None = None
    frozen_lists: tuple[str, ...] = ()
    rhythm: str | None = None
    occasion: str | None = None
    measure: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    registered_at: datetime | None = None
    changed_at: datetime | None = None
    deleted_at: datetime | None = None
    control_file: str | None = None
    control_sha256: str | None = None
    failure: tuple[Message, ...] = ()
    accepted: tuple[AcceptedDelivery, ...] = ()
    parked: tuple[ParkedDelivery, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        """``(order kind, order number)``."""
        return (self.order_kind, str(self.order_number))

    @property
    def list_name(self) -> str | None:
        """The list deliveries fill: the order's current name (``None`` before registration)."""
        return self.name

    @property
    def accepts_deliveries(self) -> bool:
        """True while a correctly processed control file is in force."""
        return self.state == "active"

    def step(self, event: RekuEvent) -> OrderStep[RekuOrder, RekuOrder]:
        """Apply *event*: an :class:`OrderStep`, or :class:`TransitionRefused` (no change)."""
        state, kind = self.state, event.kind
        if event.order_key != self.key:
            raise _wrong_order(REKU_ORDER, state, event, self.key)
        label = f"{self.order_kind} order {self.order_number}"
        if (state, kind) not in REKU_ORDER.transitions:
            if state == "deleted":
                detail = f"{label} was deleted"
            elif kind == "release":
                detail = f"no correctly processed control file for {label}"
            elif state == "unknown":
                detail = f"no control file registered {label}"
            else:
                detail = f"event {kind!r} is not allowed in state {state!r}"
            raise _refusal(
                REKU_ORDER,
                _REKU_REFUSALS,
                state=state,
                kind=kind,
                number=self.order_number,
                detail=detail,
            )
        target = REKU_ORDER.next(state, kind)
        if isinstance(event, ControlFileReceived) and kind != "control_failed":
            return self._control(event, target)
        if isinstance(event, ControlFileReceived | ControlFileFailed):
            messages = event.problems if isinstance(event, ControlFileReceived) else event.messages
            new = attrs.evolve(self, state=target, failure=messages)
            return OrderStep(new, new, event, kind, Outcome.FAILED, messages=messages)
        if isinstance(event, DataDelivered):
            return self._deliver(event, target, label)
        if isinstance(event, ParkedReleased):
            assert self.name is not None  # active orders have a name
            released = tuple(
                AcceptedDelivery(p.delivery, self.name, event.at, released=True)
                for p in self.parked
            )
            new = attrs.evolve(self, accepted=self.accepted + released, parked=())
            deliveries = tuple(p.delivery for p in self.parked)
            return OrderStep(new, new, event, kind, list_name=self.name, released=deliveries)
        raise TypeError(f"not a ReKu/IAM order event: {event!r}")

    def apply(self, event: RekuEvent) -> RekuOrder:
        """The order after *event* (raises :class:`TransitionRefused` if refused)."""
        return self.step(event).state

    def apply_all(self, events: Iterable[RekuEvent]) -> RekuOrder:
        """The order after every event in turn (all or nothing)."""
        order = self
        for event in events:
            order = order.apply(event)
        return order

    def _control(self, event: ControlFileReceived, target: str) -> OrderStep[RekuOrder, RekuOrder]:
        at = event.at
        effects: tuple[ListEvent, ...] = ()
        frozen = self.frozen_lists
        base = attrs.evolve(
            self,
            state=target,
            control_file=event.file_name,
            control_sha256=event.sha256,
            failure=(),
            changed_at=at,
        )
        if event.action == "loeschung":
            if self.name is not None:
                effects = (FreezeList(name=self.name, at=at),)
                frozen = (*frozen, self.name)
            new = attrs.evolve(base, deleted_at=at, frozen_lists=frozen)
            return OrderStep(new, new, event, event.kind, effects=effects)
        if self.name is None:
            effects = (CreateList(name=event.name, at=at, continuous=True),)
        elif event.name != self.name:
            effects = (
                CreateList(name=event.name, at=at, continuous=True),
                FreezeList(name=self.name, at=at),
            )
            frozen = (*frozen, self.name)
        new = attrs.evolve(
            base,
            name=event.name,
            frozen_lists=frozen,
            rhythm=event.rhythm,
            occasion=event.occasion,
            measure=event.measure,
            valid_from=event.valid_from,
            valid_to=event.valid_to,
            registered_at=self.registered_at or at,
        )
        return OrderStep(new, new, event, event.kind, effects=effects, list_name=event.name)

    def _deliver(
        self, event: DataDelivered, target: str, label: str
    ) -> OrderStep[RekuOrder, RekuOrder]:
        if self.state == "active":
            assert self.name is not None
            accepted = AcceptedDelivery(event, self.name, event.at)
            new = attrs.evolve(self, accepted=(*self.accepted, accepted))
            return OrderStep(new, new, event, event.kind, list_name=self.name)
        if self.failure:
            codes = ", ".join(m.code for m in self.failure)
            reason = f"the latest control file for {label} failed ({codes})"
        else:
            reason = f"no control file for {label} yet"
        message = Message(
            "E301",
            field="order_number",
            raw=str(self.order_number),
            detail=f"{reason}; delivery {event.file_name} parked until a correct one arrives",
        )
        new = attrs.evolve(
            self, state=target, parked=(*self.parked, ParkedDelivery(event, message))
        )
        return OrderStep(new, new, event, event.kind, Outcome.PARKED, messages=(message,))


# -- every order of an institute ----------------------------------------------------------------

Order: TypeAlias = KmmOrder | RekuOrder
"""Any order: :class:`KmmOrder` or :class:`RekuOrder`."""


def _new_order(event: OrderEvent) -> Order:
    if isinstance(event, KmmEvent):
        return KmmOrder(order_number=event.order_number)
    if isinstance(event, RekuEvent):
        return RekuOrder(order_kind=event.order_kind, order_number=event.order_number)
    raise TypeError(f"not an order event: {event!r}")


@attrs.frozen
class OrderBook:
    """Every order of an institute, by ``(kind, order number)`` (a pure value).

    An event for an order the book does not hold starts from the machine's initial state
    ``unknown``: a KMM delivery without its manifest is refused (``E304``), a ReKu delivery
    without its control file is parked (``E301``).

    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 12, 1, tzinfo=timezone.utc)
    >>> OrderBook().step(DeliveryVerified(order_number="K1", at=t, file_name="k.csv"))
    Traceback (most recent call last):
    ...
    emma_osplus._machine.TransitionRefused: E304: kmm-order: no manifest announced KMM order K1
    """

    orders: Mapping[tuple[str, str], Order] = attrs.field(factory=dict)

    def __len__(self) -> int:
        return len(self.orders)

    def __iter__(self) -> Iterator[Order]:
        return iter(self.orders.values())

    def get(self, kind: str, order_number: str) -> Order | None:
        """The order of that kind and number, or ``None``."""
        return self.orders.get((kind.upper(), str(order_number)))

    @property
    def parked(self) -> tuple[ParkedDelivery, ...]:
        """Every parked delivery of every order."""
        return tuple(p for o in self.orders.values() if isinstance(o, RekuOrder) for p in o.parked)

    def step(self, event: OrderEvent) -> OrderStep[OrderBook, Order]:
        """Apply *event* to its order: an :class:`OrderStep` whose ``state`` is the new book."""
        order = self.orders.get(event.order_key)
        if order is None:
            order = _new_order(event)
        if isinstance(order, KmmOrder) and isinstance(event, KmmEvent):
            inner: OrderStep[KmmOrder, KmmOrder] | OrderStep[RekuOrder, RekuOrder] = order.step(
                event
            )
        elif isinstance(order, RekuOrder) and isinstance(event, RekuEvent):
            inner = order.step(event)
        else:  # pragma: no cover - keys keep kinds apart
            raise TypeError(f"{event!r} does not belong to {order!r}")
        book = OrderBook({**self.orders, event.order_key: inner.order})
        return OrderStep(
            book,
            inner.order,
            inner.event,
            inner.kind,
            inner.outcome,
            inner.messages,
            inner.effects,
            inner.list_name,
            inner.released,
        )

    def apply(self, event: OrderEvent) -> OrderBook:
        """The book after *event* (raises :class:`TransitionRefused` if refused)."""
        return self.step(event).state

    def apply_all(self, events: Iterable[OrderEvent]) -> OrderBook:
        """The book after every event in turn (all or nothing)."""
        book = self
        for event in events:
            book = book.apply(event)
        return book

    @classmethod
    def replay(cls, events: Iterable[OrderEvent]) -> OrderBook:
        """A book built from a history of events: the same history gives the same book."""
        return cls().apply_all(events)
