"""Camera errors whose messages say what went wrong *and what to do*.

Operators read these at the robot, so a caller (CLI, ROS node) prints ``str(exc)`` and nothing
else: no OpenCV traceback, no chained exceptions, just the device, the problem and the remedies.
"""
from __future__ import annotations

from typing import Sequence


class CameraError(Exception):
    """Base of every camera failure."""


class CameraOpenError(CameraError):
    """A camera or video file cannot be opened or does not accept the requested mode."""

    @classmethod
    def for_device(cls, camera: str, device: str, problem: str, hints: Sequence[str] = ()) -> CameraOpenError:
        """Build the error from its parts: which camera, which device, what is wrong, what to do.

        The message stays a plain string (``args == (message,)``) so the exception pickles and
        compares like any other.
        """
        lines = [f"camera '{camera}': cannot open {device}: {problem}"]
        if hints:
            lines.append("What to do:")
            lines.extend(f"  - {hint}" for hint in hints)
        return cls("\n".join(lines))


class CameraTimeoutError(CameraError):
    """No frame (or no fresh enough frame) within the allowed time."""


class CameraNotStartedError(CameraError):
    """The camera is not running, or has not delivered a frame yet."""


class CameraStreamEndedError(CameraError):
    """A finite source (a video file with ``loop=False``) has delivered its last frame."""
