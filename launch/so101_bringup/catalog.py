"""The node executables graphs may name: where each one's node class and parameters are defined.

One entry per `ros2 run` executable. The runner instantiates `node_class` in-process; the graph
checks read the declared parameters off `config_class` (one ROS parameter per dataclass field,
so101_hardware.ros.params), the same declaration the node itself makes at start. Classes are
referenced as "module:attribute" and imported on use, so building a graph imports no ROS code.
"""
from __future__ import annotations

import dataclasses
import importlib
import typing
from dataclasses import dataclass
from typing import Any


def load_attribute(reference: str) -> Any:
    """Import "package.module:attribute"."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class NodeType:
    package: str
    executable: str
    node_class: str  # "module:Class"; Class(**node_kwargs) forwards them to rclpy.node.Node
    config_class: str  # "module:Class"; its fields are the node's parameters

    @property
    def main(self) -> str:
        """The console-script target `ros2 run` executes."""
        return f"{self.node_class.partition(':')[0]}:main"

    def load_node_class(self) -> type:
        return load_attribute(self.node_class)

    def parameter_defaults(self) -> dict[str, Any]:
        """Declared parameter name → its default (the config field's)."""
        fields = dataclasses.fields(load_attribute(self.config_class))
        return {f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory() for f in fields}

    def parameter_types(self) -> dict[str, Any]:
        """Declared parameter name → its type hint, in declaration order (one parameter per config field)."""
        config_class = load_attribute(self.config_class)
        hints = typing.get_type_hints(config_class)
        return {field.name: hints[field.name] for field in dataclasses.fields(config_class)}


BRINGUP = "so101_bringup"
HARDWARE = "so101_hardware"
POLICY = "so101_policy"
SIM_BRIDGE = "so101_sim_bridge"


def _hardware_node(executable: str, node_class: str, config_class: str) -> NodeType:
    return NodeType(HARDWARE, executable, f"{HARDWARE}.{node_class}", f"{HARDWARE}.{config_class}")


NODE_TYPES: dict[tuple[str, str], NodeType] = {
    (t.package, t.executable): t
    for t in (
        _hardware_node("leader_node", "nodes.leader_node:LeaderNode", "leader:LeaderConfig"),
        _hardware_node("follower_node", "nodes.follower_node:FollowerNode", "follower:FollowerConfig"),
        _hardware_node("teleop_node", "nodes.teleop_node:TeleopNode", "teleop:TeleopConfig"),
        _hardware_node("command_mux_node", "nodes.command_mux_node:CommandMuxNode", "command_mux:CommandMuxConfig"),
        _hardware_node("camera_node", "nodes.camera_node:CameraNode", "cameras.config:CameraNodeConfig"),
        NodeType(
            POLICY,
            "inference_node",
            f"{POLICY}.nodes.inference_node:InferenceNode",
            f"{POLICY}.inference:InferenceConfig",
        ),
        NodeType(
            SIM_BRIDGE,
            "twin_bridge_node",
            f"{SIM_BRIDGE}.nodes.twin_bridge_node:TwinBridgeNode",
            f"{SIM_BRIDGE}.bridge:TwinBridgeConfig",
        ),
        NodeType(
            SIM_BRIDGE,
            "mujoco_twin_node",
            f"{SIM_BRIDGE}.nodes.mujoco_twin_node:MujocoTwinNode",
            f"{SIM_BRIDGE}.twin.config:MujocoTwinNodeConfig",
        ),
        NodeType(
            SIM_BRIDGE,
            "recorder_node",
            f"{SIM_BRIDGE}.nodes.recorder_node:RecorderNode",
            f"{SIM_BRIDGE}.recorder.settings:RecorderNodeConfig",
        ),
        NodeType(
            BRINGUP,
            "rerun_node",
            f"{BRINGUP}.nodes.rerun_node:RerunNode",
            f"{BRINGUP}.visualization.config:RerunNodeConfig",
        ),
    )
}


def node_type(package: str, executable: str) -> NodeType:
    """The catalog entry of `ros2 run <package> <executable>`; KeyError names the known ones."""
    try:
        return NODE_TYPES[(package, executable)]
    except KeyError:
        known = ", ".join(f"{p}/{e}" for p, e in NODE_TYPES)
        raise KeyError(f"unknown executable {package}/{executable} (known: {known})") from None
