"""Fixtures shared by every suite: emulated buses on real ptys, each test in its own tmp_path."""
from __future__ import annotations

import os

import pytest

from so101_hardware.emulator import BusEmulator, EmulatorConfig


@pytest.fixture
def make_emulator(tmp_path):
    """Factory: make_emulator(**EmulatorConfig fields) → a started BusEmulator, stopped after the test.

    UART timing is off by default here (tests assert behaviour, not speed); pass uart_timing=True
    where the timing model itself matters.
    """
    started: list[BusEmulator] = []

    def make(**overrides) -> BusEmulator:
        fields = {"link": str(tmp_path / f"so101_bus{len(started)}"), "uart_timing": False, **overrides}
        emulator = BusEmulator(EmulatorConfig(**fields))
        emulator.start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in reversed(started):
        emulator.stop()


# --- hardware-in-the-loop: emulated by default, real arms when their ports are given -----------


# Timing-sensitive beyond the HIL folder: the policy driving the follower through ROS in real time,
# and the calibration wizard's live table read through a terminal (a redraw stalled for 30 s once
# next to the rerun tests' server processes; it passes alone).
SERIAL_MODULES = ("/tests/integration/test_deploy.py", "/tests/integration/test_takeover.py",
                  "/tests/unit/calibration/test_wizard_terminal.py")


def pytest_collection_modifyitems(config, items):
    """HIL tests and real-time end-to-end tests run in the serial phase of `make test`."""
    for item in items:
        path = str(item.fspath)
        if "/tests/hil/" in path or path.endswith(SERIAL_MODULES):
            item.add_marker(pytest.mark.serial)



def pytest_addoption(parser):
    group = parser.getgroup("so101 hardware-in-the-loop")
    group.addoption("--leader-port", default=os.environ.get("SO101_LEADER_PORT"), help="real leader arm port")
    group.addoption("--follower-port", default=os.environ.get("SO101_FOLLOWER_PORT"), help="real follower arm port")
    group.addoption("--leader-id", default=os.environ.get("SO101_LEADER_ID", "leader"), help="leader calibration id")
    group.addoption("--follower-id", default=os.environ.get("SO101_FOLLOWER_ID", "follower"), help="follower calibration id")
    group.addoption("--calibration-dir", default=os.environ.get("SO101_CALIBRATION"), help="calibration file or dir")
    group.addoption(
        "--allow-motion",
        action="store_true",
        default=os.environ.get("SO101_ALLOW_MOTION") == "1",
        help="real arms only: allow the tests that move the follower (keep clear of the arm)",
    )


@pytest.fixture
def rig_ports(request):
    from tests_support.rig import RigPorts

    opt = request.config.getoption
    ports = RigPorts(opt("--leader-port"), opt("--follower-port"), opt("--leader-id"), opt("--follower-id"),
                     opt("--calibration-dir"))
    if ports.real and request.node.get_closest_marker("moves_follower") and not opt("--allow-motion"):
        pytest.skip("moves the real follower: pass --allow-motion (and keep clear of the arm)")
    return ports


@pytest.fixture
def ros(request):
    """An initialized rclpy Context on this test's own domain."""
    from tests_support.ros import ros_context

    with ros_context() as context:
        yield context
