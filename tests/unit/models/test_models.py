"""Model families, metrics, preprocessing, batch and network inference."""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import optuna
import pandas as pd
import pytest

from evfleet.config import ModelFamily
from evfleet.errors import ConfigError, InputDataError
from evfleet.features import (
    FEATURES,
    PredictionContext,
    assign_splits,
    build_features,
    network_edges,
    network_features,
)
from evfleet.features.build import planned_route
from evfleet.models import (
    EnergyModel,
    evaluate,
    fit_model,
    importance_png,
    measure_throughput,
    pred_vs_actual_png,
    predict_network,
    predict_route,
    regression_metrics,
    split_frames,
    tune_family,
)
from evfleet.models.calibration import (
    calibrated_kwh_per_km,
    calibration_factors,
    vehicle_factor,
)
from evfleet.models.families import boosting_rounds, get_family, middle_params
from evfleet.models.metrics import select_champion
from evfleet.models.preprocess import CategoryCoder
from evfleet.models.training import PREDICTORS, refit_model, tuning_frames
from tests.fixtures.ml_dataset import MLDataset


@pytest.fixture(scope="module")
def data(ml_dataset: MLDataset) -> MLDataset:
    return ml_dataset


@pytest.fixture(scope="module")
def table(data: MLDataset) -> pd.DataFrame:
    feats = build_features(
        data.segments, data.fleet_info, data.weather, nodes=data.nodes, edges=data.edges
    )
    return assign_splits(feats, seed=7)


@pytest.fixture(scope="module")
def model(table: pd.DataFrame) -> EnergyModel:
    frames = split_frames(table)
    return fit_model(
        "lightgbm",
        {"num_leaves": 15, "learning_rate": 0.1},
        frames["train"],
        frames["valid"],
        seed=0,
        n_jobs=1,
    )


def test_a_model_trained_on_simulator_output_predicts_held_out_trips(
    table: pd.DataFrame, model: EnergyModel
) -> None:
    # End to end on the real generator: simulator -> features -> splits -> LightGBM ->
    # held-out days. Measured: trip MAPE 11.1 % (train-mean baseline 32.9 %), segment
    # kWh/km R^2 0.85, over 91 held-out trips; the bounds leave a wide margin.
    frames = split_frames(table)
    test = frames["test"]
    metrics = evaluate(test, model.predict(test))
    baseline = evaluate(test, np.full(len(test), frames["train"]["kwh_per_km"].mean()))
    assert metrics["n_trips"] >= 50
    assert metrics["trip_kwh_mape"] < 20.0
    assert metrics["trip_kwh_mape"] < 0.5 * baseline["trip_kwh_mape"]
    assert metrics["seg_kwh_per_km_r2"] > 0.6


@pytest.mark.parametrize("family", list(ModelFamily))
def test_each_family_beats_the_mean_baseline(table: pd.DataFrame, family: ModelFamily) -> None:
    result = tune_family(table, family, n_trials=1, timeout_s=30, seed=0, n_jobs=2)
    test, baseline = result.metrics["test/calibrated"], result.metrics["test/train_mean"]
    assert test["seg_kwh_mae"] < 0.8 * baseline["seg_kwh_mae"]
    assert test["trip_kwh_mape"] < baseline["trip_kwh_mape"]
    assert test["seg_kwh_per_km_r2"] > 0.3
    assert {f"time_test/{p}" for p in PREDICTORS} <= set(result.metrics)
    assert len(result.study.trials) == 1
    assert result.importances.index[0] in FEATURES
    test_rows = split_frames(table)["test"]
    np.testing.assert_allclose(
        result.model.predict(test_rows), result.model.predict(test_rows, native=True), atol=1e-6
    )
    assert result.model.compiled is not None
    if family in (ModelFamily.XGBOOST, ModelFamily.LIGHTGBM, ModelFamily.CATBOOST):
        assert result.study.trials[0].intermediate_values, "boosting trials report to the pruner"
        # the deployed model is the refit on train + valid with the rounds early stopping kept
        assert result.params["rounds"] >= 1
        assert (
            boosting_rounds(result.model.pipeline.named_steps["model"]) == result.params["rounds"]
        )


def test_refit_learns_from_validation_rows_too(table: pd.DataFrame, model: EnergyModel) -> None:
    frames = split_frames(table)
    both = pd.concat([frames["train"], frames["valid"]])
    refit = refit_model(model, {"num_leaves": 15, "learning_rate": 0.1}, both, n_jobs=1)
    rounds = boosting_rounds(model.pipeline.named_steps["model"])
    assert refit.params["rounds"] == rounds
    assert refit.pipeline.named_steps["model"].n_estimators_ == rounds
    valid_mae = np.abs(refit.predict(frames["valid"]) - frames["valid"]["kwh_per_km"]).mean()
    tuned_mae = np.abs(model.predict(frames["valid"]) - frames["valid"]["kwh_per_km"]).mean()
    assert valid_mae < tuned_mae  # it has now seen those vehicles
    with pytest.raises(ConfigError, match="needs rounds >= 1"):
        fit_model("lightgbm", {}, both, None, rounds=None)


def test_tuning_is_reproducible(table: pd.DataFrame) -> None:
    first = tune_family(table, "linear", n_trials=2, timeout_s=30, seed=4)
    second = tune_family(table, "linear", n_trials=2, timeout_s=30, seed=4)
    assert first.params == second.params
    assert first.metrics["test/calibrated"] == second.metrics["test/calibrated"]


def test_the_physics_prior_baseline_is_scored_on_the_same_rows(table: pd.DataFrame) -> None:
    result = tune_family(table, "linear", n_trials=1, timeout_s=30, seed=0)
    for evaluation, scheme in (("test", "vehicle"), ("time_test", "time")):
        rows = split_frames(table, scheme)["test"]
        prior = result.metrics[f"{evaluation}/physics_prior"]
        assert prior == evaluate(rows, rows["physics_prior_kwh_per_km"].to_numpy())
        model = result.metrics[f"{evaluation}/calibrated"]
        assert model["n_segments"] == prior["n_segments"] == len(rows)
    assert set(result.metrics) == {"valid/uncalibrated"} | {
        f"{e}/{p}" for e in ("test", "time_test") for p in PREDICTORS
    }


def test_tuning_never_sees_the_held_out_days(table: pd.DataFrame) -> None:
    """Scrambling the energies of the time split's held-out days changes no tuning result."""
    held = table["split_time"].to_numpy() != "train"
    assert held.any()
    scrambled = table.copy()
    rng = np.random.default_rng(3)
    scrambled.loc[held, "kwh_per_km"] = rng.uniform(0.0, 1.0, int(held.sum()))
    scrambled.loc[held, "energy_kwh"] = (
        scrambled.loc[held, "kwh_per_km"] * scrambled.loc[held, "length_m"] / 1000.0
    )
    first = tune_family(table, "lightgbm", n_trials=2, timeout_s=60, seed=1, n_jobs=1)
    second = tune_family(scrambled, "lightgbm", n_trials=2, timeout_s=60, seed=1, n_jobs=1)
    assert [t.params for t in first.study.trials] == [t.params for t in second.study.trials]
    assert [t.value for t in first.study.trials] == [t.value for t in second.study.trials]
    frames = tuning_frames(split_frames(table))
    assert set(frames["train"]["split_time"]) == set(frames["valid"]["split_time"]) == {"train"}


def test_unknown_family_is_a_config_error(table: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="unknown model family 'svm'; choose from: linear"):
        tune_family(table, "svm", n_trials=1, timeout_s=5)


def test_predictions_in_kwh_per_km_and_kwh(model: EnergyModel, table: pd.DataFrame) -> None:
    out = model.predict_energy(table, batch_size=333)
    np.testing.assert_allclose(out["kwh_per_km"], model.predict(table))
    np.testing.assert_allclose(out["energy_kwh"], out["kwh_per_km"] * table["length_m"] / 1000)
    assert model.predict(table.iloc[:0]).shape == (0,)
    with pytest.raises(InputDataError, match="missing feature columns: grade"):
        model.predict(table.drop(columns=["grade"]))


def test_string_and_category_inputs_predict_identically(
    model: EnergyModel, table: pd.DataFrame
) -> None:
    as_str = table.astype(
        {c: str for c in FEATURES if isinstance(table[c].dtype, pd.CategoricalDtype)}
    )
    np.testing.assert_array_equal(model.predict(as_str), model.predict(table))


def test_category_coder_learns_on_training_rows_only() -> None:
    train = pd.DataFrame({"c": ["a", "b", "a"], "x": [1.0, np.nan, 3.0]})
    coder = CategoryCoder(categorical=("c",), numeric=("x",)).fit(train)
    out = coder.transform(pd.DataFrame({"c": ["b", "zzz"], "x": [5.0, 6.0]}))
    assert out.dtype == np.float32
    assert out[0, 0] == 1.0
    assert np.isnan(out[1, 0])
    np.testing.assert_array_equal(out[:, 1], [5.0, 6.0])


def test_regression_metrics_known_values() -> None:
    m = regression_metrics(np.array([1.0, 2.0, 3.0, 0.001]), np.array([1.5, 2.0, 2.0, 0.001]))
    assert m["mae"] == pytest.approx(0.375)
    assert m["rmse"] == pytest.approx(np.sqrt((0.25 + 1.0) / 4))
    assert m["mape"] == pytest.approx(100 * (0.5 + 0 + 1 / 3) / 3)
    assert m["wape"] == pytest.approx(100 * 1.5 / 6.001)
    table = pd.DataFrame(
        {
            "trip_id": ["a", "a", "b"],
            "length_m": [1000.0, 2000.0, 500.0],
            "energy_kwh": [0.2, 0.3, 0.1],
            "kwh_per_km": [0.2, 0.15, 0.2],
        }
    )
    ev = evaluate(table, np.array([0.2, 0.15, 0.4]))
    assert ev["seg_kwh_per_km_mae"] == pytest.approx(0.2 / 3)
    assert ev["trip_kwh_mae"] == pytest.approx(0.05)
    assert ev["n_trips"] == 2


def test_network_prediction_one_row_per_edge(model: EnergyModel, data: MLDataset) -> None:
    edges = network_edges(data.edges, data.nodes)
    context = PredictionContext(
        model="tesla_model_3",
        mass_kg=1980,
        battery_kwh=75,
        departure=pd.Timestamp("2024-01-16 08:30"),
        temp_c=5.0,
        wind_kph=10,
        wind_from_deg=270,
    )
    out = predict_network(model, edges, context, batch_size=100)
    assert len(out) == len(data.edges)
    assert list(out.columns) == ["u", "v", "key", "length_m", "kwh_per_km", "energy_kwh"]
    assert np.isfinite(out["energy_kwh"]).all()
    uphill = data.edges["grade"].to_numpy() > 0.02
    downhill = data.edges["grade"].to_numpy() < -0.02
    assert out.loc[uphill, "kwh_per_km"].mean() > out.loc[downhill, "kwh_per_km"].mean()
    whole = predict_network(model, edges, context)
    np.testing.assert_allclose(whole["energy_kwh"], out["energy_kwh"])
    assert measure_throughput(model, network_features(edges, context), repeats=1) > 0


def test_route_prediction_marks_the_ends(model: EnergyModel, data: MLDataset) -> None:
    edges = network_edges(data.edges, data.nodes)
    context = PredictionContext(
        model="nissan_leaf",
        mass_kg=1700,
        battery_kwh=39,
        departure=pd.Timestamp("2024-01-16 12:00"),
        temp_c=12.0,
    )
    route = edges.iloc[[3, 10, 20, 40]].reset_index(drop=True)
    legs = predict_route(model, route, context)
    around = planned_route(route, context.departure.to_datetime64())
    assert around["trip_elapsed_min"][0] == 0.0
    assert around["planned_time"][0] == context.departure.to_datetime64()
    assert np.all(np.diff(around["planned_time"]) > np.timedelta64(0, "us"))
    assert np.all(np.diff(around["trip_elapsed_min"]) > 0)
    assert around["prev_expected_speed_kph"][0] == 0.0 == around["next_expected_speed_kph"][-1]
    ends = {"is_trip_start": [1.0, 0, 0, 0], "is_trip_end": [0, 0, 0, 1.0]}
    same = predict_network(model, route.assign(**around, **ends), context)
    assert len(legs) == 4
    np.testing.assert_allclose(legs["energy_kwh"], same["energy_kwh"])
    # a through edge (no route around it) is costed differently from a route's first edge
    through = predict_network(model, route, context)
    assert not np.isclose(legs["energy_kwh"].iloc[0], through["energy_kwh"].iloc[0])
    assert np.isfinite(legs["energy_kwh"]).all()


def test_plots_are_written(model: EnergyModel, table: pd.DataFrame, tmp_path) -> None:
    test = split_frames(table)["test"]
    preds = test.assign(pred_kwh_per_km=model.predict(test))
    imp = pd.Series({"grade": 0.002, "length_m": 0.001})
    assert importance_png(imp, tmp_path / "imp.png", title="t").stat().st_size > 1000
    assert pred_vs_actual_png(preds, tmp_path / "pva.png", title="t").stat().st_size > 1000


def _calibration_rows() -> pd.DataFrame:
    days = pd.to_datetime(["2024-01-15 08:00", "2024-01-16 08:00", "2024-01-17 08:00"])
    return pd.DataFrame(
        {
            "vehicle_id": ["A"] * 3 + ["B"] * 3,
            "start_time": list(days) * 2,
            "length_m": [10_000.0] * 6,
            "energy_kwh": [2.4, 2.4, 2.4, 1.0, 1.0, 1.0],
        }
    )


def test_calibration_learns_each_vehicles_bias_from_earlier_days_only() -> None:
    rows = _calibration_rows()
    predicted = np.full(6, 2.0)  # A really uses 20 % more, B half
    f = calibration_factors(predicted, rows, prior_km=0.0).set_index(["vehicle_id", "day"])
    assert f["factor"].iloc[0] == 1.0  # a first day has no history
    np.testing.assert_allclose(f.loc["A", "factor"].iloc[1:], 1.2)
    np.testing.assert_allclose(f.loc["B", "factor"].iloc[1:], 0.5)
    shrunk = calibration_factors(predicted, rows, prior_km=10.0)["factor"].to_numpy()
    assert 1.0 < shrunk[1] < 1.2  # 10 km of history is shrunk half-way with 10 km of prior
    changed = rows.assign(energy_kwh=np.where(np.arange(6) == 2, 9.9, rows["energy_kwh"]))
    later = calibration_factors(predicted, changed, prior_km=0.0)["factor"].to_numpy()
    np.testing.assert_allclose(later[:3], f.loc["A", "factor"].to_numpy())  # no look-ahead


def test_vehicle_factor_and_context_scale_predictions(
    model: EnergyModel, table: pd.DataFrame, data: MLDataset
) -> None:
    vehicle = str(table["vehicle_id"].iloc[0])
    last_day = table.loc[table["vehicle_id"] == vehicle, "start_time"].max().normalize()
    factor = vehicle_factor(model, table, vehicle, last_day)
    own = table.loc[table["vehicle_id"] == vehicle]
    calibrated = calibrated_kwh_per_km(model.predict(own), own)
    on_last_day = (own["start_time"].dt.normalize() == last_day).to_numpy()
    np.testing.assert_allclose(calibrated[on_last_day], model.predict(own)[on_last_day] * factor)
    assert vehicle_factor(model, table, vehicle, own["start_time"].min()) == 1.0
    edges = network_edges(data.edges, data.nodes).iloc[:20]
    base = {"model": "nissan_leaf", "mass_kg": 1700.0, "battery_kwh": 39.0, "temp_c": 5.0}
    when = pd.Timestamp("2024-01-16 12:00")
    plain = predict_network(model, edges, PredictionContext(**base, departure=when))
    scaled = predict_network(
        model, edges, PredictionContext(**base, departure=when, calibration=1.25)
    )
    np.testing.assert_allclose(scaled["energy_kwh"], 1.25 * plain["energy_kwh"])
    with pytest.raises(InputDataError, match="calibration must be within"):
        PredictionContext(**base, departure=when, calibration=0.0)


def test_a_pickled_model_is_recompiled_on_load(model: EnergyModel, table: pd.DataFrame) -> None:
    import pickle

    state = model.__getstate__()
    assert state["compiled"] is None  # the derived kernel is not stored
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded.compiled is not None
    assert loaded.compiled is not model.compiled
    np.testing.assert_allclose(loaded.predict(table), model.predict(table))


def test_champion_is_the_lowest_mae_or_the_fastest_of_a_near_tie() -> None:
    rows = [
        {"family": "xgboost", "mae": 0.013196, "speed": 0.15e6},
        {"family": "catboost", "mae": 0.013204, "speed": 1.07e6},
        {"family": "linear", "mae": 0.019, "speed": 3.3e6},
    ]
    pick = partial(select_champion, metric="mae", speed="speed")
    assert pick(rows, tolerance=0.0)["family"] == "xgboost"
    assert pick(rows, tolerance=0.01)["family"] == "catboost"  # 0.06 % apart: a tie
    assert pick(rows, tolerance=0.2)["family"] == "catboost"  # linear is 44 % worse
    with pytest.raises(ValueError, match="no candidate"):
        pick([], tolerance=0.01)


@pytest.mark.parametrize("family", list(ModelFamily))
def test_middle_params_are_a_point_of_the_search_space(family: ModelFamily) -> None:
    """The benches' stand-in size: every value inside its range (Optuna warns otherwise),
    on the integer step grid, geometric middle of log ranges."""
    params = middle_params(family)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert get_family(family).suggest(optuna.trial.FixedTrial(params)) == params
    if "learning_rate" in params:
        assert params["learning_rate"] == pytest.approx((0.08 * 0.3) ** 0.5)
    if family is ModelFamily.RANDOM_FOREST:
        assert params["n_estimators"] == 100  # (40 + 160) / 2 on the step-20 grid
        assert params["min_samples_leaf"] == 9  # sqrt(2 * 40) = 8.9
