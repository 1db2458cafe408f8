"""The twin's configuration: which cameras at what size, where the arm starts, physics step.

Frozen and checked at construction, so a bad launch parameter fails when the node starts, with
a message naming the field, not at the first rendered frame.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from so101_calibration import SIM_JOINT_NAMES
from so101_calibration.interface_contract import SIM_CAMERA_IMAGE, SIM_JOINT_COMMAND, SIM_JOINT_STATES

TWIN_JOINT_NAMES: tuple[str, ...] = SIM_JOINT_NAMES["so101"]
"""The twin's joint names: the MJCF's, which are the `so101` sim-mapping preset's."""
TWIN_CAMERAS: tuple[str, ...] = ("wrist", "front")
"""Cameras the scene has: `wrist` rides on the wrist-roll link looking along the jaws, `front`
stands in front of the table looking back at the arm (the two SO-101 demo cameras)."""
MAX_IMAGE_SIDE = 4096


@dataclass(frozen=True)
class TwinCameraConfig:
    """One rendered camera: a name from TWIN_CAMERAS and the image size in pixels."""

    name: str
    width: int = 640
    height: int = 480

    def __post_init__(self) -> None:
        if self.name not in TWIN_CAMERAS:
            raise ValueError(f"twin camera {self.name!r} unknown; the scene has {', '.join(TWIN_CAMERAS)}")
        for side in ("width", "height"):
            value = getattr(self, side)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_IMAGE_SIDE:
                raise ValueError(f"twin camera {self.name!r}: {side} must be 1..{MAX_IMAGE_SIDE} pixels, got {value!r}")


@dataclass(frozen=True)
class ServoModel:
    """How the twin's joints follow their targets: like the STS3215 servos of the follower, not like the MJCF's defaults.

    The MJCF's position actuators (kp 17.8 N·m/rad, no gravity compensation) sag under gravity and
    trail a moving target by ~35 ms (0.35 rad p99 behind the follower in the demo). A servo holds
    its pose under load (its position loop reaches stall torque within a few ticks) and follows a
    moving target closely, so the twin composes, without editing the MJCF:

    - `gravity_compensation`: MuJoCo's body gravcomp on every arm link (the servo's holding torque),
      so a static pose does not sag;
    - `stiffness` and `damping` of the position actuators (N·m/rad, N·m·s/rad): overdamped, about
      90 rad/s with the MJCF's armature, still saturating at its ±3.35 N·m (the servo's stall torque);
    - velocity feed-forward: each joint's target velocity is estimated from consecutive commands
      (their stamps), added through the actuator (damping acts on the velocity error, not on the
      velocity) and used to carry the target forward to the present, for at most
      `max_extrapolation_s` after the newest command (the pipeline's latency, a missed command),
      after which the target holds. Commands further apart than `max_command_gap_s` give no velocity.
    """

    gravity_compensation: bool = True
    stiffness: float = 300.0
    damping: float = 8.0
    max_extrapolation_s: float = 0.05
    max_command_gap_s: float = 0.2

    def __post_init__(self) -> None:
        for name in ("stiffness", "damping", "max_extrapolation_s", "max_command_gap_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and (value >= 0 if name == "damping" else value > 0)):
                raise ValueError(f"servo {name} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class TwinConfig:
    """How to build the twin.

    `initial_position`: sim joint name → physical radians (the units the twin receives, see
    twin.py); joints left out start at 0, the middle of their calibrated range. `timestep_s`:
    the physics step (None keeps the scene's 2 ms, the model's tuned value). `shadows` costs about
    half the frame rate with the software renderer, so it is off by default.
    """

    cameras: tuple[TwinCameraConfig, ...] = (TwinCameraConfig("wrist"), TwinCameraConfig("front"))
    initial_position: Mapping[str, float] = field(default_factory=dict)
    timestep_s: float | None = None
    shadows: bool = False
    servo: ServoModel = ServoModel()

    def __post_init__(self) -> None:
        object.__setattr__(self, "cameras", tuple(self.cameras))
        names = [camera.name for camera in self.cameras]
        if len(set(names)) != len(names):
            raise ValueError(f"twin cameras listed twice: {names}")
        unknown = set(self.initial_position) - set(TWIN_JOINT_NAMES)
        if unknown:
            raise ValueError(f"initial_position for unknown joint(s) {sorted(unknown)}; joints are {TWIN_JOINT_NAMES}")
        if not all(math.isfinite(value) for value in self.initial_position.values()):
            raise ValueError(f"initial_position must be finite radians, got {dict(self.initial_position)}")
        object.__setattr__(self, "initial_position", MappingProxyType(dict(self.initial_position)))
        if self.timestep_s is not None and not 0 < self.timestep_s <= 0.02:
            raise ValueError(f"timestep_s must be in (0, 0.02] s for stable contacts, got {self.timestep_s}")


@dataclass(frozen=True)
class MujocoTwinNodeConfig:
    """The MuJoCo twin node's parameters; topics default to Isaac Sim's, so either simulator serves the bridge."""

    command_topic: str = field(default=SIM_JOINT_COMMAND.name, metadata={"help": "position targets by sim joint name"})
    state_topic: str = field(default=SIM_JOINT_STATES.name, metadata={"help": "the twin's joint states"})
    physics_rate_hz: float = field(
        default=100.0, metadata={"help": "physics timer: steps to wall time, publishes state"}
    )
    cameras: tuple[str, ...] = field(default=TWIN_CAMERAS, metadata={"help": f"rendered cameras, of {TWIN_CAMERAS}"})
    camera_width: int = 320
    camera_height: int = 240
    camera_rate_hz: float = field(
        default=10.0, metadata={"help": "frames per second per camera, at most (software rendering is slow); 0: none"}
    )
    camera_topic: str = field(
        default=SIM_CAMERA_IMAGE.name, metadata={"help": "image topic; {name} is the camera name"}
    )
    shadows: bool = field(default=False, metadata={"help": "shadows roughly halve the software frame rate"})

    def __post_init__(self) -> None:
        if not 1 <= self.physics_rate_hz <= 1000:
            raise ValueError(f"physics_rate_hz must be within 1..1000, got {self.physics_rate_hz}")
        if not 0 <= self.camera_rate_hz <= 120:
            raise ValueError(f"camera_rate_hz must be within 0..120 (0: no cameras), got {self.camera_rate_hz}")
        if "{name}" not in self.camera_topic:
            raise ValueError(f"camera_topic must contain {{name}}, got {self.camera_topic!r}")

    @property
    def rendered_cameras(self) -> tuple[str, ...]:
        return self.cameras if self.camera_rate_hz > 0 else ()

    def twin_config(self) -> TwinConfig:
        """The twin to build (TwinCameraConfig checks names and sizes)."""
        cameras = tuple(TwinCameraConfig(name, self.camera_width, self.camera_height) for name in self.rendered_cameras)
        return TwinConfig(cameras=cameras, shadows=self.shadows)
