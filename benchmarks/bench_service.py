"""A small load test of the HTTP service, loopback only, bounded in count and time.

``PYTHONPATH=src python3 benchmarks/bench_service.py [--requests 2000] [--connections 4]
[--time-limit 120]``: starts ``daycare-settle serve`` in its own process on a free port of
127.0.0.1, sends ``--requests`` ``POST /v1/settle`` requests (the bundled example episodes,
round robin, under their own policies) over ``--connections`` keep-alive connections, and
prints requests/s and the latency percentiles (p50, p90, p99, max), then a JSON-lines batch
of the same episodes through ``POST /v1/batch``. It stops by itself: after the count, or at
the time limit (what was done is reported), and always stops the server. No asserts on time.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
STARTUP = 30.0


def examples() -> list[tuple[str, bytes]]:
    """(policy, episode JSON) of every bundled example episode."""
    return [
        (path.parent.name, path.read_bytes())
        for path in sorted(EXAMPLES.glob("*/*.json"))
        if not path.name.endswith(".expected.json")
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "daycare_settle.cli", "serve"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + STARTUP
    while True:
        if process.poll() is not None:
            raise SystemExit("the server exited at startup")
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return process
        except httpx.TransportError:
            if time.monotonic() > deadline:
                process.kill()
                raise SystemExit("the server did not start") from None
            time.sleep(0.1)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def load(url: str, total: int, connections: int, limit: float) -> tuple[list[float], int, float]:
    """Latencies (s) of the requests done, the count of non-200 answers, the wall time."""
    episodes = examples()
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    counter = iter(range(total))
    deadline = time.monotonic() + limit

    def worker() -> None:
        nonlocal failures
        with httpx.Client(base_url=url, timeout=60) as client:
            while time.monotonic() < deadline:
                with lock:
                    number = next(counter, None)
                if number is None:
                    return
                policy, body = episodes[number % len(episodes)]
                started = time.perf_counter()
                response = client.post("/v1/settle", params={"policy": policy}, content=body)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    failures += response.status_code != 200

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures, time.perf_counter() - started


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def batch(url: str, repeat: int) -> tuple[int, float]:
    """Episodes settled through one ``/v1/batch`` request per policy and the wall time."""
    by_policy: dict[str, list[bytes]] = {}
    for policy, body in examples():
        by_policy.setdefault(policy, []).append(body.replace(b"\r", b" ").replace(b"\n", b" "))
    done = 0
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=120) as client:
        for policy, lines in by_policy.items():
            body = b"\n".join(lines * repeat)
            response = client.post("/v1/batch", params={"policy": policy}, content=body)
            done += len(response.content.splitlines())
    return done, time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds")
    parser.add_argument("--batch-repeat", type=int, default=20, help="copies per policy")
    args = parser.parse_args(argv)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port)
    try:
        latencies, failures, wall = load(url, args.requests, args.connections, args.time_limit)
        done, batch_wall = batch(url, args.batch_repeat)
    finally:
        stop_server(server)
    stopped = " (stopped at the time limit)" if len(latencies) < args.requests else ""
    print(f"POST /v1/settle: {len(latencies)} requests over {args.connections} connections")
    print(f"  in {wall:.1f} s{stopped}; {failures} answers other than 200")
    print(f"  requests/s: {len(latencies) / wall:.0f}")
    for name, share in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        print(f"  {name}: {percentile(latencies, share) * 1000:.1f} ms")
    print(f"  max: {max(latencies) * 1000:.1f} ms, mean {statistics.mean(latencies) * 1000:.1f} ms")
    print(f"POST /v1/batch: {done} episodes in {batch_wall:.2f} s, {done / batch_wall:.0f}/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
