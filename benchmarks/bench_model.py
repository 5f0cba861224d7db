"""Wall-clock and memory benchmark of CollaborationModel, one fresh process per run.

For each scenario × regime the model is built and run in a child Python process, so
that peak memory (``ru_maxrss`` of the child) belongs to that run alone and no import
or cache warm-up leaks from one run into the next. BLAS/OpenMP pools in the child are
pinned to one thread, so the numbers are for one core. Reported per cell:

* setup s   -- ``CollaborationModel(scenario, regime, rng=seed)`` construction;
* run s     -- ``model.run_for(steps)``, wall clock (``run cpu s``: process CPU time;
  when the two differ much, the machine was busy and the wall time is inflated);
* hh-days/s -- households × steps / run seconds;
* by phase  -- run seconds split over the timeline's phases (normal, emergency, ...);
* peak MB   -- peak resident set size of the child (includes the interpreter and
  imports; ``base MB`` is the RSS right after the imports, for reference).

With ``--repeat N`` each cell runs N times (each in its own process) and min / median
are shown. The target of the issue is the district scenario, 365 days, at most 60 s on
one core and under 2 GB.

Examples::

    python benchmarks/bench_model.py                     # emergency + district, full runs
    python benchmarks/bench_model.py --quick             # smoke: emergency, 60 steps
    python benchmarks/bench_model.py --scenarios district --regimes autonomous \\
        --steps 60 --repeat 3 --json benchmarks/out/district60.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# One core: BLAS/OpenMP thread pools in the child. OPENBLAS_CORETYPE is left alone.
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}
TARGET_SECONDS = 60.0
TARGET_MB = 2048.0


# ----- child ------------------------------------------------------------------------
def _rss_mb() -> float:
    """Peak RSS of this process in MB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def child(scenario: str, regime: str, steps: int | None, seed: int) -> dict:
    """Build and run one model in this process; return the measurements."""
    t0 = time.perf_counter()
    from model import CollaborationModel

    t_import = time.perf_counter() - t0
    base_mb = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    m = CollaborationModel(scenario, regime, rng=seed)
    setup_s, setup_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    setup_mb = _rss_mb()
    n_steps = m.situation.days if steps is None else steps
    # Run phase by phase (same steps as one run_for) to see where the time goes.
    phase_s: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    for ph in m.situation.timeline:
        chunk = min(ph.end, n_steps) - max(ph.start, m.steps)
        if chunk > 0:
            tp = time.perf_counter()
            m.run_for(chunk)
            phase_s[ph.name] = phase_s.get(ph.name, 0.0) + time.perf_counter() - tp
    if n_steps > m.steps:  # beyond the timeline the last phase continues
        tp = time.perf_counter()
        m.run_for(n_steps - m.steps)
        last = m.situation.timeline[-1].name
        phase_s[last] = phase_s.get(last, 0.0) + time.perf_counter() - tp
    run_s, run_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    households = int(m.structure.n_households)
    return {
        "scenario": scenario,
        "regime": regime,
        "seed": seed,
        "steps": n_steps,
        "households": households,
        "cadres": len(m.cadres),
        "needs": int(getattr(m.needs, "n", -1)),
        "import_s": t_import,
        "setup_s": setup_s,
        "setup_cpu_s": setup_cpu_s,
        "run_s": run_s,
        "run_cpu_s": run_cpu_s,
        "phase_s": phase_s,
        "hh_days_per_s": households * n_steps / run_s if run_s > 0 else float("inf"),
        "base_mb": base_mb,
        "setup_mb": setup_mb,
        "peak_mb": _rss_mb(),
    }


# ----- parent -----------------------------------------------------------------------
def run_one(scenario: str, regime: str, steps: int | None, seed: int, timeout: float) -> dict:
    """Run one cell in a fresh interpreter and return its measurements."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", scenario, regime]
    cmd += ["--seed", str(seed)]
    if steps is not None:
        cmd += ["--steps", str(steps)]
    env = {**os.environ, **THREAD_ENV}
    head = _git_head()
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"scenario": scenario, "regime": regime, "error": f"timeout after {timeout:g} s"}
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["?"]
        return {"scenario": scenario, "regime": regime, "error": tail[0]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["git"] = head  # the code under test can change between runs
    return result


def aggregate(runs: list[dict]) -> dict:
    """Min and median over repeats of one cell (peak memory: max)."""
    ok = [r for r in runs if "error" not in r]
    out = {k: runs[0][k] for k in ("scenario", "regime")}
    if not ok:
        out["error"] = runs[0]["error"]
        return out
    for k in ("steps", "households", "cadres", "seed"):
        out[k] = ok[0][k]
    for k in ("setup_s", "run_s", "run_cpu_s", "hh_days_per_s", "base_mb", "peak_mb"):
        vals = [r[k] for r in ok]
        out[k] = {"min": min(vals), "median": statistics.median(vals), "max": max(vals)}
    out["repeats"] = len(ok)
    out["failed"] = len(runs) - len(ok)
    out["runs"] = runs
    return out


def fmt_row(a: dict, repeat: int) -> str:
    """One table row: min/median when repeated, the single value otherwise."""
    if "error" in a:
        return f"{a['scenario']:<10} {a['regime']:<13} ERROR: {a['error']}"

    def mm(k: str, f: str) -> str:
        v = a[k]
        return f"{v['min']:{f}}/{v['median']:{f}}" if repeat > 1 else f"{v['min']:{f}}"

    return (
        f"{a['scenario']:<10} {a['regime']:<13} {a['households']:>8} {a['steps']:>5} "
        f"{mm('setup_s', '.2f'):>11} {mm('run_s', '.2f'):>15} {mm('run_cpu_s', '.2f'):>15} "
        f"{mm('hh_days_per_s', ',.0f'):>19} {a['peak_mb']['max']:>8.0f} "
        f"{a['base_mb']['max']:>7.0f}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--scenarios", default="emergency,district", help="comma-separated")
    p.add_argument("--regimes", default="constructive,autonomous", help="comma-separated")
    p.add_argument(
        "--steps", type=int, default=None, help="days to run (default: the scenario's timeline)"
    )
    p.add_argument("--repeat", type=int, default=1, help="fresh-process runs per cell")
    p.add_argument("--seed", type=int, default=0, help="model rng seed")
    p.add_argument("--quick", action="store_true", help="smoke run: emergency only, 60 steps")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per run before kill")
    p.add_argument("--json", metavar="FILE", help="write results as JSON")
    p.add_argument("--_child", nargs=2, metavar=("SCENARIO", "REGIME"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args._child:
        print(json.dumps(child(*args._child, args.steps, args.seed)))
        return 0

    if args.quick:
        args.scenarios, args.steps = "emergency", 60
    scenarios = [s for s in args.scenarios.split(",") if s]
    regimes = [r for r in args.regimes.split(",") if r]
    rep = max(1, args.repeat)

    label = ", min/median" if rep > 1 else ""
    header = (
        f"{'scenario':<10} {'regime':<13} {'househ.':>8} {'steps':>5} "
        f"{'setup s':>11} {'run s':>15} {'run cpu s':>15} {'hh-days/s':>19} "
        f"{'peak MB':>8} {'base MB':>7}"
    )
    print(f"saca model benchmark  (1 thread, seed {args.seed}, repeat {rep}{label})")
    print(header)
    print("-" * len(header))
    load_at_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    results = []
    for sc in scenarios:
        for rg in regimes:
            runs = [run_one(sc, rg, args.steps, args.seed, args.timeout) for _ in range(rep)]
            a = aggregate(runs)
            results.append(a)
            print(fmt_row(a, rep), flush=True)
    failed = any("error" in a or a.get("failed") for a in results)
    print("run s by phase (median over repeats):")
    for a in results:
        if "error" not in a:
            phases: dict[str, list[float]] = {}
            for r in a["runs"]:
                for name, sec in r.get("phase_s", {}).items():
                    phases.setdefault(name, []).append(sec)
            cells = "  ".join(f"{n} {statistics.median(v):.2f}" for n, v in phases.items())
            print(f"  {a['scenario']}/{a['regime']}: {cells}")
    for a in results:
        if a["scenario"] == "district" and "error" not in a and a["steps"] >= 365:
            ok = a["run_s"]["median"] <= TARGET_SECONDS and a["peak_mb"]["max"] < TARGET_MB
            print(
                f"target district/{a['regime']} 365 d <= {TARGET_SECONDS:g} s, "
                f"< {TARGET_MB / 1024:g} GB: {'met' if ok else 'NOT met'}"
            )

    if args.json:
        meta = {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "loadavg_at_start": load_at_start,
            "thread_env": THREAD_ENV,
            "argv": sys.argv[1:],
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "git": _git_head(),
        }
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
        print(f"wrote {out}")
    return 1 if failed else 0


def _git_head() -> str | None:
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
