"""The district's structure and its networkx graph, with tie weights kept in arrays.

Seeds: 003 (cohesion sets density and clustering of resident ties), 001/000 (cadres start
as strangers; familiarity grows with contact and decays), 004 (district → street →
community → grid → household).

The graph (``CollaborationModel.graph``) is the record of who is tied to whom: households, cadres
and organisations are nodes, edges carry a ``kind``. Weights that change every day
(familiarity, trust) live in numpy arrays (:class:`TieTable`, ``CollaborationModel.cc_trust``),
because a district has hundreds of thousands of ties; :meth:`CollaborationModel.sync_graph`
copies the current weights onto the graph when a notebook or the app wants to draw it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp

from saca.model.situation import Situation

COMMUNITY_TYPES = ("old_estate", "new_build", "urban_village")


@dataclass
class Structure:
    """Who lives where: index arrays over households, grids and communities.

    Args:
        hh_grid: grid of each household.
        hh_comm: community of each household.
        grid_comm: community of each grid.
        comm_street: street office of each community.
        capacity: self-governance capacity per community.
        resources: resources per community.
        cohesion: cohesion per community.
        ctype: community type index (into COMMUNITY_TYPES) per community.
        has_social_org: whether a social organisation works in the community.
    """

    hh_grid: np.ndarray
    hh_comm: np.ndarray
    grid_comm: np.ndarray
    comm_street: np.ndarray
    capacity: np.ndarray
    resources: np.ndarray
    cohesion: np.ndarray
    ctype: np.ndarray
    has_social_org: np.ndarray

    @property
    def n_households(self) -> int:
        """Number of households."""
        return len(self.hh_grid)

    @property
    def n_communities(self) -> int:
        """Number of communities."""
        return len(self.comm_street)

    @functools.cached_property
    def households_per_community(self) -> np.ndarray:
        """Number of households of each community (counted once: read every day)."""
        return np.bincount(self.hh_comm, minlength=self.n_communities)

    @property
    def hh_street(self) -> np.ndarray:
        """Street office of each household."""
        return self.comm_street[self.hh_comm]


def _spread(total: int, bins: int, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Split ``total`` items over ``bins`` bins, at least one each, proportional to weights."""
    return 1 + rng.multinomial(total - bins, weights / weights.sum())


def _condition(mean: float, sd: float, n: int, rng: np.random.Generator) -> np.ndarray:
    return np.clip(rng.normal(mean, sd, n), 0.02, 0.98)


def build_structure(sit: Situation, rng: np.random.Generator) -> Structure:
    """Draw the district: community sizes, grids, households and community conditions.

    Args:
        sit: the situation parameters.
        rng: the model's random generator.
    """
    n_c = sit.communities
    size_w = rng.lognormal(0.0, sit.community_size_sd, n_c)
    grids_per_comm = _spread(sit.grids, n_c, size_w, rng)
    grid_comm = np.repeat(np.arange(n_c), grids_per_comm)
    hh_per_grid = _spread(sit.households, sit.grids, np.ones(sit.grids), rng)
    hh_grid = np.repeat(np.arange(sit.grids), hh_per_grid)
    comm_street = rng.permutation(np.arange(n_c) % sit.streets)
    shares = np.array(
        [
            sit.share_old_estate,
            1 - sit.share_old_estate - sit.share_urban_village,
            sit.share_urban_village,
        ]
    )
    ctype = rng.choice(3, size=n_c, p=np.clip(shares, 0, 1) / np.clip(shares, 0, 1).sum())
    # Urban villages have weaker self-governance; old estates older, denser neighbourhoods.
    capacity = _condition(sit.capacity_mean, sit.capacity_sd, n_c, rng)
    capacity = np.where(ctype == 2, capacity * 0.8, capacity)
    cohesion = _condition(sit.cohesion_mean, sit.cohesion_sd, n_c, rng)
    cohesion = np.clip(cohesion + np.array([0.1, -0.1, 0.0])[ctype], 0.02, 0.98)
    return Structure(
        hh_grid=hh_grid.astype(np.int32),
        hh_comm=grid_comm[hh_grid].astype(np.int32),
        grid_comm=grid_comm.astype(np.int32),
        comm_street=comm_street.astype(np.int32),
        capacity=capacity,
        resources=_condition(sit.resources_mean, sit.resources_sd, n_c, rng),
        cohesion=cohesion,
        ctype=ctype.astype(np.int8),
        has_social_org=rng.random(n_c) < sit.social_org_share,
    )


def resident_ties(st: Structure, rng: np.random.Generator) -> np.ndarray:
    """Resident–resident ties: a ring lattice inside each grid, rewired inside the community.

    Cohesion sets both density (lattice degree 2 to 6) and clustering (the rewiring share
    falls as cohesion rises), a Watts–Strogatz graph per grid.

    Args:
        st: the district structure.
        rng: the model's random generator.

    Returns:
        An (E, 2) int array of undirected edges, each once, without self-loops.
    """
    n = st.n_households
    grid_start = np.searchsorted(st.hh_grid, np.arange(st.hh_grid.max() + 1))
    grid_size = np.bincount(st.hh_grid)
    pos = np.arange(n) - grid_start[st.hh_grid]
    size = grid_size[st.hh_grid]
    coh = st.cohesion[st.hh_comm]
    half_k = 1 + np.rint(2 * coh).astype(int)
    comm_start = np.searchsorted(st.hh_comm, np.arange(st.n_communities))
    comm_size = np.bincount(st.hh_comm, minlength=st.n_communities)
    edges = []
    for d in range(1, 4):
        src = np.flatnonzero((half_k >= d) & (size > d))
        dst = grid_start[st.hh_grid[src]] + (pos[src] + d) % size[src]
        rewire = rng.random(len(src)) < 0.5 * (1 - coh[src])
        c = st.hh_comm[src[rewire]]
        dst[rewire] = comm_start[c] + (rng.random(rewire.sum()) * comm_size[c]).astype(int)
        edges.append(np.stack([src, dst], axis=1))
    e = np.concatenate(edges) if edges else np.empty((0, 2), int)
    e = e[e[:, 0] != e[:, 1]]
    # Each pair once, sorted: np.unique on one int64 key per pair, which orders them as
    # np.unique(..., axis=0) does (households are non-negative and below 2³¹) but faster.
    e = np.sort(e, axis=1).astype(np.int64)
    key, _, _ = unique_first((e[:, 0] << 32) | e[:, 1])
    return np.stack([key >> 32, key & 0xFFFFFFFF], axis=1).astype(np.int32)


def unique_first(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sorted distinct values, the index of each one's first occurrence and each
    value's position among them: ``np.unique(values, return_index=True,
    return_inverse=True)``, by one stable sort (numpy 2.5's np.unique is ten to fifty
    times slower on integers).

    Args:
        values: a one-dimensional array.
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.ones(len(values), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], order[new], inverse


def adjacency(edges: np.ndarray, n: int) -> sp.csr_array:
    """Row-normalised adjacency of resident ties, for word of mouth.

    Args:
        edges: (E, 2) undirected edges.
        n: number of households.
    """
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    a = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    deg = np.asarray(a.sum(axis=1)).ravel()
    inv = np.divide(1.0, deg, out=np.zeros(n), where=deg > 0)
    return sp.csr_array(sp.diags_array(inv) @ a)


class TieTable:
    """Cadre–resident familiarity ties with the resident's trust in that cadre.

    Ties are created on first contact (or at start for people who already know each
    other) and kept in growable arrays, numbered in the order they were made. The pairs
    are kept as sorted int64 keys ``household << 32 | cadre`` so that a day's contacts are
    looked up and added at once (:meth:`lookup`, :meth:`get_or_add_many`);
    :meth:`of_household` lists one household's ties.
    """

    def __init__(self) -> None:
        self.hh = np.empty(1024, np.int32)
        self.cadre = np.empty(1024, np.int32)
        self.familiarity = np.empty(1024, np.float64)
        self.trust = np.empty(1024, np.float64)
        self.n = 0
        # Sorted pair keys and their tie indices, for the first ``_sorted_n`` ties (the
        # others are merged in when next looked up), in two tables: the recent ties, merged
        # into the main table only once they reach a share of it (RECENT_SHARE), so that a
        # day's few thousand new ties do not rewrite a million keys.
        self._keys = np.empty(0, np.int64)
        self._kidx = np.empty(0, np.int64)
        self._recent_keys = np.empty(0, np.int64)
        self._recent_kidx = np.empty(0, np.int64)
        self._sorted_n = 0

    #: The recent table is merged into the main one when it holds this share of it.
    RECENT_SHARE = 1 / 16

    @staticmethod
    def _key(hh: np.ndarray, cadre: np.ndarray) -> np.ndarray:
        """One int64 per (household, cadre) pair (both below 2³¹)."""
        return (np.asarray(hh, np.int64) << 32) | np.asarray(cadre, np.int64)

    def _sync(self) -> None:
        """Merge the ties added since the last lookup into the sorted keys."""
        from saca.agents import passes  # compiled on first use (numba)

        lo, hi = self._sorted_n, self.n
        if lo == hi:
            return
        new = self._key(self.hh[lo:hi], self.cadre[lo:hi])
        order = np.argsort(new, kind="stable")
        self._recent_keys, self._recent_kidx = passes.merge_sorted(
            self._recent_keys, self._recent_kidx, new[order], lo + order
        )
        if len(self._recent_keys) > self.RECENT_SHARE * len(self._keys):
            self._keys, self._kidx = passes.merge_sorted(
                self._keys, self._kidx, self._recent_keys, self._recent_kidx
            )
            self._recent_keys = self._recent_keys[:0]
            self._recent_kidx = self._recent_kidx[:0]
        self._sorted_n = hi

    def key_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The pair keys (``household << 32 | cadre``) of every tie in two sorted tables,
        main and recent, each key with its tie: what :meth:`lookup` searches, for
        compiled code to search the same way (a pair is in one table or the other)."""
        self._sync()
        return self._keys, self._kidx, self._recent_keys, self._recent_kidx

    def sorted_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every tie's pair key, sorted, and the tie of each key (both tables merged)."""
        from saca.agents import passes  # compiled on first use (numba)

        keys, kidx, recent, recent_idx = self.key_tables()
        return passes.merge_sorted(keys, kidx, recent, recent_idx)

    def lookup(self, hh: np.ndarray, cadre: np.ndarray) -> np.ndarray:
        """Tie index of each (household, cadre) pair, -1 where they have no tie.

        Args:
            hh: household indices.
            cadre: cadre indices (same length).
        """
        self._sync()
        q = self._key(hh, cadre)
        out = np.full(len(q), -1, np.int64)
        for keys, kidx in ((self._keys, self._kidx), (self._recent_keys, self._recent_kidx)):
            if len(keys) == 0 or len(q) == 0:
                continue
            pos = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
            hit = keys[pos] == q
            out[hit] = kidx[pos[hit]]
        return out

    def tie(self, h: int, c: int) -> int:
        """Tie index of one (household, cadre) pair, -1 if they have none.

        Args:
            h: household index.
            c: cadre index.
        """
        return int(self.lookup(np.array([h]), np.array([c]))[0])

    def of_household(self, h: int) -> list[int]:
        """The ties of one household, in the order they were made (a scan of every tie:
        for inspecting a household, not for the daily step).

        Args:
            h: household index.
        """
        return np.flatnonzero(self.hh[: self.n] == h).tolist()

    def get_or_add_many(self, hh: np.ndarray, cadre: np.ndarray, trust: np.ndarray) -> np.ndarray:
        """Tie index of each pair, creating stranger ties for new pairs: the same indices,
        in the same order, as :meth:`get_or_add` called pair by pair (a new pair's tie
        is numbered at its first appearance and takes that contact's prior trust).

        Args:
            hh: household indices.
            cadre: cadre indices.
            trust: each contact's prior trust in that kind of cadre, for a new tie.
        """
        idx = self.lookup(hh, cadre)
        miss = np.flatnonzero(idx < 0)
        if len(miss) == 0:
            return idx
        keys, first, inv = unique_first(self._key(hh[miss], cadre[miss]))
        by_first = np.argsort(first, kind="stable")
        number = np.empty(len(keys), np.int64)
        number[by_first] = self.n + np.arange(len(keys))
        idx[miss] = number[inv]
        src = miss[first[by_first]]  # the contact that creates each new tie, in order
        k = len(src)
        self._grow(self.n + k)
        sl = slice(self.n, self.n + k)
        self.hh[sl], self.cadre[sl] = hh[src], cadre[src]
        self.familiarity[sl], self.trust[sl] = 0.0, trust[src]
        self.n += k
        return idx

    def _grow(self, need: int) -> None:
        size = len(self.hh)
        if need <= size:
            return
        new = max(need, 2 * size)
        for name in ("hh", "cadre", "familiarity", "trust"):
            arr = getattr(self, name)
            grown = np.empty(new, arr.dtype)
            grown[: self.n] = arr[: self.n]
            setattr(self, name, grown)

    def add_many(
        self, hh: np.ndarray, cadre: np.ndarray, fam: np.ndarray, trust: np.ndarray
    ) -> None:
        """Add ties in bulk (at initialisation); pairs must be new.

        Args:
            hh: household indices.
            cadre: cadre indices.
            fam: initial familiarity per tie.
            trust: initial trust per tie.
        """
        k = len(hh)
        self._grow(self.n + k)
        sl = slice(self.n, self.n + k)
        self.hh[sl], self.cadre[sl], self.familiarity[sl], self.trust[sl] = hh, cadre, fam, trust
        self.n += k

    def get_or_add(self, h: int, c: int, trust: float) -> int:
        """Return the tie index of (household, cadre), creating a stranger tie if absent.

        Args:
            h: household index.
            c: cadre index.
            trust: the household's prior trust in this kind of cadre, for a new tie.
        """
        idx = self.tie(h, c)
        if idx < 0:
            self._grow(self.n + 1)
            idx = self.n
            self.hh[idx], self.cadre[idx] = h, c
            self.familiarity[idx], self.trust[idx] = 0.0, trust
            self.n += 1
        return idx

    def familiarity_of(self, h: int, c: int) -> float:
        """Familiarity between a household and a cadre (0 for strangers).

        Args:
            h: household index.
            c: cadre index.
        """
        idx = self.tie(h, c)
        return 0.0 if idx < 0 else self.familiarity.item(idx)

    def decay(self, rate: float) -> None:
        """Let every familiarity decay by one day without contact.

        Args:
            rate: the daily decay rate.
        """
        self.familiarity[: self.n] *= 1.0 - rate


def build_graph(st: Structure, resident_edges: np.ndarray) -> nx.Graph:
    """The structural graph: households, grids' resident ties, nodes tagged with location.

    Cadres and organisations are added by the model as it creates them. Nodes are
    ``("household", i)``, ``("cadre", unique_id)`` and ``("org", unique_id)``.

    Args:
        st: the district structure.
        resident_edges: (E, 2) resident–resident ties.
    """
    g = nx.Graph()
    g.add_nodes_from(
        (("household", h), {"kind": "household", "community": c, "grid": gr})
        for h, (c, gr) in enumerate(zip(st.hh_comm.tolist(), st.hh_grid.tolist(), strict=True))
    )
    g.add_edges_from(
        (("household", a), ("household", b), {"kind": "neighbour"})
        for a, b in resident_edges.tolist()
    )
    return g
