"""``saca sensitivity``: global sensitivity analysis (Sobol or Morris) on the sweep engine.

Which of the varied parameters (e.g. the six regime dials) move an outcome, alone or
through interactions? ``saca sensitivity SPEC.toml --method sobol|morris --out DIR`` runs
the design of a sweep spec with :func:`saca.experiments.engine.sweep.run_sweep` (so it is resumable,
failure isolating and gives the same numbers on every backend) and analyses it with SALib.

**Spec.** An ordinary sweep spec (``[sweep]``, ``[parameters]`` as ranges ``{ min, max }``,
``[fixed]``) plus an optional ``[sensitivity]`` table::

    [sensitivity]
    outputs = ["efficacy", "trust_institution", "burnout_mean"]   # metric names
    window = "all"        # the whole run, or a phase (e.g. "emergency")
    resamples = 1000      # bootstrap resamples of the confidence intervals
    tolerance = 0.1       # convergence tolerance (below)

``--method`` sets ``[sweep] design``: the spec may leave ``design`` out (it is then set to
the method, and the copy of the spec in ``DIR/runs`` says so), or give the same one;
a different design is an error. Without ``--method`` the spec's design must be ``sobol``
or ``morris``. ``[sweep] samples`` is Sobol's base sample ``N`` (a power of two; the
design has ``N (D + 2)`` points) or the number of Morris trajectories ``r`` (``r (D + 1)``
points on a grid of ``[sweep] levels`` levels, default 4).

**Averaging.** The model is stochastic: each output is averaged over the successful
replicates of each (design point, regime), and the indices describe that average. The
replicate noise left in it is reported as ``noise_share``: the mean variance of a point's
average (replicate variance / replicates) over the variance of the averages across the
design. Noise adds about ``noise_share`` to every Sobol ST, blurs S1 and adds to every
Morris mu*; more replicates shrink it.

**Indices**, per regime and output: Sobol first-order ``S1`` and total-order ``ST``
(``SALib.analyze.sobol.analyze``), Morris ``mu``, ``mu_star``, ``sigma``
(``SALib.analyze.morris.analyze``; elementary effects are changes of the output per
whole range of the parameter), each ``*_conf`` the half-width of a 95% bootstrap interval
with ``resamples`` resamples. The bootstrap is seeded from the spec's root seed:
``SeedSequence(seed, spawn_key=(ANALYSIS_KEY, regime, output, part))`` (part 0: the whole
sample, 1 and 2 its halves), a key length no run or design seed has.

**Convergence rule** (per regime and output; ``tol`` = ``tolerance``):

- Sobol: ``w`` = the widest 95% CI half-width of ST over the parameters; ``d`` = the
  largest difference of ST between the first and the second half of the base samples.
  Converged when ``w <= tol`` and ``d <= 2 tol`` (each half has sqrt(2) times the standard
  error of the whole, so the halves' difference has twice it: ``2 tol`` matches ``w =
  tol``). Otherwise the recommended ``N`` is the smallest power of two at least
  ``N max(w / tol, d / (2 tol))^2`` (errors shrink like ``1 / sqrt(N)``) and at least 2N.
- Morris: the same with mu* relative to the largest mu* of that output: ``w`` = the
  widest mu*_conf / max mu*, ``d`` = the largest difference of mu* between the first and
  the second half of the trajectories / max mu*. Converged when ``w <= tol`` and ``d <= 2
  tol``; otherwise the recommended number of trajectories is ``r max(w / tol, d / (2
  tol))^2`` rounded up to an even number, and at least 2r. The Spearman correlation of the
  halves' mu* rankings is reported beside it (``rank_correlation``).
- Fewer than 4 base samples or trajectories cannot be split into halves: not converged.
  An output that does not vary over the design has no indices to judge.

When any output is not converged the command prints a warning on stderr with the
recommended ``samples`` (the largest over regimes and outputs) and records it in
``indices.json``.

**Files** in ``DIR``: ``runs/`` (the sweep: ``saca results DIR/runs`` reads it, ``--resume``
continues it), ``indices.parquet`` (long form: regime, output, parameter, method, rank and
the index columns), ``indices.json`` (the same, the convergence verdicts, the spec hash,
the seed), ``sensitivity_<output>.png`` (one panel per regime).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import textwrap
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from saca.experiments import console
from saca.experiments.engine import design as dsg
from saca.experiments.engine import io, outdir, sweep
from saca.experiments.engine.backends import add_backend_options, check_backend
from saca.experiments.engine.estimate import estimate, pending_runs, stored_pending
from saca.experiments.engine.plan import SweepPlan
from saca.experiments.engine.plan import prepare as prepare_sweep
from saca.experiments.engine.results import load_results
from saca.experiments.engine.spec import SweepSpec, parse_spec
from saca.experiments.plots import figures as plots
from saca.model import SacaInputError
from saca.model.metrics import METRICS
from saca.model.parameters import did_you_mean, read_toml

METHODS = ("sobol", "morris")
SENSITIVITY_KEYS = ("outputs", "window", "resamples", "tolerance")
DEFAULT_OUTPUTS = ("efficacy", "trust_institution", "trust_resident_sunk", "burnout_mean")
RESAMPLES = 1000
TOLERANCE = 0.1
CONF_LEVEL = 0.95
NOISE_WARN = 0.2
"""A ``noise_share`` above this gets its own warning (replicate noise, not sample size)."""
ANALYSIS_KEY = 0x5E45
"""First element of the bootstrap seeds' spawn keys (length 4; runs use 2 or 3, designs 1)."""
RUNS = "runs"
INDEX_COLUMNS = {
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("mu", "mu_star", "mu_star_conf", "sigma"),
}
MAIN_INDEX = {"sobol": "ST", "morris": "mu_star"}


# ----- settings -------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
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
class Setup:
    """A sensitivity spec resolved and validated, ready to run.

    Args:
        plan: the sweep plan (design, regimes, runs).
        settings: the analysis settings.
    """

    plan: SweepPlan
    settings: Settings

    @property
    def spec(self) -> SweepSpec:
        """The sweep spec."""
        return self.plan.spec


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


def parse_settings(table: Mapping[str, Any], method: str, label: str = "spec") -> Settings:
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
    return Settings(method, tuple(outputs), window, resamples, float(tol))


def prepare(path: str | Path, method: str | None = None) -> Setup:
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
    plan = prepare_sweep(spec)
    known = plan.windows
    if settings.window not in known:
        raise SacaInputError(
            f"{label}: [sensitivity] window {settings.window!r} is not a window of these "
            f"{plan.steps}-day runs; {did_you_mean(settings.window, known)}"
            f"choose one of {', '.join(known)}"
        )
    return Setup(plan, settings)


# ----- averaging ------------------------------------------------------------------------
def average(results: pd.DataFrame, outputs: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Average the outputs over the successful replicates of each (regime, design point).

    Args:
        results: one row per run, as from :func:`saca.experiments.engine.results.load_results`
            (``regime``, ``point``, ``status`` and the outputs).
        outputs: the metric names.

    Returns:
        ``(means, noise)``: one row per (regime, point) with the outputs' means (NaN where
        a point has no successful run or the metric is undefined in all of them) and
        ``replicates`` (successful runs); and one row per (regime, output) with
        ``noise_share`` (module docstring; NaN without two replicates).
    """
    ok = results[results["status"] == "ok"] if "status" in results else results
    cols = list(outputs)
    grouped = ok.groupby(["regime", "point"], sort=False)[cols]
    means = grouped.mean().reset_index()
    counts = ok.groupby(["regime", "point"], sort=False).size().rename("replicates")
    means = means.merge(counts.reset_index(), on=["regime", "point"], how="left")
    var = grouped.var(ddof=1)
    n = grouped.count()
    rows = []
    for regime in means["regime"].unique():
        m = means[means["regime"] == regime]
        for out in cols:
            v = (var.loc[regime, out] / n.loc[regime, out]).to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            avg = m[out].to_numpy(dtype=float)
            avg = avg[np.isfinite(avg)]
            total = float(np.var(avg, ddof=1)) if len(avg) > 1 else 0.0
            share = float(v.mean() / total) if len(v) and total > 0 else math.nan
            rows.append({"regime": regime, "output": out, "noise_share": share})
    return means, pd.DataFrame(rows, columns=["regime", "output", "noise_share"])


# ----- analysis -------------------------------------------------------------------------
@dataclass
class Analysis:
    """Sensitivity indices and their convergence verdicts.

    Args:
        method: ``sobol`` or ``morris``.
        samples: base samples ``N`` (sobol) or trajectories ``r`` (morris).
        indices: long form, one row per (regime, output, parameter): ``method``, ``rank``
            (1 = most influential by ST or mu*) and the index columns.
        convergence: one row per (regime, output): ``converged`` (None when not judged),
            ``ci_width`` (w), ``halves_diff`` (d), ``rank_correlation``,
            ``recommended_samples``, ``noise_share`` and ``note``.
        tolerance: the convergence tolerance.
        second_order: sobol with second order: ``S2`` per parameter pair.
        problems: why indices could not be computed for a regime and output.
    """

    method: str
    samples: int
    indices: pd.DataFrame
    convergence: pd.DataFrame
    tolerance: float
    second_order: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        """True when no judged output is unconverged."""
        return not (self.convergence["converged"] == False).any()  # noqa: E712

    @property
    def recommended_samples(self) -> int | None:
        """The largest recommendation over regimes and outputs, or None when converged."""
        rec = self.convergence["recommended_samples"].dropna()
        return int(rec.max()) if len(rec) else None

    def warnings(self) -> list[str]:
        """The convergence and noise warnings, one line each."""
        out: list[str] = []
        conv = self.convergence
        bad = conv[conv["converged"] == False]  # noqa: E712
        if len(bad):
            worst = bad.sort_values("ci_width", ascending=False, na_position="first").iloc[0]
            what = "base samples N" if self.method == "sobol" else "trajectories"
            if self.method == "sobol":
                how = (
                    f"widest 95% CI of ST ±{_f(worst.ci_width)}, halves differ by "
                    f"{_f(worst.halves_diff)}"
                )
            else:
                how = (
                    f"widest 95% CI of mu* ±{_pct(worst.ci_width)} of the largest mu*, halves "
                    f"differ by {_pct(worst.halves_diff)} of it"
                )
            lines = ", ".join(f"{r.output}/{r.regime}" for r in bad.itertuples(index=False))
            out.append(
                f"the {self.method} indices have not converged for {len(bad)} of {len(conv)} "
                f"outputs ({lines}); e.g. {worst.output} under {worst.regime}: {how} "
                f"(tolerance {self.tolerance:g}); use samples = {self.recommended_samples} "
                f"({what}) in [sweep] (now {self.samples})"
            )
        noisy = conv[conv["noise_share"] > NOISE_WARN]
        for r in noisy.itertuples(index=False):
            out.append(
                f"replicate noise is {r.noise_share:.0%} of the variance of the averaged "
                f"{r.output} under {r.regime}: it inflates every "
                f"{'ST' if self.method == 'sobol' else 'mu*'}; raise replicates in [sweep]"
            )
        return out


def _f(x: Any) -> str:
    return "n/a" if x is None or x != x else f"{float(x):.3g}"


def _pct(x: Any) -> str:
    return "n/a" if x is None or x != x else f"{float(x):.0%}"


def bootstrap_rng(seed: int, regime: int, output: int, part: int) -> np.random.Generator:
    """The generator of one bootstrap, derived from the spec's root seed.

    Args:
        seed: the root seed.
        regime: the regime's position.
        output: the output's position.
        part: 0 for the whole sample, 1 and 2 for its halves.
    """
    key = (ANALYSIS_KEY, regime, output, part)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def _salib(
    method: str,
    design: dsg.Design,
    x: np.ndarray,
    y: np.ndarray,
    second_order: bool,
    resamples: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    from SALib.analyze import morris as salib_morris
    from SALib.analyze import sobol as salib_sobol

    assert design.problem is not None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if method == "sobol":
            return dict(
                salib_sobol.analyze(
                    design.problem,
                    y,
                    calc_second_order=second_order,
                    num_resamples=resamples,
                    conf_level=CONF_LEVEL,
                    seed=rng,
                )
            )
        return dict(
            salib_morris.analyze(
                design.problem,
                x,
                y,
                num_resamples=resamples,
                conf_level=CONF_LEVEL,
                num_levels=design.levels or dsg.MORRIS_LEVELS,
                seed=rng,
            )
        )


def _block(design: dsg.Design, second_order: bool) -> int:
    """Rows per base sample (sobol) or per trajectory (morris)."""
    dims = len(design.factors)
    if design.kind == "morris":
        return dims + 1
    return 2 * dims + 2 if second_order else dims + 2


def samples_of(design: dsg.Design, second_order: bool = False) -> int:
    """The base samples (sobol) or trajectories (morris) of a design.

    Args:
        design: a sobol or morris design.
        second_order: whether a sobol design was sampled for second-order indices.
    """
    return len(design) // _block(design, second_order)


def _verdict(
    method: str,
    main: np.ndarray,
    conf: np.ndarray,
    halves: tuple[np.ndarray, np.ndarray] | None,
    samples: int,
    tol: float,
) -> dict[str, Any]:
    """The convergence verdict of one (regime, output) (module docstring)."""
    scale = 1.0 if method == "sobol" else float(np.nanmax(np.abs(main))) if len(main) else 0.0
    res: dict[str, Any] = {
        "converged": None,
        "ci_width": math.nan,
        "halves_diff": math.nan,
        "rank_correlation": math.nan,
        "recommended_samples": None,
        "note": "",
    }
    if method == "morris" and not scale > 0:
        res["note"] = "no elementary effect: the output does not change along any trajectory"
        return res
    w = float(np.max(conf)) / scale if np.isfinite(conf).all() else math.inf
    res["ci_width"] = w
    if halves is None:
        d = math.inf
        res["note"] = "fewer than 4 samples: the halves cannot be compared"
    else:
        a, b = halves
        diff = np.abs(a - b)
        d = float(np.max(diff)) / scale if np.isfinite(diff).all() else math.inf
        res["halves_diff"] = d
        if method == "morris" and len(a) >= 3:
            from scipy.stats import spearmanr

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rho = spearmanr(a, b).statistic
            res["rank_correlation"] = float(rho)
    ratio = max(w / tol, d / (2 * tol))
    converged = ratio <= 1.0
    res["converged"] = converged
    if not converged:
        want = samples * ratio**2 if math.isfinite(ratio) else 4 * samples
        want = max(want, 2 * samples, 4)
        if method == "sobol":
            rec = 2 ** math.ceil(math.log2(want))
        else:
            rec = math.ceil(want)
            rec += rec % 2
        res["recommended_samples"] = int(rec)
    return res


def analyse(
    design: dsg.Design,
    values: pd.DataFrame,
    outputs: Sequence[str] | None = None,
    *,
    regimes: Sequence[str] | None = None,
    second_order: bool = False,
    resamples: int = RESAMPLES,
    seed: int = 0,
    tolerance: float = TOLERANCE,
    noise: pd.DataFrame | None = None,
) -> Analysis:
    """Sobol or Morris indices of outputs over a design, with convergence verdicts.

    Pure: needs no model. The method is the design's kind.

    Args:
        design: a ``sobol`` or ``morris`` design (:func:`saca.experiments.engine.design.build`); its
            points are in SALib's row order.
        values: one row per design point (``point`` column, or the row order) and per
            regime (``regime`` column; absent means one regime named ``-``), one column per
            output.
        outputs: the columns to analyse; None for every column but ``regime``, ``point``
            and ``replicates``.
        regimes: the regimes in order (their position seeds the bootstrap); a regime
            without values has every point missing. None: those in ``values``.
        second_order: a sobol design sampled for second-order indices.
        resamples: bootstrap resamples of the confidence intervals.
        seed: root seed of the bootstraps (:func:`bootstrap_rng`).
        tolerance: convergence tolerance (module docstring).
        noise: ``regime``, ``output``, ``noise_share`` (from :func:`average`), or None.

    Returns:
        An :class:`Analysis`. A regime and output with a design point without a value get
        no indices; :attr:`Analysis.problems` says which and why.

    Raises:
        ValueError: a design of another kind, or values with a point the design lacks.
    """
    method = design.kind
    if method not in METHODS:
        raise ValueError(f"sensitivity needs a sobol or morris design, got {method}")
    vals = values.copy()
    if "regime" not in vals:
        vals.insert(0, "regime", "-")
    if "point" not in vals:
        vals["point"] = vals.groupby("regime").cumcount()
    if outputs is None:
        outputs = [c for c in vals.columns if c not in ("regime", "point", "replicates")]
    n_points = len(design)
    if ((vals["point"] < 0) | (vals["point"] >= n_points)).any():
        raise ValueError(f"values name design points outside 0..{n_points - 1}")
    names = [f.key for f in design.factors]
    x = design.points[names].to_numpy(dtype=float)
    block = _block(design, second_order)
    samples = n_points // block
    half = samples // 2 * block
    noise_of = {}
    if noise is not None:
        noise_of = {(r.regime, r.output): r.noise_share for r in noise.itertuples(index=False)}
    rows: list[dict[str, Any]] = []
    conv: list[dict[str, Any]] = []
    s2: list[dict[str, Any]] = []
    problems: list[str] = []
    if regimes is None:
        regimes = list(pd.unique(vals["regime"]))
    for ri, regime in enumerate(regimes):
        sub = vals[vals["regime"] == regime].set_index("point")
        for oi, out in enumerate(outputs):
            y = sub[out].reindex(range(n_points)).to_numpy(dtype=float)
            base = {"regime": regime, "output": out}
            missing = np.flatnonzero(~np.isfinite(y))
            if len(missing):
                first = ", ".join(str(i) for i in missing[:5])
                more = ", ..." if len(missing) > 5 else ""
                problems.append(
                    f"{out} under regime {regime}: {len(missing)} of {n_points} design points "
                    f"have no value (points {first}{more})"
                )
                continue
            if np.ptp(y) == 0:
                problems.append(
                    f"{out} under regime {regime} does not vary over the design: "
                    "no variance to attribute"
                )
                continue
            full = _salib(
                method, design, x, y, second_order, resamples, bootstrap_rng(seed, ri, oi, 0)
            )
            halves = None
            if samples >= 4:
                parts = [
                    _salib(
                        method,
                        design,
                        xs,
                        ys,
                        second_order,
                        resamples,
                        bootstrap_rng(seed, ri, oi, k),
                    )
                    for k, (xs, ys) in enumerate(
                        [(x[:half], y[:half]), (x[half:], y[half:])], start=1
                    )
                ]
                key = MAIN_INDEX[method]
                halves = (np.asarray(parts[0][key]), np.asarray(parts[1][key]))
            main = np.asarray(full[MAIN_INDEX[method]], dtype=float)
            conf_key = "ST_conf" if method == "sobol" else "mu_star_conf"
            conf = np.asarray(full[conf_key], dtype=float)
            verdict = _verdict(method, main, conf, halves, samples, tolerance)
            conv.append({**base, **verdict, "noise_share": noise_of.get((regime, out), math.nan)})
            order = np.argsort(-np.nan_to_num(main, nan=-np.inf), kind="stable")
            rank = np.empty(len(main), dtype=int)
            rank[order] = np.arange(1, len(main) + 1)
            for j, name in enumerate(names):
                row = {**base, "parameter": name, "method": method, "rank": int(rank[j])}
                for col in INDEX_COLUMNS[method]:
                    row[col] = float(np.asarray(full[col], dtype=float)[j])
                rows.append(row)
            if method == "sobol" and second_order:
                for j in range(len(names)):
                    for k in range(j + 1, len(names)):
                        s2.append(
                            {
                                **base,
                                "parameters": [names[j], names[k]],
                                "S2": float(full["S2"][j, k]),
                                "S2_conf": float(full["S2_conf"][j, k]),
                            }
                        )
    index_cols = ["regime", "output", "parameter", "method", "rank", *INDEX_COLUMNS[method]]
    conv_cols = [
        "regime",
        "output",
        "converged",
        "ci_width",
        "halves_diff",
        "rank_correlation",
        "recommended_samples",
        "noise_share",
        "note",
    ]
    return Analysis(
        method=method,
        samples=samples,
        indices=pd.DataFrame(rows, columns=index_cols),
        convergence=pd.DataFrame(conv, columns=conv_cols).astype(
            {"converged": object, "recommended_samples": object}
        ),
        tolerance=tolerance,
        second_order=s2,
        problems=problems,
    )


# ----- running --------------------------------------------------------------------------
@dataclass
class SensitivityResult:
    """What :func:`run_sensitivity` did and found.

    Args:
        out: the results directory.
        setup: the resolved spec and settings.
        analysis: the indices and convergence verdicts.
        report: the sweep session's report (runs done, failed, time).
        files: the files written (``indices.parquet``, ``indices.json``, figures).
    """

    out: Path
    setup: Setup
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
    path = outdir.prepare_out(out)
    if (path / RUNS / "meta.json").is_file():
        if not resume:
            raise SacaInputError(
                f"--out {out} already holds a sensitivity analysis; add --resume to continue "
                "it (stored runs are not redone), or give another directory"
            )
    elif outdir.holds_files(path) and not sweep.unborn(path, RUNS):
        raise SacaInputError(
            f"--out {out} is not empty and holds no sensitivity analysis; give a new or empty "
            "directory, or add --force to move its contents aside"
        )
    return path


def analyse_runs(setup: Setup, runs: str | Path) -> Analysis:
    """The analysis of the runs stored so far in a sweep directory.

    Args:
        setup: the resolved spec and settings.
        runs: the sweep directory (``DIR/runs``).
    """
    st, spec = setup.settings, setup.spec
    results = load_results(runs, window=st.window)
    means, noise = average(results, st.outputs)
    return analyse(
        setup.plan.design,
        means,
        st.outputs,
        regimes=list(setup.plan.regimes),
        second_order=spec.second_order,
        resamples=st.resamples,
        seed=spec.seed,
        tolerance=st.tolerance,
        noise=noise,
    )


def run_sensitivity(
    spec: Setup | str | Path,
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
        spec: a :class:`Setup` or the path of a spec file.
        out: the results directory.
        method: ``sobol`` or ``morris`` (for a path); None takes the spec's design.
        backend: ``serial``, ``process`` or ``dask``
        (:func:`saca.experiments.engine.backends.check_backend`). workers: worker processes for
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
    setup = spec if isinstance(spec, Setup) else prepare(spec, method)
    backend, n_workers = check_backend(backend, workers, scheduler)
    path = check_out(out, resume or rerun_failed)
    runs = path / RUNS
    plan = setup.plan
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
    analysis = analyse_runs(setup, runs)
    files = write(path, setup, analysis, report)
    return SensitivityResult(path, setup, analysis, report, files)


# ----- files ----------------------------------------------------------------------------
RULE = (
    "sobol: w = widest 95% CI half-width of ST, d = largest |ST(first half of the base "
    "samples) - ST(second half)|; morris: the same for mu* divided by the largest mu*. "
    "Converged when w <= tolerance and d <= 2 tolerance; else recommended samples = "
    "samples * max(w / tol, d / (2 tol))^2, at least twice the samples (sobol: rounded up "
    "to a power of two; morris: to an even number)."
)


def _json(setup: Setup, analysis: Analysis, report: sweep.SweepReport) -> dict[str, Any]:
    spec, plan, st = setup.spec, setup.plan, setup.settings
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


def write(out: Path, setup: Setup, analysis: Analysis, report: sweep.SweepReport) -> list[Path]:
    """Write ``indices.parquet``, ``indices.json`` and one figure per output.

    Args:
        out: the results directory.
        setup: the resolved spec and settings.
        analysis: the indices.
        report: the sweep session's report.

    Returns:
        The paths written.
    """
    files = [
        io.write_parquet(analysis.indices, out / "indices.parquet"),
        io.write_json(_json(setup, analysis, report), out / "indices.json"),
    ]
    spec = setup.spec
    for output in setup.settings.outputs:
        if not (analysis.indices["output"] == output).any():
            continue
        what = (
            f"Sobol indices, N = {analysis.samples}"
            if analysis.method == "sobol"
            else f"Morris elementary effects, {analysis.samples} trajectories"
        )
        title = (
            f"{plots.label(output)}\n{what}; mean of {spec.replicates} replicate"
            f"{'s' if spec.replicates != 1 else ''}, window {setup.settings.window}, "
            f"{setup.plan.scenario.name} scenario, seed {spec.seed}"
        )
        path = out / f"sensitivity_{output}.png"
        plot_indices(analysis, output, path, title)
        files.append(path)
    return files


def _short_names(keys: Sequence[str]) -> tuple[list[str], str]:
    """Drop a dotted prefix every key shares (``regime.``), and say which."""
    heads = {k.split(".", 1)[0] for k in keys}
    if len(heads) == 1 and all("." in k for k in keys):
        head = next(iter(heads))
        return [k.split(".", 1)[1] for k in keys], f"{head}."
    return list(keys), ""


def plot_indices(
    analysis: Analysis, output: str, path: str | Path | None = None, title: str = ""
) -> Figure:
    """Bar chart of one output's indices, one panel per regime, with 95% CI error bars.

    Sobol: S1 and ST side by side; Morris: mu* (with its CI) and sigma side by side.
    Parameters are ordered by their mean main index (ST or mu*) over the regimes.

    Args:
        analysis: from :func:`analyse`.
        output: the metric.
        path: where to save the PNG, or None.
        title: figure title.
    """
    df = analysis.indices[analysis.indices["output"] == output]
    regs = list(pd.unique(df["regime"]))
    method = analysis.method
    key = MAIN_INDEX[method]
    order = df.groupby("parameter", sort=False)[key].mean().sort_values(ascending=False).index
    names, prefix = _short_names(list(order))
    ncols = min(3, max(1, len(regs)))
    nrows = math.ceil(len(regs) / ncols)
    width = max(6.0, 0.75 * len(order) + 1.8)
    fig = Figure(figsize=(width * ncols, 3.4 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel().tolist()
    for ax in axes[len(regs) :]:
        ax.set_visible(False)
    if method == "sobol":
        bars = (("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total order ST"))
    else:
        bars = (("mu_star", "mu_star_conf", "mu* (mean |effect|)"), ("sigma", None, "sigma"))
    conv = analysis.convergence.set_index(["regime", "output"])
    pos = np.arange(len(order))
    for ax, regime in zip(axes, regs, strict=False):
        sub = df[df["regime"] == regime].set_index("parameter").reindex(order)
        for i, (col, err, lab) in enumerate(bars):
            yerr = sub[err].to_numpy(dtype=float) if err else None
            ax.bar(
                pos + (i - 0.5) * 0.38,
                sub[col].to_numpy(dtype=float),
                width=0.38,
                yerr=yerr,
                capsize=3,
                color=plots.REGIME_COLOURS[i],
                label=lab,
            )
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xticks(pos, names, rotation=30, ha="right")
        ok = conv["converged"].get((regime, output))
        flag = "" if ok is not False else " (not converged)"
        ax.set_title(f"{regime}{flag}", fontsize=10)
        ax.set_xlabel(f"parameter ({prefix}<name>)" if prefix else "parameter")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel(
        "share of variance" if method == "sobol" else "effect over the parameter's range"
    )
    axes[0].legend(fontsize=8)
    if title:
        # about 12 characters of 10-point text per inch of figure
        chars = max(40, int(fig.get_figwidth() * 12))
        text = "\n".join(textwrap.fill(line, chars) for line in title.split("\n"))
        fig.suptitle(text, fontsize=10)
    return plots._save(fig, path)


# ----- terminal -------------------------------------------------------------------------
def _share(x: float, conf: float) -> str:
    if x != x:
        return "n/a"
    return f"{x:.3f} ± {conf:.3f}" if conf == conf else f"{x:.3f}"


def _decimals(scale: float) -> int:
    """Decimals that give the largest value of a column three significant digits."""
    if not scale > 0 or not math.isfinite(scale):
        return 3
    return max(0, 2 - math.floor(math.log10(scale)))


def _fixed(x: float, dec: int, signed: bool = False) -> str:
    if x != x:
        return "n/a"
    return f"{x:+.{dec}f}" if signed else f"{x:.{dec}f}"


def format_tables(analysis: Analysis, settings: Settings) -> str:
    """Per output, the parameters ranked by ST (sobol) or mu* (morris), one column group
    per regime, each value ``index ± half-width of its 95% CI``.

    Args:
        analysis: from :func:`analyse`.
        settings: the analysis settings (outputs in order, window).
    """

    df = analysis.indices
    method = analysis.method
    blocks = []
    for output in settings.outputs:
        sub = df[df["output"] == output]
        if sub.empty:
            continue
        regs = list(pd.unique(sub["regime"]))
        first = sub[sub["regime"] == regs[0]].sort_values("rank")
        # Morris effects are in the output's own units: one precision per output
        dec = _decimals(float(sub["mu_star"].abs().max())) if method == "morris" else 3
        head = ["parameter"]
        for r in regs:
            tag = f"{r} " if len(regs) > 1 else ""
            head += (
                [f"{tag}S1", f"{tag}ST"]
                if method == "sobol"
                else [f"{tag}mu*", f"{tag}mu", f"{tag}sigma"]
            )
        rows = []
        for param in first["parameter"]:
            row = [param]
            for r in regs:
                x = sub[(sub["regime"] == r) & (sub["parameter"] == param)].iloc[0]
                if method == "sobol":
                    row += [_share(x.S1, x.S1_conf), _share(x.ST, x.ST_conf)]
                else:
                    row += [
                        f"{_fixed(x.mu_star, dec)} ± {_fixed(x.mu_star_conf, dec)}",
                        _fixed(x.mu, dec, signed=True),
                        _fixed(x.sigma, dec),
                    ]
            rows.append(row)
        by = "ST" if method == "sobol" else "mu*"
        under = f" under {regs[0]}" if len(regs) > 1 else f" ({regs[0]})"
        blocks.append(
            f"{output}, window {settings.window}: parameters ranked by {by}{under}\n"
            + console.table(head, rows)
        )
    return "\n\n".join(blocks)


def plan_line(setup: Setup) -> str:
    """One line saying what the analysis runs.

    Args:
        setup: the resolved spec and settings.
    """
    plan, spec = setup.plan, setup.spec
    d = plan.design
    dims = len(d.factors)
    samples = samples_of(d, spec.second_order)
    if d.kind == "sobol":
        what = f"Sobol (Saltelli) design, N = {samples} base samples of {dims} parameters"
    else:
        what = (
            f"Morris design, {samples} trajectories of {dims} parameters on a {d.levels}-level grid"
        )
    regs = f"{len(plan.regimes)} regime{'s' if len(plan.regimes) != 1 else ''}"
    reps = f"{spec.replicates} replicate{'s' if spec.replicates != 1 else ''}"
    return (
        f"saca sensitivity {spec.name}: {what} = {len(d)} points x {regs} x {reps} = "
        f"{plan.n_runs} runs of {plan.steps} days (scenario {plan.scenario.name}, root seed "
        f"{spec.seed})"
    )


# ----- command line ---------------------------------------------------------------------
def add_parser(sub: Any) -> None:
    """Add the ``sensitivity`` subcommand to the ``saca`` parser.

    Args:
        sub: the subparsers object of :func:`saca.experiments.cli.main.build_parser`.
    """
    p = sub.add_parser(
        "sensitivity",
        help="global sensitivity analysis (Sobol or Morris) of a sweep spec's parameters",
        description="Run the design of a sweep spec (parameters as ranges; optional "
        "[sensitivity] table: outputs, window, resamples, tolerance) into DIR/runs with the "
        "sweep engine, average each output over the replicates of each design point and "
        "regime, and compute per regime and output Sobol S1/ST or Morris mu/mu*/sigma with "
        "95% bootstrap CIs (SALib). Writes DIR/indices.parquet, DIR/indices.json and "
        "DIR/sensitivity_<output>.png; warns with a recommended sample size when the "
        "indices have not converged. Exit 0, 1 when runs failed or indices could not be "
        "computed, 2 for input errors, 130 when interrupted (continue with --resume).",
    )
    p.add_argument("spec", metavar="SPEC.toml", help="a sweep spec with ranges")
    p.add_argument(
        "--method",
        choices=METHODS,
        default=None,
        help="sobol (S1, ST) or morris (screening); sets [sweep] design (default: the "
        "spec's design)",
    )
    p.add_argument("--out", default=None, metavar="DIR", help="the results directory")
    add_backend_options(p)
    outdir.add_force_option(p)
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the analysis in DIR (same spec): stored runs are not redone",
    )
    p.add_argument(
        "--rerun-failed",
        action="store_true",
        help="continue the analysis in DIR and redo its failed runs",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the number of runs and an estimate of the time, run nothing",
    )


def _dry_run(setup: Setup, out: str | None, backend: str, workers: int, args: Any) -> int:

    plan = setup.plan
    runs = Path(out) / RUNS if out else None
    pending = stored_pending(plan, runs, args.rerun_failed)
    est = estimate(plan, 1 if args.scheduler else workers, pending, backend)
    lines = [plan_line(setup)]
    if pending is not None:
        lines.append(f"{plan.n_runs - pending} runs already stored in {runs}; {pending} to do")
    par = (
        f", about {console.duration(est['parallel_seconds'])} on {workers} {backend} workers"
        if workers > 1 and not args.scheduler
        else ""
    )
    lines.append(
        f"estimate: {est['seconds_per_run']:.2f} s per run ({est['method']}); "
        f"{est['pending']} runs take about {console.duration(est['serial_seconds'])} serially{par}"
    )
    st = setup.settings
    lines.append(
        f"analysis: {st.method} indices of {', '.join(st.outputs)} (window {st.window}) per "
        f"regime, {st.resamples} bootstrap resamples"
    )
    console.emit("\n".join(lines))
    return 0


def command(args: argparse.Namespace) -> int:
    """Run ``saca sensitivity``.

    Args:
        args: the parsed command line.

    Returns:
        0 when every run succeeded and every index was computed, 1 otherwise, 130 when
        interrupted.
    """

    setup = prepare(args.spec, args.method)
    backend, workers = check_backend(args.backend, args.workers, args.scheduler)
    if not args.out and not args.dry_run:
        raise SacaInputError("--out DIR is required: where the runs and indices are stored")
    if args.dry_run:
        if args.out:
            outdir.prepare_out(args.out)
        return _dry_run(setup, args.out, backend, workers, args)
    resume = args.resume or args.rerun_failed
    outdir.claim(
        args.out,
        "sensitivity",
        force=args.force,
        own=lambda p: (p / RUNS).is_dir() and (resume or not args.force),
        what="sensitivity analysis",
        log=lambda line: print(line, file=sys.stderr),
        identity={"name": setup.spec.name, "spec": setup.spec.label},
    )
    check_out(args.out, resume)
    again = f"saca sensitivity {args.spec} --out {args.out} --resume"
    try:
        res = run_sensitivity(
            setup,
            args.out,
            backend=backend,
            workers=None if args.scheduler else workers,
            scheduler=args.scheduler,
            resume=args.resume,
            rerun_failed=args.rerun_failed,
            progress=None,
            run_timeout=args.run_timeout,
        )
    except KeyboardInterrupt:
        runs = Path(args.out) / RUNS
        print(sweep.interrupted("sensitivity", again, runs, setup.plan), file=sys.stderr)
        return 130
    rep, an = res.report, res.analysis
    skipped = f", {rep.stored_before} already stored" if rep.stored_before else ""
    lines = [
        plan_line(setup),
        f"ran {rep.ran} runs ({rep.ok} ok, {rep.failed} failed{skipped}) in "
        f"{console.duration(rep.seconds)}; runs in {res.out / RUNS} (saca results)",
        f"each output averaged over the successful replicates of each design point and "
        f"regime; index ± half-width of its 95% bootstrap CI ({setup.settings.resamples} "
        "resamples)",
        "",
    ]
    tables = format_tables(an, setup.settings)
    if tables:
        lines += [tables, ""]
    lines.append("wrote " + ", ".join(str(p) for p in res.files))
    console.emit("\n".join(lines))
    for w in an.warnings():
        print(f"saca sensitivity: warning: {w}", file=sys.stderr)
    code = 0
    if an.problems:
        fix = (
            f"redo the failed runs with: saca sensitivity {args.spec} --out {args.out} "
            "--rerun-failed"
            if rep.failed_total
            else (
                f"finish the runs with: {again}"
                if not rep.complete
                else "the metric is undefined there (NaN): choose another output or window"
            )
        )
        for p in an.problems:
            print(f"saca sensitivity: error: no indices for {p}; {fix}", file=sys.stderr)
        code = 1
    if rep.failed_total:
        print(
            f"saca sensitivity: warning: {rep.failed_total} of {rep.total} runs failed "
            f"(errors in saca results {res.out / RUNS}); their design points are averaged over "
            f"the other replicates; redo them with: saca sensitivity {args.spec} --out "
            f"{args.out} --rerun-failed",
            file=sys.stderr,
        )
        code = 1
    return code
