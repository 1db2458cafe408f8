"""The node graph of each launch file, built from its arguments (so101_bringup.arguments).

follower: the follower node (and, with emulate, its emulated bus).
cameras:  one camera node per `/**/camera_<name>` section of the cameras file.
teleop:   the leader node (and bus), the follower graph, the teleop node, then the cameras graph.
deploy:   the follower graph, the cameras graph (unless cameras:=false), then the inference node
          (one node drives the follower; the policy server runs outside the graph); with
          takeover:=true also the leader, teleop and the command mux, which alone drives the
          follower, from the policy or the operator; with record:=true also the recorder.
twin:     the teleop graph, the MuJoCo twin (sim:=mujoco; Isaac Sim runs outside the graph), the
          twin bridge and the recorder.
With rerun:=true, teleop, deploy and twin end with the rerun node (rerun_graph), which shows the
graph's cameras (and the twin's renderings of them).

An arm id left unset is the stem of a calibration .json that was given (LeRobot names the file
after the arm). With emulate, an arm's port is its emulator's link (<emulator_dir>/so101_<role>
unless a port is given), and its id and calibration default to the emulated arms shipped in
config/calibration; the emulator holds that same file in its EEPROM, so the node's check that
the motors carry its calibration passes, as on a calibrated real arm. Camera sources become
"synthetic", so no camera is needed either.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from so101_bringup.arguments import (
    CamerasArgs,
    DeployArgs,
    FollowerArgs,
    GraphArgs,
    RerunArgs,
    RvizArgs,
    TeleopArgs,
    TwinArgs,
)
from so101_bringup.catalog import BRINGUP, HARDWARE, POLICY, SIM_BRIDGE, node_type
from so101_bringup.graph_spec import EmulatorSpec, Graph, NodeSpec, ParameterLink, ParameterValue, Role, ToolSpec
from so101_bringup.param_files import ParamFileError, effective_parameters, read_param_file
from so101_bringup.share import config_path
from so101_bringup.visualization.robot_description import robot_description
from so101_calibration import ArmRole, locate_calibration
from so101_calibration.interface_contract import (
    CAMERA_IMAGE,
    FOLLOWER_JOINT_STATES,
    LEADER_JOINT_STATES,
    POLICY_JOINT_COMMANDS,
    ROBOT_DESCRIPTION,
    SIM_CAMERA_IMAGE,
    STATE_PUBLISHER_JOINT_STATES,
    TELEOP_JOINT_COMMANDS,
)

ARM_PARAMETERS = ("arm_id", "calibration")
"""Which arm, and its calibration file: every node converting the follower's units runs with the follower's."""
SIM_MAPPING_PARAMETERS = ("sim_names", "sim_units", "sim_map")
"""The simulator's joint names and units: the recorder writes the HDF5 file in the twin bridge's."""
CALIBRATION_SUFFIX = ".json"
CAMERA_PREFIX = "camera_"
RVIZ_CONFIG = "so101.rviz"
ARM_JOINT_STATES = {"follower": FOLLOWER_JOINT_STATES, "leader": LEADER_JOINT_STATES}
WILDCARDS = ("*", "**")


@dataclass(frozen=True)
class _ArmArgs:
    """One arm's share of the arguments (the leader_* or follower_* fields)."""

    role: Role
    port: str | None
    arm_id: str | None
    calibration: str | None
    rate_hz: float | None
    params_file: Path


def follower_graph(args: FollowerArgs) -> Graph:
    arm = _ArmArgs(
        "follower",
        args.follower_port,
        args.follower_id,
        args.follower_calibration,
        args.follower_rate_hz,
        _file(args.follower_params_file, "follower.yaml"),
    )
    return _arm_graph(arm, args)


def cameras_graph(args: CamerasArgs) -> Graph:
    cameras_file = _file(args.cameras_file, "cameras.yaml")
    emulated: dict[str, ParameterValue] = {"source": "synthetic"} if args.emulate else {}
    nodes = tuple(
        NodeSpec(
            HARDWARE,
            "camera_node",
            f"{CAMERA_PREFIX}{name}",
            args.namespace,
            parameters={"name": name, **emulated},
            param_files=(cameras_file,),
        )
        for name in camera_names(cameras_file)
    )
    return Graph(nodes)


def teleop_graph(args: TeleopArgs) -> Graph:
    graph = operator_graph(args) + follower_graph(args) + Graph((_teleop_node(args),))
    return _with_rviz(_with_rerun(graph + cameras_graph(args) if args.cameras else graph, args), args)


def operator_graph(args: TeleopArgs | DeployArgs) -> Graph:
    """The leader arm (and, with emulate, its emulated bus): the operator's hand."""
    leader = _ArmArgs("leader", args.leader_port, args.leader_id, args.leader_calibration, args.leader_rate_hz,
                      _file(args.teleop_params_file, "teleop.yaml"))
    return _arm_graph(leader, args)


def deploy_graph(args: DeployArgs) -> Graph:
    """The policy drives the follower: follower, cameras, inference node.

    The inference node converts units and checks chunks against joint limits with the follower's
    arm id, calibration and limit margin (linked to the follower's). The policy server is not part
    of the graph: it runs on the GPU machine, or as `so101-policy-server --backend replay` in a
    terminal of its own, so the same graph serves both and `policy_host`/`policy_port` say where it is.

    One node drives the follower. Without takeover that is the inference node. With takeover the
    leader and teleop (mirroring from the start) join, teleop and the inference node publish on
    inputs of the command mux, and the mux alone commands the follower, switching between them
    (command_mux/takeover) without a jump. With record the recorder takes the follower's states,
    the commands that drove it and the cameras, and (with takeover) who drove each step.
    """
    given = _given(host=args.policy_host, port=args.policy_port, protocol=args.policy_protocol,
                   instruction=args.instruction)
    if args.takeover:
        given["command_topic"] = POLICY_JOINT_COMMANDS.name
    inference = NodeSpec(POLICY, "inference_node", "inference", args.namespace, parameters=given,
                         param_files=(_file(args.inference_params_file, "inference.yaml"),))
    cameras = cameras_graph(args) if args.cameras else Graph()
    graph = follower_graph(args) + cameras + Graph((inference,))
    if args.takeover:
        teleop = _teleop_node(args, command_topic=TELEOP_JOINT_COMMANDS.name, engage_on_start=True)
        mux = NodeSpec(HARDWARE, "command_mux_node", "command_mux", args.namespace,
                       param_files=(_file(args.command_mux_params_file, "command_mux.yaml"),))
        graph = graph + operator_graph(args) + Graph((teleop, mux))
    graph = link_parameters(graph, "follower", "inference", (*ARM_PARAMETERS, "limit_margin_rad"))
    if args.record:
        recorder = NodeSpec(SIM_BRIDGE, "recorder_node", "recorder", args.namespace,
                            parameters=_given(record_intervention=args.takeover or None, instruction=args.instruction),
                            param_files=(_file(args.deploy_recorder_params_file, "deploy_recorder.yaml"),))
        graph = link_parameters(graph + Graph((recorder,)), "follower", "recorder", ARM_PARAMETERS)
    return _with_rviz(_with_rerun(graph, args), args)


def twin_graph(args: TwinArgs) -> Graph:
    """Teleop mirrored into a simulator, with the recorder: teleop graph, MuJoCo twin, bridge, recorder.

    With sim:=isaac the MuJoCo twin is left out: Isaac Sim, started on its own (README), serves
    the same topics. The recorder records the simulator's joint states in the bridge's sim mapping
    and converts units with the follower's calibration (both linked). With sim:=isaac it times
    samples on arrival, because Isaac stamps its joint states and images with simulation time. The
    recorder names the simulator in its datasets' provenance (`simulator`: the sim argument).
    """
    teleop = teleop_graph(replace(args, rerun=False, rviz=False))  # added below (rerun with the twin's cameras too)
    given: dict[str, ParameterValue] = {"simulator": args.sim}
    if args.sim == "isaac":
        given["stamp_on_arrival"] = True
    recorder = NodeSpec(SIM_BRIDGE, "recorder_node", "recorder", args.namespace, parameters=given,
                        param_files=(_file(args.recorder_params_file, "recorder.yaml"),))
    graph = with_simulator(teleop, args) + Graph((recorder,))
    graph = link_parameters(graph, "follower", "recorder", ARM_PARAMETERS)
    graph = link_parameters(graph, "twin_bridge", "recorder", (*SIM_MAPPING_PARAMETERS, "state_topic"))
    return _with_rviz(_with_rerun(graph, args, _twin_camera_topics(args) if args.rerun else ()), args)


def with_simulator(graph: Graph, args: TwinArgs) -> Graph:
    """`graph` (which has a follower) plus the MuJoCo twin (sim:=mujoco) and the twin bridge mirroring
    that follower in its units (linked); the twin graph's simulator half, also run beside the deploy graph."""
    nodes = []
    if args.sim == "mujoco":
        nodes.append(NodeSpec(SIM_BRIDGE, "mujoco_twin_node", "mujoco_twin", args.namespace,
                              param_files=(_file(args.mujoco_twin_params_file, "mujoco_twin.yaml"),)))
    nodes.append(NodeSpec(SIM_BRIDGE, "twin_bridge_node", "twin_bridge", args.namespace,
                          param_files=(_file(args.twin_bridge_params_file, "twin_bridge.yaml"),)))
    return link_parameters(graph + Graph(tuple(nodes)), "follower", "twin_bridge", ARM_PARAMETERS)


def link_parameters(graph: Graph, source: str, target: str, parameters: Sequence[str]) -> Graph:
    """`graph` with node `target` given `source`'s values of `parameters` (from its explicit values and
    params files, else its declared default) and linked to them (graph_spec.ParameterLink)."""
    source_node = graph.node(source)
    effective = effective_parameters(source_node)
    defaults = node_type(source_node.package, source_node.executable).parameter_defaults()
    values = [(target, name, effective.get(name, defaults[name])) for name in parameters]
    return graph.with_parameters(values).with_links(ParameterLink(source, target, name) for name in parameters)


def rerun_graph(
    namespace: str = "",
    image_topics: Sequence[str] = (),
    grpc_port: int | None = None,
    web_port: int | None = None,
) -> Graph:
    """The rerun node alone, for any graph that wants live visualization (rerun:=true, the demo).

    It watches the stack's topics in `namespace`; image_topics empty and ports None leave the
    node's defaults (an empty list cannot be passed as a ROS parameter: it has no element type).
    """
    parameters = _given(image_topics=tuple(image_topics) or None, grpc_port=grpc_port, web_port=web_port)
    return Graph((NodeSpec(BRINGUP, "rerun_node", "rerun", namespace, parameters=parameters),))


def rviz_graph(namespace: str = "", arm: str = "follower") -> Graph:
    """The arm in RViz (rviz:=true): robot_state_publisher with the SO-101 URDF, moved by `arm`'s joint
    states, and rviz2 with the shipped config (config/so101.rviz: the robot model and its TF frames).

    Both are ROS desktop packages, started as they are (graph_spec.ToolSpec). In a namespace both run in
    it (their topics with them); TF frames are not prefixed, so show one arm's graph at a time.
    """
    description = ROBOT_DESCRIPTION.name
    publisher = ToolSpec(
        "robot_state_publisher", "robot_state_publisher", "robot_state_publisher", namespace,
        parameters={"robot_description": robot_description()},
        remappings=((STATE_PUBLISHER_JOINT_STATES.name, ARM_JOINT_STATES[arm].name),),
        install_hint="ros-$ROS_DISTRO-robot-state-publisher",
    )
    config = config_path(RVIZ_CONFIG)
    viewer = ToolSpec(
        "rviz2", "rviz2", "rviz2", namespace, arguments=("-d", str(config)), files=(config,),
        remappings=((f"/{description}", f"/{namespace}/{description}"),) if namespace else (),
        install_hint="ros-$ROS_DISTRO-rviz2",
    )
    return Graph(tools=(publisher, viewer))


GRAPHS: dict[str, tuple[type[GraphArgs], Callable[..., Graph]]] = {
    "teleop": (TeleopArgs, teleop_graph),
    "follower": (FollowerArgs, follower_graph),
    "cameras": (CamerasArgs, cameras_graph),
    "deploy": (DeployArgs, deploy_graph),
    "twin": (TwinArgs, twin_graph),
}
"""Launch file stem → (its arguments class, its graph builder)."""


def build_graph(name: str, args: GraphArgs) -> Graph:
    args_class, build = GRAPHS[name]
    if not isinstance(args, args_class):
        raise TypeError(f"the {name} graph takes {args_class.__name__}, got {type(args).__name__}")
    return build(args)


def camera_names(cameras_file: Path) -> tuple[str, ...]:
    """The cameras a cameras file lists: its `camera_<name>` sections, in order (wildcards apply to all)."""
    names: list[str] = []
    for section in read_param_file(cameras_file).sections:
        node_name = section.node_name
        if node_name in WILDCARDS:
            continue
        if not node_name.startswith(CAMERA_PREFIX) or node_name == CAMERA_PREFIX:
            raise ParamFileError(
                f"cameras file {cameras_file}: section {section.key} is not a camera; name camera sections "
                f"/**/{CAMERA_PREFIX}<name> (the node camera_<name> publishes cameras/<name>/image_raw)"
            )
        if node_name[len(CAMERA_PREFIX):] not in names:
            names.append(node_name[len(CAMERA_PREFIX):])
    return tuple(names)


def _arm_graph(arm: _ArmArgs, args: FollowerArgs) -> Graph:
    if arm.arm_id is None and arm.calibration and Path(arm.calibration).suffix == CALIBRATION_SUFFIX:
        arm = replace(arm, arm_id=Path(arm.calibration).stem)  # LeRobot names the file after the arm id
    if not args.emulate:
        return Graph((_arm_node(arm, args.namespace),))
    port = arm.port or str(Path(args.emulator_dir) / f"so101_{arm.role}")
    arm_id = arm.arm_id or f"emulated_{arm.role}"
    calibration = arm.calibration or str(config_path("calibration"))
    node = _arm_node(replace(arm, port=port, arm_id=arm_id, calibration=calibration), args.namespace)
    # The file the node will load (a folder means <folder>/<arm_id>.json), found by the node's own rules.
    calibration_file = locate_calibration(ArmRole(arm.role), arm_id, calibration).targets[0]
    emulator = EmulatorSpec(arm.role, Path(port), calibration_file, args.uart_timing, args.emulator_seed)
    return Graph((node,), (emulator,))


def _teleop_node(args: TeleopArgs | DeployArgs, **parameters: ParameterValue) -> NodeSpec:
    return NodeSpec(HARDWARE, "teleop_node", "teleop", args.namespace,
                    parameters={**_given(rate_hz=args.teleop_rate_hz), **parameters},
                    param_files=(_file(args.teleop_params_file, "teleop.yaml"),))


def _arm_node(arm: _ArmArgs, namespace: str) -> NodeSpec:
    parameters = _given(port=arm.port, arm_id=arm.arm_id, calibration=arm.calibration, rate_hz=arm.rate_hz)
    return NodeSpec(HARDWARE, f"{arm.role}_node", arm.role, namespace, parameters, (arm.params_file,))


def _with_rerun(graph: Graph, args: RerunArgs, more_image_topics: tuple[str, ...] = ()) -> Graph:
    """The graph, and with rerun:=true the rerun node showing the graph's cameras and `more_image_topics`."""
    if not args.rerun:
        return graph
    cameras = tuple(CAMERA_IMAGE.format(name=node.parameters["name"]) for node in graph.nodes
                    if node.executable == "camera_node")
    return graph + rerun_graph(args.namespace, cameras + more_image_topics, args.rerun_grpc_port, args.rerun_web_port)


def _with_rviz(graph: Graph, args: RvizArgs) -> Graph:
    """The graph, and with rviz:=true the arm in RViz fed by rviz_arm's joint states (that arm must be in it)."""
    if not args.rviz:
        return graph
    if not any(node.executable == f"{args.rviz_arm}_node" for node in graph.nodes):
        raise ValueError(f"rviz_arm:={args.rviz_arm}: this graph has no {args.rviz_arm} node (use follower)")
    return graph + rviz_graph(args.namespace, args.rviz_arm)


def _twin_camera_topics(args: TwinArgs) -> tuple[str, ...]:
    """The twin's image topics: /sim/cameras/<name>/image_raw, where the MuJoCo twin and Isaac Sim render the
    cameras the cameras file names (both twins model the real wrist and front cameras under their names)."""
    cameras_file = _file(args.cameras_file, "cameras.yaml")
    return tuple(SIM_CAMERA_IMAGE.format(name=name) for name in camera_names(cameras_file))


def _file(given: str | None, default_name: str) -> Path:
    return Path(given) if given else config_path(default_name)


def _given(**values: ParameterValue | None) -> dict[str, ParameterValue]:
    """The values that were given (an argument left at None sets no parameter)."""
    return {name: value for name, value in values.items() if value is not None}
