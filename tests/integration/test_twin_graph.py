"""The twin graph (twin.launch.py, `so101 run twin`): what it starts for each simulator, and the command itself."""
from __future__ import annotations

import signal
import sys

import pexpect
import pytest

from so101_bringup.arguments import TwinArgs, parse_arguments
from so101_bringup.launch_graphs import twin_graph
from so101_bringup.share import config_path
from so101_calibration.interface_contract import SIM_JOINT_STATES
from tests_support.ros import domain_for_this_process


def test_mujoco_twin_graph_is_teleop_then_twin_bridge_and_recorder():
    graph = twin_graph(TwinArgs(emulate=True))
    assert [node.fqn for node in graph.nodes] == [
        "/leader", "/follower", "/teleop", "/mujoco_twin", "/twin_bridge", "/recorder",  # records the twin's cameras
    ]
    with_cameras = twin_graph(parse_arguments(TwinArgs, {"emulate": "true", "cameras": "true"}))
    assert [node.name for node in with_cameras.nodes][3:5] == ["camera_wrist", "camera_front"]
    same_arm = {"arm_id": "emulated_follower", "calibration": str(config_path("calibration"))}
    assert dict(graph.node("twin_bridge").parameters) == same_arm
    bridge_mapping = {"sim_names": "so101", "sim_units": "physical", "sim_map": "",
                      "state_topic": SIM_JOINT_STATES.name}
    assert dict(graph.node("recorder").parameters) == {"simulator": "mujoco", **same_arm, **bridge_mapping}
    assert graph.node("mujoco_twin").param_files == (config_path("mujoco_twin.yaml"),)
    assert graph.node("recorder").param_files == (config_path("recorder.yaml"),)


def test_the_recorder_writes_in_the_bridges_sim_mapping_whatever_sets_it():
    """A sim mapping set on the bridge (e.g. LeIsaac's units) reaches the recorder, or its HDF5 file would not
    replay in the scene it mirrors; setting the recorder's alone is refused."""
    graph = twin_graph(TwinArgs(emulate=True)).with_parameters([("twin_bridge", "sim_units", "leisaac")])
    assert graph.node("recorder").parameters["sim_units"] == "leisaac"
    with pytest.raises(ValueError, match="recorder.sim_units follows twin_bridge.sim_units"):
        graph.with_parameters([("recorder", "sim_units", "physical")])


def test_with_isaac_sim_the_mujoco_twin_is_left_out_and_samples_are_timed_on_arrival():
    graph = twin_graph(parse_arguments(TwinArgs, {"sim": "isaac"}))
    assert [node.name for node in graph.nodes] == ["leader", "follower", "teleop", "twin_bridge", "recorder"]
    assert graph.node("recorder").parameters["stamp_on_arrival"] is True
    assert graph.node("recorder").parameters["simulator"] == "isaac", "named in the recorded datasets' provenance"


def test_an_unknown_simulator_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="argument sim: expected mujoco or isaac, got 'gazebo'"):
        parse_arguments(TwinArgs, {"sim": "gazebo"})


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_so101_run_twin_emulate_starts_and_stops_cleanly(tmp_path):
    command = [
        sys.executable, "-m", "so101_bringup.cli", "run", "twin", "--emulate", "--no-uart-timing",
        "--emulator-dir", str(tmp_path), "--domain-id", str(domain_for_this_process(3)),
        "--set", f"recorder.hdf5_path={tmp_path / 'demos.hdf5'}",
        "--set", f"recorder.lerobot_root={tmp_path / 'lerobot'}",
    ]
    child = pexpect.spawn(command[0], command[1:], timeout=60, encoding="utf-8", cwd=str(tmp_path))
    child.expect("node /mujoco_twin \\(so101_sim_bridge/mujoco_twin_node\\)")
    child.expect("running 6 node\\(s\\) on ROS domain \\d+; Ctrl-C to stop")
    child.expect_exact("waiting for input: /follower/joint_commands (never received)")  # teleop is not engaged
    child.kill(signal.SIGINT)
    child.expect("so101 run twin: stopped")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == [], "buses gone; nothing recorded, nothing left"
