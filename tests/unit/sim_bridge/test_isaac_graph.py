"""The Isaac Sim action graph as data, checked without Isaac Sim; the script imports isaacsim only in main."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from so101_calibration.interface_contract import (
    SIM_CAMERA_IMAGE,
    SIM_COMMAND_SUBSCRIBER_QOS,
    SIM_JOINT_COMMAND,
    SIM_JOINT_STATES,
)
from so101_sim_bridge.isaac.action_graph import (
    NODE_TYPES,
    PYTHON_MODULES,
    ROLE_ATTRIBUTES,
    IsaacTwinConfig,
    TwinGraph,
    build_twin_graph,
    validate_graph,
)
from so101_sim_bridge.isaac.cameras import LEISAAC_CAMERAS, IsaacCameraConfig

SCRIPT = Path(__file__).resolve().parents[3] / "sim_bridge/scripts/isaac_sim_twin.py"
CAMERAS = (LEISAAC_CAMERAS[0], IsaacCameraConfig("front", "/World/front"))
ROOT = "/World/so101/root_joint"


@pytest.fixture
def graph() -> TwinGraph:
    return build_twin_graph(IsaacTwinConfig(cameras=CAMERAS, articulation_root=ROOT))


@pytest.mark.parametrize("version", sorted(NODE_TYPES))
def test_graph_fits_every_described_version(graph, version):
    validate_graph(graph, version)
    assert set(NODE_TYPES[version]) == set(ROLE_ATTRIBUTES)
    assert set(PYTHON_MODULES[version]) >= {"bridge_extension", "extensions", "stage", "target_prims", "simulation"}
    prefix = "omni.isaac." if version == "4.2" else "isaacsim."
    assert all(t.startswith((prefix, "omni.graph.action.")) for t in NODE_TYPES[version].values())


def test_topics_and_qos_match_the_bridge_defaults(graph):
    values = dict(graph.values)
    assert values["SubscribeJointState.inputs:topicName"] == SIM_JOINT_COMMAND.name
    assert values["PublishJointState.inputs:topicName"] == SIM_JOINT_STATES.name
    publisher = json.loads(values["PublishJointState.inputs:qosProfile"])
    assert (publisher["reliability"], publisher["history"], publisher["depth"], publisher["durability"]) == (
        "reliable", "keepLast", 10, "volatile")
    assert values["CameraHelper_wrist.inputs:topicName"] == SIM_CAMERA_IMAGE.format(name="wrist")
    assert values["CameraHelper_front.inputs:type"] == "rgb"
    assert json.loads(values["CameraHelper_wrist.inputs:qosProfile"])["reliability"] == "bestEffort"


def test_the_command_subscription_keeps_only_the_newest_command(graph):
    """One message per graph tick: with depth 10 a slower graph would apply the oldest of ten queued commands.
    Reliable, so it still matches the bridge's reliable publisher (contract: SIM_COMMAND_SUBSCRIBER_QOS)."""
    values = dict(graph.values)
    qos = json.loads(values["SubscribeJointState.inputs:qosProfile"])
    assert (qos["reliability"], qos["history"], qos["depth"]) == ("reliable", "keepLast", 1)
    assert values["SubscribeJointState.inputs:queueSize"] == 1 == SIM_COMMAND_SUBSCRIBER_QOS.depth
    assert SIM_JOINT_COMMAND.qos.reliability == SIM_COMMAND_SUBSCRIBER_QOS.reliability


def test_the_controller_searches_the_robot_and_the_publisher_reads_the_articulation_root(graph):
    targets = dict(graph.targets)
    assert targets["ArticulationController.inputs:targetPrim"] == ("/World/so101",)
    assert targets["PublishJointState.inputs:targetPrim"] == (ROOT,)
    assert targets["RenderProduct_wrist.inputs:cameraPrim"] == ("/World/so101/gripper/wrist_camera",)
    assert targets["RenderProduct_front.inputs:cameraPrim"] == ("/World/front",)
    assert ("SubscribeJointState.outputs:positionCommand", "ArticulationController.inputs:positionCommand") in graph.connections


def test_validation_catches_dangling_references(graph):
    broken = TwinGraph(graph.path, graph.nodes, (*graph.connections, ("Nowhere.outputs:tick", "Context.inputs:x")),
                       graph.values)
    with pytest.raises(ValueError, match="no node Nowhere"):
        validate_graph(broken, "5.1")
    misspelt = TwinGraph(graph.path, graph.nodes, graph.connections, (("PublishJointState.inputs:topic", "x"),))
    with pytest.raises(ValueError, match="no inputs: attribute"):
        validate_graph(misspelt, "5.1")
    with pytest.raises(ValueError, match="6.0 is not described"):
        validate_graph(graph, "6.0")


def test_script_imports_isaacsim_only_inside_main():
    tree = ast.parse(SCRIPT.read_text())
    top_level = {alias.name.split(".")[0] for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
                 for alias in node.names} | {node.module.split(".")[0] for node in tree.body
                                             if isinstance(node, ast.ImportFrom) and node.module}
    assert not top_level & {"isaacsim", "omni", "carb", "pxr"}
    main = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main")
    assert any(isinstance(n, ast.ImportFrom) and n.module == "isaacsim" for n in ast.walk(main))


def test_script_parses_cameras_without_isaac(monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("isaac_sim_twin", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    args = module.parse_args(["--usd", "robot.usd", "--camera", "wrist=/World/so101/wrist_cam", "--isaac-version", "4.5"])
    config = module.twin_config(args)
    wrist = next(camera for camera in config.cameras if camera.name == "wrist")
    assert wrist.topic == SIM_CAMERA_IMAGE.format(name="wrist") and config.robot_prim == "/World/so101"
    assert not wrist.created and wrist.prim == "/World/so101/wrist_cam"
    assert [c.name for c in config.cameras if c.created] == ["front"]  # LeIsaac's, created by the script
    assert module.twin_config(module.parse_args(["--usd", "r.usd", "--no-leisaac-cameras"])).cameras == ()
    for bad in (["--camera", "wrist"], ["--camera", "wrist=relative"], ["--camera-set", "side.width=3"],
                ["--camera-set", "wrist.zoom=2"]):
        with pytest.raises(SystemExit):
            module.twin_config(module.parse_args(["--usd", "r.usd", *bad]))
