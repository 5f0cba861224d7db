"""CollaborationModel: setup of the district and the daily step of the SACA model.

One step is one day. The step runs the stages of DESIGN §3.4 in order: situation,
needs, self-help, reporting, allocation (by post or by claiming), work, trust, burnout and
motivation, correction, collection. Each stage cites its seed in the method that runs it;
``docs/ODD.md`` gives the equations.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import mesa
import numpy as np
import pandas as pd

from agents import (
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
from agents.cadre import Cadre
from model import needs as nd
from model.metrics import METRICS, daily_metrics, new_totals, summarise
from model.network import TieTable, adjacency, build_graph, build_structure, resident_ties
from model.regime import Regime
from model.scenario import Scenario, apply_overrides, load_regime, load_scenario
from model.situation import PHASES

CLAIM_WAIT = 2  # days an unclaimed task waits on the list before the command assigns it
POOL_BACKLOG = 2.0  # backlog, in days of work, at which the command pools across communities


class CollaborationModel(mesa.Model):
    """The SACA model of constructive vs autonomous collaboration in a district.

    Mesa 3.5's ``Model`` has a ``scenario`` argument of its own (its experimental
    Scenario class). Ours is a different thing (situation + population), so it is
    consumed here and kept as ``model.spec``; Mesa's ``model.scenario`` is left alone.

    Args:
        scenario: a scenario name, TOML path or :class:`Scenario`.
        regime: a regime name, TOML path or :class:`Regime`.
        rng: seed (int or ``numpy.random.SeedSequence``) or a numpy Generator.
        overrides: dotted-key overrides, e.g. ``{"regime.information": 1.0}``.
        **params: more dotted-key overrides given as keyword arguments, e.g.
            ``CollaborationModel(**{"regime.information": 1.0})``: the form
            ``mesa.batch_run(CollaborationModel, {"regime.information": [0, 1]})`` passes.

    Mesa conventions: ``running`` turns False after the timeline's last day, so
    ``while model.running: model.step()`` and ``mesa.batch_run`` stop at the scenario's
    end; ``datacollector`` is a ``mesa.DataCollector`` with one model variable per metric
    (``datacollector.get_model_vars_dataframe()`` is :meth:`timeseries` without ``phase``).
    """

    def __init__(
        self,
        scenario: str | Scenario = "baseline",
        regime: str | Regime = "hybrid",
        rng: Any = None,
        *,
        overrides: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        spec = load_scenario(scenario)
        regime_name, reg = load_regime(regime)
        spec, reg = apply_overrides(spec, reg, {**(overrides or {}), **params})
        super().__init__(rng=rng)
        self.spec = spec
        self.regime_name = regime_name
        self.regime = reg
        self.situation = spec.situation
        self.population = spec.population
        self.behaviour = spec.behaviour
        self.day = 0
        self._phase_of_day = np.array(
            [PHASES.index(p.name) for p in self.situation.timeline for _ in range(p.start, p.end)]
        )
        self._set_situation(0)
        self._build()
        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, k=name: m.today[k]) for name in METRICS}
        )

    @property
    def running(self) -> bool:
        """Mesa's run flag: False once the scenario's timeline is over, or when set so."""
        sit = getattr(self, "situation", None)  # Mesa sets the flag before our __init__ runs
        return self._running and (sit is None or self.steps < sit.days)

    @running.setter
    def running(self, value: bool) -> None:
        self._running = bool(value)

    # ===== setup ======================================================================
    def _build(self) -> None:
        rng = self.rng
        st = self.structure = build_structure(self.situation, rng)
        edges = resident_ties(st, rng)
        self.resident_edges = edges
        n_h, n_c = st.n_households, st.n_communities
        self.adjacency = adjacency(edges, n_h)
        self.degree = np.bincount(edges.ravel(), minlength=n_h)
        self.graph = build_graph(st, edges)
        self.households = Households(self)
        self.residents = [Resident(self, i) for i in range(n_h)]
        self.ties = TieTable(n_h)
        self.needs = nd.NeedPool()
        self.cadres: list[Cadre] = []
        self.hours_by_community = np.zeros(n_c)
        self.daily_totals, self.due_by_community = new_totals(n_c)
        self.relief = 0.0
        self._waste_history: deque[float] = deque()
        self._hidden_by_hh: dict[int, list[int]] = {}
        self._comm_start = np.searchsorted(st.hh_comm, np.arange(n_c + 1))
        self._grid_start = np.searchsorted(st.hh_grid, np.arange(len(st.grid_comm) + 1))
        self._build_organizations()
        self._build_cadres()
        self.backlog = np.zeros(len(self.cadres))
        self._build_ties()
        self._reset_counters()

    def _build_organizations(self) -> None:
        st, sit, pop, rng = self.structure, self.situation, self.population, self.rng
        comms_in_street = np.bincount(st.comm_street, minlength=sit.streets)
        self.street_offices = [
            StreetOffice(self, street=s, capacity=sit.street_capacity * comms_in_street[s])
            for s in range(sit.streets)
        ]
        self.city = CityPlatform(self, capacity=sit.city_capacity * st.n_communities)
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
        self._firm_queue, self._firm_queue_day = np.empty(0, np.int64), -1
        self.firms = {
            int(c): PropertyFirm(self, community=int(c), capacity=0.004 * hh_per_comm[c])
            for c in np.flatnonzero(st.ctype == 1)
        }
        self.task_force = TaskForce(self) if self.regime.task_force else None

    def _cadre_traits(self, quality: float, experience: float) -> dict[str, Any]:
        rng, pop = self.rng, self.population
        return {
            "skills": np.clip(
                quality + rng.normal(0, pop.skill_sd, len(nd.NEED_TYPES)), 0.02, 0.98
            ),
            "experience": float(np.clip(rng.normal(experience, 0.1), 0, 1)),
            "motivation": float(
                np.clip(rng.normal(pop.motivation_mean, pop.motivation_sd), 0.05, 1)
            ),
        }

    def _new_sunk(
        self, *, mode: str, unit: SendingUnit, community: int, grid: int, instructor: bool = False
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
                q = float(np.clip(rng.normal(0.55, 0.1), 0.05, 0.95))
                self.committee[c].append(
                    CommunityCadre(
                        self,
                        role="committee",
                        community=c,
                        grid=-1,
                        hours=pop.cadre_hours,
                        reach=1,
                        resources=0.3 * float(st.resources[c]),
                        **self._cadre_traits(q, pop.community_experience),
                    )
                )
        for g, c in enumerate(st.grid_comm.tolist()):
            for _ in range(pop.grid_workers_per_grid):
                q = float(np.clip(rng.normal(0.5, 0.1), 0.05, 0.95))
                self.posts[g].append(
                    CommunityCadre(
                        self,
                        role="grid_worker",
                        community=c,
                        grid=g,
                        hours=pop.cadre_hours,
                        reach=0,
                        resources=0.3 * float(st.resources[c]),
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
            cad = self._new_sunk(mode="in_service", unit=unit, community=c, grid=g)
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
        self.cadre_hours = np.array([c.daily_hours() for c in self.cadres])
        self.sunk_idx = [np.array([s.idx for s in sunk], dtype=np.int64) for sunk in self.sunk_in]
        self.cadre_is_sunk = np.array([c.is_sunk for c in self.cadres], dtype=bool)
        self.cadre_comm = np.array([c.community for c in self.cadres], dtype=np.int64)
        self.skill_matrix = np.array([c.skills for c in self.cadres]).reshape(-1, 5)
        for cad in self.cadres:
            self.graph.add_node(
                ("cadre", cad.unique_id),
                kind="sunk" if cad.is_sunk else "community",
                community=cad.community,
            )
            if isinstance(cad, SunkCadre):
                self.graph.add_edge(
                    ("cadre", cad.unique_id), ("org", cad.unit.unique_id), kind="member"
                )
        for org in [
            *self.units,
            *self.street_offices,
            self.city,
            *self.social_orgs,
            *self.firms.values(),
        ] + ([self.task_force] if self.task_force else []):
            self.graph.add_node(("org", org.unique_id), kind=org.kind)
        # Offloading (seed 001): community cadres push part of their administrative load
        # onto the off-post cadres of their community when there is no duty boundary.
        off_post = np.bincount(
            [c.community for c in self.cadres if isinstance(c, SunkCadre) and c.mode == "off_post"],
            minlength=n_c,
        )
        n_comm_cadres = np.bincount(
            [c.community for c in self.cadres if not c.is_sunk], minlength=n_c
        )
        share = 0.5 * self.behaviour.offload_propensity if reg.offloading_allowed else 0.0
        self.offload_share = np.where(off_post > 0, share, 0.0)
        self.offloaded_admin = (
            pop.admin_hours * self.offload_share * n_comm_cadres / np.maximum(off_post, 1)
        )

    def _build_ties(self) -> None:
        """Who knows whom at the start (seed 000, 002): residents know their grid workers
        and a committee member; in-service members know the neighbours around their home;
        off-post cadres are strangers. Sunk and community cadres of one community hold
        working ties, starting at a guarded 0.4 (the compatibility barrier)."""
        st, rng, hhs = self.structure, self.rng, self.households
        hh_list, cad_list, fam_list = [], [], []
        for g, posted in enumerate(self.posts):
            members = np.arange(self._grid_start[g], self._grid_start[g + 1])
            for cad in posted:
                if isinstance(cad, CommunityCadre):
                    hh_list.append(members)
                    cad_list.append(np.full(len(members), cad.idx))
                    fam_list.append(np.full(len(members), 0.5))
        for c, members_c in enumerate(self.committee):
            members = np.arange(self._comm_start[c], self._comm_start[c + 1])
            if members_c:
                pick = rng.integers(len(members_c), size=len(members))
                hh_list.append(members)
                cad_list.append(np.array([members_c[i].idx for i in pick]))
                fam_list.append(np.full(len(members), 0.2))
        for idx, home in self._in_service_homes.items():
            g = int(st.hh_grid[home])
            members = np.arange(self._grid_start[g], self._grid_start[g + 1])
            near = rng.choice(members, size=min(10, len(members)), replace=False)
            hh_list.append(near)
            cad_list.append(np.full(len(near), idx))
            fam_list.append(np.full(len(near), 0.4))
        if hh_list:
            hh = np.concatenate(hh_list).astype(np.int32)
            cad = np.concatenate(cad_list).astype(np.int32)
            fam = np.concatenate(fam_list)
            hh_cad = np.stack([hh, cad], 1)
            _, first = np.unique(hh_cad, axis=0, return_index=True)
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
        self.cc_trust = np.full(len(arr), 0.4)
        self._cadre_trust_mean = np.full(len(self.cadres), 0.4)
        self._refresh_cadre_trust()

    # ===== situation ==================================================================
    def _set_situation(self, day: int) -> None:
        """Stage 1: phase, risk, need-rate multiplier and volatility for the day (seed 000)."""
        sit = self.situation
        day = min(day, len(self._phase_of_day) - 1)
        self.phase = PHASES[self._phase_of_day[day]]
        self.risk = {
            "normal": sit.baseline_risk,
            "emergency": sit.risk,
            "recovery": 0.5 * (sit.risk + sit.baseline_risk),
        }[self.phase]
        self.rate_multiplier = {
            "normal": 1.0,
            "emergency": sit.emergency_multiplier,
            "recovery": sit.recovery_multiplier,
        }[self.phase]
        self.volatility_today = sit.volatility * (3.0 if self.phase == "emergency" else 1.0)
        r = self.regime
        self.pressure = min(1.0, r.pressure + (0.1 if r.evaluation == "multi" else 0.0))
        # Goal alignment grows with negotiated consensus and resident goals (seed 000).
        self.alignment = 0.5 * r.consensus + 0.5 * r.goals

    @property
    def unreasonable(self) -> float:
        """How unreasonable the mandates still are: mandated visits and paperwork left
        after correction, in [0, 1] (seed 001)."""
        r = self.regime
        mand = min(1.0, r.mandated_visits_per_week / 3.0) + (1 - r.control)
        return min(1.0, 0.5 * mand * (1 - self.relief))

    def paperwork_hours(self) -> float:
        """Daily inspection paperwork per cadre: checklist control, less corrections, plus
        data entry when every event goes into the digital system (seed 001, 003)."""
        b, r = self.behaviour, self.regime
        hours = b.paperwork_hours * (1 - r.control) * (1 - self.relief)
        return hours + (0.0 if r.event_filter else 0.3)

    # ===== the daily step =============================================================
    def step(self) -> None:
        """Advance the model by one day."""
        self.day = self.steps - 1
        self._set_situation(self.day)
        self._reset_counters()
        for cad in self.cadres:
            cad.begin_day()
        new = self.arise_needs()
        new = self.self_help(new)
        self.reporting(new)
        self.assign_by_post(self.needs.waiting(nd.AT_COMMAND, self.day))
        self.claim_tasks()
        for office in self.street_offices:
            office.step()
        self.city.step()
        for firm in self.firms.values():
            firm.step()
        for kind in (SunkCadre, CommunityCadre):
            if kind in self.agents_by_type:  # a population may have none of a kind
                self.agents_by_type[kind].shuffle_do("work")
        self.households.apply_contacts()
        dropped = self.needs.prune(self.day)
        self.households.gave_up(self.needs.hh[dropped])
        self.dropped_today = len(dropped)
        self.refresh_backlog()
        for cad in self.cadres:
            cad.end_day()
        self.update_cadre_trust()
        self.correct()
        self.households.update_opinions()
        self.ties.decay(self.behaviour.familiarity_decay)
        self.today = daily_metrics(self)
        self.datacollector.collect(self)

    def _reset_counters(self) -> None:
        self.created_today = 0
        self.resolved_today = 0
        self.system_resolved_today = 0
        self.dropped_today = 0
        self.offloads_today = 0
        self.households.complaints_today = 0

    # ----- stage 2 and 3: needs and self-help ---------------------------------------
    def arise_needs(self) -> np.ndarray:
        """Stage 2: needs arise per household ~ Poisson(rate × mix × (1 − prevention)).

        Front-loading prevents needs (concave in the degree of front-loading) and, for
        those that still arise, lowers the level needed to solve them (P11, seed 003).
        """
        st, sit, b, r, rng = self.structure, self.situation, self.behaviour, self.regime, self.rng
        mix = nd.TYPE_MIX[PHASES.index(self.phase)]
        f = r.front_loading
        prevention = b.prevention_max * (1 - np.exp(-3 * f)) / (1 - np.exp(-3))
        type_factor = np.array(
            [
                [1.0, 1.0, 1.0, 1.0, 1.6],  # old estate: more facility
                [1.0, 1.0, 1.0, 1.0, 1.0],  # new build
                [1.0, 1.5, 1.0, 1.0, 1.0],
            ]
        )  # urban village: more disputes
        prevent_type = np.array([0.5, 1.0, 0.5, 0.5, 1.0])
        lam = sit.need_rate * self.rate_multiplier * mix * (1 - prevention * prevent_type)
        lam_c = lam * type_factor[st.ctype]  # (communities, types)
        # A community's total is Poisson(λ · size); spreading it uniformly over its
        # households gives each household exactly its own Poisson(λ) count.
        size = np.diff(self._comm_start)
        counts = rng.poisson(lam_c * size[:, None])  # (communities, types)
        comm, ntype = np.nonzero(counts)
        reps = counts[comm, ntype]
        comm, ntype = np.repeat(comm, reps), np.repeat(ntype, reps).astype(np.int8)
        hh = self._comm_start[comm] + (rng.random(len(comm)) * size[comm]).astype(np.int64)
        k = len(hh)
        level = rng.choice(4, size=k, p=nd.LEVEL_MIX)
        if self.phase == "emergency":
            level = np.minimum(level + (rng.random(k) < 0.1), 3)
        level = np.maximum(level - (rng.random(k) < prevention), 0).astype(np.int8)
        factor = 0.5 if self.phase == "emergency" else 1.0
        deadline = self.day + np.ceil(nd.DEADLINE_DAYS[ntype] * factor).astype(np.int32)
        hours = rng.gamma(2.0, b.need_hours / 2.0, k) * (1 + 0.5 * level)
        ids = self.needs.add(
            hh, st.hh_comm[hh], st.hh_grid[hh], ntype, level, self.day, deadline, hours
        )
        self.created_today = k
        return ids

    def self_help(self, ids: np.ndarray) -> np.ndarray:
        """Stage 3: residents solve a share through their own ties (seed 003); return the
        rest."""
        nds = self.needs
        p = self.households.self_help_probability(nds.comm[ids], nds.ntype[ids], nds.hh[ids])
        solved = ids[self.rng.random(len(ids)) < p]
        nds.resolve(solved, self.day)
        nds.self_helped[solved] = True
        self.resolved_today += len(solved)
        return np.setdiff1d(ids, solved)

    # ----- stage 4: reporting -------------------------------------------------------
    def reporting(self, ids: np.ndarray) -> None:
        """Stage 4: each household reports through its most trusted channel; with low
        trust the need stays hidden (seed 000)."""
        hhs, nds = self.households, self.needs
        if len(ids) == 0:
            return
        channels, trusts = zip(*(hhs.choose_channel(h) for h in nds.hh[ids].tolist()), strict=True)
        p = hhs.report_probability(np.array(trusts), nd.URGENCY[nds.ntype[ids]])
        told = self.rng.random(len(ids)) < p
        self.report(ids[told], np.array(channels, dtype=np.int64)[told])
        for nid, h in zip(ids[~told].tolist(), nds.hh[ids[~told]].tolist(), strict=True):
            self._hidden_by_hh.setdefault(h, []).append(nid)

    def hidden_need_of(self, h: int) -> int:
        """A live hidden need of household ``h`` (one a visit could reveal), or -1.

        Args:
            h: household index.
        """
        lst = self._hidden_by_hh.get(h)
        nds = self.needs
        while lst:
            nid = lst.pop()
            if nds.status[nid] == nd.HIDDEN and nds.deadline[nid] >= self.day:
                return nid
        return -1

    def report(self, ids: np.ndarray, channels: np.ndarray) -> None:
        """Put reported needs into the system: to the property firm, up the digital system,
        on the task list or to the command (seed 000, 002, 003, 004), first rule that applies.

        Args:
            ids: the needs.
            channels: the cadre each was reported through, or -1 for the hotline.
        """
        nds, r = self.needs, self.regime
        nds.status[ids] = nd.OPEN
        nds.reported[ids] = True
        nds.channel[ids] = channels
        # A report through the hotline enters the platform above the community and has one
        # more level to come down than one made to a cadre the household knows.
        hotline = channels < 0
        firm = (
            (nds.ntype[ids] == nd.FACILITY) & self.has_firm[nds.comm[ids]] & (nds.level[ids] <= 1)
        )
        self.move(ids[firm], nd.AT_FIRM, hops=0, leaves_grid=False)
        ids, hotline = ids[~firm], hotline[~firm]
        if r.escalation == "central":
            self.move(ids, nd.AT_CITY, hops=1)
            return
        if not r.event_filter:
            self.move(ids, nd.AT_STREET, hops=1)
            return
        listed = self.rng.random(len(ids)) < r.contract
        for extra in (0, 1):
            mine = hotline == bool(extra)
            self.move(ids[listed & mine], nd.AT_LIST, hops=1 + extra, leaves_grid=False)
            self.send_to_command(ids[~listed & mine], extra_hops=extra)

    def report_to_visitor(self, nid: int, cad: Cadre) -> None:
        """A visiting cadre finds a hidden need and takes it on at once (seed 001).

        Args:
            nid: the need.
            cad: the visiting cadre.
        """
        nds = self.needs
        nds.status[nid] = nd.OPEN
        nds.reported[nid] = True
        nds.channel[nid] = cad.idx
        self._to_cadre(nid, cad)

    # ----- stage 5: allocation ------------------------------------------------------
    def delay(self, hops: float, n: int = 1) -> np.ndarray:
        """Days each of ``n`` reports waits climbing ``hops`` levels:
        level_delay × hops × (1 − info), rounded stochastically (seed 000).

        Args:
            hops: hierarchy levels crossed.
            n: how many reports.
        """
        d = self.behaviour.level_delay * hops * (1 - self.regime.information)
        return np.floor(d + self.rng.random(n)).astype(np.int32)

    def move(self, ids: np.ndarray, where: int, *, hops: float, leaves_grid: bool = True) -> None:
        """Send needs to a place, after the hierarchy's delay and detail loss.

        fidelity ← fidelity · (1 − detail_loss)^(hops (1 − information))

        Args:
            ids: the needs.
            where: the destination (needs.AT_*).
            hops: hierarchy levels crossed.
            leaves_grid: whether this counts as leaving the grid (escalation).
        """
        if len(ids) == 0:
            return
        nds, b, r = self.needs, self.behaviour, self.regime
        nds.where[ids] = where
        nds.holder[ids] = -1
        nds.ready[ids] = self.day + self.delay(hops, len(ids))
        nds.fidelity[ids] *= (1 - b.detail_loss) ** (hops * (1 - r.information))
        if leaves_grid:
            self._mark_left_grid(ids)

    def _mark_left_grid(self, ids: np.ndarray) -> None:
        """Count needs handled above the grid (community, street or city) once each."""
        nds = self.needs
        fresh = ids[~nds.left_grid[ids]]
        nds.left_grid[fresh] = True

    def send_to_command(self, ids: np.ndarray, extra_hops: int = 0) -> None:
        """Route needs through the command: up to the community and back down to a post.

        Args:
            ids: the needs.
            extra_hops: further levels already climbed (e.g. back down from the street).
        """
        self.move(ids, nd.AT_COMMAND, hops=2 + extra_hops, leaves_grid=False)

    def _to_cadre(self, nid: int, cad: Cadre) -> None:
        nds = self.needs
        nds.where[nid] = nd.AT_CADRE
        nds.holder[nid] = cad.idx
        cad.queue.append(nid)
        cad.queue_changed = True
        self.backlog[cad.idx] += nds.hours[nid]

    def refresh_backlog(self) -> None:
        """Recount every cadre's backlog (hours of open needs it holds) from the needs.

        Cadres read it through :meth:`Cadre.backlog`; allocation keeps it current as it
        assigns, and the model recounts it before each stage that reads it.
        """
        nds = self.needs
        live = nds.live
        held = live[(nds.status[live] == nd.OPEN) & (nds.where[live] == nd.AT_CADRE)]
        self.backlog = np.bincount(
            nds.holder[held], weights=nds.hours[held], minlength=len(self.cadres)
        )

    def fidelity(self, nid: int) -> float:
        """Information fidelity when work starts: routing losses, and staleness as the
        situation changes while the need waits; peer exchange keeps it fresh (P4).

        fidelity = route fidelity · exp(−volatility · age · (1 − 0.7 information))

        Args:
            nid: the need.
        """
        nds, r = self.needs, self.regime
        age = self.day - int(nds.created[nid])
        return float(nds.fidelity[nid]) * math.exp(
            -self.volatility_today * age * (1 - 0.7 * r.information)
        )

    def assign_by_post(self, ids: np.ndarray) -> None:
        """Command allocation by fixed post (seed 000, 001, 004).

        Community-level needs go to a committee member; the rest to a cadre posted to the
        need's grid, chosen by building (whatever the skill or load) unless consultation
        or corrected allocation picks the best-matched one; an overloaded post is pooled to
        the least-loaded cadre of the street; a community cadre may offload onto a sunk
        cadre when allowed (P6).
        """
        if len(ids) == 0:
            return
        nds, r, b, rng = self.needs, self.regime, self.behaviour, self.rng
        self.refresh_backlog()
        best_match = max(r.decision, self.relief)
        active = np.array([x.active for x in self.cadres])
        off_post = np.array([getattr(x, "mode", "") == "off_post" for x in self.cadres])
        for nid in ids.tolist():
            g, c, h = int(nds.grid[nid]), int(nds.comm[nid]), int(nds.hh[nid])
            ntype = nds.ntype[nid]
            if nds.level[nid] >= 1 and self.committee[c]:
                pool = self.committee[c]
                self._mark_left_grid(np.array([nid]))
            else:
                pool = [p for p in self.posts[g] if p.active] or self.posts[g] or self.committee[c]
            if not pool:
                pool = [x for x in self.cadres if x.community == c] or self.cadres
            if rng.random() < best_match:
                cad = max(pool, key=lambda x: x.skills[ntype])
            else:
                cad = pool[h % len(pool)]
            if cad.backlog() > POOL_BACKLOG * cad.daily_hours() and rng.random() < 1 - r.contract:
                cands = self.street_cadres[self.structure.comm_street[c]]
                cands = cands[active[cands]]
                if len(cands):
                    load = self.backlog[cands] / self.cadre_hours[cands]
                    cad = self.cadres[int(cands[np.argmin(load)])]
                    if cad.community != c:
                        nds.ready[nid] = self.day + self.delay(1)[0]
            if (
                not cad.is_sunk
                and r.offloading_allowed
                and self.sunk_in[c]
                and rng.random() < b.offload_propensity
            ):
                # The least-loaded sunk cadre of the community, off-post cadres first.
                sunk = self.sunk_idx[c]
                target = self.cadres[
                    int(sunk[np.argmin(self.backlog[sunk] - 100 * off_post[sunk])])
                ]
                self._offloaded(cad, target)
                cad = target
            self._to_cadre(nid, cad)

    def _offloaded(self, frm: Cadre, to: Cadre) -> None:
        """Offloading strains the working tie between the two cadres (seed 001)."""
        self.offloads_today += 1
        i = self._cc_index.get((to.idx, frm.idx))
        if i is not None:
            self.cc_trust[i] *= 0.98

    def claim_tasks(self) -> None:
        """Allocation by self-claiming from the community task list (seed 002).

        Each active cadre of the need's community with hours left responds with the
        response-threshold rule P = s² / (s² + θ²), stimulus s = skill · (g · urgency +
        (1 − g) · ease), threshold θ = θ₀ (1 + backlog / hours + exhaustion) /
        (0.5 + motivation). Among responders the best-matched takes the task, while its
        claimed hours fit its day. Tasks unclaimed for CLAIM_WAIT days fall back to the
        command.
        """
        nds, r, b, rng = self.needs, self.regime, self.behaviour, self.rng
        tasks = nds.waiting(nd.AT_LIST, self.day)
        if len(tasks) == 0:
            return
        avail = [x for x in self.cadres if x.active and x.hours_left > 0]
        if not avail:
            return
        a_idx = np.array([x.idx for x in avail])
        a_comm = self.cadre_comm[a_idx]
        order = np.argsort(a_comm, kind="stable")
        a_idx, a_comm = a_idx[order], a_comm[order]
        self.refresh_backlog()
        backlog = self.backlog[a_idx]
        left = np.array([self.cadres[i].hours_left for i in a_idx])
        cap = np.array([self.cadres[i].daily_hours() for i in a_idx])
        exh = np.array([self.cadres[i].exhaustion for i in a_idx])
        mot = np.array([self.cadres[i].motivation for i in a_idx])
        theta = b.claim_threshold * (1 + backlog / np.maximum(cap, 1e-9) + exh) / (0.5 + mot)
        n_c = self.structure.n_communities
        start = np.searchsorted(a_comm, np.arange(n_c))
        count = np.bincount(a_comm, minlength=n_c)
        t_comm = nds.comm[tasks]
        per = count[t_comm]
        task_rep = np.repeat(np.arange(len(tasks)), per)
        offs = np.arange(len(task_rep)) - np.repeat(np.cumsum(per) - per, per)
        cad_pos = start[t_comm][task_rep] + offs
        tid = tasks[task_rep]
        ntype = nds.ntype[tid]
        ease = np.clip(b.need_hours / np.maximum(nds.hours[tid], 1e-9), 0, 1)
        s = self.skill_matrix[a_idx[cad_pos], ntype] * (
            r.goals * nd.URGENCY[ntype] + (1 - r.goals) * ease
        )
        th = theta[cad_pos]
        respond = rng.random(len(s)) < s * s / (s * s + th * th)
        score = np.where(respond, s * (0.5 + 0.5 * rng.random(len(s))), -1.0)
        best = np.full(len(tasks), -1.0)
        np.maximum.at(best, task_rep, score)
        win = respond & (score == best[task_rep]) & (best[task_rep] > 0)
        # one winner per task (ties broken by first position)
        w_task, first = np.unique(task_rep[win], return_index=True)
        w_cad = cad_pos[win][first]
        # Claim in urgency order while the claimed hours fit the cadre's day.
        w_hours = nds.hours[tasks[w_task]]
        prio = np.lexsort((nds.deadline[tasks[w_task]], w_cad))
        w_task, w_cad, w_hours = w_task[prio], w_cad[prio], w_hours[prio]
        cum = np.cumsum(w_hours)
        grp_start = np.searchsorted(w_cad, w_cad)
        before = cum - w_hours - np.where(grp_start > 0, cum[grp_start - 1], 0.0)
        fits = before < np.maximum(left[w_cad] - backlog[w_cad], 0.0)
        for t, cp in zip(w_task[fits].tolist(), w_cad[fits].tolist(), strict=True):
            self._to_cadre(int(tasks[t]), self.cadres[int(a_idx[cp])])
        stale = tasks[
            (nds.where[tasks] == nd.AT_LIST) & (self.day - nds.ready[tasks] >= CLAIM_WAIT)
        ]
        self.send_to_command(stale)

    def escalate(self, nid: int, cad: Cadre) -> None:
        """Pass a need beyond the cadre's reach up the hierarchy (seed 004, P14).

        Community-level needs go to a committee member; higher ones to the street office,
        or straight to the city platform when escalation is central or when a grid
        instructor carries it up across levels.

        Args:
            nid: the need.
            cad: the cadre who diagnosed it.
        """
        nds, r = self.needs, self.regime
        arr = np.array([nid])
        c = int(nds.comm[nid])
        if nds.level[nid] == 1 and self.committee[c]:
            self.move(arr, nd.AT_COMMAND, hops=1)
        elif r.escalation == "central" or getattr(cad, "instructor", False):
            self.move(arr, nd.AT_CITY, hops=1)
        else:
            self.move(arr, nd.AT_STREET, hops=1)

    # ----- settling -----------------------------------------------------------------
    def settle(self, nid: int, cad: Cadre, *, late: bool) -> None:
        """A cadre resolved a need.

        Args:
            nid: the need.
            cad: the cadre.
            late: resolved after its deadline.
        """
        from agents.cadre import LATE, SUCCESS

        self.needs.resolve(nid, self.day)
        self.resolved_today += 1
        self.system_resolved_today += 1
        self.households.contact(int(self.needs.hh[nid]), cad.idx, LATE if late else SUCCESS)

    def settle_above(self, ids: np.ndarray) -> None:
        """The street office, city platform or property firm settled needs.

        Args:
            ids: the needs.
        """
        if len(ids) == 0:
            return
        self.needs.resolve(ids, self.day)
        self.resolved_today += len(ids)
        self.system_resolved_today += len(ids)
        self.households.settled_above(self.needs.hh[ids])

    # ----- stage 7: cadre–cadre trust ------------------------------------------------
    def update_cadre_trust(self) -> None:
        """Working trust between sunk and community cadres (seed 000, 001; P3, P6).

        dt = 0.01 · (consensus + decision)/2 · (1 − t)            negotiation, consultation
             − 0.005 · (1 − decision) · t                         marginalisation
             + 0.02 · joint · (1 − t)                             joint success that day
        where joint = 1 when both cadres resolved a need that day; a task force's
        meetings with the front line add 0.002 · (1 − t).
        """
        r = self.regime
        t = self.cc_trust
        solved = np.array([c.resolved_today > 0 for c in self.cadres])
        joint = solved[self.cc_sunk] & solved[self.cc_comm]
        t += (
            0.01 * 0.5 * (r.consensus + r.decision) * (1 - t)
            - 0.005 * (1 - r.decision) * t
            + 0.02 * joint * (1 - t)
        )
        np.clip(t, 0, 1, out=t)
        if self.task_force is not None:
            t += 0.002 * (1 - t)  # the task force's regular meetings with the front line
        self._refresh_cadre_trust()

    def _refresh_cadre_trust(self) -> None:
        n = len(self.cadres)
        ends = np.concatenate([self.cc_sunk, self.cc_comm])
        w = np.concatenate([self.cc_trust, self.cc_trust])
        cnt = np.bincount(ends, minlength=n)
        tot = np.bincount(ends, weights=w, minlength=n)
        self._cadre_trust_mean = np.where(cnt > 0, tot / np.maximum(cnt, 1), 0.4)

    def cadre_trust_of(self, idx: int) -> float:
        """Mean working trust on a cadre's ties to cadres of the other kind.

        Args:
            idx: cadre index.
        """
        return float(self._cadre_trust_mean[idx])

    # ----- stage 9: correction ------------------------------------------------------
    def correct(self) -> None:
        """Feedback correction (seed 001, P7): problems reported from the front line
        remove unreasonable mandates and misallocations after a delay.

        relief ← relief + φ · min(1, 4 waste(t − delay)) · (1 − relief) / delay,
        φ = max(control dial, 1 if a task force works); waste = the share of hours spent
        on formalism (a quarter of the hours wasted is a full-strength signal).
        Without feedback (φ = 0) nothing is corrected and waste persists.
        """
        hours = sum(c.hours_worked for c in self.cadres)
        formal = sum(c.formalism_hours for c in self.cadres)
        self._waste_history.append(formal / hours if hours > 0 else 0.0)
        delay = int(self.behaviour.correction_delay)
        if len(self._waste_history) <= delay:
            return
        waste = self._waste_history.popleft()
        phi = max(self.regime.control, 1.0 if self.task_force is not None else 0.0)
        self.relief += phi * min(1.0, 4 * waste) * (1 - self.relief) / delay

    # ===== helpers ====================================================================
    def waiting_at_firms(self) -> np.ndarray:
        """Open facility needs waiting for property firms today, found once a day for all
        firms (each takes its community's)."""
        if self._firm_queue_day != self.day:
            self._firm_queue = self.needs.waiting(nd.AT_FIRM, self.day)
            self._firm_queue_day = self.day
        q = self._firm_queue
        return q[self.needs.status[q] == nd.OPEN]

    def random_household(self, community: int, grid: int) -> int:
        """A random household of a grid (or of the community when grid is -1).

        Args:
            community: community index.
            grid: grid index or -1.
        """
        if grid >= 0:
            a, z = self._grid_start[grid], self._grid_start[grid + 1]
        else:
            a, z = self._comm_start[community], self._comm_start[community + 1]
        return int(a + self.rng.integers(z - a))

    def rotate(self, cad: SunkCadre) -> None:
        """An off-post cadre's term ends: a new stranger with new traits takes the post.

        Args:
            cad: the leaving cadre.
        """
        pop = self.population
        q = cad.unit.select_quality()
        traits = self._cadre_traits(q, pop.sunk_experience * (0.5 + q))
        cad.skills, cad.experience = traits["skills"], traits["experience"]
        cad.motivation = cad.baseline_motivation = traits["motivation"]
        cad.exhaustion, cad.recognition, cad.success_rate = 0.0, 0.0, 0.5
        cad.withdrawn = False
        cad.start_day = self.day
        self.skill_matrix[cad.idx] = cad.skills
        mine = self.ties.cadre[: self.ties.n] == cad.idx
        self.ties.familiarity[: self.ties.n][mine] = 0.0
        self.ties.trust[: self.ties.n][mine] = self.households.opinion_sunk[
            self.ties.hh[: self.ties.n][mine]
        ]
        self.cc_trust[self.cc_sunk == cad.idx] = 0.4

    # ===== results ====================================================================
    def timeseries(self) -> pd.DataFrame:
        """The per-day metrics as a DataFrame indexed by day, with the phase."""
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        df.insert(
            0,
            "phase",
            [
                PHASES[self._phase_of_day[min(d, len(self._phase_of_day) - 1)]]
                for d in range(len(df))
            ],
        )
        df.index.name = "day"
        return df

    def summary(self, by_phase: bool = False) -> dict[str, float] | pd.DataFrame:
        """Summary metrics over the whole run, or a DataFrame with one row per window
        (``all`` and each phase present in the run).

        Args:
            by_phase: return the per-window DataFrame instead of the whole-run dict.
        """
        table = summarise(self)
        if by_phase:
            return table
        return {k: float(v) for k, v in table.loc["all"].items()}

    def sync_graph(self, community: int | None = None):
        """Copy current trust, familiarity and burnout onto the networkx graph; return it,
        or the subgraph of one community (its households, cadres and their ties).

        Args:
            community: a community index, or None for the whole district.
        """
        g = self.graph
        hhs = self.households
        for cad in self.cadres:
            if community is None or cad.community == community:
                g.nodes[("cadre", cad.unique_id)].update(
                    exhaustion=cad.exhaustion, motivation=cad.motivation
                )
        ties = self.ties
        sel = np.arange(ties.n)
        if community is not None:
            sel = sel[self.structure.hh_comm[ties.hh[: ties.n]] == community]
        for t in sel.tolist():
            h, c = int(ties.hh[t]), int(ties.cadre[t])
            g.add_edge(
                ("household", h),
                ("cadre", self.cadres[c].unique_id),
                kind="familiar",
                weight=float(ties.familiarity[t]),
                trust=float(ties.trust[t]),
            )
        for s, c, w in zip(
            self.cc_sunk.tolist(), self.cc_comm.tolist(), self.cc_trust.tolist(), strict=True
        ):
            if community is None or self.cadres[s].community == community:
                g.add_edge(
                    ("cadre", self.cadres[s].unique_id),
                    ("cadre", self.cadres[c].unique_id),
                    kind="working",
                    weight=w,
                )
        if community is None:
            for h in range(len(hhs.trust_institution)):
                g.nodes[("household", h)]["trust"] = float(hhs.trust_institution[h])
            return g
        a, z = self._comm_start[community], self._comm_start[community + 1]
        for h in range(a, z):
            g.nodes[("household", h)]["trust"] = float(hhs.trust_institution[h])
        nodes = [("household", h) for h in range(a, z)] + [
            ("cadre", c.unique_id) for c in self.cadres if c.community == community
        ]
        return g.subgraph(nodes)
