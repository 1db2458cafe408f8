"""The STS3215 control table: every register by LeRobot's name, with address, size and area.

One table serves the driver (read/write by name, sign handling) and the emulator (memory layout,
EEPROM/RAM and read-only semantics, defaults), from docs/reference/feetech-sts.md §7.
Defaults are what a factory-fresh STS3215 reports; where the reference marks a value as
uncertain the emulator uses the value LeRobot's code assumes.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from so101_hardware import sts_protocol

STS3215_MODEL_NUMBER = 777
STS3215_RESOLUTION = 4096  # ticks per turn
MEMORY_SIZE = 87  # addresses 0..86

BAUD_RATE_BY_INDEX: dict[int, int] = {
    0: 1_000_000,
    1: 500_000,
    2: 250_000,
    3: 128_000,
    4: 115_200,
    5: 76_800,  # Feetech's table; LeRobot's 57_600 for 5..7 is off by one row (docs/reference/feetech-sts.md §8)
    6: 57_600,
    7: 38_400,
}
BAUD_INDEX_BY_RATE = {rate: index for index, rate in BAUD_RATE_BY_INDEX.items()}


class Area(Enum):
    EEPROM = "eeprom"  # persistent; writable only while Lock = 0
    EEPROM_READ_ONLY = "eeprom-ro"
    RAM = "ram"  # control registers, lost at power-off
    FEEDBACK = "feedback"  # read-only measurements
    FACTORY = "factory"


@dataclass(frozen=True)
class Register:
    name: str
    address: int
    size: int
    area: Area
    sign_bit: int | None = None  # sign-magnitude bit for signed registers
    default: int = 0

    @property
    def writable(self) -> bool:
        return self.area in (Area.EEPROM, Area.RAM, Area.FACTORY)

    @property
    def persistent(self) -> bool:
        return self.area is Area.EEPROM

    def encode(self, value: int) -> bytes:
        """Value → wire bytes (sign-magnitude where the register is signed)."""
        if self.sign_bit is not None:
            raw = sts_protocol.encode_sign_magnitude(value, self.sign_bit)
        else:
            if not 0 <= value < 1 << (8 * self.size):
                raise ValueError(f"{self.name}: {value} does not fit in {self.size} unsigned byte(s)")
            raw = value
        return sts_protocol.to_bytes(raw, self.size)

    def decode(self, data: bytes) -> int:
        """Wire bytes → value."""
        raw = sts_protocol.from_bytes(data)
        return sts_protocol.decode_sign_magnitude(raw, self.sign_bit) if self.sign_bit is not None else raw


_E, _ERO, _R, _F, _X = Area.EEPROM, Area.EEPROM_READ_ONLY, Area.RAM, Area.FEEDBACK, Area.FACTORY

_REGISTERS: tuple[Register, ...] = (
    Register("Firmware_Major_Version", 0, 1, _ERO, default=3),
    Register("Firmware_Minor_Version", 1, 1, _ERO, default=10),
    Register("Model_Number", 3, 2, _ERO, default=STS3215_MODEL_NUMBER),
    Register("ID", 5, 1, _E, default=1),
    Register("Baud_Rate", 6, 1, _E, default=0),
    Register("Return_Delay_Time", 7, 1, _E, default=0),
    Register("Response_Status_Level", 8, 1, _E, default=1),
    Register("Min_Position_Limit", 9, 2, _E, default=0),
    Register("Max_Position_Limit", 11, 2, _E, default=4095),
    Register("Max_Temperature_Limit", 13, 1, _E, default=70),
    Register("Max_Voltage_Limit", 14, 1, _E, default=140),
    Register("Min_Voltage_Limit", 15, 1, _E, default=40),
    Register("Max_Torque_Limit", 16, 2, _E, default=1000),
    Register("Phase", 18, 1, _E, default=12),
    Register("Unloading_Condition", 19, 1, _E, default=44),
    Register("LED_Alarm_Condition", 20, 1, _E, default=47),
    Register("P_Coefficient", 21, 1, _E, default=32),
    Register("D_Coefficient", 22, 1, _E, default=32),
    Register("I_Coefficient", 23, 1, _E, default=0),
    Register("Minimum_Startup_Force", 24, 2, _E, default=16),
    Register("CW_Dead_Zone", 26, 1, _E, default=1),
    Register("CCW_Dead_Zone", 27, 1, _E, default=1),
    Register("Protection_Current", 28, 2, _E, default=511),
    Register("Angular_Resolution", 30, 1, _E, default=1),
    Register("Homing_Offset", 31, 2, _E, sign_bit=11, default=0),
    Register("Operating_Mode", 33, 1, _E, default=0),
    Register("Protective_Torque", 34, 1, _E, default=20),
    Register("Protection_Time", 35, 1, _E, default=200),
    Register("Overload_Torque", 36, 1, _E, default=80),
    Register("Velocity_closed_loop_P_proportional_coefficient", 37, 1, _E, default=10),
    Register("Over_Current_Protection_Time", 38, 1, _E, default=200),
    Register("Velocity_closed_loop_I_integral_coefficient", 39, 1, _E, default=200),
    Register("Torque_Enable", 40, 1, _R, default=0),
    Register("Acceleration", 41, 1, _R, default=0),
    Register("Goal_Position", 42, 2, _R, sign_bit=15),
    Register("Goal_Time", 44, 2, _R, sign_bit=10),
    Register("Goal_Velocity", 46, 2, _R, sign_bit=15),
    Register("Torque_Limit", 48, 2, _R, default=1000),
    Register("Lock", 55, 1, _R, default=1),
    Register("Present_Position", 56, 2, _F, sign_bit=15),
    Register("Present_Velocity", 58, 2, _F, sign_bit=15),
    Register("Present_Load", 60, 2, _F, sign_bit=10),
    Register("Present_Voltage", 62, 1, _F, default=120),
    Register("Present_Temperature", 63, 1, _F, default=30),
    Register("Status", 65, 1, _F),
    Register("Moving", 66, 1, _F),
    Register("Present_Current", 69, 2, _F),
    Register("Moving_Velocity", 80, 1, _X, default=40),
    Register("Maximum_Acceleration", 85, 1, _X, default=150),
)

REGISTERS: dict[str, Register] = {r.name: r for r in _REGISTERS}
REGISTER_AT: dict[int, Register] = {r.address: r for r in _REGISTERS}


def register(name: str) -> Register:
    """Look a register up by LeRobot's name; the error lists close names to catch typos."""
    try:
        return REGISTERS[name]
    except KeyError:
        close = [n for n in REGISTERS if name.lower().split("_")[0] in n.lower()]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise KeyError(f"unknown STS3215 register {name!r}{hint}") from None


def default_memory() -> bytearray:
    """The 87-byte control table of a factory-fresh servo (used by the emulator)."""
    memory = bytearray(MEMORY_SIZE)
    for reg in _REGISTERS:
        memory[reg.address : reg.address + reg.size] = reg.encode(reg.default)
    return memory
