"""Leader role: a seeded, human-like scripted hand, and explicit overrides."""
from __future__ import annotations

import itertools

import pytest

from so101_hardware.emulator.joint import LeaderJoint
from so101_hardware.emulator.trajectory import LeaderTrajectory, joint_range

pytestmark = pytest.mark.timeout(30)

IDS = (1, 2, 3, 4, 5, 6)
TIMES = [i * 0.05 for i in range(2400)]  # two minutes


def test_same_seed_same_trajectory_in_two_emulators(make_emulator):
    first, second = make_emulator(role="leader", seed=7), make_emulator(role="leader", seed=7)
    for motor_id in IDS:
        a, b = first.servo(motor_id).joint.trajectory, second.servo(motor_id).joint.trajectory
        assert [a.position(t) for t in TIMES] == [b.position(t) for t in TIMES]


def test_other_seed_other_trajectory():
    a, b = LeaderTrajectory(2, 2048, seed=1), LeaderTrajectory(2, 2048, seed=2)
    assert [a.position(t) for t in TIMES] != [b.position(t) for t in TIMES]


def test_query_order_does_not_change_the_trajectory():
    forward, backward = LeaderTrajectory(3, 2048, seed=0), LeaderTrajectory(3, 2048, seed=0)
    assert [forward.position(t) for t in TIMES] == [backward.position(t) for t in reversed(TIMES)][::-1]


@pytest.mark.parametrize("motor_id", IDS)
def test_trajectory_moves_smoothly_within_the_joint_range(motor_id):
    trajectory = LeaderTrajectory(motor_id, 2048, seed=3)
    low, high = joint_range(motor_id)
    positions = [trajectory.position(t) for t in TIMES]
    assert all(low <= p <= high for p in positions)
    assert max(positions) - min(positions) > (high - low) / 4  # it really moves
    steps = [abs(b - a) for a, b in itertools.pairwise(positions)]
    assert max(steps) <= 1000 * 0.05 + 1  # never faster than a brisk human, ~1000 ticks/s
    assert any(step == 0 for step in steps)  # and it pauses


def test_gripper_stays_between_closed_and_open():
    low, high = joint_range(6)
    assert 0 < high - low < 2048
    trajectory = LeaderTrajectory(6, 0, seed=0)  # a start outside the range is clamped into it
    assert trajectory.position(0.0) == low


def test_velocity_is_the_derivative_of_position():
    trajectory = LeaderTrajectory(1, 2048, seed=5)
    for t in (0.7, 3.3, 9.1, 20.4):
        numeric = (trajectory.position(t + 1e-4) - trajectory.position(t - 1e-4)) / 2e-4
        assert trajectory.velocity(t) == pytest.approx(numeric, abs=1.0)


def test_leader_servo_follows_the_hand_and_ignores_torque(bench_servo):
    trajectory = LeaderTrajectory(1, 2048, seed=0)
    bench = bench_servo(joint=lambda now: LeaderJoint(trajectory, now))
    start = bench.clock.now
    bench.servo.write_register("Torque_Enable", 1)
    for t in (0.0, 4.0, 11.5):
        bench.clock.now = start + t
        assert bench.servo.actual_position == round(trajectory.position(t))


def test_set_leader_positions_overrides_until_resumed(make_emulator, sdk_client):
    emu = make_emulator(role="leader")
    sdk = sdk_client(emu.port)
    emu.set_leader_positions({1: 2100, 6: 2500})
    assert sdk.packet.read2ByteTxRx(sdk.port, 1, 56)[0] == 2100
    assert sdk.packet.read2ByteTxRx(sdk.port, 6, 56)[0] == 2500
    emu.resume_trajectory()
    assert emu.servo(1).actual_position != 2100  # back on the script, which starts near 2048


def test_follower_has_no_scripted_hand(make_emulator):
    with pytest.raises(RuntimeError, match="leader"):
        make_emulator().set_leader_positions({1: 2000})


def test_a_leader_script_moves_through_its_waypoints_and_loops(make_emulator):
    from so101_hardware.emulator import Waypoint
    from so101_hardware.emulator.trajectory import WaypointTrajectory

    trajectory = WaypointTrajectory(2000, [Waypoint(2400, 0.5, 0.2), Waypoint(1800, 0.5)], loop=True)
    assert trajectory.position(0.0) == 2000
    assert trajectory.position(0.5) == pytest.approx(2400) and trajectory.position(0.6) == pytest.approx(2400)
    assert trajectory.position(1.2) == pytest.approx(1800)
    assert trajectory.position(1.7) == pytest.approx(2400)  # looped
    assert trajectory.velocity(0.25) > 0 > trajectory.velocity(0.95)
    held = WaypointTrajectory(2000, [Waypoint(2100, 0.1)], loop=False)
    assert held.position(50.0) == pytest.approx(2100)

    emu = make_emulator(role="leader")
    start = emu.servo(1).actual_position
    emu.play_leader_script({1: [Waypoint(start + 300, 0.2)]}, loop=False)
    assert emu.wait_until(lambda: abs(emu.servo(1).read_register("Present_Position") - (start + 300)) <= 1, 5)


def test_a_script_needs_valid_waypoints():
    from so101_hardware.emulator import Waypoint
    from so101_hardware.emulator.trajectory import WaypointTrajectory

    with pytest.raises(ValueError, match="positive durations"):
        WaypointTrajectory(2000, [Waypoint(2100, 0.0)])
