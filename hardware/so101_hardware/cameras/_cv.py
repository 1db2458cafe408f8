"""The two OpenCV habits both OpenCV-backed sources share."""
from __future__ import annotations

import cv2
import numpy as np


def limit_opencv_threads() -> None:
    """Keep OpenCV single-threaded.

    Its worker pool busy-waits between jobs: for the small per-frame conversions done here it
    burns whole cores that the control loop needs (LeRobot sets the same for the same reason).
    Process-wide, and idempotent.
    """
    cv2.setNumThreads(1)


def to_rgb_frame(bgr: np.ndarray, width: int, height: int) -> np.ndarray:
    """OpenCV's BGR image as the RGB frame a camera delivers: ``width`` x ``height`` (area-resized if needed)."""
    if bgr.shape[1] != width or bgr.shape[0] != height:
        bgr = cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
