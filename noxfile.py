"""Sessions for tests, lint, type checks and docs.

``nox -s tests`` is the command the README and ``.ci/run`` give for the whole
test suite.
"""

from __future__ import annotations

import os
import shutil
import sys

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

PYTHON = ["3.11"]


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite (unit, property, golden files, doctests) with branch coverage."""
    session.install("-e", ".[test]")
    env = {}
    if _ensure_sshd(session):
        env["EMMA_OSPLUS_REQUIRE_SFTP"] = "1"  # the SFTP transport tests must run, not skip
    session.run(
        "pytest",
        "--cov=emma_osplus",
        "--cov-branch",
        "--cov-report=term",
        *session.posargs,
        env=env,
    )


def _ensure_sshd(session: nox.Session) -> bool:
    """Install OpenSSH's server for the SFTP tests where we can (root on Debian/Ubuntu)."""
    if shutil.which("sshd") or os.path.exists("/usr/sbin/sshd"):
        return True
    if sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("apt-get"):
        session.warn("sshd not found and not installable here: SFTP tests will be skipped")
        return False
    apt_env = {"DEBIAN_FRONTEND": "noninteractive"}
    session.run("apt-get", "update", "-qq", external=True, env=apt_env)
    session.run("apt-get", "install", "-y", "-qq", "openssh-server", external=True, env=apt_env)
    return True


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.6")
    paths = ("src", "tests", "benchmarks", "fuzz", "conftest.py", "noxfile.py", "docs")
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package and the tests."""
    session.install("-e", ".[typecheck]")
    session.run("mypy", "--strict", "src", "tests")
    session.run("mypy", "--strict", "conftest.py")  # apart: tests/ has a conftest module too


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the docs with warnings as errors and run their examples as doctests."""
    session.install("-e", ".[docs,test]")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")
    session.run("pytest", "--no-cov", "-p", "no:cacheprovider", "docs", "src")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Run the benchmarks (ratios against a baseline measured in the same run)."""
    session.install("-e", ".")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(python=PYTHON)
def fuzz(session: nox.Session) -> None:
    """Fuzz the readers or the writers with atheris: ``nox -s fuzz -- read|write [options]``
    (default: ``read -max_total_time=600``); the corpus grows in ``.fuzz/read`` or
    ``.fuzz/write``, a crashing input is saved in the working folder."""
    session.install("-e", ".", "atheris")
    which, *options = session.posargs or ["read", "-max_total_time=600"]
    if which not in ("read", "write"):
        session.error("give read or write")
    max_len = "-max_len=4096" if which == "read" else "-max_len=20000"
    session.run("python", f"fuzz/fuzz_{which}.py", f".fuzz/{which}", max_len, *options)
