"""The recording rate, defined once: steps per second, an integer (LeRobot datasets require one).

The recorder node's parameter, the alignment grid, the HDF5 file's env_args and the LeRobot
dataset's info.json all carry this one number, checked here.
"""
from __future__ import annotations

DEFAULT_FPS = 30
MAX_FPS = 240


def checked_fps(fps: object) -> int:
    """`fps` if it is an integer in 1..MAX_FPS; ValueError naming the value otherwise."""
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= MAX_FPS:
        raise ValueError(f"fps must be an integer within 1..{MAX_FPS} (LeRobot datasets have an integer fps), got {fps!r}")
    return fps
