"""The output shaft of one emulated servo: where it is and how it got there.

Two kinds, chosen by the emulator's role. A follower joint is moved by its own position loop
(physics.track) while torque is on and otherwise stays put. A leader joint is moved by a
human hand (a scripted trajectory, or explicit positions), whatever the servo is commanded.
Positions are actual encoder ticks, unwrapped; the servo maps them onto the register frame.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from so101_hardware.emulator.physics import MotionState, track
from so101_hardware.emulator.trajectory import LeaderTrajectory, WaypointTrajectory


@dataclass(frozen=True)
class Drive:
    """What the servo's position loop asks of the motor over the next interval."""

    target: float  # actual ticks, unwrapped
    max_speed: float
    max_acceleration: float


class Joint(Protocol):
    @property
    def motion(self) -> MotionState: ...

    def advance(self, now: float, drive: Drive | None) -> None:
        """Move to time `now`; `drive` is None while the motor produces no holding torque."""

    def place(self, ticks: float) -> None:
        """Put the shaft at `ticks` by hand."""


class FollowerJoint:
    """A joint that only its motor moves: it tracks the drive, and holds still without one."""

    def __init__(self, ticks: float, now: float):
        self._motion = MotionState(float(ticks))
        self._t = now

    @property
    def motion(self) -> MotionState:
        return self._motion

    def advance(self, now: float, drive: Drive | None) -> None:
        dt = now - self._t
        if dt <= 0.0:
            return
        self._t = now
        if drive is None:
            self._motion = MotionState(self._motion.position)
        else:
            self._motion = track(self._motion, drive.target, drive.max_speed, drive.max_acceleration, dt)

    def place(self, ticks: float) -> None:
        self._motion = MotionState(float(ticks))


class LeaderJoint:
    """A back-driven joint: its position is the hand's, from the trajectory or an explicit override."""

    def __init__(self, trajectory: LeaderTrajectory | WaypointTrajectory, started_at: float):
        self.trajectory = trajectory
        self._started_at = started_at
        self._override: float | None = None
        self._motion = MotionState(trajectory.position(0.0))

    @property
    def motion(self) -> MotionState:
        return self._motion

    def advance(self, now: float, drive: Drive | None) -> None:
        if self._override is not None:
            self._motion = MotionState(self._override)
            return
        t = now - self._started_at
        self._motion = MotionState(self.trajectory.position(t), self.trajectory.velocity(t))

    def place(self, ticks: float) -> None:
        self._override = float(ticks)
        self._motion = MotionState(self._override)

    def release(self) -> None:
        """Hand the joint back to the scripted trajectory."""
        self._override = None

    def follow(self, trajectory: LeaderTrajectory | WaypointTrajectory, now: float) -> None:
        """Follow another trajectory from now on (its time 0 is now)."""
        self.trajectory, self._started_at, self._override = trajectory, now, None
