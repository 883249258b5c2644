"""``evfleet train`` and ``evfleet predict``: fit the energy models, predict a network."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.table import Table

from evfleet.errors import ConfigError
from evfleet.storage import Workspace, write_parquet
from flows.commands.common import (
    ConfigOpt,
    WorkspaceOpt,
    console,
    effective_config,
    workspace_path,
)

if TYPE_CHECKING:
    from tasks.mlflow_train import ChampionSummary, FamilySummary

DatasetOpt = Annotated[
    str | None, typer.Option("--dataset", help="Dataset id (default: the latest).")
]


def _model_list(models: str | None) -> list[str] | None:
    if models is None:
        return None
    names = [m.strip() for m in models.split(",") if m.strip()]
    if not names:
        msg = "--models needs at least one family, e.g. --models lightgbm,catboost"
        raise ConfigError(msg)
    return names


def train(
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    models: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated families: linear,random_forest,xgboost,lightgbm,catboost."
        ),
    ] = None,
    trials: Annotated[
        int | None, typer.Option("--trials", help="Optuna trials per family.")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Tuning time budget per family, s.")
    ] = None,
    dataset: DatasetOpt = None,
) -> None:
    """Tune the model families, log them to MLflow and register the best as ``champion``.

    Examples:

      evfleet train --models lightgbm,catboost --trials 20 --timeout 300

      evfleet train --dataset 1a2b3c4d5e6f7a8b
    """
    root = workspace_path(workspace)
    cfg = effective_config(
        config,
        {
            "training.models": _model_list(models),
            "training.n_trials": trials,
            "training.timeout_s": timeout,
        },
    )
    from flows.runtime import flow_session
    from flows.train import train_flow

    session = flow_session(root, purpose="evfleet train")
    with session, console.status("training energy models ..."):
        result = train_flow(cfg, str(root), dataset)
    _print_comparison(result["families"], result["champion"])


def _print_comparison(families: list[FamilySummary], champion: ChampionSummary) -> None:
    from tasks.registry import comparison_rows

    table = Table(
        title="energy models on held-out vehicles (last days: held-out days), "
        "next to the physics prior alone on the same rows",
        caption="* selected: lowest validation MAE (fastest within training.selection_tolerance)",
    )
    columns = {
        "valid MAE (Wh)": ("val MAE Wh", "{:.2f}"),
        "test R2 kWh/km": ("R² kWh/km", "{:.3f}"),
        "test R2 kWh": ("R² kWh", "{:.3f}"),
        "test trip MAPE %": ("trip MAPE%", "{:.2f}"),
        "time-split trip MAPE %": ("last days MAPE%", "{:.2f}"),
        "time-split R2 kWh/km": ("last days R²", "{:.3f}"),
        "M rows/s": ("M rows/s", "{:.2f}"),
    }
    table.add_column("predictor")
    for label, _ in columns.values():
        table.add_column(label, justify="right")
    for row in comparison_rows(families, champion):
        cells = [
            "–" if row[key] is None else fmt.format(row[key]) for key, (_, fmt) in columns.items()
        ]
        name = str(row["predictor"]).replace(f" (@{champion.alias})", " *")
        table.add_row(name, *cells)
    console.print(table)
    console.print(
        f"selected: [bold]{champion.family}[/bold] -> {champion.model_name} "
        f"v{champion.version} @{champion.alias} ({champion.promotion})"
    )


def predict(
    vehicle: Annotated[
        str, typer.Option("--vehicle", help="Fleet vehicle id (e.g. EV0007) or catalogue model.")
    ],
    hour: Annotated[float, typer.Option("--hour", min=0, max=24, help="Departure hour, 0-24.")],
    temp_c: Annotated[float, typer.Option("--temp-c", help="Ambient temperature, °C.")],
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    network: Annotated[
        str | None, typer.Option("--network", help="Network id (default: the latest).")
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="Trip date YYYY-MM-DD (default: fleet.start_date).")
    ] = None,
    wind_kph: Annotated[float, typer.Option(help="Wind speed, km/h.")] = 0.0,
    wind_from_deg: Annotated[float, typer.Option(help="Direction the wind blows from, °.")] = 0.0,
    humidity_pct: Annotated[float, typer.Option(help="Relative humidity, %.")] = 70.0,
    raining: Annotated[bool, typer.Option("--raining", help="It rains.")] = False,
    dataset: DatasetOpt = None,
    out: Annotated[Path | None, typer.Option(help="Parquet file for per-edge kWh.")] = None,
) -> None:
    """Predict the energy of every edge of a network with the champion model.

    Writes u, v, key, length_m, kwh_per_km and energy_kwh per edge to Parquet.

    Example: ``evfleet predict --vehicle EV0003 --hour 8.5 --temp-c 4 --out edges.parquet``
    """
    from evfleet.serving import predict_network_energy
    from tasks.mlflow_utils import load_champion

    root = workspace_path(workspace)
    cfg = effective_config(config)
    ws = Workspace(root)
    network_id = ws.resolve("network", network)
    try:
        day = dt.date.fromisoformat(date) if date else cfg.fleet.start_date
    except ValueError:
        msg = f"--date must be YYYY-MM-DD, got {date!r}"
        raise ConfigError(msg) from None
    model = load_champion(root)
    result = predict_network_energy(
        model,
        ws,
        network_id=network_id,
        vehicle=vehicle,
        departure=pd.Timestamp(day) + pd.Timedelta(hours=hour),
        temp_c=temp_c,
        dataset_id=dataset,
        wind_kph=wind_kph,
        wind_from_deg=wind_from_deg,
        humidity_pct=humidity_pct,
        is_raining=raining,
        batch_size=cfg.performance.predict_batch_size,
    )
    pred, elapsed = result.edges, result.predict_s
    target = out or root / "predictions" / f"energy-{network_id}-{vehicle}-{hour:g}h.parquet"
    write_parquet(pred, target)
    console.print(
        f"{len(pred):,} edges of network {network_id} with {model.family} in {elapsed:.2f} s "
        f"({len(pred) / max(elapsed, 1e-9):,.0f} edges/s): mean "
        f"{result.mean_kwh_per_km:.3f} kWh/km "
        f"(vehicle calibration x{result.context.calibration:.3f}) -> {target}"
    )
