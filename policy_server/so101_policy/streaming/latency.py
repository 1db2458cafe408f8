"""How old a chunk is when it arrives, estimated from recent chunks in two ways for two uses.

`estimate_s`, the largest recent latency, sizes how early the next chunk is asked for: it follows a
slower server at once and forgets a one-off stall after `window` chunks, so the buffer rarely runs
dry. `p95_s` sizes RTC's frozen steps: a robust figure that one stall does not inflate for good
(LeRobot's tracker kept its all-time maximum: docs/reference/gr00t-rtc.md §5). A connection's first
inference (a model's warm-up, often several times the steady latency) is never added: callers
leave it out (ChunkReply.cold).
"""
from __future__ import annotations

from collections import deque

import numpy as np

P95 = 95.0
P95_WINDOW = 100
"""Latencies behind the p95 (LeRobot's window): with fewer than ~20 the p95 is about their maximum."""


class LatencyEstimator:
    def __init__(self, initial_s: float, window: int):
        if not initial_s >= 0 or window < 1:
            raise ValueError(f"need initial_s >= 0 and window >= 1, got {initial_s}, {window}")
        self._initial_s = initial_s
        self._window = window
        self._samples: deque[float] = deque(maxlen=max(window, P95_WINDOW))

    def add(self, latency_s: float) -> None:
        self._samples.append(max(0.0, latency_s))

    @property
    def estimate_s(self) -> float:
        """The largest of the last `window` latencies; `initial_s` until one was measured."""
        recent = list(self._samples)[-self._window:]
        return max(recent) if recent else self._initial_s

    @property
    def p95_s(self) -> float:
        """The 95th percentile of the last P95_WINDOW latencies; `initial_s` until one was measured."""
        return float(np.percentile(self._samples, P95)) if self._samples else self._initial_s

    @property
    def last_s(self) -> float | None:
        return self._samples[-1] if self._samples else None
