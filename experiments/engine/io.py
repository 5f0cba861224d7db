"""Writing results: Parquet tables, JSON without NaN, and the provenance of a run.

``meta.json`` records everything needed to redo a run: the scenario and regime names,
every parameter value as a dotted key, the overrides, seed, steps, the saca version, the
git commit of the code (if it is a git checkout) and the versions of the libraries.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from saca.model.regime import Regime
from saca.model.scenario import GROUPS, Scenario, all_params

LIBRARIES = ("mesa", "numpy", "pandas", "networkx", "pyarrow", "scipy", "matplotlib")


def jsonable(obj: Any) -> Any:
    """Convert to plain JSON types: NaN and infinities become None, numpy scalars Python.

    Args:
        obj: dicts, lists, tuples, numbers, strings, numpy scalars or arrays.
    """
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps(obj: Any, indent: int | None = 2) -> str:
    """Serialise to strict JSON (NaN → null).

    Args:
        obj: the object.
        indent: JSON indentation, or None for one line.
    """
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False, ensure_ascii=False)


def write_json(obj: Any, path: str | Path) -> Path:
    """Write strict JSON (NaN → null) to a file.

    Args:
        obj: the object.
        path: destination file.
    """
    path = Path(path)
    path.write_text(dumps(obj) + "\n", encoding="utf-8")
    return path


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame to Parquet with pyarrow, without the pandas index.

    Args:
        df: the table (put a meaningful index into a column first).
        path: destination file.
    """
    path = Path(path)
    df.to_parquet(path, engine="pyarrow", index=False)
    return path


def flat_params(scenario: Scenario, regime: Regime) -> dict[str, Any]:
    """Every parameter value of a resolved scenario and regime, by dotted key.

    Args:
        scenario: the resolved scenario.
        regime: the resolved regime.
    """
    objs = {g: (regime if g == "regime" else getattr(scenario, g)) for g in GROUPS}
    out: dict[str, Any] = {}
    for info in all_params():
        group, name = info.key.split(".", 1)
        out[info.key] = getattr(objs[group], name)
    # ``sunk`` only where it is not the default, so timelines without a withdrawal are
    # recorded as before.
    out["situation.timeline"] = [
        {"phase": p.name, "start": p.start, "end": p.end}
        | ({"sunk": p.sunk} if p.sunk != "all" else {})
        for p in scenario.situation.timeline
    ]
    return out


def git_commit(where: str | Path | None = None) -> str | None:
    """The git commit of the code, or None if it is not a git checkout.

    Args:
        where: a directory in the repository; default the package's own directory.
    """
    where = Path(where) if where is not None else Path(__file__).resolve().parent
    try:
        res = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = res.stdout.strip()
    return sha if res.returncode == 0 and sha else None


def versions() -> dict[str, str | None]:
    """Versions of Python, saca and the libraries the results depend on."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("saca", *LIBRARIES):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def provenance() -> dict[str, Any]:
    """The saca version, git commit, library versions and a UTC timestamp."""
    vers = versions()
    return {
        "saca_version": vers["saca"],
        "git_commit": git_commit(),
        "versions": vers,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def run_meta(
    scenario: Scenario,
    regime_name: str,
    regime: Regime,
    overrides: Mapping[str, Any],
    seed: int,
    steps: int,
) -> dict[str, Any]:
    """The full metadata of one run, as written to ``meta.json``.

    Args:
        scenario: the resolved scenario (overrides applied).
        regime_name: the regime's name.
        regime: the resolved regime (overrides applied).
        overrides: the overrides as given.
        seed: the root seed (the model's generator is ``SeedSequence(seed)``).
        steps: days run.
    """
    return {
        "kind": "run",
        "scenario": scenario.name,
        "regime": regime_name,
        "seed": seed,
        "seeding": "numpy.random.SeedSequence(seed)",
        "steps": steps,
        "overrides": dict(overrides),
        "parameters": flat_params(scenario, regime),
        **provenance(),
    }
