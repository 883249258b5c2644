"""Compiled inference on a network-wide context: the same predictions as the libraries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evfleet.config import ModelFamily
from evfleet.features import (
    PredictionContext,
    assign_splits,
    build_features,
    network_edges,
    network_features,
)
from evfleet.models import EnergyModel, fit_model, split_frames
from evfleet.models.compiled import _constant_columns, _float32_at_most
from evfleet.models.preprocess import CategoryCoder
from tests.fixtures.ml_dataset import MLDataset

SMALL_PARAMS = {
    ModelFamily.LINEAR: {"alpha": 1.0},
    ModelFamily.RANDOM_FOREST: {
        "n_estimators": 20,
        "max_depth": 10,
        "min_samples_leaf": 3,
        "max_features": 0.7,
        "max_samples": 0.7,
    },
    ModelFamily.XGBOOST: {"learning_rate": 0.3, "max_depth": 5, "subsample": 0.8},
    ModelFamily.LIGHTGBM: {"learning_rate": 0.3, "num_leaves": 31, "subsample": 0.8},
    ModelFamily.CATBOOST: {"learning_rate": 0.3, "depth": 6},
}
TREE_FAMILIES = [f for f in ModelFamily if f is not ModelFamily.LINEAR]


@pytest.fixture(scope="module")
def frames(ml_dataset: MLDataset) -> dict[str, pd.DataFrame]:
    data = ml_dataset
    feats = build_features(
        data.segments, data.fleet_info, data.weather, nodes=data.nodes, edges=data.edges
    )
    return split_frames(assign_splits(feats, seed=3))


@pytest.fixture(scope="module")
def models(frames: dict[str, pd.DataFrame]) -> dict[ModelFamily, EnergyModel]:
    """One small model per family; a third of the training grades missing, so the trees
    learn a side for NaN."""
    train = frames["train"].copy()
    train.loc[train.index[::3], "grade"] = np.nan
    return {
        family: fit_model(family, params, train, frames["valid"], n_jobs=2)
        for family, params in SMALL_PARAMS.items()
    }


@pytest.fixture(scope="module")
def network_X(ml_dataset: MLDataset) -> pd.DataFrame:
    """Features of every edge under one context: the context's columns are constant."""
    context = PredictionContext(
        model="tesla_model_3",
        mass_kg=1980,
        battery_kwh=75,
        departure=pd.Timestamp("2024-01-16 17:30"),
        temp_c=-3.0,
        wind_kph=14,
        wind_from_deg=250,
    )
    return network_features(network_edges(ml_dataset.edges, ml_dataset.nodes), context)


@pytest.mark.parametrize("family", list(ModelFamily), ids=lambda f: f.value)
def test_network_wide_predictions_match_the_library(
    models: dict[ModelFamily, EnergyModel], family: ModelFamily, network_X: pd.DataFrame
) -> None:
    model = models[family]
    assert model.compiled is not None
    fast = model.predict(network_X)
    native = model.predict(network_X, native=True)
    np.testing.assert_allclose(fast, native, rtol=0, atol=1e-6)
    if family is not ModelFamily.LINEAR:
        Z = model.pipeline[0].transform(network_X)
        const = _constant_columns(Z)
        assert 0 < const.sum() < const.size, "the context fixes some columns, not all"


@pytest.mark.parametrize("family", TREE_FAMILIES, ids=lambda f: f.value)
@pytest.mark.parametrize("rows", [slice(None), slice(0, 1), slice(5, 6)])
def test_deciding_constant_columns_changes_no_bit(
    models: dict[ModelFamily, EnergyModel],
    family: ModelFamily,
    network_X: pd.DataFrame,
    rows: slice,
) -> None:
    model = models[family]
    Z = model.pipeline[0].transform(network_X)[rows]
    # one more row that differs in every column: no column is constant, nothing is decided
    other = np.where(np.isnan(Z[0]), 0.0, Z[0] + 1.0).astype(np.float32)
    walked = model.compiled.predict(np.vstack([Z, other]))[:-1]
    assert np.array_equal(model.compiled.predict(Z), walked)


@pytest.mark.parametrize("family", TREE_FAMILIES, ids=lambda f: f.value)
def test_missing_values_take_the_library_side(
    models: dict[ModelFamily, EnergyModel], family: ModelFamily, network_X: pd.DataFrame
) -> None:
    model = models[family]
    X = network_X.copy()
    X.loc[X.index[::4], "grade"] = np.nan
    X.loc[X.index[::7], "temp_c"] = np.nan  # a context column with some NaN: not constant
    np.testing.assert_allclose(model.predict(X), model.predict(X, native=True), rtol=0, atol=1e-6)


def test_float32_thresholds_keep_every_comparison() -> None:
    rng = np.random.default_rng(5)
    t = np.concatenate(
        [
            rng.normal(0, 50, 400),
            rng.normal(0, 50, 50).astype(np.float32).astype(np.float64),  # exact float32
            [0.0, -0.0, 1e-45, -1e-45, 3.5e38, -3.5e38, 1e300, np.inf, -np.inf],
        ]
    )
    t32 = _float32_at_most(t)
    assert t32.dtype == np.float32
    with np.errstate(over="ignore"):
        near = t.astype(np.float32)
    x = np.concatenate(
        [
            near,
            np.nextafter(near, np.float32(np.inf)),
            np.nextafter(near, np.float32(-np.inf)),
        ]
    )
    x = x[np.isfinite(x)]
    np.testing.assert_array_equal(x[:, None] <= t[None, :], x[:, None] <= t32[None, :])


def test_category_codes_are_the_same_from_strings_and_categoricals() -> None:
    coder = CategoryCoder(categorical=("c",), numeric=("x",)).fit(
        pd.DataFrame({"c": ["b", "a", "b"], "x": [1.0, 2.0, 3.0]})
    )
    values = ["b", "zzz", None, "a", "a"]
    as_category = pd.Categorical(values, categories=["zzz", "b", "a", "unused"])
    from_category = coder.transform(pd.DataFrame({"c": as_category, "x": np.arange(5.0)}))
    from_strings = coder.transform(pd.DataFrame({"c": values, "x": np.arange(5.0)}))
    np.testing.assert_array_equal(from_category[:, 0], [1.0, np.nan, np.nan, 0.0, 0.0])
    np.testing.assert_array_equal(from_strings[:, 0], [1.0, np.nan, np.nan, 0.0, 0.0])
    np.testing.assert_array_equal(from_category[:, 1], np.arange(5.0, dtype=np.float32))
