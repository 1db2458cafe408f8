"""Rolling loop-rate and latency statistics for /diagnostics (pure, clock-injected).

Every node reports the same figures the same way: the rate over the last window of ticks and
latency percentiles over the last window of samples, so a slow node stands out in `so101 status`.
"""
from __future__ import annotations

from collections import deque

import numpy as np


class RateMeter:
    """Ticks per second over the last `window` ticks."""

    def __init__(self, window: int = 200):
        self._times: deque[float] = deque(maxlen=window)

    def tick(self, now: float) -> None:
        self._times.append(now)

    @property
    def rate_hz(self) -> float:
        if len(self._times) < 2 or self._times[-1] == self._times[0]:
            return 0.0
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])


class LatencyStats:
    """Percentiles (milliseconds) of the last `window` latency samples (seconds)."""

    def __init__(self, window: int = 1000):
        self._samples: deque[float] = deque(maxlen=window)

    def add(self, seconds: float) -> None:
        self._samples.append(seconds)

    def __len__(self) -> int:
        return len(self._samples)

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self._samples, q) * 1e3) if self._samples else float("nan")

    def summary(self, prefix: str) -> dict[str, float]:
        """{'<prefix>_p50_ms': ..., '<prefix>_p99_ms': ..., '<prefix>_max_ms': ...}."""
        if not self._samples:
            return {}
        return {
            f"{prefix}_p50_ms": self.percentile_ms(50),
            f"{prefix}_p99_ms": self.percentile_ms(99),
            f"{prefix}_max_ms": max(self._samples) * 1e3,
        }
