"""Scripted human motion for a leader arm: what a teleoperator's hand does to each joint.

Each joint moves between seeded random waypoints inside its range along minimum-jerk profiles
(the smooth bell-shaped speed of human reaching), pausing between moves. The trajectory is a
pure function of time and seed, so two emulators with the same seed agree at every instant and
a test can compare them without reading a wall clock.
"""
from __future__ import annotations

import bisect
import random
import threading
from dataclasses import dataclass

from so101_calibration import MOTOR_IDS, joint_by_id

# Actual-tick ranges a hand comfortably sweeps on an assembled SO-101 (factory homing, ids 1..6).
# The gripper's range runs from closed (0 %) to fully open (100 %).
_JOINT_RANGES: dict[str, tuple[int, int]] = {
    "shoulder_pan": (1200, 2900),
    "shoulder_lift": (1100, 2900),
    "elbow_flex": (1100, 2900),
    "wrist_flex": (1100, 2900),
    "wrist_roll": (900, 3200),
    "gripper": (2050, 3350),
}
_OTHER_JOINT_RANGE = (1024, 3072)  # a servo id that is not an SO-101 joint

_PEAK_SPEED_TICKS_S = (400.0, 1000.0)  # ~35-90 °/s at the peak of a move
_MIN_MOVE_S = 0.4
_PAUSE_S = (0.2, 1.5)
_MIN_JERK_PEAK = 1.875  # peak speed of a minimum-jerk move = 1.875 × distance / duration


def joint_range(motor_id: int) -> tuple[int, int]:
    """The (low, high) actual ticks the scripted hand keeps motor `motor_id` within."""
    if motor_id in MOTOR_IDS:
        return _JOINT_RANGES[joint_by_id(motor_id).name]
    return _OTHER_JOINT_RANGE


@dataclass(frozen=True)
class _Move:
    start_s: float
    duration_s: float
    pause_s: float
    origin: float
    target: float

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s + self.pause_s


def _min_jerk(tau: float) -> tuple[float, float]:
    """Normalised minimum-jerk position and its derivative at phase tau in [0, 1]."""
    tau2 = tau * tau
    position = tau2 * tau * (10.0 - 15.0 * tau + 6.0 * tau2)
    velocity = 30.0 * tau2 * (1.0 - 2.0 * tau + tau2)
    return position, velocity


class _MoveTrajectory:
    """Positions of one joint over time (seconds since it started) along a list of min-jerk moves.

    Subclasses decide where the moves go (`_next_move`); moves are made lazily as time advances,
    under a lock, so a test may read the trajectory while the serving thread does.
    """

    def __init__(self, first: _Move):
        self._moves: list[_Move] = [first]
        self._starts: list[float] = [first.start_s]
        self._lock = threading.Lock()

    def _next_move(self, last: _Move) -> _Move:
        raise NotImplementedError

    def _move_at(self, t: float) -> tuple[_Move, float]:
        t = max(t, 0.0)
        with self._lock:
            while self._moves[-1].end_s <= t:
                move = self._next_move(self._moves[-1])
                self._moves.append(move)
                self._starts.append(move.start_s)
            move = self._moves[bisect.bisect_right(self._starts, t) - 1]
        tau = min((t - move.start_s) / move.duration_s, 1.0) if move.duration_s > 0 else 1.0
        return move, tau

    def position(self, t: float) -> float:
        move, tau = self._move_at(t)
        return move.origin + (move.target - move.origin) * _min_jerk(tau)[0]

    def velocity(self, t: float) -> float:
        """Ticks/s at time t (zero while pausing)."""
        move, tau = self._move_at(t)
        if move.duration_s == 0 or tau >= 1.0:
            return 0.0
        return (move.target - move.origin) / move.duration_s * _min_jerk(tau)[1]


class LeaderTrajectory(_MoveTrajectory):
    """The scripted hand: seeded random waypoints inside the joint's range, with pauses."""

    def __init__(self, motor_id: int, start_ticks: float, seed: int):
        self.low, self.high = joint_range(motor_id)
        self._rng = random.Random(f"so101-leader:{seed}:{motor_id}")
        start = min(max(start_ticks, self.low), self.high)
        super().__init__(_Move(0.0, 0.0, self._rng.uniform(*_PAUSE_S), start, start))

    def _next_move(self, last: _Move) -> _Move:
        target = self._rng.uniform(self.low, self.high)
        distance = abs(target - last.target)
        duration = max(_MIN_MOVE_S, _MIN_JERK_PEAK * distance / self._rng.uniform(*_PEAK_SPEED_TICKS_S))
        return _Move(last.end_s, duration, self._rng.uniform(*_PAUSE_S), last.target, target)


@dataclass(frozen=True)
class Waypoint:
    """Move to `ticks` (actual) over `duration_s` (min-jerk), then stay `pause_s`."""

    ticks: float
    duration_s: float
    pause_s: float = 0.0


class WaypointTrajectory(_MoveTrajectory):
    """A given sequence of moves (e.g. a pick-and-place), looped or held at the last waypoint."""

    def __init__(self, start_ticks: float, waypoints: list[Waypoint], loop: bool = True):
        if not waypoints or any(w.duration_s <= 0 or w.pause_s < 0 for w in waypoints):
            raise ValueError("a script needs waypoints with positive durations and non-negative pauses")
        self._script, self._loop, self._next = list(waypoints), loop, 0
        super().__init__(_Move(0.0, 0.0, 0.0, start_ticks, start_ticks))

    def _next_move(self, last: _Move) -> _Move:
        if self._next >= len(self._script):
            if not self._loop:
                return _Move(last.end_s, 0.0, 3600.0, last.target, last.target)  # hold: the script is over
            self._next = 0
        waypoint = self._script[self._next]
        self._next += 1
        return _Move(last.end_s, waypoint.duration_s, waypoint.pause_s, last.target, waypoint.ticks)
