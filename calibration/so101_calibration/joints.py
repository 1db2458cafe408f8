"""The six SO-101 joints: ROS joint name and Feetech motor id, in bus order.

Names follow LeRobot's SO-101 motor names (docs/architecture.md §4) so that calibration files, dataset
feature names (`<joint>.pos`) and ROS JointState names all agree.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Joint:
    """One joint of the arm and the servo that drives it."""

    name: str
    motor_id: int


SO101_JOINTS: tuple[Joint, ...] = (
    Joint("shoulder_pan", 1),
    Joint("shoulder_lift", 2),
    Joint("elbow_flex", 3),
    Joint("wrist_flex", 4),
    Joint("wrist_roll", 5),
    Joint("gripper", 6),
)

JOINT_NAMES: tuple[str, ...] = tuple(j.name for j in SO101_JOINTS)
MOTOR_IDS: tuple[int, ...] = tuple(j.motor_id for j in SO101_JOINTS)

_BY_NAME = {j.name: j for j in SO101_JOINTS}
_BY_ID = {j.motor_id: j for j in SO101_JOINTS}


def joint_by_name(name: str) -> Joint:
    """The joint called `name`; KeyError listing the valid names otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown SO-101 joint {name!r}; joints are {', '.join(JOINT_NAMES)}") from None


def joint_by_id(motor_id: int) -> Joint:
    """The joint driven by motor `motor_id`; KeyError listing the valid ids otherwise."""
    try:
        return _BY_ID[motor_id]
    except KeyError:
        raise KeyError(f"no SO-101 joint has motor id {motor_id}; ids are {MOTOR_IDS}") from None
