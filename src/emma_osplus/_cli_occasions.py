"""``emma-osplus occasions [QUERY…] [--provider P] [--json]``: look up ReKu occasions.

Lists the occasions of the packaged registry whose title contains every word of QUERY (case-
and umlaut-insensitive) or whose code starts with it, with the mailings that serve them and the
journeys that use them.  ``--provider`` keeps the occasions that provider's mailings serve and
names its mailings without an occasion code; ``--json`` prints the same as JSON.  Exit status:
0, or 2 for a wrong call (e.g. an unknown provider).
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from ._errors import InvalidValueError
from ._registry import Mailing, Occasion, Occasions, Registry, _text_table, default_registry

__all__ = ["func", "register"]

_DESCRIPTION = (
    "List ReKu occasions whose title contains every word of QUERY (case and umlauts do not "
    "matter: 'gebuehren' finds 'Gebührenbefreiung') or whose code starts with it, with the "
    "partners' mailings and the customer journeys that use them."
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``occasions`` subcommand."""
    parser = subparsers.add_parser(
        "occasions",
        help="look up ReKu occasions, their mailings and journeys",
        description=_DESCRIPTION,
    )
    parser.add_argument(
        "query", nargs="*", metavar="QUERY", help="title words or the start of a code (none: all)"
    )
    parser.add_argument(
        "--provider", metavar="P", help="only occasions served by mailings of provider P (e.g. LBS)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=func)


def _mailings(registry: Registry, occasion: Occasion, provider: str | None) -> list[Mailing]:
    return [
        m
        for m in registry.mailings_for(occasion.code)
        if provider is None or m.provider == provider
    ]


def _table(
    registry: Registry, found: Occasions, provider: str | None, unlinked: list[Mailing]
) -> str:
    headers = (
        "code",
        "short",
        "title",
        "providers" if provider is None else f"mailings ({provider})",
        "journeys",
    )
    rows = []
    for occasion in found:
        mailings = _mailings(registry, occasion, provider)
        if provider is None:
            cell = ", ".join(dict.fromkeys(m.provider for m in mailings))
        else:
            cell = "; ".join(m.title for m in mailings)
        journeys = ", ".join(j.name for j in registry.journeys_for(occasion.code))
        rows.append(
            (occasion.code.long, occasion.short_code, occasion.title, cell or "-", journeys or "-")
        )
    n = len(found)
    lines = [_text_table(headers, rows)] if rows else []
    lines.append(f"{n} occasion{'' if n == 1 else 's'}")
    if unlinked:
        titles = "; ".join(m.title for m in unlinked)
        lines.append(f"{provider} mailings without an occasion code: {titles}")
    return "\n".join(lines) + "\n"


def _json(
    registry: Registry,
    *,
    query: str,
    found: Occasions,
    provider: str | None,
    unlinked: list[Mailing],
    suggestions: list[str],
) -> str:
    document: dict[str, Any] = {
        "query": query,
        "provider": provider,
        "occasions": [
            {
                "code": o.code.long,
                "short_code": o.short_code,
                "family": o.family,
                "title": o.title,
                "mailings": [
                    {"provider": m.provider, "title": m.title}
                    for m in _mailings(registry, o, provider)
                ],
                "journeys": [j.name for j in registry.journeys_for(o.code)],
            }
            for o in found
        ],
        "unlinked_mailings": [
            {"provider": m.provider, "title": m.title, "note": m.note} for m in unlinked
        ],
        "suggestions": suggestions,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def func(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run ``occasions``; returns the exit status."""
    registry = default_registry()
    query = " ".join(args.query)
    found = registry.search(query)
    provider: str | None = None
    unlinked: list[Mailing] = []
    if args.provider is not None:
        try:
            mailings = registry.provider_mailings(args.provider)
        except InvalidValueError as exc:
            stderr.write(f"emma-osplus occasions: --provider: {exc}\n")
            return 2
        provider = mailings[0].provider
        served = {c for m in mailings for c in m.occasions}
        found = Occasions(o for o in found if o.code in served)
        unlinked = [m for m in mailings if not m.linked]
    suggestions = [] if found else [c.long for c in registry.suggest(query)]
    if args.json:
        stdout.write(
            _json(
                registry,
                query=query,
                found=found,
                provider=provider,
                unlinked=unlinked,
                suggestions=suggestions,
            )
        )
        return 0
    stdout.write(_table(registry, found, provider, unlinked))
    if suggestions:
        hints = ", ".join(f"{c} ({registry.occasion(c).title})" for c in suggestions)
        stderr.write(f"no occasion matches {query!r}; did you mean: {hints}\n")
    return 0
