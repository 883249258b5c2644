"""A fitted per-segment energy model: preprocessing, regressor and target transform.

:class:`EnergyModel` is what gets logged, registered and loaded back: ``predict`` returns
kWh/km (the MLflow pyfunc entry point), :meth:`EnergyModel.predict_energy` returns kWh/km
and kWh for each row, in batches.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from evfleet.errors import InputDataError
from evfleet.features.catalog import FEATURES, TARGET
from evfleet.models.compiled import CompiledModel, LinearKernel, compile_regressor
from evfleet.models.preprocess import check_features
from evfleet.units import M_PER_KM

logger = logging.getLogger(__name__)

TARGET_TRANSFORMS: Final = ("none", "physics_residual")
"""``physics_residual``: the regressor learns kWh/km minus the fixed physics prior."""
PRIOR_COLUMN: Final = "physics_prior_kwh_per_km"


class EnergyModel:
    """Predict segment energy from :data:`evfleet.features.catalog.FEATURES`.

    Parameters
    ----------
    family
        Model family name.
    pipeline
        Fitted sklearn pipeline (preprocessor, regressor) mapping features to the
        (transformed) target.
    target_transform
        One of :data:`TARGET_TRANSFORMS`.
    params
        Hyperparameters of the regressor (for the record).
    compiled
        Optional compiled form of the pipeline (:mod:`evfleet.models.compiled`) used by
        :meth:`predict`; the pipeline stays the reference (``native=True``).
    """

    def __init__(
        self,
        family: str,
        pipeline: Pipeline,
        *,
        target_transform: str = "physics_residual",
        params: dict[str, Any] | None = None,
        compiled: CompiledModel | None = None,
    ) -> None:
        if target_transform not in TARGET_TRANSFORMS:
            msg = f"unknown target transform {target_transform!r}; use one of {TARGET_TRANSFORMS}"
            raise InputDataError(msg)
        self.family = family
        self.pipeline = pipeline
        self.target_transform = target_transform
        self.params = dict(params or {})
        self.compiled = compiled
        self.features: tuple[str, ...] = FEATURES

    def __repr__(self) -> str:
        return f"EnergyModel(family={self.family!r}, target_transform={self.target_transform!r})"

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the compiled form: it is derived, and rebuilt on load by the
        code that will run it (a model saved by an older release gets today's kernels)."""
        state = self.__dict__.copy()
        state["compiled"] = None
        state["_compiled_on_load"] = self.compiled is not None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore, then recompile the fitted pipeline when it was compiled before."""
        compile_it = bool(state.pop("_compiled_on_load", state.get("compiled") is not None))
        self.__dict__.update(state)
        self.compiled = None
        if compile_it and len(self.pipeline.steps) > 1:
            self.compiled = compile_regressor(self.pipeline[0], self.pipeline[-1])

    def to_target(self, X: pd.DataFrame, kwh_per_km: np.ndarray) -> np.ndarray:
        """The regressor's training target for true kWh/km values."""
        if self.target_transform == "physics_residual":
            return np.asarray(kwh_per_km - X[PRIOR_COLUMN].to_numpy(dtype=np.float64))
        return np.asarray(kwh_per_km, dtype=np.float64)

    def predict(self, X: pd.DataFrame, *, native: bool = False) -> np.ndarray:
        """Predicted energy per km (kWh/km) of each row of ``X``.

        Uses the compiled form when there is one, unless ``native`` asks for the sklearn
        pipeline (the reference; both agree to float rounding).
        """
        check_features(X, self.features)
        if len(X) == 0:
            return np.empty(0, dtype=np.float64)
        if native or self.compiled is None:
            raw = np.asarray(self.pipeline.predict(X), dtype=np.float64).reshape(-1)
        elif isinstance(self.compiled, LinearKernel):
            raw = self.compiled.predict_frame(X)
        else:
            raw = self.compiled.predict(self.pipeline[0].transform(X))
        if self.target_transform == "physics_residual":
            raw = raw + X[PRIOR_COLUMN].to_numpy(dtype=np.float64)
        return raw

    def predict_energy(self, X: pd.DataFrame, *, batch_size: int = 1_000_000) -> pd.DataFrame:
        """Predicted ``kwh_per_km`` and ``energy_kwh`` (times ``length_m``) of each row.

        Rows are predicted in batches of ``batch_size`` to bound memory.
        """
        if batch_size < 1:
            msg = f"batch_size must be >= 1, got {batch_size}"
            raise InputDataError(msg)
        parts = [
            self.predict(X.iloc[start : start + batch_size])
            for start in range(0, max(len(X), 1), batch_size)
        ]
        per_km = np.concatenate(parts) if parts else np.empty(0)
        km = X["length_m"].to_numpy(dtype=np.float64) / M_PER_KM
        return pd.DataFrame({TARGET: per_km, "energy_kwh": per_km * km}, index=X.index)
