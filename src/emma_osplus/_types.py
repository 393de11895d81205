"""Core value types of the interface: frozen, validated at construction, canonical as text.

Each type wraps one string in its canonical form; ``str(x)`` gives that form and
``Type(str(x)) == x``.  A refused value raises :class:`~emma_osplus.InvalidValueError` whose
message carries the code of FORMATS.md (``E202`` customer number, ``E204`` occasion code,
``E303`` order name, ``E208`` for an empty value, and the library's ``E209`` where the
specification has no more specific code).

>>> from emma_osplus import Blz, CustomerNumber, OccasionCode, OrderName, suggest_order_name
>>> str(CustomerNumber("4711"))
'0000004711'
>>> OccasionCode("ag002").long, OccasionCode("MCAG002").short
('MCAG002', 'AG002')
>>> suggest_order_name("Herbst-Aktion Übersee 2026!")
'Herbst-Aktion_Uebersee_2026'
>>> OrderName("Runde Geburtstage")
Traceback (most recent call last):
...
emma_osplus._errors.InvalidValueError: E303, field order_name: Auftragsname mit ... (not allowed: ' '; suggested: 'Runde_Geburtstage')
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import attrs

from ._errors import InvalidValueError
from ._messages import Message

__all__ = [
    "Blz",
    "CustomerNumber",
    "EventId",
    "MailingId",
    "OccasionCode",
    "OrderName",
    "OrderNumber",
    "suggest_order_name",
]


def _refuse(code: str, field: str, raw: object, detail: str) -> InvalidValueError:
    text = raw if isinstance(raw, str) else repr(raw)
    return InvalidValueError(Message(code, field=field, raw=text, detail=detail))


def _as_text(field: str, code: str, value: object) -> str:
    if not isinstance(value, str):
        raise _refuse(code, field, value, f"expected text, got {type(value).__name__}")
    if value == "":
        raise _refuse("E208", field, value, "empty value")
    return value


class _Text:
    """Shared behaviour: one canonical string, shown as itself."""

    value: str

    def __str__(self) -> str:
        return self.value

    @classmethod
    def _trusted(cls, canonical: str) -> Any:
        """The value of *canonical*, a text known to be valid and canonical (the readers
        checked it), made without checking it again: equal to ``cls(canonical)``."""
        value = object.__new__(cls)
        object.__setattr__(value, "value", canonical)
        return value


@attrs.frozen(order=True, repr=False)
class Blz(_Text):
    """Bank code (*Bankleitzahl*) of an institute: 8 digits, the first 1–8.

    >>> Blz("37050198")
    Blz('37050198')
    >>> Blz("07050198")
    Traceback (most recent call last):
    ...
    emma_osplus._errors.InvalidValueError: E209, field blz: ... (8 digits, the first 1-8)
    """

    FIELD: ClassVar[str] = "blz"
    _RE: ClassVar[re.Pattern[str]] = re.compile(r"[1-8][0-9]{7}")
    _FAST_PATTERN: ClassVar[str] = "[1-8][0-9]{7}"  # valid canonical text (see fast_pattern)
    value: str = attrs.field()

    @value.validator
    def _check(self, _: object, value: object) -> None:
        text = _as_text(self.FIELD, "E209", value)
        if not self._RE.fullmatch(text):
            raise _refuse("E209", self.FIELD, text, "8 digits, the first 1-8")

    @property
    def is_sparkasse(self) -> bool:
        """True when the fourth digit is 5 (the savings banks' range)."""
        return self.value[3] == "5"

    def __repr__(self) -> str:
        return f"Blz({self.value!r})"


def _canonical_customer(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**10:
        return f"{value:010d}"
    if isinstance(value, str) and CustomerNumber._RE.fullmatch(value):
        return value.zfill(10)
    return value  # the validator refuses it with the right code


@attrs.frozen(order=True, repr=False)
class CustomerNumber(_Text):
    """Customer number (*Kundennummer*): 1–10 digits in, canonical 10 digits out.

    >>> CustomerNumber("4711"), CustomerNumber(4711) == CustomerNumber("0000004711")
    (CustomerNumber('0000004711'), True)
    >>> int(CustomerNumber("4711"))
    4711
    """

    FIELD: ClassVar[str] = "KUNDENNUMMER"
    _RE: ClassVar[re.Pattern[str]] = re.compile(r"[0-9]{1,10}")
    _FAST_PATTERN: ClassVar[str] = "[0-9]{10}"
    value: str = attrs.field(converter=_canonical_customer)

    @value.validator
    def _check(self, _: object, value: object) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            raise _refuse("E202", self.FIELD, value, "outside 0..9999999999")
        text = _as_text(self.FIELD, "E202", value)
        if len(text) != 10 or not text.isascii() or not text.isdigit():
            raise _refuse("E202", self.FIELD, text, "1 to 10 digits")

    def __int__(self) -> int:
        return int(self.value)

    def __repr__(self) -> str:
        return f"CustomerNumber({self.value!r})"


@attrs.frozen(order=True, repr=False)
class OrderNumber(_Text):
    """Order number (*Auftragsnummer*): ``[A-Z0-9]{1,20}``.

    >>> OrderNumber("K2026001")
    OrderNumber('K2026001')
    """

    FIELD: ClassVar[str] = "order_number"
    _RE: ClassVar[re.Pattern[str]] = re.compile(r"[A-Z0-9]{1,20}")
    _FAST_PATTERN: ClassVar[str] = "[A-Z0-9]{1,20}"
    value: str = attrs.field()

    @value.validator
    def _check(self, _: object, value: object) -> None:
        text = _as_text(self.FIELD, "E209", value)
        if not self._RE.fullmatch(text):
            raise _refuse("E209", self.FIELD, text, "1 to 20 of A-Z and 0-9")

    def __repr__(self) -> str:
        return f"OrderNumber({self.value!r})"


_TRANSLIT = {
    "ä": "ae",
    "ö": "oe",
    "ü": "ue",
    "Ä": "Ae",
    "Ö": "Oe",
    "Ü": "Ue",
    "ß": "ss",
    "ẞ": "SS",
}
_ORDER_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_ORDER_NAME_CHAR = re.compile(r"[A-Za-z0-9_.-]")


def suggest_order_name(text: str) -> str:
    """A safe order name for *text*: umlauts transliterated (``ä`` → ``ae``, ``ß`` → ``ss``,
    ``Ä`` → ``Ae`` …), whitespace runs → ``_``, every other character outside
    ``[A-Za-z0-9_.-]`` dropped, cut to 64 characters.

    Raises :class:`InvalidValueError` (E303) when nothing usable remains.

    >>> suggest_order_name("Gebührenbefreiung  Straße")
    'Gebuehrenbefreiung_Strasse'
    >>> suggest_order_name("Größe: 50 %")
    'Groesse_50_'
    """
    out: list[str] = []
    for ch in re.sub(r"\s+", " ", text.strip()):
        if ch == " ":
            out.append("_")
        elif ch in _TRANSLIT:
            out.append(_TRANSLIT[ch])
        elif _ORDER_NAME_CHAR.fullmatch(ch):
            out.append(ch)
    suggestion = "".join(out)[:64]
    if not suggestion:
        raise _refuse("E303", OrderName.FIELD, text, "no usable character for a suggestion")
    return suggestion


@attrs.frozen(order=True, repr=False)
class OrderName(_Text):
    """Order name (*Bezeichnung*), which becomes the subscriber list's name:
    ``[A-Za-z0-9_.-]{1,64}``; anything else is E303 with a suggested safe spelling.

    >>> OrderName("Herbst_Aktion_2026")
    OrderName('Herbst_Aktion_2026')
    """

    FIELD: ClassVar[str] = "order_name"
    _FAST_PATTERN: ClassVar[str] = "[A-Za-z0-9_.-]{1,64}"
    value: str = attrs.field()

    @value.validator
    def _check(self, _: object, value: object) -> None:
        text = _as_text(self.FIELD, "E303", value)
        if _ORDER_NAME_RE.fullmatch(text):
            return
        bad = sorted({ch for ch in text if not _ORDER_NAME_CHAR.fullmatch(ch)})
        try:
            hint = f"; suggested: {suggest_order_name(text)!r}"
        except InvalidValueError:
            hint = ""
        reason = "longer than 64 characters" if not bad else f"not allowed: {''.join(bad)!r}"
        raise _refuse("E303", self.FIELD, text, reason + hint)

    def __repr__(self) -> str:
        return f"OrderName({self.value!r})"


_OCCASION_RE = re.compile(r"(?:MC)?([A-Z]{2}[0-9]{3})")


def _canonical_occasion(value: object) -> object:
    if isinstance(value, str):
        m = _OCCASION_RE.fullmatch(value.strip().upper())
        if m:
            return "MC" + m.group(1)
    return value


@attrs.frozen(order=True, repr=False)
class OccasionCode(_Text):
    """ReKu occasion code (*Anlass*), long ``MCAG002`` or short ``AG002`` in (any case,
    surrounding spaces ignored), canonical long form out.  Only the syntax is checked here;
    whether the occasion exists is the registry's business.

    >>> OccasionCode(" ag002 ")
    OccasionCode('MCAG002')
    """

    FIELD: ClassVar[str] = "ANLASS"
    _FAST_PATTERN: ClassVar[str] = "MC[A-Z]{2}[0-9]{3}"
    value: str = attrs.field(converter=_canonical_occasion)

    @value.validator
    def _check(self, _: object, value: object) -> None:
        text = _as_text(self.FIELD, "E204", value)
        if not (len(text) == 7 and text.startswith("MC") and _OCCASION_RE.fullmatch(text)):
            raise _refuse("E204", self.FIELD, text, "expected MC + 2 letters + 3 digits or short")

    @property
    def long(self) -> str:
        """The long form, e.g. ``MCAG002``."""
        return self.value

    @property
    def short(self) -> str:
        """The short form, e.g. ``AG002``."""
        return self.value[2:]

    @property
    def family(self) -> str:
        """The two-letter family, e.g. ``AG``."""
        return self.value[2:4]

    def __repr__(self) -> str:
        return f"OccasionCode({self.value!r})"


@attrs.frozen(order=True, repr=False)
class MailingId(_Text):
    """Mailing id of EMMA (the RESP field ``MAILING_ID``): ``[A-Za-z0-9_.-]{1,20}``.

    >>> MailingId("M-2026-11")
    MailingId('M-2026-11')
    """

    FIELD: ClassVar[str] = "MAILING_ID"
    _RE: ClassVar[re.Pattern[str]] = re.compile(r"[A-Za-z0-9_.-]{1,20}")
    _FAST_PATTERN: ClassVar[str] = "[A-Za-z0-9_.-]{1,20}"
    value: str = attrs.field()

    @value.validator
    def _check(self, _: object, value: object) -> None:
        text = _as_text(self.FIELD, "E209", value)
        if not self._RE.fullmatch(text):
            raise _refuse("E209", self.FIELD, text, "1 to 20 of A-Z, a-z, 0-9, '_', '.', '-'")

    def __repr__(self) -> str:
        return f"MailingId({self.value!r})"


@attrs.frozen(order=True, repr=False)
class EventId(_Text):
    """Event id of a response (``EREIGNIS_ID``): ``[A-Za-z0-9_-]{1,25}``, unique per event.

    >>> EventId("evt_000001")
    EventId('evt_000001')
    """

    FIELD: ClassVar[str] = "EREIGNIS_ID"
    _RE: ClassVar[re.Pattern[str]] = re.compile(r"[A-Za-z0-9_-]{1,25}")
    _FAST_PATTERN: ClassVar[str] = "[A-Za-z0-9_-]{1,25}"
    value: str = attrs.field()

    @value.validator
    def _check(self, _: object, value: object) -> None:
        text = _as_text(self.FIELD, "E209", value)
        if not self._RE.fullmatch(text):
            raise _refuse("E209", self.FIELD, text, "1 to 25 of A-Z, a-z, 0-9, '_', '-'")

    def __repr__(self) -> str:
        return f"EventId({self.value!r})"
