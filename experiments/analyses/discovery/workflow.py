"""Discovery runs: plan → sweep → cases → PRIM → boxes.json, tables and figures."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saca.experiments.analyses.discovery.export import check_export_path, dist_version, export_ema
from saca.experiments.analyses.discovery.figures import plot_boxes, plot_trajectory
from saca.experiments.analyses.discovery.method import Discovery, discover
from saca.experiments.analyses.discovery.settings import (
    TABLE,
    DiscoverySettings,
    metric_direction,
    read_settings,
    resolve_contrast,
)
from saca.experiments.engine import io, sweep
from saca.experiments.engine.backends import check_backend
from saca.experiments.engine.outdir import holds_files, make_out, prepare_out
from saca.experiments.engine.plan import SweepPlan
from saca.experiments.engine.plan import prepare as prepare_plan
from saca.experiments.engine.results import load_results, read_meta
from saca.experiments.engine.spec import load_spec, same_spec
from saca.model import SacaInputError
from saca.model.parameters import did_you_mean

FILES = ("boxes.json", "boxes.parquet", "points.parquet", "trajectory.png", "boxes.png")
"""What a discovery writes into its output directory (besides ``runs/``)."""


def write(d: Discovery, out: str | Path, extra: Mapping[str, Any] | None = None) -> list[Path]:
    """Write a discovery's files (:data:`FILES`) into ``out``.

    Args:
        d: the discovery.
        out: the directory (created if needed).
        extra: more entries for ``boxes.json`` (e.g. the source sweep).

    Returns:
        The paths written.
    """
    out = make_out(out)
    data = {**d.to_dict(), **dict(extra or {}), **io.provenance()}
    data["versions"]["ema_workbench"] = dist_version("ema_workbench")
    plot_trajectory(d, out / "trajectory.png")
    plot_boxes(d, out / "boxes.png")
    return [
        io.write_json(data, out / "boxes.json"),
        io.write_parquet(d.table(), out / "boxes.parquet"),
        io.write_parquet(d.points, out / "points.parquet"),
        out / "trajectory.png",
        out / "boxes.png",
    ]


# ----- running it -----------------------------------------------------------------------
@dataclass
class DiscoveryPlan:
    """A discovery checked and ready to run (everything validated, nothing run).

    Args:
        source: the spec file or the sweep directory given.
        out: the output directory.
        runs: the sweep directory analysed (``out/runs`` for a spec).
        settings: the settings (table and options merged).
        regime: the regime whose wins are the cases.
        reference: the reference regime.
        higher_is_better: the metric's direction.
        params: the varied parameters.
        ranges: their full ranges.
        sweep_plan: the prepared sweep for a spec; None for a stored sweep.
        resume: continue the sweep stored in ``runs``.
    """

    source: Path
    out: Path
    runs: Path
    settings: DiscoverySettings
    regime: str
    reference: str
    higher_is_better: bool
    params: list[str]
    ranges: dict[str, tuple[Any, Any]]
    sweep_plan: SweepPlan | None = None
    resume: bool = False


@dataclass
class DiscoverReport:
    """What :func:`run_discover` did.

    Args:
        discovery: the result.
        out: the output directory.
        files: the files written.
        sweep: the sweep session's report (spec input), else None.
        export: the EMA file written, or None.
    """

    discovery: Discovery
    out: Path
    files: list[Path]
    sweep: sweep.SweepReport | None = None
    export: Path | None = None


def _ranges(factors: Sequence[Mapping[str, Any]]) -> dict[str, tuple[Any, Any]]:
    out = {}
    for f in factors:
        if "min" in f:
            out[f["key"]] = (f["min"], f["max"])
        elif f.get("kind") in ("float", "int"):
            out[f["key"]] = (min(f["levels"]), max(f["levels"]))
    return out


def _check_out(out: Path, runs_inside: bool) -> None:
    prepare_out(out)
    if holds_files(out):
        known = (out / "boxes.json").is_file() or (runs_inside and (out / "runs").is_dir())
        if not known:
            raise SacaInputError(
                f"--out {out} is not empty and holds no discovery; give a new or empty "
                "directory, or add --force to move its contents aside"
            )


def _strip(data: Mapping[str, Any]) -> str:
    d = {k: v for k, v in json.loads(json.dumps(data, default=str)).items() if k != TABLE}
    d.get("sweep", {}).pop("description", None)
    return json.dumps(d, sort_keys=True)


def prepare(
    source: str | Path,
    out: str | Path | None,
    options: Mapping[str, Any] | None = None,
    *,
    resume: bool = False,
    execution: bool = False,
    force: bool = False,
) -> DiscoveryPlan:
    """Check a discovery before anything runs: spec or sweep, settings, output directory.

    Args:
        source: a sweep spec (TOML) or a directory written by ``saca sweep``.
        out: the output directory (None only to estimate a spec).
        options: command-line settings (key of :data:`KEYS` → value; None ignored).
        resume: continue the sweep in ``out/runs``.
        execution: whether sweep execution options were given (refused for a directory).
        force: ``out``'s old contents will be moved aside (``--force``): do not refuse
            them here.

    Raises:
        SacaInputError: anything wrong, in one line.
    """
    src = Path(source)
    if src.is_dir():
        if execution or resume:
            raise SacaInputError(
                f"{src} is a stored sweep: nothing runs, so --backend, --workers, "
                "--scheduler, --resume and --dry-run do not apply"
            )
        meta = read_meta(src)
        label = str(src)
        settings = read_settings(meta.get("spec", {}).get(TABLE), options, label=label)
        factors = meta["design"]["factors"]
        regimes = meta["regimes"]
        plan = None
        runs = src
        if out is None:
            raise SacaInputError("--out DIR is required: where the boxes and figures go")
        if Path(out).resolve() == src.resolve():
            raise SacaInputError(
                f"--out {out} is the sweep itself; give another directory for the discovery"
            )
    elif src.exists() or str(source).endswith(".toml"):
        spec = load_spec(src, extra_tables=(TABLE,))
        label = spec.label
        settings = read_settings(spec.data.get(TABLE), options, label=label)
        plan = prepare_plan(spec)
        factors = [f.describe() for f in plan.design.factors]
        regimes = list(plan.regimes)
        runs = Path(out) / "runs" if out is not None else src
        windows = plan.windows
        if settings.window not in windows:
            raise SacaInputError(
                f"{label}: no window {settings.window!r} in runs of {plan.steps} days; "
                f"{did_you_mean(settings.window, windows)}choose one of {', '.join(windows)}"
            )
    else:
        raise SacaInputError(
            f"{source} does not exist; give a sweep spec (.toml) or a directory written by "
            "saca sweep"
        )
    if not factors:
        raise SacaInputError(
            f"{label}: the design varies no parameter, so there is nothing to discover; "
            'use design = "lhs" (or "sobol") with ranges in [parameters], e.g. '
            '"situation.risk" = { min = 0.1, max = 0.9 }'
        )
    regime, reference = resolve_contrast(settings, regimes, label)
    try:
        higher = metric_direction(settings.metric, settings.direction)
    except SacaInputError as exc:
        raise SacaInputError(f"{label}: {exc}") from None
    if out is not None and not force:
        _check_out(Path(out), runs_inside=plan is not None)
    job = DiscoveryPlan(
        source=src,
        out=Path(out) if out is not None else src,
        runs=runs,
        settings=settings,
        regime=regime,
        reference=reference,
        higher_is_better=higher,
        params=[f["key"] for f in factors],
        ranges=_ranges(factors),
        sweep_plan=plan,
        resume=resume,
    )
    if plan is not None and out is not None and (resume or not force):
        _check_stored_runs(job)
    return job


def _check_stored_runs(job: DiscoveryPlan) -> None:
    """Resume rules for ``out/runs``; a spec differing only in [discover] resumes it."""
    assert job.sweep_plan is not None
    meta_file = job.runs / "meta.json"
    if not meta_file.is_file():
        return
    meta = read_meta(job.runs)
    if not job.resume:
        raise SacaInputError(
            f"{job.out} already holds this discovery's sweep in {job.runs}; add --resume to "
            f"continue it (stored runs are not redone), or analyse it as it is with: saca "
            f"discover {job.runs} --out DIR"
        )
    spec = job.sweep_plan.spec
    stored = meta.get("spec", {})
    if not same_spec(meta, spec) and _strip(stored) == _strip(spec.data):
        # Only the [discover] settings changed: resume the sweep under its stored spec
        # (same hash), analyse with the new settings.
        data = dict(spec.data)
        data.pop(TABLE, None)
        if TABLE in stored:
            data[TABLE] = stored[TABLE]
        fixed = dataclasses.replace(spec, data=data)
        if same_spec(meta, fixed):
            job.sweep_plan = dataclasses.replace(job.sweep_plan, spec=fixed)


def run_discover(
    spec_or_dir: str | Path,
    out: str | Path,
    options: Mapping[str, Any] | None = None,
    *,
    backend: str | None = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool | None = None,
    export_ema_to: str | Path | None = None,
    job: DiscoveryPlan | None = None,
    run_timeout: float | None = None,
) -> DiscoverReport:
    """Run a discovery: the sweep if given a spec (into ``out/runs``), PRIM, the files.

    Args:
        spec_or_dir: a sweep spec (TOML, optionally with a ``[discover]`` table) or a
            directory written by ``saca sweep``.
        out: the output directory.
        options: settings overriding the ``[discover]`` table (key of :data:`KEYS`).
        backend: ``serial``, ``process`` or ``dask`` (spec only).
        workers: worker processes (spec only).
        scheduler: a dask scheduler's address (spec only).
        resume: continue the sweep stored in ``out/runs``.
        progress: a progress bar for the sweep: True, False, None for only on a terminal.
        export_ema_to: also write the sweep in EMA Workbench's format to this file.
        job: an already checked job (from :func:`prepare`); None checks here.
        run_timeout: seconds a run may take before it is recorded failed (None: no limit).

    Returns:
        A :class:`DiscoverReport`.

    Raises:
        SacaInputError: anything wrong, before any run; KeyboardInterrupt when the sweep
            is interrupted (every finished run is stored).
    """
    if export_ema_to is not None:
        check_export_path(export_ema_to)
    if job is None:
        job = prepare(spec_or_dir, out, options, resume=resume)
    report = None
    if job.sweep_plan is not None:
        backend, workers = check_backend(backend, workers, scheduler)
        report = sweep.run_sweep(
            job.sweep_plan,
            job.runs,
            backend=backend,
            workers=None if scheduler else workers,
            scheduler=scheduler,
            resume=job.resume,
            progress=progress,
            run_timeout=run_timeout,
        )
    st = job.settings
    results = load_results(job.runs, window=st.window)
    d = discover(
        results,
        params=job.params,
        contrast=(job.regime, job.reference),
        metric=st.metric,
        direction=st.direction,
        margin=st.margin,
        threshold=st.threshold,
        peel_alpha=st.peel_alpha,
        mass_min=st.mass_min,
        max_boxes=st.max_boxes,
        ranges=job.ranges,
        window=st.window,
    )
    extra = {"source": str(job.source), "sweep": str(job.runs)}
    files = write(d, job.out, extra)
    exported = None
    if export_ema_to is not None:
        exported = export_ema(job.runs, export_ema_to, window=st.window)
    return DiscoverReport(d, job.out, files, report, exported)
