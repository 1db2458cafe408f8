"""One recorded episode as an Isaac Lab / LeIsaac demo group (docs/reference/datasets-mimic.md §1, §6).

The HDF5 writer stages each episode as recorded (a RawEpisode: stamps, joints, velocities,
commands and object poses in ROS units, plus the camera frames), and this module lays it out
the way Isaac Lab's ActionStateRecorder writes a demo, so that every Isaac Lab and LeIsaac tool
reads it as its own:

    actions, processed_actions                      (N, 6)   the command applied at the row (sim units)
    obs/joint_pos, joint_vel, joint_pos_rel, joint_vel_rel (N, 6)   before the row's action (rel = abs: defaults 0)
    obs/actions                                     (N, 6)   the previous row's action (row 0: zeros)
    obs/joint_pos_target                            (N, 6)   the PD target in force (row 0: the reset pose)
    obs/ee_frame_state                              (N, 7)   gripper link, robot root frame, [x y z qw qx qy qz]
    obs/<camera>                                    (N, H, W, 3) uint8
    obs/datagen_info/{eef_pose,target_eef_pose}/<eef>, object_pose/<obj>  (N, 4, 4)   with a task
    obs/datagen_info/subtask_term_signals/<signal>  (N,) bool                         with a task
    initial_state/articulation/robot/{root_pose (1,7), root_velocity (1,6), joint_position, joint_velocity}
    initial_state/rigid_object/<obj>/{root_pose (1,7), root_velocity (1,6)}                with a task
    states/...                                      the same leaves, N rows, AFTER each row's action

Rows: observations and actions are taken before a step and states after it, so row t's state is
the recording's row t + 1 and the last recorded row only serves as the last state (N = rows − 1);
initial_state is the first recorded row (the state "after the reset").

Profiles (env_args["profile"] says which one made a file):
- `default`: one row per recorded step, joints in the recorder's sim units, images as recorded;
- `leisaac`: LeIsaac's task rate (the task's step_hz, 60 Hz: Isaac replays one row per step and
  reads no timestamps, §1.1), so rows are resampled from the recording: joints, velocities and
  commands linearly, object poses linearly with normalised quaternion interpolation, images by
  sample-and-hold (the latest frame at or before the row, as LeIsaac's 30 Hz cameras cover two
  60 Hz rows); joints in LeIsaac's USD radians (the `leisaac` sim units, set by the recorder);
  images resized to LeIsaac's 480 x 640.

Frames: the robot's root_pose is the task's mount pose in the Isaac env frame (the twin's robot
sits at its own origin, scene.py), objects' root poses are that mount composed with their pose
in the robot frame, and velocities (linear then angular, env axes) come from finite differences
of the rows. datagen_info poses are in the robot root frame, as LeIsaac's Mimic environment gives them.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cv2
import h5py
import numpy as np

from so101_calibration import SimMapping
from so101_sim_bridge.geometry import compose_poses, finite_difference_velocity
from so101_sim_bridge.tasks import TaskSpec, datagen_info
from so101_sim_bridge.twin.kinematics import So101Kinematics

log = logging.getLogger(__name__)

DEFAULT_PROFILE = "default"
LEISAAC_PROFILE = "leisaac"
PROFILES = (DEFAULT_PROFILE, LEISAAC_PROFILE)
LEISAAC_IMAGE_SIZE = (480, 640)
"""LeIsaac's cameras: 640 x 480 RGB (height, width)."""
ROBOT = "articulation/robot"
INTERVENTION = "intervention"
"""Per-row bool (T, 1), present when the recorder tracked who drove: True while an operator corrected (LeRobot's DAgger flag)."""
IMAGE_BLOCK_ROWS = 32
"""Image rows written per h5py call (bounded memory whatever the episode's length)."""


@dataclass(frozen=True, eq=False)
class RawEpisode:
    """An episode as recorded: T steps in ROS units (radians, rad/s, robot-frame poses)."""

    stamps_s: np.ndarray
    joints: np.ndarray
    velocities: np.ndarray
    actions: np.ndarray
    objects: Mapping[str, np.ndarray] = field(default_factory=dict)
    """Simulator object name → (T, 7) poses in the robot root frame."""
    marks_s: tuple[float, ...] = ()
    """The operator's subtask marks (recorder clock)."""
    interventions: np.ndarray | None = None
    """(T, 1) bool: True while an operator corrected the policy; None when the recording does not track it."""

    def __len__(self) -> int:
        return len(self.stamps_s)


@dataclass(frozen=True)
class LayoutConfig:
    """How recordings become demo groups: profile, task (objects, names, mount, signals) and row rate."""

    profile: str = DEFAULT_PROFILE
    task: TaskSpec | None = None
    image_size: tuple[int, int] | None = None
    """(height, width) of the written images; None: the profile's (leisaac: 480 x 640; default: as recorded)."""

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"profile {self.profile!r} unknown; profiles are {', '.join(PROFILES)}")
        if self.image_size is None and self.profile == LEISAAC_PROFILE:
            object.__setattr__(self, "image_size", LEISAAC_IMAGE_SIZE)
        if self.image_size is not None:
            height, width = self.image_size
            if not (0 < height <= 4096 and 0 < width <= 4096):
                raise ValueError(f"image_size must be (height, width) in pixels, got {self.image_size}")
            object.__setattr__(self, "image_size", (int(height), int(width)))

    def row_rate(self, recorded_fps: int) -> int:
        """Rows per second in the file: the recording's, or the task's step rate for LeIsaac."""
        if self.profile == LEISAAC_PROFILE:
            return self.task.step_hz if self.task is not None else 60
        return recorded_fps

    @property
    def objects(self) -> tuple[str, ...]:
        """The simulator objects to record (the task's scene)."""
        return tuple(self.task.scene.objects) if self.task is not None else ()

    @property
    def env_name(self) -> str:
        """The Isaac task's gym id; empty without a task, as LeIsaac's own teleoperation records (pass --task)."""
        return self.task.env_name if self.task is not None else ""


@dataclass(frozen=True, eq=False)
class RowPlan:
    """Where each written row comes from: the recorded rows around it and the weight of the later one."""

    times_s: np.ndarray
    before: np.ndarray
    after: np.ndarray
    weight: np.ndarray

    def interpolate(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        weight = self.weight.reshape(-1, *([1] * (values.ndim - 1)))
        return values[self.before] * (1.0 - weight) + values[self.after] * weight

    def interpolate_poses(self, poses: np.ndarray) -> np.ndarray:
        """Positions linearly, quaternions by normalised linear interpolation on the shorter arc."""
        poses = np.asarray(poses, dtype=np.float64)
        start, end = poses[self.before], poses[self.after].copy()
        end[:, 3:] *= np.where(np.sum(start[:, 3:] * end[:, 3:], axis=1) < 0, -1.0, 1.0)[:, None]
        mixed = start * (1.0 - self.weight[:, None]) + end * self.weight[:, None]
        mixed[:, 3:] /= np.linalg.norm(mixed[:, 3:], axis=1, keepdims=True)
        return mixed


def plan_rows(stamps_s: np.ndarray, recorded_fps: int, row_rate: int) -> RowPlan:
    """Recorded rows as they are when the rates agree, else a grid at row_rate over the recording."""
    stamps = np.asarray(stamps_s, dtype=np.float64)
    count = len(stamps)
    if row_rate == recorded_fps:
        index = np.arange(count)
        return RowPlan(stamps.copy(), index, index, np.zeros(count))
    times = stamps[0] + np.arange(int(np.floor((stamps[-1] - stamps[0]) * row_rate + 1e-9)) + 1) / row_rate
    before = np.clip(np.searchsorted(stamps, times, side="right") - 1, 0, count - 1)
    after = np.minimum(before + 1, count - 1)
    span = stamps[after] - stamps[before]
    weight = np.where(span > 0, (times - stamps[before]) / np.where(span > 0, span, 1.0), 0.0)
    return RowPlan(times, before, after, np.clip(weight, 0.0, 1.0))


class IsaacLabLayout:
    """Writes RawEpisodes as demo groups (module doc); one instance per HDF5 file."""

    def __init__(self, config: LayoutConfig, mapping: SimMapping, recorded_fps: int):
        self.config = config
        self._mapping = mapping
        self._recorded_fps = recorded_fps
        self._kinematics: So101Kinematics | None = None

    @property
    def row_rate(self) -> int:
        return self.config.row_rate(self._recorded_fps)

    def env_args(self) -> dict[str, Any]:
        """What the layout records in /data's env_args beside Isaac Lab's env_name and type."""
        task = self.config.task
        return {
            "env_name": self.config.env_name,
            "profile": self.config.profile,
            "task": task.id if task is not None else None,
            "fps": self.row_rate,
            "recorded_fps": self._recorded_fps,
            "joint_names": list(self._mapping.names),
            "sim_mapping": {"scale": self._mapping.scale.tolist(), "offset": self._mapping.offset.tolist()},
            "robot_root_pose": list(task.scene.robot_root_pose) if task is not None else [0, 0, 0, 1, 0, 0, 0],
            "eef_name": task.eef_name if task is not None else None,
        }

    def rows(self, raw: RawEpisode) -> int:
        """Rows the demo will have (0: too short to save)."""
        return max(0, len(plan_rows(raw.stamps_s, self._recorded_fps, self.row_rate).times_s) - 1)

    def write(self, demo: h5py.Group, raw: RawEpisode, images: Mapping[str, h5py.Dataset], compression: str,
              image_options: Mapping[str, Any]) -> dict:
        """Fill `demo` from the episode; the demo's attributes to set (num_samples, annotation).

        `compression` is the joint and pose arrays' filter; `image_options` the h5py keywords of the
        camera frames that are written anew (frames kept one per row are copied as staged)."""
        plan = plan_rows(raw.stamps_s, self._recorded_fps, self.row_rate)
        rows = len(plan.times_s) - 1
        mapping = self._mapping
        joints = plan.interpolate(raw.joints)  # physical radians, every row incl. the last state
        velocities = plan.interpolate(raw.velocities)
        actions = plan.interpolate(raw.actions)[:rows]
        sim_joints = mapping.to_sim(joints).astype(np.float32)
        sim_velocities = (velocities * mapping.scale).astype(np.float32)
        sim_actions = mapping.to_sim(actions).astype(np.float32)
        previous = np.vstack([np.zeros((1, 6), np.float32), sim_actions[:-1]])
        in_force = np.vstack([sim_joints[:1], sim_actions[:-1]])
        kinematics = self._get_kinematics()
        arrays: dict[str, np.ndarray] = {
            "actions": sim_actions,
            "processed_actions": sim_actions,
            "obs/joint_pos": sim_joints[:rows],
            "obs/joint_vel": sim_velocities[:rows],
            "obs/joint_pos_rel": sim_joints[:rows],
            "obs/joint_vel_rel": sim_velocities[:rows],
            "obs/actions": previous,
            "obs/joint_pos_target": in_force,
            "obs/ee_frame_state": kinematics.gripper_pose(joints[:rows]).astype(np.float32),
        }
        mount = np.asarray(self.config.task.scene.robot_root_pose if self.config.task else [0, 0, 0, 1, 0, 0, 0])
        state = {
            f"{ROBOT}/root_pose": np.tile(mount, (rows + 1, 1)).astype(np.float32),
            f"{ROBOT}/root_velocity": np.zeros((rows + 1, 6), np.float32),
            f"{ROBOT}/joint_position": sim_joints,
            f"{ROBOT}/joint_velocity": sim_velocities,
        }
        object_rows = {name: plan.interpolate_poses(raw.objects[name]) for name in self.config.objects}
        for name, poses in object_rows.items():
            in_env = compose_poses(np.broadcast_to(mount, poses.shape), poses)
            isaac = self.config.task.isaac_name(name)
            state[f"rigid_object/{isaac}/root_pose"] = in_env.astype(np.float32)
            state[f"rigid_object/{isaac}/root_velocity"] = finite_difference_velocity(in_env, plan.times_s).astype(
                np.float32
            )
        for key, values in state.items():
            arrays[f"initial_state/{key}"] = values[:1]
            arrays[f"states/{key}"] = values[1:]
        attributes: dict[str, Any] = {"num_samples": rows, "subtask_annotation": "none"}
        if self.config.task is not None:
            attributes.update(self._datagen(arrays, raw, plan, joints[:rows], actions,
                                            {n: p[:rows] for n, p in object_rows.items()}))
        if raw.interventions is not None:  # like a camera frame, the flag in force holds until the next step
            arrays[INTERVENTION] = np.asarray(raw.interventions, bool)[plan.before[:rows]]
        for key, values in arrays.items():
            demo.create_dataset(key, data=values, compression=compression)
        for camera, frames in images.items():
            self._write_images(demo, f"obs/{camera}", frames, plan.before[:rows], image_options)
        return attributes

    def _datagen(self, arrays: dict, raw: RawEpisode, plan: RowPlan, joints: np.ndarray, targets: np.ndarray,
                 objects: dict[str, np.ndarray]) -> dict[str, Any]:
        task = self.config.task
        marks = [int(np.searchsorted(plan.times_s[:len(joints)], mark)) for mark in raw.marks_s]
        if marks and (len(marks) != len(task.signal_names) or max(marks) >= len(joints)):
            log.warning("%d subtask mark(s) for %d subtask end(s) of task %s: annotated by its term rules instead",
                        len(marks), len(task.signal_names), task.id)
            marks = []
        info = datagen_info(task, self._get_kinematics(), joints, targets, objects, marks)
        prefix = "obs/datagen_info"
        for group, poses in (("eef_pose", info.eef_pose), ("target_eef_pose", info.target_eef_pose),
                             ("object_pose", info.object_pose)):
            for name, values in poses.items():
                arrays[f"{prefix}/{group}/{name}"] = values
        for name, signal in info.subtask_term_signals.items():
            arrays[f"{prefix}/subtask_term_signals/{name}"] = signal
        return {"subtask_annotation": info.annotation, **({"subtask_marks": marks} if marks else {})}

    def _write_images(self, demo: h5py.Group, key: str, frames: h5py.Dataset, sources: np.ndarray,
                      image_options: Mapping[str, Any]) -> None:
        height, width = self.config.image_size or frames.shape[1:3]
        if (height, width) == frames.shape[1:3] and np.array_equal(sources, np.arange(len(sources))):
            # One row per staged frame, as staged: HDF5 copies the stored chunks without decoding or
            # re-encoding them (1.5 s for a minute of two 640x480 cameras here, where writing them
            # frame by frame took 5-10 s), then the frame after the last row is cut off.
            demo.copy(frames, key)
            demo[key].resize(len(sources), axis=0)
            return
        shape = (len(sources), height, width, 3)
        dataset = demo.create_dataset(key, shape=shape, dtype=np.uint8, chunks=(1, height, width, 3),
                                      **image_options)
        cache: tuple[int, np.ndarray] | None = None
        for start in range(0, len(sources), IMAGE_BLOCK_ROWS):
            block = []
            for source in sources[start:start + IMAGE_BLOCK_ROWS]:
                if cache is None or cache[0] != source:
                    cache = (int(source), self._sized(frames[int(source)], height, width))
                block.append(cache[1])
            dataset[start:start + len(block)] = np.stack(block)

    @staticmethod
    def _sized(image: np.ndarray, height: int, width: int) -> np.ndarray:
        if image.shape[:2] == (height, width):
            return image
        return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)

    def _get_kinematics(self) -> So101Kinematics:
        if self._kinematics is None:
            self._kinematics = So101Kinematics()
        return self._kinematics
