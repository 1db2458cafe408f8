"""The contract between a frame source and the threaded camera that drives it.

A source only knows how to open, read and release one device or file. Threading, timestamps,
staleness, reconnects and statistics live once, in ``ThreadedCamera``, instead of in every source.
"""
from __future__ import annotations

import threading
from typing import Protocol

import numpy as np


class EndOfStream(Exception):
    """Raised by ``read()`` when a finite source has nothing more to deliver."""


class FrameSource(Protocol):
    """One camera-like thing. Only the capture thread calls ``read``; calls are never concurrent."""

    def open(self) -> None:
        """Open the device or file, or raise ``CameraOpenError`` leaving nothing open."""

    def read(self, stop: threading.Event) -> np.ndarray | None:
        """Block until the next frame and return it (H x W x 3 uint8 RGB, at the configured size).

        Return ``None`` when no frame could be read (the camera then counts a read failure and,
        if it persists, reconnects) or when ``stop`` was set while waiting. Sources that pace
        themselves wait on ``stop`` so that ``ThreadedCamera.stop()`` is prompt. Raise
        ``EndOfStream`` when a finite source is exhausted.
        """

    def release(self) -> None:
        """Close the device or file. Idempotent; safe when ``open`` failed or was never called."""
