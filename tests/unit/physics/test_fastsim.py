"""Validation of the energy model against NREL FASTSim 3.1 (shared/data/cycles/REFERENCE.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evfleet.physics import Conditions, cycle_energy, read_cycle
from evfleet.vehicles import get_vehicle

# Battery-side kWh/100 km at ~22 °C, HVAC near idle (aux 250 W), from REFERENCE.md.
FASTSIM_KWH_PER_100KM = {
    ("nissan_leaf_2016_30kwh", "udds"): 10.26,
    ("nissan_leaf_2016_30kwh", "hwfet"): 12.94,
    ("chevrolet_bolt_2020", "udds"): 8.90,
    ("chevrolet_bolt_2020", "hwfet"): 11.16,
    ("tesla_model_3_rwd_2022", "udds"): 9.42,
    ("tesla_model_3_rwd_2022", "hwfet"): 9.98,
    ("renault_zoe_ze50", "udds"): 11.62,
    ("renault_zoe_ze50", "hwfet"): 13.86,
}
TOLERANCE = 0.08


@pytest.mark.parametrize(("vehicle_id", "cycle"), list(FASTSIM_KWH_PER_100KM))
def test_consumption_within_8_percent_of_fastsim(
    shared_data: Path, vehicle_id: str, cycle: str
) -> None:
    drive = read_cycle(shared_data / "cycles" / f"{cycle}.csv")
    result = cycle_energy(get_vehicle(vehicle_id), drive, conditions=Conditions(temp_c=22.0))
    reference = FASTSIM_KWH_PER_100KM[(vehicle_id, cycle)]
    assert result.kwh_per_100km == pytest.approx(reference, rel=TOLERANCE)
    assert result.components_kwh["hvac"] == 0.0


def test_cycle_distances_match_reference(shared_data: Path) -> None:
    udds = read_cycle(shared_data / "cycles" / "udds.csv")
    hwfet = read_cycle(shared_data / "cycles" / "hwfet.csv")
    assert udds.distance_m == pytest.approx(11_990, rel=0.01)
    assert hwfet.distance_m == pytest.approx(16_500, rel=0.01)
    assert udds.duration_s == pytest.approx(1369.0)
