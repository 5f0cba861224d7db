"""Each dial's two sides: one dial moved from 0 to 1 from a base regime, paired by seed.

For every dial of :data:`saca.model.regime.DIALS` the base regime is run with that dial at 0
and at 1 (the other dials and the switches as the base has them), each replicate under
the same seed in every arm (common random numbers). The paired difference "dial at 1 minus
dial at 0" of each outcome, with its 95% Student t interval, says what the autonomous end
buys and what it costs; an outcome is *better* or *worse* at 1 only when its interval
excludes 0, by the direction of :data:`saca.model.metrics.HIGHER_IS_BETTER`::

    python -m saca.experiments.analyses.dials --out docs/findings/dials [--replicates 10]

writes ``contrasts.json`` (the table, the settings and the compute time) and
``contrasts.csv``. ``python -m saca.experiments.reports.findings`` runs it and reports it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from saca.experiments import stats
from saca.experiments.engine import io, runner
from saca.experiments.engine.replicates import run_replicates
from saca.experiments.plots import figures as plots
from saca.model.metrics import HIGHER_IS_BETTER
from saca.model.regime import DIALS

OUTCOMES = tuple(stats.with_equity((*plots.KEY_METRICS, "hours_per_resolved")))
"""The outcomes of the table: efficacy and its cost, trust, burnout, behaviour, equity."""


def verdict(diff: dict[str, float], metric: str) -> str:
    """``better``, ``worse`` or ``no clear difference`` at the dial's autonomous end.

    Args:
        diff: a paired difference (``diff``, ``lo``, ``hi``) of "at 1 minus at 0".
        metric: the outcome, whose better direction decides.
    """
    lo, hi = diff["lo"], diff["hi"]
    if not (lo > 0 or hi < 0):
        return "no clear difference"
    up = lo > 0
    return "better" if up == HIGHER_IS_BETTER[metric] else "worse"


def run_contrasts(
    scenario: str = "emergency",
    base: str = "hybrid",
    replicates: int = 10,
    seed: int = 11,
    overrides: dict[str, Any] | None = None,
    workers: int = 1,
    progress: bool | None = None,
    dials: tuple[str, ...] = DIALS,
) -> dict[str, Any]:
    """Run every dial at 0 and at 1 from the base regime and pair the outcomes.

    Args:
        scenario: scenario name or file.
        base: the base regime's name or file.
        replicates: paired replicates per arm.
        seed: root seed (replicate ``r`` shares its seed across all arms).
        overrides: dotted-key overrides applied to every arm (e.g. a smaller district).
        workers: worker processes (results do not depend on it).
        progress: tqdm bar on stderr (True), never (False), or on a TTY only (None).
        dials: the dials to contrast (default: all six).

    Returns:
        ``{"settings": ..., "rows": [{dial, metric, at_0, at_1, diff, lo, hi, n,
        verdict}], "worst_off": {dial: [sentence]}, "cpu_seconds": ...}``; ``worst_off``
        names a dial end that wins the mean efficacy but loses the worst-off decile of
        communities (:func:`saca.experiments.stats.worst_off_flags`).
    """
    spec, base_name, reg = runner.resolve(scenario, base, overrides)
    steps = runner.check_steps(None, spec)
    arms = {
        f"{dial}={level:g}": dataclasses.replace(reg, **{dial: level})
        for dial in dials
        for level in (0.0, 1.0)
    }
    t0 = time.process_time()
    wall = time.perf_counter()
    comparison = run_replicates(spec, arms, replicates, seed, steps, workers, progress)
    summary = stats.compare_stats(comparison.runs, list(arms), OUTCOMES)
    rows = []
    worst_off: dict[str, list[str]] = {}
    for dial in dials:
        low, high = f"{dial}=0", f"{dial}=1"
        pair = stats.compare_stats(comparison.runs, [low, high], OUTCOMES)["differences"][high]
        ends = comparison.runs[comparison.runs["regime"].isin([low, high])]
        flags = stats.worst_off_of_runs(ends, [low, high])
        if flags:
            worst_off[dial] = stats.worst_off_text(flags)
        for metric in OUTCOMES:
            d = pair[metric]
            rows.append(
                {
                    "dial": dial,
                    "metric": metric,
                    "at_0": summary["regimes"][low][metric]["mean"],
                    "at_1": summary["regimes"][high][metric]["mean"],
                    "diff": d["diff"],
                    "lo": d["lo"],
                    "hi": d["hi"],
                    "n": d["n"],
                    "verdict": verdict(d, metric),
                }
            )
    return {
        "settings": {
            "scenario": spec.name,
            "base": base_name,
            "replicates": replicates,
            "seed": seed,
            "overrides": dict(overrides or {}),
            "days": steps,
        },
        "rows": rows,
        "worst_off": worst_off,
        "runs": len(arms) * replicates,
        "wall_seconds": time.perf_counter() - wall,
        "cpu_seconds_this_process": time.process_time() - t0,
    }


def two_sided(result: dict[str, Any]) -> dict[str, bool]:
    """Per dial: True when at least one outcome is better and one worse at its
    autonomous end, each with a paired interval excluding 0.

    Args:
        result: what :func:`run_contrasts` returned.
    """
    table = pd.DataFrame(result["rows"])
    return {
        dial: {"better", "worse"} <= set(table.loc[table["dial"] == dial, "verdict"])
        for dial in dict.fromkeys(table["dial"])
    }


def write(result: dict[str, Any], out: Path, name: str = "contrasts") -> None:
    """Write ``<name>.json`` and ``<name>.csv`` into ``out``.

    Args:
        result: what :func:`run_contrasts` returned.
        out: the folder (created if missing).
        name: the files' stem.
    """
    out.mkdir(parents=True, exist_ok=True)
    # The code that produced the numbers, so a report can say when a table is stale.
    result = {**io.provenance(), **result}
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    pd.DataFrame(result["rows"]).to_csv(out / f"{name}.csv", index=False)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the contrasts and write them."""
    p = argparse.ArgumentParser(
        prog="python -m saca.experiments.analyses.dials", description=__doc__
    )
    p.add_argument("--out", default="docs/findings/dials", help="output folder")
    p.add_argument("--scenario", default="emergency")
    p.add_argument("--base", default="hybrid", help="the base regime")
    p.add_argument("--replicates", type=int, default=10)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    try:
        result = run_contrasts(
            args.scenario, args.base, args.replicates, args.seed, workers=args.workers
        )
    except runner.SacaInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write(result, Path(args.out))
    for dial, ok in two_sided(result).items():
        print(f"{dial:12s} {'two-sided' if ok else 'ONE-SIDED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
