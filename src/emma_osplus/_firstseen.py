"""Where a key was first seen, in memory that does not grow with the file.

File-level rules such as E203 (a customer number twice in one file) and W201 (one address for
several customers) must remember every key of the file.  :class:`FirstSeen` keeps up to
``memory_limit`` keys in a dictionary.  When that fills up, the keys move to a temporary
SQLite database (deleted when the index is closed or collected), written in sorted batches,
and the dictionary starts again for the next ones.  Once keys are on disk, the database's page
cache and the filter take memory too, so from then on the dictionary holds at most half as many
keys: the peak memory of reading a file of a million rows is that of reading one of
``memory_limit`` rows.

Asking the database about every new key would cost a random B-tree lookup per row.  A bitmap
of fixed size (one bit per hash slot of the keys on disk) answers "certainly not on disk" for
almost every new key; only the few keys whose bit is set (repeated keys, and a few per cent of
new keys sharing a bit) are looked up, by their exact value, so the answer never depends on
the hash.

>>> seen = FirstSeen(memory_limit=2)
>>> [seen.setdefault(key, line) for line, key in enumerate(["a", "b", "a", "c", "b", "d"], 2)]
[2, 3, 2, 5, 3, 7]
>>> seen.spilled
True
>>> seen.close()
"""

from __future__ import annotations

import contextlib
import operator
import os
import sqlite3
import tempfile
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

__all__ = ["DEFAULT_FILTER_BITS", "DEFAULT_MEMORY_LIMIT", "FirstSeen"]

#: Keys held in memory before they move to disk (about 10–30 MB of dictionary).
DEFAULT_MEMORY_LIMIT = 100_000
#: Bits of the filter of the keys on disk (1 MiB): about 11 % of new keys are looked up on
#: disk at a million keys, 70 % at ten million.
DEFAULT_FILTER_BITS = 1 << 23

_INT64 = 2**63
#: At most this many parameters in one query (SQLite's limit is 999 in old versions).
_IN_LIMIT = 500
_INSERT = "INSERT INTO seen (key, line) VALUES (?, ?)"
_SELECT = "SELECT line FROM seen WHERE key = ?"
_SELECT_ANY = "SELECT 1 FROM seen WHERE key IN ({}) LIMIT 1"


def _remove(connection: sqlite3.Connection, path: str) -> None:
    connection.close()
    with contextlib.suppress(OSError):
        os.remove(path)


def _stored(key: int | str) -> int | str:
    """*key* as the database stores it: an int that fits in 64 bits as an INTEGER, any other
    int and every text as TEXT (tagged so that they cannot meet)."""
    if isinstance(key, int):
        return key if -_INT64 <= key < _INT64 else "\x00i" + str(key)
    return "\x00s" + key if key[:1] == "\x00" else key


def _plain(keys: Iterable[int | str]) -> bool:
    """Whether *keys* are all texts or all 64-bit ints that the database stores as they are."""
    if all(map(str.__instancecheck__, keys)):
        return not any(map(operator.methodcaller("startswith", "\x00"), keys))
    if all(map(int.__instancecheck__, keys)):
        return min(keys) >= -_INT64 and max(keys) < _INT64  # type: ignore[operator]
    return False


def _order_key(key: int | str) -> tuple[bool, int | str]:
    return isinstance(key, str), key


class FirstSeen:
    """``setdefault(key, line)``: the line where ``key`` was first seen (this one if new).

    Keys are ints or texts (``4711`` and ``"4711"`` are different keys); lines are given in
    increasing order, each once.
    """

    __slots__ = (
        "__weakref__",
        "_bits",
        "_db",
        "_finalizer",
        "_limit",
        "_mask",
        "_memory",
        "filter_bits",
        "memory_limit",
        "path",
    )

    def __init__(
        self, memory_limit: int = DEFAULT_MEMORY_LIMIT, filter_bits: int = DEFAULT_FILTER_BITS
    ) -> None:
        if memory_limit < 1:
            raise ValueError("memory_limit must be at least 1")
        if filter_bits < 8 or filter_bits & (filter_bits - 1):
            raise ValueError("filter_bits must be a power of two, at least 8")
        self.memory_limit = memory_limit
        #: the keys the dictionary may hold now: memory_limit, half of it once keys are on disk
        self._limit = memory_limit
        self.filter_bits = filter_bits
        #: the keys not on disk (all of them until the first move)
        self._memory: dict[int | str, int] = {}
        self._db: sqlite3.Connection | None = None
        self._bits = bytearray()
        self._mask = filter_bits - 1
        self._finalizer: weakref.finalize[..., FirstSeen] | None = None
        #: The temporary database once keys have moved to disk.
        self.path: str | None = None

    @property
    def spilled(self) -> bool:
        """Whether keys have moved to disk."""
        return self._db is not None

    def setdefault(self, key: int | str, line: int) -> int:
        """The first line of ``key``; records ``line`` when the key is new."""
        memory = self._memory
        first = memory.get(key)
        if first is not None:
            return first
        if self._db is not None:
            slot = hash(key) & self._mask
            if self._bits[slot >> 3] & (1 << (slot & 7)):
                row = self._db.execute(_SELECT, (_stored(key),)).fetchone()
                if row is not None:
                    return int(row[0])
        memory[key] = line
        if len(memory) > self._limit:
            self._move_to_disk()
        return line

    def claim_all(self, keys: Sequence[int | str], lines: Sequence[int]) -> bool:
        """Record every key of *keys* at the line of the same position in *lines* when none
        of them has been seen and none repeats (``True``).  Otherwise change nothing and
        return ``False``; ``setdefault`` one by one then tells which were seen where.  A fast
        path for the usual batch of new keys, not a replacement for ``setdefault``.

        >>> seen = FirstSeen()
        >>> seen.claim_all(["a", "b"], [2, 3]), seen.claim_all(["c", "a"], [4, 5])
        (True, False)
        >>> seen.setdefault("c", 9), seen.setdefault("a", 9)
        (9, 2)
        """
        memory = self._memory
        if any(map(memory.__contains__, keys)) or len(set(keys)) != len(keys):
            return False
        if self._db is not None:
            bits, mask = self._bits, self._mask
            slots = [hash(key) & mask for key in keys]
            maybe = [key for key, s in zip(keys, slots) if bits[s >> 3] & (1 << (s & 7))]  # noqa: B905
            for start in range(0, len(maybe), _IN_LIMIT):
                part = [_stored(key) for key in maybe[start : start + _IN_LIMIT]]
                query = _SELECT_ANY.format(",".join("?" * len(part)))
                if self._db.execute(query, part).fetchone() is not None:
                    return False
        memory.update(zip(keys, lines))  # noqa: B905 - the caller gives equal lengths
        if len(memory) > self._limit:
            self._move_to_disk()
        return True

    def close(self) -> None:
        """Release the temporary database (also done when the index is collected)."""
        self._memory = {}
        self._bits = bytearray()
        if self._finalizer is not None:
            self._finalizer()
        self._db = None
        self.path = None

    def _move_to_disk(self) -> None:
        """Write the keys in memory to the database, sorted (neighbouring keys share pages),
        mark them in the filter and empty the dictionary."""
        db = self._db
        if db is None:
            db = self._db = self._create()
            # the database's page cache and the filter now take memory: keep the peak that of
            # the first memory_limit keys by holding half as many from now on
            self._limit = max(1, self.memory_limit // 2)
        memory = self._memory
        # sorted keys, and the rows made one at a time: no second copy of the index in memory
        if _plain(memory):
            keys: list[Any] = sorted(memory)  # keys of one type, stored as they are
            rows: Iterator[tuple[Any, int]] = zip(keys, map(memory.__getitem__, keys), strict=True)
        else:
            keys = sorted(map(_stored, memory), key=_order_key)
            lines = {_stored(key): line for key, line in memory.items()}
            rows = zip(keys, map(lines.__getitem__, keys), strict=True)
        db.execute("BEGIN")
        db.executemany(_INSERT, rows)
        db.execute("COMMIT")
        del keys, rows
        bits, mask = self._bits, self._mask
        for key in memory:
            slot = hash(key) & mask
            bits[slot >> 3] |= 1 << (slot & 7)
        memory.clear()

    def _create(self) -> sqlite3.Connection:
        handle, path = tempfile.mkstemp(prefix="emma-osplus-", suffix=".firstseen")
        os.close(handle)
        db = sqlite3.connect(path, isolation_level=None)
        self._finalizer = weakref.finalize(self, _remove, db, path)
        self.path = path
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-1024")  # 1 MiB of page cache, whatever the file size
        db.execute("CREATE TABLE seen (key PRIMARY KEY, line INTEGER) WITHOUT ROWID")
        self._bits = bytearray(self.filter_bits // 8)
        return db
