"""MLflow names shared by training and the studio.

Kept free of Prefect and MLflow imports so that ``app/`` can read them without paying
for those imports on every page.
"""

from __future__ import annotations

from typing import Final

REGISTERED_MODEL: Final = "evfleet-segment-energy"
CHAMPION_ALIAS: Final = "champion"
CHALLENGER_ALIAS: Final = "challenger"
EXPERIMENT_PREFIX: Final = "evfleet-energy-"
SELECTION_METRIC: Final = "valid/uncalibrated/seg_kwh_mae"
"""Validation metric that ranks families (segment kWh MAE before per-vehicle calibration)."""
