"""Notebook display: text and HTML for parsed files, funnel reports, simulation results and
pending work items; HTML is escaped and addresses are masked unless asked for (issue 8,
"Notebook display").

The golden files of ``tests/golden/files/`` (each input beside its JSON view) are summarised
both by streaming the file and from its view; both summaries must agree.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from emma_osplus import Message, Mode
from emma_osplus._consent import ConsentEvent
from emma_osplus._display import (
    ParsedFile,
    PendingView,
    html_table,
    mask,
    pending_view,
    summarize_file,
    text_table,
)
from emma_osplus._feedback import FeedbackState, InstituteSettings
from emma_osplus._journeys import JourneyPlan
from emma_osplus._jsonview import message_to_json
from emma_osplus._simulation import Assumptions, simulate, synthetic_subscribers
from emma_osplus._subscribers import read_subscriber_list

GOLDEN = Path(__file__).parent / "golden" / "files"
INPUTS = sorted(p for p in GOLDEN.iterdir() if p.suffix != ".json")
SCRIPT = "<script>alert('x')</script>"
T = dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.timezone.utc)


def view_of(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))
    return result


def no_live_markup(page: str) -> bool:
    """True when the page has no tag that a value could have smuggled in."""
    return "<script" not in page.lower() and "<b>" not in page and "<img" not in page


# -- shared renderers ----------------------------------------------------------------------------


def test_html_table_escapes_everything() -> None:
    page = html_table((SCRIPT,), [(SCRIPT,), ("a & b",)], caption=SCRIPT, numeric=[0])
    assert no_live_markup(page)
    assert page.count("&lt;script&gt;") == 3
    assert "a &amp; b" in page
    assert 'style="text-align:right"' in page


def test_text_table_aligns_columns() -> None:
    assert text_table(("a", "long"), [("xyz", "1")]) == "a    long\nxyz  1"


@pytest.mark.parametrize(
    ("text", "shown", "masked"),
    [
        ("anna@example.de", "anna@example.de", "a***@example.de"),
        ("x <anna@bücher.de>", "x <anna@bücher.de>", "x <a***@bücher.de>"),
        ("kein Treffer", "kein Treffer", "kein Treffer"),
    ],
)
def test_mask(text: str, shown: str, masked: str) -> None:
    assert mask(text, show_addresses=True) == shown
    assert mask(text) == masked


# -- parsed files --------------------------------------------------------------------------------

KMM = (
    "KUNDENNUMMER;EMAIL;VORNAME;NACHNAME\r\n"
    f"4711;anna.schmidt@example.de;{SCRIPT};Müller\r\n"
    "4712;joerg@@example.de;Jörg;<b>Fett</b>\r\n"
    "4713;peter.meier@example.de;Peter;Meier\r\n"
).encode("cp1252")


def test_parsed_file_escapes_values_and_masks_addresses() -> None:
    parsed = summarize_file(KMM, kind="KMM")
    page = parsed._repr_html_()
    assert no_live_markup(page)
    assert "&lt;script&gt;" in page
    assert "&lt;b&gt;Fett&lt;/b&gt;" in page  # in the rejected record's raw text
    for text in (page, repr(parsed)):
        assert "anna.schmidt@example.de" not in text
        assert "peter.meier@example.de" not in text
        assert "a***@example.de" in text
    assert (parsed.records, parsed.rejected, parsed.errors, parsed.warnings) == (2, 1, 1, 0)
    assert not parsed.ok


def test_parsed_file_shows_addresses_when_asked() -> None:
    shown = summarize_file(KMM, kind="KMM").with_addresses()
    assert "anna.schmidt@example.de" in shown._repr_html_()
    assert "anna.schmidt@example.de" in repr(shown)
    assert "joerg@@example.de" in shown._repr_html_()  # the raw text of the rejected record
    assert "anna.schmidt@example.de" not in repr(shown.with_addresses(False))


def test_parsed_file_keeps_only_the_first_rows_and_messages() -> None:
    lines = ["KUNDENNUMMER;EMAIL"]
    lines += [f"{n};kunde{n}@example.de" for n in range(1, 101)]
    lines += [f"{n};kaputt{n}" for n in range(101, 141)]
    data = ("\r\n".join(lines) + "\r\n").encode("ascii")
    parsed = summarize_file(data, kind="IAM", rows=3, max_messages=10)
    assert (parsed.records, parsed.rejected, parsed.errors) == (100, 40, 40)
    assert len(parsed.first_rows) == 3
    assert len(parsed.messages) == 10
    assert parsed.omitted_messages == 30
    assert "… 97 more records" in repr(parsed)
    assert "… 30 more messages" in repr(parsed)
    assert "(first 10 shown)" in parsed._repr_html_()


def test_parsed_file_from_a_reader() -> None:
    reader = read_subscriber_list(KMM, "KMM", mode=Mode.LENIENT)
    parsed = ParsedFile.from_reader(reader)
    streamed = summarize_file(KMM, kind="KMM")
    assert parsed.kind == "KMM"
    assert (parsed.records, parsed.rejected, parsed.errors) == (2, 1, 1)
    assert parsed.first_rows == streamed.first_rows
    assert parsed.columns == streamed.columns
    assert [m.code for m in parsed.messages] == ["E201"]
    assert parsed.messages[0].raw is not None


@pytest.mark.parametrize("path", [p for p in INPUTS if view_of(p)["kind"]], ids=lambda p: p.name)
def test_golden_summaries_agree(path: Path) -> None:
    """A summary streamed from the file equals the one built from its golden JSON view."""
    view = view_of(path)
    streamed = summarize_file(path.read_bytes(), name=path.name)
    from_view = ParsedFile.from_view(view)
    for field in (
        "kind", "columns", "records", "errors", "warnings", "first_rows", "header", "trailer",
        "document", "profile", "omitted_messages",
    ):  # fmt: skip
        assert getattr(streamed, field) == getattr(from_view, field), field
    assert streamed.encoding == from_view.encoding or (
        streamed.encoding is not None
        and from_view.encoding is not None
        and streamed.encoding.as_json() == from_view.encoding.as_json()
    )
    assert [message_to_json(m) for m in streamed.messages] == [
        message_to_json(m) for m in from_view.messages
    ]
    assert from_view.rejected is None
    assert streamed.summary() == from_view.summary().replace(
        " records,", f" records, {streamed.rejected} rejected,"
    ).replace(" record,", f" record, {streamed.rejected} rejected,")
    assert streamed.kind == view["kind"]
    assert streamed.records == len(view["records"])
    assert [m.code for m in streamed.messages] == [m["code"] for m in view["messages"]][:20]
    # the display works for every kind and masks every address
    for text in (repr(streamed), streamed._repr_html_()):
        assert text
        addresses = re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)
        assert all("***@" in a or a.startswith("***") for a in addresses), addresses


@pytest.mark.parametrize(
    "name",
    [
        "37050198_RESP_0_20261122093000_0001.txt",
        "37050198_LIEF_K2026001_20261122093500_0001.xml",
    ],
)
def test_header_trailer_and_document_are_shown(name: str) -> None:
    parsed = summarize_file((GOLDEN / name).read_bytes(), name=name)
    text = repr(parsed)
    if parsed.kind == "RESP":
        assert parsed.header is not None
        assert parsed.trailer is not None
        assert "header: " in text
        assert "trailer: " in text
    else:
        assert parsed.document is not None
        assert "document: " in text
        assert "document: <code>" in parsed._repr_html_()


def test_from_view_accepts_a_jsonview_object() -> None:
    from emma_osplus._jsonview import REFERENCE_1, to_json_view

    view = to_json_view(KMM, kind="KMM")
    assert ParsedFile.from_view(REFERENCE_1.structure(view)) == ParsedFile.from_view(view)


# -- the funnel report and the simulation result -------------------------------------------------

PLAN = JourneyPlan.fixed(["M-WELCOME", "M-APP"], every=7)


def test_funnel_report_text_and_html() -> None:
    result = simulate(synthetic_subscribers(50, seed=1), PLAN, Assumptions(open=0.5), seed=3)
    report = result.report
    text = repr(report)
    assert text.splitlines()[0].split()[:4] == ["step", "day", "mailing", "sent"]
    assert "M-WELCOME" in text
    assert "(50 entered," in text
    page = report._repr_html_()
    assert page.startswith("<table><caption>Funnel of journey: 50 entered")
    first = report.step(1)
    assert f"{first.opened} ({100 * first.opened / first.sent:.1f} %)" in page
    assert page.count("<tr>") == 1 + len(report.steps)


def test_simulation_result_escapes_names_and_masks_skipped_rows() -> None:
    rows: list[dict[str, str]] = [
        {"KUNDENNUMMER": "1", "EMAIL": "anna@example.de"},
        {"KUNDENNUMMER": "1", "EMAIL": "berta.braun@example.de"},
        {"KUNDENNUMMER": "2", "EMAIL": "carl@@example.de"},
    ]
    result = simulate(rows, PLAN, Assumptions(), name=SCRIPT)
    page = result._repr_html_()
    assert no_live_markup(page)
    assert "&lt;script&gt;" in page
    assert "rows skipped" in page
    for text in (page, repr(result), repr(result.skipped)):
        assert "anna@example.de" not in text
        assert "berta.braun@example.de" not in text
        assert "carl@@example.de" not in text
    assert repr(result).startswith(f"Simulation of {SCRIPT!r} (seed 0): 2 steps")


def test_simulation_result_repr_names_the_leavers() -> None:
    result = simulate(
        synthetic_subscribers(10, seed=1), PLAN, Assumptions(hard_bounce=1, soft_bounce=0)
    )
    assert repr(result).endswith("left: 10 hard_bounce")
    assert "left: 10 hard_bounce" in result._repr_html_()


# -- pending work items --------------------------------------------------------------------------


def _state() -> FeedbackState:
    events = [
        ConsentEvent(4711, "anna.schmidt@example.de", "ABMELDUNG", T, "ESP_LINK", SCRIPT),
        ConsentEvent(
            4712, "bernd@example.de", "HARTBOUNCE", T + dt.timedelta(days=2), "ESP_LINK", "5.1.1"
        ),
        ConsentEvent(4713, "c@example.de", "WIDERSPRUCH", T + dt.timedelta(hours=1), "BRIEF", "B"),
    ]
    state = FeedbackState(InstituteSettings(auto_unsubscribe=False))
    for event in events:
        state = state.receive([event], at=event.at)
    return state


def test_pending_view_lists_items_with_age_and_overdue() -> None:
    view = pending_view(_state(), at=T + dt.timedelta(days=3, hours=5))
    assert len(view) == 3
    assert view.overdue == 2
    rows = view.rows()
    assert [r[1] for r in rows] == ["ABMELDUNG", "WIDERSPRUCH", "HARTBOUNCE"]
    assert [r[5] for r in rows] == ["3 d 5 h", "3 d 4 h", "1 d 5 h"]
    assert [r[6] for r in rows] == ["yes", "yes", ""]
    text = repr(view)
    assert text.endswith("(3 pending items, 2 overdue)")
    assert "anna.schmidt@example.de" not in text
    assert "a***@example.de" in text


def test_pending_view_html_masks_marks_and_escapes() -> None:
    view = pending_view(_state(), at=T + dt.timedelta(days=3))
    page = view._repr_html_()
    assert no_live_markup(page)
    assert page.count("font-weight:bold") == 2
    assert "anna.schmidt@example.de" not in page
    shown = pending_view(_state(), at=T + dt.timedelta(days=3), show_addresses=True)
    assert "anna.schmidt@example.de" in shown._repr_html_()
    assert "anna.schmidt@example.de" in repr(shown)


def test_pending_view_when_nothing_is_pending() -> None:
    state = FeedbackState(InstituteSettings(auto_unsubscribe=True, auto_hard_bounce=True))
    view = pending_view(state.receive(_state().consent_events(), at=T), at=T)
    assert repr(view) == "(no pending items)"
    assert isinstance(view, PendingView)
    assert "0 pending items" in view._repr_html_()


def test_message_text_is_escaped_in_parsed_file() -> None:
    message = Message("E201", line=2, field="EMAIL", raw=SCRIPT, detail=SCRIPT)
    parsed = ParsedFile("KMM", messages=[message], errors=1)
    page = parsed._repr_html_()
    assert no_live_markup(page)
    assert page.count("&lt;script&gt;") == 2


def test_parsed_file_masks_addresses_but_not_fields() -> None:
    """The messages table masks the message and the raw record; the field is a column name
    or an element path, which the masking once took for an address (``l***@name``)."""
    messages = [
        Message("E108", line=8, field="lieferschein/dateien/datei/@name", raw="anna/@localhost"),
        Message("E201", line=2, field="EMAIL", raw="1;anna/@localhost", detail="anna/@localhost"),
    ]
    page = ParsedFile("LIEF", messages=messages, errors=2)._repr_html_()
    assert "lieferschein/dateien/datei/@name" in page
    assert "anna/" not in page
    assert page.count("a***@localhost") == 3
