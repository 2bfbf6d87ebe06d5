"""Writing a settlement's JSON: ``Settlement.to_json`` against pydantic-core's own
``model_dump_json``, which writes the same bytes (never a timed test).

``PYTHONPATH=src python3 benchmarks/bench_write.py`` (``--quick`` for a smoke run). For the
Panzhihua episodes of ``bench_targets.episode`` at 20, 200, 2 000 and 20 000 charges, in
both layouts (``indent=2``, the canonical text; ``indent=None``, what batch writes), it
prints the CPU time per call of each (best of several interleaved loops, as
``bench_targets`` measures) and their ratio, after checking that the two texts are equal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bench_targets import POLICY, episode, interleaved, us  # beside this script

from daycare_settle import settle


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args(argv)
    sizes = (20, 200) if args.quick else (20, 200, 2_000, 20_000)
    repeats = 3 if args.quick else 15
    print(f"{'charges':>8} {'indent':>6} {'model_dump_json':>16} {'to_json':>10} {'ratio':>6}")
    for charges in sizes:
        result = settle(episode(charges), policy=POLICY)
        loops = max(1, 2_000 // charges)
        for indent in (2, None):
            if result.to_json(indent=indent) != result.model_dump_json(indent=indent):
                print(f"{charges} charges, indent={indent}: the texts differ", file=sys.stderr)
                return 1
            serialiser, writer = interleaved(
                (
                    lambda result=result, indent=indent: result.model_dump_json(indent=indent),
                    lambda result=result, indent=indent: result.to_json(indent=indent),
                ),
                loops,
                repeats,
            )
            print(
                f"{charges:>8} {indent!s:>6} {us(serialiser):>16} {us(writer):>10} "
                f"{writer / serialiser:>6.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
