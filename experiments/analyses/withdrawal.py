"""``saca withdrawal``: recall the sunk cadres after an emergency, bring them back, and ask
whether self-organisation persists, collapses or recovers, and whether the way back is
the way down (hysteresis).

The experiment (the response-threshold literature's removal experiment, issue 13) runs a
scenario whose timeline says, window by window, which sunk cadres are present
(``sunk = "all" | "in_service" | "none"``, docs/ODD.md §7). The shipped scenario
``withdrawal`` recalls the off-post cadres, then everyone, then sends them back in the
reverse order, 30 days a step. Every regime runs it twice with the same replicate seeds
(common random numbers): the *withdrawal* arm as given and a *control* arm with every
cadre present throughout, so that the effect of the withdrawal in a window is the paired
difference withdrawal − control, free of the slow drift the run would show anyway.

**Outcomes** (per day): efficacy, the claiming share (needs the system resolved that a
cadre chose: claimed from the task list or was consulted on), the self-help share (needs
residents solved through their own ties, of those that arose), residents' trust in
institutions, in community cadres and in sunk cadres, and the working trust between sunk
and community cadres. A window's value is the mean over its last ``tail`` days, when the
step has settled.

**Paths.** The *down path* is the window before the first recall and the windows down to
the lowest presence; the *up path* runs from the lowest presence back to the first
window with every cadre present again. The presence of a window is the mean daily share
of sunk cadres present. Hysteresis at a presence level: (up-path effect − down-path
effect), paired by seed, with a 95% t interval; a CI that excludes 0 means the way back
differs from the way down.

**Files** in ``DIR``: ``series.parquet`` (one row per run and day), ``windows.parquet``
(one row per run and window), ``withdrawal.json`` (the verdicts and every CI),
``timelines.png`` and ``hysteresis.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from saca.agents import needs as nd
from saca.experiments import console, stats
from saca.experiments.engine import io, outdir, runner
from saca.experiments.engine.backends import run_tasks
from saca.experiments.engine.seeds import check_seed, replicate_seeds, seed_sequence
from saca.model import SacaInputError
from saca.model.regime import Regime
from saca.model.scenario import Scenario
from saca.model.situation import Phase

OUTCOMES = (
    "efficacy",
    "claim_share",
    "self_help_share",
    "trust_institution",
    "trust_resident_community",
    "trust_resident_sunk",
    "trust_cadre_cadre",
)
"""The outcomes of the experiment, in the order of the tables and figures."""

LABELS = {
    "efficacy": "Efficacy (resolved by deadline)",
    "claim_share": "Claiming share (chosen tasks)",
    "self_help_share": "Resident self-help share",
    "trust_institution": "Trust in institutions",
    "trust_resident_community": "Trust in community cadres",
    "trust_resident_sunk": "Trust in sunk cadres",
    "trust_cadre_cadre": "Sunk–community working trust",
}
SERIES_COLUMNS = (
    "efficacy",
    "trust_institution",
    "trust_resident_community",
    "trust_resident_sunk",
    "trust_cadre_cadre",
    "burnout_mean",
    "workload_sunk",
    "workload_community",
    "needs_open",
)
"""Daily model metrics kept beside the experiment's own measures."""
ARMS = ("withdrawal", "control")
TAIL = 15
"""Default days at the end of each window that its value is the mean of."""


# ----- the experiment's design ----------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """One window of the timeline, with its place on the paths.

    Args:
        name: ``w<k>_<phase>_<sunk>``, unique and in order.
        start: first day.
        end: first day after.
        sunk: which sunk cadres are present.
        path: ``before``, ``down``, ``turn`` (lowest presence, on both paths), ``up``,
            ``after`` or ``""`` (the emergency and what precedes the down path).
    """

    name: str
    start: int
    end: int
    sunk: str
    path: str


def windows_of(timeline: Sequence[Phase]) -> list[Window]:
    """Name the timeline's windows and place them on the down and up paths.

    Args:
        timeline: the scenario's phases.

    Raises:
        SacaInputError: the timeline recalls no sunk cadre, or recalls them after the
            last window or before its first, so there is no path down and back.
    """
    order = {"all": 2, "in_service": 1, "none": 0}
    level = [order[p.sunk] for p in timeline]
    gone = [i for i, v in enumerate(level) if v < 2]
    if not gone:
        raise SacaInputError(
            "the scenario's timeline recalls no sunk cadre; give a timeline with windows "
            'sunk = "in_service" or "none" (e.g. --scenario withdrawal)'
        )
    first = gone[0]
    if first == 0:
        raise SacaInputError(
            "the scenario's timeline recalls sunk cadres from day 0; start with a window "
            "where all are present, so there is a path down"
        )
    lowest = min(level)
    turn = next(i for i in range(first, len(level)) if level[i] == lowest)
    back = next((i for i in range(turn, len(level)) if level[i] == 2), None)
    if back is None:
        raise SacaInputError(
            "the scenario's timeline never brings the sunk cadres back; end with a window "
            'where all are present (sunk = "all", the default)'
        )
    out = []
    for i, p in enumerate(timeline):
        if i == first - 1:
            path = "before"
        elif first <= i < turn:
            path = "down"
        elif i == turn:
            path = "turn"
        elif turn < i < back:
            path = "up"
        elif i == back:
            path = "after"
        elif i > back:
            path = "later"
        else:
            path = ""
        out.append(Window(f"w{i}_{p.name}_{p.sunk}", p.start, p.end, p.sunk, path))
    return out


def control_of(scenario: Scenario) -> Scenario:
    """The same scenario with every sunk cadre present throughout (the control arm).

    Args:
        scenario: the withdrawal scenario.
    """
    tl = tuple(dataclasses.replace(p, sunk="all") for p in scenario.situation.timeline)
    return dataclasses.replace(
        scenario, situation=dataclasses.replace(scenario.situation, timeline=tl)
    )


# ----- one run ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """One run of the experiment.

    Args:
        regime: the regime's label.
        arm: ``withdrawal`` or ``control``.
        replicate: replicate index.
        seed: the replicate's SeedSequence (shared by arms and regimes).
        scenario: the resolved scenario of the arm.
        settings: the resolved regime.
    """

    regime: str
    arm: str
    replicate: int
    seed: np.random.SeedSequence
    scenario: Scenario
    settings: Regime


def daily_shares(needs: nd.NeedPool, days: int) -> pd.DataFrame:
    """The claiming and self-help shares of each day, from the needs of a run.

    claim_share(d) = chosen / resolved by the system, among needs resolved on day d
    (a need is chosen when a cadre claimed it or was consulted on it);
    self_help_share(d) = self-helped / arisen, among needs that arose on day d.

    Args:
        needs: the run's need pool.
        days: days run.
    """
    n = needs.n
    status, helped = needs.status[:n], needs.self_helped[:n]
    by_system = (status == nd.RESOLVED) & ~helped
    day_res = needs.resolved[:n][by_system]
    solved = np.bincount(day_res, minlength=days)[:days]
    chosen = np.bincount(day_res, weights=needs.chosen[:n][by_system], minlength=days)[:days]
    created = np.bincount(needs.created[:n], minlength=days)[:days]
    self_helped = np.bincount(needs.created[:n][helped], minlength=days)[:days]
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {
                "claim_share": np.where(solved > 0, chosen / np.maximum(solved, 1), np.nan),
                "self_help_share": np.where(
                    created > 0, self_helped / np.maximum(created, 1), np.nan
                ),
            }
        )


def run_task(task: Task) -> pd.DataFrame:
    """Run one task; return its daily table (day, phase, sunk presence, outcomes).

    Args:
        task: the run.
    """
    from saca.model.model import CollaborationModel  # Mesa loads when the first run starts

    seed = seed_sequence(task.seed)
    model = CollaborationModel(scenario=task.scenario, regime=task.settings, rng=seed)
    sunk = [c for c in model.cadres if c.is_sunk]
    present = []
    while model.running:
        model.step()
        present.append(float(np.mean([not c.away for c in sunk])) if sunk else np.nan)
    ts = model.timeseries().reset_index()
    out = ts[["day", "phase", *SERIES_COLUMNS]].copy()
    out["sunk_present"] = present
    shares = daily_shares(model.needs, len(out))
    out["claim_share"] = shares["claim_share"].to_numpy()
    out["self_help_share"] = shares["self_help_share"].to_numpy()
    out.insert(0, "replicate", task.replicate)
    out.insert(0, "arm", task.arm)
    out.insert(0, "regime", task.regime)
    return out


def run_all(tasks: Sequence[Task], workers: int = 1, progress: bool | None = None) -> pd.DataFrame:
    """Run every task, serially or in worker processes; the result is in task order, so
    it does not depend on the number of workers.

    Args:
        tasks: the runs.
        workers: processes to use; 1 runs here.
        progress: as in :class:`saca.experiments.engine.progress.Progress`.
    """
    results = run_tasks(tasks, run_task, workers, progress, "withdrawal")
    return pd.concat(results, ignore_index=True)


# ----- analysis ---------------------------------------------------------------------------
def window_values(series: pd.DataFrame, wins: Sequence[Window], tail: int) -> pd.DataFrame:
    """Each run's value of every outcome in each window: the mean of its last ``tail``
    days (the whole window if shorter), and the window's mean sunk presence.

    Args:
        series: the daily table of :func:`run_all`.
        wins: the windows of :func:`windows_of`.
        tail: days at the end of each window.
    """
    rows = []
    keys = ["regime", "arm", "replicate"]
    for w in wins:
        lo = max(w.start, w.end - tail)
        part = series[(series["day"] >= lo) & (series["day"] < w.end)]
        presence = series[(series["day"] >= w.start) & (series["day"] < w.end)]
        g = part.groupby(keys, sort=False)[list(OUTCOMES)].mean()
        g["sunk_present"] = presence.groupby(keys, sort=False)["sunk_present"].mean()
        g = g.reset_index()
        g.insert(3, "window", w.name)
        g.insert(4, "path", w.path)
        g.insert(5, "start", w.start)
        g.insert(6, "end", w.end)
        rows.append(g)
    return pd.concat(rows, ignore_index=True)


def _ci(d: Mapping[str, float]) -> dict[str, float]:
    """Mean (or paired difference) and its CI bounds from :mod:`saca.experiments.stats`."""
    return {"mean": float(d["mean"] if "mean" in d else d["diff"]), "lo": d["lo"], "hi": d["hi"]}


def _excludes_zero(ci: Mapping[str, float]) -> int:
    """+1 when a CI lies above 0, -1 below, 0 when it includes 0 or is undefined."""
    if not np.isfinite(ci["lo"]) or not np.isfinite(ci["hi"]):
        return 0
    return 1 if ci["lo"] > 0 else (-1 if ci["hi"] < 0 else 0)


def verdict(turn: Mapping[str, float], after: Mapping[str, float]) -> str:
    """Plain words for an outcome's path, from the paired effects (withdrawal − control)
    at the lowest presence and after the return.

    Args:
        turn: the effect's CI at the lowest presence.
        after: the effect's CI in the first window with everyone back.
    """
    low, back = _excludes_zero(turn), _excludes_zero(after)
    down = {-1: "falls", 0: "persists", 1: "rises"}[low]
    if low == 0:
        tail = (
            "and stays level after the return"
            if back == 0
            else ("but ends " + ("below" if back < 0 else "above") + " control after the return")
        )
    elif back == 0:
        tail = "and recovers when the cadres return"
    elif back == low:
        side = "below" if back < 0 else "above"
        tail = f"and stays {side} control after the return (hysteresis)"
    else:
        tail = "and overshoots control after the return"
    return f"{down} while they are away {tail}"


def analyse(values: pd.DataFrame, wins: Sequence[Window]) -> dict[str, Any]:
    """Per regime and outcome: every window's arms with CIs, the paired effect of the
    withdrawal, hysteresis per presence level, and a verdict.

    Args:
        values: the table of :func:`window_values`.
        wins: the windows.
    """
    out: dict[str, Any] = {}
    by_path = {w.path: w for w in wins if w.path in ("before", "turn", "after")}
    down = [w for w in wins if w.path in ("before", "down", "turn")]
    up = [w for w in wins if w.path in ("turn", "up", "after")]
    for regime in dict.fromkeys(values["regime"]):
        reg: dict[str, Any] = {"windows": {}, "hysteresis": {}, "verdict": {}}
        v = values[values["regime"] == regime]

        def arm(arm_name: str, window: str, metric: str, v: pd.DataFrame = v) -> np.ndarray:
            sel = v[(v["arm"] == arm_name) & (v["window"] == window)].sort_values("replicate")
            return sel[metric].to_numpy(dtype=float)

        for w in wins:
            row: dict[str, Any] = {
                "path": w.path,
                "start": w.start,
                "end": w.end,
                "sunk": w.sunk,
                "sunk_present": float(np.nanmean(arm("withdrawal", w.name, "sunk_present"))),
            }
            for m in OUTCOMES:
                wd, ct = arm("withdrawal", w.name, m), arm("control", w.name, m)
                row[m] = {
                    "withdrawal": _ci(stats.mean_ci(wd)),
                    "control": _ci(stats.mean_ci(ct)),
                    "effect": _ci(stats.paired_diff_ci(ct, wd)),
                }
            reg["windows"][w.name] = row
        for m in OUTCOMES:
            hyst = []
            for wd_ in down:
                match = [u for u in up if u.sunk == wd_.sunk and u.name != wd_.name]
                if not match:
                    continue
                u = match[0]
                eff_down = arm("withdrawal", wd_.name, m) - arm("control", wd_.name, m)
                eff_up = arm("withdrawal", u.name, m) - arm("control", u.name, m)
                ci = stats.paired_diff_ci(eff_down, eff_up)
                hyst.append({"sunk": wd_.sunk, "down": wd_.name, "up": u.name, **_ci(ci)})
            reg["hysteresis"][m] = hyst
            if "turn" in by_path and "after" in by_path:
                reg["verdict"][m] = verdict(
                    reg["windows"][by_path["turn"].name][m]["effect"],
                    reg["windows"][by_path["after"].name][m]["effect"],
                )
        out[regime] = reg
    return out


# ----- figures ----------------------------------------------------------------------------
def plot_timelines(
    series: pd.DataFrame, wins: Sequence[Window], path: str | Path, smooth: int = 7
) -> Path:
    """Timelines of the outcomes, withdrawal arm (solid) and control (dashed) per regime,
    replicate means smoothed over ``smooth`` days; windows without every sunk cadre are
    shaded (darker: none present).

    Args:
        series: the daily table.
        wins: the windows.
        path: the PNG to write.
        smooth: days of the rolling mean.
    """
    from matplotlib.figure import Figure

    from saca.experiments.plots.style import PHASE_SHADE, regime_colour

    fig = Figure(figsize=(12, 10), layout="constrained")
    axes = fig.subplots(4, 2, sharex=True).ravel()
    regimes = list(dict.fromkeys(series["regime"]))
    mean = series.groupby(["regime", "arm", "day"])[[*OUTCOMES, "sunk_present"]].mean()
    for ax, m in zip(axes, [*OUTCOMES, "sunk_present"], strict=True):
        for w in wins:
            if w.sunk != "all":
                ax.axvspan(w.start, w.end, color="#999999" if w.sunk == "none" else "#dddddd")
            elif "emergency" in w.name:
                ax.axvspan(w.start, w.end, color=PHASE_SHADE["emergency"], alpha=0.4, hatch="//")
        for i, r in enumerate(regimes):
            c = regime_colour(r, i)
            for a, ls in (("withdrawal", "-"), ("control", "--")):
                if (r, a) not in mean.index.droplevel(2):
                    continue
                y = mean.loc[(r, a)][m]
                if m != "sunk_present":  # presence is a step, not a noisy rate
                    y = y.rolling(smooth, min_periods=1).mean()
                label = f"{r}, {a}" if m == OUTCOMES[0] else None
                ax.plot(y.index, y.to_numpy(), ls, color=c, lw=1.4, label=label)
        ax.set_title(LABELS.get(m, "Sunk cadres present (share)"), fontsize=10)
    axes[0].legend(fontsize=8)
    for ax in axes[-2:]:
        ax.set_xlabel("day (shaded: off-post cadres recalled; dark: all sunk cadres recalled)")
    fig.suptitle(f"Withdrawal experiment: replicate means, {smooth}-day rolling mean")
    fig.savefig(path, dpi=110)
    return Path(path)


def plot_hysteresis(values: pd.DataFrame, wins: Sequence[Window], path: str | Path) -> Path:
    """Each outcome's effect of the withdrawal (withdrawal − control, paired by seed, so
    the drift both arms share is gone) against sunk-cadre presence: the down path
    (solid, filled markers) and the up path (dashed, open markers), means with paired
    95% CIs, one colour per regime.

    Args:
        values: the table of :func:`window_values`.
        wins: the windows.
        path: the PNG to write.
    """
    from matplotlib.figure import Figure

    from saca.experiments.plots.style import regime_colour

    down = [w.name for w in wins if w.path in ("before", "down", "turn")]
    up = [w.name for w in wins if w.path in ("turn", "up", "after")]
    fig = Figure(figsize=(13, 7), layout="constrained")
    axes = fig.subplots(2, 4).ravel()
    v = values[values["arm"] == "withdrawal"]
    ctl = values[values["arm"] == "control"]
    regimes = list(dict.fromkeys(v["regime"]))
    for ax, m in zip(axes, OUTCOMES, strict=False):
        for i, r in enumerate(regimes):
            c = regime_colour(r, i)
            for names, ls, face, lab in ((down, "-", c, "down"), (up, "--", "white", "up")):
                pts = []
                for n in names:
                    sel = v[(v["regime"] == r) & (v["window"] == n)].sort_values("replicate")
                    base = ctl[(ctl["regime"] == r) & (ctl["window"] == n)].sort_values("replicate")
                    ci = stats.paired_diff_ci(base[m].to_numpy(float), sel[m].to_numpy(float))
                    pts.append((float(sel["sunk_present"].mean()), ci["diff"], ci["lo"], ci["hi"]))
                x, y, lo, hi = (np.array(t) for t in zip(*pts, strict=True))
                ax.errorbar(
                    x,
                    y,
                    yerr=[y - lo, hi - y],
                    fmt=ls + "o",
                    color=c,
                    mfc=face,
                    capsize=2,
                    lw=1.3,
                    label=f"{r}, {lab}" if m == OUTCOMES[0] else None,
                )
        ax.axhline(0.0, color="#888888", lw=0.8)
        ax.set_title(LABELS[m] + ": effect", fontsize=10)
        ax.set_xlabel("sunk cadres present (share)")
    axes[-1].axis("off")
    handles, labels = axes[0].get_legend_handles_labels()
    axes[-1].legend(handles, labels, loc="center", fontsize=9)
    fig.suptitle(
        "Hysteresis: effect of the withdrawal (withdrawal − control, paired) vs sunk-cadre "
        "presence; down path solid, up path dashed"
    )
    fig.savefig(path, dpi=110)
    return Path(path)


# ----- the command ------------------------------------------------------------------------
@dataclass
class Result:
    """What :func:`run_withdrawal` produced.

    Args:
        series: daily table.
        values: window table.
        analysis: the verdicts and CIs (:func:`analyse`).
        windows: the windows.
        files: files written.
    """

    series: pd.DataFrame
    values: pd.DataFrame
    analysis: dict[str, Any]
    windows: list[Window]
    files: list[Path]


def plan(
    scenario: Scenario, regimes: Mapping[str, Regime], replicates: int, seed: int
) -> list[Task]:
    """The runs: every regime, both arms, ``replicates`` seeds shared by all of them.

    Args:
        scenario: the resolved withdrawal scenario.
        regimes: label → resolved regime.
        replicates: replicates per regime and arm.
        seed: root seed; replicate r uses ``SeedSequence(seed).spawn(replicates)[r]``.
    """
    seeds = replicate_seeds(seed, replicates)
    arms = {"withdrawal": scenario, "control": control_of(scenario)}
    return [
        Task(label, a, r, seeds[r], arms[a], reg)
        for label, reg in regimes.items()
        for a in ARMS
        for r in range(replicates)
    ]


def run_withdrawal(
    scenario: Scenario,
    regimes: Mapping[str, Regime],
    replicates: int,
    seed: int,
    out: str | Path | None = None,
    *,
    tail: int = TAIL,
    workers: int = 1,
    progress: bool | None = None,
    meta: Mapping[str, Any] | None = None,
) -> Result:
    """Run the experiment, analyse it and (with ``out``) write its files.

    Args:
        scenario: the resolved scenario (its timeline must recall and return cadres).
        regimes: label → resolved regime.
        replicates: replicates per regime and arm (at least 2 for CIs).
        seed: root seed.
        out: the results directory, or None to write nothing.
        tail: days at the end of each window its value is the mean of.
        workers: worker processes (the numbers do not depend on it).
        progress: show progress.
        meta: provenance to store in ``withdrawal.json``.
    """
    wins = windows_of(scenario.situation.timeline)
    series = run_all(plan(scenario, regimes, replicates, seed), workers, progress)
    values = window_values(series, wins, tail)
    analysis = analyse(values, wins)
    files: list[Path] = []
    if out is not None:
        d = Path(out)
        d.mkdir(parents=True, exist_ok=True)
        files.append(io.write_parquet(series, d / "series.parquet"))
        files.append(io.write_parquet(values, d / "windows.parquet"))
        doc = {
            **dict(meta or {}),
            "scenario": scenario.name,
            "regimes": list(regimes),
            "replicates": replicates,
            "seed": seed,
            "tail_days": tail,
            "windows": [dataclasses.asdict(w) for w in wins],
            "results": analysis,
            **io.provenance(),
        }
        files.append(io.write_json(doc, d / "withdrawal.json"))
        files.append(plot_timelines(series, wins, d / "timelines.png"))
        files.append(plot_hysteresis(values, wins, d / "hysteresis.png"))
    return Result(series, values, analysis, wins, files)


def _pm(ci: Mapping[str, float]) -> str:
    if not np.isfinite(ci["lo"]):
        return f"{ci['mean']:+.3f}"
    return f"{ci['mean']:+.3f} [{ci['lo']:+.3f}, {ci['hi']:+.3f}]"


def format_table(res: Result) -> str:
    """The text report: per regime, each window's withdrawal-arm means and effects of the
    main outcomes, the hysteresis at each presence level, and the verdicts."""
    lines = []
    main = ("efficacy", "claim_share", "self_help_share", "trust_institution")
    for regime, reg in res.analysis.items():
        lines.append(f"{regime}: window (sunk present) | withdrawal mean, effect vs control")
        for name, row in reg["windows"].items():
            if not row["path"]:
                continue
            cells = "; ".join(
                f"{m} {row[m]['withdrawal']['mean']:.3f} ({_pm(row[m]['effect'])})" for m in main
            )
            lines.append(f"  {name} [{row['path']}] ({row['sunk_present']:.2f}): {cells}")
        for m in OUTCOMES:
            h = "; ".join(f"{x['sunk']}: up-down {_pm(x)}" for x in reg["hysteresis"][m])
            lines.append(f"  {m}: {reg['verdict'].get(m, '')}; hysteresis {h}")
        lines.append("")
    return "\n".join(lines)


def add_parser(sub: Any) -> None:
    """Add the ``withdrawal`` subcommand to the ``saca`` parser.

    Args:
        sub: the subparsers object of :func:`saca.experiments.cli.main.build_parser`.
    """
    p = sub.add_parser(
        "withdrawal",
        help="recall the sunk cadres after an emergency and bring them back: persistence "
        "and hysteresis",
        description="Run a scenario whose timeline recalls sunk cadres (sunk = in_service "
        "or none in a window) and brings them back, under each regime, beside a control arm "
        "with every cadre present (same seeds), and write DIR/series.parquet, "
        "windows.parquet, withdrawal.json, timelines.png and hysteresis.png.",
    )
    p.add_argument(
        "--scenario",
        default="withdrawal",
        metavar="NAME|FILE",
        help="scenario with a withdrawal in its timeline (default: withdrawal)",
    )
    p.add_argument(
        "--regimes",
        default="constructive,autonomous",
        help="regimes, comma-separated (default: constructive,autonomous)",
    )
    p.add_argument("--replicates", type=int, default=6, metavar="N", help="default 6")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="root seed (default 0)")
    p.add_argument(
        "--tail",
        type=int,
        default=TAIL,
        metavar="DAYS",
        help=f"a window's value is the mean of its last DAYS days (default {TAIL})",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter by dotted key (repeatable)",
    )
    p.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes")
    p.add_argument("--out", default=None, metavar="DIR", help="the results directory")
    outdir.add_force_option(p)
    p.add_argument("--json", action="store_true", help="print the analysis as one JSON object")


def command(args: argparse.Namespace) -> int:
    """Run ``saca withdrawal``.

    Args:
        args: the parsed command line.

    Returns:
        0 (input mistakes raise SacaInputError: exit 2).
    """

    problems = []
    if args.replicates < 2:
        problems.append(
            f"--replicates must be at least 2 for confidence intervals, got {args.replicates}"
        )
    if args.tail < 1:
        problems.append(f"--tail must be at least 1 day, got {args.tail}")
    if args.workers < 1:
        problems.append(f"--workers must be at least 1, got {args.workers}")
    check_seed(args.seed)
    names = [t.strip() for t in args.regimes.split(",")]
    if len(names) >= 2:
        names = console.regime_list(args.regimes)
    elif not names or not names[0]:
        problems.append("--regimes needs at least one regime, e.g. constructive,autonomous")
    if problems:
        raise SacaInputError(problems[0]) if len(problems) == 1 else _many(problems)
    overrides = console.set_overrides(args.set, args.scenario, names)
    resolved = {n: runner.resolve(args.scenario, n, overrides) for n in names}
    scenario = next(iter(resolved.values()))[0]
    wins = windows_of(scenario.situation.timeline)
    short = [w.name for w in wins if w.path and w.end - w.start < args.tail]
    if short:
        raise SacaInputError(
            f"--tail {args.tail} is longer than window {short[0]}; give at most "
            f"{min(w.end - w.start for w in wins if w.path)} days"
        )
    if args.out:
        outdir.claim(
            args.out, "withdrawal", force=args.force, log=lambda s: print(s, file=sys.stderr)
        )
    res = run_withdrawal(
        scenario,
        {n: r[2] for n, r in resolved.items()},
        args.replicates,
        args.seed,
        args.out,
        tail=args.tail,
        workers=args.workers,
        meta={"command": "saca withdrawal " + " ".join(sys.argv[2:]), "overrides": overrides},
    )
    if args.json:
        console.emit(io.dumps({"results": res.analysis, "files": [str(f) for f in res.files]}))
    else:
        text = format_table(res)
        if res.files:
            text += "wrote " + ", ".join(str(f) for f in res.files)
        console.emit(text)
    return 0


def _many(problems: Sequence[str]) -> SacaInputError:
    from saca.experiments.engine.spec import many

    return many(problems)
