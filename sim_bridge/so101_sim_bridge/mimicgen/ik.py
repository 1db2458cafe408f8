"""Inverse kinematics of the SO-101 for generated end-effector targets: 5 DoF, position plus approach axis.

The end effector is Isaac Lab Mimic's: the origin of the `gripper` link in the robot root frame
(so101_sim_bridge.twin.kinematics, the same MJCF as the twin). The arm has five joints, so a
6-DoF target pose is not always reachable: pan and the three pitch joints place the link in a
vertical plane, and wrist_roll turns it about its own z axis, along which the jaws point (the
approach axis, the link's −z; the link's origin lies on it). The solver therefore places, in
order of priority:

1. the link's position (metres);
2. its approach axis (the jaws' pointing direction), and with a lower weight its roll about that
   axis (the jaws' yaw when they point down, which follows a turned object), in the joint motions
   that leave the position where it is, so an unreachable orientation never costs position.

Each iteration is a damped least-squares step (Δq = Jᵀ(JJᵀ + λ²I)⁻¹e, as LeIsaac's differential
IK with its λ = 0.01) for the position on the five arm joints from the analytic Jacobian, the
orientation step projected into that step's null space, then the joints are clamped to their
ranges, so a solution never leaves them; it stops at `position_tolerance_m` and
`axis_tolerance_rad`, when the joints stop moving (the rest of the error is out of reach),
or after `max_iterations`. Warm-started from the previous waypoint's
solution, a trajectory needs one to three iterations per waypoint. The gripper joint is not
part of the solve (the generator copies the source's gripper actions).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from so101_sim_bridge.geometry import rotation_vector
from so101_sim_bridge.twin.kinematics import So101Kinematics

ARM_JOINTS = 5
"""shoulder_pan .. wrist_roll: the joints inverse kinematics moves (the gripper is the sixth)."""
NULL_SPACE_RCOND = 1e-3
"""Singular values of the position Jacobian below this fraction of the largest count as zero (a singular pose)."""
APPROACH_AXIS = np.array([0.0, 0.0, -1.0])
"""The approach axis in the gripper link's frame: from the wrist towards the jaw tips, along wrist_roll's axis."""


@dataclass(frozen=True)
class IkConfig:
    position_tolerance_m: float = 5e-4
    axis_tolerance_rad: float = 0.01
    max_iterations: int = 30
    min_step_rad: float = 1e-4
    """Stop when no joint moves more than this in an iteration (converged on an unreachable target)."""
    damping: float = 0.01
    roll_weight: float = 0.3
    """Weight of the roll error against the approach axis error (1.0: equal) within the secondary task."""

    def __post_init__(self) -> None:
        if min(self.position_tolerance_m, self.axis_tolerance_rad, self.min_step_rad, self.damping,
               self.roll_weight) <= 0 or self.max_iterations < 1:
            raise ValueError(f"IK settings must be positive: {self}")


@dataclass(frozen=True, eq=False)
class IkSolution:
    joints: np.ndarray
    """(6,) physical radians: the five solved arm joints and the seed's gripper."""
    position_error_m: float
    axis_error_rad: float
    roll_error_rad: float
    iterations: int

    def reached(self, config: IkConfig) -> bool:
        return self.position_error_m <= config.position_tolerance_m and self.axis_error_rad <= config.axis_tolerance_rad


class So101Ik:
    """Solves gripper-link targets for joint positions within the joint ranges (module doc). Not thread-safe."""

    def __init__(self, kinematics: So101Kinematics | None = None, config: IkConfig = IkConfig()):
        self.kinematics = kinematics if kinematics is not None else So101Kinematics()
        self.config = config
        self._low, self._high = self.kinematics.joint_ranges[:ARM_JOINTS].T

    def solve(self, target: np.ndarray, seed: np.ndarray) -> IkSolution:
        """Joints that put the gripper link at `target` ((4, 4), robot root frame), starting from `seed` ((6,) rad)."""
        config = self.config
        target = np.asarray(target, dtype=np.float64)
        joints = np.asarray(seed, dtype=np.float64).copy()
        joints[:ARM_JOINTS] = np.clip(joints[:ARM_JOINTS], self._low, self._high)
        for iteration in range(config.max_iterations + 1):
            matrix, jacobian = self.kinematics.gripper_matrix(joints), self.kinematics.jacobian(joints)
            error, rows = self._error_and_rows(matrix, jacobian[:, :ARM_JOINTS], target)
            position_error, axis_error = float(np.linalg.norm(error[:3])), float(np.linalg.norm(error[3:6]))
            roll_error = abs(float(error[6]))
            done = position_error <= config.position_tolerance_m and axis_error <= config.axis_tolerance_rad
            if done or iteration == config.max_iterations:
                break
            moved = np.clip(joints[:ARM_JOINTS] + self._step(error, rows), self._low, self._high)
            settled = np.abs(moved - joints[:ARM_JOINTS]).max() < config.min_step_rad
            joints[:ARM_JOINTS] = moved
            if settled:  # the rest of the error is out of a 5-DoF arm's (or its limits') reach
                matrix = self.kinematics.gripper_matrix(joints)
                error, _ = self._error_and_rows(matrix, jacobian[:, :ARM_JOINTS], target)
                position_error, axis_error = float(np.linalg.norm(error[:3])), float(np.linalg.norm(error[3:6]))
                roll_error = abs(float(error[6]))
                break
        return IkSolution(joints, position_error, axis_error, roll_error, iteration)

    def _step(self, error: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Position first (damped least squares), then the approach axis and roll in what that leaves free.

        The secondary task (axis rows, and the roll row weighted by roll_weight) is solved in the
        null space of the position rows, so it can never cost position accuracy (task-priority IK).
        """
        damping = self.config.damping ** 2
        position = rows[:3]
        primary = position.T @ np.linalg.solve(position @ position.T + damping * np.eye(3), error[:3])
        null = np.eye(ARM_JOINTS) - np.linalg.pinv(position, rcond=NULL_SPACE_RCOND) @ position  # exact projector
        weights = np.array([1.0, 1.0, 1.0, self.config.roll_weight])
        secondary_rows = (rows[3:] @ null) * weights[:, None]
        secondary_error = (error[3:] - rows[3:] @ primary) * weights
        secondary = np.linalg.solve(secondary_rows.T @ secondary_rows + damping * np.eye(ARM_JOINTS),
                                    secondary_rows.T @ secondary_error)
        return primary + null @ secondary

    @staticmethod
    def _error_and_rows(matrix: np.ndarray, jacobian: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The 7 task-space errors (position 3, approach axis 3, roll 1) and their Jacobian rows (7, 5).

        The rotation error (axis · angle taking the present rotation to the target's, root frame)
        splits into the part about the approach axis (roll) and the part across it (the axis's
        own error), and the angular Jacobian rows split the same way.
        """
        axis = matrix[:3, :3] @ APPROACH_AXIS
        rotation_error = rotation_vector(target[:3, :3] @ matrix[:3, :3].T)
        roll = float(axis @ rotation_error)
        across = np.eye(3) - np.outer(axis, axis)
        error = np.concatenate([target[:3, 3] - matrix[:3, 3], across @ rotation_error, [roll]])
        rows = np.vstack([jacobian[:3], across @ jacobian[3:], axis @ jacobian[3:]])
        return error, rows
