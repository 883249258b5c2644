"""Typed configuration of the studio: one YAML file, validated by pydantic.

The root model :class:`StudioConfig` has one section per concern (network, fleet,
charging, optimization, training, performance). Unknown keys are errors, shares must sum
to 1, powers and prices must be non-negative and SOC values lie in [0, 1]. Validation
failures are raised as :class:`evfleet.errors.ConfigError` whose message names each
offending field and the rule it breaks.
"""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from evfleet.errors import ConfigError
from evfleet.vehicles import DEFAULT_MARKET_SHARES, list_vehicles
from evfleet.vocab import ChargingPersonality, DriverProfile, DrivingStyle

SHARE_TOLERANCE = 1e-6


class NetworkSource(StrEnum):
    """Where the road network comes from."""

    EMBEDDED = "embedded"
    OSM_FILE = "osm_file"
    PLACE = "place"
    BBOX = "bbox"


class RoutingAlgorithm(StrEnum):
    """Point-to-point searches: ``dijkstra`` (bidirectional, no preparation), ``astar``
    (landmark bounds, prepared per weight) and ``ch`` (contraction hierarchy: ranks once
    per network, a customisation per weight)."""

    DIJKSTRA = "dijkstra"
    ASTAR = "astar"
    CH = "ch"


class SocObjective(StrEnum):
    ENERGY = "energy"
    COST = "cost"
    TIME = "time"
    WEIGHTED = "weighted"


class PlanningMode(StrEnum):
    MYOPIC = "myopic"
    NEXT_TRIP = "next_trip"
    ROLLING_HORIZON = "rolling_horizon"


class Strategy(StrEnum):
    """Fleet-optimisation presets (see :data:`STRATEGY_PRESETS`); ``custom``: the configured
    objective and weights as they are."""

    CUSTOM = "custom"
    ENERGY_FIRST = "energy_first"
    COST_CONSCIOUS = "cost_conscious"
    TIME_CRITICAL = "time_critical"
    BALANCED = "balanced"


class Runner(StrEnum):
    LOCAL = "local"
    DASK = "dask"


class ModelFamily(StrEnum):
    LINEAR = "linear"
    RANDOM_FOREST = "random_forest"
    XGBOOST = "xgboost"
    LIGHTGBM = "lightgbm"
    CATBOOST = "catboost"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)


class NetworkConfig(_Section):
    """Road network source and options."""

    source: NetworkSource = NetworkSource.EMBEDDED
    osm_file: Path | None = None
    place: str | None = None
    bbox: tuple[float, float, float, float] | None = Field(
        default=None, description="west, south, east, north in degrees (osmnx 2 order)"
    )
    dem_files: list[Path] = Field(default_factory=list)
    scale: float = Field(default=1.0, gt=0, le=10, description="size knob of the embedded network")
    seed: int = Field(default=42, ge=0)

    @model_validator(mode="after")
    def _source_options(self) -> Self:
        needs = {
            NetworkSource.OSM_FILE: ("osm_file", self.osm_file),
            NetworkSource.PLACE: ("place", self.place),
            NetworkSource.BBOX: ("bbox", self.bbox),
        }
        if self.source in needs:
            name, value = needs[self.source]
            if value in (None, ""):
                msg = f"source '{self.source.value}' needs '{name}' to be set"
                raise ValueError(msg)
        if self.bbox is not None:
            west, south, east, north = self.bbox
            if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
                msg = "bbox must be west,south,east,north with west<east and south<north"
                raise ValueError(msg)
        return self


class FleetConfig(_Section):
    """Fleet composition and simulated period."""

    n_vehicles: int = Field(default=50, ge=1, le=100_000)
    days: int = Field(default=7, ge=1, le=366)
    start_date: dt.date = dt.date(2024, 1, 13)
    seed: int = Field(default=42, ge=0)
    market_shares: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_MARKET_SHARES))
    driver_profiles: dict[DriverProfile, float] = Field(
        default_factory=lambda: {
            DriverProfile.COMMUTER: 0.50,
            DriverProfile.RIDESHARE: 0.20,
            DriverProfile.DELIVERY: 0.15,
            DriverProfile.CASUAL: 0.15,
        }
    )
    charging_personalities: dict[ChargingPersonality, float] = Field(
        default_factory=lambda: {
            ChargingPersonality.ANXIOUS: 0.25,
            ChargingPersonality.OPTIMIZER: 0.25,
            ChargingPersonality.CONVENIENCE: 0.30,
            ChargingPersonality.PROCRASTINATOR: 0.20,
        }
    )
    driving_styles: dict[DrivingStyle, float] = Field(
        default_factory=lambda: {
            DrivingStyle.ECO: 0.25,
            DrivingStyle.NORMAL: 0.55,
            DrivingStyle.AGGRESSIVE: 0.20,
        }
    )

    @field_validator("market_shares")
    @classmethod
    def _known_models(cls, v: dict[str, float]) -> dict[str, float]:
        known = set(list_vehicles())
        unknown = sorted(set(v) - known)
        if unknown:
            msg = (
                f"unknown vehicle model(s) {', '.join(unknown)}; "
                f"known models: {', '.join(sorted(known))}"
            )
            raise ValueError(msg)
        return v

    @field_validator("market_shares", "driver_profiles", "charging_personalities", "driving_styles")
    @classmethod
    def _shares(cls, v: dict[Any, float], info: ValidationInfo) -> dict[Any, float]:
        """Every mix of the fleet: non-empty, finite non-negative shares summing to 1."""
        what = info.field_name
        if not v:
            msg = f"{what} must not be empty"
            raise ValueError(msg)
        negative = [str(k) for k, share in v.items() if share < 0 or not math.isfinite(share)]
        if negative:
            msg = f"{what} must be finite and non-negative (bad: {', '.join(negative)})"
            raise ValueError(msg)
        total = sum(v.values())
        if abs(total - 1.0) > SHARE_TOLERANCE:
            msg = f"{what} must sum to 1 (tolerance {SHARE_TOLERANCE:g}), got {total:.6g}"
            raise ValueError(msg)
        return v


class ChargingConfig(_Section):
    """Charging infrastructure, tariffs and detour limits."""

    home_availability: float = Field(
        default=0.70, ge=0, le=1, description="share with a home charger"
    )
    home_power_kw: float = Field(
        default=7.2, gt=0, le=50, description="home wall-box rating, kW (grid-side AC)"
    )
    l2_power_kw: float = Field(
        default=22.0,
        gt=0,
        le=50,
        description="largest public L2 rating, kW (grid-side AC); faster stations are derated",
    )
    dcfc_power_kw: float = Field(
        default=350.0,
        gt=0,
        le=400,
        description="largest DC fast rating, kW (battery-side); faster stations are derated",
    )
    efficiency: float = Field(default=0.90, gt=0, le=1, description="battery kWh / grid kWh")
    public_station_share: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="share of the network's public stations open in the study (seeded draw)",
    )
    home_price_usd_per_kwh: float = Field(default=0.30, ge=0, description="off-peak home price")
    l2_price_usd_per_kwh: float = Field(default=0.35, ge=0)
    dcfc_price_usd_per_kwh: float = Field(default=0.48, ge=0)
    public_multiplier: float = Field(default=1.2, ge=0, description="premium on public prices")
    peak_multiplier: float = Field(default=1.8, ge=0, description="price factor in peak hours")
    peak_hours: tuple[int, int] = Field(default=(16, 21), description="[start, end) hour of peak")
    max_detour_km: float = Field(default=3.0, ge=0, le=100)
    site_power_cap_kw: float = Field(
        default=0.0,
        ge=0,
        le=100_000,
        description="power limit of a home/depot site shared by its vehicles, kW (0: no cap)",
    )
    demand_charge_usd_per_kw: float = Field(
        default=0.0, ge=0, le=1_000, description="charge on a site's peak power, USD per kW"
    )

    @field_validator("peak_hours")
    @classmethod
    def _hours(cls, v: tuple[int, int]) -> tuple[int, int]:
        start, end = v
        if not (0 <= start < end <= 24):
            msg = f"peak_hours must satisfy 0 <= start < end <= 24, got {list(v)}"
            raise ValueError(msg)
        return v


LEGACY_WEIGHT_NAMES: dict[str, str] = {
    "alpha": "time_penalty_kwh_per_h",
    "beta": "energy_weight",
    "price_weight": "price_weight_kwh_per_usd",
}
"""The seed's unit-less weight names and the unit-carrying settings they now map onto."""


class OptimizationConfig(_Section):
    """Routing and charging-plan optimisation knobs.

    The ``weighted`` objective of a route is an energy-equivalent generalised cost, kWh::

        J = energy_weight * energy_kwh
            + time_penalty_kwh_per_h * time_h
            + price_weight_kwh_per_usd * cost_usd

    (time includes charging and expected queueing; cost is driving energy at the TOU price
    plus charging fees). The seed's ``alpha`` / ``beta`` / ``price_weight`` are still
    accepted and map onto ``time_penalty_kwh_per_h`` / ``energy_weight`` /
    ``price_weight_kwh_per_usd``. ``gamma``, ``planning_mode`` and ``horizon_*`` belong to
    the fleet-optimisation stage.
    """

    algorithm: RoutingAlgorithm = Field(
        default=RoutingAlgorithm.DIJKSTRA,
        description="point-to-point search: dijkstra (no preparation), astar (landmarks per "
        "context), ch (contraction hierarchy: once per network, then per context)",
    )
    soc_objective: SocObjective = SocObjective.ENERGY
    planning_mode: PlanningMode = PlanningMode.MYOPIC
    energy_weight: float = Field(default=1.0, ge=0, description="weight on energy (kWh per kWh)")
    time_penalty_kwh_per_h: float = Field(
        default=1.0, ge=0, description="kWh-equivalent of one hour of travel or charging"
    )
    price_weight_kwh_per_usd: float = Field(
        default=1.0, ge=0, description="kWh-equivalent of one USD of energy or charging cost"
    )
    gamma: float = Field(default=0.9, ge=0, le=1, description="discount of later trips")
    horizon_trips: int = Field(default=3, ge=1, le=100)
    horizon_hours: float = Field(default=24.0, gt=0, le=24 * 14)
    reserve_soc: float = Field(default=0.15, ge=0, le=1)
    max_charge_soc: float = Field(
        default=0.9, gt=0, le=1, description="highest SOC a planned charging stop charges to"
    )
    charge_step_soc: float = Field(
        default=0.05, gt=0, le=0.5, description="SOC granularity of planned charging amounts"
    )
    pareto_epsilon: float = Field(
        default=0.01, ge=0, le=1, description="relative energy tolerance of large Pareto sets"
    )
    pareto_exact_max_nodes: int = Field(
        default=10_000, ge=0, description="networks up to this size get exact Pareto sets"
    )
    strategy: Strategy = Field(
        default=Strategy.CUSTOM,
        description="preset of objective and weights (STRATEGY_PRESETS); custom: as configured",
    )
    strict: bool = Field(
        default=False, description="fail the optimisation stage on any infeasible trip"
    )

    @model_validator(mode="before")
    @classmethod
    def _legacy_weights(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for old, new in LEGACY_WEIGHT_NAMES.items():
            if old in data:
                if new in data:
                    msg = f"give either '{old}' (legacy name) or '{new}', not both"
                    raise ValueError(msg)
                data[new] = data.pop(old)
        return data


STRATEGY_PRESETS: dict[Strategy, dict[str, Any]] = {  # every strategy but custom
    Strategy.ENERGY_FIRST: {
        "soc_objective": SocObjective.ENERGY,
        "energy_weight": 1.0,
        "time_penalty_kwh_per_h": 0.0,
        "price_weight_kwh_per_usd": 0.0,
    },
    Strategy.COST_CONSCIOUS: {
        "soc_objective": SocObjective.COST,
        "energy_weight": 0.0,
        "time_penalty_kwh_per_h": 0.0,
        "price_weight_kwh_per_usd": 1.0,
    },
    Strategy.TIME_CRITICAL: {
        "soc_objective": SocObjective.TIME,
        "energy_weight": 0.0,
        "time_penalty_kwh_per_h": 1.0,
        "price_weight_kwh_per_usd": 0.0,
    },
    Strategy.BALANCED: {
        "soc_objective": SocObjective.WEIGHTED,
        "energy_weight": 1.0,
        "time_penalty_kwh_per_h": 4.0,
        "price_weight_kwh_per_usd": 3.0,
    },
}
"""The seed's four strategies as overrides of the ``optimization`` section."""


def with_strategy(cfg: StudioConfig, strategy: Strategy | str | None) -> StudioConfig:
    """``cfg`` with a strategy preset applied (``None``: the configured strategy)."""
    chosen = Strategy(strategy) if strategy is not None else cfg.optimization.strategy
    if chosen is Strategy.CUSTOM:
        return cfg.with_overrides({"optimization.strategy": chosen.value})
    preset = {f"optimization.{k}": v for k, v in STRATEGY_PRESETS[chosen].items()}
    return cfg.with_overrides({**preset, "optimization.strategy": chosen.value})


class TrainingConfig(_Section):
    """Energy-model training budget."""

    models: list[ModelFamily] = Field(default_factory=lambda: list(ModelFamily))
    n_trials: int = Field(default=6, ge=1, le=10_000, description="Optuna trials per family")
    timeout_s: float = Field(default=30.0, gt=0, description="tuning budget per family, s")
    seed: int = Field(default=42, ge=0)
    selection_tolerance: float = Field(
        default=0.01,
        ge=0,
        le=0.2,
        description=(
            "families whose validation MAE is within this share of the best are equivalent; "
            "the one predicting fastest becomes champion (0: strictly the lowest MAE)"
        ),
    )


QUALITY_CHUNK_ROWS = 300_000
"""Rows the quality gate validates at a time (peak RSS ~0.8 GB, ~1.3 GB under the CLI).

Results do not depend on it; fewer rows use less memory and more CPU (fixed GX cost per chunk).
"""


class PerformanceConfig(_Section):
    """Batch sizes, parallelism and sampling."""

    runner: Runner = Runner.LOCAL
    dask_address: str | None = None
    n_workers: int = Field(default=2, ge=1, le=256)
    synth_chunk_vehicles: int = Field(default=25, ge=1)
    predict_batch_size: int = Field(default=1_000_000, ge=1)
    quality_sample_fraction: float = Field(default=1.0, gt=0, le=1)
    quality_chunk_rows: int = Field(default=QUALITY_CHUNK_ROWS, ge=1_000)
    training_sample_fraction: float = Field(default=1.0, gt=0, le=1)


class StudioConfig(_Section):
    """Root configuration of an evfleet run."""

    network: NetworkConfig = Field(default_factory=NetworkConfig)
    fleet: FleetConfig = Field(default_factory=FleetConfig)
    charging: ChargingConfig = Field(default_factory=ChargingConfig)
    optimization: OptimizationConfig = Field(default_factory=OptimizationConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    performance: PerformanceConfig = Field(default_factory=PerformanceConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict (enums as values, dates as ISO strings)."""
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        """YAML text that :func:`load_config` accepts unchanged."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def section_dict(self, name: str) -> dict[str, Any]:
        """One section as a plain dict, e.g. for stage ids."""
        data: dict[str, Any] = self.to_dict()[name]
        return data

    def with_overrides(self, overrides: dict[str, Any]) -> StudioConfig:
        """Return a validated copy with dotted-key overrides, e.g. ``{"fleet.days": 3}``."""
        data = self.to_dict()
        for dotted, value in overrides.items():
            if value is None:
                continue
            node = data
            *parents, leaf = dotted.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
        return config_from_dict(data)


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        text = err["msg"]
        if err["type"] == "extra_forbidden":
            text = "unknown key (not a setting; check the spelling)"
        text = text.removeprefix("Value error, ")
        lines.append(f"{loc}: {text}")
    if len(lines) == 1:
        return f"invalid configuration: {lines[0]}"
    return f"invalid configuration ({len(lines)} problems):\n  " + "\n  ".join(lines)


def config_from_dict(data: dict[str, Any] | None) -> StudioConfig:
    """Validate a dict into a :class:`StudioConfig`, raising :class:`ConfigError`."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        msg = f"invalid configuration: the top level must be a mapping, got {type(data).__name__}"
        raise ConfigError(msg)
    try:
        return StudioConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from None


def load_config(path: str | Path | None = None) -> StudioConfig:
    """Load and validate a YAML config file; ``None`` gives the defaults."""
    if path is None:
        return StudioConfig()
    path = Path(path)
    if not path.is_file():
        msg = f"config file not found: {path}"
        raise ConfigError(msg)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        msg = f"config file {path} is not UTF-8 text (is it a binary file?)"
        raise ConfigError(msg) from None
    except OSError as exc:
        msg = f"cannot read config file {path}: {exc.strerror}"
        raise ConfigError(msg) from None
    except yaml.YAMLError as exc:
        msg = f"config file {path} is not valid YAML: {' '.join(str(exc).split())}"
        raise ConfigError(msg) from None
    except ValueError as exc:
        # YAML builds dates itself: 2024-02-30 fails before validation sees it.
        msg = f"config file {path} holds an invalid value: {exc}"
        raise ConfigError(msg) from None
    return config_from_dict(data)
