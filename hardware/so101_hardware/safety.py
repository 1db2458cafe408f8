"""The follower's safety filter: the last line between any command and Goal_Position.

Pure numpy, unit-agnostic (ticks, radians: whatever the limits and command share), so the ROS
follower node, the demo and the tests run the very same code. Per command, in docs/architecture.md §6 order:

  1. reject a command with the wrong shape or any non-finite value (hold the last safe target);
  2. reject a command older than `command_timeout_s` (hold);
  3. clamp each joint to [lower, upper];
  4. limit the step from the present position to `max_step` per tick (LeRobot's
     `max_relative_target`: safe = present + clip(goal - present, -cap, +cap));
  5. limit the velocity of the target itself, as a token bucket per joint: travel allowance
     accrues at `max_velocity` × dt up to `velocity_burst_s` worth, and each change of the
     target spends it. Over any interval T the target moves at most max_velocity × (T + burst),
     however the calls are timed (a command acted on the moment it arrives, right after a
     control tick, still gets the allowance of the time since the previous command).

Every rejection and clamp is counted per kind so /diagnostics can report it.

GraspGuard protects the gripper, whose servo burns out when it squeezes an object at stall for
long (a common SO-101 failure): a load above a threshold for a time while the gripper stands
still backs its goal off to where it is, and commands pushing further in that direction are held
there, until one opens it by more than a margin (the operator lets go). The guard only rewrites
the command the filter then applies, so backing off is paced by the same step and velocity
limits as any other motion.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class SafetyLimits:
    lower: np.ndarray
    upper: np.ndarray
    max_step: np.ndarray  # per tick, same units; inf disables the step limit
    command_timeout_s: float = 0.5
    max_velocity: np.ndarray | None = None  # units per second; None disables the velocity limit
    velocity_burst_s: float = 0.02  # the most allowance that can accrue, in seconds of max_velocity

    @classmethod
    def create(
        cls,
        lower: Sequence[float],
        upper: Sequence[float],
        max_step: float | Sequence[float] = math.inf,
        command_timeout_s: float = 0.5,
        max_velocity: float | Sequence[float] = math.inf,
        velocity_burst_s: float = 0.02,
    ) -> SafetyLimits:
        lo, hi = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
        step = np.broadcast_to(np.asarray(max_step, dtype=float), lo.shape).copy()
        velocity = np.broadcast_to(np.asarray(max_velocity, dtype=float), lo.shape).copy()
        if lo.shape != hi.shape or lo.ndim != 1:
            raise ValueError(f"lower and upper limits must be equal-length vectors, got {lo.shape} and {hi.shape}")
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))) or np.any(lo >= hi):
            raise ValueError(f"every joint needs finite limits with lower < upper, got {lo} .. {hi}")
        if np.any(step <= 0) or np.any(np.isnan(step)):
            raise ValueError(f"max_step must be positive (inf to disable), got {step}")
        if np.any(velocity <= 0) or np.any(np.isnan(velocity)):
            raise ValueError(f"max_velocity must be positive (inf to disable), got {velocity}")
        if command_timeout_s <= 0:
            raise ValueError(f"command_timeout_s must be positive, got {command_timeout_s}")
        if velocity_burst_s <= 0:
            raise ValueError(f"velocity_burst_s must be positive, got {velocity_burst_s}")
        return cls(lo, hi, step, command_timeout_s, None if np.all(np.isinf(velocity)) else velocity, velocity_burst_s)


@dataclass(frozen=True)
class FilterResult:
    target: np.ndarray  # what may be sent to the servos
    accepted: bool  # False: the command was rejected and `target` holds the last safe target
    reason: str = ""  # why it was rejected or modified ("" when passed unchanged)


@dataclass
class SafetyFilter:
    """Stateful: remembers the last safe target, which is held whenever a command is rejected."""

    limits: SafetyLimits
    counters: Counter = field(default_factory=Counter)
    _last_target: np.ndarray | None = None
    _allowance: np.ndarray | None = None  # velocity token bucket, per joint

    def reset(self, present: np.ndarray) -> None:
        """Start from the present position (never from zero), e.g. when torque is enabled.

        Not clipped to the limits: holding where the arm is must never move it.
        """
        self._last_target = np.asarray(present, dtype=float).copy()
        self._allowance = np.zeros_like(self._last_target)

    @property
    def last_target(self) -> np.ndarray | None:
        return None if self._last_target is None else self._last_target.copy()


    def hold(self, reason: str) -> FilterResult:
        """Keep the last safe target (e.g. stale or missing commands), counted under `reason`."""
        result = self._holding(reason)
        self.counters[reason] += 1
        return result

    def _holding(self, reason: str) -> FilterResult:
        if self._last_target is None:
            raise RuntimeError("safety filter has no safe target yet: call reset() with a valid position read")
        return FilterResult(self._last_target.copy(), accepted=False, reason=reason)

    def malformed(self, command: np.ndarray) -> str | None:
        """Why a command can never be filtered (wrong shape, non-finite), counted; None if it can."""
        if command.shape != self.limits.lower.shape:
            reason = "rejected_shape"
        elif not np.all(np.isfinite(command)):
            reason = "rejected_non_finite"
        else:
            return None
        self.counters[reason] += 1
        return reason

    def apply(
        self,
        command: np.ndarray | Sequence[float],
        present: np.ndarray,
        command_age_s: float = 0.0,
        dt_s: float | None = None,
    ) -> FilterResult:
        """Filter one command. dt_s (time since the previous tick) enables the velocity limit."""
        cmd = np.asarray(command, dtype=float)
        reason = self.malformed(cmd)  # counts it
        if reason is not None:
            return self._holding(reason)
        if command_age_s > self.limits.command_timeout_s:
            return self.hold("rejected_stale")
        present = np.asarray(present, dtype=float)
        if present.shape != cmd.shape or not np.all(np.isfinite(present)):
            return self.hold("rejected_bad_present")

        target = np.clip(cmd, self.limits.lower, self.limits.upper)
        reasons = []
        if np.any(target != cmd):
            self.counters["clamped_limit"] += 1
            reasons.append("clamped_limit")
        # The step is taken from where the arm is. If it is outside its range (pushed there by hand),
        # the target moves back towards the range by at most max_step per tick, never with a jump.
        stepped = present + np.clip(target - present, -self.limits.max_step, self.limits.max_step)
        if np.any(stepped != target):
            self.counters["clamped_step"] += 1
            reasons.append("clamped_step")
        target = stepped
        if self.limits.max_velocity is not None and dt_s is not None and self._last_target is not None:
            velocity = self.limits.max_velocity
            self._allowance = np.minimum(self._allowance + velocity * max(dt_s, 0.0), velocity * self.limits.velocity_burst_s)
            paced = self._last_target + np.clip(target - self._last_target, -self._allowance, self._allowance)
            self._allowance = self._allowance - np.abs(paced - self._last_target)
            if np.any(paced != target):
                self.counters["clamped_velocity"] += 1
                reasons.append("clamped_velocity")
            target = paced
        self.counters["accepted"] += 1
        self._last_target = target
        return FilterResult(target.copy(), accepted=True, reason=",".join(reasons))


GRASP_STALL_SPEED = 0.1
"""Below this joint speed (units/s, rad/s in the follower) the gripper counts as standing still."""


@dataclass
class GraspGuard:
    """Backs the gripper off a stall (see the module doc). Pure: the follower feeds it every read.

    joint: the gripper's index; load_limit: |load| (%) above which the timer runs; hold_s: how long
    before the guard trips (0 disables the guard); release: how far a command must open past
    where the gripper is to re-arm the guard.
    """

    joint: int
    load_limit: float
    hold_s: float
    release: float
    counters: Counter = field(default_factory=Counter)
    _over_since: float | None = None
    _direction: float = 0.0  # the direction the gripper was pushing when the guard tripped; 0: not tripped

    @property
    def tripped(self) -> bool:
        return self._direction != 0.0

    def rearm(self) -> None:
        """Forget a trip (e.g. after the follower was re-enabled holding its present pose)."""
        self._direction, self._over_since = 0.0, None

    def update(self, now: float, load: float, speed: float, present: float, target: float) -> bool:
        """One read of the gripper; True when the guard trips now (the caller then settles the target)."""
        if self.hold_s <= 0 or self.tripped:
            return False
        if abs(load) <= self.load_limit or abs(speed) > GRASP_STALL_SPEED or target == present:
            self._over_since = None
            return False
        if self._over_since is None:
            self._over_since = now
        if now - self._over_since < self.hold_s:
            return False
        self._direction = float(np.sign(target - present))
        self._over_since = None
        self.counters["gripper_backed_off"] += 1
        return True

    def guard(self, command: np.ndarray, present: np.ndarray) -> np.ndarray:
        """The command, its gripper held at `present` unless it opens by more than `release`."""
        if not self.tripped:
            return command
        if (command[self.joint] - present[self.joint]) * self._direction < -self.release:
            self._direction = 0.0  # the command lets go: the guard re-arms
            return command
        guarded = np.array(command, dtype=float)
        guarded[self.joint] = present[self.joint]
        return guarded
