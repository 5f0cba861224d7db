"""The Replicates page: seeds of two regimes on the sweep engine, bands, paired differences."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import solara
import solara.lab

from saca.experiments import stats
from saca.experiments.app.controls import ComparedPreset
from saca.experiments.app.state import AppModel, edits, figure_bytes, regime_label
from saca.experiments.engine.backends.base import execute
from saca.experiments.engine.plan import SweepPlan, prepare
from saca.experiments.engine.spec import parse_spec
from saca.experiments.plots.live import (
    band_figure,
)
from saca.experiments.plots.style import KEY_METRICS, label, regime_colour

REPLICATES = 5
"""Seeds per regime the Replicates page offers first."""


def replicate_plan(
    settings: Mapping[str, Any], regime: str, fixed: Mapping[str, Any], replicates: int
) -> SweepPlan:
    """A sweep plan of one regime replicated: root seed the sidebar's, so replicate ``r``
    has ``SeedSequence(seed, spawn_key=(0, r))`` under every regime (paired).

    Args:
        settings: the sidebar's settings (scenario and seed).
        regime: the regime preset.
        fixed: regime values replacing the preset's (dotted keys).
        replicates: seeds.
    """
    spec = parse_spec(
        {
            "sweep": {
                "name": "app",
                "scenario": settings["scenario_name"],
                "regimes": [regime],
                "replicates": int(replicates),
                "seed": int(settings["seed"]),
            },
            "fixed": dict(fixed),
        },
        label="app replicates",
    )
    return prepare(spec)


def run_replicates(
    settings: Mapping[str, Any],
    reference: str,
    replicates: int,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> dict[str, Any]:
    """Replicates of the sidebar's regime (edits included) and of a reference preset on
    the sweep engine, with common random numbers.

    Args:
        settings: the sidebar's settings.
        reference: the reference preset.
        replicates: seeds per regime.
        progress: called with (runs done, runs in all) after each run.

    Returns:
        ``labels`` (sidebar's, reference's), ``timeseries`` (long), ``runs`` (one row
        per run: regime, replicate and every metric over the whole run) and ``stats``
        (:func:`saca.experiments.stats.compare_stats` with the reference first).
    """
    mine = f"{settings['preset']} (modified)" if edits(settings) else settings["preset"]
    if mine == reference:
        mine = f"{mine} (sidebar)"
    jobs = [
        (mine, settings["preset"], {f"regime.{k}": v for k, v in edits(settings).items()}),
        (reference, reference, {}),
    ]
    plans = [
        (lab, replicate_plan(settings, preset, fixed, replicates)) for lab, preset, fixed in jobs
    ]
    total = sum(p.n_runs for _, p in plans)
    done = 0
    series_parts, runs = [], []
    for lab, plan in plans:
        for task in plan.tasks(timeseries=True):
            out = execute(task)
            if out.status != "ok":
                raise RuntimeError(f"run {task.id} failed: {out.error}")
            series_parts.append(out.timeseries.assign(regime=lab))
            whole = out.summary[out.summary["window"] == "all"].assign(regime=lab)
            runs.append(whole)
            done += 1
            progress(done, total)
    ts = pd.concat(series_parts, ignore_index=True)
    table = pd.concat(runs, ignore_index=True)
    return {
        "labels": (mine, reference),
        "timeseries": ts,
        "runs": table,
        "stats": stats.compare_stats(table, [reference, mine], KEY_METRICS),
        "settings": dict(settings),
        "replicates": int(replicates),
        "timeline": plans[0][1].scenario.situation.timeline,
    }


def ci_text(d: Mapping[str, float], key: str = "mean") -> str:
    """A mean (or difference) with its 95% CI, as the differences table shows it."""
    v, lo, hi = d.get(key), d.get("lo"), d.get("hi")
    if v is None or not np.isfinite(v):
        return "–"
    if lo is None or not np.isfinite(lo):
        return f"{v:.3f}"
    return f"{v:.3f} [{lo:.3f}, {hi:.3f}]"


def differences_html(result: Mapping[str, Any]) -> str:
    """The replicate table: each key metric's mean [95% CI] under both regimes and the
    paired difference (sidebar − reference) [95% CI]; ``data-metric`` on each row."""
    mine, ref = result["labels"]
    st = result["stats"]
    head = (
        f"<tr><th></th><th>{html.escape(mine)}</th><th>{html.escape(ref)}</th>"
        f"<th>difference ({html.escape(mine)} − {html.escape(ref)})</th></tr>"
    )
    rows = []
    for m in KEY_METRICS:
        d = st["differences"][mine][m]
        sig = np.isfinite(d["lo"]) and np.isfinite(d["hi"]) and (d["lo"] > 0 or d["hi"] < 0)
        style = "font-weight:bold" if sig else ""
        rows.append(
            f"<tr data-metric='{m}'><td>{label(m)}</td>"
            f"<td>{ci_text(st['regimes'][mine][m])}</td><td>{ci_text(st['regimes'][ref][m])}</td>"
            f"<td class='saca-diff' style='{style}'>{ci_text(d, 'diff')}</td></tr>"
        )
    return (
        "<table class='saca-replicate-table' style='font-size:13px;border-collapse:collapse;"
        "font-variant-numeric:tabular-nums' cellpadding='3'>"
        f"{head}{''.join(rows)}</table>"
        "<div style='font-size:12px'>Whole-run values; mean [95% Student t CI] over the seeds; "
        "difference: paired over the same seeds (bold: the CI excludes 0).</div>"
    )


def replicate_png(result: Mapping[str, Any]) -> bytes:
    """The replicate figure (:func:`saca.experiments.plots.live.band_figure`) of a
    :func:`run_replicates` result, as PNG bytes."""
    mine, ref = result["labels"]
    modified = bool(edits(result["settings"]))
    labels = [
        (mine, regime_colour(result["settings"]["preset"], 0, modified)),
        (ref, regime_colour(ref, 1)),
    ]
    fig = band_figure(result["timeseries"], labels, result["timeline"])
    return figure_bytes(fig, "png")


@solara.component
def Replicates(model: AppModel, reference: solara.Reactive[str]) -> None:
    """The Replicates page: N seeds of the sidebar's regime and the compared preset, run
    in the background on the sweep engine, drawn as mean ± 95% band with the paired
    differences of the key metrics."""
    n, set_n = solara.use_state(REPLICATES)
    progress, set_progress = solara.use_state((0, 0))
    settings = model.settings

    def work() -> dict[str, Any]:
        return run_replicates(settings, reference.value, n, lambda d, t: set_progress((d, t)))

    task = solara.lab.use_task(work, dependencies=None, prefer_threaded=True)
    drawn = solara.use_ref((None, b""))
    with solara.Column(style={"padding": "4px 8px", "gap": "6px"}):
        solara.Text(
            f"Runs the sidebar's regime ({regime_label(model)}, edits included) and the "
            f"preset {reference.value} (chosen on Compare) on scenario {model.scenario_name} "
            f"for its whole timeline, seeds SeedSequence({model.seed}, spawn_key=(0, r)) "
            "shared by both regimes (paired).",
            classes=["saca-replicate-intro"],
        )
        with solara.Row(style={"align-items": "center"}):
            solara.InputInt(
                "seeds per regime",
                value=n,
                on_value=lambda v: v is not None and 2 <= v <= 200 and set_n(int(v)),
                style={"max-width": "160px"},
                classes=["saca-replicate-n"],
            )
            solara.Button(
                f"Run {n} seeds",
                on_click=lambda: (set_progress((0, 2 * n)), task()),
                disabled=task.pending,
                color="primary",
            )
            ComparedPreset(reference)
        if task.pending:
            done, total = progress
            solara.ProgressLinear(100 * done / max(total, 1))
            solara.Text(f"{done} of {total} runs done", classes=["saca-replicate-progress"])
        elif task.error:
            solara.Error(f"replicates failed: {task.exception}")
        elif task.finished and task.value is not None:
            result = task.value
            if drawn.current[0] is not result:  # draw once per result, not per render
                drawn.current = (result, replicate_png(result))
            png = drawn.current[1]
            solara.Image(png, classes=["saca-band"], width="100%")
            solara.HTML(tag="div", unsafe_innerHTML=differences_html(result))
            solara.FileDownload(
                lambda: result["runs"].to_csv(index=False),
                filename=f"saca-replicates-{result['replicates']}-seeds.csv",
                label="Download the runs (CSV)",
            )
