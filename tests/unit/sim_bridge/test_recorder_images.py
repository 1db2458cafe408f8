"""sensor_msgs/Image → Frame in the recorder node: rgb8 and bgr8, row padding, and what is refused."""
from __future__ import annotations

import numpy as np
import pytest
from sensor_msgs.msg import Image

from so101_sim_bridge.nodes.recorder_node import frame_from_image


def image(encoding: str, pixels: np.ndarray, padding: int = 0) -> Image:
    height, width, _ = pixels.shape
    rows = np.zeros((height, width * 3 + padding), np.uint8)
    rows[:, : width * 3] = pixels.reshape(height, -1)
    return Image(height=height, width=width, encoding=encoding, step=width * 3 + padding, data=rows.tobytes())


PIXELS = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)


@pytest.mark.parametrize("padding", [0, 7])
def test_rgb8_rows_become_an_rgb_frame_stamped_as_given(padding):
    frame = frame_from_image(image("rgb8", PIXELS, padding), stamp_s=12.5, index=3)
    assert np.array_equal(frame.image, PIXELS)
    assert (frame.capture_wall, frame.index) == (12.5, 3)


def test_bgr8_is_turned_into_rgb():
    frame = frame_from_image(image("bgr8", PIXELS[..., ::-1]), 0.0, 0)
    assert np.array_equal(frame.image, PIXELS)


@pytest.mark.parametrize(
    "msg,message",
    [
        (image("mono8", PIXELS), "encoding 'mono8' unsupported; publish rgb8 or bgr8"),
        (Image(height=4, width=5, encoding="rgb8", step=15, data=bytes(10)), "10 bytes is not 4 rows of 15 bytes"),
        (Image(height=4, width=5, encoding="rgb8", step=12, data=bytes(48)), "for width 5"),
    ],
)
def test_other_images_are_refused_saying_why(msg, message):
    with pytest.raises(ValueError, match=message):
        frame_from_image(msg, 0.0, 0)
