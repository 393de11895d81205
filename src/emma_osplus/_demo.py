"""The demo: a synthetic Sparkasse and a full round trip through folders, with no set-up.

:func:`run_demo` creates an institute (a few thousand realistic German customers from a fixed
seed, umlauts included), and runs both sides of the interface over
:class:`~emma_osplus.DirectoryTransport` folders with :class:`~emma_osplus.SQLiteStore` state
files, printing what happens at each step (customer numbers and masked addresses only):

1. OSPlus sends the consent it holds, with its evidence (``CONS``);
2. OSPlus registers a ReKu order with a control file (``VREKU``) and delivers the customers of
   the occasion; then it delivers a KMM order with advisor pictures;
3. EMMA processes its inbox: verification, suppression (a customer who objected at the branch
   and one without consent are withheld), lists; ``QUIT`` files go back;
4. EMMA sends the mailings; the recipients respond (a send simulator): opens, clicks,
   unsubscribes, a complaint, hard and soft bounces; ``RESP`` and ``CONS`` files go back;
5. OSPlus processes them with one institute parameter off (*Aut. Verarb. Abmeld.*): the
   unsubscribes become pending items, listed with their age;
6. the next selection is guarded: the affected customers are named and held back.

``emma-osplus demo [--dir DIR]`` runs it (see :mod:`emma_osplus._cli_run`).

>>> import io, tempfile
>>> out = io.StringIO()
>>> with tempfile.TemporaryDirectory() as folder:
...     result = run_demo(folder, out=out, customers=300)
>>> result.pending > 0 and result.held_back > 0 and result.withheld > 0
True
>>> "@" in out.getvalue().replace("***@", "")
False
"""

from __future__ import annotations

import datetime as dt
import os
import random
import struct
import sys
import tempfile
import time
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import attrs

from ._consent import ConsentEvent
from ._control import ControlFile
from ._events import Clicked, HardBounce, Opened, ResponseEvent, Sent, SoftBounce, Unsubscribed
from ._feedback import InstituteSettings
from ._messages import mask_addresses
from ._processor import DeliveryOrder, EmmaProcessor, OsplusProcessor, RunReport, counter_ids
from ._store import SQLiteStore
from ._transport import DirectoryTransport
from ._types import EventId

__all__ = ["DemoResult", "Institute", "make_institute", "png_pixel", "run_demo"]

#: The demo institute: Sparkasse KölnBonn's bank code.
BLZ = "37050198"
INSTITUTE_NAME = "Sparkasse KölnBonn"

_FIRST_FEMALE = (
    "Anna", "Bärbel", "Brigitte", "Christa", "Claudia", "Doris", "Elke", "Emilia", "Gisela",
    "Hannah", "Heike", "Ingrid", "Jana", "Jördis", "Julia", "Käthe", "Katrin", "Lea", "Lena",
    "Marie", "Mia", "Monika", "Renate", "Sabine", "Sophie", "Ursula", "Zoë", "Özlem", "Ilse",
)  # fmt: skip
_FIRST_MALE = (
    "Ben", "Björn", "Dieter", "Elias", "Felix", "Günter", "Hans", "Jörg", "Jürgen", "Jonas",
    "Klaus", "Lukas", "Maximilian", "Michael", "Noah", "Paul", "Peter", "Ralf", "René",
    "Sören", "Stefan", "Thomas", "Uwe", "Werner", "Wolfgang", "Yusuf", "Frank", "Leon",
)  # fmt: skip
_LAST = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt",
    "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Köhler", "Herrmann", "König", "Walter",
    "Huber", "Kaiser", "Fuchs", "Peters", "Möller", "Weiß", "Jung", "Hahn", "Vogel", "Günther",
    "Jäger", "Groß", "Böhm", "Krämer", "Kühn", "Öztürk", "Nowak", "Çelik", "Dubois",
)  # fmt: skip
_TITLES = ("", "", "", "", "", "", "", "", "Dr.", "Prof. Dr.")
_DOMAINS = (
    "web.de", "gmx.de", "t-online.de", "gmail.com", "outlook.de", "freenet.de", "posteo.de",
    "mailbox.org", "icloud.com", "yahoo.de", "bäckerei-müller.de",
)  # fmt: skip
_BRANCHES = ("Neumarkt", "Ehrenfeld", "Bonn-Zentrum", "Porz", "Deutz", "Bad Godesberg", "Kalk")
_ADVISORS = (
    ("4711", "Sabine Schäfer", "0221 226-4711"),
    ("4712", "Jürgen Köhler", "0221 226-4712"),
    ("4713", "Özlem Kaya", "0228 226-4713"),
    ("4714", "René Hoffmann", "0228 226-4714"),
)
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def png_pixel(red: int, green: int, blue: int) -> bytes:
    """A valid 1×1 PNG of one colour (the demo's advisor pictures).

    >>> png_pixel(0, 0, 0)[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes((red, green, blue)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    plain = "".join(c for c in folded if c.isascii() and (c.isalnum() or c in "-."))
    return plain.lower()


@attrs.frozen
class Institute:
    """The synthetic institute: its customers (rows of a subscriber list, cp1252-safe), the
    advisors' pictures, the consent events OSPlus holds, and the customers of the demo's
    special cases (``objected``: objected at the branch; ``no_consent``: never consented)."""

    blz: str
    customers: tuple[dict[str, str], ...]
    pictures: dict[str, bytes]
    consent: tuple[ConsentEvent, ...]
    objected: str
    no_consent: str


def make_institute(count: int = 3000, seed: int = 2026, *, at: dt.datetime) -> Institute:
    """*count* customers, deterministic for *seed*; consent recorded before *at*."""
    rng = random.Random(seed)
    numbers = rng.sample(range(1_000_000, 9_999_999), count)
    used: set[str] = set()
    pictures = {
        f"berater_{number}.png": png_pixel(40 + 50 * i, 90, 160 - 30 * i)
        for i, (number, _, _) in enumerate(_ADVISORS)
    }
    customers = []
    for number in numbers:
        female = rng.random() < 0.52
        first = rng.choice(_FIRST_FEMALE if female else _FIRST_MALE)
        last = rng.choice(_LAST)
        local = rng.choice(
            (
                f"{_ascii(first)}.{_ascii(last)}",
                f"{_ascii(first)[0]}.{_ascii(last)}",
                f"{_ascii(last)}{rng.randint(1, 99)}",
                f"{_ascii(first)}{rng.randint(1950, 2005)}",
            )
        )
        domain = rng.choices(_DOMAINS, weights=(20, 20, 12, 15, 8, 5, 3, 2, 6, 6, 1))[0]
        email = f"{local}@{domain}"
        while email in used:
            email = f"{local}{rng.randint(1, 999)}@{domain}"
        used.add(email)
        advisor = rng.choice(_ADVISORS)
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 65))
        first_name, last_name = advisor[1].split(" ")
        customers.append(
            {
                "KUNDENNUMMER": str(number),
                "EMAIL": email,
                "ANREDE": "Frau" if female else "Herr",
                "TITEL": rng.choice(_TITLES),
                "VORNAME": first,
                "NACHNAME": last,
                "GEBURTSDATUM": born.strftime("%d.%m.%Y"),
                "BERATER_NR": advisor[0],
                "BERATER_NAME": advisor[1],
                "BERATER_TELEFON": advisor[2],
                "BERATER_EMAIL": f"{_ascii(first_name)}.{_ascii(last_name)}@sparkasse-koelnbonn.de",
                "BERATERBILD": f"berater_{advisor[0]}.png",
                "LIEBLINGSFILIALE": rng.choice(_BRANCHES),
            }
        )
    consent = []
    no_consent = customers[17]["KUNDENNUMMER"]
    objected = customers[42]["KUNDENNUMMER"]
    for row in customers:
        if row["KUNDENNUMMER"] == no_consent:
            continue
        when = at - dt.timedelta(days=rng.randint(30, 900), minutes=rng.randint(0, 1440))
        source = rng.choice(("WEBFORMULAR", "FILIALE", "WEBFORMULAR"))
        evidence = (
            f"Double-Opt-In bestätigt {when:%d.%m.%Y %H:%M}"
            if source == "WEBFORMULAR"
            else f"Einwilligungserklärung unterschrieben, Filiale {row['LIEBLINGSFILIALE']}"
        )
        consent.append(
            ConsentEvent(row["KUNDENNUMMER"], row["EMAIL"], "EINWILLIGUNG", when, source, evidence)
        )
    objecting = next(r for r in customers if r["KUNDENNUMMER"] == objected)
    consent.append(
        ConsentEvent(
            objected,
            objecting["EMAIL"],
            "WIDERSPRUCH",
            at - dt.timedelta(days=3),
            "FILIALE",
            "Widerspruch gegen Werbung, persönlich in der Filiale erklärt",
        )
    )
    return Institute(BLZ, tuple(customers), pictures, tuple(consent), objected, no_consent)


@attrs.frozen
class DemoResult:
    """What the demo did, in numbers (the files stay in ``directory`` when one was given)."""

    directory: Path
    customers: int
    delivered: int
    withheld: int
    recipients: int
    responses: int
    pending: int
    held_back: int
    files: dict[str, int]


class _Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


class _Printer:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.step = 0

    def title(self, text: str) -> None:
        self.step += 1
        self.out.write(f"\nStep {self.step}  {text}\n")

    def line(self, text: str = "", indent: int = 8) -> None:
        self.out.write(" " * indent + mask_addresses(text) + "\n")

    def report(self, report: RunReport, *, limit: int = 12) -> None:
        counts = report.counts
        shown = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
        self.line(f"{report.side.upper()} run: {shown or 'nothing to do'}")
        for outcome in report.files[:limit]:
            self.line(f"{outcome.outcome:<12} {outcome.name}", indent=10)
            if outcome.detail:
                self.line(f"└ {outcome.detail}", indent=12)
            for message in outcome.messages[:3]:
                self.line(f"  {message.describe()}", indent=12)
            if len(outcome.messages) > 3:
                self.line(f"  … and {len(outcome.messages) - 3} more messages", indent=12)
        if len(report.files) > limit:
            self.line(f"… and {len(report.files) - limit} more files", indent=10)


def _this_year(born: str) -> str:
    day, month = int(born[:2]), int(born[3:5])
    if (day, month) == (29, 2):
        day = 28  # 2026 is not a leap year
    return f"{day:02d}.{month:02d}.2026"


def _customer(row: dict[str, str]) -> str:
    return f"customer {int(row['KUNDENNUMMER']):010d} ({mask_addresses(row['EMAIL'])})"


def _simulate(
    mailing: Any, rng: random.Random, start: dt.datetime, ids: Iterator[int]
) -> tuple[list[ResponseEvent], Counter[str]]:
    """What the recipients of a mailing do: a send simulator with realistic rates."""
    events: list[ResponseEvent] = []
    counts: Counter[str] = Counter()

    def base(recipient: Any, minutes: int) -> dict[str, Any]:
        return {
            "event_id": EventId(f"S{next(ids):09d}"),
            "blz": mailing.blz,
            "order": mailing.order_number,
            "order_kind": mailing.order_kind,
            "mailing": mailing.mailing,
            "customer": recipient.customer,
            "email": recipient.email,
            "at": start + dt.timedelta(minutes=minutes),
        }

    for index, recipient in enumerate(mailing.recipients):
        roll = rng.random()
        minute = index // 50
        if roll < 0.006:
            events.append(
                HardBounce(
                    **base(recipient, minute), status="5.1.1", diagnostic="550 5.1.1 user unknown"
                )
            )
            counts["hard bounce"] += 1
            continue
        if roll < 0.016:
            events.append(
                SoftBounce(
                    **base(recipient, minute), status="4.2.2", diagnostic="452 4.2.2 mailbox full"
                )
            )
            counts["soft bounce"] += 1
            continue
        events.append(Sent(**base(recipient, minute)))
        counts["sent"] += 1
        if rng.random() < 0.42:
            later = minute + rng.randint(5, 2000)
            events.append(Opened(**base(recipient, later)))
            counts["opened"] += 1
            if rng.random() < 0.15:
                events.append(Clicked(**base(recipient, later + 1), link="L-ANGEBOT"))
                counts["clicked"] += 1
            if rng.random() < 0.012:
                source = rng.choice(("LINK", "LISTUNSUB", "LINK", "BESCHWERDE"))
                events.append(Unsubscribed(**base(recipient, later + 2), source=source))
                counts[f"unsubscribed ({source})"] += 1
    return events, counts


def run_demo(
    directory: str | os.PathLike[str] | None = None,
    *,
    out: TextIO | None = None,
    customers: int = 3000,
    seed: int = 2026,
) -> DemoResult:
    """Run the demo in *directory* (a temporary folder, removed afterwards, when ``None``);
    print each step to *out* (default: standard output)."""
    stream = out if out is not None else sys.stdout
    if directory is None:
        with tempfile.TemporaryDirectory(prefix="emma-osplus-demo-") as folder:
            return _run(Path(folder), stream, customers, seed, keep=False)
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    return _run(path, stream, customers, seed, keep=True)


def _run(folder: Path, out: TextIO, count: int, seed: int, *, keep: bool) -> DemoResult:
    started = time.monotonic()
    p = _Printer(out)
    clock = _Clock(dt.datetime(2026, 11, 20, 7, 0, tzinfo=dt.timezone.utc))
    rng = random.Random(seed + 1)
    institute = make_institute(count, seed, at=clock.now)
    settings = InstituteSettings(auto_unsubscribe=False, auto_hard_bounce=True)
    to_emma, to_osplus = folder / "to_emma", folder / "to_osplus"
    stores = [SQLiteStore(folder / "osplus-state.db"), SQLiteStore(folder / "emma-state.db")]
    osplus = OsplusProcessor(
        DirectoryTransport(to_osplus, to_emma), stores[0], clock=clock, settings=settings
    )
    emma = EmmaProcessor(
        DirectoryTransport(to_emma, to_osplus), stores[1], clock=clock, ids=counter_ids("ZH")
    )
    try:
        out.write(
            f"emma-osplus demo: {INSTITUTE_NAME} (BLZ {BLZ}), {count} synthetic customers "
            f"(seed {seed})\n"
        )
        where = str(folder) if keep else f"{folder} (temporary; use --dir to keep the files)"
        out.write(f"Folders: {where}\n")
        out.write(
            "  to_emma/    files OSPlus sends to EMMA (EMMA's inbox; archive/, quarantine/)\n"
        )
        out.write(
            "  to_osplus/  files EMMA sends to OSPlus (OSPlus's inbox; archive/, quarantine/)\n"
        )
        out.write("  osplus-state.db, emma-state.db  each side's state (SQLite)\n")
        rows = list(institute.customers)
        sample = rows[3]
        p.title("The institute")
        p.line(
            f"{count} customers, e.g. {sample['ANREDE']} {sample['VORNAME']} {sample['NACHNAME']}, {_customer(sample)}"
        )
        p.line(f"{len(_ADVISORS)} advisors with pictures: {', '.join(sorted(institute.pictures))}")
        p.line(
            f"consent with evidence for {sum(e.kind.value == 'EINWILLIGUNG' for e in institute.consent)} "
            f"customers; customer {int(institute.objected):010d} objected at the branch 3 days ago; "
            f"customer {int(institute.no_consent):010d} never consented"
        )

        p.title("OSPlus sends its consent records to EMMA (CONS: time, source, evidence)")
        name = osplus.export_consent(BLZ, institute.consent)
        p.line(f"→ {name}")

        clock.advance(minutes=10)
        p.title("OSPlus registers ReKu order R2026042 'Runde_Geburtstage' (MCAG002) and delivers")
        control = ControlFile(
            typ="vreku",
            blz=BLZ,
            nummer="R2026042",
            aktion="neu",
            bezeichnung="Runde_Geburtstage",
            rhythmus="monatlich",
            gueltig_ab=dt.date(2026, 12, 1),
            gueltig_bis=dt.date(2027, 12, 31),
            anlass="MCAG002",
            erstellt=clock.now,
        )
        p.line(f"control file (neu, monthly): → {osplus.send_control(control)}")
        clock.advance(minutes=5)
        birthday = [
            {**r, "ANLASS": "MCAG002", "ANLASS_DATUM": _this_year(r["GEBURTSDATUM"])}
            for r in rows
            if int(r["GEBURTSDATUM"][-4:]) % 10 == 6
        ]
        reku = osplus.deliver(
            DeliveryOrder(
                blz=BLZ,
                number="R2026042",
                kind="REKU",
                name="Runde_Geburtstage",
                occasion="MCAG002",
            ),
            birthday,
            pictures=institute.pictures,
        )
        p.line(f"{reku.delivered} customers with a round birthday: → {', '.join(reku.files)}")

        clock.advance(minutes=5)
        p.title("OSPlus delivers KMM order K2026001 'Herbst_Aktion_2026' with advisor pictures")
        special = {institute.objected, institute.no_consent}
        selection = [r for r in rows if r["KUNDENNUMMER"] in special or rng.random() < 0.85]
        kmm = osplus.deliver(
            DeliveryOrder(
                blz=BLZ,
                number="K2026001",
                kind="KMM",
                name="Herbst_Aktion_2026",
                created=clock.now - dt.timedelta(hours=20),
            ),
            selection,
            pictures=institute.pictures,
        )
        p.line(
            f"{kmm.delivered} customers; the subscriber list, {len(institute.pictures)} pictures, the manifest last:"
        )
        for file_name in kmm.files:
            p.line(f"→ {file_name}", indent=10)

        clock.advance(hours=1)
        p.title(
            "EMMA processes its inbox: verify, suppress, create and fill the lists, acknowledge"
        )
        report = emma.run_once()
        p.report(report)
        lists = emma.lists(BLZ)
        for list_name in lists:
            members = len(emma.list_members(BLZ, list_name))
            p.line(f"list {list_name}: {members} members ({lists[list_name].state})")
        withheld_rows = [(key, entry) for key, entry in emma.store.items(emma._ns("withheld", BLZ))]
        for key, entry in withheld_rows:
            if key.startswith("KMM/"):
                p.line(
                    f"withheld: customer {key.rsplit('/', 1)[1]} ({entry['email']}): {entry['reason']}"
                )

        clock.advance(minutes=30)
        p.title("OSPlus reads EMMA's acknowledgements (QUIT)")
        p.report(osplus.run_once())

        clock.advance(hours=2)
        p.title("EMMA sends the mailings (one more look at the ledger: the last line of defence)")
        autumn = emma.send_mailing(BLZ, "KMM", "K2026001", "M-HERBST-2026")
        birthdays = emma.send_mailing(BLZ, "REKU", "R2026042", "M-GEBURTSTAG-26")
        for mailing in (autumn, birthdays):
            reasons = Counter(w.reason for w in mailing.withheld)
            written = f"ZH → {', '.join(mailing.files)}" if mailing.files else "nothing to report"
            p.line(
                f"{mailing.order_kind} {mailing.order_number} mailing {mailing.mailing}: "
                f"{len(mailing.recipients)} recipients, {len(mailing.withheld)} withheld "
                f"({', '.join(f'{r} {n}' for r, n in sorted(reasons.items())) or 'none'}); {written}"
            )
            for event in mailing.withheld:
                p.line(f"ZH {event.reason}: customer {event.customer} ({event.email})", indent=10)

        clock.advance(hours=30)
        p.title("The recipients respond (send simulator); EMMA writes RESP and CONS files")
        ids = iter(range(1, 10**8))
        events, counts = _simulate(autumn, rng, clock.now - dt.timedelta(hours=29), ids)
        more, more_counts = _simulate(birthdays, rng, clock.now - dt.timedelta(hours=29), ids)
        events += more
        counts.update(more_counts)
        recorded = emma.record_responses(events)
        p.line(", ".join(f"{what} {n}" for what, n in sorted(counts.items())))
        p.line(
            f"{recorded.new} responses, {recorded.consent_changes} consent changes → {', '.join(recorded.files)}"
        )

        clock.advance(hours=1)
        p.title("OSPlus processes RESP and CONS: feedback processing")
        p.line("institute parameters: Aut. Verarb. H.-Bounces = on, Aut. Verarb. Abmeld. = OFF")
        p.report(osplus.run_once())
        clock.advance(days=2, hours=4)
        pending = osplus.pending_items(BLZ)
        state = osplus.feedback(BLZ)
        processed = sum(1 for i in state.items.values() if i.status.value == "processed")
        p.line(
            f"{processed} hard bounces processed automatically; {len(pending)} items wait for a person:"
        )
        for aged in pending[:8]:
            item = aged.item
            hours = aged.age.total_seconds() / 3600
            flag = "OVERDUE" if aged.overdue else "due"
            p.line(
                f"{item.kind.value:<11} customer {item.customer} ({mask_addresses(str(item.source.email))}) "
                f"{hours:.0f} h old, {flag}",
                indent=10,
            )
        if len(pending) > 8:
            p.line(f"… and {len(pending) - 8} more", indent=10)
        p.line(
            f"overdue (older than {state.settings.overdue_after.days} days): {len(state.overdue(clock.now))}"
        )

        p.title(
            "OSPlus selects the next campaign K2026002 'Winter_Aktion_2026': the selection guard"
        )
        winter_rows = [r for r in rows if rng.random() < 0.9]
        winter = osplus.deliver(
            DeliveryOrder(blz=BLZ, number="K2026002", kind="KMM", name="Winter_Aktion_2026"),
            winter_rows,
            pictures=institute.pictures,
        )
        p.line(
            f"{len(winter_rows)} selected, {winter.delivered} delivered, {len(winter.held_back)} held back:"
        )
        for held in winter.held_back[:6]:
            p.line(f"customer {held.customer}: {held.reason}", indent=10)
        if len(winter.held_back) > 6:
            p.line(f"… and {len(winter.held_back) - 6} more", indent=10)

        clock.advance(hours=1)
        p.title("EMMA processes the new delivery; OSPlus reads the acknowledgement")
        p.line("(EMMA would withhold the held-back addresses too: its ledger has the unsubscribes)")
        p.report(emma.run_once())
        p.report(osplus.run_once())

        files = {
            str(path.relative_to(folder).parent): 0
            for path in sorted(folder.rglob("*"))
            if path.is_file() and ".db" not in path.name
        }
        for path in folder.rglob("*"):
            if path.is_file() and ".db" not in path.name:
                files[str(path.relative_to(folder).parent)] += 1
        p.title("Summary")
        for place, number in sorted(files.items()):
            p.line(f"{place + '/':<24} {number} files")
        p.line(f"finished in {time.monotonic() - started:.1f} s")
        withheld = len(autumn.withheld) + len(birthdays.withheld)
        return DemoResult(
            directory=folder,
            customers=count,
            delivered=kmm.delivered + reku.delivered,
            withheld=withheld,
            recipients=len(autumn.recipients) + len(birthdays.recipients),
            responses=recorded.new,
            pending=len(pending),
            held_back=len(winter.held_back),
            files=files,
        )
    finally:
        for store in stores:
            store.close()
