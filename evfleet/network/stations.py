"""Public charging stations: from OSM ``amenity=charging_station`` or synthesised.

Synthesised stations sit where people go: public L2 (7-22 kW) sampled by commercial
weight, DC fast (50-350 kW) half next to freeway ramps and half in dense areas. Every
random choice comes from the seed, so the same network and seed give the same stations.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from evfleet.network.geo import project
from evfleet.vocab import ChargingKind

logger = logging.getLogger(__name__)

STATION_COLUMNS = [
    "station_id",
    "name",
    "node_id",
    "lat",
    "lon",
    "kind",
    "power_kw",
    "ports",
    "price_usd_per_kwh",
    "source",
]
L2_PER_NODE = 0.011
DCFC_PER_NODE = 0.0028
L2_POWER_KW = np.array([7.2, 11.0, 19.2, 22.0])
L2_POWER_P = np.array([0.45, 0.25, 0.2, 0.1])
DCFC_POWER_KW = np.array([50.0, 62.5, 150.0, 250.0, 350.0])
DCFC_POWER_P = np.array([0.2, 0.1, 0.35, 0.2, 0.15])
DEFAULT_PRICE = {ChargingKind.L2: 0.35, ChargingKind.DCFC: 0.48}
DCFC_MIN_KW = 40.0
MAX_SNAP_M = 500.0
_FAST_SOCKETS = ("chademo", "type2_combo", "ccs", "tesla_supercharger")
_KW_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(kw|w)?", re.IGNORECASE)
_PRICE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:usd|\$)?\s*/\s*kwh", re.IGNORECASE)


def synthesize_stations(nodes: pd.DataFrame, edges: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    """Place public L2 and DC fast stations on the network's nodes, deterministically."""
    rng = np.random.default_rng([seed, 7])
    n = len(nodes)
    n_l2 = max(3, round(n * L2_PER_NODE))
    n_dcfc = max(2, round(n * DCFC_PER_NODE))
    commercial = nodes["commercial_weight"].to_numpy(dtype=float)
    street = ~nodes["kind"].eq("freeway").to_numpy()
    base = np.where(street, commercial + 1e-9, 0.0)
    ramps = edges["highway"].eq("motorway_link").to_numpy()
    near_ramp = np.isin(nodes["node_id"].to_numpy(), edges.loc[ramps, ["u", "v"]].to_numpy())
    near_ramp &= street
    dcfc_nodes = _choose(rng, base * near_ramp, n_dcfc // 2, exclude=np.zeros(n, dtype=bool))
    taken = np.isin(np.arange(n), dcfc_nodes)
    dcfc_nodes = np.concatenate(
        [dcfc_nodes, _choose(rng, base, n_dcfc - len(dcfc_nodes), exclude=taken)]
    )
    taken[dcfc_nodes] = True
    l2_nodes = _choose(rng, base, n_l2, exclude=taken)
    frames = []
    for kind, rows, powers, probs, ports, price in (
        (ChargingKind.L2, l2_nodes, L2_POWER_KW, L2_POWER_P, (2, 9), (0.28, 0.45)),
        (ChargingKind.DCFC, dcfc_nodes, DCFC_POWER_KW, DCFC_POWER_P, (2, 13), (0.40, 0.62)),
    ):
        sub = nodes.iloc[rows]
        frames.append(
            pd.DataFrame(
                {
                    "station_id": [f"{kind}-{i:04d}" for i in range(len(rows))],
                    "name": [
                        f"{p or 'Public'} {kind.upper()} {i + 1}"
                        for i, p in enumerate(sub["place"])
                    ],
                    "node_id": sub["node_id"].to_numpy(),
                    "lat": sub["lat"].to_numpy(),
                    "lon": sub["lon"].to_numpy(),
                    "kind": kind,
                    "power_kw": rng.choice(powers, size=len(rows), p=probs),
                    "ports": rng.integers(*ports, size=len(rows)),
                    "price_usd_per_kwh": np.round(rng.uniform(*price, size=len(rows)), 2),
                    "source": "synthetic",
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[STATION_COLUMNS]


def _choose(
    rng: np.random.Generator, weight: np.ndarray, k: int, *, exclude: np.ndarray
) -> np.ndarray:
    w = np.where(exclude, 0.0, weight)
    k = min(k, int(np.count_nonzero(w)))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(rng.choice(len(w), size=k, replace=False, p=w / w.sum()))


def _kw(text: str | None) -> float:
    if not text:
        return float("nan")
    values = []
    for number, unit in _KW_RE.findall(text):
        value = float(number)
        values.append(value / 1000 if unit.lower() == "w" else value)
    return max(values) if values else float("nan")


def station_tags(tags: dict[str, Any]) -> dict[str, Any]:
    outputs = [_kw(v) for k, v in tags.items() if k.endswith(":output") or k == "maxpower"]
    finite = [p for p in outputs if np.isfinite(p)]
    power = max(finite) if finite else float("nan")
    fast = any(f"socket:{s}" in tags for s in _FAST_SOCKETS) or (
        np.isfinite(power) and power >= DCFC_MIN_KW
    )
    kind = ChargingKind.DCFC if fast else ChargingKind.L2
    if not np.isfinite(power):
        power = 50.0 if fast else 7.2
    power = float(np.clip(power, 50.0, 350.0) if fast else np.clip(power, 3.0, 22.0))
    capacity = tags.get("capacity", "")
    ports = int(capacity) if capacity.isdigit() and int(capacity) > 0 else 2
    match = _PRICE_RE.search(tags.get("charge", "") or "")
    price = float(match.group(1)) if match else DEFAULT_PRICE[kind]
    name = tags.get("name") or tags.get("operator") or "Charging station"
    return {
        "name": name,
        "kind": kind,
        "power_kw": power,
        "ports": ports,
        "price_usd_per_kwh": price,
    }


def snap_stations(stations: pd.DataFrame, nodes: pd.DataFrame, *, crs: str) -> pd.DataFrame:
    """Attach OSM stations to their nearest node; drop those > 500 m from the network."""
    if stations.empty:
        return pd.DataFrame(columns=STATION_COLUMNS)
    stations = stations.sort_values("osm_id", kind="stable").reset_index(drop=True)
    tree = cKDTree(nodes[["x_m", "y_m"]].to_numpy())
    x, y = project(stations["lat"].to_numpy(), stations["lon"].to_numpy(), crs)
    dist, row = tree.query(np.column_stack([x, y]))
    keep = dist <= MAX_SNAP_M
    out = stations[keep].copy()
    out["node_id"] = nodes["node_id"].to_numpy()[row[keep]]
    out["station_id"] = "osm-" + out["osm_id"].astype(str)
    out["source"] = "osm"
    logger.info("snapped %d of %d OSM charging stations", len(out), len(stations))
    return out[STATION_COLUMNS]
