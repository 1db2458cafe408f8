"""Ticks ↔ LeRobot normalized ↔ radians: bit-identical with LeRobot, round trips, vectorised shapes."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from so101_calibration import (
    JOINT_NAMES,
    SO101_JOINTS,
    ArmCalibration,
    MotorCalibration,
    NormMode,
    UnitConverter,
    lerobot_norm_modes,
    ticks_to_degrees,
)

# --- LeRobot 0.4.4 MotorsBus._normalize / _unnormalize, one value at a time (docs/reference/lerobot.md §4) ----


def lerobot_normalize(val: int, motor: MotorCalibration, mode: NormMode) -> float:
    min_, max_, drive_mode = motor.range_min, motor.range_max, motor.drive_mode
    bounded_val = min(max_, max(min_, val))
    if mode is NormMode.RANGE_M100_100:
        norm = (((bounded_val - min_) / (max_ - min_)) * 200) - 100
        return -norm if drive_mode else norm
    if mode is NormMode.RANGE_0_100:
        norm = ((bounded_val - min_) / (max_ - min_)) * 100
        return 100 - norm if drive_mode else norm
    mid = (min_ + max_) / 2
    return (val - mid) * 360 / 4095


def lerobot_unnormalize(val: float, motor: MotorCalibration, mode: NormMode) -> int:
    min_, max_, drive_mode = motor.range_min, motor.range_max, motor.drive_mode
    if mode is NormMode.RANGE_M100_100:
        val = -val if drive_mode else val
        bounded_val = min(100.0, max(-100.0, val))
        return int(((bounded_val + 100) / 200) * (max_ - min_) + min_)
    if mode is NormMode.RANGE_0_100:
        val = 100 - val if drive_mode else val
        bounded_val = min(100.0, max(0.0, val))
        return int((bounded_val / 100) * (max_ - min_) + min_)
    mid = (min_ + max_) / 2
    return int((val * 4095 / 360) + mid)


# --- strategies -----------------------------------------------------------------------------------


@st.composite
def motor_calibrations(draw, motor_id: int) -> MotorCalibration:
    low = draw(st.integers(0, 4094))
    high = draw(st.integers(low + 1, 4095))
    return MotorCalibration(motor_id, draw(st.sampled_from((0, 1))), draw(st.integers(-2047, 2047)), low, high)


@st.composite
def calibrations(draw) -> ArmCalibration:
    return ArmCalibration({j.name: draw(motor_calibrations(j.motor_id)) for j in SO101_JOINTS})


def ticks_in_range(calibration: ArmCalibration):
    return st.tuples(*(st.integers(m.range_min, m.range_max) for m in calibration.motors.values()))


any_ticks = st.lists(st.integers(0, 4095), min_size=6, max_size=6)
normalized = st.lists(st.floats(-150, 150, allow_nan=False), min_size=6, max_size=6)
conventions = st.booleans()


# --- bit identity with LeRobot -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(calibrations(), any_ticks, conventions)
def test_ticks_to_normalized_is_bit_identical_with_lerobot(calibration, ticks, use_degrees):
    converter = UnitConverter(calibration, use_degrees=use_degrees)
    expected = [
        lerobot_normalize(t, m, mode) for t, m, mode in zip(ticks, calibration.motors.values(), converter.modes)
    ]
    assert converter.ticks_to_normalized(np.array(ticks)).tolist() == expected


@settings(max_examples=300, deadline=None)
@given(calibrations(), normalized, conventions)
def test_normalized_to_ticks_is_bit_identical_with_lerobot(calibration, values, use_degrees):
    converter = UnitConverter(calibration, use_degrees=use_degrees)
    expected = [
        lerobot_unnormalize(v, m, mode) for v, m, mode in zip(values, calibration.motors.values(), converter.modes)
    ]
    assert converter.normalized_to_ticks(np.array(values)).tolist() == expected


def test_lerobots_verified_example_writing_10_degrees_reads_back_9_934(make_calibration):
    converter = UnitConverter(make_calibration(), use_degrees=True)  # integer mid-range on every arm joint
    ticks = converter.normalized_to_ticks(np.full(6, 10.0))
    assert converter.ticks_to_normalized(ticks)[0] == pytest.approx(9.934, abs=5e-4)


def test_wrist_roll_full_turn_reads_minus_0_04_degrees_at_the_homed_pose(make_calibration):
    degrees = ticks_to_degrees(make_calibration(), np.full(6, 2047))
    assert degrees[JOINT_NAMES.index("wrist_roll")] == pytest.approx(-0.04396, abs=1e-5)


@pytest.mark.parametrize("use_degrees,arm_mode", [(True, NormMode.DEGREES), (False, NormMode.RANGE_M100_100)])
def test_norm_modes_follow_lerobots_so101_config(use_degrees, arm_mode):
    assert lerobot_norm_modes(use_degrees) == (arm_mode,) * 5 + (NormMode.RANGE_0_100,)


def test_float32_values_convert_as_lerobot_converts_their_python_floats(make_calibration):
    converter = UnitConverter(make_calibration(), use_degrees=False)
    values32 = np.array([12.3, -45.6, 78.9, -99.99, 0.1, 33.3], dtype=np.float32)
    expected = [lerobot_unnormalize(float(v), m, mode)
                for v, m, mode in zip(values32, make_calibration().motors.values(), converter.modes)]
    assert converter.normalized_to_ticks(values32).tolist() == expected


# --- round trips ----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.data(), calibrations(), conventions)
def test_ticks_to_normalized_to_ticks_is_within_one_tick(data, calibration, use_degrees):
    converter = UnitConverter(calibration, use_degrees=use_degrees)
    ticks = np.array(data.draw(ticks_in_range(calibration)))
    back = converter.normalized_to_ticks(converter.ticks_to_normalized(ticks))
    assert np.all(np.abs(back - ticks) <= 1), (ticks, back)


@settings(max_examples=300, deadline=None)
@given(calibrations(), any_ticks)
def test_ticks_to_radians_to_ticks_is_exact(calibration, ticks):
    converter = UnitConverter(calibration, use_degrees=True)
    radians = converter.ticks_to_radians(np.array(ticks))
    assert converter.radians_to_ticks(radians).tolist() == ticks


@settings(max_examples=200, deadline=None)
@given(calibrations(), any_ticks)
def test_radians_are_deg2rad_of_lerobot_degrees_exactly(calibration, ticks):
    converter = UnitConverter(calibration, use_degrees=True)
    arm = slice(0, 5)  # the gripper is RANGE_0_100 in LeRobot, radians from mid-range here
    expected = np.deg2rad(converter.ticks_to_normalized(np.array(ticks)))[arm]
    assert converter.ticks_to_radians(np.array(ticks))[arm].tolist() == expected.tolist()


@settings(max_examples=200, deadline=None)
@given(calibrations(), normalized, conventions)
def test_a_policy_action_through_ros_radians_reaches_the_servo_as_lerobots_ticks(calibration, values, use_degrees):
    converter = UnitConverter(calibration, use_degrees=use_degrees)
    radians = converter.normalized_to_radians(np.array(values))  # policy node → /follower/joint_commands
    assert converter.radians_to_ticks(radians).tolist() == converter.normalized_to_ticks(np.array(values)).tolist()


@settings(max_examples=200, deadline=None)
@given(calibrations(), any_ticks, conventions)
def test_an_observation_through_ros_radians_is_lerobots_observation(calibration, ticks, use_degrees):
    converter = UnitConverter(calibration, use_degrees=use_degrees)
    via_ros = converter.radians_to_normalized(converter.ticks_to_radians(np.array(ticks)))
    assert via_ros.tolist() == converter.ticks_to_normalized(np.array(ticks)).tolist()


def test_radians_are_the_angle_from_mid_range(make_calibration):
    calibration = make_calibration(shoulder_pan={"range_min": 1000, "range_max": 3000})
    converter = UnitConverter(calibration, use_degrees=True)
    quarter_turn = 2000 + 4095 / 4
    assert converter.ticks_to_radians(np.array([quarter_turn, 0, 0, 0, 0, 0]))[0] == pytest.approx(math.pi / 2)
    assert converter.ticks_to_radians(np.array([2000, 0, 0, 0, 0, 0]))[0] == 0.0


# --- shapes and refusals --------------------------------------------------------------------------


def test_conversions_are_vectorised_over_leading_axes(make_calibration):
    converter = UnitConverter(make_calibration(), use_degrees=False)
    chunk = np.random.default_rng(0).integers(900, 3000, size=(2, 16, 6))
    normalized_chunk = converter.ticks_to_normalized(chunk)
    assert normalized_chunk.shape == (2, 16, 6)
    assert np.array_equal(normalized_chunk[1, 7], converter.ticks_to_normalized(chunk[1, 7]))
    assert converter.radians_to_ticks(converter.ticks_to_radians(chunk)).tolist() == chunk.tolist()


@pytest.mark.parametrize("bad", [np.zeros(5), np.zeros((3, 7)), np.float64(1.0)])
def test_arrays_without_six_joints_are_refused(make_calibration, bad):
    with pytest.raises(ValueError, match="last axis of 6 joints"):
        UnitConverter(make_calibration(), use_degrees=True).ticks_to_normalized(bad)


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_finite_values_never_become_ticks(make_calibration, value):
    converter = UnitConverter(make_calibration(), use_degrees=False)
    command = np.array([0.0, 0.0, value, 0.0, 0.0, 50.0])
    with pytest.raises(ValueError, match="not finite for elbow_flex"):
        converter.normalized_to_ticks(command)
    with pytest.raises(ValueError, match="not finite for elbow_flex"):
        converter.radians_to_ticks(command)


def test_values_no_servo_position_can_hold_are_refused(make_calibration):
    with pytest.raises(ValueError, match="beyond ±32767"):
        UnitConverter(make_calibration(), use_degrees=True).radians_to_ticks(np.full(6, 1e6))
