"""Fault knobs of the sandbox and the deterministic dice that decide when they fire.

`Faults` is plain configuration (every knob off by default). `FaultDice` turns a request into
decisions. A decision is keyed on (seed, knob, request path incl. query, how many times that
path has been requested so far) and never on a global request counter, so the same client
behaviour gets the same faults no matter how its requests interleave across threads.

The payload-rewriting faults (extra fields, numbers as strings, truncated JSON) are applied to
the serialised response only; `Sandbox.store` keeps returning the clean ground truth. The
unknown-status fault is different: it changes what an interview *is*, so the store shows it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from typing import Any

# Fields whose values are numbers in the results payload; `numbers_as_strings` stringifies them.
_NUMERIC_FIELDS = frozenset(
    {
        "durationSeconds",
        "confidence",
        "score",
        "maxScore",
        "rating",
        "maxRating",
        "overallScore",
        "weight",
        "ordinal",
    }
)


@dataclass(frozen=True)
class Faults:
    """What can go wrong. Rates are shares in [0, 1]; everything defaults to off."""

    error_rate: float = 0.0
    """Share of API requests answered 500, 502 or 503 (after the rate limit spent them)."""
    burst_rate: float = 0.0
    """Chance that an API request starts a 429 burst (only outside a burst)."""
    burst_seconds: float = 5.0
    """How long a 429 burst lasts (rate-limit clock); `details.resetAt` is its end."""
    latency_ms: float = 0.0
    """Added delay before every API response."""
    jitter_ms: float = 0.0
    """Extra delay drawn uniformly from [0, jitter_ms] on top of `latency_ms`."""
    drop_rate: float = 0.0
    """Share of API requests whose connection is closed without any response."""
    malformed_rate: float = 0.0
    """Share of interviews (chosen by seed) whose results body is truncated, invalid JSON."""
    malformed_ids: frozenset[str] = field(default_factory=frozenset)
    """Candidate-interview ids whose results body is always truncated (in addition)."""
    page_drift: int = 0
    """After each candidate-interview listing page, this many new interviews appear at the head."""
    extra_fields: bool = False
    """Add unknown fields (top-level and nested) to list items, full objects and results."""
    numbers_as_strings: bool = False
    """Send numbers in results (scores, ratings, durations, weights...) as strings, e.g. "4"."""
    unknown_status_rate: float = 0.0
    """Share of interviews (chosen by seed) whose status is the undocumented `on_hold`."""

    def __post_init__(self) -> None:
        for name in (
            "error_rate",
            "burst_rate",
            "drop_rate",
            "malformed_rate",
            "unknown_status_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Faults.{name} must be within [0, 1], got {value}")
        for name in ("burst_seconds", "latency_ms", "jitter_ms", "page_drift"):
            if getattr(self, name) < 0:
                raise ValueError(f"Faults.{name} must be >= 0")
        object.__setattr__(self, "malformed_ids", frozenset(self.malformed_ids))

    def active(self) -> dict[str, Any]:
        """The knobs that differ from their defaults (for banners and logs)."""
        default = Faults()
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }


class FaultDice:
    """Deterministic fault decisions for one sandbox (seed + knobs)."""

    def __init__(self, seed: int, faults: Faults) -> None:
        self.seed = seed
        self.faults = faults

    def _u(self, knob: str, path: str, n: int) -> float:
        digest = hashlib.blake2b(
            f"{self.seed}\x00{knob}\x00{path}\x00{n}".encode(), digest_size=8
        ).digest()
        return int.from_bytes(digest, "little") / 18_446_744_073_709_551_616.0

    def starts_burst(self, path: str, n: int) -> bool:
        return self.faults.burst_rate > 0 and self._u("burst", path, n) < self.faults.burst_rate

    def drops(self, path: str, n: int) -> bool:
        return self.faults.drop_rate > 0 and self._u("drop", path, n) < self.faults.drop_rate

    def error_status(self, path: str, n: int) -> int | None:
        if self.faults.error_rate <= 0 or self._u("error", path, n) >= self.faults.error_rate:
            return None
        return (500, 502, 503)[int(self._u("error-kind", path, n) * 3)]

    def delay_seconds(self, path: str, n: int) -> float:
        f = self.faults
        if f.latency_ms <= 0 and f.jitter_ms <= 0:
            return 0.0
        return (f.latency_ms + self._u("jitter", path, n) * f.jitter_ms) / 1000.0

    def malformed(self, candidate_interview_id: str) -> bool:
        f = self.faults
        if candidate_interview_id in f.malformed_ids:
            return True
        return f.malformed_rate > 0 and (
            self._u("malformed", candidate_interview_id, 0) < f.malformed_rate
        )


def truncate(body: bytes) -> bytes:
    """A body cut off mid-document: what a proxy timeout or a buggy serializer produces."""
    return body[: max(1, len(body) // 2)]


def add_extra_fields(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    """Unknown fields a newer API version might send, at the top level and nested."""
    out = dict(obj)
    if kind == "item":
        out["sourceChannel"] = "sms"
        out["_links"] = {"self": f"/qsi/gather/candidate-interviews/{obj.get('id')}"}
    elif kind == "full":
        out["tags"] = ["sandbox", "priority"]
        out["metadata"] = {"ats": {"name": "SandboxATS", "syncedAt": obj.get("updatedAt")}}
    elif kind == "results":
        out["aiInsights"] = {"sentiment": "positive", "keywords": ["reliable", "customer"]}
        out["transcriptions"] = [
            {**t, "wordTimings": None, "sentiment": {"label": "neutral", "score": 0.1}}
            for t in obj.get("transcriptions") or []
        ]
        out["scores"] = [{**s, "rubricVersion": 3} for s in obj.get("scores") or []]
        out["ratings"] = [{**r, "visibility": "team"} for r in obj.get("ratings") or []]
        card = obj.get("scoreCard")
        if isinstance(card, dict):
            out["scoreCard"] = {
                **card,
                "templateVersion": 2,
                "results": [{**r, "evidence": []} for r in card.get("results") or []],
            }
    return out


def stringify_numbers(value: Any) -> Any:
    """Numbers of the results payload as strings ("4", "74.5"), recursively."""
    if isinstance(value, dict):
        return {
            k: (
                _num_str(v)
                if k in _NUMERIC_FIELDS and isinstance(v, int | float)
                else stringify_numbers(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [stringify_numbers(v) for v in value]
    return value


def _num_str(v: int | float) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
