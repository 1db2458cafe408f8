"""A node graph as plain data: which nodes run with which parameters, and which buses are emulated.

Each launch file's graph is built once, from its arguments, by so101_bringup.launch_graphs; `ros2
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
from typing import Any, Union

from so101_hardware.emulator.config import EmulatorConfig, FaultConfig, Role

ParameterValue = Union[bool, int, float, str, tuple[bool, ...], tuple[int, ...], tuple[float, ...], tuple[str, ...]]
"""A ROS parameter value as the graph holds it (sequences as tuples, so a graph stays immutable)."""


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
class ToolSpec:
    """A ROS 2 executable of another package that a graph starts as it is (robot_state_publisher, rviz2).

    Not a node of this stack: the catalog knows nothing of it, so the graph checks only that the files
    it is given exist, and `ros2 launch` and `so101 run` refuse to start the graph, saying what to
    install, when the executable is not installed (so101_bringup.tools). `arguments` go before
    --ros-args; parameters and remappings as a NodeSpec's.
    """

    package: str
    executable: str
    name: str
    namespace: str = ""
    parameters: Mapping[str, ParameterValue] = field(default_factory=dict)
    remappings: tuple[tuple[str, str], ...] = ()
    arguments: tuple[str, ...] = ()
    files: tuple[Path, ...] = ()
    """Files among the arguments that must exist (e.g. the RViz config)."""
    install_hint: str = ""
    """What to install when the executable is missing (the Debian package, by distribution)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "namespace", self.namespace.strip("/"))
        object.__setattr__(self, "parameters", frozen_parameters(self.parameters))
        object.__setattr__(self, "remappings", tuple((src, dst) for src, dst in self.remappings))
        object.__setattr__(self, "arguments", tuple(self.arguments))
        object.__setattr__(self, "files", tuple(Path(p) for p in self.files))

    @property
    def fqn(self) -> str:
        return f"/{self.namespace}/{self.name}" if self.namespace else f"/{self.name}"


@dataclass(frozen=True)
class EmulatorSpec:
    """An emulated servo bus standing in for an arm's USB adapter (emulate:=true).

    link:              the symlink the emulator creates; the arm node's `port` parameter names it.
    calibration:       the LeRobot calibration file whose offsets and limits the emulated EEPROM
                       holds (the same file the arm node loads, so its EEPROM check passes).
    initial_positions: encoder ticks per motor id at power-up (None: a seeded rest pose).
    faults:            injected faults (tests, soak runs): reply drops and corruption, error bits,
                       brown-outs (power_cycle_at_s), stalled joints; none by default.
    """

    role: Role
    link: Path
    calibration: Path
    uart_timing: bool = True
    seed: int = 0
    initial_positions: Mapping[int, int] | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)

    def __post_init__(self) -> None:
        object.__setattr__(self, "link", Path(self.link))
        object.__setattr__(self, "calibration", Path(self.calibration))
        if self.initial_positions is not None:
            object.__setattr__(self, "initial_positions", MappingProxyType(dict(self.initial_positions)))

    def emulator_config(self) -> EmulatorConfig:
        """The BusEmulator this spec describes (what the in-process runner starts)."""
        return EmulatorConfig(
            role=self.role, link=str(self.link), calibration=str(self.calibration), uart_timing=self.uart_timing,
            seed=self.seed, initial_positions=self.initial_positions, faults=self.faults.copy(),
        )

    def cli_arguments(self) -> list[str]:
        """The same bus as `so101-bus-emulator` arguments (what `ros2 launch` runs)."""
        faults = self.faults
        arguments = ["--role", self.role, "--link", str(self.link), "--calibration", str(self.calibration),
                     "--seed", str(self.seed), *([] if self.uart_timing else ["--no-uart-timing"])]
        if self.initial_positions:
            arguments += ["--initial-positions", ",".join(f"{m}:{t}" for m, t in self.initial_positions.items())]
        for flag, value in (("--drop-rate", faults.drop_reply_rate), ("--corrupt-rate", faults.corrupt_checksum_rate),
                            ("--latency-spike-rate", faults.latency_spike_rate),
                            ("--reorder-rate", faults.reorder_sync_read_rate)):
            if value:
                arguments += [flag, repr(value)]
        if faults.latency_spike_rate:
            arguments += ["--latency-spike-ms", repr(faults.latency_spike_s * 1000.0)]
        for motor_id, bits in faults.error_bits.items():
            arguments += ["--error-bits", f"{motor_id}:{bits:#x}"]
        for seconds in faults.power_cycle_at_s:
            arguments += ["--power-cycle-at", repr(seconds)]
        for motor_id, ticks in faults.stalls.items():
            arguments += ["--stall", f"{motor_id}:{ticks}"]
        return arguments


@dataclass(frozen=True)
class ParameterLink:
    """Node `target` runs with node `source`'s value of `parameter` (nodes by name, as Graph.node takes them).

    For settings two nodes must agree on: the follower's arm id, calibration and joint-limit margin
    that the inference node checks chunks with, the twin bridge's sim mapping the recorder writes
    its HDF5 file in. The graph builder sets the target's value from the source's when it builds
    the graph (launch_graphs); with_parameters carries every later override of the source over to
    the target and refuses an override of the target alone, so the two cannot drift.
    """

    source: str
    target: str
    parameter: str


@dataclass(frozen=True)
class Graph:
    """The nodes, emulated buses and tools of one launch, and its parameter links; node and tool names and
    emulator links are unique."""

    nodes: tuple[NodeSpec, ...] = ()
    emulators: tuple[EmulatorSpec, ...] = ()
    links: tuple[ParameterLink, ...] = ()
    tools: tuple[ToolSpec, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "emulators", tuple(self.emulators))
        object.__setattr__(self, "links", tuple(self.links))
        object.__setattr__(self, "tools", tuple(self.tools))
        _require_unique("node", [node.fqn for node in (*self.nodes, *self.tools)])
        _require_unique("emulator link", [str(emulator.link) for emulator in self.emulators])
        for link in self.links:
            self.node(link.source), self.node(link.target)  # KeyError names a node the graph lacks

    def __add__(self, other: Graph) -> Graph:
        return Graph(self.nodes + other.nodes, self.emulators + other.emulators, self.links + other.links,
                     self.tools + other.tools)

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
        """A copy with explicit (node, parameter, value) overrides applied (later ones win).

        An override of a link's source applies to its target too; one of a link's target alone is a
        ValueError naming the source to set instead.
        """
        nodes = {node.fqn: node for node in self.nodes}
        for name, parameter, value in overrides:
            fqn = self.node(name).fqn
            for link in self.links:
                if link.parameter == parameter and self.node(link.target).fqn == fqn:
                    raise ValueError(
                        f"{name}.{parameter} follows {link.source}.{parameter} (the two must agree): set that one"
                    )
            followers = [self.node(link.target).fqn for link in self.links
                         if link.parameter == parameter and self.node(link.source).fqn == fqn]
            for target in (fqn, *followers):
                nodes[target] = replace(nodes[target], parameters={**nodes[target].parameters, parameter: value})
        return Graph(tuple(nodes.values()), self.emulators, self.links, self.tools)

    def with_links(self, links: Iterable[ParameterLink]) -> Graph:
        """A copy with these links added (their targets' values are the builder's to set first)."""
        return Graph(self.nodes, self.emulators, self.links + tuple(links), self.tools)

    def with_emulator(self, role: Role, **changes: Any) -> Graph:
        """A copy whose emulated `role` bus has these EmulatorSpec fields changed (faults, initial_positions, seed)."""
        if not any(emulator.role == role for emulator in self.emulators):
            raise KeyError(f"no emulated {role} bus in this graph (emulate is off, or no {role} arm)")
        emulators = tuple(replace(e, **changes) if e.role == role else e for e in self.emulators)
        return Graph(self.nodes, emulators, self.links, self.tools)


def _require_unique(what: str, names: list[str]) -> None:
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{what} {', '.join(repeated)} appears more than once in the graph")
