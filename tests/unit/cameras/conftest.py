"""Shared fixtures for the camera tests: real sources, small sizes, fast rates, own tmp_path."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Iterable, Iterator

import cv2
import pytest

from so101_hardware.cameras import render_pattern

# Test modules cannot import this file (pytest runs with --import-mode=importlib), so what
# they share comes through fixtures.
WIDTH, HEIGHT = 320, 240
"""Smallest convenient size that holds the 256-pixel-wide frame counter."""


def _camera_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("camera-")]


@pytest.fixture
def camera_threads() -> Callable[[], list[str]]:
    """Names of the live capture threads."""
    return _camera_threads


@pytest.fixture
def frame_size() -> tuple[int, int]:
    """(width, height) the tests capture at."""
    return WIDTH, HEIGHT


@pytest.fixture(autouse=True)
def no_camera_thread_left_behind() -> Iterator[None]:
    """Every test must leave no capture thread running, whatever path it took."""
    assert _camera_threads() == [], "a previous test leaked a capture thread"
    yield
    assert _camera_threads() == []


@pytest.fixture
def write_video(tmp_path: Path) -> Callable[..., Path]:
    """Write an MJPG .avi whose frames carry the given synthetic-pattern counters."""

    def write(counters: Iterable[int], name: str = "clip.avi", width: int = WIDTH, height: int = HEIGHT) -> Path:
        path = tmp_path / name
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (width, height))
        assert writer.isOpened(), "OpenCV cannot write MJPG .avi here"
        try:
            for counter in counters:
                writer.write(cv2.cvtColor(render_pattern(counter, width, height), cv2.COLOR_RGB2BGR))
        finally:
            writer.release()
        return path

    return write
