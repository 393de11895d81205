"""Both built-in stores honour the store contract: values, namespaces, atomic transactions."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emma_osplus import MemoryStore, SQLiteStore, Store

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "s.db")
    yield made
    made.close()


def test_put_get_delete(store: Store) -> None:
    assert store.get("orders", "K1") is None
    assert store.get("orders", "K1", default={}) == {}
    with store.transaction():
        store.put("orders", "K2", {"state": "delivered"})
        store.put("orders", "K1", {"state": "announced", "files": ["a", "b"]})
        store.put("sequence", "RESP", 7)
    assert store.get("orders", "K1") == {"state": "announced", "files": ["a", "b"]}
    assert store.keys("orders") == ["K1", "K2"]
    assert store.namespaces() == ["orders", "sequence"]
    with store.transaction():
        store.delete("orders", "K1")
        store.delete("orders", "missing")
    assert store.dump() == {"orders": {"K2": {"state": "delivered"}}, "sequence": {"RESP": 7}}


def test_rollback_on_exception(store: Store) -> None:
    with store.transaction():
        store.put("a", "k", 1)

    def crash() -> None:
        with store.transaction():
            store.put("a", "k", 2)
            store.put("b", "k", 3)
            raise KeyError("crash")

    with pytest.raises(KeyError):
        crash()
    assert store.dump() == {"a": {"k": 1}}


def test_writes_need_a_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError, match="transaction"):
        store.put("a", "k", 1)
    with pytest.raises(RuntimeError, match="nest"), store.transaction(), store.transaction():
        pass


def test_returned_values_are_copies(store: Store) -> None:
    with store.transaction():
        store.put("a", "k", {"list": [1]})
    value = store.get("a", "k")
    value["list"].append(2)
    assert store.get("a", "k") == {"list": [1]}


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.text(min_size=1), json_values, max_size=6))
def test_any_json_value_round_trips(values: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for store in (MemoryStore(), SQLiteStore(os.path.join(folder, "s.db"))):
            with store.transaction():
                for key, value in values.items():
                    store.put("ns", key, value)
            assert dict(store.items("ns")) == values
            store.close()


_WRITE_AND_DIE = """
import os, sys
from emma_osplus import SQLiteStore
store = SQLiteStore(sys.argv[1])
with store.transaction():
    store.put("a", "k", "uncommitted")
    os._exit(9)  # the process dies inside the transaction
"""


def test_sqlite_survives_a_killed_writer(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SQLiteStore(path)
    with store.transaction():
        store.put("a", "k", "committed")
    result = subprocess.run(
        [sys.executable, "-c", _WRITE_AND_DIE, str(path)], check=False, timeout=60
    )
    assert result.returncode == 9
    reopened = SQLiteStore(path)
    assert reopened.get("a", "k") == "committed"
    reopened.close()
    store.close()


def test_sqlite_values_persist(tmp_path: Path) -> None:
    first = SQLiteStore(tmp_path / "state.db")
    with first.transaction():
        first.put("ledger", "0000004711", [{"kind": "ABMELDUNG", "evidence": "Brief vom 3.11."}])
    first.close()
    second = SQLiteStore(tmp_path / "state.db")
    assert second.get("ledger", "0000004711") == [
        {"kind": "ABMELDUNG", "evidence": "Brief vom 3.11."}
    ]
    assert "SQLiteStore" in repr(second)
    second.close()
