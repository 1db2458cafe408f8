"""Fixtures for the sim_bridge tests: a calibration for LeRobot units and a synthetic episode feeder."""
from __future__ import annotations

import numpy as np
import pytest

from so101_bringup.demo.operator import PICK_AND_PLACE, script_duration_s
from so101_calibration import SO101_JOINTS, ArmCalibration, MotorCalibration, UnitConverter
from so101_hardware.cameras import Frame
from so101_hardware.emulator.trajectory import Waypoint, WaypointTrajectory
from so101_sim_bridge.recorder import DemoRecorder, EpisodeSummary, Hdf5DemoWriter, Hdf5WriterConfig, RecorderConfig
from so101_sim_bridge.twin import TWIN_JOINT_NAMES, MujocoTwin, TwinConfig

FPS = 30
IMAGE_SHAPE = (48, 64, 3)
TICK_S = 0.01
"""The twin run's command period: the follower's 100 Hz."""


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


class TwinRun(dict):
    """The twin's run (a dict of per-tick lists) and how to record it (a fixture's value: tests cannot import helpers)."""

    def record(self, path, layout, mapping=None, marks_at=(), fps=10, cameras=("wrist",)):
        """Feed the run to a recorder at fps (synthetic 48x64 frames numbered by step); the episode's summary."""
        task = layout.task
        objects = tuple(task.scene.objects) if task else ()
        writer = Hdf5DemoWriter(Hdf5WriterConfig(path, layout=layout, fps=fps), mapping)
        with DemoRecorder(RecorderConfig(cameras=cameras, objects=objects), [writer]) as recorder:
            summary = self.feed(recorder, objects, marks_at, fps, cameras)
        assert summary.saved_as == ("data/demo_0",)
        return summary

    def feed(self, recorder, objects=(), marks_at=(), fps=10, cameras=("wrist",), base=1000.0):
        """One episode of the run into `recorder` (any writers); the episode's summary."""
        recorder.start(base, "pick up the red cube", seed=7)
        frame_every = round(1 / (fps * TICK_S))
        for k, t in enumerate(self["time"]):
            stamp = base + t
            recorder.add_joint_state(stamp, self["joints"][k], self["velocities"][k])
            recorder.add_action(stamp, self["targets"][k])
            for name in objects:
                recorder.add_object_pose(name, stamp, self["objects"][k][name])
            if k % frame_every == 0:
                for camera in cameras:
                    image = np.full((48, 64, 3), k // frame_every % 250, np.uint8)
                    recorder.add_frame(camera, Frame(image, k, stamp, stamp))
            if any(abs(t - mark) < TICK_S / 2 for mark in marks_at):
                recorder.mark_subtask(stamp)
            recorder.advance(stamp)
        return recorder.stop(base + self["time"][-1], success=True)


@pytest.fixture(scope="session")
def twin_run():
    """The twin following the scripted operator: per 10 ms tick, time, joints, velocities, targets, objects."""
    home = PICK_AND_PLACE[0].radians
    script = [WaypointTrajectory(home[j], [Waypoint(p.radians[j], p.duration_s, p.pause_s) for p in PICK_AND_PLACE[1:]],
                                 loop=False) for j in range(6)]
    follower = lambda t: np.array([joint.position(t) for joint in script])  # noqa: E731
    ticks = {"time": [], "joints": [], "velocities": [], "targets": [], "objects": []}
    with MujocoTwin(TwinConfig(cameras=(), initial_position=dict(zip(TWIN_JOINT_NAMES, home)))) as twin:
        for k in range(int((script_duration_s() + 0.3) / TICK_S)):
            twin.step(k * TICK_S - twin.time_s)
            twin.set_targets(twin.joint_names, follower(k * TICK_S), stamp_s=k * TICK_S)
            state = twin.state()
            for key, value in (("time", twin.time_s), ("joints", state.position), ("velocities", state.velocity),
                               ("targets", follower(k * TICK_S)), ("objects", twin.object_poses())):
                ticks[key].append(value)
    return TwinRun(ticks)


