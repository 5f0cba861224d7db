"""docs/FINDINGS.md: where does autonomous collaboration beat constructive collaboration?

The research question behind saca, answered once from real runs::

    python -m saca.experiments.reports.findings [--out docs] [--workers 2] [--backend process]
    python -m saca.experiments.reports.findings --report-only      # rewrite FINDINGS.md from
    stored runs

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
4. ``python -m saca.experiments.analyses.dials --out docs/findings/dials``: each dial moved from
   0 to 1 from the hybrid regime in the emergency, paired by seed: what each end buys and
   what it costs (run with ``--only dials``; it is not resumable, and reruns whole);
5. structural uncertainty: ``saca sensitivity experiments/specs/constants_morris.toml
   --samples 2`` (Morris over every behavioural constant with the dials) and ``saca
   uncertainty experiments/specs/constants_situation.toml --samples 32`` (the share of the
   constants-and-situation space each regime wins, PRIM boxes of where construction wins);
6. ``saca best-mix experiments/specs/best_mix.toml``: the best dial mix per cell of a map;
7. ``saca withdrawal`` (the sunk cadres withdrawn after the emergency and brought back;
   not resumable: ``--force`` moves its old results aside and it reruns whole);
8. an equity section collected from the maps and the dial contrasts (no runs of its own).

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

from saca.experiments import stats
from saca.experiments.analyses import dials as dial_contrasts
from saca.experiments.engine import io
from saca.experiments.engine.results import load_results
from saca.experiments.plots import figures as plots

SPECS = Path(__file__).resolve().parents[1] / "specs"
OUTCOMES = ("efficacy", "trust_institution", "trust_resident_sunk", "burnout_mean")
"""The outcomes of the research question: efficacy, trust and burnout."""
PAPERWORK = "behaviour.paperwork_hours"
"""The declared constant whose value decides the control dial's contrast (see the dials
section of the report)."""
HALF_DISTRICT = {"households": 1200, "grids": 12, "communities": 3, "streets": 1}
"""The half district the analyses run (each cadre keeps the default load); the withdrawal
command takes it as ``--set`` overrides, the specs as their ``[fixed]`` table."""
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
        kind: the key of its section in :data:`SECTIONS` (default: the command).
        backend: whether the command takes ``--backend``.
        resumable: whether the command takes ``--resume``; one that does not reruns
            whole, with ``--force`` moving its old results aside.
    """

    name: str
    command: str
    source: str
    options: tuple[str, ...]
    summary: str
    title: str
    kind: str = ""
    backend: bool = True
    resumable: bool = True

    @property
    def section(self) -> str:
        """The key of the analysis's section in :data:`SECTIONS`."""
        return self.kind or self.command

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
        run = ["--workers", str(workers)]
        run += ["--backend", backend] if self.backend else []
        run += ["--resume"] if self.resumable else ["--force"]
        spec = [str(SPECS / self.source)] if self.source else []
        return [self.command, *spec, *self.options, "--out", str(out), *run]

    def shown(self, out: Path) -> str:
        """The command as a reader would type it (paths relative to the repository).

        Args:
            out: the analysis folder.
        """
        root = SPECS.parent.parent
        if self.reuses_runs:
            source = [_rel(out.parent.parent / self.source, root)]
        else:
            source = [f"experiments/specs/{self.source}"] if self.source else []
        return shlex.join(["saca", self.command, *source, *self.options, "--out", _rel(out, root)])


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
    Analysis(
        "constants_morris",
        "sensitivity",
        "constants_morris.toml",
        ("--samples", "2"),
        "indices.json",
        "Structural uncertainty: which constants and dials matter (Morris screening)",
        kind="constants",
    ),
    Analysis(
        "constants_situation",
        "uncertainty",
        "constants_situation.toml",
        ("--samples", "32"),
        "shares.json",
        "Structural uncertainty: where each regime wins over the constants and the situation",
        backend=False,
    ),
    Analysis(
        "best_mix",
        "best-mix",
        "best_mix.toml",
        (),
        "best_mix.json",
        "The best dial mix per situation",
        backend=False,
    ),
    Analysis(
        "withdrawal",
        "withdrawal",
        "",
        (
            "--regimes",
            "constructive,autonomous",
            "--replicates",
            "8",
            "--seed",
            "13",
            *(x for k, v in HALF_DISTRICT.items() for x in ("--set", f"situation.{k}={v}")),
        ),
        "withdrawal.json",
        "Withdrawal of the sunk cadres, and their return",
        backend=False,
        resumable=False,
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
    from saca.experiments.cli.main import main as saca

    timings = _read_timings(out)
    if only is None or "dials" in only:
        folder = out / "findings" / "dials"
        print("findings: python -m saca.experiments.analyses.dials", file=sys.stderr, flush=True)
        result = dial_contrasts.run_contrasts(workers=workers)
        dial_contrasts.write(result, folder)
        # The constant that decides the control dial: the same contrast without paperwork.
        free = dial_contrasts.run_contrasts(
            workers=workers, dials=("control",), overrides={PAPERWORK: 0.0}
        )
        dial_contrasts.write(free, folder, "control_without_paperwork")
        timings["dials"] = {
            "command": "python -m saca.experiments.analyses.dials "
            f"--out {_rel(folder, out.parent)}",
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


def stored_compute(folder: Path) -> dict[str, float]:
    """Runs and CPU seconds of the sweeps anywhere under an analysis folder, from their
    manifests alone (which read across versions of the summary's columns).

    Args:
        folder: the analysis folder (``runs/``, or ``cells/<cell>/`` of a best mix).
    """
    runs = seconds = 0.0
    for path in sorted(folder.rglob("manifest.parquet")):
        m = pd.read_parquet(path, columns=["duration_s"])
        runs += len(m)
        seconds += float(m["duration_s"].fillna(0).sum())
    return {"runs": int(runs), "run_seconds": round(seconds, 1)} if runs else {}


def _minutes(seconds: Any) -> str:
    """Seconds as minutes with one decimal, or ``?`` when not recorded."""
    return f"{float(seconds) / 60:.1f}" if seconds is not None else "?"


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
        df = load_results(meta.parent)
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


# ----- structural uncertainty, best mix, withdrawal, equity ----------------------------
MORRIS_TOP = 8
"""How many factors of the constants' Morris ranking each outcome's table shows."""
PRIM_POINTS_PER_DIM = 5
"""Below this many design points per uncertain parameter the PRIM boxes are fragile: a
box's edges then rest on one or two points each (a rule of thumb, not a test)."""
WITHDRAWAL_METRICS = ("efficacy", "claim_share", "self_help_share", "trust_institution")
"""The withdrawal section's outcomes: efficacy and the signs of self-organisation."""
WITHDRAWAL_PATH = ("before", "down", "turn", "up", "after", "later")
"""The withdrawal timeline's windows, by their ``path`` label in ``withdrawal.json``."""


def _ci(m: Mapping[str, Any], digits: int = 2, sign: bool = False) -> str:
    """``mean [lo, hi]`` of a ``{"mean", "lo", "hi"}`` record."""
    f = f"{{:+.{digits}f}}" if sign else f"{{:.{digits}f}}"
    return f"{f.format(m['mean'])} [{f.format(m['lo'])}, {f.format(m['hi'])}]"


def _factor_kind(key: str) -> str:
    return {"regime": "dial", "behaviour": "constant", "situation": "situation"}.get(
        key.split(".", 1)[0], "other"
    )


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
    n_dials = sum(_factor_kind(x) == "dial" for x in keys)
    conv = pd.DataFrame(data["convergence"]["per_output"]).set_index("output")
    tol = data["convergence"].get("tolerance", data["settings"].get("tolerance"))
    lines = [
        f"Spec `{_spec_name(data['spec_file'])}` (hash `{data['spec_hash'][:12]}`, seed "
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
        part = _ranked(data, output)[0].reset_index(drop=True)
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
            (i for i, r in enumerate(part.itertuples()) if _factor_kind(r.parameter) == "dial"),
            None,
        )
        rows = [
            [
                str(i + 1),
                f"`{r.parameter}`",
                _factor_kind(r.parameter),
                f"{r.mu_star:.3f} ± {r.mu_star_conf:.3f}",
                f"{r.mu:+.3f}",
                f"{r.sigma:.3f}",
            ]
            for i, r in enumerate(part.head(MORRIS_TOP).itertuples())
        ]
        above = [
            _short(r.parameter)
            for r in part.head(first_dial if first_dial is not None else len(part)).itertuples()
        ]
        dial_text = (
            f"the first dial, {_short(part.loc[first_dial, 'parameter'])}, ranks "
            f"{first_dial + 1} of {k}"
            if first_dial is not None
            else "no dial was screened"
        )
        ahead[output] = len(above)
        lines += [
            f"**{plots.label(output)}** (`{output}`): {verdict}. {dial_text.capitalize()}.",
            "",
            *_table(["rank", "factor", "kind", "mu*", "mu", "sigma"], rows),
            "",
            f"![Morris indices of {output}]({rel}/sensitivity_{output}.png)",
            "",
        ]
        top = "; ".join(
            f"{_short(r.parameter)} {r.mu_star:.3f} ± {r.mu_star_conf:.3f}"
            for r in part.head(3).itertuples()
        )
        answer.append(
            f"{plots.label(output)} over the constants ({data['samples']} Morris trajectories, "
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
    plain = [
        f"{plots.label(o).lower()}: {n} constant{'s' if n != 1 else ''}" for o, n in ahead.items()
    ]
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
    dims = _prim_dims(folder)
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
                plots.label(s["metric"]),
                *(
                    f"{s[r]['share']:.0%} [{s[r]['lo']:.0%}, {s[r]['hi']:.0%}]; clear "
                    f"{s[r]['clear_share']:.0%} [{s[r]['clear_lo']:.0%}, {s[r]['clear_hi']:.0%}]"
                    for r in (a, b)
                ),
                _ci(s["mean_diff"], 3, sign=True),
            ]
        )
        best = max((a, b), key=lambda r: s[r]["share"])
        answer.append(
            f"{plots.label(s['metric'])} over {points} points of constants and situation: "
            f"{best} better in {s[best]['share']:.0%} [{s[best]['lo']:.0%}, "
            f"{s[best]['hi']:.0%}] of them, mean {b} − {a} {_ci(s['mean_diff'], 3, True)}; "
            f"{_holds(s, (a, b))} [{rel}]"
        )
    lines += _table(["metric", f"{a} better", f"{b} better", f"mean {b} − {a} [95% CI]"], rows)
    lines += ["", f"![Shares won]({rel}/shares.png)", ""]
    small = dims and points < PRIM_POINTS_PER_DIM * dims
    lines.append(f"Where {a} wins (PRIM, the box of highest coverage with density ≥ 0.7):")
    for metric, prim in data.get("prim_where_first_wins", {}).items():
        cases = round(prim["base_rate"] * points)
        if not prim["boxes"]:
            lines.append(f"- {plots.label(metric)}: no box ({a} wins {cases} of {points} points).")
            continue
        box = prim["boxes"][0]
        named = [_short(x["parameter"]) for x in box.get("limits", [])]
        consts = [x for x in named if f"behaviour.{x}" in box["rule"]]
        lines.append(
            f"- {plots.label(metric)} ({a} wins {cases} of {points} points): *{box['rule']}* "
            f"(coverage {box['coverage']:.2f}, density {box['density']:.2f}, mass "
            f"{box['mass']:.2f}); constants in the box: {_and(consts) if consts else 'none'}. "
            f"Figure: `{rel}/prim_{metric}/boxes.png`."
        )
        if consts:
            answer.append(
                f"Where {a} wins on {plots.label(metric).lower()} depends on named constants: "
                f"the PRIM box restricts {_and(consts)} (coverage {box['coverage']:.2f}, "
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
    plain = "; ".join(f"on {plots.label(s['metric']).lower()}, {_holds(s, (a, b))}" for s in shares)
    lines[:0] = [f"In plain words, over the uncertain constants and situations: {plain}.", ""]
    return lines, answer


def _prim_dims(folder: Path | None) -> int:
    """The number of uncertain parameters, from a stored PRIM analysis (0 if none)."""
    if folder is None:
        return 0
    for path in sorted(folder.glob("prim_*/boxes.json")):
        return len(json.loads(path.read_text()).get("parameters", []))
    return 0


def _mix_resolution(folder: Path | None, top: int) -> float | None:
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
        f"Spec `{_spec_name(data['spec'])}` (hash `{data['spec_hash'][:12]}`, seed "
        f"{data['seed']}): in each of {len(best)} cells of "
        f"{' × '.join(f'`{x}`' for x in axes)}, {data['mixes_per_cell']} mixes (a Latin "
        f"hypercube of {_and([_short(d) for d in dials])}, with and without "
        f"{_and([_short(x) for x in st['switches']])}) in the {st['window']} window. The best "
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
                *(_num(r[x]) for x in axes),
                str(r["switches"]),
                " ".join(f"{_short(d)} {r[d]:.2f}" for d in dials),
                f"{r[obj]:.3f} [{r[f'{obj}_lo']:.3f}, {r[f'{obj}_hi']:.3f}]",
                f"{r['vs_runner_up']:+.3f} [{r['vs_runner_up_lo']:+.3f}, "
                f"{r['vs_runner_up_hi']:+.3f}]",
                f"{r['autonomy']:.2f} ({lean}); top {r['top_autonomy']:.2f}",
                f"{r['front_burnout']} / {r['front_equity']}",
            ]
        )
    lines += _table(
        [
            *[_short(x) for x in axes],
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
    res = _mix_resolution(folder, int(st["top"]))
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
                f"from {_short(axis)} {lo:g} to {hi:g}, within twice the search's resolution "
                f"(±{res:.2f}; {data['mixes_per_cell']} mixes per cell, {levels} levels)"
            )
        else:
            toward = "autonomy" if change > 0 else "construction"
            verdict = (
                f"toward {toward}: the top-{st['top']} autonomy index changes {change:+.2f} "
                f"from {_short(axis)} {lo:g} to {hi:g} ({levels} levels, no CI on the slope)"
            )
        lines.append(f"- Along `{axis}`: {verdict}.")
        said.append(f"{_short(axis)}: {verdict}")
        moves.append(f"along {_short(axis)}, {verdict.split(':')[0]}")
    lines += ["", f"![Best mix per cell]({rel}/best_mix.png)", "", f"![Fronts]({rel}/fronts.png)"]
    lines.append("")
    leans = best["autonomy"].gt(0.5).map({True: "autonomous", False: "constructive"})
    lines[:0] = [
        f"In plain words: the best mix found leans {_and(sorted(set(leans)))} in "
        f"{'every cell' if len(set(leans)) == 1 else 'different cells'}; whether it moves "
        "toward construction or autonomy as the situation changes: " + "; ".join(moves) + ".",
        "",
    ]
    answer = [
        f"Best mix ({len(best)} cells, {data['mixes_per_cell']} mixes each"
        f"{'; the same mix in every cell' if same else ''}; clear lead over the runner-up in "
        f"{clear}): the best mix leans {_and(sorted(set(leans)))} (autonomy index "
        f"{best['autonomy'].min():.2f}–{best['autonomy'].max():.2f}; best {obj} "
        f"{best[obj].min():.2f}–{best[obj].max():.2f}); as the situation changes — "
        + "; ".join(said)
        + f" [{rel}]"
    ]
    return lines, answer


def _window(res: Mapping[str, Any], path: str) -> Mapping[str, Any] | None:
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
        f"{_and(list(data['regimes']))}: the {data['scenario']} scenario's emergency, then "
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
            before = _window(res, "before")
            if before is None or metric not in before:
                continue
            effects = []
            for path in ("down", "turn", "up", "after"):
                w = _window(res, path)
                effects.append(_ci(w[metric]["effect"], 2, True) if w else "—")
            hyst = res.get("hysteresis", {}).get(metric, [])
            h_text = "; ".join(f"{h['sunk']}: {_ci(h, 3, True)}" for h in hyst) or "—"
            if any(h["lo"] > 0 or h["hi"] < 0 for h in hyst):
                hyst_any.append(plots.label(metric).lower())
            zero = before[metric]["withdrawal"]["hi"] <= 0  # e.g. no claiming at all
            rows.append(
                [
                    plots.label(metric) + (" (none in this regime)" if zero else ""),
                    _ci(before[metric]["withdrawal"]),
                    *effects,
                    h_text,
                    res["verdict"].get(metric, ""),
                ]
            )
        lines += [f"**{regime}**", ""]
        lines += _table(
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
        turn = _window(res, "turn")
        eff = turn["efficacy"]["effect"] if turn and "efficacy" in turn else None
        verdicts = "; ".join(
            f"{plots.label(m).lower()} {res['verdict'][m]}"
            for m in WITHDRAWAL_METRICS
            if m in res["verdict"]
        )
        answer.append(
            f"Withdrawal under {regime}: {verdicts}"
            + (f" (efficacy with no sunk cadre present {_ci(eff, 2, True)})" if eff else "")
            + (
                f"; the way back differs from the way down on {_and(hyst_any)}"
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
            f"- {_and(missing)}: the stored runs predate `efficacy_worst_decile`, so they "
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
            name = plots.label(s["metric"]).lower()
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
                    _short(x["parameter"])
                    for x in (box[0].get("limits", []) if box else [])
                    if x["parameter"].startswith("behaviour.")
                ]
                depends.append(
                    f"{name} ({b} better in {r['share']:.0%} [{r['lo']:.0%}, {r['hi']:.0%}]"
                    + (f"; where {a} wins turns on {_and(consts)}" if consts else "")
                    + ")"
                )
        points = sit["shares"][0]["points"] if sit["shares"] else 0
        text = f"**Over the uncertain constants** ({points} points of constants and situation; "
        text += "a conclusion holds when one regime's share of the space has its CI above half): "
        text += ("it holds for " + _and(holds)) if holds else "no conclusion holds"
        text += ("; it depends for " + _and(depends)) if depends else ""
        said.append(text + ". The sample is small; the boxes are hints.")
    morris = loaded.get("constants_morris")
    if morris is not None:
        tops = []
        for output in OUTCOMES:
            part = _ranked(morris, output)[0]
            if part.empty:
                continue
            r = part.iloc[0]
            tops.append(
                f"{plots.label(output).lower()}: {_short(r['parameter'])} "
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
        res = _mix_resolution(out / "findings" / "best_mix", int(mix["settings"]["top"]))
        moves = []
        for axis, lim in mix["settings"]["axes"].items():
            change = float(mix["trends"][axis]["autonomy"]) * (float(lim[-1]) - float(lim[0]))
            if res is not None and abs(change) < 2 * res:
                moves.append(f"along {_short(axis)} too small to tell ({change:+.2f})")
            else:
                toward = "autonomy" if change > 0 else "construction"
                moves.append(f"along {_short(axis)} toward {toward} ({change:+.2f})")
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
            turn = _window(res_, "turn")
            eff = f" ({_ci(turn['efficacy']['effect'], 2, True)} with none present)" if turn else ""
            before = _window(res_, "before") or {}
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
        body += ["Not run yet: `python -m saca.experiments.reports.findings --only dials`.", ""]
    for a in ANALYSES:
        data = _load(out, a)
        if data is not None:
            loaded[a.name] = data
        title, section = a.title, SECTIONS[a.section]
        folder = out / "findings" / a.name
        rel = _rel(folder, out)
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
                _minutes(t.get("run_seconds")),
                _minutes(t.get("wall_s_last_session")),
                _commit(data),
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
        *_table(
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the analyses and write the report.

    Args:
        argv: command-line arguments (see the module docstring).
    """
    ap = argparse.ArgumentParser(
        prog="python -m saca.experiments.reports.findings", description=__doc__.splitlines()[0]
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
