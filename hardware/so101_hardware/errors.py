"""Typed bus errors that name the port, motor and register, and say what to do.

Operators hit these at the robot (LeRobot's "There is no status packet!" is the most reported
SO-101 problem), so every message carries the likely causes, not just the symptom.
"""
from __future__ import annotations

from so101_hardware.sts_protocol import ServoErrorBits


class BusError(Exception):
    """Base of every servo-bus failure."""


class PortError(BusError):
    """The serial port cannot be used (missing, busy, no permission, not a servo bus)."""


class BaudRateError(PortError):
    """The serial driver cannot set this baud rate on this port."""


class BusCollisionError(BusError):
    """Several servos answered as one: corrupted or duplicate replies to a broadcast."""


def _where(motor_id: int, register: str | None, motor_name: str | None) -> str:
    who = f"motor {motor_id}" + (f" ({motor_name})" if motor_name else "")
    return f"{who}, register {register}" if register else who


class MotorError(BusError):
    """A failure that concerns one motor (and usually one register)."""

    def __init__(self, motor_id: int, register: str | None, detail: str, motor_name: str | None = None):
        self.motor_id = motor_id
        self.register = register
        self.motor_name = motor_name
        super().__init__(f"{_where(motor_id, register, motor_name)}: {detail}")


class NoStatusPacketError(MotorError):
    """The motor did not answer within the timeout, after every retry."""

    def __init__(self, motor_id: int, register: str | None, attempts: int, timeout_s: float, motor_name: str | None = None):
        self.attempts = attempts
        super().__init__(
            motor_id,
            register,
            f"no status packet after {attempts} attempt(s) of {timeout_s * 1000:.0f} ms. "
            "Check that the motor is powered and daisy-chained, that its id and the bus baud rate are "
            "right (so101-scan lists what answers), and the cable.",
            motor_name,
        )


class ChecksumError(MotorError):
    """Replies arrived but failed their checksum on every attempt (noise, loose cable, wrong baud)."""

    def __init__(self, motor_id: int, register: str | None, attempts: int, motor_name: str | None = None):
        self.attempts = attempts
        super().__init__(
            motor_id,
            register,
            f"bad checksum on {attempts} attempt(s): electrical noise, a loose connector or a baud mismatch.",
            motor_name,
        )


ERROR_ADVICE = {
    ServoErrorBits.OVERLOAD: "the joint is blocked or overloaded; free it, then disable and re-enable torque",
    ServoErrorBits.OVERHEAT: "let the servo cool down",
    ServoErrorBits.VOLTAGE: "check the power supply voltage (STS3215: 6-12.6 V)",
    ServoErrorBits.ANGLE: "the magnetic encoder reports a fault",
    ServoErrorBits.OVERCURRENT: "current protection tripped; check for a stall or short",
}
"""What to do about each error bit a servo reports."""


def error_advice(bits: ServoErrorBits) -> str:
    return "; ".join(text for bit, text in ERROR_ADVICE.items() if bit in bits)


class ServoStatusError(MotorError):
    """The servo answered with error bits set (overload, overheat, voltage, angle, over-current)."""

    def __init__(self, motor_id: int, register: str | None, bits: ServoErrorBits, motor_name: str | None = None):
        self.bits = bits
        super().__init__(motor_id, register, f"servo reports {bits.describe()} error: {error_advice(bits)}", motor_name)


class MissingMotorsError(BusError):
    """Expected motors did not answer a ping (e.g. on connect)."""

    def __init__(self, port: str, missing: dict[int, str], found: dict[int, int], baudrate: int, diagnosis: str = ""):
        self.missing = missing
        self.found = found
        names = ", ".join(f"{mid} ({name})" for mid, name in missing.items())
        seen = ", ".join(str(mid) for mid in sorted(found)) or "none"
        if found:
            advice = (
                "Check power and the daisy-chain cable to those motors; a motor with a factory id of 1 "
                "needs `so101-setup-motors` first."
            )
        else:
            advice = (
                f"No motor answered at {baudrate} baud: is the arm's power supply on, and is this the arm's port? "
                f"A bus at another baud rate stays silent too: `so101-scan --port {port} --baud all` tries every rate."
            )
        super().__init__(
            f"{port}: motor(s) {names} did not answer (ids that answered: {seen}). "
            + " ".join(filter(None, (diagnosis, advice)))
        )


class ServoFaultError(BusError):
    """Servos report error bits, so torque is not enabled (docs/architecture.md §6)."""

    def __init__(self, port: str, errors: dict[int, ServoErrorBits], names: dict[int, str], action: str):
        self.errors = dict(errors)
        super().__init__(f"{port}: {describe_servo_errors(errors, names)}: {action}")


def describe_servo_errors(errors: dict[int, ServoErrorBits], names: dict[int, str]) -> str:
    """'motor 4 (wrist_flex) reports overload (the joint is blocked ...)', one clause per motor."""
    return "; ".join(
        f"{_where(mid, None, names.get(mid))} reports {bits.describe()} ({error_advice(bits)})"
        for mid, bits in sorted(errors.items())
    )


class WrongModelError(BusError):
    """A motor answered with a model number other than the STS3215's."""
