"""The processor: both sides of the interface, exactly once, over any transport and store.

:class:`EmmaProcessor` runs on the EMMA side.  It consumes control files (``VREKU``,
``VIAM``), deliveries (a ``LIEF`` manifest with its subscriber list and pictures) and consent
files (``CONS``, consent with its evidence imported from OSPlus); it applies the order and list
machines and suppression (the consent ledger), and it acknowledges every processed file with a
``QUIT``; a delivery whose manifest still lists a missing file ``missing_file_after`` (6 hours)
after it was first seen is refused (``E103``).  Response events reach it through
:meth:`EmmaProcessor.record_responses` (from the mail engine, or a send simulator) and leave as
``RESP`` files (sequence number per institute, +1 per file; trailer) and as ``CONS`` files with
the consent changes they imply, among them the hard bounce of every address whose soft bounces
reach the ``soft_bounce_policy``.

:class:`OsplusProcessor` runs on the OSPlus side.  It consumes ``RESP``, ``QUIT`` and ``CONS``
files, applies the feedback processing (institute settings, pending items) and guards every new
selection before it is delivered (:meth:`OsplusProcessor.deliver` writes the subscriber list,
the pictures and, **last**, the manifest); :meth:`OsplusProcessor.send_control` writes control
files.

**Exactly once.**  The processors are pure orchestration over an injected
:class:`~emma_osplus.Transport`, :class:`~emma_osplus.Store`, clock and id generator.  Each
input file is handled in **one store transaction** that records every effect, the file's
SHA-256, the output files to publish (names and bytes, fixed from the injected clock and
ids and from counters kept in the store) and the moves of the inputs to the archive or to
quarantine.  After the commit the outputs are published (idempotent: the same names and
bytes) and only then are the inputs moved.  Every run starts by finishing what a crashed run
left pending.  So a crash at any point loses nothing and duplicates nothing; a file already
processed (the same SHA-256) has no second effect; a ``RESP`` file after a gap in the sequence
numbers is held (``E109``) until the gap is filled or released
(:meth:`OsplusProcessor.release_gap`).  Bad files go to quarantine with a ``QUIT`` whose status
is ``fehler``, and the run goes on with the next file.

>>> import datetime as dt
>>> from emma_osplus import MemoryStore, MemoryTransport
>>> from emma_osplus._consent import ConsentPolicy
>>> clock = lambda: dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.timezone.utc)
>>> osplus_side, emma_side = MemoryTransport.pair()
>>> osplus = OsplusProcessor(osplus_side, MemoryStore(), clock=clock)
>>> emma = EmmaProcessor(emma_side, MemoryStore(), clock=clock,
...                      consent_policy=ConsentPolicy(require_consent=False))
>>> order = DeliveryOrder(blz="37050198", number="K2026001", kind="KMM", name="Herbst_Aktion_2026")
>>> osplus.deliver(order, [{"KUNDENNUMMER": "4711", "EMAIL": "anna@example.de"}]).files
('37050198_KMM_K2026001_20261122093000_0001.csv', '37050198_LIEF_K2026001_20261122093000_0001.xml')
>>> report = emma.run_once()
>>> print(report.describe())
emma: 1 processed, 0 quarantined, 0 waiting, 0 held, 0 duplicate, 0 failed
  processed    37050198_LIEF_K2026001_20261122093000_0001.xml  KMM K2026001 Herbst_Aktion_2026: 1 row, 1 on the list (created), 0 withheld; QUIT ok
published: 37050198_QUIT_K2026001_20261122093000_0001.xml
>>> print(osplus.run_once().files[0].detail)
QUIT for 37050198_KMM_K2026001_20261122093000_0001.csv: ok (1 of 1 taken over)
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, cast

import attrs
import cattrs

from ._acks import AckResult, acknowledge
from ._cons import ConsentChange, read_cons, write_cons
from ._consent import (
    EVIDENCE_MAX,
    ConsentEvent,
    ConsentKind,
    ConsentLedger,
    ConsentPolicy,
    ConsentSource,
    consent_event_from_response,
    event_from_change,
)
from ._control import ControlFile, read_control, write_control
from ._email import EmailAddress
from ._errors import FileNameError, InvalidValueError, MessageError, ProcessError, TransportError
from ._events import (
    Bounce,
    Clicked,
    HardBounce,
    Opened,
    ResponseEvent,
    SoftBounce,
    Unsubscribed,
    Withheld,
    event_from_values,
)
from ._feedback import (
    AgedItem,
    FeedbackState,
    HeldBack,
    InstituteSettings,
    ItemStatus,
    PendingItem,
    check_selection,
)
from ._filenames import FileName, check_safe_name, parse_file_name
from ._lists import (
    LIST_LIMIT,
    ListChange,
    ListEvent,
    ListRegistry,
    Member,
    SubscriberList,
    UpdateMarker,
)
from ._machine import TransitionRefused
from ._manifest import Manifest, ManifestFile, ManifestOptions, read_manifest, write_manifest
from ._messages import Message, mask_addresses
from ._orders import (
    ControlFileFailed,
    ControlFileReceived,
    DataDelivered,
    DeliveryFailed,
    DeliveryVerified,
    KmmOrder,
    ListCreated,
    ListUpdated,
    MailingLinked,
    MailingSent,
    ManifestAnnounced,
    Order,
    OrderBook,
    OrderEvent,
    OrderStep,
    Outcome,
    ParkedReleased,
    RekuOrder,
)
from ._quit import Acknowledgement, read_acknowledgement, write_acknowledgement
from ._records import Mode, Notice, Record, Rejected
from ._resp import RespHeader, check_sequence, iter_resp, read_resp
from ._responses import (
    DEFAULT_SOFT_BOUNCE_POLICY,
    RECIPIENT,
    Escalation,
    SoftBouncePolicy,
    fold_values,
)
from ._store import Store
from ._subscribers import read_subscriber_list, write_subscriber_list
from ._suppression import ToSend, WithheldRow, read_row, screen
from ._transport import Transport
from ._types import Blz, CustomerNumber, EventId, MailingId, OccasionCode, OrderName, OrderNumber
from ._verify import verify_delivery
from ._xml import OccasionResolver

__all__ = [
    "DEFAULT_MISSING_FILE_AFTER",
    "Clock",
    "DeliveryOrder",
    "DeliveryResult",
    "EmmaProcessor",
    "FileOutcome",
    "IdGenerator",
    "MailingSend",
    "OsplusProcessor",
    "Progress",
    "Recipient",
    "RecordResult",
    "RunReport",
    "counter_ids",
    "system_clock",
]

_UTC = dt.timezone.utc

#: The injected clock: returns the current time (timezone-aware).
Clock = Callable[[], dt.datetime]
#: The injected id generator: the text of the *n*-th id (``n`` counts from 1 and is kept in the
#: store, so ids never repeat across runs and a re-run after a crash draws the same ids).
IdGenerator = Callable[[int], str]
#: Progress of reading one large input file: ``(name, bytes done, bytes in all)``.
Progress = Callable[[str, int, int], None]

#: How long a delivery waits for a file its manifest lists, from the moment the processor first
#: saw the manifest, before it is refused with ``E103`` (:class:`EmmaProcessor`'s
#: ``missing_file_after``).
DEFAULT_MISSING_FILE_AFTER = dt.timedelta(hours=6)

#: What the processor reads at once from a transport.
_CHUNK = 1 << 20
#: A name that starts like an interface file (an institute) but does not follow the grammar:
#: quarantined with E108.  Other names (advisor pictures) wait for a manifest to claim them.
_INTERFACE_LIKE = re.compile(r"[1-8][0-9]{7}_")


def system_clock() -> dt.datetime:
    """The current time in UTC (the default clock)."""
    return dt.datetime.now(_UTC)


def counter_ids(prefix: str = "EO") -> IdGenerator:
    """An id generator: *prefix* and the counter, 12 digits (``EO000000000001`` …).

    >>> counter_ids("ZH")(42)
    'ZH000000000042'
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]{0,13}", prefix):
        raise ValueError(f"an id prefix is at most 13 of [A-Za-z0-9_-], not {prefix!r}")

    def generate(number: int) -> str:
        return f"{prefix}{number:012d}"

    return generate


# -- persistence of machine states -----------------------------------------------------------

_converter = cattrs.Converter()
_converter.register_unstructure_hook(dt.datetime, lambda value: value.isoformat())
_converter.register_structure_hook(dt.datetime, lambda value, _: dt.datetime.fromisoformat(value))
_converter.register_unstructure_hook(dt.date, lambda value: value.isoformat())
_converter.register_structure_hook(dt.date, lambda value, _: dt.date.fromisoformat(value))
for _text_type in (OrderNumber, MailingId):
    _converter.register_unstructure_hook(_text_type, str)
    _converter.register_structure_hook(_text_type, lambda value, cls: cls(value))
_converter.register_unstructure_hook(
    Message,
    lambda m: {
        "code": m.code,
        "line": m.line,
        "field": m.field,
        "raw": m.raw,
        "text": m.text,
        "detail": m.detail,
    },
)
_converter.register_structure_hook(Message, lambda value, _: Message(**value))


def _dump_order(order: Order) -> dict[str, Any]:
    data: dict[str, Any] = _converter.unstructure(order)
    data["type"] = "kmm" if isinstance(order, KmmOrder) else "reku"
    return data


def _load_order(data: Mapping[str, Any]) -> Order:
    values = {k: v for k, v in data.items() if k != "type"}
    if data["type"] == "kmm":
        return _converter.structure(values, KmmOrder)
    return _converter.structure(values, RekuOrder)


def _consent_row(event: ConsentEvent) -> dict[str, str]:
    change = ConsentChange(
        event.customer, event.email, event.kind, event.at, event.source, event.evidence
    )
    return change.to_row()


def _row_digest(row: Mapping[str, str]) -> str:
    text = "\x1f".join(row[c] for c in ("KUNDENNUMMER", "EMAIL", "STATUS", "ZEITPUNKT"))
    text += "\x1f" + row["QUELLE"] + "\x1f" + row["NACHWEIS"]
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_iso(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _item_to_json(item: PendingItem) -> dict[str, Any]:
    source: dict[str, Any]
    if isinstance(item.source, ResponseEvent):
        source = {"resp": item.source.to_values()}
    else:
        source = {"cons": _consent_row(item.source)}
    return {
        "id": item.id,
        "customer": str(item.customer),
        "address_key": item.address_key,
        "kind": item.kind.value,
        "received_at": item.received_at.isoformat(),
        "status": item.status.value,
        "done_by": item.done_by,
        "done_at": _iso(item.done_at),
        "source": source,
    }


def _item_from_json(data: Mapping[str, Any], blz: str) -> PendingItem:
    source_data = data["source"]
    source: ResponseEvent | ConsentEvent
    if "resp" in source_data:
        source = event_from_values(source_data["resp"], blz=Blz(blz))
    else:
        source = event_from_change(source_data["cons"])
    received = _parse_iso(data["received_at"])
    assert received is not None
    return PendingItem(
        id=data["id"],
        customer=CustomerNumber(data["customer"]),
        address_key=data["address_key"],
        kind=ConsentKind(data["kind"]),
        received_at=received,
        source=source,
        status=ItemStatus(data["status"]),
        done_by=data["done_by"],
        done_at=_parse_iso(data["done_at"]),
    )


# -- reports ---------------------------------------------------------------------------------

#: The outcomes of one input file in a run.
OUTCOMES: tuple[str, ...] = ("processed", "quarantined", "waiting", "held", "duplicate", "failed")


def _message_json(message: Message) -> dict[str, Any]:
    return {
        "code": message.code,
        "level": message.severity.value,
        "line": message.line,
        "field": message.field,
        "message": mask_addresses(
            message.text + (f" ({message.detail})" if message.detail else "")
        ),
    }


@attrs.frozen
class FileOutcome:
    """What a run did with one input file.

    ``outcome`` is ``processed`` (its effects are stored and it was archived), ``quarantined``
    (refused, with a ``QUIT`` of status ``fehler`` where there is an institute to send it to),
    ``waiting`` (left in the inbox: a delivery whose manifest or files are not all there yet,
    or a picture no manifest claims), ``held`` (a ``RESP`` file after a sequence gap, E109),
    ``duplicate`` (the same bytes were processed before: archived without a second effect) or
    ``failed`` (the transport or the store failed; the file stays where it is and the next run
    tries again).  ``outputs`` are the files this input produced (e.g. its ``QUIT``).
    """

    name: str
    outcome: str = attrs.field(validator=attrs.validators.in_(OUTCOMES))
    kind: str | None = None
    detail: str = ""
    messages: tuple[Message, ...] = ()
    outputs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The outcome as JSON-compatible data (addresses masked)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "outcome": self.outcome,
            "detail": mask_addresses(self.detail),
            "messages": [_message_json(m) for m in self.messages],
            "outputs": list(self.outputs),
        }


@attrs.frozen
class RunReport:
    """The outcome of one :meth:`~EmmaProcessor.run_once`: every input file's
    :class:`FileOutcome` in processing order and every file published (including outputs a
    crashed run left pending)."""

    side: str
    files: tuple[FileOutcome, ...] = ()
    published: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """Files per outcome (every outcome, zeros included)."""
        found = Counter(f.outcome for f in self.files)
        return {outcome: found[outcome] for outcome in OUTCOMES}

    def by_outcome(self, outcome: str) -> tuple[FileOutcome, ...]:
        """The files with that outcome."""
        return tuple(f for f in self.files if f.outcome == outcome)

    @property
    def ok(self) -> bool:
        """True when nothing was quarantined and nothing failed."""
        return not any(f.outcome in ("quarantined", "failed") for f in self.files)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-compatible data (addresses masked)."""
        return {
            "side": self.side,
            "counts": self.counts,
            "files": [f.to_json() for f in self.files],
            "published": list(self.published),
        }

    def describe(self, *, messages: bool = True, limit: int = 20) -> str:
        """A readable report: the counts, one line per file, its messages indented (at most
        *limit* per file; :meth:`to_json` has them all)."""
        counts = self.counts
        head = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES)
        lines = [f"{self.side}: {head}"]
        for f in self.files:
            lines.append(f"  {f.outcome:<12} {_shown(f.name)}  {mask_addresses(f.detail)}".rstrip())
            if messages:
                lines.extend(f"      {m.describe()}" for m in f.messages[:limit])
                if len(f.messages) > limit:
                    lines.append(f"      … and {len(f.messages) - limit} more messages")
        if self.published:
            lines.append("published: " + ", ".join(self.published))
        return "\n".join(lines)


class _Reject(Exception):
    """Raised inside a file's transaction to roll it back and quarantine the file."""

    def __init__(
        self,
        messages: Iterable[Message],
        *,
        datei: str | None = None,
        sha256: str | None = None,
        saetze: int = 0,
        persist: Callable[[], None] | None = None,
        detail: str = "",
    ) -> None:
        self.messages = tuple(messages)
        self.datei = datei
        self.sha256 = sha256
        self.saetze = saetze
        self.persist = persist
        self.detail = detail
        super().__init__(detail or ", ".join(m.code for m in self.messages))


def _refusal_message(refused: TransitionRefused, fallback: str, detail: str) -> Message:
    if refused.message is not None:
        return refused.message
    return Message(fallback, field="order_number", detail=f"{detail}: {refused.reason}")


def _duration(value: dt.timedelta) -> str:
    """A duration for people: ``6 h``, ``6.5 h``, ``90 days``.

    >>> _duration(dt.timedelta(hours=6)), _duration(dt.timedelta(minutes=390)), _duration(dt.timedelta(days=90))
    ('6 h', '6.5 h', '90 days')
    """
    if value >= dt.timedelta(days=2) and value % dt.timedelta(days=1) == dt.timedelta(0):
        return f"{value.days} days"
    return f"{value.total_seconds() / 3600:.4g} h"


def _tage(value: dt.timedelta) -> str:
    """A duration in the German of the ``CONS`` evidence: ``90 Tage``, ``1 Tag``, ``36 Std.``."""
    if value % dt.timedelta(days=1) == dt.timedelta(0):
        return f"{value.days} Tag" if value.days == 1 else f"{value.days} Tage"
    return f"{value.total_seconds() / 3600:.4g} Std."


def _escalation_evidence(blz: str, escalation: Escalation, policy: SoftBouncePolicy) -> str:
    """The evidence of a hard bounce that soft bounces escalated to: the policy, the run of
    bounces (dates, last status code) and their event ids, within the 500 characters of
    ``NACHWEIS``; ids that do not fit are counted (``… und 3 weitere``), never cut.

    >>> import datetime as dt
    >>> from emma_osplus import Blz, CustomerNumber, EventId, MailingId, OrderNumber
    >>> from emma_osplus._email import EmailAddress
    >>> def sb(n):
    ...     return SoftBounce(event_id=EventId(f"ev{n}"), blz=Blz("37050198"),
    ...         order=OrderNumber("K1"), order_kind="KMM", mailing=MailingId(f"M{n}"),
    ...         customer=CustomerNumber(4711), email=EmailAddress("anna@example.de"),
    ...         at=dt.datetime(2026, 10, 1 + 4 * n, tzinfo=dt.timezone.utc), status="4.2.2",
    ...         diagnostic="452 4.2.2 Mailbox full")
    >>> bounces = tuple(sb(n) for n in range(5))
    >>> escalation = Escalation("anna@example.de", bounces[-1].at, bounces)
    >>> print(_escalation_evidence("37050198", escalation, DEFAULT_SOFT_BOUNCE_POLICY))
    EMMA SB-Eskalation: 5 Softbounces 2026-10-01..2026-10-17, zuletzt 4.2.2; Regel: 5 in 90 Tage, mind. 15 Tage, Reset bei Öffnen/Klick; BLZ 37050198; Ereignisse ev0, ev1, ev2, ev3, ev4
    """
    bounces = escalation.bounces
    first, last = bounces[0], bounces[-1]
    rule = (
        f"Regel: {policy.threshold} in {_tage(policy.window)}, mind. {_tage(policy.min_span)}"
        + (", Reset bei Öffnen/Klick" if policy.reset_on_engagement else "")
    )
    head = (
        f"EMMA SB-Eskalation: {len(bounces)} Softbounces "
        f"{first.at:%Y-%m-%d}..{last.at:%Y-%m-%d}, zuletzt {last.status}; {rule}; "
        f"BLZ {blz}; Ereignisse "
    )
    ids = [str(b.event_id) for b in bounces]
    text = head + ", ".join(ids)
    shown = len(ids)
    while len(text) > EVIDENCE_MAX and shown > 1:
        shown -= 1
        text = head + ", ".join(ids[:shown]) + f" … und {len(ids) - shown} weitere"
    return text


@attrs.frozen
class _Overdue:
    """A delivery whose manifest lists files that did not arrive in time (E103)."""

    manifest: Manifest
    missing: tuple[ManifestFile, ...]
    first_seen: dt.datetime
    elapsed: dt.timedelta
    messages: tuple[Message, ...]


@attrs.frozen
class _Unit:
    """One input to handle: its main file, the kind, the parsed name, and every file that
    moves with it (a delivery's subscriber list and pictures)."""

    name: str
    kind: str
    fname: FileName | None
    files: tuple[str, ...]
    handler: Callable[[_Unit, str, int, dt.datetime], FileOutcome]
    extra: Any = None
    bad: Message | None = None


class _Processor:
    """What both sides share: transactions, outputs, moves, QUITs, the consent ledger."""

    SIDE: ClassVar[str] = ""

    def __init__(
        self,
        transport: Transport,
        store: Store,
        *,
        clock: Clock = system_clock,
        ids: IdGenerator | None = None,
        registry: Any = None,
        progress: Progress | None = None,
        progress_threshold: int = _CHUNK,
    ) -> None:
        self.transport = transport
        self.store = store
        self.clock = clock
        self.ids = ids or counter_ids("EO" if self.SIDE == "emma" else "OS")
        self.registry = registry
        self.progress = progress
        self.progress_threshold = progress_threshold
        self._published: list[str] = []

    # -- names, time, counters ------------------------------------------------------------

    def _ns(self, name: str, blz: str | None = None) -> str:
        return f"{self.SIDE}.{name}" if blz is None else f"{self.SIDE}.{name}.{blz}"

    @property
    def _occasions(self) -> OccasionResolver | None:
        if self.registry is None:
            return None
        resolver: OccasionResolver = self.registry.canonical
        return resolver

    def _now(self) -> dt.datetime:
        now = self.clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"the clock must return an aware datetime, not {now!r}")
        return now.astimezone(_UTC).replace(microsecond=0)

    def _count(self, key: str) -> int:
        ns = self._ns("counters")
        value = int(self.store.get(ns, key, 0)) + 1
        self.store.put(ns, key, value)
        return value

    def _next_id(self) -> str:
        return self.ids(self._count("ids"))

    def _file_name(self, blz: str, kind: str, ref: str, now: dt.datetime) -> tuple[str, int]:
        number = self._count(f"seq/{blz}/{kind}")
        return str(FileName(blz, kind, ref, now, number % 10000)), number

    # -- outputs and moves ----------------------------------------------------------------

    def _queue(self, name: str, data: bytes | Iterable[bytes]) -> str:
        content = data if isinstance(data, bytes) else b"".join(data)
        key = f"{self._count('outbox'):012d}"
        self.store.put(
            self._ns("outbox"),
            key,
            {"name": name, "data": base64.b64encode(content).decode("ascii")},
        )
        return name

    def _queue_move(self, name: str, to: str, sha: str | None = None) -> None:
        """Move *name* to the archive or quarantine once the transaction is stored; *sha*, the
        digest it was processed with, lets a later recovery tell it from a file of the same
        name delivered since."""
        self.store.put(self._ns("moves"), name, to if sha is None else {"to": to, "sha256": sha})

    def recover(self, *, check: bool = True) -> list[str]:
        """Publish the outputs and make the moves still pending (a crashed run's, or this
        run's); returns the names published.  Every run does this first.

        With *check*, a file that was processed under its digest is moved only while it
        still has that digest: a file the partner delivered again under the same name after
        a crash (before the move) stays in the inbox and is processed as the new file it is.
        """
        published = []
        pending = list(self.store.items(self._ns("outbox")))
        for _, entry in pending:
            self.transport.publish(entry["name"], base64.b64decode(entry["data"]))
            published.append(entry["name"])
        if pending:
            with self.store.transaction():
                for key, _ in pending:
                    self.store.delete(self._ns("outbox"), key)
        moves = list(self.store.items(self._ns("moves")))
        if moves:
            waiting = set(self.transport.waiting())
            for name, stored in moves:
                if name not in waiting:
                    continue
                # a plain string is a move stored by an earlier version: no digest
                entry = {"to": stored, "sha256": None} if isinstance(stored, str) else stored
                if check and entry["sha256"] not in (None, self._measure(name)[0]):
                    continue  # replaced since it was processed: not this move's file
                if entry["to"] == "quarantine":
                    self.transport.quarantine(name)
                else:
                    self.transport.archive(name)
            with self.store.transaction():
                for name, _ in moves:
                    self.store.delete(self._ns("moves"), name)
        self._published.extend(published)
        return published

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with self.store.transaction():
            yield
        self.recover(check=False)

    # -- reading inputs -------------------------------------------------------------------

    def _measure(self, name: str) -> tuple[str, int]:
        sha = hashlib.sha256()
        size = 0
        with self.transport.open(name) as stream:
            while chunk := stream.read(_CHUNK):
                sha.update(chunk)
                size += len(chunk)
        return sha.hexdigest(), size

    def _stream(self, name: str, total: int) -> Iterator[bytes]:
        show = self.progress if total >= self.progress_threshold else None
        done = 0
        with self.transport.open(name) as stream:
            while chunk := stream.read(_CHUNK):
                done += len(chunk)
                if show is not None:
                    show(name, done, total)
                yield chunk

    # -- acknowledgements -----------------------------------------------------------------

    def _quit(self, blz: str, ref: str, result: AckResult, now: dt.datetime) -> str:
        ack = Acknowledgement.from_messages(
            blz,
            result.file_name,
            result.sha256 or "0" * 64,
            saetze=result.saetze,
            uebernommen=result.uebernommen,
            abgelehnt=result.abgelehnt,
            messages=result.messages,
        )
        name, _ = self._file_name(blz, "QUIT", ref, now)
        return self._queue(name, write_acknowledgement(ack))

    def _mark(self, sha: str, name: str, outcome: str, now: dt.datetime) -> None:
        self.store.put(
            self._ns("processed"), sha, {"name": name, "outcome": outcome, "at": now.isoformat()}
        )

    # -- the consent ledger in the store --------------------------------------------------

    def _add_consent(self, blz: str, event: ConsentEvent) -> bool:
        """Record *event* in the institute's ledger; False when it was there already."""
        row = _consent_row(event)
        digest = _row_digest(row)
        log = self._ns("consent", blz)
        if self.store.get(log, digest) is not None:
            return False
        self.store.put(log, digest, row)
        for index, key in (
            ("consent_c", str(event.customer)),
            ("consent_a", event.address_key),
        ):
            ns = self._ns(index, blz)
            rows = self.store.get(ns, key, [])
            rows.append(row)
            self.store.put(ns, key, rows)
        return True

    def _ledger_for(
        self, blz: str, customers: Iterable[str], address_keys: Iterable[str]
    ) -> ConsentLedger:
        """The part of the institute's ledger that concerns these customers and addresses
        (every event of each customer under any address, every event on each address under
        any customer): what :meth:`ConsentLedger.may_send` needs for them."""
        rows: dict[str, Mapping[str, str]] = {}
        for index, keys in (("consent_c", customers), ("consent_a", address_keys)):
            ns = self._ns(index, blz)
            for key in dict.fromkeys(keys):
                for row in self.store.get(ns, key, []):
                    rows.setdefault(_row_digest(row), row)
        return ConsentLedger(event_from_change(row) for row in rows.values())

    def consent_history(self, blz: str, customer: str | int) -> tuple[ConsentEvent, ...]:
        """Every consent event recorded for *customer* of institute *blz*, in canonical
        order: who, when, from where, with what evidence."""
        number = str(CustomerNumber(customer))
        ledger = ConsentLedger(
            event_from_change(row) for row in self.store.get(self._ns("consent_c", blz), number, [])
        )
        return ledger.history(number)

    def _on_consent(self, blz: str, event: ConsentEvent, now: dt.datetime) -> bool:
        """A consent event from a ``CONS`` file: recorded in the ledger (True when new)."""
        return self._add_consent(blz, event)

    # -- the run --------------------------------------------------------------------------

    def run_once(self) -> RunReport:
        """One pass over the inbox: finish what a crashed run left pending, then handle
        every waiting file once.  Returns the :class:`RunReport`."""
        self._published = []
        self.recover()
        outcomes: list[FileOutcome] = []
        names = []
        for name in self.transport.waiting():
            try:
                names.append(check_safe_name(name))
            except FileNameError as exc:  # no transport opens or moves it: say so every run
                outcomes.append(_unsafe(name, exc.message))
        units, waiting = self._plan(names)
        outcomes.extend(waiting)
        for unit in units:
            outcomes.append(self._handle(unit))
        return RunReport(self.SIDE, tuple(outcomes), tuple(self._published))

    def _plan(self, names: Sequence[str]) -> tuple[list[_Unit], list[FileOutcome]]:
        raise NotImplementedError

    def _moves_for(self, unit: _Unit) -> tuple[str, ...]:
        """The files that move when *unit* is done (all of them by default)."""
        return unit.files

    def _handle(self, unit: _Unit) -> FileOutcome:
        now = self._now()
        moving = self._moves_for(unit)
        try:
            sha, size = self._measure(unit.name)
            done = self.store.get(self._ns("processed"), sha)
            if done is not None:
                with self._transaction():
                    for name in moving:
                        self._queue_move(name, "archive")
                return FileOutcome(
                    unit.name,
                    "duplicate",
                    unit.kind,
                    f"the same bytes were {done['outcome']} as {done['name']} at {done['at']}",
                )
            try:
                with self.store.transaction():
                    if unit.bad is not None:
                        raise _Reject([unit.bad], datei=unit.name, sha256=sha)
                    outcome = unit.handler(unit, sha, size, now)
                    self._mark(sha, unit.name, "processed", now)
                    for name in moving:
                        self._queue_move(name, "archive", sha if name == unit.name else None)
                self.recover(check=False)
                return outcome
            except _Reject as rejected:
                with self._transaction():
                    outputs = self._reject(unit, moving, sha, rejected, now)
                return FileOutcome(
                    unit.name,
                    "quarantined",
                    unit.kind,
                    rejected.detail or "refused",
                    rejected.messages,
                    outputs,
                )
        except TransportError as exc:
            return FileOutcome(unit.name, "failed", unit.kind, str(exc))

    def _reject(
        self, unit: _Unit, moving: Sequence[str], sha: str, rejected: _Reject, now: dt.datetime
    ) -> tuple[str, ...]:
        if rejected.persist is not None:
            rejected.persist()
        outputs: tuple[str, ...] = ()
        blz = str(unit.fname.blz) if unit.fname is not None else None
        if blz is None and _INTERFACE_LIKE.match(unit.name):
            blz = unit.name[:8]
        if blz is not None and unit.kind != "QUIT":
            ref = unit.fname.ref if unit.fname is not None else "0"
            result = acknowledge(
                rejected.datei or unit.name,
                rejected.sha256 or sha,
                rejected.messages,
                blz=blz,
                saetze=rejected.saetze,
                abgelehnt=rejected.saetze,
            )
            outputs = (self._quit(blz, ref, result, now),)
        self._mark(sha, unit.name, "quarantined", now)
        for name in moving:
            self._queue_move(name, "quarantine", sha if name == unit.name else None)
        return outputs

    # -- handlers both sides share --------------------------------------------------------

    def _wrong_direction(self, name: str, fname: FileName) -> _Unit:
        message = Message(
            "E108",
            raw=name,
            detail=f"a {fname.kind} file does not go to the {self.SIDE.upper()} side",
        )
        return _Unit(name, fname.kind, fname, (name,), self._handle_cons, bad=message)

    def _bad_name(self, name: str, error: FileNameError) -> _Unit:
        return _Unit(name, "?", None, (name,), self._handle_cons, bad=error.message)

    def _handle_cons(self, unit: _Unit, sha: str, size: int, now: dt.datetime) -> FileOutcome:
        assert unit.fname is not None
        blz = str(unit.fname.blz)
        messages: list[Message] = []
        problems: list[Message] = []
        rows = rejected = new = 0
        for item in read_cons(self._stream(unit.name, size), mode=Mode.LENIENT):
            if isinstance(item, Notice):
                (problems if item.message.is_error else messages).append(item.message)
                continue
            rows += 1
            if isinstance(item, Rejected):
                rejected += 1
                messages.extend(item.messages)
                continue
            messages.extend(item.messages)
            try:
                event = event_from_change(item)
            except InvalidValueError as exc:
                rejected += 1
                messages.append(attrs.evolve(exc.message, line=item.line))
                continue
            if self._on_consent(blz, event, now):
                new += 1
        if problems:
            raise _Reject(problems, saetze=rows, detail=f"CONS: {problems[0].describe()}")
        result = acknowledge(unit.name, sha, messages, blz=blz, saetze=rows, abgelehnt=rejected)
        quit_name = self._quit(blz, "0", result, now)
        detail = (
            f"CONS: {rows} row{'s' if rows != 1 else ''}, {new} new, "
            f"{rows - rejected - new} known, {rejected} rejected; QUIT {result.status.value}"
        )
        return FileOutcome(unit.name, "processed", "CONS", detail, tuple(messages), (quit_name,))

    def _handle_quit(self, unit: _Unit, sha: str, size: int, now: dt.datetime) -> FileOutcome:
        result = read_acknowledgement(self.transport.read(unit.name), mode=Mode.LENIENT)
        ack = result.value
        if ack is None or not result.ok:
            raise _Reject(result.messages, detail="QUIT could not be read")
        self.store.put(
            self._ns("acks"),
            ack.datei,
            {
                "quit": unit.name,
                "status": ack.status,
                "sha256": ack.sha256,
                "saetze": ack.saetze,
                "uebernommen": ack.uebernommen,
                "abgelehnt": ack.abgelehnt,
                "codes": [m.code for m in ack.messages],
                "at": now.isoformat(),
            },
        )
        self._on_ack(ack)
        detail = (
            f"QUIT for {ack.datei}: {ack.status} ({ack.uebernommen} of {ack.saetze} taken over)"
        )
        return FileOutcome(unit.name, "processed", "QUIT", detail, ack.messages)

    def _on_ack(self, ack: Acknowledgement) -> None:
        """Hook: an acknowledgement from the other side was recorded."""

    def acknowledgement(self, datei: str) -> Mapping[str, Any] | None:
        """What the other side acknowledged for the file *datei* we sent (status, counts,
        message codes), or ``None`` when no ``QUIT`` for it arrived yet."""
        value: Mapping[str, Any] | None = self.store.get(self._ns("acks"), datei)
        return value


# -- the EMMA side -----------------------------------------------------------------------------


@attrs.frozen(repr=False)
class Recipient:
    """A list member a mailing goes to: customer, address and the row's values."""

    customer: CustomerNumber
    email: EmailAddress
    values: Mapping[str, str]

    def __repr__(self) -> str:
        return f"Recipient(customer={self.customer.value!r}, email={mask_addresses(str(self.email))!r})"


@attrs.frozen
class MailingSend:
    """What :meth:`EmmaProcessor.send_mailing` decided: the recipients to send to and the
    ``ZH`` events of the rows withheld (already turned into a ``RESP`` file)."""

    blz: Blz
    order_kind: str
    order_number: OrderNumber
    mailing: MailingId
    list_name: str
    recipients: tuple[Recipient, ...]
    withheld: tuple[Withheld, ...]
    files: tuple[str, ...] = ()


@attrs.frozen
class RecordResult:
    """What :meth:`EmmaProcessor.record_responses` did: the files written (``RESP`` and
    ``CONS`` per institute), the events new and already known (by event id), the consent
    changes exported, and how many addresses these events escalated to a hard bounce by the
    soft-bounce policy (their ``HARTBOUNCE`` events are among the consent changes)."""

    files: tuple[str, ...]
    new: int
    duplicates: int
    consent_changes: int
    escalations: int = 0
    #: Events under an id already known with other content (FORMATS.md: the id is unique per
    #: event): not written again, but their consent changes are exported.
    conflicts: int = 0


def _known_at(ledger: ConsentLedger, now: dt.datetime) -> dt.datetime:
    """The moment a send is decided at: *now*, or the time of the latest event already
    received if that is later.  The two systems' clocks drift; an unsubscribe received before
    the send must count even when its own time is a few minutes ahead of ours (the latest
    event by its own time still decides, among everything received)."""
    return max([now, *(event.at for event in ledger)])


def _shown(name: str) -> str:
    """*name* for a report: quoted and escaped when it has control characters or white space
    at its ends (a hostile name must not drive the terminal, a space must be seen)."""
    return name if name.isprintable() and name == name.strip() else repr(name)


def _unsafe(name: str, message: Message) -> FileOutcome:
    """The outcome of a waiting file whose name no transport may open or move (E108): it
    stays where it is, reported in every run until someone renames or removes it."""
    detail = f"unsafe name, left in the inbox for a person to rename or remove: {message.detail}"
    return FileOutcome(name, "failed", None, detail, (message,))


def _resp_values(event: ResponseEvent) -> dict[str, str]:
    """The detail values an event is written to ``RESP`` with (a bounce's diagnostic cut to
    the field's width), and stored under its id."""
    if isinstance(event, Bounce):
        event = event.with_truncated_diagnostic()
    return event.to_values()


@attrs.frozen
class _Delivery:
    """A verified delivery on its way to the order and list machines."""

    unit: _Unit
    manifest: Manifest
    records: list[Record]
    rejected: int
    messages: list[Message]
    now: dt.datetime
    blz: str
    label: str


class _ListSession:
    """The subscriber lists of one institute, loaded from the store as far as needed."""

    def __init__(self, processor: _Processor, blz: str, marker: UpdateMarker, limit: int) -> None:
        self.p = processor
        self.blz = blz
        self.meta_ns = processor._ns("lists", blz)
        lists = {}
        self.sizes: dict[str, int] = {}
        for name, meta in processor.store.items(self.meta_ns):
            created = dt.datetime.fromisoformat(meta["created_at"])
            lists[name] = SubscriberList(
                name=name,
                created_at=created,
                continuous=meta["continuous"],
                state=meta["state"],
                updated_at=_parse_iso(meta["updated_at"]),
            )
            self.sizes[name] = meta["members"]
        self.registry = ListRegistry(lists=lists, marker=marker, limit=limit)
        self.loaded: set[str] = set()
        self.changes: list[ListChange] = []

    def members_ns(self, name: str) -> str:
        return self.p._ns("members", f"{self.blz}.{name}")

    def load(self, name: str) -> SubscriberList | None:
        current = self.registry.lists.get(name)
        if current is None or name in self.loaded:
            return current
        members = {
            CustomerNumber(c): Member(c, values)
            for c, values in self.p.store.items(self.members_ns(name))
        }
        loaded = attrs.evolve(current, members=members)
        self.registry = attrs.evolve(self.registry, lists={**self.registry.lists, name: loaded})
        self.loaded.add(name)
        return loaded

    def take(self, change: ListChange) -> ListChange:
        self.registry = change.registry
        if change.created:  # a new list: its members are all known
            self.loaded.add(change.name)
        self.changes.append(change)
        return change

    def step(self, event: ListEvent) -> ListChange:
        return self.take(self.registry.step(event))

    def deliver(
        self, name: str, *, at: dt.datetime, members: Sequence[Member], continuous: bool
    ) -> ListChange:
        self.load(name)
        return self.take(self.registry.deliver(name, at=at, members=members, continuous=continuous))

    def save(self) -> None:
        store = self.p.store
        touched: dict[str, None] = {}
        for change in self.changes:
            touched[change.name] = None
            current = self.registry.lists.get(change.name)
            ns = self.members_ns(change.name)
            if current is None:
                continue
            for customer in (*change.added, *change.updated):
                store.put(ns, str(customer), dict(current.members[customer].values))
            for customer in change.removed:
                store.delete(ns, str(customer))
        for name in touched:
            current = self.registry.lists.get(name)
            if current is None:
                store.delete(self.meta_ns, name)
                continue
            size = len(current.members) if name in self.loaded else self.sizes.get(name, 0)
            store.put(
                self.meta_ns,
                name,
                {
                    "created_at": current.created_at.isoformat(),
                    "continuous": current.continuous,
                    "state": current.state,
                    "updated_at": _iso(current.updated_at),
                    "members": size,
                },
            )
        self.changes = []


class EmmaProcessor(_Processor):
    """The EMMA side of the interface (see the module documentation).

    *transport* holds the inbox (files from OSPlus) and the outbox (files to OSPlus); *store*
    keeps orders, lists, the consent ledger, response ids, sequence numbers and the digests of
    processed files.  *clock* and *ids* are injected (:func:`system_clock`,
    :func:`counter_ids`); *registry* is the occasion registry
    (:func:`~emma_osplus._registry.default_registry` when ``None``).  *consent_policy* decides
    whether a row without a recorded consent is withheld (``KEINE_EINWILLIGUNG``; the default,
    the safe choice: consent reaches EMMA in ``CONS`` files from OSPlus).  *marker* is the
    update marker of list names, *list_limit* the lists per account (150).

    *missing_file_after* (default :data:`DEFAULT_MISSING_FILE_AFTER`, 6 hours) is how long a
    delivery waits for a file its manifest lists, counted by the injected clock from the
    moment the processor first saw the manifest (kept in the store, so restarts do not reset
    it); then the delivery is refused with one ``E103`` per missing file, and the manifest and
    the files that did arrive go to quarantine with a ``QUIT`` of status ``fehler``.  ``None``
    waits for ever.

    *soft_bounce_policy* (default :data:`~emma_osplus._responses.DEFAULT_SOFT_BOUNCE_POLICY`)
    decides when recorded soft bounces of an address make it count as hard-bounced: a
    ``HARTBOUNCE`` consent event enters the institute's ledger (so the address is withheld
    from then on) and the ``CONS`` file for OSPlus.
    """

    SIDE: ClassVar[str] = "emma"

    def __init__(
        self,
        transport: Transport,
        store: Store,
        *,
        clock: Clock = system_clock,
        ids: IdGenerator | None = None,
        registry: Any = None,
        consent_policy: ConsentPolicy = ConsentPolicy(),  # noqa: B008 - frozen value
        marker: UpdateMarker = UpdateMarker(),  # noqa: B008 - frozen value
        list_limit: int = LIST_LIMIT,
        missing_file_after: dt.timedelta | None = DEFAULT_MISSING_FILE_AFTER,
        soft_bounce_policy: SoftBouncePolicy = DEFAULT_SOFT_BOUNCE_POLICY,
        progress: Progress | None = None,
        progress_threshold: int = _CHUNK,
    ) -> None:
        super().__init__(
            transport,
            store,
            clock=clock,
            ids=ids,
            registry=registry,
            progress=progress,
            progress_threshold=progress_threshold,
        )
        if missing_file_after is not None and missing_file_after <= dt.timedelta(0):
            raise ValueError(f"missing_file_after must be positive, not {missing_file_after}")
        self.consent_policy = consent_policy
        self.marker = marker
        self.list_limit = list_limit
        self.missing_file_after = missing_file_after
        self.soft_bounce_policy = soft_bounce_policy
        self._claims: Counter[str] = Counter()
        self._seen: dict[str, dict[str, str]] = {}

    # -- planning -------------------------------------------------------------------------

    def _plan(self, names: Sequence[str]) -> tuple[list[_Unit], list[FileOutcome]]:
        present = set(names)
        now = self._now()
        self._seen = {}
        parsed: dict[str, FileName] = {}
        first: list[_Unit] = []
        timed: list[tuple[tuple[dt.datetime, int, str], _Unit]] = []
        last: list[_Unit] = []
        loose: list[str] = []
        for name in names:
            try:
                parsed[name] = parse_file_name(name)
            except FileNameError as exc:
                if _INTERFACE_LIKE.match(name):
                    last.append(self._bad_name(name, exc))
                else:
                    loose.append(name)
        self._claims = Counter()
        waits_for: dict[str, str] = {}
        waiting: list[FileOutcome] = []
        for name, fname in parsed.items():
            kind = fname.kind
            if kind == "CONS":
                first.append(_Unit(name, kind, fname, (name,), self._handle_cons))
            elif kind in ("VREKU", "VIAM"):
                unit = _Unit(name, kind, fname, (name,), self._handle_control)
                timed.append(((fname.created, 0, name), unit))
            elif kind == "LIEF":
                planned, listed = self._plan_delivery(name, fname, present, now)
                if isinstance(planned, FileOutcome):
                    waiting.append(planned)
                    for other in listed:
                        waits_for.setdefault(other, name)
                    continue
                self._claims.update(planned.files[1:])
                timed.append(((fname.created, 1, name), planned))
            elif kind == "QUIT":
                last.append(_Unit(name, kind, fname, (name,), self._handle_quit))
            elif kind in ("KMM", "REKU", "IAM"):
                loose.append(name)
            else:
                last.insert(0, self._wrong_direction(name, fname))
        for name in sorted(loose):
            if name in self._claims:
                continue  # moves with its delivery
            kind_of_name = parsed[name].kind if name in parsed else None
            if name in waits_for:
                detail = f"part of the delivery {waits_for[name]}, which waits for its files"
            else:
                detail = "no manifest (LIEF) lists it yet"
            waiting.append(FileOutcome(name, "waiting", kind_of_name, detail))
        self._keep_first_seen(present)
        units = first + [u for _, u in sorted(timed, key=lambda t: t[0])] + last
        return units, waiting

    def _keep_first_seen(self, present: set[str]) -> None:
        """Store when incomplete deliveries' manifests were first seen (the E103 clock), and
        forget manifests no longer in the inbox: one transaction, before any file is
        handled.  A crash before it commits only makes the next run see them later."""
        ns = self._ns("first_seen")
        gone = [name for name in self.store.keys(ns) if name not in present]
        if not self._seen and not gone:
            return
        with self.store.transaction():
            for name, entry in self._seen.items():
                self.store.put(ns, name, entry)
            for name in gone:
                self.store.delete(ns, name)

    def _first_seen(self, name: str, data: bytes, now: dt.datetime) -> dt.datetime:
        """When the manifest *name* (these bytes) was first seen waiting for its files; *now*
        if never (recorded at the end of planning).  A manifest replaced under the same name
        by other bytes starts again."""
        sha = hashlib.sha256(data).hexdigest()
        entry = self.store.get(self._ns("first_seen"), name)
        if entry is not None and entry["sha256"] == sha:
            return dt.datetime.fromisoformat(entry["at"])
        self._seen[name] = {"at": now.isoformat(), "sha256": sha}
        return now

    def _queue_move(self, name: str, to: str, sha: str | None = None) -> None:
        super()._queue_move(name, to, sha)
        ns = self._ns("first_seen")
        if self.store.get(ns, name) is not None:  # the delivery is done: stop its E103 clock
            self.store.delete(ns, name)

    def _moves_for(self, unit: _Unit) -> tuple[str, ...]:
        # A file two deliveries of this run list (the same advisor picture) moves with the
        # last of them, so the later one still finds it.
        moving = [unit.name]
        for name in unit.files[1:]:
            self._claims[name] -= 1
            if self._claims[name] <= 0:
                moving.append(name)
        return tuple(moving)

    def _plan_delivery(
        self, name: str, fname: FileName, present: set[str], now: dt.datetime
    ) -> tuple[_Unit | FileOutcome, tuple[str, ...]]:
        try:
            data = self.transport.read(name)
        except TransportError as exc:
            return FileOutcome(name, "failed", "LIEF", str(exc)), ()
        result = read_manifest(data, mode=Mode.LENIENT, occasions=self._occasions)
        manifest = result.value
        if manifest is None:
            bad = next((m for m in result.messages if m.is_error), Message("E106"))
            return _Unit(name, "LIEF", fname, (name,), self._handle_delivery, bad=bad), ()
        listed = tuple(f.name for f in manifest.files)
        missing = tuple(f for f in manifest.files if f.name not in present)
        if missing:
            first_seen = self._first_seen(name, data, now)
            limit = self.missing_file_after
            if limit is None or now - first_seen < limit:
                detail = (
                    f"waits for {len(missing)} of {len(listed)} listed files: "
                    f"{', '.join(f.name for f in missing)} (since {first_seen.isoformat()}"
                )
                if limit is not None:
                    detail += f"; refused with E103 from {(first_seen + limit).isoformat()}"
                return FileOutcome(name, "waiting", "LIEF", detail + ")"), listed
            arrived = tuple(n for n in listed if n in present)
            overdue = _Overdue(manifest, missing, first_seen, now - first_seen, result.messages)
            unit = _Unit(name, "LIEF", fname, (name, *arrived), self._handle_overdue, extra=overdue)
            return unit, listed
        unit = _Unit(
            name,
            "LIEF",
            fname,
            (name, *listed),
            self._handle_delivery,
            extra=(manifest, result.messages),
        )
        return unit, listed

    # -- orders and lists -----------------------------------------------------------------

    def _order_key(self, kind: str, number: str) -> str:
        return f"{kind}/{number}"

    def _load_order(self, blz: str, kind: str, number: str) -> Order | None:
        data = self.store.get(self._ns("orders", blz), self._order_key(kind, number))
        return None if data is None else _load_order(data)

    def _save_order(self, blz: str, order: Order) -> None:
        kind, number = order.key
        self.store.put(self._ns("orders", blz), self._order_key(kind, number), _dump_order(order))

    def _step(self, blz: str, event: OrderEvent) -> OrderStep[OrderBook, Order]:
        kind, number = event.order_key
        order = self._load_order(blz, kind, number)
        book = OrderBook({} if order is None else {order.key: order})
        return book.step(event)

    def order(self, blz: str, kind: str, number: str) -> Order | None:
        """The stored state of an order (``KMM``, ``REKU`` or ``IAM`` and its number)."""
        return self._load_order(str(Blz(blz)), kind.upper(), str(OrderNumber(number)))

    def lists(self, blz: str) -> ListRegistry:
        """The institute's subscriber lists (names, states; members not loaded)."""
        return _ListSession(self, str(Blz(blz)), self.marker, self.list_limit).registry

    def list_members(self, blz: str, name: str) -> dict[str, Mapping[str, str]]:
        """The members of the list *name*: customer number → the row's values."""
        session = _ListSession(self, str(Blz(blz)), self.marker, self.list_limit)
        return dict(self.store.items(session.members_ns(name)))

    # -- suppression ----------------------------------------------------------------------

    def _screen(
        self, blz: str, rows: Sequence[Record | Mapping[str, Any]], now: dt.datetime
    ) -> tuple[list[Member], list[WithheldRow]]:
        pairs = []
        for row in rows:
            with contextlib.suppress(InvalidValueError):
                customer, email = read_row(row)
                pairs.append((str(customer), email.matching_key))
        ledger = self._ledger_for(blz, (c for c, _ in pairs), (a for _, a in pairs))
        members: list[Member] = []
        withheld: list[WithheldRow] = []
        for verdict in screen(rows, ledger, at=_known_at(ledger, now), policy=self.consent_policy):
            if isinstance(verdict, ToSend):
                row = verdict.row
                values = row.values if isinstance(row, Record) else row
                members.append(Member(verdict.customer, {k: str(v) for k, v in values.items()}))
            else:
                withheld.append(verdict)
        return members, withheld

    def _keep_withheld(
        self,
        blz: str,
        rows: Iterable[WithheldRow],
        *,
        kind: str,
        number: str,
        file_name: str,
        now: dt.datetime,
    ) -> None:
        ns = self._ns("withheld", blz)
        for row in rows:
            if row.customer is None or row.email is None:
                continue
            self.store.put(
                ns,
                f"{kind}/{number}/{row.customer}",
                {
                    "email": str(row.email),
                    "reason": row.reason.value,
                    "at": now.isoformat(),
                    "file": file_name,
                },
            )

    @staticmethod
    def _withheld_summary(withheld: Sequence[WithheldRow]) -> str:
        reasons = Counter(w.reason.value for w in withheld)
        text = f"{len(withheld)} withheld"
        if reasons:
            text += " (" + ", ".join(f"{r} {n}" for r, n in sorted(reasons.items())) + ")"
        return text

    # -- control files --------------------------------------------------------------------

    def _handle_control(self, unit: _Unit, sha: str, size: int, now: dt.datetime) -> FileOutcome:
        assert unit.fname is not None
        blz = str(unit.fname.blz)
        name = unit.name
        result = read_control(
            self.transport.read(name), mode=Mode.LENIENT, occasions=self._occasions
        )
        control = result.value
        if control is None or not result.ok:
            errors = [m for m in result.messages if m.is_error]
            persist = self._failed_control(
                blz, result.document, errors, name=name, sha=sha, now=now
            )
            raise _Reject(errors, saetze=1, persist=persist, detail=f"{unit.kind} refused")
        if str(control.blz) != blz:
            raise _Reject(
                [
                    Message(
                        "E108",
                        raw=name,
                        detail=f"the file is named for {blz}, it holds {control.blz}",
                    )
                ],
                saetze=1,
                detail=f"{unit.kind} refused",
            )
        event = ControlFileReceived.from_control_file(control, file_name=name, sha256=sha, at=now)
        label = f"{control.kind} {control.nummer} {control.bezeichnung}"
        try:
            step = self._step(blz, event)
        except TransitionRefused as refused:
            message = _refusal_message(refused, "E304", label)
            raise _Reject([message], saetze=1, detail=f"{label} refused") from None
        if step.outcome is Outcome.FAILED:
            order = step.order
            raise _Reject(
                step.messages,
                saetze=1,
                persist=lambda: self._save_order(blz, order),
                detail=f"{label} failed",
            )
        session = _ListSession(self, blz, self.marker, self.list_limit)
        list_messages: list[Message] = []
        try:
            for effect in step.effects:
                list_messages.extend(session.step(effect).messages)
        except TransitionRefused as refused:
            message = _refusal_message(refused, "E307", label)
            failed = ControlFileFailed.from_received(event, message)
            failed_order = self._step(blz, failed).order
            raise _Reject(
                [message],
                saetze=1,
                persist=lambda: self._save_order(blz, failed_order),
                detail=f"{label} failed",
            ) from None
        order = step.order
        self._save_order(blz, order)
        session.save()
        outputs = [
            self._quit(
                blz,
                str(control.nummer),
                acknowledge(name, sha, list_messages, blz=blz, saetze=1),
                now,
            )
        ]
        detail = f"{label}: {control.aktion}, order {order.state}"
        if step.effects:
            detail += "; " + ", ".join(f"list {e.name} {e.kind}" for e in step.effects)
        if isinstance(order, RekuOrder) and order.parked and order.accepts_deliveries:
            released, more = self._release_parked(blz, order, now)
            outputs.extend(more)
            detail += f"; {released} parked deliver{'y' if released == 1 else 'ies'} released"
        detail += "; QUIT ok"
        return FileOutcome(
            name, "processed", unit.kind, detail, tuple(list_messages), tuple(outputs)
        )

    def _failed_control(
        self,
        blz: str,
        document: Mapping[str, Any] | None,
        errors: Sequence[Message],
        *,
        name: str,
        sha: str,
        now: dt.datetime,
    ) -> Callable[[], None] | None:
        if document is None or not errors:
            return None
        try:
            failed = ControlFileFailed(
                order_number=document["auftrag"]["nummer"],
                order_kind=document["typ"],
                at=now,
                file_name=name,
                sha256=sha,
                messages=errors,
            )
            order = self._step(blz, failed).order
        except (KeyError, TypeError, ValueError, TransitionRefused):
            return None  # no order to block: the file cannot name one
        return lambda: self._save_order(blz, order)

    def _release_parked(
        self, blz: str, order: RekuOrder, now: dt.datetime
    ) -> tuple[int, list[str]]:
        release = ParkedReleased(
            order_number=order.order_number, order_kind=order.order_kind, at=now
        )
        step = self._step(blz, release)
        assert step.list_name is not None
        session = _ListSession(self, blz, self.marker, self.list_limit)
        outputs = []
        ns = self._ns("parked", blz)
        planned = []
        for delivery in step.released:  # first every list change, then the writes: all or none
            parked = self.store.get(ns, delivery.file_name)
            if parked is None:  # pragma: no cover - parked rows are stored with the order
                continue
            members, withheld = self._screen(blz, parked["rows"], now)
            try:
                change = session.deliver(step.list_name, at=now, members=members, continuous=True)
            except TransitionRefused:
                return 0, []  # the list refuses: the deliveries stay parked
            planned.append((delivery, parked, withheld, change))
        for delivery, parked, withheld, change in planned:
            self._keep_withheld(
                blz,
                withheld,
                kind=order.order_kind,
                number=str(order.order_number),
                file_name=delivery.file_name,
                now=now,
            )
            total = len(parked["rows"]) + parked["rejected"]
            result = acknowledge(
                delivery.file_name,
                delivery.sha256,
                change.messages,
                blz=blz,
                saetze=total,
                abgelehnt=parked["rejected"],
            )
            outputs.append(self._quit(blz, str(order.order_number), result, now))
            self.store.delete(ns, delivery.file_name)
        session.save()
        self._save_order(blz, step.order)
        return len(step.released), outputs

    # -- deliveries -----------------------------------------------------------------------

    def _handle_delivery(self, unit: _Unit, sha: str, size: int, now: dt.datetime) -> FileOutcome:
        assert unit.fname is not None
        blz = str(unit.fname.blz)
        manifest, manifest_messages = unit.extra
        assert isinstance(manifest, Manifest)
        sub = manifest.subscriber_file
        number = str(manifest.nummer)
        label = self._check_manifest_blz(unit, manifest)
        order: Order | None = None
        if manifest.art == "KMM":
            announce = ManifestAnnounced.from_manifest(
                manifest, at=now, file_name=unit.name, sha256=sha
            )
            try:
                order = self._step(blz, announce).order
            except TransitionRefused as refused:
                message = self._announce_refused(blz, unit.name, manifest, refused)
                actual, _ = self._measure(sub.name)
                raise _Reject(
                    [message],
                    datei=sub.name,
                    sha256=actual,
                    saetze=sub.saetze or 0,
                    detail=f"{label} refused: {message.detail}",
                ) from None
            self._save_order(blz, order)
        verification = verify_delivery(
            manifest, self._reader, manifest_name=unit.name, occasions=self._occasions
        )
        if not verification.ok:
            persist = None
            errors = verification.errors
            if isinstance(order, KmmOrder):
                failed = DeliveryFailed(
                    order_number=manifest.nummer,
                    at=now,
                    file_name=sub.name,
                    sha256=sub.sha256,
                    messages=errors,
                )
                failed_order = order.apply(failed)
                persist = lambda: self._save_order(blz, failed_order)  # noqa: E731
            actual, _ = self._measure(sub.name)
            raise _Reject(
                verification.messages,
                datei=sub.name,
                sha256=actual,
                saetze=verification.rows or 0,
                persist=persist,
                detail=f"{label}: delivery does not match its manifest",
            )
        records: list[Record] = []
        messages: list[Message] = list(manifest_messages)
        rejected = 0
        reader = read_subscriber_list(
            self._stream(sub.name, sub.bytes),
            manifest.art,
            mode=Mode.LENIENT,
            encoding=sub.encoding,
            resolve_occasion=self._occasions,
        )
        for item in reader:
            if isinstance(item, Record):
                records.append(item)
                messages.extend(item.messages)
            elif isinstance(item, Rejected):
                rejected += 1
                messages.extend(item.messages)
            else:  # pragma: no cover - file-level problems were found by the verification
                raise _Reject([item.message], datei=sub.name, detail=f"{label}: unreadable")
        for picture in manifest.pictures:
            self.store.put(
                self._ns("pictures", blz),
                picture.name,
                {
                    "sha256": picture.sha256,
                    "bytes": picture.bytes,
                    "rolle": picture.rolle,
                    "order": number,
                },
            )
        delivery = _Delivery(unit, manifest, records, rejected, messages, now, blz, label)
        if manifest.art == "KMM":
            return self._deliver_kmm(delivery)
        return self._deliver_reku(delivery)

    def _reader(self, name: str) -> Any:
        return self.transport.open(name)

    @staticmethod
    def _check_manifest_blz(unit: _Unit, manifest: Manifest) -> str:
        """The delivery's label; E108 when the manifest holds another institute than its
        name says."""
        assert unit.fname is not None
        blz = str(unit.fname.blz)
        label = f"{manifest.art} {manifest.nummer} {manifest.bezeichnung}"
        if str(manifest.blz) != blz:
            raise _Reject(
                [
                    Message(
                        "E108",
                        raw=unit.name,
                        detail=f"the manifest is named for {blz}, it holds {manifest.blz}",
                    )
                ],
                detail=f"{label} refused",
            )
        return label

    def _announce_refused(
        self, blz: str, name: str, manifest: Manifest, refused: TransitionRefused
    ) -> Message:
        """The message for a KMM manifest the order refuses.  A second manifest for an order
        that was already delivered gets E304 (FORMATS.md has no closer code) with a detail
        that says exactly that; every other refusal keeps its own message."""
        number = str(manifest.nummer)
        order = self._load_order(blz, "KMM", number)
        if (
            isinstance(order, KmmOrder)
            and order.delivered_at is not None
            and order.state not in ("unknown", "announced")
        ):
            detail = (
                f"KMM order {number} already delivered on {order.delivered_at.isoformat()} "
                f"({order.delivery_file}; the order is now {order.state}): a KMM order is "
                f"delivered once, so the manifest {name} is refused; deliver under a new "
                "order number"
            )
            return Message("E304", field="order_number", raw=number, detail=detail)
        label = f"{manifest.art} {number} {manifest.bezeichnung}"
        return _refusal_message(refused, "E304", label)

    def _handle_overdue(self, unit: _Unit, sha: str, size: int, now: dt.datetime) -> FileOutcome:
        """A delivery whose listed files did not all arrive within ``missing_file_after``:
        refused with one E103 per missing file; the manifest and the files that arrived go to
        quarantine, with a ``QUIT`` (status ``fehler``) for the subscriber list.  A KMM order
        records the failure and waits for a correct delivery."""
        assert unit.fname is not None
        overdue = unit.extra
        assert isinstance(overdue, _Overdue)
        assert self.missing_file_after is not None
        blz = str(unit.fname.blz)
        manifest = overdue.manifest
        sub = manifest.subscriber_file
        label = self._check_manifest_blz(unit, manifest)
        arrived = unit.files[1:]
        elapsed = _duration(overdue.elapsed)
        messages = [
            Message(
                "E103",
                raw=missing.name,
                detail=(
                    f"{missing.name} ({missing.rolle}), listed in the manifest {unit.name}, has "
                    f"not arrived {elapsed} after the manifest was first seen "
                    f"({overdue.first_seen.isoformat()}; the limit is "
                    f"{_duration(self.missing_file_after)}): the delivery is refused"
                ),
            )
            for missing in overdue.missing
        ]
        persist = None
        if manifest.art == "KMM":
            announce = ManifestAnnounced.from_manifest(
                manifest, at=now, file_name=unit.name, sha256=sha
            )
            try:
                order = self._step(blz, announce).order
            except TransitionRefused as refused:
                messages.append(self._announce_refused(blz, unit.name, manifest, refused))
            else:
                assert isinstance(order, KmmOrder)
                failed = DeliveryFailed(
                    order_number=manifest.nummer,
                    at=now,
                    file_name=sub.name,
                    sha256=sub.sha256,
                    messages=messages,
                )
                failed_order = order.apply(failed)
                persist = lambda: self._save_order(blz, failed_order)  # noqa: E731
        sub_sha = self._measure(sub.name)[0] if sub.name in arrived else sub.sha256
        missing_names = ", ".join(f.name for f in overdue.missing)
        kept = ", ".join(arrived) if arrived else "none"
        raise _Reject(
            [*overdue.messages, *messages],
            datei=sub.name,
            sha256=sub_sha,
            saetze=sub.saetze or 0,
            persist=persist,
            detail=(
                f"{label}: {len(overdue.missing)} of {len(manifest.files)} listed files still "
                f"missing {elapsed} after the manifest ({missing_names}); refused, quarantined "
                f"with the files that arrived ({kept})"
            ),
        )

    def _deliver_kmm(self, delivery: _Delivery) -> FileOutcome:
        unit, manifest, records, rejected = (
            delivery.unit,
            delivery.manifest,
            delivery.records,
            delivery.rejected,
        )
        messages, now, blz, label = delivery.messages, delivery.now, delivery.blz, delivery.label
        sub = manifest.subscriber_file
        number = str(manifest.nummer)
        step = self._step(blz, DeliveryVerified.from_manifest(manifest, at=now))
        messages.extend(step.messages)
        assert step.list_name is not None
        members, withheld = self._screen(blz, records, now)
        session = _ListSession(self, blz, self.marker, self.list_limit)
        try:
            change = session.deliver(step.list_name, at=now, members=members, continuous=False)
        except TransitionRefused as refused:
            message = _refusal_message(refused, "E307", label)
            raise _Reject(
                [*messages, message],
                datei=sub.name,
                sha256=sub.sha256,
                saetze=len(records) + rejected,
                detail=f"{label}: the list refuses the delivery",
            ) from None
        messages.extend(change.messages)
        listed = (ListCreated if change.created else ListUpdated)(order_number=number, at=now)
        book = step.state.step(listed)
        self._save_order(blz, book.order)
        session.save()
        self._keep_withheld(blz, withheld, kind="KMM", number=number, file_name=sub.name, now=now)
        result = acknowledge(
            sub.name,
            sub.sha256,
            messages,
            blz=blz,
            saetze=len(records) + rejected,
            abgelehnt=rejected,
        )
        quit_name = self._quit(blz, number, result, now)
        action = (
            "created" if change.created else f"updated: +{len(change.added)} -{len(change.removed)}"
        )
        total = len(records) + rejected
        detail = (
            f"{label}: {total} row{'s' if total != 1 else ''}, {len(members)} on the list ({action}), "
            f"{self._withheld_summary(withheld)}"
        )
        if rejected:
            detail += f", {rejected} rejected"
        detail += f"; QUIT {result.status.value}"
        return FileOutcome(unit.name, "processed", "LIEF", detail, tuple(messages), (quit_name,))

    def _deliver_reku(self, delivery: _Delivery) -> FileOutcome:
        unit, manifest, records, rejected = (
            delivery.unit,
            delivery.manifest,
            delivery.records,
            delivery.rejected,
        )
        messages, now, blz, label = delivery.messages, delivery.now, delivery.blz, delivery.label
        total = len(records) + rejected
        sub = manifest.subscriber_file
        number = str(manifest.nummer)
        try:
            step = self._step(blz, DataDelivered.from_manifest(manifest, at=now))
        except TransitionRefused as refused:
            message = _refusal_message(refused, "E304", label)
            raise _Reject(
                [*messages, message],
                datei=sub.name,
                sha256=sub.sha256,
                saetze=total,
                detail=f"{label} refused",
            ) from None
        messages.extend(step.messages)
        if step.outcome is Outcome.PARKED:
            self.store.put(
                self._ns("parked", blz),
                sub.name,
                {
                    "rows": [dict(r.values) for r in records],
                    "rejected": rejected,
                    "at": now.isoformat(),
                },
            )
            self._save_order(blz, step.order)
            result = acknowledge(
                sub.name, sub.sha256, messages, blz=blz, saetze=total, abgelehnt=rejected
            )
            quit_name = self._quit(blz, number, result, now)
            detail = f"{label}: {total} rows parked until a correct control file arrives; QUIT {result.status.value}"
            return FileOutcome(
                unit.name, "processed", "LIEF", detail, tuple(messages), (quit_name,)
            )
        assert step.list_name is not None
        members, withheld = self._screen(blz, records, now)
        session = _ListSession(self, blz, self.marker, self.list_limit)
        try:
            change = session.deliver(step.list_name, at=now, members=members, continuous=True)
        except TransitionRefused as refused:
            message = _refusal_message(refused, "E307", label)
            raise _Reject(
                [*messages, message],
                datei=sub.name,
                sha256=sub.sha256,
                saetze=total,
                detail=f"{label}: the list refuses the delivery",
            ) from None
        messages.extend(change.messages)
        self._save_order(blz, step.order)
        session.save()
        self._keep_withheld(
            blz, withheld, kind=manifest.art, number=number, file_name=sub.name, now=now
        )
        result = acknowledge(
            sub.name, sub.sha256, messages, blz=blz, saetze=total, abgelehnt=rejected
        )
        quit_name = self._quit(blz, number, result, now)
        detail = (
            f"{label}: {total} row{'s' if total != 1 else ''}, {len(change.added)} added and "
            f"{len(change.updated)} updated on list {step.list_name}, {self._withheld_summary(withheld)}"
        )
        if rejected:
            detail += f", {rejected} rejected"
        detail += f"; QUIT {result.status.value}"
        return FileOutcome(unit.name, "processed", "LIEF", detail, tuple(messages), (quit_name,))

    # -- sending and responses ------------------------------------------------------------

    def send_mailing(
        self, blz: str, order_kind: str, order_number: str, mailing: str
    ) -> MailingSend:
        """Send *mailing* to the list of an order: the recipients, after one more look at the
        consent ledger (the last line of defence), and a ``ZH`` response for every row that was
        withheld at delivery or is suppressed now (written as a ``RESP`` file at once).  For a
        KMM order the order moves on to ``linked`` and ``sent``.

        Raises :class:`~emma_osplus.ProcessError` (E304) when the order is unknown or has no
        list, or refuses to be sent (e.g. sent before).
        """
        blz_text = str(Blz(blz))
        kind = order_kind.upper()
        number = str(OrderNumber(order_number))
        mailing_id = MailingId(mailing)
        now = self._now()
        with self._transaction():
            order = self._load_order(blz_text, kind, number)
            if order is None or order.list_name is None:
                raise ProcessError(
                    Message(
                        "E304",
                        field="order_number",
                        raw=number,
                        detail=f"no {kind} order {number} with a list",
                    )
                )
            list_name = order.list_name
            if isinstance(order, KmmOrder):
                try:
                    linked = self._step(
                        blz_text, MailingLinked(order_number=number, at=now, mailing_id=mailing_id)
                    )
                    sent = linked.state.step(MailingSent(order_number=number, at=now))
                except TransitionRefused as refused:
                    raise ProcessError(_refusal_message(refused, "E304", f"KMM {number}")) from None
                self._save_order(blz_text, sent.order)
            members = self.list_members(blz_text, list_name)
            rows = [dict(values) for values in members.values()]
            pairs = [(c, EmailAddress(v["EMAIL"]).matching_key) for c, v in members.items()]
            ledger = self._ledger_for(blz_text, (c for c, _ in pairs), (a for _, a in pairs))
            decide_at = _known_at(ledger, now)
            recipients: list[Recipient] = []
            withheld: list[Withheld] = []
            reported: set[str] = set()
            to = (blz_text, kind, number, mailing_id)
            for row in rows:
                customer, email = read_row(row)
                decision = ledger.may_send_key(
                    customer, email.matching_key, decide_at, policy=self.consent_policy
                )
                if decision.allowed:
                    recipients.append(Recipient(customer, email, row))
                    continue
                reason = decision.reason.withheld_reason or "SPERRLISTE"
                withheld.append(self._withheld_event(to, customer, email, reason, now))
                reported.add(str(customer))
            ns = self._ns("withheld", blz_text)
            prefix = f"{kind}/{number}/"
            for key, entry in list(self.store.items(ns)):
                if not key.startswith(prefix):
                    continue
                customer_text = key[len(prefix) :]
                if customer_text not in reported:
                    withheld.append(
                        self._withheld_event(
                            to,
                            CustomerNumber(customer_text),
                            EmailAddress(entry["email"]),
                            entry["reason"],
                            now,
                        )
                    )
                self.store.delete(ns, key)
            files = self._record(withheld, now).files
        return MailingSend(
            Blz(blz_text),
            kind,
            OrderNumber(number),
            mailing_id,
            list_name,
            tuple(recipients),
            tuple(withheld),
            files,
        )

    def _withheld_event(
        self,
        to: tuple[str, str, str, MailingId],
        customer: CustomerNumber,
        email: EmailAddress,
        reason: str,
        now: dt.datetime,
    ) -> Withheld:
        blz, kind, number, mailing = to
        return Withheld(
            event_id=EventId(self._next_id()),
            blz=Blz(blz),
            order=OrderNumber(number),
            order_kind=kind,
            mailing=mailing,
            customer=customer,
            email=email,
            at=now,
            reason=reason,
        )

    def record_responses(self, events: Iterable[ResponseEvent]) -> RecordResult:
        """Turn response events into files for OSPlus: per institute one ``RESP`` file (the
        next sequence number; header, details, trailer) with the events not recorded before
        (by event id), and one ``CONS`` file with the consent changes they imply
        (unsubscribes, complaints, hard bounces, and the ``HARTBOUNCE`` of every address
        whose soft bounces now reach the soft-bounce policy), which also enter EMMA's own
        ledger so that the next delivery withholds those addresses.  All in one transaction,
        then published.
        A bounce diagnostic longer than the 40 characters of ``DETAIL`` is cut in the ``RESP``
        record; the ``CONS`` evidence keeps up to 300 characters of it."""
        now = self._now()
        with self._transaction():
            return self._record(events, now)

    def record_consent(self, blz: str, events: Iterable[ConsentEvent]) -> RecordResult:
        """Record consent changes that reached EMMA otherwise (its preference centre, staff
        entries) in the ledger and write them to a ``CONS`` file for OSPlus."""
        now = self._now()
        blz_text = str(Blz(blz))
        with self._transaction():
            changes = [e for e in events if self._add_consent(blz_text, e)]
            files = []
            if changes:
                files.append(self._write_cons(blz_text, changes, now))
        return RecordResult(tuple(files), 0, 0, len(changes))

    def _write_cons(self, blz: str, events: Sequence[ConsentEvent], now: dt.datetime) -> str:
        rows = [
            ConsentChange(e.customer, e.email, e.kind, e.at, e.source, e.evidence)
            for e in sorted(events, key=lambda e: e.sort_key)
        ]
        name, _ = self._file_name(blz, "CONS", "0", now)
        return self._queue(name, write_cons(rows))

    def _record(self, events: Iterable[ResponseEvent], now: dt.datetime) -> RecordResult:
        by_blz: dict[str, list[ResponseEvent]] = {}
        reused: dict[str, list[ResponseEvent]] = {}  # known id, other content
        duplicates = conflicts = 0
        seen: dict[tuple[str, str], dict[str, str]] = {}
        for event in events:
            blz = str(event.blz)
            key = (blz, str(event.event_id))
            values = _resp_values(event)
            known = seen.get(key)
            if known is None:
                known = self.store.get(self._ns("responses", blz), key[1])
            if known == values:
                duplicates += 1
            elif known is not None:
                # The id is taken by another event: not written again under it (RESP ids
                # stay unique), but its consent change still counts, so that an unsubscribe
                # is never lost to a reused id, whatever arrived first.
                conflicts += 1
                reused.setdefault(blz, []).append(event)
            else:
                seen[key] = values
                by_blz.setdefault(blz, []).append(event)
        files: list[str] = []
        new = changes = escalated = 0
        for blz in {**by_blz, **reused}:
            batch = by_blz.get(blz, [])
            consent: list[ConsentEvent] = []
            details = []
            for event in batch:
                values = seen[blz, str(event.event_id)]  # made once, in the first pass
                details.append(values)
                self.store.put(self._ns("responses", blz), str(event.event_id), values)
                self._index_bounces(blz, event)
            for event in (*batch, *reused.get(blz, ())):
                converted = consent_event_from_response(event)
                if converted is not None and self._add_consent(blz, converted):
                    consent.append(converted)
            escalations = self._escalate(blz, batch)
            for converted in escalations:
                if self._add_consent(blz, converted):
                    consent.append(converted)
            if details:
                number = self._count(f"seq/{blz}/RESP")
                name = str(FileName(blz, "RESP", "0", now, number % 10000))
                files.append(self._queue(name, iter_resp(blz, now, number % 1_000_000, details)))
            if consent:
                files.append(self._write_cons(blz, consent, now))
            new += len(batch)
            changes += len(consent)
            escalated += len({e.address_key for e in escalations})
        return RecordResult(tuple(files), new, duplicates, changes, escalated, conflicts)

    # -- soft-bounce escalation -----------------------------------------------------------

    def _index_bounces(self, blz: str, event: ResponseEvent) -> None:
        """Index soft bounces and engagements (opens, clicks) by the address's matching key:
        the event ids the escalation of that address is decided from."""
        if isinstance(event, SoftBounce):
            field = "soft"
        elif isinstance(event, Opened | Clicked):
            field = "engaged"
        else:
            return
        ns = self._ns("bounce_ix", blz)
        key = event.email.matching_key
        entry = self.store.get(ns, key) or {"soft": [], "engaged": []}
        entry[field].append(str(event.event_id))
        self.store.put(ns, key, entry)

    def _escalate(self, blz: str, batch: Sequence[ResponseEvent]) -> list[ConsentEvent]:
        """The ``HARTBOUNCE`` consent events of the addresses whose soft bounces (every one
        recorded for the institute, not only *batch*'s) reach the soft-bounce policy now.

        Only a new soft bounce can make an address escalate, so only the addresses with one
        in *batch* are looked at.  The decision folds the address's recorded soft bounces and
        engagements (by their own times: arrival order does not matter) through
        :meth:`~emma_osplus._responses.ResponseBook.escalations`.  An address escalates once:
        the escalation is recorded (``escalations`` namespace) and later bounces, repeats or
        late files add no second event.  One event per customer the bounces name (the
        ``CONS`` row needs a customer; hard bounces suppress by the address anyway), at the
        time the threshold was reached, source ``ESP_LINK`` (like a hard bounce from EMMA),
        the evidence naming the policy and the bounces' event ids.
        """
        policy = self.soft_bounce_policy
        done = self._ns("escalations", blz)
        index = self._ns("bounce_ix", blz)
        responses = self._ns("responses", blz)
        found: list[ConsentEvent] = []
        for key in sorted({e.email.matching_key for e in batch if isinstance(e, SoftBounce)}):
            if self.store.get(done, key) is not None:
                continue
            entry = self.store.get(index, key)
            if entry is None or len(entry["soft"]) < policy.threshold:
                continue
            ids = entry["soft"] + (entry["engaged"] if policy.reset_on_engagement else [])
            book = fold_values((self.store.get(responses, i) for i in ids), blz=blz)
            escalations = book.escalations(policy)
            if not escalations:
                continue
            [escalation] = escalations
            evidence = _escalation_evidence(blz, escalation, policy)
            events = [
                ConsentEvent(
                    customer,
                    email,
                    ConsentKind.HARD_BOUNCE,
                    escalation.at,
                    ConsentSource.ESP_LINK,
                    evidence,
                )
                for _, email, customer in escalation.recipients
            ]
            self.store.put(
                done,
                key,
                {
                    "at": escalation.at.isoformat(),
                    "bounces": [str(b.event_id) for b in escalation.bounces],
                    "policy": {
                        "threshold": policy.threshold,
                        "window": policy.window.total_seconds(),
                        "min_span": policy.min_span.total_seconds(),
                        "reset_on_engagement": policy.reset_on_engagement,
                    },
                    "customers": [str(e.customer) for e in events],
                },
            )
            found.extend(events)
        return found


# -- the OSPlus side ---------------------------------------------------------------------------


def _to_blz(value: Blz | str) -> Blz:
    return value if isinstance(value, Blz) else Blz(value)


def _to_order_number(value: OrderNumber | str) -> OrderNumber:
    return value if isinstance(value, OrderNumber) else OrderNumber(value)


def _to_order_name(value: OrderName | str) -> OrderName:
    return value if isinstance(value, OrderName) else OrderName(value)


def _to_occasion(value: OccasionCode | str | None) -> OccasionCode | None:
    return value if value is None or isinstance(value, OccasionCode) else OccasionCode(value)


@attrs.frozen
class DeliveryOrder:
    """What :meth:`OsplusProcessor.deliver` delivers: institute, order number, kind
    (``KMM``, ``REKU``, ``IAM``), order name, the order's creation time (``erstellt``; the
    time of delivery when ``None``), the occasion (``REKU``) and *Weiterleitung an SFP*."""

    blz: Blz = attrs.field(converter=_to_blz)
    number: OrderNumber = attrs.field(converter=_to_order_number)
    kind: str = attrs.field(validator=attrs.validators.in_(("KMM", "REKU", "IAM")))
    name: OrderName = attrs.field(converter=_to_order_name)
    created: dt.datetime | None = None
    occasion: OccasionCode | None = attrs.field(default=None, converter=_to_occasion)
    forward: bool = True

    def __attrs_post_init__(self) -> None:
        if self.kind == "REKU" and self.occasion is None:  # the manifest's anlass/@code
            raise InvalidValueError(
                Message("E208", field="occasion", detail="a REKU order names its occasion")
            )


@attrs.frozen
class DeliveryResult:
    """What :meth:`OsplusProcessor.deliver` wrote: the files (subscriber list, pictures,
    manifest last), the rows delivered and the rows the selection guard held back."""

    files: tuple[str, ...]
    delivered: int
    held_back: tuple[HeldBack, ...]


class OsplusProcessor(_Processor):
    """The OSPlus side of the interface (see the module documentation).

    *settings* are the institute parameters (:class:`~emma_osplus._feedback.InstituteSettings`
    for every institute, or a mapping BLZ → settings; both parameters off unless set).
    """

    SIDE: ClassVar[str] = "osplus"

    def __init__(
        self,
        transport: Transport,
        store: Store,
        *,
        clock: Clock = system_clock,
        ids: IdGenerator | None = None,
        registry: Any = None,
        settings: InstituteSettings | Mapping[str, InstituteSettings] = InstituteSettings(),  # noqa: B008
        progress: Progress | None = None,
        progress_threshold: int = _CHUNK,
    ) -> None:
        super().__init__(
            transport,
            store,
            clock=clock,
            ids=ids,
            registry=registry,
            progress=progress,
            progress_threshold=progress_threshold,
        )
        self.settings = settings

    def settings_for(self, blz: str) -> InstituteSettings:
        """The institute parameters of *blz*."""
        if isinstance(self.settings, InstituteSettings):
            return self.settings
        return self.settings.get(blz, InstituteSettings())

    # -- planning -------------------------------------------------------------------------

    def _plan(self, names: Sequence[str]) -> tuple[list[_Unit], list[FileOutcome]]:
        quits: list[_Unit] = []
        resp: list[tuple[tuple[str, int, str], _Unit]] = []
        cons: list[_Unit] = []
        bad: list[_Unit] = []
        waiting: list[FileOutcome] = []
        for name in names:
            try:
                fname = parse_file_name(name)
            except FileNameError as exc:
                if _INTERFACE_LIKE.match(name):
                    bad.append(self._bad_name(name, exc))
                else:
                    waiting.append(
                        FileOutcome(name, "waiting", None, "not a file of the interface")
                    )
                continue
            if fname.kind == "QUIT":
                quits.append(_Unit(name, "QUIT", fname, (name,), self._handle_quit))
            elif fname.kind == "CONS":
                cons.append(_Unit(name, "CONS", fname, (name,), self._handle_cons))
            elif fname.kind == "RESP":
                try:
                    header = self._resp_header(name)
                except TransportError as exc:
                    waiting.append(FileOutcome(name, "failed", "RESP", str(exc)))
                    continue
                if isinstance(header, Message):
                    resp.append(
                        (
                            (str(fname.blz), -1, name),
                            _Unit(name, "RESP", fname, (name,), self._handle_resp, bad=header),
                        )
                    )
                else:
                    unit = _Unit(name, "RESP", fname, (name,), self._handle_resp, extra=header)
                    resp.append(((str(header.blz), header.sequence, name), unit))
            else:
                bad.append(self._wrong_direction(name, fname))
        units = quits + [u for _, u in sorted(resp, key=lambda t: t[0])] + cons + bad
        return units, waiting

    def _resp_header(self, name: str) -> RespHeader | Message:
        """The header of a waiting ``RESP`` file, or the message why it has none (a
        :class:`~emma_osplus.TransportError` is raised: the file may be fine)."""
        with self.transport.open(name) as stream:
            reader = read_resp(stream, mode=Mode.LENIENT)
            first = next(iter(reader), None)
        if isinstance(first, Record) and first.record_type == "A":
            try:
                return RespHeader.from_record(first)
            except MessageError as exc:
                return exc.message
        if isinstance(first, Notice):
            return first.message
        if isinstance(first, Rejected):
            return first.messages[0]
        return Message("E104", raw=name, detail="no header record (A)")

    def _handle(self, unit: _Unit) -> FileOutcome:
        if unit.kind == "RESP" and isinstance(unit.extra, RespHeader):
            held = self._gap(unit)
            if held is not None:
                return held
        return super()._handle(unit)

    def _gap(self, unit: _Unit) -> FileOutcome | None:
        header = unit.extra
        assert isinstance(header, RespHeader)
        blz = str(header.blz)
        previous = self.store.get(self._ns("resp_seq"), blz)
        message = check_sequence(previous, header.sequence)
        if message is None:
            return None
        message = attrs.evolve(message, raw=unit.name)
        return FileOutcome(
            unit.name,
            "held",
            "RESP",
            f"RESP {header.sequence} of {blz} held: file {previous + 1} is missing "
            "(release_gap() or the missing file ends the wait)",
            (message,),
        )

    def release_gap(self, blz: str, through: int | None = None) -> tuple[int, ...]:
        """Give up waiting for missing ``RESP`` files of institute *blz*: the numbers after
        the last one processed up to *through* (default: up to the first file held) count as
        released, so the held files are processed by the next run.  Each release is recorded
        (``gaps`` namespace).  Returns the released numbers (empty when nothing is held).  A
        released file that arrives later is still processed (its event ids make repeats
        harmless)."""
        blz_text = str(Blz(blz))
        previous = self.store.get(self._ns("resp_seq"), blz_text)
        start = 1 if previous is None else previous + 1
        if through is None:
            held = []
            for name in self.transport.waiting():
                try:
                    fname = parse_file_name(name)
                except FileNameError:
                    continue
                if fname.kind == "RESP" and str(fname.blz) == blz_text:
                    header = self._resp_header(name)
                    if isinstance(header, RespHeader) and header.sequence > start:
                        held.append(header.sequence)
            if not held:
                return ()
            through = min(held) - 1
        released = tuple(range(start, through + 1))
        if not released:
            return ()
        now = self._now()
        with self._transaction():
            for number in released:
                self.store.put(
                    self._ns("gaps", blz_text), f"{number:06d}", {"released_at": now.isoformat()}
                )
            self.store.put(self._ns("resp_seq"), blz_text, through)
        return released

    # -- responses ------------------------------------------------------------------------

    def _handle_resp(self, unit: _Unit, sha: str, size: int, now: dt.datetime) -> FileOutcome:
        header = unit.extra
        assert isinstance(header, RespHeader)
        assert unit.fname is not None
        blz = str(header.blz)
        if blz != str(unit.fname.blz):
            raise _Reject(
                [
                    Message(
                        "E108",
                        raw=unit.name,
                        detail=f"the file is named for {unit.fname.blz}, its header says {blz}",
                    )
                ],
                detail="RESP refused",
            )
        messages: list[Message] = []
        problems: list[Message] = []
        rows = rejected = duplicates = 0
        codes: Counter[str] = Counter()
        items = contradictions = conflicts = 0
        for item in read_resp(self._stream(unit.name, size), mode=Mode.LENIENT):
            if isinstance(item, Notice):
                (problems if item.message.is_error else messages).append(item.message)
                continue
            if isinstance(item, Rejected):
                if item.record_type == "R":
                    rows += 1
                    rejected += 1
                    messages.extend(item.messages)
                else:
                    problems.extend(item.messages)
                continue
            if item.record_type != "R":
                continue
            rows += 1
            try:
                event = event_from_values(item.values, blz=header.blz)
            except InvalidValueError as exc:
                rejected += 1
                messages.append(attrs.evolve(exc.message, line=item.line))
                continue
            outcome = self._response(blz, event, now)
            if outcome == "duplicate":
                duplicates += 1
            else:
                codes[event.CODE] += 1
                items += outcome in ("item", "conflict+item")
                contradictions += outcome == "contradiction"
                conflicts += outcome.startswith("conflict")
        if problems:
            raise _Reject(
                problems, saetze=rows, detail=f"RESP {header.sequence}: {problems[0].describe()}"
            )
        previous = self.store.get(self._ns("resp_seq"), blz)
        self.store.put(self._ns("resp_seq"), blz, max(previous or 0, header.sequence))
        result = acknowledge(unit.name, sha, messages, blz=blz, saetze=rows, abgelehnt=rejected)
        quit_name = self._quit(blz, "0", result, now)
        counts = ", ".join(f"{code} {n}" for code, n in sorted(codes.items())) or "none new"
        detail = f"RESP {header.sequence}: {rows} response{'s' if rows != 1 else ''} ({counts})"
        if duplicates:
            detail += f", {duplicates} known"
        if rejected:
            detail += f", {rejected} rejected"
        if conflicts:
            detail += f", {conflicts} under a known event id with other content"
        detail += f"; {items} feedback item{'s' if items != 1 else ''}"
        if contradictions:
            detail += f"; {contradictions} contradiction{'s' if contradictions != 1 else ''} (withheld, then reported sent)"
        detail += f"; QUIT {result.status.value}"
        return FileOutcome(unit.name, "processed", "RESP", detail, tuple(messages), (quit_name,))

    def _response(self, blz: str, event: ResponseEvent, now: dt.datetime) -> str:
        ns = self._ns("responses", blz)
        event_id = str(event.event_id)
        values = event.to_values()
        stored = self.store.get(ns, event_id)
        if stored == values:
            return "duplicate"
        if stored is None:
            self.store.put(ns, event_id, values)
            outcome = "new"
        else:
            # The id is known with other content: the sender broke "unique per event".  The
            # first event keeps the id; this one still takes effect (every effect below is
            # idempotent and order-free), so an unsubscribe under a reused id is never lost.
            outcome = "conflict"
        state_ns = self._ns("recipients", blz)
        key = "/".join(event.key.texts[1:])
        status = self.store.get(state_ns, key, RECIPIENT.initial)
        if (status, event.KIND) in RECIPIENT.transitions:
            following = RECIPIENT.next(status, event.KIND)
            if following != status:
                self.store.put(state_ns, key, following)
                if following == "contradiction":
                    outcome = "contradiction"
        if isinstance(event, Unsubscribed | HardBounce) and self._receive(blz, event, now):
            outcome = {"new": "item", "conflict": "conflict+item"}.get(outcome, outcome)
        return outcome

    def _receive(self, blz: str, event: ResponseEvent | ConsentEvent, now: dt.datetime) -> bool:
        """An unsubscribe, objection or hard bounce becomes a feedback item (True when new)."""
        state = FeedbackState(self.settings_for(blz)).receive([event], at=now)
        if not state.items:
            return False
        [item] = state.items.values()
        ns = self._ns("feedback", blz)
        if self.store.get(ns, item.id) is not None:
            return False
        consent = item.consent_event
        digest = _row_digest(_consent_row(consent))
        index = self._ns("feedback_ix", blz)
        known = self.store.get(index, digest)
        if known is not None:
            # The same unsubscribe came in a RESP and in a CONS file: one item.  The response
            # names the item whatever arrived first, so the state does not depend on the
            # order of arrival; the earlier item's receipt and completion carry over.
            if not (known.startswith("C-") and item.id.startswith("R-")):
                return False
            earlier = self.store.get(ns, known)
            self.store.delete(ns, known)
            data = _item_to_json(item)
            for key in ("received_at", "status", "done_by", "done_at"):
                data[key] = earlier[key]
            self.store.put(ns, item.id, data)
            self.store.put(index, digest, item.id)
            return False
        self.store.put(ns, item.id, _item_to_json(item))
        self.store.put(index, digest, item.id)
        if item.status is ItemStatus.PROCESSED:
            self._add_consent(blz, consent)
        return True

    def _on_consent(self, blz: str, event: ConsentEvent, now: dt.datetime) -> bool:
        if event.kind.is_restriction:
            return self._receive(blz, event, now)
        return self._add_consent(blz, event)

    # -- feedback -------------------------------------------------------------------------

    def feedback(self, blz: str) -> FeedbackState:
        """The institute's feedback state: its settings and every item."""
        blz_text = str(Blz(blz))
        items = {
            key: _item_from_json(data, blz_text)
            for key, data in self.store.items(self._ns("feedback", blz_text))
        }
        return FeedbackState(self.settings_for(blz_text), items)

    def pending_items(self, blz: str, at: dt.datetime | None = None) -> tuple[AgedItem, ...]:
        """The pending items of *blz* with their age at *at* (default: now), oldest first."""
        return self.feedback(blz).pending(self._now() if at is None else at)

    def complete_item(self, blz: str, item_id: str, *, by: str) -> PendingItem:
        """A person (*by*) completed the pending item *item_id*: it is recorded, and its
        unsubscribe, objection or hard bounce enters the institute's consent ledger."""
        blz_text = str(Blz(blz))
        now = self._now()
        with self._transaction():
            state = self.feedback(blz_text).complete(item_id, by=by, at=now)
            item = state.items[item_id]
            self.store.put(self._ns("feedback", blz_text), item_id, _item_to_json(item))
            self._add_consent(blz_text, item.consent_event)
        return item

    # -- producing files ------------------------------------------------------------------

    def deliver(
        self,
        order: DeliveryOrder,
        rows: Iterable[Mapping[str, Any]],
        *,
        columns: Sequence[str] | None = None,
        pictures: Mapping[str, bytes] | None = None,
        facsimiles: Mapping[str, bytes] | None = None,
        encoding: str = "windows-1252",
    ) -> DeliveryResult:
        """Deliver a selection: every row is first checked against the institute's pending and
        processed feedback items (:func:`~emma_osplus._feedback.check_selection`; the
        customers held back are named in the result), then the subscriber list, the advisor
        *pictures* and *facsimiles* (file name → bytes) and, last, the manifest are written
        in one transaction and published in that order."""
        blz = str(order.blz)
        selection = list(rows)
        now = self._now()
        pictures = dict(pictures or {})
        facsimiles = dict(facsimiles or {})
        with self._transaction():
            state = self.feedback(blz)
            customers = [str(i.customer) for i in state.items.values()]
            keys = [i.address_key for i in state.items.values()]
            ledger = self._ledger_for(blz, customers, keys)
            guard = check_selection(selection, state, ledger=ledger, at=now)
            header = (
                list(columns)
                if columns is not None
                else list(selection[0])
                if selection
                else ["KUNDENNUMMER", "EMAIL"]
            )
            number = str(order.number)
            csv_name, _ = self._file_name(blz, order.kind, number, now)
            data = write_subscriber_list(
                order.kind,
                header,
                cast("list[Mapping[str, Any]]", guard.deliver),
                encoding=encoding,
                resolve_occasion=self._occasions,
            )
            files = [
                ManifestFile(
                    csv_name,
                    "abonnenten",
                    len(data),
                    hashlib.sha256(data).hexdigest(),
                    saetze=len(guard.deliver),
                    encoding=encoding,
                )
            ]
            for rolle, group in (("beraterbild", pictures), ("faksimile", facsimiles)):
                for name, content in group.items():
                    files.append(
                        ManifestFile(name, rolle, len(content), hashlib.sha256(content).hexdigest())
                    )
            manifest = Manifest(
                blz=blz,
                nummer=number,
                art=order.kind,
                bezeichnung=order.name,
                erstellt=order.created or now,
                anlass=order.occasion,
                options=ManifestOptions(
                    weiterleitung_sfp=order.forward,
                    beraterbilder=bool(pictures),
                    faksimiles=bool(facsimiles),
                ),
                files=files,
            )
            lief_name, _ = self._file_name(blz, "LIEF", number, now)
            written = [self._queue(csv_name, data)]
            for group in (pictures, facsimiles):
                for name, content in group.items():
                    written.append(self._queue(name, content))
            written.append(self._queue(lief_name, write_manifest(manifest)))
            self.store.put(
                self._ns("sent", blz),
                csv_name,
                {
                    "kind": order.kind,
                    "order": number,
                    "manifest": lief_name,
                    "rows": len(guard.deliver),
                    "held_back": [str(c) for c in guard.customers],
                    "at": now.isoformat(),
                },
            )
        return DeliveryResult(tuple(written), len(guard.deliver), tuple(guard.held_back))

    def send_control(self, control: ControlFile) -> str:
        """Write a control file (``VREKU``/``VIAM``) for EMMA; returns its name."""
        now = self._now()
        with self._transaction():
            name, _ = self._file_name(str(control.blz), control.kind, str(control.nummer), now)
            self._queue(name, write_control(control))
        return name

    def export_consent(self, blz: str, events: Iterable[ConsentEvent]) -> str | None:
        """Record consent events in the institute's ledger and send the new ones to EMMA in a
        ``CONS`` file (consent travels with its time, source and evidence).  Returns the file
        name, or ``None`` when every event was known."""
        blz_text = str(Blz(blz))
        now = self._now()
        with self._transaction():
            new = [e for e in events if self._add_consent(blz_text, e)]
            if not new:
                return None
            rows = [
                ConsentChange(e.customer, e.email, e.kind, e.at, e.source, e.evidence)
                for e in sorted(new, key=lambda e: e.sort_key)
            ]
            name, _ = self._file_name(blz_text, "CONS", "0", now)
            return self._queue(name, write_cons(rows))

    def delivery_status(self, blz: str, file_name: str) -> Mapping[str, Any] | None:
        """What OSPlus knows about a subscriber list it delivered: order, rows, customers held
        back, and (once EMMA's ``QUIT`` arrived) ``ack``."""
        sent: dict[str, Any] | None = self.store.get(self._ns("sent", str(Blz(blz))), file_name)
        if sent is None:
            return None
        sent["ack"] = self.acknowledgement(file_name)
        return sent
