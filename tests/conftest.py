"""Fixtures shared by the test modules."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def load_benchmark(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """Import ``benchmarks/NAME.py`` (scripts, not a package) for a smoke test: the folder is
    on ``sys.path`` for the test, as it is when a benchmark runs as a script."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module
