"""Sweep designs: full factorial, Latin hypercube and Sobol (Saltelli)."""

import numpy as np
import pytest
from SALib.sample import sobol as salib_sobol

from experiments import design as dsg
from model import SacaInputError

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
