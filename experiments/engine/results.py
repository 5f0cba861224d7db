"""Reading a stored sweep: its metadata and spec, a check of its files, and its runs as
DataFrames (works while the sweep is still running or after it was killed)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.compute as pc

from saca.experiments.engine import outdir
from saca.experiments.engine.spec import SPEC_TABLES, SweepSpec, load_spec
from saca.experiments.engine.store import SUMMARY, TIMESERIES, SweepStore, check_readable
from saca.model import SacaInputError
from saca.model.metrics import METRICS


def meta_file(out: Path) -> dict[str, Any] | None:
    """The ``meta.json`` of a folder, or None when it has none.

    Args:
        out: the folder.

    Raises:
        SacaInputError: the file cannot be read or is not JSON.
    """
    path = out / "meta.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SacaInputError(f"cannot read {path}: {exc}") from None


def read_meta(out: str | Path) -> dict[str, Any]:
    """The ``meta.json`` of a sweep directory.

    Args:
        out: the sweep directory.

    Raises:
        SacaInputError: not a sweep directory.
    """
    out = Path(out)
    check_readable(out)
    meta = meta_file(out) or {}
    if meta.get("kind") != "sweep":
        raise SacaInputError(f"{out} holds no sweep (meta.json kind is {meta.get('kind')!r})")
    return meta


def _store_of(out: Path, meta: Mapping[str, Any]) -> SweepStore:
    kinds = {f["key"]: f["kind"] for f in meta["design"]["factors"]}
    return SweepStore(out, kinds)


def _order(df: pd.DataFrame, meta: Mapping[str, Any], extra: Sequence[str] = ()) -> pd.DataFrame:
    rank = {r: i for i, r in enumerate(meta["regimes"])}
    df = df.assign(_r=df["regime"].map(rank))
    df = df.sort_values(["point", "_r", "replicate", *extra], kind="stable")
    return df.drop(columns="_r").reset_index(drop=True)


def verify(out: str | Path, deep: bool = True) -> str:
    """Check a stored sweep's files and runs (read only); describe it, or raise.

    Args:
        out: the sweep directory.
        deep: also checksum and read the time-series files.

    Returns:
        One line: files and runs checked.

    Raises:
        SacaInputError: not a sweep directory.
        StorageError: something is damaged or missing, in one line saying how to repair.
    """
    out = Path(out)
    meta = read_meta(out)
    store = _store_of(out, meta)
    # every ok run must have summary rows; how many per run is checked on --resume,
    # where the plan knows its windows
    found = store.verify(days=meta.get("steps") if meta.get("timeseries") else None, deep=deep)
    if not found.ok:
        spec = meta.get("spec_file") or "SPEC.toml"
        raise outdir.StorageError(
            f"{out} is damaged: {found.line(out)}; resume the command that wrote it to run "
            f"them again (e.g. saca sweep {spec} --out {out} --resume)"
        )
    files = sum(len(g) for g in store.groups().values())
    runs = len(store.manifest())
    return (
        f"{files} files, {runs} stored runs; every file reads whole, the recorded checksums "
        "and row counts match, and every ok run has its rows"
    )


def load_results(out: str | Path, window: str | None = "all") -> pd.DataFrame:
    """A stored sweep as one DataFrame: one row per stored run.

    Columns: ``id``, ``point``, ``regime``, ``replicate``, ``seed``, one per varied
    parameter, ``status``, every metric over ``window`` (NaN for failed runs),
    ``duration_s``, ``error``, ``traceback``, ``started``, ``worker``, ``session``. Rows
    are ordered by point, regime (spec order) and replicate. Works while a sweep is still
    running or after it was killed (the runs stored so far).

    Args:
        out: the sweep directory.
        window: ``all`` (the whole run) or a phase name; None gives every window, one row
            per run and window, with a ``window`` column.

    Raises:
        SacaInputError: not a sweep directory, or an unknown window.
    """
    out = Path(out)
    meta = read_meta(out)
    store = _store_of(out, meta)
    man = store.manifest()
    ok = set(man.loc[man["status"] == "ok", "id"])
    filt = None if window is None else pc.field("window") == window
    summ = store.read(SUMMARY, ok, filt).drop(columns=["point", "regime", "replicate"])
    if window is not None:
        if ok and summ.empty:
            windows = sorted(set(store.read(SUMMARY, ok)["window"]))
            if not windows:
                raise outdir.StorageError(
                    f"{out}: the summary rows of all {len(ok)} ok runs are missing (a deleted "
                    f"or damaged file); check it with saca results --verify {out}"
                )
            raise SacaInputError(
                f"no window {window!r} in {out}; choose one of {', '.join(windows)}"
            )
        summ = summ.drop(columns="window")
    lacking = len(ok) - summ["id"].nunique()
    if lacking > 0:
        raise outdir.StorageError(
            f"{out}: {lacking} of {len(ok)} ok runs have no summary rows (a deleted or damaged "
            f"file); check it with saca results --verify {out}, and resume the sweep to run "
            "them again"
        )
    params = [f["key"] for f in meta["design"]["factors"]]
    head = ["id", "point", "regime", "replicate", "seed", *params, "status"]
    tail = ["duration_s", "error", "traceback", "started", "worker", "session"]
    df = man[head].merge(summ, on="id", how="left").merge(man[["id", *tail]], on="id")
    return _order(df, meta, ["window"] if window is None else [])


def load_timeseries(out: str | Path) -> pd.DataFrame:
    """The daily time series of a sweep stored with ``--timeseries``, one row per run-day.

    Columns: ``id``, ``point``, ``regime``, ``replicate``, the varied parameters, ``day``,
    ``phase`` and every metric.

    Args:
        out: the sweep directory.

    Raises:
        SacaInputError: not a sweep directory, or no time series stored.
    """
    out = Path(out)
    meta = read_meta(out)
    if not meta.get("timeseries"):
        raise SacaInputError(f"{out} has no time series; run the sweep with --timeseries")
    store = _store_of(out, meta)
    man = store.manifest()
    ok = set(man.loc[man["status"] == "ok", "id"])
    ts = store.read(TIMESERIES, ok)
    params = [f["key"] for f in meta["design"]["factors"]]
    ts = ts.merge(man[["id", *params]], on="id", how="left")
    cols = ["id", "point", "regime", "replicate", *params, "day", "phase", *METRICS]
    return _order(ts[cols], meta, ["day"])


def stored_spec(out: str | Path) -> SweepSpec:
    """The spec of a stored sweep, read from its ``spec.toml``.

    Args:
        out: the sweep directory.
    """
    out = Path(out)
    check_readable(out)
    meta = meta_file(out) or {}
    if meta.get("kind") != "sweep":
        raise SacaInputError(f"{out} holds no sweep (meta.json kind is {meta.get('kind')!r})")
    # a sweep run by an analysis (saca sensitivity, ...) keeps that analysis's own table
    extra = tuple(k for k in meta.get("spec", {}) if k not in SPEC_TABLES)
    spec = load_spec(out / "spec.toml", base_dir=meta.get("spec_dir"), extra_tables=extra)
    # the copy is called spec.toml: the sweep's name is the one it was started with
    name = str(meta.get("name") or spec.name)
    return dataclasses.replace(spec, name=name, label=str(meta.get("spec_file", spec.label)))
