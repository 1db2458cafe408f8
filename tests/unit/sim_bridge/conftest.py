"""Fixtures for the sim_bridge tests: a calibration for LeRobot units and a synthetic episode feeder."""
from __future__ import annotations

import numpy as np
import pytest

from so101_calibration import SO101_JOINTS, ArmCalibration, MotorCalibration, UnitConverter
from so101_hardware.cameras import Frame
from so101_sim_bridge.recorder import DemoRecorder, EpisodeSummary

FPS = 30
IMAGE_SHAPE = (48, 64, 3)


@pytest.fixture
def calibration() -> ArmCalibration:
    motors = {
        joint.name: MotorCalibration(
            id=joint.motor_id,
            drive_mode=0,
            homing_offset=0,
            range_min=0 if joint.name == "wrist_roll" else 1000,
            range_max=4095 if joint.name == "wrist_roll" else 3000,
        )
        for joint in SO101_JOINTS
    }
    return ArmCalibration(motors)


@pytest.fixture
def degrees(calibration) -> UnitConverter:
    return UnitConverter(calibration, use_degrees=True)


class EpisodeFeeder:
    """Feeds a recorder one synthetic episode with every stream on time, and knows the values it sent.

    A fixture rather than a module (the test folder is not importable under --import-mode=importlib).
    """

    fps = FPS
    image_shape = IMAGE_SHAPE

    @staticmethod
    def joint_value(episode: int, i: int) -> np.ndarray:
        """A distinct, smooth joint vector per episode and step (radians)."""
        return 0.1 * episode + 0.01 * i + np.linspace(-0.3, 0.3, 6)

    @staticmethod
    def image_value(episode: int, i: int) -> int:
        return (40 * episode + 6 * i) % 200 + 20

    def __call__(self, recorder: DemoRecorder, episode: int, steps: int, success: bool = True,
                 cameras=("wrist", "front"), instruction: str = "pick up the red cube") -> EpisodeSummary:
        start = 1000.0 * (episode + 1)
        recorder.start(start, instruction, seed=episode)
        for i in range(steps):
            t = start + i / FPS
            recorder.add_joint_state(t, self.joint_value(episode, i))
            recorder.add_action(t, self.joint_value(episode, i) + 0.05)
            for camera in cameras:
                image = np.full(IMAGE_SHAPE, self.image_value(episode, i), np.uint8)
                recorder.add_frame(camera, Frame(image, i, t + 0.002, t + 0.002))
            recorder.advance(t)
        return recorder.stop(start + (steps - 1) / FPS, success)


@pytest.fixture
def feed_episode() -> EpisodeFeeder:
    return EpisodeFeeder()
