"""Camera capture for the SO-101 stack, free of ROS.

Each camera runs its own capture thread and keeps only its newest frame, so the control loop
reads images without ever blocking on a camera (``ThreadedCamera.latest``). Sources: a real
camera through OpenCV (index, /dev/video* or udev name), a synthetic pattern carrying a
decodable frame counter, and a video file, all behind the same API::

    config = CameraConfig.from_mapping({"name": "wrist", "device": "/dev/so101_cam_wrist"})
    with make_camera(config) as camera:
        frame = camera.latest(max_age_s=0.1)   # never blocks; raises if stale

Failures raise ``CameraError`` subclasses whose message says what to do.
"""
from so101_hardware.cameras.camera import ThreadedCamera
from so101_hardware.cameras.config import SOURCE_KINDS, CameraConfig, CameraNodeConfig
from so101_hardware.cameras.errors import (
    CameraError,
    CameraNotStartedError,
    CameraOpenError,
    CameraStreamEndedError,
    CameraTimeoutError,
)
from so101_hardware.cameras.factory import make_camera
from so101_hardware.cameras.frame import Frame
from so101_hardware.cameras.source import EndOfStream, FrameSource
from so101_hardware.cameras.stats import CameraStats
from so101_hardware.cameras.synthetic_source import decode_frame_counter, render_pattern

__all__ = [
    "SOURCE_KINDS",
    "CameraConfig",
    "CameraNodeConfig",
    "CameraError",
    "CameraNotStartedError",
    "CameraOpenError",
    "CameraStats",
    "CameraStreamEndedError",
    "CameraTimeoutError",
    "EndOfStream",
    "Frame",
    "FrameSource",
    "ThreadedCamera",
    "decode_frame_counter",
    "make_camera",
    "render_pattern",
]
