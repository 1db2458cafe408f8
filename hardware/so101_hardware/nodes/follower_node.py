"""Follower node: the only writer of the follower's Goal_Position, through the safety filter.

Subscribes follower/joint_commands (radians, by joint name), publishes follower/joint_states
(position rad, velocity rad/s, effort = load in % of max torque), offers follower/estop
(SetBool: true latches the e-stop, false clears it). Torque is enabled only after a valid
position read, holding that pose; at shutdown torque is released unless told otherwise.
"""
from __future__ import annotations

import sys
import time

from sensor_msgs.msg import JointState
from std_srvs.srv import SetBool

from so101_calibration import JOINT_NAMES, ArmRole
from so101_calibration.interface_contract import FOLLOWER_ESTOP, FOLLOWER_JOINT_COMMANDS, FOLLOWER_JOINT_STATES
from so101_hardware.follower import FollowerConfig, FollowerController
from so101_hardware.nodes.arm_node import ArmNode
from so101_hardware.ros.diagnostics import ERROR
from so101_hardware.ros.endpoints import publisher, service, subscription
from so101_hardware.ros.joint_states import MalformedJointState, joint_state, positions_by_name
from so101_hardware.ros.lifecycle import node_main


class FollowerNode(ArmNode):
    DEFAULT_NAME = "follower"
    CONFIG = FollowerConfig
    ROLE = ArmRole.FOLLOWER

    def setup(self) -> None:
        super().setup()
        self.controller = FollowerController(self.arm, self.connected.units, self.config)
        present = self.controller.start()  # a failed read leaves torque off, then we let go
        self.get_logger().info(f"torque on, holding the present pose {present.round(3).tolist()} rad")
        self.publisher = publisher(self, FOLLOWER_JOINT_STATES)
        subscription(self, FOLLOWER_JOINT_COMMANDS, self.on_command)
        service(self, FOLLOWER_ESTOP, self.on_estop)
        self.start_timer()

    def on_command(self, msg: JointState) -> None:
        try:
            positions = positions_by_name(msg, JOINT_NAMES)
        except MalformedJointState as exc:
            self.controller.count("rejected_malformed")
            self.get_logger().warning(f"command rejected: {exc}", throttle_duration_sec=1.0)
            return
        now = time.monotonic()
        if self.controller.submit(positions, now):
            self.controller.act_now(now)

    def on_estop(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        self.controller.estop(request.data)
        response.success = True
        response.message = "e-stop engaged: holding" if request.data else "e-stop cleared"
        if request.data and self.config.estop_releases_torque:
            response.message = "e-stop engaged: torque released"
        self.get_logger().warning(response.message)
        return response

    def on_tick(self, now: float) -> None:
        tick = self.controller.tick(now)
        self.read_latency.add(tick.state.read_monotonic - now)
        self.publisher.publish(
            joint_state(JOINT_NAMES, tick.positions, tick.state.read_wall, tick.velocities, tick.loads_percent)
        )

    def extra_health(self) -> dict[str, object]:
        return {"estop": self.controller.estopped, **{f"safety_{k}": v for k, v in self.controller.counters.items()}}

    def health(self):
        health = super().health()
        if self.controller.estopped and health.level != ERROR:
            health.message = "e-stop engaged"
        return health

    def destroy_node(self) -> None:
        self.controller.shutdown()
        super().destroy_node()


main = node_main(FollowerNode)

if __name__ == "__main__":
    sys.exit(main())
