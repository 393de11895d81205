"""Transition tables: every state machine of the library is one table of this kind.

A :class:`TransitionTable` lists, for each state, which event kinds it accepts and the state
they lead to (h11's ``_state.py`` is the model).  Guards that depend on the event's data
(e.g. "a send block has no mailing") stay in the machine's own code and raise
:class:`TransitionRefused` with the message code of FORMATS.md; the table answers only "is this
event kind allowed in this state, and where does it lead".  The documentation's state diagrams
are generated from the tables with :func:`mermaid`.

>>> table = TransitionTable(
...     name="door",
...     initial="closed",
...     transitions={
...         ("closed", "open"): "opened",
...         ("opened", "close"): "closed",
...         ("closed", "lock"): "locked",
...     },
...     final=frozenset({"locked"}),
... )
>>> table.next("closed", "open")
'opened'
>>> table.next("locked", "open")
Traceback (most recent call last):
...
emma_osplus._machine.TransitionRefused: door: event 'open' is not allowed in state 'locked'
>>> table.allowed("closed")
('lock', 'open')
>>> print(mermaid(table))
stateDiagram-v2
    [*] --> closed
    closed --> opened : open
    opened --> closed : close
    closed --> locked : lock
    locked --> [*]
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from ._errors import EmmaOsplusError
from ._messages import Message

__all__ = ["TransitionRefused", "TransitionTable", "mermaid"]


class TransitionRefused(EmmaOsplusError):
    """An event the machine refuses in its current state.

    Carries the machine's name, the state, the event kind and, where FORMATS.md has one, the
    :class:`~emma_osplus.Message` (``code``) that names the rule.  Refusing never changes state.
    """

    def __init__(
        self,
        machine: str,
        state: str,
        event: str,
        reason: str | None = None,
        message: Message | None = None,
    ) -> None:
        self.machine = machine
        self.state = state
        self.event = event
        self.message = message
        self.reason = reason or f"event {event!r} is not allowed in state {state!r}"
        prefix = f"{message.code}: " if message is not None else ""
        super().__init__(f"{prefix}{machine}: {self.reason}")

    @property
    def code(self) -> str | None:
        """The message code of the rule, or ``None`` for a plain "not allowed here"."""
        return self.message.code if self.message is not None else None


def _check_transitions(
    instance: TransitionTable,
    attribute: attrs.Attribute[Mapping[tuple[str, str], str]],
    value: Mapping[tuple[str, str], str],
) -> None:
    if not value:
        raise ValueError("a transition table needs at least one transition")


@attrs.frozen
class TransitionTable:
    """The states and allowed transitions of one machine.

    ``transitions`` maps ``(state, event kind)`` to the next state.  ``final`` states accept no
    event (the table may still list none for them).  Insertion order is kept for diagrams.
    """

    name: str
    initial: str
    transitions: Mapping[tuple[str, str], str] = attrs.field(validator=_check_transitions)
    final: frozenset[str] = frozenset()

    def __attrs_post_init__(self) -> None:
        for state, _event in self.transitions:
            if state in self.final:
                raise ValueError(f"{self.name}: final state {state!r} has an outgoing transition")
        named = {state for state, _event in self.transitions} | set(self.transitions.values())
        if self.initial not in named | self.final:
            raise ValueError(f"{self.name}: initial state {self.initial!r} is not in the table")

    @property
    def states(self) -> tuple[str, ...]:
        """Every state, in the order of first appearance (initial first)."""
        seen: dict[str, None] = {self.initial: None}
        for (state, _event), target in self.transitions.items():
            seen.setdefault(state, None)
            seen.setdefault(target, None)
        for state in sorted(self.final):
            seen.setdefault(state, None)
        return tuple(seen)

    @property
    def events(self) -> tuple[str, ...]:
        """Every event kind the table knows, sorted."""
        return tuple(sorted({event for _state, event in self.transitions}))

    def allowed(self, state: str) -> tuple[str, ...]:
        """The event kinds accepted in ``state``, sorted."""
        return tuple(sorted(event for (s, event) in self.transitions if s == state))

    def next(self, state: str, event: str) -> str:
        """The state ``event`` leads to from ``state``; :class:`TransitionRefused` if none."""
        try:
            return self.transitions[(state, event)]
        except KeyError:
            if state not in self.states:
                raise TransitionRefused(
                    self.name, state, event, reason=f"unknown state {state!r}"
                ) from None
            raise TransitionRefused(self.name, state, event) from None


def mermaid(table: TransitionTable) -> str:
    """The table as a Mermaid ``stateDiagram-v2`` (what the docs render)."""
    lines = ["stateDiagram-v2", f"    [*] --> {table.initial}"]
    lines.extend(
        f"    {state} --> {target} : {event}"
        for (state, event), target in table.transitions.items()
    )
    lines.extend(f"    {state} --> [*]" for state in table.states if state in table.final)
    return "\n".join(lines)
