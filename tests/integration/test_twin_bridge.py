"""The twin bridge and the MuJoCo twin node on real rclpy (loopback DDS, this test's own domain).

A probe node plays the follower (publishing follower/joint_states at 100 Hz) and, in the first
tests, Isaac Sim (echoing every command back as a joint state), so what the bridge sends and
reports can be checked exactly. Waiting is on conditions (spin_until), never on sleeps.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image, JointState

from so101_bringup.share import config_path
from so101_calibration import (
    JOINT_NAMES,
    SIM_JOINT_NAMES,
    SimMappingConfig,
    SimUnits,
    build_sim_mapping,
    read_calibration_file,
)
from so101_calibration.interface_contract import (
    DIAGNOSTICS,
    FOLLOWER_JOINT_STATES,
    SIM_CAMERA_IMAGE,
    SIM_JOINT_COMMAND,
    SIM_JOINT_STATES,
    TWIN_LAG,
    TWIN_TRACKING,
)
from so101_hardware.ros.diagnostics import ERROR, WARN
from so101_hardware.ros.endpoints import publisher, subscription
from so101_hardware.ros.joint_states import joint_state
from so101_sim_bridge.nodes.twin_bridge_node import TwinBridgeNode
from tests_support.ros import domain_for_this_process, spin_until

TIMEOUT_S = 30.0
POSE = np.array([0.3, -0.2, 0.4, 0.1, -0.3, 0.2])
FOLLOWER_CALIBRATION = config_path("calibration", "emulated_follower.json")


class Probe:
    """The follower (a 100 Hz timer) and optionally a simulator that echoes each command with an offset."""

    def __init__(self, context, echo_offset: float | None = None):
        self.node = Node("probe", context=context)
        self.commands: list[JointState] = []
        self.tracking: list[JointState] = []
        self.lags: list[float] = []
        self.diagnostics: dict[str, dict[str, str]] = {}
        self.images: dict[str, list[Image]] = {"wrist": [], "front": []}
        self.sim_states: list[JointState] = []
        self._follower = publisher(self.node, FOLLOWER_JOINT_STATES)
        self._sim = publisher(self.node, SIM_JOINT_STATES)
        self._echo_offset = echo_offset
        subscription(self.node, SIM_JOINT_COMMAND, self._on_command)
        subscription(self.node, SIM_JOINT_STATES, self.sim_states.append)
        subscription(self.node, TWIN_TRACKING, self.tracking.append)
        subscription(self.node, TWIN_LAG, lambda m: self.lags.append(m.data))
        subscription(self.node, DIAGNOSTICS, self._on_diagnostics)
        for name, images in self.images.items():
            subscription(self.node, SIM_CAMERA_IMAGE, images.append, name=SIM_CAMERA_IMAGE.format(name=name))
        self.node.create_timer(0.01, self._publish_follower)

    def _publish_follower(self) -> None:
        self._follower.publish(joint_state(JOINT_NAMES, POSE, time.time()))

    def _on_command(self, msg: JointState) -> None:
        self.commands.append(msg)
        if self._echo_offset is not None:
            self._sim.publish(joint_state(msg.name, np.array(msg.position) + self._echo_offset, time.time()))

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            self.diagnostics[status.name] = {kv.key: kv.value for kv in status.values} | {"message": status.message}


def run(context, *nodes: Node) -> SingleThreadedExecutor:
    executor = SingleThreadedExecutor(context=context)
    for node in nodes:
        executor.add_node(node)
    return executor


@pytest.fixture
def ros_nodes(ros):
    """Collects the nodes a test makes, destroyed after it."""
    nodes: list[Node] = []
    yield nodes
    for node in reversed(nodes):
        node.destroy_node()


def make(nodes: list[Node], node_class, context, **parameters) -> Node:
    overrides = [Parameter(name, value=value) for name, value in parameters.items()]
    nodes.append(node_class(context=context, parameter_overrides=overrides))
    return nodes[-1]


@pytest.mark.timeout(60)
def test_the_bridge_speaks_leisaacs_names_and_units_and_reports_tracking_and_lag(ros, ros_nodes):
    bridge = make(ros_nodes, TwinBridgeNode, ros, sim_names="so_arm101_usd", sim_units="leisaac",
                  arm_id="emulated_follower", calibration=str(FOLLOWER_CALIBRATION))
    probe = Probe(ros, echo_offset=0.05)
    ros_nodes.append(probe.node)
    executor = run(ros, bridge, probe.node)
    assert spin_until(executor, lambda: len(probe.tracking) >= 20 and "twin_bridge" in probe.diagnostics, TIMEOUT_S)

    mapping = build_sim_mapping(SimMappingConfig(SIM_JOINT_NAMES["so_arm101_usd"], SimUnits.LEISAAC),
                                read_calibration_file(FOLLOWER_CALIBRATION))
    command = probe.commands[-1]
    assert list(command.name) == ["Rotation", "Pitch", "Elbow", "Wrist_Pitch", "Wrist_Roll", "Jaw"]
    assert np.array(command.position) == pytest.approx(mapping.to_sim(POSE))
    assert list(probe.tracking[-1].name) == list(JOINT_NAMES)
    assert np.array(probe.tracking[-1].position) == pytest.approx(0.05 / mapping.scale)  # back in ROS radians
    assert probe.lags and all(0 < lag < 1.0 for lag in probe.lags)
    report = probe.diagnostics["twin_bridge"]
    assert report["message"] == "mirroring the follower into the twin"
    assert float(report["lag_p50_ms"]) > 0 and float(report["tracking_error_gripper_rad"]) == pytest.approx(
        0.05 / mapping.scale[5], abs=1e-3)


@pytest.mark.timeout(60)
def test_a_rate_limited_bridge_sends_states_at_most_at_its_rate(ros, ros_nodes):
    bridge = make(ros_nodes, TwinBridgeNode, ros, publish_rate_hz=10.0)
    probe = Probe(ros)
    ros_nodes.append(probe.node)
    executor = run(ros, bridge, probe.node)
    assert spin_until(executor, lambda: bridge.tracker.commands >= 5, TIMEOUT_S)
    assert spin_until(executor, lambda: len(probe.commands) >= 5, TIMEOUT_S)
    assert bridge.command_rate.rate_hz == pytest.approx(10.0, rel=0.5)  # not the follower's 100 Hz
    assert np.array(probe.commands[-1].position) == pytest.approx(POSE)


@pytest.mark.timeout(90)
def test_the_mujoco_twin_follows_the_bridge_and_publishes_its_cameras(ros, ros_nodes):
    # Imported here, not at collection: with MUJOCO_GL=osmesa, importing mujoco loads libOSMesa, and
    # torchvision imported after it (test_lerobot_loader.py, collected later) crashes the process.
    from so101_sim_bridge.nodes.mujoco_twin_node import MujocoTwinNode

    twin = make(ros_nodes, MujocoTwinNode, ros, camera_width=96, camera_height=72, camera_rate_hz=5.0)
    bridge = make(ros_nodes, TwinBridgeNode, ros)
    probe = Probe(ros)
    ros_nodes.append(probe.node)
    executor = run(ros, twin, bridge, probe.node)

    def settled() -> bool:
        return bool(probe.tracking) and np.abs(probe.tracking[-1].position).max() < 0.01  # servo model, gravity compensated

    assert spin_until(executor, settled, TIMEOUT_S), probe.tracking[-1:]
    assert spin_until(executor, lambda: all(len(images) >= 2 for images in probe.images.values()), TIMEOUT_S)
    image = probe.images["front"][-1]
    assert (image.width, image.height, image.encoding, image.header.frame_id) == (96, 72, "rgb8", "sim_front_camera")
    assert list(probe.sim_states[-1].name) == list(JOINT_NAMES)
    assert len(probe.sim_states[-1].velocity) == len(probe.sim_states[-1].effort) == 6
    assert spin_until(executor, lambda: {"mujoco_twin", "twin_bridge"} <= set(probe.diagnostics), TIMEOUT_S)
    assert probe.diagnostics["mujoco_twin"]["message"] == "ok"
    assert int(probe.diagnostics["mujoco_twin"]["commands_applied"]) > 0


@pytest.mark.timeout(60)
def test_bad_messages_are_refused_counted_and_reported_never_applied(ros, ros_nodes):
    from so101_sim_bridge.nodes.mujoco_twin_node import MujocoTwinNode  # not at collection: see above

    twin = make(ros_nodes, MujocoTwinNode, ros, camera_rate_hz=0.0)
    bridge = make(ros_nodes, TwinBridgeNode, ros, state_topic="/other_sim/joint_states")
    probe = Node("bad_input", context=ros)
    ros_nodes.append(probe)
    commands = publisher(probe, SIM_JOINT_COMMAND)
    follower = publisher(probe, FOLLOWER_JOINT_STATES)
    other_sim = publisher(probe, SIM_JOINT_STATES, name="/other_sim/joint_states")
    executor = run(ros, twin, bridge, probe)

    def publish_bad() -> bool:
        commands.publish(joint_state(["Rotation", "Pitch"], [0.1, 0.2], time.time()))  # names of another USD
        commands.publish(joint_state(["shoulder_pan"], [float("nan")], time.time()))
        follower.publish(joint_state(JOINT_NAMES[:5], POSE[:5], time.time()))  # no gripper
        other_sim.publish(joint_state(["Jaw"], [0.1], time.time()))  # a simulator with other joint names
        return twin.rejected >= 2 and bridge.rejected >= 1 and bridge.sim_mismatch is not None

    assert spin_until(executor, publish_bad, TIMEOUT_S)
    assert twin.twin.targets == pytest.approx(np.zeros(6)), "nothing was applied"
    assert twin.health().level == WARN and "rejected" in twin.health().message
    health = bridge.health()
    assert health.level == ERROR and "missing" in health.message and "Rotation" not in health.message
    assert bridge.tracker.commands == 0


@pytest.mark.timeout(60)
def test_the_twin_node_without_opengl_exits_with_one_clear_line():
    env = {**os.environ, "MUJOCO_GL": "glfw", "DISPLAY": "", "ROS_DOMAIN_ID": str(domain_for_this_process(1))}
    env.pop("PYOPENGL_PLATFORM", None)
    result = subprocess.run(
        [sys.executable, "-m", "so101_sim_bridge.nodes.mujoco_twin_node"],
        capture_output=True, text=True, timeout=50, env=env,
    )
    assert result.returncode == 1
    assert "[so101] NodeStartError: node mujoco_twin: cannot render offscreen with MUJOCO_GL=glfw" in result.stderr
    assert "MUJOCO_GL=osmesa" in result.stderr and "Traceback" not in result.stderr
