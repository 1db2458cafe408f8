"""One emulated STS3215: its control table and how the firmware reacts to register writes.

Rules (docs/reference/feetech-sts.md §5, §7; where the reference is silent, the choice is documented here):
- Memory is control_table.default_memory() (87 bytes, model 777). Reads past address 86 return
  zeros, so a READ always carries the requested byte count.
- Writes to bytes that belong to no register, or to read-only registers (firmware version,
  model number, feedback), are ignored byte by byte; the rest of the write still lands and the
  servo still replies.
- EEPROM writes take effect at once. They persist across a power cycle only when Lock (55)
  was 0 before the write. Factory-area bytes (80..86) live in the same flash and persist the same way.
- ID and Baud_Rate changes take effect at once (the reply to that WRITE still carries the id it
  was addressed to, so the SDK accepts it).
- Goal_Position is clamped into [Min_Position_Limit, Max_Position_Limit] when min < max; other
  limit pairs (e.g. 0/0, multi-turn set-ups) do not clamp. The clamped value is what the
  register then holds. Goals are in the homed frame: actual = goal + Homing_Offset.
- Present_Position = (actual − Homing_Offset) mod 4096. The position loop moves in the homed
  frame without crossing its 0/4095 seam, as a limited position-mode servo does.
- Torque_Enable = 128 sets Homing_Offset so the current position reads 2048, sets the goal
  there and restores the previous torque state. Only value 1 produces holding torque, and only
  in Operating_Mode 0 (position); other modes are not modelled.
- At power-up Goal_Position equals Present_Position; it does not follow the shaft while torque
  is off, so enabling torque after moving the arm by hand jumps back — as on the real servo,
  which is why drivers seed goals from a fresh read first.
- An injected error bit that Unloading_Condition (19) enables (default: overheat, over-current,
  overload) cuts the holding torque, as the firmware's protection does; the registers keep their values.
- Overload protection: a load above Overload_Torque (36, %) for Protection_Time (35, 10 ms units)
  sets the overload bit and cuts the torque (under the same Unloading_Condition rule). Writing
  Torque_Enable or a power cycle clears it ("free the joint, then disable and re-enable torque").
- A stall (FaultConfig.stalls) is an obstacle at an actual encoder tick: the shaft cannot cross it
  from the side it was on when the stall appeared (from neither side if it was right on it).
- A REG_WRITE is buffered (address 64, the async-write flag, reads 1) until ACTION applies it.
"""
from __future__ import annotations

import random
import threading
from collections.abc import Callable

from so101_hardware.control_table import (
    BAUD_INDEX_BY_RATE,
    BAUD_RATE_BY_INDEX,
    MEMORY_SIZE,
    REGISTERS,
    STS3215_RESOLUTION,
    Area,
    Register,
    default_memory,
    register,
)
from so101_hardware.emulator.joint import Drive, Joint
from so101_hardware.emulator.physics import MotorModel, current_units, load_permille, temperature_after
from so101_hardware.emulator.records import GoalRecord
from so101_hardware.sts_protocol import ServoErrorBits

_OWNER: dict[int, Register] = {
    address: reg for reg in REGISTERS.values() for address in range(reg.address, reg.address + reg.size)
}
_PERSISTENT_AREAS = (Area.EEPROM, Area.FACTORY)
_PERSISTENT_ADDRESSES = frozenset(address for address, reg in _OWNER.items() if reg.area in _PERSISTENT_AREAS)
_ASYNC_WRITE_FLAG = 64  # reads 1 while a REG_WRITE waits for ACTION (docs/reference/feetech-sts.md §7, [doc])
_ID = register("ID").address
_BAUD_RATE = register("Baud_Rate").address
_RETURN_DELAY = register("Return_Delay_Time").address
_STATUS_LEVEL = register("Response_Status_Level").address
_TORQUE_ENABLE = register("Torque_Enable").address
_LOCK = register("Lock").address
_MID_POSITION = STS3215_RESOLUTION // 2
_HOMING = register("Homing_Offset")
_HOMING_LIMIT = 2047
"""Largest Homing_Offset magnitude: sign-magnitude with the sign in bit 11 (docs/reference/feetech-sts.md §5)."""
_TORQUE_ON = 1
_CALIBRATE_MIDPOINT = 128
_POSITION_MODE = 0
_RETURN_DELAY_UNIT_S = 2e-6
_PROTECTION_TIME_UNIT_S = 0.01
_PERCENT_TO_PERMILLE = 10


class EmulatedServo:
    """Control table plus firmware semantics of one servo, bound to a physical joint.

    Every method takes the emulator-wide lock, so the serving thread and test code can use a
    servo concurrently. Physical state is integrated lazily up to the current time whenever the
    servo is read or written.
    """

    def __init__(
        self,
        motor_id: int,
        baudrate: int,
        joint: Joint,
        model: MotorModel,
        *,
        clock: Callable[[], float],
        lock: threading.RLock,
        noise: random.Random,
        record_goal: Callable[[GoalRecord], None],
        injected_errors: Callable[[], int],
        injected_stall: Callable[[], int | None] = lambda: None,
    ):
        self.motor_id = motor_id
        self.plugged = True
        self._joint = joint
        self._model = model
        self._clock = clock
        self._lock = lock
        self._noise = noise
        self._record_goal = record_goal
        self._injected_errors = injected_errors
        self._injected_stall = injected_stall
        self._stall: tuple[int, int] | None = None  # (actual tick, side the shaft is kept on: -1, 0, +1)
        self._tripped = 0  # error bits set by the servo's own protection
        self._overloaded_s = 0.0  # how long the load has been above Overload_Torque
        factory = default_memory()
        factory[_ID] = motor_id
        factory[_BAUD_RATE] = BAUD_INDEX_BY_RATE[baudrate]
        self._eeprom = factory  # what survives a power cycle (only EEPROM addresses are used)
        self._memory = bytearray(MEMORY_SIZE)
        self._registered: tuple[int, bytes] | None = None
        self._t = clock()
        self._load = 0
        self._temperature = model.ambient_c
        self._power_up()

    # --- identity and bus parameters (read by the dispatcher) --------------------------------

    @property
    def bus_id(self) -> int:
        """The id the servo currently answers to (its ID register)."""
        with self._lock:
            return self._memory[_ID]

    @property
    def baudrate(self) -> int | None:
        """The rate it listens at; None for a Baud_Rate index no rate belongs to."""
        with self._lock:
            return BAUD_RATE_BY_INDEX.get(self._memory[_BAUD_RATE])

    @property
    def return_delay_s(self) -> float:
        with self._lock:
            return self._memory[_RETURN_DELAY] * _RETURN_DELAY_UNIT_S

    @property
    def answers_all(self) -> bool:
        """Response_Status_Level 1: answer every instruction, not only READ and PING."""
        with self._lock:
            return self._memory[_STATUS_LEVEL] != 0

    @property
    def error_byte(self) -> int:
        """The ERR byte of its status packets (the same bits as the Status register)."""
        return (self._injected_errors() | self._tripped) & 0xFF

    @property
    def joint(self) -> Joint:
        return self._joint

    # --- test-facing access --------------------------------------------------------------------

    @property
    def memory(self) -> bytes:
        """A snapshot of the whole control table, feedback refreshed to now."""
        return self.read_bytes(0, MEMORY_SIZE)

    @property
    def actual_position(self) -> int:
        """The encoder's raw reading (before Homing_Offset), 0..4095."""
        with self._lock:
            self._advance()
            return round(self._joint.motion.position) % STS3215_RESOLUTION

    @actual_position.setter
    def actual_position(self, ticks: int) -> None:
        """Move the shaft by hand (a leader joint keeps it there until resume_trajectory)."""
        with self._lock:
            self._advance()
            self._joint.place(ticks)

    def read_register(self, name: str) -> int:
        reg = register(name)
        return reg.decode(self.read_bytes(reg.address, reg.size))

    def write_register(self, name: str, value: int) -> None:
        """Write as a WRITE instruction would (Lock, clamping, side effects), without the bus."""
        reg = register(name)
        if not reg.writable:
            raise ValueError(f"{name} is read-only on an STS3215")
        self.write_bytes(reg.address, reg.encode(value))

    # --- instruction semantics -----------------------------------------------------------------

    def read_bytes(self, address: int, count: int) -> bytes:
        with self._lock:
            self._advance()
            self._refresh_feedback()
            return bytes(self._memory[address : address + count]).ljust(count, b"\x00")

    def write_bytes(self, address: int, data: bytes) -> None:
        with self._lock:
            self._advance()
            persist = self._memory[_LOCK] == 0
            torque_before = self._memory[_TORQUE_ENABLE]
            touched: set[str] = set()
            for offset, byte in enumerate(data):
                reg = _OWNER.get(address + offset)
                if reg is None or not reg.writable:
                    continue
                self._store(address + offset, byte, persist)
                touched.add(reg.name)
            if "Torque_Enable" in touched:
                self._tripped, self._overloaded_s = 0, 0.0  # re-enabling torque resets the protection
            if "Goal_Position" in touched:
                self._land_goal()
            if "Torque_Enable" in touched and self._get("Torque_Enable") == _CALIBRATE_MIDPOINT:
                self._calibrate_midpoint(torque_before, persist)

    def register_write(self, address: int, data: bytes) -> None:
        """REG_WRITE: hold the write until ACTION."""
        with self._lock:
            self._registered = (address, bytes(data))
            self._memory[_ASYNC_WRITE_FLAG] = 1

    def action(self) -> None:
        """ACTION: apply the held REG_WRITE, if any."""
        with self._lock:
            if self._registered is None:
                return
            address, data = self._registered
            self._registered = None
            self._memory[_ASYNC_WRITE_FLAG] = 0
            self.write_bytes(address, data)

    def power_cycle(self) -> None:
        """Power off and on: RAM to defaults, EEPROM from what was persisted, torque off."""
        with self._lock:
            self._advance()
            self._registered = None
            self._tripped, self._overloaded_s = 0, 0.0
            self._power_up()

    # --- internals -----------------------------------------------------------------------------

    def _power_up(self) -> None:
        memory = default_memory()
        for address in _PERSISTENT_ADDRESSES:
            memory[address] = self._eeprom[address]
        self._memory[:] = memory
        # loaded at power-up (docs/reference/feetech-sts.md §7)
        self._set("Torque_Limit", self._get("Max_Torque_Limit"))
        self._refresh_feedback()
        self._set("Goal_Position", self._get("Present_Position"))

    def _get(self, name: str) -> int:
        reg = REGISTERS[name]
        return reg.decode(bytes(self._memory[reg.address : reg.address + reg.size]))

    def _set(self, name: str, value: int) -> None:
        reg = REGISTERS[name]
        self._memory[reg.address : reg.address + reg.size] = reg.encode(value)

    def _store(self, address: int, byte: int, persist: bool) -> None:
        self._memory[address] = byte
        if persist and address in _PERSISTENT_ADDRESSES:
            self._eeprom[address] = byte

    def _clamp_goal(self, goal: int) -> int:
        low, high = self._get("Min_Position_Limit"), self._get("Max_Position_Limit")
        return min(max(goal, low), high) if low < high else goal

    def _land_goal(self) -> None:
        requested = self._get("Goal_Position")
        goal = self._clamp_goal(requested)
        self._set("Goal_Position", goal)
        torque = self._get("Torque_Enable") == _TORQUE_ON
        self._record_goal(GoalRecord(self._t, self.motor_id, goal, requested, torque))

    def _calibrate_midpoint(self, torque_before: int, persist: bool) -> None:
        raw = round(self._joint.motion.position) % STS3215_RESOLUTION
        offset = max(-_HOMING_LIMIT, min(_HOMING_LIMIT, raw - _MID_POSITION))
        for index, byte in enumerate(_HOMING.encode(offset)):
            self._store(_HOMING.address + index, byte, persist)
        self._set("Torque_Enable", torque_before)
        self._refresh_feedback()
        self._set("Goal_Position", self._get("Present_Position"))

    def _homed_position(self) -> float:
        return (self._joint.motion.position - self._get("Homing_Offset")) % STS3215_RESOLUTION

    def _drive(self) -> Drive | None:
        """The position loop's command, or None when the motor is limp."""
        if self._get("Torque_Enable") != _TORQUE_ON or self._get("Operating_Mode") != _POSITION_MODE:
            return None
        if self.error_byte & self._get("Unloading_Condition"):
            return None  # a protection the Unloading_Condition mask enables has tripped: torque is cut
        target = self._joint.motion.position + (self._get("Goal_Position") - self._homed_position())
        return Drive(
            target,
            self._model.speed_limit(self._get("Goal_Velocity")),
            self._model.acceleration_limit(self._get("Acceleration")),
        )

    def _advance(self) -> None:
        """Integrate the joint, load and temperature from the last update to now."""
        now = self._clock()
        dt = now - self._t
        if dt <= 0.0:
            return
        drive = self._drive()
        before = self._joint.motion.position
        self._joint.advance(now, drive)
        self._hold_at_stall(before)
        motion = self._joint.motion
        if drive is None:
            self._load = 0
        else:
            self._load = load_permille(drive.target - motion.position, motion.acceleration, self._model)
        self._protect(dt)
        self._temperature = temperature_after(self._temperature, self._load, dt, self._model)
        self._t = now

    def _hold_at_stall(self, before: float) -> None:
        """Keep the shaft from crossing an injected obstacle (see the module doc)."""
        tick = self._injected_stall()
        if tick is None:
            self._stall = None
            return
        if self._stall is None or self._stall[0] != tick:
            self._stall = (tick, (before > tick) - (before < tick))
        side = self._stall[1]
        position = self._joint.motion.position
        if (position - tick) * side < 0 or (side == 0 and position != tick):
            self._joint.place(tick)

    def _protect(self, dt: float) -> None:
        """The firmware's overload protection: too much load for too long trips the overload bit."""
        if abs(self._load) > self._get("Overload_Torque") * _PERCENT_TO_PERMILLE:
            self._overloaded_s += dt
        else:
            self._overloaded_s = 0.0
        if self._overloaded_s >= self._get("Protection_Time") * _PROTECTION_TIME_UNIT_S:
            self._tripped |= ServoErrorBits.OVERLOAD

    def _refresh_feedback(self) -> None:
        motion = self._joint.motion
        velocity = max(-32767, min(32767, round(motion.velocity)))
        voltage = self._model.supply_decivolts + round(self._noise.gauss(0.0, self._model.voltage_noise_decivolts))
        self._set("Present_Position", round(self._homed_position()) % STS3215_RESOLUTION)
        self._set("Present_Velocity", velocity)
        self._set("Present_Load", self._load)
        self._set("Present_Voltage", voltage)
        self._set("Present_Temperature", round(self._temperature))
        self._set("Status", self.error_byte)
        self._set("Moving", int(velocity != 0))
        self._set("Present_Current", current_units(self._load, self._model))
