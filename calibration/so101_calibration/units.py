"""Joint units: servo ticks ↔ LeRobot normalized values ↔ radians on ROS topics. Pure numpy.

Every function takes arrays whose last axis is the six joints in bus order (JOINT_NAMES), so one
call converts a reading, a batch or a whole action chunk of shape (..., 6).

LeRobot normalized values (docs/reference/lerobot.md §4) are reproduced bit for bit: the same float64
operations in the same order, the clamping of the RANGE modes, the 4095 divisor of DEGREES and
int() truncation towards zero on the way back to ticks. A GR00T checkpoint trained on a LeRobot
dataset therefore sees exactly the numbers LeRobot would have recorded, and its actions become
exactly the ticks LeRobot would have sent. One deliberate difference: a non-finite value raises
ValueError (LeRobot's clamp turns NaN into range_min and sends it).

Radians on ROS topics (docs/architecture.md §4) are defined here and nowhere else:

    rad = deg2rad(LeRobot DEGREES value) = (ticks − (range_min + range_max) / 2) · 2π / 4095

i.e. the physical joint angle from the middle of the calibrated range, which is the zero of the
SO-101 "new calib" URDF. 4095 rather than the encoder's true 4096 ticks per turn keeps radians
a pure unit change of LeRobot's `use_degrees=True` values (a policy's degrees map to ROS radians
with deg2rad and back with no drift); the price is a 1/4096 scale error, under half a tick
anywhere in a turn. The gripper follows the same rule (radians from its mid-range), although
LeRobot reports it 0..100 (RANGE_0_100); drive_mode is ignored, as LeRobot's DEGREES ignores it.
Radians → ticks rounds to the nearest tick, so ticks → radians → ticks is exact.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from so101_calibration.calibration import MAX_TICK, ArmCalibration
from so101_calibration.joints import JOINT_NAMES

DEGREES_PER_TURN = 360
TICKS_PER_TURN = MAX_TICK
RADIANS_PER_TICK = 2 * np.pi / TICKS_PER_TURN  # the same scale, for velocities (ticks/s → rad/s)
"""4095: LeRobot's DEGREES divisor (model resolution − 1), used for radians too (see module doc)."""
GOAL_POSITION_LIMIT = 32767
"""Goal_Position is sign-magnitude with the sign in bit 15."""


class NormMode(Enum):
    """LeRobot's MotorNormMode values that SO-101 arms use."""

    RANGE_M100_100 = "range_m100_100"
    RANGE_0_100 = "range_0_100"
    DEGREES = "degrees"


def lerobot_norm_modes(use_degrees: bool) -> tuple[NormMode, ...]:
    """Each joint's mode under LeRobot's SO-101 config: arm joints DEGREES or RANGE_M100_100, gripper 0..100.

    `use_degrees` defaults to True in LeRobot 0.4.4 and False before; datasets and policies
    recorded under one convention do not work under the other, so callers must say which.
    """
    arm = NormMode.DEGREES if use_degrees else NormMode.RANGE_M100_100
    return tuple(NormMode.RANGE_0_100 if name == "gripper" else arm for name in JOINT_NAMES)


@dataclass(frozen=True)
class UnitConverter:
    """All joint-unit conversions for one calibrated arm under one LeRobot unit convention."""

    calibration: ArmCalibration
    use_degrees: bool
    modes: tuple[NormMode, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "modes", lerobot_norm_modes(self.use_degrees))

    # --- LeRobot normalized values ---------------------------------------------------------

    def ticks_to_normalized(self, ticks: np.ndarray) -> np.ndarray:
        """Present_Position ticks → LeRobot normalized values (float64), as LeRobot's _normalize."""
        raw = _joint_array(ticks, "ticks")
        low, high, reverse = self._range()
        bounded = np.clip(raw, low, high)
        fraction = (bounded - low) / (high - low)
        m100 = fraction * 200 - 100
        p100 = fraction * 100
        return np.select(
            [self._mask(NormMode.RANGE_M100_100), self._mask(NormMode.RANGE_0_100)],
            [np.where(reverse, -m100, m100), np.where(reverse, 100 - p100, p100)],
            default=ticks_to_degrees(self.calibration, raw),
        )

    def normalized_to_ticks(self, values: np.ndarray) -> np.ndarray:
        """LeRobot normalized values → Goal_Position ticks (int64), as LeRobot's _unnormalize."""
        value = _finite(_joint_array(values, "normalized values"), "normalized values")
        low, high, reverse = self._range()
        m100 = np.clip(np.where(reverse, -value, value), -100.0, 100.0)
        p100 = np.clip(np.where(reverse, 100 - value, value), 0.0, 100.0)
        from_m100 = ((m100 + 100) / 200) * (high - low) + low
        from_p100 = (p100 / 100) * (high - low) + low
        from_degrees = (value * TICKS_PER_TURN / DEGREES_PER_TURN) + _middle(self.calibration)
        masks = [self._mask(NormMode.RANGE_M100_100), self._mask(NormMode.RANGE_0_100)]
        ticks = np.select(masks, [from_m100, from_p100], default=from_degrees)
        return _as_ticks(np.trunc(ticks), "normalized values")  # int(): towards zero, as LeRobot

    # --- radians (ROS topics) --------------------------------------------------------------

    def ticks_to_radians(self, ticks: np.ndarray) -> np.ndarray:
        return ticks_to_radians(self.calibration, ticks)

    def radians_to_ticks(self, radians: np.ndarray) -> np.ndarray:
        return radians_to_ticks(self.calibration, radians)

    def normalized_to_radians(self, values: np.ndarray) -> np.ndarray:
        """Through LeRobot's own ticks, so a follower fed these radians sends what LeRobot would send."""
        return self.ticks_to_radians(self.normalized_to_ticks(values))

    def radians_to_normalized(self, radians: np.ndarray) -> np.ndarray:
        """Through the nearest tick, so radians read from the arm give exactly LeRobot's observation."""
        return self.ticks_to_normalized(self.radians_to_ticks(radians))

    # --- internals -------------------------------------------------------------------------

    def _range(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cal = self.calibration
        return cal.column("range_min"), cal.column("range_max"), cal.column("drive_mode").astype(bool)

    def _mask(self, mode: NormMode) -> np.ndarray:
        return np.array([m is mode for m in self.modes])


def ticks_to_degrees(calibration: ArmCalibration, ticks: np.ndarray) -> np.ndarray:
    """LeRobot's DEGREES value of each joint (unclamped, drive_mode ignored, 4095 ticks per 360°)."""
    raw = _joint_array(ticks, "ticks")
    return (raw - _middle(calibration)) * DEGREES_PER_TURN / TICKS_PER_TURN


def ticks_to_radians(calibration: ArmCalibration, ticks: np.ndarray) -> np.ndarray:
    """Present_Position ticks → ROS radians: deg2rad of LeRobot's DEGREES value (module doc)."""
    return np.deg2rad(ticks_to_degrees(calibration, ticks))


def radians_to_ticks(calibration: ArmCalibration, radians: np.ndarray) -> np.ndarray:
    """ROS radians → the nearest tick (int64). Not clamped: limits are the safety filter's job."""
    angle = _finite(_joint_array(radians, "radians"), "radians")
    ticks = np.rad2deg(angle) * TICKS_PER_TURN / DEGREES_PER_TURN + _middle(calibration)
    return _as_ticks(np.rint(ticks), "radians")


def _as_ticks(whole: np.ndarray, what: str) -> np.ndarray:
    """Whole-numbered floats → int64 ticks; ValueError beyond what Goal_Position can hold."""
    if np.any(np.abs(whole) > GOAL_POSITION_LIMIT):
        raise ValueError(f"{what} give ticks beyond ±{GOAL_POSITION_LIMIT}, which no servo position can be")
    return whole.astype(np.int64)


def _middle(calibration: ArmCalibration) -> np.ndarray:
    return (calibration.column("range_min") + calibration.column("range_max")) / 2


def _joint_array(values: np.ndarray, what: str) -> np.ndarray:
    """int64 or float64 (float32 input is widened exactly, as LeRobot's Python floats are doubles)."""
    array = np.asarray(values)
    if array.ndim == 0 or array.shape[-1] != len(JOINT_NAMES):
        raise ValueError(
            f"{what} need a last axis of {len(JOINT_NAMES)} joints ({', '.join(JOINT_NAMES)}), got shape {array.shape}"
        )
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(np.int64, copy=False)
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float64, copy=False)
    raise ValueError(f"{what} must be numbers, got dtype {array.dtype}")


def _finite(values: np.ndarray, what: str) -> np.ndarray:
    bad = ~np.isfinite(values)
    if np.any(bad):
        joints = sorted({JOINT_NAMES[i] for i in np.nonzero(bad)[-1]}, key=JOINT_NAMES.index)
        raise ValueError(f"{what} are not finite for {', '.join(joints)}; refusing to turn them into ticks")
    return values
