"""Follower node: the only writer of the follower's Goal_Position, through the safety filter.

Subscribes follower/joint_commands (radians, by joint name), publishes follower/joint_states
(position rad, velocity rad/s, effort = load in % of max torque), offers follower/estop
(SetBool: true latches the e-stop, false clears it). Torque is enabled only after a valid
position read, holding that pose, and never while a servo reports an error; at shutdown torque is
released unless told otherwise.

A fault (a brown-out, a servo error bit, torque lost, the serial port lost) latches the follower
off (so101_hardware.follower): it is logged as an error, /diagnostics reports ERROR with the
reason, follower/fault carries it (teleop disengages on it), and only follower/reenable (Trigger),
the operator's call, brings torque back.
"""
from __future__ import annotations

import sys
import time

from sensor_msgs.msg import JointState
from std_msgs.msg import String
from std_srvs.srv import SetBool, Trigger

from so101_calibration import JOINT_NAMES, ArmRole
from so101_calibration.interface_contract import (
    FOLLOWER_ESTOP,
    FOLLOWER_FAULT,
    FOLLOWER_JOINT_COMMANDS,
    FOLLOWER_JOINT_STATES,
    FOLLOWER_REENABLE,
)
from so101_hardware.errors import BusError
from so101_hardware.follower import FollowerConfig, FollowerController
from so101_hardware.nodes.arm_node import ArmNode
from so101_hardware.ros.diagnostics import ERROR, Health
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
        present = self.controller.start()  # a failed read or a servo error leaves torque off, then we let go
        self.get_logger().info(f"torque on, holding the present pose {present.round(3).tolist()} rad")
        self.publisher = publisher(self, FOLLOWER_JOINT_STATES)
        self.faults = publisher(self, FOLLOWER_FAULT)
        self.faults.publish(String(data=""))
        self._published_fault: str | None = None
        subscription(self, FOLLOWER_JOINT_COMMANDS, self.on_command)
        service(self, FOLLOWER_ESTOP, self.on_estop)
        service(self, FOLLOWER_REENABLE, self.on_reenable)
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
            try:
                self.controller.act_now(now)
            except BusError as exc:  # the port failed under this write: the next tick finds out and latches
                self.get_logger().warning(f"command not written: {exc}", throttle_duration_sec=1.0)

    def on_estop(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        try:
            self.controller.estop(request.data)
        except BusError as exc:  # clearing re-enables torque the e-stop released: that can fail
            response.success, response.message = False, f"e-stop cleared, torque not re-enabled: {exc}"
            self.get_logger().error(response.message)
            return response
        fault = self.controller.fault
        response.success = True
        if request.data:
            done = "torque released" if self.config.estop_releases_torque else "holding"
            response.message = f"e-stop engaged: {done}"
        else:
            response.message = "e-stop cleared"
        if fault is not None:
            response.message += f"; the follower stays latched off by a fault ({fault}): call {FOLLOWER_REENABLE.name}"
        self.get_logger().warning(response.message)
        return response

    def on_reenable(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        was = self.controller.fault
        if not self.arm.bus.is_open:
            response.success = False
            response.message = (f"not re-enabled: {self.config.port} is still lost (reopened every second); "
                                "call again once the arm is back")
            return response
        try:
            present = self.controller.reenable()
        except BusError as exc:
            response.success, response.message = False, f"not re-enabled: {exc}"
            self.get_logger().error(response.message)
        else:
            response.success = True
            response.message = f"torque on, holding the present pose {present.round(3).tolist()} rad"
            self.get_logger().warning(f"re-enabled by the operator (was: {was or 'no fault'}): {response.message}")
        self._publish_fault()
        return response

    def on_tick(self, now: float) -> None:
        tick = self.controller.tick(now)
        self.read_latency.add(tick.state.read_monotonic - now)
        self.publisher.publish(
            joint_state(JOINT_NAMES, tick.positions, tick.state.read_wall, tick.velocities, tick.loads_percent)
        )
        self._publish_fault()

    def on_port_lost(self, reason: str) -> None:
        self.controller.latch(f"serial port lost: {reason}")
        self._publish_fault()

    def reconnected_note(self) -> str:
        return f"; the follower stays latched off until {FOLLOWER_REENABLE.name}"

    def _publish_fault(self) -> None:
        """follower/fault on every change, and the fault logged once when it appears."""
        fault = self.controller.fault
        if fault == self._published_fault:
            return
        if fault is not None:
            self.get_logger().error(
                f"follower latched off: {fault.rstrip('.')}. No goal is written; torque comes back only through "
                f"{FOLLOWER_REENABLE.name}"
            )
        self._published_fault = fault
        self.faults.publish(String(data=fault or ""))

    def extra_health(self) -> dict[str, object]:
        return {
            "estop": self.controller.estopped,
            "fault": self.controller.fault or "",
            "gripper_backed_off": self.controller.grasp.tripped,
            **{f"safety_{k}": v for k, v in self.controller.counters.items()},
        }

    def health(self) -> Health:
        health = super().health()
        fault = self.controller.fault
        if fault is not None:
            return Health(ERROR, f"latched off: {fault} (call {FOLLOWER_REENABLE.name})", health.values)
        if self.controller.estopped and health.level != ERROR:
            health.message = "e-stop engaged"
        return health

    def destroy_node(self) -> None:
        self.controller.shutdown()
        super().destroy_node()


main = node_main(FollowerNode)

if __name__ == "__main__":
    sys.exit(main())
