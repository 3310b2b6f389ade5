"""Benchmark of the client's results fan-out against the sandbox.

The sandbox runs in a child process (so that its CPU and GIL are not the client's) with 50 ms
latency and no rate limit; N results are fetched at concurrency C. Reports the achieved request
rate against the ideal C / latency, and the client's CPU per request (this process only).

Each C runs twice: with TCP_NODELAY switched on for the sandbox's handler (patched in the child
only), and against the sandbox as shipped. The shipped server writes headers and body in two
segments; Nagle + the client's delayed ACK then add ~40 ms to every response, which is a
property of the test server, not of the client.

Run: .venv/bin/python benchmarks/bench_client.py [--n 800] [--concurrency 8 16]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import platform
import time
from multiprocessing.connection import Connection

from humanly_pipeline.client import GatherClient

LATENCY = 0.050


def serve(n: int, nodelay: bool, conn: Connection) -> None:
    from humanly_pipeline.sandbox import Faults, Sandbox, server

    server._Handler.disable_nagle_algorithm = nodelay
    with Sandbox(interviews=n, seed=5, requests_per_hour=0, requests_per_minute=0,
                 faults=Faults(latency_ms=LATENCY * 1000)) as sb:  # fmt: skip
        conn.send((sb.base_url, sb.api_key, [item["id"] for item in sb.store.listing()]))
        conn.recv()  # until the parent is done
        conn.send(sb.requests_spent())


def run(n: int, concurrency: int, nodelay: bool) -> dict[str, float]:
    parent, child = mp.Pipe()
    proc = mp.get_context("fork").Process(target=serve, args=(n, nodelay, child), daemon=True)
    proc.start()
    base_url, api_key, ids = parent.recv()
    with GatherClient(base_url, api_key, requests_per_hour=0, requests_per_minute=0,
                      concurrency=concurrency) as client:  # fmt: skip
        list(client.fetch_results(ids[:concurrency]))  # warm the connection pool
        cpu0, wall0 = time.process_time(), time.perf_counter()
        outcomes = sum(1 for _ in client.fetch_results(ids))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    parent.send("done")
    spent = parent.recv()
    proc.join(timeout=10)
    assert outcomes == n and spent == n + concurrency
    rate, ideal = n / wall, concurrency / LATENCY
    return {"n": n, "c": concurrency, "wall": wall, "rate": rate, "ideal": ideal,
            "efficiency": rate / ideal, "cpu_ms_per_req": cpu / n * 1000}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=800)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 16])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} | {platform.node()} | {platform.platform()} | "
          f"python {platform.python_version()} | cpus {len(os.sched_getaffinity(0))}")  # fmt: skip
    print("| sandbox socket | N | concurrency | wall s | req/s | ideal req/s | efficiency "
          "| client CPU ms/req |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for nodelay in (True, False):
        for c in args.concurrency:
            r = run(args.n, c, nodelay)
            label = "TCP_NODELAY (patched)" if nodelay else "as shipped"
            print(f"| {label} | {r['n']} | {r['c']} | {r['wall']:.2f} | {r['rate']:.1f} | "
                  f"{r['ideal']:.0f} | {r['efficiency']:.1%} | "
                  f"{r['cpu_ms_per_req']:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
