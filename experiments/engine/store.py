"""The results directory of a sweep: Parquet shards written atomically, merged at the end.

Layout of ``DIR``::

    meta.json            spec, its hash, design, seeding, versions, git commit, sessions
    spec.toml            a copy of the spec as given
    design.parquet       the design points (index ``point``, one column per parameter)
    manifest/NNNNNN.parquet   one row per finished run: id, parameters, seed, status, ...
    summary/NNNNNN.parquet    one row per successful run and window, every metric
    timeseries/NNNNNN.parquet one row per successful run and day (only with --timeseries)
    manifest.parquet, summary.parquet, timeseries.parquet   the shards merged (compaction)

Each batch of finished runs becomes one shard number, written to a hidden temporary file
and renamed into place (``os.replace``): summary and time series first, the manifest
last. The manifest is the truth: a run is stored when its manifest row is on disk, and a
summary or time-series shard without its manifest shard (a kill between the two renames)
is an orphan that :meth:`SweepStore.clean` deletes. A SIGKILL therefore loses at most the
runs not yet flushed, and nothing is ever stored twice.

Reading merges the sources in order (the merged file first, then the shards by number);
for a run id the last manifest row wins (a run re-done by ``--rerun-failed``), and rows
repeated by a compaction that was killed half-way are dropped.

Verification: every file is written with Parquet page checksums, and each manifest file
(shard or merged) records in its metadata (``saca.parts``) the row count and SHA-256 of
the summary and time-series files written with it. :meth:`SweepStore.verify` checks
them, reads every file through, and checks that each successful run has its summary rows
(one per window) and, when kept, its time-series rows (one per day). A damaged file is
moved to ``DIR/damaged/`` (never deleted); the runs it held are no longer stored, so
``--resume`` runs them again. Reading never lets a Parquet error through: a damaged file
is reported in one line (:class:`saca.experiments.engine.outdir.StorageError`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from saca.experiments.engine.outdir import StorageError, write_bytes
from saca.model import SacaInputError
from saca.model.metrics import METRICS

MANIFEST, SUMMARY, TIMESERIES = "manifest", "summary", "timeseries"
TABLES = (SUMMARY, TIMESERIES, MANIFEST)
"""Tables in the order a batch writes them (the manifest last)."""
SHARD = re.compile(r"^(\d{6,})\.parquet$")
PARTS = b"saca.parts"
"""Manifest metadata key: row count and SHA-256 of the summary / time-series file."""
DAMAGED = "damaged"
"""Subfolder that damaged files are moved to."""
MERGED = "merged"
"""The group name of the merged files (shards are grouped by number)."""
CHECKSUMS = "checksums.json"
"""Row count and SHA-256 of every manifest file (the manifest records the others')."""
KIND_TYPES = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(), "choice": pa.string()}
ID_FIELDS = [
    pa.field("id", pa.string()),
    pa.field("point", pa.int64()),
    pa.field("regime", pa.string()),
    pa.field("replicate", pa.int64()),
]


def schemas(param_kinds: Mapping[str, str]) -> dict[str, pa.Schema]:
    """The fixed Arrow schemas of the three tables of a sweep.

    Args:
        param_kinds: varied parameter key → kind (``float``, ``int``, ``bool``,
            ``choice``), in spec order; they become manifest columns.
    """
    metrics = [pa.field(m, pa.float64()) for m in METRICS]
    manifest = [
        *ID_FIELDS,
        pa.field("seed", pa.string()),
        *(pa.field(k, KIND_TYPES[kind]) for k, kind in param_kinds.items()),
        pa.field("status", pa.string()),
        pa.field("error", pa.string()),
        pa.field("traceback", pa.string()),
        pa.field("duration_s", pa.float64()),
        pa.field("started", pa.string()),
        pa.field("worker", pa.string()),
        pa.field("session", pa.int64()),
    ]
    return {
        MANIFEST: pa.schema(manifest),
        SUMMARY: pa.schema([*ID_FIELDS, pa.field("window", pa.string()), *metrics]),
        TIMESERIES: pa.schema(
            [*ID_FIELDS, pa.field("day", pa.int64()), pa.field("phase", pa.string()), *metrics]
        ),
    }


def atomic_write(table: pa.Table, path: Path) -> Path:
    """Write a Parquet file so that it appears complete or not at all.

    The table goes to a hidden temporary file in the same directory, is flushed to disk
    and renamed over ``path``.

    Args:
        table: the Arrow table.
        path: the final file.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, write_page_checksum=True)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex).

    Args:
        path: the file.
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _part(path: Path, rows: int) -> dict[str, Any]:
    return {"file": path.name, "rows": int(rows), "sha256": sha256(path)}


def _with_parts(table: pa.Table, parts: Mapping[str, Any]) -> pa.Table:
    meta = dict(table.schema.metadata or {})
    meta[PARTS] = json.dumps(parts).encode("utf-8")
    return table.replace_schema_metadata(meta)


def damaged(path: Path, exc: BaseException) -> StorageError:
    """A one-line error for a results file that cannot be read.

    Args:
        path: the file.
        exc: what reading it raised.
    """
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    root = path.parent.parent if SHARD.match(path.name) else path.parent
    return StorageError(
        f"{path} is damaged or unreadable ({first[:160]}); check the folder with: saca "
        f"results --verify {root}, and repair it by resuming the sweep (--resume)"
    )


def read_parquet(path: Path, schema: pa.Schema | None = None) -> pa.Table:
    """Read a whole Parquet file, checking page checksums; errors become one line.

    Args:
        path: the file.
        schema: read as this schema, or None for the file's own.

    Raises:
        StorageError: the file is missing, truncated or damaged.
    """
    try:
        return pq.read_table(path, schema=schema, page_checksum_verification=True)
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise damaged(path, exc) from None


def to_table(df: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """A DataFrame as an Arrow table of exactly this schema (columns in schema order).

    Args:
        df: the rows; missing columns are an error.
        schema: the target schema.
    """
    return pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False)


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]


@dataclass
class Verification:
    """What :meth:`SweepStore.verify` found.

    Args:
        files: ``(file, what is wrong)`` for each damaged or missing file.
        runs: ids of the stored runs whose records or data were damaged.
        moved: where damaged files were moved (``repair=True``).
    """

    files: list[tuple[Path, str]] = field(default_factory=list)
    runs: set[str] = field(default_factory=set)
    moved: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing is damaged."""
        return not self.files

    def line(self, root: Path) -> str:
        """The findings in one line, naming at most three files."""
        shown = "; ".join(
            f"{p.relative_to(root) if p.is_relative_to(root) else p}: {why}"
            for p, why in self.files[:3]
        )
        more = f"; and {len(self.files) - 3} more" if len(self.files) > 3 else ""
        n = len(self.runs)
        runs = f"{n} run{'s' if n != 1 else ''} damaged" if n else "the runs of damaged files"
        return f"{runs} ({shown}{more})"


class SweepStore:
    """Shards of one sweep directory.

    Args:
        root: the sweep directory.
        param_kinds: varied parameter key → kind, in spec order.
    """

    def __init__(self, root: str | Path, param_kinds: Mapping[str, str]) -> None:
        self.root = Path(root)
        self.schemas = schemas(param_kinds)
        self._next: int | None = None

    # ----- paths ------------------------------------------------------------------------
    def merged(self, table: str) -> Path:
        """Path of the merged file of a table, e.g. ``DIR/summary.parquet``.

        Args:
            table: ``manifest``, ``summary`` or ``timeseries``.
        """
        return self.root / f"{table}.parquet"

    def shards(self, table: str) -> list[Path]:
        """The shard files of a table, by number.

        Args:
            table: ``manifest``, ``summary`` or ``timeseries``.
        """
        d = self.root / table
        if not d.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in d.iterdir() if (m := SHARD.match(p.name))]
        return [p for _, p in sorted(found)]

    def sources(self, table: str) -> list[Path]:
        """Every file holding rows of a table, oldest first: merged file, then shards.

        Args:
            table: ``manifest``, ``summary`` or ``timeseries``.
        """
        merged = self.merged(table)
        return ([merged] if merged.is_file() else []) + self.shards(table)

    # ----- writing ----------------------------------------------------------------------
    def clean(self) -> list[Path]:
        """Delete what a killed writer left: temporary files and orphan shards.

        Returns:
            The deleted paths.
        """
        gone: list[Path] = []
        for d in (self.root, *(self.root / t for t in TABLES)):
            if d.is_dir():
                for p in d.glob(".*.tmp"):
                    p.unlink(missing_ok=True)
                    gone.append(p)
        stored = {p.name for p in self.shards(MANIFEST)}
        for table in (SUMMARY, TIMESERIES):
            for p in self.shards(table):
                if p.name not in stored:
                    p.unlink(missing_ok=True)
                    gone.append(p)
        return gone

    def _number(self) -> int:
        if self._next is None:
            numbers = [
                int(SHARD.match(p.name).group(1))  # type: ignore[union-attr]
                for t in TABLES
                for p in self.shards(t)
            ]
            self._next = max(numbers, default=0) + 1
        n = self._next
        self._next += 1
        return n

    def write_batch(
        self,
        manifest: Iterable[Mapping[str, Any]],
        summaries: Iterable[pd.DataFrame] = (),
        series: Iterable[pd.DataFrame] = (),
    ) -> str | None:
        """Store a batch of finished runs as one shard number (manifest last).

        Args:
            manifest: one row per run (failed runs included).
            summaries: the summary rows of the successful runs.
            series: their time-series rows (when the sweep keeps them).

        Returns:
            The shard's file name, or None for an empty batch.
        """
        rows = list(manifest)
        if not rows:
            return None
        name = f"{self._number():06d}.parquet"
        parts: dict[str, Any] = {}
        for table, frames in ((TIMESERIES, list(series)), (SUMMARY, list(summaries))):
            if frames:
                (self.root / table).mkdir(exist_ok=True)
                df = pd.concat(frames, ignore_index=True)
                path = atomic_write(to_table(df, self.schemas[table]), self.root / table / name)
                parts[table] = _part(path, len(df))
        (self.root / MANIFEST).mkdir(exist_ok=True)
        table = to_table(pd.DataFrame(rows), self.schemas[MANIFEST])
        path = atomic_write(_with_parts(table, parts), self.root / MANIFEST / name)
        self._record(path, len(rows))
        return name

    def _sums(self) -> dict[str, Any]:
        try:
            sums = json.loads((self.root / CHECKSUMS).read_text(encoding="utf-8"))
        except (OSError, ValueError):  # none yet, or damaged: files are then read through
            return {}
        return sums if isinstance(sums, dict) else {}

    def _record(self, path: Path, rows: int | None, keep: bool = True) -> None:
        """Record (or with ``keep=False`` forget) a manifest file's checksum."""
        sums = self._sums()
        key = path.relative_to(self.root).as_posix()
        if keep and rows is not None:
            sums[key] = {"rows": int(rows), "sha256": sha256(path)}
        else:
            sums.pop(key, None)
        data = json.dumps(sums, indent=1, sort_keys=True) + "\n"
        write_bytes(data.encode("utf-8"), self.root / CHECKSUMS)

    # ----- reading ----------------------------------------------------------------------
    def manifest(self) -> pd.DataFrame:
        """The latest manifest row of every stored run (any order)."""
        parts = [read_parquet(p, self.schemas[MANIFEST]) for p in self.sources(MANIFEST)]
        if not parts:
            return self.schemas[MANIFEST].empty_table().to_pandas()
        df = pa.concat_tables(parts).to_pandas()
        return df.drop_duplicates("id", keep="last").reset_index(drop=True)

    def batches(
        self, table: str, ids: set[str] | None = None, filters: Any = None
    ) -> Iterator[pa.Table]:
        """Rows of a summary or time-series table, each stored run once, piece by piece.

        Args:
            table: ``summary`` or ``timeseries``.
            ids: keep only these run ids (e.g. the successful ones); None keeps all.
            filters: a pyarrow filter expression applied while reading, or None.
        """
        seen: set[str] = set()
        wanted = None if ids is None else pa.array(sorted(ids), pa.string())
        for path in self.sources(table):
            here: set[str] = set()
            before = pa.array(sorted(seen), pa.string())
            try:
                pf = pq.ParquetFile(path, page_checksum_verification=True)
                groups = range(pf.num_row_groups)
            except (OSError, pa.ArrowException, ValueError) as exc:
                raise damaged(path, exc) from None
            for group in groups:
                try:
                    t = pf.read_row_group(group)
                except (OSError, pa.ArrowException, ValueError) as exc:
                    raise damaged(path, exc) from None
                if filters is not None:
                    t = t.filter(filters)
                col = t.column("id")
                mask = pc.invert(pc.is_in(col, value_set=before))
                if wanted is not None:
                    mask = pc.and_(mask, pc.is_in(col, value_set=wanted))
                t = t.filter(mask)
                if t.num_rows:
                    here.update(t.column("id").unique().to_pylist())
                    yield t.cast(self.schemas[table])
            seen |= here

    def read(self, table: str, ids: set[str] | None = None, filters: Any = None) -> pd.DataFrame:
        """A whole summary or time-series table as one DataFrame (see :meth:`batches`).

        Args:
            table: ``summary`` or ``timeseries``.
            ids: keep only these run ids; None keeps all.
            filters: a pyarrow filter expression, or None.
        """
        parts = list(self.batches(table, ids, filters))
        if not parts:
            return self.schemas[table].empty_table().to_pandas()
        return pa.concat_tables(parts).to_pandas()

    # ----- verification -----------------------------------------------------------------
    def groups(self) -> dict[str, dict[str, Path]]:
        """The files written together: ``merged`` and each shard number → table → file."""
        out: dict[str, dict[str, Path]] = {}
        for table in TABLES:
            if self.merged(table).is_file():
                out.setdefault(MERGED, {})[table] = self.merged(table)
            for p in self.shards(table):
                out.setdefault(p.name, {})[table] = p
        return out

    def _key(self, path: Path) -> str:
        """The group of a file: ``merged`` or its shard's name."""
        return MERGED if path.parent == self.root else path.name

    def _check_group(self, files: Mapping[str, Path], deep: bool) -> tuple[list, set[str]]:
        """Problems ``[(file, why)]`` of one group and the run ids its manifest holds."""
        problems: list[tuple[Path, str]] = []
        ids: set[str] = set()
        man = files.get(MANIFEST)
        if man is None:  # an orphan (clean() removes it) or a compaction killed early
            return problems, ids
        merged = man == self.merged(MANIFEST)
        # a compaction killed between its renames leaves the shards: not damage
        interrupted = merged and bool(self.shards(MANIFEST))
        try:
            table = pq.read_table(man, page_checksum_verification=True)
        except (OSError, pa.ArrowException, ValueError) as exc:
            with contextlib.suppress(OSError, pa.ArrowException, ValueError):
                ids = set(pq.read_table(man, columns=["id"]).column("id").to_pylist())
            return [(man, f"unreadable ({_first(exc)})")], ids
        ids = set(table.column("id").to_pylist()) if "id" in table.column_names else set()
        want = self._sums().get(man.relative_to(self.root).as_posix())
        if want and not interrupted and sha256(man) != want.get("sha256"):
            return [(man, "checksum mismatch")], ids
        try:
            raw = (table.schema.metadata or {}).get(PARTS)
            parts = json.loads(raw) if raw else {}
        except ValueError as exc:
            return [(man, f"unreadable metadata ({_first(exc)})")], ids
        for name in (SUMMARY, TIMESERIES):
            want = parts.get(name)
            path = files.get(name)
            if path is None:
                if want and want.get("rows"):
                    gone = self.merged(name) if merged else self.root / name / man.name
                    problems.append((gone, "missing"))
                continue
            if not deep and name == TIMESERIES:
                continue
            if want and not interrupted and sha256(path) != want.get("sha256"):
                problems.append((path, "checksum mismatch"))
                continue
            try:
                rows = pq.read_table(path, page_checksum_verification=True).num_rows
            except (OSError, pa.ArrowException, ValueError) as exc:
                problems.append((path, f"unreadable ({_first(exc)})"))
                continue
            if want and not interrupted and rows != want.get("rows"):
                problems.append((path, f"{rows} rows, {want.get('rows')} recorded"))
        return problems, ids

    def verify(
        self,
        windows: int | None = None,
        days: int | None = None,
        deep: bool = True,
        repair: bool = False,
    ) -> Verification:
        """Check every file and every stored run; optionally move damaged files aside.

        Args:
            windows: summary rows each successful run must have (None: at least one).
            days: time-series rows each successful run must have (None: not checked).
            deep: also checksum and read the time-series files.
            repair: move every file of a damaged group (the manifest with its summary and
                time series) to ``DIR/damaged/``, so that its runs count as not stored and
                ``--resume`` runs them again.

        Returns:
            A :class:`Verification`.
        """
        found = Verification()
        for _ in range(4):  # moving a group aside can uncover the next problem
            groups = self.groups()
            problems: list[tuple[Path, str]] = []
            lost: set[str] = set()
            bad_groups: set[str] = set()
            for key, files in groups.items():
                bad, ids = self._check_group(files, deep)
                if bad:
                    problems += bad
                    lost |= ids
                    bad_groups.add(key)
            if not problems:
                problems, lost, bad_groups = self._check_runs(windows, days if deep else None)
            if not problems:
                break
            found.files += problems
            found.runs |= lost
            if not repair:
                break
            for key in sorted(bad_groups):
                for path in groups.get(key, {}).values():
                    found.moved.append(self._quarantine(path))
        return found

    def _check_runs(self, windows: int | None, days: int | None) -> tuple[list, set[str], set[str]]:
        """Successful runs whose summary (or time-series) rows are missing or incomplete.

        Returns:
            The problems, the runs, and the groups to move aside to repair them.
        """
        latest: dict[str, tuple[str, str]] = {}  # run id -> (status, group of its record)
        for path in self.sources(MANIFEST):
            t = read_parquet(path)
            for rid, status in zip(
                t.column("id").to_pylist(), t.column("status").to_pylist(), strict=True
            ):
                latest[rid] = (status, self._key(path))
        ok = {rid for rid, (status, _) in latest.items() if status == "ok"}
        problems: list[tuple[Path, str]] = []
        lost: set[str] = set()
        groups: set[str] = set()
        for table, want in ((SUMMARY, windows), (TIMESERIES, days)):
            if table == TIMESERIES and want is None:
                continue
            counts: dict[str, tuple[int, Path]] = {}
            for path in self.sources(table):
                here: dict[str, int] = {}
                for rid in read_parquet(path).column("id").to_pylist():
                    here[rid] = here.get(rid, 0) + 1
                for rid, n in here.items():
                    counts.setdefault(rid, (n, path))  # the first source holding it is read
            short = []
            for rid in sorted(ok):
                n, path = counts.get(rid, (0, self.root))
                if n == 0 or (want is not None and n != want):
                    short.append(rid)
                    groups.add(latest[rid][1])
                    if n:  # partial rows would hide a re-run's rows: move them aside too
                        groups.add(self._key(path))
            if short:
                lost |= set(short)
                what = f"{len(short)} ok runs lack {table} rows (e.g. {short[0]})"
                problems.append((self.root / table, what))
        return problems, lost, groups

    def _quarantine(self, path: Path) -> Path:
        """Move a damaged file into ``DIR/damaged/`` (nothing is deleted)."""
        if not path.is_file():
            return path
        dest_dir = self.root / DAMAGED
        dest_dir.mkdir(exist_ok=True)
        stem = path.name if path.parent == self.root else f"{path.parent.name}-{path.name}"
        dest = dest_dir / stem
        n = 1
        while dest.exists():
            n += 1
            dest = dest_dir / f"{n}-{stem}"
        os.replace(path, dest)
        if path.parent.name == MANIFEST or path == self.merged(MANIFEST):
            self._record(path, None, keep=False)
        return dest

    # ----- compaction -------------------------------------------------------------------
    def compact(self) -> None:
        """Merge every source of each table into its merged file and delete the shards.

        Safe to kill at any point: each merged file is replaced atomically, the manifest
        last, and shards are deleted only after all three are written; rows present both
        in a merged file and a shard are read once.
        """
        shards = {t: self.shards(t) for t in TABLES}
        if not shards[MANIFEST]:
            return
        manifest = self.manifest()
        ok = set(manifest.loc[manifest["status"] == "ok", "id"])
        parts: dict[str, Any] = {}
        for table in (SUMMARY, TIMESERIES):
            if not self.sources(table):
                continue
            tmp = self.root / f".{table}.parquet.tmp"
            rows = 0
            with pq.ParquetWriter(tmp, self.schemas[table], write_page_checksum=True) as writer:
                for piece in self.batches(table, ok):
                    writer.write_table(piece)
                    rows += piece.num_rows
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.merged(table))
            parts[table] = _part(self.merged(table), rows)
        table = _with_parts(to_table(manifest, self.schemas[MANIFEST]), parts)
        atomic_write(table, self.merged(MANIFEST))
        self._record(self.merged(MANIFEST), len(manifest))
        for p in shards[MANIFEST]:
            self._record(p, None, keep=False)
        for table in TABLES:
            for p in shards[table]:
                p.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                (self.root / table).rmdir()


def check_readable(root: Path) -> None:
    """Raise SacaInputError unless ``root`` looks like a sweep directory.

    Args:
        root: the directory.
    """
    if not root.is_dir():
        raise SacaInputError(f"{root} is not a directory; give one written by saca sweep --out")
    if not (root / "meta.json").is_file():
        raise SacaInputError(f"{root} has no meta.json; give a directory written by saca sweep")
