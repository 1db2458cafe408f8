"""The threaded camera driven by the synthetic source: delivery, order, timestamps, API contract.

No sleeps: every wait is on the camera's own condition, with a timeout as a safety net. No
timing assertions either; only counts, order and the decoded counters.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

from so101_hardware.cameras import (
    CameraConfig,
    CameraError,
    CameraNotStartedError,
    CameraTimeoutError,
    Frame,
    ThreadedCamera,
    decode_frame_counter,
    make_camera,
    render_pattern,
)

pytestmark = pytest.mark.timeout(30)
Size = tuple[int, int]


@pytest.fixture
def synthetic(frame_size: Size) -> Callable[..., ThreadedCamera]:
    width, height = frame_size

    def make(fps: float = 200.0) -> ThreadedCamera:
        return make_camera(CameraConfig(name="front", source="synthetic", width=width, height=height, fps=fps))

    return make


def collect(camera: ThreadedCamera, count: int) -> list[Frame]:
    frames = [camera.latest()]
    while len(frames) < count:
        frames.append(camera.wait_new(frames[-1].index, timeout_s=5.0))
    return frames


@pytest.mark.parametrize("counter", [0, 1, 0b1010_0101, 2**31 + 12345, 2**32 - 1])
def test_pattern_counter_round_trips(counter: int, frame_size: Size) -> None:
    width, height = frame_size
    image = render_pattern(counter, width, height)
    assert image.shape == (height, width, 3) and image.dtype == np.uint8
    assert decode_frame_counter(image) == counter


def test_pattern_moves_between_frames(frame_size: Size) -> None:
    first, second = render_pattern(0, *frame_size), render_pattern(1, *frame_size)
    middle_row = frame_size[1] // 2
    assert not np.array_equal(first[middle_row], second[middle_row])


def test_frames_arrive_in_order_with_exact_counters(synthetic: Callable[..., ThreadedCamera], frame_size: Size) -> None:
    width, height = frame_size
    with synthetic() as camera:
        frames = collect(camera, 15)
        stats = camera.stats
    indices = [frame.index for frame in frames]
    assert indices == sorted(set(indices)), "indices must strictly increase"
    for frame in frames:
        assert frame.image.shape == (height, width, 3) and frame.image.dtype == np.uint8
        assert not frame.image.flags.writeable, "frames are shared between threads"
        assert decode_frame_counter(frame.image) == frame.index  # nothing dropped inside the camera
    monotonic = [frame.capture_monotonic for frame in frames]
    wall = [frame.capture_wall for frame in frames]
    assert monotonic == sorted(monotonic) and wall == sorted(wall)
    assert stats.frames_captured >= 15 and stats.read_failures == 0 and stats.reconnects == 0
    assert stats.connected and not stats.ended and stats.last_error is None


def test_stop_is_idempotent_and_keeps_the_last_frame_ageing(
    synthetic: Callable[..., ThreadedCamera], camera_threads: Callable[[], list[str]]
) -> None:
    camera = synthetic()
    camera.start()
    assert camera.is_running and camera_threads() == ["camera-front"]
    camera.stop()
    camera.stop()
    assert not camera.is_running and camera_threads() == []
    assert not camera.stats.connected
    frame = camera.latest()
    first_age = frame.age_s()
    assert 0 < first_age <= frame.age_s()
    assert camera.latest() is frame, "a stopped camera delivers nothing new"
    with pytest.raises(CameraNotStartedError):
        camera.wait_new(None, timeout_s=0.1)


def test_restart_continues_the_frame_index(synthetic: Callable[..., ThreadedCamera]) -> None:
    camera = synthetic()
    with camera:
        before = camera.latest().index
    with camera:
        assert camera.latest().index > before


def test_start_twice_is_refused(synthetic: Callable[..., ThreadedCamera]) -> None:
    with synthetic() as camera:
        with pytest.raises(CameraError, match="already running"):
            camera.start()


def test_latest_before_start_raises(synthetic: Callable[..., ThreadedCamera]) -> None:
    with pytest.raises(CameraNotStartedError, match="call start"):
        synthetic().latest()


def test_wait_new_times_out(synthetic: Callable[..., ThreadedCamera]) -> None:
    with synthetic() as camera:
        with pytest.raises(CameraTimeoutError, match="no new frame within"):
            camera.wait_new(after_index=10**9, timeout_s=0.05)


def test_wait_new_without_index_waits_for_a_newer_frame(synthetic: Callable[..., ThreadedCamera]) -> None:
    with synthetic() as camera:
        current = camera.latest()
        assert camera.wait_new(None, timeout_s=5.0).index > current.index


def test_latest_rejects_a_frame_older_than_max_age(synthetic: Callable[..., ThreadedCamera]) -> None:
    # 0.2 fps: after the first frame the next one is 5 s away, so the newest frame only ages.
    with synthetic(fps=0.2) as camera:
        frame = camera.latest()
        assert camera.latest(max_age_s=60.0) is frame
        age = frame.age_s()
        with pytest.raises(CameraTimeoutError, match="old"):
            camera.latest(max_age_s=age)  # it is strictly older by the time latest() looks


def test_stop_interrupts_a_slow_source_promptly(
    synthetic: Callable[..., ThreadedCamera], camera_threads: Callable[[], list[str]]
) -> None:
    # The pacer waits on the stop event, so stop() does not sit out the 5 s frame period.
    camera = synthetic(fps=0.2)
    camera.start()
    camera.stop()
    assert not camera.is_running and camera_threads() == []
