"""Teleop node: leader/joint_states → follower/joint_commands, engaged by teleop/engage (SetBool).

Each fresh leader sample is mapped and published at once while mirroring (lowest latency); a
timer at rate_hz drives the engage ramp. Engaging needs a follower state to start the ramp from.
"""
from __future__ import annotations

import sys
import time

import numpy as np
from sensor_msgs.msg import JointState
from std_srvs.srv import SetBool
from rclpy.node import Node

from so101_calibration import JOINT_NAMES
from so101_hardware.metrics import LatencyStats, RateMeter
from so101_hardware.nodes.diagnostics import OK, WARN, DiagnosticsReporter, Health
from so101_hardware.nodes.messages import MalformedJointState, joint_state, positions_by_name, seconds_from_stamp
from so101_hardware.nodes.params import declare_config
from so101_hardware.nodes.qos import COMMAND_QOS, STATE_QOS
from so101_hardware.nodes.runtime import run_node
from so101_hardware.teleop import TeleopConfig, TeleopMapper, TeleopState


class TeleopNode(Node):
    def __init__(self, **node_kwargs):
        super().__init__(node_kwargs.pop("node_name", "teleop"), **node_kwargs)
        self.config = declare_config(self, TeleopConfig)
        self.mapper = TeleopMapper(self.config)
        self.follower_present: np.ndarray | None = None
        self.rejected = 0
        self.command_rate = RateMeter()
        self.latency = LatencyStats()  # leader bus read → command published
        self.commands = self.create_publisher(JointState, "follower/joint_commands", COMMAND_QOS)
        self.create_subscription(JointState, "leader/joint_states", self.on_leader, STATE_QOS)
        self.create_subscription(JointState, "follower/joint_states", self.on_follower, STATE_QOS)
        self.create_service(SetBool, "teleop/engage", self.on_engage)
        self.create_timer(1.0 / self.config.rate_hz, self.on_timer)
        self.diagnostics = DiagnosticsReporter(self, "teleop", self.health)

    def _read(self, msg: JointState) -> np.ndarray | None:
        try:
            return positions_by_name(msg, JOINT_NAMES)
        except MalformedJointState as exc:
            self.rejected += 1
            self.get_logger().warning(f"joint state ignored: {exc}", throttle_duration_sec=1.0)
            return None

    def on_leader(self, msg: JointState) -> None:
        positions = self._read(msg)
        if positions is None:
            return
        stamp = seconds_from_stamp(msg.header.stamp)
        command = self.mapper.on_leader(positions, stamp, time.time())
        if command is not None:
            self.publish(command, stamp)

    def on_follower(self, msg: JointState) -> None:
        positions = self._read(msg)
        if positions is not None:
            self.follower_present = positions
            never_engaged = self.mapper.counters["engages"] == 0
            if self.config.engage_on_start and never_engaged and self.mapper.state is TeleopState.DISENGAGED:
                self.engage()

    def on_timer(self) -> None:
        command = self.mapper.tick(time.time())
        if command is not None:
            self.publish(command, None)

    def engage(self) -> str | None:
        """Start the engage ramp; returns why it cannot, or None."""
        if self.follower_present is None:
            return "no follower/joint_states yet"
        if not self.mapper.engage(self.follower_present, time.time()):
            return "no fresh leader/joint_states"
        self.get_logger().info(f"engaged: ramping the follower to the leader in {self.mapper.ramp_duration_s:.1f} s")
        return None

    def on_engage(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        if request.data:
            refusal = self.engage()
            response.success = refusal is None
            response.message = refusal or f"ramping to the leader in {self.mapper.ramp_duration_s:.1f} s"
        else:
            self.mapper.disengage()
            response.success, response.message = True, "disengaged: the follower holds"
        return response

    def publish(self, command: np.ndarray, leader_stamp: float | None) -> None:
        now = time.time()
        self.commands.publish(joint_state(JOINT_NAMES, command, now))
        self.command_rate.tick(time.monotonic())
        if leader_stamp is not None:
            self.latency.add(now - leader_stamp)

    def health(self) -> Health:
        values: dict[str, object] = {
            "state": self.mapper.state.value,
            "command_rate_hz": self.command_rate.rate_hz,
            "rejected_messages": self.rejected,
            **self.mapper.counters,
            **self.latency.summary("leader_to_command"),
        }
        fresh = self.mapper.fresh(time.time())
        if self.mapper.state is not TeleopState.DISENGAGED and not fresh:
            return Health(WARN, "leader data stale: follower holds", values)
        return Health(OK, self.mapper.state.value, values)


def main(args: list[str] | None = None) -> int:
    return run_node(TeleopNode, args)


if __name__ == "__main__":
    sys.exit(main())
