"""The command mux: exactly one source drives the follower, the policy or the operator, and switching never jumps.

docs/architecture.md §1 allows one writer per actuator: the follower's safety filter writes the
servos, and one node commands the filter. With the policy and a human operator both ready to drive
(an operator correcting a policy, DAgger-style), the mux is that one node. Teleop and the inference
node publish on inputs of their own (teleop/joint_commands, policy/joint_commands) and the mux
forwards the selected source's commands only, so at no moment do two sources reach the follower.

Switching (clock-injected, pure): the operator takes over only while the leader is within
`max_takeover_distance_rad` of the follower (the distance is shown live: the operator matches the
pose first); then, and on hand-back, the output ramps (smoothstep, ramp.py) from the command in
force to the new source's live commands at no more than `switch_speed_rad_s`, so neither switch
steps the follower. A silent source is never replaced by anything: the follower's own command
timeout makes it hold.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from so101_calibration.interface_contract import OPERATOR_SOURCE, POLICY_SOURCE
from so101_hardware.ramp import Ramp, ramp_duration
from so101_hardware.realtime import RealtimeParameters


class Source(Enum):
    """The values published on command_mux/source."""

    POLICY = POLICY_SOURCE
    OPERATOR = OPERATOR_SOURCE


@dataclass(frozen=True)
class CommandMuxConfig(RealtimeParameters):
    """The command mux node's parameters."""

    max_takeover_distance_rad: float = field(
        default=0.35, metadata={"help": "the operator takes over only with the leader this close to the follower"}
    )
    switch_speed_rad_s: float = field(default=0.5, metadata={"help": "peak joint speed of the ramp at a switch"})
    switch_min_duration_s: float = field(default=0.3, metadata={"help": "shortest ramp at a switch"})
    stale_timeout_s: float = field(default=0.25, metadata={"help": "older commands or states count as absent"})
    keyboard: bool = field(default=True, metadata={"help": "key T (take over / hand back) and a status line "
                                                           "when stdin is a terminal"})

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("max_takeover_distance_rad", "switch_speed_rad_s", "switch_min_duration_s", "stale_timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")


@dataclass
class _Latest:
    positions: np.ndarray
    at: float


class CommandMux:
    """Feed it every source's commands and the follower's states; it returns what goes to the follower."""

    def __init__(self, config: CommandMuxConfig, source: Source = Source.POLICY):
        self.config = config
        self.source = source
        self.counters: Counter[str] = Counter()
        self._latest: dict[Source, _Latest] = {}
        self._follower: _Latest | None = None
        self._output: np.ndarray | None = None
        self._ramp: Ramp | None = None

    # --- inputs --------------------------------------------------------------------------------

    def on_follower(self, positions: np.ndarray, now: float) -> None:
        self._follower = _Latest(np.asarray(positions, dtype=float), now)

    def on_command(self, source: Source, positions: np.ndarray, now: float) -> np.ndarray | None:
        """A source's command; the command for the follower if `source` drives it now, else None."""
        command = np.asarray(positions, dtype=float)
        self._latest[source] = _Latest(command, now)
        if source is not self.source:
            self.counters[f"held_back_{source.value}"] += 1
            return None
        if self._ramp is not None:
            command = self._ramp.blend(command, now)
            if self._ramp.done(now):
                self._ramp = None
        self._output = command
        self.counters[f"forwarded_{source.value}"] += 1
        return command

    # --- switching -----------------------------------------------------------------------------

    def leader_distance(self, now: float) -> float | None:
        """Largest joint distance between the operator's (mapped leader) command and the follower, if both fresh."""
        operator, follower = self._fresh(self._latest.get(Source.OPERATOR), now), self._fresh(self._follower, now)
        if operator is None or follower is None:
            return None
        return float(np.max(np.abs(operator - follower)))

    def take_over(self, now: float) -> str | None:
        """The operator drives from now on; returns why not, or None."""
        if self.source is Source.OPERATOR:
            return None
        distance = self.leader_distance(now)
        if distance is None:
            return "no fresh leader command (is teleop mirroring?) or follower state"
        if distance > self.config.max_takeover_distance_rad:
            return (f"the leader is {distance:.2f} rad from the follower (at most "
                    f"{self.config.max_takeover_distance_rad:.2f}): bring it to the follower's pose first")
        self._switch(Source.OPERATOR, now)
        return None

    def hand_back(self, now: float) -> str | None:
        """The policy drives from now on (it resumes from the present pose); returns why not, or None."""
        if self.source is Source.POLICY:
            return None
        if self._fresh(self._follower, now) is None:
            return "no fresh follower state"
        self._switch(Source.POLICY, now)
        return None

    def _switch(self, source: Source, now: float) -> None:
        """Ramp from the command in force (else the follower's pose) into `source`'s commands."""
        assert self._follower is not None
        start = self._output if self._output is not None else self._follower.positions
        target = self._fresh(self._latest.get(source), now)  # the policy resumes from the follower's pose
        target = self._follower.positions if target is None else target
        duration = ramp_duration(start, target, self.config.switch_speed_rad_s, self.config.switch_min_duration_s)
        self._ramp = Ramp(start.copy(), now, duration)
        self.source = source
        self.counters[f"switches_to_{source.value}"] += 1

    def _fresh(self, latest: _Latest | None, now: float) -> np.ndarray | None:
        if latest is None or now - latest.at > self.config.stale_timeout_s:
            return None
        return latest.positions
