"""LeRobot's calibration JSON, read and written byte for byte as LeRobot does.

LeRobot writes `draccus.dump(calibration, f, indent=4)`, which is `json.dump(..., indent=4)` of
{motor: {id, drive_mode, homing_offset, range_min, range_max}} in bus order, with no trailing
newline; it loads with `draccus.load(dict[str, MotorCalibration], f)`, which rejects unknown and
missing fields (docs/reference/lerobot.md §2). Writing the same text means an operator can switch between
LeRobot and this stack without recalibrating, and a file diff shows only real changes.

Parsing is stricter than LeRobot where LeRobot would fail later or silently (duplicate keys,
floats, out-of-range values): every problem names the file, the motor and the field.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from so101_calibration.calibration import CALIBRATION_FIELDS, ArmCalibration, MotorCalibration
from so101_calibration.errors import InvalidCalibrationError

_LEGACY_KEYS = frozenset({"motor_names", "start_pos", "end_pos", "calib_mode"})


def format_calibration(calibration: ArmCalibration) -> str:
    """The file text LeRobot would write for this calibration."""
    payload = {
        name: {field: getattr(motor, field) for field in CALIBRATION_FIELDS}
        for name, motor in calibration.motors.items()
    }
    return json.dumps(payload, indent=4)


def parse_calibration(text: str, source: str | Path) -> ArmCalibration:
    """Parse a LeRobot calibration file's text; InvalidCalibrationError names `source`, motor and field."""
    try:
        payload = json.loads(text, object_pairs_hook=_JsonObject.from_pairs)
    except json.JSONDecodeError as exc:
        hint = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) else ""
        raise InvalidCalibrationError(
            f"not valid JSON{hint}: {exc.msg} at line {exc.lineno} column {exc.colno}", source=str(source)
        ) from None
    try:
        return ArmCalibration(_motors_from_payload(payload))
    except InvalidCalibrationError as exc:
        raise exc.with_source(source) from None


def read_calibration_file(path: str | Path) -> ArmCalibration:
    """Read and validate one calibration file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidCalibrationError("is not a text (UTF-8) file", source=str(path)) from None
    except OSError as exc:
        raise InvalidCalibrationError(f"cannot be read: {exc.strerror or exc}", source=str(path)) from None
    return parse_calibration(text, path)


def write_calibration_file(path: str | Path, calibration: ArmCalibration) -> None:
    """Write atomically: a reader (or a crash, or Ctrl-C) sees the old file or the new one, never half.

    The text goes to a temporary file beside the target, is flushed to disk, then renamed over it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8") as stream:
            stream.write(format_calibration(calibration))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class _JsonObject(dict):
    """A JSON object that remembers keys given twice (json keeps only the last, silently)."""

    duplicates: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, Any]]) -> _JsonObject:
        obj = cls(pairs)
        keys = [key for key, _ in pairs]
        obj.duplicates = tuple(sorted({key for key in keys if keys.count(key) > 1}))
        return obj


def _motors_from_payload(payload: Any) -> dict[str, MotorCalibration]:
    if not isinstance(payload, dict):
        raise InvalidCalibrationError(f"must be a JSON object of motors, got {type(payload).__name__}")
    if payload.duplicates:
        raise InvalidCalibrationError("is listed more than once", motor=payload.duplicates[0])
    if _LEGACY_KEYS & payload.keys():
        raise InvalidCalibrationError(
            "is a legacy (2024, lerobot 0.1) calibration with per-field arrays; that format is not compatible "
            "(huggingface/lerobot#930). Recalibrate with so101-calibrate."
        )
    return {name: _motor_from_entry(name, entry) for name, entry in payload.items()}


def _motor_from_entry(name: str, entry: Any) -> MotorCalibration:
    if not isinstance(entry, dict):
        raise InvalidCalibrationError(f"must be an object with {', '.join(CALIBRATION_FIELDS)}", motor=name)
    if entry.duplicates:
        raise InvalidCalibrationError("appears more than once", motor=name, field=entry.duplicates[0])
    for field in CALIBRATION_FIELDS:
        if field not in entry:
            raise InvalidCalibrationError("is missing", motor=name, field=field)
    for field in entry:
        if field not in CALIBRATION_FIELDS:
            raise InvalidCalibrationError(
                f"is not a calibration field (LeRobot accepts only {', '.join(CALIBRATION_FIELDS)})",
                motor=name,
                field=field,
            )
    return MotorCalibration(**entry)
