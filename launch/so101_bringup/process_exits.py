"""What a launch of a graph does when one of its processes exits: the rule both ways of running a graph follow.

`so101 run` stops the whole graph and exits 1 when a node fails to start or a node process ends by
itself (runner.GraphRunner). Under `ros2 launch` the same rule is an OnProcessExit handler on every
node and every emulator process (launch_actions): a process that exits while the launch is not
shutting down stops the launch with the reason below, and `ros2 launch` exits 1 (launch's
LaunchService returns 1 when an event handler raises; a Shutdown event alone would exit 0). A graph missing a
node, or whose arm's emulator never started, is not left half running.

Stopping a launch: Ctrl-C, or SIGINT to its process group (`kill -INT -<pgid>`), reaches every
process, and each node stops through its own destroy_node() (the follower releases torque);
emulators serve until their clients have let go (so101-bus-emulator: repeated SIGINTs are
ignored meanwhile, launch's SIGTERM escalation stops them). A bare SIGTERM to the
`ros2 launch` process makes launch exit at once without stopping its children: nodes are
orphaned, the follower still holding torque.

Plain data, no `launch` import: checked on every machine (tests/unit/bringup).
"""
from __future__ import annotations

from dataclasses import dataclass

from so101_bringup.graph_spec import EmulatorSpec, Graph, NodeSpec

EMULATOR_EXECUTABLE = "so101-bus-emulator"


@dataclass(frozen=True)
class WatchedProcess:
    """A process of the graph's launch whose exit stops the launch."""

    name: str
    """The process's name in the launch (its node name, or `<role>_bus_emulator`)."""
    description: str

    def exit_reason(self, returncode: int) -> str:
        how = f"with code {returncode}" if returncode >= 0 else f"on signal {-returncode}"
        return (
            f"{self.description} exited {how} while the graph was running: stopping every other process "
            f"(as `so101 run` does); its own output above says why"
        )


def emulator_process_name(emulator: EmulatorSpec) -> str:
    return f"{emulator.role}_bus_emulator"


def watched_node(node: NodeSpec) -> WatchedProcess:
    return WatchedProcess(node.name, f"node {node.fqn} ({node.package}/{node.executable})")


def watched_emulator(emulator: EmulatorSpec) -> WatchedProcess:
    return WatchedProcess(emulator_process_name(emulator),
                          f"the emulated {emulator.role} bus on {emulator.link} ({EMULATOR_EXECUTABLE})")


def watched_processes(graph: Graph) -> tuple[WatchedProcess, ...]:
    """Every process of the graph's launch: each node, each emulator."""
    return (*(watched_node(node) for node in graph.nodes), *(watched_emulator(e) for e in graph.emulators))
