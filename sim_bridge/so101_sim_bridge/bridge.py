"""The twin bridge's logic (the ROS node in nodes/twin_bridge_node.py wraps it): config and tracking.

The bridge forwards an arm's joint states to the simulator as position commands, in the sim's
names and units, and watches the simulator's joint states come back. TwinTracker turns that
echo into the two figures an operator needs to trust the twin:

- tracking error per joint: the twin's position (converted back to ROS radians) minus the last
  target sent, i.e. how far the simulated arm is from the real one right now;
- lag: for each command, from the source state's stamp (the follower's bus read time) to the
  arrival of the first simulator state after the command was sent. The simulator's own stamps
  cannot be used (Isaac Sim stamps with simulation time), so both ends are on this machine's
  wall clock: the source stamp and the arrival time. Isaac Sim and the MuJoCo twin publish a
  state on the tick that applies a command, so that first state is the command's echo; a state
  already in flight when the command left can be taken for it, which under-reads by at most one
  simulator tick.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from so101_calibration import JOINT_NAMES, ArmRole
from so101_calibration.interface_contract import (
    FOLLOWER_JOINT_STATES,
    LEADER_JOINT_STATES,
    SIM_JOINT_COMMAND,
    SIM_JOINT_STATES,
    Topic,
)
from so101_hardware.metrics import LatencyStats
from so101_sim_bridge.mapping import SimMappingParameters

SOURCE_TOPICS: dict[str, Topic] = {
    ArmRole.FOLLOWER.value: FOLLOWER_JOINT_STATES,
    ArmRole.LEADER.value: LEADER_JOINT_STATES,
}
"""The bridge's `source` parameter → the joint states it mirrors."""
SOURCES = tuple(SOURCE_TOPICS)
MAX_PENDING = 1000
"""Commands awaiting an echo that are remembered (a silent simulator must not grow memory)."""


@dataclass(frozen=True)
class TwinBridgeConfig(SimMappingParameters):
    """The twin bridge node's parameters (with the sim mapping's, inherited)."""

    source: str = field(
        default="follower", metadata={"help": "follower: mirror the real arm | leader: drive the twin with the leader"}
    )
    command_topic: str = field(default=SIM_JOINT_COMMAND.name, metadata={"help": "the simulator's command topic"})
    state_topic: str = field(default=SIM_JOINT_STATES.name, metadata={"help": "the simulator's joint state topic"})
    publish_rate_hz: float = field(
        default=0.0, metadata={"help": "0: forward every source state; else at most this rate (the others dropped)"}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.source not in SOURCES:
            raise ValueError(f"source {self.source!r} unknown; use {' or '.join(SOURCES)}")
        if not 0 <= self.publish_rate_hz <= 1000:
            raise ValueError(f"publish_rate_hz must be 0 (every state) or up to 1000 Hz, got {self.publish_rate_hz}")
        for name in ("command_topic", "state_topic"):
            if not getattr(self, name):
                raise ValueError(f"{name} must name a topic")

    @property
    def role(self) -> ArmRole:
        return ArmRole(self.source)

    @property
    def source_topic(self) -> Topic:
        return SOURCE_TOPICS[self.source]


@dataclass(frozen=True, eq=False)
class Echo:
    """What one simulator state told: the tracking error, and the lags of the commands it answered."""

    error: np.ndarray | None
    """(6,) radians, JOINT_NAMES order: twin − last target; None before the first command."""
    lags_s: tuple[float, ...]


class TwinTracker:
    """Tracking error and lag from commands sent and simulator states received (module doc)."""

    def __init__(self, window: int = 1000):
        self._pending: deque[tuple[float, float]] = deque(maxlen=MAX_PENDING)  # (source stamp, sent at)
        self._target: np.ndarray | None = None
        self._error: np.ndarray | None = None
        self._lag = LatencyStats(window)
        self.commands = 0
        self.echoes = 0
        self.last_echo_at: float | None = None

    def command_sent(self, source_stamp_s: float, sent_at_s: float, target: np.ndarray) -> None:
        """A command left for the simulator: its source state's stamp, when it was sent, its target (ROS radians)."""
        self._pending.append((source_stamp_s, sent_at_s))
        self._target = np.asarray(target, dtype=np.float64)
        self.commands += 1

    def echo(self, received_at_s: float, position: np.ndarray) -> Echo:
        """A simulator state arrived (position in ROS radians, JOINT_NAMES order)."""
        self.echoes += 1
        self.last_echo_at = received_at_s
        lags = []
        while self._pending and self._pending[0][1] <= received_at_s:
            source_stamp, _sent_at = self._pending.popleft()
            lags.append(received_at_s - source_stamp)
            self._lag.add(lags[-1])
        if self._target is not None:
            self._error = np.asarray(position, dtype=np.float64) - self._target
        return Echo(self._error, tuple(lags))

    def summary(self) -> dict[str, object]:
        """Diagnostics values: lag percentiles (ms) and the latest tracking error per joint (rad)."""
        values: dict[str, object] = {
            "commands_sent": self.commands, "sim_states": self.echoes, **self._lag.summary("lag")
        }
        if self._error is not None:
            values.update({f"tracking_error_{name}_rad": float(e) for name, e in zip(JOINT_NAMES, self._error)})
            values["tracking_error_max_rad"] = float(np.abs(self._error).max())
        return values
