"""Validation runs: plan → runs → statistics → validation.json, figures and report."""

from __future__ import annotations

import math
import os
import resource
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments.analyses.validation.design import (
    QUICK_DAYS,
    QUICK_SIZE,
    ROBUST_POINTS,
    ROBUST_RANGES,
    ROBUST_REPLICATES,
    robust_design,
    size_overrides,
)
from saca.experiments.analyses.validation.figures import plot_pattern, plot_robustness
from saca.experiments.analyses.validation.method import (
    Planned,
    effect,
    kind_counts,
    pattern_verdict,
    result_of_test,
    values_of,
    verdict,
)
from saca.experiments.analyses.validation.patterns import (
    EMERGENT,
    REPRODUCED,
    Arm,
    Pattern,
    arms,
    load_patterns,
    resolve_arm,
)
from saca.experiments.analyses.validation.report import markdown_report
from saca.experiments.engine import io
from saca.experiments.engine.backends import run_tasks
from saca.experiments.engine.outdir import make_out
from saca.experiments.engine.replicates import Task, run_task
from saca.experiments.engine.seeds import replicate_seeds, robust_seed
from saca.model import SacaInputError


class Batch:
    """Runs to do, each configuration and seed once however many tests use it."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []
        self._index: dict[str, int] = {}

    def add(self, arm: Arm, extra: Mapping[str, Any], seed: np.random.SeedSequence) -> int:
        """Add a run (or find the same run already added); return its index.

        Args:
            arm: the configuration.
            extra: overrides applied under the arm's own (sizes, situation point).
            seed: the run's seed.
        """
        spec, name, reg = resolve_arm(arm, extra)
        steps = spec.situation.days
        key = repr((spec, reg, seed.entropy, seed.spawn_key, steps))
        if key not in self._index:
            self._index[key] = len(self.tasks)
            self.tasks.append(Task(name, 0, seed, spec, reg, steps))
        return self._index[key]

    def run(self, workers: int, progress: bool | None) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
        """Run every task (results in task order)."""
        return run_tasks(self.tasks, run_task, workers=workers, progress=progress, label="validate")


def _plan(
    patterns: Sequence[Pattern],
    batch: Batch,
    replicates: Callable[[Pattern], int],
    extra: Callable[[Arm], Mapping[str, Any]],
    seeds: Callable[[Pattern, int], np.random.SeedSequence],
    thin: bool = False,
) -> list[Planned]:
    plans = []
    for p in patterns:
        n = replicates(p)
        for t in p.tests:
            a = arms(t, thin)
            cells = [[batch.add(arm, extra(arm), seeds(p, r)) for r in range(n)] for arm in a]
            plans.append(Planned(p, t, a, n, cells))
    return plans


def _experiment_dict(p: Pattern, replicates: int, quick: bool) -> dict[str, Any]:
    return {
        "scenario": p.scenario,
        "regime": p.regime,
        "overrides": dict(p.overrides),
        "replicates": replicates,
        "seed": p.seed,
        "size": size_overrides(p.scenario, quick) or "scenario defaults",
    }


@dataclass(frozen=True)
class ValidationPlan:
    """A validation checked and ready to run (nothing is run yet).

    Args:
        patterns: the patterns, in pattern order.
        quick: quick mode (small district, short timeline).
        replicates: replicates per arm for every pattern; None keeps each file's.
        robustness: points of the robustness check's hypercube (0: no check).
        workers: worker processes.
        complete: every pattern file of the package at its own replicates (what
            ``--write-expected`` needs).
    """

    patterns: tuple[Pattern, ...]
    quick: bool
    replicates: int | None
    robustness: int
    workers: int
    complete: bool


def prepare(
    ids: Sequence[str] | None = None,
    directory: str | Path | None = None,
    *,
    quick: bool = False,
    replicates: int | None = None,
    robustness: int | None = None,
    workers: int = 2,
) -> ValidationPlan:
    """Load the patterns and check the run's settings.

    Args:
        ids: pattern ids (None: all).
        directory: where the pattern files are (None: the package's).
        quick: quick mode.
        replicates: replicates per arm for every pattern (None: each file's); at least 2.
        robustness: points of the robustness check (None: ``ROBUST_POINTS`` in full mode,
            0 in quick mode).
        workers: worker processes (at least 1).

    Raises:
        SacaInputError: a bad pattern file or id, or a setting out of range.
    """
    patterns = load_patterns(ids, directory)
    if replicates is not None and replicates < 2:
        raise SacaInputError(f"--replicates must be at least 2, got {replicates}")
    if workers < 1:
        raise SacaInputError(f"--workers must be at least 1, got {workers}")
    if robustness is None:
        robustness = 0 if quick else ROBUST_POINTS
    if robustness < 0:
        raise SacaInputError(f"--robustness must be 0 or more situations, got {robustness}")
    complete = ids is None and replicates is None and directory is None
    return ValidationPlan(tuple(patterns), quick, replicates, robustness, workers, complete)


def run_validation(
    patterns: Sequence[Pattern],
    *,
    quick: bool = False,
    replicates: int | None = None,
    robustness: int = 0,
    robust_replicates: int = ROBUST_REPLICATES,
    workers: int = 1,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the experiments of the patterns and (optionally) their robustness check.

    Args:
        patterns: loaded patterns.
        quick: small district, short timeline, ``quick_replicates`` replicates.
        replicates: replicates per arm for every pattern (overrides the files).
        robustness: points of the Latin hypercube of situations (0: no robustness check);
            run for the patterns that are reproduced.
        robust_replicates: replicates per arm at each point.
        workers: worker processes (results do not depend on it).
        progress: tqdm progress bars (None: only on a terminal).
        log: called with a line of progress news (None: silent).

    Returns:
        A JSON-ready dict: ``meta`` and ``patterns`` (each with its tests, effects, CIs,
        verdicts, arm means and robustness).
    """
    say = log or (lambda _msg: None)
    t0, cpu0 = time.perf_counter(), _cpu_seconds()

    def reps(p: Pattern) -> int:
        return replicates or (p.quick_replicates if quick else p.replicates)

    batch = Batch()
    plans = _plan(
        patterns,
        batch,
        reps,
        lambda arm: size_overrides(arm.scenario, quick),
        lambda p, r: replicate_seeds(p.seed, reps(p))[r],
    )
    say(f"validation: {len(batch.tasks)} runs ({'quick' if quick else 'full'} size)")
    results = batch.run(workers, progress)
    t_main = time.perf_counter() - t0
    out_patterns = []
    for p in patterns:
        tests = [result_of_test(pl, values_of(pl, results)) for pl in plans if pl.pattern is p]
        out_patterns.append(
            {
                "id": p.id,
                "title": p.title,
                "claim": p.claim,
                "source": {"seed": p.seed_study, "passage": p.passage},
                "experiment": _experiment_dict(p, reps(p), quick),
                "mechanism": p.mechanism,
                "parameters": list(p.parameters),
                "diagnosis": p.diagnosis,
                "file": Path(p.path).name,
                "tests": tests,
                "verdict": pattern_verdict(
                    [t["verdict"] for t in tests], [t["kind"] for t in tests]
                ),
                "kinds": kind_counts(tests),
            }
        )
    meta: dict[str, Any] = {
        "mode": "quick" if quick else "full",
        "runs": len(batch.tasks),
        "workers": workers,
        "seconds_main": t_main,
        "size": {
            "quick": {**QUICK_SIZE, "days": QUICK_DAYS},
            "full": "scenario defaults (2,400 households, 24 grids, 6 communities, 180 days)",
        }["quick" if quick else "full"],
        "replicates": {p.id: reps(p) for p in patterns},
        **io.provenance(),
    }
    if robustness > 0:
        chosen = [
            p for p, d in zip(patterns, out_patterns, strict=True) if d["verdict"] == REPRODUCED
        ]
        rob = _robustness(chosen, robustness, robust_replicates, workers, progress, say)
        meta["robustness"] = rob["meta"]
        for d in out_patterns:
            d["robustness"] = rob["patterns"].get(d["id"])
    meta["seconds"] = time.perf_counter() - t0
    meta["cpu_seconds"] = _cpu_seconds() - cpu0
    return {"meta": meta, "patterns": out_patterns}


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the worker processes)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _robustness(
    patterns: Sequence[Pattern],
    points: int,
    replicates: int,
    workers: int,
    progress: bool | None,
    say: Callable[[str], None],
) -> dict[str, Any]:
    t0 = time.perf_counter()
    seed = patterns[0].seed if patterns else 0
    design = robust_design(points, seed)
    batch = Batch()
    per_point: list[list[Planned]] = []
    for j, row in design.iterrows():
        situation = {k: float(v) for k, v in row.items()}
        per_point.append(
            _plan(
                patterns,
                batch,
                lambda _p: replicates,
                lambda arm, s=situation: {**size_overrides(arm.scenario, True), **s},
                lambda p, r, j=int(j): robust_seed(p.seed, j, r),
                thin=True,
            )
        )
    say(f"robustness: {len(batch.tasks)} runs at {points} situations")
    results = batch.run(workers, progress) if batch.tasks else []
    out: dict[str, Any] = {}
    for p in patterns:
        rows = []
        for j, plans in enumerate(per_point):
            tests = []
            for pl in plans:
                if pl.pattern is not p:
                    continue
                eff = effect(pl.test, values_of(pl, results), pl.arms)
                sign_ok = math.isfinite(eff["effect"]) and eff["effect"] * pl.test.expected > 0
                tests.append(
                    {
                        "label": pl.test.label,
                        "effect": eff["effect"],
                        "lo": eff["lo"],
                        "hi": eff["hi"],
                        "holds": bool(sign_ok),
                        "kind": pl.test.kind,
                        "verdict": verdict(
                            eff["lo"], eff["hi"], pl.test.expected, pl.test.min_effect
                        ),
                    }
                )
            # A pattern holds on its emergent tests, as it is reproduced on them.
            judged = [t for t in tests if t["kind"] == EMERGENT]
            rows.append(
                {
                    "point": j,
                    **{k: float(design.iloc[j][k]) for k in design.columns},
                    "holds": all(t["holds"] for t in judged),
                    "significant": all(t["verdict"] == REPRODUCED for t in judged),
                    "failed_tests": [t["label"] for t in judged if not t["holds"]],
                    "tests": tests,
                }
            )
        overridden = sorted(
            {
                k
                for t in p.tests
                for k in (t.contrast.key, t.contrast.by, *dict(t.overrides))
                if k in ROBUST_RANGES
            }
        )
        out[p.id] = {
            "points": len(rows),
            "held": sum(r["holds"] for r in rows),
            "significant": sum(r["significant"] for r in rows),
            "fixed_by_pattern": overridden,
            "situations": rows,
        }
    meta = {
        "design": "scipy.stats.qmc.LatinHypercube",
        "ranges": {k: list(v) for k, v in ROBUST_RANGES.items()},
        "points": points,
        "replicates": replicates,
        "size": {**QUICK_SIZE, "days": QUICK_DAYS},
        "levels": "gradients and interactions thinned to their two end levels "
        "(optima keep their middle)",
        "runs": len(batch.tasks),
        "seconds": time.perf_counter() - t0,
        "patterns": [p.id for p in patterns],
    }
    return {"meta": meta, "patterns": out}


def write_outputs(
    result: Mapping[str, Any],
    out: str | Path,
    report: str | Path | None,
    command: str,
) -> list[Path]:
    """Write ``validation.json``, one figure per pattern (and ``robustness.png``) into
    ``out``, and the Markdown report.

    Args:
        result: the output of :func:`run_validation`.
        out: the directory (created).
        report: the report's path; None writes ``VALIDATION.md`` beside ``out``.
        command: the command line, quoted in the report.
    """
    out = make_out(out)
    paths = [io.write_json(result, out / "validation.json")]
    for p in result["patterns"]:
        paths.append(out / f"{p['id']}.png")
        plot_pattern(p, paths[-1])
    if any(p.get("robustness") for p in result["patterns"]):
        paths.append(out / "robustness.png")
        plot_robustness(result, paths[-1])
    rpath = Path(report) if report is not None else out.parent / "VALIDATION.md"
    rel = os.path.relpath(out.resolve(), rpath.resolve().parent)
    rpath.write_text(markdown_report(result, Path(rel).as_posix(), command), encoding="utf-8")
    paths.append(rpath)
    return paths
