"""Validation text: the Markdown report (docs/VALIDATION.md), headline and regressions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from saca.experiments.analyses.validation.design import ROBUST_RANGES
from saca.experiments.analyses.validation.expectations import load_provenance
from saca.experiments.analyses.validation.method import kind_counts
from saca.experiments.analyses.validation.patterns import (
    DEFINITIONAL,
    DEFINITIONAL_ONLY,
    EMERGENT,
    EXPECTED_FILE,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    VERDICTS,
    value_text,
)


def number_text(x: Any, signed: bool = True) -> str:
    """A number to three significant digits, ``n/a`` when undefined.

    Args:
        x: the number (None or NaN: undefined).
        signed: show the sign of positive numbers too.
    """
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    x = float(x)
    a = abs(x)
    fmt = ".3g" if a >= 0.001 or a == 0 else ".2e"
    s = f"{x:{'+' if signed else ''}{fmt}}"
    return s


def ci_text(t: Mapping[str, Any]) -> str:
    """``effect [lo, hi]`` of a test.

    Args:
        t: a test's result.
    """
    return f"{number_text(t['effect'])} [{number_text(t['lo'])}, {number_text(t['hi'])}]"


def robustness_text(rob: Mapping[str, Any] | None) -> str:
    """``holds in 27 of 30 situations (CI excludes 0 in 20)``, or ``not checked``.

    Args:
        rob: a pattern's robustness entry.
    """
    if not rob:
        return "not checked"
    return (
        f"holds in {rob['held']} of {rob['points']} situations "
        f"(CI excludes 0 in {rob['significant']})"
    )


def headline(patterns: Sequence[Mapping[str, Any]]) -> str:
    """The counts: patterns by verdict (judged on emergent tests), then tests by kind.

    Args:
        patterns: the result's patterns.
    """
    counts = {v: sum(p["verdict"] == v for p in patterns) for v in VERDICTS}
    tests = [t for p in patterns for t in p["tests"]]
    kc = kind_counts(tests)
    e, d = kc[EMERGENT], kc[DEFINITIONAL]
    return (
        f"{counts[REPRODUCED]} of {len(patterns)} patterns reproduced on their emergent tests, "
        f"{counts[NOT_REPRODUCED]} not reproduced, {counts[INCONCLUSIVE]} inconclusive, "
        f"{counts[DEFINITIONAL_ONLY]} definitional only (no emergent test). Tests: "
        f"{e['reproduced']} of {e['tests']} emergent tests reproduced; {d['reproduced']} of "
        f"{d['tests']} definitional tests (which restate an input) reproduced, counted apart."
    )


def regressions(result: Mapping[str, Any], expected: Mapping[str, str]) -> list[str]:
    """Patterns expected *reproduced* that are not reproduced now, one message each.

    Args:
        result: the output of :func:`run_validation`.
        expected: pattern id → expected verdict (one mode of :func:`load_expected`).
    """
    out = []
    for p in result["patterns"]:
        if expected.get(p["id"]) == REPRODUCED and p["verdict"] != REPRODUCED:
            rows = "; ".join(f"{t['label']}: {ci_text(t)} ({t['verdict']})" for t in p["tests"])
            out.append(f"{p['id']} was reproduced and is now {p['verdict']}: {rows}")
    return out


def _md_escape(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _fails_text(rob: Mapping[str, Any]) -> list[str]:
    keys = list(ROBUST_RANGES)
    fails = [s for s in rob["situations"] if not s["holds"]]
    if not fails:
        return ["It holds at every situation of the hypercube."]
    by_test: dict[str, int] = {}
    for s in fails:
        for t in s["failed_tests"]:
            by_test[t] = by_test.get(t, 0) + 1
    lines = [
        "Tests that fail: "
        + "; ".join(f"*{_md_escape(t)}* at {n} of {rob['points']}" for t, n in by_test.items())
        + ".",
        "",
        "Where it fails (situation values; the tests whose mean effect had the wrong sign):",
        "",
        "| " + " | ".join(k.removeprefix("situation.") for k in keys) + " | failed tests |",
        "|" + "---|" * (len(keys) + 1),
    ]
    for s in fails:
        cells = [f"{s[k]:.3g}" for k in keys]
        lines.append("| " + " | ".join(cells) + f" | {', '.join(s['failed_tests'])} |")
    all_s = rob["situations"]
    shifts = []
    for k in keys:
        lo, hi = ROBUST_RANGES[k]
        f_mean = float(np.mean([s[k] for s in fails]))
        a_mean = float(np.mean([s[k] for s in all_s]))
        shift = (f_mean - a_mean) / (hi - lo)
        if abs(shift) >= 0.1:
            shifts.append(
                f"{k.removeprefix('situation.')} {'high' if shift > 0 else 'low'} "
                f"(mean {f_mean:.3g} where it fails vs {a_mean:.3g} over all points)"
            )
    if shifts:
        lines += ["", "Failures lean toward: " + "; ".join(shifts) + "."]
    return lines


def markdown_report(
    result: Mapping[str, Any], figures: str, command: str, wall_seconds: float | None = None
) -> str:
    """docs/VALIDATION.md: the verdict table and, per pattern, claim, source, experiment,
    figure, effects, verdict, mechanism and robustness.

    Args:
        result: the output of :func:`run_validation`.
        figures: the figures' directory relative to the report.
        command: the command that produced it.
        wall_seconds: total wall time, or None to use the result's.
    """
    meta = result["meta"]
    pats = result["patterns"]
    secs = meta["seconds"] if wall_seconds is None else wall_seconds
    rob_meta = meta.get("robustness")
    size = meta["size"]
    size_text = (
        size
        if isinstance(size, str)
        else ", ".join(f"{k.removeprefix('situation.')} {v}" for k, v in size.items())
    )
    reps = sorted(set(meta["replicates"].values()))
    L = [
        "# Validation: the sixteen patterns",
        "",
        "<!-- Generated by `saca validate`; do not edit by hand (edit the pattern files in "
        "experiments/patterns/ or the template in experiments/analyses/validation/report.py). -->",
        "",
        f"Generated by `{command}` on {meta['timestamp'][:10]} from commit "
        f"`{(meta.get('git_commit') or 'unknown')[:12]}` (saca {meta.get('saca_version')}), "
        f"{meta['runs'] + (rob_meta['runs'] if rob_meta else 0)} runs in {secs / 60:.1f} min "
        f"of wall time on {meta['workers']} worker processes"
        + (
            f" ({meta['cpu_seconds'] / 60:.1f} min of CPU time, i.e. about "
            f"{meta['cpu_seconds'] / max(meta['workers'], 1) / 60:.1f} min of wall time on "
            f"{meta['workers']} otherwise idle cores)."
            if meta.get("cpu_seconds")
            else "."
        ),
        "",
        f"**Sizes.** Experiments: {meta['mode']} mode, {size_text}; "
        f"{'/'.join(str(r) for r in reps)} replicates per arm. "
        + (
            f"Robustness: {rob_meta['points']} situations × {rob_meta['replicates']} "
            f"replicates at {rob_meta['size']['situation.households']} households, "
            f"{rob_meta['size']['situation.communities']} communities, "
            f"{rob_meta['size']['days']} days ({rob_meta['runs']} runs, "
            f"{rob_meta['seconds'] / 60:.1f} min); {rob_meta['levels']}."
            if rob_meta
            else "No robustness check in this run."
        ),
        "",
        "**Method.** Each pattern of the source studies (P1–P16, ODD §1) has one experiment, "
        "a TOML file in `experiments/patterns/`. An experiment has one or more tests: a "
        "contrast (two regimes, a switch, a within-run change, a gradient, an interior "
        "optimum or an interaction), a metric in a window, and the sign the claim expects. "
        "Every arm of a test runs with the same replicate seeds (common random numbers), so "
        "effects are computed per replicate — a paired difference, an OLS slope, the middle "
        "setting minus the better end, or the change of a slope with a moderator — and the "
        "95% CI is a Student t interval over replicates. A test is *reproduced* when its CI "
        "lies beyond its minimum effect (zero unless the file sets `min_effect`) in the "
        "expected direction, *not reproduced* when it excludes zero the other way, "
        "*inconclusive* otherwise; direction and minimum effect are fixed in the pattern file "
        "before the run. Each test is labelled *emergent* (its effect arises from interacting "
        "mechanisms) or *definitional* (it restates an input, e.g. a starting value or a lookup "
        "table; the file says which and why). A pattern is reproduced when all its emergent "
        "tests are, not reproduced when any is, and *definitional only* when it has none; "
        "definitional tests are reported as checks and counted apart. "
        "No code path exists for a pattern: the runs are ordinary runs of the model, and the "
        "regime and situation only change the inputs of its submodels.",
        "",
        "**Robustness.** A pattern reproduced at the defaults is rerun at each point of a "
        "Latin hypercube over the situation ("
        + ", ".join(f"`{k}` {a:g}–{b:g}" for k, (a, b) in ROBUST_RANGES.items())
        + "). It *holds* at a point when every test's mean effect has the expected sign; the "
        "count in brackets is the number of points where every CI also excludes zero (with "
        "only a few replicates per point, a strict test). A parameter that the pattern's own "
        "contrast sets (e.g. the risk gradient of P2) takes the contrast's values, not the "
        "point's. `situation.risk` only acts in an emergency phase. The robustness runs are "
        "as long as quick mode's (72 days; the emergency lasts 24 days instead of 60), so a "
        "test whose sign depends on how long the emergency lasts can fail there for that "
        "reason rather than because of the situation (P2's pressure test: see P2).",
        "",
        f"**Result.** {headline(pats)}",
        "",
        "| pattern | claim | tests: effect [95% CI] | verdict | robustness |",
        "|---|---|---|---|---|",
    ]
    for p in pats:
        tests = "<br>".join(
            f"{_md_escape(t['label'])}{_kind_mark(t)}: {ci_text(t)} ({t['expected']}) "
            f"{_mark(t['verdict'])}"
            for t in p["tests"]
        )
        rob = p.get("robustness")
        L.append(
            f"| [{p['id']}](#{p['id'].lower()}) | {_md_escape(p['title'])} | {tests} | "
            f"**{p['verdict']}** | {robustness_text(rob) if rob else '—'} |"
        )
    L += ["", "✓ reproduced, ✗ not reproduced, ? inconclusive.", ""]
    if rob_meta:
        L += [f"![Robustness]({figures}/robustness.png)", ""]
    for p in pats:
        L += _pattern_section(p, figures)
    L += [
        "## Reproducing this report",
        "",
        "```bash",
        command,
        "saca validate --quick            # the CI check: 72-day runs, 5 replicates",
        "saca validate --pattern P1,P12   # some patterns; --json for every number",
        "```",
        "",
        "The expected verdicts that CI holds the model to are in "
        "`experiments/patterns/expected.toml`; `tests/test_validate.py` fails when a pattern "
        "expected *reproduced* in quick mode is not. "
        + _provenance_text(load_provenance() if EXPECTED_FILE.is_file() else {}),
        "",
    ]
    return "\n".join(L)


def _provenance_text(prov: Mapping[str, Mapping[str, Any]]) -> str:
    """Which commit produced each section of expected.toml, in words."""
    parts = []
    for mode in ("full", "quick"):
        pr = prov.get(mode) or {}
        if pr:
            kind = "a full run" if pr.get("full") else "a quick run (full = false)"
            parts.append(
                f"[{mode}] was written from {kind} of commit `{str(pr.get('commit'))[:12]}` "
                f"({str(pr.get('timestamp', ''))[:10]})"
            )
        else:
            parts.append(f"[{mode}] records no producing run")
    return "; ".join(parts) + "."


def _kind_mark(t: Mapping[str, Any]) -> str:
    """`` *(definitional)*`` after a definitional test's label, else nothing."""
    return " *(definitional)*" if t.get("kind") == DEFINITIONAL else ""


def _min_text(t: Mapping[str, Any]) -> str:
    """`` (beyond 0.05)`` for a test with a minimum effect, else nothing."""
    m = t.get("min_effect") or 0.0
    return f" (beyond {number_text(m, False)})" if m else ""


def _mark(v: str) -> str:
    return {REPRODUCED: "✓", NOT_REPRODUCED: "✗", INCONCLUSIVE: "?"}[v]


def _pattern_section(p: Mapping[str, Any], figures: str) -> list[str]:
    e = p["experiment"]
    ov = ", ".join(f"`{k} = {value_text(v)}`" for k, v in e["overrides"].items()) or "none"
    L = [
        f'<a id="{p["id"].lower()}"></a>',
        "",
        f"## {p['id']} · {p['title']}",
        "",
        f"**Claim.** {' '.join(p['claim'].split())}",
        "",
        f"**Source.** Seed {p['source']['seed']}: “{' '.join(p['source']['passage'].split())}”",
        "",
        f"**Experiment** (`experiments/patterns/{p['file']}`). Scenario `{e['scenario']}`, "
        f"base regime `{e['regime']}`, fixed overrides: {ov}; {e['replicates']} replicates "
        f"per arm, root seed {e['seed']}.",
        "",
        "| test | kind | contrast | metric [window] | expected | effect [95% CI] | n | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in p["tests"]:
        win = "" if t["contrast"]["kind"] == "change" else f" [{t['window']}]"
        extra = []
        if t["regime"] != e["regime"]:
            extra.append(f"regime `{t['regime']}`")
        if t["scenario"] != e["scenario"]:
            extra.append(f"scenario `{t['scenario']}`")
        more = {k: v for k, v in t["overrides"].items() if k not in e["overrides"]}
        extra += [f"`{k} = {value_text(v)}`" for k, v in more.items()]
        where = f" ({', '.join(extra)})" if extra else ""
        L.append(
            f"| {_md_escape(t['label'])} | {t.get('kind', EMERGENT)} | "
            f"{_md_escape(t['contrast']['description'])}{where} | "
            f"`{t['metric']}`{win} | {t['expected']}{_min_text(t)} | {ci_text(t)} | {t['n']} | "
            f"{t['verdict']} |"
        )
    for t in p["tests"]:
        if t.get("kind") == DEFINITIONAL:
            L += ["", f"*{_md_escape(t['label'])}* is definitional: {_md_escape(t['why'])}"]
    for t in p["tests"]:
        if t.get("by_level"):
            c = t["contrast"]
            slopes = "; ".join(
                f"{r['by']:g}: {number_text(r['slope'])} "
                f"[{number_text(r['lo'])}, {number_text(r['hi'])}]"
                for r in t["by_level"]
            )
            best = ", ".join(
                f"{r['by']:g} → {value_text(r['best'])}"
                for r in t["by_level"]
                if r["best"] is not None
            )
            L += [
                "",
                f"*{_md_escape(t['label'])}*: slope of `{t['metric']}` on `{c['key']}` at each "
                f"`{c['by']}`: {slopes}. Level of `{c['key']}` with the highest mean at each "
                f"`{c['by']}`: {best}.",
            ]
    L += [
        "",
        f"![{p['id']}]({figures}/{p['id']}.png)",
        "",
        f"**Verdict: {p['verdict']}.**",
        "",
        f"**Mechanism.** {' '.join(p['mechanism'].split())}",
        "",
        "Parameters it depends on: " + ", ".join(f"`{k}`" for k in p["parameters"]) + ".",
        "",
    ]
    if p["verdict"] != REPRODUCED and p.get("diagnosis"):
        L += [f"**Diagnosis.** {' '.join(p['diagnosis'].split())}", ""]
    rob = p.get("robustness")
    if rob:
        L += [f"**Robustness.** {p['id']} {robustness_text(rob)}.", ""]
        if rob["fixed_by_pattern"]:
            L += [
                "Set by the pattern's own experiment rather than the situation point: "
                + ", ".join(f"`{k}`" for k in rob["fixed_by_pattern"])
                + ".",
                "",
            ]
        L += [*_fails_text(rob), ""]
    elif p["verdict"] == REPRODUCED:
        L += ["**Robustness.** Not checked in this run.", ""]
    return L
