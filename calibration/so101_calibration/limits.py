"""Joint limits for the follower's safety filter, in ROS radians.

A joint may go where both the operator's calibration and the robot model allow: the calibrated
range (the extremes the operator moved the arm to, i.e. its mechanical stops), pulled in by a
margin, intersected with the model's limits. The margin keeps commands off the hard stops, where
a position-controlled servo would push against the frame until its overload protection trips.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from so101_calibration.calibration import ArmCalibration
from so101_calibration.joints import JOINT_NAMES
from so101_calibration.units import ticks_to_radians

DEFAULT_MARGIN_RAD = math.radians(2.0)

SO101_MODEL_LIMITS_RAD: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        # TheRobotStudio SO-ARM100 so101_new_calib.urdf, whose zero is the middle of the calibrated
        # range, as for ROS radians (docs/reference/isaac-sim.md §2).
        "shoulder_pan": (-1.91986, 1.91986),
        "shoulder_lift": (-1.74533, 1.74533),
        "elbow_flex": (-1.69, 1.69),
        "wrist_flex": (-1.65806, 1.65806),
        "wrist_roll": (-2.74385, 2.84121),
        # No gripper entry: the URDF's gripper zero is "closed", ours is mid-range, so its
        # -10°..100° cannot be compared; the calibrated range is the gripper's physical stop.
    }
)


@dataclass(frozen=True, eq=False)  # numpy fields: compare the arrays, not the objects
class JointLimits:
    """Lower and upper limit per joint, radians, in JOINT_NAMES order."""

    lower: np.ndarray
    upper: np.ndarray

    def __post_init__(self) -> None:
        for name in ("lower", "upper"):
            array = np.array(getattr(self, name), dtype=np.float64)
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        if self.lower.shape != (len(JOINT_NAMES),) or self.upper.shape != (len(JOINT_NAMES),):
            raise ValueError(f"need one lower and one upper limit per joint ({', '.join(JOINT_NAMES)})")
        for name, low, high in zip(JOINT_NAMES, self.lower, self.upper):
            if not low < high:
                raise ValueError(f"{name}: lower limit {low:.4f} rad is not below upper limit {high:.4f} rad")


def joint_limits(
    calibration: ArmCalibration,
    margin_rad: float = DEFAULT_MARGIN_RAD,
    model_limits: Mapping[str, tuple[float, float]] = SO101_MODEL_LIMITS_RAD,
) -> JointLimits:
    """The calibrated range minus `margin_rad` on each side, intersected with `model_limits`.

    model_limits may omit joints (no model limit for them). ValueError if the margin is negative
    or leaves a joint no room, or if a model limit names an unknown joint.
    """
    if not margin_rad >= 0:
        raise ValueError(f"margin_rad must be >= 0, got {margin_rad}")
    unknown = set(model_limits) - set(JOINT_NAMES)
    if unknown:
        raise ValueError(f"model limits for unknown joint(s) {sorted(unknown)}; joints are {', '.join(JOINT_NAMES)}")
    lower = ticks_to_radians(calibration, calibration.column("range_min")) + margin_rad
    upper = ticks_to_radians(calibration, calibration.column("range_max")) - margin_rad
    model = np.array([model_limits.get(n, (-math.inf, math.inf)) for n in JOINT_NAMES]).T
    try:
        return JointLimits(np.maximum(lower, model[0]), np.minimum(upper, model[1]))
    except ValueError as exc:
        raise ValueError(
            f"{exc}: the calibrated range less a {margin_rad:.4f} rad margin, within the model limits, leaves "
            "no room. Recalibrate (move the joint through its whole range) or reduce the margin."
        ) from None
