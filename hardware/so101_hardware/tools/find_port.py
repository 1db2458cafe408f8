"""so101-find-port: which serial port is the arm? Unplug its USB cable and see which port vanishes.

LeRobot's procedure. ttyACM numbers depend on plug-in order, so this is how an operator learns
which one is the leader and which the follower (and so101-udev-rules then makes that permanent).
"""
from __future__ import annotations

import argparse
import glob
import os
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from serial.tools import list_ports

from so101_hardware.tools import cli

DEFAULT_GLOBS = ("/dev/ttyACM*", "/dev/ttyUSB*", "/dev/serial/by-id/*")

PortListing = Mapping[str, str]
"""Candidate port path → the device node it resolves to (a by-id link and its ttyACM are one port)."""

SETTLE_S = 1.0
"""How long to keep looking after Enter: the kernel removes a port a moment after the cable comes out."""
_POLL_S = 0.1


@dataclass(frozen=True)
class FoundPort:
    """The port that vanished, and the other names it had (e.g. its /dev/serial/by-id link)."""

    port: str
    aliases: tuple[str, ...] = ()


def list_candidate_ports(globs: Sequence[str] = DEFAULT_GLOBS) -> dict[str, str]:
    """pyserial's serial ports plus whatever matches the glob patterns, with their real device nodes."""
    paths = {info.device for info in list_ports.comports()}
    for pattern in globs:
        paths.update(glob.glob(pattern))
    return {path: os.path.realpath(path) for path in paths}


def find_port(
    list_ports_now: Callable[[], PortListing], prompt: cli.Prompt, settle_s: float = SETTLE_S
) -> FoundPort:
    """List ports, have the operator unplug the arm, list again: the one port that vanished is the arm.

    Raises ToolError when there is no port to begin with, or when none or several vanished.
    """
    before = dict(list_ports_now())
    if not before:
        raise cli.ToolError(
            "no serial ports found. Plug in the arm's USB cable (the board's power supply alone is not "
            "enough); if it is plugged in, `dmesg | tail` shows whether the kernel saw it."
        )
    prompt("Unplug the USB cable of the arm whose port you want (leave the others plugged in), then press Enter.")
    deadline = time.monotonic() + settle_s
    while True:
        still_there = list_ports_now()
        gone = {path: node for path, node in before.items() if path not in still_there}
        if gone or time.monotonic() >= deadline:
            break
        time.sleep(_POLL_S)
    if not gone:
        raise cli.ToolError(
            f"no port disappeared (ports present: {', '.join(sorted(before))}). Unplug the arm's USB cable from "
            "the computer or from the arm's board (not its power supply), then press Enter once it is out."
        )
    devices = sorted(set(gone.values()))
    if len(devices) > 1:
        raise cli.ToolError(
            f"several ports disappeared ({', '.join(devices)}): unplug only the one arm's cable, not a USB hub "
            "with other serial devices on it, and try again."
        )
    return _name_the_port(gone)


def _name_the_port(gone: Mapping[str, str]) -> FoundPort:
    """Report the device node itself when it was listed, its other names as aliases."""
    paths = sorted(gone, key=lambda path: (path != gone[path], path))
    return FoundPort(paths[0], tuple(paths[1:]))


def _parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("so101-find-port", __doc__)
    parser.add_argument(
        "--glob",
        action="append",
        metavar="PATTERN",
        help=f"where to look besides pyserial's port list (repeatable; replaces {' '.join(DEFAULT_GLOBS)})",
    )
    return parser


def _run(args: argparse.Namespace) -> int:
    globs = args.glob or DEFAULT_GLOBS
    found = find_port(lambda: list_candidate_ports(globs), cli.press_enter)
    also = f" (also known as {', '.join(found.aliases)})" if found.aliases else ""
    print(f"The arm's port is {found.port}{also}. Plug the USB cable back in.")
    print("Port numbers change when cables are re-plugged or the PC reboots; so101-udev-rules gives it a stable name.")
    return cli.EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(_parser(), _run, argv)
