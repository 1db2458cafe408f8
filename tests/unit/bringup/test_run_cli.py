"""`so101 run`: the launch files' arguments as options, --set overrides, and clear refusals."""
import pytest

from so101_bringup.arguments import argument_specs
from so101_bringup.cli import build_parser, main
from so101_bringup.launch_graphs import GRAPHS
from so101_bringup.run_cli import build_run_graph


def run_graph_of(*argv):
    return build_run_graph(build_parser().parse_args(["run", *argv]))


@pytest.mark.parametrize("name", GRAPHS)
def test_every_launch_argument_is_an_option(name, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", name, "--help"])
    help_text = capsys.readouterr().out
    args_class, _ = GRAPHS[name]
    for spec in argument_specs(args_class):
        assert f"--{spec.name.replace('_', '-')}" in help_text
        assert f"[launch argument {spec.name}]" in help_text


def test_options_build_the_same_graph_as_the_launch_arguments(tmp_path):
    graph = run_graph_of(
        "teleop", "--emulate", "--no-cameras", "--emulator-dir", str(tmp_path), "--follower-rate-hz", "50"
    )
    assert [node.name for node in graph.nodes] == ["leader", "follower", "teleop"]
    assert graph.node("follower").parameters["rate_hz"] == 50.0
    assert {e.link for e in graph.emulators} == {tmp_path / "so101_leader", tmp_path / "so101_follower"}


def test_set_overrides_are_typed_as_the_node_declares_them():
    graph = run_graph_of(
        "teleop",
        "--set", "teleop.engage_on_start=true",
        "--set", "follower.rate_hz=50",  # an int for a float parameter: widened
        "--set", "teleop.joint_scale=[1, 1, 1, 1, 1, -1]",
        "--set", "camera_wrist.device=0",  # a string parameter keeps the text
    )
    assert graph.node("teleop").parameters["engage_on_start"] is True
    assert graph.node("follower").parameters["rate_hz"] == 50.0
    assert graph.node("teleop").parameters["joint_scale"] == (1.0, 1.0, 1.0, 1.0, 1.0, -1.0)
    assert graph.node("camera_wrist").parameters["device"] == "0"


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--set", "follower.rate_hz"], "--set 'follower.rate_hz': expected NODE.PARAM=VALUE"),
        (["--set", "folower.rate_hz=5.0"], "no node called 'folower' in this graph (nodes: /follower)"),
        (["--set", "follower.rate=5.0"], "node /follower: explicit parameter 'rate' is not declared by the node"),
        (["--follower-params-file", "/nonexistent/follower.yaml"], "/nonexistent/follower.yaml: cannot be read"),
        (["--follower-calibration", "/cal/robots/so_leader/arm.json"], "is in a leader folder"),
    ],
)
def test_bad_input_is_one_clear_message_and_exit_1(argv, message, capsys):
    assert main(["run", "follower", *argv]) == 1
    error = capsys.readouterr().err
    assert error.startswith("so101 run follower: ") and message in error
    assert "Traceback" not in error


def test_bad_option_values_are_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "follower", "--follower-rate-hz", "fast"])
    assert "argument follower_rate_hz: expected a number, got 'fast'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "follower", "--domain-id", "300"])
    assert "a ROS domain id is 0..232" in capsys.readouterr().err


def test_demo_is_still_a_command():
    assert build_parser().parse_args(["demo", "--episodes", "1"]).func.__name__ == "_demo"
