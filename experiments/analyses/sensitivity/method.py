"""Sensitivity indices (Sobol, Morris) of averaged runs over a design: pure, SALib underneath."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments.engine import design as dsg

METHODS = ("sobol", "morris")
RESAMPLES = 1000
TOLERANCE = 0.1
CONF_LEVEL = 0.95
NOISE_WARN = 0.2
"""A ``noise_share`` above this gets its own warning (replicate noise, not sample size)."""
ANALYSIS_KEY = 0x5E45
"""First element of the bootstrap seeds' spawn keys (length 4; runs use 2 or 3, designs 1)."""
INDEX_COLUMNS = {
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("mu", "mu_star", "mu_star_conf", "sigma"),
}
MAIN_INDEX = {"sobol": "ST", "morris": "mu_star"}


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
