"""FrozenMap behaves like a dict that receives the same updates, and its old versions stay."""

from __future__ import annotations

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from emma_osplus._frozenmap import FrozenMap

updates = st.lists(st.dictionaries(st.integers(0, 60), st.integers(), max_size=30), max_size=40)


@settings(max_examples=300, deadline=None)
@given(start=st.dictionaries(st.integers(0, 60), st.integers(), max_size=40), steps=updates)
def test_like_a_dict_and_every_version_stays(
    start: dict[int, int], steps: list[dict[int, int]]
) -> None:
    """Items, their order, length, membership and ``get`` are those of a dict updated the same
    way, after every update (through the folds into a new base); no earlier version changes."""
    expected = dict(start)
    current = FrozenMap(start)
    versions = [(current, dict(expected))]
    for changes in steps:
        current = current.updated(changes)
        expected.update(changes)
        versions.append((current, dict(expected)))
    for version, wanted in versions:
        assert list(version.items()) == list(wanted.items())
        assert len(version) == len(wanted)
        assert version == wanted
        assert wanted == version
        for key in range(-1, 62):
            assert (key in version) is (key in wanted)
            assert version.get(key, "none") == wanted.get(key, "none")
    assert pickle.loads(pickle.dumps(current)) == expected


def test_an_update_copies_only_the_changes_until_they_are_folded_in() -> None:
    """Most updates share the base with the map they came from (an update costs the size of
    the changes so far, not of the map); the changes are folded in once they outgrow the
    square root of its size."""
    big = FrozenMap({n: n for n in range(10_000)})
    step = big.updated({1: -1})
    assert step._base is big._base
    assert step._top == {1: -1}
    shared = 0
    for n in range(200):
        following = step.updated({n: -n})
        shared += following._base is step._base
        step = following
    assert shared >= 190  # ~one fold per hundred updates at 10 000 items
    assert dict(step) == {n: (-n if n < 200 else n) for n in range(10_000)}
    assert big[1] == 1
    assert FrozenMap().updated({}) == {}
