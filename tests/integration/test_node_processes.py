"""Nodes as `ros2 run`/`ros2 launch` start them: own process, stopped by SIGINT or SIGTERM.

The stop path is where hardware is made safe, so it is tested on a real process against an
emulated bus: the follower must exit 0 and leave every servo with torque off.
"""
import os
import signal
import subprocess
import sys

import pytest

from so101_calibration.interface_contract import FOLLOWER_JOINT_STATES
from so101_hardware.ros.endpoints import subscription
from tests_support.rig import write_emulated_calibration
from tests_support.ros import LOCAL_DISCOVERY, domain_for_this_process, ros_context, spin_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_follower_process_stops_cleanly_and_releases_torque(make_emulator, tmp_path, stop_signal):
    calibration = write_emulated_calibration(tmp_path / "follower.json")
    emu = make_emulator(calibration=str(calibration), uart_timing=True)
    domain = domain_for_this_process(offset=23)
    env = {**os.environ, **LOCAL_DISCOVERY, "ROS_DOMAIN_ID": str(domain)}
    process = subprocess.Popen(
        [sys.executable, "-m", "so101_hardware.nodes.follower_node", "--ros-args",
         "-p", f"port:={emu.port}", "-p", "arm_id:=follower", "-p", f"calibration:={calibration}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        with ros_context(domain) as context:
            import rclpy
            from rclpy.executors import SingleThreadedExecutor

            node = rclpy.create_node("probe", context=context)
            states = []
            subscription(node, FOLLOWER_JOINT_STATES, states.append)
            executor = SingleThreadedExecutor(context=context)
            executor.add_node(node)
            assert spin_until(executor, lambda: len(states) >= 10, 30), "the follower never published"
            executor.shutdown()
            node.destroy_node()
        assert all(emu.servo(i).read_register("Torque_Enable") == 1 for i in range(1, 7))
        process.send_signal(stop_signal)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "Traceback" not in output
    assert all(emu.servo(i).read_register("Torque_Enable") == 0 for i in range(1, 7)), "torque released on stop"


def test_a_node_that_cannot_start_says_why_in_one_line(tmp_path):
    env = {**os.environ, "ROS_DOMAIN_ID": str(domain_for_this_process(offset=24))}
    result = subprocess.run(
        [sys.executable, "-m", "so101_hardware.nodes.follower_node", "--ros-args",
         "-p", f"port:={tmp_path / 'ttyACM9'}", "-p", "arm_id:=nobody", "-p", f"calibration:={tmp_path}"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "nobody" in result.stderr and "CalibrationNotFound" in result.stderr
