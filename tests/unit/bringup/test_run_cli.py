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


def test_floats_in_scientific_notation_are_floats_as_rcl_reads_them(tmp_path):
    params = tmp_path / "follower.yaml"
    params.write_text(
        "/**/follower:\n  ros__parameters:\n    max_velocity_rad_s: 1.5e0\n    command_timeout_s: 2.5E-1\n"
    )
    graph = run_graph_of("follower", "--follower-params-file", str(params), "--set", "follower.rate_hz=1.0e2",
                         "--set", "follower.max_relative_target_rad=2e-1")
    assert graph.node("follower").parameters["rate_hz"] == 100.0
    assert graph.node("follower").parameters["max_relative_target_rad"] == 0.2
    from so101_bringup.graph_checks import check_graph
    from so101_bringup.param_files import effective_parameters

    check_graph(graph)  # the types are the node's: the checks that would refuse a string pass
    assert effective_parameters(graph.node("follower"))["command_timeout_s"] == 0.25


@pytest.mark.parametrize("command", [["run", "follower"], ["status", "--duration", "0"], ["demo", "--episodes", "1"]])
def test_a_domain_id_beyond_232_is_refused_before_dds_sees_it(command, capsys, monkeypatch):
    monkeypatch.setenv("ROS_DOMAIN_ID", "300")
    assert main(command) == 1
    assert "ROS_DOMAIN_ID='300' is not a ROS domain id (0..232)" in capsys.readouterr().err
    monkeypatch.delenv("ROS_DOMAIN_ID")
    with pytest.raises(SystemExit):
        main([*command, "--domain-id", "233"])
    assert "a ROS domain id is 0..232, got '233'" in capsys.readouterr().err


def test_demo_is_still_a_command():
    assert build_parser().parse_args(["demo", "--episodes", "1"]).func.__name__ == "_demo"


def test_a_link_held_by_another_emulator_is_refused_naming_the_option_to_move_it(tmp_path, capsys):
    from so101_hardware.emulator import BusEmulator, EmulatorConfig
    from tests_support.ros import domain_for_this_process

    with BusEmulator(EmulatorConfig(link=str(tmp_path / "so101_follower"), uart_timing=False)):
        code = main(["run", "follower", "--emulate", "--emulator-dir", str(tmp_path),
                     "--domain-id", str(domain_for_this_process())])
    error = capsys.readouterr().err
    assert code == 1 and "served by another running emulator" in error and "--emulator-dir DIR" in error
    assert "choose another --link" not in error
