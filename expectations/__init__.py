"""Data quality of fleet datasets with Great Expectations 1.x.

One suite per table (:mod:`expectations.suites`), cross-table checks in pandas
(:mod:`evfleet.invariants`, :mod:`expectations.derived`), a runner that validates and
scores a dataset in bounded memory (:func:`validate_dataset`: tables read in chunks and
hash partitions by :mod:`expectations.sources`, validated piece by piece by
:mod:`expectations.pieces`, merged exactly by :mod:`expectations.merge`) and the report it
returns (:class:`QualityReport`). Importing this package is cheap; GX loads on first use.
"""

from __future__ import annotations

from expectations.loading import Dataset, load_user_dataset, prepare_dataset
from expectations.report import Outcome, QualityReport
from expectations.runner import validate_dataset
from expectations.suites import SUITES, Severity, build_suite

__all__ = [
    "SUITES",
    "Dataset",
    "Outcome",
    "QualityReport",
    "Severity",
    "build_suite",
    "load_user_dataset",
    "prepare_dataset",
    "validate_dataset",
]
