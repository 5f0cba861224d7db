"""The daily step of CollaborationModel: situation, routing, allocation, cadre trust and
correction (model.model)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from saca.agents import CommunityCadre, SunkCadre
from saca.agents import needs as nd
from saca.agents.cadre import CONSULTED
from saca.model import CollaborationModel, SacaInputError
from saca.model.metrics import METRICS, handoffs_today

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
        channel = int(m.ties.cadre[m.ties.of_household(h)[0]])
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


def test_the_command_channel_delays_by_hop_and_loses_detail_the_peer_list_does_not(
    small_model, add_need
):
    """P4: through the command a report waits hop_hours per level and loses detail_loss
    per hop; on the shared list it is seen after list_lag_hours with its detail intact."""
    m, nid = route(small_model, add_need, {"regime.contract": 0.0, "regime.information": 0.0})
    b = m.behaviour
    t0 = m.needs.t_created[nid]
    hops = np.log(m.needs.fidelity[nid]) / np.log(1 - b.detail_loss)
    assert hops == pytest.approx(round(hops)) and round(hops) >= 2
    assert m.needs.t_ready[nid] == pytest.approx(t0 + round(hops) * b.hop_hours)
    assert not m.needs.peer[nid] and not m.needs.unverified[nid]  # verified
    m, nid = route(small_model, add_need, {"regime.contract": 0.0, "regime.information": 1.0})
    assert m.needs.fidelity[nid] == 1.0 and m.needs.peer[nid]
    assert m.needs.t_ready[nid] == pytest.approx(t0 + b.list_lag_hours)


def test_a_share_of_peer_reports_is_unverified(small_model, add_need):
    m = small_model(overrides={"regime.information": 1.0, "behaviour.unverified_share": 0.3})
    ids = np.array([add_need(m, int(h), status=nd.HIDDEN) for h in range(300)])
    m.move(ids, nd.AT_LIST, hops=0, peer=True)
    assert np.mean(m.needs.unverified[ids]) == pytest.approx(0.3, abs=0.08)
    m.move(ids, nd.AT_COMMAND, hops=2)
    assert np.all(m.needs.t_ready[ids] > m.needs.t_created[ids])


def test_a_delay_of_hours_does_not_round_to_a_day(small_model, add_need):
    """No time-step artefact: a report two hops up at 2 h a hop is workable the same day."""
    m = small_model(overrides={"regime.contract": 0.0, "regime.information": 0.0})
    nid = add_need(m, 0, status=nd.HIDDEN)
    m.needs.t_created[nid] = m.needs.t_ready[nid] = m.day_open + 1.0
    m.report(np.array([nid]), np.array([-1]))
    assert m.needs.t_ready[nid] < m.day_end
    assert nid in m.needs.waiting(nd.AT_COMMAND, m.day_end)


def test_waiting_needs_go_stale_faster_without_peer_information(small_model, add_need):
    m = small_model()
    nid = add_need(m, 0)
    later = m.needs.t_created[nid] + 10 * nd.HOURS_PER_DAY
    stale = m.fidelity(nid, later)
    m.needs.peer[nid] = True
    assert stale < m.fidelity(nid, later) < 1.0


def test_fidelities_at_once_equal_one_by_one(small_model, add_need):
    m = small_model()
    ids = np.array([add_need(m, h) for h in range(6)])
    m.needs.peer[ids[::2]] = True
    m.volatility_today = 0.37
    t = (m.needs.t_created[ids] + np.array([-3.0, 0.0, 1.5, 30.0, 200.0, 71.3])).tolist()
    expected = [m.fidelity(n, x) for n, x in zip(ids.tolist(), t, strict=True)]
    assert m.fidelities(ids, t).tolist() == expected


# ----- stage 5: allocation ------------------------------------------------------------
def skill_of_handlers(small_model, contract: float, seed: int) -> float:
    m = small_model(seed=seed, overrides={"regime.contract": contract, "regime.decision": 0.0})
    log: list[float] = []
    queues = m.queues  # every need handed to a cadre joins its queue through these
    append, extend = queues.append, queues.extend

    def spy(cadre, nid):
        log.append(float(m.skill_matrix[cadre, m.needs.ntype[nid]]))
        append(cadre, nid)

    def spy_many(cads, ids):
        log.extend(m.skill_matrix[cads, m.needs.ntype[ids]].tolist())
        extend(cads, ids)

    queues.append, queues.extend = spy, spy_many
    for _ in range(40):
        m.step()
    assert len(log) > 50
    return float(np.mean(log))


def test_claiming_matches_skills_better_than_posts(small_model):
    """P8: self-claimed tasks go to cadres more skilled at the need's type."""
    for seed in (1, 2, 3):
        assert skill_of_handlers(small_model, 1.0, seed) > skill_of_handlers(small_model, 0.0, seed)


def test_posts_assign_by_building_or_by_skill_under_consultation(small_model, add_need):
    m = small_model(
        overrides={"regime.contract": 0.0, "regime.decision": 0.0, "regime.consensus": 0.0}
    )
    open_day(m)
    g = 0
    pool = [p for p in m.posts[g] if p.active]
    homes = np.flatnonzero(m.structure.hh_grid == g)[:6]
    # small needs, so that no post's backlog grows enough to be pooled elsewhere
    ids = [add_need(m, int(h), ntype=nd.DISPUTE, hours=0.1) for h in homes]
    m.assign_by_post(np.array(ids))
    for nid, h in zip(ids, homes, strict=True):
        assert m.needs.holder[nid] == pool[int(h) % len(pool)].idx  # whatever the skill
    m = small_model(
        overrides={"regime.contract": 0.0, "regime.decision": 1.0, "regime.consensus": 0.0}
    )
    open_day(m)
    pool = [p for p in m.posts[g] if p.active]
    best = max(pool, key=lambda x: x.skills[nd.DISPUTE])
    ids = [add_need(m, int(h), ntype=nd.DISPUTE, hours=0.1) for h in homes]
    t0 = m.needs.t_ready[ids].copy()
    m.assign_by_post(np.array(ids))
    assert all(m.needs.holder[nid] == best.idx for nid in ids)
    assert all(nid in best.queue for nid in ids)
    # consultation takes time, and the household is asked
    assert np.allclose(m.needs.t_ready[ids], t0 + m.behaviour.consult_delay_hours)
    assert all(c[2] == CONSULTED for c in m.households.contacts[-len(ids) :])


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
    """P15: command pools cadres across communities when a post reports it is swamped."""
    m = small_model(
        overrides={"regime.contract": 0.0, "regime.decision": 0.0, "regime.consensus": 0.0}
    )
    open_day(m)
    h = 0
    g, c = int(m.structure.hh_grid[h]), int(m.structure.hh_comm[h])
    pool_at = m.behaviour.pool_backlog
    for cad in m.posts[g]:
        m._to_cadre(add_need(m, h, hours=pool_at * cad.daily_hours() + 1), cad, chosen=False)
    m.refresh_backlog()
    m.reported_backlog = m.backlog.copy()  # yesterday's report reached the command
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
            "regime.consensus": 0.0,
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
    wait = m.behaviour.claim_wait_hours
    m.needs.t_ready[stale] = m.day_start - wait
    m.needs.t_ready[fresh] = m.day_start
    m.claim_tasks()
    assert m.needs.where[stale] == nd.AT_COMMAND
    assert m.needs.where[fresh] == nd.AT_LIST


def test_claimed_hours_must_fit_the_cadres_day(small_model, add_need):
    overrides = {
        "regime.contract": 1.0,
        "behaviour.claim_threshold": 0.01,
        "behaviour.estimate_error": 0.0,
        "behaviour.list_read_hours": 0.0,
    }
    m = small_model(overrides=overrides)
    open_day(m)
    ids = np.array([add_need(m, int(h), hours=3.0) for h in range(40)])
    m.needs.where[ids] = nd.AT_LIST
    m.claim_tasks()
    total = 0
    for cad in m.cadres:
        claimed = [n for n in cad.queue if n in set(ids.tolist())]
        total += len(claimed)
        if claimed:
            # what a cadre claims fits the hours it has left (estimates exact here)
            assert 3.0 * len(claimed) <= cad.hours_left + 1e-9
    assert 0 < total < len(ids)  # some claimed; the rest wait on the list
    assert np.sum(m.needs.where[ids] == nd.AT_LIST) == len(ids) - total


# ----- stage 7: cadre-cadre trust (P3) ------------------------------------------------
def test_meetings_build_cadre_trust_and_orders_without_asking_erode_it(small_model, add_need):
    m = small_model(overrides={"regime.consensus": 1.0})
    open_day(m)
    m.cc_trust[:] = 0.5
    m.meeting[:] = True
    m.hold_meetings()
    assert (m.cc_trust >= 0.5).all() and (m.cc_trust > 0.5).any()
    m = small_model(overrides={"regime.consensus": 0.0, "regime.decision": 0.0})
    open_day(m)
    m.cc_trust[:] = 0.5
    s = int(m.cc_sunk[0])
    m._cadre_trust_event(s, -m.behaviour.order_trust_loss)
    assert (m.cc_trust[m.cc_sunk == s] < 0.5).all()
    assert (m.cc_trust[m.cc_sunk != s] == 0.5).all()


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
    assert m.cc_trust[pair][0] > 0.5 == m.cc_trust[~pair].max()
    assert m.cadre_trust_of(s) == pytest.approx(
        np.mean(m.cc_trust[(m.cc_sunk == s) | (m.cc_comm == s)])
    )


def test_working_ties_link_sunk_and_community_cadres_of_one_community(small_model):
    m = small_model()
    assert len(m.cc_sunk) > 0
    assert m.cadre_is_sunk[m.cc_sunk].all() and not m.cadre_is_sunk[m.cc_comm].any()
    assert np.array_equal(m.cadre_comm[m.cc_sunk], m.cadre_comm[m.cc_comm])
    assert np.all(m.cc_trust == m.behaviour.initial_working_trust)  # compatibility barrier


# ----- stage 9: correction (P7) -------------------------------------------------------
def test_feedback_relieves_mandates_only_with_a_channel(small_model):
    def relief_after(control: float, task_force: bool = False) -> float:
        m = small_model(regime="constructive")
        set_regime(m, control=control)
        if task_force:
            from saca.agents import TaskForce

            m.task_force = TaskForce(m)
        for c in m.cadres:
            c.hours_worked, c.formalism_hours = 8.0, 4.0
        for _ in range(int(m.behaviour.correction_delay) + 30):
            m.served_today = 200  # residents served: their voice carries the signal
            m.correct()
        return m.relief

    assert relief_after(0.0) == 0.0
    assert 0 < relief_after(0.5) < relief_after(1.0) < 1
    assert relief_after(0.0, task_force=True) == pytest.approx(relief_after(1.0))


def test_relief_cuts_paperwork(small_model):
    m = small_model(regime="constructive")
    pw = m.paperwork_hours()
    m.relief = 0.5
    assert m.paperwork_hours() == pytest.approx(pw / 2)


def test_no_event_filter_adds_data_entry(small_model):
    def formal(event_filter: bool) -> float:
        m = small_model(overrides={"regime.event_filter": event_filter})
        return m.cadres[0].overhead_hours()[0]

    assert formal(False) == pytest.approx(formal(True) + small_model().behaviour.data_entry_hours)


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


def test_a_need_escalated_in_the_morning_is_allocated_and_worked_the_same_day(
    small_model, add_need, scripted_rng
):
    """No time-step artefact at the community level: a grid worker passes a community-level
    need up in the morning; the afternoon round assigns it to a committee member, who
    resolves it that day (hours, not days, of delay)."""
    m = small_model(
        overrides={
            "regime.contract": 0.0,
            "regime.consensus": 0.0,
            "regime.decision": 0.0,
            "situation.need_rate": 0.0,
            "behaviour.hop_hours": 1.0,
        }
    )
    m.step()  # day 0, nothing happens
    m.rng = scripted_rng(m.rng, random=0.0)  # every attempt succeeds
    h = int(np.flatnonzero(~np.isin(m.structure.hh_comm, list(m.firms)))[0])
    nid = add_need(m, h, level=1, hours=1.0)
    worker = next(p for p in m.posts[int(m.structure.hh_grid[h])] if p.reach == 0)
    m.needs.where[nid] = nd.AT_CADRE
    m.needs.holder[nid] = worker.idx
    m.needs.t_ready[nid] = (m.day + 1) * nd.HOURS_PER_DAY + 8.0  # tomorrow at 8:00
    worker.queue = [nid]
    m.step()
    assert m.needs.status[nid] == nd.RESOLVED
    assert m.needs.resolved[nid] == m.day
    holder_reach = [c.reach for c in m.committee[int(m.structure.hh_comm[h])]]
    assert holder_reach and m.needs.t_resolved[nid] < (m.day + 1) * nd.HOURS_PER_DAY


def test_each_firm_reads_its_communitys_open_facility_needs_oldest_first(small_model, add_need):
    m = small_model(
        overrides={"situation.share_old_estate": 0.0, "situation.share_urban_village": 0.0}
    )
    hh = [int(np.flatnonzero(m.structure.hh_comm == c)[0]) for c in (2, 0, 2, 1, 0, 2)]
    ids = np.array([add_need(m, h, ntype=nd.FACILITY, level=0, status=nd.HIDDEN) for h in hh])
    m.report(ids, np.full(len(ids), -1))
    assert (m.needs.where[ids] == nd.AT_FIRM).all()
    m.needs.t_ready[ids] = m.day_start
    assert ids[0] in m.waiting_at_firm(int(m.needs.comm[ids[0]]))
    m.needs.status[ids[0]] = nd.RESOLVED  # settled since the day's queue was read
    for c in range(4):
        mine = [n for n in ids[1:].tolist() if m.needs.comm[n] == c]
        assert m.waiting_at_firm(c).tolist() == sorted(mine)


def test_handing_needs_to_cadres_at_once_equals_one_by_one(small_model, add_need):
    """_to_cadres: the same holders, queues (in order), counts, backlogs (summed in order)
    and hand-offs as _to_cadre need by need."""
    runs = []
    for batch in (False, True):
        m = small_model(seed=4)
        m.refresh_backlog()
        cads = np.array([3, 1, 3, 0, 1, 3])
        ids = np.array([add_need(m, h, hours=0.1 * h + 0.37) for h in range(6)])
        m.needs.passed_by[ids[[1, 4]]] = [2, 1]  # one escalated by another cadre, one not
        if batch:
            m._to_cadres(ids, cads, chosen=True)
        else:
            for nid, c in zip(ids.tolist(), cads.tolist(), strict=True):
                m._to_cadre(nid, m.cadres[c], chosen=True)
        runs.append(
            (
                m.needs.holder[ids].tolist(),
                m.needs.passed_by[ids].tolist(),
                [m.cadres[c].queue for c in range(4)],
                m.cadre_state.chosen_today[:4].tolist(),
                m.backlog[:4].tolist(),
                handoffs_today(m).tolist(),
            )
        )
    assert runs[0] == runs[1]
    assert runs[0][5] == [[2, 1]]
