"""Sweeps end to end: backends agree, seeds, files, resume after a killed compaction."""

import json
import shutil
import threading
import time

import numpy as np
import pandas as pd
import pytest

from experiments import runner, sweep
from experiments.store import MANIFEST, SUMMARY, SweepStore
from model.metrics import METRICS

TINY = (
    '[fixed]\n"situation.households" = 240\n"situation.grids" = 4\n'
    '"situation.communities" = 2\n"situation.streets" = 1\n'
)
KEYS = ["id", "point", "regime", "replicate", "seed", "regime.information", "situation.risk"]


def write_spec(path, replicates=6, steps=20, seed=5, extra=""):
    """A factorial sweep of tiny runs: 4 points x 2 regimes x ``replicates``."""
    path.write_text(
        f'[sweep]\nscenario = "emergency"\nregimes = ["constructive", "autonomous"]\n'
        f'steps = {steps}\nreplicates = {replicates}\nseed = {seed}\ndesign = "factorial"\n'
        f"{extra}\n"
        '[parameters]\n"regime.information" = [0.0, 1.0]\n"situation.risk" = [0.3, 0.9]\n'
        f"{TINY}"
    )
    return path


def values(df):
    """The reproducible part of a results table: ids, seeds, parameters and metrics."""
    return df[[*KEYS, "status", *METRICS]].reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted serial sweep of 48 tiny runs: (spec, dir, results)."""
    d = tmp_path_factory.mktemp("ref")
    spec = write_spec(d / "spec.toml")
    out = d / "out"
    report = sweep.run_sweep(spec, out, backend="serial", progress=False)
    assert report.ok == report.total == 48 and report.complete
    return spec, out, sweep.load_results(out)


# ----- identity across backends, ids and seeds ------------------------------------------
@pytest.mark.parametrize("backend", ["process", "dask"])
def test_backends_give_identical_results(reference, tmp_path, backend):
    spec, _, ref = reference
    report = sweep.run_sweep(spec, tmp_path / backend, backend=backend, workers=2)
    assert report.ok == 48 and report.failed == 0
    got = sweep.load_results(tmp_path / backend)
    pd.testing.assert_frame_equal(values(got), values(ref))
    assert set(got["session"]) == {0}


def test_run_ids_seeds_and_common_random_numbers(reference):
    spec, _, df = reference
    assert df["id"].is_unique and len(df) == 48
    assert df["id"].iloc[0] == "p00000-constructive-r000"
    row = df[df["id"] == "p00003-autonomous-r005"].iloc[0]
    assert (row["point"], row["regime"], row["replicate"]) == (3, "autonomous", 5)
    assert row["seed"] == "SeedSequence(5, spawn_key=(3, 5))"
    # the regimes of a point and replicate share their seed: paired comparisons
    seeds = df.pivot_table(
        index=["point", "replicate"], columns="regime", values="seed", aggfunc="first"
    )
    assert (seeds["constructive"] == seeds["autonomous"]).all()
    # a stored run is redone exactly by one run with the recorded seed and parameters
    overrides = {
        "regime.information": row["regime.information"],
        "situation.risk": row["situation.risk"],
        "situation.households": 240,
        "situation.grids": 4,
        "situation.communities": 2,
        "situation.streets": 1,
    }
    summary, _ = runner.run_one(
        "emergency", "autonomous", np.random.SeedSequence(5, spawn_key=(3, 5)), 20, overrides
    )
    for m in METRICS:
        assert summary.loc["all", m] == pytest.approx(row[m], rel=0, abs=0, nan_ok=True)
    # runs go replicate by replicate, so a sweep stopped early covers the whole design
    order = list(sweep.prepare(spec).ids())
    assert order[:8] == [
        f"p{p:05d}-{r}-r000" for p in range(4) for r in ("constructive", "autonomous")
    ]


def test_without_common_random_numbers_every_run_has_its_own_seed(tmp_path):
    spec = write_spec(tmp_path / "s.toml", replicates=1, extra="common_random_numbers = false")
    plan = sweep.prepare(spec)
    seeds = [t.seed_text for t in plan.tasks()]
    assert len(set(seeds)) == len(seeds) == 8
    assert seeds[1] == "SeedSequence(5, spawn_key=(0, 0, 1))"


def test_meta_and_files(reference):
    spec, out, _ = reference
    meta = json.loads((out / "meta.json").read_text())
    assert meta["kind"] == "sweep" and meta["complete"] is True
    assert meta["spec_hash"] == sweep.load_spec(spec).hash
    assert meta["runs"] == 48 and meta["regimes"] == ["constructive", "autonomous"]
    assert meta["design"]["factors"][0] == {
        "key": "regime.information",
        "kind": "float",
        "levels": [0.0, 1.0],
    }
    assert {"git_commit", "versions", "saca_version", "seeding"} <= set(meta)
    assert meta["sessions"][0]["mode"] == "start" and meta["sessions"][0]["ok"] == 48
    assert (out / "spec.toml").read_text() == spec.read_text()
    assert len(pd.read_parquet(out / "design.parquet")) == 4
    # compacted: one merged file per table, no shards left, no duplicates
    assert not (out / MANIFEST).exists() and not (out / SUMMARY).exists()
    man = pd.read_parquet(out / "manifest.parquet")
    summ = pd.read_parquet(out / "summary.parquet")
    assert man["id"].is_unique and len(man) == 48
    assert not summ.duplicated(["id", "window"]).any()
    assert set(summ["window"]) == {"all", "normal"}


# ----- resume -----------------------------------------------------------------------------


def test_killed_compaction_and_orphans_never_duplicate(reference, tmp_path):
    _, ref_out, ref = reference
    out = tmp_path / "d"
    shutil.copytree(ref_out, out)
    meta = json.loads((out / "meta.json").read_text())
    kinds = {f["key"]: f["kind"] for f in meta["design"]["factors"]}
    man = pd.read_parquet(out / "manifest.parquet")
    summ = pd.read_parquet(out / "summary.parquet")
    # a compaction killed after writing the merged files but before deleting the shards
    store = SweepStore(out, kinds)
    first = man["id"].iloc[:10]
    store.write_batch(man[man["id"].isin(first)].to_dict("records"), [summ[summ["id"].isin(first)]])
    # an orphan summary shard (killed between renames) and a temporary file
    (out / SUMMARY / "000099.parquet").write_bytes((out / SUMMARY / "000001.parquet").read_bytes())
    (out / MANIFEST / ".000100.parquet.tmp").write_text("half written")
    got = sweep.load_results(out)
    pd.testing.assert_frame_equal(values(got), values(ref))
    spec = sweep.stored_spec(out)
    report = sweep.run_sweep(spec, out, backend="serial", resume=True)
    assert report.ran == 0 and report.complete
    assert not (out / SUMMARY).exists() and not (out / MANIFEST).exists()
    assert len(pd.read_parquet(out / "summary.parquet")) == 96
    pd.testing.assert_frame_equal(values(sweep.load_results(out)), values(ref))


# ----- memory ---------------------------------------------------------------------------
def test_memory_does_not_grow_with_the_number_of_runs(tmp_path):
    import psutil  # a dependency of dask.distributed

    # The process backend leaves the engine alone in this process: collect, buffer, write.
    spec = write_spec(tmp_path / "many.toml", replicates=10, steps=1)
    out = tmp_path / "many"
    me = psutil.Process()
    samples: list[tuple[int, float]] = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            shards = len(list((out / MANIFEST).glob("0*.parquet")))
            samples.append((shards, me.memory_info().rss / 2**20))
            time.sleep(0.05)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    try:
        report = sweep.run_sweep(spec, out, backend="process", workers=2, flush_seconds=0.2)
    finally:
        stop.set()
        t.join()
    assert report.ok == 80
    last = max(shards for shards, _ in samples)
    assert last >= 5
    # while runs stream in (before the final merge of the shards)
    streaming = [rss for shards, rss in samples if 1 <= shards < last]
    assert len(streaming) > 5
    # 80 runs streamed in many shards: the size may move by noise, not per run
    assert max(streaming) - streaming[0] < 20, (streaming[0], max(streaming))
