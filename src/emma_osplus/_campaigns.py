"""Campaigns (*Kampagnen*): a start block that selects a subscriber list, then wait and send
blocks; one pure machine, :data:`CAMPAIGN` (``draft`` → ``active`` ↔ ``paused`` → ``ended``).

A :class:`Campaign` is a frozen value: its name, its blocks (block 1 is always the one
:class:`StartBlock`; the others are :class:`WaitBlock` and :class:`SendBlock`), its state and
the time that state began.  Events (:class:`CampaignEvent` and its subclasses) carry the time
``at``; :meth:`Campaign.apply` returns a new campaign or raises
:class:`~emma_osplus._machine.TransitionRefused` and changes nothing.  Replaying the same
events gives the same campaign (:meth:`Campaign.apply_all`).

The rules (BEHAVIOUR.md, *Campaigns and journeys*; BRIEF.md, *Campaign configuration*):

* **Activation is refused** while the start block selects no subscriber list or a send block
  has no mailing (and when there is no send block at all: such a campaign could never send).
  The refusal's reason names every such block by position and kind, e.g.
  ``block 3 (send) has no mailing``; its message is ``E208`` (required value missing).
  :attr:`Campaign.problems` lists the same messages before anyone tries.
* **Blocks are edited only in a draft.**  A *paused* campaign allows one edit: selecting
  another mailing for an existing send block (the usual reason to pause); adding, removing or
  replacing blocks, changing wait days or the subscriber list is refused, because subscribers
  already under way stand at a block.  Resuming checks the activation rules again.
* **A draft may be ended** (discarded) without ever having been active; ``ended`` is final.

>>> from datetime import datetime, timezone
>>> t = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
>>> c = Campaign("Willkommen", [StartBlock("Neukunden_2026"), WaitBlock(3), SendBlock()])
>>> c
Campaign 'Willkommen' (draft)
  1  start  list Neukunden_2026
  2  wait   3 days
  3  send   (no mailing)
>>> c.apply(CampaignActivated(at=t))
Traceback (most recent call last):
...
emma_osplus._machine.TransitionRefused: E208: campaign: block 3 (send) has no mailing
>>> c = c.apply(MailingSelected(3, "M-WELCOME", at=t)).apply(CampaignActivated(at=t))
>>> c.state, c.mailings
('active', (MailingId('M-WELCOME'),))
>>> c.apply(BlockAdded(WaitBlock(5), at=t))
Traceback (most recent call last):
...
emma_osplus._machine.TransitionRefused: campaign: blocks can be changed only in a draft (a paused campaign allows selecting the mailing of a send block)
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import ClassVar

import attrs

from ._errors import InvalidValueError
from ._machine import TransitionRefused, TransitionTable
from ._messages import Message
from ._types import MailingId, OrderName

__all__ = [
    "CAMPAIGN",
    "Block",
    "BlockAdded",
    "BlockRemoved",
    "BlockReplaced",
    "Campaign",
    "CampaignActivated",
    "CampaignEnded",
    "CampaignEvent",
    "CampaignPaused",
    "CampaignResumed",
    "ListSelected",
    "MailingSelected",
    "SendBlock",
    "StartBlock",
    "WaitBlock",
    "structure_problem",
]

#: The campaign: blocks are edited in ``draft`` (a ``paused`` campaign only swaps the mailing of
#: a send block); ``activate`` and ``resume`` are guarded by the activation rules; ``end`` is
#: possible from every state but ``ended`` (a draft that is ended was discarded).
CAMPAIGN = TransitionTable(
    name="campaign",
    initial="draft",
    transitions={
        ("draft", "select_list"): "draft",
        ("draft", "add_block"): "draft",
        ("draft", "remove_block"): "draft",
        ("draft", "replace_block"): "draft",
        ("draft", "select_mailing"): "draft",
        ("draft", "activate"): "active",
        ("draft", "end"): "ended",
        ("active", "pause"): "paused",
        ("active", "end"): "ended",
        ("paused", "select_mailing"): "paused",
        ("paused", "resume"): "active",
        ("paused", "end"): "ended",
    },
    final=frozenset({"ended"}),
)

_EDITS = frozenset({"select_list", "add_block", "remove_block", "replace_block", "select_mailing"})
_LIVE = frozenset({"active", "paused"})


# -- value helpers ------------------------------------------------------------------------------


def _refuse_value(code: str, field: str, raw: object, detail: str) -> InvalidValueError:
    text = raw if isinstance(raw, str) else repr(raw)
    return InvalidValueError(Message(code, field=field, raw=text, detail=detail))


def check_aware(instance: object, attribute: attrs.Attribute[datetime], value: object) -> None:
    """attrs validator: a timezone-aware :class:`~datetime.datetime` (``E205`` otherwise)."""
    if not isinstance(value, datetime):
        raise _refuse_value(
            "E205", attribute.name, value, f"expected a datetime, got {type(value).__name__}"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise _refuse_value("E205", attribute.name, value.isoformat(), "not timezone-aware")


def _whole_number(minimum: int) -> Callable[[object, attrs.Attribute[int], object], None]:
    def check(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _refuse_value(
                "E209",
                attribute.name,
                value,
                f"expected a whole number, got {type(value).__name__}",
            )
        if value < minimum:
            raise _refuse_value("E209", attribute.name, value, f"must be {minimum} or more")

    return check


def _list_name(value: str | OrderName | None) -> OrderName | None:
    if value is None or isinstance(value, OrderName):
        return value
    return OrderName(value)  # E303 with a suggested safe name


def _mailing(value: str | MailingId | None) -> MailingId | None:
    if value is None or isinstance(value, MailingId):
        return value
    return MailingId(value)


def _required_mailing(value: str | MailingId | None) -> MailingId:
    if value is None:
        raise _refuse_value("E208", MailingId.FIELD, "", "a mailing is required")
    return value if isinstance(value, MailingId) else MailingId(value)


def _required_list(value: str | OrderName | None) -> OrderName:
    if value is None:
        raise _refuse_value("E208", "list_name", "", "a subscriber list is required")
    return value if isinstance(value, OrderName) else OrderName(value)


# -- blocks -------------------------------------------------------------------------------------


@attrs.frozen
class Block:
    """Base of the blocks (*Bausteine*) of a campaign; ``kind`` is ``start``, ``wait`` or
    ``send``."""

    KIND: ClassVar[str] = ""

    @property
    def kind(self) -> str:
        """``start``, ``wait`` or ``send``."""
        return self.KIND

    @property
    def setting(self) -> str:
        """What the block does, for people (``list Neukunden_2026``, ``3 days``, …)."""
        raise NotImplementedError

    @property
    def missing(self) -> str | None:
        """What keeps the block from activation (``subscriber list``, ``mailing``), if any."""
        return None


@attrs.frozen(repr=False)
class StartBlock(Block):
    """The first block: selects the subscriber list (by its name, the order name; a name
    outside the rule is refused with ``E303`` and a suggested safe spelling).

    >>> StartBlock("Neukunden_2026"), StartBlock()
    (StartBlock('Neukunden_2026'), StartBlock())
    """

    KIND: ClassVar[str] = "start"
    list_name: OrderName | None = attrs.field(default=None, converter=_list_name)

    @property
    def setting(self) -> str:
        return "(no subscriber list)" if self.list_name is None else f"list {self.list_name}"

    @property
    def missing(self) -> str | None:
        return "subscriber list" if self.list_name is None else None

    def __repr__(self) -> str:
        return "StartBlock()" if self.list_name is None else f"StartBlock({str(self.list_name)!r})"


@attrs.frozen(repr=False)
class WaitBlock(Block):
    """Wait a number of whole days (0 or more) before the next block.

    >>> WaitBlock(3)
    WaitBlock(3)
    >>> WaitBlock(-1)
    Traceback (most recent call last):
    ...
    emma_osplus._errors.InvalidValueError: E209, field days: ... (must be 0 or more)
    """

    KIND: ClassVar[str] = "wait"
    days: int = attrs.field(validator=_whole_number(0))

    @property
    def setting(self) -> str:
        return "1 day" if self.days == 1 else f"{self.days} days"

    def __repr__(self) -> str:
        return f"WaitBlock({self.days})"


@attrs.frozen(repr=False)
class SendBlock(Block):
    """Send a mailing (EMMA's :class:`~emma_osplus.MailingId`); ``None`` until one is chosen.

    >>> SendBlock("M-WELCOME"), SendBlock()
    (SendBlock('M-WELCOME'), SendBlock())
    """

    KIND: ClassVar[str] = "send"
    mailing: MailingId | None = attrs.field(default=None, converter=_mailing)

    @property
    def setting(self) -> str:
        return "(no mailing)" if self.mailing is None else f"mailing {self.mailing}"

    @property
    def missing(self) -> str | None:
        return "mailing" if self.mailing is None else None

    def __repr__(self) -> str:
        return "SendBlock()" if self.mailing is None else f"SendBlock({str(self.mailing)!r})"


def _block(value: Block) -> Block:
    if not isinstance(value, (StartBlock, WaitBlock, SendBlock)):
        raise _refuse_value("E209", "block", value, "expected a StartBlock, WaitBlock or SendBlock")
    return value


def _blocks(value: Iterable[Block]) -> tuple[Block, ...]:
    return tuple(_block(v) for v in value)


def _label(position: int, block: Block) -> str:
    return f"block {position} ({block.kind})"


def structure_problem(blocks: Sequence[Block]) -> str | None:
    """Why *blocks* is not a campaign's sequence (block 1 the only start block), or ``None``.

    >>> structure_problem([WaitBlock(1)])
    'block 1 (wait) must be the start block'
    """
    if not blocks:
        return "a campaign needs its start block"
    if not isinstance(blocks[0], StartBlock):
        return f"{_label(1, blocks[0])} must be the start block"
    for position, block in enumerate(blocks[1:], start=2):
        if isinstance(block, StartBlock):
            return f"{_label(position, block)}: a campaign has one start block, block 1"
    return None


def _check_structure(
    instance: object, attribute: attrs.Attribute[tuple[Block, ...]], value: tuple[Block, ...]
) -> None:
    problem = structure_problem(value)
    if problem is not None:
        raise _refuse_value("E209", "blocks", repr(value), problem)


# -- events -------------------------------------------------------------------------------------


@attrs.frozen
class CampaignEvent:
    """Base of the campaign events; ``at`` (keyword, timezone-aware) is when it happened."""

    KIND: ClassVar[str] = ""
    at: datetime = attrs.field(kw_only=True, validator=check_aware)

    @property
    def kind(self) -> str:
        """The event kind in :data:`CAMPAIGN`."""
        return self.KIND


_position = _whole_number(1)


@attrs.frozen
class ListSelected(CampaignEvent):
    """Select the subscriber list of the start block (draft only)."""

    KIND: ClassVar[str] = "select_list"
    list_name: OrderName = attrs.field(converter=_required_list)


@attrs.frozen
class BlockAdded(CampaignEvent):
    """Insert a wait or send block at ``position`` (2 … number of blocks + 1; ``None``: at the
    end).  Draft only."""

    KIND: ClassVar[str] = "add_block"
    block: Block = attrs.field(converter=_block)
    position: int | None = attrs.field(default=None, validator=attrs.validators.optional(_position))


@attrs.frozen
class BlockRemoved(CampaignEvent):
    """Remove the block at ``position`` (not the start block).  Draft only."""

    KIND: ClassVar[str] = "remove_block"
    position: int = attrs.field(validator=_position)


@attrs.frozen
class BlockReplaced(CampaignEvent):
    """Replace the block at ``position`` (block 1 only by a start block, the others only by
    wait and send blocks).  Draft only."""

    KIND: ClassVar[str] = "replace_block"
    position: int = attrs.field(validator=_position)
    block: Block = attrs.field(converter=_block)


@attrs.frozen
class MailingSelected(CampaignEvent):
    """Select the mailing of the send block at ``position``: in a draft, and in a paused
    campaign (the one edit that moves no subscriber)."""

    KIND: ClassVar[str] = "select_mailing"
    position: int = attrs.field(validator=_position)
    mailing: MailingId = attrs.field(converter=_required_mailing)


@attrs.frozen
class CampaignActivated(CampaignEvent):
    """Activate a draft (refused while :attr:`Campaign.problems` is not empty)."""

    KIND: ClassVar[str] = "activate"


@attrs.frozen
class CampaignPaused(CampaignEvent):
    """Pause an active campaign."""

    KIND: ClassVar[str] = "pause"


@attrs.frozen
class CampaignResumed(CampaignEvent):
    """Resume a paused campaign (the activation rules are checked again)."""

    KIND: ClassVar[str] = "resume"


@attrs.frozen
class CampaignEnded(CampaignEvent):
    """End the campaign (from a draft: discard it).  ``ended`` is final."""

    KIND: ClassVar[str] = "end"


# -- the campaign -------------------------------------------------------------------------------


def _refusal(
    state: str,
    kind: str,
    reason: str,
    message: Message | None = None,
) -> TransitionRefused:
    return TransitionRefused(CAMPAIGN.name, state, kind, reason, message)


def _structure_refusal(
    state: str, kind: str, field: str, raw: object, reason: str
) -> TransitionRefused:
    message = Message("E209", field=field, raw=str(raw), detail=reason)
    return _refusal(state, kind, reason, message)


def _name(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise _refuse_value("E209", "name", value, f"expected text, got {type(value).__name__}")
    if not value.strip():
        raise _refuse_value("E208", "name", value, "empty value")


def _state(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if value not in CAMPAIGN.states:
        raise ValueError(f"unknown campaign state {value!r}; states: {', '.join(CAMPAIGN.states)}")


@attrs.frozen(repr=False)
class Campaign:
    """One campaign: ``name``, ``blocks`` (default: an empty start block), ``state`` and
    ``since`` (when the state began; ``None`` for a new draft).

    An ``active`` or ``paused`` campaign always satisfies the activation rules: building one
    that does not raises :class:`~emma_osplus.InvalidValueError` (``E208``).

    >>> c = Campaign("Herbst")
    >>> c.blocks, c.problems[0].describe()
    ((StartBlock(),), 'E208, field list_name: Pflichtwert fehlt (block 1 (start) has no subscriber list)')
    """

    name: str = attrs.field(validator=_name)
    blocks: tuple[Block, ...] = attrs.field(
        default=(StartBlock(),), converter=_blocks, validator=_check_structure
    )
    state: str = attrs.field(default=CAMPAIGN.initial, validator=_state)
    since: datetime | None = attrs.field(
        default=None, validator=attrs.validators.optional(check_aware)
    )

    def __attrs_post_init__(self) -> None:
        if self.state in _LIVE and self.problems:
            raise InvalidValueError(*self.problems)

    # -- queries ------------------------------------------------------------------------------

    @property
    def list_name(self) -> OrderName | None:
        """The subscriber list the start block selects, or ``None``."""
        start = self.blocks[0]
        assert isinstance(start, StartBlock)
        return start.list_name

    @property
    def mailings(self) -> tuple[MailingId, ...]:
        """The mailings of the send blocks, in block order (blocks without one are skipped)."""
        return tuple(
            b.mailing for b in self.blocks if isinstance(b, SendBlock) and b.mailing is not None
        )

    def block(self, position: int) -> Block:
        """The block at *position* (1-based)."""
        if not 1 <= position <= len(self.blocks):
            raise IndexError(f"no block {position}; the campaign has {len(self.blocks)}")
        return self.blocks[position - 1]

    @property
    def problems(self) -> tuple[Message, ...]:
        """What keeps the campaign from activation, one ``E208`` message per block (field
        ``list_name`` or ``MAILING_ID``; the detail names the block by position and kind), and
        one if there is no send block.  Empty when it can be activated."""
        found: list[Message] = []
        for position, block in enumerate(self.blocks, start=1):
            missing = block.missing
            if missing is None:
                continue
            field = "list_name" if isinstance(block, StartBlock) else MailingId.FIELD
            found.append(
                Message("E208", field=field, detail=f"{_label(position, block)} has no {missing}")
            )
        if not any(isinstance(b, SendBlock) for b in self.blocks):
            found.append(Message("E208", field="blocks", detail="the campaign has no send block"))
        return tuple(found)

    @property
    def can_activate(self) -> bool:
        """True when :attr:`problems` is empty."""
        return not self.problems

    # -- the machine --------------------------------------------------------------------------

    def apply(self, event: CampaignEvent) -> Campaign:
        """The campaign after *event*; :class:`~emma_osplus._machine.TransitionRefused` (with
        the reason, and ``E208``/``E209`` where a rule decides) if it is refused."""
        kind = event.kind
        target = CAMPAIGN.transitions.get((self.state, kind))
        if target is None:
            raise _refusal(self.state, kind, self._not_here(kind))
        blocks = self._blocks_after(event)
        if kind in ("activate", "resume"):
            problems = attrs.evolve(self, blocks=blocks).problems
            if problems:
                reason = "; ".join(p.detail or p.text for p in problems)
                raise _refusal(self.state, kind, reason, problems[0])
        since = event.at if target != self.state else self.since
        return Campaign(self.name, blocks, target, since)

    def apply_all(self, events: Iterable[CampaignEvent]) -> Campaign:
        """The campaign after every event in order (the first refusal raises)."""
        campaign = self
        for event in events:
            campaign = campaign.apply(event)
        return campaign

    def _not_here(self, kind: str) -> str:
        if self.state == "ended":
            return f"the campaign has ended (event {kind!r})"
        if kind in _EDITS:
            return (
                "blocks can be changed only in a draft "
                "(a paused campaign allows selecting the mailing of a send block)"
            )
        return f"event {kind!r} is not allowed in state {self.state!r}"

    def _blocks_after(self, event: CampaignEvent) -> tuple[Block, ...]:
        blocks = list(self.blocks)
        count = len(blocks)
        kind = event.kind
        if isinstance(event, ListSelected):
            blocks[0] = StartBlock(event.list_name)
        elif isinstance(event, BlockAdded):
            position = count + 1 if event.position is None else event.position
            if isinstance(event.block, StartBlock):
                raise _structure_refusal(
                    self.state,
                    kind,
                    "block",
                    event.block,
                    "a campaign has one start block, block 1",
                )
            if not 2 <= position <= count + 1:
                raise _structure_refusal(
                    self.state, kind, "position", position,
                    f"a block can be added at positions 2 to {count + 1}, not {position}",
                )  # fmt: skip
            blocks.insert(position - 1, event.block)
        elif isinstance(event, BlockRemoved):
            position = event.position
            if position == 1:
                raise _structure_refusal(
                    self.state, kind, "position", position, "block 1 (start) cannot be removed"
                )
            if position > count:
                raise _structure_refusal(
                    self.state,
                    kind,
                    "position",
                    position,
                    f"no block {position}; there are {count}",
                )
            del blocks[position - 1]
        elif isinstance(event, BlockReplaced):
            position = event.position
            if position > count:
                raise _structure_refusal(
                    self.state,
                    kind,
                    "position",
                    position,
                    f"no block {position}; there are {count}",
                )
            if (position == 1) != isinstance(event.block, StartBlock):
                reason = (
                    "block 1 can only be replaced by a start block"
                    if position == 1
                    else f"{_label(position, blocks[position - 1])} cannot become a start block"
                )
                raise _structure_refusal(self.state, kind, "block", event.block, reason)
            blocks[position - 1] = event.block
        elif isinstance(event, MailingSelected):
            position = event.position
            if position > count:
                raise _structure_refusal(
                    self.state,
                    kind,
                    "position",
                    position,
                    f"no block {position}; there are {count}",
                )
            current = blocks[position - 1]
            if not isinstance(current, SendBlock):
                raise _structure_refusal(
                    self.state, kind, "position", position,
                    f"{_label(position, current)} is not a send block",
                )  # fmt: skip
            blocks[position - 1] = SendBlock(event.mailing)
        return tuple(blocks)

    # -- display ------------------------------------------------------------------------------

    def rows(self) -> list[tuple[str, str, str]]:
        """One ``(position, kind, setting)`` row per block."""
        return [(str(i), b.kind, b.setting) for i, b in enumerate(self.blocks, start=1)]

    def _title(self) -> str:
        return f"Campaign {self.name!r} ({self.state})"

    def __repr__(self) -> str:
        rows = self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(2)]
        lines = [
            f"  {pos.rjust(widths[0])}  {kind.ljust(widths[1])}  {setting}"
            for pos, kind, setting in rows
        ]
        return "\n".join([self._title(), *lines])

    def _repr_html_(self) -> str:
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
            for row in self.rows()
        )
        problems = "".join(f"<li>{html.escape(p.describe())}</li>" for p in self.problems)
        tail = f"<ul>{problems}</ul>" if problems and self.state == "draft" else ""
        return (
            f"<table><caption>{html.escape(self._title())}</caption>"
            "<thead><tr><th>#</th><th>block</th><th>setting</th></tr></thead>"
            f"<tbody>{body}</tbody></table>{tail}"
        )
