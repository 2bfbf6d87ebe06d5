"""Writing a settlement's JSON: ``Settlement.to_json`` against pydantic-core's own
``model_dump_json``, which writes the same bytes (never a timed test).

``PYTHONPATH=src python3 benchmarks/bench_write.py`` (``--quick`` for a smoke run). For the
Panzhihua episodes of ``bench_targets.episode`` at 20, 200, 2 000 and 20 000 charges, in
both layouts (``indent=2``, the canonical text; ``indent=None``, what batch writes), it
prints the CPU time per settlement of each, after checking that the two texts are equal.

Each settlement is written once, as the command line, the service and batch write it: a
round settles a fresh batch of the same episode (not timed), then writes each of them once;
the serialiser and the writer take turns, round after round, and the best round counts.
Writing one settlement over and over would flatter the writer, which keeps the texts of the
records it has met (by identity) and of trace steps (by value).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence

from bench_targets import POLICY, cpu_clock, episode, us  # beside this script

from daycare_settle import Settlement, settle


def fresh_rounds(
    text: str, writers: Sequence[Callable[[Settlement], str]], count: int, rounds: int
) -> list[float]:
    """Seconds per settlement of each writer: the best of ``rounds`` rounds, each writing
    ``count`` freshly settled results once with every writer in turn (each its own batch)."""
    best = [float("inf")] * len(writers)
    for _ in range(rounds):
        for at, write in enumerate(writers):
            results = [settle(text, policy=POLICY) for _ in range(count)]
            start = cpu_clock()
            for result in results:
                write(result)
            best[at] = min(best[at], (cpu_clock() - start) / count)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args(argv)
    sizes = (20, 200) if args.quick else (20, 200, 2_000, 20_000)
    rounds = 2 if args.quick else 8
    print(f"{'charges':>8} {'indent':>6} {'model_dump_json':>16} {'to_json':>10} {'ratio':>6}")
    started = time.perf_counter()
    for charges in sizes:
        text = json.dumps(episode(charges))
        count = max(2, 2_000 // charges)
        for indent in (2, None):
            result = settle(text, policy=POLICY)
            if result.to_json(indent=indent) != result.model_dump_json(indent=indent):
                print(f"{charges} charges, indent={indent}: the texts differ", file=sys.stderr)
                return 1
            serialiser, writer = fresh_rounds(
                text,
                (
                    lambda result, indent=indent: result.model_dump_json(indent=indent),
                    lambda result, indent=indent: result.to_json(indent=indent),
                ),
                count,
                rounds,
            )
            print(
                f"{charges:>8} {indent!s:>6} {us(serialiser):>16} {us(writer):>10} "
                f"{writer / serialiser:>6.2f}"
            )
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
