"""The recorder node driven from its terminal, as an operator does: B starts, N saves, R fails, Ctrl-C quits.

The node runs as its own process on a real pseudo-terminal (pexpect), on this test's ROS domain;
the test process publishes the follower's states, the commands and a camera at their real rates.
What the operator sees (the live status line, the answers to keys) is what the test waits for.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time

import numpy as np
import pexpect
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

from so101_bringup.share import config_path
from so101_calibration import JOINT_NAMES
from so101_calibration.interface_contract import CAMERA_IMAGE, FOLLOWER_JOINT_COMMANDS, FOLLOWER_JOINT_STATES
from so101_hardware.ros.endpoints import publisher
from so101_hardware.ros.images import image_message
from so101_hardware.ros.joint_states import joint_state
from so101_sim_bridge.recorder import read_hdf5_demos
from tests_support.ros import domain_for_this_process

TIMEOUT_S = 60.0


class FollowerAndCamera:
    """follower/joint_states and follower/joint_commands at 100 Hz, cameras/wrist/image_raw at 30 Hz."""

    def __init__(self, context):
        self.node = Node("rig", context=context)
        self.states = publisher(self.node, FOLLOWER_JOINT_STATES)
        self.commands = publisher(self.node, FOLLOWER_JOINT_COMMANDS)
        self.images = publisher(self.node, CAMERA_IMAGE, name=CAMERA_IMAGE.format(name="wrist"))
        self.ticks = 0
        self.node.create_timer(0.01, self.tick)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def tick(self) -> None:
        now = time.time()
        pose = np.full(6, 0.001 * self.ticks)
        self.states.publish(joint_state(JOINT_NAMES, pose, now))
        self.commands.publish(joint_state(JOINT_NAMES, pose, now))
        if self.ticks % 3 == 0:
            image = np.full((48, 64, 3), self.ticks % 250, np.uint8)
            self.images.publish(image_message(image, now, "wrist_camera"))
        self.ticks += 1

    def close(self) -> None:
        self.executor.shutdown()
        self.thread.join()
        self.node.destroy_node()


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_keys_record_a_success_and_a_failure_with_a_live_status_line(ros, tmp_path):
    hdf5_path, lerobot_root = tmp_path / "demos.hdf5", tmp_path / "lerobot"
    parameters = {
        "hdf5_path": hdf5_path, "lerobot_root": lerobot_root, "cameras": "[wrist]", "fps": 10,
        "instruction": "wave", "arm_id": "emulated_follower", "calibration": config_path("calibration"),
    }
    arguments = ["-m", "so101_sim_bridge.nodes.recorder_node", "--ros-args"]
    arguments += [arg for name, value in parameters.items() for arg in ("-p", f"{name}:={value}")]
    env = {**os.environ, "ROS_DOMAIN_ID": str(domain_for_this_process())}
    operator = pexpect.spawn(sys.executable, arguments, env=env, timeout=TIMEOUT_S, encoding="utf-8",
                             dimensions=(24, 160))
    rig = FollowerAndCamera(ros)
    try:
        operator.expect("keys: B start, N stop \\(success\\), R stop \\(failure\\)")
        operator.expect_exact("idle  (0 saved, 0 failed)  [B record]")  # every input arrives

        operator.send("b")
        operator.expect_exact("recording episode 1: 'wave'")
        operator.expect(r"● REC episode 1  00:\d\d\.\d  [1-9]\d+ frames  \d+ dropped")  # ten frames and counting
        operator.send("n")
        operator.expect(r"episode 1 \(success\): (\d+) steps, \d+ dropped, \d+ late → data/demo_0, episode_0")
        first_steps = int(operator.match.group(1))
        operator.expect_exact("idle  (1 saved, 0 failed)  [B record]")

        operator.send("B")
        operator.expect(r"● REC episode 2  00:\d\d\.\d  [3-9] frames")
        operator.send("r")
        operator.expect(r"episode 2 \(failure\): \d+ steps, .* → data/demo_1")
        operator.expect_exact("idle  (1 saved, 1 failed)  [B record]")

        operator.send("b")
        operator.expect(r"● REC episode 3  00:\d\d\.\d  [3-9] frames")
        operator.sendintr()  # Ctrl-C mid-episode (it works in cbreak mode): the episode is kept, and said so
        operator.expect(r"recording interrupted by shutdown: episode 3 \(failure\): \d+ steps.* → data/demo_2; "
                        r"saved as a failed episode \(success=false\)")
        operator.expect(pexpect.EOF)
        operator.close()
        assert operator.exitstatus == 0
    finally:
        rig.close()
        if operator.isalive():
            operator.terminate(force=True)

    demos = read_hdf5_demos(hdf5_path).demos
    assert [demo.success for demo in demos] == [True, False, False]
    rows = first_steps - 1  # the last step is the last row's post-step state (isaaclab_layout.py)
    assert demos[0].num_samples == rows and demos[0].images["wrist"].shape == (rows, 48, 64, 3)
    info = json.loads((lerobot_root / "meta" / "info.json").read_text())
    assert (info["total_episodes"], info["total_frames"]) == (1, first_steps)
