"""``saca results`` (a stored sweep as one table) and ``saca plot`` (redraw stored figures)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from saca.experiments import console, stats
from saca.experiments.cli.compare import compare_figures
from saca.experiments.cli.shared import overrides_text, read
from saca.experiments.engine import io, outdir
from saca.experiments.engine.results import load_results, load_timeseries, read_meta, verify
from saca.experiments.plots import sweeps
from saca.experiments.plots.cells import winner_grids
from saca.experiments.plots.runs import plot_run
from saca.experiments.plots.style import KEY_METRICS
from saca.model import SacaInputError


def cmd_results(args: argparse.Namespace) -> int:
    """``saca results DIR``: a stored sweep as one table.

    Args:
        args: parsed arguments (``dir``, ``window``, ``csv``, ``json``).
    """
    meta = read_meta(args.dir)
    if args.csv is not None:
        csv = Path(args.csv)
        if csv.is_dir() or not csv.parent.is_dir():
            raise SacaInputError(f"--csv {csv}: give a file path in an existing directory")
    busy = outdir.is_busy(args.dir)
    if busy and args.verify:
        raise SacaInputError(
            f"{args.dir} is being written right now by "
            f"{outdir.describe(outdir.holder(args.dir))}; verify it when that ends"
        )
    if not busy:  # a writer renames files as it goes: its folder is verified when it ends
        # every read is verified: damaged data is refused, never shown as complete
        check = verify(args.dir, deep=args.verify)
        if args.verify:
            console.emit(f"saca results {args.dir}: verified: {check}")
            return 0
    df = load_results(args.dir, window=args.window)
    if args.csv is not None:
        df.to_csv(args.csv, index=False)
    if args.json:
        console.emit(io.dumps(df.to_dict(orient="records")))
        if args.csv is not None:
            print(f"saca: wrote {args.csv}", file=sys.stderr)
        return 0
    regs = [r for r in meta["regimes"] if r in set(df["regime"])]
    ok = df[df["status"] == "ok"]
    failed = df[df["status"] == "failed"]
    state = (
        "complete"
        if meta.get("complete") and len(df) == meta["runs"]
        else "incomplete (resume with --resume)"
    )
    if busy:
        state = f"being written by {outdir.describe(outdir.holder(args.dir))}"
    d = meta["design"]
    lines = [
        f"saca results {args.dir}: sweep {meta['name']}, {d['kind']} design, {d['points']} "
        f"points x {len(meta['regimes'])} regimes x {meta['replicates']} replicates = "
        f"{meta['runs']} runs; stored {len(df)} ({len(ok)} ok, {len(failed)} failed); {state}",
    ]
    if regs and len(ok):
        lines += [
            f"window {args.window}; mean ± half-width of the 95% CI (Student t) over every ok "
            "run of a regime, design points and replicates pooled",
            "",
        ]
        rows = []
        for m in KEY_METRICS:
            row = [m]
            for r in regs:
                c = stats.mean_ci(ok.loc[ok["regime"] == r, m].to_numpy(dtype=float))
                row.append(console.pm(c["mean"], c["lo"], c["hi"]))
            rows.append(row)
        lines.append(console.table(["metric", *regs], rows))
    if len(failed):
        lines += ["", "failed runs:"]
        lines += [f"  {i}  {e}" for i, e in zip(failed["id"], failed["error"], strict=True)][:20]
        if len(failed) > 20:
            lines.append(f"  ... and {len(failed) - 20} more")
    lines += [
        "",
        f"one row per run, {len(df.columns)} columns: --csv FILE, --json, or "
        "saca.experiments.engine.results.load_results(DIR)",
    ]
    if args.csv is not None:
        lines.append(f"wrote {args.csv}")
    console.emit("\n".join(lines))
    return 0


def _sweep_figures(d: Path) -> list[Path]:
    """Draw a stored sweep's figures into its folder.

    Args:
        d: the sweep's results folder.
    """
    meta = read_meta(d)
    df = load_results(d)
    if not (df["status"] == "ok").any():
        raise SacaInputError(f"{d} has no successful runs to plot")
    regs = list(meta["regimes"])
    factors = meta["design"]["factors"]
    head = (
        f"sweep {meta['name']}: {meta['design']['kind']} design, {meta['scenario']} scenario, "
        f"{meta['replicates']} replicates, seed {meta['seed']}"
        + overrides_text((meta.get("command_line") or {}).get("set"))
    )
    paths = [d / "sweep_params.png"]
    sweeps.plot_sweep_params(df, factors, regs, paths[0], title=f"Metrics vs parameters ({head})")
    if len(factors) >= 2:
        paths.append(d / "sweep_winners.png")
        what = "Which regime wins" if len(regs) > 1 else "Mean"
        grids = winner_grids(df, factors, regs)
        sweeps.plot_sweep_winners(
            grids, regs, paths[-1], title=f"{what} ({head})", pooled=len(factors) > 2
        )
    if meta.get("timeseries"):
        paths.append(d / "sweep_timeseries.png")
        sweeps.plot_sweep_timeseries(
            load_timeseries(d), regs, paths[-1], title=f"Time series ({head})"
        )
    return paths


def cmd_plot(args: argparse.Namespace) -> int:
    """``saca plot DIR``: redraw the figures of a saved run or comparison, or draw a sweep's.

    Args:
        args: parsed arguments (``dir``).
    """
    d = Path(args.dir)
    if not d.is_dir():
        raise SacaInputError(
            f"{d} is not a directory; give one written by saca run/compare/sweep --out"
        )
    meta_path = d / "meta.json"
    meta = read(meta_path) if meta_path.is_file() else None
    if isinstance(meta, dict) and meta.get("kind") == "sweep":
        paths = _sweep_figures(d)
    elif (d / "compare.json").is_file() and (d / "timeseries.parquet").is_file():
        res, ts = read(d / "compare.json"), read(d / "timeseries.parquet")
        try:
            paths = compare_figures(res, ts, d)
        except (KeyError, TypeError, IndexError) as exc:
            raise SacaInputError(f"{d}/compare.json is not a saca comparison ({exc})") from None
    elif (d / "timeseries.parquet").is_file() and (d / "meta.json").is_file():
        meta, ts = read(d / "meta.json"), read(d / "timeseries.parquet")
        title = (
            f"{meta.get('regime', '?')} regime, {meta.get('scenario', '?')} scenario, "
            f"seed {meta.get('seed', '?')}" + overrides_text(meta.get("overrides"))
        )
        try:
            plot_run(ts, d / "timeseries.png", title=title)
        except KeyError as exc:
            raise SacaInputError(f"{d}/timeseries.parquet lacks column {exc}") from None
        paths = [d / "timeseries.png"]
    else:
        raise SacaInputError(
            f"{d} holds neither a saved run (timeseries.parquet + meta.json), a comparison "
            "(compare.json + timeseries.parquet) nor a sweep (meta.json of saca sweep); "
            "write one with saca run/compare/sweep --out"
        )
    console.emit("wrote " + ", ".join(str(p) for p in paths))
    return 0
