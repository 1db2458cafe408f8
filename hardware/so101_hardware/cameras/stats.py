"""Health counters of one camera, as an immutable snapshot, and the rate meter behind them."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class CameraStats:
    """What a health monitor (diagnostics, a status line) needs to know about a camera."""

    frames_captured: int
    """Frames delivered since construction (also the index the next frame will get)."""
    read_failures: int
    """Reads that returned no frame (unplugged, stalled, decode error, file gone)."""
    reconnects: int
    """Successful re-opens after a stall or failure."""
    connected: bool
    """The source is open and the capture thread is reading from it."""
    ended: bool
    """A finite source (file, ``loop=False``) delivered its last frame."""
    last_error: str | None
    """The most recent failure, kept after recovery so an intermittent fault stays visible."""
    fps: float
    """Measured delivery rate over the last frames; 0.0 until two frames have arrived."""


class FpsMeter:
    """Delivery rate over a sliding window of recent frame times.

    A window rather than a lifetime average so the figure reacts when a camera slows down
    (low light makes UVC cameras halve their rate) and recovers after a reconnect.
    """

    def __init__(self, window: int = 30) -> None:
        self._times: deque[float] = deque(maxlen=window + 1)

    def tick(self, monotonic_time: float) -> None:
        self._times.append(monotonic_time)

    def reset(self) -> None:
        self._times.clear()

    @property
    def fps(self) -> float:
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else 0.0
