"""What else runs on a teleoperation PC, as a load for a benchmark's measurement (teleop_latency --load).

`twin`: the twin graph as an operator runs it to record demos, on a ROS domain of its own, one
process per node: emulated leader and follower with teleop (their processes at normal priority:
they stand in for the rest of the PC, not for the measured control path), the MuJoCo twin
rendering its cameras in software, the twin bridge, two camera nodes publishing 640x480 frames
at 30 Hz, and the recorder writing both cameras and the twin's joints at 30 Hz into Isaac Lab
HDF5 and a LeRobot dataset for the whole measurement.

`cpu`: a synthetic load, more repeatable than the twin: one process per CPU, each alternating a
copy of 16 MB (memory bandwidth, the caches flushed) with 5 ms of pure-Python work, never sleeping.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _bus_process import BusProcess  # noqa: E402
from _emulator_process import LOCAL_DISCOVERY  # noqa: E402

LOADS = ("none", "twin", "cpu")
START_TIMEOUT_S = 90.0
CONTROL_NODES = ("leader", "follower", "teleop")
FASTDDS_PROFILE = Path(__file__).resolve().parents[1] / "sim_bridge" / "config" / "fastdds_large_messages.xml"


@contextmanager
def neighbours(load: str, domain_id: int, out_dir: Path) -> Iterator[str]:
    """Run `load` ("none", "twin" or "cpu") for the duration of the block; yields a one-line description."""
    if load == "none":
        yield "none"
    elif load == "twin":
        with twin_neighbours(domain_id, out_dir) as description:
            yield description
    elif load == "cpu":
        with cpu_neighbours() as description:
            yield description
    else:
        raise ValueError(f"unknown load {load!r}; one of {', '.join(LOADS)}")


@contextmanager
def twin_neighbours(domain_id: int, out_dir: Path) -> Iterator[str]:
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from std_srvs.srv import SetBool, Trigger

    from so101_bringup.arguments import TwinArgs
    from so101_bringup.launch_graphs import twin_graph
    from so101_bringup.runner import GraphRunner
    from so101_calibration.interface_contract import RECORDER_START, RECORDER_STOP
    from so101_hardware.ros.endpoints import client
    from so101_sim_bridge.fastdds_profile import profile_environment

    graph = twin_graph(TwinArgs(emulate=True, emulator_dir=str(out_dir), cameras=True)).with_parameters([
        *((name, "realtime_priority", 0) for name in CONTROL_NODES),
        ("teleop", "engage_on_start", True),
        ("recorder", "cameras", ("wrist", "front")),  # the two 640x480 camera nodes, as well as the twin's renders
        ("recorder", "fps", 30),
        ("recorder", "keyboard", False),
        ("recorder", "hdf5_path", str(out_dir / "neighbour_demos.hdf5")),
        ("recorder", "lerobot_root", str(out_dir / "neighbour_lerobot")),
    ])
    environment = {**LOCAL_DISCOVERY, **profile_environment(FASTDDS_PROFILE)}
    with ExitStack() as stack:
        for spec in graph.emulators:
            stack.enter_context(BusProcess(spec.emulator_config(), priority=0))
        runner = GraphRunner(replace(graph, emulators=()), domain_id=domain_id,
                             processes=[node.name for node in graph.nodes], process_environment=environment)
        running = stack.enter_context(runner)
        node = Node("neighbour_control", context=running.context)
        executor = SingleThreadedExecutor(context=running.context)
        executor.add_node(node)
        threading.Thread(target=executor.spin, daemon=True).start()
        stack.callback(node.destroy_node)
        stack.callback(executor.shutdown)
        start, stop = client(node, RECORDER_START), client(node, RECORDER_STOP)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _call(start, Trigger.Request(), deadline).success:  # refused until every input arrives
            if time.monotonic() > deadline or running.exited_processes():
                raise RuntimeError(f"the neighbours' recorder did not start: {running.exited_processes()}")
            time.sleep(0.5)
        stack.callback(lambda: _call(stop, SetBool.Request(data=True), time.monotonic() + START_TIMEOUT_S))
        yield ("twin graph on its own domain: emulated teleop, MuJoCo twin rendering, two 640x480 camera "
               "nodes at 30 Hz, recorder writing both cameras at 30 Hz")


def _call(service_client, request, deadline: float):
    if not service_client.wait_for_service(timeout_sec=max(0.0, deadline - time.monotonic())):
        raise RuntimeError(f"no {service_client.srv_name} service")
    future = service_client.call_async(request)
    while not future.done():  # the executor thread completes it
        if time.monotonic() > deadline:
            raise RuntimeError(f"{service_client.srv_name} did not answer")
        time.sleep(0.05)
    return future.result()


@contextmanager
def cpu_neighbours() -> Iterator[str]:
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    workers = [context.Process(target=_burn, args=(stop,), daemon=True) for _ in range(os.cpu_count() or 1)]
    for worker in workers:
        worker.start()
    try:
        yield f"{len(workers)} busy processes (16 MB copies and pure Python, never sleeping)"
    finally:
        stop.set()
        for worker in workers:
            worker.join(10)
            if worker.is_alive():
                worker.kill()


def _burn(stop) -> None:
    source, target = np.ones(16 * 1024 * 1024, np.uint8), np.empty(16 * 1024 * 1024, np.uint8)
    while not stop.is_set():
        np.copyto(target, source)
        until = time.perf_counter() + 0.005
        while time.perf_counter() < until:
            pass
