"""``emma-osplus occasions``: readable tables, provider filter, JSON, wrong calls."""

from __future__ import annotations

import io
import json

from emma_osplus import _cli


def test_command_is_registered() -> None:
    assert "emma_osplus._cli_occasions" in _cli.SUBCOMMANDS


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = _cli.main(["occasions", *argv], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_query_prints_a_table() -> None:
    status, out, err = run("Gebuehren")
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "code     short  title                                                  providers   journeys",
        "MCAC170  AC170  Aufhebung Gebührenbefreiung und Bausparvertrag         S-Com, LBS  -",
        "MCAP501  AP501  Änderung e. Girokontos, Aufhebung d. Gebührenfreiheit  -           -",
        "2 occasions",
    ]


def test_several_words_and_journeys() -> None:
    status, out, _ = run("spezielle", "GEBURTSTAGE")
    assert status == 0
    header, row, summary = out.splitlines()
    assert header.split() == ["code", "short", "title", "providers", "journeys"]
    assert (
        row == "MCAG004  AG004  Spezielle Geburtstage  S-Com      Junge Erwachsene, Altersvorsorge"
    )
    assert summary == "1 occasion"


def test_no_query_lists_the_whole_catalogue() -> None:
    status, out, _ = run()
    lines = out.splitlines()
    assert status == 0
    assert len(lines) == 1 + 56 + 1
    assert lines[-1] == "56 occasions"
    assert lines[1].startswith("MCAC110  AC110  x. Geburtstag und Bausparvertrag")
    assert lines[-2].startswith("MCAU031  AU031  Erster Umzug")


def test_a_code_as_query() -> None:
    status, out, _ = run("ag002")
    assert status == 0
    assert out.splitlines()[1].split("  ")[:3] == ["MCAG002", "AG002", "Runde Geburtstage"]


def test_provider_filter_shows_its_mailings() -> None:
    status, out, _ = run("--provider", "vov")
    assert status == 0
    assert out.splitlines() == [
        "code     short  title                            mailings (VöV)  journeys",
        "MCAC130  AC130  Umzug und Bausparvertrag         Hausrat         -",
        "MCAC180  AC180  Erster Umzug und Bausparvertrag  Hausrat         -",
        "MCAC210  AC210  Letzte Rate Bauspardarlehen      Wohngebäude     -",
        "3 occasions",
    ]


def test_provider_and_query_combine() -> None:
    status, out, _ = run("umzug", "--provider", "LBS")
    assert status == 0
    assert [line[:7] for line in out.splitlines()[1:-1]] == ["MCAC130", "MCAC180"]
    assert "Kundenumzug und Bausparvertrag" in out


def test_provider_without_linked_mailings() -> None:
    status, out, _ = run("--provider", "deka")
    assert status == 0
    assert out.splitlines() == [
        "0 occasions",
        "Deka mailings without an occasion code: Nichtnutzung Depot; "
        "Vermögenswirksame Leistungen letzte Rate; Depoteröffnung",
    ]


def test_unknown_provider_is_a_wrong_call() -> None:
    status, out, err = run("--provider", "Allianz")
    assert (status, out) == (2, "")
    assert "E207" in err
    assert "known providers: S-Com, LBS, SKP, Deka, VöV, SV" in err


def test_no_match_suggests_close_codes() -> None:
    status, out, err = run("AUO30")
    assert (status, out) == (0, "0 occasions\n")
    assert err == "no occasion matches 'AUO30'; did you mean: MCAU030 (Umzug)\n"


def test_json() -> None:
    status, out, err = run("hohe", "geburtstage", "--json")
    assert (status, err) == (0, "")
    assert json.loads(out) == {
        "query": "hohe geburtstage",
        "provider": None,
        "occasions": [
            {
                "code": "MCAG001",
                "short_code": "AG001",
                "family": "AG",
                "title": "Hohe Geburtstage",
                "mailings": [{"provider": "S-Com", "title": "Geburtstag"}],
                "journeys": [],
            }
        ],
        "unlinked_mailings": [],
        "suggestions": [],
    }


def test_json_keeps_umlauts_and_lists_unlinked_mailings() -> None:
    status, out, _ = run("--provider", "Deka", "--json")
    assert status == 0
    assert "Depoteröffnung" in out  # not \\u-escaped
    document = json.loads(out)
    assert document["provider"] == "Deka"
    assert document["occasions"] == []
    assert [m["title"] for m in document["unlinked_mailings"]] == [
        "Nichtnutzung Depot",
        "Vermögenswirksame Leistungen letzte Rate",
        "Depoteröffnung",
    ]
    assert {m["note"] for m in document["unlinked_mailings"]} == {"no occasion code given"}


def test_json_suggestions_when_nothing_matches() -> None:
    _, out, _ = run("MCAG02", "--json")
    assert json.loads(out)["suggestions"] == ["MCAG002"]


def test_json_provider_filter_keeps_only_its_mailings() -> None:
    _, out, _ = run("--provider", "S-Com", "--json", "AC110")
    (occasion,) = json.loads(out)["occasions"]
    assert occasion["mailings"] == [{"provider": "S-Com", "title": "Geburtstag"}]


def test_help_mentions_the_command() -> None:
    out = io.StringIO()
    assert _cli.main(["--help"], stdout=out, stderr=io.StringIO()) == 0
    status, _, _ = run("--help")
    assert status == 0
