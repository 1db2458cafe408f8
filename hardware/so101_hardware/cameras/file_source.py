"""Replays a video file as if it were a camera (demos, tests, bug reproductions).

Decisions:
  - Frames are delivered at ``config.fps``, not at the file's recorded rate, so a recording
    stands in for the camera it replaces.
  - Frames are resized to ``config.width`` x ``config.height`` when the file differs, because
    everything downstream (camera info, model inputs) is sized from the config.
  - Looping re-opens the file instead of seeking: seeking is inexact for inter-frame codecs in
    OpenCV's FFmpeg backend, re-opening is exact and picks up a file replaced on disk. If the
    file has gone when it is re-opened, reads fail and the camera's reconnect logic takes over,
    exactly as for an unplugged camera.
"""
from __future__ import annotations

import logging
import os
import threading

import cv2
import numpy as np

from so101_hardware.cameras._cv import limit_opencv_threads, to_rgb_frame
from so101_hardware.cameras.config import CameraConfig
from so101_hardware.cameras.device_checks import check_readable_file
from so101_hardware.cameras.errors import CameraOpenError
from so101_hardware.cameras.pacing import Pacer
from so101_hardware.cameras.source import EndOfStream

_log = logging.getLogger(__name__)


class FileSource:
    """A video file, paced at ``config.fps``, looping when ``config.loop`` is set."""

    def __init__(self, config: CameraConfig) -> None:
        self._config = config
        self._path = os.path.abspath(str(config.device))
        self._pacer = Pacer(config.fps)
        self._capture: cv2.VideoCapture | None = None

    def open(self) -> None:
        self.release()
        self._capture = self._open_capture()
        self._pacer.reset()

    def read(self, stop: threading.Event) -> np.ndarray | None:
        if self._capture is None or not self._pacer.wait(stop):
            return None
        ok, bgr = self._capture.read()
        if not ok:
            if not self._config.loop:
                raise EndOfStream(self._path)
            if not self._rewind():
                return None
            ok, bgr = self._capture.read()
            if not ok:
                return None
        return to_rgb_frame(bgr, self._config.width, self._config.height)

    def release(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def _rewind(self) -> bool:
        self.release()
        try:
            self._capture = self._open_capture()
        except CameraOpenError as exc:
            _log.debug("camera %s: cannot re-open %s to loop: %s", self._config.name, self._path, exc)
            return False
        return True

    def _open_capture(self) -> cv2.VideoCapture:
        check_readable_file(self._config.name, self._path)
        limit_opencv_threads()
        capture = cv2.VideoCapture(self._path)
        if not capture.isOpened():
            capture.release()
            raise CameraOpenError.for_device(
                self._config.name,
                self._path,
                "OpenCV cannot decode it as a video.",
                [f"check that it plays (`ffprobe {self._path}`); MJPG in .avi or H.264 in .mp4 work"],
            )
        return capture
