"""agents.passes: each compiled pass gives, bit for bit, what the numpy expression it
replaced gives; and compile_kernels leaves nothing for a run to compile."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saca.agents import passes
from saca.agents.needs import AT_CADRE, AT_COMMAND, OPEN
from saca.model.model import compile_kernels
from tests.conftest import _model

seeds = st.integers(0, 2**32 - 1)


def _ties(rng: np.random.Generator, n_hh: int, n_ties: int, n_cad: int):
    hh = rng.integers(0, n_hh, n_ties).astype(np.int32)
    cadre = rng.integers(0, n_cad, n_ties).astype(np.int32)
    # a few exact repeats of trust, so that ties between equals are exercised
    trust = np.round(rng.random(n_ties), 1)
    pad = 7  # the table's arrays are longer than its n
    return (
        np.r_[hh, np.zeros(pad, np.int32)],
        np.r_[cadre, np.zeros(pad, np.int32)],
        np.r_[trust, np.full(pad, 9.0)],
    )


def _needs(rng: np.random.Generator, n: int):
    """Statuses and places of n + 5 needs, n of them live in shuffled order."""
    status = rng.integers(0, 4, n + 5).astype(np.int8)
    where = rng.integers(0, 6, n + 5).astype(np.int8)
    return status, where, rng.permutation(n + 5)[:n].astype(np.int64)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(0, 300))
def test_waiting_is_the_masked_selection(seed, n):
    rng = np.random.default_rng(seed)
    status, where, live = _needs(rng, n)
    t_ready = rng.random(n + 5) * 48
    for place in (AT_COMMAND, AT_CADRE):
        numpy = live[(status[live] == OPEN) & (where[live] == place) & (t_ready[live] < 24.0)]
        got = passes.waiting(live, status, where, t_ready, OPEN, place, 24.0)
        assert got.dtype == np.int64 and np.array_equal(got, numpy)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(0, 200), gain=st.floats(0, 1.5), step=st.floats(0, 1.5))
def test_settle_is_add_at_then_clip(seed, n, gain, step):
    rng = np.random.default_rng(seed)
    trust, sat = rng.random(50), rng.random(50)
    hh = rng.integers(0, 50, n)  # repeats: several needs of one household
    t2, s2 = trust.copy(), sat.copy()
    np.add.at(t2, hh, gain * (1 - t2[hh]))
    np.add.at(s2, hh, step * (1 - s2[hh]))
    t2[hh], s2[hh] = np.clip(t2[hh], 0, 1), np.clip(s2[hh], 0, 1)
    passes.settle(trust, sat, hh, gain, step)
    assert np.array_equal(trust, t2) and np.array_equal(sat, s2)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n_ties=st.integers(0, 400), n_asked=st.integers(0, 80))
def test_best_channels_keep_the_first_most_trusted_tie(seed, n_ties, n_asked):
    rng = np.random.default_rng(seed)
    tie_hh, tie_cad, tie_trust = _ties(rng, 60, n_ties, 9)
    inst = np.round(rng.random(60), 1)
    hh = rng.integers(0, 60, n_asked)
    cad, trust = passes.best_channels(tie_hh, tie_cad, tie_trust, n_ties, hh, inst)
    for i, h in enumerate(hh):  # Households.choose_channel, tie by tie
        best, best_t = -1, inst[h]
        for t in np.flatnonzero(tie_hh[:n_ties] == h):
            if tie_trust[t] > best_t:
                best, best_t = tie_cad[t], tie_trust[t]
        assert (cad[i], trust[i]) == (best, best_t)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n_ties=st.integers(0, 400))
def test_perceived_is_the_bincount_mean(seed, n_ties):
    rng = np.random.default_rng(seed)
    n = 70
    tie_hh, tie_cad, tie_trust = _ties(rng, n, n_ties, 9)
    is_sunk = rng.random(9) < 0.5
    op_s, op_c = rng.random(n), rng.random(n)
    sunk, comm = passes.perceived(tie_hh, tie_cad, tie_trust, n_ties, is_sunk, op_s, op_c)
    kind = tie_hh[:n_ties].astype(np.int64) * 2 + is_sunk[tie_cad[:n_ties]]
    cnt = np.bincount(kind, minlength=2 * n).reshape(n, 2)
    tot = np.bincount(kind, weights=tie_trust[:n_ties], minlength=2 * n).reshape(n, 2)
    assert np.array_equal(sunk, np.where(cnt[:, 1] > 0, tot[:, 1] / np.maximum(cnt[:, 1], 1), op_s))
    assert np.array_equal(comm, np.where(cnt[:, 0] > 0, tot[:, 0] / np.maximum(cnt[:, 0], 1), op_c))


@settings(max_examples=40, deadline=None)
@given(seed=seeds, w=st.floats(0, 1))
def test_mix_is_the_weighted_mean_where_ties(seed, w):
    rng = np.random.default_rng(seed)
    opinion, heard, has = rng.random(90), rng.random(90), rng.random(90) < 0.7
    want = opinion.copy()
    np.copyto(want, (1 - w) * want + w * heard, where=has)
    passes.mix(opinion, heard, w, has)
    assert np.array_equal(opinion, want)


def _compiled_dispatchers() -> list[numba.core.registry.CPUDispatcher]:
    from saca.agents import queues, shifts
    from saca.model import posting, streams

    return [
        f
        for mod in (passes, shifts, queues, posting, streams)
        for f in vars(mod).values()
        if isinstance(f, numba.core.registry.CPUDispatcher)
    ]


@pytest.mark.parametrize("regime", ["autonomous", "constructive", "task_force"])
def test_compile_kernels_leaves_nothing_to_compile(regime):
    """A run after compile_kernels (as every worker's) never stops to compile: each
    compiled function already has the one signature a run uses."""
    compile_kernels()
    before = {f.py_func.__qualname__: len(f.signatures) for f in _compiled_dispatchers()}
    m = _model("emergency", regime, overrides={"regime.mandated_visits_per_week": 3.0})
    for _ in range(15):
        m.step()
    after = {f.py_func.__qualname__: len(f.signatures) for f in _compiled_dispatchers()}
    assert after == before


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(0, 200), k=st.integers(0, 60))
def test_merge_sorted_is_insert_at_searchsorted(seed, n, k):
    rng = np.random.default_rng(seed)
    both = rng.choice(10 * (n + k) + 1, n + k, replace=False).astype(np.int64)
    keys, new = np.sort(both[:n]), np.sort(both[n:])
    kidx, new_idx = rng.permutation(n).astype(np.int64), n + rng.permutation(k).astype(np.int64)
    pos = np.searchsorted(keys, new)
    got_keys, got_idx = passes.merge_sorted(keys, kidx, new, new_idx)
    assert np.array_equal(got_keys, np.insert(keys, pos, new))
    assert np.array_equal(got_idx, np.insert(kidx, pos, new_idx))


@settings(max_examples=30, deadline=None)
@given(seed=seeds, n=st.integers(1, 120), density=st.floats(0, 0.2))
def test_spread_is_scipys_product(seed, n, density):
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    a = sp.csr_array(sp.random_array((n, n), density=density, rng=rng))
    x = [rng.random(n) for _ in range(3)]
    got = passes.spread(a.indptr, a.indices, a.data, *x)
    assert all(np.array_equal(g, a @ v) for g, v in zip(got, x, strict=True))


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(0, 300))
def test_backlog_is_the_weighted_bincount(seed, n):
    rng = np.random.default_rng(seed)
    status, where, live = _needs(rng, n)
    holder = rng.integers(0, 12, n + 5).astype(np.int32)
    hours = rng.random(n + 5) * 5
    held = live[(status[live] == OPEN) & (where[live] == AT_CADRE)]
    got, k = passes.backlog(live, status, where, holder, hours, OPEN, AT_CADRE, 12)
    assert k == len(held)
    assert np.array_equal(got, np.bincount(holder[held], weights=hours[held], minlength=12))


def test_outcome_codes_are_the_cadres():
    from saca.agents import cadre

    names = ("SUCCESS", "LATE", "FAIL", "VISIT_UNWANTED", "VISIT_WANTED", "CONSULTED")
    assert [getattr(passes, n) for n in names] == [getattr(cadre, n) for n in names]


def _contacts_numpy(idx, hh, out, ties_trust, ties_fam, n, ti_all, eng, sat, k):
    """The numpy expressions passes.contacts replaced (Households.apply_contacts)."""
    g, hg, loss, visit_loss, consult, phi, share, eng_gain, step = k

    def delta(t, fam):
        gain = (1 - t) * np.select([out == 0, out == 5], [g, consult], hg)
        return np.select([out == 2, out == 3], [loss * t, visit_loss * (1 - fam)], gain)

    t, fam = ties_trust[idx], ties_fam[idx]
    np.add.at(ties_trust, idx, delta(t, fam))
    np.clip(ties_trust[:n], 0, 1, out=ties_trust[:n])
    np.add.at(ties_fam, idx, phi * (1 - fam))
    np.clip(ties_fam[:n], 0, 1, out=ties_fam[:n])
    ti = ti_all[hh]
    np.add.at(ti_all, hh, share * delta(ti, fam))
    np.clip(ti_all, 0, 1, out=ti_all)
    consulted = hh[out == 5]
    if len(consulted):
        e = eng[consulted]
        np.add.at(eng, consulted, eng_gain * (1 - e))
        np.clip(eng, 0, 1, out=eng)
    s = sat[hh]
    np.add.at(sat, hh, np.select([out <= 1, out == 2], [step * (1 - s), -step * s], 0.0))
    np.clip(sat, 0, 1, out=sat)
    return fam


@settings(max_examples=60, deadline=None)
@given(seed=seeds, n=st.integers(0, 150), consulting=st.booleans())
def test_contacts_are_the_add_at_expressions(seed, n, consulting):
    rng = np.random.default_rng(seed)
    n_ties, n_hh = 40, 30
    hh = rng.integers(0, n_hh, n)
    idx = rng.integers(0, n_ties, n)  # repeats: several contacts on one tie in a day
    out = rng.integers(0, 6 if consulting else 5, n)
    k = tuple(float(x) for x in (0.3, 0.15, -0.6, -0.2, 0.25, 0.4, 0.5, 0.3, 0.35))
    # some values just outside [0, 1], as word of mouth's rounding can leave them
    arrays = [np.clip(rng.random(m) * 1.0002 - 0.0001, -1e-4, 1 + 1e-4) for m in (48, 48)]
    arrays += [rng.random(n_hh) * 1.0001 for _ in range(3)]
    ours = [a.copy() for a in arrays]
    want_fam = _contacts_numpy(idx, hh, out, *arrays[:2], n_ties, *arrays[2:], k)
    fam = passes.contacts(idx, hh, out, ours[0], ours[1], n_ties, *ours[2:], k)
    assert np.array_equal(fam, want_fam)
    assert all(np.array_equal(a, b) for a, b in zip(ours, arrays, strict=True))
