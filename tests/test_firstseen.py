"""FirstSeen answers exactly like ``dict.setdefault`` before and after it moves to disk."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emma_osplus import _firstseen
from emma_osplus._firstseen import FirstSeen

keys = st.one_of(
    st.integers(0, 10**10),
    st.integers(-(2**70), 2**70),
    st.text(max_size=12),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(keys, max_size=60), st.integers(1, 8))
def test_same_answers_as_a_dict(sequence: list[int | str], limit: int) -> None:
    expected: dict[object, int] = {}
    seen = FirstSeen(memory_limit=limit)
    for line, key in enumerate(sequence, start=2):
        assert seen.setdefault(key, line) == expected.setdefault(("k", type(key), key), line)
    assert seen.spilled is (len(expected) > limit)
    seen.close()


def test_ints_and_texts_never_collide() -> None:
    seen = FirstSeen(memory_limit=1)
    assert seen.setdefault(4711, 2) == 2
    assert seen.setdefault("4711", 3) == 3
    assert seen.setdefault(4711, 4) == 2
    assert seen.setdefault("4711", 5) == 3
    seen.close()


def test_hash_collisions_are_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two keys with the same first 64 bits of their hash keep their own first lines."""
    real = _firstseen._slot

    def colliding(key: int | str) -> tuple[int, int]:
        _slot, check = real(key)
        return 42, check  # every key in one slot

    monkeypatch.setattr(_firstseen, "_slot", colliding)
    seen = FirstSeen(memory_limit=1)
    lines = [seen.setdefault(key, line) for line, key in enumerate(["a", "b", "c", "a", "b"], 2)]
    assert lines == [2, 3, 4, 2, 3]
    seen.close()


def test_temporary_database_is_removed() -> None:
    seen = FirstSeen(memory_limit=1)
    seen.setdefault("a", 1)
    seen.setdefault("b", 2)
    assert seen.spilled
    path = seen.path
    assert path is not None
    assert os.path.exists(path)
    seen.close()
    assert not os.path.exists(path)
    assert not seen.spilled


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FirstSeen(memory_limit=0)


def test_subscriber_list_checks_after_the_index_moved_to_disk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """E203 and W201 are found the same way when the file outgrows the in-memory index."""
    from emma_osplus import Record, Rejected, _subscribers, read_subscriber_list

    monkeypatch.setattr(_subscribers, "FirstSeen", lambda: FirstSeen(memory_limit=2))
    rows = [f"{n};kunde{n}@example.de" for n in range(1, 8)]
    rows += ["3;andere@example.de", "99;Kunde5@example.de"]
    data = ("KUNDENNUMMER;EMAIL\r\n" + "\r\n".join(rows) + "\r\n").encode("cp1252")
    items = list(read_subscriber_list(data, "KMM", mode="lenient"))
    rejected = [item for item in items if isinstance(item, Rejected)]
    assert [(r.line, [m.code for m in r.messages]) for r in rejected] == [(9, ["E203"])]
    assert "first at line 4" in (rejected[0].messages[0].detail or "")
    warned = [i for i in items if isinstance(i, Record) and i.messages]
    assert [(r.line, r.messages[0].code, r.messages[0].detail) for r in warned] == [
        (10, "W201", "same address as line 6")
    ]
