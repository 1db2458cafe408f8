"""Bad input: every way a camera fails to open gives one clear message and leaves nothing running."""
from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Callable

import pytest

from so101_hardware.cameras import (
    CameraConfig,
    CameraOpenError,
    CameraStreamEndedError,
    CameraTimeoutError,
    ThreadedCamera,
    make_camera,
)

pytestmark = pytest.mark.timeout(30)
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux device checks")


def failed_start(camera: ThreadedCamera, error: type[Exception] = CameraOpenError) -> str:
    """Start ``camera``, expect ``error``, check nothing was left half-running; return the message."""
    with pytest.raises(error) as excinfo:
        camera.start()
    exc = excinfo.value
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__), "no chained traceback"
    assert not camera.is_running
    camera.stop()  # harmless after a failed start
    return str(excinfo.value)


def opencv_camera(device: int | str) -> ThreadedCamera:
    return make_camera(CameraConfig(name="wrist", device=device))


def file_camera(path: Path, **overrides: object) -> ThreadedCamera:
    return make_camera(CameraConfig(name="replay", source="file", device=str(path), width=320, height=240, **overrides))


def test_missing_video_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.avi"
    message = failed_start(file_camera(missing))
    assert str(missing) in message and "does not exist" in message and "check `device`" in message


def test_directory_as_video_file(tmp_path: Path) -> None:
    message = failed_start(file_camera(tmp_path))
    assert str(tmp_path) in message and "a directory, not a video file" in message


def test_text_file_as_video_file(tmp_path: Path) -> None:
    text = tmp_path / "notes.avi"
    text.write_text("not a video\n")
    message = failed_start(file_camera(text))
    assert str(text) in message and "cannot decode" in message and "ffprobe" in message


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files regardless of permissions")
def test_unreadable_video_file(write_video: Callable[..., Path]) -> None:
    clip = write_video(range(3))
    clip.chmod(0)
    message = failed_start(file_camera(clip))
    assert str(clip) in message and "permission denied" in message and "chmod a+r" in message


def test_a_start_that_failed_can_be_retried_once_fixed(tmp_path: Path, write_video: Callable[..., Path]) -> None:
    camera = file_camera(tmp_path / "clip.avi")
    failed_start(camera)
    write_video(range(3), name="clip.avi")
    with camera:
        assert camera.stats.frames_captured >= 1 and camera.stats.connected


@linux_only
@pytest.mark.parametrize("device", ["/dev/video99", 99])
def test_missing_camera_device(device: int | str) -> None:
    message = failed_start(opencv_camera(device))
    assert "/dev/video99" in message and "does not exist" in message
    assert "video devices present now" in message or "no /dev/video* devices exist" in message
    assert "v4l2-ctl --list-devices" in message


@linux_only
def test_udev_name_that_did_not_match(tmp_path: Path) -> None:
    udev_name = tmp_path / "so101_cam_wrist"
    message = failed_start(opencv_camera(str(udev_name)))
    assert str(udev_name) in message and "the rule did not match" in message and "udevadm" in message


@linux_only
def test_udev_symlink_whose_camera_was_unplugged(tmp_path: Path) -> None:
    udev_name = tmp_path / "so101_cam_front"
    udev_name.symlink_to(tmp_path / "video42")
    message = failed_start(opencv_camera(str(udev_name)))
    assert f"{udev_name} (-> {tmp_path / 'video42'})" in message and "unplugged" in message


@linux_only
def test_regular_file_as_camera(tmp_path: Path) -> None:
    text = tmp_path / "camera.txt"
    text.write_text("not a camera\n")
    message = failed_start(opencv_camera(str(text)))
    assert str(text) in message and "not a video device" in message and "source: file" in message


@linux_only
def test_non_video_character_device_as_camera() -> None:
    message = failed_start(opencv_camera("/dev/null"))
    assert "/dev/null" in message and "not a video4linux one" in message


@linux_only
@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="creating a device node needs root")
def test_video_node_that_opencv_cannot_open(tmp_path: Path) -> None:
    # A real video4linux node (major 81) with no camera behind it: it passes every check, then
    # the open fails as for a busy camera or a metadata-only node. Minor 250 is far above the
    # nodes a machine with a few cameras has, so no real camera is touched.
    node = tmp_path / "video250"
    try:
        os.mknod(node, stat.S_IFCHR | 0o660, os.makedev(81, 250))
    except PermissionError:
        pytest.skip("this container may not create device nodes")
    message = failed_start(opencv_camera(str(node)))
    assert str(node) in message and "OpenCV could not open it" in message
    assert f"fuser -v {node}" in message and "try the other one" in message


def test_file_without_frames_times_out_in_warmup(write_video: Callable[..., Path]) -> None:
    # A valid container with no frames opens fine, then never yields one: start() must give up
    # after warmup_timeout_s, say why, and clean up.
    empty = write_video([])
    message = failed_start(file_camera(empty, warmup_timeout_s=0.3), CameraTimeoutError)
    assert "no frame within 0.3 s" in message and "last error: read returned no frame" in message


def test_file_without_frames_and_no_loop_ends_before_the_first_frame(write_video: Callable[..., Path]) -> None:
    empty = write_video([])
    message = failed_start(file_camera(empty, loop=False), CameraStreamEndedError)
    assert "ended before its first frame" in message
