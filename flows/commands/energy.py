"""``evfleet energy``: run the physics energy model on drive cycles and speed sweeps."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from matplotlib.figure import Figure
from rich.table import Table

from evfleet.physics import COMPONENTS, Conditions, steady_state_kwh_per_100km
from evfleet.physics.cycles import cycle_energy, read_cycle
from evfleet.physics.model import DEFAULT_TEMP_C
from evfleet.vehicles import VehicleSpec, get_vehicle, list_vehicles
from flows.commands.common import console

app = typer.Typer(help="Physics energy model: drive cycles and consumption sweeps.")

VehicleOpt = Annotated[
    str,
    typer.Option("--vehicle", help=f"Vehicle id, one of: {', '.join(list_vehicles())}."),
]


@app.command("cycle")
def cycle(
    vehicle: VehicleOpt,
    cycle_file: Annotated[
        Path, typer.Option("--cycle", help="CSV with columns time_s,speed_mps[,grade].")
    ],
    temp_c: Annotated[float, typer.Option("--temp-c", help="Ambient temperature, °C.")] = (
        DEFAULT_TEMP_C
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Simulate a vehicle on a drive cycle: distance, kWh, kWh/100 km and components.

    Example: ``evfleet energy cycle --vehicle nissan_leaf --cycle udds.csv --temp-c -7``
    """
    spec = get_vehicle(vehicle)
    result = cycle_energy(spec, read_cycle(cycle_file), conditions=Conditions(temp_c=temp_c))
    if as_json:
        typer.echo(json.dumps({"vehicle": spec.vehicle_id, **result.as_dict()}))
        return
    console.print(
        f"[bold]{spec.name}[/bold] on {cycle_file.name} at {temp_c:g} °C: "
        f"{result.distance_m / 1000:.3f} km in {result.duration_s:.0f} s, "
        f"[bold]{result.energy_kwh:.3f} kWh[/bold] = {result.kwh_per_100km:.2f} kWh/100 km"
    )
    table = Table(show_header=True, header_style="bold")
    table.add_column("component")
    table.add_column("kWh", justify="right")
    table.add_column("share", justify="right")
    for name in COMPONENTS:
        value = result.components_kwh[name]
        table.add_row(name, f"{value:.4f}", f"{value / result.energy_kwh:.1%}")
    table.add_row("[bold]total[/bold]", f"[bold]{result.energy_kwh:.4f}[/bold]", "100.0%")
    console.print(table)


def _sweep_figure(spec: VehicleSpec) -> Figure:
    """Three panels of steady-state consumption: vs speed, vs grade, vs temperature."""
    fig = Figure(figsize=(15, 4.5), layout="constrained")
    ax_speed, ax_grade, ax_temp = fig.subplots(1, 3)
    speeds = np.linspace(10.0, 150.0, 57)
    for temp in (-7.0, DEFAULT_TEMP_C, 35.0):
        kwh = steady_state_kwh_per_100km(spec, speeds, conditions=Conditions(temp_c=temp))
        ax_speed.plot(speeds, kwh, label=f"{temp:g} °C")
    ax_speed.set(xlabel="speed (km/h)", title="vs speed (flat road)")
    grades = np.linspace(-0.08, 0.08, 33)
    temps = np.linspace(-20.0, 45.0, 66)
    for speed in (30.0, 60.0, 100.0):
        ax_grade.plot(
            grades * 100,
            steady_state_kwh_per_100km(spec, speed, grade=grades),
            label=f"{speed:g} km/h",
        )
        kwh = steady_state_kwh_per_100km(spec, speed, conditions=Conditions(temp_c=temps))
        ax_temp.plot(temps, kwh, label=f"{speed:g} km/h")
    ax_grade.axhline(0.0, color="grey", linewidth=0.8)
    ax_grade.set(xlabel="grade (%)", title=f"vs grade ({DEFAULT_TEMP_C:g} °C)")
    ax_temp.set(xlabel="ambient temperature (°C)", title="vs temperature (HVAC + battery)")
    for ax in (ax_speed, ax_grade, ax_temp):
        ax.set_ylabel("kWh/100 km (battery)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"{spec.name}: steady-state consumption")
    return fig


@app.command("sweep")
def sweep(
    vehicle: VehicleOpt,
    out: Annotated[
        Path | None, typer.Option("--out", help="PNG to write (default: sweep_<vehicle>.png).")
    ] = None,
) -> None:
    """Plot steady-state consumption vs speed, grade and temperature to a PNG.

    Example: ``evfleet energy sweep --vehicle tesla_model_3 --out model3.png``
    """
    spec = get_vehicle(vehicle)
    path = out or Path(f"sweep_{spec.vehicle_id}.png")
    figure = _sweep_figure(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(suffix=".png", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            figure.savefig(handle, format="png", dpi=110)
        Path(tmp_name).replace(path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    console.print(f"wrote {path}")
