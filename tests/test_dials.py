"""Both ends of every dial: a cost channel and a benefit channel, each a mechanism.

For each of the six dials a small model shows what the constructive end (0) buys and what
it costs, and what the autonomous end (1) buys and costs (DESIGN §3.3, docs/ODD.md §2.8).
None of these tests reads an outcome written by a dial: each sets up agents, lets the
mechanism act, and checks what the agents did. The run-level consequences are in
docs/FINDINGS.md's dial table.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from saca.agents import CommunityCadre, SunkCadre
from saca.agents import needs as nd
from saca.agents.cadre import CONSULTED

QUIET = {"regime.consensus": 0.0}  # no meetings unless a test wants them


def set_regime(m, **changes) -> None:
    m.regime = dataclasses.replace(m.regime, **changes)


def open_day(m) -> None:
    for c in m.cadres:
        c.begin_day()


def grid_worker(m, grid: int = 0) -> CommunityCadre:
    return next(c for c in m.posts[grid] if isinstance(c, CommunityCadre))


def homes_of_grid(m, grid: int) -> np.ndarray:
    return np.flatnonzero(m.structure.hh_grid == grid)


# ----- information ----------------------------------------------------------------------
def test_information_peer_reports_are_fast_but_cost_attention_and_checking(small_model, add_need):
    m = small_model(overrides={**QUIET, "regime.information": 1.0, "regime.contract": 0.0})
    b = m.behaviour
    homes = homes_of_grid(m, 0)[:8]
    ids = np.array([add_need(m, int(h), status=nd.HIDDEN) for h in homes])
    m.report(ids, np.full(len(ids), -1))
    # benefit: on the list within minutes, detail intact
    assert np.allclose(m.needs.t_ready[ids], m.needs.t_created[ids] + b.list_lag_hours)
    assert np.all(m.needs.fidelity[ids] == 1.0)
    # cost: every active cadre of the grid reads them
    open_day(m)
    worker = grid_worker(m)
    before = worker.hours_worked
    m.read_peer_reports()
    assert worker.hours_worked - before == pytest.approx(
        min(b.list_read_cap, b.list_read_hours * len(ids))
    )
    # cost: an unverified report must be checked before it is worked
    m.needs.unverified[ids[0]] = True
    worker.queue = [int(ids[0])]
    hours = worker.hours_worked
    worker.work()
    assert worker.hours_worked - hours >= b.verify_hours


def test_information_the_command_channel_is_slow_and_lossy_but_verified_and_free(
    small_model, add_need
):
    m = small_model(overrides={**QUIET, "regime.information": 0.0, "regime.contract": 0.0})
    b = m.behaviour
    ids = np.array([add_need(m, int(h), status=nd.HIDDEN) for h in homes_of_grid(m, 0)[:20]])
    m.report(ids, np.full(len(ids), -1))
    # cost: hours per hop and detail lost per hop
    assert np.all(m.needs.t_ready[ids] >= m.needs.t_created[ids] + 2 * b.hop_hours)
    assert np.all(m.needs.fidelity[ids] < 1.0)
    # benefit: verified (nothing to check) and nothing for the cadres to read
    assert not m.needs.unverified[ids].any()
    open_day(m)
    worked = [c.hours_worked for c in m.cadres]
    m.read_peer_reports()
    assert [c.hours_worked for c in m.cadres] == worked


# ----- consensus ------------------------------------------------------------------------
def test_consensus_negotiation_aligns_and_builds_trust_but_costs_hours_and_time(
    small_model, add_need
):
    m = small_model(overrides={"regime.consensus": 1.0, "regime.contract": 0.0})
    b = m.behaviour
    m.plan_day()
    assert m.meeting.all()
    open_day(m)
    trust = m.cc_trust.copy()
    worker = grid_worker(m)
    left = worker.hours_left
    m.hold_meetings()
    # cost: meeting hours
    assert worker.hours_left == pytest.approx(left - b.meeting_hours)
    # benefit: trust on the ties of those who met, and alignment at the end of the day
    assert (m.cc_trust >= trust).all() and (m.cc_trust > trust).any()
    worker.alignment = 0.5
    worker.end_day()
    assert worker.alignment > 0.5
    # cost: a decision that comes after today's meeting waits for tomorrow's
    nid = add_need(m, int(homes_of_grid(m, 0)[0]))
    m.needs.where[nid] = nd.AT_COMMAND
    m.needs.t_ready[nid] = m.day_open + b.meeting_hours + 2.0
    m.assign_by_post(np.array([nid]))
    assert m.needs.where[nid] == nd.AT_COMMAND
    assert m.needs.t_ready[nid] >= m.day_end


def test_consensus_imposed_decisions_are_immediate_but_erode_alignment(small_model, add_need):
    m = small_model(overrides={"regime.consensus": 0.0, "regime.contract": 0.0})
    m.plan_day()
    assert not m.meeting.any()
    open_day(m)
    nid = add_need(m, int(homes_of_grid(m, 0)[0]))
    m.needs.where[nid] = nd.AT_COMMAND
    t0 = m.day_open + 3.0
    m.needs.t_ready[nid] = t0
    set_regime(m, decision=0.0)
    m.assign_by_post(np.array([nid]))
    assert m.needs.where[nid] == nd.AT_CADRE and m.needs.t_ready[nid] == pytest.approx(t0)
    worker = grid_worker(m)
    worker.alignment = 0.5
    worker.end_day()
    assert worker.alignment < 0.5


# ----- goals ----------------------------------------------------------------------------
def test_goals_checklists_make_shirking_detectable_outcomes_do_not(small_model):
    def sanctions(goals: float) -> int:
        m = small_model(
            seed=3,
            overrides={
                "regime.goals": goals,
                "regime.control": 0.0,
                "behaviour.inspection_rate": 1.0,
            },
        )
        full_time = [c for c in m.cadres if c.full_time]
        for c in full_time:
            c._reset_day()
            c.active, c.perfunctory_hours = True, 1.0
        m.inspect_and_evaluate()
        return sum(c.sanctioned for c in full_time)

    checklist, outcomes = sanctions(0.0), sanctions(1.0)
    assert checklist > 2 * outcomes > 0


def test_goals_checklists_pull_effort_to_what_is_counted(small_model, add_need):
    """Goal displacement: under checklists the easy task goes first, whatever its deadline;
    under resident outcomes the urgent one does."""
    m = small_model()
    worker = grid_worker(m)
    h = int(homes_of_grid(m, 0)[0])
    urgent_hard = add_need(m, h, hours=6.0, deadline=1)
    easy_later = add_need(m, h, hours=0.5, deadline=6)
    for goals, first in ((0.0, easy_later), (1.0, urgent_hard)):
        set_regime(m, goals=goals)
        worker.queue = [urgent_hard, easy_later]
        m.needs.holder[[urgent_hard, easy_later]] = worker.idx
        worker.queue_changed = True
        worker.order_queue()
        assert worker.queue[0] == first


def test_goals_checklists_close_failed_needs_on_paper_and_the_problem_returns(
    small_model, add_need, scripted_rng
):
    """What is counted is "done or not": under checklists a failed need is recorded as done,
    which frees the rework hours now, and the unsolved problem arises again later; under
    resident outcomes it stays in the queue for rework."""
    m = small_model(overrides={"behaviour.paper_closure": 1.0})
    worker = grid_worker(m)
    h = int(homes_of_grid(m, 0)[0])
    real = m.rng
    closed = {}
    for goals in (0.0, 1.0):
        set_regime(m, goals=goals)
        nid = add_need(m, h, ntype=nd.DISPUTE, level=0, hours=1.0)
        m.needs.holder[nid] = worker.idx
        worker.queue = [nid]
        open_day(m)
        worker.hours_left, worker.hours_worked = 1.0, 0.0
        m.rng = scripted_rng(real, random=0.999999)  # every attempt fails
        worker.work()
        m.rng = real
        closed[goals] = nid
        if goals == 0.0:
            assert m.needs.status[nid] == nd.DROPPED and m.needs.paper_closed[nid]
            assert worker.queue == [] and m.paper_closures_today == 1
        else:
            assert m.needs.status[nid] == nd.OPEN and not m.needs.paper_closed[nid]
            assert worker.queue == [nid]
            assert m.needs.hours[nid] == pytest.approx(m.behaviour.rework_share)
    # the problem closed on paper comes back, whole, resurface_days later
    due = m.day + round(m.behaviour.resurface_days)
    assert m._resurfacing == {due: [closed[0.0]]}
    m.day = due
    back = m._resurface(1.0)
    assert len(back) == 1 and m.needs.status[back[0]] == nd.HIDDEN
    assert m.needs.hh[back[0]] == h and m.needs.ntype[back[0]] == nd.DISPUTE
    assert m.needs.hours[back[0]] == pytest.approx(1.0)
    # the household's wait counts from the problem's first arising, not the new need's
    assert m.needs.t_origin[back[0]] == m.needs.t_created[closed[0.0]]
    assert m.needs.t_created[back[0]] > m.needs.t_origin[back[0]]


# ----- contract -------------------------------------------------------------------------
def test_contract_a_post_covers_an_unattractive_task_that_claiming_leaves(small_model, add_need):
    """Fixed posts: every task has someone responsible. Claiming: an unattractive task
    (a dispute that must go up a level) draws no claimant and waits."""
    m = small_model(
        overrides={
            **QUIET,
            "regime.contract": 1.0,
            "behaviour.task_aversion": 1.0,
            "behaviour.claim_threshold": 0.2,
        }
    )
    open_day(m)
    homes = homes_of_grid(m, 0)[:10]
    ugly = np.array([add_need(m, int(h), ntype=nd.DISPUTE, level=1) for h in homes])
    plain = np.array([add_need(m, int(h), ntype=nd.SERVICE) for h in homes])
    m.needs.where[np.concatenate([ugly, plain])] = nd.AT_LIST
    m.claim_tasks()
    assert np.all(m.needs.where[ugly] == nd.AT_LIST)  # nobody claims them
    assert np.any(m.needs.where[plain] == nd.AT_CADRE)
    set_regime(m, contract=0.0, decision=0.0)
    m.needs.where[ugly] = nd.AT_COMMAND
    m.assign_by_post(ugly)
    assert np.all(m.needs.where[ugly] == nd.AT_CADRE)  # the post takes them all


def test_contract_a_post_loads_a_busy_cadre_that_claiming_would_spare(small_model, add_need):
    m = small_model(seed=2, overrides={**QUIET, "regime.decision": 0.0})
    open_day(m)
    g = 0
    homes = homes_of_grid(m, g)
    pool = [p for p in m.posts[g] if p.active]
    busy = pool[int(homes[0]) % len(pool)]
    # the busy cadre already holds a day's work (not yet reported to the command)
    m._to_cadre(add_need(m, int(homes[0]), hours=busy.daily_hours()), busy, chosen=False)
    mine = [int(h) for h in homes if pool[int(h) % len(pool)] is busy][:5]
    # post: the command assigns by building, blind to today's load
    set_regime(m, contract=0.0)
    posted = [add_need(m, h, hours=1.0) for h in mine]
    m.assign_by_post(np.array(posted))
    assert all(m.needs.holder[n] == busy.idx for n in posted)
    # claiming: the busy cadre's threshold is high and its day is full: others take them
    set_regime(m, contract=1.0)
    listed = np.array([add_need(m, h, hours=1.0) for h in mine])
    m.needs.where[listed] = nd.AT_LIST
    for _ in range(5):
        m.claim_tasks()
    taken = m.needs.holder[listed][m.needs.where[listed] == nd.AT_CADRE]
    assert len(taken) > 0 and busy.idx not in taken.tolist()


# ----- decision -------------------------------------------------------------------------
def test_decision_consultation_matches_and_builds_trust_but_costs_time_and_hours(
    small_model, add_need
):
    m = small_model(overrides={**QUIET, "regime.contract": 0.0, "regime.decision": 1.0})
    b = m.behaviour
    open_day(m)
    h = int(homes_of_grid(m, 0)[0])
    nid = add_need(m, h, ntype=nd.DISPUTE, hours=1.0)
    m.needs.where[nid] = nd.AT_COMMAND
    t0 = float(m.needs.t_ready[nid])
    m.assign_by_post(np.array([nid]))
    holder = m.cadres[int(m.needs.holder[nid])]
    pool = [p for p in m.posts[0] if p.active]
    assert holder.skills[nd.DISPUTE] == max(p.skills[nd.DISPUTE] for p in pool)  # benefit
    assert m.needs.t_ready[nid] == pytest.approx(t0 + b.consult_delay_hours)  # cost: time
    assert m.needs.hours[nid] == pytest.approx(1.0 + b.consult_hours)  # cost: hours
    assert m.households.contacts[-1] == (h, holder.idx, CONSULTED)  # resident asked
    assert m.needs.chosen[nid]  # the cadre had a say


def test_decision_command_surges_in_an_emergency_and_marginalises_sunk_cadres(small_model):
    tl = [{"phase": "emergency", "start": 0, "end": 30}]
    m = small_model(overrides={"situation.timeline": tl, "regime.decision": 0.0})
    b = m.behaviour
    m.reported_backlog[:] = 10 * b.surge_backlog * m.cadre_hours  # swamped, and reported
    m.plan_day()
    assert m.surge.all()  # benefit: the command orders a surge at once
    full = [c for c in m.cadres if c.full_time]
    assert all(c.daily_hours() == c.hours + b.surge_overtime_hours for c in full)
    called = [c for c in m.cadres if isinstance(c, SunkCadre) and not c.full_time]
    assert all(c.called_out for c in called)
    # cost: ordered cadres feel pressure
    c = full[0]
    c.felt_pressure = 0.0
    c.end_day()
    assert c.felt_pressure > 0
    # under consultation the same reports bring no order
    m2 = small_model(overrides={"situation.timeline": tl, "regime.decision": 1.0})
    m2.reported_backlog[:] = 10 * b.surge_backlog * m2.cadre_hours
    m2.plan_day()
    assert not m2.surge.any()


# ----- control --------------------------------------------------------------------------
def test_control_inspection_catches_shirking_at_a_paperwork_cost_for_full_time_staff(
    small_model,
):
    m = small_model(
        overrides={
            "regime.control": 0.0,
            "regime.goals": 0.0,
            "behaviour.inspection_rate": 1.0,
            "behaviour.detect_checklist": 1.0,
        }
    )
    open_day(m)
    worker = grid_worker(m)
    in_service = next(c for c in m.cadres if isinstance(c, SunkCadre) and not c.full_time)
    # cost: paperwork for full-time staff only (in-service service is hardly checked)
    assert worker.formalism_hours == pytest.approx(m.behaviour.paperwork_hours)
    assert in_service.formalism_hours == pytest.approx(in_service.overhead_hours()[0])
    assert m.paperwork_hours() > 0
    # benefit: perfunctory work is caught and sanctioned, which buys effort from the
    # unmotivated (a motivated cadre loses more to the strain than fear adds)
    worker.perfunctory_hours = 2.0
    worker.motivation, worker.exhaustion, worker.compliance = 0.2, 0.0, 0.0
    effort = worker.compute_effort()
    m.inspect_and_evaluate()
    assert worker.sanctioned and worker.compute_effort() > effort
    # absence from in-service duty is caught too
    in_service.active = False
    in_service.sanctioned = False
    m.inspect_and_evaluate()
    assert in_service.sanctioned


def test_control_outcome_evaluation_corrects_waste_through_residents_voice(small_model):
    """Outcome evaluation corrects (relief grows) but only as far as residents' voice
    carries: with nobody vocal nothing is corrected; with inspection nothing ever is."""

    def relief(control: float, voice: float) -> float:
        m = small_model(
            regime="constructive",
            overrides={"regime.control": control, "behaviour.voice_share": voice},
        )
        for c in m.cadres:
            c.hours_worked, c.formalism_hours = 8.0, 3.0
        for _ in range(int(m.behaviour.correction_delay) + 20):
            m.served_today = 100
            m.correct()
        return m.relief

    assert relief(1.0, 0.5) > 0
    assert relief(1.0, 0.0) == 0.0
    assert relief(0.0, 0.5) == 0.0


def test_control_outcome_evaluation_recognises_only_work_that_residents_voice(small_model):
    m = small_model(overrides={"regime.control": 1.0, "behaviour.voice_share": 0.0})
    open_day(m)
    worker = grid_worker(m)
    worker.attempts_today, worker.resolved_today = 3, 3
    m.inspect_and_evaluate()
    assert not worker.recognised  # nobody spoke up
    m2 = small_model(overrides={"regime.control": 0.0})
    open_day(m2)
    w2 = grid_worker(m2)
    w2.attempts_today = 3
    m2.inspect_and_evaluate()
    assert w2.recognised or w2.sanctioned  # the checklist counts what was done


# ----- conservation ---------------------------------------------------------------------
@pytest.mark.parametrize("regime", ["constructive", "autonomous", "hybrid"])
def test_needs_and_hours_are_conserved_and_trust_stays_in_range(small_model, regime):
    m = small_model(scenario="emergency", regime=regime)
    hours_cap = 0.0
    for _ in range(45):
        m.step()
        for c in m.cadres:
            assert -1e-9 <= c.hours_worked <= c.daily_hours() + 1e-9
            assert c.formalism_hours + c.perfunctory_hours <= c.hours_worked + 1e-9
            assert c.clock <= (m.day + 1) * nd.HOURS_PER_DAY + c.daily_hours()
        hours_cap += sum(c.hours_worked for c in m.cadres)
    counts = m.needs.counts()
    assert counts["created"] == (
        counts["resolved"] + counts["open"] + counts["hidden"] + counts["dropped"]
    )
    assert int(m.timeseries()["needs_created"].sum()) == counts["created"]
    ties = m.ties
    for arr in (
        ties.trust[: ties.n],
        ties.familiarity[: ties.n],
        m.cc_trust,
        m.households.trust_institution,
        m.households.engagement,
    ):
        assert arr.min() >= 0 and arr.max() <= 1
    for c in m.cadres:
        for v in (c.exhaustion, c.motivation, c.compliance, c.felt_pressure, c.alignment):
            assert 0 <= v <= 1
    resolved = m.needs.status[: m.needs.n] == nd.RESOLVED
    t_res = m.needs.t_resolved[: m.needs.n][resolved]
    assert np.all(t_res >= m.needs.t_created[: m.needs.n][resolved])
