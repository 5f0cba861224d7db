"""saca sensitivity: Sobol and Morris indices, convergence warnings, the command end to end."""

import contextlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from SALib.test_functions import Ishigami

from saca.experiments.analyses.sensitivity import method as sa
from saca.experiments.analyses.sensitivity import workflow as sa_workflow
from saca.experiments.cli.main import main
from saca.experiments.engine import design as dsg
from saca.experiments.engine import runner
from saca.experiments.engine.results import stored_spec

PI = math.pi
ISHIGAMI = [dsg.Factor(f"x{i}", "float", lo=-PI, hi=PI) for i in (1, 2, 3)]
UNIT = [dsg.Factor(f"x{i}", "float", lo=0.0, hi=1.0) for i in (1, 2, 3, 4)]


def ishigami(samples: int, seed: int = 1) -> sa.Analysis:
    d = dsg.build("sobol", ISHIGAMI, samples, seed=seed)
    y = Ishigami.evaluate(d.points.to_numpy())
    return sa.analyse(d, pd.DataFrame({"y": y}), seed=seed)


def bumpy(x: np.ndarray) -> np.ndarray:
    """Nonlinear with an interaction; x4 has no effect at all."""
    return np.sin(3 * x[:, 0]) * (1 + x[:, 1]) + 2 * x[:, 1] ** 2 + 0.5 * x[:, 0] * x[:, 2]


def morris(trajectories: int, seed: int = 2) -> sa.Analysis:
    d = dsg.build("morris", UNIT, trajectories, seed=seed)
    return sa.analyse(d, pd.DataFrame({"y": bumpy(d.points.to_numpy())}), seed=seed)


# ----- the analysis on known functions --------------------------------------------------
def test_sobol_pipeline_recovers_the_analytic_ishigami_indices():
    an = ishigami(2048)
    idx = an.indices.set_index("parameter")
    # analytic values for a = 7, b = 0.1 (Ishigami & Homma 1990)
    assert idx["S1"].to_numpy() == pytest.approx([0.314, 0.442, 0.0], abs=0.04)
    assert idx["ST"].to_numpy() == pytest.approx([0.558, 0.442, 0.244], abs=0.04)
    assert list(idx["rank"]) == [1, 2, 3]  # ranked by ST
    assert (idx["S1_conf"] > 0).all() and (idx["ST_conf"] < 0.1).all()
    assert set(an.indices["method"]) == {"sobol"} and an.samples == 2048
    # the bootstrap is seeded from the root seed: the same seed gives the same CIs
    again = ishigami(2048)
    pd.testing.assert_frame_equal(an.indices, again.indices)


def test_sobol_indices_follow_the_design_row_order():
    # shuffling the outputs against the design must destroy the indices
    d = dsg.build("sobol", ISHIGAMI, 512, seed=1)
    y = Ishigami.evaluate(d.points.to_numpy())
    rng = np.random.default_rng(0)
    an = sa.analyse(d, pd.DataFrame({"y": rng.permutation(y)}), seed=1)
    assert an.indices["S1"].abs().max() < 0.2


def test_morris_ranks_an_inactive_input_last_with_no_effect():
    an = morris(50)
    idx = an.indices.set_index("parameter")
    assert idx.loc["x4", "rank"] == 4
    assert idx.loc["x4", "mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert idx.loc["x4", "sigma"] == pytest.approx(0.0, abs=1e-12)
    assert idx.loc["x2", "rank"] == 1  # the strongest: 2 x2^2 + sin(3 x1) x2
    assert (idx.loc[["x1", "x2", "x3"], "mu_star"] > 0.1).all()
    assert set(an.indices["method"]) == {"morris"}


def test_morris_effects_are_changes_over_the_whole_range():
    # y = 3 x1 with x1 in [0, 2]: every elementary effect is 3 * 2 = 6
    d = dsg.build("morris", [dsg.Factor("x1", "float", lo=0.0, hi=2.0), UNIT[1]], 6, seed=1)
    y = 3 * d.points["x1"].to_numpy()
    idx = sa.analyse(d, pd.DataFrame({"y": y})).indices.set_index("parameter")
    assert idx.loc["x1", "mu_star"] == pytest.approx(6.0)
    assert idx.loc["x1", "mu"] == pytest.approx(6.0)
    assert idx.loc["x2", "mu_star"] == pytest.approx(0.0, abs=1e-12)


# ----- convergence ----------------------------------------------------------------------
def test_sobol_convergence_warning_fires_on_a_tiny_sample_not_on_a_big_one():
    small = ishigami(16)
    assert not small.converged
    rec = small.recommended_samples
    assert rec is not None and rec >= 32 and dsg.is_power_of_two(rec)
    [warning] = small.warnings()
    assert "not converged" in warning and f"use samples = {rec}" in warning
    assert "(now 16)" in warning
    big = ishigami(2048)
    assert big.converged and big.recommended_samples is None and big.warnings() == []
    conv = big.convergence.iloc[0]
    assert conv["ci_width"] <= sa.TOLERANCE and conv["halves_diff"] <= 2 * sa.TOLERANCE


def test_morris_convergence_warning_fires_on_few_trajectories_not_on_many():
    small = morris(4)
    assert not small.converged
    rec = small.recommended_samples
    assert rec is not None and rec >= 8 and rec % 2 == 0
    assert any("trajectories" in w and f"use samples = {rec}" in w for w in small.warnings())
    big = morris(400)
    assert big.converged and big.warnings() == []
    assert big.convergence.iloc[0]["rank_correlation"] == pytest.approx(1.0)


def test_a_looser_tolerance_accepts_what_a_strict_one_rejects():
    d = dsg.build("sobol", ISHIGAMI, 256, seed=1)
    values = pd.DataFrame({"y": Ishigami.evaluate(d.points.to_numpy())})
    assert not sa.analyse(d, values, seed=1, tolerance=0.02).converged
    assert sa.analyse(d, values, seed=1, tolerance=0.5).converged


# ----- averaging and missing points -----------------------------------------------------
def test_average_over_replicates_and_the_noise_share():
    rng = np.random.default_rng(3)
    points = np.repeat(np.arange(200), 2)
    rows = pd.DataFrame(
        {
            "regime": "a",
            "point": points,
            "status": "ok",
            "signal": points * 1.0,  # identical replicates: no noise
            "noise": rng.normal(size=len(points)),  # nothing but noise
        }
    )
    rows.loc[1, "status"] = "failed"  # point 0 keeps one successful replicate
    means, noise = sa.average(rows, ["signal", "noise"])
    assert len(means) == 200 and means.loc[0, "replicates"] == 1
    assert means["signal"].to_numpy() == pytest.approx(np.arange(200.0))
    share = noise.set_index("output")["noise_share"]
    assert share["signal"] == pytest.approx(0.0)
    assert share["noise"] == pytest.approx(1.0, abs=0.25)


def test_a_point_without_a_value_makes_the_indices_impossible():
    d = dsg.build("morris", UNIT[:2], 4, seed=1)
    y = bumpy(np.c_[d.points.to_numpy(), np.zeros(len(d))])
    y[3] = np.nan
    values = pd.DataFrame({"regime": "hybrid", "point": range(len(d)), "y": y, "z": 1.0})
    an = sa.analyse(d, values, ["y", "z"], regimes=["hybrid", "autonomous"])
    assert an.indices.empty
    text = " | ".join(an.problems)
    assert "y under regime hybrid: 1 of 12 design points have no value (points 3)" in text
    assert "z under regime hybrid does not vary" in text
    assert "y under regime autonomous: 12 of 12 design points have no value" in text


# ----- the command ----------------------------------------------------------------------
TINY = """
[sweep]
scenario = "emergency"
regimes = ["hybrid"]
steps = 15
replicates = {replicates}
seed = 3
samples = 4

[parameters]
"regime.information" = {{ min = 0.0, max = 1.0 }}
"regime.control" = {{ min = 0.0, max = 1.0 }}

[fixed]
"situation.households" = 200

[sensitivity]
outputs = ["efficacy", "burnout_mean"]
resamples = 200
"""


def call(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def tiny(tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY.format(replicates=2))
    return spec


@pytest.mark.timeout(120)
def test_cli_morris_end_to_end_writes_indices_and_resume_recomputes_nothing(tmp_path, tiny):
    out = tmp_path / "sa"
    argv = ["sensitivity", tiny, "--method", "morris", "--out", out, "--backend", "serial"]
    code, stdout, stderr = call(argv)
    assert code == 0, stderr
    assert "12 points x 1 regime x 2 replicates = 24 runs of 15 days" in stdout
    assert "ran 24 runs (24 ok, 0 failed)" in stdout
    assert "efficacy, window all: parameters ranked by mu*" in stdout
    for name in ("indices.parquet", "indices.json", "sensitivity_efficacy.png"):
        assert (out / name).is_file(), name
    assert (out / "sensitivity_burnout_mean.png").stat().st_size > 10_000
    idx = pd.read_parquet(out / "indices.parquet")
    assert {"regime", "output", "parameter", "method", "mu_star", "mu_star_conf"} <= set(idx)
    assert len(idx) == 2 * 2 and set(idx["method"]) == {"morris"}
    meta = json.loads((out / "indices.json").read_text())
    sp = sa_workflow.prepare(tiny, "morris")
    assert meta["spec_hash"] == sp.spec.hash and meta["seed"] == 3
    assert meta["method"] == "morris" and meta["samples"] == 4 and meta["levels"] == 4
    conv = meta["convergence"]
    assert conv["converged"] is False and conv["recommended_samples"] > 4
    assert len(conv["per_output"]) == 2
    # 4 trajectories are too few: the warning is on stderr and in the JSON
    assert "warning: the morris indices have not converged" in stderr
    assert any("have not converged" in w for w in meta["warnings"])
    # the runs are an ordinary sweep: saca results reads them, its spec names the method
    assert call(["results", out / "runs"])[0] == 0
    stored = stored_spec(out / "runs")
    assert stored.design == "morris" and stored.hash == sp.spec.hash
    # again without --resume: refused before any run
    code, _, stderr = call(argv)
    assert code == 2 and "add --resume" in stderr
    # --resume: nothing is run again, the indices are the same
    before = pd.read_parquet(out / "runs" / "manifest.parquet")
    code, stdout, _ = call([*argv, "--resume"])
    assert code == 0 and "ran 0 runs (0 ok, 0 failed, 24 already stored)" in stdout
    pd.testing.assert_frame_equal(before, pd.read_parquet(out / "runs" / "manifest.parquet"))
    pd.testing.assert_frame_equal(idx, pd.read_parquet(out / "indices.parquet"))


def test_cli_dry_run_estimates_and_writes_nothing(tmp_path, tiny):
    out = tmp_path / "sa"
    code, stdout, _ = call(["sensitivity", tiny, "--method", "sobol", "--out", out, "--dry-run"])
    assert code == 0
    assert "Sobol (Saltelli) design, N = 4 base samples of 2 parameters = 16 points" in stdout
    assert "estimate:" in stdout and "analysis: sobol indices of efficacy, burnout_mean" in stdout
    assert not out.exists()


@pytest.mark.timeout(120)
def test_cli_failed_points_are_named_and_rerun_failed_fixes_them(tmp_path, monkeypatch):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY.format(replicates=1))
    out = tmp_path / "sa"
    real = runner.run_one

    def broken(scenario, settings, seed, steps, overrides):
        if overrides["regime.control"] == 0.0:
            raise RuntimeError("injected failure")
        return real(scenario, settings, seed, steps, overrides)

    monkeypatch.setattr(runner, "run_one", broken)
    argv = ["sensitivity", spec, "--method", "morris", "--out", out, "--backend", "serial"]
    code, _, stderr = call(argv)
    assert code == 1
    assert "error: no indices for efficacy under regime hybrid:" in stderr
    assert "design points have no value" in stderr
    assert f"saca sensitivity {spec} --out {out} --rerun-failed" in stderr
    monkeypatch.setattr(runner, "run_one", real)
    code, stdout, stderr = call([*argv, "--rerun-failed"])
    assert code == 0, stderr
    assert "0 failed" in stdout and "efficacy, window all" in stdout
    assert len(pd.read_parquet(out / "indices.parquet")) == 4


RANGE = '[parameters]\n"regime.goals" = { min = 0.0, max = 1.0 }\n'
BAD = [
    # (options, lines added to [sweep], tables, message)
    (["--method", "fast"], "", RANGE, "invalid choice: 'fast'"),
    ([], "", RANGE, "give --method sobol or --method morris ([sweep] has no design)"),
    (["--method", "sobol"], 'design = "lhs"', RANGE, 'design = "lhs" contradicts --method sobol'),
    (["--method", "sobol"], "samples = 6", RANGE, "sobol samples must be a power of two"),
    (["--method", "morris"], "samples = 1", RANGE, "needs samples >= 2 trajectories"),
    (
        ["--method", "morris"],
        "",
        '[parameters]\n"regime.goals" = [0.0, 1.0]\n',
        'lists levels, which need design = "factorial"',
    ),
    (
        ["--method", "morris"],
        "",
        RANGE + '[sensitivity]\noutputs = ["eficacy"]\n',
        "unknown output metric 'eficacy'; did you mean 'efficacy'?",
    ),
    (
        ["--method", "morris"],
        "",
        RANGE + "[sensitivity]\nresample = 100\n",
        "unknown key 'resample'; did you mean 'resamples'?",
    ),
    (
        ["--method", "morris"],
        "",
        RANGE + "[sensitivity]\nnum_levels = 6\n",
        "write levels = N in [sweep]",
    ),
    (
        ["--method", "morris"],
        "",
        RANGE + '[sensitivity]\nwindow = "emergancy"\n',
        "did you mean 'emergency'? choose one of all, normal, emergency",
    ),
    (
        ["--method", "morris"],
        "",
        RANGE + '[sensitivity]\nwindow = "recovery"\n',
        "window 'recovery' is not a window of these 40-day runs",
    ),
    (
        ["--method", "morris"],
        "",
        RANGE + "[sensitivity]\ntolerance = 0\n",
        "tolerance must be a number in (0, 1]",
    ),
    (["--method", "morris", "--workers", "0"], "", RANGE, "--workers must be a whole number"),
]


@pytest.mark.parametrize(("argv", "sweep_lines", "tables", "message"), BAD)
def test_cli_bad_specs_and_options_exit_2_with_one_line_before_any_run(
    tmp_path, argv, sweep_lines, tables, message
):
    head = '[sweep]\nscenario = "emergency"\nregimes = ["hybrid"]\nsteps = 40\n'
    if "samples" not in sweep_lines:
        sweep_lines += "\nsamples = 4"
    spec = tmp_path / "s.toml"
    spec.write_text(head + sweep_lines.strip() + "\n" + tables)
    out = tmp_path / "out"
    code, stdout, stderr = call(["sensitivity", spec, "--out", out, *argv])
    assert code == 2 and stdout == ""
    assert stderr.startswith("saca: error: ") and stderr.count("\n") == 1
    assert message in stderr
    assert not out.exists()


def test_cli_directory_errors(tmp_path, tiny):
    code, _, stderr = call(["sensitivity", tiny, "--method", "morris"])
    assert code == 2 and "--out DIR is required" in stderr
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    code, _, stderr = call(["sensitivity", tiny, "--method", "morris", "--out", other])
    assert code == 2 and "not empty and holds no sensitivity analysis" in stderr


def test_example_specs_are_valid_and_sized_as_documented():
    root = str(Path(__file__).resolve().parents[1] / "experiments" / "specs") + "/"
    sobol = sa_workflow.prepare(root + "dials_sobol.toml", "sobol")
    morris_ = sa_workflow.prepare(root + "dials_morris.toml", "morris")
    dials = {f"regime.{d}" for d in ("information", "consensus", "goals", "contract")}
    dials |= {"regime.decision", "regime.control"}
    for sp in (sobol, morris_):
        plan = sp.runs
        assert set(plan.param_kinds) == dials
        assert all(f.lo == 0.0 and f.hi == 1.0 for f in plan.design.factors)
        assert list(plan.regimes) == ["hybrid"] and plan.scenario.name == "emergency"
        assert {"efficacy", "burnout_mean"} <= set(sp.settings.outputs)
        assert any(o.startswith("trust_") for o in sp.settings.outputs)
    assert sobol.runs.n_runs == 1024 and morris_.runs.n_runs == 560  # as their comments say
