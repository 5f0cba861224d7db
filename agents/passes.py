"""Single passes over the households', ties' and needs' arrays, compiled with numba.

Each of these replaced a chain of numpy expressions (masks, fancy indexing, ``add.at``,
``bincount``, ``lexsort``) that went over the same 100,000 households or half a million
ties several times a day. One compiled loop reads each element once and does the same
arithmetic in the same order, so the numbers are the same to the last bit;
``tests/test_passes.py`` checks each against the numpy expression it replaced.

Callers import this module when they first need it (numba loads on first use).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def waiting(live, status, where, t_ready, open_code, place, before):
    """Ids among ``live`` of needs with status ``open_code`` waiting at ``place`` that
    arrive before hour ``before``, in the order of ``live`` (NeedPool.waiting)."""
    out = np.empty(live.shape[0], np.int64)
    k = 0
    for i in range(live.shape[0]):
        j = live[i]
        if status[j] == open_code and where[j] == place and t_ready[j] < before:
            out[k] = j
            k += 1
    return out[:k].copy()


@numba.njit(cache=True, inline="always")
def _unit(v):
    """``v`` clipped to [0, 1] (as np.clip on a finite number)."""
    return 0.0 if v < 0.0 else 1.0 if v > 1.0 else v


@numba.njit(cache=True)
def _clip01(x, hh):
    """Clip the entries ``hh`` of ``x`` to [0, 1]."""
    for i in range(hh.shape[0]):
        x[hh[i]] = _unit(x[hh[i]])


@numba.njit(cache=True)
def settle(trust, satisfaction, hh, gain, step):
    """Households ``hh`` (repeats allowed) served from above: trust += gain (1 − trust),
    satisfaction += step (1 − satisfaction), each change computed from the values before
    any of them is added (as ``np.add.at``), then clipped to [0, 1]."""
    n = hh.shape[0]
    d = np.empty(n)
    for i in range(n):
        d[i] = gain * (1 - trust[hh[i]])
    for i in range(n):
        trust[hh[i]] += d[i]
    for i in range(n):
        d[i] = step * (1 - satisfaction[hh[i]])
    for i in range(n):
        satisfaction[hh[i]] += d[i]
    _clip01(trust, hh)
    _clip01(satisfaction, hh)


@numba.njit(cache=True)
def best_channels(tie_hh, tie_cadre, tie_trust, n_ties, hh, institution):
    """Each household's most trusted channel (Households.choose_channel, for many): the
    tie of highest trust, the first in tie order among equals, if it beats the
    household's trust in the institution; else the hotline (-1) at that trust.

    Returns:
        (cadre or -1, trust), one entry per household in ``hh``.
    """
    n_hh = institution.shape[0]
    asked = np.zeros(n_hh, np.bool_)
    for i in range(hh.shape[0]):
        asked[hh[i]] = True
    best = np.full(n_hh, -np.inf)
    cadre = np.full(n_hh, -1, np.int64)
    for t in range(n_ties):
        h = tie_hh[t]
        if asked[h] and tie_trust[t] > best[h]:
            best[h] = tie_trust[t]
            cadre[h] = tie_cadre[t]
    out_c = np.empty(hh.shape[0], np.int64)
    out_t = np.empty(hh.shape[0])
    for i in range(hh.shape[0]):
        h = hh[i]
        if best[h] > institution[h]:
            out_c[i], out_t[i] = cadre[h], best[h]
        else:
            out_c[i], out_t[i] = -1, institution[h]
    return out_c, out_t


@numba.njit(cache=True)
def perceived(tie_hh, tie_cadre, tie_trust, n_ties, is_sunk, opinion_sunk, opinion_community):
    """Mean trust on each household's ties to sunk cadres and to the others, summed in
    tie order (as ``np.bincount``); a household with no tie of a kind keeps its opinion
    of that kind.

    Returns:
        (perceived sunk, perceived community), one entry per household.
    """
    n = opinion_sunk.shape[0]
    cnt = np.zeros((n, 2), np.int64)
    tot = np.zeros((n, 2))
    for t in range(n_ties):
        h, k = tie_hh[t], 1 if is_sunk[tie_cadre[t]] else 0
        cnt[h, k] += 1
        tot[h, k] += tie_trust[t]
    sunk = np.empty(n)
    comm = np.empty(n)
    for h in range(n):
        sunk[h] = tot[h, 1] / cnt[h, 1] if cnt[h, 1] > 0 else opinion_sunk[h]
        comm[h] = tot[h, 0] / cnt[h, 0] if cnt[h, 0] > 0 else opinion_community[h]
    return sunk, comm


@numba.njit(cache=True)
def mix(opinion, heard, w, has_ties):
    """Word of mouth: opinion ← (1 − w) opinion + w heard, where the household has ties."""
    keep = 1 - w
    for h in range(opinion.shape[0]):
        if has_ties[h]:
            opinion[h] = keep * opinion[h] + w * heard[h]


@numba.njit(cache=True)
def merge_sorted(keys, kidx, new, new_idx):
    """Sorted ``keys`` (with a tie index each) and sorted ``new`` keys merged into one
    sorted pair of arrays, each new key before an equal old one (as ``np.insert`` at
    ``np.searchsorted(keys, new)``)."""
    n, k = keys.shape[0], new.shape[0]
    out = np.empty(n + k, np.int64)
    out_idx = np.empty(n + k, np.int64)
    i = j = 0
    for o in range(n + k):
        if j < k and (i == n or new[j] <= keys[i]):
            out[o], out_idx[o] = new[j], new_idx[j]
            j += 1
        else:
            out[o], out_idx[o] = keys[i], kidx[i]
            i += 1
    return out, out_idx


@numba.njit(cache=True)
def spread(indptr, indices, data, x0, x1, x2):
    """The sparse products A x0, A x1, A x2 of a CSR matrix, in one pass over the
    matrix, each row's terms summed in stored order from 0 (as scipy's ``csr_matvec``
    sums them for one vector)."""
    n = indptr.shape[0] - 1
    out0, out1, out2 = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        s0 = s1 = s2 = 0.0
        for jj in range(indptr[i], indptr[i + 1]):
            a, c = data[jj], indices[jj]
            s0 += a * x0[c]
            s1 += a * x1[c]
            s2 += a * x2[c]
        out0[i], out1[i], out2[i] = s0, s1, s2
    return out0, out1, out2


@numba.njit(cache=True)
def backlog(live, status, where, holder, hours, open_code, place, n_cadres):
    """Hours of the open needs among ``live`` waiting at ``place`` (with their cadres),
    summed per holder in the order of ``live`` (as ``np.bincount`` with weights).

    Returns:
        (hours per cadre, the number of needs counted).
    """
    out = np.zeros(n_cadres)
    k = 0
    for i in range(live.shape[0]):
        j = live[i]
        if status[j] == open_code and where[j] == place:
            out[holder[j]] += hours[j]
            k += 1
    return out, k


# Contact outcomes (saca.agents.cadre; checked equal in tests/test_passes.py).
SUCCESS, LATE, FAIL, VISIT_UNWANTED, VISIT_WANTED, CONSULTED = range(6)


@numba.njit(cache=True, inline="always")
def _trust_change(t, out, fam, k):
    """The trust change of one contact (Households.apply_contacts), from the constants
    ``k`` = (g, h·g, −λ·g, −v, g_c)."""
    g, hg, loss, visit_loss, consult = k
    if out == SUCCESS:
        return g * (1 - t)
    if out == LATE:
        return hg * (1 - t)
    if out == VISIT_WANTED:
        return hg * (1 - t)
    if out == FAIL:
        return loss * t
    if out == VISIT_UNWANTED:
        return visit_loss * (1 - fam)
    if out == CONSULTED:
        return consult * (1 - t)
    return 0.0


@numba.njit(cache=True)
def contacts(idx, hh, out, trust, familiarity, n_ties, institution, engagement, satisfaction, k):
    """A day's contacts applied in order (Households.apply_contacts): trust on each tie,
    familiarity, institution trust, engagement of the consulted and satisfaction, each
    change computed from the values before any of that kind is added (as ``np.add.at``),
    each array clipped to [0, 1] after its changes (engagement only when someone was
    consulted).

    Args:
        idx, hh, out: each contact's tie, household and outcome.
        trust, familiarity, n_ties: the ties' arrays and how many ties there are.
        institution, engagement, satisfaction: the households' arrays.
        k: (g, h·g, −λ·g, −v, g_c, φ, ι, engagement gain, satisfaction step).

    Returns:
        Each contact's familiarity before today's contacts.
    """
    n = idx.shape[0]
    g, hg, loss, visit_loss, consult, phi, share, eng_gain, step = k
    tk = (g, hg, loss, visit_loss, consult)
    fam = np.empty(n)
    d = np.empty(n)
    for i in range(n):
        fam[i] = familiarity[idx[i]]
        d[i] = _trust_change(trust[idx[i]], out[i], fam[i], tk)
    for i in range(n):
        trust[idx[i]] += d[i]
    _clip_all(trust, n_ties)
    for i in range(n):
        familiarity[idx[i]] += phi * (1 - fam[i])
    _clip_all(familiarity, n_ties)
    for i in range(n):
        d[i] = share * _trust_change(institution[hh[i]], out[i], fam[i], tk)
    for i in range(n):
        institution[hh[i]] += d[i]
    _clip_all(institution, institution.shape[0])
    consulted = False
    for i in range(n):
        d[i] = eng_gain * (1 - engagement[hh[i]]) if out[i] == CONSULTED else 0.0
    for i in range(n):
        if out[i] == CONSULTED:
            engagement[hh[i]] += d[i]
            consulted = True
    if consulted:
        _clip_all(engagement, engagement.shape[0])
    for i in range(n):
        s = satisfaction[hh[i]]
        if out[i] <= LATE:
            d[i] = step * (1 - s)
        elif out[i] == FAIL:
            d[i] = -step * s
        else:
            d[i] = 0.0
    for i in range(n):
        satisfaction[hh[i]] += d[i]
    _clip_all(satisfaction, satisfaction.shape[0])
    return fam


@numba.njit(cache=True)
def _clip_all(x, n):
    """Clip ``x[:n]`` to [0, 1]."""
    for i in range(n):
        x[i] = _unit(x[i])
