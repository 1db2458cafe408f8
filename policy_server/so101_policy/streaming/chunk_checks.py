"""The policy side's check on every action chunk, in ROS radians, before it can be scheduled.

Catches what a policy gets wrong in ways a human would not: NaN/inf, a wrong shape, values far
outside the joints' range (typically a units mix-up: degrees read as radians, normalized as
degrees), and jumps no arm should make in one step. Small excursions past a limit are clamped
(policies overshoot the training range a little); everything else rejects the whole chunk and
the scheduler keeps its current plan. Every rejection and clamp is counted for /diagnostics.
The follower's safety filter still checks each command again: this is not the last line.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from so101_calibration import JOINT_NAMES, ArmCalibration, JointLimits, joint_limits
from so101_policy.errors import BadActionError


@dataclass(frozen=True)
class ValidationConfig:
    limits: JointLimits
    """From so101_calibration.joint_limits(calibration), radians."""
    clamp_tolerance_rad: float = math.radians(10.0)
    """Values up to this far past a limit are clamped; farther rejects the chunk."""
    max_step_rad: float = math.radians(20.0)
    """Largest change of any joint between consecutive actions of a chunk (600°/s at 30 Hz)."""
    max_start_jump_rad: float = math.radians(30.0)
    """Largest distance of the chunk's first action due now from the target being commanded."""

    def __post_init__(self) -> None:
        for name in ("clamp_tolerance_rad", "max_step_rad", "max_start_jump_rad"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    @classmethod
    def from_calibration(cls, calibration: ArmCalibration, **overrides: float) -> ValidationConfig:
        return cls(joint_limits(calibration), **overrides)


class ActionValidator:
    """check() returns a safe (possibly clamped) copy or raises BadActionError; `counters` counts both."""

    def __init__(self, config: ValidationConfig):
        self.config = config
        self.counters: Counter[str] = Counter()

    def check(self, actions: np.ndarray, start: int = 0, reference: np.ndarray | None = None) -> np.ndarray:
        """(T, 6) radians → checked float64 copy. `start` is the first action still due, compared
        with `reference` (the target currently commanded) for the start-jump limit."""
        try:
            return self._check(actions, start, reference)
        except BadActionError as exc:
            self.counters[f"rejected_{exc.kind}"] += 1
            raise

    def _check(self, actions: np.ndarray, start: int, reference: np.ndarray | None) -> np.ndarray:
        array = np.asarray(actions)
        if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] != len(JOINT_NAMES):
            raise BadActionError("bad_shape", f"need (T, {len(JOINT_NAMES)}) actions, got shape {array.shape}")
        if not np.issubdtype(array.dtype, np.floating):
            raise BadActionError("bad_dtype", f"need float actions, got {array.dtype}")
        chunk = array.astype(np.float64)
        if not np.all(np.isfinite(chunk)):
            raise BadActionError("non_finite", "the chunk holds NaN or infinite values")
        lower, upper = self.config.limits.lower, self.config.limits.upper
        excess = np.maximum(lower - chunk, chunk - upper)
        if np.any(excess > self.config.clamp_tolerance_rad):
            joint = JOINT_NAMES[int(np.argmax(excess.max(axis=0)))]
            raise BadActionError(
                "out_of_limits",
                f"{joint} is {excess.max():.3f} rad beyond its limit (units mix-up?); clamping allows "
                f"{self.config.clamp_tolerance_rad:.3f}",
            )
        clamped = int(np.count_nonzero(excess > 0))
        if clamped:
            self.counters["clamped_values"] += clamped
            chunk = np.clip(chunk, lower, upper)
        steps = np.abs(np.diff(chunk, axis=0))
        if steps.size and steps.max() > self.config.max_step_rad:
            row, col = np.unravel_index(int(np.argmax(steps)), steps.shape)
            raise BadActionError(
                "discontinuous",
                f"{JOINT_NAMES[col]} moves {steps.max():.3f} rad between actions {row} and {row + 1} "
                f"(limit {self.config.max_step_rad:.3f})",
            )
        if reference is not None:
            jump = np.abs(chunk[start] - np.asarray(reference, dtype=np.float64))
            if jump.max() > self.config.max_start_jump_rad:
                raise BadActionError(
                    "jump_from_current",
                    f"{JOINT_NAMES[int(np.argmax(jump))]} would jump {jump.max():.3f} rad from the commanded "
                    f"target (limit {self.config.max_start_jump_rad:.3f})",
                )
        return chunk
