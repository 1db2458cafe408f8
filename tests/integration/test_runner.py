"""The teleop graph started in-process on emulated arms (`so101 run teleop --emulate`), on real rclpy.

Each test process uses a ROS domain of its own (from its pid: xdist workers are processes), so
parallel workers, other suites and a developer's ROS graph on domain 0 never see each other.
Waiting is on conditions with timeouts (futures completed by subscriptions), never on sleeps.
"""
import os
import signal
import sys
import time

import pexpect
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.task import Future

from so101_bringup.arguments import TeleopArgs
from so101_bringup.launch_graphs import teleop_graph
from so101_bringup.runner import GraphRunError, GraphRunner, GraphStartError
from so101_calibration import JOINT_NAMES, MOTOR_IDS
from so101_calibration.interface_contract import CAMERA_IMAGE, FOLLOWER_JOINT_STATES, LEADER_JOINT_STATES, Topic
from so101_hardware.realtime import RealtimeParameters
from so101_hardware.ros.endpoints import subscription
from tests_support.ros import domain_for_this_process
from tests_support.scheduling import fifo_permitted, thread_policies

TIMEOUT_S = 30.0


def domain_id() -> int:
    return domain_for_this_process(offset=11)


def first_messages(node: Node, topic: Topic, count: int, name: str | None = None) -> Future:
    """A future completed with the first `count` messages on `topic` (or on `name`, of that topic's type)."""
    future, received = Future(), []

    def on_message(msg) -> None:
        received.append(msg)
        if len(received) == count and not future.done():
            future.set_result(list(received))

    subscription(node, topic, on_message, name=name)
    return future


def spin_until(executor, futures, timeout_s=TIMEOUT_S) -> None:
    for future in futures:
        executor.spin_until_future_complete(future, timeout_sec=timeout_s)
        assert future.done(), "timed out waiting for messages"


def torque_enabled(emulator) -> list[int]:
    return [emulator.servo(motor_id).read_register("Torque_Enable") for motor_id in MOTOR_IDS]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_emulated_teleop_graph_publishes_and_stops_with_torque_off(tmp_path):
    graph = teleop_graph(TeleopArgs(emulate=True, emulator_dir=str(tmp_path), uart_timing=False))
    graph = graph.with_parameters([("follower", "max_velocity_rad_s", 2.5)])  # as `--set` does
    with GraphRunner(graph, domain_id=domain_id()) as running:
        follower_bus = running.emulator("follower")
        probe = Node("probe", context=running.context)
        executor = SingleThreadedExecutor(context=running.context)
        executor.add_node(probe)
        states = first_messages(probe, FOLLOWER_JOINT_STATES, 10)
        leader = first_messages(probe, LEADER_JOINT_STATES, 10)
        wrist = first_messages(probe, CAMERA_IMAGE, 2, name=CAMERA_IMAGE.format(name="wrist"))
        spin_until(executor, [states, leader, wrist])
        executor.shutdown()
        probe.destroy_node()

        assert list(states.result()[-1].name) == list(JOINT_NAMES)
        assert wrist.result()[-1].encoding == "rgb8"
        assert torque_enabled(follower_bus) == [1] * len(MOTOR_IDS)
        follower = running.node("follower")
        assert follower.get_parameter("arm_id").value == "emulated_follower"  # explicit, from the emulate graph
        assert follower.get_parameter("max_velocity_rad_s").value == 2.5  # the override, as `--set` gives it
        assert running.node("camera_wrist").get_parameter("device").value == "/dev/so101_cam_wrist"  # cameras.yaml
    assert torque_enabled(follower_bus) == [0] * len(MOTOR_IDS), "destroying the follower node released torque"
    assert list(tmp_path.iterdir()) == [], "the emulated buses removed their links"


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_node_that_cannot_start_stops_what_was_started(tmp_path):
    graph = teleop_graph(TeleopArgs(emulate=True, emulator_dir=str(tmp_path), uart_timing=False, cameras=False))
    graph = graph.with_parameters([("follower", "port", str(tmp_path / "unplugged"))])
    runner = GraphRunner(graph, domain_id=domain_id())
    expected = r"node /follower \(so101_hardware/follower_node\) did not start: .*unplugged"
    with pytest.raises(GraphStartError, match=expected):
        runner.start()
    assert list(tmp_path.iterdir()) == [], "the emulators started before the failure were stopped"
    assert not runner.context.ok()


@pytest.mark.slow
@pytest.mark.timeout(90)
@pytest.mark.parametrize("node_processes", [False, True])
def test_so101_run_stops_cleanly_on_ctrl_c(tmp_path, node_processes):
    """With --node-processes the follower has a process of its own, as under ros2 launch, and says which
    scheduling that process got."""
    command = [
        sys.executable, "-m", "so101_bringup.cli", "run", "follower", "--emulate", "--no-uart-timing",
        "--emulator-dir", str(tmp_path), "--domain-id", str(domain_id()),
        *(["--node-processes"] if node_processes else []),
    ]
    child = pexpect.spawn(command[0], command[1:], timeout=TIMEOUT_S, encoding="utf-8")
    expected = ["Ctrl-C to stop"] + ([r"\[follower\]: SCHED_FIFO priority 50 (on \d+ thread|not permitted)"]
                                      if node_processes else [])
    while expected:  # in whichever order the runner and the node process print them
        del expected[child.expect(expected)]
    child.kill(signal.SIGINT)
    child.expect("so101 run follower: stopped")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_node_run_as_a_process_gets_its_parameters_and_stops_with_torque_off(tmp_path):
    graph = teleop_graph(TeleopArgs(emulate=True, emulator_dir=str(tmp_path), uart_timing=False, cameras=False))
    graph = graph.with_parameters([("follower", "rate_hz", 50.0)])
    with GraphRunner(graph, domain_id=domain_id(), processes=["follower"]) as running:
        follower_bus = running.emulator("follower")
        probe = Node("probe", context=running.context)
        executor = SingleThreadedExecutor(context=running.context)
        executor.add_node(probe)
        states = first_messages(probe, FOLLOWER_JOINT_STATES, 60)
        spin_until(executor, [states])
        executor.shutdown()
        probe.destroy_node()
        stamps = [s.header.stamp.sec + s.header.stamp.nanosec * 1e-9 for s in states.result()[10:]]
        period = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
        assert 0.015 < period < 0.03, f"rate_hz:=50 from the command line, not follower.yaml's 100 ({period:.4f} s)"
        assert torque_enabled(follower_bus) == [1] * len(MOTOR_IDS)
        wanted = (os.SCHED_FIFO, RealtimeParameters.realtime_priority) if fifo_permitted() else (os.SCHED_OTHER, 0)
        policies = thread_policies(running.process_id("follower"))
        assert set(policies.values()) == {wanted}, f"every thread of the follower's process: {policies}"
        with pytest.raises(KeyError):
            running.node("follower")  # a process, not an object here
        assert running.exited_processes() == {}
    assert torque_enabled(follower_bus) == [0] * len(MOTOR_IDS), "SIGINT: the follower process released torque"


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_node_process_that_dies_is_reported_when_the_graph_stops(tmp_path):
    graph = teleop_graph(TeleopArgs(emulate=True, emulator_dir=str(tmp_path), uart_timing=False, cameras=False))
    graph = graph.with_parameters([("follower", "port", str(tmp_path / "unplugged"))])
    runner = GraphRunner(graph, domain_id=domain_id(), processes=["follower"]).start()
    deadline = time.monotonic() + 30
    while not runner.exited_processes() and time.monotonic() < deadline:
        runner.wait(0.1)  # polling the child's exit status
    assert runner.exited_processes() == {"/follower": 1}
    with pytest.raises(GraphRunError, match="exited while the graph ran"):
        runner.stop()
