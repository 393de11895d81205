"""Fixtures shared by the test modules."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load_benchmark(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"emma_osplus_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def load_benchmark() -> Callable[[str], ModuleType]:
    """Load ``benchmarks/NAME.py`` (scripts, not a package) for a smoke test."""
    return _load_benchmark
