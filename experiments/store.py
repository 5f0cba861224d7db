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
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from model import SacaInputError
from model.metrics import METRICS

MANIFEST, SUMMARY, TIMESERIES = "manifest", "summary", "timeseries"
TABLES = (SUMMARY, TIMESERIES, MANIFEST)
"""Tables in the order a batch writes them (the manifest last)."""
SHARD = re.compile(r"^(\d{6,})\.parquet$")
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
    pq.write_table(table, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def to_table(df: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """A DataFrame as an Arrow table of exactly this schema (columns in schema order).

    Args:
        df: the rows; missing columns are an error.
        schema: the target schema.
    """
    return pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False)


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
        for table, frames in ((TIMESERIES, list(series)), (SUMMARY, list(summaries))):
            if frames:
                (self.root / table).mkdir(exist_ok=True)
                df = pd.concat(frames, ignore_index=True)
                atomic_write(to_table(df, self.schemas[table]), self.root / table / name)
        (self.root / MANIFEST).mkdir(exist_ok=True)
        table = to_table(pd.DataFrame(rows), self.schemas[MANIFEST])
        atomic_write(table, self.root / MANIFEST / name)
        return name

    # ----- reading ----------------------------------------------------------------------
    def manifest(self) -> pd.DataFrame:
        """The latest manifest row of every stored run (any order)."""
        parts = [pq.read_table(p, schema=self.schemas[MANIFEST]) for p in self.sources(MANIFEST)]
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
            pf = pq.ParquetFile(path)
            for group in range(pf.num_row_groups):
                t = pf.read_row_group(group)
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
        for table in (SUMMARY, TIMESERIES):
            if not self.sources(table):
                continue
            tmp = self.root / f".{table}.parquet.tmp"
            with pq.ParquetWriter(tmp, self.schemas[table]) as writer:
                for piece in self.batches(table, ok):
                    writer.write_table(piece)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.merged(table))
        atomic_write(to_table(manifest, self.schemas[MANIFEST]), self.merged(MANIFEST))
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
