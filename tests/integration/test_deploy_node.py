"""The inference node on real rclpy: its services, topics, QoS and start-up refusals, with no arm at all.

The test's probe node plays the follower (publishing follower/joint_states) and the operator
(policy/run, policy/instruction); the policy server's port has nobody behind it, so the node
never gets a chunk and holds, which is all these tests need. Each test runs on this process's
own ROS domain; waiting is on conditions while spinning, never on sleeps.
"""
from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import String
from std_srvs.srv import SetBool

from so101_bringup.share import config_path
from so101_calibration import JOINT_NAMES
from so101_calibration.interface_contract import (
    CAMERA_IMAGE,
    DIAGNOSTICS,
    FOLLOWER_JOINT_COMMANDS,
    FOLLOWER_JOINT_STATES,
    POLICY_INSTRUCTION,
    POLICY_RUN,
)
from so101_hardware.ros.endpoints import client, publisher, subscription
from so101_hardware.ros.joint_states import joint_state
from so101_hardware.ros.stamps import seconds_from_stamp
from so101_policy.nodes.inference_node import InferenceNode
from tests_support.ros import spin_until

WAIT_S = 10.0
PRESENT = np.array([0.1, -0.2, 0.3, -0.1, 0.0, -0.9])


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Probe(Node):
    """The follower's state at 50 Hz, and the operator's topics and service."""

    def __init__(self, context):
        super().__init__("probe", context=context)
        self.commands: list[tuple[float, JointState]] = []
        self.reports: list[tuple[int, str, dict[str, str]]] = []
        self.states = publisher(self, FOLLOWER_JOINT_STATES)
        self.images = publisher(self, CAMERA_IMAGE, name=CAMERA_IMAGE.format(name="front"))
        self.instructions = publisher(self, POLICY_INSTRUCTION)
        subscription(self, FOLLOWER_JOINT_COMMANDS, lambda msg: self.commands.append((time.time(), msg)))
        subscription(self, DIAGNOSTICS, self._on_diagnostics)
        self.run_client = client(self, POLICY_RUN)
        self.publishing_states = False
        self.create_timer(0.02, self._publish_state)

    def _publish_state(self) -> None:
        if self.publishing_states:
            self.states.publish(joint_state(JOINT_NAMES, PRESENT, time.time()))

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        self.reports += [(s.level[0], s.message, {kv.key: kv.value for kv in s.values})
                         for s in msg.status if s.name == "inference"]


@pytest.fixture
def running(ros):
    """running(**parameters) → (node, probe, wait) spun together on one executor; destroyed at teardown."""
    made: list[Node] = []
    executor = SingleThreadedExecutor(context=ros)

    def start(**parameters):
        parameters = {"arm_id": "emulated_follower", "calibration": str(config_path("calibration")),
                      "port": unused_port(), "timeout_s": 0.2, **parameters}
        node = InferenceNode(context=ros, parameter_overrides=[Parameter(k, value=v) for k, v in parameters.items()])
        probe = Probe(ros)
        made.extend([node, probe])
        executor.add_node(node)
        executor.add_node(probe)

        def wait(condition, what: str) -> None:
            assert spin_until(executor, condition, WAIT_S), f"timed out waiting for {what}"

        return node, probe, wait

    yield start
    executor.shutdown()
    for node in reversed(made):
        node.destroy_node()


def call(probe: Probe, wait, on: bool) -> SetBool.Response:
    assert probe.run_client.wait_for_service(timeout_sec=WAIT_S)
    future = probe.run_client.call_async(SetBool.Request(data=on))
    wait(future.done, "the policy/run reply")
    return future.result()


@pytest.mark.timeout(60)
def test_policy_run_starts_from_the_present_pose_and_false_stops_publishing(running):
    node, probe, wait = running()
    refused = call(probe, wait, True)
    assert not refused.success and refused.message == "no follower joint state in the last 0.25 s"

    probe.publishing_states = True
    wait(lambda: node.stream.observations.present() is not None and call(probe, wait, True).success,
         "policy/run accepted once the follower state is at the node")
    wait(lambda: len(probe.commands) >= 5, "commands")
    held = np.array([list(msg.position) for _, msg in probe.commands])
    np.testing.assert_allclose(held, np.tile(PRESENT, (len(held), 1)))  # no chunk: it holds where the arm is
    assert list(probe.commands[0][1].name) == list(JOINT_NAMES)

    assert call(probe, wait, False).success
    stopped_at = time.time()
    wait(lambda: any(message.startswith("idle") for _, message, _ in probe.reports[-1:]), "an idle report")
    sent_after_stop = [msg for _, msg in probe.commands if seconds_from_stamp(msg.header.stamp) > stopped_at]
    assert sent_after_stop == [], "no command once policy/run false was answered"


@pytest.mark.timeout(60)
def test_run_on_start_streams_at_the_first_follower_state(running):
    node, probe, wait = running(run_on_start=True)
    probe.publishing_states = True
    wait(lambda: len(probe.commands) >= 1, "a command without policy/run")
    assert node.stream.engaged


@pytest.mark.timeout(60)
def test_the_instruction_is_latched_and_bad_messages_are_ignored_and_counted(running, ros):
    early = Node("instructor", context=ros)  # publishes before the inference node exists
    try:
        publisher(early, POLICY_INSTRUCTION).publish(String(data="sort the blocks"))
        node, probe, wait = running()
        probe.images.publish(Image(height=2, width=2, step=2, encoding="mono8", data=bytes(4)))
        probe.states.publish(JointState(name=["shoulder_pan"], position=[0.0]))
        wait(lambda: probe.reports and probe.reports[-1][2].get("ignored_images") == "1"
             and probe.reports[-1][2].get("ignored_joint_states") == "1", "the ignored messages counted")
        assert probe.reports[-1][2]["instruction"] == "sort the blocks"
        assert node.stream.observations.instruction == "sort the blocks"
    finally:
        early.destroy_node()


@pytest.mark.parametrize(
    "parameters,error,message",
    [
        ({"units": "meters"}, "ConfigError", "node broken: invalid parameters: units must be one of"),
        ({"arm_id": "nobody"}, "CalibrationNotFoundError", "nobody"),
        ({"max_step_rad": -1.0}, "ValueError", "max_step_rad must be >= 0"),
    ],
)
def test_bad_parameters_stop_the_node_at_start_and_leave_the_context_clean(ros, parameters, error, message):
    overrides = {"arm_id": "emulated_follower", "calibration": str(config_path("calibration")), **parameters}
    with pytest.raises(Exception) as info:
        InferenceNode(node_name="broken", context=ros,
                      parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()])
    assert type(info.value).__name__ == error and message in str(info.value)
    ros.try_shutdown()
    assert not ros.ok()
