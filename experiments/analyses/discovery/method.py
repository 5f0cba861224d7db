"""PRIM boxes of the parameters where a regime wins (pure: tables in, a Discovery out)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments.analyses.discovery.points import (
    paired_points,
    parameter_columns,
    stats_columns,
)
from saca.experiments.analyses.discovery.settings import (
    DiscoverySettings,
    metric_direction,
    read_settings,
    resolve_contrast,
)
from saca.model import SacaInputError

MIN_LEFT = 0.10
"""No further box is sought once less than this share of the cases is left uncovered."""


# ----- the result -----------------------------------------------------------------------
@dataclass(frozen=True)
class Box:
    """One box found by PRIM.

    Args:
        id: 1 for the first box, 2 for the next, ...
        limits: restricted numeric parameter → ``(min, max)`` of the box (a side not
            restricted is the end of the full range).
        values: restricted non-numeric parameter → the values kept.
        lower: the numeric parameters restricted from below (``≥ min``).
        upper: the numeric parameters restricted from above (``≤ max``).
        qp: restricted parameter → quasi-p value of its restriction (Bryant & Lempert).
        coverage: share of all cases inside the box.
        density: share of the box's points that are cases.
        mass: share of all points inside the box.
        n: design points inside the box.
        cases: cases inside the box.
        trajectory: the peeling and pasting trajectory (``step``, ``coverage``,
            ``density``, ``mass``, ``n``, ``cases``, ``res_dim``).
        chosen: the step of the trajectory retained (or, for a box that did not reach the
            threshold, the densest step).
        accepted: whether a step reached the threshold (only accepted boxes are reported).
    """

    id: int
    limits: dict[str, tuple[float, float]]
    values: dict[str, list[Any]]
    lower: tuple[str, ...]
    upper: tuple[str, ...]
    qp: dict[str, float]
    coverage: float
    density: float
    mass: float
    n: int
    cases: int
    trajectory: pd.DataFrame = field(repr=False)
    chosen: int
    accepted: bool

    @property
    def restricted(self) -> tuple[str, ...]:
        """The restricted parameters, in the sweep's order."""
        return tuple([*self.limits, *self.values])

    def rule(self) -> str:
        """The box as a readable rule, e.g. ``situation.risk ≥ 0.42 and x ≤ 0.61``."""
        parts = []
        for key, (lo, hi) in self.limits.items():
            if key in self.lower and key in self.upper:
                parts.append(f"{number_text(lo)} ≤ {key} ≤ {number_text(hi)}")
            elif key in self.lower:
                parts.append(f"{key} ≥ {number_text(lo)}")
            else:
                parts.append(f"{key} ≤ {number_text(hi)}")
        for key, kept in self.values.items():
            parts.append(f"{key} in {{{', '.join(map(str, kept))}}}")
        return " and ".join(parts) if parts else "the whole parameter space"


def number_text(x: Any) -> str:
    """A number as the tables and figures show it: booleans lower case, whole numbers bare.

    Args:
        x: the value.
    """
    if isinstance(x, bool | np.bool_):
        return str(bool(x)).lower()
    if isinstance(x, int | np.integer):
        return str(int(x))
    x = float(x)
    if x.is_integer() and abs(x) >= 1:
        return f"{x:.0f}"
    return f"{x:.3g}"


@dataclass(frozen=True)
class Discovery:
    """The result of a scenario discovery.

    Args:
        regime: the regime whose wins are the cases.
        reference: the regime it is compared with.
        metric: the metric compared.
        higher_is_better: the metric's good direction.
        margin: the difference that counts as a win.
        threshold: the least density of a retained box.
        peel_alpha: PRIM's peeling share.
        mass_min: PRIM's least box mass.
        max_boxes: the most boxes sought.
        window: the window the metric covers.
        params: the parameters PRIM restricts, in the sweep's order.
        ranges: parameter → ``(min, max)`` of its full range (the spec's, or the data's).
        points: one row per design point: ``point``, the parameters, ``pairs`` (paired
            replicates), ``reference_mean``, ``regime_mean``, ``diff`` (regime −
            reference, mean over the pairs) and ``case``.
        attempts: every box PRIM found, the last possibly not accepted.
        dropped: design points left out (no complete pair, or a missing metric).
    """

    regime: str
    reference: str
    metric: str
    higher_is_better: bool
    margin: float
    threshold: float
    peel_alpha: float
    mass_min: float
    max_boxes: int
    window: str
    params: tuple[str, ...]
    ranges: dict[str, tuple[Any, Any]]
    points: pd.DataFrame = field(repr=False)
    attempts: tuple[Box, ...] = ()
    dropped: int = 0

    @property
    def boxes(self) -> tuple[Box, ...]:
        """The accepted boxes, in the order found."""
        return tuple(b for b in self.attempts if b.accepted)

    @property
    def n_points(self) -> int:
        """Design points analysed."""
        return len(self.points)

    @property
    def n_cases(self) -> int:
        """Design points where the regime wins."""
        return int(self.points["case"].sum())

    @property
    def base_rate(self) -> float:
        """Share of the design points where the regime wins."""
        return self.n_cases / self.n_points if self.n_points else math.nan

    def table(self) -> pd.DataFrame:
        """The accepted boxes, one row per box and restricted parameter.

        Columns: ``box``, ``parameter``, ``min``, ``max`` (an unrestricted side is the end
        of the full range), ``restricted_min``, ``restricted_max``, ``values``
        (non-numeric parameters), ``qp`` (quasi-p value), ``coverage``, ``density``,
        ``mass``, ``n``, ``cases``. A box that restricts nothing (the whole space) has one
        row with no parameter.
        """
        rows = []
        for b in self.boxes:
            stats = {
                "coverage": b.coverage,
                "density": b.density,
                "mass": b.mass,
                "n": b.n,
                "cases": b.cases,
            }
            keys = b.restricted or (None,)
            for key in keys:
                lo, hi = b.limits.get(key, (math.nan, math.nan)) if key else (math.nan,) * 2
                kept = b.values.get(key) if key else None
                rows.append(
                    {
                        "box": b.id,
                        "parameter": key,
                        "min": float(lo),
                        "max": float(hi),
                        "restricted_min": key in b.lower,
                        "restricted_max": key in b.upper,
                        "values": None if kept is None else ", ".join(map(str, kept)),
                        "qp": b.qp.get(key, math.nan) if key else math.nan,
                        **stats,
                    }
                )
        cols = [
            "box",
            "parameter",
            "min",
            "max",
            "restricted_min",
            "restricted_max",
            "values",
            "qp",
            *stats_columns(),
        ]
        df = pd.DataFrame(rows, columns=cols)
        return df.astype(
            {
                "box": "int64",
                "n": "int64",
                "cases": "int64",
                "restricted_min": bool,
                "restricted_max": bool,
            }
        )

    def summary(self) -> str:
        """A readable summary: the base rate, then one line per box."""
        better = "higher" if self.higher_is_better else "lower"
        sign = ">" if self.higher_is_better else "<"
        edge = (
            f"{'' if self.higher_is_better else '−'}{number_text(self.margin)}"
            if self.margin
            else "0"
        )
        if not self.n_points:
            return f"no design point has a complete {self.regime}/{self.reference} pair"
        lines = [
            f"{self.regime} beats {self.reference} on {self.metric} in "
            f"{self.base_rate:.0%} of the situations ({self.n_cases} of {self.n_points} "
            f"design points; {better} is better; win: paired difference {self.regime} − "
            f"{self.reference}, mean over replicates, {sign} {edge}; window {self.window})"
        ]
        for b in self.boxes:
            lines.append(
                f"box {b.id}: {b.rule()}: coverage {b.coverage:.2f}, density "
                f"{b.density:.2f}, mass {b.mass:.2f} ({b.n} points, {b.cases} wins)"
            )
        if not self.n_cases:
            lines.append("no wins, so no box")
        elif not self.boxes:
            a = self.attempts[0] if self.attempts else None
            best = (
                f" (the densest box on the peeling trajectory: density {a.density:.2f}, "
                f"coverage {a.coverage:.2f}, mass {a.mass:.2f})"
                if a is not None
                else ""
            )
            lines.append(
                f"no box reaches density {self.threshold:.2f}{best}; lower the threshold "
                "or add design points"
            )
        elif len(self.boxes) > 1:
            cov = sum(b.coverage for b in self.boxes)
            lines.append(f"the {len(self.boxes)} boxes together cover {cov:.0%} of the wins")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready data (what ``boxes.json`` holds)."""
        boxes = []
        for b in self.attempts:
            boxes.append(
                {
                    "box": b.id,
                    "accepted": b.accepted,
                    "rule": b.rule(),
                    "coverage": b.coverage,
                    "density": b.density,
                    "mass": b.mass,
                    "n": b.n,
                    "cases": b.cases,
                    "limits": [
                        {
                            "parameter": k,
                            "min": lo,
                            "max": hi,
                            "restricted_min": k in b.lower,
                            "restricted_max": k in b.upper,
                            "qp": b.qp.get(k),
                        }
                        for k, (lo, hi) in b.limits.items()
                    ]
                    + [
                        {"parameter": k, "values": v, "qp": b.qp.get(k)}
                        for k, v in b.values.items()
                    ],
                    "chosen_step": b.chosen,
                    "trajectory": b.trajectory.to_dict(orient="records"),
                }
            )
        return {
            "kind": "discovery",
            "regime": self.regime,
            "reference": self.reference,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "window": self.window,
            "margin": self.margin,
            "threshold": self.threshold,
            "peel_alpha": self.peel_alpha,
            "mass_min": self.mass_min,
            "max_boxes": self.max_boxes,
            "method": (
                "PRIM (Friedman & Fisher 1999) by ema_workbench.analysis.prim, lenient1 "
                "objective; box retained: highest coverage with density >= threshold; "
                "further boxes on the points outside the earlier ones"
            ),
            "parameters": list(self.params),
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "points": self.n_points,
            "dropped_points": self.dropped,
            "cases": self.n_cases,
            "base_rate": self.base_rate,
            "boxes": boxes,
            "summary": self.summary(),
        }


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence EMA Workbench's import notices, its logging and pandas' deprecation notes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logger = logging.getLogger("EMA")
        level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            yield
        finally:
            logger.setLevel(level)


def load_ema() -> Any:
    """Import EMA Workbench (slow: seconds), quietly."""
    with quiet():
        import ema_workbench
        import ema_workbench.analysis.prim  # the submodule used below
    return ema_workbench


def _box_of(prim_obj: Any, ema_box: Any, box_id: int, threshold: float, params: Sequence[str]):
    traj = ema_box.peeling_trajectory
    table = pd.DataFrame(
        {
            "step": traj["id"].astype("int64"),
            "coverage": traj["coverage"].astype(float),
            "density": traj["density"].astype(float),
            "mass": traj["mass"].astype(float),
            "n": traj["n"].astype("int64"),
            "cases": traj["k"].astype("int64"),
            "res_dim": traj["res_dim"].astype("int64"),
        }
    ).reset_index(drop=True)
    # a small tolerance: densities like 4/5 must count as reaching a threshold of 0.8
    good = table[table["density"] >= threshold - 1e-9]
    accepted = not good.empty
    if accepted:
        order = good.sort_values(["coverage", "density"], ascending=False, kind="stable")
        chosen = int(order.index[0])
        ema_box.select(chosen)  # so the next box is sought outside this one
    else:
        chosen = int(table["density"].idxmax())
    lims = ema_box.box_lims[chosen]
    init = prim_obj.box_init
    limits: dict[str, tuple[float, float]] = {}
    values: dict[str, list[Any]] = {}
    lower, upper = [], []
    for key in params:
        if key not in lims.columns:
            continue
        lo, hi = lims[key].iloc[0], lims[key].iloc[1]
        lo0, hi0 = init[key].iloc[0], init[key].iloc[1]
        if isinstance(lo, set):
            if lo != lo0:
                values[key] = sorted(lo, key=str)
            continue
        if lo > lo0:
            lower.append(key)
        if hi < hi0:
            upper.append(key)
        if lo > lo0 or hi < hi0:
            limits[key] = (_plain(lo), _plain(hi))
    qp: dict[str, float] = {}
    for key, pair in (ema_box.p_values[chosen] or {}).items():
        valid = [float(p) for p in pair if p is not None and p >= 0]
        if valid and key in (*limits, *values):
            qp[key] = max(valid)
    row = table.loc[chosen]
    return Box(
        id=box_id,
        limits=limits,
        values=values,
        lower=tuple(lower),
        upper=tuple(upper),
        qp=qp,
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        mass=float(row["mass"]),
        n=int(row["n"]),
        cases=int(row["cases"]),
        trajectory=table,
        chosen=chosen,
        accepted=accepted,
    )


def _plain(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def discover(
    results: pd.DataFrame,
    params: Sequence[str] | None = None,
    contrast: Sequence[str] | None = None,
    metric: str = "efficacy",
    direction: str | None = None,
    margin: float = 0.0,
    threshold: float = 0.8,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
    max_boxes: int = 3,
    ranges: Mapping[str, tuple[Any, Any]] | None = None,
    window: str = "all",
) -> Discovery:
    """Find the boxes of parameters where one regime beats another (see the module doc).

    Pure: works on any table from :func:`saca.experiments.engine.results.load_results` (one window).

    Args:
        results: one row per run.
        params: the parameter columns to restrict; None for every column that is a model
            parameter (dotted key).
        contrast: ``(regime, reference)``; None for the last and the first regime in the
            order they appear in ``results`` (the spec's order for ``load_results``).
        metric: the metric compared.
        direction: ``higher`` or ``lower`` is better; None for the metric's own.
        margin: how far beyond zero the mean paired difference must lie to be a win.
        threshold: the least density of a retained box.
        peel_alpha: share of the points peeled off in one step.
        mass_min: PRIM stops peeling below this share of the points.
        max_boxes: at most this many boxes.
        ranges: parameter → its full ``(min, max)``, for the figure; default the data's.
        window: the window the results cover (recorded only).

    Returns:
        A :class:`Discovery`.

    Raises:
        SacaInputError: bad settings, missing columns, or no parameter to restrict.
    """
    st = read_settings(
        {
            "metric": metric,
            "margin": margin,
            "threshold": threshold,
            "peel_alpha": peel_alpha,
            "mass_min": mass_min,
            "max_boxes": max_boxes,
            **({"contrast": list(contrast)} if contrast is not None else {}),
            **({"direction": direction} if direction is not None else {}),
        },
        label="discover",
    )
    higher = metric_direction(st.metric, st.direction)
    if "regime" not in results.columns:
        raise SacaInputError("the results have no regime column; give a sweep's results")
    order = list(dict.fromkeys(results["regime"].tolist()))
    regime, reference = resolve_contrast(st, order, "the results")
    params = list(params) if params is not None else parameter_columns(results)
    if not params:
        raise SacaInputError(
            "the results vary no parameter; discovery needs a design over parameter ranges"
        )
    pts, dropped = paired_points(results, params, regime, reference, st.metric, higher, st.margin)
    full = {}
    for key in params:
        if ranges is not None and key in ranges:
            full[key] = tuple(_plain(v) for v in ranges[key])
        elif len(pts) and pd.api.types.is_numeric_dtype(pts[key]):
            full[key] = (_plain(pts[key].min()), _plain(pts[key].max()))
    attempts = _prim(pts, params, st) if len(pts) and pts["case"].any() else []
    attempts = [_open_sides(b, full) for b in attempts]
    return Discovery(
        regime=regime,
        reference=reference,
        metric=st.metric,
        higher_is_better=higher,
        margin=st.margin,
        threshold=st.threshold,
        peel_alpha=st.peel_alpha,
        mass_min=st.mass_min,
        max_boxes=st.max_boxes,
        window=window,
        params=tuple(params),
        ranges=full,
        points=pts,
        attempts=tuple(attempts),
        dropped=dropped,
    )


def _open_sides(box: Box, ranges: Mapping[str, tuple[Any, Any]]) -> Box:
    """Report an unrestricted side of a limit as the end of the parameter's full range.

    PRIM's limits on an unrestricted side are the extreme value sampled, which says
    nothing; the full range does (``situation.capacity_mean ≤ 0.31`` spans [lo, 0.31]).
    """
    limits = {}
    for key, (lo, hi) in box.limits.items():
        lo0, hi0 = ranges.get(key, (lo, hi))
        limits[key] = (lo if key in box.lower else lo0, hi if key in box.upper else hi0)
    return dataclasses.replace(box, limits=limits)


def _prim(pts: pd.DataFrame, params: Sequence[str], st: DiscoverySettings) -> list[Box]:
    """PRIM's boxes on the points table, covering approach (see the module doc)."""
    ema = load_ema()
    x = pts[list(params)].reset_index(drop=True)
    for key in params:  # EMA peels numbers as numbers and everything else as categories
        if x[key].dtype == bool or not pd.api.types.is_numeric_dtype(x[key]):
            x[key] = x[key].astype(str).astype("category")
    y = pts["case"].to_numpy(dtype=bool)
    total = int(y.sum())
    boxes: list[Box] = []
    with quiet():
        finder = ema.analysis.prim.Prim(x, y, peel_alpha=st.peel_alpha, mass_min=st.mass_min)
        covered = np.zeros(len(y), dtype=bool)
        for box_id in range(1, st.max_boxes + 1):
            found = finder.find_box()
            if found is None:
                break
            box = _box_of(finder, found, box_id, st.threshold, params)
            boxes.append(box)
            if not box.accepted:
                break
            covered[np.asarray(found.yi)] = True
            if (y & ~covered).sum() < max(1.0, MIN_LEFT * total):
                break
    return boxes
