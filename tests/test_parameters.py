"""Parameter metadata, type/range checking and user-facing errors (model.parameters)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saca.model.behaviour import Behaviour
from saca.model.parameters import (
    SacaInputError,
    apply_values,
    coerce,
    describe,
    parse_value,
    unknown_key_error,
)
from saca.model.regime import DIALS, Regime
from saca.model.scenario import all_params

PARAMS = {p.key: p for p in all_params()}
FLOAT_PARAMS = [p for p in PARAMS.values() if p.kind == "float"]
INT_PARAMS = [p for p in PARAMS.values() if p.kind == "int"]


def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg, f"error message spans lines: {msg!r}"
    assert msg
    return msg


# ----- metadata -----------------------------------------------------------------------
def test_every_parameter_is_documented_once_with_a_known_seed():
    keys = [p.key for p in all_params()]
    assert len(keys) == len(set(keys))
    for p in all_params():
        assert p.meaning.strip(), p.key
        assert p.kind in {"float", "int", "bool", "choice"}, p.key
        # a source study (several joined by "/"), or an assumption with its reason
        if p.source.startswith("assumption"):
            continue
        parts = p.source.split("/")
        assert all(s in {"000", "001", "002", "003", "004"} for s in parts), p


def test_numbers_have_bounds_and_defaults_are_valid():
    for p in all_params():
        if p.kind in ("float", "int"):
            assert p.lo is not None and p.hi is not None and p.lo <= p.hi, p.key
        # every default must pass its own check unchanged
        assert coerce(p, p.default) == p.default, p.key


def test_the_six_dials_run_from_zero_to_one():
    infos = {p.key: p for p in describe("regime", Regime)}
    for dial in DIALS:
        p = infos[f"regime.{dial}"]
        assert (p.kind, p.lo, p.hi) == ("float", 0.0, 1.0)


# ----- coerce -------------------------------------------------------------------------
@given(data=st.data())
def test_coerce_accepts_every_in_range_float(data):
    p = data.draw(st.sampled_from(FLOAT_PARAMS))
    x = data.draw(st.floats(min_value=p.lo, max_value=p.hi, allow_nan=False))
    out = coerce(p, x)
    assert isinstance(out, float) and out == x


@given(data=st.data())
def test_coerce_rejects_every_out_of_range_float(data):
    p = data.draw(st.sampled_from(FLOAT_PARAMS))
    below = st.floats(max_value=p.lo, exclude_max=True, allow_nan=False)
    above = st.floats(min_value=p.hi, exclude_min=True, allow_nan=False)
    x = data.draw(below | above)
    with pytest.raises(SacaInputError) as exc:
        coerce(p, x)
    msg = one_line(exc)
    assert p.key in msg and "out of range" in msg


@given(data=st.data())
def test_coerce_accepts_in_range_ints_for_a_float_and_rejects_the_rest(data):
    """Whole numbers from TOML or --set are numbers too, however large."""
    p = data.draw(st.sampled_from(FLOAT_PARAMS))
    n = data.draw(st.integers(math.ceil(p.lo), math.floor(p.hi)))
    assert coerce(p, n) == float(n) and isinstance(coerce(p, n), float)
    bad = data.draw(
        st.integers(max_value=math.ceil(p.lo) - 1)
        | st.integers(min_value=math.floor(p.hi) + 1)
        | st.sampled_from([10**400, -(10**400)])
    )
    with pytest.raises(SacaInputError) as exc:
        coerce(p, bad)
    assert "out of range" in one_line(exc)


@given(data=st.data())
def test_coerce_ints_accept_whole_numbers_in_range_and_reject_the_rest(data):
    p = data.draw(st.sampled_from(INT_PARAMS))
    lo, hi = int(p.lo), int(p.hi)
    n = data.draw(st.integers(lo, hi))
    assert coerce(p, n) == n
    assert coerce(p, float(n)) == n and isinstance(coerce(p, float(n)), int)
    bad = data.draw(st.integers(max_value=lo - 1) | st.integers(min_value=hi + 1))
    with pytest.raises(SacaInputError):
        coerce(p, bad)


def test_coerce_rejects_nan_and_text_for_a_float():
    p = PARAMS["regime.information"]
    for bad in (math.nan, "0.5", None, [0.5]):
        with pytest.raises(SacaInputError) as exc:
            coerce(p, bad)
        assert "regime.information" in one_line(exc)


@pytest.mark.parametrize("key", ["situation.households", "regime.information"])
@pytest.mark.parametrize("value", [True, False])
def test_a_bool_is_not_a_number(key, value):
    with pytest.raises(SacaInputError) as exc:
        coerce(PARAMS[key], value)
    assert key in one_line(exc)


def test_a_fractional_float_is_not_a_whole_number():
    with pytest.raises(SacaInputError) as exc:
        coerce(PARAMS["situation.households"], 400.5)
    assert "whole number" in one_line(exc)


def test_bool_and_choice_parameters_accept_only_their_values():
    assert coerce(PARAMS["regime.task_force"], True) is True
    for bad in (1, 0, "true", "yes"):
        with pytest.raises(SacaInputError):
            coerce(PARAMS["regime.task_force"], bad)
    assert coerce(PARAMS["regime.evaluation"], "points") == "points"
    with pytest.raises(SacaInputError) as exc:
        coerce(PARAMS["regime.evaluation"], "point")
    msg = one_line(exc)
    # the message lists what is allowed
    for choice in ("none", "points", "satisfaction", "multi"):
        assert choice in msg


# ----- parse_value, unknown keys, apply_values ----------------------------------------
@pytest.mark.parametrize(
    ("text", "value"),
    [("1", 1), ("0.25", 0.25), ("true", True), ('"central"', "central"), ("central", "central")],
)
def test_parse_value_reads_toml_or_falls_back_to_text(text, value):
    out = parse_value(text)
    assert out == value and type(out) is type(value)


def test_a_number_too_long_to_parse_is_a_one_line_input_error():
    """Python refuses int strings over 4300 digits; that must not escape as a traceback."""
    raw = parse_value("1" + "0" * 5000)
    with pytest.raises(SacaInputError) as exc:
        coerce(PARAMS["regime.information"], raw)
    one_line(exc)


def test_unknown_key_suggests_the_closest_one():
    err = unknown_key_error("regime.informaton", PARAMS)
    assert isinstance(err, SacaInputError)
    assert "did you mean regime.information?" in str(err)
    assert "\n" not in str(err)


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("situation.offload_propensity", "behaviour.offload_propensity"),
        ("regime.cohesion_mean", "situation.cohesion_mean"),
        ("population.trust_gain", "behaviour.trust_gain"),
    ],
)
def test_a_key_in_the_wrong_group_suggests_the_right_group(given, meant):
    assert f"did you mean {meant}?" in str(unknown_key_error(given, PARAMS))


def test_same_name_in_another_group_is_suggested_when_nothing_is_close():
    # too far apart for difflib: the fallback matches on the last part of the key
    err = unknown_key_error("a.xyz", ["b.qqq.xyz", "c.unrelated_name"])
    assert "did you mean b.qqq.xyz?" in str(err)


def test_unknown_key_without_a_close_match_points_to_saca_list():
    err = unknown_key_error("zzz.qqqqqq", PARAMS)
    assert "saca list" in str(err) and "did you mean" not in str(err)


def test_apply_values_replaces_validated_fields_only():
    b = apply_values(Behaviour(), "behaviour", {"trust_gain": 0.1}, PARAMS)
    assert b.trust_gain == 0.1 and b.loss_aversion == Behaviour().loss_aversion
    with pytest.raises(SacaInputError) as exc:
        apply_values(Behaviour(), "behaviour", {"trust_gian": 0.1}, PARAMS)
    assert "did you mean behaviour.trust_gain?" in one_line(exc)
    with pytest.raises(SacaInputError):
        apply_values(Behaviour(), "behaviour", {"trust_gain": 2.0}, PARAMS)


def test_every_declared_parameter_is_read_by_the_model():
    """A declared parameter that no mechanism reads would be a dial with no effect: the
    sensitivity analysis would rank it, and the ODD would document a fiction."""
    root = Path(__file__).resolve().parents[1]
    declarations = {"behaviour.py", "population.py", "regime.py", "situation.py", "parameters.py"}
    sources = [p for p in (root / "model").glob("*.py") if p.name not in declarations]
    sources += list((root / "agents").glob("*.py"))
    code = "\n".join(p.read_text(encoding="utf-8") for p in sources)
    unused = [
        p.key
        for p in all_params()
        if not re.search(rf"\.{re.escape(p.key.split('.', 1)[1])}\b", code)
    ]
    assert not unused, f"declared but never read in model/ or agents/: {unused}"
