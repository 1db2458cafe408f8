"""How the runner creates each node: the keyword arguments `ros2 launch` would amount to, and failed starts."""
import pytest
from rclpy.context import Context

from so101_bringup.graph_spec import NodeSpec
from so101_bringup.runner import node_kwargs
from so101_calibration.interface_contract import LEADER_JOINT_STATES


@pytest.fixture
def context():
    context = Context()
    context.init(args=[], domain_id=0)  # nothing here talks to anyone
    yield context
    context.try_shutdown()


def test_node_kwargs_merge_files_then_explicit_values_and_pass_remappings(tmp_path, context):
    params = tmp_path / "teleop.yaml"
    params.write_text("/**/teleop:\n  ros__parameters:\n    rate_hz: 50.0\n    joint_scale: [1.0, -1.0]\n")
    spec = NodeSpec(
        "so101_hardware", "teleop_node", "teleop", "arm1",
        parameters={"rate_hz": 20.0}, param_files=(params,), remappings=((LEADER_JOINT_STATES.name, "/other/leader"),),
    )
    kwargs = node_kwargs(spec, context)
    assert (kwargs["node_name"], kwargs["namespace"], kwargs["context"]) == ("teleop", "arm1", context)
    assert {p.name: p.value for p in kwargs["parameter_overrides"]} == {"rate_hz": 20.0, "joint_scale": [1.0, -1.0]}
    assert kwargs["cli_args"] == ["--ros-args", "-r", "leader/joint_states:=/other/leader"]


@pytest.mark.parametrize(
    "node_path,parameters,error",
    [
        ("so101_hardware.nodes.leader_node:LeaderNode", {"port": "/nonexistent/ttyACM9", "arm_id": "x"}, "CalibrationNotFound"),
        ("so101_hardware.nodes.follower_node:FollowerNode", {"port": "", "arm_id": "x"}, "ConfigError"),
        ("so101_hardware.nodes.camera_node:CameraNode", {"source": "file", "device": "/nonexistent.mp4"}, "CameraOpenError"),
        ("so101_hardware.nodes.teleop_node:TeleopNode", {"rate_hz": -1.0}, "ConfigError"),
    ],
)
def test_a_node_that_fails_to_start_leaves_the_context_clean(context, node_path, parameters, error):
    """A half-built node releases itself: the context's shutdown must not call into it."""
    import importlib

    from rclpy.parameter import Parameter

    module, name = node_path.split(":")
    node_class = getattr(importlib.import_module(module), name)
    overrides = [Parameter(k, value=v) for k, v in parameters.items()]
    with pytest.raises(Exception) as info:
        node_class(node_name="broken", context=context, parameter_overrides=overrides)
    assert type(info.value).__name__.startswith(error)
    context.try_shutdown()
    assert not context.ok()
