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

import gc
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

from saca.agents import (
    Cadre,
    CommunityCadre,
    PropertyFirm,
    SunkCadre,
)
from saca.agents import needs as nd
from saca.agents.cadre_state import RECOGNITION, begin_days, end_days, sanction, spend_many
from saca.agents.round import Finished, attempt, order_queues, run_shifts, success_chances
from saca.model.allocation import Allocation
from saca.model.build import Construction
from saca.model.metrics import METRICS, daily_metrics, summarise
from saca.model.need_flow import NeedFlow
from saca.model.network import build_graph
from saca.model.regime import Regime
from saca.model.scenario import Scenario, apply_overrides, load_regime, load_scenario
from saca.model.situation import PHASES, SUNK_PRESENCE

if TYPE_CHECKING:
    import networkx as nx


class CollaborationModel(Construction, NeedFlow, Allocation, mesa.Model):
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

    #: Run the sequential loops compiled: the round's shifts, all cadres of a kind in one
    #: call (:func:`saca.agents.round.run_shifts`), and the command's allocation by post
    #: (:mod:`saca.model.posting`). False runs the readable Python reference
    #: (:meth:`Cadre.walk`, :meth:`SunkCadre.work`, the loop in ``assign_by_post``),
    #: with the same numbers and draws.
    compiled: bool = True

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
        # Building creates hundreds of thousands of objects that live as long as the model:
        # the cyclic garbage collector would scan them again and again for nothing.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._build()
        finally:
            if collecting:
                gc.enable()
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
        # An office handles only its own street's needs: the queues can be found at once.
        at_street = self.waiting_by_street()
        for office in self.street_offices:
            office.step(at_street.get(office.street, np.empty(0, np.int64)))
        self.city.step()
        PropertyFirm.step_all(self, list(self.firms.values()))  # = each firm's step in turn
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

        Each kind's order is Mesa's ``shuffle_do`` order (the same draws of
        ``model.random``, made by :func:`saca.model.streams.shuffle`). A cadre's walk
        through its queue draws nothing and no outcome changes another's walk, so a whole
        kind walks in one compiled call (:func:`run_shifts`) and its finished needs are
        decided together, in that order (:func:`attempt`). Sunk cadres that make mandated
        visits draw those first, so each of them walks and decides its own needs before
        the next visits (:meth:`SunkCadre.work`).
        """
        from saca.model.streams import shuffled  # numba loads at the first step, not on import

        order_queues(self)
        visits = self.regime.mandated_visits_per_week / 7.0 * (1 - self.relief) > 0
        for kind in (SunkCadre, CommunityCadre):
            if kind not in self.agents_by_type:  # a population may have none of a kind
                continue
            # = self.random.shuffle(list(self.agents_by_type[kind])), as cadre indices
            order = shuffled(self.random, self._cadres_of_kind(kind))
            inline = kind is SunkCadre and visits
            if not self.compiled or (inline and type(self.rng) is not np.random.Generator):
                # The one-cadre-at-a-time reference (a test's scripted draws take it too).
                finished = Finished()
                for i in order.tolist():
                    cad = self.cadres[i]
                    cad.work() if inline else cad.walk(finished)
            else:
                finished = run_shifts(self, order, inline=inline)
            attempt(self, finished)

    def _cadres_of_kind(self, kind: type[Cadre]) -> np.ndarray:
        """Indices of the cadres of a kind, in Mesa's order (``agents_by_type[kind]``),
        found once: cadres are never added or removed during a run."""
        agents = self.agents_by_type[kind]
        idx = self._kind_idx.get(kind)
        if idx is None or len(idx) != len(agents):
            idx = self._kind_idx[kind] = np.fromiter((c.idx for c in agents), np.int64)
        return idx

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
    def waiting_at_firm(self, community: int) -> np.ndarray:
        """Open facility needs of a community waiting for its property firm today, oldest
        first. The day's queue is found and split by community once, for all firms.

        Args:
            community: the firm's community.
        """
        if self._firm_queue_day != self.day:
            q = self.needs.waiting(nd.AT_FIRM, self.day_end)
            self._firm_queue = _split(q, self.needs.comm[q])
            self._firm_queue_day = self.day
        q = self._firm_queue.get(community)
        if q is None:
            return np.empty(0, np.int64)
        return q[self.needs.status[q] == nd.OPEN]

    def waiting_by_street(self) -> dict[int, np.ndarray]:
        """The needs waiting at each street office now, oldest first, by street:
        :meth:`StreetOffice.queue` of every office from one pass over the needs."""
        q = self.needs.waiting(nd.AT_STREET, self.day_end)
        return _split(q, self.structure.comm_street[self.needs.comm[q]])

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


def compile_kernels() -> None:
    """Compile the model's compiled parts (numba), or load them from numba's cache: the
    cadres' shifts, the queues, the allocation by post, the shuffle and the passes over
    households and needs (:mod:`saca.agents.passes`), by running one
    day of a tiny district under door-knocking orders, which takes every one of them with
    the argument types of a real run. The first run after saca is installed or changed
    compiles them (about half a minute); later ones load them in a fraction of a second.
    The workers' fork server calls this before it forks any worker, so that workers never
    compile.
    """
    from saca.agents import shifts  # numba loads here, not on import

    tiny = {
        "situation.households": 200,
        "situation.grids": 2,
        "situation.communities": 1,
        "situation.streets": 1,
        "regime.mandated_visits_per_week": 7.0,
    }
    m = CollaborationModel("emergency", "constructive", rng=0, overrides=tiny)
    m.step()
    m.queues.remove(np.array([0]), np.array([-1]))  # no such need: the removal compiles
    # What the first day may not reach: the street office settling, and deciding the
    # round's finished needs (chances, then the draws of paper closure).
    m.households.settled_above(np.array([0]))
    while m.needs.n == 0:
        m.step()
    p = success_chances(m, np.array([0]), np.array([0]), np.array([m.day_open]))
    shifts.decide(np.random.default_rng(0), p, 0.5)


def _split(ids: np.ndarray, group: np.ndarray) -> dict[int, np.ndarray]:
    """``ids`` by ``group`` (one group per id), each keeping the order of ``ids``."""
    if len(ids) == 0:
        return {}
    order = np.argsort(group, kind="stable")
    ids, group = ids[order], group[order]
    cut = np.flatnonzero(np.diff(group)) + 1
    return dict(zip(group[np.r_[0, cut]].tolist(), np.split(ids, cut), strict=True))
