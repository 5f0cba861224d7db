"""FINDINGS.md assembled from every analysis's stored results: the brief, the sections, limits."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from saca.experiments.engine import io
from saca.experiments.plots.style import label
from saca.experiments.reports.findings.policy import (
    best_mix_section,
    equity_section,
    mix_resolution,
    window_of,
    withdrawal_section,
)
from saca.experiments.reports.findings.run import (
    ANALYSES,
    OUTCOMES,
    minutes_text,
    read_timings,
    rel_path,
    run_analyses,
    stored_compute,
)
from saca.experiments.reports.findings.sections import (
    dials_section,
    discovery_section,
    map_section,
    ranking,
    sensitivity_section,
)
from saca.experiments.reports.findings.text import (
    and_list,
    ci_text,
    commit_of,
    load_result,
    md_table,
    ranked_factors,
    short_key,
)
from saca.experiments.reports.findings.uncertainty import (
    constants_limit,
    constants_section,
    uncertainty_section,
)


def brief(loaded: Mapping[str, Mapping[str, Any]], out: Path) -> list[str]:
    """The plain-language answer to the research question, from the analyses' numbers.

    Args:
        loaded: analysis name → its summary JSON (analyses not run are absent).
        out: the report's folder (for ``points.parquet`` of the discovery).
    """
    said: list[str] = []
    totals: dict[tuple[str, str], tuple[dict[str, int], int, int]] = {}
    maps = [d for n, d in loaded.items() if n.startswith("map_")]
    for scenario in dict.fromkeys(d["scenario"] for d in maps):
        group = [d for d in maps if d["scenario"] == scenario]
        cells = sum(len(d["cells"]) // max(1, len(d["metrics"])) for d in group)
        parts = []
        for metric in dict.fromkeys(m for d in group for m in d["metrics"]):
            wins: dict[str, int] = {}
            ties = 0
            for d in group:
                m = d["metrics"].get(metric)
                if m is None:
                    continue
                ties += m["no_clear_winner"]
                for r, n in m["wins"].items():
                    wins[r] = wins.get(r, 0) + n
            n_cells = sum(
                len(d["cells"]) // max(1, len(d["metrics"]))
                for d in group
                if metric in d["metrics"]
            )
            totals[(scenario, metric)] = (wins, n_cells, ties)
            lead = max(wins, key=wins.__getitem__)
            if not wins[lead]:
                parts.append(f"{label(metric).lower()}: no clear winner in any cell")
                continue
            others = ", ".join(f"{r} {n}" for r, n in wins.items() if r != lead)
            parts.append(
                f"{label(metric).lower()}: {lead} {wins[lead]} of {n_cells} cells "
                f"({others}; no clear winner {ties})"
            )
        names = " and ".join(f"{d['x']['key']} × {d['y']['key']}" for d in group)
        said.append(
            f"**{scenario.capitalize()} scenario** ({cells} map cells over {names}; a cell "
            f"counts only when its paired 95% CIs separate the regimes) — clear winners by "
            f"outcome: {'; '.join(parts)}."
        )
    disc = loaded.get("discovery")
    points = out / "findings" / "discovery" / "points.parquet"
    if disc is not None and points.is_file():
        diff = pd.read_parquet(points)["diff"]
        sentence = (
            f"**Over {len(diff)} sampled emergency situations** ("
            f"{', '.join(short_key(p) for p in disc['parameters'])}), {disc['regime']} beats "
            f"{disc['reference']} on {disc['metric']} in {disc['base_rate']:.0%} of them; the "
            f"lead runs from {diff.min():.2f} to {diff.max():.2f} (median {diff.median():.2f})."
        )
        large = loaded.get("discovery_large_lead")
        if large is not None and large.get("boxes"):
            b = large["boxes"][0]
            sentence += (
                f" It exceeds {large['margin']} in {large['base_rate']:.0%} of the situations, "
                f"concentrated in the box *{b['rule']}* (coverage {b['coverage']:.2f}, "
                f"density {b['density']:.2f}, mass {b['mass']:.2f})."
            )
        said.append(sentence)
    sens = loaded.get("sensitivity")
    if sens is not None:
        through = [f"{label(o).lower()}: {ranking(sens, o)}" for o in OUTCOMES if ranking(sens, o)]
        idx = pd.DataFrame(sens["indices"])
        mean_st = idx.groupby("parameter")["ST"].mean().sort_values()
        low = [short_key(p) for p in mean_st.index[:2]]
        said.append(
            f"**Through which elements** (Sobol total-order index ST of the six dials on the "
            f"{', '.join(sens['regimes'])} regime's switches, emergency, N = "
            f"{sens['samples']}; the three largest, ± the 95% half-width; > where the CIs "
            f"separate, ≈ where they overlap): {'; '.join(through)}. "
            f"{and_list(low).capitalize()} have the smallest indices on average over the outcomes."
        )
    return [*answer_lead(totals), *said, *brief_uncertainty(loaded, out)]


def answer_lead(totals: Mapping[tuple[str, str], tuple[dict[str, int], int, int]]) -> list[str]:
    """One plain sentence per scenario: which regime the maps' clear winners favour.

    Args:
        totals: (scenario, metric) → (wins per regime, cells, no-clear-winner cells).
    """
    out = []
    for scenario in dict.fromkeys(sc for sc, _ in totals):
        rows = {m: v for (sc, m), v in totals.items() if sc == scenario}
        won = {r for wins, _, _ in rows.values() for r, n in wins.items() if n}
        cells = sum(n for _, n, _ in rows.values())
        ties = sum(t for _, _, t in rows.values())
        metrics = and_list([label(m).lower() for m in rows])
        if not won:
            out.append(f"In the {scenario} scenario no regime wins a cell on {metrics}.")
            continue
        if len(won) == 1:
            (regime,) = won
            text = (
                f"In the {scenario} scenario every clear winner is **{regime}**: on "
                f"{metrics}, no other regime wins a single cell"
            )
        else:
            text = f"In the {scenario} scenario the clear winners are {and_list(sorted(won))}"
        share = ties / cells if cells else 0.0
        text += (
            f", and {ties} of the {cells} (cell, outcome) pairs ({share:.0%}) have no clear winner."
        )
        out.append(text)
    return out


def brief_uncertainty(loaded: Mapping[str, Mapping[str, Any]], out: Path) -> list[str]:
    """Plain sentences on the constants, the best mix, the withdrawal and equity.

    Args:
        loaded: analysis name → its summary JSON (analyses not run are absent).
        out: the report's folder.
    """
    said: list[str] = []
    sit = loaded.get("constants_situation")
    if sit is not None:
        a, b = sit["contrast"]
        holds, depends = [], []
        for s in sit["shares"]:
            name = label(s["metric"]).lower()
            winner = next((r for r in (a, b) if s[r]["lo"] > 0.5), None)
            if winner:
                r = s[winner]
                holds.append(
                    f"{winner} on {name} ({r['share']:.0%} [{r['lo']:.0%}, {r['hi']:.0%}])"
                )
            else:
                r = s[b]
                box = (sit.get("prim_where_first_wins", {}).get(s["metric"]) or {}).get("boxes")
                consts = [
                    short_key(x["parameter"])
                    for x in (box[0].get("limits", []) if box else [])
                    if x["parameter"].startswith("behaviour.")
                ]
                depends.append(
                    f"{name} ({b} better in {r['share']:.0%} [{r['lo']:.0%}, {r['hi']:.0%}]"
                    + (f"; where {a} wins turns on {and_list(consts)}" if consts else "")
                    + ")"
                )
        points = sit["shares"][0]["points"] if sit["shares"] else 0
        text = f"**Over the uncertain constants** ({points} points of constants and situation; "
        text += "a conclusion holds when one regime's share of the space has its CI above half): "
        text += ("it holds for " + and_list(holds)) if holds else "no conclusion holds"
        text += ("; it depends for " + and_list(depends)) if depends else ""
        said.append(text + ". The sample is small; the boxes are hints.")
    morris = loaded.get("constants_morris")
    if morris is not None:
        tops = []
        for output in OUTCOMES:
            part = ranked_factors(morris, output)[0]
            if part.empty:
                continue
            r = part.iloc[0]
            tops.append(
                f"{label(output).lower()}: {short_key(r['parameter'])} "
                f"({r['mu_star']:.2f} ± {r['mu_star_conf']:.2f})"
            )
        state = "converged" if morris["convergence"]["converged"] else "not converged"
        said.append(
            f"**The constants that matter most** (Morris, {morris['samples']} trajectories over "
            f"{len(morris['parameters'])} constants and dials, {state}: the tool asks for "
            f"{morris['convergence']['recommended_samples']}): {'; '.join(tops)}."
        )
    mix = loaded.get("best_mix")
    if mix is not None and mix.get("best"):
        best = pd.DataFrame(mix["best"])
        lean = "autonomous" if best["autonomy"].mean() > 0.5 else "constructive"
        res = mix_resolution(out / "findings" / "best_mix", int(mix["settings"]["top"]))
        moves = []
        for axis, lim in mix["settings"]["axes"].items():
            change = float(mix["trends"][axis]["autonomy"]) * (float(lim[-1]) - float(lim[0]))
            if res is not None and abs(change) < 2 * res:
                moves.append(f"along {short_key(axis)} too small to tell ({change:+.2f})")
            else:
                toward = "autonomy" if change > 0 else "construction"
                moves.append(f"along {short_key(axis)} toward {toward} ({change:+.2f})")
        said.append(
            f"**The best mix** of the dials and switches in {len(best)} emergency cells leans "
            f"{lean} (autonomy index {best['autonomy'].min():.2f}–{best['autonomy'].max():.2f}, "
            f"efficacy {best['efficacy'].min():.2f}–{best['efficacy'].max():.2f}); the move of "
            f"its top mixes is {'; '.join(moves)}."
        )
    wd = loaded.get("withdrawal")
    if wd is not None:
        parts = []
        for regime in wd["regimes"]:
            res_ = wd["results"][regime]
            turn = window_of(res_, "turn")
            eff = (
                f" ({ci_text(turn['efficacy']['effect'], 2, True)} with none present)"
                if turn
                else ""
            )
            before = window_of(res_, "before") or {}
            claim = before.get("claim_share", {}).get("withdrawal", {})
            claiming = (
                "there is no community claiming to lose (claim share 0 before)"
                if claim and claim["hi"] <= 0
                else f"community claiming {res_['verdict'].get('claim_share', '?')}"
            )
            parts.append(
                f"under {regime} efficacy {res_['verdict'].get('efficacy', '?')}{eff}; {claiming}"
            )
        said.append(
            "**Withdrawing the sunk cadres** after the emergency and bringing them back: "
            + "; ".join(parts)
            + "."
        )
    eq = equity_section(loaded, out)[1]
    if eq and any(n.startswith("map_") for n in loaded):
        said.append("**Equity**: " + eq[0].removeprefix("Equity: ").removeprefix("Equity: ") + ".")
    return said


SECTIONS: dict[str, Any] = {
    "sensitivity": lambda d, rel, folder: sensitivity_section(d, rel),
    "map": lambda d, rel, folder: map_section(d, rel),
    "discover": lambda d, rel, folder: discovery_section(d, rel),
    "constants": constants_section,
    "uncertainty": uncertainty_section,
    "best-mix": best_mix_section,
    "withdrawal": withdrawal_section,
}
"""The report section of each analysis kind: ``(data, rel, folder) → (lines, answer)``."""


LIMITS = """\
- **Stylised mechanisms, not a calibrated city.** Functional forms and default magnitudes
  come from the five field studies' qualitative accounts (docs/ODD.md); no parameter was
  fitted to data. The findings are about the direction and the relative size of effects
  inside the model, not forecasts for a real street office.
- **Regimes are bundles.** The presets move several dials and switches at once; the
  sensitivity analysis separates the dials only around one base regime's switches.
- **What the model leaves out**: elections, budgets and careers beyond the sending unit's
  evaluation; the content of needs beyond urgency and complexity; residents' learning of
  the regime itself; the sending units' own work suffering from sinking cadres; spatial
  geography beyond the grid/community hierarchy.
- **Stochastic outputs.** Every number is a mean over replicates with its 95% CI; the
  Sobol indices are of replicate-averaged outputs and carry the residual noise reported
  in `indices.json` (`noise_share`).
- **Sample sizes.** The Sobol section gives its base sample N and the tool's own
  convergence check (the widest CI against the tolerance, and the N it recommends); where
  the CIs overlap the dials are marked ≈, not ordered. The Morris screening is the
  cross-check. The maps have 3 replicates per cell, so a small advantage shows as *no
  clear winner*.
{constants}
- **Best mix and withdrawal.** The best-mix search has 16 mixes per cell and switch
  setting on a 2 × 2 map with 2 replicates: it finds a good mix, not the optimum, and its
  trends along the axes are two-point differences without a CI. The withdrawal experiment
  has 8 replicates per arm under two regimes.
- **Sizes and lengths.** To fit a laptop, the analyses run half the default district
  (1,200 households in 12 grids, 3 communities, one street: each cadre keeps the default
  load) and the sensitivity runs stop 30 days into the recovery (120 days); the
  emergency comparison and the validation use the full scenarios.
- **Patterns.** docs/VALIDATION.md says which of the studies' patterns P1–P16 the model
  reproduces; conclusions that lean on a pattern it does not reproduce are weaker.
"""


def write_report(out: Path) -> Path:
    """Write ``out/FINDINGS.md`` from the analyses stored under ``out/findings``.

    Args:
        out: the report's folder (``docs``).

    Returns:
        The report's path.
    """
    timings = read_timings(out)
    body: list[str] = []
    answer: list[str] = []
    compute_rows = []
    loaded: dict[str, dict[str, Any]] = {}
    contrasts = out / "findings" / "dials" / "contrasts.json"
    body += ["## Each dial's two sides", ""]
    if contrasts.is_file():
        lines, said = dials_section(
            json.loads(contrasts.read_text()), rel_path(contrasts.parent, out), contrasts.parent
        )
        body += [*lines, ""]
        answer += [f"- {x}" for x in said]
        t = timings.get("dials", {})
        compute_rows.append(
            [
                "dials",
                str(t.get("runs", "?")),
                "?",
                f"{t.get('wall_s_last_session', float('nan')) / 60:.1f}",
                commit_of(json.loads(contrasts.read_text())),
            ]
        )
    else:
        body += ["Not run yet: `python -m saca.experiments.reports.findings --only dials`.", ""]
    for a in ANALYSES:
        data = load_result(out, a)
        if data is not None:
            loaded[a.name] = data
        title, section = a.title, SECTIONS[a.section]
        folder = out / "findings" / a.name
        rel = rel_path(folder, out)
        body += [f"## {title}", ""]
        if data is None:
            body += [f"Not run yet: `{a.shown(folder)}`.", ""]
            continue
        body += [f"Command: `{a.shown(folder)}`", ""]
        lines, said = section(data, rel, folder)
        body += [*lines, ""]
        answer += [f"- {s}" for s in said]
        # An analysis run by its own command (not by this script) has no timing entry:
        # its runs and CPU seconds are still in its sweeps' manifests.
        t = timings.get(a.name) or stored_compute(folder)
        compute_rows.append(
            [
                a.name,
                "reanalysis" if a.reuses_runs else str(t.get("runs", "?")),
                minutes_text(t.get("run_seconds")),
                minutes_text(t.get("wall_s_last_session")),
                commit_of(data),
            ]
        )
    eq_lines, eq_said = equity_section(loaded, out)
    body += ["## Equity: who wins the mean and who the worst-off", "", *eq_lines]
    answer += [f"- {s}" for s in eq_said]
    meta = io.provenance()
    lines = [
        "# Findings: where does autonomous collaboration beat constructive collaboration?",
        "",
        "Generated by `python -m saca.experiments.reports.findings` from the runs under "
        "`findings/`; do not edit by hand. "
        f"Code: commit `{(meta.get('git_commit') or 'unknown')[:12]}`.",
        "",
        "## The answer in brief",
        "",
        *[f"{p}\n" for p in brief(loaded, out)],
        "The numbers behind it, analysis by analysis (each bracket names the folder under "
        "`docs/` whose files hold them):",
        "",
        *answer,
        "",
        *body,
        "## Compute",
        "",
        *md_table(
            ["analysis", "runs", "CPU min (sum of runs)", "wall min (last session)", "code"],
            compute_rows,
        ),
        "",
        "*code*: the commit whose model produced the analysis's runs. A section produced by an "
        "older commit than the report's describes that commit's model; rerun it with "
        "`python -m saca.experiments.reports.findings --only NAME` to bring it up to date.",
        "",
        "## Limits",
        "",
        LIMITS.replace("{constants}", constants_limit(loaded)),
    ]
    path = out / "FINDINGS.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


DESCRIPTION = (
    "docs/FINDINGS.md: where does autonomous collaboration beat constructive collaboration?"
)
"""The script's one-line description (``--help``)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the analyses and write the report.

    Args:
        argv: command-line arguments (see the module docstring).
    """
    ap = argparse.ArgumentParser(
        prog="python -m saca.experiments.reports.findings", description=DESCRIPTION
    )
    ap.add_argument("--out", default="docs", help="report folder (default: docs)")
    ap.add_argument("--backend", default="process", help="sweep backend (default: process)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default: 2)")
    ap.add_argument("--only", default=None, help="comma-separated analyses to run")
    ap.add_argument("--report-only", action="store_true", help="only rewrite FINDINGS.md")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if not args.report_only:
        only = args.only.split(",") if args.only else None
        run_analyses(out, args.backend, args.workers, only)
    print(write_report(out))
    return 0
