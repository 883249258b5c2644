"""Drive cycles: read and validate ``time_s,speed_mps[,grade]`` CSV files, simulate them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from evfleet.errors import InputDataError
from evfleet.physics.model import (
    MAX_ABS_GRADE,
    MAX_SPEED_MPS,
    Conditions,
    EnergyBreakdown,
    simulate,
)
from evfleet.vehicles import VehicleSpec

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("time_s", "speed_mps")


@dataclass(frozen=True, slots=True)
class DriveCycle:
    """A speed trace sampled at increasing times.

    Attributes
    ----------
    name
        Label (the file stem when read from a file).
    time_s
        Sample times, strictly increasing, s.
    speed_mps
        Speed at each sample, m/s.
    grade
        Road grade (rise/run) at each sample.
    """

    name: str
    time_s: NDArray[np.float64]
    speed_mps: NDArray[np.float64]
    grade: NDArray[np.float64]

    @property
    def duration_s(self) -> float:
        """Time from the first to the last sample, s."""
        return float(self.time_s[-1] - self.time_s[0])

    @property
    def distance_m(self) -> float:
        """Distance driven (trapezoidal rule), m."""
        return float(
            np.sum(0.5 * (self.speed_mps[1:] + self.speed_mps[:-1]) * np.diff(self.time_s))
        )


def _column(frame: pd.DataFrame, name: str, source: str) -> NDArray[np.float64]:
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 2  # header is line 1
        msg = f"{source}: column {name!r} has a missing or non-numeric value on line {row}"
        raise InputDataError(msg)
    return values


def _first_bad_line(mask: NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0]) + 2


def read_cycle(path: str | Path) -> DriveCycle:
    """Read a drive-cycle CSV with columns ``time_s, speed_mps`` and optional ``grade``.

    Raises
    ------
    InputDataError
        If the file is missing or unreadable, a column is missing, values are NaN or
        non-numeric, speeds are negative or above 100 m/s, time is not strictly
        increasing, or ``|grade| > 0.35``; the message names the file, column and line.
    """
    source = str(path)
    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except FileNotFoundError:
        msg = f"{source}: cycle file not found"
        raise InputDataError(msg) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        msg = f"{source}: not a readable CSV file ({exc})"
        raise InputDataError(msg) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        msg = f"{source}: missing column(s) {missing}; expected time_s, speed_mps[, grade]"
        raise InputDataError(msg)
    if len(frame) < 2:
        msg = f"{source}: a cycle needs at least two samples, got {len(frame)}"
        raise InputDataError(msg)
    time_s = _column(frame, "time_s", source)
    speed = _column(frame, "speed_mps", source)
    grade = _column(frame, "grade", source) if "grade" in frame.columns else np.zeros_like(speed)
    if (speed < 0).any():
        msg = f"{source}: negative speed_mps on line {_first_bad_line(speed < 0)}"
        raise InputDataError(msg)
    if (speed > MAX_SPEED_MPS).any():
        msg = f"{source}: speed_mps above {MAX_SPEED_MPS} m/s on line "
        msg += str(_first_bad_line(speed > MAX_SPEED_MPS))
        raise InputDataError(msg)
    steps = np.diff(time_s)
    if (steps <= 0).any():
        msg = (
            f"{source}: time_s is not strictly increasing at line {_first_bad_line(steps <= 0) + 1}"
        )
        raise InputDataError(msg)
    steep = np.abs(grade) > MAX_ABS_GRADE
    if steep.any():
        msg = f"{source}: |grade| above {MAX_ABS_GRADE} (rise/run) on line {_first_bad_line(steep)}"
        raise InputDataError(msg)
    logger.debug("read cycle %s: %d samples", source, len(frame))
    return DriveCycle(name=Path(path).stem, time_s=time_s, speed_mps=speed, grade=grade)


def cycle_energy(
    spec: VehicleSpec,
    cycle: DriveCycle,
    *,
    conditions: Conditions | None = None,
    headwind_mps: float = 0.0,
) -> EnergyBreakdown:
    """Battery energy and components of ``spec`` driving ``cycle``.

    Each interval between consecutive samples is one step with linear speed change; the
    grade of a step is the grade at its end sample (FASTSim convention).
    """
    return simulate(
        spec,
        cycle.speed_mps[1:],
        dt_s=np.diff(cycle.time_s),
        grade=cycle.grade[1:],
        headwind_mps=headwind_mps,
        conditions=conditions,
        initial_speed_mps=float(cycle.speed_mps[0]),
    )
