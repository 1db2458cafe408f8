"""Under `ros2 launch`, a process that exits stops the whole launch, as `so101 run` stops its graph (process_exits).

The launch side (launch_actions: one OnProcessExit per process, raising so that launch exits 1) is
exercised where launch_ros is installed (test_launch_files.py); here the rule itself, as data.
"""
import itertools

import pytest

from so101_bringup.arguments import FollowerArgs
from so101_bringup.launch_graphs import GRAPHS, build_graph
from so101_bringup.process_exits import emulator_process_name, watched_processes


@pytest.mark.parametrize("name,emulate", itertools.product(GRAPHS, (False, True)))
def test_every_node_and_emulator_of_every_graph_is_watched(name, emulate, tmp_path):
    args_class, _ = GRAPHS[name]
    extra = {"emulator_dir": str(tmp_path)} if issubclass(args_class, FollowerArgs) else {}
    graph = build_graph(name, args_class(emulate=emulate, **extra))
    watched = watched_processes(graph)
    expected = [n.name for n in graph.nodes] + [emulator_process_name(e) for e in graph.emulators]
    assert [w.name for w in watched] == expected
    assert len({w.name for w in watched}) == len(watched), "each exit is told apart by its process name"


def test_the_reason_names_the_process_and_how_it_ended(tmp_path):
    graph = build_graph("follower", FollowerArgs(emulate=True, emulator_dir=str(tmp_path)))
    follower, emulator = watched_processes(graph)
    assert follower.exit_reason(1).startswith("node /follower (so101_hardware/follower_node) exited with code 1")
    assert emulator.exit_reason(2).startswith(f"the emulated follower bus on {tmp_path}/so101_follower")
    assert "on signal 9" in follower.exit_reason(-9) and "so101 run" in follower.exit_reason(0)
