"""Launch descriptions built from the graphs: what launch/*.launch.py return to `ros2 launch`.

Needs the ROS 2 `launch` and `launch_ros` packages (a ROS 2 installation; they are not on PyPI),
so nothing else in so101_bringup imports this module. Each launch file declares its arguments
from the arguments dataclass, and an OpaqueFunction turns their values into that dataclass,
builds and checks the graph, and returns one launch_ros Node per NodeSpec and per ToolSpec
(robot_state_publisher, rviz2: refused up front with what to install when missing) and one
`so101-bus-emulator` process per EmulatorSpec. A node whose port is an emulated bus starts once
that emulator has printed its ready line, so it never opens a link that does not exist yet.
Every process is watched (process_exits): one that exits while the launch runs stops the whole
launch, and `ros2 launch` exits non-zero, as `so101 run` does.
"""
from __future__ import annotations

from collections.abc import Sequence

from launch.action import Action
from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction, RegisterEventHandler
from launch.event_handlers import OnProcessExit, OnProcessIO
from launch.events.process import ProcessExited, ProcessIO
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.substitutions import ExecutableInPackage

from launch import LaunchContext, LaunchDescription
from so101_bringup.arguments import argument_specs, parse_arguments
from so101_bringup.catalog import HARDWARE
from so101_bringup.graph_checks import check_graph
from so101_bringup.graph_spec import EmulatorSpec, NodeSpec, ToolSpec
from so101_bringup.launch_graphs import GRAPHS, build_graph
from so101_bringup.process_exits import (
    EMULATOR_EXECUTABLE,
    WatchedProcess,
    emulator_process_name,
    watched_emulator,
    watched_node,
)
from so101_bringup.tools import require_tools


def launch_description(graph_name: str) -> LaunchDescription:
    """The launch description of launch/<graph_name>.launch.py."""
    args_class, _build = GRAPHS[graph_name]
    declared = [
        DeclareLaunchArgument(spec.name, default_value=spec.default_text, description=spec.help)
        for spec in argument_specs(args_class)
    ]
    return LaunchDescription([*declared, OpaqueFunction(function=graph_actions, args=[graph_name])])


def graph_actions(context: LaunchContext, graph_name: str) -> list[Action]:
    """The graph's actions for the launch arguments' values; GraphError stops the launch with every problem."""
    args_class, _build = GRAPHS[graph_name]
    texts = {spec.name: LaunchConfiguration(spec.name).perform(context) for spec in argument_specs(args_class)}
    graph = build_graph(graph_name, parse_arguments(args_class, texts))
    check_graph(graph)
    require_tools(graph.tools)  # ToolNotInstalledError: what to install, before anything starts
    actions: list[Action] = [tool_action(tool) for tool in graph.tools]
    waiting: dict[str, list[Action]] = {str(emulator.link): [] for emulator in graph.emulators}
    for node in graph.nodes:
        emulator = graph.emulator_for(node)
        action = node_action(node)
        started = actions if emulator is None else waiting[str(emulator.link)]
        started += [action, _stop_on_exit(action, watched_node(node))]
    for emulator in graph.emulators:
        process = emulator_process(emulator)
        on_ready = _OnFirstOutput(waiting[str(emulator.link)])
        actions += [process, RegisterEventHandler(OnProcessIO(target_action=process, on_stdout=on_ready)),
                    _stop_on_exit(process, watched_emulator(emulator))]
    return actions


def node_action(node: NodeSpec) -> Node:
    explicit = {name: list(v) if isinstance(v, tuple) else v for name, v in node.parameters.items()}
    return Node(
        package=node.package,
        executable=node.executable,
        name=node.name,
        namespace=node.namespace or None,
        parameters=[*(str(path) for path in node.param_files), *([explicit] if explicit else [])],  # later win
        remappings=list(node.remappings),
        output="screen",
    )


def tool_action(tool: ToolSpec) -> Node:
    """A tool of another package (robot_state_publisher, rviz2), started as it is."""
    explicit = {name: list(v) if isinstance(v, tuple) else v for name, v in tool.parameters.items()}
    return Node(
        package=tool.package,
        executable=tool.executable,
        name=tool.name,
        namespace=tool.namespace or None,
        parameters=[explicit] if explicit else [],
        remappings=list(tool.remappings),
        arguments=list(tool.arguments),
        output="screen",
    )


def emulator_process(emulator: EmulatorSpec) -> ExecuteProcess:
    """`so101-bus-emulator` serving one arm's bus; it prints one line on stdout once the link exists."""
    return ExecuteProcess(
        cmd=[ExecutableInPackage(EMULATOR_EXECUTABLE, HARDWARE), *emulator.cli_arguments()],
        name=emulator_process_name(emulator),
        output="screen",
    )


class LaunchStopped(RuntimeError):
    """Raised from an exit handler: launch then shuts everything down and returns 1 (process_exits)."""


def _stop_on_exit(action: Action, watched: WatchedProcess) -> RegisterEventHandler:
    def on_exit(event: ProcessExited, context: LaunchContext) -> None:
        if not context.is_shutdown:  # an exit during a shutdown (Ctrl-C) is the expected one
            raise LaunchStopped(watched.exit_reason(event.returncode))

    return RegisterEventHandler(OnProcessExit(target_action=action, on_exit=on_exit))


class _OnFirstOutput:
    """An on_stdout handler that returns its actions the first time it is called, then nothing."""

    def __init__(self, actions: Sequence[Action]):
        self._actions: list[Action] | None = list(actions)

    def __call__(self, _event: ProcessIO) -> list[Action] | None:
        actions, self._actions = self._actions, None
        return actions
