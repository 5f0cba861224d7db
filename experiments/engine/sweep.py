"""Running a sweep: a session that streams every finished run to its results folder, and
resumes, reruns the failed runs of, or refuses a folder that holds another sweep.

Storage (:mod:`saca.experiments.engine.store`): finished runs are streamed to Parquet
shards within about ``FLUSH_SECONDS``; a killed sweep continues with ``resume=True`` and
recomputes nothing stored; a failing run is recorded with its traceback and the others go
on. The spec is read by :mod:`~saca.experiments.engine.spec`, planned by
:mod:`~saca.experiments.engine.plan`, run on a backend of
:mod:`~saca.experiments.engine.backends` and read back by
:mod:`~saca.experiments.engine.results`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from saca.experiments.engine import design as dsg
from saca.experiments.engine import io, outdir, sizes
from saca.experiments.engine.backends import Backend, check_backend, check_timeout, make_backend
from saca.experiments.engine.backends.base import RunOutcome
from saca.experiments.engine.estimate import pending_runs
from saca.experiments.engine.plan import RUN_ID, RunTask, SweepPlan, prepare
from saca.experiments.engine.progress import Progress
from saca.experiments.engine.progress import say as say_line
from saca.experiments.engine.results import meta_file, stored_spec
from saca.experiments.engine.spec import SweepSpec, same_spec
from saca.experiments.engine.store import SweepStore
from saca.model import SacaInputError

FLUSH_SECONDS = 2.0
"""A finished run reaches the disk within about this many seconds."""
MAX_BATCH = 500


# ----- the sweep ------------------------------------------------------------------------
@dataclass
class SweepReport:
    """How a sweep session went.

    Args:
        out: the results directory.
        total: runs in the design.
        stored_before: runs already stored when the session started (skipped).
        ran: runs done in this session.
        ok: of those, successful.
        failed: of those, failed (recorded with their traceback).
        seconds: wall time of the session.
        complete: every run of the design is stored (ok or failed).
        failed_total: runs whose latest record is a failure, over the whole sweep.
        damaged: stored runs found damaged when the session started (run again).
    """

    out: Path
    total: int
    stored_before: int
    ran: int
    ok: int
    failed: int
    seconds: float
    complete: bool
    failed_total: int
    damaged: int = 0


def _write_meta(out: Path, meta: Mapping[str, Any]) -> None:
    outdir.write_bytes((io.dumps(meta) + "\n").encode("utf-8"), out / "meta.json")


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (e.g. a SLURM time limit) like Ctrl-C, so stored runs are flushed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _meta(plan: SweepPlan, timeseries: bool) -> dict[str, Any]:
    spec, d = plan.spec, plan.design
    return {
        "kind": "sweep",
        "name": spec.name,
        "description": spec.data.get("sweep", {}).get("description", ""),
        "spec": spec.data,
        "spec_file": spec.label,
        "spec_dir": spec.base_dir,
        "spec_hash": spec.hash,
        "inputs_hash": plan.inputs_hash(),
        "scenario": plan.scenario.name,
        "regimes": list(plan.regimes),
        "replicates": spec.replicates,
        "seed": spec.seed,
        "steps": plan.steps,
        "design": {
            "kind": d.kind,
            "factors": [f.describe() for f in d.factors],
            "points": len(d),
            "samples": spec.samples,
            "second_order": spec.second_order,
            **({"levels": d.levels} if d.kind == "morris" else {}),
            "salib_problem": d.problem,
        },
        "runs": plan.n_runs,
        "run_id": RUN_ID,
        "run_order": "replicate, then design point, then regime",
        "common_random_numbers": spec.common_random_numbers,
        "seeding": (
            "run (point, regime, replicate): numpy.random.SeedSequence(seed, spawn_key="
            + (
                "(point, replicate)); the regimes of a point and replicate share it"
                if spec.common_random_numbers
                else "(point, replicate, regime_index))"
            )
            + f"; design sampler: SeedSequence(seed, spawn_key=({dsg.DESIGN_KEY},))"
        ),
        "fixed": spec.fixed,
        "command_line": (sizes.current() or sizes.Sizes()).record(),
        "parameters": {
            label: io.flat_params(plan.scenario, r) for label, r in plan.regimes.items()
        },
        "timeseries": timeseries,
        **io.provenance(),
        "sessions": [],
        "complete": False,
    }


class _Buffer:
    """Finished runs not yet on disk."""

    def __init__(self, store: SweepStore, session: int, flush_seconds: float) -> None:
        self.store = store
        self.session = session
        self.flush_seconds = flush_seconds
        self.rows: list[dict[str, Any]] = []
        self.summaries: list[pd.DataFrame] = []
        self.series: list[pd.DataFrame] = []
        self.since: float | None = None

    def add(self, task: RunTask, res: RunOutcome) -> None:
        self.rows.append(
            {
                "id": task.id,
                "point": task.point,
                "regime": task.regime,
                "replicate": task.replicate,
                "seed": task.seed_text,
                **task.overrides,
                "status": res.status,
                "error": res.error,
                "traceback": res.traceback,
                "duration_s": res.duration_s,
                "started": res.started,
                "worker": res.worker,
                "session": self.session,
            }
        )
        if res.summary is not None:
            self.summaries.append(res.summary)
        if res.timeseries is not None:
            self.series.append(res.timeseries)
        if self.since is None:
            self.since = time.monotonic()

    def due(self, gap: float) -> bool:
        """Flush now if waiting for the next run would keep these past the deadline."""
        if not self.rows:
            return False
        age = time.monotonic() - (self.since or 0.0)
        return len(self.rows) >= MAX_BATCH or age + gap >= self.flush_seconds

    def flush(self) -> None:
        if self.rows:
            self.store.write_batch(self.rows, self.summaries, self.series)
        self.rows, self.summaries, self.series, self.since = [], [], [], None


IDENTITY = ("spec.toml", "design.parquet")
"""The files a sweep writes before its ``meta.json``: alone they are a half-born folder."""


def _state(out: Path) -> tuple[dict[str, Any] | None, bool]:
    """The sweep's meta.json if ``out`` holds a sweep, and whether ``out`` has other files.

    A folder holding only a sweep's identity files without ``meta.json`` (a start killed
    or out of space before it was complete) holds no run: it counts as empty, and the
    next start or ``--resume`` writes it again.
    """
    if not out.is_dir():
        return None, False
    meta = meta_file(out)
    if meta is None:
        names = {p.name for p in out.iterdir() if not p.name.startswith(".")}
        return None, bool(names - set(IDENTITY))
    return meta, outdir.holds_files(out)


def unborn(root: str | Path, *sweeps: str) -> bool:
    """Whether ``root`` holds nothing but sweep folders that never got their meta.json.

    Such a folder (a start killed in its first moments) holds no run and counts as empty.

    Args:
        root: an analysis's ``--out``.
        sweeps: the names of its sweep folders (e.g. ``runs``).
    """
    root = Path(root)
    names = {p.name for p in root.iterdir() if not p.name.startswith(".")}
    if not names <= set(sweeps):
        return False
    return all(_state(root / n) == (None, False) for n in names)


def _check_state(
    out: Path,
    plan: SweepPlan,
    resume: bool,
    rerun_failed: bool,
    timeseries: bool | None,
    force: bool,
    log: Callable[[str], None],
) -> tuple[dict[str, Any] | None, bool]:
    """Read and check the folder's state (under the lock): the meta to continue, or None."""
    meta, other = _state(out)
    if force and (other or meta is not None) and not (resume and _same(meta, plan)):
        dest = outdir.move_aside(out)
        log(f"saca sweep: moved the old contents of {out} to {dest}")
        meta, other = None, False
    if meta is None:
        if other:
            raise SacaInputError(
                f"--out {out} is not empty and holds no sweep; give a new or empty directory, "
                "or add --force to move its contents aside"
            )
        if rerun_failed:
            raise SacaInputError(f"{out} holds no sweep to rerun (no meta.json)")
        return None, bool(timeseries)
    if meta.get("kind") != "sweep":
        raise SacaInputError(
            f"--out {out} holds a saca {meta.get('kind', '?')}, not a sweep; give another "
            "--out, or add --force to move its contents aside"
        )
    if not resume and not _same(meta, plan):
        raise SacaInputError(
            f"--out {out} already holds the sweep {meta.get('name')!r} of another spec (hash "
            f"{str(meta.get('spec_hash'))[:12]}); give another --out, or add --force to move "
            "it aside"
        )
    if not resume:
        raise SacaInputError(
            f"--out {out} already holds the sweep {meta.get('name')!r}; add --resume to "
            "continue it, or give another directory"
        )
    if not _same(meta, plan):
        raise SacaInputError(
            f"{out} was written by a different spec (hash {str(meta.get('spec_hash'))[:12]}, "
            f"this one {plan.spec.hash[:12]}); resume it with the same spec, or give "
            "another --out"
        )
    if meta.get("inputs_hash") != plan.inputs_hash():
        raise SacaInputError(
            f"{out}: the scenario or regimes of the spec now resolve to other parameter "
            "values than when the sweep started (a preset or file changed); restore "
            "them, or start a new sweep"
        )
    stored_ts = bool(meta.get("timeseries"))
    if timeseries and not stored_ts:
        raise SacaInputError(
            f"{out} was started without --timeseries; resume it without, or start a new sweep"
        )
    return meta, stored_ts


def _same(meta: Mapping[str, Any] | None, plan: SweepPlan) -> bool:
    return bool(meta) and meta.get("kind") == "sweep" and same_spec(meta, plan.spec)


def run_sweep(
    spec: SweepSpec | SweepPlan | str | Path,
    out: str | Path,
    *,
    backend: str | None = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    rerun_failed: bool = False,
    timeseries: bool | None = None,
    progress: bool | None = None,
    flush_seconds: float = FLUSH_SECONDS,
    run_timeout: float | None = None,
    force: bool = False,
    log: Callable[[str], None] | None = None,
) -> SweepReport:
    """Run a sweep, streaming every finished run to ``out``.

    The folder is locked before its state is read (:func:`saca.experiments.engine.outdir.locked`),
    so two writers never mix: the second is refused in one line naming the first. A new sweep's
    identity (``spec.toml``, ``design.parquet``) is written first and its ``meta.json`` last, so a
    kill leaves either no sweep (the next start writes it again) or a resumable one. Resuming
    verifies every stored file and run first and runs the damaged ones again.

    Args:
        spec: a :class:`SweepSpec`, a prepared :class:`Plan` or the path of a spec file.
        out: the results directory (created; must be new or empty unless resuming).
        backend: ``serial``, ``process`` or ``dask`` (see :func:`check_backend`).
        workers: worker processes for ``process`` and a dask LocalCluster.
        scheduler: address of a running dask scheduler (``tcp://host:8786``), or the
            JSON file its ``--scheduler-file`` option wrote.
        resume: continue the sweep stored in ``out`` (same spec): runs already stored are
            skipped; a new or empty ``out`` starts afresh.
        rerun_failed: like ``resume``, and also redo the runs recorded as failed.
        timeseries: store the daily time series of every run; None keeps what the stored
            sweep does (default False for a new one).
        progress: show progress on stderr: True or None (a tqdm bar on a terminal, a
            plain line every few seconds in a log, see :mod:`saca.experiments.engine.progress`), or
            False for none.
        flush_seconds: a finished run reaches the disk within about this many seconds.
        run_timeout: seconds a run may take; past it the run is stopped and recorded as
            failed (``TimeoutError``) and the sweep goes on. None (default): no limit.
            The serial backend then runs each run in one child process.
        force: move whatever ``out`` holds (other files, another sweep) aside to
            ``out.old-<time>`` instead of refusing.
        log: where one-line notices go (damaged runs, moved folders); default stderr.

    Returns:
        A :class:`SweepReport`. Failed runs do not raise; Ctrl-C or SIGTERM raises
        KeyboardInterrupt after storing every finished run.

    Raises:
        SacaInputError: a bad spec, options or directory, before any run.
        StorageError: the disk is full or a file cannot be written (one line).
    """
    plan = spec if isinstance(spec, SweepPlan) else prepare(spec)
    backend, workers = check_backend(backend, workers, scheduler)
    run_timeout = check_timeout(run_timeout)
    out = outdir.prepare_out(out)
    resume = resume or rerun_failed
    say = log or say_line
    identity = {
        "command": "saca sweep",
        "name": plan.spec.name,
        "spec": plan.spec.label,
        "spec_hash": plan.spec.hash,
    }
    with outdir.locked(out, identity):
        # the state is read under the lock: nobody can change it until this sweep ends
        meta, ts = _check_state(out, plan, resume, rerun_failed, timeseries, force, say)
        t_start = time.perf_counter()
        prefix = f"saca-{plan.spec.hash[:10]}-{time.time_ns() % 10**9}"
        pool = make_backend(backend, workers, scheduler, run_timeout, prefix)
        try:
            with pool, _sigterm_as_interrupt():  # an unreachable scheduler: input error
                return _session(
                    plan,
                    out,
                    meta,
                    pool,
                    (backend, workers, scheduler),
                    rerun_failed,
                    ts,
                    progress,
                    flush_seconds,
                    t_start,
                    say,
                )
        except OSError as exc:
            raise outdir.storage_error(exc, out, _again(plan, out)) from None


def _again(plan: SweepPlan, out: Path) -> str:
    """What to do after a storage error: free space, then resume."""
    spec = plan.spec.label if plan.spec.label != "spec" else "SPEC.toml"
    return f"free space or fix the disk, then resume: saca sweep {spec} --out {out} --resume"


def _birth(plan: SweepPlan, out: Path) -> None:
    """Write a new sweep's identity files, each whole or not at all (meta.json comes last)."""
    outdir.write_bytes(plan.spec.text.encode("utf-8"), out / "spec.toml")
    tmp = out / ".design.parquet.tmp"
    io.write_parquet(plan.design.points.reset_index(), tmp)
    os.replace(tmp, out / "design.parquet")


def _session(
    plan: SweepPlan,
    out: Path,
    meta: dict[str, Any] | None,
    pool: Backend,
    how: tuple[str, int, str | None],
    rerun_failed: bool,
    timeseries: bool,
    progress: bool | None,
    flush_seconds: float,
    t_start: float,
    say: Callable[[str], None] = say_line,
) -> SweepReport:
    backend, workers, scheduler = how
    store = SweepStore(out, plan.param_kinds)
    damaged = 0
    if meta is None:
        meta = _meta(plan, timeseries)
        _birth(plan, out)
        mode = "start"
    else:
        store.clean()
        mode = "rerun-failed" if rerun_failed else "resume"
        found = store.verify(
            windows=len(plan.windows), days=plan.steps if timeseries else None, repair=True
        )
        if not found.ok:
            damaged = len(found.runs)
            what, _, detail = found.line(out).partition(" (")
            say(
                f"saca sweep: {what}, re-running ({detail.removesuffix(')')}; the damaged "
                f"files are kept in {out / 'damaged'})"
            )
        first = meta.get("git_commit")
        now = io.git_commit()
        if first != now:
            print(
                f"saca sweep: warning: the code is at commit {str(now)[:12]}, the sweep "
                f"started at {str(first)[:12]}; its runs may come from different versions",
                file=sys.stderr,
            )
    manifest = store.manifest()
    stored = dict(zip(manifest["id"], manifest["status"], strict=True))
    if rerun_failed:
        stored = {k: v for k, v in stored.items() if v != "failed"}
    pending = [rid for rid in plan.ids() if rid not in stored]
    session = len(meta["sessions"])
    record: dict[str, Any] = {
        "session": session,
        "mode": mode,
        "started": io.provenance()["timestamp"],
        "backend": backend,
        "workers": None if scheduler else workers,
        "scheduler": scheduler,
        "host": socket.gethostname(),
        "git_commit": io.git_commit(),
        "saca_version": io.versions()["saca"],
        "pending": len(pending),
        **({"damaged": damaged} if damaged else {}),
    }
    meta["sessions"].append(record)
    if pending:
        meta["complete"] = False  # until every run is stored again (a kill keeps it False)
    _write_meta(out, meta)
    buffer = _Buffer(store, session, flush_seconds)
    ok = failed = 0
    busy = 0.0
    total, before = plan.n_runs, plan.n_runs - len(pending)
    interrupted = False
    if progress is not False:  # a log says at once what this session is about to do
        on = f"the dask scheduler {scheduler}" if scheduler else f"{workers} {backend} worker"
        plural = "s" if not scheduler and workers != 1 else ""
        say(
            f"sweep {plan.spec.name}: {len(pending)} of {total} runs to do "
            f"({before} stored) on {on}{plural}; writing {out}"
        )
    bar = Progress(total, f"sweep {plan.spec.name}", initial=before, show=progress)
    try:
        for item in pool.run(plan.tasks(pending, timeseries)):
            if item is not None:
                task, res = item
                buffer.add(task, res)
                if res.status == "ok":
                    ok += 1
                else:
                    failed += 1
                if res.duration_s == res.duration_s:
                    busy += res.duration_s
                bar.update(1, failed=int(res.status != "ok"))
            else:
                bar.update(0)
            done = ok + failed
            gap = busy / done / max(1, pool.concurrency) if done else 0.0
            if buffer.due(gap):
                buffer.flush()
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        bar.close()
        buffer.flush()
        record.update(finished=io.provenance()["timestamp"], ran=ok + failed, ok=ok, failed=failed)
        record["interrupted"] = interrupted
        manifest = store.manifest()
        complete = not interrupted and set(plan.ids()) <= set(manifest["id"])
        if complete:
            store.compact()
        meta["complete"] = complete
        _write_meta(out, meta)
    return SweepReport(
        out=out,
        total=total,
        stored_before=before,
        ran=ok + failed,
        ok=ok,
        failed=failed,
        seconds=time.perf_counter() - t_start,
        complete=complete,
        failed_total=int((manifest["status"] == "failed").sum()),
        damaged=damaged,
    )


def interrupted(
    command: str, again: str, out: str | Path | None = None, plan: SweepPlan | None = None
) -> str:
    """The line a command prints when Ctrl-C or SIGTERM stops its sweep: what is stored
    and the command that continues it.

    Args:
        command: the command's name, e.g. ``sweep``.
        again: the command line that continues the work.
        out: the sweep folder (runs are counted there with ``plan``), or None.
        plan: the sweep's plan, to count the stored runs; None says only where they are.
    """
    if out is not None and plan is not None:
        stored = plan.n_runs - pending_runs(plan, out)
        where = f"{stored} of {plan.n_runs} runs are stored in {out}; "
    elif out is not None:
        where = f"the finished runs are stored in {out}; "
    else:
        where = ""
    return f"saca {command}: interrupted; {where}continue with: {again}"


def rerun_failed(out: str | Path, **kwargs: Any) -> SweepReport:
    """Redo the runs of a stored sweep recorded as failed (and any not yet run).

    Args:
        out: the sweep directory.
        **kwargs: backend options as for :func:`run_sweep` (``backend``, ``workers``,
            ``scheduler``, ``progress``).
    """
    spec = stored_spec(out)
    return run_sweep(spec, out, rerun_failed=True, **kwargs)
