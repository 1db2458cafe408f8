"""LeRobot calibration files: read and written byte for byte, and every bad input named precisely."""
from __future__ import annotations

import json
import os

import pytest

from so101_calibration import (
    JOINT_NAMES,
    ArmCalibration,
    InvalidCalibrationError,
    MotorCalibration,
    format_calibration,
    parse_calibration,
    read_calibration_file,
    write_calibration_file,
)

LEROBOT_FILES = ("lerobot_0_4_4_so_follower.json", "lerobot_0_4_2_so101_leader.json")


# --- interchange with LeRobot ---------------------------------------------------------------------


@pytest.mark.parametrize("name", LEROBOT_FILES)
def test_lerobot_files_load_and_are_written_back_byte_for_byte(fixtures_dir, tmp_path, name):
    original = (fixtures_dir / name).read_bytes()
    calibration = read_calibration_file(fixtures_dir / name)
    target = tmp_path / name
    write_calibration_file(target, calibration)
    assert target.read_bytes() == original


def test_values_are_read_as_lerobot_wrote_them(fixtures_dir):
    calibration = read_calibration_file(fixtures_dir / "lerobot_0_4_4_so_follower.json")
    assert tuple(calibration) == JOINT_NAMES
    assert calibration["elbow_flex"] == MotorCalibration(
        id=3, drive_mode=0, homing_offset=-1947, range_min=870, range_max=3086
    )
    assert (calibration["wrist_roll"].range_min, calibration["wrist_roll"].range_max) == (0, 4095)


def test_lerobot_0_4_2_files_with_a_recorded_wrist_roll_range_load(fixtures_dir):
    calibration = read_calibration_file(fixtures_dir / "lerobot_0_4_2_so101_leader.json")
    assert (calibration["wrist_roll"].range_min, calibration["wrist_roll"].range_max) == (1012, 3090)


def test_files_we_write_load_in_lerobot(tmp_path, make_calibration, load_like_lerobot):
    calibration = make_calibration(gripper={"drive_mode": 1})
    write_calibration_file(tmp_path / "arm.json", calibration)
    loaded = load_like_lerobot(tmp_path / "arm.json")
    assert list(loaded) == list(JOINT_NAMES)
    assert {name: vars(motor) for name, motor in loaded.items()} == {
        name: vars(motor) for name, motor in calibration.motors.items()
    }


def test_motors_are_written_in_bus_order_whatever_order_they_were_read_in(fixtures_dir):
    payload = json.loads((fixtures_dir / "lerobot_0_4_4_so_follower.json").read_text())
    shuffled = json.dumps(dict(reversed(list(payload.items()))), indent=4)
    calibration = parse_calibration(shuffled, "shuffled.json")
    assert format_calibration(calibration) == (fixtures_dir / "lerobot_0_4_4_so_follower.json").read_text()


# --- atomic writes --------------------------------------------------------------------------------


def test_write_creates_folders_and_leaves_no_temporary_file(tmp_path, make_calibration):
    target = tmp_path / "robots" / "so_follower" / "arm.json"
    write_calibration_file(target, make_calibration())
    assert [p.name for p in target.parent.iterdir()] == ["arm.json"]


def test_a_failed_write_leaves_the_old_file_whole(tmp_path, make_calibration, monkeypatch):
    target = tmp_path / "arm.json"
    write_calibration_file(target, make_calibration())
    before = target.read_bytes()

    def disk_full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_calibration_file(target, make_calibration(elbow_flex={"range_min": 1000}))
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["arm.json"]


# --- bad input ------------------------------------------------------------------------------------


def _edit(payload: dict, motor: str, **fields) -> dict:
    payload[motor] = {**payload[motor], **fields}
    return payload


def _without(payload: dict, motor: str, field: str | None = None) -> dict:
    if field is None:
        del payload[motor]
    else:
        del payload[motor][field]
    return payload


BAD_PAYLOADS = {
    # name: (edit of a valid payload, motor named, field named, message)
    "missing motor": (lambda p: _without(p, "gripper"), None, None, r"missing motor\(s\) gripper"),
    "unknown motor": (lambda p: {**p, "elbow": p["elbow_flex"]}, None, None, r"unknown motor\(s\) 'elbow'"),
    "range_min equals range_max": (
        lambda p: _edit(p, "wrist_flex", range_min=2000, range_max=2000), "wrist_flex", "range_min", r"must be below"
    ),
    "range_min above range_max": (
        lambda p: _edit(p, "shoulder_lift", range_min=3000, range_max=1000), "shoulder_lift", "range_min", r"below"
    ),
    "homing offset beyond sign bit 11": (
        lambda p: _edit(p, "elbow_flex", homing_offset=2048), "elbow_flex", "homing_offset", r"sign bit 11.*±2047"
    ),
    "negative homing offset beyond sign bit 11": (
        lambda p: _edit(p, "gripper", homing_offset=-2114), "gripper", "homing_offset", r"-2114 does not fit"
    ),
    "duplicate ids": (lambda p: _edit(p, "wrist_flex", id=3), "wrist_flex", "id", r"duplicate id 3.*'elbow_flex'"),
    "id of another arm layout": (lambda p: _edit(p, "gripper", id=7), "gripper", "id", r"motor is id 6"),
    "missing field": (lambda p: _without(p, "shoulder_pan", "range_max"), "shoulder_pan", "range_max", r"is missing"),
    "unknown field": (lambda p: _edit(p, "gripper", offset=3), "gripper", "offset", r"not a calibration field"),
    "float value": (lambda p: _edit(p, "gripper", range_min=2030.5), "gripper", "range_min", r"must be an integer"),
    "boolean value": (lambda p: _edit(p, "gripper", drive_mode=True), "gripper", "drive_mode", r"must be an integer"),
    "string value": (lambda p: _edit(p, "gripper", id="6"), "gripper", "id", r"must be an integer"),
    "drive mode 2": (lambda p: _edit(p, "gripper", drive_mode=2), "gripper", "drive_mode", r"must be 0 or 1"),
    "range beyond the encoder": (lambda p: _edit(p, "gripper", range_max=4096), "gripper", "range_max", r"0\.\.4095"),
    "entry not an object": (lambda p: {**p, "gripper": [6, 0, 0, 0, 4095]}, "gripper", None, r"must be an object"),
    "top level not an object": (lambda p: list(p.values()), None, None, r"must be a JSON object"),
}


@pytest.mark.parametrize("case", BAD_PAYLOADS, ids=list(BAD_PAYLOADS))
def test_bad_values_name_the_file_motor_and_field(fixtures_dir, tmp_path, case):
    edit, motor, field, message = BAD_PAYLOADS[case]
    payload = edit(json.loads((fixtures_dir / "lerobot_0_4_4_so_follower.json").read_text()))
    path = tmp_path / "arm.json"
    path.write_text(json.dumps(payload, indent=4))
    with pytest.raises(InvalidCalibrationError, match=message) as caught:
        read_calibration_file(path)
    error = caught.value
    assert (error.source, error.motor, error.field) == (str(path), motor, field)
    assert str(error).startswith(f"{path}: ")
    if motor:
        assert f"motor {motor!r}" in str(error)
    if field:
        assert f"field {field!r}" in str(error)


@pytest.mark.parametrize(
    "text,message",
    [
        ('{\n    "shoulder_pan": {\n        "id": 1,\n', r"not valid JSON \(the file looks truncated\)"),
        ("", r"not valid JSON \(the file looks truncated\)"),
        ('{"shoulder_pan": {"id": 1,}}', r"not valid JSON: .* at line 1 column"),
    ],
    ids=["truncated", "empty", "malformed"],
)
def test_malformed_or_truncated_json_names_the_file_and_position(tmp_path, text, message):
    path = tmp_path / "arm.json"
    path.write_text(text)
    with pytest.raises(InvalidCalibrationError, match=message) as caught:
        read_calibration_file(path)
    assert caught.value.source == str(path)


def test_a_motor_or_field_given_twice_is_refused_not_silently_overwritten(fixtures_dir):
    text = (fixtures_dir / "lerobot_0_4_4_so_follower.json").read_text()
    twice_motor = text.replace('    "gripper"', '    "elbow_flex": {"id": 3, "drive_mode": 0, "homing_offset": 0, '
                               '"range_min": 1, "range_max": 2},\n    "gripper"')
    with pytest.raises(InvalidCalibrationError, match="motor 'elbow_flex': is listed more than once"):
        parse_calibration(twice_motor, "twice.json")
    twice_field = text.replace('"range_max": 3420', '"range_max": 3420, "range_min": 0')
    with pytest.raises(InvalidCalibrationError, match="motor 'gripper', field 'range_min': appears more than once"):
        parse_calibration(twice_field, "twice.json")


def test_the_legacy_2024_array_format_is_recognised(fixtures_dir):
    with pytest.raises(InvalidCalibrationError, match=r"legacy \(2024, lerobot 0\.1\).*lerobot#930"):
        read_calibration_file(fixtures_dir / "lerobot_0_1_legacy.json")


def test_unreadable_files_are_reported_with_their_path(tmp_path):
    with pytest.raises(InvalidCalibrationError, match=r"missing\.json: cannot be read: No such file"):
        read_calibration_file(tmp_path / "missing.json")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InvalidCalibrationError, match=r"binary\.json: is not a text \(UTF-8\) file"):
        read_calibration_file(binary)


def test_calibrations_built_in_code_are_validated_too(make_calibration):
    motors = dict(make_calibration().motors)
    motors["gripper"] = MotorCalibration(id=6, drive_mode=0, homing_offset=0, range_min=10, range_max=5)
    with pytest.raises(InvalidCalibrationError, match="motor 'gripper', field 'range_min'"):
        ArmCalibration(motors)
