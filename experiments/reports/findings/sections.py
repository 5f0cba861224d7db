"""Sections on the dials and the situation: sensitivity, maps, discovery, the dial contrasts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from saca.experiments import stats
from saca.experiments.plots.style import label
from saca.experiments.reports.findings.run import OUTCOMES, PAPERWORK
from saca.experiments.reports.findings.text import (
    and_list,
    fmt_num,
    md_table,
    ranked_factors,
    short_key,
    spec_name,
)


def sensitivity_section(data: Mapping[str, Any], rel: str) -> tuple[list[str], list[str]]:
    """The dials ranked per outcome (Sobol ST or Morris mu*); and the answer's sentences.

    Args:
        data: ``indices.json``.
        rel: the analysis folder, relative to the report.
    """
    idx = pd.DataFrame(data["indices"])
    sobol = data["method"] == "sobol"
    conv = pd.DataFrame(data["convergence"]["per_output"]).set_index("output")
    size = (
        f"Sobol base sample N = {data['samples']}"
        if sobol
        else f"{data['samples']} Morris trajectories on {data['levels']} levels"
    )
    lines = [
        f"Spec `{spec_name(data['spec_file'])}` (hash `{data['spec_hash'][:12]}`, seed "
        f"{data['seed']}): the six dials varied over [0, 1] on the "
        f"{', '.join(data['regimes'])} regime's switches, {data['scenario']} scenario, "
        f"{size}: {data['design_points']} design points × {data['replicates']} replicates = "
        f"{data['runs']['total']} runs of {data['steps']} days ({data['runs']['failed']} "
        "failed). Each output is averaged over the replicates of a design point. "
        + (
            "ST is the total-order index (the share of the output's variance a dial accounts "
            "for, alone and through its interactions), S1 the first-order (alone); "
            if sobol
            else "mu* is the mean absolute change of the output when the dial moves across "
            "its whole range, sigma the spread of that change (interactions, nonlinearity); "
        )
        + f"± is the 95% bootstrap half-width. Files: `{rel}/indices.parquet`, "
        f"`{rel}/indices.json`.",
        "",
    ]
    answer: list[str] = []
    for output in [o for o in OUTCOMES if o in set(idx["output"])]:
        part, key, conf = ranked_factors(data, output)
        if sobol:
            header = ["rank", "dial", "ST", "S1"]
            rows = [
                [
                    str(i + 1),
                    short_key(r.parameter),
                    f"{r.ST:.2f} ± {r.ST_conf:.2f}",
                    f"{r.S1:.2f} ± {r.S1_conf:.2f}",
                ]
                for i, r in enumerate(part.itertuples())
            ]
        else:
            header = ["rank", "dial", "mu*", "mu", "sigma"]
            rows = [
                [
                    str(i + 1),
                    short_key(r.parameter),
                    f"{r.mu_star:.3f} ± {r.mu_star_conf:.3f}",
                    f"{r.mu:+.3f}",
                    f"{r.sigma:.3f}",
                ]
                for i, r in enumerate(part.itertuples())
            ]
        c = conv.loc[output]
        verdict = (
            "converged"
            if c["converged"]
            else (
                f"not converged (widest CI ±{c['ci_width']:.2f}; recommended samples "
                f"{int(c['recommended_samples'])})"
            )
        )
        lines += [
            f"**{label(output)}** (`{output}`): {verdict}; replicate noise "
            f"{c['noise_share']:.0%} of the variance.",
            "",
        ]
        lines += md_table(header, rows)
        lines += [
            "",
            f"![{data['method']} indices of {output}]({rel}/sensitivity_{output}.png)",
            "",
        ]
        group = leading_dials(data, output)
        index = "ST" if sobol else "mu*"
        first = part.iloc[0]
        answer.append(
            f"{label(output)} depends most on **{and_list(group)}** "
            f"({index} of {short_key(first.parameter)} {first[key]:.2f} ± {first[conf]:.2f}; "
            f"least: {short_key(part.iloc[-1].parameter)} {part.iloc[-1][key]:.2f}) "
            f"[{rel}]"
        )
    for w in data.get("warnings", []):
        lines += [f"> {w}", ""]
    return lines, answer


def _tie_text(cells: pd.DataFrame, regimes: Sequence[str]) -> str:
    """What the no-clear-winner cells are: which regimes tie, which is clearly below."""
    ties = cells[~cells["clear"]]
    if ties.empty:
        return ""
    pairs = ties.apply(lambda r: " ≈ ".join(sorted([str(r["best"]), str(r["runner_up"])])), axis=1)
    parts = [f"{n} × {pair}" for pair, n in pairs.value_counts().items()]
    return "ties: " + ", ".join(parts)


def equity_lines(cells: pd.DataFrame, regimes: Sequence[str]) -> tuple[list[str], list[str]]:
    """Equity beside efficacy in a map: per regime, mean over the cells of its efficacy,
    its spread between communities and its worst decile's efficacy, and the cells where
    it wins the mean but loses the worst-off; and the answer's sentence when any does.

    Args:
        cells: the map's cells (``map.json``'s ``cells``).
        regimes: regime labels in order.
    """
    eff = cells[cells["metric"] == stats.MEAN_METRIC] if "metric" in cells else cells.iloc[:0]
    cols = [f"{r}_{t}" for r in regimes for t in ("sd", "worst")]
    if eff.empty or any(c not in eff for c in cols) or eff[cols].isna().all().all():
        return [
            "Equity beside efficacy (spread between communities, worst decile): not in these "
            "stored runs, made before `efficacy_worst_decile` existed; rerunning the map "
            "adds it.",
        ], []
    flagged = eff["worst_off"].dropna() if "worst_off" in eff else pd.Series(dtype=object)
    rows = []
    for r in regimes:
        mine = sum(1 for t in flagged if str(t).startswith(f"{r} {stats.WORST_OFF}"))
        rows.append(
            [
                r,
                fmt_num(eff[f"{r}_mean"].mean()),
                fmt_num(eff[f"{r}_sd"].mean()),
                fmt_num(eff[f"{r}_worst"].mean()),
                str(mine),
            ]
        )
    lines = [
        f"Equity beside efficacy, averaged over the {len(eff)} cells (a regime *{stats.WORST_OFF}* "
        "in a cell when its paired 95% CI is above another regime's on efficacy and below it "
        "on the worst decile's efficacy):",
        "",
        *md_table(
            ["regime", "efficacy", "sd between communities", "worst decile", stats.WORST_OFF],
            rows,
        ),
    ]
    answer = []
    if len(flagged):
        answer.append(
            f"Equity: in {len(flagged)} of {len(eff)} cells a regime {stats.WORST_OFF} ("
            + "; ".join(dict.fromkeys(str(t) for t in flagged))
            + ")"
        )
    return lines, answer


def map_section(data: Mapping[str, Any], rel: str) -> tuple[list[str], list[str]]:
    """The regime map's tallies, figure and Pareto fronts; and the answer's sentences.

    Args:
        data: ``map.json``.
        rel: the analysis folder, relative to the report.
    """
    regimes = data["regimes"]
    x, y = data["x"]["key"], data["y"]["key"]
    cells = pd.DataFrame(data["cells"])
    n_cells = len(cells) // max(1, len(data["metrics"]))
    lines = [
        f"Spec `{spec_name(data['spec_file'])}` (seed {data['seed']}): {data['scenario']} "
        f"scenario, `{x}` × `{y}` ({n_cells} cells), {', '.join(regimes)}, "
        f"{data['replicates']} paired replicates per cell, {data['steps']}-day runs, window "
        f"{data['window']}. A cell names a winner only when the winner's paired 95% CI "
        "against every other regime excludes 0; otherwise it is *no clear winner* (the "
        f"tie is named). Files: `{rel}/map.parquet`, `{rel}/map.json`.",
        "",
    ]
    rows = []
    answer = []
    for metric, m in data["metrics"].items():
        wins = m["wins"]
        part = cells[cells["metric"] == metric]
        tie = _tie_text(part, regimes)
        rows.append(
            [label(metric)]
            + [str(wins.get(r, 0)) for r in regimes]
            + [f"{m['no_clear_winner']}{f' ({tie})' if tie else ''}"]
        )
        ranked = sorted(regimes, key=lambda r: -wins.get(r, 0))
        answer.append(
            f"{label(metric)}: "
            + ", ".join(f"{r} wins {wins.get(r, 0)}" for r in ranked)
            + f" of {n_cells} cells; no clear winner in {m['no_clear_winner']}"
            + (f" ({tie})" if tie else "")
        )
    lines += md_table(["metric", *regimes, "no clear winner"], rows)
    eq_lines, eq_answer = equity_lines(cells, regimes)
    lines += ["", *eq_lines]
    answer += eq_answer
    lines += ["", f"![Regime map]({rel}/map.png)", ""]
    pareto = data["pareto"]
    fronts = pareto["fronts"]
    points = pd.DataFrame(pareto["points"])
    group_text = {
        "map": "the regimes averaged over the map's cells",
        "dials": f"{pareto['pareto_samples']} dial settings (Latin hypercube, "
        f"{regimes[0]}'s switches) and the regimes at the scenario's own situation",
    }
    lines.append(
        "Pareto fronts (non-dominated points: efficacy up and burnout down; efficacy and "
        "institutional trust up):"
    )
    front_sentences = []
    for group, f in fronts.items():
        for name, members in f.items():
            shown = points[(points["group"] == group) & points["label"].isin(members)]
            desc = "; ".join(
                f"{r.label} (efficacy {r.efficacy:.2f}, burnout {r.burnout_mean:.2f}, "
                f"trust {r.trust_institution:.2f})"
                for r in shown.itertuples()
            )
            lines.append(f"- {group_text.get(group, group)}, efficacy vs {name}: {desc}")
            if group == "dials" and name == "burnout":
                front_sentences.append(f"on the efficacy–burnout front: {', '.join(members)}")
    if (points["group"] == "map").any() or len(points):
        lines += ["", f"![Pareto fronts]({rel}/pareto.png)", ""]
    if front_sentences:
        answer.append(
            f"Pareto ({data['scenario']}, {regimes[0]}'s switches): " + "; ".join(front_sentences)
        )
    return lines, [f"{a} [{rel}]" for a in answer]


def discovery_section(data: Mapping[str, Any], rel: str) -> tuple[list[str], list[str]]:
    """The PRIM boxes; and the answer's sentences.

    Args:
        data: ``boxes.json``.
        rel: the analysis folder, relative to the report.
    """
    summary = str(data.get("summary") or "")
    params = ", ".join(f"`{p}`" for p in data.get("parameters", []))
    lines = [
        f"Source: `{spec_name(data.get('source'))}` (stored runs in "
        f"`findings/discovery/runs`): an LHS over {params}. Per design point, the paired "
        f"difference {data['regime']} − {data['reference']} of `{data['metric']}` (mean over "
        f"replicates, which share seeds); a *case* is a difference above {data['margin']}. "
        f"PRIM (EMA Workbench) peels the situation space toward the cases; the box kept is "
        f"the one of highest coverage with density ≥ {data['threshold']}. Files: "
        f"`{rel}/boxes.json`, `{rel}/boxes.parquet`, `{rel}/points.parquet`.",
        "",
        "```",
        summary,
        "```",
        "",
        f"![PRIM peeling trajectory]({rel}/trajectory.png)",
        "",
        f"![Boxes]({rel}/boxes.png)",
        "",
    ]
    said = [f"{line} [{rel}]" for line in summary.splitlines() if line.strip()]
    return lines, said


def leading_dials(data: Mapping[str, Any], output: str) -> list[str]:
    """The dials an analysis cannot tell apart from the most influential one on an output.

    They are the dials whose index (Sobol ST or Morris mu*) plus its 95% half-width reaches
    the top dial's index minus its half-width.

    Args:
        data: ``indices.json``.
        output: the output metric.
    """
    part, key, conf = ranked_factors(data, output)
    if part.empty:
        return []
    floor = part[key].iloc[0] - part[conf].iloc[0]
    return [
        short_key(r.parameter)
        for r in part.itertuples()
        if getattr(r, key) + getattr(r, conf) >= floor
    ]


def ranking(data: Mapping[str, Any], output: str, top: int = 3) -> str:
    """The ``top`` most influential dials on an output, e.g. ``control 0.61 ± 0.12 > ...``.

    Args:
        data: ``indices.json``.
        output: the output metric.
        top: how many dials.
    """
    part, key, conf = ranked_factors(data, output)
    part = part.head(top)
    text = ""
    prev: Any = None
    for r in part.itertuples():
        v, c = getattr(r, key), getattr(r, conf)
        if prev is not None:
            text += " > " if v + c < prev[0] - prev[1] else " ≈ "
        text += f"{short_key(r.parameter)} {v:.2f} ± {c:.2f}"
        prev = (v, c)
    return text


def dials_section(
    data: Mapping[str, Any], rel: str, rel_root: Path | None = None
) -> tuple[list[str], list[str]]:
    """Each dial moved from 0 to 1: the outcomes better and worse at its autonomous end.

    Args:
        data: ``contrasts.json`` of :mod:`saca.experiments.analyses.dials`.
        rel: its folder, relative to the report.
        rel_root: the folder itself, to read the paperwork-free control contrast.
    """
    st = data["settings"]
    table = pd.DataFrame(data["rows"])
    lines = [
        f"Each dial moved from 0 (constructive) to 1 (autonomous) from the {st['base']} "
        f"regime, every other dial and switch kept, in the {st['scenario']} scenario "
        f"({st['days']} days), {st['replicates']} replicates paired by seed (root seed "
        f"{st['seed']}): the paired difference *at 1 minus at 0* with its 95% CI. An "
        "outcome is better or worse at the autonomous end only when its CI excludes 0. "
        f"Files: `{rel}/contrasts.json`, `{rel}/contrasts.csv`.",
        "",
    ]
    rows, one_sided = [], []
    for dial in dict.fromkeys(table["dial"]):
        part = table[table["dial"] == dial]

        def listed(verdict: str, part: pd.DataFrame = part) -> str:
            sel = part[part["verdict"] == verdict]
            return (
                "; ".join(
                    f"{label(r.metric).lower()} {r.diff:+.3g} [{r.lo:+.3g}, {r.hi:+.3g}]"
                    for r in sel.itertuples()
                )
                or "—"
            )

        both = {"better", "worse"} <= set(part["verdict"])
        if not both:
            one_sided.append(dial)
        rows.append([f"`{dial}`", listed("better"), listed("worse"), "yes" if both else "no"])
    lines += md_table(["dial", "better at 1", "worse at 1", "two-sided"], rows)
    if "worst_off" in data:  # contrasts stored before the worst decile existed have none
        flagged = [f"`{d}`: {'; '.join(t)}" for d, t in data["worst_off"].items()]
        lines += [
            "",
            f"Equity: a dial end that {stats.WORST_OFF} (paired 95% CIs on efficacy and on "
            "the worst decile's efficacy): " + ("; ".join(flagged) or "none") + ".",
        ]
    free_path = Path(rel_root) / "control_without_paperwork.json" if rel_root else None
    if free_path is not None and free_path.is_file():
        free = json.loads(free_path.read_text())
        ft = pd.DataFrame(free["rows"])
        verdicts = {
            v: "; ".join(
                f"{label(r.metric).lower()} {r.diff:+.3g} [{r.lo:+.3g}, {r.hi:+.3g}]"
                for r in ft[ft["verdict"] == v].itertuples()
            )
            or "—"
            for v in ("better", "worse")
        }
        lines += [
            "",
            f"The same contrast of `control` with `{PAPERWORK}` = 0 (inspection without its "
            "paperwork; everything else as above): better at 1: "
            f"{verdicts['better']}; worse at 1: {verdicts['worse']}. "
            + _paperwork_verdict(table, ft),
        ]
    if one_sided:
        parts = []
        for dial in one_sided:
            got = set(table.loc[table["dial"] == dial, "verdict"]) - {"no clear difference"}
            side = "only better" if got == {"better"} else "only worse" if got else "no different"
            parts.append(f"{dial} makes outcomes {side}")
        said = [
            f"**Each dial's two sides**: moved from 0 to 1 from the {st['base']} regime in the "
            f"{st['scenario']}, every dial but {and_list(one_sided)} makes at least one outcome "
            f"clearly better and one clearly worse; at these defaults {and_list(parts)} (table "
            "below)."
        ]
    else:
        said = [
            "**Each dial's two sides**: every dial, moved from 0 to 1 from the "
            f"{st['base']} regime in the {st['scenario']}, makes at least one outcome "
            "clearly better and at least one clearly worse (table below)."
        ]
    return lines, said


def _paperwork_verdict(table: pd.DataFrame, free: pd.DataFrame) -> str:
    """Whether the control dial's efficacy verdict hinges on the paperwork constant.

    Args:
        table: the dial contrasts at the defaults.
        free: the control contrast with no inspection paperwork.
    """

    def efficacy(t: pd.DataFrame) -> str:
        row = t[(t["dial"] == "control") & (t["metric"] == "efficacy")]
        return str(row["verdict"].iloc[0]) if len(row) else "not measured"

    at_default, without = efficacy(table), efficacy(free)
    if at_default == without:
        return (
            f"Efficacy is *{at_default}* at the outcome-evaluation end with and without the "
            "paperwork: that verdict does not hinge on the constant."
        )
    return (
        f"Efficacy is *{at_default}* at the outcome-evaluation end at the default paperwork "
        f"but *{without}* without it: whether inspection or outcome evaluation wins on "
        "efficacy is decided by that declared constant (an assumption of seed 001's "
        "magnitude), not by the mechanisms alone."
    )
