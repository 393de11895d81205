"""``emma-osplus inspect`` and ``emma-osplus write``: golden files through the command line,
the summary, exit statuses, and broken or hostile input that must never end in a traceback.

Hostile XML comes from ``tests/corpora/xml-attacks`` (defusedxml ``xmltestdata``,
PSF-2.0, and PayloadsAllTheThings ``XXE Injection/Files``, MIT; see the corpora's SOURCES.md).
"""

from __future__ import annotations

import codecs
import io
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import emma_osplus._cli
from emma_osplus._cli import main
from emma_osplus._jsonview import REFERENCE_1

GOLDEN = Path(__file__).parent / "golden" / "files"
INPUTS = sorted(p for p in GOLDEN.iterdir() if p.suffix != ".json")
ATTACKS = Path(__file__).parent / "corpora" / "xml-attacks"
ATTACK_FILES = sorted(ATTACKS.rglob("*.xml"))
KMM_NAME = "37050198_KMM_K2026001_20261122093000_0001.csv"


@pytest.fixture(autouse=True)
def _files_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the subcommands (a no-op once ``_cli.SUBCOMMANDS`` lists the module)."""
    if "emma_osplus._cli_files" not in emma_osplus._cli.SUBCOMMANDS:
        monkeypatch.setattr(
            emma_osplus._cli,
            "SUBCOMMANDS",
            (*emma_osplus._cli.SUBCOMMANDS, "emma_osplus._cli_files"),
        )


def run(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def run_binary(*argv: str | Path) -> tuple[int, bytes, str]:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")
    err = io.StringIO()
    status = main([str(a) for a in argv], stdout=out, stderr=err)
    out.flush()
    return status, raw.getvalue(), err.getvalue()


def expected_view(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))
    return result


def expected_status(view: dict[str, Any]) -> int:
    if view["kind"] is None:
        return 2
    return 1 if any(m["level"] == "error" for m in view["messages"]) else 0


def assert_no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text
        assert "internal error" not in text


# --------------------------------------------------------------------------------------------
# golden files through the command line


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_inspect_json_golden(path: Path) -> None:
    expected = expected_view(path)
    status, out, err = run("inspect", "--json", path)
    assert status == expected_status(expected), err
    assert out == Path(f"{path}.json").read_text(encoding="utf-8")
    assert_no_traceback(out, err)


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_inspect_summary_golden(path: Path) -> None:
    expected = expected_view(path)
    status, out, err = run("inspect", path)
    assert status == expected_status(expected)
    assert_no_traceback(out, err)
    if expected["kind"] is None:
        assert "E108" in err
        assert "--kind" in err
        assert out == ""
        return
    assert f"kind      {expected['kind']} (" in out
    assert f"result    {'errors' if status else ''}" in out
    for message in expected["messages"][:10]:
        assert message["code"] in out


@pytest.mark.parametrize(
    "path",
    [p for p in INPUTS if expected_status(expected_view(p)) == 0 and "_0002.csv" not in p.name],
    ids=lambda p: p.name,
)
def test_inspect_then_write_gives_the_file(path: Path, tmp_path: Path) -> None:
    status, out, _ = run("inspect", "--json", path)
    assert status == 0
    view_path = tmp_path / "view.json"
    view_path.write_text(out, encoding="utf-8")
    status, data, err = run_binary("write", view_path)
    assert (status, err) == (0, "")
    assert data == path.read_bytes()
    target = tmp_path / path.name
    assert run("write", view_path, "-o", target)[0] == 0
    assert target.read_bytes() == path.read_bytes()


# --------------------------------------------------------------------------------------------
# the summary


def test_summary_masks_addresses_and_limits_messages() -> None:
    path = GOLDEN / "37050198_KMM_K2026001_20261122093000_0002.csv"
    status, out, _ = run("inspect", path)
    assert status == 0
    assert "warnings only (exit status 0)" in out
    assert "W201, line 4, field EMAIL" in out
    assert "anna.schmidt@example.de" not in out.lower()
    status, out, _ = run(
        "inspect", GOLDEN / "37050198_RESP_0_20261122093000_0004.txt", "--messages", "2"
    )
    assert status == 1
    assert "records   4 good, 3 rejected" in out
    assert "messages  5 errors, 0 warnings" in out
    assert "... and 3 more (all of them: --json)" in out
    assert "trailer   SATZART E, BLZ 37050198, ANZAHL 7" in out
    for line in out.splitlines():
        assert "@example.de" not in line or "***@" in line


def test_summary_names_xml_attribute_fields_whole() -> None:
    # the address masking once turned "steuerung/auftrag/@aktion" into "s***@aktion"
    status, out, _ = run("inspect", GOLDEN / "37050198_VREKU_R2026042_20261122093000_0002.xml")
    assert status == 1
    assert "E207, line 4, field steuerung/auftrag/@aktion: Wert nicht in der Codetabelle" in out


_LIST = "KUNDENNUMMER;EMAIL;NACHNAME\r\n" + "".join(
    f"{4711 + i};kunde{i}@example.de;Müller\r\n" for i in range(30)
)


@pytest.mark.parametrize(
    ("codec", "declared", "code", "guessed"),
    [
        ("utf-16-le", None, "E107", "utf-16-le"),  # no BOM: read as windows-1252 garbage
        ("utf-16-be", "utf-8", "E107", "utf-16-be"),
        ("cp850", None, "E101", None),  # ü is 0x81, undecodable in windows-1252
        ("cp1252", "utf-8", "E101", None),
    ],
)
def test_summary_hints_at_a_foreign_encoding(
    tmp_path: Path, codec: str, declared: str | None, code: str, guessed: str | None
) -> None:
    """A file that cannot be decoded, or whose header is missing, gets chardet's guess at
    its encoding on a ``hint`` line (the JSON view is unchanged: the hint is for people)."""
    path = tmp_path / KMM_NAME
    path.write_bytes(_LIST.encode(codec))
    args = ("inspect", path) if declared is None else ("inspect", path, "--encoding", declared)
    status, out, _ = run(*args)
    assert status == 1
    assert f"  {code}, line" in out
    [hint] = [line for line in out.splitlines() if line.startswith("hint ")]
    assert "to chardet" in hint
    if guessed is not None:
        named = hint.split("look like ", 1)[1].split(" to chardet", 1)[0]
        assert codecs.lookup(named).name == codecs.lookup(guessed).name
    assert "hint" not in run(*args, "--json")[1]


def test_no_hint_from_a_pipe() -> None:
    """A pipe cannot be read again from its start: no hint, and no failure either."""
    from emma_osplus._cli_files import _hinter

    read, write = os.pipe()
    os.write(write, _LIST.encode("utf-16-le"))
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        assert _hinter(pipe)("windows-1252") is None


def test_no_hint_for_a_file_in_the_interfaces_encodings(tmp_path: Path) -> None:
    """Errors of other kinds, or a missing column in a windows-1252 file, get no hint."""
    path = tmp_path / KMM_NAME
    path.write_bytes(_LIST.replace("EMAIL", "MAIL", 1).encode("cp1252"))
    status, out, _ = run("inspect", path)
    assert status == 1
    assert "E107" in out
    assert "hint" not in out


def test_summary_of_each_family() -> None:
    _, out, _ = run("inspect", GOLDEN / "37050198_KMM_K2026001_20261122093000_0001.csv")
    assert "encoding  windows-1252 (found as detected, confidence 0.95)" in out
    assert "header    15 columns: KUNDENNUMMER, EMAIL" in out
    assert "records   3 good, 0 rejected" in out
    assert "result    no problems (exit status 0)" in out
    _, out, _ = run("inspect", GOLDEN / "37050198_LIEF_K2026001_20261122093500_0001.xml")
    assert "kind      LIEF (delivery manifest)" in out
    assert "document  read" in out
    status, out, _ = run("inspect", GOLDEN / "37050198_LIEF_K2026001_20261122093500_0002.xml")
    assert status == 1
    assert "document  not usable" in out
    _, out, _ = run("inspect", GOLDEN / "37050198_KMM_K2026001_20261122093000_0003.csv")
    assert "encoding  unknown" in out
    _, out, _ = run("inspect", GOLDEN / "37050198_RESP_0_20261122093000_0005.txt")
    assert "trailer   missing or rejected" in out


# --------------------------------------------------------------------------------------------
# options and exit statuses


def test_kind_option_overrides_the_name(tmp_path: Path) -> None:
    path = tmp_path / "kunden.csv"
    shutil.copy(GOLDEN / "37050198_IAM_I2026007_20261122093000_0001.csv", path)
    assert run("inspect", path)[0] == 2
    status, out, _ = run("inspect", path, "--kind", "IAM", "--json")
    assert status == 0
    assert json.loads(out)["kind"] == "IAM"
    status, _, _ = run("inspect", path, "--kind", "NOPE")
    assert status == 2


def test_bad_name_with_json_prints_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "../x.csv"
    path.write_bytes(b"KUNDENNUMMER;EMAIL\r\n")
    status, out, err = run("inspect", "--json", tmp_path / "x.csv")
    assert status == 2
    view = json.loads(out)
    assert (view["kind"], view["messages"][0]["code"]) == (None, "E108")
    assert "E108" in err


def test_encoding_option(tmp_path: Path) -> None:
    path = tmp_path / KMM_NAME
    path.write_bytes("KUNDENNUMMER;EMAIL;VORNAME\r\n1;a@b.de;Jörg\r\n".encode("cp1252"))
    status, out, _ = run("inspect", path, "--encoding", "utf-8", "--json")
    assert status == 1
    assert [m["code"] for m in json.loads(out)["messages"]] == ["E101"]
    status, out, _ = run("inspect", path, "--encoding", "CP1252", "--json")
    assert status == 0
    view = json.loads(out)
    assert view["encoding"]["source"] == "declared"
    assert view["records"][0]["VORNAME"] == "Jörg"
    status, _, err = run("inspect", path, "--encoding", "ebcdic-cp-de")
    assert status == 2
    assert "--encoding" in err
    xml = GOLDEN / "37050198_QUIT_0_20261122100000_0001.xml"
    status, _, err = run("inspect", xml, "--encoding", "windows-1252")
    assert status == 2
    assert "UTF-8" in err
    assert run("inspect", xml, "--encoding", "utf-8")[0] == 0


def test_unreadable_paths(tmp_path: Path) -> None:
    status, _, err = run("inspect", tmp_path / KMM_NAME)
    assert status == 2
    assert "cannot read it" in err
    folder = tmp_path / KMM_NAME.replace(".csv", "_dir.csv")
    folder.mkdir()
    status, _, err = run("inspect", folder)
    assert status == 2
    assert "is a directory" in err
    assert run("inspect", tmp_path, "--kind", "KMM")[0] == 2
    assert run("inspect", GOLDEN / KMM_NAME, "--messages", "-1")[0] == 2
    assert run("inspect")[0] == 2


@pytest.mark.skipif(
    sys.platform == "win32" or (hasattr(os, "geteuid") and os.geteuid() == 0),
    reason="permissions do not bind root",
)
def test_unreadable_file(tmp_path: Path) -> None:  # pragma: no cover - not as root
    path = tmp_path / KMM_NAME
    path.write_bytes(b"KUNDENNUMMER;EMAIL\r\n")
    path.chmod(0)
    assert run("inspect", path)[0] == 2


@pytest.mark.parametrize("kind", sorted(REFERENCE_1.kinds))
def test_empty_file_of_every_kind(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    status, out, err = run("inspect", path, "--kind", kind, "--json")
    assert status == 1
    assert json.loads(out)["messages"]
    assert_no_traceback(out, err)


# --------------------------------------------------------------------------------------------
# hostile and random input


@pytest.mark.parametrize("path", ATTACK_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("kind", ["LIEF", "VREKU", "QUIT"])
def test_xml_attacks_are_refused(path: Path, kind: str) -> None:
    """Every attack file is refused with E105 (the harmless ``simple*.xml`` with E106: they
    are not documents of the kind), as exit status 1 and without a traceback."""
    status, out, err = run("inspect", path, "--kind", kind, "--json")
    assert status == 1
    codes = [m["code"] for m in json.loads(out)["messages"]]
    assert codes[:1] == (["E106"] if path.name.startswith("simple") else ["E105"])
    assert_no_traceback(out, err)
    status, out, err = run("inspect", path, "--kind", kind)
    assert status == 1
    assert_no_traceback(out, err)


@pytest.mark.parametrize("path", ATTACK_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("kind", ["KMM", "CONS", "RESP"])
def test_xml_attacks_as_other_kinds(path: Path, kind: str) -> None:
    status, out, err = run("inspect", path, "--kind", kind)
    assert status == 1
    assert_no_traceback(out, err)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.one_of(
        st.binary(max_size=2000),
        st.sampled_from([p.read_bytes() for p in INPUTS]).flatmap(
            lambda good: st.integers(0, max(0, len(good) - 1)).map(lambda cut: good[:cut])
        ),
    ),
    kind=st.sampled_from(sorted(REFERENCE_1.kinds)),
    as_json=st.booleans(),
)
def test_random_bytes_never_end_in_a_traceback(
    scratch: Path, data: bytes, kind: str, as_json: bool
) -> None:
    path = scratch / "random.bin"
    path.write_bytes(data)
    argv: list[str | Path] = ["inspect", path, "--kind", kind]
    if as_json:
        argv.append("--json")
    status, out, err = run(*argv)
    assert status in (0, 1), err
    assert_no_traceback(out, err)
    if as_json:
        view = json.loads(out)
        assert status == (1 if any(m["level"] == "error" for m in view["messages"]) else 0)


# --------------------------------------------------------------------------------------------
# write


def test_write_from_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    path = GOLDEN / "37050198_CONS_0_20261123020000_0001.csv"
    text = Path(f"{path}.json").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text), encoding="utf-8"))
    status, data, _ = run_binary("write", "-")
    assert status == 0
    assert data == path.read_bytes()
    monkeypatch.setattr(sys, "stdin", io.StringIO(text.decode("utf-8")))
    assert run_binary("write", "-")[1] == path.read_bytes()


@pytest.mark.parametrize(
    ("content", "status", "problem"),
    [
        (b"", 2, "not valid JSON"),
        (b"{", 2, "not valid JSON"),
        (b"[]", 2, "expected an object"),
        (b'{"kind": "KMM"}', 2, "required field missing @ $.profile"),
        (b'{"kind": "KMM", "profile": "reference-1", "records": [{"EMAIL": 1}]}', 2, "expected text, got a number @ $.records[0]['EMAIL']"),
        (b'{"kind": "KMM", "kind": "KMM"}', 2, "key 'kind' twice"),
        (b"\xff\xfe{}", 2, "not UTF-8"),
        (
            b'{"kind": "KMM", "profile": "reference-1", "header": {"columns": ["KUNDENNUMMER", "EMAIL"]},'
            b' "records": [{"KUNDENNUMMER": "1", "EMAIL": "anna.schmidt@example..de"}]}',
            1,
            "E201, line 2, field EMAIL",
        ),
        (  # a vreku control file in a VIAM view
            (GOLDEN / "37050198_VREKU_R2026042_20261122093000_0001.xml.json")
            .read_bytes()
            .replace(b'"kind": "VREKU"', b'"kind": "VIAM"'),
            1,
            "E106, field steuerung/@typ",
        ),
    ],
)  # fmt: skip
def test_write_refuses(tmp_path: Path, content: bytes, status: int, problem: str) -> None:
    path = tmp_path / "view.json"
    path.write_bytes(content)
    out_path = tmp_path / "out.csv"
    got, out, err = run("write", path, "-o", out_path)
    assert got == status
    assert problem in err
    assert out == ""
    assert not out_path.exists()
    assert "anna.schmidt@" not in err
    assert_no_traceback(err)


def test_write_paths(tmp_path: Path) -> None:
    view = Path(f"{GOLDEN / KMM_NAME}.json")
    assert run("write", tmp_path / "missing.json")[0] == 2
    assert run("write", tmp_path)[0] == 2
    assert run("write", view, "-o", tmp_path)[0] == 2
    assert run("write", view, "-o", tmp_path / "no" / "such" / "dir.csv")[0] == 2
    status, _, err = run("write", view)  # a text-only standard output
    assert status == 2
    assert "-o OUT" in err


def test_output_closed_early_ends_quietly(tmp_path: Path) -> None:
    """``inspect ... | head``: when the reader of the output goes away, the command stops
    without a traceback or a "Broken pipe" complaint, with the status of SIGPIPE (141)."""
    import subprocess

    rows = "".join(f"{n:010d};kunde{n}@example.de\r\n" for n in range(1, 20_001))
    path = tmp_path / "37050198_KMM_K2026001_20261122083000_0001.csv"
    path.write_bytes(("KUNDENNUMMER;EMAIL\r\n" + rows).encode("cp1252"))
    command = [sys.executable, "-m", "emma_osplus", "inspect", str(path), "--json"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        assert proc.stdout.read(100)
        proc.stdout.close()
        err = proc.stderr.read().decode()
        status = proc.wait(timeout=120)
    assert "Traceback" not in err
    assert "Broken pipe" not in err
    assert status == 141


def test_doctests_collected_first_share_the_package_modules() -> None:
    """Naming a module for its doctests before these tests, in one pytest run, used to load
    ``_messages`` twice (pytest's importlib mode), so the summary listed none of the messages;
    the project's root ``conftest.py`` imports the package before collection."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(root / "src" / "emma_osplus" / "_messages.py"),
        str(Path(__file__)),  # the whole file: a test id ("file::test") hides the fault
        "-k",
        "_messages or test_summary_masks_addresses_and_limits_messages",
    ]
    done = subprocess.run(
        command, check=False, cwd=root, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "3 passed" in done.stdout
