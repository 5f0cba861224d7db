"""CollaborationModel: setup of the district and the daily step of the SACA model.

One step is one day, and every event in it carries its hour (needs arise, travel, wait
and are resolved at hours since the start of the run), so no delay rounds to a day. The
step runs the stages of DESIGN §3.4 in order: the command's plan and the meetings,
needs, self-help, reporting, allocation (by post or by claiming), work, the upper levels,
a second allocation and work round for what came back during the day, trust,
inspection and evaluation, burnout and motivation, correction, collection. Each stage
cites its seed in the method that runs it; ``docs/ODD.md`` gives the equations.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

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
from saca.agents.cadre import (
    CONSULTED,
    LATE,
    RECOGNITION,
    SUCCESS,
    Cadre,
    CadreState,
    begin_days,
    end_days,
    sanction,
    spend_many,
)
from saca.agents.round import Finished, attempt, order_queues
from saca.model.metrics import METRICS, daily_metrics, new_totals, record_handoff, summarise
from saca.model.network import TieTable, adjacency, build_graph, build_structure, resident_ties
from saca.model.regime import Regime
from saca.model.scenario import Scenario, apply_overrides, load_regime, load_scenario
from saca.model.situation import PHASES, SUNK_PRESENCE

if TYPE_CHECKING:
    import networkx as nx


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
        self._sunk_of_day = np.array(
            [
                SUNK_PRESENCE.index(p.sunk)
                for p in self.situation.timeline
                for _ in range(p.start, p.end)
            ]
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

    @property
    def graph(self) -> nx.Graph:
        """The district as a networkx graph: households and their resident ties, cadres,
        organisations and memberships (see model.network; :meth:`sync_graph` copies the
        current tie weights onto it).

        Built when first read: no step of the model reads it, and at district size it
        takes longer to build than the rest of the model.
        """
        if self._graph is None:
            self._graph = g = build_graph(self.structure, self.resident_edges)
            for cad in self.cadres:
                g.add_node(
                    ("cadre", cad.unique_id),
                    kind="sunk" if cad.is_sunk else "community",
                    community=cad.community,
                )
                if isinstance(cad, SunkCadre):
                    g.add_edge(("cadre", cad.unique_id), ("org", cad.unit.unique_id), kind="member")
            for org in [
                *self.units,
                *self.street_offices,
                self.city,
                *self.social_orgs,
                *self.firms.values(),
            ] + ([self.task_force] if self.task_force else []):
                g.add_node(("org", org.unique_id), kind=org.kind)
        return self._graph

    # ===== setup ======================================================================
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
        self.ties = TieTable(n_h)
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
        self._hidden_by_hh: dict[int, list[int]] = {}
        self._comm_start = np.searchsorted(st.hh_comm, np.arange(n_c + 1))
        self._grid_start = np.searchsorted(st.hh_grid, np.arange(len(st.grid_comm) + 1))
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
        self._firm_queue, self._firm_queue_day = np.empty(0, np.int64), -1
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
            "experience": float(np.clip(rng.normal(experience, 0.1), 0, 1)),
            "motivation": float(
                np.clip(rng.normal(pop.motivation_mean, pop.motivation_sd), 0.05, 1)
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
        self._community_idx = [[] for _ in range(n_c)]
        for cad in self.cadres:
            self._community_idx[cad.community].append(cad.idx)
        self.cadre_is_sunk = np.array([c.is_sunk for c in self.cadres], dtype=bool)
        self.cadre_comm = np.array([c.community for c in self.cadres], dtype=np.int64)
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
        emergency = self.phase == "emergency"
        self.volatility_today = sit.volatility * (sit.volatility_multiplier if emergency else 1.0)

    def set_sunk_presence(self) -> None:
        """Stage 1: recall or send back sunk cadres as the timeline says (withdrawal
        experiment, ODD §7; assumption: a recall is an order of the sending units, not a
        choice of the cadres).

        A recalled cadre is away: unavailable, not inspected, ordered or evaluated, and
        its states are kept as they were (the model does not follow it to its unit). The
        needs it held go back to its community's command (one hop), which allocates them
        again that day. A cadre sent back resumes with those states; an off-post cadre
        whose term ended while away is replaced at its first day back (rotation).
        """
        if not self._sunk_of_day.any():  # every window has all sunk cadres present
            return
        day = min(self.day, len(self._sunk_of_day) - 1)
        present = SUNK_PRESENCE[self._sunk_of_day[day]]
        nds = self.needs
        for cad in self.cadres:
            if not cad.is_sunk:
                continue
            away = present == "none" or (present == "in_service" and cad.full_time)
            if away and not cad.away and cad.queue:
                held = np.asarray(cad.queue, dtype=np.int64)
                held = held[(nds.status[held] == nd.OPEN) & (nds.holder[held] == cad.idx)]
                start = np.maximum(nds.t_ready[held], self.day_start)
                self.move(held, nd.AT_COMMAND, hops=1, leaves_grid=False, start=start)
                cad.queue = []
                cad.queue_changed = True
            cad.away = away

    @property
    def day_start(self) -> float:
        """Hour at which today starts (hours since the start of the run)."""
        return self.day * nd.HOURS_PER_DAY

    @property
    def day_end(self) -> float:
        """Hour at which today ends."""
        return (self.day + 1) * nd.HOURS_PER_DAY

    @property
    def day_open(self) -> float:
        """Hour at which offices and full-time cadres start work today."""
        return self.day_start + self.behaviour.workday_start

    def paperwork_hours(self) -> float:
        """Daily inspection paperwork of a full-time cadre: what checklist inspection
        demands, less what correction has removed (seed 001). In-service members are
        hardly checked (seed 002) and carry none."""
        b, r = self.behaviour, self.regime
        return b.paperwork_hours * (1 - r.control) * (1 - self.relief)

    # ===== the daily step =============================================================
    def step(self) -> None:
        """Advance the model by one day."""
        self.day = self.steps - 1
        self._set_situation(self.day)
        self.set_sunk_presence()
        self._reset_counters()
        self.plan_day()
        begin_days(self, self.cadre_state.all())
        self.hold_meetings()
        new = self.arise_needs()
        new = self.self_help(new)
        self.reporting(new)
        self.read_peer_reports()
        self.assign_by_post(self.needs.waiting(nd.AT_COMMAND, self.day_end))
        self.claim_tasks()
        self.work_round()
        for office in self.street_offices:
            office.step()
        self.city.step()
        for firm in self.firms.values():
            firm.step()
        # What came back during the day (escalated to the committee, sent back down by an
        # office, unclaimed past its wait) is allocated and worked the same day if the
        # shifts still have room: the afternoon round.
        self.assign_by_post(self.needs.waiting(nd.AT_COMMAND, self.day_end))
        self.claim_tasks()
        self.work_round()
        self.households.apply_contacts()
        dropped = self.needs.prune(self.day, self.behaviour.patience_days)
        self.households.gave_up(self.needs.hh[dropped])
        self.dropped_today = len(dropped) + self.paper_closures_today
        self.refresh_backlog()
        self.inspect_and_evaluate()
        # A recalled cadre's states wait for its return.
        idx = self.cadre_state.all()
        end_days(self, idx[~self.cadre_state.away[idx]])
        self.update_cadre_trust()
        self.correct()
        self.households.update_opinions()
        self.ties.decay(self.behaviour.familiarity_decay)
        self.reported_backlog = self.backlog.copy()
        self.today = daily_metrics(self)
        self.datacollector.collect(self)

    def work_round(self) -> None:
        """Stage 6: the cadres work their queues, sunk cadres first, each kind in random
        order (the queues are ordered for all at once first).

        Each kind's order is Mesa's ``shuffle_do`` order (the same draw of
        ``model.random``). A cadre's walk through its queue draws nothing and no outcome
        changes another's walk, so the finished needs of a whole kind are decided
        together, in that order (:func:`attempt`). Sunk cadres that make mandated visits
        draw those first, so each of them decides its own needs before the next visits.
        """
        order_queues(self)
        visits = self.regime.mandated_visits_per_week / 7.0 * (1 - self.relief) > 0
        for kind in (SunkCadre, CommunityCadre):
            if kind not in self.agents_by_type:  # a population may have none of a kind
                continue
            cadres = list(self.agents_by_type[kind])
            self.random.shuffle(cadres)
            if kind is SunkCadre and visits:
                for cad in cadres:
                    cad.work()
                continue
            finished = Finished()
            for cad in cadres:
                cad.walk(finished)
            attempt(self, finished)

    def _reset_counters(self) -> None:
        self.created_today = 0
        self.resolved_today = 0
        self.system_resolved_today = 0
        self.served_today = 0
        self.dropped_today = 0
        self.offloads_today = 0
        self.paper_closures_today = 0
        self.households.complaints_today = 0

    # ----- stage 1b: the command's plan and the communities' meetings -----------------
    def plan_day(self) -> None:
        """Which communities negotiate today, and where the command orders a surge.

        consensus: a community negotiates the day's decisions at a coordination meeting
        with probability = the consensus dial; otherwise they are imposed (seed 000).
        decision: in an emergency, a street whose full-time cadres report more than
        ``behaviour.surge_backlog`` days of work each is surged by a command that decides
        alone (probability 1 − decision): full-time cadres work
        ``behaviour.surge_overtime_hours`` overtime and its in-service members are called
        out (seed 000). Under consultation the surge needs the cadres' consent and does
        not happen; mobilisation then rests on willingness.
        """
        r, b, rng = self.regime, self.behaviour, self.rng
        self.meeting = rng.random(self.structure.n_communities) < r.consensus
        self.surge[:] = False
        if self.phase != "emergency":
            return
        for s, ft in enumerate(self.street_cadres):
            if len(ft) == 0:
                continue
            load = self.reported_backlog[ft].sum() / max(self.cadre_hours[ft].sum(), 1e-9)
            if load > b.surge_backlog and rng.random() < 1 - r.decision:
                self.surge[s] = True
                cs = self.cadre_state
                ft = ft[~cs.away[ft]]  # recalled to its unit: not the street's to order
                cs.overtime[ft] = b.surge_overtime_hours
                cs.ordered[ft] = True
                ins = self.street_in_service[s]
                cs.called_out[ins] = ~cs.away[ins]

    def hold_meetings(self) -> None:
        """Coordination meetings (seed 000): every full-time cadre at work in a community
        that negotiates today spends ``behaviour.meeting_hours`` at the start of the day;
        attendees grow their goal alignment, sunk attendees learn what insiders know, and
        the working ties between the sunk and community cadres present gain trust."""
        if not self.meeting.any():
            return
        b, cs = self.behaviour, self.cadre_state
        n = cs.n
        present = cs.active[:n] & cs.full_time[:n] & self.meeting[cs.community[:n]]
        met = np.flatnonzero(present)
        spend_many(self, met, b.meeting_hours)
        cs.met[met] = True
        learn = met[cs.sunk[met]]
        cs.knowledge[learn] += b.knowledge_gain * (1 - cs.knowledge[learn])
        both = present[self.cc_sunk] & present[self.cc_comm]
        t = self.cc_trust
        t[both] += b.meeting_trust_gain * (1 - t[both])

    def meeting_end(self, community: int) -> float:
        """Hour at which today's meeting of a community ends."""
        return self.day_open + self.behaviour.meeting_hours

    # ----- stage 2 and 3: needs and self-help ---------------------------------------
    def arise_needs(self) -> np.ndarray:
        """Stage 2: needs arise per household ~ Poisson(rate × mix × (1 − prevention)),
        each at an hour drawn uniformly in waking hours.

        Front-loading prevents needs (concave in the degree of front-loading) and, for
        those that still arise, lowers the level needed to solve them (P11, seed 003).
        """
        st, sit, b, r, rng = self.structure, self.situation, self.behaviour, self.regime, self.rng
        mix = nd.TYPE_MIX[PHASES.index(self.phase)]
        f = r.front_loading
        prevention = b.prevention_max * (1 - np.exp(-3 * f)) / (1 - np.exp(-3))
        lam = sit.need_rate * self.rate_multiplier * mix * (1 - prevention * nd.PREVENTABLE)
        lam_c = lam * nd.COMMUNITY_TYPE_RATE[st.ctype]  # (communities, types)
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
        emergency = self.phase == "emergency"
        if emergency:
            level = np.minimum(level + (rng.random(k) < sit.emergency_escalation), 3)
        level = np.maximum(level - (rng.random(k) < prevention), 0).astype(np.int8)
        factor = sit.emergency_deadline_factor if emergency else 1.0
        t_created = (
            self.day_start
            + b.need_hour_first
            + rng.random(k) * max(b.need_hour_last - b.need_hour_first, 0.0)
        )
        t_deadline = t_created + nd.DEADLINE_DAYS[ntype] * factor * nd.HOURS_PER_DAY
        hours = rng.gamma(2.0, b.need_hours / 2.0, k) * (1 + b.level_hours * level)
        ids = self.needs.add(
            hh, st.hh_comm[hh], st.hh_grid[hh], ntype, level, self.day, t_created, t_deadline, hours
        )
        ids = np.concatenate([ids, self._resurface(factor)])
        self.created_today = len(ids)
        return ids

    def _resurface(self, deadline_factor: float) -> np.ndarray:
        """Problems closed on paper ``resurface_days`` ago arise again today as new needs
        of the same household, type and level, whole (seed 001); return their ids.

        Args:
            deadline_factor: today's multiplier of the deadlines by type.
        """
        old = self._resurfacing.pop(self.day, None)
        if not old:
            return np.empty(0, np.int64)
        nds, b = self.needs, self.behaviour
        o = np.asarray(old, dtype=np.int64)
        ntype = nds.ntype[o]
        t_created = (
            self.day_start
            + b.need_hour_first
            + self.rng.random(len(o)) * max(b.need_hour_last - b.need_hour_first, 0.0)
        )
        t_deadline = t_created + nd.DEADLINE_DAYS[ntype] * deadline_factor * nd.HOURS_PER_DAY
        ids = nds.add(
            nds.hh[o],
            nds.comm[o],
            nds.grid[o],
            ntype,
            nds.level[o],
            self.day,
            t_created,
            t_deadline,
            nds.hours_total[o].copy(),
        )
        # The household has waited since the problem first arose: response times count
        # from then, so closing a need on paper never makes the system look faster.
        nds.t_origin[ids] = nds.t_origin[o]
        return ids

    def close_on_paper(self, nid: int) -> None:
        """A cadre recorded a failed need as done (goal displacement, seed 001): it leaves
        the books unsolved and arises again ``resurface_days`` later.

        Args:
            nid: the need.
        """
        self.needs.close_on_paper(nid)
        self.paper_closures_today += 1
        due = self.day + max(1, round(self.behaviour.resurface_days))
        self._resurfacing.setdefault(due, []).append(nid)

    def self_help(self, ids: np.ndarray) -> np.ndarray:
        """Stage 3: residents solve a share through their own ties at once (seed 003);
        return the rest."""
        nds = self.needs
        p = self.households.self_help_probability(nds.comm[ids], nds.ntype[ids], nds.hh[ids])
        solved = ids[self.rng.random(len(ids)) < p]
        nds.resolve(solved, nds.t_created[solved])
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

        information: each report travels peer to peer (the shared list) with probability =
        the information dial, else through the command's channel. contract: each need
        goes on the task list for claiming with probability = the contract dial, else to
        the command, which assigns it to a post.

        Args:
            ids: the needs.
            channels: the cadre each was reported through, or -1 for the hotline.
        """
        nds, r, rng = self.needs, self.regime, self.rng
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
        peer = rng.random(len(ids)) < r.information
        listed = rng.random(len(ids)) < r.contract
        for extra in (0, 1):
            mine = hotline == bool(extra)
            self.move(ids[listed & mine & peer], nd.AT_LIST, hops=0, peer=True, leaves_grid=False)
            self.move(ids[listed & mine & ~peer], nd.AT_LIST, hops=1 + extra, leaves_grid=False)
            self.move(
                ids[~listed & mine & peer], nd.AT_COMMAND, hops=0, peer=True, leaves_grid=False
            )
            self.send_to_command(ids[~listed & mine & ~peer], extra_hops=extra)

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
        nds.t_ready[nid] = cad.clock
        self._to_cadre(nid, cad, chosen=False)

    # ----- stage 5: allocation ------------------------------------------------------
    def move(
        self,
        ids: np.ndarray,
        where: int,
        *,
        hops: float,
        leaves_grid: bool = True,
        peer: bool = False,
        start: np.ndarray | float | None = None,
    ) -> None:
        """Send needs to a place, after the channel's delay and detail loss (seed 000).

        Through the command's channel a need waits ``hop_hours`` per level and keeps
        (1 − detail_loss)^hops of its detail, and it is verified. Peer to peer it is on the
        shared list after ``list_lag_hours`` with its detail intact, but a share
        ``unverified_share`` of such reports are duplicated, stale or unchecked, and cost
        the cadre who takes one ``verify_hours`` before any work.

        Args:
            ids: the needs.
            where: the destination (needs.AT_*).
            hops: hierarchy levels crossed (command channel).
            leaves_grid: whether this counts as leaving the grid (escalation).
            peer: whether the need travels peer to peer (the shared list).
            start: hour it sets off (default: when it reached its current place).
        """
        if len(ids) == 0:
            return
        nds, b = self.needs, self.behaviour
        t0 = nds.t_ready[ids] if start is None else start
        nds.where[ids] = where
        nds.holder[ids] = -1
        if peer:
            nds.t_ready[ids] = t0 + b.list_lag_hours
            nds.peer[ids] = True
            nds.unverified[ids] = self.rng.random(len(ids)) < b.unverified_share
        else:
            nds.t_ready[ids] = t0 + hops * b.hop_hours
            nds.fidelity[ids] *= (1 - b.detail_loss) ** hops
        if leaves_grid:
            self._mark_left_grid(ids)

    def _mark_left_grid(self, ids: np.ndarray) -> None:
        """Count needs handled above the grid (community, street or city) once each."""
        nds = self.needs
        fresh = ids[~nds.left_grid[ids]]
        nds.left_grid[fresh] = True

    def send_to_command(
        self, ids: np.ndarray, extra_hops: int = 0, start: np.ndarray | None = None
    ) -> None:
        """Route needs through the command: up to the community and back down to a post.

        Args:
            ids: the needs.
            extra_hops: further levels already climbed (e.g. back down from the street).
            start: hour each sets off (default: when it reached its current place).
        """
        self.move(ids, nd.AT_COMMAND, hops=2 + extra_hops, leaves_grid=False, start=start)

    def _to_cadre(self, nid: int, cad: Cadre, *, chosen: bool) -> None:
        nds = self.needs
        if nds.passed_by.item(nid) >= 0:  # escalated by one cadre, now with another
            record_handoff(self, nds.passed_by.item(nid), cad.idx)
            nds.passed_by[nid] = -1
        nds.where[nid] = nd.AT_CADRE
        nds.holder[nid] = cad.idx
        nds.chosen[nid] = chosen
        cad.queue.append(nid)
        cad.queue_changed = True
        # cad.received(chosen=...), on its row directly: this runs once per allocation.
        if chosen:
            self.cadre_state.chosen_today[cad.idx] += 1
        else:
            self.cadre_state.imposed_today[cad.idx] += 1
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

    def fidelity(self, nid: int, t: float) -> float:
        """Information fidelity when work starts: routing losses, and staleness as the
        situation changes while the need waits; live peer updates keep it fresher (P4).

        fidelity = route fidelity · exp(−volatility · age in days · k),
        k = behaviour.staleness_peer for a need that travelled peer to peer, else 1.

        Args:
            nid: the need.
            t: the hour work starts.
        """
        nds = self.needs
        age = max(0.0, t - nds.t_created.item(nid)) / nd.HOURS_PER_DAY
        k = self.behaviour.staleness_peer if nds.peer.item(nid) else 1.0
        return nds.fidelity.item(nid) * math.exp(-self.volatility_today * age * k)

    def assign_by_post(self, ids: np.ndarray) -> None:
        """Command allocation (seed 000, 001, 004).

        Community-level needs go to the committee; the rest to the cadres posted to the
        need's grid. In a community that negotiates today, a decision waits for the
        meeting (the next day's if it comes after today's meeting). With probability =
        the decision dial the command consults: the best-skilled cadre of the pool takes
        the need after ``consult_delay_hours``, the household is consulted, and a
        consulted sunk cadre learns and gains working trust. Otherwise the command decides
        alone, at once: the post by building (or the best-matched, as far as correction
        has fixed misallocation), redeployed to the least-loaded full-time cadre of the
        street when the post reports more than ``pool_backlog`` days of work; a sunk
        cadre given work without being asked loses working trust (marginalisation). A
        community cadre may offload onto a sunk cadre when allowed (P6).
        """
        if len(ids) == 0:
            return
        nds, r, b, rng = self.needs, self.regime, self.behaviour, self.rng
        self.refresh_backlog()
        cs, cadres = self.cadre_state, self.cadres
        active = cs.active[: cs.n].copy()
        off_post = cs.sunk[: cs.n] & cs.full_time[: cs.n]
        away = cs.away[: cs.n].copy()
        # Cadres by index, with what the command reads of them as Python lists (one need
        # at a time is inherently sequential: each decision sees the backlogs so far).
        is_active, is_sunk = active.tolist(), self.cadre_is_sunk.tolist()
        is_away, is_off_post = away.tolist(), off_post.tolist()
        hours_of, comm_of = self.cadre_hours.tolist(), self.cadre_comm.tolist()
        reported = self.reported_backlog.tolist()
        meeting = self.meeting.tolist()
        # Where an overloaded post's need is redeployed: the street's least-loaded active
        # full-time cadre by reported load, which stays the same all through the call.
        redeploy: dict[int, int] = {}
        # Each community's sunk cadres present (recalled cadres cannot be pushed work).
        sunk_present: dict[int, np.ndarray] = {}
        next_meeting = self.day_end + b.workday_start + b.meeting_hours
        fields = zip(
            ids.tolist(),
            nds.grid[ids].tolist(),
            nds.comm[ids].tolist(),
            nds.hh[ids].tolist(),
            nds.ntype[ids].tolist(),
            nds.t_ready[ids].tolist(),
            (nds.level[ids] >= 1).tolist(),
            strict=True,
        )
        for nid, g, c, h, ntype, t0, above_grid in fields:
            if meeting[c]:
                end = self.meeting_end(c)
                t0 = end if t0 <= end else max(t0, next_meeting)
                if t0 >= self.day_end:
                    nds.t_ready[nid] = t0  # decided at tomorrow's meeting
                    continue
            if above_grid and self._committee_idx[c]:
                pool = self._committee_idx[c]
                nds.left_grid[nid] = True  # handled above the grid (_mark_left_grid)
            else:
                posted = self._post_idx[g]
                pool = (
                    [p for p in posted if is_active[p]]
                    or [p for p in posted if not is_away[p]]
                    or self._committee_idx[c]
                )
            if not pool:
                pool = [x for x in self._community_idx[c] if not is_away[x]] or [
                    x for x in range(len(cadres)) if not is_away[x]
                ]
            consulted = rng.random() < r.decision
            if consulted:
                cad = max(pool, key=lambda x: cadres[x].skills[ntype])
                t0 += b.consult_delay_hours
                nds.hours[nid] += b.consult_hours
                self.households.contact(h, cad, CONSULTED)
                if is_sunk[cad]:
                    cadres[cad].learn()
                    self._cadre_trust_event(cad, b.meeting_trust_gain)
            else:
                if rng.random() < self.relief:
                    cad = max(pool, key=lambda x: cadres[x].skills[ntype])
                else:
                    cad = pool[h % len(pool)]
                if reported[cad] > b.pool_backlog * hours_of[cad]:
                    s = int(self.structure.comm_street[c])
                    if s not in redeploy:
                        cands = self.street_cadres[s]
                        cands = cands[active[cands]]
                        load = self.reported_backlog[cands] / self.cadre_hours[cands]
                        redeploy[s] = int(cands[np.argmin(load)]) if len(cands) else -1
                    if redeploy[s] >= 0:
                        post, cad = cad, redeploy[s]
                        record_handoff(self, post, cad)  # redeployed away
                        if comm_of[cad] != c:
                            t0 += b.hop_hours  # the order crosses to another community
                if is_sunk[cad]:
                    self._cadre_trust_event(cad, -b.order_trust_loss)
            nds.t_ready[nid] = t0
            sunk = sunk_present.get(c)
            if sunk is None:
                sunk = sunk_present[c] = self.sunk_idx[c][~away[self.sunk_idx[c]]]
            if (
                not is_sunk[cad]
                and r.offloading_allowed
                and len(sunk)
                and rng.random() < b.offload_propensity
            ):
                # The least-loaded sunk cadre of the community, off-post cadres first (the
                # first such in index order, as numpy's argmin picks).
                backlog = self.backlog.item
                target = cadres[min(sunk.tolist(), key=lambda x: backlog(x) - 100 * is_off_post[x])]
                self._offloaded(cadres[cad], target)
                record_handoff(self, cad, target.idx)
                self._to_cadre(nid, target, chosen=False)  # pushed on, not chosen
                continue
            self._to_cadre(nid, cadres[cad], chosen=consulted)

    def _cadre_trust_event(self, sunk_idx: int, change: float) -> None:
        """Move the working trust on every tie of a sunk cadre: a gain as a fraction of the
        gap to 1 (change > 0) or a loss as a fraction of the trust (change < 0)."""
        sel = self._cc_of_sunk.get(sunk_idx)
        if sel is None:
            return
        t = self.cc_trust
        t[sel] += change * (1 - t[sel]) if change > 0 else change * t[sel]

    def _offloaded(self, frm: Cadre, to: Cadre) -> None:
        """Offloading strains the working tie between the two cadres (seed 001)."""
        self.offloads_today += 1
        i = self._cc_index.get((to.idx, frm.idx))
        if i is not None:
            self.cc_trust[i] *= 1 - self.behaviour.offload_trust_loss

    def claim_tasks(self) -> None:
        """Allocation by self-claiming from the community task list (seed 002).

        Each active cadre with hours left sees the listed tasks within its reach (its
        grid; the whole community for committee members and off-post cadres), estimates
        each one's hours with a log-normal error, and responds with the response-threshold rule
        P = s² / (s² + θ²), stimulus s = skill · (g · urgency + (1 − g) · ease) ·
        (1 − aversion · unattractiveness), threshold θ = θ₀ (1 + backlog / hours +
        exhaustion) / (1 + motivation). Each responder answers after an exponential delay
        with mean θ / s and the first answer wins (first come), if the estimated hours fit
        what the cadre thinks it has left.
        Tasks unclaimed for ``claim_wait_hours`` go to the command.
        """
        nds, b = self.needs, self.behaviour
        tasks = nds.waiting(nd.AT_LIST, self.day_end)
        if len(tasks) == 0:
            return
        cs = self.cadre_state
        avail = np.flatnonzero(cs.active[: cs.n] & (cs.hours_left[: cs.n] > 0))
        if len(avail):
            self._claim(tasks, avail)
        waited = nds.t_ready[tasks] + b.claim_wait_hours
        stale = tasks[(nds.where[tasks] == nd.AT_LIST) & (waited < self.day_end)]
        self.send_to_command(stale, start=nds.t_ready[stale] + b.claim_wait_hours)

    def read_peer_reports(self) -> None:
        """Peer information costs attention (seed 000): every active cadre reads the peer
        reports of the day within its reach (its grid; the whole community for committee
        members and off-post cadres), ``list_read_hours`` each and at most
        ``list_read_cap`` a day, whether or not it acts on any of them."""
        nds, b = self.needs, self.behaviour
        if b.list_read_hours <= 0:
            return
        lo = int(np.searchsorted(nds.created[: nds.n], self.day))
        today = np.arange(lo, nds.n)
        today = today[nds.peer[today]]
        if len(today) == 0:
            return
        n_c = self.structure.n_communities
        by_comm = np.bincount(nds.comm[today], minlength=n_c)
        by_grid = np.bincount(nds.grid[today], minlength=len(self.structure.grid_comm))
        cs = self.cadre_state
        n = cs.n
        grid = cs.grid[:n]
        wide = (cs.reach[:n] >= 1) | (grid < 0)
        seen = np.where(wide, by_comm[cs.community[:n]], by_grid[np.maximum(grid, 0)])
        reading = np.flatnonzero(cs.active[:n] & (cs.hours_left[:n] > 0) & (seen > 0))
        wanted = b.list_read_hours * seen[reading]
        capped = wanted < b.list_read_cap
        # An uncapped amount is counted from np.bincount: a numpy scalar per cadre.
        spend_many(self, reading, np.where(capped, wanted, b.list_read_cap), hours_np=capped)

    def _claim(self, tasks: np.ndarray, avail: np.ndarray) -> None:
        nds, r, b, rng = self.needs, self.regime, self.behaviour, self.rng
        cs = self.cadre_state
        a_idx = avail
        a_comm = self.cadre_comm[a_idx]
        order = np.argsort(a_comm, kind="stable")
        a_idx, a_comm = a_idx[order], a_comm[order]
        a_grid = cs.grid[a_idx]
        a_wide = (cs.reach[a_idx] >= 1) | (a_grid < 0)
        self.refresh_backlog()
        backlog = self.backlog[a_idx]
        cap = cs.hours[a_idx] + cs.overtime[a_idx]
        exh = cs.exhaustion[a_idx]
        mot = cs.motivation[a_idx]
        theta = b.claim_threshold * (1 + backlog / np.maximum(cap, 1e-9) + exh) / (1 + mot)
        n_c = self.structure.n_communities
        start = np.searchsorted(a_comm, np.arange(n_c))
        count = np.bincount(a_comm, minlength=n_c)
        t_comm = nds.comm[tasks]
        per = count[t_comm]
        task_rep = np.repeat(np.arange(len(tasks)), per)
        offs = np.arange(len(task_rep)) - np.repeat(np.cumsum(per) - per, per)
        cad_pos = start[t_comm][task_rep] + offs
        tid = tasks[task_rep]
        seen = a_wide[cad_pos] | (a_grid[cad_pos] == nds.grid[tid])
        task_rep, cad_pos, tid = task_rep[seen], cad_pos[seen], tid[seen]
        left = cs.hours_left[a_idx]
        ntype = nds.ntype[tid]
        estimate = nds.hours[tid] * np.exp(rng.normal(0.0, b.estimate_error, len(tid)))
        ease = np.clip(b.need_hours / np.maximum(estimate, 1e-9), 0, 1)
        unattractive = np.where(
            (ntype == nd.DISPUTE) | (nds.level[tid] > 0),
            1.0,
            np.where(ntype == nd.EMERGENCY, self.risk, 0.0),
        )
        s = (
            self.skill_matrix[a_idx[cad_pos], ntype]
            * (r.goals * nd.URGENCY[ntype] + (1 - r.goals) * ease)
            * (1 - b.task_aversion * unattractive)
        )
        th = theta[cad_pos]
        respond = rng.random(len(s)) < s * s / np.maximum(s * s + th * th, 1e-12)
        # First come: each responder answers after an exponential delay with mean θ / s in
        # arbitrary units (the more a task stimulates a cadre, the sooner it claims); the
        # delay only orders the responders, it takes no hours: the first answer wins.
        delay = rng.exponential(1.0, len(s)) * th / np.maximum(s, 1e-12)
        score = np.where(respond, 1.0 / (1.0 + delay), -1.0)
        best = np.full(len(tasks), -1.0)
        np.maximum.at(best, task_rep, score)
        win = respond & (score == best[task_rep]) & (best[task_rep] >= 0)
        w_task, first = np.unique(task_rep[win], return_index=True)
        w_cad = cad_pos[win][first]
        w_est = estimate[win][first]
        # A cadre takes its tasks in random order while their estimated hours fit.
        prio = np.lexsort((rng.random(len(w_cad)), w_cad))
        w_task, w_cad, w_est = w_task[prio], w_cad[prio], w_est[prio]
        cum = np.cumsum(w_est)
        grp_start = np.searchsorted(w_cad, w_cad)
        before = cum - w_est - np.where(grp_start > 0, cum[grp_start - 1], 0.0)
        fits = before + w_est <= np.maximum(left[w_cad] - backlog[w_cad], 0.0)
        for t, cp in zip(w_task[fits].tolist(), w_cad[fits].tolist(), strict=True):
            self._to_cadre(int(tasks[t]), self.cadres[int(a_idx[cp])], chosen=True)

    def escalate(self, nid: int, cad: Cadre) -> None:
        """Pass a need beyond the cadre's reach up the hierarchy (seed 004, P14).

        Community-level needs go to a committee member; higher ones to the street office,
        or straight to the city platform when escalation is central or when a grid
        instructor carries it up across levels. The need sets off when the cadre passes it
        on.

        Args:
            nid: the need.
            cad: the cadre who diagnosed it.
        """
        nds, r = self.needs, self.regime
        arr = np.array([nid])
        c = int(nds.comm[nid])
        nds.passed_by[nid] = cad.idx  # for overload_cascades, when a cadre takes it next
        if nds.level[nid] == 1 and self.committee[c]:
            self.move(arr, nd.AT_COMMAND, hops=1, start=cad.clock)
        elif r.escalation == "central" or getattr(cad, "instructor", False):
            self.move(arr, nd.AT_CITY, hops=1, start=cad.clock)
        else:
            self.move(arr, nd.AT_STREET, hops=1, start=cad.clock)

    # ----- settling -----------------------------------------------------------------
    def settle(self, nid: int, cad: Cadre, *, late: bool) -> None:
        """A cadre resolved a need, at the cadre's clock.

        Args:
            nid: the need.
            cad: the cadre.
            late: resolved after its deadline.
        """
        self.needs.resolve(nid, cad.clock)
        self.resolved_today += 1
        self.system_resolved_today += 1
        self.served_today += 1
        self.households.contact(self.needs.hh.item(nid), cad.idx, LATE if late else SUCCESS)

    def settle_above(self, ids: np.ndarray, t: np.ndarray | float) -> None:
        """The street office, city platform or property firm settled needs.

        Args:
            ids: the needs.
            t: the hour (or hours) each was settled.
        """
        if len(ids) == 0:
            return
        self.needs.resolve(ids, t)
        self.resolved_today += len(ids)
        self.system_resolved_today += len(ids)
        self.households.settled_above(self.needs.hh[ids])

    # ----- stage 8b: inspection and evaluation ---------------------------------------
    def inspect_and_evaluate(self) -> None:
        """What control does at the end of the day (seed 000, 001, 002).

        Checklist inspection (probability ``inspection_rate`` · (1 − control) per cadre and
        day) checks full-time cadres' work and in-service members' attendance: it detects
        perfunctory work or an absence with probability d = d_c (1 − goals) + d_o · goals
        (checklists are easy to verify, outcomes are not) and sanctions it. Every cadre
        who worked is evaluated, by outcomes with probability = control (recognised when
        a resident it served that day is heard: each is vocal with probability
        ``voice_share``), else by the checklist (recognised when it did counted work and
        was not sanctioned). In-service members are also recognised through their own
        evaluation (sunk_cadre.RECOGNITION).
        """
        r, b, rng = self.regime, self.behaviour, self.rng
        p_inspect = b.inspection_rate * (1 - r.control)
        detect = b.detect_checklist * (1 - r.goals) + b.detect_outcome * r.goals
        recog_in_service = RECOGNITION[r.evaluation]
        cs = self.cadre_state
        n = cs.n
        u_inspect, u_detect, u_eval, u_heard, u_in = rng.random((5, n))
        present = ~cs.withdrawn[:n] & ~cs.away[:n]  # recalled cadres are not inspected
        active, full_time = cs.active[:n], cs.full_time[:n]
        inspected = present & (u_inspect < p_inspect)
        cs.inspected[:n] |= inspected
        caught = np.where(full_time, cs.perfunctory_hours[:n] > 0, ~active)
        sanction(self, np.flatnonzero(inspected & caught & (u_detect < detect)))
        on = present & active
        # Chance a cadre's work is heard of, by how many residents it served (a table of
        # (1 − voice)^k over the day's counts, computed as for one cadre).
        resolved = cs.resolved_today[:n]
        miss = [(1 - b.voice_share) ** k for k in range(int(resolved.max(initial=0)) + 1)]
        heard = 1 - np.array(miss)[resolved]
        by_outcome = u_eval < r.control
        recognised = np.where(
            by_outcome, u_heard < heard, (cs.attempts_today[:n] > 0) & ~cs.sanctioned[:n]
        )
        recognised |= ~full_time & (u_in < recog_in_service)
        cs.recognised[:n] = np.where(on, recognised, cs.recognised[:n])

    # ----- stage 7: cadre–cadre trust ------------------------------------------------
    def update_cadre_trust(self) -> None:
        """Working trust between sunk and community cadres (seed 000, 001; P3, P6).

        Besides the events of the day (meetings and consultations raise it, orders given
        without asking and offloading lower it), the ties of two cadres who both resolved
        a need that day gain ``joint_trust_gain`` · (1 − t).
        """
        t = self.cc_trust
        solved = self.cadre_state.resolved_today[: self.cadre_state.n] > 0
        joint = solved[self.cc_sunk] & solved[self.cc_comm]
        t += self.behaviour.joint_trust_gain * joint * (1 - t)
        np.clip(t, 0, 1, out=t)
        self._refresh_cadre_trust()

    def _refresh_cadre_trust(self) -> None:
        n = len(self.cadres)
        ends = np.concatenate([self.cc_sunk, self.cc_comm])
        w = np.concatenate([self.cc_trust, self.cc_trust])
        cnt = np.bincount(ends, minlength=n)
        tot = np.bincount(ends, weights=w, minlength=n)
        self._cadre_trust_mean = np.where(
            cnt > 0, tot / np.maximum(cnt, 1), self.behaviour.initial_working_trust
        )

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

        On a day with an outcome evaluation (probability = control) or a working task
        force, the wasted share of hours ω of ``correction_delay`` days ago reaches the
        evaluators through residents' voice: ω̂ = ω · heard / expected, heard ~
        Binomial(served, voice_share) among the residents served that day. Then
        relief ← relief + min(1, k ω̂) (1 − relief) / delay. Without a channel (pure
        inspection, no task force) nothing is corrected and waste persists.
        """
        cs = self.cadre_state
        hours = cs.total("hours_worked")
        formal = cs.total("formalism_hours")
        self._waste_history.append(formal / hours if hours > 0 else 0.0)
        b = self.behaviour
        delay = int(b.correction_delay)
        if len(self._waste_history) <= delay:
            return
        waste = self._waste_history.popleft()
        evaluated = self.rng.random() < self.regime.control
        channel = self.task_force is not None or evaluated
        served = self.served_today
        if not channel or served == 0 or b.voice_share <= 0:
            return
        heard = self.rng.binomial(served, b.voice_share) / (served * b.voice_share)
        signal = min(1.0, b.waste_signal * waste * heard)
        self.relief += signal * (1 - self.relief) / delay

    # ===== helpers ====================================================================
    def waiting_at_firms(self) -> np.ndarray:
        """Open facility needs waiting for property firms today, found once a day for all
        firms (each takes its community's)."""
        if self._firm_queue_day != self.day:
            self._firm_queue = self.needs.waiting(nd.AT_FIRM, self.day_end)
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
        cad.exhaustion, cad.recognition, cad.compliance = 0.0, 0.0, 0.0
        cad.felt_pressure, cad.job_control, cad.alignment = 0.0, 0.5, 0.5
        cad.knowledge = self.behaviour.stranger_knowledge
        cad.withdrawn = False
        cad.start_day = self.day
        self.skill_matrix[cad.idx] = cad.skills
        mine = self.ties.cadre[: self.ties.n] == cad.idx
        self.ties.familiarity[: self.ties.n][mine] = 0.0
        self.ties.trust[: self.ties.n][mine] = self.households.opinion_sunk[
            self.ties.hh[: self.ties.n][mine]
        ]
        self.cc_trust[self.cc_sunk == cad.idx] = self.behaviour.initial_working_trust

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
