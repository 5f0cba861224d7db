"""Sweep throughput: runs per second of a 200-run sweep, serial vs process vs dask.

Usage::

    .venv/bin/python benchmarks/bench_sweep.py [--runs 200] [--workers 2] [--repeat 3] [--steps 40]
        [--json FILE]

The sweep is the emergency scenario at 40 days (``--steps``) with 600 households, constructive and
autonomous, ``regime.information`` at 0 and 1, and ``runs / 4`` replicates. Each backend
runs it from scratch into a fresh directory; the wall time includes starting the worker
processes (or the dask LocalCluster) and the final merge of the shards. Workers are forked
from a server that imports the model once and lives as long as this process: the first
round pays for starting it, as a fresh ``saca sweep`` does, and its times are shown too
("first"). Parallel
efficiency = (serial time / parallel time) / workers. The backends take turns, ``--repeat``
times, and the fastest time of each counts (other load on a shared machine only ever
slows a run down); the median is shown beside it. The engine's own memory (this process,
which only collects and writes with the parallel backends) is sampled while the runs
stream in. The machine's own ceiling is measured too: plain processes running the model
alone and side by side, without the sweep engine (on shared or virtual CPUs two
processes rarely each run at full speed), best of the rounds like the backends, and each
backend's efficiency is also given as a share of that ceiling ("of ceiling"). The results of
every backend are checked to be identical. On a machine shared with other work, all figures
move with its load: compare rounds, and read "of ceiling" first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from saca.experiments.engine import sweep
from saca.experiments.engine.plan import prepare
from saca.experiments.engine.results import load_results
from saca.experiments.engine.store import MANIFEST
from saca.model.metrics import METRICS

SPEC = """
[sweep]
name = "bench"
scenario = "emergency"
regimes = ["constructive", "autonomous"]
steps = {steps}
replicates = {replicates}
seed = 1
design = "factorial"

[parameters]
"regime.information" = [0.0, 1.0]

[fixed]
"situation.households" = 600
"""
BACKENDS = ("serial", "process", "dask")


def _run(spec: Path, out: Path, backend: str, workers: int) -> dict:
    """One sweep from scratch; wall time, runs/s and the engine's memory while streaming."""
    me = psutil.Process()
    samples: list[tuple[int, float]] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            shards = len(list((out / MANIFEST).glob("0*.parquet")))
            samples.append((shards, me.memory_info().rss / 2**20))
            time.sleep(0.2)

    load = os.getloadavg()[0]
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    t0 = time.perf_counter()
    report = sweep.run_sweep(
        spec, out, backend=backend, workers=None if backend == "serial" else workers
    )
    wall = time.perf_counter() - t0
    stop.set()
    watcher.join()
    last = max((s for s, _ in samples), default=0)
    streaming = [rss for s, rss in samples if 1 <= s < last] or [samples[-1][1]]
    results = load_results(out)
    busy = float(results["duration_s"].sum())
    return {
        "backend": backend,
        "workers": 1 if backend == "serial" else workers,
        "runs": report.ok,
        "failed": report.failed,
        "seconds": wall,
        "runs_per_s": report.ok / wall,
        "run_seconds_sum": busy,
        "load_before": load,
        "rss_first_mb": streaming[0],
        "rss_max_mb": max(streaming),
        "values": results[["id", *METRICS]],
    }


RAW = """
import sys, time
import numpy as np
from saca.experiments.engine import runner
ov = {"situation.households": 600}
runner.run_one("emergency", "constructive", 0, 5, ov)
n = int(sys.argv[1])
t = time.perf_counter()
for i in range(n):
    runner.run_one("emergency", "constructive", np.random.SeedSequence(i), 40, ov)
print((time.perf_counter() - t) / n)
"""


def _raw_per_run(processes: int, runs: int) -> float:
    """Mean seconds per run when ``processes`` plain Python processes run the model at once.

    No sweep engine is involved: this is what the machine itself allows in parallel.
    """
    procs = [
        subprocess.Popen([sys.executable, "-c", RAW, str(runs)], stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    times = [float(p.communicate()[0]) for p in procs]
    return statistics.mean(times)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table.

    Args:
        argv: command-line arguments (``--runs``, ``--workers``, ``--repeat``, ``--steps``,
            ``--json``).
    """
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="runs in the sweep (multiple of 4)")
    ap.add_argument("--workers", type=int, default=2, help="workers of process and dask")
    ap.add_argument("--repeat", type=int, default=3, help="rounds over the three backends")
    ap.add_argument(
        "--steps",
        type=int,
        default=40,
        help="days per run; longer runs show how a backend's fixed start-up cost amortises",
    )
    ap.add_argument("--json", default=None, help="also write the numbers to this file")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        spec = Path(tmp) / "bench.toml"
        spec.write_text(SPEC.format(replicates=max(1, args.runs // 4), steps=args.steps))
        plan = prepare(spec)
        print(
            f"bench_sweep: {plan.n_runs} runs of {plan.steps} days, "
            f"{plan.scenario.situation.households} households; {os.cpu_count()} cores; "
            f"{args.workers} workers for process and dask",
            flush=True,
        )
        runs: dict[str, list[dict]] = {b: [] for b in BACKENDS}
        plain: dict[str, list[float]] = {"alone": [], "together": []}
        for rnd in range(args.repeat):
            for backend in BACKENDS:
                row = _run(spec, Path(tmp) / f"{backend}{rnd}", backend, args.workers)
                runs[backend].append(row)
                print(
                    f"  round {rnd + 1}: {backend:<8} {row['seconds']:7.1f} s  "
                    f"{row['runs_per_s']:6.2f} runs/s  (load avg before {row['load_before']:.2f})",
                    flush=True,
                )
            plain["alone"].append(_raw_per_run(1, 30))
            plain["together"].append(_raw_per_run(args.workers, 30))
    alone, together = min(plain["alone"]), min(plain["together"])
    ceiling = alone / together
    rows = [min(runs[b], key=lambda r: r["seconds"]) for b in BACKENDS]
    serial = rows[0]
    same = all(r["values"].equals(serial["values"]) for b in BACKENDS for r in runs[b])
    print()
    head = ("backend", "workers", "best s", "median s", "runs/s", "efficiency", "of ceiling")
    print(
        f"{head[0]:<9}{head[1]:>8}{head[2]:>9}{head[3]:>10}{head[4]:>9}{head[5]:>12}"
        f"{head[6]:>12}{'first s':>9}{'first eff':>11}{'engine RSS MB':>16}"
    )
    out = []
    for r in rows:
        eff = (serial["seconds"] / r["seconds"]) / r["workers"]
        # what the engine achieves of what the machine allows two plain processes now
        of_ceiling = eff / ceiling if r["workers"] > 1 else 1.0
        med = statistics.median(x["seconds"] for x in runs[r["backend"]])
        # the first round starts the workers' fork server, as a fresh `saca sweep` does
        first = runs[r["backend"]][0]["seconds"]
        first_eff = (runs["serial"][0]["seconds"] / first) / r["workers"]
        rss = f"{r['rss_first_mb']:.0f} -> {r['rss_max_mb']:.0f}"
        print(
            f"{r['backend']:<9}{r['workers']:>8}{r['seconds']:>9.1f}{med:>10.1f}"
            f"{r['runs_per_s']:>9.2f}{eff:>11.0%}{of_ceiling:>12.0%}{first:>9.1f}"
            f"{first_eff:>10.0%} {rss:>16}"
        )
        out.append(
            {k: v for k, v in r.items() if k != "values"}
            | {"efficiency": eff, "of_ceiling": of_ceiling, "median_seconds": med}
            | {"round_seconds": [x["seconds"] for x in runs[r["backend"]]]}
            | {"first_round_efficiency": first_eff}
        )
    print(
        "\nbest = fastest of the rounds; efficiency = (serial best / best) / workers; of "
        "ceiling = efficiency / the machine ceiling below; wall times include starting the "
        "workers and merging the shards; first = round 1, which also starts the workers' fork "
        "server (as every fresh `saca sweep` does; later sweeps of one process reuse it); "
        "engine RSS = this process while the runs stream in"
    )
    print(
        f"machine ceiling: one plain process {alone:.3f} s per run, {args.workers} side by "
        f"side {together:.3f} s per run each, so at most {ceiling:.0%} efficiency for any "
        "engine on this machine now"
    )
    print(f"identical results on every backend and round: {same}")
    if args.json:
        out.append(
            {"machine_ceiling": ceiling, "plain_alone_s": alone, "plain_side_by_side_s": together}
        )
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
