"""The real-time chunking (RTC) options of an N1.7 get_action request (docs/reference/gr00t-rtc.md §1, §2).

An RTC request carries the previous chunk's unexecuted tail as `observation["action"]` and these
four options, which the N1.7 action head reads (every one is required once `action` is present):

  action_horizon     AH, valid rows of the previous-action tensor (1 ≤ AH ≤ 40, the model's horizon)
  rtc_overlap_steps  o, rows the new chunk takes over from it: rows [AH−o, AH) seed rows [0, o) (o ≤ AH)
  rtc_frozen_steps   f, rows kept exactly (the inference delay in steps; 0 ≤ f ≤ o)
  rtc_ramp_rate      r, steepness of the blend from frozen to free after row f (6.0 everywhere upstream)

Both sides of the link use this one definition: the client to build options, our server's
backends to check and honour them. A stock Isaac-GR00T server ignores them without an error
(§0), which is why the client runs a canary (so101_policy.streaming.rtc) before trusting RTC.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

ACTION_KEY = "action"
"""The observation key holding the previous chunk, per action group: float32 (1, T, D), raw absolute units."""
ACTION_HORIZON = "action_horizon"
OVERLAP_STEPS = "rtc_overlap_steps"
FROZEN_STEPS = "rtc_frozen_steps"
RAMP_RATE = "rtc_ramp_rate"
OPTION_KEYS = (ACTION_HORIZON, OVERLAP_STEPS, FROZEN_STEPS, RAMP_RATE)
MAX_ACTION_HORIZON = 40
"""N1.7's model horizon: the DiT always generates 40 rows, and more than 40 fails (§3)."""
DEFAULT_RAMP_RATE = 6.0
"""What every upstream source uses (PR #320, README_RTC, LeRobot's port): §1."""


@dataclass(frozen=True)
class RtcOptions:
    """One request's RTC options, checked against the action head's own limits (§1)."""

    action_horizon: int
    overlap_steps: int
    frozen_steps: int
    ramp_rate: float = DEFAULT_RAMP_RATE

    def __post_init__(self) -> None:
        if not 1 <= self.action_horizon <= MAX_ACTION_HORIZON:
            raise ValueError(f"{ACTION_HORIZON} must be 1..{MAX_ACTION_HORIZON}, got {self.action_horizon}")
        if not 0 <= self.overlap_steps <= self.action_horizon:
            raise ValueError(f"{OVERLAP_STEPS} must be 0..{ACTION_HORIZON} ({self.action_horizon}), "
                             f"got {self.overlap_steps}")
        if not 0 <= self.frozen_steps <= self.overlap_steps:
            raise ValueError(f"{FROZEN_STEPS} must be 0..{OVERLAP_STEPS} ({self.overlap_steps}), "
                             f"got {self.frozen_steps}")
        if not (math.isfinite(self.ramp_rate) and self.ramp_rate >= 0):
            raise ValueError(f"{RAMP_RATE} must be a finite number >= 0, got {self.ramp_rate}")

    def to_wire(self) -> dict[str, Any]:
        """The `options` map, plain ints and a float (msgpack cannot send numpy scalars)."""
        return {
            ACTION_HORIZON: int(self.action_horizon),
            OVERLAP_STEPS: int(self.overlap_steps),
            FROZEN_STEPS: int(self.frozen_steps),
            RAMP_RATE: float(self.ramp_rate),
        }

    @classmethod
    def from_wire(cls, options: Mapping[str, Any] | None) -> RtcOptions:
        """The options of a request that carries a previous chunk; ValueError naming what is missing or wrong
        (the N1.7 head would fail an assert instead)."""
        missing = [key for key in OPTION_KEYS if options is None or key not in options]
        if missing:
            raise ValueError(f"a request with observation['{ACTION_KEY}'] needs the RTC options "
                             f"{', '.join(OPTION_KEYS)}; missing {', '.join(missing)}")
        assert options is not None
        try:
            return cls(_whole(options[ACTION_HORIZON], ACTION_HORIZON), _whole(options[OVERLAP_STEPS], OVERLAP_STEPS),
                       _whole(options[FROZEN_STEPS], FROZEN_STEPS), float(options[RAMP_RATE]))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad RTC options {dict(options)!r:.200}: {exc}") from None


def velocity_weights(options: RtcOptions, rows: int) -> np.ndarray:
    """(rows,) the action head's per-row velocity weight w (§1 step 3): 0 for the frozen rows, for the j-th
    of the n = o − f rows after them the ramp (1 − e^(−r·j/(n+1))) / (1 − e^(−r)), and 1 from row o on.

    A row's denoised value comes out at about (1 − w)·previous + w·fresh, so w is also how much of the
    new prediction a row takes. As in the head, r = 0 exactly freezes the whole overlap (its ramp
    normalizes 0 by ~0); small r approaches the linear ramp j/(n+1).
    """
    n = options.overlap_steps - options.frozen_steps
    ramp = np.zeros(n)
    if options.ramp_rate > 0:
        j = np.arange(1, n + 1)
        ramp = (1.0 - np.exp(-options.ramp_rate * j / (n + 1))) / (1.0 - math.exp(-options.ramp_rate))
    weights = np.concatenate([np.zeros(options.frozen_steps), ramp, np.ones(max(0, rows - options.overlap_steps))])
    return weights[:rows]


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or int(value) != value:
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return int(value)
