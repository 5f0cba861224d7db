"""Scenario discovery: the boxes of situation parameters where one regime beats another.

``saca discover SPEC.toml|DIR --out OUT`` answers "in which situations does autonomy beat
construction?" from a sweep over (situation) parameters under two or more regimes:

1. **Cases.** For every design point the paired difference ``regime − reference`` of one
   metric is averaged over the replicates. The regimes of a (point, replicate) share their
   seed (common random numbers), so the differences are paired. A point is a *case of
   interest* ("the regime wins") when the difference lies beyond ``margin`` in the metric's
   good direction: above ``+margin`` for a higher-is-better metric such as efficacy, below
   ``−margin`` for a lower-is-better one such as burnout. The share of cases is the *base
   rate*.
2. **PRIM** (the Patient Rule Induction Method, Friedman & Fisher 1999), in EMA Workbench's
   implementation (``ema_workbench.analysis.prim``, Kwakkel 2017), with its default lenient
   objective: peeling removes the ``peel_alpha`` quantile of one parameter at a time from
   the box, choosing the peel that raises the density of cases most per point removed,
   until the box holds less than ``mass_min`` of the points; pasting then widens the last
   box while that does not lower its density. Every box on this *peeling trajectory* has a
   coverage (share of all cases inside it), a density (share of its points that are cases)
   and a mass (share of all points inside it). The box retained is the one of
   highest coverage among those with density ≥ ``threshold`` (ties: the denser). Its
   restrictions come with Bryant & Lempert's (2010) quasi-p values (a one-sided binomial
   test of each restriction).
3. **More boxes.** As in EMA's repeated ``find_box`` (a covering approach), the points of a
   retained box are removed and PRIM looks for the next box among the rest, up to
   ``max_boxes`` boxes, while at least ``MIN_LEFT`` of the cases remain uncovered and a
   box reaches the threshold. Coverage and mass of later boxes are shares of all cases
   and all points.

Outputs in ``OUT``: ``boxes.json`` (settings, base rate, every box with its limits,
statistics and peeling trajectory, and the summary), ``boxes.parquet`` (one row per box
and restricted parameter), ``points.parquet`` (per design point: parameters, paired
difference, case), ``trajectory.png`` (coverage vs density, the chosen box marked) and
``boxes.png`` (each box's limits against the parameters' full ranges). With a spec the
sweep itself runs into ``OUT/runs`` (resumable, as ``saca sweep``).

:func:`export_ema` writes a stored sweep in EMA Workbench's format (``save_results`` of
the ``(experiments, outcomes)`` tuple), so EMA's own analyses read it with
``ema_workbench.load_results``.

EMA Workbench was chosen over a hand-written PRIM: it installs from PyPI on Python 3.12
with our numpy and pandas and gives peeling, pasting, the trajectory and quasi-p values;
it is imported only when a discovery or an export runs (it takes seconds to import).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import math
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from saca.experiments import console
from saca.experiments.engine import io, outdir, sweep
from saca.experiments.engine.backends import check_backend, check_timeout
from saca.experiments.engine.estimate import estimate, stored_pending
from saca.experiments.engine.plan import SweepPlan, plan_line, prepare
from saca.experiments.engine.results import load_results, read_meta
from saca.experiments.engine.spec import load_spec, same_spec
from saca.experiments.plots.axes import save_figure
from saca.model import SacaInputError
from saca.model.metrics import HIGHER_IS_BETTER, METRICS
from saca.model.parameters import did_you_mean
from saca.model.scenario import all_params

TABLE = "discover"
"""The spec's table of discovery settings."""

KEYS = (
    "contrast",
    "metric",
    "direction",
    "window",
    "margin",
    "threshold",
    "peel_alpha",
    "mass_min",
    "max_boxes",
)
"""The keys of a ``[discover]`` table."""

MIN_LEFT = 0.10
"""No further box is sought once less than this share of the cases is left uncovered."""

EMA_MODEL = "saca"
"""The ``model`` column of the EMA export."""

FILES = ("boxes.json", "boxes.parquet", "points.parquet", "trajectory.png", "boxes.png")
"""What a discovery writes into its output directory (besides ``runs/``)."""


# ----- settings -------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """What to discover and how (the ``[discover]`` table and command-line options).

    Args:
        contrast: ``(regime, reference)``: the cases are where ``regime`` beats
            ``reference``; None for the last and the first regime of the sweep.
        metric: the metric compared (a name of ``saca.model.metrics.METRICS``).
        direction: ``higher`` or ``lower`` is better; None takes the metric's own.
        window: ``all`` (the whole run) or a phase name, as in ``load_results``.
        margin: how far beyond zero the paired difference must lie to count as a win.
        threshold: the least density of the box retained.
        peel_alpha: share of the points peeled off in one step.
        mass_min: PRIM stops peeling below this share of the points.
        max_boxes: at most this many boxes.
    """

    contrast: tuple[str, str] | None = None
    metric: str = "efficacy"
    direction: str | None = None
    window: str = "all"
    margin: float = 0.0
    threshold: float = 0.8
    peel_alpha: float = 0.05
    mass_min: float = 0.05
    max_boxes: int = 3


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def read_settings(
    table: Mapping[str, Any] | None,
    overrides: Mapping[str, Any] | None = None,
    label: str = "[discover]",
) -> Settings:
    """Check the form of a ``[discover]`` table and apply command-line overrides.

    Args:
        table: the parsed ``[discover]`` table (or None).
        overrides: key → value from the command line (None values are ignored); they win
            over the table.
        label: how messages name the table (e.g. the spec's path).

    Returns:
        The :class:`Settings`.

    Raises:
        SacaInputError: an unknown key or a value of the wrong form or range.
    """

    def fail(msg: str) -> SacaInputError:
        return SacaInputError(f"{label}: {msg}")

    values = dict(table or {})
    for key in values:
        if key not in KEYS:
            raise fail(
                f"unknown key {key!r} in [{TABLE}]; {did_you_mean(key, KEYS)}"
                f"known keys: {', '.join(KEYS)}"
            )
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    out: dict[str, Any] = {}
    if "contrast" in values:
        c = values["contrast"]
        if isinstance(c, str):
            c = [s.strip() for s in c.split(",")]
        if (
            not isinstance(c, list | tuple)
            or len(c) != 2
            or not all(isinstance(s, str) and s for s in c)
        ):
            raise fail(
                "contrast must name two regimes, the regime and its reference, e.g. "
                f'contrast = ["autonomous", "constructive"]; got {values["contrast"]!r}'
            )
        if c[0] == c[1]:
            raise fail(f"contrast names {c[0]!r} twice; give the regime and its reference")
        out["contrast"] = (c[0], c[1])
    for key in ("metric", "window"):
        if key in values:
            if not isinstance(values[key], str) or not values[key]:
                raise fail(f"{key} must be a name, got {values[key]!r}")
            out[key] = values[key]
    if "direction" in values:
        if values["direction"] not in ("higher", "lower"):
            raise fail(
                f'direction must be "higher" or "lower" (is better), got {values["direction"]!r}'
            )
        out["direction"] = values["direction"]
    bounds = {
        "margin": (0.0, math.inf, "at least 0"),
        "threshold": (0.0, 1.0, "in (0, 1]"),
        "peel_alpha": (0.0, 0.5, "in (0, 0.5]"),
        "mass_min": (0.0, 1.0, "in (0, 1)"),
    }
    for key, (lo, hi, text) in bounds.items():
        if key not in values:
            continue
        v = values[key]
        ok = _number(v) and math.isfinite(v)
        if ok and key == "margin":
            ok = v >= lo
        elif ok and key == "mass_min":
            ok = lo < v < hi
        elif ok:
            ok = lo < v <= hi
        if not ok:
            raise fail(f"{key} must be a number {text}, got {v!r}")
        out[key] = float(v)
    if "max_boxes" in values:
        v = values["max_boxes"]
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise fail(f"max_boxes must be a whole number of at least 1, got {v!r}")
        out["max_boxes"] = v
    return Settings(**out)


def metric_direction(metric: str, direction: str | None = None) -> bool:
    """Whether higher is better for a metric.

    Args:
        metric: the metric's name.
        direction: ``higher`` or ``lower`` to say it; None takes :data:`HIGHER_IS_BETTER`.

    Raises:
        SacaInputError: an unknown metric (with a "did you mean"), or one with no agreed
            direction and none given.
    """
    if metric not in METRICS:
        raise SacaInputError(
            f"unknown metric {metric!r}; {did_you_mean(metric, METRICS)}"
            "see the metric names in README or docs/ODD.md"
        )
    if direction is not None:
        return direction == "higher"
    if metric not in HIGHER_IS_BETTER:
        raise SacaInputError(
            f"metric {metric!r} has no agreed good direction; say which is better with "
            'direction = "higher" or "lower" in [discover] (or --direction)'
        )
    return HIGHER_IS_BETTER[metric]


def resolve_contrast(settings: Settings, regimes: Sequence[str], label: str) -> tuple[str, str]:
    """The (regime, reference) pair of a discovery, checked against the sweep's regimes.

    Args:
        settings: the settings (``contrast`` None: the last and the first regime).
        regimes: the sweep's regime labels, in order.
        label: how messages name the sweep.

    Raises:
        SacaInputError: fewer than two regimes, or a contrast naming a regime not swept.
    """
    regimes = list(regimes)
    if len(regimes) < 2:
        raise SacaInputError(
            f"{label}: discovery compares two regimes but the sweep has only "
            f"{', '.join(regimes) or 'none'}; list the reference too, e.g. "
            'regimes = ["constructive", "autonomous"]'
        )
    if settings.contrast is None:
        return regimes[-1], regimes[0]
    for name in settings.contrast:
        if name not in regimes:
            raise SacaInputError(
                f"{label}: contrast names the regime {name!r}, which the sweep does not run; "
                f"{did_you_mean(name, regimes)}its regimes are {', '.join(regimes)}"
            )
    return settings.contrast


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
                parts.append(f"{_fmt(lo)} ≤ {key} ≤ {_fmt(hi)}")
            elif key in self.lower:
                parts.append(f"{key} ≥ {_fmt(lo)}")
            else:
                parts.append(f"{key} ≤ {_fmt(hi)}")
        for key, kept in self.values.items():
            parts.append(f"{key} in {{{', '.join(map(str, kept))}}}")
        return " and ".join(parts) if parts else "the whole parameter space"


def _fmt(x: Any) -> str:
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
        edge = f"{'' if self.higher_is_better else '−'}{_fmt(self.margin)}" if self.margin else "0"
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


def stats_columns() -> list[str]:
    """The statistics columns of :meth:`Discovery.table`."""
    return ["coverage", "density", "mass", "n", "cases"]


# ----- the analysis ---------------------------------------------------------------------
@contextlib.contextmanager
def _quiet() -> Iterator[None]:
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


def _ema() -> Any:
    """Import EMA Workbench (slow: seconds), quietly."""
    with _quiet():
        import ema_workbench
        import ema_workbench.analysis.prim  # the submodule used below
    return ema_workbench


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


def _prim(pts: pd.DataFrame, params: Sequence[str], st: Settings) -> list[Box]:
    """PRIM's boxes on the points table, covering approach (see the module doc)."""
    ema = _ema()
    x = pts[list(params)].reset_index(drop=True)
    for key in params:  # EMA peels numbers as numbers and everything else as categories
        if x[key].dtype == bool or not pd.api.types.is_numeric_dtype(x[key]):
            x[key] = x[key].astype(str).astype("category")
    y = pts["case"].to_numpy(dtype=bool)
    total = int(y.sum())
    boxes: list[Box] = []
    with _quiet():
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


# ----- figures --------------------------------------------------------------------------
def plt_cmap(name: str, n: int) -> Any:
    """A colormap of ``n`` discrete colours (restricted-parameter counts are whole).

    Args:
        name: a matplotlib colormap name.
        n: the number of colours.
    """
    return colormaps[name].resampled(n)


def plot_trajectory(d: Discovery, path: str | Path | None = None) -> Figure:
    """Coverage vs density along each box's peeling trajectory, the chosen box marked.

    Args:
        d: the discovery.
        path: where to save the PNG, or None.
    """
    n = max(1, len(d.attempts))
    fig = Figure(figsize=(max(4.8 * n + 0.6, 7.0), 4.4), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, b in zip(axes, d.attempts or [None], strict=True):
        ax.set_xlabel("coverage (share of all wins in the box)")
        ax.set_ylabel("density (share of the box that wins)")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.05)
        ax.axhline(d.threshold, color="grey", ls="--", lw=0.8)
        ax.text(0.01, d.threshold + 0.01, f"threshold {d.threshold:g}", color="grey", fontsize=8)
        if b is None:
            ax.set_title("no box (no wins)", fontsize=10)
            continue
        t = b.trajectory
        top = max(1, int(t["res_dim"].max()))
        sc = ax.scatter(
            t["coverage"],
            t["density"],
            c=t["res_dim"],
            cmap=plt_cmap("viridis", top + 1),
            vmin=-0.5,
            vmax=top + 0.5,
            s=18,
        )
        c = t.loc[b.chosen]
        ax.scatter(
            [c["coverage"]],
            [c["density"]],
            marker="*",
            s=220,
            facecolor="none" if not b.accepted else "#d62728",
            edgecolor="#d62728",
            zorder=3,
        )
        what = "chosen" if b.accepted else "densest (below threshold)"
        ax.annotate(
            f"box {b.id} ({what})\nmass {c['mass']:.2f}",
            (c["coverage"], c["density"]),
            textcoords="offset points",
            xytext=(-10, -28),
            ha="right",
            fontsize=8,
        )
        ax.set_title(f"box {b.id}: peeling trajectory", fontsize=10)
        bar = fig.colorbar(sc, ax=ax, label="restricted parameters", shrink=0.8)
        bar.set_ticks(range(top + 1))
    by = f" by more than {_fmt(d.margin)}" if d.margin else ""  # --margin
    fig.suptitle(
        f"{d.regime} beats {d.reference} on {d.metric}{by} at {d.base_rate:.0%} of "
        f"{d.n_points} design points",
        fontsize=10.5,
    )
    return save_figure(fig, path)


def plot_boxes(d: Discovery, path: str | Path | None = None) -> Figure:
    """Each accepted box's limits against the parameters' full ranges (scaled to 0–1).

    Args:
        d: the discovery.
        path: where to save the PNG, or None.
    """
    keys = [k for k in d.params if k in d.ranges]
    n = max(1, len(d.boxes))
    fig = Figure(figsize=(4.4 * n + 2.4, 0.55 * max(len(keys), 2) + 1.6), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False, sharey=True)[0]
    for i, ax in enumerate(axes):
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.7, len(keys) - 0.3)
        ax.set_yticks(range(len(keys)), keys if i == 0 else [""] * len(keys))
        ax.invert_yaxis()
        ax.set_xlabel("position in the full range")
        b = d.boxes[i] if d.boxes else None
        for j, key in enumerate(keys):
            lo0, hi0 = d.ranges[key]
            ax.barh(j, 1.0, left=0.0, height=0.5, color="#eeeeee", edgecolor="#bbbbbb")
            if b is None or key not in b.limits:
                continue
            lo, hi = b.limits[key]
            span = (hi0 - lo0) or 1.0
            a, z = (lo - lo0) / span, (hi - lo0) / span
            ax.barh(j, z - a, left=a, height=0.5, color="#d62728", alpha=0.75)
            if key in b.lower:
                ax.text(a, j - 0.32, f"≥ {_fmt(lo)}", ha="center", fontsize=7.5)
            if key in b.upper:
                ax.text(z, j - 0.32, f"≤ {_fmt(hi)}", ha="center", fontsize=7.5)
        for j, key in enumerate(keys):
            ax.text(0.0, j + 0.42, _fmt(d.ranges[key][0]), ha="left", fontsize=6.5, color="grey")
            ax.text(1.0, j + 0.42, _fmt(d.ranges[key][1]), ha="right", fontsize=6.5, color="grey")
        if b is None:
            ax.set_title("no box reaches the threshold", fontsize=10)
        else:
            ax.set_title(
                f"box {b.id}: coverage {b.coverage:.2f}, density {b.density:.2f}, "
                f"mass {b.mass:.2f}",
                fontsize=9.5,
            )
    by = f" by more than {_fmt(d.margin)}" if d.margin else ""  # --margin
    fig.suptitle(
        f"Where {d.regime} beats {d.reference} on {d.metric}{by} (red: the box; grey: full range)",
        fontsize=11,
    )
    return save_figure(fig, path)


def write(d: Discovery, out: str | Path, extra: Mapping[str, Any] | None = None) -> list[Path]:
    """Write a discovery's files (:data:`FILES`) into ``out``.

    Args:
        d: the discovery.
        out: the directory (created if needed).
        extra: more entries for ``boxes.json`` (e.g. the source sweep).

    Returns:
        The paths written.
    """
    out = outdir.make_out(out)
    data = {**d.to_dict(), **dict(extra or {}), **io.provenance()}
    data["versions"]["ema_workbench"] = _version("ema_workbench")
    plot_trajectory(d, out / "trajectory.png")
    plot_boxes(d, out / "boxes.png")
    return [
        io.write_json(data, out / "boxes.json"),
        io.write_parquet(d.table(), out / "boxes.parquet"),
        io.write_parquet(d.points, out / "points.parquet"),
        out / "trajectory.png",
        out / "boxes.png",
    ]


def _version(dist: str) -> str | None:
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
    ema = _ema()
    with _quiet():
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
    outdir.prepare_out(p.parent)
    return p


# ----- running it -----------------------------------------------------------------------
@dataclass
class Job:
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
        plan: the prepared sweep for a spec; None for a stored sweep.
        resume: continue the sweep stored in ``runs``.
    """

    source: Path
    out: Path
    runs: Path
    settings: Settings
    regime: str
    reference: str
    higher_is_better: bool
    params: list[str]
    ranges: dict[str, tuple[Any, Any]]
    plan: SweepPlan | None = None
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
    outdir.prepare_out(out)
    if outdir.holds_files(out):
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


def prepare_job(
    source: str | Path,
    out: str | Path | None,
    options: Mapping[str, Any] | None = None,
    *,
    resume: bool = False,
    execution: bool = False,
    force: bool = False,
) -> Job:
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
        plan = prepare(spec)
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
    job = Job(
        source=src,
        out=Path(out) if out is not None else src,
        runs=runs,
        settings=settings,
        regime=regime,
        reference=reference,
        higher_is_better=higher,
        params=[f["key"] for f in factors],
        ranges=_ranges(factors),
        plan=plan,
        resume=resume,
    )
    if plan is not None and out is not None and (resume or not force):
        _check_stored_runs(job)
    return job


def _check_stored_runs(job: Job) -> None:
    """Resume rules for ``out/runs``; a spec differing only in [discover] resumes it."""
    assert job.plan is not None
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
    spec = job.plan.spec
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
            job.plan = dataclasses.replace(job.plan, spec=fixed)


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
    job: Job | None = None,
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
        job: an already checked job (from :func:`prepare_job`); None checks here.
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
        job = prepare_job(spec_or_dir, out, options, resume=resume)
    report = None
    if job.plan is not None:
        backend, workers = check_backend(backend, workers, scheduler)
        report = sweep.run_sweep(
            job.plan,
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


# ----- command line ---------------------------------------------------------------------
def add_parser(sub: Any) -> None:
    """Add the ``discover`` subcommand to the ``saca`` parser.

    Args:
        sub: the subparsers object of :func:`saca.experiments.cli.main.build_parser`.
    """
    p = sub.add_parser(
        "discover",
        help="scenario discovery: PRIM boxes of parameters where one regime beats another",
        description="Scenario discovery (PRIM, by EMA Workbench): per design point the paired "
        "difference regime - reference of a metric, averaged over replicates (common random "
        "numbers), marks the points where the regime wins; PRIM finds boxes of parameters "
        "that hold them. Give a sweep spec (run into DIR/runs, resumable; settings from its "
        "[discover] table) or a directory written by saca sweep. Writes boxes.json, "
        "boxes.parquet, points.parquet, trajectory.png and boxes.png to DIR.",
    )
    p.add_argument("spec", metavar="SPEC.toml|DIR", help="a sweep spec or a stored sweep")
    p.add_argument("--out", default=None, metavar="DIR", help="where the results go")
    g = p.add_argument_group("what to discover (override the spec's [discover] table)")
    g.add_argument(
        "--contrast",
        default=None,
        metavar="REGIME,REFERENCE",
        help="the regime whose wins are sought and its reference (default: the last and "
        "the first regime of the sweep)",
    )
    g.add_argument("--metric", default=None, help="the metric compared (default: efficacy)")
    g.add_argument(
        "--direction",
        default=None,
        metavar="higher|lower",
        help="which is better, for a metric without an agreed direction",
    )
    g.add_argument("--window", default=None, help="all (default) or a phase, e.g. emergency")
    g.add_argument(
        "--margin",
        type=float,
        default=None,
        metavar="X",
        help="a win is a mean paired difference beyond X in the good direction (default: 0)",
    )
    g.add_argument(
        "--threshold",
        type=float,
        default=None,
        metavar="X",
        help="least density of the box retained (default: 0.8)",
    )
    g.add_argument(
        "--peel-alpha",
        type=float,
        default=None,
        metavar="X",
        help="share peeled off per step (default: 0.05)",
    )
    g.add_argument(
        "--mass-min",
        type=float,
        default=None,
        metavar="X",
        help="PRIM stops below this share of the points (default: 0.05)",
    )
    g.add_argument(
        "--max-boxes", type=int, default=None, metavar="N", help="at most N boxes (default: 3)"
    )
    p.add_argument(
        "--export-ema",
        default=None,
        metavar="FILE.tar.gz",
        help="also write the sweep as EMA Workbench results (ema_workbench.load_results)",
    )
    p.add_argument("--json", action="store_true", help="print boxes.json's content on stdout")
    x = p.add_argument_group("running a spec (as saca sweep)")
    console.add_backend_options(x)
    outdir.add_force_option(p)
    x.add_argument(
        "--resume",
        action="store_true",
        help="continue the sweep in DIR/runs: stored runs are not redone",
    )
    x.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything, print the runs and a time estimate, run nothing",
    )


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "contrast": args.contrast,
        "metric": args.metric,
        "direction": args.direction,
        "window": args.window,
        "margin": args.margin,
        "threshold": args.threshold,
        "peel_alpha": args.peel_alpha,
        "mass_min": args.mass_min,
        "max_boxes": args.max_boxes,
    }


def _settings_line(job: Job) -> str:
    st = job.settings
    better = "higher" if job.higher_is_better else "lower"
    return (
        f"discovery: where {job.regime} beats {job.reference} on {st.metric} ({better} is "
        f"better, margin {st.margin:g}, window {st.window}); PRIM over "
        f"{', '.join(job.params)}: threshold {st.threshold:g}, peel_alpha {st.peel_alpha:g}, "
        f"mass_min {st.mass_min:g}, at most {st.max_boxes} box"
        f"{'es' if st.max_boxes != 1 else ''}"
    )


def command(args: argparse.Namespace) -> int:
    """Run ``saca discover``.

    Args:
        args: the parsed command line.

    Returns:
        0 on success, 1 when some runs of the sweep failed (the rest is analysed), 130
        when interrupted.
    """

    execution = any(
        v is not None for v in (args.backend, args.workers, args.scheduler, args.run_timeout)
    ) or bool(args.dry_run)
    if args.out is None and not args.dry_run:
        raise SacaInputError("--out DIR is required: where the boxes and figures go")
    if args.export_ema is not None:
        check_export_path(args.export_ema)
    # a dry run may look at a stored sweep without --resume: it runs nothing
    resume = args.resume or (args.dry_run and not Path(args.spec).is_dir())
    job = prepare_job(
        args.spec, args.out, _options(args), resume=resume, execution=execution, force=args.force
    )
    backend, workers = ("serial", 1)
    if job.plan is not None:
        backend, workers = check_backend(args.backend, args.workers, args.scheduler)
    if args.dry_run:
        assert job.plan is not None
        plan = job.plan
        pending = stored_pending(plan, job.runs if args.out is not None else None)
        est = estimate(plan, 1 if args.scheduler else workers, pending, backend)
        lines = [plan_line(plan).replace("saca sweep", "saca discover", 1)]
        if pending is not None:
            lines.append(f"{plan.n_runs - pending} runs already stored in {job.runs}")
        par = (
            f", about {console.duration(est['parallel_seconds'])} on {workers} {backend} workers"
            if workers > 1 and not args.scheduler
            else ""
        )
        lines.append(
            f"estimate: {est['seconds_per_run']:.2f} s per run ({est['method']}); "
            f"{est['pending']} runs take about {console.duration(est['serial_seconds'])} "
            f"serially{par}"
        )
        lines.append(_settings_line(job))
        console.emit("\n".join(lines))
        return 0
    check_timeout(args.run_timeout)
    spec_given = job.plan is not None
    outdir.claim(
        args.out,
        "discover",
        force=args.force,
        own=lambda p: (
            ((p / "boxes.json").is_file() or (spec_given and (p / "runs").is_dir()))
            and (args.resume or not args.force)
        ),
        what="discovery",
        log=lambda line: print(line, file=sys.stderr),
        identity={"spec": str(args.spec)},
    )
    try:
        rep = run_discover(
            args.spec,
            args.out,
            backend=backend,
            workers=None if args.scheduler else workers,
            scheduler=args.scheduler,
            resume=args.resume,
            progress=None,
            export_ema_to=args.export_ema,
            job=job,
            run_timeout=args.run_timeout,
        )
    except KeyboardInterrupt:
        assert job.plan is not None
        again = f"saca discover {args.spec} --out {args.out} --resume"
        print(sweep.interrupted("discover", again, job.runs, job.plan), file=sys.stderr)
        return 130
    d = rep.discovery
    if args.json:
        console.emit(io.dumps(d.to_dict()))
    else:
        lines = []
        if job.plan is not None and rep.sweep is not None:
            s = rep.sweep
            skipped = f", {s.stored_before} already stored" if s.stored_before else ""
            lines += [
                plan_line(job.plan).replace("saca sweep", "saca discover", 1),
                f"ran {s.ran} runs ({s.ok} ok, {s.failed} failed{skipped}) in "
                f"{console.duration(s.seconds)}; stored in {s.out}",
            ]
        else:
            meta = read_meta(job.runs)
            n_ok = int(d.points["pairs"].sum()) if len(d.points) else 0
            lines.append(
                f"saca discover: sweep {meta.get('name')} in {job.runs}: "
                f"{meta['design']['points']} points x {len(meta['regimes'])} regimes x "
                f"{meta['replicates']} replicate{'s' if meta['replicates'] != 1 else ''} "
                f"({n_ok} complete {job.regime}/"
                f"{job.reference} pairs)"
            )
            if not meta.get("complete"):
                print(
                    f"saca discover: warning: the sweep in {job.runs} is incomplete; the "
                    "runs stored so far are analysed",
                    file=sys.stderr,
                )
        lines += [_settings_line(job), "", d.summary(), ""]
        lines.append(f"wrote {', '.join(p.name for p in rep.files)} to {rep.out}")
        if rep.export is not None:
            lines.append(f"wrote {rep.export} (EMA Workbench: ema_workbench.load_results)")
        console.emit("\n".join(lines))
    if rep.sweep is not None and rep.sweep.failed_total:
        print(
            f"saca discover: warning: {rep.sweep.failed_total} runs failed and were left out "
            f"(see saca results {job.runs}); redo them with: saca sweep --rerun-failed "
            f"{job.runs}",
            file=sys.stderr,
        )
        return 1
    return 0


__all__ = [
    "HIGHER_IS_BETTER",
    "KEYS",
    "Box",
    "DiscoverReport",
    "Discovery",
    "Job",
    "Settings",
    "add_parser",
    "command",
    "discover",
    "ema_tables",
    "export_ema",
    "metric_direction",
    "paired_points",
    "plot_boxes",
    "plot_trajectory",
    "prepare_job",
    "read_settings",
    "run_discover",
    "write",
]
