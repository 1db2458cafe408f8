"""Build a ready-to-start camera from its config."""
from __future__ import annotations

from typing import Callable, Mapping

from so101_hardware.cameras.camera import ThreadedCamera
from so101_hardware.cameras.config import CameraConfig
from so101_hardware.cameras.file_source import FileSource
from so101_hardware.cameras.opencv_source import OpenCVSource
from so101_hardware.cameras.source import FrameSource
from so101_hardware.cameras.synthetic_source import SyntheticSource

_SOURCES: Mapping[str, Callable[[CameraConfig], FrameSource]] = {
    "opencv": OpenCVSource,
    "synthetic": SyntheticSource,
    "file": FileSource,
}


def make_camera(config: CameraConfig) -> ThreadedCamera:
    """The camera ``config`` describes, not yet started (nothing is opened until ``start()``)."""
    return ThreadedCamera(config, _SOURCES[config.source](config))
