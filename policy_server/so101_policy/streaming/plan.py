"""The scheduler's timeline of targets, and how a new chunk is merged into it.

A Plan holds targets on a time grid (value i is due at times[i]; the last holds until one
step later) and is read by linear interpolation, so the control rate need not equal the
policy's step rate or phase. Merging bakes the blend into a new Plan on the new chunk's grid:

  latest     the new chunk replaces the plan from now on (its first due action may jump);
  crossfade  the weight of the new chunk rises linearly from 0 now to 1 after `crossfade_s` (> 0),
             against the old plan (continued parallel to the new chunk past its end, or from
             the held target after a stall), so a new chunk never steps the target;
  ensemble   ACT-style temporal ensembling: each time's target is the weighted mean of every
             chunk that predicted it; older predictions' weights are multiplied by
             exp(ensemble_decay) per newer chunk (0 = plain mean, > 0 favours older as ACT).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np


class BlendMode(Enum):
    LATEST = "latest"
    CROSSFADE = "crossfade"
    ENSEMBLE = "ensemble"


@dataclass(frozen=True, eq=False)
class Plan:
    times: np.ndarray
    """(N,) ascending, seconds on the scheduler's clock."""
    values: np.ndarray
    """(N, 6) radians."""
    weights: np.ndarray
    """(N,) ensemble weight mass behind each value (1 for a single chunk)."""
    step_s: float

    @property
    def end(self) -> float:
        """When the last target stops being due."""
        return float(self.times[-1]) + self.step_s

    def covers(self, now: float) -> bool:
        return now < self.end

    def value_at(self, t: float) -> np.ndarray:
        """The (6,) target at time t."""
        return self.values_at(np.array([t], dtype=np.float64))[0]

    def values_at(self, times: np.ndarray) -> np.ndarray:
        """(N, 6) targets, interpolated linearly, clamped to the first/last value outside the grid."""
        return _interpolate(self.times, self.values, np.asarray(times, dtype=np.float64))

    def weight_at(self, t: np.ndarray) -> np.ndarray:
        return np.interp(t, self.times, self.weights)


def merge(
    current: Plan | None,
    commanded: np.ndarray | None,
    times: np.ndarray,
    values: np.ndarray,
    now: float,
    step_s: float,
    mode: BlendMode,
    crossfade_s: float,
    ensemble_decay: float,
    fade_from: float | None = None,
) -> Plan:
    """A new Plan on the chunk's grid (`times`, `values`: the actions from the one due now on).

    `current` is the plan being executed if it still covers `now` (else None) and `commanded`
    the target commanded last (the hold after a stall), used when there is no current plan.
    `fade_from` (≥ now) starts the crossfade later: an RTC chunk's frozen rows are the current
    plan's own, so the plan keeps its values up to the first row the server was free to change
    and fades from there (rounding in the frozen rows never reaches the arm either).
    """
    ones = np.ones(len(times))
    if mode is BlendMode.LATEST or (current is None and commanded is None):
        return Plan(times, values, ones, step_s)
    if mode is BlendMode.CROSSFADE:
        before = _previous_course(current, commanded, times, values, now)
        start = now if fade_from is None else max(now, fade_from)
        weight = np.clip((times - start) / crossfade_s, 0.0, 1.0)
        return Plan(times, before + weight[:, np.newaxis] * (values - before), ones, step_s)
    if current is None:  # ensemble after a stall: nothing left to average with
        return Plan(times, values, ones, step_s)
    overlap = times <= current.times[-1]
    old_weight = np.where(overlap, current.weight_at(times) * math.exp(ensemble_decay), 0.0)
    total = old_weight + 1.0
    mean = (old_weight[:, np.newaxis] * current.values_at(times) + values) / total[:, np.newaxis]
    return Plan(times, mean, total, step_s)


def _previous_course(
    current: Plan | None, commanded: np.ndarray | None, times: np.ndarray, values: np.ndarray, now: float
) -> np.ndarray:
    """What would have been commanded at `times` without the new chunk: the current plan where it
    reaches, and beyond its last target (or from a held target) a course parallel to the new
    chunk, so the crossfade never has to catch up with a target that stood still.

    The parallel course continues the plan's last step and meets the new chunk's course one step
    after the plan's end: where the new chunk itself changes course right there (an RTC chunk whose
    frozen rows end with the old plan, then its own prediction), the crossfade, not the arm, takes
    the change."""
    if current is None:
        anchor_time, anchor, before, end = now, commanded, np.empty_like(values), -np.inf
    else:
        end = float(current.times[-1])
        last_step = current.values[-1] - current.values[-2] if len(current.times) > 1 else 0.0
        anchor_time, anchor = end + current.step_s, current.values[-1] + last_step
        before = current.values_at(times)
    beyond = times > end
    offset = anchor - _interpolate(times, values, np.array([anchor_time]))[0]
    before[beyond] = values[beyond] + offset
    return before


def _interpolate(times: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Per-joint np.interp for many times at once."""
    if len(times) == 1:
        return np.repeat(values, len(at), axis=0)
    right = np.clip(np.searchsorted(times, at, side="right"), 1, len(times) - 1)
    left = right - 1
    fraction = np.clip((at - times[left]) / (times[right] - times[left]), 0.0, 1.0)[:, np.newaxis]
    return values[left] + fraction * (values[right] - values[left])
