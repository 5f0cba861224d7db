"""The compiled loops (agents.shifts, round.run_shifts; model.posting) against the readable
reference (Cadre.walk, SunkCadre.work, assign_by_post's loop): the same numbers and draws,
day after day."""

from __future__ import annotations

import math

import numpy as np
import pytest

from saca.agents import cadre, shifts
from saca.agents.cadre_state import CadreState
from saca.agents.needs import NeedPool
from saca.agents.round import run_shifts
from saca.model import CollaborationModel


def _state(m: CollaborationModel) -> dict:
    """Everything a day of shifts can change, for comparison."""
    cs, nds = m.cadre_state, m.needs
    out = {f"cadre.{k}": getattr(cs, k)[: cs.n].copy() for k in CadreState.FIELDS}
    out |= {f"need.{k}": getattr(nds, k)[: nds.n].copy() for k in NeedPool._FIELDS}
    out["queues"] = [list(c.queue) for c in m.cadres]
    out["hidden_top"] = m.hidden_top.copy()
    out["model_vars"] = m.datacollector.get_model_vars_dataframe().copy()
    out["contacts"] = m.households.contacts
    out["ties"] = m.ties.familiarity[: m.ties.n].copy(), m.ties.trust[: m.ties.n].copy()
    out["handoffs"] = np.concatenate([np.zeros((0, 3), np.int64), *m.daily_totals["handoffs"]])
    out["paper"] = {d: list(v) for d, v in m._resurfacing.items()}
    out["working_trust"] = m.cc_trust.copy()
    out["backlog"] = m.backlog.copy(), np.array(m.backlog.dtype.str)
    out["offloads"] = m.offloads_today
    return out


def _same(a: dict, b: dict, day: int) -> None:
    for key, x in a.items():
        y = b[key]
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, f"day {day}: {key}")
        elif hasattr(x, "equals"):
            assert x.equals(y), f"day {day}: {key}"
        elif isinstance(x, tuple):
            for u, v in zip(x, y, strict=True):
                np.testing.assert_array_equal(u, v, f"day {day}: {key}")
        else:
            assert x == y, f"day {day}: {key}"


@pytest.mark.parametrize(
    "regime",
    [
        "constructive",  # mandated visits: visits, then each need decided at once
        "autonomous",  # claiming, peer reports to verify
        "grid_instructor",  # instructors carry escalations up to the city
        "task_force",  # offloading onto sunk cadres, redeployment
        "hybrid",  # consultation: consulted cadres learn and gain working trust
    ],
)
def test_compiled_give_the_reference_numbers_and_draws(small_overrides, regime):
    overrides = {**small_overrides, "situation.households": 1200}
    ref = CollaborationModel("emergency", regime, rng=7, overrides=overrides)
    ref.compiled = False
    fast = CollaborationModel("emergency", regime, rng=7, overrides=overrides)
    for day in range(25):
        ref.step()
        fast.step()
        _same(_state(ref), _state(fast), day)
        summary = ref.today, fast.today
        for k, v in summary[0].items():
            w = summary[1][k]
            assert v == w or (math.isnan(v) and math.isnan(w)), (day, k)
    assert ref.rng.random() == fast.rng.random()
    assert ref.random.random() == fast.random.random()


def test_a_cadre_with_visits_walks_its_revealed_need_the_same_day(small_model, add_need):
    m = small_model(overrides={"regime.mandated_visits_per_week": 14.0})
    cad = next(c for c in m.cadres if c.is_sunk and c.full_time)
    h = m.random_household(cad.community, cad.grid)
    m.step()  # day 1, so that a need can be overdue
    hidden = add_need(m, h, status=0, hours=0.5, deadline=m.day)  # due today: still live
    overdue = add_need(m, h, status=0, hours=0.5, deadline=m.day - 1)
    m.hide(np.array([hidden, overdue]))  # the overdue one on top of the stack
    # Every household of the grid is the one with the hidden need: its range is one wide.
    m._grid_start = m._grid_start.copy()
    m._grid_start[cad.grid], m._grid_start[cad.grid + 1] = h, h + 1
    cad.queue, cad.hours_left, cad.clock, cad.active = [], 8.0, m.day_open, True
    cad.attempts_today = 0
    m.rng = np.random.default_rng(5)
    while True:  # a day with at least one visit
        state = m.rng.bit_generator.state
        if m.rng.poisson(2.0 * (1 - m.relief)) > 0:
            m.rng.bit_generator.state = state
            break
    run_shifts(m, np.array([cad.idx]), inline=True)
    assert m.needs.channel[hidden] == cad.idx and m.needs.reported[hidden]
    assert not m.needs.reported[overdue] and m.hidden_top[h] == -1  # passed over, popped
    assert cad.attempts_today == 1  # worked and decided in the same shift
    assert (h, cad.idx, cadre.VISIT_WANTED) in m.households.contacts


def test_the_compiled_outcome_codes_are_the_cadres():
    assert (shifts.SUCCESS, shifts.LATE, shifts.FAIL) == (cadre.SUCCESS, cadre.LATE, cadre.FAIL)
    assert (shifts.VISIT_UNWANTED, shifts.VISIT_WANTED) == (
        cadre.VISIT_UNWANTED,
        cadre.VISIT_WANTED,
    )


def test_escalating_many_is_escalating_each_in_turn(small_model, add_need):
    one, many = small_model(regime="grid_instructor"), small_model(regime="grid_instructor")
    picks = []
    for m in (one, many):
        cads = [c for c in m.cadres if c.reach < 2][:3]
        inst = next(c for c in m.cadres if getattr(c, "instructor", False))
        ids, who = [], []
        for k, cad in enumerate([*cads, inst]):
            for level in (1, 2, 3):
                ids.append(add_need(m, m.random_household(cad.community, cad.grid), level=level))
                who.append(cad)
                cad.clock = 9.0 + k
        picks.append((np.array(ids), who))
    ids, who = picks[0]
    for nid, cad in zip(ids.tolist(), who, strict=True):
        one.escalate(nid, cad)
    ids, who = picks[1]
    many.escalate_many(ids, np.array([c.idx for c in who]), np.array([c.clock for c in who]))
    for name in ("where", "holder", "t_ready", "fidelity", "passed_by", "left_grid"):
        np.testing.assert_array_equal(
            getattr(one.needs, name)[: one.needs.n], getattr(many.needs, name)[: many.needs.n]
        )
    assert set(many.needs.where[ids].tolist()) >= {3, 4}  # street and city both reached
