"""Validate a dataset with the suites in bounded memory: checks, GX per chunk, Data Docs.

No table is ever held whole (``chunk_rows`` bounds every piece):

1. Cross-table checks that relate rows by an id (:data:`evfleet.invariants.GROUP_KEYS`) run
   per hash partition of that id over narrow projections of the tables
   (:func:`evfleet.invariants.run_partitioned`).
2. Each table is then read in consecutive chunks; per chunk the row-local checks run
   (:func:`expectations.derived.run_all_checks`, with ``fleet_info`` as lookup), every check
   reaches GX as a ``check__<name>`` column, an optional random sample is drawn (always
   keeping rows flagged by a check or with a null key) and GX validates the chunk.
3. Key uniqueness is validated per hash partition of the key (duplicates share a partition).
4. The pieces' results (:mod:`expectations.pieces`) are merged exactly
   (:mod:`expectations.merge`) into the result of the whole table, which scores the table
   and, stored like a ``ValidationDefinition`` run, feeds the Data Docs.

GX runs in an ephemeral context without progress bars, analytics or network.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import numpy as np
import pandas as pd

from evfleet.config import QUALITY_CHUNK_ROWS
from evfleet.invariants import (
    GROUP_KEYS,
    LOOKUP_TABLE,
    CheckResult,
    CheckSpec,
    merge_rows,
    run_partitioned,
)
from evfleet.schema import TABLES
from expectations.derived import ALL_CHECKS, run_all_checks
from expectations.loading import Dataset, load_user_dataset, prepare_dataset
from expectations.merge import merge_expectation, merge_suite
from expectations.pieces import SAMPLE_ROWS_SHOWN, GxTarget, gx_target, store_result, validate_piece
from expectations.report import Outcome, QualityReport, jsonable, table_score
from expectations.sources import ROW, partitions_for
from expectations.suites import CHECK_PREFIX, SUITES, UNIQUE_KEYS, Rule

if TYPE_CHECKING:
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.data_context import AbstractDataContext

logger = logging.getLogger(__name__)

SAMPLE_MIN_ROWS = 100_000
"""Tables smaller than this are always validated in full."""
DOCS_SITE = "evfleet"
CHUNK_ROWS = QUALITY_CHUNK_ROWS
"""Default rows per chunk and per partition (peak memory follows it, not the table size)."""
KEY_RULES = ("ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique")
"""Expectations judged per hash partition of the key instead of per chunk."""


def quiet_context(docs_dir: str | Path | None = None) -> AbstractDataContext:
    """An ephemeral GX context: no progress bars, no analytics, Data Docs in ``docs_dir``."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    context = gx.get_context(project_config=config, mode="ephemeral")
    if docs_dir is not None:
        site: Any = {
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(Path(docs_dir).resolve()),
            },
        }
        context.add_data_docs_site(DOCS_SITE, site)
    return context


@contextlib.contextmanager
def _no_batch_fingerprint() -> Iterator[None]:
    """Skip GX's md5 fingerprint of every in-memory batch under 1 GB.

    The fingerprint (``hash_pandas_object`` of the whole frame, computed twice per table) only
    labels batch metadata we never read, yet costs as much as the expectations themselves on
    large tables; GX skips it above ``HASH_THRESHOLD`` bytes, so lower that to 0.
    """
    from great_expectations.execution_engine import pandas_execution_engine

    with mock.patch.object(pandas_execution_engine, "HASH_THRESHOLD", 0):
        yield


def _as_dataset(data: Mapping[str, pd.DataFrame] | str | Path | Dataset) -> Dataset:
    if isinstance(data, Dataset):
        return data
    if isinstance(data, str | Path):
        return load_user_dataset(data)
    return prepare_dataset(data)


def _check_column(n: int, rows: pd.DataFrame, index: pd.Index, reason: str) -> pd.Categorical:
    """Null on passing rows, the reason (``rows.problem`` or ``reason``) on offending rows."""
    if "problem" in rows.columns and len(rows):
        categories, codes_of_rows = np.unique(rows["problem"].astype(str), return_inverse=True)
    else:
        categories, codes_of_rows = np.array([reason]), np.zeros(len(rows), dtype=np.int64)
    codes = np.full(n, -1, dtype=np.int32)
    codes[index.get_indexer(rows.index)] = codes_of_rows
    return pd.Categorical.from_codes(codes, categories=list(categories))


def _keep_mask(frame: pd.DataFrame, table: str) -> np.ndarray:
    """Rows a sample must keep: flagged by a pandas check, or with a null key.

    Key uniqueness is then judged on the sample (duplicated trips or segments still break
    ``segment_sums``, which sees every row).
    """
    checks = [c for c in frame.columns if c.startswith(CHECK_PREFIX)]
    keep = np.zeros(len(frame), dtype=bool)
    if checks:
        keep = keep | frame[checks].notna().any(axis=1).to_numpy(dtype=bool)
    key = [c for c in UNIQUE_KEYS[table] if c in frame.columns]
    if key:
        keep = keep | frame[key].isna().any(axis=1).to_numpy(dtype=bool)
    return keep


def _skip_reason(rule: Rule, ds: Dataset, checks: Mapping[str, CheckResult]) -> str | None:
    if rule.name == "columns":
        return None
    if rule.check is not None:
        return checks[rule.check].skipped if rule.check in checks else None
    missing = [c for c in rule.columns if c in ds.missing_columns.get(rule.table, ())]
    if missing:
        return f"missing column {', '.join(missing)}"
    bad = [c for c in rule.columns if c in ds.bad_types.get(rule.table, {})]
    if bad:
        return f"column {', '.join(bad)} has the wrong dtype"
    return None


def _readable(row: Mapping[str, Any]) -> dict[str, Any]:
    """A sample row as JSON values, floats to 6 significant digits."""
    out = {}
    for key, value in jsonable(dict(row)).items():
        out[key] = float(f"{value:.6g}") if isinstance(value, float) else value
    return out


def _outcome(rule: Rule, status: str, **kw: Any) -> Outcome:
    column = rule.kwargs.get("column") or rule.kwargs.get("column_A")
    return Outcome(
        table=rule.table, rule=rule.id, expectation=rule.gx_type, severity=rule.severity.value,
        description=rule.description, status=status, column=column, **kw,
    )  # fmt: skip


def _gx_outcome(rule: Rule, res: ExpectationValidationResult, ds: Dataset,
                check: CheckResult | None, n_rows: int) -> Outcome:  # fmt: skip
    result = res.result or {}
    status = "passed" if res.success else "failed"
    observed = result.get("observed_value")
    message = ""
    error = (res.exception_info or {}).get("exception_message")
    if error:
        message = f"error: {error}"
    sample = [_readable(r) for r in result.get("partial_unexpected_index_list") or []]
    if not sample:
        sample = [{"value": jsonable(v)} for v in result.get("partial_unexpected_list") or []]
    element, unexpected = result.get("element_count"), result.get("unexpected_count")
    if rule.name == "columns":
        observed = [c for c in observed or () if not c.startswith(CHECK_PREFIX)]
        if ds.missing_columns.get(rule.table):
            message = f"missing columns: {', '.join(ds.missing_columns[rule.table])}"
    elif rule.name == "dtypes" and isinstance(observed, dict):
        contract = TABLES[rule.table]
        message = "; ".join(
            f"{c} has dtype {d}, expected {contract[c]}" for c, d in observed.items()
        )
    if check is not None and check.rows is not None:
        element, unexpected = n_rows, len(check.rows)
        shown = check.rows.head(SAMPLE_ROWS_SHOWN).reset_index(names="row")
        sample = [_readable(r) for r in shown.to_dict(orient="records")]
    return _outcome(
        rule, status, element_count=element, unexpected_count=unexpected,
        observed=None if observed is None else str(jsonable(observed))[:300],
        message=message, sample=sample[:SAMPLE_ROWS_SHOWN],
    )  # fmt: skip


@dataclass
class _Run:
    """What the validation of every table shares."""

    context: AbstractDataContext
    ds: Dataset
    checks: dict[str, CheckResult]
    row_checks: list[CheckSpec]
    fleet: pd.DataFrame | None
    fraction: float
    seed: int
    store: bool
    chunk_rows: int


def _in_chunk(rows: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """Offending rows (sorted by row label) that fall in a chunk of consecutive rows."""
    if not len(index):
        return rows.iloc[:0]
    lo = rows.index.searchsorted(index[0], side="left")
    hi = rows.index.searchsorted(index[-1], side="right")
    return rows.iloc[lo:hi]


@dataclass
class _Chunks:
    """What the chunk pass over one table found."""

    pieces: list[ExpectationSuiteValidationResult]
    local: dict[str, list[pd.DataFrame]]
    sample: np.ndarray | None
    validated: int


def _chunk_pass(run: _Run, table: str, target: GxTarget, ids: set[str]) -> _Chunks:
    """Row-local checks and GX on consecutive chunks of ``table`` (rules ``ids``)."""
    ds, src = run.ds, run.ds.sources[table]
    local_specs = [s for s in run.row_checks if s.table == table]
    mine = [s for s in ALL_CHECKS if s.table == table and (s in local_specs or (
        s.key in run.checks and run.checks[s.key].rows is not None))]  # fmt: skip
    bad = list(ds.bad_types.get(table, {}))
    sampling = run.fraction < 1 and src.n_rows >= SAMPLE_MIN_ROWS
    rng = np.random.default_rng(run.seed)
    suite = target.sub_suite(ids)
    out = _Chunks([], {s.key: [] for s in local_specs}, None, 0)
    masks, last = [], None
    for raw in src.chunks(run.chunk_rows):
        chunk = ds.normalise(table, raw)
        lookup = {} if table == LOOKUP_TABLE or run.fleet is None else {LOOKUP_TABLE: run.fleet}
        usable = chunk.drop(columns=bad)
        found = {r.spec.key: r.rows for r in run_all_checks({table: usable, **lookup}, local_specs)}
        columns = {}
        for spec in mine:
            if spec.key in found:
                rows = found[spec.key]
                out.local[spec.key].append(rows)
            else:
                rows = _in_chunk(run.checks[spec.key].rows, chunk.index)
            columns[CHECK_PREFIX + spec.name] = _check_column(
                len(chunk), rows, chunk.index, spec.description
            )
        frame = chunk.assign(**columns) if columns else chunk
        if sampling:
            mask = (rng.random(len(frame)) < run.fraction) | _keep_mask(frame, table)
            masks.append(mask)
            frame = frame[mask]
        out.validated += len(frame)
        last = frame
        if len(frame) or not src.n_rows:
            out.pieces.append(validate_piece(target, suite, frame, target.result_format))
    if not out.pieces and last is not None:
        out.pieces.append(validate_piece(target, suite, last, target.result_format))
    if sampling:
        out.sample = np.concatenate(masks)
        logger.info("validating %s on a sample: %d of %d rows", table, out.validated, src.n_rows)
    return out


def _key_pass(run: _Run, table: str, target: GxTarget, ids: set[str],
              sample: np.ndarray | None) -> list[ExpectationSuiteValidationResult]:  # fmt: skip
    """Key uniqueness per hash partition of the key's first column (sampled rows only)."""
    ds, src = run.ds, run.ds.sources[table]
    keys = list(target.result_format["unexpected_index_column_names"])
    result_format = {**target.result_format, "unexpected_index_column_names": [*keys, ROW]}
    suite = target.sub_suite(ids)
    n = partitions_for(src, chunk_rows=run.chunk_rows)
    pieces: list[ExpectationSuiteValidationResult] = []
    for k in range(n):
        part = ds.normalise(table, src.partition(keys, keys[0], n, k))
        if sample is not None:
            part = part[sample[part.index.to_numpy()]]
        if len(part) or (k == n - 1 and not pieces):
            part = part.assign(**{ROW: part.index.to_numpy(dtype=np.int64)})
            pieces.append(validate_piece(target, suite, part, result_format))
    return pieces


def _validate_table(run: _Run, table: str) -> tuple[list[Outcome], int]:
    ds = run.ds
    runnable, outcomes = [], []
    for rule in SUITES[table]:
        reason = _skip_reason(rule, ds, run.checks)
        if reason is None:
            runnable.append(rule)
        else:
            outcomes.append(_outcome(rule, "skipped", message=f"skipped: {reason}"))
    if not runnable:
        return outcomes, 0
    keys = [c for c in UNIQUE_KEYS[table] if c in ds.columns(table)]
    target = gx_target(run.context, table, runnable, keys, store=run.store)
    by_key = {r.id for r in runnable if r.gx_type in KEY_RULES and keys}
    chunks = _chunk_pass(run, table, target, {r.id for r in runnable} - by_key)
    for spec in run.row_checks:
        if spec.key in chunks.local:
            run.checks[spec.key] = CheckResult(spec, merge_rows(chunks.local[spec.key]))
    pieces: dict[str, list[ExpectationValidationResult]] = {r.id: [] for r in runnable}
    key_pieces = _key_pass(run, table, target, by_key, chunks.sample) if by_key else []
    for piece in [*chunks.pieces, *key_pieces]:
        for res in piece.results:
            if res.expectation_config is not None:
                pieces[res.expectation_config.meta["rule"]].append(res)
    merged = [merge_expectation(r, pieces[r.id], target.result_format) for r in runnable]
    if run.store:
        store_result(run.context, target, merge_suite(table, chunks.pieces[0], merged))
    n_rows = ds.sources[table].n_rows
    for rule, res in zip(runnable, merged, strict=True):
        check = run.checks.get(rule.check) if rule.check else None
        outcomes.append(_gx_outcome(rule, res, ds, check, n_rows))
    return outcomes, chunks.validated


def _plan_checks(ds: Dataset, chosen: list[str]) -> tuple[dict[str, CheckResult], list[CheckSpec],
                                                         list[CheckSpec]]:  # fmt: skip
    """Skipped checks (inputs missing), grouped checks and row-local checks of ``chosen``."""
    schema = {t: ds.sources[t].raw[ds.usable_columns(t)] for t in ds.sources}
    skipped, grouped, local = {}, [], []
    for spec in ALL_CHECKS:
        if spec.table not in chosen:
            continue
        missing = spec.missing_inputs(schema)
        if missing:
            skipped[spec.key] = CheckResult(spec, None, f"missing {', '.join(missing)}")
        elif spec.name in GROUP_KEYS:
            grouped.append(spec)
        else:
            local.append(spec)
    return skipped, grouped, local


def run_checks_streamed(ds: Dataset, chosen: list[str], chunk_rows: int) -> tuple[
        dict[str, CheckResult], list[CheckSpec], pd.DataFrame | None]:  # fmt: skip
    """Grouped checks of ``chosen`` tables, partition by partition; row-local ones still to run.

    Returns the results so far (grouped checks and skipped ones), the row-local checks that
    the chunk pass runs, and the ``fleet_info`` lookup they read.
    """
    skipped, grouped, local = _plan_checks(ds, chosen)

    def read(table: str, columns: tuple[str, ...], key: str, n: int, k: int) -> pd.DataFrame:
        return ds.normalise(table, ds.sources[table].partition(columns, key, n, k))

    def n_parts(tables: list[str]) -> int:
        return partitions_for(*(ds.sources[t] for t in tables), chunk_rows=chunk_rows)

    results = {r.spec.key: r for r in run_partitioned(grouped, read, n_parts)}
    fleet = None
    if LOOKUP_TABLE in ds.sources and any(LOOKUP_TABLE in s.needs for s in local):
        src = ds.sources[LOOKUP_TABLE]
        whole = ds.normalise(LOOKUP_TABLE, next(iter(src.chunks(max(src.n_rows, 1)))))
        fleet = whole[ds.usable_columns(LOOKUP_TABLE)]
    checks = {**skipped, **results}
    return {s.key: checks[s.key] for s in ALL_CHECKS if s.key in checks}, local, fleet


def _missing_table(table: str) -> list[Outcome]:
    head = Outcome(
        table=table, rule=f"{table}.present", expectation="table_present", severity="critical",
        description=f"table {table} is present", status="failed",
        message=f"table {table} is missing from the dataset",
    )  # fmt: skip
    why = f"skipped: table {table} missing"
    rest = [_outcome(r, "skipped", message=why) for r in SUITES[table]]
    return [head, *rest]


def validate_dataset(
    data: Mapping[str, pd.DataFrame] | str | Path | Dataset,
    *,
    sample_fraction: float = 1.0,
    docs_dir: str | Path | None = None,
    seed: int = 0,
    name: str | None = None,
    tables: Iterable[str] | None = None,
    chunk_rows: int | None = None,
) -> QualityReport:
    """Validate the six tables against their suites and score the dataset.

    Parameters
    ----------
    data
        Table name -> DataFrame, a dataset folder (see :func:`load_user_dataset`) or a
        prepared :class:`Dataset`.
    sample_fraction
        Share of rows GX validates in tables of at least ``SAMPLE_MIN_ROWS`` rows (cross-
        table checks always see every row). 1 validates everything.
    docs_dir
        Folder to build Data Docs into (``<docs_dir>/index.html``); None builds none.
    seed
        Seed of the row sample.
    name
        Label of the dataset in the report (default: its folder or "in-memory").
    tables
        Validate only these tables' suites (cross-table checks still read every table);
        the overall score is then the mean over these tables. None validates all six.
    chunk_rows
        Rows per chunk and per hash partition (default :data:`CHUNK_ROWS`): peak memory
        follows it, never the table size. Results do not depend on it.
    """
    if not 0 < sample_fraction <= 1:
        msg = f"sample_fraction must be in (0, 1], got {sample_fraction}"
        raise ValueError(msg)
    chosen = list(TABLES) if tables is None else [t for t in TABLES if t in set(tables)]
    unknown = set(tables or ()) - set(TABLES)
    if unknown:
        msg = f"unknown tables {sorted(unknown)}; expected some of {', '.join(TABLES)}"
        raise ValueError(msg)
    chunk_rows = CHUNK_ROWS if chunk_rows is None else chunk_rows
    if chunk_rows < 1:
        msg = f"chunk_rows must be at least 1, got {chunk_rows}"
        raise ValueError(msg)
    start = time.perf_counter()
    ds = _as_dataset(data)
    try:
        return _validate(ds, chosen, sample_fraction=sample_fraction, docs_dir=docs_dir,
                         seed=seed, name=name, chunk_rows=chunk_rows, start=start)  # fmt: skip
    finally:
        for src in ds.sources.values():
            src.close()


def _validate(ds: Dataset, chosen: list[str], *, sample_fraction: float,
              docs_dir: str | Path | None, seed: int, name: str | None, chunk_rows: int,
              start: float) -> QualityReport:  # fmt: skip
    checks, row_checks, fleet = run_checks_streamed(ds, chosen, chunk_rows)
    logger.info("grouped checks done in %.2f s", time.perf_counter() - start)
    outcomes: list[Outcome] = []
    validated: dict[str, int] = {}
    with warnings.catch_warnings(), _no_batch_fingerprint():
        warnings.simplefilter("ignore")
        run = _Run(quiet_context(docs_dir), ds, checks, row_checks, fleet, sample_fraction, seed,
                   docs_dir is not None, chunk_rows)  # fmt: skip
        for table in chosen:
            if table not in ds.sources:
                outcomes += _missing_table(table)
                continue
            table_outcomes, validated[table] = _validate_table(run, table)
            outcomes += table_outcomes
        context = run.context
        if docs_dir is not None:
            context.build_data_docs(site_names=[DOCS_SITE])
    scores = {
        t: table_score(o for o in outcomes if o.table == t) if t in ds.sources else 0.0
        for t in chosen
    }
    report = QualityReport(
        dataset=name or ds.source, outcomes=outcomes, table_scores=scores,
        score=round(sum(scores.values()) / len(scores), 2),
        rows={t: src.n_rows for t, src in ds.sources.items()}, rows_validated=validated,
        sample_fraction=sample_fraction, elapsed_s=round(time.perf_counter() - start, 3),
        problems=ds.problems(),
        docs_path=str(Path(docs_dir).resolve() / "index.html") if docs_dir else None,
    )  # fmt: skip
    logger.info("quality %.1f/100 (%s) in %.1f s", report.score,
                "passed" if report.passed else "FAILED", report.elapsed_s)  # fmt: skip
    return report
