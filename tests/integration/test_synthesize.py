"""Synthesis flow: determinism across runners and chunkings, invariants, bad config."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from evfleet.config import StudioConfig, config_from_dict
from evfleet.errors import ConfigError
from evfleet.invariants import check_all
from evfleet.storage import TABLE_FILES, read_table
from flows.network import network_flow
from flows.runtime import prefect_api
from flows.synthesize import synthesize_with_runner

pytestmark = pytest.mark.integration


def _config(**performance: object) -> StudioConfig:
    return config_from_dict(
        {
            "network": {"scale": 0.1, "seed": 3},
            "fleet": {"n_vehicles": 5, "days": 2, "seed": 11},
            "performance": {"synth_chunk_vehicles": 2, **performance},
        }
    )


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.parquet"))
    }


def _tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {name: read_table(folder / rel) for name, rel in TABLE_FILES["datasets"].items()}


@pytest.fixture(scope="module")
def network_ws(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Path:
    ws = tmp_path_factory.mktemp("synth-ws")
    network_flow(_config(), str(ws))
    return ws


def test_same_bytes_with_threads_and_dask_and_any_chunking(
    network_ws: Path, tmp_path: Path
) -> None:
    threads = synthesize_with_runner(_config(), str(network_ws))
    other = tmp_path / "dask-ws"
    other.mkdir()
    (other / "network").symlink_to(network_ws / "network")
    with prefect_api():
        dask = synthesize_with_runner(_config(runner="dask", n_workers=2), str(other))
    assert dask.id == threads.id
    assert _digests(Path(dask.path)) == _digests(Path(threads.path))

    rechunked_ws = tmp_path / "rechunked"
    rechunked_ws.mkdir()
    (rechunked_ws / "network").symlink_to(network_ws / "network")
    rechunked = synthesize_with_runner(_config(synth_chunk_vehicles=3), str(rechunked_ws))
    assert rechunked.id == threads.id
    a, b = _tables(Path(threads.path)), _tables(Path(rechunked.path))
    for name in TABLE_FILES["datasets"]:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)
    assert check_all(a) == []


def test_second_run_is_a_cache_hit(network_ws: Path) -> None:
    first = synthesize_with_runner(_config(), str(network_ws))
    again = synthesize_with_runner(_config(), str(network_ws))
    assert again.reused
    assert again.id == first.id


@pytest.mark.parametrize(
    ("fleet", "needle"),
    [
        ({"n_vehicles": 0}, "fleet.n_vehicles"),
        ({"days": 0}, "fleet.days"),
        ({"market_shares": {"tesla_model_3": 0.7, "nissan_leaf": 0.2}}, "sum to 1"),
        ({"market_shares": {"tesla_model_3": 0.5, "flux_capacitor": 0.5}}, "flux_capacitor"),
        ({"start_date": "2024-02-30"}, "fleet.start_date"),
    ],
)
def test_bad_fleet_config_is_refused(fleet: dict, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        config_from_dict({"fleet": fleet})
