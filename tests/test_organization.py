"""Organisations: street offices and the city platform (escalation), sending units,
property firms, social organisations and the task force (agents.organization)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from saca.agents import CityPlatform, PropertyFirm, SocialOrg, StreetOffice, TaskForce
from saca.agents import needs as nd


def set_regime(m, **changes) -> None:
    m.regime = dataclasses.replace(m.regime, **changes)


def needs_waiting_at(m, add_need, where: int, k: int, *, street: int = 0, level: int = 2):
    """k open needs of households in one street, waiting at ``where`` from today."""
    comms = np.flatnonzero(m.structure.comm_street == street)
    homes = np.flatnonzero(np.isin(m.structure.hh_comm, comms))
    ids = [add_need(m, int(homes[i % len(homes)]), level=level) for i in range(k)]
    ids = np.array(ids)
    m.needs.where[ids] = where
    m.needs.t_ready[ids] = m.day * nd.HOURS_PER_DAY
    m.needs.left_grid[ids] = True
    return ids


# ----- street offices and the city platform (seed 004, P13-P14) -----------------------
def test_capacity_belongs_to_the_office_not_to_the_communities_it_covers(small_model):
    """Seed 004: a street office's staff is its own; covering more communities does not
    give it more hands, so the load at the top grows with the district."""
    m = small_model(overrides={"situation.street_capacity": 1.5})
    assert all(office.capacity == pytest.approx(1.5) for office in m.street_offices)
    assert m.city.capacity == pytest.approx(m.situation.city_capacity)


def test_a_street_office_handles_at_most_its_capacity_per_day(small_model, add_need):
    m = small_model(overrides={"situation.street_capacity": 2.0})
    office = m.street_offices[0]
    cap = office.capacity
    ids = needs_waiting_at(m, add_need, nd.AT_STREET, 25, street=0)
    done = 0
    for day in range(4):
        m.day = day
        office.step()
        assert office.handled_today <= max(cap, 1.0)
        done += office.handled_today
        settled = int((m.needs.status[ids] == nd.RESOLVED).sum())
        assert settled <= done
    assert done == 4 * cap
    still = (m.needs.status[ids] == nd.OPEN) & (m.needs.where[ids] == nd.AT_STREET)
    assert still.sum() >= 25 - done


def test_fractional_capacity_accumulates(small_model, add_need):
    m = small_model(overrides={"situation.city_capacity": 0.5})
    city = m.city
    assert city.capacity == pytest.approx(0.5)
    needs_waiting_at(m, add_need, nd.AT_CITY, 10, level=3)
    counts = []
    for day in range(6):
        m.day = day
        city.step()
        counts.append(city.handled_today)
    assert counts == [0, 1, 0, 1, 0, 1]


def test_a_street_office_only_sees_its_own_communities(small_model, add_need):
    m = small_model()
    ids = needs_waiting_at(m, add_need, nd.AT_STREET, 3, street=1)
    assert len(m.street_offices[0].queue()) == 0
    assert sorted(m.street_offices[1].queue().tolist()) == sorted(ids.tolist())
    assert len(m.city.queue()) == 0


def test_street_triage_settles_passes_up_and_sends_back_down(small_model, add_need):
    m = small_model(overrides={"situation.street_capacity": 10.0})
    office = m.street_offices[0]
    street_need = needs_waiting_at(m, add_need, nd.AT_STREET, 1, level=2)[0]
    city_need = needs_waiting_at(m, add_need, nd.AT_STREET, 1, level=3)[0]
    grid_need = needs_waiting_at(m, add_need, nd.AT_STREET, 1, level=0)[0]
    office.step()
    nds = m.needs
    assert nds.where[city_need] == nd.AT_CITY and nds.status[city_need] == nd.OPEN
    # case backflow: a grid need that came up unfiltered goes back down through command
    assert nds.where[grid_need] == nd.AT_COMMAND and nds.triaged[grid_need]
    # settled half an hour after the office opens, or carried to tomorrow's opening
    opened = m.day_open + m.behaviour.office_handle_hours
    if nds.status[street_need] == nd.RESOLVED:
        assert nds.t_resolved[street_need] == pytest.approx(opened)
    else:
        assert nds.t_ready[street_need] == pytest.approx(m.day_end + m.behaviour.workday_start)


def test_the_city_pools_every_street_and_settles_city_needs(small_model, add_need, scripted_rng):
    m = small_model(overrides={"situation.city_capacity": 5.0})
    a = needs_waiting_at(m, add_need, nd.AT_CITY, 2, street=0, level=3)
    b = needs_waiting_at(m, add_need, nd.AT_CITY, 2, street=1, level=3)
    assert sorted(m.city.queue().tolist()) == sorted([*a, *b])
    trust_before = m.households.trust_institution[m.needs.hh[a]].copy()
    m.rng = scripted_rng(m.rng, random=0.0)  # every settlement succeeds
    m.city.step()
    assert np.all(m.needs.status[np.concatenate([a, b])] == nd.RESOLVED)
    assert m.resolved_today == 4 and m.city.handled_today == 4
    # settled needs raise trust in the institution
    assert np.all(m.households.trust_institution[m.needs.hh[a]] > trust_before)


def test_central_escalation_sends_every_report_to_the_city(small_model, add_need):
    m = small_model(overrides={"regime.escalation": "central"})
    h = int(np.flatnonzero(~np.isin(m.structure.hh_comm, list(m.firms)))[0])
    ids = [add_need(m, h, level=0, status=nd.HIDDEN) for _ in range(5)]
    for nid in ids:
        m.report(np.array([nid]), np.array([-1]))
    assert np.all(m.needs.where[ids] == nd.AT_CITY)
    assert np.all(m.needs.left_grid[ids])


def test_central_escalation_overloads_the_top(run_small):
    """P13/P14: sending everything up raises escalation and the share handled far away."""
    local = run_small(overrides={"regime.escalation": "grid_first"}).summary()
    central = run_small(overrides={"regime.escalation": "central"}).summary()
    assert central["escalation_share"] > 0.85 > local["escalation_share"]
    assert central["response_time_mean"] > local["response_time_mean"]


# ----- property firms -----------------------------------------------------------------
def test_property_firms_work_in_new_builds_and_settle_facility_needs(small_model, add_need):
    m = small_model(
        overrides={"situation.share_old_estate": 0.0, "situation.share_urban_village": 0.0}
    )
    assert set(m.firms) == set(range(4))
    firm = m.firms[0]
    assert isinstance(firm, PropertyFirm)
    assert firm.capacity == pytest.approx(
        m.situation.firm_capacity * (m.structure.hh_comm == 0).sum()
    )
    h = int(np.flatnonzero(m.structure.hh_comm == 0)[0])
    nid = add_need(m, h, ntype=nd.FACILITY, level=0, status=nd.HIDDEN)
    m.report(np.array([nid]), np.array([-1]))
    assert m.needs.where[nid] == nd.AT_FIRM and not m.needs.left_grid[nid]
    for day in range(10):
        m.day = day
        firm.step()
        if m.needs.status[nid] == nd.RESOLVED:
            break
    assert m.needs.status[nid] == nd.RESOLVED


def test_old_estates_have_no_property_firm(small_model):
    m = small_model(
        overrides={"situation.share_old_estate": 1.0, "situation.share_urban_village": 0.0}
    )
    assert m.firms == {}


# ----- sending units (seed 004, P16) --------------------------------------------------
def test_adverse_selection_sends_weaker_cadres(small_model):
    m = small_model()
    unit = m.units[0]

    def mean_quality(selection: str) -> float:
        set_regime(m, selection=selection)
        return float(np.mean([unit.select_quality() for _ in range(400)]))

    merit, adverse = mean_quality("merit"), mean_quality("adverse")
    assert merit > unit.quality > adverse
    assert merit - adverse > 0.1


def test_adverse_selection_lowers_sunk_cadre_skills(small_model):
    def sunk_skill(selection: str) -> float:
        m = small_model(overrides={"regime.selection": selection})
        return float(np.mean([c.skills.mean() for c in m.cadres if c.is_sunk]))

    assert sunk_skill("adverse") < sunk_skill("merit")


def test_units_sit_in_each_street_and_bring_resources(small_model):
    m = small_model()
    per_street = np.bincount([u.street for u in m.units], minlength=2)
    assert np.all(per_street == m.population.units_per_street)
    for cad in (c for c in m.cadres if c.is_sunk):
        assert cad.resources == cad.unit.resources
        assert 0 <= cad.unit.resources <= 1


def test_residence_spreads_members_more_evenly_than_workplace(small_model):
    """P10: workplaces cluster in a few communities."""

    def spread(basis: str) -> float:
        sds = []
        for seed in range(4):
            m = small_model(
                seed=seed,
                overrides={
                    "regime.assignment_basis": basis,
                    "situation.communities": 8,
                    "situation.grids": 16,
                    "situation.households": 800,
                },
            )
            n = np.bincount(
                [c.community for c in m.cadres if c.is_sunk and c.mode == "in_service"],
                minlength=8,
            )
            per_hh = n / np.bincount(m.structure.hh_comm, minlength=8)
            sds.append(per_hh.std() / per_hh.mean())
        return float(np.mean(sds))

    assert spread("workplace") > 1.5 * spread("residence")


# ----- social organisations and the task force ----------------------------------------
def test_social_orgs_raise_self_help_for_services_and_disputes(small_model):
    m = small_model()
    hh = int(np.flatnonzero(m.degree > 0)[0])
    c = int(m.structure.hh_comm[hh])
    assert all(isinstance(o, SocialOrg) for o in m.social_orgs)
    assert {o.community for o in m.social_orgs} == set(
        np.flatnonzero(m.structure.has_social_org).tolist()
    )
    p = {}
    for present in (False, True):
        m.structure.has_social_org[c] = present
        p[present] = m.households.self_help_probability(
            np.array([c, c]), np.array([nd.DISPUTE, nd.EMERGENCY], np.int8), np.array([hh, hh])
        )
    assert p[True][0] == pytest.approx(1.3 * p[False][0])
    assert p[True][1] == pytest.approx(p[False][1])


def test_a_task_force_exists_only_when_the_regime_has_one(small_model):
    assert small_model(regime="constructive").task_force is None
    m = small_model(regime="task_force")
    assert isinstance(m.task_force, TaskForce)
    assert ("org", m.task_force.unique_id) in m.graph


def test_the_task_force_corrects_formalism_over_time(run_small):
    """P7: without a correction channel the mandates persist; a task force removes them."""
    without = run_small(regime="constructive", days=60).timeseries()
    with_tf = run_small(regime="task_force", days=60).timeseries()
    assert without["mandate_relief"].max() == 0.0
    assert with_tf["mandate_relief"].iloc[-1] > 0.3
    assert with_tf["mandate_relief"].is_monotonic_increasing
    late = slice(45, 60)
    assert (
        with_tf["formalism_share"].iloc[late].mean() < without["formalism_share"].iloc[late].mean()
    )
    early_tf = with_tf["formalism_share"].iloc[:10].mean()
    assert with_tf["formalism_share"].iloc[late].mean() < early_tf


def test_organisation_kinds(small_model):
    m = small_model(regime="task_force")
    assert all(isinstance(o, StreetOffice) and o.kind == "street_office" for o in m.street_offices)
    assert isinstance(m.city, CityPlatform) and m.city.kind == "city_platform"
    assert {u.kind for u in m.units} == {"sending_unit"}


def _organisations_state(m):
    nds = m.needs
    return (
        nds.status[: nds.n].tolist(),
        nds.where[: nds.n].tolist(),
        nds.t_ready[: nds.n].tolist(),
        m.households.trust_institution.tolist(),
        [f._credit for f in m.firms.values()],
        [o._credit for o in m.street_offices],
        m.rng.random(),
    )


def test_offices_and_firms_stepped_at_once_as_one_by_one(small_model, add_need):
    """The model finds every street office's queue in one pass and steps the firms
    together; stepping each office and firm on its own gives the same needs, trust,
    credits and draws."""
    states = []
    for together in (True, False):
        m = small_model(scenario="emergency", regime="constructive", days=8)
        m.assign_by_post(m.needs.waiting(nd.AT_COMMAND, m.day_end))
        m.work_round()
        for street in range(len(m.street_offices)):
            needs_waiting_at(m, add_need, nd.AT_STREET, 4 + street, street=street, level=street)
        firm_needs = sum(len(m.waiting_at_firm(c)) for c in m.firms)
        if together:
            queues = m.waiting_by_street()
            for office in m.street_offices:
                office.step(queues.get(office.street, np.empty(0, np.int64)))
            PropertyFirm.step_all(m, list(m.firms.values()))
        else:
            for office in m.street_offices:
                assert np.array_equal(office.queue(), m.waiting_by_street().get(office.street, []))
                office.step()
            for firm in m.firms.values():
                firm.step()
        states.append(_organisations_state(m))
    assert states[0] == states[1]
    assert firm_needs > 0 and sum(o.handled_today for o in m.street_offices) > 0
