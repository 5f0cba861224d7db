"""Community cadres: committee members and grid workers (agents.community_cadre)."""

from __future__ import annotations

import numpy as np
import pytest

from saca.agents import CommunityCadre


def community_cadres(m) -> list[CommunityCadre]:
    return [c for c in m.cadres if isinstance(c, CommunityCadre)]


def test_every_grid_has_its_workers_and_every_community_its_committee(small_model):
    m = small_model()
    pop = m.population
    for g, posted in enumerate(m.posts):
        workers = [c for c in posted if isinstance(c, CommunityCadre)]
        assert len(workers) == pop.grid_workers_per_grid
        assert all(c.grid == g and c.role == "grid_worker" and c.reach == 0 for c in workers)
        assert all(c.community == m.structure.grid_comm[g] for c in workers)
    for c, members in enumerate(m.committee):
        assert len(members) == pop.committee_per_community
        assert all(x.community == c and x.role == "committee" and x.reach == 1 for x in members)


def test_community_cadres_know_their_residents(small_model):
    """Grid workers know every household of their grid; each household knows a committee
    member; community cadres are trusted more than the strangers sent from outside."""
    m = small_model()
    st, ties = m.structure, m.ties
    for cad in community_cadres(m):
        if cad.role != "grid_worker":
            continue
        mine = ties.hh[: ties.n][ties.cadre[: ties.n] == cad.idx]
        assert set(mine.tolist()) == set(np.flatnonzero(st.hh_grid == cad.grid).tolist())
    committee_ids = {c.idx for c in community_cadres(m) if c.role == "committee"}
    for h in range(st.n_households):
        assert any(int(ties.cadre[t]) in committee_ids for t in ties.of_household(h))
    known = ties.cadre[: ties.n]
    is_comm = ~m.cadre_is_sunk[known]
    assert ties.familiarity[: ties.n][is_comm].min() > 0


def test_community_cadres_have_experience_but_few_resources(small_model):
    m = small_model()
    comm = community_cadres(m)
    sunk = [c for c in m.cadres if c.is_sunk]
    assert np.mean([c.experience for c in comm]) > np.mean([c.experience for c in sunk])
    for c in comm:
        assert c.resources == pytest.approx(0.3 * m.structure.resources[c.community])


def test_administrative_load_is_an_overhead_of_community_cadres(small_model):
    m = small_model(regime="autonomous")
    cad = community_cadres(m)[0]
    formal, other = cad.overhead_hours()
    assert formal == 0.0  # outcome evaluation: no inspection paperwork
    assert other == pytest.approx(m.population.admin_hours)
    cad.begin_day()
    expected_left = cad.daily_hours() - formal - other
    assert cad.hours_left == pytest.approx(max(expected_left, 0.0))


def test_offloading_sheds_part_of_the_admin_load(small_model):
    allowed = small_model(regime="constructive", overrides={"regime.offloading_allowed": True})
    barred = small_model(regime="constructive", overrides={"regime.offloading_allowed": False})
    a = community_cadres(allowed)[0].overhead_hours()[1]
    b = community_cadres(barred)[0].overhead_hours()[1]
    share = 0.5 * allowed.behaviour.offload_propensity
    assert a == pytest.approx(b - share * allowed.population.admin_hours)


def test_offloading_moves_work_from_community_to_sunk_cadres(run_small):
    """P6: with offloading allowed community cadres work less, sunk cadres more, and
    needs are pushed across (offloads > 0 only when allowed)."""
    for seed in (1, 2):
        on = run_small(
            regime="constructive", seed=seed, overrides={"regime.offloading_allowed": True}
        ).summary()
        off = run_small(
            regime="constructive", seed=seed, overrides={"regime.offloading_allowed": False}
        ).summary()
        assert on["offloads"] > 0 and off["offloads"] == 0
        assert on["workload_community"] < off["workload_community"]
        assert on["workload_sunk"] > off["workload_sunk"]


def test_offloading_strains_cadre_trust(run_small):
    on = run_small(regime="constructive", overrides={"regime.offloading_allowed": True})
    off = run_small(regime="constructive", overrides={"regime.offloading_allowed": False})
    assert on.summary()["trust_cadre_cadre"] < off.summary()["trust_cadre_cadre"]
