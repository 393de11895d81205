"""Bounce classification: a receiving server's answer → hard, soft or complaint.

:func:`classify` reads the RFC 3463 enhanced status code (given, or found in the text), the
RFC 5321 reply code found in the text and common phrases of real diagnostics (English and
German), and applies :data:`RULES` — an ordered table, the first matching rule decides:

1. **Complaints**: feedback-loop / abuse reports (``Feedback-Type: abuse``, "marked as spam",
   "Beschwerde") → ``COMPLAINT``.
2. **Sender-side or passing trouble**, whatever the code: full mailbox or quota, greylisting,
   "try again later", spam filters, block lists, reputation, policy, authentication (SPF,
   DKIM, DMARC), size limits, time-outs → ``SOFT``.  The address may be fine.
3. **Temporary codes**: enhanced status ``4.x.x``, or a ``4xx`` reply without one → ``SOFT``.
4. **Enhanced status codes** that say enough: ``5.1.x`` (bad address, except ``5.1.7`` and
   ``5.1.8``, which are about the *sender*) and ``5.2.1`` (mailbox disabled) → ``HARD``;
   ``5.2.2`` (mailbox full), ``5.2.3``, ``5.2.4`` and ``5.7.x`` (security or policy) →
   ``SOFT``.
5. **Phrases of a missing mailbox**: "user unknown", "no such user", "does not exist",
   "mailbox unavailable", "Benutzer unbekannt", "existiert nicht" … → ``HARD``.
6. **The remaining enhanced codes** ``5.3.x`` to ``5.6.x`` (mail system, routing, protocol,
   content) → ``SOFT``.
7. **Reply codes** (when there is no enhanced status code, or only ``x.0.0``): ``551`` (user not local) and ``553`` (mailbox name not allowed) →
   ``HARD``; ``550``, ``552`` and ``554`` alone → ``SOFT``: RFC 5321 uses ``550`` for a missing
   mailbox *and* for policy refusals, so the code alone does not prove the address is dead.
8. Anything else → ``SOFT`` (rule ``unknown``): **an address is never removed on a guess**.

>>> from emma_osplus._bounces import classify
>>> verdict = classify("550-5.1.1 The email account that you tried to reach does not exist.")
>>> verdict.bounce_class.value, verdict.rule.name, verdict.status, verdict.reply
('hard', 'status-bad-address', '5.1.1', '550')
>>> classify("552 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException").bounce_class.value
'soft'
>>> classify("Feedback-Type: abuse").bounce_class.value
'complaint'
>>> classify("Zustellung fehlgeschlagen").rule.name
'unknown'
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence

import attrs

__all__ = ["RULES", "BounceClass", "BounceRule", "Classification", "classify"]


class BounceClass(enum.Enum):
    """What a bounce means for the address."""

    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"


@attrs.frozen
class BounceRule:
    """One row of the classification table.

    ``field`` is what the rule looks at: ``"text"`` (the diagnostic, whitespace collapsed,
    case ignored), ``"status"`` (the enhanced status code) or ``"reply"`` (the three-digit
    reply code; only when there is no enhanced status code or only an undefined ``x.0.0``).  ``pattern`` is a regular
    expression searched in that field (for codes: matched from the start).
    """

    name: str
    bounce_class: BounceClass
    field: str = attrs.field(validator=attrs.validators.in_(("text", "status", "reply")))
    pattern: str
    description: str
    _compiled: re.Pattern[str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        flags = re.IGNORECASE if self.field == "text" else 0
        object.__setattr__(self, "_compiled", re.compile(self.pattern, flags))

    def matches(self, text: str, status: str | None, reply: str | None) -> bool:
        """True when the rule applies to this diagnostic / status / reply code."""
        if self.field == "text":
            return self._compiled.search(text) is not None
        if self.field == "status":
            return status is not None and self._compiled.match(status) is not None
        undecided = status is None or status.endswith(".0.0")
        return undecided and reply is not None and self._compiled.match(reply) is not None


@attrs.frozen
class Classification:
    """The verdict: the class, the rule that decided and the codes that were read."""

    bounce_class: BounceClass
    rule: BounceRule
    status: str | None
    reply: str | None


_H, _S, _C = BounceClass.HARD, BounceClass.SOFT, BounceClass.COMPLAINT

#: The classification table, in order of precedence (the first matching rule decides).
RULES: tuple[BounceRule, ...] = (
    # 1. complaints (feedback loops, abuse reports)
    BounceRule("complaint-arf", _C, "text", r"feedback-type:\s*abuse", "ARF abuse report (RFC 5965)"),
    BounceRule("complaint-fbl", _C, "text", r"\bfeedback[- ]loop\b|\bfbl\b|\babuse[- ]report", "feedback loop / abuse report"),
    BounceRule("complaint-spam-mark", _C, "text", r"(?:marked|reported|flagged) (?:the |this |your )?(?:message |mail |e-?mail )?as (?:spam|junk)|als spam (?:markiert|gemeldet)", "the recipient marked the mail as spam"),
    BounceRule("complaint-word", _C, "text", r"\bcomplaint\b|\bbeschwerde\b", "a complaint"),
    # 2. sender-side or passing trouble, whatever the code
    BounceRule("mailbox-full", _S, "text", r"mailbox (?:is )?full|over ?quota|quota (?:exceeded|überschritten)|exceeded (?:the )?(?:mailbox|storage) (?:size )?limit|mailbox size limit|postfach (?:ist )?voll|speicherplatz|insufficient (?:system )?storage", "mailbox full or over quota"),
    BounceRule("greylisted", _S, "text", r"gr[ae]y-?list", "greylisting"),
    BounceRule("try-later", _S, "text", r"try (?:again )?later|try again|\btemporar(?:y|ily)\b|\bdeferred\b|vorübergehend|später erneut|retry time|retry timeout|failing for a long time|timed? ?out|connection refused", "temporary failure"),
    BounceRule("rate-limited", _S, "text", r"rate[- ]?limit|too many (?:connections|messages|recipients|mails)|unusual rate|unexpected volume", "the sender sends too much"),
    BounceRule("spam-or-block", _S, "text", r"spam|\bblock|black ?list|\brbl\b|dnsbl|reputation|banned|unsolicited", "spam filter or block list (the sender, not the address)"),
    BounceRule("policy-or-auth", _S, "text", r"\bpolic(?:y|ies)\b|unauthenticated|\bspf\b|\bdkim\b|\bdmarc\b|invalid dns|relay access denied|relaying denied", "policy or sender authentication"),
    BounceRule("message-too-large", _S, "text", r"message (?:size )?(?:exceeds|too (?:large|big))|size exceeds|zu gro(?:ß|ss)", "the message, not the address"),
    # 3. temporary codes
    BounceRule("status-temporary", _S, "status", r"4\.", "enhanced status class 4: persistent transient failure"),
    BounceRule("reply-temporary", _S, "reply", r"4", "reply code 4xx: transient negative completion"),
    # 4. enhanced status codes that say enough
    BounceRule("status-bad-sender", _S, "status", r"5\.1\.[78]$", "5.1.7 / 5.1.8: the sender's address is bad"),
    BounceRule("status-bad-address", _H, "status", r"5\.1\.", "5.1.x: bad destination mailbox, system or address syntax"),
    BounceRule("status-mailbox-disabled", _H, "status", r"5\.2\.1$", "5.2.1: mailbox disabled"),
    BounceRule("status-mailbox-full", _S, "status", r"5\.2\.[234]$", "5.2.2 mailbox full, 5.2.3 message too long, 5.2.4 list expansion"),
    BounceRule("status-policy", _S, "status", r"5\.7\.", "5.7.x: security or policy status"),
    # 5. phrases of a missing mailbox
    BounceRule("no-such-user", _H, "text", r"user unknown|unknown (?:user|recipient)|no such (?:user|mailbox|recipient|address|account)|does ?n[o']t exist|doesn't have an? .{0,40}account|mailbox (?:unavailable|not found|nicht verfügbar)|recipient ?not ?found|invalid (?:recipient|mailbox)|unrouteable address|recipient address rejected: access denied|no mailbox here", "the mailbox does not exist"),
    BounceRule("mailbox-disabled", _H, "text", r"(?:account|mailbox|user) (?:is |has been )?(?:disabled|deactivated|suspended)|is disabled", "the mailbox is disabled"),
    BounceRule("no-such-user-de", _H, "text", r"(?:benutzer|empfänger|adresse|mailbox|postfach) (?:ist )?unbekannt|unbekannte[rn]? (?:benutzer|empfänger)|existiert nicht|kein postfach|postfach (?:ist )?deaktiviert|ungültige (?:e-?mail-?)?adresse", "the mailbox does not exist (German)"),
    # 6. the remaining enhanced codes
    BounceRule("status-system", _S, "status", r"5\.[3-6]\.", "5.3.x-5.6.x: mail system, routing, protocol or content"),
    # 7. reply codes without an enhanced status
    BounceRule("reply-user-not-local", _H, "reply", r"551", "551: user not local"),
    BounceRule("reply-bad-mailbox-name", _H, "reply", r"553", "553: mailbox name not allowed"),
    BounceRule("reply-ambiguous", _S, "reply", r"55[024]", "550/552/554 alone: mailbox or policy, not decidable"),
)  # fmt: skip

#: The rule applied when nothing else matches.
UNKNOWN = BounceRule("unknown", _S, "text", r"", "nothing recognised: soft, never a guess")

_STATUS_IN_TEXT = re.compile(r"(?<![\d.])([245]\.[0-9]{1,3}\.[0-9]{1,3})(?![\d.])")
_STATUS = re.compile(r"[245]\.[0-9]{1,3}\.[0-9]{1,3}")
_REPLY_IN_TEXT = re.compile(r"(?<![\w.=-])([245][0-9]{2})(?=[ -]|$)")


def classify(
    diagnostic: str,
    status: str | None = None,
    *,
    rules: Sequence[BounceRule] = RULES,
) -> Classification:
    """Classify a bounce by its diagnostic text and (optionally) its enhanced status code.

    *status* wins over a code found in the text; an empty or malformed *status* is ignored.
    *rules* replaces the table (:data:`RULES`); the fallback is always ``SOFT``.

    >>> classify("host mx.example.de said: 450 4.2.0 <a@example.de>: Recipient address rejected: Greylisted").rule.name
    'greylisted'
    >>> classify("Unrouteable address").bounce_class.value
    'hard'
    """
    text = " ".join(diagnostic.split())
    code = status.strip() if status else ""
    if not _STATUS.fullmatch(code):
        found = _STATUS_IN_TEXT.search(text)
        code = found.group(1) if found else ""
    reply_match = _REPLY_IN_TEXT.search(text)
    reply = reply_match.group(1) if reply_match else None
    effective = code or None
    for rule in rules:
        if rule.matches(text, effective, reply):
            return Classification(rule.bounce_class, rule, effective, reply)
    return Classification(BounceClass.SOFT, UNKNOWN, effective, reply)
