"""The twin bridge's logic without ROS: its parameters, the sim mapping they build, tracking error and lag."""
from __future__ import annotations

import numpy as np
import pytest

from so101_calibration import JOINT_NAMES, SIM_JOINT_NAMES, ArmRole, write_calibration_file
from so101_calibration.interface_contract import FOLLOWER_JOINT_STATES, SIM_JOINT_COMMAND, SIM_JOINT_STATES
from so101_sim_bridge.bridge import TwinBridgeConfig, TwinTracker


def test_defaults_mirror_the_follower_onto_isaacs_topics_in_our_names():
    config = TwinBridgeConfig()
    assert (config.source_topic, config.command_topic, config.state_topic) == (
        FOLLOWER_JOINT_STATES, SIM_JOINT_COMMAND.name, SIM_JOINT_STATES.name)
    mapping = config.build_mapping(config.role)
    assert mapping.names == JOINT_NAMES
    assert mapping.to_sim(np.arange(6.0)) == pytest.approx(np.arange(6.0))


def test_a_names_preset_renames_the_joints():
    mapping = TwinBridgeConfig(sim_names="so_arm101_usd").build_mapping(ArmRole.FOLLOWER)
    assert mapping.names == SIM_JOINT_NAMES["so_arm101_usd"]
    assert mapping.names == ("Rotation", "Pitch", "Elbow", "Wrist_Pitch", "Wrist_Roll", "Jaw")


def test_leisaac_units_use_the_source_arms_calibration(tmp_path, calibration):
    write_calibration_file(tmp_path / "my_leader.json", calibration)
    config = TwinBridgeConfig(source="leader", sim_units="leisaac", arm_id="my_leader", calibration=str(tmp_path))
    mapping = config.build_mapping(config.role)
    # the middle of every calibrated range is the middle of LeIsaac's USD limits (elbow: -5 deg)
    assert np.degrees(mapping.to_sim(np.zeros(6))) == pytest.approx([0, 0, -5, 0, 0, 45])


def test_leisaac_units_without_a_calibration_fail_at_start_saying_where_they_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_LEROBOT_CALIBRATION", str(tmp_path))
    with pytest.raises(Exception, match="follower"):
        TwinBridgeConfig(sim_units="leisaac").build_mapping(ArmRole.FOLLOWER)


def test_a_map_file_that_misses_a_joint_fails_at_start(tmp_path):
    names = {name: name.upper() for name in JOINT_NAMES if name != "gripper"}
    path = tmp_path / "usd.yaml"
    path.write_text("names:\n" + "".join(f"  {k}: {v}\n" for k, v in names.items()))
    with pytest.raises(ValueError, match=r"usd.yaml: names must .* map every joint .*gripper"):
        TwinBridgeConfig(sim_map=str(path)).build_mapping(ArmRole.FOLLOWER)


def test_a_map_file_replaces_the_preset(tmp_path):
    path = tmp_path / "usd.yaml"
    path.write_text("names: ros2_so_arm\noffset: {wrist_roll: 1.5}\n")
    mapping = TwinBridgeConfig(sim_names="so_arm101_usd", sim_map=str(path)).build_mapping(ArmRole.FOLLOWER)
    assert mapping.names[0] == "shoulder_pan_joint"
    assert mapping.to_sim(np.zeros(6))[4] == 1.5


@pytest.mark.parametrize(
    "bad,message",
    [
        (dict(source="policy"), "source 'policy' unknown"),
        (dict(sim_names="SO101"), "sim_names 'SO101' unknown; presets are so101"),
        (dict(sim_units="degrees"), "sim_units 'degrees' unknown"),
        (dict(publish_rate_hz=-1.0), "publish_rate_hz"),
        (dict(command_topic=""), "command_topic"),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(bad, message):
    with pytest.raises(ValueError, match=message):
        TwinBridgeConfig(**bad)


def test_lag_runs_from_the_source_stamp_to_the_first_state_after_the_command():
    tracker = TwinTracker()
    tracker.command_sent(source_stamp_s=10.000, sent_at_s=10.001, target=np.zeros(6))
    early = tracker.echo(received_at_s=10.0005, position=np.zeros(6))  # left the sim before the command did
    assert early.lags_s == ()
    echo = tracker.echo(received_at_s=10.004, position=np.full(6, 0.1))
    assert echo.lags_s == pytest.approx((0.004,))
    assert tracker.echo(received_at_s=10.009, position=np.zeros(6)).lags_s == ()  # already answered


def test_a_slow_simulator_answers_every_pending_command_with_one_state():
    tracker = TwinTracker()
    for i in range(3):
        tracker.command_sent(source_stamp_s=i * 0.01, sent_at_s=i * 0.01 + 0.001, target=np.zeros(6))
    assert tracker.echo(received_at_s=0.05, position=np.zeros(6)).lags_s == pytest.approx((0.05, 0.04, 0.03))
    assert tracker.summary()["lag_max_ms"] == pytest.approx(50.0)


def test_tracking_error_is_twin_minus_the_last_target():
    tracker = TwinTracker()
    assert tracker.echo(1.0, np.ones(6)).error is None  # nothing commanded yet
    tracker.command_sent(1.0, 1.0, np.arange(6.0))
    tracker.command_sent(1.01, 1.01, np.arange(6.0) + 1)
    echo = tracker.echo(1.02, np.arange(6.0) + 0.5)
    assert echo.error == pytest.approx(np.full(6, -0.5))
    summary = tracker.summary()
    assert summary["tracking_error_gripper_rad"] == pytest.approx(-0.5)
    assert summary["tracking_error_max_rad"] == pytest.approx(0.5)
    assert (summary["commands_sent"], summary["sim_states"]) == (2, 2)
