"""Every cadre's state as numpy arrays (one row per cadre), and the day's per-cadre stages
without a clock run on many rows at once.

A :class:`~saca.agents.cadre.Cadre` agent is a view onto its row (:class:`_Field`); the model
runs the stages below for all cadres together, and a cadre's one-row methods run them for
its own row. Seeds: 000 (effort, anxiety, burnout), 001 (paperwork, inspection), 002
(availability of in-service members, evaluation, recognition).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from saca.agents import needs as nd

if TYPE_CHECKING:
    from saca.model.model import CollaborationModel

# How each evaluation of in-service members works (seed 002): the chance a day's absence
# or service is noticed by it (accountability), the hours of assessment it takes, and the
# chance a day's service is recognised by it. Ordered from none to multi-headed assessment,
# whose burden the members fear. An input table, documented in docs/ODD.md §6.
ACCOUNTABILITY = {"none": 0.0, "points": 0.6, "satisfaction": 0.7, "multi": 0.9}
ASSESSMENT_HOURS = {"none": 0.0, "points": 0.1, "satisfaction": 0.05, "multi": 0.4}
RECOGNITION = {"none": 0.0, "points": 0.3, "satisfaction": 0.4, "multi": 0.4}


class CadreState:
    """The state of every cadre as a struct of numpy arrays, one row per cadre.

    What every cadre does each day (start the shift, meetings, reading the peer list,
    inspection, strain and motivation) runs on these arrays for all cadres at once; a
    :class:`Cadre` is a Mesa agent whose attributes read and write its own row. Rows are
    added as cadres are built, in growable arrays (like the needs).
    """

    FIELDS: ClassVar[dict[str, type]] = {
        "hours": np.float64,
        "overtime": np.float64,
        "hours_left": np.float64,
        "clock": np.float64,
        "hours_worked": np.float64,
        "formalism_hours": np.float64,
        "perfunctory_hours": np.float64,
        "effort": np.float64,
        "experience": np.float64,
        "motivation": np.float64,
        "baseline_motivation": np.float64,
        "resources": np.float64,
        "knowledge": np.float64,
        "exhaustion": np.float64,
        "recognition": np.float64,
        "compliance": np.float64,
        "felt_pressure": np.float64,
        "job_control": np.float64,
        "alignment": np.float64,
        "willingness": np.float64,
        "resolved_today": np.int64,
        "attempts_today": np.int64,
        "chosen_today": np.int64,
        "imposed_today": np.int64,
        "community": np.int64,
        "grid": np.int64,
        "reach": np.int64,
        "start_day": np.int64,
        "sunk": np.bool_,
        "full_time": np.bool_,
        "withdrawn": np.bool_,
        "active": np.bool_,
        "ordered": np.bool_,
        "called_out": np.bool_,
        "inspected": np.bool_,
        "sanctioned": np.bool_,
        "recognised": np.bool_,
        "met": np.bool_,
        # Recalled to a sending unit (withdrawal experiment; sunk cadres only): away
        # cadres are off duty and their states wait for their return.
        "away": np.bool_,
        # Yesterday's load L of an active cadre (0 when it did not work), observed by
        # metrics.overload_cascades; kept as it was while a cadre is away.
        "load": np.float64,
        # New needs came into the cadre's queue since it was last ordered.
        "queue_changed": np.bool_,
        # Whether hours_left, clock, hours_worked, formalism_hours and perfunctory_hours
        # hold a numpy scalar (rather than a Python float) in a run that keeps them per
        # cadre: an amount read from an array (a community's admin load, peer reports
        # counted by np.bincount) makes them one. The day's totals are summed as
        # Python's sum() sums such a mix (see CadreState.total), so results stay
        # bit-identical to that implementation for the same seed.
        "np_left": np.bool_,
        "np_clock": np.bool_,
        "np_worked": np.bool_,
        "np_formal": np.bool_,
        "np_perf": np.bool_,
    }
    # The per-day records a new day starts from zero.
    DAILY: ClassVar[tuple[str, ...]] = (
        "hours_worked",
        "formalism_hours",
        "perfunctory_hours",
        "resolved_today",
        "attempts_today",
        "chosen_today",
        "imposed_today",
        "inspected",
        "sanctioned",
        "recognised",
        "met",
        "np_worked",
        "np_formal",
        "np_perf",
    )

    def __init__(self) -> None:
        self.n = 0
        self._cap = 0
        for name, dtype in self.FIELDS.items():
            setattr(self, name, np.zeros(0, dtype))

    def add(self) -> int:
        """Append a zeroed row and return its index."""
        if self.n == self._cap:
            cap = max(64, 2 * self._cap)
            for name, dtype in self.FIELDS.items():
                arr = np.zeros(cap, dtype)
                arr[: self.n] = getattr(self, name)[: self.n]
                setattr(self, name, arr)
            self._cap = cap
        self.n += 1
        return self.n - 1

    def all(self) -> np.ndarray:
        """Indices of every cadre."""
        return np.arange(self.n)

    def total(self, field: str) -> float:
        """The sum of a field over every cadre in cadre order, as Python's built-in
        ``sum`` adds the per-cadre values (compensated while they are Python floats,
        plainly from the first numpy scalar on), with that result's type.

        Args:
            field: ``hours_worked``, ``formalism_hours`` or ``perfunctory_hours``.
        """
        flag = {"hours_worked": "np_worked", "formalism_hours": "np_formal"}.get(field, "np_perf")
        values = getattr(self, field)[: self.n]
        first = int(np.argmax(getattr(self, flag)[: self.n])) if self.n else 0
        if self.n == 0 or not getattr(self, flag)[first]:
            return sum(values.tolist())
        head = sum(values[:first].tolist())
        return np.add.accumulate(np.concatenate([[head], values[first:]]))[-1]


class _Field:
    """A cadre attribute stored in its row of the model's :class:`CadreState`.

    Args:
        kind: the Python type a read returns (float, int or bool).
    """

    __slots__ = ("kind", "name")

    def __init__(self, kind: type) -> None:
        self.kind = kind
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return self.kind(getattr(obj.model.cadre_state, self.name)[obj.idx])

    def __set__(self, obj, value) -> None:
        getattr(obj.model.cadre_state, self.name)[obj.idx] = value


# ===== every cadre at once ===========================================================
# The day's per-cadre submodels, run on the rows ``idx`` of the model's CadreState. The
# model runs them for all cadres together; a Cadre's methods run them for its own row.
# Each expression keeps the order of operations of its one-cadre form, so a vectorised
# day gives exactly the numbers a loop over cadres gives.
def reset_days(m: CollaborationModel, idx: np.ndarray) -> None:
    """Start today's records (hours, counts, events) of cadres ``idx`` from zero.

    Args:
        m: the model.
        idx: cadre indices.
    """
    st = m.cadre_state
    for name in CadreState.DAILY:
        getattr(st, name)[idx] = 0


def availability(m: CollaborationModel, idx: np.ndarray) -> np.ndarray:
    """Who of cadres ``idx`` works today (P9, seed 000, 002).

    Withdrawn cadres rest until recovered, and cadres recalled to their unit (away) are
    off duty; other full-time cadres work every day;
    in-service members choose to, day by day, unless a surge orders them out:
    P(active) = [w + c (1 − w)] (β + (1 − β) motivation) (1 − exhaustion), with w
    willingness and c compliance; a member called out by a surge turns out with
    P = max(P, surge_turnout). One draw per in-service member asked, in cadre order.

    Args:
        m: the model.
        idx: cadre indices, ascending.
    """
    st, b = m.cadre_state, m.behaviour
    active = ~st.withdrawn[idx] & ~st.away[idx]
    choose = active & ~st.full_time[idx]
    ask = idx[choose]
    if len(ask):
        will, comp = st.willingness[ask], st.compliance[ask]
        w = will + comp * (1 - will)
        p = w * (b.participation_base + (1 - b.participation_base) * st.motivation[ask])
        p *= 1 - st.exhaustion[ask]
        p = np.where(st.called_out[ask], np.maximum(p, b.surge_turnout), p)
        active[choose] = m.rng.random(len(ask)) < p
    return active


def overheads(m: CollaborationModel, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hours cadres ``idx`` spend before any need: (formalism, other overheads).

    Formalism is what is counted rather than what serves a need: the paperwork that
    checklist inspection demands of full-time staff, the defensive records a compliant
    cadre chooses to keep when it feels watched and records are what is counted
    (checklist goals), data entry when every event goes up the digital system (seed
    001, 003), and the assessments of in-service members (seed 002). Other overheads:
    community cadres' administrative load from above, less what they offload; off-post
    cadres carry what is offloaded onto them (seed 001).

    Args:
        m: the model.
        idx: cadre indices.
    """
    st, b, r = m.cadre_state, m.behaviour, m.regime
    counted = 1 - r.goals
    formal = b.cover_hours * st.compliance[idx] * st.felt_pressure[idx] * counted
    if not r.event_filter:
        formal += b.data_entry_hours
    ft, sunk, comm = st.full_time[idx], st.sunk[idx], st.community[idx]
    formal = np.where(ft, formal + m.paperwork_hours(), formal)
    formal = np.where(sunk & ~ft, formal + ASSESSMENT_HOURS[r.evaluation], formal)
    admin = m.population.admin_hours * (1 - m.offload_share[comm])
    other = np.where(sunk, np.where(ft, m.offloaded_admin[comm], 0.0), admin)
    return formal, other


def spend_many(
    m: CollaborationModel,
    idx: np.ndarray,
    hours: np.ndarray | float,
    *,
    formalism: bool = False,
    hours_np: np.ndarray | bool = False,
) -> None:
    """Cadres ``idx`` (distinct) each spend up to ``hours`` of today's time on
    something that serves no community's coverage (as :meth:`Cadre.spend` with no
    community).

    Args:
        m: the model.
        idx: cadre indices, each at most once.
        hours: hours wanted, one per cadre or one for all.
        formalism: whether they go to mandates, paperwork or records (counted work).
        hours_np: whether each amount is a numpy scalar in a one-by-one run (see
            CadreState.FIELDS).
    """
    st = m.cadre_state
    left = st.hours_left[idx]
    short = left < hours
    h = np.where(short, left, hours)
    h_np = np.where(short, st.np_left[idx], hours_np)
    pos = h > 0
    i, h, h_np = idx[pos], h[pos], h_np[pos]
    st.hours_left[i] -= h
    st.clock[i] += h
    st.hours_worked[i] += h
    st.np_left[i] |= h_np
    st.np_clock[i] |= h_np
    st.np_worked[i] |= h_np
    if formalism:
        st.formalism_hours[i] += h
        st.np_formal[i] |= h_np


def begin_days(m: CollaborationModel, idx: np.ndarray) -> None:
    """Cadres ``idx`` decide whether to work, start the clock (office hours, or after
    work for in-service members), take the overheads and set today's effort.

    Args:
        m: the model.
        idx: cadre indices, ascending.
    """
    st, b = m.cadre_state, m.behaviour
    reset_days(m, idx)
    active = availability(m, idx)
    st.active[idx] = active
    day0 = m.day * nd.HOURS_PER_DAY
    st.clock[idx] = day0 + np.where(st.full_time[idx], b.workday_start, b.after_hours_start)
    st.hours_left[idx] = np.where(active, st.hours[idx] + st.overtime[idx], 0.0)
    st.np_left[idx] = st.np_clock[idx] = False
    on = idx[active]
    if len(on) == 0:
        return
    formal, other = overheads(m, on)
    # Paperwork is a numpy scalar once correction's relief is one; a community's admin
    # load is read from an array (see CadreState.FIELDS).
    paper_np = st.full_time[on] & isinstance(m.relief, np.generic)
    spend_many(m, on, formal, formalism=True, hours_np=paper_np)
    spend_many(m, on, other, hours_np=~st.sunk[on])
    st.effort[on] = efforts(m, on)


def anxieties(m: CollaborationModel, idx: np.ndarray) -> np.ndarray:
    """Anxiety of cadres ``idx`` from real risk, amplified by felt pressure, eased by
    experience (seed 000).

    a = risk · (1 − w_p + w_p · felt pressure) · (1 − e_x · experience)

    Args:
        m: the model.
        idx: cadre indices.
    """
    st, b = m.cadre_state, m.behaviour
    w = b.anxiety_pressure
    return (
        m.risk * (1 - w + w * st.felt_pressure[idx]) * (1 - b.experience_calm * st.experience[idx])
    )


def efforts(m: CollaborationModel, idx: np.ndarray) -> np.ndarray:
    """Effort in [0, 1] of cadres ``idx`` (seed 000): intrinsic motivation plus the
    compliance that sanctions extract from the less motivated, eroded by exhaustion,
    anxiety and goals the cadre does not share.

    effort = [m + c (1 − m)] (1 − x) (1 − e_a a) (1 − e_g (1 − A))
    with m motivation, c compliance, x exhaustion, a anxiety, A goal alignment.

    Args:
        m: the model.
        idx: cadre indices.
    """
    st, b = m.cadre_state, m.behaviour
    mot = st.motivation[idx]
    return (
        (mot + st.compliance[idx] * (1 - mot))
        * (1 - st.exhaustion[idx])
        * (1 - b.anxiety_effect * anxieties(m, idx))
        * (1 - b.misalignment_effort * (1 - st.alignment[idx]))
    )


def sanction(m: CollaborationModel, idx: np.ndarray) -> None:
    """Inspection caught cadres ``idx`` in perfunctory work or absence (seed 000, 001):
    fear buys compliance at once, and costs strain and intrinsic motivation.

    Args:
        m: the model.
        idx: cadre indices, each at most once.
    """
    st, b = m.cadre_state, m.behaviour
    st.sanctioned[idx] = True
    st.compliance[idx] += b.sanction_compliance * (1 - st.compliance[idx])
    st.exhaustion[idx] = np.minimum(1.0, st.exhaustion[idx] + b.sanction_strain)
    st.motivation[idx] = np.maximum(0.0, st.motivation[idx] - b.sanction_motivation)


def supports(m: CollaborationModel, idx: np.ndarray) -> np.ndarray:
    """Support buffering strain for cadres ``idx``: trust of fellow cadres, resources,
    recognition.

    Args:
        m: the model.
        idx: cadre indices.
    """
    st, b = m.cadre_state, m.behaviour
    w_t, w_r = b.support_trust_weight, b.support_resources_weight
    return (
        w_t * m._cadre_trust_mean[idx]
        + w_r * st.resources[idx]
        + max(0.0, 1 - w_t - w_r) * st.recognition[idx]
    )


def end_days(m: CollaborationModel, idx: np.ndarray) -> None:
    """Cadres ``idx`` update felt control and pressure, alignment, compliance,
    recognition, exhaustion, motivation and withdrawal from the day's events (seed 000);
    in-service members' willingness decays without accountability (an evaluation, or an
    inspection that day) and is rebuilt by recognition (P9); off-post terms end in
    rotation (seed 002).

    load L = (hours worked + w_b min(backlog, 2 capacity)) / capacity
    dx = r_x (L − 1)+ (1 + s_c (1 − J)) (1 + s_r risk) (1 − b_s S)
         + s_a r_x (anxiety + felt pressure) − r_r (1 − L)+ (1 − b_s + b_s S)
    with J felt job control and S support.

    Args:
        m: the model.
        idx: cadre indices, ascending.
    """
    st, b = m.cadre_state, m.behaviour
    # A member called out by a surge was ordered out today (seed 000).
    st.ordered[idx] |= st.called_out[idx]
    st.called_out[idx] = False
    chosen = st.chosen_today[idx]
    tasks = chosen + st.imposed_today[idx]
    jc = st.job_control[idx]
    has = tasks > 0
    jc[has] += b.control_rate * (chosen[has] / tasks[has] - jc[has])
    st.job_control[idx] = jc
    pressed = st.inspected[idx] | st.ordered[idx]
    fp = st.felt_pressure[idx]
    fp += b.pressure_rate * (pressed.astype(np.float64) - fp)
    st.felt_pressure[idx] = fp
    active, ft = st.active[idx], st.full_time[idx]
    al = st.alignment[idx]
    st.alignment[idx] = np.where(
        st.met[idx],
        al + b.alignment_gain * (1 - al),
        np.where(active & ft, al - b.alignment_decay * al, al),
    )
    comp = st.compliance[idx]
    st.compliance[idx] = comp - b.compliance_decay * comp
    rec = st.recognition[idx]
    rec -= b.recognition_decay * rec
    rec = np.where(st.recognised[idx], rec + b.recognition_gain * (1 - rec), rec)
    st.recognition[idx] = rec
    cap = st.hours[idx] + st.overtime[idx]
    on = active & (cap > 0)
    dx = np.full(len(idx), -b.recovery_rate)
    st.load[idx[~on]] = 0.0
    if on.any():
        w, c = idx[on], cap[on]
        load = (st.hours_worked[w] + b.backlog_load * np.minimum(m.backlog[w], 2 * c)) / c
        st.load[w] = load  # observed: load > 1 is overload (metrics.overload_cascades)
        sup = supports(m, w)
        dx[on] = (
            b.exhaustion_rate
            * np.maximum(0.0, load - 1)
            * (1 + b.low_control_strain * (1 - st.job_control[w]))
            * (1 + b.risk_strain * m.risk)
            * (1 - b.support_buffer * sup)
            + b.anxiety_strain * b.exhaustion_rate * (anxieties(m, w) + st.felt_pressure[w])
            - b.recovery_rate * np.maximum(0.0, 1 - load) * (1 - b.support_buffer * (1 - sup))
        )
    exh = np.minimum(1.0, np.maximum(0.0, st.exhaustion[idx] + dx))
    st.exhaustion[idx] = exh
    wd = st.withdrawn[idx]
    st.withdrawn[idx] = (exh > b.withdraw_threshold) | (wd & (exh >= b.burnout_threshold))
    hw = st.hours_worked[idx]
    worked = hw != 0
    formal_share = np.zeros(len(idx))
    formal_share[worked] = st.formalism_hours[idx][worked] / hw[worked]
    target = (
        st.baseline_motivation[idx]
        + b.control_motivation * (st.job_control[idx] - 0.5)
        + b.recognition_motivation * rec
        - b.crowding_motivation * fp * formal_share
        - b.exhaustion_motivation * exh
    )
    mot = st.motivation[idx]
    step = b.motivation_rate * (target - mot)
    st.motivation[idx] = np.minimum(1.0, np.maximum(0.0, mot + step))
    st.overtime[idx] = 0.0
    st.ordered[idx] = False
    sunk = st.sunk[idx]
    members = idx[sunk & ~ft]
    if len(members):
        # An inspection of attendance holds the member to account that day, as an
        # evaluation does every day with its own strength (seed 002).
        acc = np.where(st.inspected[members], 1.0, ACCOUNTABILITY[m.regime.evaluation])
        d = b.participation_decay
        will = st.willingness[members]
        rebuild = b.recognition_rebuild * d * st.recognition[members]
        will += -d * will * (1 - acc) + rebuild * (1 - will)
        st.willingness[members] = np.minimum(1.0, np.maximum(0.0, will))
    off_post = idx[sunk & ft]
    ended = off_post[m.day - st.start_day[off_post] >= m.population.off_post_term]
    for i in ended.tolist():
        m.rotate(m.cadres[i])
