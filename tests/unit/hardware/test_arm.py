"""The SO-101 arm abstraction against emulated buses: handshake, LeRobot configuration, torque safety."""
from __future__ import annotations

import concurrent.futures

import numpy as np
import pytest

from so101_hardware.arm import FOLLOWER_GAINS, FOLLOWER_GRIPPER_PROTECTION, ArmRole, SO101Arm
from so101_hardware.bus import BusConfig, FeetechBus
from so101_hardware.errors import BusError, MissingMotorsError

pytestmark = pytest.mark.timeout(60)
START = {1: 1000, 2: 1500, 3: 2000, 4: 2500, 5: 3000, 6: 3500}


def arm_on(emu, role=ArmRole.FOLLOWER) -> SO101Arm:
    return SO101Arm(FeetechBus(BusConfig(emu.port, timeout_s=0.02, retries=1)), role)


def test_connect_checks_every_motor(make_emulator):
    arm = arm_on(make_emulator())
    assert arm.connect() == {i: 777 for i in range(1, 7)}
    arm.disconnect()


def test_a_motor_that_misses_its_first_pings_is_waited_for(make_emulator):
    """A servo just powered, or a bus starved of CPU while a graph starts, answers late: not missing."""
    emulator = make_emulator()
    emulator.unplug_motor(1)
    arm = arm_on(emulator)
    connecting = concurrent.futures.ThreadPoolExecutor(1).submit(arm.connect)
    assert emulator.wait_until(lambda: emulator.stats.packets_in >= 4, timeout_s=5), "the arm pinged motor 1"
    emulator.replug_motor(1)
    assert connecting.result(timeout=10) == {i: 777 for i in range(1, 7)}
    arm.disconnect()


def test_connect_names_every_missing_motor_and_closes_the_port(make_emulator):
    arm = arm_on(make_emulator(ids=(1, 2, 3, 4)))
    with pytest.raises(MissingMotorsError) as info:
        arm.connect()
    assert info.value.missing == {5: "wrist_roll", 6: "gripper"}
    assert "5 (wrist_roll), 6 (gripper)" in str(info.value) and "answered: 1, 2, 3, 4" in str(info.value)
    assert not arm.bus.is_open


def test_a_silent_bus_suggests_the_baud_rate(make_emulator):
    emulator = make_emulator(baudrate=500_000)  # the arm is at 500 kbps, the client at the default 1 Mbps
    with pytest.raises(MissingMotorsError) as info:
        arm_on(emulator).connect()
    message = str(info.value)
    assert "ids that answered: none" in message and "No motor answered at 1000000 baud" in message
    assert f"so101-scan --port {emulator.port} --baud all" in message


def test_two_servos_sharing_an_id_are_named_as_such(make_emulator):
    emulator = make_emulator()
    emulator.servo(4).write_register("ID", 3)  # motor 4 set to motor 3's id, as a swapped-in spare can be
    with pytest.raises(MissingMotorsError) as info:
        arm_on(emulator).connect()
    assert info.value.missing == {4: "wrist_flex"}
    assert "two servos share an id" in str(info.value) and "so101-setup-motors" in str(info.value)


def test_a_motor_on_a_stray_id_is_named(make_emulator):
    emulator = make_emulator()
    emulator.servo(6).write_register("ID", 9)
    with pytest.raises(MissingMotorsError, match="unexpected id\\(s\\) 9"):
        arm_on(emulator).connect()


def test_check_torque_tells_a_reboot_from_torque_switched_off(make_emulator):
    emulator = make_emulator()
    arm = SO101Arm(FeetechBus(BusConfig(emulator.port)), ArmRole.FOLLOWER)  # default reply window
    arm.connect()
    arm.configure()
    arm.enable_torque()
    assert not arm.check_torque()
    emulator.servo(2).write_register("Torque_Enable", 0)
    assert arm.check_torque().torque_lost == (2,) and not arm.torque_enabled
    emulator.power_cycle()
    assert arm.check_torque().rebooted == (1, 2, 3, 4, 5, 6)
    arm.restore_ram_settings()
    assert not arm.check_torque()
    arm.disconnect()


def test_follower_configuration_is_lerobots_and_persists(make_emulator):
    emu = make_emulator()
    arm = arm_on(emu)
    arm.connect()
    assert arm.configure() > 0
    assert arm.configure() == 0, "a second configure finds every value in place and writes nothing"
    emu.power_cycle()  # written with Lock=0, so it is in EEPROM
    for motor_id in range(1, 7):
        servo = emu.servo(motor_id)
        assert {name: servo.read_register(name) for name in FOLLOWER_GAINS} == FOLLOWER_GAINS
        assert servo.read_register("Return_Delay_Time") == 0
        assert servo.read_register("Maximum_Acceleration") == 254
    gripper = emu.servo(6)
    assert {name: gripper.read_register(name) for name in FOLLOWER_GRIPPER_PROTECTION} == FOLLOWER_GRIPPER_PROTECTION
    assert emu.servo(1).read_register("Max_Torque_Limit") == 1000
    arm.disconnect()


def test_leader_keeps_default_gains_and_refuses_torque(make_emulator):
    emu = make_emulator(role="leader")
    arm = arm_on(emu, ArmRole.LEADER)
    arm.connect()
    arm.configure()
    assert emu.servo(1).read_register("P_Coefficient") == 32
    with pytest.raises(BusError, match="torque stays off"):
        arm.enable_torque()
    assert all(emu.servo(i).read_register("Torque_Enable") == 0 for i in range(1, 7))
    arm.disconnect()


def test_enable_torque_holds_the_present_pose(make_emulator):
    emu = make_emulator(initial_positions=START)
    arm = arm_on(emu)
    arm.connect()
    present = arm.enable_torque()
    assert present.tolist() == list(START.values())
    first_goals = {record.motor_id: record for record in emu.goal_log[:6]}
    assert {mid: r.goal_ticks for mid, r in first_goals.items()} == START
    assert not any(r.torque_enabled for r in first_goals.values()), "goal must be set before torque is on"
    assert all(emu.servo(i).read_register("Torque_Enable") == 1 for i in range(1, 7))
    np.testing.assert_array_equal(arm.read_positions(), present)  # enabling torque moved nothing
    arm.disconnect()
    assert all(emu.servo(i).read_register("Torque_Enable") == 0 for i in range(1, 7))


def test_no_torque_without_a_valid_read(make_emulator):
    emu = make_emulator()
    arm = arm_on(emu)
    arm.connect()
    emu.unplug_motor(3)
    with pytest.raises(BusError, match="motor 3"):
        arm.enable_torque()
    assert not arm.torque_enabled
    assert all(emu.servo(i).read_register("Torque_Enable") == 0 for i in range(1, 7))
    assert emu.goal_log == []


def test_disconnect_releases_the_other_motors_when_one_is_dead(make_emulator):
    emu = make_emulator()
    arm = arm_on(emu)
    arm.connect()
    arm.enable_torque()
    emu.unplug_motor(2)
    arm.disconnect()
    assert not arm.bus.is_open
    assert [emu.servo(i).read_register("Torque_Enable") for i in (1, 3, 4, 5, 6)] == [0] * 5


def test_disconnect_with_the_adapter_gone_says_so_once(make_emulator, caplog):
    emu = make_emulator()
    arm = SO101Arm(FeetechBus(BusConfig(emu.port)), ArmRole.FOLLOWER)
    arm.connect()
    arm.enable_torque()
    emu.unplug_bus()
    arm.disconnect()
    warnings = [r.getMessage() for r in caplog.records if "could not release torque" in r.getMessage()]
    assert len(warnings) == 1 and "the servos hold until powered off" in warnings[0]


def test_goal_writes_validate_their_input(make_emulator):
    emu = make_emulator()
    arm = arm_on(emu)
    arm.connect()
    with pytest.raises(ValueError, match="expected 6 goal positions"):
        arm.write_goal_positions([2048] * 5)
    with pytest.raises(KeyError, match="elbow"):
        arm.write_goal_positions({"elbow": 2048})
    with pytest.raises(ValueError):
        arm.write_goal_positions([2048, 2048, float("nan"), 2048, 2048, 2048])
    arm.write_goal_positions({"gripper": 2222})
    assert emu.wait_until(lambda: emu.servo(6).read_register("Goal_Position") == 2222, 5)
    arm.disconnect()


def test_read_state_is_one_consistent_snapshot(make_emulator):
    emu = make_emulator(initial_positions=START)
    arm = arm_on(emu)
    arm.connect()
    state = arm.read_state()
    assert state.positions.tolist() == list(START.values())
    assert state.velocities.shape == state.loads.shape == (6,)
    arm.disconnect()
