"""sensor_msgs/Image ↔ RGB arrays, with numpy (cv_bridge is not installable everywhere the stack runs).

Published images are rgb8. Received images may be rgb8 (so101 cameras, the twins, Isaac's camera
helper) or bgr8 (OpenCV-based drivers, reordered here); row padding (step > 3·width) is dropped.

Pixels go into the message as an `array.array('B')`, never as bytes or a list: the generated
setter of a uint8[] field takes an array of type code 'B' as it is, while anything else is checked
byte by byte wherever field checks are on (always on Humble and Jazzy, where they run under
`__debug__`; `ROS_PYTHON_CHECK_FIELDS=1` from Kilted on): about 100 ms per 640×480 frame, which
rules out 30 fps cameras. The array is filled with one copy of the frame's buffer.
"""
from __future__ import annotations

import array

import numpy as np
from sensor_msgs.msg import CameraInfo, Image

from so101_hardware.cameras.pixels import CHANNELS, RGB8, rgb_from_buffer
from so101_hardware.ros.stamps import stamp_from_seconds


def image_message(rgb: np.ndarray, stamp_s: float, frame_id: str) -> Image:
    """An (H, W, 3) uint8 RGB array as an rgb8 Image stamped `stamp_s` (wall-clock seconds)."""
    msg = Image()
    msg.header.stamp = stamp_from_seconds(stamp_s)
    msg.header.frame_id = frame_id
    msg.height, msg.width = rgb.shape[:2]
    msg.encoding = RGB8
    msg.step = msg.width * CHANNELS
    msg.data = pixel_array(rgb)
    return msg


def pixel_array(pixels: np.ndarray) -> array.array:
    """The array's bytes, row-major, as an array.array('B'): what a uint8[] field takes unchecked (module doc)."""
    data = array.array("B")
    data.frombytes(memoryview(np.ascontiguousarray(pixels, dtype=np.uint8)).cast("B"))
    return data


def camera_info_message(image: Image) -> CameraInfo:
    """Size and stamp only: intrinsics come from a calibration tool, which this stack does not ship."""
    info = CameraInfo()
    info.header = image.header
    info.height, info.width = image.height, image.width
    return info


def rgb_from_image(msg: Image) -> np.ndarray:
    """The image as (H, W, 3) uint8 RGB, read-only (no copy for rgb8 without padding).

    ValueError for another encoding or a buffer that does not match the size.
    """
    return rgb_from_buffer(msg.encoding, msg.height, msg.width, msg.step, msg.data)
