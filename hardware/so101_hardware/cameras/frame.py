"""One captured image with the two clocks a consumer needs."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Frame:
    """An RGB image and when it was captured.

    Two timestamps because they answer different questions: ``capture_monotonic`` is for ages
    and staleness (it never jumps when NTP adjusts the wall clock), ``capture_wall`` is the
    epoch time a ROS message header needs.

    The image is shared between the capture thread and every reader, so it is read-only; call
    ``frame.image.copy()`` to draw on it. ``eq=False``: frames compare by identity, since
    comparing arrays element-wise is neither cheap nor a boolean.
    """

    image: np.ndarray
    """H x W x 3, uint8, RGB."""
    index: int
    """Per-camera count of frames delivered before this one (0, 1, 2, ...; survives reconnects)."""
    capture_monotonic: float
    """``time.monotonic()`` when the capture thread received the image."""
    capture_wall: float
    """``time.time()`` at the same moment."""

    def __post_init__(self) -> None:
        image = self.image
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"Frame image must be HxWx3 uint8 RGB, got shape {image.shape} dtype {image.dtype}")

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    def age_s(self, now_monotonic: float | None = None) -> float:
        """Seconds since capture, on the monotonic clock (``now_monotonic`` defaults to now)."""
        now = time.monotonic() if now_monotonic is None else now_monotonic
        return now - self.capture_monotonic
