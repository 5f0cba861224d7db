"""agents.queues: every cadre's queue in one flat array behaves as a list per cadre."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from saca.agents.queues import Queues

CADRES = 5
ops = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(0, CADRES - 1), st.integers(0, 30)),
        st.tuples(
            st.just("extend"),
            st.lists(st.tuples(st.integers(0, CADRES - 1), st.integers(0, 30)), max_size=6),
        ),
        st.tuples(st.just("set"), st.integers(0, CADRES - 1), st.lists(st.integers(0, 30))),
        st.tuples(
            st.just("remove"),
            st.lists(st.tuples(st.integers(0, CADRES - 1), st.integers(0, 30)), max_size=6),
        ),
        st.tuples(st.just("read"), st.integers(0, CADRES - 1)),
    ),
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(ops)
def test_queues_behave_as_one_list_per_cadre(program):
    q = Queues()
    for _ in range(CADRES):
        q.add_cadre()
    lists: list[list[int]] = [[] for _ in range(CADRES)]
    for op in program:
        if op[0] == "append":
            q.append(op[1], op[2])
            lists[op[1]].append(op[2])
        elif op[0] == "extend":
            cads = np.array([c for c, _ in op[1]], np.int64)
            ids = np.array([n for _, n in op[1]], np.int64)
            q.extend(cads, ids)
            for c, n in op[1]:
                lists[c].append(n)
        elif op[0] == "set":
            q.set(op[1], op[2])
            lists[op[1]] = list(op[2])
        elif op[0] == "remove":
            cads = np.array([c for c, _ in op[1]], np.int64)
            ids = np.array([n for _, n in op[1]], np.int64)
            q.remove(cads, ids)
            for c, n in op[1]:
                lists[c] = [x for x in lists[c] if x != n]
        else:
            assert q.get(op[1]) == lists[op[1]]
    assert [q.get(c) for c in range(CADRES)] == lists
    assert q.lengths().tolist() == [len(x) for x in lists]
