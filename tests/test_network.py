"""District structure, resident ties, the tie table and the graph (model.network)."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saca.model.network import (
    TieTable,
    adjacency,
    build_graph,
    build_structure,
    resident_ties,
    unique_first,
)
from saca.model.situation import Situation


@st.composite
def situations(draw) -> Situation:
    streets = draw(st.integers(1, 4))
    communities = draw(st.integers(streets, 12))
    grids = draw(st.integers(communities, 40))
    households = draw(st.integers(grids, 600))
    return dataclasses.replace(
        Situation(),
        streets=streets,
        communities=communities,
        grids=grids,
        households=households,
        community_size_sd=draw(st.floats(0.0, 2.0)),
    )


def cohesive(cohesion: float, **changes) -> Situation:
    """A district of new builds (no cohesion bonus or penalty by type) of one cohesion."""
    return dataclasses.replace(
        Situation(),
        households=2000,
        grids=10,
        communities=5,
        streets=1,
        cohesion_mean=cohesion,
        cohesion_sd=0.0,
        share_old_estate=0.0,
        share_urban_village=0.0,
        **changes,
    )


# ----- structure ----------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(situations(), st.integers(0, 2**32 - 1))
def test_structure_sizes_add_up(sit, seed):
    s = build_structure(sit, np.random.default_rng(seed))
    assert s.n_households == sit.households and s.n_communities == sit.communities
    assert len(s.grid_comm) == sit.grids
    # every grid has at least one household and households are stored grid by grid
    per_grid = np.bincount(s.hh_grid, minlength=sit.grids)
    assert per_grid.min() >= 1 and per_grid.sum() == sit.households
    assert np.all(np.diff(s.hh_grid) >= 0)
    # every grid lies in exactly one community, each community has a grid
    assert np.all(np.bincount(s.grid_comm, minlength=sit.communities) >= 1)
    assert np.array_equal(s.hh_comm, s.grid_comm[s.hh_grid])
    # streets cover the communities, and every street has one
    assert s.comm_street.min() >= 0 and s.comm_street.max() < sit.streets
    assert np.all(np.bincount(s.comm_street, minlength=sit.streets) >= 1)
    for arr in (s.capacity, s.resources, s.cohesion):
        assert arr.shape == (sit.communities,) and np.all((arr > 0) & (arr < 1))
    assert set(np.unique(s.ctype)) <= {0, 1, 2}


def test_community_types_follow_the_shares():
    sit = dataclasses.replace(
        Situation(),
        communities=300,
        grids=300,
        households=300,
        streets=1,
        share_old_estate=1.0,
        share_urban_village=0.0,
    )
    sit.check()
    s = build_structure(sit, np.random.default_rng(0))
    assert np.all(s.ctype == 0)
    sit = dataclasses.replace(sit, share_old_estate=0.0, share_urban_village=0.0)
    assert np.all(build_structure(sit, np.random.default_rng(0)).ctype == 1)


def test_urban_villages_have_lower_capacity():
    base = dataclasses.replace(
        Situation(), communities=200, grids=200, households=200, streets=1, capacity_sd=0.0
    )
    nb = build_structure(
        dataclasses.replace(base, share_old_estate=0.0, share_urban_village=0.0),
        np.random.default_rng(1),
    )
    uv = build_structure(
        dataclasses.replace(base, share_old_estate=0.0, share_urban_village=1.0),
        np.random.default_rng(1),
    )
    assert uv.capacity.mean() < nb.capacity.mean()


# ----- resident ties ------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(situations(), st.integers(0, 2**32 - 1))
def test_resident_ties_stay_within_communities(sit, seed):
    rng = np.random.default_rng(seed)
    s = build_structure(sit, rng)
    e = resident_ties(s, rng)
    if len(e):
        assert np.array_equal(s.hh_comm[e[:, 0]], s.hh_comm[e[:, 1]])
        assert np.all(e[:, 0] < e[:, 1])  # each once, no self-loops
        assert len(np.unique(e, axis=0)) == len(e)
        assert e.max() < sit.households


def mean_degree_and_clustering(cohesion: float, seed: int = 3) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    s = build_structure(cohesive(cohesion), rng)
    e = resident_ties(s, rng)
    g = nx.Graph()
    g.add_nodes_from(range(s.n_households))
    g.add_edges_from(e.tolist())
    return 2 * len(e) / s.n_households, nx.average_clustering(g)


def test_mean_degree_and_clustering_rise_with_cohesion():
    deg = []
    clu = []
    for c in (0.1, 0.5, 0.9):
        d, k = mean_degree_and_clustering(c)
        deg.append(d)
        clu.append(k)
    assert deg[0] < deg[1] < deg[2]
    assert clu[0] < clu[1] < clu[2]
    assert deg[0] >= 1.5  # everyone still has a few ties at low cohesion
    assert deg[2] <= 6.0  # ring lattice: at most 2 x 3 neighbours


def test_adjacency_is_row_normalised():
    e = np.array([[0, 1], [0, 2], [1, 2]])
    a = adjacency(e, 4).toarray()
    assert np.allclose(a.sum(axis=1), [1, 1, 1, 0])  # household 3 is isolated
    assert a[0, 1] == pytest.approx(0.5) and a[1, 0] == pytest.approx(0.5)
    assert np.all(np.diag(a) == 0)


# ----- ties between households and cadres ---------------------------------------------
def test_tie_table_adds_finds_and_decays():
    t = TieTable()
    t.add_many(np.array([0, 1]), np.array([7, 7]), np.array([0.5, 0.2]), np.array([0.6, 0.6]))
    assert t.familiarity_of(0, 7) == 0.5 and t.familiarity_of(1, 7) == 0.2
    assert t.familiarity_of(2, 7) == 0.0  # strangers
    i = t.get_or_add(2, 7, trust=0.35)
    assert i == 2 and t.trust[i] == 0.35 and t.familiarity[i] == 0.0
    assert t.get_or_add(2, 7, trust=0.9) == i  # no duplicate, trust kept
    assert t.trust[i] == 0.35 and t.of_household(2) == [i]
    t.decay(0.1)
    assert t.familiarity_of(0, 7) == pytest.approx(0.45)
    assert t.familiarity_of(1, 7) == pytest.approx(0.18)


def test_tie_table_grows_beyond_its_first_allocation():
    t = TieTable()
    for h in range(3000):
        t.get_or_add(h, h % 7, trust=h / 3000)
    assert t.n == 3000
    assert t.trust[2999] == pytest.approx(2999 / 3000)
    assert t.tie(1500, 1500 % 7) == 1500 and t.tie(1500, 1) == -1


def test_tie_table_adds_in_bulk_as_one_by_one():
    """A day's contacts at once: the same tie indices, priors and household lists as
    get_or_add pair by pair, repeats and ties added one at a time included."""
    rng = np.random.default_rng(3)
    hh = rng.integers(0, 40, 300)
    cad = rng.integers(0, 6, 300)
    prior = rng.random(300)
    one, bulk = TieTable(), TieTable()
    for t in (one, bulk):
        t.add_many(np.array([1, 2]), np.array([3, 3]), np.array([0.5, 0.2]), np.array([0.6, 0.7]))
        t.get_or_add(5, 0, 0.4)  # merged into the sorted keys at the next lookup
    expected = [one.get_or_add(h, c, p) for h, c, p in zip(hh, cad, prior, strict=True)]
    got = bulk.get_or_add_many(hh, cad, prior)
    assert got.tolist() == expected
    assert bulk.n == one.n
    assert [bulk.of_household(h) for h in range(40)] == [one.of_household(h) for h in range(40)]
    assert np.array_equal(bulk.hh[: bulk.n], one.hh[: one.n])
    assert np.array_equal(bulk.sorted_pairs()[0], one.sorted_pairs()[0])
    assert np.array_equal(bulk.sorted_pairs()[1], one.sorted_pairs()[1])
    assert np.array_equal(bulk.trust[: bulk.n], one.trust[: one.n])
    assert np.array_equal(bulk.cadre[: bulk.n], one.cadre[: one.n])
    assert bulk.lookup(np.array([1, 2, 39]), np.array([3, 9, 9])).tolist() == [0, -1, -1]


def test_graph_holds_every_household_and_tie():
    sit = cohesive(0.5)
    rng = np.random.default_rng(0)
    s = build_structure(sit, rng)
    e = resident_ties(s, rng)
    g = build_graph(s, e)
    assert g.number_of_nodes() == sit.households and g.number_of_edges() == len(e)
    h = 17
    assert g.nodes[("household", h)]["community"] == s.hh_comm[h]
    assert g.nodes[("household", h)]["grid"] == s.hh_grid[h]


def test_model_graph_has_cadres_organisations_and_synced_weights(small_model):
    m = small_model(days=5)
    kinds = {d["kind"] for _, d in m.graph.nodes(data=True)}
    assert {"household", "sunk", "community", "sending_unit", "street_office"} <= kinds
    sub = m.sync_graph(community=0)
    comms = {d.get("community") for n, d in sub.nodes(data=True) if n[0] == "household"}
    assert comms == {0}
    fam = [d for _, _, d in sub.edges(data=True) if d["kind"] == "familiar"]
    assert fam and all(0 <= d["weight"] <= 1 and 0 <= d["trust"] <= 1 for d in fam)
    whole = m.sync_graph()
    assert whole.number_of_nodes() >= sub.number_of_nodes()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), batches=st.integers(1, 30))
def test_tie_lookup_finds_every_pair_whichever_table_holds_it(seed, batches):
    """New ties wait in the recent table until it is large enough to merge into the main
    one; a pair is found, with its tie, wherever it is."""
    rng = np.random.default_rng(seed)
    t, known, seen_recent = TieTable(), {}, False
    for _ in range(batches):
        hh, cad = rng.integers(0, 50, 40), rng.integers(0, 30, 40)
        idx = t.get_or_add_many(hh, cad, rng.random(40))
        for h, c, i in zip(hh.tolist(), cad.tolist(), idx.tolist(), strict=True):
            assert known.setdefault((h, c), i) == i
        main, _, recent, _ = t.key_tables()
        assert len(recent) <= TieTable.RECENT_SHARE * len(main)
        seen_recent = seen_recent or len(recent) > 0
    pairs = np.array(list(known))
    assert t.lookup(pairs[:, 0], pairs[:, 1]).tolist() == list(known.values())
    assert t.lookup(np.array([0, 49]), np.array([30, 31])).tolist() == [-1, -1]
    keys, kidx = t.sorted_pairs()
    assert np.all(np.diff(keys) > 0) and sorted(kidx.tolist()) == list(range(t.n))
    assert seen_recent or batches < 20  # long runs look pairs up in both tables


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 400), span=st.integers(1, 50))
def test_unique_first_is_numpys_unique(seed, n, span):
    values = np.random.default_rng(seed).integers(0, span, n)
    got = unique_first(values)
    want = np.unique(values, return_index=True, return_inverse=True)
    assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
