"""/diagnostics at 1 Hz for every so101 node, built from the message package alone.

`diagnostic_updater` is not on PyPI (docs/architecture.md §5), so this is the small part of it we
need: one DiagnosticStatus per node, its values a flat dict the node's logic already keeps
(rates, latencies, bus errors by kind, safety counters, temperatures).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node

from so101_calibration.interface_contract import DIAGNOSTICS
from so101_hardware.ros.endpoints import publisher

OK, WARN, ERROR, STALE = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR, DiagnosticStatus.STALE


@dataclass
class Health:
    """What a node reports: a level, one line for the operator, and the figures behind it."""

    level: bytes = OK
    message: str = "ok"
    values: dict[str, object] = field(default_factory=dict)


def _format(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def status_message(name: str, hardware_id: str, health: Health) -> DiagnosticStatus:
    return DiagnosticStatus(
        level=health.level,
        name=name,
        message=health.message,
        hardware_id=hardware_id,
        values=[KeyValue(key=k, value=_format(v)) for k, v in health.values.items()],
    )


class DiagnosticsReporter:
    """Publishes `collect()` on /diagnostics every `period_s` from the node's own timer."""

    def __init__(self, node: Node, hardware_id: str, collect: Callable[[], Health], period_s: float = 1.0):
        self._node = node
        self._hardware_id = hardware_id
        self._collect = collect
        self._publisher = publisher(node, DIAGNOSTICS)
        self._timer = node.create_timer(period_s, self.publish)

    def publish(self) -> None:
        array = DiagnosticArray()
        array.header.stamp = self._node.get_clock().now().to_msg()
        name = self._node.get_fully_qualified_name().lstrip("/")
        array.status = [status_message(name, self._hardware_id, self._collect())]
        self._publisher.publish(array)
