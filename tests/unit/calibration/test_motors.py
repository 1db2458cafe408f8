"""The calibration in the motors' EEPROM, through the real bus driver on an emulated bus."""
from __future__ import annotations

import pytest

from so101_calibration import (
    CalibrationMismatchError,
    MotorRegisters,
    compare_with_motors,
    read_motor_registers,
    require_motors_match,
    write_calibration_to_motors,
)
from so101_hardware.bus import BusConfig, FeetechBus
from so101_hardware.errors import MotorError

EEPROM = slice(0, 40)


@pytest.fixture
def emulator(make_emulator):
    return make_emulator(role="leader")


@pytest.fixture
def bus(emulator):
    with FeetechBus(BusConfig(emulator.port)) as bus:
        yield bus


def _eeproms(emulator) -> dict[int, bytes]:
    return {i: emulator.servo(i).memory[EEPROM] for i in emulator.config.ids}


@pytest.mark.timeout(30)
def test_a_factory_arm_reads_as_uncalibrated(bus):
    assert set(read_motor_registers(bus).values()) == {MotorRegisters(homing_offset=0, range_min=0, range_max=4095)}


@pytest.mark.timeout(30)
def test_written_calibration_matches_persists_and_leaves_eeprom_locked(emulator, bus, make_calibration):
    calibration = make_calibration()
    write_calibration_to_motors(bus, calibration)
    assert compare_with_motors(calibration, bus) == ()
    emulator.power_cycle()
    assert compare_with_motors(calibration, bus) == ()
    elbow = emulator.servo(3)
    assert elbow.read_register("Homing_Offset") == calibration["elbow_flex"].homing_offset
    assert all(emulator.servo(i).read_register("Lock") == 1 for i in emulator.config.ids)


@pytest.mark.timeout(30)
def test_each_difference_is_named(emulator, bus, make_calibration):
    calibration = make_calibration()
    write_calibration_to_motors(bus, calibration)
    emulator.servo(4).write_register("Lock", 0)
    emulator.servo(4).write_register("Min_Position_Limit", 1234)
    emulator.servo(6).write_register("Homing_Offset", -5)
    mismatches = compare_with_motors(calibration, bus)
    assert [str(m) for m in mismatches] == [
        f"wrist_flex (motor 4): range_min is {calibration['wrist_flex'].range_min} in the file, "
        "but Min_Position_Limit is 1234 in the motor",
        f"gripper (motor 6): homing_offset is {calibration['gripper'].homing_offset} in the file, "
        "but Homing_Offset is -5 in the motor",
    ]
    with pytest.raises(CalibrationMismatchError, match=r"(?s)arm\.json.*wrist_flex.*gripper.*so101-calibrate") as error:
        require_motors_match(calibration, bus, "arm.json")
    assert error.value.mismatches == mismatches


@pytest.mark.timeout(30)
def test_nothing_is_written_to_a_motor_holding_torque(emulator, bus, make_calibration):
    emulator.servo(2).write_register("Torque_Enable", 1)
    before = _eeproms(emulator)
    with pytest.raises(MotorError, match="torque on"):
        write_calibration_to_motors(bus, make_calibration())
    assert _eeproms(emulator) == before
