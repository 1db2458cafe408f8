"""The arguments of each launch file, as typed dataclasses with their defaults and help.

`ros2 launch so101_bringup teleop.launch.py follower_port:=/dev/ttyACM0` and `so101 run teleop
--follower-port /dev/ttyACM0` take the same arguments because both are generated from these
classes: one field is one launch argument (DeclareLaunchArgument) and one command-line option.
Both hand over text, converted here by the field's type, so "100" is refused for a bool the same
way in both.

A node-parameter argument left at None sets nothing: the node's value then comes from the
params file, else from the node's own default. Explicit arguments win over params files.
"""
from __future__ import annotations

import tempfile
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

A = TypeVar("A", bound="GraphArgs")

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _arg(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class GraphArgs:
    """What every launch file takes."""

    emulate: bool = _arg(False, "start emulated servo buses (and synthetic cameras) instead of opening real devices")
    namespace: str = _arg("", "namespace of every node, prefixing its topics (arm1: /arm1/follower/joint_states)")


@dataclass(frozen=True)
class CamerasArgs(GraphArgs):
    cameras_file: str | None = _arg(
        None, "cameras and their parameters, one /**/camera_<name> section each (default: config/cameras.yaml)"
    )


@dataclass(frozen=True)
class FollowerArgs(GraphArgs):
    follower_port: str | None = _arg(
        None, "follower serial port (node default /dev/so101_follower; with emulate: the emulated bus's link)"
    )
    follower_id: str | None = _arg(
        None,
        "follower arm id, its calibration file's stem (default: the stem of a follower_calibration .json, else "
        "follower; with emulate: emulated_follower)",
    )
    follower_calibration: str | None = _arg(
        None,
        "follower calibration .json or folder of <id>.json (default: LeRobot's folders; with emulate: "
        "config/calibration)",
    )
    follower_rate_hz: float | None = _arg(None, "follower control rate (default: follower params file)")
    follower_params_file: str | None = _arg(None, "follower node parameters (default: config/follower.yaml)")
    emulator_dir: str = _arg(
        tempfile.gettempdir(), "with emulate: folder of the emulated buses' links so101_leader and so101_follower"
    )
    uart_timing: bool = _arg(True, "with emulate: emulated buses answer after real 1 Mbps wire time")
    emulator_seed: int = _arg(0, "with emulate: seed of the emulated leader's scripted motion and sensor noise")


@dataclass(frozen=True)
class RerunArgs(GraphArgs):
    """Live visualization, opt-in: the rerun node and its web viewer (so101_bringup.launch_graphs.rerun_graph)."""

    rerun: bool = _arg(False, "also start the rerun node: joints, commands, cameras, chunks and diagnostics "
                              "in a web viewer on 127.0.0.1")
    rerun_grpc_port: int | None = _arg(None, "with rerun: the rerun server's port (rerun node default 9877)")
    rerun_web_port: int | None = _arg(None, "with rerun: the web viewer's port (rerun node default 9878)")


RVIZ_ARMS = ("follower", "leader")


@dataclass(frozen=True)
class RvizArgs(GraphArgs):
    """The arm in RViz, opt-in: robot_state_publisher and rviz2 (so101_bringup.launch_graphs.rviz_graph)."""

    rviz: bool = _arg(False, "also start robot_state_publisher and rviz2 (ROS desktop packages) showing the SO-101 "
                             "model moved by rviz_arm's joint states")
    rviz_arm: str = _arg("follower", "with rviz: whose joint states move the model, follower or leader")

    def __post_init__(self) -> None:
        if self.rviz_arm not in RVIZ_ARMS:
            raise ValueError(f"argument rviz_arm: expected {' or '.join(RVIZ_ARMS)}, got {self.rviz_arm!r}")


@dataclass(frozen=True)
class LeaderArgs(GraphArgs):
    """The leader arm and the teleop node: the operator's side (teleop, twin, and deploy with takeover)."""

    leader_port: str | None = _arg(
        None, "leader serial port (node default /dev/so101_leader; with emulate: the emulated bus's link)"
    )
    leader_id: str | None = _arg(
        None,
        "leader arm id, its calibration file's stem (default: the stem of a leader_calibration .json, else "
        "leader; with emulate: emulated_leader)",
    )
    leader_calibration: str | None = _arg(
        None,
        "leader calibration .json or folder of <id>.json (default: LeRobot's folders; with emulate: "
        "config/calibration)",
    )
    leader_rate_hz: float | None = _arg(None, "leader read rate (default: teleop params file)")
    teleop_rate_hz: float | None = _arg(None, "teleop ramp and staleness checks per second (default: teleop params)")
    teleop_params_file: str | None = _arg(None, "leader and teleop node parameters (default: config/teleop.yaml)")


@dataclass(frozen=True)
class TeleopArgs(LeaderArgs, RvizArgs, RerunArgs, FollowerArgs, CamerasArgs):
    cameras: bool = _arg(True, "start the cameras of cameras_file (false: teleop without cameras)")


@dataclass(frozen=True)
class DeployArgs(LeaderArgs, RvizArgs, RerunArgs, FollowerArgs, CamerasArgs):
    policy_host: str | None = _arg(
        None, "policy server address (inference node default 127.0.0.1: the server, or an SSH tunnel to it)"
    )
    policy_port: int | None = _arg(None, "policy server port (inference node default 5555)")
    policy_protocol: str | None = _arg(None, "wire generation: auto, n1.5, n1.6 or n1.7 (inference node default auto)")
    instruction: str | None = _arg(None, "the task given to the policy until one arrives on policy/instruction")
    inference_params_file: str | None = _arg(None, "inference node parameters (default: config/inference.yaml)")
    cameras: bool = _arg(
        True, "start the cameras of cameras_file (false: the policy reads camera topics published elsewhere)"
    )
    takeover: bool = _arg(
        False, "also start the leader, teleop and the command mux: the operator can take over from the policy "
               "(command_mux/takeover, key T) and hand back"
    )
    record: bool = _arg(
        False, "also start the recorder (follower states, commands, cameras; with takeover, each step's "
               "intervention flag)"
    )
    command_mux_params_file: str | None = _arg(None, "command mux parameters (default: config/command_mux.yaml)")
    deploy_recorder_params_file: str | None = _arg(
        None, "with record: recorder parameters (default: config/deploy_recorder.yaml)"
    )


SIMULATORS = ("mujoco", "isaac")


@dataclass(frozen=True)
class TwinArgs(TeleopArgs):
    cameras: bool = _arg(
        False, "start the real cameras of cameras_file (the recorder records the twin's; add them to record both)"
    )
    sim: str = _arg(
        "mujoco", "mujoco: start the embedded MuJoCo twin | isaac: Isaac Sim runs the twin (started separately)"
    )
    twin_bridge_params_file: str | None = _arg(None, "twin bridge parameters (default: config/twin_bridge.yaml)")
    mujoco_twin_params_file: str | None = _arg(None, "MuJoCo twin parameters (default: config/mujoco_twin.yaml)")
    recorder_params_file: str | None = _arg(None, "recorder parameters (default: config/recorder.yaml)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.sim not in SIMULATORS:
            raise ValueError(f"argument sim: expected {' or '.join(SIMULATORS)}, got {self.sim!r}")


@dataclass(frozen=True)
class ArgumentSpec:
    """One argument: its name, help, default as text, and the converter from text."""

    name: str
    help: str
    default: Any
    convert: Callable[[str], Any]

    @property
    def is_bool(self) -> bool:
        return isinstance(self.default, bool)

    @property
    def default_text(self) -> str:
        """The default as `ros2 launch` shows and takes it ("" for None, "true"/"false" for bools)."""
        if self.default is None:
            return ""
        return str(self.default).lower() if self.is_bool else str(self.default)


def argument_specs(cls: type[GraphArgs]) -> tuple[ArgumentSpec, ...]:
    hints = typing.get_type_hints(cls)
    return tuple(
        ArgumentSpec(f.name, f.metadata["help"], f.default, _converter(f.name, hints[f.name])) for f in fields(cls)
    )


def parse_arguments(cls: type[A], texts: Mapping[str, str]) -> A:
    """Build the arguments from text values (launch configurations); ValueError names the argument."""
    specs = {spec.name: spec for spec in argument_specs(cls)}
    unknown = sorted(set(texts) - set(specs))
    if unknown:
        raise ValueError(f"unknown argument(s) {', '.join(unknown)}; known: {', '.join(specs)}")
    return cls(**{name: specs[name].convert(text) for name, text in texts.items()})


def _converter(name: str, hint: Any) -> Callable[[str], Any]:
    optional = type(None) in typing.get_args(hint)
    (base,) = [t for t in typing.get_args(hint) if t is not type(None)] if optional else [hint]

    def convert(text: str) -> Any:
        text = text.strip()
        if optional and not text:
            return None
        if base is bool:
            if text.lower() in _TRUE + _FALSE:
                return text.lower() in _TRUE
            raise ValueError(f"argument {name}: expected true or false, got {text!r}")
        if base in (int, float):
            try:
                return base(text)
            except ValueError:
                kind = "an integer" if base is int else "a number"
                raise ValueError(f"argument {name}: expected {kind}, got {text!r}") from None
        return text

    return convert
