"""Confidence intervals of saca.experiments.stats against hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from saca.experiments.stats import (
    WORST_OFF,
    band,
    compare_stats,
    loses_worst_off,
    mean_ci,
    paired_diff_ci,
    with_equity,
    worst_off_flags,
    worst_off_of_runs,
    worst_off_text,
)

# Student t quantiles t(0.975, df), from tables.
T975 = {2: 4.302653, 3: 3.182446, 4: 2.776445}


def test_mean_ci_hand_example():
    # 1..5: mean 3, sd sqrt(2.5), half-width t(.975, 4) * sd / sqrt(5)
    ci = mean_ci([1, 2, 3, 4, 5])
    half = T975[4] * math.sqrt(2.5) / math.sqrt(5)
    assert ci["mean"] == pytest.approx(3.0)
    assert ci["sd"] == pytest.approx(math.sqrt(2.5))
    assert ci["lo"] == pytest.approx(3.0 - half, rel=1e-6)
    assert ci["hi"] == pytest.approx(3.0 + half, rel=1e-6)
    assert ci["n"] == 5
    assert ci["lo"] == pytest.approx(1.036757, abs=1e-5)


def test_paired_diff_hand_example():
    # differences 1, 2, 2, 3: mean 2, sd sqrt(2/3), half-width t(.975, 3) * sd / 2
    base = [1.0, 2.0, 3.0, 4.0]
    other = [2.0, 4.0, 5.0, 7.0]
    d = paired_diff_ci(base, other)
    half = T975[3] * math.sqrt(2 / 3) / 2
    assert d["diff"] == pytest.approx(2.0)
    assert d["lo"] == pytest.approx(2.0 - half, rel=1e-6)
    assert d["hi"] == pytest.approx(2.0 + half, rel=1e-6)
    assert d["lo"] == pytest.approx(0.700766, abs=1e-5)
    assert d["n"] == 4


def test_paired_interval_is_narrower_than_unpaired_for_shared_seeds():
    # A large replicate effect shared by both regimes cancels in the paired difference.
    shared = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    base, other = shared, shared + np.array([1.0, 1.1, 0.9, 1.0, 1.05])
    d = paired_diff_ci(base, other)
    a, b = mean_ci(base), mean_ci(other)
    assert d["hi"] - d["lo"] < 0.1 * ((a["hi"] - a["lo"]) + (b["hi"] - b["lo"]))
    assert d["lo"] > 0


def test_paired_diff_drops_incomplete_pairs():
    d = paired_diff_ci([1.0, np.nan, 3.0, 4.0], [2.0, 5.0, np.nan, 6.0])
    assert d["n"] == 2
    assert d["diff"] == pytest.approx(1.5)


def test_paired_diff_needs_equal_lengths():
    with pytest.raises(ValueError, match="equal lengths"):
        paired_diff_ci([1.0, 2.0], [1.0])


def test_fewer_than_two_values_give_no_interval():
    ci = mean_ci([0.4, np.nan])
    assert ci["mean"] == 0.4 and ci["n"] == 1
    assert math.isnan(ci["lo"]) and math.isnan(ci["hi"])
    assert math.isnan(mean_ci([])["mean"])


def test_compare_stats_pairs_by_replicate():
    runs = pd.DataFrame(
        {
            "regime": ["a"] * 3 + ["b"] * 3,
            # b's rows deliberately out of order: pairing must follow the replicate index
            "replicate": [0, 1, 2, 2, 0, 1],
            "x": [1.0, 2.0, 3.0, 3.5, 1.0, 2.5],
        }
    )
    res = compare_stats(runs, ["a", "b"], ["x"])
    assert set(res["differences"]) == {"b"}
    d = res["differences"]["b"]["x"]
    assert d["diff"] == pytest.approx(np.mean([0.0, 0.5, 0.5]))
    assert res["regimes"]["a"]["x"]["mean"] == pytest.approx(2.0)
    half = T975[2] * np.std([0.0, 0.5, 0.5], ddof=1) / math.sqrt(3)
    assert d["hi"] - d["diff"] == pytest.approx(half, rel=1e-6)


def test_band_per_day():
    ts = pd.DataFrame(
        {
            "regime": ["a"] * 4,
            "replicate": [0, 0, 1, 1],
            "day": [0, 1, 0, 1],
            "y": [1.0, 2.0, 3.0, 2.0],
        }
    )
    b = band(ts, "y").set_index("day")
    assert b.loc[0, "mean"] == pytest.approx(2.0)
    assert b.loc[1, "lo"] == pytest.approx(2.0) and b.loc[1, "hi"] == pytest.approx(2.0)
    # values 1 and 3: sd sqrt(2), half-width t(.975, 1) * sqrt(2) / sqrt(2)
    assert b.loc[0, "hi"] - b.loc[0, "mean"] == pytest.approx(12.706205, rel=1e-6)


@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=2, max_size=30))
def test_interval_contains_the_mean(values):
    ci = mean_ci(values)
    assert ci["lo"] <= ci["mean"] + 1e-9 * (1 + abs(ci["mean"]))
    assert ci["mean"] <= ci["hi"] + 1e-9 * (1 + abs(ci["mean"]))


# ----- equity beside the mean (issue 13) ------------------------------------------------
def test_equity_metrics_follow_efficacy_once():
    assert with_equity(["efficacy", "burnout_mean"]) == [
        "efficacy",
        "efficacy_sd_between_communities",
        "efficacy_worst_decile",
        "burnout_mean",
    ]
    assert with_equity(["burnout_mean"]) == ["burnout_mean"]
    # already listed: not repeated, and the order given is kept
    given_order = ["efficacy_worst_decile", "efficacy", "efficacy_sd_between_communities"]
    assert with_equity(given_order) == given_order


def test_the_worst_off_flag_needs_both_intervals_to_exclude_zero():
    win, lose, tie = {"lo": 0.02, "hi": 0.1}, {"lo": -0.2, "hi": -0.05}, {"lo": -0.1, "hi": 0.1}
    assert loses_worst_off(win, lose)
    assert not loses_worst_off(win, tie)  # the worst-off may not be worse
    assert not loses_worst_off(tie, lose)  # no win on the mean
    assert not loses_worst_off(lose, win)  # the opposite trade
    assert not loses_worst_off({"lo": math.nan, "hi": math.nan}, lose)


def test_a_regime_better_on_average_and_worse_for_the_worst_off_is_flagged():
    """Constructed replicates: B beats A on mean efficacy by ~0.05 and loses its worst
    decile by ~0.10 (paired, little noise); C beats A on both; nothing flags A or C."""
    noise = np.array([0.0, 0.004, -0.003, 0.002, -0.001])
    mean = {"A": 0.60 + noise, "B": 0.65 + noise[::-1], "C": 0.70 + noise}
    worst = {"A": 0.40 + noise, "B": 0.30 + noise, "C": 0.45 + noise[::-1]}
    flags = worst_off_flags(mean, worst)
    assert flags == {"B": ["A"]}
    assert worst_off_text(flags) == [f"B {WORST_OFF} (against A)"]
    # C beats B on the mean and on the worst-off: no trade, no flag; noise alone: no flag
    same = {r: 0.6 + noise for r in "AB"}
    assert worst_off_flags(same, {r: 0.4 + noise[::-1] for r in "AB"}) == {}
    # the same from a run table paired by replicate
    runs = pd.DataFrame(
        [
            {"regime": r, "replicate": i, "efficacy": mean[r][i], "efficacy_worst_decile": w}
            for r in mean
            for i, w in enumerate(worst[r])
        ]
    )
    assert worst_off_of_runs(runs, ["A", "B", "C"]) == {"B": ["A"]}
    assert worst_off_of_runs(runs.drop(columns="efficacy_worst_decile"), ["A", "B"]) == {}
