"""JointState in and out, by joint name, with times as float seconds.

Commands are matched by name, never by position in the array (Isaac Sim and every SO-101 ROS
project do the same), so a publisher with another joint order cannot move the wrong joint.
Non-finite values pass through both readers unchanged: rejecting them (and counting it) is the
consumer's job (the follower's safety filter), so they must reach it rather than vanish here.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sensor_msgs.msg import JointState

from so101_hardware.ros.stamps import stamp_from_seconds


def joint_state(
    names: Sequence[str],
    positions: Sequence[float],
    stamp_s: float,
    velocities: Sequence[float] | None = None,
    efforts: Sequence[float] | None = None,
    frame_id: str = "",
) -> JointState:
    msg = JointState()
    msg.header.stamp = stamp_from_seconds(stamp_s)
    msg.header.frame_id = frame_id
    msg.name = list(names)
    msg.position = [float(v) for v in positions]
    msg.velocity = [float(v) for v in velocities] if velocities is not None else []
    msg.effort = [float(v) for v in efforts] if efforts is not None else []
    return msg


class MalformedJointState(ValueError):
    """A JointState that cannot be read as positions for the expected joints."""


def named_positions(msg: JointState) -> tuple[list[str], np.ndarray]:
    """The message's own joint names and their positions; MalformedJointState if the counts differ.

    For joints in another naming (a simulator's), which a mapping then reads by name.
    """
    if len(msg.position) != len(msg.name):
        raise MalformedJointState(f"{len(msg.name)} names but {len(msg.position)} positions")
    return list(msg.name), np.asarray(msg.position, dtype=np.float64)


def positions_by_name(msg: JointState, names: Sequence[str]) -> np.ndarray:
    """Positions of `names` in that order; extra joints are ignored, missing ones are an error."""
    given, positions = named_positions(msg)
    index = {name: i for i, name in enumerate(given)}
    missing = [n for n in names if n not in index]
    if missing:
        raise MalformedJointState(f"missing joint(s) {missing}; got {given}")
    return positions[[index[n] for n in names]]


class JointStateIntake:
    """A node's reading of incoming joint states as positions in `names` order: a malformed message is
    counted (`rejected`, for /diagnostics), logged at most once a second, and read as None."""

    def __init__(self, logger, names: Sequence[str]):
        self._logger = logger
        self._names = tuple(names)
        self.rejected = 0

    def positions(self, msg: JointState) -> np.ndarray | None:
        try:
            return positions_by_name(msg, self._names)
        except MalformedJointState as exc:
            self.rejected += 1
            self._logger.warning(f"joint state ignored: {exc}", throttle_duration_sec=1.0)
            return None
