"""Experimental designs of a sweep: full factorial, Latin hypercube, Sobol (Saltelli), Morris.

A design is a table of *design points*, one row per point and one column per varied
parameter (dotted key). Every point runs under every regime of the sweep and for every
replicate (:mod:`saca.experiments.engine.sweep`).

- ``factorial``: every combination of the levels (``itertools.product`` in the order the
  parameters are listed, the last one varying fastest). A range with ``levels = N``
  gives ``N`` evenly spaced levels from ``min`` to ``max``.
- ``lhs``: ``scipy.stats.qmc.LatinHypercube`` with ``samples`` points over the ranges.
- ``sobol``: Saltelli's extension of the Sobol' sequence (``SALib.sample.sobol.sample``),
  ``samples`` base points, ``samples * (D + 2)`` rows (``samples * (2D + 2)`` with second
  order), in SALib's row order so ``SALib.analyze.sobol.analyze`` can read the outputs.
- ``morris``: Morris' elementary-effects trajectories (``SALib.sample.morris.sample``,
  plain random trajectories), ``samples`` trajectories of ``D + 1`` rows each, on a grid
  of ``levels`` (even) evenly spaced values per range, in SALib's row order so
  ``SALib.analyze.morris.analyze`` can read the outputs. Each step of a trajectory moves one
  parameter by ``levels / (2 (levels - 1))`` of its range.

Whole-number (``int``) parameters sampled from a range take each whole number from ``min``
to ``max`` with equal probability (``min + floor(u * (max - min + 1))``); on a Morris grid
they take the rounded grid values (:func:`even_levels`), which must be distinct. The
samplers are seeded from the sweep's root seed only, so a spec always gives the same
design.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from saca.model import SacaInputError

DESIGNS = ("factorial", "lhs", "sobol", "morris")
MORRIS_LEVELS = 4
"""Default number of grid levels of a Morris design (SALib's default)."""
DESIGN_KEY = 0x5ACA
"""Spawn key of the design sampler's seed: ``SeedSequence(root, spawn_key=(DESIGN_KEY,))``.
Run seeds have spawn keys of length two or three, so they never coincide with it."""


@dataclass(frozen=True)
class Factor:
    """One varied parameter of a design.

    Args:
        key: dotted key, e.g. ``situation.risk``.
        kind: ``float``, ``int``, ``bool`` or ``choice`` (as in ``saca list``).
        levels: the factorial levels, already validated; None for a range.
        lo: lower end of a range (inclusive), validated; None for levels.
        hi: upper end of a range (inclusive), validated; None for levels.
    """

    key: str
    kind: str
    levels: tuple[Any, ...] | None = None
    lo: float | None = None
    hi: float | None = None

    @property
    def is_range(self) -> bool:
        """True for a range sampled by lhs / sobol, False for a list of levels."""
        return self.levels is None

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description (for ``meta.json``)."""
        if self.levels is not None:
            return {"key": self.key, "kind": self.kind, "levels": list(self.levels)}
        return {"key": self.key, "kind": self.kind, "min": self.lo, "max": self.hi}


@dataclass(frozen=True)
class Design:
    """The design points of a sweep.

    Args:
        kind: ``factorial``, ``lhs``, ``sobol`` or ``morris``.
        factors: the varied parameters, in spec order.
        points: one row per design point (index ``point`` from 0), one column per factor.
        problem: for sobol and morris, the SALib problem (``num_vars``, ``names``,
            ``bounds``); else None.
        levels: for morris, the number of grid levels; else None.
    """

    kind: str
    factors: tuple[Factor, ...]
    points: pd.DataFrame
    problem: dict[str, Any] | None = None
    levels: int | None = None

    def __len__(self) -> int:
        return len(self.points)

    def values(self, point: int) -> dict[str, Any]:
        """The parameter values of one design point as plain Python scalars.

        Args:
            point: the design point's index.
        """
        row = self.points.iloc[point]
        return {f.key: _plain(row[f.key], f.kind) for f in self.factors}


def _plain(value: Any, kind: str) -> Any:
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return bool(value)
    return str(value)


def design_rng(seed: int) -> np.random.Generator:
    """The generator of a design's sampler, derived from the sweep's root seed.

    Args:
        seed: the sweep's root seed.
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DESIGN_KEY,)))


def even_levels(factor_key: str, kind: str, lo: float, hi: float, n: int) -> tuple[Any, ...]:
    """``n`` evenly spaced levels from ``lo`` to ``hi`` (rounded for whole numbers).

    Args:
        factor_key: the parameter's dotted key (for messages).
        kind: ``float`` or ``int``.
        lo: the first level.
        hi: the last level.
        n: how many levels, at least 2.

    Raises:
        SacaInputError: whole-number levels that would repeat after rounding.
    """
    grid = np.linspace(lo, hi, n)
    if kind != "int":
        return tuple(float(x) for x in grid)
    levels = tuple(dict.fromkeys(round(float(x)) for x in grid))
    if len(levels) < n:
        raise SacaInputError(
            f"parameters.{factor_key}: {n} levels from {lo} to {hi} round to only "
            f"{len(levels)} distinct whole numbers; use levels = {len(levels)} or a list"
        )
    return levels


def scale(unit: np.ndarray, factors: Sequence[Factor]) -> pd.DataFrame:
    """Map points of the unit hypercube onto the factors' ranges.

    Args:
        unit: array of shape ``(points, len(factors))`` with values in [0, 1].
        factors: range factors, one per column.

    Returns:
        One row per point, one column per factor (``int`` factors as whole numbers).
    """
    cols: dict[str, Any] = {}
    for j, f in enumerate(factors):
        u = np.clip(unit[:, j], 0.0, 1.0)
        assert f.lo is not None and f.hi is not None
        if f.kind == "int":
            lo, hi = int(f.lo), int(f.hi)
            cols[f.key] = np.minimum(lo + np.floor(u * (hi - lo + 1)), hi).astype(np.int64)
        else:
            cols[f.key] = np.minimum(f.lo + u * (f.hi - f.lo), f.hi)
    return _frame(pd.DataFrame(cols, index=range(len(unit))))


def _frame(points: pd.DataFrame) -> pd.DataFrame:
    points.index = pd.RangeIndex(len(points), name="point")
    return points


def factorial(factors: Sequence[Factor]) -> pd.DataFrame:
    """Every combination of the factors' levels; the last factor varies fastest.

    Args:
        factors: factors with levels; none gives a single design point with no columns.
    """
    if not factors:
        return _frame(pd.DataFrame(index=range(1)))
    rows = list(itertools.product(*(f.levels or () for f in factors)))
    points = pd.DataFrame(rows, columns=[f.key for f in factors])
    for f in factors:
        if f.kind == "bool":
            points[f.key] = points[f.key].astype(bool)
        elif f.kind == "choice":
            points[f.key] = points[f.key].astype(object)
    return _frame(points)


def lhs(factors: Sequence[Factor], samples: int, seed: int) -> pd.DataFrame:
    """A Latin hypercube sample of ``samples`` points over the factors' ranges.

    Args:
        factors: range factors.
        samples: number of design points.
        seed: the sweep's root seed (the sampler uses :func:`design_rng`).
    """
    from scipy.stats import qmc

    sampler = qmc.LatinHypercube(d=len(factors), rng=design_rng(seed))
    return scale(sampler.random(samples), factors)


def salib_problem(factors: Sequence[Factor]) -> dict[str, Any]:
    """The SALib problem definition of range factors (their real bounds).

    Args:
        factors: range factors.
    """
    return {
        "num_vars": len(factors),
        "names": [f.key for f in factors],
        "bounds": [[float(f.lo or 0.0), float(f.hi or 0.0)] for f in factors],
    }


def sobol(
    factors: Sequence[Factor], samples: int, seed: int, second_order: bool = False
) -> pd.DataFrame:
    """Saltelli's sample for Sobol indices (``SALib.sample.sobol.sample``), scaled.

    The unit sample is drawn by SALib and mapped by :func:`scale`, so whole-number
    parameters are handled like in :func:`lhs`; the row order is SALib's.

    Args:
        factors: range factors (at least one).
        samples: SALib's ``N``, a power of two.
        seed: the sweep's root seed (the sampler uses :func:`design_rng`).
        second_order: also allow second-order indices (``N * (2D + 2)`` rows).
    """
    from SALib.sample import sobol as salib_sobol

    unit_problem = {
        "num_vars": len(factors),
        "names": [f.key for f in factors],
        "bounds": [[0.0, 1.0]] * len(factors),
    }
    unit = salib_sobol.sample(
        unit_problem, samples, calc_second_order=second_order, seed=design_rng(seed)
    )
    return scale(unit, factors)


def morris(
    factors: Sequence[Factor], trajectories: int, seed: int, levels: int = MORRIS_LEVELS
) -> pd.DataFrame:
    """Morris trajectories (``SALib.sample.morris.sample``) on the factors' level grids.

    SALib draws the trajectories on the unit grid ``{0, 1/(levels-1), ..., 1}``; grid value
    ``k`` of a factor becomes its ``k``-th of :func:`even_levels` (so whole-number factors
    keep one parameter change per step). The row order is SALib's: trajectory by
    trajectory, ``len(factors) + 1`` rows each.

    Args:
        factors: range factors (at least one).
        trajectories: SALib's ``N``, the number of trajectories.
        seed: the sweep's root seed (the sampler uses :func:`design_rng`).
        levels: grid levels per factor, even and at least 2.

    Raises:
        SacaInputError: whole-number levels that would repeat after rounding.
    """
    from SALib.sample import morris as salib_morris

    unit_problem = {
        "num_vars": len(factors),
        "names": [f.key for f in factors],
        "bounds": [[0.0, 1.0]] * len(factors),
    }
    unit = salib_morris.sample(unit_problem, trajectories, num_levels=levels, seed=design_rng(seed))
    # SALib's grid values are k / (levels - 1) up to rounding: recover k exactly.
    index = np.rint(unit * (levels - 1)).astype(np.int64)
    cols: dict[str, Any] = {}
    for j, f in enumerate(factors):
        assert f.lo is not None and f.hi is not None
        grid = np.asarray(even_levels(f.key, f.kind, f.lo, f.hi, levels))
        cols[f.key] = grid[index[:, j]]
    return _frame(pd.DataFrame(cols, index=range(len(unit))))


def morris_rows(trajectories: int, dims: int) -> int:
    """Rows of a Morris sample: ``trajectories * (D + 1)``.

    Args:
        trajectories: SALib's ``N``.
        dims: number of parameters ``D``.
    """
    return trajectories * (dims + 1)


def build(
    kind: str,
    factors: Sequence[Factor],
    samples: int | None = None,
    seed: int = 0,
    second_order: bool = False,
    levels: int = MORRIS_LEVELS,
) -> Design:
    """Build a design from validated factors.

    Args:
        kind: ``factorial``, ``lhs``, ``sobol`` or ``morris``.
        factors: the varied parameters (levels for factorial, ranges otherwise).
        samples: design points (lhs), base samples (sobol) or trajectories (morris);
            unused for factorial.
        seed: the sweep's root seed.
        second_order: sobol only: sample for second-order indices too.
        levels: morris only: grid levels per parameter (even, at least 2).

    Raises:
        SacaInputError: an unknown design, a missing sample size, or factors of the wrong
            form for the design.
    """
    factors = tuple(factors)
    if kind == "factorial":
        if any(f.is_range for f in factors):
            raise SacaInputError("a factorial design needs levels for every parameter")
        return Design(kind, factors, factorial(factors))
    if kind not in DESIGNS:
        raise SacaInputError(f"unknown design {kind!r}; choose one of {', '.join(DESIGNS)}")
    if not factors or any(not f.is_range for f in factors):
        raise SacaInputError(f"a {kind} design needs ranges {{ min, max }} for its parameters")
    if samples is None or samples < 1:
        raise SacaInputError(f"a {kind} design needs samples >= 1")
    if kind == "lhs":
        return Design(kind, factors, lhs(factors, samples, seed))
    if kind == "morris":
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2 or levels % 2:
            raise SacaInputError(f"morris levels must be an even whole number >= 2, got {levels}")
        points = morris(factors, samples, seed, levels)
        return Design(kind, factors, points, salib_problem(factors), levels)
    if samples & (samples - 1):
        raise SacaInputError(f"sobol samples must be a power of two, got {samples}")
    points = sobol(factors, samples, seed, second_order)
    return Design(kind, factors, points, salib_problem(factors))


def sobol_rows(samples: int, dims: int, second_order: bool) -> int:
    """Rows of a Saltelli sample: ``N * (D + 2)``, or ``N * (2D + 2)`` with second order.

    Args:
        samples: SALib's ``N``.
        dims: number of parameters ``D``.
        second_order: whether second-order indices are sampled for.
    """
    return samples * ((2 * dims if second_order else dims) + 2)


def is_power_of_two(n: int) -> bool:
    """True if ``n`` is a positive power of two.

    Args:
        n: the number.
    """
    return n > 0 and math.log2(n).is_integer()
