"""Email validation speed: ``EmailAddress`` against baselines measured in the same run.

Prints addresses per second for

- ``str.partition('@')`` alone (the floor: what any validator costs at least),
- ``EmailAddress(text)`` on valid ASCII addresses (the fast path; the target is ≥ 500k/s),
- ``EmailAddress(text)`` on valid addresses with Unicode domains (the ``idna`` path, cached
  per domain),
- ``matching_key(text)``,
- ``email_validator.validate_email(text, check_deliverability=False)`` when the
  ``email-validator`` package is installed (skipped otherwise; it is not a dependency),

and the ratios against them.  ``python benchmarks/bench_email.py [--quick] [-n N]``.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence

from emma_osplus._email import EmailAddress, matching_key

_FIRST = ["anna", "peter", "k.mueller", "info", "max.mustermann", "j_doe+news", "hans-juergen"]
_ASCII_DOMAINS = [
    "example.de",
    "gmx.de",
    "web.de",
    "T-Online.de",
    "sparkasse-musterstadt.de",
    "mail.example.co.uk",
]
_IDN_DOMAINS = ["bücher.de", "müller-bau.de", "straße.example", "café.fr", "öko.example.com"]


def addresses(n: int, domains: Sequence[str], seed: int = 2026) -> list[str]:
    """*n* distinct-looking valid addresses over *domains* (deterministic)."""
    rnd = random.Random(seed)
    return [f"{rnd.choice(_FIRST)}{rnd.randrange(100000)}@{rnd.choice(domains)}" for _ in range(n)]


def rate(func: Callable[[str], object], items: Sequence[str], repeat: int = 3) -> float:
    """Best of *repeat* runs, in items per second."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            func(item)
        best = min(best, time.perf_counter() - start)
    return len(items) / best


def _partition(text: str) -> object:
    return text.partition("@")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("-n", type=int, default=None, help="addresses per measurement")
    args, _ = parser.parse_known_args(argv)
    n = args.n or (2_000 if args.quick else 200_000)

    plain = addresses(n, _ASCII_DOMAINS)
    international = addresses(n, _IDN_DOMAINS)
    for text in plain[:100] + international[:100]:
        EmailAddress(text)  # all valid (and warms the caches)

    rows: list[tuple[str, float]] = [
        ("str.partition('@') (floor)", rate(_partition, plain)),
        ("EmailAddress, ASCII", rate(EmailAddress, plain)),
        ("EmailAddress, Unicode domain", rate(EmailAddress, international)),
        ("matching_key, ASCII", rate(matching_key, plain)),
    ]
    try:
        from email_validator import validate_email
    except ImportError:
        print("email-validator not installed: its baseline is skipped")
    else:
        sample = plain[: max(1, n // 10)]

        def validator(text: str) -> object:
            return validate_email(text, check_deliverability=False)

        rows.append(("email_validator.validate_email, ASCII", rate(validator, sample, repeat=1)))

    ours = rows[1][1]
    for name, value in rows:
        print(f"{name:<42} {value:>12,.0f} addresses/s   ours/this = {ours / value:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
