"""Publishers, subscriptions, services and clients made from the interface contract.

A node names a contract entry (so101_calibration.interface_contract) and gets the message class
and QoS that go with it, so the topic's type and QoS cannot drift between its publisher and its
subscribers. `name` replaces the contract's name where a node takes its topic from a parameter
(the twin bridge's command_topic) or fills a template (CAMERA_IMAGE.format(name="wrist"));
`qos` replaces its QoS where a subscriber needs a deeper queue than the publisher keeps.
"""
from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

from rclpy.client import Client
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.service import Service as RclpyService
from rclpy.subscription import Subscription

from so101_calibration.interface_contract import QosSpec, Service, Topic
from so101_hardware.ros.qos import qos_profile


@functools.cache
def interface_class(type_name: str) -> type:
    """"sensor_msgs/msg/JointState" → the JointState class (or a service class for ".../srv/...")."""
    package, kind, name = type_name.split("/")
    return getattr(importlib.import_module(f"{package}.{kind}"), name)


def publisher(node: Node, topic: Topic, *, name: str | None = None) -> Publisher:
    return node.create_publisher(interface_class(topic.type), name or topic.name, qos_profile(topic.qos))


def subscription(
    node: Node,
    topic: Topic,
    callback: Callable[[Any], None],
    *,
    name: str | None = None,
    qos: QosSpec | None = None,
) -> Subscription:
    return node.create_subscription(
        interface_class(topic.type), name or topic.name, callback, qos_profile(qos or topic.qos)
    )


def service(node: Node, contract: Service, callback: Callable[[Any, Any], Any]) -> RclpyService:
    return node.create_service(interface_class(contract.type), contract.name, callback)


def client(node: Node, contract: Service) -> Client:
    return node.create_client(interface_class(contract.type), contract.name)
