"""The one run engine: batches of calls through the sweep's backends, and the seed rule."""

import math

import numpy as np
import pytest

from saca.experiments.engine.backends import RunError, make_backend, run_tasks
from saca.experiments.engine.backends.base import CallTask, call
from saca.experiments.engine.seeds import replicate_seeds, robust_seed, run_seed, seed_key


@pytest.mark.parametrize("workers", [1, 2])
def test_run_tasks_returns_results_in_task_order(workers):
    values = [9.0, 1.0, 4.0, 16.0]
    assert run_tasks(values, math.sqrt, workers=workers, progress=False) == [3.0, 1.0, 2.0, 4.0]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_call_fails_alone_and_the_batch_raises_at_the_end(workers):
    with pytest.raises(RunError, match=r"1 of 3 check runs failed; the first, check-1: ValueError"):
        run_tasks([4.0, -1.0, 9.0], math.sqrt, workers=workers, progress=False, label="check")


def test_call_captures_the_value_or_the_error():
    ok = call(CallTask("a", 0, math.sqrt, 4.0))
    assert ok.status == "ok" and ok.value == 2.0
    bad = call(CallTask("b", 1, math.sqrt, -1.0))
    assert bad.status == "failed" and bad.error.startswith("ValueError") and bad.value is None


def test_make_backend_picks_the_backend_by_name():
    assert type(make_backend("serial", 1)).__name__ == "SerialBackend"
    assert type(make_backend("serial", 1, timeout=5.0)).__name__ == "ProcessBackend"
    assert type(make_backend("process", 2)).__name__ == "ProcessBackend"
    assert type(make_backend("dask", 2)).__name__ == "DaskBackend"


def test_the_seed_rule():
    ss = np.random.SeedSequence
    assert [s.spawn_key for s in replicate_seeds(7, 3)] == [(0,), (1,), (2,)]
    assert run_seed(5, seed_key(3, 1, 2)).spawn_key == (3, 1)
    assert run_seed(5, seed_key(3, 1, 2, common_random_numbers=False)).spawn_key == (3, 1, 2)
    a, b = robust_seed(11, 2, 1), ss(11, spawn_key=(1002, 1))
    assert (a.entropy, a.spawn_key) == (b.entropy, b.spawn_key)
