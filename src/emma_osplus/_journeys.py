"""Customer journeys (*Digitale Kundenstrecken*): several mailings at fixed intervals after a
customer enters; two pure machines, :data:`JOURNEY` (the journey: ``draft`` → ``running`` ↔
``paused`` → ``ended``) and :data:`JOURNEY_SUBSCRIBER` (each subscriber: ``new`` → ``active`` →
``completed`` or ``left``).

The classes are named ``Journey…`` *plus a word* so that they do not clash with the catalogue's
:class:`~emma_osplus.Journey` (a row of ``customer_journeys.csv``: name and selection, no steps):

* :class:`JourneyStep` and :class:`JourneyPlan`: the base settings, a mailing per step and the
  days after the previous step (the first step counts from the entry);
* :class:`JourneyVersion`: a plan with its number and the time it took effect;
* :class:`JourneyRun`: one journey with its state, its versions and its subscribers
  (:class:`JourneySubscriber`); :meth:`JourneyRun.due` says which sends (:class:`DueSend`) are
  due at a time.

Events carry the time ``at`` (keyword, timezone-aware): :class:`PlanEdited`,
:class:`JourneyStarted`, :class:`PlanRevised`, :class:`JourneyPaused`, :class:`JourneyResumed`,
:class:`JourneyEnded` for the journey, :class:`Entered`, :class:`StepSent` and :class:`Left` for
its subscribers.  :meth:`JourneyRun.step` returns a :class:`JourneyUpdate` with the new run, or
raises :class:`~emma_osplus._machine.TransitionRefused` and changes nothing.

The rules (BEHAVIOUR.md, *Campaigns and journeys*):

* **Fixed schedule.**  Step *n* of a subscriber is due at the entry time plus the sum of the
  intervals of steps 1 … *n* (calendar days in the entry time's zone).  It does not depend on
  when earlier steps were sent, so :meth:`~JourneyRun.due` gives the same sends whether it is
  asked once for a late time or in many small steps.  Nothing is due while the journey is not
  ``running``; after a pause the sends that fell due meanwhile are due (with their own
  ``due_at``).
* **No step twice.**  Recording a send (:class:`StepSent`) marks the step done; the same step
  again is refused.
* **Leaving is for good.**  A subscriber who unsubscribes, hard-bounces or is withheld (or
  objects) leaves (:class:`Left`); nothing is due for them afterwards, a send for them is
  refused, and a later delivery does not bring them back.  A :class:`Left` for a customer the
  journey does not know yet is recorded too, so that a delivery arriving later cannot enter them.
* **No restart.**  A customer enters a journey once: delivering them again (while under way,
  after completing or after leaving) is *reported* in the update (``applied=False``, with the
  reason), not applied.  A repeated :class:`Left` is reported the same way.
* **Versions.**  A draft's plan is edited in place (:class:`PlanEdited`).  Once started, the base
  settings cannot be changed in place: :class:`PlanRevised` adds a new version that only new
  entrants get; everyone keeps the version they entered with (:meth:`JourneyRun.version_of`).
* **Complete plans only.**  Starting or revising needs at least one step and a mailing in every
  step (``E208``, the refusal names the step).

>>> from datetime import datetime, timedelta, timezone
>>> t0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
>>> plan = JourneyPlan.fixed(["M-WELCOME", "M-APP", "M-CARD"], every=7)
>>> plan
JourneyPlan(day 0: M-WELCOME, day 7: M-APP, day 14: M-CARD)
>>> print(plan.table())
step  day  interval  mailing
1     0    0         M-WELCOME
2     7    7         M-APP
3     14   7         M-CARD
>>> run = JourneyRun("Neukunde Privatgirokonto", plan).apply_all([
...     JourneyStarted(at=t0),
...     Entered("4711", "anna.schmidt@example.de", at=t0),
... ])
>>> run.due(t0 + timedelta(days=8))
[DueSend('0000004711', 1, 'M-WELCOME', '2026-12-01T08:00:00+00:00'), DueSend('0000004711', 2, 'M-APP', '2026-12-08T08:00:00+00:00')]
>>> run = run.apply(StepSent("4711", 1, at=t0))
>>> update = run.step(Entered("4711", "anna.schmidt@example.de", at=t0 + timedelta(days=3)))
>>> update.applied, update.reason
(False, 'customer 0000004711 is already in the journey (version 1, entered 2026-12-01T08:00:00+00:00): a re-delivery does not restart it')
>>> run = run.apply(Left("4711", "unsubscribed", at=t0 + timedelta(days=4)))
>>> run.due(t0 + timedelta(days=30))
[]
"""

from __future__ import annotations

import enum
import html
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

import attrs

from ._campaigns import Block, Campaign, SendBlock, StartBlock, WaitBlock, check_aware
from ._email import EmailAddress, matching_key
from ._errors import InvalidValueError
from ._frozenmap import FrozenMap
from ._machine import TransitionRefused, TransitionTable
from ._messages import Message, mask_addresses
from ._registry import Journey, Mailings, Registry, Selection, default_registry
from ._types import CustomerNumber, MailingId, OccasionCode, OrderName

if TYPE_CHECKING:
    from ._events import ResponseEvent
    from ._suppression import Row

__all__ = [
    "JOURNEY",
    "JOURNEY_SUBSCRIBER",
    "DueSend",
    "Entered",
    "JourneyEnded",
    "JourneyEvent",
    "JourneyPaused",
    "JourneyPlan",
    "JourneyResumed",
    "JourneyRun",
    "JourneyStarted",
    "JourneyStep",
    "JourneySubscriber",
    "JourneyUpdate",
    "JourneyVersion",
    "LeaveReason",
    "Left",
    "PlanEdited",
    "PlanRevised",
    "StepSent",
    "journey_templates",
]

#: The journey itself.  The plan is edited in place only in ``draft``; ``revise`` (a new
#: version for new entrants) in ``running`` and ``paused``.  Subscribers enter, are sent to and
#: leave while the journey is ``running`` or ``paused`` (nothing is due while paused).
JOURNEY = TransitionTable(
    name="journey",
    initial="draft",
    transitions={
        ("draft", "edit"): "draft",
        ("draft", "start"): "running",
        ("draft", "end"): "ended",
        ("running", "revise"): "running",
        ("running", "enter"): "running",
        ("running", "send"): "running",
        ("running", "leave"): "running",
        ("running", "pause"): "paused",
        ("running", "end"): "ended",
        ("paused", "revise"): "paused",
        ("paused", "enter"): "paused",
        ("paused", "send"): "paused",
        ("paused", "leave"): "paused",
        ("paused", "resume"): "running",
        ("paused", "end"): "ended",
    },
    final=frozenset({"ended"}),
)

#: One subscriber of a journey.  ``send_last`` is a send that completes the subscriber's steps.
#: ``completed`` and ``left`` accept nothing: a re-delivery (``enter``) or a repeated ``leave``
#: there is reported, not applied.
JOURNEY_SUBSCRIBER = TransitionTable(
    name="journey-subscriber",
    initial="new",
    transitions={
        ("new", "enter"): "active",
        ("new", "leave"): "left",
        ("active", "send"): "active",
        ("active", "send_last"): "completed",
        ("active", "leave"): "left",
    },
    final=frozenset({"completed", "left"}),
)

_SUBSCRIBER_KINDS = frozenset({"enter", "send", "leave"})


# -- values -------------------------------------------------------------------------------------


def _refuse_value(code: str, field: str, raw: object, detail: str) -> InvalidValueError:
    text = raw if isinstance(raw, str) else repr(raw)
    return InvalidValueError(Message(code, field=field, raw=text, detail=detail))


def _days(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _refuse_value("E209", attribute.name, value, "expected whole days")
    if value < 0:
        raise _refuse_value("E209", attribute.name, value, "must be 0 or more")


def _step_number(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _refuse_value("E209", attribute.name, value, "steps are numbered from 1")


def _mailing(value: str | MailingId | None) -> MailingId | None:
    if value is None or isinstance(value, MailingId):
        return value
    return MailingId(value)


def _customer(value: str | int | CustomerNumber) -> CustomerNumber:
    return value if isinstance(value, CustomerNumber) else CustomerNumber(value)


def _address_key(value: str | EmailAddress) -> str:
    if isinstance(value, EmailAddress):
        return value.matching_key
    if isinstance(value, str):
        return matching_key(value)  # E201 for something that is no address
    raise _refuse_value("E201", "EMAIL", value, "expected an address or its matching key")


def _masked(value: object) -> str:
    return repr(mask_addresses(str(value)))


def _iso(value: datetime) -> str:
    return value.isoformat()


@attrs.frozen(repr=False)
class JourneyStep:
    """One step of a plan: its mailing (``None`` until chosen) and the whole days after the
    previous step (for the first step: after the entry).

    >>> JourneyStep("M-APP", 7), JourneyStep(interval_days=3)
    (JourneyStep('M-APP', interval_days=7), JourneyStep(None, interval_days=3))
    """

    mailing: MailingId | None = attrs.field(default=None, converter=_mailing)
    interval_days: int = attrs.field(default=0, validator=_days)

    def __repr__(self) -> str:
        mailing = None if self.mailing is None else str(self.mailing)
        return f"JourneyStep({mailing!r}, interval_days={self.interval_days})"


def _steps(value: Iterable[JourneyStep]) -> tuple[JourneyStep, ...]:
    steps = tuple(value)
    for step in steps:
        if not isinstance(step, JourneyStep):
            raise _refuse_value("E209", "steps", step, "expected JourneyStep values")
    return steps


@attrs.frozen(repr=False)
class JourneyPlan:
    """The base settings of a journey (one version): its steps.

    ``offsets`` are the days from the entry to each step.  :attr:`problems` says what keeps the
    plan from being started (``E208``: no step, or a step without a mailing).

    >>> plan = JourneyPlan([JourneyStep("M-1", 0), JourneyStep(None, 14)])
    >>> plan.offsets, [m.detail for m in plan.problems]
    ((0, 14), ['step 2 has no mailing'])
    """

    steps: tuple[JourneyStep, ...] = attrs.field(default=(), converter=_steps)

    @classmethod
    def fixed(
        cls, mailings: Iterable[str | MailingId | None], *, every: int, first: int = 0
    ) -> JourneyPlan:
        """A plan that sends *mailings* one after the other, the first *first* days after the
        entry and each further one *every* days after the previous.

        >>> JourneyPlan.fixed(["M-1", "M-2"], every=30, first=2).offsets
        (2, 32)
        """
        return cls(JourneyStep(m, first if i == 0 else every) for i, m in enumerate(mailings))

    @property
    def offsets(self) -> tuple[int, ...]:
        """Days from the entry to each step (running sums of the intervals)."""
        total, found = 0, []
        for step in self.steps:
            total += step.interval_days
            found.append(total)
        return tuple(found)

    @property
    def mailings(self) -> tuple[MailingId | None, ...]:
        """The mailing of each step (``None`` where none is chosen yet)."""
        return tuple(s.mailing for s in self.steps)

    @property
    def problems(self) -> tuple[Message, ...]:
        """What keeps the plan from being started or becoming a version (``E208``)."""
        if not self.steps:
            return (Message("E208", field="steps", detail="the journey has no steps"),)
        return tuple(
            Message("E208", field=MailingId.FIELD, detail=f"step {n} has no mailing")
            for n, step in enumerate(self.steps, start=1)
            if step.mailing is None
        )

    @property
    def complete(self) -> bool:
        """True when :attr:`problems` is empty."""
        return not self.problems

    def to_campaign(self, name: str, list_name: str | OrderName | None = None) -> Campaign:
        """The plan as a draft :class:`~emma_osplus._campaigns.Campaign`: the start block
        (*list_name*), then per step a wait block (where its interval is not 0) and a send
        block.

        >>> JourneyPlan.fixed(["M-1", "M-2"], every=7).to_campaign("Onboarding", "Neukunden")
        Campaign 'Onboarding' (draft)
          1  start  list Neukunden
          2  send   mailing M-1
          3  wait   7 days
          4  send   mailing M-2
        """
        blocks: list[Block] = [StartBlock(list_name)]
        for step in self.steps:
            if step.interval_days:
                blocks.append(WaitBlock(step.interval_days))
            blocks.append(SendBlock(step.mailing))
        return Campaign(name, blocks)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """One ``(step, day, interval, mailing)`` row per step."""
        return [
            (str(n), str(offset), str(step.interval_days), str(step.mailing or "-"))
            for n, (step, offset) in enumerate(zip(self.steps, self.offsets, strict=True), start=1)
        ]

    _HEADERS: ClassVar[tuple[str, str, str, str]] = ("step", "day", "interval", "mailing")

    def table(self) -> str:
        """The steps as a text table (step, day from the entry, interval, mailing)."""
        table = [self._HEADERS, *self.rows()]
        widths = [max(len(r[i]) for r in table) for i in range(4)]
        return "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in table
        )

    def __repr__(self) -> str:
        steps = ", ".join(
            f"day {offset}: {step.mailing or '(no mailing)'}"
            for step, offset in zip(self.steps, self.offsets, strict=True)
        )
        return f"JourneyPlan({steps or 'no steps'})"

    def _repr_html_(self) -> str:
        return _html_table(self._HEADERS, self.rows(), f"{len(self.steps)} steps")


def _html_table(headers: Sequence[str], rows: Iterable[Sequence[str]], caption: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return (
        f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


@attrs.frozen
class JourneyVersion:
    """Version ``number`` (from 1) of a journey's base settings, in effect from ``since``."""

    number: int
    plan: JourneyPlan
    since: datetime = attrs.field(validator=check_aware)


class LeaveReason(enum.Enum):
    """Why a subscriber left a journey."""

    UNSUBSCRIBED = "unsubscribed"
    HARD_BOUNCE = "hard_bounce"
    WITHHELD = "withheld"
    OBJECTED = "objected"


def _reason(value: str | LeaveReason) -> LeaveReason:
    if isinstance(value, LeaveReason):
        return value
    try:
        return LeaveReason(value)
    except ValueError:
        allowed = ", ".join(r.value for r in LeaveReason)
        raise _refuse_value("E207", "reason", value, f"allowed: {allowed}") from None


@attrs.frozen(repr=False)
class DueSend:
    """A send that is due: step ``step`` (from 1) of the subscriber's version, its mailing, and
    when it fell due; ``version`` and ``address_key`` (the matching key of the address the
    customer entered with) say which plan and where.  Recording it is :meth:`as_sent`."""

    customer: CustomerNumber
    step: int
    mailing: MailingId
    due_at: datetime
    version: int = attrs.field(default=1, kw_only=True)
    address_key: str = attrs.field(default="", kw_only=True, eq=False)

    def as_sent(self, at: datetime) -> StepSent:
        """The :class:`StepSent` that records this send at *at*."""
        return StepSent(self.customer, self.step, at=at)

    def __repr__(self) -> str:
        return (
            f"DueSend({str(self.customer)!r}, {self.step}, {str(self.mailing)!r}, "
            f"{_iso(self.due_at)!r})"
        )


# -- events -------------------------------------------------------------------------------------


@attrs.frozen
class JourneyEvent:
    """Base of the journey events; ``at`` (keyword, timezone-aware) is when it happened."""

    KIND: ClassVar[str] = ""
    at: datetime = attrs.field(kw_only=True, validator=check_aware)

    @property
    def kind(self) -> str:
        """The event kind in :data:`JOURNEY`."""
        return self.KIND


@attrs.frozen
class PlanEdited(JourneyEvent):
    """Replace the plan of a draft journey (in place: nobody is in it yet)."""

    KIND: ClassVar[str] = "edit"
    plan: JourneyPlan


@attrs.frozen
class JourneyStarted(JourneyEvent):
    """Start a draft journey: its plan becomes version 1 (refused, ``E208``, while incomplete)."""

    KIND: ClassVar[str] = "start"


@attrs.frozen
class PlanRevised(JourneyEvent):
    """Change the base settings of a started journey: a new version for new entrants only
    (refused, ``E208``, while the plan is incomplete)."""

    KIND: ClassVar[str] = "revise"
    plan: JourneyPlan


@attrs.frozen
class JourneyPaused(JourneyEvent):
    """Pause a running journey (nothing is due while paused)."""

    KIND: ClassVar[str] = "pause"


@attrs.frozen
class JourneyResumed(JourneyEvent):
    """Resume a paused journey."""

    KIND: ClassVar[str] = "resume"


@attrs.frozen
class JourneyEnded(JourneyEvent):
    """End the journey (from a draft: discard it).  ``ended`` is final."""

    KIND: ClassVar[str] = "end"


@attrs.frozen(repr=False)
class Entered(JourneyEvent):
    """A delivery brought the customer into the journey, with the matching key of their
    address (an :class:`~emma_osplus.EmailAddress` or text is turned into its key; ``repr``
    masks it)."""

    KIND: ClassVar[str] = "enter"
    customer: CustomerNumber = attrs.field(converter=_customer)
    address_key: str = attrs.field(converter=_address_key)

    @classmethod
    def from_row(cls, row: Row, *, at: datetime) -> Entered:
        """The entry for a delivered subscriber row (a :class:`~emma_osplus.Record` or a
        mapping with ``KUNDENNUMMER`` and ``EMAIL``).

        >>> from datetime import datetime, timezone
        >>> Entered.from_row({"KUNDENNUMMER": "4711", "EMAIL": "Anna@Example.DE"},
        ...                  at=datetime(2026, 12, 1, tzinfo=timezone.utc))
        Entered('0000004711', 'a***@example.de', at='2026-12-01T00:00:00+00:00')
        """
        from ._suppression import read_row  # noqa: PLC0415  (keeps the import graph flat)

        customer, email = read_row(row)
        return cls(customer, email, at=at)

    def __repr__(self) -> str:
        return f"Entered({str(self.customer)!r}, {_masked(self.address_key)}, at={_iso(self.at)!r})"


@attrs.frozen(repr=False)
class StepSent(JourneyEvent):
    """Step ``step`` (from 1) was sent to the customer: it is done and never due again.  (Named
    ``StepSent`` so as not to clash with the response event ``Sent``.)"""

    KIND: ClassVar[str] = "send"
    customer: CustomerNumber = attrs.field(converter=_customer)
    step: int = attrs.field(validator=_step_number)

    def __repr__(self) -> str:
        return f"StepSent({str(self.customer)!r}, {self.step}, at={_iso(self.at)!r})"


_BY_RESPONSE = {
    "unsubscribed": LeaveReason.UNSUBSCRIBED,
    "hard_bounce": LeaveReason.HARD_BOUNCE,
    "withheld": LeaveReason.WITHHELD,
}


@attrs.frozen(repr=False)
class Left(JourneyEvent):
    """The customer left the journey (unsubscribed, hard bounce, withheld, objected): nothing
    is due for them afterwards and they never enter again."""

    KIND: ClassVar[str] = "leave"
    customer: CustomerNumber = attrs.field(converter=_customer)
    reason: LeaveReason = attrs.field(converter=_reason)

    @classmethod
    def from_response(cls, response: ResponseEvent) -> Left:
        """The leave for an EMMA response :class:`~emma_osplus._events.Unsubscribed`,
        :class:`~emma_osplus._events.HardBounce` or :class:`~emma_osplus._events.Withheld`
        (other responses raise :class:`ValueError`)."""
        reason = _BY_RESPONSE.get(response.KIND)
        if reason is None:
            raise ValueError(f"a {response.KIND!r} response does not make a customer leave")
        return cls(response.customer, reason, at=response.at)

    def __repr__(self) -> str:
        return f"Left({str(self.customer)!r}, {self.reason.value!r}, at={_iso(self.at)!r})"


# -- subscribers --------------------------------------------------------------------------------


@attrs.frozen(repr=False)
class JourneySubscriber:
    """One customer of a journey: state in :data:`JOURNEY_SUBSCRIBER`, the version and time
    they entered with, their address key, the steps sent (``(step, at)`` in step order) and,
    once they left, when and why.  A customer who left before entering has no version."""

    customer: CustomerNumber
    state: str
    version: int | None = None
    entered_at: datetime | None = None
    address_key: str | None = None
    sent: tuple[tuple[int, datetime], ...] = ()
    left_at: datetime | None = None
    left_reason: LeaveReason | None = None

    @property
    def sent_steps(self) -> frozenset[int]:
        """The numbers of the steps sent."""
        return frozenset(n for n, _ in self.sent)

    def __repr__(self) -> str:
        parts = [repr(str(self.customer)), repr(self.state)]
        if self.version is not None:
            parts.append(f"version={self.version}")
        if self.address_key is not None:
            parts.append(f"address={_masked(self.address_key)}")
        if self.sent:
            parts.append(f"sent={tuple(n for n, _ in self.sent)!r}")
        if self.left_reason is not None:
            parts.append(f"left={self.left_reason.value!r}")
        return f"JourneySubscriber({', '.join(parts)})"


def _subscribers(
    value: Mapping[CustomerNumber, JourneySubscriber],
) -> Mapping[CustomerNumber, JourneySubscriber]:
    if isinstance(value, FrozenMap):
        return value
    return FrozenMap(value)


def _versions(value: Iterable[JourneyVersion]) -> tuple[JourneyVersion, ...]:
    return tuple(value)


def _selection(value: Selection | str | None) -> Selection | None:
    if value is None or isinstance(value, Selection):
        return value
    return Selection(value)


def _occasions(value: Iterable[str | OccasionCode]) -> tuple[OccasionCode, ...]:
    return tuple(v if isinstance(v, OccasionCode) else OccasionCode(v) for v in value)


def _name(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise _refuse_value("E209", "name", value, f"expected text, got {type(value).__name__}")
    if not value.strip():
        raise _refuse_value("E208", "name", value, "empty value")


@attrs.frozen
class JourneyUpdate:
    """The result of one event: the new ``run`` and the event ``kind`` (of
    :data:`JOURNEY_SUBSCRIBER` for subscriber events, else of :data:`JOURNEY`).

    ``applied`` is ``False`` for what is reported but not applied (a re-delivery, a repeated
    leave); ``reason`` says why.  ``version`` is the version a new entrant got or a revision
    made."""

    run: JourneyRun
    event: JourneyEvent
    kind: str
    applied: bool = True
    reason: str | None = None
    version: int | None = None

    @property
    def redelivered(self) -> bool:
        """True for a delivery of a customer the journey already knows (not applied)."""
        return isinstance(self.event, Entered) and not self.applied


def _refusal(
    table: TransitionTable, state: str, kind: str, reason: str, message: Message | None = None
) -> TransitionRefused:
    return TransitionRefused(table.name, state, kind, reason, message)


def _plan_refusal(state: str, kind: str, plan: JourneyPlan) -> TransitionRefused | None:
    problems = plan.problems
    if not problems:
        return None
    reason = "; ".join(p.detail or p.text for p in problems)
    return _refusal(JOURNEY, state, kind, reason, problems[0])


@attrs.frozen(repr=False)
class JourneyRun:
    """One journey: name, the plan new entrants get, how it selects customers (from the
    catalogue, optional), state, versions and subscribers (by customer number).

    A draft has no versions and no subscribers; a started journey has at least one version and
    its ``plan`` is the latest version's.

    >>> run = JourneyRun.from_template("Neukunde Privatgirokonto")
    >>> run
    <JourneyRun 'Neukunde Privatgirokonto' (ReKu AC120) draft: 0 steps, 0 subscribers>
    >>> run.suggested_mailings()
    provider  title            occasions
    S-Com     Neues Girokonto  AC120
    LBS       Neues Girokonto  AC120
    (2 mailings)
    """

    name: str = attrs.field(validator=_name)
    plan: JourneyPlan = attrs.field(factory=JourneyPlan)
    selection: Selection | None = attrs.field(default=None, converter=_selection, kw_only=True)
    occasions: tuple[OccasionCode, ...] = attrs.field(
        default=(), converter=_occasions, kw_only=True
    )
    note: str = attrs.field(default="", kw_only=True)
    state: str = attrs.field(default=JOURNEY.initial, kw_only=True)
    versions: tuple[JourneyVersion, ...] = attrs.field(
        default=(), converter=_versions, kw_only=True
    )
    subscribers: Mapping[CustomerNumber, JourneySubscriber] = attrs.field(
        factory=dict, converter=_subscribers, kw_only=True, hash=False
    )

    def __attrs_post_init__(self) -> None:
        self._check_shape()
        for customer, subscriber in self.subscribers.items():
            self._check_subscriber(customer, subscriber)

    def _check_shape(self) -> None:
        """The state, the versions and the plan agree (what a step can change but the
        subscribers)."""
        if self.state not in JOURNEY.states:
            raise ValueError(f"unknown journey state {self.state!r}")
        started = self.state != "draft"
        if self.state == "ended" and not self.versions:
            started = False  # a discarded draft
        if not started and (self.versions or self.subscribers):
            raise ValueError("a journey that never started has no versions and no subscribers")
        if started:
            if not self.versions:
                raise ValueError(f"a {self.state} journey has at least one version")
            numbers = [v.number for v in self.versions]
            if numbers != list(range(1, len(numbers) + 1)):
                raise ValueError(f"versions must be numbered 1, 2, …: {numbers}")
            if self.versions[-1].plan != self.plan:
                raise ValueError("the plan of a started journey is its latest version's")
            for version in self.versions:
                if version.plan.problems:
                    raise InvalidValueError(*version.plan.problems)

    def _check_subscriber(self, customer: CustomerNumber, subscriber: JourneySubscriber) -> None:
        if customer != subscriber.customer:
            raise ValueError(f"subscriber {subscriber.customer} filed under {customer}")
        if subscriber.version is not None and not 1 <= subscriber.version <= len(self.versions):
            raise ValueError(f"subscriber {customer}: no version {subscriber.version}")

    # -- templates ----------------------------------------------------------------------------

    @classmethod
    def from_template(
        cls,
        template: Journey | str,
        plan: JourneyPlan | None = None,
        *,
        registry: Registry | None = None,
    ) -> JourneyRun:
        """A draft journey from a catalogue journey (``customer_journeys.csv``), given as a
        :class:`~emma_osplus.Journey` or by name (``E207`` for a name the registry does not
        know).  The catalogue has no steps: pass *plan* or complete it with
        :class:`PlanEdited`; :meth:`suggested_mailings` lists the partners' mailings for its
        occasions."""
        if isinstance(template, str):
            known = (registry or default_registry()).journeys
            found = next((j for j in known if j.name == template), None)
            if found is None:
                names = ", ".join(j.name for j in known)
                raise _refuse_value("E207", "journey", template, f"known journeys: {names}")
            template = found
        return cls(
            template.name,
            plan or JourneyPlan(),
            selection=template.selection,
            occasions=template.occasions,
            note=template.note,
        )

    def suggested_mailings(self, registry: Registry | None = None) -> Mailings:
        """The catalogue's mailings for the journey's occasions, each once, in catalogue order
        (empty for a KMM journey).  They name a provider and title, not an EMMA mailing id:
        choose the mailings to put into the plan."""
        reg = registry or default_registry()
        wanted = {id(m) for code in self.occasions for m in reg.mailings_for(code)}
        return Mailings(m for m in reg.mailings if id(m) in wanted)

    # -- queries ------------------------------------------------------------------------------

    @property
    def current_version(self) -> JourneyVersion | None:
        """The version new entrants get (``None`` before the start)."""
        return self.versions[-1] if self.versions else None

    def version(self, number: int) -> JourneyVersion:
        """Version *number* (from 1)."""
        if not 1 <= number <= len(self.versions):
            raise KeyError(f"no version {number}; the journey has {len(self.versions)}")
        return self.versions[number - 1]

    def subscriber(self, customer: str | int | CustomerNumber) -> JourneySubscriber | None:
        """The subscriber record of *customer*, or ``None``."""
        return self.subscribers.get(_customer(customer))

    def version_of(self, customer: str | int | CustomerNumber) -> JourneyVersion | None:
        """The version *customer* entered with (``None`` if they never entered)."""
        found = self.subscriber(customer)
        if found is None or found.version is None:
            return None
        return self.versions[found.version - 1]

    def entrants(self, number: int) -> tuple[CustomerNumber, ...]:
        """The customers who entered with version *number*, sorted."""
        return tuple(sorted(c for c, s in self.subscribers.items() if s.version == number))

    def counts(self) -> dict[str, int]:
        """How many subscribers are in each state (only states that occur)."""
        found: dict[str, int] = {}
        for s in self.subscribers.values():
            found[s.state] = found.get(s.state, 0) + 1
        return {state: found[state] for state in JOURNEY_SUBSCRIBER.states if state in found}

    def customers_with(self, address_key: str | EmailAddress) -> tuple[CustomerNumber, ...]:
        """The customers who entered with this address (its matching key), sorted."""
        key = _address_key(address_key)
        return tuple(sorted(c for c, s in self.subscribers.items() if s.address_key == key))

    def _sends(self, subscriber: JourneySubscriber) -> Iterator[DueSend]:
        """Every unsent step of an active subscriber, in step order."""
        if subscriber.state != "active":
            return
        assert subscriber.version is not None
        assert subscriber.entered_at is not None
        plan = self.versions[subscriber.version - 1].plan
        done = subscriber.sent_steps
        for number, (step, offset) in enumerate(
            zip(plan.steps, plan.offsets, strict=True), start=1
        ):
            if number in done:
                continue
            assert step.mailing is not None  # versions are complete plans
            yield DueSend(
                subscriber.customer,
                number,
                step.mailing,
                subscriber.entered_at + timedelta(days=offset),
                version=subscriber.version,
                address_key=subscriber.address_key or "",
            )

    def schedule(self, customer: str | int | CustomerNumber) -> list[DueSend]:
        """Every step still to send to *customer*, with the time it falls due (empty when they
        are not active), whatever the journey's state."""
        found = self.subscriber(customer)
        return [] if found is None else list(self._sends(found))

    def due(self, at: datetime) -> list[DueSend]:
        """The sends due at *at* (timezone-aware): for every active subscriber, each step not
        sent yet whose due time is not after *at*; sorted by due time, customer and step.
        Empty unless the journey is ``running``.  Asking does not change anything: record each
        send with :class:`StepSent` (:meth:`DueSend.as_sent`)."""
        check_aware(self, attrs.fields(JourneyEvent).at, at)
        if self.state != "running":
            return []
        found: list[DueSend] = []
        for subscriber in self.subscribers.values():
            for send in self._sends(subscriber):
                if send.due_at > at:
                    break  # offsets only grow
                found.append(send)
        found.sort(key=lambda d: (d.due_at, d.customer.value, d.step))
        return found

    # -- the machines -------------------------------------------------------------------------

    def step(self, event: JourneyEvent) -> JourneyUpdate:
        """Apply *event*: a :class:`JourneyUpdate`, or
        :class:`~emma_osplus._machine.TransitionRefused` (nothing changes)."""
        work = _Work(self)
        kind, applied, reason, version = work.feed(event)
        return JourneyUpdate(work.freeze(), event, kind, applied, reason, version)

    def apply(self, event: JourneyEvent) -> JourneyRun:
        """The run after *event* (a re-delivery or repeated leave leaves it as it is)."""
        return self.step(event).run

    def apply_all(self, events: Iterable[JourneyEvent]) -> JourneyRun:
        """The run after every event in order (the first refusal raises).  Replaying the same
        events gives the same run as :meth:`apply` one by one, and makes one run instead of
        one per event."""
        work = _Work(self)
        for event in events:
            work.feed(event)
        return work.freeze()

    # -- display ------------------------------------------------------------------------------

    def _title(self) -> str:
        selection = ""
        if self.selection is not None:
            codes = " ".join(c.short for c in self.occasions)
            selection = f" ({self.selection.value}{' ' + codes if codes else ''})"
        return f"{self.name!r}{selection}"

    def _summary(self) -> str:
        parts = [f"{len(self.plan.steps)} steps"]
        if self.versions:
            parts.insert(0, f"version {len(self.versions)}")
        counts = self.counts()
        detail = ", ".join(f"{n} {state}" for state, n in counts.items())
        total = len(self.subscribers)
        parts.append(f"{total} subscribers" + (f" ({detail})" if detail else ""))
        return ", ".join(parts)

    def __repr__(self) -> str:
        return f"<JourneyRun {self._title()} {self.state}: {self._summary()}>"

    def _repr_html_(self) -> str:
        caption = f"{self._title()} {self.state}: {self._summary()}"
        return _html_table(JourneyPlan._HEADERS, self.plan.rows(), caption)


class _Work:
    """A journey being changed by a batch of events.  Only the subscribers the events change
    are copied: the new run's :class:`~emma_osplus._frozenmap.FrozenMap` shares the others
    with the old run's, so a step costs about the square root of the number of subscribers
    (on average) instead of all of them."""

    def __init__(self, run: JourneyRun) -> None:
        self.run = run
        self.state = run.state
        self.plan = run.plan
        self.versions = list(run.versions)
        self.changes: dict[CustomerNumber, JourneySubscriber] = {}

    def _get(self, customer: CustomerNumber) -> JourneySubscriber | None:
        found = self.changes.get(customer)
        return found if found is not None else self.run.subscribers.get(customer)

    def _put(self, subscriber: JourneySubscriber) -> None:
        self.changes[subscriber.customer] = subscriber

    def freeze(self) -> JourneyRun:
        run = self.run
        if (
            not self.changes
            and self.state == run.state
            and self.plan is run.plan
            and len(self.versions) == len(run.versions)
        ):
            return run
        subscribers = run.subscribers
        assert isinstance(subscribers, FrozenMap)  # the converter made it one
        # attrs.evolve would check every subscriber again: check what changed only
        new: JourneyRun = object.__new__(JourneyRun)
        for field in attrs.fields(JourneyRun):
            object.__setattr__(new, field.name, getattr(run, field.name))
        object.__setattr__(new, "plan", self.plan)
        object.__setattr__(new, "state", self.state)
        object.__setattr__(new, "versions", tuple(self.versions))
        object.__setattr__(new, "subscribers", subscribers.updated(self.changes))
        new._check_shape()
        for customer, subscriber in self.changes.items():
            new._check_subscriber(customer, subscriber)
        return new

    def feed(self, event: JourneyEvent) -> tuple[str, bool, str | None, int | None]:
        """Apply one event; ``(kind, applied, reason, version)``.  Raises before changing
        anything."""
        kind = event.kind
        target = JOURNEY.transitions.get((self.state, kind))
        if target is None:
            raise _refusal(JOURNEY, self.state, kind, self._not_here(kind))
        if kind in _SUBSCRIBER_KINDS:
            return self._subscriber(event)
        version: int | None = None
        if isinstance(event, (JourneyStarted, PlanRevised)):
            plan = event.plan if isinstance(event, PlanRevised) else self.plan
            refused = _plan_refusal(self.state, kind, plan)
            if refused is not None:
                raise refused
            version = len(self.versions) + 1
            self.versions.append(JourneyVersion(version, plan, event.at))
            self.plan = plan
        elif isinstance(event, PlanEdited):
            self.plan = event.plan
        self.state = target
        return kind, True, None, version

    def _not_here(self, kind: str) -> str:
        if self.state == "ended":
            return f"the journey has ended (event {kind!r})"
        if kind == "edit":
            return (
                "the base settings of a started journey cannot be changed in place (subscribers "
                "already in it would be dropped); PlanRevised makes a new version for new entrants"
            )
        if kind == "revise":
            return "a draft has no subscribers: change its plan in place with PlanEdited"
        if kind in _SUBSCRIBER_KINDS:
            return f"the journey has not started (event {kind!r})"
        return f"event {kind!r} is not allowed in state {self.state!r}"

    def _subscriber(self, event: JourneyEvent) -> tuple[str, bool, str | None, int | None]:
        assert isinstance(event, (Entered, StepSent, Left))
        current = self._get(event.customer)
        state = JOURNEY_SUBSCRIBER.initial if current is None else current.state
        who = f"customer {event.customer}"
        if isinstance(event, Entered):
            if current is not None:
                return "enter", False, _not_again(current, who), None
            version = len(self.versions)
            self._put(
                JourneySubscriber(
                    event.customer,
                    JOURNEY_SUBSCRIBER.next(state, "enter"),
                    version,
                    event.at,
                    event.address_key,
                )
            )
            return "enter", True, None, version
        if isinstance(event, Left):
            if current is not None and current.state in JOURNEY_SUBSCRIBER.final:
                return "leave", False, _out_already(current, who), None
            base = current or JourneySubscriber(event.customer, state)
            self._put(
                attrs.evolve(
                    base,
                    state=JOURNEY_SUBSCRIBER.next(state, "leave"),
                    left_at=event.at,
                    left_reason=event.reason,
                )
            )
            return "leave", True, None, None
        # a send
        if current is None or current.state != "active":
            reason = _no_send(current, who)
            raise _refusal(JOURNEY_SUBSCRIBER, state, "send", reason)
        assert current.version is not None
        steps = len(self.versions[current.version - 1].plan.steps)
        if event.step > steps:
            reason = f"{who}: version {current.version} has {steps} steps, no step {event.step}"
            raise _refusal(JOURNEY_SUBSCRIBER, state, "send", reason)
        done = dict(current.sent)
        if event.step in done:
            reason = (
                f"{who}: step {event.step} was already sent at {_iso(done[event.step])}; "
                "no step is sent twice"
            )
            raise _refusal(JOURNEY_SUBSCRIBER, state, "send", reason)
        kind = "send_last" if len(done) + 1 == steps else "send"
        done[event.step] = event.at
        self._put(
            attrs.evolve(
                current,
                state=JOURNEY_SUBSCRIBER.next(state, kind),
                sent=tuple(sorted(done.items())),
            )
        )
        return kind, True, None, None


def _not_again(current: JourneySubscriber, who: str) -> str:
    if current.state == "active":
        assert current.entered_at is not None
        return (
            f"{who} is already in the journey (version {current.version}, entered "
            f"{_iso(current.entered_at)}): a re-delivery does not restart it"
        )
    if current.state == "completed":
        return f"{who} has completed the journey: a re-delivery does not restart it"
    assert current.left_reason is not None
    assert current.left_at is not None
    return (
        f"{who} left the journey ({current.left_reason.value}, {_iso(current.left_at)}) "
        "and does not enter again"
    )


def _out_already(current: JourneySubscriber, who: str) -> str:
    if current.state == "completed":
        return f"{who} has completed the journey; nothing is due for them"
    assert current.left_reason is not None
    assert current.left_at is not None
    return f"{who} already left the journey ({current.left_reason.value}, {_iso(current.left_at)})"


def _no_send(current: JourneySubscriber | None, who: str) -> str:
    if current is None:
        return f"{who} is not in the journey"
    if current.state == "completed":
        return f"{who} has completed the journey; every step was sent"
    assert current.left_reason is not None
    return f"{who} left the journey ({current.left_reason.value}); nothing is sent to them"


def journey_templates(registry: Registry | None = None) -> tuple[JourneyRun, ...]:
    """A draft :class:`JourneyRun` for every journey of the catalogue
    (``customer_journeys.csv``), in catalogue order; complete each with a plan.

    >>> [run.name for run in journey_templates()][:3]
    ['OBV', 'Neukunde Wertpapier', 'Geschäftsgirokonto']
    """
    reg = registry or default_registry()
    return tuple(JourneyRun.from_template(j) for j in reg.journeys)
