"""docs/FINDINGS.md: where does autonomous collaboration beat constructive collaboration?

The research question behind saca, answered once from real runs::

    python -m experiments.findings [--out docs] [--workers 2] [--backend process]
    python -m experiments.findings --report-only      # rewrite FINDINGS.md from stored runs

It runs the analyses of :data:`ANALYSES`, each a ``saca`` command on an example spec (so
each is resumable: run it again after a kill and it continues where it stopped):

1. ``saca sensitivity experiments/specs/dials_sobol.toml --method sobol``: the six dials
   ranked by total-order Sobol index on efficacy, trust and burnout, and
   ``dials_morris.toml`` with ``--method morris`` as a cheaper cross-check;
2. ``saca map`` on ``map_risk_capacity.toml`` and ``map_volatility_cohesion.toml`` (an
   emergency) and ``map_ordinary_capacity_needs.toml`` (ordinary times): which regime
   wins where, the cells where the CIs overlap marked, and the Pareto fronts of dial
   settings;
3. ``saca discover experiments/specs/discovery_situation.toml``: the boxes of situations
   where autonomy beats construction (PRIM), and again on the same runs for a large lead
   (``--margin``), which needs no new runs;
4. ``python -m experiments.dial_contrasts --out docs/findings/dials``: each dial moved from
   0 to 1 from the hybrid regime in the emergency, paired by seed: what each end buys and
   what it costs (run with ``--only dials``; it is not resumable, and reruns whole).

Then it writes ``FINDINGS.md`` beside ``findings/`` (``--out docs`` gives
``docs/findings/<analysis>/`` and ``docs/FINDINGS.md``) from the analyses' JSON and Parquet
files only: every number in the report is read from a file the report names, and each
analysis names its spec, the spec's hash and the root seed, so ``saca results
docs/findings/<analysis>/runs`` shows the runs behind it. Compute times come from the
sweeps' manifests (the CPU seconds of every stored run, however many sessions it took)
and from this script's own wall clock (``findings/timings.json``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments import dial_contrasts, io, plots, stats, sweep

SPECS = Path(__file__).resolve().parent / "specs"
OUTCOMES = ("efficacy", "trust_institution", "trust_resident_sunk", "burnout_mean")
"""The outcomes of the research question: efficacy, trust and burnout."""
PAPERWORK = "behaviour.paperwork_hours"
"""The declared constant whose value decides the control dial's contrast (see the dials
section of the report)."""
LARGE_LEAD = 0.4
"""An efficacy lead of autonomy counted as large by the second discovery: about the median
lead over the discovery's situations (the leads run from about 0.2 to 0.5)."""


@dataclass(frozen=True)
class Analysis:
    """One analysis of the report: a saca command on an example spec or on stored runs.

    Args:
        name: the folder under ``findings/``.
        command: the saca subcommand.
        source: a spec's file name in ``experiments/specs``, or ``findings/<name>/runs``
            to analyse another analysis's stored runs again (no new runs).
        options: further command-line options.
        summary: the file the analysis writes its numbers to.
        title: the report's section title.
    """

    name: str
    command: str
    source: str
    options: tuple[str, ...]
    summary: str
    title: str

    @property
    def reuses_runs(self) -> bool:
        """True when the analysis reads another analysis's stored runs."""
        return self.source.startswith("findings/")

    def argv(self, out: Path, backend: str, workers: int) -> list[str]:
        """The saca command line of this analysis, resuming what is stored in ``out``.

        Args:
            out: the analysis folder (``<report folder>/findings/<name>``).
            backend: the sweep backend.
            workers: worker processes.
        """
        if self.reuses_runs:
            return [
                self.command,
                str(out.parent.parent / self.source),
                *self.options,
                "--out",
                str(out),
            ]
        run = ["--backend", backend, "--workers", str(workers), "--resume"]
        return [self.command, str(SPECS / self.source), *self.options, "--out", str(out), *run]

    def shown(self, out: Path) -> str:
        """The command as a reader would type it (paths relative to the repository).

        Args:
            out: the analysis folder.
        """
        root = SPECS.parent.parent
        if self.reuses_runs:
            source = _rel(out.parent.parent / self.source, root)
        else:
            source = f"experiments/specs/{self.source}"
        return shlex.join(["saca", self.command, source, *self.options, "--out", _rel(out, root)])


ANALYSES = (
    Analysis(
        "sensitivity",
        "sensitivity",
        "dials_sobol.toml",
        ("--method", "sobol"),
        "indices.json",
        "Which dials matter: Sobol indices",
    ),
    Analysis(
        "screening",
        "sensitivity",
        "dials_morris.toml",
        ("--method", "morris"),
        "indices.json",
        "Which dials matter: Morris screening (a cross-check)",
    ),
    Analysis(
        "map_risk_capacity",
        "map",
        "map_risk_capacity.toml",
        (),
        "map.json",
        "Where each regime wins in an emergency: risk × capacity",
    ),
    Analysis(
        "map_volatility_cohesion",
        "map",
        "map_volatility_cohesion.toml",
        (),
        "map.json",
        "Where each regime wins in an emergency: rate of change × cohesion",
    ),
    Analysis(
        "map_ordinary",
        "map",
        "map_ordinary_capacity_needs.toml",
        (),
        "map.json",
        "Where each regime wins in ordinary times: capacity × need rate",
    ),
    Analysis(
        "discovery",
        "discover",
        "discovery_situation.toml",
        (),
        "boxes.json",
        "Where autonomy beats construction: scenario discovery",
    ),
    Analysis(
        "discovery_large_lead",
        "discover",
        "findings/discovery/runs",
        ("--margin", str(LARGE_LEAD)),
        "boxes.json",
        f"Where autonomy's lead in efficacy is large (> {LARGE_LEAD}): scenario discovery",
    ),
)
"""The analyses of the report, in the order they run (a reanalysis after its runs)."""


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


# ----- running --------------------------------------------------------------------------
def run_analyses(
    out: Path, backend: str, workers: int, only: Sequence[str] | None = None
) -> dict[str, Any]:
    """Run (or resume) every analysis into ``out/findings/<name>`` and time it.

    Args:
        out: the report's folder (``docs``).
        backend: the sweep backend.
        workers: worker processes.
        only: run only these analyses (names); None runs all.

    Returns:
        name → ``{"wall_s", "exit", "command"}`` for the analyses run now.

    Raises:
        SystemExit: an analysis failed with an input error (exit 2).
    """
    from experiments.cli import main as saca

    timings = _read_timings(out)
    if only is None or "dials" in only:
        folder = out / "findings" / "dials"
        print("findings: python -m experiments.dial_contrasts", file=sys.stderr, flush=True)
        result = dial_contrasts.run_contrasts(workers=workers)
        dial_contrasts.write(result, folder)
        # The constant that decides the control dial: the same contrast without paperwork.
        free = dial_contrasts.run_contrasts(
            workers=workers, dials=("control",), overrides={PAPERWORK: 0.0}
        )
        dial_contrasts.write(free, folder, "control_without_paperwork")
        timings["dials"] = {
            "command": f"python -m experiments.dial_contrasts --out {_rel(folder, out.parent)}",
            "exit": 0,
            "wall_s_last_session": round(result["wall_seconds"], 1),
            "sessions": 1,
            "runs": result["runs"],
        }
        io.write_json(timings, out / "findings" / "timings.json")
    for a in ANALYSES:
        if only and a.name not in only:
            continue
        folder = out / "findings" / a.name
        print(f"findings: {a.shown(folder)}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        code = saca(a.argv(folder, backend, workers))
        wall = time.perf_counter() - t0
        if code == 2:
            raise SystemExit(f"findings: {a.name} stopped on an input error (see above)")
        previous = timings.get(a.name, {})
        timings[a.name] = {
            "command": a.shown(folder),
            "exit": code,
            "wall_s_last_session": round(wall, 1),
            "sessions": int(previous.get("sessions", 0)) + 1,
            **compute_seconds(folder),
        }
        io.write_json(timings, out / "findings" / "timings.json")
    return timings


def _read_timings(out: Path) -> dict[str, Any]:
    path = out / "findings" / "timings.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def compute_seconds(folder: Path) -> dict[str, float]:
    """CPU seconds and runs of every sweep stored under an analysis folder.

    Args:
        folder: the analysis folder (its sweeps are the subfolders with a meta.json).
    """
    runs = seconds = 0.0
    for meta in sorted(folder.glob("*/meta.json")):
        df = sweep.load_results(meta.parent)
        runs += len(df)
        seconds += float(df["duration_s"].sum())
    return {"runs": int(runs), "run_seconds": round(seconds, 1)}


# ----- the report -----------------------------------------------------------------------
def _load(out: Path, a: Analysis) -> dict[str, Any] | None:
    path = out / "findings" / a.name / a.summary
    return json.loads(path.read_text()) if path.is_file() else None


def _commit(data: Mapping[str, Any]) -> str:
    """The short commit an analysis's stored result records, or ``?``."""
    return f"`{str(data['git_commit'])[:7]}`" if data.get("git_commit") else "?"


def _short(key: str) -> str:
    return key.split(".", 1)[1] if "." in key else key


def _num(x: Any, digits: int = 2) -> str:
    try:
        return f"{float(x):.{digits}f}"
    except (TypeError, ValueError):
        return str(x)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _and(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _spec_name(path: Any) -> str:
    return "experiments/specs/" + Path(str(path)).name if path else "?"


def _ranked(data: Mapping[str, Any], output: str) -> tuple[pd.DataFrame, str, str]:
    """An output's indices, most influential dial first, and the index and CI columns."""
    key, conf = ("ST", "ST_conf") if data["method"] == "sobol" else ("mu_star", "mu_star_conf")
    idx = pd.DataFrame(data["indices"])
    return idx[idx["output"] == output].sort_values(key, ascending=False), key, conf


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
        f"Spec `{_spec_name(data['spec_file'])}` (hash `{data['spec_hash'][:12]}`, seed "
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
        part, key, conf = _ranked(data, output)
        if sobol:
            header = ["rank", "dial", "ST", "S1"]
            rows = [
                [
                    str(i + 1),
                    _short(r.parameter),
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
                    _short(r.parameter),
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
            f"**{plots.label(output)}** (`{output}`): {verdict}; replicate noise "
            f"{c['noise_share']:.0%} of the variance.",
            "",
        ]
        lines += _table(header, rows)
        lines += [
            "",
            f"![{data['method']} indices of {output}]({rel}/sensitivity_{output}.png)",
            "",
        ]
        group = leading_dials(data, output)
        index = "ST" if sobol else "mu*"
        first = part.iloc[0]
        answer.append(
            f"{plots.label(output)} depends most on **{_and(group)}** "
            f"({index} of {_short(first.parameter)} {first[key]:.2f} ± {first[conf]:.2f}; "
            f"least: {_short(part.iloc[-1].parameter)} {part.iloc[-1][key]:.2f}) "
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
                _num(eff[f"{r}_mean"].mean()),
                _num(eff[f"{r}_sd"].mean()),
                _num(eff[f"{r}_worst"].mean()),
                str(mine),
            ]
        )
    lines = [
        f"Equity beside efficacy, averaged over the {len(eff)} cells (a regime *{stats.WORST_OFF}* "
        "in a cell when its paired 95% CI is above another regime's on efficacy and below it "
        "on the worst decile's efficacy):",
        "",
        *_table(
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
        f"Spec `{_spec_name(data['spec_file'])}` (seed {data['seed']}): {data['scenario']} "
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
            [plots.label(metric)]
            + [str(wins.get(r, 0)) for r in regimes]
            + [f"{m['no_clear_winner']}{f' ({tie})' if tie else ''}"]
        )
        ranked = sorted(regimes, key=lambda r: -wins.get(r, 0))
        answer.append(
            f"{plots.label(metric)}: "
            + ", ".join(f"{r} wins {wins.get(r, 0)}" for r in ranked)
            + f" of {n_cells} cells; no clear winner in {m['no_clear_winner']}"
            + (f" ({tie})" if tie else "")
        )
    lines += _table(["metric", *regimes, "no clear winner"], rows)
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
        f"Source: `{_spec_name(data.get('source'))}` (stored runs in "
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
    part, key, conf = _ranked(data, output)
    if part.empty:
        return []
    floor = part[key].iloc[0] - part[conf].iloc[0]
    return [
        _short(r.parameter)
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
    part, key, conf = _ranked(data, output)
    part = part.head(top)
    text = ""
    prev: Any = None
    for r in part.itertuples():
        v, c = getattr(r, key), getattr(r, conf)
        if prev is not None:
            text += " > " if v + c < prev[0] - prev[1] else " ≈ "
        text += f"{_short(r.parameter)} {v:.2f} ± {c:.2f}"
        prev = (v, c)
    return text


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
                parts.append(f"{plots.label(metric).lower()}: no clear winner in any cell")
                continue
            others = ", ".join(f"{r} {n}" for r, n in wins.items() if r != lead)
            parts.append(
                f"{plots.label(metric).lower()}: {lead} {wins[lead]} of {n_cells} cells "
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
            f"{', '.join(_short(p) for p in disc['parameters'])}), {disc['regime']} beats "
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
        through = [
            f"{plots.label(o).lower()}: {ranking(sens, o)}" for o in OUTCOMES if ranking(sens, o)
        ]
        idx = pd.DataFrame(sens["indices"])
        mean_st = idx.groupby("parameter")["ST"].mean().sort_values()
        low = [_short(p) for p in mean_st.index[:2]]
        said.append(
            f"**Through which elements** (Sobol total-order index ST of the six dials on the "
            f"{', '.join(sens['regimes'])} regime's switches, emergency, N = "
            f"{sens['samples']}; the three largest, ± the 95% half-width; > where the CIs "
            f"separate, ≈ where they overlap): {'; '.join(through)}. "
            f"{_and(low).capitalize()} have the smallest indices on average over the outcomes."
        )
    return [*answer_lead(totals), *said]


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
        metrics = _and([plots.label(m).lower() for m in rows])
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
            text = f"In the {scenario} scenario the clear winners are {_and(sorted(won))}"
        share = ties / cells if cells else 0.0
        text += (
            f", and {ties} of the {cells} (cell, outcome) pairs ({share:.0%}) have no clear winner."
        )
        out.append(text)
    return out


def dials_section(
    data: Mapping[str, Any], rel: str, rel_root: Path | None = None
) -> tuple[list[str], list[str]]:
    """Each dial moved from 0 to 1: the outcomes better and worse at its autonomous end.

    Args:
        data: ``contrasts.json`` of :mod:`experiments.dial_contrasts`.
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
                    f"{plots.label(r.metric).lower()} {r.diff:+.3g} [{r.lo:+.3g}, {r.hi:+.3g}]"
                    for r in sel.itertuples()
                )
                or "—"
            )

        both = {"better", "worse"} <= set(part["verdict"])
        if not both:
            one_sided.append(dial)
        rows.append([f"`{dial}`", listed("better"), listed("worse"), "yes" if both else "no"])
    lines += _table(["dial", "better at 1", "worse at 1", "two-sided"], rows)
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
                f"{plots.label(r.metric).lower()} {r.diff:+.3g} [{r.lo:+.3g}, {r.hi:+.3g}]"
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
            f"{st['scenario']}, every dial but {_and(one_sided)} makes at least one outcome "
            f"clearly better and one clearly worse; at these defaults {_and(parts)} (table "
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


SECTIONS = {"sensitivity": sensitivity_section, "map": map_section, "discover": discovery_section}
"""The report section of each saca command."""


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
- **Constants.** The dials are varied here; the behavioural constants are not (the
  structural-uncertainty analysis that varies them is future work). Where one declared
  constant decides a contrast, the report says so (the control dial and
  `behaviour.paperwork_hours` in the dial table).
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
    timings = _read_timings(out)
    body: list[str] = []
    answer: list[str] = []
    compute_rows = []
    loaded: dict[str, dict[str, Any]] = {}
    contrasts = out / "findings" / "dials" / "contrasts.json"
    body += ["## Each dial's two sides", ""]
    if contrasts.is_file():
        lines, said = dials_section(
            json.loads(contrasts.read_text()), _rel(contrasts.parent, out), contrasts.parent
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
                _commit(json.loads(contrasts.read_text())),
            ]
        )
    else:
        body += ["Not run yet: `python -m experiments.findings --only dials`.", ""]
    for a in ANALYSES:
        data = _load(out, a)
        if data is not None:
            loaded[a.name] = data
        title, section = a.title, SECTIONS[a.command]
        folder = out / "findings" / a.name
        rel = _rel(folder, out)
        body += [f"## {title}", ""]
        if data is None:
            body += [f"Not run yet: `{a.shown(folder)}`.", ""]
            continue
        body += [f"Command: `{a.shown(folder)}`", ""]
        lines, said = section(data, rel)
        body += [*lines, ""]
        answer += [f"- {s}" for s in said]
        t = timings.get(a.name, {})
        compute_rows.append(
            [
                a.name,
                "reanalysis" if a.reuses_runs else str(t.get("runs", "?")),
                f"{t.get('run_seconds', float('nan')) / 60:.1f}",
                f"{t.get('wall_s_last_session', float('nan')) / 60:.1f}",
                _commit(data),
            ]
        )
    meta = io.provenance()
    lines = [
        "# Findings: where does autonomous collaboration beat constructive collaboration?",
        "",
        "Generated by `python -m experiments.findings` from the runs under `findings/`; do "
        "not edit by hand. "
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
        *_table(
            ["analysis", "runs", "CPU min (sum of runs)", "wall min (last session)", "code"],
            compute_rows,
        ),
        "",
        "*code*: the commit whose model produced the analysis's runs. A section produced by an "
        "older commit than the report's describes that commit's model; rerun it with "
        "`python -m experiments.findings --only NAME` to bring it up to date.",
        "",
        "## Limits",
        "",
        LIMITS,
    ]
    path = out / "FINDINGS.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Run the analyses and write the report.

    Args:
        argv: command-line arguments (see the module docstring).
    """
    ap = argparse.ArgumentParser(
        prog="python -m experiments.findings", description=__doc__.splitlines()[0]
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


if __name__ == "__main__":
    raise SystemExit(main())
