"""Robot readings → observations in every layout, and replies → radians chunks or typed rejections."""
from __future__ import annotations

import numpy as np
import pytest

from so101_calibration import UnitConverter
from so101_policy import (
    DATA_CONFIGS,
    ActionDecoder,
    BadActionError,
    JointUnits,
    ObservationBuilder,
    ObservationError,
    PolicyUnits,
    Protocol,
    RobotObservation,
    data_config,
)
from so101_policy.embodiment.observation_schema import validate_observation

POSITIONS = np.array([0.1, -0.2, 0.3, -0.4, 0.5, 0.2])


def reading(cameras=("front", "wrist", "webcam"), instruction="put the cube in the bowl") -> RobotObservation:
    frames = {name: np.full((48, 64, 3), i, np.uint8) for i, name in enumerate(cameras)}
    return RobotObservation(POSITIONS, frames, instruction, time=12.5)


@pytest.mark.parametrize("protocol", list(Protocol))
@pytest.mark.parametrize("name", sorted(DATA_CONFIGS))
@pytest.mark.parametrize("units", list(JointUnits))
def test_every_config_builds_what_a_strict_server_accepts(protocol, name, units, calibration):
    config = data_config(name)
    observation = ObservationBuilder(config, protocol, PolicyUnits(units, calibration)).build(reading())
    validate_observation(observation, config, protocol)


def test_n16_layout_is_batched_float32_with_a_nested_instruction(calibration):
    config = data_config("so100_new_embodiment")
    built = ObservationBuilder(config, Protocol.N1_7, PolicyUnits(JointUnits.DEGREES, calibration)).build(reading())
    degrees = UnitConverter(calibration, use_degrees=True).radians_to_normalized(POSITIONS)
    assert built["video"]["front"].shape == (1, 1, 48, 64, 3)
    assert built["state"]["single_arm"].dtype == np.float32
    np.testing.assert_allclose(built["state"]["single_arm"], degrees[:5].reshape(1, 1, 5).astype(np.float32))
    np.testing.assert_allclose(built["state"]["gripper"], degrees[5:].reshape(1, 1, 1).astype(np.float32))
    assert built["language"] == {"annotation.human.task_description": [["put the cube in the bowl"]]}


def test_n15_layout_is_flat_and_unbatched_with_the_configured_language_key(calibration):
    config = data_config("so100").with_overrides(language_key="annotation.human.action.task_description")
    built = ObservationBuilder(config, Protocol.N1_5, PolicyUnits(JointUnits.NORMALIZED, calibration)).build(reading())
    normalized = UnitConverter(calibration, use_degrees=False).radians_to_normalized(POSITIONS)
    assert sorted(built) == ["annotation.human.action.task_description", "state.gripper", "state.single_arm",
                             "video.webcam"]
    assert built["video.webcam"].shape == (1, 48, 64, 3)
    np.testing.assert_array_equal(built["state.single_arm"], normalized[:5].reshape(1, 5))
    assert built["annotation.human.action.task_description"] == ["put the cube in the bowl"]


@pytest.mark.parametrize("robot,message", [
    (reading(cameras=("wrist",)), "no image from camera 'front'"),
    (RobotObservation(POSITIONS, {"front": np.zeros((4, 4), np.uint8), "wrist": np.zeros((4, 4, 3), np.uint8)}),
     r"camera 'front': need \(H, W, 3\) uint8"),
    (RobotObservation(POSITIONS[:5], reading().images), r"joint_positions must be \(6,\) radians"),
])
def test_bad_readings_are_observation_errors(robot, message, calibration):
    builder = ObservationBuilder(data_config("so100_dualcam"), Protocol.N1_6, PolicyUnits(JointUnits.RADIANS))
    with pytest.raises(ObservationError, match=message):
        builder.build(robot)


def test_lerobot_units_without_a_calibration_are_refused_up_front():
    with pytest.raises(ValueError, match="needs the arm's calibration"):
        PolicyUnits(JointUnits.DEGREES)


# --- decoding replies ---------------------------------------------------------------------------------


def chunk_in(units: PolicyUnits, horizon: int = 16) -> tuple[np.ndarray, np.ndarray]:
    radians = np.linspace(-0.3, 0.3, horizon)[:, np.newaxis] + POSITIONS
    return radians, units.from_radians(radians).astype(np.float32)


@pytest.mark.parametrize("protocol", list(Protocol))
def test_replies_decode_to_radians_in_joint_order(protocol, calibration):
    units = PolicyUnits(JointUnits.DEGREES, calibration)
    radians, values = chunk_in(units)
    decoder = ActionDecoder(data_config("so100_dualcam"), protocol, units)
    if protocol.nested:
        action = {"single_arm": values[np.newaxis, :, :5], "gripper": values[np.newaxis, :, 5:]}
    else:
        action = {"action.single_arm": values[:, :5], "action.gripper": values[:, 5:]}
    decoded = decoder.decode(action)
    np.testing.assert_allclose(decoded, units.to_radians(values))
    np.testing.assert_allclose(decoded, radians, atol=1.6 * 2 * np.pi / 4095)


def nested(arm, gripper):
    return {"single_arm": arm, "gripper": gripper}


ARM, GRIP = np.zeros((1, 16, 5), np.float32), np.zeros((1, 16, 1), np.float32)


@pytest.mark.parametrize("action,kind", [
    ([ARM, GRIP], "bad_type"),
    ({"single_arm": ARM}, "bad_keys"),
    ({"action.single_arm": ARM[0], "action.gripper": GRIP[0]}, "bad_keys"),
    (nested(ARM.tolist(), GRIP), "bad_type"),
    (nested(ARM.astype(np.int32), GRIP), "bad_dtype"),
    (nested(ARM[0], GRIP), "bad_shape"),
    (nested(np.zeros((2, 16, 5), np.float32), GRIP), "bad_shape"),
    (nested(np.zeros((1, 16, 4), np.float32), GRIP), "bad_shape"),
    (nested(np.zeros((1, 0, 5), np.float32), np.zeros((1, 0, 1), np.float32)), "bad_shape"),
    (nested(ARM, np.zeros((1, 8, 1), np.float32)), "bad_shape"),
    (nested(np.full((1, 16, 5), np.nan, np.float32), GRIP), "non_finite"),
    (nested(ARM, np.full((1, 16, 1), np.inf, np.float32)), "non_finite"),
])
def test_malformed_replies_are_bad_actions_of_a_named_kind(action, kind):
    decoder = ActionDecoder(data_config("so100_dualcam"), Protocol.N1_6, PolicyUnits(JointUnits.RADIANS))
    with pytest.raises(BadActionError) as caught:
        decoder.decode(action)
    assert caught.value.kind == kind
