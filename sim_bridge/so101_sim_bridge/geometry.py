"""Rigid poses as Isaac Lab 2.x writes them: 7-vectors [x, y, z, qw, qx, qy, qz] and 4x4 matrices.

Quaternions are w-first (Isaac Lab 2.x, LeIsaac and MuJoCo alike; Isaac Lab 3.0 switched to
x-first, docs/reference/datasets-mimic.md §1.2), unit length, and a pose maps points of its own
frame into its parent's: p_parent = R · p_child + t. Every function takes a leading batch shape
(..., 7) or (..., 4, 4), so a whole episode converts in one call. Pure numpy, no ROS.
"""
from __future__ import annotations

import numpy as np

IDENTITY_POSE = np.array([0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0])


def quat_to_matrix(quat_wxyz: np.ndarray) -> np.ndarray:
    """(..., 4) unit quaternions, w first → (..., 3, 3) rotation matrices."""
    q = np.asarray(quat_wxyz, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], axis=-1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], axis=-1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=-1),
        ],
        axis=-2,
    )


def matrix_to_quat(rotation: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices → (..., 4) unit quaternions, w first, with w ≥ 0."""
    r = np.asarray(rotation, dtype=np.float64)
    batch = r.shape[:-2]
    r = r.reshape(-1, 3, 3)
    quats = np.empty((len(r), 4))
    for i, m in enumerate(r):  # Shepperd's method: the numerically safe branch per matrix
        trace = np.trace(m)
        if trace > 0:
            s = 2.0 * np.sqrt(trace + 1.0)
            quats[i] = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
        elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
            s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
            quats[i] = [(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
        elif m[1, 1] > m[2, 2]:
            s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
            quats[i] = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s]
        else:
            s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
            quats[i] = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s]
    quats /= np.linalg.norm(quats, axis=-1, keepdims=True)
    quats *= np.where(quats[:, :1] < 0, -1.0, 1.0)
    return quats.reshape(*batch, 4)


def pose_to_matrix(pose: np.ndarray) -> np.ndarray:
    """(..., 7) [x, y, z, qw, qx, qy, qz] → (..., 4, 4) homogeneous transforms."""
    pose = np.asarray(pose, dtype=np.float64)
    matrix = np.zeros((*pose.shape[:-1], 4, 4))
    matrix[..., :3, :3] = quat_to_matrix(pose[..., 3:])
    matrix[..., :3, 3] = pose[..., :3]
    matrix[..., 3, 3] = 1.0
    return matrix


def matrix_to_pose(matrix: np.ndarray) -> np.ndarray:
    """(..., 4, 4) → (..., 7) [x, y, z, qw, qx, qy, qz] (w ≥ 0)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    return np.concatenate([matrix[..., :3, 3], matrix_to_quat(matrix[..., :3, :3])], axis=-1)


def invert(matrix: np.ndarray) -> np.ndarray:
    """Inverse of (..., 4, 4) rigid transforms."""
    matrix = np.asarray(matrix, dtype=np.float64)
    inverse = np.zeros_like(matrix)
    rotation_t = np.swapaxes(matrix[..., :3, :3], -1, -2)
    inverse[..., :3, :3] = rotation_t
    inverse[..., :3, 3] = -np.einsum("...ij,...j->...i", rotation_t, matrix[..., :3, 3])
    inverse[..., 3, 3] = 1.0
    return inverse


def compose_poses(parent: np.ndarray, child: np.ndarray) -> np.ndarray:
    """parent ∘ child for (..., 7) poses: the child expressed in the parent's parent frame."""
    return matrix_to_pose(pose_to_matrix(parent) @ pose_to_matrix(child))


def relative_pose(frame: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """`pose` (..., 7) expressed in `frame` (..., 7), both given in the same parent frame."""
    return matrix_to_pose(invert(pose_to_matrix(frame)) @ pose_to_matrix(pose))


def finite_difference_velocity(poses: np.ndarray, times_s: np.ndarray) -> np.ndarray:
    """(T, 6) [vx, vy, vz, wx, wy, wz] from (T, 7) poses at `times_s`, in the poses' parent axes.

    Central differences inside, one-sided at the ends; angular velocity from the relative
    rotation between neighbours (axis-angle / Δt). Zeros for a single pose.
    """
    poses = np.asarray(poses, dtype=np.float64)
    times = np.asarray(times_s, dtype=np.float64)
    count = len(poses)
    velocity = np.zeros((count, 6))
    if count < 2:
        return velocity
    before = np.r_[0, np.arange(count - 1)]
    after = np.r_[np.arange(1, count), count - 1]
    dt = times[after] - times[before]
    dt = np.where(dt > 0, dt, np.inf)
    velocity[:, :3] = (poses[after, :3] - poses[before, :3]) / dt[:, None]
    rotations = quat_to_matrix(poses[:, 3:])
    delta = rotations[after] @ np.swapaxes(rotations[before], -1, -2)  # world-frame rotation over dt
    velocity[:, 3:] = rotation_vector(delta) / dt[:, None]
    return velocity


def rotation_vector(rotation: np.ndarray) -> np.ndarray:
    """(..., 3, 3) → (..., 3) axis · angle (radians)."""
    rotation = np.asarray(rotation, dtype=np.float64)
    cos = np.clip((np.trace(rotation, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos)
    axis = np.stack(
        [rotation[..., 2, 1] - rotation[..., 1, 2], rotation[..., 0, 2] - rotation[..., 2, 0],
         rotation[..., 1, 0] - rotation[..., 0, 1]],
        axis=-1,
    )
    sin = np.sin(angle)
    scale = np.where(sin > 1e-9, angle / np.where(sin > 1e-9, 2.0 * sin, 1.0), 0.5)
    return axis * scale[..., None]
