"""The rerun node on real rclpy: its server on 127.0.0.1 only, stopped with it; bad input counted on /diagnostics.

What it logs is checked value by value in tests/unit/bringup/test_visualization.py (read back from
a recording) and end to end, in the web viewer, by test_rerun_viewer.py.
"""
import os
import signal
import subprocess
import sys
import time

import pytest
from builtin_interfaces.msg import Duration
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import Image
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from so101_bringup.launch_graphs import rerun_graph
from so101_bringup.runner import GraphRunner, GraphStartError
from so101_calibration import JOINT_NAMES
from so101_calibration.interface_contract import CAMERA_IMAGE, DIAGNOSTICS, FOLLOWER_JOINT_STATES, POLICY_CHUNK
from so101_hardware.ros.endpoints import publisher, subscription
from so101_hardware.ros.joint_states import joint_state
from tests_support.net import free_ports, listening_addresses
from tests_support.ros import domain_for_this_process, spin_until

TIMEOUT_S = 20.0


def test_the_server_listens_on_localhost_only_and_its_ports_are_free_after_stop(ros):
    grpc_port, web_port = free_ports(2)
    with GraphRunner(rerun_graph(grpc_port=grpc_port, web_port=web_port), context=ros) as running:
        assert listening_addresses(grpc_port) == {"127.0.0.1"}
        assert listening_addresses(web_port) == {"127.0.0.1"}
        assert running.node("rerun").server.viewer_url == (
            f"http://127.0.0.1:{web_port}/?url=rerun%2Bhttp://127.0.0.1:{grpc_port}/proxy"
        )
    assert listening_addresses(grpc_port) == listening_addresses(web_port) == set()


def test_a_port_in_use_stops_the_start_with_what_to_do(ros):
    grpc_port, web_port = free_ports(2)
    with GraphRunner(rerun_graph(grpc_port=grpc_port, web_port=web_port), context=ros):
        second = GraphRunner(rerun_graph("second", grpc_port=grpc_port, web_port=web_port), context=ros)
        with pytest.raises(GraphStartError, match=rf"\[{grpc_port}, {web_port}\] .* already in use .*grpc_port"):
            second.start()


def test_malformed_messages_are_skipped_counted_and_reported(ros):
    grpc_port, web_port = free_ports(2)
    graph = rerun_graph(image_topics=(CAMERA_IMAGE.format(name="wrist"),), grpc_port=grpc_port, web_port=web_port)
    with GraphRunner(graph, context=ros) as running:
        viewer = running.node("rerun")
        node = Node("publisher", context=ros)
        executor = SingleThreadedExecutor(context=ros)
        executor.add_node(node)
        reports: list = []
        subscription(node, DIAGNOSTICS, lambda m: reports.extend(s for s in m.status if s.name == "rerun"))
        states = publisher(node, FOLLOWER_JOINT_STATES)
        images = publisher(node, CAMERA_IMAGE, name=CAMERA_IMAGE.format(name="wrist"))
        chunks = publisher(node, POLICY_CHUNK)

        def every_kind_counted() -> bool:
            """Publish one bad message of each kind until the node has counted all three (it reads best effort)."""
            if len(viewer.malformed) == 3:
                return True
            states.publish(joint_state(JOINT_NAMES[:5], [0.0] * 5, 1.0))  # no gripper
            images.publish(Image(height=1, width=1, step=1, encoding="mono8", data=[0]))
            chunks.publish(JointTrajectory(joint_names=list(JOINT_NAMES), points=[
                JointTrajectoryPoint(positions=[0.0] * 5, time_from_start=Duration(sec=0, nanosec=10))]))
            return False

        assert spin_until(executor, every_kind_counted, TIMEOUT_S)
        assert viewer.logged["follower"] == viewer.logged["images"] == viewer.logged["chunks"] == 0
        assert spin_until(executor, lambda: any(s.values and s.level == b"\x01" for s in reports), TIMEOUT_S)
        report = [s for s in reports if s.level == b"\x01"][-1]
        values = {kv.key: int(kv.value) for kv in report.values if kv.key.startswith("malformed_")}
        assert set(values) == {"malformed_joint_states", "malformed_images", "malformed_chunks"}
        assert min(values.values()) >= 1
        assert "malformed messages ignored" in report.message
        executor.shutdown()
        node.destroy_node()


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_as_its_own_process_sigint_stops_node_and_server_and_a_busy_port_is_one_line(tmp_path):
    grpc_port, web_port = free_ports(2)
    env = {**os.environ, "ROS_DOMAIN_ID": str(domain_for_this_process(offset=31))}
    command = [sys.executable, "-m", "so101_bringup.nodes.rerun_node", "--ros-args",
               "-p", f"grpc_port:={grpc_port}", "-p", f"web_port:={web_port}"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not listening_addresses(web_port) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert listening_addresses(grpc_port) == listening_addresses(web_port) == {"127.0.0.1"}
        busy = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
        assert busy.returncode == 1
        assert f"[so101] NodeStartError: node rerun: port(s) [{grpc_port}, {web_port}]" in busy.stderr
        assert "Traceback" not in busy.stderr
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "rerun web viewer: http://127.0.0.1:" in output
    assert listening_addresses(grpc_port) == listening_addresses(web_port) == set()  # the server went with it
