"""The scripted operator of the emulated demo: a pick-and-place moved on the emulated leader arm.

The poses are ROS radians (so101_calibration.units), solved by inverse kinematics on the MuJoCo
twin's model (the grasp point between the fingertip pads, so101_sim_bridge.twin.kinematics, with
the jaws pointing straight down) for the twin's scene: from home, 7 cm over the red cube, down
around it, close the gripper on it, lift it 8 cm, over the blue block (the cube 1 cm above it),
open (the cube drops onto the block), and back home. The twin really carries the cube (tests/unit/demo/test_operator.py).
Each pose is a waypoint of every leader joint with the same duration, so the joints move together
(minimum-jerk, as a hand does), and every episode starts and ends at home.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from so101_calibration import MOTOR_IDS, ArmCalibration
from so101_calibration.units import radians_to_ticks
from so101_hardware.emulator import Waypoint

GRIPPER_OPEN = 0.3
GRIPPER_CLOSED = -0.4
"""Closed a little past the 4 cm cube (the fingertip pads are parallel 40 mm apart at −0.33): the
servo squeezes it, and the twin's jaw stays close to the follower's, which holds no cube. Open
wide enough to straddle it: the 0.7 rad between the two, over 1.2 s, peaks at 1.1 rad/s and moves
at most 0.3 rad between two frames of a 4 fps recording (the inference node refuses a chunk that
starts more than 0.52 rad from the follower)."""


@dataclass(frozen=True)
class Pose:
    name: str
    radians: tuple[float, float, float, float, float, float]
    """shoulder_pan, shoulder_lift, elbow_flex, wrist_flex, wrist_roll, gripper."""
    duration_s: float
    """Time to move here from the previous pose."""
    pause_s: float = 0.0


HOME = Pose("home", (0.0, -0.5, 0.3, 1.5, 0.0, 0.0), 1.3, 0.3)
"""The grasp point 11 cm over the table near the cube: short moves, so a 4 fps replay of a demo
stays within the inference node's start-jump check."""
OVER_CUBE = (-0.006, -0.111, 0.040, 1.558, 0.0)
AT_CUBE = (-0.006, 0.163, 0.208, 1.269, 0.0)
CUBE_LIFTED = (-0.006, -0.139, 0.003, 1.594, 0.0)
OVER_BLOCK = (0.579, 0.001, 0.124, 1.406, 0.0)

PICK_AND_PLACE: tuple[Pose, ...] = (
    HOME,
    Pose("over the red cube", (*OVER_CUBE, GRIPPER_OPEN), 1.4),
    Pose("down to the cube", (*AT_CUBE, GRIPPER_OPEN), 1.1, 0.2),
    Pose("grasp", (*AT_CUBE, GRIPPER_CLOSED), 1.2, 0.2),
    Pose("lift", (*CUBE_LIFTED, GRIPPER_CLOSED), 1.0),
    Pose("over the blue block", (*OVER_BLOCK, GRIPPER_CLOSED), 1.4),
    Pose("release", (*OVER_BLOCK, GRIPPER_OPEN), 1.2, 0.2),
    HOME,
)
"""One demonstration, home to home: 11.1 s (minimum-jerk moves peak at 1.1 rad/s, well under the follower's 3 rad/s)."""


def script_duration_s(poses: tuple[Pose, ...] = PICK_AND_PLACE) -> float:
    return sum(pose.duration_s + pose.pause_s for pose in poses)


def leader_script(calibration: ArmCalibration, poses: tuple[Pose, ...] = PICK_AND_PLACE) -> dict[int, list[Waypoint]]:
    """BusEmulator.play_leader_script's input: per motor id, the poses as actual servo ticks.

    Actual ticks are what the servo's encoder reads before the homing offset is subtracted
    (Present_Position = actual − Homing_Offset), so a pose lands on the same radians whatever
    the arm's calibration.
    """
    offsets = calibration.column("homing_offset")
    ticks = [radians_to_ticks(calibration, np.array(pose.radians)) + offsets for pose in poses]
    return {
        motor_id: [Waypoint(float(t[joint]), pose.duration_s, pose.pause_s) for t, pose in zip(ticks, poses)]
        for joint, motor_id in enumerate(MOTOR_IDS)
    }
