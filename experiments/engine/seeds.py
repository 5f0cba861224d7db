"""The seed rule: every run's generator is a ``numpy.random.SeedSequence`` made here.

One rule for every command, so that a run can be repeated alone (``saca run --seed``):

- a single run (``saca run``): ``SeedSequence(seed)``;
- replicate ``r`` of a comparison (``saca compare``, validation, withdrawal):
  ``SeedSequence(seed).spawn(replicates)[r]``, the same under every regime (common random
  numbers, so regime differences are paired);
- run ``(point, regime, replicate)`` of a sweep: ``SeedSequence(seed, spawn_key=(point,
  replicate))`` (``(point, replicate, regime_index)`` without common random numbers);
- replicate ``r`` of a validation pattern at robustness situation ``j``:
  ``SeedSequence(seed, spawn_key=(ROBUST_KEY + j, r))``.

A seed is written ``N`` or ``N:K1,K2`` (root and spawn key), the form ``saca run --seed``
reads back (:func:`seed_text`, :func:`parse_seed`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from saca.model import SacaInputError

MAX_SEED = 2**63 - 1


ROBUST_KEY = 1000
"""First spawn key of the validation's robustness situations (clear of sweep points 0..999)."""


def check_seed(seed: int) -> int:
    """Return the root seed if it is a whole number in [0, 2**63 - 1].

    Args:
        seed: the root seed as given.

    Raises:
        SacaInputError: negative or too large.
    """
    whole = isinstance(seed, int | np.integer) and not isinstance(seed, bool)
    if not whole or not 0 <= seed <= MAX_SEED:
        raise SacaInputError(f"--seed must be a whole number from 0 to {MAX_SEED}, got {seed}")
    return int(seed)


def seed_text(root: int, spawn_key: Sequence[int] = ()) -> str:
    """A run's seed in the form ``saca run --seed`` takes: ``root`` or ``root:k1,k2``.

    Args:
        root: the SeedSequence's entropy (a root seed).
        spawn_key: its spawn key (empty for a root seed).
    """
    if not spawn_key:
        return str(int(root))
    return f"{int(root)}:{','.join(str(int(k)) for k in spawn_key)}"


_OLD_SEED = re.compile(r"^SeedSequence\(\s*(\d+)\s*(?:,\s*spawn_key=\(([\d,\s]*)\))?\s*\)$")


def parse_seed(text: str | int) -> int | np.random.SeedSequence:
    """Read a seed as ``saca run --seed`` and stored runs give it.

    ``N`` is a root seed (the model gets ``SeedSequence(N)``); ``N:K1,K2,...`` is
    ``SeedSequence(N, spawn_key=(K1, K2, ...))``, the seed a sweep stores for each run;
    the older stored form ``SeedSequence(N, spawn_key=(K1, K2))`` is read too.

    Args:
        text: the seed as typed or stored.

    Raises:
        SacaInputError: anything else, in one line with the accepted forms.
    """
    if isinstance(text, int | np.integer) and not isinstance(text, bool):
        return check_seed(int(text))
    raw = str(text).strip()
    old = _OLD_SEED.match(raw)
    if old:
        root, keys = old.group(1), (old.group(2) or "").replace(" ", "").strip(",")
    else:
        root, _, keys = raw.partition(":")
    try:
        entropy = check_seed(int(root))
        key = tuple(int(k) for k in keys.split(",")) if keys else ()
    except (ValueError, SacaInputError):
        raise SacaInputError(
            f"--seed {raw!r} is not a seed; give a whole number N from 0 to {MAX_SEED}, or "
            "N:K1,K2 as a sweep stores it (SeedSequence(N, spawn_key=(K1, K2)))"
        ) from None
    if any(k < 0 for k in key):
        raise SacaInputError(f"--seed {raw!r}: spawn key numbers must be 0 or more")
    return np.random.SeedSequence(entropy, spawn_key=key) if key else entropy


def seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """A fresh SeedSequence for a run (a copy if one is given, so nothing is shared).

    Args:
        seed: an int root seed or a SeedSequence (e.g. a spawned child).
    """
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(
            seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size
        )
    return np.random.SeedSequence(check_seed(seed))


def replicate_seeds(seed: int, replicates: int) -> list[np.random.SeedSequence]:
    """The replicate seeds of a comparison: ``SeedSequence(seed).spawn(replicates)``.

    Args:
        seed: the root seed.
        replicates: how many children.
    """
    return np.random.SeedSequence(check_seed(seed)).spawn(replicates)


def seed_key(
    point: int, replicate: int, regime_index: int, common_random_numbers: bool = True
) -> tuple[int, ...]:
    """The spawn key of a run's SeedSequence.

    Args:
        point: design point index.
        replicate: replicate index.
        regime_index: the regime's position in the spec.
        common_random_numbers: if True the regimes share the key ``(point, replicate)``;
            otherwise it is ``(point, replicate, regime_index)``.
    """
    if common_random_numbers:
        return (point, replicate)
    return (point, replicate, regime_index)


def run_seed(root: int, key: Sequence[int]) -> np.random.SeedSequence:
    """A run's generator seed: ``SeedSequence(root, spawn_key=key)``.

    Args:
        root: the sweep's root seed.
        key: from :func:`seed_key`.
    """
    return np.random.SeedSequence(root, spawn_key=tuple(key))


def robust_seed(root: int, situation: int, replicate: int) -> np.random.SeedSequence:
    """Replicate ``replicate`` of a validation pattern at robustness situation ``situation``:
    ``SeedSequence(root, spawn_key=(ROBUST_KEY + situation, replicate))``.

    Args:
        root: the pattern's root seed.
        situation: the robustness situation's index.
        replicate: replicate index.
    """
    return np.random.SeedSequence(root, spawn_key=(ROBUST_KEY + situation, replicate))
