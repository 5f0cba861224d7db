"""Sections on what a district can do, and for whom: best dial mix, withdrawal, equity."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from saca.experiments.plots.style import label
from saca.experiments.reports.findings.sections import equity_lines
from saca.experiments.reports.findings.text import (
    and_list,
    ci_text,
    fmt_num,
    md_table,
    short_key,
    spec_name,
)

WITHDRAWAL_METRICS = ("efficacy", "claim_share", "self_help_share", "trust_institution")
"""The withdrawal section's outcomes: efficacy and the signs of self-organisation."""


WITHDRAWAL_PATH = ("before", "down", "turn", "up", "after", "later")
"""The withdrawal timeline's windows, by their ``path`` label in ``withdrawal.json``."""


def mix_resolution(folder: Path | None, top: int) -> float | None:
    """The autonomy-index resolution of a best-mix search: the spread of the autonomy index
    over a cell's searched mixes, over the square root of the top-k (the standard error of
    a top-k mean of mixes picked at random), averaged over the cells.

    Args:
        folder: the best-mix folder (its ``candidates.parquet``).
        top: the k of the top-k.
    """
    path = folder / "candidates.parquet" if folder else None
    if path is None or not path.is_file():
        return None
    cand = pd.read_parquet(path)
    if "autonomy" not in cand:
        return None
    return float(cand.groupby("cell")["autonomy"].std().mean()) / max(1, top) ** 0.5


def best_mix_section(
    data: Mapping[str, Any], rel: str, folder: Path | None = None
) -> tuple[list[str], list[str]]:
    """The best mix per cell, its lean, the fronts' sizes and the trends along the axes.

    Args:
        data: ``best_mix.json``.
        rel: the analysis folder, relative to the report.
        folder: the analysis folder itself (for the searched mixes' spread).
    """
    st = data["settings"]
    axes = list(st["axes"])
    best = pd.DataFrame(data["best"])
    dials = [c for c in best.columns if c.startswith("regime.") and c != "regime.task_force"]
    obj = str(st["objective"]).lstrip("-")
    lines = [
        f"Spec `{spec_name(data['spec'])}` (hash `{data['spec_hash'][:12]}`, seed "
        f"{data['seed']}): in each of {len(best)} cells of "
        f"{' × '.join(f'`{x}`' for x in axes)}, {data['mixes_per_cell']} mixes (a Latin "
        f"hypercube of {and_list([short_key(d) for d in dials])}, with and without "
        f"{and_list([short_key(x) for x in st['switches']])}) in the {st['window']} window. "
        "The best "
        f"mix maximises {obj}; its lead over the runner-up is a paired 95% CI. The *autonomy "
        "index* is the mean of the six dials (0 all constructive, 1 all autonomous), of the "
        f"best mix and of the top {st['top']}. Files: `{rel}/best_mix.json`, "
        f"`{rel}/best.parquet`, `{rel}/candidates.parquet`.",
        "",
    ]
    rows = []
    for r in best.to_dict("records"):
        lean = "autonomous" if r["autonomy"] > 0.5 else "constructive"
        rows.append(
            [
                *(fmt_num(r[x]) for x in axes),
                str(r["switches"]),
                " ".join(f"{short_key(d)} {r[d]:.2f}" for d in dials),
                f"{r[obj]:.3f} [{r[f'{obj}_lo']:.3f}, {r[f'{obj}_hi']:.3f}]",
                f"{r['vs_runner_up']:+.3f} [{r['vs_runner_up_lo']:+.3f}, "
                f"{r['vs_runner_up_hi']:+.3f}]",
                f"{r['autonomy']:.2f} ({lean}); top {r['top_autonomy']:.2f}",
                f"{r['front_burnout']} / {r['front_equity']}",
            ]
        )
    lines += md_table(
        [
            *[short_key(x) for x in axes],
            "switches",
            "best mix (dials)",
            f"{obj} [95% CI]",
            "lead over runner-up",
            "autonomy index",
            "front sizes (burnout / equity)",
        ],
        rows,
    )
    same = len(best[dials].round(6).drop_duplicates()) == 1
    clear = int(((best["vs_runner_up_lo"] > 0) | (best["vs_runner_up_hi"] < 0)).sum())
    lines += [
        "",
        f"{'The same mix is best in every cell' if same else 'The best mix differs between cells'}"
        f"; its lead over the runner-up is clear (CI excludes 0) in {clear} of {len(best)} "
        "cells, so elsewhere the runner-up does as well.",
        "",
    ]
    res = mix_resolution(folder, int(st["top"]))
    said: list[str] = []
    moves: list[str] = []
    for axis in axes:
        slope = float(data["trends"][axis]["autonomy"])
        lo, hi = (float(v) for v in st["axes"][axis][:: len(st["axes"][axis]) - 1])
        change = slope * (hi - lo)
        levels = len(st["axes"][axis])
        if res is not None and abs(change) < 2 * res:
            verdict = (
                f"too small to tell: the top-{st['top']} autonomy index changes {change:+.2f} "
                f"from {short_key(axis)} {lo:g} to {hi:g}, within twice the search's resolution "
                f"(±{res:.2f}; {data['mixes_per_cell']} mixes per cell, {levels} levels)"
            )
        else:
            toward = "autonomy" if change > 0 else "construction"
            verdict = (
                f"toward {toward}: the top-{st['top']} autonomy index changes {change:+.2f} "
                f"from {short_key(axis)} {lo:g} to {hi:g} ({levels} levels, no CI on the slope)"
            )
        lines.append(f"- Along `{axis}`: {verdict}.")
        said.append(f"{short_key(axis)}: {verdict}")
        moves.append(f"along {short_key(axis)}, {verdict.split(':')[0]}")
    lines += ["", f"![Best mix per cell]({rel}/best_mix.png)", "", f"![Fronts]({rel}/fronts.png)"]
    lines.append("")
    leans = best["autonomy"].gt(0.5).map({True: "autonomous", False: "constructive"})
    lines[:0] = [
        f"In plain words: the best mix found leans {and_list(sorted(set(leans)))} in "
        f"{'every cell' if len(set(leans)) == 1 else 'different cells'}; whether it moves "
        "toward construction or autonomy as the situation changes: " + "; ".join(moves) + ".",
        "",
    ]
    answer = [
        f"Best mix ({len(best)} cells, {data['mixes_per_cell']} mixes each"
        f"{'; the same mix in every cell' if same else ''}; clear lead over the runner-up in "
        f"{clear}): the best mix leans {and_list(sorted(set(leans)))} (autonomy index "
        f"{best['autonomy'].min():.2f}–{best['autonomy'].max():.2f}; best {obj} "
        f"{best[obj].min():.2f}–{best[obj].max():.2f}); as the situation changes — "
        + "; ".join(said)
        + f" [{rel}]"
    ]
    return lines, answer


def window_of(res: Mapping[str, Any], path: str) -> Mapping[str, Any] | None:
    """A regime's window by its ``path`` label (before, down, turn, up, after, later)."""
    return next((w for w in res["windows"].values() if w.get("path") == path), None)


def withdrawal_section(
    data: Mapping[str, Any], rel: str, folder: Path | None = None
) -> tuple[list[str], list[str]]:
    """What withdrawing the sunk cadres and bringing them back does, per regime.

    Args:
        data: ``withdrawal.json``.
        rel: the analysis folder, relative to the report.
        folder: unused; sections share one signature.
    """
    del folder
    wins = [w for w in data["windows"] if w.get("path")]
    timeline = ", ".join(
        f"{w['path']} (days {w['start']}–{w['end']}, sunk cadres: {w['sunk']})" for w in wins
    )
    lines = [
        f"Seed {data['seed']}, {data['replicates']} replicates per arm, regimes "
        f"{and_list(list(data['regimes']))}: the {data['scenario']} scenario's emergency, then "
        f"the sunk cadres withdrawn in steps and brought back: {timeline}. Each window's "
        "value is the mean of its last "
        f"{data['tail_days']} days; the *effect* is the paired difference from a control arm "
        "with every cadre present (same seeds), with its 95% CI. *Hysteresis* compares the "
        "way back with the way down at the same presence (up − down, and after − before). "
        f"Files: `{rel}/withdrawal.json`, `{rel}/windows.parquet`, `{rel}/series.parquet`.",
        "",
    ]
    answer = []
    for regime in data["regimes"]:
        res = data["results"][regime]
        rows = []
        hyst_any = []
        for metric in WITHDRAWAL_METRICS:
            before = window_of(res, "before")
            if before is None or metric not in before:
                continue
            effects = []
            for path in ("down", "turn", "up", "after"):
                w = window_of(res, path)
                effects.append(ci_text(w[metric]["effect"], 2, True) if w else "—")
            hyst = res.get("hysteresis", {}).get(metric, [])
            h_text = "; ".join(f"{h['sunk']}: {ci_text(h, 3, True)}" for h in hyst) or "—"
            if any(h["lo"] > 0 or h["hi"] < 0 for h in hyst):
                hyst_any.append(label(metric).lower())
            zero = before[metric]["withdrawal"]["hi"] <= 0  # e.g. no claiming at all
            rows.append(
                [
                    label(metric) + (" (none in this regime)" if zero else ""),
                    ci_text(before[metric]["withdrawal"]),
                    *effects,
                    h_text,
                    res["verdict"].get(metric, ""),
                ]
            )
        lines += [f"**{regime}**", ""]
        lines += md_table(
            [
                "metric",
                "before (value)",
                "effect down",
                "effect none present",
                "effect up",
                "effect after",
                "hysteresis (way back − way down)",
                "verdict",
            ],
            rows,
        )
        lines.append("")
        turn = window_of(res, "turn")
        eff = turn["efficacy"]["effect"] if turn and "efficacy" in turn else None
        verdicts = "; ".join(
            f"{label(m).lower()} {res['verdict'][m]}"
            for m in WITHDRAWAL_METRICS
            if m in res["verdict"]
        )
        answer.append(
            f"Withdrawal under {regime}: {verdicts}"
            + (f" (efficacy with no sunk cadre present {ci_text(eff, 2, True)})" if eff else "")
            + (
                f"; the way back differs from the way down on {and_list(hyst_any)}"
                if hyst_any
                else "; the way back equals the way down within the CIs"
            )
            + f" [{rel}]"
        )
    plain = "; ".join(
        f"under {r}, efficacy {data['results'][r]['verdict'].get('efficacy', '?')}"
        for r in data["regimes"]
    )
    lines[:0] = [f"In plain words, when the sunk cadres are withdrawn: {plain}.", ""]
    lines += [
        f"![Timelines]({rel}/timelines.png)",
        "",
        f"![Hysteresis]({rel}/hysteresis.png)",
        "",
    ]
    return lines, answer


def equity_section(
    loaded: Mapping[str, Mapping[str, Any]], out: Path
) -> tuple[list[str], list[str]]:
    """Where a regime or a dial end wins the mean but loses the worst-off, from the maps
    and the dial contrasts; and the answer's sentence.

    Args:
        loaded: analysis name → its summary JSON (analyses not run are absent).
        out: the report's folder (for the dial contrasts).
    """
    lines = [
        "A regime *wins the mean but loses the worst-off* when its paired 95% CI is above "
        "another's on efficacy and below it on the worst decile of communities' efficacy.",
        "",
    ]
    flagged: list[str] = []
    missing: list[str] = []
    checked: list[str] = []
    for name, d in loaded.items():
        if not name.startswith("map_"):
            continue
        cells = pd.DataFrame(d["cells"])
        eq, said = equity_lines(cells, d["regimes"])
        if not said and len(eq) == 1:
            missing.append(f"`findings/{name}`")
            continue
        checked.append(name)
        flagged += [f"{s} [findings/{name}]" for s in said]
        lines += [f"- `findings/{name}`: " + (said[0] if said else "no such cell.")]
    contrasts = out / "findings" / "dials" / "contrasts.json"
    if contrasts.is_file():
        c = json.loads(contrasts.read_text())
        if "worst_off" not in c:
            missing.append("`findings/dials`")
        else:
            checked.append("dials")
            got = [f"`{d}`: {'; '.join(t)}" for d, t in c["worst_off"].items()]
            flagged += [f"dial end {g} [findings/dials]" for g in got]
            lines.append("- `findings/dials`: " + ("; ".join(got) or "no dial end."))
    if missing:
        lines.append(
            f"- {and_list(missing)}: the stored runs predate `efficacy_worst_decile`, so they "
            "cannot say; rerunning them "
            "(`python -m saca.experiments.reports.findings --only NAME`) adds it."
        )
    lines.append("")
    if flagged:
        answer = [f"Equity: {'; '.join(flagged)}"]
    elif not checked:
        answer = [
            "Equity: no stored map or dial contrast records the worst decile yet, so none "
            "can show a regime that wins the mean but loses the worst-off [findings]"
        ]
    else:
        answer = ["Equity: no regime or dial end wins the mean but loses the worst-off [findings]"]
    return lines, answer
