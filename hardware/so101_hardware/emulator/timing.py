"""Wire timing of a half-duplex UART bus, and the client's baud rate as seen through the pty.

A pty moves bytes instantly. A real bus at 1 Mbps needs 10 µs per byte (8N1 = 10 bit times)
in each direction, plus each servo's Return_Delay_Time (2 µs per unit) before it answers
(docs/reference/feetech-sts.md §9). Emulating that makes driver latency and benchmark numbers meaningful.
"""
from __future__ import annotations

import fcntl
import struct
import sys
from collections.abc import Sequence

BITS_PER_BYTE = 10  # start bit + 8 data bits + stop bit
BAUD_TOLERANCE = 0.03  # a UART still decodes within about ±3 % of its rate

_TCGETS2 = 0x802C542A  # _IOR('T', 0x2A, struct termios2) on x86_64 and the asm-generic architectures
_TERMIOS2_SIZE = 44
_C_OSPEED_OFFSET = 40  # c_iflag..c_lflag (16) + c_line (1) + c_cc[19] → c_ispeed at 36, c_ospeed at 40


def byte_time_s(baudrate: int) -> float:
    return BITS_PER_BYTE / baudrate


def reply_deadlines(
    t_request: float, request_bytes: int, replies: Sequence[tuple[int, float]], baudrate: int
) -> list[float]:
    """When the last byte of each reply would arrive, answering a request first seen at t_request.

    `replies` are (bytes, return delay in s) in wire order. Replies share the one wire, so each
    starts after the previous one ended plus its own servo's return delay.
    """
    per_byte = byte_time_s(baudrate)
    t = t_request + request_bytes * per_byte
    deadlines = []
    for size, return_delay_s in replies:
        t += return_delay_s + size * per_byte
        deadlines.append(t)
    return deadlines


def client_baudrate(master_fd: int) -> int | None:
    """The baud rate the client configured on the pty slave, or None where it cannot be read.

    Linux keeps one termios for a pty pair and TCGETS2 on the master returns the slave's, with
    the exact rate in c_ospeed (also for non-standard rates set through BOTHER). On other
    platforms, or a kernel without TCGETS2, the wrong-baud emulation is skipped.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        raw = fcntl.ioctl(master_fd, _TCGETS2, bytes(_TERMIOS2_SIZE))
    except OSError:
        return None
    (speed,) = struct.unpack_from("<I", raw, _C_OSPEED_OFFSET)
    return speed or None


def baud_matches(client: int | None, servo: int | None) -> bool:
    """Whether a servo at `servo` baud decodes what a client at `client` baud sends."""
    if client is None:
        return True  # unknown client rate: assume the user configured it right
    if servo is None:
        return False  # a Baud_Rate index with no rate: the servo hears nothing
    return abs(client - servo) <= BAUD_TOLERANCE * servo
