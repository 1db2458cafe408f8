"""Robot readings (ROS radians, RGB frames, an instruction) → a GR00T observation in the server's layout.

The builder converts joint positions to the policy's units through so101_calibration, splits
them into the data config's groups and lays everything out as the generation expects
(schema.py). It copies nothing it does not have to: frames get views with leading unit axes.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from so101_calibration import JOINT_NAMES
from so101_policy.embodiment.data_config import DataConfig
from so101_policy.embodiment.joint_units import PolicyUnits
from so101_policy.errors import ObservationError
from so101_policy.wire.generations import Protocol
from so101_policy.wire.rtc_options import ACTION_KEY


@dataclass(frozen=True)
class RobotObservation:
    """One moment of the robot: what the policy is asked about, and when it was true.

    `time` is on the clock the streaming scheduler runs on (e.g. time.monotonic() at the
    joint-state read), because action chunks are aligned to it.
    """

    joint_positions: np.ndarray
    """(6,) radians in JOINT_NAMES order."""
    images: Mapping[str, np.ndarray] = field(default_factory=dict)
    """camera name → (H, W, 3) uint8 RGB."""
    instruction: str = ""
    time: float = 0.0


@dataclass(frozen=True)
class ObservationBuilder:
    data_config: DataConfig
    protocol: Protocol
    units: PolicyUnits

    def build(self, observation: RobotObservation, previous_actions: np.ndarray | None = None) -> dict[str, Any]:
        """The `observation` argument of PolicyClient.get_action for this data config and generation.

        `previous_actions` (T, 6) radians, for real-time chunking (N1.6+ layout only): sent as
        observation["action"], per action group float32 (1, T, n) in the policy's absolute units
        (docs/reference/gr00t-rtc.md §2).
        """
        positions = np.asarray(observation.joint_positions, dtype=np.float64)
        if positions.shape != (len(JOINT_NAMES),):
            raise ObservationError(
                f"joint_positions must be ({len(JOINT_NAMES)},) radians, got shape {positions.shape}"
            )
        state = self.units.from_radians(positions)
        frames = {camera: _frame(camera, observation.images) for camera in self.data_config.cameras}
        if self.protocol.nested:
            nested = {
                "video": {camera: frame[np.newaxis, np.newaxis] for camera, frame in frames.items()},
                "state": self._groups(state[np.newaxis]),
                "language": {self.data_config.language_key: [[observation.instruction]]},
            }
            if previous_actions is not None:
                nested[ACTION_KEY] = self._groups(self._previous_actions(previous_actions))
            return nested
        if previous_actions is not None:
            raise ObservationError(f"{self.protocol.value} observations carry no previous actions (RTC needs N1.6+)")
        flat: dict[str, Any] = {f"video.{camera}": frame[np.newaxis] for camera, frame in frames.items()}
        flat.update(
            {f"state.{group.name}": state[list(group.indices)].reshape(1, -1) for group in self.data_config.groups}
        )
        flat[self.data_config.language_key] = [observation.instruction]
        return flat

    def _groups(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """(T, 6) policy units → {group: float32 (1, T, n)}."""
        return {
            group.name: np.ascontiguousarray(rows[:, list(group.indices)], dtype=np.float32)[np.newaxis]
            for group in self.data_config.groups
        }

    def _previous_actions(self, radians: np.ndarray) -> np.ndarray:
        rows = np.asarray(radians, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[0] < 1 or rows.shape[1] != len(JOINT_NAMES):
            raise ObservationError(f"previous actions must be (T, {len(JOINT_NAMES)}) radians, got shape {rows.shape}")
        return self.units.from_radians(rows)


def _frame(camera: str, images: Mapping[str, np.ndarray]) -> np.ndarray:
    if camera not in images:
        raise ObservationError(f"no image from camera {camera!r} (have {sorted(images)}); the data config needs it")
    frame = np.asarray(images[camera])
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ObservationError(f"camera {camera!r}: need (H, W, 3) uint8 RGB, got {frame.dtype} {frame.shape}")
    return np.ascontiguousarray(frame)
