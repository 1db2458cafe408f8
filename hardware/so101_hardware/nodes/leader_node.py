"""Leader node: reads the leader bus at rate_hz and publishes leader/joint_states (radians).

Torque stays off: the operator back-drives the leader. The stamp is the time the bus reply
arrived, so consumers can judge staleness from the data itself.
"""
from __future__ import annotations

import sys

from sensor_msgs.msg import JointState

from so101_calibration import JOINT_NAMES, ArmRole
from so101_hardware.leader import LeaderConfig, LeaderReader
from so101_hardware.nodes.arm_node import ArmNode
from so101_hardware.nodes.messages import joint_state
from so101_hardware.nodes.qos import STATE_QOS
from so101_hardware.nodes.runtime import run_node


class LeaderNode(ArmNode):
    CONFIG = LeaderConfig
    ROLE = ArmRole.LEADER

    def __init__(self, **node_kwargs):
        super().__init__("leader", **node_kwargs)
        self.reader = LeaderReader(self.arm, self.connected.units)
        self.publisher = self.create_publisher(JointState, "leader/joint_states", STATE_QOS)
        self.start_timer()

    def on_tick(self, now: float) -> None:
        sample = self.reader.read()
        self.read_latency.add(sample.read_monotonic - now)
        self.publisher.publish(joint_state(JOINT_NAMES, sample.positions, sample.read_wall, sample.velocities))

    def destroy_node(self) -> None:
        self.arm.disconnect(disable_torque=True)
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_node(LeaderNode, args)


if __name__ == "__main__":
    sys.exit(main())
