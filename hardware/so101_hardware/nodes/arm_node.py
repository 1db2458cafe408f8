"""What the leader and follower nodes share: connecting the arm, the bus-read timer, diagnostics.

A subclass supplies its config class and role, and one `on_tick(now)` per timer period. Bus
errors in a tick are counted by kind and logged (throttled), never fatal: the node keeps
trying, and /diagnostics shows what is failing, at WARN for RECENT_ERROR_S after the last error
(a transient error does not leave the node at WARN for good). A lost serial port (the USB cable
pulled) is said once; the node then tries to reopen it every RECONNECT_PERIOD_S and says so
once it is back (the follower stays latched off until the operator re-enables it).
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
RECENT_ERROR_S = 5.0
"""/diagnostics stays at WARN this long after a bus error, then returns to OK (the counts remain)."""
RECONNECT_PERIOD_S = 1.0


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
        self._last_error: tuple[float, str] | None = None  # (when, what) of the newest tick error
        self._port_lost: str | None = None
        self._next_reconnect = 0.0
        self.get_logger().info(
            f"{self.ROLE.value} arm on {self.config.port}: calibration {self.config.arm_id!r}, "
            f"{self.connected.configure_writes} setting(s) written, {self.config.rate_hz:.0f} Hz"
        )
        self.diagnostics = DiagnosticsReporter(self, self.config.port, self.health)

    def start_timer(self) -> None:
        self.timer = self.create_timer(1.0 / self.config.rate_hz, self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        if not self.arm.bus.is_open:
            self._reconnect(now)
            return
        self.rate.tick(now)
        try:
            self.on_tick(now)
            if now >= self._next_environment:
                self._next_environment = now + ENVIRONMENT_PERIOD_S
                self._read_environment()
        except BusError as exc:
            self.tick_errors[type(exc).__name__] += 1
            self._last_error = (now, str(exc))
            if self.arm.bus.is_open:
                self.get_logger().warning(f"bus error: {exc}", throttle_duration_sec=1.0)
            else:  # the driver closed the port: the adapter is gone
                self._port_lost = str(exc)
                self._next_reconnect = now + RECONNECT_PERIOD_S
                self.get_logger().error(f"{exc} Retrying every {RECONNECT_PERIOD_S:.0f} s.")
                self.on_port_lost(self._port_lost)

    def _reconnect(self, now: float) -> None:
        if now < self._next_reconnect:
            return
        self._next_reconnect = now + RECONNECT_PERIOD_S
        try:
            self.arm.bus.open()
        except BusError:
            return  # still gone: said once already
        self._port_lost = None
        self.get_logger().info(f"serial port {self.config.port} is back{self.reconnected_note()}")

    def on_tick(self, now: float) -> None:
        raise NotImplementedError

    def on_port_lost(self, reason: str) -> None:
        """The serial port failed mid-run (the follower latches off here)."""

    def reconnected_note(self) -> str:
        """Appended to the log line saying the port is back."""
        return ""

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
            return Health(ERROR, f"serial port lost ({self._port_lost}): replug the arm; reconnecting", values)
        if bus.servo_errors:
            return Health(WARN, "servo error bits (see values)", values)
        if self._last_error is not None and time.monotonic() - self._last_error[0] < RECENT_ERROR_S:
            return Health(WARN, f"bus error: {self._last_error[1]}", values)
        return Health(OK, "ok", values)
