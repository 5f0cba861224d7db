"""``saca best-mix``: the search recovers known optima and fronts, the spec is validated
like the others, and a small search runs, resumes and writes its files."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest

from saca.experiments.analyses.best_mix import method as bm
from saca.experiments.analyses.best_mix import workflow as bm_workflow
from saca.experiments.cli.main import main
from saca.experiments.engine import design as dsg

SMALL_FIXED = """
[fixed]
"situation.households" = 300
"situation.grids" = 6
"situation.communities" = 3
"situation.streets" = 1
"""


def call(argv):
    """Run main() and return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def spec_text(**over: str) -> str:
    sweep = over.get(
        "sweep",
        'scenario = "emergency"\nregimes = ["hybrid"]\nsteps = 40\nreplicates = 2\nseed = 3\n'
        'design = "lhs"\nsamples = 3',
    )
    params = over.get(
        "parameters",
        '"regime.contract" = { min = 0.0, max = 1.0 }\n"regime.control" = { min = 0.0, max = 1.0 }',
    )
    table = over.get(
        "best_mix",
        'axes = { "situation.risk" = [0.2, 0.9] }\n'
        'switches = { "regime.task_force" = [false, true] }\nwindow = "emergency"\ntop = 2',
    )
    return f"[sweep]\n{sweep}\n\n[parameters]\n{params}\n{SMALL_FIXED}\n[best_mix]\n{table}\n"


# ----- the search core on toy functions ------------------------------------------------
def test_lhs_search_recovers_a_known_optimum():
    factors = [dsg.Factor("x", "float", lo=0.0, hi=1.0), dsg.Factor("y", "float", lo=0.0, hi=1.0)]

    def f(p):
        return {"value": -((p["x"] - 0.3) ** 2) - (p["y"] - 0.8) ** 2}

    table = bm.lhs_search(f, factors, 400, seed=1)
    best = bm.best_rows(table, "value", 10)
    assert abs(best.iloc[0]["x"] - 0.3) < 0.06 and abs(best.iloc[0]["y"] - 0.8) < 0.06
    # the top-10 mean is the optimum too, and minimising finds the far corner instead
    assert abs(best["x"].mean() - 0.3) < 0.08 and abs(best["y"].mean() - 0.8) < 0.08
    worst = bm.best_rows(table, "-value", 1).iloc[0]
    assert worst["x"] > 0.8 and worst["y"] < 0.2


def test_nondominated_sorting_recovers_a_known_front():
    """f1 = x, f2 = (1 − x)(1 − y), both maximised. On a grid of x at spacing 0.005 with
    y = 0, every point is on the front; an inner point (y >= 0.05, x <= 0.9) is
    dominated by the next grid point to its right, since (1 − x)(1 − y) <= 1 − x − 0.005.
    So the front is exactly the grid."""
    rng = np.random.default_rng(0)
    front = pd.DataFrame({"x": np.linspace(0.0, 1.0, 201), "y": 0.0})
    inner = pd.DataFrame({"x": rng.uniform(0, 0.9, 300), "y": rng.uniform(0.05, 1, 300)})
    pts = pd.concat([front, inner], ignore_index=True)
    pts["f1"], pts["f2"] = pts["x"], (1 - pts["x"]) * (1 - pts["y"])
    rank = bm.nondominated_ranks(pts, ["f1"], [])
    # one objective: the ranks are the order of f1, best first
    assert (rank == pts["f1"].rank(ascending=False, method="dense") - 1).all()
    rank = bm.nondominated_ranks(pts.assign(g=-pts["f2"]), ["f1"], ["g"])
    assert set(np.flatnonzero(rank.to_numpy() == 0)) == set(range(201))
    # ranks peel: every rank-1 point is dominated by some rank-0 point
    f0 = pts[rank == 0]
    r1 = pts[rank == 1]
    assert len(r1) and (rank >= 0).all()
    for _, p in r1.iterrows():
        assert ((f0["f1"] >= p["f1"]) & (f0["f2"] >= p["f2"])).any()


def test_nondominated_ranks_leave_missing_values_out():
    df = pd.DataFrame({"a": [1.0, np.nan, 0.5], "b": [0.0, 1.0, 1.0]})
    assert bm.nondominated_ranks(df, ["a"], ["b"]).tolist() == [0, -1, 1]


def test_autonomy_index_is_the_mean_of_the_dials():
    df = pd.DataFrame({"regime.contract": [0.0, 1.0], "regime.goals": [0.5, 1.0], "x": [9, 9]})
    assert bm.autonomy_index(df).tolist() == [0.25, 1.0]


# ----- the spec ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("over", "words"),
    [
        (
            {
                "sweep": 'scenario = "emergency"\nregimes = ["hybrid"]\nreplicates = 2\nseed = 1\n'
                'design = "factorial"',
                "parameters": '"regime.contract" = [0.0, 1.0]',
            },
            'design = "lhs"',
        ),
        (
            {
                "sweep": 'scenario = "emergency"\nregimes = ["hybrid", "autonomous"]\n'
                'replicates = 2\nseed = 1\ndesign = "lhs"\nsamples = 2'
            },
            "exactly one base regime",
        ),
        ({"parameters": '"situation.risk" = { min = 0.0, max = 1.0 }'}, "not a regime parameter"),
        ({"parameters": '"regime.front_loading" = { min = 0.0, max = 1.0 }'}, "at least one dial"),
        ({"best_mix": 'axes = { "situation.risk" = [0.2] }\nobjectve = "efficacy"'}, "objective"),
        ({"best_mix": 'switches = { "regime.task_force" = [false] }'}, "either axes"),
        ({"best_mix": 'axes = { "regime.goals" = [0.2, 0.4] }'}, "not a situation parameter"),
        ({"best_mix": 'axes = { "situation.risk" = [0.2, 2.0] }'}, "situation.risk"),
        ({"best_mix": 'axes = { "situation.risk" = [0.2] }\nobjective = "eficacy"'}, "efficacy"),
        ({"best_mix": 'axes = { "situation.risk" = [0.2] }\nwindow = "storm"'}, "storm"),
        ({"best_mix": 'axes = { "situation.risk" = [0.2] }\ntop = 0'}, "top must be"),
        (
            {
                "best_mix": 'axes = { "situation.risk" = [0.2] }\n'
                'switches = { "regime.contract" = [0.1] }'
            },
            "both sampled",
        ),
    ],
)
def test_bad_specs_are_one_line_exit_2(tmp_path, over, words):
    path = tmp_path / "bad.toml"
    path.write_text(spec_text(**over))
    code, out, err = call(["best-mix", path, "--dry-run"])
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and err.startswith("saca: error:") and words in err


def test_shipped_spec_plans():
    mp = bm_workflow.plan_best_mix("experiments/specs/best_mix.toml")
    assert len(mp.cells) == 4 and len(mp.combos) == 2 and mp.n_runs == 256
    # the same hypercube of mixes in every sweep (common random numbers across cells)
    designs = [p.design.points for p in mp.sweeps.values()]
    assert all(d.equals(designs[0]) for d in designs)


def test_map_axes_come_from_a_map_spec(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(spec_text(best_mix='map = "map.toml"'))
    (tmp_path / "map.toml").write_text(
        '[sweep]\nscenario = "emergency"\nregimes = ["constructive", "autonomous"]\n'
        'replicates = 2\nseed = 1\n\n[parameters]\n"situation.risk" = [0.1, 0.5]\n'
        '"situation.cohesion_mean" = [0.2, 0.4, 0.8]\n'
    )
    mp = bm_workflow.plan_best_mix(path)
    assert len(mp.cells) == 6 and set(mp.cells[0]) == {"situation.risk", "situation.cohesion_mean"}


# ----- a small search end to end ----------------------------------------------------------
def test_small_search_runs_resumes_and_writes(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(spec_text())
    out = tmp_path / "out"
    code, text, err = call(["best-mix", path, "--out", out, "--json"])
    assert code == 0, err
    res = json.loads(text)
    assert len(res["best"]) == 2 and "situation.risk" in res["trends"]
    cand = pd.read_parquet(out / "candidates.parquet")
    assert len(cand) == 2 * 2 * 3  # cells x switch combinations x mixes
    best = pd.read_parquet(out / "best.parquet")
    for _, row in best.iterrows():
        sub = cand[cand["cell"] == row["cell"]]
        assert row["efficacy"] == pytest.approx(sub["efficacy"].max())
        assert (sub["rank_burnout"] == 0).sum() == row["front_burnout"] >= 1
    for f in ("best_mix.png", "fronts.png", "best_mix.json"):
        assert (out / f).is_file()
    code, _, err = call(["best-mix", path, "--out", out])
    assert code == 2 and "--resume" in err
    code, text2, err = call(["best-mix", path, "--out", out, "--resume", "--json"])
    assert code == 0, err
    assert json.loads(text2)["best"] == res["best"]  # nothing rerun, the same answer
