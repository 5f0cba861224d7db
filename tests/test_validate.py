"""Tests of the pattern-oriented validation (``saca validate``, experiments/analyses/validation/).

The effect, CI and verdict arithmetic is checked on known numbers; the pattern files are
checked for what the issue asks of them; spec errors exit 2 with one line; and the quick
validation of all sixteen patterns (in four groups, one per test class, that the test
workers share) fails when a pattern that ``experiments/patterns/expected.toml`` says is
reproduced in quick mode is not.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sst

from saca.experiments.analyses.validation import (
    command,
    design,
    expectations,
    figures,
    method,
    patterns,
    report,
    workflow,
)
from saca.experiments.cli.main import main
from saca.model import SacaInputError

ALL = [f"P{i}" for i in range(1, 17)]


def call(argv):
    """Run main() and return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def _test(kind: str, expected: int = 1, **contrast) -> patterns.Test:
    return patterns.Test(
        label="t",
        metric=(("efficacy", 1.0),),
        window="all",
        expected=expected,
        contrast=patterns.Contrast(kind, **contrast),
        scenario="baseline",
        regime="hybrid",
    )


# ----- verdicts ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lo", "hi", "expected", "verdict"),
    [
        (0.1, 0.5, 1, patterns.REPRODUCED),
        (0.1, 0.5, -1, patterns.NOT_REPRODUCED),
        (-0.5, -0.1, -1, patterns.REPRODUCED),
        (-0.5, -0.1, 1, patterns.NOT_REPRODUCED),
        (-0.1, 0.1, 1, patterns.INCONCLUSIVE),
        (-0.1, 0.1, -1, patterns.INCONCLUSIVE),
        (0.0, 0.3, 1, patterns.INCONCLUSIVE),  # touching zero does not exclude it
        (math.nan, math.nan, 1, patterns.INCONCLUSIVE),
        (None, None, -1, patterns.INCONCLUSIVE),
    ],
)
def test_verdict(lo, hi, expected, verdict):
    assert method.verdict(lo, hi, expected) == verdict


def test_pattern_verdict():
    R, N, U = patterns.REPRODUCED, patterns.NOT_REPRODUCED, patterns.INCONCLUSIVE
    assert method.pattern_verdict([R, R, R]) == R
    assert method.pattern_verdict([R, U]) == U
    assert method.pattern_verdict([R, N, U]) == N
    assert method.pattern_verdict([]) == U


def test_a_pattern_is_judged_on_its_emergent_tests_only():
    R, N, U = patterns.REPRODUCED, patterns.NOT_REPRODUCED, patterns.INCONCLUSIVE
    E, D = patterns.EMERGENT, patterns.DEFINITIONAL
    # a reproduced definitional test cannot carry an inconclusive emergent one
    assert method.pattern_verdict([R, U], [D, E]) == U
    # nor can a failed definitional check sink reproduced emergent tests
    assert method.pattern_verdict([N, R], [D, E]) == R
    assert method.pattern_verdict([R, N], [E, E]) == N
    # only definitional tests: never "reproduced", whatever they show
    assert method.pattern_verdict([R, R], [D, D]) == patterns.DEFINITIONAL_ONLY
    assert patterns.DEFINITIONAL_ONLY in patterns.VERDICTS
    tests = [
        {"kind": E, "verdict": R},
        {"kind": E, "verdict": U},
        {"kind": D, "verdict": R},
        {"kind": D, "verdict": R},
        {"kind": D, "verdict": N},
    ]
    assert method.kind_counts(tests) == {
        E: {"tests": 2, "reproduced": 1},
        D: {"tests": 3, "reproduced": 2},
    }


@pytest.mark.parametrize(
    ("lo", "hi", "expected", "verdict"),
    [
        (0.06, 0.2, 1, patterns.REPRODUCED),  # beyond the minimum effect
        (0.02, 0.2, 1, patterns.INCONCLUSIVE),  # excludes 0 but not the minimum effect
        (-0.2, -0.06, -1, patterns.REPRODUCED),
        (-0.2, -0.02, -1, patterns.INCONCLUSIVE),
        (-0.2, -0.01, 1, patterns.NOT_REPRODUCED),  # the other way: beyond 0 is enough
    ],
)
def test_verdict_with_a_minimum_effect(lo, hi, expected, verdict):
    assert method.verdict(lo, hi, expected, min_effect=0.05) == verdict


# ----- effects and CIs on known numbers ---------------------------------------------------
def test_paired_difference_known_ci():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = a + np.array([1.0, 2.0, 3.0, 4.0])  # differences 1, 2, 3, 4
    t = _test("regimes", a="x", b="y")
    e = method.effect(t, np.vstack([a, b]), patterns.arms(t))
    half = sst.t.ppf(0.975, 3) * np.std([1, 2, 3, 4], ddof=1) / 2
    assert e["effect"] == pytest.approx(2.5)
    assert e["lo"] == pytest.approx(2.5 - half)
    assert e["hi"] == pytest.approx(2.5 + half)
    assert e["lo"] == pytest.approx(0.4457, abs=1e-4)
    assert e["n"] == 4


def test_change_uses_same_runs():
    t = _test("change", before="span:0-0.1", after="span:0.9-1")
    before = np.array([0.5, 0.6, 0.7])
    e = method.effect(t, np.vstack([before, before - 0.2]), patterns.arms(t))
    assert e["effect"] == pytest.approx(-0.2)
    assert e["hi"] == pytest.approx(-0.2)  # identical differences: zero-width CI


def test_level_against_threshold():
    t = _test("level", expected=-1, threshold=0.5)
    e = method.effect(t, np.array([[0.2, 0.3, 0.25, 0.25]]), patterns.arms(t))
    assert e["effect"] == pytest.approx(-0.25)
    assert method.verdict(e["lo"], e["hi"], -1) == patterns.REPRODUCED


def test_slope():
    assert method.slope([0, 1, 2], [1, 3, 5]) == pytest.approx(2.0)
    assert method.slope([0, 1, 2, 3], [1, np.nan, 5, 7]) == pytest.approx(2.0)
    assert math.isnan(method.slope([1, 1], [2, 3]))


def test_gradient_slope_ci_on_synthetic_data():
    rng = np.random.default_rng(3)
    x = [0.0, 0.25, 0.5, 0.75, 1.0]
    t = _test("gradient", key="regime.control", values=tuple(x))
    reps = 12
    noise = rng.normal(0, 0.05, (len(x), reps))
    y = 0.3 - 0.4 * np.array(x)[:, None] + noise
    e = method.effect(t, y, patterns.arms(t))
    per = [np.polyfit(x, y[:, r], 1)[0] for r in range(reps)]
    assert e["effect"] == pytest.approx(np.mean(per))
    half = sst.t.ppf(0.975, reps - 1) * np.std(per, ddof=1) / math.sqrt(reps)
    assert e["hi"] - e["lo"] == pytest.approx(2 * half)
    assert e["lo"] < -0.4 < e["hi"]
    assert method.verdict(e["lo"], e["hi"], -1) == patterns.REPRODUCED


def test_optimum_middle_minus_better_end():
    t = _test("optimum", key="regime.contract", values=(0.0, 0.5, 1.0), middle=0.5)
    y = np.array([[0.5, 0.6], [0.8, 0.7], [0.6, 0.65]])  # rows: 0, 0.5, 1
    e = method.effect(t, y, patterns.arms(t))
    assert e["effect"] == pytest.approx(np.mean([0.8 - 0.6, 0.7 - 0.65]))


def test_interaction_slope_of_slopes():
    t = _test(
        "interaction",
        expected=-1,
        key="regime.front_loading",
        values=(0.0, 0.5, 1.0),
        by="situation.capacity_mean",
        by_values=(0.2, 0.5, 0.8),
    )
    arms = patterns.arms(t)
    # y = x * (0.1 - 0.3 * w) + replicate noise that does not depend on x
    y = np.array([[a.x * (0.1 - 0.3 * a.by) + r * 0.01 for r in range(4)] for a in arms])
    e = method.effect(t, y, arms)
    assert e["effect"] == pytest.approx(-0.3)
    assert [(a.by, a.x) for a in arms[:3]] == [(0.2, 0.0), (0.2, 0.5), (0.2, 1.0)]


def test_thinned_levels_keep_ends_and_an_optimums_middle():
    t = _test("optimum", key="regime.contract", values=(0.0, 0.25, 0.5, 0.75, 1.0), middle=0.5)
    assert [a.x for a in patterns.arms(t, thin=True)] == [0.0, 0.5, 1.0]
    g = _test("gradient", key="situation.risk", values=(0.3, 0.5, 0.7, 0.9))
    assert [a.x for a in patterns.arms(g, thin=True)] == [0.3, 0.9]


def test_metric_values_and_windows():
    summary = pd.DataFrame(
        {"efficacy": [0.8, 0.6], "efficacy_sd_between_communities": [0.1, 0.2]},
        index=pd.Index(["all", "emergency"], name="window"),
    )
    ts = pd.DataFrame({"efficacy": np.arange(10, dtype=float)})
    combo = (("efficacy", 1.0), ("efficacy_sd_between_communities", -1.0))
    assert method.metric_value(summary, ts, combo, "all") == pytest.approx(0.7)
    assert method.metric_value(summary, ts, (("efficacy", 1.0),), "emergency") == 0.6
    assert method.metric_value(summary, ts, (("efficacy", 1.0),), "span:0-0.2") == 0.5
    assert method.metric_value(summary, ts, (("efficacy", 1.0),), "span:0.9-1") == 9.0
    assert math.isnan(method.metric_value(summary, ts, (("efficacy", 1.0),), "recovery"))
    assert patterns.metric_text(combo) == "efficacy − efficacy_sd_between_communities"


def test_scaled_timeline_keeps_phase_proportions():
    tl = design.scaled_timeline("emergency", 72)
    assert [p["phase"] for p in tl] == ["normal", "emergency", "recovery"]
    assert tl[0]["start"] == 0 and tl[-1]["end"] == 72
    assert [p["end"] - p["start"] for p in tl] == [12, 24, 36]


def test_robust_design_is_a_latin_hypercube_in_range():
    d = design.robust_design(30, 1)
    assert len(d) == 30
    for k, (lo, hi) in design.ROBUST_RANGES.items():
        assert d[k].between(lo, hi).all()
        # one point in each of the 30 strata of every axis
        strata = np.floor((d[k] - lo) / (hi - lo) * 30).astype(int)
        assert sorted(strata) == list(range(30))
    assert d.equals(design.robust_design(30, 1))


# ----- the pattern files ------------------------------------------------------------------
def test_sixteen_patterns_load():
    pats = patterns.load_patterns()
    assert [p.id for p in pats] == ALL
    for p in pats:
        assert p.claim and p.passage and p.mechanism and p.parameters, p.id
        assert p.seed_study in ("000", "001", "002", "003", "004"), p.id
        assert p.replicates >= 10, p.id
        for t in p.tests:
            assert t.label and t.expected in (1, -1)
            assert t.kind in patterns.TEST_KINDS and t.min_effect >= 0
            assert (t.kind == patterns.DEFINITIONAL) == bool(t.why), (p.id, t.label)


def _kinds(pid: str) -> list[str]:
    (p,) = patterns.load_patterns([pid])
    return [t.kind for t in p.tests]


def test_tests_that_restate_an_input_are_labelled_definitional():
    D, E = patterns.DEFINITIONAL, patterns.EMERGENT
    assert _kinds("P3")[0] == D  # the starting trusts
    assert _kinds("P11") == [D, D]  # the prevention factor
    assert _kinds("P14")[0] == D  # the 70% grid-level share
    assert set(_kinds("P9")) == {D}  # the lookup tables of evaluation
    # what arises from interactions stays emergent: the regime contrasts of P1, P8, P15
    for pid in ("P1", "P8", "P15"):
        assert set(_kinds(pid)) == {E}, pid


@pytest.mark.parametrize(
    ("pid", "kinds"),
    [
        ("P2", {"gradient"}),
        ("P4", {"interaction"}),
        ("P12", {"interaction"}),
        ("P15", {"optimum"}),
    ],
)
def test_gradient_patterns_are_tested_as_gradients(pid, kinds):
    (p,) = patterns.load_patterns([pid])
    assert kinds <= {t.contrast.kind for t in p.tests}


def test_expected_verdicts_cover_every_pattern():
    exp = expectations.load_expected()
    assert sorted(exp["quick"], key=lambda s: int(s[1:])) == ALL
    assert sorted(exp["full"], key=lambda s: int(s[1:])) == ALL


def test_pattern_ids():
    assert patterns.pattern_id("p01") == "P1"
    assert patterns.parse_pattern_list("P1, 12") == ["P1", "P12"]
    with pytest.raises(SacaInputError):
        patterns.pattern_id("X3")


def test_regressions_flags_only_lost_reproductions():
    res = {
        "patterns": [
            {"id": "P1", "verdict": patterns.INCONCLUSIVE, "tests": []},
            {"id": "P2", "verdict": patterns.REPRODUCED, "tests": []},
            {"id": "P3", "verdict": patterns.REPRODUCED, "tests": []},
        ]
    }
    exp = {"P1": patterns.REPRODUCED, "P2": patterns.REPRODUCED, "P3": patterns.INCONCLUSIVE}
    out = report.regressions(res, exp)
    assert len(out) == 1 and out[0].startswith("P1 was reproduced and is now inconclusive")


# ----- spec errors: exit 2, one line ------------------------------------------------------
def _one_line_error(code, out, err, *needles):
    assert code == 2, err
    assert out == ""
    assert err.startswith("saca: error: ") and err.count("\n") == 1, err
    for n in needles:
        assert n in err, err


def test_unknown_pattern_exits_2():
    _one_line_error(*call(["validate", "--pattern", "P1,P17", "--quick"]), "P17")
    _one_line_error(*call(["validate", "--pattern", "Q1"]), "Q1")


def test_bad_options_exit_2():
    _one_line_error(*call(["validate", "--pattern", "P1", "--replicates", "1"]), "--replicates")
    _one_line_error(*call(["validate", "--pattern", "P1", "--workers", "0"]), "--workers")
    _one_line_error(*call(["validate", "--pattern", "P1", "--report", "x.md"]), "--report")


def _bad_spec(tmp_path, edit):
    d = tmp_path / "pats"
    d.mkdir()
    text = (patterns.PATTERN_DIR / "P11.toml").read_text(encoding="utf-8")
    (d / "P11.toml").write_text(edit(text), encoding="utf-8")
    return call(["validate", "--patterns-dir", d, "--quick"])


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda s: s.replace('metric = "needs_created"', 'metric = "needs_made"'), "needs_made"),
        (lambda s: s.replace('kind = "switch"', 'kind = "toggle"', 1), "toggle"),
        (lambda s: s.replace('"regime.front_loading"', '"regime.front_load"', 1), "front_load"),
        (lambda s: s.replace("on = 0.7", "on = 7.0", 1), "front_loading"),
        (lambda s: s.replace('expected = "-"', 'expected = "down"', 1), "expected"),
        (lambda s: s.replace('kind = "definitional"', 'kind = "derived"', 1), "derived"),
        (lambda s: s.replace('kind = "definitional"\n', "", 1), "kind"),
        (lambda s: s.replace("why = ", "whyy = ", 1), "why"),
        (
            lambda s: s.replace(
                'kind = "definitional"', 'kind = "definitional"\nmin_effect = -1', 1
            ),
            "min_effect",
        ),
        (lambda s: s.replace('regime = "hybrid"', 'regime = "anarchy"'), "anarchy"),
        (lambda s: s.replace("replicates = 10", "replicate = 10"), "replicate"),
        (lambda s: s.replace('id = "P11"', 'id = "P12"'), "P12"),
        (lambda s: s + "\n[[test]\n", "TOML"),
        (
            lambda s: s.replace('label = "fewer needs arise"', 'label = "x"\nwindow = "day5"'),
            "day5",
        ),
    ],
)
def test_bad_spec_file_exits_2(tmp_path, edit, needle):
    _one_line_error(*_bad_spec(tmp_path, edit), "P11.toml", needle)


def test_expected_verdicts_are_written_only_from_a_complete_run(tmp_path):
    _one_line_error(
        *call(["validate", "--pattern", "P11", "--quick", "--write-expected"]),
        "--write-expected",
        "--pattern",
    )
    path = tmp_path / "expected.toml"
    shutil.copy(patterns.EXPECTED_FILE, path)
    before = expectations.load_expected(path)
    result = {
        "meta": {
            "mode": "quick",
            "git_commit": "abc123",
            "timestamp": "2026-01-02T03:04:05",
            "runs": 9,
        },
        "patterns": [{"id": pid, "verdict": patterns.INCONCLUSIVE} for pid in ALL],
    }
    with pytest.raises(SacaInputError, match="every pattern"):
        expectations.write_expected(result, complete=False, path=path)
    expectations.write_expected(result, complete=True, path=path)
    after = expectations.load_expected(path)
    assert after["quick"] == dict.fromkeys(ALL, patterns.INCONCLUSIVE)
    assert after["full"] == before["full"]  # the other section is kept as it was
    prov = expectations.load_provenance(path)
    assert prov["quick"] == {
        "commit": "abc123",
        "timestamp": "2026-01-02T03:04:05",
        "full": False,
        "runs": 9,
    }
    assert "written from a quick run (full = false) of commit `abc123`" in report._provenance_text(
        prov
    )


def test_missing_patterns_dir_exits_2(tmp_path):
    _one_line_error(*call(["validate", "--patterns-dir", tmp_path / "nope"]), "nope")


# ----- running ----------------------------------------------------------------------------
def test_small_run_writes_figures_report_and_robustness(tmp_path):
    out = tmp_path / "validation"
    code, stdout, err = call(
        [
            "validate",
            "--pattern",
            "P11",
            "--quick",
            "--replicates",
            "2",
            "--robustness",
            "2",
            "--out",
            out,
            "--json",
        ]
    )
    assert code == 0, err
    res = json.loads(stdout)
    (p,) = res["patterns"]
    assert p["id"] == "P11" and p["experiment"]["replicates"] == 2
    for t in p["tests"]:
        assert {"effect", "lo", "hi", "verdict", "arms", "expected"} <= set(t)
        assert len(t["arms"]) == 2 and t["n"] == 2
    assert (out / "validation.json").is_file() and (out / "P11.png").is_file()
    md = (tmp_path / "VALIDATION.md").read_text(encoding="utf-8")
    assert "saca validate --pattern P11 --quick --replicates 2" in md
    assert "validation/P11.png" in md and "## P11 · " in md
    if p["verdict"] == patterns.REPRODUCED:
        rob = p["robustness"]
        assert rob["points"] == 2 and 0 <= rob["held"] <= 2
        assert (out / "robustness.png").is_file()
        assert "situations" in md


def test_results_do_not_depend_on_workers():
    (p,) = patterns.load_patterns(["P13"])
    a = workflow.run_validation([p], quick=True, replicates=2, workers=1, progress=False)
    b = workflow.run_validation([p], quick=True, replicates=2, workers=2, progress=False)
    strip = lambda r: [(t["effect"], t["lo"], t["hi"]) for t in r["patterns"][0]["tests"]]  # noqa: E731
    assert strip(a) == strip(b)


# The quick validation of all sixteen patterns, in groups that run on different test
# workers (``--dist loadscope`` makes each class a unit of its own). A pattern's runs
# depend only on its own file and seed, so its result is the same in any group; the
# patterns that share runs (the same arm and seed: P1/P2, P6/P7, P8/P15, P9/P10 and
# P11-P15) stay together as far as the groups' balance allows, so those runs are done
# once. Groups of about 60-90 runs each.
QUICK_GROUPS = {
    "A": ("P11", "P12", "P13", "P14"),
    "B": ("P1", "P2", "P3"),
    "C": ("P4", "P5", "P6", "P7"),
    "D": ("P8", "P9", "P10", "P15", "P16"),
}


def test_quick_groups_hold_every_pattern_once():
    ids = [pid for group in QUICK_GROUPS.values() for pid in group]
    assert sorted(ids, key=lambda pid: int(pid[1:])) == ALL and len(set(ids)) == len(ALL)
    # some group checks the report's lines on definitional tests
    assert any(t.kind == patterns.DEFINITIONAL for p in patterns.load_patterns() for t in p.tests)


@pytest.fixture(scope="class")
def quick(request):
    """The quick validation of the patterns of the test class's ``group``, run once."""
    # one process per test worker under xdist (the workers fill the cores), else two
    workers = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 2
    pats = patterns.load_patterns(list(request.cls.group))
    return workflow.run_validation(pats, quick=True, workers=workers, progress=False)


class _QuickGroup:
    """The quick validation of one group of patterns (its fixture runs once per class)."""

    group: tuple[str, ...] = ()

    def test_keeps_reproduced_patterns(self, quick):
        expected = expectations.load_expected()["quick"]
        lost = report.regressions(quick, expected)
        assert not lost, "\n".join(lost)

    def test_reports_every_pattern(self, quick):
        assert [p["id"] for p in quick["patterns"]] == list(self.group)
        text = command.text_report(quick)
        for pid in self.group:
            assert f"\n  {pid} " in text
        for p in quick["patterns"]:
            assert p["verdict"] in patterns.VERDICTS
            kinds = [t["kind"] for t in p["tests"]]
            assert set(kinds) <= set(patterns.TEST_KINDS)
            assert p["verdict"] == method.pattern_verdict([t["verdict"] for t in p["tests"]], kinds)
            assert p["kinds"] == method.kind_counts(p["tests"])
        assert "emergent tests reproduced" in text and "definitional only" in text

    def test_figures_and_report(self, quick):
        for p in quick["patterns"]:
            fig = figures.plot_pattern(p)
            assert len([ax for ax in fig.axes if ax.get_visible()]) >= 1
            plt.close(fig)
        md = report.markdown_report(quick, "validation", "saca validate --quick")
        assert "patterns reproduced on their emergent tests" in md
        assert "| test | kind | contrast |" in md
        if any(t["kind"] == patterns.DEFINITIONAL for p in quick["patterns"] for t in p["tests"]):
            assert "is definitional:" in md
        for pid in self.group:
            assert f'<a id="{pid.lower()}"></a>' in md and f"validation/{pid}.png" in md
        assert "| pattern | claim |" in md


class TestQuickA(_QuickGroup):
    group = QUICK_GROUPS["A"]


class TestQuickB(_QuickGroup):
    group = QUICK_GROUPS["B"]


class TestQuickC(_QuickGroup):
    group = QUICK_GROUPS["C"]


class TestQuickD(_QuickGroup):
    group = QUICK_GROUPS["D"]


def test_check_flag_exits_1_on_regression(tmp_path, monkeypatch):
    monkeypatch.setattr(
        command, "load_expected", lambda: {"quick": {"P11": patterns.REPRODUCED}, "full": {}}
    )
    d = tmp_path / "pats"
    d.mkdir()
    shutil.copy(patterns.PATTERN_DIR / "P11.toml", d / "P11.toml")
    text = (d / "P11.toml").read_text(encoding="utf-8")
    # claim the opposite sign: the pattern is then "not reproduced" and --check fails
    (d / "P11.toml").write_text(text.replace('expected = "-"', 'expected = "+"'), "utf-8")
    code, _, err = call(
        ["validate", "--patterns-dir", d, "--quick", "--replicates", "2", "--check"]
    )
    assert code == 1
    assert "regression: P11 was reproduced" in err


def test_pattern_files_are_package_data():
    assert Path(patterns.PATTERN_DIR).name == "patterns"
    assert (patterns.PATTERN_DIR / "expected.toml").is_file()


def test_scaled_timeline_keeps_which_sunk_cadres_are_present():
    tl = design.scaled_timeline("withdrawal", 100)
    assert "none" in {p["sunk"] for p in tl} and tl[0]["sunk"] == "all"
