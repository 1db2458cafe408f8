"""so101-udev-rules: exact rule text, USB identity lookup (pyserial info, sysfs), and refusals."""
from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from so101_hardware.tools import cli, udev_rules
from so101_hardware.tools.udev_rules import DeviceKind, NamedDevice
from so101_hardware.tools.usb_devices import UsbIdentity, camera_identity, parse_usb_identity, serial_port_identity

LEADER = NamedDevice(
    "so101_leader", DeviceKind.SERIAL, UsbIdentity("1a86", "55d3", "5A7A016934", "1-1.2"), "leader arm: /dev/ttyACM0"
)
FOLLOWER = NamedDevice(
    "so101_follower", DeviceKind.SERIAL, UsbIdentity("1a86", "7523", None, "1-1.3"), "follower arm: /dev/ttyUSB0"
)
WRIST = NamedDevice(
    "so101_cam_wrist", DeviceKind.CAMERA, UsbIdentity("046d", "0825", "8A1B2C3D", "3-2"), "camera wrist: /dev/video2"
)

EXPECTED = "\n".join(
    [
        "# udev rules for SO-101 arms and cameras, written by so101-udev-rules: each device gets a",
        "# fixed name in /dev, whatever order it was plugged in.",
        "# Install, then re-plug the devices:",
        "#   sudo cp 99-so101.rules /etc/udev/rules.d/99-so101.rules",
        "#   sudo udevadm control --reload-rules && sudo udevadm trigger",
        "# Arms become group dialout and cameras group video; your user must be in both groups",
        "# (sudo usermod -aG dialout,video $USER, then log out and back in).",
        "",
        "# leader arm: /dev/ttyACM0",
        'SUBSYSTEM=="tty", ATTRS{idVendor}=="1a86", ATTRS{idProduct}=="55d3", ATTRS{serial}=="5A7A016934", '
        'SYMLINK+="so101_leader", MODE="0660", GROUP="dialout"',
        "",
        "# follower arm: /dev/ttyUSB0",
        "# matched by USB socket 1-1.3 (no usable serial number): keep it there",
        'SUBSYSTEM=="tty", KERNELS=="1-1.3", ATTRS{idVendor}=="1a86", ATTRS{idProduct}=="7523", '
        'SYMLINK+="so101_follower", MODE="0660", GROUP="dialout"',
        "",
        "# camera wrist: /dev/video2",
        'SUBSYSTEM=="video4linux", ATTRS{idVendor}=="046d", ATTRS{idProduct}=="0825", ATTRS{serial}=="8A1B2C3D", '
        'ATTR{index}=="0", SYMLINK+="so101_cam_wrist", MODE="0660", GROUP="video"',
        "",
    ]
)


def test_render_rules_exact_text():
    assert udev_rules.render_rules([LEADER, FOLLOWER, WRIST]) == EXPECTED


def test_identical_adapters_are_told_apart_by_socket():
    same_serial = UsbIdentity("1a86", "55d3", "5A7A016934", "1-1.4")
    twin = NamedDevice("so101_follower", DeviceKind.SERIAL, same_serial, "follower arm: /dev/ttyACM1")
    leader, follower = udev_rules.tell_apart([LEADER, twin])
    assert (leader.usb.serial, leader.usb.usb_path) == (None, "1-1.2")
    assert (follower.usb.serial, follower.usb.usb_path) == (None, "1-1.4")
    assert udev_rules.tell_apart([LEADER, FOLLOWER, WRIST]) == [LEADER, FOLLOWER, WRIST]


def test_the_same_device_twice_is_refused():
    again = NamedDevice("so101_follower", DeviceKind.SERIAL, LEADER.usb, "follower arm: /dev/ttyACM0")
    with pytest.raises(cli.ToolError, match="are the same device"):
        udev_rules.tell_apart([LEADER, again])


def test_identical_manual_identities_cannot_be_told_apart():
    usb = parse_usb_identity("1a86:55d3:0001")
    devices = [NamedDevice(f"so101_{role}", DeviceKind.SERIAL, usb, role) for role in ("leader", "follower")]
    with pytest.raises(cli.ToolError):
        udev_rules.tell_apart(devices)


def test_parse_usb_identity():
    assert parse_usb_identity("1A86:55D3:5A7A016934") == UsbIdentity("1a86", "55d3", "5A7A016934")
    for bad in ("1a86:55d3", "1a86:55d3:", "xyz:55d3:1", '1a86:55d3:a"b', "1a86:55d3:ab*"):
        with pytest.raises(ValueError):
            parse_usb_identity(bad)


def test_serial_port_identity_from_pyserial_info(tmp_path):
    node = tmp_path / "ttyACM0"
    node.touch()
    link = tmp_path / "so101_leader"
    link.symlink_to(node)
    ports = [
        SimpleNamespace(device="/dev/ttyS0", vid=None, pid=None, serial_number=None, location=None),
        SimpleNamespace(device=str(node), vid=0x1A86, pid=0x55D3, serial_number="5A7A016934", location="1-1.2:1.0"),
    ]
    assert serial_port_identity(str(link), ports) == UsbIdentity("1a86", "55d3", "5A7A016934", "1-1.2")


def test_serial_number_a_rule_cannot_match_falls_back_to_the_socket(tmp_path):
    node = tmp_path / "ttyUSB0"
    node.touch()
    ports = [SimpleNamespace(device=str(node), vid=0x1A86, pid=0x7523, serial_number="", location="1-1.3")]
    assert serial_port_identity(str(node), ports) == UsbIdentity("1a86", "7523", None, "1-1.3")


def test_a_pty_is_not_a_usb_device(silent_pty):
    with pytest.raises(cli.ToolError, match="is not a USB serial device"):
        serial_port_identity(silent_pty)


@pytest.mark.timeout(30)
def test_main_with_an_emulated_bus_says_it_is_not_usb(start_emulator, capsys):
    emulator = start_emulator()
    assert udev_rules.main(["--leader-port", emulator.port]) == 1
    err = capsys.readouterr().err
    assert f"so101-udev-rules: error: {emulator.port} (-> /dev/pts/" in err
    assert "is not a USB serial device" in err and "VID:PID:SERIAL" in err


def test_main_missing_port_names_it(tmp_path, capsys):
    missing = tmp_path / "ttyACM7"
    assert udev_rules.main(["--follower-port", str(missing)]) == 1
    err = capsys.readouterr().err
    assert f"{missing} does not exist" in err and "so101-find-port" in err


def test_main_with_manual_identities_writes_the_file(tmp_path, capsys):
    output = tmp_path / "99-so101.rules"
    argv = ["--leader-usb", "1a86:55d3:AAA1", "--follower-usb", "1a86:55d3:AAA2", "--output", str(output)]
    assert udev_rules.main(argv) == 0
    text = output.read_text()
    assert 'ATTRS{serial}=="AAA1", SYMLINK+="so101_leader"' in text
    assert 'ATTRS{serial}=="AAA2", SYMLINK+="so101_follower"' in text
    assert "# leader arm: USB device given as 1a86:55d3:AAA1" in text
    out = capsys.readouterr().out
    assert f"wrote {output}" in out and "sudo udevadm control --reload-rules" in out


def test_main_unwritable_output_is_a_clear_error(tmp_path, capsys):
    output = tmp_path / "no-such-dir" / "99-so101.rules"
    assert udev_rules.main(["--leader-usb", "1a86:55d3:AAA1", "--output", str(output)]) == 1
    assert f"cannot write {output}" in capsys.readouterr().err


def test_main_without_devices_says_what_to_give(capsys):
    assert udev_rules.main([]) == 1
    assert "--leader-port" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argument", "message"),
    [("wrist", "expected NAME=/dev/videoN"), ("2cam=/dev/video0", "letters, digits and underscores")],
)
def test_bad_camera_argument_is_a_usage_error(argument, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        udev_rules.main(["--camera", argument])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def _fake_sysfs(root, node="video2", index=0, serial="8A1B2C3D"):
    """A sysfs tree with one USB camera: class/video4linux/<node>/device -> the USB interface."""
    usb_device = root / "devices" / "pci0000:00" / "0000:00:14.0" / "usb3" / "3-2"
    interface = usb_device / "3-2:1.0"
    interface.mkdir(parents=True)
    (usb_device / "idVendor").write_text("046d\n")
    (usb_device / "idProduct").write_text("0825\n")
    if serial is not None:
        (usb_device / "serial").write_text(f"{serial}\n")
    class_dir = root / "class" / "video4linux" / node
    class_dir.mkdir(parents=True)
    (class_dir / "index").write_text(f"{index}\n")
    os.symlink(interface, class_dir / "device")
    return root


def test_camera_identity_walks_up_to_the_usb_device(tmp_path):
    sysfs = _fake_sysfs(tmp_path / "sys")
    assert camera_identity("/dev/video2", sysfs) == (UsbIdentity("046d", "0825", "8A1B2C3D", "3-2"), 0)


def test_camera_without_serial_is_matched_by_socket(tmp_path):
    sysfs = _fake_sysfs(tmp_path / "sys", node="video4", index=1, serial=None)
    assert camera_identity("/dev/video4", sysfs) == (UsbIdentity("046d", "0825", None, "3-2"), 1)


def test_camera_that_is_not_usb_is_refused(tmp_path):
    sysfs = tmp_path / "sys"
    platform = sysfs / "devices" / "platform" / "csi0"
    platform.mkdir(parents=True)
    class_dir = sysfs / "class" / "video4linux" / "video0"
    class_dir.mkdir(parents=True)
    os.symlink(platform, class_dir / "device")
    with pytest.raises(cli.ToolError, match="not a USB camera"):
        camera_identity("/dev/video0", sysfs)


def test_missing_camera_and_non_video_path_are_refused(tmp_path):
    with pytest.raises(cli.ToolError, match="no such camera"):
        camera_identity("/dev/video9", tmp_path)
    with pytest.raises(cli.ToolError, match="not a /dev/videoN camera node"):
        camera_identity("/dev/ttyACM0", tmp_path)


def test_main_names_a_camera_by_its_capture_node(tmp_path, monkeypatch, capsys):
    sysfs = _fake_sysfs(tmp_path / "sys", node="video3", index=1)
    monkeypatch.setattr(udev_rules, "camera_identity", lambda device: camera_identity(device, sysfs))
    assert udev_rules.main(["--camera", "wrist=/dev/video3"]) == 0
    captured = capsys.readouterr()
    assert captured.out.endswith(
        "# camera wrist: /dev/video3\n"
        'SUBSYSTEM=="video4linux", ATTRS{idVendor}=="046d", ATTRS{idProduct}=="0825", ATTRS{serial}=="8A1B2C3D", '
        'ATTR{index}=="0", SYMLINK+="so101_cam_wrist", MODE="0660", GROUP="video"\n'
    )
    assert "not the capture node" in captured.err


def test_main_refuses_a_camera_name_given_twice(capsys):
    assert udev_rules.main(["--camera", "top=/dev/video0", "--camera", "top=/dev/video2"]) == 1
    assert "given more than once: top" in capsys.readouterr().err


def test_usb_port_without_serial_or_location_asks_for_the_identity(tmp_path):
    node = tmp_path / "ttyUSB1"
    node.touch()
    ports = [SimpleNamespace(device=str(node), vid=0x1A86, pid=0x7523, serial_number=None, location=None)]
    with pytest.raises(cli.ToolError, match="VID:PID:SERIAL"):
        serial_port_identity(str(node), ports)
