"""``saca map``: winners per cell, no clear winner, Pareto fronts, the command end to end."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from saca.experiments import stats
from saca.experiments.analyses.regime_map import command as map_command
from saca.experiments.analyses.regime_map import method as map_method
from saca.experiments.analyses.regime_map import workflow as map_workflow
from saca.experiments.cli.main import main
from saca.experiments.engine import runner
from saca.experiments.engine.results import load_results, read_meta, stored_spec
from saca.model.regime import DIALS
from saca.model.scenario import load_regime

SPECS = Path(__file__).resolve().parents[1] / "experiments" / "specs"

pytestmark = pytest.mark.timeout(300)

X, Y = "situation.risk", "situation.capacity_mean"
TINY = (
    '[fixed]\n"situation.households" = 240\n"situation.grids" = 4\n'
    '"situation.communities" = 2\n"situation.streets" = 1\n'
)


def call(argv):
    """Run main() and return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def write_spec(
    path,
    parameters=f'"{X}" = [0.3, 0.9]\n"{Y}" = {{ min = 0.2, max = 0.8, levels = 2 }}\n',
    sweep_extra="",
    regimes='["constructive", "autonomous"]',
    replicates=2,
    map_table='[map]\nmetrics = ["efficacy", "burnout_mean"]\npareto_samples = 2\n',
):
    """A tiny map spec: 2 x 2 cells x 2 regimes x 2 replicates of 20 days, 2 dial settings."""
    path.write_text(
        f'[sweep]\nscenario = "emergency"\nregimes = {regimes}\nsteps = 20\n'
        f"replicates = {replicates}\nseed = 3\n{sweep_extra}\n"
        f"[parameters]\n{parameters}\n{TINY}\n{map_table}"
    )
    return path


# ----- the map from synthetic results ----------------------------------------------------
def synthetic() -> pd.DataFrame:
    """Two regimes a, b on a 2 x 2 grid, 4 replicates, with known differences per cell."""
    base = np.array([0.5, 0.6, 0.7, 0.8])
    # b - a per replicate: straddles 0 | clearly positive
    eff = {(0, 0): [0.1, -0.1, 0.12, -0.08], (1, 0): [0.1, 0.11, 0.09, 0.1]}
    rows = []
    for point, (ix, iy) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)]):
        d_eff = np.array(eff.get((ix, iy), [0.2, 0.21, 0.19, 0.2]))
        for regime in ("a", "b"):
            for rep in range(4):
                is_b = regime == "b"
                rows.append(
                    {
                        "point": point,
                        "regime": regime,
                        "replicate": rep,
                        "status": "ok",
                        X: [0.3, 0.9][ix],
                        Y: [0.2, 0.8][iy],
                        "efficacy": base[rep] + (d_eff[rep] if is_b else 0.0),
                        # b burns cadres out more everywhere: a wins on a lower-is-better metric
                        "burnout_mean": 0.3 + 0.05 * rep + (0.1 + 0.01 * rep if is_b else 0.0),
                    }
                )
    return pd.DataFrame(rows)


def cell(cells, metric, x, y):
    sel = cells[(cells["metric"] == metric) & (cells["x"] == x) & (cells["y"] == y)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_cells_name_clear_winners_and_no_clear_winner():
    res = synthetic()
    cells = map_method.map_cells(res, X, Y, ["a", "b"], ["efficacy", "burnout_mean"])
    assert len(cells) == 8 and set(cells["metric"]) == {"efficacy", "burnout_mean"}
    # differences of both signs: b has the better mean but no clear win
    c = cell(cells, "efficacy", 0.3, 0.2)
    assert c["best"] == "b" and not c["clear"] and c["winner"] is None
    assert c["diff_lo"] < 0 < c["diff_hi"] and c["runner_up"] == "a"
    # a clear separation: b wins, the difference is best - runner-up with a paired t CI
    c = cell(cells, "efficacy", 0.9, 0.2)
    assert c["winner"] == "b" and c["clear"] and c["n"] == 4
    d = np.array([0.1, 0.11, 0.09, 0.1])
    half = 3.182446 * d.std(ddof=1) / 2
    assert c["diff"] == pytest.approx(0.1) and c["diff_lo"] == pytest.approx(0.1 - half, abs=1e-6)
    sub = res[(res[X] == 0.9) & (res[Y] == 0.2)]
    ci = stats.mean_ci(sub.loc[sub["regime"] == "a", "efficacy"].to_numpy())
    assert (c["a_mean"], c["a_lo"], c["a_hi"]) == pytest.approx((ci["mean"], ci["lo"], ci["hi"]))
    # lower is better: a has less burnout everywhere and wins, with a negative difference
    for x in (0.3, 0.9):
        for y in (0.2, 0.8):
            c = cell(cells, "burnout_mean", x, y)
            assert c["winner"] == "a" and c["diff_hi"] < 0 and not c["higher_is_better"]
    # the direction decides: called higher-is-better, b would win burnout
    flipped = map_method.map_cells(res, X, Y, ["a", "b"], ["burnout_mean"], {"burnout_mean": True})
    assert (flipped["winner"] == "b").all()


def test_text_map_letters_and_dots():
    cells = map_method.map_cells(synthetic(), X, Y, ["a", "b"], ["efficacy"])
    fx = {"key": X, "levels": [0.3, 0.9]}
    fy = {"key": Y, "levels": [0.2, 0.8]}
    text = map_command.text_map(cells, "efficacy", ["a", "b"], fx, fy)
    lines = text.splitlines()
    assert "A a wins 0, B b wins 3, · no clear winner 1" in lines[0]
    # rows from the highest y down: y = 0.8 (b wins both), then y = 0.2 (·, b)
    assert lines[-2].split() == ["0.8", "B", "B"] and lines[-1].split() == ["0.2", "·", "B"]
    assert map_method.letters(["constructive", "autonomous"]) == {
        "constructive": "C",
        "autonomous": "A",
    }
    assert map_method.letters(["hybrid", "hybrid2"]) == {"hybrid": "A", "hybrid2": "B"}


def test_efficacy_cells_carry_spread_worst_off_and_the_flag():
    """Constructed: in cell (0.9, 0.2) b clearly wins mean efficacy (test above) while its
    worst decile is 0.1 below a's in every replicate: flagged in words, marked ! in the
    text map and listed in the equity table; elsewhere b's worst decile is no worse."""
    res = synthetic()
    target = (res[X] == 0.9) & (res[Y] == 0.2)
    wobble = 0.01 * res["replicate"]
    res["efficacy_worst_decile"] = res["efficacy"] - 0.2 + wobble
    res.loc[target & (res["regime"] == "b"), "efficacy_worst_decile"] = (
        res.loc[target & (res["regime"] == "a"), "efficacy"].to_numpy() - 0.3
    )
    res["efficacy_sd_between_communities"] = np.where(res["regime"] == "b", 0.12, 0.05)
    cells = map_method.map_cells(res, X, Y, ["a", "b"], ["efficacy", "burnout_mean"])
    c = cell(cells, "efficacy", 0.9, 0.2)
    assert c["winner"] == "b"
    assert c["worst_off"] == f"b {stats.WORST_OFF} (against a)"
    assert c["b_sd"] == pytest.approx(0.12) and c["a_sd"] == pytest.approx(0.05)
    sub = res[target & (res["regime"] == "b")]
    assert c["b_worst"] == pytest.approx(sub["efficacy_worst_decile"].mean())
    others = cells[(cells["metric"] == "efficacy") & ~((cells["x"] == 0.9) & (cells["y"] == 0.2))]
    assert others["worst_off"].isna().all()
    assert cells.loc[cells["metric"] == "burnout_mean", "worst_off"].isna().all()
    assert cells.loc[cells["metric"] == "burnout_mean", "b_sd"].isna().all()
    fx = {"key": X, "levels": [0.3, 0.9]}
    fy = {"key": Y, "levels": [0.2, 0.8]}
    text = map_command.text_map(cells, "efficacy", ["a", "b"], fx, fy)
    assert text.splitlines()[-1].split() == ["0.2", "·", "B!"]
    assert f"! a regime {stats.WORST_OFF} 1" in text.splitlines()[0]
    table = map_command.equity_table(cells, ["a", "b"], fx, fy)
    flagged = [line for line in table.splitlines() if stats.WORST_OFF in line]
    assert len(flagged) == 1 and flagged[0].split()[:2] == ["0.2", "0.9"]
    assert "0.120" in flagged[0] and "0.050" in flagged[0]
    # results stored before the equity metrics existed: NaN beside, no flag
    old = map_method.map_cells(synthetic(), X, Y, ["a", "b"], ["efficacy"])
    assert old["worst_off"].isna().all() and old["a_worst"].isna().all()


# ----- Pareto fronts ---------------------------------------------------------------------
def test_pareto_front_is_exactly_the_non_dominated_points():
    pts = pd.DataFrame(
        {
            "x": [1.0, 2.0, 0.5, 1.0, 0.9, 2.0, np.nan, 0.5],
            "y": [1.0, 0.5, 2.0, 1.0, 0.9, 0.4, 9.0, 2.0],
        },
        index=list("ABCDEFGH"),
    )
    front = map_method.pareto_front(pts, maximise=["x", "y"])
    # D duplicates A and H duplicates C: equal points do not dominate each other; E is
    # dominated by A, F by B (equal x, lower y); G has a missing value
    assert front[front].index.tolist() == ["A", "B", "C", "D", "H"]
    # minimising the negated column is the same front
    flipped = pts.assign(y=-pts["y"])
    assert map_method.pareto_front(flipped, ["x"], ["y"]).equals(front)
    # one objective: every point tied at the best value
    one = map_method.pareto_front(pts, maximise=["x"])
    assert one[one].index.tolist() == ["B", "F"]
    with pytest.raises(ValueError):
        map_method.pareto_front(pts)


def test_pareto_points_average_over_cells_per_replicate():
    res = synthetic()
    dials = {"a": dict.fromkeys(DIALS, 0.0), "b": dict.fromkeys(DIALS, 1.0)}
    pts = map_method.pareto_points(res, dials, metrics=("efficacy", "burnout_mean"))
    assert pts["group"].tolist() == ["map", "map"] and pts["label"].tolist() == ["a", "b"]
    per_rep = res[res["regime"] == "b"].groupby("replicate")["efficacy"].mean().to_numpy()
    ci = stats.mean_ci(per_rep)
    b = pts.set_index("label").loc["b"]
    assert (b["efficacy"], b["efficacy_lo"], b["n"]) == pytest.approx((ci["mean"], ci["lo"], 4))
    assert b["regime.control"] == 1.0
    # a has the lower burnout, b the higher efficacy: neither dominates the other
    assert pts["on_front_burnout"].all() and "on_front_trust" not in pts


# ----- the command -----------------------------------------------------------------------
def test_saca_map_end_to_end_and_resume(tmp_path):
    spec = write_spec(tmp_path / "m.toml")
    out = tmp_path / "out"
    code, stdout, err = call(["map", spec, "--out", out, "--backend", "serial"])
    assert code == 0, err
    for name in map_workflow.OUTPUTS:
        assert (out / name).stat().st_size > 0 and str(out / name) in stdout
    assert (out / "map.png").stat().st_size > 10_000 and (
        out / "pareto.png"
    ).stat().st_size > 10_000
    assert "C = constructive, A = autonomous, · = no clear winner" in stdout
    assert f"{Y} \\ {X}" in stdout and "Pareto fronts of 2 dial settings" in stdout
    # 2 x 2 cells x 2 regimes x 2 replicates, 2 dial settings x 2, 2 presets x 2
    assert "ran 24 runs (0 failed)" in stdout

    cells = pd.read_parquet(out / "map.parquet")
    assert len(cells) == 8 and set(cells["metric"]) == {"efficacy", "burnout_mean"}
    for col in ("x", "y", "best", "clear", "runner_up", "diff", "diff_lo", "diff_hi"):
        assert col in cells
    assert {"constructive_mean", "autonomous_lo", "autonomous_hi"} <= set(cells.columns)
    # the map agrees with the stored runs
    runs = load_results(out / "runs")
    assert len(runs) == 16 and (runs["status"] == "ok").all()
    c = cells[(cells["metric"] == "efficacy") & (cells["x"] == 0.9) & (cells["y"] == 0.8)].iloc[0]
    sel = runs[(runs[X] == 0.9) & (runs[Y] == 0.8) & (runs["regime"] == "autonomous")]
    assert c["autonomous_mean"] == pytest.approx(sel["efficacy"].mean())
    data = json.loads((out / "map.json").read_text())
    assert data["kind"] == "map" and len(data["cells"]) == 8
    wins = data["metrics"]["efficacy"]
    assert sum(wins["wins"].values()) + wins["no_clear_winner"] == 4

    pts = pd.read_parquet(out / "pareto.parquet")
    assert pts.groupby("group").size().to_dict() == {"dials": 4, "map": 2}
    for col in ("on_front_burnout", "on_front_trust", *(f"regime.{d}" for d in DIALS)):
        assert col in pts
    for _, grp in pts.groupby("group"):
        assert grp["on_front_burnout"].any() and grp["on_front_trust"].any()
        front = map_method.pareto_front(grp, ["efficacy"], ["burnout_mean"])
        assert front.equals(grp["on_front_burnout"].rename("on_front"))
    samples = pts[pts["kind"] == "sample"]
    assert samples[[f"regime.{d}" for d in DIALS]].stack().between(0, 1).all()
    # the derived sweeps are ordinary sweeps: their stored spec reads back with its hash
    for name in ("runs", "pareto", "pareto_presets"):
        assert stored_spec(out / name).hash == read_meta(out / name)["spec_hash"]
    assert call(["results", out / "runs"])[0] == 0

    before = (out / "map.parquet").read_bytes()
    code, stdout, err = call(["map", spec, "--out", out, "--backend", "serial", "--resume"])
    assert code == 0, err
    assert "ran 0 runs (0 failed, 24 already stored)" in stdout
    for name in ("runs", "pareto", "pareto_presets"):
        assert (load_results(out / name)["session"] == 0).all()
    pd.testing.assert_frame_equal(pd.read_parquet(out / "map.parquet"), cells)
    assert before == (out / "map.parquet").read_bytes()

    code, _, err = call(["map", spec, "--out", out, "--backend", "serial"])
    assert code == 2 and "already holds a map; add --resume" in err
    # a changed [map] metric re-analyses the stored runs, nothing reruns
    spec2 = write_spec(tmp_path / "m2.toml", map_table='[map]\nmetrics = ["trust_institution"]\n')
    code, stdout, err = call(["map", spec2, "--out", out, "--backend", "serial", "--resume"])
    assert code == 0, err
    assert "ran 0 runs" in stdout and set(pd.read_parquet(out / "map.parquet")["metric"]) == {
        "trust_institution"
    }


def test_a_failed_run_is_left_out_reported_and_redone(tmp_path, monkeypatch):
    spec = write_spec(tmp_path / "m.toml", map_table='[map]\nmetrics = ["efficacy"]\n')
    out = tmp_path / "out"
    real = runner.run_one
    autonomous = load_regime("autonomous")[1]

    def flaky(scenario, regime, seed, steps=None, overrides=None, progress=None):
        # point 3 (risk 0.9, capacity 0.8), replicate 1, under autonomous
        if seed.spawn_key == (3, 1) and regime == autonomous:
            raise RuntimeError("boom in the model")
        return real(scenario, regime, seed, steps, overrides, progress)

    monkeypatch.setattr(runner, "run_one", flaky)
    code, stdout, err = call(["map", spec, "--out", out, "--backend", "serial"])
    assert code == 1 and "ran 16 runs (1 failed)" in stdout
    assert f"saca sweep --rerun-failed {out / 'runs'}" in err and "--resume" in err
    cells = pd.read_parquet(out / "map.parquet")
    c = cells[(cells["x"] == 0.9) & (cells["y"] == 0.8)].iloc[0]
    runs = load_results(out / "runs")
    alone = runs.loc[runs["id"] == "p00003-autonomous-r000", "efficacy"].item()
    # one pair left: the mean is that run's, and no CI can make a clear winner
    assert c["autonomous_mean"] == pytest.approx(alone) and not c["clear"]
    monkeypatch.setattr(runner, "run_one", real)
    assert call(["sweep", "--rerun-failed", out / "runs", "--backend", "serial"])[0] == 0
    code, stdout, _ = call(["map", spec, "--out", out, "--backend", "serial", "--resume"])
    assert code == 0 and "ran 0 runs (0 failed, 16 already stored)" in stdout


def test_dry_run_estimates_and_runs_nothing(tmp_path):
    spec = write_spec(tmp_path / "m.toml", map_table="[map]\npareto_samples = 2\n")
    code, stdout, err = call(["map", spec, "--dry-run", "--backend", "serial"])
    assert code == 0, err
    assert "runs/: saca sweep m: factorial design, 4 points x 2 regimes" in stdout
    assert "pareto/: saca sweep m-pareto: Latin hypercube, 2 points x 1 regime" in stdout
    assert "estimate: 24 runs take about" in stdout
    assert list(tmp_path.iterdir()) == [spec]


BAD = [
    (
        {"parameters": f'"{X}" = [0.3, 0.9]\n'},
        "exactly two varied parameters in [parameters] (x, then y), got 1 (situation.risk)",
    ),
    (
        {
            "parameters": f'"{X}" = [0.3, 0.9]\n"{Y}" = [0.2, 0.8]\n'
            '"situation.cohesion_mean" = [0.2]\n'
        },
        "exactly two varied parameters in [parameters] (x, then y), got 3",
    ),
    (
        {
            "parameters": f'"{X}" = {{ min = 0.1, max = 0.9 }}\n'
            f'"{Y}" = {{ min = 0.2, max = 0.8 }}\n',
            "sweep_extra": 'design = "lhs"\nsamples = 4\n',
        },
        'a map needs design = "factorial"',
    ),
    ({"regimes": '["constructive"]'}, "needs at least two in [sweep] regimes"),
    ({"replicates": 1}, "replicates = 1: a map needs at least 2 replicates"),
    (
        {"map_table": '[map]\nmetrics = ["eficacy"]\n'},
        "unknown metric 'eficacy'; did you mean 'efficacy'?",
    ),
    (
        {"map_table": '[map]\nmetrics = ["needs_created"]\n'},
        "needs_created has no better direction",
    ),
    (
        {"map_table": '[map]\nmetric = ["efficacy"]\n'},
        "unknown key 'metric' in [map]; did you mean",
    ),
    (
        {"map_table": '[map]\nwindow = "emergncy"\n'},
        "not a window of these 20-day runs; choose one of all, normal",
    ),
    ({"map_table": "[map]\npareto_samples = -1\n"}, "pareto_samples must be a whole number"),
    (
        {"parameters": f'"{X}" = [0.3, 0.9]\n"regime.information" = [0.0, 1.0]\n'},
        "regime.information is not a situation parameter",
    ),
    ({"sweep_extra": "common_random_numbers = false\n"}, "pairs the regimes of a cell"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_bad_specs_fail_before_any_run(tmp_path, change, message):
    spec = write_spec(tmp_path / "bad.toml", **change)
    out = tmp_path / "out"
    code, stdout, err = call(["map", spec, "--out", out, "--backend", "serial"])
    assert code == 2 and stdout == ""
    assert err.startswith("saca: error: ") and err.count("\n") == 1, err
    assert message in err
    assert not out.exists()


def test_out_that_holds_something_else_is_refused(tmp_path):
    spec = write_spec(tmp_path / "m.toml")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, _, err = call(["map", spec, "--out", out, "--backend", "serial"])
    assert code == 2 and "holds no saca map" in err
    code, _, err = call(["map", spec, "--backend", "serial"])
    assert code == 2 and "--out DIR is required" in err


@pytest.mark.parametrize(
    "name", ["map_risk_capacity", "map_volatility_cohesion", "map_ordinary_capacity_needs"]
)
def test_example_map_specs_are_valid_and_keep_the_default_cadre_load(name):
    mp = map_workflow.plan_map(SPECS / f"{name}.toml")
    assert len(mp.axes) == 2 and len(mp.runs.regimes) >= 2 and mp.spec.replicates >= 2
    fixed = mp.spec.fixed
    # half the default district: 100 households per grid and 4 grids per community
    assert fixed["situation.households"] / fixed["situation.grids"] == 100
    assert fixed["situation.grids"] / fixed["situation.communities"] == 4
