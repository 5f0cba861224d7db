"""What every cadre does in a day: overheads, the queue, strain, motivation (agents.cadre)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from saca.agents import CommunityCadre
from saca.agents import needs as nd
from saca.agents.cadre import FAIL, SUCCESS
from saca.agents.cadre_state import CadreState, begin_days, end_days
from saca.agents.round import Finished, attempt, success_chances


def grid_worker(m) -> CommunityCadre:
    return next(c for c in m.cadres if isinstance(c, CommunityCadre) and c.role == "grid_worker")


def fresh_day(cad, hours: float = 8.0) -> None:
    cad._reset_day()
    cad.active = True
    cad.hours_left = hours
    cad.clock = cad.model.day * nd.HOURS_PER_DAY + cad.shift_start()


def set_regime(m, **changes) -> None:
    m.regime = dataclasses.replace(m.regime, **changes)


def exhaustion_change(cad, *, worked: float, backlog_needs: list[int] | None = None) -> float:
    """One end_day with a controlled day: hours worked and a queue; return the change."""
    cad.active = True
    cad.hours_worked = worked
    cad.queue = []
    for nid in backlog_needs or []:
        cad.model._to_cadre(nid, cad, chosen=False)
    cad.model.refresh_backlog()  # the model recounts backlogs before end_day
    before = cad.exhaustion
    cad.end_day()
    return cad.exhaustion - before


# ----- burnout (job demand-control, seed 000) ------------------------------------------
def test_exhaustion_rises_over_capacity_and_recovers_below(small_model):
    m = small_model()
    cad = grid_worker(m)
    cap = cad.daily_hours()
    cad.exhaustion = 0.3
    up = exhaustion_change(cad, worked=2 * cap)
    assert up > 0
    cad.exhaustion = 0.3
    down = exhaustion_change(cad, worked=0.25 * cap)
    assert down < 0
    cad.exhaustion = 0.3
    assert exhaustion_change(cad, worked=3 * cap) > up  # more overload, more strain


def test_a_long_queue_counts_as_load(small_model, add_need):
    m = small_model()
    cad = grid_worker(m)
    cap = cad.daily_hours()
    h = m.random_household(cad.community, cad.grid)
    backlog = [add_need(m, h, hours=cap) for _ in range(3)]
    cad.exhaustion = 0.3
    idle = exhaustion_change(cad, worked=cap)
    cad.exhaustion = 0.3
    loaded = exhaustion_change(cad, worked=cap, backlog_needs=backlog)
    assert loaded > idle and loaded > 0


def test_overload_strains_more_under_low_felt_control_and_high_risk(small_model):
    m = small_model()
    cad = grid_worker(m)
    cap = cad.daily_hours()

    def strain(job_control: float = 0.5) -> float:
        cad.exhaustion = 0.3
        cad.job_control = job_control
        return exhaustion_change(cad, worked=2 * cap)

    assert strain(0.0) > strain(1.0) > 0
    m.risk = 0.0
    calm = strain()
    m.risk = 1.0
    assert strain() > calm


def test_exhausted_cadres_withdraw_and_return_once_recovered(small_model):
    m = small_model()
    cad = grid_worker(m)
    b = m.behaviour
    cad.exhaustion = b.withdraw_threshold - 1e-3
    exhaustion_change(cad, worked=3 * cad.daily_hours())
    assert cad.exhaustion > b.withdraw_threshold and cad.withdrawn
    cad.begin_day()
    assert not cad.active and cad.hours_left == 0
    days = 0
    while cad.withdrawn:
        cad.begin_day()
        cad.end_day()
        days += 1
        assert days < 100
    assert cad.exhaustion < b.burnout_threshold
    assert days >= (b.withdraw_threshold - b.burnout_threshold) / b.recovery_rate - 1
    cad.begin_day()
    assert cad.active


# ----- effort and perfunctory work (P2) -----------------------------------------------
def test_effort_rises_with_motivation_and_falls_with_exhaustion_and_risk(small_model):
    m = small_model()
    cad = grid_worker(m)
    cad.exhaustion = 0.0

    def effort(**attrs) -> float:
        for k, v in attrs.items():
            setattr(cad, k, v)
        return cad.compute_effort()

    assert effort(motivation=0.3) < effort(motivation=0.9)
    assert effort(exhaustion=0.6) < effort(exhaustion=0.0)
    m.risk = 0.9
    risky = effort()
    m.risk = 0.0
    assert risky < effort()
    assert 0 <= effort(motivation=1.0) <= 1


def test_anxiety_rises_with_risk_and_falls_with_experience(small_model):
    m = small_model()
    cad = grid_worker(m)
    m.risk = 0.7
    cad.experience = 0.1
    novice = cad.anxiety()
    cad.experience = 0.9
    assert cad.anxiety() < novice
    m.risk = 0.0
    assert cad.anxiety() == 0.0


def test_perfunctory_work_logs_hours_but_rarely_resolves(small_model, add_need):
    m = small_model()
    cad = grid_worker(m)
    nid = add_need(m, m.random_household(cad.community, cad.grid))
    thr = m.behaviour.shirk_threshold
    fresh_day(cad)
    cad.effort = thr + 0.01
    assert not cad.perfunctory
    diligent = cad.success_probability(nid)
    cad.spend(1.0, community=cad.community)
    assert cad.perfunctory_hours == 0
    cad.effort = thr - 0.01
    assert cad.perfunctory
    assert cad.success_probability(nid) < 0.3 * diligent
    cad.spend(1.0, community=cad.community)
    cad.spend(1.0, formalism=True)  # formalism is not counted as shirking
    assert cad.perfunctory_hours == 1.0 and cad.formalism_hours == 1.0
    assert cad.hours_worked == 3.0


def test_success_rises_with_skill_and_familiarity(small_model, add_need):
    m = small_model()
    cad = grid_worker(m)
    h = m.random_household(cad.community, cad.grid)
    nid = add_need(m, h, ntype=nd.DISPUTE)
    cad.effort = 0.8
    cad.skills = cad.skills.copy()
    cad.skills[nd.DISPUTE] = 0.1
    low = cad.success_probability(nid)
    cad.skills[nd.DISPUTE] = 0.9
    high = cad.success_probability(nid)
    assert low < high <= 1
    t = m.ties.get_or_add(h, cad.idx, 0.5)
    m.ties.familiarity[t] = 0.0
    stranger = cad.success_probability(nid)
    m.ties.familiarity[t] = 1.0
    assert cad.success_probability(nid) > stranger


# ----- hours: overheads first, then the queue -----------------------------------------
def test_spend_never_exceeds_the_hours_left(small_model):
    m = small_model()
    cad = grid_worker(m)
    fresh_day(cad, hours=3.0)
    assert cad.spend(2.0) == 2.0
    assert cad.spend(2.0) == 1.0
    assert cad.spend(2.0) == 0.0
    assert cad.hours_left == 0 and cad.hours_worked == 3.0


def test_checklist_control_takes_paperwork_hours_before_any_need(small_model):
    m = small_model(regime="constructive")
    cad = grid_worker(m)
    cad.begin_day()
    pw = m.behaviour.paperwork_hours
    assert cad.formalism_hours == pytest.approx(pw)
    assert cad.hours_left == pytest.approx(cad.daily_hours() - cad.hours_worked)
    m2 = small_model(regime="autonomous")
    cad2 = grid_worker(m2)
    cad2.begin_day()
    assert cad2.formalism_hours == 0.0


def test_queue_order_follows_the_goals_dial(small_model, add_need):
    """Resident goals: earliest deadline first; checklist goals: easiest first."""
    m = small_model()
    cad = grid_worker(m)
    h = m.random_household(cad.community, cad.grid)
    hard_urgent = add_need(m, h, hours=6.0, deadline=1)
    easy_late = add_need(m, h, hours=0.5, deadline=9)
    mid = add_need(m, h, hours=2.0, deadline=5)
    cad.queue = []
    for nid in (mid, easy_late, hard_urgent):
        m._to_cadre(nid, cad, chosen=False)
    set_regime(m, goals=1.0)
    cad.order_queue()
    assert cad.queue == [hard_urgent, mid, easy_late]
    set_regime(m, goals=0.0)
    cad.queue_changed = True  # the queue is re-ordered when work comes in
    cad.order_queue()
    assert cad.queue == [easy_late, mid, hard_urgent]


def test_finished_work_resolves_on_success_and_halves_on_failure(
    small_model, add_need, scripted_rng
):
    m = small_model()
    cad = grid_worker(m)
    h = m.random_household(cad.community, cad.grid)
    real = m.rng
    ok = add_need(m, h, hours=1.0)
    cad.queue = [ok]
    fresh_day(cad)
    m.rng = scripted_rng(real, random=0.0)
    cad.work()
    assert m.needs.status[ok] == nd.RESOLVED and cad.queue == []
    assert cad.resolved_today == 1 and m.households.contacts[-1] == (h, cad.idx, SUCCESS)
    bad = add_need(m, h, hours=1.0)
    cad.queue = [bad]
    fresh_day(cad, hours=1.0)
    m.rng = scripted_rng(real, random=0.999999)
    cad.work()
    assert m.needs.status[bad] == nd.OPEN and cad.queue == [bad]
    assert m.needs.hours[bad] == pytest.approx(0.5)
    assert m.households.contacts[-1] == (h, cad.idx, FAIL)
    assert cad.attempts_today == 1 and cad.resolved_today == 0


def test_a_need_above_the_cadres_reach_is_escalated_after_diagnosis(small_model, add_need):
    m = small_model()
    cad = grid_worker(m)
    assert cad.reach == 0
    h = m.random_household(cad.community, cad.grid)
    street = add_need(m, h, level=2)
    community = add_need(m, h, level=1)
    cad.queue = [street, community]
    fresh_day(cad)
    cad.work()
    assert cad.queue == []
    assert cad.hours_worked == pytest.approx(2 * m.behaviour.diagnosis_hours)
    assert m.needs.where[street] == nd.AT_STREET and m.needs.left_grid[street]
    assert m.needs.where[community] == nd.AT_COMMAND and m.needs.left_grid[community]
    assert m.needs.status[street] == nd.OPEN


def test_central_escalation_sends_needs_to_the_city_platform(small_model, add_need):
    m = small_model(overrides={"regime.escalation": "central"})
    cad = grid_worker(m)
    nid = add_need(m, m.random_household(cad.community, cad.grid), level=2)
    cad.queue = [nid]
    fresh_day(cad)
    cad.work()
    assert m.needs.where[nid] == nd.AT_CITY


def test_a_committee_member_solves_community_needs_but_escalates_street_ones(
    small_model, add_need, scripted_rng
):
    m = small_model()
    cad = m.committee[0][0]
    assert cad.reach == 1 and cad.grid == -1
    h = m.random_household(0, -1)
    local, above = add_need(m, h, level=1, hours=1.0), add_need(m, h, level=2, hours=1.0)
    cad.queue = [local, above]
    fresh_day(cad)
    m.rng = scripted_rng(m.rng, random=0.0)
    cad.work()
    assert m.needs.status[local] == nd.RESOLVED
    assert m.needs.where[above] == nd.AT_STREET


# ----- motivation, recognition, sanctions (seed 000, 001) -----------------------------
def test_motivation_is_crowded_out_by_felt_pressure_and_raised_by_felt_control(small_model):
    def drift(*, job_control: float, pressure: float, formal: float) -> float:
        m = small_model()
        cad = grid_worker(m)
        cad.motivation = cad.baseline_motivation = 0.6
        cad.exhaustion = 0.0
        for _ in range(50):
            cad._reset_day()
            cad.active = True
            cad.hours_worked, cad.formalism_hours = 4.0, 4.0 * formal
            cad.job_control, cad.felt_pressure = job_control, pressure
            cad.inspected = pressure > 0.5  # keeps the felt pressure where it is
            cad.end_day()
        return cad.motivation - 0.6

    assert drift(job_control=0.0, pressure=1.0, formal=1.0) < 0
    assert drift(job_control=1.0, pressure=0.0, formal=0.0) > 0


def test_recognition_grows_on_recognised_days_and_fades_otherwise(small_model):
    m = small_model()
    cad = grid_worker(m)
    b = m.behaviour
    cad.active = False
    cad.recognised = True
    cad.end_day()
    assert cad.recognition == pytest.approx(b.recognition_gain)
    before = cad.recognition
    cad._reset_day()
    cad.end_day()
    assert cad.recognition == pytest.approx(before * (1 - b.recognition_decay))


def test_a_sanction_buys_compliance_and_effort_at_a_cost(small_model):
    m = small_model()
    cad = grid_worker(m)
    cad.motivation, cad.exhaustion, cad.compliance = 0.3, 0.1, 0.0
    effort = cad.compute_effort()
    cad.sanction()
    assert cad.compliance > 0 and cad.compute_effort() > effort
    assert cad.exhaustion > 0.1 and cad.motivation < 0.3


def test_felt_job_control_follows_the_share_of_work_chosen(small_model):
    m = small_model()
    cad = grid_worker(m)
    cad.job_control = 0.5
    cad._reset_day()
    cad.received(chosen=True)
    cad.received(chosen=True)
    cad.end_day()
    assert cad.job_control > 0.5
    cad._reset_day()
    cad.received(chosen=False)
    high = cad.job_control
    cad.end_day()
    assert cad.job_control < high


def test_meetings_align_goals_and_imposed_days_erode_alignment(small_model):
    m = small_model()
    cad = grid_worker(m)
    cad.alignment = 0.5
    cad._reset_day()
    cad.active, cad.met = True, True
    cad.end_day()
    assert cad.alignment > 0.5
    aligned = cad.alignment
    cad._reset_day()
    cad.active = True
    cad.end_day()
    assert cad.alignment < aligned
    cad.alignment = 0.0
    low = cad.compute_effort()
    cad.alignment = 1.0
    assert cad.compute_effort() > low


# ----- hours of the day -------------------------------------------------------------
def test_a_need_arriving_later_in_the_shift_is_worked_when_it_arrives(
    small_model, add_need, scripted_rng
):
    m = small_model()
    cad = grid_worker(m)
    h = m.random_household(cad.community, cad.grid)
    nid = add_need(m, h, hours=1.0)
    fresh_day(cad)
    arrival = cad.clock + 3.0
    m.needs.t_ready[nid] = arrival
    cad.queue = [nid]
    m.rng = scripted_rng(m.rng, random=0.0)
    cad.work()
    assert m.needs.status[nid] == nd.RESOLVED
    assert m.needs.t_resolved[nid] == pytest.approx(arrival + 1.0)
    assert cad.hours_worked == pytest.approx(1.0)  # waiting is not work
    late = add_need(m, h, hours=1.0)
    fresh_day(cad)
    m.needs.t_ready[late] = cad.clock + 9.0  # after the shift ends: tomorrow
    cad.queue = [late]
    cad.work()
    assert m.needs.status[late] == nd.OPEN and cad.hours_worked == 0


def test_an_unverified_peer_report_costs_checking_hours_first(small_model, add_need):
    m = small_model()
    cad = grid_worker(m)
    nid = add_need(m, m.random_household(cad.community, cad.grid), hours=1.0)
    m.needs.unverified[nid] = True
    cad.queue = [nid]
    fresh_day(cad)
    cad.work()
    assert cad.hours_worked == pytest.approx(m.behaviour.verify_hours + 1.0)
    assert not m.needs.unverified[nid]


def test_support_buffers_strain(small_model):
    m = small_model()
    cad = grid_worker(m)
    cap = cad.daily_hours()
    m._cadre_trust_mean[cad.idx] = 0.0
    cad.recognition = 0.0
    cad.exhaustion = 0.3
    alone = exhaustion_change(cad, worked=2 * cap)
    m._cadre_trust_mean[cad.idx] = 1.0
    cad.exhaustion = 0.3
    cad.recognition = 0.0
    supported = exhaustion_change(cad, worked=2 * cap)
    assert supported < alone
    assert np.isfinite(supported)


# ----- the cadre state arrays ---------------------------------------------------------
def test_cadre_attributes_are_rows_of_the_state_arrays(small_model):
    m = small_model()
    cad, other = m.cadres[3], m.cadres[4]
    before = other.exhaustion
    cad.exhaustion = 0.37
    assert m.cadre_state.exhaustion[cad.idx] == 0.37
    assert other.exhaustion == before
    m.cadre_state.motivation[cad.idx] = 0.21
    assert cad.motivation == 0.21 and type(cad.motivation) is float
    cad.withdrawn = True
    assert bool(m.cadre_state.withdrawn[cad.idx]) and cad.withdrawn is True


def test_total_sums_cadres_as_pythons_sum_does():
    """Floats are summed with compensation until the first numpy scalar, then plainly."""
    rng = np.random.default_rng(3)
    differs_from_plain = 0
    for _ in range(300):
        n = int(rng.integers(1, 40))
        values = rng.random(n) * 10.0 ** rng.integers(-3, 4, n)
        is_np = rng.random(n) < rng.choice([0.0, 0.05, 0.5, 1.0])
        st = CadreState()
        for _ in range(n):
            st.add()
        st.hours_worked[:n], st.np_worked[:n] = values, is_np
        objects = [np.float64(v) if f else float(v) for v, f in zip(values, is_np, strict=True)]
        expected = sum(objects)
        got = st.total("hours_worked")
        assert got == expected and type(got) is type(expected)
        differs_from_plain += got != np.add.accumulate(values)[-1]
    assert differs_from_plain > 0  # the order of summation matters in these draws


@pytest.mark.parametrize("stage", ["begin", "end"])
def test_a_day_for_all_cadres_equals_one_cadre_at_a_time(small_model, stage):
    """The stages run on every row at once give what running them row by row gives
    (draws in cadre order, no row reading another's update)."""
    together, one_by_one = small_model(days=12, seed=5), small_model(days=12, seed=5)
    for m in (together, one_by_one):
        m.day = m.steps
        m.refresh_backlog()
    if stage == "begin":
        begin_days(together, together.cadre_state.all())
        for cad in one_by_one.cadres:
            cad.begin_day()
    else:
        end_days(together, together.cadre_state.all())
        for cad in one_by_one.cadres:
            cad.end_day()
    a, b = together.cadre_state, one_by_one.cadre_state
    for name in CadreState.FIELDS:
        np.testing.assert_array_equal(getattr(a, name)[: a.n], getattr(b, name)[: b.n], name)
    assert together.rng.random() == one_by_one.rng.random()


def test_success_chances_of_many_needs_are_each_cadres_own_numbers(small_model):
    m = small_model(days=5)
    pairs = [(n, c) for c in m.cadres for n in c.queue][:40]
    assert pairs
    ids = np.array([n for n, _ in pairs])
    cads = np.array([c.idx for _, c in pairs])
    clock = [c.clock + 0.5 * k for k, (_, c) in enumerate(pairs)]
    many = success_chances(m, ids, cads, clock)
    for k, (n, c) in enumerate(pairs):
        res = max(c.resources, m.community_resources[c.community])
        one = c._success(
            n,
            clock[k],
            c.experience,
            res,
            c.knowledge,
            c.effort,
            c.effort < m.behaviour.shirk_threshold,
        )
        assert many[k] == one  # the same number, not only close


@pytest.mark.parametrize("goals", [0.0, 1.0])
def test_deciding_a_walk_later_gives_what_deciding_each_need_at_once_gives(
    small_model, add_need, goals
):
    outcomes = []
    for later in (False, True):
        m = small_model(seed=3)
        set_regime(m, goals=goals)
        cad = grid_worker(m)
        h = m.random_household(cad.community, cad.grid)
        ids = [add_need(m, h, hours=0.5) for _ in range(12)]
        cad.queue = list(ids)
        fresh_day(cad)
        if later:
            finished = Finished()
            cad.walk(finished)
            attempt(m, finished)
        else:
            cad.work()
        outcomes.append(
            (
                m.needs.status[ids].tolist(),
                m.needs.hours[ids].tolist(),
                list(m.households.contacts),
                cad.queue,
                cad.resolved_today,
                m.rng.random(),
            )
        )
    assert outcomes[0] == outcomes[1]
