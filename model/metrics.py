"""The metrics contract (DESIGN §4): one row of per-day values, and summaries per window.

Per-day values are flows of that day (needs created, resolved, complaints, hours) or
states at the end of it (trust, burnout, open needs). Summaries cover the whole run
(window ``all``) and each phase, computed from the needs themselves where the metric is
about needs, so that the identity ``created = resolved + open + hidden + dropped`` holds
in every window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from saca.agents import needs as nd

if TYPE_CHECKING:
    from saca.model.model import CollaborationModel


@dataclass(frozen=True)
class Metric:
    """What tables, figures, the app and reports need to know of one metric.

    Args:
        name: the column name in summaries and time series.
        label: the readable name for axes and tables.
        short: a short name for narrow places (the app's metric rows).
        better: True if higher is better, False if lower is, None if neither end is better
            (counts driven by the situation, shares without a better end, mechanism
            probes): no regime can "win" on those.
        kind: ``share`` (a share, a mean of [0, 1] states or a [0, 1] spread), ``count``
            (needs or events) or ``amount`` (days, hours: never negative).
    """

    name: str
    label: str
    short: str
    better: bool | None
    kind: str

    @property
    def bounds(self) -> tuple[float, float | None]:
        """The natural range: [0, 1] for shares, [0, ∞) otherwise."""
        return (0.0, 1.0) if self.kind == "share" else (0.0, None)


RECORDS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("needs_created", "Needs created (count)", "New needs", None, "count"),
        Metric("needs_resolved", "Needs resolved (count)", "Resolved", None, "count"),
        Metric("needs_open", "Open needs (count)", "Open needs", False, "count"),
        Metric("needs_hidden", "Hidden needs (count)", "Hidden needs", False, "count"),
        Metric("needs_dropped", "Needs dropped (count)", "Dropped", False, "count"),
        Metric("efficacy", "Efficacy (share resolved by deadline)", "Efficacy", True, "share"),
        Metric("resolution_rate", "Resolution rate", "Resolution rate", True, "share"),
        Metric(
            "response_time_mean", "Response time, mean (days)", "Response time", False, "amount"
        ),
        Metric(
            "response_time_p90",
            "Response time, 90th percentile (days)",
            "Response time p90",
            False,
            "amount",
        ),
        Metric("escalation_share", "Escalated share of needs", "Escalated", None, "share"),
        Metric(
            "trust_resident_sunk",
            "Residents' trust in sunk cadres",
            "Trust resident–sunk",
            True,
            "share",
        ),
        Metric(
            "trust_resident_community",
            "Residents' trust in community cadres",
            "Trust resident–community",
            True,
            "share",
        ),
        Metric(
            "trust_institution",
            "Residents' trust in institutions",
            "Trust in institutions",
            True,
            "share",
        ),
        Metric(
            "trust_cadre_cadre",
            "Trust between sunk and community cadres",
            "Trust cadre–cadre",
            True,
            "share",
        ),
        Metric(
            "burnout_mean",
            "Cadre burnout (mean exhaustion)",
            "Burnout (mean exhaustion)",
            False,
            "share",
        ),
        Metric("burnout_share", "Burned-out share of cadres", "Burned-out share", False, "share"),
        Metric(
            "burnout_sunk",
            "Burnout of sunk cadres (mean exhaustion)",
            "Burnout, sunk",
            False,
            "share",
        ),
        Metric(
            "burnout_community",
            "Burnout of community cadres (mean exhaustion)",
            "Burnout, community",
            False,
            "share",
        ),
        Metric(
            "shirking_rate",
            "Shirking (perfunctory share of hours)",
            "Shirking rate",
            False,
            "share",
        ),
        Metric(
            "formalism_share", "Formalism (paperwork share of hours)", "Formalism", False, "share"
        ),
        Metric(
            "participation_in_service",
            "In-service members taking part (share)",
            "In-service taking part",
            None,
            "share",
        ),
        Metric("complaints", "Complaints (count)", "Complaints", False, "count"),
        Metric(
            "coverage_gini", "Coverage inequality (Gini of visits)", "Coverage Gini", False, "share"
        ),
        Metric(
            "efficacy_sd_between_communities",
            "Efficacy spread between communities (sd)",
            "Efficacy spread",
            False,
            "share",
        ),
        Metric(
            "hours_per_resolved",
            "Cadre hours per resolved need",
            "Hours per resolved",
            False,
            "amount",
        ),
        Metric(
            "workload_sunk", "Hours worked per sunk cadre on duty", "Workload, sunk", None, "amount"
        ),
        Metric(
            "workload_community",
            "Hours worked per community cadre on duty",
            "Workload, community",
            None,
            "amount",
        ),
        Metric("offloads", "Needs offloaded between cadres (count)", "Offloads", None, "count"),
        Metric(
            "paper_closures", "Needs closed on paper only (count)", "Paper closures", None, "count"
        ),
        Metric(
            "mandate_relief",
            "Cadres relieved of mandated visits (share)",
            "Mandate relief",
            None,
            "share",
        ),
        Metric(
            "efficacy_worst_decile",
            "Efficacy of the worst-off decile of communities",
            "Efficacy, worst decile",
            True,
            "share",
        ),
        Metric(
            "task_concentration",
            "Task concentration (Gini of needs resolved per cadre)",
            "Task concentration",
            False,
            "share",
        ),
        Metric(
            "overload_cascades", "Overload cascades (count)", "Overload cascades", False, "count"
        ),
    )
}
"""Every metric's record, in the order of the files: the one place a metric's label,
better direction and range are written. Directions follow each metric's meaning in
DESIGN §4. The first 25 are DESIGN §4's contract; ``needs_dropped`` completes the accounting
identity; ``workload_*`` (mean hours worked per active cadre of each kind), ``offloads``,
``paper_closures`` and ``mandate_relief`` expose mechanisms; ``efficacy_worst_decile`` puts
the worst-off communities beside the mean, and ``task_concentration`` and
``overload_cascades`` measure how work and overload spread across cadres (issue 13)."""

METRICS = tuple(RECORDS)
"""Every metric name, in the order of the files."""

CASCADE_DAYS = 3
"""k of ``overload_cascades``: a receiver's overload counts as passed on when it begins
within this many days of receiving work from an overloaded cadre. An observation window,
not a behaviour (it changes no run, so it is no declared parameter); assumption: three
days is about the time a received need takes to be worked or to weigh as backlog."""

WORST_SHARE = 0.1
"""Share of communities averaged by ``efficacy_worst_decile`` (at least one community)."""

HIGHER_IS_BETTER: dict[str, bool] = {
    m.name: m.better for m in RECORDS.values() if m.better is not None
}
"""Every metric with a better direction (True: higher is better): what a regime "wins" on
in maps, comparisons and scenario discovery."""

SHARE_METRICS = tuple(m.name for m in RECORDS.values() if m.kind == "share")
"""Metrics that are shares, means of [0, 1] states or [0, 1] spreads: always in [0, 1]."""

COUNT_METRICS = tuple(m.name for m in RECORDS.values() if m.kind == "count")
"""Metrics that count needs or events: never negative."""

# Metrics that are states: their window summary is the mean over the window's days.
STATE_METRICS = (
    "trust_resident_sunk",
    "trust_resident_community",
    "trust_institution",
    "trust_cadre_cadre",
    "burnout_mean",
    "burnout_share",
    "burnout_sunk",
    "burnout_community",
    "participation_in_service",
    "workload_sunk",
    "workload_community",
    "mandate_relief",
)


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal, → 1 = concentrated).

    Args:
        x: the values.
    """
    x = np.sort(np.asarray(x, dtype=float))
    n = len(x)
    if n == 0 or x.sum() <= 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def worst_decile(on_time: np.ndarray, due: np.ndarray, min_due: int = 5) -> float:
    """Efficacy of the worst-off communities: on time / due pooled over the worst
    :data:`WORST_SHARE` of the communities with at least ``min_due`` needs due (at least
    one community, so with fewer than 20 it is the worst community's efficacy).

    Args:
        on_time: needs resolved by their deadline, per community.
        due: needs due, per community.
        min_due: fewest needs due for a community to be observed.
    """
    on_time, due = np.asarray(on_time, dtype=float), np.asarray(due, dtype=float)
    seen = due >= min_due
    if not seen.any():
        return float("nan")
    eff = on_time[seen] / due[seen]
    n = max(1, math.ceil(WORST_SHARE * len(eff)))
    worst = np.argsort(eff, kind="stable")[:n]
    return float(on_time[seen][worst].sum() / due[seen][worst].sum())


def task_concentration(resolved: np.ndarray, on_duty: np.ndarray) -> float:
    """Gini coefficient of needs resolved per cadre over some days, across the cadres on
    duty on at least one of them (0: everyone resolved as many; → 1: a few did it all).
    NaN when no cadre on duty resolved anything.

    Args:
        resolved: needs resolved, one row per day, one column per cadre.
        on_duty: whether each cadre was on duty, same shape.
    """
    if np.size(on_duty) == 0:
        return float("nan")
    resolved = np.asarray(resolved, dtype=float).reshape(-1, np.shape(on_duty)[-1])
    duty = np.asarray(on_duty, dtype=bool).reshape(resolved.shape).any(axis=0)
    per_cadre = resolved.sum(axis=0)[duty]
    return gini(per_cadre) if per_cadre.sum() > 0 else float("nan")


def cascade_onsets(
    overloaded: np.ndarray, handoffs: np.ndarray, k: int = CASCADE_DAYS
) -> np.ndarray:
    """Which cadres' overload began each day because overload passed work on to them.

    A *handoff* ``(d, g, r)`` moves a need on day ``d`` from cadre ``g`` to cadre ``r``.
    It passes overload on when ``g`` was overloaded on day ``d`` or ``d − 1``. Cadre ``r``'s
    overload *begins* on day ``d'`` when it is overloaded on ``d'`` and was not on
    ``d' − 1`` (before the first row counts as not overloaded). An onset is a cascade when
    some handoff passing overload on reached ``r`` on a day in ``[d' − k, d']``.

    Args:
        overloaded: one row per day (row 0 = day 0), one column per cadre.
        handoffs: ``(day, giver, receiver)`` rows, days numbered as the rows.
        k: days a received need can take to overload its receiver.

    Returns:
        A boolean array shaped like ``overloaded``: True where a cascade's onset lies.
    """
    over = np.asarray(overloaded, dtype=bool)
    days = over.shape[0]
    before = np.zeros_like(over)
    before[1:] = over[:-1]
    h = np.asarray(handoffs, dtype=np.int64).reshape(-1, 3)
    day, giver, recv = h[:, 0], h[:, 1], h[:, 2]
    keep = (day >= 0) & (day < days) & (giver != recv)
    day, giver, recv = day[keep], giver[keep], recv[keep]
    passes = over[day, giver] | before[day, giver]
    day, recv = day[passes], recv[passes]
    exposed = np.zeros_like(over)
    for lag in range(k + 1):
        d = day + lag
        inside = d < days
        exposed[d[inside], recv[inside]] = True
    return over & ~before & exposed


def record_handoff(m: CollaborationModel, giver: int, receiver: int) -> None:
    """Note that a need passed today from one cadre to another (redeployed away from an
    overloaded post, offloaded, or escalated and given to another cadre), for
    ``overload_cascades``.

    Args:
        m: the model.
        giver: index of the cadre the need leaves.
        receiver: index of the cadre it goes to.
    """
    if giver != receiver:
        m.daily_totals["handoffs_today"].append(np.array([[giver, receiver]], np.int64))


def record_handoffs(m: CollaborationModel, pairs: np.ndarray) -> None:
    """:func:`record_handoff` for many hand-offs at once, in order.

    Args:
        m: the model.
        pairs: (giver, receiver) rows.
    """
    passed = pairs[pairs[:, 0] != pairs[:, 1]]
    if len(passed):
        m.daily_totals["handoffs_today"].append(passed.astype(np.int64, copy=False))


def handoffs_today(m: CollaborationModel) -> np.ndarray:
    """Today's hand-offs so far, in order: (giver, receiver) rows.

    Args:
        m: the model.
    """
    blocks = m.daily_totals["handoffs_today"]
    return np.concatenate(blocks) if blocks else np.empty((0, 2), np.int64)


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


def new_totals(n_communities: int) -> tuple[dict[str, Any], np.ndarray]:
    """Empty per-day totals (hours, formalism, perfunctory hours, needs settled by the
    system, hours per community; per cadre: needs resolved, on duty, overloaded; the
    handoffs of each day and of today so far, in blocks of rows) and the (due, on time) counts per
    community.

    Args:
        n_communities: number of communities.
    """
    totals: dict[str, Any] = {
        "hours": [],
        "formal": [],
        "perf": [],
        "system": [],
        "hours_by_comm": [],
        "hours_by_comm_sum": np.zeros(n_communities),  # the running sum of the above
        "resolved_by_cadre": [],
        "on_duty": [],
        "overloaded": [],
        "handoffs": [],
        "handoffs_today": [],
    }
    return totals, np.zeros((2, n_communities))


def daily_metrics(m: CollaborationModel) -> dict[str, float]:
    """Compute today's row of metrics and keep the raw totals the summaries need.

    Args:
        m: the model, at the end of its step.
    """
    nds, day = m.needs, m.day
    n = nds.n
    # the day as the column's own dtype: a Python int would cast the whole column first
    recent = int(np.searchsorted(nds.created[:n], nds.created.dtype.type(day - 60)))
    sl = slice(recent, n)
    status, dl, res = nds.status[sl], nds.deadline[sl], nds.resolved[sl]
    due = dl == day
    on_time = due & (status == nd.RESOLVED) & (nds.t_resolved[sl] <= nds.t_deadline[sl])
    done_today = (status == nd.RESOLVED) & (res == day) & ~nds.self_helped[sl]
    wait = ((nds.t_resolved[sl] - nds.t_origin[sl]) / nd.HOURS_PER_DAY)[done_today]
    live = nds.live
    sunk = m.cadre_is_sunk
    cs = m.cadre_state
    hours = cs.hours_worked[: cs.n].copy()
    active = cs.active[: cs.n].copy()
    in_service = ~m.cadre_full_time
    # Burnout is measured on cadres on duty: full-time staff (a withdrawn one is burned
    # out, not resting) and the in-service members who served today; an in-service
    # member who stayed home is neither strained nor recovering from duty. A cadre
    # recalled to its unit (withdrawal experiment) is off duty, whatever its kind.
    on_duty = (m.cadre_full_time | active) & ~cs.away[: cs.n]
    exh_all = cs.exhaustion[: cs.n].copy()
    exh = exh_all[on_duty]
    duty_sunk = sunk[on_duty]
    formal = cs.total("formalism_hours")
    perf = cs.total("perfunctory_hours")
    thr = m.behaviour.burnout_threshold
    raw = m.daily_totals
    raw["hours"].append(hours.sum())
    raw["system"].append(m.system_resolved_today)
    raw["formal"].append(formal)
    raw["perf"].append(perf)
    raw["hours_by_comm"].append(m.hours_by_community.copy())
    # kept as it goes: summing the whole history again each day grew with the run
    raw["hours_by_comm_sum"] += m.hours_by_community
    m.hours_by_community[:] = 0.0
    comm_due = m.due_by_community
    np.add.at(comm_due[0], nds.comm[sl][due], 1)
    np.add.at(comm_due[1], nds.comm[sl][on_time], 1)
    hh_per_comm = m.structure.households_per_community
    cum_hours = raw["hours_by_comm_sum"]
    observed = comm_due[0] >= 5
    st = nds.status[live]
    # Per cadre: who resolved what and who was overloaded by its own load measure
    # (Cadre.end_day), and today's handoffs; the window summaries read them back.
    resolved_by = cs.resolved_today[: cs.n].astype(float)
    raw["resolved_by_cadre"].append(resolved_by)
    raw["on_duty"].append(on_duty)
    raw["overloaded"].append(cs.load[: cs.n] > 1)
    row = len(raw["overloaded"]) - 1  # today's row of the series
    passed = handoffs_today(m)
    raw["handoffs"].append(np.column_stack([np.full(len(passed), row), passed]))
    raw["handoffs_today"].clear()
    # Only the last k + 1 days' handoffs (and the day before them) can make today's onset
    # a cascade: count it on that slice, so the daily cost does not grow with the run.
    first = max(0, row - CASCADE_DAYS - 1)
    recent = np.concatenate(raw["handoffs"][first:])
    recent[:, 0] -= first
    cascades = cascade_onsets(np.array(raw["overloaded"][first:]), recent)[-1].sum()
    return {
        "needs_created": m.created_today,
        "needs_resolved": m.resolved_today,
        "needs_open": int((st == nd.OPEN).sum()),
        "needs_hidden": int((st == nd.HIDDEN).sum()),
        "needs_dropped": m.dropped_today,
        "efficacy": _ratio(on_time.sum(), due.sum()),
        "resolution_rate": _ratio(*nds.resolution_counts(day)),
        "response_time_mean": float(wait.mean()) if len(wait) else float("nan"),
        "response_time_p90": float(np.percentile(wait, 90)) if len(wait) else float("nan"),
        "escalation_share": _ratio(nds.left_grid[sl][done_today].sum(), done_today.sum()),
        "trust_resident_sunk": float(m.households.perceived_sunk.mean()),
        "trust_resident_community": float(m.households.perceived_community.mean()),
        "trust_institution": float(m.households.trust_institution.mean()),
        "trust_cadre_cadre": float(m.cc_trust.mean()) if len(m.cc_trust) else float("nan"),
        "burnout_mean": float(exh.mean()) if len(exh) else float("nan"),
        "burnout_share": float((exh > thr).mean()) if len(exh) else float("nan"),
        "burnout_sunk": float(exh[duty_sunk].mean()) if duty_sunk.any() else float("nan"),
        "burnout_community": (
            float(exh[~duty_sunk].mean()) if (~duty_sunk).any() else float("nan")
        ),
        "shirking_rate": _ratio(perf, hours.sum()),
        "formalism_share": _ratio(formal, hours.sum()),
        "participation_in_service": (
            float(active[in_service].mean()) if in_service.any() else float("nan")
        ),
        "complaints": m.households.complaints_today,
        "coverage_gini": gini(cum_hours / np.maximum(hh_per_comm, 1)),
        "efficacy_sd_between_communities": (
            float(np.std(comm_due[1][observed] / comm_due[0][observed]))
            if observed.sum() >= 2
            else float("nan")
        ),
        "hours_per_resolved": _ratio(hours.sum(), m.system_resolved_today),
        "workload_sunk": _mean_active(hours, active & sunk),
        "workload_community": _mean_active(hours, active & ~sunk),
        "offloads": m.offloads_today,
        "paper_closures": m.paper_closures_today,
        "mandate_relief": m.relief,
        "efficacy_worst_decile": worst_decile(comm_due[1], comm_due[0]),
        "task_concentration": task_concentration(resolved_by, on_duty),
        "overload_cascades": int(cascades),
    }


def _mean_active(hours: np.ndarray, mask: np.ndarray) -> float:
    return float(hours[mask].mean()) if mask.any() else float("nan")


def _window_needs(m: CollaborationModel, a: int, b: int) -> dict[str, float]:
    """Need-based metrics for needs created in days [a, b)."""
    nds = m.needs
    n = nds.n
    lo, hi = np.searchsorted(nds.created[:n], np.array([a, b], nds.created.dtype))
    sl = slice(lo, hi)
    status, dl = nds.status[sl], nds.deadline[sl]
    created = hi - lo
    resolved = status == nd.RESOLVED
    # Efficacy counts needs whose deadline fell inside the run (no censoring at the end).
    observed = dl < m.steps
    on_time = resolved & (nds.t_resolved[sl] <= nds.t_deadline[sl])
    by_system = resolved & ~nds.self_helped[sl]
    wait = ((nds.t_resolved[sl] - nds.t_origin[sl]) / nd.HOURS_PER_DAY)[by_system]
    reported = nds.reported[sl]
    comm = nds.comm[sl]
    n_c = m.structure.n_communities
    due_c = np.bincount(comm[observed], minlength=n_c)
    ok_c = np.bincount(comm[observed & on_time], minlength=n_c)
    seen = due_c >= 5
    return {
        "needs_created": float(created),
        "needs_resolved": float(resolved.sum()),
        "needs_open": float((status == nd.OPEN).sum()),
        "needs_hidden": float((status == nd.HIDDEN).sum()),
        "needs_dropped": float((status == nd.DROPPED).sum()),
        "efficacy": _ratio((on_time & observed).sum(), observed.sum()),
        "resolution_rate": _ratio((resolved & observed).sum(), observed.sum()),
        "response_time_mean": float(wait.mean()) if len(wait) else float("nan"),
        "response_time_p90": float(np.percentile(wait, 90)) if len(wait) else float("nan"),
        "escalation_share": _ratio((nds.left_grid[sl] & reported).sum(), reported.sum()),
        "efficacy_sd_between_communities": (
            float(np.std(ok_c[seen] / due_c[seen])) if seen.sum() >= 2 else float("nan")
        ),
        "efficacy_worst_decile": worst_decile(ok_c, due_c),
    }


def windows(timeline: Sequence[Any], days: int) -> list[tuple[str, int, int]]:
    """The summary windows of a run: ``all``, then each phase the run reaches.

    A phase kind can recur in a timeline; its first occurrence is named after the kind,
    later ones ``<kind>_<start day>``.

    Args:
        timeline: the situation's phases (``name``, ``start``, ``end``).
        days: the number of days run.

    Returns:
        ``(name, first day, day after the last)`` per window.
    """
    out = [("all", 0, days)]
    for p in timeline:
        if p.start < days:
            name = p.name if p.name not in {w[0] for w in out} else f"{p.name}_{p.start}"
            out.append((name, p.start, min(p.end, days)))
    return out


def summarise(m: CollaborationModel) -> pd.DataFrame:
    """Summaries for the whole run and each phase: one row per window, one column per
    metric (DESIGN §4).

    Args:
        m: the model after running.
    """
    ts = m.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    raw = m.daily_totals
    hh_per_comm = m.structure.households_per_community
    rows = {}
    for name, a, b in windows(m.situation.timeline, len(ts)):
        row = {}
        part = ts.iloc[a:b]
        for k in STATE_METRICS:
            row[k] = float(part[k].mean()) if len(part) else float("nan")
        hours = float(np.sum(raw["hours"][a:b]))
        row["shirking_rate"] = _ratio(np.sum(raw["perf"][a:b]), hours)
        row["formalism_share"] = _ratio(np.sum(raw["formal"][a:b]), hours)
        row["complaints"] = float(part["complaints"].sum())
        row["offloads"] = float(part["offloads"].sum())
        row["paper_closures"] = float(part["paper_closures"].sum())
        row["overload_cascades"] = float(part["overload_cascades"].sum())
        row["task_concentration"] = task_concentration(
            np.array(raw["resolved_by_cadre"][a:b]), np.array(raw["on_duty"][a:b])
        )
        row["hours_per_resolved"] = _ratio(hours, np.sum(raw["system"][a:b]))
        by_comm = np.sum(raw["hours_by_comm"][a:b], axis=0) if b > a else np.zeros(len(hh_per_comm))
        row["coverage_gini"] = gini(by_comm / np.maximum(hh_per_comm, 1))
        row.update(_window_needs(m, a, b))
        rows[name] = {k: row[k] for k in METRICS}
    return pd.DataFrame.from_dict(rows, orient="index")
