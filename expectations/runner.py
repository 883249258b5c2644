"""Validate a dataset with the suites: pandas checks, one quiet GX run per table, Data Docs.

Heavy cross-table work runs once in vectorised pandas (:func:`expectations.derived.
run_all_checks`) on the full tables and reaches GX as ``check__<name>`` columns; GX then
validates each table (optionally a random sample of large tables that always keeps the rows
flagged by a check or with a null key) in an ephemeral context without progress bars,
analytics or network.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import numpy as np
import pandas as pd

from evfleet.invariants import CheckResult
from evfleet.schema import TABLES
from expectations.derived import run_all_checks
from expectations.loading import Dataset, load_user_dataset, prepare_dataset
from expectations.report import Outcome, QualityReport, jsonable, table_score
from expectations.suites import CHECK_PREFIX, SUITES, UNIQUE_KEYS, Rule, build_suite

if TYPE_CHECKING:
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )
    from great_expectations.data_context import AbstractDataContext

logger = logging.getLogger(__name__)

SAMPLE_MIN_ROWS = 100_000
"""Tables smaller than this are always validated in full."""
SAMPLE_ROWS_SHOWN = 5
DOCS_SITE = "evfleet"


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


def _sample(frame: pd.DataFrame, table: str, fraction: float, seed: int) -> pd.DataFrame:
    if fraction >= 1 or len(frame) < SAMPLE_MIN_ROWS:
        return frame
    rng = np.random.default_rng(seed)
    mask = (rng.random(len(frame)) < fraction) | _keep_mask(frame, table)
    logger.info("validating %s on a sample: %d of %d rows", table, mask.sum(), len(frame))
    return frame[mask]


def _skip_reason(rule: Rule, ds: Dataset, checks: Mapping[str, CheckResult]) -> str | None:
    if rule.name == "columns":
        return None
    if rule.check is not None:
        return checks[rule.check].skipped
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


def _run_gx(context: AbstractDataContext, table: str, frame: pd.DataFrame, rules: list[Rule],
            *, store: bool) -> dict[str, ExpectationValidationResult]:  # fmt: skip
    """Validate ``frame`` with ``rules``; ``store`` keeps the result for Data Docs."""
    import great_expectations as gx

    source = context.data_sources.add_pandas(f"evfleet_{table}")
    batch_def = source.add_dataframe_asset(table).add_batch_definition_whole_dataframe("all")
    suite = context.suites.add(build_suite(table, rules))
    keys = [c for c in UNIQUE_KEYS[table] if c in frame.columns]
    result_format: Any = {
        "result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS_SHOWN,
        "unexpected_index_column_names": keys, "return_unexpected_index_query": False,
    }  # fmt: skip
    params = {"dataframe": frame}
    if store:
        vd = context.validation_definitions.add(
            gx.ValidationDefinition(name=table, data=batch_def, suite=suite)
        )
        run = vd.run(batch_parameters=params, result_format=result_format)
    else:
        run = batch_def.get_batch(batch_parameters=params).validate(
            suite, result_format=result_format
        )
    return {r.expectation_config.meta["rule"]: r for r in run.results if r.expectation_config}


def _validate_table(context: AbstractDataContext, table: str, ds: Dataset,
                    checks: Mapping[str, CheckResult], fraction: float, seed: int,
                    store: bool) -> tuple[list[Outcome], int]:  # fmt: skip
    df = ds.tables[table]
    mine = {k: c for k, c in checks.items() if c.spec.table == table and c.rows is not None}
    columns = {
        CHECK_PREFIX + c.spec.name: _check_column(len(df), c.rows, df.index, c.spec.description)
        for c in mine.values()
        if c.rows is not None
    }
    frame = _sample(df.assign(**columns) if columns else df, table, fraction, seed)
    runnable, outcomes = [], []
    for rule in SUITES[table]:
        reason = _skip_reason(rule, ds, checks)
        if reason is None:
            runnable.append(rule)
        else:
            outcomes.append(_outcome(rule, "skipped", message=f"skipped: {reason}"))
    results = _run_gx(context, table, frame, runnable, store=store) if runnable else {}
    for rule in runnable:
        check = checks.get(rule.check) if rule.check else None
        outcomes.append(_gx_outcome(rule, results[rule.id], ds, check, len(df)))
    return outcomes, len(frame)


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
    """
    if not 0 < sample_fraction <= 1:
        msg = f"sample_fraction must be in (0, 1], got {sample_fraction}"
        raise ValueError(msg)
    chosen = list(TABLES) if tables is None else [t for t in TABLES if t in set(tables)]
    unknown = set(tables or ()) - set(TABLES)
    if unknown:
        msg = f"unknown tables {sorted(unknown)}; expected some of {', '.join(TABLES)}"
        raise ValueError(msg)
    start = time.perf_counter()
    ds = _as_dataset(data)
    usable = {t: ds.usable(t) for t in ds.tables}
    checks = {c.spec.key: c for c in run_all_checks(usable)}
    logger.info("pandas checks done in %.2f s", time.perf_counter() - start)
    outcomes: list[Outcome] = []
    validated: dict[str, int] = {}
    with warnings.catch_warnings(), _no_batch_fingerprint():
        warnings.simplefilter("ignore")
        context = quiet_context(docs_dir)
        for table in chosen:
            if table not in ds.tables:
                outcomes += _missing_table(table)
                continue
            table_outcomes, validated[table] = _validate_table(
                context, table, ds, checks, sample_fraction, seed, docs_dir is not None
            )
            outcomes += table_outcomes
        if docs_dir is not None:
            context.build_data_docs(site_names=[DOCS_SITE])
    scores = {
        t: table_score(o for o in outcomes if o.table == t) if t in ds.tables else 0.0
        for t in chosen
    }
    report = QualityReport(
        dataset=name or ds.source, outcomes=outcomes, table_scores=scores,
        score=round(sum(scores.values()) / len(scores), 2),
        rows={t: len(df) for t, df in ds.tables.items()}, rows_validated=validated,
        sample_fraction=sample_fraction, elapsed_s=round(time.perf_counter() - start, 3),
        problems=ds.problems(),
        docs_path=str(Path(docs_dir).resolve() / "index.html") if docs_dir else None,
    )  # fmt: skip
    logger.info("quality %.1f/100 (%s) in %.1f s", report.score,
                "passed" if report.passed else "FAILED", report.elapsed_s)  # fmt: skip
    return report
