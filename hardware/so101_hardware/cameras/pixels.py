"""Raw image buffers (a ROS Image's encoding, size, row step and bytes) → RGB arrays, without ROS.

Shared by the ROS toolkit (so101_hardware.ros.images, live messages) and the dataset tools
(rosbag2 messages read without ROS), so both accept the same encodings and padding.
"""
from __future__ import annotations

import numpy as np

RGB8, BGR8 = "rgb8", "bgr8"
ENCODINGS = (RGB8, BGR8)
CHANNELS = 3


def rgb_from_buffer(encoding: str, height: int, width: int, step: int, data: bytes | np.ndarray) -> np.ndarray:
    """The image as (H, W, 3) uint8 RGB, read-only (no copy for rgb8 without padding).

    rgb8 or bgr8 (reordered); row padding (step > 3·width) is dropped. ValueError for another
    encoding or a buffer that does not match the size.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"image encoding {encoding!r} is not supported: publish {RGB8} (or {BGR8})")
    row = width * CHANNELS
    if height < 1 or width < 1 or step < row:
        raise ValueError(f"image of {width}x{height} with step {step} is malformed")
    buffer = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data.view(np.uint8).ravel()
    if buffer.size != height * step:
        raise ValueError(f"image of {height} rows × {step} bytes carries {buffer.size} bytes")
    pixels = buffer.reshape(height, step)[:, :row].reshape(height, width, CHANNELS)
    if encoding == BGR8:
        pixels = np.ascontiguousarray(pixels[..., ::-1])
    pixels.setflags(write=False)
    return pixels
