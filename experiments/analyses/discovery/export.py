"""A stored sweep written in EMA Workbench's format (experiments and outcomes)."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from saca.experiments.analyses.discovery.method import load_ema, quiet
from saca.experiments.engine.outdir import prepare_out
from saca.experiments.engine.results import load_results, read_meta
from saca.model import SacaInputError
from saca.model.metrics import METRICS

EMA_MODEL = "saca"
"""The ``model`` column of the EMA export."""


def dist_version(dist: str) -> str | None:
    """The installed version of a distribution, None when it is not installed.

    Args:
        dist: the distribution name, e.g. ``ema_workbench``.
    """
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


# ----- EMA Workbench export -------------------------------------------------------------
def ema_tables(
    results: pd.DataFrame, params: Sequence[str], regimes: Sequence[str] | None = None
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """A sweep's ok runs as EMA Workbench's ``(experiments, outcomes)`` tuple.

    Experiments: one row per run with the varied parameters and EMA's ``scenario``,
    ``policy`` and ``model`` columns (categories). A *scenario* is a design point with a
    replicate's random numbers, named like ``p00003-r001``: every regime runs it with the
    same seed, as EMA runs every scenario under every policy. The *policy* is the regime,
    the *model* ``saca``. Outcomes: every metric as a float array in the same row order.

    Args:
        results: one row per run (from :func:`saca.experiments.engine.results.load_results`).
        params: the varied parameter columns.
        regimes: the regime labels in order (the policy categories); None for their order
            in ``results``.
    """
    ok = results if "status" not in results.columns else results[results["status"] == "ok"]
    ok = ok.reset_index(drop=True)
    exp = ok[list(params)].copy()
    scen = [f"p{p:05d}-r{r:03d}" for p, r in zip(ok["point"], ok["replicate"], strict=True)]
    exp["scenario"] = pd.Categorical(scen)
    cats = list(regimes) if regimes is not None else list(dict.fromkeys(ok["regime"]))
    exp["policy"] = pd.Categorical(ok["regime"].astype(str), categories=cats)
    exp["model"] = pd.Categorical([EMA_MODEL] * len(ok))
    outcomes = {m: ok[m].to_numpy(dtype=float) for m in METRICS}
    return exp, outcomes


def export_ema(sweep_dir: str | Path, path: str | Path, window: str = "all") -> Path:
    """Write a stored sweep as an EMA Workbench results file (``save_results``).

    ``ema_workbench.load_results(path)`` reads it back as ``(experiments, outcomes)``;
    see :func:`ema_tables` for the columns. Failed runs are left out.

    Args:
        sweep_dir: a directory written by ``saca sweep`` (or ``DIR/runs`` of a discovery).
        path: the ``.tar.gz`` file to write (its directory is created if needed).
        window: ``all`` or a phase: the window the metrics cover.

    Returns:
        The path written.

    Raises:
        SacaInputError: not a sweep directory, an unknown window or a bad path.
    """
    path = check_export_path(path)
    meta = read_meta(sweep_dir)
    df = load_results(sweep_dir, window=window)
    params = [f["key"] for f in meta["design"]["factors"]]
    tables = ema_tables(df, params, meta["regimes"])
    ema = load_ema()
    with quiet():
        from ema_workbench.em_framework.outcomes import ScalarOutcome

        for m in METRICS:  # save_results needs every outcome's kind registered by name
            ScalarOutcome(m)
        path.parent.mkdir(parents=True, exist_ok=True)
        ema.save_results(tables, str(path))
    return path


def check_export_path(path: str | Path) -> Path:
    """Check an ``--export-ema`` path: a ``.tar.gz`` file that is not a directory.

    Args:
        path: the path.

    Raises:
        SacaInputError: another suffix, or an existing directory.
    """
    p = Path(path)
    if not p.name.endswith(".tar.gz"):
        raise SacaInputError(
            f"--export-ema {path}: EMA Workbench reads .tar.gz files; give a FILE.tar.gz"
        )
    if p.is_dir():
        raise SacaInputError(f"--export-ema {path} is a directory; give a FILE.tar.gz")
    prepare_out(p.parent)
    return p
