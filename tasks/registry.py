"""Registration, promotion and the training session's report.

The family with the lowest validation MAE (the fastest among near-ties) is registered as a
new version of :data:`~tasks.mlflow_names.REGISTERED_MODEL`, described by a model card and
tagged with its dataset id and feature-set hash. It becomes ``@champion`` only if it beats
the current champion on the same held-out evaluation: both are scored on the held-out
vehicles of this dataset's feature table (calibrated per vehicle, segment-energy MAE);
otherwise it is ``@challenger``. The session's parent run then gets the family comparison
plot, the champion's tags, and is closed.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any, Final

import mlflow
import mlflow.sklearn
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from evfleet.errors import InputDataError
from evfleet.features.splits import describe_splits
from evfleet.models import (
    PROMOTION_METRIC,
    EnergyModel,
    beats,
    family_comparison_png,
    feature_set_hash,
    model_card,
    score_held_out_vehicles,
    select_champion,
)
from evfleet.storage import Workspace
from tasks.common import IO_RETRIES, StageResult, run_logger
from tasks.mlflow_names import CHALLENGER_ALIAS, CHAMPION_ALIAS, REGISTERED_MODEL, SELECTION_METRIC
from tasks.mlflow_train import ChampionSummary, FamilySummary
from tasks.mlflow_utils import register_version, use_workspace
from tasks.train import feature_table

NOISE_FLOOR_DIR: Final = "noise_floor"
"""Workspace folder where ``bench/bench_noise_floor.py --held-out`` records the ceiling
of a dataset (``<dataset id>.json``), quoted by the model card when present."""


def noise_ceiling(workspace: str, dataset_id: str) -> str | None:
    """The measured noise ceiling of a dataset's held-out vehicles, as card text."""
    path = Workspace(workspace).root / NOISE_FLOOR_DIR / f"{dataset_id}.json"
    if not path.exists():
        return None
    floor = json.loads(path.read_text())
    return (
        f"segment R² (kWh/km) ≤ {floor['segment kWh/km']['r2_ceiling']:.3f}, segment R² (kWh) "
        f"≤ {floor['segment kWh']['r2_ceiling']:.3f}, trip MAPE ≥ "
        f"{floor['trip kWh']['mape_floor']:.2f} % (replayed draws, "
        "bench/bench_noise_floor.py --held-out)"
    )


def _incumbent_score(version: Any, table: Any) -> float:
    """The champion version's promotion metric on this table's held-out vehicles (nan if
    it cannot predict them, e.g. it was trained on another feature set)."""
    try:
        model = mlflow.sklearn.load_model(f"models:/{REGISTERED_MODEL}/{version.version}")
        if not isinstance(model, EnergyModel):
            return float("nan")
        return score_held_out_vehicles(model, table)["seg_kwh_mae"]
    except (InputDataError, MlflowException, KeyError, OSError) as exc:
        run_logger().warning("champion v%s cannot be scored here: %s", version.version, exc)
        return float("nan")


def _promotion(client: Any, version: Any, score: float, table: Any) -> tuple[str, str]:
    """The alias ``version`` earns, and why (one sentence for the model card)."""
    try:
        incumbent = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS)
    except MlflowException:
        return CHAMPION_ALIAS, "champion: the first registered version"
    if str(incumbent.version) == str(version.version):
        return CHAMPION_ALIAS, "champion (unchanged: the same version was selected again)"
    theirs = _incumbent_score(incumbent, table)
    where = (
        f"segment-energy MAE on the held-out vehicles of dataset "
        f"{version.tags.get('evfleet.dataset_id')}: {1000 * score:.2f} Wh vs "
        f"{'–' if math.isnan(theirs) else f'{1000 * theirs:.2f}'} Wh of v{incumbent.version}"
    )
    if beats(score, theirs):
        return CHAMPION_ALIAS, f"champion: beats v{incumbent.version} ({where})"
    return CHALLENGER_ALIAS, f"challenger: does not beat v{incumbent.version} ({where})"


def _register(client: Any, best: FamilySummary, tags: dict[str, str]) -> Any:
    """The model version of ``best``'s run (registered now if it is not yet)."""
    existing = client.search_model_versions(f"name='{REGISTERED_MODEL}' and run_id='{best.run_id}'")
    if existing:
        return existing[0]
    return register_version(client, best.model_uri, run_id=best.run_id, tags=tags)


@task(name="register-champion", **IO_RETRIES)
def register_champion_task(
    workspace: str,
    dataset_id: str,
    features: StageResult,
    summaries: list[FamilySummary],
    tolerance: float = 0.0,
) -> ChampionSummary:
    """Register the family with the lowest validation MAE (the fastest among families
    within ``tolerance`` of it), describe it with a model card and give it ``@champion``
    if it beats the current champion on the same held-out rows, else ``@challenger``."""
    if not summaries:
        msg = "no model family was trained; set training.models"
        raise InputDataError(msg)
    selected = select_champion(
        [s.record() for s in summaries],
        metric=SELECTION_METRIC,
        speed="predict_rows_per_s",
        tolerance=tolerance,
    )
    best = next(s for s in summaries if s.run_id == selected["run_id"])
    client = use_workspace(workspace)
    table = feature_table(workspace, features)
    feature_hash = feature_set_hash(table.dtypes)
    tags = {
        "evfleet.dataset_id": dataset_id,
        "evfleet.features_id": features.id,
        "evfleet.feature_set_hash": feature_hash,
        "evfleet.family": best.family,
        "evfleet.run_id": best.run_id,
    }
    version = _register(client, best, tags)
    alias, why = _promotion(client, version, best.metric(PROMOTION_METRIC), table)
    card = model_card(
        family=best.family,
        dataset_id=dataset_id,
        features_id=features.id,
        feature_hash=feature_hash,
        split_rule=describe_splits(table),
        metrics=dict(best.metrics),
        noise_ceiling=noise_ceiling(workspace, dataset_id),
        promotion=why,
    )
    client.update_model_version(REGISTERED_MODEL, version.version, description=card)
    client.set_model_version_tag(REGISTERED_MODEL, version.version, "evfleet.alias", alias)
    client.set_registered_model_alias(REGISTERED_MODEL, alias, str(version.version))
    if alias == CHAMPION_ALIAS:
        _crown(client, dataset_id, str(version.version), best)
    run_logger().info("%s v%s: %s", best.family, version.version, why)
    return ChampionSummary(best, str(version.version), REGISTERED_MODEL, alias, why)


def _crown(client: Any, dataset_id: str, version: str, best: FamilySummary) -> None:
    """Record the new champion on the registered model; an older challenger is moot."""
    try:
        challenger = client.get_model_version_by_alias(REGISTERED_MODEL, CHALLENGER_ALIAS)
    except MlflowException:
        challenger = None
    if challenger is not None and int(challenger.version) < int(version):
        client.delete_registered_model_alias(REGISTERED_MODEL, CHALLENGER_ALIAS)
    client.set_registered_model_tag(REGISTERED_MODEL, "evfleet.dataset_id", dataset_id)
    client.update_registered_model(
        REGISTERED_MODEL,
        description=(
            f"Per-segment energy (kWh/km) for the router. @{CHAMPION_ALIAS}: v{version} "
            f"({best.family}) trained on dataset `{dataset_id}`; a newer version that "
            f"does not beat it on the same held-out rows is @{CHALLENGER_ALIAS}."
        ),
    )


@task(name="close-training-session", **IO_RETRIES)
def finish_session_task(
    workspace: str, session: str, summaries: list[FamilySummary], champion: ChampionSummary
) -> None:
    """Tag the selected family run with its alias, log the family comparison plot and the
    selected family's metrics on the session's parent run, and close it."""
    client = use_workspace(workspace)
    for s in summaries:
        role = champion.alias if s.run_id == champion.run_id else "candidate"
        client.set_tag(s.run_id, "evfleet.role", role)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "compare_families.png"
        family_comparison_png(
            [s.record() for s in sorted(summaries, key=lambda s: s.metric(SELECTION_METRIC))],
            path,
            title="held-out metrics by family (dashed: physics prior alone, same rows)",
        )
        client.log_artifact(session, str(path), "plots")
    selected = {k: v for k, v in champion.summary.metrics.items() if "/" in k}
    client.log_batch(
        session,
        metrics=[Metric(k, v, 0, 0) for k, v in selected.items() if math.isfinite(v)],
    )
    for key, value in {
        "evfleet.selected_family": champion.family,
        "evfleet.selected_run_id": champion.run_id,
        "evfleet.model_version": f"{champion.model_name} v{champion.version}",
        "evfleet.alias": champion.alias,
        "evfleet.families": ",".join(sorted(s.family for s in summaries)),
    }.items():
        client.set_tag(session, key, value)
    client.set_terminated(session, "FINISHED")


def comparison_rows(
    summaries: list[FamilySummary], champion: ChampionSummary
) -> list[dict[str, Any]]:
    """One row per family and one for the physics prior alone (same held-out rows)."""
    rows = []
    for s in sorted(summaries, key=lambda s: s.metric(SELECTION_METRIC)):
        mark = f" (@{champion.alias})" if s.run_id == champion.run_id else ""
        rows.append({"predictor": s.family + mark, **_row(s, "calibrated")})
    if summaries:
        rows.append({"predictor": "physics prior only", **_row(summaries[0], "physics_prior")})
    return rows


def _row(s: FamilySummary, predictor: str) -> dict[str, Any]:
    """Rounded metrics of one predictor (None where not measured: JSON has no nan)."""

    def get(key: str, scale: float = 1.0, digits: int = 2) -> float | None:
        value = s.metric(key) * scale
        return round(value, digits) if math.isfinite(value) else None

    return {
        "valid MAE (Wh)": get(SELECTION_METRIC, 1000.0) if predictor == "calibrated" else None,
        "test R2 kWh/km": get(f"test/{predictor}/seg_kwh_per_km_r2", digits=4),
        "test R2 kWh": get(f"test/{predictor}/seg_kwh_r2", digits=4),
        "test trip MAPE %": get(f"test/{predictor}/trip_kwh_mape"),
        "time-split trip MAPE %": get(f"time_test/{predictor}/trip_kwh_mape"),
        "time-split R2 kWh/km": get(f"time_test/{predictor}/seg_kwh_per_km_r2", digits=4),
        "M rows/s": get("predict_rows_per_s", 1e-6) if predictor == "calibrated" else None,
    }


@task(name="training-report")
def comparison_artifact_task(summaries: list[FamilySummary], champion: ChampionSummary) -> None:
    """Publish the family comparison (with the physics prior alone) as a Prefect table and
    the selected model as markdown."""
    create_table_artifact(
        comparison_rows(summaries, champion),
        key="energy-model-comparison",
        description="Model families and the physics prior alone, on the same held-out rows",
    )
    create_markdown_artifact(
        f"# Energy model\n\n**{champion.family}** registered as "
        f"`{champion.model_name}` v{champion.version} (alias `{champion.alias}`: "
        f"{champion.promotion}): validation MAE {1000 * champion.metric(SELECTION_METRIC):.2f} "
        f"Wh per segment, held-out vehicles trip MAPE "
        f"{champion.metric('test/calibrated/trip_kwh_mape'):.2f} % (physics prior alone "
        f"{champion.metric('test/physics_prior/trip_kwh_mape'):.2f} %), segment R2 (kWh/km) "
        f"{champion.metric('test/calibrated/seg_kwh_per_km_r2'):.3f}.",
        key="energy-model-champion",
    )
