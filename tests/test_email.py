"""Email addresses (FORMATS.md, Common rules: Email): valid addresses keep their text (domain
lower-cased), the matching key is idempotent and case-insensitive, every kind of defect is
refused with E201 and a detail naming it, and the fast path agrees with the rule-by-rule
reference implementation."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from types import ModuleType

import attrs
import idna
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from emma_osplus import InvalidValueError
from emma_osplus._email import EMAIL, EmailAddress, _canonical, _slow, matching_key
from emma_osplus._messages import mask_addresses
from emma_osplus.testing._email import (
    email_address_texts,
    email_addresses,
    invalid_email_address_cases,
    invalid_email_addresses,
)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _expected_canonical(text: str) -> str:
    local, _, domain = text.partition("@")
    return f"{local}@{domain.lower()}"


def _refusal(text: object) -> InvalidValueError:
    with pytest.raises(InvalidValueError) as info:
        EmailAddress(text)
    return info.value


# --- properties -------------------------------------------------------------------------------


@SETTINGS
@given(email_address_texts())
def test_valid_text_keeps_local_part_and_lowers_domain(text: str) -> None:
    addr = EmailAddress(text)
    assert str(addr) == _expected_canonical(text)
    assert addr.local == text.partition("@")[0]
    assert addr.domain == text.partition("@")[2].lower()
    assert addr.ascii_domain == idna.encode(addr.domain).decode("ascii")
    assert addr.is_international == (not addr.domain.isascii())


@SETTINGS
@given(email_addresses())
def test_round_trip_through_string_form(addr: EmailAddress) -> None:
    again = EmailAddress(str(addr))
    assert again == addr
    assert hash(again) == hash(addr)
    assert EMAIL.parse(str(addr)) == addr
    assert EMAIL.canonical(str(addr)) == str(addr)
    assert pickle.loads(pickle.dumps(addr)) == addr


@SETTINGS
@given(email_addresses())
def test_repr_masks_the_local_part(addr: EmailAddress) -> None:
    assert repr(addr) == f"EmailAddress({addr.local[0] + '***@' + addr.domain!r})"
    assert repr(addr).count("@") == 1


@SETTINGS
@given(email_addresses())
def test_matching_key_is_idempotent_and_a_valid_address(addr: EmailAddress) -> None:
    key = addr.matching_key
    assert key.isascii()
    assert key == key.lower()
    assert matching_key(key) == key
    assert EmailAddress(key).matching_key == key
    assert matching_key(str(addr)) == key


def _flip_case(text: str, flips: list[bool]) -> str:
    """Change the case of characters whose case mapping is one to one."""
    out = []
    for ch, flip in zip(text, flips + [False] * len(text), strict=False):
        other = ch.swapcase()
        out.append(other if flip and len(other) == 1 and other.swapcase() == ch else ch)
    return "".join(out)


@SETTINGS
@given(email_address_texts(), st.lists(st.booleans(), max_size=300))
def test_matching_key_ignores_case(text: str, flips: list[bool]) -> None:
    flipped = _flip_case(text, flips)
    assert matching_key(flipped) == matching_key(text)
    assert matching_key(text.upper()) == matching_key(text.lower()) or "ß" in text


@SETTINGS
@given(email_address_texts())
def test_unicode_and_a_label_spelling_share_the_key(text: str) -> None:
    addr = EmailAddress(text)
    assume(addr.is_international)
    spelled = EmailAddress(f"{addr.local}@{addr.ascii_domain}")
    assert spelled != addr  # different text ...
    assert spelled.matching_key == addr.matching_key  # ... same mailbox


@SETTINGS
@given(invalid_email_address_cases())
def test_every_kind_of_defect_is_refused_with_e201(case: tuple[str, str]) -> None:
    kind, text = case
    err = _refusal(text)
    assert err.code == "E201"
    assert err.message.field == "EMAIL"
    assert err.message.raw == text
    assert kind in (err.message.detail or ""), (kind, err.message.detail)
    with pytest.raises(InvalidValueError) as info:
        matching_key(text)
    assert info.value.code == "E201"
    with pytest.raises(InvalidValueError) as info:
        EMAIL.parse(text)
    assert info.value.code == "E201"
    assert info.value.message.raw == text


@SETTINGS
@given(invalid_email_addresses())
def test_invalid_strategy_only_gives_invalid_text(text: str) -> None:
    assert _refusal(text).code == "E201"


_ASCII = st.text(
    st.sampled_from("aAzZ09.@-_+!'\"()[] \t:;,<>\\xn"), min_size=1, max_size=40
) | st.from_regex(r"[a-z0-9.]{0,66}@[A-Za-z0-9.-]{0,70}", fullmatch=True)


@settings(max_examples=500, deadline=None)
@given(st.one_of(_ASCII, email_address_texts(), invalid_email_addresses()))
@example("a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 60 + ".de")
@example("xn--bcher-kva@xn--bcher-kva.de")
@example("a@XN--BCHER-KVA.DE")
@example("a@xN--zz.de")
def test_fast_path_agrees_with_reference(text: str) -> None:
    """The one-regex fast path and the rule-by-rule reference accept the same texts and give
    the same canonical form."""
    try:
        expected: str | None = _slow(text)
    except InvalidValueError:
        expected = None
    try:
        got: str | None = _canonical(text)
    except InvalidValueError:
        got = None
    assert got == expected


# --- hand-picked table ------------------------------------------------------------------------

L64 = "l" * 64
LABEL63 = "d" * 63
# 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254
TOTAL254 = f"{L64}@{LABEL63}.{LABEL63}.{'e' * 58}.de"

VALID = [
    ("anna@example.de", "anna@example.de"),
    ("Anna.Schmidt@Example.DE", "Anna.Schmidt@example.de"),
    (
        "k.mueller+newsletter@sparkasse-musterstadt.de",
        "k.mueller+newsletter@sparkasse-musterstadt.de",
    ),
    ("o'brien@example.ie", "o'brien@example.ie"),
    ("!#$%&'*+-/=?^_`{|}~@example.com", "!#$%&'*+-/=?^_`{|}~@example.com"),
    ("a@b.co", "a@b.co"),
    ("1@2.de", "1@2.de"),
    ("a@x.de1", "a@x.de1"),
    ("a@r3--sn-abc.googlevideo.com", "a@r3--sn-abc.googlevideo.com"),
    (f"{L64}@example.de", f"{L64}@example.de"),
    (f"a@{LABEL63}.de", f"a@{LABEL63}.de"),
    (TOTAL254, TOTAL254),
    ("mueller@bücher.de", "mueller@bücher.de"),
    ("mueller@BÜCHER.DE", "mueller@bücher.de"),
    ("info@straße.de", "info@straße.de"),
    ("info@xn--strae-oqa.de", "info@xn--strae-oqa.de"),
    ("info@XN--BCHER-KVA.DE", "info@xn--bcher-kva.de"),
    ("a@bücher.öko", "a@bücher.öko"),
    ("a@日本.jp", "a@日本.jp"),
    ("a@a-b.c-d.example", "a@a-b.c-d.example"),
    # an ASCII label follows the host-name rule even beside a U-label
    ("a@r3--sn.bücher.de", "a@r3--sn.bücher.de"),
]

INVALID = [
    ("", "empty value"),
    ("müller@bücher.de", "non-ASCII local part"),
    ("jörg@example.de", "non-ASCII local part"),
    ("a..b@x.de", "consecutive dots in the local part"),
    (".a@x.de", "the local part starts with a dot"),
    ("a.@x.de", "the local part ends with a dot"),
    ("a@-x.de", "starts or ends with a hyphen"),
    ("a@x-.de", "starts or ends with a hyphen"),
    ("a@x", "at least two labels"),
    ("a@x.123", "all-numeric"),
    ("a@x.de.", "the domain ends with a dot"),
    ("a@.x.de", "empty label"),
    ("a@x..de", "empty label"),
    ("a b@x.de", "whitespace"),
    (" a@x.de", "whitespace"),
    ("a@x.de ", "whitespace"),
    ("a@x.de\n", "whitespace"),
    ("a\x00b@x.de", "control character"),
    ('"a b"@x.de', "quoted local parts"),
    ('"a"@x.de', "quoted local parts"),
    ('a"b@x.de', "not allowed in the local part"),
    ("a@[192.0.2.1]", "IP literals"),
    ("a@[IPv6:2001:db8::1]", "IP literals"),
    ("a@192.0.2.1", "all-numeric"),
    ("a(comment)@x.de", "comments"),
    ("Anna <a@x.de>", "whitespace"),
    ("<a@x.de>", "angle brackets"),
    ("ax.de", "no '@'"),
    ("a@b@x.de", "more than one '@'"),
    ("@x.de", "empty local part"),
    ("a@", "empty domain"),
    (f"{L64}l@example.de", "local part of 65 octets"),
    (f"a@{LABEL63}d.de", "domain label of 64 characters"),
    (TOTAL254[:-3] + "x.de", "address of 255 octets"),
    ("a@x_y.de", "character not allowed in the domain: '_'"),
    ("a@xn--zz.de", "invalid A-label"),
    ("a@xn---bbk.de", "invalid A-label"),
    ("a@☃.net", "refused by IDNA 2008"),
    ("a@u\u0308ber.de", "refused by IDNA 2008"),  # decomposed ü: not NFC
    ("a@bücher。de", "refused by IDNA 2008"),  # ideographic full stop is no label separator
    ("a@x\u200bz.de", "refused by IDNA 2008"),  # zero-width space
]


@pytest.mark.parametrize(("text", "canonical"), VALID)
def test_valid_table(text: str, canonical: str) -> None:
    addr = EmailAddress(text)
    assert str(addr) == canonical
    assert EmailAddress(canonical) == addr


@pytest.mark.parametrize(("text", "detail"), INVALID)
def test_invalid_table(text: str, detail: str) -> None:
    err = _refusal(text)
    assert err.code == ("E208" if text == "" else "E201")
    assert detail in (err.message.detail or "")


def test_edge_lengths_are_what_they_claim() -> None:
    assert len(L64) == 64
    assert len(LABEL63) == 63
    assert len(TOTAL254) == 254
    assert len(f"{L64}l") == 65


def test_a_label_form_counts_against_the_total() -> None:
    """254 octets as written (UTF-8) but longer once the domain is in A-label form."""
    label = "a" * 55 + "ü"  # 57 octets in UTF-8, 63 as the A-label "xn--aaa…a-…"
    text = f"{'x' * 64}@{label}.{label}.{label}.de"
    assert len(text.encode("utf-8")) == 241
    assert len(idna.encode(text.partition("@")[2])) == 63 * 3 + 5
    err = _refusal(text)
    assert "in A-label form" in (err.message.detail or "")


def test_utf8_octets_count_against_the_total() -> None:
    """The address as written is measured in UTF-8 octets, not characters."""
    label = "日本語" * 7  # 21 characters, 63 octets in UTF-8, 35 as an A-label
    text = f"{'x' * 64}@{label}.{label}.{label}.de"
    assert len(text) == 133
    assert len(text.encode("utf-8")) == 259
    assert (_refusal(text).message.detail or "").startswith("address of 259 octets, at most 254")


def test_non_text_is_refused() -> None:
    err = _refusal(42)
    assert err.code == "E201"
    assert "expected text, got int" in (err.message.detail or "")


def test_message_and_exception_text_mask_the_address() -> None:
    err = _refusal("anna.schmidt@exa_mple.de")
    assert "anna.schmidt" not in str(err)
    assert "anna.schmidt" not in repr(err.message)
    assert mask_addresses("anna.schmidt@x.de") in repr(err.message) or "a***@" in repr(err.message)


def test_equality_is_on_the_canonical_text_and_ordering_works() -> None:
    assert EmailAddress("a@X.de") == EmailAddress("a@x.de")
    assert EmailAddress("A@x.de") != EmailAddress("a@x.de")
    assert EmailAddress("A@x.de").matching_key == EmailAddress("a@x.de").matching_key
    assert sorted([EmailAddress("b@x.de"), EmailAddress("a@x.de")])[0] == EmailAddress("a@x.de")


def test_frozen() -> None:
    addr = EmailAddress("a@x.de")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        addr.value = "b@x.de"  # type: ignore[misc]


def test_evolve_validates() -> None:
    with pytest.raises(InvalidValueError):
        attrs.evolve(EmailAddress("a@x.de"), value="a..b@x.de")


def test_benchmark_runs(
    capsys: pytest.CaptureFixture[str], load_benchmark: Callable[[str], ModuleType]
) -> None:
    """Smoke test: the benchmark's main runs on a tiny size and reports rates."""
    module = load_benchmark("bench_email")
    assert module.main(["--quick", "-n", "50"]) == 0
    out = capsys.readouterr().out
    assert "EmailAddress, ASCII" in out
    assert "addresses/s" in out
