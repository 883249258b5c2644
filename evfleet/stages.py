"""Every stage id of the studio in one place: what each id hashes, and the versions in it.

A stage id (:func:`evfleet.storage.stage_id`) changes when, and only when, something that
changes the stage's output changes: its config section, the ids of its inputs, a schema or
simulator version, the bytes of its input files, or the source code it runs (a
:func:`~evfleet.storage.source_fingerprint` of the packages listed here). Tasks compute
ids only through these functions, so two tasks can never disagree about one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from evfleet.config import (
    ModelFamily,
    NetworkConfig,
    NetworkSource,
    PerformanceConfig,
    StudioConfig,
    TrainingConfig,
)
from evfleet.errors import NetworkSourceError
from evfleet.fleet import SIMULATOR_VERSION
from evfleet.network.build import NETWORK_SCHEMA_VERSION
from evfleet.schema import SCHEMA_VERSION
from evfleet.storage import file_fingerprint, source_fingerprint, stage_id

__all__ = [
    "FEATURE_SOURCES",
    "NETWORK_SCHEMA_VERSION",
    "OPTIMIZATION_SOURCES",
    "QUALITY_SOURCES",
    "SCHEMA_VERSION",
    "SIMULATOR_VERSION",
    "TARGET_TRANSFORM",
    "TRAIN_VERSION",
    "dataset_id",
    "features_id",
    "network_id",
    "optimization_id",
    "quality_id",
    "session_key",
    "train_key",
    "training_budget",
]

QUALITY_SOURCES: Final = ("expectations", "evfleet.invariants", "evfleet.schema")
"""Code that defines the suites and checks: editing it changes the quality stage id."""
FEATURE_SOURCES: Final = ("evfleet.features", "evfleet.physics", "evfleet.fleet.road_arrays")
"""Code defining the features, their split and physics priors: editing it changes the id."""
OPTIMIZATION_SOURCES: Final = (
    "evfleet.optimize", "evfleet.routing", "evfleet.fleet", "evfleet.physics", "evfleet.vehicles",
)  # fmt: skip
"""Code the optimiser's answers depend on: editing it changes the stage id."""
TRAIN_VERSION: Final = 3
"""Bump when tuning or evaluation changes, so cached family runs are retrained.
3: tuning on rows before the held-out days; metrics named ``<evaluation>/<predictor>/<m>``."""
TARGET_TRANSFORM: Final = "physics_residual"
"""What the models learn: the residual of the physics prior (part of the training budget)."""


def network_id(cfg: NetworkConfig) -> str:
    """Stage id of a network: its config section plus the bytes of its input files.

    Raises
    ------
    NetworkSourceError
        When the OSM file or a DEM raster named by the config does not exist.
    """
    section = cfg.model_dump(mode="json")
    extra: dict[str, Any] = {}
    if cfg.source is NetworkSource.OSM_FILE and cfg.osm_file is not None:
        path = Path(cfg.osm_file)
        if not path.is_file():
            msg = f"OSM file not found: {path}"
            raise NetworkSourceError(msg)
        extra["osm_sha256"] = file_fingerprint(path)
        section["osm_file"] = path.name
    else:
        section.pop("osm_file", None)
    if cfg.source is not NetworkSource.EMBEDDED:
        section.pop("scale", None)
    dems = []
    for dem in cfg.dem_files:
        if not Path(dem).is_file():
            msg = f"DEM file not found: {dem}"
            raise NetworkSourceError(msg)
        dems.append(file_fingerprint(dem))
    section["dem_files"] = dems
    return stage_id("network", section, schema_version=NETWORK_SCHEMA_VERSION, extra=extra)


def dataset_id(config: StudioConfig, network: str) -> str:
    """Stage id of a dataset: fleet + charging config, the network id, the schema and
    simulator versions."""
    section = {"fleet": config.section_dict("fleet"), "charging": config.section_dict("charging")}
    return stage_id(
        "datasets",
        section,
        inputs=[network],
        schema_version=SCHEMA_VERSION,
        extra={"simulator_version": SIMULATOR_VERSION},
    )


def quality_id(config: StudioConfig, dataset: str) -> str:
    """Stage id of a validation: the sampling knob, the dataset id and the suites' code.

    ``quality_chunk_rows`` is not part of it: it bounds memory, the results do not depend on it.
    """
    section = {"sample_fraction": config.performance.quality_sample_fraction}
    suites = source_fingerprint(*QUALITY_SOURCES)
    return stage_id("quality", section, inputs=[dataset], extra={"suites": suites})


def features_id(dataset: str, training: TrainingConfig) -> str:
    """Stage id of the feature table of a dataset (splits depend on the training seed)
    and of the feature code."""
    return stage_id(
        "features",
        {"split_seed": training.seed},
        inputs=[dataset],
        extra={"code": source_fingerprint(*FEATURE_SOURCES)},
    )


def optimization_id(
    config: StudioConfig,
    dataset: str,
    network: str,
    run_labels: Sequence[str],
    energy: str = "physics",
) -> str:
    """Stage id: optimisation + charging config, the runs (``strategy/planning mode``
    labels), dataset and network ids, the energy source the plans used (``physics`` or
    ``ml:<registered model>/<version>``) and the optimiser's code."""
    section = {
        "optimization": config.section_dict("optimization"),
        "charging": config.section_dict("charging"),
        "runs": list(run_labels),
    }
    return stage_id(
        "optimization",
        section,
        inputs=[dataset, network],
        extra={"energy": energy, "code": source_fingerprint(*OPTIMIZATION_SOURCES)},
    )


def training_budget(training: TrainingConfig, performance: PerformanceConfig) -> dict[str, Any]:
    """What a tuning may spend and how it samples: part of every training key, and logged
    as the runs' parameters."""
    return {
        "n_trials": training.n_trials,
        "timeout_s": training.timeout_s,
        "seed": training.seed,
        "sample_fraction": performance.training_sample_fraction,
        "target_transform": TARGET_TRANSFORM,
    }


def train_key(
    features: str,
    family: ModelFamily,
    training: TrainingConfig,
    performance: PerformanceConfig,
) -> str:
    """Cache key of one family's tuning on a feature table: its inputs and budget."""
    config = {"family": family.value, **training_budget(training, performance)}
    return stage_id("train", config, inputs=[features], schema_version=TRAIN_VERSION)


def session_key(features: str, training: TrainingConfig, performance: PerformanceConfig) -> str:
    """Key of a training session: the feature table and the budget (families may be added
    to a session later; each family run is cached on its own :func:`train_key`)."""
    return stage_id(
        "train-session",
        training_budget(training, performance),
        inputs=[features],
        schema_version=TRAIN_VERSION,
    )
