"""The twin's OmniGraph action graph, described as data (docs/reference/isaac-sim.md §1.2).

    OnPlaybackTick ─► ROS2SubscribeJointState(/isaac_joint_command, depth 1) ─► ArticulationController(robot)
                   ├► ROS2PublishJointState(articulation root, /isaac_joint_states, stamped with sim time)
                   └► IsaacCreateRenderProduct(camera) ─► ROS2CameraHelper(rgb, /sim/cameras/<name>/image_raw)
    ROS2Context (ROS_DOMAIN_ID) ─► every ROS node;  IsaacReadSimulationTime ─► PublishJointState.timeStamp

Node type ids change with the Isaac Sim version (extensions renamed in 4.5), so the graph names
roles and NODE_TYPES maps each role to its id per version. Tests check the description without
Isaac Sim: every role has a type in every version, every connection and value names a declared
node and an attribute that node type has, topics and QoS match the bridge's defaults. The script
turns it into og.Controller.edit(...) calls. Isaac Sim 6.x moved and rewired these nodes
(isaacsim.ros2.nodes, an explicit Read Joint State node) and is not described here.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from so101_calibration.interface_contract import (
    SIM_CAMERA_IMAGE,
    SIM_COMMAND_SUBSCRIBER_QOS,
    SIM_JOINT_COMMAND,
    SIM_JOINT_STATES,
    QosSpec,
)
from so101_sim_bridge.isaac.cameras import IsaacCameraConfig

GRAPH_PATH = "/SO101TwinGraph"

_MODERN = {
    "tick": "omni.graph.action.OnPlaybackTick",
    "context": "isaacsim.ros2.bridge.ROS2Context",
    "subscribe_joint_state": "isaacsim.ros2.bridge.ROS2SubscribeJointState",
    "articulation_controller": "isaacsim.core.nodes.IsaacArticulationController",
    "publish_joint_state": "isaacsim.ros2.bridge.ROS2PublishJointState",
    "simulation_time": "isaacsim.core.nodes.IsaacReadSimulationTime",
    "render_product": "isaacsim.core.nodes.IsaacCreateRenderProduct",
    "camera_helper": "isaacsim.ros2.bridge.ROS2CameraHelper",
}
_LEGACY = {
    "tick": "omni.graph.action.OnPlaybackTick",
    "context": "omni.isaac.ros2_bridge.ROS2Context",
    "subscribe_joint_state": "omni.isaac.ros2_bridge.ROS2SubscribeJointState",
    "articulation_controller": "omni.isaac.core_nodes.IsaacArticulationController",
    "publish_joint_state": "omni.isaac.ros2_bridge.ROS2PublishJointState",
    "simulation_time": "omni.isaac.core_nodes.IsaacReadSimulationTime",
    "render_product": "omni.isaac.core_nodes.IsaacCreateRenderProduct",
    "camera_helper": "omni.isaac.ros2_bridge.ROS2CameraHelper",
}
NODE_TYPES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {version: MappingProxyType(types) for version, types in
     (("4.2", _LEGACY), ("4.5", _MODERN), ("5.0", _MODERN), ("5.1", _MODERN))}
)
"""Isaac Sim version → role → OmniGraph node type id."""
_MODERN_MODULES = {
    "bridge_extension": "isaacsim.ros2.bridge",
    "extensions": "isaacsim.core.utils.extensions",
    "stage": "isaacsim.core.utils.stage",
    "target_prims": "isaacsim.core.nodes.scripts.utils",
    "simulation": "isaacsim.core.api",
}
_LEGACY_MODULES = {
    "bridge_extension": "omni.isaac.ros2_bridge",
    "extensions": "omni.isaac.core.utils.extensions",
    "stage": "omni.isaac.core.utils.stage",
    "target_prims": "omni.isaac.core_nodes.scripts.utils",
    "simulation": "omni.isaac.core",
}
PYTHON_MODULES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {version: MappingProxyType(modules) for version, modules in
     (("4.2", _LEGACY_MODULES), ("4.5", _MODERN_MODULES), ("5.0", _MODERN_MODULES), ("5.1", _MODERN_MODULES))}
)
"""Isaac Sim version → the extension to enable and the Python modules the script imports from."""

ROLE_ATTRIBUTES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "tick": frozenset({"outputs:tick"}),
        "context": frozenset({"inputs:domain_id", "inputs:useDomainIDEnvVar", "outputs:context"}),
        "subscribe_joint_state": frozenset(
            {"inputs:execIn", "inputs:context", "inputs:topicName", "inputs:qosProfile", "inputs:nodeNamespace",
             "inputs:queueSize", "outputs:execOut", "outputs:jointNames", "outputs:positionCommand",
             "outputs:velocityCommand", "outputs:effortCommand", "outputs:timeStamp"}
        ),
        "articulation_controller": frozenset(
            {"inputs:execIn", "inputs:targetPrim", "inputs:jointNames", "inputs:positionCommand",
             "inputs:velocityCommand", "inputs:effortCommand"}
        ),
        "publish_joint_state": frozenset(
            {"inputs:execIn", "inputs:context", "inputs:targetPrim", "inputs:topicName", "inputs:qosProfile",
             "inputs:nodeNamespace", "inputs:queueSize", "inputs:timeStamp"}
        ),
        "simulation_time": frozenset({"outputs:simulationTime"}),
        "render_product": frozenset(
            {"inputs:execIn", "inputs:cameraPrim", "inputs:width", "inputs:height", "outputs:execOut",
             "outputs:renderProductPath"}
        ),
        "camera_helper": frozenset(
            {"inputs:execIn", "inputs:context", "inputs:renderProductPath", "inputs:topicName", "inputs:frameId",
             "inputs:type", "inputs:qosProfile", "inputs:nodeNamespace", "inputs:queueSize"}
        ),
    }
)
"""The attributes of each role's node type that the graph may use (same names in every version above)."""


_ISAAC_QOS_WORDS = {"reliable": "reliable", "best_effort": "bestEffort", "volatile": "volatile",
                    "transient_local": "transientLocal"}


def isaac_qos_json(spec: QosSpec) -> str:
    """A QoS spec of the interface contract as Isaac's ROS nodes take it: a JSON string in inputs:qosProfile."""
    return json.dumps(
        {"history": "keepLast", "depth": spec.depth, "reliability": _ISAAC_QOS_WORDS[spec.reliability],
         "durability": _ISAAC_QOS_WORDS[spec.durability], "deadline": 0.0, "lifespan": 0.0,
         "liveliness": "systemDefault", "leaseDuration": 0.0}
    )


@dataclass(frozen=True)
class IsaacTwinConfig:
    robot_prim: str = "/World/so101"
    """Where the SO-101 asset is loaded: the articulation controller searches below it."""
    articulation_root: str | None = None
    """The prim with ArticulationRootAPI, which the joint-state publisher needs itself (the script finds it
    below robot_prim: so101_sim_bridge.isaac.articulation); None: robot_prim."""
    cameras: tuple[IsaacCameraConfig, ...] = ()
    joint_command_topic: str = SIM_JOINT_COMMAND.name
    joint_state_topic: str = SIM_JOINT_STATES.name
    command_qos: QosSpec = SIM_COMMAND_SUBSCRIBER_QOS
    """The command subscription's: depth 1, so each graph tick applies the newest command (the contract's doc)."""
    state_qos: QosSpec = SIM_JOINT_STATES.qos
    """The joint-state publisher's: the contract's (reliable, keep last 10)."""
    camera_qos: QosSpec = SIM_CAMERA_IMAGE.qos
    """The camera publishers': sensor data (best effort), as every camera topic of the stack."""
    graph_path: str = GRAPH_PATH


@dataclass(frozen=True)
class GraphNode:
    name: str
    role: str


@dataclass(frozen=True)
class TwinGraph:
    """Everything og.Controller.edit needs, plus the relationship inputs set with set_target_prims."""

    path: str
    nodes: tuple[GraphNode, ...]
    connections: tuple[tuple[str, str], ...]
    """(source "Node.outputs:x", target "Node.inputs:y")."""
    values: tuple[tuple[str, object], ...]
    """("Node.inputs:x", value)."""
    targets: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())
    """("Node.inputs:x", prim paths): relationship inputs (target prims)."""

    def node_types(self, isaac_version: str) -> tuple[tuple[str, str], ...]:
        """(node name, type id) for og.Controller.Keys.CREATE_NODES."""
        types = node_types_for(isaac_version)
        return tuple((node.name, types[node.role]) for node in self.nodes)


def node_types_for(isaac_version: str) -> Mapping[str, str]:
    try:
        return NODE_TYPES[isaac_version]
    except KeyError:
        raise ValueError(f"Isaac Sim {isaac_version} is not described; versions: {', '.join(NODE_TYPES)}") from None


def build_twin_graph(config: IsaacTwinConfig = IsaacTwinConfig()) -> TwinGraph:
    """The twin's action graph for config (module doc)."""
    nodes = [
        GraphNode("Tick", "tick"),
        GraphNode("Context", "context"),
        GraphNode("SimTime", "simulation_time"),
        GraphNode("SubscribeJointState", "subscribe_joint_state"),
        GraphNode("ArticulationController", "articulation_controller"),
        GraphNode("PublishJointState", "publish_joint_state"),
    ]
    connections = [
        ("Tick.outputs:tick", "SubscribeJointState.inputs:execIn"),
        ("Tick.outputs:tick", "PublishJointState.inputs:execIn"),
        ("Context.outputs:context", "SubscribeJointState.inputs:context"),
        ("Context.outputs:context", "PublishJointState.inputs:context"),
        ("SimTime.outputs:simulationTime", "PublishJointState.inputs:timeStamp"),
        # execOut fires only when a command arrived, so the controller holds the last target in between
        ("SubscribeJointState.outputs:execOut", "ArticulationController.inputs:execIn"),
        ("SubscribeJointState.outputs:jointNames", "ArticulationController.inputs:jointNames"),
        ("SubscribeJointState.outputs:positionCommand", "ArticulationController.inputs:positionCommand"),
        ("SubscribeJointState.outputs:velocityCommand", "ArticulationController.inputs:velocityCommand"),
        ("SubscribeJointState.outputs:effortCommand", "ArticulationController.inputs:effortCommand"),
    ]
    values: list[tuple[str, object]] = [
        ("Context.inputs:useDomainIDEnvVar", True),
        ("SubscribeJointState.inputs:topicName", config.joint_command_topic),
        ("SubscribeJointState.inputs:qosProfile", isaac_qos_json(config.command_qos)),
        ("SubscribeJointState.inputs:queueSize", config.command_qos.depth),
        ("PublishJointState.inputs:topicName", config.joint_state_topic),
        ("PublishJointState.inputs:qosProfile", isaac_qos_json(config.state_qos)),
    ]
    targets = [
        ("ArticulationController.inputs:targetPrim", (config.robot_prim,)),
        ("PublishJointState.inputs:targetPrim", (config.articulation_root or config.robot_prim,)),
    ]
    for camera in config.cameras:
        product, helper = f"RenderProduct_{camera.name}", f"CameraHelper_{camera.name}"
        nodes += [GraphNode(product, "render_product"), GraphNode(helper, "camera_helper")]
        connections += [
            ("Tick.outputs:tick", f"{product}.inputs:execIn"),
            (f"{product}.outputs:execOut", f"{helper}.inputs:execIn"),
            (f"{product}.outputs:renderProductPath", f"{helper}.inputs:renderProductPath"),
            ("Context.outputs:context", f"{helper}.inputs:context"),
        ]
        values += [
            (f"{product}.inputs:width", camera.width),
            (f"{product}.inputs:height", camera.height),
            (f"{helper}.inputs:type", "rgb"),
            (f"{helper}.inputs:topicName", camera.topic),
            (f"{helper}.inputs:frameId", f"sim_{camera.name}_camera"),
            (f"{helper}.inputs:qosProfile", isaac_qos_json(config.camera_qos)),
        ]
        targets.append((f"{product}.inputs:cameraPrim", (camera.prim_path(config.robot_prim),)))
    return TwinGraph(config.graph_path, tuple(nodes), tuple(connections), tuple(values), tuple(targets))


def validate_graph(graph: TwinGraph, isaac_version: str) -> None:
    """ValueError naming the first node, connection or attribute that does not fit the version's node types."""
    types = node_types_for(isaac_version)
    roles: dict[str, str] = {}
    for node in graph.nodes:
        if node.name in roles:
            raise ValueError(f"node {node.name} declared twice")
        if node.role not in types:
            raise ValueError(f"node {node.name}: role {node.role!r} has no node type in Isaac Sim {isaac_version}")
        roles[node.name] = node.role

    def check(reference: str, direction: str) -> None:
        node, _, attribute = reference.partition(".")
        if node not in roles:
            raise ValueError(f"{reference}: no node {node} in the graph")
        if not attribute.startswith(direction) or attribute not in ROLE_ATTRIBUTES[roles[node]]:
            raise ValueError(f"{reference}: {types[roles[node]]} has no {direction} attribute {attribute!r}")

    for source, target in graph.connections:
        check(source, "outputs:")
        check(target, "inputs:")
    for reference, _ in (*graph.values, *graph.targets):
        check(reference, "inputs:")
