"""UART timing model and the client-baud probe on a real pty."""
from __future__ import annotations

import os
import time
import tty

import pytest
import serial

from so101_hardware import sts_protocol
from so101_hardware.emulator.timing import baud_matches, client_baudrate, reply_deadlines

pytestmark = pytest.mark.timeout(30)


def test_wire_time_of_the_reference_transactions():
    # docs/reference/feetech-sts.md §9: PING 6+6 bytes → 0.12 ms; SYNC_READ 2 bytes × 6 → 14 + 48 bytes → 0.62 ms
    assert reply_deadlines(0.0, 6, [(6, 0.0)], 1_000_000) == pytest.approx([120e-6])
    deadlines = reply_deadlines(0.0, 14, [(8, 0.0)] * 6, 1_000_000)
    assert deadlines[-1] == pytest.approx(620e-6)
    assert deadlines == sorted(deadlines)


def test_return_delay_adds_per_servo():
    with_delay = reply_deadlines(1.0, 8, [(8, 500e-6), (8, 500e-6)], 1_000_000)
    assert with_delay == pytest.approx([1.0 + 80e-6 + 500e-6 + 80e-6, 1.0 + 80e-6 + 2 * (500e-6 + 80e-6)])


def test_slower_baud_scales_the_byte_time():
    assert reply_deadlines(0.0, 6, [(6, 0.0)], 115_200)[0] == pytest.approx(12 * 10 / 115_200)


def test_client_baudrate_reads_what_pyserial_configured():
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        with serial.Serial(os.ttyname(slave), 250_000) as port:
            assert client_baudrate(master) == 250_000
            port.baudrate = 1_000_000
            assert client_baudrate(master) == 1_000_000
    finally:
        os.close(master)
        os.close(slave)


def test_baud_tolerance():
    assert baud_matches(1_000_000, 1_000_000)
    assert baud_matches(1_025_000, 1_000_000)
    assert not baud_matches(1_050_000, 1_000_000)
    assert not baud_matches(115_200, 1_000_000)
    assert baud_matches(None, 1_000_000)  # unknown client rate: no check
    assert not baud_matches(1_000_000, None)


def test_replies_never_arrive_before_their_wire_time(make_emulator, raw_client):
    emu = make_emulator(uart_timing=True)
    for motor_id in range(1, 7):
        emu.servo(motor_id).write_register("Return_Delay_Time", 250)  # 500 µs each
    client = raw_client(emu)
    request = sts_protocol.sync_read(56, 2, range(1, 7))
    started = time.perf_counter()
    replies = client.transact(request, 48)
    elapsed = time.perf_counter() - started
    assert len(replies) == 48
    assert elapsed >= (14 + 48) * 10e-6 + 6 * 500e-6  # a lower bound only: never early


def test_an_unanswered_request_still_occupies_the_wire(make_emulator, raw_client):
    """A SYNC_WRITE gets no reply, but the next request can only start once it has gone out."""
    emu = make_emulator(uart_timing=True)
    client = raw_client(emu)
    sync_write = sts_protocol.sync_write(42, 20, {motor_id: bytes(20) for motor_id in range(1, 7)})
    ping = sts_protocol.ping(1)
    started = time.perf_counter()
    client.serial.write(sync_write)
    reply = client.transact(ping, 6)
    elapsed = time.perf_counter() - started
    assert reply == sts_protocol.status(1)
    assert elapsed >= (len(sync_write) + len(ping) + 6) * 10e-6  # a lower bound only: never early
