"""The joint units a policy speaks, and the one place that converts them to ROS radians.

GR00T passes units through (docs/reference/gr00t-wire.md §7.3): a checkpoint expects state and produces
actions in whatever units its fine-tuning dataset used — LeRobot degrees (use_degrees=True,
LeRobot 0.4.4's default), LeRobot normalized −100..100 (use_degrees=False), or radians for
data recorded from simulation. ROS topics carry radians. Conversions to LeRobot units go
through so101_calibration's UnitConverter (and so through the arm's calibration, via the
servo ticks LeRobot itself would read or send); between identical units nothing is converted
and no calibration is needed.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from so101_calibration import ArmCalibration, UnitConverter


class JointUnits(Enum):
    RADIANS = "radians"
    DEGREES = "degrees"
    """LeRobot use_degrees=True: arm joints in degrees, gripper 0..100."""
    NORMALIZED = "normalized"
    """LeRobot use_degrees=False: arm joints −100..100, gripper 0..100."""


@dataclass(frozen=True)
class PolicyUnits:
    """Units of a policy (or a dataset) plus the calibration needed to reach radians from them."""

    units: JointUnits
    calibration: ArmCalibration | None = None

    def __post_init__(self) -> None:
        if self.units is not JointUnits.RADIANS and self.calibration is None:
            raise ValueError(
                f"converting between ROS radians and LeRobot {self.units.value} needs the arm's calibration "
                "(a LeRobot calibration JSON, e.g. --calibration PATH)"
            )

    def from_radians(self, radians: np.ndarray) -> np.ndarray:
        """(..., 6) radians → (..., 6) float64 in these units."""
        if self.units is JointUnits.RADIANS:
            return np.array(radians, dtype=np.float64)
        return self._converter().radians_to_normalized(radians)

    def to_radians(self, values: np.ndarray) -> np.ndarray:
        """(..., 6) values in these units → (..., 6) float64 radians (ValueError if not finite)."""
        if self.units is JointUnits.RADIANS:
            return np.array(values, dtype=np.float64)
        return self._converter().normalized_to_radians(values)

    def _converter(self) -> UnitConverter:
        assert self.calibration is not None  # guaranteed by __post_init__
        return UnitConverter(self.calibration, use_degrees=self.units is JointUnits.DEGREES)


def convert_units(values: np.ndarray, source: JointUnits, target: JointUnits, calibration: ArmCalibration | None):
    """(..., 6) values from `source` to `target` units as float64; calibration only needed when they differ."""
    if source is target:
        return np.array(values, dtype=np.float64)
    return PolicyUnits(target, calibration).from_radians(PolicyUnits(source, calibration).to_radians(values))
