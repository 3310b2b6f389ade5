"""Benchmark of ``humanly_pipeline.flatten.flatten`` against its floor, ``orjson.loads``.

This file owns the flatten benchmark only. It generates N realistic results bodies (several
transcriptions of a few hundred words, scores, ratings, a score card with 3-6 criteria) as the
bytes the API would send, then times (1) ``orjson.loads`` over every body, the unavoidable
floor, and (2) ``flatten()`` over the same bodies, Arrow tables included. Target: ratio <= 3.

    .venv/bin/python benchmarks/bench_flatten.py --n 20000
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import orjson
import psutil
import pyarrow as pa

from humanly_pipeline.flatten import IndexRow, RawResult, flatten

_WORDS = [
    "I",
    "think",
    "the",
    "most",
    "important",
    "thing",
    "in",
    "my",
    "last",
    "role",
    "was",
    "working",
    "closely",
    "with",
    "the",
    "team",
    "to",
    "make",
    "sure",
    "our",
    "customers",
    "were",
    "happy",
    "and",
    "that",
    "every",
    "order",
    "shipped",
    "on",
    "time",
    "even",
    "when",
    "we",
    "were",
    "short",
    "staffed",
    "during",
    "the",
    "holidays",
    "so",
    "I",
    "learned",
    "a",
    "lot",
    "about",
    "prioritising",
    "communicating",
    "clearly",
    "and",
    "staying",
    "calm",
    "under",
    "pressure",
    "which",
    "is",
    "something",
    "I",
    "would",
    "bring",
    "here",
    "as",
    "well",
]
# Speech-to-text output is mostly ASCII; a share of texts carry accents, a few an emoji. The
# share matters: Arrow must UTF-8-encode every non-ASCII Python string (ASCII ones are copied).
_NON_ASCII = ("café", "naïve", "résumé", "São Paulo", "Zürich", "😀")


def _text(rng: random.Random, words: int, non_ascii: float = 0.0) -> str:
    chosen = [rng.choice(_WORDS) for _ in range(words)]
    if non_ascii and rng.random() < non_ascii:
        chosen[rng.randrange(words)] = rng.choice(_NON_ASCII)
    return " ".join(chosen)


def _ts(dt: datetime, millis: bool) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (".000Z" if millis else "Z")


def make_payload(rng: random.Random, cid: str, created: datetime, non_ascii: float = 0.1) -> bytes:
    taken = created + timedelta(hours=rng.randint(1, 96))
    n_q = rng.randint(4, 8)
    transcriptions = [
        {
            "questionId": str(uuid.UUID(int=rng.getrandbits(128))),
            "questionTitle": _text(rng, 12) + "?",
            "ordinal": i + 1,
            "transcription": _text(rng, rng.randint(150, 400), non_ascii),
            "durationSeconds": round(rng.uniform(20, 180), 1),
            "language": "en",
            "confidence": round(rng.uniform(0.7, 0.99), 2),
            "audioUrl": f"https://media.example.com/audio/{cid}/{i}.mp3",
        }
        for i in range(n_q)
    ]
    scores = [
        {
            "questionId": t["questionId"],
            "score": rng.randint(1, 5),
            "maxScore": 5,
            "source": rng.choice(("ai", "manual")),
        }
        for t in transcriptions
    ]
    ratings = [
        {
            "userId": str(uuid.UUID(int=rng.getrandbits(128))),
            "rating": rng.randint(1, 5),
            "maxRating": 5,
            "comment": rng.choice((None, _text(rng, 20, non_ascii))),
            "createdAt": _ts(taken + timedelta(days=1), millis=True),
        }
        for _ in range(rng.randint(0, 3))
    ]
    criteria = [
        {
            "criterionId": str(uuid.UUID(int=rng.getrandbits(128))),
            "criterion": rng.choice(("Communication", "Experience", "Reliability", "Attitude")),
            "score": rng.randint(1, 5),
            "maxScore": 5,
            "weight": 0.25,
            "rationale": _text(rng, 30, non_ascii),
        }
        for _ in range(rng.randint(3, 6))
    ]
    data = {
        "candidateInterviewId": cid,
        "candidateId": str(uuid.UUID(int=rng.getrandbits(128))),
        "interviewId": str(uuid.UUID(int=rng.getrandbits(128))),
        "status": "has_reviewed",
        "takenAt": _ts(taken, millis=False),
        "transcriptions": transcriptions,
        "scores": scores,
        "ratings": ratings,
        "summary": _text(rng, 80, non_ascii),
        "summaryStatus": "complete",
        "scoreCard": {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "name": "Default card",
            "evaluationType": "hybrid",
            "overallScore": 3.7,
            "maxScore": 5,
            "evaluatedAt": _ts(taken + timedelta(hours=2), millis=True),
            "results": criteria,
        },
    }
    meta = {"requestId": str(uuid.UUID(int=rng.getrandbits(128))), "timestamp": _ts(taken, True)}
    return orjson.dumps({"data": data, "meta": meta})


class PeakRss:
    """Samples this process's RSS with psutil every few milliseconds (ru_maxrss cross-checks)."""

    def __init__(self) -> None:
        self._proc = psutil.Process()
        self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="number of payloads")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="best of R timings")
    parser.add_argument(
        "--non-ascii", type=float, default=0.1, help="share of texts with a non-ASCII word"
    )
    args = parser.parse_args()

    rng = random.Random(args.seed)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    fetched = datetime(2024, 6, 1, tzinfo=UTC)
    index: list[IndexRow] = []
    raws: dict[str, RawResult] = {}
    for i in range(args.n):
        cid = str(uuid.UUID(int=rng.getrandbits(128)))
        created = base + timedelta(minutes=37 * i)
        index.append(IndexRow(cid, None, None, "has_reviewed", created, created, date(2024, 1, 1)))
        body = make_payload(rng, cid, created, args.non_ascii)
        raws[cid] = RawResult(cid, body, fetched, f"raw/{cid}")
    bodies = [r.body for r in raws.values()]
    total_mb = sum(map(len, bodies)) / 1e6
    rss_before = psutil.Process().memory_info().rss

    # Interleaved best-of-R: the machine may be shared, and both sides should see the same
    # conditions. Wall clock and process CPU time are both reported.
    floor_wall = floor_cpu = best_wall = best_cpu = float("inf")
    rows: dict[str, int] = {}
    for _ in range(args.repeat):
        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        for b in bodies:
            orjson.loads(b)
        floor_wall = min(floor_wall, time.perf_counter() - w0)
        floor_cpu = min(floor_cpu, time.process_time() - c0)

        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        out = flatten(index, raws)
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
        rows = {name: t.num_rows for name, t in out.tables.items()}
        del out

    # Peak memory in a separate, untimed run: the sampling thread would perturb the timings.
    gc.collect()
    with PeakRss() as peak:
        out = flatten(index, raws)
        del out
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def rate(seconds: float) -> str:
        return (
            f"{seconds:.3f} s  {args.n / seconds:,.0f} payloads/s  {total_mb / seconds:,.0f} MB/s"
        )

    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {psutil.cpu_count()} cpus, "
        f"load average {os.getloadavg()[0]:.2f}, Python {platform.python_version()}, "
        f"pyarrow {pa.__version__}, orjson {orjson.__version__}"
    )
    print(f"payloads: {args.n}, {total_mb:.1f} MB, {total_mb * 1e3 / args.n:.1f} kB avg")
    print(f"non-ASCII share of texts: {args.non_ascii}")
    print(f"rows: {rows}")
    print(f"orjson.loads (floor), wall: {rate(floor_wall)}")
    print(f"flatten(),            wall: {rate(best_wall)}")
    print(f"orjson.loads (floor), cpu:  {rate(floor_cpu)}")
    print(f"flatten(),            cpu:  {rate(best_cpu)}")
    print(
        f"ratio flatten/orjson: wall {best_wall / floor_wall:.2f}x, cpu {best_cpu / floor_cpu:.2f}x"
    )
    print(
        f"RSS: {rss_before / 1e6:.0f} MB with bodies in memory, peak {peak.peak / 1e6:.0f} MB "
        f"during flatten (psutil sampling; ru_maxrss {maxrss_mb:.0f} MB)"
    )


if __name__ == "__main__":
    main()
