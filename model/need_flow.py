"""The day's needs: how they arise and resurface, self-help, and how residents report them."""

from __future__ import annotations

import numpy as np

from saca.agents import needs as nd
from saca.agents.cadre import Cadre
from saca.model.situation import PHASES


class NeedFlow:
    """Stages 2–4 of the day (ODD §7.4–7.6), mixed into
    :class:`~saca.model.model.CollaborationModel`: needs arise (and closed-on-paper
    problems resurface), households help themselves, and residents report what is left."""

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
        self.close_on_paper_many(np.array([nid]))

    def close_on_paper_many(self, ids: np.ndarray) -> None:
        """:meth:`close_on_paper` for several needs (distinct), in order.

        Args:
            ids: the needs.
        """
        if len(ids) == 0:
            return
        self.needs.close_on_paper(ids)
        self.paper_closures_today += len(ids)
        due = self.day + max(1, round(self.behaviour.resurface_days))
        self._resurfacing.setdefault(due, []).extend(ids.tolist())

    def self_help(self, ids: np.ndarray) -> np.ndarray:
        """Stage 3: residents solve a share through their own ties at once (seed 003);
        return the rest.

        Args:
            ids: today's new needs, ascending (as :meth:`arise_needs` returns them).
        """
        nds = self.needs
        p = self.households.self_help_probability(nds.comm[ids], nds.ntype[ids], nds.hh[ids])
        helped = self.rng.random(len(ids)) < p
        solved = ids[helped]
        nds.resolve(solved, nds.t_created[solved])
        nds.self_helped[solved] = True
        self.resolved_today += len(solved)
        return ids[~helped]  # today's ids are ascending: what np.setdiff1d would return

    # ----- stage 4: reporting -------------------------------------------------------
    def reporting(self, ids: np.ndarray) -> None:
        """Stage 4: each household reports through its most trusted channel; with low
        trust the need stays hidden (seed 000)."""
        hhs, nds = self.households, self.needs
        if len(ids) == 0:
            return
        channels, trusts = hhs.choose_channels(nds.hh[ids])
        p = hhs.report_probability(trusts, nd.URGENCY[nds.ntype[ids]])
        told = self.rng.random(len(ids)) < p
        self.report(ids[told], channels[told])
        self.hide(ids[~told])

    def hide(self, ids: np.ndarray) -> None:
        """Needs their households keep to themselves: each goes on top of its household's
        stack of hidden needs, which a visit takes from the top (:meth:`hidden_need_of`).

        Args:
            ids: the needs, in the order they were kept back.
        """
        top, below = self.hidden_top, self.needs.hidden_below
        for nid, h in zip(ids.tolist(), self.needs.hh[ids].tolist(), strict=True):
            below[nid] = top[h]
            top[h] = nid

    def hidden_need_of(self, h: int) -> int:
        """A live hidden need of household ``h`` (one a visit could reveal), or -1: the
        household's stack of hidden needs is taken from the top down to the first need
        still hidden and not overdue.

        Args:
            h: household index.
        """
        nds, top = self.needs, self.hidden_top
        nid = int(top[h])
        while nid >= 0:
            top[h] = nds.hidden_below[nid]
            if nds.status[nid] == nd.HIDDEN and nds.deadline[nid] >= self.day:
                return nid
            nid = int(top[h])
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
