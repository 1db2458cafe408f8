"""The node graph of each launch file, as data: what runs, with which parameters, from which files."""
import itertools
from pathlib import Path

import pytest

from so101_bringup.arguments import CamerasArgs, DeployArgs, FollowerArgs, TeleopArgs
from so101_bringup.catalog import node_type
from so101_bringup.graph_checks import check_graph
from so101_bringup.launch_graphs import (
    GRAPHS,
    build_graph,
    cameras_graph,
    deploy_graph,
    follower_graph,
    teleop_graph,
)
from so101_bringup.param_files import ParamFileError, effective_parameters
from so101_bringup.share import config_path
from so101_calibration.interface_contract import POLICY_JOINT_COMMANDS, TELEOP_JOINT_COMMANDS

EVERY_GRAPH = [
    pytest.param(name, emulate, id=f"{name}-{'emulated' if emulate else 'real'}")
    for name, emulate in itertools.product(GRAPHS, (False, True))
]


def graph_for(name, tmp_path, **args):
    """The graph `name` with these arguments; emulated buses link into tmp_path."""
    args_class, _ = GRAPHS[name]
    if issubclass(args_class, FollowerArgs):
        args["emulator_dir"] = str(tmp_path)
    return build_graph(name, args_class(**args))


@pytest.mark.parametrize("name,emulate", EVERY_GRAPH)
def test_every_default_graph_passes_its_checks(name, emulate, tmp_path):
    check_graph(graph_for(name, tmp_path, emulate=emulate))


@pytest.mark.parametrize("name,emulate", EVERY_GRAPH)
def test_every_parameter_a_node_is_given_is_declared_by_it(name, emulate, tmp_path):
    for node in graph_for(name, tmp_path, emulate=emulate).nodes:
        declared = node_type(node.package, node.executable).parameter_types()
        assert set(effective_parameters(node)) <= set(declared), node.fqn


@pytest.mark.parametrize("name,emulate", EVERY_GRAPH)
def test_every_file_a_graph_names_exists(name, emulate, tmp_path):
    graph = graph_for(name, tmp_path, emulate=emulate)
    for node in graph.nodes:
        assert all(path.is_file() for path in node.param_files), node.fqn
        if "calibration" in node.parameters:
            assert Path(node.parameters["calibration"]).exists()
    for emulator in graph.emulators:
        assert emulator.calibration.is_file()
        assert emulator.link.parent == tmp_path


DEPLOY_OPTIONS = [{"takeover": True}, {"record": True}, {"takeover": True, "record": True}]


def test_every_shipped_params_file_is_used_by_a_default_graph_or_a_deploy_option(tmp_path):
    graphs = [graph_for(name, tmp_path) for name in GRAPHS] + [graph_for("deploy", tmp_path, **options)
                                                               for options in DEPLOY_OPTIONS]
    used = {path for graph in graphs for node in graph.nodes for path in node.param_files}
    assert {p.name for p in used} == {p.name for p in config_path().glob("*.yaml")}


@pytest.mark.parametrize("emulate", (False, True))
@pytest.mark.parametrize("options", DEPLOY_OPTIONS, ids=lambda options: "+".join(options))
def test_the_deploy_graph_with_takeover_or_record_passes_the_same_checks(options, emulate, tmp_path):
    graph = graph_for("deploy", tmp_path, emulate=emulate, **options)
    check_graph(graph)
    for node in graph.nodes:
        assert set(effective_parameters(node)) <= set(node_type(node.package, node.executable).parameter_types())
        assert all(path.is_file() for path in node.param_files), node.fqn


def test_with_takeover_the_command_mux_alone_commands_the_follower():
    graph = deploy_graph(DeployArgs(takeover=True, cameras=False))
    assert [node.fqn for node in graph.nodes] == ["/follower", "/inference", "/leader", "/teleop", "/command_mux"]
    topics = {node.name: effective_parameters(node).get("command_topic") for node in graph.nodes}
    assert (topics["inference"], topics["teleop"]) == (POLICY_JOINT_COMMANDS.name, TELEOP_JOINT_COMMANDS.name)
    assert effective_parameters(graph.node("teleop"))["engage_on_start"] is True, "mirroring, ready to take over"
    assert "recorder" not in topics


def test_record_adds_the_recorder_with_the_intervention_flag_when_an_operator_can_take_over():
    plain, corrected = (deploy_graph(DeployArgs(record=True, takeover=takeover, cameras=False)) for takeover in (False, True))
    assert "record_intervention" not in effective_parameters(plain.node("recorder"))
    recorder = effective_parameters(corrected.node("recorder"))
    assert recorder["record_intervention"] is True
    assert recorder["arm_id"] == effective_parameters(corrected.node("follower")).get("arm_id", "follower")


def test_teleop_is_leader_follower_teleop_and_the_shipped_cameras():
    graph = teleop_graph(TeleopArgs())
    assert [node.fqn for node in graph.nodes] == ["/leader", "/follower", "/teleop", "/camera_wrist", "/camera_front"]
    assert [node.executable for node in graph.nodes] == [
        "leader_node", "follower_node", "teleop_node", "camera_node", "camera_node",
    ]
    assert graph.emulators == ()


def test_real_arms_get_only_the_arguments_that_were_given():
    graph = teleop_graph(TeleopArgs(follower_port="/dev/ttyACM0", leader_rate_hz=50.0, cameras=False))
    assert dict(graph.node("follower").parameters) == {"port": "/dev/ttyACM0"}
    assert dict(graph.node("leader").parameters) == {"rate_hz": 50.0}
    assert dict(graph.node("teleop").parameters) == {}
    # what was not given comes from the params file, then the node's own default
    assert effective_parameters(graph.node("leader"))["rate_hz"] == 50.0
    assert "port" not in effective_parameters(graph.node("leader"))


def test_emulate_puts_each_arm_on_an_emulated_bus_with_the_shipped_calibration(tmp_path):
    graph = teleop_graph(TeleopArgs(emulate=True, emulator_dir=str(tmp_path), uart_timing=False, emulator_seed=3))
    for role in ("leader", "follower"):
        node = graph.node(role)
        (emulator,) = [e for e in graph.emulators if e.role == role]
        assert graph.emulator_for(node) == emulator
        assert node.parameters["port"] == str(tmp_path / f"so101_{role}") == str(emulator.link)
        assert node.parameters["arm_id"] == f"emulated_{role}"
        assert emulator.calibration == config_path("calibration", f"emulated_{role}.json")
        assert (emulator.uart_timing, emulator.seed) == (False, 3)
    assert graph.emulator_for(graph.node("teleop")) is None


def test_emulate_keeps_ports_and_calibrations_that_were_given(tmp_path):
    calibration = tmp_path / "cal" / "my_follower.json"
    graph = follower_graph(
        FollowerArgs(emulate=True, follower_port=str(tmp_path / "ttyFOLLOWER"), follower_calibration=str(calibration))
    )
    (emulator,) = graph.emulators
    assert emulator.link == tmp_path / "ttyFOLLOWER"
    assert emulator.calibration == calibration
    assert graph.node("follower").parameters["arm_id"] == "my_follower"  # the file's stem, as LeRobot names it


def test_a_calibration_file_names_the_arm_for_real_arms_too():
    graph = follower_graph(FollowerArgs(follower_calibration="/calibrations/robots/so_follower/blue_arm.json"))
    assert graph.node("follower").parameters["arm_id"] == "blue_arm"


def test_emulated_cameras_are_synthetic():
    graph = cameras_graph(CamerasArgs(emulate=True))
    assert {node.name: node.parameters["source"] for node in graph.nodes} == {
        "camera_wrist": "synthetic", "camera_front": "synthetic",
    }
    assert all(node.parameters["name"] == node.name.removeprefix("camera_") for node in graph.nodes)


def test_teleop_without_cameras():
    assert [node.name for node in teleop_graph(TeleopArgs(cameras=False)).nodes] == ["leader", "follower", "teleop"]


def test_a_namespace_prefixes_every_node(tmp_path):
    graph = teleop_graph(TeleopArgs(namespace="/arm1/", emulate=True, emulator_dir=str(tmp_path)))
    assert all(node.fqn == f"/arm1/{node.name}" for node in graph.nodes)
    check_graph(graph)  # the shipped /**/<node> sections match in any namespace
    assert effective_parameters(graph.node("camera_wrist"))["device"] == "/dev/so101_cam_wrist"


def test_cameras_come_from_the_cameras_file(tmp_path):
    cameras = tmp_path / "cameras.yaml"
    cameras.write_text(
        "/**:\n  ros__parameters:\n    fps: 15.0\n"
        "/**/camera_top:\n  ros__parameters:\n    device: /dev/video4\n"
    )
    graph = cameras_graph(CamerasArgs(cameras_file=str(cameras)))
    assert [node.name for node in graph.nodes] == ["camera_top"]
    assert effective_parameters(graph.node("camera_top")) == {"fps": 15.0, "device": "/dev/video4", "name": "top"}


def test_a_cameras_file_section_that_is_not_a_camera_is_refused(tmp_path):
    cameras = tmp_path / "cameras.yaml"
    cameras.write_text("/**/wrist:\n  ros__parameters:\n    fps: 15.0\n")
    with pytest.raises(ParamFileError, match=r"cameras.yaml: section /\*\*/wrist is not a camera.*camera_<name>"):
        cameras_graph(CamerasArgs(cameras_file=str(cameras)))


def test_build_graph_refuses_another_graphs_arguments():
    with pytest.raises(TypeError, match="the teleop graph takes TeleopArgs, got FollowerArgs"):
        build_graph("teleop", FollowerArgs())


@pytest.mark.parametrize("uart_timing", [True, False])
def test_ros2_launch_and_the_runner_emulate_the_same_bus(uart_timing, tmp_path):
    """The emulator process `ros2 launch` starts is configured as the runner's in-process one, faults included."""
    from so101_hardware.emulator import FaultConfig
    from so101_hardware.emulator.cli import build_parser, config_from_args

    graph = teleop_graph(TeleopArgs(emulate=True, emulator_dir=str(tmp_path), uart_timing=uart_timing, emulator_seed=5))
    faults = FaultConfig(drop_reply_rate=0.05, corrupt_checksum_rate=0.03, latency_spike_rate=0.01,
                         latency_spike_s=0.02, error_bits={4: 0x20}, reorder_sync_read_rate=0.1,
                         power_cycle_at_s=(2.5, 1.0), stalls={6: 2300})
    graph = graph.with_emulator("follower", faults=faults, initial_positions={1: 2048, 2: 1500})
    for emulator in graph.emulators:
        assert config_from_args(build_parser().parse_args(emulator.cli_arguments())) == emulator.emulator_config()
    follower = next(emulator for emulator in graph.emulators if emulator.role == "follower")
    assert follower.emulator_config().faults == faults and follower.emulator_config().initial_positions[2] == 1500
