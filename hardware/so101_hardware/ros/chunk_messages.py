"""policy/chunk: a predicted action chunk as trajectory_msgs/JointTrajectory, both ways.

Contract (interface_contract.POLICY_CHUNK): joint_names are the six SO-101 joints; header.stamp
is the wall-clock time of the observation the chunk was predicted from; points[i].time_from_start
is when action i is due, relative to that stamp (actions already past when the chunk arrived are
left out, so points[0] is due a latency after the stamp); positions are radians. Published by the
inference node for every chunk merged into its plan, so viewers (rerun, the demo report) can draw
what the policy predicted next to what the arm did, and its arrival − stamp is the chunk's latency.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from so101_hardware.ros.joint_states import MalformedJointState
from so101_hardware.ros.stamps import duration_from_seconds, seconds_from_stamp, stamp_from_seconds


@dataclass(frozen=True, eq=False)
class ChunkMessage:
    observation_time: float
    """Wall-clock seconds: when the observation it was predicted from was taken."""
    times: np.ndarray
    """(T,) wall-clock seconds at which each action is due."""
    positions: np.ndarray
    """(T, J) radians, columns in the order of the names asked for."""


def chunk_message(
    names: Sequence[str], observation_time: float, times: np.ndarray, positions: np.ndarray
) -> JointTrajectory:
    """A JointTrajectory of `positions` (T, J) due at wall-clock `times` (T,), observed at `observation_time`."""
    msg = JointTrajectory()
    msg.header.stamp = stamp_from_seconds(observation_time)
    msg.joint_names = list(names)
    for due, row in zip(times, positions):
        point = JointTrajectoryPoint()
        point.positions = [float(v) for v in row]
        point.time_from_start = duration_from_seconds(float(due - observation_time))
        msg.points.append(point)
    return msg


def read_chunk_message(msg: JointTrajectory, names: Sequence[str]) -> ChunkMessage:
    """The chunk in `msg`, columns by `names`; MalformedJointState if a joint or a position is missing."""
    index = {name: i for i, name in enumerate(msg.joint_names)}
    missing = [name for name in names if name not in index]
    if missing:
        raise MalformedJointState(f"chunk without joint(s) {missing}; got {list(msg.joint_names)}")
    if not msg.points:
        raise MalformedJointState("chunk without points")
    if any(len(point.positions) != len(msg.joint_names) for point in msg.points):
        raise MalformedJointState("a chunk point's positions do not match its joint names")
    start = seconds_from_stamp(msg.header.stamp)
    times = np.array([start + seconds_from_stamp(p.time_from_start) for p in msg.points])
    columns = [index[name] for name in names]
    positions = np.array([[p.positions[c] for c in columns] for p in msg.points], dtype=float)
    return ChunkMessage(start, times, positions)
