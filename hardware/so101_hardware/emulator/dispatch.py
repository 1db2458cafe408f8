"""Execution of instruction packets on the servos that hear them, producing their status packets.

Pure bus logic, no I/O or timing: given a decoded packet and the client's baud rate, apply it
and return the replies in wire order. Rules (docs/reference/feetech-sts.md §2, §3):
- A servo hears a packet only while plugged in and when the client's baud is within 3 % of its own.
- Packets to broadcast (0xFE) get no reply, except PING: every servo answers, in id order.
- Response_Status_Level 0 limits replies to READ, PING and SYNC_READ (the reading instructions).
- SYNC_READ: each listed servo answers its own status packet, in list order; absent ids are
  silent. SYNC_READ and SYNC_WRITE are only accepted to the broadcast id, as the SDKs send them.
- A reply carries the id the servo was addressed by, so a WRITE that changes the ID is still
  acknowledged under the old id.
- Packets whose parameters do not fit the instruction are ignored (stats.malformed); unknown
  instruction codes, including the uncertain 0x06/0x0A/0x0B, are ignored (stats.unsupported).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from so101_hardware import sts_protocol
from so101_hardware.emulator.records import EmulatorStats
from so101_hardware.emulator.servo import EmulatedServo
from so101_hardware.emulator.timing import baud_matches
from so101_hardware.sts_protocol import BROADCAST_ID, Instruction, Packet

_MAX_READ = sts_protocol.MAX_PACKET_LEN - sts_protocol.STATUS_OVERHEAD  # data bytes a status packet can carry


@dataclass(frozen=True)
class Reply:
    servo: EmulatedServo
    packet: bytes


class _Malformed(Exception):
    """Parameters that do not fit the instruction."""


class Dispatcher:
    def __init__(self, servos: Sequence[EmulatedServo], stats: EmulatorStats):
        self._servos = tuple(servos)
        self._stats = stats
        self._client_baud: int | None = None
        self._deafened = False
        self._handlers: dict[int, Callable[[Packet], list[Reply]]] = {
            Instruction.PING: self._ping,
            Instruction.READ: self._read,
            Instruction.WRITE: self._write,
            Instruction.REG_WRITE: self._reg_write,
            Instruction.ACTION: self._action,
            Instruction.SYNC_READ: self._sync_read,
            Instruction.SYNC_WRITE: self._sync_write,
        }

    def handle(self, packet: Packet, client_baud: int | None) -> list[Reply]:
        """Apply `packet` and return the status packets to send, in wire order."""
        handler = self._handlers.get(packet.code)
        if handler is None:
            self._stats.unsupported += 1
            return []
        self._client_baud = client_baud
        self._deafened = False
        try:
            replies = handler(packet)
        except _Malformed:
            self._stats.malformed += 1
            return []
        if self._deafened:
            self._stats.wrong_baud += 1
        return replies

    # --- who hears ---------------------------------------------------------------------------

    def _hearing(self, servos: Sequence[EmulatedServo]) -> list[EmulatedServo]:
        plugged = [servo for servo in servos if servo.plugged]
        hearing = [servo for servo in plugged if baud_matches(self._client_baud, servo.baudrate)]
        self._deafened |= len(hearing) < len(plugged)
        return hearing

    def _at(self, motor_id: int) -> list[EmulatedServo]:
        """Servos addressed by `motor_id` (all of them for broadcast) that hear the packet."""
        if motor_id == BROADCAST_ID:
            return self._hearing(self._servos)
        return self._hearing([servo for servo in self._servos if servo.bus_id == motor_id])

    # --- instructions ------------------------------------------------------------------------

    @staticmethod
    def _expect(condition: bool) -> None:
        if not condition:
            raise _Malformed

    @staticmethod
    def _status(motor_id: int, servo: EmulatedServo, data: bytes = b"") -> Reply:
        return Reply(servo, sts_protocol.status(motor_id, servo.error_byte, data))

    def _acknowledge(self, packet: Packet, servos: list[EmulatedServo]) -> list[Reply]:
        """Empty status packets for a unicast instruction, where Response_Status_Level allows."""
        if packet.motor_id == BROADCAST_ID:
            return []
        return [self._status(packet.motor_id, servo) for servo in servos if servo.answers_all]

    def _ping(self, packet: Packet) -> list[Reply]:
        self._expect(not packet.params)
        servos = self._at(packet.motor_id)
        if packet.motor_id == BROADCAST_ID:
            return [self._status(servo.bus_id, servo) for servo in sorted(servos, key=lambda s: s.bus_id)]
        return [self._status(packet.motor_id, servo) for servo in servos]

    def _read(self, packet: Packet) -> list[Reply]:
        self._expect(len(packet.params) == 2 and packet.params[1] <= _MAX_READ)
        address, count = packet.params
        if packet.motor_id == BROADCAST_ID:
            return []
        return [self._status(packet.motor_id, s, s.read_bytes(address, count)) for s in self._at(packet.motor_id)]

    def _write(self, packet: Packet) -> list[Reply]:
        self._expect(len(packet.params) >= 2)
        servos = self._at(packet.motor_id)
        for servo in servos:
            servo.write_bytes(packet.params[0], packet.params[1:])
        return self._acknowledge(packet, servos)

    def _reg_write(self, packet: Packet) -> list[Reply]:
        self._expect(len(packet.params) >= 2)
        servos = self._at(packet.motor_id)
        for servo in servos:
            servo.register_write(packet.params[0], packet.params[1:])
        return self._acknowledge(packet, servos)

    def _action(self, packet: Packet) -> list[Reply]:
        self._expect(not packet.params)
        servos = self._at(packet.motor_id)
        for servo in servos:
            servo.action()
        return self._acknowledge(packet, servos)

    def _sync_read(self, packet: Packet) -> list[Reply]:
        self._expect(packet.motor_id == BROADCAST_ID and len(packet.params) >= 2 and packet.params[1] <= _MAX_READ)
        address, count = packet.params[0], packet.params[1]
        return [
            self._status(motor_id, servo, servo.read_bytes(address, count))
            for motor_id in packet.params[2:]
            for servo in self._at(motor_id)
        ]

    def _sync_write(self, packet: Packet) -> list[Reply]:
        self._expect(packet.motor_id == BROADCAST_ID and len(packet.params) >= 2)
        address, count = packet.params[0], packet.params[1]
        body = packet.params[2:]
        stride = count + 1
        self._expect(count > 0 and len(body) % stride == 0)
        for start in range(0, len(body), stride):
            for servo in self._at(body[start]):
                servo.write_bytes(address, body[start + 1 : start + stride])
        return []
