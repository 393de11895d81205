"""Bounce classification against a table of real-world diagnostic lines.

``tests/golden/bounces/diagnostics.tsv`` holds the lines (Gmail, Microsoft 365 / Outlook.com,
GMX / web.de, T-Online, Yahoo / AOL, Postfix, Exim, German texts, feedback-loop complaints and
unrecognisable ones), written after the providers' published error texts, each with the class
and the rule expected to decide it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emma_osplus._bounces import RULES, UNKNOWN, BounceClass, BounceRule, classify

TABLE = Path(__file__).parent / "golden" / "bounces" / "diagnostics.tsv"


def load() -> list[tuple[str, str | None, str, str, str]]:
    rows = []
    lines = [line for line in TABLE.read_text("utf-8").splitlines() if not line.startswith("#")]
    assert lines[0].split("\t") == ["source", "status", "class", "rule", "diagnostic"]
    for line in lines[1:]:
        source, status, expected, rule, diagnostic = line.split("\t")
        rows.append((source, None if status == "-" else status, expected, rule, diagnostic))
    return rows


ROWS = load()


def test_the_table_is_large_and_varied() -> None:
    assert len(ROWS) >= 40
    sources = {row[0] for row in ROWS}
    assert {
        "gmail",
        "microsoft",
        "gmx",
        "web.de",
        "t-online",
        "yahoo",
        "postfix",
        "exim",
        "german",
    } <= sources
    assert {row[2] for row in ROWS} == {"hard", "soft", "complaint"}


@pytest.mark.parametrize(
    ("status", "expected", "rule", "diagnostic"),
    [row[1:] for row in ROWS],
    ids=[f"{i:02d}-{row[0]}-{row[3]}" for i, row in enumerate(ROWS)],
)
def test_real_world_line(status: str | None, expected: str, rule: str, diagnostic: str) -> None:
    verdict = classify(diagnostic, status)
    assert (verdict.bounce_class.value, verdict.rule.name) == (expected, rule)


def test_every_rule_is_used_by_the_table() -> None:
    used = {row[3] for row in ROWS}
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    missing = set(names) - used
    assert not missing


@pytest.mark.parametrize(
    ("diagnostic", "status", "expected_status", "expected_reply"),
    [
        ("550-5.1.1 The email account", None, "5.1.1", "550"),
        ("said: 452 4.2.2 Mailbox full", None, "4.2.2", "452"),
        ("user unknown", "5.1.1", "5.1.1", None),
        ("550 5.1.1 user unknown", "4.4.7", "4.4.7", "550"),  # the given status wins
        ("550 5.1.1 user unknown", "garbage", "5.1.1", "550"),  # a malformed one is ignored
        ("IP=203.0.113.7 version 4.16.55.1", None, None, None),
        ("mta1234 (S2017062302) AS(201806281)", None, None, None),
    ],
)
def test_codes_are_read_from_the_text(
    diagnostic: str, status: str | None, expected_status: str | None, expected_reply: str | None
) -> None:
    verdict = classify(diagnostic, status)
    assert (verdict.status, verdict.reply) == (expected_status, expected_reply)


@pytest.mark.parametrize(
    ("diagnostic", "status", "expected"),
    [
        ("user unknown", "4.1.1", BounceClass.SOFT),  # temporary code beats a hard phrase
        ("421 user unknown", None, BounceClass.SOFT),
        ("mailbox full", "5.1.1", BounceClass.SOFT),  # a full mailbox exists
        ("some text", "5.1.3", BounceClass.HARD),
        ("some text", "5.1.7", BounceClass.SOFT),  # the sender's address
        ("some text", "5.6.0", BounceClass.SOFT),
        ("some text", "5.0.0", BounceClass.SOFT),
        ("some text", "2.0.0", BounceClass.SOFT),
        ("Mailbox\r\n  full", None, BounceClass.SOFT),
        ("USER UNKNOWN", None, BounceClass.HARD),
    ],
)
def test_precedence(diagnostic: str, status: str | None, expected: BounceClass) -> None:
    assert classify(diagnostic, status).bounce_class is expected


@given(st.text(max_size=80))
def test_anything_classifies_and_unknown_is_never_hard(text: str) -> None:
    verdict = classify(text)
    assert verdict.bounce_class in set(BounceClass)
    if verdict.rule is UNKNOWN:
        assert verdict.bounce_class is BounceClass.SOFT


def test_custom_rules_replace_the_table() -> None:
    rule = BounceRule("local", BounceClass.HARD, "text", r"gesperrt", "a local convention")
    assert classify("Konto gesperrt", rules=[rule]).rule is rule
    assert classify("user unknown", rules=[rule]).rule is UNKNOWN
    with pytest.raises(ValueError, match="field"):
        BounceRule("bad", BounceClass.SOFT, "header", "x", "")
