"""A plausible STS3215 body: a speed- and acceleration-limited position loop, load, heat, supply.

Not a dynamics simulation. The goal is feedback a driver and a controller can be tested
against: positions that move at realistic rates instead of teleporting, a velocity and Moving
flag that agree with the motion, a load that grows with tracking error, a temperature that
creeps up under load. Everything is a pure function of the previous state and elapsed time, so
the servo can integrate lazily (only when someone looks) and tests can drive it with fake time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

ACCELERATION_UNIT_TICKS_S2 = 100.0  # Acceleration register: ~100 steps/s² per unit (docs/reference/feetech-sts.md §7)
MAX_LOAD_PERMILLE = 1000  # Present_Load is 0.1 % of full duty
_STEP_S = 0.001  # integration step; the loop stops early once the joint has settled
_TIME_EPSILON_S = 1e-9  # float residue of summed steps, not worth a step of its own


@dataclass(frozen=True)
class MotorModel:
    """Constants of the emulated motor. Defaults approximate an STS3215 at 12 V."""

    max_speed_ticks_s: float = 3000.0
    max_acceleration_ticks_s2: float = 25_500.0  # what Acceleration = 0 ("maximum") means
    load_per_error_tick: float = 10.0  # ‰ of full load per tick of tracking error
    load_per_acceleration: float = 0.02  # ‰ per tick/s² (inertia)
    ambient_c: float = 25.0
    thermal_time_constant_s: float = 600.0
    full_load_rise_c: float = 45.0  # steady-state rise above ambient at 100 % load
    supply_decivolts: int = 120
    voltage_noise_decivolts: float = 0.6
    stall_current_units: int = 415  # Present_Current (6.5 mA units) at 100 % load, ~2.7 A

    def acceleration_limit(self, register_value: int) -> float:
        """Ticks/s² allowed by an Acceleration register value (0 means the motor's maximum)."""
        if register_value == 0:
            return self.max_acceleration_ticks_s2
        return min(register_value * ACCELERATION_UNIT_TICKS_S2, self.max_acceleration_ticks_s2)

    def speed_limit(self, goal_velocity: int) -> float:
        """Ticks/s allowed by a Goal_Velocity register value (0 means the motor's maximum)."""
        if goal_velocity == 0:
            return self.max_speed_ticks_s
        return min(abs(goal_velocity), self.max_speed_ticks_s)


@dataclass(frozen=True)
class MotionState:
    """Where the output shaft is (ticks, unwrapped), how fast it turns and how it accelerates."""

    position: float
    velocity: float = 0.0
    acceleration: float = 0.0


def track(state: MotionState, target: float, max_speed: float, max_acceleration: float, dt: float) -> MotionState:
    """Advance a time-optimal (bang-bang, speed-capped) approach to `target` by `dt` seconds.

    The speed never exceeds `max_speed`, so a position can never move more than
    max_speed × dt — the property the velocity-limit tests rely on. Within one integration step
    of the target the joint lands on it and stops, which avoids discrete-time chatter. The
    returned acceleration is that of the last integration step (0 once settled), so a load
    derived from it reflects what the motor is doing now, not an average over a long gap.
    """
    position, velocity, acceleration = state.position, state.velocity, 0.0
    remaining = dt
    while remaining > _TIME_EPSILON_S:
        h = min(_STEP_S, remaining)
        remaining -= h
        error = target - position
        if error == 0.0 and velocity == 0.0:
            acceleration = 0.0
            break
        dv_max = max_acceleration * h
        # Fastest speed that can still stop in |error| when speed drops by dv_max per step of h:
        # v²/(2a) + v·h/2 = |error|. (The continuous sqrt(2a|e|) lags and ends in a hard stop.)
        braking_speed = (math.sqrt(dv_max * dv_max + 8.0 * max_acceleration * abs(error)) - dv_max) / 2.0
        desired = math.copysign(min(max_speed, braking_speed), error)
        previous = velocity
        velocity += min(max(desired - velocity, -dv_max), dv_max)
        step = velocity * h
        if error != 0.0 and step * error > 0 and abs(step) >= abs(error):
            position, velocity = target, 0.0
        else:
            position += step
        acceleration = (velocity - previous) / h
    return MotionState(position, velocity, acceleration)


def load_permille(tracking_error: float, acceleration: float, model: MotorModel) -> int:
    """Signed Present_Load: the position loop pushes harder the further behind it is."""
    load = tracking_error * model.load_per_error_tick + acceleration * model.load_per_acceleration
    return int(max(-MAX_LOAD_PERMILLE, min(MAX_LOAD_PERMILLE, round(load))))


def current_units(load: int, model: MotorModel) -> int:
    """Present_Current (6.5 mA units) drawn at a given load."""
    return round(abs(load) / MAX_LOAD_PERMILLE * model.stall_current_units)


def temperature_after(temperature_c: float, load: int, dt: float, model: MotorModel) -> float:
    """First-order thermal model: relax towards ambient + a rise proportional to |load|."""
    steady = model.ambient_c + model.full_load_rise_c * abs(load) / MAX_LOAD_PERMILLE
    return steady + (temperature_c - steady) * math.exp(-dt / model.thermal_time_constant_s)
