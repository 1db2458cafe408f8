"""The calibration of one SO-101 arm: LeRobot's five integers per motor, checked once, then trusted.

An ArmCalibration can only exist with valid values, so code that holds one (unit conversions,
EEPROM writes, joint limits) never re-checks, and a bad file can never reach a motor. The rules
are the servo's (docs/reference/feetech-sts.md §5, §7) and LeRobot's (docs/reference/lerobot.md §2, §4).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType

import numpy as np

from so101_calibration.errors import InvalidCalibrationError
from so101_calibration.joints import JOINT_NAMES, SO101_JOINTS

MAX_TICK = 4095
"""Highest STS3215 encoder reading (4096 ticks per turn); Max_Position_Limit's upper bound."""
HOMING_OFFSET_LIMIT = 2047
"""Largest |Homing_Offset|: the register is sign-magnitude with the sign in bit 11."""
HALF_TURN = MAX_TICK // 2
"""2047 = int(4095 / 2): where LeRobot's homing puts the middle pose."""
DRIVE_MODES = (0, 1)
FULL_TURN_JOINT = "wrist_roll"
"""LeRobot ≥ 0.4.3 does not record this joint's range; it is always 0..4095."""


@dataclass(frozen=True)
class MotorCalibration:
    """One motor's entry in a LeRobot calibration file (field order = the file's)."""

    id: int
    drive_mode: int
    homing_offset: int
    range_min: int
    range_max: int


CALIBRATION_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(MotorCalibration))
"""The five fields of a LeRobot calibration entry, in the order LeRobot writes them."""


@dataclass(frozen=True)
class ArmCalibration:
    """All six motors, by joint name, in bus order. Construction validates every value."""

    motors: Mapping[str, MotorCalibration]

    def __post_init__(self) -> None:
        _check_motors(self.motors)
        ordered = {name: self.motors[name] for name in JOINT_NAMES}
        object.__setattr__(self, "motors", MappingProxyType(ordered))

    def __getitem__(self, joint: str) -> MotorCalibration:
        return self.motors[joint]

    def __iter__(self) -> Iterator[str]:
        return iter(self.motors)

    def column(self, field: str) -> np.ndarray:
        """One field of every motor as an int64 vector in joint order (for vectorised conversions)."""
        if field not in CALIBRATION_FIELDS:
            raise KeyError(f"no calibration field {field!r}; fields are {', '.join(CALIBRATION_FIELDS)}")
        return np.array([getattr(m, field) for m in self.motors.values()], dtype=np.int64)


def _check_motors(motors: Mapping[str, MotorCalibration]) -> None:
    """Raise InvalidCalibrationError naming the motor and field of the first broken rule."""
    missing = [name for name in JOINT_NAMES if name not in motors]
    if missing:
        raise InvalidCalibrationError(
            f"missing motor(s) {', '.join(missing)}; an SO-101 calibration lists all of {', '.join(JOINT_NAMES)}"
        )
    unknown = [name for name in motors if name not in JOINT_NAMES]
    if unknown:
        raise InvalidCalibrationError(
            f"unknown motor(s) {', '.join(map(repr, unknown))}; SO-101 motors are {', '.join(JOINT_NAMES)}"
        )
    _check_unique_ids(motors)
    for joint in SO101_JOINTS:
        _check_motor(joint.name, joint.motor_id, motors[joint.name])


def _check_unique_ids(motors: Mapping[str, MotorCalibration]) -> None:
    owner: dict[int, str] = {}
    for name, motor in motors.items():
        if motor.id in owner:
            raise InvalidCalibrationError(
                f"duplicate id {motor.id}: used by both {owner[motor.id]!r} and {name!r}", motor=name, field="id"
            )
        owner[motor.id] = name


def _check_motor(name: str, expected_id: int, motor: MotorCalibration) -> None:
    def fail(field: str, detail: str) -> InvalidCalibrationError:
        return InvalidCalibrationError(detail, motor=name, field=field)

    for field in CALIBRATION_FIELDS:
        value = getattr(motor, field)
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(field, f"must be an integer, got {value!r}")
    if motor.id != expected_id:
        raise fail("id", f"is {motor.id}, but the SO-101 {name} motor is id {expected_id} (a file for another arm?)")
    if motor.drive_mode not in DRIVE_MODES:
        raise fail("drive_mode", f"must be 0 or 1, got {motor.drive_mode}")
    if abs(motor.homing_offset) > HOMING_OFFSET_LIMIT:
        raise fail(
            "homing_offset",
            f"{motor.homing_offset} does not fit the servo's Homing_Offset register (sign bit 11: "
            f"at most ±{HOMING_OFFSET_LIMIT}); recalibrate with the joint nearer the middle of its range",
        )
    for field in ("range_min", "range_max"):
        value = getattr(motor, field)
        if not 0 <= value <= MAX_TICK:
            raise fail(field, f"{value} is outside the encoder's 0..{MAX_TICK}")
    if motor.range_min >= motor.range_max:
        raise fail("range_min", f"range_min {motor.range_min} must be below range_max {motor.range_max}")
