"""The uncertainty workflow: a spec or a stored sweep checked into an :class:`UncertaintyPlan`,
the sweep run (resumable), the method applied to the stored runs, and the files written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saca.experiments.analyses.discovery import workflow as discovery
from saca.experiments.analyses.uncertainty import figures, method
from saca.experiments.engine import io, sweep
from saca.experiments.engine.plan import SweepPlan, prepare
from saca.experiments.engine.results import load_results, read_meta
from saca.experiments.engine.spec import load_spec
from saca.model import SacaInputError

RUNS = "runs"


@dataclass(frozen=True)
class UncertaintyPlan:
    """What ``saca uncertainty`` analyses, checked before any run.

    Args:
        source: the spec file, or the stored sweep directory.
        metrics: the metrics compared.
        contrast: the two regimes (A, B), or None for the sweep's first two.
        runs: the sweep to run (a spec), or None (a stored sweep is read as it is).
    """

    source: Path
    metrics: tuple[str, ...]
    contrast: tuple[str, str] | None = None
    runs: SweepPlan | None = None


def plan_uncertainty(
    source: str | Path,
    metrics: Sequence[str],
    contrast: tuple[str, str] | None = None,
) -> UncertaintyPlan:
    """Read a spec (or take a stored sweep) and check the contrast against its regimes.

    Args:
        source: a spec file, or a stored sweep directory.
        metrics: the metrics compared (already checked to be metrics).
        contrast: the two regimes, or None for the sweep's first two.

    Raises:
        SacaInputError: a bad spec, a regime of the contrast it does not run, or a spec
            with one regime.
    """
    src = Path(source)
    if src.is_dir():
        return UncertaintyPlan(src, tuple(metrics), contrast)
    plan = prepare(load_spec(src, extra_tables=("discover", "sensitivity")))
    names = list(plan.regimes)
    for r in contrast or ():
        if r not in names:
            raise SacaInputError(f"--contrast: {r} is not a regime of {src} ({', '.join(names)})")
    if len(names) < 2:
        raise SacaInputError(f"{src} runs one regime; the contrast needs two")
    return UncertaintyPlan(src, tuple(metrics), contrast, plan)


def run_uncertainty(
    up: UncertaintyPlan, out: str | Path, workers: int = 1, resume: bool = False
) -> dict[str, Any]:
    """Run the plan's sweep into ``OUT/runs`` (unless it reads a stored one), analyse it
    and write the files.

    Args:
        up: the checked plan.
        out: the output directory (claimed by the caller).
        workers: worker processes (the numbers do not depend on it).
        resume: continue the runs stored in ``OUT/runs``.

    Raises:
        KeyboardInterrupt: after storing every finished run.
    """
    out = Path(out)
    runs = up.source
    if up.runs is not None:
        runs = out / RUNS
        sweep.run_sweep(
            up.runs,
            runs,
            backend="process" if workers > 1 else "serial",
            workers=workers,
            resume=resume,
        )
    a, b = up.contrast if up.contrast is not None else (None, None)
    return analyse(runs, out, a, b, up.metrics)


def analyse(
    runs: Path, out: Path, a: str | None, b: str | None, metrics: Sequence[str]
) -> dict[str, Any]:
    """Shares and PRIM boxes from a stored sweep; writes the files into ``out``.

    Args:
        runs: the sweep directory.
        out: the output directory.
        a: the first regime (None: the sweep's first).
        b: the second regime (None: the sweep's second).
        metrics: the metrics compared.
    """
    meta = read_meta(runs)
    results = load_results(runs, "all")
    order = list(dict.fromkeys(results["regime"]))
    if a is None or b is None:
        if len(order) < 2:
            raise SacaInputError(f"{runs} holds one regime; the contrast needs two")
        a, b = order[0], order[1]
    for r in (a, b):
        if r not in order:
            raise SacaInputError(f"{runs} has no regime {r!r}; it has {', '.join(order)}")
    params = [f["key"] for f in meta["design"]["factors"]]
    ranges = {f["key"]: (f["min"], f["max"]) for f in meta["design"]["factors"] if "min" in f}
    found = method.analyse(results, params, ranges, a, b, metrics)
    boxes: dict[str, Any] = {}
    for m, d in found.discoveries.items():
        files = discovery.write(d, out / f"prim_{m}", {"sweep": str(runs)})
        summary = d.to_dict()
        boxes[m] = {
            "base_rate": summary["base_rate"],
            "boxes": [
                {k: bx[k] for k in ("rule", "coverage", "density", "mass", "limits")}
                for bx in summary["boxes"]
                if bx["accepted"]
            ],
            "files": [str(f) for f in files],
        }
    doc = {
        "runs": str(runs),
        "spec_hash": meta.get("spec_hash"),
        "seed": meta.get("spec", {}).get("seed", meta.get("seed")),
        "contrast": [a, b],
        "shares": found.shares,
        "prim_where_first_wins": boxes,
        **io.provenance(),
    }
    io.write_json(doc, out / "shares.json")
    figures.plot_shares(found.shares, a, b, out / "shares.png")
    return doc
