"""What the leader and follower nodes share: connecting the arm, the bus-read timer, diagnostics.

A subclass supplies its config class and role, and one `on_tick(now)` per timer period. Bus
errors in a tick are counted by kind and logged (throttled), never fatal: the node keeps
trying, and /diagnostics shows what is failing.
"""
from __future__ import annotations

import time
from collections import Counter
from typing import ClassVar

from so101_calibration import ArmRole
from so101_hardware.connection import ArmConnectionConfig, ConnectedArm, connect_arm
from so101_hardware.errors import BusError
from so101_hardware.metrics import LatencyStats, RateMeter
from so101_hardware.ros.diagnostics import ERROR, OK, WARN, DiagnosticsReporter, Health
from so101_hardware.ros.lifecycle import So101Node

ENVIRONMENT_PERIOD_S = 1.0  # temperatures and voltages change slowly: read them once a second


class ArmNode(So101Node):
    CONFIG: ClassVar[type[ArmConnectionConfig]]
    ROLE: ClassVar[ArmRole]

    def setup(self) -> None:
        self.connected: ConnectedArm = connect_arm(self.config, self.ROLE)
        self.arm = self.connected.arm
        self.release_on_failure(self.arm.disconnect)
        self.tick_errors: Counter[str] = Counter()
        self.rate = RateMeter()
        self.read_latency = LatencyStats()
        self._environment: dict[str, object] = {}
        self._next_environment = 0.0
        self.get_logger().info(
            f"{self.ROLE.value} arm on {self.config.port}: calibration {self.config.arm_id!r}, "
            f"{self.connected.configure_writes} setting(s) written, {self.config.rate_hz:.0f} Hz"
        )
        self.diagnostics = DiagnosticsReporter(self, self.config.port, self.health)

    def start_timer(self) -> None:
        self.timer = self.create_timer(1.0 / self.config.rate_hz, self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        self.rate.tick(now)
        try:
            self.on_tick(now)
            if now >= self._next_environment:
                self._next_environment = now + ENVIRONMENT_PERIOD_S
                self._read_environment()
        except BusError as exc:
            self.tick_errors[type(exc).__name__] += 1
            self.get_logger().warning(f"bus error: {exc}", throttle_duration_sec=1.0)

    def on_tick(self, now: float) -> None:
        raise NotImplementedError

    def _read_environment(self) -> None:
        values = self.arm.bus.sync_read_span(["Present_Voltage", "Present_Temperature"], self.arm.ids)
        self._environment = {
            f"{name}_{key}": value
            for name, motor_id in zip(self.arm.names, self.arm.ids)
            for key, value in (
                ("voltage_v", values[motor_id]["Present_Voltage"] / 10),
                ("temperature_c", values[motor_id]["Present_Temperature"]),
            )
        }

    def extra_health(self) -> dict[str, object]:
        return {}

    def health(self) -> Health:
        bus = self.arm.bus
        values: dict[str, object] = {"rate_hz": self.rate.rate_hz, **self.read_latency.summary("bus_read")}
        values.update(bus.stats.as_dict())
        values.update({f"tick_error_{k}": v for k, v in self.tick_errors.items()})
        values.update({f"servo_error_motor_{mid}": bits.describe() for mid, bits in bus.servo_errors.items()})
        values.update(self._environment)
        values.update(self.extra_health())
        if not bus.is_open:
            return Health(ERROR, "serial port lost: replug the arm and restart the node", values)
        if bus.servo_errors or self.tick_errors:
            return Health(WARN, "bus or servo errors (see values)", values)
        return Health(OK, "ok", values)
