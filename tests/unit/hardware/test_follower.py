"""The follower controller on an emulated bus: the only path to Goal_Position."""
import numpy as np
import pytest

from so101_calibration import ArmRole, UnitConverter, read_calibration_file
from so101_hardware.arm import SO101Arm
from so101_hardware.bus import BusConfig, FeetechBus
from so101_hardware.follower import FollowerConfig, FollowerController
from tests_support.rig import write_emulated_calibration

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def follower(make_emulator, tmp_path):
    path = write_emulated_calibration(tmp_path / "follower.json")
    emu = make_emulator(calibration=str(path), initial_positions={1: 2048, 2: 1500, 3: 2600, 4: 2400, 5: 2048, 6: 2000})
    arm = SO101Arm(FeetechBus(BusConfig(emu.port, timeout_s=0.02)), ArmRole.FOLLOWER)
    arm.connect()
    config = FollowerConfig(port=emu.port, max_velocity_rad_s=2.0, command_timeout_s=0.2)
    controller = FollowerController(arm, UnitConverter(read_calibration_file(path), use_degrees=True), config)
    yield controller, emu
    controller.shutdown()


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
