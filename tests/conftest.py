"""Shared fixtures: small, fast models and helpers to put needs where a test wants them.

A SMALL district (400 households, 8 grids, 4 communities, 2 streets) builds in a few
milliseconds and steps a day in a few; every test that needs a model uses it, so the
suite stays fast. ``run_small`` caches finished runs for the whole session: treat what it
returns as read-only (build a fresh one with ``small_model`` to poke at internals).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest

from saca.agents import needs as nd
from saca.model import CollaborationModel
from saca.model.model import compile_kernels

SMALL: dict[str, Any] = {
    "situation.households": 400,
    "situation.grids": 8,
    "situation.communities": 4,
    "situation.streets": 2,
}


def _model(
    scenario: str = "baseline",
    regime: str = "hybrid",
    seed: int = 1,
    overrides: dict[str, Any] | None = None,
    days: int = 0,
) -> CollaborationModel:
    m = CollaborationModel(scenario, regime, rng=seed, overrides={**SMALL, **(overrides or {})})
    for _ in range(days):
        m.step()
    return m


# Under pytest-xdist (``make test``) the modules that take longest start first, so the
# longest one never begins last while the other worker has run out of work.
SLOW_FIRST = ("test_validate.py", "test_app.py", "test_reliability.py", "test_sweep.py")


def pytest_configure(config: pytest.Config) -> None:
    """Compile the model's kernels once, before any test (see ``compile_kernels``): in a
    fresh clone every pytest-xdist worker, and every saca process a test starts, would
    otherwise compile them side by side. The workers skip it: the controller did it.

    Args:
        config: pytest's configuration.
    """
    if not hasattr(config, "workerinput"):
        compile_kernels()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the slowest modules' tests first (a stable sort: each module keeps its order).

    Args:
        config: pytest's configuration.
        items: the collected tests, reordered in place.
    """
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@functools.lru_cache(maxsize=64)
def _cached(scenario: str, regime: str, seed: int, frozen: tuple, days: int) -> CollaborationModel:
    return _model(scenario, regime, seed, dict(frozen), days)


@pytest.fixture(scope="session")
def small_overrides() -> dict[str, Any]:
    """The overrides that make a district SMALL (a copy)."""
    return dict(SMALL)


@pytest.fixture(scope="session")
def small_model():
    """Factory for a fresh SMALL model: ``small_model(scenario, regime, seed, overrides,
    days)``; ``days`` steps are run before it is returned."""
    return _model


@pytest.fixture(scope="session")
def run_small():
    """Like ``small_model`` but cached for the session: the same arguments return the same
    finished model. Do not mutate it."""

    def run(
        scenario: str = "baseline",
        regime: str = "hybrid",
        seed: int = 1,
        overrides: dict[str, Any] | None = None,
        days: int = 60,
    ) -> CollaborationModel:
        return _cached(scenario, regime, seed, tuple(sorted((overrides or {}).items())), days)

    return run


def _add_need(
    m: CollaborationModel,
    hh: int,
    *,
    ntype: int = nd.SERVICE,
    level: int = 0,
    hours: float = 2.0,
    deadline: int | None = None,
    status: int = nd.OPEN,
) -> int:
    """Append one need of household ``hh`` created at the start of today (hour 24·day)
    with its deadline at the start of day ``deadline`` (a week on by default); return its
    id."""
    st = m.structure
    day0 = m.day * nd.HOURS_PER_DAY
    due = m.day + 7 if deadline is None else deadline
    ids = m.needs.add(
        np.array([hh]),
        st.hh_comm[[hh]],
        st.hh_grid[[hh]],
        np.array([ntype], np.int8),
        np.array([level], np.int8),
        m.day,
        np.array([day0]),
        np.array([due * nd.HOURS_PER_DAY]),
        np.array([hours]),
    )
    nid = int(ids[0])
    m.needs.status[nid] = status
    m.needs.reported[nid] = status != nd.HIDDEN
    return nid


@pytest.fixture(scope="session")
def add_need():
    """Helper ``add_need(model, hh, ntype=, level=, hours=, deadline=, status=)`` that
    appends one need (OPEN by default) and returns its id."""
    return _add_need


class ScriptedRng:
    """A stand-in for ``model.rng`` that forces some draws and delegates the rest.

    Args:
        rng: the real numpy Generator.
        poisson: value every ``poisson`` call returns, or None to delegate.
        random: value every ``random()`` draw takes, or None to delegate.
    """

    def __init__(self, rng: np.random.Generator, *, poisson=None, random=None) -> None:
        self._rng = rng
        self._poisson = poisson
        self._random = random

    def poisson(self, *args, **kwargs):
        if self._poisson is None:
            return self._rng.poisson(*args, **kwargs)
        return self._poisson

    def random(self, size=None):
        if self._random is None:
            return self._rng.random(size)
        return self._random if size is None else np.full(size, self._random)

    def __getattr__(self, name: str):
        return getattr(self._rng, name)


@pytest.fixture(scope="session")
def scripted_rng():
    """The :class:`ScriptedRng` class."""
    return ScriptedRng
