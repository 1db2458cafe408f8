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
