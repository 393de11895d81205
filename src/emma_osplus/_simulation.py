"""Prototyping a campaign or journey: simulated responses through the real state machines.

:func:`simulate` takes a subscriber list (rows with ``KUNDENNUMMER`` and ``EMAIL``, as read
from a file, or :func:`synthetic_subscribers`), a campaign or journey (a
:class:`~emma_osplus._campaigns.Campaign`, :class:`~emma_osplus._journeys.JourneyPlan` or
:class:`~emma_osplus._journeys.JourneyRun`) and response-rate :class:`Assumptions`, and plays
the journey forward in time:

* every subscriber enters the journey (:class:`~emma_osplus._journeys.Entered`), and the
  journey machine says which sends are due when (:meth:`~emma_osplus._journeys.JourneyRun.due`);
* each send draws its outcome from the assumptions and becomes response events
  (:class:`~emma_osplus._events.Sent`, ``Opened``, ``Clicked``, ``Unsubscribed``,
  ``HardBounce``, ``SoftBounce``, ``Withheld``) at plausible times after it;
* the events are folded, in time order, into a :class:`~emma_osplus._responses.ResponseBook`
  (:func:`~emma_osplus._responses.fold`'s machine); an unsubscribe, a hard bounce, a withheld
  mail or an address whose soft bounces escalate
  (:class:`~emma_osplus._responses.SoftBouncePolicy`) makes the subscriber leave the journey
  (:class:`~emma_osplus._journeys.Left`), so later steps are not sent to them and no event of
  theirs follows the leave;
* the :class:`FunnelReport` counts, per step, what the book and the journey say.

Everything is deterministic: the same arguments and ``seed`` give the same events and the
same report.  Each send draws from its own generator (seeded with the seed, the customer and
the step), so changing one rate changes the outcomes it governs and leaves the rest alone —
two runs with different assumptions compare like for like.

>>> from emma_osplus._journeys import JourneyPlan
>>> plan = JourneyPlan.fixed(["M-WELCOME", "M-APP", "M-CARD"], every=7)
>>> people = synthetic_subscribers(200, seed=1)
>>> result = simulate(people, plan, Assumptions(open=0.4, click=0.25, unsubscribe=0.03), seed=7)
>>> print(result.report)
step  day  mailing    sent  opened  clicked  unsubscribed  hard bounces  soft bounces  withheld  left  still in journey
1     0    M-WELCOME  200   78      20       2             1             2             0         3     197
2     7    M-APP      197   82      21       7             1             2             0         8     189
3     14   M-CARD     189   74      21       4             0             4             0         0     189
(200 entered, 11 left, 189 completed)
>>> result.leavers()
{'unsubscribed': 9, 'hard_bounce': 2}
>>> simulate(people, plan, Assumptions(open=0.4, click=0.25, unsubscribe=0.03), seed=7) == result
True
>>> result.report.records()[0]["opened"]
78
"""

from __future__ import annotations

import datetime as dt
import heapq
import html
import importlib
import random
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

import attrs

from ._campaigns import Campaign, SendBlock, WaitBlock
from ._consent import ConsentLedger, ConsentPolicy
from ._display import html_table, mask, text_table
from ._email import EmailAddress
from ._errors import InvalidValueError
from ._events import (
    Clicked,
    HardBounce,
    Opened,
    RecipientKey,
    ResponseEvent,
    Sent,
    SoftBounce,
    Unsubscribed,
    Withheld,
)
from ._journeys import (
    Entered,
    JourneyEvent,
    JourneyPlan,
    JourneyRun,
    JourneyStarted,
    JourneyStep,
    LeaveReason,
    Left,
)
from ._messages import Message
from ._registry import Selection
from ._responses import (
    DEFAULT_SOFT_BOUNCE_POLICY,
    Engagement,
    Escalation,
    ResponseBook,
    SoftBouncePolicy,
)
from ._suppression import Row, ToSend, read_row, screen
from ._types import Blz, CustomerNumber, EventId, MailingId, OccasionCode, OrderNumber

__all__ = [
    "DEFAULT_START",
    "RATE_FIELDS",
    "SYNTHETIC_COLUMNS",
    "Assumptions",
    "FunnelReport",
    "FunnelStep",
    "Rates",
    "SimulationResult",
    "SkippedRow",
    "plan_of",
    "simulate",
    "synthetic_subscribers",
]

#: When a simulation starts unless told otherwise (a Monday, 08:00 UTC).
DEFAULT_START = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)

#: The rates of :class:`Rates`, in the order of the funnel.
RATE_FIELDS: tuple[str, ...] = (
    "withheld",
    "hard_bounce",
    "soft_bounce",
    "open",
    "click",
    "unsubscribe",
)


# ---------------------------------------------------------------------------------------------
# Assumptions
# ---------------------------------------------------------------------------------------------


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rate(instance: object, attribute: attrs.Attribute[float], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{attribute.name} must be a number from 0 to 1, not {value!r}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be from 0 to 1, not {value!r}")


@attrs.frozen
class Rates:
    """The response rates of one step, each a probability from 0 to 1:

    * ``withheld`` — of the mails due, the share EMMA withholds (``ZH SPERRLISTE``: never
      sent; the subscriber leaves);
    * ``hard_bounce`` and ``soft_bounce`` — of the mails sent, the shares that bounce (their
      sum at most 1; a hard bounce makes the subscriber leave, soft bounces count towards the
      escalation policy);
    * ``open`` — of the mails delivered (sent, not bounced), the share opened;
    * ``click`` — of the mails opened, the share clicked;
    * ``unsubscribe`` — of the mails delivered, the share that ends in an unsubscribe (by the
      link when the mail was opened, else by the one-click header).

    >>> Rates(open=0.4).open, Rates(hard_bounce=0.7, soft_bounce=0.5)
    Traceback (most recent call last):
    ...
    ValueError: hard_bounce + soft_bounce must be at most 1 (they share the mails sent), not 1.2
    """

    open: float = attrs.field(default=0.35, validator=_rate)
    click: float = attrs.field(default=0.12, validator=_rate)
    unsubscribe: float = attrs.field(default=0.005, validator=_rate)
    soft_bounce: float = attrs.field(default=0.01, validator=_rate)
    hard_bounce: float = attrs.field(default=0.005, validator=_rate)
    withheld: float = attrs.field(default=0.0, validator=_rate)

    def __attrs_post_init__(self) -> None:
        both = self.hard_bounce + self.soft_bounce
        if both > 1.0 + 1e-12:
            raise ValueError(
                "hard_bounce + soft_bounce must be at most 1 (they share the mails sent), "
                f"not {both:g}"
            )

    def as_dict(self) -> dict[str, float]:
        """The rates by name."""
        return {name: getattr(self, name) for name in RATE_FIELDS}


def _overrides(
    value: Mapping[int, Mapping[str, float] | Rates],
) -> Mapping[int, Mapping[str, float]]:
    if not isinstance(value, Mapping):
        raise TypeError(f"per_step must map step numbers to rates, not {value!r}")
    out: dict[int, dict[str, float]] = {}
    for step, rates in sorted(value.items()):
        if not _whole(step) or step < 1:
            raise ValueError(f"per_step: steps are numbered from 1, not {step!r}")
        found = rates.as_dict() if isinstance(rates, Rates) else dict(rates)
        unknown = sorted(set(found) - set(RATE_FIELDS))
        if unknown:
            raise ValueError(
                f"per_step[{step}]: unknown rate {unknown[0]!r}; rates: {', '.join(RATE_FIELDS)}"
            )
        out[step] = found
    return out


def _positive_delay(
    instance: object, attribute: attrs.Attribute[dt.timedelta], value: object
) -> None:
    if not isinstance(value, dt.timedelta) or value < dt.timedelta(minutes=1):
        raise ValueError(
            f"{attribute.name} must be a timedelta of at least a minute, not {value!r}"
        )


@attrs.frozen
class Assumptions:
    """Response-rate assumptions for a simulation: the :class:`Rates` of every step, with
    ``per_step`` overrides (step number from 1 → the rates that differ there, as a mapping or
    a whole :class:`Rates`), and how long after a send opens (``open_within``) and
    unsubscribes (``unsubscribe_within``, after the last open or click) happen.

    The defaults are plausible for a German savings bank's service mailings: 35 % opened,
    12 % of the openers click, 0.5 % unsubscribe, 1 % soft and 0.5 % hard bounces, nothing
    withheld.

    >>> a = Assumptions(open=0.3, per_step={2: {"open": 0.5}, 3: Rates(open=0.2, click=0.0)})
    >>> a.for_step(1).open, a.for_step(2).open, a.for_step(2).click, a.for_step(3).click
    (0.3, 0.5, 0.12, 0.0)
    >>> Assumptions(per_step={2: {"opens": 0.5}})
    Traceback (most recent call last):
    ...
    ValueError: per_step[2]: unknown rate 'opens'; rates: withheld, hard_bounce, soft_bounce, open, click, unsubscribe
    """

    open: float = attrs.field(default=0.35, validator=_rate)
    click: float = attrs.field(default=0.12, validator=_rate)
    unsubscribe: float = attrs.field(default=0.005, validator=_rate)
    soft_bounce: float = attrs.field(default=0.01, validator=_rate)
    hard_bounce: float = attrs.field(default=0.005, validator=_rate)
    withheld: float = attrs.field(default=0.0, validator=_rate)
    per_step: Mapping[int, Mapping[str, float]] = attrs.field(factory=dict, converter=_overrides)
    open_within: dt.timedelta = attrs.field(default=dt.timedelta(days=3), validator=_positive_delay)
    unsubscribe_within: dt.timedelta = attrs.field(
        default=dt.timedelta(days=2), validator=_positive_delay
    )

    def __attrs_post_init__(self) -> None:
        self.base  # noqa: B018 - validates the combination
        for step in self.per_step:
            self.for_step(step)

    @property
    def base(self) -> Rates:
        """The rates of a step without overrides."""
        return Rates(**{name: getattr(self, name) for name in RATE_FIELDS})

    def for_step(self, step: int) -> Rates:
        """The rates of step *step* (from 1)."""
        return attrs.evolve(self.base, **self.per_step.get(step, {}))


# ---------------------------------------------------------------------------------------------
# Synthetic subscribers
# ---------------------------------------------------------------------------------------------

_WOMEN = (
    "Anna", "Emma", "Hannah", "Lea", "Lena", "Marie", "Mia", "Sophie", "Jana", "Katharina",
    "Ursula", "Brigitte", "Renate", "Helga", "Monika", "Sabine", "Petra", "Käthe", "Ingrid",
    "Gisela", "Bärbel", "Annegret", "Dörte", "Özlem", "Zoë", "Agnieszka", "Chiara",
)  # fmt: skip
_MEN = (
    "Lukas", "Leon", "Finn", "Paul", "Jonas", "Felix", "Maximilian", "Klaus", "Hans", "Peter",
    "Wolfgang", "Thomas", "Michael", "Andreas", "Stefan", "Frank", "Jürgen", "Jörg", "Björn",
    "Sören", "Günther", "Horst", "Uwe", "Dieter", "Mehmet", "René", "Tomasz", "Matthäus",
)  # fmt: skip
_LAST = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder",
    "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange",
    "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Köhler", "Herrmann",
    "König", "Walter", "Huber", "Kaiser", "Fuchs", "Peters", "Scholz", "Möller", "Weiß",
    "Jung", "Hahn", "Vogel", "Keller", "Günther", "Berger", "Roth", "Böhm", "Krämer", "Jäger",
    "Groß", "Kühn", "Pfeiffer", "Çelik", "Nowak", "Öztürk", "Nowakowski", "von der Heide",
)  # fmt: skip
_STREETS = (
    "Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Goethestraße", "Lindenstraße",
    "Gartenweg", "Am Mühlbach", "Kirchplatz", "Rosenweg", "Bergstraße", "Schulstraße",
    "Dorfstraße", "Mühlenweg", "Jägerstraße", "Brückenstraße", "Marktplatz", "Am Schlößchen",
    "Wiesengrund", "Königsallee", "Försterweg",
)  # fmt: skip
_CITIES = (
    ("10115", "Berlin"), ("20095", "Hamburg"), ("80331", "München"), ("50667", "Köln"),
    ("60311", "Frankfurt am Main"), ("70173", "Stuttgart"), ("40213", "Düsseldorf"),
    ("44135", "Dortmund"), ("04109", "Leipzig"), ("28195", "Bremen"), ("01067", "Dresden"),
    ("30159", "Hannover"), ("90403", "Nürnberg"), ("53111", "Bonn"), ("48143", "Münster"),
    ("37073", "Göttingen"), ("97070", "Würzburg"), ("66111", "Saarbrücken"), ("24103", "Kiel"),
    ("99084", "Erfurt"), ("79098", "Freiburg im Breisgau"), ("07743", "Jena"),
    ("93047", "Regensburg"), ("18055", "Rostock"),
)  # fmt: skip
_DOMAINS = (
    ("gmx.de", 18), ("web.de", 18), ("t-online.de", 14), ("gmail.com", 16), ("outlook.de", 6),
    ("posteo.de", 3), ("freenet.de", 4), ("mail.de", 3), ("icloud.com", 4), ("yahoo.de", 3),
    ("arcor.de", 3), ("bücherstube-köln.de", 1), ("gärtnerei-schön.de", 1), ("müller-bau.de", 1),
)  # fmt: skip
_TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "ë": "e", "ç": "c", " ": "", "-": ""}
)  # fmt: skip

#: The columns :func:`synthetic_subscribers` writes (``ANLASS`` and ``ANLASS_DATUM`` follow
#: when an occasion is given).  ``STRASSE``, ``PLZ`` and ``ORT`` are personalisation fields
#: (columns the profile does not know are kept as they are).
SYNTHETIC_COLUMNS: tuple[str, ...] = (
    "KUNDENNUMMER", "EMAIL", "ANREDE", "TITEL", "VORNAME", "NACHNAME", "GEBURTSDATUM",
    "STRASSE", "PLZ", "ORT",
)  # fmt: skip


def _ascii(text: str) -> str:
    folded = text.lower().translate(_TRANSLIT)
    return "".join(ch for ch in folded if ch.isascii() and (ch.isalnum() or ch in "._"))


def synthetic_subscribers(
    n: int,
    seed: int | str = 0,
    *,
    occasion: str | OccasionCode | None = None,
) -> list[dict[str, str]]:
    """*n* made-up subscriber rows with German names, postal and email addresses (umlauts
    included; a few domains are internationalised), as a subscriber list of the reference
    profile would carry them: column → canonical text, columns :data:`SYNTHETIC_COLUMNS`.
    Customer numbers and addresses are unique, and every value can be written in
    windows-1252 (the default encoding of subscriber lists).  The same *n* and *seed* give the
    same rows.

    With *occasion* (a ReKu occasion code) every row gets ``ANLASS`` and ``ANLASS_DATUM``,
    as a ``REKU`` delivery needs.

    >>> rows = synthetic_subscribers(3, seed=42)
    >>> [(r["VORNAME"], r["NACHNAME"], r["ORT"]) for r in rows]
    [('Brigitte', 'Çelik', 'Erfurt'), ('Sophie', 'Neumann', 'Dresden'), ('Jana', 'Meier', 'Regensburg')]
    >>> rows == synthetic_subscribers(3, seed=42), len({r["KUNDENNUMMER"] for r in rows})
    (True, 3)
    >>> from emma_osplus._subscribers import read_subscriber_list, write_subscriber_list
    >>> data = write_subscriber_list("KMM", SYNTHETIC_COLUMNS, synthetic_subscribers(50, seed=1))
    >>> len([item for item in read_subscriber_list(data, "KMM")])
    50
    """
    if not _whole(n) or n < 0:
        raise ValueError(f"n must be a whole number of 0 or more, not {n!r}")
    rng = random.Random(f"synthetic/{seed}")
    numbers = rng.sample(range(1_000_000, 9_999_999_999), n)
    code = None if occasion is None else OccasionCode(str(occasion)).long
    domains = [d for d, _ in _DOMAINS]
    weights = [w for _, w in _DOMAINS]
    taken: set[str] = set()
    rows: list[dict[str, str]] = []
    for number in numbers:
        roll = rng.random()
        if roll < 0.49:
            salutation, first = "Frau", rng.choice(_WOMEN)
        elif roll < 0.98:
            salutation, first = "Herr", rng.choice(_MEN)
        else:
            salutation, first = "Divers", rng.choice(_WOMEN + _MEN)
        last = rng.choice(_LAST)
        title = rng.choices(("", "Dr.", "Prof. Dr."), weights=(93, 6, 1))[0]
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 66 * 365))
        street = f"{rng.choice(_STREETS)} {rng.randint(1, 120)}{rng.choice(('', '', '', 'a', 'b'))}"
        plz, city = rng.choice(_CITIES)
        pattern = rng.randrange(4)
        f, la = _ascii(first), _ascii(last)
        local = (f"{f}.{la}", f"{f[0]}{la}", f"{f}_{la}", f"{f}.{la}{born.year % 100:02d}")[pattern]
        domain = rng.choices(domains, weights=weights)[0]
        address = f"{local}@{domain}"
        suffix = 2
        while EmailAddress(address).matching_key in taken:
            address = f"{local}{suffix}@{domain}"
            suffix += 1
        email = EmailAddress(address)
        taken.add(email.matching_key)
        row = {
            "KUNDENNUMMER": str(CustomerNumber(number)),
            "EMAIL": str(email),
            "ANREDE": salutation,
            "TITEL": title,
            "VORNAME": first,
            "NACHNAME": last,
            "GEBURTSDATUM": born.strftime("%d.%m.%Y"),
            "STRASSE": street,
            "PLZ": plz,
            "ORT": city,
        }
        if code is not None:
            day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(0, 365))
            row["ANLASS"] = code
            row["ANLASS_DATUM"] = day.strftime("%d.%m.%Y")
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# The funnel report
# ---------------------------------------------------------------------------------------------


def _pct(part: int, whole: int) -> str:
    return f"{part} ({100.0 * part / whole:.1f} %)" if whole else str(part)


@attrs.frozen
class FunnelStep:
    """The funnel of one step (its number from 1, the day after the entry and the mailing).

    Counts of recipients, from the response book (the recipient state machine):

    * ``sent`` — mails that went out (a bounce implies sent); ``opened`` ≤ ``sent`` and
      ``clicked`` ≤ ``opened`` always;
    * ``unsubscribed`` — customers who unsubscribed in response to this mailing;
    * ``hard_bounced``, ``soft_bounced`` — mails that bounced;
    * ``withheld`` — mails EMMA withheld (never sent).

    And from the journey machine:

    * ``left`` — subscribers who left the journey after this step was sent (or withheld) to
      them and before the next one, whatever made them leave;
    * ``still_in_journey`` — ``sent + withheld - left``: the subscribers the next step is due
      for (after the last step: those who completed the journey; a bounce or unsubscribe
      after the last send no longer changes the journey, it is the consent side's business).
    """

    step: int
    day: int
    mailing: str
    sent: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0
    hard_bounced: int = 0
    soft_bounced: int = 0
    withheld: int = 0
    left: int = 0
    still_in_journey: int = 0

    @property
    def reached(self) -> int:
        """Mails attempted: ``sent + withheld``."""
        return self.sent + self.withheld

    @property
    def bounced(self) -> int:
        """``hard_bounced + soft_bounced``."""
        return self.hard_bounced + self.soft_bounced

    @property
    def delivered(self) -> int:
        """``sent - bounced``: mails that reached a mailbox."""
        return self.sent - self.bounced

    def as_dict(self) -> dict[str, int | str]:
        """The step as a plain dict (every field)."""
        return attrs.asdict(self)


@attrs.frozen(repr=False)
class FunnelReport:
    """The funnel of a simulated journey: one :class:`FunnelStep` per step, how many
    subscribers ``entered``, ``left`` and ``completed`` it.

    ``records()`` gives plain dicts (one per step), ``to_dataframe()`` a pandas DataFrame
    (optional extra ``pandas``).  ``repr`` is a text table, ``_repr_html_`` an HTML table.
    """

    name: str
    steps: tuple[FunnelStep, ...]
    entered: int
    left: int
    completed: int

    HEADERS: ClassVar[tuple[str, ...]] = (
        "step", "day", "mailing", "sent", "opened", "clicked", "unsubscribed", "hard bounces",
        "soft bounces", "withheld", "left", "still in journey",
    )  # fmt: skip

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[FunnelStep]:
        return iter(self.steps)

    def step(self, number: int) -> FunnelStep:
        """The funnel of step *number* (from 1)."""
        if not 1 <= number <= len(self.steps):
            raise IndexError(f"no step {number}; the journey has {len(self.steps)}")
        return self.steps[number - 1]

    def records(self) -> list[dict[str, int | str]]:
        """One plain dict per step (:meth:`FunnelStep.as_dict`), for any table tool.

        >>> FunnelReport("x", (FunnelStep(1, 0, "M-1", sent=3),), 3, 0, 3).records()
        [{'step': 1, 'day': 0, 'mailing': 'M-1', 'sent': 3, 'opened': 0, 'clicked': 0, 'unsubscribed': 0, 'hard_bounced': 0, 'soft_bounced': 0, 'withheld': 0, 'left': 0, 'still_in_journey': 0}]
        """
        return [s.as_dict() for s in self.steps]

    def to_dataframe(self) -> Any:
        """The records as a :class:`pandas.DataFrame` indexed by step.  Needs pandas (the
        optional extra ``pandas``: ``pip install 'emma-osplus[pandas]'``)."""
        pandas = _import_pandas("FunnelReport.to_dataframe")
        return pandas.DataFrame.from_records(self.records(), index="step")

    def rows(self, *, percent: bool = False) -> list[tuple[str, ...]]:
        """The steps as rows of text (columns :attr:`HEADERS`); with *percent*, opened and
        clicked also as a share of the mails sent and opened."""
        out: list[tuple[str, ...]] = []
        for s in self.steps:
            opened = _pct(s.opened, s.sent) if percent else str(s.opened)
            clicked = _pct(s.clicked, s.opened) if percent else str(s.clicked)
            counts = (s.unsubscribed, s.hard_bounced, s.soft_bounced, s.withheld, s.left)
            head = (str(s.step), str(s.day), s.mailing, str(s.sent), opened, clicked)
            out.append((*head, *(str(n) for n in counts), str(s.still_in_journey)))
        return out

    def summary(self) -> str:
        """``N entered, N left, N completed``."""
        return f"{self.entered} entered, {self.left} left, {self.completed} completed"

    def __repr__(self) -> str:
        return f"{text_table(self.HEADERS, self.rows())}\n({self.summary()})"

    def _repr_html_(self) -> str:
        caption = f"Funnel of {self.name}: {self.summary()}"
        return html_table(
            self.HEADERS, self.rows(percent=True), caption, numeric=(0, 1, *range(3, 12))
        )


def _import_pandas(what: str) -> Any:
    try:
        return importlib.import_module("pandas")  # the optional extra, imported when asked for
    except ImportError as exc:
        raise ImportError(
            f"{what} needs pandas; install the optional extra: pip install 'emma-osplus[pandas]'"
        ) from exc


# ---------------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------------


@attrs.frozen(repr=False)
class SkippedRow:
    """A row of the subscriber list that could not take part: its position (0-based), the
    row and the message why (``E201``/``E202``/``E208`` invalid or missing customer number or
    address, ``E203`` a customer number given before)."""

    index: int
    row: Row = attrs.field(eq=False)
    message: Message

    def __repr__(self) -> str:
        return f"SkippedRow(index={self.index}, message={self.message.describe()!r})"


@attrs.frozen(repr=False, eq=False)
class SimulationResult:
    """What :func:`simulate` produced.

    * ``events`` — every response event, in time order (then event id);
    * ``book`` — the :class:`~emma_osplus._responses.ResponseBook` those events fold into;
    * ``run`` — the :class:`~emma_osplus._journeys.JourneyRun` at the end (who completed, who
      left, when and why);
    * ``report`` — the :class:`FunnelReport`;
    * ``skipped`` — rows that could not take part (:class:`SkippedRow`), never silently
      dropped;
    * ``escalations`` — addresses whose soft bounces made them count as hard-bounced.

    Two results are equal when their events, run and report are equal.
    """

    name: str
    plan: JourneyPlan
    assumptions: Assumptions
    seed: int | str
    start: dt.datetime
    blz: Blz
    order: OrderNumber
    order_kind: str
    events: tuple[ResponseEvent, ...]
    book: ResponseBook
    run: JourneyRun
    report: FunnelReport
    skipped: tuple[SkippedRow, ...] = ()
    escalations: tuple[Escalation, ...] = ()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SimulationResult):
            return NotImplemented
        return (self.events, self.run, self.report, self.skipped) == (
            other.events,
            other.run,
            other.report,
            other.skipped,
        )

    __hash__ = None  # type: ignore[assignment]

    def records(self) -> list[dict[str, int | str]]:
        """The funnel as plain dicts (:meth:`FunnelReport.records`)."""
        return self.report.records()

    def to_dataframe(self) -> Any:
        """The funnel as a pandas DataFrame (:meth:`FunnelReport.to_dataframe`)."""
        return self.report.to_dataframe()

    def event_records(self, *, show_addresses: bool = False) -> list[dict[str, Any]]:
        """One plain dict per event: ``at``, ``step``, ``kind``, ``code``, ``customer``,
        ``email`` (masked unless *show_addresses*), ``mailing``, ``detail``, ``event_id``."""
        steps = {str(m): n for n, m in enumerate(self.plan.mailings, start=1)}
        out = []
        for event in self.events:
            detail = event.to_values()["DETAIL"] if event.CODE != "VS" else ""
            out.append(
                {
                    "at": event.at,
                    "step": steps[str(event.mailing)],
                    "kind": event.KIND,
                    "code": event.CODE,
                    "customer": str(event.customer),
                    "email": mask(str(event.email), show_addresses),
                    "mailing": str(event.mailing),
                    "detail": detail,
                    "event_id": str(event.event_id),
                }
            )
        return out

    def events_dataframe(self, *, show_addresses: bool = False) -> Any:
        """:meth:`event_records` as a pandas DataFrame (optional extra ``pandas``)."""
        pandas = _import_pandas("SimulationResult.events_dataframe")
        return pandas.DataFrame.from_records(self.event_records(show_addresses=show_addresses))

    def leavers(self) -> dict[str, int]:
        """How many subscribers left the journey, by reason (only reasons that occur)."""
        found: dict[str, int] = {}
        for subscriber in self.run.subscribers.values():
            if subscriber.state == "left" and subscriber.left_reason is not None:
                reason = subscriber.left_reason.value
                found[reason] = found.get(reason, 0) + 1
        return {r.value: found[r.value] for r in LeaveReason if r.value in found}

    def to_resp(self, created: dt.datetime | None = None, sequence: int = 1) -> bytes:
        """The events as a ``RESP`` file (created at *created*, default: one minute after the
        last event; file sequence number *sequence*), e.g. to try the processing side."""
        from ._resp import write_resp  # noqa: PLC0415 - only when asked for

        if created is None:
            last = self.events[-1].at if self.events else self.start
            created = last + dt.timedelta(minutes=1)
        return write_resp(self.blz, created, sequence, (e.to_values() for e in self.events))

    def _title(self) -> str:
        return (
            f"Simulation of {self.name!r} (seed {self.seed!r}): {len(self.plan.steps)} steps, "
            f"{len(self.events)} events, {len(self.skipped)} rows skipped"
        )

    def __repr__(self) -> str:
        leavers = ", ".join(f"{n} {reason}" for reason, n in self.leavers().items())
        tail = f"\nleft: {leavers}" if leavers else ""
        return f"{self._title()}\n{self.report!r}{tail}"

    def _repr_html_(self) -> str:
        leavers = ", ".join(f"{n} {reason}" for reason, n in self.leavers().items())
        parts = [f"<p><strong>{html.escape(self._title())}</strong></p>", self.report._repr_html_()]
        if leavers:
            parts.append(f"<p>left: {html.escape(leavers)}</p>")
        if self.skipped:
            rows = [
                (str(s.index), s.message.code, mask(s.message.describe())) for s in self.skipped
            ]
            parts.append(html_table(("row", "code", "message"), rows, "rows skipped"))
        return "".join(parts)


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------


def plan_of(target: Campaign | JourneyPlan | JourneyRun) -> JourneyPlan:
    """The journey plan of *target*: a plan as it is, a journey's current plan, a campaign's
    send blocks with the wait days before each (consecutive sends: 0 days apart).

    >>> from emma_osplus._campaigns import StartBlock
    >>> plan_of(Campaign("Herbst", [StartBlock("Herbst_2026"), SendBlock("M-1"), WaitBlock(3),
    ...                             WaitBlock(4), SendBlock("M-2"), SendBlock("M-3")]))
    JourneyPlan(day 0: M-1, day 7: M-2, day 7: M-3)
    """
    if isinstance(target, JourneyPlan):
        return target
    if isinstance(target, JourneyRun):
        return target.plan
    if isinstance(target, Campaign):
        steps: list[JourneyStep] = []
        wait = 0
        for block in target.blocks[1:]:
            if isinstance(block, WaitBlock):
                wait += block.days
            elif isinstance(block, SendBlock):
                steps.append(JourneyStep(block.mailing, wait))
                wait = 0
        return JourneyPlan(steps)
    raise TypeError(f"expected a Campaign, JourneyPlan or JourneyRun, not {type(target).__name__}")


def _check_plan(target: object, plan: JourneyPlan) -> None:
    problems: tuple[Message, ...] = plan.problems
    if isinstance(target, Campaign) and target.problems:
        problems = target.problems
    if problems:
        raise InvalidValueError(*problems)
    seen: dict[MailingId | None, int] = {}
    for number, mailing in enumerate(plan.mailings, start=1):
        if mailing in seen:
            raise ValueError(
                f"steps {seen[mailing]} and {number} both send {mailing}: the responses of "
                "one mailing cannot be told apart by step; give each step its own mailing"
            )
        seen[mailing] = number


@attrs.define
class _Subscriber:
    customer: CustomerNumber
    email: EmailAddress
    entry: dt.datetime
    withheld_reason: str | None = None  # withheld on arrival (consent screening)
    attempts: list[dt.datetime] = attrs.field(factory=list)


class _Engine:
    """One simulation run (mutable working state; the result is frozen)."""

    def __init__(
        self,
        plan: JourneyPlan,
        assumptions: Assumptions,
        seed: int | str,
        *,
        blz: Blz,
        order: OrderNumber,
        order_kind: str,
        policy: SoftBouncePolicy,
    ) -> None:
        self.plan = plan
        self.rates = [assumptions.for_step(n) for n in range(1, len(plan.steps) + 1)]
        self.assumptions = assumptions
        self.seed = seed
        self.blz, self.order, self.order_kind = blz, order, order_kind
        self.policy = policy
        self.book = ResponseBook()
        self.events: list[ResponseEvent] = []
        self.heap: list[tuple[dt.datetime, int, ResponseEvent]] = []
        self.sequence = 0
        self.cutoff: dict[CustomerNumber, dt.datetime] = {}
        self.soft_counts: dict[str, int] = {}
        self.escalated: dict[str, Escalation] = {}
        self.subscribers: dict[CustomerNumber, _Subscriber] = {}

    # -- events ----------------------------------------------------------------------------

    def _push(self, event: ResponseEvent, leaves: bool = False) -> None:
        """Queue *event* unless its subscriber has left before it; a leaving event sets the
        subscriber's cut-off (nothing of theirs after it)."""
        cutoff = self.cutoff.get(event.customer)
        if cutoff is not None and event.at > cutoff:
            return
        if leaves:
            self.cutoff[event.customer] = event.at
        self.sequence += 1
        heapq.heappush(self.heap, (event.at, self.sequence, event))

    def _fields(self, sub: _Subscriber, step: int, code: str, at: dt.datetime) -> dict[str, Any]:
        return {
            "event_id": EventId(f"SIM{step:03d}{sub.customer}{code}"),
            "blz": self.blz,
            "order": self.order,
            "order_kind": self.order_kind,
            "mailing": self.plan.steps[step - 1].mailing,
            "customer": sub.customer,
            "email": sub.email,
            "at": at,
        }

    def send(self, sub: _Subscriber, step: int, at: dt.datetime) -> bool:
        """Draw the outcome of step *step* for *sub* at *at* and queue its events; ``True``
        when the mail was sent (``False``: withheld)."""
        rates = self.rates[step - 1]
        rng = random.Random(f"{self.seed}/{sub.customer}/{step}")
        u_withheld, u_bounce, u_open, u_click, u_unsub = (rng.random() for _ in range(5))
        d_bounce = rng.randint(5, 3600)
        d_open = rng.randint(60, int(self.assumptions.open_within.total_seconds()))
        d_click = rng.randint(5, 1800)
        d_unsub = rng.randint(30, int(self.assumptions.unsubscribe_within.total_seconds()))
        link = f"link-{rng.randint(1, 3)}"
        sub.attempts.append(at)
        if sub.withheld_reason is not None or u_withheld < rates.withheld:
            reason = sub.withheld_reason or "SPERRLISTE"
            self._push(Withheld(**self._fields(sub, step, "ZH", at), reason=reason), leaves=True)
            return False
        self._push(Sent(**self._fields(sub, step, "VS", at)))
        bounce_at = at + dt.timedelta(seconds=d_bounce)
        if u_bounce < rates.hard_bounce:
            hard = HardBounce(
                **self._fields(sub, step, "HB", bounce_at),
                status="5.1.1",
                diagnostic="550 5.1.1 user unknown",
            )
            self._push(hard, leaves=True)
            return True
        if u_bounce < rates.hard_bounce + rates.soft_bounce:
            soft = SoftBounce(
                **self._fields(sub, step, "SB", bounce_at),
                status="4.2.2",
                diagnostic="452 4.2.2 mailbox full",
            )
            self._push(soft)
            return True
        last = at
        if u_open < rates.open:
            last = at + dt.timedelta(seconds=d_open)
            self._push(Opened(**self._fields(sub, step, "OE", last)))
            if u_click < rates.click:
                last += dt.timedelta(seconds=d_click)
                self._push(Clicked(**self._fields(sub, step, "KL", last), link=link))
        if u_unsub < rates.unsubscribe:
            source = "LINK" if last > at else "LISTUNSUB"
            unsub_at = last + dt.timedelta(seconds=d_unsub)
            unsub = Unsubscribed(**self._fields(sub, step, "AB", unsub_at), source=source)
            self._push(unsub, leaves=True)
        return True

    def flush(self, until: dt.datetime | None) -> list[JourneyEvent]:
        """Fold every queued event up to *until* (all with ``None``) into the book, in time
        order; the leaves they cause, in time order."""
        lefts: list[JourneyEvent] = []
        chunk: list[ResponseEvent] = []
        while self.heap and (until is None or self.heap[0][0] <= until):
            at, _, event = heapq.heappop(self.heap)
            cutoff = self.cutoff.get(event.customer)
            if cutoff is not None and at > cutoff:
                continue  # the subscriber left before (a leave found after it was queued)
            chunk.append(event)
            self.events.append(event)
            if isinstance(event, (Unsubscribed, HardBounce, Withheld)):
                lefts.append(Left.from_response(event))
            elif isinstance(event, SoftBounce):
                key = event.email.matching_key
                self.soft_counts[key] = self.soft_counts.get(key, 0) + 1
                if self.soft_counts[key] >= self.policy.threshold and key not in self.escalated:
                    self.book.update(chunk)
                    chunk = []
                    found = self.book.escalation(event.email, self.policy)
                    if found is not None:
                        self.escalated[key] = found
                        for _, _, customer in found.recipients:
                            if customer not in self.subscribers:
                                continue
                            current = self.cutoff.get(customer)
                            if current is None or found.at < current:
                                self.cutoff[customer] = found.at
                            lefts.append(Left(customer, LeaveReason.HARD_BOUNCE, at=found.at))
        self.book.update(chunk)
        lefts.sort(key=lambda e: e.at)
        return lefts


def _rows_to_subscribers(
    rows: Iterable[Row],
    *,
    at: dt.datetime,
    ledger: ConsentLedger | None,
    consent_policy: ConsentPolicy,
) -> tuple[list[tuple[int, Row, CustomerNumber, EmailAddress, str | None]], list[SkippedRow]]:
    """Valid rows (index, row, customer, address, withheld reason or None) and skipped rows."""
    skipped: list[SkippedRow] = []
    valid: list[tuple[int, Row, CustomerNumber, EmailAddress]] = []
    first: dict[CustomerNumber, int] = {}
    for index, row in enumerate(rows):
        try:
            customer, email = read_row(row)
        except InvalidValueError as exc:
            skipped.append(SkippedRow(index, row, exc.message))
            continue
        if customer in first:
            message = Message(
                "E203",
                field="KUNDENNUMMER",
                raw=str(customer),
                detail=f"{customer} first at row {first[customer]}",
            )
            skipped.append(SkippedRow(index, row, message))
            continue
        first[customer] = index
        valid.append((index, row, customer, email))
    if ledger is None:
        return [(i, r, c, e, None) for i, r, c, e in valid], skipped
    out = []
    verdicts = screen((r for _, r, _, _ in valid), ledger, at=at, policy=consent_policy)
    for (index, row, customer, email), verdict in zip(valid, verdicts, strict=True):
        reason = None if isinstance(verdict, ToSend) else verdict.reason.value
        out.append((index, row, customer, email, reason))
    return out, skipped


def _running(
    target: Campaign | JourneyPlan | JourneyRun, plan: JourneyPlan, name: str, at: dt.datetime
) -> JourneyRun:
    if isinstance(target, JourneyRun):
        fresh = JourneyRun(
            name, plan, selection=target.selection, occasions=target.occasions, note=target.note
        )
    else:
        fresh = JourneyRun(name, plan)
    return fresh.apply(JourneyStarted(at=at))


def _default_name(target: object) -> str:
    if isinstance(target, (Campaign, JourneyRun)):
        return target.name
    return "journey"


def simulate(
    subscribers: Iterable[Row],
    target: Campaign | JourneyPlan | JourneyRun,
    assumptions: Assumptions | None = None,
    *,
    seed: int | str = 0,
    start: dt.datetime = DEFAULT_START,
    entry_spread_days: int = 0,
    name: str | None = None,
    blz: Blz | str = "37050198",
    order: OrderNumber | str = "SIM1",
    order_kind: str | None = None,
    ledger: ConsentLedger | None = None,
    consent_policy: ConsentPolicy = ConsentPolicy(),  # noqa: B008 - frozen value
    soft_bounce_policy: SoftBouncePolicy = DEFAULT_SOFT_BOUNCE_POLICY,
) -> SimulationResult:
    """Simulate *target* (a :class:`~emma_osplus._campaigns.Campaign`,
    :class:`~emma_osplus._journeys.JourneyPlan` or :class:`~emma_osplus._journeys.JourneyRun`:
    its current plan, started afresh) for *subscribers* (rows with ``KUNDENNUMMER`` and
    ``EMAIL``: :class:`~emma_osplus.Record` objects or mappings) under *assumptions*.

    * *seed* (an int or text) makes the run reproducible: same arguments, same result.
    * Subscribers enter at *start* (an aware datetime), or spread over *entry_spread_days*
      days after it (whole days, drawn from the seed), as deliveries of a ReKu order would
      bring them.
    * *blz*, *order* and *order_kind* go into the events (the order kind defaults to ``REKU``
      for a journey selected by occasions, else ``KMM``).
    * With a consent *ledger* every row is screened on arrival
      (:func:`~emma_osplus._suppression.screen` under *consent_policy*): a row the ledger
      refuses, or a second row for an address, is withheld (``ZH`` with its reason) at step 1
      and the subscriber leaves.  Without one, every valid row is sent to.
    * *soft_bounce_policy* decides when soft bounces make an address count as hard-bounced
      (the subscribers with it leave).

    Rows without a valid customer number or address, and a customer number given twice, are
    not simulated; they are in :attr:`SimulationResult.skipped` with their message.  An
    incomplete campaign or plan raises :class:`~emma_osplus.InvalidValueError` (``E208``, as
    activation would), a plan that sends one mailing in two steps :class:`ValueError`.
    """
    assumptions = Assumptions() if assumptions is None else assumptions
    moment: object = start
    if not isinstance(moment, dt.datetime) or moment.utcoffset() is None:
        raise InvalidValueError(
            Message("E205", field="start", raw=repr(start), detail="expected an aware datetime")
        )
    if not _whole(entry_spread_days):
        raise TypeError(f"entry_spread_days must be a whole number, not {entry_spread_days!r}")
    if entry_spread_days < 0:
        raise ValueError(f"entry_spread_days must be 0 or more, not {entry_spread_days}")
    plan = plan_of(target)
    _check_plan(target, plan)
    unknown = [n for n in assumptions.per_step if n > len(plan.steps)]
    if unknown:
        raise ValueError(f"per_step names step {unknown[0]}; the plan has {len(plan.steps)} steps")
    name = name or _default_name(target)
    start = start.replace(microsecond=0)
    if order_kind is None:
        selection = target.selection if isinstance(target, JourneyRun) else None
        order_kind = "REKU" if selection is Selection.REKU else "KMM"
    institute = blz if isinstance(blz, Blz) else Blz(blz)
    order_number = order if isinstance(order, OrderNumber) else OrderNumber(order)
    run = _running(target, plan, name, start)
    engine = _Engine(
        plan,
        assumptions,
        seed,
        blz=institute,
        order=order_number,
        order_kind=order_kind,
        policy=soft_bounce_policy,
    )

    valid, skipped = _rows_to_subscribers(
        subscribers, at=start, ledger=ledger, consent_policy=consent_policy
    )
    spread = random.Random(f"{seed}/entries")
    entries: dict[dt.datetime, list[_Subscriber]] = {}
    for _, _, customer, email, reason in valid:
        days = spread.randint(0, entry_spread_days) if entry_spread_days else 0
        sub = _Subscriber(customer, email, start + dt.timedelta(days=days), reason)
        engine.subscribers[customer] = sub
        entries.setdefault(sub.entry, []).append(sub)

    offsets = plan.offsets
    times = sorted({t + dt.timedelta(days=o) for t in entries for o in offsets} | set(entries))
    for now in times:
        journey_events: list[JourneyEvent] = engine.flush(now)
        arriving = entries.get(now, [])
        journey_events.extend(Entered(s.customer, s.email, at=now) for s in arriving)
        run = run.apply_all(journey_events)
        for sub in arriving:
            if sub.withheld_reason is not None:
                engine.send(sub, 1, now)  # withheld on arrival: counts as step 1
        sent: list[JourneyEvent] = []
        for due in run.due(now):
            sub = engine.subscribers[due.customer]
            cutoff = engine.cutoff.get(due.customer)
            if cutoff is not None and cutoff <= due.due_at:
                continue  # leaving (the leave is applied with the next flush)
            if engine.send(sub, due.step, due.due_at):
                sent.append(due.as_sent(due.due_at))
        run = run.apply_all(sent)
    run = run.apply_all(engine.flush(None))

    report = _report(name, plan, engine, run)
    return SimulationResult(
        name=name,
        plan=plan,
        assumptions=assumptions,
        seed=seed,
        start=start,
        blz=institute,
        order=order_number,
        order_kind=order_kind,
        events=tuple(engine.events),
        book=engine.book,
        run=run,
        report=report,
        skipped=tuple(skipped),
        escalations=tuple(engine.escalated[k] for k in sorted(engine.escalated)),
    )


def _report(name: str, plan: JourneyPlan, engine: _Engine, run: JourneyRun) -> FunnelReport:
    count = len(plan.steps)
    reached = [0] * count
    left = [0] * count
    for customer, sub in engine.subscribers.items():
        for i in range(len(sub.attempts)):
            reached[i] += 1
        member = run.subscriber(customer)
        if member is not None and member.state == "left" and member.left_at is not None:
            done = sum(1 for t in sub.attempts if t <= member.left_at)
            if done:
                left[done - 1] += 1
    unsubscribed: dict[str, set[CustomerNumber]] = {}
    for event in engine.book.unsubscribes():
        unsubscribed.setdefault(str(event.mailing), set()).add(event.customer)
    soft: dict[str, set[CustomerNumber]] = {}
    for address in sorted(engine.soft_counts):
        for bounce in engine.book.soft_bounces(address):
            soft.setdefault(str(bounce.mailing), set()).add(bounce.customer)
    steps = []
    for index, (step, day) in enumerate(zip(plan.steps, plan.offsets, strict=True)):
        mailing = step.mailing
        assert mailing is not None
        counts = dict.fromkeys(("sent", "opened", "clicked", "hard", "withheld"), 0)
        for customer, sub in engine.subscribers.items():
            if len(sub.attempts) <= index:
                continue
            state = engine.book.get(RecipientKey(engine.blz, engine.order, mailing, customer))
            counts["sent"] += state.engagement >= Engagement.SENT
            counts["opened"] += state.engagement >= Engagement.OPENED
            counts["clicked"] += state.engagement >= Engagement.CLICKED
            counts["hard"] += state.hard_bounce is not None
            counts["withheld"] += state.withheld is not None
        steps.append(
            FunnelStep(
                step=index + 1,
                day=day,
                mailing=str(mailing),
                sent=counts["sent"],
                opened=counts["opened"],
                clicked=counts["clicked"],
                unsubscribed=len(unsubscribed.get(str(mailing), ())),
                hard_bounced=counts["hard"],
                soft_bounced=len(soft.get(str(mailing), ())),
                withheld=counts["withheld"],
                left=left[index],
                still_in_journey=reached[index] - left[index],
            )
        )
    states = run.counts()
    return FunnelReport(
        name=name,
        steps=tuple(steps),
        entered=len(engine.subscribers),
        left=states.get("left", 0),
        completed=states.get("completed", 0),
    )
