"""Where a key was first seen, in memory that does not grow with the file.

File-level rules such as E203 (a customer number twice in one file) and W201 (one address for
several customers) must remember every key of the file.  :class:`FirstSeen` keeps up to
``memory_limit`` keys in a dictionary; beyond that it moves them to a temporary SQLite database
(deleted when the index is closed or collected) and goes on there, so the peak memory of
reading a file of a million rows is that of reading one of ``memory_limit`` rows.

>>> seen = FirstSeen(memory_limit=2)
>>> [seen.setdefault(key, line) for line, key in enumerate(["a", "b", "a", "c", "b", "d"], 2)]
[2, 3, 2, 5, 3, 7]
>>> seen.spilled
True
>>> seen.close()
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import tempfile
import weakref

__all__ = ["DEFAULT_MEMORY_LIMIT", "FirstSeen"]

_BATCH = 10_000

#: Keys held in memory before an index moves to disk (about 10–30 MB of dictionary).
DEFAULT_MEMORY_LIMIT = 100_000


def _remove(connection: sqlite3.Connection, path: str) -> None:
    connection.close()
    with contextlib.suppress(OSError):
        os.remove(path)


class FirstSeen:
    """``setdefault(key, line)``: the line where ``key`` was first seen (this one if new)."""

    __slots__ = (
        "__weakref__",
        "_db",
        "_finalizer",
        "_memory",
        "_pending",
        "memory_limit",
        "path",
    )

    def __init__(self, memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        if memory_limit < 1:
            raise ValueError("memory_limit must be at least 1")
        self.memory_limit = memory_limit
        self._memory: dict[int | str, int] | None = {}
        self._db: sqlite3.Connection | None = None
        self._finalizer: weakref.finalize[..., FirstSeen] | None = None
        self._pending = 0
        #: The temporary database once the keys have moved to disk.
        self.path: str | None = None

    @property
    def spilled(self) -> bool:
        """Whether the keys have moved to disk."""
        return self._db is not None

    def setdefault(self, key: int | str, line: int) -> int:
        """The first line of ``key``; records ``line`` when the key is new."""
        memory = self._memory
        if memory is not None:
            first = memory.setdefault(key, line)
            if len(memory) > self.memory_limit:
                self._spill()
            return first
        assert self._db is not None
        db = self._db
        slot, check = _slot(key)
        if db.execute(_INSERT, (slot, check, line)).rowcount:
            self._wrote()
            return line
        stored, first = db.execute(_SELECT, (slot,)).fetchone()
        if stored == check:
            return int(first)
        # two keys share the first 64 bits of their hash (about one chance in 10^7 for a
        # million keys): the second 64 bits keep them apart
        if db.execute(_INSERT_EXACT, (slot, check, line)).rowcount:
            self._wrote()
            return line
        row = db.execute(_SELECT_EXACT, (slot, check)).fetchone()
        return int(row[0])

    def _wrote(self) -> None:
        assert self._db is not None
        self._pending += 1
        if self._pending >= _BATCH:  # commit now and then: the page cache stays bounded
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")
            self._pending = 0

    def close(self) -> None:
        """Release the temporary database (also done when the index is collected)."""
        self._memory = {}
        if self._finalizer is not None:
            self._finalizer()
        self._db = None
        self.path = None

    def _spill(self) -> None:
        handle, path = tempfile.mkstemp(prefix="emma-osplus-", suffix=".firstseen")
        os.close(handle)
        db = sqlite3.connect(path, isolation_level=None)
        self._finalizer = weakref.finalize(self, _remove, db, path)
        self.path = path
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-4096")  # 4 MiB of page cache, whatever the file size
        db.execute("CREATE TABLE seen (slot INTEGER PRIMARY KEY, checks INTEGER, line INTEGER)")
        db.execute(
            "CREATE TABLE exact (slot INTEGER, checks INTEGER, line INTEGER,"
            " PRIMARY KEY (slot, checks)) WITHOUT ROWID"
        )
        db.execute("BEGIN")
        self._db = db
        assert self._memory is not None
        memory, self._memory = self._memory, None
        for key, line in memory.items():
            self.setdefault(key, line)
        db.execute("COMMIT")
        db.execute("BEGIN")


_INSERT = "INSERT OR IGNORE INTO seen (slot, checks, line) VALUES (?, ?, ?)"
_SELECT = "SELECT checks, line FROM seen WHERE slot = ?"
_INSERT_EXACT = "INSERT OR IGNORE INTO exact (slot, checks, line) VALUES (?, ?, ?)"
_SELECT_EXACT = "SELECT line FROM exact WHERE slot = ? AND checks = ?"
_INT64 = 2**63


def _slot(key: int | str) -> tuple[int, int]:
    """Two 64-bit numbers that stand for the key: the number itself (and 0) for a small
    non-negative int, else a 128-bit BLAKE2b hash of the tagged key split in two halves."""
    if isinstance(key, int):
        if 0 <= key < _INT64:
            return key, 0
        blob = b"i" + str(key).encode()
    else:
        blob = b"s" + key.encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(blob, digest_size=16).digest()
    return int.from_bytes(digest[:8], "big", signed=True), int.from_bytes(
        digest[8:], "big", signed=True
    )
