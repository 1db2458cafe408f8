"""The so101-bus-emulator command as a user runs it: a subprocess, a link, signals."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import scservo_sdk as scs
import serial

from so101_hardware import sts_protocol
from so101_hardware.bus import BusConfig, FeetechBus
from so101_hardware.emulator import BusEmulator, EmulatorConfig, LinkError

pytestmark = pytest.mark.timeout(60)

REPO = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("hardware", "calibration"))}


def start_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "so101_hardware.emulator.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def run_cli(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "so101_hardware.emulator.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=30)


def test_serves_on_the_link_until_sigint(tmp_path, sdk_client):
    link = tmp_path / "so101_test"
    process = start_cli("--link", str(link), "--no-uart-timing")
    try:
        banner = process.stdout.readline()  # printed once the port is up: no polling needed
        assert str(link) in banner and "Ctrl-C" in banner
        assert link.is_symlink()
        sdk = sdk_client(str(link))
        assert sdk.packet.ping(sdk.port, 1) == (777, scs.COMM_SUCCESS, 0)
        sdk.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not os.path.lexists(link)
    assert "Traceback" not in process.stderr.read()


def test_sigterm_also_exits_cleanly(tmp_path):
    link = tmp_path / "bus"
    process = start_cli("--link", str(link), "--role", "leader", "--ids", "1,2", "--seed", "3")
    try:
        assert "2 leader servo(s)" in process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not os.path.lexists(link)


def test_refuses_a_link_path_that_is_a_regular_file(tmp_path):
    occupied = tmp_path / "occupied"
    occupied.write_text("not a pty")
    result = run_cli("--link", str(occupied))
    assert result.returncode == 2
    assert "exists and is not a symlink" in result.stderr and "Traceback" not in result.stderr
    assert occupied.read_text() == "not a pty"


def test_refuses_a_link_in_a_missing_directory(tmp_path):
    result = run_cli("--link", str(tmp_path / "nowhere" / "bus"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_bad_arguments_are_one_line_errors():
    result = run_cli("--error-bits", "3-32")
    assert result.returncode == 2 and "ID:MASK" in result.stderr and "Traceback" not in result.stderr
    result = run_cli("--drop-rate", "1.5")
    assert result.returncode == 2 and "drop_reply_rate" in result.stderr
    result = run_cli("--ids", "1,2", "--error-bits", "3:0x20")
    assert result.returncode == 2 and "motor 3, which is not in ids" in result.stderr
    result = run_cli("--stall", "6")
    assert result.returncode == 2 and "ID:TICKS" in result.stderr
    result = run_cli("--role", "leader", "--stall", "6:2000")
    assert result.returncode == 2 and "follower bus" in result.stderr
    result = run_cli("--power-cycle-at", "-1")
    assert result.returncode == 2 and "power_cycle_at_s" in result.stderr


def test_a_live_link_is_refused_naming_the_flags_that_move_it(tmp_path):
    link = tmp_path / "bus"
    with BusEmulator(EmulatorConfig(link=str(link), uart_timing=False)):
        with pytest.raises(LinkError, match=f"another running emulator \\(process {os.getpid()}\\)") as refused:
            BusEmulator(EmulatorConfig(link=str(link))).start()
    for flag in ("so101-bus-emulator --link", "so101 run ... --emulator-dir", "emulator_dir:="):
        assert flag in str(refused.value)
    assert "choose another --link" not in str(refused.value)


@pytest.mark.parametrize("left_behind", ["dangling", "a reused terminal"])
def test_a_link_left_by_a_killed_emulator_is_replaced(tmp_path, left_behind):
    link = tmp_path / "bus"
    killed = start_cli("--link", str(link), "--no-uart-timing")
    try:
        assert str(link) in killed.stdout.readline()
        killed.kill()  # SIGKILL: the link stays, pointing at a pts name the kernel will hand out again
        killed.wait(timeout=10)
    finally:
        killed.stdout.close()
        killed.stderr.close()
    assert link.is_symlink()
    master, slave = os.openpty()  # another program's terminal, possibly on the very same /dev/pts name
    try:
        link.unlink()
        link.symlink_to(os.ttyname(slave) if left_behind == "a reused terminal" else tmp_path / "gone")
        assert os.path.exists(link) is (left_behind == "a reused terminal")
        with BusEmulator(EmulatorConfig(link=str(link), uart_timing=False)) as emulator:
            assert os.readlink(link) != os.ttyname(slave) and emulator.port == str(link)
    finally:
        os.close(master)
        os.close(slave)
    assert list(tmp_path.iterdir()) == [], "a clean stop removes the link and its lock file"


def test_power_cycles_from_the_command_line_and_sigusr1(tmp_path):
    link = tmp_path / "bus"
    process = start_cli("--link", str(link), "--no-uart-timing", "--power-cycle-at", "0.2", "--stall", "6:2100")
    try:
        assert "SIGUSR1" in process.stdout.readline()
        with serial.Serial(str(link), 1_000_000, timeout=2) as port:
            def torque_enable() -> int:
                port.reset_input_buffer()
                port.write(sts_protocol.read(1, 40, 1))
                return sts_protocol.parse_packet(port.read(7)).packet.params[0]

            def enable() -> None:
                port.write(sts_protocol.write(1, 40, b"\x01"))
                assert port.read(6) == sts_protocol.status(1)

            deadline = time.monotonic() + 10
            enable()
            while torque_enable() == 1:  # until the scheduled brown-out at 0.2 s
                assert time.monotonic() < deadline, "no power cycle"
            enable()
            process.send_signal(signal.SIGUSR1)
            while torque_enable() == 1:
                assert time.monotonic() < deadline, "SIGUSR1 did not power-cycle"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.stderr.read().count("power-cycled") == 2


def test_the_emulator_outlives_a_client_that_holds_the_port(tmp_path):
    """Ctrl-C reaches the nodes and the emulator together: a node releasing torque must still find its bus."""
    link = tmp_path / "bus"
    process = start_cli("--link", str(link), "--no-uart-timing", "--linger-s", "30")
    try:
        process.stdout.readline()
        with FeetechBus(BusConfig(str(link))) as bus:  # exclusive, as every node opens its arm
            process.send_signal(signal.SIGINT)  # Ctrl-C reaches the whole process group...
            process.send_signal(signal.SIGINT)  # ...and ros2 launch sends its own SIGINT too
            for _ in range(5):  # still answering after the signals
                assert bus.ping(1) == 777
            bus.write(1, "Torque_Enable", 0)
            assert process.poll() is None
        assert process.wait(timeout=10) == 0  # the client let go: the emulator stops
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_sigterm_while_lingering_stops_the_emulator_at_once(tmp_path):
    """What ros2 launch escalates to when a process outstays its SIGINT."""
    link = tmp_path / "bus"
    process = start_cli("--link", str(link), "--no-uart-timing", "--linger-s", "60")
    try:
        process.stdout.readline()
        with FeetechBus(BusConfig(str(link))) as bus:
            process.send_signal(signal.SIGINT)
            assert bus.ping(1) == 777  # the first signal was received and the emulator still serves
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
