"""The ReKu occasion registry: the 56 standard occasions (*Anlässe*), the mailings the group's
partners offer for them (*Werbemittel*) and the customer journeys (*Kundenstrecken*) that are
selected by them, as one immutable, queryable object.

The catalogue ships as package data (the three CSV files of the domain brief, unchanged) and is
read once, on the first call of :func:`default_registry`.

>>> from emma_osplus._registry import default_registry
>>> reg = default_registry()
>>> reg
<Registry: 56 occasions, 29 mailings from 6 providers, 7 journeys>
>>> reg.canonical(" ag002 ")
OccasionCode('MCAG002')
>>> reg.get("AG002")
Occasion('MCAG002', 'Runde Geburtstage')
>>> reg.search("Gebuehren")
code     short  title
MCAC170  AC170  Aufhebung Gebührenbefreiung und Bausparvertrag
MCAP501  AP501  Änderung e. Girokontos, Aufhebung d. Gebührenfreiheit
(2 occasions)

An unknown code raises :class:`~emma_osplus.InvalidValueError` with message ``E204`` and the
close matches in its detail; the partner catalogue's own misprint ``AUO30`` (letter O) is one:

>>> reg.canonical("AUO30")
Traceback (most recent call last):
...
emma_osplus._errors.InvalidValueError: E204, field ANLASS: Unbekannter Anlass (not in the registry; close matches: MCAU030)

Extending never changes a registry; it returns a new one:

>>> own = reg.mailing("Sparkasse Musterstadt", "Willkommen", "AC120")
>>> mine = reg.with_mailings(own)
>>> len(mine.mailings_for("AC120")) - len(reg.mailings_for("AC120"))
1
"""

from __future__ import annotations

import enum
import functools
import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from importlib import resources
from types import MappingProxyType
from typing import ClassVar

import attrs

from ._errors import InvalidValueError, error_for
from ._messages import Message
from ._types import OccasionCode

__all__ = [
    "Journey",
    "Journeys",
    "Mailing",
    "Mailings",
    "Occasion",
    "Occasions",
    "Registry",
    "Selection",
    "UnresolvedCode",
    "default_registry",
]

#: How many close matches :meth:`Registry.suggest` returns at most.
MAX_SUGGESTIONS = 5
#: The largest (weighted) edit distance that still counts as a close match.
MAX_DISTANCE = 2.0


# --------------------------------------------------------------------------------------------
# text helpers


def _refuse(
    code: str, field: str | None, raw: object, detail: str, line: int | None = None
) -> InvalidValueError:
    text = raw if isinstance(raw, str) else repr(raw)
    return InvalidValueError(Message(code, line=line, field=field, raw=text, detail=detail))


def _strip_marks(text: str) -> str:
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_DIGRAPHS = re.compile("ae|oe|ue")


def _fold(text: str) -> tuple[str, str]:
    """Two comparison forms of *text*: umlauts spelled out (``ü`` → ``ue``) and loose (every
    ``ü``/``ue`` → ``u``), both case-folded and without other diacritics."""
    folded = unicodedata.normalize("NFKC", text).casefold()  # ß → ss, Ä → ä
    plain = _strip_marks(unicodedata.normalize("NFC", folded).translate(_UMLAUTS))
    loose = _DIGRAPHS.sub(lambda m: m.group(0)[0], plain)
    return plain, loose


def _fold_key(text: str) -> str:
    """A key for names such as providers: folded, only letters and digits (``VöV`` → ``vov``)."""
    return "".join(ch for ch in _fold(text)[1] if ch.isalnum())


def _text_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, no trailing blanks."""
    rows = [tuple(row) for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in (tuple(headers), *rows)
    ]
    return "\n".join(lines)


def _html_table(headers: Sequence[str], rows: Iterable[Sequence[str]], caption: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return (
        f"<table><caption>{html.escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


# --------------------------------------------------------------------------------------------
# edit distance for suggestions

_CONFUSABLE = frozenset(
    {("O", "0"), ("0", "O"), ("I", "1"), ("1", "I"), ("L", "1"), ("1", "L"), ("S", "5"),
     ("5", "S"), ("B", "8"), ("8", "B"), ("Z", "2"), ("2", "Z"), ("G", "6"), ("6", "G")}
)  # fmt: skip


def _distance(a: str, b: str) -> float:
    """Optimal-string-alignment distance; swapping look-alikes (``O``/``0``) costs 0.5."""
    previous2: list[float] = []
    previous = [float(j) for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        current = [float(i)] + [0.0] * len(b)
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                cost = 0.0
            elif (a[i - 1], b[j - 1]) in _CONFUSABLE:
                cost = 0.5
            else:
                cost = 1.0
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, previous2[j - 2] + 1)
            current[j] = best
        previous2, previous = previous, current
    return previous[len(b)]


# --------------------------------------------------------------------------------------------
# domain types


def _to_code(value: object) -> OccasionCode:
    return value if isinstance(value, OccasionCode) else OccasionCode(value)


def _to_codes(values: Iterable[object]) -> tuple[OccasionCode, ...]:
    return tuple(_to_code(v) for v in values)


def _to_unresolved(values: Iterable[UnresolvedCode]) -> tuple[UnresolvedCode, ...]:
    return tuple(values)


def _required_text(field: str) -> Callable[[object, attrs.Attribute[str], object], None]:
    def check(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
        if not isinstance(value, str):
            raise _refuse("E209", field, value, f"expected text, got {type(value).__name__}")
        if not value.strip():
            raise _refuse("E208", field, value, "empty value")

    return check


def _optional_text(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise _refuse("E209", attribute.name, value, f"expected text, got {type(value).__name__}")


@attrs.frozen(order=True, repr=False)
class Occasion:
    """One ReKu occasion: its code and title (the columns ``code``, ``short_code`` and
    ``title`` of the catalogue; the short code and the family follow from the code).

    >>> o = Occasion("ag002", "Runde Geburtstage")
    >>> o
    Occasion('MCAG002', 'Runde Geburtstage')
    >>> o.code, o.short_code, o.family
    (OccasionCode('MCAG002'), 'AG002', 'AG')
    """

    code: OccasionCode = attrs.field(converter=_to_code)
    title: str = attrs.field(validator=_required_text("title"))

    @property
    def short_code(self) -> str:
        """The short form, e.g. ``AG002``."""
        return self.code.short

    @property
    def family(self) -> str:
        """The two-letter family, e.g. ``AG``."""
        return self.code.family

    def __repr__(self) -> str:
        return f"Occasion({self.code.long!r}, {self.title!r})"


@attrs.frozen(repr=False)
class UnresolvedCode:
    """A code (or range) in a mailing's or journey's code text that names no registered
    occasion.  It is kept, never corrected silently; ``suggestions`` are the close matches.

    >>> u = UnresolvedCode("AUO30", suggestions=("AU030",))
    >>> u
    UnresolvedCode('AUO30', suggestions=('MCAU030',))
    >>> u.message.describe()
    'E204: Unbekannter Anlass (AUO30: not in the registry; close matches: MCAU030)'
    """

    text: str
    suggestions: tuple[OccasionCode, ...] = attrs.field(default=(), converter=_to_codes)
    reason: str = "not in the registry"

    @property
    def message(self) -> Message:
        """The ``E204`` message for this code."""
        return Message("E204", raw=self.text, detail=f"{self.text}: {self.detail}")

    @property
    def detail(self) -> str:
        """The reason and the close matches, e.g. ``not in the registry; close matches: …``."""
        return _detail(self.reason, self.suggestions)

    def __repr__(self) -> str:
        return f"UnresolvedCode({self.text!r}, suggestions={tuple(c.long for c in self.suggestions)!r})"


def _detail(reason: str, suggestions: Sequence[OccasionCode]) -> str:
    if suggestions:
        return f"{reason}; close matches: {', '.join(c.long for c in suggestions)}"
    return f"{reason}; no close match"


def _codes_text_default(self: Mailing | Journey) -> str:
    return " ".join([*(c.short for c in self.occasions), *(u.text for u in self.unresolved)])


@attrs.frozen(repr=False)
class Mailing:
    """A mailing (*Werbemittel*) of a provider, with the occasions it serves.

    ``codes_text`` is the code column as the source wrote it (a range such as
    ``AG001-AG006`` is kept there as written); ``occasions`` are the resolved codes and
    ``unresolved`` the parts of the text that name no registered occasion, each with its close
    matches.  A mailing without codes (Deka's) is *unlinked*.  Build one from text with
    :meth:`Registry.mailing`; attach it with :meth:`Registry.with_mailings`.

    >>> Mailing("Sparkasse Musterstadt", "Willkommen", occasions=["AC120"])
    Mailing('Sparkasse Musterstadt', 'Willkommen', occasions=('MCAC120',))
    """

    provider: str = attrs.field(validator=_required_text("provider"))
    title: str = attrs.field(validator=_required_text("title"))
    occasions: tuple[OccasionCode, ...] = attrs.field(default=(), converter=_to_codes)
    unresolved: tuple[UnresolvedCode, ...] = attrs.field(default=(), converter=_to_unresolved)
    codes_text: str = attrs.field(
        default=attrs.Factory(_codes_text_default, takes_self=True), validator=_optional_text
    )
    note: str = attrs.field(default="", validator=_optional_text)

    @property
    def linked(self) -> bool:
        """True when the mailing serves at least one registered occasion."""
        return bool(self.occasions)

    def __repr__(self) -> str:
        return _linked_repr("Mailing", (self.provider, self.title), self)


def _linked_repr(cls: str, head: Sequence[str], item: Mailing | Journey) -> str:
    """``Cls('head', …, occasions=…, unresolved=…, codes_text=…, note=…)``, each keyword only
    where it is not the default."""
    parts = [repr(h) for h in head]
    if item.occasions:
        parts.append(f"occasions={tuple(c.long for c in item.occasions)!r}")
    if item.unresolved:
        parts.append(f"unresolved={item.unresolved!r}")
    if item.codes_text != _codes_text_default(item):
        parts.append(f"codes_text={item.codes_text!r}")
    if item.note:
        parts.append(f"note={item.note!r}")
    return f"{cls}({', '.join(parts)})"


class Selection(enum.Enum):
    """How a customer journey selects its customers: a regular KMM selection or ReKu
    occasions."""

    KMM = "KMM"
    REKU = "ReKu"


def _to_selection(value: object) -> Selection:
    if isinstance(value, Selection):
        return value
    if isinstance(value, str):
        for selection in Selection:
            if selection.value.casefold() == value.strip().casefold():
                return selection
    raise _refuse("E207", "selection", value, "allowed: KMM, ReKu")


@attrs.frozen(repr=False)
class Journey:
    """A customer journey (*Digitale Kundenstrecke*) and how it selects its customers.

    A ``KMM`` journey has no occasions; a ``ReKu`` journey has at least one (resolved or, kept
    visible, unresolved).  The catalogue records no steps or intervals; ``note`` keeps its
    remark.

    >>> Journey("Junge Erwachsene", "ReKu", occasions=["AG004"])
    Journey('Junge Erwachsene', 'ReKu', occasions=('MCAG004',))
    >>> Journey("OBV", "KMM").selection
    <Selection.KMM: 'KMM'>
    """

    name: str = attrs.field(validator=_required_text("journey"))
    selection: Selection = attrs.field(converter=_to_selection)
    occasions: tuple[OccasionCode, ...] = attrs.field(default=(), converter=_to_codes)
    unresolved: tuple[UnresolvedCode, ...] = attrs.field(default=(), converter=_to_unresolved)
    codes_text: str = attrs.field(
        default=attrs.Factory(_codes_text_default, takes_self=True), validator=_optional_text
    )
    note: str = attrs.field(default="", validator=_optional_text)

    def __attrs_post_init__(self) -> None:
        has_codes = bool(self.occasions or self.unresolved)
        if self.selection is Selection.KMM and has_codes:
            raise _refuse("E209", "short_codes", self.codes_text, "a KMM journey has no occasions")
        if self.selection is Selection.REKU and not has_codes:
            raise _refuse("E208", "short_codes", self.codes_text, "a ReKu journey needs occasions")

    def __repr__(self) -> str:
        return _linked_repr("Journey", (self.name, self.selection.value), self)


# --------------------------------------------------------------------------------------------
# result tables


class _Table:
    """Shared display of a query result: a text table as ``repr`` and an HTML table for
    notebooks."""

    __slots__ = ()
    HEADERS: ClassVar[tuple[str, ...]] = ()
    _NOUN: ClassVar[tuple[str, str]] = ("item", "items")

    def rows(self) -> list[tuple[str, ...]]:
        """The rows of the table, one tuple of text per entry (columns: :attr:`HEADERS`)."""
        raise NotImplementedError

    def _count(self) -> str:
        n = len(self.rows())
        return f"{n} {self._NOUN[0] if n == 1 else self._NOUN[1]}"

    def table(self) -> str:
        """The result as a plain-text table."""
        return _text_table(self.HEADERS, self.rows())

    def __repr__(self) -> str:
        rows = self.rows()
        if not rows:
            return f"({self._count()})"
        return f"{_text_table(self.HEADERS, rows)}\n({self._count()})"

    def _repr_html_(self) -> str:
        return _html_table(self.HEADERS, self.rows(), self._count())


class Occasions(_Table, tuple[Occasion, ...]):
    """A tuple of :class:`Occasion` that shows itself as a table (text and HTML)."""

    __slots__ = ()
    HEADERS = ("code", "short", "title")
    _NOUN = ("occasion", "occasions")

    @property
    def codes(self) -> tuple[OccasionCode, ...]:
        """The codes, in order."""
        return tuple(o.code for o in self)

    def rows(self) -> list[tuple[str, ...]]:
        return [(o.code.long, o.short_code, o.title) for o in self]


def _codes_cell(occasions: Sequence[OccasionCode], unresolved: Sequence[UnresolvedCode]) -> str:
    parts = [c.short for c in occasions]
    for u in unresolved:
        hint = "/".join(c.short for c in u.suggestions)
        parts.append(f"{u.text}? ({hint})" if hint else f"{u.text}?")
    return " ".join(parts) if parts else "-"


class Mailings(_Table, tuple[Mailing, ...]):
    """A tuple of :class:`Mailing` that shows itself as a table (text and HTML).  Unresolved
    codes show with a question mark and their close matches, unlinked mailings with ``-``."""

    __slots__ = ()
    HEADERS = ("provider", "title", "occasions")
    _NOUN = ("mailing", "mailings")

    def rows(self) -> list[tuple[str, ...]]:
        return [(m.provider, m.title, _codes_cell(m.occasions, m.unresolved)) for m in self]


class Journeys(_Table, tuple[Journey, ...]):
    """A tuple of :class:`Journey` that shows itself as a table (text and HTML)."""

    __slots__ = ()
    HEADERS = ("journey", "selection", "occasions")
    _NOUN = ("journey", "journeys")

    def rows(self) -> list[tuple[str, ...]]:
        return [(j.name, j.selection.value, _codes_cell(j.occasions, j.unresolved)) for j in self]


# --------------------------------------------------------------------------------------------
# the registry

_RANGE_DASH = re.compile(r"\s*[-–]\s*")
_TOKEN_SPLIT = re.compile(r"[\s,]+")


def _not_registered(field: str, raw: str, detail: str) -> InvalidValueError:
    return _refuse("E204", field, raw, detail)


@attrs.frozen(repr=False)
class Registry:
    """Occasions, mailings and journeys, immutable; every query returns new objects.

    Codes are accepted long or short, in any case, with surrounding spaces.  Use
    :func:`default_registry` for the packaged catalogue, :meth:`from_csv` for other data and
    :meth:`with_occasions`, :meth:`with_mailings` and :meth:`with_journeys` to extend one.

    >>> reg = default_registry()
    >>> reg.family("AK").codes[:3]
    (OccasionCode('MCAK001'), OccasionCode('MCAK002'), OccasionCode('MCAK003'))
    >>> reg.mailings_for("ac110")
    provider  title       occasions
    S-Com     Geburtstag  AG001 AG002 AG003 AG004 AG005 AG006 AC110
    LBS       Geburtstag  AC110
    (2 mailings)
    >>> reg.journeys_for("AG004")
    journey           selection  occasions
    Junge Erwachsene  ReKu       AG004
    Altersvorsorge    ReKu       AG004
    (2 journeys)
    >>> reg.providers()
    ('S-Com', 'LBS', 'SKP', 'Deka', 'VöV', 'SV')
    >>> reg.occasions_for_provider("vov").codes
    (OccasionCode('MCAC130'), OccasionCode('MCAC180'), OccasionCode('MCAC210'))
    """

    occasions: Occasions = attrs.field(converter=Occasions)
    mailings: Mailings = attrs.field(default=Mailings(), converter=Mailings)
    journeys: Journeys = attrs.field(default=Journeys(), converter=Journeys)
    _by_code: Mapping[OccasionCode, Occasion] = attrs.field(init=False, eq=False)
    _mailings_by_code: Mapping[OccasionCode, Mailings] = attrs.field(init=False, eq=False)
    _journeys_by_code: Mapping[OccasionCode, Journeys] = attrs.field(init=False, eq=False)
    _search_keys: tuple[tuple[str, str, str], ...] = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        by_code: dict[OccasionCode, Occasion] = {}
        for occasion in self.occasions:
            if occasion.code in by_code:
                raise _refuse("E209", "code", occasion.code.long, "occasion code twice")
            by_code[occasion.code] = occasion
        mailings: dict[OccasionCode, list[Mailing]] = {code: [] for code in by_code}
        for mailing in self.mailings:
            for code in mailing.occasions:
                if code not in by_code:
                    raise _not_registered("occasions", code.long, "mailing for an unknown occasion")
                mailings[code].append(mailing)
        journeys: dict[OccasionCode, list[Journey]] = {code: [] for code in by_code}
        for journey in self.journeys:
            for code in journey.occasions:
                if code not in by_code:
                    raise _not_registered("occasions", code.long, "journey for an unknown occasion")
                journeys[code].append(journey)
        keys = tuple((*_fold(o.title), o.code.long.casefold()) for o in self.occasions)
        object.__setattr__(self, "_by_code", MappingProxyType(by_code))
        object.__setattr__(
            self,
            "_mailings_by_code",
            MappingProxyType({c: Mailings(m) for c, m in mailings.items()}),
        )
        object.__setattr__(
            self,
            "_journeys_by_code",
            MappingProxyType({c: Journeys(j) for c, j in journeys.items()}),
        )
        object.__setattr__(self, "_search_keys", keys)

    # -- construction --------------------------------------------------------------------

    @classmethod
    def from_csv(
        cls,
        occasions: str | bytes,
        mailings: str | bytes | None = None,
        journeys: str | bytes | None = None,
    ) -> Registry:
        """A registry from the three catalogue files (text, or UTF-8 bytes), in the layout of
        the packaged data: ``code;short_code;title``, ``provider;title;short_codes;note`` and
        ``journey;selection;short_codes;note``.

        Strict: the first problem raises (``E101`` undecodable, ``E107`` wrong columns,
        ``E104`` wrong field count, ``E204`` bad code, ``E208`` empty value, ``E209`` short code
        not matching the code, or a code twice).  Codes in mailings and journeys that do not
        resolve are *kept* as :class:`UnresolvedCode` (see :meth:`resolve_codes`).

        >>> reg = Registry.from_csv("code;short_code;title\\nMCXY001;XY001;Eigener Anlass\\n")
        >>> reg.occasions
        code     short  title
        MCXY001  XY001  Eigener Anlass
        (1 occasion)
        """
        base = cls(tuple(_parse_occasions(occasions)))
        found_mailings = () if mailings is None else tuple(_parse_mailings(base, mailings))
        found_journeys = () if journeys is None else tuple(_parse_journeys(base, journeys))
        return cls(base.occasions, found_mailings, found_journeys)

    def with_occasions(self, *occasions: Occasion) -> Registry:
        """A new registry with an institute's own *occasions* added (this one is unchanged).
        A code that is already registered is refused (``E209``).

        >>> reg = default_registry().with_occasions(Occasion("XY001", "Eigener Anlass"))
        >>> reg.get("xy001"), default_registry().get("xy001")
        (Occasion('MCXY001', 'Eigener Anlass'), None)
        """
        return attrs.evolve(self, occasions=(*self.occasions, *occasions))

    def with_mailings(self, *mailings: Mailing) -> Registry:
        """A new registry with *mailings* added; an institute may attach its own mailing to any
        registered occasion.  A mailing for an unregistered code is refused (``E204``)."""
        return attrs.evolve(self, mailings=(*self.mailings, *mailings))

    def with_journeys(self, *journeys: Journey) -> Registry:
        """A new registry with *journeys* added (codes must be registered, ``E204``)."""
        return attrs.evolve(self, journeys=(*self.journeys, *journeys))

    def mailing(self, provider: str, title: str, codes: str = "", *, note: str = "") -> Mailing:
        """A :class:`Mailing` whose *codes* text is resolved against this registry (not yet
        added: pass it to :meth:`with_mailings`).

        >>> default_registry().mailing("SV", "Hausrat", "AUO30")
        Mailing('SV', 'Hausrat', unresolved=(UnresolvedCode('AUO30', suggestions=('MCAU030',)),))
        """
        found, unresolved = self.resolve_codes(codes)
        return Mailing(provider, title, found, unresolved, codes, note)

    def journey(
        self, name: str, selection: Selection | str, codes: str = "", *, note: str = ""
    ) -> Journey:
        """A :class:`Journey` whose *codes* text is resolved against this registry."""
        found, unresolved = self.resolve_codes(codes)
        return Journey(name, _to_selection(selection), found, unresolved, codes, note)

    def resolve_codes(
        self, text: str
    ) -> tuple[tuple[OccasionCode, ...], tuple[UnresolvedCode, ...]]:
        """The registered codes named in *text* and the parts that name none.

        Codes are separated by spaces or commas, long or short, any case.  A range
        ``AG001-AG006`` (both ends registered, one family, ascending) stands for every
        registered code of the family between its ends.  A code named twice counts once.
        Nothing is corrected: a part that does not resolve is returned as an
        :class:`UnresolvedCode` with its close matches.

        >>> found, bad = default_registry().resolve_codes("AG001-AG003, ac110 AG0O4")
        >>> [c.short for c in found], bad
        (['AG001', 'AG002', 'AG003', 'AC110'], (UnresolvedCode('AG0O4', suggestions=('MCAG004',)),))
        """
        found: dict[OccasionCode, None] = {}
        unresolved: list[UnresolvedCode] = []
        for token in _TOKEN_SPLIT.split(_RANGE_DASH.sub("-", text.strip())):
            if not token:
                continue
            if "-" not in token:
                occasion = self.get(token)
                if occasion is None:
                    unresolved.append(UnresolvedCode(token, self.suggest(token)))
                else:
                    found[occasion.code] = None
                continue
            codes, problem = self._expand(token)
            if problem is not None:
                unresolved.append(problem)
            found.update(dict.fromkeys(codes))
        return tuple(found), tuple(unresolved)

    def _expand(self, token: str) -> tuple[list[OccasionCode], UnresolvedCode | None]:
        ends = token.split("-")
        if len(ends) != 2:
            return [], UnresolvedCode(token, (), "not a range of two codes")
        first, last = self.get(ends[0]), self.get(ends[1])
        if first is None or last is None:
            hints = [*self.suggest(ends[0])] if first is None else []
            hints += [*self.suggest(ends[1])] if last is None else []
            return [], UnresolvedCode(
                token, tuple(dict.fromkeys(hints)), "range end not registered"
            )
        if first.family != last.family:
            return [], UnresolvedCode(token, (), "range across two families")
        if first.code > last.code:
            return [], UnresolvedCode(token, (), "range runs backwards")
        return [
            o.code
            for o in self.occasions
            if o.family == first.family and first.code <= o.code <= last.code
        ], None

    # -- lookup ---------------------------------------------------------------------------

    def get(self, code: str | OccasionCode) -> Occasion | None:
        """The occasion for *code* (long or short, any case, spaces around), or ``None``;
        never raises."""
        if isinstance(code, OccasionCode):
            return self._by_code.get(code)
        try:  # OccasionCode refuses anything that is not a code, text or not
            return self._by_code.get(OccasionCode(code))
        except InvalidValueError:
            return None

    def occasion(self, code: str | OccasionCode) -> Occasion:
        """The occasion for *code*; an unknown code raises ``E204`` (see :meth:`canonical`)."""
        found = self.get(code)
        if found is None:
            raise self._unknown(code)
        return found

    def canonical(self, code: str | OccasionCode) -> OccasionCode:
        """The canonical (long) code of a registered occasion.

        Raises :class:`~emma_osplus.InvalidValueError`: ``E204`` for an unknown code (its
        detail lists the close matches of :meth:`suggest`), ``E208`` for empty text.

        >>> default_registry().canonical("MCAG02")
        Traceback (most recent call last):
        ...
        emma_osplus._errors.InvalidValueError: E204, field ANLASS: ... (not in the registry; close matches: MCAG002)
        """
        return self.occasion(code).code

    def _unknown(self, code: object) -> InvalidValueError:
        field = OccasionCode.FIELD
        if code == "":
            return _refuse("E208", field, code, "empty value")
        if not isinstance(code, (str, OccasionCode)):
            return _refuse("E204", field, code, f"expected text, got {type(code).__name__}")
        return _refuse("E204", field, str(code), _detail("not in the registry", self.suggest(code)))

    def suggest(self, code: str | OccasionCode) -> tuple[OccasionCode, ...]:
        """Registered codes close to *code*: the closest ones by edit distance against the
        long and the short form (look-alikes such as ``O``/``0`` count half), at most
        :data:`MAX_SUGGESTIONS`, none farther than :data:`MAX_DISTANCE`.  Never raises.

        >>> reg = default_registry()
        >>> reg.suggest("AUO30"), reg.suggest("MCAG02"), reg.suggest("Geburtstag")
        ((OccasionCode('MCAU030'),), (OccasionCode('MCAG002'),), ())
        """
        if isinstance(code, OccasionCode):
            code = code.long
        text = "".join(unicodedata.normalize("NFKC", code).split()).upper()
        if not text or len(text) > 7 + int(MAX_DISTANCE):
            return ()
        scored: list[tuple[float, int, OccasionCode]] = []
        for index, occasion in enumerate(self.occasions):
            long, short = occasion.code.long, occasion.code.short
            if (
                abs(len(text) - len(short)) > MAX_DISTANCE
                and abs(len(text) - len(long)) > MAX_DISTANCE
            ):
                continue
            score = min(_distance(text, long), _distance(text, short))
            if score <= MAX_DISTANCE:
                scored.append((score, index, occasion.code))
        if not scored:
            return ()
        best = min(score for score, _, _ in scored)
        return tuple(code for score, _, code in sorted(scored) if score == best)[:MAX_SUGGESTIONS]

    def __contains__(self, code: object) -> bool:
        return isinstance(code, (str, OccasionCode)) and self.get(code) is not None

    def __iter__(self) -> Iterator[Occasion]:
        return iter(self.occasions)

    def __len__(self) -> int:
        return len(self.occasions)

    # -- queries --------------------------------------------------------------------------

    def search(self, text: str) -> Occasions:
        """Occasions whose title contains every word of *text* (case- and umlaut-insensitive:
        ``Gebühren``, ``Gebuehren`` and ``gebuhren`` are the same word) or whose code starts
        with it.  Blank text finds every occasion; text without letters or digits is matched
        as a whole.  Never raises.

        >>> default_registry().search("geburtstag bauspar").codes
        (OccasionCode('MCAC110'),)
        """
        plain, loose = _fold(text)
        words = [(w, _fold(w)[1]) for w in re.findall(r"\w+", plain)]
        if not words:
            if not plain.strip():
                return self.occasions
            words = [(plain.strip(), loose.strip())]
        hits = []
        for occasion, (title_plain, title_loose, long) in zip(
            self.occasions, self._search_keys, strict=True
        ):
            if all(
                p in title_plain or q in title_loose or long.startswith(p) or long[2:].startswith(p)
                for p, q in words
            ):
                hits.append(occasion)
        return Occasions(hits)

    def family(self, prefix: str) -> Occasions:
        """Occasions whose long or short code starts with *prefix* (any case): ``AG``,
        ``MCAK`` or ``AF7``.  An unknown prefix gives an empty result.

        >>> default_registry().family("af7").codes[-1]
        OccasionCode('MCAF710')
        """
        p = prefix.strip().upper()
        return Occasions(
            o for o in self.occasions if o.code.long.startswith(p) or o.code.short.startswith(p)
        )

    def families(self) -> tuple[str, ...]:
        """The families present, in catalogue order (``AC``, ``AD``, …)."""
        return tuple(dict.fromkeys(o.family for o in self.occasions))

    def mailings_for(self, code: str | OccasionCode) -> Mailings:
        """The mailings that serve the occasion *code* (``E204`` if it is unknown)."""
        return self._mailings_by_code[self.canonical(code)]

    def journeys_for(self, code: str | OccasionCode) -> Journeys:
        """The journeys selected by the occasion *code* (``E204`` if it is unknown)."""
        return self._journeys_by_code[self.canonical(code)]

    def providers(self) -> tuple[str, ...]:
        """The providers of mailings, in order of first appearance."""
        return tuple(dict.fromkeys(m.provider for m in self.mailings))

    def _provider(self, provider: str) -> str:
        key = _fold_key(provider)
        for name in self.providers():
            if key and _fold_key(name) == key:
                return name
        raise _refuse(
            "E207", "provider", provider, f"known providers: {', '.join(self.providers())}"
        )

    def provider_mailings(self, provider: str) -> Mailings:
        """Every mailing of *provider* (matched ignoring case, umlauts and punctuation:
        ``s-com``, ``SCom``, ``VoeV``), linked or not; an unknown provider raises ``E207``.

        >>> default_registry().provider_mailings("deka")
        provider  title                                    occasions
        Deka      Nichtnutzung Depot                       -
        Deka      Vermögenswirksame Leistungen letzte Rate  -
        Deka      Depoteröffnung                           -
        (3 mailings)
        """
        name = self._provider(provider)
        return Mailings(m for m in self.mailings if m.provider == name)

    def occasions_for_provider(self, provider: str) -> Occasions:
        """The occasions *provider*'s mailings serve, in catalogue order (``E207`` for an
        unknown provider; Deka's unlinked mailings serve none)."""
        served = {c for m in self.provider_mailings(provider) for c in m.occasions}
        return Occasions(o for o in self.occasions if o.code in served)

    def __repr__(self) -> str:
        return (
            f"<Registry: {len(self.occasions)} occasions, {len(self.mailings)} mailings from "
            f"{len(self.providers())} providers, {len(self.journeys)} journeys>"
        )


# --------------------------------------------------------------------------------------------
# reading the catalogue files

_OCCASION_COLUMNS = ("code", "short_code", "title")
_MAILING_COLUMNS = ("provider", "title", "short_codes", "note")
_JOURNEY_COLUMNS = ("journey", "selection", "short_codes", "note")


def _rows(data: str | bytes, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) for each record of a semicolon-separated UTF-8 catalogue file.

    The files have no quoting; the last column (a title or a free-text note) takes the rest of
    the line, semicolons included (the shared notes contain some).  Blank lines are skipped.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise error_for(
                Message("E101", raw=repr(data[exc.start : exc.end]), detail=str(exc))
            ) from None
    lines = _LINE_BREAK.split(data.removeprefix("\ufeff"))
    header = tuple(lines[0].split(";"))
    if header != columns:
        raise error_for(
            Message("E107", line=1, raw=lines[0], detail=f"expected columns {';'.join(columns)}")
        )
    for number, text in enumerate(lines[1:], start=2):
        if not text.strip():
            continue
        fields = text.split(";", len(columns) - 1)
        if len(fields) != len(columns):
            raise error_for(
                Message(
                    "E104",
                    line=number,
                    raw=text,
                    detail=f"{len(fields)} fields, expected {len(columns)}",
                )
            )
        yield number, dict(zip(columns, fields, strict=True))


_LINE_BREAK = re.compile(r"\r?\n")


def _at_line(line: int, raw: Mapping[str, str], exc: InvalidValueError) -> InvalidValueError:
    m = exc.message
    return InvalidValueError(
        Message(
            m.code,
            line=line,
            field=m.field,
            raw=";".join(raw.values()),
            text=m.text,
            detail=m.detail,
        )
    )


def _parse_occasions(data: str | bytes) -> Iterator[Occasion]:
    seen: set[OccasionCode] = set()
    for line, row in _rows(data, _OCCASION_COLUMNS):
        try:
            occasion = Occasion(row["code"], row["title"])
            if occasion.code in seen:
                raise _refuse("E209", "code", row["code"], "occasion code twice")
            seen.add(occasion.code)
            if row["code"] != occasion.code.long:
                raise _refuse(
                    "E209", "code", row["code"], f"expected the long form {occasion.code.long}"
                )
            if row["short_code"] != occasion.short_code:
                raise _refuse(
                    "E209", "short_code", row["short_code"], f"expected {occasion.short_code}"
                )
        except InvalidValueError as exc:
            raise _at_line(line, row, exc) from None
        yield occasion


def _parse_mailings(registry: Registry, data: str | bytes) -> Iterator[Mailing]:
    for line, row in _rows(data, _MAILING_COLUMNS):
        try:
            yield registry.mailing(
                row["provider"], row["title"], row["short_codes"], note=row["note"]
            )
        except InvalidValueError as exc:
            raise _at_line(line, row, exc) from None


def _parse_journeys(registry: Registry, data: str | bytes) -> Iterator[Journey]:
    for line, row in _rows(data, _JOURNEY_COLUMNS):
        try:
            yield registry.journey(
                row["journey"], row["selection"], row["short_codes"], note=row["note"]
            )
        except InvalidValueError as exc:
            raise _at_line(line, row, exc) from None


#: The packaged data files, in the order :meth:`Registry.from_csv` takes them.
DATA_FILES = ("reku_occasions.csv", "advertising_materials.csv", "customer_journeys.csv")


def data_bytes(name: str) -> bytes:
    """The bytes of one packaged data file (one of :data:`DATA_FILES`)."""
    if name not in DATA_FILES:
        raise ValueError(f"not a packaged data file: {name!r}")
    return (resources.files("emma_osplus") / "data" / name).read_bytes()


@functools.cache
def default_registry() -> Registry:
    """The packaged catalogue, read on the first call and shared afterwards (it is
    immutable).

    >>> default_registry() is default_registry()
    True
    """
    return Registry.from_csv(*(data_bytes(name) for name in DATA_FILES))
