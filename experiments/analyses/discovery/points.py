"""The cases of a discovery: per design point, the mean paired difference and the win."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from saca.model import SacaInputError
from saca.model.scenario import all_params


def stats_columns() -> list[str]:
    """The statistics columns of :meth:`Discovery.table`."""
    return ["coverage", "density", "mass", "n", "cases"]


def parameter_columns(results: pd.DataFrame) -> list[str]:
    """The columns of a results table that are model parameters (dotted keys).

    Args:
        results: e.g. from :func:`saca.experiments.engine.results.load_results`.
    """
    known = {p.key for p in all_params()}
    return [c for c in results.columns if c in known]


def paired_points(
    results: pd.DataFrame,
    params: Sequence[str],
    regime: str,
    reference: str,
    metric: str,
    higher_is_better: bool,
    margin: float,
) -> tuple[pd.DataFrame, int]:
    """Per design point: the mean paired difference ``regime − reference`` and the case.

    Args:
        results: one row per run (``point``, ``regime``, ``replicate``, the parameters,
            the metric; failed runs, ``status`` not ``ok``, are left out).
        params: the parameter columns.
        regime: the regime whose wins are the cases.
        reference: the regime compared with.
        metric: the metric.
        higher_is_better: the metric's good direction.
        margin: the difference that counts as a win.

    Returns:
        The points table (see :class:`Discovery`) and the number of design points left
        out for lack of a complete pair.

    Raises:
        SacaInputError: missing columns or a run given twice.
    """
    need = ["point", "regime", "replicate", metric, *params]
    missing = [c for c in need if c not in results.columns]
    if missing:
        raise SacaInputError(
            f"the results have no column {', '.join(map(repr, missing))}; give a table from "
            "saca.experiments.engine.results.load_results"
        )
    ok = results if "status" not in results.columns else results[results["status"] == "ok"]
    ok = ok[ok["regime"].isin([regime, reference])]
    if ok.duplicated(["point", "regime", "replicate"]).any():
        raise SacaInputError(
            "the results hold a (point, regime, replicate) more than once; give one window "
            "(load_results(DIR, window='all'))"
        )
    wide = ok.pivot(index=["point", "replicate"], columns="regime", values=metric)
    wide = wide.reindex(columns=[reference, regime])
    diff = (wide[regime] - wide[reference]).dropna()
    pairs = wide.loc[diff.index]
    all_points = set(results["point"].unique())
    by_point = pd.DataFrame(
        {
            "pairs": diff.groupby(level="point").size(),
            "reference_mean": pairs[reference].groupby(level="point").mean(),
            "regime_mean": pairs[regime].groupby(level="point").mean(),
            "diff": diff.groupby(level="point").mean(),
        }
    )
    values = ok.groupby("point")[list(params)].first()
    pts = values.join(by_point, how="inner").reset_index().sort_values("point")
    signed = pts["diff"] if higher_is_better else -pts["diff"]
    pts["case"] = signed > margin
    pts = pts.astype({"pairs": "int64"}).reset_index(drop=True)
    return pts, len(all_points) - len(pts)
