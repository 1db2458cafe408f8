"""Checks run before handing a path to OpenCV, so a failure says *why* and what to do.

OpenCV's only answer to every problem is ``isOpened() == False`` (plus a warning on stderr).
Looking at the path first tells apart the causes people actually hit: camera not plugged in or
udev rule not matching, no permission (user not in the ``video`` group), a path that is not a
camera at all (often the arm's serial port), and a device another program holds.
"""
from __future__ import annotations

import glob
import grp
import os
import re
import stat

from so101_hardware.cameras.errors import CameraOpenError

V4L_MAJOR = 81
"""Linux character-device major number of video4linux nodes (/dev/video*)."""

_VIDEO_NODE = re.compile(r"/dev/video(\d+)")
_UDEV_RELOAD = "`sudo udevadm control --reload && sudo udevadm trigger`"


def existing_video_devices() -> list[str]:
    """The /dev/video* nodes present now, in numeric order."""
    nodes = glob.glob("/dev/video*")
    return sorted(nodes, key=lambda node: (len(node), node))


def describe_path(path: str) -> str:
    """``path``, plus where it points if it is a symlink (udev names are)."""
    real = os.path.realpath(path)
    return path if real == os.path.abspath(path) else f"{path} (-> {real})"


def check_video_device(camera: str, path: str) -> None:
    """Raise ``CameraOpenError`` unless ``path`` is a video4linux node this user may open."""
    shown = describe_path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise CameraOpenError.for_device(camera, shown, "the device does not exist.", _missing_hints(path)) from None
    if not stat.S_ISCHR(info.st_mode):
        raise CameraOpenError.for_device(
            camera,
            shown,
            f"it is {_kind(info.st_mode)}, not a video device.",
            [
                "point `device` at a camera: an index, a /dev/videoN node or a udev symlink to one",
                "to replay a recording, use `source: file` with the video path as `device`",
                _present_devices(),
            ],
        )
    if os.major(info.st_rdev) != V4L_MAJOR:
        raise CameraOpenError.for_device(
            camera,
            shown,
            f"it is a character device but not a video4linux one (major {os.major(info.st_rdev)}); "
            "a serial port such as the arm's /dev/ttyACM0 is a common mix-up.",
            [_present_devices(), "identify cameras with `v4l2-ctl --list-devices`"],
        )
    if not os.access(path, os.R_OK | os.W_OK):
        raise CameraOpenError.for_device(camera, shown, _permission_problem(info), _permission_hints(path))


def busy_or_unusable_hints(path: str) -> list[str]:
    """Remedies when the node passed every check but OpenCV still cannot open it."""
    real = os.path.realpath(path)
    return [
        f"another program may be using it (only one can stream from a camera): find it with `fuser -v {real}`",
        "a USB camera creates two /dev/video nodes and only one captures; try the other one "
        f"(`v4l2-ctl --list-devices`). {_present_devices()}",
        "unplug and re-plug the camera if it was in use by a program that crashed",
    ]


def check_readable_file(camera: str, path: str) -> None:
    """Raise ``CameraOpenError`` unless ``path`` is a regular file this user may read."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise CameraOpenError.for_device(
            camera,
            path,
            "the video file does not exist.",
            [f"check `device` in the camera config; relative paths are resolved from {os.getcwd()}"],
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise CameraOpenError.for_device(
            camera, path, f"it is {_kind(info.st_mode)}, not a video file.", ["set `device` to a video file"]
        )
    if not os.access(path, os.R_OK):
        raise CameraOpenError.for_device(
            camera, path, "permission denied (the file is not readable).", [f"make it readable: `chmod a+r {path}`"]
        )


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISCHR(mode):
        return "a character device"
    return "a special file"


def _present_devices() -> str:
    devices = existing_video_devices()
    if not devices:
        return "no /dev/video* devices exist right now: is a camera plugged in? (`dmesg | tail` shows USB errors)"
    return f"video devices present now: {', '.join(devices)}"


def _missing_hints(path: str) -> list[str]:
    hints = [_present_devices(), "check the cable and the hub; list cameras with `v4l2-ctl --list-devices`"]
    if os.path.islink(path):
        hints.append(f"{path} is a symlink to {os.path.realpath(path)}, which is gone: the camera was unplugged")
    elif not _VIDEO_NODE.fullmatch(path):
        hints.append(
            f"if {path} is a udev name, the rule did not match: compare its ATTRS with "
            f"`udevadm info -a -n /dev/videoN`, then reload with {_UDEV_RELOAD}"
        )
    hints.append("stable names for each camera are also in /dev/v4l/by-id/ and /dev/v4l/by-path/")
    return hints


def _permission_problem(info: os.stat_result) -> str:
    try:
        group = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        group = str(info.st_gid)
    mode = stat.filemode(info.st_mode)
    return f"permission denied (it needs read and write access; owned by group '{group}', mode {mode})."


def _permission_hints(path: str) -> list[str]:
    return [
        "add your user to the `video` group: `sudo usermod -aG video $USER`, then log out and back in",
        'or grant access with a udev rule, e.g. /etc/udev/rules.d/99-so101-cameras.rules containing '
        f'`SUBSYSTEM=="video4linux", GROUP="video", MODE="0660"`, then {_UDEV_RELOAD}',
        f"in a container, pass the device through (`--device {os.path.realpath(path)}`) and `--group-add video`",
    ]
