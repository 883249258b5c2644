"""Merge the GX results of one table validated piece by piece into the whole table's result.

Every expectation of the suites is either row-level (a GX map expectation: counts add up,
the first offending rows of the table are the first ones of the earliest pieces) or one of
three table-level expectations (row count adds up; the column set and dtypes are the same
in every piece, because every piece is converted by the same table-wide decisions). The
merged result is rebuilt with GX's own formatter (``_format_map_output``) and success rule
(``mostly`` over the rows considered), so it is what validating the whole table gives.

Pieces of a key-uniqueness expectation are hash partitions, not consecutive rows: their
sample rows carry their table position in :data:`expectations.sources.ROW`, by which they
are merged and which is then dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from expectations.sources import ROW

if TYPE_CHECKING:
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )

    from expectations.suites import Rule

SAME_IN_EVERY_PIECE = ("ExpectTableColumnsToMatchSet", "ExpectTableColumnDtypesToMatch")
ROW_COUNT = "ExpectTableRowCountToBeBetween"


def _samples(pieces: Sequence[ExpectationValidationResult]) -> tuple[list[Any], list[Any] | None]:
    """First offending values and index rows over the pieces, in table order."""
    values: list[Any] = []
    index: list[Any] = []
    has_index = False
    for piece in pieces:
        result = piece.result
        values += result.get("partial_unexpected_list") or []
        if "partial_unexpected_index_list" in result:
            has_index = True
            index += result["partial_unexpected_index_list"] or []
    if not has_index:
        return values, None
    if index and isinstance(index[0], dict) and ROW in index[0]:
        order = sorted(range(len(index)), key=lambda i: index[i][ROW])
        values = [values[i] for i in order] if len(values) == len(index) else values
        index = [{k: v for k, v in index[i].items() if k != ROW} for i in order]
    return values, index


def _merge_map(rule: Rule, pieces: Sequence[ExpectationValidationResult],
               result_format: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    from great_expectations.expectations.expectation import _format_map_output, _mostly_success
    from great_expectations.expectations.expectation_configuration import parse_result_format

    results = [p.result for p in pieces]
    element = sum(r["element_count"] for r in results)
    unexpected = sum(r["unexpected_count"] for r in results)
    nonnull = None
    if all("missing_count" in r for r in results):
        nonnull = element - sum(r["missing_count"] for r in results)
    considered = element if nonnull is None else nonnull
    if element == 0 or considered == 0:
        success = True
    else:
        success = _mostly_success(considered, unexpected, rule.kwargs.get("mostly", 1.0))
    values, index = _samples(pieces)
    shown = result_format["partial_unexpected_count"]
    values, index = values[:shown], None if index is None else index[:shown]
    names = result_format.get("unexpected_index_column_names")
    return _format_map_output(
        result_format=parse_result_format(result_format), success=success,
        element_count=element, nonnull_count=nonnull, unexpected_count=unexpected,
        unexpected_list=values, unexpected_index_list=index,
        unexpected_index_column_names=names if "unexpected_index_column_names" in results[0]
        else None,
    )  # fmt: skip


def merge_expectation(rule: Rule, pieces: Sequence[ExpectationValidationResult],
                      result_format: dict[str, Any]) -> ExpectationValidationResult:  # fmt: skip
    """One expectation's result over the whole table from its results on the pieces."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )

    first = pieces[0]
    failed = [p for p in pieces if (p.exception_info or {}).get("raised_exception")]
    if failed:
        return failed[0]
    if len(pieces) == 1 and rule.gx_type not in ("ExpectColumnValuesToBeUnique",
                                                 "ExpectCompoundColumnsToBeUnique"):  # fmt: skip
        return first
    if rule.gx_type in SAME_IN_EVERY_PIECE:
        return first
    if rule.gx_type == ROW_COUNT:
        total = sum(int(p.result["observed_value"]) for p in pieces)
        lo, hi = rule.kwargs.get("min_value"), rule.kwargs.get("max_value")
        success = (lo is None or total >= lo) and (hi is None or total <= hi)
        out: dict[str, Any] = {"success": success, "result": {**first.result,
                                                              "observed_value": total}}  # fmt: skip
    elif "unexpected_count" in first.result:
        out = _merge_map(rule, pieces, result_format)
    else:
        msg = f"cannot merge results of {rule.gx_type} ({rule.id}) over table pieces"
        raise TypeError(msg)
    return ExpectationValidationResult(
        success=out["success"], expectation_config=first.expectation_config,
        result=out.get("result", {}), meta=first.meta, exception_info=first.exception_info,
    )  # fmt: skip


def merge_suite(
    suite_name: str, first: ExpectationSuiteValidationResult,
    results: list[ExpectationValidationResult],
) -> ExpectationSuiteValidationResult:  # fmt: skip
    """A suite result over the whole table: merged ``results``, statistics, ``first``'s meta."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
    )
    from great_expectations.validator.validation_statistics import calc_validation_statistics

    stats = calc_validation_statistics(results)
    return ExpectationSuiteValidationResult(
        results=results, success=stats.success, suite_name=suite_name,
        statistics={
            "evaluated_expectations": stats.evaluated_expectations,
            "successful_expectations": stats.successful_expectations,
            "unsuccessful_expectations": stats.unsuccessful_expectations,
            "success_percent": stats.success_percent,
        },
        meta=dict(first.meta), batch_id=first.batch_id,
    )  # fmt: skip
