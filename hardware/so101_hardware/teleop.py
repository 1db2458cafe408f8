"""Teleoperation logic: leader joint positions → follower commands, with a safe engage.

States: DISENGAGED (nothing is sent; the follower holds) → RAMPING (on engage: the command moves
from the follower's present pose towards the mapped leader pose at a bounded speed, so engaging
never jumps) → MIRRORING (each fresh leader sample is mapped and sent at once, for the lowest
latency). Leader data older than `stale_timeout_s` is never forwarded: with nothing fresh the
follower's own command timeout makes it hold.

Mapping per joint: scale and offset (radians); the gripper may instead be mapped linearly from
the leader's gripper range onto the follower's (their handles and jaws differ).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from so101_calibration import JOINT_NAMES

N_JOINTS = len(JOINT_NAMES)
GRIPPER = JOINT_NAMES.index("gripper")


class TeleopState(Enum):
    DISENGAGED = "disengaged"
    RAMPING = "ramping"
    MIRRORING = "mirroring"


@dataclass(frozen=True)
class TeleopConfig:
    stale_timeout_s: float = field(default=0.25, metadata={"help": "older leader data is not forwarded"})
    rate_hz: float = field(default=100.0, metadata={"help": "ramp and staleness checks per second"})
    engage_speed_rad_s: float = field(default=0.5, metadata={"help": "speed of the engage ramp"})
    engage_tolerance_rad: float = field(default=0.02, metadata={"help": "ramp ends when every joint is this close"})
    engage_on_start: bool = field(default=False, metadata={"help": "engage as soon as both arms are seen"})
    joint_scale: tuple[float, ...] = field(default=(1.0,) * N_JOINTS, metadata={"help": "per joint, bus order"})
    joint_offset_rad: tuple[float, ...] = field(default=(0.0,) * N_JOINTS, metadata={"help": "per joint, bus order"})
    gripper_leader_range_rad: tuple[float, ...] = field(
        default=(), metadata={"help": "[closed, open] on the leader; with the follower's: a linear gripper map"}
    )
    gripper_follower_range_rad: tuple[float, ...] = field(default=(), metadata={"help": "[closed, open] on the follower"})

    def __post_init__(self) -> None:
        for name in ("stale_timeout_s", "rate_hz", "engage_speed_rad_s", "engage_tolerance_rad"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("joint_scale", "joint_offset_rad"):
            values = getattr(self, name)
            if len(values) != N_JOINTS or not np.all(np.isfinite(values)):
                raise ValueError(f"{name} needs {N_JOINTS} finite values ({', '.join(JOINT_NAMES)}), got {values}")
        ranges = (self.gripper_leader_range_rad, self.gripper_follower_range_rad)
        if any(ranges) and not all(len(r) == 2 and r[0] != r[1] for r in ranges):
            raise ValueError(
                "gripper_leader_range_rad and gripper_follower_range_rad go together, each [closed, open] "
                f"with closed != open; got {ranges[0]} and {ranges[1]}"
            )


class TeleopMapper:
    """Pure and clock-injected: the node feeds it samples and times, it returns commands."""

    def __init__(self, config: TeleopConfig):
        self.config = config
        self.state = TeleopState.DISENGAGED
        self._scale = np.asarray(config.joint_scale, dtype=float)
        self._offset = np.asarray(config.joint_offset_rad, dtype=float)
        self._leader: np.ndarray | None = None
        self._leader_stamp = -np.inf
        self._ramp: np.ndarray | None = None
        self._last_ramp_time: float | None = None
        self.counters: dict[str, int] = {"stale_leader_samples": 0, "engages": 0}

    def map(self, leader: np.ndarray) -> np.ndarray:
        target = np.asarray(leader, dtype=float) * self._scale + self._offset
        if self.config.gripper_leader_range_rad:
            (l0, l1), (f0, f1) = self.config.gripper_leader_range_rad, self.config.gripper_follower_range_rad
            fraction = (leader[GRIPPER] - l0) / (l1 - l0)
            target[GRIPPER] = f0 + fraction * (f1 - f0)
        return target

    def fresh(self, now: float) -> bool:
        return self._leader is not None and now - self._leader_stamp <= self.config.stale_timeout_s

    def on_leader(self, positions: np.ndarray, stamp: float, now: float) -> np.ndarray | None:
        """A leader sample (stamped when the leader bus was read). Returns a command to send, or None."""
        self._leader, self._leader_stamp = np.asarray(positions, dtype=float), stamp
        if not self.fresh(now):
            self.counters["stale_leader_samples"] += 1
            return None
        if self.state is TeleopState.MIRRORING:
            return self.map(self._leader)
        return None

    def engage(self, follower_present: np.ndarray, now: float) -> None:
        """Start the ramp from where the follower is."""
        self._ramp = np.asarray(follower_present, dtype=float).copy()
        self._last_ramp_time = now
        self.state = TeleopState.RAMPING
        self.counters["engages"] += 1

    def disengage(self) -> None:
        self.state = TeleopState.DISENGAGED
        self._ramp = None

    def tick(self, now: float) -> np.ndarray | None:
        """Called at rate_hz: advances the ramp. Returns a ramp command, or None."""
        if self.state is not TeleopState.RAMPING or self._ramp is None or self._last_ramp_time is None:
            return None
        dt, self._last_ramp_time = now - self._last_ramp_time, now
        if not self.fresh(now):
            return None  # nothing fresh to ramp towards: send nothing, the follower holds
        goal = self.map(self._leader)
        reach = self.config.engage_speed_rad_s * max(dt, 0.0)
        self._ramp = self._ramp + np.clip(goal - self._ramp, -reach, reach)
        if np.all(np.abs(goal - self._ramp) <= self.config.engage_tolerance_rad):
            self.state = TeleopState.MIRRORING
        return self._ramp.copy()
