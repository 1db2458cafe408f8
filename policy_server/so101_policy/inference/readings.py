"""The robot's latest readings, kept for the request worker.

The node's subscription callbacks write here (executor thread) and the StreamingDriver's worker
reads a snapshot (its own thread) for each request. Everything is timed on one clock, the
driver's (time.monotonic), at the moment a callback receives the reading: chunks are aligned
to RobotObservation.time, so a ROS stamp from another machine's clock must not leak in.

A snapshot never mixes in something too old: a joint state or a frame older than
`max_age_s` (a stalled camera, a follower that stopped publishing) makes it raise
ObservationError, the driver counts `failed_observation`, and the arm holds rather than
acting on a stale view of the world.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

import numpy as np

from so101_calibration import JOINT_NAMES
from so101_policy.embodiment.observation_builder import RobotObservation
from so101_policy.errors import ObservationError


class ObservationStore:
    """Thread-safe latest joint positions (radians), camera frames and instruction."""

    def __init__(
        self,
        cameras: Iterable[str],
        max_age_s: float,
        instruction: str = "",
        clock: Callable[[], float] = time.monotonic,
    ):
        self.cameras = tuple(cameras)
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._joints: tuple[np.ndarray, float] | None = None
        self._frames: dict[str, tuple[np.ndarray, float]] = {}
        self._instruction = instruction

    def update_joints(self, positions: np.ndarray, received_at: float) -> bool:
        """Keep the follower's positions, (6,) radians; False (and not kept) if any is not finite."""
        array = np.array(positions, dtype=np.float64)
        if array.shape != (len(JOINT_NAMES),) or not np.all(np.isfinite(array)):
            return False
        array.setflags(write=False)
        with self._lock:
            self._joints = (array, received_at)
        return True

    def update_frame(self, camera: str, rgb: np.ndarray, received_at: float) -> None:
        """Keep a camera's newest frame; it must not be modified afterwards (decoded images are read-only)."""
        with self._lock:
            self._frames[camera] = (rgb, received_at)

    def set_instruction(self, text: str) -> None:
        with self._lock:
            self._instruction = text

    @property
    def instruction(self) -> str:
        with self._lock:
            return self._instruction

    def present(self) -> np.ndarray | None:
        """The follower's position if it is fresh (what streaming starts from), else None."""
        now = self._clock()
        with self._lock:
            joints = self._joints
        if joints is None or now - joints[1] > self.max_age_s:
            return None
        return joints[0]

    def snapshot(self) -> RobotObservation:
        """The latest readings as one observation timed at the joint-state read; ObservationError if
        anything is missing or older than max_age_s.

        Frames and positions are shared, not copied: they are read-only and replaced, never
        changed, by later readings, so the snapshot stays consistent without copying megabytes.
        """
        now = self._clock()
        with self._lock:
            joints, frames, instruction = self._joints, dict(self._frames), self._instruction
        if joints is None:
            raise ObservationError("no follower joint state received yet")
        stale = [f"joint state {now - joints[1]:.3f} s"] if now - joints[1] > self.max_age_s else []
        missing = [camera for camera in self.cameras if camera not in frames]
        if missing:
            raise ObservationError(f"no frame received yet from camera(s) {', '.join(missing)}")
        stale += [
            f"camera {camera} {now - frames[camera][1]:.3f} s"
            for camera in self.cameras
            if now - frames[camera][1] > self.max_age_s
        ]
        if stale:
            raise ObservationError(f"stale observation ({', '.join(stale)} old; limit {self.max_age_s:g} s)")
        images = {camera: frames[camera][0] for camera in self.cameras}
        return RobotObservation(joints[0], images, instruction, joints[1])

    def ages(self) -> dict[str, float]:
        """Age in seconds of the newest joint state and of each camera's newest frame (for /diagnostics)."""
        now = self._clock()
        with self._lock:
            received = {"joint_state": self._joints[1]} if self._joints is not None else {}
            received.update({f"camera_{camera}": at for camera, (_, at) in self._frames.items()})
        return {f"{name}_age_s": now - at for name, at in received.items()}
