"""Node parameters declared from config dataclasses, including empty list defaults."""
import pytest
from rclpy.parameter import Parameter

from so101_hardware.nodes.teleop_node import TeleopNode
from so101_hardware.ros.params import ConfigError
from tests_support.ros import domain_for_this_process, ros_context


def make(context, **params):
    return TeleopNode(node_name="teleop", context=context, parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])


def test_empty_list_defaults_take_overrides_and_stay_empty_without():
    with ros_context(domain_for_this_process(offset=71)) as context:
        node = make(context, gripper_leader_range_rad=[0.1, 1.0], gripper_follower_range_rad=[-0.2, 1.5])
        assert node.config.gripper_leader_range_rad == (0.1, 1.0)
        node.destroy_node()
        node = make(context)
        assert node.config.gripper_leader_range_rad == ()
        node.destroy_node()


def test_a_wrongly_typed_or_invalid_parameter_names_node_and_field():
    with ros_context(domain_for_this_process(offset=72)) as context:
        with pytest.raises(ConfigError, match="teleop.*stale_timeout_s"):
            make(context, stale_timeout_s=-1.0)
        with pytest.raises(ConfigError, match="joint_scale"):
            make(context, joint_scale=[1.0, 2.0])
