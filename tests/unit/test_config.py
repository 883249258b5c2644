from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evfleet.config import StudioConfig, config_from_dict, load_config
from evfleet.errors import ConfigError


def _bad(tmp_path: Path, data: dict) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


def test_defaults_round_trip_through_yaml(tmp_path: Path) -> None:
    cfg = StudioConfig()
    path = tmp_path / "c.yaml"
    path.write_text(cfg.to_yaml())
    assert load_config(path) == cfg
    assert sum(cfg.fleet.market_shares.values()) == pytest.approx(1.0)


def test_shares_must_sum_to_one(tmp_path: Path) -> None:
    msg = _bad(tmp_path, {"fleet": {"driver_profiles": {"commuter": 0.5, "casual": 0.4}}})
    assert "fleet.driver_profiles" in msg
    assert "sum to 1" in msg


def test_share_within_tolerance_is_accepted() -> None:
    cfg = config_from_dict(
        {"fleet": {"driving_styles": {"eco": 0.3, "normal": 0.5, "aggressive": 0.2 + 5e-7}}}
    )
    assert cfg.fleet.driving_styles


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"charging": {"home_power_kw": -1}}, "charging.home_power_kw"),
        ({"charging": {"l2_price_usd_per_kwh": -0.1}}, "charging.l2_price_usd_per_kwh"),
        ({"optimization": {"reserve_soc": 1.5}}, "optimization.reserve_soc"),
        ({"optimization": {"algorithm": "bellman"}}, "optimization.algorithm"),
        ({"performance": {"runner": "spark"}}, "performance.runner"),
        ({"fleet": {"n_vehicles": 0}}, "fleet.n_vehicles"),
        ({"fleet": {"days": 0}}, "fleet.days"),
        ({"fleet": {"start_date": "2024-13-45"}}, "fleet.start_date"),
        ({"charging": {"peak_hours": [21, 16]}}, "charging.peak_hours"),
        ({"fleet": {"market_shares": {"tesla_model_3": 0.5, "delorean": 0.5}}}, "delorean"),
    ],
)
def test_invalid_values_name_the_field(tmp_path: Path, data: dict, field: str) -> None:
    assert field in _bad(tmp_path, data)


def test_unknown_keys_are_errors(tmp_path: Path) -> None:
    msg = _bad(tmp_path, {"fleet": {"n_vehicle": 10}, "optimisation": {}})
    assert "fleet.n_vehicle: unknown key" in msg
    assert "optimisation: unknown key" in msg


def test_network_source_needs_its_option(tmp_path: Path) -> None:
    assert "needs 'osm_file'" in _bad(tmp_path, {"network": {"source": "osm_file"}})


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("fleet: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_overrides_are_validated() -> None:
    cfg = StudioConfig().with_overrides({"fleet.days": 3, "fleet.seed": None})
    assert cfg.fleet.days == 3
    assert cfg.fleet.seed == StudioConfig().fleet.seed
    with pytest.raises(ConfigError, match="fleet.days"):
        StudioConfig().with_overrides({"fleet.days": -1})
