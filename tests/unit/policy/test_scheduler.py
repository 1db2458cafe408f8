"""ChunkScheduler, driven by an injected clock: every expectation here is exact and repeatable."""
from __future__ import annotations

import math

import numpy as np
import pytest

from so101_calibration import JointLimits
from so101_policy.streaming import (
    ActionValidator,
    BlendMode,
    ChunkReply,
    ChunkScheduler,
    SchedulerConfig,
    TickStatus,
    ValidationConfig,
)

STEP = 1 / 30
LIMITS = JointLimits(np.full(6, -3.0), np.full(6, 3.0))


def scheduler(**config) -> ChunkScheduler:
    validation = ValidationConfig(LIMITS, max_step_rad=0.5, max_start_jump_rad=1.0)
    return ChunkScheduler(SchedulerConfig(**config), ActionValidator(validation))


def rows(values) -> np.ndarray:
    """A chunk whose action k is `values[k]` on every joint."""
    return np.tile(np.asarray(values, dtype=np.float64)[:, np.newaxis], (1, 6))


def constant(value: float, length: int = 16) -> np.ndarray:
    return rows(np.full(length, value))


def test_nothing_is_commanded_before_the_first_chunk_and_the_first_request_goes_at_once():
    s = scheduler()
    tick = s.tick(0.0)
    assert tick.status is TickStatus.WAITING and tick.target is None and not tick.planned
    assert s.should_request(0.0)
    s.on_request_sent(0.0)
    assert not s.should_request(0.5), "one request in flight at a time"


def test_a_chunk_is_aligned_to_its_observation_time_and_the_actions_executed_meanwhile_are_skipped():
    s = scheduler(blend=BlendMode.LATEST)
    s.on_chunk(ChunkReply(constant(0.0), 0.9), 0.9)  # a plan running through the next request
    s.on_request_sent(1.0)
    assert s.on_chunk(ChunkReply(rows(np.arange(16) / 100), 1.0), 1.0 + 3 * STEP)
    np.testing.assert_allclose(s.tick(1.0 + 3 * STEP).target, np.full(6, 0.03))
    np.testing.assert_allclose(s.tick(1.0 + 4 * STEP).target, np.full(6, 0.04))
    np.testing.assert_allclose(s.tick(1.0 + 4.5 * STEP).target, np.full(6, 0.045))  # interpolated between steps
    np.testing.assert_allclose(s.tick(1.0 + 15.9 * STEP).target, np.full(6, 0.15))  # the last action holds its step
    assert s.tick(1.0 + 16.01 * STEP).status is TickStatus.HOLD


def test_after_a_hold_a_chunk_starts_at_its_first_action_however_long_its_inference_took():
    """A warm-up's 0.7 s first inference: the arm held meanwhile and executed nothing, so nothing is skipped
    (LeRobot skipped the estimated delay and the arm leapt 0.7 s ahead: docs/reference/gr00t-rtc.md §5)."""
    s = scheduler(blend=BlendMode.LATEST)
    s.reset(np.zeros(6))
    assert s.on_chunk(ChunkReply(rows(np.arange(16) / 100), 1.0), 1.7)
    np.testing.assert_allclose(s.tick(1.7).target, 0.0)
    np.testing.assert_allclose(s.tick(1.7 + STEP).target, 0.01)
    assert s.planned_until() == pytest.approx(1.7 + 16 * STEP)


def test_a_chunk_continues_where_the_plan_ran_out_when_the_arm_held_part_of_the_wait():
    s = scheduler(blend=BlendMode.LATEST)
    s.on_chunk(ChunkReply(constant(0.0, length=4), 0.0), 0.0)  # runs out at 4 steps
    assert s.on_chunk(ChunkReply(rows(np.arange(16) / 100), 0.0), 10 * STEP)
    np.testing.assert_allclose(s.tick(10 * STEP).target, 0.04), "4 executed, 6 held: resume at action 4"


def test_the_next_request_leads_the_plan_end_by_the_measured_latency():
    s = scheduler(request_margin_s=0.05)
    s.on_request_sent(1.0)
    s.on_chunk(ChunkReply(constant(0.0), 1.0), 1.1)
    assert s.latency_estimate_s == pytest.approx(0.1)
    plan_end = 1.1 + 16 * STEP  # a first chunk starts when it arrives
    lead = 0.1 + 0.05 + STEP
    assert s.planned_until() == pytest.approx(plan_end)
    assert not s.should_request(plan_end - lead - 0.001)
    assert s.should_request(plan_end - lead + 0.001)


def test_the_latency_estimate_is_the_largest_of_the_recent_chunks():
    s = scheduler(latency_window=3, initial_latency_s=0.25)
    assert s.latency_estimate_s == 0.25
    for now, age in ((1.0, 0.30), (2.0, 0.05), (3.0, 0.06), (4.0, 0.07)):
        s.on_chunk(ChunkReply(constant(0.0), now - age), now)
    assert s.latency_estimate_s == pytest.approx(0.07), "the 0.30 s outlier has left the window"
    assert s.last_latency_s == pytest.approx(0.07)


@pytest.mark.parametrize("age,counter", [(1.5, "rejected_stale"), (0.6, "rejected_expired"),
                                         (-0.01, "rejected_future_observation")])
def test_chunks_too_old_or_from_the_future_are_dropped(age, counter):
    s = scheduler(max_chunk_age_s=1.0)
    s.on_chunk(ChunkReply(constant(0.0, length=60), 9.0), 9.0)  # executing all along: 0.6 s is past 16 steps
    assert not s.on_chunk(ChunkReply(constant(1.0), 10.0 - age), 10.0)
    assert s.counters[counter] == 1
    np.testing.assert_allclose(s.tick(10.0).target, 0.0), "the plan goes on"


def test_the_first_chunk_of_a_connection_leaves_the_latency_estimate_alone():
    s = scheduler(initial_latency_s=0.25)
    s.on_chunk(ChunkReply(constant(0.0), 0.0, cold=True), 0.7)
    assert s.latency_estimate_s == 0.25 and s.frozen_steps == math.ceil((0.25 + 0.05) * 30) + 1
    s.on_chunk(ChunkReply(constant(0.0), 0.8), 0.9)
    assert s.latency_estimate_s == pytest.approx(0.1)


def plan_of_zeros_then(new: np.ndarray, **config) -> ChunkScheduler:
    """A plan of zeros from t=0 (arrived at once), then `new` observed at 0.3 arriving at 0.4."""
    s = scheduler(**config)
    s.on_chunk(ChunkReply(constant(0.0), 0.0), 0.0)
    s.tick(0.4)
    s.on_chunk(ChunkReply(new, 0.3), 0.4)
    return s


def test_latest_switches_to_the_new_chunk_at_once():
    s = plan_of_zeros_then(constant(1.0), blend=BlendMode.LATEST)
    np.testing.assert_allclose(s.tick(0.4).target, 1.0)


def test_crossfade_starts_from_what_is_commanded_and_reaches_the_new_chunk_linearly():
    s = plan_of_zeros_then(constant(1.0), blend=BlendMode.CROSSFADE, crossfade_s=0.2)
    np.testing.assert_allclose(s.tick(0.4).target, 0.0, atol=1e-12)
    np.testing.assert_allclose(s.tick(0.5).target, 0.5)
    np.testing.assert_allclose(s.tick(0.6).target, 1.0)
    np.testing.assert_allclose(s.tick(0.7).target, 1.0)


def test_crossfade_past_the_old_plans_end_follows_the_new_chunks_course():
    """Old plan (ends at 16 steps) shorter than the fade: the blend continues parallel, not toward a frozen point."""
    s = scheduler(blend=BlendMode.CROSSFADE, crossfade_s=0.5)
    s.on_chunk(ChunkReply(constant(0.0, length=4), 0.0), 0.0)
    s.on_chunk(ChunkReply(rows(np.arange(16) * 0.01), 0.0), 2 * STEP)
    targets = np.array([s.tick(k * STEP).target[0] for k in range(2, 16)])
    steps = np.diff(targets)
    assert np.all(steps > 0) and steps.max() <= 0.01 + 0.01 * STEP / 0.5 * 16, "no catch-up surge"


def test_ensemble_averages_every_chunk_that_predicted_a_time():
    s = plan_of_zeros_then(constant(1.0), blend=BlendMode.ENSEMBLE)
    np.testing.assert_allclose(s.tick(0.4).target, 0.5)
    np.testing.assert_allclose(s.tick(15 * STEP).target, 0.5)
    np.testing.assert_allclose(s.tick(17 * STEP).target, 1.0)  # only the new chunk predicts past the old end
    s = plan_of_zeros_then(constant(1.0), blend=BlendMode.ENSEMBLE, ensemble_decay=math.log(3))
    np.testing.assert_allclose(s.tick(0.4).target, 0.25)  # ACT-style: older predictions weigh more


def test_the_last_target_is_held_while_the_server_is_away_and_streaming_resumes_smoothly():
    s = scheduler(blend=BlendMode.CROSSFADE, crossfade_s=0.2)
    s.on_chunk(ChunkReply(rows(np.arange(16) * 0.01), 0.0), 0.05)
    last_planned = s.tick(15 * STEP).target
    for now in (0.6, 1.0, 2.0):
        tick = s.tick(now)
        assert tick.status is TickStatus.HOLD and np.array_equal(tick.target, last_planned)
    assert s.should_request(2.0)
    s.on_request_sent(2.0)
    s.on_chunk(ChunkReply(constant(0.5), 2.0), 2.1)
    np.testing.assert_allclose(s.tick(2.1).target, last_planned, atol=1e-12)  # no step when chunks return
    np.testing.assert_allclose(s.tick(2.3).target, 0.5)
    counters = s.counters
    assert counters["ticks_hold"] == 3 and counters["chunks_accepted"] == 2


def test_reset_holds_the_present_position_and_the_first_chunk_blends_in_from_it():
    s = scheduler(blend=BlendMode.CROSSFADE, crossfade_s=0.2)
    s.reset(np.full(6, 0.3))
    assert s.tick(0.0).status is TickStatus.HOLD
    s.on_chunk(ChunkReply(constant(0.0), 0.0), 0.1)
    np.testing.assert_allclose(s.tick(0.1).target, 0.3)
    np.testing.assert_allclose(s.tick(0.2).target, 0.15)


def test_a_failed_request_is_retried_after_the_retry_interval():
    s = scheduler(retry_interval_s=0.5)
    s.on_request_sent(0.0)
    s.on_failure(1.0, "timeout")
    assert not s.should_request(1.4)
    assert s.should_request(1.5)
    assert s.counters["failed_timeout"] == 1


def test_an_undecodable_reply_is_counted_with_the_rejections_and_asked_again_at_once():
    s = scheduler(retry_interval_s=0.5)
    s.on_request_sent(0.0)
    s.on_rejected(1.0, "bad_keys")
    assert s.should_request(1.0)
    assert s.counters["rejected_bad_keys"] == 1


def test_a_request_never_answered_is_given_up_after_the_request_timeout():
    s = scheduler(request_timeout_s=2.0)
    s.on_request_sent(0.0)
    assert not s.should_request(1.9)
    assert s.should_request(2.0)
    assert s.counters["requests_lost"] == 1


def test_a_rejected_chunk_leaves_the_plan_as_it_was():
    s = scheduler(blend=BlendMode.LATEST)
    s.on_chunk(ChunkReply(constant(0.2), 0.0), 0.0)
    bad = constant(1.0)
    bad[5, 2] = np.nan
    assert not s.on_chunk(ChunkReply(bad, 0.1), 0.1)
    assert not s.on_chunk(ChunkReply(constant(1.5), 0.1), 0.1), "a 1.3 rad jump from the commanded 0.2"
    np.testing.assert_allclose(s.tick(0.2).target, 0.2)
    assert s.counters["rejected_non_finite"] == 1 and s.counters["rejected_jump_from_current"] == 1


def test_a_policy_stepping_slower_than_the_control_loop_is_interpolated():
    s = scheduler(blend=BlendMode.LATEST, control_hz=30.0, action_hz=15.0)
    s.on_chunk(ChunkReply(rows(np.arange(16) * 0.1), 0.0), 0.0)
    targets = [s.tick(k * STEP).target[0] for k in range(5)]
    np.testing.assert_allclose(targets, [0.0, 0.05, 0.1, 0.15, 0.2])


def test_identical_inputs_give_identical_targets():
    def run() -> list:
        s = scheduler()
        out = []
        for k in range(60):
            now = k * STEP
            if s.should_request(now):
                s.on_request_sent(now)
                s.on_chunk(ChunkReply(rows(np.sin(now + np.arange(16) * STEP)), now - 0.1), now)
            out.append(s.tick(now).target)
        return out

    first, second = run(), run()
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize("field,value", [("control_hz", 0), ("crossfade_s", 0.0), ("latency_window", 0),
                                         ("action_hz", -1.0), ("retry_interval_s", -0.1)])
def test_nonsense_configs_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        SchedulerConfig(**{field: value})


def test_accepted_chunks_are_handed_out_once_with_their_due_times_and_clamped_actions():
    s = scheduler(blend=BlendMode.LATEST)
    s.on_chunk(ChunkReply(constant(2.9, length=60), 0.9), 0.9)
    s.take_accepted()
    s.on_request_sent(1.0)
    assert s.on_chunk(ChunkReply(rows(np.arange(16) / 100 + 2.95), 1.0), 1.0 + 2 * STEP)
    s.on_request_sent(1.1)
    assert not s.on_chunk(ChunkReply(constant(2.9), 0.95), 1.5), "16 steps executed since: expired, not handed out"
    [accepted] = s.take_accepted()
    assert accepted.observation_time == 1.0
    np.testing.assert_allclose(accepted.times, 1.0 + STEP * np.arange(2, 16))
    assert accepted.actions.shape == (14, 6) and accepted.received_at == 1.0 + 2 * STEP
    assert accepted.actions.max() == 3.0, "the actions as clamped to the limits, as commanded"
    assert s.take_accepted() == []
