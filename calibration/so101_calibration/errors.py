"""Calibration errors that name the file, the motor and the field, so an operator can fix the file.

A wrong calibration moves a real arm somewhere unexpected, so every problem is an error, never a
warning, and the message says what to do. All of them derive from CalibrationError, which the
wizard and the ROS nodes catch to print just the message.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class CalibrationError(Exception):
    """Base of every calibration problem."""


class InvalidCalibrationError(CalibrationError):
    """Calibration values break a rule (format, range, servo capacity).

    `source` is the file (or "<wizard>"), `motor` the joint name, `field` the JSON field; each
    is None when the problem is not specific to it.
    """

    def __init__(self, detail: str, *, motor: str | None = None, field: str | None = None, source: str | None = None):
        self.detail = detail
        self.motor = motor
        self.field = field
        self.source = source
        where = [f"motor {motor!r}"] if motor else []
        where += [f"field {field!r}"] if field else []
        prefix = f"{source}: " if source else ""
        super().__init__(prefix + (", ".join(where) + ": " if where else "") + detail)

    def with_source(self, source: str | Path) -> InvalidCalibrationError:
        """The same error, now naming the file it came from."""
        return InvalidCalibrationError(self.detail, motor=self.motor, field=self.field, source=str(source))


class WrongCalibrationError(CalibrationError):
    """A well-formed file that belongs to another role or another arm."""


class AmbiguousCalibrationError(CalibrationError):
    """Two different files claim to be the same arm's calibration (both LeRobot folder names)."""


class CalibrationNotFoundError(CalibrationError):
    """No calibration file where LeRobot (either version) would have put it."""

    def __init__(self, description: str, searched: Sequence[Path], hint: str = ""):
        self.searched = tuple(searched)
        places = "\n".join(f"  {path}" for path in self.searched)
        advice = hint or "Calibrate the arm with so101-calibrate, or pass the file's path explicitly."
        super().__init__(f"no calibration for {description}; looked for:\n{places}\n{advice}")


class CalibrationMismatchError(CalibrationError):
    """The motors' EEPROM does not hold the calibration in the file."""

    def __init__(self, source: str, mismatches: Sequence[object]):
        self.mismatches = tuple(mismatches)
        lines = "\n".join(f"  {m}" for m in self.mismatches)
        super().__init__(
            f"the motors do not hold the calibration in {source}:\n{lines}\n"
            "Write the file to the motors with so101-calibrate (press Enter to keep the file), or recalibrate."
        )
