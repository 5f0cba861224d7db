"""Sections on structural uncertainty: the constants' Morris screening and contrast."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from saca.experiments.plots.style import label
from saca.experiments.reports.findings.run import OUTCOMES
from saca.experiments.reports.findings.text import (
    and_list,
    ci_text,
    factor_kind,
    md_table,
    ranked_factors,
    short_key,
    spec_name,
)

MORRIS_TOP = 8
"""How many factors of the constants' Morris ranking each outcome's table shows."""


PRIM_POINTS_PER_DIM = 5
"""Below this many design points per uncertain parameter the PRIM boxes are fragile: a
box's edges then rest on one or two points each (a rule of thumb, not a test)."""


def _sobol_cost(k: int, folder: Path | None) -> str:
    """What a Sobol run over ``k`` factors costs, at the N the dial Sobol asks for.

    Args:
        k: the number of factors.
        folder: this analysis's folder (the dial Sobol is its sibling ``sensitivity``).
    """
    per_n = k + 2  # Saltelli's sample without second-order indices: N (k + 2) points
    text = f"A Sobol analysis of these {k} factors needs {per_n}·N runs per replicate"
    dial = folder.parent / "sensitivity" / "indices.json" if folder else None
    if dial is None or not dial.is_file():
        return text + "."
    d = json.loads(dial.read_text())
    conv = d.get("convergence", {})
    need = int(conv.get("recommended_samples") or d["samples"])
    state = "converged" if conv.get("converged") else f"asks for N = {need}"
    return (
        text + f": the six-dial Sobol at N = {d['samples']} {state} (`findings/sensitivity`); "
        f"at N = {need} the {k} factors would take {per_n * need:,} runs per replicate."
    )


def constants_section(
    data: Mapping[str, Any], rel: str, folder: Path | None = None
) -> tuple[list[str], list[str]]:
    """The Morris ranking of the behavioural constants with the dials, per outcome.

    Args:
        data: ``indices.json`` of the constants' screening.
        rel: the analysis folder, relative to the report.
        folder: the analysis folder itself (to find the dial Sobol for the cost of one).
    """
    keys = [p["key"] for p in data["parameters"]]
    k = len(keys)
    n_dials = sum(factor_kind(x) == "dial" for x in keys)
    conv = pd.DataFrame(data["convergence"]["per_output"]).set_index("output")
    tol = data["convergence"].get("tolerance", data["settings"].get("tolerance"))
    lines = [
        f"Spec `{spec_name(data['spec_file'])}` (hash `{data['spec_hash'][:12]}`, seed "
        f"{data['seed']}): {k - n_dials} behavioural constants (ranges from their "
        f"declarations, narrowed toward the default as the spec says) and the {n_dials} dials "
        f"in [0, 1], on the {', '.join(data['regimes'])} regime, {data['scenario']} scenario; "
        f"{data['samples']} Morris trajectories on {data['levels']} levels: "
        f"{data['design_points']} design points × {data['replicates']} replicate = "
        f"{data['runs']['total']} runs of {data['steps']} days ({data['runs']['failed']} "
        "failed). mu* is the mean absolute change of the output when a factor moves across "
        "its range, sigma the spread of that change; ± is the 95% bootstrap half-width. The "
        f"tables show the {MORRIS_TOP} largest mu* of {k}. Files: `{rel}/indices.parquet`, "
        f"`{rel}/indices.json`.",
        "",
    ]
    answer: list[str] = []
    ahead: dict[str, int] = {}
    for output in [o for o in OUTCOMES if o in set(conv.index)]:
        part = ranked_factors(data, output)[0].reset_index(drop=True)
        c = conv.loc[output]
        verdict = (
            "converged"
            if c["converged"]
            else f"not converged: the widest 95% CI of mu* is ±{c['ci_width']:.0%} of the "
            f"largest mu* (tolerance {float(tol):.0%})"
            + (f"; {c['note']}" if isinstance(c.get("note"), str) else "")
            + f"; the tool recommends {int(c['recommended_samples'])} trajectories (now "
            f"{data['samples']})"
        )
        first_dial = next(
            (i for i, r in enumerate(part.itertuples()) if factor_kind(r.parameter) == "dial"),
            None,
        )
        rows = [
            [
                str(i + 1),
                f"`{r.parameter}`",
                factor_kind(r.parameter),
                f"{r.mu_star:.3f} ± {r.mu_star_conf:.3f}",
                f"{r.mu:+.3f}",
                f"{r.sigma:.3f}",
            ]
            for i, r in enumerate(part.head(MORRIS_TOP).itertuples())
        ]
        above = [
            short_key(r.parameter)
            for r in part.head(first_dial if first_dial is not None else len(part)).itertuples()
        ]
        dial_text = (
            f"the first dial, {short_key(part.loc[first_dial, 'parameter'])}, ranks "
            f"{first_dial + 1} of {k}"
            if first_dial is not None
            else "no dial was screened"
        )
        ahead[output] = len(above)
        lines += [
            f"**{label(output)}** (`{output}`): {verdict}. {dial_text.capitalize()}.",
            "",
            *md_table(["rank", "factor", "kind", "mu*", "mu", "sigma"], rows),
            "",
            f"![Morris indices of {output}]({rel}/sensitivity_{output}.png)",
            "",
        ]
        top = "; ".join(
            f"{short_key(r.parameter)} {r.mu_star:.3f} ± {r.mu_star_conf:.3f}"
            for r in part.head(3).itertuples()
        )
        answer.append(
            f"{label(output)} over the constants ({data['samples']} Morris trajectories, "
            f"{'converged' if c['converged'] else 'not converged'}): largest mu* {top}; "
            f"{dial_text}"
            + (
                f" ({len(above)} constant{'s move' if len(above) > 1 else ' moves'} it more "
                "than any dial)"
                if first_dial
                else ""
            )
            + f" [{rel}]"
        )
    lines += [_sobol_cost(k, folder), ""]
    for w in data.get("warnings", []):
        lines += [f"> {w}", ""]
    plain = [f"{label(o).lower()}: {n} constant{'s' if n != 1 else ''}" for o, n in ahead.items()]
    lines[:0] = [
        "In plain words: the uncertain behavioural constants move the outcomes as much as "
        "the dials or more; ahead of the most influential dial stand "
        + "; ".join(plain)
        + ". The screening is coarse (not converged), so it names the large effects only.",
        "",
    ]
    return lines, answer


def _holds(s: Mapping[str, Any], regimes: Sequence[str]) -> str:
    """Whether one regime wins most of the uncertainty space whatever the constants are."""
    for r in regimes:
        if s[r]["lo"] > 0.5:
            return f"{r} wins over most of the space (its share's CI is above one half)"
    return "neither regime's share is surely above one half: it depends on where in the space"


def uncertainty_section(
    data: Mapping[str, Any], rel: str, folder: Path | None = None
) -> tuple[list[str], list[str]]:
    """The share of the constants-and-situation space each regime wins, and PRIM boxes.

    Args:
        data: ``shares.json`` of ``saca uncertainty``.
        rel: the analysis folder, relative to the report.
        folder: the analysis folder itself (for the PRIM analyses' parameter lists).
    """
    a, b = data["contrast"]
    shares = data["shares"]
    points = int(shares[0]["points"]) if shares else 0
    dims = prim_dims(folder)
    lines = [
        f"Stored runs `{rel}/runs` (spec hash `{str(data['spec_hash'])[:12]}`, seed "
        f"{data['seed']}): a Latin hypercube of {points} points over the situation and the "
        "constants that decide who wins"
        + (f" ({dims} parameters)" if dims else "")
        + f", each run under {a} and {b} with the same seeds. *Share* is the fraction of the "
        "points where a regime's replicate mean is better, with its 95% Wilson CI; *clear* "
        "counts only points where the paired replicate CI excludes 0. Files: "
        f"`{rel}/shares.json`, `{rel}/prim_*/`.",
        "",
    ]
    rows, answer = [], []
    for s in shares:
        rows.append(
            [
                label(s["metric"]),
                *(
                    f"{s[r]['share']:.0%} [{s[r]['lo']:.0%}, {s[r]['hi']:.0%}]; clear "
                    f"{s[r]['clear_share']:.0%} [{s[r]['clear_lo']:.0%}, {s[r]['clear_hi']:.0%}]"
                    for r in (a, b)
                ),
                ci_text(s["mean_diff"], 3, sign=True),
            ]
        )
        best = max((a, b), key=lambda r: s[r]["share"])
        answer.append(
            f"{label(s['metric'])} over {points} points of constants and situation: "
            f"{best} better in {s[best]['share']:.0%} [{s[best]['lo']:.0%}, "
            f"{s[best]['hi']:.0%}] of them, mean {b} − {a} {ci_text(s['mean_diff'], 3, True)}; "
            f"{_holds(s, (a, b))} [{rel}]"
        )
    lines += md_table(["metric", f"{a} better", f"{b} better", f"mean {b} − {a} [95% CI]"], rows)
    lines += ["", f"![Shares won]({rel}/shares.png)", ""]
    small = dims and points < PRIM_POINTS_PER_DIM * dims
    lines.append(f"Where {a} wins (PRIM, the box of highest coverage with density ≥ 0.7):")
    for metric, prim in data.get("prim_where_first_wins", {}).items():
        cases = round(prim["base_rate"] * points)
        if not prim["boxes"]:
            lines.append(f"- {label(metric)}: no box ({a} wins {cases} of {points} points).")
            continue
        box = prim["boxes"][0]
        named = [short_key(x["parameter"]) for x in box.get("limits", [])]
        consts = [x for x in named if f"behaviour.{x}" in box["rule"]]
        lines.append(
            f"- {label(metric)} ({a} wins {cases} of {points} points): *{box['rule']}* "
            f"(coverage {box['coverage']:.2f}, density {box['density']:.2f}, mass "
            f"{box['mass']:.2f}); constants in the box: {and_list(consts) if consts else 'none'}. "
            f"Figure: `{rel}/prim_{metric}/boxes.png`."
        )
        if consts:
            answer.append(
                f"Where {a} wins on {label(metric).lower()} depends on named constants: "
                f"the PRIM box restricts {and_list(consts)} (coverage {box['coverage']:.2f}, "
                f"density {box['density']:.2f}, {points} points) [{rel}]"
            )
    if small:
        lines += [
            "",
            f"> Small sample: {points} points for {dims} parameters (fewer than "
            f"{PRIM_POINTS_PER_DIM} per parameter); a box's edges rest on a few points each, "
            "so read the boxes as hints of which constants matter, not as thresholds.",
        ]
    lines.append("")
    plain = "; ".join(f"on {label(s['metric']).lower()}, {_holds(s, (a, b))}" for s in shares)
    lines[:0] = [f"In plain words, over the uncertain constants and situations: {plain}.", ""]
    return lines, answer


def prim_dims(folder: Path | None) -> int:
    """The number of uncertain parameters, from a stored PRIM analysis (0 if none)."""
    if folder is None:
        return 0
    for path in sorted(folder.glob("prim_*/boxes.json")):
        return len(json.loads(path.read_text()).get("parameters", []))
    return 0


def constants_limit(loaded: Mapping[str, Mapping[str, Any]]) -> str:
    """The Limits bullet on the behavioural constants: how far their analyses are from
    converged, from the stored files.

    Args:
        loaded: analysis name → its summary JSON (analyses not run are absent).
    """
    text = "- **Constants.** "
    morris, sit = loaded.get("constants_morris"), loaded.get("constants_situation")
    if morris is None and sit is None:
        text += "The behavioural constants are not varied in the stored analyses. "
    if morris is not None:
        conv = morris["convergence"]
        widths = [c["ci_width"] for c in conv["per_output"] if c.get("ci_width") is not None]
        state = (
            "converged"
            if conv["converged"]
            else f"not converged: its own check asks for {conv['recommended_samples']} "
            f"trajectories, and its widest CI of mu* is {min(widths):.0%}–{max(widths):.0%} of "
            f"the largest mu* against a {conv['tolerance']:.0%} tolerance, so the ranking "
            "separates the few large effects from the many small ones and orders nothing finer"
        )
        text += (
            f"The behavioural constants are varied, at small size: the Morris screening of "
            f"{len(morris['parameters'])} constants and dials has {morris['samples']} "
            f"trajectories ({morris['runs']['total']} runs), {state}; no Sobol run over the "
            f"constants exists ({len(morris['parameters']) + 2}·N runs per replicate). "
        )
    if sit is not None and sit["shares"]:
        s0 = sit["shares"][0]
        widest = max(max(s[r]["hi"] - s[r]["lo"] for r in sit["contrast"]) for s in sit["shares"])
        text += (
            f"The regime contrast over the constants and the situation has {s0['points']} "
            f"points, so its shares carry Wilson CIs up to {widest:.2f} wide and its PRIM "
            "boxes are hints. "
        )
    text += (
        "Where one declared constant decides a contrast, the report says so (the control "
        "dial and `behaviour.paperwork_hours` in the dial table; the constants named in the "
        "PRIM boxes)."
    )
    return text
