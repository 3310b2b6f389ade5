"""Sandbox benchmark: world generation time and memory for 100k interviews, and requests/second.

Run: .venv/bin/python benchmarks/bench_sandbox.py [--interviews 100000] [--seconds 10]
Not a test: it prints figures to copy into benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import threading
import time
from datetime import UTC, datetime

import httpx
import psutil

from humanly_pipeline.sandbox import Sandbox, World

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def bench_generation(n: int) -> None:
    base = _rss_mb()
    t0 = time.perf_counter()
    world = World(n, 1, now=NOW)
    built = time.perf_counter() - t0
    after_build = _rss_mb()
    t1 = time.perf_counter()
    counts = world.count_by_status()  # every story evaluated once, cached per clock value
    statuses = time.perf_counter() - t1
    t2 = time.perf_counter()
    world.advance(1)
    world.count_by_status()
    advanced = time.perf_counter() - t2
    t3 = time.perf_counter()
    ids = [item["id"] for item in world.list_page(1, 100)[0]]
    answered = [i for i in ids if world.results(i) is not None]
    for ident in answered:
        world.results(ident)
    per_result = (time.perf_counter() - t3) / max(1, len(answered))
    peak = _rss_mb()
    print(f"generation of {n} interviews: {built:.2f} s, +{after_build - base:.1f} MB RSS")
    print(f"status of every interview at now (first filtered listing): {statuses:.2f} s")
    print(f"advance(1) + status recount: {advanced:.2f} s")
    print(f"results payload generation: {per_result * 1000:.2f} ms each")
    print(f"process RSS after all of the above: {peak:.1f} MB (baseline {base:.1f} MB)")
    print(f"status mix: {counts}")


def bench_http(endpoint: str, threads: int, seconds: float) -> None:
    with Sandbox(3000, 1, now=NOW, requests_per_hour=0, requests_per_minute=0) as sb:
        if endpoint == "results":
            ids = [i for i in sb.store.ids_at() if sb.store.results(i) is not None][:500]
            paths = [f"/qsi/gather/candidate-interviews/{i}/results" for i in ids]
        else:
            paths = [f"/qsi/gather/candidate-interviews?limit=100&page={p}" for p in range(1, 31)]
        done = [0] * threads
        stop = time.perf_counter() + seconds

        def worker(slot: int) -> None:
            with httpx.Client(
                base_url=sb.base_url, headers={"x-api-key": sb.api_key}, timeout=30
            ) as client:
                k = slot
                while time.perf_counter() < stop:
                    r = client.get(paths[k % len(paths)])
                    r.raise_for_status()
                    done[slot] += 1
                    k += threads

        workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - t0
        total = sum(done)
        print(
            f"HTTP {endpoint}: {total} requests in {elapsed:.1f} s with {threads} client threads "
            f"= {total / elapsed:.0f} req/s (clients in the same process)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interviews", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d} {platform.platform()} python {platform.python_version()}")
    print(f"cores: {os.cpu_count()}")
    bench_generation(args.interviews)
    bench_http("results", args.threads, args.seconds)
    bench_http("list", args.threads, args.seconds)


if __name__ == "__main__":
    main()
