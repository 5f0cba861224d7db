"""The best-mix method: candidates of a Latin hypercube of mixes, the best per cell, its
fronts and trends. Pure: tables of runs in, a :class:`BestMix` out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments import stats
from saca.experiments.analyses.regime_map import method as map_method
from saca.experiments.engine import design as dsg
from saca.model.regime import DIALS

DIAL_KEYS = tuple(f"regime.{d}" for d in DIALS)


def lhs_search(
    evaluate: Callable[[Mapping[str, Any]], Mapping[str, float]],
    factors: Sequence[dsg.Factor],
    samples: int,
    seed: int,
) -> pd.DataFrame:
    """Evaluate a function on a Latin hypercube of its inputs (the design a sweep uses).

    Args:
        evaluate: inputs by key → outputs by name.
        factors: the inputs' ranges.
        samples: points of the hypercube.
        seed: root seed of the design (:func:`saca.experiments.engine.design.lhs`).

    Returns:
        One row per point: the inputs, then the outputs.
    """
    points = dsg.lhs(factors, samples, seed)
    rows = [{**row, **evaluate(row)} for row in points.to_dict("records")]
    return pd.DataFrame(rows)


def nondominated_ranks(
    df: pd.DataFrame, maximise: Sequence[str] = (), minimise: Sequence[str] = ()
) -> pd.Series:
    """Non-dominated sorting: rank 0 is the Pareto front, rank 1 the front of the rest,
    and so on; rows with a missing objective get rank -1.

    Args:
        df: one row per point.
        maximise: columns where higher is better.
        minimise: columns where lower is better.
    """
    cols = [*maximise, *minimise]
    ok = np.isfinite(df[cols].to_numpy(float)).all(axis=1)
    rank = pd.Series(-1, index=df.index, name="rank")
    left = df[ok]
    r = 0
    while len(left):
        front = map_method.pareto_front(left, maximise, minimise)
        rank[front[front].index] = r
        left = left[~front]
        r += 1
    return rank


def best_rows(df: pd.DataFrame, objective: str, top: int) -> pd.DataFrame:
    """The ``top`` rows by the objective (``-name`` minimises), best first.

    Args:
        df: one row per candidate.
        objective: a column, or ``-column`` to minimise.
        top: how many.
    """
    col, ascending = (objective[1:], True) if objective.startswith("-") else (objective, False)
    ok = df[np.isfinite(df[col].to_numpy(float))]
    return ok.sort_values(col, ascending=ascending, kind="stable").head(top)


def autonomy_index(df: pd.DataFrame) -> pd.Series:
    """Mean of the six dials of each row (0: all constructive, 1: all autonomous); dials
    not in ``df`` are left out.

    Args:
        df: rows with ``regime.<dial>`` columns.
    """
    cols = [k for k in DIAL_KEYS if k in df.columns]
    return df[cols].mean(axis=1)


# ----- the spec -------------------------------------------------------------------------
@dataclass(frozen=True)
class BestMixSettings:
    """The ``[best_mix]`` table, checked.

    Args:
        axes: situation key → levels, in order (x, then y).
        switches: regime switch key → values searched (every combination).
        objective: the metric maximised (``-metric``: minimised).
        burnout: the burnout metric of the efficacy–burnout front (minimised).
        equity: the equity metric of the efficacy–equity front (minimised).
        window: ``all`` or a phase of the runs.
        top: candidates averaged for the top-k dials.
    """

    axes: dict[str, tuple[Any, ...]]
    switches: dict[str, tuple[Any, ...]]
    objective: str = "efficacy"
    burnout: str = "burnout_mean"
    equity: str = "efficacy_sd_between_communities"
    window: str = "all"
    top: int = 5

    @property
    def metrics(self) -> list[str]:
        """The metrics the analysis reads."""
        obj = self.objective.lstrip("-")
        return list(dict.fromkeys([obj, "efficacy", self.burnout, self.equity]))


def label(values: Mapping[str, Any]) -> str:
    """A switch combination as a short name (``task_force=1-off_post_share=0.5``; ``base``).

    Args:
        values: switch key → value.
    """
    parts = []
    for k, v in values.items():
        short = k.split(".", 1)[1]
        parts.append(f"{short}={int(v) if isinstance(v, bool) else v}")
    return "-".join(parts) or "base"


@dataclass
class BestMix:
    """The best-mix method's result.

    Args:
        candidates: every candidate of every cell with means, CIs and ranks.
        best: one row per cell.
        trends: per axis, the slope of the top-k autonomy index and of each dial.
    """

    candidates: pd.DataFrame
    best: pd.DataFrame
    trends: dict[str, Any]


def candidates(
    runs: Mapping[str, pd.DataFrame],
    index: Mapping[str, tuple[int, int]],
    cells: Sequence[Mapping[str, Any]],
    combos: Sequence[Mapping[str, Any]],
    params: Sequence[str],
    metrics: Sequence[str],
) -> pd.DataFrame:
    """Every candidate (cell, switch combination, mix) with its replicate means and CIs.

    Args:
        runs: sweep name → its successful runs (one row per run), in the plan's order.
        index: sweep name → (cell index, combination index).
        cells: one dict of situation values per cell.
        combos: one dict of switch values per combination.
        params: the searched parameters' keys.
        metrics: the metrics summarised.

    Returns:
        One row per candidate, with ``autonomy``; empty when no run succeeded.
    """
    rows = []
    for name, res in runs.items():
        i, j = index[name]
        for point, g in res.groupby("point", sort=True):
            rec: dict[str, Any] = {"cell": i, "combo": j, "point": int(point), "sweep": name}
            rec |= cells[i] | combos[j]
            rec |= {k: g[k].iloc[0] for k in params}
            for m in metrics:
                ci = stats.mean_ci(g[m].to_numpy(float))
                rec |= {m: ci["mean"], f"{m}_lo": ci["lo"], f"{m}_hi": ci["hi"]}
            rec["n"] = len(g)
            rows.append(rec)
    df = pd.DataFrame(rows)
    if not df.empty:
        df["autonomy"] = autonomy_index(df)
    return df


def analyse(
    runs: Mapping[str, pd.DataFrame],
    st: BestMixSettings,
    index: Mapping[str, tuple[int, int]],
    cells: Sequence[Mapping[str, Any]],
    combos: Sequence[Mapping[str, Any]],
    params: Sequence[str],
) -> BestMix:
    """The best mix per cell, the fronts' ranks and the trends along the axes.

    Args:
        runs: sweep name → its successful runs, in the plan's order (at least one run).
        st: the ``[best_mix]`` settings.
        index: sweep name → (cell index, combination index).
        cells: one dict of situation values per cell.
        combos: one dict of switch values per combination.
        params: the searched parameters' keys.
    """
    cand = candidates(runs, index, cells, combos, params, st.metrics)
    obj = st.objective.lstrip("-")
    cand["rank_burnout"] = -1
    cand["rank_equity"] = -1
    for _, idx in cand.groupby("cell").groups.items():
        sub = cand.loc[idx]
        cand.loc[idx, "rank_burnout"] = nondominated_ranks(sub, ["efficacy"], [st.burnout])
        cand.loc[idx, "rank_equity"] = nondominated_ranks(sub, ["efficacy"], [st.equity])
    best_rows_: list[dict[str, Any]] = []
    for i, cell in enumerate(cells):
        sub = cand[cand["cell"] == i]
        if sub.empty:
            continue
        ranked = best_rows(sub, st.objective, max(st.top, 2))
        b, runner_up = ranked.iloc[0], ranked.iloc[1]
        diff = _paired(runs, b, runner_up, obj)
        top = ranked.head(st.top)
        rec: dict[str, Any] = {"cell": i, **cell, "switches": label(combos[int(b["combo"])])}
        rec |= {k: b[k] for k in params} | {k: b[k] for k in st.switches}
        rec |= {obj: b[obj], f"{obj}_lo": b[f"{obj}_lo"], f"{obj}_hi": b[f"{obj}_hi"]}
        rec |= {"vs_runner_up": diff["diff"], "vs_runner_up_lo": diff["lo"]}
        rec["vs_runner_up_hi"] = diff["hi"]
        rec["autonomy"] = b["autonomy"]
        rec["top_autonomy"] = float(top["autonomy"].mean())
        rec |= {f"top_{k}": float(top[k].mean()) for k in params}
        for k in st.switches:
            rec[f"top_{k}"] = float(top[k].astype(float).mean())
        rec["front_burnout"] = int((sub["rank_burnout"] == 0).sum())
        rec["front_equity"] = int((sub["rank_equity"] == 0).sum())
        best_rows_.append(rec)
    best = pd.DataFrame(best_rows_)
    return BestMix(cand, best, _trends(best, st, [*params, *st.switches]))


def _paired(
    runs: Mapping[str, pd.DataFrame], a: pd.Series, b: pd.Series, metric: str
) -> dict[str, float]:
    """Difference a − b of two candidates of a cell, a t interval over replicates paired
    by replicate index. The same mix in two switch combinations shares its seeds (common
    random numbers); two different mixes do not, and the interval is then that of
    independent runs, valid but not narrowed by the pairing."""
    va = _replicates(runs, a, metric)
    vb = _replicates(runs, b, metric)
    n = min(len(va), len(vb))
    return stats.paired_diff_ci(vb[:n], va[:n])


def _replicates(runs: Mapping[str, pd.DataFrame], c: pd.Series, metric: str) -> np.ndarray:
    """A candidate's values over its replicates, in replicate order."""
    res = runs[str(c["sweep"])]
    sel = res[res["point"] == c["point"]].sort_values("replicate")
    return sel[metric].to_numpy(float)


def _trends(best: pd.DataFrame, st: BestMixSettings, keys: Sequence[str]) -> dict[str, Any]:
    """Least-squares slope of the top-k autonomy index and of each top-k parameter over
    each axis (per unit of the axis, averaged over the other axes' levels)."""
    out: dict[str, Any] = {}
    for axis in st.axes:
        x = best[axis].to_numpy(float)
        if len(np.unique(x)) < 2:
            continue
        rec = {}
        for col in ["top_autonomy", *[f"top_{k}" for k in keys]]:
            y = best[col].to_numpy(float)
            rec[col.removeprefix("top_")] = float(np.polyfit(x, y, 1)[0])
        out[axis] = rec
    return out


# ----- figures ----------------------------------------------------------------------------
