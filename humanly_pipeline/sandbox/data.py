"""The sandbox's world model: seeded interviews whose state is a pure function of a virtual clock.

Every candidate interview has a *life story* derived from `hash(seed, key)`: when it was
created and invited, whether and when it gets answered (fully or partially) or expires, when
it is reviewed, whether it ends hired or archived, when its summary finishes processing and
when its score card appears. The state served at virtual time T is computed from (story, T);
nothing is stored per interview except three small arrays (created time, template, candidate)
that make listing and filtering fast. Transcripts and other results text are generated on
request, so 100k interviews cost a few MB.

Keys: `0 .. n-1` are the interviews that exist at the initial `now`, spread over `days` and
ordered by `createdAt`; `n ..` are interviews created after the initial now (`new_per_day`),
which become visible as the clock advances; `DRIFT_BASE + k` are interviews created by the
page-drift fault. Public ids are UUIDs whose low 32 bits are an invertible scramble of the key,
so an id maps back to its interview without an index of 100k strings.

This module owns data only; HTTP, faults that alter serialisation, and counting live in
`server.py` and `faults.py`.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import math
import random
import struct
import threading
import time
import unicodedata
import uuid
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from humanly_pipeline.sandbox import text

DAY = 86_400
HOUR = 3_600
MINUTE = 60
DRIFT_BASE = 1 << 31
_M32 = 0xFFFFFFFF
_INV32 = 1.0 / 4_294_967_296.0
_UNPACK16 = struct.Struct("<16I").unpack
_UUID_VERSION_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_VERSION_SET = (0x4000 << 64) | (0x8000 << 48)

# Documented statuses plus `expired`, which Humanly's analytics count (treated as servable).
INVITE_SENT = "invite_sent"
NEW_RESPONSE = "new_response"
HAS_REVIEWED = "has_reviewed"
PARTIALLY_COMPLETED = "partially_completed"
HIRED = "hired"
ARCHIVED = "archived"
EXPIRED = "expired"
UNKNOWN_STATUS = "on_hold"  # served only by the unknown-status fault
STATUSES = (INVITE_SENT, NEW_RESPONSE, HAS_REVIEWED, PARTIALLY_COMPLETED, HIRED, ARCHIVED, EXPIRED)

SUMMARY_STATUSES = ("pre-summary-feature", "processing", "complete", "error")
EVALUATION_TYPES = ("ai_generated", "manual", "hybrid")

# Id namespaces: each kind of object gets its own UUID space.
_NS_CI, _NS_CANDIDATE, _NS_TEMPLATE, _NS_QUESTION, _NS_USER, _NS_CARD, _NS_CRITERION = range(1, 8)


@dataclass(frozen=True)
class Template:
    """An interview (question set) as served by `/interviews`."""

    index: int
    title: str
    interview_type: str
    language: str
    archived: bool
    weight: float
    questions: tuple[str, ...]
    criteria: tuple[str, ...]


TEMPLATES: tuple[Template, ...] = (
    Template(
        0,
        "Customer Service Representative",
        "standard",
        "en",
        False,
        0.26,
        (
            "Tell us about yourself and why you applied.",
            "Describe a time you handled an upset customer.",
            "How do you prioritise when several customers need you at once?",
            "What does great customer service mean to you?",
            "What is your availability for evening and weekend shifts?",
        ),
        ("Communication", "Empathy", "Problem solving", "Availability"),
    ),
    Template(
        1,
        "Warehouse Associate",
        "standard",
        "en",
        False,
        0.24,
        (
            "Tell us about your experience in a warehouse or similar role.",
            "How do you stay safe when working around heavy equipment?",
            "Describe a time you had to work fast without making mistakes.",
            "Can you lift 50 lbs and stand for a full shift?",
        ),
        ("Safety awareness", "Reliability", "Physical readiness"),
    ),
    Template(
        2,
        "Retail Store Manager",
        "standard",
        "en",
        False,
        0.12,
        (
            "Walk us through your management experience.",
            "How do you build a schedule when two people call in sick?",
            "Describe a time you coached an underperforming employee.",
            "How do you hit a sales target in a slow month?",
            "Tell us about a conflict within your team and how you handled it.",
            "How do you handle inventory shrink?",
            "What would your first 30 days here look like?",
            "Why do you want to join our company?",
        ),
        ("Leadership", "Communication", "Business sense", "Problem solving", "Culture add"),
    ),
    Template(
        3,
        "Registered Nurse Screening",
        "standard",
        "en",
        False,
        0.14,
        (
            "Which units have you worked in, and for how long?",
            "Describe how you handle a patient who refuses medication.",
            "How do you prioritise when several patients need you at once?",
            "Tell us about a time you caught a medication error.",
            "Are you licensed in this state?",
            "What shifts are you available for?",
        ),
        ("Clinical judgement", "Communication", "Empathy", "Availability"),
    ),
    Template(
        4,
        "Sales Development Representative",
        "standard",
        "en",
        False,
        0.12,
        (
            "Tell us about a deal you are proud of.",
            "How do you handle rejection on a cold call?",
            "Pitch us a product you use every day.",
            "How do you organise your pipeline?",
            "What motivates you besides commission?",
            "Describe a time you missed a target.",
            "Why sales?",
        ),
        ("Communication", "Resilience", "Persuasion", "Organisation"),
    ),
    Template(
        5,
        "Delivery Driver Pre-screen",
        "questionnaire",
        "en",
        False,
        0.08,
        (
            "Do you hold a valid driver's licence?",
            "How many years of driving experience do you have?",
            "Are you available on weekends?",
        ),
        ("Eligibility", "Availability", "Experience"),
    ),
    Template(
        6,
        "Asistente de Tienda (Temporada 2023)",
        "standard",
        "es",
        True,
        0.04,
        (
            "Cuéntenos sobre su experiencia.",
            "¿Cómo atiende a un cliente molesto?",
            "¿Qué disponibilidad tiene?",
            "¿Por qué quiere trabajar con nosotros?",
            "¿Tiene preguntas para nosotros?",
        ),
        ("Comunicación", "Disponibilidad", "Actitud"),
    ),
)
_TEMPLATE_CUM = tuple(itertools.accumulate(t.weight for t in TEMPLATES))
_REVIEWERS = 8


def iso(ts: float, millis: bool = False) -> str:
    """UTC ISO-8601; both forms appear in the real API, so the sandbox serves both."""
    whole = int(ts)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    if millis:
        return f"{base}.{round((ts - whole) * 1000) % 1000:03d}Z"
    return base + "Z"


def _digest(seed: int, salt: bytes, key: int, size: int = 64) -> bytes:
    return hashlib.blake2b(b"%d:%s:%d" % (seed, salt, key), digest_size=size).digest()


def uniforms(seed: int, salt: bytes, key: int) -> list[float]:
    """Sixteen independent uniforms in [0, 1) for one (salt, key); the sandbox's only dice."""
    return [v * _INV32 for v in _UNPACK16(_digest(seed, salt, key))]


def unit(seed: int, salt: bytes, key: int) -> float:
    """One uniform in [0, 1) for (salt, key)."""
    return int.from_bytes(_digest(seed, salt, key, 8), "little") / 18_446_744_073_709_551_616.0


def _rng(seed: int, salt: bytes, key: int) -> random.Random:
    return random.Random(int.from_bytes(_digest(seed, salt, key, 16), "little"))


class _Ids:
    """Deterministic UUIDs that decode back to their key (low 32 bits = scrambled key)."""

    _C1 = 0x9E3779B1
    _C2 = 0x85EBCA6B
    _I1 = pow(_C1, -1, 1 << 32)
    _I2 = pow(_C2, -1, 1 << 32)

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._keys = {ns: int.from_bytes(_digest(seed, b"ns", ns, 4), "little") for ns in range(8)}

    def _mix(self, x: int, k: int) -> int:
        x = ((x ^ k) * self._C1) & _M32
        x ^= x >> 16
        x = (x * self._C2) & _M32
        return x ^ (x >> 16)

    def _unmix(self, x: int, k: int) -> int:
        x ^= x >> 16
        x = (x * self._I2) & _M32
        x ^= x >> 16
        return ((x * self._I1) & _M32) ^ k

    def make(self, ns: int, key: int) -> str:
        high = int.from_bytes(_digest(self.seed, b"id%d" % ns, key, 12), "big")
        value = (high << 32) | self._mix(key, self._keys[ns])
        # What uuid.UUID(int=value, version=4) does, without the object (listing hot path).
        value = (value & _UUID_VERSION_CLEAR) | _UUID_VERSION_SET
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def decode(self, ns: int, value: str) -> int | None:
        try:
            parsed = uuid.UUID(value)
        except (ValueError, AttributeError, TypeError):
            return None
        key = self._unmix(parsed.int & _M32, self._keys[ns])
        return key if self.make(ns, key) == str(parsed) else None


class Story:
    """The life of one candidate interview, in virtual seconds; `None` = never happens."""

    __slots__ = (
        "answered_at",
        "candidate",
        "card_at",
        "card_type",
        "created",
        "events",
        "expiry",
        "final_at",
        "final_status",
        "invite_sent",
        "key",
        "language",
        "n_answered",
        "outcome",
        "quality",
        "reviewed_at",
        "summary_at",
        "summary_final",
        "template",
    )

    def __init__(
        self,
        key: int,
        created: int,
        template: int,
        candidate: int,
        u: list[float],
        summary_cutoff: int,
    ) -> None:
        self.key = key
        self.created = created
        self.template = template
        self.candidate = candidate
        tpl = TEMPLATES[template]
        self.quality = u[14]
        self.invite_sent = created + int(u[15] * 120)  # the invite goes out within two minutes
        self.language = "es" if tpl.language == "es" or u[5] > 0.96 else "en"
        # Outcome mix: most invites get answered; some time out, some sit forever.
        o = u[3]
        self.outcome = (
            "complete"
            if o < 0.62
            else "partial"
            if o < 0.74
            else "expire"
            if o < 0.88
            else "ignore"
        )
        self.expiry: int | None = None if self.outcome == "ignore" else self.invite_sent + 7 * DAY
        self.answered_at: int | None = None
        self.n_answered = 0
        self.reviewed_at: int | None = None
        self.final_status: str | None = None
        self.final_at: int | None = None
        self.summary_final: str | None = None
        self.summary_at: int | None = None
        self.card_type: str | None = None
        self.card_at: int | None = None
        events: list[tuple[int, str]] = [(created, INVITE_SENT)]
        n_questions = len(tpl.questions)
        if self.outcome in ("complete", "partial"):
            # Skewed towards the first day; never after the invite expires.
            answered = self.invite_sent + 600 + int(u[4] * u[4] * (6.5 * DAY))
            self.answered_at = answered
            if self.outcome == "complete":
                self.n_answered = n_questions
                events.append((answered, NEW_RESPONSE))
                if u[6] < 0.70:
                    self.reviewed_at = answered + 2 * HOUR + int(u[7] * 5 * DAY)
                    events.append((self.reviewed_at, HAS_REVIEWED))
                    # Better candidates are likelier to be hired.
                    if u[8] < 0.06 + 0.18 * self.quality:
                        self.final_status = HIRED
                    elif u[8] > 0.88:
                        self.final_status = ARCHIVED
                    if self.final_status:
                        self.final_at = self.reviewed_at + DAY + int(u[9] * 5 * DAY)
                elif u[8] < 0.20:  # never reviewed, archived in a clean-up
                    self.final_status = ARCHIVED
                    self.final_at = answered + 5 * DAY + int(u[9] * 9 * DAY)
            else:
                self.n_answered = max(1, int(u[5] * (n_questions - 1)) + 1)
                self.n_answered = min(self.n_answered, n_questions - 1)
                events.append((answered, PARTIALLY_COMPLETED))
                if u[8] < 0.25:
                    self.final_status = ARCHIVED
                    self.final_at = answered + 3 * DAY + int(u[9] * 11 * DAY)
            if self.final_status and self.final_at is not None:
                events.append((self.final_at, self.final_status))
            if created < summary_cutoff:
                self.summary_final = "pre-summary-feature"
            else:
                self.summary_final = "error" if u[10] < 0.08 else "complete"
                self.summary_at = answered + 120 + int(u[11] * u[11] * 36 * HOUR)
            c = u[12]
            if c < 0.40:
                self.card_type, self.card_at = (
                    "ai_generated",
                    answered + 1800 + int(u[13] * 3 * DAY),
                )
            elif c < 0.62:
                self.card_type, self.card_at = "hybrid", answered + 1800 + int(u[13] * 3 * DAY)
            elif c < 0.77 and self.reviewed_at is not None:
                self.card_type, self.card_at = "manual", self.reviewed_at
        elif self.outcome == "expire" and self.expiry is not None:
            events.append((self.expiry, EXPIRED))
        self.events = events

    def status_at(self, t: int) -> str | None:
        status = None
        for at, value in self.events:
            if at > t:
                break
            status = value
        return status

    def updated_at(self, t: int) -> int:
        """The latest event of any kind (status, summary, score card, rating) at or before t."""
        times = [self.created, self.invite_sent]
        times.extend(at for at, _ in self.events)
        for extra in (self.summary_at, self.card_at):
            if extra is not None:
                times.append(extra)
        if self.reviewed_at is not None:
            times.append(self.reviewed_at + 2 * 17 * MINUTE)  # last possible rating
        return max(x for x in times if x <= t)


class World:
    """All sandbox data at the current virtual time. Thread-safe; the server shares one."""

    def __init__(
        self,
        interviews: int = 3000,
        seed: int = 0,
        *,
        days: float = 60.0,
        now: datetime | None = None,
        new_per_day: float | None = None,
        unknown_status_rate: float = 0.0,
    ) -> None:
        if interviews < 0:
            raise ValueError("interviews must be >= 0")
        if days <= 0:
            raise ValueError("days must be > 0")
        self.seed = seed
        self.n = interviews
        self.ids = _Ids(seed)
        if now is None:
            now = datetime.now(UTC).replace(second=0, microsecond=0)
        elif now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        self.initial_now = int(now.timestamp())
        self._now = self.initial_now
        self.span = max(1, int(days * DAY))
        self.start = self.initial_now - self.span
        rate = (interviews / days) if new_per_day is None else new_per_day
        self.new_per_day = max(0.0, rate)
        self._step = DAY / self.new_per_day if self.new_per_day > 0 else 0.0
        self.summary_cutoff = self.start + self.span // 4
        self.n_candidates = max(1, round(interviews * 0.85))
        self.unknown_status_rate = unknown_status_rate
        self._lock = threading.RLock()
        self._template_ids = [self.ids.make(_NS_TEMPLATE, t.index) for t in TEMPLATES]
        # Per-key facts needed for listing/filtering; everything else is recomputed on demand.
        self._created = array("q")
        self._template = bytearray()
        self._candidate = array("I")
        self._drift_created: list[int] = []
        self._order: list[int] | None = None
        self._by_status: dict[str, list[int]] | None = None
        self._deleted: set[int] = set()
        for key in range(interviews):
            self._append_key(key)
        self._extend_future()

    # -- keys and stories ---------------------------------------------------------------

    def _head(self, key: int) -> tuple[float, int, int]:
        """(created jitter, template, candidate) for a key, from its own hash."""
        d = _digest(self.seed, b"ci", key, 16)
        a, b, c, _ = struct.unpack("<4I", d)
        r = b / 4_294_967_296.0
        template = next(
            i for i, cum in enumerate(_TEMPLATE_CUM) if r < cum or i == len(TEMPLATES) - 1
        )
        return a / 4_294_967_296.0, template, c % self.n_candidates

    def _created_for(self, key: int, jitter: float) -> int:
        if key < self.n:
            return self.start + int((key + jitter) * self.span / self.n)
        return self.initial_now + 1 + int((key - self.n + jitter) * self._step)

    def _append_key(self, key: int) -> None:
        jitter, template, candidate = self._head(key)
        self._created.append(self._created_for(key, jitter))
        self._template.append(template)
        self._candidate.append(candidate)

    def _extend_future(self) -> None:
        """Make visible the scheduled interviews created at or before now (O(new ones))."""
        if self._step <= 0:
            return
        while True:
            key = len(self._created)
            jitter, _, _ = self._head(key)
            if self._created_for(key, jitter) > self._now:
                return
            self._append_key(key)

    def _facts(self, key: int) -> tuple[int, int, int]:
        if key >= DRIFT_BASE:
            _, template, candidate = self._head(key)
            return self._drift_created[key - DRIFT_BASE], template, candidate
        return self._created[key], self._template[key], self._candidate[key]

    def _visible(self, key: int) -> bool:
        if key in self._deleted:
            return False
        if key >= DRIFT_BASE:
            return key - DRIFT_BASE < len(self._drift_created)
        return 0 <= key < len(self._created)

    def story(self, key: int) -> Story:
        created, template, candidate = self._facts(key)
        return Story(
            key,
            created,
            template,
            candidate,
            uniforms(self.seed, b"story", key),
            self.summary_cutoff,
        )

    def status_of(self, story: Story, t: int | None = None) -> str:
        status = story.status_at(self._now if t is None else t) or INVITE_SENT
        if self.unknown_status_rate > 0 and (
            unit(self.seed, b"unknown-status", story.key) < self.unknown_status_rate
        ):
            return UNKNOWN_STATUS
        return status

    def key_of(self, candidate_interview_id: str) -> int | None:
        key = self.ids.decode(_NS_CI, candidate_interview_id)
        return key if key is not None and self._visible(key) else None

    def id_of(self, key: int) -> str:
        return self.ids.make(_NS_CI, key)

    # -- clock --------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    @property
    def now_ts(self) -> int:
        return self._now

    def advance(self, days: float = 1.0) -> datetime:
        """Move the virtual clock forward; scheduled interviews appear, stories move on."""
        if days < 0 or not math.isfinite(days):
            raise ValueError("days must be a finite number >= 0")
        with self._lock:
            self._now += round(days * DAY)
            self._extend_future()
            self._order = None
            self._by_status = None
            return self.now

    def delete(self, candidate_interview_ids: Iterable[str]) -> int:
        """Delete interviews upstream: they leave every listing and every endpoint answers 404
        for them (what the pipeline must notice as a soft delete). Returns how many existed."""
        with self._lock:
            keys = {k for i in candidate_interview_ids if (k := self.key_of(i)) is not None}
            self._deleted |= keys
            self._order = None
            self._by_status = None
            return len(keys)

    def drift(self, count: int) -> list[str]:
        """Create `count` brand-new interviews at the head of the listing (page-drift fault)."""
        created: list[str] = []
        with self._lock:
            order = self._ordered()
            for _ in range(count):
                key = DRIFT_BASE + len(self._drift_created)
                self._drift_created.append(self._now)
                # Newest createdAt and the largest key: always first in (createdAt, key) order.
                order.insert(0, key)
                if self._by_status is not None:
                    status = self.status_of(self.story(key))
                    self._by_status.setdefault(status, []).insert(0, key)
                created.append(self.id_of(key))
        return created

    # -- listing ------------------------------------------------------------------------

    def _ordered(self) -> list[int]:
        """Visible keys, createdAt descending, ties by key descending. Cached per clock value."""
        with self._lock:
            if self._order is None:
                scheduled = range(len(self._created) - 1, -1, -1)  # createdAt grows with key
                drifted = [DRIFT_BASE + k for k in range(len(self._drift_created) - 1, -1, -1)]
                if drifted:
                    self._order = list(
                        heapq.merge(scheduled, drifted, key=self._sort_key, reverse=True)
                    )
                else:
                    self._order = list(scheduled)
                if self._deleted:
                    self._order = [k for k in self._order if k not in self._deleted]
            return self._order

    def _sort_key(self, key: int) -> tuple[int, int]:
        return self._facts(key)[0], key

    def _keys(
        self,
        status: str | None,
        candidate_id: str | None,
        interview_id: str | None,
    ) -> list[int]:
        with self._lock:
            if status is None:
                keys = self._ordered()
            else:
                if self._by_status is None:
                    groups: dict[str, list[int]] = {}
                    for key in self._ordered():
                        groups.setdefault(self.status_of(self.story(key)), []).append(key)
                    self._by_status = groups
                keys = self._by_status.get(status, [])
            if candidate_id is not None:
                cand = self.ids.decode(_NS_CANDIDATE, candidate_id)
                keys = [k for k in keys if self._facts(k)[2] == cand] if cand is not None else []
            if interview_id is not None:
                tpl = self.ids.decode(_NS_TEMPLATE, interview_id)
                keys = [k for k in keys if self._facts(k)[1] == tpl] if tpl is not None else []
            return keys

    def list_page(
        self,
        page: int,
        limit: int,
        status: str | None = None,
        candidate_id: str | None = None,
        interview_id: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of trimmed items and the total matching count."""
        with self._lock:
            keys = self._keys(status, candidate_id, interview_id)
            chunk = keys[(page - 1) * limit : page * limit]
            return [self._trimmed(k) for k in chunk], len(keys)

    def listing(
        self,
        status: str | None = None,
        candidate_id: str | None = None,
        interview_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Ground truth: every trimmed item, in served order (for tests and the demo)."""
        with self._lock:
            return [self._trimmed(k) for k in self._keys(status, candidate_id, interview_id)]

    def total(self) -> int:
        with self._lock:
            return len(self._ordered())

    def count_by_status(self) -> dict[str, int]:
        with self._lock:
            self._keys(STATUSES[0], None, None)  # fills the per-status cache
            assert self._by_status is not None
            return {s: len(v) for s, v in sorted(self._by_status.items())}

    def ids_at(self, status: str | None = None) -> list[str]:
        return [item["id"] for item in self.listing(status=status)]

    # -- objects ------------------------------------------------------------------------

    def _trimmed(self, key: int) -> dict[str, Any]:
        s = self.story(key)
        return {
            "id": self.id_of(key),
            "candidateId": self.ids.make(_NS_CANDIDATE, s.candidate),
            "interviewId": self._template_ids[s.template],
            "status": self.status_of(s),
            "inviteSentAt": iso(s.invite_sent),
            "createdAt": iso(s.created),
        }

    def candidate_interview(self, candidate_interview_id: str) -> dict[str, Any] | None:
        """The full object (incl. inviteToken and updatedAt), or None if unknown."""
        with self._lock:
            key = self.key_of(candidate_interview_id)
            if key is None:
                return None
            s = self.story(key)
            item = self._trimmed(key)
            token = _digest(self.seed, b"token", key, 16).hex()
            external = None if unit(self.seed, b"ext", key) < 0.1 else f"ATS-{key:010d}"
            return {
                "id": item["id"],
                "candidateId": item["candidateId"],
                "interviewId": item["interviewId"],
                "status": item["status"],
                "inviteToken": f"inv_{token}",
                "expiry": iso(s.expiry, millis=True) if s.expiry is not None else None,
                "inviteSentAt": item["inviteSentAt"],
                "externalId": external,
                "createdAt": item["createdAt"],
                "updatedAt": iso(s.updated_at(self._now), millis=True),
            }

    def results(self, candidate_interview_id: str) -> dict[str, Any] | None:
        """The results `data` object, or None when the API answers 404 (unknown or unanswered)."""
        with self._lock:
            key = self.key_of(candidate_interview_id)
            if key is None:
                return None
            s = self.story(key)
            now = self._now
            status = self.status_of(s)
        if s.answered_at is None or s.answered_at > now:
            return None
        return self._results(s, status, now)

    def _results(self, s: Story, status: str, now: int) -> dict[str, Any]:
        seed = self.seed
        tpl = TEMPLATES[s.template]
        ci_id = self.id_of(s.key)
        rng = _rng(seed, b"results", s.key)
        transcriptions: list[dict[str, Any]] = []
        scores: list[dict[str, Any]] = []
        for ordinal in range(1, s.n_answered + 1):
            qid = self.ids.make(_NS_QUESTION, s.template * 16 + ordinal)
            skipped = rng.random() < 0.06
            words = (
                None
                if skipped
                else text.transcript(_rng(seed, b"q%d" % ordinal, s.key), s.language)
            )
            duration = None if skipped else round(5 + rng.random() * 170, 1)
            transcriptions.append(
                {
                    "questionId": qid,
                    "questionTitle": tpl.questions[ordinal - 1],
                    "ordinal": ordinal,
                    "transcription": words,
                    "durationSeconds": duration,
                    "language": s.language,
                    "confidence": None if skipped else round(0.62 + rng.random() * 0.37, 2),
                    "audioUrl": None
                    if skipped
                    else f"https://media.sandbox.invalid/audio/{ci_id}/{ordinal}.mp3",
                }
            )
            if not skipped:
                score = max(1, min(5, round(1 + s.quality * 4 + rng.uniform(-1.2, 1.2))))
                scores.append({"questionId": qid, "score": score, "maxScore": 5, "source": "ai"})
        reviewed = s.reviewed_at is not None and s.reviewed_at <= now
        ratings: list[dict[str, Any]] = []
        if reviewed:
            assert s.reviewed_at is not None
            rrng = _rng(seed, b"ratings", s.key)
            reviewers = rrng.sample(range(_REVIEWERS), rrng.randint(1, 3))
            for i, reviewer in enumerate(reviewers):
                rating = max(1, min(5, round(1 + s.quality * 4 + rrng.uniform(-1, 1))))
                at = s.reviewed_at + i * 17 * MINUTE
                if at > now:
                    break
                ratings.append(
                    {
                        "userId": self.ids.make(_NS_USER, reviewer),
                        "rating": rating,
                        "maxRating": 5,
                        "comment": text.comment(rrng),
                        "createdAt": iso(at + rrng.randint(0, 999) / 1000, millis=True),
                    }
                )
            manual = max(1, min(5, round(1 + s.quality * 4 + rrng.uniform(-0.8, 0.8))))
            scores.append({"questionId": None, "score": manual, "maxScore": 5, "source": "manual"})
        if s.summary_final == "pre-summary-feature":
            summary_status: str = "pre-summary-feature"
        elif s.summary_at is not None and s.summary_at <= now:
            summary_status = s.summary_final or "complete"
        else:
            summary_status = "processing"
        summary = (
            text.summary(_rng(seed, b"summary", s.key)) if summary_status == "complete" else None
        )
        card = None
        if s.card_type is not None and s.card_at is not None and s.card_at <= now:
            card = self._score_card(s, tpl)
        return {
            "candidateInterviewId": ci_id,
            "candidateId": self.ids.make(_NS_CANDIDATE, s.candidate),
            "interviewId": self.ids.make(_NS_TEMPLATE, s.template),
            "status": status,
            "takenAt": iso(s.answered_at or 0),
            "transcriptions": transcriptions,
            "scores": scores,
            "ratings": ratings,
            "summary": summary,
            "summaryStatus": summary_status,
            "scoreCard": card,
        }

    def _score_card(self, s: Story, tpl: Template) -> dict[str, Any]:
        crng = _rng(self.seed, b"card", s.key)
        raw = [crng.uniform(0.5, 2.0) for _ in tpl.criteria]
        weights = [round(w / sum(raw), 2) for w in raw]
        weights[-1] = round(1.0 - sum(weights[:-1]), 2)  # weights add up to exactly 1
        results: list[dict[str, Any]] = []
        overall = 0.0
        for criterion, weight in zip(tpl.criteria, weights, strict=True):
            score = max(1, min(5, round(1 + s.quality * 4 + crng.uniform(-1.5, 1.5))))
            overall += score * weight
            results.append(
                {
                    "criterionId": self.ids.make(_NS_CRITERION, s.template * 16 + len(results)),
                    "criterion": criterion,
                    "score": score,
                    "maxScore": 5,
                    "weight": weight,
                    "rationale": text.rationale(crng, criterion, score),
                }
            )
        assert s.card_at is not None and s.card_type is not None
        return {
            "id": self.ids.make(_NS_CARD, s.key),
            "name": f"{tpl.title} Scorecard",
            "evaluationType": s.card_type,
            "overallScore": round(overall, 2),
            "maxScore": 5,
            "evaluatedAt": iso(s.card_at),
            "results": results,
        }

    # -- dimensions ---------------------------------------------------------------------

    def template_id(self, index: int) -> str:
        return self.ids.make(_NS_TEMPLATE, index)

    def interview(self, interview_id: str) -> dict[str, Any] | None:
        index = self.ids.decode(_NS_TEMPLATE, interview_id)
        if index is None or index >= len(TEMPLATES):
            return None
        return self._template_obj(TEMPLATES[index])

    def interviews(
        self, archived: bool | None = None, interview_type: str | None = None
    ) -> list[dict[str, Any]]:
        return [
            self._template_obj(t)
            for t in TEMPLATES
            if (archived is None or t.archived == archived)
            and (interview_type is None or t.interview_type == interview_type)
        ]

    def _template_obj(self, t: Template) -> dict[str, Any]:
        created = self.start - (40 - 3 * t.index) * DAY
        return {
            "id": self.template_id(t.index),
            "title": t.title,
            "displayName": t.title.split(" (")[0],
            "interviewType": t.interview_type,
            "status": "archived" if t.archived else "active",
            "description": f"Screening interview for the {t.title} role.",
            "language": t.language,
            "questions": [
                {"id": self.ids.make(_NS_QUESTION, t.index * 16 + i), "title": q, "ordinal": i}
                for i, q in enumerate(t.questions, start=1)
            ],
            "createdAt": iso(created),
            "updatedAt": iso(created + (t.index + 1) * DAY),
        }

    def candidate_id(self, index: int) -> str:
        return self.ids.make(_NS_CANDIDATE, index)

    def candidates(self, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
        """Synthetic people only: names from a fixed list, example.com mail, 555-01xx phones."""
        indices = range(self.n_candidates)[(page - 1) * page_size : page * page_size]
        return [self.candidate(i) for i in indices], self.n_candidates

    def candidate(self, index: int) -> dict[str, Any]:
        u = uniforms(self.seed, b"person", index)
        first = text.FIRST_NAMES[int(u[0] * len(text.FIRST_NAMES))]
        last = text.LAST_NAMES[int(u[1] * len(text.LAST_NAMES))]
        cid = self.candidate_id(index)
        return {
            "id": cid,
            "firstName": first,
            "lastName": last,
            "email": f"{_ascii(first)}.{_ascii(last)}.{index}@example.com".lower(),
            "phone": f"+1-202-555-01{int(u[2] * 100):02d}",
            "resumeUrl": None if u[3] < 0.3 else f"https://files.sandbox.invalid/resumes/{cid}.pdf",
            "externalId": None if u[4] < 0.2 else f"CAND-{index:07d}",
            "timezone": text.TIMEZONES[int(u[5] * len(text.TIMEZONES))],
        }

    def results_ids(self) -> Iterable[str]:
        """Ids of every visible interview that has results now (ground truth for tests)."""
        with self._lock:
            keys = list(self._ordered())
            now = self._now
        for key in keys:
            s = self.story(key)
            if s.answered_at is not None and s.answered_at <= now:
                yield self.id_of(key)


def _ascii(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isalnum())
