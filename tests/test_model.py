"""The daily step of CollaborationModel: situation, routing, allocation, cadre trust and
correction (model.model)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from agents import CommunityCadre, SunkCadre
from model import CollaborationModel, SacaInputError
from model import needs as nd
from model.metrics import METRICS
from model.model import CLAIM_WAIT, POOL_BACKLOG

EMERGENCY_TL = [
    {"phase": "normal", "start": 0, "end": 3},
    {"phase": "emergency", "start": 3, "end": 6},
    {"phase": "recovery", "start": 6, "end": 9},
]


def set_regime(m, **changes) -> None:
    m.regime = dataclasses.replace(m.regime, **changes)


def open_day(m) -> None:
    """Start a day by hand: every cadre begins it (hours, overheads, effort)."""
    for c in m.cadres:
        c.begin_day()


# ----- construction -------------------------------------------------------------------
def test_model_holds_its_spec_regime_and_population(small_model):
    m = small_model(regime="autonomous")
    assert m.regime_name == "autonomous" and m.regime.contract == 1.0
    assert m.situation.households == 400 and m.structure.n_households == 400
    assert len(m.residents) == 400 and len(m.households.trust_institution) == 400
    pop = m.population
    n_sunk = sum(c.is_sunk for c in m.cadres)
    assert n_sunk == 4 * pop.sunk_per_community
    n_comm = sum(isinstance(c, CommunityCadre) for c in m.cadres)
    assert n_comm == 4 * pop.committee_per_community + 8 * pop.grid_workers_per_grid
    assert [c.idx for c in m.cadres] == list(range(len(m.cadres)))
    assert m.skill_matrix.shape == (len(m.cadres), len(nd.NEED_TYPES))


def test_off_post_share_sets_the_mix_of_sunk_cadres(small_model):
    m = small_model(overrides={"regime.off_post_share": 0.3})
    per_comm = m.population.sunk_per_community
    off = [c for c in m.cadres if c.is_sunk and c.mode == "off_post"]
    assert len(off) == 4 * round(0.3 * per_comm)
    m = small_model(overrides={"regime.off_post_share": 0.0})
    assert all(c.mode == "in_service" for c in m.cadres if c.is_sunk)


def test_grid_instructors_are_extra_off_post_cadres_with_reach(small_model):
    plain = small_model(overrides={"regime.grid_instructors": False})
    m = small_model(overrides={"regime.grid_instructors": True})
    inst = [c for c in m.cadres if isinstance(c, SunkCadre) and c.instructor]
    assert len(inst) == 4 and len(m.cadres) == len(plain.cadres) + 4
    assert all(c.mode == "off_post" and c.reach == 2 for c in inst)
    assert sorted(c.community for c in inst) == [0, 1, 2, 3]


def test_bad_overrides_are_refused_before_anything_is_built():
    with pytest.raises(SacaInputError):
        CollaborationModel("baseline", "hybrid", rng=1, overrides={"situation.households": 5})
    with pytest.raises(SacaInputError):
        CollaborationModel("baseline", "nonesuch", rng=1)


# ----- stage 1: situation -------------------------------------------------------------
def test_phase_risk_and_rate_follow_the_timeline(small_model):
    m = small_model(overrides={"situation.timeline": EMERGENCY_TL})
    sit = m.situation
    seen = []
    for _ in range(9):
        m.step()
        seen.append((m.day, m.phase, m.risk, m.rate_multiplier))
    assert [s[1] for s in seen] == ["normal"] * 3 + ["emergency"] * 3 + ["recovery"] * 3
    assert seen[0][2] == sit.baseline_risk and seen[3][2] == sit.risk
    assert seen[6][2] == pytest.approx((sit.risk + sit.baseline_risk) / 2)
    assert [s[3] for s in seen[::3]] == [1.0, sit.emergency_multiplier, sit.recovery_multiplier]
    assert [s[0] for s in seen] == list(range(9))
    ts = m.timeseries()
    assert list(ts["phase"]) == [s[1] for s in seen]


def test_running_past_the_timeline_keeps_the_last_phase(small_model):
    m = small_model(overrides={"situation.timeline": EMERGENCY_TL}, days=12)
    assert m.phase == "recovery" and len(m.timeseries()) == 12


# ----- stage 4: reporting and routing -------------------------------------------------
def route(small_model, add_need, overrides, *, ntype=nd.SERVICE, level=0, channel=None):
    m = small_model(overrides=overrides)
    h = int(np.flatnonzero(~np.isin(m.structure.hh_comm, list(m.firms)))[0])
    nid = add_need(m, h, ntype=ntype, level=level, status=nd.HIDDEN)
    if channel is None:
        channel = int(m.ties.cadre[m.ties.by_household[h][0]])
    m.report(np.array([nid]), np.array([channel]))
    assert m.needs.status[nid] == nd.OPEN and m.needs.reported[nid]
    return m, nid


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"regime.contract": 1.0}, nd.AT_LIST),
        ({"regime.contract": 0.0}, nd.AT_COMMAND),
        ({"regime.escalation": "central"}, nd.AT_CITY),
        ({"regime.event_filter": False}, nd.AT_STREET),
    ],
)
def test_reports_are_routed_by_the_regime(small_model, add_need, overrides, where):
    m, nid = route(small_model, add_need, overrides)
    assert m.needs.where[nid] == where
    assert m.needs.left_grid[nid] == (where in (nd.AT_CITY, nd.AT_STREET))


def test_facility_needs_go_to_the_property_firm(small_model, add_need):
    m = small_model(
        overrides={"situation.share_old_estate": 0.0, "situation.share_urban_village": 0.0}
    )
    nid = add_need(m, 0, ntype=nd.FACILITY, level=0, status=nd.HIDDEN)
    m.report(np.array([nid]), np.array([-1]))
    assert m.needs.where[nid] == nd.AT_FIRM


def test_the_hierarchy_delays_and_loses_detail_unless_information_is_shared(small_model, add_need):
    """P4: top-down routing waits level_delay per hop and loses detail_loss per hop."""
    m, nid = route(small_model, add_need, {"regime.contract": 0.0, "regime.information": 0.0})
    b = m.behaviour
    hops = np.log(m.needs.fidelity[nid]) / np.log(1 - b.detail_loss)
    assert hops == pytest.approx(round(hops)) and round(hops) >= 2
    assert m.needs.ready[nid] == m.day + round(hops) * b.level_delay
    m, nid = route(small_model, add_need, {"regime.contract": 0.0, "regime.information": 1.0})
    assert m.needs.fidelity[nid] == 1.0 and m.needs.ready[nid] == m.day


def test_delay_is_level_delay_per_hop_scaled_by_missing_information(small_model):
    m = small_model(overrides={"regime.information": 0.0, "behaviour.level_delay": 2.0})
    assert set(m.delay(3, 20).tolist()) == {6}
    set_regime(m, information=1.0)
    assert set(m.delay(3, 20).tolist()) == {0}
    set_regime(m, information=0.75)
    draws = m.delay(1, 400).tolist()
    assert set(draws) == {0, 1} and np.mean(draws) == pytest.approx(0.5, abs=0.08)


def test_waiting_needs_go_stale_faster_without_peer_information(small_model, add_need):
    m = small_model()
    nid = add_need(m, 0)
    m.day += 10
    set_regime(m, information=0.0)
    stale = m.fidelity(nid)
    set_regime(m, information=1.0)
    assert stale < m.fidelity(nid) < 1.0


# ----- stage 5: allocation ------------------------------------------------------------
def skill_of_handlers(small_model, contract: float, seed: int) -> float:
    m = small_model(seed=seed, overrides={"regime.contract": contract, "regime.decision": 0.0})
    log: list[float] = []
    to_cadre = m._to_cadre

    def spy(nid, cad):
        log.append(float(cad.skills[m.needs.ntype[nid]]))
        to_cadre(nid, cad)

    m._to_cadre = spy
    for _ in range(40):
        m.step()
    assert len(log) > 50
    return float(np.mean(log))


def test_claiming_matches_skills_better_than_posts(small_model):
    """P8: self-claimed tasks go to cadres more skilled at the need's type."""
    for seed in (1, 2, 3):
        assert skill_of_handlers(small_model, 1.0, seed) > skill_of_handlers(small_model, 0.0, seed)


def test_posts_assign_by_building_or_by_skill_under_consultation(small_model, add_need):
    m = small_model(overrides={"regime.contract": 0.0, "regime.decision": 0.0})
    open_day(m)
    g = 0
    pool = [p for p in m.posts[g] if p.active]
    homes = np.flatnonzero(m.structure.hh_grid == g)[:6]
    # small needs, so that no post's backlog grows enough to be pooled elsewhere
    ids = [add_need(m, int(h), ntype=nd.DISPUTE, hours=0.1) for h in homes]
    m.assign_by_post(np.array(ids))
    for nid, h in zip(ids, homes, strict=True):
        assert m.needs.holder[nid] == pool[int(h) % len(pool)].idx  # whatever the skill
    m = small_model(overrides={"regime.contract": 0.0, "regime.decision": 1.0})
    open_day(m)
    pool = [p for p in m.posts[g] if p.active]
    best = max(pool, key=lambda x: x.skills[nd.DISPUTE])
    ids = [add_need(m, int(h), ntype=nd.DISPUTE, hours=0.1) for h in homes]
    m.assign_by_post(np.array(ids))
    assert all(m.needs.holder[nid] == best.idx for nid in ids)
    assert all(nid in best.queue for nid in ids)


def test_community_level_needs_go_to_the_committee(small_model, add_need):
    m = small_model(overrides={"regime.contract": 0.0})
    open_day(m)
    nid = add_need(m, 0, level=1)
    m.assign_by_post(np.array([nid]))
    c = m.structure.hh_comm[0]
    assert m.needs.holder[nid] in [x.idx for x in m.committee[c]]


def test_an_overloaded_post_is_pooled_to_the_least_loaded_cadre_of_the_street(
    small_model, add_need
):
    """P15: command pools cadres across communities when a post is swamped."""
    m = small_model(overrides={"regime.contract": 0.0, "regime.decision": 0.0})
    open_day(m)
    h = 0
    g, c = int(m.structure.hh_grid[h]), int(m.structure.hh_comm[h])
    for cad in m.posts[g]:
        m._to_cadre(add_need(m, h, hours=POOL_BACKLOG * cad.daily_hours() + 1), cad)
    nid = add_need(m, h)
    m.assign_by_post(np.array([nid]))
    holder = m.cadres[int(m.needs.holder[nid])]
    assert holder not in m.posts[g]
    street = m.structure.comm_street[c]
    assert holder.idx in m.street_cadres[street] and holder.backlog() == pytest.approx(
        m.needs.hours[nid]
    )


def test_offloading_pushes_needs_onto_sunk_cadres_and_strains_trust(small_model, add_need):
    m = small_model(
        overrides={
            "regime.contract": 0.0,
            "regime.decision": 0.0,
            "regime.offloading_allowed": True,
            "behaviour.offload_propensity": 1.0,
        }
    )
    open_day(m)
    trust_before = m.cc_trust.copy()
    g = 0
    pool = [p for p in m.posts[g] if p.active]
    # households whose post (chosen by building) is a community cadre
    homes = [
        int(h)
        for h in np.flatnonzero(m.structure.hh_grid == g)
        if not pool[int(h) % len(pool)].is_sunk
    ][:5]
    assert len(homes) == 5
    ids = [add_need(m, h, hours=0.1) for h in homes]
    m.assign_by_post(np.array(ids))
    c = int(m.structure.grid_comm[g])
    holders = [m.cadres[int(m.needs.holder[n])] for n in ids]
    assert all(x.is_sunk and x.community == c for x in holders)
    assert m.offloads_today == 5
    assert (m.cc_trust <= trust_before).all() and (m.cc_trust < trust_before).any()


def test_claiming_picks_a_cadre_of_the_same_community(small_model, add_need):
    m = small_model(overrides={"regime.contract": 1.0, "behaviour.claim_threshold": 0.01})
    open_day(m)
    ids = np.array([add_need(m, int(h), hours=1.0) for h in (0, 150, 399)])
    m.needs.where[ids] = nd.AT_LIST
    m.claim_tasks()
    assert np.all(m.needs.where[ids] == nd.AT_CADRE)
    for nid in ids:
        cad = m.cadres[int(m.needs.holder[nid])]
        assert cad.community == m.needs.comm[nid] and nid in cad.queue


def test_unclaimed_tasks_fall_back_to_the_command(small_model, add_need):
    m = small_model(overrides={"regime.contract": 1.0})
    m.day = 10
    open_day(m)
    m.skill_matrix[:] = 0.0  # nobody feels competent: no one responds
    stale = add_need(m, 0)
    fresh = add_need(m, 1)
    m.needs.where[[stale, fresh]] = nd.AT_LIST
    m.needs.ready[stale] = m.day - CLAIM_WAIT
    m.needs.ready[fresh] = m.day
    m.claim_tasks()
    assert m.needs.where[stale] == nd.AT_COMMAND
    assert m.needs.where[fresh] == nd.AT_LIST


def test_claimed_hours_must_fit_the_cadres_day(small_model, add_need):
    m = small_model(overrides={"regime.contract": 1.0, "behaviour.claim_threshold": 0.01})
    open_day(m)
    ids = np.array([add_need(m, int(h), hours=3.0) for h in range(40)])
    m.needs.where[ids] = nd.AT_LIST
    m.claim_tasks()
    total = 0
    for cad in m.cadres:
        claimed = [n for n in cad.queue if n in set(ids.tolist())]
        total += len(claimed)
        if claimed:
            # each claim started within the hours the cadre had left
            assert 3.0 * (len(claimed) - 1) < cad.hours_left
    assert 0 < total < len(ids)  # some claimed; the rest wait on the list
    assert np.sum(m.needs.where[ids] == nd.AT_LIST) == len(ids) - total


# ----- stage 7: cadre-cadre trust (P3) ------------------------------------------------
def cadre_trust_change(small_model, **regime) -> float:
    m = small_model()
    set_regime(m, **regime)
    m.cc_trust[:] = 0.5
    for c in m.cadres:
        c.resolved_today = 0
    m.update_cadre_trust()
    return float(m.cc_trust.mean() - 0.5)


def test_consultation_builds_and_marginalisation_erodes_cadre_trust(small_model):
    assert cadre_trust_change(small_model, consensus=1.0, decision=1.0) > 0
    assert cadre_trust_change(small_model, consensus=0.0, decision=0.0) < 0


def test_joint_success_builds_cadre_trust(small_model):
    m = small_model()
    set_regime(m, consensus=0.0, decision=0.0)
    m.cc_trust[:] = 0.5
    s, c = int(m.cc_sunk[0]), int(m.cc_comm[0])
    for cad in m.cadres:
        cad.resolved_today = 0
    m.cadres[s].resolved_today = m.cadres[c].resolved_today = 1
    m.update_cadre_trust()
    pair = (m.cc_sunk == s) & (m.cc_comm == c)
    assert m.cc_trust[pair][0] > 0.5 > m.cc_trust[~pair].max()
    assert m.cadre_trust_of(s) == pytest.approx(
        np.mean(m.cc_trust[(m.cc_sunk == s) | (m.cc_comm == s)])
    )


def test_working_ties_link_sunk_and_community_cadres_of_one_community(small_model):
    m = small_model()
    assert len(m.cc_sunk) > 0
    assert m.cadre_is_sunk[m.cc_sunk].all() and not m.cadre_is_sunk[m.cc_comm].any()
    assert np.array_equal(m.cadre_comm[m.cc_sunk], m.cadre_comm[m.cc_comm])
    assert np.all(m.cc_trust == 0.4)  # the compatibility barrier


# ----- stage 9: correction (P7) -------------------------------------------------------
def test_feedback_relieves_mandates_only_with_a_channel(small_model):
    def relief_after(control: float, task_force: bool = False) -> float:
        m = small_model(regime="constructive")
        set_regime(m, control=control)
        if task_force:
            from agents import TaskForce

            m.task_force = TaskForce(m)
        for c in m.cadres:
            c.hours_worked, c.formalism_hours = 8.0, 4.0
        for _ in range(int(m.behaviour.correction_delay) + 10):
            m.correct()
        return m.relief

    assert relief_after(0.0) == 0.0
    assert 0 < relief_after(0.5) < relief_after(1.0) < 1
    assert relief_after(0.0, task_force=True) == pytest.approx(relief_after(1.0))


def test_relief_cuts_paperwork_and_unreasonable_mandates(small_model):
    m = small_model(regime="constructive")
    pw, unreasonable = m.paperwork_hours(), m.unreasonable
    m.relief = 0.5
    assert m.paperwork_hours() == pytest.approx(pw / 2)
    assert m.unreasonable == pytest.approx(unreasonable / 2)


def test_no_event_filter_adds_data_entry(small_model):
    on = small_model(overrides={"regime.event_filter": True}).paperwork_hours()
    off = small_model(overrides={"regime.event_filter": False}).paperwork_hours()
    assert off == pytest.approx(on + 0.3)


# ----- the whole step -----------------------------------------------------------------
def test_every_step_collects_one_row_of_every_metric(run_small):
    m = run_small(scenario="emergency", days=40)
    ts = m.timeseries()
    assert len(ts) == 40 and ts.index.name == "day"
    assert list(ts.columns) == ["phase", *METRICS]
    assert m.steps == 40 and m.day == 39
    assert int(ts["needs_created"].sum()) == m.needs.n


def test_summary_has_a_row_per_window(run_small):
    m = run_small(scenario="emergency", days=40)
    table = m.summary(by_phase=True)
    assert list(table.index) == ["all", "normal", "emergency"]
    assert list(table.columns) == list(METRICS)
    whole = m.summary()
    assert set(whole) == set(METRICS) and all(isinstance(v, float) for v in whole.values())


def test_repeated_phases_get_their_own_rows(small_model):
    tl = [
        {"phase": "normal", "start": 0, "end": 5},
        {"phase": "emergency", "start": 5, "end": 10},
        {"phase": "normal", "start": 10, "end": 15},
    ]
    m = small_model(overrides={"situation.timeline": tl}, days=15)
    assert list(m.summary(by_phase=True).index) == ["all", "normal", "emergency", "normal_10"]


# ----- populations lacking a kind of cadre --------------------------------------------
def test_a_district_without_sunk_cadres_runs(small_model):
    """The counterfactual of no sinking at all: community cadres alone."""
    m = small_model(overrides={"population.sunk_per_community": 0}, days=20)
    assert not any(c.is_sunk for c in m.cadres)
    s = m.summary()
    assert s["needs_resolved"] > 0
    assert math.isnan(s["burnout_sunk"]) and math.isnan(s["participation_in_service"])
    assert not math.isnan(s["burnout_community"])


def test_a_district_with_only_sunk_cadres_runs(small_model):
    m = small_model(
        overrides={"population.committee_per_community": 0, "population.grid_workers_per_grid": 0},
        days=20,
    )
    assert all(c.is_sunk for c in m.cadres)
    s = m.summary()
    assert s["needs_resolved"] > 0 and math.isnan(s["burnout_community"])


def test_a_district_without_any_cadre_is_an_input_error():
    zero = {
        "population.committee_per_community": 0,
        "population.grid_workers_per_grid": 0,
        "population.sunk_per_community": 0,
    }
    with pytest.raises(SacaInputError) as exc:
        CollaborationModel("baseline", "hybrid", rng=1, overrides=zero)
    assert "no cadres" in str(exc.value) and "\n" not in str(exc.value)
