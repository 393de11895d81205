"""State stores: what must outlive a process.

A :class:`Store` is a transactional map of ``(namespace, key) → JSON value``.  The processor
keeps orders, subscriber lists, the consent ledger, response state, processed-file digests,
sequence numbers and pending work items in it, each in its own namespace, and changes it in
**one transaction per processed file**: either every effect of a file is stored (together with
its digest) or none is, so a crash at any point loses nothing and duplicates nothing.

Built in: :class:`MemoryStore` (tests, notebooks) and :class:`SQLiteStore` (standard library
``sqlite3`` in WAL mode, the embedded default).

>>> from emma_osplus import MemoryStore
>>> store = MemoryStore()
>>> with store.transaction():
...     store.put("sequence", "37050198/RESP", 41)
...     store.put("processed", "ab12", {"name": "x.txt"})
>>> store.get("sequence", "37050198/RESP")
41
>>> try:
...     with store.transaction():
...         store.put("sequence", "37050198/RESP", 42)
...         raise RuntimeError("crash")
... except RuntimeError:
...     pass
>>> store.get("sequence", "37050198/RESP")
41
"""

from __future__ import annotations

import abc
import contextlib
import copy
import json
import os
import sqlite3
from collections.abc import Iterator
from typing import Any

from ._errors import TransportError

__all__ = ["MemoryStore", "SQLiteStore", "Store"]

#: A JSON-compatible value (what cattrs' unstructure gives).
JsonValue = Any


class Store(abc.ABC):
    """The store contract.  Writes happen inside :meth:`transaction`; reads anywhere."""

    @abc.abstractmethod
    def get(self, namespace: str, key: str, default: JsonValue = None) -> JsonValue:
        """The value under ``(namespace, key)``, or ``default``."""

    @abc.abstractmethod
    def put(self, namespace: str, key: str, value: JsonValue) -> None:
        """Set a value (inside a transaction)."""

    @abc.abstractmethod
    def delete(self, namespace: str, key: str) -> None:
        """Remove a value if present (inside a transaction)."""

    @abc.abstractmethod
    def items(self, namespace: str) -> Iterator[tuple[str, JsonValue]]:
        """Every ``(key, value)`` of a namespace, in key order."""

    @abc.abstractmethod
    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """All writes in the block are committed together, or none (on an exception)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    def keys(self, namespace: str) -> list[str]:
        """The keys of a namespace, sorted."""
        return [key for key, _ in self.items(namespace)]

    def dump(self) -> dict[str, dict[str, JsonValue]]:
        """Everything, as nested dictionaries (for comparisons and debugging)."""
        return {ns: dict(self.items(ns)) for ns in self.namespaces()}

    @abc.abstractmethod
    def namespaces(self) -> list[str]:
        """Every namespace holding at least one value, sorted."""


class MemoryStore(Store):
    """A store in a dictionary; transactions work on a copy that replaces it on success."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, JsonValue]] = {}
        self._pending: dict[str, dict[str, JsonValue]] | None = None

    def _current(self) -> dict[str, dict[str, JsonValue]]:
        return self._pending if self._pending is not None else self._data

    def get(self, namespace: str, key: str, default: JsonValue = None) -> JsonValue:
        value = self._current().get(namespace, {}).get(key, default)
        return copy.deepcopy(value)

    def put(self, namespace: str, key: str, value: JsonValue) -> None:
        self._writable().setdefault(namespace, {})[key] = json.loads(json.dumps(value))

    def delete(self, namespace: str, key: str) -> None:
        data = self._writable()
        data.get(namespace, {}).pop(key, None)
        if namespace in data and not data[namespace]:
            del data[namespace]

    def items(self, namespace: str) -> Iterator[tuple[str, JsonValue]]:
        values = self._current().get(namespace, {})
        for key in sorted(values):
            yield key, copy.deepcopy(values[key])

    def namespaces(self) -> list[str]:
        return sorted(ns for ns, values in self._current().items() if values)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._pending is not None:
            raise RuntimeError("transactions do not nest")
        self._pending = copy.deepcopy(self._data)
        try:
            yield
        except BaseException:
            self._pending = None
            raise
        self._data, self._pending = self._pending, None

    def _writable(self) -> dict[str, dict[str, JsonValue]]:
        if self._pending is None:
            raise RuntimeError("writes need a transaction: use `with store.transaction():`")
        return self._pending


class SQLiteStore(Store):
    """A store in one SQLite file (WAL mode, synchronous=FULL), the embedded default."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS kv (namespace TEXT NOT NULL, key TEXT NOT NULL,"
                " value TEXT NOT NULL, PRIMARY KEY (namespace, key)) WITHOUT ROWID"
            )
        except sqlite3.Error as exc:
            raise TransportError(f"cannot open the state store {self.path}: {exc}") from exc
        self._in_transaction = False

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    def get(self, namespace: str, key: str, default: JsonValue = None) -> JsonValue:
        row = self._query(
            "SELECT value FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
        ).fetchone()
        return default if row is None else json.loads(row[0])

    def put(self, namespace: str, key: str, value: JsonValue) -> None:
        self._require_transaction()
        self._query(
            "INSERT OR REPLACE INTO kv (namespace, key, value) VALUES (?, ?, ?)",
            (namespace, key, json.dumps(value, ensure_ascii=False, sort_keys=True)),
        )

    def delete(self, namespace: str, key: str) -> None:
        self._require_transaction()
        self._query("DELETE FROM kv WHERE namespace = ? AND key = ?", (namespace, key))

    def items(self, namespace: str) -> Iterator[tuple[str, JsonValue]]:
        rows = self._query(
            "SELECT key, value FROM kv WHERE namespace = ? ORDER BY key", (namespace,)
        ).fetchall()
        for key, value in rows:
            yield key, json.loads(value)

    def namespaces(self) -> list[str]:
        rows = self._query("SELECT DISTINCT namespace FROM kv ORDER BY namespace", ()).fetchall()
        return [row[0] for row in rows]

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:
            raise RuntimeError("transactions do not nest")
        self._query("BEGIN IMMEDIATE", ())
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._in_transaction = False
            self._query("ROLLBACK", ())
            raise
        self._in_transaction = False
        self._query("COMMIT", ())

    def close(self) -> None:
        self._db.close()

    def _require_transaction(self) -> None:
        if not self._in_transaction:
            raise RuntimeError("writes need a transaction: use `with store.transaction():`")

    def _query(self, sql: str, parameters: tuple[Any, ...]) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, parameters)
        except sqlite3.Error as exc:
            raise TransportError(f"state store {self.path}: {exc}") from exc
