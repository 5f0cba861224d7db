"""Residents (households): needs, self-help, reporting, trust and complaints.

Household state is vectorised in :class:`Households` (numpy arrays, one row per
household) so that a district of 100,000 households runs fast; :class:`Resident` is a
Mesa agent per household that reads and writes its own row, so a notebook can still say
``resident.trust_institution``.

Seeds: 000 (trust of strangers, two-way communication), 001 (unwanted visits, complaints),
003 (self-help through residents' ties, crowding out by front-loading).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from saca.agents import needs as nd
from saca.agents.cadre import FAIL, VISIT_UNWANTED, VISIT_WANTED

if TYPE_CHECKING:
    from saca.agents.cadre import Cadre
    from saca.model.model import CollaborationModel


class Households:
    """The vectorised state of every household and the resident-side submodels.

    Args:
        model: the model (for parameters, ties, needs and the random generator).
    """

    def __init__(self, model: CollaborationModel) -> None:
        self.model = model
        b = model.behaviour
        n = model.structure.n_households
        rng = model.rng
        self.trust_institution = np.clip(rng.normal(b.institution_trust, 0.1, n), 0, 1)
        # Opinion of a kind of cadre the household has not met (the prior for a new tie).
        self.opinion_sunk = np.clip(rng.normal(b.stranger_trust, 0.05, n), 0, 1)
        self.opinion_community = np.clip(rng.normal(b.community_trust, 0.1, n), 0, 1)
        self.satisfaction = np.full(n, 0.5)
        self.complaints = np.zeros(n, np.int32)
        self.perceived_sunk = self.opinion_sunk.copy()
        self.perceived_community = self.opinion_community.copy()
        # Engagement in self-organisation, built by being consulted (seed 003).
        self.engagement = np.zeros(n)
        # Today's contacts in order: (household, cadre, outcome) rows, recorded one at a
        # time in ``_single`` and moved into ``_blocks`` whenever a whole block arrives.
        self._single: list[tuple[int, int, int]] = []
        self._blocks: list[np.ndarray] = []
        self.complaints_today = 0

    # ----- needs ---------------------------------------------------------------------
    def self_help_probability(
        self, comm: np.ndarray, ntype: np.ndarray, hh: np.ndarray
    ) -> np.ndarray:
        """Chance that residents solve a need through their own ties (seed 003).

        s = s_max · [cap · coh · (u + (1 − u) E_c) · (1 − κ f) + β f (1 − cap)]
        with E_c the mean engagement of the community's households (built by being
        consulted), u the self-help an unengaged community keeps, f front-loading, κ
        crowding out, β capacity building; a social organisation multiplies it for
        services and disputes; the type table (needs.SELF_HELP_TYPE) makes emergency,
        policy and facility needs harder to solve among neighbours. Isolated households
        (no resident ties) get none.
        """
        m = self.model
        st, b, r = m.structure, m.behaviour, m.regime
        cap, coh = st.capacity[comm], st.cohesion[comm]
        f = r.front_loading
        u = b.self_help_unengaged
        eng = self.community_engagement()[comm]
        s = b.self_help_max * (
            cap * coh * (u + (1 - u) * eng) * (1 - b.crowding_out * f)
            + b.capacity_building * f * (1 - cap)
        )
        type_factor = nd.SELF_HELP_TYPE[ntype]
        org = np.where(st.has_social_org[comm] & (ntype <= nd.DISPUTE), b.social_org_boost, 1.0)
        return np.clip(s * type_factor * org, 0, 1) * (m.degree[hh] > 0)

    def community_engagement(self) -> np.ndarray:
        """Mean engagement of each community's households."""
        st = self.model.structure
        n_c = st.n_communities
        tot = np.bincount(st.hh_comm, weights=self.engagement, minlength=n_c)
        return tot / np.maximum(st.households_per_community, 1)

    def choose_channel(self, h: int) -> tuple[int, float]:
        """The cadre the household trusts most among those it knows, or the hotline (-1).

        Args:
            h: household index.

        Returns:
            (cadre index or -1, the trust in that channel).
        """
        ties = self.model.ties
        trust = ties.trust.item
        best, best_trust = -1, self.trust_institution.item(h)
        for t in ties.of_household(h):
            tr = trust(t)
            if tr > best_trust:
                best, best_trust = ties.cadre.item(t), tr
        return best, best_trust

    def choose_channels(self, hh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`choose_channel` for many households at once, with the same results.

        Going through a household's ties in order and keeping the first strictly more
        trusted one ends at the most trusted tie of lowest index when it beats the
        institution, so that tie is found for all households in one pass over the ties.

        Args:
            hh: household indices (repeats allowed).

        Returns:
            (cadre index or -1, the trust in that channel), one entry per household given.
        """
        from saca.agents import passes  # compiled on first use (numba)

        ties = self.model.ties
        return passes.best_channels(
            ties.hh, ties.cadre, ties.trust, ties.n, np.asarray(hh, np.int64),
            self.trust_institution,
        )  # fmt: skip

    def report_probability(self, trust: np.ndarray, urgency: np.ndarray) -> np.ndarray:
        """Chance that a need is reported: logistic in trust, urgent needs more (seed 000).

        P = 1 / (1 + exp(−(trust − θ + w_u (urgency − 0.5)) / σ))
        """
        b = self.model.behaviour
        z = (trust - b.report_threshold + b.report_urgency * (urgency - 0.5)) / b.report_spread
        return 1.0 / (1.0 + np.exp(-z))

    # ----- contacts and trust -----------------------------------------------------
    def contact(self, h: int, cadre: int, outcome: int) -> None:
        """Record a contact; trust moves when the day's contacts are applied.

        Args:
            h: household index.
            cadre: cadre index.
            outcome: SUCCESS, LATE, FAIL, VISIT_UNWANTED, VISIT_WANTED or CONSULTED.
        """
        self._single.append((h, cadre, outcome))

    def contact_many(self, hh: np.ndarray, cadres: np.ndarray, outcomes: np.ndarray) -> None:
        """Record contacts in order, as :meth:`contact` one by one.

        Args:
            hh: household indices.
            cadres: cadre indices.
            outcomes: outcome codes.
        """
        self._flush()
        self._blocks.append(np.stack([hh, cadres, outcomes], axis=1).astype(np.int64))

    def _flush(self) -> None:
        """Move the contacts recorded one at a time into the blocks, keeping the order."""
        if self._single:
            self._blocks.append(np.array(self._single, dtype=np.int64).reshape(-1, 3))
            self._single.clear()

    @property
    def contacts(self) -> list[tuple[int, int, int]]:
        """Today's contacts so far, in order, as (household, cadre, outcome)."""
        self._flush()
        return [tuple(row) for blk in self._blocks for row in blk.tolist()]

    def visit(self, h: int, cadre: Cadre) -> None:
        """A door-knocking visit: reveals a hidden need if there is one, else it is unwanted.

        Args:
            h: household visited.
            cadre: the visiting cadre.
        """
        m = self.model
        hidden = m.hidden_need_of(h)
        if hidden >= 0:
            m.report_to_visitor(hidden, cadre)
            self.contact(h, cadre.idx, VISIT_WANTED)
        else:
            self.contact(h, cadre.idx, VISIT_UNWANTED)

    def apply_contacts(self) -> None:
        """Move trust, familiarity, satisfaction and complaints for today's contacts (seed
        000, 001), in one compiled pass (:func:`saca.agents.passes.contacts`).

        success: t += g (1 − t); late: t += h g (1 − t); failure: t −= λ g t;
        unwanted visit: t −= v (1 − familiarity), complaint with p = c (1 − familiarity);
        wanted visit: t += h g (1 − t); consulted: t += g_c (1 − t) and engagement rises;
        a failure brings a complaint with p = c_f c;
        every contact: familiarity += φ (1 − familiarity).
        Institution trust moves by the share ι of the same changes.
        """
        from saca.agents import passes  # compiled on first use (numba)

        self._flush()
        if not self._blocks:
            return
        m, b = self.model, self.model.behaviour
        ties = m.ties
        arr = np.concatenate(self._blocks) if len(self._blocks) > 1 else self._blocks[0]
        self._blocks.clear()
        if len(arr) == 0:
            return
        hh, cad, out = arr[:, 0], arr[:, 1], arr[:, 2]
        sunk = m.cadre_is_sunk[cad]
        prior = np.where(sunk, self.opinion_sunk[hh], self.opinion_community[hh])
        idx = ties.get_or_add_many(hh, cad, prior)
        g = b.trust_gain
        constants = tuple(
            float(x)
            for x in (
                g,
                b.late_gain_share * g,
                -b.loss_aversion * g,
                -b.visit_trust_loss,
                b.consult_trust_gain,
                b.familiarity_gain,
                b.institution_share,
                b.engagement_gain,
                b.satisfaction_step,
            )
        )
        fam = passes.contacts(
            idx, hh, out, ties.trust, ties.familiarity, ties.n, self.trust_institution,
            self.engagement, self.satisfaction, constants,
        )  # fmt: skip
        p_complain = np.select(
            [out == VISIT_UNWANTED, out == FAIL],
            [b.complaint_prob * (1 - fam), b.fail_complaint_share * b.complaint_prob],
            0.0,
        )
        complain = m.rng.random(len(hh)) < p_complain
        np.add.at(self.complaints, hh[complain], 1)
        self.complaints_today += int(complain.sum())

    def gave_up(self, hh: np.ndarray) -> None:
        """Households whose reported need was dropped lose trust in the institution.

        Args:
            hh: households (one entry per dropped need).
        """
        b = self.model.behaviour
        ti = self.trust_institution[hh]
        np.add.at(self.trust_institution, hh, -b.trust_gain * b.loss_aversion * ti)
        np.add.at(self.satisfaction, hh, -b.satisfaction_step * self.satisfaction[hh])
        self._clip(hh)

    def settled_above(self, hh: np.ndarray) -> None:
        """Needs settled by the street office or the city platform raise institution trust.

        Args:
            hh: households served.
        """
        from saca.agents import passes  # compiled on first use (numba)

        b = self.model.behaviour
        passes.settle(
            self.trust_institution,
            self.satisfaction,
            np.asarray(hh, np.int64),
            float(b.trust_gain),
            float(b.satisfaction_step),
        )

    def _clip(self, hh: np.ndarray) -> None:
        """Keep the touched households' trust and satisfaction in [0, 1] (a household with
        several outcomes in a day can overshoot)."""
        self.trust_institution[hh] = np.clip(self.trust_institution[hh], 0, 1)
        self.satisfaction[hh] = np.clip(self.satisfaction[hh], 0, 1)

    def update_opinions(self) -> None:
        """Aggregate trust by kind of cadre and spread opinions by word of mouth (seed 000).

        perceived_k[h] = mean trust on h's ties to cadres of kind k (opinion_k if none);
        opinion_k ← (1 − w) opinion_k + w · A perceived_k  (A row-normalised ties);
        the institution's trust is pulled the same way; engagement fades without
        consultation.
        """
        from saca.agents import passes  # compiled on first use (numba)

        m, b = self.model, self.model.behaviour
        ties = m.ties
        self.perceived_sunk, self.perceived_community = passes.perceived(
            ties.hh, ties.cadre, ties.trust, ties.n, m.cadre_is_sunk,
            self.opinion_sunk, self.opinion_community,
        )  # fmt: skip
        w = float(b.word_of_mouth)
        has_ties = m.degree > 0
        a = m.adjacency
        heard = passes.spread(
            a.indptr, a.indices, a.data,
            self.perceived_sunk, self.perceived_community, self.trust_institution,
        )  # fmt: skip
        for opinion, told in zip(
            (self.opinion_sunk, self.opinion_community, self.trust_institution), heard, strict=True
        ):
            passes.mix(opinion, told, w, has_ties)
        self.engagement *= 1 - b.engagement_decay


class Resident(mesa.Agent):
    """One household, a view onto its row of :class:`Households`.

    Residents do not step one by one: the model runs the resident submodels for all
    households at once. Use this object to inspect a household.

    Args:
        model: the model.
        index: the household's row.
    """

    def __init__(self, model: CollaborationModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def community(self) -> int:
        """The household's community."""
        return int(self.model.structure.hh_comm[self.index])

    @property
    def grid(self) -> int:
        """The household's grid."""
        return int(self.model.structure.hh_grid[self.index])

    @property
    def trust_institution(self) -> float:
        """Trust in the institution (street office, hotline), [0, 1]."""
        return float(self.model.households.trust_institution[self.index])

    @property
    def trust_sunk(self) -> float:
        """Mean trust in the sunk cadres the household knows (its opinion if none)."""
        return float(self.model.households.perceived_sunk[self.index])

    @property
    def trust_community(self) -> float:
        """Mean trust in the community cadres the household knows."""
        return float(self.model.households.perceived_community[self.index])

    @property
    def satisfaction(self) -> float:
        """Running satisfaction with the service received, [0, 1]."""
        return float(self.model.households.satisfaction[self.index])

    @property
    def complaints(self) -> int:
        """Complaints the household has made."""
        return int(self.model.households.complaints[self.index])

    @property
    def known_cadres(self) -> dict[int, tuple[float, float]]:
        """Cadres the household knows: unique_id → (familiarity, trust)."""
        ties = self.model.ties
        return {
            self.model.cadres[int(ties.cadre[t])].unique_id: (
                float(ties.familiarity[t]),
                float(ties.trust[t]),
            )
            for t in ties.of_household(self.index)
        }

    @property
    def needs(self) -> list[dict]:
        """The household's needs so far, as dicts (type, status, created, resolved)."""
        nds = self.model.needs
        ids = np.flatnonzero(nds.hh[: nds.n] == self.index)
        status = ("hidden", "open", "resolved", "dropped")
        return [
            {
                "type": nd.NEED_TYPES[nds.ntype[i]],
                "status": status[nds.status[i]],
                "created": int(nds.created[i]),
                "resolved": int(nds.resolved[i]),
            }
            for i in ids
        ]
