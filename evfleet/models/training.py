"""Tune, fit and evaluate one model family on a split feature table.

:func:`tune_family` runs an Optuna study (seeded TPE sampler, median pruner for the
boosting families) under a trial and time budget and keeps the best model by validation
MAE of segment energy. That model is then refitted with the same hyperparameters (and
the boosting rounds early stopping kept) on training plus validation rows, the usual
last step once tuning is done: the held-out vehicles (``split_vehicle``) evaluate this
refit, which is the model returned and deployed; the held-out last days
(``split_time``) evaluate the same recipe run on the time split. Tuning only sees rows
before the held-out days, so the time split's hyperparameters never saw its test days.
Test predictions are calibrated per vehicle from its own earlier days
(:mod:`evfleet.models.calibration`).

Metrics are keyed ``<evaluation>/<predictor>`` (:data:`EVALUATIONS`, :data:`PREDICTORS`):
every family reports the same names, next to two baselines without learning (the
physics prior feature as the prediction, and the training mean) on the same rows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import optuna
import pandas as pd
from sklearn.pipeline import Pipeline

from evfleet.config import ModelFamily
from evfleet.errors import ConfigError, InputDataError
from evfleet.features.catalog import ENERGY, FEATURES, SPLIT_COLUMNS, TARGET
from evfleet.features.splits import SPLITS, sample_trips
from evfleet.models.calibration import calibrated_kwh_per_km
from evfleet.models.compiled import compile_regressor
from evfleet.models.energy_model import PRIOR_COLUMN, EnergyModel
from evfleet.models.families import (
    REPORT_EVERY,
    FitData,
    boosting_rounds,
    get_family,
    set_threads,
)
from evfleet.models.metrics import evaluate, permutation_importance
from evfleet.models.preprocess import CategoryCoder, check_features, linear_preprocessor
from evfleet.units import M_PER_KM

logger = logging.getLogger(__name__)

IMPORTANCE_ROWS: Final = 2000
PARALLEL_MIN_ROWS: Final = 100_000
"""Smaller training sets fit on one thread: thread synchronisation would cost more than it
saves (measured 2-20x slower on a shared 2-core machine); prediction keeps ``n_jobs``."""
EVAL_COLUMNS: Final = ("trip_id", "vehicle_id", "length_m", ENERGY, TARGET)
EVALUATIONS: Final = ("valid", "test", "time_test")
"""Row sets: validation vehicles (tuning), held-out vehicles, held-out last days."""
PREDICTORS: Final = ("calibrated", "uncalibrated", "physics_prior", "train_mean")
"""``calibrated``: the deployed model with per-vehicle calibration; ``uncalibrated``: the
model alone; ``physics_prior``: the prior feature as the prediction (no learning);
``train_mean``: the length-weighted training mean kWh/km."""
Callback = Callable[[optuna.Study, optuna.trial.FrozenTrial], None]


@dataclass
class FamilyResult:
    """Everything the caller needs to log one tuned family.

    Attributes
    ----------
    metrics
        Keyed ``<evaluation>/<predictor>`` (see :func:`metric_key`): ``valid/uncalibrated``
        (the tuned model), ``test/*`` (held-out vehicles; the refit model calibrated per
        vehicle, uncalibrated, and the two baselines) and ``time_test/*`` (held-out last
        days, the same four; absent when the data has no time split).
    test_predictions
        Held-out-vehicle rows with ``pred_kwh_per_km`` (for plots).
    """

    family: str
    model: EnergyModel
    params: dict[str, Any]
    study: optuna.Study
    tuning_s: float
    metrics: dict[str, dict[str, float]]
    importances: pd.Series
    test_predictions: pd.DataFrame = field(repr=False)


def metric_key(evaluation: str, predictor: str) -> str:
    """Key of one metric group: ``<evaluation>/<predictor>``, e.g. ``test/calibrated``."""
    if evaluation not in EVALUATIONS or predictor not in PREDICTORS:
        msg = f"unknown metric group {evaluation}/{predictor}"
        raise ValueError(msg)
    return f"{evaluation}/{predictor}"


def split_frames(table: pd.DataFrame, scheme: str = "vehicle") -> dict[str, pd.DataFrame]:
    """The ``train``, ``valid`` and ``test`` rows of ``table`` under a split scheme."""
    column = SPLIT_COLUMNS[scheme]
    check_features(table, [*FEATURES, *EVAL_COLUMNS, column])
    return {
        name: table.loc[table[column].to_numpy() == name].reset_index(drop=True) for name in SPLITS
    }


def fit_model(
    family: str | ModelFamily,
    params: dict[str, Any],
    train: pd.DataFrame,
    valid: pd.DataFrame | None,
    *,
    seed: int = 0,
    n_jobs: int = 2,
    target_transform: str = "physics_residual",
    trial: optuna.Trial | None = None,
    rounds: int | None = None,
) -> EnergyModel:
    """Fit preprocessing on ``train`` only, then the regressor (early stopping on ``valid``).

    With ``valid=None`` (the final refit) boosting families fit exactly ``rounds`` rounds.
    ``n_jobs`` threads are used for prediction, and for fitting from
    :data:`PARALLEL_MIN_ROWS` training rows on.
    """
    fam = get_family(family)
    pre = linear_preprocessor() if fam.encoding == "onehot" else CategoryCoder()
    X_train = train.loc[:, list(FEATURES)]
    pre.fit(X_train)
    shell = EnergyModel(
        fam.name.value, Pipeline([("prep", pre)]), target_transform=target_transform
    )
    if valid is None:
        held: dict[str, Any] = {"rounds": rounds}
    else:
        X_valid = valid.loc[:, list(FEATURES)]
        held = {
            "X_valid": pre.transform(X_valid),
            "y_valid": shell.to_target(X_valid, valid[TARGET].to_numpy(dtype=np.float64)),
            "w_valid": valid["length_m"].to_numpy(dtype=np.float64) / M_PER_KM,
        }
    data = FitData(
        X_train=pre.transform(X_train),
        y_train=shell.to_target(X_train, train[TARGET].to_numpy(dtype=np.float64)),
        w_train=train["length_m"].to_numpy(dtype=np.float64) / M_PER_KM,
        **held,
    )
    fit_jobs = n_jobs if len(train) >= PARALLEL_MIN_ROWS else 1
    regressor = fam.fit(params, data, seed, fit_jobs, trial if fam.prunable else None)
    set_threads(regressor, n_jobs)
    pipeline = Pipeline([("prep", pre), ("model", regressor)])
    return EnergyModel(
        fam.name.value,
        pipeline,
        target_transform=target_transform,
        params=params,
        compiled=compile_regressor(pre, regressor),
    )


def refit_model(
    tuned: EnergyModel,
    params: dict[str, Any],
    rows: pd.DataFrame,
    *,
    seed: int = 0,
    n_jobs: int = 2,
) -> EnergyModel:
    """Refit a tuned model's family and hyperparameters on ``rows`` (training plus
    validation): as many rounds as early stopping kept, new vehicles and days to learn
    from. The refit model is the one evaluated on the test split and deployed."""
    rounds = boosting_rounds(tuned.pipeline.named_steps["model"])
    model = fit_model(
        tuned.family,
        params,
        rows,
        None,
        seed=seed,
        n_jobs=n_jobs,
        target_transform=tuned.target_transform,
        rounds=rounds,
    )
    if rounds is not None:
        model.params = {**params, "rounds": rounds}
    return model


def score_held_out_vehicles(model: EnergyModel, table: pd.DataFrame) -> dict[str, float]:
    """Metrics of ``model`` on a split table's held-out vehicles, calibrated per vehicle
    as in training (``test/calibrated``): how a champion and a newcomer are compared on
    the same rows."""
    test = split_frames(table, "vehicle")["test"]
    return evaluate(test, calibrated_kwh_per_km(model.predict(test), test))


def _segment_energy_mae(model: EnergyModel, frame: pd.DataFrame) -> float:
    pred_kwh = model.predict(frame) * frame["length_m"].to_numpy() / M_PER_KM
    return float(np.mean(np.abs(pred_kwh - frame[ENERGY].to_numpy())))


def _held_out_metrics(
    evaluation: str,
    held: pd.DataFrame,
    train: pd.DataFrame,
    raw: np.ndarray,
    calibrated: np.ndarray,
) -> dict[str, dict[str, float]]:
    """The four predictors' metrics on the same held-out rows: the model calibrated and
    not, the physics prior alone and the training mean (what learning must beat)."""
    mean = float(train[ENERGY].sum() / (train["length_m"].sum() / M_PER_KM))
    predictions = {
        "calibrated": calibrated,
        "uncalibrated": raw,
        "physics_prior": held[PRIOR_COLUMN].to_numpy(dtype=np.float64),
        "train_mean": np.full(len(held), mean),
    }
    return {metric_key(evaluation, k): evaluate(held, v) for k, v in predictions.items()}


def tuning_frames(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Training and validation vehicles' rows before the held-out days of the time split
    (all rows when the data has no time split): tuning never sees a held-out day."""
    column = SPLIT_COLUMNS["time"]
    out = {
        name: frames[name].loc[frames[name][column].to_numpy() == "train"].reset_index(drop=True)
        for name in ("train", "valid")
    }
    for name, frame in out.items():
        if frame.empty:
            msg = f"no {name} vehicle drove before the held-out days; the dataset is too small"
            raise InputDataError(msg)
    return out


def tune_family(
    table: pd.DataFrame,
    family: str | ModelFamily,
    *,
    n_trials: int,
    timeout_s: float,
    seed: int = 0,
    n_jobs: int = 2,
    sample_fraction: float = 1.0,
    target_transform: str = "physics_residual",
    callbacks: Sequence[Callback] = (),
) -> FamilyResult:
    """Tune ``family`` with Optuna and evaluate the best model on both held-out sets.

    Parameters
    ----------
    table
        Feature table with ``split_vehicle`` and ``split_time`` labels.
    n_trials, timeout_s
        Budget of the study (whichever ends first; a running trial finishes).
    seed
        Seeds the sampler, the regressors and the training-trip sample.
    n_jobs
        Threads of the regressors.
    sample_fraction
        Share of training trips used (whole trips, seeded).
    callbacks
        Optuna callbacks called after each trial (e.g. experiment tracking).
    """
    fam = get_family(family)
    frames = split_frames(table, "vehicle")
    for name, frame in frames.items():
        if frame.empty:
            msg = f"the {name} split of the vehicle split is empty; the dataset is too small"
            raise InputDataError(msg)
    tuning = tuning_frames(frames)
    train = tuning["train"]
    train = train.loc[sample_trips(train["trip_id"], sample_fraction, seed=seed)]
    valid = tuning["valid"]
    best: dict[str, Any] = {"value": np.inf}

    def objective(trial: optuna.Trial) -> float:
        params = fam.suggest(trial)
        model = fit_model(
            fam.name,
            params,
            train,
            valid,
            seed=seed,
            n_jobs=n_jobs,
            target_transform=target_transform,
            trial=trial,
        )
        value = _segment_energy_mae(model, valid)
        if value < best["value"]:
            best.update(value=value, model=model, params=params)
        return value

    pruner: optuna.pruners.BasePruner = (
        optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=3 * REPORT_EVERY)
        if fam.prunable
        else optuna.pruners.NopPruner()
    )
    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=pruner,
        study_name=fam.name.value,
    )
    started = time.perf_counter()
    study.optimize(objective, n_trials=n_trials, timeout=timeout_s, callbacks=list(callbacks))
    tuning_s = time.perf_counter() - started
    if "model" not in best:
        msg = (
            f"no {fam.name.value} trial finished within {n_trials} trials / {timeout_s:g} s; "
            "raise training.timeout_s or training.n_trials"
        )
        raise ConfigError(msg)
    model: EnergyModel = best["model"]
    logger.info(
        "%s: best valid MAE %.5f kWh after %d trials", fam.name, best["value"], len(study.trials)
    )
    return _evaluate(
        fam.name.value,
        model,
        best["params"],
        study,
        tuning_s,
        table,
        {**frames, "tuning_valid": valid},
        seed,
        n_jobs,
        target_transform,
    )


def _evaluate(
    family: str,
    model: EnergyModel,
    params: dict[str, Any],
    study: optuna.Study,
    tuning_s: float,
    table: pd.DataFrame,
    frames: dict[str, pd.DataFrame],
    seed: int,
    n_jobs: int,
    target_transform: str,
) -> FamilyResult:
    """Validation metrics of the tuned model; test metrics of its refit on train + valid.

    Test predictions are calibrated per vehicle from its earlier days
    (:mod:`evfleet.models.calibration`); the baselines are scored on the same rows.
    """
    test, valid = frames["test"], frames["tuning_valid"]
    refit_rows = pd.concat([frames["train"], frames["valid"]])
    final = refit_model(model, params, refit_rows, seed=seed, n_jobs=n_jobs)
    test_raw = final.predict(test)
    test_pred = calibrated_kwh_per_km(test_raw, test)
    metrics = {metric_key("valid", "uncalibrated"): evaluate(valid, model.predict(valid))}
    metrics |= _held_out_metrics("test", test, refit_rows, test_raw, test_pred)
    time_frames = split_frames(table, "time")
    if all(len(f) for f in time_frames.values()):
        tuned_time = fit_model(
            family,
            params,
            time_frames["train"],
            time_frames["valid"],
            seed=seed,
            n_jobs=n_jobs,
            target_transform=target_transform,
        )
        time_rows = pd.concat([time_frames["train"], time_frames["valid"]])
        refit = refit_model(tuned_time, params, time_rows, seed=seed, n_jobs=n_jobs)
        held = time_frames["test"]
        held_raw = refit.predict(held)
        calibrated = calibrated_kwh_per_km(
            held_raw, held, history=table, history_kwh_per_km=refit.predict(table)
        )
        metrics |= _held_out_metrics("time_test", held, time_rows, held_raw, calibrated)
    # importances on validation rows the tuned model never saw
    sample = valid.sample(n=min(IMPORTANCE_ROWS, len(valid)), random_state=seed)
    importances = permutation_importance(
        model.predict, sample.loc[:, list(FEATURES)], sample[ENERGY].to_numpy(), seed=seed
    )
    predictions = test.loc[:, list(EVAL_COLUMNS)].assign(pred_kwh_per_km=test_pred)
    return FamilyResult(
        family, final, final.params, study, tuning_s, metrics, importances, predictions
    )
