"""so101-scan: which servos answer on a port, at which baud rate, and how they are doing.

The first thing to run when an arm misbehaves ("There is no status packet!"): it shows which ids
answer, so a missing, mis-numbered or wrong-baud motor stands out, together with the supply
voltage, temperature and error bits that explain most of the rest.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Sequence

from so101_calibration import SO101_JOINTS
from so101_hardware.bus import FeetechBus
from so101_hardware.control_table import STS3215_MODEL_NUMBER
from so101_hardware.sts_protocol import MAX_MOTOR_ID, ServoErrorBits
from so101_hardware.tools import cli, probe

MODEL_NAMES = {STS3215_MODEL_NUMBER: "STS3215"}


@dataclass(frozen=True)
class ServoInfo:
    """One servo as the scan saw it."""

    motor_id: int
    baudrate: int
    model: int
    firmware: tuple[int, int]  # major, minor
    voltage_dv: int  # 0.1 V
    temperature_c: int
    position: int  # ticks
    torque_enable: int  # 0 off, 1 on
    status: ServoErrorBits


def read_servo_info(bus: FeetechBus, motor_id: int) -> ServoInfo:
    def read(name: str) -> int:
        return bus.read(motor_id, name)

    return ServoInfo(
        motor_id=motor_id,
        baudrate=bus.config.baudrate,
        model=read("Model_Number"),
        firmware=(read("Firmware_Major_Version"), read("Firmware_Minor_Version")),
        voltage_dv=read("Present_Voltage"),
        temperature_c=read("Present_Temperature"),
        position=read("Present_Position"),
        torque_enable=read("Torque_Enable"),
        status=ServoErrorBits(read("Status")),
    )


def scan(port: str, bauds: Sequence[int], ids: Sequence[int] | None = None) -> list[ServoInfo]:
    """Every servo that answers at any of the bauds (broadcast ping, or pings of `ids`).

    Servo error bits are reported in the table rather than raised: a scan is how one finds them.
    """
    servos: list[ServoInfo] = []
    for bus in probe.open_at_each_baud(port, bauds, raise_on_servo_error=False):
        servos.extend(read_servo_info(bus, motor_id) for motor_id in probe.find_servos(bus, ids))
    return servos


def format_table(servos: Sequence[ServoInfo]) -> str:
    """A left-aligned text table, one row per servo."""
    header = ("ID", "MODEL", "FIRMWARE", "BAUD", "VOLTAGE", "TEMP", "POSITION", "TORQUE", "STATUS")
    rows = [header] + [_cells(servo) for servo in servos]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = ("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


def _cells(servo: ServoInfo) -> tuple[str, ...]:
    torque = {0: "off", 1: "on"}.get(servo.torque_enable, str(servo.torque_enable))
    return (
        str(servo.motor_id),
        MODEL_NAMES.get(servo.model, f"unknown ({servo.model})"),
        f"{servo.firmware[0]}.{servo.firmware[1]}",
        str(servo.baudrate),
        f"{servo.voltage_dv / 10:.1f} V",
        f"{servo.temperature_c} °C",
        str(servo.position),
        torque,
        servo.status.describe() if servo.status else "ok",
    )


def missing_joints_note(servos: Sequence[ServoInfo]) -> str | None:
    """Which SO-101 joint ids did not answer, if any: the usual reason to run a scan."""
    found = {servo.motor_id for servo in servos}
    missing = [joint for joint in SO101_JOINTS if joint.motor_id not in found]
    if not missing:
        return None
    names = ", ".join(f"{joint.motor_id} ({joint.name})" for joint in missing)
    return (
        f"no servo answered at SO-101 joint id(s) {names}. On an assembled arm check that motor's cable "
        "and power; a new motor still has id 1 until so101-setup-motors gives it its joint's id."
    )


def parse_ids(text: str) -> list[int]:
    """argparse type: '1-10', '1,3,5' or '1-3,6' → ids in the order given, without repeats."""
    ids: list[int] = []
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        try:
            first, last = int(low), int(high if dash else low)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected ids like 1-10 or 1,3,5") from None
        if not 0 <= first <= last <= MAX_MOTOR_ID:
            raise argparse.ArgumentTypeError(f"{part!r}: ids run from 0 to {MAX_MOTOR_ID}, low to high")
        ids.extend(i for i in range(first, last + 1) if i not in ids)
    return ids


def _bauds(text: str) -> tuple[int, ...]:
    """argparse type for --baud: one STS3215 rate, or 'all'."""
    return probe.ALL_BAUDS if text == "all" else (probe.baud_rate(text),)


def _parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("so101-scan", __doc__)
    probe.add_port_argument(parser)
    parser.add_argument(
        "--baud",
        type=_bauds,
        default=(probe.DEFAULT_BAUD,),
        metavar="RATE|all",
        help=f"baud rate to scan, or 'all' for every STS3215 rate (default {probe.DEFAULT_BAUD})",
    )
    parser.add_argument(
        "--ids", type=parse_ids, metavar="IDS", help="ping these ids one by one (e.g. 1-10) instead of a broadcast ping"
    )
    return parser


def _run(args: argparse.Namespace) -> int:
    servos = scan(args.port, args.baud, args.ids)
    if not servos:
        how = f"individual pings of {len(args.ids)} id(s)" if args.ids else "a broadcast ping"
        advice = "" if len(args.baud) > 1 else ", or that the servos use another rate (try --baud all)"
        raise cli.ToolError(
            f"nothing answered on {args.port} at {probe.describe_bauds(args.baud)} ({how}). Check that the arm's "
            "power supply is on (USB alone does not power the servos), that the cable reaches the first motor, "
            f"that {args.port} is the servo bus and not another serial device (so101-find-port tells which){advice}."
        )
    print(format_table(servos))
    note = missing_joints_note(servos)
    if note:
        print(f"\nnote: {note}")
    return cli.EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(_parser(), _run, argv)
