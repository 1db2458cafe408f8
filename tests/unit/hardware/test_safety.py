"""The follower's safety filter (docs/architecture.md §6) as a pure function of command, present and limits."""
import math

import numpy as np
import pytest

from so101_hardware.safety import GraspGuard, SafetyFilter, SafetyLimits

LIMITS = SafetyLimits.create([-1.0, -2.0], [1.0, 2.0], max_step=0.1, command_timeout_s=0.2)


def fresh(present=(0.0, 0.0)) -> SafetyFilter:
    f = SafetyFilter(LIMITS)
    f.reset(np.array(present))
    return f


def test_passes_small_in_range_commands_unchanged():
    result = fresh().apply([0.05, -0.05], np.zeros(2))
    assert result.accepted and result.reason == ""
    np.testing.assert_array_equal(result.target, [0.05, -0.05])


def test_clamps_to_limits_then_step():
    f = fresh(present=(0.95, 0.0))
    result = f.apply([5.0, 0.0], np.array([0.95, 0.0]))
    np.testing.assert_allclose(result.target, [1.0, 0.0])
    assert f.counters["clamped_limit"] == 1


def test_limits_step_from_present_like_lerobot_max_relative_target():
    f = fresh()
    result = f.apply([0.5, -0.5], np.zeros(2))
    np.testing.assert_allclose(result.target, [0.1, -0.1])
    assert result.reason == "clamped_step" and f.counters["clamped_step"] == 1


@pytest.mark.parametrize("bad", [[math.nan, 0.0], [0.0, math.inf], [-math.inf, 0.0]])
def test_rejects_non_finite_and_holds_last_safe_target(bad):
    f = fresh()
    f.apply([0.05, 0.05], np.zeros(2))
    result = f.apply(bad, np.zeros(2))
    assert not result.accepted and result.reason == "rejected_non_finite"
    np.testing.assert_allclose(result.target, [0.05, 0.05])


def test_velocity_limit_paces_the_target_from_the_last_one():
    f = SafetyFilter(SafetyLimits.create([-10.0], [10.0], max_step=5.0, max_velocity=2.0, velocity_burst_s=0.1))
    f.reset(np.array([0.0]))
    targets = [f.apply([3.0], np.array([0.0]), dt_s=0.1).target[0] for _ in range(3)]
    np.testing.assert_allclose(targets, [0.2, 0.4, 0.6])
    assert f.counters["clamped_velocity"] == 3
    # without a dt (e.g. the first command after reset) only the step limit applies
    assert f.apply([3.0], np.array([0.0])).target[0] == 3.0


def test_velocity_allowance_accrues_between_calls_however_they_are_timed():
    """A tick right before a command must not starve it: the allowance carries over (bounded)."""
    f = SafetyFilter(SafetyLimits.create([-10.0], [10.0], max_velocity=1.0, velocity_burst_s=0.02))
    f.reset(np.array([0.0]))
    f.apply([0.0], np.array([0.0]), dt_s=0.0095)  # a tick: holds, saving 9.5 ms of allowance
    moved = f.apply([0.01], np.array([0.0]), dt_s=0.0005).target[0]  # a command 0.5 ms later
    assert moved == pytest.approx(0.01) and f.counters["clamped_velocity"] == 0
    # ...but never more than the burst: a long pause does not bank a jump.
    f.apply([0.01], np.array([0.0]), dt_s=10.0)
    assert f.apply([1.0], np.array([0.0]), dt_s=0.0).target[0] == pytest.approx(0.03)


def test_velocity_never_exceeds_the_bound_over_any_interval():
    rng = np.random.default_rng(1)
    f = SafetyFilter(SafetyLimits.create([-10.0], [10.0], max_velocity=2.0, velocity_burst_s=0.02))
    f.reset(np.array([0.0]))
    t, times, targets = 0.0, [0.0], [0.0]
    for _ in range(3000):
        dt = rng.choice([0.0005, 0.005, 0.01, 0.03])
        t += dt
        targets.append(f.apply([rng.normal(0, 3)], np.array([targets[-1]]), dt_s=dt).target[0])
        times.append(t)
    times, targets = np.array(times), np.array(targets)
    for lag in (1, 5, 20):
        moved = np.abs(targets[lag:] - targets[:-lag])
        assert np.all(moved <= 2.0 * (times[lag:] - times[:-lag] + 0.02) + 1e-9)


def test_rejects_wrong_shape_and_stale_commands():
    f = fresh()
    assert f.apply([0.0, 0.0, 0.0], np.zeros(2)).reason == "rejected_shape"
    assert f.apply([0.0, 0.0], np.zeros(2), command_age_s=0.21).reason == "rejected_stale"
    assert f.counters == {"rejected_shape": 1, "rejected_stale": 1}


def test_hold_before_reset_is_an_error_not_a_zero_target():
    with pytest.raises(RuntimeError, match="valid position read"):
        SafetyFilter(LIMITS).apply([math.nan, 0.0], np.zeros(2))


def test_arm_outside_its_range_is_brought_back_without_a_jump():
    f = fresh(present=(1.5, 0.0))
    np.testing.assert_allclose(f.last_target, [1.5, 0.0])  # reset never moves the arm
    result = f.apply([0.0, 0.0], np.array([1.5, 0.0]))
    np.testing.assert_allclose(result.target, [1.4, 0.0])


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lower=[0.0], upper=[0.0]),
        dict(lower=[0.0, 1.0], upper=[1.0]),
        dict(lower=[math.nan], upper=[1.0]),
        dict(lower=[0.0], upper=[1.0], max_step=0.0),
        dict(lower=[0.0], upper=[1.0], max_velocity=-1.0),
        dict(lower=[0.0], upper=[1.0], command_timeout_s=0.0),
    ],
)
def test_invalid_limits_are_refused(kwargs):
    with pytest.raises(ValueError):
        SafetyLimits.create(**kwargs)


def test_never_exceeds_limits_or_step_on_random_commands():
    rng = np.random.default_rng(0)
    f = fresh()
    present = np.zeros(2)
    for _ in range(2000):
        command = rng.normal(0, 3, size=2)
        command[rng.random(2) < 0.05] = np.nan
        target = f.apply(command, present).target
        assert np.all(target >= LIMITS.lower) and np.all(target <= LIMITS.upper)
        assert np.all(np.abs(target - present) <= LIMITS.max_step + 1e-12)
        present = target


# --- the gripper's grasp guard ------------------------------------------------------------------


def test_grasp_guard_trips_on_a_sustained_stall_only():
    guard = GraspGuard(joint=1, load_limit=20.0, hold_s=0.5, release=0.05)
    assert not guard.update(0.0, load=-30.0, speed=0.0, present=1.0, target=0.5)
    assert not guard.update(0.4, load=-30.0, speed=0.0, present=1.0, target=0.5)
    assert not guard.update(0.45, load=-30.0, speed=1.0, present=1.0, target=0.5), "moving: not a grasp"
    assert not guard.update(0.5, load=-30.0, speed=0.0, present=1.0, target=0.5), "the timer restarted"
    assert not guard.update(0.6, load=-10.0, speed=0.0, present=1.0, target=0.5), "light load: not a squeeze"
    assert not guard.update(0.7, load=-30.0, speed=0.0, present=1.0, target=0.5)
    assert guard.update(1.2, load=-30.0, speed=0.0, present=1.0, target=0.5)
    assert guard.tripped and guard.counters["gripper_backed_off"] == 1


def test_grasp_guard_holds_commands_that_squeeze_on_and_lets_go_when_opened():
    guard = GraspGuard(joint=1, load_limit=20.0, hold_s=0.1, release=0.05)
    guard.update(0.0, -30.0, 0.0, present=1.0, target=0.5)
    assert guard.update(0.2, -30.0, 0.0, present=1.0, target=0.5)  # was closing (target below)
    present = np.array([0.3, 1.0])
    np.testing.assert_array_equal(guard.guard(np.array([0.2, 0.4]), present), [0.2, 1.0])  # squeezing on: held
    np.testing.assert_array_equal(guard.guard(np.array([0.2, 1.02]), present), [0.2, 1.0])  # a hair open: held
    assert guard.tripped
    np.testing.assert_array_equal(guard.guard(np.array([0.2, 1.3]), present), [0.2, 1.3])  # opening: passes
    assert not guard.tripped


def test_grasp_guard_off_with_zero_time():
    guard = GraspGuard(joint=0, load_limit=20.0, hold_s=0.0, release=0.05)
    assert not any(guard.update(t, -100.0, 0.0, 1.0, 0.0) for t in (0.0, 10.0))
