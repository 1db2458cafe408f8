"""Framing of the byte stream a client writes into instruction packets.

Uses sts_protocol.parse_packet, so the emulator accepts exactly the frames the driver produces.
Bad checksums and noise are counted and skipped, as a servo's UART receiver would. An
incomplete packet left when the line goes quiet is discarded (the firmware's receive timeout),
so a truncated write cannot swallow the next good packet.
"""
from __future__ import annotations

from dataclasses import dataclass

from so101_hardware import sts_protocol
from so101_hardware.emulator.records import EmulatorStats


@dataclass(frozen=True)
class Incoming:
    packet: sts_protocol.Packet
    wire_bytes: int  # length of the packet on the wire, for UART timing


class PacketReader:
    def __init__(self, stats: EmulatorStats):
        self._stats = stats
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Incoming]:
        """Append received bytes; return the complete packets they finish, in order."""
        self._buffer += data
        packets: list[Incoming] = []
        while self._buffer:
            result = sts_protocol.parse_packet(self._buffer)
            if result.consumed == 0:
                break
            self._stats.garbage_bytes += result.discarded
            if result.bad_checksum:
                self._stats.bad_checksum_in += 1
            if result.packet is not None:
                self._stats.packets_in += 1
                packets.append(Incoming(result.packet, result.consumed - result.discarded))
            del self._buffer[: result.consumed]
        return packets

    def discard_partial(self) -> None:
        """The line went quiet: drop whatever incomplete packet is buffered."""
        if self._buffer:
            self._stats.stale_partial += 1
            self._buffer.clear()
