"""The launch files build their LaunchDescription from the graphs, where ROS 2 `launch`/`launch_ros` exist.

They are not installable here (docs/architecture.md §5), so those tests skip. The skip must not be fooled by
this repository's own `launch/` folder: with the repository root on sys.path (`python -m pytest`
puts the working directory there) `import launch` finds it as a namespace package, so
`pytest.importorskip("launch")` would pass and the tests would fail instead of skipping.
"""
import importlib.util
import sys

import pytest

from so101_bringup.arguments import argument_specs, parse_arguments
from so101_bringup.launch_graphs import GRAPHS, build_graph
from tests_support.repo import REPO


def installed_package(name: str) -> bool:
    """An importable regular package; a namespace package (a bare folder such as launch/) does not count."""
    spec = importlib.util.find_spec(name)
    return spec is not None and spec.origin is not None


ROS_LAUNCH = installed_package("launch") and installed_package("launch_ros")
requires_ros_launch = pytest.mark.skipif(not ROS_LAUNCH, reason="ROS 2 launch and launch_ros are not installed")


def test_the_repository_launch_folder_is_not_taken_for_ros_launch(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))
    monkeypatch.delitem(sys.modules, "launch", raising=False)
    spec = importlib.util.find_spec("launch")
    if spec.origin is None:  # no ROS launch installed: only the repository folder was found
        assert str(REPO / "launch") in list(spec.submodule_search_locations)
    assert installed_package("launch") is (spec.origin is not None)


def load_launch_file(name: str):
    path = REPO / "launch" / "launch" / f"{name}.launch.py"
    spec = importlib.util.spec_from_file_location(f"{name}_launch", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@requires_ros_launch
@pytest.mark.parametrize("name", GRAPHS)
def test_each_launch_file_declares_the_graph_arguments(name):
    from launch.actions import DeclareLaunchArgument

    description = load_launch_file(name).generate_launch_description()
    declared = [e.name for e in description.entities if isinstance(e, DeclareLaunchArgument)]
    assert declared == [spec.name for spec in argument_specs(GRAPHS[name][0])]


@requires_ros_launch
@pytest.mark.parametrize("name", GRAPHS)
def test_each_launch_file_starts_the_graph_nodes_and_emulators(name, tmp_path):
    from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction, RegisterEventHandler
    from launch_ros.actions import Node

    from launch import LaunchContext

    description = load_launch_file(name).generate_launch_description()
    context = LaunchContext()
    given = {"emulate": "true", "emulator_dir": str(tmp_path)} if name != "cameras" else {"emulate": "true"}
    context.launch_configurations.update(given)
    for entity in description.entities:
        if isinstance(entity, DeclareLaunchArgument):
            entity.visit(context)  # fills in the defaults of the arguments not given
    (opaque,) = [e for e in description.entities if isinstance(e, OpaqueFunction)]
    actions = opaque.visit(context)

    args_class, _ = GRAPHS[name]
    graph = build_graph(name, parse_arguments(args_class, given))
    direct_nodes = [a for a in actions if isinstance(a, Node)]
    assert [(n.node_package, n.node_executable) for n in direct_nodes] == [
        (n.package, n.executable) for n in graph.nodes if graph.emulator_for(n) is None
    ]
    processes = [a for a in actions if isinstance(a, ExecuteProcess) and not isinstance(a, Node)]
    assert len(processes) == len(graph.emulators)
    # per emulator: its ready line starts its arm node; per process (nodes, emulators): its exit stops the launch
    handlers = [a for a in actions if isinstance(a, RegisterEventHandler)]
    direct = [n for n in graph.nodes if graph.emulator_for(n) is None]
    assert len(handlers) == 2 * len(graph.emulators) + len(direct)
