"""docs/FINDINGS.md is written from the analyses' files, and says what they say."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from saca.experiments import stats
from saca.experiments.reports.findings import policy, sections
from saca.experiments.reports.findings import report as findings_report
from saca.experiments.reports.findings import run as findings_run
from saca.experiments.reports.findings import text as findings_text

DOCS = Path(__file__).resolve().parent.parent / "docs"
SUMMARIES = [(a.name, a.summary) for a in findings_run.ANALYSES] + [("dials", "contrasts.json")]


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    """A report folder holding copies of the stored analyses' small files (no runs)."""
    if not all((DOCS / "findings" / n / f).is_file() for n, f in SUMMARIES):
        pytest.skip(
            "docs/findings is not complete: run python -m saca.experiments.reports.findings"
        )
    for name, _ in SUMMARIES:
        src = DOCS / "findings" / name
        dst = tmp_path / "findings" / name
        dst.mkdir(parents=True)
        for f in src.iterdir():
            if f.is_file():
                shutil.copy(f, dst / f.name)
            elif f.name.startswith("prim_"):  # the uncertainty's PRIM boxes (small files)
                shutil.copytree(f, dst / f.name)
    timings = DOCS / "findings" / "timings.json"
    if timings.is_file():
        shutil.copy(timings, tmp_path / "findings" / "timings.json")
    return tmp_path


def test_the_report_quotes_the_map_tallies_of_its_files(stored: Path) -> None:
    text = findings_report.write_report(stored).read_text()
    data = json.loads((stored / "findings" / "map_risk_capacity" / "map.json").read_text())
    wins = data["metrics"]["efficacy"]["wins"]
    n_cells = len(data["cells"]) // len(data["metrics"])
    line = next(
        x
        for x in text.splitlines()
        if "[findings/map_risk_capacity]" in x and not x.startswith("**Equity**")
    )
    assert f"autonomous wins {wins['autonomous']}" in line and f"of {n_cells} cells" in line
    for a in findings_run.ANALYSES:
        assert f"## {a.title}" in text and "Not run yet" not in text


def test_the_brief_quotes_the_discovery_and_the_leading_dials(stored: Path) -> None:
    loaded = {n: json.loads((stored / "findings" / n / f).read_text()) for n, f in SUMMARIES}
    said = " ".join(findings_report.brief(loaded, stored))
    diff = pd.read_parquet(stored / "findings" / "discovery" / "points.parquet")["diff"]
    assert f"median {diff.median():.2f}" in said
    lead = sections.leading_dials(loaded["sensitivity"], "efficacy")
    assert lead and all(dial in said for dial in lead)


def test_leading_dials_are_those_whose_ci_reaches_the_top() -> None:
    rows = [
        ("regime.control", 0.50, 0.10),
        ("regime.information", 0.45, 0.05),  # reaches 0.40: tied with the top
        ("regime.goals", 0.20, 0.10),  # 0.30 < 0.40: below
    ]
    data = {
        "method": "sobol",
        "indices": [
            {"output": "efficacy", "parameter": p, "ST": v, "ST_conf": c} for p, v, c in rows
        ],
    }
    assert sections.leading_dials(data, "efficacy") == ["control", "information"]
    assert sections.leading_dials(data, "burnout_mean") == []


def test_a_missing_analysis_is_reported_as_not_run(tmp_path: Path) -> None:
    text = findings_report.write_report(tmp_path).read_text()
    assert text.count("Not run yet") == len(findings_run.ANALYSES) + 1  # and the dial table
    assert "saca map experiments/specs/map_risk_capacity.toml" in text
    # the new analyses, each with the sizes and seeds of its committed results
    for command in (
        "saca sensitivity experiments/specs/constants_morris.toml --samples 2",
        "saca uncertainty experiments/specs/constants_situation.toml --samples 32",
        "saca best-mix experiments/specs/best_mix.toml",
        "saca withdrawal --regimes constructive,autonomous --replicates 8 --seed 13 --set "
        "situation.households=1200",
    ):
        section = text.split(command)[0].rsplit("## ", 1)[1]
        assert section.rstrip().endswith("Not run yet: `"), command


def test_every_analysis_command_parses_as_saca_would_run_it(tmp_path: Path) -> None:
    """The options each command lacks (--backend, --resume) are not passed to it."""
    from saca.experiments.cli.parser import build_parser

    parser = build_parser()
    for a in [a for a in findings_run.ANALYSES if not a.reuses_runs]:
        args = parser.parse_args(a.argv(tmp_path / a.name, "process", 2))
        assert args.workers == 2
        assert getattr(args, "resume", False) is a.resumable
        assert getattr(args, "force", False) is not a.resumable
    withdrawal = next(a for a in findings_run.ANALYSES if a.name == "withdrawal")
    args = parser.parse_args(withdrawal.argv(tmp_path, "process", 2))
    stored = json.loads((DOCS / "findings" / "withdrawal" / "withdrawal.json").read_text())
    assert (args.replicates, args.seed) == (stored["replicates"], stored["seed"])
    assert sorted(args.set) == sorted(f"{k}={v}" for k, v in stored["overrides"].items())


def test_the_constants_sections_quote_the_screening_and_the_shares(stored: Path) -> None:
    text = findings_report.write_report(stored).read_text()
    folder = stored / "findings"
    morris = json.loads((folder / "constants_morris" / "indices.json").read_text())
    top = findings_text.ranked_factors(morris, "efficacy")[0].iloc[0]
    assert f"`{top.parameter}` | " in text
    assert f"{top.mu_star:.3f} ± {top.mu_star_conf:.3f}" in text
    rec = morris["convergence"]["per_output"][0]["recommended_samples"]
    assert f"the tool recommends {rec} trajectories (now {morris['samples']})" in text
    k = len(morris["parameters"])
    assert f"{k + 2}·N runs" in text
    shares = json.loads((folder / "constants_situation" / "shares.json").read_text())
    for s in shares["shares"]:
        a = s["autonomous"]
        assert f"{a['share']:.0%} [{a['lo']:.0%}, {a['hi']:.0%}]" in text
    box = shares["prim_where_first_wins"]["efficacy"]["boxes"][0]
    assert f"*{box['rule']}* (coverage {box['coverage']:.2f}, density {box['density']:.2f}" in text
    assert re.search(r"> Small sample: 32 points for \d+ parameters", text)
    brief = text.split("## The answer in brief")[1].split("The numbers behind it")[0]
    assert "**Over the uncertain constants**" in brief and "it depends for efficacy" in brief


def test_the_best_mix_section_quotes_each_cell(stored: Path) -> None:
    text = findings_report.write_report(stored).read_text()
    data = json.loads((stored / "findings" / "best_mix" / "best_mix.json").read_text())
    for r in data["best"]:
        assert f"{r['efficacy']:.3f} [{r['efficacy_lo']:.3f}, {r['efficacy_hi']:.3f}]" in text
        assert f"| {r['front_burnout']} / {r['front_equity']} |" in text
    assert "Along `situation.risk`: too small to tell" in text  # 2 levels, 32 mixes a cell


def test_a_best_mix_shift_beyond_the_resolution_is_named(tmp_path: Path) -> None:
    """Constructed: the top mixes' autonomy rises by 0.5 along risk, far above the spread."""
    dials = [f"regime.{d}" for d in ("information", "consensus", "goals")]
    best = [
        {
            "cell": i,
            "situation.risk": risk,
            "switches": "task_force=0",
            **{d: risk for d in dials},
            "efficacy": 0.7,
            "efficacy_lo": 0.6,
            "efficacy_hi": 0.8,
            "vs_runner_up": 0.1,
            "vs_runner_up_lo": 0.05,
            "vs_runner_up_hi": 0.15,
            "autonomy": risk,
            "top_autonomy": risk,
            "front_burnout": 2,
            "front_equity": 1,
        }
        for i, risk in enumerate((0.2, 0.8))
    ]
    data = {
        "spec": "best_mix.toml",
        "spec_hash": "0" * 64,
        "seed": 1,
        "settings": {
            "axes": {"situation.risk": [0.2, 0.8]},
            "switches": {"regime.task_force": [False, True]},
            "objective": "efficacy",
            "window": "emergency",
            "top": 4,
        },
        "mixes_per_cell": 8,
        "best": best,
        "trends": {"situation.risk": {"autonomy": 0.5 / 0.6}},
    }
    cand = pd.DataFrame({"cell": [0, 0, 1, 1], "autonomy": [0.1, 0.3, 0.7, 0.9]})
    cand.to_parquet(tmp_path / "candidates.parquet")
    lines, said = policy.best_mix_section(data, "findings/best_mix", tmp_path)
    assert "toward autonomy: the top-4 autonomy index changes +0.50" in said[0]
    assert "The best mix differs between cells" in "\n".join(lines)


def test_the_withdrawal_section_quotes_the_paired_effects(stored: Path) -> None:
    text = findings_report.write_report(stored).read_text()
    data = json.loads((stored / "findings" / "withdrawal" / "withdrawal.json").read_text())
    for regime in data["regimes"]:
        res = data["results"][regime]
        turn = next(w for w in res["windows"].values() if w["path"] == "turn")
        e = turn["efficacy"]["effect"]
        assert f"{e['mean']:+.2f} [{e['lo']:+.2f}, {e['hi']:+.2f}]" in text
        h = res["hysteresis"]["trust_institution"][0]
        assert f"{h['sunk']}: {h['mean']:+.3f} [{h['lo']:+.3f}, {h['hi']:+.3f}]" in text
        assert res["verdict"]["efficacy"] in text
    assert "| Claim share (none in this regime) |" in text  # constructive has no claiming


def test_the_equity_section_names_a_mean_winner_that_loses_the_worst_off(
    tmp_path: Path,
) -> None:
    flag = f"b {stats.WORST_OFF} (against a)"
    cells = {
        "metric": ["efficacy"],
        "a_mean": [0.6],
        "b_mean": [0.7],
        "a_sd": [0.05],
        "b_sd": [0.15],
        "a_worst": [0.5],
        "b_worst": [0.3],
        "worst_off": [flag],
    }
    loaded = {"map_x": {"cells": pd.DataFrame(cells).to_dict("records"), "regimes": ["a", "b"]}}
    lines, answer = policy.equity_section(loaded, tmp_path)
    assert flag in answer[0] and "[findings/map_x]" in answer[0]
    old = {"map_x": {"cells": [{"metric": "efficacy", "a_mean": 0.6}], "regimes": ["a"]}}
    lines, answer = policy.equity_section(old, tmp_path)
    assert "predate `efficacy_worst_decile`" in "\n".join(lines)
    assert "no stored map or dial contrast records the worst decile" in answer[0]


def test_the_dial_table_lists_what_each_end_buys_and_costs(tmp_path: Path) -> None:
    def row(dial: str, metric: str, lo: float, hi: float, verdict: str) -> dict:
        return {
            "dial": dial,
            "metric": metric,
            "at_0": 0.5,
            "at_1": 0.5 + (lo + hi) / 2,
            "diff": (lo + hi) / 2,
            "lo": lo,
            "hi": hi,
            "n": 10,
            "verdict": verdict,
        }

    data = {
        "settings": {
            "scenario": "emergency",
            "base": "hybrid",
            "replicates": 10,
            "seed": 11,
            "overrides": {},
            "days": 180,
        },
        "rows": [
            row("contract", "efficacy", 0.1, 0.2, "better"),
            row("contract", "trust_cadre_cadre", -0.03, -0.01, "worse"),
            row("control", "efficacy", 0.05, 0.1, "better"),
            row("control", "burnout_mean", -0.1, -0.05, "better"),
        ],
    }
    folder = tmp_path / "findings" / "dials"
    folder.mkdir(parents=True)
    (folder / "contrasts.json").write_text(json.dumps(data))
    lines, said = sections.dials_section(data, "findings/dials", folder)
    text = "\n".join(lines)
    assert "| `contract` | efficacy (share resolved by deadline) +0.15 [+0.1, +0.2] |" in text
    assert text.count("| yes |") == 1 and text.count("| no |") == 1
    assert "but control" in said[0] and "control makes outcomes only better" in said[0]
    report = findings_report.write_report(tmp_path).read_text()
    assert "## Each dial's two sides" in report and "`contract`" in report


def test_the_report_says_whether_the_paperwork_constant_decides_control() -> None:
    def frame(verdict: str) -> pd.DataFrame:
        return pd.DataFrame([{"dial": "control", "metric": "efficacy", "verdict": verdict}])

    flips = sections._paperwork_verdict(frame("better"), frame("no clear difference"))
    assert "decided by that declared constant" in flips
    same = sections._paperwork_verdict(frame("better"), frame("better"))
    assert "does not hinge" in same and "decided by" not in same


def test_the_compute_table_names_the_commit_of_each_analysis(stored: Path) -> None:
    text = findings_report.write_report(stored).read_text()
    compute = text.split("## Compute")[1].split("## Limits")[0]
    assert "| code |" in compute
    commits = {
        json.loads((stored / "findings" / a.name / a.summary).read_text()).get("git_commit")
        for a in findings_run.ANALYSES
    }
    for c in commits - {None}:
        assert f"`{c[:7]}`" in compute


def test_map_equity_sits_beside_efficacy_and_names_the_worst_off_trade() -> None:
    """Constructed cells: b wins the mean and loses the worst-off in one of two cells."""
    flag = f"b {stats.WORST_OFF} (against a)"
    cells = pd.DataFrame(
        {
            "metric": ["efficacy", "efficacy", "burnout_mean"],
            "a_mean": [0.6, 0.7, 0.2],
            "b_mean": [0.7, 0.72, 0.3],
            "a_sd": [0.05, 0.03, None],
            "b_sd": [0.15, 0.05, None],
            "a_worst": [0.5, 0.6, None],
            "b_worst": [0.3, 0.6, None],
            "worst_off": [flag, None, None],
        }
    )
    lines, answer = sections.equity_lines(cells, ["a", "b"])
    row_b = next(x for x in lines if x.startswith("| b "))
    assert [c.strip() for c in row_b.strip("|").split("|")] == ["b", "0.71", "0.10", "0.45", "1"]
    assert answer == [f"Equity: in 1 of 2 cells a regime {stats.WORST_OFF} ({flag})"]
    # stored before the worst decile existed: said so, no sentence in the answer
    old_lines, old_answer = sections.equity_lines(
        cells.drop(columns=["a_worst", "b_worst"]), ["a", "b"]
    )
    assert "not in these stored runs" in old_lines[0] and old_answer == []
