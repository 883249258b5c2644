"""Charging stations as the SOC-aware search sees them: grouped by node, with taper tables.

Several stations (and connector kinds) may share a node; each keeps its own power,
price and expected queue. Charging time follows the vehicle's acceptance and DC taper
(:meth:`evfleet.vehicles.VehicleSpec.charge_duration_s`), tabulated once per station on
an even SOC grid so the compiled search interpolates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from evfleet.fleet.charging import StationArrays, Tariff
from evfleet.fleet.context import expected_queue_wait_s
from evfleet.network import RoadGraph
from evfleet.vehicles import ChargerKind, VehicleSpec

SOC_GRID_POINTS: Final = 101


@dataclass(frozen=True)
class StationSet:
    """Stations of a network for one vehicle, ordered by node row.

    Station ``k`` (row order) is at node row ``node_row[k]``; the stations of node row
    ``u`` are ``indptr[u]:indptr[u + 1]``.
    """

    station_id: NDArray[np.str_]
    kind: NDArray[np.str_]
    node_row: NDArray[np.int64]
    power_kw: NDArray[np.float64]
    price_usd_per_kwh: NDArray[np.float64]
    wait_s: NDArray[np.float64]
    time_table_s: NDArray[np.float64]
    indptr: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.station_id)

    @classmethod
    def empty(cls, n_nodes: int) -> StationSet:
        """No stations (plain routing with battery bounds)."""
        return cls(
            np.empty(0, dtype=str),
            np.empty(0, dtype=str),
            np.empty(0, dtype=np.int64),
            np.empty(0),
            np.empty(0),
            np.empty(0),
            np.empty((0, SOC_GRID_POINTS)),
            np.zeros(n_nodes + 1, dtype=np.int64),
        )

    @classmethod
    def build(
        cls,
        graph: RoadGraph,
        spec: VehicleSpec,
        tariff: Tariff,
        *,
        depart_clock_s: float,
        stations: pd.DataFrame | None = None,
    ) -> StationSet:
        """Stations of ``graph`` (or ``stations``) for vehicle ``spec``.

        Prices are the tariff's off-peak public price times each station's own price
        factor (the search applies the peak multiplier at the charging time); the wait
        is the simulator's expected queue at the departure clock.
        """
        frame = graph.stations if stations is None else stations
        if frame is None or frame.empty:
            return cls.empty(graph.n_nodes)
        arrays = StationArrays.from_frame(frame)
        rows = graph.node_index(arrays.node)
        order = np.argsort(rows, kind="stable")
        kinds = np.where(arrays.is_dcfc, "dcfc", "l2")[order]
        power = arrays.power_kw[order]
        grid = np.linspace(0.0, 1.0, SOC_GRID_POINTS)
        table = np.empty((len(order), SOC_GRID_POINTS))
        for (kind, kw), members in pd.Series(np.arange(len(order))).groupby([kinds, power]):
            charger = ChargerKind.DC if kind == "dcfc" else ChargerKind.AC
            table[members.to_numpy()] = spec.charge_duration_s(
                0.0, grid, charger_kw=float(kw), kind=charger
            )
        base = np.array([tariff.base_price(str(k)) for k in kinds])
        wait = np.array([expected_queue_wait_s(str(k), depart_clock_s) for k in kinds])
        counts = np.bincount(rows, minlength=graph.n_nodes)
        return cls(
            station_id=arrays.station_id[order],
            kind=kinds,
            node_row=rows[order],
            power_kw=power,
            price_usd_per_kwh=base * arrays.price_factor[order],
            wait_s=wait,
            time_table_s=table,
            indptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        )
