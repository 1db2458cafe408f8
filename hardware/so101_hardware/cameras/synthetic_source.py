"""A camera without hardware: a moving test pattern that carries its own frame counter.

The counter is drawn into the pixels (a row of 32 black/white blocks, most significant bit
first, top-left) so a test, or a subscriber at the far end of a ROS pipeline, can decode which
frame it got and detect drops, repeats and reordering without any side channel. The blocks are
8x8 and grid-aligned, which survives JPEG (MJPG) compression.
"""
from __future__ import annotations

import threading

import numpy as np

from so101_hardware.cameras.config import CameraConfig
from so101_hardware.cameras.pacing import Pacer

COUNTER_BITS = 32
BLOCK_PX = 8
MIN_WIDTH = COUNTER_BITS * BLOCK_PX
MIN_HEIGHT = BLOCK_PX
_SCROLL_PX_PER_FRAME = 4


def render_pattern(counter: int, width: int, height: int) -> np.ndarray:
    """The RGB test image for frame ``counter``: a colour gradient scrolling right, plus the counter.

    Pure function of its arguments, so tests can write the exact frames a camera would produce.
    """
    problem = _size_problem(width, height)
    if problem:
        raise ValueError(problem)
    phase = 2 * np.pi * (np.arange(width) - counter * _SCROLL_PX_PER_FRAME) / width
    row = np.stack([np.sin(phase + shift) for shift in (0.0, 2 * np.pi / 3, 4 * np.pi / 3)], axis=-1)
    image = np.repeat(((row + 1.0) * 127.5).astype(np.uint8)[np.newaxis], height, axis=0)
    bits = (counter >> np.arange(COUNTER_BITS - 1, -1, -1)) & 1
    blocks = np.repeat(np.where(bits, 255, 0).astype(np.uint8), BLOCK_PX)
    image[:BLOCK_PX, :MIN_WIDTH] = blocks[np.newaxis, :, np.newaxis]
    return image


def decode_frame_counter(image: np.ndarray) -> int:
    """Read back the counter ``render_pattern`` drew; robust to JPEG noise (thresholds block centres)."""
    if image.ndim != 3 or image.shape[0] < MIN_HEIGHT or image.shape[1] < MIN_WIDTH:
        raise ValueError(f"image of shape {image.shape} is too small to hold a frame counter")
    strip = image[:BLOCK_PX, :MIN_WIDTH].reshape(BLOCK_PX, COUNTER_BITS, BLOCK_PX, image.shape[2])
    centre = slice(BLOCK_PX // 4, BLOCK_PX - BLOCK_PX // 4)
    levels = strip[centre, :, centre].mean(axis=(0, 2, 3))
    value = 0
    for bit in levels > 127.5:
        value = (value << 1) | int(bit)
    return value


def _size_problem(width: int, height: int) -> str | None:
    if width >= MIN_WIDTH and height >= MIN_HEIGHT:
        return None
    return (
        f"the synthetic pattern needs at least {MIN_WIDTH}x{MIN_HEIGHT} pixels for its frame counter, "
        f"got {width}x{height}"
    )


class SyntheticSource:
    """Delivers ``render_pattern`` frames at the configured fps; the counter never resets."""

    def __init__(self, config: CameraConfig) -> None:
        problem = _size_problem(config.width, config.height)
        if problem:
            raise ValueError(f"camera config '{config.name}': {problem}")
        self._config = config
        self._pacer = Pacer(config.fps)
        self._counter = 0
        self._is_open = False

    def open(self) -> None:
        self._is_open = True
        self._pacer.reset()

    def read(self, stop: threading.Event) -> np.ndarray | None:
        if not self._is_open or not self._pacer.wait(stop):
            return None
        image = render_pattern(self._counter, self._config.width, self._config.height)
        self._counter = (self._counter + 1) % (1 << COUNTER_BITS)
        return image

    def release(self) -> None:
        self._is_open = False
