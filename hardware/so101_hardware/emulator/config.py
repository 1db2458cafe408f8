"""Configuration of an emulated servo bus: which servos, how they behave, which faults to inject.

Kept as plain dataclasses so tests, benchmarks and the CLI describe a bus the same way, and a
config can be reused for several emulators (each emulator copies the fault settings it mutates).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from so101_hardware.control_table import BAUD_INDEX_BY_RATE, STS3215_RESOLUTION
from so101_hardware.emulator.physics import MotorModel
from so101_hardware.sts_protocol import BROADCAST_ID

Role = Literal["follower", "leader"]
ROLES: tuple[Role, ...] = ("follower", "leader")


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in 0..1, got {value}")


@dataclass
class FaultConfig:
    """Injected faults. Mutable on purpose: `BusEmulator.faults` is read on every reply.

    Rates are per status packet (one servo's answer). `error_bits` maps a motor id to the ERR
    byte it reports (and its Status register); 0x80 and above make the PyPI SDK reject the reply.
    `reorder_sync_read_rate` shuffles the answers of one SYNC_READ, which breaks order-dependent
    parsers such as the PyPI SDK's (docs/reference/feetech-sts.md §10).

    `power_cycle_at_s` lists brown-outs: seconds after start() at which every servo is switched
    off and on (RAM back to its power-up values, torque off; EEPROM keeps offsets and limits,
    docs/reference/feetech-sts.md §7). `stalls` maps a motor id to an encoder tick (actual, before
    Homing_Offset) its shaft cannot pass, like an object closed on by the gripper: the position
    loop pushes against it, the load climbs, and the servo's own overload protection trips after
    Protection_Time above Overload_Torque (follower buses only; a leader's shaft is the hand's).
    """

    drop_reply_rate: float = 0.0
    corrupt_checksum_rate: float = 0.0
    latency_spike_rate: float = 0.0
    latency_spike_s: float = 0.05
    error_bits: dict[int, int] = field(default_factory=dict)
    reorder_sync_read_rate: float = 0.0
    power_cycle_at_s: tuple[float, ...] = ()
    stalls: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.power_cycle_at_s = tuple(sorted(float(t) for t in self.power_cycle_at_s))
        for name in ("drop_reply_rate", "corrupt_checksum_rate", "latency_spike_rate", "reorder_sync_read_rate"):
            _check_rate(name, getattr(self, name))
        if self.latency_spike_s < 0:
            raise ValueError(f"latency_spike_s must be >= 0, got {self.latency_spike_s}")
        for motor_id, bits in self.error_bits.items():
            if not 0 <= bits <= 0xFF:
                raise ValueError(f"error bits for motor {motor_id} must fit in one byte, got {bits:#x}")
        if any(not (math.isfinite(t) and t >= 0) for t in self.power_cycle_at_s):
            raise ValueError(f"power_cycle_at_s must be finite times >= 0 s, got {self.power_cycle_at_s}")
        for motor_id, ticks in self.stalls.items():
            if not 0 <= ticks < STS3215_RESOLUTION:
                raise ValueError(f"stall position {ticks} of motor {motor_id} outside 0..{STS3215_RESOLUTION - 1}")

    def copy(self) -> FaultConfig:
        """An independent copy (the error-bit and stall maps are not shared)."""
        return replace(self, error_bits=dict(self.error_bits), stalls=dict(self.stalls))


@dataclass(frozen=True)
class EmulatorConfig:
    """One emulated bus.

    ids:               the servos on the bus; they also name the servos in the emulator's API
                       (a servo keeps its identity when its ID register is changed over the bus).
    baudrate:          the servos' initial Baud_Rate register is set to match (one of Feetech's rates).
    uart_timing:       delay each reply until request and reply bytes would have crossed a real
                       wire at the servo's baud (10 bit times per byte) plus Return_Delay_Time × 2 µs.
    role:              "follower" servos track Goal_Position under torque; "leader" servos are
                       back-driven by a scripted human (or by `set_leader_positions`).
    link:              optional symlink path to the pty slave, created on start, removed on stop.
    seed:              seeds faults, the leader trajectory and sensor noise, for repeatable runs.
    initial_positions: actual encoder ticks per motor id; default is a seeded rest pose near mid-range.
    calibration:       a LeRobot calibration file whose homing offsets and position limits the
                       servos hold in EEPROM from the start, as on an arm calibrated with it.
    motor:             the physical model's constants (speed, acceleration, heat, supply).
    goal_log_limit:    how many GoalRecords are kept (oldest dropped) so a long-running bus has
                       bounded memory; 100 000 is several minutes of a 100 Hz, 6-motor loop.
    position_log_limit: how many PositionRecords are kept (oldest dropped); 0, the default, keeps none.
    """

    ids: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
    baudrate: int = 1_000_000
    uart_timing: bool = True
    role: Role = "follower"
    link: str | None = None
    seed: int = 0
    initial_positions: Mapping[int, int] | None = None
    calibration: str | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)
    motor: MotorModel = field(default_factory=MotorModel)
    goal_log_limit: int = 100_000
    position_log_limit: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", tuple(self.ids))
        if not self.ids:
            raise ValueError("an emulated bus needs at least one servo id")
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f"servo ids must be unique, got {self.ids}")
        for motor_id in self.ids:
            if not 0 <= motor_id < BROADCAST_ID:
                raise ValueError(f"servo id {motor_id} outside 0..{BROADCAST_ID - 1}")
        if self.baudrate not in BAUD_INDEX_BY_RATE:
            rates = ", ".join(str(r) for r in sorted(BAUD_INDEX_BY_RATE))
            raise ValueError(f"baudrate {self.baudrate} is not an STS3215 rate ({rates})")
        if self.goal_log_limit < 1:
            raise ValueError(f"goal_log_limit must be >= 1, got {self.goal_log_limit}")
        if self.position_log_limit < 0:
            raise ValueError(f"position_log_limit must be >= 0, got {self.position_log_limit}")
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {self.role!r}")
        for what, motors in (("error bits", self.faults.error_bits), ("a stall", self.faults.stalls)):
            for motor_id in motors:
                if motor_id not in self.ids:
                    raise ValueError(f"{what} given for motor {motor_id}, which is not in ids {self.ids}")
        if self.faults.stalls and self.role != "follower":
            raise ValueError("stalls need a follower bus: a leader's shaft is moved by the hand, not its motor")
        for motor_id, ticks in (self.initial_positions or {}).items():
            if motor_id not in self.ids:
                raise ValueError(f"initial position given for motor {motor_id}, which is not in ids {self.ids}")
            if not 0 <= ticks < STS3215_RESOLUTION:
                raise ValueError(f"initial position {ticks} of motor {motor_id} outside 0..{STS3215_RESOLUTION - 1}")
