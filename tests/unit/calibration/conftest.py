"""Fixtures for the calibration tests: LeRobot-format files, calibrations, a LeRobot-style reader."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from so101_calibration import SO101_JOINTS, ArmCalibration, MotorCalibration

FIXTURES = Path(__file__).parent / "fixtures"
"""Files written by hand from LeRobot's documented format (docs/reference/lerobot.md §2)."""

MakeCalibration = Callable[..., ArmCalibration]


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def make_calibration() -> MakeCalibration:
    """make_calibration(elbow_flex={"range_min": 900}, ...) → a valid calibration with those overrides."""

    def make(**overrides: dict[str, int]) -> ArmCalibration:
        motors = {}
        for joint in SO101_JOINTS:
            full_turn = joint.name == "wrist_roll"
            fields = {
                "id": joint.motor_id,
                "drive_mode": 0,
                "homing_offset": 100 * joint.motor_id - 300,
                "range_min": 0 if full_turn else 800 + 10 * joint.motor_id,
                "range_max": 4095 if full_turn else 3300 - 10 * joint.motor_id,
            }
            fields.update(overrides.get(joint.name, {}))
            motors[joint.name] = MotorCalibration(**fields)
        return ArmCalibration(motors)

    return make


@dataclass(frozen=True)
class LeRobotMotorCalibration:
    """lerobot.motors.MotorCalibration: what draccus decodes each entry into."""

    id: int
    drive_mode: int
    homing_offset: int
    range_min: int
    range_max: int


def _load_like_lerobot(path: Path) -> dict[str, LeRobotMotorCalibration]:
    with open(path) as stream:
        payload = json.load(stream)
    loaded = {}
    for motor, entry in payload.items():
        calibration = LeRobotMotorCalibration(**entry)  # TypeError on unknown or missing fields, like draccus
        assert all(type(value) is int for value in vars(calibration).values()), entry
        loaded[motor] = calibration
    return loaded


@pytest.fixture
def load_like_lerobot() -> Callable[[Path], dict[str, LeRobotMotorCalibration]]:
    """LeRobot's `draccus.load(dict[str, MotorCalibration], f)`: unknown or missing fields raise, ints only."""
    return _load_like_lerobot
