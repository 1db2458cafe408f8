"""ROS radians ↔ simulator joint values: name presets, the LeIsaac table, custom YAML maps, round trips."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from so101_calibration import (
    JOINT_NAMES,
    LEISAAC_USD_LIMITS_DEG,
    SIM_JOINT_NAMES,
    SO101_JOINTS,
    ArmCalibration,
    MotorCalibration,
    SimMappingConfig,
    SimUnits,
    UnitConverter,
    build_sim_mapping,
    load_sim_mapping_config,
)

LEISAAC = SimMappingConfig(units=SimUnits.LEISAAC)


def leisaac_formula(normalized: np.ndarray) -> np.ndarray:
    """LeIsaac's own conversion of LeRobot RANGE_M100_100 / RANGE_0_100 values to USD radians."""
    out = []
    for joint, value in zip(JOINT_NAMES, normalized):
        m_lo, m_hi = (0.0, 100.0) if joint == "gripper" else (-100.0, 100.0)
        j_lo, j_hi = LEISAAC_USD_LIMITS_DEG[joint]
        out.append((value - m_lo) / (m_hi - m_lo) * (j_hi - j_lo) + j_lo)
    return np.asarray(out) * math.pi / 180


@st.composite
def calibrations(draw) -> ArmCalibration:
    motors = {}
    for joint in SO101_JOINTS:
        low = draw(st.integers(0, 4000))
        high = draw(st.integers(low + 50, 4095))
        motors[joint.name] = MotorCalibration(joint.motor_id, draw(st.sampled_from((0, 1))), 0, low, high)
    return ArmCalibration(motors)


radians = st.lists(st.floats(-2 * math.pi, 2 * math.pi, allow_nan=False), min_size=6, max_size=6)


def test_name_presets_cover_the_known_so101_variants():
    assert SIM_JOINT_NAMES["so101"] == JOINT_NAMES
    assert SIM_JOINT_NAMES["so_arm101_usd"] == ("Rotation", "Pitch", "Elbow", "Wrist_Pitch", "Wrist_Roll", "Jaw")
    assert SIM_JOINT_NAMES["ros2_so_arm"][0] == "shoulder_pan_joint"


def test_physical_units_pass_ros_radians_through():
    mapping = build_sim_mapping(SimMappingConfig(names=SIM_JOINT_NAMES["so_arm101_usd"]))
    values = np.array([0.1, -0.2, 0.3, -0.4, 0.5, 0.6])
    assert mapping.names[-1] == "Jaw"
    assert mapping.to_sim(values).tolist() == values.tolist()


@settings(max_examples=200, deadline=None)
@given(st.data(), calibrations())
def test_leisaac_units_equal_leisaacs_formula_on_lerobot_values(data, calibration):
    in_range = (st.integers(m.range_min, m.range_max) for m in calibration.motors.values())
    ticks = np.array(data.draw(st.tuples(*in_range)))
    converter = UnitConverter(calibration, use_degrees=False)
    mapping = build_sim_mapping(LEISAAC, calibration)
    expected = leisaac_formula(converter.ticks_to_normalized(ticks))
    np.testing.assert_allclose(mapping.to_sim(converter.ticks_to_radians(ticks)), expected, rtol=0, atol=1e-9)


def test_leisaac_table_landmarks(make_calibration):
    calibration = make_calibration()
    converter = UnitConverter(calibration, use_degrees=True)
    mapping = build_sim_mapping(LEISAAC, calibration)
    low, high = calibration.column("range_min"), calibration.column("range_max")
    mid_sim = np.rad2deg(mapping.to_sim(converter.ticks_to_radians((low + high) / 2)))
    np.testing.assert_allclose(mid_sim, [0, 0, -5, 0, 0, 45], atol=1e-9)  # elbow is asymmetric (-100..90)
    closed, open_ = (np.rad2deg(mapping.to_sim(converter.ticks_to_radians(t)))[-1] for t in (low, high))
    assert (closed, open_) == (pytest.approx(-10), pytest.approx(100))


@settings(max_examples=200, deadline=None)
@given(calibrations(), radians, st.sampled_from(list(SIM_JOINT_NAMES)), st.sampled_from(list(SimUnits)))
def test_radians_to_sim_and_back_is_exact_to_float_tolerance(calibration, angles, names, units):
    tweaks = {"scale": {"gripper": 0.25}, "offset": {"wrist_roll": math.pi / 2}}
    config = SimMappingConfig(SIM_JOINT_NAMES[names], units, **tweaks)
    mapping = build_sim_mapping(config, calibration)
    values = np.array(angles)
    np.testing.assert_allclose(mapping.from_sim(mapping.to_sim(values)), values, rtol=1e-12, atol=1e-12)


def test_sim_joint_states_are_matched_by_name_in_any_order_with_extra_joints(make_calibration):
    mapping = build_sim_mapping(SimMappingConfig(names=SIM_JOINT_NAMES["so_arm101_usd"]))
    names = ["Jaw", "table_hinge", "Wrist_Roll", "Wrist_Pitch", "Elbow", "Pitch", "Rotation"]
    values = [6.0, 99.0, 5.0, 4.0, 3.0, 2.0, 1.0]
    assert mapping.from_sim(values, names).tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    with pytest.raises(ValueError, match="sim joint\\(s\\) Jaw missing"):
        mapping.from_sim(values[1:], names[1:])


def test_custom_yaml_map(tmp_path, make_calibration):
    path = tmp_path / "twin.yaml"
    path.write_text(
        "names: {shoulder_pan: A, shoulder_lift: B, elbow_flex: C, wrist_flex: D, wrist_roll: E, gripper: F}\n"
        "units: physical\n"
        "scale: {gripper: 0.25}\n"
        "offset: {wrist_roll: 1.5}\n"
    )
    mapping = build_sim_mapping(load_sim_mapping_config(path), make_calibration())
    assert mapping.names == ("A", "B", "C", "D", "E", "F")
    assert mapping.to_sim(np.array([0.0, 0.0, 0.0, 0.0, 0.5, 2.0])).tolist() == [0.0, 0.0, 0.0, 0.0, 2.0, 0.5]


def test_yaml_map_with_a_preset_and_leisaac_units(tmp_path, make_calibration):
    path = tmp_path / "isaac.yaml"
    path.write_text("names: so_arm101_usd\nunits: leisaac\n")
    config = load_sim_mapping_config(path)
    assert (config.names[0], config.units) == ("Rotation", SimUnits.LEISAAC)


@pytest.mark.parametrize(
    "text,message",
    [
        ("names: nope\n", r"names preset 'nope' unknown; presets are so101"),
        ("names: {shoulder_pan: A}\n", r"names must be a preset or map every joint"),
        ("units: degrees\n", r"units 'degrees' unknown; use physical or leisaac"),
        ("scale: {elbow: 2}\n", r"scale for unknown joint"),
        ("scale: {gripper: 0}\n", r"scale of gripper must be finite and non-zero"),
        ("offset: {gripper: x}\n", r"offset of gripper must be a number"),
        ("colour: red\n", r"unknown key\(s\) \['colour'\]"),
        ("names: [a, b\n", r"cannot read the sim mapping"),
        ("- 1\n", r"must be a mapping"),
    ],
)
def test_bad_yaml_maps_name_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=rf"{path}: .*{message}"):
        load_sim_mapping_config(path)


def test_leisaac_units_need_the_calibration():
    with pytest.raises(ValueError, match="pass the arm's calibration"):
        build_sim_mapping(LEISAAC)


def test_duplicate_sim_names_are_refused():
    with pytest.raises(ValueError, match="6 distinct sim joint names"):
        SimMappingConfig(names=("a", "a", "b", "c", "d", "e"))
