"""The follower controller on an emulated bus: the only path to Goal_Position."""
import time

import numpy as np
import pytest

from so101_calibration import ArmRole, UnitConverter, read_calibration_file
from so101_hardware.arm import SO101Arm
from so101_hardware.bus import BusConfig, FeetechBus
from so101_hardware.errors import ServoFaultError
from so101_hardware.follower import GRIPPER, FollowerConfig, FollowerController
from so101_hardware.sts_protocol import ServoErrorBits
from tests_support.rig import write_emulated_calibration

pytestmark = pytest.mark.timeout(60)

START_TICKS = {1: 2048, 2: 1500, 3: 2600, 4: 2400, 5: 2048, 6: 2000}


def make_follower(make_emulator, tmp_path, emulator=None, **config):
    """A configured follower arm (as connect_arm leaves it) on an emulated bus, and its controller."""
    path = write_emulated_calibration(tmp_path / "follower.json")
    emu = make_emulator(calibration=str(path), initial_positions=START_TICKS, **(emulator or {}))
    arm = SO101Arm(FeetechBus(BusConfig(emu.port, raise_on_servo_error=False)), ArmRole.FOLLOWER)
    arm.connect()
    arm.configure()
    config = FollowerConfig(port=emu.port, **{"max_velocity_rad_s": 2.0, "command_timeout_s": 0.2, **config})
    controller = FollowerController(arm, UnitConverter(read_calibration_file(path), use_degrees=True), config)
    return controller, emu


@pytest.fixture
def follower(make_emulator, tmp_path):
    controller, emu = make_follower(make_emulator, tmp_path)
    yield controller, emu
    controller.shutdown()


def torque(emu) -> list[int]:
    return [emu.servo(i).read_register("Torque_Enable") for i in range(1, 7)]


def test_start_holds_the_present_pose(follower):
    controller, emu = follower
    present = controller.start()
    tick = controller.tick(now=0.0)
    assert tick.holding
    np.testing.assert_allclose(tick.target, present)
    assert {r.goal_ticks for r in emu.goal_log if r.motor_id == 2} == {1500}


def test_a_command_is_tracked_within_the_velocity_limit_until_it_expires(follower):
    controller, emu = follower
    present = controller.start()
    controller.tick(0.0)
    controller.submit(present + 0.5, received_at=0.0)
    targets = np.array([controller.tick(0.01 * k).target for k in range(1, 30)])
    # The velocity limit is a token bucket with a two-tick burst (20 ms at 100 Hz): a step may
    # spend allowance saved earlier, but never more than v·(dt + burst), nor v·(T + burst) overall.
    velocity, burst = 2.0, 0.02
    assert np.abs(np.diff(targets, axis=0)).max() <= velocity * (0.01 + burst) + 1e-9
    assert np.abs(targets[-1] - targets[0]).max() <= velocity * (0.28 + burst) + 1e-9
    assert np.abs(targets[-1] - present).max() > 0.15, "the target really moved (within max_relative_target of the arm)"
    expired = controller.tick(0.5)  # 0.5 s after a command with a 0.2 s timeout
    assert expired.holding and controller.counters["commands_expired"] == 1
    np.testing.assert_allclose(expired.target, targets[-1])


def test_bad_commands_are_refused_at_once_and_counted(follower):
    controller, _ = follower
    controller.start()
    assert not controller.submit(np.full(6, np.nan), 0.0)
    assert not controller.submit(np.zeros(5), 0.0)
    assert controller.counters["rejected_non_finite"] == 1 and controller.counters["rejected_shape"] == 1


def test_estop_latches_holds_and_clears(follower):
    controller, emu = follower
    present = controller.start()
    controller.tick(0.0)
    controller.estop(True)
    controller.submit(present + 0.3, 0.01)
    held = controller.tick(0.02)
    assert held.holding
    np.testing.assert_allclose(held.target, present)
    controller.estop(False)
    assert controller.tick(0.03).holding, "commands sent during the e-stop do not resume after it"
    assert controller.counters["estop_engaged"] == 1


def test_estop_can_release_torque(make_emulator, tmp_path):
    path = write_emulated_calibration(tmp_path / "follower.json")
    emu = make_emulator(calibration=str(path))
    arm = SO101Arm(FeetechBus(BusConfig(emu.port, timeout_s=0.02)), ArmRole.FOLLOWER)
    arm.connect()
    arm.configure()
    controller = FollowerController(
        arm, UnitConverter(read_calibration_file(path), use_degrees=True),
        FollowerConfig(port=emu.port, estop_releases_torque=True),
    )
    controller.start()
    controller.estop(True)
    assert all(emu.servo(i).read_register("Torque_Enable") == 0 for i in range(1, 7))
    controller.estop(False)
    assert all(emu.servo(i).read_register("Torque_Enable") == 1 for i in range(1, 7))
    controller.shutdown()


# --- faults latch: brown-outs, servo errors, a lost port ---------------------------------------


def test_a_brown_out_latches_the_follower_off_until_the_operator_reenables(follower):
    controller, emu = follower
    present = controller.start()
    controller.tick(0.0)
    emu.power_cycle()  # every servo reboots: torque off, RAM at power-up values
    tick = controller.tick(1.0)
    assert tick.holding and "rebooted" in controller.fault and "brown-out" in controller.fault
    assert all(f"motor {i} (" in controller.fault for i in range(1, 7))
    assert torque(emu) == [0] * 6
    writes = len(emu.goal_log)
    controller.submit(present + 0.2, 1.01)
    controller.tick(1.02)
    assert len(emu.goal_log) == writes, "no goal is written while latched"
    controller.estop(True)
    controller.estop(False)  # clearing the e-stop is not a re-enable
    controller.tick(1.03)
    assert torque(emu) == [0] * 6 and controller.fault is not None
    assert controller.tick(5.0) and controller.counters["faults"] == 1, "reported once, not at every check"
    again = controller.reenable()
    assert torque(emu) == [1] * 6 and controller.fault is None
    assert emu.servo(1).read_register("Acceleration") == 254, "RAM settings restored"
    np.testing.assert_allclose(controller.tick(6.0).target, again)  # holding where it is, nothing moved


def test_torque_switched_off_behind_the_followers_back_latches_too(follower):
    controller, emu = follower
    controller.start()
    controller.tick(0.0)
    emu.servo(3).write_register("Torque_Enable", 0)
    controller.tick(1.0)
    assert controller.fault == "motor 3 (elbow_flex) lost torque (Torque_Enable reads 0)"


def test_a_servo_error_at_start_refuses_torque_naming_the_motor(make_emulator, tmp_path):
    controller, emu = make_follower(make_emulator, tmp_path)
    emu.set_error_bits(4, ServoErrorBits.OVERLOAD)
    with pytest.raises(ServoFaultError, match=r"motor 4 \(wrist_flex\) reports overload .*refusing to enable torque"):
        controller.start()
    assert torque(emu) == [0] * 6
    emu.clear_error_bits(4)
    controller.start()
    assert torque(emu) == [1] * 6
    controller.shutdown()


@pytest.mark.parametrize("reaction", ["hold", "release"])
def test_a_servo_error_while_running_latches_and_reacts_as_configured(make_emulator, tmp_path, reaction):
    controller, emu = make_follower(make_emulator, tmp_path, servo_error_reaction=reaction)
    present = controller.start()
    controller.tick(0.0)
    emu.set_error_bits(2, ServoErrorBits.OVERHEAT)
    controller.tick(0.01)
    assert controller.fault.startswith("motor 2 (shoulder_lift) reports overheat (let the servo cool down)")
    assert torque(emu) == ([1] * 6 if reaction == "hold" else [1, 0, 1, 1, 1, 1])
    controller.submit(present + 0.2, 0.02)
    assert controller.tick(0.03).holding
    with pytest.raises(ServoFaultError, match="refusing to enable torque"):
        controller.reenable()  # the error is still there
    emu.clear_error_bits(2)
    controller.tick(0.04)
    controller.reenable()
    assert controller.fault is None and torque(emu) == [1] * 6
    controller.shutdown()


def test_a_stalled_gripper_is_backed_off_before_its_own_protection_trips(make_emulator, tmp_path):
    controller, emu = make_follower(make_emulator, tmp_path, max_velocity_rad_s=3.0, command_timeout_s=10.0,
                                    gripper_grasp_time_s=0.3)
    present = controller.start()
    emu.stall_joint(6, 1950)  # an object 50 ticks into the gripper's closing travel (it starts at 2000)
    closed = present.copy()
    closed[GRIPPER] -= 0.6  # squeeze far past the object
    t0 = time.monotonic()
    controller.submit(closed, t0)
    backed_off_at = None
    while time.monotonic() - t0 < 3.0 and backed_off_at is None:
        controller.tick(time.monotonic())
        if controller.counters["gripper_backed_off"]:
            backed_off_at = time.monotonic() - t0
        time.sleep(0.01)
    assert backed_off_at is not None, "the guard never tripped"
    for _ in range(50):  # the squeezing command is still in force: the gripper stays backed off
        tick = controller.tick(time.monotonic())
        time.sleep(0.01)
    assert abs(tick.target[GRIPPER] - tick.positions[GRIPPER]) < 0.02
    assert abs(tick.loads_percent[GRIPPER]) < controller.config.gripper_grasp_load_percent
    assert emu.servo(6).read_register("Status") == 0, "the servo's own overload protection never tripped"
    assert controller.fault is None
    opened = present.copy()
    opened[GRIPPER] += 0.2
    controller.submit(opened, time.monotonic())  # the operator opens: the guard lets go and re-arms
    for _ in range(30):
        tick = controller.tick(time.monotonic())
        time.sleep(0.01)
    assert tick.target[GRIPPER] > present[GRIPPER] + 0.1 and not controller.grasp.tripped
    controller.shutdown()


def test_without_the_guard_the_stall_trips_the_servo_protection(make_emulator, tmp_path):
    """The reason for the guard: the same squeeze with the guard off ends in the servo's overload error."""
    controller, emu = make_follower(make_emulator, tmp_path, max_velocity_rad_s=3.0, command_timeout_s=10.0,
                                    gripper_grasp_time_s=0.0)
    present = controller.start()
    emu.stall_joint(6, 1950)
    closed = present.copy()
    closed[GRIPPER] -= 0.6
    controller.submit(closed, time.monotonic())
    deadline = time.monotonic() + 5.0
    while controller.fault is None and time.monotonic() < deadline:
        controller.tick(time.monotonic())
        time.sleep(0.01)
    assert "motor 6 (gripper) reports overload" in controller.fault
    controller.shutdown()


def test_clearing_an_estop_that_released_torque_refuses_while_a_servo_reports_an_error(make_emulator, tmp_path):
    controller, emu = make_follower(make_emulator, tmp_path, estop_releases_torque=True)
    controller.start()
    controller.estop(True)
    emu.set_error_bits(5, ServoErrorBits.OVERHEAT)
    with pytest.raises(ServoFaultError, match=r"motor 5 \(wrist_roll\) reports overheat"):
        controller.estop(False)
    assert torque(emu) == [0] * 6
    controller.shutdown()
