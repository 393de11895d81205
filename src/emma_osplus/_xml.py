"""The hardened XML engine shared by every XML kind (``LIEF``, ``VREKU``/``VIAM``, ``QUIT``).

Reading is four steps, each with its own message code:

1. :func:`parse_xml` refuses a document before any XML parser sees it when it is larger than
   the limit, contains a NUL byte, or declares a DTD, entity, element, attribute list or
   notation (``<!DOCTYPE``, ``<!ENTITY`` …, matched case-insensitively anywhere in the bytes):
   **E105**.  So an entity bomb or an external entity is refused in microseconds, whatever
   it contains, and no file or network address is ever opened.  Bytes that are not UTF-8 are
   **E101**; a declared encoding other than UTF-8 is E105.  Only then does the one hardened
   lxml parser (:func:`hardened_parser`: no entity resolution, no DTD loading, no network,
   default size limits) parse the bytes; a document that is not well-formed is **E105** with
   its line.
2. :func:`validate` checks the tree against the kind's XSD shipped in the package
   (``emma_osplus/schemas/*.xsd``): a missing, unexpected or repeated element or attribute
   is an **E106** message with its line; a wrong value has the code of its field's rule, read
   off the schema (**E207** code table, **E205** date or time, **E209** pattern or number,
   **E208** empty, or the code the type's ``xs:appinfo`` names), as the writers give it.
3. :func:`read_document` turns the valid tree into the *document* of the JSON view: an
   element is a dict of its attributes, its child elements (a list where the schema allows
   several) and ``"#text"`` for its text.  Which attributes and children an element has, and
   in which order, is data: an :class:`ElementSpec` tree per kind (an :class:`XmlLayout`).
4. The kind module maps the document to its attrs class and checks the rules that have a
   code of their own (E303 order name, E305 channel, E204 occasion …).

Writing is the reverse: the kind maps its object to a document and :func:`write_document`
renders it in the canonical form of FORMATS.md: UTF-8, the declaration
``<?xml version="1.0" encoding="UTF-8"?>``, two-space indentation, one element per line with
its attributes in layout order, empty elements self-closed, LF line ends and a final LF.
Characters that would not survive a round trip are written as character references
(``&amp;`` ``&lt;`` ``&gt;`` ``&quot;`` in attributes, tab/LF/CR as ``&#9;`` ``&#10;``
``&#13;``), so reading a canonical file and writing it again gives the same bytes.

>>> layout = XmlLayout(
...     namespace="urn:example:1",
...     schema=None,
...     root=ElementSpec("root", attributes=("version",), children=(
...         ElementSpec("item", attributes=("name", "note"), repeat=True),
...         ElementSpec("comment", text=True),
...     )),
... )
>>> data = write_document(
...     {"version": "1", "item": [{"name": "a&b", "note": 'say "hi"'}, {"name": "ä"}],
...      "comment": {"#text": "1 < 2"}},
...     layout,
... )
>>> print(data.decode(), end="")
<?xml version="1.0" encoding="UTF-8"?>
<root xmlns="urn:example:1" version="1">
  <item name="a&amp;b" note="say &quot;hi&quot;"/>
  <item name="ä"/>
  <comment>1 &lt; 2</comment>
</root>
>>> read_document(parse_xml(data), layout).document["item"][0]
{'name': 'a&b', 'note': 'say "hi"'}
>>> parse_xml(b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
Traceback (most recent call last):
...
emma_osplus._errors.XmlSecurityError: E105, line 1: XML nicht wohlgeformt ... (DTD or entity declaration '<!DOCTYPE' refused before parsing)
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from typing import IO, Any, Generic, TypeAlias, TypeVar, cast

import attrs
from lxml import etree

from ._converters import DATETIME_OFFSET
from ._errors import InvalidValueError, MessageError, error_for
from ._messages import Message
from ._records import Mode
from ._types import OccasionCode

__all__ = [
    "DEFAULT_MAX_BYTES",
    "XML_DECLARATION",
    "Document",
    "ElementSpec",
    "OccasionResolver",
    "XmlDocument",
    "XmlLayout",
    "XmlResult",
    "format_date",
    "format_timestamp",
    "hardened_parser",
    "load_document",
    "load_schema",
    "parse_date",
    "parse_timestamp",
    "parse_xml",
    "read_document",
    "validate",
    "value_codes",
    "write_document",
]

T = TypeVar("T")

#: A JSON-view document: attributes and ``"#text"`` map to text, children to documents
#: (lists of documents for repeatable children).
Document: TypeAlias = dict[str, Any]

#: The declaration every canonical file starts with.
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

#: Turns the text of an ``anlass/@code`` into the canonical code of a registered occasion,
#: raising :class:`~emma_osplus.InvalidValueError` (E204) for an unknown one.  The default is
#: ``default_registry().canonical`` of :mod:`emma_osplus._registry`, imported on first use.
OccasionResolver: TypeAlias = Callable[[str], OccasionCode]

#: Default size limit of :func:`parse_xml` (50 MiB); larger documents are refused (E105).
DEFAULT_MAX_BYTES = 50 * 1024 * 1024

_TEXT_KEY = "#text"

# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------

_DECLARATIONS = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)
_XML_DECL = re.compile(rb"\A(?:\xef\xbb\xbf)?<\?xml[^>]*?\bencoding\s*=\s*[\"']([^\"']*)[\"']")
_UTF8_NAMES = frozenset({"utf-8", "utf8"})


def hardened_parser() -> etree.XMLParser:
    """The one parser configuration used for every XML document the library reads.

    Entities are never resolved, no DTD is loaded or validated, nothing is fetched from the
    network, libxml2's default size and depth limits stay on (``huge_tree=False``), and
    comments and processing instructions are dropped (they carry no data).  A new parser per
    call: lxml parsers must not be shared between threads.
    """
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def _line_at(data: bytes, offset: int) -> int:
    head = data[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def _source_line(data: bytes, line: int | None) -> str | None:
    if line is None or line < 1:
        return None
    lines = data.decode("utf-8", errors="backslashreplace").splitlines()
    return lines[line - 1] if line <= len(lines) else None


def _refuse(data: bytes, offset: int | None, detail: str) -> MessageError:
    line = None if offset is None else _line_at(data, offset)
    return error_for(Message("E105", line=line, raw=_source_line(data, line), detail=detail))


def _lxml_parse(data: bytes) -> etree._Element:
    """Parse *data* with the hardened parser (only ever called after the pre-scan)."""
    return etree.fromstring(data, parser=hardened_parser())


def _read_source(source: bytes | IO[bytes], max_bytes: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    return source.read(max_bytes + 1)


def parse_xml(source: bytes | IO[bytes], *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """The root element of the XML document in *source* (bytes or a binary file object).

    Raises :class:`~emma_osplus.XmlSecurityError` (E105) for a document over *max_bytes*, a
    NUL byte, any DTD/entity declaration (refused before parsing), a declared encoding other
    than UTF-8 or a document that is not well-formed; :class:`~emma_osplus.DecodingError`
    (E101) for bytes that are not UTF-8.

    >>> parse_xml(b'<a x="1"><b/></a>').tag
    'a'
    >>> parse_xml(b"<a>\\n<b></a>")
    Traceback (most recent call last):
    ...
    emma_osplus._errors.XmlSecurityError: E105, line 2: ... (Opening and ending tag mismatch: b line 2 and a, line 2, column 8)
    """
    data = _read_source(source, max_bytes)
    if len(data) > max_bytes:
        raise _refuse(data, None, f"larger than the limit of {max_bytes} bytes")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _refuse(data, nul, "NUL byte (not XML 1.0 in UTF-8)")
    found = _DECLARATIONS.search(data)
    if found:
        keyword = found.group(0).decode("ascii", errors="replace")
        raise _refuse(
            data, found.start(), f"DTD or entity declaration {keyword!r} refused before parsing"
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_at(data, exc.start)
        raise error_for(
            Message(
                "E101",
                line=line,
                raw=_source_line(data, line),
                detail=f"not UTF-8 at byte {exc.start}",
            )
        ) from None
    declared = _XML_DECL.match(data)
    if declared and declared.group(1).decode("ascii", "replace").lower() not in _UTF8_NAMES:
        name = declared.group(1).decode("utf-8", "replace")
        raise _refuse(data, 0, f"declared encoding {name!r}; only UTF-8 is accepted")
    try:
        return _lxml_parse(data)
    except etree.XMLSyntaxError as exc:
        syntax_line: int | None = exc.lineno if exc.lineno else None
        raise error_for(
            Message(
                "E105",
                line=syntax_line,
                raw=_source_line(data, syntax_line),
                detail=str(exc.msg),
            )
        ) from None


# ---------------------------------------------------------------------------------------------
# Schema validation
# ---------------------------------------------------------------------------------------------


@functools.cache
def load_schema(name: str) -> etree.XMLSchema:
    """The XSD ``emma_osplus/schemas/<name>.xsd`` shipped in the package (cached).

    >>> sorted(load_schema(n).__class__.__name__ for n in ("lieferschein", "steuerung", "quittung"))
    ['XMLSchema', 'XMLSchema', 'XMLSchema']
    """
    if not re.fullmatch(r"[a-z]+", name):
        raise ValueError(f"not a schema name: {name!r}")
    data = (resources.files("emma_osplus") / "schemas" / f"{name}.xsd").read_bytes()
    return etree.XMLSchema(parse_xml(data))


_SCHEMA_SUBJECT = re.compile(r"\AElement '[^']*'(?:, attribute '([^']*)')?: ")

_XS = "{http://www.w3.org/2001/XMLSchema}"
#: libxml2's kinds of schema error that mean "this value is wrong" (not "this element or
#: attribute is missing, unexpected or repeated"): facets, datatypes, fixed values.
_VALUE_ERRORS = frozenset(
    {
        "SCHEMAV_CVC_ENUMERATION_VALID",
        "SCHEMAV_CVC_PATTERN_VALID",
        "SCHEMAV_CVC_DATATYPE_VALID_1_2_1",
        "SCHEMAV_CVC_DATATYPE_VALID_1_2_2",
        "SCHEMAV_CVC_DATATYPE_VALID_1_2_3",
        "SCHEMAV_CVC_LENGTH_VALID",
        "SCHEMAV_CVC_MINLENGTH_VALID",
        "SCHEMAV_CVC_MAXLENGTH_VALID",
        "SCHEMAV_CVC_MININCLUSIVE_VALID",
        "SCHEMAV_CVC_MAXINCLUSIVE_VALID",
        "SCHEMAV_CVC_MINEXCLUSIVE_VALID",
        "SCHEMAV_CVC_MAXEXCLUSIVE_VALID",
        "SCHEMAV_CVC_TOTALDIGITS_VALID",
        "SCHEMAV_CVC_FRACTIONDIGITS_VALID",
        "SCHEMAV_CVC_AU",
        "SCHEMAV_CVC_ELT_5_2_2_1",
        "SCHEMAV_CVC_ELT_5_2_2_2_1",
        "SCHEMAV_CVC_ELT_5_2_2_2_2",
        "SCHEMAV_CVC_SIMPLE_TYPE",
    }
)
#: libxml2's follow-up to a wrong value that is part of a unique key (``xs:unique``).
_NO_KEY = "Warning: No precomputed value available"
_CODE_TEXT = re.compile(r"\s*([EW][0-9]{3})\s*")


def _type_code(schema: etree._Element, holder: etree._Element, attribute: str) -> str:
    """The message code of a wrong value of the simple type that *holder* names in its
    *attribute* (``type`` or ``base``) in *schema*: the code the type's ``xs:appinfo``
    names, else E207 for a code table (enumeration), E205 for a date or time, E209 for any
    other rule (pattern, number, boolean, length)."""
    seen: set[str] = set()
    while (qname := holder.get(attribute)) is not None and qname not in seen:
        seen.add(qname)
        prefix, _, local = qname.rpartition(":")
        if holder.nsmap.get(prefix or None) == _XS[1:-1]:  # a built-in type
            return "E205" if local in ("date", "dateTime", "time") else "E209"
        found = schema.find(f"{_XS}simpleType[@name='{local}']")
        if found is None:
            break
        code = _own_code(found)
        if code is not None:
            return code
        restriction = found.find(f"{_XS}restriction")
        if restriction is None:
            break
        holder, attribute = restriction, "base"
    return "E209"


def _own_code(simple_type: etree._Element) -> str | None:
    """The code a simple type names in its ``xs:appinfo``, E207 for an enumeration, or
    ``None`` (then its base type decides)."""
    info = simple_type.findtext(f"{_XS}annotation/{_XS}appinfo")
    named = _CODE_TEXT.fullmatch(info) if info is not None else None
    if named is not None:
        return named.group(1)
    restriction = simple_type.find(f"{_XS}restriction")
    if restriction is not None and restriction.find(f"{_XS}enumeration") is not None:
        return "E207"
    return None


def _simple_code(schema: etree._Element, simple_type: etree._Element) -> str:
    """:func:`_type_code` of an anonymous simple type."""
    code = _own_code(simple_type)
    if code is not None:
        return code
    restriction = simple_type.find(f"{_XS}restriction")
    return "E209" if restriction is None else _type_code(schema, restriction, "base")


@functools.cache
def _value_codes(name: str) -> Mapping[tuple[str, str | None], str]:
    """:func:`value_codes` of the packaged schema *name* (cached)."""
    data = (resources.files("emma_osplus") / "schemas" / f"{name}.xsd").read_bytes()
    return value_codes(parse_xml(data))


def value_codes(schema: etree._Element) -> Mapping[tuple[str, str | None], str]:
    """The message code of a wrong value, by the local names of element and attribute
    (attribute ``None``: the element's text), read off the XSD document *schema*: the code
    the value's simple type names in its ``xs:appinfo``, else E207 for a code table
    (enumeration or fixed value), E205 for a date or time, E209 for any other rule.  A pair
    whose code differs between two places of the schema is left out (its wrong values stay
    E106).

    >>> xsd = parse_xml(b'''<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
    ...   <xs:element name="order"><xs:complexType>
    ...     <xs:attribute name="kind"><xs:simpleType><xs:restriction base="xs:string">
    ...       <xs:enumeration value="KMM"/></xs:restriction></xs:simpleType></xs:attribute>
    ...     <xs:attribute name="day" type="xs:date"/>
    ...     <xs:attribute name="count" type="xs:positiveInteger"/>
    ...   </xs:complexType></xs:element>
    ... </xs:schema>''')
    >>> sorted(value_codes(xsd).items())
    [(('order', 'count'), 'E209'), (('order', 'day'), 'E205'), (('order', 'kind'), 'E207')]
    """
    named_types = {t.get("name"): t for t in schema.iterfind(f"{_XS}complexType")}
    codes: dict[tuple[str, str | None], str] = {}
    ambiguous: set[tuple[str, str | None]] = set()

    def note(key: tuple[str, str | None], code: str) -> None:
        if codes.setdefault(key, code) != code:
            ambiguous.add(key)

    for element in schema.iter(f"{_XS}element"):
        element_name = element.get("name")
        if element_name is None:
            continue
        type_name = element.get("type")
        body = element.find(f"{_XS}complexType")
        if body is None and type_name is not None:
            body = named_types.get(type_name.rpartition(":")[2])
            if body is None:  # a simple type: the element's text
                note((element_name, None), _type_code(schema, element, "type"))
                continue
        if body is None:
            continue
        for attribute in body.iter(f"{_XS}attribute"):
            attribute_name = attribute.get("name")
            if attribute_name is not None:
                inline = attribute.find(f"{_XS}simpleType")
                if attribute.get("fixed") is not None:
                    code = "E207"  # one allowed value: a code table of one
                elif inline is not None:
                    code = _simple_code(schema, inline)
                else:
                    code = _type_code(schema, attribute, "type")
                note((element_name, attribute_name), code)
    return {key: code for key, code in codes.items() if key not in ambiguous}


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else str(tag)


def _sourceline(element: etree._Element) -> int | None:
    return cast("int | None", element.sourceline)  # lxml-stubs leave it untyped


def _element_path(element: etree._Element) -> str:
    names = [_local(element.tag)]
    names.extend(_local(parent.tag) for parent in element.iterancestors())
    return "/".join(reversed(names))


def validate(
    root: etree._Element,
    schema_name: str,
    *,
    mode: Mode = Mode.STRICT,
    source: bytes | None = None,
) -> tuple[Message, ...]:
    """Validate *root* against the packaged schema *schema_name*: one message per violation
    (line, field as ``element/path/@attribute``, libxml2's explanation as detail, the source
    line as raw when *source* is given).  A wrong value has the code of its field's rule
    (:func:`value_codes`: E207 code table or fixed value, E205 date or time, E208 empty,
    E209 other rules, E108 file names); a missing, unexpected or repeated element or
    attribute is E106.

    Strict mode raises the exception of the first message's code (E106:
    :class:`~emma_osplus.SchemaError`, E2xx: :class:`~emma_osplus.RecordError`) carrying every
    message; lenient mode returns them (empty when the tree is valid).

    >>> root = parse_xml(b'<quittung xmlns="urn:emma-osplus:quittung:1" version="2"/>')
    >>> for m in validate(root, "quittung", mode=Mode.LENIENT):
    ...     print(m.describe())
    E207, line 1, field quittung/@version: Wert nicht in der Codetabelle des Feldes (The value '2' does not match the fixed value constraint '1'.)
    E106, line 1, field quittung: XML verletzt das Schema (Missing child element(s). Expected is ( {urn:emma-osplus:quittung:1}institut ).)
    """
    schema = load_schema(schema_name)
    if schema.validate(root):
        return ()
    tree = root.getroottree()
    codes = _value_codes(schema_name)
    messages: list[Message] = []
    for error in cast("Iterable[Any]", schema.error_log):
        text = str(error.message)
        code = "E106"
        field: str | None = None
        subject = _SCHEMA_SUBJECT.match(text)
        attribute = subject.group(1) if subject else None
        if subject:
            text = text[subject.end() :]
        if error.path:
            try:
                found = tree.xpath(error.path)
            except etree.XPathError:  # pragma: no cover - libxml2 gives plain paths
                found = []
            if isinstance(found, list) and found and isinstance(found[0], etree._Element):
                element = found[0]
                field = _element_path(element)
                if attribute:
                    field += f"/@{attribute}"
                if error.type_name in _VALUE_ERRORS:
                    code = codes.get((_local(element.tag), attribute), "E106")
                    value = element.get(attribute) if attribute else element.text
                    if code == "E209" and not (value or "").strip():
                        code = "E208"  # an empty value where one is required
        line = error.line if error.line > 0 else None
        if text.startswith(_NO_KEY) and any((m.line, m.field) == (line, field) for m in messages):
            continue  # a unique key that could not be computed from the value reported above
        raw = _source_line(source, line) if source is not None else None
        messages.append(Message(code, line=line, field=field, raw=raw, detail=text))
    if not messages:  # pragma: no cover - libxml2 always logs why
        messages.append(Message("E106", detail="invalid"))
    if mode is Mode.STRICT:
        raise error_for(*messages)
    return tuple(messages)


# ---------------------------------------------------------------------------------------------
# Layouts and the document engine
# ---------------------------------------------------------------------------------------------


def _check_spec(spec: ElementSpec, _: object, children: tuple[ElementSpec, ...]) -> None:
    if spec.text and children:
        raise ValueError(f"{spec.tag}: an element has text or child elements, not both")
    names = list(spec.attributes) + [c.tag for c in children]
    if len(set(names)) != len(names) or _TEXT_KEY in names:
        raise ValueError(f"{spec.tag}: attribute and child names must be distinct")


@attrs.frozen
class ElementSpec:
    """One element of a layout: its tag, its attributes in canonical order, its child elements
    in schema order, whether it holds text and whether it may occur several times (then the
    document holds a list).

    >>> ElementSpec("datei", attributes=("name", "rolle"), repeat=True).repeat
    True
    """

    tag: str
    attributes: tuple[str, ...] = ()
    children: tuple[ElementSpec, ...] = attrs.field(default=(), validator=_check_spec)
    text: bool = False
    repeat: bool = False

    def child(self, tag: str) -> ElementSpec | None:
        """The child spec named *tag*, or ``None``."""
        return next((c for c in self.children if c.tag == tag), None)


@attrs.frozen
class XmlLayout:
    """A kind's layout: the root :class:`ElementSpec`, the namespace of every element and the
    name of the packaged schema (``None``: not validated)."""

    root: ElementSpec
    namespace: str
    schema: str | None


@attrs.frozen
class XmlDocument:
    """A document read from a tree, with the line of every element.

    ``lines`` maps element paths (``lieferschein/dateien/datei[2]``; repeated elements carry
    a 1-based index) to the line libxml2 gives for the element's start tag.
    """

    document: Document
    lines: Mapping[str, int] = attrs.field(factory=dict)
    source: bytes = attrs.field(default=b"", repr=False)

    def source_line(self, line: int | None) -> str | None:
        """The text of physical *line* of the source, or ``None``."""
        return _source_line(self.source, line) if self.source else None

    def line_for(self, field: str | None) -> int | None:
        """The line of the element that *field* (a path, optionally ending in ``/@attr``)
        names, or of its nearest ancestor that was read."""
        if field is None:
            return None
        path = field.split("/@", 1)[0]
        while path:
            if path in self.lines:
                return self.lines[path]
            if f"{path}[1]" in self.lines:
                return self.lines[f"{path}[1]"]
            path = path.rpartition("/")[0]
        return None


def _schema_error(field: str, detail: str, raw: str | None = None) -> Message:
    return Message("E106", field=field, raw=raw, detail=detail)


def read_document(root: etree._Element, layout: XmlLayout) -> XmlDocument:
    """The JSON-view document of a (validated) tree, with element lines.

    Every attribute, child element and text must be one the layout knows; anything else is
    refused (:class:`~emma_osplus.SchemaError`, E106) rather than dropped.  Text of elements
    without text in the layout may only be whitespace.
    """
    lines: dict[str, int] = {}
    messages: list[Message] = []
    if root.tag != etree.QName(layout.namespace, layout.root.tag).text:
        messages.append(
            _schema_error(
                _local(root.tag), f"root element must be {{{layout.namespace}}}{layout.root.tag}"
            )
        )
        raise error_for(*messages)
    document = _read_element(
        root,
        layout.root,
        namespace=layout.namespace,
        path=layout.root.tag,
        lines=lines,
        messages=messages,
    )
    if messages:
        raise error_for(*messages)
    return XmlDocument(document, lines)


def _read_element(
    element: etree._Element,
    spec: ElementSpec,
    *,
    namespace: str,
    path: str,
    lines: dict[str, int],
    messages: list[Message],
) -> Document:
    line = _sourceline(element)
    if line is not None:
        lines[path] = line
    field_path = re.sub(r"\[[0-9]+\]", "", path)
    result: Document = {}
    for key in element.attrib:
        name = key.decode() if isinstance(key, bytes) else key
        if name not in spec.attributes:
            messages.append(
                attrs.evolve(
                    _schema_error(f"{field_path}/@{name}", "attribute not allowed"), line=line
                )
            )
    for name in spec.attributes:
        value = element.get(name)
        if value is not None:
            result[name] = value
    if spec.text:
        result[_TEXT_KEY] = element.text or ""
    elif element.text is not None and element.text.strip():
        messages.append(attrs.evolve(_schema_error(field_path, "text not allowed"), line=line))
    counts: dict[str, int] = {}
    for child in element:
        tag: object = child.tag
        if not isinstance(tag, str):  # pragma: no cover - parser drops comments and PIs
            continue
        qname = etree.QName(child.tag)
        child_spec = spec.child(qname.localname) if qname.namespace == namespace else None
        if child.tail is not None and child.tail.strip():
            messages.append(attrs.evolve(_schema_error(field_path, "text not allowed"), line=line))
        if child_spec is None:
            messages.append(
                attrs.evolve(
                    _schema_error(f"{field_path}/{qname.localname}", "element not allowed"),
                    line=_sourceline(child),
                )
            )
            continue
        counts[child_spec.tag] = counts.get(child_spec.tag, 0) + 1
        index = counts[child_spec.tag]
        if child_spec.repeat:
            child_path = f"{path}/{child_spec.tag}[{index}]"
            item = _read_element(
                child,
                child_spec,
                namespace=namespace,
                path=child_path,
                lines=lines,
                messages=messages,
            )
            result.setdefault(child_spec.tag, []).append(item)
        elif index > 1:
            messages.append(
                attrs.evolve(
                    _schema_error(f"{field_path}/{child_spec.tag}", "element more than once"),
                    line=_sourceline(child),
                )
            )
        else:
            child_path = f"{path}/{child_spec.tag}"
            result[child_spec.tag] = _read_element(
                child,
                child_spec,
                namespace=namespace,
                path=child_path,
                lines=lines,
                messages=messages,
            )
    for child_spec in spec.children:
        if child_spec.repeat:
            result.setdefault(child_spec.tag, [])
    return _ordered(result, spec)


def _ordered(document: Document, spec: ElementSpec) -> Document:
    keys = [*spec.attributes, *([_TEXT_KEY] if spec.text else []), *(c.tag for c in spec.children)]
    return {key: document[key] for key in keys if key in document}


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
    }
)
_TEXT_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\n": "&#10;", "\r": "&#13;"}
)


def xml_text_problem(value: str) -> str | None:
    """Why *value* cannot be written to XML 1.0 (a character outside the XML character set),
    or ``None`` when it can.

    >>> xml_text_problem("Grüße <&>"), xml_text_problem("a\\x00b")
    (None, 'character U+0000 cannot be written in XML 1.0')
    """
    bad = _NOT_XML.search(value)
    if bad is None:
        return None
    return f"character U+{ord(bad.group(0)):04X} cannot be written in XML 1.0"


def check_xml_text(value: str, field: str) -> None:
    """Raise :class:`~emma_osplus.InvalidValueError` (E206) when *value* holds a character
    XML 1.0 cannot carry; used by the document classes for their free-text fields."""
    problem = xml_text_problem(value)
    if problem is not None:
        raise InvalidValueError(Message("E206", field=field, raw=value, detail=problem))


def write_document(document: Mapping[str, Any], layout: XmlLayout) -> bytes:
    """The canonical bytes of *document* laid out by *layout* (see the module docstring).

    Raises :class:`~emma_osplus.SchemaError` (E106) for a key the layout does not know or a
    value of the wrong JSON type, and :class:`~emma_osplus.RecordError` (E206) for a
    character XML 1.0 cannot carry; nothing is dropped or replaced.  Whether required
    attributes are present is the schema's business (:func:`load_document`).
    """
    out = [XML_DECLARATION]
    messages: list[Message] = []
    _write_element(
        document,
        layout.root,
        path=layout.root.tag,
        depth=0,
        out=out,
        messages=messages,
        namespace=layout.namespace,
    )
    if messages:
        raise error_for(*messages)
    return ("\n".join(out) + "\n").encode("utf-8")


def _checked(value: object, field: str, messages: list[Message]) -> str | None:
    if not isinstance(value, str):
        messages.append(_schema_error(field, f"expected text, got {type(value).__name__}"))
        return None
    problem = xml_text_problem(value)
    if problem is not None:
        messages.append(Message("E206", field=field, raw=value, detail=problem))
        return None
    return value


def _write_element(
    value: object,
    spec: ElementSpec,
    *,
    path: str,
    depth: int,
    out: list[str],
    messages: list[Message],
    namespace: str | None = None,
) -> None:
    if not isinstance(value, Mapping):
        messages.append(_schema_error(path, f"expected an object, got {type(value).__name__}"))
        return
    known = {*spec.attributes, *(c.tag for c in spec.children), *([_TEXT_KEY] if spec.text else [])}
    for key in value:
        if key not in known:
            messages.append(_schema_error(f"{path}/{key}", "not part of the layout"))
    indent = "  " * depth
    head = [f"{indent}<{spec.tag}"]
    if namespace is not None:
        head.append(f' xmlns="{namespace}"')
    for name in spec.attributes:
        if name in value:
            text = _checked(value[name], f"{path}/@{name}", messages)
            if text is not None:
                head.append(f' {name}="{text.translate(_ATTRIBUTE_ESCAPES)}"')
    start = "".join(head)
    if spec.text:
        text = _checked(value.get(_TEXT_KEY, ""), f"{path}/{_TEXT_KEY}", messages) or ""
        if text:
            out.append(f"{start}>{text.translate(_TEXT_ESCAPES)}</{spec.tag}>")
        else:
            out.append(f"{start}/>")
        return
    inner: list[str] = []
    for child in spec.children:
        if child.tag not in value:
            continue
        child_value = value[child.tag]
        child_path = f"{path}/{child.tag}"
        if child.repeat:
            if not isinstance(child_value, list):
                messages.append(_schema_error(child_path, "expected a list"))
                continue
            for item in child_value:
                _write_element(
                    item, child, path=child_path, depth=depth + 1, out=inner, messages=messages
                )
        else:
            _write_element(
                child_value,
                child,
                path=child_path,
                depth=depth + 1,
                out=inner,
                messages=messages,
            )
    if inner:
        out.append(f"{start}>")
        out.extend(inner)
        out.append(f"{indent}</{spec.tag}>")
    else:
        out.append(f"{start}/>")


def load_document(
    source: bytes | IO[bytes],
    layout: XmlLayout,
    *,
    mode: Mode = Mode.STRICT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[XmlDocument | None, tuple[Message, ...]]:
    """Parse, validate and read *source*: the document (``None`` when unusable) and the
    messages.  Strict mode raises on the first problem (with all messages of that step)."""
    try:
        data = _read_source(source, max_bytes)
        root = parse_xml(data, max_bytes=max_bytes)
        messages: tuple[Message, ...] = ()
        if layout.schema is not None:
            messages = validate(root, layout.schema, mode=mode, source=data)
        if messages:
            return None, messages
        return attrs.evolve(read_document(root, layout), source=data), ()
    except MessageError as exc:
        if mode is Mode.STRICT:
            raise
        return None, exc.messages


# ---------------------------------------------------------------------------------------------
# Results and value helpers for the kinds
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class XmlResult(Generic[T]):
    """What ``read_manifest``, ``read_control`` and ``read_acknowledgement`` return.

    ``value`` is the document object (``None`` when the file is unusable), ``messages`` every
    problem found (in lenient mode; strict mode raises instead), ``document`` the JSON-view
    document: canonical when ``value`` is set, as read when only the kind's own rules failed,
    ``None`` when the file did not even pass the schema.
    """

    value: T | None
    messages: tuple[Message, ...] = ()
    document: Document | None = None

    @property
    def ok(self) -> bool:
        """True when there is a value and no error."""
        return self.value is not None and not any(m.is_error for m in self.messages)


class DocumentBuilder:
    """Collects conversion problems while a kind turns a document into its object, each
    placed on the line of the element it concerns (used by the kind modules)."""

    def __init__(self, parsed: XmlDocument) -> None:
        self.parsed = parsed
        self.messages: list[Message] = []

    def place(self, message: Message, field: str | None, raw: str | None) -> Message:
        """*message* with the line of *field*, *field* itself and, where it has none, *raw*
        (else the source line)."""
        where = field if field is not None else message.field
        line = message.line if message.line is not None else self.parsed.line_for(where)
        if message.raw is not None:
            raw = message.raw
        elif raw is None:
            raw = self.parsed.source_line(line)
        return attrs.evolve(message, line=line, field=where, raw=raw)

    def convert(self, func: Callable[[str], T], value: str, field: str) -> T | None:
        """``func(value)``, or ``None`` after recording the refusal at *field*."""
        try:
            return func(value)
        except InvalidValueError as exc:
            self.messages.extend(self.place(m, field, value) for m in exc.messages)
            return None

    def build(self, func: Callable[[], T]) -> T | None:
        """``func()`` (a constructor), or ``None`` after recording its refusal; the message's
        own field (an element path) gives the line."""
        try:
            return func()
        except InvalidValueError as exc:
            self.messages.extend(self.place(m, None, None) for m in exc.messages)
            return None


def finish(
    value: T | None,
    messages: Sequence[Message],
    document: Document | None,
    mode: Mode,
    to_document: Callable[[T], Document],
) -> XmlResult[T]:
    """The reader's result: raise in strict mode when there is an error, else wrap up."""
    errors = [m for m in messages if m.is_error]
    if errors and mode is Mode.STRICT:
        raise error_for(*errors)
    if errors or value is None:
        return XmlResult(None, tuple(messages), document)
    return XmlResult(value, tuple(messages), to_document(value))


def _refuse_value(code: str, text: str, detail: str) -> InvalidValueError:
    return InvalidValueError(Message(code, raw=text, detail=detail))


def parse_timestamp(text: str) -> dt.datetime:
    """An ``xs:dateTime`` with an offset as an aware datetime (E205 otherwise); surrounding
    whitespace is ignored as XSD does.

    >>> parse_timestamp("2026-11-20T08:00:00.5+01:00").isoformat()
    '2026-11-20T08:00:00.500000+01:00'
    """
    return DATETIME_OFFSET.parse(text.strip())


def check_timestamp(value: object, field: str) -> None:
    """Raise E205 unless *value* is an aware datetime whose offset is a whole number of
    minutes within ±14 hours (what ``xs:dateTime`` can carry)."""
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise InvalidValueError(
            Message("E205", field=field, raw=repr(value), detail="expected an aware datetime")
        )
    offset = value.utcoffset()
    if offset is None or offset % dt.timedelta(minutes=1) or abs(offset) > dt.timedelta(hours=14):
        raise InvalidValueError(
            Message(
                "E205",
                field=field,
                raw=repr(value),
                detail="offset must be whole minutes within ±14:00",
            )
        )


def format_timestamp(value: dt.datetime) -> str:
    """The canonical ``xs:dateTime`` of an aware datetime: ``isoformat()`` (UTC as
    ``+00:00``, microseconds only when not zero).

    >>> format_timestamp(parse_timestamp("2026-11-20T07:00:00Z"))
    '2026-11-20T07:00:00+00:00'
    """
    return value.isoformat()


def parse_date(text: str) -> dt.date:
    """An ``xs:date`` without time zone (``YYYY-MM-DD``) as a date (E205 otherwise)."""
    stripped = text.strip()
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", stripped):
        try:
            return dt.date(int(stripped[:4]), int(stripped[5:7]), int(stripped[8:]))
        except ValueError:
            pass
    raise _refuse_value("E205", text, "expected YYYY-MM-DD")


def format_date(value: dt.date) -> str:
    """``YYYY-MM-DD``."""
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def parse_boolean(text: str) -> bool:
    """An ``xs:boolean`` (``true``/``false``/``1``/``0``)."""
    stripped = text.strip()
    if stripped in ("true", "1"):
        return True
    if stripped in ("false", "0"):
        return False
    raise _refuse_value("E209", text, "expected true or false")


def format_boolean(value: bool) -> str:
    """``true`` or ``false``."""
    return "true" if value else "false"


def parse_count(text: str) -> int:
    """An ``xs:nonNegativeInteger`` (optional ``+``, surrounding whitespace)."""
    stripped = text.strip()
    digits = stripped[1:] if stripped.startswith("+") else stripped
    if digits.isascii() and digits.isdigit():
        return int(digits)
    raise _refuse_value("E209", text, "expected a non-negative integer")


def check_count(value: object, field: str, *, minimum: int = 0) -> None:
    """Raise E209 unless *value* is an ``int`` (not ``bool``) of at least *minimum*."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidValueError(
            Message(
                "E209", field=field, raw=repr(value), detail=f"expected an integer >= {minimum}"
            )
        )


_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_sha256(value: object, field: str) -> None:
    """Raise E209 unless *value* is 64 lowercase hexadecimal digits."""
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise InvalidValueError(
            Message("E209", field=field, raw=str(value), detail="expected 64 lowercase hex digits")
        )


def check_file_name(value: object, field: str) -> None:
    """Raise E108 unless *value* is a plain file name: 1–255 characters, no ``/`` or ``\\``,
    no control character, not ``.`` or ``..`` (a name that cannot escape a directory)."""
    if not isinstance(value, str):
        raise InvalidValueError(
            Message("E108", field=field, raw=repr(value), detail="expected text")
        )
    if (
        not 1 <= len(value) <= 255
        or value in (".", "..")
        or re.search(r"[/\\\x00-\x1f\x7f]", value)
        or xml_text_problem(value) is not None
    ):
        raise InvalidValueError(
            Message(
                "E108",
                field=field,
                raw=value,
                detail="a plain file name: no path, no control character",
            )
        )


def check_one_of(value: object, codes: Iterable[str], field: str) -> None:
    """Raise E207 unless *value* is one of *codes*."""
    allowed = tuple(codes)
    if value not in allowed:
        raise InvalidValueError(
            Message("E207", field=field, raw=str(value), detail="allowed: " + ", ".join(allowed))
        )


def registry_occasion(text: str) -> OccasionCode:
    """The default :data:`OccasionResolver`: the packaged registry's ``canonical``."""
    from ._registry import default_registry  # noqa: PLC0415 - imported lazily on first use

    return default_registry().canonical(text)


def occasion_converter(resolver: OccasionResolver | None) -> Callable[[str], OccasionCode]:
    """A converter that checks an occasion code against *resolver* (default: the registry)."""
    resolve = registry_occasion if resolver is None else resolver

    def convert(text: str) -> OccasionCode:
        code = resolve(text)
        if not isinstance(code, OccasionCode):
            raise TypeError(f"an occasion resolver must return an OccasionCode, got {code!r}")
        return code

    return convert
