"""Benchmark: teleop latency from the leader's bus read to the follower's Goal_Position write, quiet and loaded.

Run as `python benchmarks/teleop_latency.py [--load twin|cpu|none]`. Two emulated SO-101 buses at
1 Mbps with UART timing stand in for the hardware, each in a process of its own on SCHED_FIFO
above the control path where permitted (_bus_process.py: they answer on time whatever the load,
as servos do), and their record of every goal is the ground truth. Measured in the same run, first
on the machine as it is, then with the neighbours of --load running (_neighbours.py: `twin`, the
twin graph recording two cameras on a domain of its own; `cpu`, a synthetic load):
  - through ROS: the teleop graph's leader_node, teleop_node and follower_node, one process each
    (as `ros2 launch` runs them) at --rate on a ROS domain of their own, with their default
    scheduling (SCHED_FIFO 50 where permitted: so101_hardware.realtime; --realtime-priority 0 runs
    them with normal scheduling, for comparison);
  - the floor: a direct loop without ROS (sync read leader → sync write follower) in a process of
    its own with the same scheduling.
The leader's shoulder_pan steps one tick every half period through a triangle wave while
wrist_roll counts its half-waves, so every read carries a (pan, roll) pair no other read carries;
each sample runs from the first read carrying a pair (when the leader's servos sent it, from the
emulator's record of the positions they reported) to that pair landing on the follower's servos
(its goal log): the hardware's side alone, nothing subscribes beside the nodes. Rate: distinct
reads landing per second; lost: reads that never landed (a newer command overtook them); errors: the
direct loop's cycles whose read or write failed. Goals (issue 18): under load ≥ 199 Hz, p99 ≤ 2 bus cycles
+ 2 ms, max ≤ 20 ms, ROS p99 within 3 ms of the direct loop's. Prints a table, then one JSON line.
"""
from __future__ import annotations

import argparse
import bisect
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _bus_process import BusProcess, Staircase  # noqa: E402
from _emulator_process import LOCAL_DISCOVERY  # noqa: E402
from _neighbours import LOADS, neighbours  # noqa: E402

from so101_calibration import ArmRole
from so101_hardware.realtime import DEFAULT_PRIORITY

REST = {1: 2048, 2: 2048, 3: 2048, 4: 2048, 5: 2048, 6: 2700}
PAN, ROLL = 1, 5
PAN_LOW, PAN_HIGH = 1700, 2300
"""The triangle wave's ends, far inside every limit."""
WARMUP_S = 1.5
START_TIMEOUT_S = 30.0
GOAL_RATE_HZ = 199.0
GOAL_MAX_MS = 20.0
GOAL_ROS_MINUS_DIRECT_MS = 3.0


@dataclass
class Result:
    name: str
    latencies_s: np.ndarray
    rate_hz: float
    unmatched: int
    scheduling: str
    hardware: str
    cycle_s: np.ndarray | None = None
    bus_errors: int | None = None
    """Cycles whose read or write failed (the direct loop's; the nodes count theirs on /diagnostics)."""

    def ms(self, q: float) -> float:
        return float(np.percentile(self.latencies_s, q) * 1e3) if len(self.latencies_s) else float("nan")


def staircase(rate_hz: float) -> Staircase:
    """Two steps per read (every read differs); a (pan, roll) pair recurs after 200 half-waves (10 min at 200 Hz)."""
    return Staircase(REST, PAN_LOW, PAN_HIGH, step_s=0.5 / rate_hz, wave=PAN, counter=ROLL)


def latencies(reads: list[tuple[int, int, float]], landings: dict[tuple[int, int], list[float]]) -> tuple[np.ndarray, int]:
    """Per (pan, roll) pair read: its first landing after the first read carrying it; and how many never landed."""
    samples, unmatched, previous = [], 0, None
    for pan, roll, t in reads:
        if (pan, roll) == previous:
            continue
        previous = (pan, roll)
        times = landings.get((pan, roll), [])
        i = bisect.bisect_left(times, t)
        if i < len(times):
            samples.append(times[i] - t)
        else:
            unmatched += 1
    return np.array(samples), unmatched


def landed_rate(landings: dict[tuple[int, int], list[float]], start: float, end: float) -> float:
    """Distinct leader reads landing on the follower per second between start and end (monotonic): the rate
    the follower mirrors the leader at, from the bus's own record (a subscriber at normal priority falls
    behind under load and would undercount)."""
    return sum(start <= times[0] <= end for times in landings.values()) / (end - start)


def pan_roll_pairs(records: list[tuple[float, int, int]]) -> Iterator[tuple[int, int, float, float]]:
    """(pan, roll, pan's time, roll's time) of each packet in a bus record of (time, motor id, ticks): a sync
    read's replies and a sync write's goals follow each other in motor order, so a pan record and the roll
    record after it belong to one packet."""
    pan: tuple[float, int] | None = None
    for t, motor, ticks in records:
        if motor == PAN:
            pan = (t, ticks)
        elif motor == ROLL and pan is not None:
            yield pan[1], ticks, pan[0], t
            pan = None


def reads_of(leader: BusProcess, start: float, end: float) -> list[tuple[int, int, float]]:
    """(pan, roll, when) of each read of the leader between start and end (monotonic), from the positions its
    servos reported; a read is complete when roll's reply went out."""
    return [(pan, roll, t) for pan, roll, _, t in pan_roll_pairs(leader.positions()) if start <= t <= end]


def landings_of(follower: BusProcess) -> dict[tuple[int, int], list[float]]:
    """(pan, roll) → when a sync write landed that pair: when its pan landed (roll's record follows in the packet)."""
    landed: dict[tuple[int, int], list[float]] = defaultdict(list)
    for pan, roll, t, _ in pan_roll_pairs(follower.goals()):
        landed[(pan, roll)].append(t)
    return landed


def bus_processes(graph) -> tuple[BusProcess, BusProcess]:
    """The graph's emulated leader and follower buses, each served by a process of its own."""
    specs = {spec.role: spec for spec in graph.emulators}
    leader = BusProcess(specs["leader"].emulator_config())
    try:
        follower = BusProcess(specs["follower"].emulator_config())
    except BaseException:
        leader.close()
        raise
    return leader, follower


def teleop_graph_for(rate_hz: float, emulator_dir: str, priority: int):
    from so101_bringup.arguments import TeleopArgs
    from so101_bringup.launch_graphs import teleop_graph

    args = TeleopArgs(emulate=True, emulator_dir=emulator_dir, cameras=False, leader_rate_hz=rate_hz,
                      follower_rate_hz=rate_hz)
    return (teleop_graph(args).with_emulator("leader", initial_positions=REST)
            .with_emulator("follower", initial_positions=REST)
            .with_parameters([("teleop", "engage_on_start", True), ("teleop", "engage_min_duration_s", 0.2),
                              *((name, "realtime_priority", priority) for name in ("leader", "teleop", "follower"))]))


def direct_loop(seconds: float, rate_hz: float, priority: int, label: str) -> Result:
    """The floor: one process reads the leader and writes the follower, nothing in between."""
    with tempfile.TemporaryDirectory(prefix="so101-bench-") as tmp:
        graph = teleop_graph_for(rate_hz, tmp, priority)
        leader, follower = bus_processes(graph)
        try:
            context = multiprocessing.get_context("spawn")
            receive, send = context.Pipe(duplex=False)
            loop = context.Process(target=_direct_child, args=(leader.port, follower.port, seconds, rate_hz, priority, send))
            loop.start()
            send.close()  # only the child holds its end now: its death ends recv() with EOFError
            ready = receive.recv()  # connected, torque on: the staircase may start
            leader.play(staircase(rate_hz))
            cycles, bus_errors, start, end = receive.recv()
            loop.join()
            leader.hold()
            reads, landings = reads_of(leader, start, end), landings_of(follower)
            samples, unmatched = latencies(reads, landings)
        finally:
            follower.close()
            leader.close()
    return Result(f"direct loop, no ROS ({label})", samples, landed_rate(landings, start, end), unmatched, ready,
                  leader.scheduling, np.array(cycles), bus_errors)


def _direct_child(leader_port: str, follower_port: str, seconds: float, rate_hz: float, priority: int, send) -> None:
    from so101_hardware.arm import SO101Arm
    from so101_hardware.bus import BusConfig, FeetechBus
    from so101_hardware.errors import BusError
    from so101_hardware.realtime import apply_to_process

    leader = SO101Arm(FeetechBus(BusConfig(leader_port)), ArmRole.LEADER)
    follower = SO101Arm(FeetechBus(BusConfig(follower_port)), ArmRole.FOLLOWER)
    leader.connect()
    follower.connect()
    follower.enable_torque()
    send.send(apply_to_process(priority).message)  # as a control node's process gets
    cycles, bus_errors = [], 0
    try:
        period, start = 1.0 / rate_hz, time.monotonic()
        next_tick = start + WARMUP_S
        time.sleep(WARMUP_S)  # the staircase starts meanwhile
        measured_from = time.monotonic()
        while time.monotonic() - measured_from < seconds:
            t0 = time.monotonic()
            try:
                state = leader.read_state()
                follower.write_goal_positions(state.positions)
            except BusError:  # a starved loop misses its replies: counted, as the nodes count theirs
                bus_errors += 1
            else:
                cycles.append(time.monotonic() - t0)
            next_tick += period
            time.sleep(max(0.0, next_tick - time.monotonic()))  # pacing, not synchronisation
        measured_to = time.monotonic()
    finally:
        follower.disconnect()
        leader.disconnect()
    send.send((cycles, bus_errors, measured_from, measured_to))


def ros_pipeline(seconds: float, rate_hz: float, domain_id: int, priority: int, label: str) -> Result:
    """The teleop graph's leader, teleop and follower nodes, each its own process, run by the graph runner
    as `ros2 launch` runs them; the emulated buses are processes of their own, and their records are the
    measurement (nothing subscribes beside the nodes)."""
    from so101_bringup.runner import GraphRunner

    with tempfile.TemporaryDirectory(prefix="so101-bench-") as tmp:
        graph = teleop_graph_for(rate_hz, tmp, priority)
        leader, follower = bus_processes(graph)
        try:
            runner = GraphRunner(replace(graph, emulators=()), domain_id=domain_id,
                                 processes=[node.name for node in graph.nodes], process_environment=LOCAL_DISCOVERY)
            with runner as running:
                deadline = time.monotonic() + START_TIMEOUT_S
                while leader.counts()[1] < 300 or follower.counts()[0] < 300:  # nodes are other processes: poll
                    if time.monotonic() > deadline or running.exited_processes():
                        raise RuntimeError(f"the teleop nodes did not come up: {running.exited_processes()}")
                    time.sleep(0.05)
                leader.play(staircase(rate_hz))
                time.sleep(WARMUP_S)  # teleop's engage ramp ends; the staircase is under way
                start = time.monotonic()
                time.sleep(seconds)  # the measurement window
                end = time.monotonic()
                leader.hold()
            reads, landings = reads_of(leader, start, end), landings_of(follower)
        finally:
            follower.close()
            leader.close()
    samples, unmatched = latencies(reads, landings)
    return Result(f"through ROS, 3 node processes ({label})", samples, landed_rate(landings, start, end), unmatched,
                  f"realtime_priority {priority}", leader.scheduling)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=32.0,
                        help="measurement window per pipeline and phase (32 s: > 6,000 samples at 200 Hz)")
    parser.add_argument("--rate", type=float, default=200.0, help="leader and follower rate, Hz")
    parser.add_argument("--load", choices=LOADS, default="twin", help="the neighbours of the loaded phase")
    parser.add_argument("--realtime-priority", type=int, default=DEFAULT_PRIORITY,
                        help="SCHED_FIFO priority of the control nodes and the direct loop, where permitted "
                             "(their default; 0: normal scheduling, for comparison)")
    parser.add_argument("--domain-id", type=int, default=77, help="the pipeline's ROS domain; the neighbours take the next")
    args = parser.parse_args()

    priority = args.realtime_priority
    direct = direct_loop(args.seconds, args.rate, priority, "quiet")
    ros = ros_pipeline(args.seconds, args.rate, args.domain_id, priority, "quiet")
    results = [direct, ros]
    load_description = "none"
    loaded_direct = loaded_ros = None
    if args.load != "none":
        with tempfile.TemporaryDirectory(prefix="so101-bench-load-") as tmp, \
                neighbours(args.load, args.domain_id + 1, Path(tmp)) as load_description:
            loaded_direct = direct_loop(args.seconds, args.rate, priority, f"{args.load} load")
            loaded_ros = ros_pipeline(args.seconds, args.rate, args.domain_id, priority, f"{args.load} load")
        results += [loaded_direct, loaded_ros]
    bus_cycle_ms = float(np.median(direct.cycle_s) * 1e3)
    budget_ms = 2 * bus_cycle_ms + 2.0

    print(f"teleop latency, leader bus read → follower Goal_Position, emulated 1 Mbps buses, {args.rate:.0f} Hz, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"load: {load_description}")
    print(f"emulated bus processes: {direct.hardware}")
    print(f"direct loop process: {direct.scheduling}")
    print(f"{'pipeline':44s} {'rate Hz':>8s} {'samples':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'max ms':>7s} {'lost':>5s} "
          f"{'errors':>6s}")
    for r in results:
        print(f"{r.name:44s} {r.rate_hz:8.1f} {len(r.latencies_s):8d} {r.ms(50):7.2f} {r.ms(99):7.2f} "
              f"{r.ms(100):7.2f} {r.unmatched:5d} {'-' if r.bus_errors is None else r.bus_errors:>6}")
    print(f"bus cycle (direct loop p50): {bus_cycle_ms:.2f} ms → p99 budget 2 cycles + 2 ms = {budget_ms:.2f} ms")
    if loaded_ros and loaded_direct:
        checks = {
            f"rate ≥ {GOAL_RATE_HZ:.0f} Hz": loaded_ros.rate_hz >= GOAL_RATE_HZ,
            f"p99 ≤ {budget_ms:.2f} ms": loaded_ros.ms(99) <= budget_ms,
            f"max ≤ {GOAL_MAX_MS:.0f} ms": loaded_ros.ms(100) <= GOAL_MAX_MS,
            f"p99 within {GOAL_ROS_MINUS_DIRECT_MS:.0f} ms of the direct loop's":
                loaded_ros.ms(99) - loaded_direct.ms(99) <= GOAL_ROS_MINUS_DIRECT_MS,
        }
        print("goals under load, through ROS: " + ", ".join(f"{name} {'met' if ok else 'MISSED'}"
                                                          for name, ok in checks.items()))
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
        "load": args.load,
        "loaded_ros_rate_hz": round(loaded_ros.rate_hz, 1) if loaded_ros else None,
        "loaded_ros_samples": int(len(loaded_ros.latencies_s)) if loaded_ros else None,
        "loaded_ros_p50_ms": round(loaded_ros.ms(50), 3) if loaded_ros else None,
        "loaded_ros_p99_ms": round(loaded_ros.ms(99), 3) if loaded_ros else None,
        "loaded_ros_max_ms": round(loaded_ros.ms(100), 3) if loaded_ros else None,
        "loaded_direct_rate_hz": round(loaded_direct.rate_hz, 1) if loaded_direct else None,
        "loaded_direct_p99_ms": round(loaded_direct.ms(99), 3) if loaded_direct else None,
        "loaded_direct_max_ms": round(loaded_direct.ms(100), 3) if loaded_direct else None,
        "loaded_direct_bus_errors": loaded_direct.bus_errors if loaded_direct else None,
        "loaded_ros_minus_direct_p99_ms": (round(loaded_ros.ms(99) - loaded_direct.ms(99), 3)
                                           if loaded_ros and loaded_direct else None),
        "realtime": direct.scheduling.startswith("SCHED_FIFO"),
        "realtime_priority": priority,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
