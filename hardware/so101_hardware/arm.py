"""An SO-101 arm: six STS3215 servos on one bus, by joint name, with torque safety built in.

Values here are raw servo ticks in the servo's (homed) frame; conversion to radians or LeRobot
units belongs to so101_calibration. The configuration values are LeRobot's SO-101 follower
values (shared/reference/docs/reference/lerobot.md §5), so an arm configured here behaves as it does
under LeRobot.

Torque rule (docs/architecture.md §6): torque is never enabled before a valid position read, and the goal is
set to that present position first, so enabling torque never moves the arm.

Power loss. A servo that browns out reboots with its RAM at power-up values (docs/reference/feetech-sts.md §7):
Torque_Enable 0 and Acceleration 0, where configure() had written 254. check_torque() reads both
back, so a rebooted motor is told apart from one whose torque was switched off by other means.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from so101_calibration import SO101_JOINTS, ArmRole, Joint
from so101_hardware.bus import FeetechBus, expect_model
from so101_hardware.control_table import Area, register
from so101_hardware.errors import BusCollisionError, BusError, MissingMotorsError, PortError

log = logging.getLogger("so101_hardware.arm")


# LeRobot's configure() writes, every motor (leader and follower alike).
COMMON_MOTOR_SETTINGS: dict[str, int] = {
    "Return_Delay_Time": 0,
    "Maximum_Acceleration": 254,
    "Acceleration": 254,
    "Operating_Mode": 0,  # position mode
}
# Follower only: P lowered from 32 to 16 "to avoid shakiness".
FOLLOWER_GAINS: dict[str, int] = {"P_Coefficient": 16, "I_Coefficient": 0, "D_Coefficient": 32}
# Follower gripper only: limits that stop a stalled gripper from overheating (LeRobot ≥ 0.4.2).
FOLLOWER_GRIPPER_PROTECTION: dict[str, int] = {"Max_Torque_Limit": 500, "Protection_Current": 250, "Overload_Torque": 25}

CONNECT_GRACE_S = 1.0
"""How long connect() keeps pinging silent motors before they count as missing: a servo just
powered, or a bus process starved of CPU while a whole graph starts, can miss its first pings."""

STATE_REGISTERS = ("Present_Position", "Present_Velocity", "Present_Load")
TORQUE_REGISTERS = ("Torque_Enable", "Acceleration")  # adjacent RAM (40, 41): one SYNC_READ
RAM_SETTINGS = {name: value for name, value in COMMON_MOTOR_SETTINGS.items() if register(name).area is Area.RAM}
"""configure()'s settings that live in RAM: a power cycle loses them (Acceleration)."""


@dataclass(frozen=True)
class TorqueCheck:
    """What check_torque() read back: motors that lost their torque, and why (ids in joint order)."""

    rebooted: tuple[int, ...] = ()  # RAM at power-up values: the servo lost power (a brown-out)
    torque_lost: tuple[int, ...] = ()  # torque off although expected on, RAM otherwise intact

    def __bool__(self) -> bool:
        return bool(self.rebooted or self.torque_lost)


@dataclass(frozen=True)
class ArmState:
    """One synchronous read of all joints (arrays in joint order)."""

    positions: np.ndarray  # ticks
    velocities: np.ndarray  # ticks/s as the servo reports it
    loads: np.ndarray  # 0.1 % of max torque, signed
    read_monotonic: float  # time.monotonic() when the reply arrived
    read_wall: float  # time.time() at the same instant (for message stamps)


class SO101Arm:
    """Six named joints on a FeetechBus. The bus may be shared only through this object."""

    def __init__(self, bus: FeetechBus, role: ArmRole, joints: Sequence[Joint] = SO101_JOINTS):
        self.bus = bus
        self.role = role
        self.joints = tuple(joints)
        self.ids = [j.motor_id for j in self.joints]
        self.names = [j.name for j in self.joints]
        self.bus.motor_names.update({j.motor_id: j.name for j in self.joints})
        self._torque_on: set[int] = set()  # motors we enabled and have not seen lose torque

    @property
    def torque_enabled(self) -> bool:
        """Every motor holds torque (as far as the last enable, release or check_torque() knows)."""
        return self._torque_on == set(self.ids)

    def name_of(self, motor_id: int) -> str:
        return self.bus.motor_names.get(motor_id, str(motor_id))

    def describe(self, motor_ids: Sequence[int]) -> str:
        """'motor 3 (elbow_flex), motor 4 (wrist_flex)'."""
        return ", ".join(f"motor {mid} ({self.name_of(mid)})" for mid in motor_ids)

    # --- lifecycle --------------------------------------------------------------------------

    def connect(self) -> dict[int, int]:
        """Open the bus and check every joint's motor answers and is an STS3215.

        Returns id → model number. Raises MissingMotorsError naming every silent motor, so the
        operator fixes them in one go rather than one per attempt.
        """
        self.bus.open()
        found: dict[int, int] = {}
        missing = {joint.motor_id: joint.name for joint in self.joints}
        deadline = time.monotonic() + CONNECT_GRACE_S
        while missing:
            for motor_id in list(missing):
                try:
                    found[motor_id] = self.bus.ping(motor_id)
                    del missing[motor_id]
                except BusError:
                    pass
            if time.monotonic() >= deadline:
                break
        if missing:
            diagnosis = self._diagnose_missing(missing)
            self.bus.close()
            raise MissingMotorsError(self.bus.config.port, missing, found, self.bus.config.baudrate, diagnosis)
        for motor_id, model in found.items():
            expect_model(self.bus, motor_id, model)
        return found

    def _diagnose_missing(self, missing: Mapping[int, str]) -> str:
        """Why motors may be silent, from one broadcast ping: two servos on one id, or a motor on another id.

        The line is left quiet for a reply window first: a late answer to one of the pings would
        otherwise arrive during the broadcast and look like a second servo on that id.
        """
        time.sleep(self.bus.config.timeout_s)
        try:
            answering = self.bus.broadcast_ping()
        except BusCollisionError:
            return (
                "Replies to a broadcast ping collided: two servos share an id (often a replaced motor still on "
                "its factory id, or one set to another joint's id). Connect one motor at a time and run "
                "`so101-setup-motors`."
            )
        except BusError:
            return ""
        strangers = sorted(set(answering) - set(self.ids))
        if strangers:
            return (
                f"Motor(s) answer at unexpected id(s) {', '.join(map(str, strangers))}: give each motor its joint's id "
                "with `so101-setup-motors`."
            )
        return ""

    def configure(self) -> int:
        """Write LeRobot's motor settings for this role. Leaves torque off. Returns the writes made.

        Registers that already hold their value are not rewritten: nodes configure on every
        start, and EEPROM endures a limited number of writes.
        """
        self.disable_torque()
        writes = 0
        with self.bus.eeprom_unlocked(self.ids):
            for joint in self.joints:
                for name, value in self.settings_for(joint).items():
                    if self.bus.read(joint.motor_id, name) != value:
                        self.bus.write(joint.motor_id, name, value)
                        writes += 1
        return writes

    def settings_for(self, joint: Joint) -> dict[str, int]:
        settings = dict(COMMON_MOTOR_SETTINGS)
        if self.role is ArmRole.FOLLOWER:
            settings.update(FOLLOWER_GAINS)
            if joint.name == "gripper":
                settings.update(FOLLOWER_GRIPPER_PROTECTION)
        return settings

    def disconnect(self, disable_torque: bool = True) -> None:
        """Best effort: try to release torque on every motor, then always close the port.

        LeRobot's disconnect raises on a dead motor and leaves the port open; here a dead motor
        is logged and the others are still released.
        """
        try:
            if disable_torque and self.bus.is_open:
                self.disable_torque(best_effort=True)
        finally:
            self.bus.close()

    # --- torque -----------------------------------------------------------------------------

    def enable_torque(self) -> np.ndarray:
        """Read present positions, hold them as goals, then enable torque. Returns the positions.

        If the read fails nothing is enabled and the error propagates.
        """
        if self.role is ArmRole.LEADER:
            raise BusError("the leader arm is back-driven by the operator; its torque stays off")
        present = self.read_positions()
        self.write_goal_positions(present)
        for motor_id in self.ids:
            self.bus.write(motor_id, "Torque_Enable", 1)
            self.bus.write(motor_id, "Lock", 1)
            self._torque_on.add(motor_id)
        return present

    def disable_torque(self, best_effort: bool = False) -> None:
        """Torque off and EEPROM unlocked on every motor (LeRobot's disable_torque)."""
        self._torque_on.clear()
        for motor_id in self.ids:
            try:
                self.bus.write(motor_id, "Torque_Enable", 0)
                self.bus.write(motor_id, "Lock", 0)
            except PortError as exc:  # the adapter is gone: no other motor can be reached either
                if not best_effort:
                    raise
                log.warning("could not release torque, the servos hold until powered off: %s", exc)
                return
            except BusError as exc:
                if not best_effort:
                    raise
                log.warning("could not release torque: %s", exc)

    def release_motor(self, motor_id: int) -> None:
        """Torque off on one motor (best effort: the bus may be what failed); the others keep theirs."""
        self._torque_on.discard(motor_id)
        try:
            self.bus.write(motor_id, "Torque_Enable", 0)
        except BusError as exc:
            log.warning("could not release torque of %s: %s", self.describe([motor_id]), exc)

    def check_torque(self) -> TorqueCheck:
        """Read back Torque_Enable and Acceleration of every motor (one SYNC_READ); see the module doc.

        Motors found without torque are no longer counted as holding it: torque comes back only
        through enable_torque(), which an operator asks for (never by itself).
        """
        raw = self.bus.sync_read_span(TORQUE_REGISTERS, self.ids)
        configured = RAM_SETTINGS["Acceleration"]
        rebooted = tuple(mid for mid in self.ids if raw[mid]["Acceleration"] != configured)
        lost = tuple(mid for mid in self.ids if mid in self._torque_on and mid not in rebooted
                     and raw[mid]["Torque_Enable"] != 1)
        self._torque_on.difference_update(rebooted + lost)
        return TorqueCheck(rebooted, lost)

    def restore_ram_settings(self) -> None:
        """Write back configure()'s RAM settings (a power cycle reset them); torque is left as it is."""
        for motor_id in self.ids:
            for name, value in RAM_SETTINGS.items():
                self.bus.write(motor_id, name, value)

    # --- reading and commanding -------------------------------------------------------------

    def read_positions(self) -> np.ndarray:
        values = self.bus.sync_read("Present_Position", self.ids)
        return np.array([values[i] for i in self.ids], dtype=np.int32)

    def read_state(self) -> ArmState:
        """Position, velocity and load of every joint in one SYNC_READ (56..61)."""
        raw = self.bus.sync_read_span(STATE_REGISTERS, self.ids)
        now_mono, now_wall = time.monotonic(), time.time()
        column = lambda reg: np.array([raw[i][reg] for i in self.ids], dtype=np.int32)  # noqa: E731
        return ArmState(column("Present_Position"), column("Present_Velocity"), column("Present_Load"), now_mono, now_wall)

    def write_goal_positions(self, ticks: Sequence[int] | np.ndarray | Mapping[str, int]) -> None:
        """Goal_Position for every joint in one SYNC_WRITE.

        On a follower this is the raw actuator path: in the ROS stack only the follower's safety
        filter calls it (docs/architecture.md §1, one writer per actuator).
        """
        if isinstance(ticks, Mapping):
            unknown = set(ticks) - set(self.names)
            if unknown:
                raise KeyError(f"unknown joint(s) {sorted(unknown)}; joints are {self.names}")
            values = {j.motor_id: int(ticks[j.name]) for j in self.joints if j.name in ticks}
        else:
            array = np.asarray(ticks)
            if array.shape != (len(self.ids),):
                raise ValueError(f"expected {len(self.ids)} goal positions, got shape {array.shape}")
            values = dict(zip(self.ids, (int(v) for v in array)))
        self.bus.sync_write("Goal_Position", values)
