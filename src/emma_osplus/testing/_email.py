"""Strategies for email addresses: valid ones (ASCII and internationalised domains) and
invalid ones, one strategy per kind of defect.

The valid texts are built from the grammar, not by asking :class:`EmailAddress`: local parts
are dot-atoms of RFC 5322 ``atext``, domains LDH host names (mixed case) or Unicode domains
with umlauts and other Latin letters; their length limits are computed with the ``idna``
package.
"""

from __future__ import annotations

import idna
from hypothesis import strategies as st

from .._email import EmailAddress

__all__ = [
    "email_address_texts",
    "email_addresses",
    "invalid_email_addresses",
]

_DIGITS = "0123456789"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_ALNUM = _LOWER + _LOWER.upper() + _DIGITS
_ATEXT = _ALNUM + "!#$%&'*+-/=?^_`{|}~"
# Unicode letters whose case mapping is one to one (``str.lower`` of the upper case gives the
# letter back); IDNA 2008 accepts them (PVALID) in a Latin label.
_UNICODE_LOWER = "äöüßéèàçñøåæœ"
_UNICODE_UPPER = "ÄÖÜÉÈÀÇÑØÅÆŒ"


def _atoms(max_size: int) -> st.SearchStrategy[str]:
    return st.text(_ATEXT, min_size=1, max_size=max_size)


def _local_parts() -> st.SearchStrategy[str]:
    """Dot-atoms of at most 64 characters (sometimes exactly 64)."""
    dotted = st.lists(_atoms(16), min_size=1, max_size=4).map(".".join)
    full = st.text(_ATEXT, min_size=64, max_size=64)
    return st.one_of(dotted, full).filter(lambda s: len(s) <= 64)


def _ldh_labels(max_size: int = 20) -> st.SearchStrategy[str]:
    """LDH labels: alphanumeric at both ends, hyphens inside (never ``xx--``, see below)."""
    inner = st.text(_ALNUM + "-", max_size=max(0, max_size - 2))
    label = st.builds(
        lambda first, mid, last: first + mid + last,
        st.sampled_from(_ALNUM),
        inner,
        st.sampled_from(_ALNUM),
    )
    single = st.sampled_from(_ALNUM)
    # "ab--cd" is a valid host name but a reserved (R-LDH) label for IDNA; keep it out of the
    # labels that may share a domain with a Unicode label.
    return st.one_of(single, label).filter(lambda s: s[2:4] != "--")


def _top_level() -> st.SearchStrategy[str]:
    """A top-level domain: LDH with at least one letter (never all-numeric)."""
    return st.one_of(
        st.sampled_from(["de", "com", "org", "sparkasse", "DE", "Com", "museum", "xn--p1ai"]),
        _ldh_labels(10).filter(lambda s: not s.isdigit()),
    )


def _unicode_labels() -> st.SearchStrategy[str]:
    """Labels with at least one umlaut or other accented Latin letter."""
    letters = _LOWER + _LOWER.upper() + _DIGITS + _UNICODE_LOWER + _UNICODE_UPPER
    return st.builds(
        lambda head, accent, tail: head + accent + tail,
        st.text(letters, max_size=10),
        st.sampled_from(_UNICODE_LOWER + _UNICODE_UPPER),
        st.text(letters, max_size=10),
    )


def _domains() -> st.SearchStrategy[str]:
    ascii_domain = st.builds(
        lambda labels, tld: ".".join([*labels, tld]),
        st.lists(_ldh_labels(), min_size=1, max_size=3),
        _top_level(),
    )
    long_label = st.builds(
        lambda label, tld: f"{label}.{tld}",
        st.text(_LOWER, min_size=63, max_size=63),
        st.sampled_from(["de", "com"]),
    )
    idn = st.builds(
        lambda before, label, after, tld: ".".join([*before, label, *after, tld]),
        st.lists(_ldh_labels(), max_size=1),
        _unicode_labels(),
        st.lists(st.one_of(_ldh_labels(), _unicode_labels()), max_size=1),
        st.sampled_from(["de", "com", "at", "ch", "xn--p1ai", "öko"]),
    )
    return st.one_of(ascii_domain, long_label, idn)


def _fits(text: str) -> bool:
    local, _, domain = text.partition("@")
    ascii_domain = idna.encode(domain.lower()).decode("ascii")
    return (
        len(text.lower().encode("utf-8")) <= 254
        and len(local) + 1 + len(ascii_domain) <= 254
        and len(ascii_domain) <= 253
    )


def email_address_texts() -> st.SearchStrategy[str]:
    """Text of valid addresses, as a file could hold them (domains in mixed case, some
    internationalised)."""
    return st.builds(lambda local, domain: f"{local}@{domain}", _local_parts(), _domains()).filter(
        _fits
    )


def email_addresses() -> st.SearchStrategy[EmailAddress]:
    """Valid :class:`~emma_osplus._email.EmailAddress` values (some with Unicode domains)."""
    return email_address_texts().map(EmailAddress)


def _simple_locals() -> st.SearchStrategy[str]:
    return st.lists(st.text(_ALNUM + "_+-", min_size=1, max_size=10), min_size=1, max_size=3).map(
        ".".join
    )


def _simple_domains() -> st.SearchStrategy[str]:
    return st.lists(st.text(_LOWER + _DIGITS, min_size=1, max_size=10), min_size=1, max_size=2).map(
        lambda labels: ".".join([*labels, "de"])
    )


def invalid_email_address_cases() -> st.SearchStrategy[tuple[str, str]]:
    """``(kind, text)`` pairs: one kind of defect each, in an otherwise valid address.

    *kind* is a fragment of the refusal's detail (what :class:`EmailAddress` says is wrong).
    """
    loc, dom = _simple_locals(), _simple_domains()

    def case(kind: str, strategy: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, str]]:
        return strategy.map(lambda text: (kind, text))

    def insert(
        base: st.SearchStrategy[str], chars: str
    ) -> st.SearchStrategy[str]:  # put one of *chars* somewhere in *base*
        return st.builds(
            lambda s, c, i: s[: i % (len(s) + 1)] + c + s[i % (len(s) + 1) :],
            base,
            st.sampled_from(chars),
            st.integers(0, 100),
        )

    return st.one_of(
        case("no '@'", st.builds(lambda a, b: a + b, loc, dom)),
        case("more than one '@'", st.builds(lambda a, b, c: f"{a}@{b}@{c}", loc, loc, dom)),
        case("empty local part", dom.map(lambda d: "@" + d)),
        case("empty domain", loc.map(lambda a: a + "@")),
        case("starts with a dot", st.builds(lambda a, d: f".{a}@{d}", loc, dom)),
        case("ends with a dot", st.builds(lambda a, d: f"{a}.@{d}", loc, dom)),
        case(
            "consecutive dots in the local part",
            st.builds(lambda a, b, d: f"{a}..{b}@{d}", loc, loc, dom),
        ),
        case(
            "not allowed in the local part",
            st.builds(lambda a, d: f"{a}@{d}", insert(loc, ",:;[]\\"), dom),
        ),
        case(
            "non-ASCII local part",
            st.builds(lambda a, d: f"{a}@{d}", insert(loc, "äöüßé€"), dom),
        ),
        case(
            "local part of",
            st.builds(lambda a, d: f"{a}@{d}", st.text(_ALNUM, min_size=65, max_size=90), dom),
        ),
        case(
            "whitespace or control character",
            st.builds(lambda a, d: f"{a}@{d}", loc, dom).flatmap(
                lambda s: insert(st.just(s), " \t\r\n\x00\x1b\x7f\x85\xa0\u2028\u3000")
            ),
        ),
        case("quoted local parts", st.builds(lambda a, d: f'"{a}"@{d}', loc, dom)),
        case("comments", st.builds(lambda a, c, d: f"{a}({c})@{d}", loc, loc, dom)),
        case(
            "IP literals",
            st.builds(
                lambda a, ip: f"{a}@[{ip}]",
                loc,
                st.one_of(
                    st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(lambda i: f"IPv6:{i}")
                ),
            ),
        ),
        case(
            "at least two labels",
            st.builds(lambda a, b: f"{a}@{b}", loc, st.text(_LOWER, min_size=1, max_size=10)),
        ),
        case(
            "all-numeric",
            st.builds(
                lambda a, d, n: f"{a}@{d[:-3]}.{n}",
                loc,
                dom,
                st.text(_DIGITS, min_size=1, max_size=4),
            ),
        ),
        case(
            "hyphen",
            st.builds(
                lambda a, label, left, d: f"{a}@{'-' + label if left else label + '-'}.{d}",
                loc,
                st.text(_LOWER, min_size=1, max_size=8),
                st.booleans(),
                dom,
            ),
        ),
        case(
            "empty label",
            st.builds(
                lambda a, d, where: f"{a}@{d.replace('.', '..', 1) if where else '.' + d}",
                loc,
                dom,
                st.booleans(),
            ),
        ),
        case("ends with a dot", st.builds(lambda a, d: f"{a}@{d}.", loc, dom)),
        case(
            "not allowed in the domain",
            st.builds(
                lambda a, d: f"{a}@{d}",
                loc,
                insert(dom.map(lambda d: d[:-3]), "_!#$%&*+/=?^`{|}~'").map(lambda d: d + ".de"),
            ),
        ),
        case(
            "at most 63 allowed",
            st.builds(lambda a, n: f"{a}@{'a' * n}.de", loc, st.integers(64, 100)),
        ),
        case(
            "at most 254 allowed",
            st.builds(
                lambda n, labels: f"{'x' * n}@{'.'.join(labels)}.de",
                st.integers(61, 64),
                st.lists(st.text(_LOWER, min_size=63, max_size=63), min_size=3, max_size=3),
            ),
        ),
        case(
            "refused by IDNA 2008",
            st.builds(
                lambda a, head, bad, d: f"{a}@{head}{bad}.{d}",
                loc,
                st.text(_LOWER + "äöü", max_size=5),
                # snowman, heart, copyright, ideographic full stop, a decomposed (non-NFC) "ü",
                # a zero-width joiner out of context, a ligature: all refused by IDNA 2008
                st.sampled_from(
                    ["☃", "\u2665", "\u00a9", "\u3002x", "u\u0308", "\u200dx", "\ufb01"]
                ),
                dom,
            ),
        ),
        case(
            "invalid A-label",
            st.builds(
                lambda a, d: f"{a}@xn--{d}",
                loc,
                st.sampled_from(["zz.de", "abc.de", "-bbk.de", "ls8h.com", "1.de"]),
            ),
        ),
    )


def invalid_email_addresses() -> st.SearchStrategy[str]:
    """Non-empty text that is not a valid address (each kind of defect: missing or extra
    ``@``, bad dots, characters, lengths, labels, quoting, comments, IP literals, IDNA)."""
    return invalid_email_address_cases().map(lambda case: case[1])
