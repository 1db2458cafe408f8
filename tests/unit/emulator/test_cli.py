"""The so101-bus-emulator command as a user runs it: a subprocess, a link, signals."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import scservo_sdk as scs

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


def test_a_live_link_is_refused_and_a_stale_one_replaced(tmp_path):
    link = tmp_path / "bus"
    with BusEmulator(EmulatorConfig(link=str(link), uart_timing=False)):
        with pytest.raises(LinkError, match="another emulator"):
            BusEmulator(EmulatorConfig(link=str(link))).start()
    link.symlink_to(tmp_path / "gone")  # dangling: what a killed emulator leaves behind
    with BusEmulator(EmulatorConfig(link=str(link), uart_timing=False)) as emulator:
        assert os.readlink(link) != str(tmp_path / "gone") and emulator.port == str(link)
    assert not os.path.lexists(link)
