"""Fixed-rate alignment: nearest frames within tolerance, late samples counted, nothing duplicated."""
from __future__ import annotations

import numpy as np
import pytest

from so101_sim_bridge.recorder import AlignmentConfig, StepAligner

PERIOD = 1 / 30
Q = np.zeros(6)


def aligner(cameras=("cam",), **config) -> StepAligner:
    return StepAligner(AlignmentConfig(**config), cameras, start_s=100.0)


def feed_joints_and_actions(a: StepAligner, until: float, rate: float = 100.0) -> None:
    for k in range(int((until - 100.0) * rate) + 1):
        t = 100.0 + k / rate
        a.add_joint_state(t, Q + t)
        a.add_action(t, Q - t)


def test_nearest_frame_within_tolerance_and_steps_on_the_grid():
    a = aligner()
    feed_joints_and_actions(a, 100.5)
    for k in range(10):
        a.add_frame("cam", 100.0 + k * PERIOD + 0.004, np.full((2, 2, 3), k, np.uint8))
    steps = a.ready(100.0 + 9 * PERIOD + a_latency())
    assert [s.grid_index for s in steps] == list(range(10))
    assert [int(s.images["cam"][0, 0, 0]) for s in steps] == list(range(10))
    assert steps[3].stamp_s == pytest.approx(100.0 + 3 * PERIOD)
    assert steps[3].joint_position == pytest.approx(Q + 100.1)  # nearest 100 Hz sample to t=100.1
    assert steps[3].action[0] <= -100.09  # latest command at or before the step (hold)
    assert a.stats().steps_dropped == 0


def a_latency() -> float:
    return AlignmentConfig().max_latency_s


def test_a_slow_camera_leaves_counted_gaps_instead_of_duplicates():
    a = aligner()
    feed_joints_and_actions(a, 101.0)
    for k in range(0, 30, 2):  # 15 Hz camera under a 30 Hz recorder
        a.add_frame("cam", 100.0 + k * PERIOD, np.full((2, 2, 3), k, np.uint8))
    steps = a.finish(100.0 + 29 * PERIOD)
    values = [int(s.images["cam"][0, 0, 0]) for s in steps]
    assert values == list(range(0, 30, 2))  # every frame once, none twice
    stats = a.stats()
    assert stats.steps_recorded == 15 and stats.steps_dropped == 15
    assert dict(stats.missing) == {"cam": 15}


def test_frames_arriving_after_their_step_was_decided_are_late():
    a = aligner(max_latency_s=0.05)
    feed_joints_and_actions(a, 100.5)
    assert len(a.ready(100.0 + 0.05)) == 0  # step 0 has no frame yet → dropped at decision time
    a.add_frame("cam", 100.0, np.zeros((2, 2, 3), np.uint8))  # step 0's frame, too late
    a.add_frame("cam", 100.0 + PERIOD, np.zeros((2, 2, 3), np.uint8))  # in time for step 1
    steps = a.ready(100.0 + PERIOD + 0.05)
    assert [s.grid_index for s in steps] == [1]
    stats = a.stats()
    assert dict(stats.late) == {"cam": 1} and stats.late_samples == 1
    assert dict(stats.missing) == {"cam": 1}


def test_out_of_order_arrival_within_latency_is_fine():
    a = aligner()
    feed_joints_and_actions(a, 100.3)
    for k in reversed(range(5)):
        a.add_frame("cam", 100.0 + k * PERIOD, np.full((2, 2, 3), k, np.uint8))
    steps = a.finish(100.0 + 4 * PERIOD)
    assert [int(s.images["cam"][0, 0, 0]) for s in steps] == [0, 1, 2, 3, 4]


def test_stale_commands_and_far_joint_states_drop_steps():
    a = aligner(cameras=(), action_max_age_s=0.05, joint_tolerance_s=0.01)
    a.add_action(100.0, Q)
    a.add_joint_state(100.0, Q)
    a.add_joint_state(100.0 + 3 * PERIOD + 0.02, Q)  # too far from step 3
    steps = a.finish(100.0 + 3 * PERIOD)
    assert [s.grid_index for s in steps] == [0]
    assert dict(a.stats().missing) == {"joints": 3, "action": 2}


def test_steps_wait_for_the_latency_window():
    a = aligner(cameras=(), max_latency_s=0.1)
    feed_joints_and_actions(a, 100.5)
    assert a.ready(100.0 + 0.099) == []
    assert len(a.ready(100.0 + 0.1)) == 1


def test_unknown_camera_and_bad_config_raise():
    with pytest.raises(KeyError, match="not recorded"):
        aligner().add_frame("other", 100.0, np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ValueError, match="fps"):
        AlignmentConfig(fps=0)
    assert AlignmentConfig(fps=20).frame_tolerance_s == pytest.approx(0.025)
