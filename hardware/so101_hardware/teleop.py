"""Teleoperation logic: leader joint positions → follower commands, with a safe engage.

States: DISENGAGED (nothing is sent; the follower holds) → RAMPING (on engage: the command
blends from the follower's present pose into the live, mapped leader pose over a duration set
by the distance and `engage_speed_rad_s`, with smoothstep easing, so engaging never jumps and
always ends, on the leader, even while the operator keeps moving) → MIRRORING (each fresh leader
sample is mapped and sent at once, for the lowest latency). Leader data older than
`stale_timeout_s` is never forwarded: with nothing fresh the follower's own command timeout
makes it hold.

Mapping per joint: scale and offset (radians); the gripper may instead be mapped linearly from
the leader's gripper range onto the follower's (their handles and jaws differ).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from so101_calibration import JOINT_NAMES
from so101_calibration.interface_contract import FOLLOWER_JOINT_COMMANDS
from so101_hardware.ramp import Ramp, ramp_duration
from so101_hardware.realtime import RealtimeParameters

N_JOINTS = len(JOINT_NAMES)
GRIPPER = JOINT_NAMES.index("gripper")


class TeleopState(Enum):
    DISENGAGED = "disengaged"
    RAMPING = "ramping"
    MIRRORING = "mirroring"


@dataclass(frozen=True)
class TeleopConfig(RealtimeParameters):
    stale_timeout_s: float = field(default=0.25, metadata={"help": "older leader data is not forwarded"})
    rate_hz: float = field(default=100.0, metadata={"help": "ramp and staleness checks per second"})
    engage_speed_rad_s: float = field(default=0.5, metadata={"help": "peak joint speed of the engage ramp (still leader)"})
    engage_min_duration_s: float = field(default=0.5, metadata={"help": "shortest engage ramp"})
    engage_on_start: bool = field(default=False, metadata={"help": "engage as soon as both arms are seen"})
    joint_scale: tuple[float, ...] = field(default=(1.0,) * N_JOINTS, metadata={"help": "per joint, bus order"})
    joint_offset_rad: tuple[float, ...] = field(default=(0.0,) * N_JOINTS, metadata={"help": "per joint, bus order"})
    gripper_leader_range_rad: tuple[float, ...] = field(
        default=(), metadata={"help": "[closed, open] on the leader; with the follower's: a linear gripper map"}
    )
    gripper_follower_range_rad: tuple[float, ...] = field(default=(), metadata={"help": "[closed, open] on the follower"})
    command_topic: str = field(
        default=FOLLOWER_JOINT_COMMANDS.name,
        metadata={"help": "where the commands go: the follower's, or a command mux's operator input"},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("stale_timeout_s", "rate_hz", "engage_speed_rad_s", "engage_min_duration_s"):
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
        self._ramp: Ramp | None = None
        self.ramp_duration_s = 0.0
        self.mirroring_since: float | None = None  # when the last ramp ended (the caller's clock)
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

    def engage(self, follower_present: np.ndarray, now: float) -> bool:
        """Start the ramp from where the follower is. Needs fresh leader data (else False)."""
        if not self.fresh(now):
            return False
        start = np.asarray(follower_present, dtype=float).copy()
        self.ramp_duration_s = ramp_duration(start, self.map(self._leader), self.config.engage_speed_rad_s,
                                             self.config.engage_min_duration_s)
        self._ramp = Ramp(start, now, self.ramp_duration_s)
        self.state = TeleopState.RAMPING
        self.counters["engages"] += 1
        return True

    def disengage(self) -> None:
        self.state = TeleopState.DISENGAGED
        self._ramp = None

    def tick(self, now: float) -> np.ndarray | None:
        """Called at rate_hz: advances the ramp. Returns a ramp command, or None."""
        if self.state is not TeleopState.RAMPING or self._ramp is None:
            return None
        if not self.fresh(now):
            return None  # nothing fresh to ramp towards: send nothing, the follower holds
        command = self._ramp.blend(self.map(self._leader), now)
        if self._ramp.done(now):
            self.state = TeleopState.MIRRORING
            self.mirroring_since = now
        return command
