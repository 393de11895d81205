"""The subscriber lists (*Abonnentenlisten*) of one EMMA account: a pure registry.

An EMMA account holds at most **150** subscriber lists.  Creating the 151st is refused (``E302``)
and leaves the registry unchanged, so nothing of the delivery is lost: the caller still holds
it.  From **135** lists on (90 % of the limit), every creation that leaves 135 or more lists
carries the warning ``W302``.  A list is named after its order (*Bezeichnung*), so its name
follows the order-name rule (``E303`` with a suggested safe spelling otherwise).

Each list is a small machine (:data:`SUBSCRIBER_LIST`): ``absent`` → ``open`` → ``frozen``.
The registry applies :class:`ListEvent` values and never changes in place: every step returns
a new :class:`ListRegistry` inside a :class:`ListChange` that says who was added, removed and
updated (by customer number).  A refusal raises
:class:`~emma_osplus._machine.TransitionRefused` and changes nothing.

Members are keyed by :class:`~emma_osplus.CustomerNumber` and keep their row values.  A
delivery (:meth:`ListRegistry.deliver`) either

* **replaces** the members of the list of that name when the name carries the
  :class:`UpdateMarker` (default: the suffix ``_UPDATE``), reporting who was added and removed,
* **fills** a continuous (ReKu / IAM) list with a ReKu / IAM delivery: new customers are
  added, a re-delivered customer is updated, never duplicated, or
* **creates** the list when there is none of that name.

>>> from datetime import datetime, timezone
>>> at = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
>>> lists = ListRegistry()
>>> change = lists.deliver("Newsletter_UPDATE", at=at, members=[Member("4711", {"EMAIL": "a@example.de"})])
>>> change.created, [str(c) for c in change.added]
(True, ['0000004711'])
>>> lists = change.registry
>>> change = lists.deliver("Newsletter_UPDATE", at=at, members=[Member("42", {"EMAIL": "b@example.de"})])
>>> change.created, [str(c) for c in change.added], [str(c) for c in change.removed]
(False, ['0000000042'], ['0000004711'])
>>> len(change.registry), sorted(str(c) for c in change.registry["Newsletter_UPDATE"].members)
(1, ['0000000042'])
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import ClassVar

import attrs

from ._errors import InvalidValueError
from ._machine import TransitionRefused, TransitionTable
from ._messages import Message, mask_addresses
from ._records import Record
from ._types import CustomerNumber, OrderName

__all__ = [
    "LIST_LIMIT",
    "LIST_WARNING",
    "SUBSCRIBER_LIST",
    "CreateList",
    "DeleteList",
    "FillList",
    "FreezeList",
    "ListChange",
    "ListEvent",
    "ListRegistry",
    "MarkerPosition",
    "Member",
    "ReplaceList",
    "SubscriberList",
    "UpdateMarker",
]

#: The most subscriber lists one EMMA account holds.
LIST_LIMIT = 150
#: From this many lists on (after the operation), creating a list warns ``W302``.
LIST_WARNING = 135

#: One subscriber list: created ``open``; ``frozen`` when its order was renamed or deleted (it
#: keeps its members and takes no new ones); ``delete`` removes it from the account.
SUBSCRIBER_LIST = TransitionTable(
    name="subscriber-list",
    initial="absent",
    transitions={
        ("absent", "create"): "open",
        ("open", "fill"): "open",
        ("open", "replace"): "open",
        ("open", "freeze"): "frozen",
        ("open", "delete"): "absent",
        ("frozen", "delete"): "absent",
    },
)


def check_aware(instance: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    """attrs validator: a timezone-aware :class:`~datetime.datetime` (time comes in on events)."""
    if not isinstance(value, datetime):
        raise TypeError(f"{attribute.name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be timezone-aware: {value!r}")


class MarkerPosition(enum.Enum):
    """Where the update marker must stand in a name."""

    SUFFIX = "suffix"
    PREFIX = "prefix"
    ANYWHERE = "anywhere"


def _check_marker_text(instance: UpdateMarker, attribute: attrs.Attribute[str], value: str) -> None:
    try:
        OrderName(value)
    except InvalidValueError as exc:
        raise ValueError(f"update marker {value!r} cannot occur in an order name") from exc


@attrs.frozen
class UpdateMarker:
    """The agreed string that makes a delivery *update* the list of its name.

    By default an order name ending in ``_UPDATE`` (case-sensitive) updates the list of that
    name: the delivery replaces its members.  Both the text and its position are settings.

    >>> UpdateMarker().matches("Newsletter_UPDATE"), UpdateMarker().matches("Newsletter_update")
    (True, False)
    >>> UpdateMarker("UPD-", MarkerPosition.PREFIX).matches("UPD-Newsletter")
    True
    """

    text: str = attrs.field(default="_UPDATE", validator=_check_marker_text)
    position: MarkerPosition = attrs.field(default=MarkerPosition.SUFFIX, converter=MarkerPosition)

    def matches(self, name: str) -> bool:
        """True when *name* carries the marker (and is more than the marker alone)."""
        if len(name) <= len(self.text):
            return False
        if self.position is MarkerPosition.SUFFIX:
            return name.endswith(self.text)
        if self.position is MarkerPosition.PREFIX:
            return name.startswith(self.text)
        return self.text in name


def _customer(value: object) -> CustomerNumber:
    return value if isinstance(value, CustomerNumber) else CustomerNumber(value)


def _values(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


@attrs.frozen(repr=False)
class Member:
    """One subscriber of a list: the customer number and the row's values.

    >>> Member(4711, {"EMAIL": "anna@example.de"})
    Member(customer='0000004711', values={'EMAIL': 'a***@example.de'})
    """

    customer: CustomerNumber = attrs.field(converter=_customer)
    values: Mapping[str, str] = attrs.field(factory=dict, converter=_values)

    @classmethod
    def from_record(cls, record: Record) -> Member:
        """The member for a subscriber-list :class:`~emma_osplus.Record` (its ``KUNDENNUMMER``).

        Raises :class:`~emma_osplus.InvalidValueError` (``E208``) when the record has none.
        """
        typed = record.typed.get("KUNDENNUMMER")
        if isinstance(typed, CustomerNumber):
            return cls(typed, record.values)
        text = record.values.get("KUNDENNUMMER")
        if not text:
            raise InvalidValueError(
                Message("E208", line=record.line, field="KUNDENNUMMER", raw=record.raw)
            )
        return cls(text, record.values)

    def __repr__(self) -> str:
        values = ", ".join(f"{k!r}: {mask_addresses(v)!r}" for k, v in self.values.items())
        return f"Member(customer={str(self.customer)!r}, values={{{values}}})"


def _members(value: Iterable[Member | Record]) -> tuple[Member, ...]:
    return tuple(m if isinstance(m, Member) else Member.from_record(m) for m in value)


@attrs.frozen(kw_only=True)
class ListEvent:
    """Base of the registry's events: the list's ``name`` and the time ``at`` (aware)."""

    KIND: ClassVar[str] = ""

    name: str
    at: datetime = attrs.field(validator=check_aware)

    @property
    def kind(self) -> str:
        """The event kind of :data:`SUBSCRIBER_LIST`."""
        return self.KIND


@attrs.frozen(kw_only=True)
class CreateList(ListEvent):
    """Create an empty list; ``continuous`` lists (ReKu / IAM) are filled by every delivery."""

    KIND: ClassVar[str] = "create"
    continuous: bool = False


@attrs.frozen(kw_only=True)
class FillList(ListEvent):
    """Add members; a customer already on the list is updated with the new values."""

    KIND: ClassVar[str] = "fill"
    members: tuple[Member, ...] = attrs.field(converter=_members)


@attrs.frozen(kw_only=True)
class ReplaceList(ListEvent):
    """Replace all members (a delivery under the update marker)."""

    KIND: ClassVar[str] = "replace"
    members: tuple[Member, ...] = attrs.field(converter=_members)


@attrs.frozen(kw_only=True)
class FreezeList(ListEvent):
    """Freeze the list: it keeps its members and refuses new ones."""

    KIND: ClassVar[str] = "freeze"


@attrs.frozen(kw_only=True)
class DeleteList(ListEvent):
    """Remove the list from the account (it no longer counts against the limit)."""

    KIND: ClassVar[str] = "delete"


@attrs.frozen
class SubscriberList:
    """One list: its name, state (``open`` or ``frozen``), kind and members by customer."""

    name: str
    created_at: datetime
    continuous: bool = False
    state: str = "open"
    members: Mapping[CustomerNumber, Member] = attrs.field(factory=dict)
    updated_at: datetime | None = None

    @property
    def frozen(self) -> bool:
        """True when the list takes no new members."""
        return self.state == "frozen"

    def __len__(self) -> int:
        return len(self.members)

    def __contains__(self, customer: object) -> bool:
        try:
            return _customer(customer) in self.members
        except InvalidValueError:
            return False


@attrs.frozen
class ListChange:
    """What one step did: the new registry, the list, the events applied and the members
    ``added``, ``removed`` and ``updated`` (customer numbers, in delivery or list order), with
    any warning (``W302``)."""

    registry: ListRegistry
    name: str
    events: tuple[ListEvent, ...]
    added: tuple[CustomerNumber, ...] = ()
    removed: tuple[CustomerNumber, ...] = ()
    updated: tuple[CustomerNumber, ...] = ()
    messages: tuple[Message, ...] = ()

    @property
    def created(self) -> bool:
        """True when this step created the list."""
        return any(isinstance(e, CreateList) for e in self.events)


def _refused(
    state: str, event: ListEvent, reason: str, message: Message | None = None
) -> Exception:
    if message is None:  # name taken, list unknown or frozen: the library's own code
        message = Message("E307", field="bezeichnung", raw=event.name, detail=reason)
    return TransitionRefused(SUBSCRIBER_LIST.name, state, event.kind, reason, message)


@attrs.frozen
class ListRegistry:
    """The subscriber lists of one EMMA account, by name (a pure value).

    ``marker`` is the :class:`UpdateMarker`; ``limit`` and ``warn_at`` are EMMA's 150 lists and
    the 90 % warning (settings only so that a different account size can be modelled).

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 12, 1, tzinfo=timezone.utc)
    >>> full = ListRegistry().apply_all(CreateList(name=f"L{i}", at=at) for i in range(150))
    >>> len(full)
    150
    >>> full.create("Runde_Geburtstage", at=at)
    Traceback (most recent call last):
    ...
    emma_osplus._machine.TransitionRefused: E302: subscriber-list: 150 lists, the limit is 150
    """

    lists: Mapping[str, SubscriberList] = attrs.field(factory=dict)
    marker: UpdateMarker = attrs.field(factory=UpdateMarker)
    limit: int = LIST_LIMIT
    warn_at: int = LIST_WARNING

    # -- queries -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.lists)

    def __contains__(self, name: object) -> bool:
        return name in self.lists

    def __getitem__(self, name: str) -> SubscriberList:
        return self.lists[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.lists)

    def state_of(self, name: str) -> str:
        """The state of the list *name* in :data:`SUBSCRIBER_LIST` (``absent`` if none)."""
        current = self.lists.get(name)
        return current.state if current is not None else SUBSCRIBER_LIST.initial

    def is_update(self, name: str) -> bool:
        """True when a delivery under *name* replaces the members of the list of that name."""
        return self.marker.matches(name)

    # -- the machine -------------------------------------------------------------------------

    def step(self, event: ListEvent) -> ListChange:
        """Apply one event; a :class:`ListChange`, or :class:`TransitionRefused` (no change)."""
        state = self.state_of(event.name)
        if (state, event.kind) not in SUBSCRIBER_LIST.transitions:
            raise self._not_allowed(state, event)
        current = self.lists.get(event.name)
        if isinstance(event, CreateList):
            return self._create(state, event)
        assert current is not None  # every other allowed event needs an existing list
        if isinstance(event, FillList):
            return self._fill(current, event)
        if isinstance(event, ReplaceList):
            return self._replace(current, event)
        if isinstance(event, FreezeList):
            frozen = attrs.evolve(current, state="frozen", updated_at=event.at)
            return ListChange(self._with(frozen), event.name, (event,))
        if isinstance(event, DeleteList):
            lists = {k: v for k, v in self.lists.items() if k != event.name}
            return ListChange(attrs.evolve(self, lists=lists), event.name, (event,))
        raise TypeError(f"not a subscriber-list event: {event!r}")

    def apply(self, event: ListEvent) -> ListRegistry:
        """The registry after *event* (raises :class:`TransitionRefused` if refused)."""
        return self.step(event).registry

    def apply_all(self, events: Iterable[ListEvent]) -> ListRegistry:
        """The registry after every event in turn; all or nothing (``self`` never changes)."""
        registry = self
        for event in events:
            registry = registry.apply(event)
        return registry

    @classmethod
    def replay(
        cls,
        events: Iterable[ListEvent],
        *,
        marker: UpdateMarker | None = None,
        limit: int = LIST_LIMIT,
        warn_at: int = LIST_WARNING,
    ) -> ListRegistry:
        """A new registry built from a history of events (the same history, the same state)."""
        start = cls(marker=marker or UpdateMarker(), limit=limit, warn_at=warn_at)
        return start.apply_all(events)

    # -- conveniences ------------------------------------------------------------------------

    def create(self, name: str, *, at: datetime, continuous: bool = False) -> ListChange:
        """:class:`CreateList`: ``E302`` at the limit, ``W302`` from 135, ``E303`` bad name."""
        return self.step(CreateList(name=name, at=at, continuous=continuous))

    def fill(self, name: str, *, at: datetime, members: Iterable[Member | Record]) -> ListChange:
        """:class:`FillList`: add members, update customers already on the list."""
        return self.step(FillList(name=name, at=at, members=_members(members)))

    def replace(self, name: str, *, at: datetime, members: Iterable[Member | Record]) -> ListChange:
        """:class:`ReplaceList`: the list's members become *members*."""
        return self.step(ReplaceList(name=name, at=at, members=_members(members)))

    def freeze(self, name: str, *, at: datetime) -> ListChange:
        """:class:`FreezeList`."""
        return self.step(FreezeList(name=name, at=at))

    def delete(self, name: str, *, at: datetime) -> ListChange:
        """:class:`DeleteList`."""
        return self.step(DeleteList(name=name, at=at))

    def deliver(
        self,
        name: str,
        *,
        at: datetime,
        members: Iterable[Member | Record],
        continuous: bool = False,
    ) -> ListChange:
        """Put a delivery's members on the list *name*, by the rules of the interface.

        ``continuous`` says whose delivery it is: ``True`` for a ReKu / IAM order (its list is
        filled continuously), ``False`` for a KMM order (one list per order).

        * *name* carries the update marker: the members **replace** those of the list (created
          first when there is none);
        * no list of that name: the list is **created** (``continuous`` as given) and filled;
        * a continuous list and a continuous delivery: the list is **filled** (new customers
          added, re-delivered ones updated, never duplicated);
        * any other open list without the marker: refused, the name is taken (a KMM order
          names itself with the update marker to update the list of its name);
        * a frozen list: refused.

        The change's ``events`` are the primitive events applied (a history to replay).
        """
        batch = _members(members)
        current = self.lists.get(name)
        update = self.is_update(name)
        taken = current is not None and not (current.continuous and continuous)
        if current is not None and current.state == "open" and not update and taken:
            owner = "continuous (ReKu/IAM)" if current.continuous else "one-off (KMM)"
            raise _refused(
                current.state,
                FillList(name=name, at=at, members=()),
                f"a {owner} subscriber list named {name!r} exists already; an order name "
                f"with the update marker {self.marker.text!r} ({self.marker.position.value}) "
                "updates it",
            )
        first: ListChange | None = None
        registry = self
        if current is None:
            first = self.create(name, at=at, continuous=continuous)
            registry = first.registry
        second = (
            registry.replace(name, at=at, members=batch)
            if update
            else registry.fill(name, at=at, members=batch)
        )
        if first is None:
            return second
        return attrs.evolve(
            second,
            events=first.events + second.events,
            messages=first.messages + second.messages,
        )

    # -- internals ---------------------------------------------------------------------------

    def _with(self, lst: SubscriberList) -> ListRegistry:
        return attrs.evolve(self, lists={**self.lists, lst.name: lst})

    def _not_allowed(self, state: str, event: ListEvent) -> Exception:
        if event.kind == "create":
            hint = ""
            if not self.is_update(event.name):
                hint = f"; an order name with the update marker {self.marker.text!r} updates a list"
            return _refused(
                state, event, f"a subscriber list named {event.name!r} exists already{hint}"
            )
        if state == "absent":
            return _refused(state, event, f"no subscriber list named {event.name!r}")
        if state == "frozen" and event.kind in ("fill", "replace"):
            return _refused(
                state,
                event,
                f"subscriber list {event.name!r} is frozen (its order was renamed or deleted) "
                "and takes no new members",
            )
        return _refused(state, event, f"event {event.kind!r} is not allowed in state {state!r}")

    def _create(self, state: str, event: CreateList) -> ListChange:
        try:
            OrderName(event.name)
        except InvalidValueError as exc:
            raise _refused(
                state, event, f"{event.name!r} is not a valid list name", exc.message
            ) from None
        count = len(self.lists)
        if count >= self.limit:
            message = Message(
                "E302",
                field="bezeichnung",
                raw=event.name,
                detail=f"{count} lists in the account, the limit is {self.limit}",
            )
            raise _refused(state, event, f"{count} lists, the limit is {self.limit}", message)
        lst = SubscriberList(name=event.name, created_at=event.at, continuous=event.continuous)
        messages: tuple[Message, ...] = ()
        if count + 1 >= self.warn_at:
            messages = (
                Message(
                    "W302",
                    field="bezeichnung",
                    raw=event.name,
                    detail=f"{count + 1} of {self.limit} subscriber lists in the account",
                ),
            )
        return ListChange(self._with(lst), event.name, (event,), messages=messages)

    def _fill(self, current: SubscriberList, event: FillList) -> ListChange:
        members = dict(current.members)
        added: dict[CustomerNumber, None] = {}
        updated: dict[CustomerNumber, None] = {}
        for member in event.members:
            if member.customer not in members:
                added[member.customer] = None
            elif member.customer not in added:
                updated[member.customer] = None
            members[member.customer] = member
        lst = attrs.evolve(current, members=members, updated_at=event.at)
        return ListChange(
            self._with(lst), event.name, (event,), added=tuple(added), updated=tuple(updated)
        )

    def _replace(self, current: SubscriberList, event: ReplaceList) -> ListChange:
        members = {m.customer: m for m in event.members}
        old = current.members
        added = tuple(c for c in members if c not in old)
        removed = tuple(c for c in old if c not in members)
        updated = tuple(c for c in members if c in old)
        lst = attrs.evolve(current, members=members, updated_at=event.at)
        return ListChange(
            self._with(lst), event.name, (event,), added=added, removed=removed, updated=updated
        )
