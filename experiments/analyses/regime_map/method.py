"""The map's method: which regime wins each cell, equity beside it, and Pareto fronts.

Pure functions: tables of runs in, tables out (no files, no console). A cell's winner is
decided here once; the table, the JSON and the figure all read it from :func:`map_cells`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments import stats
from saca.experiments.stats import runner_up
from saca.model.metrics import HIGHER_IS_BETTER
from saca.model.regime import DIALS

DEFAULT_METRICS = ("efficacy", "trust_institution", "burnout_mean")
PARETO_METRICS = ("efficacy", "burnout_mean", "trust_institution")
FRONTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "burnout": (("efficacy",), ("burnout_mean",)),
    "trust": (("efficacy", "trust_institution"), ()),
}
"""Front name → (metrics maximised, metrics minimised); column ``on_front_<name>``."""
DIAL_ABBR = {
    "information": "info",
    "consensus": "cons",
    "goals": "goal",
    "contract": "ctrt",
    "decision": "deci",
    "control": "ctrl",
}
"""Short dial names for text tables and tick labels."""


def _axis(results: pd.DataFrame, axis: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(axis, Mapping):
        return dict(axis)
    values = results[axis].dropna().unique().tolist()
    numeric = pd.api.types.is_numeric_dtype(results[axis])
    return {"key": axis, "kind": "float" if numeric else "choice", "levels": sorted(values)}


def level_codes(results: pd.DataFrame, axis: Mapping[str, Any]) -> np.ndarray:
    """The index of every run's level on an axis (-1 for a value not among the levels).

    Args:
        results: one row per run, with a column named by the axis's key.
        axis: ``{"key", "levels", ...}`` as in a sweep's meta.json.
    """
    index = {lv: i for i, lv in enumerate(axis["levels"])}
    # numpy scalars hash like their Python values, but a stored level may be either
    plain = results[axis["key"]].map(
        lambda v: index.get(v, index.get(v.item() if isinstance(v, np.generic) else v, -1))
    )
    return np.asarray(plain)


def map_cells(
    results: pd.DataFrame,
    x: str | Mapping[str, Any],
    y: str | Mapping[str, Any],
    regimes: Sequence[str] | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    better: Mapping[str, bool] | None = None,
) -> pd.DataFrame:
    """Which regime wins in every cell of two parameters, per metric.

    Runs are paired across regimes by design point and replicate (they share a seed); the
    best regime wins a cell when its paired 95% CI against every other regime excludes 0
    (:func:`saca.experiments.stats.winner`).

    Args:
        results: one row per run (:func:`saca.experiments.engine.results.load_results`): ``point``,
            ``regime``, ``replicate``, ``status``, the two parameters and the metrics.
        x: the x parameter's key (its levels are the values found), or its meta.json form
            (``key``, ``kind``, ``levels``).
        y: the y parameter, likewise.
        regimes: regime labels in order; None takes them in order of appearance.
        metrics: the metrics to map.
        better: metric → True if higher is better; default
            :data:`saca.model.metrics.HIGHER_IS_BETTER`.

    Returns:
        One row per cell and metric: ``metric``, ``higher_is_better``, ``x``, ``y``,
        ``ix``, ``iy`` (level indices), ``<regime>_mean`` / ``_lo`` / ``_hi`` for each
        regime, ``n`` (pairs), ``best`` (best mean), ``clear``, ``winner`` (``best`` when
        clear, else None), ``runner_up``, and ``diff`` / ``diff_lo`` / ``diff_hi``, the
        paired difference best − runner-up with its 95% CI. Cells without runs are left out.

    Raises:
        KeyError: a metric without a direction in ``better``.
    """
    better = HIGHER_IS_BETTER if better is None else better
    if regimes is None:
        regimes = list(dict.fromkeys(results["regime"]))
    fx, fy = _axis(results, x), _axis(results, y)
    ok = results[results["status"] == "ok"]
    cx, cy = level_codes(ok, fx), level_codes(ok, fy)
    rows: list[dict[str, Any]] = []
    for m in metrics:
        higher = better[m]
        for iy in range(len(fy["levels"])):
            for ix in range(len(fx["levels"])):
                sub = ok[(cx == ix) & (cy == iy)]
                if sub.empty:
                    continue
                values = stats.paired_values(sub, m, regimes)
                cell = stats.winner(values, higher)
                rec: dict[str, Any] = {
                    "metric": m,
                    "higher_is_better": higher,
                    "x": fx["levels"][ix],
                    "y": fy["levels"][iy],
                    "ix": ix,
                    "iy": iy,
                }
                for r, v in values.items():
                    ci = stats.mean_ci(v)
                    rec |= {f"{r}_mean": ci["mean"], f"{r}_lo": ci["lo"], f"{r}_hi": ci["hi"]}
                ru = runner_up(cell["best"], cell["means"])
                d = cell["diffs"].get(ru, {}) if ru is not None else {}
                rec |= {
                    "n": len(values[regimes[0]]),
                    "best": cell["best"],
                    "clear": bool(cell["clear"]),
                    "winner": cell["best"] if cell["clear"] else None,
                    "runner_up": ru,
                    "diff": d.get("diff", np.nan),
                    "diff_lo": d.get("lo", np.nan),
                    "diff_hi": d.get("hi", np.nan),
                }
                rows.append(rec)
    df = pd.DataFrame(rows)
    if len(df):  # None, not NaN, where no regime clearly wins
        df["winner"] = df["winner"].astype(object).where(df["clear"], None)
        df = _with_equity(df, ok, fx, fy, regimes)
    df.attrs.update(x=fx["key"], y=fy["key"], regimes=list(regimes))
    return df


def _with_equity(
    df: pd.DataFrame,
    ok: pd.DataFrame,
    fx: Mapping[str, Any],
    fy: Mapping[str, Any],
    regimes: Sequence[str],
) -> pd.DataFrame:
    """Beside efficacy in every cell: each regime's mean spread between communities
    (``<regime>_sd``) and worst-decile efficacy (``<regime>_worst``), and ``worst_off``,
    the sentence naming each regime that wins the mean but loses the worst-off there
    (:func:`saca.experiments.stats.worst_off_flags`, paired by point and replicate), or None.
    Rows of other metrics get NaN and None; runs stored without the equity metrics give
    NaN and flag nothing. ``ok`` holds the successful runs only."""
    spread, worst = stats.EQUITY_METRICS
    cx, cy = level_codes(ok, fx), level_codes(ok, fy)
    extra: dict[tuple[int, int], dict[str, Any]] = {}
    for (ix, iy), sub in ok.groupby([np.asarray(cx), np.asarray(cy)]):
        rec: dict[str, Any] = {}
        cols = {}
        for m in (stats.MEAN_METRIC, spread, worst):
            if m in sub:
                cols[m] = sub.pivot_table(index=["point", "replicate"], columns="regime", values=m)
        for r in regimes:
            for m, tag in ((spread, "sd"), (worst, "worst")):
                has = m in cols and r in cols[m]
                rec[f"{r}_{tag}"] = float(cols[m][r].mean()) if has else np.nan
        flags: dict[str, list[str]] = {}
        if worst in cols:
            both = [r for r in regimes if r in cols[worst] and r in cols[stats.MEAN_METRIC]]
            pair = cols[stats.MEAN_METRIC].index.intersection(cols[worst].index)
            flags = stats.worst_off_flags(
                {r: cols[stats.MEAN_METRIC].loc[pair, r].to_numpy(float) for r in both},
                {r: cols[worst].loc[pair, r].to_numpy(float) for r in both},
            )
        rec["worst_off"] = "; ".join(stats.worst_off_text(flags)) or None
        extra[(int(ix), int(iy))] = rec
    is_eff = df["metric"] == stats.MEAN_METRIC
    for col in [f"{r}_{t}" for r in regimes for t in ("sd", "worst")]:
        df[col] = [
            extra.get((ix, iy), {}).get(col, np.nan) if e else np.nan
            for e, ix, iy in zip(is_eff, df["ix"], df["iy"], strict=True)
        ]
    df["worst_off"] = pd.Series(
        [
            extra.get((ix, iy), {}).get("worst_off") if e else None
            for e, ix, iy in zip(is_eff, df["ix"], df["iy"], strict=True)
        ],
        index=df.index,
        dtype=object,
    )
    return df


def letters(regimes: Sequence[str]) -> dict[str, str]:
    """One letter per regime for text maps: upper-case initials when they differ, else A, B, ...

    Args:
        regimes: regime labels in order.
    """
    initials = [r[:1].upper() for r in regimes]
    if len(set(initials)) == len(initials) and all(c.isalpha() for c in initials):
        return dict(zip(regimes, initials, strict=True))
    return {r: chr(ord("A") + i) if i < 26 else str(i) for i, r in enumerate(regimes)}


# ----- Pareto fronts --------------------------------------------------------------------
def pareto_front(
    df: pd.DataFrame, maximise: Sequence[str] = (), minimise: Sequence[str] = ()
) -> pd.Series:
    """Which rows are non-dominated.

    Row ``p`` is dominated when another row is at least as good as ``p`` on every
    objective and strictly better on at least one. Equal rows do not dominate each other,
    so duplicates of a front point are all on the front. Rows with a missing objective
    are neither on the front nor dominate others.

    Args:
        df: one row per point.
        maximise: columns where higher is better.
        minimise: columns where lower is better.

    Returns:
        A boolean Series aligned with ``df`` (True: on the front).
    """
    cols = [*maximise, *minimise]
    if not cols:
        raise ValueError("pareto_front needs at least one column to maximise or minimise")
    # every objective as "higher is better"
    v = np.column_stack(
        [df[c].to_numpy(float) for c in maximise] + [-df[c].to_numpy(float) for c in minimise]
    )
    ok = np.isfinite(v).all(axis=1)
    w = v[ok]
    geq = (w[:, None, :] >= w[None, :, :]).all(axis=2)  # geq[q, p]: q at least as good as p
    gt = (w[:, None, :] > w[None, :, :]).any(axis=2)
    dominated = (geq & gt).any(axis=0)
    front = np.zeros(len(df), dtype=bool)
    front[np.flatnonzero(ok)] = ~dominated
    return pd.Series(front, index=df.index, name="on_front")


def _summary(values: pd.DataFrame, metrics: Sequence[str]) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    for m in metrics:
        ci = stats.mean_ci(values[m].to_numpy(float))
        rec |= {m: ci["mean"], f"{m}_lo": ci["lo"], f"{m}_hi": ci["hi"]}
    rec["n"] = len(values)
    return rec


def pareto_points(
    map_results: pd.DataFrame,
    regime_dials: Mapping[str, Mapping[str, float]],
    samples: pd.DataFrame | None = None,
    presets: pd.DataFrame | None = None,
    metrics: Sequence[str] = PARETO_METRICS,
) -> pd.DataFrame:
    """The points of the Pareto fronts, with means, 95% CIs and front flags.

    Args:
        map_results: the map's runs (one row per run; ok runs are used).
        regime_dials: regime label → its six dial values, in the spec's order.
        samples: the dial settings' runs (columns ``regime.<dial>``), or None.
        presets: the spec's regimes run at the scenario's own situation, or None.
        metrics: the metrics summarised.

    Returns:
        One row per point: ``group`` (``map``: the regimes averaged over the map's cells,
        one mean per replicate then a t CI over replicates; ``dials``: the sampled dial
        settings and the regimes at the scenario's situation, a t CI over replicates),
        ``kind`` (``preset`` or ``sample``), ``label``, ``regime`` (whose switches),
        ``point`` (the sample's design point, -1 for a preset), one column per dial
        ``regime.<dial>``, each metric with ``_lo`` / ``_hi``, ``n`` (replicates) and
        ``on_front_<front>`` for each of :data:`FRONTS` whose metrics are summarised
        (computed within the group).
    """
    dial_cols = [f"regime.{d}" for d in DIALS]
    regimes = list(regime_dials)
    rows: list[dict[str, Any]] = []

    def preset_row(group: str, r: str, values: pd.DataFrame) -> dict[str, Any]:
        dials = {f"regime.{d}": float(regime_dials[r][d]) for d in DIALS}
        head = {"group": group, "kind": "preset", "label": r, "regime": r, "point": -1}
        return head | dials | _summary(values, metrics)

    ok = map_results[map_results["status"] == "ok"]
    n_cells = map_results["point"].nunique()
    for r in regimes:
        # average over the cells within a replicate first: the cells are fixed situations,
        # the replicates the independent draws; a replicate with a failed run would
        # average other cells, so it is left out
        g = ok[ok["regime"] == r].groupby("replicate")
        per_rep = g[list(metrics)].mean()[g.size() == n_cells]
        rows.append(preset_row("map", r, per_rep))
    if samples is not None:
        s_ok = samples[samples["status"] == "ok"]
        base = regimes[0]
        for point, sub in s_ok.groupby("point", sort=True):
            head = {
                "group": "dials",
                "kind": "sample",
                "label": f"dials {int(point):02d}",
                "regime": base,
                "point": int(point),
            }
            dials = {c: float(sub[c].iloc[0]) for c in dial_cols}
            rows.append(head | dials | _summary(sub, metrics))
    if presets is not None:
        p_ok = presets[presets["status"] == "ok"]
        for r in regimes:
            rows.append(preset_row("dials", r, p_ok[p_ok["regime"] == r]))
    df = pd.DataFrame(rows)
    for name, (maxi, mini) in FRONTS.items():
        if not set(maxi) | set(mini) <= set(metrics):
            continue  # a front over a metric not summarised
        col = f"on_front_{name}"
        df[col] = False
        for _, idx in df.groupby("group", sort=False).groups.items():
            df.loc[idx, col] = pareto_front(df.loc[idx], maxi, mini).to_numpy()
    return df
