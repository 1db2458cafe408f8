"""The embedded MuJoCo twin: servo-like joints follow commanded joint targets at physics rate.

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

Following the follower (config.ServoModel). Commands carry the follower's measured positions,
stamped with its bus read time; set_targets takes that stamp on the twin's clock. The twin
estimates each joint's velocity from consecutive commands and, at every physics step, drives the
joint to the command carried forward to that step's time (at most max_extrapolation_s past the
newest command), with the velocity fed forward, so it tracks where the follower is now rather
than where it was when it was read. Without stamps, targets are held as given.

Objects: every free body of the scene (scene.py) is a graspable object; object_poses() gives their
poses in the world frame, which is the robot root frame (the arm is mounted at the origin).

Threads: physics and rendering may run on different threads (a ROS node steps from its timer and
renders on a thread of its own, so a slow software-rendered frame never delays a physics tick).
Every call that reads or writes the simulation holds the twin's lock; render() holds it only to
copy the state into a private MjData, then renders that copy without it. render() itself must
stay on one thread: the OpenGL contexts belong to it (render.py).
"""
from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
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
        self._range = self._model.jnt_range[[j.id for j in joints]].copy()  # model units, (6, 2)
        self._index = {name: i for i, name in enumerate(TWIN_JOINT_NAMES)}
        self._objects = {
            self._model.body(self._model.jnt_bodyid[j]).name: int(self._model.jnt_qposadr[j])
            for j in range(self._model.njnt)
            if self._model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE
        }
        self._lock = threading.Lock()
        self.reset()
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
        """The newest commanded positions, physical radians, TWIN_JOINT_NAMES order (clamped to the joint ranges)."""
        with self._lock:
            return self._target - self._offset

    @property
    def object_names(self) -> tuple[str, ...]:
        """The scene's graspable objects (its free bodies)."""
        return tuple(self._objects)

    def set_targets(self, names: Sequence[str], positions: Sequence[float], stamp_s: float | None = None) -> None:
        """Command joints by name (a subset is fine, like Isaac's articulation controller).

        `stamp_s`: when the positions were measured, on the twin's clock (time_s); with it, the
        joint's velocity is estimated from its previous stamped command and fed forward (module
        doc). ValueError for unknown names, mismatched lengths or non-finite values; nothing is
        applied then. Targets beyond a joint's range are clamped to it.
        """
        values = np.asarray(positions, dtype=np.float64)
        if values.shape != (len(names),):
            raise ValueError(f"{len(names)} joint names but positions of shape {values.shape}")
        unknown = [name for name in names if name not in self._index]
        if unknown:
            raise ValueError(f"unknown twin joint(s) {unknown}; joints are {', '.join(TWIN_JOINT_NAMES)}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"joint targets must be finite, got {dict(zip(names, values.tolist()))}")
        if stamp_s is not None and not math.isfinite(stamp_s):
            raise ValueError(f"stamp_s must be finite seconds, got {stamp_s}")
        servo = self._config.servo
        with self._lock:
            for name, value in zip(names, values):
                i = self._index[name]
                target = float(np.clip(value + self._offset[i], *self._range[i]))
                gap = stamp_s - self._target_stamp[i] if stamp_s is not None else math.nan
                self._target_velocity[i] = (
                    (target - self._target[i]) / gap if 0 < gap <= servo.max_command_gap_s else 0.0
                )
                self._target[i] = target
                self._target_stamp[i] = math.nan if stamp_s is None else stamp_s
            self._apply_targets()

    def step(self, dt_s: float) -> int:
        """Advance simulated time by dt_s (whole physics steps; the remainder carries over). Returns steps run."""
        if not math.isfinite(dt_s) or dt_s < 0:
            raise ValueError(f"dt_s must be a finite number of seconds >= 0, got {dt_s}")
        with self._lock:
            self._target_time += dt_s
            due = math.floor(self._target_time / self.timestep_s + _STEP_EPSILON) - self._steps
            for _ in range(due):
                mujoco.mj_step(self._model, self._data)
                self._steps += 1
                self._apply_targets()
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

    def reset_objects(self, poses: Mapping[str, Sequence[float]] | None = None) -> None:
        """Every object back to its pose in the scene file, or to `poses` (name → [x y z qw qx qy qz], robot
        root frame; e.g. tasks.randomized_poses), at rest: an operator resetting the table between demos."""
        poses = dict(poses or {})
        unknown = set(poses) - set(self._objects)
        if unknown:
            raise ValueError(f"unknown object(s) {sorted(unknown)}; the scene has {', '.join(self._objects)}")
        with self._lock:
            for name, address in self._objects.items():
                pose = np.asarray(poses.get(name, self._model.qpos0[address:address + 7]), dtype=np.float64)
                if pose.shape != (7,) or not np.all(np.isfinite(pose)):
                    raise ValueError(f"{name}: a pose is 7 finite values [x y z qw qx qy qz], got {pose}")
                self._data.qpos[address:address + 7] = np.concatenate([pose[:3], pose[3:] / np.linalg.norm(pose[3:])])
            for joint in range(self._model.njnt):
                if self._model.jnt_type[joint] == mujoco.mjtJoint.mjJNT_FREE:
                    dof = self._model.jnt_dofadr[joint]
                    self._data.qvel[dof:dof + 6] = 0.0
            mujoco.mj_forward(self._model, self._data)

    def reset(self, joint_positions: Sequence[float] | None = None,
              object_poses: Mapping[str, Sequence[float]] | None = None) -> None:
        """Start afresh at time 0, as a new twin of the same config would, without compiling the model again.

        The arm rests at `joint_positions` (physical radians, TWIN_JOINT_NAMES order; None: the
        config's initial_position) with its targets there and no command stamps; each object rests
        at its pose in `object_poses` ([x, y, z, qw, qx, qy, qz], robot root frame), the others where
        the scene file puts them. A generator resets once per trial (so101_sim_bridge.mimicgen).
        """
        config = self._config
        if joint_positions is None:
            initial = np.array([config.initial_position.get(name, 0.0) for name in TWIN_JOINT_NAMES])
        else:
            initial = np.asarray(joint_positions, dtype=np.float64)
            if initial.shape != (len(TWIN_JOINT_NAMES),) or not np.all(np.isfinite(initial)):
                raise ValueError(f"joint_positions must be {len(TWIN_JOINT_NAMES)} finite radians, got {initial}")
        poses = {name: np.asarray(pose, dtype=np.float64) for name, pose in (object_poses or {}).items()}
        unknown = set(poses) - set(self._objects)
        if unknown:
            raise ValueError(f"unknown object(s) {sorted(unknown)}; the scene has {', '.join(self._objects)}")
        for name, pose in poses.items():
            if pose.shape != (7,) or not np.all(np.isfinite(pose)) or np.linalg.norm(pose[3:]) < 1e-9:
                raise ValueError(f"{name}: a pose is 7 finite values [x, y, z, qw, qx, qy, qz], got {pose}")
        with self._lock:
            mujoco.mj_resetData(self._model, self._data)  # time 0, at rest, objects as in the scene file
            self._data.qpos[self._qpos] = initial + self._offset
            for name, pose in poses.items():
                address = self._objects[name]
                self._data.qpos[address:address + 7] = np.r_[pose[:3], pose[3:] / np.linalg.norm(pose[3:])]
            self._target = np.clip(initial + self._offset, *self._range.T)  # model units
            self._target_velocity = np.zeros(len(TWIN_JOINT_NAMES))
            self._target_stamp = np.full(len(TWIN_JOINT_NAMES), np.nan)  # twin clock; NaN: no stamp, held as given
            self._steps = 0
            self._target_time = 0.0
            self._apply_targets()
            mujoco.mj_forward(self._model, self._data)

    def physics_state(self) -> np.ndarray:
        """The simulation's positions (MuJoCo qpos: the arm's joints in model units, every object's pose):
        what render() needs to draw this instant again later."""
        with self._lock:
            return self._data.qpos.copy()

    def object_poses(self) -> dict[str, np.ndarray]:
        """Each object's pose in the world (= robot root) frame: [x, y, z, qw, qx, qy, qz] (m, unit quaternion)."""
        with self._lock:
            return {name: self._data.qpos[address:address + 7].copy() for name, address in self._objects.items()}

    def render(self, camera: str, physics_state: np.ndarray | None = None) -> np.ndarray:
        """The camera's current view (or that of a physics_state() taken earlier), H x W x 3 uint8 RGB.

        Renders a copy of the state taken under the lock (module doc), so stepping on another
        thread goes on meanwhile; call it from one thread only (render.py).
        """
        with self._lock:
            mujoco.mj_copyData(self._render_data, self._model, self._data)
        if physics_state is not None:
            self._render_data.qpos[:] = physics_state
        mujoco.mj_forward(self._model, self._render_data)  # poses of the copied state, for the cameras
        return self._renderer.render(self._render_data, camera)

    def _apply_targets(self) -> None:
        """The actuators' controls for the present simulated time (lock held): servo targets carried forward.

        Position actuator: force = kp·(ctrl − q) − kv·q̇, so ctrl = target + (kv/kp)·v gives
        kp·(target − q) + kv·(v − q̇), the velocity error damped rather than the velocity.
        """
        servo = self._config.servo
        ahead = self._data.time - self._target_stamp
        moving = ahead <= servo.max_extrapolation_s  # False for NaN stamps too
        carried = np.clip(
            self._target + self._target_velocity * np.where(np.isnan(ahead), 0.0, np.clip(ahead, 0.0,
                                                                                      servo.max_extrapolation_s)),
            *self._range.T,
        )
        feed_forward = np.where(moving, self._target_velocity, 0.0) * (servo.damping / servo.stiffness)
        self._data.ctrl[self._actuators] = carried + feed_forward

    def close(self) -> None:
        """Release the GL contexts; the twin cannot render afterwards."""
        self._renderer.close()

    def __enter__(self) -> MujocoTwin:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
