"""A smoothstep ramp from where the follower is to a moving target: how a new driver takes over without a jump.

Teleop's engage ramp and the command mux's switch between policy and operator both blend from a
start pose into a live target over a duration set by the distance and a peak joint speed: the
command starts where the follower is, ends on the target (even while the target keeps moving),
and never moves a joint faster than the speed allows (plus the target's own motion).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SMOOTHSTEP_PEAK = 1.5
"""Smoothstep's peak slope is 1.5× its mean: the duration that keeps the peak at the chosen speed."""


def ramp_duration(start: np.ndarray, target: np.ndarray, speed_rad_s: float, min_duration_s: float) -> float:
    """How long the ramp from `start` to `target` takes: the farthest joint at `speed_rad_s` at its peak."""
    distance = float(np.max(np.abs(np.asarray(target, dtype=float) - np.asarray(start, dtype=float))))
    return max(SMOOTHSTEP_PEAK * distance / speed_rad_s, min_duration_s)


@dataclass(frozen=True, eq=False)
class Ramp:
    start: np.ndarray
    """(6,) radians: where the ramp begins (the follower's pose, or the command in force)."""
    t0: float
    duration_s: float

    def phase(self, now: float) -> float:
        """0 at t0, 1 once the ramp is over."""
        return min(max((now - self.t0) / self.duration_s, 0.0), 1.0)

    def done(self, now: float) -> bool:
        return self.phase(now) >= 1.0

    def blend(self, target: np.ndarray, now: float) -> np.ndarray:
        """The command at `now`: start eased into `target` (smoothstep)."""
        phase = self.phase(now)
        weight = phase * phase * (3.0 - 2.0 * phase)
        return self.start + weight * (np.asarray(target, dtype=float) - self.start)
