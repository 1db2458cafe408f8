"""The embedded MuJoCo twin: position actuators follow commanded joint targets at physics rate.

Units and names are what the twin bridge sends through so101_calibration's SimMapping with the
default `so101` names and `physical` units: the six SO-101 joint names and physical radians,
measured from the middle of the calibrated range. The MJCF ("new calib", like the SO-ARM100 URDF)
has the same zero for the five arm joints, so their model angle is the physical angle. Its gripper
zero is "closed" instead (range -10°..100°), so the twin adds the middle of the gripper's model
range (+0.785 rad, 45°) on the way in and subtracts it on the way out: physical 0 (half open)
is model 0.785 rad. MODEL_OFFSET_JOINTS lists the joints treated that way.

Time is explicit: step(dt) advances the simulation by whole physics steps, carrying the remainder
to the next call, so the same sequence of commands and dt gives the same trajectory on any
machine, whatever the wall clock did. The caller owns the clock (a ROS node passes the time since
its last tick; a test passes constants).

Threads: physics and rendering may run on different threads (a ROS node steps from its timer and
renders on a thread of its own, so a slow software-rendered frame never delays a physics tick).
Every call that reads or writes the simulation holds the twin's lock; render() holds it only to
copy the state into a private MjData, then renders that copy without it. render() itself must
stay on one thread: the OpenGL contexts belong to it (render.py).
"""
from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np

from so101_sim_bridge.twin.config import TWIN_JOINT_NAMES, TwinConfig
from so101_sim_bridge.twin.render import TwinRenderer
from so101_sim_bridge.twin.scene import ROBOT_PREFIX, build_model

MODEL_OFFSET_JOINTS: tuple[str, ...] = ("gripper",)
"""Joints whose MJCF zero is not the middle of their range; offset by the range's middle (module doc)."""
_STEP_EPSILON = 1e-9
"""Tolerance when turning elapsed time into whole physics steps (float sums of dt)."""


@dataclass(frozen=True, eq=False)  # numpy fields: compare the arrays, not the objects
class TwinState:
    """Joint state in the twin's names (TWIN_JOINT_NAMES order) and physical units."""

    time_s: float
    names: tuple[str, ...]
    position: np.ndarray
    """Radians from the middle of the calibrated range."""
    velocity: np.ndarray
    """rad/s."""
    effort: np.ndarray
    """Actuator torque, N·m (saturates at the STS3215 model's ±3.35 N·m)."""


class MujocoTwin:
    """One simulated SO-101 on a table, stepped explicitly and rendered offscreen."""

    def __init__(self, config: TwinConfig = TwinConfig()):
        self._config = config
        self._model = build_model(config)
        self._data = mujoco.MjData(self._model)
        joints = [self._model.joint(ROBOT_PREFIX + name) for name in TWIN_JOINT_NAMES]
        self._qpos = np.array([self._model.jnt_qposadr[j.id] for j in joints])
        self._dof = np.array([self._model.jnt_dofadr[j.id] for j in joints])
        self._actuators = np.array([self._model.actuator(ROBOT_PREFIX + name).id for name in TWIN_JOINT_NAMES])
        self._offset = np.array(
            [self._model.jnt_range[j.id].mean() if name in MODEL_OFFSET_JOINTS else 0.0
             for name, j in zip(TWIN_JOINT_NAMES, joints)]
        )
        self._index = {name: i for i, name in enumerate(TWIN_JOINT_NAMES)}
        initial = np.array([config.initial_position.get(name, 0.0) for name in TWIN_JOINT_NAMES])
        self._data.qpos[self._qpos] = initial + self._offset
        self._data.ctrl[self._actuators] = initial + self._offset
        mujoco.mj_forward(self._model, self._data)
        self._steps = 0
        self._target_time = 0.0
        self._lock = threading.Lock()
        self._render_data = mujoco.MjData(self._model)
        self._renderer = TwinRenderer(self._model, config.cameras, config.shadows)

    @property
    def joint_names(self) -> tuple[str, ...]:
        return TWIN_JOINT_NAMES

    @property
    def time_s(self) -> float:
        with self._lock:
            return float(self._data.time)

    @property
    def timestep_s(self) -> float:
        return float(self._model.opt.timestep)

    @property
    def cameras(self) -> tuple[str, ...]:
        return tuple(camera.name for camera in self._renderer.cameras)

    @property
    def targets(self) -> np.ndarray:
        """Current position targets, physical radians, TWIN_JOINT_NAMES order (after ctrlrange clamping)."""
        with self._lock:
            ctrl = self._data.ctrl[self._actuators].copy()
        low, high = self._model.actuator_ctrlrange[self._actuators].T
        return np.clip(ctrl, low, high) - self._offset

    def set_targets(self, names: Sequence[str], positions: Sequence[float]) -> None:
        """Command joints by name (a subset is fine, like Isaac's articulation controller).

        ValueError for unknown names, mismatched lengths or non-finite values; nothing is applied
        then. Targets beyond a joint's range are clamped by MuJoCo (the actuator's ctrlrange).
        """
        values = np.asarray(positions, dtype=np.float64)
        if values.shape != (len(names),):
            raise ValueError(f"{len(names)} joint names but positions of shape {values.shape}")
        unknown = [name for name in names if name not in self._index]
        if unknown:
            raise ValueError(f"unknown twin joint(s) {unknown}; joints are {', '.join(TWIN_JOINT_NAMES)}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"joint targets must be finite, got {dict(zip(names, values.tolist()))}")
        with self._lock:
            for name, value in zip(names, values):
                i = self._index[name]
                self._data.ctrl[self._actuators[i]] = value + self._offset[i]

    def step(self, dt_s: float) -> int:
        """Advance simulated time by dt_s (whole physics steps; the remainder carries over). Returns steps run."""
        if not math.isfinite(dt_s) or dt_s < 0:
            raise ValueError(f"dt_s must be a finite number of seconds >= 0, got {dt_s}")
        with self._lock:
            self._target_time += dt_s
            due = math.floor(self._target_time / self.timestep_s + _STEP_EPSILON) - self._steps
            for _ in range(due):
                mujoco.mj_step(self._model, self._data)
            self._steps += due
        return due

    def state(self) -> TwinState:
        with self._lock:
            data = self._data
            return TwinState(
                time_s=float(data.time),
                names=TWIN_JOINT_NAMES,
                position=data.qpos[self._qpos] - self._offset,
                velocity=data.qvel[self._dof].copy(),
                effort=data.actuator_force[self._actuators].copy(),
            )

    def body_position(self, body: str) -> np.ndarray:
        """World position (m) of a scene body, e.g. one of the graspable objects."""
        with self._lock:
            return self._data.body(body).xpos.copy()

    def render(self, camera: str) -> np.ndarray:
        """The camera's current view, H x W x 3 uint8 RGB.

        Renders a copy of the state taken under the lock (module doc), so stepping on another
        thread goes on meanwhile; call it from one thread only (render.py).
        """
        with self._lock:
            mujoco.mj_copyData(self._render_data, self._model, self._data)
        mujoco.mj_forward(self._model, self._render_data)  # poses of the copied state, for the cameras
        return self._renderer.render(self._render_data, camera)

    def close(self) -> None:
        """Release the GL contexts; the twin cannot render afterwards."""
        self._renderer.close()

    def __enter__(self) -> MujocoTwin:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
