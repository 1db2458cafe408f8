"""geometry_msgs/PoseStamped ↔ 7-vectors [x, y, z, qw, qx, qy, qz] (quaternion w first, as Isaac Lab 2.x)."""
from __future__ import annotations

import numpy as np
from geometry_msgs.msg import PoseStamped

from so101_hardware.ros.stamps import stamp_from_seconds


def pose_message(pose: np.ndarray, stamp_s: float, frame_id: str) -> PoseStamped:
    """A PoseStamped from a (7,) pose, stamped `stamp_s` seconds, in `frame_id`."""
    x, y, z, qw, qx, qy, qz = (float(v) for v in pose)
    msg = PoseStamped()
    msg.header.stamp = stamp_from_seconds(stamp_s)
    msg.header.frame_id = frame_id
    msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = x, y, z
    msg.pose.orientation.w, msg.pose.orientation.x = qw, qx
    msg.pose.orientation.y, msg.pose.orientation.z = qy, qz
    return msg


def pose_from_message(msg: PoseStamped) -> np.ndarray:
    """The (7,) pose of a PoseStamped; ValueError for non-finite values or a zero quaternion."""
    p, q = msg.pose.position, msg.pose.orientation
    pose = np.array([p.x, p.y, p.z, q.w, q.x, q.y, q.z], dtype=np.float64)
    if not np.all(np.isfinite(pose)) or np.linalg.norm(pose[3:]) < 1e-6:
        raise ValueError(f"pose must be finite with a non-zero quaternion, got {pose.tolist()}")
    return pose
