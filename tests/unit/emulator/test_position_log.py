"""The emulator's record of the positions it reported: what a latency measurement starts from."""
import time

import pytest

from so101_hardware.bus import BusConfig, FeetechBus

pytestmark = pytest.mark.timeout(60)
START = {1: 1000, 2: 1500, 3: 2000, 4: 2500, 5: 3000, 6: 3500}


def test_each_reported_position_is_logged_when_its_reply_went_out(make_emulator):
    emulator = make_emulator(initial_positions=START, position_log_limit=100, uart_timing=True)
    with FeetechBus(BusConfig(emulator.port)) as bus:
        before = time.monotonic()
        span = bus.sync_read_span(["Present_Position", "Present_Velocity"], list(START))
        after = time.monotonic()
        bus.sync_read("Present_Load", list(START))  # starts elsewhere: not a position read
        bus.read(3, "Present_Position")
    assert emulator.wait_until(lambda: len(emulator.position_log) == 7, 5), "logged after the reply is written"
    log = emulator.position_log
    assert [(r.motor_id, r.position_ticks) for r in log] == [
        *((motor, span[motor]["Present_Position"]) for motor in START), (3, 2000)]
    first_read = [r.t_monotonic for r in log[:6]]
    assert before < first_read[0] and first_read == sorted(first_read) and first_read[-1] < after


def test_nothing_is_logged_unless_asked(make_emulator):
    emulator = make_emulator(initial_positions=START)
    with FeetechBus(BusConfig(emulator.port)) as bus:
        bus.sync_read("Present_Position", list(START))
    assert emulator.position_log == []
