"""Transition tables: what a table refuses to be, and what a refusal names."""

from __future__ import annotations

import pytest

from emma_osplus._machine import TransitionRefused, TransitionTable

DOOR = {("closed", "open"): "opened", ("opened", "close"): "closed"}


@pytest.mark.parametrize(
    ("initial", "transitions", "final", "complaint"),
    [
        ("closed", {}, frozenset(), "at least one transition"),
        ("closed", DOOR, frozenset({"opened"}), "final state 'opened' has an outgoing"),
        ("ajar", DOOR, frozenset(), "initial state 'ajar' is not in the table"),
    ],
)
def test_a_table_that_cannot_be_a_machine_is_refused(
    initial: str, transitions: dict[tuple[str, str], str], final: frozenset[str], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        TransitionTable("door", initial, transitions, final)


def test_a_refusal_names_machine_state_and_event() -> None:
    table = TransitionTable("door", "closed", DOOR)
    with pytest.raises(TransitionRefused) as info:
        table.next("opened", "open")
    refused = info.value
    assert (refused.machine, refused.state, refused.event, refused.code) == (
        "door",
        "opened",
        "open",
        None,
    )
    assert str(refused) == "door: event 'open' is not allowed in state 'opened'"
    with pytest.raises(TransitionRefused, match="unknown state 'ajar'"):
        table.next("ajar", "open")
