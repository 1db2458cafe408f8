"""A teleop rig for hardware-in-the-loop tests: leader, follower and teleop nodes on real buses.

By default both buses are emulated (UART timing at 1 Mbps, calibrated like a real arm) and the
rig keeps the emulators so tests can check the servos' own record of every goal. With real
ports (pytest --leader-port/--follower-port or SO101_LEADER_PORT/SO101_FOLLOWER_PORT) the same
nodes run against real arms and their calibration ids; emulator-only checks are skipped then.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_srvs.srv import SetBool

from so101_calibration import JOINT_NAMES, ArmCalibration, MotorCalibration, radians_to_ticks, write_calibration_file
from so101_calibration.joints import SO101_JOINTS
from so101_hardware.emulator import BusEmulator, EmulatorConfig
from so101_hardware.nodes.follower_node import FollowerNode
from so101_hardware.nodes.leader_node import LeaderNode
from so101_hardware.nodes.messages import joint_state, seconds_from_stamp
from so101_hardware.nodes.qos import COMMAND_QOS, STATE_QOS
from so101_hardware.nodes.teleop_node import TeleopNode

# An emulated arm's calibration: offsets 0, ranges wider than the scripted hand's sweep.
EMULATED_RANGES = {
    "shoulder_pan": (800, 3300),
    "shoulder_lift": (800, 3300),
    "elbow_flex": (800, 3300),
    "wrist_flex": (800, 3300),
    "wrist_roll": (0, 4095),
    "gripper": (1900, 3500),
}


def write_emulated_calibration(path: Path) -> Path:
    motors = {j.name: MotorCalibration(j.motor_id, 0, 0, *EMULATED_RANGES[j.name]) for j in SO101_JOINTS}
    write_calibration_file(path, ArmCalibration(motors))
    return path


@dataclass
class Recorded:
    """Messages a probe node saw, with their arrival time (monotonic)."""

    leader: list[tuple[float, JointState]] = field(default_factory=list)
    follower: list[tuple[float, JointState]] = field(default_factory=list)

    def positions(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """(stamps in s, positions N×6) of leader or follower states, from the messages' own stamps."""
        items = list(getattr(self, which))
        stamps = np.array([seconds_from_stamp(m.header.stamp) for _, m in items])
        return stamps, np.array([list(m.position) for _, m in items])


class Probe(Node):
    """The test's own node: records states, publishes commands, calls services."""

    def __init__(self, context):
        super().__init__("probe", context=context)
        self.record = Recorded()
        self.lock = threading.Lock()
        self.create_subscription(JointState, "leader/joint_states", lambda m: self._keep("leader", m), STATE_QOS)
        self.create_subscription(JointState, "follower/joint_states", lambda m: self._keep("follower", m), STATE_QOS)
        self.commands = self.create_publisher(JointState, "follower/joint_commands", COMMAND_QOS)
        self.engage_client = self.create_client(SetBool, "teleop/engage")
        self.estop_client = self.create_client(SetBool, "follower/estop")

    def _keep(self, which: str, msg: JointState) -> None:
        with self.lock:
            getattr(self.record, which).append((time.monotonic(), msg))

    def count(self, which: str) -> int:
        with self.lock:
            return len(getattr(self.record, which))

    def latest(self, which: str) -> np.ndarray | None:
        with self.lock:
            items = getattr(self.record, which)
            return np.array(items[-1][1].position) if items else None

    def send_command(self, positions, names=JOINT_NAMES) -> None:
        self.commands.publish(joint_state(names, positions, time.time()))

    def call(self, client, value: bool, timeout_s: float = 5.0) -> SetBool.Response:
        if not client.wait_for_service(timeout_sec=timeout_s):
            raise TimeoutError(f"service {client.srv_name} not available")
        answered = threading.Event()
        future = client.call_async(SetBool.Request(data=value))
        future.add_done_callback(lambda _f: answered.set())  # the rig's executor completes it
        if not answered.wait(timeout_s):
            raise TimeoutError(f"service {client.srv_name} did not answer")
        return future.result()


@dataclass
class RigPorts:
    leader_port: str | None = None
    follower_port: str | None = None
    leader_id: str = "leader"
    follower_id: str = "follower"
    calibration_dir: str | None = None

    @property
    def real(self) -> bool:
        return bool(self.leader_port and self.follower_port)


class TeleopRig:
    """Start with `with TeleopRig(...) as rig:`; spins every node on one executor in a thread."""

    def __init__(
        self,
        context,
        tmp_path: Path,
        ports: RigPorts,
        teleop_params: dict | None = None,
        follower_params: dict | None = None,
        leader_params: dict | None = None,
        follower_emulator: dict | None = None,
        start_teleop: bool = True,
    ):
        self.context = context
        self.ports = ports
        self.leader_emu: BusEmulator | None = None
        self.follower_emu: BusEmulator | None = None
        if ports.real:
            leader_port, follower_port = ports.leader_port, ports.follower_port
            calibration = ports.calibration_dir or ""
            leader_cal = follower_cal = calibration
        else:
            leader_cal = str(write_emulated_calibration(tmp_path / "leader.json"))
            follower_cal = str(write_emulated_calibration(tmp_path / "follower.json"))
            self.leader_emu = BusEmulator(
                EmulatorConfig(role="leader", link=str(tmp_path / "leader_bus"), calibration=leader_cal, seed=3)
            ).start()
            follower_extra = {"initial_positions": {1: 2048, 2: 1500, 3: 2600, 4: 2400, 5: 2048, 6: 2000}}
            follower_extra.update(follower_emulator or {})
            self.follower_emu = BusEmulator(
                EmulatorConfig(
                    role="follower", link=str(tmp_path / "follower_bus"), calibration=follower_cal, seed=4,
                    **follower_extra,
                )
            ).start()
            leader_port, follower_port = self.leader_emu.port, self.follower_emu.port
        self.nodes: list[Node] = []
        # One single-threaded executor per node, each on its own thread: like separate processes
        # as far as scheduling goes. One shared MultiThreadedExecutor delayed 100 Hz timers by up
        # to hundreds of ms here (its thread pool queues every node's callbacks together).
        self.executors: list[SingleThreadedExecutor] = []
        self._threads: list[threading.Thread] = []
        try:
            self.leader = self._add(
                LeaderNode,
                {"port": leader_port, "arm_id": ports.leader_id, "calibration": leader_cal, "rate_hz": 100.0,
                 **(leader_params or {})},
            )
            self.follower = self._add(
                FollowerNode,
                {"port": follower_port, "arm_id": ports.follower_id, "calibration": follower_cal, "rate_hz": 100.0,
                 **(follower_params or {})},
            )
            self.teleop = self._add(TeleopNode, teleop_params or {}) if start_teleop else None
            self.probe = Probe(context)
            self._spin_later(self.probe)
        except BaseException:
            self.close()
            raise

    def _add(self, node_cls, params: dict) -> Node:
        overrides = [Parameter(k, value=v) for k, v in params.items()]
        node = node_cls(context=self.context, parameter_overrides=overrides)
        self.nodes.append(node)
        self._spin_later(node)
        return node

    def _spin_later(self, node: Node) -> None:
        executor = SingleThreadedExecutor(context=self.context)
        executor.add_node(node)
        self.executors.append(executor)

    def __enter__(self) -> TeleopRig:
        for executor, node in zip(self.executors, [*self.nodes, self.probe]):
            thread = threading.Thread(target=executor.spin, name=f"spin-{node.get_name()}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for executor in self.executors:
            executor.shutdown(timeout_sec=5)
        for thread in self._threads:
            thread.join(timeout=5)
        for node in reversed(self.nodes):
            node.destroy_node()
        for emu in (self.follower_emu, self.leader_emu):
            if emu is not None:
                emu.stop()

    def wait_for(self, condition, timeout_s: float) -> bool:
        """Wait for a condition on what the nodes did (bounded; checks every few ms)."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def follower_limits_ticks(self) -> tuple[np.ndarray, np.ndarray]:
        """The follower safety filter's limits, as servo ticks (what the emulator records)."""
        limits = self.follower.controller.limits
        cal = self.follower.connected.calibration
        return radians_to_ticks(cal, limits.lower), radians_to_ticks(cal, limits.upper)


def goals_by_motor(emulator: BusEmulator, since: float = 0.0) -> dict[int, list]:
    out: dict[int, list] = {}
    for record in emulator.goal_log:
        if record.t_monotonic >= since:
            out.setdefault(record.motor_id, []).append(record)
    return out


__all__ = ["RigPorts", "TeleopRig", "goals_by_motor", "write_emulated_calibration", "rclpy"]
