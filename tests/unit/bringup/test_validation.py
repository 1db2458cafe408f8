"""A graph that cannot start is refused before anything starts, with every problem named."""
import dataclasses
import re

import pytest

from so101_bringup.arguments import FollowerArgs, TeleopArgs
from so101_bringup.graph_checks import GraphError, check_graph
from so101_bringup.graph_spec import Graph, NodeSpec
from so101_bringup.launch_graphs import follower_graph, teleop_graph
from so101_hardware.teleop import TeleopConfig


def problems_of(graph):
    with pytest.raises(GraphError) as error:
        check_graph(graph)
    return error.value.problems


def params_file(tmp_path, text):
    path = tmp_path / "follower.yaml"
    path.write_text(text)
    return str(path)


def test_an_unknown_parameter_in_a_yaml_names_the_file_node_and_parameter(tmp_path):
    path = params_file(tmp_path, "/**/follower:\n  ros__parameters:\n    max_velocty_rad_s: 2.0\n")
    (problem,) = problems_of(follower_graph(FollowerArgs(follower_params_file=path)))
    assert problem.startswith(
        f"parameter file {path}: section /**/follower (node /follower): parameter 'max_velocty_rad_s'"
    )
    assert "is not declared by the node" in problem and "max_velocity_rad_s" in problem  # lists the right names


def test_a_wrongly_typed_value_says_what_to_write(tmp_path):
    path = params_file(tmp_path, "/**/follower:\n  ros__parameters:\n    rate_hz: 100\n    torque_off_on_shutdown: 1\n")
    problems = problems_of(follower_graph(FollowerArgs(follower_params_file=path)))
    float_problem = r"'rate_hz' must be a float \(ROS does not convert: write 1.0, not 1\), got 100"
    assert any(re.search(float_problem, p) for p in problems)
    assert any("'torque_off_on_shutdown' must be true or false, got 1" in p for p in problems)


def test_a_section_for_no_node_is_a_misspelt_node_name(tmp_path):
    path = params_file(tmp_path, "/**/folower:\n  ros__parameters:\n    rate_hz: 50.0\n")
    (problem,) = problems_of(follower_graph(FollowerArgs(follower_params_file=path)))
    assert problem == (
        f"parameter file {path}: section /**/folower matches none of the nodes it is given to (/follower); "
        "a misspelt node name?"
    )


def test_a_missing_params_file_is_named(tmp_path):
    (problem,) = problems_of(follower_graph(FollowerArgs(follower_params_file=str(tmp_path / "nope.yaml"))))
    assert problem.startswith(f"parameter file {tmp_path / 'nope.yaml'}: cannot be read")


def test_explicit_parameters_are_checked_too():
    graph = Graph((NodeSpec("so101_hardware", "teleop_node", "teleop", parameters={"rate": 5.0, "rate_hz": "fast"}),))
    assert problems_of(graph) == [
        "node /teleop: explicit parameter 'rate' is not declared by the node "
        f"(its parameters: {', '.join(field.name for field in dataclasses.fields(TeleopConfig))})",
        "node /teleop: explicit parameter 'rate_hz' must be a float (ROS does not convert: write 1.0, not 1), "
        "got 'fast'",
    ]


def test_an_unknown_executable_is_named():
    (problem,) = problems_of(Graph((NodeSpec("so101_hardware", "gripper_node", "gripper"),)))
    assert problem.startswith("node /gripper: unknown executable so101_hardware/gripper_node")


def test_an_emulated_bus_needs_a_readable_calibration_and_a_folder_for_its_link(tmp_path):
    graph = teleop_graph(
        TeleopArgs(
            emulate=True, emulator_dir=str(tmp_path / "no-such-dir"), leader_calibration=str(tmp_path), cameras=False
        )
    )
    problems = problems_of(graph)
    assert any(p.startswith(f"emulated leader bus: calibration {tmp_path / 'emulated_leader.json'}") for p in problems)
    assert f"emulated follower bus: folder {tmp_path / 'no-such-dir'} for its link does not exist" in problems


def test_every_problem_is_reported_at_once(tmp_path):
    path = params_file(tmp_path, "/**/follower:\n  ros__parameters:\n    a: 1.0\n    b: 2.0\n")
    graph = follower_graph(FollowerArgs(follower_params_file=path))
    error_text = str(pytest.raises(GraphError, check_graph, graph).value)
    assert error_text.startswith("the node graph cannot start:\n")
    assert "'a' is not declared" in error_text and "'b' is not declared" in error_text
