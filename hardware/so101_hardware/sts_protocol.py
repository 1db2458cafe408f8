"""Feetech SCS/STS "protocol 0" packet codec (the framing STS3215 servos speak).

Pure functions and small frozen types, no I/O: the bus driver and the bus emulator both build
and parse packets here, so the two sides cannot drift apart. Facts (framing, checksum, sign-
magnitude registers, instruction codes) are from docs/reference/feetech-sts.md §1-§6.

Packet layout, both directions:  FF FF ID LEN INST|ERR P1..Pn CHK,  LEN = n + 2,
CHK = ~(ID + LEN + INST|ERR + sum(P)) & 0xFF.  Multi-byte values are little-endian.
"""
from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import Iterable, Mapping, NamedTuple

HEADER = b"\xff\xff"
BROADCAST_ID = 0xFE
MAX_MOTOR_ID = 0xFC  # highest id the SDKs let you assign (252)
MAX_PACKET_LEN = 250  # TXPACKET_MAX_LEN / RXPACKET_MAX_LEN of both Feetech SDKs
STATUS_OVERHEAD = 6  # FF FF ID LEN ERR CHK around the data bytes of a status packet


class Instruction(IntEnum):
    PING = 0x01
    READ = 0x02
    WRITE = 0x03
    REG_WRITE = 0x04
    ACTION = 0x05
    SYNC_READ = 0x82
    SYNC_WRITE = 0x83


class ServoErrorBits(IntFlag):
    """Bits of a status packet's ERR byte (and of register 65 "Status")."""

    VOLTAGE = 0x01
    ANGLE = 0x02
    OVERHEAT = 0x04
    OVERCURRENT = 0x08
    OVERLOAD = 0x20

    def describe(self) -> str:
        """Human names of the set bits, e.g. 'overload, overheat'."""
        names = [str(bit.name).lower().replace("overcurrent", "over-current") for bit in ServoErrorBits if bit in self]
        return ", ".join(names) if names else "none"


_ERROR_MASK = 0x2F  # the five defined ServoErrorBits


class Packet(NamedTuple):
    """A decoded packet: `code` is the instruction (host→servo) or the error byte (servo→host).

    Named tuples, this and ParseResult: a control cycle parses six replies, and building frozen
    dataclasses cost a few percent of the bus_cycle benchmark's rate."""

    motor_id: int
    code: int
    params: bytes

    @property
    def error_bits(self) -> ServoErrorBits:
        return ServoErrorBits(self.code & _ERROR_MASK)


def checksum(motor_id: int, code: int, params: bytes) -> int:
    """The protocol checksum over ID, LEN, INST/ERR and parameters (header bytes excluded)."""
    length = len(params) + 2
    return (~(motor_id + length + code + sum(params))) & 0xFF


def encode_packet(motor_id: int, code: int, params: bytes = b"") -> bytes:
    """Frame one packet. Raises ValueError for an id or length the protocol cannot carry."""
    if not 0 <= motor_id <= BROADCAST_ID:
        raise ValueError(f"motor id {motor_id} outside 0..{BROADCAST_ID}")
    length = len(params) + 2
    if length + 4 > MAX_PACKET_LEN:
        raise ValueError(f"packet of {length + 4} bytes exceeds the {MAX_PACKET_LEN}-byte protocol limit")
    return HEADER + bytes((motor_id, length, code)) + params + bytes((checksum(motor_id, code, params),))


# --- instruction builders (host → servo) ---------------------------------------------------------


def ping(motor_id: int) -> bytes:
    return encode_packet(motor_id, Instruction.PING)


def read(motor_id: int, address: int, count: int) -> bytes:
    return encode_packet(motor_id, Instruction.READ, bytes((address, count)))


def write(motor_id: int, address: int, data: bytes) -> bytes:
    return encode_packet(motor_id, Instruction.WRITE, bytes((address,)) + data)


def reg_write(motor_id: int, address: int, data: bytes) -> bytes:
    return encode_packet(motor_id, Instruction.REG_WRITE, bytes((address,)) + data)


def action() -> bytes:
    return encode_packet(BROADCAST_ID, Instruction.ACTION)


def sync_read(address: int, count: int, motor_ids: Iterable[int]) -> bytes:
    return encode_packet(BROADCAST_ID, Instruction.SYNC_READ, bytes((address, count, *motor_ids)))


def sync_write(address: int, count: int, data_by_id: Mapping[int, bytes]) -> bytes:
    """One SYNC_WRITE carrying `count` bytes for each motor, in the mapping's order."""
    params = bytearray((address, count))
    for motor_id, data in data_by_id.items():
        if len(data) != count:
            raise ValueError(f"sync write to motor {motor_id}: {len(data)} data bytes, expected {count}")
        params.append(motor_id)
        params += data
    return encode_packet(BROADCAST_ID, Instruction.SYNC_WRITE, bytes(params))


def status(motor_id: int, error: int = 0, data: bytes = b"") -> bytes:
    """A status packet (servo → host); used by the emulator."""
    return encode_packet(motor_id, error, data)


def status_length(data_count: int) -> int:
    """Bytes on the wire of a status packet carrying `data_count` data bytes."""
    return STATUS_OVERHEAD + data_count


# --- parsing -------------------------------------------------------------------------------------


class ParseResult(NamedTuple):
    """Outcome of scanning a byte buffer for the first packet.

    packet:      the decoded packet, or None.
    consumed:    bytes at the front of the buffer that are now dealt with (garbage, a bad
                 packet, or the packet itself); drop them before the next call.
    bad_checksum: a complete packet-shaped frame was found but its checksum was wrong.
    discarded:   how many of the consumed bytes were noise before a header.
    """

    packet: Packet | None
    consumed: int
    bad_checksum: bool = False
    discarded: int = 0


def parse_packet(buffer: bytes | bytearray | memoryview) -> ParseResult:
    """Find the first well-formed packet in `buffer`.

    Mirrors the SDK's sanity checks (ID ≤ 0xFE, LEN within the protocol limit) so the driver
    rejects the same frames the reference parser does, but leaves the ERR value alone: a reply
    with an unexpected error byte is reported, not silently re-scanned into a timeout.
    Returns consumed=0 and no packet when more bytes are needed.
    """
    buf = bytes(buffer)
    start = 0
    while True:
        idx = buf.find(HEADER, start)
        if idx < 0:
            # Keep a trailing 0xFF: it may be the first half of the next header.
            keep = 1 if buf.endswith(b"\xff") else 0
            return ParseResult(None, len(buf) - keep, discarded=len(buf) - keep)
        # A run of 0xFF: the header is the last two of them (an id is never 0xFF).
        while idx + 2 < len(buf) and buf[idx + 2] == 0xFF:
            idx += 1
        if len(buf) < idx + 4:
            return ParseResult(None, idx, discarded=idx)
        motor_id, length = buf[idx + 2], buf[idx + 3]
        if motor_id > BROADCAST_ID or length < 2 or length + 4 > MAX_PACKET_LEN:
            start = idx + 1
            continue
        end = idx + length + 4
        if len(buf) < end:
            return ParseResult(None, idx, discarded=idx)
        code = buf[idx + 4]
        params = buf[idx + 5 : end - 1]
        if buf[end - 1] != checksum(motor_id, code, params):
            return ParseResult(None, end, bad_checksum=True, discarded=idx)
        return ParseResult(Packet(motor_id, code, params), end, discarded=idx)


# --- register values -----------------------------------------------------------------------------


def encode_sign_magnitude(value: int, sign_bit: int) -> int:
    """Feetech signed registers store |value| in the low bits and the sign in `sign_bit`."""
    limit = (1 << sign_bit) - 1
    if abs(value) > limit:
        raise ValueError(f"magnitude {abs(value)} exceeds {limit} (max for sign bit {sign_bit})")
    return value if value >= 0 else (1 << sign_bit) | -value


def decode_sign_magnitude(raw: int, sign_bit: int) -> int:
    """Inverse of encode_sign_magnitude; bits above the sign bit are ignored (as LeRobot does)."""
    magnitude = raw & ((1 << sign_bit) - 1)
    return -magnitude if raw & (1 << sign_bit) else magnitude


def to_bytes(raw: int, size: int) -> bytes:
    return raw.to_bytes(size, "little")


def from_bytes(data: bytes) -> int:
    return int.from_bytes(data, "little")
