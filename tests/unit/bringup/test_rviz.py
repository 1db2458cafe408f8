"""rviz:=true: the SO-101 URDF robot_state_publisher gets (parses, joint names match the topics, meshes
resolve, the gripper's zero is ours), the graph's tools, and how a missing or present tool is started.
robot_state_publisher and rviz2 are not installable here: the runner test starts stand-in executables
from a stand-in ament prefix (named as such) and checks the command lines they were given."""
from __future__ import annotations

import json
import os
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from so101_bringup.arguments import DeployArgs, TeleopArgs, TwinArgs
from so101_bringup.graph_checks import GraphError, check_graph
from so101_bringup.graph_spec import Graph, ToolSpec
from so101_bringup.launch_graphs import RVIZ_CONFIG, deploy_graph, rviz_graph, teleop_graph, twin_graph
from so101_bringup.runner import GraphRunner, GraphStartError
from so101_bringup.share import config_path
from so101_bringup.visualization.robot_description import (
    axis_angle_matrix,
    robot_description,
    rpy_matrix,
    so101_urdf_path,
)
from so101_calibration import JOINT_NAMES
from so101_calibration.interface_contract import FOLLOWER_JOINT_STATES, LEADER_JOINT_STATES
from tests_support.repo import REPO
from tests_support.ros import domain_for_this_process


@pytest.fixture(scope="module")
def urdf() -> ET.Element:
    return ET.fromstring(robot_description())


def joints(robot: ET.Element) -> dict[str, ET.Element]:
    return {joint.get("name"): joint for joint in robot.findall("joint") if joint.get("type") != "fixed"}


def test_the_urdf_moves_the_joints_the_topics_name(urdf):
    assert sorted(joints(urdf)) == sorted(JOINT_NAMES)


def test_every_mesh_is_a_file_uri_that_exists(urdf):
    meshes = [mesh.get("filename") for mesh in urdf.iter("mesh")]
    assert meshes
    for uri in meshes:
        parsed = urlparse(uri)
        assert parsed.scheme == "file" and Path(parsed.path).is_file(), uri


def _child_rotation(joint: ET.Element, angle: float) -> np.ndarray:
    rpy = [float(v) for v in joint.find("origin").get("rpy").split()]
    axis = np.array([float(v) for v in joint.find("axis").get("xyz").split()])
    return rpy_matrix(*rpy) @ axis_angle_matrix(axis, angle)


def test_a_published_zero_is_the_middle_of_the_gripper_range_and_other_joints_are_untouched(urdf):
    original = joints(ET.parse(so101_urdf_path()).getroot())
    ours = joints(urdf)
    limit = original["gripper"].find("limit")
    middle = (float(limit.get("lower")) + float(limit.get("upper"))) / 2
    assert middle == pytest.approx(0.785, abs=1e-3)  # 45°: the twin's offset too
    for angle in (-0.9, 0.0, 0.4, 0.96):  # ROS radians → the same pose as the original at angle + middle
        np.testing.assert_allclose(_child_rotation(ours["gripper"], angle),
                                   _child_rotation(original["gripper"], angle + middle), atol=1e-7)
    assert float(ours["gripper"].find("limit").get("lower")) == pytest.approx(float(limit.get("lower")) - middle)
    for name in set(JOINT_NAMES) - {"gripper"}:
        assert ET.tostring(ours[name]) == ET.tostring(original[name])


@pytest.mark.parametrize("build,args", [(teleop_graph, TeleopArgs), (deploy_graph, DeployArgs),
                                        (twin_graph, TwinArgs)], ids=["teleop", "deploy", "twin"])
def test_rviz_adds_robot_state_publisher_and_rviz2_fed_by_the_follower(build, args, tmp_path):
    without = build(args(emulate=True, emulator_dir=str(tmp_path)))
    graph = build(args(emulate=True, emulator_dir=str(tmp_path), rviz=True))
    assert graph.nodes == without.nodes and not without.tools
    publisher, viewer = graph.tools
    assert (publisher.package, publisher.executable, viewer.package, viewer.executable) == (
        "robot_state_publisher", "robot_state_publisher", "rviz2", "rviz2")
    assert publisher.remappings == (("joint_states", FOLLOWER_JOINT_STATES.name),)
    assert publisher.parameters["robot_description"] == robot_description()
    assert viewer.arguments == ("-d", str(config_path(RVIZ_CONFIG))) and viewer.files == (config_path(RVIZ_CONFIG),)
    check_graph(graph)


def test_the_leader_can_feed_it_where_the_graph_has_one_and_a_namespace_carries_over(tmp_path):
    graph = teleop_graph(TeleopArgs(emulate=True, emulator_dir=str(tmp_path), rviz=True, rviz_arm="leader",
                                    namespace="arm1"))
    publisher, viewer = graph.tools
    assert publisher.remappings == (("joint_states", LEADER_JOINT_STATES.name),)
    assert publisher.fqn == "/arm1/robot_state_publisher"
    assert viewer.remappings == (("/robot_description", "/arm1/robot_description"),)
    with pytest.raises(ValueError, match="rviz_arm:=leader: this graph has no leader node"):
        deploy_graph(DeployArgs(emulate=True, emulator_dir=str(tmp_path), rviz=True, rviz_arm="leader"))
    with pytest.raises(ValueError, match="argument rviz_arm: expected follower or leader"):
        TeleopArgs(rviz=True, rviz_arm="twin")


def test_the_rviz_config_ships_with_the_package():
    config = config_path(RVIZ_CONFIG)
    assert config.parent == REPO / "launch" / "config" and "RobotModel" in config.read_text()
    assert 'glob("config/*.rviz")' in (REPO / "launch" / "setup.py").read_text()
    broken = Graph(tools=(ToolSpec("rviz2", "rviz2", "rviz2", files=(config.with_name("x.rviz"),)),))
    with pytest.raises(GraphError, match="x.rviz does not exist"):
        check_graph(broken)


def test_a_missing_tool_stops_the_start_with_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(tmp_path))  # a ROS prefix without the desktop packages
    with pytest.raises(GraphStartError) as failure:
        GraphRunner(rviz_graph(), domain_id=domain_for_this_process()).start()
    message = str(failure.value)
    assert "robot_state_publisher/robot_state_publisher and rviz2/rviz2 not installed" in message
    assert "sudo apt-get install ros-$ROS_DISTRO-robot-state-publisher ros-$ROS_DISTRO-rviz2" in message


STAND_IN = textwrap.dedent("""\
    #!{python}
    # Stand-in for {executable} (not installable here): records its command line, runs until SIGINT.
    import json, signal, sys, time
    with open({record!r}, "w") as f:
        json.dump(sys.argv[1:], f)
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    while True:
        time.sleep(0.05)
    """)


def test_the_runner_starts_installed_tools_with_their_arguments_and_stops_them(monkeypatch, tmp_path):
    prefix = tmp_path / "stand_in_prefix"
    records = {}
    for package in ("robot_state_publisher", "rviz2"):
        (prefix / "share/ament_index/resource_index/packages").mkdir(parents=True, exist_ok=True)
        (prefix / "share/ament_index/resource_index/packages" / package).touch()
        executable = prefix / "lib" / package / package
        executable.parent.mkdir(parents=True)
        records[package] = tmp_path / f"{package}.json"
        executable.write_text(STAND_IN.format(python=sys.executable, executable=package,
                                              record=str(records[package])))
        executable.chmod(0o755)
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(prefix))
    graph = rviz_graph("arm1", "follower")
    with GraphRunner(graph, domain_id=domain_for_this_process(offset=3)) as running:
        deadline = time.monotonic() + 20
        while not all(path.exists() and path.stat().st_size for path in records.values()):
            assert time.monotonic() < deadline, "the stand-in tools did not start"
            assert not running.exited_processes()
            time.sleep(0.05)
    publisher = json.loads(records["robot_state_publisher"].read_text())
    assert publisher[:4] == ["--ros-args", "-r", "__node:=robot_state_publisher", "-r"]
    assert "__ns:=/arm1" in publisher and "joint_states:=follower/joint_states" in publisher
    description = next(arg for arg in publisher if arg.startswith("robot_description:="))
    assert json.loads(description.partition(":=")[2]) == robot_description()
    viewer = json.loads(records["rviz2"].read_text())
    assert viewer[:2] == ["-d", str(config_path(RVIZ_CONFIG))]
    assert "/robot_description:=/arm1/robot_description" in viewer
    assert os.environ["AMENT_PREFIX_PATH"] == str(prefix)
