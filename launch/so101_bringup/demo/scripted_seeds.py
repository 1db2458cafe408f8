"""Seed demos as `so101 demo` records them, made without ROS: the scripted operator in the twin, through the recorder.

What the demo's twin graph does, on one clock and deterministically: the follower moves like the
scripted operator's leader (operator.py, minimum-jerk waypoints sampled at the follower's
100 Hz), the twin follows it (its servo model, stamped commands), and a DemoRecorder with the
recorder node's writer records joints, commands, the task's objects and the wrist camera at the
demo's recording rate, in the leisaac profile with the demo's task (datagen_info, subtask
signals), in the emulated follower's calibrated units. Each demo starts its recording at another
phase of the 100 Hz ticks, as the demo's recordings do, so the seeds differ by their sampling.
For benchmarks (benchmarks/mimicgen_throughput.py), which need the demo's seeds without its graphs.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from so101_bringup.demo.operator import PICK_AND_PLACE, script_duration_s
from so101_bringup.share import config_path
from so101_calibration import SIM_JOINT_NAMES, SimMappingConfig, SimUnits, build_sim_mapping, read_calibration_file
from so101_hardware.cameras import Frame
from so101_hardware.emulator.trajectory import Waypoint, WaypointTrajectory
from so101_sim_bridge.recorder import DemoRecorder, Hdf5DemoWriter, Hdf5WriterConfig, RecorderConfig
from so101_sim_bridge.recorder.alignment import AlignmentConfig
from so101_sim_bridge.recorder.isaaclab_layout import LEISAAC_PROFILE, LayoutConfig
from so101_sim_bridge.tasks import DEMO_TASK, load_task
from so101_sim_bridge.twin import TWIN_JOINT_NAMES, MujocoTwin, TwinCameraConfig, TwinConfig

FOLLOWER_HZ = 100
RECORD_FPS = 4
"""The demo's recording rate (run.RECORD_FPS)."""
TAIL_S = 1.0
IMAGE_SIZE = (240, 320)
"""(height, width): the twin's camera size in the demo."""


def follower_calibration_path() -> Path:
    return config_path("calibration") / "emulated_follower.json"


def record_scripted_seeds(path: Path, episodes: int = 3) -> Path:
    """Record `episodes` scripted pick-and-place demos into a new HDF5 file at `path`."""
    task = load_task(DEMO_TASK)
    mapping = build_sim_mapping(SimMappingConfig(SIM_JOINT_NAMES["so101"], SimUnits.LEISAAC),
                                read_calibration_file(follower_calibration_path()))
    layout = LayoutConfig(profile=LEISAAC_PROFILE, task=task, image_size=IMAGE_SIZE)
    writer = Hdf5DemoWriter(Hdf5WriterConfig(path, layout=layout, fps=RECORD_FPS,
                                             extra_env_args={"cameras": ["wrist"], "sim_units": "leisaac"}), mapping)
    recorder_config = RecorderConfig(cameras=("wrist",), alignment=AlignmentConfig(fps=RECORD_FPS),
                                     objects=tuple(task.scene.objects))
    height, width = IMAGE_SIZE
    twin_config = TwinConfig(cameras=(TwinCameraConfig("wrist", width, height),))
    follower = _follower()
    with DemoRecorder(recorder_config, [writer]) as recorder, MujocoTwin(twin_config) as twin:
        for episode in range(episodes):
            twin.reset(follower(0.0))
            phase_s = episode / (episodes * RECORD_FPS)
            _record_one(recorder, twin, follower, task.instruction, phase_s)
    return path


def _follower():
    home = PICK_AND_PLACE[0].radians
    joints = [WaypointTrajectory(home[j], [Waypoint(p.radians[j], p.duration_s, p.pause_s) for p in PICK_AND_PLACE[1:]],
                                 loop=False) for j in range(len(home))]
    return lambda t: np.array([joint.position(t) for joint in joints])


def _record_one(recorder: DemoRecorder, twin: MujocoTwin, follower, instruction: str, phase_s: float) -> None:
    tick = 1.0 / FOLLOWER_HZ
    frame_every = FOLLOWER_HZ // RECORD_FPS
    recorder.start(phase_s, instruction)
    for k in range(int((script_duration_s() + TAIL_S) * FOLLOWER_HZ)):
        now = k * tick
        twin.step(now - twin.time_s)
        command = follower(now)
        twin.set_targets(TWIN_JOINT_NAMES, command, stamp_s=now)
        state = twin.state()
        recorder.add_joint_state(now, state.position, state.velocity)
        recorder.add_action(now, command)
        for name, pose in twin.object_poses().items():
            recorder.add_object_pose(name, now, pose)
        if k % frame_every == 0:
            recorder.add_frame("wrist", Frame(twin.render("wrist"), k, now, now))
        recorder.advance(now)
    recorder.stop(now, success=True)
