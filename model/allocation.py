"""Moving needs between holders: allocation by post or by claiming, escalation, settling."""

from __future__ import annotations

import math

import numpy as np

from saca.agents import needs as nd
from saca.agents.cadre import CONSULTED, LATE, SUCCESS, Cadre
from saca.agents.cadre_state import spend_many
from saca.model.metrics import record_handoff, record_handoffs
from saca.model.network import unique_first


class Allocation:
    """Stage 5 of the day and the hand-offs of every later stage (ODD §7.7–7.10, 7.12),
    mixed into :class:`~saca.model.model.CollaborationModel`: the command's allocation by
    post, claiming from the shared list, peer reports, moves, escalation and settling."""

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
        nds, i = self.needs, cad.idx
        passed = nds.passed_by.item(nid)
        if passed >= 0:  # escalated by one cadre, now with another
            record_handoff(self, passed, i)
            nds.passed_by[nid] = -1
        nds.where[nid] = nd.AT_CADRE
        nds.holder[nid] = i
        nds.chosen[nid] = chosen
        self.queues.append(i, nid)
        cs = self.cadre_state
        cs.queue_changed[i] = True
        # cad.received(chosen=...), on its row directly: this runs once per allocation.
        (cs.chosen_today if chosen else cs.imposed_today)[i] += 1
        self.backlog[i] += nds.hours.item(nid)

    def _to_cadres(self, ids: np.ndarray, cads: np.ndarray, *, chosen: bool) -> None:
        """:meth:`_to_cadre` for many needs (distinct) in order, with the same effects:
        hand-offs recorded and queues appended in that order, and each cadre's backlog
        summed in that order (``np.add.at`` adds repeated indices one after another).

        Args:
            ids: the needs.
            cads: the cadre index each goes to.
            chosen: whether the cadres chose them.
        """
        nds = self.needs
        passed = nds.passed_by[ids]
        was_passed = passed >= 0  # escalated by one cadre, now with another
        self.record_handoffs(np.column_stack([passed[was_passed], cads[was_passed]]))
        nds.passed_by[ids[was_passed]] = -1
        self._hand_over(ids, cads, np.full(len(ids), chosen))
        np.add.at(self.backlog, cads, nds.hours[ids])

    def _hand_over(self, ids: np.ndarray, cads: np.ndarray, chosen: np.ndarray) -> None:
        """The needs are now held by their cadres, at the end of their queues, each
        counted as chosen or imposed (what :meth:`_to_cadres` and the compiled allocation
        share; hand-offs and backlogs are theirs).

        Args:
            ids: the needs (distinct), in order.
            cads: the cadre index each goes to.
            chosen: whether each cadre had a say.
        """
        nds, cs = self.needs, self.cadre_state
        nds.where[ids] = nd.AT_CADRE
        nds.holder[ids] = cads
        nds.chosen[ids] = chosen
        self.queues.extend(cads, ids)
        cs.queue_changed[cads] = True
        np.add.at(cs.chosen_today, cads[chosen], 1)
        np.add.at(cs.imposed_today, cads[~chosen], 1)

    def record_handoffs(self, pairs: np.ndarray) -> None:
        """Note needs passed from one cadre to another, in order (see record_handoff).

        Args:
            pairs: (giver, taker) rows.
        """
        record_handoffs(self, pairs)

    def refresh_backlog(self) -> None:
        """Recount every cadre's backlog (hours of open needs it holds) from the needs.

        Cadres read it through :meth:`Cadre.backlog`; allocation keeps it current as it
        assigns, and the model recounts it before each stage that reads it.
        """
        from saca.agents import passes  # compiled on first use (numba)

        nds = self.needs
        hours, held = passes.backlog(
            nds.live, nds.status, nds.where, nds.holder, nds.hours, nd.OPEN, nd.AT_CADRE,
            len(self.cadres),
        )  # fmt: skip
        # With no need held, np.bincount (which this replaced) gave integer zeros, and the
        # allocation then adds whole hours: kept so that every run keeps its numbers.
        self.backlog = hours if held else np.zeros(len(self.cadres), np.int64)

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

    def fidelities(self, ids: np.ndarray, t: np.ndarray | list) -> np.ndarray:
        """:meth:`fidelity` for many needs at once, with the same numbers: the exponent is
        computed in the same order of operations and ``math.exp`` taken per need (numpy's
        exp may differ from it in the last bit).

        Args:
            ids: the needs.
            t: the hour work starts on each.
        """
        nds = self.needs
        age = np.maximum(0.0, np.asarray(t, np.float64) - nds.t_created[ids]) / nd.HOURS_PER_DAY
        k = np.where(nds.peer[ids], self.behaviour.staleness_peer, 1.0)
        exp = math.exp
        decay = np.array([exp(x) for x in ((-self.volatility_today * age) * k).tolist()])
        return nds.fidelity[ids] * decay

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
        if self.compiled and type(rng) is np.random.Generator:
            self._assign_compiled(ids)
            return
        # The readable reference of the compiled loop (saca.model.posting).
        cs, cadres = self.cadre_state, self.cadres
        active = cs.active[: cs.n].copy()
        off_post = cs.sunk[: cs.n] & cs.full_time[: cs.n]
        away = cs.away[: cs.n].copy()
        # Cadres by index, with what the command reads of them as Python lists (one need
        # at a time is inherently sequential: each decision sees the backlogs so far).
        is_active, is_sunk = active.tolist(), self.cadre_is_sunk.tolist()
        is_away = away.tolist()
        # Off-post cadres come first when work is offloaded: 100 hours off their backlog.
        off_post_bonus = np.where(off_post, 100.0, 0.0)
        hours_of, comm_of = self.cadre_hours.tolist(), self.cadre_comm.tolist()
        reported = self.reported_backlog.tolist()
        meeting = self.meeting.tolist()
        # Where an overloaded post's need is redeployed: the street's least-loaded active
        # full-time cadre by reported load, which stays the same all through the call.
        redeploy: dict[int, int] = {}
        # Each community's sunk cadres present (recalled cadres cannot be pushed work).
        sunk_present: dict[int, tuple[np.ndarray, np.ndarray]] = {}
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
        # The pools and each pool's best-skilled cadre by need type depend only on what
        # was read above, so each is found once per call (same lists, same order).
        skill = self.skill_matrix.item
        post_pool: dict[int, list[int]] = {}
        fallback: dict[int, list[int]] = {}
        best: dict[tuple[int, int], int] = {}
        meeting_end: dict[int, float] = {}
        day_end = self.day_end
        comm_street = self.structure.comm_street.tolist()
        # Hours each need sets off and needs handled above the grid: nothing in the loop
        # reads them back, so they are written once at the end.
        ready: list[float] = []
        above: list[int] = []
        for nid, g, c, h, ntype, t0, above_grid in fields:
            if meeting[c]:
                end = meeting_end.get(c)
                if end is None:
                    end = meeting_end[c] = self.meeting_end(c)
                t0 = end if t0 <= end else max(t0, next_meeting)
                if t0 >= day_end:
                    ready.append(t0)  # decided at tomorrow's meeting
                    continue
            if above_grid and self._committee_idx[c]:
                pool = self._committee_idx[c]
                key = -1 - c
                above.append(nid)  # handled above the grid (_mark_left_grid)
            else:
                pool = post_pool.get(g)
                if pool is None:
                    posted = self._post_idx[g]
                    pool = post_pool[g] = (
                        [p for p in posted if is_active[p]]
                        or [p for p in posted if not is_away[p]]
                        or self._committee_idx[c]
                    )
                key = g
            if not pool:
                pool = fallback.get(c)
                if pool is None:
                    pool = fallback[c] = [x for x in self._community_idx[c] if not is_away[x]] or [
                        x for x in range(len(cadres)) if not is_away[x]
                    ]
            consulted = rng.random() < r.decision
            if consulted or rng.random() < self.relief:
                cad = best.get((key, ntype), -1)
                if cad < 0:
                    cad = best[key, ntype] = max(pool, key=lambda x: skill(x, ntype))
            else:
                cad = pool[h % len(pool)]
            if consulted:
                t0 += b.consult_delay_hours
                nds.hours[nid] += b.consult_hours
                self.households.contact(h, cad, CONSULTED)
                if is_sunk[cad]:
                    cadres[cad].learn()
                    self._cadre_trust_event(cad, b.meeting_trust_gain)
            else:
                if reported[cad] > b.pool_backlog * hours_of[cad]:
                    s = comm_street[c]
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
            ready.append(t0)
            present = sunk_present.get(c)
            if present is None:
                sunk = self.sunk_idx[c][~away[self.sunk_idx[c]]]
                present = sunk_present[c] = (sunk, off_post_bonus[sunk])
            sunk, bonus = present
            if (
                not is_sunk[cad]
                and r.offloading_allowed
                and len(sunk)
                and rng.random() < b.offload_propensity
            ):
                # The least-loaded sunk cadre of the community, off-post cadres first (the
                # first such in index order).
                target = cadres[int(sunk[np.argmin(self.backlog[sunk] - bonus)])]
                self._offloaded(cadres[cad], target)
                record_handoff(self, cad, target.idx)
                self._to_cadre(nid, target, chosen=False)  # pushed on, not chosen
                continue
            self._to_cadre(nid, cadres[cad], chosen=consulted)
        nds.t_ready[ids] = ready
        nds.left_grid[above] = True

    def _assign_compiled(self, ids: np.ndarray) -> None:
        """:meth:`assign_by_post`'s loop compiled (:func:`saca.model.posting.allocate`),
        with the same numbers and draws; then the needs go to their cadres."""
        from saca.model import posting  # compiled on first use (numba)

        nds, r, b, cs = self.needs, self.regime, self.behaviour, self.cadre_state
        n = cs.n
        off_post = cs.sunk[:n] & cs.full_time[:n]
        integers = self.backlog.dtype.kind != "f"  # numpy's bincount of nothing
        backlog = self.backlog.astype(np.float64)
        k = posting.Command(
            float(r.decision), float(self.relief), bool(r.offloading_allowed),
            float(b.consult_delay_hours), float(b.consult_hours), float(b.pool_backlog),
            float(b.hop_hours), float(b.order_trust_loss), float(b.meeting_trust_gain),
            float(b.offload_propensity), float(b.offload_trust_loss), float(b.knowledge_gain),
            float(self.meeting_end(0)), float(self.day_end + b.workday_start + b.meeting_hours),
            float(self.day_end), integers,
        )  # fmt: skip
        ready, above, to, chosen, contacts, handoffs, offloads = posting.allocate(
            self._posting_pools(), k, ids, nds.grid[ids], nds.comm[ids], nds.hh[ids],
            nds.ntype[ids], nds.t_ready[ids], nds.level[ids] >= 1, self.meeting,
            cs.active[:n].copy(), cs.away[:n].copy(), self.cadre_is_sunk,
            np.where(off_post, 100.0, 0.0), self.skill_matrix,
            self.reported_backlog.astype(np.float64), self.cadre_hours, self.cadre_comm,
            self._comm_street, backlog, cs.knowledge, self.cc_trust, nds.hours,
            nds.passed_by, self.rng,
        )  # fmt: skip
        self.backlog[:] = backlog
        nds.t_ready[ids] = ready
        nds.left_grid[ids[above]] = True  # handled above the grid (_mark_left_grid)
        self.record_handoffs(handoffs)
        if len(contacts):
            outcome = np.full(len(contacts), CONSULTED)
            self.households.contact_many(contacts[:, 0], contacts[:, 1], outcome)
        self.offloads_today += offloads
        go = to >= 0  # the others wait for tomorrow's meeting
        self._hand_over(ids[go], to[go], chosen[go])

    def _posting_pools(self):
        """The command's pools as compressed rows (built once: they do not change)."""
        from saca.model import posting

        if self._pools is None:
            n = len(self.cadres)
            none = np.empty(0, np.int64)
            ties = [self._cc_of_sunk.get(c, none) for c in range(n)]
            keys = (self.cc_sunk.astype(np.int64) << 32) | self.cc_comm.astype(np.int64)
            order = np.argsort(keys, kind="stable")
            self._pools = posting.Pools(
                *_rows(self._post_idx), *_rows(self._committee_idx), *_rows(self._community_idx),
                *_rows(self.street_cadres), *_rows(self.sunk_idx), *_rows(ties),
                keys[order], order.astype(np.int64),
            )  # fmt: skip
        return self._pools

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
        lo = int(np.searchsorted(nds.created[: nds.n], nds.created.dtype.type(self.day)))
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
        w_task, first, _ = unique_first(task_rep[win])
        w_cad = cad_pos[win][first]
        w_est = estimate[win][first]
        # A cadre takes its tasks in random order while their estimated hours fit.
        prio = np.lexsort((rng.random(len(w_cad)), w_cad))
        w_task, w_cad, w_est = w_task[prio], w_cad[prio], w_est[prio]
        cum = np.cumsum(w_est)
        grp_start = np.searchsorted(w_cad, w_cad)
        before = cum - w_est - np.where(grp_start > 0, cum[grp_start - 1], 0.0)
        fits = before + w_est <= np.maximum(left[w_cad] - backlog[w_cad], 0.0)
        self._to_cadres(tasks[w_task[fits]], a_idx[w_cad[fits]], chosen=True)

    def escalate(self, nid: int, cad: Cadre) -> None:
        """Pass a need beyond the cadre's reach up the hierarchy, setting off at the
        cadre's clock (see :meth:`escalate_many`).

        Args:
            nid: the need.
            cad: the cadre who diagnosed it.
        """
        self.escalate_many(np.array([nid]), np.array([cad.idx]), np.array([cad.clock]))

    def escalate_many(self, ids: np.ndarray, cads: np.ndarray, start: np.ndarray) -> None:
        """Pass needs beyond their cadres' reach up the hierarchy (seed 004, P14).

        Community-level needs go to a committee member; higher ones to the street office,
        or straight to the city platform when escalation is central or when a grid
        instructor carries it up across levels. Each need sets off when its cadre passes
        it on.

        Args:
            ids: the needs (distinct).
            cads: the cadre (index) who diagnosed each.
            start: the hour each cadre passed its need on.
        """
        nds = self.needs
        nds.passed_by[ids] = cads  # for overload_cascades, when a cadre takes it next
        up = (nds.level[ids] == 1) & self._has_committee[nds.comm[ids]]
        if self.regime.escalation == "central":
            city = ~up
        else:
            instructor = [getattr(self.cadres[c], "instructor", False) for c in cads.tolist()]
            city = ~up & np.array(instructor, dtype=bool)
        street = ~up & ~city
        for where, sel in ((nd.AT_COMMAND, up), (nd.AT_CITY, city), (nd.AT_STREET, street)):
            if sel.any():
                self.move(ids[sel], where, hops=1, start=start[sel])

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


def _rows(rows: list) -> tuple[np.ndarray, np.ndarray]:
    """Lists (or arrays) of indices as compressed rows: (flat, start)."""
    sizes = np.array([len(x) for x in rows], dtype=np.int64)
    start = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(sizes, out=start[1:])
    flat = np.concatenate([np.asarray(x, dtype=np.int64) for x in rows]) if rows else sizes
    return flat.astype(np.int64), start
