"""Mesa's random stream, drawn faster with the same numbers.

Mesa gives every model a :class:`random.Random` (``model.random``: Python's Mersenne
Twister, MT19937), and the work round shuffles the cadres with it as Mesa's
``shuffle_do`` does. Python's shuffle draws one bounded integer per element in a Python
loop, which costs about a millisecond for a few thousand cadres, several times a day.
:func:`shuffle` gives the same order and leaves the stream in the same state: it takes
the generator's state, runs the same generator and Python's rejection rule compiled with
numba, and puts the state back.
"""

from __future__ import annotations

import random

import numba
import numpy as np

_N, _M = 624, 397  # MT19937: state words, shift
_MATRIX_A, _UPPER, _LOWER = 0x9908B0DF, 0x80000000, 0x7FFFFFFF


@numba.njit(cache=True)
def _twist(mt: np.ndarray) -> None:
    """Regenerate the 624 state words (``genrand_uint32`` of CPython's _randommodule.c)."""
    for kk in range(_N):
        y = (mt[kk] & _UPPER) | (mt[(kk + 1) % _N] & _LOWER)
        mt[kk] = mt[(kk + _M) % _N] ^ (y >> 1) ^ (_MATRIX_A if y & 1 else 0)


@numba.njit(cache=True)
def _shuffle_order(n: int, mt: np.ndarray, pos: int) -> tuple[np.ndarray, int]:
    """Python's ``random.shuffle`` of ``range(n)``: for i = n − 1 … 1, j = the first
    32-bit output r >> (32 − bits(i + 1)) below i + 1, then swap items i and j.

    Args:
        n: number of items.
        mt: the generator's 624 state words (int64 holding uint32), advanced in place.
        pos: the position of the next word.

    Returns:
        (the order, the new position).
    """
    order = np.arange(n)
    k = 0
    while (1 << k) <= n:  # bits(n), the first bound's
        k += 1
    for i in range(n - 1, 0, -1):
        bound = i + 1
        while k > 1 and (1 << (k - 1)) > bound:  # k = bits(bound)
            k -= 1
        while True:
            if pos >= _N:
                _twist(mt)
                pos = 0
            y = mt[pos]
            pos += 1
            y ^= y >> 11
            y ^= (y << 7) & 0x9D2C5680
            y ^= (y << 15) & 0xEFC60000
            y ^= y >> 18
            j = y >> (32 - k)
            if j < bound:
                break
        order[i], order[j] = order[j], order[i]
    return order, pos


def _permutation(rng: random.Random, n: int) -> np.ndarray:
    """The order ``rng.shuffle`` gives a list of ``n`` items (item ``order[i]`` ends at
    ``i``), drawn compiled and with the stream advanced as that shuffle advances it."""
    version, internal, gauss_next = rng.getstate()
    mt = np.array(internal[:-1], dtype=np.int64)
    order, pos = _shuffle_order(n, mt, internal[-1])
    rng.setstate((version, (*mt.tolist(), pos), gauss_next))
    return order


def shuffle[T](rng: random.Random, items: list[T]) -> None:
    """Shuffle ``items`` in place exactly as ``rng.shuffle(items)`` does, with the same
    draws (``rng`` ends in the same state).

    Args:
        rng: the stream (a plain :class:`random.Random`; any other kind shuffles with its
            own method).
        items: the list to shuffle.
    """
    if type(rng) is not random.Random or len(items) < 2:
        rng.shuffle(items)
        return
    items[:] = [items[i] for i in _permutation(rng, len(items)).tolist()]


def shuffled(rng: random.Random, items: np.ndarray) -> np.ndarray:
    """``items`` in the order ``rng.shuffle`` would leave a list of them, with the same
    draws (see :func:`shuffle`).

    Args:
        rng: the stream.
        items: a one-dimensional array (not changed).
    """
    if type(rng) is not random.Random or len(items) < 2:
        as_list = items.tolist()
        rng.shuffle(as_list)
        return np.array(as_list, dtype=items.dtype)
    return items[_permutation(rng, len(items))]
