"""``saca uncertainty``: which regime wins over the space of uncertain constants and
situations, how much of it, and where construction wins.

Input: a sweep spec (run here into ``OUT/runs``, resumable) or a stored sweep directory,
whose design is a sample (Latin hypercube) over behavioural constants and situation
parameters (``[constants]``, :mod:`saca.experiments.engine.constants`) and whose regimes include the
two compared (by default the spec's first two, e.g. constructive and autonomous), with
common random numbers so every design point and replicate is a paired comparison.

**Regime contrast**, per metric (efficacy, burnout, institutional trust by default), over
the design points (each point is one draw from the uncertainty space):

- the mean contrast ``B − A`` with a 95% t interval over the points;
- the share of the space where each regime wins: the share of points whose mean paired
  difference (over replicates) is in that regime's favour (the metric's better
  direction: lower for burnout), with a 95% Wilson interval (``scipy.stats.binomtest``)
  over the points;
- the share where it wins *clearly*: the point's paired t interval over its replicates
  excludes 0 in its favour (needs at least 2 replicates).

**Where construction wins**: PRIM boxes (EMA Workbench's ``prim`` through
:func:`saca.experiments.analyses.discovery.method.discover`) of the parameters where ``A``
beats ``B``, one discovery per metric in ``OUT/prim_<metric>/`` (boxes.json, boxes.png, ...).

Files: ``OUT/shares.json`` (every number above, the spec's hash and the seed) and
``OUT/shares.png`` (shares per metric with their CIs).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments import console, stats
from saca.experiments.analyses.discovery import method as discovery
from saca.experiments.analyses.discovery import workflow as discovery_files
from saca.experiments.engine import io, outdir, sweep
from saca.model import SacaInputError
from saca.model.metrics import HIGHER_IS_BETTER, METRICS

METRICS_DEFAULT = ("efficacy", "burnout_mean", "trust_institution")
RUNS = "runs"


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a share ``k / n``.

    Args:
        k: successes.
        n: trials (0 gives NaN bounds).
        level: confidence level.
    """
    if n == 0:
        return float("nan"), float("nan")
    from scipy.stats import binomtest

    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def win_shares(
    results: pd.DataFrame, a: str, b: str, metric: str, level: float = 0.95
) -> dict[str, Any]:
    """How often, and by how much, regime ``b`` beats ``a`` over the design points.

    Args:
        results: one row per run (``point``, ``regime``, ``replicate``, the metric;
            ``status`` other than ``ok`` is left out), as from
            :func:`saca.experiments.engine.sweep.load_results`.
        a: the first regime.
        b: the second regime.
        metric: the metric compared.
        level: confidence level.

    Returns:
        ``points``, ``mean_diff`` (B − A with ``lo``, ``hi``), and for each regime its
        share of points won (``share``, ``lo``, ``hi``) and of points won clearly.
    """
    ok = results if "status" not in results.columns else results[results["status"] == "ok"]
    ok = ok[ok["regime"].isin([a, b])]
    wide = ok.pivot_table(index=["point", "replicate"], columns="regime", values=metric)
    if a not in wide.columns or b not in wide.columns:
        raise SacaInputError(f"the results do not hold both regimes {a} and {b}")
    diff = (wide[b] - wide[a]).dropna()
    higher = HIGHER_IS_BETTER.get(metric, True)
    sign = 1.0 if higher else -1.0
    per_point = diff.groupby(level="point")
    mean = per_point.mean()
    n = len(mean)
    out: dict[str, Any] = {"metric": metric, "higher_is_better": higher, "points": n}
    ci = stats.mean_ci(mean.to_numpy(), level)
    out["mean_diff"] = {"mean": ci["mean"], "lo": ci["lo"], "hi": ci["hi"]}
    clear = {a: 0, b: 0}
    for _, d in per_point:
        c = stats.mean_ci(d.to_numpy(), level)
        if not np.isfinite(c["lo"]):
            continue
        # the interval in the good direction: above 0 is a clear win for b
        lo, hi = (c["lo"], c["hi"]) if sign > 0 else (-c["hi"], -c["lo"])
        if lo > 0:
            clear[b] += 1
        elif hi < 0:
            clear[a] += 1
    good = sign * mean.to_numpy()
    for reg, k in ((b, int((good > 0).sum())), (a, int((good < 0).sum()))):
        lo, hi = wilson(k, n, level)
        klo, khi = wilson(clear[reg], n, level)
        out[reg] = {
            "share": k / n if n else float("nan"),
            "lo": lo,
            "hi": hi,
            "clear_share": clear[reg] / n if n else float("nan"),
            "clear_lo": klo,
            "clear_hi": khi,
        }
    return out


def plot_shares(shares: Sequence[dict[str, Any]], a: str, b: str, path: Path) -> Path:
    """Bars of each regime's share of the space won, per metric, with Wilson CIs.

    Args:
        shares: the :func:`win_shares` results.
        a: the first regime.
        b: the second regime.
        path: the PNG to write.
    """
    from matplotlib.figure import Figure

    from saca.experiments.plots.style import regime_colour

    fig = Figure(figsize=(2.6 * len(shares) + 1, 3.6), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(shares))
    for k, reg in enumerate((a, b)):
        s = np.array([d[reg]["share"] for d in shares])
        lo = np.array([d[reg]["lo"] for d in shares])
        hi = np.array([d[reg]["hi"] for d in shares])
        ax.bar(
            x + (k - 0.5) * 0.38,
            s,
            0.36,
            yerr=[s - lo, hi - s],
            capsize=3,
            color=regime_colour(reg, k),
            label=f"{reg} wins",
        )
    ax.set_xticks(x, [d["metric"] for d in shares])
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of the uncertainty space (95% Wilson CI)")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)
    return path


def analyse(
    runs: Path, out: Path, a: str | None, b: str | None, metrics: Sequence[str]
) -> dict[str, Any]:
    """Shares and PRIM boxes from a stored sweep; writes the files into ``out``.

    Args:
        runs: the sweep directory.
        out: the output directory.
        a: the first regime (None: the sweep's first).
        b: the second regime (None: the sweep's second).
        metrics: the metrics compared.
    """
    meta = sweep.read_meta(runs)
    results = sweep.load_results(runs, "all")
    order = list(dict.fromkeys(results["regime"]))
    if a is None or b is None:
        if len(order) < 2:
            raise SacaInputError(f"{runs} holds one regime; the contrast needs two")
        a, b = order[0], order[1]
    for r in (a, b):
        if r not in order:
            raise SacaInputError(f"{runs} has no regime {r!r}; it has {', '.join(order)}")
    params = [f["key"] for f in meta["design"]["factors"]]
    ranges = {f["key"]: (f["min"], f["max"]) for f in meta["design"]["factors"] if "min" in f}
    shares = [win_shares(results, a, b, m) for m in metrics]
    boxes: dict[str, Any] = {}
    for m in metrics:
        d = discovery.discover(
            results, params, contrast=(a, b), metric=m, threshold=0.7, ranges=ranges
        )
        files = discovery_files.write(d, out / f"prim_{m}", {"sweep": str(runs)})
        summary = d.to_dict()
        boxes[m] = {
            "base_rate": summary["base_rate"],
            "boxes": [
                {k: bx[k] for k in ("rule", "coverage", "density", "mass", "limits")}
                for bx in summary["boxes"]
                if bx["accepted"]
            ],
            "files": [str(f) for f in files],
        }
    doc = {
        "runs": str(runs),
        "spec_hash": meta.get("spec_hash"),
        "seed": meta.get("spec", {}).get("seed", meta.get("seed")),
        "contrast": [a, b],
        "shares": shares,
        "prim_where_first_wins": boxes,
        **io.provenance(),
    }
    io.write_json(doc, out / "shares.json")
    plot_shares(shares, a, b, out / "shares.png")
    return doc


def format_text(doc: dict[str, Any]) -> str:
    """The shares as text lines."""
    a, b = doc["contrast"]
    lines = [f"contrast {b} − {a} over the design points (95% CIs):"]
    for s in doc["shares"]:
        md = s["mean_diff"]
        lines.append(
            f"  {s['metric']}: mean {md['mean']:+.3f} [{md['lo']:+.3f}, {md['hi']:+.3f}] over "
            f"{s['points']} points; {b} wins {s[b]['share']:.0%} [{s[b]['lo']:.0%}, "
            f"{s[b]['hi']:.0%}] (clearly {s[b]['clear_share']:.0%}), {a} wins "
            f"{s[a]['share']:.0%} [{s[a]['lo']:.0%}, {s[a]['hi']:.0%}] (clearly "
            f"{s[a]['clear_share']:.0%})"
        )
    for m, bx in doc["prim_where_first_wins"].items():
        found = bx["boxes"]
        rate = bx["base_rate"]
        lines.append(
            f"  where {a} wins on {m}: {rate:.0%} of the points, {len(found)} PRIM box(es) "
            "with density >= 0.7"
        )
        for box in found:
            lines.append(
                f"    coverage {box['coverage']:.2f}, density {box['density']:.2f}, mass "
                f"{box['mass']:.2f}: {box['rule']}"
            )
    return "\n".join(lines)


def add_parser(sub: Any) -> None:
    """Add the ``uncertainty`` subcommand to the ``saca`` parser.

    Args:
        sub: the subparsers object of :func:`saca.experiments.cli.main.build_parser`.
    """
    p = sub.add_parser(
        "uncertainty",
        help="regime contrast over uncertain constants and situations: shares won, PRIM boxes",
        description="Run a spec over behavioural constants and situations (or read a stored "
        "sweep) and write, per metric, the share of the space each of two regimes wins with "
        "95%% Wilson CIs, the mean contrast, and PRIM boxes of where the first regime wins.",
    )
    p.add_argument("source", metavar="SPEC.toml|DIR", help="a spec, or a stored sweep")
    p.add_argument("--out", default=None, metavar="DIR", help="the results directory")
    p.add_argument(
        "--contrast",
        default=None,
        metavar="A,B",
        help="the two regimes (default: the sweep's first two); PRIM looks for where A wins",
    )
    p.add_argument(
        "--metrics",
        default=",".join(METRICS_DEFAULT),
        help=f"metrics, comma-separated (default {','.join(METRICS_DEFAULT)})",
    )
    p.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes")
    p.add_argument("--resume", action="store_true", help="continue the runs in DIR/runs")
    outdir.add_force_option(p)


def command(args: argparse.Namespace) -> int:
    """Run ``saca uncertainty``.

    Args:
        args: the parsed command line.

    Returns:
        0, or 130 when interrupted.
    """

    if not args.out:
        raise SacaInputError("--out DIR is required: where the shares and boxes are written")
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    bad = [m for m in metrics if m not in METRICS]
    if bad or not metrics:
        raise SacaInputError(
            f"--metrics: unknown metric {bad[0] if bad else ''!r}; "
            f"{sweep.did_you_mean(bad[0] if bad else '', METRICS)}choose from {', '.join(METRICS)}"
        )
    a = b = None
    if args.contrast is not None:
        parts = [t.strip() for t in args.contrast.split(",")]
        if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
            raise SacaInputError(
                f"--contrast needs two different regimes A,B, got {args.contrast!r}"
            )
        a, b = parts
    if args.workers < 1:
        raise SacaInputError(f"--workers must be at least 1, got {args.workers}")
    src = Path(args.source)
    out = Path(args.out)
    if src.is_dir():
        runs = src
        outdir.claim(out, "uncertainty", force=args.force)
    else:
        plan = sweep.prepare(sweep.load_spec(src, extra_tables=("discover", "sensitivity")))
        names = list(plan.regimes)
        for r in (a, b):
            if r is not None and r not in names:
                raise SacaInputError(
                    f"--contrast: {r} is not a regime of {src} ({', '.join(names)})"
                )
        if len(names) < 2:
            raise SacaInputError(f"{src} runs one regime; the contrast needs two")
        outdir.claim(
            out,
            "uncertainty",
            force=args.force,
            own=lambda p: (p / RUNS).is_dir() and args.resume,
            log=lambda line: print(line, file=sys.stderr),
        )
        runs = out / RUNS
        try:
            sweep.run_sweep(
                plan,
                runs,
                backend="process" if args.workers > 1 else "serial",
                workers=args.workers,
                resume=args.resume,
            )
        except KeyboardInterrupt:
            print(
                f"saca uncertainty: interrupted; continue with: saca uncertainty {src} --out "
                f"{out} --resume",
                file=sys.stderr,
            )
            return 130
    doc = analyse(runs, out, a, b, metrics)
    console.emit(format_text(doc) + f"\nwrote {out / 'shares.json'}, {out / 'shares.png'}, prim_*/")
    return 0
