"""The need pool and how needs arise (model.needs, CollaborationModel.arise_needs)."""

from __future__ import annotations

import numpy as np
import pytest

from saca.agents import needs as nd


def pool_with(n: int, *, day: int = 0, deadline: int = 5) -> nd.NeedPool:
    p = nd.NeedPool()
    z = np.zeros(n, np.int32)
    t0 = np.full(n, day * nd.HOURS_PER_DAY)
    t_dl = np.full(n, deadline * nd.HOURS_PER_DAY)
    p.add(z, z, z, z.astype(np.int8), z.astype(np.int8), day, t0, t_dl, np.ones(n))
    return p


# ----- constants ----------------------------------------------------------------------
def test_mixes_are_distributions_and_most_needs_are_solvable_at_the_grid():
    assert np.allclose(nd.TYPE_MIX.sum(axis=1), 1.0)
    assert nd.LEVEL_MIX.sum() == pytest.approx(1.0)
    assert nd.LEVEL_MIX[0] == nd.LEVEL_MIX.max() > 0.5  # seed 004
    # an emergency shifts needs toward emergency needs
    em = nd.NEED_TYPES.index("emergency")
    assert nd.TYPE_MIX[1, em] > nd.TYPE_MIX[0, em]
    assert nd.URGENCY[nd.EMERGENCY] == nd.URGENCY.max()


# ----- the pool -----------------------------------------------------------------------
def test_new_needs_start_hidden_and_grow_the_pool():
    p = pool_with(3)
    k = 5000  # more than the first allocation
    z = np.zeros(k, np.int32)
    more = p.add(
        z,
        z,
        z,
        z.astype(np.int8),
        z.astype(np.int8),
        1,
        np.full(k, 30.0),
        np.full(k, 9 * 24.0),
        np.full(k, 2.0),
    )
    assert p.n == 5003 and list(more[:2]) == [3, 4] and len(p.live) == 5003
    assert np.all(p.created[3 : p.n] == 1) and np.all(p.deadline[3 : p.n] == 9)
    assert np.all(p.t_created[3 : p.n] == 30.0) and np.all(p.t_ready[3 : p.n] == 30.0)
    assert np.all(p.status[: p.n] == nd.HIDDEN)
    assert np.all(p.hours[3 : p.n] == 2.0) and np.all(p.hours_total[3 : p.n] == 2.0)
    assert p.counts() == {"created": 5003, "resolved": 0, "open": 0, "hidden": 5003, "dropped": 0}


def test_waiting_returns_open_needs_at_a_place_whose_delay_has_passed():
    p = pool_with(4)
    p.status[:4] = nd.OPEN
    p.where[:4] = [nd.AT_LIST, nd.AT_LIST, nd.AT_STREET, nd.AT_LIST]
    p.t_ready[:4] = [0.0, 50.0, 0.0, 0.0]
    p.status[3] = nd.RESOLVED
    assert p.waiting(nd.AT_LIST, 24.0).tolist() == [0]
    assert p.waiting(nd.AT_LIST, 50.5).tolist() == [0, 1]
    assert p.waiting(nd.AT_STREET, 24.0).tolist() == [2]


def test_prune_drops_open_needs_past_patience_and_forgets_settled_ones():
    p = pool_with(4, deadline=5)
    p.status[:4] = [nd.OPEN, nd.HIDDEN, nd.RESOLVED, nd.OPEN]
    p.deadline[3] = 100
    patience = 30
    assert len(p.prune(5 + patience, patience)) == 0  # not yet past patience
    dropped = p.prune(6 + patience, patience)
    assert dropped.tolist() == [0]
    assert p.status[0] == nd.DROPPED
    assert p.live.tolist() == [3]  # expired hidden and resolved needs are forgotten
    c = p.counts()
    assert c["created"] == c["resolved"] + c["open"] + c["hidden"] + c["dropped"]


def test_resolve_marks_the_hour_and_day_and_frees_the_holder():
    p = pool_with(2)
    p.holder[:2] = 5
    p.resolve(np.array([1]), 7 * 24 + 13.5)
    assert p.status[1] == nd.RESOLVED and p.resolved[1] == 7 and p.holder[1] == -1
    assert p.t_resolved[1] == 7 * 24 + 13.5
    assert p.status[0] == nd.HIDDEN and p.holder[0] == 5


# ----- arising ------------------------------------------------------------------------
def arrivals(small_model, days: int = 150, **overrides) -> tuple[int, np.ndarray]:
    """Needs arising over many calls of arise_needs alone (no other stage)."""
    m = small_model(overrides=overrides)
    for _ in range(days):
        m.arise_needs()
    return m.needs.n, m.needs.level[: m.needs.n]


def test_front_loading_lowers_the_need_arrival_rate(small_model):
    """P11: prevention (front-loaded service) cuts the rate of needs, and the level they
    need, monotonically in the degree of front-loading."""
    counts, levels = [], []
    for f in (0.0, 0.5, 1.0):
        n, lv = arrivals(small_model, **{"regime.front_loading": f})
        counts.append(n)
        levels.append(lv.mean())
    assert counts[0] > counts[1] > counts[2]
    assert counts[2] < 0.85 * counts[0]
    assert levels[0] > levels[2]


def test_need_rate_scales_arrivals(small_model):
    n_lo, _ = arrivals(small_model, **{"situation.need_rate": 0.006})
    n_hi, _ = arrivals(small_model, **{"situation.need_rate": 0.024})
    assert 3.0 < n_hi / n_lo < 5.0
    n_zero, _ = arrivals(small_model, days=20, **{"situation.need_rate": 0.0})
    assert n_zero == 0


def test_emergency_multiplies_needs_halves_deadlines_and_shifts_the_mix(small_model):
    tl = [{"phase": "emergency", "start": 0, "end": 400}]
    m_n = small_model()
    m_e = small_model(overrides={"situation.timeline": tl})
    assert m_e.phase == "emergency" and m_e.risk > m_n.risk
    for m in (m_n, m_e):
        for _ in range(100):
            m.arise_needs()
    assert m_e.needs.n > 2 * m_n.needs.n
    for m, factor in ((m_n, 1.0), (m_e, 0.5)):
        k = m.needs.n
        hours = m.needs.t_deadline[:k] - m.needs.t_created[:k]
        assert np.allclose(hours, 24 * nd.DEADLINE_DAYS[m.needs.ntype[:k]] * factor)
        hour_of_day = m.needs.t_created[:k] - 24 * m.needs.created[:k]
        b = m.behaviour
        assert hour_of_day.min() >= b.need_hour_first and hour_of_day.max() <= b.need_hour_last
    share_em = [np.mean(m.needs.ntype[: m.needs.n] == nd.EMERGENCY) for m in (m_n, m_e)]
    assert share_em[1] > 3 * share_em[0]


def test_needs_take_more_hours_at_higher_levels(small_model):
    m = small_model()
    for _ in range(150):
        m.arise_needs()
    k = m.needs.n
    lv, h = m.needs.level[:k], m.needs.hours[:k]
    assert h[lv == 2].mean() > h[lv == 0].mean()
    assert set(np.unique(lv)) == {0, 1, 2, 3}
    assert np.array_equal(m.needs.comm[:k], m.structure.hh_comm[m.needs.hh[:k]])
    assert np.array_equal(m.needs.grid[:k], m.structure.hh_grid[m.needs.hh[:k]])


@pytest.mark.parametrize("regime", ["constructive", "autonomous"])
def test_resolution_counts_match_a_scan_of_every_need(small_model, regime):
    """The counts kept by deadline day (resolved needs counted as they leave ``live``)
    equal a scan of the whole run, day after day, through an emergency."""
    m = small_model(scenario="emergency", regime=regime)
    for _ in range(40):
        m.step()
        nds, n = m.needs, m.needs.n
        for day in (m.day, m.day - 3, m.day + 5):
            due = nds.deadline[:n] <= day
            scan = (int((nds.status[:n][due] == nd.RESOLVED).sum()), int(due.sum()))
            assert nds.resolution_counts(day) == scan
    assert nds.resolution_counts(m.day)[0] > 0
