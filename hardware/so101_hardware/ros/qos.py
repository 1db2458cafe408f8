"""The interface contract's QoS specs (so101_calibration.interface_contract) as rclpy profiles."""
from __future__ import annotations

import functools

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from so101_calibration.interface_contract import QosSpec

_RELIABILITY = {"reliable": ReliabilityPolicy.RELIABLE, "best_effort": ReliabilityPolicy.BEST_EFFORT}
_DURABILITY = {"volatile": DurabilityPolicy.VOLATILE, "transient_local": DurabilityPolicy.TRANSIENT_LOCAL}


@functools.cache
def qos_profile(spec: QosSpec) -> QoSProfile:
    """Keep-last `spec.depth`, with the spec's reliability and durability."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=spec.depth,
        reliability=_RELIABILITY[spec.reliability],
        durability=_DURABILITY[spec.durability],
    )
