"""Validated, immutable camera configuration.

Everything is checked at construction so a typo in a YAML file fails at load time with a
message naming the camera and the field, not minutes later inside a capture thread.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

SOURCE_KINDS = ("opencv", "synthetic", "file")
"""``opencv``: a real camera; ``synthetic``: generated test pattern; ``file``: a video file."""

# Camera names end up in thread names, ROS topic names and TF frame ids, so they follow the
# ROS name rules (letters, digits, underscores; no leading digit) from the start.
_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class CameraConfig:
    """How to open one camera and what to ask of it.

    ``device`` depends on ``source``: for ``opencv`` an index (``0``), a node (``"/dev/video2"``)
    or a udev symlink (``"/dev/so101_cam_wrist"``, stable across re-plugging, unlike indices);
    for ``file`` the video path; ignored for ``synthetic``.

    ``fourcc`` defaults to MJPG because two uncompressed 640x480@30 streams do not fit through
    one USB 2 hub: the second camera fails to stream. ``None`` keeps the camera's default.
    Only real cameras use it.

    ``read_timeout_s``: no frame for this long and the camera counts as stalled; the capture
    thread releases it and re-opens it every ``reconnect_interval_s`` until it is back.
    ``warmup_timeout_s``: how long ``start()`` waits for the first frame, and the grace period
    a freshly (re)opened camera gets before it counts as stalled (auto-exposure can take a
    second or two).

    ``fps`` is the requested rate for a real camera and the delivery rate of the synthetic and
    file sources (a file is replayed at ``fps``, whatever rate it was recorded at, so it stands
    in for the camera it replaces). ``loop``: a file source restarts at its end instead of ending.
    """

    name: str
    source: str = "opencv"
    device: int | str = 0
    width: int = 640
    height: int = 480
    fps: float = 30.0
    fourcc: str | None = "MJPG"
    read_timeout_s: float = 1.0
    reconnect_interval_s: float = 0.5
    loop: bool = True
    warmup_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME_PATTERN.fullmatch(self.name):
            raise ValueError(
                f"camera name must be letters, digits and underscores, not starting with a digit "
                f"(it becomes part of ROS topic names), got {self.name!r}"
            )
        if self.source not in SOURCE_KINDS:
            raise self._error(f"source must be one of {', '.join(SOURCE_KINDS)}, got {self.source!r}")
        object.__setattr__(self, "device", self._checked_device())
        for field_name in ("width", "height"):
            value = getattr(self, field_name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise self._error(f"{field_name} must be a positive integer (pixels), got {value!r}")
        for field_name in ("fps", "read_timeout_s", "reconnect_interval_s", "warmup_timeout_s"):
            object.__setattr__(self, field_name, self._positive_float(field_name))
        if self.fourcc is not None and (
            not isinstance(self.fourcc, str) or len(self.fourcc) != 4 or not self.fourcc.isascii()
        ):
            raise self._error(f"fourcc must be exactly 4 ASCII characters such as 'MJPG', or null, got {self.fourcc!r}")
        if not isinstance(self.loop, bool):
            raise self._error(f"loop must be true or false, got {self.loop!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CameraConfig:
        """Build from a parsed YAML/JSON mapping, rejecting keys this class does not know.

        Unknown keys are errors, not warnings: a misspelt ``fourc: MJPG`` silently ignored would
        bring back exactly the bandwidth failure the setting exists to prevent.
        """
        known = [f.name for f in fields(cls)]
        unknown = sorted(str(key) for key in data if key not in known)
        camera = data.get("name", "<unnamed>")
        if unknown:
            raise ValueError(
                f"camera config '{camera}': unknown key(s) {', '.join(unknown)}; known keys: {', '.join(known)}"
            )
        if "name" not in data:
            given = ", ".join(map(str, data)) or "none"
            raise ValueError(f"camera config is missing the required key 'name' (keys given: {given})")
        return cls(**data)

    def _error(self, detail: str) -> ValueError:
        return ValueError(f"camera config '{self.name}': {detail}")

    def _positive_float(self, field_name: str) -> float:
        value = getattr(self, field_name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise self._error(f"{field_name} must be a positive number, got {value!r}")
        return float(value)

    def _checked_device(self) -> int | str:
        device = self.device
        if isinstance(device, os.PathLike):
            device = os.fspath(device)
        if self.source == "file":
            if not isinstance(device, str) or not device:
                raise self._error(f"device must be the video file path for source 'file', got {device!r}")
        elif isinstance(device, bool) or not isinstance(device, (int, str)) or device == "" or (
            isinstance(device, int) and device < 0
        ):
            raise self._error(
                f"device must be a camera index (0, 1, ...), a /dev/video* path or a udev symlink, got {device!r}"
            )
        return device


def _camera_default(name: str) -> Any:
    return next(f.default for f in fields(CameraConfig) if f.name == name)


@dataclass(frozen=True)
class CameraNodeConfig:
    """The camera node's parameters (one ROS parameter per field): a CameraConfig as ROS can carry it.

    Defaults are CameraConfig's; ROS parameters have no None and no int-or-string, so `device` is
    text (digits mean an index) and an empty `fourcc` keeps the camera's own.
    """

    name: str = "wrist"
    source: str = field(default=_camera_default("source"), metadata={"help": " | ".join(SOURCE_KINDS)})
    device: str = field(
        default=str(_camera_default("device")),
        metadata={"help": "index (e.g. 0), /dev/videoN, udev name or video file"},
    )
    width: int = _camera_default("width")
    height: int = _camera_default("height")
    fps: float = _camera_default("fps")
    fourcc: str = field(
        default=_camera_default("fourcc"), metadata={"help": "four characters; empty: the camera's default"}
    )
    frame_id: str = field(default="", metadata={"help": "header frame_id; empty: <name>_camera"})

    def camera_config(self) -> CameraConfig:
        device: int | str = int(self.device) if self.device.isdigit() else self.device
        return CameraConfig(
            name=self.name, source=self.source, device=device, width=self.width, height=self.height,
            fps=self.fps, fourcc=self.fourcc or None,
        )
