"""A node graph as plain data: which nodes run with which parameters, and which buses are emulated.

Each launch file's graph is built once, from its arguments, by so101_bringup.graphs; `ros2
launch` turns it into launch_ros actions (so101_bringup.launch_actions) and the in-process runner
into node objects (so101_bringup.runner). Because both consume this data, the tests that check
it (every executable exists, every parameter is declared, every file exists) cover both paths.

Nothing here imports ROS: a graph can be built and checked on any machine.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Literal, Union

ParameterValue = Union[bool, int, float, str, tuple[bool, ...], tuple[int, ...], tuple[float, ...], tuple[str, ...]]
"""A ROS parameter value as the graph holds it (sequences as tuples, so a graph stays immutable)."""

Role = Literal["leader", "follower"]


def frozen_parameters(parameters: Mapping[str, object]) -> Mapping[str, ParameterValue]:
    """A read-only copy with lists turned into tuples."""
    return MappingProxyType({name: tuple(v) if isinstance(v, list) else v for name, v in parameters.items()})


@dataclass(frozen=True)
class NodeSpec:
    """One node: what `ros2 run <package> <executable>` starts, and how it is named and configured.

    parameters: explicit values; they win over the param_files, which apply in order (later
                files win), as `ros2 launch` and the runner both do.
    remappings: (from, to) topic or service names.
    """

    package: str
    executable: str
    name: str
    namespace: str = ""
    parameters: Mapping[str, ParameterValue] = field(default_factory=dict)
    param_files: tuple[Path, ...] = ()
    remappings: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "namespace", self.namespace.strip("/"))
        object.__setattr__(self, "parameters", frozen_parameters(self.parameters))
        object.__setattr__(self, "param_files", tuple(Path(p) for p in self.param_files))
        object.__setattr__(self, "remappings", tuple((src, dst) for src, dst in self.remappings))

    @property
    def fqn(self) -> str:
        """The fully qualified node name, e.g. /follower or /arm1/follower."""
        return f"/{self.namespace}/{self.name}" if self.namespace else f"/{self.name}"


@dataclass(frozen=True)
class EmulatorSpec:
    """An emulated servo bus standing in for an arm's USB adapter (emulate:=true).

    link:        the symlink the emulator creates; the arm node's `port` parameter names it.
    calibration: the LeRobot calibration file whose offsets and limits the emulated EEPROM holds
                 (the same file the arm node loads, so its EEPROM check passes).
    """

    role: Role
    link: Path
    calibration: Path
    uart_timing: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "link", Path(self.link))
        object.__setattr__(self, "calibration", Path(self.calibration))

    def cli_arguments(self) -> list[str]:
        """The `so101-bus-emulator` arguments that serve this bus (what `ros2 launch` runs)."""
        arguments = ["--role", self.role, "--link", str(self.link), "--calibration", str(self.calibration)]
        return [*arguments, "--seed", str(self.seed), *([] if self.uart_timing else ["--no-uart-timing"])]


@dataclass(frozen=True)
class Graph:
    """The nodes and emulated buses of one launch; node names and emulator links are unique."""

    nodes: tuple[NodeSpec, ...] = ()
    emulators: tuple[EmulatorSpec, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "emulators", tuple(self.emulators))
        _require_unique("node", [node.fqn for node in self.nodes])
        _require_unique("emulator link", [str(emulator.link) for emulator in self.emulators])

    def __add__(self, other: Graph) -> Graph:
        return Graph(self.nodes + other.nodes, self.emulators + other.emulators)

    def node(self, name: str) -> NodeSpec:
        """The node called `name` (a plain name, or a fully qualified one when namespaces differ)."""
        matches = [node for node in self.nodes if name in (node.name, node.fqn)]
        if len(matches) != 1:
            known = ", ".join(node.fqn for node in self.nodes) or "none"
            problem = "no node" if not matches else "more than one node"
            raise KeyError(f"{problem} called {name!r} in this graph (nodes: {known})")
        return matches[0]

    def emulator_for(self, node: NodeSpec) -> EmulatorSpec | None:
        """The emulated bus behind a node's `port` parameter, if any: that node must start after it."""
        port = node.parameters.get("port")
        return next((e for e in self.emulators if port is not None and str(e.link) == str(port)), None)

    def with_parameters(self, overrides: Iterable[tuple[str, str, ParameterValue]]) -> Graph:
        """A copy with explicit (node, parameter, value) overrides applied (later ones win)."""
        nodes = {node.fqn: node for node in self.nodes}
        for name, parameter, value in overrides:
            node = nodes[self.node(name).fqn]
            nodes[node.fqn] = replace(node, parameters={**node.parameters, parameter: value})
        return Graph(tuple(nodes.values()), self.emulators)


def _require_unique(what: str, names: list[str]) -> None:
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{what} {', '.join(repeated)} appears more than once in the graph")
