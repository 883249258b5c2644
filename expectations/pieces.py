"""Validate one table piece by piece with GX, as one ``ValidationDefinition`` run would.

:func:`gx_target` registers a table's datasource, suite and (for Data Docs) validation
definition; :func:`validate_piece` validates one chunk or partition with (part of) the suite
and then drops what GX keeps of it, so memory follows one piece; :func:`store_result` keeps
the merged result for Data Docs exactly as ``ValidationDefinition.run`` stores its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast
from unittest import mock

import pandas as pd

from expectations.suites import Rule, build_suite

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
    )
    from great_expectations.data_context import AbstractDataContext

SAMPLE_ROWS_SHOWN = 5
"""Offending rows each expectation reports (GX ``partial_unexpected_count``)."""


def _glibc() -> ctypes.CDLL | None:
    """glibc, whose ``malloc_trim`` returns freed heap pages (None on other C libraries)."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()


@dataclass
class GxTarget:
    """One table's GX objects: batch definition, suite and (for Data Docs) its definition."""

    batch: BatchDefinition
    suite: gx.ExpectationSuite
    definition: gx.ValidationDefinition | None
    result_format: dict[str, Any]

    def sub_suite(self, ids: set[str]) -> gx.ExpectationSuite:
        """The suite restricted to the rules ``ids``, for validating one kind of piece.

        GX's validator reads only ``name`` and ``expectation_configurations`` of a suite; the
        configurations keep the registered suite's ids, so results and Data Docs are those
        of the whole suite (a new ``ExpectationSuite`` would mint new expectation ids).
        """
        configs = [c for c in self.suite.expectation_configurations if c.meta["rule"] in ids]
        subset = SimpleNamespace(name=self.suite.name, expectation_configurations=configs)
        return cast("gx.ExpectationSuite", subset)


def gx_target(context: AbstractDataContext, table: str, rules: list[Rule], keys: list[str], *,
              store: bool) -> GxTarget:  # fmt: skip
    """GX objects of ``table``'s validation; ``store`` adds a definition (for Data Docs)."""
    import great_expectations as gx

    source = context.data_sources.add_pandas(f"evfleet_{table}")
    batch_def = source.add_dataframe_asset(table).add_batch_definition_whole_dataframe("all")
    suite = context.suites.add(build_suite(table, rules))
    definition = None
    if store:
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=table, data=batch_def, suite=suite)
        )
    result_format: dict[str, Any] = {
        "result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS_SHOWN,
        "unexpected_index_column_names": keys, "return_unexpected_index_query": False,
    }  # fmt: skip
    return GxTarget(batch_def, suite, definition, result_format)


@contextlib.contextmanager
def _configuration_once() -> Iterator[None]:
    """Build each expectation's configuration once per piece instead of ~80 times.

    GX rebuilds ``Expectation.configuration`` (a pydantic ``dict()`` of the expectation) every
    time it is read while planning metrics; validating a table piece by piece multiplies that
    fixed cost, which then outweighs the data work. The expectations of one validation are
    not changed while it runs, so their configurations are computed once and kept (with the
    expectation itself, so that ids are never reused) until the piece is done.
    """
    from great_expectations.expectations.expectation import Expectation

    build = cast("property", Expectation.__dict__["configuration"]).fget
    if build is None:
        msg = "Expectation.configuration has no getter"
        raise TypeError(msg)
    kept: dict[int, tuple[Any, Any]] = {}

    def configuration(self: Expectation) -> Any:
        hit = kept.get(id(self))
        if hit is None or hit[0] is not self:
            hit = kept[id(self)] = (self, build(self))
        return hit[1]

    with mock.patch.object(Expectation, "configuration", property(configuration)):
        yield


def validate_piece(target: GxTarget, suite: gx.ExpectationSuite, frame: pd.DataFrame,
                    result_format: dict[str, Any]) -> ExpectationSuiteValidationResult:  # fmt: skip
    """GX results of ``suite`` on ``frame``, as a ``ValidationDefinition`` run makes them."""
    from great_expectations.validator.v1_validator import Validator

    validator = Validator(batch_definition=target.batch, batch_parameters={"dataframe": frame},
                          result_format=result_format)  # fmt: skip
    with _configuration_once():
        result = validator.validate_expectation_suite(suite)
    _forget_piece(target)
    return result


def _forget_piece(target: GxTarget) -> None:
    """Drop what GX's execution engine keeps of a validated piece.

    The pandas datasource reuses one engine, whose batch data and metric caches (boolean
    masks of every expectation, keyed by batch) would otherwise grow with every chunk.
    """
    engine = target.batch.data_asset.datasource.get_execution_engine()
    engine.batch_manager.reset_batch_cache()
    engine.batch_manager.batch_data_cache.clear()
    metric_cache = getattr(engine, "_metric_cache", None)
    if isinstance(metric_cache, dict):
        metric_cache.clear()
    _give_back_memory()


def _give_back_memory() -> None:
    """Return freed memory to the OS between pieces, so that RSS follows the live data.

    Arrow's allocator and glibc's malloc keep freed pages for reuse; after hundreds of MB
    per chunk were freed, the retained pages would make peak RSS grow with the chunk count.
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def store_result(context: AbstractDataContext, target: GxTarget,
                 result: ExpectationSuiteValidationResult) -> None:  # fmt: skip
    """Keep ``result`` for Data Docs exactly as ``ValidationDefinition.run`` stores it."""
    import datetime as dt

    from great_expectations.constants import DATAFRAME_REPLACEMENT_STR
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    if target.definition is None:
        msg = f"validation of {target.suite.name} is not kept for Data Docs"
        raise RuntimeError(msg)
    run_id = RunIdentifier(run_time=dt.datetime.now(dt.UTC))
    result.meta.update({
        "validation_id": target.definition.id, "checkpoint_id": None, "run_id": run_id,
        "validation_time": run_id.run_time,
        "batch_parameters": {"dataframe": DATAFRAME_REPLACEMENT_STR},
    })  # fmt: skip
    suite_id = ExpectationSuiteIdentifier(name=target.suite.name)
    key = ValidationResultIdentifier(
        batch_identifier=result.batch_id, expectation_suite_identifier=suite_id, run_id=run_id
    )
    context.validation_results_store.store_validation_results(
        suite_validation_result=result, suite_validation_result_identifier=key,
        expectation_suite_identifier=suite_id,
    )  # fmt: skip
