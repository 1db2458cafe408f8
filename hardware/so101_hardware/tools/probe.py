"""Finding servos on a port whose baud rate is not known: shared by so101-scan and so101-setup-motors.

A servo only hears the baud rate in its Baud_Rate register, so "which servos are there" means
opening the port at each candidate rate in turn and asking who answers.
"""
from __future__ import annotations

import argparse
from typing import Iterator, Sequence

from so101_hardware.bus import BusConfig, FeetechBus
from so101_hardware.control_table import BAUD_INDEX_BY_RATE, BAUD_RATE_BY_INDEX
from so101_hardware.errors import BaudRateError, ChecksumError, NoStatusPacketError
from so101_hardware.tools.cli import warn

ALL_BAUDS: tuple[int, ...] = tuple(BAUD_RATE_BY_INDEX[index] for index in sorted(BAUD_RATE_BY_INDEX))
"""Every rate an STS3215 can be set to, factory default (1 Mbps) first."""

DEFAULT_BAUD = BAUD_RATE_BY_INDEX[0]
BROADCAST_WINDOW_S = 0.1
"""How long to collect broadcast-ping answers: six 6-byte replies need under 10 ms even at 38400 baud."""


def add_port_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        required=True,
        help="the arm's serial port, e.g. /dev/ttyACM0 or /dev/so101_follower (so101-find-port tells which)",
    )


def baud_rate(text: str) -> int:
    """argparse type: one of the STS3215 baud rates."""
    rates = ", ".join(str(rate) for rate in ALL_BAUDS)
    try:
        rate = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; STS3215 baud rates are {rates}") from None
    if rate not in BAUD_INDEX_BY_RATE:
        raise argparse.ArgumentTypeError(f"{rate} is not an STS3215 baud rate; use one of {rates}")
    return rate


def open_at_each_baud(port: str, bauds: Sequence[int], *, raise_on_servo_error: bool = True) -> Iterator[FeetechBus]:
    """Yield the bus opened at each rate in turn (closed again before the next one).

    A rate the serial adapter cannot set is skipped with a warning, unless it is the first: a
    failure to open at the first rate is a problem with the port itself (missing, busy, no
    permission, not a serial port), and its PortError already says what to do.
    """
    for position, baud in enumerate(bauds):
        bus = FeetechBus(BusConfig(port, baud, raise_on_servo_error=raise_on_servo_error))
        try:
            bus.open()
        except BaudRateError as exc:
            if position == 0:
                raise
            warn(f"skipping {baud} baud: {exc}")
            continue
        with bus:
            yield bus


def find_servos(bus: FeetechBus, ids: Sequence[int] | None = None) -> list[int]:
    """Ids answering on the open bus: one broadcast ping, or a ping per id when ids are given.

    Individual pings do not depend on how servos space their broadcast answers (undocumented,
    reference docs/reference/feetech-sts.md §3), at the cost of one timeout per silent id.
    """
    if ids is None:
        return bus.broadcast_ping(BROADCAST_WINDOW_S)
    found = []
    for motor_id in ids:
        try:
            bus.ping(motor_id)
        except (NoStatusPacketError, ChecksumError):
            continue
        found.append(motor_id)
    return found


def describe_bauds(bauds: Sequence[int]) -> str:
    """'1000000 baud' or 'any baud rate (1000000, 500000, ...)' for messages."""
    if len(bauds) == 1:
        return f"{bauds[0]} baud"
    return f"any baud rate ({', '.join(str(b) for b in bauds)})"
