"""Load and normalise datasets for validation: our workspace output or a user's own files.

A dataset folder holds one file per table, ``<table>.parquet`` or ``<table>.csv`` (or a
folder ``<table>/`` of Parquet or CSV parts). Columns are brought to the contract dtypes of
:data:`evfleet.schema.TABLES` only where that loses nothing (``str`` -> ``string``, any
datetime unit -> ``datetime64[us]``, ISO text in CSV -> dates/times, integral floats ->
``int64``); a column that cannot be converted keeps its dtype, so its type expectation
fails and names it. Missing tables and columns are recorded by name, never raised.

Parquet tables are not read here: :func:`load_user_dataset` opens them as
:class:`~expectations.sources.ParquetSource` and decides each column's conversion for the
whole table (streaming only the columns whose conversion depends on their values), so that
every chunk the runner reads later is converted the same way. CSV tables (a user's own,
small files) and in-memory tables are normalised whole, as before.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from evfleet.errors import InputDataError
from evfleet.schema import TABLES, missing_columns
from expectations.sources import FrameSource, ParquetSource, TableSource, table_files

logger = logging.getLogger(__name__)

STREAM_CHUNK_ROWS = 500_000
"""Rows per chunk when a conversion decision streams a column."""

_DATE = "date32[day][pyarrow]"
_DATETIME = "datetime64[us]"
_TRUE = {"true", "t", "1", "yes"}
_FALSE = {"false", "f", "0", "no"}


@dataclass
class Dataset:
    """Tables ready for validation plus what is missing or mistyped, by name.

    ``sources`` give each table's rows in bounded pieces; :meth:`normalise` brings a piece
    to the contract dtypes (except the ``bad_types`` columns, which keep their own).
    """

    sources: dict[str, TableSource]
    source: str = "in-memory"
    missing_tables: list[str] = field(default_factory=list)
    missing_columns: dict[str, list[str]] = field(default_factory=dict)
    bad_types: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table whole and normalised (for small data; validation streams instead)."""
        out = {}
        for table, src in self.sources.items():
            chunks = [self.normalise(table, c) for c in src.chunks(max(src.n_rows, 1))]
            out[table] = chunks[0]
        return out

    def columns(self, table: str) -> list[str]:
        """Column names of ``table``."""
        return list(self.sources[table].raw.columns)

    def usable_columns(self, table: str) -> list[str]:
        """Columns of ``table`` without its mistyped contract columns (for the checks)."""
        bad = self.bad_types.get(table, {})
        return [c for c in self.columns(table) if c not in bad]

    def normalise(self, table: str, piece: pd.DataFrame) -> pd.DataFrame:
        """``piece`` of ``table`` with its convertible contract columns at their dtypes."""
        skip = set(self.bad_types.get(table, {}))
        return convert_columns(table, piece, skip=skip)

    def usable(self, table: str) -> pd.DataFrame:
        """``table`` whole without its mistyped contract columns (small data only)."""
        return self.tables[table].drop(columns=list(self.bad_types.get(table, {})))

    def problems(self) -> list[str]:
        """Readable lines naming missing tables, missing columns and mistyped columns."""
        lines = [f"missing table {t}" for t in self.missing_tables]
        lines += [f"{t}: missing columns {', '.join(c)}" for t, c in self.missing_columns.items()]
        lines += [
            f"{t}.{col}: dtype {got}, expected {TABLES[t][col]}"
            for t, cols in self.bad_types.items()
            for col, got in cols.items()
        ]
        return lines + self.notes


def dtype_matches(dtype: object, contract: str) -> bool:
    """True when ``dtype`` satisfies the contract dtype (as the GX type expectation judges)."""
    kind = getattr(dtype, "type", None)
    expected = {
        "string": str, "float64": np.float64, "int64": np.int64, "bool": np.bool_,
        _DATETIME: np.datetime64, _DATE: dt.date,
    }[contract]  # fmt: skip
    return kind is expected


def _all_str(s: pd.Series) -> bool:
    values = s.dropna()
    return bool(values.map(type).eq(str).all())


def _cast(s: pd.Series, contract: str) -> pd.Series | None:
    """Lossless conversion of ``s`` to ``contract``, or None when it would lose information."""
    d = s.dtype
    if contract == "string":
        ok = getattr(d, "type", None) is str or (d.kind == "O" and _all_str(s))
        return s.astype("string") if ok else None
    if contract == _DATE:
        if isinstance(d, pd.ArrowDtype) and pa.types.is_date(d.pyarrow_dtype):
            return s.astype(_DATE)
        if pd.api.types.is_datetime64_any_dtype(d) and getattr(d, "tz", None) is None:
            if (s.dropna() == s.dropna().dt.normalize()).all():
                return s.dt.date.astype(_DATE)
            return None
        if d.kind == "O" and s.dropna().map(type).eq(dt.date).all():
            return s.astype(_DATE)
        return None
    if contract == _DATETIME:
        tz_naive = getattr(d, "tz", None) is None
        return s.astype(_DATETIME) if pd.api.types.is_datetime64_any_dtype(d) and tz_naive else None
    if contract == "bool":
        ok = pd.api.types.is_bool_dtype(d) and not s.isna().any()
        return s.astype("bool") if ok else None
    if pd.api.types.is_bool_dtype(d) or not pd.api.types.is_numeric_dtype(d):
        return None
    if contract == "float64":
        return s.astype("float64")
    values = s.to_numpy(dtype=float, na_value=np.nan)  # int64
    ok = np.isfinite(values).all() and (values == np.round(values)).all()
    return s.astype("int64") if ok else None


def _parse_text(s: pd.Series, contract: str) -> pd.Series | None:
    """Parse a CSV text column into ``contract``; None if any non-empty value fails."""
    present = s.notna().to_numpy(dtype=bool)
    out: pd.Series
    if contract in ("float64", "int64"):
        out = pd.to_numeric(s, errors="coerce")
    elif contract == "bool":
        low = s.str.strip().str.lower()
        out = pd.Series(pd.NA, index=s.index, dtype="boolean")
        out[low.isin(_TRUE).to_numpy(dtype=bool)] = True
        out[low.isin(_FALSE).to_numpy(dtype=bool)] = False
    elif contract in (_DATETIME, _DATE):
        out = pd.to_datetime(s, format="ISO8601", errors="coerce")
    else:
        return s
    if (out.isna().to_numpy(dtype=bool) & present).any():
        return None
    return out


def convert_columns(table: str, df: pd.DataFrame, *, skip: Iterable[str] = ()) -> pd.DataFrame:
    """``df`` with each contract column (except ``skip``) cast to its dtype where lossless."""
    skipped, casts = set(skip), {}
    for col, contract in TABLES[table].items():
        if col not in df.columns or col in skipped or str(df[col].dtype) == contract:
            continue
        cast = _cast(df[col], contract)
        if cast is not None:
            casts[col] = cast
    return df.assign(**casts) if casts else df


def _record(result: Dataset, table: str, columns: pd.Index, bad: dict[str, str]) -> None:
    missing = missing_columns(table, pd.DataFrame(columns=columns))
    if missing:
        result.missing_columns[table] = missing
    if bad:
        result.bad_types[table] = bad


def normalise_table(table: str, df: pd.DataFrame, *, text: bool = False) -> Dataset:
    """Bring ``df``'s contract columns to their dtypes where lossless (a one-table Dataset).

    With ``text=True`` (CSV input) text columns are parsed first (numbers, booleans, ISO
    dates and times).
    """
    out = df.reset_index(drop=True)
    bad: dict[str, str] = {}
    for col, contract in TABLES[table].items():
        if col not in out.columns:
            continue
        s = out[col]
        if text and contract != "string":
            s = _parse_text(s, contract) if getattr(s.dtype, "type", None) is str else s
            if s is None:
                bad[col] = "text (unparseable)"
                continue
        cast = s if str(s.dtype) == contract else _cast(s, contract)
        if cast is None:
            bad[col] = str(out[col].dtype)
        else:
            out[col] = cast
    result = Dataset({table: FrameSource(out)})
    _record(result, table, out.columns, bad)
    return result


def _stream_bad_types(table: str, src: ParquetSource) -> dict[str, str]:
    """Contract columns of a Parquet table that no lossless conversion fits, over all rows.

    Only columns whose stored dtype differs from the contract are streamed (none, for our own
    datasets), and only those columns are read.
    """
    raw = src.raw
    todo = {
        c: contract
        for c, contract in TABLES[table].items()
        if c in raw.columns and str(raw[c].dtype) != contract
    }
    bad: dict[str, str] = {}
    if not todo:
        return bad
    for chunk in src.chunks(STREAM_CHUNK_ROWS, columns=list(todo)):
        for col, contract in todo.items():
            if col not in bad and _cast(chunk[col], contract) is None:
                bad[col] = str(raw[col].dtype)
    return {c: bad[c] for c in todo if c in bad}


def prepare_dataset(tables: Mapping[str, pd.DataFrame], *, source: str = "in-memory",
                    text_tables: frozenset[str] = frozenset()) -> Dataset:  # fmt: skip
    """Normalise every known table of ``tables``; record missing tables, columns and types."""
    unknown = sorted(set(tables) - set(TABLES))
    result = Dataset({}, source=source)
    if unknown:
        result.notes.append(f"ignored unknown tables: {', '.join(unknown)}")
    for table in TABLES:
        if table not in tables:
            result.missing_tables.append(table)
            continue
        one = normalise_table(table, tables[table], text=table in text_tables)
        result.sources[table] = one.sources[table]
        result.missing_columns.update(one.missing_columns)
        result.bad_types.update(one.bad_types)
    return result


def _read_csv(paths: list[Path]) -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype="string", keep_default_na=True) for p in paths]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def load_user_dataset(path: str | Path) -> Dataset:
    """Open a dataset folder (Parquet or CSV, a file or folder of parts per table).

    Raises :class:`InputDataError` when ``path`` is not a folder or holds none of the
    tables; otherwise missing tables, missing columns and unconvertible columns are recorded
    in the returned :class:`Dataset` (and become failing critical expectations). Parquet
    tables stay on disk (see the module docstring); CSV tables are read.
    """
    folder = Path(path)
    if not folder.is_dir():
        msg = f"dataset folder not found: {folder}"
        raise InputDataError(msg)
    csv: dict[str, pd.DataFrame] = {}
    result = Dataset({}, source=str(folder))
    for table in TABLES:
        found = table_files(folder, table)
        if found is None:
            continue
        fmt, files = found
        try:
            if fmt == "csv":
                csv[table] = _read_csv(files)
            else:
                src = ParquetSource(files)
                result.sources[table] = src
                _record(result, table, src.raw.columns, _stream_bad_types(table, src))
        except (OSError, ValueError, pa.ArrowException) as exc:
            msg = f"cannot read table {table} from {files[0]}: {exc}"
            raise InputDataError(msg) from None
        logger.info("opened %s (%s, %d rows) in %s", table, fmt, result.sources[table].n_rows
                    if table in result.sources else len(csv[table]), folder)  # fmt: skip
    if not result.sources and not csv:
        names = ", ".join(f"{t}.parquet|csv" for t in TABLES)
        msg = f"no tables found in {folder}; expected files named {names}"
        raise InputDataError(msg)
    texts = prepare_dataset(csv, source=str(folder), text_tables=frozenset(csv))
    result.sources.update(texts.sources)
    result.missing_columns.update(texts.missing_columns)
    result.bad_types.update(texts.bad_types)
    result.sources = {t: result.sources[t] for t in TABLES if t in result.sources}
    result.missing_tables = [t for t in TABLES if t not in result.sources]
    return result
