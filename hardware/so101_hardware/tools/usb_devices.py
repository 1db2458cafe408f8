"""The USB identity (vendor, product, serial number, socket) behind a serial port or a camera node.

udev rules match on these attributes of the USB device, not on /dev names, because ttyACM and
video numbers follow plug-in order and swap between boots (docs/reference/lerobot.md §11 item 8).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol

from serial.tools import list_ports

from so101_hardware.tools.cli import ToolError

_HEX4 = re.compile(r"[0-9a-f]{4}")
_VIDEO_NODE = re.compile(r"video\d+")
# Characters udev would read as glob syntax or the end of the value; no real serial number has them.
_UNSAFE_IN_RULE = re.compile(r'[\s"*?\[\]|\\]')


@dataclass(frozen=True)
class UsbIdentity:
    """What a udev rule can match a USB device by.

    vendor_id, product_id: 4 lowercase hex digits, as in sysfs idVendor/idProduct.
    serial: the device's serial number; None when it has none (many CH340 adapters).
    usb_path: the USB device's kernel name, e.g. "1-1.2": it names the socket the device is
              plugged into, the fallback when there is no serial number.
    """

    vendor_id: str
    product_id: str
    serial: str | None = None
    usb_path: str | None = None

    def __post_init__(self) -> None:
        for name in ("vendor_id", "product_id"):
            if not _HEX4.fullmatch(getattr(self, name)):
                raise ValueError(f"{name} must be 4 lowercase hex digits, got {getattr(self, name)!r}")
        for name in ("serial", "usb_path"):
            value = getattr(self, name)
            if value is not None and (not value or _UNSAFE_IN_RULE.search(value)):
                raise ValueError(f"{name} {value!r} cannot be matched exactly by a udev rule")
        if self.serial is None and self.usb_path is None:
            raise ValueError("a USB identity needs a serial number or a USB path, or it matches every such device")

    def by_socket(self) -> UsbIdentity:
        """The same device matched by the socket it is plugged into instead of its serial number."""
        if self.usb_path is None:
            raise ValueError("no USB path known for this device")
        return UsbIdentity(self.vendor_id, self.product_id, None, self.usb_path)


def parse_usb_identity(text: str) -> UsbIdentity:
    """'VID:PID:SERIAL' as `udevadm info -a -n /dev/ttyACM0` or lsusb show them, e.g. 1a86:55d3:5A7A016934."""
    parts = text.split(":", 2)
    if len(parts) != 3 or not parts[2]:
        raise ValueError(f"expected VID:PID:SERIAL (e.g. 1a86:55d3:5A7A016934), got {text!r}")
    return UsbIdentity(parts[0].lower(), parts[1].lower(), parts[2])


class SerialPortInfo(Protocol):
    """The part of pyserial's ListPortInfo used here."""

    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    location: str | None


def serial_port_identity(port: str, ports: Iterable[SerialPortInfo] | None = None) -> UsbIdentity:
    """The USB identity of the adapter behind `port` (a /dev path or a symlink to one).

    ports defaults to pyserial's list_ports.comports(), which reads sysfs.
    """
    real = os.path.realpath(port)
    if not os.path.exists(real):
        raise ToolError(f"{port} does not exist. Is the arm plugged in? so101-find-port tells which port it is.")
    for info in list_ports.comports() if ports is None else ports:
        if os.path.realpath(info.device) != real or info.vid is None or info.pid is None:
            continue
        # pyserial's location is the USB device name, plus ":config.interface" for multi-interface
        # devices such as CDC-ACM adapters; udev's KERNELS for the device is the part before ':'.
        usb_path = info.location.split(":")[0] if info.location else None
        try:
            return UsbIdentity(f"{info.vid:04x}", f"{info.pid:04x}", _matchable(info.serial_number), usb_path)
        except ValueError as exc:  # neither a usable serial number nor a USB path
            raise ToolError(f"{port}: {exc}; give its identity as VID:PID:SERIAL instead") from None
    shown = port if real == port else f"{port} (-> {real})"
    raise ToolError(
        f"{shown} is not a USB serial device (an emulated bus and built-in serial ports have no USB identity), "
        "so no udev rule can name it. Give the arm's USB port, or its identity as VID:PID:SERIAL "
        "(shown by `udevadm info -a -n /dev/ttyACM0`)."
    )


def camera_identity(device: str, sysfs: Path = Path("/sys")) -> tuple[UsbIdentity, int]:
    """The USB identity of the camera behind a /dev/videoN node, and that node's V4L index.

    A USB camera has several nodes (capture, metadata) told apart by their index; 0 is capture.
    """
    node = os.path.basename(os.path.realpath(device))
    if not _VIDEO_NODE.fullmatch(node):
        raise ToolError(f"{device} is not a /dev/videoN camera node")
    class_dir = sysfs / "class" / "video4linux" / node
    if not class_dir.is_dir():
        raise ToolError(
            f"{device}: no such camera ({class_dir} is missing). Is it plugged in? "
            "`v4l2-ctl --list-devices` lists the cameras."
        )
    usb_dir = _usb_device_dir((class_dir / "device").resolve(), sysfs)
    if usb_dir is None:
        raise ToolError(f"{device} is not a USB camera (built-in or virtual): no udev rule can name it by USB identity")
    index = int(_optional_attribute(class_dir, "index") or 0)
    identity = UsbIdentity(
        (usb_dir / "idVendor").read_text().strip(),
        (usb_dir / "idProduct").read_text().strip(),
        _matchable(_optional_attribute(usb_dir, "serial")),
        usb_dir.name,
    )
    return identity, index


def _optional_attribute(directory: Path, name: str) -> str | None:
    path = directory / name
    return path.read_text().strip() if path.is_file() else None


def _matchable(serial: str | None) -> str | None:
    """The serial number if a rule can match it exactly; else None, so the socket is used instead."""
    return serial if serial and not _UNSAFE_IN_RULE.search(serial) else None


def _usb_device_dir(start: Path, sysfs: Path) -> Path | None:
    """The nearest ancestor of a sysfs device directory that is a USB device (has idVendor)."""
    for directory in (start, *start.parents):
        if directory == sysfs:
            return None
        if (directory / "idVendor").is_file() and (directory / "idProduct").is_file():
            return directory
    return None
