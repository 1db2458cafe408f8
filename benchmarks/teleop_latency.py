"""Benchmark: teleop latency from the leader's bus read to the follower's Goal_Position write.

Run as `python benchmarks/teleop_latency.py`. Two emulated SO-101 buses at 1 Mbps with UART
timing live in this process (they are the hardware, and their record of every goal is the
ground truth). Measured in the same run:
  - through ROS: leader_node, teleop_node and follower_node as separate processes (as `ros2
    launch` runs them) at 200 Hz on a ROS domain of their own;
  - the floor: a direct single-process loop without ROS (sync read leader → sync write follower).
The leader's shoulder_pan steps through unique tick values; each step's latency runs from the
first leader sample that carries it (stamped when the bus reply arrived) to the moment that goal
lands on the follower's servo. Goals (issue 4): 200 Hz sustained through ROS, p99 ≤ 2 bus cycles
+ 2 ms, ROS p99 within 3 ms of the direct loop's. Prints a table, then one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _emulator_process import LOCAL_DISCOVERY  # noqa: E402

from so101_bringup.share import config_path
from so101_calibration import ArmRole, UnitConverter, read_calibration_file
from so101_hardware.arm import SO101Arm
from so101_hardware.bus import BusConfig, FeetechBus
from so101_hardware.emulator import BusEmulator, EmulatorConfig

LEADER_CAL = config_path("calibration", "emulated_leader.json")
FOLLOWER_CAL = config_path("calibration", "emulated_follower.json")
REST = {1: 2048, 2: 2048, 3: 2048, 4: 2048, 5: 2048, 6: 2700}
STEP_S = 0.04  # a new shoulder_pan value every 40 ms: 8 control ticks to see it through
BASE_TICKS, SPAN_TICKS = 1900, 300  # unique values, 1 tick apart: far inside every limit


@dataclass
class Result:
    name: str
    latencies_s: np.ndarray
    rate_hz: float
    cycle_s: np.ndarray | None = None

    def ms(self, q: float) -> float:
        return float(np.percentile(self.latencies_s, q) * 1e3) if len(self.latencies_s) else float("nan")


def staircase(leader: BusEmulator, stop: threading.Event, marks: list[tuple[int, float]]) -> None:
    """Step shoulder_pan through unique values; note when each was set (monotonic)."""
    k = 0
    while not stop.wait(STEP_S):
        value = BASE_TICKS + k % SPAN_TICKS
        leader.set_leader_positions({**REST, 1: value})
        marks.append((value, time.monotonic()))
        k += 1


def goal_landings(follower: BusEmulator) -> dict[int, float]:
    """shoulder_pan goal value → when it first landed on the servo (monotonic)."""
    first: dict[int, float] = {}
    for record in follower.goal_log:
        if record.motor_id == 1 and record.goal_ticks not in first:
            first[record.goal_ticks] = record.t_monotonic
    return first


def latencies(reads: dict[int, float], landings: dict[int, float]) -> np.ndarray:
    """Per value: landing − first read carrying it (both monotonic), where both were seen."""
    return np.array([landings[v] - t for v, t in reads.items() if v in landings and landings[v] >= t])


def emulators(tmp: Path) -> tuple[BusEmulator, BusEmulator]:
    leader = BusEmulator(
        EmulatorConfig(role="leader", link=str(tmp / "leader"), calibration=str(LEADER_CAL), initial_positions=REST)
    ).start()
    leader.set_leader_positions(REST)
    follower = BusEmulator(
        EmulatorConfig(role="follower", link=str(tmp / "follower"), calibration=str(FOLLOWER_CAL), initial_positions=REST)
    ).start()
    return leader, follower


def direct_loop(seconds: float, rate_hz: float) -> Result:
    """The floor: one process reads the leader and writes the follower, nothing in between."""
    with tempfile.TemporaryDirectory(prefix="so101-bench-") as tmp:
        leader_emu, follower_emu = emulators(Path(tmp))
        leader = SO101Arm(FeetechBus(BusConfig(leader_emu.port)), ArmRole.LEADER)
        follower = SO101Arm(FeetechBus(BusConfig(follower_emu.port)), ArmRole.FOLLOWER)
        leader.connect()
        follower.connect()
        follower.enable_torque()
        stop, marks = threading.Event(), []
        stepper = threading.Thread(target=staircase, args=(leader_emu, stop, marks), daemon=True)
        reads: dict[int, float] = {}
        cycles = []
        try:
            stepper.start()
            period, start = 1.0 / rate_hz, time.monotonic()
            next_tick = start
            while time.monotonic() - start < seconds:
                t0 = time.monotonic()
                state = leader.read_state()
                follower.write_goal_positions(state.positions)
                cycles.append(time.monotonic() - t0)
                reads.setdefault(int(state.positions[0]), state.read_monotonic)
                next_tick += period
                time.sleep(max(0.0, next_tick - time.monotonic()))  # pacing, not synchronisation
            elapsed = time.monotonic() - start
        finally:
            stop.set()
            stepper.join()
            follower.disconnect()
            leader.disconnect()
            landings = goal_landings(follower_emu)
            follower_emu.stop()
            leader_emu.stop()
    return Result("direct loop, no ROS (floor)", latencies(reads, landings), len(cycles) / elapsed, np.array(cycles))


def ros_pipeline(seconds: float, rate_hz: float, domain_id: int) -> Result:
    """The teleop graph's leader, teleop and follower nodes, each its own process, run by the graph runner
    as `ros2 launch` runs them; the emulated buses stay in this process (the ground truth)."""
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from so101_bringup.arguments import TeleopArgs
    from so101_bringup.launch_graphs import teleop_graph
    from so101_bringup.runner import GraphRunner
    from so101_calibration.interface_contract import FOLLOWER_JOINT_STATES, LEADER_JOINT_STATES
    from so101_hardware.ros.endpoints import subscription
    from so101_hardware.ros.stamps import seconds_from_stamp

    leader_units = UnitConverter(read_calibration_file(LEADER_CAL), use_degrees=True)
    with tempfile.TemporaryDirectory(prefix="so101-bench-") as tmp:
        args = TeleopArgs(emulate=True, emulator_dir=tmp, cameras=False,
                          leader_rate_hz=rate_hz, follower_rate_hz=rate_hz)
        graph = (teleop_graph(args).with_emulator("leader", initial_positions=REST)
                 .with_emulator("follower", initial_positions=REST)
                 .with_parameters([("teleop", "engage_on_start", True), ("teleop", "engage_min_duration_s", 0.2)]))
        runner = GraphRunner(graph, domain_id=domain_id, processes=[node.name for node in graph.nodes],
                             process_environment=LOCAL_DISCOVERY)
        with runner as running:
            leader_emu, follower_emu = running.emulator("leader"), running.emulator("follower")
            leader_emu.set_leader_positions(REST)
            probe = Node("latency_probe", context=running.context)
            leader_msgs: list[tuple[float, float]] = []  # (stamp wall, shoulder_pan rad)
            follower_count = [0]
            subscription(probe, LEADER_JOINT_STATES,
                         lambda m: leader_msgs.append((seconds_from_stamp(m.header.stamp), m.position[0])))
            subscription(probe, FOLLOWER_JOINT_STATES, lambda m: follower_count.__setitem__(0, follower_count[0] + 1))
            executor = SingleThreadedExecutor(context=running.context)
            executor.add_node(probe)
            spinner = threading.Thread(target=executor.spin, daemon=True)
            stop, marks = threading.Event(), []
            stepper = threading.Thread(target=staircase, args=(leader_emu, stop, marks), daemon=True)
            try:
                spinner.start()
                deadline = time.monotonic() + 30
                while follower_count[0] < 50 or len(leader_msgs) < 50:  # nodes are other processes: poll
                    if time.monotonic() > deadline or running.exited_processes():
                        raise RuntimeError(f"the teleop nodes did not come up: {running.exited_processes()}")
                    time.sleep(0.05)
                time.sleep(1.0)  # let teleop finish its engage ramp before measuring
                first_leader, first_follower = len(leader_msgs), follower_count[0]
                stepper.start()
                start = time.monotonic()
                time.sleep(seconds)  # the measurement window
                elapsed = time.monotonic() - start
                leader_rate = (len(leader_msgs) - first_leader) / elapsed
                follower_rate = (follower_count[0] - first_follower) / elapsed
            finally:
                stop.set()
                executor.shutdown()
                probe.destroy_node()
            landings = goal_landings(follower_emu)
    wall_to_mono = time.time() - time.monotonic()
    reads: dict[int, float] = {}
    for stamp, radians in leader_msgs:
        ticks = int(leader_units.radians_to_ticks(np.array([radians, 0, 0, 0, 0, 0]))[0])
        reads.setdefault(ticks, stamp - wall_to_mono)
    rate = min(leader_rate, follower_rate)
    return Result("through ROS (3 node processes)", latencies(reads, landings), rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measurement window per pipeline")
    parser.add_argument("--rate", type=float, default=200.0, help="leader and follower rate, Hz")
    parser.add_argument("--domain-id", type=int, default=77)
    args = parser.parse_args()

    direct = direct_loop(args.seconds, args.rate)
    ros = ros_pipeline(args.seconds, args.rate, args.domain_id)
    bus_cycle_ms = float(np.median(direct.cycle_s) * 1e3)
    budget_ms = 2 * bus_cycle_ms + 2.0

    print(f"teleop latency, leader bus read → follower Goal_Position, emulated 1 Mbps buses, {args.rate:.0f} Hz")
    print(f"{'pipeline':34s} {'rate Hz':>8s} {'samples':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'max ms':>7s}")
    for r in (direct, ros):
        print(f"{r.name:34s} {r.rate_hz:8.1f} {len(r.latencies_s):8d} {r.ms(50):7.2f} {r.ms(99):7.2f} {r.ms(100):7.2f}")
    print(f"bus cycle (direct loop p50): {bus_cycle_ms:.2f} ms → p99 budget 2 cycles + 2 ms = {budget_ms:.2f} ms")
    figures = {
        "benchmark": "teleop_latency",
        "rate_target_hz": args.rate,
        "ros_rate_hz": round(ros.rate_hz, 1),
        "ros_samples": int(len(ros.latencies_s)),
        "ros_p50_ms": round(ros.ms(50), 3),
        "ros_p99_ms": round(ros.ms(99), 3),
        "ros_max_ms": round(ros.ms(100), 3),
        "direct_rate_hz": round(direct.rate_hz, 1),
        "direct_p50_ms": round(direct.ms(50), 3),
        "direct_p99_ms": round(direct.ms(99), 3),
        "direct_max_ms": round(direct.ms(100), 3),
        "bus_cycle_ms": round(bus_cycle_ms, 3),
        "p99_budget_ms": round(budget_ms, 3),
        "ros_minus_direct_p99_ms": round(ros.ms(99) - direct.ms(99), 3),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
