"""Scenario discovery: PRIM finds a known box, the contrast's direction, the EMA export
round trip, ``saca discover`` end to end (spec and stored sweep agree) and bad input."""

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from saca.experiments.analyses.discovery import export, method, settings, workflow
from saca.experiments.cli.main import main
from saca.experiments.engine.results import load_results as load_sweep_results
from saca.model import SacaInputError
from saca.model.metrics import HIGHER_IS_BETTER, METRICS

SPECS = Path(__file__).resolve().parents[1] / "experiments" / "specs"

# The end-to-end tests run a small sweep (processes are not started: serial backend).
pytestmark = pytest.mark.timeout(300)

TINY = (
    '[fixed]\n"situation.households" = 240\n"situation.grids" = 4\n'
    '"situation.communities" = 2\n"situation.streets" = 1\n'
)
PARAMS = '[parameters]\n"situation.risk" = { min = 0.1, max = 0.9 }\n'
PARAMS += '"situation.capacity_mean" = { min = 0.2, max = 0.8 }\n'


def spec_text(
    regimes='["constructive", "autonomous"]',
    design='design = "lhs"\nsamples = 10',
    params=PARAMS,
    discover="[discover]\nmargin = 0.1\nthreshold = 0.6\n",
    replicates=1,
):
    """A tiny LHS sweep spec: 10 points x 2 regimes x 1 replicate of 20 days."""
    return (
        f'[sweep]\nscenario = "emergency"\nregimes = {regimes}\nsteps = 20\n'
        f"replicates = {replicates}\nseed = 3\n{design}\n\n{params}\n{TINY}\n{discover}"
    )


def call(argv):
    """Run main() and return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def synthetic(case, n=400, seed=1, metric="efficacy", effect=0.1, noise=0.01):
    """A results table like load_results': uniform x1..x3, two regimes x 2 replicates.

    The autonomous regime's metric exceeds the constructive one's by ``effect`` where
    ``case(x)`` holds and falls short by ``effect`` elsewhere; replicates share a base
    value (common random numbers) plus small independent noise.
    """
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(
        rng.uniform(size=(n, 3)),
        columns=["situation.risk", "situation.capacity_mean", "situation.cohesion_mean"],
    )
    wins = case(x).to_numpy()
    rows = []
    for p in range(n):
        for rep in range(2):
            base = rng.uniform(0.3, 0.7)
            for regime in ("constructive", "autonomous"):
                shift = 0.0 if regime == "constructive" else (effect if wins[p] else -effect)
                rows.append(
                    {
                        "point": p,
                        "regime": regime,
                        "replicate": rep,
                        **x.iloc[p].to_dict(),
                        "status": "ok",
                        metric: base + shift + rng.normal(0, noise),
                    }
                )
    return pd.DataFrame(rows), wins


def known_box(x):
    return (x["situation.risk"] > 0.5) & (x["situation.capacity_mean"] < 0.3)


# ----- (1) PRIM recovers a known box ----------------------------------------------------
def test_prim_recovers_a_known_box():
    df, wins = synthetic(known_box)
    d = method.discover(df, threshold=0.8)
    assert d.regime == "autonomous" and d.reference == "constructive"  # last vs first
    assert d.n_points == 400 and d.n_cases == wins.sum()
    assert d.base_rate == pytest.approx(wins.mean())
    box = d.boxes[0]
    assert set(box.limits) == {"situation.risk", "situation.capacity_mean"}
    assert box.lower == ("situation.risk",) and box.upper == ("situation.capacity_mean",)
    assert box.limits["situation.risk"][0] == pytest.approx(0.5, abs=0.06)
    assert box.limits["situation.capacity_mean"][1] == pytest.approx(0.3, abs=0.06)
    assert box.coverage > 0.9 and box.density > 0.9
    assert box.mass == pytest.approx(wins.mean(), abs=0.04)
    # the unrestricted side of a limit is the end of the full range (the data's here)
    assert box.limits["situation.capacity_mean"][0] == df["situation.capacity_mean"].min()
    # the chosen box: highest coverage among the trajectory's boxes dense enough
    t = box.trajectory
    dense = t[t["density"] >= 0.8]
    assert box.coverage == dense["coverage"].max()
    assert t.loc[box.chosen, "density"] == box.density
    # the summary names the rule and the statistics
    text = d.summary()
    assert "in 1" in text.splitlines()[0] and "autonomous beats constructive" in text
    assert "box 1: situation.risk ≥ 0.5" in text or "box 1: situation.risk ≥ 0.4" in text
    assert "situation.capacity_mean ≤ 0.3" in text or "situation.capacity_mean ≤ 0.2" in text


def test_prim_finds_a_second_box_when_the_first_leaves_many_cases():
    def slabs(x):  # two slabs: the first box cannot hold both
        return (x["situation.risk"] > 0.7) | (x["situation.capacity_mean"] < 0.15)

    df, _ = synthetic(slabs, n=600, seed=4)
    d = method.discover(df, threshold=0.8, max_boxes=3)
    assert len(d.boxes) >= 2
    first, second = d.boxes[0], d.boxes[1]
    assert min(first.density, second.density) >= 0.8
    assert sum(b.coverage for b in d.boxes) > 0.85
    # one box per slab, each restricting its own parameter
    assert first.limits["situation.risk"][0] == pytest.approx(0.7, abs=0.06)
    assert second.limits["situation.capacity_mean"][1] == pytest.approx(0.15, abs=0.06)
    assert "together cover" in d.summary()
    table = d.table()
    assert set(table["box"]) >= {1, 2}
    assert list(table.columns) == [
        "box",
        "parameter",
        "min",
        "max",
        "restricted_min",
        "restricted_max",
        "values",
        "qp",
        "coverage",
        "density",
        "mass",
        "n",
        "cases",
    ]
    assert len(method.discover(df, threshold=0.8, max_boxes=1).attempts) == 1


def test_no_box_reaches_the_threshold_is_reported_not_forced():
    rng = np.random.default_rng(2)
    df, _ = synthetic(lambda x: pd.Series(rng.uniform(size=len(x)) < 0.3), n=200)
    d = method.discover(df, threshold=0.99)
    assert d.boxes == () and len(d.attempts) == 1 and not d.attempts[0].accepted
    assert "no box reaches density 0.99" in d.summary()
    assert d.table().empty


def test_a_regime_that_wins_everywhere_gets_the_whole_space():
    df, _ = synthetic(lambda x: x["situation.risk"] >= 0)
    d = method.discover(df)
    assert d.base_rate == 1.0
    assert d.boxes[0].limits == {} and d.boxes[0].coverage == 1.0
    assert "the whole parameter space" in d.summary()


# ----- (2) the contrast's direction -----------------------------------------------------
def test_lower_is_better_metric_beats_means_lower():
    # autonomous burnout is *higher* where x1 > 0.5 and lower elsewhere
    df, higher = synthetic(lambda x: x["situation.risk"] > 0.5, metric="burnout_mean")
    d = method.discover(df, metric="burnout_mean", threshold=0.8)
    assert not d.higher_is_better
    np.testing.assert_array_equal(d.points["case"].to_numpy(), ~higher)
    box = d.boxes[0]
    assert box.upper == ("situation.risk",) and box.limits["situation.risk"][1] < 0.55
    assert "lower is better" in d.summary() and "< 0" in d.summary()
    # a metric whose higher values are better reads the same numbers the other way
    flipped = method.discover(
        df.rename(columns={"burnout_mean": "efficacy"}), metric="efficacy", threshold=0.8
    )
    np.testing.assert_array_equal(flipped.points["case"].to_numpy(), higher)
    # swapping regime and reference swaps the cases; direction may also be given
    swapped = method.discover(
        df, metric="burnout_mean", contrast=["constructive", "autonomous"], threshold=0.8
    )
    np.testing.assert_array_equal(swapped.points["case"].to_numpy(), higher)
    told = method.discover(df, metric="burnout_mean", direction="higher", threshold=0.8)
    np.testing.assert_array_equal(told.points["case"].to_numpy(), higher)


def test_margin_and_pairing():
    df, wins = synthetic(known_box, n=100, effect=0.05, noise=0.0)
    # differences are exactly +-0.05: a margin of 0.04 keeps the wins, 0.06 removes all
    assert method.discover(df, margin=0.04).n_cases == wins.sum()
    assert method.discover(df, margin=0.06).n_cases == 0
    # the difference is paired per replicate and averaged over replicates
    d = method.discover(df)
    one = df[df["point"] == 0].set_index(["replicate", "regime"])["efficacy"]
    expect = np.mean([one[(r, "autonomous")] - one[(r, "constructive")] for r in (0, 1)])
    assert d.points.loc[0, "diff"] == pytest.approx(expect)
    assert d.points["pairs"].eq(2).all()
    # an unpaired run (its partner failed) does not count; a point with no pair is dropped
    broken = df.copy()
    broken.loc[(broken["point"] == 0) & (broken["regime"] == "autonomous"), "status"] = "failed"
    broken.loc[
        (broken["point"] == 1) & (broken["regime"] == "autonomous") & (broken["replicate"] == 0),
        "status",
    ] = "failed"
    d = method.discover(broken)
    assert d.dropped == 1 and 0 not in set(d.points["point"])
    assert d.points.set_index("point").loc[1, "pairs"] == 1


def test_metric_direction_checks():
    assert settings.metric_direction("efficacy") is True
    assert settings.metric_direction("burnout_mean") is False
    assert settings.metric_direction("offloads", "lower") is False
    with pytest.raises(SacaInputError, match="did you mean 'efficacy'"):
        settings.metric_direction("eficacy")
    with pytest.raises(SacaInputError, match="no agreed good direction"):
        settings.metric_direction("escalation_share")
    every = set(HIGHER_IS_BETTER)
    assert every <= set(METRICS)


# ----- (3), (4): a tiny sweep through saca discover --------------------------------------
@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """``saca discover`` on a tiny LHS spec with an EMA export, and its output."""
    root = tmp_path_factory.mktemp("discover")
    spec = root / "tiny.toml"
    spec.write_text(spec_text())
    out = root / "out"
    ema = root / "ema" / "tiny.tar.gz"
    code, stdout, stderr = call(
        ["discover", spec, "--out", out, "--backend", "serial", "--export-ema", ema]
    )
    return {"code": code, "stdout": stdout, "stderr": stderr, "spec": spec, "out": out,
            "ema": ema, "root": root}  # fmt: skip


def test_discover_writes_boxes_and_figures(ran):
    assert ran["code"] == 0, ran["stderr"]
    out = ran["out"]
    for name in workflow.FILES:
        assert (out / name).is_file(), name
    assert (out / "runs" / "meta.json").is_file()
    data = json.loads((out / "boxes.json").read_text())
    assert data["regime"] == "autonomous" and data["reference"] == "constructive"
    assert data["margin"] == 0.1 and data["threshold"] == 0.6  # from the [discover] table
    assert data["points"] == 10 and 0 <= data["base_rate"] <= 1
    assert data["parameters"] == ["situation.risk", "situation.capacity_mean"]
    assert data["ranges"]["situation.risk"] == [0.1, 0.9]
    assert data["versions"]["ema_workbench"]
    points = pd.read_parquet(out / "points.parquet")
    assert len(points) == 10 and points["case"].sum() == data["cases"]
    results = load_sweep_results(out / "runs")
    assert len(results) == 20 and (results["status"] == "ok").all()
    boxes = pd.read_parquet(out / "boxes.parquet")
    accepted = [b for b in data["boxes"] if b["accepted"]]
    assert sorted(set(boxes["box"])) == [b["box"] for b in accepted]
    for b in accepted:
        assert b["density"] >= 0.6 and b["trajectory"]
    first = ran["stdout"]
    assert "autonomous beats constructive on efficacy in" in first
    assert f"{data['cases']} of 10 design points" in first
    assert "wrote boxes.json" in first


def test_discover_on_the_stored_sweep_gives_the_same_boxes(ran):
    again = ran["root"] / "again"
    code, _, stderr = call(["discover", ran["out"] / "runs", "--out", again])
    assert code == 0, stderr
    a = json.loads((ran["out"] / "boxes.json").read_text())
    b = json.loads((again / "boxes.json").read_text())
    for key in ("boxes", "summary", "base_rate", "cases", "margin", "threshold", "ranges"):
        assert a[key] == b[key], key
    pd.testing.assert_frame_equal(
        pd.read_parquet(ran["out"] / "boxes.parquet"), pd.read_parquet(again / "boxes.parquet")
    )
    # command-line options override the stored spec's [discover] table
    other = ran["root"] / "other"
    code, _, stderr = call(
        ["discover", ran["out"] / "runs", "--out", other, "--margin", "0", "--threshold", "0.9"]
    )
    assert code == 0, stderr
    c = json.loads((other / "boxes.json").read_text())
    assert c["margin"] == 0.0 and c["threshold"] == 0.9 and c["cases"] >= a["cases"]


def test_resume_recomputes_nothing_and_a_changed_discover_table_still_resumes(ran):
    code, stdout, stderr = call(
        ["discover", ran["spec"], "--out", ran["out"], "--backend", "serial", "--resume"]
    )
    assert code == 0, stderr
    assert "ran 0 runs" in stdout and "20 already stored" in stdout
    changed = ran["root"] / "changed.toml"
    changed.write_text(spec_text(discover="[discover]\nmargin = 0.0\n"))
    code, stdout, stderr = call(
        ["discover", changed, "--out", ran["out"], "--backend", "serial", "--resume"]
    )
    assert code == 0, stderr
    assert "ran 0 runs" in stdout
    assert json.loads((ran["out"] / "boxes.json").read_text())["margin"] == 0.0
    # without --resume an existing sweep is not silently reused
    code, _, stderr = call(["discover", ran["spec"], "--out", ran["out"], "--backend", "serial"])
    assert code == 2 and "--resume" in stderr


def test_ema_export_round_trips(ran):
    from ema_workbench import load_results

    assert ran["ema"].is_file()
    with method.quiet():
        experiments, outcomes = load_results(str(ran["ema"]))
    results = load_sweep_results(ran["out"] / "runs")
    params = ["situation.risk", "situation.capacity_mean"]
    assert list(experiments.columns) == [*params, "scenario", "policy", "model"]
    assert experiments.shape == (20, 5)
    assert set(outcomes) == set(METRICS)
    for m in METRICS:
        assert outcomes[m].shape == (20,)
        np.testing.assert_allclose(outcomes[m], results[m].to_numpy(float), equal_nan=True)
    np.testing.assert_allclose(experiments[params].to_numpy(), results[params].to_numpy())
    assert list(experiments["policy"].astype(str)) == list(results["regime"])
    assert set(experiments["model"].astype(str)) == {"saca"}
    # a scenario is a point with a replicate's seed, run under every regime (policy)
    assert experiments["scenario"].astype(str).iloc[0] == "p00000-r000"
    assert experiments.groupby("scenario", observed=True)["policy"].nunique().eq(2).all()
    # the Python function writes the same file content
    again = export.export_ema(ran["out"] / "runs", ran["root"] / "again.tar.gz")
    with method.quiet():
        e2, o2 = load_results(str(again))
    pd.testing.assert_frame_equal(e2, experiments)
    for m in METRICS:
        np.testing.assert_array_equal(o2[m], outcomes[m])


def test_dry_run_estimates_and_runs_nothing(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(spec_text())
    code, stdout, stderr = call(["discover", spec, "--dry-run", "--backend", "serial"])
    assert code == 0, stderr
    assert "10 points x 2 regimes x 1 replicate = 20 runs" in stdout
    assert "estimate:" in stdout and "where autonomous beats constructive" in stdout
    code, stdout, _ = call(
        ["discover", spec, "--out", tmp_path / "o", "--dry-run", "--backend", "serial"]
    )
    assert code == 0 and not (tmp_path / "o").exists()


# ----- (5) bad input: one line, exit 2, nothing run --------------------------------------
BAD_SPECS = [
    (
        {"design": 'design = "factorial"', "params": ""},
        "the design varies no parameter",
    ),
    ({"regimes": '["autonomous"]'}, "discovery compares two regimes"),
    (
        {"discover": '[discover]\ncontrast = ["autonomous", "hybrid"]\n'},
        "contrast names the regime 'hybrid', which the sweep does not run",
    ),
    ({"discover": '[discover]\nmetric = "eficacy"\n'}, "did you mean 'efficacy'"),
    ({"discover": "[discover]\ntreshold = 0.8\n"}, "unknown key 'treshold' in [discover]"),
    ({"discover": "[discover]\nthreshold = 1.5\n"}, "threshold must be a number in (0, 1]"),
    ({"discover": "[discover]\nmargin = -0.1\n"}, "margin must be a number at least 0"),
    ({"discover": '[discover]\nmetric = "offloads"\n'}, "no agreed good direction"),
    ({"discover": '[discover]\nwindow = "emergncy"\n'}, "no window 'emergncy'"),
    ({"discover": '[discover]\ncontrast = "autonomous"\n'}, "contrast must name two regimes"),
]


@pytest.mark.parametrize(("change", "message"), BAD_SPECS)
def test_bad_specs_exit_2_with_one_line(tmp_path, change, message):
    spec = tmp_path / "bad.toml"
    spec.write_text(spec_text(**change))
    out = tmp_path / "out"
    code, stdout, stderr = call(["discover", spec, "--out", out, "--backend", "serial"])
    assert code == 2, (stdout, stderr)
    assert stderr.startswith("saca: error: ") and stderr.count("\n") == 1, stderr
    assert message in stderr
    assert not out.exists()  # checked before anything ran


def test_bad_options_and_directories_exit_2(tmp_path, ran):
    spec = tmp_path / "s.toml"
    spec.write_text(spec_text())
    not_sweep = tmp_path / "plain"
    not_sweep.mkdir()
    (not_sweep / "notes.txt").write_text("hello")
    cases = [
        (["discover", not_sweep, "--out", tmp_path / "o"], "has no meta.json"),
        (["discover", tmp_path / "nothing", "--out", tmp_path / "o"], "does not exist"),
        (["discover", spec], "--out DIR is required"),
        (["discover", spec, "--out", tmp_path / "o", "--metric", "burnout"], "did you mean"),
        (
            ["discover", spec, "--out", tmp_path / "o", "--contrast", "autonomous,constructive,x"],
            "contrast must name two regimes",
        ),
        (
            ["discover", spec, "--out", tmp_path / "o", "--export-ema", tmp_path / "x.zip"],
            "give a FILE.tar.gz",
        ),
        (["discover", spec, "--out", not_sweep], "not empty and holds no discovery"),
        (["discover", spec, "--out", tmp_path / "o", "--backend", "seriel"], "did you mean"),
        (
            ["discover", ran["out"] / "runs", "--out", tmp_path / "o", "--workers", "2"],
            "is a stored sweep: nothing runs",
        ),
        (
            ["discover", ran["out"] / "runs", "--out", ran["out"] / "runs"],
            "is the sweep itself",
        ),
    ]
    for argv, message in cases:
        code, _, stderr = call(argv)
        assert code == 2, (argv, stderr)
        assert stderr.startswith("saca: error: ") and stderr.count("\n") == 1, stderr
        assert message in stderr, (argv, stderr)
    assert not (tmp_path / "o").exists()


def test_run_discover_checks_like_the_command(tmp_path):
    """run_discover and prepare_job check the same things as the command, before any run."""
    spec = tmp_path / "one.toml"
    spec.write_text(spec_text(regimes='["constructive"]'))
    with pytest.raises(SacaInputError, match="compares two regimes"):
        workflow.run_discover(spec, tmp_path / "o")
    assert not (tmp_path / "o").exists()
    two = tmp_path / "two.toml"
    two.write_text(spec_text())
    job = workflow.prepare(two, tmp_path / "o", {"metric": "burnout_mean", "margin": 0.2})
    assert (job.regime, job.reference) == ("autonomous", "constructive")
    assert not job.higher_is_better and job.settings.margin == 0.2
    assert job.settings.threshold == 0.6  # the table's, not overridden
    assert job.runs == tmp_path / "o" / "runs" and job.sweep_plan is not None
    assert job.ranges == {"situation.risk": (0.1, 0.9), "situation.capacity_mean": (0.2, 0.8)}


def test_example_spec_is_valid_and_sized_as_documented():
    spec = SPECS / "discovery_situation.toml"
    job = workflow.prepare(spec, None)
    assert job.sweep_plan is not None and job.sweep_plan.design.kind == "lhs"
    assert (job.regime, job.reference, job.settings.metric) == (
        "autonomous",
        "constructive",
        "efficacy",
    )
    assert len(job.params) >= 4 and all(k.startswith("situation.") for k in job.params)
    assert job.sweep_plan.n_runs == 384  # as its header comment says
    assert "384 runs" in spec.read_text(encoding="utf-8")
