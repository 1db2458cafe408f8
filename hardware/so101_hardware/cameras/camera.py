"""One capture thread per camera, so nothing else ever waits for a camera.

Why: a camera read blocks for up to a frame period, and for seconds when a USB camera stalls
or is unplugged. LeRobot users report teleoperation lag and jerky arms from reading cameras
inside the control loop. Here a daemon thread reads continuously and keeps only the newest
frame; the control loop calls ``latest()``, which never blocks (it only takes a lock that the
capture thread holds for a few assignments) and tells it how old the frame is.

The same thread owns recovery: when reads fail or no frame arrives within ``read_timeout_s``
it releases the source and re-opens it every ``reconnect_interval_s`` until it is back, so an
unplugged camera comes back by itself when re-plugged.

``start()``/``stop()`` belong to the owner of the camera (one thread); ``latest()``,
``wait_new()`` and ``stats`` may be called from any thread.
"""
from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

import numpy as np

from so101_hardware.cameras.config import CameraConfig
from so101_hardware.cameras.errors import (
    CameraError,
    CameraNotStartedError,
    CameraOpenError,
    CameraStreamEndedError,
    CameraTimeoutError,
)
from so101_hardware.cameras.frame import Frame
from so101_hardware.cameras.source import EndOfStream, FrameSource
from so101_hardware.cameras.stats import CameraStats, FpsMeter

_log = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 2.0
"""How long ``stop()`` waits for the capture thread; longer than OpenCV's V4L2 select timeout."""
_FAILED_READ_BACKOFF_S = 0.01
"""Pause between failing reads: an unplugged camera fails instantly and must not spin a core."""


class ThreadedCamera:
    """Captures from a ``FrameSource`` on a daemon thread named ``camera-<name>``."""

    def __init__(self, config: CameraConfig, source: FrameSource) -> None:
        self._config = config
        self._source = source
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        # Guarded by _cond; written by the capture thread (and start() before it runs).
        self._latest: Frame | None = None
        self._frames_captured = 0
        self._read_failures = 0
        self._reconnects = 0
        self._capturing = False
        self._connected = False
        self._ended = False
        self._last_error: str | None = None
        self._fps = FpsMeter()

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def config(self) -> CameraConfig:
        return self._config

    @property
    def is_running(self) -> bool:
        """The capture thread is running (it may be reconnecting; see ``stats.connected``)."""
        with self._cond:
            return self._capturing

    @property
    def stats(self) -> CameraStats:
        with self._cond:
            return CameraStats(
                frames_captured=self._frames_captured,
                read_failures=self._read_failures,
                reconnects=self._reconnects,
                connected=self._connected,
                ended=self._ended,
                last_error=self._last_error,
                fps=self._fps.fps,
            )

    def start(self) -> None:
        """Open the source, start the capture thread and wait for the first frame.

        Raises ``CameraOpenError`` if the source cannot be opened, ``CameraTimeoutError`` if no
        frame arrives within ``warmup_timeout_s``, ``CameraStreamEndedError`` if a file ends
        first. On any failure nothing is left behind: no thread, device released; ``start()``
        may be called again.
        """
        if self._thread is not None:
            raise CameraError(f"camera '{self.name}' is already running (or still stopping); call stop() first")
        self._stop.clear()
        try:
            self._source.open()
        except BaseException:
            self._source.release()
            raise
        with self._cond:
            before = self._latest.index if self._latest is not None else -1
            self._capturing = True
            self._connected = True
            self._ended = False
            self._fps.reset()
        thread = threading.Thread(target=self._run, name=f"camera-{self.name}", daemon=True)
        try:
            thread.start()
        except BaseException:
            self._shut_source()
            raise
        self._thread = thread
        try:
            self._await_first_frame(after_index=before)
        except BaseException:
            self.stop()
            raise
        _log.info("camera %s: started", self.name)

    def stop(self) -> None:
        """Stop capturing and release the device. Idempotent; returns within ``JOIN_TIMEOUT_S``.

        The newest frame stays available through ``latest()`` (its age keeps growing).
        """
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        thread.join(JOIN_TIMEOUT_S)
        if thread.is_alive():
            # Releasing the device under a blocked read would crash OpenCV; the thread releases
            # it itself when the driver returns. Until then start() refuses to run.
            _log.warning(
                "camera %s: capture thread still blocked in the driver after %.1f s; "
                "it will release the device when the read returns",
                self.name, JOIN_TIMEOUT_S,
            )
            return
        self._thread = None
        _log.info("camera %s: stopped", self.name)

    def latest(self, max_age_s: float | None = None) -> Frame:
        """The newest frame, without blocking.

        Raises ``CameraNotStartedError`` if no frame was ever delivered, and
        ``CameraTimeoutError`` if the newest frame is older than ``max_age_s`` (a stalled or
        unplugged camera), so a control loop never acts on a stale image by accident. After
        ``stop()`` the last frame is still returned; ``max_age_s`` is what rejects it.
        """
        with self._cond:
            frame = self._latest
        if frame is None:
            raise CameraNotStartedError(f"camera '{self.name}' has not delivered a frame yet; call start() first")
        if max_age_s is not None and (age := frame.age_s()) > max_age_s:
            with self._cond:
                health = self._health()
            raise CameraTimeoutError(
                f"camera '{self.name}': newest frame is {age:.3f} s old (limit {max_age_s:.3f} s); {health}"
            )
        return frame

    def wait_new(self, after_index: int | None, timeout_s: float) -> Frame:
        """Block until a frame with ``index > after_index`` exists and return the newest one.

        ``after_index=None`` means "newer than the current newest frame". Frames in between may
        be skipped: this hands out the newest, never a backlog. Raises ``CameraTimeoutError``
        after ``timeout_s``, ``CameraStreamEndedError`` when a file has ended, and
        ``CameraNotStartedError`` if the camera is not running (or is stopped while waiting).
        """
        with self._cond:
            if self._thread is None:
                raise CameraNotStartedError(f"camera '{self.name}' is not running; call start() first")
            if after_index is None:
                after_index = self._latest.index if self._latest is not None else -1
            self._cond.wait_for(lambda: self._has_frame_after(after_index) or not self._capturing, timeout_s)
            frame = self._latest
            if frame is not None and frame.index > after_index:
                return frame
            if self._ended:
                raise CameraStreamEndedError(f"camera '{self.name}': the video file has ended (loop is off)")
            if not self._capturing:
                raise CameraNotStartedError(f"camera '{self.name}' stopped while waiting for a frame")
            raise CameraTimeoutError(
                f"camera '{self.name}': no new frame within {timeout_s:.3f} s; {self._health()}"
            )

    def __enter__(self) -> ThreadedCamera:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- caller side helpers (hold _cond) --------------------------------------------------

    def _has_frame_after(self, index: int) -> bool:
        return self._latest is not None and self._latest.index > index

    def _health(self) -> str:
        if self._ended:
            return "the video file has ended"
        if not self._capturing:
            return "the camera is stopped"
        if not self._connected:
            return f"the camera is disconnected and reconnecting (last error: {self._last_error})"
        return "the camera is connected but not delivering frames"

    def _await_first_frame(self, after_index: int) -> None:
        warmup = self._config.warmup_timeout_s
        with self._cond:
            self._cond.wait_for(lambda: self._has_frame_after(after_index) or not self._capturing, warmup)
            if self._has_frame_after(after_index):
                return
            ended, last_error = self._ended, self._last_error
        if ended:
            raise CameraStreamEndedError(f"camera '{self.name}': the video file ended before its first frame")
        raise CameraTimeoutError(
            f"camera '{self.name}': opened but no frame within {warmup:g} s (last error: {last_error or 'none'}). "
            "Check that the camera streams in another program (`ffplay`, `cheese`), that the mode in the "
            "config is one it supports, and the USB bandwidth if several cameras share a hub; for a video "
            "file, that it has frames."
        )

    # -- capture thread ----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._capture_loop()
        except Exception as exc:  # thread boundary: a dying capture thread must leave a trace
            _log.exception("camera %s: capture thread failed", self.name)
            with self._cond:
                self._last_error = f"capture thread failed: {exc!r}"
        finally:
            self._shut_source()

    def _shut_source(self) -> None:
        """Release the source and tell every waiter that capturing is over."""
        self._source.release()
        with self._cond:
            self._capturing = False
            self._connected = False
            self._cond.notify_all()

    def _capture_loop(self) -> None:
        grace_s = max(self._config.warmup_timeout_s, self._config.read_timeout_s)
        stall_at = time.monotonic() + grace_s
        while not self._stop.is_set():
            error = "read returned no frame"
            try:
                image = self._source.read(self._stop)
            except EndOfStream:
                _log.info("camera %s: end of video file", self.name)
                with self._cond:
                    self._ended = True
                return
            except Exception as exc:  # a driver or codec hiccup is a failed read like any other
                image, error = None, f"read raised {exc!r}"
            if self._stop.is_set():
                return
            if image is not None:
                self._publish(image)
                stall_at = time.monotonic() + self._config.read_timeout_s
                continue
            with self._cond:
                self._read_failures += 1
                self._last_error = error
            if time.monotonic() < stall_at:
                self._stop.wait(_FAILED_READ_BACKOFF_S)
            elif self._reconnect():
                stall_at = time.monotonic() + grace_s

    def _publish(self, image: np.ndarray) -> None:
        image.flags.writeable = False
        now_monotonic, now_wall = time.monotonic(), time.time()
        with self._cond:
            self._latest = Frame(
                image=image, index=self._frames_captured, capture_monotonic=now_monotonic, capture_wall=now_wall
            )
            self._frames_captured += 1
            self._fps.tick(now_monotonic)
            self._cond.notify_all()

    def _reconnect(self) -> bool:
        """Release and re-open until it works (``True``) or ``stop()`` is called (``False``)."""
        self._source.release()
        with self._cond:
            self._connected = False
            last_error = self._last_error
        _log.warning(
            "camera %s: stalled (%s); released it, re-opening every %.1f s",
            self.name, last_error, self._config.reconnect_interval_s,
        )
        attempts = 0
        while not self._stop.is_set():
            attempts += 1
            try:
                self._source.open()
            except CameraOpenError as exc:
                with self._cond:
                    self._last_error = str(exc)
                # The first failure explains itself at WARNING; repeating it every attempt would drown the log.
                level = logging.WARNING if attempts == 1 else logging.DEBUG
                _log.log(level, "camera %s: reconnect failed: %s", self.name, exc)
                self._stop.wait(self._config.reconnect_interval_s)
                continue
            with self._cond:
                self._reconnects += 1
                self._connected = True
                self._fps.reset()
            _log.info("camera %s: reconnected after %d attempt(s)", self.name, attempts)
            return True
        return False
