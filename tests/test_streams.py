"""model.streams: Mesa's random stream shuffled faster, with the same order and draws."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from saca.model.streams import shuffle, shuffled


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 3000), before=st.integers(0, 700))
def test_shuffle_is_pythons_shuffle(seed, n, before):
    ours, theirs = random.Random(seed), random.Random(seed)
    for r in (ours, theirs):  # anywhere in the generator's 624-word block
        r.getrandbits(before % 33 or 1) if before % 2 else [r.random() for _ in range(before)]
    a, b = list(range(n)), [f"x{i}" for i in range(n)]
    shuffle(ours, a)
    theirs.shuffle(b)
    assert [f"x{i}" for i in a] == b
    assert ours.getstate() == theirs.getstate()


def test_another_kind_of_stream_shuffles_with_its_own_method():
    class Counting(random.Random):
        calls = 0

        def shuffle(self, x):
            Counting.calls += 1
            super().shuffle(x)

    items = list(range(50))
    shuffle(Counting(3), items)
    assert Counting.calls == 1 and sorted(items) == list(range(50))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 3000))
def test_shuffled_is_the_order_of_pythons_shuffle(seed, n):
    ours, theirs = random.Random(seed), random.Random(seed)
    items = np.arange(n, dtype=np.int64) * 3 + 1
    listed = items.tolist()
    got = shuffled(ours, items)
    theirs.shuffle(listed)
    assert got.dtype == np.int64 and got.tolist() == listed
    assert items.tolist() == (np.arange(n) * 3 + 1).tolist()  # the input is left as it was
    assert ours.getstate() == theirs.getstate()
