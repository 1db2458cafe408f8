"""Safety-filter limits: calibrated range less a margin, within the model's limits, in ROS radians."""
from __future__ import annotations

import math

import numpy as np
import pytest

from so101_calibration import JOINT_NAMES, SO101_MODEL_LIMITS_RAD, JointLimits, UnitConverter, joint_limits

GRIPPER = JOINT_NAMES.index("gripper")
WRIST_ROLL = JOINT_NAMES.index("wrist_roll")
ELBOW = JOINT_NAMES.index("elbow_flex")


def test_narrow_calibrated_ranges_are_shrunk_by_the_margin(make_calibration):
    calibration = make_calibration(elbow_flex={"range_min": 1500, "range_max": 2500})
    margin = math.radians(3)
    limits = joint_limits(calibration, margin_rad=margin)
    ends = UnitConverter(calibration, use_degrees=True).ticks_to_radians(
        np.stack([calibration.column("range_min"), calibration.column("range_max")])
    )
    assert limits.lower[ELBOW] == pytest.approx(ends[0, ELBOW] + margin)
    assert limits.upper[ELBOW] == pytest.approx(ends[1, ELBOW] - margin)
    assert limits.lower[GRIPPER] == pytest.approx(ends[0, GRIPPER] + margin)  # no model limit for the gripper


def test_wide_calibrated_ranges_are_cut_to_the_model_limits(make_calibration):
    limits = joint_limits(make_calibration(), margin_rad=0.0)
    assert (limits.lower[WRIST_ROLL], limits.upper[WRIST_ROLL]) == SO101_MODEL_LIMITS_RAD["wrist_roll"]
    assert limits.upper[ELBOW] == SO101_MODEL_LIMITS_RAD["elbow_flex"][1]


def test_model_limits_are_replaceable(make_calibration):
    limits = joint_limits(make_calibration(), margin_rad=0.0, model_limits={"gripper": (-0.1, 0.2)})
    assert (limits.lower[GRIPPER], limits.upper[GRIPPER]) == (-0.1, 0.2)
    # wrist_roll 0..4095 is ±half a turn around its mid-range 2047.5, now with no model limit
    assert (limits.lower[WRIST_ROLL], limits.upper[WRIST_ROLL]) == (pytest.approx(-math.pi), pytest.approx(math.pi))


def test_a_margin_that_leaves_no_room_is_an_error(make_calibration):
    calibration = make_calibration(gripper={"range_min": 2000, "range_max": 2040})
    with pytest.raises(ValueError, match=r"gripper: lower limit .* leaves no room"):
        joint_limits(calibration, margin_rad=math.radians(5))


@pytest.mark.parametrize("margin", [-0.1, math.nan])
def test_a_negative_margin_is_refused(make_calibration, margin):
    with pytest.raises(ValueError, match="margin_rad must be >= 0"):
        joint_limits(make_calibration(), margin_rad=margin)


def test_model_limits_for_unknown_joints_are_refused(make_calibration):
    with pytest.raises(ValueError, match="unknown joint"):
        joint_limits(make_calibration(), model_limits={"jaw": (0.0, 1.0)})


def test_limits_are_read_only_vectors():
    limits = JointLimits(np.zeros(6), np.ones(6))
    with pytest.raises(ValueError):
        limits.lower[0] = 5.0
    with pytest.raises(ValueError, match="one lower and one upper limit per joint"):
        JointLimits(np.zeros(5), np.ones(5))
