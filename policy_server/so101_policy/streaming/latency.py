"""How old a chunk is when it arrives, estimated conservatively from recent chunks.

The scheduler asks for the next chunk this long (plus a margin) before its plan runs out.
The maximum over a short window follows a slower server at once, and forgets a one-off stall
after `window` chunks, so the buffer rarely runs dry without requests piling up.
"""
from __future__ import annotations

from collections import deque


class LatencyEstimator:
    def __init__(self, initial_s: float, window: int):
        if not initial_s >= 0 or window < 1:
            raise ValueError(f"need initial_s >= 0 and window >= 1, got {initial_s}, {window}")
        self._initial_s = initial_s
        self._samples: deque[float] = deque(maxlen=window)

    def add(self, latency_s: float) -> None:
        self._samples.append(max(0.0, latency_s))

    @property
    def estimate_s(self) -> float:
        """The largest recent latency; `initial_s` until one was measured."""
        return max(self._samples) if self._samples else self._initial_s

    @property
    def last_s(self) -> float | None:
        return self._samples[-1] if self._samples else None
