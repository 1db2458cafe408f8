"""Follower physics: speed/acceleration-limited tracking, torque off, load, heat, supply."""
from __future__ import annotations

import itertools
import time

import pytest

from so101_hardware.emulator import MotorModel
from so101_hardware.emulator.physics import MotionState, load_permille, temperature_after, track
from so101_hardware.sts_protocol import ServoErrorBits

pytestmark = pytest.mark.timeout(30)

MODEL = MotorModel()


# --- the pure motion law -------------------------------------------------------------------------


def test_track_reaches_the_target_and_stops():
    state = track(MotionState(0.0), 1000.0, 3000.0, 25_500.0, 2.0)
    assert (state.position, state.velocity) == (1000.0, 0.0)


@pytest.mark.parametrize("acceleration", [100.0, 2540.0, 25_500.0])
def test_track_never_exceeds_speed_or_acceleration(acceleration):
    state, dt = MotionState(0.0), 0.01
    for _ in range(300):
        after = track(state, 3000.0, 1500.0, acceleration, dt)
        assert abs(after.velocity) <= 1500.0 + 1e-9
        assert abs(after.position - state.position) <= 1500.0 * dt + 1e-9
        # plus one 1 ms integration step: landing on the target stops the last few ticks/s at once
        assert abs(after.velocity - state.velocity) <= acceleration * (dt + 0.001) + 1e-6
        state = after


def test_track_in_one_long_step_equals_many_short_ones():
    one = track(MotionState(0.0), 500.0, 3000.0, 5000.0, 0.2)
    many = MotionState(0.0)
    for _ in range(20):
        many = track(many, 500.0, 3000.0, 5000.0, 0.01)
    assert one.position == pytest.approx(many.position, abs=1e-6)


def test_acceleration_register_units():
    assert MODEL.acceleration_limit(0) == MODEL.max_acceleration_ticks_s2
    assert MODEL.acceleration_limit(10) == 1000.0
    assert MODEL.speed_limit(0) == MODEL.max_speed_ticks_s
    assert MODEL.speed_limit(-500) == 500


def test_load_grows_with_tracking_error_and_saturates():
    assert load_permille(0.0, 0.0, MODEL) == 0
    assert 0 < load_permille(10.0, 0.0, MODEL) < load_permille(50.0, 0.0, MODEL) <= 1000
    assert load_permille(-1e6, 0.0, MODEL) == -1000


def test_temperature_rises_under_load_and_relaxes_without():
    hot = temperature_after(MODEL.ambient_c, 1000, 300.0, MODEL)
    assert MODEL.ambient_c < hot < MODEL.ambient_c + MODEL.full_load_rise_c
    assert temperature_after(hot, 0, 300.0, MODEL) < hot


# --- a servo on the bench (fake clock) -----------------------------------------------------------


def test_torque_off_means_no_motion(bench_servo):
    bench = bench_servo(2048)
    bench.servo.write_register("Goal_Position", 3000)
    bench.clock.advance(10.0)
    assert bench.servo.actual_position == 2048
    assert bench.servo.read_register("Present_Velocity") == 0


def test_torque_on_tracks_with_limited_speed_and_reports_motion(bench_servo):
    bench = bench_servo(1000)
    servo = bench.servo
    servo.write_register("Torque_Enable", 1)
    servo.write_register("Goal_Position", 3000)
    bench.clock.advance(0.2)
    assert 1000 < servo.actual_position <= 1000 + MODEL.max_speed_ticks_s * 0.2
    assert servo.read_register("Present_Velocity") > 0 and servo.read_register("Moving") == 1
    assert servo.read_register("Present_Load") > 0 and servo.read_register("Present_Current") > 0
    bench.clock.advance(2.0)
    assert servo.actual_position == 3000
    assert (servo.read_register("Present_Velocity"), servo.read_register("Moving")) == (0, 0)
    assert servo.read_register("Present_Load") == 0


def test_acceleration_register_slows_the_start(bench_servo):
    slow, fast = bench_servo(1000), bench_servo(1000)
    for bench, acceleration in ((slow, 10), (fast, 0)):
        bench.servo.write_register("Acceleration", acceleration)
        bench.servo.write_register("Torque_Enable", 1)
        bench.servo.write_register("Goal_Position", 3000)
        bench.clock.advance(0.1)
    # 1000 ticks/s² for 0.1 s covers 5 ticks; the maximum acceleration covers far more
    assert slow.servo.actual_position == pytest.approx(1005, abs=1)
    assert fast.servo.actual_position > 1100


def test_overload_with_unloading_enabled_cuts_torque(bench_servo):
    bench = bench_servo(1000)
    bench.servo.write_register("Torque_Enable", 1)
    bench.servo.write_register("Goal_Position", 2000)
    bench.error_bits = ServoErrorBits.OVERLOAD
    bench.clock.advance(1.0)
    assert bench.servo.actual_position == 1000
    assert bench.servo.read_register("Status") == ServoErrorBits.OVERLOAD


def test_a_stall_stops_the_shaft_and_sustained_load_trips_the_overload_protection(bench_servo):
    bench = bench_servo(2500)
    servo = bench.servo
    bench.stall = 2000  # an object the joint closes on
    servo.write_register("Torque_Enable", 1)
    servo.write_register("Goal_Position", 1500)
    protection_s = servo.read_register("Protection_Time") * 0.01  # 2 s by default
    for _ in range(round(protection_s / 0.1) - 2):
        bench.clock.advance(0.1)
        assert servo.read_register("Status") == 0
    assert servo.actual_position == 2000
    assert servo.read_register("Present_Load") <= -servo.read_register("Overload_Torque") * 10  # pushing down
    for _ in range(4):
        bench.clock.advance(0.1)
        servo.read_register("Status")
    assert servo.read_register("Status") == ServoErrorBits.OVERLOAD
    assert servo.read_register("Present_Load") == 0  # the protection cut the torque
    bench.stall = None
    bench.clock.advance(1.0)
    assert servo.actual_position == 2000  # still limp: the trip holds until torque is re-enabled
    servo.write_register("Torque_Enable", 1)
    bench.clock.advance(1.0)
    assert servo.read_register("Status") == 0 and servo.actual_position == 1500


def test_a_stall_blocks_only_the_side_it_faces(bench_servo):
    bench = bench_servo(2500)
    bench.stall = 2000
    bench.servo.write_register("Torque_Enable", 1)
    bench.servo.write_register("Goal_Position", 3000)  # away from the obstacle: free
    bench.clock.advance(1.0)
    assert bench.servo.actual_position == 3000


def test_power_cycle_resets_ram_and_clears_a_tripped_protection(bench_servo):
    bench = bench_servo(2500)
    servo = bench.servo
    bench.stall = 2000
    for name, value in (("Acceleration", 254), ("Torque_Enable", 1), ("Goal_Position", 1000)):
        servo.write_register(name, value)
    bench.clock.advance(5.0)
    assert servo.read_register("Status") == ServoErrorBits.OVERLOAD
    servo.power_cycle()
    assert [servo.read_register(n) for n in ("Torque_Enable", "Acceleration", "Status")] == [0, 0, 0]
    assert servo.read_register("Goal_Position") == servo.read_register("Present_Position")


def test_supply_and_temperature_registers_are_plausible(bench_servo):
    servo = bench_servo().servo
    voltages = {servo.read_register("Present_Voltage") for _ in range(50)}
    assert all(115 <= v <= 125 for v in voltages) and len(voltages) > 1
    assert servo.read_register("Present_Temperature") == round(MODEL.ambient_c)


# --- through the emulator, in real time ----------------------------------------------------------


def test_follower_converges_without_exceeding_max_speed(make_emulator):
    emu = make_emulator(initial_positions={1: 500})
    servo = emu.servo(1)
    servo.write_register("Torque_Enable", 1)
    servo.write_register("Goal_Position", 3500)
    samples: list[tuple[float, int, float]] = []  # (time before, position, time after)

    def converged() -> bool:
        samples.append((time.monotonic(), servo.actual_position, time.monotonic()))
        return samples[-1][1] == 3500

    assert emu.wait_until(converged, 5)
    assert len(samples) > 3  # woken by the emulator's quiet ticks, not only once
    for (t0, p0, _), (_, p1, t1) in itertools.pairwise(samples):
        assert abs(p1 - p0) <= MODEL.max_speed_ticks_s * (t1 - t0) + 1
