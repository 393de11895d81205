"""Run every benchmark in this folder (``python benchmarks/run.py [--quick]``).

Each ``bench_*.py`` module has ``main(argv)``; it measures our code and a baseline in the same
run and prints rates and ratios.  Benchmarks are not timed unit tests: they report, they do not
fail on a slow machine.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    here = Path(__file__).resolve().parent
    for path in sorted(here.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"== {path.stem}", flush=True)
        module.main(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
