"""The follower's control tick: read the arm, filter the latest command, write Goal_Position.

This is the only code in the stack that writes Goal_Position on a follower (docs/architecture.md §1): every
command, from teleop or the policy, arrives through submit() and leaves through the safety
filter in tick(). Commands and state are radians (ROS units); ticks exist only at the bus.

Torque is enabled in start() only after a valid position read, with the filter seeded at that
pose (never at zero). No fresh command → hold the last safe target. E-stop is latched until
cleared, and either holds or releases torque.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from so101_calibration import DEFAULT_MARGIN_RAD, RADIANS_PER_TICK, UnitConverter, joint_limits
from so101_hardware.arm import ArmState, SO101Arm
from so101_hardware.connection import ArmConnectionConfig
from so101_hardware.safety import SafetyFilter, SafetyLimits


@dataclass(frozen=True)
class FollowerConfig(ArmConnectionConfig):
    """The follower node's parameters (defaults are the follower's)."""

    port: str = "/dev/so101_follower"
    arm_id: str = "follower"
    command_timeout_s: float = field(default=0.25, metadata={"help": "older commands are dropped: hold"})
    max_relative_target_rad: float = field(
        default=0.2, metadata={"help": "largest step from the present position per tick (LeRobot max_relative_target)"}
    )
    max_velocity_rad_s: float = field(default=3.0, metadata={"help": "largest speed of the commanded target"})
    limit_margin_rad: float = field(default=DEFAULT_MARGIN_RAD, metadata={"help": "kept clear of calibrated ends"})
    estop_releases_torque: bool = field(default=False, metadata={"help": "e-stop: torque off instead of hold"})
    torque_off_on_shutdown: bool = field(default=True, metadata={"help": "release torque when the node stops"})

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("command_timeout_s", "max_relative_target_rad", "max_velocity_rad_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.limit_margin_rad < 0:
            raise ValueError(f"limit_margin_rad must be >= 0, got {self.limit_margin_rad}")


@dataclass(frozen=True)
class FollowerTick:
    """What one tick saw and did (radians), for the node to publish."""

    state: ArmState
    positions: np.ndarray
    velocities: np.ndarray
    loads_percent: np.ndarray
    target: np.ndarray
    holding: bool  # no fresh command, e-stop, or a rejected command: the last safe target was held


@dataclass
class _Command:
    positions: np.ndarray
    received_at: float


class FollowerController:
    """Owns the follower arm's actuation. Thread-safe: submit() and estop() may come from callbacks."""

    def __init__(self, arm: SO101Arm, units: UnitConverter, config: FollowerConfig):
        self.arm = arm
        self.units = units
        self.config = config
        limits = joint_limits(units.calibration, margin_rad=config.limit_margin_rad)
        two_ticks_s = 2.0 / config.rate_hz
        self.filter = SafetyFilter(
            SafetyLimits.create(
                limits.lower,
                limits.upper,
                max_step=config.max_relative_target_rad,
                command_timeout_s=config.command_timeout_s,
                max_velocity=config.max_velocity_rad_s,
                velocity_burst_s=two_ticks_s,  # a command right after a tick gets the tick's allowance
            )
        )
        self.counters = self.filter.counters  # one counter set for /diagnostics
        self._lock = threading.Lock()
        self._command: _Command | None = None
        self._command_expired = False
        self._estop = False
        self._last_act: float | None = None
        self._present: np.ndarray | None = None
        self._present_at: float | None = None
        self.fresh_state_s = two_ticks_s  # act_now() trusts a read this recent

    @property
    def limits(self) -> SafetyLimits:
        return self.filter.limits

    @property
    def estopped(self) -> bool:
        return self._estop

    def start(self) -> np.ndarray:
        """Torque on, holding the present pose read first; returns that pose in radians."""
        present = self.units.ticks_to_radians(self.arm.enable_torque())
        self.filter.reset(present)
        return present

    def submit(self, positions: np.ndarray, received_at: float) -> bool:
        """The newest command (radians, joint order); it is filtered at the next tick.

        A non-finite or wrong-shape command is refused and counted here, at once: a newer
        command could otherwise replace it before any tick saw it (the filter checks again).
        """
        command = np.asarray(positions, dtype=float)
        with self._lock:
            if self.filter.malformed(command) is not None:
                return False
            self._command = _Command(command, received_at)
            self._command_expired = False
            return True

    def count(self, reason: str) -> None:
        """Count a command refused before it reached the filter (e.g. a malformed message)."""
        with self._lock:
            self.counters[reason] += 1

    def estop(self, engage: bool) -> None:
        """Latch (True) or clear (False) the e-stop. Clearing drops any command sent meanwhile."""
        with self._lock:
            if engage and not self._estop:
                self.counters["estop_engaged"] += 1
            self._estop = engage
            self._command = None
        if engage and self.config.estop_releases_torque:
            self.arm.disable_torque(best_effort=True)
        elif not engage and not self.arm.torque_enabled:
            self.start()  # re-enable from the present pose, as at start-up

    def tick(self, now: float) -> FollowerTick:
        """The control-rate tick: read the arm, then act on the newest command (or hold)."""
        state = self.arm.read_state()
        present = self.units.ticks_to_radians(state.positions)
        with self._lock:
            self._present, self._present_at = present, now
        target, holding = self._act(now)
        return FollowerTick(
            state=state,
            positions=present,
            velocities=state.velocities * RADIANS_PER_TICK,
            loads_percent=state.loads / 10.0,
            target=target,
            holding=holding,
        )

    def act_now(self, now: float) -> bool:
        """Act on a command the moment it arrives instead of at the next tick (lower latency).

        Filtered against the pose of the last tick's read, which is at most `fresh_state_s`
        old; with an older (or no) read it waits for the tick. Returns whether it wrote.
        """
        with self._lock:
            fresh = self._present_at is not None and now - self._present_at <= self.fresh_state_s
        if fresh:
            self._act(now)
        return fresh

    def _act(self, now: float) -> tuple[np.ndarray, bool]:
        """Filter the newest command against the last read pose and write the target (or hold)."""
        with self._lock:
            dt = None if self._last_act is None else now - self._last_act
            self._last_act = now
            command, estopped, present = self._command, self._estop, self._present
            if command is not None and now - command.received_at > self.config.command_timeout_s:
                if not self._command_expired:
                    self.counters["commands_expired"] += 1
                    self._command_expired = True
                command = None
            if estopped or command is None:
                result = None
            else:
                # A command stays in force until it expires: a 30 Hz policy command is tracked over
                # several 100 Hz ticks within the step and velocity limits. A rejected one is
                # dropped, so it is counted once and not at every tick.
                result = self.filter.apply(command.positions, present, now - command.received_at, dt)
                if not result.accepted:
                    self._command = None
            target = self.filter.last_target if result is None else result.target
            if self.arm.torque_enabled:
                self.arm.write_goal_positions(self.units.radians_to_ticks(target))
        return target, result is None or not result.accepted

    def shutdown(self) -> None:
        self.arm.disconnect(disable_torque=self.config.torque_off_on_shutdown)
