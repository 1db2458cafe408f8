"""A real camera through ``cv2.VideoCapture`` (V4L2 on Linux).

Opening follows LeRobot's OpenCVCamera order, which UVC cameras need: FOURCC first (it selects
which sizes and rates exist), then width/height, then fps; then read back what the driver
actually applied, because ``set()`` "succeeds" even when the camera picks another mode.
"""
from __future__ import annotations

import logging
import os
import sys
import threading

import cv2
import numpy as np

from so101_hardware.cameras._cv import limit_opencv_threads, to_rgb_frame
from so101_hardware.cameras.config import CameraConfig
from so101_hardware.cameras.device_checks import busy_or_unusable_hints, check_video_device, describe_path
from so101_hardware.cameras.errors import CameraOpenError

_log = logging.getLogger(__name__)
_IS_LINUX = sys.platform.startswith("linux")
_FPS_TOLERANCE = 0.5

if _IS_LINUX:
    # A stalled V4L2 camera blocks cap.read() for OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT seconds
    # (default 10) and OpenCV's V4L2 backend ignores CAP_PROP_READ_TIMEOUT_MSEC. The capture
    # thread can only notice a stall, reconnect or stop once read() returns, so shorten it.
    # OpenCV reads it once, the first time it talks to a V4L2 device (after this import);
    # setdefault leaves a value the user exported alone.
    os.environ.setdefault("OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT", "1")


class OpenCVSource:
    """One camera by index, /dev/video* node or udev symlink."""

    def __init__(self, config: CameraConfig) -> None:
        self._config = config
        self._capture: cv2.VideoCapture | None = None

    def open(self) -> None:
        self.release()
        device = self._config.device
        # On Linux an index N is /dev/videoN: check the node so the error can say why it fails.
        path = f"/dev/video{device}" if _IS_LINUX and isinstance(device, int) else device
        shown = describe_path(path) if isinstance(path, str) else f"camera index {device}"
        if _IS_LINUX:
            check_video_device(self._config.name, path)
        limit_opencv_threads()
        capture = cv2.VideoCapture(device, cv2.CAP_V4L2 if _IS_LINUX else cv2.CAP_ANY)
        try:
            if not capture.isOpened():
                hints = busy_or_unusable_hints(path) if isinstance(path, str) else []
                raise CameraOpenError.for_device(self._config.name, shown, "OpenCV could not open it.", hints)
            self._configure(capture, path, shown)
        except BaseException:
            capture.release()
            raise
        self._capture = capture

    def read(self, stop: threading.Event) -> np.ndarray | None:
        # The camera paces itself: read() returns within a frame period (or the V4L2 select
        # timeout when stalled), so ``stop`` is not needed to stay prompt.
        if self._capture is None:
            return None
        ok, bgr = self._capture.read()
        return to_rgb_frame(bgr, self._config.width, self._config.height) if ok else None

    def release(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def _configure(self, capture: cv2.VideoCapture, path: int | str, shown: str) -> None:
        config = self._config
        if config.fourcc is not None:
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*config.fourcc))
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, config.width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, config.height)
        capture.set(cv2.CAP_PROP_FPS, config.fps)
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = capture.get(cv2.CAP_PROP_FPS)
        fourcc = _fourcc_text(capture.get(cv2.CAP_PROP_FOURCC))
        # Some drivers report 0 fps (unknown); only a definite other rate is a refusal.
        if (width, height) != (config.width, config.height) or (fps > 0 and abs(fps - config.fps) > _FPS_TOLERANCE):
            node = os.path.realpath(path) if isinstance(path, str) else path
            raise CameraOpenError.for_device(
                config.name,
                shown,
                f"it does not accept {config.width}x{config.height} @ {config.fps:g} fps "
                f"({config.fourcc or 'default format'}); it gave {width}x{height} @ {fps:g} fps ({fourcc}).",
                [
                    f"pick a mode it lists: `v4l2-ctl -d {node} --list-formats-ext`",
                    "two cameras at 640x480@30 on one USB hub need fourcc MJPG (uncompressed YUYV does not fit)",
                ],
            )
        if config.fourcc is not None and fourcc != config.fourcc:
            _log.warning(
                "camera %s: asked for %s but %s streams %s; with several cameras on one hub the "
                "extra USB bandwidth can make the next camera fail",
                config.name, config.fourcc, shown, fourcc,
            )
        _log.info("camera %s: opened %s at %dx%d @ %g fps (%s)", config.name, shown, width, height, fps, fourcc)


def _fourcc_text(code: float) -> str:
    value = int(code)
    return "".join(chr((value >> shift) & 0xFF) for shift in (0, 8, 16, 24)).strip("\0") or "unknown"
