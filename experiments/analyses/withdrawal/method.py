"""The withdrawal method: windows on the down and up paths, daily measures of a run, window
values, paired effects, hysteresis and verdicts. Pure: tables in, results out."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from saca.agents import needs as nd
from saca.experiments import stats
from saca.model import SacaInputError
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
MEASURES = {
    "claim_share": "Claiming share (chosen tasks)",
    "self_help_share": "Resident self-help share",
}
"""The experiment's own measures (not model metrics), with their labels."""
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
