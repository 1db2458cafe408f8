"""Bad input through the bus tools: a clear one-line error that says what to do, never a traceback."""
from __future__ import annotations

import errno
import os

import pytest
import serial

from so101_hardware.bus import BusConfig, FeetechBus
from so101_hardware.tools import scan, setup_motors

TOOLS = [
    pytest.param(scan.main, [], id="so101-scan"),
    pytest.param(setup_motors.main, ["--joint", "gripper"], id="so101-setup-motors"),
]


@pytest.fixture
def confirm_prompts(monkeypatch):
    """Setup-motors asks first; the operator presses Enter."""
    monkeypatch.setattr("builtins.input", lambda _prompt: "")


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("error:") == 1
    return err


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("main", "extra"), TOOLS)
def test_missing_port_names_it_and_points_to_find_port(main, extra, tmp_path, confirm_prompts, capsys):
    port = str(tmp_path / "ttyACM9")
    assert main(["--port", port, *extra]) == 1
    err = _error(capsys)
    assert f"{port} does not exist" in err and "so101-find-port" in err


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("main", "extra"), TOOLS)
def test_regular_file_is_not_a_serial_port(main, extra, tmp_path, confirm_prompts, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("not a serial port\n")
    assert main(["--port", str(path), *extra]) == 1
    assert f"{path} is not a serial port" in _error(capsys)


@pytest.mark.timeout(30)
def test_pty_without_servos_is_not_a_servo_bus(silent_pty, capsys):
    assert scan.main(["--port", silent_pty]) == 1
    err = _error(capsys)
    assert "nothing answered" in err and "is the servo bus" in err


@pytest.mark.timeout(30)
def test_setup_on_a_pty_without_servos_says_no_servo_answered(silent_pty, confirm_prompts, capsys):
    assert setup_motors.main(["--port", silent_pty, "--joint", "gripper"]) == 1
    err = _error(capsys)
    assert "no servo answered" in err and "at any baud rate" in err and "power supply" in err


@pytest.mark.timeout(30)
def test_wrong_baud_suggests_scanning_every_rate(start_emulator, capsys):
    emulator = start_emulator(ids=(1, 2, 3, 4, 5, 6), baudrate=500_000)
    assert scan.main(["--port", emulator.port, "--baud", "1000000"]) == 1
    err = _error(capsys)
    assert "nothing answered on" in err and "at 1000000 baud" in err and "try --baud all" in err


@pytest.mark.timeout(30)
def test_missing_motor_is_named(start_emulator, capsys):
    emulator = start_emulator(ids=(1, 2, 3, 4, 5, 6))
    emulator.unplug_motor(3)
    assert scan.main(["--port", emulator.port]) == 0
    assert "3 (elbow_flex)" in capsys.readouterr().out


@pytest.mark.timeout(30)
def test_busy_port_says_another_program_has_it(start_emulator, capsys):
    emulator = start_emulator()
    with FeetechBus(BusConfig(emulator.port)):  # another program owns the bus
        assert scan.main(["--port", emulator.port]) == 1
    assert "in use by another process" in _error(capsys)


@pytest.mark.timeout(30)
@pytest.mark.skipif(os.geteuid() == 0, reason="root may open any device")
def test_no_permission_mentions_dialout(silent_pty, capsys):
    os.chmod(silent_pty, 0)
    assert scan.main(["--port", silent_pty]) == 1
    assert "dialout" in _error(capsys)


@pytest.mark.timeout(30)
def test_permission_denied_as_pyserial_reports_it_mentions_dialout_and_udev(silent_pty, monkeypatch, capsys):
    """The same case where the tests run as root: pyserial's own EACCES error, simulated."""

    def permission_denied(port, *_args, **_kwargs):
        message = f"could not open port {port}: [Errno 13] Permission denied: '{port}'"
        raise serial.SerialException(errno.EACCES, message)

    monkeypatch.setattr(serial, "Serial", permission_denied)
    assert scan.main(["--port", silent_pty]) == 1
    err = _error(capsys)
    assert f"no permission to open {silent_pty}" in err and "dialout" in err and "so101-udev-rules" in err
