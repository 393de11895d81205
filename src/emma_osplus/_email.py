"""Email addresses: :class:`EmailAddress`, validated at construction, and the matching key
used for suppression lists.

The syntax is the mailbox of RFC 5321/5322 as FORMATS.md profiles it: ``local@domain`` with a
*dot-atom* local part and a host name or internationalised domain.  Refused values raise
:class:`~emma_osplus.InvalidValueError` with code ``E201`` and a detail that says what is
wrong (``E208`` for the empty string, like every other value type).

>>> from emma_osplus._email import EmailAddress, matching_key
>>> addr = EmailAddress("Anna.Schmidt@Example.DE")
>>> str(addr), addr.local, addr.domain
('Anna.Schmidt@example.de', 'Anna.Schmidt', 'example.de')
>>> addr
EmailAddress('A***@example.de')
>>> addr.matching_key
'anna.schmidt@example.de'
>>> EmailAddress("mueller@Bücher.de").ascii_domain
'xn--bcher-kva.de'
>>> matching_key("Mueller@BÜCHER.de") == matching_key("mueller@xn--bcher-kva.de")
True
>>> EmailAddress("anna..schmidt@example.de")
Traceback (most recent call last):
...
emma_osplus._errors.InvalidValueError: E201, field EMAIL: Ungültige E-Mail-Adresse (consecutive dots in the local part)
>>> EmailAddress("müller@bücher.de")
Traceback (most recent call last):
...
emma_osplus._errors.InvalidValueError: E201, ... (non-ASCII local part (SMTPUTF8) is not accepted)
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from typing import ClassVar

import attrs
import idna

from ._converters import ValueType
from ._errors import InvalidValueError
from ._messages import Message

__all__ = ["EMAIL", "EmailAddress", "matching_key"]

FIELD = "EMAIL"
MAX_LOCAL = 64
MAX_TOTAL = 254
MAX_DOMAIN = 253
MAX_LABEL = 63

# RFC 5322 atext: ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "/" /
# "=" / "?" / "^" / "_" / "`" / "{" / "|" / "}" / "~"
_ATEXT_CLASS = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_ATEXT = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-"
)
_LDH = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_LOCAL = f"[{_ATEXT_CLASS}]+(?:\\.[{_ATEXT_CLASS}]+)*"
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"

#: The fast path: one regex for a whole ASCII address.  The lookahead bounds the local part to
#: 64 characters, the negative lookahead refuses an all-numeric top-level domain; the caller
#: checks the total length (254) first, which also bounds the domain (≤ 252 < 253).
_FAST = re.compile(f"(?=[^@]{{1,{MAX_LOCAL}}}@){_LOCAL}@(?:{_LABEL}\\.)+(?![0-9]+\\Z){_LABEL}")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")

_LOWER_LABEL = "(?!xn--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
#: The readers' fast pattern (see :func:`emma_osplus._converters.fast_pattern`): plain ASCII
#: addresses in canonical form (lower-case domain, no ``xn--`` label) that :class:`EmailAddress`
#: accepts as they are.  The lookaheads stop at ``"\x00"`` (the bulk check's separator): the
#: local part at most 64 characters, the address at most 254, a top-level domain not
#: all-numeric.
FAST_PATTERN = (
    f"(?=[^@\\x00]{{1,{MAX_LOCAL}}}@)(?=[^\\x00]{{1,{MAX_TOTAL}}}(?:\\x00|\\Z)){_LOCAL}"
    f"@(?:{_LOWER_LABEL}\\.)+(?![0-9]+(?:\\x00|\\Z)){_LOWER_LABEL}"
)

# The bulk check (see _bulk_valid): the local parts by bytes (allowed characters deleted, dots
# placed), the domains one by one (few, and repeated: remembered).  _BULK_ITEM is the shape
# of what it accepts (for the tests).
_BULK_ITEM = f"{_LOCAL}@[a-z0-9.-]+"
_LOCAL_BYTES = "".join(sorted(_ATEXT)).encode("ascii") + b".\x00"
_DOMAIN_FAST = re.compile(f"(?:{_LOWER_LABEL}\\.)+(?![0-9]+\\Z){_LOWER_LABEL}").fullmatch
_GOOD_DOMAINS: set[str] = set()
#: Other domains found valid and canonical (internationalised ones, A-labels), with the most
#: octets they take in an address: as written (UTF-8) or as A-labels, whichever is longer.
_OTHER_DOMAINS: dict[str, int] = {}
_DOMAINS_KEPT = 4096
_AT = itertools.repeat("@")


def _other_domain_size(domain: str) -> int | None:
    """The octets *domain* takes in an address when it is valid and canonical but not for
    ``_DOMAIN_FAST`` (an internationalised domain, an A-label), else ``None``; the
    reference implementation decides, with the shortest local part."""
    size = _OTHER_DOMAINS.get(domain)
    if size is None:
        try:
            if _slow_text(f"a@{domain}") != f"a@{domain}":
                return None
        except _Defect:
            return None
        size = max(len(domain.encode("utf-8")), len(_to_ascii(domain)))
        if len(_OTHER_DOMAINS) >= _DOMAINS_KEPT:
            _OTHER_DOMAINS.clear()
        _OTHER_DOMAINS[domain] = size
    return size


def _bulk_valid(texts: Sequence[str]) -> bool:
    """True when every non-empty text of *texts* is a valid address in canonical form, which
    :data:`FAST_PATTERN` matches or which has an ASCII local part like those and a domain the
    reference found valid and canonical (and is short enough with it); ``False`` says nothing
    (check them one by one)."""
    if "" in texts:
        texts = [text for text in texts if text]
        if not texts:
            return True
    count = len(texts)
    every = "\x00".join(texts)
    if list(map(str.count, texts, _AT)).count(1) != count or every.count("\x00") != count - 1:
        return False  # not one "@" in each, or a NUL in some text
    # local part, domain, local part, domain ...
    pieces = every.replace("@", "\x00").split("\x00")
    locals_ = pieces[0::2]
    joined = "\x00".join(locals_)
    if (
        not joined.isascii()
        # nothing but atext, dots and the separators ...
        or joined.encode("ascii").translate(None, _LOCAL_BYTES)
        # ... dots only between atext: no empty local part, no dot first, last or twice
        or joined[:1] in (".", "\x00", "")
        or joined[-1] in (".", "\x00")
        or ".." in joined
        or ".\x00" in joined
        or "\x00." in joined
        or "\x00\x00" in joined
        or max(map(len, locals_)) > MAX_LOCAL
    ):
        return False
    domains = pieces[1::2]
    new = set(domains).difference(_GOOD_DOMAINS)
    if not new:
        return max(map(len, texts)) <= MAX_TOTAL
    plain = set(filter(_DOMAIN_FAST, new))
    if plain:
        if len(_GOOD_DOMAINS) + len(plain) > _DOMAINS_KEPT:
            _GOOD_DOMAINS.clear()
        _GOOD_DOMAINS.update(plain)
    others: dict[str, int] = {}
    for domain in new.difference(plain):
        size = _other_domain_size(domain)
        if size is None:
            return False
        others[domain] = size
    if not others:
        return max(map(len, texts)) <= MAX_TOTAL
    # ASCII local parts: an address takes its local part's length + 1 + its domain's octets
    widest = max(map(len, domains), default=0)
    widest = max(widest, *others.values())
    if max(map(len, locals_)) + 1 + widest <= MAX_TOTAL:
        return True  # the longest local part with the widest domain fits
    sizes: Iterator[int] = map(others.get, domains, map(len, domains))  # each domain's octets
    longest: int = max(map(operator.add, map(len, locals_), sizes))
    return longest + 1 <= MAX_TOTAL


def _refuse(raw: object, detail: str, code: str = "E201") -> InvalidValueError:
    text = raw if isinstance(raw, str) else repr(raw)
    return InvalidValueError(Message(code, field=FIELD, raw=text, detail=detail))


class _Defect(ValueError):
    """Internal: what is wrong with a domain (becomes the detail of an E201)."""


def _check_ascii_label(label: str) -> None:
    """An ASCII label (lower-cased): LDH, 1–63, no hyphen at either end; ``xn--`` labels must
    be valid A-labels."""
    if not label:
        raise _Defect("empty label in the domain (leading, trailing or consecutive dots)")
    if len(label) > MAX_LABEL:
        raise _Defect(f"domain label of {len(label)} characters, at most {MAX_LABEL} allowed")
    bad = sorted(set(label) - _LDH)
    if bad:
        raise _Defect(f"character not allowed in the domain: {''.join(bad)!r}")
    if label[0] == "-" or label[-1] == "-":
        raise _Defect(f"domain label {label!r} starts or ends with a hyphen")
    if label.startswith("xn--"):
        try:
            idna.ulabel(label)
        except (idna.IDNAError, UnicodeError) as exc:
            raise _Defect(f"invalid A-label {label!r}: {exc}") from None


@functools.lru_cache(maxsize=4096)
def _to_ascii(domain: str) -> str:
    """The A-label form of a lower-cased *domain*; raises :class:`_Defect` with the reason.

    Cached: real files repeat a few thousand domains over millions of rows.
    """
    if domain.startswith("["):
        raise _Defect("IP literals are not supported")
    if domain.endswith("."):
        raise _Defect("the domain ends with a dot")
    labels = domain.split(".")
    out: list[str] = []
    for label in labels:
        if label.isascii():
            _check_ascii_label(label)
            out.append(label)
            continue
        try:
            out.append(idna.alabel(label).decode("ascii"))
        except (idna.IDNAError, UnicodeError) as exc:
            raise _Defect(f"domain label {label!r} refused by IDNA 2008: {exc}") from None
    if len(out) < 2:
        raise _Defect("the domain needs at least two labels (a host name and a top-level domain)")
    if out[-1].isdigit():
        raise _Defect("the top-level domain is all-numeric")
    ascii_domain = ".".join(out)
    if len(ascii_domain) > MAX_DOMAIN:
        raise _Defect(f"domain of {len(ascii_domain)} octets, at most {MAX_DOMAIN} allowed")
    return ascii_domain


def _check_local(local: str) -> None:
    if not local.isascii():
        raise _Defect("non-ASCII local part (SMTPUTF8) is not accepted")
    if local[0] == ".":
        raise _Defect("the local part starts with a dot")
    if local[-1] == ".":
        raise _Defect("the local part ends with a dot")
    if ".." in local:
        raise _Defect("consecutive dots in the local part")
    bad = sorted(set(local) - _ATEXT - {"."})
    if bad:
        raise _Defect(f"character not allowed in the local part: {''.join(bad)!r}")
    if len(local) > MAX_LOCAL:
        raise _Defect(f"local part of {len(local)} octets, at most {MAX_LOCAL} allowed")


def _slow(value: object) -> str:
    """The reference implementation, rule by rule, with a detail for every refusal."""
    if not isinstance(value, str):
        raise _refuse(value, f"expected text, got {type(value).__name__}")
    if value == "":
        raise _refuse(value, "empty value", "E208")
    try:
        return _slow_text(value)
    except _Defect as exc:
        raise _refuse(value, str(exc)) from None


def _slow_text(text: str) -> str:
    if text[0] == '"':
        raise _Defect("quoted local parts are not supported")
    bad = _SPACE_OR_CONTROL.search(text)
    if bad is not None:
        raise _Defect(f"whitespace or control character {bad.group()!r} (nothing is trimmed)")
    if "(" in text or ")" in text:
        raise _Defect("comments are not supported")
    if "<" in text or ">" in text:
        raise _Defect("angle brackets: give the bare address, not a name-addr")
    ats = text.count("@")
    if ats == 0:
        raise _Defect("no '@'")
    if ats > 1:
        raise _Defect("more than one '@' (quoted local parts are not supported)")
    local, _, domain = text.partition("@")
    if not local:
        raise _Defect("empty local part")
    if not domain:
        raise _Defect("empty domain")
    _check_local(local)
    domain = domain.lower()
    canonical = f"{local}@{domain}"
    size = len(canonical.encode("utf-8"))
    if size > MAX_TOTAL:
        raise _Defect(f"address of {size} octets, at most {MAX_TOTAL} allowed")
    ascii_domain = _to_ascii(domain)
    size = len(local) + 1 + len(ascii_domain)
    if size > MAX_TOTAL:
        raise _Defect(f"address of {size} octets in A-label form, at most {MAX_TOTAL} allowed")
    return canonical


def _canonical(value: object) -> str:
    """The canonical text of an address (fast path for plain ASCII), or raise E201."""
    if (
        type(value) is str
        and len(value) <= MAX_TOTAL
        and _FAST.fullmatch(value) is not None
        and "n--" not in value  # a possible A-label ("xn--", any case) is checked by idna
        and "N--" not in value
    ):
        local, _, domain = value.partition("@")
        lowered = domain.lower()
        return value if lowered == domain else f"{local}@{lowered}"
    return _slow(value)


def _key(canonical: str) -> str:
    local, _, domain = canonical.partition("@")
    return f"{local.casefold()}@{domain if domain.isascii() else _to_ascii(domain)}"


@attrs.frozen(order=True, repr=False)
class EmailAddress:
    """An email address (a mailbox ``local@domain``), validated at construction.

    **Accepted**: a *dot-atom* local part of RFC 5322 ``atext`` characters (letters, digits and
    ``!#$%&'*+/=?^_`{|}~-``) and dots, not leading, trailing or doubled, at most 64 octets; a
    domain of at least two labels whose top-level domain is not all-numeric, each label either
    an ASCII host-name label (letters, digits, inner hyphens, 1–63 characters; an ``xn--``
    label must be a valid A-label) or a Unicode label that IDNA 2008 (the ``idna`` package,
    without UTS 46 mapping) accepts, at most 63 octets as an A-label; the domain at most 253
    octets as A-labels; the whole address at most 254 octets, both as written (UTF-8) and with
    the domain as A-labels.

    **Refused** (E201): quoted local parts (``"a b"@x.de``), comments (``a(c)@x.de``), IP
    literals (``a@[192.0.2.1]``), name-addr forms (``Anna <a@x.de>``), whitespace or control
    characters anywhere (nothing is trimmed), a trailing dot on the domain, and — the
    conservative choice — any **non-ASCII local part** (SMTPUTF8 mailboxes such as
    ``jörg@x.de``): EMMA and many receiving servers cannot deliver to them.  Unicode
    domains are kept as written (U-labels) and must be in NFC, as IDNA 2008 requires.

    **Canonical form** (``str()``): exactly as given, except that the domain is lower-cased
    (``str.lower``; a Unicode domain stays in U-label form).  Two addresses are equal when
    their canonical forms are; the local part keeps its case (RFC 5321 leaves it to the
    receiving host).  For suppression use :attr:`matching_key`.

    >>> EmailAddress("K.Mueller+news@Sparkasse-Musterstadt.DE")
    EmailAddress('K***@sparkasse-musterstadt.de')
    >>> str(EmailAddress("info@straße.de")), EmailAddress("info@straße.de").ascii_domain
    ('info@straße.de', 'xn--strae-oqa.de')
    >>> EmailAddress("a@x.123")
    Traceback (most recent call last):
    ...
    emma_osplus._errors.InvalidValueError: E201, field EMAIL: ... (the top-level domain is all-numeric)
    """

    FIELD: ClassVar[str] = FIELD
    _FAST_PATTERN: ClassVar[str] = FAST_PATTERN
    _bulk_valid: ClassVar[Callable[[Sequence[str]], bool]] = staticmethod(_bulk_valid)
    value: str = attrs.field(converter=_canonical)

    def __str__(self) -> str:
        return self.value

    @classmethod
    def _trusted(cls, canonical: str) -> EmailAddress:
        """The address *canonical*, known to be valid and canonical (the readers checked it),
        made without checking it again: equal to ``EmailAddress(canonical)``."""
        address = object.__new__(cls)
        object.__setattr__(address, "value", canonical)
        return address

    def __repr__(self) -> str:
        return f"EmailAddress({self.value[0] + '***@' + self.domain!r})"

    @property
    def local(self) -> str:
        """The local part, as written (ASCII)."""
        return self.value.partition("@")[0]

    @property
    def domain(self) -> str:
        """The domain, lower-cased; Unicode domains in U-label form."""
        return self.value.partition("@")[2]

    @property
    def ascii_domain(self) -> str:
        """The domain in IDNA A-label form (``xn--…``), lower case; ASCII domains unchanged."""
        domain = self.domain
        return domain if domain.isascii() else _to_ascii(domain)

    @property
    def is_international(self) -> bool:
        """True when the domain has Unicode (U-label) characters."""
        return not self.value.isascii()

    @property
    def matching_key(self) -> str:
        """The key for suppression matching: local part case-folded, ``@``, the domain in
        A-label form (lower case).  Equal keys mean "the same mailbox" for suppression.

        >>> EmailAddress("Anna@Bücher.DE").matching_key
        'anna@xn--bcher-kva.de'
        """
        return _key(self.value)


def matching_key(text: str) -> str:
    """The suppression matching key of the address *text* (validated: E201 if invalid).

    >>> matching_key("Max.Mustermann@GMX.de")
    'max.mustermann@gmx.de'
    """
    return _key(_canonical(text))


#: Layout converter for email columns (CSV ``EMAIL``, ``BERATER_EMAIL``; RESP ``EMAIL``).
#:
#: >>> EMAIL.canonical("Anna@Example.DE")
#: 'Anna@example.de'
EMAIL: ValueType[EmailAddress] = ValueType(EmailAddress)
