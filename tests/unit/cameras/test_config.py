"""CameraConfig: defaults, normalisation and the messages bad configs get."""
from __future__ import annotations

from pathlib import Path

import pytest

from so101_hardware.cameras import CameraConfig, make_camera


def test_defaults_match_two_cameras_on_one_hub() -> None:
    config = CameraConfig(name="wrist")
    assert (config.source, config.device, config.width, config.height) == ("opencv", 0, 640, 480)
    assert (config.fps, config.fourcc) == (30.0, "MJPG")


def test_from_mapping_normalises_yaml_values(tmp_path: Path) -> None:
    config = CameraConfig.from_mapping(
        {"name": "front", "source": "file", "device": tmp_path / "a.avi", "fps": 15, "fourcc": None}
    )
    assert config.fps == 15.0 and isinstance(config.fps, float)
    assert config.device == str(tmp_path / "a.avi")
    assert config.fourcc is None


def test_from_mapping_names_unknown_keys() -> None:
    with pytest.raises(ValueError) as excinfo:
        CameraConfig.from_mapping({"name": "wrist", "fourc": "MJPG", "widht": 640})
    message = str(excinfo.value)
    assert "'wrist'" in message and "fourc, widht" in message and "fourcc" in message  # known keys are listed


def test_from_mapping_requires_a_name() -> None:
    with pytest.raises(ValueError, match="missing the required key 'name'"):
        CameraConfig.from_mapping({"device": 0})


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"name": "front-cam"}, "letters, digits and underscores"),
        ({"name": ""}, "letters, digits and underscores"),
        ({"source": "usb"}, "source must be one of opencv, synthetic, file"),
        ({"width": 0}, "width must be a positive integer"),
        ({"height": -480}, "height must be a positive integer"),
        ({"width": 640.0}, "width must be a positive integer"),
        ({"height": True}, "height must be a positive integer"),
        ({"fps": 0}, "fps must be a positive number"),
        ({"fps": float("nan")}, "fps must be a positive number"),
        ({"fps": "30"}, "fps must be a positive number"),
        ({"read_timeout_s": -1.0}, "read_timeout_s must be a positive number"),
        ({"reconnect_interval_s": 0}, "reconnect_interval_s must be a positive number"),
        ({"warmup_timeout_s": 0.0}, "warmup_timeout_s must be a positive number"),
        ({"fourcc": "MJPEG"}, "fourcc must be exactly 4 ASCII characters"),
        ({"fourcc": "MJ"}, "fourcc must be exactly 4 ASCII characters"),
        ({"loop": "yes"}, "loop must be true or false"),
        ({"device": -1}, "device must be a camera index"),
        ({"device": ""}, "device must be a camera index"),
        ({"device": True}, "device must be a camera index"),
        ({"device": 1.5}, "device must be a camera index"),
        ({"source": "file", "device": 0}, "device must be the video file path"),
    ],
)
def test_invalid_values_are_rejected_with_the_field_named(overrides: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        CameraConfig(**{"name": "wrist", **overrides})


def test_synthetic_source_needs_room_for_its_counter() -> None:
    with pytest.raises(ValueError, match="at least 256x8 pixels"):
        make_camera(CameraConfig(name="tiny", source="synthetic", width=128, height=96))
