"""Configuration validation and the emulator's lifecycle and bookkeeping."""
from __future__ import annotations

import os

import pytest

from so101_hardware.emulator import BusEmulator, EmulatorConfig, FaultConfig

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ids": ()}, "at least one"),
        ({"ids": (1, 1)}, "unique"),
        ({"ids": (254,)}, "outside"),
        ({"baudrate": 2_000_000}, "not an STS3215 rate"),
        ({"role": "puppet"}, "role"),
        ({"initial_positions": {7: 100}}, "not in ids"),
        ({"initial_positions": {1: 4096}}, "outside 0..4095"),
        ({"faults": FaultConfig(error_bits={9: 0x20})}, "not in ids"),
        ({"goal_log_limit": 0}, "goal_log_limit"),
    ],
)
def test_invalid_configs_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        EmulatorConfig(**fields)


@pytest.mark.parametrize(
    "fields",
    [{"drop_reply_rate": -0.1}, {"corrupt_checksum_rate": 2}, {"latency_spike_s": -1}, {"error_bits": {1: 256}}],
)
def test_invalid_faults_are_refused(fields):
    with pytest.raises(ValueError):
        FaultConfig(**fields)


def test_servos_start_at_the_configured_baud_and_ids():
    emulator = BusEmulator(EmulatorConfig(ids=(3, 7), baudrate=115_200))
    assert emulator.servo(7).read_register("ID") == 7
    assert emulator.servo(3).read_register("Baud_Rate") == 4
    with pytest.raises(KeyError, match="no emulated servo 1"):
        emulator.servo(1)


def test_default_rest_pose_is_seeded_and_near_mid_range():
    first = BusEmulator(EmulatorConfig(seed=4))
    second = BusEmulator(EmulatorConfig(seed=4))
    poses = [[e.servo(i).actual_position for i in range(1, 7)] for e in (first, second)]
    assert poses[0] == poses[1]
    assert all(abs(p - 2048) <= 40 for p in poses[0])


def test_each_emulator_mutates_its_own_copy_of_the_faults():
    config = EmulatorConfig(faults=FaultConfig(error_bits={1: 0x20}))
    emulator = BusEmulator(config)
    emulator.faults.drop_reply_rate = 1.0
    emulator.clear_error_bits(1)
    assert config.faults.drop_reply_rate == 0.0 and config.faults.error_bits == {1: 0x20}


def test_goal_log_is_a_bounded_copy():
    emulator = BusEmulator(EmulatorConfig(goal_log_limit=3))
    for goal in range(1000, 1005):
        emulator.servo(1).write_register("Goal_Position", goal)
    log = emulator.goal_log
    assert [r.goal_ticks for r in log] == [1002, 1003, 1004]
    log.clear()
    assert len(emulator.goal_log) == 3


def test_stop_is_idempotent_and_removes_the_link(tmp_path):
    link = tmp_path / "bus"
    emulator = BusEmulator(EmulatorConfig(link=str(link), uart_timing=False)).start()
    assert os.readlink(link).startswith("/dev/pts/")
    with pytest.raises(RuntimeError, match="already running"):
        emulator.start()
    emulator.stop()
    emulator.stop()
    assert not os.path.lexists(link)
    with pytest.raises(RuntimeError, match="start"):
        emulator.unplug_bus()


def test_port_without_a_link_is_the_pty_slave():
    with BusEmulator(EmulatorConfig(uart_timing=False)) as emulator:
        assert emulator.port.startswith("/dev/pts/")
