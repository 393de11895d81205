"""Subscriber lists (*Abonnentenlisten*): the CSV kinds ``KMM``, ``REKU`` and ``IAM``.

The three kinds share one column table (FORMATS.md, "Subscriber list"); only ``ANLASS`` differs:
it is required for ``REKU`` and optional for the others.  The layouts are data
(:data:`SUBSCRIBER_COLUMNS`, :data:`LAYOUTS`) read and written by the generic engine of
:mod:`emma_osplus._csv`, plus two rules over the whole file:

* a customer number twice is **E203**: the second occurrence is rejected and its message names
  the line of the first (every valid customer number counts, even in a record rejected for
  another reason);
* one address (by its matching key, see :attr:`~emma_osplus._email.EmailAddress.matching_key`)
  for several customers is the warning **W201** on each later record, naming the line of the
  first; it never rejects.

A header-only file is a valid empty list.

>>> from emma_osplus import Mode, Record
>>> data = ("KUNDENNUMMER;EMAIL;ANREDE;Vorname;Lieblingsfiliale\\r\\n"
...         "4711;anna@example.de;Frau;Anna;Neumarkt\\r\\n"
...         "4712;Anna@EXAMPLE.de;Herr;Jörg;\\r\\n"
...         "4711;max@example.de;Herrn;Max;Altstadt\\r\\n").encode("cp1252")
>>> reader = read_subscriber_list(data, "KMM", mode=Mode.LENIENT)
>>> items = list(reader)
>>> for item in items:
...     print(item.line, type(item).__name__, [m.code for m in item.messages])
2 Record []
3 Record ['W201']
4 Rejected ['E207', 'E203']
>>> print(items[1].messages[0].describe())
W201, line 3, field EMAIL: Eine Adresse für mehrere Kunden (same address as line 2)
>>> print(items[2].messages[1].describe())
E203, line 4, field KUNDENNUMMER: Kundennummer doppelt in der Datei (0000004711 first at line 2)
>>> reader.columns, reader.encoding.name
(('KUNDENNUMMER', 'EMAIL', 'ANREDE', 'VORNAME', 'Lieblingsfiliale'), 'windows-1252')

Writing gives the canonical file (windows-1252 by default, CRLF, canonical values):

>>> write_subscriber_list("KMM", ["KUNDENNUMMER", "EMAIL", "GEBURTSDATUM"],
...                       [{"KUNDENNUMMER": "4711", "EMAIL": "anna@Example.DE", "GEBURTSDATUM": "01.02.1980"}])
b'KUNDENNUMMER;EMAIL;GEBURTSDATUM\\r\\n0000004711;anna@example.de;01.02.1980\\r\\n'

``ANLASS`` is canonicalised to the long code and must exist in the occasion registry.  The
registry is :func:`emma_osplus._registry.default_registry` unless a resolver
(``resolve_occasion``: text → :class:`~emma_osplus.OccasionCode`, raising
:class:`~emma_osplus.InvalidValueError` E204 for an unknown code) is given.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final

import attrs

from ._converters import DATE, CodeTable, Pattern, ValueType
from ._csv import Column, CsvLayout, CsvReader, RecordCheck, iter_csv, read_csv
from ._email import EMAIL, matching_key
from ._encoding import Source
from ._errors import FileNameError, InvalidValueError
from ._filenames import check_safe_name
from ._firstseen import DEFAULT_MEMORY_LIMIT, FirstSeen
from ._messages import Message
from ._records import Mode
from ._types import CustomerNumber, OccasionCode

__all__ = [
    "ANREDE_CODES",
    "IAM",
    "KMM",
    "LAYOUTS",
    "REKU",
    "SUBSCRIBER_COLUMNS",
    "SUBSCRIBER_KINDS",
    "OccasionConverter",
    "default_occasion_resolver",
    "iter_subscriber_list",
    "read_subscriber_list",
    "subscriber_layout",
    "write_subscriber_list",
]

#: The subscriber-list kinds.
SUBSCRIBER_KINDS: Final = ("KMM", "REKU", "IAM")
#: The values of ``ANREDE`` (besides empty).
ANREDE_CODES: Final = ("Herr", "Frau", "Divers", "Firma")

OccasionResolver = Callable[[str], OccasionCode]


def default_occasion_resolver(code: str) -> OccasionCode:
    """The occasion *code* canonicalised by the packaged registry (E204 when unknown).

    >>> default_occasion_resolver("ag002")
    OccasionCode('MCAG002')
    """
    from ._registry import default_registry  # noqa: PLC0415 - loaded on first use only

    return default_registry().canonical(code)


@attrs.frozen
class OccasionConverter:
    """Layout converter for ``ANLASS``: long or short code in, the registered long code out.

    *resolve* maps text to an :class:`~emma_osplus.OccasionCode` and raises
    :class:`~emma_osplus.InvalidValueError` (E204) for an unknown code; ``None`` uses
    :func:`default_occasion_resolver`.

    >>> known = {"MCAG002"}
    >>> def resolve(text):
    ...     code = OccasionCode(text)
    ...     if code.long not in known:
    ...         raise InvalidValueError(Message("E204", field="ANLASS", raw=text, detail="not registered"))
    ...     return code
    >>> OccasionConverter(resolve).canonical("AG002")
    'MCAG002'
    >>> OccasionConverter(resolve).canonical("AG003")
    Traceback (most recent call last):
    ...
    emma_osplus._errors.InvalidValueError: E204, field ANLASS: Unbekannter Anlass (not registered)
    """

    resolve: OccasionResolver | None = None

    def parse(self, text: str) -> OccasionCode:
        resolve = self.resolve or default_occasion_resolver
        try:
            return resolve(text)
        except InvalidValueError:
            raise
        except ValueError as exc:  # a resolver that refuses with a plain ValueError
            raise InvalidValueError(Message("E204", raw=text, detail=str(exc))) from None

    def format(self, value: Any) -> str:
        return value.long if isinstance(value, OccasionCode) else OccasionCode(str(value)).long

    def canonical(self, text: str) -> str:
        return self.format(self.parse(text))


@attrs.frozen
class _PictureName(Pattern):
    """``BERATERBILD``, ``FAKSIMILE``: a name the transports can handle, by
    :func:`~emma_osplus.check_safe_name` (E209 otherwise).  The pattern is the common case,
    checked in bulk: a stem of at least five characters (never a Windows device name) and an
    extension."""

    def parse(self, text: str) -> str:
        if self._compiled.fullmatch(text):
            return text
        try:
            return check_safe_name(text)
        except FileNameError as exc:
            detail = f"a plain file name: {exc.message.detail}"
            raise InvalidValueError(Message("E209", raw=text, detail=detail)) from None


_FILE_NAME = _PictureName(
    r"[A-Za-z0-9_-]{5,200}(?:\.[A-Za-z0-9]{1,10})?",
    description="a plain file name the transports accept",
)

#: The column table of FORMATS.md (``ANLASS`` optional here; :data:`REKU` requires it).
SUBSCRIBER_COLUMNS: Final = (
    Column("KUNDENNUMMER", True, ValueType(CustomerNumber), "customer number, canonical 10 digits"),
    Column("EMAIL", True, EMAIL, "email address"),
    Column("ANREDE", False, CodeTable(ANREDE_CODES), "salutation: Herr, Frau, Divers, Firma"),
    Column("TITEL", False, None, "title"),
    Column("VORNAME", False, None, "first name"),
    Column("NACHNAME", False, None, "last name"),
    Column("GEBURTSDATUM", False, DATE, "date of birth DD.MM.YYYY"),
    Column("BERATER_NR", False, Pattern("[0-9]{1,8}", description="1 to 8 digits"), "advisor number"),
    Column("BERATER_NAME", False, None, "advisor's name"),
    Column("BERATER_TELEFON", False, None, "advisor's telephone"),
    Column("BERATER_EMAIL", False, EMAIL, "advisor's email address"),
    Column("BERATERBILD", False, _FILE_NAME, "file name of the advisor picture in the delivery"),
    Column("FAKSIMILE", False, _FILE_NAME, "file name of the facsimile in the delivery"),
    Column("ANLASS", False, OccasionConverter(), "occasion code, canonical long form"),
    Column("ANLASS_DATUM", False, DATE, "date of the occasion DD.MM.YYYY"),
)  # fmt: skip


class _UniqueCustomers:
    """E203: the second occurrence of a customer number, naming the line of the first."""

    __slots__ = ("_first",)

    def __init__(self, memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        # in memory up to memory_limit customers, then on disk: memory does not grow with the
        # file (keys: the numbers)
        self._first = FirstSeen(memory_limit)

    def __call__(
        self,
        line: int,
        values: Mapping[str, str],
        typed: Mapping[str, Any],
        errors: Sequence[Message],
    ) -> Sequence[Message]:
        customer = values.get("KUNDENNUMMER")
        if not customer or "KUNDENNUMMER" not in typed:
            return ()  # empty or invalid: nothing to compare
        first = self._first.setdefault(int(customer), line)  # canonical: 10 digits
        if first == line:
            return ()
        return (
            Message(
                "E203", line=line, field="KUNDENNUMMER", detail=f"{customer} first at line {first}"
            ),
        )

    def batch(self, lines: Sequence[int], columns: Mapping[str, Sequence[str]]) -> bool:
        """A batch of valid records: all accounted for when no number repeats (see
        :class:`~emma_osplus._csv.RecordCheck`)."""
        customers = columns.get("KUNDENNUMMER")
        if customers is None or "" in customers:
            return False
        return self._first.claim_all(list(map(int, customers)), lines)


def _not_ascii(text: str) -> bool:
    return not text.isascii()


def _address_key(canonical: str) -> str:
    """The matching key of a valid address in canonical form (without building it)."""
    return canonical.lower() if canonical.isascii() else matching_key(canonical)


class _SharedAddresses:
    """W201: an address (matching key) already used by another customer of the file."""

    __slots__ = ("_first",)

    def __init__(self, memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        self._first = FirstSeen(memory_limit)

    def __call__(
        self,
        line: int,
        values: Mapping[str, str],
        typed: Mapping[str, Any],
        errors: Sequence[Message],
    ) -> Sequence[Message]:
        if errors:
            return ()  # a rejected record is nobody's address
        email = values.get("EMAIL")
        if not email or "EMAIL" not in typed:
            return ()
        first = self._first.setdefault(_address_key(email), line)
        if first == line:
            return ()
        return (Message("W201", line=line, field="EMAIL", detail=f"same address as line {first}"),)

    def batch(self, lines: Sequence[int], columns: Mapping[str, Sequence[str]]) -> bool:
        """A batch of valid records: all accounted for when no address repeats."""
        emails = columns.get("EMAIL")
        if emails is None or "" in emails:
            return False
        joined = "".join(emails)
        # ASCII: lower() is the case fold (and most addresses are written in lower case).
        # The ASCII letters are compared with their lower case as bytes: str.islower() looks
        # every character up in the Unicode tables (about 2 % of a row's instructions).
        ascii_only = joined.isascii()
        letters = joined.encode("ascii", "ignore")
        keys = emails if letters.lower() == letters else list(map(str.lower, emails))
        if not ascii_only:  # internationalised domains: those addresses' own keys
            own = keys if isinstance(keys, list) and keys is not emails else list(keys)
            for i in itertools.compress(range(len(own)), map(_not_ascii, emails)):
                own[i] = _address_key(emails[i])
            keys = own
        return self._first.claim_all(keys, lines)


_CHECKS: tuple[Callable[[], RecordCheck], ...] = (_UniqueCustomers, _SharedAddresses)


def subscriber_layout(kind: str, resolve_occasion: OccasionResolver | None = None) -> CsvLayout:
    """The layout of subscriber-list *kind* (``KMM``, ``REKU`` or ``IAM``), with
    *resolve_occasion* for ``ANLASS`` (default: the packaged registry).

    >>> [c.name for c in subscriber_layout("REKU").columns if c.required]
    ['KUNDENNUMMER', 'EMAIL', 'ANLASS']
    """
    if kind not in SUBSCRIBER_KINDS:
        raise ValueError(
            f"not a subscriber-list kind: {kind!r} (one of {', '.join(SUBSCRIBER_KINDS)})"
        )
    columns = [
        attrs.evolve(column, required=kind == "REKU", converter=OccasionConverter(resolve_occasion))
        if column.name == "ANLASS"
        else column
        for column in SUBSCRIBER_COLUMNS
    ]
    return CsvLayout(
        kind=kind,
        columns=tuple(columns),
        encoding="windows-1252",
        bom=False,
        allow_unknown=True,
        checks=_CHECKS,
    )


KMM: Final = subscriber_layout("KMM")
REKU: Final = subscriber_layout("REKU")
IAM: Final = subscriber_layout("IAM")
#: The layouts by kind (with the packaged registry for ``ANLASS``).
LAYOUTS: Final[Mapping[str, CsvLayout]] = {"KMM": KMM, "REKU": REKU, "IAM": IAM}


def _layout(kind: str, resolve_occasion: OccasionResolver | None) -> CsvLayout:
    if resolve_occasion is None and kind in LAYOUTS:
        return LAYOUTS[kind]
    return subscriber_layout(kind, resolve_occasion)


def read_subscriber_list(
    source: Source,
    kind: str,
    *,
    mode: Mode | str = Mode.STRICT,
    encoding: str | None = None,
    resolve_occasion: OccasionResolver | None = None,
) -> CsvReader:
    """Read a subscriber list of *kind* from *source* (``bytes``, a binary file object or an
    iterable of ``bytes`` chunks): a :class:`~emma_osplus._csv.CsvReader` of items.

    *encoding* is the encoding the manifest declares (used strictly); without it the encoding
    is detected.  In strict *mode* the first error raises; in lenient mode bad records come
    back as :class:`~emma_osplus.Rejected`.
    """
    return read_csv(source, _layout(kind, resolve_occasion), mode=mode, encoding=encoding)


def iter_subscriber_list(
    kind: str,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any] | Sequence[Any]],
    *,
    encoding: str = "windows-1252",
    resolve_occasion: OccasionResolver | None = None,
) -> Iterator[bytes]:
    """The canonical subscriber list in chunks of bytes (see :func:`write_subscriber_list`)."""
    return iter_csv(_layout(kind, resolve_occasion), columns, rows, encoding=encoding)


def write_subscriber_list(
    kind: str,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any] | Sequence[Any]],
    *,
    encoding: str = "windows-1252",
    resolve_occasion: OccasionResolver | None = None,
) -> bytes:
    """The canonical subscriber list of *kind* with header *columns* and *rows*.

    Rows are mappings (column → text or typed value) or sequences in header order.  Every
    value is checked and written in its canonical form; a bad value, an empty required one,
    a customer number twice (E203) or a character the encoding lacks (E206) raises
    :class:`~emma_osplus.RecordError` naming the record's line and the field.
    """
    return b"".join(
        iter_subscriber_list(
            kind, columns, rows, encoding=encoding, resolve_occasion=resolve_occasion
        )
    )
