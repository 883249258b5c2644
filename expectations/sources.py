"""Where a table's rows come from while it is validated: in-memory frames or Parquet parts.

The quality gate never holds a large table whole. It reads a table two ways:

* :meth:`TableSource.chunks`: consecutive rows, all columns, a bounded number at a time, in
  table order (the order of the parts, then of the rows in each part);
* :meth:`TableSource.partition`: a few columns of the rows whose ``key`` hashes to partition
  ``k`` of ``n``, in table order. Every table is partitioned by the same hash of an id, so all
  rows of one vehicle (or trip) meet in one partition: that is how cross-table checks and key
  uniqueness run exactly without reading everything at once.

Both return frames indexed by the rows' positions in the whole table (0-based), with the raw
dtypes that reading the whole table at once would give (parts are unified like
``pd.concat``); :mod:`expectations.loading` then brings them to the contract dtypes.
Parquet partitions are written once per (key, number of partitions) by DuckDB, which streams
the parts under a memory limit, into a temporary folder deleted by :meth:`close`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

DUCKDB_MEMORY_LIMIT = "256MB"
"""DuckDB's working memory while it selects partitions (it spills to disk beyond)."""
ROW = "__row"
"""Column holding a row's position in its table, where a frame needs it as data."""


class TableSource(Protocol):
    """Rows of one table, read in bounded pieces."""

    n_rows: int

    @property
    def raw(self) -> pd.DataFrame:
        """An empty frame with the table's columns and raw dtypes."""

    def chunks(
        self, chunk_rows: int, columns: Sequence[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        """Consecutive rows, about ``chunk_rows`` at a time (at least one, maybe empty, frame)."""

    def partition(self, columns: Sequence[str], key: str, n: int, k: int) -> pd.DataFrame:
        """``columns`` of the rows whose ``key`` hashes to partition ``k`` of ``n``."""

    def close(self) -> None:
        """Release temporary files."""


def _align(df: pd.DataFrame, raw: pd.DataFrame, start: int) -> pd.DataFrame:
    """``df`` with the dtypes of ``raw`` and an index of table positions from ``start``."""
    for col in df.columns:
        if col in raw.columns and df[col].dtype != raw[col].dtype:
            df[col] = df[col].astype(raw[col].dtype)
    df.index = pd.RangeIndex(start, start + len(df))
    return df


class FrameSource:
    """A table already in memory (an in-memory dataset or a small CSV table)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame.reset_index(drop=True)
        self.n_rows = len(self.frame)
        self._parts: dict[tuple[str, int], np.ndarray] = {}

    @property
    def raw(self) -> pd.DataFrame:
        return self.frame.iloc[:0]

    def chunks(
        self, chunk_rows: int, columns: Sequence[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        frame = self.frame if columns is None else self.frame[list(columns)]
        for start in range(0, max(self.n_rows, 1), chunk_rows):
            yield frame.iloc[start : start + chunk_rows]

    def partition(self, columns: Sequence[str], key: str, n: int, k: int) -> pd.DataFrame:
        if (key, n) not in self._parts:
            hashed = pd.util.hash_pandas_object(self.frame[key], index=False).to_numpy()
            self._parts[(key, n)] = (hashed % np.uint64(n)).astype(np.int64)
        return self.frame.loc[self._parts[(key, n)] == k, list(columns)]

    def close(self) -> None:
        """Nothing to release (the frame belongs to the caller)."""


def _null_dtype(field: pa.Field, has_nulls: bool, dtype: object) -> object:
    """The pandas dtype Arrow gives a column with nulls (ints become float, bools object).

    Extension dtypes restored from pandas metadata (``Int64``, ``boolean``) hold nulls as is.
    """
    if not has_nulls or not isinstance(dtype, np.dtype):
        return dtype
    if pa.types.is_integer(field.type):
        return np.dtype("float64")
    if pa.types.is_boolean(field.type):
        return np.dtype("object")
    return dtype


def _file_raw(pf: pq.ParquetFile) -> pd.DataFrame:
    """Empty frame with the dtypes reading ``pf`` whole gives (null-aware for int/bool)."""
    empty = pf.schema_arrow.empty_table().to_pandas()
    meta = pf.metadata
    for field in pf.schema_arrow:
        if field.name not in empty.columns:
            continue
        if not (pa.types.is_integer(field.type) or pa.types.is_boolean(field.type)):
            continue
        col = pf.schema_arrow.get_field_index(field.name)
        has_nulls = False
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(col).statistics
            if stats is None or not stats.has_null_count:
                has_nulls = bool(pf.read(columns=[field.name]).column(0).null_count)
                break
            has_nulls = has_nulls or stats.null_count > 0
        dtype = _null_dtype(field, has_nulls, empty[field.name].dtype)
        if dtype != empty[field.name].dtype:
            empty[field.name] = empty[field.name].astype(dtype)
    return empty


class ParquetSource:
    """A table stored as one Parquet file or a folder of parts (read in sorted order)."""

    def __init__(self, files: Sequence[Path]) -> None:
        self.files = list(files)
        handles = [pq.ParquetFile(f) for f in self.files]
        self.file_rows = [h.metadata.num_rows for h in handles]
        self.n_rows = sum(self.file_rows)
        raws = [_file_raw(h) for h in handles]
        self._raw = pd.concat(raws, ignore_index=True) if len(raws) > 1 else raws[0]
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._spills: dict[tuple[tuple[str, ...], str, int], Path] = {}
        self._con: duckdb.DuckDBPyConnection | None = None

    @property
    def raw(self) -> pd.DataFrame:
        return self._raw

    def chunks(
        self, chunk_rows: int, columns: Sequence[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        cols = None if columns is None else list(columns)
        raw = self._raw if cols is None else self._raw[cols]
        pending: list[pd.DataFrame] = []
        count = start = 0
        for path in self.files:
            # pre_buffer would cache every column chunk read until the file is closed
            reader = pq.ParquetFile(path, pre_buffer=False)
            batches = reader.iter_batches(batch_size=chunk_rows, columns=cols)
            for batch in batches:
                table = pa.Table.from_batches([batch])
                pending.append(table.to_pandas(split_blocks=True, self_destruct=True))
                count += batch.num_rows
                if count >= chunk_rows:
                    yield self._join(pending, raw, start)
                    start, count, pending = start + count, 0, []
        if pending or start == 0:
            yield self._join(pending, raw, start)

    @staticmethod
    def _join(frames: list[pd.DataFrame], raw: pd.DataFrame, start: int) -> pd.DataFrame:
        if not frames:
            return raw.copy()
        df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return _align(df[list(raw.columns)], raw, start)

    def partition(self, columns: Sequence[str], key: str, n: int, k: int) -> pd.DataFrame:
        if n == 1:  # the whole (narrow) table: no hashing, no spill
            return next(iter(self.chunks(max(self.n_rows, 1), columns)))
        folder = self._spill(tuple(columns), key, n) / f"part={k}"
        raw = self._raw[list(columns)]
        if not folder.is_dir():
            return raw.copy()
        cols = ", ".join(f'"{c}"' for c in columns)
        sql = f"""
            SELECT {cols}, {ROW} FROM read_parquet($files, hive_partitioning = false)
            ORDER BY {ROW}
        """
        files = [str(p) for p in sorted(folder.glob("*.parquet"))]
        df = self._duckdb().sql(sql, params={"files": files}).to_arrow_table().to_pandas()
        rows = df.pop(ROW).to_numpy(dtype=np.int64)
        df = _align(df, raw, 0)
        df.index = pd.Index(rows)
        return df

    def _spill(self, columns: tuple[str, ...], key: str, n: int) -> Path:
        """A folder ``part=<k>/`` per partition of ``columns`` (+ row position), written once.

        One DuckDB pass hashes ``key`` and writes every partition, instead of one scan of the
        table per partition; later requests for fewer columns reuse the folder.
        """
        for (spilled, by, parts), folder in self._spills.items():
            if by == key and parts == n and set(columns) <= set(spilled):
                return folder
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="evfleet-quality-")
        folder = Path(self._tmp.name) / f"spill-{len(self._spills)}"
        offsets = np.concatenate([[0], np.cumsum(self.file_rows)[:-1]]).astype(np.int64)
        files = pd.DataFrame({"filename": [str(f) for f in self.files], "offset": offsets})
        cols = ", ".join(f'p."{c}"' for c in dict.fromkeys((*columns, key)))
        sql = f"""
            COPY (
                SELECT {cols}, p.file_row_number + f."offset" AS {ROW},
                       hash(p."{key}") % {int(n)} AS part
                FROM read_parquet($files, filename = true, file_row_number = true) AS p
                JOIN files AS f ON p.filename = f.filename
            ) TO '{folder}' (FORMAT parquet, PARTITION_BY (part))
        """
        con = self._duckdb()
        con.register("files", files)
        con.execute(sql, {"files": files["filename"].tolist()})
        con.unregister("files")
        self._spills[(tuple(dict.fromkeys((*columns, key))), key, n)] = folder
        return folder

    def _duckdb(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = duckdb.connect()
            self._con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
            self._con.execute("SET enable_progress_bar = false")
        return self._con

    def close(self) -> None:
        """Delete the partition folders written so far."""
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp, self._spills = None, {}


def table_files(folder: Path, table: str) -> tuple[str, list[Path]] | None:
    """(format, files) of ``table`` in a dataset ``folder``, or None."""
    for ext in ("parquet", "csv"):
        path = folder / f"{table}.{ext}"
        if path.is_file():
            return ext, [path]
        if path.is_dir():
            parts = sorted(path.glob(f"*.{ext}"))
            if parts:
                return ext, parts
    sub = folder / table
    if sub.is_dir():
        for ext in ("parquet", "csv"):
            parts = sorted(sub.glob(f"*.{ext}"))
            if parts:
                return ext, parts
    return None


def partitions_for(*sources: TableSource, chunk_rows: int) -> int:
    """Number of hash partitions so that the largest of ``sources`` has ~chunk_rows each."""
    largest = max((s.n_rows for s in sources), default=0)
    return max(1, -(-largest // chunk_rows))


__all__ = ["ROW", "FrameSource", "ParquetSource", "TableSource", "partitions_for", "table_files"]
