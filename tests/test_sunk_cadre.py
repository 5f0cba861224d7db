"""Sunk cadres: mandated visits, in-service participation, marginalisation, rotation
(agents.sunk_cadre)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from saca.agents import CommunityCadre, SunkCadre
from saca.agents import needs as nd
from saca.agents.sunk_cadre import ACCOUNTABILITY, ASSESSMENT_HOURS


def sunk(m, mode: str) -> SunkCadre:
    return next(c for c in m.cadres if isinstance(c, SunkCadre) and c.mode == mode)


def set_regime(m, **changes) -> None:
    m.regime = dataclasses.replace(m.regime, **changes)


def fresh_day(cad, hours: float) -> None:
    cad._reset_day()
    cad.active = True
    cad.hours_left = hours


# ----- mandated visits (seed 001, P5) -------------------------------------------------
@pytest.fixture
def visiting(small_model, add_need, scripted_rng):
    """An off-post cadre under a visit mandate, with one grid need in its queue; every
    Poisson draw of visits gives 2."""
    m = small_model(overrides={"regime.mandated_visits_per_week": 7.0})
    cad = sunk(m, "off_post")
    nid = add_need(m, m.random_household(cad.community, cad.grid), hours=2.0)
    cad.queue = [nid]
    m.rng = scripted_rng(m.rng, poisson=2)
    return m, cad, nid


def test_mandated_visits_take_hours_before_needs(visiting):
    m, cad, nid = visiting
    v = m.behaviour.visit_hours
    fresh_day(cad, hours=2 * v + 2.0)
    cad.work()
    assert cad.formalism_hours == pytest.approx(2 * v)
    assert m.needs.hours[nid] == pytest.approx(0.0) or m.needs.status[nid] == nd.RESOLVED
    assert cad.hours_worked == pytest.approx(2 * v + 2.0)


def test_with_a_tiny_budget_only_visits_get_done(visiting):
    m, cad, nid = visiting
    v = m.behaviour.visit_hours
    fresh_day(cad, hours=2 * v)
    cad.work()
    assert cad.formalism_hours == pytest.approx(2 * v) == cad.hours_worked
    assert m.needs.hours[nid] == pytest.approx(2.0)  # not touched
    assert m.needs.status[nid] == nd.OPEN and cad.queue == [nid]
    # each visit knocked on a door of the cadre's grid
    visits = m.households.contacts
    assert len(visits) == 2
    assert all(m.structure.hh_grid[h] == cad.grid for h, _, _ in visits)


def test_no_mandate_or_full_correction_means_no_visits(visiting):
    m, cad, _ = visiting
    m.relief = 1.0  # a feedback channel removed the mandate
    fresh_day(cad, hours=8.0)
    cad.visit_households()
    assert cad.formalism_hours == 0 and m.households.contacts == []
    m.relief = 0.0
    set_regime(m, mandated_visits_per_week=0.0)
    cad.visit_households()
    assert cad.formalism_hours == 0


def test_stranger_visits_cost_trust_and_bring_complaints(run_small):
    """P5 over a run: mandated visits by strangers raise complaints and formalism and do
    not buy trust in sunk cadres."""
    base = run_small(regime="constructive", days=45).summary()
    visits = run_small(
        regime="constructive", overrides={"regime.mandated_visits_per_week": 5.0}, days=45
    ).summary()
    quiet = run_small(
        regime="constructive", overrides={"regime.mandated_visits_per_week": 0.0}, days=45
    ).summary()
    assert visits["complaints"] > base["complaints"] > quiet["complaints"]
    assert visits["formalism_share"] > quiet["formalism_share"]


# ----- in-service members (seed 002, P9) ----------------------------------------------
def willingness_after(small_model, evaluation: str, days: int = 300, dials: float = 0.0):
    keys = ("information", "consensus", "goals", "contract", "decision", "control")
    overrides = {f"regime.{k}": dials for k in keys} | {"regime.evaluation": evaluation}
    m = small_model(overrides=overrides)
    cad = sunk(m, "in_service")
    start = cad.willingness
    for _ in range(days):
        # a day of service with no need resolved: only the evaluation can recognise it
        for c in m.cadres:
            c._reset_day()
        cad.active = True
        m.inspect_and_evaluate()
        cad.end_day()
    return start, cad.willingness


def test_willingness_decays_without_evaluation(small_model):
    start, end = willingness_after(small_model, "none", dials=1.0)
    d = small_model().behaviour.participation_decay
    # no evaluation, no inspection, no resident voiced (nothing resolved): pure decay
    assert end == pytest.approx(start * (1 - d) ** 300)
    assert end < 0.1 * start


@pytest.mark.parametrize("evaluation", ["points", "satisfaction", "multi"])
def test_willingness_is_sustained_by_evaluation(small_model, evaluation):
    _, none = willingness_after(small_model, "none", dials=1.0)
    start, end = willingness_after(small_model, evaluation, dials=1.0)
    assert end > none
    assert end > 0.5 * start


def test_satisfaction_evaluation_sustains_participation_over_a_run(run_small):
    def late_participation(evaluation: str) -> float:
        ts = run_small(overrides={"regime.evaluation": evaluation}, days=180).timeseries()
        return float(ts["participation_in_service"].iloc[-30:].mean())

    def early_participation(evaluation: str) -> float:
        ts = run_small(overrides={"regime.evaluation": evaluation}, days=180).timeseries()
        return float(ts["participation_in_service"].iloc[:20].mean())

    assert late_participation("none") < 0.75 * early_participation("none")
    assert late_participation("satisfaction") > late_participation("none") + 0.15


def test_in_service_members_turn_up_with_their_willingness(small_model):
    m = small_model()
    cad = sunk(m, "in_service")
    cad.exhaustion = 0.0
    cad.willingness = 0.0
    assert not any(cad.is_available() for _ in range(50))
    cad.willingness, cad.motivation = 1.0, 1.0
    assert all(cad.is_available() for _ in range(50))
    cad.withdrawn = True
    assert not cad.is_available()


def test_off_post_cadres_work_every_day(small_model):
    m = small_model()
    cad = sunk(m, "off_post")
    cad.willingness = 0.0
    assert all(cad.is_available() for _ in range(20))
    assert cad.daily_hours() == m.population.cadre_hours
    assert sunk(m, "in_service").daily_hours() == m.population.in_service_hours


def test_assessment_burden_grows_with_multi_headed_evaluation(small_model):
    formal = {}
    for ev in ("none", "points", "satisfaction", "multi"):
        m = small_model(overrides={"regime.evaluation": ev})
        formal[ev] = sunk(m, "in_service").overhead_hours()[0]
    base = formal["none"]
    for ev, hours in ASSESSMENT_HOURS.items():
        assert formal[ev] == pytest.approx(base + hours)
    assert formal["multi"] == max(formal.values())
    assert ACCOUNTABILITY["multi"] >= ACCOUNTABILITY["satisfaction"] > ACCOUNTABILITY["none"]


# ----- local knowledge (seed 000, P3) --------------------------------------------------
def test_sunk_strangers_know_less_and_learn_in_meetings_and_consultations(small_model, add_need):
    m = small_model(overrides={"regime.assignment_basis": "residence"})
    cad = sunk(m, "off_post")
    insider = next(c for c in m.cadres if isinstance(c, CommunityCadre))
    neighbour = sunk(m, "in_service")
    assert cad.knowledge == pytest.approx(m.behaviour.stranger_knowledge)
    assert cad.knowledge < insider.knowledge
    assert neighbour.knowledge == 1.0  # members serving where they live know it
    h = m.random_household(cad.community, cad.grid)
    nid = add_need(m, h)
    cad.effort = 0.8
    before = cad.success_probability(nid)
    cad.learn()
    assert cad.knowledge > m.behaviour.stranger_knowledge
    assert cad.success_probability(nid) > before


def test_sunk_cadres_start_as_strangers_except_in_service_neighbours(small_model):
    m = small_model()
    n = m.ties.n
    cad_of_tie = m.ties.cadre[:n]
    off_post = {c.idx for c in m.cadres if c.is_sunk and c.mode == "off_post"}
    in_service = {c.idx for c in m.cadres if c.is_sunk and c.mode == "in_service"}
    assert not np.isin(cad_of_tie, list(off_post)).any()
    assert np.isin(cad_of_tie, list(in_service)).any()  # residence: they know neighbours


def test_workplace_assignment_brings_no_neighbours(small_model):
    m = small_model(overrides={"regime.assignment_basis": "workplace"})
    sunk_ids = [c.idx for c in m.cadres if c.is_sunk]
    assert not np.isin(m.ties.cadre[: m.ties.n], sunk_ids).any()


# ----- rotation (seed 002) ------------------------------------------------------------
def test_off_post_cadres_rotate_at_the_end_of_their_term(small_model):
    term = 7
    m = small_model(overrides={"population.off_post_term": term})
    cad = sunk(m, "off_post")
    member = sunk(m, "in_service")
    h = m.random_household(cad.community, cad.grid)
    t = m.ties.get_or_add(h, cad.idx, 0.5)
    old_skills = cad.skills.copy()
    for _ in range(term):
        m.step()
    assert m.day == term - 1 and cad.start_day == 0  # still in its term
    m.ties.familiarity[t] = 0.8
    m.day = term  # the day the term ends
    cad.end_day()
    assert cad.start_day == term
    assert m.ties.familiarity[t] == 0.0  # the newcomer is a stranger again
    assert m.ties.trust[t] == pytest.approx(m.households.opinion_sunk[h])
    assert not np.array_equal(cad.skills, old_skills)
    assert np.array_equal(m.skill_matrix[cad.idx], cad.skills)
    assert cad.exhaustion == 0.0
    assert member.start_day == 0  # in-service members are open-ended
    m.step()  # the model's own step rotates everyone whose term is up
    assert all(c.start_day == term for c in m.cadres if c.is_sunk and c.mode == "off_post")


# ----- offloading (seed 001, P6) ------------------------------------------------------
def test_off_post_cadres_carry_the_admin_that_community_cadres_offload(small_model):
    m = small_model(regime="constructive", overrides={"regime.offloading_allowed": True})
    pop = m.population
    for c in range(m.structure.n_communities):
        comm = [x for x in m.cadres if not x.is_sunk and x.community == c]
        off = [x for x in m.cadres if x.is_sunk and x.mode == "off_post" and x.community == c]
        assert off and m.offload_share[c] > 0
        shed = sum(pop.admin_hours - (x.overhead_hours()[1] - meetings(m)) for x in comm)
        carried = sum(x.overhead_hours()[1] - meetings(m) for x in off)
        assert carried == pytest.approx(shed)  # admin hours are moved, not created


def meetings(m) -> float:
    r, b = m.regime, m.behaviour
    return r.consensus * b.meeting_hours + r.decision * b.consult_hours


def test_without_offloading_sunk_cadres_carry_no_admin(small_model):
    m = small_model(regime="constructive", overrides={"regime.offloading_allowed": False})
    assert np.all(m.offloaded_admin == 0) and np.all(m.offload_share == 0)
    cad = sunk(m, "off_post")
    assert cad.overhead_hours()[1] == pytest.approx(meetings(m))


def test_an_inspection_of_attendance_holds_in_service_members_to_account(small_model):
    _, uninspected = willingness_after(small_model, "none", dials=1.0)
    _, inspected = willingness_after(small_model, "none", dials=0.0)
    assert inspected > uninspected
