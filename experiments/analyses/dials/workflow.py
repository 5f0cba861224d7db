"""The dial contrasts' workflow: every dial at 0 and at 1 from a base regime, run paired by
seed, the method applied to the runs, and the table written."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from saca.experiments.analyses.dials import method
from saca.experiments.engine import io, runner
from saca.experiments.engine.replicates import run_replicates
from saca.model.regime import DIALS


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
    resolved, base_name, reg = runner.resolve(scenario, base, overrides)
    steps = runner.check_steps(None, resolved)
    arms = {
        f"{dial}={level:g}": dataclasses.replace(reg, **{dial: level})
        for dial in dials
        for level in (0.0, 1.0)
    }
    t0 = time.process_time()
    wall = time.perf_counter()
    comparison = run_replicates(resolved, arms, replicates, seed, steps, workers, progress)
    rows, worst_off = method.contrasts(comparison.runs, dials)
    return {
        "settings": {
            "scenario": resolved.name,
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
