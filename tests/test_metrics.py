"""The metrics contract (DESIGN §4): names, the accounting identity, bounds, and the
agreement between the per-day series and the window summaries (model.metrics)."""

from __future__ import annotations

import math
from types import SimpleNamespace as P

import numpy as np
import pandas as pd
import pytest

from model.metrics import HIGHER_IS_BETTER, METRICS, STATE_METRICS, gini, windows

CONTRACT = (
    "needs_created",
    "needs_resolved",
    "needs_open",
    "needs_hidden",
    "efficacy",
    "resolution_rate",
    "response_time_mean",
    "response_time_p90",
    "escalation_share",
    "trust_resident_sunk",
    "trust_resident_community",
    "trust_institution",
    "trust_cadre_cadre",
    "burnout_mean",
    "burnout_share",
    "burnout_sunk",
    "burnout_community",
    "shirking_rate",
    "formalism_share",
    "participation_in_service",
    "complaints",
    "coverage_gini",
    "efficacy_sd_between_communities",
    "hours_per_resolved",
)
UNIT_INTERVAL = (
    "efficacy",
    "resolution_rate",
    "escalation_share",
    "trust_resident_sunk",
    "trust_resident_community",
    "trust_institution",
    "trust_cadre_cadre",
    "burnout_mean",
    "burnout_share",
    "burnout_sunk",
    "burnout_community",
    "shirking_rate",
    "formalism_share",
    "participation_in_service",
    "coverage_gini",
    "efficacy_sd_between_communities",
    "mandate_relief",
)
COUNTS = ("needs_created", "needs_resolved", "needs_open", "needs_hidden", "needs_dropped")

# Runs through normal -> emergency -> recovery under regimes from both ends and between.
RUNS = [
    ("emergency", "constructive", 1, {}),
    ("emergency", "autonomous", 2, {}),
    ("emergency", "hybrid", 3, {"situation.need_rate": 0.004}),
    ("emergency", "task_force", 4, {}),
    ("emergency", "grid_instructor", 5, {"regime.escalation": "central"}),
    ("baseline", "front_loaded", 6, {"regime.offloading_allowed": True}),
]
DAYS = 100


@pytest.fixture(scope="module", params=RUNS, ids=[f"{r[1]}-{r[2]}" for r in RUNS])
def run(request, run_small):
    scenario, regime, seed, overrides = request.param
    return run_small(scenario, regime, seed, overrides, days=DAYS)


def defined(x: float) -> bool:
    return not math.isnan(x)


# ----- names --------------------------------------------------------------------------
def test_the_contract_names_are_all_reported_once():
    assert len(set(METRICS)) == len(METRICS)
    assert set(CONTRACT) <= set(METRICS)
    assert set(STATE_METRICS) <= set(METRICS)
    assert "needs_dropped" in METRICS  # completes the identity


# ----- gini ---------------------------------------------------------------------------
def test_gini_is_zero_for_equality_and_near_one_for_concentration():
    assert gini(np.full(10, 3.0)) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 10.0])) == pytest.approx(0.75)
    assert gini(np.array([])) == 0.0 and gini(np.zeros(4)) == 0.0
    assert gini(np.array([1.0, 2, 3, 4])) == pytest.approx(0.25)
    a = np.array([5.0, 1, 3])
    assert gini(a) == pytest.approx(gini(a[::-1])) == pytest.approx(gini(10 * a))


# ----- summaries ----------------------------------------------------------------------
def test_accounting_identity_holds_in_every_window(run):
    table = run.summary(by_phase=True)
    for name, row in table.iterrows():
        assert row["needs_created"] == (
            row["needs_resolved"] + row["needs_open"] + row["needs_hidden"] + row["needs_dropped"]
        ), name
        assert all(row[k] >= 0 and float(row[k]).is_integer() for k in COUNTS), name


def test_phase_windows_partition_the_run(run):
    table = run.summary(by_phase=True)
    phases = table.drop(index="all")
    for k in (*COUNTS, "complaints", "offloads"):
        assert phases[k].sum() == table.loc["all", k], k


def test_shares_trust_and_burnout_lie_in_the_unit_interval(run):
    table = run.summary(by_phase=True)
    for name, row in table.iterrows():
        for k in UNIT_INTERVAL:
            assert math.isnan(row[k]) or 0 <= row[k] <= 1, (name, k, row[k])
        assert row["complaints"] >= 0 and row["offloads"] >= 0
        assert math.isnan(row["hours_per_resolved"]) or row["hours_per_resolved"] > 0


def test_response_times_are_ordered(run):
    table = run.summary(by_phase=True)
    for name, row in table.iterrows():
        mean, p90 = row["response_time_mean"], row["response_time_p90"]
        assert defined(mean) == defined(p90), name
        if defined(mean):
            assert p90 >= mean >= 0, name


def test_efficacy_at_most_resolution_rate_where_every_deadline_has_passed(run):
    """Within a window whose needs' deadlines all fell inside the run, on time implies
    resolved, so efficacy <= resolution_rate."""
    table = run.summary(by_phase=True)
    nds = run.needs
    for name, row in table.iterrows():
        if name == "all":
            continue
        ph = next(p for p in run.situation.timeline if p.name == name)
        sel = (nds.created[: nds.n] >= ph.start) & (nds.created[: nds.n] < ph.end)
        if sel.any() and nds.deadline[: nds.n][sel].max() < run.steps:
            assert row["efficacy"] <= row["resolution_rate"], name


def test_efficacy_at_most_resolution_rate_in_every_window(run_small):
    for scenario, regime, seed, overrides in RUNS:
        table = run_small(scenario, regime, seed, overrides, days=DAYS).summary(by_phase=True)
        ok = table["efficacy"].isna() | (table["efficacy"] <= table["resolution_rate"])
        assert ok.all(), (regime, seed, table.loc[~ok, ["efficacy", "resolution_rate"]])


def test_whole_run_summary_matches_the_all_window(run):
    whole = run.summary()
    row = run.summary(by_phase=True).loc["all"]
    for k in METRICS:
        assert whole[k] == row[k] or (math.isnan(whole[k]) and math.isnan(row[k])), k


# ----- the per-day series against the summary -----------------------------------------
def test_daily_flows_add_up_to_the_summary(run):
    ts = run.timeseries()
    whole = run.summary()
    for k in ("needs_created", "needs_resolved", "needs_dropped", "complaints", "offloads"):
        assert ts[k].sum() == whole[k], k
    assert ts["needs_open"].iloc[-1] == whole["needs_open"]
    assert ts["needs_created"].sum() == run.needs.n


def test_state_metrics_summarise_as_means_over_the_window(run):
    ts = run.timeseries()
    table = run.summary(by_phase=True)
    for k in STATE_METRICS:
        assert table.loc["all", k] == pytest.approx(ts[k].mean(), nan_ok=True), k
    if "emergency" in table.index:
        em = ts[ts["phase"] == "emergency"]
        assert table.loc["emergency", "burnout_mean"] == pytest.approx(em["burnout_mean"].mean())


def test_daily_shares_lie_in_the_unit_interval(run):
    ts = run.timeseries()
    for k in UNIT_INTERVAL:
        col = ts[k].dropna()
        assert ((col >= 0) & (col <= 1)).all(), (k, col[(col < 0) | (col > 1)])
    for k in COUNTS:
        assert (ts[k] >= 0).all()


def test_daily_escalation_share_is_a_share(run_small):
    for scenario, regime, seed, overrides in RUNS:
        ts = run_small(scenario, regime, seed, overrides, days=DAYS).timeseries()
        col = ts["escalation_share"].dropna()
        assert (col <= 1).all(), (regime, seed, col.max())


def test_burnout_share_counts_cadres_above_the_threshold(small_model):
    m = small_model(days=3)
    thr = m.behaviour.burnout_threshold
    for i, c in enumerate(m.cadres):
        c.exhaustion = 0.9 if i % 4 == 0 else 0.1
    m.step()
    row = m.timeseries().iloc[-1]
    # on duty: full-time cadres, and the in-service members who served that day
    duty = np.array([c.full_time or c.active for c in m.cadres])
    assert 0 < duty.sum() < len(m.cadres)
    exh = np.array([c.exhaustion for c in m.cadres])[duty]
    assert row["burnout_share"] == pytest.approx((exh > thr).mean())
    assert row["burnout_mean"] == pytest.approx(exh.mean())
    sunk = m.cadre_is_sunk[duty]
    assert row["burnout_sunk"] == pytest.approx(exh[sunk].mean())
    assert row["burnout_community"] == pytest.approx(exh[~sunk].mean())


def test_between_community_spread_needs_two_observed_communities(small_model):
    one = small_model(
        overrides={"situation.communities": 1, "situation.streets": 1}, days=30
    ).summary()
    assert math.isnan(one["efficacy_sd_between_communities"])
    assert not math.isnan(one["efficacy"])


def test_a_run_without_needs_reports_nan_not_errors(small_model):
    m = small_model(overrides={"situation.need_rate": 0.0}, days=10)
    s = m.summary()
    assert s["needs_created"] == 0
    for k in ("efficacy", "resolution_rate", "response_time_mean", "escalation_share"):
        assert math.isnan(s[k]), k
    assert isinstance(m.timeseries(), pd.DataFrame)


def test_windows_name_recurring_phases_by_start_day_and_stop_at_the_run_end():
    timeline = [P(name="normal", start=0, end=30), P(name="emergency", start=30, end=60)]
    timeline += [P(name="normal", start=60, end=90), P(name="recovery", start=90, end=120)]
    assert windows(timeline, 70) == [
        ("all", 0, 70),
        ("normal", 0, 30),
        ("emergency", 30, 60),
        ("normal_60", 60, 70),
    ]


def test_better_directions_are_those_odd_describes():
    # docs/ODD.md §4 "Better direction" lists these; change both together
    higher = {m for m, up in HIGHER_IS_BETTER.items() if up}
    assert higher == {"efficacy", "resolution_rate"} | {m for m in METRICS if "trust" in m}
    assert set(METRICS) - set(HIGHER_IS_BETTER) == {
        "needs_created",
        "needs_resolved",
        "escalation_share",
        "participation_in_service",
        "workload_sunk",
        "workload_community",
        "offloads",
        "paper_closures",
        "mandate_relief",
    }
