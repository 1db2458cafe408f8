"""sensor_msgs/Image ↔ RGB arrays (so101_hardware.ros.images): the one encoder and the one decoder every node uses."""
from __future__ import annotations

import array
import time

import numpy as np
import pytest
import sensor_msgs.msg._image as image_module
from sensor_msgs.msg import Image

from so101_hardware.ros.images import camera_info_message, image_message, rgb_from_image
from so101_hardware.ros.stamps import seconds_from_stamp

PIXELS = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)


def image(encoding: str, pixels: np.ndarray, padding: int = 0) -> Image:
    height, width, _ = pixels.shape
    rows = np.zeros((height, width * 3 + padding), np.uint8)
    rows[:, : width * 3] = pixels.reshape(height, -1)
    return Image(height=height, width=width, encoding=encoding, step=width * 3 + padding, data=rows.tobytes())


def test_an_rgb_array_round_trips_with_its_stamp_and_frame():
    msg = image_message(PIXELS, 12.25, "wrist_camera")
    assert (msg.encoding, msg.height, msg.width, msg.step) == ("rgb8", 4, 5, 15)
    assert seconds_from_stamp(msg.header.stamp) == pytest.approx(12.25) and msg.header.frame_id == "wrist_camera"
    assert np.array_equal(rgb_from_image(msg), PIXELS)
    info = camera_info_message(msg)
    assert (info.height, info.width, info.header.stamp) == (4, 5, msg.header.stamp)


@pytest.mark.parametrize("padding", [0, 7])
def test_rgb8_rows_lose_their_padding_and_the_array_is_read_only(padding):
    rgb = rgb_from_image(image("rgb8", PIXELS, padding))
    assert np.array_equal(rgb, PIXELS) and rgb.dtype == np.uint8
    assert not rgb.flags.writeable


def test_bgr8_is_reordered_to_rgb():
    assert np.array_equal(rgb_from_image(image("bgr8", PIXELS[..., ::-1])), PIXELS)


@pytest.mark.parametrize(
    "msg,message",
    [
        (image("mono8", PIXELS), "encoding 'mono8' is not supported: publish rgb8"),
        (Image(height=4, width=5, encoding="rgb8", step=15, data=bytes(10)), "carries 10 bytes"),
        (Image(height=4, width=5, encoding="rgb8", step=12, data=bytes(48)), "malformed"),
        (Image(height=0, width=5, encoding="rgb8", step=15, data=b""), "malformed"),
    ],
)
def test_other_images_are_refused_saying_why(msg, message):
    with pytest.raises(ValueError, match=message):
        rgb_from_image(msg)


def test_pixels_go_in_as_an_array_of_type_code_B_also_from_a_strided_view():
    frame = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)
    view = frame[::2, 1::2]  # not contiguous: copied into row-major order
    msg = image_message(view, 0.0, "x")
    assert isinstance(msg.data, array.array) and msg.data.typecode == "B"
    assert np.array_equal(rgb_from_image(msg), view)


def _best_of(runs: int, build) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        build()
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.serial
def test_a_640x480_frame_skips_the_per_byte_field_check(monkeypatch):
    """Humble and Jazzy check every byte of a uint8[] field given as bytes or a list (under __debug__);
    Kilted does it with ROS_PYTHON_CHECK_FIELDS=1, which sets this module attribute at import. With the
    checks on, the encoder must stay far faster than that per-byte path (~100 ms a frame): measured
    against it in the same process, so a loaded machine slows both alike."""
    monkeypatch.setattr(image_module, "ros_python_check_fields", "1")
    assert Image()._check_fields
    frame = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)

    def per_byte():
        Image().data = frame.tobytes()

    ours = _best_of(5, lambda: image_message(frame, 0.0, "wrist"))
    checked = _best_of(2, per_byte)
    assert ours * 20 < checked, f"encoder {ours * 1e3:.2f} ms vs the per-byte checked path {checked * 1e3:.1f} ms"
