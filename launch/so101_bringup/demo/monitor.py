"""The demo's own ROS node: watches every topic the report needs and makes the operator's calls.

It is an ordinary participant on the graph's domain, like `so101 status` or an operator's
terminal: it subscribes leader/follower joint states, follower commands, the simulator's joint
states (converted back with the twin bridge's mapping), twin/lag, policy/chunk and /diagnostics
into a Trace, and calls teleop/engage, /sim/reset_objects, recorder/start|stop and policy/run as an operator would.
It spins on its own thread (start()/close()); call() blocks the calling thread, never the executor.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64
from trajectory_msgs.msg import JointTrajectory

from so101_bringup.demo.trace import ChunkRecord, Series, Trace
from so101_calibration import JOINT_NAMES, SimMapping
from so101_calibration.interface_contract import (
    DIAGNOSTICS,
    FOLLOWER_JOINT_COMMANDS,
    FOLLOWER_JOINT_STATES,
    LEADER_JOINT_STATES,
    POLICY_CHUNK,
    POLICY_RUN,
    RECORDER_START,
    RECORDER_STOP,
    SENSOR_QOS,
    SIM_JOINT_STATES,
    SIM_RESET_OBJECTS,
    TELEOP_ENGAGE,
    TWIN_LAG,
    Service,
)
from so101_hardware.ros.chunk_messages import read_chunk_message
from so101_hardware.ros.endpoints import client, subscription
from so101_hardware.ros.joint_states import MalformedJointState, named_positions, positions_by_name
from so101_hardware.ros.stamps import seconds_from_stamp

SERVICES = (TELEOP_ENGAGE, SIM_RESET_OBJECTS, RECORDER_START, RECORDER_STOP, POLICY_RUN)


class ServiceCallError(RuntimeError):
    """A service was not there in time, did not answer in time, or answered success=false."""


class DemoMonitor(Node):
    def __init__(self, context: Context, sim_mapping: SimMapping, sim_state_topic: str, namespace: str = ""):
        super().__init__("demo_monitor", namespace=namespace, context=context)
        self.trace = Trace()
        self.malformed = 0
        self._sim_mapping = sim_mapping
        self._service_clients = {service: client(self, service) for service in SERVICES}
        joint_topics = {
            LEADER_JOINT_STATES: self.trace.leader,
            FOLLOWER_JOINT_STATES: self.trace.follower,
            FOLLOWER_JOINT_COMMANDS: self.trace.commands,
        }
        for topic, series in joint_topics.items():
            subscription(self, topic, lambda msg, s=series: self._on_joints(msg, s))
        subscription(self, SIM_JOINT_STATES, self._on_sim_state, name=sim_state_topic, qos=SENSOR_QOS)
        subscription(self, TWIN_LAG, self._on_twin_lag)
        subscription(self, POLICY_CHUNK, self._on_chunk)
        subscription(self, DIAGNOSTICS, self._on_diagnostics)
        self._executor = SingleThreadedExecutor(context=context)
        self._executor.add_node(self)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._spin, name="demo-monitor", daemon=True)

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> DemoMonitor:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        self._executor.wake()
        self._thread.join(5.0)
        self._executor.shutdown()
        self.destroy_node()

    def _spin(self) -> None:
        while not self._stopping.is_set() and self.context.ok():
            self._executor.spin_once(timeout_sec=0.1)

    # --- the operator's calls ------------------------------------------------------------------

    def call(self, service: Service, data: bool | None = None, timeout_s: float = 10.0) -> str:
        """Call `service` (SetBool with `data`, or Trigger); its message, or ServiceCallError."""
        client = self._service_clients[service]
        if not client.wait_for_service(timeout_sec=timeout_s):
            raise ServiceCallError(f"{service.name}: no such service after {timeout_s:g} s (is its node running?)")
        request = client.srv_type.Request()
        if data is not None:
            request.data = data
        done = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _: done.set())
        if not done.wait(timeout_s):
            client.remove_pending_request(future)
            raise ServiceCallError(f"{service.name}: no answer in {timeout_s:g} s")
        response = future.result()
        if not response.success:
            raise ServiceCallError(f"{service.name}: refused: {response.message}")
        return response.message

    def call_until_accepted(self, service: Service, data: bool | None = None, timeout_s: float = 30.0) -> str:
        """Call again while the node refuses (e.g. its inputs have not arrived yet), up to timeout_s."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return self.call(service, data, timeout_s=max(0.1, deadline - time.monotonic()))
            except ServiceCallError:
                if time.monotonic() >= deadline or self._stopping.wait(0.2):  # 0.2 s: pacing the retries
                    raise

    # --- subscriptions -------------------------------------------------------------------------

    def _on_joints(self, msg: JointState, series: Series) -> None:
        try:
            positions = positions_by_name(msg, JOINT_NAMES)
        except MalformedJointState:
            self.malformed += 1
            return
        series.append(seconds_from_stamp(msg.header.stamp), time.time(), positions)

    def _on_sim_state(self, msg: JointState) -> None:
        try:
            names, sim_positions = named_positions(msg)
            positions = self._sim_mapping.from_sim(sim_positions, names)
        except ValueError:
            self.malformed += 1
            return
        self.trace.twin.append(seconds_from_stamp(msg.header.stamp), time.time(), positions)

    def _on_twin_lag(self, msg: Float64) -> None:
        now = time.time()
        self.trace.twin_lag.append(now, now, [msg.data])

    def _on_chunk(self, msg: JointTrajectory) -> None:
        try:
            chunk = read_chunk_message(msg, JOINT_NAMES)
        except MalformedJointState:
            self.malformed += 1
            return
        self.trace.chunks.append(ChunkRecord(time.time(), chunk.observation_time, chunk.times, chunk.positions))

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            values: dict[str, Any] = {kv.key: kv.value for kv in status.values}
            level = status.level[0] if isinstance(status.level, bytes) else int(status.level)
            self.trace.diagnostics[status.name] = {**values, "level": str(level), "message": status.message}
