"""The calibration the motors hold in EEPROM: read it, compare it with a file, write it.

An STS3215 applies Homing_Offset itself and clamps goals to Min/Max_Position_Limit, so the
numbers in a file only mean what they say if the motors hold the same ones. LeRobot compares
exactly these three registers on every connect (docs/reference/lerobot.md §3); drive_mode is not a servo
register. This module talks to any object with the bus operations below (ServoBus):
so101_hardware's FeetechBus has them, and so101_calibration does not import so101_hardware,
which depends on it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from so101_calibration.calibration import ArmCalibration, MotorCalibration
from so101_calibration.errors import CalibrationMismatchError
from so101_calibration.joints import SO101_JOINTS

REGISTER_OF_FIELD: Mapping[str, str] = {
    "homing_offset": "Homing_Offset",
    "range_min": "Min_Position_Limit",
    "range_max": "Max_Position_Limit",
}
"""Calibration field → STS3215 EEPROM register, in LeRobot's write order."""


class ServoBus(Protocol):
    """The bus operations calibration needs (so101_hardware.bus.FeetechBus provides them)."""

    def read(self, motor_id: int, name: str) -> int: ...

    def write(self, motor_id: int, name: str, value: int) -> None: ...

    def sync_read(self, name: str, motor_ids: Sequence[int]) -> dict[int, int]: ...

    def eeprom_unlocked(self, motor_ids: Iterable[int]) -> AbstractContextManager[None]:
        """Lock=0 inside the block so EEPROM writes persist, Lock=1 after; refuses with torque on."""
        ...


@dataclass(frozen=True)
class MotorRegisters:
    """One motor's calibration registers as the servo holds them (raw, not validated)."""

    homing_offset: int
    range_min: int
    range_max: int

    @classmethod
    def of(cls, motor: MotorCalibration) -> MotorRegisters:
        return cls(motor.homing_offset, motor.range_min, motor.range_max)


@dataclass(frozen=True)
class Mismatch:
    """One value that differs between a calibration file and a motor."""

    joint: str
    motor_id: int
    field: str
    file_value: int
    motor_value: int

    def __str__(self) -> str:
        return (
            f"{self.joint} (motor {self.motor_id}): {self.field} is {self.file_value} in the file, "
            f"but {REGISTER_OF_FIELD[self.field]} is {self.motor_value} in the motor"
        )


def read_motor_registers(bus: ServoBus) -> dict[str, MotorRegisters]:
    """Every joint's calibration registers, by joint name."""
    ids = [joint.motor_id for joint in SO101_JOINTS]
    columns = {field: bus.sync_read(register, ids) for field, register in REGISTER_OF_FIELD.items()}
    return {
        joint.name: MotorRegisters(**{field: values[joint.motor_id] for field, values in columns.items()})
        for joint in SO101_JOINTS
    }


def write_motor_registers(bus: ServoBus, registers: Mapping[str, MotorRegisters]) -> None:
    """Write the given joints' registers to EEPROM, unlocked for the writes and locked again after.

    Torque must be off (the bus refuses to unlock EEPROM otherwise).
    """
    ids = {joint.name: joint.motor_id for joint in SO101_JOINTS}
    with bus.eeprom_unlocked([ids[name] for name in registers]):
        for name, values in registers.items():
            for field, register in REGISTER_OF_FIELD.items():
                bus.write(ids[name], register, getattr(values, field))


def write_calibration_to_motors(bus: ServoBus, calibration: ArmCalibration) -> None:
    """Put a (validated) calibration into the motors' EEPROM, as LeRobot's write_calibration does."""
    write_motor_registers(bus, {name: MotorRegisters.of(motor) for name, motor in calibration.motors.items()})


def find_mismatches(calibration: ArmCalibration, registers: Mapping[str, MotorRegisters]) -> tuple[Mismatch, ...]:
    """Every calibration value the motors hold differently, in joint then LeRobot field order."""
    return tuple(
        Mismatch(name, motor.id, field, getattr(motor, field), getattr(registers[name], field))
        for name, motor in calibration.motors.items()
        for field in REGISTER_OF_FIELD
        if getattr(motor, field) != getattr(registers[name], field)
    )


def compare_with_motors(calibration: ArmCalibration, bus: ServoBus) -> tuple[Mismatch, ...]:
    """What differs between a calibration and the live motors (empty: they agree)."""
    return find_mismatches(calibration, read_motor_registers(bus))


def require_motors_match(calibration: ArmCalibration, bus: ServoBus, source: str) -> None:
    """Raise CalibrationMismatchError listing every difference; for nodes to call on connect.

    Never rewrites EEPROM itself (LeRobot's checklist: no silent rewrite on connect); the
    operator decides with so101-calibrate.
    """
    mismatches = compare_with_motors(calibration, bus)
    if mismatches:
        raise CalibrationMismatchError(source, mismatches)
