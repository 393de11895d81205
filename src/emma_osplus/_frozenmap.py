"""An immutable mapping whose updated copies share most of its storage.

The state machines keep their values frozen: a step returns a new journey instead of changing
the old one.  A journey with a hundred thousand subscribers must not copy them all to record
one sent step, so :class:`FrozenMap` keeps a large ``base`` dictionary, shared between copies,
and a small ``top`` dictionary of the entries changed or added since.  :meth:`FrozenMap.updated`
copies only the top, and folds it into a new base once it holds more than about the square
root of the base's size: an update costs O(√n) on average instead of O(n).

Iteration order is that of a ``dict`` that received the same updates: a key keeps its place
when its value changes, new keys come last in the order they were added.  A ``FrozenMap``
equals any mapping with the same items.

>>> first = FrozenMap({"a": 1, "b": 2})
>>> second = first.updated({"a": 10, "c": 3})
>>> dict(first), dict(second)
({'a': 1, 'b': 2}, {'a': 10, 'b': 2, 'c': 3})
>>> second == {"c": 3, "b": 2, "a": 10}, len(second), "c" in first
(True, 3, False)
>>> second["z"] = 0
Traceback (most recent call last):
...
TypeError: 'FrozenMap' object does not support item assignment
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar, overload

__all__ = ["FrozenMap"]

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")

#: The top is folded into the base once top² exceeds the base's size plus this.
_SLACK = 64


class FrozenMap(Mapping[K, V], Generic[K, V]):
    """An immutable mapping; :meth:`updated` returns a copy with some items set (see the
    module docs)."""

    __slots__ = ("_base", "_size", "_top")

    _base: dict[K, V]
    _top: dict[K, V]
    _size: int

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._base = dict(items)
        self._top = {}
        self._size = len(self._base)

    def updated(self, changes: Mapping[K, V]) -> FrozenMap[K, V]:
        """A map with the items of *changes* set (values replaced in place, new keys last);
        this map is unchanged.

        >>> FrozenMap({"a": 1}).updated({"b": 2}).updated({"a": 3})
        FrozenMap({'a': 3, 'b': 2})
        """
        if not changes:
            return self
        base, top = self._base, self._top
        added = sum(1 for key in changes if key not in top and key not in base)
        merged = {**top, **changes}
        new: FrozenMap[K, V] = object.__new__(FrozenMap)
        if len(merged) * len(merged) > len(base) + _SLACK:
            new._base = {**base, **merged}
            new._top = {}
        else:
            new._base = base
            new._top = merged
        new._size = self._size + added
        return new

    def __getitem__(self, key: K) -> V:
        top = self._top
        if key in top:
            return top[key]
        return self._base[key]

    @overload
    def get(self, key: K, /) -> V | None: ...

    @overload
    def get(self, key: K, default: V | D, /) -> V | D: ...

    def get(self, key: K, default: Any = None, /) -> Any:
        top = self._top
        if key in top:
            return top[key]
        return self._base.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._top or key in self._base

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[K]:
        base, top = self._base, self._top
        if not top:
            return iter(base)
        return itertools.chain(base, (key for key in top if key not in base))

    def __repr__(self) -> str:
        return f"FrozenMap({dict(self.items())!r})"

    def __reduce__(self) -> tuple[type[FrozenMap[K, V]], tuple[dict[K, V]]]:
        return FrozenMap, (dict(self.items()),)
