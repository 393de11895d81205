"""Strategies for the occasion registry: registered codes in every spelling the registry
accepts, occasions, unregistered codes and extended registries."""

from __future__ import annotations

from hypothesis import strategies as st

from .._registry import Mailing, Occasion, Registry, default_registry
from .._types import OccasionCode

__all__ = [
    "known_occasion_codes",
    "occasions",
    "registries",
    "unknown_occasion_codes",
]

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"
#: Surrounding blanks the registry ignores (``str.strip`` removes them).
_PADDING = st.text(" \t\r\n", max_size=3)


def _registry(registry: Registry | None) -> Registry:
    return default_registry() if registry is None else registry


@st.composite
def _spelled(draw: st.DrawFn, code: OccasionCode) -> str:
    text = code.long if draw(st.booleans(), label="long") else code.short
    cases = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)), label="upper")
    text = "".join(ch.upper() if up else ch.lower() for ch, up in zip(text, cases, strict=True))
    return draw(_PADDING) + text + draw(_PADDING)


def known_occasion_codes(registry: Registry | None = None) -> st.SearchStrategy[str]:
    """Text naming a registered occasion (of *registry*, default: the packaged one) in any
    spelling the registry accepts: long or short form, each letter upper or lower case,
    blanks around.  ``registry.canonical(text)`` always succeeds."""
    codes = [o.code for o in _registry(registry).occasions]
    return st.sampled_from(codes).flatmap(_spelled)


def occasions(registry: Registry | None = None) -> st.SearchStrategy[Occasion]:
    """Registered occasions of *registry* (default: the packaged one)."""
    return st.sampled_from(tuple(_registry(registry).occasions))


def unknown_occasion_codes(registry: Registry | None = None) -> st.SearchStrategy[OccasionCode]:
    """Syntactically valid occasion codes that are *not* registered in *registry*."""
    reg = _registry(registry)
    return st.builds(
        lambda family, digits: OccasionCode(family + digits),
        st.text(_UPPER, min_size=2, max_size=2),
        st.text(_DIGITS, min_size=3, max_size=3),
    ).filter(lambda code: code not in reg)


_TITLES = st.text(
    st.characters(categories=("L", "N", "Zs"), exclude_characters="\x85\u2028\u2029;"),
    min_size=1,
    max_size=30,
).filter(lambda t: t.strip() != "")


@st.composite
def registries(draw: st.DrawFn, max_own: int = 4) -> Registry:
    """The packaged registry extended by up to *max_own* own occasions of an institute and up
    to *max_own* own mailings, each attached to some registered or own occasions."""
    base = default_registry()
    reg = base
    own_codes = draw(st.lists(unknown_occasion_codes(base), max_size=max_own, unique=True))
    own = [Occasion(code, draw(_TITLES)) for code in own_codes]
    if own:
        reg = reg.with_occasions(*own)
    codes = [o.code for o in reg.occasions]
    mailings = draw(
        st.lists(
            st.builds(
                Mailing,
                provider=st.sampled_from(["Sparkasse Musterstadt", "Kreissparkasse Beispiel"]),
                title=_TITLES,
                occasions=st.lists(st.sampled_from(codes), min_size=1, max_size=3, unique=True),
            ),
            max_size=max_own,
        )
    )
    return reg.with_mailings(*mailings) if mailings else reg
