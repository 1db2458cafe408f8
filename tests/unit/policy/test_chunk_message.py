"""policy/chunk messages (trajectory_msgs/JointTrajectory) built and read back by joint name."""
from __future__ import annotations

import numpy as np
import pytest

from so101_calibration import JOINT_NAMES
from so101_hardware.ros.chunk_messages import chunk_message, read_chunk_message
from so101_hardware.ros.joint_states import MalformedJointState


def test_a_chunk_round_trips_with_its_wall_clock_times_and_joint_order():
    observed = 1_763_700_000.25
    times = observed + np.arange(3, 19) / 30  # the first three actions were past when the chunk arrived
    positions = np.random.default_rng(0).uniform(-2, 2, (16, 6))
    msg = chunk_message(JOINT_NAMES, observed, times, positions)
    assert abs(msg.points[0].time_from_start.nanosec - 100_000_000) < 1_000  # float64 wall times: ~0.1 µs
    reversed_names = list(reversed(JOINT_NAMES))
    read = read_chunk_message(msg, reversed_names)
    assert abs(read.observation_time - observed) < 1e-6
    np.testing.assert_allclose(read.times, times, atol=1e-6)
    np.testing.assert_allclose(read.positions, positions[:, ::-1])


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda m: m.joint_names.pop(), "without joint"),
        (lambda m: m.points.clear(), "without points"),
        (lambda m: m.points[3].positions.pop(), "do not match"),
    ],
)
def test_a_damaged_chunk_is_refused_with_its_reason(damage, message):
    msg = chunk_message(JOINT_NAMES, 0.0, np.arange(4.0), np.zeros((4, 6)))
    damage(msg)
    with pytest.raises(MalformedJointState, match=message):
        read_chunk_message(msg, JOINT_NAMES)
