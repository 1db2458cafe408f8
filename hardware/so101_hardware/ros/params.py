"""ROS parameters declared from a node's frozen config dataclass, validated at start.

Each node's configuration is a typed dataclass in a pure module (its __post_init__ validates
values). Declaring one ROS parameter per field keeps three things identical by construction: the
node's parameters, the config the logic receives, and what the launch graph tests check
("every parameter is declared by its node").
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Any, TypeVar

from rcl_interfaces.msg import ParameterDescriptor, ParameterType
from rclpy.node import Node
from rclpy.parameter import Parameter

from so101_hardware.ros.errors import ConfigError

T = TypeVar("T")

_ARRAY_TYPES = {
    str: ParameterType.PARAMETER_STRING_ARRAY,
    float: ParameterType.PARAMETER_DOUBLE_ARRAY,
    int: ParameterType.PARAMETER_INTEGER_ARRAY,
    bool: ParameterType.PARAMETER_BOOL_ARRAY,
}
_SCALAR_TYPES = {
    str: ParameterType.PARAMETER_STRING,
    float: ParameterType.PARAMETER_DOUBLE,
    int: ParameterType.PARAMETER_INTEGER,
    bool: ParameterType.PARAMETER_BOOL,
}


def _parameter_type(annotation: Any) -> int:
    origin = typing.get_origin(annotation)
    if origin in (tuple, list):
        (item, *_rest) = typing.get_args(annotation)
        return _ARRAY_TYPES[item]
    return _SCALAR_TYPES[annotation]


def declare_config(node: Node, config_cls: type[T]) -> T:
    """Declare a parameter per field (default = the field's default), read them, build the config.

    Raises ConfigError naming the node and the offending parameter, for a wrong type or a value
    the config rejects, so a bad YAML file stops the node at start with one clear line.
    """
    hints = typing.get_type_hints(config_cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(config_cls):
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()  # type: ignore[misc]
        ros_type = _parameter_type(hints[field.name])
        descriptor = ParameterDescriptor(type=ros_type, description=field.metadata.get("help", ""))
        # An empty list carries no element type (rclpy would guess a byte array): declare by type.
        ros_default = (list(default) or Parameter.Type(ros_type)) if isinstance(default, tuple) else default
        try:
            parameter = node.declare_parameter(field.name, ros_default, descriptor)
        except Exception as exc:  # rclpy raises several types for a wrongly typed override
            raise ConfigError(f"node {node.get_name()}: parameter {field.name!r}: {exc}") from None
        value = parameter.value
        values[field.name] = tuple(value or ()) if isinstance(default, tuple) else value
    try:
        return config_cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"node {node.get_name()}: invalid parameters: {exc}") from None
