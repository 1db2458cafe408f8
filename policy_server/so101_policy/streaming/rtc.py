"""The robot side of real-time chunking (RTC) with an N1.7 server: what a request carries, and the canary.

docs/reference/gr00t-rtc.md §2 and its client checklist. At capture time the scheduler hands the
request worker an RtcPrefix: the targets the arm will execute from the first action not yet sent
(`tail`, L rows, in radians), when the first of them is due (`anchor_time`), and how many rows must
stay frozen (d, from the measured delay). The request then carries:

  observation["action"]  all T rows the server's modality config names, the tail left-aligned in
                         rows 0…L−1 and the rest repeating its last row (never zeros: a normalized
                         zero decodes to the dataset mean), per action group, float32 (1, T, D),
                         in the policy's absolute units (the builder converts);
  options                action_horizon = o, rtc_overlap_steps = o, rtc_frozen_steps = min(d, o),
                         rtc_ramp_rate = r, with o = L (or the configured overlap, if smaller):
                         the head seeds new rows [0, o) from rows [AH − o, AH) = [0, o), so new[j]
                         continues tail[j], the action due at anchor_time + j·step.

A stock Isaac-GR00T server ignores all of it without an error (§0). The canary tells the two apart
before RTC is trusted: one request whose whole prefix is frozen (f = o = AH) and easy to recognise
(the present pose with a zigzag of ±canary_amplitude_rad between rows, which no policy would
predict). A server that honours RTC sends the zigzag back; any other answers with its own chunk.
The canary's reply is never executed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from so101_policy.wire.rtc_options import DEFAULT_RAMP_RATE, MAX_ACTION_HORIZON, RtcOptions


@dataclass(frozen=True)
class RtcConfig:
    enabled: bool = True
    """Try RTC with every server that speaks N1.6+ (the canary decides); False: cross-fade only, no canary."""
    ramp_rate: float = DEFAULT_RAMP_RATE
    overlap_steps: int = 0
    """o: rows of the tail the new chunk takes over; 0 = the whole tail (the reference's o = L)."""
    canary_amplitude_rad: float = 0.03
    """The canary's zigzag: inside the follower's 2° limit margin, so no unit conversion clips it."""
    canary_tolerance_rad: float = 0.012
    """Largest difference from the sent zigzag that still counts as sent back (ticks, bf16 rounding)."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.ramp_rate) and self.ramp_rate >= 0):
            raise ValueError(f"ramp_rate must be >= 0, got {self.ramp_rate}")
        if self.overlap_steps < 0:
            raise ValueError(f"overlap_steps must be >= 0, got {self.overlap_steps}")
        if not 0 < self.canary_tolerance_rad < self.canary_amplitude_rad:
            raise ValueError("need 0 < canary_tolerance_rad < canary_amplitude_rad, got "
                             f"{self.canary_tolerance_rad} and {self.canary_amplitude_rad}")


@dataclass(frozen=True, eq=False)
class RtcPrefix:
    """What a request continues: the tail of the plan from the first action not yet sent at capture time."""

    anchor_time: float
    """When tail[0] is due (scheduler clock): the new chunk's row j is then due at anchor_time + j·step."""
    tail: np.ndarray
    """(L, 6) radians: the targets the arm will execute from anchor_time on, one per action step."""
    frozen_steps: int
    """d: the rows the arm may execute before the reply lands (the delay estimate), at most L."""

    def previous_actions(self, horizon: int) -> np.ndarray:
        """(horizon, 6) radians: the tail left-aligned, the remaining rows repeating its last row."""
        rows = self.tail[:horizon]
        return np.concatenate([rows, np.repeat(rows[-1:], horizon - len(rows), axis=0)])

    def options(self, horizon: int, config: RtcConfig) -> RtcOptions:
        """AH = o (the tail is left-aligned: rows [AH − o, AH) are its first o), f = min(d, o)."""
        overlap = min(len(self.tail), horizon, MAX_ACTION_HORIZON)
        if config.overlap_steps:
            overlap = min(overlap, config.overlap_steps)
        return RtcOptions(overlap, overlap, min(self.frozen_steps, overlap), config.ramp_rate)


def canary_request(present: np.ndarray, horizon: int, config: RtcConfig) -> tuple[np.ndarray, RtcOptions]:
    """The canary's previous actions, (horizon, 6) radians (the present pose, ±amplitude alternating by
    row), and its options: every row of it frozen (f = o = AH = min(horizon, 40))."""
    sign = np.where(np.arange(horizon) % 2 == 0, 1.0, -1.0)[:, np.newaxis]
    rows = np.asarray(present, dtype=np.float64) + config.canary_amplitude_rad * sign
    frozen = min(horizon, MAX_ACTION_HORIZON)
    return rows, RtcOptions(frozen, frozen, frozen, config.ramp_rate)


def canary_sent_back(sent: np.ndarray, reply: np.ndarray, options: RtcOptions, config: RtcConfig) -> bool:
    """True if the reply's first AH rows are the canary's, within the tolerance: the server honours RTC."""
    rows = options.action_horizon
    if reply.shape[0] < rows:
        return False
    return bool(np.max(np.abs(reply[:rows] - sent[:rows])) <= config.canary_tolerance_rad)
