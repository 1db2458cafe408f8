"""The file source through the threaded camera: order, looping, end of file, resizing, reconnect.

Frames may be skipped by a slow reader (``wait_new`` hands out the newest frame), so order is
checked through ``frame.index``: the camera delivers every file frame, so the counter decoded
from a frame must equal its index modulo the clip length, whichever frames the test sees.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from so101_hardware.cameras import (
    CameraConfig,
    CameraStreamEndedError,
    CameraTimeoutError,
    Frame,
    ThreadedCamera,
    decode_frame_counter,
    make_camera,
)

pytestmark = pytest.mark.timeout(30)
CLIP_FRAMES = 20
Size = tuple[int, int]


@pytest.fixture
def clip(write_video: Callable[..., Path]) -> Path:
    return write_video(range(CLIP_FRAMES))


def file_camera(path: Path, size: Size, **overrides: object) -> ThreadedCamera:
    width, height = size
    settings = {"fps": 200.0, **overrides}
    config = CameraConfig(name="replay", source="file", device=str(path), width=width, height=height, **settings)
    return make_camera(config)


def frames_until(camera: ThreadedCamera, last_index: int) -> list[Frame]:
    frames = [camera.latest()]
    while frames[-1].index < last_index:
        frames.append(camera.wait_new(frames[-1].index, timeout_s=5.0))
    return frames


def test_frames_come_back_in_file_order(clip: Path, frame_size: Size) -> None:
    with file_camera(clip, frame_size) as camera:
        frames = frames_until(camera, CLIP_FRAMES - 1)
    for frame in frames:
        assert frame.image.shape == (frame_size[1], frame_size[0], 3)
        assert decode_frame_counter(frame.image) == frame.index


def test_loop_wraps_around_to_the_first_frame(clip: Path, frame_size: Size) -> None:
    with file_camera(clip, frame_size, loop=True) as camera:
        frames = frames_until(camera, 2 * CLIP_FRAMES + 5)
        assert not camera.stats.ended
    for frame in frames:
        assert decode_frame_counter(frame.image) == frame.index % CLIP_FRAMES


def test_without_loop_the_stream_ends_after_the_last_frame(clip: Path, frame_size: Size) -> None:
    with file_camera(clip, frame_size, loop=False) as camera:
        frame = camera.latest()
        with pytest.raises(CameraStreamEndedError, match="ended"):
            while True:
                frame = camera.wait_new(frame.index, timeout_s=5.0)
        stats = camera.stats
        assert camera.latest() is frame, "the last frame stays available"
    assert frame.index == CLIP_FRAMES - 1 and decode_frame_counter(frame.image) == CLIP_FRAMES - 1
    assert stats.ended and stats.frames_captured == CLIP_FRAMES and stats.read_failures == 0
    # An ended stream is stale by definition: the last frame only gets older.
    with pytest.raises(CameraTimeoutError, match="the video file has ended"):
        camera.latest(max_age_s=frame.age_s())


def test_frames_are_resized_to_the_configured_size(write_video: Callable[..., Path]) -> None:
    clip = write_video(range(3), width=320, height=240)
    with file_camera(clip, (640, 480)) as camera:
        assert camera.latest().image.shape == (480, 640, 3)


def test_reconnects_after_the_file_disappears_and_comes_back(clip: Path, frame_size: Size) -> None:
    # Deleting an open file does not disturb a reader on Linux, so the disappearance shows when
    # the source re-opens the file to loop: that fails, reads fail, and after read_timeout_s the
    # camera releases the source and retries open() every reconnect_interval_s -- the same path
    # as an unplugged USB camera. Frames can only resume through a successful reconnect.
    hidden = clip.with_name("hidden.avi")
    with file_camera(clip, frame_size, loop=True, read_timeout_s=0.2, reconnect_interval_s=0.05) as camera:
        frame = camera.latest()
        clip.rename(hidden)
        with pytest.raises(CameraTimeoutError):
            for _ in range(CLIP_FRAMES + 1):  # at most the rest of the open pass, then silence
                frame = camera.wait_new(frame.index, timeout_s=1.0)
        assert camera.stats.reconnects == 0
        hidden.rename(clip)
        resumed = camera.wait_new(frame.index, timeout_s=10.0)
        stats = camera.stats
    assert stats.reconnects >= 1 and stats.read_failures >= 1 and stats.last_error
    assert 0 <= decode_frame_counter(resumed.image) < CLIP_FRAMES
