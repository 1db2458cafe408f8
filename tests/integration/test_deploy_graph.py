"""The deploy graph as data: what `ros2 launch so101_bringup deploy.launch.py` and `so101 run deploy` start.

The checks every graph gets (executables exist, parameters declared, files exist, launch file and
`so101 run` options) run over it in tests/unit/bringup; these pin down what is particular to it.
"""
import pytest

from so101_bringup.arguments import DeployArgs
from so101_bringup.cli import build_parser
from so101_bringup.graph_checks import check_graph
from so101_bringup.launch_graphs import deploy_graph
from so101_bringup.param_files import effective_parameters
from so101_bringup.run_cli import build_run_graph
from so101_bringup.share import config_path
from so101_calibration import DEFAULT_MARGIN_RAD
from so101_policy.inference import InferenceConfig


def test_deploy_is_the_follower_the_cameras_and_the_inference_node_and_no_teleop():
    graph = deploy_graph(DeployArgs())
    assert [(node.fqn, node.package, node.executable) for node in graph.nodes] == [
        ("/follower", "so101_hardware", "follower_node"),
        ("/camera_wrist", "so101_hardware", "camera_node"),
        ("/camera_front", "so101_hardware", "camera_node"),
        ("/inference", "so101_policy", "inference_node"),  # last: it finds its inputs running
    ]
    inference = graph.node("inference")
    # a real arm: the follower's arm, calibration and limit margin (its defaults here), the rest from
    # inference.yaml and the node's defaults
    assert dict(inference.parameters) == {
        "arm_id": "follower", "calibration": "", "limit_margin_rad": DEFAULT_MARGIN_RAD,
    }
    assert inference.param_files == (config_path("inference.yaml"),)


def test_the_inference_node_reads_the_follower_calibration(tmp_path):
    emulated = deploy_graph(DeployArgs(emulate=True, emulator_dir=str(tmp_path)))
    assert {k: emulated.node("inference").parameters[k] for k in ("arm_id", "calibration")} == {
        "arm_id": "emulated_follower", "calibration": str(config_path("calibration")),
    }
    real = deploy_graph(DeployArgs(follower_calibration="/cal/robots/so_follower/arm7.json"))
    assert dict(real.node("inference").parameters) == {
        "arm_id": "arm7", "calibration": "/cal/robots/so_follower/arm7.json", "limit_margin_rad": DEFAULT_MARGIN_RAD,
    }


def test_the_inference_node_checks_chunks_with_the_followers_limit_margin_whatever_sets_it(tmp_path):
    """Both the follower's params file and a later override (`--set`) reach the inference node; setting
    the inference node's own copy alone is refused, so the two can never disagree."""
    follower_yaml = tmp_path / "follower.yaml"
    follower_yaml.write_text("/**/follower:\n  ros__parameters:\n    limit_margin_rad: 0.05\n")
    graph = deploy_graph(DeployArgs(follower_params_file=str(follower_yaml)))
    assert graph.node("inference").parameters["limit_margin_rad"] == 0.05
    overridden = graph.with_parameters([("follower", "limit_margin_rad", 0.08)])
    assert overridden.node("inference").parameters["limit_margin_rad"] == 0.08
    assert overridden.node("follower").parameters["limit_margin_rad"] == 0.08
    with pytest.raises(ValueError, match="inference.limit_margin_rad follows follower.limit_margin_rad"):
        graph.with_parameters([("inference", "limit_margin_rad", 0.08)])


def test_the_policy_arguments_set_the_inference_parameters_and_the_shipped_file_is_valid(tmp_path):
    args = DeployArgs(emulate=True, emulator_dir=str(tmp_path), policy_host="10.0.0.5", policy_port=6000,
                      policy_protocol="n1.5", instruction="pick up the cube")
    graph = deploy_graph(args)
    check_graph(graph)
    parameters = effective_parameters(graph.node("inference"))
    assert {k: parameters[k] for k in ("host", "port", "protocol", "instruction")} == {
        "host": "10.0.0.5", "port": 6000, "protocol": "n1.5", "instruction": "pick up the cube",
    }
    InferenceConfig(**{k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in parameters.items()})


def test_so101_run_deploy_takes_the_same_arguments(tmp_path):
    argv = ["run", "deploy", "--emulate", "--emulator-dir", str(tmp_path), "--policy-port", "6000",
            "--instruction", "stack the cups", "--set", "inference.run_on_start=true"]
    graph = build_run_graph(build_parser().parse_args(argv))
    assert graph.node("inference").parameters["port"] == 6000
    assert graph.node("inference").parameters["instruction"] == "stack the cups"
    assert graph.node("inference").parameters["run_on_start"] is True
    assert [emulator.role for emulator in graph.emulators] == ["follower"]
