"""FirstSeen answers exactly like ``dict.setdefault`` before and after it moves to disk."""

from __future__ import annotations

import contextlib
import os
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_filter_collisions_are_told_apart() -> None:
    """With a filter of 8 bits nearly every new key shares a bit with a key on disk: the
    database, asked by the exact key, still gives every key its own first line."""
    seen = FirstSeen(memory_limit=1, filter_bits=8)
    sequence = [*"abcdefghijklmnop", *"ponmlkjihgfedcba", "q"]
    lines = [seen.setdefault(key, line) for line, key in enumerate(sequence, 2)]
    assert lines == [*range(2, 18), *range(17, 1, -1), 34]
    seen.close()


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.lists(keys, max_size=6), max_size=20),
    st.integers(1, 8),
    st.sampled_from([8, 64, 1 << 12]),
)
def test_claim_all_is_setdefault_in_bulk(
    batches: list[list[int | str]], limit: int, bits: int
) -> None:
    """``claim_all`` takes a batch only when every key is new (and none repeats), and leaves
    the index as it was otherwise: after either, ``setdefault`` answers like a dict."""
    expected: dict[tuple[str, type, int | str], int] = {}
    seen = FirstSeen(memory_limit=limit, filter_bits=bits)
    line = 2
    for batch in batches:
        lines = list(range(line, line + len(batch)))
        line += len(batch)
        tagged = [("k", type(key), key) for key in batch]
        new = not any(k in expected for k in tagged) and len(set(tagged)) == len(tagged)
        if seen.claim_all(batch, lines):
            assert new
            expected.update(zip(tagged, lines, strict=True))
        else:
            for key, tag, at in zip(batch, tagged, lines, strict=True):
                assert seen.setdefault(key, at) == expected.setdefault(tag, at)
    for tag, first in expected.items():
        assert seen.setdefault(tag[2], line) == first
    seen.close()


def test_claim_all_on_disk() -> None:
    seen = FirstSeen(memory_limit=2)
    assert seen.claim_all(["a", "b", "c"], [1, 2, 3])  # moves to disk
    assert seen.spilled
    assert not seen.claim_all(["d", "b"], [4, 5])  # b is on disk
    assert not seen.claim_all(["e", "e"], [6, 7])
    assert seen.claim_all(["d", "e"], [8, 9])
    assert [seen.setdefault(k, 10) for k in "abcdef"] == [1, 2, 3, 8, 9, 10]
    seen.close()


def test_filter_must_be_a_power_of_two() -> None:
    with pytest.raises(ValueError, match="power of two"):
        FirstSeen(filter_bits=100)


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

    monkeypatch.setattr(_subscribers, "FirstSeen", lambda memory_limit: FirstSeen(memory_limit=2))
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


@settings(max_examples=50, deadline=None)
@given(limit=st.integers(1, 12), count=st.integers(0, 80))
def test_memory_holds_half_as_many_keys_once_some_are_on_disk(limit: int, count: int) -> None:
    """Before the first move the dictionary holds at most ``memory_limit`` keys; after it, at
    most half as many (the page cache and the filter take the rest), whatever the count."""
    seen = FirstSeen(memory_limit=limit)
    on_disk = 0
    for key in range(count):
        seen.setdefault(key, key + 2)
        if seen.path is not None:
            with contextlib.closing(sqlite3.connect(seen.path)) as db:
                on_disk = db.execute("SELECT count(*) FROM seen").fetchone()[0]
        in_memory = key + 1 - on_disk
        assert in_memory <= (limit if not seen.spilled else max(1, limit // 2))
    assert seen.spilled == (count > limit)
    assert [seen.setdefault(key, 0) for key in range(count)] == [k + 2 for k in range(count)]
    seen.close()
