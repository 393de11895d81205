"""The command line: --version, --help, wrong calls."""

from __future__ import annotations

import io
import subprocess
import sys

import emma_osplus
from emma_osplus._cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_version(capsys: object) -> None:
    status, _, _ = run("--version")
    assert status == 0


def test_version_via_subprocess() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "emma_osplus", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"emma-osplus {emma_osplus.__version__}"


def test_no_command_prints_help() -> None:
    status, out, _ = run()
    assert status == 0
    assert "usage: emma-osplus" in out


def test_wrong_call_is_status_2() -> None:
    status, _, _ = run("--no-such-option")
    assert status == 2
