"""Sweeps end to end: backends agree, kills resume exactly, failures are recorded, files."""

import contextlib
import dataclasses
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from saca.experiments import stats
from saca.experiments.cli.main import main
from saca.experiments.engine import estimate as dry_run
from saca.experiments.engine import runner, sweep
from saca.experiments.engine.backends import DaskBackend, ProcessBackend
from saca.experiments.engine.backends import dask as dask_backend
from saca.experiments.engine.backends.base import execute
from saca.experiments.engine.estimate import estimate, sample_tasks
from saca.experiments.engine.plan import prepare
from saca.experiments.engine.results import load_results, load_timeseries, stored_spec
from saca.experiments.engine.spec import load_spec
from saca.experiments.engine.store import MANIFEST, SUMMARY, SweepStore
from saca.model.metrics import METRICS
from saca.model.scenario import load_regime

ROOT = Path(__file__).resolve().parents[1]
TINY = (
    '[fixed]\n"situation.households" = 240\n"situation.grids" = 4\n'
    '"situation.communities" = 2\n"situation.streets" = 1\n'
)
SWEEP = [sys.executable, "-m", "saca.experiments", "sweep"]
# These tests start processes (pools, dask, the CLI): a hang fails instead of blocking CI.
pytestmark = pytest.mark.timeout(300)
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


def call(argv):
    """Run main() and return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


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
    return spec, out, load_results(out)


# ----- identity across backends, ids and seeds ------------------------------------------
@pytest.mark.parametrize("backend", ["process", "dask"])
def test_backends_give_identical_results(reference, tmp_path, backend):
    spec, _, ref = reference
    report = sweep.run_sweep(spec, tmp_path / backend, backend=backend, workers=2)
    assert report.ok == 48 and report.failed == 0
    got = load_results(tmp_path / backend)
    pd.testing.assert_frame_equal(values(got), values(ref))
    assert set(got["session"]) == {0}


def test_run_ids_seeds_and_common_random_numbers(reference):
    spec, _, df = reference
    assert df["id"].is_unique and len(df) == 48
    assert df["id"].iloc[0] == "p00000-constructive-r000"
    row = df[df["id"] == "p00003-autonomous-r005"].iloc[0]
    assert (row["point"], row["regime"], row["replicate"]) == (3, "autonomous", 5)
    assert row["seed"] == "5:3,5"
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
    order = list(prepare(spec).ids())
    assert order[:8] == [
        f"p{p:05d}-{r}-r000" for p in range(4) for r in ("constructive", "autonomous")
    ]


def test_without_common_random_numbers_every_run_has_its_own_seed(tmp_path):
    spec = write_spec(tmp_path / "s.toml", replicates=1, extra="common_random_numbers = false")
    plan = prepare(spec)
    seeds = [t.seed_text for t in plan.tasks()]
    assert len(set(seeds)) == len(seeds) == 8
    assert seeds[1] == "5:0,0,1"


def test_meta_and_files(reference):
    spec, out, _ = reference
    meta = json.loads((out / "meta.json").read_text())
    assert meta["kind"] == "sweep" and meta["complete"] is True
    assert meta["spec_hash"] == load_spec(spec).hash
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


# ----- kill, resume, failures -----------------------------------------------------------
def _start(spec, out, *extra):
    return subprocess.Popen(
        [*SWEEP, str(spec), "--out", str(out), "--backend", "serial", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_shard(proc, out, timeout=60):
    t0 = time.monotonic()
    while not list((out / MANIFEST).glob("0*.parquet")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, "no shard appeared"
        time.sleep(0.02)


def test_sigkill_mid_sweep_then_resume_gives_exactly_the_uninterrupted_rows(reference, tmp_path):
    spec, _, ref = reference
    out = tmp_path / "killed"
    proc = _start(spec, out)
    _wait_for_shard(proc, out)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    meta = json.loads((out / "meta.json").read_text())
    assert meta["complete"] is False  # killed mid-way, before the end
    stored = len(SweepStore(out, {}).shards(MANIFEST))
    assert stored >= 1
    partial = load_results(out)
    assert 0 < len(partial) < 48 and partial["id"].is_unique

    report = sweep.run_sweep(spec, out, backend="serial", resume=True)
    assert report.stored_before == len(partial)
    assert report.ran == 48 - len(partial)  # nothing stored is recomputed
    assert report.complete
    got = load_results(out)
    pd.testing.assert_frame_equal(values(got), values(ref))
    # the files themselves hold every run once
    man = pd.read_parquet(out / "manifest.parquet")
    summ = pd.read_parquet(out / "summary.parquet")
    assert man["id"].is_unique and len(man) == 48
    assert len(summ) == 48 * 2 and not summ.duplicated(["id", "window"]).any()
    sessions = json.loads((out / "meta.json").read_text())["sessions"]
    assert [s["mode"] for s in sessions] == ["start", "resume"]
    assert set(got["session"]) == {0, 1}


def test_sigterm_stores_finished_runs_and_exits_130(reference, tmp_path):
    spec, _, _ = reference
    out = tmp_path / "term"
    proc = _start(spec, out)
    _wait_for_shard(proc, out)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in err and "--resume" in err
    meta = json.loads((out / "meta.json").read_text())
    assert meta["sessions"][0]["interrupted"] is True
    assert meta["sessions"][0]["ran"] == len(load_results(out))


def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path, monkeypatch):
    spec = write_spec(tmp_path / "s.toml", replicates=1)
    out = tmp_path / "out"
    real = runner.run_one
    autonomous = load_regime("autonomous")[1]

    def flaky(scenario, regime, seed, steps=None, overrides=None, progress=None):
        if seed.spawn_key == (2, 0) and regime == autonomous:
            raise RuntimeError("boom in the model")
        return real(scenario, regime, seed, steps, overrides, progress)

    monkeypatch.setattr(runner, "run_one", flaky)
    code, stdout, stderr = call(["sweep", spec, "--out", out, "--backend", "serial"])
    assert code == 1
    assert "ran 8 runs (7 ok, 1 failed)" in stdout
    assert "1 of 8 runs failed" in stderr and "--rerun-failed" in stderr
    df = load_results(out)
    assert len(df) == 8 and df["id"].is_unique
    bad = df[df["status"] == "failed"]
    assert bad["id"].tolist() == ["p00002-autonomous-r000"]
    assert bad["error"].iloc[0] == "RuntimeError: boom in the model"
    assert "Traceback" in bad["traceback"].iloc[0] and "flaky" in bad["traceback"].iloc[0]
    assert bad[list(METRICS)].isna().all(axis=None)
    assert df.loc[df["status"] == "ok", "efficacy"].notna().all()
    code, stdout, _ = call(["results", out])
    assert code == 0 and "p00002-autonomous-r000  RuntimeError: boom in the model" in stdout

    monkeypatch.setattr(runner, "run_one", real)
    code, stdout, stderr = call(["sweep", "--rerun-failed", out, "--backend", "serial"])
    assert code == 0, stderr
    assert "ran 1 runs (1 ok, 0 failed, 7 already stored)" in stdout
    again = load_results(out)
    assert len(again) == 8 and again["id"].is_unique and (again["status"] == "ok").all()
    clean = sweep.run_sweep(spec, tmp_path / "clean", backend="serial")
    assert clean.ok == 8
    pd.testing.assert_frame_equal(values(again), values(load_results(tmp_path / "clean")))


class _KillsItsWorker:
    """Unpickling this in a worker process ends the process, like a crash or OOM kill."""

    def __reduce__(self):
        return (os._exit, (3,))


def test_a_run_that_kills_its_worker_process_fails_alone(tmp_path):
    plan = prepare(write_spec(tmp_path / "s.toml", replicates=1, steps=2))
    tasks = list(plan.tasks())[:3]
    bomb = dataclasses.replace(tasks[1], overrides={**tasks[1].overrides, "x": _KillsItsWorker()})
    with ProcessBackend(2) as pool:
        done = {t.id: r for t, r in (x for x in pool.run(iter([tasks[0], bomb, tasks[2]])) if x)}
    assert done[bomb.id].status == "failed"
    assert "its worker process died" in done[bomb.id].error
    assert done[tasks[0].id].status == done[tasks[2].id].status == "ok"


def test_a_sweep_where_every_run_fails_exits_nonzero(tmp_path, monkeypatch):
    spec = write_spec(tmp_path / "s.toml", replicates=1, steps=2)

    def broken(*args, **kwargs):
        raise ValueError("nothing works")

    monkeypatch.setattr(runner, "run_one", broken)
    code, _, stderr = call(["sweep", spec, "--out", tmp_path / "o", "--backend", "serial"])
    assert code == 1 and "8 of 8 runs failed" in stderr


def test_resume_checks(reference, tmp_path):
    spec, ref_out, _ = reference
    out = tmp_path / "copy"
    shutil.copytree(ref_out, out)
    code, _, err = call(["sweep", spec, "--out", out, "--backend", "serial"])
    assert code == 2 and "already holds the sweep" in err and "--resume" in err
    other = write_spec(tmp_path / "other.toml", seed=6)
    code, _, err = call(["sweep", other, "--out", out, "--backend", "serial", "--resume"])
    assert code == 2 and "different spec" in err
    code, _, err = call(["sweep", spec, "--out", out, "--resume", "--timeseries"])
    assert code == 2 and "without --timeseries" in err
    code, stdout, _ = call(["sweep", spec, "--out", out, "--backend", "serial", "--resume"])
    assert code == 0 and "ran 0 runs (0 ok, 0 failed, 48 already stored)" in stdout
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    code, _, err = call(["sweep", spec, "--out", tmp_path / "busy", "--backend", "serial"])
    assert code == 2 and "not empty and holds no sweep" in err
    code, _, err = call(["sweep", "--rerun-failed", tmp_path / "busy"])
    assert code == 2 and "no meta.json" in err
    code, _, err = call(["sweep", spec, "--rerun-failed", out])
    assert code == 2 and "reads the spec from DIR" in err


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
    got = load_results(out)
    pd.testing.assert_frame_equal(values(got), values(ref))
    spec = stored_spec(out)
    report = sweep.run_sweep(spec, out, backend="serial", resume=True)
    assert report.ran == 0 and report.complete
    assert not (out / SUMMARY).exists() and not (out / MANIFEST).exists()
    assert len(pd.read_parquet(out / "summary.parquet")) == 96
    pd.testing.assert_frame_equal(values(load_results(out)), values(ref))


# ----- results, plots, dry run, time series ---------------------------------------------
def test_results_cli(reference, tmp_path):
    _, out, ref = reference
    code, stdout, _ = call(["results", out])
    assert code == 0
    assert "stored 48 (48 ok, 0 failed); complete" in stdout
    assert "efficacy" in stdout and "constructive" in stdout
    code, stdout, _ = call(["results", out, "--json"])
    rows = json.loads(stdout)
    assert len(rows) == 48 and rows[0]["id"] == "p00000-constructive-r000"
    assert rows[0]["efficacy"] == pytest.approx(ref["efficacy"].iloc[0])
    csv = tmp_path / "r.csv"
    code, stdout, _ = call(["results", out, "--csv", csv])
    assert code == 0 and len(pd.read_csv(csv)) == 48
    code, stdout, _ = call(["results", out, "--window", "normal", "--json"])
    assert code == 0 and len(json.loads(stdout)) == 48
    code, _, err = call(["results", out, "--window", "emergency"])
    assert code == 2 and "no window 'emergency'" in err and "all, normal" in err
    code, _, err = call(["results", tmp_path])
    assert code == 2 and "no meta.json" in err
    long = load_results(out, window=None)
    assert len(long) == 96 and set(long["window"]) == {"all", "normal"}


def test_plot_sweep_dir(reference, tmp_path):
    _, ref_out, _ = reference
    out = tmp_path / "p"
    shutil.copytree(ref_out, out)
    code, stdout, _ = call(["plot", out])
    assert code == 0
    for name in ("sweep_params.png", "sweep_winners.png"):
        assert (out / name).stat().st_size > 10_000 and name in stdout


def test_timeseries_and_their_figure(tmp_path):
    spec = write_spec(tmp_path / "s.toml", replicates=1, steps=6)
    out = tmp_path / "o"
    code, _, err = call(["sweep", spec, "--out", out, "--backend", "serial", "--timeseries"])
    assert code == 0, err
    ts = load_timeseries(out)
    assert len(ts) == 8 * 6 and not ts.duplicated(["id", "day"]).any()
    res = load_results(out)
    last = ts[ts["day"] == 5].set_index("id")["needs_open"]
    assert last.to_dict() == res.set_index("id")["needs_open"].to_dict()
    code, _, _ = call(["plot", out])
    assert code == 0 and (out / "sweep_timeseries.png").is_file()


def test_dry_run_counts_and_estimates_without_writing(reference, tmp_path):
    spec, out, _ = reference
    code, stdout, _ = call(["sweep", spec, "--dry-run", "--workers", "2"])
    assert code == 0
    assert "4 points x 2 regimes x 6 replicates = 48 runs of 20 days" in stdout
    assert "estimate:" in stdout and "s per run" in stdout and "on 2 process workers" in stdout
    assert "estimate from 5 timed sample runs across the design" in stdout  # its basis
    code, stdout, _ = call(["sweep", spec, "--out", tmp_path / "new", "--dry-run"])
    assert code == 0 and not (tmp_path / "new").exists()
    code, stdout, _ = call(["sweep", spec, "--out", out, "--dry-run", "--backend", "serial"])
    assert code == 0 and "48 runs already stored" in stdout and "; 0 to do" in stdout


def test_estimate_samples_the_design_and_scales_with_runs_and_workers(tmp_path, monkeypatch):
    plan = prepare(write_spec(tmp_path / "s.toml", replicates=6, steps=20))
    samples = sample_tasks(plan)
    # the low corner, the high corner and between, the regimes in turn; with fewer points
    # than samples, another regime of the first point
    assert [t.point for t in samples] == [0, 1, 2, 3, 0]
    assert samples[0].overrides["situation.risk"] == 0.3
    high = samples[3].overrides
    assert (high["regime.information"], high["situation.risk"]) == (1.0, 0.9)
    assert [t.regime for t in samples] == ["constructive", "autonomous"] * 2 + ["autonomous"]
    # a run costs 0.5 s to build and 0.1 s a day on point 0, twice that on the others
    timed = []

    def fake(task, days):
        timed.append((task.point, days))
        return (0.5 + 0.1 * days) * (1 if task.point == 0 else 2)

    monkeypatch.setattr(dry_run, "_timed_run", fake)
    monkeypatch.setattr(dry_run, "_startup_seconds", lambda backend: 3.0)
    one = estimate(plan)
    assert {p for p, _ in timed} == {0, 1, 2, 3}  # every sample timed, not one point
    assert one["seconds_per_run"] == pytest.approx((2 * 2.5 + 3 * 5.0) / 5)
    assert one["serial_seconds"] == pytest.approx(48 * one["seconds_per_run"])
    assert one["parallel_seconds"] == one["serial_seconds"]
    assert "estimate from 5 timed sample runs" in one["method"] and "±" in one["method"]
    two = estimate(plan, workers=2)
    assert two["parallel_seconds"] == pytest.approx(3.0 + 24 * one["seconds_per_run"])
    half = estimate(plan, workers=2, pending=24)
    assert half["serial_seconds"] == pytest.approx(one["serial_seconds"] / 2)
    assert "3.0 s worker start-up" in two["method"]
    # a slow build and no measurable time per day (noise on a busy machine): no calibration
    monkeypatch.setattr(dry_run, "_timed_run", lambda task, days: 6.0)
    assert estimate(plan)["seconds_per_run"] == pytest.approx(6.0)


# ----- dask with a real scheduler -------------------------------------------------------
def test_dask_scheduler_and_worker_processes(reference, tmp_path):
    spec = write_spec(tmp_path / "s.toml", replicates=1)
    serial = sweep.run_sweep(spec, tmp_path / "serial", backend="serial")
    assert serial.ok == 8
    dask = str(Path(sys.executable).parent / "dask")
    scheduler, worker = [dask, "scheduler", "--host", "127.0.0.1"], [dask, "worker"]
    sched_file = tmp_path / "scheduler.json"
    procs = [
        subprocess.Popen(
            [*scheduler, "--scheduler-file", str(sched_file), "--port", "0", "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        t0 = time.monotonic()
        while not sched_file.is_file() or not sched_file.read_text().strip():
            assert time.monotonic() - t0 < 60, "the scheduler did not start"
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        procs.append(
            subprocess.Popen(
                [*worker, address, "--nthreads", "1", "--no-nanny", "--no-dashboard"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        out = tmp_path / "dask"
        code, _, err = call(["sweep", spec, "--out", out, "--scheduler", address])
        assert code == 0, err
        # the scheduler file works too (the SLURM route in the README)
        again = tmp_path / "dask_file"
        code, _, err = call(["sweep", spec, "--out", again, "--scheduler", sched_file])
        assert code == 0, err
        got = load_results(out)
        pd.testing.assert_frame_equal(values(got), values(load_results(tmp_path / "serial")))
        pd.testing.assert_frame_equal(values(load_results(again)), values(got))
        meta = json.loads((out / "meta.json").read_text())
        assert meta["sessions"][0]["backend"] == "dask"
        assert meta["sessions"][0]["scheduler"] == address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_unreachable_scheduler_is_an_input_error(tmp_path, monkeypatch):
    monkeypatch.setattr(dask_backend, "CONNECT_TIMEOUT", "1s")
    spec = write_spec(tmp_path / "s.toml", replicates=1)
    code, _, err = call(
        ["sweep", spec, "--out", tmp_path / "o", "--scheduler", "tcp://127.0.0.1:9"]
    )
    assert code == 2 and "cannot connect to the dask scheduler" in err
    assert not (tmp_path / "o").exists()


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


# ----- statistics of the which-regime-wins map ------------------------------------------
def test_winner_against_hand_computed_intervals():
    a = [0.50, 0.60, 0.55, 0.65]
    b = [0.60, 0.72, 0.64, 0.77]  # b - a = 0.10, 0.12, 0.09, 0.12: mean 0.1075
    w = stats.winner({"a": a, "b": b})
    assert w["best"] == "b" and w["clear"]
    d = w["diffs"]["a"]
    sd = np.std([0.10, 0.12, 0.09, 0.12], ddof=1)
    half = 3.182446 * sd / 2  # t(0.975, 3) * sd / sqrt(4)
    assert d["diff"] == pytest.approx(0.1075)
    assert d["lo"] == pytest.approx(0.1075 - half, rel=1e-6)
    assert d["hi"] == pytest.approx(0.1075 + half, rel=1e-6)
    # lower is better: a wins burnout
    w = stats.winner({"a": a, "b": b}, higher_is_better=False)
    assert w["best"] == "a" and w["clear"] and w["diffs"]["b"]["diff"] == pytest.approx(-0.1075)
    # differences of both signs: the best mean is not a clear winner
    w = stats.winner({"a": [1.0, 2.0, 3.0], "b": [1.5, 1.0, 3.6]})
    assert w["best"] == "b" and not w["clear"]
    assert stats.winner({"a": [np.nan], "b": [np.nan]})["best"] is None


class _Trap(float):
    """A parameter value (0.5) that ends the worker process reading it, like a run that
    crashes its machine or runs it out of memory. This process (where dask's scheduler runs
    with a LocalCluster, and may unpickle a task) reads it harmlessly."""

    def __new__(cls, value: float = 0.5):  # unpickling passes the value; then the pid
        obj = super().__new__(cls, value)
        obj.pid = os.getpid()
        return obj

    def __float__(self) -> float:
        if os.getpid() != self.pid:
            os._exit(3)
        return 0.5


def test_dask_batches_keep_a_failing_run_to_itself_and_redo_a_lost_worker_s_runs(tmp_path):
    import dask

    plan = prepare(write_spec(tmp_path / "s.toml", replicates=1, steps=2))
    t = list(plan.tasks())[:6]
    raises = dataclasses.replace(t[1], overrides={**t[1].overrides, "situation.households": -5})
    kills = dataclasses.replace(t[4], overrides={**t[4].overrides, "situation.risk": _Trap()})
    todo = [t[0], raises, t[2], t[3], kills, t[5]]
    # dask gives a task up after this many lost workers (default 3, each a restart: slow to
    # test); a worker holds only the task it runs, so no other task is lost with it
    cfg = {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with dask.config.set(cfg), DaskBackend(2, None, "t") as pool:
        pool._batch_size = lambda seconds, runs: 3  # batches of three from the first
        done = {t.id: r for t, r in (x for x in pool.run(iter(todo)) if x)}
    assert sorted(done) == sorted(x.id for x in todo)
    # a run that raises fails alone inside its batch
    assert done[raises.id].status == "failed" and "households" in done[raises.id].error
    # a run that kills its worker: the lost batch is redone run by run, only it fails
    assert done[kills.id].status == "failed" and "KilledWorker" in done[kills.id].error
    for x in (t[0], t[2], t[3], t[5]):
        assert done[x.id].status == "ok", done[x.id].error
        pd.testing.assert_frame_equal(done[x.id].summary, execute(x).summary)
