"""Preprocessing fitted on the training split only and saved inside each model.

Tree families get :class:`CategoryCoder` (category codes learned on the training split,
unknown values become missing, numbers passed through, float32); the linear family gets a
:class:`~sklearn.compose.ColumnTransformer` with median imputation plus missing
indicators, standard scaling and one-hot encoding. Both are sklearn transformers, so the
fitted state travels with the model's pipeline.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from evfleet.errors import InputDataError
from evfleet.features.catalog import CATEGORICAL_FEATURES, NUMERIC_FEATURES

TRANSFORM_CHUNK_ROWS: Final = 131_072
"""Rows converted at a time by :meth:`CategoryCoder.transform` (bounds the float64 copy of a
frame whose numbers are not one block: 48 MB for 46 columns)."""


def check_features(X: pd.DataFrame, columns: tuple[str, ...] | list[str]) -> None:
    """Raise :class:`InputDataError` naming the model inputs ``X`` lacks."""
    missing = [c for c in columns if c not in X.columns]
    if missing:
        msg = f"model input is missing feature columns: {', '.join(missing)}"
        raise InputDataError(msg)


class CategoryCoder(TransformerMixin, BaseEstimator):
    """Categorical columns to integer codes, numeric columns passed through, as float32.

    Parameters
    ----------
    categorical, numeric
        Column names; the output has the categorical codes first, then the numbers.

    Notes
    -----
    Codes follow the sorted categories seen in :meth:`fit`; a value unseen in training
    becomes NaN (tree models route it as missing). Works on string or pandas
    ``category`` columns; recoding a ``category`` column costs one pass over its codes.
    """

    def __init__(
        self,
        categorical: tuple[str, ...] = CATEGORICAL_FEATURES,
        numeric: tuple[str, ...] = NUMERIC_FEATURES,
    ) -> None:
        self.categorical = categorical
        self.numeric = numeric

    def fit(self, X: pd.DataFrame, y: Any = None) -> CategoryCoder:  # noqa: ARG002
        """Learn the categories of each categorical column."""
        check_features(X, [*self.categorical, *self.numeric])
        self.categories_ = {
            c: sorted({str(v) for v in pd.unique(X[c].astype(str))}) for c in self.categorical
        }
        self.n_features_in_ = len(self.categorical) + len(self.numeric)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Float32 matrix ``(n_rows, n_categorical + n_numeric)``, column-major.

        Column-major order makes filling it one contiguous column at a time (5x faster than
        row-major on a million rows); every consumer accepts either order.
        """
        check_features(X, [*self.categorical, *self.numeric])
        n = len(X)
        out = np.empty((n, self.n_features_in_), dtype=np.float32, order="F")
        for j, col in enumerate(self.categorical):
            values = X[col]
            if isinstance(values.dtype, pd.CategoricalDtype):
                # recode the few categories, then one gather (missing and unseen: NaN): what
                # pd.Categorical(values, categories=...) does, without a new categorical
                code_of = {c: float(i) for i, c in enumerate(self.categories_[col])}
                known = [code_of.get(c, np.nan) for c in values.dtype.categories]
                out[:, j] = np.asarray([*known, np.nan], dtype=np.float32)[values.array.codes]
                continue
            codes = pd.Categorical(values.astype(str), categories=self.categories_[col]).codes
            out[:, j] = np.where(codes >= 0, codes, np.nan)
        offset, numeric = len(self.categorical), list(self.numeric)
        for start in range(0, n, TRANSFORM_CHUNK_ROWS):
            # one block conversion per chunk (a view when X holds the numbers as one float64
            # block, as network-wide features do); float64 -> float32 rounds once, as before
            rows = slice(start, start + TRANSFORM_CHUNK_ROWS)
            out[rows, offset:] = (
                X.iloc[rows].loc[:, numeric].to_numpy(dtype=np.float64, na_value=np.nan)
            )
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:  # noqa: ARG002
        """Output column names (categoricals, then numbers)."""
        return np.asarray([*self.categorical, *self.numeric], dtype=object)


def linear_preprocessor() -> ColumnTransformer:
    """Imputation (+ missing indicators) and scaling of numbers, one-hot of categories."""
    numeric = Pipeline(
        [
            (
                "impute",
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            ),
            ("scale", StandardScaler()),
        ]
    )
    categorical = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64)
    return ColumnTransformer(
        [
            ("num", numeric, list(NUMERIC_FEATURES)),
            ("cat", categorical, list(CATEGORICAL_FEATURES)),
        ],
        verbose_feature_names_out=False,
    )
