"""The targets of issue 10, measured side by side on this machine (never a timed test).

``PYTHONPATH=src python3 benchmarks/bench_targets.py`` (a few minutes; ``--quick`` for a
smoke run of seconds). It prints:

- the **floor**: a plain pydantic v2 model of the episode's shape (below, no custom
  validators) validating the same dict and the same JSON text;
- **core**: ``settle(dict, policy=...)`` → ``Settlement``; **end to end**: JSON text in →
  canonical JSON text out; their ratios to the floor against the targets (core ≤ 2×,
  end to end ≤ 3.5×);
- cost per charge at 20, 200, 2 000 and 20 000 charges (target: ≤ 1.3× the 20-charge one);
- latency p50 / p99 of single 20-charge episodes, end to end;
- peak traced memory settling one 100 000-charge episode (tracemalloc; target < 1 KB per
  charge);
- a 20 000-entry procedure catalogue against the starter catalogue (target: within 10 %);
- batch rate on 1 and 2 workers (target: 2 workers ≥ 1.8× one);
- with ``--profile``, where the end-to-end time goes: cProfile's own time per source file
  and the functions that own the most (the profile docs/performance.md quotes).

Per-call times are CPU time of the benchmark's thread (``time.thread_time``), the best of
several repeats of a short loop: on a shared machine, time spent waiting for a core does not
count, and other load only ever slows a run down. Latency and batch rates are wall-clock.
The figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import itertools
import json
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from daycare_settle import load_policy, parse_episode, settle
from daycare_settle.batch import settle_many
from daycare_settle.engine.settle import settle_episode
from daycare_settle.policy import resolve_policy, rules_root

POLICY = "panzhihua"
ADMITTED = dt.datetime(2025, 3, 10, 8, 0)  # noqa: DTZ001 - naive: read as Asia/Shanghai
CATEGORIES = ("examination", "surgery", "lab_test", "western_drug", "medical_material")


# --- the floor: the episode's shape as plain pydantic, no custom validators ---------------


class FloorInstitution(BaseModel):
    id: str
    tier: int
    filed_programmes: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    filed_diseases: tuple[str, ...] | None = None


class FloorPatient(BaseModel):
    id: str


class FloorCode(BaseModel):
    code: str
    system: Literal["ICD-10", "TCD", "ICD-9-CM-3"]


class FloorCharge(BaseModel):
    id: str
    at: dt.datetime
    setting: Literal["day_care", "outpatient", "post_discharge", "inpatient"]
    institution_id: str | None = None
    category: str
    amount: Decimal
    quantity: Decimal | None = None
    related: bool = False
    route: str | None = None


class FloorEpisode(BaseModel):
    episode_id: str
    programme: Literal["day_surgery", "day_chemo", "tcm_day_care"]
    admitted_at: dt.datetime
    discharged_at: dt.datetime
    institution: FloorInstitution
    patient: FloorPatient
    consent_signed: bool
    extension_reason: str | None = None
    diagnoses: tuple[FloorCode, ...]
    procedures: tuple[FloorCode, ...] = ()
    charges: tuple[FloorCharge, ...]


# --- inputs -------------------------------------------------------------------------------


def episode(charges: int, number: int = 0, *, day: int = 0) -> dict[str, Any]:
    """A Panzhihua day-surgery episode as a hospital sends it: ``charges`` charges, most in
    the stay, some outpatient before admission (merged or not) and after discharge; admitted
    ``day`` days after the benchmark's first admission (its times, and so its trace texts,
    differ from day to day)."""
    admitted = ADMITTED + dt.timedelta(days=day)
    items = []
    for k in range(charges):
        where = k % 10
        if where < 7:
            setting, at = "day_care", admitted + dt.timedelta(hours=1 + (k % 18))
        elif where < 9:
            setting, at = "outpatient", admitted - dt.timedelta(days=1 + k % 5)
        else:
            setting, at = "post_discharge", admitted + dt.timedelta(days=2 + k % 5)
        items.append(
            {
                "id": f"c{k}",
                "at": at.isoformat(),
                "setting": setting,
                "category": CATEGORIES[k % len(CATEGORIES)],
                "amount": f"{10 + k % 900}.{k % 100:02d}",
                "related": k % 3 != 0,
            }
        )
    return {
        "episode_id": f"BENCH-{charges}-{number}",
        "programme": "day_surgery",
        "admitted_at": admitted.isoformat(),
        "discharged_at": (admitted + dt.timedelta(hours=20)).isoformat(),
        "institution": {"id": "H-1", "tier": 3, "filed_programmes": ["day_surgery"]},
        "patient": {"id": f"P-{number}"},
        "consent_signed": True,
        "diagnoses": [{"code": "K80.20", "system": "ICD-10"}],
        "procedures": [{"code": "51.2300x001", "system": "ICD-9-CM-3"}],
        "charges": items,
    }


# --- measuring ----------------------------------------------------------------------------


def cpu_clock() -> float:
    """The CPU time of this thread: on a machine shared with other work, the time this
    process was not running does not count (wall-clock time only ever adds other
    processes' load; latency and batch rates below are wall-clock)."""
    return time.thread_time()


def per_call(run: Callable[[], object], loops: int, repeats: int) -> float:
    """Seconds per call: the best of ``repeats`` loops of ``loops`` calls."""
    best = float("inf")
    for _ in range(repeats):
        start = cpu_clock()
        for _ in range(loops):
            run()
        best = min(best, (cpu_clock() - start) / loops)
    return best


def interleaved(runs: Sequence[Callable[[], object]], loops: int, repeats: int) -> list[float]:
    """Seconds per call of each of ``runs``: the best of ``repeats`` rounds, each round
    timing one loop of every run in turn, so that a burst of load from other processes
    falls on all of them alike and the ratios between them hold."""
    best = [float("inf")] * len(runs)
    for _ in range(repeats):
        for at, run in enumerate(runs):
            start = cpu_clock()
            for _ in range(loops):
                run()
            best[at] = min(best[at], (cpu_clock() - start) / loops)
    return best


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


@dataclass
class Sizes:
    loops: int
    repeats: int
    per_charge: Sequence[int]
    latency_runs: int
    memory_charges: int
    catalogue_entries: int
    batch_episodes: int


FULL = Sizes(50, 30, (20, 200, 2_000, 20_000), 2_000, 100_000, 20_000, 4_000)
QUICK = Sizes(5, 1, (20, 200), 50, 500, 500, 16)


POOL = 250
"""Distinct 20-charge episodes the per-call figures cycle through (each admitted on another
day, so that no text or record of one is simply the last one's: the result writer keeps the
texts of recurring records, as it would for a hospital's stream of episodes)."""


def cycling(items: Sequence[Any]) -> Callable[[], Any]:
    """A function that returns the next of ``items`` on each call, round and round."""
    return itertools.cycle(items).__next__


def pool_of_episodes() -> list[dict[str, Any]]:
    return [episode(20, number, day=number) for number in range(POOL)]


def floor_and_core(sizes: Sizes) -> tuple[float, float, float]:
    datas = pool_of_episodes()
    texts = [json.dumps(data) for data in datas]
    data, text, data_again, text_again = (cycling(items) for items in (datas, texts) * 2)
    floor_dict, floor_json, core, e2e = interleaved(
        (
            lambda: FloorEpisode.model_validate(data()),
            lambda: FloorEpisode.model_validate_json(text()),
            lambda: settle(data_again(), policy=POLICY),
            lambda: settle(text_again(), policy=POLICY).to_json(indent=None),
        ),
        sizes.loops,
        sizes.repeats,
    )
    print("20-charge episode")
    print(f"  floor, dict   {us(floor_dict):>12}")
    print(f"  floor, JSON   {us(floor_json):>12}")
    print(
        f"  core          {us(core):>12}   {core / floor_dict:5.1f}× floor (target ≤ 2×: "
        f"{verdict(core <= 2 * floor_dict)})"
    )
    print(
        f"  end to end    {us(e2e):>12}   {e2e / floor_json:5.1f}× floor (target ≤ 3.5×: "
        f"{verdict(e2e <= 3.5 * floor_json)})   {1 / e2e:,.0f} episodes/s/core"
    )
    return floor_dict, core, e2e


def breakdown(sizes: Sizes) -> None:
    """Where a 20-charge settlement's time goes, stage by stage (the stages ``settle`` runs),
    each stage cycling through the same distinct episodes."""
    datas = pool_of_episodes()
    texts = [json.dumps(data) for data in datas]
    parsed = [parse_episode(data) for data in datas]
    day = ADMITTED.date()
    policy = resolve_policy(POLICY, on=day)
    results = [settle_episode(episode, policy) for episode in parsed]
    data, floor_data, text, episode_, result = (
        cycling(items) for items in (datas, datas, texts, parsed, results)
    )
    stages: list[tuple[str, Callable[[], object]]] = [
        ("parse a dict", lambda: parse_episode(data())),
        ("parse JSON text", lambda: parse_episode(text())),
        ("resolve_policy", lambda: resolve_policy(POLICY, on=day)),
        ("decide (settle_episode)", lambda: settle_episode(episode_(), policy)),
        ("serialise (to_json)", lambda: result().to_json(indent=None)),
        ("serialise, canonical", lambda: result().to_json()),
    ]
    print("where the time goes, 20 charges (the floor timed again alongside)")
    runs: list[Callable[[], object]] = [lambda: FloorEpisode.model_validate(floor_data())]
    floor_again, *times = interleaved(runs + [run for _, run in stages], sizes.loops, sizes.repeats)
    print(f"  {'floor, dict':<24} {us(floor_again):>10}")
    for (name, _), seconds in zip(stages, times, strict=True):
        print(f"  {name:<24} {us(seconds):>10}  {seconds / floor_again:5.1f}× floor")


def per_charge(sizes: Sizes) -> None:
    print("cost per charge, end to end")
    base = None
    for charges in sizes.per_charge:
        text = json.dumps(episode(charges))
        loops = max(1, sizes.loops * 20 // charges)
        seconds = per_call(
            lambda text=text: settle(text, policy=POLICY).to_json(indent=None), loops, sizes.repeats
        )
        cost = seconds / charges
        base = base or cost
        print(
            f"  {charges:>7,} charges {us(seconds):>14}  {cost * 1e6:7.1f} µs/charge  "
            f"{cost / base:4.2f}× the 20-charge cost (target ≤ 1.3×)"
        )


def latency(sizes: Sizes) -> None:
    texts = [json.dumps(episode(20, n)) for n in range(50)]
    times = []
    for n in range(sizes.latency_runs):
        text = texts[n % len(texts)]
        start = time.perf_counter()
        settle(text, policy=POLICY).to_json(indent=None)
        times.append(time.perf_counter() - start)
    cuts = statistics.quantiles(times, n=100)
    print(f"latency, 20 charges end to end: p50 {us(cuts[49])}, p99 {us(cuts[98])}")


def memory(sizes: Sizes) -> None:
    text = json.dumps(episode(sizes.memory_charges))
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    result = settle(text, policy=POLICY).to_json(indent=None)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    per = (peak - base) / sizes.memory_charges
    print(
        f"peak memory, {sizes.memory_charges:,}-charge episode: {(peak - base) / 2**20:,.0f} MiB"
        f" ({per:,.0f} B/charge; target < 1 024: {verdict(per < 1024)}; input "
        f"{len(text) / 2**20:.1f} MiB, output {len(result) / 2**20:.1f} MiB)"
    )


def big_catalogue(sizes: Sizes) -> None:
    """The Panzhihua rules with the day-surgery catalogue grown to N entries, all before the
    real ones (the worst case for a scan; the index does not care), against an unchanged
    copy: both are settled by rule-file path, so both pay the same policy lookup."""
    with tempfile.TemporaryDirectory() as tmp:
        starter_dir, grown_dir = Path(tmp) / "starter", Path(tmp) / "grown"
        shutil.copytree(rules_root() / "panzhihua", starter_dir)
        shutil.copytree(rules_root() / "panzhihua", grown_dir)
        catalogue = grown_dir / "catalogues" / "day-surgery-procedures.yaml"
        text = catalogue.read_text(encoding="utf-8")
        head, entries = text.split("entries:\n", 1)
        filler = "".join(
            f'  - {{code: "{n // 100:03d}.{n % 100:02d}", name: "filler {n}"}}\n'
            for n in range(sizes.catalogue_entries)
        )
        catalogue.write_text(f"{head}entries:\n{filler}{entries}", encoding="utf-8")
        starter, grown = next(starter_dir.glob("*.yaml")), next(grown_dir.glob("*.yaml"))
        assert len(load_policy(grown).catalogues["day_surgery_procedures"].entries) > (
            sizes.catalogue_entries
        )
        data = episode(20)
        assert settle(data, policy=grown).lines == settle(data, policy=starter).lines
        small = per_call(lambda: settle(data, policy=starter), sizes.loops, sizes.repeats)
        large = per_call(lambda: settle(data, policy=grown), sizes.loops, sizes.repeats)
    print(
        f"catalogue of {sizes.catalogue_entries:,} entries: {us(large)} vs starter "
        f"{us(small)} ({large / small - 1:+.0%}; target within 10 %: "
        f"{verdict(large <= 1.1 * small)})"
    )


def batch(sizes: Sizes) -> None:
    """Episodes per second through ``settle_many``, JSON lines in and out, on 1 worker (in
    process) and 2 (a process pool). A pool's start-up (forking two workers that compile the
    policy) is timed apart and left out of the rate; the first pool of a process also starts
    the forkserver, which imports the library once."""
    lines = [json.dumps(episode(20, n)) for n in range(sizes.batch_episodes)]

    def start_up() -> float:
        start = time.perf_counter()
        for _ in settle_many(lines[:2], POLICY, workers=2):
            pass
        return time.perf_counter() - start

    first, warm = start_up(), start_up()
    rates = {}
    for workers in (1, 2):
        start = time.perf_counter()
        count = sum(1 for _ in settle_many(lines, POLICY, workers=workers))
        elapsed = time.perf_counter() - start - (warm if workers > 1 else 0.0)
        rates[workers] = count / elapsed
    ratio = rates[2] / rates[1]
    print(
        f"batch, {sizes.batch_episodes:,} 20-charge episodes: 1 worker {rates[1]:,.0f}/s, "
        f"2 workers {rates[2]:,.0f}/s ({ratio:.2f}×; target ≥ 1.8×: {verdict(ratio >= 1.8)}); "
        f"pool start-up {warm:.2f} s, first pool of a process {first:.2f} s"
    )


def profile(sizes: Sizes, top: int = 15) -> None:
    """cProfile of the end-to-end run (JSON text in, canonical text out) of the 20-charge
    episodes: own time grouped by the library's source file (pydantic-core's validators and
    serialisers, the standard library and builtins as groups of their own), then the
    functions with the most own time. The profiler inflates Python calls against native
    ones: read the shares, not the times."""
    text = cycling([json.dumps(data) for data in pool_of_episodes()])
    runs = max(1, sizes.loops * 4)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        settle(text(), policy=POLICY).to_json()
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = stats.stats  # type: ignore[attr-defined]
    total = sum(own for _, _, own, _, _ in rows.values()) or 1.0
    groups: dict[str, float] = {}
    for (file, _, name), (_, _, own, _, _) in rows.items():
        groups[_profile_group(file, name)] = groups.get(_profile_group(file, name), 0.0) + own
    print(f"profile, {runs} × end to end (canonical text out): own time by where it is spent")
    for group, own in sorted(groups.items(), key=lambda item: -item[1]):
        if own / total >= 0.005:
            print(f"  {own / total:6.1%}  {group}")
    print(f"  the {top} functions with the most own time")
    ranked = sorted(rows.items(), key=lambda item: -item[1][2])[:top]
    for (file, line, name), (_, calls, own, cumulative, _) in ranked:
        place = _profile_group(file, name)
        if not place.endswith(".py"):
            place = "/".join(Path(file).parts[-2:])
        where = name if file == "~" else f"{place}:{line}({name})"
        print(
            f"  {own / total:6.1%}  {calls / runs:7.1f} calls/episode  "
            f"cum {cumulative / total:6.1%}  {where}"
        )


def _profile_group(file: str, name: str) -> str:
    """A profile entry's group: the library's file relative to the package; pydantic-core's
    native validators and serialisers; pydantic's Python side; other builtins; the rest of
    the standard library."""
    file = file.replace("\\", "/")
    if "daycare_settle/" in file:
        return file.split("daycare_settle/", 1)[1]
    if file == "~":
        return "pydantic-core (native)" if "pydantic_core" in name else "builtins"
    if "/pydantic/" in file:
        return "pydantic (Python side)"
    return "standard library (Python)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--batch-episodes", type=int, help="episodes for the batch rate")
    parser.add_argument("--skip-batch", action="store_true", help="leave out the batch rate")
    parser.add_argument(
        "--profile", action="store_true", help="also print where the end-to-end time goes"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.batch_episodes:
        sizes = replace(sizes, batch_episodes=args.batch_episodes)
    load_policy(POLICY)  # the rule files are read and compiled once, outside the timings
    settle(episode(20), policy=POLICY)
    print(f"Python {sys.version.split()[0]}; {'quick' if args.quick else 'full'} run")
    floor_and_core(sizes)
    breakdown(sizes)
    per_charge(sizes)
    latency(sizes)
    memory(sizes)
    big_catalogue(sizes)
    if not args.skip_batch:
        batch(sizes)
    if args.profile:
        profile(sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
