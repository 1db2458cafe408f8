"""Benchmark: twin lag, from a follower state to the twin's state echo, and the MuJoCo twin's camera rate.

Run as `python benchmarks/twin_lag.py`. The chain runs as ros2 launch runs it, one process per
node, on a ROS domain of its own: this process publishes follower/joint_states at 100 Hz
(stamped when published, as the follower node stamps its bus read), twin_bridge_node forwards
each state to /isaac_joint_command, a simulator answers on /isaac_joint_states, and the bridge
publishes each command's lag on twin/lag: from the follower state's stamp to the arrival of the
simulator's first state after the command (so101_sim_bridge.bridge). This process collects those
samples. Measured in the same run, in this order:
  - baseline: an ideal simulator (this script with --echo) that answers each command at once,
    so the figure is the ROS transport and the bridge alone;
  - the MuJoCo twin node with its cameras off;
  - the MuJoCo twin node rendering its default cameras (wrist and front, 320x240, 10 Hz) meanwhile.
Goal (issue 5): p99 ≤ 10 ms on loopback. Then the twin's camera rate without ROS: wrist and front
rendered back to back at 320x240 and 640x480 (so101_sim_bridge.twin.camera_rate). Prints a
table, then one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _emulator_process import LOCAL_DISCOVERY, stop_processes  # noqa: E402

from so101_bringup.catalog import SIM_BRIDGE
from so101_bringup.graph_spec import Graph, NodeSpec

RATE_HZ = 100.0
WARMUP_S = 1.0
START_TIMEOUT_S = 60.0
GOAL_P99_MS = 10.0
CAMERA_SIZES = ((320, 240), (640, 480))


@dataclass
class Run:
    name: str
    lags_s: np.ndarray
    rate_hz: float

    def ms(self, q: float) -> float:
        return float(np.percentile(self.lags_s, q) * 1e3) if len(self.lags_s) else float("nan")


def echo_simulator() -> None:
    """--echo: answer every /isaac_joint_command at once with a state, same topics and QoS as the twin."""
    import rclpy
    from rclpy.executors import ExternalShutdownException

    from so101_calibration.interface_contract import SIM_JOINT_COMMAND, SIM_JOINT_STATES
    from so101_hardware.ros.endpoints import publisher, subscription
    from so101_hardware.ros.joint_states import joint_state

    rclpy.init()
    node = rclpy.create_node("echo_simulator")
    states = publisher(node, SIM_JOINT_STATES)
    subscription(node, SIM_JOINT_COMMAND, lambda m: states.publish(joint_state(m.name, m.position, time.time())))
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


def measure(name: str, simulator: Graph | list[str], seconds: float, domain_id: int) -> Run:
    """Start the simulator (a graph of stack nodes, or a command) and the bridge, publish follower states at
    RATE_HZ, collect twin/lag. Stack nodes run as processes under the graph runner, as `ros2 launch` runs them."""
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from so101_bringup.runner import GraphRunner
    from so101_calibration import JOINT_NAMES
    from so101_calibration.interface_contract import FOLLOWER_JOINT_STATES, TWIN_LAG, QosSpec
    from so101_hardware.ros.endpoints import publisher, subscription
    from so101_hardware.ros.joint_states import joint_state

    graph = bridge_graph() + (simulator if isinstance(simulator, Graph) else Graph())
    command = None if isinstance(simulator, Graph) else subprocess.Popen(
        simulator, env={**os.environ, **LOCAL_DISCOVERY, "ROS_DOMAIN_ID": str(domain_id)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    runner = GraphRunner(graph, domain_id=domain_id, processes=[node.name for node in graph.nodes],
                         process_environment=LOCAL_DISCOVERY)
    samples: list[tuple[float, float]] = []  # (arrival, lag)
    stop = threading.Event()
    sent = [0]
    try:
        with runner as running:
            probe = Node("lag_probe", context=running.context)
            follower = publisher(probe, FOLLOWER_JOINT_STATES)
            keep_all = QosSpec("reliable", 10_000)  # no sample lost to a slow probe
            subscription(probe, TWIN_LAG, lambda m: samples.append((time.monotonic(), m.data)), qos=keep_all)
            executor = SingleThreadedExecutor(context=running.context)
            executor.add_node(probe)
            spinner = threading.Thread(target=executor.spin, daemon=True)

            def publish_follower() -> None:
                start, k = time.monotonic(), 0
                while not stop.is_set():
                    pose = 0.3 * np.sin(2 * np.pi * 0.5 * k / RATE_HZ + np.arange(6))
                    follower.publish(joint_state(JOINT_NAMES, pose, time.time()))
                    sent[0] += 1
                    k += 1
                    delay = start + k / RATE_HZ - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)

            publishing = threading.Thread(target=publish_follower, daemon=True)
            spinner.start()
            publishing.start()
            try:
                deadline = time.monotonic() + START_TIMEOUT_S
                while not samples:  # the nodes are other processes: poll until the chain answers
                    exited = running.exited_processes() or (command is not None and command.poll() is not None)
                    if time.monotonic() > deadline or exited:
                        raise RuntimeError(f"{name}: the chain did not come up (exited: {exited})")
                    time.sleep(0.05)
                time.sleep(WARMUP_S)  # discovery settled, the twin's cameras rendering
                begin, first_sent = time.monotonic(), sent[0]
                time.sleep(seconds)  # the measurement window
                end, last_sent = time.monotonic(), sent[0]
            finally:
                stop.set()
                publishing.join()
                executor.shutdown()
                probe.destroy_node()
    finally:
        if command is not None:
            stop_processes([command])
    lags = np.array([lag for arrival, lag in samples if begin <= arrival <= end])
    return Run(name, lags, (last_sent - first_sent) / (end - begin))


def bridge_graph() -> Graph:
    return Graph((NodeSpec(SIM_BRIDGE, "twin_bridge_node", "twin_bridge"),))


def twin_graph(**parameters) -> Graph:
    return Graph((NodeSpec(SIM_BRIDGE, "mujoco_twin_node", "mujoco_twin", parameters=parameters),))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measurement window per run")
    parser.add_argument("--frames", type=int, default=20, help="frames per camera and size for the camera rate")
    parser.add_argument("--domain-id", type=int, default=101 + os.getpid() % 100,
                        help="ROS domain (default: from the process id, so concurrent runs rarely share one)")
    parser.add_argument("--echo", action="store_true", help="run as the ideal echo simulator (used by the benchmark)")
    args = parser.parse_args()
    if args.echo:
        echo_simulator()
        return

    from so101_sim_bridge.twin.camera_rate import measure_camera_rate
    from so101_sim_bridge.twin.config import TWIN_CAMERAS

    runs = [
        measure("baseline: ideal echo simulator", [sys.executable, __file__, "--echo"], args.seconds, args.domain_id),
        measure("MuJoCo twin, cameras off", twin_graph(camera_rate_hz=0.0), args.seconds, args.domain_id),
        measure("MuJoCo twin, cameras 320x240 10 Hz", twin_graph(), args.seconds, args.domain_id),
    ]
    rates = [measure_camera_rate(camera, w, h, args.frames) for w, h in CAMERA_SIZES for camera in TWIN_CAMERAS]

    baseline, cameras_off, cameras_on = runs
    print(f"twin lag: follower state → twin state echo at {RATE_HZ:.0f} Hz, node processes on loopback, "
          f"{os.cpu_count()} CPUs, MUJOCO_GL={os.environ.get('MUJOCO_GL', 'osmesa')}")
    print(f"{'run':38s} {'rate Hz':>8s} {'samples':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'max ms':>7s}")
    for r in runs:
        print(f"{r.name:38s} {r.rate_hz:8.1f} {len(r.lags_s):8d} {r.ms(50):7.2f} {r.ms(99):7.2f} {r.ms(100):7.2f}")
    print(f"goal: p99 ≤ {GOAL_P99_MS:.0f} ms; MuJoCo twin (cameras on) p99 − baseline p99 = "
          f"{cameras_on.ms(99) - baseline.ms(99):.2f} ms")
    print(f"{'camera':8s} {'size':>9s} {'fps':>7s}   (rendered back to back, no ROS)")
    for rate in rates:
        print(f"{rate.camera:8s} {rate.width:4d}x{rate.height:<4d} {rate.fps:7.1f}")
    figures: dict[str, object] = {"benchmark": "twin_lag", "rate_hz": RATE_HZ, "goal_p99_ms": GOAL_P99_MS}
    for key, r in (("echo", baseline), ("twin", cameras_off), ("twin_cameras", cameras_on)):
        figures.update({
            f"{key}_samples": int(len(r.lags_s)),
            f"{key}_rate_hz": round(r.rate_hz, 1),
            f"{key}_p50_ms": round(r.ms(50), 3),
            f"{key}_p99_ms": round(r.ms(99), 3),
            f"{key}_max_ms": round(r.ms(100), 3),
        })
    figures["twin_cameras_minus_echo_p99_ms"] = round(cameras_on.ms(99) - baseline.ms(99), 3)
    figures.update({f"camera_{r.camera}_{r.width}x{r.height}_fps": round(r.fps, 2) for r in rates})
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
