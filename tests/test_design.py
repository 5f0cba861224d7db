"""Sweep designs (factorial, LHS, Sobol, Morris) and the checks of a sweep spec."""

import contextlib
import io
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from SALib.sample import morris as salib_morris
from SALib.sample import sobol as salib_sobol

from saca.experiments.cli.main import main
from saca.experiments.engine import design as dsg
from saca.experiments.engine.plan import prepare
from saca.experiments.engine.results import load_results
from saca.experiments.engine.spec import SPEC_TABLES, parse_spec
from saca.model import SacaInputError

SPECS = Path(__file__).resolve().parents[1] / "experiments" / "specs"

F_RISK = dsg.Factor("situation.risk", "float", lo=0.1, hi=0.9)
F_COH = dsg.Factor("situation.cohesion_mean", "float", lo=0.2, hi=0.8)
F_GRIDS = dsg.Factor("situation.grids", "int", lo=4, hi=7)


# ----- designs --------------------------------------------------------------------------
def test_factorial_is_the_product_in_spec_order_last_fastest():
    a = dsg.Factor("regime.information", "float", levels=(0.0, 0.5, 1.0))
    b = dsg.Factor("regime.evaluation", "choice", levels=("none", "multi"))
    c = dsg.Factor("regime.offloading_allowed", "bool", levels=(False, True))
    d = dsg.build("factorial", [a, b, c])
    assert len(d) == 12
    assert list(d.points.columns) == [a.key, b.key, c.key]
    assert d.values(0) == {a.key: 0.0, b.key: "none", c.key: False}
    assert d.values(1) == {a.key: 0.0, b.key: "none", c.key: True}
    assert d.values(2) == {a.key: 0.0, b.key: "multi", c.key: False}
    assert d.values(11) == {a.key: 1.0, b.key: "multi", c.key: True}
    assert isinstance(d.values(1)[c.key], bool)


def test_factorial_without_factors_is_one_point():
    d = dsg.build("factorial", [])
    assert len(d) == 1 and d.values(0) == {}


def test_even_levels_and_whole_number_rounding():
    assert dsg.even_levels("k", "float", 0.0, 1.0, 5) == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert dsg.even_levels("k", "int", 2, 10, 3) == (2, 6, 10)
    with pytest.raises(SacaInputError, match="round to only 3 distinct"):
        dsg.even_levels("situation.grids", "int", 4, 6, 5)


def test_lhs_is_stratified_within_bounds_and_seeded():
    d = dsg.build("lhs", [F_RISK, F_COH], samples=20, seed=3)
    assert len(d) == 20
    for f in (F_RISK, F_COH):
        x = d.points[f.key].to_numpy()
        assert np.all((x >= f.lo) & (x <= f.hi))
        # one point in each of the 20 equal strata: the Latin hypercube property
        strata = np.floor((x - f.lo) / (f.hi - f.lo) * 20).astype(int)
        assert sorted(strata) == list(range(20))
    again = dsg.build("lhs", [F_RISK, F_COH], samples=20, seed=3)
    other = dsg.build("lhs", [F_RISK, F_COH], samples=20, seed=4)
    assert d.points.equals(again.points)
    assert not d.points.equals(other.points)


def test_int_ranges_give_each_whole_number_evenly():
    d = dsg.build("lhs", [F_GRIDS], samples=40, seed=1)
    x = d.points[F_GRIDS.key]
    assert x.dtype == np.int64
    assert sorted(set(x)) == [4, 5, 6, 7]
    assert x.value_counts().tolist() == [10, 10, 10, 10]
    assert isinstance(d.values(0)[F_GRIDS.key], int)


def test_scale_maps_the_unit_cube_ends():
    unit = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.999]])
    pts = dsg.scale(unit, [F_RISK, F_GRIDS])
    assert pts[F_RISK.key].tolist() == pytest.approx([0.1, 0.9, 0.5])
    assert pts[F_GRIDS.key].tolist() == [4, 7, 7]


@pytest.mark.parametrize("second_order", [False, True])
def test_sobol_is_saltellis_sample(second_order):
    d = dsg.build("sobol", [F_RISK, F_COH], samples=8, seed=5, second_order=second_order)
    assert len(d) == dsg.sobol_rows(8, 2, second_order) == (8 * (6 if second_order else 4))
    assert d.problem == {
        "num_vars": 2,
        "names": [F_RISK.key, F_COH.key],
        "bounds": [[0.1, 0.9], [0.2, 0.8]],
    }
    # the same as SALib's own sample over the real bounds with the design's generator
    ref = salib_sobol.sample(d.problem, 8, calc_second_order=second_order, seed=dsg.design_rng(5))
    assert d.points.to_numpy() == pytest.approx(ref, abs=1e-12)
    assert d.points.equals(dsg.build("sobol", [F_RISK, F_COH], 8, 5, second_order).points)


def test_morris_is_salibs_sample_on_the_level_grid():
    factors = [F_RISK, F_COH, F_GRIDS]
    d = dsg.build("morris", factors, samples=6, seed=5, levels=4)
    assert len(d) == dsg.morris_rows(6, 3) == 6 * 4
    assert d.levels == 4 and d.problem == dsg.salib_problem(factors)
    # float factors: SALib's own sample over the real bounds with the design's generator
    ref = salib_morris.sample(d.problem, 6, num_levels=4, seed=dsg.design_rng(5))
    cols = [F_RISK.key, F_COH.key]
    assert d.points[cols].to_numpy() == pytest.approx(ref[:, :2], abs=1e-12)
    # every value on the grid; the int factor takes its 4 distinct whole-number levels
    assert set(d.points[F_GRIDS.key]) <= {4, 5, 6, 7}
    assert d.points[F_GRIDS.key].dtype.kind == "i"
    assert set(np.round(d.points[F_RISK.key], 9)) <= {0.1, 0.366666667, 0.633333333, 0.9}
    # each step of a trajectory moves exactly one parameter
    steps = np.diff(d.points.to_numpy(dtype=float).reshape(6, 4, 3), axis=1)
    assert ((steps != 0).sum(axis=2) == 1).all()
    assert d.points.equals(dsg.build("morris", factors, 6, 5, levels=4).points)
    assert not d.points.equals(dsg.build("morris", factors, 6, 6, levels=4).points)


def test_morris_design_errors():
    with pytest.raises(SacaInputError, match="even whole number"):
        dsg.build("morris", [F_RISK], 4, levels=3)
    with pytest.raises(SacaInputError, match="round to only 3 distinct"):
        dsg.build("morris", [dsg.Factor("situation.grids", "int", lo=4, hi=6)], 4, levels=4)


def test_design_errors():
    with pytest.raises(SacaInputError, match="unknown design"):
        dsg.build("grid", [F_RISK], 4)
    with pytest.raises(SacaInputError, match="power of two"):
        dsg.build("sobol", [F_RISK], 6)
    with pytest.raises(SacaInputError, match="needs ranges"):
        dsg.build("lhs", [dsg.Factor("regime.control", "float", levels=(0.0, 1.0))], 4)
    with pytest.raises(SacaInputError, match="needs levels"):
        dsg.build("factorial", [F_RISK])
    assert dsg.is_power_of_two(16) and not dsg.is_power_of_two(12)


# ----- spec checks ----------------------------------------------------------------------
BASE = {"sweep": {"scenario": "emergency", "regimes": ["constructive"], "steps": 10}}


def spec_with(sweep_extra=None, parameters=None, fixed=None, **tables):
    data = {"sweep": {**BASE["sweep"], **(sweep_extra or {})}, **tables}
    if parameters is not None:
        data["parameters"] = parameters
    if fixed is not None:
        data["fixed"] = fixed
    return data


def test_a_good_spec_parses_and_keeps_scalars_as_fixed():
    spec = parse_spec(
        spec_with(
            {"design": "factorial", "replicates": 2, "seed": 9},
            parameters={
                "regime.information": [0, 1],
                "situation.cohesion_mean": {"min": 0.2, "max": 0.8, "levels": 3},
                "situation.households": 300,
            },
            fixed={"situation.grids": 4},
        )
    )
    assert [f.key for f in spec.factors] == ["regime.information", "situation.cohesion_mean"]
    assert spec.factors[0].levels == (0.0, 1.0)  # whole numbers for a float parameter
    assert spec.factors[1].levels == pytest.approx((0.2, 0.5, 0.8))
    assert spec.fixed == {"situation.grids": 4, "situation.households": 300}
    assert (spec.replicates, spec.seed, spec.common_random_numbers) == (2, 9, True)


def test_spec_hash_ignores_layout_and_description():
    a = parse_spec(spec_with({"seed": 1}))
    b = parse_spec(spec_with({"seed": 1, "description": "words"}))
    c = parse_spec(spec_with({"seed": 2}))
    assert a.hash == b.hash != c.hash


def test_extra_tables_are_allowed_only_when_asked_for_and_count_in_the_hash() -> None:
    data = spec_with(map={"metrics": ["efficacy"]})
    with pytest.raises(SacaInputError, match=r"unknown table \[map\]"):
        parse_spec(data)
    spec = parse_spec(data, extra_tables=("map",))
    assert spec.data["map"] == {"metrics": ["efficacy"]}
    other = parse_spec(spec_with(map={"metrics": ["trust"]}), extra_tables=("map",))
    assert spec.hash != other.hash


RANGE = {"min": 0.0, "max": 1.0}


def test_a_morris_spec_runs_trajectories_on_its_grid():
    spec = parse_spec(
        spec_with(
            {"design": "morris", "samples": 3}, {"regime.goals": RANGE, "regime.control": RANGE}
        )
    )
    assert (spec.design, spec.samples, spec.levels) == ("morris", 3, 4)  # SALib's 4 levels
    plan = prepare(spec)
    assert plan.design.kind == "morris" and len(plan.design) == 3 * 3
    six = prepare(
        parse_spec(
            spec_with({"design": "morris", "samples": 3, "levels": 6}, {"regime.goals": RANGE})
        )
    )
    assert set(np.round(six.design.points["regime.goals"], 9)) <= {0, 0.2, 0.4, 0.6, 0.8, 1}
    assert (
        parse_spec(spec_with({"design": "sobol", "samples": 4}, {"regime.goals": RANGE})).levels
        is None
    )


def test_saca_sweep_runs_a_morris_spec(tmp_path):
    spec = tmp_path / "m.toml"
    spec.write_text(
        '[sweep]\nregimes = ["hybrid"]\ndesign = "morris"\nsamples = 2\nsteps = 3\n'
        '[parameters]\n"regime.goals" = { min = 0.0, max = 1.0 }\n'
        '[fixed]\n"situation.households" = 60\n"situation.communities" = 1\n'
        '"situation.streets" = 1\n"situation.grids" = 2\n'
    )
    code, stdout, stderr = call(["sweep", spec, "--out", tmp_path / "out", "--backend", "serial"])
    assert code == 0, stderr
    assert "Morris (elementary effects) design, 4 points" in stdout + stderr
    assert len(load_results(tmp_path / "out")) == 4


BAD_SPECS = [
    (spec_with({"replicats": 3}), "unknown key 'replicats' in [sweep]; did you mean 'replicates'"),
    (spec_with(paramters={}), "unknown table [paramters]; did you mean 'parameters'"),
    ({"sweep": {"regimes": ["hybrid"]}, "seed": 3}, "seed belongs in the [sweep] table"),
    ({"parameters": {}}, "no [sweep] table"),
    (spec_with({"design": "lhc", "samples": 4}), "unknown design 'lhc'; did you mean 'lhs'"),
    (spec_with({"design": "lhs"}, {"situation.risk": {"min": 0, "max": 1}}), "needs samples"),
    (spec_with({"design": "sobol", "samples": 10}), "power of two"),
    (spec_with({"samples": 8}), "samples is for lhs, sobol and morris"),
    (spec_with({"second_order": True}), "second_order applies to sobol"),
    (spec_with({"regimes": "hybrid"}), "regimes must be a non-empty list"),
    (spec_with({"regimes": []}), "regimes must be a non-empty list"),
    (spec_with({"regimes": ["hybrid", "hybrid"]}), "more than once"),
    (spec_with({"replicates": 0}), "replicates must be a whole number of at least 1"),
    (spec_with({"seed": -1}), "seed must be a whole number"),
    (spec_with({"steps": 2.5}), "steps must be a whole number"),
    (spec_with(parameters={"regime.infomation": [0, 1]}), "did you mean regime.information"),
    (spec_with(fixed={"situation.houseolds": 3}), "did you mean situation.households"),
    (
        spec_with({"design": "lhs", "samples": 4}, {"situation.risk": {"min": 0.8, "max": 0.2}}),
        "bad range, min (0.8) must be below max (0.2)",
    ),
    (
        spec_with({"design": "lhs", "samples": 4}, {"situation.risk": {"min": 0.1, "max": 1.5}}),
        "situation.risk max: situation.risk = 1.5 is out of range",
    ),
    (
        spec_with({"design": "lhs", "samples": 4}, {"situation.risk": {"min": -1, "max": 0.5}}),
        "situation.risk min: situation.risk = -1.0 is out of range",
    ),
    (
        spec_with({"design": "lhs", "samples": 4}, {"situation.risk": {"min": 0.1}}),
        "needs both min and max",
    ),
    (
        spec_with({"design": "lhs", "samples": 4}, {"situation.risk": {"lo": 0, "max": 1}}),
        "unknown key 'lo' in a range",
    ),
    (
        spec_with({"design": "lhs", "samples": 4}, {"regime.information": [0.0, 1.0]}),
        'need design = "factorial"',
    ),
    (
        spec_with(
            {"design": "lhs", "samples": 4}, {"situation.risk": {"min": 0, "max": 1, "levels": 3}}
        ),
        "levels is for factorial designs",
    ),
    (spec_with(parameters={"situation.risk": {"min": 0, "max": 1}}), "needs levels = N"),
    (
        spec_with(parameters={"regime.offloading_allowed": {"min": 0, "max": 1, "levels": 2}}),
        "is a bool parameter and has no range",
    ),
    (spec_with(parameters={"regime.evaluation": ["points", "best"]}), "must be one of"),
    (spec_with(parameters={"regime.information": [0.5, 0.5]}), "repeats a level"),
    (spec_with(parameters={"regime.information": []}), "empty list of levels"),
    (spec_with(parameters={"regime.information": 2.0}), "out of range"),
    (
        spec_with(parameters={"situation.grids": {"min": 4, "max": 6, "levels": 5}}),
        "round to only 3 distinct whole numbers",
    ),
    (
        spec_with(parameters={"situation.risk": [0.5]}, fixed={"situation.risk": 0.3}),
        "in both [parameters] and [fixed]",
    ),
    (spec_with(parameters={"situation.timeline": [1]}), "cannot be varied"),
    (spec_with({"design": "lhs", "samples": 4}), "needs at least one range"),
    (
        spec_with({"design": "morris"}, {"situation.risk": {"min": 0, "max": 1}}),
        'design = "morris" needs samples = N (the number of trajectories)',
    ),
    (
        spec_with({"design": "morris", "samples": 4, "levels": 3}, {"regime.goals": RANGE}),
        "levels (the Morris grid) must be an even whole number >= 2, got 3",
    ),
    (
        spec_with({"design": "lhs", "samples": 4, "levels": 4}, {"regime.goals": RANGE}),
        "levels in [sweep] is the grid of a morris design",
    ),
    (
        spec_with({"design": "morris", "samples": 4}, {"regime.goals": {**RANGE, "levels": 4}}),
        "set the Morris grid with levels = N in [sweep]",
    ),
    (
        spec_with({"design": "morris", "samples": 4}, {"regime.goals": [0.0, 1.0]}),
        'need design = "factorial"',
    ),
    (spec_with({"design": "morris", "samples": 4}), "a morris design needs at least one range"),
]


@pytest.mark.parametrize(("data", "message"), BAD_SPECS)
def test_bad_spec_is_one_clear_error(data, message):
    with pytest.raises(SacaInputError) as err:
        parse_spec(data, label="s.toml")
    text = str(err.value)
    assert text.startswith("s.toml: ")
    assert message in text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (spec_with({"scenario": "emergncy"}), "did you mean emergency"),
        (spec_with({"regimes": ["autonomus"]}), "did you mean autonomous"),
        (spec_with({"steps": 500}), "steps 500 runs past the end of the timeline"),
        (spec_with(fixed={"situation.grids": 1}), "grids"),
        (
            # valid values one by one, an impossible structure together: caught per point
            spec_with(
                parameters={"situation.grids": [2, 4], "situation.communities": [1, 3]},
                fixed={"situation.households": 300, "situation.streets": 1},
            ),
            "design point 1 (situation.grids=2, situation.communities=3) under regime constructive",
        ),
    ],
)
def test_resolution_errors_name_the_spec_and_point(data, message):
    with pytest.raises(SacaInputError) as err:
        prepare(parse_spec(data, label="s.toml"))
    assert str(err.value).startswith("s.toml: ") and message in str(err.value)


def call(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[sweep]\nregimes = ["hybrid"]\nreplicate = 2\n', "did you mean 'replicates'"),
        (
            '[sweep]\nregimes = ["hybrid"]\ndesign = "lhs"\nsamples = 4\n'
            '[parameters]\n"situation.risk" = { min = 0.9, max = 0.1 }\n',
            "bad range",
        ),
        ('[sweep]\nregimes = ["hybrid"]\ndesign = "montecarlo"\n', "unknown design"),
        ('[sweep]\nregimes = ["hybrid"\n', "fix the TOML syntax"),
    ],
)
def test_cli_spec_errors_exit_2_with_one_line_before_any_run(tmp_path, text, message):
    spec = tmp_path / "s.toml"
    spec.write_text(text)
    out = tmp_path / "out"
    code, stdout, stderr = call(["sweep", spec, "--out", out, "--backend", "serial"])
    assert code == 2 and stdout == ""
    assert stderr.startswith("saca: error: ") and stderr.count("\n") == 1
    assert message in stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--backend", "threads"], "unknown backend 'threads'"),
        (["--backend", "serial", "--workers", "2"], "--workers applies to the process"),
        (["--workers", "0"], "--workers must be a whole number of at least 1"),
        (["--backend", "process", "--scheduler", "tcp://x:1"], "--scheduler needs --backend dask"),
        (["--scheduler", "tcp://x:1", "--workers", "2"], "--workers does not apply"),
    ],
)
def test_cli_backend_option_errors(tmp_path, argv, message):
    spec = tmp_path / "s.toml"
    spec.write_text('[sweep]\nregimes = ["hybrid"]\nsteps = 2\n')
    code, _, stderr = call(["sweep", spec, "--out", tmp_path / "o", *argv])
    assert code == 2 and message in stderr and stderr.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_example_specs_are_valid_and_small():
    specs = sorted((SPECS).glob("*.toml"))
    names = {p.stem for p in specs}
    assert {"emergency_compare", "information_control", "situation_lhs"} <= names
    for p in specs:
        if set(tomllib.loads(p.read_text(encoding="utf-8"))) - set(SPEC_TABLES):
            continue  # the spec of an analysis (saca sensitivity, ...): its own tests check it
        plan = prepare(p)
        assert plan.n_runs <= 80, p.name
    lhs = prepare(SPECS / "situation_lhs.toml")
    assert lhs.design.kind == "lhs"
    assert set(lhs.param_kinds) == {
        "situation.risk",
        "situation.capacity_mean",
        "situation.cohesion_mean",
    }
    assert math.isclose(lhs.design.points["situation.risk"].min(), 0.1, abs_tol=0.1)
