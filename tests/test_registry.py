"""The occasion registry: the packaged catalogue equals the shared domain files, every code is
found in every accepted spelling, unknown codes come with close matches, queries and
extension behave, and search never raises."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emma_osplus import InvalidValueError, MessageError, OccasionCode
from emma_osplus._registry import (
    DATA_FILES,
    Journey,
    Journeys,
    Mailing,
    Mailings,
    Occasion,
    Occasions,
    Registry,
    Selection,
    UnresolvedCode,
    data_bytes,
    default_registry,
)
from emma_osplus.testing._registry import (
    known_occasion_codes,
    occasions,
    registries,
    unknown_occasion_codes,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "domain"
REG = default_registry()


def _lines(name: str) -> list[list[str]]:
    """The packaged file split by hand (an independent reading: no quoting, the last column
    takes the rest of the line)."""
    text = data_bytes(name).decode("utf-8")
    header, *rows = text.splitlines()
    width = len(header.split(";"))
    return [row.split(";", width - 1) for row in rows if row]


# --- the packaged data ----------------------------------------------------------------------


@pytest.mark.parametrize("name", DATA_FILES)
def test_packaged_files_are_the_shared_files_byte_for_byte(name: str) -> None:
    shared = SHARED / name
    if not shared.exists():
        pytest.skip(f"{shared} not present outside the project checkout")
    assert data_bytes(name) == shared.read_bytes()


def test_data_bytes_refuses_other_names() -> None:
    with pytest.raises(ValueError, match="not a packaged data file"):
        data_bytes("../pyproject.toml")


def test_every_occasion_of_the_file_with_code_short_code_and_title() -> None:
    rows = _lines("reku_occasions.csv")
    assert len(rows) == 56
    assert [(o.code.long, o.short_code, o.title) for o in REG.occasions] == [tuple(r) for r in rows]
    assert len(REG) == 56


@pytest.mark.parametrize(
    ("code", "title"),
    [
        ("MCAC170", "Aufhebung Gebührenbefreiung und Bausparvertrag"),
        ("MCAP501", "Änderung e. Girokontos, Aufhebung d. Gebührenfreiheit"),
        ("MCAK006", "Hochzeit/Scheidung/Trennung/Eheähnliche Gemeinschaft (SKP)"),
        ("MCAC201", "Fälligkeit Lebensversicherung und Bausparvertrag für EDB2"),
        ("MCAG005", "x. Geburtstag und Habenumsatz >= x"),
    ],
)
def test_titles_keep_their_umlauts(code: str, title: str) -> None:
    occasion = REG.occasion(code)
    assert occasion.title == title
    assert unicodedata.is_normalized("NFC", occasion.title)


def test_every_mailing_of_the_file_in_order() -> None:
    rows = _lines("advertising_materials.csv")
    assert [(m.provider, m.title, m.codes_text, m.note) for m in REG.mailings] == [
        tuple(r) for r in rows
    ]


EXPECTED_PROVIDERS = {
    "S-Com": ["AG001", "AG002", "AG003", "AG004", "AG005", "AG006", "AC110", "AC120", "AC140",
              "AC170", "AG008", "AJ604"],
    "LBS": ["AC110", "AC120", "AC130", "AC140", "AC160", "AC170", "AC180", "AC190", "AC210"],
    "SKP": ["AK001", "AK002", "AK003", "AK004", "AK005", "AK006", "AK007"],
    "Deka": [],
    "VöV": ["AC130", "AC180", "AC210"],
    "SV": ["AG006", "AU030"],
}  # fmt: skip


@pytest.mark.parametrize(("provider", "shorts"), EXPECTED_PROVIDERS.items())
def test_occasions_per_provider(provider: str, shorts: list[str]) -> None:
    found = REG.occasions_for_provider(provider)
    assert sorted(o.short_code for o in found) == sorted(shorts)
    # catalogue order
    assert list(found) == [o for o in REG.occasions if o.short_code in shorts]


def test_providers_in_order_of_appearance() -> None:
    assert REG.providers() == tuple(EXPECTED_PROVIDERS)


def test_deka_mailings_stay_unlinked() -> None:
    deka = REG.provider_mailings("Deka")
    assert [m.title for m in deka] == [
        "Nichtnutzung Depot",
        "Vermögenswirksame Leistungen letzte Rate",
        "Depoteröffnung",
    ]
    assert all(not m.linked and m.codes_text == "" and m.unresolved == () for m in deka)
    assert all(m.note == "no occasion code given" for m in deka)


def test_the_partner_misprint_stays_visible_in_the_note() -> None:
    """The shared file already gives AU030 for SV's Hausratversicherung and keeps the source's
    spelling AUO30 in the note; both survive, and the mailing links the registered AU030."""
    (sv,) = [m for m in REG.mailings if m.title == "Hausratversicherung"]
    assert sv.occasions == (OccasionCode("MCAU030"),)
    assert '"AUO30" (letter O)' in sv.note
    assert sv.note.endswith("; AU030 is the registered occasion")


def test_notes_with_semicolons_are_kept_whole() -> None:
    (obv,) = [j for j in REG.journeys if j.name == "OBV"]
    assert obv.note == (
        "selected regularly in the KMM; each selection transfers a subscriber list that is put "
        "into the campaign"
    )


def test_journeys_with_their_selection() -> None:
    rows = _lines("customer_journeys.csv")
    assert [(j.name, j.selection.value, j.codes_text, j.note) for j in REG.journeys] == [
        tuple(r) for r in rows
    ]
    kmm = [j.name for j in REG.journeys if j.selection is Selection.KMM]
    assert kmm == ["OBV", "Geschäftsgirokonto", "Optimierung Kartennutzung"]
    assert all(j.occasions == () for j in REG.journeys if j.selection is Selection.KMM)
    (wp,) = [j for j in REG.journeys if j.name == "Neukunde Wertpapier"]
    assert [c.short for c in wp.occasions] == ["AD010", "AD011"]


def test_default_registry_is_shared_and_equal_to_a_fresh_reading() -> None:
    assert default_registry() is REG
    fresh = Registry.from_csv(*(data_bytes(n).decode("utf-8") for n in DATA_FILES))
    assert fresh == REG
    assert hash(fresh) == hash(REG)
    assert fresh is not REG


# --- lookup -----------------------------------------------------------------------------------


def _spellings(o: Occasion) -> list[str]:
    return [o.code.long, o.short_code, o.code.long.lower(), o.short_code.lower(),
            f"  {o.short_code}\t", f"\n{o.code.long.lower()} "]  # fmt: skip


@pytest.mark.parametrize("occasion", list(REG.occasions), ids=lambda o: o.short_code)
def test_every_code_in_every_spelling(occasion: Occasion) -> None:
    for text in _spellings(occasion):
        assert REG.canonical(text) == occasion.code
        assert REG.get(text) is occasion
        assert text in REG
    assert REG.canonical(occasion.code) == occasion.code


@given(known_occasion_codes())
def test_known_codes_resolve_to_their_long_form(text: str) -> None:
    code = REG.canonical(text)
    assert code.short == text.strip().upper()[-5:]
    assert REG.get(text) == REG.occasion(code)


@given(occasions())
def test_occasions_strategy_gives_registered_occasions(occasion: Occasion) -> None:
    assert REG.get(occasion.code.short.lower()) is occasion


@pytest.mark.parametrize(
    ("text", "suggested"),
    [
        ("AUO30", "MCAU030"),  # the partner catalogue's misprint: letter O
        ("MCAG02", "MCAG002"),
        ("mcag0002", "MCAG002"),
        ("GA002", "MCAG002"),  # swapped letters
        ("AK0O7", "MCAK007"),
        ("MCAL61O", "MCAL610"),
        ("MCAU0311", "MCAU031"),  # not a misprint, just close
    ],
)
def test_unknown_codes_raise_e204_with_close_matches(text: str, suggested: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        REG.canonical(text)
    message = info.value.message
    assert (message.code, message.field, message.raw) == ("E204", "ANLASS", text)
    assert message.detail is not None
    assert f"close matches: {suggested}" in message.detail
    assert REG.suggest(text)[0] == OccasionCode(suggested)
    assert REG.get(text) is None
    assert text not in REG


def test_suggestions_are_the_closest_only() -> None:
    assert REG.suggest("AUO30") == (OccasionCode("MCAU030"),)
    assert REG.suggest("AG00") == tuple(OccasionCode(f"AG00{i}") for i in range(1, 6))
    assert REG.suggest("XY999") == ()
    assert REG.suggest("Geburtstag") == ()
    assert REG.suggest("") == ()


def test_no_close_match_says_so() -> None:
    with pytest.raises(InvalidValueError, match="no close match") as info:
        REG.canonical("ZZ999")
    assert info.value.code == "E204"


@pytest.mark.parametrize(
    ("value", "code"), [("", "E208"), ("   ", "E204"), (None, "E204"), (42, "E204")]
)
def test_empty_and_non_text_codes(value: object, code: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        REG.canonical(value)  # type: ignore[arg-type]
    assert info.value.code == code
    assert REG.get(value) is None  # type: ignore[arg-type]
    assert value not in REG


@given(unknown_occasion_codes())
def test_unregistered_valid_codes_are_e204(code: OccasionCode) -> None:
    with pytest.raises(InvalidValueError) as info:
        REG.canonical(code.short)
    assert info.value.code == "E204"
    assert all(s in REG for s in REG.suggest(code))


@settings(max_examples=300)
@given(st.text(st.characters(exclude_categories=())))  # surrogates and controls too
def test_get_suggest_and_search_never_raise_on_any_text(text: str) -> None:
    occasion = REG.get(text)
    assert occasion is None or OccasionCode(text) == occasion.code
    assert all(s in REG for s in REG.suggest(text))
    found = REG.search(text)
    assert set(found) <= set(REG.occasions)
    assert isinstance(REG.family(text), Occasions)
    try:
        REG.canonical(text)
    except InvalidValueError as exc:
        assert exc.code in {"E204", "E208"}


# --- queries ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "shorts"),
    [
        ("geburtstag", ["AC110", "AD010", "AD011", "AG001", "AG002", "AG003", "AG004", "AG005", "AG006"]),
        ("Gebuehren", ["AC170", "AP501"]),
        ("gebührenbefreiung", ["AC170"]),
        ("GEBUHREN", ["AC170", "AP501"]),
        ("Aenderung", ["AP501"]),
        ("änderung", ["AP501"]),
        ("umzug bauspar", ["AC130", "AC180"]),
        ("Eheaehnliche", ["AK006"]),
        ("fälligkeit", ["AC201", "AL617"]),
        ("ag00", ["AG001", "AG002", "AG003", "AG004", "AG005", "AG006", "AG008"]),
        ("MCAU", ["AU030", "AU031"]),
        (">=", ["AG005", "AG006"]),
        ("???", []),
        ("Weihnachten", []),
    ],
)  # fmt: skip
def test_search(query: str, shorts: list[str]) -> None:
    assert [o.short_code for o in REG.search(query)] == shorts


def test_blank_search_lists_everything() -> None:
    assert REG.search("") == REG.occasions
    assert REG.search("  \t") == REG.occasions


@given(occasions(), st.data())
def test_any_title_word_finds_its_occasion(occasion: Occasion, data: st.DataObject) -> None:
    words = [w for w in occasion.title.split() if any(ch.isalnum() for ch in w)]
    word = data.draw(st.sampled_from(words))
    spelled = data.draw(
        st.sampled_from([word, word.upper(), word.lower(), word.replace("ü", "ue").replace("ä", "ae")
                         .replace("ö", "oe").replace("Ä", "Ae")])
    )  # fmt: skip
    assert occasion in REG.search(spelled)


@pytest.mark.parametrize(
    ("prefix", "count"),
    [("AG", 7), ("ag", 7), ("MCAG", 7), (" AK ", 9), ("AF7", 7), ("A", 56), ("ZZ", 0), ("", 56)],
)
def test_family(prefix: str, count: int) -> None:
    found = REG.family(prefix)
    assert len(found) == count
    p = prefix.strip().upper()
    assert all(o.code.long.startswith(p) or o.short_code.startswith(p) for o in found)


def test_families() -> None:
    assert REG.families() == ("AC", "AD", "AF", "AG", "AJ", "AK", "AL", "AN", "AP", "AU")


def test_mailings_and_journeys_for_an_occasion() -> None:
    assert [(m.provider, m.title) for m in REG.mailings_for("ac130")] == [
        ("LBS", "Kundenumzug und Bausparvertrag"),
        ("VöV", "Hausrat"),
    ]
    assert [j.name for j in REG.journeys_for(" mcag004 ")] == ["Junge Erwachsene", "Altersvorsorge"]
    assert REG.mailings_for("AL610") == ()
    assert REG.journeys_for("AC110") == ()
    with pytest.raises(InvalidValueError) as info:
        REG.mailings_for("AUO30")
    assert info.value.code == "E204"
    with pytest.raises(InvalidValueError):
        REG.journeys_for("MCAG02")


@pytest.mark.parametrize("spelling", ["VöV", "vov", "VoeV", "VÖV", "v.ö.v."])
def test_provider_names_ignore_case_umlauts_and_punctuation(spelling: str) -> None:
    assert [o.short_code for o in REG.occasions_for_provider(spelling)] == [
        "AC130",
        "AC180",
        "AC210",
    ]


def test_unknown_provider_is_e207_with_the_known_ones() -> None:
    with pytest.raises(InvalidValueError) as info:
        REG.occasions_for_provider("Allianz")
    assert info.value.code == "E207"
    assert info.value.message.detail == "known providers: S-Com, LBS, SKP, Deka, VöV, SV"
    with pytest.raises(InvalidValueError):
        REG.provider_mailings("")


# --- code texts: ranges and misprints ---------------------------------------------------------


def _shorts(codes: tuple[OccasionCode, ...]) -> list[str]:
    return [c.short for c in codes]


@pytest.mark.parametrize(
    ("text", "found", "unresolved"),
    [
        ("AG001-AG006 AC110", ["AG001", "AG002", "AG003", "AG004", "AG005", "AG006", "AC110"], []),
        ("AG001 - AG003", ["AG001", "AG002", "AG003"], []),
        ("MCAG001–mcag002", ["AG001", "AG002"], []),  # en dash, long forms, lower case
        ("AG005-AG008", ["AG005", "AG006", "AG008"], []),  # AG007 is not registered
        ("AG001,AG002, AG001", ["AG001", "AG002"], []),
        ("", [], []),
        ("AUO30", [], [("AUO30", ["AU030"])]),
        ("AG001 AUO30 AU031", ["AG001", "AU031"], [("AUO30", ["AU030"])]),
        ("AG006-AG001", [], [("AG006-AG001", [])]),
        ("AG001-AK002", [], [("AG001-AK002", [])]),
        ("AG001-AG0O6", [], [("AG001-AG0O6", ["AG006"])]),
        ("AG001-AG002-AG003", [], [("AG001-AG002-AG003", [])]),
        ("XY999", [], [("XY999", [])]),
    ],
)
def test_resolve_codes(
    text: str, found: list[str], unresolved: list[tuple[str, list[str]]]
) -> None:
    codes, bad = REG.resolve_codes(text)
    assert _shorts(codes) == found
    assert [(u.text, _shorts(u.suggestions)) for u in bad] == unresolved
    assert all(u.message.code == "E204" and u.message.raw == u.text for u in bad)


def test_a_misprinted_mailing_keeps_its_text_and_its_suggestion() -> None:
    mailing = REG.mailing("SV", "Hausratversicherung", "AUO30", note="as printed")
    assert mailing.codes_text == "AUO30"
    assert not mailing.linked
    (u,) = mailing.unresolved
    assert u == UnresolvedCode("AUO30", ("MCAU030",))
    assert u.detail == "not in the registry; close matches: MCAU030"
    # it may be attached: nothing is lost, and it serves no occasion
    extended = REG.with_mailings(mailing)
    assert mailing in extended.provider_mailings("SV")
    assert extended.occasions_for_provider("SV") == REG.occasions_for_provider("SV")


def test_range_reasons() -> None:
    (u,) = REG.resolve_codes("AG006-AG001")[1]
    assert u.detail == "range runs backwards; no close match"
    (u,) = REG.resolve_codes("AG001-AK002")[1]
    assert u.reason == "range across two families"


# --- extension without mutation -----------------------------------------------------------------


def test_with_occasions_returns_a_new_registry() -> None:
    own = Occasion("XY001", "Eigener Anlass")
    extended = REG.with_occasions(own)
    assert extended.get("xy001") is own
    assert REG.get("XY001") is None
    assert len(extended) == 57
    assert len(REG) == 56
    assert extended.mailings == REG.mailings
    assert extended != REG
    assert default_registry() == Registry.from_csv(*(data_bytes(n) for n in DATA_FILES))


def test_with_occasions_refuses_a_registered_code() -> None:
    with pytest.raises(InvalidValueError) as info:
        REG.with_occasions(Occasion("AG002", "Andere Geburtstage"))
    assert (info.value.code, info.value.message.raw) == ("E209", "MCAG002")


def test_an_institute_mailing_for_any_occasion() -> None:
    own = Mailing("Sparkasse Musterstadt", "Willkommen", occasions=["al610", "AG002"])
    extended = REG.with_mailings(own)
    assert extended.mailings_for("AL610") == (own,)
    assert own in extended.mailings_for("AG002")
    assert REG.mailings_for("AL610") == ()
    assert "Sparkasse Musterstadt" in extended.providers()
    assert "Sparkasse Musterstadt" not in REG.providers()
    assert extended.occasions_for_provider("sparkasse musterstadt").codes == (
        OccasionCode("MCAG002"),
        OccasionCode("MCAL610"),
    )


def test_mailings_and_journeys_for_unregistered_occasions_are_refused() -> None:
    with pytest.raises(InvalidValueError) as info:
        REG.with_mailings(Mailing("S", "T", occasions=["XY001"]))
    assert (info.value.code, info.value.message.raw) == ("E204", "MCXY001")
    with pytest.raises(InvalidValueError):
        REG.with_journeys(Journey("J", "ReKu", occasions=["XY001"]))
    # own occasion first, then its mailing and journey
    reg = REG.with_occasions(Occasion("XY001", "Eigener Anlass"))
    reg = reg.with_mailings(reg.mailing("S", "T", "xy001")).with_journeys(
        reg.journey("Eigene Strecke", "reku", "XY001")
    )
    assert [m.title for m in reg.mailings_for("XY001")] == ["T"]
    assert [j.name for j in reg.journeys_for("XY001")] == ["Eigene Strecke"]


def test_registry_and_its_objects_are_immutable() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        REG.occasions = Occasions()  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        REG.occasions[0].title = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        REG._by_code[OccasionCode("XY001")] = REG.occasions[0]  # type: ignore[index]
    assert isinstance(REG.occasions, tuple)


@settings(max_examples=50, deadline=None)
@given(registries())
def test_extended_registries_are_consistent(reg: Registry) -> None:
    assert reg.occasions[:56] == REG.occasions
    for occasion in reg.occasions:
        assert reg.canonical(occasion.short_code.lower()) == occasion.code
        expected = [m for m in reg.mailings if occasion.code in m.occasions]
        assert list(reg.mailings_for(occasion.code)) == expected
    for provider in reg.providers():
        served = {c for m in reg.provider_mailings(provider) for c in m.occasions}
        assert set(reg.occasions_for_provider(provider).codes) == served
    assert default_registry() is REG
    assert len(REG) == 56
    assert len(REG.mailings) == 29


# --- domain types ----------------------------------------------------------------------------


def test_journey_rules() -> None:
    with pytest.raises(InvalidValueError) as info:
        Journey("J", "KMM", occasions=["AG001"])
    assert info.value.code == "E209"
    with pytest.raises(InvalidValueError) as info:
        Journey("J", "ReKu")
    assert info.value.code == "E208"
    with pytest.raises(InvalidValueError) as info:
        Journey("J", "IAM")
    assert info.value.code == "E207"
    assert Journey("J", " reku ", occasions=["AG001"]).selection is Selection.REKU


NOT_TEXT: Any = 3


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: Occasion("AG002", ""), "E208"),
        (lambda: Occasion("AG002", "  "), "E208"),
        (lambda: Occasion("AG02", "Titel"), "E204"),
        (lambda: Mailing("", "Titel"), "E208"),
        (lambda: Mailing("P", NOT_TEXT), "E209"),
        (lambda: Mailing("P", "T", note=NOT_TEXT), "E209"),
    ],
)
def test_domain_types_refuse_bad_values(make: Callable[[], object], code: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        make()
    assert info.value.code == code


def test_codes_text_defaults_to_the_codes() -> None:
    m = Mailing("P", "T", occasions=["AG001", "MCAC110"], unresolved=[UnresolvedCode("AUO30")])
    assert m.codes_text == "AG001 AC110 AUO30"


# --- display ---------------------------------------------------------------------------------


def test_reprs() -> None:
    assert repr(REG) == "<Registry: 56 occasions, 29 mailings from 6 providers, 7 journeys>"
    assert repr(REG.occasion("AG002")) == "Occasion('MCAG002', 'Runde Geburtstage')"
    assert repr(REG.mailings[0]) == (
        "Mailing('S-Com', 'Geburtstag', occasions=('MCAG001', 'MCAG002', 'MCAG003', 'MCAG004', "
        "'MCAG005', 'MCAG006', 'MCAC110'), note='seed lists the range AG001-AG006 plus AC110')"
    )
    assert repr(REG.provider_mailings("Deka")[0]) == (
        "Mailing('Deka', 'Nichtnutzung Depot', note='no occasion code given')"
    )
    assert repr(Mailing("P", "T", ["AG001"], codes_text="AG001-AG001")) == (
        "Mailing('P', 'T', occasions=('MCAG001',), codes_text='AG001-AG001')"
    )
    assert repr(REG.journeys[2]) == "Journey('Geschäftsgirokonto', 'KMM')"
    assert repr(REG.mailing("SV", "H", "AUO30")) == (
        "Mailing('SV', 'H', unresolved=(UnresolvedCode('AUO30', suggestions=('MCAU030',)),))"
    )
    assert repr(Occasions()) == "(0 occasions)"
    assert repr(Mailings()) == "(0 mailings)"


def test_reprs_evaluate_back() -> None:
    namespace = {"Occasion": Occasion, "Mailing": Mailing, "Journey": Journey,
                 "UnresolvedCode": UnresolvedCode}  # fmt: skip
    samples: list[object] = [REG.occasions[0], REG.mailings[0], REG.mailings[22], REG.journeys[1],
                             REG.mailing("SV", "H", "AUO30 AG001")]  # fmt: skip
    for obj in samples:
        assert eval(repr(obj), namespace) == obj


def test_result_table_text() -> None:
    text = repr(REG.search("umzug"))
    assert text.splitlines() == [
        "code     short  title",
        "MCAC130  AC130  Umzug und Bausparvertrag",
        "MCAC180  AC180  Erster Umzug und Bausparvertrag",
        "MCAK005  AK005  Umzug (SKP)",
        "MCAU030  AU030  Umzug",
        "MCAU031  AU031  Erster Umzug",
        "(5 occasions)",
    ]
    assert repr(REG.search("volljährigkeit")).endswith("(1 occasion)")
    mailing = REG.mailing("SV", "H", "AUO30 AG001 XY999")
    assert Mailings([mailing]).rows() == [("SV", "H", "AG001 AUO30? (AU030) XY999?")]
    assert Journeys(REG.journeys[:1]).table() == (
        "journey  selection  occasions\nOBV      KMM        -"
    )


def test_result_table_html_escapes() -> None:
    html = REG.search(">=")._repr_html_()
    assert html.startswith("<table><caption>2 occasions</caption><thead><tr><th>code</th>")
    assert "<td>x. Geburtstag und Habenumsatz &gt;= x</td>" in html
    assert html.count("<tr>") == 3


# --- reading catalogue files ------------------------------------------------------------------


HEADER = "code;short_code;title\n"


@pytest.mark.parametrize(
    ("occasions_text", "code", "line"),
    [
        ("code;title\nMCAG002;Runde Geburtstage\n", "E107", 1),
        ("", "E107", 1),
        (HEADER + "MCAG002;AG002\n", "E104", 2),
        (HEADER + "MCAG002;AG002;Runde\nMCAG02;AG02;Kaputt\n", "E204", 3),
        (HEADER + "MCAG002;AG003;Runde\n", "E209", 2),
        (HEADER + "AG002;AG002;Runde\n", "E209", 2),
        (HEADER + "MCAG002;AG002;\n", "E208", 2),
        (HEADER + "MCAG002;AG002;Runde\n\nMCAG002;AG002;Runde\n", "E209", 4),
    ],
)
def test_from_csv_refuses_bad_occasion_files(occasions_text: str, code: str, line: int) -> None:
    with pytest.raises(MessageError) as info:
        Registry.from_csv(occasions_text)
    assert (info.value.code, info.value.message.line) == (code, line)


def test_from_csv_refuses_undecodable_bytes() -> None:
    with pytest.raises(MessageError) as info:
        Registry.from_csv(
            HEADER.encode() + "MCAG002;AG002;Runde Geburtstage\n".encode("cp1252") + b"\xff"
        )
    assert info.value.code == "E101"


def test_from_csv_reads_bom_crlf_and_semicolons_in_the_last_column() -> None:
    data = "\ufeffcode;short_code;title\r\nMCAG002;AG002;Runde; Geburtstage\r\n".encode()
    reg = Registry.from_csv(
        data,
        "provider;title;short_codes;note\nP;T;AG002;a; b\n",
        "journey;selection;short_codes;note\nJ;KMM;;x\n",
    )
    assert reg.occasion("AG002").title == "Runde; Geburtstage"
    assert reg.mailings[0].note == "a; b"
    assert reg.journeys[0].selection is Selection.KMM


@pytest.mark.parametrize(
    ("journeys_text", "code"),
    [
        ("journey;selection;short_codes;note\nJ;IAM;;\n", "E207"),
        ("journey;selection;short_codes;note\nJ;KMM;AG002;\n", "E209"),
        ("journey;selection;short_codes;note\nJ;ReKu;;\n", "E208"),
        ("journey;selection;short_codes\nJ;ReKu;AG002\n", "E107"),
    ],
)
def test_from_csv_refuses_bad_journey_files(journeys_text: str, code: str) -> None:
    with pytest.raises(MessageError) as info:
        Registry.from_csv(HEADER + "MCAG002;AG002;Runde\n", None, journeys_text)
    assert info.value.code == code
    assert info.value.message.line == (1 if code == "E107" else 2)
