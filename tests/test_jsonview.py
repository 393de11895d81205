"""The JSON view: golden files of every kind, round trips, the profile's converter, streaming.

Golden files live in ``tests/golden/files/``: each input file ``<name>`` (named by the
grammar, so the kind comes from the name) beside ``<name>.json``, the view ``inspect --json``
prints.  Bad inputs cover every message code a single file can produce (E101, E104–E108,
E201–E209, and E303/E305/E204 of the XML kinds); E102, E103 and E306 belong to a delivery
(tests/test_verify.py), E109 to a sequence of files.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emma_osplus import (
    FileNameError,
    Message,
    MessageError,
    Mode,
    OccasionCode,
    RecordError,
    StructureError,
)
from emma_osplus._jsonview import (
    REFERENCE_1,
    JsonView,
    JsonViewError,
    _dump,
    dumps,
    from_json_view,
    iter_file_bytes,
    iter_json_view,
    loads,
    message_from_json,
    message_to_json,
    reference_profile,
    to_json_view,
)
from emma_osplus.testing import messages
from emma_osplus.testing._files import InterfaceFile, interface_files

GOLDEN = Path(__file__).parent / "golden" / "files"
INPUTS = sorted(p for p in GOLDEN.iterdir() if p.suffix != ".json")
#: Valid inputs that are not in canonical form (writing their view gives other bytes).
NON_CANONICAL = {"37050198_KMM_K2026001_20261122093000_0002.csv"}


def expected_view(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))
    return result


def has_errors(view: dict[str, Any]) -> bool:
    return any(m["level"] == "error" for m in view["messages"])


# --------------------------------------------------------------------------------------------
# golden files


def test_golden_folder_covers_every_kind_and_file_code() -> None:
    views = [expected_view(p) for p in INPUTS]
    kinds = {v["kind"] for v in views}
    codes = {m["code"] for v in views for m in v["messages"]}
    assert kinds >= {"KMM", "REKU", "IAM", "CONS", "RESP", "LIEF", "VREKU", "VIAM", "QUIT"}
    wanted = {"E101", "E104", "E105", "E106", "E107", "E108"} | {f"E20{i}" for i in range(1, 10)}
    assert wanted <= codes
    clean = {v["kind"] for v in views if v["kind"] and not v["messages"]}
    assert clean == {"KMM", "REKU", "IAM", "CONS", "RESP", "LIEF", "VREKU", "VIAM", "QUIT"}


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_golden_view(path: Path) -> None:
    expected = expected_view(path)
    data = path.read_bytes()
    if expected["kind"] is None:  # a name off the grammar: no kind, E108
        with pytest.raises(FileNameError) as caught:
            to_json_view(data, name=path.name)
        assert [message_to_json(caught.value.message)] == expected["messages"]
        return
    assert to_json_view(data, name=path.name) == expected


@pytest.mark.parametrize(
    "path", [p for p in INPUTS if expected_view(p)["kind"]], ids=lambda p: p.name
)
def test_golden_streamed_json_is_the_stable_text(path: Path) -> None:
    text = Path(f"{path}.json").read_text(encoding="utf-8")
    out = io.StringIO()
    with path.open("rb") as f:
        iter_json_view(f, name=path.name).write_json(out, spool_limit=64)
    assert out.getvalue() == text
    assert dumps(to_json_view(path.read_bytes(), name=path.name)) == text


@pytest.mark.parametrize(
    "path",
    [p for p in INPUTS if expected_view(p)["kind"] and not has_errors(expected_view(p))],
    ids=lambda p: p.name,
)
def test_golden_write_gives_the_canonical_file(path: Path) -> None:
    expected = expected_view(path)
    written = from_json_view(expected)
    if path.name in NON_CANONICAL:
        assert written != path.read_bytes()
        again = to_json_view(written, kind=expected["kind"])
        for key in ("header", "records", "trailer", "document"):
            assert again[key] == expected[key]
    else:
        assert written == path.read_bytes()


@pytest.mark.parametrize(
    "path", [p for p in INPUTS if expected_view(p)["kind"]], ids=lambda p: p.name
)
def test_what_write_accepts_reads_back_clean(path: Path) -> None:
    # the view of any file, errors and all: the writer refuses it, or the file it writes
    # reads back under the view's kind without an error
    view = expected_view(path)
    try:
        written = from_json_view(view)
    except (MessageError, JsonViewError):  # a rule broken, or no header or document
        assert has_errors(view)
        return
    assert not has_errors(to_json_view(written, kind=view["kind"]))


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaf_paths(item, (*path, index))
    else:
        yield path


_CLEAN_VIEWS = [p for p in INPUTS if expected_view(p)["kind"] and not has_errors(expected_view(p))]
_ODD_VALUES = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        ["", " ", "0", "-1", "=1+1", "a@b", "ä€", "\r\n", "\x00", "x" * 300, "2026-13-01",
         "2026-11-22T09:30:00", "20261122093000", "MCAG002", "ZZ999", "vreku", "viam", "ok",
         "abonnenten", "windows-1252", "latin-1"]
    ),
    st.integers(-2, 10**12),
    st.none(),
    st.booleans(),
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_write_refuses_a_damaged_view_or_writes_a_clean_file(data: st.DataObject) -> None:
    # golden views with up to three values replaced by odd ones: the writer refuses the view
    # with a reason, or what it writes reads back under the view's kind without an error
    # and writes the same bytes again (the invariant whose break fuzzing found, see below)
    view = expected_view(data.draw(st.sampled_from(_CLEAN_VIEWS), label="file"))
    paths = [p for p in _leaf_paths(view) if p[0] not in ("messages", "kind", "profile")]
    for _ in range(data.draw(st.integers(0, 3))):
        *parents, last = data.draw(st.sampled_from(paths))
        target = view
        for key in parents:
            target = target[key]
        target[last] = data.draw(_ODD_VALUES)
    if view["kind"] in ("VREKU", "VIAM"):  # a control file under either name
        view["kind"] = data.draw(st.sampled_from(["VREKU", "VIAM"]))
    try:
        written = from_json_view(view)
    except (MessageError, JsonViewError):
        return
    again = to_json_view(written, kind=view["kind"])
    assert not has_errors(again), again["messages"]
    assert from_json_view(again) == written


def test_control_file_of_the_other_kind_is_refused() -> None:
    # found by fuzzing the writer: a VIAM view holding a vreku control file was written, and
    # the file was E106 when read as the VIAM it is named
    view = expected_view(GOLDEN / "37050198_VREKU_R2026042_20261122093000_0001.xml")
    view["kind"] = "VIAM"
    with pytest.raises(MessageError, match="E106") as caught:
        from_json_view(view)
    assert caught.value.message.field == "steuerung/@typ"
    view["kind"] = "VREKU"
    assert (
        from_json_view(view)
        == (GOLDEN / "37050198_VREKU_R2026042_20261122093000_0001.xml").read_bytes()
    )


def test_non_canonical_sample_is_canonicalised() -> None:
    path = GOLDEN / "37050198_KMM_K2026001_20261122093000_0002.csv"
    written = from_json_view(expected_view(path))
    assert written == (
        b"KUNDENNUMMER;EMAIL;VORNAME;Notiz\r\n"
        b'0000004711;Anna.Schmidt@example.de;Anna;"zwei\nZeilen"\r\n'
        b"0000000042;anna.schmidt@example.de;Annette;\r\n"
    )


# --------------------------------------------------------------------------------------------
# round trips over generated files of every kind


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interface_files())
def test_round_trip_every_kind(file: InterfaceFile) -> None:
    """Reading a canonical file into its view and writing the view gives the file back —
    through the JSON text too (``loads(dumps(view))``), and streamed exactly as ``dumps``."""
    view = to_json_view(file.data, name=file.name, encoding=file.encoding)
    assert not has_errors(view), view["messages"]
    assert view["kind"] == file.kind
    assert from_json_view(view) == file.data
    text = dumps(view)
    assert from_json_view(loads(text)) == file.data
    out = io.StringIO()
    iter_json_view(file.data, name=file.name, encoding=file.encoding).write_json(out)
    assert out.getvalue() == text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interface_files("KMM", "REKU", "IAM", "CONS", "RESP", "QUIT"))
def test_round_trip_with_detected_encoding(file: InterfaceFile) -> None:
    """Without a declared encoding the detected one writes the same bytes back (subscriber
    lists in windows-1252 and UTF-8; ISO-8859 files may carry C1 characters that only a
    declaration makes readable)."""
    if file.encoding.startswith("iso-8859"):
        return
    view = to_json_view(file.data, name=file.name)
    assert not has_errors(view), view["messages"]
    assert from_json_view(view) == file.data


@settings(max_examples=100, deadline=None)
@given(messages())
def test_message_json_round_trip(message: Message) -> None:
    as_json = message_to_json(message)
    back = message_from_json(as_json)
    assert (back.code, back.line, back.field, back.raw) == (
        message.code,
        message.line,
        message.field,
        message.raw,
    )
    assert message_to_json(back) == as_json


# --------------------------------------------------------------------------------------------
# views that are not views


def kmm_view(**changes: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "kind": "KMM",
        "profile": "reference-1",
        "encoding": {"name": "windows-1252", "source": "declared", "confidence": 1.0},
        "header": {"columns": ["KUNDENNUMMER", "EMAIL"]},
        "records": [{"KUNDENNUMMER": "4711", "EMAIL": "anna@example.de"}],
        "trailer": None,
        "document": None,
        "messages": [],
    }
    view.update(changes)
    return view


BAD_VIEWS: list[tuple[str, Any, str]] = [
    ("not an object", ["KMM"], "$: expected an object, got a list"),
    ("kind missing", {"profile": "reference-1"}, "required field missing @ $.kind"),
    ("kind unknown", kmm_view(kind="XYZ"), "$.kind: 'XYZ'"),
    ("other profile", kmm_view(profile="reference-2"), "$.profile: 'reference-2'"),
    ("number as text", kmm_view(records=[{"KUNDENNUMMER": 4711}]), "expected text, got a number @ $.records[0]['KUNDENNUMMER']"),
    ("null as text", kmm_view(records=[{"EMAIL": None}]), "expected text, got null @ $.records[0]['EMAIL']"),
    ("records not a list", kmm_view(records={"a": "b"}), "@ $.records"),
    ("unknown key", {**kmm_view(), "record": []}, "extra fields found (record) @ $"),
    ("unknown code", kmm_view(messages=[{"code": "E999"}]), "unknown message code 'E999' @ $.messages[0]"),
    ("level mismatch", kmm_view(messages=[{"code": "E201", "level": "warning"}]), "does not match code E201"),
    ("line not positive", kmm_view(messages=[{"code": "E201", "line": 0}]), "line 0"),
    ("line as bool", kmm_view(messages=[{"code": "E201", "line": True}]), "expected an integer, got true/false"),
    ("encoding unknown", kmm_view(encoding={"name": "ebcdic", "source": "declared", "confidence": 1}), "encoding 'ebcdic'"),
    ("encoding alias", kmm_view(encoding={"name": "latin-1", "source": "declared", "confidence": 1}), "write it as 'iso-8859-1'"),
    ("encoding source", kmm_view(encoding={"name": "utf-8", "source": "guessed", "confidence": 1}), "source 'guessed'"),
    ("confidence > 1", kmm_view(encoding={"name": "utf-8", "source": "bom", "confidence": 2}), "confidence 2"),
    ("header missing", kmm_view(header=None), "$.header: missing"),
    ("columns not text", kmm_view(header={"columns": [1]}), "$.header"),
    ("header extra key", kmm_view(header={"columns": ["EMAIL"], "x": 1}), "extra keys ['x']"),
    ("CSV with document", kmm_view(document={"a": "b"}), "$.document: must be null"),
    ("CSV with trailer", kmm_view(trailer={"ANZAHL": "1"}), "$.trailer: must be null"),
    ("XML with records", {"kind": "QUIT", "profile": "reference-1", "records": [{}], "document": {}}, "$.records: must be []"),
    ("XML without document", {"kind": "QUIT", "profile": "reference-1"}, "$.document: missing"),
    ("XML not UTF-8", {"kind": "QUIT", "profile": "reference-1", "document": {}, "encoding": {"name": "windows-1252", "source": "declared", "confidence": 1}}, "UTF-8"),
    ("RESP without header", {"kind": "RESP", "profile": "reference-1"}, "$.header: missing"),
    *[
        # RESP is windows-1252 whatever a view says: another encoding would change the
        # records' widths (UTF-8) or their characters (€ and ¤ in ISO-8859-15)
        (f"RESP in {name}", {"kind": "RESP", "profile": "reference-1", "header": {}, "encoding": {"name": name, "source": "declared", "confidence": 1}}, f"$.encoding.name: {name!r}, not 'windows-1252'")
        for name in ("utf-8", "iso-8859-15", "iso-8859-1")
    ],
]  # fmt: skip


@pytest.mark.parametrize(("case", "view", "problem"), BAD_VIEWS, ids=[c[0] for c in BAD_VIEWS])
def test_not_a_view(case: str, view: Any, problem: str) -> None:
    with pytest.raises(JsonViewError) as caught:
        from_json_view(view)
    assert problem in str(caught.value), caught.value.problems


def test_view_data_are_checked_like_a_writer_checks_them() -> None:
    with pytest.raises(RecordError) as caught:
        from_json_view(kmm_view(records=[{"KUNDENNUMMER": "4711", "EMAIL": "anna@@example.de"}]))
    assert (caught.value.code, caught.value.message.line, caught.value.message.field) == (
        "E201",
        2,
        "EMAIL",
    )
    twice = [
        {"KUNDENNUMMER": "4711", "EMAIL": "a@b.de"},
        {"KUNDENNUMMER": "04711", "EMAIL": "c@d.de"},
    ]
    with pytest.raises(RecordError) as caught:
        from_json_view(kmm_view(records=twice))
    assert caught.value.code == "E203"
    with pytest.raises(StructureError) as caught2:
        from_json_view(kmm_view(records=[{"KUNDENNUMMER": "4711", "EMAIL": "a@b.de", "X": "1"}]))
    assert (caught2.value.code, caught2.value.message.field) == ("E104", "X")
    euro = kmm_view(
        encoding={"name": "iso-8859-1", "source": "declared", "confidence": 1.0},
        header={"columns": ["KUNDENNUMMER", "EMAIL", "Preis"]},
        records=[{"KUNDENNUMMER": "1", "EMAIL": "a@b.de", "Preis": "5 €"}],
    )
    with pytest.raises(RecordError) as caught:
        from_json_view(euro)
    assert (caught.value.code, caught.value.message.field) == ("E206", "Preis")


def test_resp_trailer_in_the_view_must_agree() -> None:
    view = expected_view(GOLDEN / "37050198_RESP_0_20261122093000_0001.txt")
    view["records"] = view["records"][1:]
    with pytest.raises(StructureError) as caught:
        from_json_view(view)
    assert caught.value.code == "E104"
    view["trailer"] = None  # computed when absent
    data = from_json_view(view)
    assert to_json_view(data, kind="RESP")["trailer"]["ANZAHL"] == str(len(view["records"]))


def test_xml_document_is_checked_like_a_file() -> None:
    view = expected_view(GOLDEN / "37050198_VREKU_R2026042_20261122093000_0001.xml")
    view["document"]["auftrag"]["bezeichnung"] = "Runde Geburtstage"
    with pytest.raises(MessageError, match="E303") as caught:
        from_json_view(view)
    assert caught.value.code == "E303"


def test_cons_is_written_in_canonical_column_order() -> None:
    view = expected_view(GOLDEN / "37050198_CONS_0_20261123020000_0001.csv")
    canonical = from_json_view(view)
    view["header"]["columns"] = list(reversed(view["header"]["columns"]))
    assert from_json_view(view) == canonical


def test_messages_are_not_written() -> None:
    with_messages = kmm_view(messages=[{"code": "W201", "line": 2, "message": "x"}])
    assert from_json_view(with_messages) == from_json_view(kmm_view())


def test_iter_file_bytes_streams_the_same_bytes() -> None:
    view = expected_view(GOLDEN / "37050198_RESP_0_20261122093000_0001.txt")
    assert b"".join(iter_file_bytes(view)) == from_json_view(view)


# --------------------------------------------------------------------------------------------
# JSON text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Expecting value at line 1"),
        ('{"kind": "KMM",}', "at line 1"),
        ('{"kind": "KMM", "kind": "IAM"}', "key 'kind' twice"),
        ('{"x": NaN}', "NaN is not a JSON value"),
        ("[1, 2]", "expected an object, got a list"),
        ('"text"', "expected an object, got text"),
        (b'{"x": "\xff"}', "not UTF-8"),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_loads_refuses(text: str | bytes, problem: str) -> None:
    with pytest.raises(JsonViewError) as caught:
        loads(text)
    assert problem in str(caught.value)


def test_loads_takes_utf8_with_bom_and_dumps_is_stable() -> None:
    view = kmm_view()
    text = dumps(view)
    assert text.endswith("}\n")
    assert '\n  "kind": "KMM",' in text
    assert loads(("\ufeff" + text).encode("utf-8")) == view
    assert dumps(loads(text)) == text
    assert dumps(REFERENCE_1.structure(view)) == dumps(
        REFERENCE_1.unstructure(REFERENCE_1.structure(view))
    )


def test_dumps_keeps_non_ascii() -> None:
    assert '"Jörg €"' in dumps({"name": "Jörg €"})


# --------------------------------------------------------------------------------------------
# profiles, kinds, modes


def test_each_profile_has_its_own_converter() -> None:
    syntax_only = reference_profile(occasions=OccasionCode)
    assert syntax_only.converter is not REFERENCE_1.converter
    assert syntax_only.kinds.keys() == REFERENCE_1.kinds.keys()
    # an occasion unknown to the registry is fine for the syntax-only profile
    data = b"KUNDENNUMMER;EMAIL;ANLASS\r\n0000004711;a@b.de;MCZZ999\r\n"
    assert syntax_only.to_json_view(data, kind="REKU")["messages"] == []
    assert [m["code"] for m in to_json_view(data, kind="REKU")["messages"]] == ["E204"]
    assert syntax_only.from_json_view(syntax_only.to_json_view(data, kind="REKU")) == data


def test_kind_from_name_or_given() -> None:
    data = (GOLDEN / "37050198_IAM_I2026007_20261122093000_0001.csv").read_bytes()
    assert to_json_view(data, name="37050198_KMM_K1_20261122093000_0001.csv")["kind"] == "KMM"
    assert to_json_view(data, kind="IAM", name="whatever.csv")["kind"] == "IAM"
    with pytest.raises(ValueError, match="give the kind or the file name"):
        to_json_view(data)
    with pytest.raises(ValueError, match="no kind 'XYZ'"):
        to_json_view(data, kind="XYZ")
    with pytest.raises(FileNameError):
        to_json_view(data, name="../37050198_IAM_I1_20261122093000_0001.csv")


def test_declared_encoding_is_strict() -> None:
    data = "KUNDENNUMMER;EMAIL;VORNAME\r\n1;a@b.de;Jörg\r\n".encode("cp1252")
    view = to_json_view(data, kind="KMM", encoding="utf-8")
    assert [m["code"] for m in view["messages"]] == ["E101"]
    view = to_json_view(data, kind="KMM", encoding="cp1252")
    assert view["encoding"] == {"name": "windows-1252", "source": "declared", "confidence": 1.0}
    assert view["records"][0]["VORNAME"] == "Jörg"


def test_strict_mode_raises_on_the_first_error() -> None:
    data = (GOLDEN / "37050198_KMM_K2026001_20261122093000_0006.csv").read_bytes()
    with pytest.raises(RecordError) as caught:
        to_json_view(data, kind="KMM", mode=Mode.STRICT)
    assert caught.value.code == "E201"
    resp = (GOLDEN / "37050198_RESP_0_20261122093000_0002.txt").read_bytes()
    with pytest.raises(StructureError):
        to_json_view(resp, kind="RESP", mode=Mode.STRICT)


def test_structure_gives_a_view_object() -> None:
    view = REFERENCE_1.structure(
        expected_view(GOLDEN / "37050198_KMM_K2026001_20261122093000_0002.csv")
    )
    assert isinstance(view, JsonView)
    assert [m.code for m in view.messages] == ["W201"]
    assert view.errors == []
    assert view.encoding is not None
    assert view.encoding.codec == "utf-8"


# --------------------------------------------------------------------------------------------
# streaming


def test_stream_counts_and_order() -> None:
    data = (GOLDEN / "37050198_KMM_K2026001_20261122093000_0002.csv").read_bytes()
    stream = iter_json_view(data, name="37050198_KMM_K1_20261122093000_0001.csv")
    events = list(stream)
    assert [type(e).__name__ for e in events] == ["dict", "dict", "Message"]
    assert (stream.records, stream.rejected, stream.errors, stream.warnings) == (2, 0, 0, 1)
    resp = iter_json_view(
        (GOLDEN / "37050198_RESP_0_20261122093000_0004.txt").read_bytes(), kind="RESP"
    )
    assert resp.start().header is not None
    list(resp)
    assert (resp.records, resp.rejected, resp.errors) == (4, 3, 5)
    assert resp.trailer is not None


def _resp_chunks(details: int) -> Iterator[bytes]:
    """A RESP file of *details* records made on the fly (never whole in memory)."""
    template = (GOLDEN / "37050198_RESP_0_20261122093000_0001.txt").read_bytes().split(b"\r\n")
    yield template[0] + b"\r\n"
    detail = template[2]
    total = 0
    for i in range(details):
        customer = 1000 + i
        total += customer
        yield b"R%010d" % customer + detail[11:375] + b"evt-%-21d" % i + b"\r\n"
    yield (b"E37050198%010d%017d" % (details, total)).ljust(400) + b"\r\n"


class _Sink(io.TextIOBase):
    def __init__(self) -> None:
        self.size = 0

    def write(self, text: str) -> int:
        self.size += len(text)
        return len(text)


def _peak(details: int) -> tuple[int, int]:
    sink = _Sink()
    tracemalloc.start()
    try:
        iter_json_view(_resp_chunks(details), kind="RESP").write_json(sink)  # type: ignore[arg-type]
        return tracemalloc.get_traced_memory()[1], sink.size
    finally:
        tracemalloc.stop()


def test_write_json_does_not_hold_the_records() -> None:
    small_peak, small_size = _peak(2_000)
    large_peak, large_size = _peak(8_000)
    assert large_size > 3.9 * small_size
    assert large_peak < 1.3 * small_peak, (small_peak, large_peak)


@settings(max_examples=200)
@given(st.dictionaries(st.text(), st.text(), min_size=1), st.integers(0, 8))
def test_fast_record_dump_is_json_dumps(record: dict[str, str], indent: int) -> None:
    text = json.dumps(record, ensure_ascii=False, indent=2).replace("\n", "\n" + " " * indent)
    assert _dump(record, indent) == text


@settings(max_examples=20, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(sorted(REFERENCE_1.kinds)))
def test_any_bytes_give_a_view(data: bytes, kind: str) -> None:
    view = to_json_view(data, kind=kind)
    assert view["kind"] == kind
    assert dumps(view)


def test_benchmark_runner_smoke(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    load_benchmark: Callable[[str], ModuleType],
) -> None:
    """``benchmarks/bench_throughput.py`` runs on tiny sizes (its figures are in
    docs/performance.md; a benchmark, not a timed test).  Each reader, the reference ones
    included, is checked to have read every row (the runner asserts the counts)."""
    module = load_benchmark("bench_throughput")
    assert module.main(["--rows", "200", "--resp-records", "200", "--skip-memory"]) == 0
    out = capsys.readouterr().out
    assert "ratio to csv.reader" in out
    assert module.REFERENCE_FLOOR in out
    assert module.REFERENCE_IN_MEMORY in out
    assert "ratio to slicing" in out
    sample = tmp_path / "resp.txt"
    sample.write_bytes(b"".join(module.responses(50)))
    assert module._child("resp", str(sample)) == 0
    assert int(capsys.readouterr().out) > 0
