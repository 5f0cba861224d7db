"""The metrics contract (DESIGN §4): names, the accounting identity, bounds, and the
agreement between the per-day series and the window summaries (model.metrics)."""

from __future__ import annotations

import math
from types import SimpleNamespace as P

import numpy as np
import pandas as pd
import pytest

from saca.agents import needs as nd
from saca.model.metrics import (
    HIGHER_IS_BETTER,
    METRICS,
    STATE_METRICS,
    cascade_onsets,
    gini,
    handoffs_today,
    task_concentration,
    windows,
    worst_decile,
)

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
    assert higher == {"efficacy", "resolution_rate", "efficacy_worst_decile"} | {
        m for m in METRICS if "trust" in m
    }
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


# ----- concentration, cascades and the worst-off (issue 13) ----------------------------
def test_task_concentration_is_the_gini_of_needs_resolved_across_cadres_on_duty():
    # three days, four cadres; cadre 3 is never on duty and does not count as idle
    duty = np.array([[1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 0, 0]], dtype=bool)
    even = np.array([[1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 0, 0]], dtype=float)
    assert task_concentration(even, duty) == pytest.approx(gini(np.array([3.0, 3, 2])))
    one = np.zeros((3, 4))
    one[:, 0] = 2  # cadre 0 resolves everything, cadres 1 and 2 nothing
    assert task_concentration(one, duty) == pytest.approx(gini(np.array([6.0, 0, 0])))
    assert task_concentration(one, duty) == pytest.approx(2 / 3)
    assert task_concentration(np.full((3, 4), 1.0), np.ones((3, 4), bool)) == 0.0
    assert math.isnan(task_concentration(np.zeros((3, 4)), duty))
    assert math.isnan(task_concentration(np.zeros((0, 4)), np.zeros((0, 4), bool)))


def _over(days: int, cadres: int, spans: dict[int, tuple[int, int]]) -> np.ndarray:
    """Overload per day and cadre: cadre i overloaded on days [a, b) of spans[i]."""
    over = np.zeros((days, cadres), dtype=bool)
    for i, (a, b) in spans.items():
        over[a:b, i] = True
    return over


def test_a_cascade_is_an_overload_onset_after_work_from_an_overloaded_cadre():
    # cadre 0 overloaded on days 2-5 hands a need to cadre 1 on day 3; cadre 1 overloads
    # from day 5 (two days later, within k = 3): one cascade, on day 5, at cadre 1
    over = _over(10, 3, {0: (2, 6), 1: (5, 8)})
    got = cascade_onsets(over, [(3, 0, 1)], k=3)
    assert got.sum() == 1 and got[5, 1]
    # the same handoff from a cadre who was not overloaded passes no overload on
    calm = _over(10, 3, {1: (5, 8)})
    assert cascade_onsets(calm, [(3, 0, 1)], k=3).sum() == 0
    # overloaded the day before the handoff (its last measured load) is enough
    assert cascade_onsets(_over(10, 3, {0: (2, 3), 1: (5, 8)}), [(3, 0, 1)], k=3).sum() == 1
    # an onset more than k days after the handoff is not a cascade
    assert cascade_onsets(over, [(3, 0, 1)], k=1).sum() == 0
    # the onset on the handoff's own day counts (lag 0)
    assert cascade_onsets(_over(10, 3, {0: (2, 6), 1: (3, 8)}), [(3, 0, 1)], k=0).sum() == 1


def test_a_receiver_already_overloaded_is_no_new_cascade_and_onsets_count_once():
    # cadre 1 is overloaded before and through the handoff: no onset, no cascade
    assert cascade_onsets(_over(10, 3, {0: (2, 6), 1: (1, 8)}), [(3, 0, 1)]).sum() == 0
    # several handoffs (two givers) before one onset: one cascade
    over = _over(10, 3, {0: (2, 6), 2: (2, 6), 1: (5, 8)})
    assert cascade_onsets(over, [(3, 0, 1), (4, 0, 1), (4, 2, 1)]).sum() == 1
    # a second onset after a calm day, fed again, is a second cascade
    over = _over(12, 3, {0: (2, 11), 1: (5, 7)})
    over[9:11, 1] = True
    got = cascade_onsets(over, [(3, 0, 1), (8, 0, 1)], k=3)
    assert got.sum() == 2 and got[5, 1] and got[9, 1]
    # a cadre passing work to itself, or a handoff outside the days, is ignored
    assert cascade_onsets(_over(10, 2, {0: (2, 8)}), [(1, 0, 0), (20, 1, 0), (-1, 1, 0)]).sum() == 0


def test_worst_decile_pools_the_worst_tenth_of_observed_communities():
    # four observed communities (and one with too few needs due): the worst one
    assert worst_decile([9, 5, 8, 2, 0], [10, 10, 10, 10, 3]) == pytest.approx(0.2)
    # twenty communities: the worst two pooled, on time / due
    due = np.full(20, 10.0)
    ok = np.full(20, 9.0)
    ok[[4, 11]] = [1.0, 4.0]
    due[11] = 20.0
    assert worst_decile(ok, due) == pytest.approx(5 / 30)
    assert math.isnan(worst_decile([1, 2], [3, 4]))


def test_worst_decile_never_exceeds_efficacy_and_cascades_add_up(run):
    table = run.summary(by_phase=True)
    for name, row in table.iterrows():
        if defined(row["efficacy_worst_decile"]):
            assert row["efficacy_worst_decile"] <= row["efficacy"] + 1e-12, name
        assert row["overload_cascades"] >= 0 and float(row["overload_cascades"]).is_integer()
        assert math.isnan(row["task_concentration"]) or 0 <= row["task_concentration"] < 1
    ts = run.timeseries()
    assert ts["overload_cascades"].sum() == table.loc["all", "overload_cascades"]


def test_daily_cascades_agree_with_the_whole_run_and_concentration_with_the_cadres(run):
    """The per-day count (computed on the last k + 1 days) equals the definition applied
    to the whole run's overloads and handoffs; the summary's concentration is the Gini of
    each on-duty cadre's resolved needs."""
    raw = run.daily_totals
    onsets = cascade_onsets(np.array(raw["overloaded"]), np.concatenate(raw["handoffs"]))
    assert (run.timeseries()["overload_cascades"].to_numpy() == onsets.sum(axis=1)).all()
    res = np.array(raw["resolved_by_cadre"])
    duty = np.array(raw["on_duty"]).any(axis=0)
    assert run.summary()["task_concentration"] == pytest.approx(gini(res.sum(axis=0)[duty]))


def test_overload_passes_on_through_redeployment_and_escalation(
    small_model, add_need, scripted_rng
):
    """Hand-built flows: a post reporting too much work has its need redeployed (a handoff
    from the post), and a need escalated by one cadre and given to another is a handoff
    between them."""
    m = small_model(regime="constructive", overrides={"regime.offloading_allowed": False}, days=1)
    m.step()  # a day under way, so cadres are active
    hh = 0
    g = int(m.structure.hh_grid[hh])
    posts = [p.idx for p in m.posts[g] if p.active]
    assert posts
    m.reported_backlog[:] = 0.0
    m.reported_backlog[posts] = 1e6  # every post of the grid reports a flood of work
    m.rng = scripted_rng(m.rng, random=0.99)  # the command decides alone, no offloading
    m.daily_totals["handoffs_today"].clear()
    nid = add_need(m, hh)
    m.needs.where[nid] = nd.AT_COMMAND
    m.assign_by_post(np.array([nid]))
    (giver, receiver), *rest = handoffs_today(m).tolist()
    assert not rest and giver in posts and receiver not in posts
    assert m.needs.holder[nid] == receiver

    m.daily_totals["handoffs_today"].clear()
    up = add_need(m, hh, level=1)
    grid_cadre = m.cadres[posts[0]]
    m.escalate(up, grid_cadre)
    assert handoffs_today(m).tolist() == []  # passed up, no one has it yet
    other = next(c for c in m.cadres if c.idx != grid_cadre.idx)
    m._to_cadre(up, other, chosen=False)
    assert handoffs_today(m).tolist() == [[grid_cadre.idx, other.idx]]
    m._to_cadre(up, other, chosen=False)  # recorded once
    assert len(handoffs_today(m)) == 1
