"""The hardened XML engine: attack documents refused before parsing, schema errors with lines,
the generic document engine (layouts as data) and the canonical writer; plus the golden files
of every XML kind in ``tests/golden/xml``.

Attack documents come from the third-party corpus ``tests/corpora/xml-attacks``
(defusedxml ``xmltestdata/`` at c7445887, PSF-2.0; PayloadsAllTheThings ``XXE Injection/Files``
at f9fa5141, MIT; see SOURCES.md).
"""

from __future__ import annotations

import builtins
import io
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from emma_osplus import (
    DecodingError,
    MessageError,
    Mode,
    OccasionCode,
    RecordError,
    SchemaError,
    XmlSecurityError,
    _xml,
)
from emma_osplus._control import read_control, write_control
from emma_osplus._manifest import read_manifest, write_manifest
from emma_osplus._quit import read_acknowledgement, write_acknowledgement
from emma_osplus._xml import (
    ElementSpec,
    XmlLayout,
    _value_codes,
    check_file_name,
    format_timestamp,
    load_document,
    load_schema,
    parse_date,
    parse_timestamp,
    parse_xml,
    read_document,
    validate,
    value_codes,
    write_document,
)
from emma_osplus.testing._xml import xml_texts

# The third-party corpora are copied into tests/corpora (their sources and licences: SOURCES.md).
CORPUS = Path(__file__).parent / "corpora" / "xml-attacks"
GOLDEN = Path(__file__).parent / "golden" / "xml"
HARMLESS = {"simple.xml", "simple-ns.xml"}
ATTACKS = sorted(p for p in CORPUS.rglob("*.xml") if p.name not in HARMLESS)
# read at import: the tests seal `open` before they run
ATTACK_DATA = {f"{p.parent.name}/{p.name}": p.read_bytes() for p in ATTACKS}


# ---------------------------------------------------------------------------------------------
# Attacks (corpus: defusedxml and PayloadsAllTheThings, see module docstring)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def sealed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No socket, no file opened from Python, and the lxml parser must not be reached."""
    touched: list[str] = []

    def refuse(what: str) -> Any:
        def call(*args: object, **kwargs: object) -> Any:
            touched.append(what)
            raise AssertionError(f"{what} touched")

        return call

    monkeypatch.setattr(socket, "socket", refuse("socket"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(builtins, "open", refuse("open"))
    monkeypatch.setattr(io, "open", refuse("io.open"))
    monkeypatch.setattr(_xml, "_lxml_parse", refuse("parser"))
    return touched


def test_the_corpus_is_there() -> None:
    """The corpus holds the 8 defusedxml attacks and 6 PayloadsAllTheThings payloads."""
    assert len(ATTACKS) == 14
    assert {p.parent.name for p in ATTACKS} == {"defusedxml", "payloadsallthethings"}


@pytest.mark.parametrize("name", sorted(ATTACK_DATA))
def test_attack_is_refused_before_parsing(name: str, sealed: list[str]) -> None:
    """Every attack file of xml-attacks (defusedxml, PayloadsAllTheThings) is E105, within
    0.2 s, without a socket, a file or the XML parser being touched."""
    data = ATTACK_DATA[name]
    start = time.perf_counter()
    with pytest.raises(XmlSecurityError) as info:
        parse_xml(data)
    elapsed = time.perf_counter() - start
    assert info.value.code == "E105"
    assert info.value.message.line is not None
    assert elapsed < 0.2
    assert sealed == []


@pytest.mark.parametrize("reader", [read_manifest, read_control, read_acknowledgement])
def test_every_reader_refuses_every_attack(reader: Any, sealed: list[str]) -> None:
    """The kind readers go through the same pre-scan: E105 in lenient mode, no value."""
    for name, data in ATTACK_DATA.items():
        result = reader(data, mode=Mode.LENIENT)
        assert result.value is None, name
        assert [m.code for m in result.messages] == ["E105"], name
        with pytest.raises(XmlSecurityError):
            reader(data)


@pytest.mark.parametrize("name", sorted(ATTACK_DATA))
def test_hardened_parser_alone_expands_nothing(name: str) -> None:
    """Defence in depth: even without the pre-scan the hardened parser, given the corpus files
    (defusedxml, PayloadsAllTheThings), expands no entity and inlines no file: it refuses the
    document or keeps entity references as they are."""
    data = ATTACK_DATA[name]
    try:
        root = _xml._lxml_parse(data)
    except etree.XMLSyntaxError as exc:
        assert "root:" not in str(exc)
        return
    text = etree.tostring(root, encoding="unicode")
    assert len(text) <= len(data)  # no entity expanded
    assert "root:" not in text  # /etc/passwd not inlined


@pytest.mark.parametrize("name", sorted(HARMLESS))
def test_harmless_corpus_files_parse(name: str) -> None:
    """defusedxml's simple.xml and simple-ns.xml are harmless and parse (comments and
    processing instructions are dropped)."""
    root = parse_xml((CORPUS / "defusedxml" / name).read_bytes())
    assert etree.QName(root).localname == "root"
    assert [etree.QName(c).localname for c in root] == ["element", "element", "empty-element"]
    assert root[0].get("key") == "value"


def test_large_billion_laughs_is_refused_in_milliseconds(sealed: list[str]) -> None:
    """A 40-level entity bomb behind 8 MB of comment: refused by the pre-scan in well under
    0.2 s (expanded it would be 10**40 characters)."""
    levels = ['<!ENTITY a0 "lol">'] + [
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 41)
    ]
    data = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!--'
        + b"x" * 8_000_000
        + b"-->\n<!DOCTYPE lolz [\n"
        + "\n".join(levels).encode()
        + b"\n]>\n<lolz>&a40;</lolz>\n"
    )
    start = time.perf_counter()
    with pytest.raises(XmlSecurityError) as info:
        parse_xml(data)
    assert time.perf_counter() - start < 0.2
    assert info.value.message.line == 3
    assert sealed == []


@pytest.mark.parametrize(
    ("data", "code", "line", "detail"),
    [
        (b"<a/>\n<!doctype a>", "E105", 2, "'<!doctype'"),
        (b'<a>\n<![CDATA[x]]><!ENTITY x "y"></a>', "E105", 2, "'<!ENTITY'"),
        (b"<a>\x00</a>", "E105", 1, "NUL byte"),
        ("<a>ü</a>".encode("utf-16"), "E105", 1, "NUL byte"),
        (b"<a>\xff</a>", "E101", 1, "not UTF-8 at byte 3"),
        ('<?xml version="1.0"?>\n<a>ü</a>'.encode("latin-1"), "E101", 2, "not UTF-8"),
        (b'<?xml version="1.0" encoding="windows-1252"?><a/>', "E105", 1, "only UTF-8"),
        (b"<a>\n\n<b></a>", "E105", 3, "mismatch"),
        (b"<a>&nbsp;</a>", "E105", 1, "Entity 'nbsp' not defined"),
        (b"", "E105", 1, "Document is empty"),
        (b"<a/><b/>", "E105", 1, "Extra content"),
    ],
)
def test_parse_refusals(data: bytes, code: str, line: int | None, detail: str) -> None:
    with pytest.raises((XmlSecurityError, DecodingError)) as info:
        parse_xml(data)
    message = info.value.message
    assert (message.code, message.line) == (code, line)
    assert detail in (message.detail or "")


def test_cr_line_ends_count_for_the_line() -> None:
    with pytest.raises(XmlSecurityError) as info:
        parse_xml(b"<a>\r<b/>\r\n<!DOCTYPE a></a>")
    assert info.value.message.line == 3


def test_utf8_bom_and_declaration_are_accepted() -> None:
    root = parse_xml(b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?><a x="\xc3\xa4"/>')
    assert root.get("x") == "ä"


def test_size_limit() -> None:
    data = b"<a>" + b"x" * 94 + b"</a>"  # 101 bytes
    assert parse_xml(data, max_bytes=101).text == "x" * 94
    with pytest.raises(XmlSecurityError) as info:
        parse_xml(data, max_bytes=100)
    assert "limit of 100 bytes" in (info.value.message.detail or "")


def test_a_file_object_is_read_only_up_to_the_limit() -> None:
    source = io.BytesIO(b"<a>" + b"x" * 10_000 + b"</a>")
    with pytest.raises(XmlSecurityError):
        parse_xml(source, max_bytes=100)
    assert source.tell() == 101
    assert parse_xml(io.BytesIO(b"<a/>")).tag == "a"


def test_lenient_load_returns_the_refusal() -> None:
    layout = XmlLayout(ElementSpec("a"), "urn:x", None)
    document, messages = load_document(b"<!DOCTYPE a><a/>", layout, mode=Mode.LENIENT)
    assert document is None
    assert [m.code for m in messages] == ["E105"]


# ---------------------------------------------------------------------------------------------
# Schema validation
# ---------------------------------------------------------------------------------------------

_BAD_QUIT = b"""<?xml version="1.0" encoding="UTF-8"?>
<quittung xmlns="urn:emma-osplus:quittung:1" version="1">
  <institut blz="37050198"/>
  <bezug datei="x.csv" sha256="abc"/>
  <ergebnis status="ok" saetze="1" uebernommen="1" abgelehnt="0"/>
  <meldung code="E201" stufe="fehler" zeile="-3">x</meldung>
</quittung>
"""


def test_validate_collects_every_violation_with_its_line() -> None:
    root = parse_xml(_BAD_QUIT)
    messages = validate(root, "quittung", mode=Mode.LENIENT, source=_BAD_QUIT)
    assert [(m.code, m.line, m.field) for m in messages] == [
        ("E209", 4, "quittung/bezug/@sha256"),
        ("E209", 6, "quittung/meldung/@zeile"),
    ]
    assert messages[0].raw == '  <bezug datei="x.csv" sha256="abc"/>'
    assert "pattern" in (messages[0].detail or "")


def test_validate_strict_raises_the_first_with_all() -> None:
    with pytest.raises(RecordError) as info:
        validate(parse_xml(_BAD_QUIT), "quittung")
    assert info.value.message.line == 4
    assert len(info.value.messages) == 2
    missing = _BAD_QUIT.replace(b' sha256="abc"', b"")
    with pytest.raises(SchemaError) as schema_error:
        validate(parse_xml(missing), "quittung")
    assert schema_error.value.message.field == "quittung/bezug"


_SPEC_CONTROL = (GOLDEN / "control_spec_vreku.xml").read_bytes()


@pytest.mark.parametrize(
    ("old", "new", "code", "field"),
    [
        # a wrong value: the code of its rule, as the writer gives it
        (b'aktion="neu"', b'aktion="neuanlage"', "E207", "steuerung/auftrag/@aktion"),
        (b'typ="vreku"', b'typ="vkmm"', "E207", "steuerung/@typ"),
        (b' version="1"', b' version="2"', "E207", "steuerung/@version"),
        (
            b'gueltigAb="2026-12-01"',
            b'gueltigAb="2026-02-30"',
            "E205",
            "steuerung/auftrag/@gueltigAb",
        ),
        (b"09:30:00+01:00<", b"09:30:00<", "E205", "steuerung/erstellt"),
        (b'blz="37050198"', b'blz="07050198"', "E209", "steuerung/institut/@blz"),
        (b'nummer="R2026042"', b'nummer=""', "E208", "steuerung/auftrag/@nummer"),
        # a missing or unexpected attribute or element: the schema
        (b' rhythmus="monatlich"', b"", "E106", "steuerung/auftrag"),
        (
            b'<institut blz="37050198"/>',
            b'<institut blz="37050198" x="1"/>',
            "E106",
            "steuerung/institut/@x",
        ),
    ],
)
def test_a_wrong_value_has_the_code_of_its_rule(
    old: bytes, new: bytes, code: str, field: str
) -> None:
    assert old in _SPEC_CONTROL
    data = _SPEC_CONTROL.replace(old, new, 1)
    [message] = validate(parse_xml(data), "steuerung", mode=Mode.LENIENT, source=data)
    assert (message.code, message.field) == (code, field)


def test_value_codes_follow_the_schema() -> None:
    codes = _value_codes("lieferschein")
    assert codes[("auftrag", "art")] == "E207"  # an enumeration
    assert codes[("auftrag", "erstellt")] == "E205"  # a restriction of xs:dateTime
    assert codes[("datei", "name")] == "E108"  # named by the type's xs:appinfo
    assert codes[("datei", "bytes")] == "E209"  # xs:nonNegativeInteger
    assert _value_codes("steuerung")[("erstellt", None)] == "E205"  # an element's text
    ambiguous = parse_xml(
        b"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="a"><xs:complexType><xs:sequence>
    <xs:element name="b"><xs:complexType><xs:attribute name="v" type="xs:date"/></xs:complexType></xs:element>
    <xs:element name="c"><xs:complexType><xs:sequence>
      <xs:element name="b"><xs:complexType><xs:attribute name="v" type="xs:int"/></xs:complexType></xs:element>
    </xs:sequence></xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"""
    )
    assert ("b", "v") not in value_codes(ambiguous)  # two rules for one name: E106
    other_prefix = parse_xml(
        b"""<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xs="urn:not-xsd">
  <xsd:simpleType name="Day"><xsd:restriction base="xsd:date"/></xsd:simpleType>
  <xsd:element name="a"><xsd:complexType>
    <xsd:attribute name="day" type="Day"/>
    <xsd:attribute name="n" type="xsd:int"/>
  </xsd:complexType></xsd:element>
</xsd:schema>"""
    )
    assert value_codes(other_prefix) == {("a", "day"): "E205", ("a", "n"): "E209"}


def test_validate_valid_tree_gives_nothing() -> None:
    data = (GOLDEN / "quit_spec_example.xml").read_bytes()
    assert validate(parse_xml(data), "quittung") == ()


def test_schemas_are_packaged_and_versioned() -> None:
    for name, namespace in [
        ("lieferschein", "urn:emma-osplus:lieferschein:1"),
        ("steuerung", "urn:emma-osplus:steuerung:1"),
        ("quittung", "urn:emma-osplus:quittung:1"),
    ]:
        assert isinstance(load_schema(name), etree.XMLSchema)
        from importlib import resources

        xsd = parse_xml((resources.files("emma_osplus") / "schemas" / f"{name}.xsd").read_bytes())
        assert (xsd.get("targetNamespace"), xsd.get("version")) == (namespace, "1")
    with pytest.raises(ValueError, match="not a schema name"):
        load_schema("../x")


# ---------------------------------------------------------------------------------------------
# The document engine and the canonical writer
# ---------------------------------------------------------------------------------------------

LAYOUT = XmlLayout(
    root=ElementSpec(
        "wurzel",
        attributes=("version", "name"),
        children=(
            ElementSpec("kopf", attributes=("a", "b")),
            ElementSpec("posten", attributes=("x",), repeat=True),
            ElementSpec("notiz", attributes=("art",), text=True, repeat=True),
            ElementSpec("fuss", children=(ElementSpec("ende", attributes=("z",)),)),
        ),
    ),
    namespace="urn:example:wurzel:1",
    schema=None,
)


def test_canonical_layout() -> None:
    document = {
        "version": "1",
        "kopf": {"b": "2", "a": "1"},
        "posten": [{"x": "a<b"}, {}],
        "notiz": [{"art": "t", "#text": "Zeile\nzwei"}, {"#text": ""}],
        "fuss": {},
    }
    assert write_document(document, LAYOUT) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<wurzel xmlns="urn:example:wurzel:1" version="1">\n'
        b'  <kopf a="1" b="2"/>\n'
        b'  <posten x="a&lt;b"/>\n'
        b"  <posten/>\n"
        b'  <notiz art="t">Zeile&#10;zwei</notiz>\n'
        b"  <notiz/>\n"
        b"  <fuss/>\n"
        b"</wurzel>\n"
    )


def test_read_document_mirrors_the_xml() -> None:
    data = (
        b'<w:wurzel xmlns:w="urn:example:wurzel:1" name="n">\n'
        b'  <w:kopf a="1"/>\n  <w:notiz>t</w:notiz>\n'
        b'  <w:fuss><w:ende z="9"/></w:fuss>\n</w:wurzel>'
    )
    parsed = read_document(parse_xml(data), LAYOUT)
    assert parsed.document == {
        "name": "n",
        "kopf": {"a": "1"},
        "posten": [],
        "notiz": [{"#text": "t"}],
        "fuss": {"ende": {"z": "9"}},
    }
    assert parsed.lines == {
        "wurzel": 1,
        "wurzel/kopf": 2,
        "wurzel/notiz[1]": 3,
        "wurzel/fuss": 4,
        "wurzel/fuss/ende": 4,
    }
    assert parsed.line_for("wurzel/fuss/ende/@z") == 4
    assert parsed.line_for("wurzel/notiz/@art") == 3
    assert parsed.line_for("wurzel/posten[2]/@x") == 1
    assert parsed.line_for(None) is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b'<wurzel xmlns="urn:example:wurzel:1" extra="1"/>', "wurzel/@extra"),
        (b'<wurzel xmlns="urn:example:wurzel:1">text</wurzel>', "wurzel"),
        (b'<wurzel xmlns="urn:example:wurzel:1"><kopf/>tail</wurzel>', "wurzel"),
        (b'<wurzel xmlns="urn:example:wurzel:1"><fremd/></wurzel>', "wurzel/fremd"),
        (b'<wurzel xmlns="urn:example:wurzel:1"><kopf xmlns="urn:x"/></wurzel>', "wurzel/kopf"),
        (b'<wurzel xmlns="urn:example:wurzel:1"><kopf/><kopf/></wurzel>', "wurzel/kopf"),
        (b'<wurzel xmlns="urn:example:wurzel:2"/>', "wurzel"),
        (
            b'<wurzel xmlns="urn:example:wurzel:1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            b' xsi:schemaLocation="urn:x http://example.org/x.xsd"/>',
            "wurzel/@{http://www.w3.org/2001/XMLSchema-instance}schemaLocation",
        ),
    ],
)
def test_read_document_refuses_what_the_layout_does_not_know(data: bytes, field: str) -> None:
    """Nothing is dropped silently: unknown attributes, text, elements are E106."""
    with pytest.raises(SchemaError) as info:
        read_document(parse_xml(data), LAYOUT)
    assert info.value.message.field == field


@pytest.mark.parametrize(
    ("document", "error", "field"),
    [
        ({"version": 1}, SchemaError, "wurzel/@version"),
        ({"unbekannt": "x"}, SchemaError, "wurzel/unbekannt"),
        ({"kopf": "x"}, SchemaError, "wurzel/kopf"),
        ({"posten": {"x": "1"}}, SchemaError, "wurzel/posten"),
        ({"notiz": [{"#text": None}]}, SchemaError, "wurzel/notiz/#text"),
        ({"kopf": {"a": "x\x00y"}}, RecordError, "wurzel/kopf/@a"),
        ({"notiz": [{"#text": "\ufffe"}]}, RecordError, "wurzel/notiz/#text"),
        ({"#text": "x"}, SchemaError, "wurzel/#text"),
    ],
)
def test_write_document_refuses(
    document: dict[str, Any], error: type[Exception], field: str
) -> None:
    """Writers never drop, truncate or replace: wrong keys or types are E106, characters XML
    cannot carry E206."""
    with pytest.raises(error) as info:
        write_document(document, LAYOUT)
    assert info.value.message.field == field  # type: ignore[attr-defined]


def test_element_spec_is_checked() -> None:
    with pytest.raises(ValueError, match="text or child elements"):
        ElementSpec("x", text=True, children=(ElementSpec("y"),))
    with pytest.raises(ValueError, match="distinct"):
        ElementSpec("x", attributes=("y",), children=(ElementSpec("y"),))
    assert LAYOUT.root.child("kopf") is not None
    assert LAYOUT.root.child("nichts") is None


@settings(max_examples=150, deadline=None)
@given(
    attribute=xml_texts(max_size=60),
    text=xml_texts(max_size=60),
    items=st.lists(xml_texts(max_size=10), max_size=3),
)
def test_write_read_identity_for_any_text(attribute: str, text: str, items: list[str]) -> None:
    """Any XML 1.0 text (umlauts, <&>"', tab, LF, CR) survives write -> read, and the
    canonical bytes are stable and one element per line."""
    document = {
        "version": "1",
        "name": attribute,
        "posten": [{"x": item} for item in items],
        "notiz": [{"art": text, "#text": text}],
    }
    data = write_document(document, LAYOUT)
    parsed = read_document(parse_xml(data), LAYOUT)
    assert parsed.document == {**document, "notiz": [{"art": text, "#text": text}]}
    assert write_document(parsed.document, LAYOUT) == data
    assert data.count(b"\n") == 4 + len(items)
    assert b"\r" not in data


# ---------------------------------------------------------------------------------------------
# Value helpers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T08:00:00+01:00", "2026-11-20T08:00:00+01:00"),
        ("2026-11-20T08:00:00Z", "2026-11-20T08:00:00+00:00"),
        ("2026-11-20T08:00:00.5-05:30", "2026-11-20T08:00:00.500000-05:30"),
        ("2026-11-20T08:00:00.123456+14:00", "2026-11-20T08:00:00.123456+14:00"),
        (" 2026-11-20T08:00:00+01:00\n", "2026-11-20T08:00:00+01:00"),
    ],
)
def test_timestamps(text: str, expected: str) -> None:
    assert format_timestamp(parse_timestamp(text)) == expected


@pytest.mark.parametrize(
    "text", ["2026-11-20T08:00:00", "2026-02-30T08:00:00Z", "2026-11-20 08:00:00Z", "x"]
)
def test_bad_timestamps(text: str) -> None:
    with pytest.raises(ValueError, match="E205"):
        parse_timestamp(text)


def test_dates() -> None:
    assert str(parse_date("2026-12-01")) == "2026-12-01"
    for bad in ("2026-02-30", "01.12.2026", "2026-12-01Z"):
        with pytest.raises(ValueError, match="E205"):
            parse_date(bad)


@pytest.mark.parametrize("name", ["a.csv", "Müller & Söhne <1>.jpg", "..a", "a..b"])
def test_plain_file_names(name: str) -> None:
    check_file_name(name, "f")


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", "../a", "a\x01", "x" * 256, 3])
def test_file_names_that_could_escape(name: object) -> None:
    with pytest.raises(ValueError, match="E108"):
        check_file_name(name, "f")


# ---------------------------------------------------------------------------------------------
# Golden files: tests/golden/xml/<case>.xml beside <case>.json
# ---------------------------------------------------------------------------------------------

READERS: dict[str, tuple[Any, Any]] = {
    "manifest": (read_manifest, write_manifest),
    "control": (read_control, write_control),
    "acknowledgement": (read_acknowledgement, write_acknowledgement),
}
CASES = sorted(p.stem for p in GOLDEN.glob("*.xml"))


def _read_golden(reader: Any, data: bytes, mode: Mode) -> Any:
    if reader is read_acknowledgement:
        return reader(data, mode=mode)
    return reader(data, mode=mode, occasions=None)  # the packaged registry


def test_golden_folder_is_complete() -> None:
    assert len(CASES) >= 40
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == CASES


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    """Each golden XML file gives the expected document (and, when canonical, the same bytes
    back) or exactly the expected messages (code, line, field, detail)."""
    data = (GOLDEN / f"{case}.xml").read_bytes()
    expected = json.loads((GOLDEN / f"{case}.json").read_text(encoding="utf-8"))
    reader, writer = READERS[expected["reader"]]
    result = _read_golden(reader, data, Mode.LENIENT)
    if "document" in expected:
        assert result.messages == ()
        assert result.document == expected["document"]
        written = writer(result.value)
        assert (written == data) is expected["canonical"]
        again = _read_golden(reader, written, Mode.STRICT)
        assert again.value == result.value
        assert writer(again.value) == written
        assert again.document == expected["document"]
    else:
        assert result.value is None
        got = [
            {"code": m.code, "line": m.line, "field": m.field}
            | ({"detail_contains": e["detail_contains"]} if "detail_contains" in e else {})
            for m, e in zip(result.messages, expected["messages"], strict=False)
        ]
        assert got == expected["messages"]
        assert len(result.messages) == len(expected["messages"])
        for m, e in zip(result.messages, expected["messages"], strict=True):
            assert e.get("detail_contains", "") in (m.detail or "")
            assert m.raw is not None or m.line is None
        with pytest.raises(MessageError) as info:
            _read_golden(reader, data, Mode.STRICT)
        assert info.value.message == result.messages[0]


def test_golden_specification_examples_are_there() -> None:
    """The FORMATS.md examples (real hex for "…") are golden cases: the manifest and the
    control file as printed illustrate both optional elements at once and so break their own
    rules (E106); the acknowledgement is valid."""
    assert {"manifest_spec_example", "control_spec_example", "quit_spec_example"} <= set(CASES)
    occasions = OccasionCode  # any syntactically valid code
    assert read_manifest((GOLDEN / "manifest_spec_reku.xml").read_bytes(), occasions=occasions).ok


@pytest.mark.parametrize("name", [b"", b"x" * 256])
def test_a_bad_file_name_in_a_unique_key_is_one_message(name: bytes) -> None:
    """libxml2 follows a wrong value of the unique ``datei/@name`` with a warning about the
    key; the wrong value is the one problem reported."""
    data = (GOLDEN / "manifest_spec_kmm.xml").read_bytes()
    old = b'name="berater_0042.jpg"'
    assert old in data
    data = data.replace(old, b'name="' + name + b'"')
    messages = validate(parse_xml(data), "lieferschein", mode=Mode.LENIENT, source=data)
    assert [(m.code, m.field) for m in messages] == [("E108", "lieferschein/dateien/datei/@name")]
