"""Residents: self-help, reporting, trust after contacts, word of mouth (agents.resident)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from saca.agents import needs as nd
from saca.agents.cadre import FAIL, LATE, SUCCESS, VISIT_UNWANTED, VISIT_WANTED
from saca.agents.resident import Resident


def household_with_ties(m, community: int | None = None) -> int:
    ok = m.degree > 0
    if community is not None:
        ok &= m.structure.hh_comm == community
    return int(np.flatnonzero(ok)[0])


def set_regime(m, **changes) -> None:
    m.regime = dataclasses.replace(m.regime, **changes)


# ----- self-help (seed 003, P12) ------------------------------------------------------
@pytest.fixture
def helper(small_model):
    """A model whose community 0 we can make strong or weak; returns p(cap, coh, f)."""
    m = small_model()
    h = household_with_ties(m, community=0)

    def p(cap: float, coh: float, front_loading: float = 0.0, engaged: float = 0.5) -> float:
        m.structure.capacity[0], m.structure.cohesion[0] = cap, coh
        set_regime(m, front_loading=front_loading)
        m.households.engagement[m.structure.hh_comm == 0] = engaged
        out = m.households.self_help_probability(
            np.array([0]), np.array([nd.SERVICE], np.int8), np.array([h])
        )
        return float(out[0])

    return p


def test_self_help_rises_with_capacity_times_cohesion(helper):
    grid = [0.1, 0.3, 0.5, 0.7, 0.9]
    values = [helper(c, c) for c in grid]
    assert all(a < b for a, b in itertools.pairwise(values))
    assert helper(0.9, 0.2) < helper(0.9, 0.9)
    assert helper(0.2, 0.9) < helper(0.9, 0.9)
    assert all(0 <= v <= 1 for v in values)


def test_self_help_rises_with_engagement_built_by_consultation(helper):
    assert helper(0.7, 0.7, engaged=0.0) < helper(0.7, 0.7, engaged=1.0)


def test_front_loading_crowds_out_self_help_in_a_strong_community(helper):
    values = [helper(0.9, 0.9, f) for f in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert all(a > b for a, b in itertools.pairwise(values))


def test_front_loading_builds_self_help_in_a_weak_community(helper):
    values = [helper(0.1, 0.1, f) for f in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert all(a < b for a, b in itertools.pairwise(values))


def test_isolated_households_get_no_self_help(small_model):
    m = small_model()
    m.degree[:] = 0
    p = m.households.self_help_probability(np.zeros(3, int), np.zeros(3, np.int8), np.arange(3))
    assert np.all(p == 0)


def test_self_help_is_easier_for_services_than_emergencies(small_model):
    m = small_model()
    h = household_with_ties(m, 0)
    p = m.households.self_help_probability(
        np.array([0, 0]), np.array([nd.SERVICE, nd.EMERGENCY], np.int8), np.array([h, h])
    )
    assert p[0] > p[1]


# ----- reporting (seed 000) -----------------------------------------------------------
def test_report_probability_rises_with_trust_and_urgency(small_model):
    hhs = small_model().households
    trust = np.linspace(0, 1, 21)
    p = np.array([hhs.report_probability(t, 0.5) for t in trust])
    assert np.all(np.diff(p) > 0) and p[0] < 0.05 and p[-1] > 0.95
    th = small_model().behaviour.report_threshold
    assert hhs.report_probability(th, 0.5) == pytest.approx(0.5)
    assert hhs.report_probability(0.3, 1.0) > hhs.report_probability(0.3, 0.4)


def test_hidden_needs_rise_as_trust_falls(run_small):
    def hidden_share(t: float) -> float:
        keys = ("stranger_trust", "community_trust", "institution_trust")
        s = run_small(overrides={f"behaviour.{k}": t for k in keys}, days=40).summary()
        return s["needs_hidden"] / s["needs_created"]

    low, mid, high = hidden_share(0.15), hidden_share(0.4), hidden_share(0.8)
    assert low > mid > high
    assert low > 0.3


def test_channel_is_the_most_trusted_known_cadre_or_the_hotline(small_model):
    m = small_model()
    hhs, ties = m.households, m.ties
    h = int(np.flatnonzero([len(ties.of_household(i)) >= 1 for i in range(400)])[0])
    first = ties.of_household(h)[0]
    ties.trust[ties.of_household(h)] = 0.1
    ties.trust[first] = 0.95
    hhs.trust_institution[h] = 0.5
    assert hhs.choose_channel(h) == (int(ties.cadre[first]), pytest.approx(0.95))
    ties.trust[first] = 0.2
    assert hhs.choose_channel(h) == (-1, pytest.approx(0.5))


def test_channels_at_once_are_each_households_channel(small_model):
    """choose_channels gives choose_channel's answer for every household, including equal
    trusts (the first such tie wins) and households without ties."""
    m = small_model()
    m.ties.trust[: m.ties.n] = np.round(m.ties.trust[: m.ties.n], 1)  # many equal trusts
    m.households.trust_institution[:] = np.round(m.households.trust_institution, 1)
    hh = np.concatenate([np.arange(400), [3, 3, 7]])
    channels, trusts = m.households.choose_channels(hh)
    one = [m.households.choose_channel(h) for h in hh.tolist()]
    assert channels.tolist() == [c for c, _ in one]
    assert trusts.tolist() == [t for _, t in one]
    assert (channels >= 0).any() and (channels < 0).any()


# ----- trust after contacts (seed 000, 001) --------------------------------------------
def contact_once(m, outcome: int, *, trust: float = 0.5, fam: float = 0.0, cadre: int = 0):
    """Apply one contact of household 0 with a cadre at a set trust; return the tie."""
    h = 0
    t = m.ties.get_or_add(h, cadre, trust)
    m.ties.trust[t], m.ties.familiarity[t] = trust, fam
    m.households.trust_institution[h] = trust
    m.households.contact(h, cadre, outcome)
    m.households.apply_contacts()
    return t


def test_trust_falls_more_on_a_failure_than_it_rises_on_a_success(small_model):
    m = small_model()
    b = m.behaviour
    t = contact_once(m, SUCCESS)
    gain = m.ties.trust[t] - 0.5
    inst_gain = m.households.trust_institution[0] - 0.5
    contact_once(m, FAIL)
    loss = 0.5 - m.ties.trust[t]
    inst_loss = 0.5 - m.households.trust_institution[0]
    assert gain == pytest.approx(b.trust_gain * 0.5)
    assert loss == pytest.approx(b.loss_aversion * b.trust_gain * 0.5)
    assert loss > gain > 0
    # the institution's trust moves the same way, by half as much
    assert inst_gain == pytest.approx(gain / 2) and inst_loss == pytest.approx(loss / 2)


def test_late_success_earns_half_the_trust(small_model):
    m = small_model()
    t = contact_once(m, LATE)
    late = m.ties.trust[t] - 0.5
    t = contact_once(m, SUCCESS)
    assert late == pytest.approx((m.ties.trust[t] - 0.5) / 2)


def test_an_unwanted_stranger_visit_costs_trust_and_brings_a_complaint(small_model):
    m = small_model(overrides={"behaviour.complaint_prob": 1.0})
    before = m.households.complaints[0]
    t = contact_once(m, VISIT_UNWANTED, fam=0.0)
    assert m.ties.trust[t] == pytest.approx(0.5 - m.behaviour.visit_trust_loss)
    assert m.households.complaints[0] == before + 1
    assert m.households.complaints_today >= 1
    # a familiar face at the door costs no trust and brings no complaint
    t = contact_once(m, VISIT_UNWANTED, fam=1.0)
    assert m.ties.trust[t] == pytest.approx(0.5)
    assert m.households.complaints[0] == before + 1


def test_familiarity_grows_with_contact(small_model):
    m = small_model()
    phi = m.behaviour.familiarity_gain
    t = contact_once(m, VISIT_WANTED, fam=0.0)
    assert m.ties.familiarity[t] == pytest.approx(phi)
    contact_once(m, SUCCESS, fam=0.5)
    assert m.ties.familiarity[t] == pytest.approx(0.5 + phi * 0.5)


def test_familiarity_decays_without_contact(small_model):
    """With no needs and no visits nobody meets: every familiarity decays geometrically
    and trust in cadres stays where it was."""
    m = small_model(overrides={"situation.need_rate": 0.0})
    n = m.ties.n
    fam0, trust0 = m.ties.familiarity[:n].copy(), m.ties.trust[:n].copy()
    assert fam0.max() > 0
    for _ in range(30):
        m.step()
    d = m.behaviour.familiarity_decay
    assert m.ties.n == n
    assert np.allclose(m.ties.familiarity[:n], fam0 * (1 - d) ** 30)
    assert np.array_equal(m.ties.trust[:n], trust0)


def test_a_visit_reveals_a_hidden_need_to_the_visitor(small_model, add_need):
    m = small_model()
    cad = next(c for c in m.cadres if c.is_sunk)
    h = m.random_household(cad.community, cad.grid)
    nid = add_need(m, h, status=nd.HIDDEN)
    m.hide(np.array([nid]))
    m.households.visit(h, cad)
    assert m.needs.status[nid] == nd.OPEN and m.needs.reported[nid]
    assert m.needs.holder[nid] == cad.idx and nid in cad.queue
    assert m.households.contacts[-1] == (h, cad.idx, VISIT_WANTED)
    m.households.visit(h, cad)  # nothing hidden any more
    assert m.households.contacts[-1] == (h, cad.idx, VISIT_UNWANTED)


def test_trust_and_satisfaction_stay_in_unit_interval_after_many_outcomes(small_model):
    """Several needs of one household can be dropped or settled on the same day."""
    m = small_model()
    hhs = m.households
    hh = np.zeros(12, int)
    hhs.gave_up(hh)
    assert 0 <= hhs.trust_institution[0] <= 1
    assert 0 <= hhs.satisfaction[0] <= 1
    hhs.settled_above(np.zeros(20, int))
    assert 0 <= hhs.trust_institution[0] <= 1
    assert 0 <= hhs.satisfaction[0] <= 1
    for _ in range(10):
        hhs.contact(0, 0, SUCCESS)
    hhs.apply_contacts()
    assert 0 <= hhs.satisfaction[0] <= 1


# ----- word of mouth ------------------------------------------------------------------
def test_word_of_mouth_pulls_opinions_toward_neighbours(small_model):
    m = small_model()
    hhs, ties = m.households, m.ties
    w = m.behaviour.word_of_mouth
    h = household_with_ties(m)
    hhs.opinion_sunk[:] = 0.9
    ties.trust[: ties.n][m.cadre_is_sunk[ties.cadre[: ties.n]]] = 0.9
    hhs.opinion_sunk[h] = 0.1
    hhs.trust_institution[:] = 0.8
    hhs.trust_institution[h] = 0.2
    hhs.update_opinions()
    assert hhs.opinion_sunk[h] == pytest.approx((1 - w) * 0.1 + w * 0.9)
    assert hhs.trust_institution[h] == pytest.approx((1 - w) * 0.2 + w * 0.8, abs=2e-3)
    # a household none of whose neighbours is h hears only agreement and stays put
    near_h = set(m.adjacency[[h]].indices.tolist()) | {h}
    others = [
        i
        for i in np.flatnonzero(m.degree > 0).tolist()
        if not near_h & set(m.adjacency[[i]].indices.tolist()) and i not in near_h
    ]
    assert others
    assert hhs.opinion_sunk[others[0]] == pytest.approx(0.9)


def test_word_of_mouth_off_leaves_opinions_alone(small_model):
    m = small_model(overrides={"behaviour.word_of_mouth": 0.0, "regime.decision": 0.0})
    hhs = m.households
    names = ("opinion_sunk", "opinion_community", "trust_institution")
    before = {k: getattr(hhs, k).copy() for k in names}
    hhs.update_opinions()
    for k in names:
        assert np.array_equal(before[k], getattr(hhs, k)), k


def test_opinions_start_with_strangers_trusted_less_than_community_cadres(small_model):
    """P3: sunk cadres start as strangers."""
    m = small_model()
    assert m.households.opinion_sunk.mean() < m.households.opinion_community.mean()


# ----- the Resident view --------------------------------------------------------------
def test_resident_reads_its_row(small_model):
    m = small_model(days=20)
    r = m.residents[123]
    assert isinstance(r, Resident) and r.index == 123
    assert r.community == m.structure.hh_comm[123] and r.grid == m.structure.hh_grid[123]
    assert r.trust_institution == m.households.trust_institution[123]
    assert r.satisfaction == m.households.satisfaction[123]
    assert r.complaints == m.households.complaints[123]
    known = r.known_cadres
    assert len(known) == len(m.ties.of_household(123))
    assert all(0 <= f <= 1 and 0 <= t <= 1 for f, t in known.values())
    nds = m.needs
    assert len(r.needs) == int((nds.hh[: nds.n] == 123).sum())
