"""so101-udev-rules: udev rules that give the arms and cameras fixed names in /dev.

/dev/ttyACM0 and /dev/ttyACM1 swap between boots, so leader and follower swap too; the rules
name each device by its USB identity instead: /dev/so101_leader, /dev/so101_follower and
/dev/so101_cam_<name>. They also set the group (dialout for arms, video for cameras), which is
the other common reason a port cannot be opened.

Example:  so101-udev-rules --leader-port /dev/ttyACM0 --follower-port /dev/ttyACM1 \\
              --camera wrist=/dev/video2 --output 99-so101.rules
"""
from __future__ import annotations

import argparse
import re
from collections import Counter
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Sequence

from so101_hardware.tools import cli
from so101_hardware.tools.usb_devices import UsbIdentity, camera_identity, parse_usb_identity, serial_port_identity

RULES_PATH = "/etc/udev/rules.d/99-so101.rules"
RELOAD_COMMAND = "sudo udevadm control --reload-rules && sudo udevadm trigger"
ARM_ROLES = ("leader", "follower")
# Same rule as camera names in so101_hardware.cameras.config, so a camera keeps one name everywhere.
_CAMERA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class DeviceKind(Enum):
    """The udev SUBSYSTEM of the node to name, and the group that may open it."""

    SERIAL = ("tty", "dialout")
    CAMERA = ("video4linux", "video")

    @property
    def subsystem(self) -> str:
        return self.value[0]

    @property
    def group(self) -> str:
        return self.value[1]


@dataclass(frozen=True)
class NamedDevice:
    """A device and the name it gets: /dev/<symlink>."""

    symlink: str
    kind: DeviceKind
    usb: UsbIdentity
    description: str  # for the comment above its rule, e.g. "leader arm, /dev/ttyACM0"


def render_rules(devices: Sequence[NamedDevice]) -> str:
    """The rules file: install instructions as comments, then one commented rule per device."""
    lines = [
        "# udev rules for SO-101 arms and cameras, written by so101-udev-rules: each device gets a",
        "# fixed name in /dev, whatever order it was plugged in.",
        "# Install, then re-plug the devices:",
        f"#   sudo cp 99-so101.rules {RULES_PATH}",
        f"#   {RELOAD_COMMAND}",
        "# Arms become group dialout and cameras group video; your user must be in both groups",
        "# (sudo usermod -aG dialout,video $USER, then log out and back in).",
    ]
    for device in devices:
        lines += ["", f"# {device.description}"]
        if device.usb.serial is None:
            lines.append(f"# matched by USB socket {device.usb.usb_path} (no usable serial number): keep it there")
        lines.append(_rule(device))
    return "\n".join(lines) + "\n"


def _rule(device: NamedDevice) -> str:
    usb = device.usb
    # All ATTRS and KERNELS keys must match one and the same parent: the USB device.
    keys = [f'SUBSYSTEM=="{device.kind.subsystem}"']
    if usb.serial is None:
        keys.append(f'KERNELS=="{usb.usb_path}"')
    keys += [f'ATTRS{{idVendor}}=="{usb.vendor_id}"', f'ATTRS{{idProduct}}=="{usb.product_id}"']
    if usb.serial is not None:
        keys.append(f'ATTRS{{serial}}=="{usb.serial}"')
    if device.kind is DeviceKind.CAMERA:
        keys.append('ATTR{index}=="0"')  # the capture node, not the camera's metadata node
    keys += [f'SYMLINK+="{device.symlink}"', 'MODE="0660"', f'GROUP="{device.kind.group}"']
    return ", ".join(keys)


def tell_apart(devices: Sequence[NamedDevice]) -> list[NamedDevice]:
    """Match by USB socket the devices whose vendor, product and serial are all the same.

    Cheap adapters and webcams often share one serial number; a rule keyed on it would give
    both devices the same name. Raises ToolError for one device listed twice, or for identical
    devices whose socket is unknown (given as VID:PID:SERIAL).
    """
    seen: dict[tuple[DeviceKind, UsbIdentity], NamedDevice] = {}
    for device in devices:
        twin = seen.setdefault((device.kind, device.usb), device)
        if twin is not device:
            raise cli.ToolError(f"{twin.description} and {device.description} are the same device")
    shared = Counter(_serial_key(device) for device in devices if device.usb.serial is not None)
    result = []
    for device in devices:
        if device.usb.serial is not None and shared[_serial_key(device)] > 1:
            if device.usb.usb_path is None:
                raise cli.ToolError(
                    f"{device.description} shares its vendor, product and serial number with another device, so "
                    "only its USB socket can tell them apart: give its port instead of its VID:PID:SERIAL"
                )
            device = replace(device, usb=device.usb.by_socket())
        result.append(device)
    return result


def _serial_key(device: NamedDevice) -> tuple[DeviceKind, str, str, str | None]:
    return device.kind, device.usb.vendor_id, device.usb.product_id, device.usb.serial


def _arm(role: str, port: str | None, usb: UsbIdentity | None) -> NamedDevice | None:
    symlink = f"so101_{role}"
    if usb is not None:
        given = f"{usb.vendor_id}:{usb.product_id}:{usb.serial}"
        return NamedDevice(symlink, DeviceKind.SERIAL, usb, f"{role} arm: USB device given as {given}")
    if port is not None:
        return NamedDevice(symlink, DeviceKind.SERIAL, serial_port_identity(port), f"{role} arm: {port}")
    return None


def _camera(name: str, device: str) -> NamedDevice:
    usb, index = camera_identity(device)
    if index != 0:
        cli.warn(f"{device} is node {index} of its camera, not the capture node; the rule names the capture node")
    return NamedDevice(f"so101_cam_{name}", DeviceKind.CAMERA, usb, f"camera {name}: {device}")


def _usb_identity(text: str) -> UsbIdentity:
    """argparse type for --leader-usb / --follower-usb (argparse hides a plain ValueError's message)."""
    try:
        return parse_usb_identity(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _camera_argument(text: str) -> tuple[str, str]:
    """argparse type for --camera NAME=/dev/videoN."""
    name, sep, device = text.partition("=")
    if not sep or not device:
        raise argparse.ArgumentTypeError(f"expected NAME=/dev/videoN (e.g. wrist=/dev/video2), got {text!r}")
    if not _CAMERA_NAME.fullmatch(name):
        raise argparse.ArgumentTypeError(
            f"camera name {name!r}: use letters, digits and underscores, not starting with a digit"
        )
    return name, device


def _parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("so101-udev-rules", __doc__)
    for role in ARM_ROLES:
        which = parser.add_mutually_exclusive_group()
        which.add_argument(f"--{role}-port", metavar="PORT", help=f"the {role} arm's port now, e.g. /dev/ttyACM0")
        which.add_argument(
            f"--{role}-usb",
            type=_usb_identity,
            metavar="VID:PID:SERIAL",
            help=f"the {role} arm's USB adapter identity, when it is not plugged in here",
        )
    parser.add_argument(
        "--camera",
        action="append",
        default=[],
        type=_camera_argument,
        metavar="NAME=/dev/videoN",
        help="name a camera /dev/so101_cam_NAME (repeatable)",
    )
    parser.add_argument("--output", type=Path, metavar="FILE", help="write the rules to FILE, not standard output")
    return parser


def _run(args: argparse.Namespace) -> int:
    arms = [_arm(role, getattr(args, f"{role}_port"), getattr(args, f"{role}_usb")) for role in ARM_ROLES]
    names = [name for name, _ in args.camera]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise cli.ToolError(f"camera name(s) given more than once: {', '.join(repeated)}")
    devices = [arm for arm in arms if arm is not None] + [_camera(name, device) for name, device in args.camera]
    if not devices:
        raise cli.ToolError("nothing to name: give --leader-port, --follower-port and/or --camera NAME=/dev/videoN")
    devices = tell_apart(devices)
    for device in devices:
        if device.usb.serial is None:
            cli.warn(
                f"{device.description} has no usable serial number, so its rule matches the USB socket "
                f"{device.usb.usb_path}: keep it plugged into that socket"
            )
    text = render_rules(devices)
    if args.output is None:
        print(text, end="")
        return cli.EXIT_OK
    try:
        args.output.write_text(text)
    except OSError as exc:
        raise cli.ToolError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"wrote {args.output}; install it with: sudo cp {args.output} {RULES_PATH} && {RELOAD_COMMAND}")
    return cli.EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(_parser(), _run, argv)
