"""Building the district: organisations, cadres with their traits, and the first ties."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np

from saca.agents import (
    CityPlatform,
    CommunityCadre,
    Households,
    PropertyFirm,
    Resident,
    SendingUnit,
    SocialOrg,
    StreetOffice,
    SunkCadre,
    TaskForce,
)
from saca.agents import needs as nd
from saca.agents.cadre import Cadre
from saca.agents.cadre_state import CadreState
from saca.agents.queues import Queues
from saca.model.metrics import new_totals
from saca.model.network import (
    TieTable,
    adjacency,
    build_structure,
    resident_ties,
    unique_first,
)

if TYPE_CHECKING:
    import networkx as nx


class Construction:
    """The district's construction at the start of a run (ODD §5), mixed into
    :class:`~saca.model.model.CollaborationModel`: the organisations, the cadres and their
    traits, and the ties that exist before the first day."""

    def _build(self) -> None:
        rng = self.rng
        st = self.structure = build_structure(self.situation, rng)
        edges = resident_ties(st, rng)
        self.resident_edges = edges
        n_h, n_c = st.n_households, st.n_communities
        self.adjacency = adjacency(edges, n_h)
        self.degree = np.bincount(edges.ravel(), minlength=n_h)
        self._graph: nx.Graph | None = None  # built when first read (see graph)
        self.households = Households(self)
        self.residents = [Resident(self, i) for i in range(n_h)]
        self.ties = TieTable()
        self.needs = nd.NeedPool()
        self.cadres: list[Cadre] = []
        # Every cadre's state, one row each; the Cadre agents are views onto it.
        self.cadre_state = CadreState()
        self.hours_by_community = np.zeros(n_c)
        self.daily_totals, self.due_by_community = new_totals(n_c)
        self.relief = 0.0
        self._waste_history: deque[float] = deque()
        # Problems closed on paper, by the day they arise again (see close_on_paper).
        self._resurfacing: dict[int, list[int]] = {}
        self.meeting = np.zeros(n_c, dtype=bool)
        self.surge = np.zeros(self.situation.streets, dtype=bool)
        self.served_today = 0
        # Each household's last hidden need, the top of its stack (see NeedFlow.hide), or -1.
        self.hidden_top = np.full(len(st.hh_comm), -1, dtype=np.int64)
        self._comm_start = np.searchsorted(st.hh_comm, np.arange(n_c + 1))
        self._grid_start = np.searchsorted(st.hh_grid, np.arange(len(st.grid_comm) + 1))
        self.queues = Queues()  # every cadre's queue of needs
        self._kind_idx: dict[type, np.ndarray] = {}  # see CollaborationModel._cadres_of_kind
        self._build_organizations()
        self._build_cadres()
        self.backlog = np.zeros(len(self.cadres))
        # What the command knows of each cadre's load: yesterday's, reported up (seed 000).
        self.reported_backlog = np.zeros(len(self.cadres))
        self._build_ties()
        self._reset_counters()

    def _build_organizations(self) -> None:
        st, sit, pop, rng = self.structure, self.situation, self.population, self.rng
        self.street_offices = [
            StreetOffice(self, street=s, capacity=sit.street_capacity) for s in range(sit.streets)
        ]
        self.city = CityPlatform(self, capacity=sit.city_capacity)
        # Where units sit: Zipf weights over a random order of communities (seed 002).
        rank = rng.permutation(st.n_communities) + 1.0
        where_w = rank**-pop.workplace_concentration
        self.units = []
        for s in range(sit.streets):
            for _ in range(pop.units_per_street):
                self.units.append(
                    SendingUnit(
                        self,
                        street=s,
                        community=int(rng.choice(st.n_communities, p=where_w / where_w.sum())),
                        quality=float(rng.uniform(0.35, 0.65)),
                        resources=float(np.clip(rng.normal(pop.unit_resources, 0.15), 0, 1)),
                    )
                )
        self.social_orgs = [
            SocialOrg(self, community=int(c)) for c in np.flatnonzero(st.has_social_org)
        ]
        hh_per_comm = np.bincount(st.hh_comm, minlength=st.n_communities)
        self.has_firm = st.ctype == 1
        self.community_resources = st.resources.tolist()
        self._firm_queue: dict[int, np.ndarray] = {}
        self._firm_queue_day = -1
        self.firms = {
            int(c): PropertyFirm(
                self, community=int(c), capacity=sit.firm_capacity * hh_per_comm[c]
            )
            for c in np.flatnonzero(st.ctype == 1)
        }
        self.task_force = TaskForce(self) if self.regime.task_force else None

    def _cadre_traits(self, quality: float, experience: float) -> dict[str, Any]:
        rng, pop = self.rng, self.population
        return {
            "skills": np.clip(
                quality + rng.normal(0, pop.skill_sd, len(nd.NEED_TYPES)), 0.02, 0.98
            ),
            # min/max: what np.clip gives for one number, without numpy's call per cadre
            "experience": min(max(float(rng.normal(experience, 0.1)), 0.0), 1.0),
            "motivation": min(
                max(float(rng.normal(pop.motivation_mean, pop.motivation_sd)), 0.05), 1.0
            ),
        }

    def _new_sunk(
        self,
        *,
        mode: str,
        unit: SendingUnit,
        community: int,
        grid: int,
        instructor: bool = False,
        resident: bool = False,
    ) -> SunkCadre:
        pop = self.population
        q = unit.select_quality()
        return SunkCadre(
            self,
            mode=mode,
            unit=unit,
            instructor=instructor,
            community=community,
            grid=grid,
            hours=pop.cadre_hours if mode == "off_post" else pop.in_service_hours,
            reach=2 if instructor else (1 if mode == "off_post" else 0),
            resources=unit.resources,
            # Members serving where they live know it as insiders do (seed 002).
            knowledge=1.0 if resident else self.behaviour.stranger_knowledge,
            **self._cadre_traits(q, pop.sunk_experience * (0.5 + q)),
        )

    def _build_cadres(self) -> None:
        st, pop, reg, rng = self.structure, self.population, self.regime, self.rng
        n_c = st.n_communities
        self.posts: list[list[Cadre]] = [[] for _ in range(len(st.grid_comm))]
        self.committee: list[list[Cadre]] = [[] for _ in range(n_c)]
        self.sunk_in: list[list[SunkCadre]] = [[] for _ in range(n_c)]
        for c in range(n_c):
            for _ in range(pop.committee_per_community):
                q = float(
                    np.clip(rng.normal(pop.committee_quality, pop.community_quality_sd), 0.05, 0.95)
                )
                self.committee[c].append(
                    CommunityCadre(
                        self,
                        role="committee",
                        community=c,
                        grid=-1,
                        hours=pop.cadre_hours,
                        reach=1,
                        resources=pop.community_cadre_resources * float(st.resources[c]),
                        **self._cadre_traits(q, pop.community_experience),
                    )
                )
        for g, c in enumerate(st.grid_comm.tolist()):
            for _ in range(pop.grid_workers_per_grid):
                q = float(
                    np.clip(
                        rng.normal(pop.grid_worker_quality, pop.community_quality_sd), 0.05, 0.95
                    )
                )
                self.posts[g].append(
                    CommunityCadre(
                        self,
                        role="grid_worker",
                        community=c,
                        grid=g,
                        hours=pop.cadre_hours,
                        reach=0,
                        resources=pop.community_cadre_resources * float(st.resources[c]),
                        **self._cadre_traits(q, pop.community_experience),
                    )
                )
        units_by_street = [
            [u for u in self.units if u.street == s] for s in range(self.situation.streets)
        ]
        grids_of = [np.flatnonzero(st.grid_comm == c) for c in range(n_c)]
        n_off = round(reg.off_post_share * pop.sunk_per_community)
        for c in range(n_c):
            units = units_by_street[st.comm_street[c]]
            for k in range(n_off):
                g = int(grids_of[c][k % len(grids_of[c])])
                cad = self._new_sunk(
                    mode="off_post", unit=units[int(rng.integers(len(units)))], community=c, grid=g
                )
                self.posts[g].append(cad)
            if reg.grid_instructors:
                self._new_sunk(
                    mode="off_post",
                    unit=units[int(rng.integers(len(units)))],
                    community=c,
                    grid=-1,
                    instructor=True,
                )
        # In-service members report where they live, or where their unit sits (seed 002).
        n_in = (pop.sunk_per_community - n_off) * n_c
        hh_home = rng.integers(st.n_households, size=n_in)
        self._in_service_homes: dict[int, int] = {}
        for home in hh_home.tolist():
            unit = self.units[int(rng.integers(len(self.units)))]
            if reg.assignment_basis == "residence":
                c, g = int(st.hh_comm[home]), int(st.hh_grid[home])
            else:
                c = unit.community
                g = int(rng.choice(grids_of[c]))
            cad = self._new_sunk(
                mode="in_service",
                unit=unit,
                community=c,
                grid=g,
                resident=reg.assignment_basis == "residence",
            )
            self.posts[g].append(cad)
            if reg.assignment_basis == "residence":
                self._in_service_homes[cad.idx] = home
        for cad in self.cadres:
            if isinstance(cad, SunkCadre):
                self.sunk_in[cad.community].append(cad)
        # Full-time cadres the street's command can pool across its communities (P15).
        full_time = np.array([not c.is_sunk or c.mode == "off_post" for c in self.cadres])
        street_of = st.comm_street[np.array([c.community for c in self.cadres], dtype=int)]
        self.street_cadres = [
            np.flatnonzero(full_time & (street_of == s)) for s in range(self.situation.streets)
        ]
        self.cadre_hours = np.array([c.hours for c in self.cadres])
        self.cadre_full_time = np.array([c.full_time for c in self.cadres], dtype=bool)
        self.street_in_service = [
            np.flatnonzero(~self.cadre_full_time & (street_of == s))
            for s in range(self.situation.streets)
        ]
        self.sunk_idx = [np.array([s.idx for s in sunk], dtype=np.int64) for sunk in self.sunk_in]
        # The command's pools by index: posts of each grid, each committee, each community.
        self._post_idx = [[p.idx for p in posted] for posted in self.posts]
        self._committee_idx = [[x.idx for x in members] for members in self.committee]
        self._has_committee = np.array([bool(members) for members in self.committee])
        self._community_idx = [[] for _ in range(n_c)]
        for cad in self.cadres:
            self._community_idx[cad.community].append(cad.idx)
        self.cadre_is_sunk = np.array([c.is_sunk for c in self.cadres], dtype=bool)
        self.cadre_comm = np.array([c.community for c in self.cadres], dtype=np.int64)
        self._comm_street = np.asarray(self.structure.comm_street, dtype=np.int64)
        self._pools = None  # the command's pools as compressed rows (Allocation._posting_pools)
        self.skill_matrix = np.array([c.skills for c in self.cadres]).reshape(-1, 5)
        # Offloading (seed 001): community cadres push part of their administrative load
        # onto the off-post cadres of their community when there is no duty boundary.
        off_post = np.bincount(
            [c.community for c in self.cadres if isinstance(c, SunkCadre) and c.mode == "off_post"],
            minlength=n_c,
        )
        n_comm_cadres = np.bincount(
            [c.community for c in self.cadres if not c.is_sunk], minlength=n_c
        )
        b = self.behaviour
        share = b.offload_admin_share * b.offload_propensity if reg.offloading_allowed else 0.0
        self.offload_share = np.where(off_post > 0, share, 0.0)
        self.offloaded_admin = (
            pop.admin_hours * self.offload_share * n_comm_cadres / np.maximum(off_post, 1)
        )

    def _build_ties(self) -> None:
        """Who knows whom at the start (seed 000, 002): residents know their grid workers
        and a committee member; in-service members know the neighbours around their home;
        off-post cadres are strangers. Sunk and community cadres of one community hold
        working ties, starting at a guarded 0.4 (the compatibility barrier)."""
        st, rng, hhs, pop = self.structure, self.rng, self.households, self.population
        hh_list, cad_list, fam_list = [], [], []
        for g, posted in enumerate(self.posts):
            members = np.arange(self._grid_start[g], self._grid_start[g + 1])
            for cad in posted:
                if isinstance(cad, CommunityCadre):
                    hh_list.append(members)
                    cad_list.append(np.full(len(members), cad.idx))
                    fam_list.append(np.full(len(members), pop.grid_familiarity))
        for c, members_c in enumerate(self.committee):
            members = np.arange(self._comm_start[c], self._comm_start[c + 1])
            if members_c:
                pick = rng.integers(len(members_c), size=len(members))
                hh_list.append(members)
                cad_list.append(np.array([members_c[i].idx for i in pick]))
                fam_list.append(np.full(len(members), pop.committee_familiarity))
        for idx, home in self._in_service_homes.items():
            g = int(st.hh_grid[home])
            members = np.arange(self._grid_start[g], self._grid_start[g + 1])
            near = rng.choice(members, size=min(pop.neighbours_known, len(members)), replace=False)
            hh_list.append(near)
            cad_list.append(np.full(len(near), idx))
            fam_list.append(np.full(len(near), pop.neighbour_familiarity))
        if hh_list:
            hh = np.concatenate(hh_list).astype(np.int32)
            cad = np.concatenate(cad_list).astype(np.int32)
            fam = np.concatenate(fam_list)
            # each pair once, at its first listing, in pair order (as np.unique on rows)
            _, first, _ = unique_first((hh.astype(np.int64) << 32) | cad)
            hh, cad, fam = hh[first], cad[first], fam[first]
            sunk = self.cadre_is_sunk[cad]
            prior = np.where(
                sunk,
                np.maximum(hhs.opinion_sunk[hh], hhs.opinion_community[hh]),
                hhs.opinion_community[hh],
            )
            self.ties.add_many(hh, cad, fam, prior)
        pairs = [
            (s.idx, c.idx)
            for comm in range(st.n_communities)
            for s in self.sunk_in[comm]
            for c in [
                *self.committee[comm],
                *[
                    p
                    for g in np.flatnonzero(st.grid_comm == comm)
                    for p in self.posts[g]
                    if not p.is_sunk
                ],
            ]
        ]
        arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        self.cc_sunk, self.cc_comm = arr[:, 0], arr[:, 1]
        self._cc_index = {(s, c): i for i, (s, c) in enumerate(arr.tolist())}
        self._cc_of_sunk: dict[int, np.ndarray] = {}
        order = np.argsort(self.cc_sunk, kind="stable")
        bounds = np.flatnonzero(np.diff(self.cc_sunk[order])) + 1
        for part in np.split(order, bounds):
            if len(part):
                self._cc_of_sunk[int(self.cc_sunk[part[0]])] = part
        self.cc_trust = np.full(len(arr), self.behaviour.initial_working_trust)
        self._cadre_trust_mean = np.full(len(self.cadres), self.behaviour.initial_working_trust)
        self._refresh_cadre_trust()

    # ===== situation ==================================================================
