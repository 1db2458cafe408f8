"""A protocol-accurate STS3215 servo bus on a Linux pseudo-terminal.

Drivers, hardware-in-the-loop tests, benchmarks and the unmodified PyPI feetech-servo-sdk open
`BusEmulator.port` as if it were the SO-101's USB-serial adapter. Module map: `config` (what to
emulate), `servo` (control table and firmware rules), `joint`/`physics`/`trajectory` (how the
shaft moves), `dispatch` (instructions → replies), `timing` (wire time, client baud), `faults`,
`reader` (framing), `pty_port` (the pty and its link), `bus_emulator` (the serving thread), `cli`.
"""
from so101_hardware.emulator.bus_emulator import BusEmulator
from so101_hardware.emulator.config import EmulatorConfig, FaultConfig, Role
from so101_hardware.emulator.physics import MotorModel
from so101_hardware.emulator.pty_port import LinkError
from so101_hardware.emulator.records import EmulatorStats, GoalRecord, PositionRecord
from so101_hardware.emulator.servo import EmulatedServo
from so101_hardware.emulator.trajectory import Waypoint

__all__ = [
    "BusEmulator",
    "EmulatedServo",
    "EmulatorConfig",
    "EmulatorStats",
    "FaultConfig",
    "GoalRecord",
    "PositionRecord",
    "LinkError",
    "MotorModel",
    "Role",
    "Waypoint",
]
