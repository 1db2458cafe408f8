"""JointState in and out, by joint name, with times as float seconds.

Commands are matched by name, never by position in the array (Isaac Sim and every SO-101 ROS
project do the same), so a publisher with another joint order cannot move the wrong joint.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from builtin_interfaces.msg import Duration, Time
from sensor_msgs.msg import JointState


def stamp_from_seconds(seconds: float) -> Time:
    whole = int(seconds)
    return Time(sec=whole, nanosec=int(round((seconds - whole) * 1e9)) % 1_000_000_000)


def seconds_from_stamp(stamp: Time | Duration) -> float:
    """A stamp (or a Duration: the same sec/nanosec fields) as float seconds."""
    return stamp.sec + stamp.nanosec * 1e-9


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


def positions_by_name(msg: JointState, names: Sequence[str]) -> np.ndarray:
    """Positions of `names` in that order; extra joints are ignored, missing ones are an error.

    Non-finite values pass through unchanged: rejecting them (and counting it) is the safety
    filter's job, so they must reach it rather than vanish here.
    """
    if len(msg.position) != len(msg.name):
        raise MalformedJointState(f"{len(msg.name)} names but {len(msg.position)} positions")
    index = {name: i for i, name in enumerate(msg.name)}
    missing = [n for n in names if n not in index]
    if missing:
        raise MalformedJointState(f"missing joint(s) {missing}; got {list(msg.name)}")
    return np.array([msg.position[index[n]] for n in names], dtype=float)
