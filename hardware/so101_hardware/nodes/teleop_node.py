"""Teleop node: leader/joint_states → follower/joint_commands, engaged by teleop/engage (SetBool).

With a command mux (the deploy graph with takeover) the commands go to teleop/joint_commands
instead (`command_topic`), and the mux decides when they reach the follower.

Each fresh leader sample is mapped and published at once while mirroring (lowest latency); a
timer at rate_hz drives the engage ramp. Engaging needs a follower state to start the ramp from.
When the follower latches off on a fault (follower/fault), teleop disengages and refuses to
engage until the follower has been re-enabled: it never claims to mirror a limp arm, and the
operator engages again, with a ramp, once torque is back.
"""
from __future__ import annotations

import sys
import time

import numpy as np
from sensor_msgs.msg import JointState
from std_msgs.msg import String
from std_srvs.srv import SetBool

from so101_calibration import JOINT_NAMES
from so101_calibration.interface_contract import (
    FOLLOWER_FAULT,
    FOLLOWER_JOINT_COMMANDS,
    FOLLOWER_JOINT_STATES,
    LEADER_JOINT_STATES,
    TELEOP_ENGAGE,
)
from so101_hardware.metrics import LatencyStats, RateMeter
from so101_hardware.ros.diagnostics import OK, WARN, DiagnosticsReporter, Health
from so101_hardware.ros.endpoints import publisher, service, subscription
from so101_hardware.ros.joint_states import JointStateIntake, joint_state
from so101_hardware.ros.lifecycle import So101Node, node_main
from so101_hardware.ros.stamps import seconds_from_stamp
from so101_hardware.teleop import TeleopConfig, TeleopMapper, TeleopState


class TeleopNode(So101Node):
    DEFAULT_NAME = "teleop"
    CONFIG = TeleopConfig

    def setup(self) -> None:
        self.mapper = TeleopMapper(self.config)
        self.follower_present: np.ndarray | None = None
        self.follower_fault = ""
        self.intake = JointStateIntake(self.get_logger(), JOINT_NAMES)
        self.command_rate = RateMeter()
        self.latency = LatencyStats()  # leader bus read → command published
        self.commands = publisher(self, FOLLOWER_JOINT_COMMANDS, name=self.config.command_topic)
        subscription(self, LEADER_JOINT_STATES, self.on_leader)
        subscription(self, FOLLOWER_JOINT_STATES, self.on_follower)
        subscription(self, FOLLOWER_FAULT, self.on_follower_fault)
        service(self, TELEOP_ENGAGE, self.on_engage)
        self.create_timer(1.0 / self.config.rate_hz, self.on_timer)
        self.diagnostics = DiagnosticsReporter(self, "teleop", self.health)

    def on_leader(self, msg: JointState) -> None:
        positions = self.intake.positions(msg)
        if positions is None:
            return
        stamp = seconds_from_stamp(msg.header.stamp)
        command = self.mapper.on_leader(positions, stamp, time.time())
        if command is not None:
            self.publish(command, stamp)

    def on_follower(self, msg: JointState) -> None:
        positions = self.intake.positions(msg)
        if positions is not None:
            self.follower_present = positions
            never_engaged = self.mapper.counters["engages"] == 0
            if (self.config.engage_on_start and never_engaged and self.mapper.state is TeleopState.DISENGAGED
                    and not self.follower_fault):
                self.engage()

    def on_follower_fault(self, msg: String) -> None:
        self.follower_fault = msg.data
        if msg.data and self.mapper.state is not TeleopState.DISENGAGED:
            self.mapper.disengage()
            self.get_logger().error(
                f"disengaged: the follower is latched off ({msg.data}); engage again once re-enabled"
            )

    def on_timer(self) -> None:
        command = self.mapper.tick(time.time())
        if command is not None:
            self.publish(command, None)

    def engage(self) -> str | None:
        """Start the engage ramp; returns why it cannot, or None."""
        if self.follower_fault:
            return f"the follower is latched off ({self.follower_fault}): re-enable it first"
        if self.follower_present is None:
            return f"no {FOLLOWER_JOINT_STATES.name} yet"
        if not self.mapper.engage(self.follower_present, time.time()):
            return f"no fresh {LEADER_JOINT_STATES.name}"
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
            "rejected_messages": self.intake.rejected,
            **self.mapper.counters,
            **self.latency.summary("leader_to_command"),
        }
        fresh = self.mapper.fresh(time.time())
        if self.follower_fault:
            return Health(WARN, f"disengaged: the follower is latched off ({self.follower_fault})", values)
        if self.mapper.state is not TeleopState.DISENGAGED and not fresh:
            return Health(WARN, "leader data stale: follower holds", values)
        return Health(OK, self.mapper.state.value, values)


main = node_main(TeleopNode)


if __name__ == "__main__":
    sys.exit(main())
