"""A teleop rig for hardware-in-the-loop tests: the teleop graph (leader, follower, teleop) on real buses.

The graph is the one `so101 run teleop` and `ros2 launch` start, run by the same GraphRunner. By
default both buses are emulated (UART timing at 1 Mbps, calibrated like a real arm) and the rig
keeps the emulators so tests can check the servos' own record of every goal. With real ports
(pytest --leader-port/--follower-port or SO101_LEADER_PORT/SO101_FOLLOWER_PORT) the same nodes
run against real arms and their calibration ids; emulator-only checks are skipped then.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_srvs.srv import SetBool, Trigger

from so101_bringup.arguments import TeleopArgs
from so101_bringup.graph_spec import Graph
from so101_bringup.launch_graphs import teleop_graph
from so101_bringup.runner import GraphRunner
from so101_calibration import JOINT_NAMES, ArmCalibration, MotorCalibration, radians_to_ticks, write_calibration_file
from so101_calibration.interface_contract import (
    DIAGNOSTICS,
    FOLLOWER_ESTOP,
    FOLLOWER_FAULT,
    FOLLOWER_JOINT_COMMANDS,
    FOLLOWER_JOINT_STATES,
    FOLLOWER_REENABLE,
    LEADER_JOINT_STATES,
    TELEOP_ENGAGE,
)
from so101_calibration.joints import SO101_JOINTS
from so101_hardware.emulator import BusEmulator
from so101_hardware.ros.endpoints import client, publisher, subscription
from so101_hardware.ros.joint_states import joint_state
from so101_hardware.ros.stamps import seconds_from_stamp

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
        subscription(self, LEADER_JOINT_STATES, lambda m: self._keep("leader", m))
        subscription(self, FOLLOWER_JOINT_STATES, lambda m: self._keep("follower", m))
        self.commands = publisher(self, FOLLOWER_JOINT_COMMANDS)
        self.engage_client = client(self, TELEOP_ENGAGE)
        self.estop_client = client(self, FOLLOWER_ESTOP)
        self.reenable_client = client(self, FOLLOWER_REENABLE)
        self.faults: list[str] = []  # follower/fault messages, in order
        self.statuses: dict[str, list] = {}  # /diagnostics statuses by node name, in order
        subscription(self, FOLLOWER_FAULT, lambda m: self._note(self.faults, m.data))
        subscription(self, DIAGNOSTICS, self._on_diagnostics)

    def _note(self, into: list, item) -> None:
        with self.lock:
            into.append(item)

    def _on_diagnostics(self, msg) -> None:
        with self.lock:
            for status in msg.status:
                self.statuses.setdefault(status.name.rsplit("/", 1)[-1], []).append(status)

    def latest_status(self, node: str):
        """The newest /diagnostics status of `node` (its plain name), or None."""
        with self.lock:
            statuses = self.statuses.get(node)
            return statuses[-1] if statuses else None

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

    def call(self, client, value: bool | None, timeout_s: float = 5.0) -> SetBool.Response | Trigger.Response:
        """Call a SetBool service with `value`, or a Trigger service (value None); the response."""
        if not client.wait_for_service(timeout_sec=timeout_s):
            raise TimeoutError(f"service {client.srv_name} not available")
        answered = threading.Event()
        future = client.call_async(Trigger.Request() if value is None else SetBool.Request(data=value))
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


FOLLOWER_START_TICKS = {1: 2048, 2: 1500, 3: 2600, 4: 2400, 5: 2048, 6: 2000}
"""Where the emulated follower starts: away from the leader, so engaging moves it."""
RIG_RATE_HZ = 100.0


def rig_graph(tmp_path: Path, ports: RigPorts, follower_emulator: dict | None = None) -> Graph:
    """The teleop graph without cameras, on the emulated buses (default) or on the real arms of `ports`."""
    if ports.real:
        args = TeleopArgs(
            leader_port=ports.leader_port, follower_port=ports.follower_port, leader_id=ports.leader_id,
            follower_id=ports.follower_id, leader_calibration=ports.calibration_dir,
            follower_calibration=ports.calibration_dir, cameras=False,
            leader_rate_hz=RIG_RATE_HZ, follower_rate_hz=RIG_RATE_HZ,
        )
        return teleop_graph(args)
    args = TeleopArgs(
        emulate=True, emulator_dir=str(tmp_path), cameras=False, emulator_seed=3,
        leader_calibration=str(write_emulated_calibration(tmp_path / f"{ports.leader_id}.json")),
        follower_calibration=str(write_emulated_calibration(tmp_path / f"{ports.follower_id}.json")),
        leader_rate_hz=RIG_RATE_HZ, follower_rate_hz=RIG_RATE_HZ,
    )
    changes = {"initial_positions": FOLLOWER_START_TICKS, "seed": 4, **(follower_emulator or {})}
    return teleop_graph(args).with_emulator("follower", **changes)


class TeleopRig:
    """`with TeleopRig(...) as rig:` runs the teleop graph through the runner (as `so101 run teleop` does),
    in the test's context, plus the test's probe node; emulators are kept for their goal records."""

    def __init__(
        self,
        context,
        tmp_path: Path,
        ports: RigPorts,
        teleop_params: dict | None = None,
        follower_params: dict | None = None,
        leader_params: dict | None = None,
        follower_emulator: dict | None = None,
    ):
        self.ports = ports
        overrides = [
            (node, name, value)
            for node, params in (("teleop", teleop_params), ("follower", follower_params), ("leader", leader_params))
            for name, value in (params or {}).items()
        ]
        self.runner = GraphRunner(rig_graph(tmp_path, ports, follower_emulator).with_parameters(overrides),
                                  context=context)
        self.probe = Probe(context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.probe)
        self._thread = threading.Thread(target=self.executor.spin, name="spin-probe", daemon=True)

    def __enter__(self) -> TeleopRig:
        try:
            self.runner.start()
        except BaseException:
            self.probe.destroy_node()
            raise
        self.leader, self.follower, self.teleop = (self.runner.node(n) for n in ("leader", "follower", "teleop"))
        emulated = not self.ports.real
        self.leader_emu = self.runner.emulator("leader") if emulated else None
        self.follower_emu = self.runner.emulator("follower") if emulated else None
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.executor.shutdown(timeout_sec=5)
        self._thread.join(timeout=5)
        self.probe.destroy_node()
        self.runner.stop()

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


