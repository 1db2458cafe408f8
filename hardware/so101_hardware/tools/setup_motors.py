"""so101-setup-motors: give each motor its joint's id and the bus baud rate, one motor at a time.

LeRobot's procedure. Every new STS3215 leaves the factory as id 1 at 1 Mbps, so six of them on
one bus would all answer as id 1: each motor is connected alone to the board, found at whatever
id and baud it has, and given its joint's id (gripper 6 down to shoulder_pan 1).

Nothing is written before the operator has confirmed that only that motor is connected and
exactly one servo answers; Ctrl-C at the prompt leaves the motor as it was, and Ctrl-C during
the few writes is held back until they are done.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Sequence

from so101_calibration import JOINT_NAMES, SO101_JOINTS, Joint, joint_by_name
from so101_hardware.arm import ArmRole
from so101_hardware.bus import BusConfig, FeetechBus, expect_model
from so101_hardware.control_table import BAUD_INDEX_BY_RATE
from so101_hardware.errors import BusError, ChecksumError, NoStatusPacketError
from so101_hardware.sts_protocol import ServoErrorBits
from so101_hardware.tools import cli, probe


@dataclass(frozen=True)
class ServoAddress:
    """Where a servo answers: its id at its baud rate."""

    motor_id: int
    baudrate: int

    def __str__(self) -> str:
        return f"id {self.motor_id} at {self.baudrate} baud"


def locate_single_servo(port: str, joint: Joint) -> ServoAddress:
    """The one servo answering a broadcast ping at any STS3215 baud rate; ToolError for none or several.

    Every rate is tried even after a hit, so a second motor left connected at another rate is
    caught before anything is written.
    """
    found = [
        ServoAddress(motor_id, bus.config.baudrate)
        for bus in probe.open_at_each_baud(port, probe.ALL_BAUDS, raise_on_servo_error=False)
        for motor_id in probe.find_servos(bus)
    ]
    if not found:
        raise cli.ToolError(
            f"no servo answered on {port} at {probe.describe_bauds(probe.ALL_BAUDS)}. Check that the "
            f"{joint.name} motor's cable is in the board and that the board's power supply is on (USB alone "
            "does not power the servos)."
        )
    if len(found) > 1:
        raise cli.ToolError(
            f"{len(found)} servos answered ({', '.join(map(str, found))}): connect ONLY the {joint.name} motor "
            "to the board (unplug the cable to the other motors) and try again. Nothing was written."
        )
    return found[0]


def setup_motor(
    port: str,
    joint: Joint,
    prompt: cli.Prompt,
    target_baud: int = probe.DEFAULT_BAUD,
    role: ArmRole = ArmRole.FOLLOWER,
) -> ServoAddress:
    """Ask for the joint's motor alone on the bus, give it the joint's id and target_baud, verify.

    Returns where the motor answered before. Raises ToolError/BusError with the motor unchanged
    unless the message says otherwise.
    """
    with FeetechBus(BusConfig(port, target_baud)):
        pass  # a missing, busy or forbidden port is reported before the operator unplugs anything
    prompt(f"Connect ONLY the {joint.name} motor of the {role.value} arm to the board, then press Enter.")
    old = locate_single_servo(port, joint)
    new = ServoAddress(joint.motor_id, target_baud)
    _check_servo(port, old)
    with cli.interrupts_deferred():
        try:
            _assign(port, old, new)
            _verify(port, new)
        except BusError as exc:
            raise cli.ToolError(
                f"setting up the {joint.name} motor (found at {old}) failed: {exc}. It may be half set up: "
                f"run `so101-setup-motors --port {port} --joint {joint.name}` again, which finds it wherever it is now."
            ) from exc
    return old


def _check_servo(port: str, address: ServoAddress) -> None:
    """Refuse a servo that is not an STS3215 or that reports an error (fix that first, write nothing)."""
    with FeetechBus(BusConfig(port, address.baudrate, raise_on_servo_error=False)) as bus:
        expect_model(bus, address.motor_id, bus.ping(address.motor_id))
        status = ServoErrorBits(bus.read(address.motor_id, "Status"))
    if status:
        raise cli.ToolError(
            f"the servo at {address} reports a {status.describe()} error; fix that first (a voltage error "
            "usually means the power supply is off or too weak). Nothing was written."
        )


def _assign(port: str, old: ServoAddress, new: ServoAddress) -> None:
    """Torque off, EEPROM unlocked, then ID and Baud_Rate (each only if it differs).

    Not bus.eeprom_unlocked(): it re-locks at the address it unlocked, which no longer answers once
    the id or baud has changed. Lock is restored by _verify at the new address instead.
    """
    with FeetechBus(BusConfig(port, old.baudrate)) as bus:
        bus.write(old.motor_id, "Torque_Enable", 0)
        bus.write(old.motor_id, "Lock", 0)
        if new.motor_id != old.motor_id:
            bus.write(old.motor_id, "ID", new.motor_id)  # the servo acknowledges with the id it was addressed by
        if new.baudrate != old.baudrate:
            bus.write(new.motor_id, "Baud_Rate", BAUD_INDEX_BY_RATE[new.baudrate])  # acknowledged at the old rate


def _verify(port: str, address: ServoAddress) -> None:
    """Re-open at the new rate, check the servo answers at its new id, lock its EEPROM again."""
    with FeetechBus(BusConfig(port, address.baudrate)) as bus:
        try:
            bus.ping(address.motor_id)
        except (NoStatusPacketError, ChecksumError):
            raise cli.ToolError(
                f"the motor does not answer at {address} after the change. Power-cycle it and run this tool "
                "again for this joint (--joint); so101-scan --baud all shows where it answers now."
            ) from None
        bus.write(address.motor_id, "Lock", 1)


def _parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("so101-setup-motors", __doc__)
    probe.add_port_argument(parser)
    roles = [role.value for role in ArmRole]
    parser.add_argument("--role", choices=roles, default=ArmRole.FOLLOWER.value, help="which arm (default follower)")
    parser.add_argument(
        "--baud",
        type=probe.baud_rate,
        default=probe.DEFAULT_BAUD,
        metavar="RATE",
        help=f"baud rate to give the motors (default {probe.DEFAULT_BAUD}, what the SO-101 software uses)",
    )
    parser.add_argument("--joint", choices=JOINT_NAMES, help="set up only this joint's motor")
    return parser


def _run(args: argparse.Namespace) -> int:
    joints = [joint_by_name(args.joint)] if args.joint else list(reversed(SO101_JOINTS))
    for joint in joints:
        old = setup_motor(args.port, joint, cli.press_enter, args.baud, ArmRole(args.role))
        print(f"{joint.name} motor: now id {joint.motor_id} at {args.baud} baud (was {old}).")
    if len(joints) > 1:
        print(
            "All motors are set up. Daisy-chain them, power the arm and check with "
            f"`so101-scan --port {args.port} --baud {args.baud}`."
        )
    return cli.EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(_parser(), _run, argv)
