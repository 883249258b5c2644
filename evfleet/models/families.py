"""The five model families: search spaces, estimators and fitting with early stopping.

Every family is fitted on the preprocessed training split with the segment length (km) as
sample weight, so a squared-error fit on kWh/km weighs errors in kWh. The boosting
families stop early on the validation split and report its weighted MAE to Optuna every
few rounds, so unpromising trials are pruned mid-fit.

The search spaces keep ensembles compact (learning rate >= 0.08, at most
:data:`MAX_BOOSTING_ROUNDS` rounds, CatBoost at most 6 deep, XGBoost 7, LightGBM 64
leaves, forests 16 deep): on noisy segment energies a smaller learning rate or deeper trees
buy no accuracy (measured on the demo dataset: CatBoost depth 8 x 475 rounds and depth 6 x
400 rounds both give 4.9 % trip MAPE on held-out vehicles) but multiply the work of the
router's batch predictions, which must stay above a million edges per second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import catboost as cb
import lightgbm as lgb
import numpy as np
import optuna
import xgboost as xgb
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge

from evfleet.config import ModelFamily
from evfleet.errors import ConfigError

MAX_BOOSTING_ROUNDS: Final = 400
EARLY_STOPPING_ROUNDS: Final = 50
REPORT_EVERY: Final = 10
"""Boosting rounds between two reports of the validation MAE to the pruner."""


@dataclass(frozen=True)
class FitData:
    """Preprocessed matrices of the training and validation splits.

    Without a validation split (``X_valid`` is ``None``: the final refit on training plus
    validation rows) the boosting families fit exactly ``rounds`` rounds, the number early
    stopping chose while tuning.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    w_train: np.ndarray
    X_valid: np.ndarray | None = None
    y_valid: np.ndarray | None = None
    w_valid: np.ndarray | None = None
    rounds: int | None = None

    def fixed_rounds(self) -> int:
        """Rounds of a refit without a validation split."""
        if self.rounds is None or self.rounds < 1:
            msg = "a boosting refit without a validation split needs rounds >= 1"
            raise ConfigError(msg)
        return self.rounds


@dataclass(frozen=True)
class Family:
    """How to search, build and fit one model family."""

    name: ModelFamily
    encoding: str
    """``"onehot"`` (linear preprocessing) or ``"codes"`` (tree preprocessing)."""
    suggest: Callable[[optuna.Trial], dict[str, Any]]
    fit: Callable[[dict[str, Any], FitData, int, int, optuna.Trial | None], Any]
    prunable: bool


def _suggest_linear(trial: optuna.Trial) -> dict[str, Any]:
    return {"alpha": trial.suggest_float("alpha", 1e-4, 1e2, log=True)}


def _fit_linear(params: dict[str, Any], d: FitData, _seed: int, _n_jobs: int, _trial: Any) -> Ridge:
    return Ridge(alpha=params["alpha"]).fit(d.X_train, d.y_train, sample_weight=d.w_train)


def _suggest_forest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 40, 160, step=20),
        "max_depth": trial.suggest_int("max_depth", 6, 16),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 2, 40, log=True),
        "max_features": trial.suggest_float("max_features", 0.3, 1.0),
        "max_samples": trial.suggest_float("max_samples", 0.3, 1.0),
    }


def _fit_forest(
    params: dict[str, Any], d: FitData, seed: int, n_jobs: int, _trial: Any
) -> RandomForestRegressor:
    model = RandomForestRegressor(**params, random_state=seed, n_jobs=n_jobs)
    return model.fit(d.X_train, d.y_train, sample_weight=d.w_train)


def _boosting_common(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.08, 0.3, log=True),
        "subsample": trial.suggest_float("subsample", 0.6, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
    }


def _suggest_xgboost(trial: optuna.Trial) -> dict[str, Any]:
    return {
        **_boosting_common(trial),
        "max_depth": trial.suggest_int("max_depth", 3, 7),
        "min_child_weight": trial.suggest_float("min_child_weight", 1e-2, 10.0, log=True),
    }


class _XgbPruning(xgb.callback.TrainingCallback):
    def __init__(self, trial: optuna.Trial) -> None:
        super().__init__()
        self.trial = trial

    def after_iteration(self, _model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
        if epoch % REPORT_EVERY == 0:
            self.trial.report(float(evals_log["validation_0"]["mae"][-1]), epoch)
            if self.trial.should_prune():
                raise optuna.TrialPruned(f"pruned at round {epoch}")
        return False


def _fit_xgboost(
    params: dict[str, Any], d: FitData, seed: int, n_jobs: int, trial: optuna.Trial | None
) -> xgb.XGBRegressor:
    if d.X_valid is None:
        model = xgb.XGBRegressor(
            **params, n_estimators=d.fixed_rounds(), tree_method="hist", random_state=seed,
            n_jobs=n_jobs,
        )  # fmt: skip
        return model.fit(d.X_train, d.y_train, sample_weight=d.w_train, verbose=False)
    model = xgb.XGBRegressor(
        **params,
        n_estimators=MAX_BOOSTING_ROUNDS,
        early_stopping_rounds=EARLY_STOPPING_ROUNDS,
        eval_metric="mae",
        tree_method="hist",
        random_state=seed,
        n_jobs=n_jobs,
        callbacks=[_XgbPruning(trial)] if trial is not None else None,
    )
    model.fit(
        d.X_train,
        d.y_train,
        sample_weight=d.w_train,
        eval_set=[(d.X_valid, d.y_valid)],
        sample_weight_eval_set=[d.w_valid],
        verbose=False,
    )
    model.set_params(callbacks=None)
    return model


def _suggest_lightgbm(trial: optuna.Trial) -> dict[str, Any]:
    return {
        **_boosting_common(trial),
        "num_leaves": trial.suggest_int("num_leaves", 8, 64, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 5, 100, log=True),
    }


def _lgb_pruning(trial: optuna.Trial) -> Callable[[Any], None]:
    def callback(env: Any) -> None:
        if env.iteration % REPORT_EVERY == 0:
            trial.report(float(env.evaluation_result_list[0][2]), env.iteration)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at round {env.iteration}")

    return callback


def _fit_lightgbm(
    params: dict[str, Any], d: FitData, seed: int, n_jobs: int, trial: optuna.Trial | None
) -> lgb.LGBMRegressor:
    refit = d.X_valid is None
    model = lgb.LGBMRegressor(
        **params,
        n_estimators=d.fixed_rounds() if refit else MAX_BOOSTING_ROUNDS,
        subsample_freq=1,
        random_state=seed,
        n_jobs=n_jobs,
        verbose=-1,
    )
    if refit:
        return model.fit(d.X_train, d.y_train, sample_weight=d.w_train)
    callbacks: list[Callable[..., Any]] = [lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)]
    if trial is not None:
        callbacks.append(_lgb_pruning(trial))
    model.fit(
        d.X_train,
        d.y_train,
        sample_weight=d.w_train,
        eval_X=(d.X_valid,),
        eval_y=(d.y_valid,),
        eval_sample_weight=[d.w_valid],
        eval_metric="l1",
        callbacks=callbacks,
    )
    return model


def _suggest_catboost(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.08, 0.3, log=True),
        "depth": trial.suggest_int("depth", 4, 6),
        "l2_leaf_reg": trial.suggest_float("l2_leaf_reg", 1.0, 20.0, log=True),
        "random_strength": trial.suggest_float("random_strength", 1e-2, 5.0, log=True),
        "bagging_temperature": trial.suggest_float("bagging_temperature", 0.0, 1.0),
    }


class _CatPruning:
    def __init__(self, trial: optuna.Trial) -> None:
        self.trial = trial
        self.pruned_at: int | None = None

    def after_iteration(self, info: Any) -> bool:
        if info.iteration % REPORT_EVERY == 0:
            self.trial.report(float(info.metrics["validation"]["MAE"][-1]), info.iteration)
            if self.trial.should_prune():
                self.pruned_at = info.iteration
                return False
        return True


def _fit_catboost(
    params: dict[str, Any], d: FitData, seed: int, n_jobs: int, trial: optuna.Trial | None
) -> cb.CatBoostRegressor:
    if d.X_valid is None:
        model = cb.CatBoostRegressor(
            **params, iterations=d.fixed_rounds(), random_seed=seed, thread_count=n_jobs,
            verbose=False, allow_writing_files=False,
        )  # fmt: skip
        return model.fit(d.X_train, d.y_train, sample_weight=d.w_train)
    model = cb.CatBoostRegressor(
        **params,
        iterations=MAX_BOOSTING_ROUNDS,
        eval_metric="MAE",
        od_type="Iter",
        od_wait=EARLY_STOPPING_ROUNDS,
        use_best_model=True,
        random_seed=seed,
        thread_count=n_jobs,
        verbose=False,
        allow_writing_files=False,
    )
    pruning = _CatPruning(trial) if trial is not None else None
    model.fit(
        d.X_train,
        d.y_train,
        sample_weight=d.w_train,
        eval_set=cb.Pool(d.X_valid, d.y_valid, weight=d.w_valid),
        callbacks=[pruning] if pruning is not None else None,
    )
    if pruning is not None and pruning.pruned_at is not None:
        raise optuna.TrialPruned(f"pruned at round {pruning.pruned_at}")
    return model


FAMILIES: Final[dict[ModelFamily, Family]] = {
    ModelFamily.LINEAR: Family(ModelFamily.LINEAR, "onehot", _suggest_linear, _fit_linear, False),
    ModelFamily.RANDOM_FOREST: Family(
        ModelFamily.RANDOM_FOREST, "codes", _suggest_forest, _fit_forest, False
    ),
    ModelFamily.XGBOOST: Family(ModelFamily.XGBOOST, "codes", _suggest_xgboost, _fit_xgboost, True),
    ModelFamily.LIGHTGBM: Family(
        ModelFamily.LIGHTGBM, "codes", _suggest_lightgbm, _fit_lightgbm, True
    ),
    ModelFamily.CATBOOST: Family(
        ModelFamily.CATBOOST, "codes", _suggest_catboost, _fit_catboost, True
    ),
}
"""Every supported family by name."""


def get_family(name: str | ModelFamily) -> Family:
    """The :class:`Family` called ``name``; :class:`ConfigError` listing the valid names."""
    try:
        return FAMILIES[ModelFamily(name)]
    except ValueError:
        valid = ", ".join(f.value for f in ModelFamily)
        msg = f"unknown model family {str(name)!r}; choose from: {valid}"
        raise ConfigError(msg) from None


class _Middle:
    """Answers an Optuna trial's suggestions with the middle of each range (geometric for
    log-scaled ranges, on the step grid for integers): the search space's centre."""

    def suggest_float(self, _name: str, low: float, high: float, *, log: bool = False) -> float:
        return float(np.sqrt(low * high) if log else 0.5 * (low + high))

    def suggest_int(
        self, _name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        middle = np.sqrt(low * high) if log else 0.5 * (low + high)
        return int(low + step * round((middle - low) / step))


def middle_params(name: str | ModelFamily) -> dict[str, Any]:
    """The centre of family ``name``'s search space: a model of typical size (benches time
    it as a stand-in for a tuned champion; boosting rounds still come from early stopping)."""
    return get_family(name).suggest(_Middle())  # type: ignore[arg-type]


def boosting_rounds(model: Any) -> int | None:
    """Rounds early stopping kept in a fitted boosting regressor (``None`` for the others)."""
    if isinstance(model, xgb.XGBRegressor):
        try:
            return int(model.best_iteration) + 1
        except AttributeError:  # fitted without early stopping: every round is kept
            return int(model.get_booster().num_boosted_rounds())
    if isinstance(model, lgb.LGBMRegressor):
        return int(model.best_iteration_ or model.n_estimators_)
    if isinstance(model, cb.CatBoostRegressor):
        best = model.get_best_iteration()
        return int(best) + 1 if best is not None else int(model.tree_count_)
    return None


def set_threads(model: Any, n_jobs: int) -> None:
    """Set the prediction threads of a fitted regressor (CatBoost predicts on all cores)."""
    if isinstance(model, xgb.XGBRegressor | lgb.LGBMRegressor | RandomForestRegressor):
        model.set_params(n_jobs=n_jobs)
