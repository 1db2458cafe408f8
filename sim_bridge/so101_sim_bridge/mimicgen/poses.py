"""The pose algebra of MimicGen generation (docs/reference/datasets-mimic.md §3, steps 5-7), on 4x4 matrices.

Frames: every pose here is a (..., 4, 4) rigid transform in the robot root frame (the twin's
world frame, where datagen_info poses live), mapping points of its own frame into the root
frame (so101_sim_bridge.geometry's convention, which this module builds on).

- transform_segment: a source segment of end-effector poses carried along with its reference
  object, T_new = T_obj · T_obj_src⁻¹ · T_src, so each pose keeps its pose relative to the object;
- interpolate_poses: the bridge to a segment's first pose, linear in position and slerp in rotation;
- add_pose_noise: the per-step action noise (LeIsaac adds it to the position and the quaternion);
- pose_distance: selection strategies' score, position distance plus rotation angle.
"""
from __future__ import annotations

import numpy as np

from so101_sim_bridge.geometry import invert, matrix_to_quat, quat_to_matrix, rotation_vector


def transform_segment(object_now: np.ndarray, object_in_source: np.ndarray, source_poses: np.ndarray) -> np.ndarray:
    """(T, 4, 4) source poses moved with their reference object: T_obj · T_obj_src⁻¹ · T_src."""
    delta = np.asarray(object_now, dtype=np.float64) @ invert(object_in_source)
    return delta @ np.asarray(source_poses, dtype=np.float64)


def interpolate_poses(start: np.ndarray, end: np.ndarray, steps: int) -> np.ndarray:
    """(steps, 4, 4) poses strictly between `start` and `end`, evenly spaced (fractions k/(steps+1)).

    Positions linearly; rotations along the shortest arc (slerp), so the bridge turns the
    gripper at a constant rate.
    """
    start, end = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
    fractions = np.arange(1, steps + 1) / (steps + 1)
    poses = np.tile(np.eye(4), (steps, 1, 1))
    poses[:, :3, 3] = start[:3, 3] + fractions[:, None] * (end[:3, 3] - start[:3, 3])
    turn = rotation_vector(end[:3, :3] @ start[:3, :3].T)  # in the root frame, shortest arc
    poses[:, :3, :3] = axis_angle_matrix(fractions[:, None] * turn) @ start[:3, :3]
    return poses


def axis_angle_matrix(rotation_vectors: np.ndarray) -> np.ndarray:
    """(..., 3) axis · angle → (..., 3, 3) rotation matrices (Rodrigues)."""
    vectors = np.asarray(rotation_vectors, dtype=np.float64)
    angle = np.linalg.norm(vectors, axis=-1, keepdims=True)
    half = angle / 2.0
    axis = np.divide(vectors, angle, out=np.zeros_like(vectors), where=angle > 1e-12)
    quat = np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1)
    return quat_to_matrix(quat)


def add_pose_noise(pose: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """The pose with `scale`·N(0, 1) added to its position (m) and to its w-first quaternion, then renormalised.

    LeIsaac's target_eef_pose_to_action adds the same noise to the 7-vector and leaves the
    quaternion unnormalised; inverse kinematics needs a rotation, hence the normalisation.
    """
    pose = np.asarray(pose, dtype=np.float64)
    if scale == 0:
        return pose.copy()
    noise = scale * rng.standard_normal(7)
    quat = matrix_to_quat(pose[:3, :3]) + noise[3:]
    noisy = np.eye(4)
    noisy[:3, :3] = quat_to_matrix(quat / np.linalg.norm(quat))
    noisy[:3, 3] = pose[:3, 3] + noise[:3]
    return noisy


def pose_distance(a: np.ndarray, b: np.ndarray, pos_weight: float = 1.0, rot_weight: float = 1.0) -> np.ndarray:
    """pos_weight · ‖Δp‖ (m) + rot_weight · angle between the rotations (rad), for (..., 4, 4) poses."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    position = np.linalg.norm(a[..., :3, 3] - b[..., :3, 3], axis=-1)
    relative = a[..., :3, :3] @ np.swapaxes(b[..., :3, :3], -1, -2)
    angle = np.arccos(np.clip((np.trace(relative, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0))
    return pos_weight * position + rot_weight * angle
