"""The follower's control tick: read the arm, filter the latest command, write Goal_Position.

This is the only code in the stack that writes Goal_Position on a follower (docs/architecture.md §1): every
command, from teleop or the policy, arrives through submit() and leaves through the safety
filter in tick(). Commands and state are radians (ROS units); ticks exist only at the bus.

Torque is enabled in start() only after a valid position read, with the filter seeded at that
pose (never at zero), and never while a servo reports an error bit. No fresh command → hold the
last safe target. E-stop is latched until cleared, and either holds or releases torque.

Faults latch (docs/architecture.md §6). A servo reporting an error bit while running (overload,
overheat, voltage, ...), a servo found rebooted (a brown-out: its RAM back at power-up values,
torque off) or without torque, or a lost serial port stops the follower: no Goal_Position is
written from then on, the motors still powered hold where they were sent (or, for a servo error
with servo_error_reaction "release", that motor lets go), and nothing re-enables torque until
the operator calls reenable(). Clearing the e-stop does not. The gripper's grasp guard
(safety.GraspGuard) backs a stalled gripper off before its own overload protection trips.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from so101_calibration import DEFAULT_MARGIN_RAD, JOINT_NAMES, RADIANS_PER_TICK, UnitConverter, joint_limits
from so101_hardware.arm import ArmState, SO101Arm, TorqueCheck
from so101_hardware.connection import ArmConnectionConfig
from so101_hardware.errors import ServoFaultError, describe_servo_errors
from so101_hardware.safety import GraspGuard, SafetyFilter, SafetyLimits
from so101_hardware.sts_protocol import ServoErrorBits

SERVO_ERROR_REACTIONS = ("hold", "release")
GRIPPER = JOINT_NAMES.index("gripper")
LOAD_PERCENT_PER_UNIT = 0.1  # Present_Load counts 0.1 % of full load
GRASP_RELEASE_RAD = 0.05
"""How far a command must open the gripper past where it stalled to re-arm the grasp guard (~3°)."""


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
    torque_check_period_s: float = field(
        default=0.1, metadata={"help": "how often torque and RAM settings are read back (brown-out detection)"}
    )
    servo_error_reaction: str = field(
        default="hold",
        metadata={"help": "a servo error while running latches the follower: hold (all joints hold) | release "
                          "(that motor lets go, the others hold)"},
    )
    gripper_grasp_load_percent: float = field(
        default=20.0, metadata={"help": "gripper load (% of full) that, while stalled, counts as a hard squeeze"}
    )
    gripper_grasp_time_s: float = field(
        default=0.5, metadata={"help": "a squeeze this long backs the gripper off to where it is; 0: never"}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("command_timeout_s", "max_relative_target_rad", "max_velocity_rad_s", "torque_check_period_s",
                     "gripper_grasp_load_percent"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("limit_margin_rad", "gripper_grasp_time_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.servo_error_reaction not in SERVO_ERROR_REACTIONS:
            choices = ", ".join(SERVO_ERROR_REACTIONS)
            raise ValueError(f"servo_error_reaction must be one of {choices}, got {self.servo_error_reaction!r}")


@dataclass(frozen=True)
class FollowerTick:
    """What one tick saw and did (radians), for the node to publish."""

    state: ArmState
    positions: np.ndarray
    velocities: np.ndarray
    loads_percent: np.ndarray
    target: np.ndarray
    holding: bool  # no fresh command, e-stop, a fault, or a rejected command: the last safe target was held


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
        self.grasp = GraspGuard(GRIPPER, config.gripper_grasp_load_percent, config.gripper_grasp_time_s,
                                GRASP_RELEASE_RAD, self.counters)
        self._lock = threading.Lock()
        self._command: _Command | None = None
        self._command_expired = False
        self._estop = False
        self._faults: list[str] = []  # why the follower is latched off, oldest first; empty: not latched
        self._seen_errors: dict[int, ServoErrorBits] = {}
        self._seen_rebooted: set[int] = set()
        self._next_torque_check = float("-inf")
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

    @property
    def fault(self) -> str | None:
        """Why the follower is latched off (until reenable()), or None."""
        with self._lock:
            return "; ".join(self._faults) or None

    def start(self) -> np.ndarray:
        """Torque on, holding the present pose read first; returns that pose in radians.

        ServoFaultError, with torque left off, if any servo reports an error bit.
        """
        self.arm.read_positions()  # a valid read of every motor, which also reports their error bits
        self._refuse_servo_errors("refusing to enable torque")
        present = self.units.ticks_to_radians(self.arm.enable_torque())
        self.filter.reset(present)
        return present

    def reenable(self) -> np.ndarray:
        """The operator's way back from a fault: check the servos, restore their RAM settings, enable
        torque holding the present pose (nothing moves). Any command sent meanwhile is dropped.

        Raises (and stays latched) while a servo still reports an error bit or does not answer.
        """
        self.arm.restore_ram_settings()
        present = self.start()
        with self._lock:
            self._faults.clear()
            self._seen_errors.clear()
            self._seen_rebooted.clear()
            self._command = None
        self.grasp.rearm()
        return present

    def latch(self, reason: str) -> None:
        """Stop on a fault (e.g. the serial port was lost); only reenable() clears it."""
        with self._lock:
            if reason not in self._faults:
                self._faults.append(reason)
                self.counters["faults"] += 1
            self._command = None

    def _refuse_servo_errors(self, action: str) -> None:
        errors = {mid: bits for mid, bits in self.arm.bus.servo_errors.items() if bits}
        if errors:
            raise ServoFaultError(self.arm.bus.config.port, errors, self.arm.bus.motor_names, action)

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
        """Latch (True) or clear (False) the e-stop. Clearing drops any command sent meanwhile; it
        re-enables torque the e-stop itself released, never torque a fault took (see reenable())."""
        with self._lock:
            if engage and not self._estop:
                self.counters["estop_engaged"] += 1
            self._estop = engage
            self._command = None
            faulted = bool(self._faults)
        if engage and self.config.estop_releases_torque:
            self.arm.disable_torque(best_effort=True)
        elif not engage and not faulted and not self.arm.torque_enabled:
            self.start()  # re-enable from the present pose, as at start-up

    def tick(self, now: float) -> FollowerTick:
        """The control-rate tick: read the arm, watch for faults, then act on the newest command (or hold)."""
        state = self.arm.read_state()
        present = self.units.ticks_to_radians(state.positions)
        with self._lock:
            self._present, self._present_at = present, now
        self._watch_servo_errors()
        if now >= self._next_torque_check:
            self._next_torque_check = now + self.config.torque_check_period_s
            self._watch_torque(self.arm.check_torque())
        self._watch_grasp(now, state, present)
        target, holding = self._act(now)
        return FollowerTick(
            state=state,
            positions=present,
            velocities=state.velocities * RADIANS_PER_TICK,
            loads_percent=state.loads / 10.0,
            target=target,
            holding=holding,
        )

    def _watch_servo_errors(self) -> None:
        """A servo reporting new error bits latches the follower (and, with "release", lets that motor go)."""
        errors = {mid: bits for mid, bits in self.arm.bus.servo_errors.items() if bits}
        new = {mid: bits for mid, bits in errors.items() if self._seen_errors.get(mid) != bits}
        self._seen_errors = errors
        if not new:
            return
        if self.config.servo_error_reaction == "release":
            for motor_id in new:
                self.arm.release_motor(motor_id)
            action = f"released {self.arm.describe(list(new))}, the other joints hold"
        else:
            action = "every joint holds"
        self.latch(f"{describe_servo_errors(new, self.arm.bus.motor_names)}: {action}")

    def _watch_torque(self, check: TorqueCheck) -> None:
        rebooted = [mid for mid in check.rebooted if mid not in self._seen_rebooted]
        self._seen_rebooted.update(rebooted)
        if rebooted:
            self.latch(
                f"{self.arm.describe(rebooted)} rebooted (RAM back at power-up values, torque off): a brown-out? "
                "Check the power supply and cables"
            )
        if check.torque_lost:
            self.latch(f"{self.arm.describe(check.torque_lost)} lost torque (Torque_Enable reads 0)")

    def _watch_grasp(self, now: float, state: ArmState, present: np.ndarray) -> None:
        target = self.filter.last_target
        if target is None or self.fault is not None:
            return
        load = state.loads[GRIPPER] * LOAD_PERCENT_PER_UNIT
        speed = state.velocities[GRIPPER] * RADIANS_PER_TICK
        self.grasp.update(now, load, speed, present[GRIPPER], target[GRIPPER])

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
            if estopped or self._faults:
                result = None
            elif command is not None:
                # A command stays in force until it expires: a 30 Hz policy command is tracked over
                # several 100 Hz ticks within the step and velocity limits. A rejected one is
                # dropped, so it is counted once and not at every tick.
                positions = self.grasp.guard(command.positions, present)
                result = self.filter.apply(positions, present, now - command.received_at, dt)
                if not result.accepted:
                    self._command = None
            elif self.grasp.tripped:  # holding a squeeze: ease the held gripper goal to where the gripper is
                result = self.filter.apply(self.grasp.guard(self.filter.last_target, present), present, 0.0, dt)
            else:
                result = None
            target = self.filter.last_target if result is None else result.target
            if self.arm.torque_enabled and not self._faults:  # latched: no goal is written at all
                self.arm.write_goal_positions(self.units.radians_to_ticks(target))
        return target, command is None or estopped or bool(self._faults) or not result.accepted

    def shutdown(self) -> None:
        self.arm.disconnect(disable_torque=self.config.torque_off_on_shutdown)
