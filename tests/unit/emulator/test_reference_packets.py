"""Byte-exact replies to the reference packets of docs/reference/feetech-sts.md §6, over a real pty."""
from __future__ import annotations

import pytest

from so101_hardware.sts_protocol import ServoErrorBits

pytestmark = pytest.mark.timeout(30)

SYNC_POSITIONS = {1: 2048, 2: 2100, 3: 1900, 4: 2047, 5: 3000, 6: 1500}


def h(text: str) -> bytes:
    return bytes.fromhex(text)


@pytest.fixture
def emu(make_emulator):
    return make_emulator(initial_positions=SYNC_POSITIONS)


@pytest.fixture
def client(emu, raw_client):
    return raw_client(emu)


def test_ping(client):
    assert client.transact(h("ff ff 01 02 01 fb"), 6) == h("ff ff 01 02 00 fc")


def test_read_model_number(client):
    assert client.transact(h("ff ff 01 04 02 03 02 f3"), 8) == h("ff ff 01 04 00 09 03 ee")


@pytest.mark.parametrize(("ticks", "reply"), [(2047, "ff ff 01 04 00 ff 07 f4"), (2048, "ff ff 01 04 00 00 08 f2")])
def test_read_present_position(make_emulator, raw_client, ticks, reply):
    client = raw_client(make_emulator(initial_positions={1: ticks}))
    assert client.transact(h("ff ff 01 04 02 38 02 be"), 8) == h(reply)


def test_read_present_position_with_overload(make_emulator, raw_client):
    emu = make_emulator(initial_positions={1: 2047})
    emu.set_error_bits(1, ServoErrorBits.OVERLOAD)
    assert raw_client(emu).transact(h("ff ff 01 04 02 38 02 be"), 8) == h("ff ff 01 04 20 ff 07 d4")


def test_write_goal_position_is_acknowledged_and_lands(emu, client):
    assert client.transact(h("ff ff 01 05 03 2a 00 08 c4"), 6) == h("ff ff 01 02 00 fc")
    assert emu.servo(1).read_register("Goal_Position") == 2048
    assert [(r.motor_id, r.goal_ticks) for r in emu.goal_log] == [(1, 2048)]


def test_sync_read_replies_one_packet_per_servo_in_list_order(client):
    replies = client.transact(h("ff ff fe 0a 82 38 02 01 02 03 04 05 06 26"), 48)
    assert replies == h(
        "ff ff 01 04 00 00 08 f2"
        "ff ff 02 04 00 34 08 bd"
        "ff ff 03 04 00 6c 07 85"
        "ff ff 04 04 00 ff 07 f1"
        "ff ff 05 04 00 b8 0b 33"
        "ff ff 06 04 00 dc 05 14"
    )


def test_sync_read_follows_the_request_order_and_skips_absent_ids(client):
    # ids 6, 9 (absent), 2: two answers, in that order
    request = bytes.fromhex("ff ff fe 07 82 38 02 06 09 02")
    request += bytes(((~sum(request[2:])) & 0xFF,))
    assert client.transact(request, 16) == h("ff ff 06 04 00 dc 05 14 ff ff 02 04 00 34 08 bd")


def test_broadcast_ping_every_servo_answers_in_id_order(client):
    replies = client.transact(h("ff ff fe 02 01 fe"), 36)
    expected = b"".join(bytes((0xFF, 0xFF, i, 2, 0, (~(i + 2)) & 0xFF)) for i in range(1, 7))
    assert replies == expected


def test_sync_write_is_silent_and_every_goal_lands(emu, client):
    request = h("ff ff fe 16 83 2a 02 01 00 08 02 e8 03 03 b8 0b 04 ff 07 05 64 00 06 a0 0f 58")
    assert client.silence_after(request) == b""
    expected = {1: 2048, 2: 1000, 3: 3000, 4: 2047, 5: 100, 6: 4000}
    assert {r.motor_id: r.goal_ticks for r in emu.goal_log} == expected
    assert {i: emu.servo(i).read_register("Goal_Position") for i in expected} == expected


def test_action_to_broadcast_gets_no_reply(client):
    assert client.silence_after(h("ff ff fe 02 05 fa")) == b""
