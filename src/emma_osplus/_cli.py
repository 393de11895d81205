"""The ``emma-osplus`` command line.

Subcommands live in their own modules and register themselves through
:data:`SUBCOMMANDS`: each entry is a module path whose ``register(subparsers)`` adds its parser
and sets ``func`` (a callable taking the parsed namespace and returning the exit status).
Exit status: 0 without errors (warnings allowed), 1 with errors, 2 when the input could not be
read at all or the call was wrong.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from ._version import __version__

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

#: Modules that add a subcommand (``register(subparsers) -> None``).
SUBCOMMANDS: tuple[str, ...] = (
    "emma_osplus._cli_files",
    "emma_osplus._cli_occasions",
    "emma_osplus._cli_run",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="emma-osplus",
        description=(
            "The OSPlus-EMMA interface: inspect and write interchange files, look up ReKu "
            "occasions, process deliveries and responses."
        ),
    )
    parser.add_argument("--version", action="version", version=f"emma-osplus {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module_name in SUBCOMMANDS:
        module = importlib.import_module(module_name, __package__)
        module.register(subparsers)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 0 for --help/--version, 2 for a wrong call
        return int(exc.code) if isinstance(exc.code, int) else 2
    func: Callable[[argparse.Namespace, TextIO, TextIO], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(out)
        return 0
    try:
        return func(args, out, err)
    except BrokenPipeError:
        # The reader of the output went away (``emma-osplus inspect ... | head``): stop quietly,
        # with the status of a process ended by SIGPIPE, and keep the interpreter from
        # complaining when it flushes standard output at exit.
        if out is sys.stdout:
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
        return 128 + 13


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
