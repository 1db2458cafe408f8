"""The policy-side check on every chunk: bad actions are rejected or clamped, and counted."""
from __future__ import annotations

import math

import numpy as np
import pytest

from so101_calibration import JointLimits, joint_limits
from so101_policy import BadActionError
from so101_policy.streaming import ActionValidator, ValidationConfig

LIMITS = JointLimits(np.full(6, -1.0), np.full(6, 1.0))


@pytest.fixture
def validator() -> ActionValidator:
    return ActionValidator(ValidationConfig(LIMITS, clamp_tolerance_rad=0.1, max_step_rad=0.2,
                                            max_start_jump_rad=0.3))


def ramp(start: float = 0.0, step: float = 0.01, length: int = 16) -> np.ndarray:
    return np.tile((start + step * np.arange(length))[:, np.newaxis], (1, 6))


@pytest.mark.parametrize("actions,kind", [
    (np.zeros((16, 5)), "bad_shape"),
    (np.zeros(6), "bad_shape"),
    (np.zeros((0, 6)), "bad_shape"),
    (np.zeros((16, 6), np.int64), "bad_dtype"),
    (np.where(np.eye(16, 6) > 0, np.nan, 0.0), "non_finite"),
    (np.full((16, 6), -np.inf), "non_finite"),
    (ramp(start=1.0, step=0.05), "out_of_limits"),
    (np.vstack([ramp(length=8), ramp(start=0.5, length=8)]), "discontinuous"),
])
def test_bad_chunks_are_rejected_and_counted_by_kind(validator, actions, kind):
    with pytest.raises(BadActionError) as caught:
        validator.check(actions)
    assert caught.value.kind == kind
    assert validator.counters == {f"rejected_{kind}": 1}


def test_small_excursions_past_a_limit_are_clamped_and_counted(validator):
    chunk = ramp(start=0.95, step=0.01, length=10)  # up to 1.04: within the 0.1 tolerance
    checked = validator.check(chunk)
    assert checked.max() == 1.0 and np.array_equal(checked[:5], chunk[:5])
    assert validator.counters == {"clamped_values": 6 * 4}
    assert chunk.max() > 1.0, "the caller's array is not modified"


def test_the_first_due_action_may_not_jump_from_the_commanded_target(validator):
    chunk = ramp(start=0.0)
    assert validator.check(chunk, start=4, reference=np.full(6, 0.1)).shape == (16, 6)
    with pytest.raises(BadActionError, match="would jump 0.4.. rad") as caught:
        validator.check(chunk, start=4, reference=np.full(6, -0.36))
    assert caught.value.kind == "jump_from_current"


def test_limits_come_from_the_calibration(calibration):
    config = ValidationConfig.from_calibration(calibration, max_step_rad=0.5)
    expected = joint_limits(calibration)
    assert np.array_equal(config.limits.lower, expected.lower) and config.max_step_rad == 0.5
    assert config.clamp_tolerance_rad == pytest.approx(math.radians(10))


def test_negative_limits_are_refused():
    with pytest.raises(ValueError, match="max_step_rad must be >= 0"):
        ValidationConfig(LIMITS, max_step_rad=-1.0)
