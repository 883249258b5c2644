"""A custom GX expectation: every contract column has its dtype, checked in one expectation.

One table-level expectation instead of one ``ExpectColumnValuesToBeOfType`` per column keeps
the suites small (GX costs ~15 ms per expectation whatever the data size). Dtypes are
compared like :func:`expectations.loading.dtype_matches` (on ``dtype.type``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from great_expectations.expectations.expectation import BatchExpectation

from expectations.loading import dtype_matches


class ExpectTableColumnDtypesToMatch(BatchExpectation):
    """Expect each listed column (if present) to have its contract dtype.

    ``column_types`` maps column names to contract dtypes of :mod:`evfleet.schema`; missing
    columns are the business of ``ExpectTableColumnsToMatchSet``. The observed value maps
    each mismatched column to its actual dtype.
    """

    column_types: dict[str, str]

    metric_dependencies: ClassVar[tuple[str, ...]] = ("table.column_types",)
    success_keys: ClassVar[tuple[str, ...]] = ("column_types",)
    args_keys: ClassVar[tuple[str, ...]] = ("column_types",)

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any] | None = None,  # noqa: ARG002 (GX signature)
        execution_engine: Any = None,  # noqa: ARG002
    ) -> dict[str, Any]:
        actual = {d["name"]: d["type"] for d in metrics["table.column_types"]}
        bad = {
            col: str(actual[col])
            for col, contract in self.column_types.items()
            if col in actual and not dtype_matches(actual[col], contract)
        }
        return {
            "success": not bad,
            "result": {"observed_value": bad or "all dtypes match", "details": {"mismatched": bad}},
        }
