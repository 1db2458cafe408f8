"""The Isaac Sim action graph as data, checked without Isaac Sim; the script imports isaacsim only in main."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from so101_calibration.interface_contract import SIM_CAMERA_IMAGE, SIM_JOINT_COMMAND, SIM_JOINT_STATES
from so101_sim_bridge.isaac.action_graph import (
    NODE_TYPES,
    PYTHON_MODULES,
    ROLE_ATTRIBUTES,
    IsaacCameraConfig,
    IsaacTwinConfig,
    TwinGraph,
    build_twin_graph,
    validate_graph,
)

SCRIPT = Path(__file__).resolve().parents[3] / "sim_bridge/scripts/isaac_sim_twin.py"
CAMERAS = (IsaacCameraConfig("wrist", "/World/so101/gripper/wrist_camera"), IsaacCameraConfig("front", "/World/front"))


@pytest.fixture
def graph() -> TwinGraph:
    return build_twin_graph(IsaacTwinConfig(cameras=CAMERAS))


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
    for node in ("SubscribeJointState", "PublishJointState"):
        qos = json.loads(values[f"{node}.inputs:qosProfile"])
        assert (qos["reliability"], qos["history"], qos["depth"], qos["durability"]) == ("reliable", "keepLast", 10, "volatile")
    assert values["CameraHelper_wrist.inputs:topicName"] == SIM_CAMERA_IMAGE.format(name="wrist")
    assert values["CameraHelper_front.inputs:type"] == "rgb"
    assert dict(graph.targets)["ArticulationController.inputs:targetPrim"] == ("/World/so101",)
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
    assert config.cameras[0].topic == SIM_CAMERA_IMAGE.format(name="wrist") and config.robot_prim == "/World/so101"
    with pytest.raises(SystemExit):
        module.twin_config(module.parse_args(["--usd", "r.usd", "--camera", "wrist"]))
