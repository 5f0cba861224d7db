"""The sensitivity workflow: a spec checked into a :class:`SensitivityPlan`, its sweep run,
the indices computed from the stored runs, and the tables and figures written."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from saca.experiments.analyses.sensitivity.figures import plot_indices
from saca.experiments.analyses.sensitivity.method import (
    ANALYSIS_KEY,
    CONF_LEVEL,
    METHODS,
    RESAMPLES,
    TOLERANCE,
    Analysis,
    analyse,
    average,
)
from saca.experiments.engine import io, sweep
from saca.experiments.engine.backends import check_backend
from saca.experiments.engine.estimate import pending_runs
from saca.experiments.engine.outdir import holds_files, prepare_out
from saca.experiments.engine.plan import SweepPlan
from saca.experiments.engine.plan import prepare as prepare_plan
from saca.experiments.engine.results import load_results
from saca.experiments.engine.spec import SweepSpec, parse_spec
from saca.model import SacaInputError
from saca.model.metrics import METRICS, RECORDS
from saca.model.parameters import did_you_mean, read_toml

SENSITIVITY_KEYS = ("outputs", "window", "resamples", "tolerance")
DEFAULT_OUTPUTS = ("efficacy", "trust_institution", "trust_resident_sunk", "burnout_mean")
RUNS = "runs"


# ----- settings -------------------------------------------------------------------------
@dataclass(frozen=True)
class SensitivitySettings:
    """The ``[sensitivity]`` table, checked.

    Args:
        method: ``sobol`` or ``morris``.
        outputs: metric names to analyse.
        window: ``all`` or a phase name.
        resamples: bootstrap resamples of the confidence intervals.
        tolerance: convergence tolerance (module docstring).
    """

    method: str
    outputs: tuple[str, ...] = DEFAULT_OUTPUTS
    window: str = "all"
    resamples: int = RESAMPLES
    tolerance: float = TOLERANCE

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {
            "method": self.method,
            "outputs": list(self.outputs),
            "window": self.window,
            "resamples": self.resamples,
            "tolerance": self.tolerance,
            "conf_level": CONF_LEVEL,
        }


@dataclass(frozen=True)
class SensitivityPlan:
    """A sensitivity spec resolved and validated, ready to run.

    Args:
        runs: the sweep plan (design, regimes, runs).
        settings: the analysis settings.
    """

    runs: SweepPlan
    settings: SensitivitySettings

    @property
    def spec(self) -> SweepSpec:
        """The sweep spec."""
        return self.runs.spec


def _with_design(text: str, data: Mapping[str, Any], method: str) -> str:
    """The spec's text with ``design = "<method>"`` added under ``[sweep]``.

    The copy in ``DIR/runs`` must parse to the spec that ran (``saca sweep --rerun-failed``
    reads it); if the text cannot be edited safely it is kept as it is.
    """
    header = re.compile(r"^[ \t]*\[[ \t]*sweep[ \t]*\][ \t]*(#.*)?$", re.MULTILINE)
    match = header.search(text)
    if match is None:
        return text
    line = f'design = "{method}"  # set by saca sensitivity --method {method}'
    new = text[: match.end()] + "\n" + line + text[match.end() :]
    try:
        ok = tomllib.loads(new) == data
    except ValueError:
        ok = False
    return new if ok else text


def parse_settings(
    table: Mapping[str, Any], method: str, label: str = "spec"
) -> SensitivitySettings:
    """Check a ``[sensitivity]`` table (the window is checked by :func:`prepare`).

    Args:
        table: the table as parsed from TOML (empty for the defaults).
        method: ``sobol`` or ``morris``.
        label: how messages name the spec.

    Raises:
        SacaInputError: an unknown key or a value of the wrong form, in one line.
    """

    def fail(msg: str) -> SacaInputError:
        return SacaInputError(f"{label}: [sensitivity] {msg}")

    for key in table:
        if key in ("levels", "num_levels"):
            raise fail(f"{key}: the Morris grid is part of the design; write levels = N in [sweep]")
        if key in ("samples", "design", "replicates", "seed"):
            raise fail(f"{key} belongs in the [sweep] table")
        if key not in SENSITIVITY_KEYS:
            raise fail(
                f"unknown key {key!r}; {did_you_mean(key, SENSITIVITY_KEYS)}"
                f"known keys: {', '.join(SENSITIVITY_KEYS)}"
            )
    outputs = table.get("outputs", list(DEFAULT_OUTPUTS))
    if isinstance(outputs, str):
        outputs = [outputs]
    if not isinstance(outputs, list) or not outputs:
        raise fail(f"outputs must be a non-empty list of metric names, got {outputs!r}")
    for name in outputs:
        if not isinstance(name, str) or name not in METRICS:
            raise fail(
                f"unknown output metric {name!r}; {did_you_mean(str(name), METRICS)}"
                "see the metrics in `saca list`"
            )
    dup = sorted({o for o in outputs if outputs.count(o) > 1})
    if dup:
        raise fail(f"outputs lists {', '.join(dup)} more than once")
    window = table.get("window", "all")
    if not isinstance(window, str) or not window:
        raise fail(f'window must be "all" or a phase name, got {window!r}')
    resamples = table.get("resamples", RESAMPLES)
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 10:
        raise fail(f"resamples must be a whole number of at least 10, got {resamples!r}")
    tol = table.get("tolerance", TOLERANCE)
    if isinstance(tol, bool) or not isinstance(tol, int | float) or not 0 < tol <= 1:
        raise fail(f"tolerance must be a number in (0, 1], got {tol!r}")
    return SensitivitySettings(method, tuple(outputs), window, resamples, float(tol))


def prepare(path: str | Path, method: str | None = None) -> SensitivityPlan:
    """Read, check and resolve a sensitivity spec before any run starts.

    Args:
        path: the spec file.
        method: ``sobol`` or ``morris``; None takes the spec's ``[sweep] design``.

    Raises:
        SacaInputError: anything wrong with the spec or the method, in one line.
    """
    p = Path(path)
    label = str(path)
    data, text = read_toml(p, "sensitivity spec")
    sw = data.get("sweep")
    if method is not None and method not in METHODS:
        raise SacaInputError(
            f"unknown method {method!r}; {did_you_mean(method, METHODS)}choose sobol or morris"
        )
    if isinstance(sw, dict):
        given = sw.get("design")
        if method is None:
            if given not in METHODS:
                shown = "no design" if given is None else f"design = {given!r}"
                raise SacaInputError(
                    f"{label}: give --method sobol or --method morris ([sweep] has {shown})"
                )
            method = str(given)
        elif given is None:
            data = {**data, "sweep": {**sw, "design": method}}
            text = _with_design(text, data, method)
        elif given != method:
            raise SacaInputError(
                f'{label}: [sweep] design = "{given}" contradicts --method {method}; write '
                f'design = "{method}" or leave design out (--method sets it)'
            )
    spec = parse_spec(
        data,
        label=label,
        base_dir=p.resolve().parent,
        text=text,
        stem=p.stem,
        extra_tables=("sensitivity",),
    )
    assert method is not None
    if method == "morris" and (spec.samples or 0) < 2:
        raise SacaInputError(
            f"{label}: a Morris analysis needs samples >= 2 trajectories, got {spec.samples}"
        )
    settings = parse_settings(spec.data.get("sensitivity", {}), method, label)
    plan = prepare_plan(spec)
    known = plan.windows
    if settings.window not in known:
        raise SacaInputError(
            f"{label}: [sensitivity] window {settings.window!r} is not a window of these "
            f"{plan.steps}-day runs; {did_you_mean(settings.window, known)}"
            f"choose one of {', '.join(known)}"
        )
    return SensitivityPlan(plan, settings)


# ----- running --------------------------------------------------------------------------
@dataclass
class SensitivityResult:
    """What :func:`run_sensitivity` did and found.

    Args:
        out: the results directory.
        plan: the checked plan (the spec and settings).
        analysis: the indices and convergence verdicts.
        report: the sweep session's report (runs done, failed, time).
        files: the files written (``indices.parquet``, ``indices.json``, figures).
    """

    out: Path
    plan: SensitivityPlan
    analysis: Analysis
    report: sweep.SweepReport
    files: list[Path]

    @property
    def indices(self) -> pd.DataFrame:
        """The indices in long form (see :class:`Analysis`)."""
        return self.analysis.indices


def check_out(out: str | Path, resume: bool) -> Path:
    """Check the results directory before any run.

    Args:
        out: the ``--out`` directory.
        resume: whether an analysis stored there may be continued.

    Raises:
        SacaInputError: a file, a directory holding something else, or a stored analysis
            without ``resume``.
    """
    path = prepare_out(out)
    if (path / RUNS / "meta.json").is_file():
        if not resume:
            raise SacaInputError(
                f"--out {out} already holds a sensitivity analysis; add --resume to continue "
                "it (stored runs are not redone), or give another directory"
            )
    elif holds_files(path) and not sweep.unborn(path, RUNS):
        raise SacaInputError(
            f"--out {out} is not empty and holds no sensitivity analysis; give a new or empty "
            "directory, or add --force to move its contents aside"
        )
    return path


def analyse_runs(sp: SensitivityPlan, runs: str | Path) -> Analysis:
    """The analysis of the runs stored so far in a sweep directory.

    Args:
        sp: the checked plan (the spec and settings).
        runs: the sweep directory (``DIR/runs``).
    """
    st, spec = sp.settings, sp.spec
    results = load_results(runs, window=st.window)
    means, noise = average(results, st.outputs)
    return analyse(
        sp.runs.design,
        means,
        st.outputs,
        regimes=list(sp.runs.regimes),
        second_order=spec.second_order,
        resamples=st.resamples,
        seed=spec.seed,
        tolerance=st.tolerance,
        noise=noise,
    )


def run_sensitivity(
    spec: SensitivityPlan | str | Path,
    out: str | Path,
    method: str | None = None,
    *,
    backend: str | None = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    rerun_failed: bool = False,
    progress: bool | None = None,
    run_timeout: float | None = None,
) -> SensitivityResult:
    """Run a sensitivity spec's sweep into ``out/runs`` and analyse it.

    Args:
        spec: a :class:`SensitivityPlan` or the path of a spec file.
        out: the results directory.
        method: ``sobol`` or ``morris`` (for a path); None takes the spec's design.
        backend: ``serial``, ``process`` or ``dask``
        (:func:`saca.experiments.engine.sweep.check_backend`). workers: worker processes for
        ``process`` and a dask LocalCluster. scheduler: address of a running dask scheduler.
        resume: continue the analysis stored in ``out``: stored runs are not redone.
        rerun_failed: like ``resume``, and redo the runs recorded as failed.
        progress: tqdm bar on stderr: True, False, or None for only on a terminal.
        run_timeout: seconds a run may take before it is recorded failed (None: no limit).

    Returns:
        A :class:`SensitivityResult`; ``out`` holds the files of the module docstring.

    Raises:
        SacaInputError: a bad spec, options or directory, before any run.
        KeyboardInterrupt: interrupted; the finished runs are stored (``resume=True``).
    """
    sp = spec if isinstance(spec, SensitivityPlan) else prepare(spec, method)
    backend, n_workers = check_backend(backend, workers, scheduler)
    path = check_out(out, resume or rerun_failed)
    runs = path / RUNS
    plan = sp.runs
    if (runs / "meta.json").is_file() and not pending_runs(plan, runs, rerun_failed):
        # nothing to run: skip starting workers (the sweep still checks the spec's hash)
        backend, workers, scheduler = "serial", None, None
    report = sweep.run_sweep(
        plan,
        runs,
        backend=backend,
        workers=None if scheduler or backend == "serial" else n_workers,
        scheduler=scheduler,
        resume=resume,
        rerun_failed=rerun_failed,
        progress=progress,
        run_timeout=run_timeout,
    )
    analysis = analyse_runs(sp, runs)
    files = write(path, sp, analysis, report)
    return SensitivityResult(path, sp, analysis, report, files)


# ----- files ----------------------------------------------------------------------------
RULE = (
    "sobol: w = widest 95% CI half-width of ST, d = largest |ST(first half of the base "
    "samples) - ST(second half)|; morris: the same for mu* divided by the largest mu*. "
    "Converged when w <= tolerance and d <= 2 tolerance; else recommended samples = "
    "samples * max(w / tol, d / (2 tol))^2, at least twice the samples (sobol: rounded up "
    "to a power of two; morris: to an even number)."
)


def _json(sp: SensitivityPlan, analysis: Analysis, report: sweep.SweepReport) -> dict[str, Any]:
    spec, plan, st = sp.spec, sp.runs, sp.settings
    conv = analysis.convergence
    return {
        "kind": "sensitivity",
        "name": spec.name,
        "method": analysis.method,
        "spec_file": spec.label,
        "spec_hash": spec.hash,
        "seed": spec.seed,
        "scenario": plan.scenario.name,
        "regimes": list(plan.regimes),
        "parameters": [f.describe() for f in plan.design.factors],
        "samples": analysis.samples,
        "levels": plan.design.levels,
        "second_order": spec.second_order,
        "design_points": len(plan.design),
        "replicates": spec.replicates,
        "steps": plan.steps,
        "runs": {
            "dir": RUNS,
            "total": report.total,
            "failed": report.failed_total,
            "complete": report.complete,
        },
        "settings": st.describe(),
        "averaging": "each output is averaged over the successful replicates of each "
        "(design point, regime); the indices describe that average",
        "bootstrap_seeding": "numpy.random.SeedSequence(seed, spawn_key=("
        f"{ANALYSIS_KEY}, regime_index, output_index, part)); part 0 the whole sample, 1 and "
        "2 its halves",
        "convergence": {
            "converged": analysis.converged,
            "recommended_samples": analysis.recommended_samples,
            "tolerance": analysis.tolerance,
            "rule": RULE,
            "per_output": conv.to_dict(orient="records"),
        },
        "warnings": analysis.warnings(),
        "problems": analysis.problems,
        "indices": analysis.indices.to_dict(orient="records"),
        "second_order_indices": analysis.second_order,
        **io.provenance(),
    }


def write(
    out: Path, sp: SensitivityPlan, analysis: Analysis, report: sweep.SweepReport
) -> list[Path]:
    """Write ``indices.parquet``, ``indices.json`` and one figure per output.

    Args:
        out: the results directory.
        sp: the checked plan (the spec and settings).
        analysis: the indices.
        report: the sweep session's report.

    Returns:
        The paths written.
    """
    files = [
        io.write_parquet(analysis.indices, out / "indices.parquet"),
        io.write_json(_json(sp, analysis, report), out / "indices.json"),
    ]
    spec = sp.spec
    for output in sp.settings.outputs:
        if not (analysis.indices["output"] == output).any():
            continue
        what = (
            f"Sobol indices, N = {analysis.samples}"
            if analysis.method == "sobol"
            else f"Morris elementary effects, {analysis.samples} trajectories"
        )
        title = (
            f"{RECORDS[output].label}\n{what}; mean of {spec.replicates} replicate"
            f"{'s' if spec.replicates != 1 else ''}, window {sp.settings.window}, "
            f"{sp.runs.scenario.name} scenario, seed {spec.seed}"
        )
        path = out / f"sensitivity_{output}.png"
        plot_indices(analysis, output, path, title)
        files.append(path)
    return files
